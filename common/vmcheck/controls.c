/*
 * controls.c - the VM-entry checks on the VMX controls (SDM vol. 3C 26.2.1):
 * 26.2.1.1 VM-execution control fields, 26.2.1.2 VM-exit control fields and
 * 26.2.1.3 VM-entry control fields (event injection included). The CPU
 * checks these first; a broken rule here makes VMLAUNCH fail with
 * VMfailValid, VM-instruction error 7.
 *
 * Runs in: 64-bit ring 0, VMX root operation, as part of the checker
 * (vmcheck.h). The rules look only at the snapshot (rules.h), except
 * CTRL_TPR_THRESHOLD_VTPR, which reads the virtual-APIC page.
 *
 * Read it with the SDM open at 26.2.1: the rules follow its order, each
 * rule (id, section, message) right above its check.
 */
#include "rules.h"

/* Control word `word` vs what its capability MSR allows (SDM appendix
 * A.3-A.5; s->allowed, split by vmx_control_split): a control the CPU
 * requires (a 1 in the allowed 0-settings) is 0, or a control it does not
 * allow (a 0 in the allowed 1-settings) is 1. */
static int must_be_1_clear(const struct vmcheck_state *s, unsigned word, vmcheck_u64 value)
{
	return (s->allowed[word].allowed0 & ~value) != 0;
}

static int must_be_0_set(const struct vmcheck_state *s, unsigned word, vmcheck_u64 value)
{
	return (value & ~s->allowed[word].allowed1) != 0;
}

/* ------------------------------------------------------------------------ */
/* 26.2.1.1 VM-execution control fields                                      */
/* ------------------------------------------------------------------------ */

VMCHECK_RULE(CTRL_PIN_REQUIRED1, "26.2.1.1", CONTROLS, pin_allowed0,
	     "a pin-based control that must be 1 (allowed 0-settings, bits 31:0 of IA32_VMX_(TRUE_)PINBASED_CTLS) is 0");
static int pin_allowed0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_1_clear(s, VMX_WORD_PIN, pin(s)) && broken(f, IX_PIN_BASED_VM_EXECUTION_CONTROLS, pin(s));
}

VMCHECK_RULE(CTRL_PIN_REQUIRED0, "26.2.1.1", CONTROLS, pin_allowed1,
	     "a pin-based control that must be 0 (allowed 1-settings, bits 63:32 of IA32_VMX_(TRUE_)PINBASED_CTLS) is 1");
static int pin_allowed1(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_0_set(s, VMX_WORD_PIN, pin(s)) && broken(f, IX_PIN_BASED_VM_EXECUTION_CONTROLS, pin(s));
}

VMCHECK_RULE(CTRL_PROC_REQUIRED1, "26.2.1.1", CONTROLS, proc_allowed0,
	     "a primary processor-based control that must be 1 (IA32_VMX_(TRUE_)PROCBASED_CTLS bits 31:0) is 0");
static int proc_allowed0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_1_clear(s, VMX_WORD_PROC, proc(s)) &&
	       broken(f, IX_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc(s));
}

VMCHECK_RULE(CTRL_PROC_REQUIRED0, "26.2.1.1", CONTROLS, proc_allowed1,
	     "a primary processor-based control that must be 0 (IA32_VMX_(TRUE_)PROCBASED_CTLS bits 63:32) is 1");
static int proc_allowed1(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_0_set(s, VMX_WORD_PROC, proc(s)) &&
	       broken(f, IX_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc(s));
}

VMCHECK_RULE(CTRL_PROC2_REQUIRED1, "26.2.1.1", CONTROLS, proc2_allowed0,
	     "a secondary processor-based control that must be 1 (IA32_VMX_PROCBASED_CTLS2 bits 31:0) is 0");
static int proc2_allowed0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc(s) & VMX_PROC_ACTIVATE_SECONDARY_CONTROLS) || !s->has_word[VMX_WORD_PROC2])
		return 0;
	return must_be_1_clear(s, VMX_WORD_PROC2, proc2(s)) &&
	       broken(f, IX_SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc2(s));
}

VMCHECK_RULE(CTRL_PROC2_REQUIRED0, "26.2.1.1", CONTROLS, proc2_allowed1,
	     "a secondary processor-based control that must be 0 (IA32_VMX_PROCBASED_CTLS2 bits 63:32) is 1");
static int proc2_allowed1(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc(s) & VMX_PROC_ACTIVATE_SECONDARY_CONTROLS) || !s->has_word[VMX_WORD_PROC2])
		return 0;
	return must_be_0_set(s, VMX_WORD_PROC2, proc2(s)) &&
	       broken(f, IX_SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc2(s));
}

VMCHECK_RULE(CTRL_CR3_TARGET_COUNT, "26.2.1.1", CONTROLS, cr3_target_count,
	     "the CR3-target count must not be greater than 4");
static int cr3_target_count(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return V(CR3_TARGET_COUNT) > 4 && broken(f, IX_CR3_TARGET_COUNT, V(CR3_TARGET_COUNT));
}

VMCHECK_RULE(CTRL_IO_BITMAP_ADDRESS, "26.2.1.1", CONTROLS, io_bitmaps,
	     "with \"use I/O bitmaps\", each I/O-bitmap address must be 4-KByte aligned and inside the physical-address width");
static int io_bitmaps(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc(s) & VMX_PROC_USE_IO_BITMAPS))
		return 0;
	if ((V(IO_BITMAP_A_ADDRESS) & 0xFFF) || !phys_ok(s, V(IO_BITMAP_A_ADDRESS)))
		return broken(f, IX_IO_BITMAP_A_ADDRESS, V(IO_BITMAP_A_ADDRESS));
	if ((V(IO_BITMAP_B_ADDRESS) & 0xFFF) || !phys_ok(s, V(IO_BITMAP_B_ADDRESS)))
		return broken(f, IX_IO_BITMAP_B_ADDRESS, V(IO_BITMAP_B_ADDRESS));
	return 0;
}

VMCHECK_RULE(CTRL_MSR_BITMAP_ADDRESS, "26.2.1.1", CONTROLS, msr_bitmaps,
	     "with \"use MSR bitmaps\", the MSR-bitmap address must be 4-KByte aligned and inside the physical-address width");
static int msr_bitmaps(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc(s) & VMX_PROC_USE_MSR_BITMAPS))
		return 0;
	return ((V(MSR_BITMAPS_ADDRESS) & 0xFFF) || !phys_ok(s, V(MSR_BITMAPS_ADDRESS))) &&
	       broken(f, IX_MSR_BITMAPS_ADDRESS, V(MSR_BITMAPS_ADDRESS));
}

VMCHECK_RULE(CTRL_VIRTUAL_APIC_ADDRESS, "26.2.1.1", CONTROLS, tpr_shadow,
	     "with \"use TPR shadow\", the virtual-APIC address must be 4-KByte aligned and inside the physical-address width");
static int tpr_shadow(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc(s) & VMX_PROC_USE_TPR_SHADOW))
		return 0;
	if ((V(VIRTUAL_APIC_ADDRESS) & 0xFFF) || !phys_ok(s, V(VIRTUAL_APIC_ADDRESS)))
		return broken(f, IX_VIRTUAL_APIC_ADDRESS, V(VIRTUAL_APIC_ADDRESS));
	return 0;
}

VMCHECK_RULE(CTRL_TPR_THRESHOLD, "26.2.1.1", CONTROLS, tpr_threshold,
	     "with \"use TPR shadow\", bits 31:4 of the TPR threshold must be 0");
static int tpr_threshold(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* Bits 31:4 must be 0 when "use TPR shadow" is 1 and "virtual-interrupt
	 * delivery" is 0; the kit never sets the latter. */
	if (!(proc(s) & VMX_PROC_USE_TPR_SHADOW))
		return 0;
	return (V(TPR_THRESHOLD) & BITS(31, 4)) && broken(f, IX_TPR_THRESHOLD, V(TPR_THRESHOLD));
}

#define VTPR_OFFSET 0x80        /* virtual-APIC page: VTPR (SDM 29.1.1) */

VMCHECK_RULE(CTRL_TPR_THRESHOLD_VTPR, "26.2.1.1", CONTROLS, tpr_threshold_vtpr,
	     "with \"use TPR shadow\" (no APIC-access virtualization), TPR threshold bits 3:0 must not exceed VTPR bits 7:4 (virtual-APIC page offset 80H)");
static int tpr_threshold_vtpr(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* With "use TPR shadow", no "virtualize APIC accesses" and no
	 * "virtual-interrupt delivery" (unused by the kit), bits 3:0 of the TPR
	 * threshold must not exceed bits 7:4 of VTPR, the byte at offset 80H
	 * of the virtual-APIC page (SDM 26.2.1.1, 29.1.1). */
	if (!(proc(s) & VMX_PROC_USE_TPR_SHADOW) || (proc2(s) & VMX_PROC2_VIRTUALIZE_APIC_ACCESSES) ||
	    (V(VIRTUAL_APIC_ADDRESS) & 0xFFF) || !phys_ok(s, V(VIRTUAL_APIC_ADDRESS)))
		return 0;
	return phys_mapped(V(VIRTUAL_APIC_ADDRESS), 4096) &&
	       (V(TPR_THRESHOLD) & 0xF) > (phys_read8(V(VIRTUAL_APIC_ADDRESS) + VTPR_OFFSET) >> 4) &&
	       broken(f, IX_TPR_THRESHOLD, V(TPR_THRESHOLD));
}

VMCHECK_RULE(CTRL_VIRTUAL_NMIS_WITHOUT_NMI_EXITING, "26.2.1.1", CONTROLS, nmi_exiting_virtual_nmis,
	     "\"virtual NMIs\" must be 0 when \"NMI exiting\" is 0");
static int nmi_exiting_virtual_nmis(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !(pin(s) & VMX_PIN_NMI_EXITING) && (pin(s) & VMX_PIN_VIRTUAL_NMIS) &&
	       broken(f, IX_PIN_BASED_VM_EXECUTION_CONTROLS, pin(s));
}

VMCHECK_RULE(CTRL_NMI_WINDOW_WITHOUT_VIRTUAL_NMIS, "26.2.1.1", CONTROLS, virtual_nmis_nmi_window,
	     "\"NMI-window exiting\" must be 0 when \"virtual NMIs\" is 0");
static int virtual_nmis_nmi_window(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !(pin(s) & VMX_PIN_VIRTUAL_NMIS) && (proc(s) & VMX_PROC_NMI_WINDOW_EXITING) &&
	       broken(f, IX_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc(s));
}

VMCHECK_RULE(CTRL_APIC_ACCESS_ADDRESS, "26.2.1.1", CONTROLS, apic_access,
	     "with \"virtualize APIC accesses\", the APIC-access address must be 4-KByte aligned and inside the physical-address width");
static int apic_access(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc2(s) & VMX_PROC2_VIRTUALIZE_APIC_ACCESSES))
		return 0;
	return ((V(APIC_ACCESS_ADDRESS) & 0xFFF) || !phys_ok(s, V(APIC_ACCESS_ADDRESS))) &&
	       broken(f, IX_APIC_ACCESS_ADDRESS, V(APIC_ACCESS_ADDRESS));
}

VMCHECK_RULE(CTRL_X2APIC_MODE, "26.2.1.1", CONTROLS, x2apic_mode,
	     "\"virtualize x2APIC mode\" needs \"use TPR shadow\" = 1 and \"virtualize APIC accesses\" = 0");
static int x2apic_mode(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	if (!(proc2(s) & VMX_PROC2_VIRTUALIZE_X2APIC_MODE))
		return 0;
	return (!(proc(s) & VMX_PROC_USE_TPR_SHADOW) || (proc2(s) & VMX_PROC2_VIRTUALIZE_APIC_ACCESSES)) &&
	       broken(f, IX_SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc2(s));
}

/* lab05 rules: VPID, EPT, unrestricted guest. */
VMCHECK_RULE(CTRL_VPID_ZERO, "26.2.1.1", CONTROLS, vpid_zero,
	     "with \"enable VPID\", the VPID must not be 0000H");
static int vpid_zero(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return (proc2(s) & VMX_PROC2_ENABLE_VPID) && V(VIRTUAL_PROCESSOR_IDENTIFIER) == 0 &&
	       broken(f, IX_VIRTUAL_PROCESSOR_IDENTIFIER, 0);
}

VMCHECK_RULE(CTRL_EPTP, "26.2.1.1", CONTROLS, eptp_valid,
	     "with \"enable EPT\", the EPTP needs a supported memory type (UC/WB), page-walk length 4, A/D only if supported, bits 11:7 and beyond the physical-address width 0");
static int eptp_valid(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 eptp = V(EPT_POINTER);
	unsigned int memtype = VMX_BITS_GET(eptp, VMX_EPTP_MEMORY_TYPE);
	unsigned int walk = VMX_BITS_GET(eptp, VMX_EPTP_PAGE_WALK_LENGTH_MINUS_1) + 1;
	int ok;

	if (!(proc2(s) & VMX_PROC2_ENABLE_EPT))
		return 0;
	/* SDM 24.6.11 and A.10: memory type UC or WB if the EPT/VPID
	 * capability MSR allows it, page-walk length 4, A/D enable only if
	 * supported, bits 11:7 and beyond MAXPHYADDR zero (bit 7, supervisor
	 * shadow stacks, is treated as reserved: the kit's models lack it). */
	ok = (memtype == VMX_MEMORY_TYPE_UC && EPTCAP(MEMORY_TYPE_UC)) ||
	     (memtype == VMX_MEMORY_TYPE_WB && EPTCAP(MEMORY_TYPE_WB));
	ok = ok && walk == 4;
	ok = ok && (!(eptp & VMX_BITS_MASK(VMX_EPTP_ACCESSED_DIRTY)) || EPTCAP(ACCESSED_DIRTY_FLAGS));
	ok = ok && !(eptp & (VMX_BITS_MASK(VMX_EPTP_SUPERVISOR_SHADOW_STACK) | VMX_BITS_MASK(VMX_EPTP_RESERVED_11_8))) &&
	     phys_ok(s, eptp);
	return !ok && broken(f, IX_EPT_POINTER, eptp);
}

VMCHECK_RULE(CTRL_UNRESTRICTED_WITHOUT_EPT, "26.2.1.1", CONTROLS, unrestricted_needs_ept,
	     "\"unrestricted guest\" needs \"enable EPT\" = 1");
static int unrestricted_needs_ept(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return unrestricted(s) && !(proc2(s) & VMX_PROC2_ENABLE_EPT) &&
	       broken(f, IX_SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, proc2(s));
}

/* ------------------------------------------------------------------------ */
/* 26.2.1.2 VM-exit control fields                                           */
/* ------------------------------------------------------------------------ */

VMCHECK_RULE(CTRL_EXIT_REQUIRED1, "26.2.1.2", CONTROLS, exit_allowed0,
	     "a VM-exit control that must be 1 (IA32_VMX_(TRUE_)EXIT_CTLS bits 31:0) is 0");
static int exit_allowed0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_1_clear(s, VMX_WORD_EXIT, exitc(s)) && broken(f, IX_PRIMARY_VM_EXIT_CONTROLS, exitc(s));
}

VMCHECK_RULE(CTRL_EXIT_REQUIRED0, "26.2.1.2", CONTROLS, exit_allowed1,
	     "a VM-exit control that must be 0 (IA32_VMX_(TRUE_)EXIT_CTLS bits 63:32) is 1");
static int exit_allowed1(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_0_set(s, VMX_WORD_EXIT, exitc(s)) && broken(f, IX_PRIMARY_VM_EXIT_CONTROLS, exitc(s));
}

VMCHECK_RULE(CTRL_EXIT_SAVE_PREEMPTION_TIMER, "26.2.1.2", CONTROLS, exit_preemption_timer,
	     "\"save VMX-preemption timer value\" must be 0 when \"activate VMX-preemption timer\" is 0");
static int exit_preemption_timer(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return !(pin(s) & VMX_PIN_ACTIVATE_VMX_PREEMPTION_TIMER) &&
	       (exitc(s) & VMX_EXIT_SAVE_VMX_PREEMPTION_TIMER_VALUE) &&
	       broken(f, IX_PRIMARY_VM_EXIT_CONTROLS, exitc(s));
}

VMCHECK_RULE(CTRL_EXIT_MSR_STORE_ADDRESS, "26.2.1.2", CONTROLS, exit_msr_store,
	     "with a VM-exit MSR-store count, the area must be 16-byte aligned and end inside the physical-address width");
static int exit_msr_store(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return msr_area_bad(s, V(VM_EXIT_MSR_STORE_ADDRESS), V(VM_EXIT_MSR_STORE_COUNT)) &&
	       broken(f, IX_VM_EXIT_MSR_STORE_ADDRESS, V(VM_EXIT_MSR_STORE_ADDRESS));
}

VMCHECK_RULE(CTRL_EXIT_MSR_LOAD_ADDRESS, "26.2.1.2", CONTROLS, exit_msr_load,
	     "with a VM-exit MSR-load count, the area must be 16-byte aligned and end inside the physical-address width");
static int exit_msr_load(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return msr_area_bad(s, V(VM_EXIT_MSR_LOAD_ADDRESS), V(VM_EXIT_MSR_LOAD_COUNT)) &&
	       broken(f, IX_VM_EXIT_MSR_LOAD_ADDRESS, V(VM_EXIT_MSR_LOAD_ADDRESS));
}

/* ------------------------------------------------------------------------ */
/* 26.2.1.3 VM-entry control fields                                          */
/* ------------------------------------------------------------------------ */

VMCHECK_RULE(CTRL_ENTRY_REQUIRED1, "26.2.1.3", CONTROLS, entry_allowed0,
	     "a VM-entry control that must be 1 (IA32_VMX_(TRUE_)ENTRY_CTLS bits 31:0) is 0");
static int entry_allowed0(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_1_clear(s, VMX_WORD_ENTRY, entry(s)) && broken(f, IX_VM_ENTRY_CONTROLS, entry(s));
}

VMCHECK_RULE(CTRL_ENTRY_REQUIRED0, "26.2.1.3", CONTROLS, entry_allowed1,
	     "a VM-entry control that must be 0 (IA32_VMX_(TRUE_)ENTRY_CTLS bits 63:32) is 1");
static int entry_allowed1(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return must_be_0_set(s, VMX_WORD_ENTRY, entry(s)) && broken(f, IX_VM_ENTRY_CONTROLS, entry(s));
}

VMCHECK_RULE(CTRL_ENTRY_SMM_OUTSIDE_SMM, "26.2.1.3", CONTROLS, entry_outside_smm,
	     "\"entry to SMM\" and \"deactivate dual-monitor treatment\" must be 0 outside SMM");
static int entry_outside_smm(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	/* This checker runs outside SMM, like every program of the kit. */
	return (entry(s) & (VMX_ENTRY_ENTRY_TO_SMM | VMX_ENTRY_DEACTIVATE_DUAL_MONITOR_TREATMENT)) &&
	       broken(f, IX_VM_ENTRY_CONTROLS, entry(s));
}

VMCHECK_RULE(CTRL_ENTRY_INTR_INFO_RESERVED, "26.2.1.3", CONTROLS, intr_reserved,
	     "a valid VM-entry interruption-information field must have bits 30:12 clear");
static int intr_reserved(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return injecting(s) && (intr(s) & VMX_BITS_MASK(VMX_INTR_INFO_ENTRY_RESERVED_30_12)) &&
	       broken(f, IX_VM_ENTRY_INTERRUPTION_INFORMATION, intr(s));
}

VMCHECK_RULE(CTRL_ENTRY_INTR_TYPE_VECTOR, "26.2.1.3", CONTROLS, intr_type_vector,
	     "injected event: type 1 is reserved, an NMI has vector 2, a hardware exception a vector 0-31, type 7 needs MTF and vector 0");
static int intr_type_vector(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 x = intr(s);
	int bad;

	if (!injecting(s))
		return 0;
	switch (INTR_TYPE(x)) {
	case VMX_INTR_TYPE_RESERVED:
		bad = 1;
		break;
	case VMX_INTR_TYPE_OTHER_EVENT:
		/* Only "pending MTF VM exit", vector 0; type 7 is reserved on a
		 * CPU that does not support the 1-setting of "monitor trap flag"
		 * (the capability, not the control: SDM 26.2.1.3). */
		bad = !(s->allowed[VMX_WORD_PROC].allowed1 & VMX_PROC_MONITOR_TRAP_FLAG) || INTR_VECTOR(x) != 0;
		break;
	case VMX_INTR_TYPE_NMI:
		bad = INTR_VECTOR(x) != 2;
		break;
	case VMX_INTR_TYPE_HARDWARE_EXCEPTION:
		bad = INTR_VECTOR(x) > 31;
		break;
	default:
		bad = 0;
	}
	return bad && broken(f, IX_VM_ENTRY_INTERRUPTION_INFORMATION, x);
}

VMCHECK_RULE(CTRL_ENTRY_INTR_ERROR_CODE_BIT, "26.2.1.3", CONTROLS, intr_error_code_bit,
	     "\"deliver error code\" must be 1 exactly for hardware exceptions 8, 10-14, 17 in protected mode (any hardware exception may have it if IA32_VMX_BASIC bit 56), 0 for other events");
static int intr_error_code_bit(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	vmcheck_u64 x = intr(s);
	unsigned int v = INTR_VECTOR(x);
	int protected_hw, pushes, bit = (x & INTR_DELIVER_ERROR) != 0;

	if (!injecting(s))
		return 0;
	/* #DF 8, #TS 10, #NP 11, #SS 12, #GP 13, #PF 14, #AC 17 push an error code. */
	protected_hw = (!unrestricted(s) || (V(GUEST_CR0) & CPU_CR0_PE)) &&
		       INTR_TYPE(x) == VMX_INTR_TYPE_HARDWARE_EXCEPTION;
	pushes = v == 8 || (v >= 10 && v <= 14) || v == 17;
	/* With IA32_VMX_BASIC bit 56, a hardware exception in protected mode
	 * may be delivered with or without an error code; otherwise the bit
	 * must be 1 exactly for the vectors above. Never for other events. */
	if (protected_hw && VMX_MSR_FIELD_GET(s->basic, IA32_VMX_BASIC_HW_EXCEPTION_ANY_ERROR_CODE))
		return 0;
	return bit != (protected_hw && pushes) && broken(f, IX_VM_ENTRY_INTERRUPTION_INFORMATION, x);
}

VMCHECK_RULE(CTRL_ENTRY_ERROR_CODE, "26.2.1.3", CONTROLS, intr_error_code,
	     "when an error code is delivered, bits 31:16 of the VM-entry exception error code must be 0");
/* Error codes are 16 bits: bits 31:16 must be 0. SDM editions before 2020
 * said "bits 31:15"; processors check 31:16 (an injected #GP with error
 * code 0x8000 enters; Linux KVM commit 567926cca99b, "KVM: nVMX: Fix
 * consistency check on injected exception error code", 2019). */
static int intr_error_code(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return injecting(s) && (intr(s) & INTR_DELIVER_ERROR) && (V(VM_ENTRY_EXCEPTION_ERROR_CODE) & BITS(31, 16)) &&
	       broken(f, IX_VM_ENTRY_EXCEPTION_ERROR_CODE, V(VM_ENTRY_EXCEPTION_ERROR_CODE));
}

VMCHECK_RULE(CTRL_ENTRY_INSTRUCTION_LENGTH, "26.2.1.3", CONTROLS, intr_length,
	     "a software interrupt/exception needs a VM-entry instruction length of 1-15 (0 only if IA32_VMX_MISC bit 30)");
static int intr_length(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	unsigned int t = INTR_TYPE(intr(s));
	vmcheck_u64 len = V(VM_ENTRY_INSTRUCTION_LENGTH);
	int zero_ok = MISC(ZERO_LENGTH_INSTRUCTION_INJECTION) != 0;

	if (!injecting(s) || (t != VMX_INTR_TYPE_SOFTWARE_INTERRUPT && t != VMX_INTR_TYPE_PRIVILEGED_SOFTWARE_EXCEPTION && t != VMX_INTR_TYPE_SOFTWARE_EXCEPTION))
		return 0;
	return (len > 15 || (len == 0 && !zero_ok)) && broken(f, IX_VM_ENTRY_INSTRUCTION_LENGTH, len);
}

VMCHECK_RULE(CTRL_ENTRY_MSR_LOAD_ADDRESS, "26.2.1.3", CONTROLS, entry_msr_load,
	     "with a VM-entry MSR-load count, the area must be 16-byte aligned and end inside the physical-address width");
static int entry_msr_load(const struct vmcheck_state *s, struct vmcheck_finding *f)
{
	return msr_area_bad(s, V(VM_ENTRY_MSR_LOAD_ADDRESS), V(VM_ENTRY_MSR_LOAD_COUNT)) &&
	       broken(f, IX_VM_ENTRY_MSR_LOAD_ADDRESS, V(VM_ENTRY_MSR_LOAD_ADDRESS));
}

/* The rules of 26.2.1, in the SDM's order: the order they run and print. */
static const struct vmcheck_rule *const controls_rules[] = {
	/* 26.2.1.1 */
	&rule_CTRL_PIN_REQUIRED1,
	&rule_CTRL_PIN_REQUIRED0,
	&rule_CTRL_PROC_REQUIRED1,
	&rule_CTRL_PROC_REQUIRED0,
	&rule_CTRL_PROC2_REQUIRED1,
	&rule_CTRL_PROC2_REQUIRED0,
	&rule_CTRL_CR3_TARGET_COUNT,
	&rule_CTRL_IO_BITMAP_ADDRESS,
	&rule_CTRL_MSR_BITMAP_ADDRESS,
	&rule_CTRL_VIRTUAL_APIC_ADDRESS,
	&rule_CTRL_TPR_THRESHOLD,
	&rule_CTRL_TPR_THRESHOLD_VTPR,
	&rule_CTRL_VIRTUAL_NMIS_WITHOUT_NMI_EXITING,
	&rule_CTRL_NMI_WINDOW_WITHOUT_VIRTUAL_NMIS,
	&rule_CTRL_APIC_ACCESS_ADDRESS,
	&rule_CTRL_X2APIC_MODE,
	&rule_CTRL_VPID_ZERO,
	&rule_CTRL_EPTP,
	&rule_CTRL_UNRESTRICTED_WITHOUT_EPT,
	/* 26.2.1.2 */
	&rule_CTRL_EXIT_REQUIRED1,
	&rule_CTRL_EXIT_REQUIRED0,
	&rule_CTRL_EXIT_SAVE_PREEMPTION_TIMER,
	&rule_CTRL_EXIT_MSR_STORE_ADDRESS,
	&rule_CTRL_EXIT_MSR_LOAD_ADDRESS,
	/* 26.2.1.3 */
	&rule_CTRL_ENTRY_REQUIRED1,
	&rule_CTRL_ENTRY_REQUIRED0,
	&rule_CTRL_ENTRY_SMM_OUTSIDE_SMM,
	&rule_CTRL_ENTRY_INTR_INFO_RESERVED,
	&rule_CTRL_ENTRY_INTR_TYPE_VECTOR,
	&rule_CTRL_ENTRY_INTR_ERROR_CODE_BIT,
	&rule_CTRL_ENTRY_ERROR_CODE,
	&rule_CTRL_ENTRY_INSTRUCTION_LENGTH,
	&rule_CTRL_ENTRY_MSR_LOAD_ADDRESS,
};
const struct vmcheck_rule_list vmcheck_controls = { controls_rules, VMX_ARRAY_SIZE(controls_rules) };
