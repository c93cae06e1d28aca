/*
 * cases.c - the breakages of the VM-entry differential test, one function
 * per line of cases.def. Each starts from the valid VMCS of vmentry.c and
 * changes as little as possible so that exactly the named SDM rule breaks.
 *
 * Runs in: bare metal, 64-bit ring 0, VMX root operation (tests/vmentry).
 */
#include "vmentry.h"

#define VMENTRY_CASE(name, rule, bochs, what) static int break_##name(void);
#include "cases.def"
#undef VMENTRY_CASE

const struct vmentry_case vmentry_cases[] = {
	{ "VALID", "NONE", "nothing broken (the control case)", 0 },
#define VMENTRY_CASE(name, rule, bochs, what) { #name, rule, what, break_##name },
#include "cases.def"
#undef VMENTRY_CASE
};
const int vmentry_case_count = RT_ARRAY_SIZE(vmentry_cases);

/* An address with the bit at MAXPHYADDR set (page aligned). */
static uint64_t beyond_width(uint64_t pa)
{
	return pa | (1ull << env.phys_bits);
}

static uint64_t scratch(void) { return (uint64_t)(uintptr_t)env.scratch; }

/* Bit n, which must lie in the reserved range F of vmx_layouts.def (if it
 * did not, this is 0, the case breaks nothing and the test says so). */
#define RESERVED_BIT(F, n) (VMX_BITS_MASK(F) & (1ull << (n)))

/* Event injection (SDM 24.8.3): vmx_layouts.def INTR_INFO_ENTRY, types
 * from vmx_values.def INTR_TYPE. */
#define INTR_VALID              VMX_BITS_MASK(VMX_INTR_INFO_ENTRY_VALID)
#define INTR_DELIVER_ERROR      VMX_BITS_MASK(VMX_INTR_INFO_ENTRY_DELIVER_ERROR_CODE)
#define INTR_TYPE(t)            VMX_BITS_PUT(VMX_INTR_INFO_ENTRY_TYPE, t)
#define VECTOR_GP               13

/* The power-up IA32_PAT (entries 0-7: WB WT UC- UC WB WT UC- UC, SDM vol.
 * 3A 11.12.4) with entry 0 made type 2, a reserved memory type (not in
 * vmx_values.def MEMORY_TYPE): 0x0007040600070402. */
#define PAT_ENTRY(i, type) ((uint64_t)(type) << (8 * (i)))
#define PAT_WITH_TYPE2 (PAT_ENTRY(0, 2) | PAT_ENTRY(1, VMX_MEMORY_TYPE_WT) |                 \
			PAT_ENTRY(2, VMX_MEMORY_TYPE_UC_MINUS) | PAT_ENTRY(3, VMX_MEMORY_TYPE_UC) | \
			PAT_ENTRY(4, VMX_MEMORY_TYPE_WB) | PAT_ENTRY(5, VMX_MEMORY_TYPE_WT) |       \
			PAT_ENTRY(6, VMX_MEMORY_TYPE_UC_MINUS) | PAT_ENTRY(7, VMX_MEMORY_TYPE_UC))

/* Interruptibility bits (SDM 24.4.2, vmx_layouts.def INTERRUPTIBILITY). */
#define BLOCK_STI    VMX_BITS_MASK(VMX_INTERRUPTIBILITY_BLOCKING_BY_STI)
#define BLOCK_MOV_SS VMX_BITS_MASK(VMX_INTERRUPTIBILITY_BLOCKING_BY_MOV_SS)
#define BLOCK_SMI    VMX_BITS_MASK(VMX_INTERRUPTIBILITY_BLOCKING_BY_SMI)

/* --- Control fields ------------------------------------------------------- */

static int clear_required1(enum vmx_control_word w, uint32_t field, const char *name)
{
	int b = vmentry_required1_bit(w);
	if (b < 0)
		return vmentry_not_applicable("no control bit of this word must be 1");
	vmentry_write(field, name, vmentry_read(field, name) & ~(1ull << b));
	return 0;
}

static int set_required0(enum vmx_control_word w, uint32_t field, const char *name)
{
	int b = vmentry_required0_bit(w);
	if (b < 0)
		return vmentry_not_applicable("every control bit of this word may be 1");
	vmentry_write(field, name, vmentry_read(field, name) | (1ull << b));
	return 0;
}

/* A control word's field and its name; the four words are 32-bit fields. */
#define WORD_FIELD(f) ({ VMCS_ASSERT_WIDTH(VMCS_##f, VMCS_WIDTH_32); VMCS_##f; }), #f
static int break_PIN_REQUIRED1_CLEAR(void) { return clear_required1(VMX_WORD_PIN, WORD_FIELD(PIN_BASED_VM_EXECUTION_CONTROLS)); }
static int break_PIN_REQUIRED0_SET(void) { return set_required0(VMX_WORD_PIN, WORD_FIELD(PIN_BASED_VM_EXECUTION_CONTROLS)); }
static int break_PROC_REQUIRED1_CLEAR(void) { return clear_required1(VMX_WORD_PROC, WORD_FIELD(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS)); }
static int break_PROC_REQUIRED0_SET(void) { return set_required0(VMX_WORD_PROC, WORD_FIELD(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS)); }
static int break_EXIT_REQUIRED1_CLEAR(void) { return clear_required1(VMX_WORD_EXIT, WORD_FIELD(PRIMARY_VM_EXIT_CONTROLS)); }
static int break_EXIT_REQUIRED0_SET(void) { return set_required0(VMX_WORD_EXIT, WORD_FIELD(PRIMARY_VM_EXIT_CONTROLS)); }
static int break_ENTRY_REQUIRED1_CLEAR(void) { return clear_required1(VMX_WORD_ENTRY, WORD_FIELD(VM_ENTRY_CONTROLS)); }
static int break_ENTRY_REQUIRED0_SET(void) { return set_required0(VMX_WORD_ENTRY, WORD_FIELD(VM_ENTRY_CONTROLS)); }

/* Turn the secondary controls on with `bits` (plus what the CPU requires). */
static int use_secondary(uint32_t bits)
{
	if (!vmentry_allowed(VMX_WORD_PROC, VMX_PROC_ACTIVATE_SECONDARY_CONTROLS))
		return vmentry_not_applicable("no secondary processor-based controls");
	SET32(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_ACTIVATE_SECONDARY_CONTROLS);
	WR32(SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, env.cap[VMX_WORD_PROC2].allowed0 | bits);
	return 0;
}

static int break_PROC2_REQUIRED0_SET(void)
{
	int b = vmentry_required0_bit(VMX_WORD_PROC2);
	if (b < 0)
		return vmentry_not_applicable("every secondary control may be 1");
	return use_secondary(1u << b);
}

static int break_VPID_ZERO(void)
{
	if (!vmentry_allowed(VMX_WORD_PROC2, VMX_PROC2_ENABLE_VPID))
		return vmentry_not_applicable("no VPID");
	WR16(VIRTUAL_PROCESSOR_IDENTIFIER, 0);
	return use_secondary(VMX_PROC2_ENABLE_VPID);
}

static int break_UNRESTRICTED_NO_EPT(void)
{
	if (!vmentry_allowed(VMX_WORD_PROC2, VMX_PROC2_UNRESTRICTED_GUEST))
		return vmentry_not_applicable("no unrestricted guest");
	return use_secondary(VMX_PROC2_UNRESTRICTED_GUEST);
}

static int break_TPR_SHADOW_UNALIGNED(void)
{
	if (!vmentry_allowed(VMX_WORD_PROC, VMX_PROC_USE_TPR_SHADOW))
		return vmentry_not_applicable("no TPR shadow");
	WR64(VIRTUAL_APIC_ADDRESS, scratch() + 0x10);
	WR32(TPR_THRESHOLD, 0);
	SET32(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_USE_TPR_SHADOW);
	return 0;
}

static int break_TPR_THRESHOLD_16(void)
{
	if (!vmentry_allowed(VMX_WORD_PROC, VMX_PROC_USE_TPR_SHADOW))
		return vmentry_not_applicable("no TPR shadow");
	WR64(VIRTUAL_APIC_ADDRESS, scratch());
	WR32(TPR_THRESHOLD, 16);                  /* bits 31:4 must be 0 */
	SET32(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_USE_TPR_SHADOW);
	return 0;
}

static int break_TPR_THRESHOLD_ABOVE_VTPR(void)
{
	if (!vmentry_allowed(VMX_WORD_PROC, VMX_PROC_USE_TPR_SHADOW))
		return vmentry_not_applicable("no TPR shadow");
	WR64(VIRTUAL_APIC_ADDRESS, scratch());    /* zeroed page: VTPR = 0 */
	WR32(TPR_THRESHOLD, 5);
	SET32(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_USE_TPR_SHADOW);
	return 0;
}

static int break_APIC_ACCESS_UNALIGNED(void)
{
	if (!vmentry_allowed(VMX_WORD_PROC2, VMX_PROC2_VIRTUALIZE_APIC_ACCESSES))
		return vmentry_not_applicable("no \"virtualize APIC accesses\"");
	WR64(APIC_ACCESS_ADDRESS, scratch() + 0x10);
	return use_secondary(VMX_PROC2_VIRTUALIZE_APIC_ACCESSES);
}

static int break_X2APIC_NO_TPR_SHADOW(void)
{
	if (!vmentry_allowed(VMX_WORD_PROC2, VMX_PROC2_VIRTUALIZE_X2APIC_MODE))
		return vmentry_not_applicable("no \"virtualize x2APIC mode\"");
	CLR32(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_USE_TPR_SHADOW);
	return use_secondary(VMX_PROC2_VIRTUALIZE_X2APIC_MODE);
}

/* EPTP (SDM 24.6.11, vmx_layouts.def EPTP): memory type, page-walk
 * length minus 1 (must be 3: four levels). */
#define EPTP_MEMORY_TYPE_WB VMX_BITS_PUT(VMX_EPTP_MEMORY_TYPE, VMX_MEMORY_TYPE_WB)
#define EPTP_WALK_LENGTH(n) VMX_BITS_PUT(VMX_EPTP_PAGE_WALK_LENGTH_MINUS_1, (n) - 1)

static int break_EPTP_WALK_LENGTH_2(void)
{
	if (!vmentry_allowed(VMX_WORD_PROC2, VMX_PROC2_ENABLE_EPT))
		return vmentry_not_applicable("no EPT");
	WR64(EPT_POINTER, scratch() | EPTP_MEMORY_TYPE_WB | EPTP_WALK_LENGTH(2));
	return use_secondary(VMX_PROC2_ENABLE_EPT);
}

static int break_EXIT_MSR_LOAD_UNALIGNED(void)
{
	WR64(VM_EXIT_MSR_LOAD_ADDRESS, scratch() + 8);
	WR32(VM_EXIT_MSR_LOAD_COUNT, 1);
	return 0;
}

static int break_ENTRY_TO_SMM(void)
{
	/* If the CPU does not even allow the bit, CTRL_ENTRY_REQUIRED0 is
	 * named too; both are VMfailValid error 7. */
	SET32(VM_ENTRY_CONTROLS, VMX_ENTRY_ENTRY_TO_SMM);
	return 0;
}

static int break_DEACTIVATE_DUAL_MONITOR(void)
{
	SET32(VM_ENTRY_CONTROLS, VMX_ENTRY_DEACTIVATE_DUAL_MONITOR_TREATMENT);
	return 0;
}

static int break_CR3_TARGET_COUNT_5(void)
{
	WR32(CR3_TARGET_COUNT, 5);
	return 0;
}

static int break_IO_BITMAP_UNALIGNED(void)
{
	if (!vmentry_allowed(VMX_WORD_PROC, VMX_PROC_USE_IO_BITMAPS))
		return vmentry_not_applicable("no I/O bitmaps");
	WR64(IO_BITMAP_A_ADDRESS, scratch() + 0x10);
	WR64(IO_BITMAP_B_ADDRESS, scratch());
	SET32(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_USE_IO_BITMAPS);
	return 0;
}

static int break_MSR_BITMAP_BEYOND_WIDTH(void)
{
	if (!vmentry_allowed(VMX_WORD_PROC, VMX_PROC_USE_MSR_BITMAPS))
		return vmentry_not_applicable("no MSR bitmaps");
	WR64(MSR_BITMAPS_ADDRESS, beyond_width(scratch()));
	SET32(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_USE_MSR_BITMAPS);
	return 0;
}

static int break_NMI_WINDOW_NO_VIRTUAL_NMIS(void)
{
	if (!vmentry_allowed(VMX_WORD_PROC, VMX_PROC_NMI_WINDOW_EXITING))
		return vmentry_not_applicable("no NMI-window exiting");
	CLR32(PIN_BASED_VM_EXECUTION_CONTROLS, VMX_PIN_VIRTUAL_NMIS);
	SET32(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_NMI_WINDOW_EXITING);
	return 0;
}

static int break_VIRTUAL_NMIS_NO_NMI_EXITING(void)
{
	if (!vmentry_allowed(VMX_WORD_PIN, VMX_PIN_VIRTUAL_NMIS))
		return vmentry_not_applicable("no virtual NMIs");
	CLR32(PIN_BASED_VM_EXECUTION_CONTROLS, VMX_PIN_NMI_EXITING);
	SET32(PIN_BASED_VM_EXECUTION_CONTROLS, VMX_PIN_VIRTUAL_NMIS);
	return 0;
}

static int break_SAVE_PREEMPTION_TIMER(void)
{
	if (!vmentry_allowed(VMX_WORD_EXIT, VMX_EXIT_SAVE_VMX_PREEMPTION_TIMER_VALUE))
		return vmentry_not_applicable("no \"save VMX-preemption timer value\"");
	CLR32(PIN_BASED_VM_EXECUTION_CONTROLS, VMX_PIN_ACTIVATE_VMX_PREEMPTION_TIMER);
	SET32(PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_SAVE_VMX_PREEMPTION_TIMER_VALUE);
	return 0;
}

static int break_EXIT_MSR_STORE_UNALIGNED(void)
{
	WR64(VM_EXIT_MSR_STORE_ADDRESS, scratch() + 8);
	WR32(VM_EXIT_MSR_STORE_COUNT, 1);
	return 0;
}

static int break_ENTRY_MSR_LOAD_UNALIGNED(void)
{
	WR64(VM_ENTRY_MSR_LOAD_ADDRESS, scratch() + 8);
	WR32(VM_ENTRY_MSR_LOAD_COUNT, 1);
	return 0;
}

static int break_INTR_INFO_RESERVED(void)
{
	/* An external interrupt, vector 0x20, with reserved bit 12 set. */
	WR32(VM_ENTRY_INTERRUPTION_INFORMATION, INTR_VALID | RESERVED_BIT(VMX_INTR_INFO_ENTRY_RESERVED_30_12, 12) | 0x20);
	SET_NATURAL(GUEST_RFLAGS, CPU_RFLAGS_IF);
	return 0;
}

static int break_INTR_NMI_VECTOR_3(void)
{
	WR32(VM_ENTRY_INTERRUPTION_INFORMATION, INTR_VALID | INTR_TYPE(VMX_INTR_TYPE_NMI) | 3);
	return 0;
}

static int break_INTR_GP_NO_ERROR_CODE(void)
{
	if (VMX_MSR_FIELD_GET(env.basic, IA32_VMX_BASIC_HW_EXCEPTION_ANY_ERROR_CODE))
		return vmentry_not_applicable("IA32_VMX_BASIC bit 56: any hardware exception may omit its error code");
	WR32(VM_ENTRY_INTERRUPTION_INFORMATION, INTR_VALID | INTR_TYPE(VMX_INTR_TYPE_HARDWARE_EXCEPTION) | VECTOR_GP);
	return 0;
}

static int break_INTR_EXTINT_ERROR_CODE(void)
{
	/* Only hardware exceptions deliver error codes (SDM 26.2.1.3). */
	WR32(VM_ENTRY_INTERRUPTION_INFORMATION, INTR_VALID | INTR_DELIVER_ERROR | 0x20);
	SET_NATURAL(GUEST_RFLAGS, CPU_RFLAGS_IF);
	return 0;
}

/* An injected #GP with error code `code` (error codes are 16 bits: SDM
 * 26.2.1.3 asks bits 31:16 to be 0). */
static int inject_gp_error_code(uint32_t code)
{
	WR32(VM_ENTRY_INTERRUPTION_INFORMATION,
	   INTR_VALID | INTR_DELIVER_ERROR | INTR_TYPE(VMX_INTR_TYPE_HARDWARE_EXCEPTION) | VECTOR_GP);
	WR32(VM_ENTRY_EXCEPTION_ERROR_CODE, code);
	return 0;
}

static int break_INTR_ERROR_CODE_BIT15(void) { return inject_gp_error_code(1u << 15); }
static int break_INTR_ERROR_CODE_BIT16(void) { return inject_gp_error_code(1u << 16); }
static int break_INTR_ERROR_CODE_BIT31(void) { return inject_gp_error_code(1u << 31); }

static int break_INTR_PENDING_MTF_NO_MTF_CONTROL(void)
{
	/* Type 7 needs MTF support, not the MTF control (SDM 26.2.1.3). */
	if (!vmentry_allowed(VMX_WORD_PROC, VMX_PROC_MONITOR_TRAP_FLAG))
		return vmentry_not_applicable("no \"monitor trap flag\" on this CPU");
	CLR32(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_MONITOR_TRAP_FLAG);
	WR32(VM_ENTRY_INTERRUPTION_INFORMATION, INTR_VALID | INTR_TYPE(VMX_INTR_TYPE_OTHER_EVENT));
	return 0;
}

static int break_INTR_SOFT_LENGTH_16(void)
{
	WR32(VM_ENTRY_INTERRUPTION_INFORMATION, INTR_VALID | INTR_TYPE(VMX_INTR_TYPE_SOFTWARE_INTERRUPT) | 0x80);
	WR32(VM_ENTRY_INSTRUCTION_LENGTH, 16);
	return 0;
}

/* --- Host state ----------------------------------------------------------- */

static int break_HOST_CR0_PE_CLEAR(void) { CLR_NATURAL(HOST_CR0, CPU_CR0_PE); return 0; }
static int break_HOST_CR4_VMXE_CLEAR(void) { CLR_NATURAL(HOST_CR4, CPU_CR4_VMXE); return 0; }
static int break_HOST_CR3_BEYOND_WIDTH(void) { WR_NATURAL(HOST_CR3, beyond_width(RD_NATURAL(HOST_CR3))); return 0; }
static int break_HOST_CS_RPL3(void) { SET16(HOST_CS_SELECTOR, 3); return 0; }
static int break_HOST_SS_TI(void) { SET16(HOST_SS_SELECTOR, SEL_TI); return 0; }
static int break_HOST_CS_ZERO(void) { WR16(HOST_CS_SELECTOR, 0); return 0; }
static int break_HOST_TR_ZERO(void) { WR16(HOST_TR_SELECTOR, 0); return 0; }
static int break_HOST_FS_BASE_NONCANONICAL(void) { WR_NATURAL(HOST_FS_BASE, NONCANONICAL); return 0; }
static int break_HOST_GS_BASE_NONCANONICAL(void) { WR_NATURAL(HOST_GS_BASE, NONCANONICAL); return 0; }
static int break_HOST_GDTR_BASE_NONCANONICAL(void) { WR_NATURAL(HOST_GDTR_BASE, NONCANONICAL); return 0; }
static int break_HOST_IDTR_BASE_NONCANONICAL(void) { WR_NATURAL(HOST_IDTR_BASE, NONCANONICAL); return 0; }
static int break_HOST_TR_BASE_NONCANONICAL(void) { WR_NATURAL(HOST_TR_BASE, NONCANONICAL); return 0; }
static int break_HOST_SYSENTER_ESP_NONCANONICAL(void) { WR_NATURAL(HOST_IA32_SYSENTER_ESP, NONCANONICAL); return 0; }
static int break_HOST_SYSENTER_EIP_NONCANONICAL(void) { WR_NATURAL(HOST_IA32_SYSENTER_EIP, NONCANONICAL); return 0; }
static int break_HOST_ADDRESS_SPACE_32(void) { CLR32(PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_HOST_ADDRESS_SPACE_SIZE); return 0; }
/* A 64-bit host cannot have "host address-space size" = 0 (26.2.4), so the
 * 32-bit-host rules can only be shown together with that one; Bochs reports
 * the address-space rule, the outcome (error 8) is the same. */
static int break_HOST_SS_NULL_32(void)
{
	CLR32(PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_HOST_ADDRESS_SPACE_SIZE);
	WR16(HOST_SS_SELECTOR, 0);
	return 0;
}

static int break_HOST_RIP_UPPER_32(void)
{
	CLR32(PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_HOST_ADDRESS_SPACE_SIZE);
	WR_NATURAL(HOST_RIP, 1ull << 32);
	return 0;
}

static int break_HOST_CR4_PAE_CLEAR(void) { CLR_NATURAL(HOST_CR4, CPU_CR4_PAE); return 0; }

static int break_HOST_RIP_NONCANONICAL(void) { WR_NATURAL(HOST_RIP, NONCANONICAL); return 0; }

static int break_HOST_PAT_TYPE2(void)
{
	if (!vmentry_allowed(VMX_WORD_EXIT, VMX_EXIT_LOAD_IA32_PAT))
		return vmentry_not_applicable("no \"load IA32_PAT\" VM-exit control");
	WR64(HOST_IA32_PAT, PAT_WITH_TYPE2);
	SET32(PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_LOAD_IA32_PAT);
	return 0;
}

static int break_HOST_EFER_LMA_CLEAR(void)
{
	if (!vmentry_allowed(VMX_WORD_EXIT, VMX_EXIT_LOAD_IA32_EFER))
		return vmentry_not_applicable("no \"load IA32_EFER\" VM-exit control");
	WR64(HOST_IA32_EFER, 0);
	SET32(PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_LOAD_IA32_EFER);
	return 0;
}

/* --- Guest state ---------------------------------------------------------- */

static int break_GUEST_CR0_PE_CLEAR(void) { CLR_NATURAL(GUEST_CR0, CPU_CR0_PE); return 0; }
static int break_GUEST_CR4_VMXE_CLEAR(void) { CLR_NATURAL(GUEST_CR4, CPU_CR4_VMXE); return 0; }
static int break_GUEST_CR4_PAE_CLEAR(void) { CLR_NATURAL(GUEST_CR4, CPU_CR4_PAE); return 0; }
static int break_GUEST_CR3_BEYOND_WIDTH(void) { WR_NATURAL(GUEST_CR3, beyond_width(RD_NATURAL(GUEST_CR3))); return 0; }

static int load_debug_controls(void)
{
	if (!vmentry_allowed(VMX_WORD_ENTRY, VMX_ENTRY_LOAD_DEBUG_CONTROLS))
		return vmentry_not_applicable("no \"load debug controls\" VM-entry control");
	SET32(VM_ENTRY_CONTROLS, VMX_ENTRY_LOAD_DEBUG_CONTROLS);
	return 0;
}

static int break_GUEST_DR7_UPPER(void)
{
	WR_NATURAL(GUEST_DR7, DR7_INIT | (1ull << 32));
	return load_debug_controls();
}

static int break_GUEST_DEBUGCTL_RESERVED(void)
{
	WR64(GUEST_IA32_DEBUGCTL, RESERVED_BIT(VMX_DEBUGCTL_RESERVED_5_2, 2));
	return load_debug_controls();
}

static int break_GUEST_SYSENTER_ESP_NONCANONICAL(void) { WR_NATURAL(GUEST_IA32_SYSENTER_ESP, NONCANONICAL); return 0; }

static int break_GUEST_PAT_TYPE2(void)
{
	if (!vmentry_allowed(VMX_WORD_ENTRY, VMX_ENTRY_LOAD_IA32_PAT))
		return vmentry_not_applicable("no \"load IA32_PAT\" VM-entry control");
	WR64(GUEST_IA32_PAT, PAT_WITH_TYPE2);
	SET32(VM_ENTRY_CONTROLS, VMX_ENTRY_LOAD_IA32_PAT);
	return 0;
}

static int break_GUEST_EFER_LMA_CLEAR(void)
{
	if (!vmentry_allowed(VMX_WORD_ENTRY, VMX_ENTRY_LOAD_IA32_EFER))
		return vmentry_not_applicable("no \"load IA32_EFER\" VM-entry control");
	WR64(GUEST_IA32_EFER, CPU_EFER_LME);      /* LMA = 0 in an IA-32e guest */
	SET32(VM_ENTRY_CONTROLS, VMX_ENTRY_LOAD_IA32_EFER);
	return 0;
}

static int break_GUEST_RFLAGS_BIT1_CLEAR(void) { WR_NATURAL(GUEST_RFLAGS, 0); return 0; }
static int break_GUEST_RFLAGS_BIT3_SET(void) { SET_NATURAL(GUEST_RFLAGS, RESERVED_BIT(VMX_RFLAGS_RESERVED_3, 3)); return 0; }
static int break_GUEST_RFLAGS_VM_IA32E(void) { SET_NATURAL(GUEST_RFLAGS, CPU_RFLAGS_VM); return 0; }
static int break_GUEST_RIP_BIT48(void) { WR_NATURAL(GUEST_RIP, 1ull << 48); return 0; }
static int break_GUEST_RIP_BIT47(void) { WR_NATURAL(GUEST_RIP, NONCANONICAL); return 0; }
/* 4: one past the last activity state the SDM defines (wait-for-SIPI). */
static int break_GUEST_ACTIVITY_4(void) { WR32(GUEST_ACTIVITY_STATE, VMX_ACTIVITY_WAIT_FOR_SIPI + 1); return 0; }
static int break_GUEST_HLT_RING3(void)
{
	/* A consistent ring-3 64-bit guest (CS and SS RPL = DPL = 3), in the
	 * HLT activity state, which needs SS.DPL = 0. */
	if (!VMX_MSR_FIELD_GET(env.misc, IA32_VMX_MISC_ACTIVITY_HLT))
		return vmentry_not_applicable("no HLT activity state");
	SET16(GUEST_CS_SELECTOR, 3);
	SET32(GUEST_CS_ACCESS_RIGHTS, AR_DPL(3));
	SET16(GUEST_SS_SELECTOR, 3);
	SET32(GUEST_SS_ACCESS_RIGHTS, AR_DPL(3));
	WR32(GUEST_ACTIVITY_STATE, VMX_ACTIVITY_HLT);
	return 0;
}

static int break_GUEST_HLT_STI_BLOCKING(void)
{
	/* If a CPU accepted this, the guest would sleep in HLT forever: the
	 * VMX-preemption timer makes sure it exits (reason 52). */
	if (!VMX_MSR_FIELD_GET(env.misc, IA32_VMX_MISC_ACTIVITY_HLT) ||
	    !vmentry_allowed(VMX_WORD_PIN, VMX_PIN_ACTIVATE_VMX_PREEMPTION_TIMER))
		return vmentry_not_applicable("no HLT activity state or no VMX-preemption timer");
	SET32(PIN_BASED_VM_EXECUTION_CONTROLS, VMX_PIN_ACTIVATE_VMX_PREEMPTION_TIMER);
	WR32(VMX_PREEMPTION_TIMER_VALUE, 1000);
	SET_NATURAL(GUEST_RFLAGS, CPU_RFLAGS_IF);
	WR32(GUEST_INTERRUPTIBILITY_STATE, BLOCK_STI);
	WR32(GUEST_ACTIVITY_STATE, VMX_ACTIVITY_HLT);
	return 0;
}

static int break_GUEST_INTR_RESERVED_BIT8(void) { WR32(GUEST_INTERRUPTIBILITY_STATE, RESERVED_BIT(VMX_INTERRUPTIBILITY_RESERVED_31_5, 8)); return 0; }

static int break_GUEST_INTR_STI_MOV_SS(void)
{
	SET_NATURAL(GUEST_RFLAGS, CPU_RFLAGS_IF);       /* so that only the pair is wrong */
	WR32(GUEST_INTERRUPTIBILITY_STATE, BLOCK_STI | BLOCK_MOV_SS);
	return 0;
}

static int break_GUEST_INTR_STI_IF0(void) { WR32(GUEST_INTERRUPTIBILITY_STATE, BLOCK_STI); return 0; }
static int break_GUEST_PENDING_DBG_BIT4(void) { WR_NATURAL(GUEST_PENDING_DEBUG_EXCEPTIONS, RESERVED_BIT(VMX_PENDING_DBG_RESERVED_11_4, 4)); return 0; }
static int break_GUEST_LINK_POINTER_UNALIGNED(void) { WR64(VMCS_LINK_POINTER, 1); return 0; }
static int break_GUEST_LINK_POINTER_REVISION(void) { WR64(VMCS_LINK_POINTER, scratch()); return 0; }
static int break_GUEST_LINK_POINTER_ZERO(void) { WR64(VMCS_LINK_POINTER, 0); return 0; }
static int break_GUEST_LINK_POINTER_CURRENT(void) { WR64(VMCS_LINK_POINTER, env.vmcs_phys); return 0; }

static int break_GUEST_TR_TYPE_AVAILABLE(void)
{
	WR32(GUEST_TR_ACCESS_RIGHTS, AR_TYPE_TSS_AVAILABLE | AR_P);
	return 0;
}

static int break_GUEST_TR_TI(void) { SET16(GUEST_TR_SELECTOR, SEL_TI); return 0; }
static int break_GUEST_TR_UNUSABLE(void) { SET32(GUEST_TR_ACCESS_RIGHTS, AR_UNUSABLE); return 0; }
static int break_GUEST_TR_NOT_PRESENT(void) { CLR32(GUEST_TR_ACCESS_RIGHTS, AR_P); return 0; }

static int break_GUEST_CS_TYPE_DATA(void)
{
	WR32(GUEST_CS_ACCESS_RIGHTS, (AR_CODE64 & ~AR_TYPE_MASK) | AR_TYPE_DATA_RW_ACCESSED);
	return 0;
}

static int break_GUEST_SS_TYPE_CODE(void)
{
	WR32(GUEST_SS_ACCESS_RIGHTS, (AR_DATA & ~AR_TYPE_MASK) | AR_TYPE_CODE_XR_ACCESSED);
	return 0;
}

static int break_GUEST_SS_DPL3(void) { SET32(GUEST_SS_ACCESS_RIGHTS, AR_DPL(3)); return 0; }
static int break_GUEST_SS_RPL3(void) { SET16(GUEST_SS_SELECTOR, 3); return 0; }
static int break_GUEST_DS_NOT_ACCESSED(void) { CLR32(GUEST_DS_ACCESS_RIGHTS, AR_TYPE_ACCESSED); return 0; }
static int break_GUEST_DS_NOT_PRESENT(void) { CLR32(GUEST_DS_ACCESS_RIGHTS, AR_P); return 0; }
static int break_GUEST_DS_RPL3_DPL0(void) { SET16(GUEST_DS_SELECTOR, 3); return 0; }
static int break_GUEST_CS_S_CLEAR(void) { CLR32(GUEST_CS_ACCESS_RIGHTS, AR_S); return 0; }
static int break_GUEST_DS_AR_BIT8(void) { SET32(GUEST_DS_ACCESS_RIGHTS, RESERVED_BIT(VMX_SEG_AR_RESERVED_11_8, 8)); return 0; }

static int break_GUEST_DS_UNUSABLE_GARBAGE(void)
{
	/* An unusable segment's other rights are not checked (SDM 26.3.1.2):
	 * type 0, not present, reserved bit 8 set, G without limit 11:0. */
	WR32(GUEST_DS_ACCESS_RIGHTS, AR_UNUSABLE | RESERVED_BIT(VMX_SEG_AR_RESERVED_11_8, 8) | AR_G);
	WR32(GUEST_DS_LIMIT, 0);
	return 0;
}

static int break_GUEST_DS_LIMIT_G0(void) { CLR32(GUEST_DS_ACCESS_RIGHTS, AR_G); return 0; }
static int break_GUEST_CS_L_DB(void) { SET32(GUEST_CS_ACCESS_RIGHTS, AR_DB); return 0; }
static int break_GUEST_GDTR_LIMIT_64K(void) { WR32(GUEST_GDTR_LIMIT, 0x10000); return 0; }
static int break_GUEST_GDTR_BASE_NONCANONICAL(void) { WR_NATURAL(GUEST_GDTR_BASE, NONCANONICAL); return 0; }
static int break_GUEST_FS_BASE_NONCANONICAL(void) { WR_NATURAL(GUEST_FS_BASE, NONCANONICAL); return 0; }

/* A usable LDTR: the valid VMCS has none, so these describe one in the
 * scratch page (its contents do not matter to the checks). */
static void usable_ldtr(uint32_t type, uint32_t selector)
{
	WR16(GUEST_LDTR_SELECTOR, selector);
	WR_NATURAL(GUEST_LDTR_BASE, scratch());
	WR32(GUEST_LDTR_LIMIT, 0xFF);
	WR32(GUEST_LDTR_ACCESS_RIGHTS, type | AR_P);
}

static int break_GUEST_LDTR_TYPE3(void) { usable_ldtr(AR_TYPE_DATA_RW_ACCESSED, 0x28); return 0; }
static int break_GUEST_LDTR_TI(void) { usable_ldtr(AR_TYPE_LDT, 0x28 | SEL_TI); return 0; }

static int break_GUEST_CS_BASE_UPPER(void) { WR_NATURAL(GUEST_CS_BASE, 1ull << 32); return 0; }
static int break_GUEST_TR_BASE_NONCANONICAL(void) { WR_NATURAL(GUEST_TR_BASE, NONCANONICAL); return 0; }
static int break_GUEST_IDTR_LIMIT_64K(void) { WR32(GUEST_IDTR_LIMIT, 0x10000); return 0; }

static int break_GUEST_CS_CONFORMING_DPL3(void)
{
	WR32(GUEST_CS_ACCESS_RIGHTS, (AR_CODE64 & ~AR_TYPE_MASK) | AR_TYPE_CODE_XRC_ACCESSED | AR_DPL(3));
	return 0;
}

static int break_GUEST_SS_UNUSABLE_GARBAGE(void)
{
	/* A 64-bit guest may have an unusable SS (SDM 26.3.1.2); only its DPL
	 * still counts (it must equal the RPL, 0 here). */
	WR32(GUEST_SS_ACCESS_RIGHTS, AR_UNUSABLE | RESERVED_BIT(VMX_SEG_AR_RESERVED_11_8, 8) | AR_G);
	WR32(GUEST_SS_LIMIT, 0);
	return 0;
}

static int break_GUEST_INJECT_IRQ_IF0(void)
{
	WR32(VM_ENTRY_INTERRUPTION_INFORMATION, INTR_VALID | 0x20);       /* external interrupt 0x20 */
	CLR_NATURAL(GUEST_RFLAGS, CPU_RFLAGS_IF);
	return 0;
}

static int break_GUEST_INJECT_NMI_MOV_SS(void)
{
	WR32(VM_ENTRY_INTERRUPTION_INFORMATION, INTR_VALID | INTR_TYPE(VMX_INTR_TYPE_NMI) | 2);
	WR32(GUEST_INTERRUPTIBILITY_STATE, BLOCK_MOV_SS);
	return 0;
}

static int break_GUEST_INTR_SMI_BLOCKING(void) { WR32(GUEST_INTERRUPTIBILITY_STATE, BLOCK_SMI); return 0; }

/* --- lab04: virtual-8086 guest ------------------------------------------- */

static int break_V86_VALID(void) { vmentry_make_v86_guest(); return 0; }
static int break_V86_ES_BASE(void) { vmentry_make_v86_guest(); WR_NATURAL(GUEST_ES_BASE, 0x20000); return 0; }
static int break_V86_SS_LIMIT(void) { vmentry_make_v86_guest(); WR32(GUEST_SS_LIMIT, 0x1FFFF); return 0; }
static int break_V86_DS_AR(void) { vmentry_make_v86_guest(); WR32(GUEST_DS_ACCESS_RIGHTS, AR_TYPE_DATA_RW_ACCESSED | AR_S | AR_P); return 0; }

static int break_V86_RIP_UPPER(void) { vmentry_make_v86_guest(); WR_NATURAL(GUEST_RIP, 1ull << 32); return 0; }

static int break_V86_PCIDE(void)
{
	/* CR4.PCIDE needs CR4_FIXED1 to allow it; if not, the fixed-bits rule
	 * is named too (same exit). */
	vmentry_make_v86_guest();
	SET_NATURAL(GUEST_CR4, CPU_CR4_PCIDE);
	return 0;
}

static int break_V86_CS_BASE(void) { vmentry_make_v86_guest(); WR_NATURAL(GUEST_CS_BASE, 0); return 0; }
static int break_V86_GS_LIMIT(void) { vmentry_make_v86_guest(); WR32(GUEST_GS_LIMIT, 0xFFFFF); return 0; }

static int break_V86_SS_AR_EXPAND_DOWN(void)
{
	/* 0xF7: read/write data, expand-down, accessed; a data segment a
	 * protected-mode guest could use, but not the fixed 0xF3 of v8086. */
	vmentry_make_v86_guest();
	WR32(GUEST_SS_ACCESS_RIGHTS, VMX_SEG_TYPE_DATA_RW_EXPAND_DOWN_ACCESSED | AR_S | AR_DPL(3) | AR_P);
	return 0;
}

static int break_V86_CS_AR_CODE(void)
{
	/* 0xFB: execute/read code, accessed, DPL 3: what a real-mode CS "is",
	 * but VM entry wants 0xF3 for CS too. */
	vmentry_make_v86_guest();
	WR32(GUEST_CS_ACCESS_RIGHTS, AR_TYPE_CODE_XR_ACCESSED | AR_S | AR_DPL(3) | AR_P);
	return 0;
}

static int break_V86_TR_AVAILABLE(void)
{
	vmentry_make_v86_guest();
	WR32(GUEST_TR_ACCESS_RIGHTS, AR_TYPE_TSS_AVAILABLE | AR_P);
	return 0;
}

static int break_V86_TR_TSS16_BUSY(void)
{
	/* A busy 16-bit TSS is a valid TR outside IA-32e mode (SDM 26.3.1.2). */
	vmentry_make_v86_guest();
	WR32(GUEST_TR_ACCESS_RIGHTS, VMX_SYSTEM_TYPE_TSS16_BUSY | AR_P);
	return 0;
}

static int break_V86_CR0_PE_CLEAR(void)
{
	/* Without "unrestricted guest", CR0.PE = 0 would also break the CR0
	 * fixed bits; with it, PE = PG = 0 is real mode, and only RFLAGS.VM
	 * is wrong. */
	if (vmentry_make_real_mode_guest() < 0)
		return -1;
	vmentry_make_v86_guest();
	CLR_NATURAL(GUEST_CR0, CPU_CR0_PE | CPU_CR0_PG);
	return 0;
}

static int break_V86_IA32E_MODE(void)
{
	/* IA-32e mode needs CR0.PG and CR4.PAE (GUEST_IA32E_PG_PAE): keep both
	 * right, so RFLAGS.VM is the only thing wrong. */
	vmentry_make_v86_guest();
	SET32(VM_ENTRY_CONTROLS, VMX_ENTRY_IA_32E_MODE_GUEST);
	SET_NATURAL(GUEST_CR4, CPU_CR4_PAE);
	return 0;
}

static int break_V86_FS_SELECTOR_BASE(void)
{
	/* The BIOS data segment 0040 with the base of segment 1000 left in
	 * place: the base must be 0x400. */
	vmentry_make_v86_guest();
	WR16(GUEST_FS_SELECTOR, 0x40);
	return 0;
}

/* --- lab05: unrestricted guest (real mode under EPT) ----------------------- */

static int break_UG_REAL_MODE_VALID(void) { return vmentry_make_real_mode_guest(); }

static int break_UG_PG_WITHOUT_PE(void)
{
	if (vmentry_make_real_mode_guest() < 0)
		return -1;
	SET_NATURAL(GUEST_CR0, CPU_CR0_PG);
	return 0;
}

static int break_UG_SS_DPL3(void)
{
	if (vmentry_make_real_mode_guest() < 0)
		return -1;
	SET32(GUEST_SS_ACCESS_RIGHTS, AR_DPL(3));         /* CR0.PE = 0 needs SS.DPL 0 */
	return 0;
}

static int break_UG_CS_DATA_DPL3(void)
{
	if (vmentry_make_real_mode_guest() < 0)
		return -1;
	WR32(GUEST_CS_ACCESS_RIGHTS, AR_TYPE_DATA_RW_ACCESSED | AR_S | AR_P | AR_DPL(3));
	return 0;
}

/* --- 26.4 MSR loading ----------------------------------------------------- */

static int break_ENTRY_MSR_LOAD_RESERVED(void)
{
	/* One entry whose first quadword has bit 32 set (bits 63:32 reserved). */
	uint64_t *area = env.scratch;
	area[0] = 1ull << 32;
	area[1] = 0;
	WR64(VM_ENTRY_MSR_LOAD_ADDRESS, scratch());
	WR32(VM_ENTRY_MSR_LOAD_COUNT, 1);
	return 0;
}
