/*
 * vmx/decode.h - turn VMX capability MSR values (and exit reasons, errors)
 * into text a student can read, one item per line.
 *
 * Where it runs: the Linux kernel (print with seq_printf), the host (printf)
 * and bare metal (the runtime's serial printf). So the decoders print only
 * through a callback, and use only these printf conversions, which all three
 * support: %s %c %d %u %x %llx %llu, with the flags '0' and '-' and a width.
 *
 * The facts come from the lists in common/vmx/ (SDM vol. 3, appendix A for
 * the MSR layouts). Output shape, e.g. for IA32_VMX_BASIC on Bochs' Haswell:
 *
 *   0x480 IA32_VMX_BASIC 0x00d810000000002b
 *     VMCS_REVISION_ID:                  0x2b  (VMCS revision identifier)
 *     VMCS_REGION_SIZE:                  4096 bytes  (Bytes to allocate ...)
 *     ...
 */
#ifndef VMX_DECODE_H
#define VMX_DECODE_H

#include "types.h"
#include "fields.h"
#include "msrs.h"
#include "controls.h"
#include "capsplit.h"         /* vmx_control_split: allowed 0-/1-settings */
#include "cpu_bits.h"
#include "exit_reasons.h"
#include "errors.h"
#include "values.h"

struct vmx_printer {
	void (*printf)(void *ctx, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	void *ctx;
};

/* The parentheses keep a function-like `printf` macro (some libcs have one)
 * from expanding here. */
#define VMX_PRINT(p, ...) ((p)->printf)((p)->ctx, __VA_ARGS__)

/* "  NAME:" padded so that the values line up in one column. */
static inline void vmx__key(const struct vmx_printer *p, const char *name)
{
	static const char pad[] = "                                   ";
	unsigned n = 0;

	while (name[n])
		n++;
	VMX_PRINT(p, "  %s:%s", name, n + 1 < sizeof(pad) ? pad + n : " ");
}

/* One line, `0x480 IA32_VMX_BASIC 0x00d810000000002b`: the format of the
 * kit's capability listing (make run, lab01). */
static inline void vmx_print_msr_line(const struct vmx_printer *p, vmx_u32 msr, vmx_u64 value)
{
	const struct vmx_msr_info *m = vmx_msr_by_number(msr);

	VMX_PRINT(p, "0x%x %s 0x%016llx\n", msr, m ? m->name : "UNKNOWN_MSR", value);
}

/* Memory types a VMCS or EPT structure may use (SDM A.1, 11.3). */
static inline const char *vmx_memory_type_name(vmx_u64 type)
{
	switch (type) {
	case VMX_MEMORY_TYPE_UC: return "uncacheable (UC)";
	case VMX_MEMORY_TYPE_WB: return "write-back (WB)";
	default: return "not used by VMX";
	}
}

/* The value part of one multi-bit MSR field, with its unit where it has one. */
static inline void vmx__msr_field_value(const struct vmx_printer *p, vmx_u32 msr,
					unsigned lsb, vmx_u64 v)
{
	if (msr == IA32_VMX_BASIC && lsb == IA32_VMX_BASIC_VMCS_REGION_SIZE_LSB)
		VMX_PRINT(p, "%llu bytes", v);
	else if (msr == IA32_VMX_BASIC && lsb == IA32_VMX_BASIC_VMCS_MEMORY_TYPE_LSB)
		VMX_PRINT(p, "%llu %s", v, vmx_memory_type_name(v));
	else if (msr == IA32_VMX_MISC && lsb == IA32_VMX_MISC_PREEMPTION_TIMER_RATE_LSB)
		VMX_PRINT(p, "%llu (one timer tick every %llu TSC ticks)", v, 1ull << v);
	else if (msr == IA32_VMX_MISC && lsb == IA32_VMX_MISC_CR3_TARGET_COUNT_LSB)
		VMX_PRINT(p, "%llu", v);
	else if (msr == IA32_VMX_MISC && lsb == IA32_VMX_MISC_MSR_LIST_LIMIT_LSB)
		VMX_PRINT(p, "%llu (at most %llu MSRs per list)", v, vmx_msr_list_max(v));
	else if (msr == IA32_VMX_VMCS_ENUM && lsb == IA32_VMX_VMCS_ENUM_HIGHEST_INDEX_LSB)
		VMX_PRINT(p, "%llu (0x%llx)", v, v);
	else
		VMX_PRINT(p, "0x%llx", v);
}

/*
 * Every field the list vmx_msr_fields.def names in `msr`, one per line:
 * flags as yes/no, multi-bit fields as numbers. Returns how many fields the
 * MSR has in the list (0: nothing printed).
 */
static inline unsigned vmx_decode_msr_fields(const struct vmx_printer *p, vmx_u32 msr, vmx_u64 value)
{
	unsigned i, n = 0;

	for (i = 0; i < VMX_MSR_FIELD_COUNT; i++) {
		const struct vmx_msr_field_info *f = &vmx_msr_field_table[i];
		vmx_u64 v;

		if (f->msr != msr)
			continue;
		v = vmx_msr_field_value(f, value);
		vmx__key(p, f->name);
		if (f->lsb == f->msb)
			VMX_PRINT(p, "%s", v ? "yes" : "no");
		else
			vmx__msr_field_value(p, msr, f->lsb, v);
		VMX_PRINT(p, "  (%s)\n", f->description);
		n++;
	}
	return n;
}

/* IA32_VMX_BASIC (SDM A.1): revision, region size, memory type, TRUE MSRs... */
static inline void vmx_decode_basic(const struct vmx_printer *p, vmx_u64 value)
{
	vmx_decode_msr_fields(p, IA32_VMX_BASIC, value);
}

/* IA32_VMX_MISC (SDM A.6): timer rate, activity states, CR3 targets, MSR lists. */
static inline void vmx_decode_misc(const struct vmx_printer *p, vmx_u64 value)
{
	vmx_decode_msr_fields(p, IA32_VMX_MISC, value);
}

/* IA32_VMX_EPT_VPID_CAP (SDM A.10). */
static inline void vmx_decode_ept_vpid_cap(const struct vmx_printer *p, vmx_u64 value)
{
	vmx_decode_msr_fields(p, IA32_VMX_EPT_VPID_CAP, value);
}

/* IA32_VMX_VMFUNC (SDM A.11): bit N = VM function N may be enabled. */
static inline void vmx_decode_vmfunc(const struct vmx_printer *p, vmx_u64 value)
{
	vmx_decode_msr_fields(p, IA32_VMX_VMFUNC, value);
	if (value & ~VMX_MSR_FIELD_MASK(IA32_VMX_VMFUNC_EPTP_SWITCHING))
		VMX_PRINT(p, "  other VM functions: 0x%llx\n",
			  value & ~VMX_MSR_FIELD_MASK(IA32_VMX_VMFUNC_EPTP_SWITCHING));
}

/* IA32_VMX_VMCS_ENUM (SDM A.9): the highest field index the CPU has. */
static inline void vmx_decode_vmcs_enum(const struct vmx_printer *p, vmx_u64 value)
{
	vmx_decode_msr_fields(p, IA32_VMX_VMCS_ENUM, value);
}

/* What a capability MSR allows for one control bit. */
enum vmx_setting {
	VMX_MUST_BE_0,
	VMX_MUST_BE_1,
	VMX_MAY_BE_EITHER,
	VMX_CONTRADICTORY,      /* allowed-0 says 1 and allowed-1 says 0 */
};

static inline const char *vmx_setting_name(enum vmx_setting s)
{
	switch (s) {
	case VMX_MUST_BE_0:     return "must-be-0";
	case VMX_MUST_BE_1:     return "must-be-1";
	case VMX_MAY_BE_EITHER: return "may-be-either";
	default:                return "contradictory (allowed-0 says 1, allowed-1 says 0)";
	}
}

/*
 * The setting of control bit `bit` of `word` under capability value `cap`
 * (SDM A.3.1): an allowed 0-setting bit (31:0) of 1 means the control must
 * be 1; an allowed 1-setting bit (63:32) of 0 means it must be 0. 64-bit
 * words (tertiary, secondary exit) have allowed 1-settings only (A.3.4).
 */
static inline enum vmx_setting vmx_control_setting(unsigned word, vmx_u64 cap, unsigned bit)
{
	struct vmx_allowed_settings a = vmx_control_split(word, cap);
	int may0, may1;

	if (bit >= (vmx_control_word_is_64bit(word) ? 64u : 32u))
		return VMX_MUST_BE_0;
	may0 = !((a.allowed0 >> bit) & 1);
	may1 = (int)((a.allowed1 >> bit) & 1);
	if (may0 && may1)
		return VMX_MAY_BE_EITHER;
	if (may1)
		return VMX_MUST_BE_1;
	if (may0)
		return VMX_MUST_BE_0;
	return VMX_CONTRADICTORY;
}

/*
 * A control capability MSR value for control word `word` (enum
 * vmx_control_word): every named bit as must-be-0 / must-be-1 /
 * may-be-either, then the unnamed bits that are not simply must-be-0.
 */
static inline void vmx_decode_controls(const struct vmx_printer *p, unsigned word, vmx_u64 cap)
{
	const struct vmx_control_word_info *w = &vmx_control_word_table[word];
	struct vmx_allowed_settings a = vmx_control_split(word, cap);
	unsigned bit, nbits = vmx_control_word_is_64bit(word) ? 64 : 32;

	VMX_PRINT(p, "  control word: %s (%s), VMCS field 0x%08x\n", w->name, w->description, w->field);
	if (nbits == 32) {
		VMX_PRINT(p, "  allowed 0-settings (bits 31:0, a 1 means must be 1):  0x%08x\n",
			  (vmx_u32)a.allowed0);
		VMX_PRINT(p, "  allowed 1-settings (bits 63:32, a 0 means must be 0): 0x%08x\n",
			  (vmx_u32)a.allowed1);
	} else {
		VMX_PRINT(p, "  allowed 1-settings (a 0 means must be 0): 0x%016llx\n", a.allowed1);
	}
	for (bit = 0; bit < nbits; bit++) {
		const struct vmx_control_bit_info *b = vmx_control_bit_info(word, bit);
		enum vmx_setting s = vmx_control_setting(word, cap, bit);

		if (b)
			VMX_PRINT(p, "  bit %2u  %-40s %s\n", bit, b->name, vmx_setting_name(s));
		else if (s != VMX_MUST_BE_0) /* a reserved bit the CPU wants set */
			VMX_PRINT(p, "  bit %2u  %-40s %s\n", bit, "(unnamed, reserved)",
				  vmx_setting_name(s));
	}
}

/* Names of the bits of `reg` set in `mask`, then any unnamed ones as a mask. */
static inline void vmx__list_reg_bits(const struct vmx_printer *p, unsigned reg, vmx_u64 mask)
{
	unsigned bit;
	vmx_u64 unnamed = 0;

	if (!mask) {
		VMX_PRINT(p, " (none)\n");
		return;
	}
	for (bit = 0; bit < 64; bit++) {
		const char *name;

		if (!((mask >> bit) & 1))
			continue;
		name = cpu_reg_bit_name(reg, bit);
		if (name)
			VMX_PRINT(p, " %s", name);
		else
			unnamed |= 1ull << bit;
	}
	if (unnamed)
		VMX_PRINT(p, " (unnamed bits 0x%llx)", unnamed);
	VMX_PRINT(p, "\n");
}

/*
 * CR0 or CR4 (reg = CPU_REG_CR0 / CPU_REG_CR4) in VMX operation, from the
 * FIXED0 and FIXED1 MSRs (SDM A.7, A.8): a bit 1 in FIXED0 is fixed to 1,
 * a bit 0 in FIXED1 is fixed to 0, the rest may be either.
 */
static inline void vmx_decode_fixed(const struct vmx_printer *p, unsigned reg,
				    vmx_u64 fixed0, vmx_u64 fixed1)
{
	VMX_PRINT(p, "  %s fixed to 1:", cpu_reg_name(reg));
	vmx__list_reg_bits(p, reg, fixed0);
	VMX_PRINT(p, "  %s fixed to 0:", cpu_reg_name(reg));
	vmx__list_reg_bits(p, reg, ~fixed1 & ~fixed0);
	VMX_PRINT(p, "  %s flexible:  ", cpu_reg_name(reg));
	vmx__list_reg_bits(p, reg, fixed1 & ~fixed0);
}

/* IA32_FEATURE_CONTROL (0x3A): lock and VMX enables. */
static inline void vmx_decode_feature_control(const struct vmx_printer *p, vmx_u64 value)
{
	vmx_decode_msr_fields(p, IA32_FEATURE_CONTROL, value);
}

/*
 * Any MSR of vmx_msrs.def: the one-line form, then its decode. A FIXED0 or
 * FIXED1 MSR alone says only half (see vmx_decode_fixed for the pair).
 * Returns 0, or -1 when `msr` is not in the list (only the line is printed).
 */
static inline int vmx_decode_msr(const struct vmx_printer *p, vmx_u32 msr, vmx_u64 value)
{
	int word = vmx_control_word_by_msr(msr);

	vmx_print_msr_line(p, msr, value);
	if (word >= 0) {
		vmx_decode_controls(p, (unsigned)word, value);
		return 0;
	}
	switch (msr) {
	case IA32_VMX_CR0_FIXED0:
		vmx_decode_fixed(p, CPU_REG_CR0, value, ~0ull);
		VMX_PRINT(p, "  (IA32_VMX_CR0_FIXED1 tells which bits are fixed to 0)\n");
		return 0;
	case IA32_VMX_CR0_FIXED1:
		vmx_decode_fixed(p, CPU_REG_CR0, 0, value);
		VMX_PRINT(p, "  (IA32_VMX_CR0_FIXED0 tells which bits are fixed to 1)\n");
		return 0;
	case IA32_VMX_CR4_FIXED0:
		vmx_decode_fixed(p, CPU_REG_CR4, value, ~0ull);
		VMX_PRINT(p, "  (IA32_VMX_CR4_FIXED1 tells which bits are fixed to 0)\n");
		return 0;
	case IA32_VMX_CR4_FIXED1:
		vmx_decode_fixed(p, CPU_REG_CR4, 0, value);
		VMX_PRINT(p, "  (IA32_VMX_CR4_FIXED0 tells which bits are fixed to 1)\n");
		return 0;
	case IA32_VMX_VMFUNC:
		vmx_decode_vmfunc(p, value);
		return 0;
	default:
		return vmx_msr_by_number(msr) ? (vmx_decode_msr_fields(p, msr, value), 0) : -1;
	}
}

/* The capability values that decide which optional MSRs exist. Fill in what
 * you have read so far (reading in MSR-number order works: every MSR depends
 * only on lower-numbered ones); leave absent ones 0. */
struct vmx_cap_values {
	vmx_u64 basic;            /* IA32_VMX_BASIC */
	vmx_u64 procbased_ctls;   /* IA32_VMX_PROCBASED_CTLS */
	vmx_u64 procbased_ctls2;  /* IA32_VMX_PROCBASED_CTLS2, 0 if absent */
	vmx_u64 exit_ctls;        /* IA32_VMX_EXIT_CTLS */
};

/*
 * Does MSR `msr` exist on this CPU? NULL if it does (or if it is not an
 * optional VMX MSR); otherwise the reason, for a line like
 * "0x48c IA32_VMX_EPT_VPID_CAP absent: <reason>". RDMSR of an absent MSR
 * raises #GP (SDM appendix A).
 */
static inline const char *vmx_msr_absent_reason(vmx_u32 msr, const struct vmx_cap_values *v)
{
	vmx_u64 proc_may1 = vmx_control_split(VMX_WORD_PROC, v->procbased_ctls).allowed1;
	vmx_u64 proc2_may1 = vmx_control_split(VMX_WORD_PROC2, v->procbased_ctls2).allowed1;
	vmx_u64 exit_may1 = vmx_control_split(VMX_WORD_EXIT, v->exit_ctls).allowed1;

	switch (msr) {
	case IA32_VMX_PROCBASED_CTLS2:
		if (!vmx_control_word_exists(VMX_WORD_PROC2, proc_may1))
			return "IA32_VMX_PROCBASED_CTLS does not allow ACTIVATE_SECONDARY_CONTROLS (no secondary controls)";
		return VMX_NULL;
	case IA32_VMX_EPT_VPID_CAP:
		if (!vmx_control_word_exists(VMX_WORD_PROC2, proc_may1))
			return "no secondary controls, so no ENABLE_EPT or ENABLE_VPID";
		if (!(proc2_may1 & (VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID)))
			return "IA32_VMX_PROCBASED_CTLS2 allows neither ENABLE_EPT nor ENABLE_VPID";
		return VMX_NULL;
	case IA32_VMX_TRUE_PINBASED_CTLS:
	case IA32_VMX_TRUE_PROCBASED_CTLS:
	case IA32_VMX_TRUE_EXIT_CTLS:
	case IA32_VMX_TRUE_ENTRY_CTLS:
		if (!VMX_MSR_FIELD_GET(v->basic, IA32_VMX_BASIC_TRUE_CONTROLS))
			return "IA32_VMX_BASIC.TRUE_CONTROLS is 0 (no TRUE capability MSRs)";
		return VMX_NULL;
	case IA32_VMX_VMFUNC:
		if (!vmx_control_word_exists(VMX_WORD_PROC2, proc_may1))
			return "no secondary controls, so no ENABLE_VM_FUNCTIONS";
		if (!(proc2_may1 & VMX_PROC2_ENABLE_VM_FUNCTIONS))
			return "IA32_VMX_PROCBASED_CTLS2 does not allow ENABLE_VM_FUNCTIONS";
		return VMX_NULL;
	case IA32_VMX_PROCBASED_CTLS3:
		if (!vmx_control_word_exists(VMX_WORD_PROC3, proc_may1))
			return "IA32_VMX_PROCBASED_CTLS does not allow ACTIVATE_TERTIARY_CONTROLS (no tertiary controls)";
		return VMX_NULL;
	case IA32_VMX_EXIT_CTLS2:
		if (!vmx_control_word_exists(VMX_WORD_EXIT2, exit_may1))
			return "IA32_VMX_EXIT_CTLS does not allow ACTIVATE_SECONDARY_CONTROLS (no secondary VM-exit controls)";
		return VMX_NULL;
	default:
		return VMX_NULL;
	}
}

/* `VM_EXIT_REASON: 0x00000030 EPT_VIOLATION (EPT violation)`, and a second
 * line when bit 31 says the VM entry failed. */
static inline void vmx_print_exit_reason(const struct vmx_printer *p, vmx_u32 reason)
{
	const struct vmx_exit_reason_info *e =
		vmx_exit_reason_by_number(VMX_EXIT_REASON_BASIC(reason));

	VMX_PRINT(p, "VM_EXIT_REASON: 0x%08x %s (%s)\n", reason,
		  e ? e->name : "UNKNOWN", e ? e->description : "not an exit reason of the SDM");
	if (VMX_EXIT_REASON_IS_ENTRY_FAILURE(reason))
		VMX_PRINT(p, "VM_ENTRY_FAILURE: yes (bit 31 of the exit reason)\n");
}

/* `VM_INSTRUCTION_ERROR: 7 (VM entry with invalid control field(s))` */
static inline void vmx_print_instruction_error(const struct vmx_printer *p, vmx_u32 number)
{
	const char *t = vmx_instruction_error_text(number);

	VMX_PRINT(p, "VM_INSTRUCTION_ERROR: %u (%s)\n", number,
		  t ? t : "not an error number of the SDM");
}

#endif /* VMX_DECODE_H */
