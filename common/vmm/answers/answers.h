/*
 * vmm/answers/answers.h - the kit's own answers to earlier labs' TODOs.
 *
 * Later labs stand on earlier ones: lab04's guest needs VMX operation, a
 * VMCS loaded by a machine[] loop and adjusted control words, whatever the
 * student's lab03 does (and lab05, to come, will need them too). So the kit
 * has its own versions of that work in this folder: lab04, tests/vmentry
 * and the vmm test (common/vmm/test) link it; a lab03 image never does.
 * Each file says which lab it ANSWERS; a lab's grading copy of the kit
 * leaves out the answers to that lab's own TODOs (tests/grade/labNN.py,
 * kit_answers=...), so a grade comes from the student's code alone: a
 * submission that calls them, or #includes their source, does not build
 * there. The student handout keeps them (lab04 needs them); lab03's README
 * asks students not to read them before finishing lab03.
 *
 * Runs in: bare metal, 64-bit ring 0 (the kit's runtime, rt.h).
 */
#ifndef VMM_ANSWERS_H
#define VMM_ANSWERS_H

#include "../vmm.h"

/* --- Control words from capabilities (answers/controls.c; lab03) ---------- */

/*
 * What the CPU allows for control word `word` (enum vmx_control_word):
 * a bit set in allowed0 must be 1, a bit clear in allowed1 must be 0
 * (struct vmm_control_caps, vmm.h). A word the CPU lacks gets available 0,
 * bounds 0, and its MSR is not read; a 64-bit word (PROC3) has allowed0 0
 * and allowed1 = the whole MSR.
 */
void vmm_control_caps(unsigned word, struct vmm_control_caps *caps);

/*
 * The control value for `word`: every bit the CPU requires (allowed0), plus
 * `required` and whichever `optional` bits the CPU allows. If a `required`
 * bit is not allowed, prints for each such bit
 *   control PROC2: required bit 17 ENABLE_PML is not allowed by IA32_VMX_PROCBASED_CTLS2 = 0x... (allowed-1 0x...)
 * (the MSR value in 16 hex digits, allowed-1 in 8), or, when the CPU has no
 * such word at all,
 *   control PROC2: required bit 17 ENABLE_PML, but this CPU has no PROC2 word (IA32_VMX_PROCBASED_CTLS2)
 * and returns -1; otherwise stores the value in *value and returns 0.
 */
int vmm_control_adjust(unsigned word, vmx_u64 required, vmx_u64 optional, vmx_u64 *value);

/* One line: `control PIN: 0x00000016 allowed-0 0x00000016 allowed-1 0x0000007f IA32_VMX_TRUE_PINBASED_CTLS`,
 * or for a word the CPU lacks `control PROC2: not available on this CPU (IA32_VMX_PROCBASED_CTLS2 absent)`. */
void vmm_control_print(unsigned word, vmx_u64 value);

/* --- The machine[] loop (answers/machine_load.c; lab03) ------------------- */

/*
 * VMWRITE every writable machine[] component (all but the read-only VM-exit
 * information) into the current VMCS. A component the CPU lacks
 * (VMfailValid, error 12) is skipped when its variable is 0 and is an error
 * otherwise. Prints
 * `machine[] load: N fields written, M not supported by this CPU (all zero)`
 * and returns 0, or prints `machine[] load: NAME = 0x... refused` and
 * vmm_explain_status's line and returns -1.
 */
int vmm_machine_load(void);

/* --- VMX operation (answers/vmxon.c; lab03) ------------------------------- */

/*
 * Enter VMX operation (SDM 23.7, 23.8): check CPUID.1:ECX.VMX, check
 * IA32_FEATURE_CONTROL (and set it only when it is unlocked), adjust CR0 and
 * CR4 to the fixed-bit MSRs (CR4.VMXE included), allocate the VMXON region
 * with the revision id of IA32_VMX_BASIC (vmm_vmcs_alloc), execute VMXON.
 * Prints `IA32_FEATURE_CONTROL: 0x...` and `VMXON: ok (revision id 0x...)`.
 * Returns 0, or -1 after a line saying what failed.
 */
int vmm_vmxon(void);

#endif /* VMM_ANSWERS_H */
