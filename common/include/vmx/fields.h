/*
 * vmx/fields.h - every VMCS field of the Intel SDM (vol. 3, appendix B), as
 * an enum of encodings, a table, and helpers that take an encoding apart.
 *
 * Expanded from common/vmx/vmcs_fields.def; nothing here repeats a fact.
 * Where it runs: host, Linux kernel, bare metal (freestanding, no libc).
 *
 * A field encoding is the 32-bit operand of VMREAD/VMWRITE (SDM 24.11.2):
 *
 *   31            15 14  13 12 11  10 9                1   0
 *  +----------------+------+--+------+------------------+---+
 *  |  reserved (0)  |width | 0| type |      index       | A |
 *  +----------------+------+--+------+------------------+---+
 *   width: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural-width
 *   type:  0 control, 1 VM-exit information (read-only), 2 guest state,
 *          3 host state
 *   A (access type): 0 full, 1 high half of a 64-bit field
 */
#ifndef VMX_FIELDS_H
#define VMX_FIELDS_H

#include "types.h"

/* Values of encoding bits 14:13. */
enum vmcs_width {
	VMCS_WIDTH_16 = 0,
	VMCS_WIDTH_64 = 1,
	VMCS_WIDTH_32 = 2,
	VMCS_WIDTH_NATURAL = 3,
};

/* Values of encoding bits 11:10 (the GROUP column of the list). */
enum vmcs_group {
	VMCS_GROUP_CONTROL = 0,
	VMCS_GROUP_READ_ONLY = 1,
	VMCS_GROUP_GUEST_STATE = 2,
	VMCS_GROUP_HOST_STATE = 3,
};

/* Taking an encoding apart (all usable in constant expressions). */
#define VMCS_ENC_ACCESS_HIGH(enc)  ((vmx_u32)(enc) & 1u)           /* bit 0 */
#define VMCS_ENC_INDEX(enc)        (((vmx_u32)(enc) >> 1) & 0x1FFu) /* bits 9:1 */
#define VMCS_ENC_TYPE(enc)         (((vmx_u32)(enc) >> 10) & 3u)    /* bits 11:10 */
#define VMCS_ENC_WIDTH(enc)        (((vmx_u32)(enc) >> 13) & 3u)    /* bits 14:13 */
#define VMCS_ENC_RESERVED_MASK     0xFFFF9000u                      /* bits 31:15, 12 */
#define VMCS_ENC_HIGH(enc)         ((vmx_u32)(enc) | 1u)            /* high half of a 64-bit field */

/* VMCS_<NAME> = encoding, e.g. VMCS_GUEST_RIP = 0x681E. */
enum vmcs_field_encoding {
#define VMCS_FIELD(name, enc, width, group, desc) VMCS_##name = enc,
#include "../../vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

struct vmcs_field_info {
	const char *name;        /* SDM name, e.g. "GUEST_RIP" (no VMCS_ prefix) */
	vmx_u32 encoding;
	vmx_u8 width;            /* enum vmcs_width */
	vmx_u8 group;            /* enum vmcs_group */
	const char *description; /* the SDM's words, e.g. "Guest RIP" */
};

static const struct vmcs_field_info vmcs_field_table[] VMX_UNUSED = {
#define VMCS_FIELD(name, enc, width, group, desc) \
	{ #name, enc, VMCS_WIDTH_##width, VMCS_GROUP_##group, desc },
#include "../../vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

#define VMCS_FIELD_COUNT ((unsigned)VMX_ARRAY_SIZE(vmcs_field_table))

static inline const char *vmcs_width_name(unsigned width)
{
	switch (width) {
	case VMCS_WIDTH_16: return "16-bit";
	case VMCS_WIDTH_64: return "64-bit";
	case VMCS_WIDTH_32: return "32-bit";
	default:            return "natural-width";
	}
}

static inline const char *vmcs_group_name(unsigned group)
{
	switch (group) {
	case VMCS_GROUP_CONTROL:     return "control";
	case VMCS_GROUP_READ_ONLY:   return "read-only";
	case VMCS_GROUP_GUEST_STATE: return "guest-state";
	default:                     return "host-state";
	}
}

/* The field whose full encoding is `enc`, or NULL. For the high half of a
 * 64-bit field look up VMCS_ENC_HIGH's partner: enc & ~1. */
static inline const struct vmcs_field_info *vmcs_field_by_encoding(vmx_u32 enc)
{
	unsigned i;

	for (i = 0; i < VMCS_FIELD_COUNT; i++)
		if (vmcs_field_table[i].encoding == enc)
			return &vmcs_field_table[i];
	return VMX_NULL;
}

/* The field called `name` (case-insensitive, VMCS_ prefix optional), or NULL. */
static inline const struct vmcs_field_info *vmcs_field_by_name(const char *name)
{
	unsigned i;

	for (i = 0; i < VMCS_FIELD_COUNT; i++)
		if (vmx_str_ieq(vmcs_field_table[i].name, name) ||
		    vmx_str_ieq(vmcs_field_table[i].name, vmx_skip_prefix(name, "VMCS_")))
			return &vmcs_field_table[i];
	return VMX_NULL;
}

/*
 * Build-time width check for typed accessors (STYLE.md convention 3).
 *
 *   #define vmcs_write16(enc, v) \
 *       ({ VMCS_ASSERT_WIDTH(enc, VMCS_WIDTH_16); vmwrite(enc, (vmx_u16)(v)); })
 *
 *   vmcs_write16(VMCS_GUEST_CS_SELECTOR, sel);   compiles
 *   vmcs_write16(VMCS_GUEST_RIP, rip);           error: static assertion failed:
 *       "VMCS_GUEST_RIP: VMCS field accessed with the wrong width
 *        (encoding bits 14:13 are not VMCS_WIDTH_16)"
 *
 * _Static_assert is checked while the file is parsed: at -O0 as at -O2,
 * with -fsyntax-only, in GCC and in clang, and its message names the field.
 * So `enc` must be an integer constant expression (a VMCS_<NAME>); an
 * encoding known only at run time (a loop over machine[]) has no width to
 * check: use plain VMREAD/VMWRITE for it. A variable, even a const one,
 * stops the build with the first message below, at every -O level (GCC
 * folds a const variable at -O2 but not at -O0; VMX_IS_CONSTANT_EXPRESSION
 * asks the language, not the optimiser).
 */
#define VMCS_ASSERT_WIDTH(enc, width)                                         \
	do {                                                                  \
		_Static_assert(VMX_IS_CONSTANT_EXPRESSION(enc), #enc          \
			       ": a typed VMCS accessor needs a constant field encoding " \
			       "(VMCS_<NAME>); for one known only at run time use vmread/vmwrite"); \
		_Static_assert(__builtin_choose_expr(VMX_IS_CONSTANT_EXPRESSION(enc), \
						     VMCS_ENC_WIDTH(enc) == (width), 1), \
			       #enc ": VMCS field accessed with the wrong width " \
			       "(encoding bits 14:13 are not " #width ")");   \
	} while (0)

/*
 * 1 if `x` is an integer constant expression, else 0; itself a constant
 * expression, so _Static_assert can test it (the Linux kernel's
 * __is_constexpr). How: `(void *)((long)(x) * 0l)` is a null pointer
 * constant only when x is a constant expression; then `?:` gives the other
 * operand's type, int *, and sizeof(*...) is sizeof(int). Otherwise it is a
 * plain void *, and `?:` gives void *, whose sizeof(*...) is 1.
 */
#define VMX_IS_CONSTANT_EXPRESSION(x) \
	(sizeof(int) == sizeof(*(8 ? ((void *)((long)(x) * 0l)) : (int *)8)))

#endif /* VMX_FIELDS_H */
