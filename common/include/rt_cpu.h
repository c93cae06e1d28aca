/*
 * rt_cpu.h - one-instruction helpers for the bare-metal runtime: CPUID, MSRs,
 * control registers, RFLAGS, segment selectors, descriptor-table registers,
 * I/O ports.  Included by rt.h.
 *
 * Runs in: 64-bit ring 0 (most of these fault at CPL 3).  Each helper is the
 * instruction named in its name; SDM Vol. 2 describes each instruction.
 */
#ifndef RT_CPU_H
#define RT_CPU_H

#include <stdint.h>

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

/* CPUID feature flags the runtime and the labs test (SDM Vol. 2A, CPUID). */
#define CPUID_LEAF_VENDOR   0x0u          /* EBX, EDX, ECX: the vendor string */
#define CPUID_LEAF_FEATURES 0x1u
#define CPUID_1_ECX_VMX     (1u << 5)     /* VMX (SDM Vol. 3C 23.6) */

/* CPUID with EAX = leaf, ECX = subleaf. */
static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

/*
 * The address widths (SDM Vol. 3A 4.1.4, "Enumeration of Paging Features by
 * CPUID"): CPUID.80000008H:EAX[7:0] is the physical-address width
 * (MAXPHYADDR), EAX[15:8] the linear-address width. A CPU without leaf
 * 80000008H (CPUID.80000000H:EAX, the highest extended leaf, is lower) has,
 * the SDM says, a physical-address width of 36 if CPUID.01H:EDX.PAE is 1
 * (32 otherwise) and a linear-address width of 48 if CPUID.80000001H:EDX.LM
 * is 1 (32 otherwise). The runtime runs in 64-bit mode, so the CPU has both
 * PAE and LM: 36 and 48.
 */
#define CPUID_LEAF_EXTENDED_MAX    0x80000000u   /* EAX: the highest extended leaf */
#define CPUID_LEAF_ADDRESS_WIDTHS  0x80000008u   /* EAX[7:0] physical, EAX[15:8] linear */
#define CPUID_PHYS_WIDTH_WITH_PAE  36            /* without leaf 80000008H */
#define CPUID_LINEAR_WIDTH_WITH_LM 48            /* without leaf 80000008H */

static inline unsigned int cpu_phys_address_width(void)
{
	if (cpuid(CPUID_LEAF_EXTENDED_MAX, 0).eax < CPUID_LEAF_ADDRESS_WIDTHS)
		return CPUID_PHYS_WIDTH_WITH_PAE;
	return cpuid(CPUID_LEAF_ADDRESS_WIDTHS, 0).eax & 0xFF;
}

static inline unsigned int cpu_linear_address_width(void)
{
	if (cpuid(CPUID_LEAF_EXTENDED_MAX, 0).eax < CPUID_LEAF_ADDRESS_WIDTHS)
		return CPUID_LINEAR_WIDTH_WITH_LM;
	return (cpuid(CPUID_LEAF_ADDRESS_WIDTHS, 0).eax >> 8) & 0xFF;
}

/* RDMSR/WRMSR: a missing MSR raises #GP, which the runtime reports. */
/* IA32_EFER (SDM vol. 4, table 2-2): LME, LMA, NXE (bits in vmx/cpu_bits.h). */
#define RT_MSR_IA32_EFER 0xC0000080u

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

/* RDTSC: the time-stamp counter (in Bochs one tick per emulated
 * instruction; PLATFORM.md). */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr"
			 : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
			 : "memory");
}

#define RT_DEFINE_CR(n)                                                     \
	static inline uint64_t read_cr##n(void)                             \
	{                                                                   \
		uint64_t v;                                                 \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));           \
		return v;                                                   \
	}                                                                   \
	static inline void write_cr##n(uint64_t v)                          \
	{                                                                   \
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");  \
	}
RT_DEFINE_CR(0)
RT_DEFINE_CR(2)
RT_DEFINE_CR(3)
RT_DEFINE_CR(4)
#undef RT_DEFINE_CR

static inline uint64_t read_rflags(void)
{
	uint64_t v;
	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

#define RT_DEFINE_SEG(name)                                                 \
	static inline uint16_t read_##name(void)                            \
	{                                                                   \
		uint16_t v;                                                 \
		__asm__ volatile("mov %%" #name ", %0" : "=rm"(v));         \
		return v;                                                   \
	}
RT_DEFINE_SEG(cs)
RT_DEFINE_SEG(ds)
RT_DEFINE_SEG(es)
RT_DEFINE_SEG(fs)
RT_DEFINE_SEG(gs)
RT_DEFINE_SEG(ss)
#undef RT_DEFINE_SEG

/* STR: the selector in TR. */
static inline uint16_t read_tr(void)
{
	uint16_t v;
	__asm__ volatile("str %0" : "=rm"(v));
	return v;
}

/* SGDT/SIDT: base and limit of the GDT/IDT. */
struct rt_dtr {
	uint64_t base;
	uint16_t limit;
};

static inline struct rt_dtr read_gdtr(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d;
	__asm__ volatile("sgdt %0" : "=m"(d));
	return (struct rt_dtr){ .base = d.base, .limit = d.limit };
}

static inline struct rt_dtr read_idtr(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d;
	__asm__ volatile("sidt %0" : "=m"(d));
	return (struct rt_dtr){ .base = d.base, .limit = d.limit };
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpu_cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void cpu_hlt(void) { __asm__ volatile("hlt" ::: "memory"); }

#endif /* RT_CPU_H */
