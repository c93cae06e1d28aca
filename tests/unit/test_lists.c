/*
 * test_lists.c - unit tests of the other fact lists: capability MSRs,
 * control words and bits, exit reasons, VM-instruction errors, CPU register
 * bits and MSR fields. Each list has unique numbers and names, values in the
 * range the SDM allows, and every cross-reference (a control word's VMCS
 * field and MSRs) names an entry that exists.
 *
 * Runs on the host; TAP output with CMOCKA_MESSAGE_OUTPUT=TAP.
 */
#include "unit.h"
#include "vmx/capsplit.h"       /* vmx_control_split */

static void msrs_unique_and_in_range(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < VMX_MSR_COUNT; i++) {
		vmx_u32 n = vmx_msr_table[i].number;

		if (n != IA32_FEATURE_CONTROL && (n < IA32_VMX_BASIC || n > IA32_VMX_EXIT_CTLS2))
			fail_msg("%s 0x%x is outside 0x3A and 0x480-0x493", vmx_msr_table[i].name, n);
		for (j = i + 1; j < VMX_MSR_COUNT; j++) {
			if (vmx_msr_table[j].number == n)
				fail_msg("%s and %s share MSR number 0x%x", vmx_msr_table[i].name,
					 vmx_msr_table[j].name, n);
			if (vmx_str_ieq(vmx_msr_table[i].name, vmx_msr_table[j].name))
				fail_msg("two MSRs are named %s", vmx_msr_table[i].name);
		}
	}
}

/* 0x480-0x493 has no hole: every capability MSR up to EXIT_CTLS2 is listed. */
static void msrs_range_complete(void **state)
{
	vmx_u32 n;

	(void)state;
	assert_int_equal(IA32_VMX_BASIC, 0x480);
	assert_int_equal(IA32_VMX_EXIT_CTLS2, 0x493);
	for (n = IA32_VMX_BASIC; n <= IA32_VMX_EXIT_CTLS2; n++)
		if (!vmx_msr_by_number(n))
			fail_msg("MSR 0x%x is missing from vmx_msrs.def", n);
	assert_ptr_equal(vmx_msr_by_name("ia32_vmx_basic"), vmx_msr_by_number(0x480));
	assert_ptr_equal(vmx_msr_by_name("VMX_BASIC"), vmx_msr_by_number(0x480));
	assert_null(vmx_msr_by_name("IA32_VMX_NOPE"));
}

static void control_words_reference_real_entries(void **state)
{
	unsigned w;

	(void)state;
	for (w = 0; w < VMX_WORD_COUNT; w++) {
		const struct vmx_control_word_info *c = &vmx_control_word_table[w];
		const struct vmcs_field_info *f = vmcs_field_by_encoding(c->field);

		if (!c->name)
			fail_msg("control word %u has no entry", w);
		if (!f || f->group != VMCS_GROUP_CONTROL)
			fail_msg("word %s: field 0x%08x is not a control field", c->name, c->field);
		if (f->width != VMCS_WIDTH_32 && f->width != VMCS_WIDTH_64)
			fail_msg("word %s: field %s is %s", c->name, f->name, vmcs_width_name(f->width));
		if (!vmx_msr_by_number(c->msr))
			fail_msg("word %s: MSR 0x%x is not in vmx_msrs.def", c->name, c->msr);
		if (c->true_msr && !vmx_msr_by_number(c->true_msr))
			fail_msg("word %s: TRUE MSR 0x%x is not in vmx_msrs.def", c->name, c->true_msr);
		if (c->true_msr && vmx_control_word_is_64bit(w))
			fail_msg("word %s: a 64-bit word has no TRUE MSR in the SDM", c->name);
		if (vmx_control_word_by_msr(c->msr) != (int)w)
			fail_msg("word %s: lookup by MSR 0x%x gives another word", c->name, c->msr);
	}
	assert_int_equal(vmx_control_word_by_msr(IA32_VMX_TRUE_ENTRY_CTLS), VMX_WORD_ENTRY);
	assert_int_equal(vmx_control_word_by_msr(IA32_VMX_BASIC), -1);
}

static void control_bits_unique_per_word(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < VMX_CONTROL_BIT_COUNT; i++) {
		const struct vmx_control_bit_info *a = &vmx_control_bit_table[i];
		unsigned limit = vmx_control_word_is_64bit(a->word) ? 64 : 32;

		if (a->word >= VMX_WORD_COUNT)
			fail_msg("%s: no such control word %u", a->name, a->word);
		if (a->bit >= limit)
			fail_msg("%s %s: bit %u is beyond the %u-bit word",
				 vmx_control_word_table[a->word].name, a->name, a->bit, limit);
		for (j = i + 1; j < VMX_CONTROL_BIT_COUNT; j++) {
			const struct vmx_control_bit_info *b = &vmx_control_bit_table[j];

			if (a->word != b->word)
				continue;
			if (a->bit == b->bit)
				fail_msg("%s: %s and %s are both bit %u",
					 vmx_control_word_table[a->word].name, a->name, b->name, a->bit);
			if (vmx_str_ieq(a->name, b->name))
				fail_msg("%s: two bits named %s", vmx_control_word_table[a->word].name,
					 a->name);
		}
	}
}

/* Mask and bit-number names agree, on bits the SDM fixes (24.6-24.8). */
static void control_masks_match_bits(void **state)
{
	(void)state;
	assert_true(VMX_PROC_HLT_EXITING == 1ull << VMX_PROC_HLT_EXITING_BIT);
	assert_int_equal(VMX_PROC_HLT_EXITING_BIT, 7);
	assert_int_equal(VMX_PROC_ACTIVATE_SECONDARY_CONTROLS_BIT, 31);
	assert_true((vmx_u64)VMX_PROC_ACTIVATE_SECONDARY_CONTROLS == 0x80000000ull);
	assert_int_equal(VMX_PROC2_ENABLE_EPT_BIT, 1);
	assert_int_equal(VMX_PROC2_ENABLE_VPID_BIT, 5);
	assert_int_equal(VMX_PROC2_UNRESTRICTED_GUEST_BIT, 7);
	assert_int_equal(VMX_EXIT_HOST_ADDRESS_SPACE_SIZE_BIT, 9);
	assert_int_equal(VMX_ENTRY_IA_32E_MODE_GUEST_BIT, 9);
	assert_string_equal(vmx_control_bit_info(VMX_WORD_PIN, 3)->name, "NMI_EXITING");
	assert_null(vmx_control_bit_info(VMX_WORD_PIN, 1));
}

static void control_split_halves_or_whole(void **state)
{
	/* Haswell in Bochs: PROC allowed-0 0x0401E172, allowed-1 0xF7F9FFFE */
	struct vmx_allowed_settings a = vmx_control_split(VMX_WORD_PROC, 0xF7F9FFFE0401E172ull);

	(void)state;
	assert_true(a.allowed0 == 0x0401E172ull);
	assert_true(a.allowed1 == 0xF7F9FFFEull);
	/* 64-bit word: the MSR is allowed-1 settings only, all 64 bits */
	a = vmx_control_split(VMX_WORD_PROC3, 0x8000000000000002ull);
	assert_true(a.allowed0 == 0);
	assert_true(a.allowed1 == 0x8000000000000002ull);
}

static void control_words_exist_by_their_activator(void **state)
{
	unsigned activator;

	(void)state;
	/* PIN, PROC, EXIT, ENTRY always exist, whatever the argument. */
	assert_true(vmx_control_word_activator(VMX_WORD_ENTRY, &activator) == 0);
	assert_true(vmx_control_word_exists(VMX_WORD_PIN, 0));
	assert_true(vmx_control_word_exists(VMX_WORD_ENTRY, 0));
	/* The others ask one control of PROC or EXIT (SDM A.3.3, A.3.4, A.4.2). */
	assert_true(vmx_control_word_activator(VMX_WORD_PROC2, &activator) == VMX_PROC_ACTIVATE_SECONDARY_CONTROLS);
	assert_int_equal(activator, VMX_WORD_PROC);
	assert_true(vmx_control_word_activator(VMX_WORD_EXIT2, &activator) == VMX_EXIT_ACTIVATE_SECONDARY_CONTROLS);
	assert_int_equal(activator, VMX_WORD_EXIT);
	assert_false(vmx_control_word_exists(VMX_WORD_PROC2, 0));
	/* Haswell in Bochs: PROC allowed-1 0xF7F9FFFE (secondary, no tertiary) */
	assert_true(vmx_control_word_exists(VMX_WORD_PROC2, 0xF7F9FFFEull));
	assert_false(vmx_control_word_exists(VMX_WORD_PROC3, 0xF7F9FFFEull));
	assert_true(vmx_control_word_exists(VMX_WORD_PROC3, VMX_PROC_ACTIVATE_TERTIARY_CONTROLS));
	/* EXIT2: every VM-exit control but "activate secondary controls" (31) */
	assert_false(vmx_control_word_exists(VMX_WORD_EXIT2, 0x7FFFFFFFull));
	assert_true(vmx_control_word_exists(VMX_WORD_EXIT2, VMX_EXIT_ACTIVATE_SECONDARY_CONTROLS));
}

static void exit_reasons_unique(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		const struct vmx_exit_reason_info *a = &vmx_exit_reason_table[i];

		if (a->number > 0xFFFF)
			fail_msg("%s: %u does not fit bits 15:0", a->name, a->number);
		if (vmx_exit_reason_by_number(a->number) != a || vmx_exit_reason_by_name(a->name) != a)
			fail_msg("%s: lookup finds another entry", a->name);
		for (j = i + 1; j < VMX_EXIT_REASON_COUNT; j++) {
			if (vmx_exit_reason_table[j].number == a->number)
				fail_msg("%s and %s are both exit reason %u", a->name,
					 vmx_exit_reason_table[j].name, a->number);
			if (vmx_str_ieq(vmx_exit_reason_table[j].name, a->name))
				fail_msg("two exit reasons are named %s", a->name);
		}
	}
	assert_int_equal(VMX_EXIT_REASON_EPT_VIOLATION, 48);
	assert_int_equal(VMX_EXIT_REASON_HLT, 12);
	assert_string_equal(vmx_exit_reason_name(48), "EPT_VIOLATION");
	assert_string_equal(vmx_exit_reason_name(35), "UNKNOWN");
	assert_ptr_equal(vmx_exit_reason_by_name("vmx_exit_reason_cpuid"), vmx_exit_reason_by_number(10));
}

static void errors_unique(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < VMX_INSTRUCTION_ERROR_COUNT; i++) {
		vmx_u32 n = vmx_instruction_error_table[i].number;

		if (n == 0 || n > 28)
			fail_msg("VM-instruction error %u is outside 1-28", n);
		for (j = i + 1; j < VMX_INSTRUCTION_ERROR_COUNT; j++) {
			if (vmx_instruction_error_table[j].number == n)
				fail_msg("VM-instruction error %u is listed twice", n);
			if (vmx_str_ieq(vmx_instruction_error_table[j].name, vmx_instruction_error_table[i].name))
				fail_msg("VM-instruction errors %u and %u are both named %s", n,
					 vmx_instruction_error_table[j].number, vmx_instruction_error_table[i].name);
		}
	}
	assert_string_equal(vmx_instruction_error_text(7), "VM entry with invalid control field(s)");
	assert_null(vmx_instruction_error_text(14));
	assert_null(vmx_instruction_error_text(0));
	/* The kit's names: the enum, the table and the lookup agree. */
	assert_int_equal(VMX_ERROR_VMENTRY_INVALID_CONTROL_FIELDS, 7);
	assert_int_equal(VMX_ERROR_VMENTRY_INVALID_HOST_STATE_FIELDS, 8);
	assert_int_equal(VMX_ERROR_VMREAD_VMWRITE_UNSUPPORTED_COMPONENT, 12);
	assert_string_equal(vmx_instruction_error_name(7), "VMENTRY_INVALID_CONTROL_FIELDS");
	assert_null(vmx_instruction_error_name(14));
}

static void cpu_bits_unique_per_register(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < CPU_REG_BIT_COUNT; i++) {
		const struct cpu_reg_bit_info *a = &cpu_reg_bit_table[i];

		if (a->reg >= CPU_REG_COUNT || a->bit >= 64)
			fail_msg("%s: bad register %u or bit %u", a->name, a->reg, a->bit);
		for (j = i + 1; j < CPU_REG_BIT_COUNT; j++) {
			const struct cpu_reg_bit_info *b = &cpu_reg_bit_table[j];

			if (a->reg == b->reg && (a->bit == b->bit || vmx_str_ieq(a->name, b->name)))
				fail_msg("%s: %s and %s clash (bit %u/%u)", cpu_reg_name(a->reg),
					 a->name, b->name, a->bit, b->bit);
		}
	}
	assert_true(CPU_CR0_PG == 0x80000000ull);
	assert_int_equal(CPU_CR4_VMXE_BIT, 13);
	assert_int_equal(CPU_EFER_LME_BIT, 8);
	assert_int_equal(CPU_RFLAGS_VM_BIT, 17);
}

static void msr_fields_within_their_msr(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < VMX_MSR_FIELD_COUNT; i++) {
		const struct vmx_msr_field_info *a = &vmx_msr_field_table[i];

		if (!vmx_msr_by_number(a->msr))
			fail_msg("%s: MSR 0x%x is not in vmx_msrs.def", a->name, a->msr);
		if (a->lsb > a->msb || a->msb > 63)
			fail_msg("%s: bad bit range %u-%u", a->name, a->msb, a->lsb);
		if (vmx_control_word_by_msr(a->msr) >= 0)
			fail_msg("%s: MSR 0x%x is a control MSR (its bits are in vmx_controls.def)",
				 a->name, a->msr);
		for (j = i + 1; j < VMX_MSR_FIELD_COUNT; j++) {
			const struct vmx_msr_field_info *b = &vmx_msr_field_table[j];

			if (a->msr == b->msr && a->lsb <= b->msb && b->lsb <= a->msb)
				fail_msg("0x%x: fields %s and %s overlap", a->msr, a->name, b->name);
			if (a->msr == b->msr && vmx_str_ieq(a->name, b->name))
				fail_msg("0x%x: two fields named %s", a->msr, a->name);
		}
	}
	assert_true(VMX_MSR_FIELD_GET(0x00D810000000002Bull, IA32_VMX_BASIC_VMCS_REVISION_ID) == 0x2B);
	assert_true(VMX_MSR_FIELD_GET(0x00D810000000002Bull, IA32_VMX_BASIC_VMCS_REGION_SIZE) == 4096);
	assert_true(VMX_MSR_FIELD_MASK(IA32_VMX_MISC_MSEG_REVISION_ID) == 0xFFFFFFFF00000000ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(msrs_unique_and_in_range),
		cmocka_unit_test(msrs_range_complete),
		cmocka_unit_test(control_words_reference_real_entries),
		cmocka_unit_test(control_bits_unique_per_word),
		cmocka_unit_test(control_masks_match_bits),
		cmocka_unit_test(control_split_halves_or_whole),
		cmocka_unit_test(control_words_exist_by_their_activator),
		cmocka_unit_test(exit_reasons_unique),
		cmocka_unit_test(errors_unique),
		cmocka_unit_test(cpu_bits_unique_per_register),
		cmocka_unit_test(msr_fields_within_their_msr),
	};

	return cmocka_run_group_tests_name("fact_lists", tests, NULL, NULL);
}
