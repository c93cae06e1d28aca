/*
 * vmx/msrs.h - the VMX capability MSRs (Intel SDM vol. 3, appendix A) and the
 * fields inside the non-control ones (IA32_VMX_BASIC, _MISC, _VMCS_ENUM,
 * _EPT_VPID_CAP, _VMFUNC, IA32_FEATURE_CONTROL).
 *
 * Expanded from common/vmx/vmx_msrs.def and vmx_msr_fields.def.
 * Where it runs: host, Linux kernel, bare metal.
 */
#ifndef VMX_MSRS_H
#define VMX_MSRS_H

#include "types.h"

/* The MSR numbers under their SDM names: IA32_VMX_BASIC = 0x480, ... */
enum vmx_msr {
#define VMX_MSR(name, number, desc) name = number,
#include "../../vmx/vmx_msrs.def"
#undef VMX_MSR
};

struct vmx_msr_info {
	const char *name;        /* "IA32_VMX_BASIC" */
	vmx_u32 number;          /* 0x480 */
	const char *description;
};

static const struct vmx_msr_info vmx_msr_table[] VMX_UNUSED = {
#define VMX_MSR(name, number, desc) { #name, number, desc },
#include "../../vmx/vmx_msrs.def"
#undef VMX_MSR
};

#define VMX_MSR_COUNT ((unsigned)VMX_ARRAY_SIZE(vmx_msr_table))

static inline const struct vmx_msr_info *vmx_msr_by_number(vmx_u32 number)
{
	unsigned i;

	for (i = 0; i < VMX_MSR_COUNT; i++)
		if (vmx_msr_table[i].number == number)
			return &vmx_msr_table[i];
	return VMX_NULL;
}

/* Case-insensitive; "IA32_VMX_BASIC" or "VMX_BASIC" both work. */
static inline const struct vmx_msr_info *vmx_msr_by_name(const char *name)
{
	unsigned i;

	for (i = 0; i < VMX_MSR_COUNT; i++)
		if (vmx_str_ieq(vmx_msr_table[i].name, name) ||
		    vmx_str_ieq(vmx_skip_prefix(vmx_msr_table[i].name, "IA32_"), name))
			return &vmx_msr_table[i];
	return VMX_NULL;
}

/* Fields inside MSRs: <MSR>_<NAME>_LSB and <MSR>_<NAME>_MSB, e.g.
 * IA32_VMX_BASIC_VMCS_REGION_SIZE_LSB = 32, ..._MSB = 44. */
enum vmx_msr_field_bits {
#define VMX_MSR_FIELD(msr, name, lsb, msb, desc) \
	msr##_##name##_LSB = lsb, msr##_##name##_MSB = msb,
#include "../../vmx/vmx_msr_fields.def"
#undef VMX_MSR_FIELD
};

/* Value of field F (e.g. IA32_VMX_BASIC_VMCS_REGION_SIZE) in an MSR value,
 * and the field's mask in place. Both are constant expressions. */
#define VMX_MSR_FIELD_GET(value, F) \
	(((vmx_u64)(value) >> F##_LSB) & ((2ull << (F##_MSB - F##_LSB)) - 1))
#define VMX_MSR_FIELD_MASK(F) \
	(((2ull << (F##_MSB - F##_LSB)) - 1) << F##_LSB)

struct vmx_msr_field_info {
	vmx_u32 msr;             /* MSR number */
	vmx_u8 lsb, msb;         /* bit range; lsb == msb for a flag */
	const char *name;        /* "VMCS_REGION_SIZE" */
	const char *description;
};

static const struct vmx_msr_field_info vmx_msr_field_table[] VMX_UNUSED = {
#define VMX_MSR_FIELD(msr, name, lsb, msb, desc) { msr, lsb, msb, #name, desc },
#include "../../vmx/vmx_msr_fields.def"
#undef VMX_MSR_FIELD
};

#define VMX_MSR_FIELD_COUNT ((unsigned)VMX_ARRAY_SIZE(vmx_msr_field_table))

/* Run-time extraction of a table entry's field from an MSR value. */
static inline vmx_u64 vmx_msr_field_value(const struct vmx_msr_field_info *f, vmx_u64 value)
{
	return (value >> f->lsb) & ((2ull << (f->msb - f->lsb)) - 1);
}

/*
 * The recommended maximum number of entries in each MSR list (VM-exit
 * MSR-store, VM-exit MSR-load, VM-entry MSR-load) for n, the value of
 * IA32_VMX_MISC bits 27:25 (IA32_VMX_MISC_MSR_LIST_LIMIT): 512 * (n + 1).
 * Beyond it "undefined processor behavior may result" (SDM A.6).
 */
static inline vmx_u64 vmx_msr_list_max(vmx_u64 n)
{
	return 512 * (n + 1);
}

#endif /* VMX_MSRS_H */
