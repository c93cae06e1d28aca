/*
 * guest_registers.c - the VM-entry checks on the guest's registers other
 * than the segment registers: SDM vol. 3C 26.3.1.1 (control registers,
 * debug registers and MSRs) and 26.3.1.4 (RIP and RFLAGS). The segment and
 * descriptor-table registers, which come between them in the SDM, are in
 * guest_segments.c. A broken rule here makes VMLAUNCH end in a VM exit
 * with exit reason 33 | bit 31 ("VM-entry failure due to invalid guest
 * state").
 *
 * Runs in: 64-bit ring 0, VMX root operation, as part of the checker
 * (vmcheck.h). The rules look only at the snapshot (rules.h).
 *
 * Read it with the SDM open at 26.3.1.1: the rules follow its order, each
 * rule (id, section, message) right above its check.
 */
#include "rules.h"

/* ------------------------------------------------------------------------ */
/* 26.3.1.1 Guest control registers, debug registers and MSRs                */
/* ------------------------------------------------------------------------ */

VMCHECK_RULE(GUEST_CR0_FIXED_BITS, "26.3.1.1", GUEST, guest_cr0,
	     "guest CR0 must have every IA32_VMX_CR0_FIXED0 bit set (PE, PG exempt with \"unrestricted guest\") and no bit outside IA32_VMX_CR0_FIXED1");
static int guest_cr0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 fixed0 = s->cr0_fixed0;

	/* With "unrestricted guest", PE and PG may be 0 (SDM 26.3.1.1). */
	if (unrestricted(s))
		fixed0 &= ~(CPU_CR0_PE | CPU_CR0_PG);
	return fixed_bad(V(GUEST_CR0), fixed0, s->cr0_fixed1) && broken(f, IX_GUEST_CR0, V(GUEST_CR0));
}

VMCHECK_RULE(GUEST_CR0_PG_WITHOUT_PE, "26.3.1.1", GUEST, guest_cr0_pg_pe,
	     "guest CR0.PG = 1 needs CR0.PE = 1");
static int guest_cr0_pg_pe(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (V(GUEST_CR0) & CPU_CR0_PG) && !(V(GUEST_CR0) & CPU_CR0_PE) &&
	       broken(f, IX_GUEST_CR0, V(GUEST_CR0));
}

VMCHECK_RULE(GUEST_CR4_FIXED_BITS, "26.3.1.1", GUEST, guest_cr4,
	     "guest CR4 must have every IA32_VMX_CR4_FIXED0 bit set and no bit outside IA32_VMX_CR4_FIXED1");
static int guest_cr4(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return fixed_bad(V(GUEST_CR4), s->cr4_fixed0, s->cr4_fixed1) && broken(f, IX_GUEST_CR4, V(GUEST_CR4));
}

VMCHECK_RULE(GUEST_CR3_PHYS_WIDTH, "26.3.1.1", GUEST, guest_cr3,
	     "guest CR3 must not set bits beyond the physical-address width");
static int guest_cr3(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !phys_ok(s, V(GUEST_CR3)) && broken(f, IX_GUEST_CR3, V(GUEST_CR3));
}

VMCHECK_RULE(GUEST_DEBUGCTL_RESERVED, "26.3.1.1", GUEST, guest_debugctl,
	     "with \"load debug controls\", guest IA32_DEBUGCTL reserved bits (5:2, 63:16) must be 0");
static int guest_debugctl(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* IA32_DEBUGCTL bits 5:2 and 63:16 are reserved (SDM vol. 3B 17.4.1). */
	return (entry(s) & VMX_ENTRY_LOAD_DEBUG_CONTROLS) &&
	       (V(GUEST_IA32_DEBUGCTL) & (VMX_BITS_MASK(VMX_DEBUGCTL_RESERVED_5_2) |
					  VMX_BITS_MASK(VMX_DEBUGCTL_RESERVED_63_16))) &&
	       broken(f, IX_GUEST_IA32_DEBUGCTL, V(GUEST_IA32_DEBUGCTL));
}

VMCHECK_RULE(GUEST_IA32E_PG_PAE, "26.3.1.1", GUEST, guest_ia32e_cr,
	     "with \"IA-32e mode guest\", guest CR0.PG and CR4.PAE must be 1");
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

VMCHECK_RULE(GUEST_PCIDE_OUTSIDE_IA32E, "26.3.1.1", GUEST, guest_pcide,
	     "without \"IA-32e mode guest\", guest CR4.PCIDE must be 0");
static int guest_pcide(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !ia32e_guest(s) && (V(GUEST_CR4) & CPU_CR4_PCIDE) && broken(f, IX_GUEST_CR4, V(GUEST_CR4));
}

VMCHECK_RULE(GUEST_DR7_UPPER, "26.3.1.1", GUEST, guest_dr7,
	     "with \"load debug controls\", bits 63:32 of guest DR7 must be 0");
static int guest_dr7(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (entry(s) & VMX_ENTRY_LOAD_DEBUG_CONTROLS) && (V(GUEST_DR7) >> 32) &&
	       broken(f, IX_GUEST_DR7, V(GUEST_DR7));
}

VMCHECK_RULE(GUEST_SYSENTER_CANONICAL, "26.3.1.1", GUEST, guest_sysenter,
	     "guest IA32_SYSENTER_ESP and IA32_SYSENTER_EIP must be canonical");
static int guest_sysenter(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!canonical(s, V(GUEST_IA32_SYSENTER_ESP)))
		return broken(f, IX_GUEST_IA32_SYSENTER_ESP, V(GUEST_IA32_SYSENTER_ESP));
	if (!canonical(s, V(GUEST_IA32_SYSENTER_EIP)))
		return broken(f, IX_GUEST_IA32_SYSENTER_EIP, V(GUEST_IA32_SYSENTER_EIP));
	return 0;
}

VMCHECK_RULE(GUEST_PAT, "26.3.1.1", GUEST, guest_pat,
	     "with \"load IA32_PAT\", each byte of the guest IA32_PAT must be a valid memory type (0, 1, 4-7)");
static int guest_pat(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (entry(s) & VMX_ENTRY_LOAD_IA32_PAT) && pat_bad(V(GUEST_IA32_PAT)) &&
	       broken(f, IX_GUEST_IA32_PAT, V(GUEST_IA32_PAT));
}

VMCHECK_RULE(GUEST_EFER, "26.3.1.1", GUEST, guest_efer,
	     "with \"load IA32_EFER\", guest EFER reserved bits must be 0, LMA must equal \"IA-32e mode guest\", and LME must equal LMA when CR0.PG = 1");
static int guest_efer(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 e = V(GUEST_IA32_EFER);
	int lma = (e & CPU_EFER_LMA) != 0, lme = (e & CPU_EFER_LME) != 0;

	if (!(entry(s) & VMX_ENTRY_LOAD_IA32_EFER))
		return 0;
	return ((e & efer_reserved()) || lma != ia32e_guest(s) ||
		((V(GUEST_CR0) & CPU_CR0_PG) && lma != lme)) && broken(f, IX_GUEST_IA32_EFER, e);
}

/* The rules of 26.3.1.1, in the SDM's order: the order they run and print. */
static const struct vmcheck_rule *const guest_cr_dr_msrs_rules[] = {
	/* 26.3.1.1 */
	&rule_GUEST_CR0_FIXED_BITS,
	&rule_GUEST_CR0_PG_WITHOUT_PE,
	&rule_GUEST_CR4_FIXED_BITS,
	&rule_GUEST_CR3_PHYS_WIDTH,
	&rule_GUEST_DEBUGCTL_RESERVED,
	&rule_GUEST_IA32E_PG_PAE,
	&rule_GUEST_PCIDE_OUTSIDE_IA32E,
	&rule_GUEST_DR7_UPPER,
	&rule_GUEST_SYSENTER_CANONICAL,
	&rule_GUEST_PAT,
	&rule_GUEST_EFER,
};
const struct vmcheck_rule_list vmcheck_guest_cr_dr_msrs = { guest_cr_dr_msrs_rules, VMX_ARRAY_SIZE(guest_cr_dr_msrs_rules) };

/* ------------------------------------------------------------------------ */
/* 26.3.1.4 Guest RIP and RFLAGS                                             */
/* ------------------------------------------------------------------------ */

VMCHECK_RULE(GUEST_RIP_UPPER, "26.3.1.4", GUEST, guest_rip_upper,
	     "outside 64-bit mode (IA-32e guest with CS.L = 1), bits 63:32 of guest RIP must be 0");
static int guest_rip_upper(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	int code64 = ia32e_guest(s) && (ar(s, SEG_CS) & AR_L);
	return !code64 && (V(GUEST_RIP) >> 32) && broken(f, IX_GUEST_RIP, V(GUEST_RIP));
}

VMCHECK_RULE(GUEST_RIP_HIGH_BITS, "26.3.1.4", GUEST, guest_rip_high_bits,
	     "in 64-bit mode (IA-32e guest with CS.L = 1), bits 63:N of guest RIP must be identical (N = linear-address width)");
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

VMCHECK_RULE(GUEST_RFLAGS_RESERVED, "26.3.1.4", GUEST, guest_rflags_reserved,
	     "guest RFLAGS bits 63:22, 15, 5 and 3 must be 0");
static int guest_rflags_reserved(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (V(GUEST_RFLAGS) & RFLAGS_RESERVED) && broken(f, IX_GUEST_RFLAGS, V(GUEST_RFLAGS));
}

VMCHECK_RULE(GUEST_RFLAGS_BIT1, "26.3.1.4", GUEST, guest_rflags_bit1,
	     "guest RFLAGS bit 1 must be 1");
static int guest_rflags_bit1(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !(V(GUEST_RFLAGS) & RFLAGS_FIXED1) && broken(f, IX_GUEST_RFLAGS, V(GUEST_RFLAGS));
}

VMCHECK_RULE(GUEST_RFLAGS_VM, "26.3.1.4", GUEST, guest_rflags_vm,
	     "guest RFLAGS.VM must be 0 with \"IA-32e mode guest\" or CR0.PE = 0");
static int guest_rflags_vm(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return v8086_guest(s) && (ia32e_guest(s) || !(V(GUEST_CR0) & CPU_CR0_PE)) &&
	       broken(f, IX_GUEST_RFLAGS, V(GUEST_RFLAGS));
}

VMCHECK_RULE(GUEST_RFLAGS_IF_INJECTION, "26.3.1.4", GUEST, guest_rflags_if,
	     "injecting an external interrupt needs guest RFLAGS.IF = 1");
static int guest_rflags_if(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return injecting(s) && INTR_TYPE(intr(s)) == VMX_INTR_TYPE_EXTERNAL_INTERRUPT &&
	       !(V(GUEST_RFLAGS) & CPU_RFLAGS_IF) && broken(f, IX_GUEST_RFLAGS, V(GUEST_RFLAGS));
}

/* The rules of 26.3.1.4, in the SDM's order (vmcheck.c runs them after guest_segments.c's). */
static const struct vmcheck_rule *const guest_rip_rflags_rules[] = {
	/* 26.3.1.4 */
	&rule_GUEST_RIP_UPPER,
	&rule_GUEST_RIP_HIGH_BITS,
	&rule_GUEST_RFLAGS_RESERVED,
	&rule_GUEST_RFLAGS_BIT1,
	&rule_GUEST_RFLAGS_VM,
	&rule_GUEST_RFLAGS_IF_INJECTION,
};
const struct vmcheck_rule_list vmcheck_guest_rip_rflags = { guest_rip_rflags_rules, VMX_ARRAY_SIZE(guest_rip_rflags_rules) };
