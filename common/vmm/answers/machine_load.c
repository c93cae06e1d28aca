/*
 * answers/machine_load.c - the kit's own machine[] loop: VMWRITE every
 * writable component from its variable into the current VMCS.
 *
 * ANSWERS lab03 (vmxstep3.c, machine_load): lab04 and the kit's
 * tests use this file; lab03's grading copy of the kit leaves it out, so
 * that a lab03 grade comes from the student's own loop.
 *
 * Runs in: bare metal, 64-bit ring 0, VMX root operation with a current
 * VMCS. SDM vol. 3C 24.11.2 (VMREAD, VMWRITE and field encodings), 30.4
 * (VM-instruction error 12, unsupported VMCS component).
 */
#include "answers.h"

int vmm_machine_load(void)
{
	const struct machine_entry *e;
	unsigned written = 0, absent = 0;

	for (e = machine; e < machine + machine_count; e++) {
		vmx_u64 v = machine_get(e);
		int st;

		if (e->group == VMCS_GROUP_READ_ONLY)
			continue;               /* VM-exit information: written by the CPU */
		st = vmwrite(e->encoding, v);
		if (st == VMX_SUCCEED)
			written++;
		else if (st == VMX_FAIL_VALID && v == 0 &&
			 vmm_instruction_error() == vmm_error_unsupported_component())
			absent++;               /* not on this CPU, and not needed */
		else {
			printf("machine[] load: %s = 0x%llx refused\n", e->name, (unsigned long long)v);
			vmm_explain_status("VMWRITE", st);
			return -1;
		}
	}
	printf("machine[] load: %u fields written, %u not supported by this CPU (all zero)\n",
	       written, absent);
	return 0;
}
