/*
 * vmxon.c - entering VMX operation, and making a VMCS current.
 *
 * Runs in: bare metal, 64-bit ring 0, before VMX operation (vmm_vmxon) and
 * in VMX root operation (vmm_vmcs_load). SDM vol. 3C (classic numbering)
 * 23.6 (discovering VMX support), 23.7 (enabling and entering VMX
 * operation), 23.8 (restrictions: CR0/CR4 fixed bits), 24.2 (VMCS regions),
 * appendix A.1 (IA32_VMX_BASIC), A.7/A.8 (fixed bits).
 *
 * The kit's version of the VMXON sequence students write in lab03
 * (vmxdemo.c); lab04 and lab05 call this one.
 */
#include "vmm.h"

void *vmm_vmcs_alloc(void)
{
	vmx_u32 *region = page_alloc();
	vmx_u64 basic = rdmsr(IA32_VMX_BASIC);

	/* Bits 30:0 of the first word: the revision id; bit 31 (shadow VMCS
	 * indicator) stays 0 (SDM 24.2). */
	region[0] = (vmx_u32)VMX_MSR_FIELD_GET(basic, IA32_VMX_BASIC_VMCS_REVISION_ID);
	return region;
}

static vmx_u64 fixed(vmx_u64 value, vmx_u32 fixed0_msr, vmx_u32 fixed1_msr)
{
	return (value | rdmsr(fixed0_msr)) & rdmsr(fixed1_msr);
}

int vmm_vmxon(void)
{
	vmx_u64 fc, basic;
	void *region;
	int status;

	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX)) {
		printf("VMXON: this CPU has no VMX (CPUID.1:ECX.VMX[bit 5] = 0)\n");
		return -1;
	}

	/* IA32_FEATURE_CONTROL: once locked (bit 0), writing it faults; the
	 * BIOS usually locks it with VMX enabled. Set it only when unlocked. */
	fc = rdmsr(IA32_FEATURE_CONTROL);
	if (!VMX_MSR_FIELD_GET(fc, IA32_FEATURE_CONTROL_LOCK)) {
		fc |= VMX_MSR_FIELD_MASK(IA32_FEATURE_CONTROL_LOCK) |
		      VMX_MSR_FIELD_MASK(IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX);
		wrmsr(IA32_FEATURE_CONTROL, fc);
	}
	printf("IA32_FEATURE_CONTROL: 0x%llx\n", (unsigned long long)fc);
	if (!VMX_MSR_FIELD_GET(fc, IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		printf("VMXON: IA32_FEATURE_CONTROL is locked with VMX outside SMX disabled (bit %u)\n",
		       IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX_LSB);
		return -1;
	}

	/* CR0 and CR4 must satisfy the fixed-bit MSRs in VMX operation; CR4's
	 * FIXED0 includes VMXE itself (SDM 23.8). */
	write_cr0(fixed(read_cr0(), IA32_VMX_CR0_FIXED0, IA32_VMX_CR0_FIXED1));
	write_cr4(fixed(read_cr4() | CPU_CR4_VMXE, IA32_VMX_CR4_FIXED0, IA32_VMX_CR4_FIXED1));

	basic = rdmsr(IA32_VMX_BASIC);
	region = vmm_vmcs_alloc();      /* the VMXON region has the same header */
	status = vmxon(rt_virt_to_phys(region));
	if (status != VMX_SUCCEED) {
		/* Outside VMX operation a failing VMXON has no current VMCS to
		 * hold an error number: VMfailInvalid (SDM 30.3, VMXON). */
		vmm_explain_status("VMXON", status);
		return -1;
	}
	printf("VMXON: ok (revision id 0x%llx)\n",
	       (unsigned long long)VMX_MSR_FIELD_GET(basic, IA32_VMX_BASIC_VMCS_REVISION_ID));
	return 0;
}

int vmm_vmcs_load(void *vmcs)
{
	vmx_u64 phys = rt_virt_to_phys(vmcs);

	if (vmm_explain_status("VMCLEAR", vmclear(phys)) != VMX_SUCCEED)
		return -1;
	if (vmm_explain_status("VMPTRLD", vmptrld(phys)) != VMX_SUCCEED)
		return -1;
	return 0;
}

/* --- Segments ------------------------------------------------------------ */

void vmm_segment_from_gdt(vmx_u64 gdt_base, vmx_u16 selector, struct vmm_segment *s)
{
	const vmx_u64 *gdt = (const vmx_u64 *)(unsigned long)gdt_base;
	vmx_u64 d = gdt[selector >> 3];         /* bits 15:3 index, 2 TI, 1:0 RPL */
	vmx_u32 limit = (vmx_u32)((d & 0xFFFF) | ((d >> 32) & 0xF0000));

	s->selector = selector;
	/* Base 23:0 in descriptor bits 39:16, base 31:24 in bits 63:56. */
	s->base = ((d >> 16) & 0xFFFFFF) | (((d >> 56) & 0xFF) << 24);
	/* Access rights: descriptor bits 47:40 -> 7:0 and 55:52 -> 15:12. */
	s->access_rights = (vmx_u32)((d >> 40) & 0xF0FF);
	/* G: the limit counts 4 KiB units. */
	s->limit = (s->access_rights & VMM_AR_G) ? (limit << 12) | 0xFFF : limit;
	/* A system descriptor (S clear) in 64-bit mode is 16 bytes:
	 * the next slot holds base 63:32 (SDM vol. 3A 7.2.3). */
	if (!(s->access_rights & VMM_AR_S))
		s->base |= (gdt[(selector >> 3) + 1] & 0xFFFFFFFFull) << 32;
}
