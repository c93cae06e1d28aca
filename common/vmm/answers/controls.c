/*
 * answers/controls.c - the kit's own control adjustment: a control word
 * computed from what the CPU reports, loudly. A bit the monitor needs and
 * the CPU cannot give stops the program with the bit's name, the word and
 * the MSR.
 *
 * ANSWERS lab03 (vmxstep3.c, adjust_control): lab04 and the kit's
 * tests use this file; lab03's grading copy of the kit leaves it out, so
 * that a lab03 grade comes from the student's own adjust_control.
 *
 * Runs in: bare metal, 64-bit ring 0 (RDMSR). SDM appendix A.3-A.5 (vol. 3D)
 * (allowed settings of the controls), A.1 (IA32_VMX_BASIC bit 55).
 *
 * Each 32-bit control word has a capability MSR: bits 31:0 are the
 * "allowed 0-settings" (a 1 there: the control must be 1), bits 63:32 the
 * "allowed 1-settings" (a 0 there: the control must be 0). So a value is
 * legal when, bit by bit, allowed0 <= value <= allowed1. Some controls are
 * "default1" (reserved, reported as must-be-1 by the classic MSRs); when
 * IA32_VMX_BASIC bit 55 is 1, the IA32_VMX_TRUE_* MSRs tell which of them
 * may really be 0, and software should use those (SDM A.2).
 */
#include "answers.h"
#include "vmx/capsplit.h"           /* vmx_control_split */

/* Does the word exist on this CPU? It asks the word that activates it
 * (vmx_control_word_exists, vmx/controls.h: SDM A.3.3, A.3.4, A.4.2). */
static int word_available(unsigned word)
{
	struct vmm_control_caps a;
	unsigned activator;

	if (!vmx_control_word_activator(word, &activator))
		return 1;                       /* PIN, PROC, EXIT, ENTRY */
	vmm_control_caps(activator, &a);
	return vmx_control_word_exists(word, a.allowed1);
}

void vmm_control_caps(unsigned word, struct vmm_control_caps *caps)
{
	const struct vmx_control_word_info *w = &vmx_control_word_table[word];
	vmx_u64 basic = rdmsr(IA32_VMX_BASIC);
	struct vmx_allowed_settings a;

	caps->available = word_available(word);
	caps->msr = w->msr;
	if (w->true_msr && VMX_MSR_FIELD_GET(basic, IA32_VMX_BASIC_TRUE_CONTROLS))
		caps->msr = w->true_msr;
	if (!caps->available) {
		/* RDMSR of an absent capability MSR may fault: do not read it. */
		caps->msr_value = 0;
		caps->allowed0 = 0;
		caps->allowed1 = 0;
		return;
	}
	caps->msr_value = rdmsr(caps->msr);
	a = vmx_control_split(word, caps->msr_value);   /* 64-bit words: allowed-1 only */
	caps->allowed0 = a.allowed0;
	caps->allowed1 = a.allowed1;
}

int vmm_control_adjust(unsigned word, vmx_u64 required, vmx_u64 optional, vmx_u64 *value)
{
	struct vmm_control_caps c;
	vmx_u64 missing;
	unsigned bit;

	vmm_control_caps(word, &c);
	missing = required & ~c.allowed1;
	for (bit = 0; bit < 64; bit++) {
		const char *name;

		if (!(missing & (1ull << bit)))
			continue;
		name = vmm_control_bit_name(word, bit);
		if (!c.available)
			printf("control %s: required bit %u %s, but this CPU has no %s word (%s)\n",
			       vmm_control_word_name(word), bit, name ? name : "(unnamed)",
			       vmm_control_word_name(word), vmm_msr_name(c.msr));
		else
			printf("control %s: required bit %u %s is not allowed by %s = 0x%016llx (allowed-1 0x%08llx)\n",
			       vmm_control_word_name(word), bit, name ? name : "(unnamed)",
			       vmm_msr_name(c.msr), (unsigned long long)c.msr_value,
			       (unsigned long long)c.allowed1);
	}
	if (missing)
		return -1;
	*value = ((required | optional) | c.allowed0) & c.allowed1;
	return 0;
}

void vmm_control_print(unsigned word, vmx_u64 value)
{
	struct vmm_control_caps c;

	vmm_control_caps(word, &c);
	if (!c.available) {
		printf("control %s: not available on this CPU (%s absent)\n",
		       vmm_control_word_name(word), vmm_msr_name(c.msr));
		return;
	}
	printf("control %s: 0x%08llx allowed-0 0x%08llx allowed-1 0x%08llx %s\n",
	       vmm_control_word_name(word), (unsigned long long)value,
	       (unsigned long long)c.allowed0, (unsigned long long)c.allowed1, vmm_msr_name(c.msr));
}
