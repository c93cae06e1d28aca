/*
 * controls.c - the names of the VM-execution, VM-exit and VM-entry control
 * words, their bits and their capability MSRs, for the lines that print
 * them. Computing a word from what the CPU reports is lab03's work
 * (vmxstep3.c, adjust_control); the kit's own version, which later labs
 * use, is common/vmm/answers/controls.c.
 *
 * Runs in: bare metal, 64-bit (table look-ups only: no RDMSR, no VMX
 * instruction). SDM appendix A.3-A.5 (vol. 3D) (allowed settings of the
 * controls), A.1 (IA32_VMX_BASIC bit 55).
 *
 * What those names describe. Each 32-bit control word has a capability
 * MSR: bits 31:0 are the "allowed 0-settings" (a 1 there: the control must
 * be 1), bits 63:32 the "allowed 1-settings" (a 0 there: the control must
 * be 0). So a value is legal when, bit by bit, allowed0 <= value <=
 * allowed1. Some controls are "default1" (reserved, reported as must-be-1
 * by the classic MSRs); when IA32_VMX_BASIC bit 55 is 1, the
 * IA32_VMX_TRUE_* MSRs tell which of them may really be 0, and software
 * should use those (SDM A.2).
 */
#include "vmm.h"

const char *vmm_control_word_name(unsigned word)
{
	return word < VMX_WORD_COUNT ? vmx_control_word_table[word].name : "?";
}

const char *vmm_control_bit_name(unsigned word, unsigned bit)
{
	const struct vmx_control_bit_info *b = vmx_control_bit_info(word, bit);

	return b ? b->name : VMX_NULL;
}

const char *vmm_msr_name(vmx_u32 msr)
{
	const struct vmx_msr_info *m = vmx_msr_by_number(msr);

	return m ? m->name : "?";
}
