/*
 * vmx/exit_reasons.h - the basic VM-exit reasons (Intel SDM vol. 3,
 * appendix C), from common/vmx/vmx_exit_reasons.def.
 * Where it runs: host, Linux kernel, bare metal.
 *
 * Names: VMX_EXIT_REASON_<NAME>, e.g. VMX_EXIT_REASON_EPT_VIOLATION = 48.
 */
#ifndef VMX_EXIT_REASONS_H
#define VMX_EXIT_REASONS_H

#include "types.h"

enum vmx_exit_reason {
#define VMX_EXIT_REASON(name, number, desc) VMX_EXIT_REASON_##name = number,
#include "../../vmx/vmx_exit_reasons.def"
#undef VMX_EXIT_REASON
};

/* The exit-reason field (SDM 24.9.1): bits 15:0 are the basic exit reason,
 * bit 31 says the VM entry failed. */
#define VMX_EXIT_REASON_BASIC(reason)          ((vmx_u32)(reason) & 0xFFFFu)
#define VMX_EXIT_REASON_IS_ENTRY_FAILURE(reason) (((vmx_u32)(reason) >> 31) & 1u)

struct vmx_exit_reason_info {
	vmx_u32 number;
	const char *name;        /* "EPT_VIOLATION" */
	const char *description; /* "EPT violation" */
};

static const struct vmx_exit_reason_info vmx_exit_reason_table[] VMX_UNUSED = {
#define VMX_EXIT_REASON(name, number, desc) { number, #name, desc },
#include "../../vmx/vmx_exit_reasons.def"
#undef VMX_EXIT_REASON
};

#define VMX_EXIT_REASON_COUNT ((unsigned)VMX_ARRAY_SIZE(vmx_exit_reason_table))

/* Info for a basic exit reason number, or NULL if the SDM defines none. */
static inline const struct vmx_exit_reason_info *vmx_exit_reason_by_number(vmx_u32 number)
{
	unsigned i;

	for (i = 0; i < VMX_EXIT_REASON_COUNT; i++)
		if (vmx_exit_reason_table[i].number == number)
			return &vmx_exit_reason_table[i];
	return VMX_NULL;
}

/* The name of a basic exit reason, or "UNKNOWN". */
static inline const char *vmx_exit_reason_name(vmx_u32 number)
{
	const struct vmx_exit_reason_info *e = vmx_exit_reason_by_number(number);

	return e ? e->name : "UNKNOWN";
}

/* Case-insensitive; VMX_EXIT_REASON_ prefix optional. */
static inline const struct vmx_exit_reason_info *vmx_exit_reason_by_name(const char *name)
{
	unsigned i;

	name = vmx_skip_prefix(name, "VMX_EXIT_REASON_");
	for (i = 0; i < VMX_EXIT_REASON_COUNT; i++)
		if (vmx_str_ieq(vmx_exit_reason_table[i].name, name))
			return &vmx_exit_reason_table[i];
	return VMX_NULL;
}

#endif /* VMX_EXIT_REASONS_H */
