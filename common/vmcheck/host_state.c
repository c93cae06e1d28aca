/*
 * host_state.c - the VM-entry checks on the host-state area (SDM vol. 3C
 * 26.2.2 host control registers and MSRs, 26.2.3 host segment and
 * descriptor-table registers, 26.2.4 checks related to address-space
 * size). The CPU checks these after the controls; a broken rule here makes
 * VMLAUNCH fail with VMfailValid, VM-instruction error 8.
 *
 * Runs in: 64-bit ring 0, VMX root operation, as part of the checker
 * (vmcheck.h). The rules look only at the snapshot (rules.h).
 *
 * Read it with the SDM open at 26.2.2: the rules follow its order, each
 * rule (id, section, message) right above its check.
 */
#include "rules.h"

/* ------------------------------------------------------------------------ */
/* 26.2.2 Host control registers and MSRs                                    */
/* ------------------------------------------------------------------------ */

VMCHECK_RULE(HOST_CR0_FIXED_BITS, "26.2.2", HOST, host_cr0,
	     "host CR0 must have every IA32_VMX_CR0_FIXED0 bit set and no bit outside IA32_VMX_CR0_FIXED1");
static int host_cr0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return fixed_bad(V(HOST_CR0), s->cr0_fixed0, s->cr0_fixed1) && broken(f, IX_HOST_CR0, V(HOST_CR0));
}

VMCHECK_RULE(HOST_CR4_FIXED_BITS, "26.2.2", HOST, host_cr4,
	     "host CR4 must have every IA32_VMX_CR4_FIXED0 bit set and no bit outside IA32_VMX_CR4_FIXED1");
static int host_cr4(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return fixed_bad(V(HOST_CR4), s->cr4_fixed0, s->cr4_fixed1) && broken(f, IX_HOST_CR4, V(HOST_CR4));
}

VMCHECK_RULE(HOST_CR3_PHYS_WIDTH, "26.2.2", HOST, host_cr3,
	     "host CR3 must not set bits beyond the physical-address width");
static int host_cr3(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !phys_ok(s, V(HOST_CR3)) && broken(f, IX_HOST_CR3, V(HOST_CR3));
}

VMCHECK_RULE(HOST_SYSENTER_CANONICAL, "26.2.2", HOST, host_sysenter,
	     "host IA32_SYSENTER_ESP and IA32_SYSENTER_EIP must be canonical");
static int host_sysenter(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!canonical(s, V(HOST_IA32_SYSENTER_ESP)))
		return broken(f, IX_HOST_IA32_SYSENTER_ESP, V(HOST_IA32_SYSENTER_ESP));
	if (!canonical(s, V(HOST_IA32_SYSENTER_EIP)))
		return broken(f, IX_HOST_IA32_SYSENTER_EIP, V(HOST_IA32_SYSENTER_EIP));
	return 0;
}

VMCHECK_RULE(HOST_PAT, "26.2.2", HOST, host_pat,
	     "with \"load IA32_PAT\", each byte of the host IA32_PAT must be a valid memory type (0, 1, 4-7)");
static int host_pat(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (exitc(s) & VMX_EXIT_LOAD_IA32_PAT) && pat_bad(V(HOST_IA32_PAT)) &&
	       broken(f, IX_HOST_IA32_PAT, V(HOST_IA32_PAT));
}

VMCHECK_RULE(HOST_EFER, "26.2.2", HOST, host_efer,
	     "with \"load IA32_EFER\", host EFER reserved bits must be 0 and LMA, LME must equal \"host address-space size\"");
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

VMCHECK_RULE(HOST_SELECTOR_RPL_TI, "26.2.3", HOST, host_selectors,
	     "host ES, CS, SS, DS, FS, GS and TR selectors must have RPL (bits 1:0) and TI (bit 2) = 0");
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

VMCHECK_RULE(HOST_CS_NULL, "26.2.3", HOST, host_cs_null,
	     "the host CS selector must not be 0000H");
static int host_cs_null(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return V(HOST_CS_SELECTOR) == 0 && broken(f, IX_HOST_CS_SELECTOR, 0);
}

VMCHECK_RULE(HOST_TR_NULL, "26.2.3", HOST, host_tr_null,
	     "the host TR selector must not be 0000H");
static int host_tr_null(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return V(HOST_TR_SELECTOR) == 0 && broken(f, IX_HOST_TR_SELECTOR, 0);
}

VMCHECK_RULE(HOST_SS_NULL, "26.2.3", HOST, host_ss_null,
	     "the host SS selector must not be 0000H when \"host address-space size\" is 0");
static int host_ss_null(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !host64(s) && V(HOST_SS_SELECTOR) == 0 && broken(f, IX_HOST_SS_SELECTOR, 0);
}

VMCHECK_RULE(HOST_BASE_CANONICAL, "26.2.3", HOST, host_bases,
	     "host FS, GS, GDTR, IDTR and TR bases must be canonical");
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

VMCHECK_RULE(HOST_ADDRESS_SPACE_SIZE, "26.2.4", HOST, host_address_space,
	     "in IA-32e mode, the \"host address-space size\" VM-exit control must be 1");
static int host_address_space(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* The checker is 64-bit code, so the processor is in IA-32e mode, and
	 * then "host address-space size" must be 1. */
	return !host64(s) && broken(f, IX_PRIMARY_VM_EXIT_CONTROLS, exitc(s));
}

VMCHECK_RULE(HOST_64_CR4_PAE, "26.2.4", HOST, host64_cr4_pae,
	     "with \"host address-space size\" = 1, host CR4.PAE must be 1");
static int host64_cr4_pae(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return host64(s) && !(V(HOST_CR4) & CPU_CR4_PAE) && broken(f, IX_HOST_CR4, V(HOST_CR4));
}

VMCHECK_RULE(HOST_64_RIP_CANONICAL, "26.2.4", HOST, host64_rip,
	     "with \"host address-space size\" = 1, host RIP must be canonical");
static int host64_rip(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return host64(s) && !canonical(s, V(HOST_RIP)) && broken(f, IX_HOST_RIP, V(HOST_RIP));
}

VMCHECK_RULE(HOST_32_PCIDE_RIP, "26.2.4", HOST, host32_rules,
	     "with \"host address-space size\" = 0, host CR4.PCIDE and host RIP bits 63:32 must be 0");
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

/* The rules of 26.2.2-26.2.4, in the SDM's order: the order they run and print. */
static const struct vmcheck_rule *const host_state_rules[] = {
	/* 26.2.2 */
	&rule_HOST_CR0_FIXED_BITS,
	&rule_HOST_CR4_FIXED_BITS,
	&rule_HOST_CR3_PHYS_WIDTH,
	&rule_HOST_SYSENTER_CANONICAL,
	&rule_HOST_PAT,
	&rule_HOST_EFER,
	/* 26.2.3 */
	&rule_HOST_SELECTOR_RPL_TI,
	&rule_HOST_CS_NULL,
	&rule_HOST_TR_NULL,
	&rule_HOST_SS_NULL,
	&rule_HOST_BASE_CANONICAL,
	/* 26.2.4 */
	&rule_HOST_ADDRESS_SPACE_SIZE,
	&rule_HOST_64_CR4_PAE,
	&rule_HOST_64_RIP_CANONICAL,
	&rule_HOST_32_PCIDE_RIP,
};
const struct vmcheck_rule_list vmcheck_host_state = { host_state_rules, VMX_ARRAY_SIZE(host_state_rules) };
