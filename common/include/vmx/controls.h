/*
 * vmx/controls.h - the VMX control words (pin-based, primary/secondary/
 * tertiary processor-based, primary/secondary VM-exit, VM-entry) and their
 * named bits (Intel SDM vol. 3C, 24.6-24.8), with the VMCS field and the
 * capability MSRs of each word (appendix A.3-A.5).
 *
 * Expanded from common/vmx/vmx_controls.def.
 * Where it runs: host, Linux kernel, bare metal.
 *
 * Names: VMX_<WORD>_<BIT> is the mask, VMX_<WORD>_<BIT>_BIT the bit number:
 *   VMX_PROC_HLT_EXITING = 1 << 7, VMX_PROC2_ENABLE_EPT_BIT = 1,
 *   VMX_ENTRY_IA_32E_MODE_GUEST, VMX_EXIT_HOST_ADDRESS_SPACE_SIZE, ...
 */
#ifndef VMX_CONTROLS_H
#define VMX_CONTROLS_H

#include "types.h"
#include "fields.h"
#include "msrs.h"

/* VMX_WORD_PIN, VMX_WORD_PROC, ... in the order of the list. */
enum vmx_control_word {
#define VMX_CONTROL_WORD(word, field, msr, true_msr, desc) VMX_WORD_##word,
#define VMX_CONTROL_BIT(word, name, bit, desc)
#include "../../vmx/vmx_controls.def"
#undef VMX_CONTROL_WORD
#undef VMX_CONTROL_BIT
	VMX_WORD_COUNT
};

enum vmx_control_bit_number {
#define VMX_CONTROL_WORD(word, field, msr, true_msr, desc)
#define VMX_CONTROL_BIT(word, name, bit, desc) VMX_##word##_##name##_BIT = bit,
#include "../../vmx/vmx_controls.def"
#undef VMX_CONTROL_WORD
#undef VMX_CONTROL_BIT
};

/* Masks. 1ull << 31 does not fit an int: GCC gives such an enum an unsigned
 * type, so OR-ing a mask into a 64-bit value never sign-extends. */
enum vmx_control_mask {
#define VMX_CONTROL_WORD(word, field, msr, true_msr, desc)
#define VMX_CONTROL_BIT(word, name, bit, desc) VMX_##word##_##name = 1ull << (bit),
#include "../../vmx/vmx_controls.def"
#undef VMX_CONTROL_WORD
#undef VMX_CONTROL_BIT
};

struct vmx_control_word_info {
	const char *name;        /* "PROC2" */
	vmx_u32 field;           /* VMCS encoding of the control word */
	vmx_u32 msr;             /* capability MSR */
	vmx_u32 true_msr;        /* TRUE capability MSR, 0 if none */
	const char *description;
};

static const struct vmx_control_word_info vmx_control_word_table[VMX_WORD_COUNT] VMX_UNUSED = {
#define VMX_CONTROL_WORD(word, field, msr, true_msr, desc) \
	[VMX_WORD_##word] = { #word, VMCS_##field, msr, true_msr, desc },
#define VMX_CONTROL_BIT(word, name, bit, desc)
#include "../../vmx/vmx_controls.def"
#undef VMX_CONTROL_WORD
#undef VMX_CONTROL_BIT
};

struct vmx_control_bit_info {
	vmx_u8 word;             /* enum vmx_control_word */
	vmx_u8 bit;
	const char *name;        /* "HLT_EXITING" */
	const char *description; /* "HLT exiting" */
};

static const struct vmx_control_bit_info vmx_control_bit_table[] VMX_UNUSED = {
#define VMX_CONTROL_WORD(word, field, msr, true_msr, desc)
#define VMX_CONTROL_BIT(word, name, bit, desc) { VMX_WORD_##word, bit, #name, desc },
#include "../../vmx/vmx_controls.def"
#undef VMX_CONTROL_WORD
#undef VMX_CONTROL_BIT
};

#define VMX_CONTROL_BIT_COUNT ((unsigned)VMX_ARRAY_SIZE(vmx_control_bit_table))

/* A word held in a 64-bit field (tertiary, secondary exit) has a capability
 * MSR of allowed 1-settings only; the 32-bit words have allowed 0-settings in
 * MSR bits 31:0 and allowed 1-settings in bits 63:32 (SDM A.3). Splitting a
 * capability MSR value into the two is vmx_control_split (vmx/capsplit.h). */
static inline int vmx_control_word_is_64bit(unsigned word)
{
	return VMCS_ENC_WIDTH(vmx_control_word_table[word].field) == VMCS_WIDTH_64;
}

/*
 * Secondary and tertiary words exist only on a CPU that lets software
 * activate them (SDM A.3.3, A.3.4, A.4.2): PROC2 when the primary
 * processor-based control "activate secondary controls" may be 1, PROC3
 * when "activate tertiary controls" may be 1, EXIT2 when the primary
 * VM-exit control "activate secondary controls" may be 1. PIN, PROC, EXIT
 * and ENTRY always exist. A word that does not exist has no capability MSR
 * (RDMSR raises #GP) and no VMCS field.
 *
 * The word whose control activates `word` (VMX_WORD_PROC or VMX_WORD_EXIT)
 * in *activator, and that control's mask; 0 for a word that always exists.
 */
static inline vmx_u64 vmx_control_word_activator(unsigned word, unsigned *activator)
{
	switch (word) {
	case VMX_WORD_PROC2:
		*activator = VMX_WORD_PROC;
		return VMX_PROC_ACTIVATE_SECONDARY_CONTROLS;
	case VMX_WORD_PROC3:
		*activator = VMX_WORD_PROC;
		return VMX_PROC_ACTIVATE_TERTIARY_CONTROLS;
	case VMX_WORD_EXIT2:
		*activator = VMX_WORD_EXIT;
		return VMX_EXIT_ACTIVATE_SECONDARY_CONTROLS;
	default:
		*activator = word;
		return 0;
	}
}

/*
 * Does control word `word` exist on this CPU? `activator_allowed1` is the
 * allowed 1-settings of the word vmx_control_word_activator() names (bits
 * 63:32 of its capability MSR); it is not looked at for a word that always
 * exists. A pure function of MSR values: the caller reads the MSR.
 */
static inline int vmx_control_word_exists(unsigned word, vmx_u64 activator_allowed1)
{
	unsigned activator;
	vmx_u64 control = vmx_control_word_activator(word, &activator);

	return control == 0 || (activator_allowed1 & control) != 0;
}

/* The word whose capability MSR (or TRUE MSR) is `msr`, or -1. */
static inline int vmx_control_word_by_msr(vmx_u32 msr)
{
	unsigned w;

	for (w = 0; w < VMX_WORD_COUNT; w++)
		if (vmx_control_word_table[w].msr == msr ||
		    (vmx_control_word_table[w].true_msr != 0 &&
		     vmx_control_word_table[w].true_msr == msr))
			return (int)w;
	return -1;
}

/* The named bit `bit` of `word`, or NULL when the SDM names none there. */
static inline const struct vmx_control_bit_info *vmx_control_bit_info(unsigned word, unsigned bit)
{
	unsigned i;

	for (i = 0; i < VMX_CONTROL_BIT_COUNT; i++)
		if (vmx_control_bit_table[i].word == word && vmx_control_bit_table[i].bit == bit)
			return &vmx_control_bit_table[i];
	return VMX_NULL;
}

#endif /* VMX_CONTROLS_H */
