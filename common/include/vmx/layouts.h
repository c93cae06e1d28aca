/*
 * vmx/layouts.h - bit layouts of VMX values that are not MSRs: the I/O exit
 * qualification, interruption information, interruptibility state, pending
 * debug exceptions, segment access rights and selectors, RFLAGS reserved
 * bits, IA32_DEBUGCTL, the EPTP (Intel SDM vol. 3C, see the list).
 *
 * Expanded from common/vmx/vmx_layouts.def.
 * Where it runs: host, Linux kernel, bare metal.
 *
 * Names: VMX_<LAYOUT>_<NAME>_LSB and _MSB are the bit range (enum
 * constants); the macros below take the field's name without the suffix:
 *   VMX_BITS_MASK(VMX_IO_QUAL_STRING)          mask in place (1 << 4)
 *   VMX_BITS_GET(q, VMX_IO_QUAL_PORT)          bits 31:16 of q, shifted down
 *   VMX_BITS_PUT(VMX_INTR_INFO_ENTRY_TYPE, 3)  3 moved into bits 10:8
 * All three are constant expressions of type vmx_u64.
 */
#ifndef VMX_LAYOUTS_H
#define VMX_LAYOUTS_H

#include "types.h"

enum vmx_bitfield_bits {
#define VMX_BITFIELD(layout, name, lsb, msb, desc) \
	VMX_##layout##_##name##_LSB = lsb, VMX_##layout##_##name##_MSB = msb,
#include "../../vmx/vmx_layouts.def"
#undef VMX_BITFIELD
};

/* Ones in the field's width (2 << 63 is 0 for a 64-bit-wide field). */
#define VMX_BITS_WIDTH_MASK(F)  ((2ull << (F##_MSB - F##_LSB)) - 1)
#define VMX_BITS_MASK(F)        (VMX_BITS_WIDTH_MASK(F) << F##_LSB)
#define VMX_BITS_GET(value, F)  (((vmx_u64)(value) >> F##_LSB) & VMX_BITS_WIDTH_MASK(F))
#define VMX_BITS_PUT(F, v)      (((vmx_u64)(v) & VMX_BITS_WIDTH_MASK(F)) << F##_LSB)

struct vmx_bitfield_info {
	const char *layout;      /* "IO_QUAL" */
	const char *name;        /* "PORT" */
	vmx_u8 lsb, msb;         /* 16, 31; lsb == msb for a flag */
	const char *description;
};

static const struct vmx_bitfield_info vmx_bitfield_table[] VMX_UNUSED = {
#define VMX_BITFIELD(layout, name, lsb, msb, desc) { #layout, #name, lsb, msb, desc },
#include "../../vmx/vmx_layouts.def"
#undef VMX_BITFIELD
};

#define VMX_BITFIELD_COUNT ((unsigned)VMX_ARRAY_SIZE(vmx_bitfield_table))

/* Run-time extraction of a table entry's field from a value. */
static inline vmx_u64 vmx_bitfield_value(const struct vmx_bitfield_info *f, vmx_u64 value)
{
	return (value >> f->lsb) & ((2ull << (f->msb - f->lsb)) - 1);
}

/* The field of `layout` ("IO_QUAL") named `name` ("PORT"), case-insensitive;
 * NULL if none. */
static inline const struct vmx_bitfield_info *vmx_bitfield_by_name(const char *layout, const char *name)
{
	unsigned i;

	for (i = 0; i < VMX_BITFIELD_COUNT; i++)
		if (vmx_str_ieq(vmx_bitfield_table[i].layout, layout) &&
		    vmx_str_ieq(vmx_bitfield_table[i].name, name))
			return &vmx_bitfield_table[i];
	return VMX_NULL;
}

#endif /* VMX_LAYOUTS_H */
