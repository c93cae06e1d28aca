/*
 * vmentry.c - the VM-entry differential test: build a valid VMCS for a
 * simple 64-bit guest, break it in ONE way chosen at run time, ask the
 * software checker (common/vmcheck) what is wrong and what the CPU will do,
 * then ask the CPU (Bochs) with VMLAUNCH and print what it did.
 *
 * Runs in: bare metal, 64-bit ring 0, under Bochs (tests/test_vmentry.py).
 * SDM vol. 3C (classic numbering): 23.7 (VMXON), 24 (the VMCS), 26 (VM
 * entries), 27 (VM exits).
 *
 Choosing the cases: the image holds the 16 bytes "VMENTRY_CASE_NO:"
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
#include "../../common/vmcheck/vmcheck.h"

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

/* launch.asm */
int vmentry_launch(uint64_t host_rsp_field);
void vmentry_exited(void);      /* HOST_RIP */
void vmentry_guest64(void);     /* the guest's code */

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

uint32_t vmentry_adjust(enum vmx_control_word word, uint32_t value)
{
	value |= (uint32_t)env.cap[word];               /* allowed 0-settings: must be 1 */
	value &= (uint32_t)(env.cap[word] >> 32);       /* allowed 1-settings: may be 1 */
	return value;
}

int vmentry_required1_bit(enum vmx_control_word word)
{
	for (int b = 0; b < 32; b++)
		if ((uint32_t)env.cap[word] & (1u << b))
			return b;
	return -1;
}

int vmentry_required0_bit(enum vmx_control_word word)
{
	for (int b = 0; b < 32; b++)
		if (!((env.cap[word] >> 32) & (1u << b)))
			return b;
	return -1;
}

int vmentry_allowed(enum vmx_control_word word, uint64_t mask)
{
	return ((env.cap[word] >> 32) & mask) == mask;
}

/* ------------------------------------------------------------------------ */
/* VMX operation (SDM 23.7, 23.8)                                            */
/* ------------------------------------------------------------------------ */

#define CPUID_1_ECX_VMX (1u << 5)       /* CPUID.1:ECX[5]: VMX supported (SDM 23.6) */

static void read_capabilities(void)
{
	int truectl;

	env.basic = rdmsr(IA32_VMX_BASIC);
	truectl = VMX_MSR_FIELD_GET(env.basic, IA32_VMX_BASIC_TRUE_CONTROLS) != 0;
	for (int w = 0; w < VMX_WORD_COUNT; w++) {
		const struct vmx_control_word_info *i = &vmx_control_word_table[w];
		if (w == VMX_WORD_PIN || w == VMX_WORD_PROC || w == VMX_WORD_EXIT || w == VMX_WORD_ENTRY)
			env.cap[w] = rdmsr(truectl && i->true_msr ? i->true_msr : i->msr);
	}
	/* IA32_VMX_PROCBASED_CTLS2 exists only if the secondary controls may be used (A.3.3). */
	if (vmentry_allowed(VMX_WORD_PROC, VMX_PROC_ACTIVATE_SECONDARY_CONTROLS))
		env.cap[VMX_WORD_PROC2] = rdmsr(IA32_VMX_PROCBASED_CTLS2);
	env.misc = rdmsr(IA32_VMX_MISC);
	env.phys_bits = cpuid(0x80000000, 0).eax >= 0x80000008 ? (cpuid(0x80000008, 0).eax & 0xFF) : 36;
}

static void vmx_on(void)
{
	uint64_t fc = rdmsr(IA32_FEATURE_CONTROL);
	uint32_t revision;
	uint32_t *vmxon_region;

	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX))
		rt_panic("vmentry: this CPU has no VMX (CPUID.1:ECX[5] = 0); use a Bochs model with VMX");
	if (!VMX_MSR_FIELD_GET(fc, IA32_FEATURE_CONTROL_LOCK))
		wrmsr(IA32_FEATURE_CONTROL, fc | VMX_MSR_FIELD_MASK(IA32_FEATURE_CONTROL_LOCK) |
			  VMX_MSR_FIELD_MASK(IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX));
	else if (!VMX_MSR_FIELD_GET(fc, IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		rt_panic("vmentry: IA32_FEATURE_CONTROL is locked with VMX off (0x%llx)", (unsigned long long)fc);

	read_capabilities();
	/* CR0 and CR4 inside the fixed bits of VMX operation (SDM 23.8, A.7, A.8). */
	write_cr0((read_cr0() | rdmsr(IA32_VMX_CR0_FIXED0)) & rdmsr(IA32_VMX_CR0_FIXED1));
	write_cr4((read_cr4() | rdmsr(IA32_VMX_CR4_FIXED0)) & rdmsr(IA32_VMX_CR4_FIXED1));

	revision = VMX_MSR_FIELD_GET(env.basic, IA32_VMX_BASIC_VMCS_REVISION_ID);
	vmxon_region = page_alloc();
	vmxon_region[0] = revision;
	if (vmxon((uint64_t)(uintptr_t)vmxon_region) != VMX_SUCCEED)
		rt_panic("vmentry: VMXON failed");
	env.zero_page = page_alloc();
}

/* A fresh, clear, current VMCS and scratch page for one case. */
static void new_vmcs(void)
{
	uint32_t *vmcs = page_alloc();

	vmcs[0] = VMX_MSR_FIELD_GET(env.basic, IA32_VMX_BASIC_VMCS_REVISION_ID);
	env.vmcs_phys = (uint64_t)(uintptr_t)vmcs;
	if (vmclear(env.vmcs_phys) != VMX_SUCCEED || vmptrld(env.vmcs_phys) != VMX_SUCCEED)
		rt_panic("vmentry: VMCLEAR/VMPTRLD failed");
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
	WR(PIN_BASED_VM_EXECUTION_CONTROLS, vmentry_adjust(VMX_WORD_PIN, 0));
	WR(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, vmentry_adjust(VMX_WORD_PROC, 0));
	WR(PRIMARY_VM_EXIT_CONTROLS, vmentry_adjust(VMX_WORD_EXIT, VMX_EXIT_HOST_ADDRESS_SPACE_SIZE));
	WR(VM_ENTRY_CONTROLS, vmentry_adjust(VMX_WORD_ENTRY, VMX_ENTRY_IA_32E_MODE_GUEST));
	WR(EXCEPTION_BITMAP, 0xFFFFFFFF);
	WR(CR3_TARGET_COUNT, 0);
	WR(VM_EXIT_MSR_STORE_COUNT, 0);
	WR(VM_EXIT_MSR_LOAD_COUNT, 0);
	WR(VM_ENTRY_MSR_LOAD_COUNT, 0);
	WR(VM_ENTRY_INTERRUPTION_INFORMATION, 0);

	/* Host state: the machine as it runs now (SDM 24.5). The runtime
	 * uses neither FS/GS bases nor SYSENTER, so those are 0. */
	WR(HOST_CR0, read_cr0());
	WR(HOST_CR3, read_cr3());
	WR(HOST_CR4, read_cr4());
	WR(HOST_CS_SELECTOR, read_cs());
	WR(HOST_SS_SELECTOR, read_ss());
	WR(HOST_DS_SELECTOR, read_ds());
	WR(HOST_ES_SELECTOR, read_es());
	WR(HOST_FS_SELECTOR, read_fs());
	WR(HOST_GS_SELECTOR, read_gs());
	WR(HOST_TR_SELECTOR, read_tr());
	WR(HOST_FS_BASE, 0);
	WR(HOST_GS_BASE, 0);
	WR(HOST_TR_BASE, tss);
	WR(HOST_GDTR_BASE, gdtr.base);
	WR(HOST_IDTR_BASE, idtr.base);
	WR(HOST_IA32_SYSENTER_CS, 0);
	WR(HOST_IA32_SYSENTER_ESP, 0);
	WR(HOST_IA32_SYSENTER_EIP, 0);
	WR(HOST_RIP, (uint64_t)(uintptr_t)vmentry_exited);      /* HOST_RSP: set by vmentry_launch */

	/* Guest state (SDM 24.4): the host's CR0/CR3/CR4 and GDT, a flat 64-bit
	 * code segment, flat data segments, the boot TSS as a busy TSS. */
	WR(GUEST_CR0, read_cr0());
	WR(GUEST_CR3, read_cr3());
	WR(GUEST_CR4, read_cr4());
	WR(GUEST_DR7, DR7_INIT);
	WR(GUEST_RSP, (uint64_t)(uintptr_t)(guest_stack + sizeof guest_stack));
	WR(GUEST_RIP, (uint64_t)(uintptr_t)vmentry_guest64);
	WR(GUEST_RFLAGS, RFLAGS_FIXED1);

	WR(GUEST_CS_SELECTOR, RT_SEL_CODE64);
	WR(GUEST_CS_BASE, 0);
	WR(GUEST_CS_LIMIT, 0xFFFFFFFF);
	WR(GUEST_CS_ACCESS_RIGHTS, AR_CODE64);
#define FLAT_DATA(SEG)                                  \
	WR(GUEST_##SEG##_SELECTOR, RT_SEL_DATA);        \
	WR(GUEST_##SEG##_BASE, 0);                      \
	WR(GUEST_##SEG##_LIMIT, 0xFFFFFFFF);            \
	WR(GUEST_##SEG##_ACCESS_RIGHTS, AR_DATA)
	FLAT_DATA(SS);
	FLAT_DATA(DS);
	FLAT_DATA(ES);
	FLAT_DATA(FS);
	FLAT_DATA(GS);
#undef FLAT_DATA
	WR(GUEST_LDTR_SELECTOR, 0);
	WR(GUEST_LDTR_BASE, 0);
	WR(GUEST_LDTR_LIMIT, 0);
	WR(GUEST_LDTR_ACCESS_RIGHTS, AR_UNUSABLE);
	WR(GUEST_TR_SELECTOR, RT_SEL_TSS);
	WR(GUEST_TR_BASE, tss);
	WR(GUEST_TR_LIMIT, TSS64_LIMIT);
	WR(GUEST_TR_ACCESS_RIGHTS, AR_TSS_BUSY);
	WR(GUEST_GDTR_BASE, gdtr.base);
	WR(GUEST_GDTR_LIMIT, gdtr.limit);
	/* No IDT: every exception exits through the exception bitmap, and an
	 * injected event that Bochs wrongly lets through faults on the limit
	 * and exits too, instead of running the host's handlers in the guest. */
	WR(GUEST_IDTR_BASE, idtr.base);
	WR(GUEST_IDTR_LIMIT, 0);

	WR(GUEST_IA32_DEBUGCTL, 0);
	WR(GUEST_IA32_SYSENTER_CS, 0);
	WR(GUEST_IA32_SYSENTER_ESP, 0);
	WR(GUEST_IA32_SYSENTER_EIP, 0);
	WR(VMCS_LINK_POINTER, ~0ull);
	WR(GUEST_ACTIVITY_STATE, 0);
	WR(GUEST_INTERRUPTIBILITY_STATE, 0);
	WR(GUEST_PENDING_DEBUG_EXCEPTIONS, 0);
}

void vmentry_make_v86_guest(void)
{
	/* Real-mode-like segments at 1000:0000 (base 0x10000), 32-bit paging
	 * over a zeroed page directory: the first instruction fetch raises #PF,
	 * which the exception bitmap turns into a VM exit (reason 0). */
	CLR(VM_ENTRY_CONTROLS, VMX_ENTRY_IA_32E_MODE_GUEST);
	CLR(GUEST_CR4, CPU_CR4_PAE | CPU_CR4_PCIDE);
	WR(GUEST_CR3, (uint64_t)(uintptr_t)env.zero_page);
	WR(GUEST_RFLAGS, RFLAGS_FIXED1 | CPU_RFLAGS_VM);
	WR(GUEST_RIP, 0);
	WR(GUEST_RSP, 0xFFF0);
#define V86_SEG(SEG)                                    \
	WR(GUEST_##SEG##_SELECTOR, V86_SELECTOR);       \
	WR(GUEST_##SEG##_BASE, V86_SELECTOR << 4);      \
	WR(GUEST_##SEG##_LIMIT, 0xFFFF);                \
	WR(GUEST_##SEG##_ACCESS_RIGHTS, AR_V86)
	V86_SEG(CS);
	V86_SEG(SS);
	V86_SEG(DS);
	V86_SEG(ES);
	V86_SEG(FS);
	V86_SEG(GS);
#undef V86_SEG
}

/* ------------------------------------------------------------------------ */

static void print_outcome(int how)
{
	if (how == 1) {
		printf("outcome: VMfailInvalid\n");
	} else if (how == 2) {
		uint32_t e = vmx_instruction_error();
		const char *text = vmx_instruction_error_text(e);
		printf("outcome: VMfailValid error %u (%s)\n", e, text ? text : "unknown");
	} else {
		uint64_t reason = RD(VM_EXIT_REASON), qual = RD(EXIT_QUALIFICATION);
		uint32_t basic = VMX_EXIT_REASON_BASIC(reason);
		if (VMX_EXIT_REASON_IS_ENTRY_FAILURE(reason))
			printf("outcome: entry failure reason %u qualification 0x%llx (%s)\n", basic,
			       (unsigned long long)qual, vmx_exit_reason_name(basic));
		else
			printf("outcome: launched exit reason %u (%s)\n", basic, vmx_exit_reason_name(basic));
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
	print_outcome(vmentry_launch(VMCS_HOST_RSP));
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
