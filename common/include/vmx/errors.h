/*
 * vmx/errors.h - VM-instruction error numbers (Intel SDM vol. 3C, 30.4), the
 * value of the VM_INSTRUCTION_ERROR field after VMfailValid.
 * Expanded from common/vmx/vmx_errors.def.
 * Where it runs: host, Linux kernel, bare metal.
 *
 * Names: VMX_ERROR_<NAME> is the number (VMX_ERROR_VMENTRY_INVALID_CONTROL_FIELDS
 * = 7). The SDM numbers and describes the errors; the names are the kit's.
 */
#ifndef VMX_ERRORS_H
#define VMX_ERRORS_H

#include "types.h"

enum vmx_instruction_error_number {
#define VMX_INSTRUCTION_ERROR(number, name, desc) VMX_ERROR_##name = number,
#include "../../vmx/vmx_errors.def"
#undef VMX_INSTRUCTION_ERROR
};

struct vmx_instruction_error_info {
	vmx_u32 number;
	const char *description; /* "VM entry with invalid control field(s)" */
	const char *name;        /* "VMENTRY_INVALID_CONTROL_FIELDS" (the kit's name) */
};

static const struct vmx_instruction_error_info vmx_instruction_error_table[] VMX_UNUSED = {
#define VMX_INSTRUCTION_ERROR(number, name, desc) { number, desc, #name },
#include "../../vmx/vmx_errors.def"
#undef VMX_INSTRUCTION_ERROR
};

#define VMX_INSTRUCTION_ERROR_COUNT ((unsigned)VMX_ARRAY_SIZE(vmx_instruction_error_table))

/* The SDM's description of error `number`, or NULL if the SDM defines none. */
static inline const char *vmx_instruction_error_text(vmx_u32 number)
{
	unsigned i;

	for (i = 0; i < VMX_INSTRUCTION_ERROR_COUNT; i++)
		if (vmx_instruction_error_table[i].number == number)
			return vmx_instruction_error_table[i].description;
	return VMX_NULL;
}

/* The kit's name of error `number` ("VMENTRY_INVALID_CONTROL_FIELDS"), or
 * NULL if the SDM defines none. */
static inline const char *vmx_instruction_error_name(vmx_u32 number)
{
	unsigned i;

	for (i = 0; i < VMX_INSTRUCTION_ERROR_COUNT; i++)
		if (vmx_instruction_error_table[i].number == number)
			return vmx_instruction_error_table[i].name;
	return VMX_NULL;
}

#endif /* VMX_ERRORS_H */
