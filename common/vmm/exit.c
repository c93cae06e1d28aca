/*
 * exit.c - entering the guest, and saying in words what came back: the VM
 * exit by name, a failed VMLAUNCH/VMRESUME by its VM-instruction error, an
 * entry failure by its reason and qualification.
 *
 * Runs in: bare metal, 64-bit, VMX root operation with a current VMCS.
 * SDM vol. 3C (classic numbering): 24.9 (exit-information fields), 26.7
 * (VM-entry failures during or after loading guest state), 27.2 (recording
 * VM-exit information), 30.4 (VM-instruction error numbers), appendix C
 * (basic exit reasons).
 */
#include "vmm.h"

int vmm_run(struct vmm_gprs *gprs, int launched)
{
	switch (vmm_enter(gprs, launched, VMCS_HOST_RSP)) {
	case VMM_ENTER_EXITED:
		return VMX_SUCCEED;
	case VMM_ENTER_FAIL_INVALID:
		return VMX_FAIL_INVALID;
	default:
		return VMX_FAIL_VALID;
	}
}

/* A VMREAD whose failure would mean the VMCS is gone: report, use 0. */
static vmx_u64 read_field(vmx_u32 encoding)
{
	uint64_t v = 0;

	if (vmread(encoding, &v) != VMX_SUCCEED) {
		const struct vmcs_field_info *f = vmcs_field_by_encoding(encoding);
		printf("vmm: VMREAD of %s failed\n", f ? f->name : "?");
	}
	return v;
}

void vmm_exit_read(struct vmm_exit *e)
{
	e->reason = (vmx_u32)read_field(VMCS_VM_EXIT_REASON);
	e->basic = VMX_EXIT_REASON_BASIC(e->reason);
	e->entry_failure = VMX_EXIT_REASON_IS_ENTRY_FAILURE(e->reason);
	e->qualification = read_field(VMCS_EXIT_QUALIFICATION);
	e->instruction_length = (vmx_u32)read_field(VMCS_VM_EXIT_INSTRUCTION_LENGTH);
	e->interruption_info = (vmx_u32)read_field(VMCS_VM_EXIT_INTERRUPTION_INFORMATION);
	e->guest_rip = read_field(VMCS_GUEST_RIP);
}

const char *vmm_exit_name(vmx_u32 basic)
{
	return vmx_exit_reason_name(basic);
}

/*
 * The exit qualification of an entry failure with basic reason 33 ("invalid
 * guest state", SDM 26.3.1) says which check failed, when it is not one of
 * the plain register checks. The values are those of SDM 26.7 (the list is
 * the SDM's; it has no number in the fact lists because only this decoder
 * uses it).
 */
static const char *guest_state_qualification(vmx_u64 q)
{
	switch (q) {
	case 0: return "no further detail: a check on the guest registers or MSRs failed (SDM 26.3.1.1-26.3.1.4)";
	case 2: return "loading the guest PDPTEs failed (SDM 26.3.1.6)";
	case 3: return "NMI injection while blocking by STI/MOV SS is set (SDM 26.3.1.5)";
	case 4: return "the VMCS link pointer is not valid (SDM 26.3.1.5)";
	default: return "not defined by the SDM";
	}
}

static void print_entry_failure(const struct vmm_exit *e)
{
	const struct vmx_exit_reason_info *info = vmx_exit_reason_by_number(e->basic);
	unsigned long long q = e->qualification;

	printf("exit: %s (entry failure, reason 0x%x) qualification 0x%llx\n",
	       vmm_exit_name(e->basic), e->reason, q);
	printf("entry failure: %s\n", info ? info->description : "basic reason not defined by the SDM");
	if (e->basic == VMX_EXIT_REASON_ENTRY_FAILURE_INVALID_GUEST_STATE)
		printf("entry failure qualification: 0x%llx = %s\n", q, guest_state_qualification(q));
	else if (e->basic == VMX_EXIT_REASON_ENTRY_FAILURE_MSR_LOADING)
		printf("entry failure qualification: 0x%llx = entry %llu of the VM-entry MSR-load area could not be loaded (SDM 26.4)\n",
		       q, q);
	else
		printf("entry failure qualification: 0x%llx (SDM 26.7)\n", q);
	printf("entry failure: the guest did not run; guest state is as written (SDM 26.7)\n");
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

void vmm_skip_instruction(const struct vmm_exit *e)
{
	vmcs_write_natural(VMCS_GUEST_RIP, e->guest_rip + e->instruction_length);
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

/*
 * The number of "VMREAD/VMWRITE from/to unsupported VMCS component" (a
 * field this CPU model lacks), looked up in vmx_errors.def by the SDM's
 * words so the number itself is written only there.
 */
vmx_u32 vmm_error_unsupported_component(void)
{
	static vmx_u32 number;
	unsigned i;

	for (i = 0; !number && i < VMX_INSTRUCTION_ERROR_COUNT; i++)
		if (strcmp(vmx_instruction_error_table[i].description,
			   "VMREAD/VMWRITE from/to unsupported VMCS component") == 0)
			number = vmx_instruction_error_table[i].number;
	if (!number)
		rt_panic("vmm: vmx_errors.def has no \"unsupported VMCS component\" error");
	return number;
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
