/*
 * test_fields.c - unit tests of the VMCS field list (common/vmx/vmcs_fields.def
 * through vmx/fields.h): for every field the width and type that its encoding
 * carries (SDM 24.11.2) agree with the declared WIDTH and GROUP, the access
 * bit is 0 and no reserved bit is set; no two fields share an encoding or a
 * name; lookups work.
 *
 * Runs on the host; one TAP line per field (CMOCKA_MESSAGE_OUTPUT=TAP).
 */
#include "unit.h"

/* One field's own consistency; *state is its table entry. */
static void field_consistent(void **state)
{
	const struct vmcs_field_info *f = *state;

	if (VMCS_ENC_WIDTH(f->encoding) != f->width)
		fail_msg("%s 0x%08x: encoding bits 14:13 say %s, the list says %s", f->name,
			 f->encoding, vmcs_width_name(VMCS_ENC_WIDTH(f->encoding)),
			 vmcs_width_name(f->width));
	if (VMCS_ENC_TYPE(f->encoding) != f->group)
		fail_msg("%s 0x%08x: encoding bits 11:10 say %s, the list says %s", f->name,
			 f->encoding, vmcs_group_name(VMCS_ENC_TYPE(f->encoding)),
			 vmcs_group_name(f->group));
	if (VMCS_ENC_ACCESS_HIGH(f->encoding))
		fail_msg("%s 0x%08x: access-type bit 0 is 1 (the list holds full encodings only)",
			 f->name, f->encoding);
	if (f->encoding & VMCS_ENC_RESERVED_MASK)
		fail_msg("%s 0x%08x: reserved bits set: 0x%08x", f->name, f->encoding,
			 f->encoding & VMCS_ENC_RESERVED_MASK);
	if (!f->name[0] || !f->description || !f->description[0])
		fail_msg("field 0x%08x has an empty name or description", f->encoding);
	if (vmcs_field_by_encoding(f->encoding) != f)
		fail_msg("%s: lookup by encoding 0x%08x finds another entry", f->name, f->encoding);
	if (vmcs_field_by_name(f->name) != f)
		fail_msg("%s: lookup by its own name finds another entry", f->name);
}

static void encodings_unique(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < VMCS_FIELD_COUNT; i++)
		for (j = i + 1; j < VMCS_FIELD_COUNT; j++)
			if (vmcs_field_table[i].encoding == vmcs_field_table[j].encoding)
				fail_msg("%s and %s share encoding 0x%08x", vmcs_field_table[i].name,
					 vmcs_field_table[j].name, vmcs_field_table[i].encoding);
}

static void names_unique(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < VMCS_FIELD_COUNT; i++)
		for (j = i + 1; j < VMCS_FIELD_COUNT; j++)
			if (vmx_str_ieq(vmcs_field_table[i].name, vmcs_field_table[j].name))
				fail_msg("two fields are named %s", vmcs_field_table[i].name);
}

/* The high half of a 64-bit field is derived (ENCODING | 1), never listed. */
static void high_halves_not_listed(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];

		if (f->width == VMCS_WIDTH_64 && vmcs_field_by_encoding(VMCS_ENC_HIGH(f->encoding)))
			fail_msg("the high half 0x%08x of %s is listed as a field of its own",
				 VMCS_ENC_HIGH(f->encoding), f->name);
	}
}

/* Every width x group combination the SDM uses has fields in the list (the
 * 16-bit read-only group is empty in the SDM, and so is 32-bit host except
 * SYSENTER_CS): the list is not missing a whole table of appendix B. */
static void every_appendix_b_table_present(void **state)
{
	static const struct { unsigned width, group; const char *table; } tables[] = {
		{ VMCS_WIDTH_16, VMCS_GROUP_CONTROL, "B.1.1" },
		{ VMCS_WIDTH_16, VMCS_GROUP_GUEST_STATE, "B.1.2" },
		{ VMCS_WIDTH_16, VMCS_GROUP_HOST_STATE, "B.1.3" },
		{ VMCS_WIDTH_64, VMCS_GROUP_CONTROL, "B.2.1" },
		{ VMCS_WIDTH_64, VMCS_GROUP_READ_ONLY, "B.2.2" },
		{ VMCS_WIDTH_64, VMCS_GROUP_GUEST_STATE, "B.2.3" },
		{ VMCS_WIDTH_64, VMCS_GROUP_HOST_STATE, "B.2.4" },
		{ VMCS_WIDTH_32, VMCS_GROUP_CONTROL, "B.3.1" },
		{ VMCS_WIDTH_32, VMCS_GROUP_READ_ONLY, "B.3.2" },
		{ VMCS_WIDTH_32, VMCS_GROUP_GUEST_STATE, "B.3.3" },
		{ VMCS_WIDTH_32, VMCS_GROUP_HOST_STATE, "B.3.4" },
		{ VMCS_WIDTH_NATURAL, VMCS_GROUP_CONTROL, "B.4.1" },
		{ VMCS_WIDTH_NATURAL, VMCS_GROUP_READ_ONLY, "B.4.2" },
		{ VMCS_WIDTH_NATURAL, VMCS_GROUP_GUEST_STATE, "B.4.3" },
		{ VMCS_WIDTH_NATURAL, VMCS_GROUP_HOST_STATE, "B.4.4" },
	};
	unsigned t, i, n;

	(void)state;
	for (t = 0; t < VMX_ARRAY_SIZE(tables); t++) {
		for (i = n = 0; i < VMCS_FIELD_COUNT; i++)
			n += vmcs_field_table[i].width == tables[t].width &&
			     vmcs_field_table[i].group == tables[t].group;
		if (n == 0)
			fail_msg("no %s %s field: the fields of SDM %s are missing",
				 vmcs_width_name(tables[t].width), vmcs_group_name(tables[t].group),
				 tables[t].table);
	}
}

/* The encoding helpers on a field whose decode the SDM spells out:
 * CR3-target count is 0000400AH, a 32-bit control field with index 5. */
static void encoding_helpers_cr3_target_count(void **state)
{
	(void)state;
	assert_int_equal(VMCS_ENC_WIDTH(VMCS_CR3_TARGET_COUNT), VMCS_WIDTH_32);
	assert_int_equal(VMCS_ENC_TYPE(VMCS_CR3_TARGET_COUNT), VMCS_GROUP_CONTROL);
	assert_int_equal(VMCS_ENC_INDEX(VMCS_CR3_TARGET_COUNT), 5);
	assert_int_equal(VMCS_ENC_ACCESS_HIGH(VMCS_CR3_TARGET_COUNT), 0);
	assert_int_equal(VMCS_ENC_HIGH(VMCS_TSC_OFFSET) & 1, 1);
}

static void lookup_by_name_forms(void **state)
{
	const struct vmcs_field_info *f = vmcs_field_by_name("GUEST_RIP");

	(void)state;
	assert_non_null(f);
	assert_int_equal(f->encoding, VMCS_GUEST_RIP);
	assert_ptr_equal(vmcs_field_by_name("guest_rip"), f);
	assert_ptr_equal(vmcs_field_by_name("VMCS_GUEST_RIP"), f);
	assert_ptr_equal(vmcs_field_by_name("vmcs_guest_rip"), f);
	assert_null(vmcs_field_by_name("GUEST_RIPX"));
	assert_null(vmcs_field_by_name(""));
	assert_null(vmcs_field_by_encoding(0x00006C7E));
	/* VMCS_LINK_POINTER begins with the prefix itself */
	assert_int_equal(vmcs_field_by_name("VMCS_LINK_POINTER")->encoding, VMCS_VMCS_LINK_POINTER);
}

int main(void)
{
	static struct CMUnitTest tests[VMCS_FIELD_COUNT + 6];
	static char names[VMCS_FIELD_COUNT][96];
	unsigned i, n = 0;

	for (i = 0; i < VMCS_FIELD_COUNT; i++) {
		snprintf(names[i], sizeof(names[i]), "field %s 0x%08x", vmcs_field_table[i].name,
			 vmcs_field_table[i].encoding);
		tests[n].name = names[i];
		tests[n].test_func = field_consistent;
		tests[n].initial_state = (void *)&vmcs_field_table[i];
		n++;
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(encodings_unique);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(names_unique);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(high_halves_not_listed);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(every_appendix_b_table_present);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(encoding_helpers_cr3_target_count);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(lookup_by_name_forms);
	return _cmocka_run_group_tests("vmcs_fields", tests, n, NULL, NULL);
}
