/*
 * vmm_test.c - a test payload for the monitor pieces of common/vmm/ and the
 * kit's answers to lab03 (common/vmm/answers/) as lab04 uses them:
 * vmm_vmxon, vmm_vmcs_alloc/load, vmm_machine_readback with
 * vmm_machine_load as the loop under test, vmm_control_adjust (including
 * its refusal), vmm_machine_load, and above all the exit stub: every
 * general register must survive a VM exit (saved into struct vmm_gprs) and
 * a VM entry (loaded from it); the loop is vmm_run_to_exit with the exit
 * counts, as the labs use them.
 *
 * Runs in: bare metal, 64-bit ring 0 (built by lab03-vmcs-setup/lab.mk as
 * build/vmm/vmm-test.img; run by tests/test_lab03.py). Not student code.
 *
 * The guest (vmm_test_guest, below) sets each register n to PATTERN + n and
 * executes VMCALL; the host checks the saved values, writes RELOAD + n into
 * each, resumes; the guest executes VMCALL again without touching them, so
 * the host sees exactly what vmm_enter loaded; then HLT.
 */
#include "vmm/vmm.h"
#include "vmm/answers/answers.h"

#define PATTERN 0x5A5A5A5A00000000ull
#define RELOAD  0xA5A5A5A500000000ull

/* The guest: only registers, so the test sees exactly what it wrote. */
void vmm_test_guest(void);
__asm__(".text\n"
	".globl vmm_test_guest\n"
	"vmm_test_guest:\n"
	"	movabs $0x5A5A5A5A00000000, %rax\n"
	"	movabs $0x5A5A5A5A00000001, %rcx\n"
	"	movabs $0x5A5A5A5A00000002, %rdx\n"
	"	movabs $0x5A5A5A5A00000003, %rbx\n"
	"	movabs $0x5A5A5A5A00000005, %rbp\n"
	"	movabs $0x5A5A5A5A00000006, %rsi\n"
	"	movabs $0x5A5A5A5A00000007, %rdi\n"
	"	movabs $0x5A5A5A5A00000008, %r8\n"
	"	movabs $0x5A5A5A5A00000009, %r9\n"
	"	movabs $0x5A5A5A5A0000000A, %r10\n"
	"	movabs $0x5A5A5A5A0000000B, %r11\n"
	"	movabs $0x5A5A5A5A0000000C, %r12\n"
	"	movabs $0x5A5A5A5A0000000D, %r13\n"
	"	movabs $0x5A5A5A5A0000000E, %r14\n"
	"	movabs $0x5A5A5A5A0000000F, %r15\n"
	"	vmcall\n"
	"	vmcall\n"
	"1:	hlt\n"
	"	jmp 1b\n");

static vmx_u8 guest_stack[4096] __attribute__((aligned(16)));

static void seg(vmx_u16 sel, vmx_u16 *s, vmx_u64 *base, vmx_u32 *limit, vmx_u32 *ar)
{
	struct vmm_segment d;

	vmm_segment_from_gdt(read_gdtr().base, sel, &d);
	*s = d.selector;
	*base = d.base;
	*limit = d.limit;
	*ar = d.access_rights;
}

static void state_setup(void)
{
	struct vmcs_vars *v = &vmcs_vars;
	struct rt_dtr gdtr = read_gdtr(), idtr = read_idtr();
	struct vmm_segment tr;

	v->GUEST_CR0 = v->HOST_CR0 = read_cr0();
	v->GUEST_CR3 = v->HOST_CR3 = read_cr3();
	v->GUEST_CR4 = v->HOST_CR4 = read_cr4();
	__asm__ volatile("mov %%dr7, %0" : "=r"(v->GUEST_DR7));
	seg(read_cs(), &v->GUEST_CS_SELECTOR, &v->GUEST_CS_BASE, &v->GUEST_CS_LIMIT, &v->GUEST_CS_ACCESS_RIGHTS);
	seg(read_ss(), &v->GUEST_SS_SELECTOR, &v->GUEST_SS_BASE, &v->GUEST_SS_LIMIT, &v->GUEST_SS_ACCESS_RIGHTS);
	seg(read_ds(), &v->GUEST_DS_SELECTOR, &v->GUEST_DS_BASE, &v->GUEST_DS_LIMIT, &v->GUEST_DS_ACCESS_RIGHTS);
	seg(read_es(), &v->GUEST_ES_SELECTOR, &v->GUEST_ES_BASE, &v->GUEST_ES_LIMIT, &v->GUEST_ES_ACCESS_RIGHTS);
	seg(read_fs(), &v->GUEST_FS_SELECTOR, &v->GUEST_FS_BASE, &v->GUEST_FS_LIMIT, &v->GUEST_FS_ACCESS_RIGHTS);
	seg(read_gs(), &v->GUEST_GS_SELECTOR, &v->GUEST_GS_BASE, &v->GUEST_GS_LIMIT, &v->GUEST_GS_ACCESS_RIGHTS);
	seg(read_tr(), &v->GUEST_TR_SELECTOR, &v->GUEST_TR_BASE, &v->GUEST_TR_LIMIT, &v->GUEST_TR_ACCESS_RIGHTS);
	v->GUEST_LDTR_ACCESS_RIGHTS = VMM_AR_UNUSABLE;
	v->GUEST_GDTR_BASE = gdtr.base;
	v->GUEST_GDTR_LIMIT = gdtr.limit;
	v->GUEST_IDTR_BASE = idtr.base;
	v->GUEST_IDTR_LIMIT = idtr.limit;
	v->GUEST_RIP = (vmx_u64)(unsigned long)vmm_test_guest;
	v->GUEST_RSP = (vmx_u64)(unsigned long)(guest_stack + sizeof(guest_stack));
	v->GUEST_RFLAGS = VMX_BITS_MASK(VMX_RFLAGS_FIXED_1);
	v->VMCS_LINK_POINTER = ~0ull;

	v->HOST_CS_SELECTOR = read_cs();
	v->HOST_SS_SELECTOR = read_ss();
	v->HOST_DS_SELECTOR = read_ds();
	v->HOST_ES_SELECTOR = read_es();
	v->HOST_FS_SELECTOR = read_fs();
	v->HOST_GS_SELECTOR = read_gs();
	v->HOST_TR_SELECTOR = read_tr();
	vmm_segment_from_gdt(gdtr.base, read_tr(), &tr);
	v->HOST_TR_BASE = tr.base;
	v->HOST_GDTR_BASE = gdtr.base;
	v->HOST_IDTR_BASE = idtr.base;
	v->HOST_RIP = vmm_host_rip();
}

/* The controls through vmm_control_adjust; first a refusal on purpose. */
static int controls(void)
{
	static const struct { unsigned word; vmx_u64 required; } need[] = {
		{ VMX_WORD_PIN, 0 },
		{ VMX_WORD_PROC, VMX_PROC_HLT_EXITING },
		{ VMX_WORD_EXIT, VMX_EXIT_HOST_ADDRESS_SPACE_SIZE },
		{ VMX_WORD_ENTRY, VMX_ENTRY_IA_32E_MODE_GUEST },
	};
	struct vmm_control_caps c;
	vmx_u64 value = 0;
	unsigned i, bit;

	vmm_control_caps(VMX_WORD_PIN, &c);
	for (bit = 0; bit < 32 && (c.allowed1 & (1ull << bit)); bit++)
		;
	printf("vmm test: requiring PIN bit %u, outside allowed-1 0x%llx\n", bit,
	       (unsigned long long)c.allowed1);
	printf("vmm test: vmm_control_adjust refused: %s\n",
	       vmm_control_adjust(VMX_WORD_PIN, 1ull << bit, 0, &value) == -1 ? "yes" : "no");

	for (i = 0; i < RT_ARRAY_SIZE(need); i++) {
		if (vmm_control_adjust(need[i].word, need[i].required, 0, &value) != 0)
			return -1;
		vmm_control_print(need[i].word, value);
		machine_set(machine_find(vmx_control_word_table[need[i].word].field), value);
	}
	return 0;
}

/* Compare every saved GPR (not RSP) with base + register number. */
static unsigned gprs_match(const struct vmm_gprs *g, vmx_u64 base, const char *what)
{
	unsigned n, ok = 0;

	for (n = 0; n < 16; n++) {
		if (n == 4)
			continue;
		if (g->reg[n] == base + n)
			ok++;
		else
			printf("vmm test: %s: reg[%u] = 0x%llx, want 0x%llx\n", what, n,
			       (unsigned long long)g->reg[n], (unsigned long long)(base + n));
	}
	printf("vmm test: GPRs %s: %u/15 ok\n", what, ok);
	return ok;
}

void lab_main(void)
{
	struct vmm_gprs gprs = { 0 };
	struct vmm_exit e;
	struct vmm_exit_counts counts = { 0 };
	unsigned n;
	int launched = 0;

	printf("vmm test: common/vmm pieces\n");
	if (vmm_vmxon() != 0)
		return;
	if (vmm_vmcs_load(vmm_vmcs_alloc()) != 0)
		return;
	vmm_machine_readback(vmm_machine_load);
	if (vmm_vmcs_load(vmm_vmcs_alloc()) != 0)
		return;
	state_setup();
	if (controls() != 0 || vmm_machine_load() != 0)
		goto off;

	while (vmm_run_to_exit(&gprs, &launched, &e)) {
		vmm_exit_count(&counts, &e);
		vmm_exit_print(&e);
		if (e.basic != VMX_EXIT_REASON_VMCALL)
			break;
		if (counts.total == 1) {
			gprs_match(&gprs, PATTERN, "saved on exit");
			for (n = 0; n < 16; n++)
				gprs.reg[n] = RELOAD + n;
		} else {
			gprs_match(&gprs, RELOAD, "loaded on entry");
		}
		vmm_skip_instruction(&e);
	}
	vmm_exit_counts_print(&counts);
off:
	if (vmm_explain_status("VMXOFF", vmxoff()) == VMX_SUCCEED)
		printf("VMXOFF: ok\n");
}
