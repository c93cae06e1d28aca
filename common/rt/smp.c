/*
 * smp.c - the second CPU: start it (INIT, STARTUP, STARTUP), give it a GDT,
 * a TSS and an exception stack of its own, and run a function on it.
 *
 * Runs in: the bare-metal runtime on the bootstrap processor (BSP), before
 * or while lab_main runs; the AP (application processor) runs rt_ap_main.
 * SDM vol. 3A 8.4 (multiple-processor initialization), 10.6.1 (the
 * interrupt command register), 7.7 (the 64-bit TSS).
 *
 * What two CPUs need that one did not: the boot GDT has one TSS and
 * setup.asm one stack, both the BSP's; COM1 and the page allocator are
 * shared (serial.c and alloc.c take a lock); only one CPU may end the run.
 */
#include "rt.h"
#include "rt_internal.h"
#include "platform/lapic.h"
#include "vmx/cpu_bits.h"

extern const char rt_ap_trampoline[], rt_ap_trampoline_end[], rt_ap_params[];
extern char AP_TRAMPOLINE_BASE[];       /* absolute: ap_trampoline.asm */

/* ap_trampoline.asm's parameter block, field for field. */
struct rt_ap_params {
	uint16_t gdt_limit;
	uint64_t gdt_base;
	uint16_t pad[3];
	uint64_t cr0, cr3, cr4, efer;
	uint64_t stack;
	uint64_t main;
	uint64_t entry, arg;
	volatile uint64_t started;
} __attribute__((packed));

_Static_assert(__builtin_offsetof(struct rt_ap_params, cr0) == 16, "ap_trampoline.asm p_cr0");
_Static_assert(__builtin_offsetof(struct rt_ap_params, started) == 80, "ap_trampoline.asm p_started");

enum {
	AP_STACK_PAGES = 4,
	AP_GDT_ENTRIES = 7,             /* the boot GDT: null, code64, data, code32, TSS (2) ... */
	TSS64_SIZE = 104,
	TSS64_RSP0 = 4,
	TSS64_IST1 = 36,
	TSS64_IOMAP_BASE = 102,
	AP_START_TRIES = 2,             /* the SDM's sequence sends STARTUP twice */
	AP_WAIT_SPINS = 2000000,        /* per STARTUP: emulated, about 0.1 s of Bochs time */
};

static inline void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = v;
}

static inline uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

static void lapic_send(uint32_t command)
{
	lapic_write(LAPIC_ICR_HIGH, 0);
	lapic_write(LAPIC_ICR_LOW, command);
	while (lapic_read(LAPIC_ICR_LOW) & LAPIC_ICR_PENDING)
		__asm__ volatile("pause");
}

/* The AP's first C: a GDT and TSS of its own, the runtime's IDT, then the
 * caller's function. */
static __attribute__((noreturn, used)) void rt_ap_main(struct rt_ap_params *p)
{
	uint64_t *gdt = page_alloc();
	uint8_t *tss = page_alloc();
	uint8_t *ist = pages_alloc(AP_STACK_PAGES);
	uint64_t ist_top = (uint64_t)(uintptr_t)(ist + AP_STACK_PAGES * 4096);
	uint64_t tss_base = (uint64_t)(uintptr_t)tss;
	struct rt_dtr boot_idtr = read_idtr();

	/* The boot GDT's descriptors, and in the TSS slot one for this TSS
	 * (64-bit available TSS, type 9; SDM vol. 3A 7.2.3). */
	memcpy(gdt, boot_gdt, AP_GDT_ENTRIES * 8);
	gdt[RT_SEL_TSS / 8] = (TSS64_SIZE - 1) | ((tss_base & 0xFFFFFF) << 16) | (0x89ull << 40) |
			      ((tss_base >> 24) & 0xFF) << 56;
	gdt[RT_SEL_TSS / 8 + 1] = tss_base >> 32;
	memcpy(tss + TSS64_RSP0, &ist_top, 8);
	memcpy(tss + TSS64_IST1, &ist_top, 8);
	*(uint16_t *)(tss + TSS64_IOMAP_BASE) = TSS64_SIZE;
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr = {
		AP_GDT_ENTRIES * 8 - 1, (uint64_t)(uintptr_t)gdt },
		idtr = { boot_idtr.limit, boot_idtr.base };
	__asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)RT_SEL_TSS));
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");

	void (*entry)(void *) = (void (*)(void *))(uintptr_t)p->entry;
	void *arg = (void *)(uintptr_t)p->arg;
	p->started = 1;
	entry(arg);
	rt_panic("rt_start_ap: the AP's function returned");
}

int rt_start_ap(void (*entry)(void *arg), void *arg)
{
	uintptr_t base = (uintptr_t)AP_TRAMPOLINE_BASE;
	size_t size = (size_t)(rt_ap_trampoline_end - rt_ap_trampoline);
	struct rt_ap_params *p = (struct rt_ap_params *)(base + (rt_ap_params - rt_ap_trampoline));
	struct rt_dtr gdtr = read_gdtr();
	uint8_t *stack = pages_alloc(AP_STACK_PAGES);

	memcpy((void *)base, rt_ap_trampoline, size);
	p->gdt_limit = gdtr.limit;
	p->gdt_base = gdtr.base;
	p->cr0 = read_cr0();
	p->cr3 = read_cr3();
	p->cr4 = read_cr4() & ~CPU_CR4_VMXE;     /* the AP is not in VMX operation yet */
	p->efer = rdmsr(RT_MSR_IA32_EFER) & ~CPU_EFER_LMA; /* LME ...; the CPU sets LMA */
	p->stack = (uint64_t)(uintptr_t)(stack + AP_STACK_PAGES * 4096);
	p->main = (uint64_t)(uintptr_t)rt_ap_main;
	p->entry = (uint64_t)(uintptr_t)entry;
	p->arg = (uint64_t)(uintptr_t)arg;
	p->started = 0;

	/* The local APIC must be software-enabled to send IPIs reliably. */
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | LAPIC_SVR_ENABLE);
	lapic_send(LAPIC_ICR_ALL_BUT_SELF | LAPIC_ICR_INIT | LAPIC_ICR_ASSERT);
	for (int i = 0; i < AP_START_TRIES && !p->started; i++) {
		lapic_send(LAPIC_ICR_ALL_BUT_SELF | LAPIC_ICR_STARTUP | (uint32_t)(base >> 12));
		for (long spin = 0; spin < AP_WAIT_SPINS && !p->started; spin++)
			__asm__ volatile("pause" ::: "memory");
	}
	if (!p->started) {
		printf("smp: the second CPU did not start (a one-CPU machine? Bochs needs `cpu: count=2`)\n");
		return -1;
	}
	return 0;
}
