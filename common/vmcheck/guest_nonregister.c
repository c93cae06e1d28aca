/*
 * guest_nonregister.c - the VM-entry checks on the guest's non-register
 * state (SDM vol. 3C 26.3.1.5): activity state, interruptibility state,
 * pending debug exceptions and the VMCS link pointer. A broken rule here
 * makes VMLAUNCH end in a VM exit with exit reason 33 | bit 31 ("VM-entry
 * failure due to invalid guest state"); for the VMCS link pointer the exit
 * qualification is 4 (SDM 26.7).
 *
 * Runs in: 64-bit ring 0, VMX root operation, as part of the checker
 * (vmcheck.h). The rules look at the snapshot (rules.h); the VMCS link
 * pointer rule also reads the first 4 bytes of the region it points to.
 *
 * Read it with the SDM open at 26.3.1.5: the rules follow its order, each
 * rule (id, section, message) right above its check.
 */
#include "rules.h"

/* ------------------------------------------------------------------------ */
/* 26.3.1.5 Guest non-register state                                         */
/* ------------------------------------------------------------------------ */

/* Activity states (SDM 24.4.2, vmx_values.def ACTIVITY) and interruptibility
 * bits (table "Format of Interruptibility State", vmx_layouts.def
 * INTERRUPTIBILITY). */
#define BLOCK_STI               VMX_BITS_MASK(VMX_INTERRUPTIBILITY_BLOCKING_BY_STI)
#define BLOCK_MOV_SS            VMX_BITS_MASK(VMX_INTERRUPTIBILITY_BLOCKING_BY_MOV_SS)
#define BLOCK_SMI               VMX_BITS_MASK(VMX_INTERRUPTIBILITY_BLOCKING_BY_SMI)

VMCHECK_RULE(GUEST_ACTIVITY_STATE, "26.3.1.5", GUEST, guest_activity,
	     "the guest activity state must be 0-3 and supported (IA32_VMX_MISC bits 8:6)");
static int guest_activity(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 a = V(GUEST_ACTIVITY_STATE);
	/* 0 is always allowed; 1..3 if IA32_VMX_MISC says so (bits 8:6). */
	int ok = a == VMX_ACTIVITY_ACTIVE || (a == VMX_ACTIVITY_HLT && MISC(ACTIVITY_HLT)) ||
		 (a == VMX_ACTIVITY_SHUTDOWN && MISC(ACTIVITY_SHUTDOWN)) ||
		 (a == VMX_ACTIVITY_WAIT_FOR_SIPI && MISC(ACTIVITY_WAIT_FOR_SIPI));
	return !ok && broken(f, IX_GUEST_ACTIVITY_STATE, a);
}

VMCHECK_RULE(GUEST_ACTIVITY_BLOCKING, "26.3.1.5", GUEST, guest_activity_blocking,
	     "blocking by STI or MOV SS needs the active activity state (0)");
static int guest_activity_blocking(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* Blocking by STI or MOV SS only makes sense for an active guest. */
	return V(GUEST_ACTIVITY_STATE) != VMX_ACTIVITY_ACTIVE &&
	       (V(GUEST_INTERRUPTIBILITY_STATE) & (BLOCK_STI | BLOCK_MOV_SS)) &&
	       broken(f, IX_GUEST_ACTIVITY_STATE, V(GUEST_ACTIVITY_STATE));
}

VMCHECK_RULE(GUEST_HLT_SS_DPL, "26.3.1.5", GUEST, guest_hlt_ss_dpl,
	     "the HLT activity state needs guest SS.DPL = 0");
static int guest_hlt_ss_dpl(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return V(GUEST_ACTIVITY_STATE) == VMX_ACTIVITY_HLT && AR_DPL(ar(s, SEG_SS)) != 0 &&
	       broken(f, IX_GUEST_SS_ACCESS_RIGHTS, ar(s, SEG_SS));
}

VMCHECK_RULE(GUEST_INTERRUPTIBILITY_RESERVED, "26.3.1.5", GUEST, guest_intr_reserved,
	     "guest interruptibility-state bits 31:4 must be 0");
static int guest_intr_reserved(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* Bits 31:4 (bit 4, enclave interruption, needs SGX, which no Bochs
	 * model of the kit has). */
	return (V(GUEST_INTERRUPTIBILITY_STATE) & (VMX_BITS_MASK(VMX_INTERRUPTIBILITY_ENCLAVE_INTERRUPTION) |
						   VMX_BITS_MASK(VMX_INTERRUPTIBILITY_RESERVED_31_5))) &&
	       broken(f, IX_GUEST_INTERRUPTIBILITY_STATE, V(GUEST_INTERRUPTIBILITY_STATE));
}

VMCHECK_RULE(GUEST_INTERRUPTIBILITY_STI_MOV_SS, "26.3.1.5", GUEST, guest_intr_sti_movss,
	     "blocking by STI and blocking by MOV SS must not both be 1");
static int guest_intr_sti_movss(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 i = V(GUEST_INTERRUPTIBILITY_STATE);
	return (i & BLOCK_STI) && (i & BLOCK_MOV_SS) && broken(f, IX_GUEST_INTERRUPTIBILITY_STATE, i);
}

VMCHECK_RULE(GUEST_INTERRUPTIBILITY_STI_IF, "26.3.1.5", GUEST, guest_intr_sti_if,
	     "blocking by STI needs guest RFLAGS.IF = 1");
static int guest_intr_sti_if(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 i = V(GUEST_INTERRUPTIBILITY_STATE);
	return (i & BLOCK_STI) && !(V(GUEST_RFLAGS) & CPU_RFLAGS_IF) &&
	       broken(f, IX_GUEST_INTERRUPTIBILITY_STATE, i);
}

VMCHECK_RULE(GUEST_INTERRUPTIBILITY_SMI, "26.3.1.5", GUEST, guest_intr_smi,
	     "blocking by SMI must be 0 outside SMM");
static int guest_intr_smi(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 i = V(GUEST_INTERRUPTIBILITY_STATE);
	return (i & BLOCK_SMI) && broken(f, IX_GUEST_INTERRUPTIBILITY_STATE, i);   /* not in SMM */
}

VMCHECK_RULE(GUEST_INTERRUPTIBILITY_INJECTION, "26.3.1.5", GUEST, guest_intr_injection,
	     "injecting an external interrupt needs no STI/MOV SS blocking; an NMI no MOV SS blocking");
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

VMCHECK_RULE(GUEST_PENDING_DBG_RESERVED, "26.3.1.5", GUEST, guest_pending_dbg,
	     "guest pending debug exceptions bits 11:4, 13, 15 and 63:16 must be 0");
static int guest_pending_dbg(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* Bits 11:4, 13, 15 and 63:16 (bit 16 is RTM, which the kit's models lack). */
	vmcheck_u64 p = V(GUEST_PENDING_DEBUG_EXCEPTIONS);
	return (p & (VMX_BITS_MASK(VMX_PENDING_DBG_RESERVED_11_4) | VMX_BITS_MASK(VMX_PENDING_DBG_RESERVED_13) |
		     VMX_BITS_MASK(VMX_PENDING_DBG_RESERVED_15) | VMX_BITS_MASK(VMX_PENDING_DBG_RTM) |
		     VMX_BITS_MASK(VMX_PENDING_DBG_RESERVED_63_17))) &&
	       broken(f, IX_GUEST_PENDING_DEBUG_EXCEPTIONS, p);
}

/* The one guest-state rule whose failure exit has a qualification other
 * than 0: VMX_QUAL_ENTRY_FAILURE_VMCS_LINK_POINTER (SDM 26.7, 27.2.1). */
VMCHECK_RULE_QUALIFIED(GUEST_VMCS_LINK_POINTER, "26.3.1.5", GUEST,
		       VMX_QUAL_ENTRY_FAILURE_VMCS_LINK_POINTER, guest_link_pointer,
		       "the VMCS link pointer must be FFFFFFFF_FFFFFFFFH, or a 4-KByte aligned, in-width address of a VMCS-revision region other than the current VMCS");
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

/* The rules of 26.3.1.5, in the SDM's order: the order they run and print. */
static const struct vmcheck_rule *const guest_nonregister_rules[] = {
	/* 26.3.1.5 */
	&rule_GUEST_ACTIVITY_STATE,
	&rule_GUEST_ACTIVITY_BLOCKING,
	&rule_GUEST_HLT_SS_DPL,
	&rule_GUEST_INTERRUPTIBILITY_RESERVED,
	&rule_GUEST_INTERRUPTIBILITY_STI_MOV_SS,
	&rule_GUEST_INTERRUPTIBILITY_STI_IF,
	&rule_GUEST_INTERRUPTIBILITY_SMI,
	&rule_GUEST_INTERRUPTIBILITY_INJECTION,
	&rule_GUEST_PENDING_DBG_RESERVED,
	&rule_GUEST_VMCS_LINK_POINTER,
};
const struct vmcheck_rule_list vmcheck_guest_nonregister = { guest_nonregister_rules, VMX_ARRAY_SIZE(guest_nonregister_rules) };
