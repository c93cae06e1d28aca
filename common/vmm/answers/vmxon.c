/*
 * answers/vmxon.c - the kit's own VMXON sequence: entering VMX operation.
 *
 * ANSWERS lab03 (vmxdemo.c, vmx_enter): lab04 and the kit's tests
 * use this file; lab03's grading copy of the kit leaves it out, so that a
 * lab03 grade comes from the student's own VMXON sequence.
 *
 * Runs in: bare metal, 64-bit ring 0, before VMX operation. SDM vol. 3C
 * (classic numbering) 23.6 (discovering VMX support), 23.7 (enabling and
 * entering VMX operation), 23.8 (restrictions: CR0/CR4 fixed bits),
 * appendix A.7/A.8 (fixed bits).
 */
#include "answers.h"

/*
 * IA32_FEATURE_CONTROL (SDM 23.7): the BIOS normally locks it (bit 0) with
 * "VMX outside SMX" enabled; once locked, a write faults. So: write it only
 * while it is unlocked, then require the enable bit. 1 when VMXON may run.
 */
static int feature_control_allows_vmxon(void)
{
	vmx_u64 lock = VMX_MSR_FIELD_MASK(IA32_FEATURE_CONTROL_LOCK);
	vmx_u64 outside_smx = VMX_MSR_FIELD_MASK(IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	vmx_u64 v = rdmsr(IA32_FEATURE_CONTROL);

	if ((v & lock) == 0) {
		v |= lock | outside_smx;
		wrmsr(IA32_FEATURE_CONTROL, v);
	}
	printf("IA32_FEATURE_CONTROL: 0x%llx\n", (unsigned long long)v);
	if ((v & outside_smx) == 0)
		printf("VMXON: refused by IA32_FEATURE_CONTROL (locked, VMX outside SMX off)\n");
	return (v & outside_smx) != 0;
}

/* The control registers VMX operation constrains, with their fixed-bit MSRs
 * (SDM 23.8, A.7, A.8): a 1 in FIXED0 must be 1, a 0 in FIXED1 must be 0.
 * CR4's FIXED0 holds VMXE itself, so this also turns VMX on in CR4. */
static const struct {
	vmx_u32 fixed0, fixed1;
	uint64_t (*get)(void);
	void (*set)(uint64_t);
} fixed_crs[] = {
	{ IA32_VMX_CR0_FIXED0, IA32_VMX_CR0_FIXED1, read_cr0, write_cr0 },
	{ IA32_VMX_CR4_FIXED0, IA32_VMX_CR4_FIXED1, read_cr4, write_cr4 },
};

int vmm_vmxon(void)
{
	vmx_u32 *vmxon_region;
	unsigned i;
	int st;

	if ((cpuid(1, 0).ecx & CPUID_1_ECX_VMX) == 0) {
		printf("VMXON: no VMX on this CPU (CPUID.1:ECX.VMX is 0)\n");
		return -1;
	}
	if (!feature_control_allows_vmxon())
		return -1;
	for (i = 0; i < RT_ARRAY_SIZE(fixed_crs); i++)
		fixed_crs[i].set((fixed_crs[i].get() | rdmsr(fixed_crs[i].fixed0)) &
				 rdmsr(fixed_crs[i].fixed1));

	/* The VMXON region starts with the revision id, like a VMCS region. */
	vmxon_region = vmm_vmcs_alloc();
	st = vmxon(rt_virt_to_phys(vmxon_region));
	/* Outside VMX operation a failing VMXON has no current VMCS to hold an
	 * error number: the failure is VMfailInvalid (SDM 30.3, VMXON). */
	if (vmm_explain_status("VMXON", st) != VMX_SUCCEED)
		return -1;
	printf("VMXON: ok (revision id 0x%x)\n", vmxon_region[0]);
	return 0;
}

