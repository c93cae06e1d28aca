/*
 * vmxstep3.c - the controls, and the uniform loop that writes machine[]
 * into the VMCS.
 *
 * Runs in: bare metal, 64-bit ring 0, VMX root operation with a current
 * VMCS. SDM vol. 3C (classic numbering) 24.6-24.8 (the control fields),
 * appendix A.2-A.5 (capability MSRs: allowed 0- and 1-settings), 24.11.2
 * (field encodings), 30.3 (VMWRITE).
 *
 * Controls. Each control word has a capability MSR: bits 31:0 "allowed
 * 0-settings" (1 = this control must be 1), bits 63:32 "allowed 1-settings"
 * (0 = this control must be 0). A legal value has, bit by bit,
 *
 *      allowed0  <=  value  <=  allowed1
 *
 * The monitor states what it needs (required bits) and what it would like
 * (optional bits); the CPU's bounds do the rest. A required bit the CPU
 * cannot give is a hard stop, said loudly: the bit, the word, the MSR.
 * Which MSR: IA32_VMX_BASIC bit 55 (TRUE_CONTROLS) set means the
 * IA32_VMX_TRUE_*_CTLS MSRs exist and may allow some "default1" controls to
 * be 0; use them then, the classic ones otherwise (SDM A.2).
 *
 * machine[] (common/vmm/machine.c) lists every VMCS component with the
 * address of its variable in vmcs_vars. The encoding tells the width, so
 * one loop moves all of them:
 *
 *   encoding  31       15 14 13 12 11 10 9            1  0
 *            +----------+-----+--+-----+---------------+--+
 *            | 0        |  W  |0 |  T  |     index     |A |
 *            +----------+-----+--+-----+---------------+--+
 *   W width: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural   A: 1 = high half
 *   T type:  0 control, 1 read-only, 2 guest state, 3 host state
 */
#include "lab03.h"

/* --- Controls ------------------------------------------------------------ */

/* What lab03's guest needs: a HLT that exits (its second exit; VMCALL exits
 * unconditionally), a 64-bit host after each exit, a 64-bit guest. */
/* slide: control-needs */
struct control_need {
	unsigned word;
	vmx_u64 required;
	vmx_u64 optional;
};

static struct control_need needs[] = {
	{ VMX_WORD_PIN,   0,                                0 },
	{ VMX_WORD_PROC,  VMX_PROC_HLT_EXITING,             0 },
	{ VMX_WORD_EXIT,  VMX_EXIT_HOST_ADDRESS_SPACE_SIZE, 0 },
	{ VMX_WORD_ENTRY, VMX_ENTRY_IA_32E_MODE_GUEST,      0 },
};
/* end slide */

/*
 * The value of control word `word` for `required` and `optional` bits,
 * within the bounds of its capability MSR; *caps says which MSR the bounds
 * came from and what they are (struct vmm_control_caps, vmm/vmm.h).
 * Returns 0 with *value and *caps set, or -1 after printing, for each
 * required bit the CPU does not allow, the line
 *   control WORD: required bit N NAME is not allowed by MSR = 0x... (allowed-1 0x...)
 * e.g. (the grader reads exactly this form: the MSR value in 16 hex digits)
 *   control PIN: required bit 7 PROCESS_POSTED_INTERRUPTS is not allowed by
 *   IA32_VMX_TRUE_PINBASED_CTLS = 0x0000007f00000016 (allowed-1 0x0000007f)
 * on one line.
 */
int adjust_control(unsigned word, vmx_u64 required, vmx_u64 optional, vmx_u64 *value,
			  struct vmm_control_caps *caps)
{
	const struct vmx_control_word_info *w = &vmx_control_word_table[word];

	caps->available = 1;
	/* TODO(lab03): pick the capability MSR (w->true_msr when IA32_VMX_BASIC
	 * bit 55 says the TRUE MSRs exist, else w->msr) into caps->msr, read it
	 * into caps->msr_value, split it into caps->allowed0 (bits 31:0) and
	 * caps->allowed1 (bits 63:32), report every required bit that allowed1
	 * forbids (vmm_control_bit_name() names it) and return -1, or compute a
	 * value with allowed0 <= value <= allowed1. */
	/* BEGIN SOLUTION */
	int use_true = w->true_msr &&
		       VMX_MSR_FIELD_GET(rdmsr(IA32_VMX_BASIC), IA32_VMX_BASIC_TRUE_CONTROLS);
	vmx_u32 msr = use_true ? w->true_msr : w->msr;
	vmx_u64 cap = rdmsr(msr);
	vmx_u64 must_be_1 = (vmx_u32)cap, may_be_1 = cap >> 32;
	vmx_u64 refused = required & ~may_be_1;
	unsigned bit;

	caps->msr = msr;
	caps->msr_value = cap;
	caps->allowed0 = must_be_1;
	caps->allowed1 = may_be_1;
	for (bit = 0; refused >> bit; bit++) {
		const char *name = vmm_control_bit_name(word, bit);

		if ((refused >> bit) & 1)
			printf("control %s: required bit %u %s is not allowed by %s = 0x%016llx (allowed-1 0x%08llx)\n",
			       w->name, bit, name ? name : "(unnamed)", vmm_msr_name(msr),
			       (unsigned long long)cap, (unsigned long long)may_be_1);
	}
	if (refused)
		return -1;
	*value = (required | optional | must_be_1) & may_be_1;
	return 0;
	/* STARTER: (void)w; */
	/* STARTER: caps->msr = 0; caps->msr_value = caps->allowed0 = caps->allowed1 = 0; */
	/* STARTER: *value = required | optional; */
	/* STARTER: return 0; */
	/* END SOLUTION */
}

/* One line per word, e.g.
 *   control PIN: 0x00000016 allowed-0 0x00000016 allowed-1 0x0000007f IA32_VMX_TRUE_PINBASED_CTLS */
static void print_control(unsigned word, vmx_u64 value, const struct vmm_control_caps *c)
{
	printf("control %s: 0x%08llx allowed-0 0x%08llx allowed-1 0x%08llx %s\n",
	       vmm_control_word_name(word), (unsigned long long)value,
	       (unsigned long long)c->allowed0, (unsigned long long)c->allowed1, vmm_msr_name(c->msr));
}

#ifdef LAB03_BROKEN_CONTROL
/*
 * Test mode (`make lab03-broken`): add to the needs one named control bit
 * that this CPU does not allow, so the run shows how a missing control is
 * reported. The bit is found from the CPU's own MSRs (as adjust_control
 * reads them), so it exists on every model: the first named bit, in the
 * order of the list, whose allowed-1 is 0.
 */
static void demand_impossible_control(void)
{
	unsigned n, i;

	for (n = 0; n < RT_ARRAY_SIZE(needs); n++) {
		struct vmm_control_caps c;
		vmx_u64 value;

		adjust_control(needs[n].word, 0, 0, &value, &c);
		for (i = 0; i < VMX_CONTROL_BIT_COUNT; i++) {
			const struct vmx_control_bit_info *b = &vmx_control_bit_table[i];

			if (b->word != needs[n].word || (c.allowed1 & (1ull << b->bit)))
				continue;
			printf("lab03: test mode: requiring control %s bit %u %s, which this CPU does not allow\n",
			       vmm_control_word_name(b->word), b->bit, b->name);
			needs[n].required |= 1ull << b->bit;
			return;
		}
	}
	printf("lab03: test mode: every named control is allowed here; nothing to break\n");
}
#endif

int controls_setup(void)
{
	vmx_u64 basic = rdmsr(IA32_VMX_BASIC);
	struct vmm_control_caps proc = { 0 }, c;
	vmx_u64 value;
	unsigned n;
	int failed = 0;

	printf("true controls: %s (IA32_VMX_BASIC bit %u)\n",
	       VMX_MSR_FIELD_GET(basic, IA32_VMX_BASIC_TRUE_CONTROLS) ? "yes" : "no",
	       IA32_VMX_BASIC_TRUE_CONTROLS_LSB);
#ifdef LAB03_BROKEN_CONTROL
	demand_impossible_control();
#endif
	for (n = 0; n < RT_ARRAY_SIZE(needs); n++) {
		const struct machine_entry *e;

		if (adjust_control(needs[n].word, needs[n].required, needs[n].optional, &value, &c) != 0) {
			failed = 1;
			continue;
		}
		print_control(needs[n].word, value, &c);
		if (needs[n].word == VMX_WORD_PROC)
			proc = c;
		/* The word's VMCS field, found in machine[] by its encoding. */
		e = machine_find(vmx_control_word_table[needs[n].word].field);
		machine_set(e, value);
	}
	if (failed) {
		printf("controls: a required control is missing on this CPU; stopping before VMLAUNCH\n");
		return -1;
	}
	/* The secondary controls stay off (PROC bit 31, "activate secondary
	 * controls", is 0): printed only to show what this CPU offers there.
	 * The word exists only where PROC allows bit 31 (SDM A.3.3); a CPU
	 * without ENABLE_EPT in allowed-1 has no EPT_POINTER field. */
	if (proc.allowed1 & VMX_PROC_ACTIVATE_SECONDARY_CONTROLS) {
		adjust_control(VMX_WORD_PROC2, 0, 0, &value, &c);
		print_control(VMX_WORD_PROC2, 0, &c);
	} else {
		printf("control PROC2: not available on this CPU (PROC allows no secondary controls)\n");
	}
	/* Not used by this guest: no exceptions intercepted, no CR3 targets. */
	vmcs_vars.EXCEPTION_BITMAP = 0;
	vmcs_vars.CR3_TARGET_COUNT = 0;
	return 0;
}

/* --- machine[]: one loop for every component ----------------------------- */

int machine_load(void)
{
	unsigned i, written = 0, absent = 0;

	/* slide: machine-load-todo */
	for (i = 0; i < machine_count; i++) {
		const struct machine_entry *e = &machine[i];
		vmx_u64 value = 0;
		int status;

		if (e->group == VMCS_GROUP_READ_ONLY)
			continue;       /* exit information: the CPU writes those */

		/* TODO(lab03): read the variable at e->variable with the width
		 * e->width says (VMCS_WIDTH_16, _32, _64, _NATURAL), and VMWRITE
		 * it to e->encoding; keep the status. */
		/* end slide */
		/* BEGIN SOLUTION */
		switch (e->width) {
		case VMCS_WIDTH_16:
			value = *(const vmx_u16 *)e->variable;
			break;
		case VMCS_WIDTH_32:
			value = *(const vmx_u32 *)e->variable;
			break;
		case VMCS_WIDTH_64:
		case VMCS_WIDTH_NATURAL:        /* 64 bits on a 64-bit host */
			value = *(const vmx_u64 *)e->variable;
			break;
		}
		status = vmwrite(e->encoding, value);
		/* STARTER: (void)status; */
		/* STARTER: printf("machine[] load: nothing written yet (TODO(lab03) in vmxstep3.c)\n"); */
		/* STARTER: return -1; */
		/* END SOLUTION */

		if (status == VMX_SUCCEED) {
			written++;
			continue;
		}
		/* A component this CPU model lacks fails with VMfailValid, error
		 * 12 ("unsupported VMCS component"): harmless if we need it zero. */
		if (status == VMX_FAIL_VALID && value == 0 &&
		    vmm_instruction_error() == vmm_error_unsupported_component()) {
			absent++;
			continue;
		}
		printf("machine[] load: VMWRITE %s = 0x%llx failed\n", e->name, (unsigned long long)value);
		vmm_explain_status("VMWRITE", status);
		return -1;
	}
	printf("machine[] load: %u fields written, %u not supported by this CPU (all zero)\n",
	       written, absent);
	return 0;
}
