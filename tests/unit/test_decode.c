/*
 * test_decode.c - unit tests of the decoders in vmx/decode.h: each decoder
 * is given a value whose meaning the SDM (appendix A) fixes, and its text
 * must say so. Every test also checks that the decoder used only the printf
 * conversions the kernel and bare-metal printers support (unit.h).
 *
 * Runs on the host; TAP output with CMOCKA_MESSAGE_OUTPUT=TAP.
 */
#include "unit.h"

/* IA32_VMX_BASIC of Bochs' corei7_haswell_4770 (measured, PLATFORM.md):
 * revision 0x2B, 4096-byte regions, write-back (6), INS/OUTS info (bit 54),
 * TRUE controls (bit 55), no 32-bit address limit, no bit 56. */
static void basic_haswell(void **state)
{
	struct capture c;
	struct vmx_printer p = capture_printer(&c);

	(void)state;
	vmx_decode_basic(&p, 0x00D810000000002Bull);
	assert_text_matches(&c, "^  VMCS_REVISION_ID: +0x2b ");
	assert_text_matches(&c, "^  VMCS_REGION_SIZE: +4096 bytes ");
	assert_text_matches(&c, "^  VMCS_MEMORY_TYPE: +6 write-back");
	assert_text_matches(&c, "^  INS_OUTS_REPORTING: +yes ");
	assert_text_matches(&c, "^  TRUE_CONTROLS: +yes ");
	assert_text_matches(&c, "^  PHYSICAL_ADDRESS_WIDTH_32: +no ");
	assert_text_matches(&c, "^  DUAL_MONITOR_TREATMENT: +no ");
	assert_text_matches(&c, "^  HW_EXCEPTION_ANY_ERROR_CODE: +no ");
}

/* The other settings of the same fields: uncacheable, 32-bit limit, bit 56. */
static void basic_other_settings(void **state)
{
	struct capture c;
	struct vmx_printer p = capture_printer(&c);

	(void)state;
	/* revision 1, size 1024, bit 48, bit 49, type 0 (UC), bit 56 */
	vmx_decode_basic(&p, (1ull << 56) | (1ull << 49) | (1ull << 48) | (1024ull << 32) | 1);
	assert_text_matches(&c, "^  VMCS_REVISION_ID: +0x1 ");
	assert_text_matches(&c, "^  VMCS_REGION_SIZE: +1024 bytes");
	assert_text_matches(&c, "^  VMCS_MEMORY_TYPE: +0 uncacheable");
	assert_text_matches(&c, "^  PHYSICAL_ADDRESS_WIDTH_32: +yes");
	assert_text_matches(&c, "^  DUAL_MONITOR_TREATMENT: +yes");
	assert_text_matches(&c, "^  TRUE_CONTROLS: +no");
	assert_text_matches(&c, "^  HW_EXCEPTION_ANY_ERROR_CODE: +yes");
}

/* A control MSR: bit clear in 31:0 and set in 63:32 = may be either; set in
 * 31:0 = must be 1; clear in 63:32 = must be 0 (SDM A.3.1). */
static void procbased_haswell(void **state)
{
	struct capture c;
	struct vmx_printer p = capture_printer(&c);

	(void)state;
	assert_int_equal(vmx_decode_msr(&p, IA32_VMX_PROCBASED_CTLS, 0xF7F9FFFE0401E172ull), 0);
	assert_text_matches(&c, "^0x482 IA32_VMX_PROCBASED_CTLS 0xf7f9fffe0401e172$");
	assert_text_matches(&c, "^  bit  7  HLT_EXITING +may-be-either$");
	assert_text_matches(&c, "^  bit 15  CR3_LOAD_EXITING +must-be-1$");
	assert_text_matches(&c, "^  bit 17  ACTIVATE_TERTIARY_CONTROLS +must-be-0$");
	assert_text_matches(&c, "^  bit 27  MONITOR_TRAP_FLAG +must-be-0$");
	assert_text_matches(&c, "^  bit 31  ACTIVATE_SECONDARY_CONTROLS +may-be-either$");
	assert_text_matches(&c, "^  bit  1  \\(unnamed, reserved\\) +must-be-1$");
	assert_text_lacks(&c, "^  bit  0 ");   /* unnamed and must-be-0: not listed */
}

static void control_settings_all_cases(void **state)
{
	/* bit 0: allowed-0 = 1, allowed-1 = 0: contradictory; bit 1: must be 1;
	 * bit 2: either; bit 3: must be 0 */
	vmx_u64 cap = (0x6ull << 32) | 0x3;

	(void)state;
	assert_int_equal(vmx_control_setting(VMX_WORD_PIN, cap, 0), VMX_CONTRADICTORY);
	assert_int_equal(vmx_control_setting(VMX_WORD_PIN, cap, 1), VMX_MUST_BE_1);
	assert_int_equal(vmx_control_setting(VMX_WORD_PIN, cap, 2), VMX_MAY_BE_EITHER);
	assert_int_equal(vmx_control_setting(VMX_WORD_PIN, cap, 3), VMX_MUST_BE_0);
	/* 64-bit words: allowed 1-settings only */
	assert_int_equal(vmx_control_setting(VMX_WORD_PROC3, 0x2, 1), VMX_MAY_BE_EITHER);
	assert_int_equal(vmx_control_setting(VMX_WORD_PROC3, 0x2, 0), VMX_MUST_BE_0);
}

static void tertiary_is_allowed1_only(void **state)
{
	struct capture c;
	struct vmx_printer p = capture_printer(&c);

	(void)state;
	vmx_decode_msr(&p, IA32_VMX_PROCBASED_CTLS3, VMX_PROC3_ENABLE_HLAT | VMX_PROC3_IPI_VIRTUALIZATION);
	assert_text_matches(&c, "^  bit  1  ENABLE_HLAT +may-be-either$");
	assert_text_matches(&c, "^  bit  4  IPI_VIRTUALIZATION +may-be-either$");
	assert_text_matches(&c, "^  bit  0  LOADIWKEY_EXITING +must-be-0$");
	assert_text_matches(&c, "allowed 1-settings \\(a 0 means must be 0\\): 0x0000000000000012");
}

/* IA32_VMX_MISC (SDM A.6): rate 5 (2^5 = 32 TSC ticks), LMA store, all three
 * activity states, 4 CR3 targets, MSR-list field 2 (512 * 3 = 1536),
 * VMWRITE to exit-information fields, MSEG revision 0x12345678. */
static void misc_fields(void **state)
{
	struct capture c;
	struct vmx_printer p = capture_printer(&c);
	vmx_u64 v = 5 | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (4 << 16) | (2 << 25) |
		    (1 << 29) | (0x12345678ull << 32);

	(void)state;
	vmx_decode_misc(&p, v);
	assert_text_matches(&c, "^  PREEMPTION_TIMER_RATE: +5 \\(one timer tick every 32 TSC ticks\\)");
	assert_text_matches(&c, "^  STORE_EFER_LMA: +yes");
	assert_text_matches(&c, "^  ACTIVITY_HLT: +yes");
	assert_text_matches(&c, "^  ACTIVITY_SHUTDOWN: +yes");
	assert_text_matches(&c, "^  ACTIVITY_WAIT_FOR_SIPI: +yes");
	assert_text_matches(&c, "^  CR3_TARGET_COUNT: +4 ");
	assert_text_matches(&c, "^  MSR_LIST_LIMIT: +2 \\(at most 1536 MSRs per list\\)");
	assert_text_matches(&c, "^  VMWRITE_EXIT_INFORMATION: +yes");
	assert_text_matches(&c, "^  ZERO_LENGTH_INSTRUCTION_INJECTION: +no");
	assert_text_matches(&c, "^  MSEG_REVISION_ID: +0x12345678 ");
}

/* CR0 in VMX operation without unrestricted guest: PE, NE, PG fixed to 1
 * (FIXED0 = 0x80000021); FIXED1 = 0xFFFFFFFF: the upper half fixed to 0. */
static void fixed_cr0_cr4(void **state)
{
	struct capture c;
	struct vmx_printer p = capture_printer(&c);

	(void)state;
	vmx_decode_fixed(&p, CPU_REG_CR0, 0x80000021ull, 0xFFFFFFFFull);
	assert_text_matches(&c, "^  CR0 fixed to 1: PE NE PG$");
	assert_text_matches(&c, "^  CR0 fixed to 0: \\(unnamed bits 0xffffffff00000000\\)$");
	assert_text_matches(&c, "^  CR0 flexible: +MP EM TS ET WP AM NW CD \\(unnamed bits 0x1ffaffc0\\)$");
	p = capture_printer(&c);
	vmx_decode_fixed(&p, CPU_REG_CR4, 0x2000ull, 0x3727FFull);
	assert_text_matches(&c, "^  CR4 fixed to 1: VMXE$");
	assert_text_matches(&c, "^  CR4 fixed to 0: .*\\bLA57\\b");
	assert_text_matches(&c, "^  CR4 flexible: .*\\bPAE\\b.*\\bSMEP\\b");
	p = capture_printer(&c);
	vmx_decode_msr(&p, IA32_VMX_CR0_FIXED0, 0x80000021ull);
	assert_text_matches(&c, "^  CR0 fixed to 1: PE NE PG$");
}

/* IA32_VMX_EPT_VPID_CAP (SDM A.10): bits 0, 6, 8, 14, 16, 17, 20, 21, 25,
 * 26, 32, 40, 41, 42, 43. */
static void ept_vpid_cap(void **state)
{
	struct capture c;
	struct vmx_printer p = capture_printer(&c);
	vmx_u64 v = (1ull << 0) | (1ull << 6) | (1ull << 14) | (1ull << 16) | (1ull << 20) |
		    (1ull << 25) | (1ull << 26) | (1ull << 32) | (1ull << 41);

	(void)state;
	vmx_decode_ept_vpid_cap(&p, v);
	assert_text_matches(&c, "^  EXECUTE_ONLY: +yes");
	assert_text_matches(&c, "^  PAGE_WALK_LENGTH_4: +yes");
	assert_text_matches(&c, "^  PAGE_WALK_LENGTH_5: +no");
	assert_text_matches(&c, "^  MEMORY_TYPE_UC: +no");
	assert_text_matches(&c, "^  MEMORY_TYPE_WB: +yes");
	assert_text_matches(&c, "^  PDE_2MB_PAGES: +yes");
	assert_text_matches(&c, "^  PDPTE_1GB_PAGES: +no");
	assert_text_matches(&c, "^  INVEPT: +yes");
	assert_text_matches(&c, "^  INVEPT_SINGLE_CONTEXT: +yes");
	assert_text_matches(&c, "^  INVEPT_ALL_CONTEXT: +yes");
	assert_text_matches(&c, "^  INVVPID: +yes");
	assert_text_matches(&c, "^  INVVPID_INDIVIDUAL_ADDRESS: +no");
	assert_text_matches(&c, "^  INVVPID_SINGLE_CONTEXT: +yes");
}

static void vmfunc_and_vmcs_enum(void **state)
{
	struct capture c;
	struct vmx_printer p = capture_printer(&c);

	(void)state;
	vmx_decode_vmfunc(&p, 1);
	assert_text_matches(&c, "^  EPTP_SWITCHING: +yes");
	assert_text_lacks(&c, "other VM functions");
	p = capture_printer(&c);
	vmx_decode_vmfunc(&p, 0x6);
	assert_text_matches(&c, "^  EPTP_SWITCHING: +no");
	assert_text_matches(&c, "^  other VM functions: 0x6$");
	p = capture_printer(&c);
	vmx_decode_vmcs_enum(&p, 0x2E);   /* bits 9:1 = 0x17 */
	assert_text_matches(&c, "^  HIGHEST_INDEX: +23 \\(0x17\\)");
	p = capture_printer(&c);
	vmx_decode_feature_control(&p, 0x5);  /* Bochs: locked, VMX outside SMX */
	assert_text_matches(&c, "^  LOCK: +yes");
	assert_text_matches(&c, "^  VMX_INSIDE_SMX: +no");
	assert_text_matches(&c, "^  VMX_OUTSIDE_SMX: +yes");
}

/* Which optional MSRs exist (SDM appendix A). */
static void msr_presence(void **state)
{
	struct vmx_cap_values v = { 0, 0, 0, 0 };
	const char *r;

	(void)state;
	/* no secondary controls: no PROCBASED_CTLS2, EPT_VPID_CAP, VMFUNC */
	r = vmx_msr_absent_reason(IA32_VMX_PROCBASED_CTLS2, &v);
	assert_non_null(r);
	assert_non_null(strstr(r, "ACTIVATE_SECONDARY_CONTROLS"));
	assert_non_null(vmx_msr_absent_reason(IA32_VMX_EPT_VPID_CAP, &v));
	assert_non_null(vmx_msr_absent_reason(IA32_VMX_VMFUNC, &v));
	assert_non_null(strstr(vmx_msr_absent_reason(IA32_VMX_TRUE_PINBASED_CTLS, &v), "TRUE_CONTROLS"));
	assert_non_null(strstr(vmx_msr_absent_reason(IA32_VMX_PROCBASED_CTLS3, &v),
			       "ACTIVATE_TERTIARY_CONTROLS"));
	assert_non_null(vmx_msr_absent_reason(IA32_VMX_EXIT_CTLS2, &v));
	/* always there */
	assert_null(vmx_msr_absent_reason(IA32_VMX_BASIC, &v));
	assert_null(vmx_msr_absent_reason(IA32_VMX_VMCS_ENUM, &v));

	v.procbased_ctls = (vmx_u64)VMX_PROC_ACTIVATE_SECONDARY_CONTROLS << 32;
	assert_null(vmx_msr_absent_reason(IA32_VMX_PROCBASED_CTLS2, &v));
	assert_non_null(strstr(vmx_msr_absent_reason(IA32_VMX_EPT_VPID_CAP, &v), "ENABLE_EPT"));
	v.procbased_ctls2 = (vmx_u64)VMX_PROC2_ENABLE_VPID << 32;     /* VPID alone suffices */
	assert_null(vmx_msr_absent_reason(IA32_VMX_EPT_VPID_CAP, &v));
	assert_non_null(strstr(vmx_msr_absent_reason(IA32_VMX_VMFUNC, &v), "ENABLE_VM_FUNCTIONS"));
	v.procbased_ctls2 |= (vmx_u64)VMX_PROC2_ENABLE_VM_FUNCTIONS << 32;
	assert_null(vmx_msr_absent_reason(IA32_VMX_VMFUNC, &v));
	v.basic = 1ull << IA32_VMX_BASIC_TRUE_CONTROLS_LSB;
	assert_null(vmx_msr_absent_reason(IA32_VMX_TRUE_ENTRY_CTLS, &v));
	v.procbased_ctls |= (vmx_u64)VMX_PROC_ACTIVATE_TERTIARY_CONTROLS << 32;
	assert_null(vmx_msr_absent_reason(IA32_VMX_PROCBASED_CTLS3, &v));
	v.exit_ctls = (vmx_u64)VMX_EXIT_ACTIVATE_SECONDARY_CONTROLS << 32;
	assert_null(vmx_msr_absent_reason(IA32_VMX_EXIT_CTLS2, &v));
	/* the allowed-0 half does not count: only allowed-1 says "may be 1" */
	v.exit_ctls = VMX_EXIT_ACTIVATE_SECONDARY_CONTROLS;
	assert_non_null(vmx_msr_absent_reason(IA32_VMX_EXIT_CTLS2, &v));
}

static void exit_reason_and_error_lines(void **state)
{
	struct capture c;
	struct vmx_printer p = capture_printer(&c);

	(void)state;
	vmx_print_exit_reason(&p, 0x80000021);
	assert_text_matches(&c, "^VM_EXIT_REASON: 0x80000021 ENTRY_FAILURE_INVALID_GUEST_STATE \\(VM-entry failure due to invalid guest state\\)$");
	assert_text_matches(&c, "^VM_ENTRY_FAILURE: yes");
	p = capture_printer(&c);
	vmx_print_exit_reason(&p, 48);
	assert_text_matches(&c, "^VM_EXIT_REASON: 0x00000030 EPT_VIOLATION \\(EPT violation\\)$");
	assert_text_lacks(&c, "VM_ENTRY_FAILURE");
	p = capture_printer(&c);
	vmx_print_instruction_error(&p, 7);
	assert_text_matches(&c, "^VM_INSTRUCTION_ERROR: 7 \\(VM entry with invalid control field\\(s\\)\\)$");
	p = capture_printer(&c);
	vmx_print_instruction_error(&p, 99);
	assert_text_matches(&c, "^VM_INSTRUCTION_ERROR: 99 \\(not an error number of the SDM\\)$");
}

/* Every MSR of the list decodes (with all bits set and with none) using only
 * the portable conversions; an unknown MSR gives -1 after its line. */
static void every_msr_decodes_portably(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < VMX_MSR_COUNT; i++) {
		struct capture c;
		struct vmx_printer p = capture_printer(&c);

		assert_int_equal(vmx_decode_msr(&p, vmx_msr_table[i].number, ~0ull), 0);
		assert_int_equal(vmx_decode_msr(&p, vmx_msr_table[i].number, 0), 0);
		assert_text_matches(&c, "^0x[0-9a-f]+ IA32_[A-Z0-9_]+ 0x[0-9a-f]{16}$");
		if (c.len < 60)
			fail_msg("%s decodes to almost nothing:\n%s", vmx_msr_table[i].name, c.text);
	}
	{
		struct capture c;
		struct vmx_printer p = capture_printer(&c);

		assert_int_equal(vmx_decode_msr(&p, 0x10, 1), -1);
		assert_text_matches(&c, "^0x10 UNKNOWN_MSR 0x0000000000000001$");
	}
}

/* The portability checker itself rejects what it should. */
static void format_checker_rejects_unportable(void **state)
{
	char bad[16];

	(void)state;
	assert_true(format_is_portable("%s %c %d %u %x %llx %llu %08x %-40s %2u %% ", bad, sizeof(bad)));
	assert_false(format_is_portable("%p", bad, sizeof(bad)));
	assert_false(format_is_portable("%lu", bad, sizeof(bad)));
	assert_false(format_is_portable("%.3s", bad, sizeof(bad)));
	assert_false(format_is_portable("%*d", bad, sizeof(bad)));
	assert_false(format_is_portable("%lld", bad, sizeof(bad)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic_haswell),
		cmocka_unit_test(basic_other_settings),
		cmocka_unit_test(procbased_haswell),
		cmocka_unit_test(control_settings_all_cases),
		cmocka_unit_test(tertiary_is_allowed1_only),
		cmocka_unit_test(misc_fields),
		cmocka_unit_test(fixed_cr0_cr4),
		cmocka_unit_test(ept_vpid_cap),
		cmocka_unit_test(vmfunc_and_vmcs_enum),
		cmocka_unit_test(msr_presence),
		cmocka_unit_test(exit_reason_and_error_lines),
		cmocka_unit_test(every_msr_decodes_portably),
		cmocka_unit_test(format_checker_rejects_unportable),
	};

	return cmocka_run_group_tests_name("decoders", tests, NULL, NULL);
}
