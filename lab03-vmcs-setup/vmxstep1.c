/*
 * vmxstep1.c - the guest component: the guest-state variables of a minimal
 * 64-bit guest, and the guest's code.
 *
 * Runs in: bare metal, 64-bit ring 0. guest_state_setup() runs in the host;
 * guest_main() runs in VMX non-root operation. SDM vol. 3C (classic
 * numbering) 24.4 (guest-state area), 26.3.1 (the checks VM entry makes on
 * it).
 *
 * The guest is the smallest one that shows both directions of a VM exit:
 * it shares the host's code, page tables, GDT and TSS (same CR3, same
 * selectors), prints a line, executes VMCALL (exit 1: the host reads and
 * answers RAX), prints the answer, then executes HLT (exit 2: the host
 * stops the guest there).
 *
 * Sharing the host's GDT means the guest segment registers can be described
 * from the very descriptors the host loaded: the VMCS access-rights format
 * is the descriptor's bits 47:40 and 55:52 (vmm_segment_from_gdt()).
 */
#include "lab03.h"

/* The guest's own stack (the host's stack is in use by the host). */
static vmx_u8 guest_stack[4096] __attribute__((aligned(16)));

/* The guest: VMX non-root operation, CPL 0, the host's address space. COM1
 * is not intercepted (no I/O exiting), so printf reaches the UART directly. */
/* slide: guest-main */
static void __attribute__((noreturn, used)) guest_main(void)
{
	vmx_u64 rax = LAB03_HELLO;

	printf("guest: running in VMX non-root operation\n");
	/* VMCALL always exits (SDM 25.1.2); the host answers in RAX. */
	__asm__ volatile("vmcall" : "+a"(rax) : : "memory");
	printf("guest: VMCALL returned rax=0x%llx\n", (unsigned long long)rax);
	for (;;)
		__asm__ volatile("hlt");        /* exits: HLT exiting is set */
}
/* end slide */

/* A guest segment register described by the host's GDT descriptor. */
static void segment(vmx_u16 selector, vmx_u16 *sel, vmx_u64 *base, vmx_u32 *limit,
		    vmx_u32 *access_rights)
{
	struct vmm_segment s;

	vmm_segment_from_gdt(read_gdtr().base, selector, &s);
	*sel = s.selector;
	*base = s.base;
	*limit = s.limit;
	*access_rights = s.access_rights;
}

void guest_state_setup(void)
{
	struct vmcs_vars *v = &vmcs_vars;
	struct rt_dtr gdtr = read_gdtr(), idtr = read_idtr();
	vmx_u64 dr7;

	/* Control registers: the host's, already adjusted to the fixed-bit
	 * MSRs by VMXON's preparation (SDM 26.3.1.1 checks them the same way). */
	v->GUEST_CR0 = read_cr0();
	v->GUEST_CR3 = read_cr3();
	v->GUEST_CR4 = read_cr4();
	__asm__ volatile("mov %%dr7, %0" : "=r"(dr7));
	v->GUEST_DR7 = dr7;

	/* Segments: the host's selectors and their descriptors. */
	segment(read_cs(), &v->GUEST_CS_SELECTOR, &v->GUEST_CS_BASE, &v->GUEST_CS_LIMIT,
		&v->GUEST_CS_ACCESS_RIGHTS);
	segment(read_ss(), &v->GUEST_SS_SELECTOR, &v->GUEST_SS_BASE, &v->GUEST_SS_LIMIT,
		&v->GUEST_SS_ACCESS_RIGHTS);
	segment(read_ds(), &v->GUEST_DS_SELECTOR, &v->GUEST_DS_BASE, &v->GUEST_DS_LIMIT,
		&v->GUEST_DS_ACCESS_RIGHTS);
	segment(read_es(), &v->GUEST_ES_SELECTOR, &v->GUEST_ES_BASE, &v->GUEST_ES_LIMIT,
		&v->GUEST_ES_ACCESS_RIGHTS);
	segment(read_fs(), &v->GUEST_FS_SELECTOR, &v->GUEST_FS_BASE, &v->GUEST_FS_LIMIT,
		&v->GUEST_FS_ACCESS_RIGHTS);
	segment(read_gs(), &v->GUEST_GS_SELECTOR, &v->GUEST_GS_BASE, &v->GUEST_GS_LIMIT,
		&v->GUEST_GS_ACCESS_RIGHTS);
	/* TR: the host's TSS; LTR marked its descriptor busy, which is the
	 * type VM entry demands (11, busy 64-bit TSS; SDM 26.3.1.2). */
	segment(read_tr(), &v->GUEST_TR_SELECTOR, &v->GUEST_TR_BASE, &v->GUEST_TR_LIMIT,
		&v->GUEST_TR_ACCESS_RIGHTS);
	/* No LDT: LDTR is "unusable", a state only the VMCS can express. */
	v->GUEST_LDTR_SELECTOR = 0;
	v->GUEST_LDTR_BASE = 0;
	v->GUEST_LDTR_LIMIT = 0;
	v->GUEST_LDTR_ACCESS_RIGHTS = VMM_AR_UNUSABLE;

	v->GUEST_GDTR_BASE = gdtr.base;
	v->GUEST_GDTR_LIMIT = gdtr.limit;
	v->GUEST_IDTR_BASE = idtr.base;
	v->GUEST_IDTR_LIMIT = idtr.limit;

	/* Where the guest starts: a C function on its own stack, RSP = 8 mod 16
	 * as if it had been called. */
	v->GUEST_RIP = (vmx_u64)(unsigned long)guest_main;
	v->GUEST_RSP = (vmx_u64)(unsigned long)(guest_stack + sizeof(guest_stack)) - 8;
	/* RFLAGS: every flag clear (interrupts off); only bit 1, reserved and
	 * always 1, is set (SDM vol. 1 3.4.3; VM entry checks it, 26.3.1.4). */
	v->GUEST_RFLAGS = VMX_BITS_MASK(VMX_RFLAGS_FIXED_1);

	/* Non-register state (SDM 24.4.2): active, nothing blocked, no pending
	 * debug exceptions, and no shadow VMCS: the link pointer must then be
	 * all ones (SDM 26.3.1.5). */
	v->GUEST_ACTIVITY_STATE = 0;
	v->GUEST_INTERRUPTIBILITY_STATE = 0;
	v->GUEST_PENDING_DEBUG_EXCEPTIONS = 0;
	v->VMCS_LINK_POINTER = ~0ull;
}
