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
