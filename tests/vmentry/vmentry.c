/*
 * vmentry.c - the VM-entry differential test: build a valid VMCS for a
 * simple 64-bit guest, break it in ONE way chosen at run time, ask the
 * software checker (common/vmcheck) what is wrong and what the CPU will do,
 * then ask the CPU (Bochs) with VMLAUNCH and print what it did.
 *
 * Runs in: bare metal, 64-bit ring 0, under Bochs (tests/test_vmentry.py).
 * SDM vol. 3C (classic numbering): 23.7 (VMXON), 24 (the VMCS), 26 (VM
 * entries), 27 (VM exits). VMXON, the control words, VMLAUNCH and the exit
 * come from the kit's monitor pieces (common/vmm/vmm.h); this file only
 * writes the VMCS.
 *
 * Choosing the cases: the image holds the 16 bytes "VMENTRY_CASE_NO:"
 * followed by two 32-bit little-endian numbers (vmentry_selector below):
 * the first case and how many cases to run, 0 and 1 in the built image (the
 * valid VMCS only). The test copies the image and writes its numbers after
 * the marker; case numbers are the line order of cases.def. Each case runs
 * on a fresh VMCS with exactly one breakage; running several cases in one
 * boot only saves the BIOS and boot time.
 *
 * Output, per case (one item per line):
 *   case: <n> <NAME>                  the case, and the rule it must break
 *   rule: <RULE>
 *   vmcheck: ...                      the checker's findings (vmcheck.h)
 *   expected: <what the checker says the CPU will do>
 *   outcome: <what the CPU did>       VMfailValid error N / VMfailInvalid /
 *                                     entry failure reason N qualification 0xQ /
 *                                     launched exit reason N
 * Before each case, a VMCLEAR of a misaligned address makes Bochs write the
 * line "VMFAIL: VMCLEAR with invalid physical address" to its log: the test
 * uses it to cut the Bochs log into one part per case.
 */
#include "vmentry.h"

#include "vmx/errors.h"
#include "vmx/exit_reasons.h"
#include "vmcheck/vmcheck.h"

/* The run-time case selector the test patches in the image file. */
struct vmentry_selector {
	char magic[16];
	uint32_t first;                 /* first case to run */
	uint32_t count;                 /* how many, in order */
};
volatile struct vmentry_selector vmentry_selector __attribute__((used)) = {
	{ 'V', 'M', 'E', 'N', 'T', 'R', 'Y', '_', 'C', 'A', 'S', 'E', '_', 'N', 'O', ':' }, 0, 1
};

struct vmentry_env env;

void vmentry_guest64(void);     /* guest.asm: the guest's code */

/* ------------------------------------------------------------------------ */

uint64_t vmentry_read(uint32_t field, const char *name)
{
	uint64_t v = 0;

	if (vmread(field, &v) != VMX_SUCCEED)
		rt_panic("vmentry: VMREAD of %s failed (error %u)", name, vmx_instruction_error());
	return v;
}

void vmentry_write(uint32_t field, const char *name, uint64_t value)
{
	if (vmwrite(field, value) != VMX_SUCCEED)
		rt_panic("vmentry: VMWRITE of %s = 0x%llx failed (error %u)", name,
			 (unsigned long long)value, vmx_instruction_error());
}

int vmentry_not_applicable(const char *why)
{
	printf("case: not applicable on this CPU: %s\n", why);
	return -1;
}

int vmentry_required1_bit(enum vmx_control_word word)
{
	for (int b = 0; b < 32; b++)
		if (env.cap[word].allowed0 & (1ull << b))
			return b;
	return -1;
}

int vmentry_required0_bit(enum vmx_control_word word)
{
	for (int b = 0; b < 32; b++)
		if (!(env.cap[word].allowed1 & (1ull << b)))
			return b;
	return -1;
}

int vmentry_allowed(enum vmx_control_word word, uint64_t mask)
{
	return env.cap[word].available && (env.cap[word].allowed1 & mask) == mask;
}

/* The control value with every bit the CPU requires, plus `required`. */
static uint32_t controls(enum vmx_control_word word, uint64_t required)
{
	vmx_u64 value = 0;

	if (vmm_control_adjust(word, required, 0, &value) < 0)
		rt_panic("vmentry: this CPU cannot run the valid VMCS's guest");
	return (uint32_t)value;
}

/* ------------------------------------------------------------------------ */
/* VMX operation (SDM 23.7, 23.8)                                            */
/* ------------------------------------------------------------------------ */

static void vmx_on(void)
{
	if (vmm_vmxon() < 0)
		rt_panic("vmentry: VMXON failed (see above)");
	env.basic = rdmsr(IA32_VMX_BASIC);
	for (int w = 0; w < VMX_WORD_COUNT; w++)
		vmm_control_caps(w, &env.cap[w]);
	env.misc = rdmsr(IA32_VMX_MISC);
	env.phys_bits = cpu_phys_address_width();
	env.zero_page = page_alloc();
}

/* A fresh, clear, current VMCS and scratch page for one case. */
static void new_vmcs(void)
{
	void *vmcs = vmm_vmcs_alloc();

	env.vmcs_phys = (uint64_t)(uintptr_t)vmcs;
	if (vmm_vmcs_load(vmcs) < 0)
		rt_panic("vmentry: VMCLEAR/VMPTRLD failed (see above)");
	env.scratch = page_alloc();
}

/* ------------------------------------------------------------------------ */
/* The valid VMCS: a 64-bit guest on the host's page tables and GDT          */
/* ------------------------------------------------------------------------ */

static uint8_t guest_stack[4096] __attribute__((aligned(16)));

static void write_valid_vmcs(void)
{
	struct rt_dtr gdtr = read_gdtr(), idtr = read_idtr();
	uint64_t tss = (uint64_t)(uintptr_t)boot_tss;

	/* Controls: nothing optional, except a 64-bit host and a 64-bit guest,
	 * and every exception exits (a guest that faults still ends the run). */
	WR32(PIN_BASED_VM_EXECUTION_CONTROLS, controls(VMX_WORD_PIN, 0));
	WR32(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, controls(VMX_WORD_PROC, 0));
	WR32(PRIMARY_VM_EXIT_CONTROLS, controls(VMX_WORD_EXIT, VMX_EXIT_HOST_ADDRESS_SPACE_SIZE));
	WR32(VM_ENTRY_CONTROLS, controls(VMX_WORD_ENTRY, VMX_ENTRY_IA_32E_MODE_GUEST));
	WR32(EXCEPTION_BITMAP, 0xFFFFFFFF);
	WR32(CR3_TARGET_COUNT, 0);
	WR32(VM_EXIT_MSR_STORE_COUNT, 0);
	WR32(VM_EXIT_MSR_LOAD_COUNT, 0);
	WR32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	WR32(VM_ENTRY_INTERRUPTION_INFORMATION, 0);

	/* Host state: the machine as it runs now (SDM 24.5). The runtime
	 * uses neither FS/GS bases nor SYSENTER, so those are 0. */
	WR_NATURAL(HOST_CR0, read_cr0());
	WR_NATURAL(HOST_CR3, read_cr3());
	WR_NATURAL(HOST_CR4, read_cr4());
	WR16(HOST_CS_SELECTOR, read_cs());
	WR16(HOST_SS_SELECTOR, read_ss());
	WR16(HOST_DS_SELECTOR, read_ds());
	WR16(HOST_ES_SELECTOR, read_es());
	WR16(HOST_FS_SELECTOR, read_fs());
	WR16(HOST_GS_SELECTOR, read_gs());
	WR16(HOST_TR_SELECTOR, read_tr());
	WR_NATURAL(HOST_FS_BASE, 0);
	WR_NATURAL(HOST_GS_BASE, 0);
	WR_NATURAL(HOST_TR_BASE, tss);
	WR_NATURAL(HOST_GDTR_BASE, gdtr.base);
	WR_NATURAL(HOST_IDTR_BASE, idtr.base);
	WR32(HOST_IA32_SYSENTER_CS, 0);
	WR_NATURAL(HOST_IA32_SYSENTER_ESP, 0);
	WR_NATURAL(HOST_IA32_SYSENTER_EIP, 0);
	WR_NATURAL(HOST_RIP, vmm_host_rip());   /* HOST_RSP: vmm_run sets it */

	/* Guest state (SDM 24.4): the host's CR0/CR3/CR4 and GDT, a flat 64-bit
	 * code segment, flat data segments, the boot TSS as a busy TSS. */
	WR_NATURAL(GUEST_CR0, read_cr0());
	WR_NATURAL(GUEST_CR3, read_cr3());
	WR_NATURAL(GUEST_CR4, read_cr4());
	WR_NATURAL(GUEST_DR7, DR7_INIT);
	WR_NATURAL(GUEST_RSP, (uint64_t)(uintptr_t)(guest_stack + sizeof guest_stack));
	WR_NATURAL(GUEST_RIP, (uint64_t)(uintptr_t)vmentry_guest64);
	WR_NATURAL(GUEST_RFLAGS, RFLAGS_FIXED1);

	WR16(GUEST_CS_SELECTOR, RT_SEL_CODE64);
	WR_NATURAL(GUEST_CS_BASE, 0);
	WR32(GUEST_CS_LIMIT, 0xFFFFFFFF);
	WR32(GUEST_CS_ACCESS_RIGHTS, AR_CODE64);
#define FLAT_DATA(SEG)                                  \
	WR16(GUEST_##SEG##_SELECTOR, RT_SEL_DATA);      \
	WR_NATURAL(GUEST_##SEG##_BASE, 0);              \
	WR32(GUEST_##SEG##_LIMIT, 0xFFFFFFFF);          \
	WR32(GUEST_##SEG##_ACCESS_RIGHTS, AR_DATA)
	FLAT_DATA(SS);
	FLAT_DATA(DS);
	FLAT_DATA(ES);
	FLAT_DATA(FS);
	FLAT_DATA(GS);
#undef FLAT_DATA
	WR16(GUEST_LDTR_SELECTOR, 0);
	WR_NATURAL(GUEST_LDTR_BASE, 0);
	WR32(GUEST_LDTR_LIMIT, 0);
	WR32(GUEST_LDTR_ACCESS_RIGHTS, AR_UNUSABLE);
	WR16(GUEST_TR_SELECTOR, RT_SEL_TSS);
	WR_NATURAL(GUEST_TR_BASE, tss);
	WR32(GUEST_TR_LIMIT, TSS64_LIMIT);
	WR32(GUEST_TR_ACCESS_RIGHTS, AR_TSS_BUSY);
	WR_NATURAL(GUEST_GDTR_BASE, gdtr.base);
	WR32(GUEST_GDTR_LIMIT, gdtr.limit);
	/* No IDT: every exception exits through the exception bitmap, and an
	 * injected event that Bochs wrongly lets through faults on the limit
	 * and exits too, instead of running the host's handlers in the guest. */
	WR_NATURAL(GUEST_IDTR_BASE, idtr.base);
	WR32(GUEST_IDTR_LIMIT, 0);

	WR64(GUEST_IA32_DEBUGCTL, 0);
	WR32(GUEST_IA32_SYSENTER_CS, 0);
	WR_NATURAL(GUEST_IA32_SYSENTER_ESP, 0);
	WR_NATURAL(GUEST_IA32_SYSENTER_EIP, 0);
	WR64(VMCS_LINK_POINTER, ~0ull);
	WR32(GUEST_ACTIVITY_STATE, VMX_ACTIVITY_ACTIVE);
	WR32(GUEST_INTERRUPTIBILITY_STATE, 0);
	WR_NATURAL(GUEST_PENDING_DEBUG_EXCEPTIONS, 0);
}

void vmentry_make_v86_guest(void)
{
	/* Real-mode-like segments at 1000:0000 (base 0x10000), 32-bit paging
	 * over a zeroed page directory: the first instruction fetch raises #PF,
	 * which the exception bitmap turns into a VM exit (reason 0). */
	CLR32(VM_ENTRY_CONTROLS, VMX_ENTRY_IA_32E_MODE_GUEST);
	CLR_NATURAL(GUEST_CR4, CPU_CR4_PAE | CPU_CR4_PCIDE);
	WR_NATURAL(GUEST_CR3, (uint64_t)(uintptr_t)env.zero_page);
	WR_NATURAL(GUEST_RFLAGS, RFLAGS_FIXED1 | CPU_RFLAGS_VM);
	WR_NATURAL(GUEST_RIP, 0);
	WR_NATURAL(GUEST_RSP, 0xFFF0);
#define V86_SEG(SEG)                                                                \
	WR16(GUEST_##SEG##_SELECTOR, V86_SELECTOR);                                 \
	WR_NATURAL(GUEST_##SEG##_BASE, V86_SELECTOR << VMX_V86_SEGMENT_BASE_SHIFT); \
	WR32(GUEST_##SEG##_LIMIT, VMX_V86_SEGMENT_LIMIT);                           \
	WR32(GUEST_##SEG##_ACCESS_RIGHTS, AR_V86)
	V86_SEG(CS);
	V86_SEG(SS);
	V86_SEG(DS);
	V86_SEG(ES);
	V86_SEG(FS);
	V86_SEG(GS);
#undef V86_SEG
}

/* EPTP (SDM 24.6.11, vmx_layouts.def EPTP): write-back, four levels. */
#define EPTP_MEMORY_TYPE_WB VMX_BITS_PUT(VMX_EPTP_MEMORY_TYPE, VMX_MEMORY_TYPE_WB)
#define EPTP_WALK_LENGTH_4  VMX_BITS_PUT(VMX_EPTP_PAGE_WALK_LENGTH_MINUS_1, 4 - 1)

int vmentry_make_real_mode_guest(void)
{
	/* lab05's unrestricted guest: CR0.PE = PG = 0, real-mode segments at
	 * 0000:1000, EPT over an empty PML4 (the zero page): the first fetch is
	 * an EPT violation (exit reason 48). */
	if (!vmentry_allowed(VMX_WORD_PROC2, VMX_PROC2_UNRESTRICTED_GUEST | VMX_PROC2_ENABLE_EPT) ||
	    !VMX_MSR_FIELD_GET(rdmsr(IA32_VMX_EPT_VPID_CAP), IA32_VMX_EPT_VPID_CAP_MEMORY_TYPE_WB))
		return vmentry_not_applicable("no unrestricted guest with write-back EPT");
	SET32(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_ACTIVATE_SECONDARY_CONTROLS);
	WR32(SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, env.cap[VMX_WORD_PROC2].allowed0 |
	   VMX_PROC2_UNRESTRICTED_GUEST | VMX_PROC2_ENABLE_EPT);
	WR64(EPT_POINTER, (uint64_t)(uintptr_t)env.zero_page | EPTP_MEMORY_TYPE_WB | EPTP_WALK_LENGTH_4);
	CLR32(VM_ENTRY_CONTROLS, VMX_ENTRY_IA_32E_MODE_GUEST);
	CLR_NATURAL(GUEST_CR0, CPU_CR0_PE | CPU_CR0_PG);
	CLR_NATURAL(GUEST_CR4, CPU_CR4_PAE | CPU_CR4_PCIDE);
	WR_NATURAL(GUEST_RIP, 0x1000);
	WR_NATURAL(GUEST_RSP, 0xFFF0);
#define REAL_SEG(SEG, TYPE)                                             \
	WR16(GUEST_##SEG##_SELECTOR, 0);                                \
	WR_NATURAL(GUEST_##SEG##_BASE, 0);                              \
	WR32(GUEST_##SEG##_LIMIT, 0xFFFF);                              \
	WR32(GUEST_##SEG##_ACCESS_RIGHTS, (TYPE) | AR_S | AR_P)
	REAL_SEG(CS, AR_TYPE_CODE_XR_ACCESSED);
	REAL_SEG(SS, AR_TYPE_DATA_RW_ACCESSED);
	REAL_SEG(DS, AR_TYPE_DATA_RW_ACCESSED);
	REAL_SEG(ES, AR_TYPE_DATA_RW_ACCESSED);
	REAL_SEG(FS, AR_TYPE_DATA_RW_ACCESSED);
	REAL_SEG(GS, AR_TYPE_DATA_RW_ACCESSED);
#undef REAL_SEG
	return 0;
}

/* ------------------------------------------------------------------------ */

/* VMLAUNCH, and what the CPU did. */
static void launch_and_print_outcome(void)
{
	struct vmm_gprs gprs = { 0 };
	struct vmm_exit e;
	int status = vmm_run(&gprs, 0);

	if (status == VMX_FAIL_INVALID) {
		printf("outcome: VMfailInvalid\n");
	} else if (status == VMX_FAIL_VALID) {
		uint32_t n = vmx_instruction_error();
		const char *text = vmx_instruction_error_text(n);
		printf("outcome: VMfailValid error %u (%s)\n", n, text ? text : "unknown");
	} else {
		vmm_exit_read(&e);
		if (e.entry_failure)
			printf("outcome: entry failure reason %u qualification 0x%llx (%s)\n", e.basic,
			       (unsigned long long)e.qualification, vmx_exit_reason_name(e.basic));
		else
			printf("outcome: launched exit reason %u (%s)\n", e.basic, vmx_exit_reason_name(e.basic));
	}
}

static void run_case(uint32_t n)
{
	const struct vmentry_case *c = &vmentry_cases[n];
	struct vmcheck_expectation e;

	vmclear(1);             /* misaligned: Bochs logs a VMFAIL line, the log separator */
	new_vmcs();
	printf("case: %u %s\n", n, c->name);
	printf("rule: %s\n", c->rule);
	write_valid_vmcs();
	if (c->apply && c->apply() < 0)
		return;
	vmcheck_current_vmcs();
	vmcheck_expected_outcome(&e);
	vmcheck_print_expectation("expected: ", &e);
	launch_and_print_outcome();
}

void lab_main(void)
{
	uint32_t first = vmentry_selector.first, count = vmentry_selector.count;

	if (first >= (uint32_t)vmentry_case_count || count > (uint32_t)vmentry_case_count - first) {
		printf("vmentry: error: cases %u..%u do not exist (cases are 0..%d)\n",
		       first, first + count - 1, vmentry_case_count - 1);
		return;
	}
	vmx_on();
	for (uint32_t n = first; n < first + count; n++)
		run_case(n);
	printf("vmentry: %u case(s) run\n", count);
}
