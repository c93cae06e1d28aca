/*
 * exit.c - entering the guest, and saying in words what came back: the VM
 * exit by name, a failed VMLAUNCH/VMRESUME by its VM-instruction error, an
 * entry failure by its reason and qualification.
 *
 * Runs in: bare metal, 64-bit, VMX root operation with a current VMCS.
 * SDM vol. 3C (classic numbering): 24.9 (exit-information fields), 26
 * ("VM-entry failures during or after loading guest state"), 27.2 (recording
 * VM-exit information), 30.4 (VM-instruction error numbers), appendix C
 * (basic exit reasons).
 */
#include "vmm.h"

int vmm_run(struct vmm_gprs *gprs, int launched)
{
	switch (vmm_enter(gprs, launched)) {
	case VMM_ENTER_EXITED:
		return VMX_SUCCEED;
	case VMM_ENTER_FAIL_INVALID:
		return VMX_FAIL_INVALID;
	default:
		return VMX_FAIL_VALID;
	}
}

/* A typed VMREAD (rt_vmx.h: the accessor names the field's width, the build
 * checks it) whose failure would mean the VMCS is gone: report it; the
 * variable is then 0. */
#define READ_FIELD(vmcs_read, FIELD, variable)                                \
	do {                                                                  \
		if (vmcs_read(VMCS_##FIELD, variable) != VMX_SUCCEED)         \
			printf("vmm: VMREAD of %s failed\n", #FIELD);         \
	} while (0)

void vmm_exit_read(struct vmm_exit *e)
{
	READ_FIELD(vmcs_read32, VM_EXIT_REASON, &e->reason);
	e->basic = VMX_EXIT_REASON_BASIC(e->reason);
	e->entry_failure = VMX_EXIT_REASON_IS_ENTRY_FAILURE(e->reason);
	READ_FIELD(vmcs_read_natural, EXIT_QUALIFICATION, &e->qualification);
	READ_FIELD(vmcs_read32, VM_EXIT_INSTRUCTION_LENGTH, &e->instruction_length);
	READ_FIELD(vmcs_read32, VM_EXIT_INTERRUPTION_INFORMATION, &e->interruption_info);
	READ_FIELD(vmcs_read_natural, GUEST_RIP, &e->guest_rip);
}

const char *vmm_exit_name(vmx_u32 basic)
{
	return vmx_exit_reason_name(basic);
}

/*
 * The exit qualification of an entry failure with basic reason 33 ("invalid
 * guest state", SDM 26.3.1) tells the few checks that have their own code
 * (the QUAL_ENTRY_FAILURE values of common/vmx/vmx_values.def); 0 means one
 * of the plain register and state checks.
 */
static void print_guest_state_qualification(vmx_u64 q)
{
	const struct vmx_value_info *v = vmx_value_lookup("QUAL_ENTRY_FAILURE", q);

	if (v)
		printf("entry failure qualification: 0x%llx = %s: %s\n", (unsigned long long)q,
		       v->name, v->description);
	else
		printf("entry failure qualification: 0x%llx = a value the SDM does not define\n",
		       (unsigned long long)q);
}

static void print_entry_failure(const struct vmm_exit *e)
{
	const struct vmx_exit_reason_info *info = vmx_exit_reason_by_number(e->basic);
	unsigned long long q = e->qualification;

	printf("exit: %s (entry failure, reason 0x%x) qualification 0x%llx\n",
	       vmm_exit_name(e->basic), e->reason, q);
	printf("entry failure: %s\n", info ? info->description : "basic reason not defined by the SDM");
	if (e->basic == VMX_EXIT_REASON_ENTRY_FAILURE_INVALID_GUEST_STATE)
		print_guest_state_qualification(q);
	else if (e->basic == VMX_EXIT_REASON_ENTRY_FAILURE_MSR_LOADING)
		printf("entry failure qualification: 0x%llx = entry %llu of the VM-entry MSR-load area could not be loaded (SDM 26.4)\n",
		       q, q);
	else
		printf("entry failure qualification: 0x%llx\n", q);
	printf("entry failure: the guest did not run; its state is as written "
	       "(SDM 26, \"VM-entry failures during or after loading guest state\")\n");
}

void vmm_exit_print(const struct vmm_exit *e)
{
	if (e->entry_failure) {
		print_entry_failure(e);
		return;
	}
	printf("exit: %s qualification 0x%llx rip 0x%llx length %u\n",
	       vmm_exit_name(e->basic), (unsigned long long)e->qualification,
	       (unsigned long long)e->guest_rip, e->instruction_length);
}

int vmm_run_to_exit(struct vmm_gprs *gprs, int *launched, struct vmm_exit *e)
{
	const char *instruction = *launched ? "VMRESUME" : "VMLAUNCH";
	int status = vmm_run(gprs, *launched);

	if (status != VMX_SUCCEED) {
		/* VM entry never started (SDM 26.1, 26.2): the error is in the VMCS. */
		vmm_explain_status(instruction, status);
		return 0;
	}
	vmm_exit_read(e);
	if (e->entry_failure) {
		/* The checks of SDM 26.3/26.4 failed: an exit, but the guest never ran. */
		printf("%s: entry failed\n", instruction);
		vmm_exit_print(e);
		return 0;
	}
	if (!*launched)
		printf("VMLAUNCH: ok\n");
	*launched = 1;
	return 1;
}

void vmm_exit_count(struct vmm_exit_counts *c, const struct vmm_exit *e)
{
	c->total++;
	if (e->basic < VMM_EXIT_REASON_LIMIT)
		c->by_reason[e->basic]++;
	else
		c->other++;
}

void vmm_exit_counts_print(const struct vmm_exit_counts *c)
{
	for (unsigned r = 0; r < VMM_EXIT_REASON_LIMIT; r++)
		if (c->by_reason[r])
			printf("exit count: %s %lu\n", vmm_exit_name(r), c->by_reason[r]);
	if (c->other)
		printf("exit count: other %lu\n", c->other);
	printf("exits: %lu\n", c->total);
}

vmx_u32 vmm_instruction_error(void)
{
	return vmx_instruction_error();
}

const char *vmm_instruction_error_text(vmx_u32 number)
{
	const char *t = vmx_instruction_error_text(number);

	return t ? t : "not a VM-instruction error number the SDM defines";
}

int vmm_explain_status(const char *instruction, int status)
{
	if (status == VMX_SUCCEED)
		return status;
	if (status == VMX_FAIL_INVALID) {
		printf("%s: VMfailInvalid (no current VMCS, or the operand is not usable; SDM 30.2)\n",
		       instruction);
		return status;
	}
	vmx_u32 n = vmm_instruction_error();
	printf("%s: VMfailValid, VM-instruction error %u: %s\n", instruction, n,
	       vmm_instruction_error_text(n));
	return status;
}
