/*
 * vmcs_width.c - compile-fail checks of the typed VMCS accessors
 * (common/include/rt_vmx.h; the check itself is VMCS_ASSERT_WIDTH in
 * common/include/vmx/fields.h). STYLE.md convention 3: "a 16-bit write to a
 * 32-bit field does not compile".
 *
 * Never linked or run. `make check-typed` (tests/typed/typed.mk) compiles
 * this file once per case, with -D<CASE>, at -O0 and at -O2, with the
 * payloads' flags and -Werror:
 *   GOOD_*  must compile;
 *   BAD_*   must not, and the compiler must say the text after "refused:"
 *           on the case's #ifdef line (so the build failed on the width
 *           check, not on a typo).
 * A field's width is the one the SDM gives, encoding bits 14:13
 * (common/vmx/vmcs_fields.def): GUEST_CS_SELECTOR 16-bit, GUEST_CS_LIMIT
 * 32-bit, VMCS_LINK_POINTER 64-bit, GUEST_RIP natural-width.
 */
#include "rt.h"

void check(vmx_u16 sel, vmx_u32 enc);

#ifdef GOOD_EVERY_WIDTH
struct exit_info {
	vmx_u32 reason;
	vmx_u64 qualification;
};

void check(vmx_u16 sel, vmx_u32 enc)
{
	struct exit_info e;
	vmx_u16 cs;
	vmx_u32 limit;
	vmx_u64 link;
	uint64_t rip;           /* unsigned long: the natural-width read takes it too */

	(void)enc;
	vmcs_write16(VMCS_GUEST_CS_SELECTOR, sel);
	vmcs_write32(VMCS_GUEST_CS_LIMIT, 0xFFFFF);
	vmcs_write64(VMCS_VMCS_LINK_POINTER, ~0ull);
	vmcs_write_natural(VMCS_GUEST_RIP, 0x1000);
	vmcs_read16(VMCS_GUEST_CS_SELECTOR, &cs);
	vmcs_read32(VMCS_GUEST_CS_LIMIT, &limit);
	vmcs_read64(VMCS_VMCS_LINK_POINTER, &link);
	vmcs_read_natural(VMCS_GUEST_RIP, &rip);
	vmcs_read32(VMCS_VM_EXIT_REASON, &e.reason);            /* straight into the kit's */
	vmcs_read_natural(VMCS_EXIT_QUALIFICATION, &e.qualification); /* vmx_u32/vmx_u64 */
	if (cs)                                                 /* a statement: no braces needed */
		vmcs_write16(VMCS_GUEST_SS_SELECTOR, cs);
	else
		vmcs_write16(VMCS_GUEST_SS_SELECTOR, 0);
	if (vmcs_write32(VMCS_GUEST_CS_LIMIT, limit) != VMX_SUCCEED)    /* returns the status */
		printf("%llx %lx %u %llx\n", (unsigned long long)link, rip, e.reason,
		       (unsigned long long)e.qualification);
}
#endif

#ifdef BAD_WRITE32_OF_16BIT_FIELD       /* refused: wrong width */
void check(vmx_u16 sel, vmx_u32 enc)
{
	(void)enc;
	vmcs_write32(VMCS_GUEST_CS_SELECTOR, sel);
}
#endif

#ifdef BAD_WRITE16_OF_32BIT_FIELD       /* refused: wrong width */
void check(vmx_u16 sel, vmx_u32 enc)
{
	(void)enc;
	vmcs_write16(VMCS_GUEST_CS_LIMIT, sel);
}
#endif

#ifdef BAD_WRITE16_OF_NATURAL_FIELD     /* refused: wrong width */
void check(vmx_u16 sel, vmx_u32 enc)
{
	(void)enc;
	vmcs_write16(VMCS_GUEST_RIP, sel);
}
#endif

#ifdef BAD_READ64_OF_NATURAL_FIELD      /* refused: wrong width */
void check(vmx_u16 sel, vmx_u32 enc)
{
	vmx_u64 rip;                    /* 8 bytes either way, but not the same width */

	(void)sel, (void)enc;
	vmcs_read64(VMCS_GUEST_RIP, &rip);
}
#endif

#ifdef BAD_READ_INTO_NARROW_VARIABLE    /* refused: needs an unsigned 8-byte variable */
void check(vmx_u16 sel, vmx_u32 enc)
{
	vmx_u32 rip;

	(void)sel, (void)enc;
	vmcs_read_natural(VMCS_GUEST_RIP, &rip);
}
#endif

#ifdef BAD_READ_INTO_SIGNED_VARIABLE    /* refused: needs an unsigned 4-byte variable */
void check(vmx_u16 sel, vmx_u32 enc)
{
	int reason;

	(void)sel, (void)enc;
	vmcs_read32(VMCS_VM_EXIT_REASON, &reason);
}
#endif

#ifdef BAD_RUN_TIME_ENCODING            /* refused: needs a constant field encoding */
void check(vmx_u16 sel, vmx_u32 enc)
{
	vmcs_write16(enc, sel);
}
#endif

#ifdef BAD_CONST_VARIABLE_ENCODING      /* refused: needs a constant field encoding */
void check(vmx_u16 sel, vmx_u32 enc)
{
	const vmx_u32 field = VMCS_GUEST_CS_SELECTOR;   /* GCC folds it at -O2, not at -O0 */

	(void)enc;
	vmcs_write16(field, sel);
}
#endif
