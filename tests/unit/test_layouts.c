/*
 * test_layouts.c - unit tests of the bit layouts (vmx_layouts.def) and the
 * value sets (vmx_values.def): within a layout no two fields overlap and no
 * two share a name, every field fits its layout's width; within a set names
 * and values are unique and every value fits the field it goes into; the
 * macros of vmx/layouts.h give the masks the SDM tables give.
 *
 * Runs on the host; TAP output with CMOCKA_MESSAGE_OUTPUT=TAP.
 */
#include "unit.h"
#include "vmx/layouts.h"
#include "vmx/values.h"

/* Width of each layout in bits: the size of the field or register it
 * describes (a layout missing here fails the test). */
static const struct { const char *layout; unsigned bits; } layout_width[] = {
	{ "IO_QUAL", 64 },            /* natural-width exit qualification */
	{ "INTR_INFO_EXIT", 32 },     /* 32-bit VMCS fields */
	{ "INTR_INFO_ENTRY", 32 },
	{ "INTERRUPTIBILITY", 32 },
	{ "PENDING_DBG", 64 },        /* natural width */
	{ "SEG_AR", 32 },
	{ "SEG_TYPE_BITS", 4 },       /* the 4-bit TYPE field of SEG_AR */
	{ "SELECTOR", 16 },
	{ "RFLAGS", 64 },
	{ "DEBUGCTL", 64 },
	{ "EPTP", 64 },
	{ "EPT_ENTRY", 64 },
	{ "EPT_QUAL", 64 },           /* natural-width exit qualification */
	{ "CR_QUAL", 64 },
};

static unsigned width_of(const char *layout)
{
	unsigned i;

	for (i = 0; i < VMX_ARRAY_SIZE(layout_width); i++)
		if (strcmp(layout_width[i].layout, layout) == 0)
			return layout_width[i].bits;
	return 0;
}

static void layouts_do_not_overlap(void **state)
{
	unsigned i, j;

	(void)state;
	assert_true(VMX_BITFIELD_COUNT >= 60);
	for (i = 0; i < VMX_BITFIELD_COUNT; i++) {
		const struct vmx_bitfield_info *a = &vmx_bitfield_table[i];
		unsigned w = width_of(a->layout);

		if (w == 0)
			fail_msg("%s_%s: layout %s has no width in this test", a->layout, a->name, a->layout);
		if (a->lsb > a->msb || a->msb >= w)
			fail_msg("%s_%s: bits %u:%u outside the %u-bit layout", a->layout, a->name,
				 a->msb, a->lsb, w);
		if (!a->description[0])
			fail_msg("%s_%s: no description", a->layout, a->name);
		for (j = i + 1; j < VMX_BITFIELD_COUNT; j++) {
			const struct vmx_bitfield_info *b = &vmx_bitfield_table[j];

			if (strcmp(a->layout, b->layout) != 0)
				continue;
			if (a->lsb <= b->msb && b->lsb <= a->msb)
				fail_msg("%s: fields %s (%u:%u) and %s (%u:%u) overlap", a->layout,
					 a->name, a->msb, a->lsb, b->name, b->msb, b->lsb);
			if (vmx_str_ieq(a->name, b->name))
				fail_msg("%s: two fields named %s", a->layout, a->name);
		}
	}
}

/* Each layout's fields are listed in one block, lowest bit first (the
 * order of the SDM tables), so a reader finds a gap at a glance. */
static void layouts_listed_in_bit_order(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 1; i < VMX_BITFIELD_COUNT; i++) {
		const struct vmx_bitfield_info *p = &vmx_bitfield_table[i - 1], *a = &vmx_bitfield_table[i];

		if (strcmp(p->layout, a->layout) == 0 && p->msb >= a->lsb)
			fail_msg("%s: %s listed after %s", a->layout, a->name, p->name);
		if (strcmp(p->layout, a->layout) != 0)
			for (j = 0; j + 1 < i; j++)
				if (strcmp(vmx_bitfield_table[j].layout, a->layout) == 0)
					fail_msg("layout %s is split into two blocks", a->layout);
	}
}

static void layout_macros_match_sdm_tables(void **state)
{
	(void)state;
	/* I/O qualification: an `in al, dx` from port 0x3FD is 0x03FD0008. */
	assert_true(VMX_BITS_GET(0x03FD0008ull, VMX_IO_QUAL_PORT) == 0x3FD);
	assert_true(VMX_BITS_GET(0x03FD0008ull, VMX_IO_QUAL_DIRECTION_IN) == 1);
	assert_true(VMX_BITS_GET(0x03FD0008ull, VMX_IO_QUAL_SIZE) == 0);
	assert_true(VMX_BITS_MASK(VMX_IO_QUAL_IMMEDIATE) == 0x40);
	/* A #GP with an error code, as the VM-exit interruption information
	 * reports it: valid, error code valid, hardware exception, vector 13. */
	assert_true((VMX_BITS_MASK(VMX_INTR_INFO_EXIT_VALID) | VMX_BITS_MASK(VMX_INTR_INFO_EXIT_ERROR_CODE_VALID) |
		     VMX_BITS_PUT(VMX_INTR_INFO_EXIT_TYPE, VMX_INTR_TYPE_HARDWARE_EXCEPTION) |
		     VMX_BITS_PUT(VMX_INTR_INFO_EXIT_VECTOR, 13)) == 0x80000B0Dull);
	assert_true(VMX_BITS_MASK(VMX_INTR_INFO_ENTRY_RESERVED_30_12) == 0x7FFFF000ull);
	/* Access rights 0xF3 = data RW accessed, S, DPL 3, P. */
	assert_true((VMX_BITS_PUT(VMX_SEG_AR_TYPE, VMX_SEG_TYPE_DATA_RW_ACCESSED) | VMX_BITS_MASK(VMX_SEG_AR_S) |
		     VMX_BITS_PUT(VMX_SEG_AR_DPL, 3) | VMX_BITS_MASK(VMX_SEG_AR_P)) == VMX_V86_SEGMENT_ACCESS_RIGHTS);
	assert_true(VMX_BITS_MASK(VMX_SEG_AR_UNUSABLE) == 0x10000);
	assert_true((VMX_BITS_MASK(VMX_SEG_AR_RESERVED_11_8) | VMX_BITS_MASK(VMX_SEG_AR_RESERVED_31_17)) ==
		    0xFFFE0F00ull);
	/* 64-bit-wide fields: the mask reaches bit 63. */
	assert_true(VMX_BITS_MASK(VMX_RFLAGS_RESERVED_63_22) == 0xFFFFFFFFFFC00000ull);
	assert_true(VMX_BITS_MASK(VMX_EPTP_PML4_ADDRESS) == 0xFFFFFFFFFFFFF000ull);
	assert_true(VMX_BITS_GET(~0ull, VMX_DEBUGCTL_RESERVED_63_16) == 0xFFFFFFFFFFFFull);
	/* An EPTP for a WB, 4-level table at 0x5000. */
	assert_true((0x5000 | VMX_BITS_PUT(VMX_EPTP_MEMORY_TYPE, VMX_MEMORY_TYPE_WB) |
		     VMX_BITS_PUT(VMX_EPTP_PAGE_WALK_LENGTH_MINUS_1, 4 - 1)) == 0x501Eull);
	assert_non_null(vmx_bitfield_by_name("io_qual", "port"));
	assert_int_equal(vmx_bitfield_value(vmx_bitfield_by_name("SELECTOR", "RPL"), 0x1003), 3);
	assert_null(vmx_bitfield_by_name("IO_QUAL", "VECTOR"));
}

/* The field each value set goes into: the value must fit it. */
static const struct { const char *set, *layout, *field; unsigned bits; } value_home[] = {
	{ "INTR_TYPE", "INTR_INFO_ENTRY", "TYPE", 0 },
	{ "ACTIVITY", VMX_NULL, VMX_NULL, 32 },            /* a 32-bit guest-state field */
	{ "SEG_TYPE", "SEG_AR", "TYPE", 0 },
	{ "SYSTEM_TYPE", "SEG_AR", "TYPE", 0 },
	{ "MEMORY_TYPE", "EPTP", "MEMORY_TYPE", 0 },       /* 3 bits; a PAT entry has 8 */
	{ "QUAL_ENTRY_FAILURE", VMX_NULL, VMX_NULL, 64 },  /* the exit qualification */
	{ "CR_ACCESS", "CR_QUAL", "ACCESS_TYPE", 0 },
	{ "INVEPT_TYPE", VMX_NULL, VMX_NULL, 64 },         /* a 64-bit register operand */
	{ "INVVPID_TYPE", VMX_NULL, VMX_NULL, 64 },
	{ "V86_SEGMENT", VMX_NULL, VMX_NULL, 32 },         /* limit and access-rights fields */
};

static void values_unique_and_fit(void **state)
{
	unsigned i, j, k;

	(void)state;
	assert_true(VMX_VALUE_COUNT >= 50);
	for (i = 0; i < VMX_VALUE_COUNT; i++) {
		const struct vmx_value_info *a = &vmx_value_table[i];
		unsigned bits = 0;

		for (k = 0; k < VMX_ARRAY_SIZE(value_home); k++)
			if (strcmp(value_home[k].set, a->set) == 0) {
				const struct vmx_bitfield_info *f = value_home[k].layout ?
					vmx_bitfield_by_name(value_home[k].layout, value_home[k].field) : VMX_NULL;
				if (value_home[k].layout && !f)
					fail_msg("%s: field %s_%s not in vmx_layouts.def", a->set,
						 value_home[k].layout, value_home[k].field);
				bits = f ? f->msb - f->lsb + 1u : value_home[k].bits;
			}
		if (bits == 0)
			fail_msg("%s_%s: set %s has no field in this test", a->set, a->name, a->set);
		if (bits < 64 && (vmx_u64)a->value >> bits)
			fail_msg("%s_%s = 0x%x does not fit %u bits", a->set, a->name, a->value, bits);
		if (!a->description[0])
			fail_msg("%s_%s: no description", a->set, a->name);
		for (j = i + 1; j < VMX_VALUE_COUNT; j++) {
			const struct vmx_value_info *b = &vmx_value_table[j];

			if (strcmp(a->set, b->set) != 0)
				continue;
			if (a->value == b->value)
				fail_msg("%s: %s and %s are both %u", a->set, a->name, b->name, a->value);
			if (vmx_str_ieq(a->name, b->name))
				fail_msg("%s: two values named %s", a->set, a->name);
		}
	}
	assert_int_equal(VMX_INTR_TYPE_NMI, 2);
	assert_int_equal(VMX_ACTIVITY_WAIT_FOR_SIPI, 3);
	assert_int_equal(VMX_SYSTEM_TYPE_TSS32_BUSY, 11);
	assert_int_equal(VMX_MEMORY_TYPE_WB, 6);
	assert_int_equal(VMX_QUAL_ENTRY_FAILURE_VMCS_LINK_POINTER, 4);
	assert_string_equal(vmx_value_name("memory_type", 0), "UC");
	assert_null(vmx_value_name("MEMORY_TYPE", 2));
	assert_null(vmx_value_name("NO_SUCH_SET", 0));
}

/* A code/data type's bits (SEG_TYPE_BITS) agree with the type's name. */
static void seg_types_match_their_bits(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < VMX_VALUE_COUNT; i++) {
		const struct vmx_value_info *v = &vmx_value_table[i];
		int code, accessed;

		if (strcmp(v->set, "SEG_TYPE") != 0)
			continue;
		code = VMX_BITS_GET(v->value, VMX_SEG_TYPE_BITS_CODE) != 0;
		accessed = VMX_BITS_GET(v->value, VMX_SEG_TYPE_BITS_ACCESSED) != 0;
		if (code != (strncmp(v->name, "CODE_", 5) == 0))
			fail_msg("SEG_TYPE_%s = %u: code bit %d", v->name, v->value, code);
		if (accessed != (strstr(v->name, "_ACCESSED") != VMX_NULL))
			fail_msg("SEG_TYPE_%s = %u: accessed bit %d", v->name, v->value, accessed);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layouts_do_not_overlap),
		cmocka_unit_test(layouts_listed_in_bit_order),
		cmocka_unit_test(layout_macros_match_sdm_tables),
		cmocka_unit_test(values_unique_and_fit),
		cmocka_unit_test(seg_types_match_their_bits),
	};

	return cmocka_run_group_tests_name("layouts_values", tests, NULL, NULL);
}
