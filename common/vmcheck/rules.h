/*
 * rules.h - what every rule of the VM-entry checker sees, and how a rule is
 * written. Included by the rule files (controls.c, host_state.c,
 * guest_registers.c, guest_segments.c, guest_nonregister.c, msr_loading.c)
 * and by the driver, vmcheck.c; not by users of the checker (vmcheck.h).
 *
 * Runs in: 64-bit ring 0, VMX root operation (see vmcheck.h). The helpers
 * below only look at the snapshot, except phys_read8/phys_read32, which
 * read physical memory below 4 GiB (identity-mapped by the runtime, rt.h).
 *
 * A rule is one SDM sentence, written where its check is:
 *
 *     VMCHECK_RULE(CTRL_CR3_TARGET_COUNT, "26.2.1.1", CONTROLS, cr3_target_count,
 *                  "the CR3-target count must not be greater than 4");
 *     static int cr3_target_count(const struct vmcheck_state *s, struct vmcheck_finding *f)
 *     {
 *             return V(CR3_TARGET_COUNT) > 4 && broken(f, IX_CR3_TARGET_COUNT, V(CR3_TARGET_COUNT));
 *     }
 *
 * VMCHECK_RULE(ID, SECTION, OUTCOME, CHECK, MESSAGE) declares CHECK and
 * defines `rule_ID`, a struct vmcheck_rule (vmcheck.h) with the id, the SDM
 * section, the message and the CPU's reaction (OUTCOME: CONTROLS, HOST,
 * GUEST or MSRLOAD, below). It is a macro only so that the id is typed
 * once: "#ID" is the string the checker prints. CHECK returns 1 and fills
 * *f (broken(), broken_named()) when the rule is broken, 0 when it holds.
 *
 * Each rule file ends with the list of its rules in the SDM's order (struct
 * vmcheck_rule_list); vmcheck.c runs the lists in the order the CPU checks
 * (SDM 26.1). A rule left out of its file's list would never run: that is
 * a compile error (the pragma at the end of this file).
 */
#ifndef VMCHECK_RULES_H
#define VMCHECK_RULES_H

#include "vmcheck.h"

#include "vmx/capsplit.h"       /* vmx_control_split: a control word's allowed settings */
#include "vmx/controls.h"       /* VMX_<WORD>_<BIT> control masks, vmx_control_word_table */
#include "vmx/cpu_bits.h"       /* CPU_<REG>_<BIT> masks */
#include "vmx/fields.h"         /* VMCS_<FIELD> encodings */
#include "vmx/layouts.h"        /* VMX_<LAYOUT>_<FIELD>: access rights, interruption info ... */
#include "vmx/msrs.h"           /* MSR numbers and the fields inside them */
#include "vmx/values.h"         /* VMX_<SET>_<NAME>: interruption types, segment types ... */

typedef vmx_u64 vmcheck_u64;
typedef vmx_u32 vmcheck_u32;

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

/* IX_<FIELD>: the field's place in the snapshot. */
enum vmcheck_index {
#define VMCHECK_IX(name) IX_##name,
	VMCHECK_FIELDS(VMCHECK_IX)
#undef VMCHECK_IX
	IX_COUNT
};

/* "GUEST_RIP" for IX_GUEST_RIP: the name a finding prints (vmcheck.c). */
extern const char *const vmcheck_field_name[IX_COUNT];

/* What the rules look at: taken once by vmcheck_current_vmcs() (vmcheck.c,
 * snapshot()) before any rule runs. */
struct vmcheck_state {
	vmcheck_u64 v[IX_COUNT];        /* field values (0 if VMREAD failed) */
	unsigned char have[IX_COUNT];   /* 1 if VMREAD succeeded */
	/* capability MSRs (SDM appendix A) */
	vmcheck_u64 basic, misc, cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1, ept_vpid_cap;
	int has_ept_vpid_cap;
	/* What each control word (enum vmx_control_word) allows, from its
	 * capability MSR (vmx_control_split); all 0 for a word the CPU lacks. */
	struct vmx_allowed_settings allowed[VMX_WORD_COUNT];
	unsigned char has_word[VMX_WORD_COUNT]; /* vmx_control_word_exists */
	unsigned int phys_bits;         /* CPUID.80000008H:EAX[7:0]  (MAXPHYADDR) */
	unsigned int lin_bits;          /* CPUID.80000008H:EAX[15:8] (linear-address width) */
	vmcheck_u64 current_vmcs;       /* VMPTRST */
};

#define V(name)    (s->v[IX_##name])
#define BIT(n)     (1ull << (n))
#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~(BIT(lo) - 1))
#define MISC(F)  VMX_MSR_FIELD_GET(s->misc, IA32_VMX_MISC_##F)
#define EPTCAP(F) VMX_MSR_FIELD_GET(s->ept_vpid_cap, IA32_VMX_EPT_VPID_CAP_##F)

/* ------------------------------------------------------------------------ */
/* Writing a rule                                                            */
/* ------------------------------------------------------------------------ */

/* OUTCOME of a rule: how the CPU refuses the entry (vmcheck.h). */
#define CONTROLS VMCHECK_VMFAIL_CONTROLS        /* 26.2.1: VMfailValid, error 7 */
#define HOST     VMCHECK_VMFAIL_HOST            /* 26.2.2-26.2.4: VMfailValid, error 8 */
#define GUEST    VMCHECK_EXIT_GUEST_STATE       /* 26.3: exit reason 33 */
#define MSRLOAD  VMCHECK_EXIT_MSR_LOADING       /* 26.4: exit reason 34 */

#define VMCHECK_RULE(id, section, outcome, check, message) \
	VMCHECK_RULE_QUALIFIED(id, section, outcome, 0, check, message)

/* The same, for a guest-state rule whose failure exit has a qualification
 * other than 0 (SDM 26.7, 27.2.1: VMX_QUAL_ENTRY_FAILURE_<NAME>). */
#define VMCHECK_RULE_QUALIFIED(id, section, outcome, qualification, check, message)    \
	static int check(const struct vmcheck_state *s, struct vmcheck_finding *f);     \
	static const struct vmcheck_rule rule_##id = {                                  \
		#id, section, message, outcome, qualification, check                    \
	}

/* A rule file's rules, in the order they run and print. */
struct vmcheck_rule_list {
	const struct vmcheck_rule *const *rules;
	int count;
};

/* One per rule file (vmcheck.c runs them in this order, SDM 26.1). */
extern const struct vmcheck_rule_list vmcheck_controls;          /* controls.c          26.2.1 */
extern const struct vmcheck_rule_list vmcheck_host_state;        /* host_state.c        26.2.2-26.2.4 */
extern const struct vmcheck_rule_list vmcheck_guest_cr_dr_msrs;  /* guest_registers.c   26.3.1.1 */
extern const struct vmcheck_rule_list vmcheck_guest_segments;    /* guest_segments.c    26.3.1.2, 26.3.1.3 */
extern const struct vmcheck_rule_list vmcheck_guest_rip_rflags;  /* guest_registers.c   26.3.1.4 */
extern const struct vmcheck_rule_list vmcheck_guest_nonregister; /* guest_nonregister.c 26.3.1.5 */
extern const struct vmcheck_rule_list vmcheck_msr_loading;       /* msr_loading.c       26.4 */

/* Report field `ix` with its value; returns 1 (rule broken). */
static inline int broken(struct vmcheck_finding *f, int ix, vmcheck_u64 value)
{
	f->field = vmcheck_field_name[ix];
	f->value = value;
	return 1;
}

/* The same for something that is not a snapshot field (an MSR-load entry). */
static inline int broken_named(struct vmcheck_finding *f, const char *name, vmcheck_u64 value)
{
	f->field = name;
	f->value = value;
	return 1;
}

/* ------------------------------------------------------------------------ */
/* Helpers of the rules                                                      */
/* ------------------------------------------------------------------------ */

/* Physical memory the checker may read: the runtime maps the first 4 GiB
 * with VA = PA (rt.h). Beyond it, memory checks are skipped. */
#define IDENTITY_MAPPED_LIMIT (1ull << 32)

/* Whether [pa, pa + bytes) is mapped. A separate answer, never a null
 * pointer: physical address 0 (the real-mode IVT) is memory like any other,
 * and a VMCS link pointer of 0 must be read and rejected (SDM 26.3.1.5). */
static inline int phys_mapped(vmcheck_u64 pa, vmcheck_u64 bytes)
{
	return pa < IDENTITY_MAPPED_LIMIT && bytes <= IDENTITY_MAPPED_LIMIT - pa;
}

/* Load from mapped physical memory with an explicit instruction: C lets the
 * compiler assume that nothing is stored at address 0. */
static inline vmcheck_u32 phys_read32(vmcheck_u64 pa)
{
	vmcheck_u32 v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"((unsigned long)pa) : "memory");
	return v;
}

static inline unsigned phys_read8(vmcheck_u64 pa)
{
	unsigned v;

	__asm__ volatile("movzbl (%1), %0" : "=r"(v) : "r"((unsigned long)pa) : "memory");
	return v;
}

/* Bits 63:N clear, N = MAXPHYADDR (SDM: "must not set any bits beyond the
 * processor's physical-address width"). */
static inline int phys_ok(const struct vmcheck_state *s, vmcheck_u64 pa)
{
	return s->phys_bits >= 64 || (pa >> s->phys_bits) == 0;
}

/* Canonical: bits 63:N-1 all equal, N = linear-address width (SDM 3A 3.3.7.1). */
static inline int canonical(const struct vmcheck_state *s, vmcheck_u64 la)
{
	long long x = (long long)(la << (64 - s->lin_bits));
	return (vmcheck_u64)(x >> (64 - s->lin_bits)) == la;
}

/* An MSR area: 16-byte aligned, and its first and last byte inside MAXPHYADDR. */
static inline int msr_area_bad(const struct vmcheck_state *s, vmcheck_u64 addr, vmcheck_u64 count)
{
	if (count == 0)
		return 0;
	return (addr & 0xF) || !phys_ok(s, addr) || !phys_ok(s, addr + count * 16 - 1);
}

/* CR0 or CR4 against its FIXED0 (bits that must be 1) and FIXED1 (bits that
 * may be 1) MSRs (SDM A.7, A.8). */
static inline int fixed_bad(vmcheck_u64 v, vmcheck_u64 fixed0, vmcheck_u64 fixed1)
{
	return (fixed0 & ~v) || (v & ~fixed1);
}

/* IA32_PAT: each of the 8 bytes is a memory type (vmx_values.def
 * MEMORY_TYPE: UC WC WT WP WB UC-; SDM vol. 3A 11.12.2). */
static inline int pat_bad(vmcheck_u64 pat)
{
	for (int i = 0; i < 8; i++)
		if (!vmx_value_lookup("MEMORY_TYPE", (pat >> (8 * i)) & 0xFF))
			return 1;
	return 0;
}

/* IA32_EFER bits other than SCE 0, LME 8, LMA 10, NXE 11 are reserved here. */
static inline vmcheck_u64 efer_reserved(void)
{
	return ~(CPU_EFER_SCE | CPU_EFER_LME | CPU_EFER_LMA | CPU_EFER_NXE);
}

/* The control words. */
static inline vmcheck_u64 pin(const struct vmcheck_state *s) { return V(PIN_BASED_VM_EXECUTION_CONTROLS); }
static inline vmcheck_u64 proc(const struct vmcheck_state *s) { return V(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS); }
static inline vmcheck_u64 exitc(const struct vmcheck_state *s) { return V(PRIMARY_VM_EXIT_CONTROLS); }
static inline vmcheck_u64 entry(const struct vmcheck_state *s) { return V(VM_ENTRY_CONTROLS); }

/* The secondary controls count only when "activate secondary controls" is 1
 * (SDM 24.6.2); otherwise the CPU acts as if they were all 0. */
static inline vmcheck_u64 proc2(const struct vmcheck_state *s)
{
	return (proc(s) & VMX_PROC_ACTIVATE_SECONDARY_CONTROLS) ? V(SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS) : 0;
}

/* The kinds of guest and host the rules tell apart. */
static inline int ia32e_guest(const struct vmcheck_state *s) { return (entry(s) & VMX_ENTRY_IA_32E_MODE_GUEST) != 0; }
static inline int host64(const struct vmcheck_state *s) { return (exitc(s) & VMX_EXIT_HOST_ADDRESS_SPACE_SIZE) != 0; }
static inline int unrestricted(const struct vmcheck_state *s) { return (proc2(s) & VMX_PROC2_UNRESTRICTED_GUEST) != 0; }
static inline int v8086_guest(const struct vmcheck_state *s) { return (V(GUEST_RFLAGS) & CPU_RFLAGS_VM) != 0; }

/* Event injection, VM-entry interruption-information field (SDM 24.8.3):
 * layout INTR_INFO_ENTRY, types INTR_TYPE (common/vmx). */
#define INTR_VALID              VMX_BITS_MASK(VMX_INTR_INFO_ENTRY_VALID)
#define INTR_TYPE(x)            VMX_BITS_GET(x, VMX_INTR_INFO_ENTRY_TYPE)
#define INTR_VECTOR(x)          VMX_BITS_GET(x, VMX_INTR_INFO_ENTRY_VECTOR)
#define INTR_DELIVER_ERROR      VMX_BITS_MASK(VMX_INTR_INFO_ENTRY_DELIVER_ERROR_CODE)

static inline vmcheck_u64 intr(const struct vmcheck_state *s) { return V(VM_ENTRY_INTERRUPTION_INFORMATION); }
static inline int injecting(const struct vmcheck_state *s) { return (intr(s) & INTR_VALID) != 0; }

/* ------------------------------------------------------------------------ */
/* Guest segment registers                                                   */
/* ------------------------------------------------------------------------ */

/* Segment registers of the guest-state area, in SDM order (24.4.1). */
enum seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

/* Where each register's four fields are in the snapshot (vmcheck.c). */
struct vmcheck_seg {
	const char *name;
	int sel, base, limit, ar;
};
extern const struct vmcheck_seg vmcheck_seg[SEG_COUNT];

/* Access-rights format of the guest-state area (SDM 24.4.1, table "Format of
 * Access Rights"),
 * segment types (vol. 3A 3.4.5.1, 3.5) and selectors: common/vmx lists
 * (vmx_layouts.def SEG_AR, SEG_TYPE_BITS, SELECTOR; vmx_values.def
 * SEG_TYPE, SYSTEM_TYPE). Short names for the rules: */
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

static inline vmcheck_u64 sel(const struct vmcheck_state *s, int r) { return s->v[vmcheck_seg[r].sel]; }
static inline vmcheck_u64 base(const struct vmcheck_state *s, int r) { return s->v[vmcheck_seg[r].base]; }
static inline vmcheck_u64 limit(const struct vmcheck_state *s, int r) { return s->v[vmcheck_seg[r].limit]; }
static inline vmcheck_u64 ar(const struct vmcheck_state *s, int r) { return s->v[vmcheck_seg[r].ar]; }
static inline int usable(const struct vmcheck_state *s, int r) { return !(ar(s, r) & AR_UNUSABLE); }

/* A rule defined with VMCHECK_RULE but missing from its file's list would
 * never run: make that "defined but not used" an error. Level 1 looks only
 * at the file being compiled, not at the headers above. */
#pragma GCC diagnostic error "-Wunused-const-variable=1"

#endif /* VMCHECK_RULES_H */
