/*
 * vmxdemo.c - lab03's run: enter VMX operation, prove machine[] can write
 * and read back every VMCS component, fill a VMCS from the three parts
 * (vmxstep1 guest, vmxstep2 host, vmxstep3 controls), check it, launch the
 * guest, handle its two exits, leave VMX operation.
 *
 * Runs in: bare metal, 64-bit ring 0 (lab_main, called by the runtime).
 * SDM vol. 3C (classic numbering) 23.6-23.8 (discovering, enabling and
 * entering VMX operation), 24.2 (VMCS regions), 24.11.3 (initializing a
 * VMCS), 26 (VM entries), 27 (VM exits), 30 (VMX instructions).
 *
 * The sequence, one output line per step (`NAME: value`, stable, read by
 * tests/test_lab03.py and tests/grade/lab03.py):
 *
 *   1. IA32_VMX_BASIC: revision id and region size
 *   2. IA32_FEATURE_CONTROL checked (written only if unlocked)
 *   3. CR0 and CR4 adjusted to the fixed-bit MSRs, CR4.VMXE set
 *   4. VMXON with a 4 KiB region stamped with the revision id
 *   5. self-test: a scratch VMCS gets a cookie in every component
 *   6. the real VMCS: VMCLEAR, VMPTRLD
 *   7. guest, host and control variables; machine[] -> VMCS
 *   8. the software checker (common/vmcheck) says what VM entry will think
 *   9. VMLAUNCH; exit VMCALL -> answer, skip it, VMRESUME; exit HLT -> stop
 *  10. VMXOFF
 */
#include "lab03.h"
#ifdef LAB03_HAVE_VMCHECK
#include "vmcheck/vmcheck.h"
#endif

/* Fixed bits (SDM 23.8, A.7, A.8): a 1 in FIXED0 must be 1, a 0 in FIXED1
 * must be 0 while in VMX operation. */
static vmx_u64 apply_fixed(const char *reg, vmx_u64 value, vmx_u32 fixed0_msr, vmx_u32 fixed1_msr)
{
	vmx_u64 fixed0 = rdmsr(fixed0_msr), fixed1 = rdmsr(fixed1_msr);
	vmx_u64 adjusted = (value | fixed0) & fixed1;

	printf("%s: 0x%llx -> 0x%llx (%s 0x%llx, %s 0x%llx)\n", reg, (unsigned long long)value,
	       (unsigned long long)adjusted, vmx_msr_by_number(fixed0_msr)->name,
	       (unsigned long long)fixed0, vmx_msr_by_number(fixed1_msr)->name,
	       (unsigned long long)fixed1);
	return adjusted;
}

/*
 * Enter VMX root operation (SDM 23.7). Returns 0 in VMX operation, -1 after
 * saying why not.
 */
int vmx_enter(void)
{
	vmx_u64 basic;
	vmx_u32 revision;

	/* First CPUID: on a CPU without VMX the VMX MSRs do not exist, and
	 * RDMSR of one faults (#GP) instead of answering. */
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX)) {
		printf("VMXON: this CPU has no VMX (CPUID.1:ECX bit 5 is 0)\n");
		return -1;
	}
	basic = rdmsr(IA32_VMX_BASIC);
	revision = (vmx_u32)VMX_MSR_FIELD_GET(basic, IA32_VMX_BASIC_VMCS_REVISION_ID);

	printf("IA32_VMX_BASIC: 0x%016llx\n", (unsigned long long)basic);
	printf("VMCS revision id: 0x%x\n", revision);
	printf("VMCS region size: %llu\n",
	       (unsigned long long)VMX_MSR_FIELD_GET(basic, IA32_VMX_BASIC_VMCS_REGION_SIZE));

	/* TODO(lab03): the VMXON sequence.
	 *  1. IA32_FEATURE_CONTROL: if the lock bit is clear, set lock and
	 *     "VMX outside SMX" and write it back; if it is locked without
	 *     "VMX outside SMX", VMXON would fault: say so and return -1.
	 *     Print `IA32_FEATURE_CONTROL: 0x...`: the grader matches the start
	 *     of the line, ^IA32_FEATURE_CONTROL: 0x[0-9a-f]+ (the value in
	 *     lowercase hex); the rest of the line is free text (the solution
	 *     adds `(locked)`).
	 *  2. CR0 and CR4 (with CR4.VMXE set) adjusted to the fixed-bit MSRs:
	 *     apply_fixed() prints and computes, write_cr0/write_cr4 store.
	 *  3. A 4 KiB page (page_alloc) whose first 32-bit word is the revision
	 *     id; VMXON with its physical address (rt_virt_to_phys).
	 *  4. Print `VMXON: ok` or explain the failure (vmm_explain_status).
	 *     The grader matches ^VMXON: ok at the start of the line; the rest
	 *     is free text (the solution adds `(region 0x...)`). */
	(void)apply_fixed;
	printf("VMXON: not done yet (TODO(lab03) in vmxdemo.c)\n");
	return -1;
}

/* A fresh VMCS region, clear and current: VMCLEAR (launch state "clear",
 * SDM 24.1), then VMPTRLD. Returns the region, or NULL after explaining. */
static void *vmcs_new_current(const char *what)
{
	void *vmcs = vmm_vmcs_alloc();  /* zeroed page with the revision id */
	vmx_u64 phys = rt_virt_to_phys(vmcs);

	if (vmm_explain_status("VMCLEAR", vmclear(phys)) != VMX_SUCCEED)
		return VMX_NULL;
	if (vmm_explain_status("VMPTRLD", vmptrld(phys)) != VMX_SUCCEED)
		return VMX_NULL;
	printf("%s VMCS: 0x%llx (VMCLEAR ok, VMPTRLD ok)\n", what, (unsigned long long)phys);
	return vmcs;
}

/* The guest's hypercall: read its RAX, answer in RAX. */
static void handle_vmcall(struct vmm_gprs *gprs)
{
	printf("guest rax: 0x%llx%s\n", (unsigned long long)gprs->rax,
	       gprs->rax == LAB03_HELLO ? " (hello)" : " (unknown request)");
	gprs->rax = LAB03_ANSWER;
	printf("host: answered rax=0x%llx\n", (unsigned long long)gprs->rax);
}

/* Run the guest until it halts, an exit we do not expect, or a failure.
 * vmm_run_to_exit (common/vmm) enters it and explains a failed entry; the
 * exits are ours to handle. Returns the number of exits handled. */
/* slide: run-guest */
static unsigned long run_guest(void)
{
	struct vmm_gprs gprs = { 0 };
	struct vmm_exit e;
	struct vmm_exit_counts counts = { 0 };
	int launched = 0;

	while (vmm_run_to_exit(&gprs, &launched, &e)) {
		vmm_exit_count(&counts, &e);
		vmm_exit_print(&e);
		if (e.basic == VMX_EXIT_REASON_VMCALL) {
			handle_vmcall(&gprs);
			vmm_skip_instruction(&e);       /* RIP past the 3-byte VMCALL */
			printf("VMRESUME\n");
			continue;
		}
		if (e.basic == VMX_EXIT_REASON_HLT)
			printf("guest: halted; the host stops it here\n");
		else
			printf("lab03: unexpected exit %s; stopping the guest\n", vmm_exit_name(e.basic));
		break;
	}
	vmm_exit_counts_print(&counts);
	return counts.total;
}
/* end slide */

#ifdef LAB03_BREAK_FIELD
#define LAB03_FIELD_(name) VMCS_##name
#define LAB03_FIELD(name) LAB03_FIELD_(name)
#define LAB03_STR_(x) #x
#define LAB03_STR(x) LAB03_STR_(x)
static void break_one_field(void)
{
	vmx_u32 enc = LAB03_FIELD(LAB03_BREAK_FIELD);
	vmx_u64 value = LAB03_BREAK_VALUE;

	printf("lab03: test mode: VMWRITE %s = 0x%llx\n", LAB03_STR(LAB03_BREAK_FIELD),
	       (unsigned long long)value);
	vmm_explain_status("VMWRITE", vmwrite(enc, value));
}
#endif

void lab_main(void)
{
	printf("lab03: VMCS setup: VMXON, machine[] (%u components), controls, VMLAUNCH\n",
	       machine_count);

	if (vmx_enter() != 0)
		return;

	/* Step 5: the read-back test of your machine_load (vmxstep3.c): a
	 * cookie in every variable, your loop, every component read back. It
	 * writes every component, so it gets its own scratch VMCS; the real
	 * one starts clean afterwards. */
	if (vmcs_new_current("self-test") != VMX_NULL)
		vmm_machine_readback(machine_load);

	/* Step 6-7: the real VMCS and its contents. */
	if (vmcs_new_current("guest") == VMX_NULL)
		goto off;
	guest_state_setup();
	host_state_setup();
	if (controls_setup() != 0)
		goto off;
	if (machine_load() != 0)
		goto off;

#ifdef LAB03_BREAK_FIELD
	/* Test mode (`make run-lab03 BREAK=FIELD=VALUE`): overwrite one
	 * component after machine[] was loaded, to see what the checker and
	 * the CPU say about it. */
	break_one_field();
#endif

#ifdef LAB03_HAVE_VMCHECK
	/* Step 8: ask the software checker before asking the CPU. */
	vmcheck_current_vmcs();
#endif

	/* Step 9. */
	run_guest();

off:
	if (vmm_explain_status("VMXOFF", vmxoff()) == VMX_SUCCEED)
		printf("VMXOFF: ok\n");
}
