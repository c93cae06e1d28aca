/*
 * vmx/values.h - named values of VMX fields and guest state: interruption
 * types, activity states, segment and system-segment types, memory types,
 * VM-entry failure qualifications, the virtual-8086 segment values.
 *
 * Expanded from common/vmx/vmx_values.def.
 * Where it runs: host, Linux kernel, bare metal.
 *
 * Names: VMX_<SET>_<NAME> is the value: VMX_INTR_TYPE_HARDWARE_EXCEPTION = 3,
 * VMX_ACTIVITY_HLT = 1, VMX_SEG_TYPE_DATA_RW_ACCESSED = 3,
 * VMX_SYSTEM_TYPE_TSS32_BUSY = 11, VMX_MEMORY_TYPE_WB = 6,
 * VMX_QUAL_ENTRY_FAILURE_VMCS_LINK_POINTER = 4, VMX_V86_SEGMENT_ACCESS_RIGHTS = 0xF3.
 * Which field a set goes into: common/vmx/vmx_values.def.
 */
#ifndef VMX_VALUES_H
#define VMX_VALUES_H

#include "types.h"

enum vmx_value {
#define VMX_VALUE(set, name, value, desc) VMX_##set##_##name = value,
#include "../../vmx/vmx_values.def"
#undef VMX_VALUE
};

struct vmx_value_info {
	const char *set;         /* "INTR_TYPE" */
	const char *name;        /* "HARDWARE_EXCEPTION" */
	vmx_u32 value;           /* 3 */
	const char *description;
};

static const struct vmx_value_info vmx_value_table[] VMX_UNUSED = {
#define VMX_VALUE(set, name, value, desc) { #set, #name, value, desc },
#include "../../vmx/vmx_values.def"
#undef VMX_VALUE
};

#define VMX_VALUE_COUNT ((unsigned)VMX_ARRAY_SIZE(vmx_value_table))

/* The entry of `set` ("MEMORY_TYPE") with value `value`, or NULL. */
static inline const struct vmx_value_info *vmx_value_lookup(const char *set, vmx_u64 value)
{
	unsigned i;

	for (i = 0; i < VMX_VALUE_COUNT; i++)
		if (vmx_str_ieq(vmx_value_table[i].set, set) && vmx_value_table[i].value == value)
			return &vmx_value_table[i];
	return VMX_NULL;
}

/* Its name ("WB"), or NULL if `set` has no such value. */
static inline const char *vmx_value_name(const char *set, vmx_u64 value)
{
	const struct vmx_value_info *v = vmx_value_lookup(set, value);

	return v ? v->name : VMX_NULL;
}

#endif /* VMX_VALUES_H */
