/*
 * vmcheck.c - the software VM-entry checker's driver: take a snapshot of
 * the current VMCS, run every rule on it in the order the CPU checks, print
 * and keep what broke, and say what the CPU should do.
 *
 * Runs in: 64-bit ring 0, VMX root operation, with a current VMCS. It only
 * reads: VMREAD of the current VMCS, RDMSR of the VMX capability MSRs, CPUID
 * for the address widths, and (for the VMCS link pointer and the VM-entry
 * MSR-load area) physical memory below 4 GiB, which the runtime maps with
 * VA = PA (rt.h); memory beyond that is not checked.
 *
 * SDM: vol. 3C, classic numbering (chapter 26 "VM Entries"; see vmcheck.h).
 * The rules are in one file per part of the chapter, each read with the SDM
 * open at its section:
 *   controls.c           26.2.1.1 VM-execution, 26.2.1.2 VM-exit, 26.2.1.3 VM-entry control fields
 *   host_state.c         26.2.2 host control registers, MSRs; 26.2.3 host segment,
 *                        descriptor-table registers; 26.2.4 address-space size
 *   guest_registers.c    26.3.1.1 guest control/debug registers, MSRs; 26.3.1.4 guest RIP, RFLAGS
 *   guest_segments.c     26.3.1.2 guest segment registers; 26.3.1.3 descriptor-table registers
 *   guest_nonregister.c  26.3.1.5 guest non-register state
 *   msr_loading.c        26.4 loading MSRs
 *   rules.h              what every rule sees (the snapshot, helpers) and VMCHECK_RULE
 *
 * How it works: vmcheck_current_vmcs() first takes a snapshot (struct
 * vmcheck_state, rules.h: every VMCS field a rule looks at, the capability
 * MSRs, the address widths), then runs every rule on that snapshot. A rule
 * is id, SDM section, message, the CPU's expected reaction and a check
 * function that looks only at the snapshot, all in one place
 * (VMCHECK_RULE, rules.h).
 *
 * Adding rules (lab04's virtual-8086 guest, lab05's EPT/VPID/unrestricted
 * guest): write VMCHECK_RULE and its check function next to their
 * neighbours in the file of their SDM section, and add `&rule_<ID>` to that
 * file's list at its end; if the check needs a field the snapshot lacks,
 * add the field's SDM name to VMCHECK_FIELDS (rules.h).
 *
 * What it does not check (documented, so nobody trusts it for them): the
 * VM-entry checks for SMM and the dual-monitor treatment beyond "not in SMM",
 * the posted-interrupt, APIC-virtualization, PML, VM-function, VMCS-shadowing
 * and sub-page controls, IA32_PERF_GLOBAL_CTRL, BNDCFGS, CET and PKRS fields,
 * the pending-debug-exceptions BS-bit rule, PDPTEs of PAE guests (26.3.1.6),
 * and MSR-load entries beyond their reserved bits (26.4). The kit uses none.
 */
#include "rules.h"

#include "rt.h"                 /* printf, rdmsr, cpuid, strcmp */
#include "rt_vmx.h"             /* vmread, vmptrst */
#include "vmx/errors.h"         /* VM-instruction error table */
#include "vmx/exit_reasons.h"   /* VMX_EXIT_REASON_<NAME> */

/* ------------------------------------------------------------------------ */
/* The rules, in the order the CPU checks them                               */
/* ------------------------------------------------------------------------ */

/* Controls, then host state, then guest state, then MSR loading (SDM 26.1);
 * within each, the SDM's order. This is also the order of the lines a
 * check prints. */
static const struct vmcheck_rule_list *const rule_lists[] = {
	&vmcheck_controls,              /* 26.2.1.1-26.2.1.3  controls.c */
	&vmcheck_host_state,            /* 26.2.2-26.2.4      host_state.c */
	&vmcheck_guest_cr_dr_msrs,      /* 26.3.1.1           guest_registers.c */
	&vmcheck_guest_segments,        /* 26.3.1.2-26.3.1.3  guest_segments.c */
	&vmcheck_guest_rip_rflags,      /* 26.3.1.4           guest_registers.c */
	&vmcheck_guest_nonregister,     /* 26.3.1.5           guest_nonregister.c */
	&vmcheck_msr_loading,           /* 26.4               msr_loading.c */
};

const struct vmcheck_rule *vmcheck_rule(int i)
{
	for (unsigned int l = 0; i >= 0 && l < VMX_ARRAY_SIZE(rule_lists); l++) {
		if (i < rule_lists[l]->count)
			return rule_lists[l]->rules[i];
		i -= rule_lists[l]->count;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The snapshot                                                              */
/* ------------------------------------------------------------------------ */

#define VMCHECK_FIELD_ENCODING(name)     VMCS_##name

static const unsigned int field_encoding[IX_COUNT] = {
#define VMCHECK_ENC(name) [IX_##name] = VMCHECK_FIELD_ENCODING(name),
	VMCHECK_FIELDS(VMCHECK_ENC)
#undef VMCHECK_ENC
};

const char *const vmcheck_field_name[IX_COUNT] = {
#define VMCHECK_NAME(name) [IX_##name] = #name,
	VMCHECK_FIELDS(VMCHECK_NAME)
#undef VMCHECK_NAME
};

const struct vmcheck_seg vmcheck_seg[SEG_COUNT] = {
#define SEG_ROW(r) { #r, IX_GUEST_##r##_SELECTOR, IX_GUEST_##r##_BASE, \
		     IX_GUEST_##r##_LIMIT, IX_GUEST_##r##_ACCESS_RIGHTS }
	SEG_ROW(ES), SEG_ROW(CS), SEG_ROW(SS), SEG_ROW(DS),
	SEG_ROW(FS), SEG_ROW(GS), SEG_ROW(LDTR), SEG_ROW(TR),
#undef SEG_ROW
};

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

/* vmx_control_word_table lists a word's activator before the word. */
_Static_assert(VMX_WORD_PROC < VMX_WORD_PROC2 && VMX_WORD_PROC < VMX_WORD_PROC3 &&
	       VMX_WORD_EXIT < VMX_WORD_EXIT2, "vmx_controls.def: activating words first");

/* Read the capability MSRs. Each control word's bounds come from the MSR
 * that vmx_control_word_table names for it, the TRUE one when
 * IA32_VMX_BASIC bit 55 says the TRUE MSRs exist (SDM A.2), because those
 * are the ones VM entry checks against. A word the CPU lacks has no MSR to
 * read (RDMSR would raise #GP) and allows nothing. */
static void snapshot(struct vmcheck_state *s)
{
	int truectl;

	s->basic = rdmsr(IA32_VMX_BASIC);
	truectl = VMX_MSR_FIELD_GET(s->basic, IA32_VMX_BASIC_TRUE_CONTROLS) != 0;
	for (unsigned int w = 0; w < VMX_WORD_COUNT; w++) {
		const struct vmx_control_word_info *cw = &vmx_control_word_table[w];
		unsigned int activator;
		vmx_u64 control = vmx_control_word_activator(w, &activator);

		s->has_word[w] = vmx_control_word_exists(w, control ? s->allowed[activator].allowed1 : 0);
		s->allowed[w] = (struct vmx_allowed_settings){ 0, 0 };
		if (s->has_word[w])
			s->allowed[w] = vmx_control_split(w, rdmsr(truectl && cw->true_msr ? cw->true_msr : cw->msr));
	}
	s->misc       = rdmsr(IA32_VMX_MISC);
	s->cr0_fixed0 = rdmsr(IA32_VMX_CR0_FIXED0);
	s->cr0_fixed1 = rdmsr(IA32_VMX_CR0_FIXED1);
	s->cr4_fixed0 = rdmsr(IA32_VMX_CR4_FIXED0);
	s->cr4_fixed1 = rdmsr(IA32_VMX_CR4_FIXED1);
	/* IA32_VMX_EPT_VPID_CAP exists only if EPT or VPID may be 1 (A.10). */
	s->has_ept_vpid_cap = (s->allowed[VMX_WORD_PROC2].allowed1 &
			       (VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID)) != 0;
	s->ept_vpid_cap = s->has_ept_vpid_cap ? rdmsr(IA32_VMX_EPT_VPID_CAP) : 0;

	s->phys_bits = cpu_phys_address_width();       /* rt_cpu.h: CPUID, SDM 3A 4.1.4 */
	s->lin_bits = cpu_linear_address_width();
	s->current_vmcs = vmcheck_vmptrst();

	for (int i = 0; i < IX_COUNT; i++) {
		vmcheck_u64 v = 0;
		s->have[i] = vmcheck_vmread(field_encoding[i], &v) == 0;
		s->v[i] = s->have[i] ? v : 0;
	}
}

/* ------------------------------------------------------------------------ */
/* Run, report                                                               */
/* ------------------------------------------------------------------------ */

#define VMCHECK_ERROR_INVALID_CONTROLS   VMX_ERROR_VMENTRY_INVALID_CONTROL_FIELDS
#define VMCHECK_ERROR_INVALID_HOST_STATE VMX_ERROR_VMENTRY_INVALID_HOST_STATE_FIELDS
#define VMCHECK_EXIT_INVALID_GUEST_STATE VMX_EXIT_REASON_ENTRY_FAILURE_INVALID_GUEST_STATE
#define VMCHECK_EXIT_MSR_LOADING_FAILED  VMX_EXIT_REASON_ENTRY_FAILURE_MSR_LOADING

#define VMCHECK_MAX_FINDINGS 32

static struct vmcheck_state state;
static struct vmcheck_finding findings[VMCHECK_MAX_FINDINGS];
static int nfindings;

int vmcheck_current_vmcs(void)
{
	const struct vmcheck_rule *rule;

	snapshot(&state);
	nfindings = 0;
	for (int i = 0; (rule = vmcheck_rule(i)) != 0; i++) {
		struct vmcheck_finding f = { rule, "", 0, rule->qualification };
		if (!rule->check(&state, &f))
			continue;
		printf("vmcheck: %s (SDM %s): %s [%s=0x%llx]\n", f.rule->id, f.rule->section,
		       f.rule->message, f.field, f.value);
		if (nfindings < VMCHECK_MAX_FINDINGS)
			findings[nfindings++] = f;
	}
	printf("vmcheck: %d violation(s)\n", nfindings);
	return nfindings;
}

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
