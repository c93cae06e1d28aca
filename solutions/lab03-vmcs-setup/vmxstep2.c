/*
 * vmxstep2.c - the host component: the host-state variables, which the CPU
 * loads on every VM exit.
 *
 * Runs in: bare metal, 64-bit ring 0, after VMXON (CR0/CR4 already hold
 * their VMX-operation values). SDM vol. 3C (classic numbering) 24.5
 * (host-state area), 26.2.2-26.2.4 (the checks VM entry makes on it), 27.5
 * (what a VM exit loads from it).
 *
 * A VM exit is a jump into the host with a fresh register state: CR0, CR3,
 * CR4, the segment selectors, the FS/GS/TR/GDTR/IDTR bases, RSP and RIP all
 * come from here. So the host state is "the host as it runs now", taken
 * from the registers, plus where to continue: HOST_RIP = the entry stub of
 * common/vmm/vmm_entry.asm, which saves the guest's registers. HOST_RSP is
 * written by that stub's vmm_enter just before VMLAUNCH/VMRESUME.
 */
#include "lab03.h"

void host_state_setup(void)
{
	struct vmcs_vars *v = &vmcs_vars;
	struct rt_dtr gdtr = read_gdtr(), idtr = read_idtr();
	struct vmm_segment fs, gs, tr;

	v->HOST_CR0 = read_cr0();
	v->HOST_CR3 = read_cr3();
	v->HOST_CR4 = read_cr4();

	/* Selectors: RPL and TI must be 0, CS and TR must not be 0 (SDM
	 * 26.2.3); the boot path's GDT selectors already are. */
	v->HOST_CS_SELECTOR = read_cs();
	v->HOST_SS_SELECTOR = read_ss();
	v->HOST_DS_SELECTOR = read_ds();
	v->HOST_ES_SELECTOR = read_es();
	v->HOST_FS_SELECTOR = read_fs();
	v->HOST_GS_SELECTOR = read_gs();
	v->HOST_TR_SELECTOR = read_tr();

	/* Bases. In 64-bit mode FS and GS take their base from the descriptor
	 * when loaded, and the runtime never writes the base MSRs, so the GDT
	 * tells the truth; TR's base is the 64-bit TSS descriptor's. */
	vmm_segment_from_gdt(gdtr.base, read_fs(), &fs);
	vmm_segment_from_gdt(gdtr.base, read_gs(), &gs);
	vmm_segment_from_gdt(gdtr.base, read_tr(), &tr);
	v->HOST_FS_BASE = fs.base;
	v->HOST_GS_BASE = gs.base;
	v->HOST_TR_BASE = tr.base;
	v->HOST_GDTR_BASE = gdtr.base;  /* the limits become 0xFFFF on exit (27.5.2) */
	v->HOST_IDTR_BASE = idtr.base;

	/* SYSENTER: the runtime never uses it; zero is canonical. */
	v->HOST_IA32_SYSENTER_CS = 0;
	v->HOST_IA32_SYSENTER_ESP = 0;
	v->HOST_IA32_SYSENTER_EIP = 0;

	/* Where a VM exit continues: the stub that saves the guest's GPRs. */
	v->HOST_RIP = vmm_host_rip();
	v->HOST_RSP = 0;                /* set by vmm_enter at each entry */
}
