/*
 * vmx/capsplit.h - a control word's allowed settings, split out of its
 * capability MSR (Intel SDM vol. 3D appendix A.3-A.5).
 *
 * Where it runs: host, Linux kernel, bare metal (pure functions of MSR
 * values: no RDMSR here).
 *
 * Each 32-bit control word's capability MSR holds two halves (SDM A.3.1):
 *
 *    63                              32 31                               0
 *   +----------------------------------+----------------------------------+
 *   | allowed 1-settings               | allowed 0-settings               |
 *   | a 0 here: the control must be 0  | a 1 here: the control must be 1  |
 *   +----------------------------------+----------------------------------+
 *
 * so a legal value has, bit by bit, allowed0 <= value <= allowed1. A word
 * held in a 64-bit field (PROC3 tertiary, EXIT2 secondary VM-exit controls)
 * has a capability MSR of allowed 1-settings only, all 64 bits (A.3.4,
 * A.4.2): no control of it must be 1.
 *
 * This header is the kit's answer to part of lab03 (vmxstep3.c,
 * adjust_control, which splits the MSR itself): lab03's grading copy of the
 * kit leaves it out (tests/grade/lab03.py, kit_answers), together with
 * common/vmcheck/, its user in a lab03 image. Other users: vmx/decode.h,
 * common/vmm/answers/controls.c.
 */
#ifndef VMX_CAPSPLIT_H
#define VMX_CAPSPLIT_H

#include "types.h"
#include "controls.h"

/* What a capability MSR allows for one control word (SDM A.3.1). */
struct vmx_allowed_settings {
	vmx_u64 allowed0;       /* a 1: the control must be 1 */
	vmx_u64 allowed1;       /* a 0: the control must be 0 */
};

/* The allowed settings of control word `word` (enum vmx_control_word) from
 * `cap`, the value of its capability MSR (or of its TRUE MSR). */
static inline struct vmx_allowed_settings vmx_control_split(unsigned word, vmx_u64 cap)
{
	struct vmx_allowed_settings a;

	if (vmx_control_word_is_64bit(word)) {
		a.allowed0 = 0;
		a.allowed1 = cap;
	} else {
		a.allowed0 = cap & 0xFFFFFFFFull;
		a.allowed1 = cap >> 32;
	}
	return a;
}

#endif /* VMX_CAPSPLIT_H */
