/*
 * guest_segments.c - the VM-entry checks on the guest's segment registers
 * (SDM vol. 3C 26.3.1.2: selectors, bases, limits and access rights of ES,
 * CS, SS, DS, FS, GS, TR and LDTR, with the virtual-8086 rules of lab04 and
 * the unrestricted-guest exemptions of lab05) and descriptor-table
 * registers (26.3.1.3: GDTR, IDTR). A broken rule here makes VMLAUNCH end
 * in a VM exit with exit reason 33 | bit 31 ("VM-entry failure due to
 * invalid guest state").
 *
 * Runs in: 64-bit ring 0, VMX root operation, as part of the checker
 * (vmcheck.h). The rules look only at the snapshot (rules.h: the segment
 * accessors sel(), base(), limit(), ar() and the access-rights bits).
 *
 * Read it with the SDM open at 26.3.1.2: the rules follow its order, each
 * rule (id, section, message) right above its check.
 */
#include "rules.h"

/* The segments that the access-rights rules of 26.3.1.2 apply to: CS always,
 * SS/DS/ES/FS/GS when usable, and none of them for a virtual-8086 guest
 * (which has its own rules). */
static int data_rules_apply(const struct vmcheck_state *s, int r)
{
	if (v8086_guest(s))
		return 0;
	return r == SEG_CS || usable(s, r);
}

/* ------------------------------------------------------------------------ */
/* 26.3.1.2 Guest segment registers                                          */
/* ------------------------------------------------------------------------ */

VMCHECK_RULE(GUEST_TR_TI, "26.3.1.2", GUEST, guest_tr_ti,
	     "the guest TR selector must have TI (bit 2) = 0");
static int guest_tr_ti(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (sel(s, SEG_TR) & SEL_TI) && broken(f, IX_GUEST_TR_SELECTOR, sel(s, SEG_TR));
}

VMCHECK_RULE(GUEST_LDTR_TI, "26.3.1.2", GUEST, guest_ldtr_ti,
	     "a usable guest LDTR selector must have TI (bit 2) = 0");
static int guest_ldtr_ti(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return usable(s, SEG_LDTR) && (sel(s, SEG_LDTR) & SEL_TI) && broken(f, IX_GUEST_LDTR_SELECTOR, sel(s, SEG_LDTR));
}

VMCHECK_RULE(GUEST_SS_CS_RPL, "26.3.1.2", GUEST, guest_ss_cs_rpl,
	     "guest SS.RPL must equal CS.RPL (not virtual-8086, no \"unrestricted guest\")");
static int guest_ss_cs_rpl(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !v8086_guest(s) && !unrestricted(s) && SEL_RPL(sel(s, SEG_SS)) != SEL_RPL(sel(s, SEG_CS)) &&
	       broken(f, IX_GUEST_SS_SELECTOR, sel(s, SEG_SS));
}

/* lab04 rules: a virtual-8086 guest's six segments look like real mode. */
VMCHECK_RULE(GUEST_V86_BASE, "26.3.1.2", GUEST, v86_base,
	     "virtual-8086 guest (RFLAGS.VM = 1): each segment base must be its selector << 4");
static int v86_base(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!v8086_guest(s))
		return 0;
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (base(s, r) != sel(s, r) << VMX_V86_SEGMENT_BASE_SHIFT)
			return broken(f, vmcheck_seg[r].base, base(s, r));
	return 0;
}

VMCHECK_RULE(GUEST_V86_LIMIT, "26.3.1.2", GUEST, v86_limit,
	     "virtual-8086 guest: each segment limit must be 0000FFFFH");
static int v86_limit(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!v8086_guest(s))
		return 0;
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (limit(s, r) != VMX_V86_SEGMENT_LIMIT)
			return broken(f, vmcheck_seg[r].limit, limit(s, r));
	return 0;
}

VMCHECK_RULE(GUEST_V86_AR, "26.3.1.2", GUEST, v86_ar,
	     "virtual-8086 guest: each segment's access rights must be 000000F3H");
static int v86_ar(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* 0xF3: present, DPL 3, code/data, read/write accessed data. */
	if (!v8086_guest(s))
		return 0;
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (ar(s, r) != VMX_V86_SEGMENT_ACCESS_RIGHTS)
			return broken(f, vmcheck_seg[r].ar, ar(s, r));
	return 0;
}

VMCHECK_RULE(GUEST_BASE_CANONICAL, "26.3.1.2", GUEST, guest_base_canonical,
	     "guest TR, FS, GS bases (and a usable LDTR base) must be canonical");
static int guest_base_canonical(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	static const int regs[] = { SEG_TR, SEG_FS, SEG_GS, SEG_LDTR };
	for (unsigned int i = 0; i < sizeof regs / sizeof regs[0]; i++) {
		int r = regs[i];
		if (r == SEG_LDTR && !usable(s, r))
			continue;
		if (!canonical(s, base(s, r)))
			return broken(f, vmcheck_seg[r].base, base(s, r));
	}
	return 0;
}

VMCHECK_RULE(GUEST_BASE_UPPER, "26.3.1.2", GUEST, guest_base_upper,
	     "bits 63:32 of the guest CS base, and of usable SS, DS, ES bases, must be 0");
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
			return broken(f, vmcheck_seg[r].base, base(s, r));
	}
	return 0;
}

VMCHECK_RULE(GUEST_CS_TYPE, "26.3.1.2", GUEST, guest_cs_type,
	     "guest CS type must be 9, 11, 13 or 15 (accessed code; 3 with \"unrestricted guest\")");
static int guest_cs_type(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	unsigned int t = AR_TYPE(ar(s, SEG_CS));
	int ok = t == VMX_SEG_TYPE_CODE_X_ACCESSED || t == VMX_SEG_TYPE_CODE_XR_ACCESSED ||
		 t == VMX_SEG_TYPE_CODE_XC_ACCESSED || t == VMX_SEG_TYPE_CODE_XRC_ACCESSED ||
		 (unrestricted(s) && t == VMX_SEG_TYPE_DATA_RW_ACCESSED);
	return !v8086_guest(s) && !ok && broken(f, IX_GUEST_CS_ACCESS_RIGHTS, ar(s, SEG_CS));
}

VMCHECK_RULE(GUEST_SS_TYPE, "26.3.1.2", GUEST, guest_ss_type,
	     "a usable guest SS must be type 3 or 7 (read/write accessed data)");
static int guest_ss_type(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	unsigned int t = AR_TYPE(ar(s, SEG_SS));
	return data_rules_apply(s, SEG_SS) && t != VMX_SEG_TYPE_DATA_RW_ACCESSED && t != VMX_SEG_TYPE_DATA_RW_EXPAND_DOWN_ACCESSED &&
	       broken(f, IX_GUEST_SS_ACCESS_RIGHTS, ar(s, SEG_SS));
}

VMCHECK_RULE(GUEST_DATA_TYPE, "26.3.1.2", GUEST, guest_data_type,
	     "usable guest DS, ES, FS, GS must be accessed, and readable if code");
static int guest_data_type(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	static const int regs[] = { SEG_DS, SEG_ES, SEG_FS, SEG_GS };
	for (unsigned int i = 0; i < sizeof regs / sizeof regs[0]; i++) {
		int r = regs[i];
		unsigned int t = AR_TYPE(ar(s, r));
		if (!data_rules_apply(s, r))
			continue;
		if (!(t & TYPE_ACCESSED) || ((t & TYPE_CODE) && !(t & TYPE_READABLE)))
			return broken(f, vmcheck_seg[r].ar, ar(s, r));
	}
	return 0;
}

VMCHECK_RULE(GUEST_SEG_S, "26.3.1.2", GUEST, guest_seg_s,
	     "guest CS and usable SS, DS, ES, FS, GS must have S (bit 4) = 1 (code or data)");
static int guest_seg_s(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (data_rules_apply(s, r) && !(ar(s, r) & AR_S))
			return broken(f, vmcheck_seg[r].ar, ar(s, r));
	return 0;
}

VMCHECK_RULE(GUEST_CS_DPL, "26.3.1.2", GUEST, guest_cs_dpl,
	     "guest CS.DPL must equal SS.DPL (non-conforming), be <= SS.DPL (conforming), or be 0 (type 3)");
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

VMCHECK_RULE(GUEST_SS_DPL, "26.3.1.2", GUEST, guest_ss_dpl,
	     "guest SS.DPL must equal SS.RPL (no \"unrestricted guest\"), and be 0 when CS is type 3 or CR0.PE = 0");
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

VMCHECK_RULE(GUEST_DATA_DPL, "26.3.1.2", GUEST, guest_data_dpl,
	     "usable guest DS, ES, FS, GS (types 0-11) need DPL >= RPL (no \"unrestricted guest\")");
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
			return broken(f, vmcheck_seg[r].ar, ar(s, r));
	}
	return 0;
}

VMCHECK_RULE(GUEST_SEG_PRESENT, "26.3.1.2", GUEST, guest_seg_present,
	     "guest CS and usable SS, DS, ES, FS, GS must be present (P = 1)");
static int guest_seg_present(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (data_rules_apply(s, r) && !(ar(s, r) & AR_P))
			return broken(f, vmcheck_seg[r].ar, ar(s, r));
	return 0;
}

VMCHECK_RULE(GUEST_SEG_AR_RESERVED, "26.3.1.2", GUEST, guest_seg_reserved,
	     "guest CS and usable SS, DS, ES, FS, GS access rights bits 11:8 and 31:17 must be 0");
static int guest_seg_reserved(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (data_rules_apply(s, r) && (ar(s, r) & AR_RESERVED))
			return broken(f, vmcheck_seg[r].ar, ar(s, r));
	return 0;
}

VMCHECK_RULE(GUEST_CS_L_DB, "26.3.1.2", GUEST, guest_cs_l_db,
	     "with \"IA-32e mode guest\" and CS.L = 1, CS.D/B must be 0");
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

VMCHECK_RULE(GUEST_SEG_LIMIT_GRANULARITY, "26.3.1.2", GUEST, guest_seg_granularity,
	     "guest CS and usable SS, DS, ES, FS, GS: G must be 0 if limit bits 11:0 are not all 1, and 1 if limit bits 31:20 are not all 0");
static int guest_seg_granularity(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	for (int r = SEG_ES; r <= SEG_GS; r++)
		if (data_rules_apply(s, r) && granularity_bad(limit(s, r), ar(s, r)))
			return broken(f, vmcheck_seg[r].ar, ar(s, r));
	return 0;
}

VMCHECK_RULE(GUEST_TR_TYPE, "26.3.1.2", GUEST, guest_tr_type,
	     "guest TR type must be 11 (busy 32/64-bit TSS), or 3 (busy 16-bit TSS) outside IA-32e mode");
static int guest_tr_type(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	unsigned int t = AR_TYPE(ar(s, SEG_TR));
	int ok = t == VMX_SYSTEM_TYPE_TSS32_BUSY || (t == VMX_SYSTEM_TYPE_TSS16_BUSY && !ia32e_guest(s));
	return !ok && broken(f, IX_GUEST_TR_ACCESS_RIGHTS, ar(s, SEG_TR));
}

VMCHECK_RULE(GUEST_TR_RIGHTS, "26.3.1.2", GUEST, guest_tr_rights,
	     "guest TR must be usable, S = 0, P = 1, reserved bits 0, G consistent with its limit");
static int guest_tr_rights(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 a = ar(s, SEG_TR);
	/* S = 0, P = 1, reserved bits 0, usable, G consistent with the limit. */
	return ((a & AR_S) || !(a & AR_P) || (a & AR_RESERVED) || (a & AR_UNUSABLE) ||
		granularity_bad(limit(s, SEG_TR), a)) && broken(f, IX_GUEST_TR_ACCESS_RIGHTS, a);
}

VMCHECK_RULE(GUEST_LDTR_RIGHTS, "26.3.1.2", GUEST, guest_ldtr_rights,
	     "a usable guest LDTR must be type 2, S = 0, P = 1, reserved bits 0, G consistent with its limit");
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

VMCHECK_RULE(GUEST_DTR_BASE_CANONICAL, "26.3.1.3", GUEST, guest_dtr_base,
	     "guest GDTR and IDTR bases must be canonical");
static int guest_dtr_base(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!canonical(s, V(GUEST_GDTR_BASE)))
		return broken(f, IX_GUEST_GDTR_BASE, V(GUEST_GDTR_BASE));
	if (!canonical(s, V(GUEST_IDTR_BASE)))
		return broken(f, IX_GUEST_IDTR_BASE, V(GUEST_IDTR_BASE));
	return 0;
}

VMCHECK_RULE(GUEST_DTR_LIMIT, "26.3.1.3", GUEST, guest_dtr_limit,
	     "bits 31:16 of the guest GDTR and IDTR limits must be 0");
static int guest_dtr_limit(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (V(GUEST_GDTR_LIMIT) & BITS(31, 16))
		return broken(f, IX_GUEST_GDTR_LIMIT, V(GUEST_GDTR_LIMIT));
	if (V(GUEST_IDTR_LIMIT) & BITS(31, 16))
		return broken(f, IX_GUEST_IDTR_LIMIT, V(GUEST_IDTR_LIMIT));
	return 0;
}

/* The rules of 26.3.1.2 and 26.3.1.3, in the SDM's order: the order they run and print. */
static const struct vmcheck_rule *const guest_segments_rules[] = {
	/* 26.3.1.2 */
	&rule_GUEST_TR_TI,
	&rule_GUEST_LDTR_TI,
	&rule_GUEST_SS_CS_RPL,
	&rule_GUEST_V86_BASE,
	&rule_GUEST_V86_LIMIT,
	&rule_GUEST_V86_AR,
	&rule_GUEST_BASE_CANONICAL,
	&rule_GUEST_BASE_UPPER,
	&rule_GUEST_CS_TYPE,
	&rule_GUEST_SS_TYPE,
	&rule_GUEST_DATA_TYPE,
	&rule_GUEST_SEG_S,
	&rule_GUEST_CS_DPL,
	&rule_GUEST_SS_DPL,
	&rule_GUEST_DATA_DPL,
	&rule_GUEST_SEG_PRESENT,
	&rule_GUEST_SEG_AR_RESERVED,
	&rule_GUEST_CS_L_DB,
	&rule_GUEST_SEG_LIMIT_GRANULARITY,
	&rule_GUEST_TR_TYPE,
	&rule_GUEST_TR_RIGHTS,
	&rule_GUEST_LDTR_RIGHTS,
	/* 26.3.1.3 */
	&rule_GUEST_DTR_BASE_CANONICAL,
	&rule_GUEST_DTR_LIMIT,
};
const struct vmcheck_rule_list vmcheck_guest_segments = { guest_segments_rules, VMX_ARRAY_SIZE(guest_segments_rules) };
