/*
 * msr_loading.c - the VM-entry check on the VM-entry MSR-load area (SDM
 * vol. 3C 26.4 "Loading MSRs"), the last step of a VM entry: the CPU
 * loads the MSRs of the list one entry at a time, after the guest state
 * has passed. A broken entry makes VMLAUNCH end in a VM exit with exit
 * reason 34 | bit 31 ("VM-entry failure due to MSR loading"), whose exit
 * qualification is the number of the failing entry.
 *
 * Runs in: 64-bit ring 0, VMX root operation, as part of the checker
 * (vmcheck.h). The rule reads the MSR-load area in physical memory (below
 * 4 GiB, identity-mapped: rules.h).
 */
#include "rules.h"

/* ------------------------------------------------------------------------ */
/* 26.4 Loading MSRs                                                         */
/* ------------------------------------------------------------------------ */

VMCHECK_RULE(ENTRY_MSR_LOAD_RESERVED, "26.4", MSRLOAD, entry_msr_entries,
	     "each VM-entry MSR-load entry must have bits 63:32 of its first quadword 0");
static int entry_msr_entries(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* Each 16-byte entry: bits 31:0 MSR index, 63:32 reserved (must be 0),
	 * then the 64-bit value (SDM 24.8.2). The qualification is the number
	 * of the failing entry, counting from 1 (SDM 26.4). Entries past the
	 * recommended maximum of IA32_VMX_MISC (512 on every CPU model of the
	 * kit) are not looked at: the CPU's behaviour is undefined there (A.6). */
	vmcheck_u64 n = V(VM_ENTRY_MSR_LOAD_COUNT), area = V(VM_ENTRY_MSR_LOAD_ADDRESS);
	vmcheck_u64 max = vmx_msr_list_max(MISC(MSR_LIST_LIMIT));

	if (n == 0 || msr_area_bad(s, area, n) || !phys_mapped(area, n * 16))
		return 0;
	for (vmcheck_u64 i = 0; i < n && i < max; i++)
		if (phys_read32(area + 16 * i + 4)) {
			f->qualification = i + 1;
			return broken_named(f, "VM-entry MSR-load entry", phys_read32(area + 16 * i + 4));
		}
	return 0;
}

/* The rule of 26.4. */
static const struct vmcheck_rule *const msr_loading_rules[] = {
	/* 26.4 */
	&rule_ENTRY_MSR_LOAD_RESERVED,
};
const struct vmcheck_rule_list vmcheck_msr_loading = { msr_loading_rules, VMX_ARRAY_SIZE(msr_loading_rules) };
