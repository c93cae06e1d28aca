/*
 * vmxon.c - VMCS regions (also the VMXON region, which has the same
 * header), and making a VMCS current; segments from the GDT. The VMXON
 * sequence itself is lab03's work (vmxdemo.c, vmx_enter); the kit's own
 * version is common/vmm/answers/vmxon.c.
 *
 * Runs in: bare metal, 64-bit ring 0: vmm_vmcs_alloc before or after VMXON
 * (RDMSR only), vmm_vmcs_load in VMX root operation, vmm_segment_from_gdt
 * anywhere. SDM vol. 3C (classic numbering) 24.2 (VMCS regions), 24.11.3
 * (VMCLEAR, VMPTRLD), appendix A.1 (IA32_VMX_BASIC).
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
