/*
 * vmx/cpu_bits.h - named bits of CR0, CR4, IA32_EFER and RFLAGS (Intel SDM
 * vol. 3, 2.5 and 2.2.1; vol. 1, 3.4.3), from common/vmx/cpu_bits.def.
 * Where it runs: host, Linux kernel, bare metal.
 *
 * Names: CPU_<REG>_<NAME> is the mask, CPU_<REG>_<NAME>_BIT the bit number:
 *   CPU_CR0_PE, CPU_CR4_VMXE_BIT, CPU_EFER_LME, CPU_RFLAGS_VM, ...
 */
#ifndef VMX_CPU_BITS_H
#define VMX_CPU_BITS_H

#include "types.h"

enum cpu_reg {
	CPU_REG_CR0,
	CPU_REG_CR4,
	CPU_REG_EFER,
	CPU_REG_RFLAGS,
	CPU_REG_COUNT
};

enum cpu_reg_bit_number {
#define CPU_REG_BIT(reg, name, bit, desc) CPU_##reg##_##name##_BIT = bit,
#include "../../vmx/cpu_bits.def"
#undef CPU_REG_BIT
};

/* Masks (unsigned: CPU_CR0_PG is 1 << 31; see controls.h). */
enum cpu_reg_mask {
#define CPU_REG_BIT(reg, name, bit, desc) CPU_##reg##_##name = 1ull << (bit),
#include "../../vmx/cpu_bits.def"
#undef CPU_REG_BIT
};

struct cpu_reg_bit_info {
	vmx_u8 reg;              /* enum cpu_reg */
	vmx_u8 bit;
	const char *name;        /* "PE" */
	const char *description; /* "Protection Enable" */
};

static const struct cpu_reg_bit_info cpu_reg_bit_table[] VMX_UNUSED = {
#define CPU_REG_BIT(reg, name, bit, desc) { CPU_REG_##reg, bit, #name, desc },
#include "../../vmx/cpu_bits.def"
#undef CPU_REG_BIT
};

#define CPU_REG_BIT_COUNT ((unsigned)VMX_ARRAY_SIZE(cpu_reg_bit_table))

static inline const char *cpu_reg_name(unsigned reg)
{
	switch (reg) {
	case CPU_REG_CR0:  return "CR0";
	case CPU_REG_CR4:  return "CR4";
	case CPU_REG_EFER: return "IA32_EFER";
	default:           return "RFLAGS";
	}
}

/* Name of bit `bit` of register `reg`, or NULL when it has none here. */
static inline const char *cpu_reg_bit_name(unsigned reg, unsigned bit)
{
	unsigned i;

	for (i = 0; i < CPU_REG_BIT_COUNT; i++)
		if (cpu_reg_bit_table[i].reg == reg && cpu_reg_bit_table[i].bit == bit)
			return cpu_reg_bit_table[i].name;
	return VMX_NULL;
}

#endif /* VMX_CPU_BITS_H */
