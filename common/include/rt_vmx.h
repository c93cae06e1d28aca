/*
 * rt_vmx.h - the VMX instructions as C functions that return what happened.
 *
 * Runs in: bare metal, 64-bit ring 0 (VMX root operation for all but
 * vmcall, which a guest executes).  SDM Vol. 3C (classic numbering)
 * chapter 30 ("VMX Instruction Reference").
 *
 * Every VMX instruction reports through RFLAGS (SDM 30.2, "Conventions"):
 *   CF = 0, ZF = 0   VMsucceed
 *   CF = 1           VMfailInvalid  (no current VMCS, or VMXON-time failures)
 *   ZF = 1           VMfailValid    (the reason is in the current VMCS's
 *                                    VM_INSTRUCTION_ERROR field: see
 *                                    vmx_instruction_error())
 * Each wrapper returns that as enum vmx_status, read from the flags with
 * GCC's flag-output operands (=@ccc, =@ccz).
 *
 * Typed VMCS accessors, the way to read or write a field named in the code:
 * vmcs_read16/32/64/_natural(VMCS_<NAME>, &variable) and
 * vmcs_write16/32/64/_natural(VMCS_<NAME>, value) refuse to compile when
 * the field's encoding (bits 14:13) says another width (VMCS_ASSERT_WIDTH,
 * vmx/fields.h), at every optimisation level:
 *     vmcs_write16(VMCS_GUEST_CS_SELECTOR, sel);     compiles
 *     vmcs_write32(VMCS_GUEST_CS_SELECTOR, sel);     error at build time
 * Plain vmread/vmwrite are for encodings known only at run time (a loop
 * over machine[], a field chosen on the command line).
 */
#ifndef RT_VMX_H
#define RT_VMX_H

#include <stdint.h>

#include "vmx/fields.h"

enum vmx_status {
	VMX_SUCCEED = 0,
	VMX_FAIL_INVALID = 1,
	VMX_FAIL_VALID = 2,
};

/* "VMsucceed", "VMfailInvalid", "VMfailValid" (the SDM's names). */
static inline const char *vmx_status_name(enum vmx_status s)
{
	switch (s) {
	case VMX_SUCCEED:      return "VMsucceed";
	case VMX_FAIL_INVALID: return "VMfailInvalid";
	default:               return "VMfailValid";
	}
}

static inline enum vmx_status vmx_status_from_flags(int cf, int zf)
{
	return cf ? VMX_FAIL_INVALID : zf ? VMX_FAIL_VALID : VMX_SUCCEED;
}

/* VMXON: enter VMX root operation; `phys` = physical address of the
 * 4 KiB-aligned VMXON region, whose first 31 bits hold the VMCS revision
 * identifier (IA32_VMX_BASIC[30:0]).  CR4.VMXE must be 1. */
static inline enum vmx_status vmxon(uint64_t phys)
{
	int cf, zf;
	__asm__ volatile("vmxon %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(phys) : "memory");
	return vmx_status_from_flags(cf, zf);
}

/* VMXOFF: leave VMX operation. */
static inline enum vmx_status vmxoff(void)
{
	int cf, zf;
	__asm__ volatile("vmxoff" : "=@ccc"(cf), "=@ccz"(zf) : : "memory");
	return vmx_status_from_flags(cf, zf);
}

/* VMCLEAR: make the VMCS at `phys` clear (launch state "clear"), flush it
 * to memory; it is no longer current. */
static inline enum vmx_status vmclear(uint64_t phys)
{
	int cf, zf;
	__asm__ volatile("vmclear %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(phys) : "memory");
	return vmx_status_from_flags(cf, zf);
}

/* VMPTRLD: make the VMCS at `phys` current and active. */
static inline enum vmx_status vmptrld(uint64_t phys)
{
	int cf, zf;
	__asm__ volatile("vmptrld %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(phys) : "memory");
	return vmx_status_from_flags(cf, zf);
}

/* VMPTRST: the physical address of the current VMCS (~0 if none). */
static inline enum vmx_status vmptrst(uint64_t *phys)
{
	int cf, zf;
	__asm__ volatile("vmptrst %0" : "=m"(*phys), "=@ccc"(cf), "=@ccz"(zf) : : "memory");
	return vmx_status_from_flags(cf, zf);
}

/* VMREAD: *value = the current VMCS's field `encoding` (zero-extended);
 * 0 when the instruction fails (a failing VMREAD leaves its destination
 * alone, so `v` is an input too: "+rm", or GCC would drop the 0 and the
 * failure would hand back whatever the register held, e.g. the encoding). */
static inline enum vmx_status vmread(uint64_t encoding, uint64_t *value)
{
	int cf, zf;
	uint64_t v = 0;
	__asm__ volatile("vmread %3, %0"
			 : "+rm"(v), "=@ccc"(cf), "=@ccz"(zf)
			 : "r"(encoding)
			 : "memory");
	*value = v;
	return vmx_status_from_flags(cf, zf);
}

/* VMWRITE: the current VMCS's field `encoding` = value (truncated to the
 * field's width by the CPU). */
static inline enum vmx_status vmwrite(uint64_t encoding, uint64_t value)
{
	int cf, zf;
	__asm__ volatile("vmwrite %3, %2"
			 : "=@ccc"(cf), "=@ccz"(zf)
			 : "r"(encoding), "rm"(value)
			 : "memory");
	return vmx_status_from_flags(cf, zf);
}

/* VMLAUNCH / VMRESUME: on success they do not return here; the guest runs
 * and the next VM exit continues at the VMCS's HOST_RIP on HOST_RSP.  So a
 * return from these is always a failure: VMfailInvalid (no current VMCS) or
 * VMfailValid (see vmx_instruction_error(); entry failures that happen
 * after the checks of SDM 26.1-26.2 are VM exits instead: SDM 26,
 * "VM-Entry Failures During or After Loading Guest State"). */
static inline enum vmx_status vmlaunch(void)
{
	int cf, zf;
	__asm__ volatile("vmlaunch" : "=@ccc"(cf), "=@ccz"(zf) : : "memory");
	return vmx_status_from_flags(cf, zf);
}

static inline enum vmx_status vmresume(void)
{
	int cf, zf;
	__asm__ volatile("vmresume" : "=@ccc"(cf), "=@ccz"(zf) : : "memory");
	return vmx_status_from_flags(cf, zf);
}

/* INVEPT / INVVPID descriptors (SDM 30.3, "INVEPT", "INVVPID"). No lab calls
 * them yet: they are kept for lab05 (EPT and VPID), which will. */
struct invept_descriptor {
	uint64_t eptp;
	uint64_t reserved;      /* must be 0 */
};

struct invvpid_descriptor {
	uint64_t vpid;          /* bits 15:0; bits 63:16 must be 0 */
	uint64_t linear_address;
};

/* INVEPT type (1 single-context, 2 all-context) with a descriptor. */
static inline enum vmx_status invept(uint64_t type, const struct invept_descriptor *d)
{
	int cf, zf;
	__asm__ volatile("invept %3, %2"
			 : "=@ccc"(cf), "=@ccz"(zf)
			 : "r"(type), "m"(*d)
			 : "memory");
	return vmx_status_from_flags(cf, zf);
}

/* INVVPID type (0 individual address, 1 single context, 2 all contexts,
 * 3 single context keeping globals) with a descriptor. */
static inline enum vmx_status invvpid(uint64_t type, const struct invvpid_descriptor *d)
{
	int cf, zf;
	__asm__ volatile("invvpid %3, %2"
			 : "=@ccc"(cf), "=@ccz"(zf)
			 : "r"(type), "m"(*d)
			 : "memory");
	return vmx_status_from_flags(cf, zf);
}

/* VMCALL: in a guest, a VM exit (reason VMCALL); in VMX root operation
 * without the dual-monitor treatment, VMfailValid (error 1). */
static inline enum vmx_status vmcall(void)
{
	int cf, zf;
	__asm__ volatile("vmcall" : "=@ccc"(cf), "=@ccz"(zf) : : "memory");
	return vmx_status_from_flags(cf, zf);
}

/*
 * Typed accessors (Linux's vmx_ops.h does the same): the width in the name
 * is the field's width, as the SDM's tables give it, and the build checks
 * it against the encoding's bits 14:13. Each returns the enum vmx_status of
 * its VMREAD or VMWRITE.
 *
 *   vmcs_write32(VMCS_PIN_BASED_VM_EXECUTION_CONTROLS, pin);
 *   vmcs_read_natural(VMCS_GUEST_RIP, &rip);
 *
 * A read stores into a variable of exactly the field's width, unsigned:
 * vmx_u16 (uint16_t), vmx_u32 (uint32_t), and for 64-bit and natural-width
 * fields vmx_u64 or uint64_t. Those two are both 64-bit, but different
 * types to C (unsigned long long, unsigned long): the accessor takes
 * either, so a read goes straight into the kit's variables, no copy through
 * a temporary. A narrower, wider or signed variable does not compile. When
 * the VMREAD fails the variable is 0.
 * A write takes any integer and passes the field's width of it; the CPU
 * would ignore the rest anyway (SDM 30.3, "VMWRITE").
 */
#define RT_VMCS_READ(field, valp, width, bytes)                               \
	({                                                                    \
		__typeof__(*(valp)) *rt_p_ = (valp);                          \
		uint64_t rt_v_;                                               \
		enum vmx_status rt_s_;                                        \
		VMCS_ASSERT_WIDTH(field, width);                              \
		_Static_assert(sizeof(*rt_p_) == (bytes) &&                   \
			       (__typeof__(*rt_p_))-1 > 0,                    \
			       #valp ": a VMREAD of " #field " needs an unsigned " \
			       #bytes "-byte variable");                      \
		rt_s_ = vmread((field), &rt_v_);                              \
		*rt_p_ = (__typeof__(*rt_p_))rt_v_;                           \
		rt_s_;                                                        \
	})
#define RT_VMCS_WRITE(field, value, width, type)                              \
	({                                                                    \
		VMCS_ASSERT_WIDTH(field, width);                              \
		vmwrite((field), (type)(value));                              \
	})

#define vmcs_read16(field, valp)       RT_VMCS_READ(field, valp, VMCS_WIDTH_16, 2)
#define vmcs_read32(field, valp)       RT_VMCS_READ(field, valp, VMCS_WIDTH_32, 4)
#define vmcs_read64(field, valp)       RT_VMCS_READ(field, valp, VMCS_WIDTH_64, 8)
#define vmcs_read_natural(field, valp) RT_VMCS_READ(field, valp, VMCS_WIDTH_NATURAL, 8)
#define vmcs_write16(field, v)         RT_VMCS_WRITE(field, v, VMCS_WIDTH_16, vmx_u16)
#define vmcs_write32(field, v)         RT_VMCS_WRITE(field, v, VMCS_WIDTH_32, vmx_u32)
#define vmcs_write64(field, v)         RT_VMCS_WRITE(field, v, VMCS_WIDTH_64, vmx_u64)
#define vmcs_write_natural(field, v)   RT_VMCS_WRITE(field, v, VMCS_WIDTH_NATURAL, vmx_u64)

/* The current VMCS's VM_INSTRUCTION_ERROR (meaningful after VMfailValid);
 * vmx/errors.h turns it into the SDM's words. */
static inline uint32_t vmx_instruction_error(void)
{
	vmx_u32 n;

	vmcs_read32(VMCS_VM_INSTRUCTION_ERROR, &n);
	return n;
}

#endif /* RT_VMX_H */
