/*
 * vmcheck.c - the software VM-entry checker: every VM-entry check of the SDM
 * that the kit's guests depend on, as one table of rules.
 *
 * Runs in: 64-bit ring 0, VMX root operation, with a current VMCS. It only
 * reads: VMREAD of the current VMCS, RDMSR of the VMX capability MSRs, CPUID
 * for the address widths, and (for the VMCS link pointer and the VM-entry
 * MSR-load area) physical memory below 4 GiB, which the runtime maps with
 * VA = PA (rt.h); memory beyond that is not checked.
 *
 * SDM: vol. 3C, classic numbering (chapter 26 "VM Entries"; see vmcheck.h).
 *   26.2.1.1 VM-execution control fields    26.3.1.1 guest control/debug registers, MSRs
 *   26.2.1.2 VM-exit control fields         26.3.1.2 guest segment registers
 *   26.2.1.3 VM-entry control fields        26.3.1.3 guest descriptor-table registers
 *   26.2.2   host control registers, MSRs   26.3.1.4 guest RIP and RFLAGS
 *   26.2.3   host segment, descriptor-table 26.3.1.5 guest non-register state
 *   26.2.4   address-space size             26.4     loading MSRs
 *
 * How it works: vmcheck_current_vmcs() first takes a snapshot (struct
 * vmcheck_state: every VMCS field a rule looks at, the capability MSRs, the
 * address widths), then runs every rule of vmcheck_rules[] on that snapshot.
 * A rule is one table entry: id, SDM section, message, the CPU's expected
 * reaction, and a check function that looks only at the snapshot.
 *
 * Adding rules (lab04's virtual-8086 guest, lab05's EPT/VPID/unrestricted
 * guest): write a check function next to its neighbours and add one line to
 * vmcheck_rules[]; if it needs a field the snapshot lacks, add the field's
 * SDM name to VMCHECK_FIELDS.
 *
 * What it does not check (documented, so nobody trusts it for them): the
 * VM-entry checks for SMM and the dual-monitor treatment beyond "not in SMM",
 * the posted-interrupt, APIC-virtualization, PML, VM-function, VMCS-shadowing
 * and sub-page controls, IA32_PERF_GLOBAL_CTRL, BNDCFGS, CET and PKRS fields,
 * the pending-debug-exceptions BS-bit rule, PDPTEs of PAE guests (26.3.1.6),
 * and MSR-load entries beyond their reserved bits (26.4). The kit uses none.
 */
#include "vmcheck.h"

#include "rt.h"                 /* printf, rdmsr, cpuid */
#include "rt_vmx.h"             /* vmread, vmptrst */
#include "vmx/controls.h"       /* VMX_<WORD>_<BIT> control masks */
#include "vmx/cpu_bits.h"       /* CPU_<REG>_<BIT> masks */
#include "vmx/exit_reasons.h"   /* VMX_EXIT_REASON_<NAME> */
#include "vmx/errors.h"         /* VM-instruction error table */
#include "vmx/fields.h"         /* VMCS_<FIELD> encodings */
#include "vmx/layouts.h"        /* VMX_<LAYOUT>_<FIELD>: access rights, interruption info ... */
#include "vmx/msrs.h"           /* MSR numbers and the fields inside them */
#include "vmx/values.h"         /* VMX_<SET>_<NAME>: interruption types, segment types ... */

typedef vmx_u64 vmcheck_u64;
typedef vmx_u32 vmcheck_u32;

/* VMREAD of a field the CPU lacks fails (VMfailValid, error 12): 0 on success. */
static int vmcheck_vmread(vmx_u32 field, vmx_u64 *value)
{
	uint64_t v = 0;
	int failed = vmread(field, &v) != VMX_SUCCEED;

	*value = v;
	return failed;
}

static vmx_u64 vmcheck_vmptrst(void)
{
	uint64_t pa = ~0ull;

	vmptrst(&pa);
	return pa;
}

#define VMCHECK_ERROR_INVALID_CONTROLS   VMX_ERROR_VMENTRY_INVALID_CONTROL_FIELDS
#define VMCHECK_ERROR_INVALID_HOST_STATE VMX_ERROR_VMENTRY_INVALID_HOST_STATE_FIELDS
#define VMCHECK_EXIT_INVALID_GUEST_STATE VMX_EXIT_REASON_ENTRY_FAILURE_INVALID_GUEST_STATE
#define VMCHECK_EXIT_MSR_LOADING_FAILED  VMX_EXIT_REASON_ENTRY_FAILURE_MSR_LOADING
#define VMCHECK_FIELD_ENCODING(name)     VMCS_##name
#define MISC(F)  VMX_MSR_FIELD_GET(s->misc, IA32_VMX_MISC_##F)
#define EPTCAP(F) VMX_MSR_FIELD_GET(s->ept_vpid_cap, IA32_VMX_EPT_VPID_CAP_##F)

/* ------------------------------------------------------------------------ */
/* The snapshot                                                              */
/* ------------------------------------------------------------------------ */

/* Every VMCS field a rule reads, by SDM name (common/vmx/vmcs_fields.def). */
#define VMCHECK_FIELDS(X)                                                     \
	X(PIN_BASED_VM_EXECUTION_CONTROLS)                                    \
	X(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS)                      \
	X(SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS)                    \
	X(PRIMARY_VM_EXIT_CONTROLS)                                           \
	X(VM_ENTRY_CONTROLS)                                                  \
	X(CR3_TARGET_COUNT)                                                   \
	X(IO_BITMAP_A_ADDRESS) X(IO_BITMAP_B_ADDRESS) X(MSR_BITMAPS_ADDRESS)  \
	X(VIRTUAL_APIC_ADDRESS) X(TPR_THRESHOLD) X(APIC_ACCESS_ADDRESS)       \
	X(VIRTUAL_PROCESSOR_IDENTIFIER) X(EPT_POINTER)                        \
	X(VM_EXIT_MSR_STORE_COUNT) X(VM_EXIT_MSR_STORE_ADDRESS)               \
	X(VM_EXIT_MSR_LOAD_COUNT) X(VM_EXIT_MSR_LOAD_ADDRESS)                 \
	X(VM_ENTRY_MSR_LOAD_COUNT) X(VM_ENTRY_MSR_LOAD_ADDRESS)               \
	X(VM_ENTRY_INTERRUPTION_INFORMATION) X(VM_ENTRY_EXCEPTION_ERROR_CODE) \
	X(VM_ENTRY_INSTRUCTION_LENGTH)                                        \
	X(HOST_CR0) X(HOST_CR3) X(HOST_CR4)                                   \
	X(HOST_ES_SELECTOR) X(HOST_CS_SELECTOR) X(HOST_SS_SELECTOR)           \
	X(HOST_DS_SELECTOR) X(HOST_FS_SELECTOR) X(HOST_GS_SELECTOR)           \
	X(HOST_TR_SELECTOR)                                                   \
	X(HOST_FS_BASE) X(HOST_GS_BASE) X(HOST_TR_BASE)                       \
	X(HOST_GDTR_BASE) X(HOST_IDTR_BASE)                                   \
	X(HOST_IA32_SYSENTER_ESP) X(HOST_IA32_SYSENTER_EIP)                   \
	X(HOST_IA32_PAT) X(HOST_IA32_EFER) X(HOST_RIP)                        \
	X(GUEST_CR0) X(GUEST_CR3) X(GUEST_CR4) X(GUEST_DR7)                   \
	X(GUEST_IA32_DEBUGCTL) X(GUEST_IA32_PAT) X(GUEST_IA32_EFER)           \
	X(GUEST_IA32_SYSENTER_ESP) X(GUEST_IA32_SYSENTER_EIP)                 \
	X(GUEST_ES_SELECTOR) X(GUEST_ES_BASE) X(GUEST_ES_LIMIT) X(GUEST_ES_ACCESS_RIGHTS) \
	X(GUEST_CS_SELECTOR) X(GUEST_CS_BASE) X(GUEST_CS_LIMIT) X(GUEST_CS_ACCESS_RIGHTS) \
	X(GUEST_SS_SELECTOR) X(GUEST_SS_BASE) X(GUEST_SS_LIMIT) X(GUEST_SS_ACCESS_RIGHTS) \
	X(GUEST_DS_SELECTOR) X(GUEST_DS_BASE) X(GUEST_DS_LIMIT) X(GUEST_DS_ACCESS_RIGHTS) \
	X(GUEST_FS_SELECTOR) X(GUEST_FS_BASE) X(GUEST_FS_LIMIT) X(GUEST_FS_ACCESS_RIGHTS) \
	X(GUEST_GS_SELECTOR) X(GUEST_GS_BASE) X(GUEST_GS_LIMIT) X(GUEST_GS_ACCESS_RIGHTS) \
	X(GUEST_LDTR_SELECTOR) X(GUEST_LDTR_BASE) X(GUEST_LDTR_LIMIT) X(GUEST_LDTR_ACCESS_RIGHTS) \
	X(GUEST_TR_SELECTOR) X(GUEST_TR_BASE) X(GUEST_TR_LIMIT) X(GUEST_TR_ACCESS_RIGHTS) \
	X(GUEST_GDTR_BASE) X(GUEST_GDTR_LIMIT) X(GUEST_IDTR_BASE) X(GUEST_IDTR_LIMIT) \
	X(GUEST_RIP) X(GUEST_RFLAGS)                                          \
	X(GUEST_ACTIVITY_STATE) X(GUEST_INTERRUPTIBILITY_STATE)               \
	X(GUEST_PENDING_DEBUG_EXCEPTIONS) X(VMCS_LINK_POINTER)

enum vmcheck_index {
#define VMCHECK_IX(name) IX_##name,
	VMCHECK_FIELDS(VMCHECK_IX)
#undef VMCHECK_IX
	IX_COUNT
};

static const unsigned int field_encoding[IX_COUNT] = {
#define VMCHECK_ENC(name) [IX_##name] = VMCHECK_FIELD_ENCODING(name),
	VMCHECK_FIELDS(VMCHECK_ENC)
#undef VMCHECK_ENC
};

static const char *const field_name[IX_COUNT] = {
#define VMCHECK_NAME(name) [IX_##name] = #name,
	VMCHECK_FIELDS(VMCHECK_NAME)
#undef VMCHECK_NAME
};

struct vmcheck_state {
	vmcheck_u64 v[IX_COUNT];        /* field values (0 if VMREAD failed) */
	unsigned char have[IX_COUNT];   /* 1 if VMREAD succeeded */
	/* capability MSRs (SDM appendix A) */
	vmcheck_u64 basic, pin_ctls, proc_ctls, proc2_ctls, exit_ctls, entry_ctls;
	vmcheck_u64 misc, cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1, ept_vpid_cap;
	const char *pin_msr, *proc_msr, *exit_msr, *entry_msr; /* which MSR gave the bounds */
	int has_proc2, has_ept_vpid_cap;
	unsigned int phys_bits;         /* CPUID.80000008H:EAX[7:0]  (MAXPHYADDR) */
	unsigned int lin_bits;          /* CPUID.80000008H:EAX[15:8] (linear-address width) */
	vmcheck_u64 current_vmcs;       /* VMPTRST */
};

#define V(name)    (s->v[IX_##name])
#define BIT(n)     (1ull << (n))
#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~(BIT(lo) - 1))

/* Segment registers of the guest-state area, in SDM order (24.4.1). */
enum seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

static const struct {
	const char *name;
	int sel, base, limit, ar;
} seg_ix[SEG_COUNT] = {
#define SEG_ROW(r) { #r, IX_GUEST_##r##_SELECTOR, IX_GUEST_##r##_BASE, \
		     IX_GUEST_##r##_LIMIT, IX_GUEST_##r##_ACCESS_RIGHTS }
	SEG_ROW(ES), SEG_ROW(CS), SEG_ROW(SS), SEG_ROW(DS),
	SEG_ROW(FS), SEG_ROW(GS), SEG_ROW(LDTR), SEG_ROW(TR),
#undef SEG_ROW
};

/* Access-rights format of the guest-state area (SDM 24.4.1, table "Format of
 * Access Rights"),
 * segment types (vol. 3A 3.4.5.1, 3.5) and selectors: common/vmx lists
 * (vmx_layouts.def SEG_AR, SEG_TYPE_BITS, SELECTOR; vmx_values.def
 * SEG_TYPE, SYSTEM_TYPE). Short names for the rules below: */
#define AR_TYPE(ar)     ((unsigned)VMX_BITS_GET(ar, VMX_SEG_AR_TYPE))
#define AR_S            VMX_BITS_MASK(VMX_SEG_AR_S)
#define AR_DPL(ar)      ((unsigned)VMX_BITS_GET(ar, VMX_SEG_AR_DPL))
#define AR_P            VMX_BITS_MASK(VMX_SEG_AR_P)
#define AR_RESERVED     (VMX_BITS_MASK(VMX_SEG_AR_RESERVED_11_8) | VMX_BITS_MASK(VMX_SEG_AR_RESERVED_31_17))
#define AR_L            VMX_BITS_MASK(VMX_SEG_AR_L)
#define AR_DB           VMX_BITS_MASK(VMX_SEG_AR_DB)
#define AR_G            VMX_BITS_MASK(VMX_SEG_AR_G)
#define AR_UNUSABLE     VMX_BITS_MASK(VMX_SEG_AR_UNUSABLE)
#define TYPE_ACCESSED   VMX_BITS_MASK(VMX_SEG_TYPE_BITS_ACCESSED)
#define TYPE_READABLE   VMX_BITS_MASK(VMX_SEG_TYPE_BITS_WRITE_READ)     /* code: readable */
#define TYPE_CODE       VMX_BITS_MASK(VMX_SEG_TYPE_BITS_CODE)
#define SEL_RPL(sel)    ((unsigned)VMX_BITS_GET(sel, VMX_SELECTOR_RPL))
#define SEL_TI          VMX_BITS_MASK(VMX_SELECTOR_TI)

/* ------------------------------------------------------------------------ */
/* Helpers of the rules                                                      */
/* ------------------------------------------------------------------------ */

/* Physical memory the checker may read: the runtime maps the first 4 GiB
 * with VA = PA (rt.h). Beyond it, memory checks are skipped. */
#define IDENTITY_MAPPED_LIMIT (1ull << 32)

/* Whether [pa, pa + bytes) is mapped. A separate answer, never a null
 * pointer: physical address 0 (the real-mode IVT) is memory like any other,
 * and a VMCS link pointer of 0 must be read and rejected (SDM 26.3.1.5). */
static int phys_mapped(vmcheck_u64 pa, vmcheck_u64 bytes)
{
	return pa < IDENTITY_MAPPED_LIMIT && bytes <= IDENTITY_MAPPED_LIMIT - pa;
}

/* Load from mapped physical memory with an explicit instruction: C lets the
 * compiler assume that nothing is stored at address 0. */
static vmcheck_u32 phys_read32(vmcheck_u64 pa)
{
	vmcheck_u32 v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"((unsigned long)pa) : "memory");
	return v;
}

static unsigned phys_read8(vmcheck_u64 pa)
{
	unsigned v;

	__asm__ volatile("movzbl (%1), %0" : "=r"(v) : "r"((unsigned long)pa) : "memory");
	return v;
}

/* Report field `ix` with its value; returns 1 (rule broken). */
static int broken(struct vmcheck_finding *f, int ix, vmcheck_u64 value)
{
	f->field = field_name[ix];
	f->value = value;
	return 1;
}

static int broken_named(struct vmcheck_finding *f, const char *name, vmcheck_u64 value)
{
	f->field = name;
	f->value = value;
	return 1;
}

/* Bits 63:N clear, N = MAXPHYADDR (SDM: "must not set any bits beyond the
 * processor's physical-address width"). */
static int phys_ok(const struct vmcheck_state *s, vmcheck_u64 pa)
{
	return s->phys_bits >= 64 || (pa >> s->phys_bits) == 0;
}

/* Canonical: bits 63:N-1 all equal, N = linear-address width (SDM 3A 3.3.7.1). */
static int canonical(const struct vmcheck_state *s, vmcheck_u64 la)
{
	long long x = (long long)(la << (64 - s->lin_bits));
	return (vmcheck_u64)(x >> (64 - s->lin_bits)) == la;
}

static vmcheck_u64 pin(const struct vmcheck_state *s) { return V(PIN_BASED_VM_EXECUTION_CONTROLS); }
static vmcheck_u64 proc(const struct vmcheck_state *s) { return V(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS); }
static vmcheck_u64 exitc(const struct vmcheck_state *s) { return V(PRIMARY_VM_EXIT_CONTROLS); }
static vmcheck_u64 entry(const struct vmcheck_state *s) { return V(VM_ENTRY_CONTROLS); }

/* The secondary controls count only when "activate secondary controls" is 1
 * (SDM 24.6.2); otherwise the CPU acts as if they were all 0. */
static vmcheck_u64 proc2(const struct vmcheck_state *s)
{
	return (proc(s) & VMX_PROC_ACTIVATE_SECONDARY_CONTROLS) ? V(SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS) : 0;
}

static int ia32e_guest(const struct vmcheck_state *s) { return (entry(s) & VMX_ENTRY_IA_32E_MODE_GUEST) != 0; }
static int host64(const struct vmcheck_state *s) { return (exitc(s) & VMX_EXIT_HOST_ADDRESS_SPACE_SIZE) != 0; }
static int unrestricted(const struct vmcheck_state *s) { return (proc2(s) & VMX_PROC2_UNRESTRICTED_GUEST) != 0; }
static int v8086_guest(const struct vmcheck_state *s) { return (V(GUEST_RFLAGS) & CPU_RFLAGS_VM) != 0; }

static vmcheck_u64 sel(const struct vmcheck_state *s, int r) { return s->v[seg_ix[r].sel]; }
static vmcheck_u64 base(const struct vmcheck_state *s, int r) { return s->v[seg_ix[r].base]; }
static vmcheck_u64 limit(const struct vmcheck_state *s, int r) { return s->v[seg_ix[r].limit]; }
static vmcheck_u64 ar(const struct vmcheck_state *s, int r) { return s->v[seg_ix[r].ar]; }
static int usable(const struct vmcheck_state *s, int r) { return !(ar(s, r) & AR_UNUSABLE); }

/* The segments that the access-rights rules of 26.3.1.2 apply to: CS always,
 * SS/DS/ES/FS/GS when usable, and none of them for a virtual-8086 guest
 * (which has its own rules). */
static int data_rules_apply(const struct vmcheck_state *s, int r)
{
	if (v8086_guest(s))
		return 0;
	return r == SEG_CS || usable(s, r);
}

/* Control word vs its capability MSR (SDM appendix A.3-A.5): bits 31:0 are
 * the allowed 0-settings (a 1 there means the control must be 1), bits 63:32
 * the allowed 1-settings (a 0 there means the control must be 0). */
static int must_be_1_clear(vmcheck_u64 value, vmcheck_u64 cap) { return ((vmcheck_u32)cap & ~value) != 0; }
static int must_be_0_set(vmcheck_u64 value, vmcheck_u64 cap) { return (value & ~(cap >> 32) & 0xFFFFFFFFull) != 0; }

/* ------------------------------------------------------------------------ */
/* 26.2.1.1 VM-execution control fields                                      */
/* ------------------------------------------------------------------------ */

static int pin_allowed0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_1_clear(pin(s), s->pin_ctls) && broken(f, IX_PIN_BASED_VM_EXECUTION_CONTROLS, pin(s));
}

static int pin_allowed1(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_0_set(pin(s), s->pin_ctls) && broken(f, IX_PIN_BASED_VM_EXECUTION_CONTROLS, pin(s));
}

static int proc_allowed0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_1_clear(proc(s), s->proc_ctls) &&
	       broken(f, IX_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc(s));
}

static int proc_allowed1(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_0_set(proc(s), s->proc_ctls) &&
	       broken(f, IX_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc(s));
}

static int proc2_allowed0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc(s) & VMX_PROC_ACTIVATE_SECONDARY_CONTROLS) || !s->has_proc2)
		return 0;
	return must_be_1_clear(proc2(s), s->proc2_ctls) &&
	       broken(f, IX_SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc2(s));
}

static int proc2_allowed1(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc(s) & VMX_PROC_ACTIVATE_SECONDARY_CONTROLS) || !s->has_proc2)
		return 0;
	return must_be_0_set(proc2(s), s->proc2_ctls) &&
	       broken(f, IX_SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc2(s));
}

static int cr3_target_count(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return V(CR3_TARGET_COUNT) > 4 && broken(f, IX_CR3_TARGET_COUNT, V(CR3_TARGET_COUNT));
}

static int io_bitmaps(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc(s) & VMX_PROC_USE_IO_BITMAPS))
		return 0;
	if ((V(IO_BITMAP_A_ADDRESS) & 0xFFF) || !phys_ok(s, V(IO_BITMAP_A_ADDRESS)))
		return broken(f, IX_IO_BITMAP_A_ADDRESS, V(IO_BITMAP_A_ADDRESS));
	if ((V(IO_BITMAP_B_ADDRESS) & 0xFFF) || !phys_ok(s, V(IO_BITMAP_B_ADDRESS)))
		return broken(f, IX_IO_BITMAP_B_ADDRESS, V(IO_BITMAP_B_ADDRESS));
	return 0;
}

static int msr_bitmaps(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc(s) & VMX_PROC_USE_MSR_BITMAPS))
		return 0;
	return ((V(MSR_BITMAPS_ADDRESS) & 0xFFF) || !phys_ok(s, V(MSR_BITMAPS_ADDRESS))) &&
	       broken(f, IX_MSR_BITMAPS_ADDRESS, V(MSR_BITMAPS_ADDRESS));
}

static int tpr_shadow(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc(s) & VMX_PROC_USE_TPR_SHADOW))
		return 0;
	if ((V(VIRTUAL_APIC_ADDRESS) & 0xFFF) || !phys_ok(s, V(VIRTUAL_APIC_ADDRESS)))
		return broken(f, IX_VIRTUAL_APIC_ADDRESS, V(VIRTUAL_APIC_ADDRESS));
	return 0;
}

static int tpr_threshold(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* Bits 31:4 must be 0 when "use TPR shadow" is 1 and "virtual-interrupt
	 * delivery" is 0; the kit never sets the latter. */
	if (!(proc(s) & VMX_PROC_USE_TPR_SHADOW))
		return 0;
	return (V(TPR_THRESHOLD) & BITS(31, 4)) && broken(f, IX_TPR_THRESHOLD, V(TPR_THRESHOLD));
}

#define VTPR_OFFSET 0x80        /* virtual-APIC page: VTPR (SDM 29.1.1) */

static int tpr_threshold_vtpr(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* With "use TPR shadow", no "virtualize APIC accesses" and no
	 * "virtual-interrupt delivery" (unused by the kit), bits 3:0 of the TPR
	 * threshold must not exceed bits 7:4 of VTPR, the byte at offset 80H
	 * of the virtual-APIC page (SDM 26.2.1.1, 29.1.1). */
	if (!(proc(s) & VMX_PROC_USE_TPR_SHADOW) || (proc2(s) & VMX_PROC2_VIRTUALIZE_APIC_ACCESSES) ||
	    (V(VIRTUAL_APIC_ADDRESS) & 0xFFF) || !phys_ok(s, V(VIRTUAL_APIC_ADDRESS)))
		return 0;
	return phys_mapped(V(VIRTUAL_APIC_ADDRESS), 4096) &&
	       (V(TPR_THRESHOLD) & 0xF) > (phys_read8(V(VIRTUAL_APIC_ADDRESS) + VTPR_OFFSET) >> 4) &&
	       broken(f, IX_TPR_THRESHOLD, V(TPR_THRESHOLD));
}

static int nmi_exiting_virtual_nmis(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !(pin(s) & VMX_PIN_NMI_EXITING) && (pin(s) & VMX_PIN_VIRTUAL_NMIS) &&
	       broken(f, IX_PIN_BASED_VM_EXECUTION_CONTROLS, pin(s));
}

static int virtual_nmis_nmi_window(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !(pin(s) & VMX_PIN_VIRTUAL_NMIS) && (proc(s) & VMX_PROC_NMI_WINDOW_EXITING) &&
	       broken(f, IX_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc(s));
}

static int apic_access(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc2(s) & VMX_PROC2_VIRTUALIZE_APIC_ACCESSES))
		return 0;
	return ((V(APIC_ACCESS_ADDRESS) & 0xFFF) || !phys_ok(s, V(APIC_ACCESS_ADDRESS))) &&
	       broken(f, IX_APIC_ACCESS_ADDRESS, V(APIC_ACCESS_ADDRESS));
}

static int x2apic_mode(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc2(s) & VMX_PROC2_VIRTUALIZE_X2APIC_MODE))
		return 0;
	return (!(proc(s) & VMX_PROC_USE_TPR_SHADOW) || (proc2(s) & VMX_PROC2_VIRTUALIZE_APIC_ACCESSES)) &&
	       broken(f, IX_SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc2(s));
}

/* lab05 rules: VPID, EPT, unrestricted guest. */
static int vpid_zero(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (proc2(s) & VMX_PROC2_ENABLE_VPID) && V(VIRTUAL_PROCESSOR_IDENTIFIER) == 0 &&
	       broken(f, IX_VIRTUAL_PROCESSOR_IDENTIFIER, 0);
}

static int eptp_valid(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 eptp = V(EPT_POINTER);
	unsigned int memtype = VMX_BITS_GET(eptp, VMX_EPTP_MEMORY_TYPE);
	unsigned int walk = VMX_BITS_GET(eptp, VMX_EPTP_PAGE_WALK_LENGTH_MINUS_1) + 1;
	int ok;

	if (!(proc2(s) & VMX_PROC2_ENABLE_EPT))
		return 0;
	/* SDM 24.6.11 and A.10: memory type UC or WB if the EPT/VPID
	 * capability MSR allows it, page-walk length 4, A/D enable only if
	 * supported, bits 11:7 and beyond MAXPHYADDR zero (bit 7, supervisor
	 * shadow stacks, is treated as reserved: the kit's models lack it). */
	ok = (memtype == VMX_MEMORY_TYPE_UC && EPTCAP(MEMORY_TYPE_UC)) ||
	     (memtype == VMX_MEMORY_TYPE_WB && EPTCAP(MEMORY_TYPE_WB));
	ok = ok && walk == 4;
	ok = ok && (!(eptp & VMX_BITS_MASK(VMX_EPTP_ACCESSED_DIRTY)) || EPTCAP(ACCESSED_DIRTY_FLAGS));
	ok = ok && !(eptp & (VMX_BITS_MASK(VMX_EPTP_SUPERVISOR_SHADOW_STACK) | VMX_BITS_MASK(VMX_EPTP_RESERVED_11_8))) &&
	     phys_ok(s, eptp);
	return !ok && broken(f, IX_EPT_POINTER, eptp);
}

static int unrestricted_needs_ept(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return unrestricted(s) && !(proc2(s) & VMX_PROC2_ENABLE_EPT) &&
	       broken(f, IX_SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc2(s));
}

/* ------------------------------------------------------------------------ */
/* 26.2.1.2 VM-exit control fields                                           */
/* ------------------------------------------------------------------------ */

static int exit_allowed0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_1_clear(exitc(s), s->exit_ctls) && broken(f, IX_PRIMARY_VM_EXIT_CONTROLS, exitc(s));
}

static int exit_allowed1(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_0_set(exitc(s), s->exit_ctls) && broken(f, IX_PRIMARY_VM_EXIT_CONTROLS, exitc(s));
}

static int exit_preemption_timer(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !(pin(s) & VMX_PIN_ACTIVATE_VMX_PREEMPTION_TIMER) &&
	       (exitc(s) & VMX_EXIT_SAVE_VMX_PREEMPTION_TIMER_VALUE) &&
	       broken(f, IX_PRIMARY_VM_EXIT_CONTROLS, exitc(s));
}

/* An MSR area: 16-byte aligned, and its first and last byte inside MAXPHYADDR. */
static int msr_area_bad(const struct vmcheck_state *s, vmcheck_u64 addr, vmcheck_u64 count)
{
	if (count == 0)
		return 0;
	return (addr & 0xF) || !phys_ok(s, addr) || !phys_ok(s, addr + count * 16 - 1);
}

static int exit_msr_store(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return msr_area_bad(s, V(VM_EXIT_MSR_STORE_ADDRESS), V(VM_EXIT_MSR_STORE_COUNT)) &&
	       broken(f, IX_VM_EXIT_MSR_STORE_ADDRESS, V(VM_EXIT_MSR_STORE_ADDRESS));
}

static int exit_msr_load(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return msr_area_bad(s, V(VM_EXIT_MSR_LOAD_ADDRESS), V(VM_EXIT_MSR_LOAD_COUNT)) &&
	       broken(f, IX_VM_EXIT_MSR_LOAD_ADDRESS, V(VM_EXIT_MSR_LOAD_ADDRESS));
}

/* ------------------------------------------------------------------------ */
/* 26.2.1.3 VM-entry control fields                                          */
/* ------------------------------------------------------------------------ */

static int entry_allowed0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_1_clear(entry(s), s->entry_ctls) && broken(f, IX_VM_ENTRY_CONTROLS, entry(s));
}

static int entry_allowed1(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_0_set(entry(s), s->entry_ctls) && broken(f, IX_VM_ENTRY_CONTROLS, entry(s));
}

static int entry_outside_smm(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* This checker runs outside SMM, like every program of the kit. */
	return (entry(s) & (VMX_ENTRY_ENTRY_TO_SMM | VMX_ENTRY_DEACTIVATE_DUAL_MONITOR_TREATMENT)) &&
	       broken(f, IX_VM_ENTRY_CONTROLS, entry(s));
}

static int entry_msr_load(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return msr_area_bad(s, V(VM_ENTRY_MSR_LOAD_ADDRESS), V(VM_ENTRY_MSR_LOAD_COUNT)) &&
	       broken(f, IX_VM_ENTRY_MSR_LOAD_ADDRESS, V(VM_ENTRY_MSR_LOAD_ADDRESS));
}

/* Event injection, VM-entry interruption-information field (SDM 24.8.3):
 * layout INTR_INFO_ENTRY, types INTR_TYPE (common/vmx). */
#define INTR_VALID              VMX_BITS_MASK(VMX_INTR_INFO_ENTRY_VALID)
#define INTR_TYPE(x)            VMX_BITS_GET(x, VMX_INTR_INFO_ENTRY_TYPE)
#define INTR_VECTOR(x)          VMX_BITS_GET(x, VMX_INTR_INFO_ENTRY_VECTOR)
#define INTR_DELIVER_ERROR      VMX_BITS_MASK(VMX_INTR_INFO_ENTRY_DELIVER_ERROR_CODE)

static vmcheck_u64 intr(const struct vmcheck_state *s) { return V(VM_ENTRY_INTERRUPTION_INFORMATION); }
static int injecting(const struct vmcheck_state *s) { return (intr(s) & INTR_VALID) != 0; }

static int intr_reserved(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return injecting(s) && (intr(s) & VMX_BITS_MASK(VMX_INTR_INFO_ENTRY_RESERVED_30_12)) &&
	       broken(f, IX_VM_ENTRY_INTERRUPTION_INFORMATION, intr(s));
}

static int intr_type_vector(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 x = intr(s);
	int bad;

	if (!injecting(s))
		return 0;
	switch (INTR_TYPE(x)) {
	case VMX_INTR_TYPE_RESERVED:
		bad = 1;
		break;
	case VMX_INTR_TYPE_OTHER_EVENT:
		/* Only "pending MTF VM exit", vector 0; type 7 is reserved on a
		 * CPU that does not support the 1-setting of "monitor trap flag"
		 * (the capability, not the control: SDM 26.2.1.3). */
		bad = !((s->proc_ctls >> 32) & VMX_PROC_MONITOR_TRAP_FLAG) || INTR_VECTOR(x) != 0;
		break;
	case VMX_INTR_TYPE_NMI:
		bad = INTR_VECTOR(x) != 2;
		break;
	case VMX_INTR_TYPE_HARDWARE_EXCEPTION:
		bad = INTR_VECTOR(x) > 31;
		break;
	default:
		bad = 0;
	}
	return bad && broken(f, IX_VM_ENTRY_INTERRUPTION_INFORMATION, x);
}

static int intr_error_code_bit(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 x = intr(s);
	unsigned int v = INTR_VECTOR(x);
	int protected_hw, pushes, bit = (x & INTR_DELIVER_ERROR) != 0;

	if (!injecting(s))
		return 0;
	/* #DF 8, #TS 10, #NP 11, #SS 12, #GP 13, #PF 14, #AC 17 push an error code. */
	protected_hw = (!unrestricted(s) || (V(GUEST_CR0) & CPU_CR0_PE)) &&
		       INTR_TYPE(x) == VMX_INTR_TYPE_HARDWARE_EXCEPTION;
	pushes = v == 8 || (v >= 10 && v <= 14) || v == 17;
	/* With IA32_VMX_BASIC bit 56, a hardware exception in protected mode
	 * may be delivered with or without an error code; otherwise the bit
	 * must be 1 exactly for the vectors above. Never for other events. */
	if (protected_hw && VMX_MSR_FIELD_GET(s->basic, IA32_VMX_BASIC_HW_EXCEPTION_ANY_ERROR_CODE))
		return 0;
	return bit != (protected_hw && pushes) && broken(f, IX_VM_ENTRY_INTERRUPTION_INFORMATION, x);
}

/* Error codes are 16 bits: bits 31:16 must be 0. SDM editions before 2020
 * said "bits 31:15"; processors check 31:16 (an injected #GP with error
 * code 0x8000 enters; Linux KVM commit 567926cca99b, "KVM: nVMX: Fix
 * consistency check on injected exception error code", 2019). */
static int intr_error_code(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return injecting(s) && (intr(s) & INTR_DELIVER_ERROR) && (V(VM_ENTRY_EXCEPTION_ERROR_CODE) & BITS(31, 16)) &&
	       broken(f, IX_VM_ENTRY_EXCEPTION_ERROR_CODE, V(VM_ENTRY_EXCEPTION_ERROR_CODE));
}

static int intr_length(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	unsigned int t = INTR_TYPE(intr(s));
	vmcheck_u64 len = V(VM_ENTRY_INSTRUCTION_LENGTH);
	int zero_ok = MISC(ZERO_LENGTH_INSTRUCTION_INJECTION) != 0;

	if (!injecting(s) || (t != VMX_INTR_TYPE_SOFTWARE_INTERRUPT && t != VMX_INTR_TYPE_PRIVILEGED_SOFTWARE_EXCEPTION && t != VMX_INTR_TYPE_SOFTWARE_EXCEPTION))
		return 0;
	return (len > 15 || (len == 0 && !zero_ok)) && broken(f, IX_VM_ENTRY_INSTRUCTION_LENGTH, len);
}

/* ------------------------------------------------------------------------ */
/* 26.2.2 Host control registers and MSRs                                    */
/* ------------------------------------------------------------------------ */

static int fixed_bad(vmcheck_u64 v, vmcheck_u64 fixed0, vmcheck_u64 fixed1)
{
	/* FIXED0: bits that must be 1; FIXED1: bits that may be 1 (SDM A.7, A.8). */
	return (fixed0 & ~v) || (v & ~fixed1);
}

static int host_cr0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return fixed_bad(V(HOST_CR0), s->cr0_fixed0, s->cr0_fixed1) && broken(f, IX_HOST_CR0, V(HOST_CR0));
}

static int host_cr4(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return fixed_bad(V(HOST_CR4), s->cr4_fixed0, s->cr4_fixed1) && broken(f, IX_HOST_CR4, V(HOST_CR4));
}

static int host_cr3(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !phys_ok(s, V(HOST_CR3)) && broken(f, IX_HOST_CR3, V(HOST_CR3));
}

static int host_sysenter(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!canonical(s, V(HOST_IA32_SYSENTER_ESP)))
		return broken(f, IX_HOST_IA32_SYSENTER_ESP, V(HOST_IA32_SYSENTER_ESP));
	if (!canonical(s, V(HOST_IA32_SYSENTER_EIP)))
		return broken(f, IX_HOST_IA32_SYSENTER_EIP, V(HOST_IA32_SYSENTER_EIP));
	return 0;
}

/* IA32_PAT: each of the 8 bytes is a memory type (vmx_values.def
 * MEMORY_TYPE: UC WC WT WP WB UC-; SDM vol. 3A 11.12.2). */
static int pat_bad(vmcheck_u64 pat)
{
	for (int i = 0; i < 8; i++)
		if (!vmx_value_lookup("MEMORY_TYPE", (pat >> (8 * i)) & 0xFF))
			return 1;
	return 0;
}

static int host_pat(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (exitc(s) & VMX_EXIT_LOAD_IA32_PAT) && pat_bad(V(HOST_IA32_PAT)) &&
	       broken(f, IX_HOST_IA32_PAT, V(HOST_IA32_PAT));
}

/* IA32_EFER bits other than SCE 0, LME 8, LMA 10, NXE 11 are reserved here. */
static vmcheck_u64 efer_reserved(void)
{
	return ~(CPU_EFER_SCE | CPU_EFER_LME | CPU_EFER_LMA | CPU_EFER_NXE);
}

static int host_efer(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 e = V(HOST_IA32_EFER);

	if (!(exitc(s) & VMX_EXIT_LOAD_IA32_EFER))
		return 0;
	return ((e & efer_reserved()) || !(e & CPU_EFER_LMA) != !host64(s) ||
		!(e & CPU_EFER_LME) != !host64(s)) && broken(f, IX_HOST_IA32_EFER, e);
}

/* ------------------------------------------------------------------------ */
/* 26.2.3 Host segment and descriptor-table registers                        */
/* ------------------------------------------------------------------------ */

static int host_selectors(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	static const int ix[] = { IX_HOST_ES_SELECTOR, IX_HOST_CS_SELECTOR, IX_HOST_SS_SELECTOR,
				  IX_HOST_DS_SELECTOR, IX_HOST_FS_SELECTOR, IX_HOST_GS_SELECTOR,
				  IX_HOST_TR_SELECTOR };
	for (unsigned int i = 0; i < sizeof ix / sizeof ix[0]; i++)
		if (s->v[ix[i]] & (SEL_TI | 3))
			return broken(f, ix[i], s->v[ix[i]]);
	return 0;
}

static int host_cs_null(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return V(HOST_CS_SELECTOR) == 0 && broken(f, IX_HOST_CS_SELECTOR, 0);
}

static int host_tr_null(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return V(HOST_TR_SELECTOR) == 0 && broken(f, IX_HOST_TR_SELECTOR, 0);
}

static int host_ss_null(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !host64(s) && V(HOST_SS_SELECTOR) == 0 && broken(f, IX_HOST_SS_SELECTOR, 0);
}

static int host_bases(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	static const int ix[] = { IX_HOST_FS_BASE, IX_HOST_GS_BASE, IX_HOST_GDTR_BASE,
				  IX_HOST_IDTR_BASE, IX_HOST_TR_BASE };
	for (unsigned int i = 0; i < sizeof ix / sizeof ix[0]; i++)
		if (!canonical(s, s->v[ix[i]]))
			return broken(f, ix[i], s->v[ix[i]]);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* 26.2.4 Checks related to address-space size                               */
/* ------------------------------------------------------------------------ */

static int host_address_space(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* The checker is 64-bit code, so the processor is in IA-32e mode, and
	 * then "host address-space size" must be 1. */
	return !host64(s) && broken(f, IX_PRIMARY_VM_EXIT_CONTROLS, exitc(s));
}

static int host64_cr4_pae(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return host64(s) && !(V(HOST_CR4) & CPU_CR4_PAE) && broken(f, IX_HOST_CR4, V(HOST_CR4));
}

static int host64_rip(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return host64(s) && !canonical(s, V(HOST_RIP)) && broken(f, IX_HOST_RIP, V(HOST_RIP));
}

static int host32_rules(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (host64(s))
		return 0;
	if (V(HOST_CR4) & CPU_CR4_PCIDE)
		return broken(f, IX_HOST_CR4, V(HOST_CR4));
	if (V(HOST_RIP) >> 32)
		return broken(f, IX_HOST_RIP, V(HOST_RIP));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* 26.3.1.1 Guest control registers, debug registers and MSRs                */
/* ------------------------------------------------------------------------ */

static int guest_cr0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 fixed0 = s->cr0_fixed0;

	/* With "unrestricted guest", PE and PG may be 0 (SDM 26.3.1.1). */
	if (unrestricted(s))
		fixed0 &= ~(CPU_CR0_PE | CPU_CR0_PG);
	return fixed_bad(V(GUEST_CR0), fixed0, s->cr0_fixed1) && broken(f, IX_GUEST_CR0, V(GUEST_CR0));
}

static int guest_cr0_pg_pe(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (V(GUEST_CR0) & CPU_CR0_PG) && !(V(GUEST_CR0) & CPU_CR0_PE) &&
	       broken(f, IX_GUEST_CR0, V(GUEST_CR0));
}

static int guest_cr4(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return fixed_bad(V(GUEST_CR4), s->cr4_fixed0, s->cr4_fixed1) && broken(f, IX_GUEST_CR4, V(GUEST_CR4));
}

static int guest_cr3(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !phys_ok(s, V(GUEST_CR3)) && broken(f, IX_GUEST_CR3, V(GUEST_CR3));
}

static int guest_debugctl(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* IA32_DEBUGCTL bits 5:2 and 63:16 are reserved (SDM vol. 3B 17.4.1). */
	return (entry(s) & VMX_ENTRY_LOAD_DEBUG_CONTROLS) &&
	       (V(GUEST_IA32_DEBUGCTL) & (VMX_BITS_MASK(VMX_DEBUGCTL_RESERVED_5_2) |
					  VMX_BITS_MASK(VMX_DEBUGCTL_RESERVED_63_16))) &&
	       broken(f, IX_GUEST_IA32_DEBUGCTL, V(GUEST_IA32_DEBUGCTL));
}

static int guest_ia32e_cr(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!ia32e_guest(s))
		return 0;
	if (!(V(GUEST_CR0) & CPU_CR0_PG))
		return broken(f, IX_GUEST_CR0, V(GUEST_CR0));
	if (!(V(GUEST_CR4) & CPU_CR4_PAE))
		return broken(f, IX_GUEST_CR4, V(GUEST_CR4));
	return 0;
}

static int guest_pcide(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !ia32e_guest(s) && (V(GUEST_CR4) & CPU_CR4_PCIDE) && broken(f, IX_GUEST_CR4, V(GUEST_CR4));
}

static int guest_dr7(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (entry(s) & VMX_ENTRY_LOAD_DEBUG_CONTROLS) && (V(GUEST_DR7) >> 32) &&
	       broken(f, IX_GUEST_DR7, V(GUEST_DR7));
}

static int guest_sysenter(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!canonical(s, V(GUEST_IA32_SYSENTER_ESP)))
		return broken(f, IX_GUEST_IA32_SYSENTER_ESP, V(GUEST_IA32_SYSENTER_ESP));
	if (!canonical(s, V(GUEST_IA32_SYSENTER_EIP)))
		return broken(f, IX_GUEST_IA32_SYSENTER_EIP, V(GUEST_IA32_SYSENTER_EIP));
	return 0;
}

static int guest_pat(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (entry(s) & VMX_ENTRY_LOAD_IA32_PAT) && pat_bad(V(GUEST_IA32_PAT)) &&
	       broken(f, IX_GUEST_IA32_PAT, V(GUEST_IA32_PAT));
}

static int guest_efer(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 e = V(GUEST_IA32_EFER);
	int lma = (e & CPU_EFER_LMA) != 0, lme = (e & CPU_EFER_LME) != 0;

	if (!(entry(s) & VMX_ENTRY_LOAD_IA32_EFER))
		return 0;
	return ((e & efer_reserved()) || lma != ia32e_guest(s) ||
		((V(GUEST_CR0) & CPU_CR0_PG) && lma != lme)) && broken(f, IX_GUEST_IA32_EFER, e);
}

/* ------------------------------------------------------------------------ */
/* 26.3.1.2 Guest segment registers                                          */
/* ------------------------------------------------------------------------ */

static int guest_tr_ti(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (sel(s, SEG_TR) & SEL_TI) && broken(f, IX_GUEST_TR_SELECTOR, sel(s, SEG_TR));
}

static int guest_ldtr_ti(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return usable(s, SEG_LDTR) && (sel(s, SEG_LDTR) & SEL_TI) && broken(f, IX_GUEST_LDTR_SELECTOR, sel(s, SEG_LDTR));
}

static int guest_ss_cs_rpl(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !v8086_guest(s) && !unrestricted(s) && SEL_RPL(sel(s, SEG_SS)) != SEL_RPL(sel(s, SEG_CS)) &&
	       broken(f, IX_GUEST_SS_SELECTOR, sel(s, SEG_SS));
}

/* lab04 rules: a virtual-8086 guest's six segments look like real mode. */
static int v86_base(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!v8086_guest(s))
		return 0;
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (base(s, r) != sel(s, r) << VMX_V86_SEGMENT_BASE_SHIFT)
			return broken(f, seg_ix[r].base, base(s, r));
	return 0;
}

static int v86_limit(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!v8086_guest(s))
		return 0;
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (limit(s, r) != VMX_V86_SEGMENT_LIMIT)
			return broken(f, seg_ix[r].limit, limit(s, r));
	return 0;
}

static int v86_ar(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* 0xF3: present, DPL 3, code/data, read/write accessed data. */
	if (!v8086_guest(s))
		return 0;
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (ar(s, r) != VMX_V86_SEGMENT_ACCESS_RIGHTS)
			return broken(f, seg_ix[r].ar, ar(s, r));
	return 0;
}

static int guest_base_canonical(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	static const int regs[] = { SEG_TR, SEG_FS, SEG_GS, SEG_LDTR };
	for (unsigned int i = 0; i < sizeof regs / sizeof regs[0]; i++) {
		int r = regs[i];
		if (r == SEG_LDTR && !usable(s, r))
			continue;
		if (!canonical(s, base(s, r)))
			return broken(f, seg_ix[r].base, base(s, r));
	}
	return 0;
}

static int guest_base_upper(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	static const int regs[] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES };
	if (v8086_guest(s))
		return 0;               /* v86_base covers these */
	for (unsigned int i = 0; i < sizeof regs / sizeof regs[0]; i++) {
		int r = regs[i];
		if (r != SEG_CS && !usable(s, r))
			continue;
		if (base(s, r) >> 32)
			return broken(f, seg_ix[r].base, base(s, r));
	}
	return 0;
}

static int guest_cs_type(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	unsigned int t = AR_TYPE(ar(s, SEG_CS));
	int ok = t == VMX_SEG_TYPE_CODE_X_ACCESSED || t == VMX_SEG_TYPE_CODE_XR_ACCESSED ||
		 t == VMX_SEG_TYPE_CODE_XC_ACCESSED || t == VMX_SEG_TYPE_CODE_XRC_ACCESSED ||
		 (unrestricted(s) && t == VMX_SEG_TYPE_DATA_RW_ACCESSED);
	return !v8086_guest(s) && !ok && broken(f, IX_GUEST_CS_ACCESS_RIGHTS, ar(s, SEG_CS));
}

static int guest_ss_type(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	unsigned int t = AR_TYPE(ar(s, SEG_SS));
	return data_rules_apply(s, SEG_SS) && t != VMX_SEG_TYPE_DATA_RW_ACCESSED && t != VMX_SEG_TYPE_DATA_RW_EXPAND_DOWN_ACCESSED &&
	       broken(f, IX_GUEST_SS_ACCESS_RIGHTS, ar(s, SEG_SS));
}

static int guest_data_type(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	static const int regs[] = { SEG_DS, SEG_ES, SEG_FS, SEG_GS };
	for (unsigned int i = 0; i < sizeof regs / sizeof regs[0]; i++) {
		int r = regs[i];
		unsigned int t = AR_TYPE(ar(s, r));
		if (!data_rules_apply(s, r))
			continue;
		if (!(t & TYPE_ACCESSED) || ((t & TYPE_CODE) && !(t & TYPE_READABLE)))
			return broken(f, seg_ix[r].ar, ar(s, r));
	}
	return 0;
}

static int guest_seg_s(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (data_rules_apply(s, r) && !(ar(s, r) & AR_S))
			return broken(f, seg_ix[r].ar, ar(s, r));
	return 0;
}

static int guest_cs_dpl(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	unsigned int t = AR_TYPE(ar(s, SEG_CS)), cs = AR_DPL(ar(s, SEG_CS)), ss = AR_DPL(ar(s, SEG_SS));
	int bad = 0;

	if (v8086_guest(s))
		return 0;
	if (t == VMX_SEG_TYPE_DATA_RW_ACCESSED)
		bad = cs != 0;                          /* unrestricted guest only */
	else if (t == VMX_SEG_TYPE_CODE_X_ACCESSED || t == VMX_SEG_TYPE_CODE_XR_ACCESSED)
		bad = cs != ss;                         /* non-conforming */
	else if (t == VMX_SEG_TYPE_CODE_XC_ACCESSED || t == VMX_SEG_TYPE_CODE_XRC_ACCESSED)
		bad = cs > ss;                          /* conforming */
	return bad && broken(f, IX_GUEST_CS_ACCESS_RIGHTS, ar(s, SEG_CS));
}

static int guest_ss_dpl(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	unsigned int dpl = AR_DPL(ar(s, SEG_SS));

	if (v8086_guest(s))
		return 0;
	if (!unrestricted(s) && dpl != SEL_RPL(sel(s, SEG_SS)))
		return broken(f, IX_GUEST_SS_ACCESS_RIGHTS, ar(s, SEG_SS));
	if ((AR_TYPE(ar(s, SEG_CS)) == VMX_SEG_TYPE_DATA_RW_ACCESSED || !(V(GUEST_CR0) & CPU_CR0_PE)) && dpl != 0)
		return broken(f, IX_GUEST_SS_ACCESS_RIGHTS, ar(s, SEG_SS));
	return 0;
}

static int guest_data_dpl(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	static const int regs[] = { SEG_DS, SEG_ES, SEG_FS, SEG_GS };
	if (unrestricted(s))
		return 0;
	for (unsigned int i = 0; i < sizeof regs / sizeof regs[0]; i++) {
		int r = regs[i];
		if (!data_rules_apply(s, r) || AR_TYPE(ar(s, r)) > VMX_SEG_TYPE_CODE_XR_ACCESSED)
			continue;       /* conforming code segments are exempt */
		if (AR_DPL(ar(s, r)) < SEL_RPL(sel(s, r)))
			return broken(f, seg_ix[r].ar, ar(s, r));
	}
	return 0;
}

static int guest_seg_present(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (data_rules_apply(s, r) && !(ar(s, r) & AR_P))
			return broken(f, seg_ix[r].ar, ar(s, r));
	return 0;
}

static int guest_seg_reserved(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (data_rules_apply(s, r) && (ar(s, r) & AR_RESERVED))
			return broken(f, seg_ix[r].ar, ar(s, r));
	return 0;
}

static int guest_cs_l_db(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 a = ar(s, SEG_CS);
	return ia32e_guest(s) && (a & AR_L) && (a & AR_DB) && broken(f, IX_GUEST_CS_ACCESS_RIGHTS, a);
}

/* G must be 0 if any of limit 11:0 is 0, and 1 if any of limit 31:20 is 1. */
static int granularity_bad(vmcheck_u64 lim, vmcheck_u64 a)
{
	if ((lim & 0xFFF) != 0xFFF && (a & AR_G))
		return 1;
	if ((lim & BITS(31, 20)) && !(a & AR_G))
		return 1;
	return 0;
}

static int guest_seg_granularity(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (data_rules_apply(s, r) && granularity_bad(limit(s, r), ar(s, r)))
			return broken(f, seg_ix[r].ar, ar(s, r));
	return 0;
}

static int guest_tr_type(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	unsigned int t = AR_TYPE(ar(s, SEG_TR));
	int ok = t == VMX_SYSTEM_TYPE_TSS32_BUSY || (t == VMX_SYSTEM_TYPE_TSS16_BUSY && !ia32e_guest(s));
	return !ok && broken(f, IX_GUEST_TR_ACCESS_RIGHTS, ar(s, SEG_TR));
}

static int guest_tr_rights(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 a = ar(s, SEG_TR);
	/* S = 0, P = 1, reserved bits 0, usable, G consistent with the limit. */
	return ((a & AR_S) || !(a & AR_P) || (a & AR_RESERVED) || (a & AR_UNUSABLE) ||
		granularity_bad(limit(s, SEG_TR), a)) && broken(f, IX_GUEST_TR_ACCESS_RIGHTS, a);
}

static int guest_ldtr_rights(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 a = ar(s, SEG_LDTR);
	if (!usable(s, SEG_LDTR))
		return 0;
	return (AR_TYPE(a) != VMX_SYSTEM_TYPE_LDT || (a & AR_S) || !(a & AR_P) || (a & AR_RESERVED) ||
		granularity_bad(limit(s, SEG_LDTR), a)) && broken(f, IX_GUEST_LDTR_ACCESS_RIGHTS, a);
}

/* ------------------------------------------------------------------------ */
/* 26.3.1.3 Guest descriptor-table registers                                 */
/* ------------------------------------------------------------------------ */

static int guest_dtr_base(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!canonical(s, V(GUEST_GDTR_BASE)))
		return broken(f, IX_GUEST_GDTR_BASE, V(GUEST_GDTR_BASE));
	if (!canonical(s, V(GUEST_IDTR_BASE)))
		return broken(f, IX_GUEST_IDTR_BASE, V(GUEST_IDTR_BASE));
	return 0;
}

static int guest_dtr_limit(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (V(GUEST_GDTR_LIMIT) & BITS(31, 16))
		return broken(f, IX_GUEST_GDTR_LIMIT, V(GUEST_GDTR_LIMIT));
	if (V(GUEST_IDTR_LIMIT) & BITS(31, 16))
		return broken(f, IX_GUEST_IDTR_LIMIT, V(GUEST_IDTR_LIMIT));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* 26.3.1.4 Guest RIP and RFLAGS                                             */
/* ------------------------------------------------------------------------ */

static int guest_rip_upper(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	int code64 = ia32e_guest(s) && (ar(s, SEG_CS) & AR_L);
	return !code64 && (V(GUEST_RIP) >> 32) && broken(f, IX_GUEST_RIP, V(GUEST_RIP));
}

/* Not "canonical": in 64-bit mode VM entry only wants bits 63:N identical
 * (N = linear-address width), so RIP = 0000_8000_0000_0000H enters and the
 * guest's first fetch faults instead (SDM 26.3.1.4). */
static int guest_rip_high_bits(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	int code64 = ia32e_guest(s) && (ar(s, SEG_CS) & AR_L);
	vmcheck_u64 high = s->lin_bits >= 64 ? 0 : V(GUEST_RIP) >> s->lin_bits;
	return code64 && high != 0 && high != (~0ull >> s->lin_bits) && broken(f, IX_GUEST_RIP, V(GUEST_RIP));
}

/* RFLAGS bits 63:22, 15, 5 and 3 are reserved, bit 1 is 1 (SDM vol. 1 3.4.3). */
#define RFLAGS_RESERVED (VMX_BITS_MASK(VMX_RFLAGS_RESERVED_63_22) | VMX_BITS_MASK(VMX_RFLAGS_RESERVED_15) | \
			 VMX_BITS_MASK(VMX_RFLAGS_RESERVED_5) | VMX_BITS_MASK(VMX_RFLAGS_RESERVED_3))
#define RFLAGS_FIXED1   VMX_BITS_MASK(VMX_RFLAGS_FIXED_1)

static int guest_rflags_reserved(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (V(GUEST_RFLAGS) & RFLAGS_RESERVED) && broken(f, IX_GUEST_RFLAGS, V(GUEST_RFLAGS));
}

static int guest_rflags_bit1(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !(V(GUEST_RFLAGS) & RFLAGS_FIXED1) && broken(f, IX_GUEST_RFLAGS, V(GUEST_RFLAGS));
}

static int guest_rflags_vm(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return v8086_guest(s) && (ia32e_guest(s) || !(V(GUEST_CR0) & CPU_CR0_PE)) &&
	       broken(f, IX_GUEST_RFLAGS, V(GUEST_RFLAGS));
}

static int guest_rflags_if(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return injecting(s) && INTR_TYPE(intr(s)) == VMX_INTR_TYPE_EXTERNAL_INTERRUPT &&
	       !(V(GUEST_RFLAGS) & CPU_RFLAGS_IF) && broken(f, IX_GUEST_RFLAGS, V(GUEST_RFLAGS));
}

/* ------------------------------------------------------------------------ */
/* 26.3.1.5 Guest non-register state                                         */
/* ------------------------------------------------------------------------ */

/* Activity states (SDM 24.4.2, vmx_values.def ACTIVITY) and interruptibility
 * bits (table "Format of Interruptibility State", vmx_layouts.def
 * INTERRUPTIBILITY). */
#define BLOCK_STI               VMX_BITS_MASK(VMX_INTERRUPTIBILITY_BLOCKING_BY_STI)
#define BLOCK_MOV_SS            VMX_BITS_MASK(VMX_INTERRUPTIBILITY_BLOCKING_BY_MOV_SS)
#define BLOCK_SMI               VMX_BITS_MASK(VMX_INTERRUPTIBILITY_BLOCKING_BY_SMI)

static int guest_activity(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 a = V(GUEST_ACTIVITY_STATE);
	/* 0 is always allowed; 1..3 if IA32_VMX_MISC says so (bits 8:6). */
	int ok = a == VMX_ACTIVITY_ACTIVE || (a == VMX_ACTIVITY_HLT && MISC(ACTIVITY_HLT)) ||
		 (a == VMX_ACTIVITY_SHUTDOWN && MISC(ACTIVITY_SHUTDOWN)) ||
		 (a == VMX_ACTIVITY_WAIT_FOR_SIPI && MISC(ACTIVITY_WAIT_FOR_SIPI));
	return !ok && broken(f, IX_GUEST_ACTIVITY_STATE, a);
}

static int guest_activity_blocking(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* Blocking by STI or MOV SS only makes sense for an active guest. */
	return V(GUEST_ACTIVITY_STATE) != VMX_ACTIVITY_ACTIVE &&
	       (V(GUEST_INTERRUPTIBILITY_STATE) & (BLOCK_STI | BLOCK_MOV_SS)) &&
	       broken(f, IX_GUEST_ACTIVITY_STATE, V(GUEST_ACTIVITY_STATE));
}

static int guest_hlt_ss_dpl(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return V(GUEST_ACTIVITY_STATE) == VMX_ACTIVITY_HLT && AR_DPL(ar(s, SEG_SS)) != 0 &&
	       broken(f, IX_GUEST_SS_ACCESS_RIGHTS, ar(s, SEG_SS));
}

static int guest_intr_reserved(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* Bits 31:4 (bit 4, enclave interruption, needs SGX, which no Bochs
	 * model of the kit has). */
	return (V(GUEST_INTERRUPTIBILITY_STATE) & (VMX_BITS_MASK(VMX_INTERRUPTIBILITY_ENCLAVE_INTERRUPTION) |
						   VMX_BITS_MASK(VMX_INTERRUPTIBILITY_RESERVED_31_5))) &&
	       broken(f, IX_GUEST_INTERRUPTIBILITY_STATE, V(GUEST_INTERRUPTIBILITY_STATE));
}

static int guest_intr_sti_movss(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 i = V(GUEST_INTERRUPTIBILITY_STATE);
	return (i & BLOCK_STI) && (i & BLOCK_MOV_SS) && broken(f, IX_GUEST_INTERRUPTIBILITY_STATE, i);
}

static int guest_intr_sti_if(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 i = V(GUEST_INTERRUPTIBILITY_STATE);
	return (i & BLOCK_STI) && !(V(GUEST_RFLAGS) & CPU_RFLAGS_IF) &&
	       broken(f, IX_GUEST_INTERRUPTIBILITY_STATE, i);
}

static int guest_intr_smi(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 i = V(GUEST_INTERRUPTIBILITY_STATE);
	return (i & BLOCK_SMI) && broken(f, IX_GUEST_INTERRUPTIBILITY_STATE, i);   /* not in SMM */
}

static int guest_intr_injection(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 i = V(GUEST_INTERRUPTIBILITY_STATE);
	unsigned int t = INTR_TYPE(intr(s));

	if (!injecting(s))
		return 0;
	if (t == VMX_INTR_TYPE_EXTERNAL_INTERRUPT && (i & (BLOCK_STI | BLOCK_MOV_SS)))
		return broken(f, IX_GUEST_INTERRUPTIBILITY_STATE, i);
	if (t == VMX_INTR_TYPE_NMI && (i & BLOCK_MOV_SS))
		return broken(f, IX_GUEST_INTERRUPTIBILITY_STATE, i);
	return 0;
}

static int guest_pending_dbg(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* Bits 11:4, 13, 15 and 63:16 (bit 16 is RTM, which the kit's models lack). */
	vmcheck_u64 p = V(GUEST_PENDING_DEBUG_EXCEPTIONS);
	return (p & (VMX_BITS_MASK(VMX_PENDING_DBG_RESERVED_11_4) | VMX_BITS_MASK(VMX_PENDING_DBG_RESERVED_13) |
		     VMX_BITS_MASK(VMX_PENDING_DBG_RESERVED_15) | VMX_BITS_MASK(VMX_PENDING_DBG_RTM) |
		     VMX_BITS_MASK(VMX_PENDING_DBG_RESERVED_63_17))) &&
	       broken(f, IX_GUEST_PENDING_DEBUG_EXCEPTIONS, p);
}

static int guest_link_pointer(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 p = V(VMCS_LINK_POINTER);

	/* Not all ones: then it must be a 4-KByte aligned address inside
	 * MAXPHYADDR of a region that starts with the VMCS revision identifier,
	 * and not the current VMCS. */
	if (p == ~0ull)
		return 0;
	if ((p & 0xFFF) || !phys_ok(s, p) || p == s->current_vmcs)
		return broken(f, IX_VMCS_LINK_POINTER, p);
	if (phys_mapped(p, 4) && VMX_MSR_FIELD_GET(phys_read32(p), IA32_VMX_BASIC_VMCS_REVISION_ID) !=
				 VMX_MSR_FIELD_GET(s->basic, IA32_VMX_BASIC_VMCS_REVISION_ID))
		return broken(f, IX_VMCS_LINK_POINTER, p);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* 26.4 Loading MSRs                                                         */
/* ------------------------------------------------------------------------ */

static int entry_msr_entries(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* Each 16-byte entry: bits 31:0 MSR index, 63:32 reserved (must be 0),
	 * then the 64-bit value (SDM 24.8.2). The qualification is the number
	 * of the failing entry, counting from 1 (SDM 26.4). */
	vmcheck_u64 n = V(VM_ENTRY_MSR_LOAD_COUNT), area = V(VM_ENTRY_MSR_LOAD_ADDRESS);

	if (n == 0 || msr_area_bad(s, area, n) || !phys_mapped(area, n * 16))
		return 0;
	for (vmcheck_u64 i = 0; i < n && i < 512; i++)
		if (phys_read32(area + 16 * i + 4)) {
			f->qualification = i + 1;
			return broken_named(f, "VM-entry MSR-load entry", phys_read32(area + 16 * i + 4));
		}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                 */
/* ------------------------------------------------------------------------ */

#define CONTROLS VMCHECK_VMFAIL_CONTROLS
#define HOST     VMCHECK_VMFAIL_HOST
#define GUEST    VMCHECK_EXIT_GUEST_STATE
#define MSRLOAD  VMCHECK_EXIT_MSR_LOADING
/* Exit qualification of a guest-state failure (SDM 26.7 / 27.2.1): 0 by
 * default, VMX_QUAL_ENTRY_FAILURE_VMCS_LINK_POINTER for the link pointer. */
#define QUAL_LINK_POINTER VMX_QUAL_ENTRY_FAILURE_VMCS_LINK_POINTER

const struct vmcheck_rule vmcheck_rules[] = {
	/* 26.2.1.1 VM-execution control fields */
	{ "CTRL_PIN_REQUIRED1", "26.2.1.1", "a pin-based control that must be 1 (allowed 0-settings, bits 31:0 of IA32_VMX_(TRUE_)PINBASED_CTLS) is 0", CONTROLS, 0, pin_allowed0 },
	{ "CTRL_PIN_REQUIRED0", "26.2.1.1", "a pin-based control that must be 0 (allowed 1-settings, bits 63:32 of IA32_VMX_(TRUE_)PINBASED_CTLS) is 1", CONTROLS, 0, pin_allowed1 },
	{ "CTRL_PROC_REQUIRED1", "26.2.1.1", "a primary processor-based control that must be 1 (IA32_VMX_(TRUE_)PROCBASED_CTLS bits 31:0) is 0", CONTROLS, 0, proc_allowed0 },
	{ "CTRL_PROC_REQUIRED0", "26.2.1.1", "a primary processor-based control that must be 0 (IA32_VMX_(TRUE_)PROCBASED_CTLS bits 63:32) is 1", CONTROLS, 0, proc_allowed1 },
	{ "CTRL_PROC2_REQUIRED1", "26.2.1.1", "a secondary processor-based control that must be 1 (IA32_VMX_PROCBASED_CTLS2 bits 31:0) is 0", CONTROLS, 0, proc2_allowed0 },
	{ "CTRL_PROC2_REQUIRED0", "26.2.1.1", "a secondary processor-based control that must be 0 (IA32_VMX_PROCBASED_CTLS2 bits 63:32) is 1", CONTROLS, 0, proc2_allowed1 },
	{ "CTRL_CR3_TARGET_COUNT", "26.2.1.1", "the CR3-target count must not be greater than 4", CONTROLS, 0, cr3_target_count },
	{ "CTRL_IO_BITMAP_ADDRESS", "26.2.1.1", "with \"use I/O bitmaps\", each I/O-bitmap address must be 4-KByte aligned and inside the physical-address width", CONTROLS, 0, io_bitmaps },
	{ "CTRL_MSR_BITMAP_ADDRESS", "26.2.1.1", "with \"use MSR bitmaps\", the MSR-bitmap address must be 4-KByte aligned and inside the physical-address width", CONTROLS, 0, msr_bitmaps },
	{ "CTRL_VIRTUAL_APIC_ADDRESS", "26.2.1.1", "with \"use TPR shadow\", the virtual-APIC address must be 4-KByte aligned and inside the physical-address width", CONTROLS, 0, tpr_shadow },
	{ "CTRL_TPR_THRESHOLD", "26.2.1.1", "with \"use TPR shadow\", bits 31:4 of the TPR threshold must be 0", CONTROLS, 0, tpr_threshold },
	{ "CTRL_TPR_THRESHOLD_VTPR", "26.2.1.1", "with \"use TPR shadow\" (no APIC-access virtualization), TPR threshold bits 3:0 must not exceed VTPR bits 7:4 (virtual-APIC page offset 80H)", CONTROLS, 0, tpr_threshold_vtpr },
	{ "CTRL_VIRTUAL_NMIS_WITHOUT_NMI_EXITING", "26.2.1.1", "\"virtual NMIs\" must be 0 when \"NMI exiting\" is 0", CONTROLS, 0, nmi_exiting_virtual_nmis },
	{ "CTRL_NMI_WINDOW_WITHOUT_VIRTUAL_NMIS", "26.2.1.1", "\"NMI-window exiting\" must be 0 when \"virtual NMIs\" is 0", CONTROLS, 0, virtual_nmis_nmi_window },
	{ "CTRL_APIC_ACCESS_ADDRESS", "26.2.1.1", "with \"virtualize APIC accesses\", the APIC-access address must be 4-KByte aligned and inside the physical-address width", CONTROLS, 0, apic_access },
	{ "CTRL_X2APIC_MODE", "26.2.1.1", "\"virtualize x2APIC mode\" needs \"use TPR shadow\" = 1 and \"virtualize APIC accesses\" = 0", CONTROLS, 0, x2apic_mode },
	{ "CTRL_VPID_ZERO", "26.2.1.1", "with \"enable VPID\", the VPID must not be 0000H", CONTROLS, 0, vpid_zero },
	{ "CTRL_EPTP", "26.2.1.1", "with \"enable EPT\", the EPTP needs a supported memory type (UC/WB), page-walk length 4, A/D only if supported, bits 11:7 and beyond the physical-address width 0", CONTROLS, 0, eptp_valid },
	{ "CTRL_UNRESTRICTED_WITHOUT_EPT", "26.2.1.1", "\"unrestricted guest\" needs \"enable EPT\" = 1", CONTROLS, 0, unrestricted_needs_ept },
	/* 26.2.1.2 VM-exit control fields */
	{ "CTRL_EXIT_REQUIRED1", "26.2.1.2", "a VM-exit control that must be 1 (IA32_VMX_(TRUE_)EXIT_CTLS bits 31:0) is 0", CONTROLS, 0, exit_allowed0 },
	{ "CTRL_EXIT_REQUIRED0", "26.2.1.2", "a VM-exit control that must be 0 (IA32_VMX_(TRUE_)EXIT_CTLS bits 63:32) is 1", CONTROLS, 0, exit_allowed1 },
	{ "CTRL_EXIT_SAVE_PREEMPTION_TIMER", "26.2.1.2", "\"save VMX-preemption timer value\" must be 0 when \"activate VMX-preemption timer\" is 0", CONTROLS, 0, exit_preemption_timer },
	{ "CTRL_EXIT_MSR_STORE_ADDRESS", "26.2.1.2", "with a VM-exit MSR-store count, the area must be 16-byte aligned and end inside the physical-address width", CONTROLS, 0, exit_msr_store },
	{ "CTRL_EXIT_MSR_LOAD_ADDRESS", "26.2.1.2", "with a VM-exit MSR-load count, the area must be 16-byte aligned and end inside the physical-address width", CONTROLS, 0, exit_msr_load },
	/* 26.2.1.3 VM-entry control fields */
	{ "CTRL_ENTRY_REQUIRED1", "26.2.1.3", "a VM-entry control that must be 1 (IA32_VMX_(TRUE_)ENTRY_CTLS bits 31:0) is 0", CONTROLS, 0, entry_allowed0 },
	{ "CTRL_ENTRY_REQUIRED0", "26.2.1.3", "a VM-entry control that must be 0 (IA32_VMX_(TRUE_)ENTRY_CTLS bits 63:32) is 1", CONTROLS, 0, entry_allowed1 },
	{ "CTRL_ENTRY_SMM_OUTSIDE_SMM", "26.2.1.3", "\"entry to SMM\" and \"deactivate dual-monitor treatment\" must be 0 outside SMM", CONTROLS, 0, entry_outside_smm },
	{ "CTRL_ENTRY_INTR_INFO_RESERVED", "26.2.1.3", "a valid VM-entry interruption-information field must have bits 30:12 clear", CONTROLS, 0, intr_reserved },
	{ "CTRL_ENTRY_INTR_TYPE_VECTOR", "26.2.1.3", "injected event: type 1 is reserved, an NMI has vector 2, a hardware exception a vector 0-31, type 7 needs MTF and vector 0", CONTROLS, 0, intr_type_vector },
	{ "CTRL_ENTRY_INTR_ERROR_CODE_BIT", "26.2.1.3", "\"deliver error code\" must be 1 exactly for hardware exceptions 8, 10-14, 17 in protected mode (any hardware exception may have it if IA32_VMX_BASIC bit 56), 0 for other events", CONTROLS, 0, intr_error_code_bit },
	{ "CTRL_ENTRY_ERROR_CODE", "26.2.1.3", "when an error code is delivered, bits 31:16 of the VM-entry exception error code must be 0", CONTROLS, 0, intr_error_code },
	{ "CTRL_ENTRY_INSTRUCTION_LENGTH", "26.2.1.3", "a software interrupt/exception needs a VM-entry instruction length of 1-15 (0 only if IA32_VMX_MISC bit 30)", CONTROLS, 0, intr_length },
	{ "CTRL_ENTRY_MSR_LOAD_ADDRESS", "26.2.1.3", "with a VM-entry MSR-load count, the area must be 16-byte aligned and end inside the physical-address width", CONTROLS, 0, entry_msr_load },
	/* 26.2.2 host control registers and MSRs */
	{ "HOST_CR0_FIXED_BITS", "26.2.2", "host CR0 must have every IA32_VMX_CR0_FIXED0 bit set and no bit outside IA32_VMX_CR0_FIXED1", HOST, 0, host_cr0 },
	{ "HOST_CR4_FIXED_BITS", "26.2.2", "host CR4 must have every IA32_VMX_CR4_FIXED0 bit set and no bit outside IA32_VMX_CR4_FIXED1", HOST, 0, host_cr4 },
	{ "HOST_CR3_PHYS_WIDTH", "26.2.2", "host CR3 must not set bits beyond the physical-address width", HOST, 0, host_cr3 },
	{ "HOST_SYSENTER_CANONICAL", "26.2.2", "host IA32_SYSENTER_ESP and IA32_SYSENTER_EIP must be canonical", HOST, 0, host_sysenter },
	{ "HOST_PAT", "26.2.2", "with \"load IA32_PAT\", each byte of the host IA32_PAT must be a valid memory type (0, 1, 4-7)", HOST, 0, host_pat },
	{ "HOST_EFER", "26.2.2", "with \"load IA32_EFER\", host EFER reserved bits must be 0 and LMA, LME must equal \"host address-space size\"", HOST, 0, host_efer },
	/* 26.2.3 host segment and descriptor-table registers */
	{ "HOST_SELECTOR_RPL_TI", "26.2.3", "host ES, CS, SS, DS, FS, GS and TR selectors must have RPL (bits 1:0) and TI (bit 2) = 0", HOST, 0, host_selectors },
	{ "HOST_CS_NULL", "26.2.3", "the host CS selector must not be 0000H", HOST, 0, host_cs_null },
	{ "HOST_TR_NULL", "26.2.3", "the host TR selector must not be 0000H", HOST, 0, host_tr_null },
	{ "HOST_SS_NULL", "26.2.3", "the host SS selector must not be 0000H when \"host address-space size\" is 0", HOST, 0, host_ss_null },
	{ "HOST_BASE_CANONICAL", "26.2.3", "host FS, GS, GDTR, IDTR and TR bases must be canonical", HOST, 0, host_bases },
	/* 26.2.4 address-space size */
	{ "HOST_ADDRESS_SPACE_SIZE", "26.2.4", "in IA-32e mode, the \"host address-space size\" VM-exit control must be 1", HOST, 0, host_address_space },
	{ "HOST_64_CR4_PAE", "26.2.4", "with \"host address-space size\" = 1, host CR4.PAE must be 1", HOST, 0, host64_cr4_pae },
	{ "HOST_64_RIP_CANONICAL", "26.2.4", "with \"host address-space size\" = 1, host RIP must be canonical", HOST, 0, host64_rip },
	{ "HOST_32_PCIDE_RIP", "26.2.4", "with \"host address-space size\" = 0, host CR4.PCIDE and host RIP bits 63:32 must be 0", HOST, 0, host32_rules },
	/* 26.3.1.1 guest control registers, debug registers, MSRs */
	{ "GUEST_CR0_FIXED_BITS", "26.3.1.1", "guest CR0 must have every IA32_VMX_CR0_FIXED0 bit set (PE, PG exempt with \"unrestricted guest\") and no bit outside IA32_VMX_CR0_FIXED1", GUEST, 0, guest_cr0 },
	{ "GUEST_CR0_PG_WITHOUT_PE", "26.3.1.1", "guest CR0.PG = 1 needs CR0.PE = 1", GUEST, 0, guest_cr0_pg_pe },
	{ "GUEST_CR4_FIXED_BITS", "26.3.1.1", "guest CR4 must have every IA32_VMX_CR4_FIXED0 bit set and no bit outside IA32_VMX_CR4_FIXED1", GUEST, 0, guest_cr4 },
	{ "GUEST_CR3_PHYS_WIDTH", "26.3.1.1", "guest CR3 must not set bits beyond the physical-address width", GUEST, 0, guest_cr3 },
	{ "GUEST_DEBUGCTL_RESERVED", "26.3.1.1", "with \"load debug controls\", guest IA32_DEBUGCTL reserved bits (5:2, 63:16) must be 0", GUEST, 0, guest_debugctl },
	{ "GUEST_IA32E_PG_PAE", "26.3.1.1", "with \"IA-32e mode guest\", guest CR0.PG and CR4.PAE must be 1", GUEST, 0, guest_ia32e_cr },
	{ "GUEST_PCIDE_OUTSIDE_IA32E", "26.3.1.1", "without \"IA-32e mode guest\", guest CR4.PCIDE must be 0", GUEST, 0, guest_pcide },
	{ "GUEST_DR7_UPPER", "26.3.1.1", "with \"load debug controls\", bits 63:32 of guest DR7 must be 0", GUEST, 0, guest_dr7 },
	{ "GUEST_SYSENTER_CANONICAL", "26.3.1.1", "guest IA32_SYSENTER_ESP and IA32_SYSENTER_EIP must be canonical", GUEST, 0, guest_sysenter },
	{ "GUEST_PAT", "26.3.1.1", "with \"load IA32_PAT\", each byte of the guest IA32_PAT must be a valid memory type (0, 1, 4-7)", GUEST, 0, guest_pat },
	{ "GUEST_EFER", "26.3.1.1", "with \"load IA32_EFER\", guest EFER reserved bits must be 0, LMA must equal \"IA-32e mode guest\", and LME must equal LMA when CR0.PG = 1", GUEST, 0, guest_efer },
	/* 26.3.1.2 guest segment registers */
	{ "GUEST_TR_TI", "26.3.1.2", "the guest TR selector must have TI (bit 2) = 0", GUEST, 0, guest_tr_ti },
	{ "GUEST_LDTR_TI", "26.3.1.2", "a usable guest LDTR selector must have TI (bit 2) = 0", GUEST, 0, guest_ldtr_ti },
	{ "GUEST_SS_CS_RPL", "26.3.1.2", "guest SS.RPL must equal CS.RPL (not virtual-8086, no \"unrestricted guest\")", GUEST, 0, guest_ss_cs_rpl },
	{ "GUEST_V86_BASE", "26.3.1.2", "virtual-8086 guest (RFLAGS.VM = 1): each segment base must be its selector << 4", GUEST, 0, v86_base },
	{ "GUEST_V86_LIMIT", "26.3.1.2", "virtual-8086 guest: each segment limit must be 0000FFFFH", GUEST, 0, v86_limit },
	{ "GUEST_V86_AR", "26.3.1.2", "virtual-8086 guest: each segment's access rights must be 000000F3H", GUEST, 0, v86_ar },
	{ "GUEST_BASE_CANONICAL", "26.3.1.2", "guest TR, FS, GS bases (and a usable LDTR base) must be canonical", GUEST, 0, guest_base_canonical },
	{ "GUEST_BASE_UPPER", "26.3.1.2", "bits 63:32 of the guest CS base, and of usable SS, DS, ES bases, must be 0", GUEST, 0, guest_base_upper },
	{ "GUEST_CS_TYPE", "26.3.1.2", "guest CS type must be 9, 11, 13 or 15 (accessed code; 3 with \"unrestricted guest\")", GUEST, 0, guest_cs_type },
	{ "GUEST_SS_TYPE", "26.3.1.2", "a usable guest SS must be type 3 or 7 (read/write accessed data)", GUEST, 0, guest_ss_type },
	{ "GUEST_DATA_TYPE", "26.3.1.2", "usable guest DS, ES, FS, GS must be accessed, and readable if code", GUEST, 0, guest_data_type },
	{ "GUEST_SEG_S", "26.3.1.2", "guest CS and usable SS, DS, ES, FS, GS must have S (bit 4) = 1 (code or data)", GUEST, 0, guest_seg_s },
	{ "GUEST_CS_DPL", "26.3.1.2", "guest CS.DPL must equal SS.DPL (non-conforming), be <= SS.DPL (conforming), or be 0 (type 3)", GUEST, 0, guest_cs_dpl },
	{ "GUEST_SS_DPL", "26.3.1.2", "guest SS.DPL must equal SS.RPL (no \"unrestricted guest\"), and be 0 when CS is type 3 or CR0.PE = 0", GUEST, 0, guest_ss_dpl },
	{ "GUEST_DATA_DPL", "26.3.1.2", "usable guest DS, ES, FS, GS (types 0-11) need DPL >= RPL (no \"unrestricted guest\")", GUEST, 0, guest_data_dpl },
	{ "GUEST_SEG_PRESENT", "26.3.1.2", "guest CS and usable SS, DS, ES, FS, GS must be present (P = 1)", GUEST, 0, guest_seg_present },
	{ "GUEST_SEG_AR_RESERVED", "26.3.1.2", "guest CS and usable SS, DS, ES, FS, GS access rights bits 11:8 and 31:17 must be 0", GUEST, 0, guest_seg_reserved },
	{ "GUEST_CS_L_DB", "26.3.1.2", "with \"IA-32e mode guest\" and CS.L = 1, CS.D/B must be 0", GUEST, 0, guest_cs_l_db },
	{ "GUEST_SEG_LIMIT_GRANULARITY", "26.3.1.2", "guest CS and usable SS, DS, ES, FS, GS: G must be 0 if limit bits 11:0 are not all 1, and 1 if limit bits 31:20 are not all 0", GUEST, 0, guest_seg_granularity },
	{ "GUEST_TR_TYPE", "26.3.1.2", "guest TR type must be 11 (busy 32/64-bit TSS), or 3 (busy 16-bit TSS) outside IA-32e mode", GUEST, 0, guest_tr_type },
	{ "GUEST_TR_RIGHTS", "26.3.1.2", "guest TR must be usable, S = 0, P = 1, reserved bits 0, G consistent with its limit", GUEST, 0, guest_tr_rights },
	{ "GUEST_LDTR_RIGHTS", "26.3.1.2", "a usable guest LDTR must be type 2, S = 0, P = 1, reserved bits 0, G consistent with its limit", GUEST, 0, guest_ldtr_rights },
	/* 26.3.1.3 guest descriptor-table registers */
	{ "GUEST_DTR_BASE_CANONICAL", "26.3.1.3", "guest GDTR and IDTR bases must be canonical", GUEST, 0, guest_dtr_base },
	{ "GUEST_DTR_LIMIT", "26.3.1.3", "bits 31:16 of the guest GDTR and IDTR limits must be 0", GUEST, 0, guest_dtr_limit },
	/* 26.3.1.4 guest RIP and RFLAGS */
	{ "GUEST_RIP_UPPER", "26.3.1.4", "outside 64-bit mode (IA-32e guest with CS.L = 1), bits 63:32 of guest RIP must be 0", GUEST, 0, guest_rip_upper },
	{ "GUEST_RIP_HIGH_BITS", "26.3.1.4", "in 64-bit mode (IA-32e guest with CS.L = 1), bits 63:N of guest RIP must be identical (N = linear-address width)", GUEST, 0, guest_rip_high_bits },
	{ "GUEST_RFLAGS_RESERVED", "26.3.1.4", "guest RFLAGS bits 63:22, 15, 5 and 3 must be 0", GUEST, 0, guest_rflags_reserved },
	{ "GUEST_RFLAGS_BIT1", "26.3.1.4", "guest RFLAGS bit 1 must be 1", GUEST, 0, guest_rflags_bit1 },
	{ "GUEST_RFLAGS_VM", "26.3.1.4", "guest RFLAGS.VM must be 0 with \"IA-32e mode guest\" or CR0.PE = 0", GUEST, 0, guest_rflags_vm },
	{ "GUEST_RFLAGS_IF_INJECTION", "26.3.1.4", "injecting an external interrupt needs guest RFLAGS.IF = 1", GUEST, 0, guest_rflags_if },
	/* 26.3.1.5 guest non-register state */
	{ "GUEST_ACTIVITY_STATE", "26.3.1.5", "the guest activity state must be 0-3 and supported (IA32_VMX_MISC bits 8:6)", GUEST, 0, guest_activity },
	{ "GUEST_ACTIVITY_BLOCKING", "26.3.1.5", "blocking by STI or MOV SS needs the active activity state (0)", GUEST, 0, guest_activity_blocking },
	{ "GUEST_HLT_SS_DPL", "26.3.1.5", "the HLT activity state needs guest SS.DPL = 0", GUEST, 0, guest_hlt_ss_dpl },
	{ "GUEST_INTERRUPTIBILITY_RESERVED", "26.3.1.5", "guest interruptibility-state bits 31:4 must be 0", GUEST, 0, guest_intr_reserved },
	{ "GUEST_INTERRUPTIBILITY_STI_MOV_SS", "26.3.1.5", "blocking by STI and blocking by MOV SS must not both be 1", GUEST, 0, guest_intr_sti_movss },
	{ "GUEST_INTERRUPTIBILITY_STI_IF", "26.3.1.5", "blocking by STI needs guest RFLAGS.IF = 1", GUEST, 0, guest_intr_sti_if },
	{ "GUEST_INTERRUPTIBILITY_SMI", "26.3.1.5", "blocking by SMI must be 0 outside SMM", GUEST, 0, guest_intr_smi },
	{ "GUEST_INTERRUPTIBILITY_INJECTION", "26.3.1.5", "injecting an external interrupt needs no STI/MOV SS blocking; an NMI no MOV SS blocking", GUEST, 0, guest_intr_injection },
	{ "GUEST_PENDING_DBG_RESERVED", "26.3.1.5", "guest pending debug exceptions bits 11:4, 13, 15 and 63:16 must be 0", GUEST, 0, guest_pending_dbg },
	{ "GUEST_VMCS_LINK_POINTER", "26.3.1.5", "the VMCS link pointer must be FFFFFFFF_FFFFFFFFH, or a 4-KByte aligned, in-width address of a VMCS-revision region other than the current VMCS", GUEST, QUAL_LINK_POINTER, guest_link_pointer },
	/* 26.4 loading MSRs */
	{ "ENTRY_MSR_LOAD_RESERVED", "26.4", "each VM-entry MSR-load entry must have bits 63:32 of its first quadword 0", MSRLOAD, 0, entry_msr_entries },
};

const int vmcheck_rule_count = sizeof vmcheck_rules / sizeof vmcheck_rules[0];

/* ------------------------------------------------------------------------ */
/* Snapshot, run, report                                                     */
/* ------------------------------------------------------------------------ */

#define VMCHECK_MAX_FINDINGS 32

static struct vmcheck_state state;
static struct vmcheck_finding findings[VMCHECK_MAX_FINDINGS];
static int nfindings;

/* Read the capability MSRs; the TRUE_ ones when IA32_VMX_BASIC bit 55 says
 * they exist (SDM A.2), because they are the ones VM entry checks against. */
static void snapshot(struct vmcheck_state *s)
{
	int truectl;

	s->basic = rdmsr(IA32_VMX_BASIC);
	truectl = VMX_MSR_FIELD_GET(s->basic, IA32_VMX_BASIC_TRUE_CONTROLS) != 0;
	s->pin_ctls   = rdmsr(truectl ? IA32_VMX_TRUE_PINBASED_CTLS : IA32_VMX_PINBASED_CTLS);
	s->proc_ctls  = rdmsr(truectl ? IA32_VMX_TRUE_PROCBASED_CTLS : IA32_VMX_PROCBASED_CTLS);
	s->exit_ctls  = rdmsr(truectl ? IA32_VMX_TRUE_EXIT_CTLS : IA32_VMX_EXIT_CTLS);
	s->entry_ctls = rdmsr(truectl ? IA32_VMX_TRUE_ENTRY_CTLS : IA32_VMX_ENTRY_CTLS);
	s->misc       = rdmsr(IA32_VMX_MISC);
	s->cr0_fixed0 = rdmsr(IA32_VMX_CR0_FIXED0);
	s->cr0_fixed1 = rdmsr(IA32_VMX_CR0_FIXED1);
	s->cr4_fixed0 = rdmsr(IA32_VMX_CR4_FIXED0);
	s->cr4_fixed1 = rdmsr(IA32_VMX_CR4_FIXED1);
	/* IA32_VMX_PROCBASED_CTLS2 exists only if "activate secondary controls"
	 * may be 1; IA32_VMX_EPT_VPID_CAP only if EPT or VPID may be 1 (A.3.3, A.10). */
	s->has_proc2 = ((s->proc_ctls >> 32) & VMX_PROC_ACTIVATE_SECONDARY_CONTROLS) != 0;
	s->proc2_ctls = s->has_proc2 ? rdmsr(IA32_VMX_PROCBASED_CTLS2) : 0;
	s->has_ept_vpid_cap = s->has_proc2 &&
		((s->proc2_ctls >> 32) & (VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID)) != 0;
	s->ept_vpid_cap = s->has_ept_vpid_cap ? rdmsr(IA32_VMX_EPT_VPID_CAP) : 0;

	if (cpuid(0x80000000, 0).eax >= 0x80000008) {
		vmx_u32 eax = cpuid(0x80000008, 0).eax;
		s->phys_bits = eax & 0xFF;
		s->lin_bits = (eax >> 8) & 0xFF;
	} else {
		s->phys_bits = 36;
		s->lin_bits = 48;
	}
	s->current_vmcs = vmcheck_vmptrst();

	for (int i = 0; i < IX_COUNT; i++) {
		vmcheck_u64 v = 0;
		s->have[i] = vmcheck_vmread(field_encoding[i], &v) == 0;
		s->v[i] = s->have[i] ? v : 0;
	}
}

static int run(int verbose)
{
	snapshot(&state);
	nfindings = 0;
	for (int i = 0; i < vmcheck_rule_count; i++) {
		struct vmcheck_finding f = { &vmcheck_rules[i], "", 0, vmcheck_rules[i].qualification };
		if (!vmcheck_rules[i].check(&state, &f))
			continue;
		if (verbose)
			printf("vmcheck: %s (SDM %s): %s [%s=0x%llx]\n", f.rule->id, f.rule->section,
				       f.rule->message, f.field, f.value);
		if (nfindings < VMCHECK_MAX_FINDINGS)
			findings[nfindings++] = f;
	}
	if (verbose)
		printf("vmcheck: %d violation(s)\n", nfindings);
	return nfindings;
}

int vmcheck_current_vmcs(void) { return run(1); }
int vmcheck_current_vmcs_quiet(void) { return run(0); }

const struct vmcheck_finding *vmcheck_violation(int i)
{
	return (i >= 0 && i < nfindings) ? &findings[i] : 0;
}

int vmcheck_named(const char *id)
{
	for (int i = 0; i < nfindings; i++)
		if (strcmp(findings[i].rule->id, id) == 0)
			return 1;
	return 0;
}

void vmcheck_expected_outcome(struct vmcheck_expectation *out)
{
	const struct vmcheck_finding *first = 0;

	/* The CPU checks controls, then host state, then guest state, then
	 * loads MSRs (SDM 26.1): the lowest outcome value fails first. */
	for (int i = 0; i < nfindings; i++)
		if (!first || findings[i].rule->outcome < first->rule->outcome)
			first = &findings[i];
	out->outcome = first ? first->rule->outcome : VMCHECK_NONE;
	out->error = 0;
	out->exit_reason = 0;
	out->qualification = 0;
	switch (out->outcome) {
	case VMCHECK_VMFAIL_CONTROLS:
		out->error = VMCHECK_ERROR_INVALID_CONTROLS;
		break;
	case VMCHECK_VMFAIL_HOST:
		out->error = VMCHECK_ERROR_INVALID_HOST_STATE;
		break;
	case VMCHECK_EXIT_GUEST_STATE:
		out->exit_reason = VMCHECK_EXIT_INVALID_GUEST_STATE;
		out->qualification = first->qualification;
		break;
	case VMCHECK_EXIT_MSR_LOADING:
		out->exit_reason = VMCHECK_EXIT_MSR_LOADING_FAILED;
		out->qualification = first->qualification;
		break;
	case VMCHECK_NONE:
		break;
	}
}

void vmcheck_print_expectation(const char *prefix, const struct vmcheck_expectation *e)
{
	switch (e->outcome) {
	case VMCHECK_VMFAIL_CONTROLS:
	case VMCHECK_VMFAIL_HOST:
		printf("%sVMfailValid error %u\n", prefix, e->error);
		break;
	case VMCHECK_EXIT_GUEST_STATE:
	case VMCHECK_EXIT_MSR_LOADING:
		printf("%sentry failure reason %u qualification 0x%llx\n", prefix, e->exit_reason,
			       e->qualification);
		break;
	case VMCHECK_NONE:
		printf("%slaunched\n", prefix);
		break;
	}
}
