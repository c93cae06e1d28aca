/*
 * vm86demo.c - lab04's run: a 64-bit host launches a virtual-8086 guest whose
 * `smsw` shows what the CR0 guest/host mask and the CR0 read shadow make of
 * the real CR0, then handles every VM exit until the guest is done.
 *
 * Runs in: bare metal, 64-bit ring 0 (lab_main, called by the runtime).
 * Builds on lab03: the host state comes from lab03's vmxstep2.c, the VMCS
 * is written by the machine[] table and loop of common/vmm (the loop lab03
 * writes), VMXON, control adjustment, the exit stub and exit decoding come
 * from common/vmm, and the software VM-entry checker from common/vmcheck.
 * SDM vol. 3C (classic numbering): 24.6.6 (guest/host masks and read
 * shadows for CR0 and CR4), 25.1.3 (instructions that cause VM exits
 * conditionally: MOV to CR0/CR4, CLTS, LMSW, IN/OUT), 25.3 (how reads of
 * CR0/CR4 see the shadows), 26.3 (VM-entry checks on the guest state),
 * 27.2 (exit information).
 *
 * The CR0 guest/host mask decides, bit by bit, who owns CR0:
 *
 *     mask bit 0:  the guest owns the bit: reads see the real CR0 bit,
 *                  writes change it
 *     mask bit 1:  the host owns the bit: reads (SMSW, MOV from CR0) see the
 *                  read-shadow bit; a write that would change it to a value
 *                  other than the shadow's causes a VM exit
 *
 * so the guest reads     (actual & ~mask) | (shadow & mask)
 *
 * Output (one item per line; tests/test_lab04.py and tests/grade/lab04.py
 * read these by regex):
 *   CR0 actual: / CR0 mask: / CR0 shadow: / CR0 expected:   before VMLAUNCH
 *   CR4 actual: / CR4 mask: / CR4 shadow: / CR4 expected:
 *   exit: NAME qualification 0x...                           every VM exit
 *   exception: vector ...                                    decoded details
 *   guest smsw: 0x........                                   printed by the guest
 *   exit count: NAME N ... exits: N                          the summary
 */
#include "lab04.h"
#include "vmcheck/vmcheck.h"

/* lab03's vmxstep2.c: the HOST_* variables of vmcs_vars. */
void host_state_setup(void);

/* BIOS data area: the timer tick count the BIOS keeps at 0040:006C. */
#define BDA_TIMER_TICKS_PHYS 0x46Cu

/* The host stops a guest that keeps exiting without end (a broken handler). */
#define MAX_EXITS 100000u

/* Exception mnemonics, vectors 0-31 (SDM vol. 3A 6.3.1, table 6-1). */
enum { VECTOR_GP = 13 };        /* general protection: what the final hlt raises */
static const char *const exception_mnemonic[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "(15)",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "(22)", "(23)",
	"(24)", "(25)", "(26)", "(27)", "(28)", "(29)", "(30)", "(31)",
};

/* Interruption types (SDM 24.9.2, table "Format of the VM-Exit
 * Interruption-Information Field", bits 10:8). */
static const char *const interruption_type[8] = {
	"external interrupt", "(type 1)", "NMI", "hardware exception",
	"software interrupt", "privileged software exception", "software exception",
	"other event",
};

/* slide: guest-view */
/* What a guest read of a masked control register returns (SDM 25.3). */
static vmx_u64 guest_view(vmx_u64 actual, vmx_u64 mask, vmx_u64 shadow)
{
	return (actual & ~mask) | (shadow & mask);
}
/* end slide */

/*
 * The bits of CR0 that VM entry does not load from GUEST_CR0 (SDM 26.3.2.1):
 * ET, NW, CD and the reserved bits keep the value they had in the host.
 * The reserved bits are the ones cpu_bits.def does not name.
 */
static vmx_u64 cr0_bits_kept_by_entry(void)
{
	vmx_u64 named = 0;

	for (unsigned i = 0; i < CPU_REG_BIT_COUNT; i++)
		if (cpu_reg_bit_table[i].reg == CPU_REG_CR0)
			named |= 1ull << cpu_reg_bit_table[i].bit;
	return CPU_CR0_ET | CPU_CR0_NW | CPU_CR0_CD | (~named & 0xFFFFFFFFull);
}

/* `names` of the CR0/CR4 bits set in `bits`, e.g. " PE PG". */
static void print_bit_names(unsigned reg, vmx_u64 bits)
{
	for (unsigned b = 0; b < 64; b++)
		if (bits & (1ull << b)) {
			const char *n = cpu_reg_bit_name(reg, b);
			if (n)
				printf(" %s", n);
			else
				printf(" bit%u", b);
		}
}

/*
 * Say which bits of a requested guest CR0 the fixed-bit MSRs forbid (SDM
 * A.7): the checker names the rule, this names the bits.
 */
static void explain_guest_cr0(vmx_u64 cr0)
{
	vmx_u64 fixed0 = rdmsr(IA32_VMX_CR0_FIXED0), fixed1 = rdmsr(IA32_VMX_CR0_FIXED1);
	vmx_u64 missing = fixed0 & ~cr0, extra = cr0 & ~fixed1 & 0xFFFFFFFFull;

	if (missing) {
		printf("GUEST_CR0 0x%08llx lacks bits IA32_VMX_CR0_FIXED0 (0x%llx) requires:",
		       (unsigned long long)cr0, (unsigned long long)fixed0);
		print_bit_names(CPU_REG_CR0, missing);
		printf("\n");
	}
	if (extra) {
		printf("GUEST_CR0 0x%08llx sets bits IA32_VMX_CR0_FIXED1 (0x%llx) forbids:",
		       (unsigned long long)cr0, (unsigned long long)fixed1);
		print_bit_names(CPU_REG_CR0, extra);
		printf("\n");
	}
}

/* Store control word `word` = its adjusted value in vmcs_vars. */
static int set_control(unsigned word, vmx_u64 required, vmx_u64 forbidden)
{
	vmx_u64 value;

	if (vmm_control_adjust(word, required, 0, &value) != 0)
		return -1;
	if (value & forbidden) {
		printf("control %s: this CPU forces bits 0x%llx that lab04 needs clear\n",
		       vmm_control_word_name(word), (unsigned long long)(value & forbidden));
		return -1;
	}
	vmm_control_print(word, value);
	machine_set(machine_find(vmx_control_word_table[word].field), value);
	return 0;
}

/*
 * The controls of lab04: I/O through the bitmaps (COM1 passes through) or,
 * with IO_EXITING=1, every I/O instruction exits; a 64-bit host after each
 * exit; a guest that is NOT in IA-32e mode (it is a 32-bit protected-mode
 * task in virtual-8086 mode).
 */
static int controls_setup(const struct vm86_layout *m)
{
	vmx_u64 io = LAB04_PARAM(IO_EXITING) ? VMX_PROC_UNCONDITIONAL_IO_EXITING : VMX_PROC_USE_IO_BITMAPS;

	if (set_control(VMX_WORD_PIN, 0, 0) || set_control(VMX_WORD_PROC, io, 0) ||
	    set_control(VMX_WORD_EXIT, VMX_EXIT_HOST_ADDRESS_SPACE_SIZE, 0) ||
	    set_control(VMX_WORD_ENTRY, 0, VMX_ENTRY_IA_32E_MODE_GUEST))
		return -1;

	vmcs_vars.IO_BITMAP_A_ADDRESS = rt_virt_to_phys(m->io_bitmap_a);
	vmcs_vars.IO_BITMAP_B_ADDRESS = rt_virt_to_phys(m->io_bitmap_b);
	vmcs_vars.EXCEPTION_BITMAP = LAB04_PARAM(EXCEPTION_BITMAP);
	vmcs_vars.PAGE_FAULT_ERROR_CODE_MASK = 0;      /* with match 0: every #PF */
	vmcs_vars.PAGE_FAULT_ERROR_CODE_MATCH = 0;     /* follows bitmap bit 14 */
	vmcs_vars.CR3_TARGET_COUNT = 0;
	printf("io: %s\n", LAB04_PARAM(IO_EXITING) ?
	       "every IN/OUT exits (unconditional I/O exiting); the host emulates COM1" :
	       "I/O bitmaps: COM1 (0x3f8-0x3ff) passes through, other ports exit");
	printf("exception bitmap: 0x%08x\n", LAB04_PARAM(EXCEPTION_BITMAP));
	return 0;
}

/* Print `NAME actual/mask/shadow/expected` for CR0 or CR4. */
static void print_cr_view(const char *reg, vmx_u64 actual, vmx_u64 mask, vmx_u64 shadow)
{
	printf("%s actual: 0x%08llx\n", reg, (unsigned long long)actual);
	printf("%s mask: 0x%08llx\n", reg, (unsigned long long)mask);
	printf("%s shadow: 0x%08llx\n", reg, (unsigned long long)shadow);
	printf("%s expected: 0x%08llx\n", reg, (unsigned long long)guest_view(actual, mask, shadow));
}

/* One line for an exception exit: vector, type, error code (SDM 27.2.2). */
static unsigned report_exception(const struct vmm_exit *e)
{
	vmx_u32 info = e->interruption_info;
	unsigned vector = (unsigned)VMX_BITS_GET(info, VMX_INTR_INFO_EXIT_VECTOR);
	unsigned type = (unsigned)VMX_BITS_GET(info, VMX_INTR_INFO_EXIT_TYPE);
	vmx_u32 code, idt;

	printf("exception: vector %u %s, %s", vector, vector < 32 ? exception_mnemonic[vector] : "",
	       interruption_type[type]);
	if (info & VMX_BITS_MASK(VMX_INTR_INFO_EXIT_ERROR_CODE_VALID)) {
		vmcs_read32(VMCS_VM_EXIT_INTERRUPTION_ERROR_CODE, &code);
		printf(", error code 0x%llx", (unsigned long long)code);
	} else {
		printf(", no error code");
	}
	printf(", at %04x:%04llx\n", GUEST_SEGMENT, (unsigned long long)e->guest_rip);

	/* Was the CPU delivering another event when this one happened?  The
	 * IDT-vectoring information has the VM-exit interruption-information
	 * layout (SDM 24.9.3). */
	vmcs_read32(VMCS_IDT_VECTORING_INFORMATION, &idt);
	if (idt & VMX_BITS_MASK(VMX_INTR_INFO_EXIT_VALID)) {
		unsigned idt_vector = (unsigned)VMX_BITS_GET(idt, VMX_INTR_INFO_EXIT_VECTOR);

		printf("idt vectoring: vector %u %s was being delivered\n", idt_vector,
		       idt_vector < 32 ? exception_mnemonic[idt_vector] : "");
	}
	return vector;
}

/* Run the guest until it is done; count and report every exit. */
static void run_guest(const struct vm86_layout *m)
{
	struct vmm_gprs g = { 0 };
	struct vmm_exit e;
	struct vm86_io io;
	struct vm86_io_stats st = { 0 };
	struct vmm_exit_counts counts = { 0 };
	int launched = 0, log = LAB04_PARAM(EXIT_LOG) != 0;

	g.rcx = LAB04_PARAM(IO_BURST);          /* the guest's step 4 */
	printf("VMLAUNCH: CS:IP %04x:%04llx SS:SP %04x:%04llx RFLAGS 0x%llx; guest lines follow\n",
	       vmcs_vars.GUEST_CS_SELECTOR, (unsigned long long)vmcs_vars.GUEST_RIP,
	       vmcs_vars.GUEST_SS_SELECTOR, (unsigned long long)vmcs_vars.GUEST_RSP,
	       (unsigned long long)vmcs_vars.GUEST_RFLAGS);
	while (vmm_run_to_exit(&g, &launched, &e)) {       /* common/vmm: enter, explain failures */
		vmm_exit_count(&counts, &e);
		if (e.basic != VMX_EXIT_REASON_IO_INSTRUCTION)
			vmm_exit_print(&e);     /* I/O exits: vm86_io_exit prints */

		if (e.basic == VMX_EXIT_REASON_IO_INSTRUCTION) {
			if (vm86_io_exit(&e, &g, &io, &st, log) != 0)
				break;
			if (counts.total >= MAX_EXITS) {
				printf("lab04: %u exits: the guest does not end; stopping it\n", MAX_EXITS);
				break;
			}
			continue;
		}
		if (e.basic == VMX_EXIT_REASON_EXCEPTION_OR_NMI) {
			unsigned vector = report_exception(&e);

			if (vector == VECTOR_GP && e.guest_rip == m->final_hlt)
				printf("guest: done (its final hlt raised #GP: hlt is privileged at CPL 3)\n");
			else
				printf("guest: stopped by this exception\n");
			break;
		}
		if (e.basic == VMX_EXIT_REASON_TRIPLE_FAULT) {
			printf("guest: stopped by a triple fault (an exception the exception bitmap "
			       "let through found no guest IDT, and so did the faults that followed)\n");
			break;
		}
		printf("guest: stopped: lab04 does not handle exit %s\n", vmm_exit_name(e.basic));
		break;
	}
	vm86_io_flush();

	if (launched) {
		vmx_u64 cr0;
		vmcs_read_natural(VMCS_GUEST_CR0, &cr0);
		printf("CR0 after exit: 0x%08llx\n", (unsigned long long)cr0);
	}
	vmm_exit_counts_print(&counts);         /* exit count: NAME N ... exits: N */
	if (LAB04_PARAM(IO_EXITING))
		printf("io emulated: %lu bytes sent, %lu LSR reads, %lu other\n",
		       st.bytes_sent, st.lsr_reads, st.other);
}

/* The CR0 and CR4 masks and shadows of the guest (also the lab05
 * monitor's, for this guest: it links this file as its vm86 module). */
void vm86_cr_masks(void)
{
	/* TODO(lab04): the CR0 and CR4 guest/host masks and read shadows
	 * (vmcs_vars.CR0_GUEST_HOST_MASK, CR0_READ_SHADOW, CR4_GUEST_HOST_MASK,
	 * CR4_READ_SHADOW) from the parameters: LAB04_PARAM(CR0_MASK), ... */
}

void lab_main(void)
{
	struct vm86_layout m;
	vmx_u64 guest_cr0, guest_cr4;

	printf("lab04: a virtual-8086 guest; its smsw shows the CR0 guest/host mask and read shadow\n");
	lab04_params_print();

	if (vmm_vmxon() != 0)
		return;
	if (vmm_vmcs_load(vmm_vmcs_alloc()) != 0)
		goto off;

	/* The guest: memory, page tables, TSS, then its VMCS guest state.
	 * Default guest CR0: the bits VMX operation fixes to 1 (PE, NE, PG on
	 * every CPU without "unrestricted guest") plus ET. */
	vm86_guest_build(&m);
	printf("IA32_VMX_CR0_FIXED0: 0x%08llx (CR0 bits that must be 1)\n",
	       (unsigned long long)rdmsr(IA32_VMX_CR0_FIXED0));
	printf("IA32_VMX_CR0_FIXED1: 0x%08llx (CR0 bits that may be 1)\n",
	       (unsigned long long)rdmsr(IA32_VMX_CR0_FIXED1));
	guest_cr0 = LAB04_GIVEN(GUEST_CR0) ? LAB04_PARAM(GUEST_CR0)
					   : rdmsr(IA32_VMX_CR0_FIXED0) | CPU_CR0_ET;
	guest_cr4 = rdmsr(IA32_VMX_CR4_FIXED0);
	vm86_guest_state(&m, guest_cr0, guest_cr4);
	host_state_setup();
	if (controls_setup(&m) != 0)
		goto off;

	vm86_cr_masks();

	/* What the guest will see.  "actual" is the CR0 the guest runs with:
	 * GUEST_CR0 except the bits VM entry keeps from the host (SDM 26.3.2.1). */
	vmx_u64 kept = cr0_bits_kept_by_entry();
	vmx_u64 cr0_actual = (guest_cr0 & ~kept) | (read_cr0() & kept);
	print_cr_view("CR0", cr0_actual & 0xFFFFFFFFull, vmcs_vars.CR0_GUEST_HOST_MASK,
		      vmcs_vars.CR0_READ_SHADOW);
	print_cr_view("CR4", guest_cr4, vmcs_vars.CR4_GUEST_HOST_MASK, vmcs_vars.CR4_READ_SHADOW);

	/* The BIOS tick count as the host sees it (physical 0x46C): the guest
	 * reads the same dword as 0040:006C. */
	volatile vmx_u32 *ticks = (volatile vmx_u32 *)(uintptr_t)BDA_TIMER_TICKS_PHYS;
	__asm__("" : "+r"(ticks));      /* an address, not a null-page constant, to GCC */
	printf("host bios ticks: 0x%08x\n", *ticks);

	if (vmm_machine_load() != 0)
		goto off;

	/* The software VM-entry checker first (common/vmcheck): a guest state
	 * the CPU would refuse is refused here, rule by rule, before launch. */
	if (vmcheck_current_vmcs() != 0) {
		if (vmcheck_named("GUEST_CR0_FIXED_BITS"))
			explain_guest_cr0(guest_cr0);
		printf("lab04: the checker refuses this VMCS; not launching\n");
		goto off;
	}

	run_guest(&m);
off:
	if (vmm_explain_status("VMXOFF", vmxoff()) == VMX_SUCCEED)
		printf("VMXOFF: ok\n");
}
