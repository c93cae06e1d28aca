/*
 * lab03.h - what the four parts of lab03 tell each other.
 *
 *   vmxstep1.c  the guest component: guest-state variables, the guest code
 *   vmxstep2.c  the host component: host-state variables
 *   vmxstep3.c  the controls, and the machine[] loop that writes the VMCS
 *   vmxdemo.c   the run: VMXON, VMCS, self-test, launch, exits, VMXOFF
 *
 * Runs in: bare metal, 64-bit ring 0 (the kit's boot path, rt.h).
 * Shared pieces (machine[], struct vmcs_vars, the exit stub, exit and error
 * decoding) come from common/vmm/vmm.h.
 */
#ifndef LAB03_H
#define LAB03_H

#include "vmm/vmm.h"

/* The guest's hypercall: RAX = LAB03_HELLO on VMCALL; the host answers in
 * RAX with LAB03_ANSWER. These are lab03's own numbers, not VMX facts. */
#define LAB03_HELLO     0x1AB03ull
#define LAB03_ANSWER    0x600DF00Dull

/* vmxstep1.c: fill the GUEST_* variables of vmcs_vars. */
void guest_state_setup(void);

/* vmxstep2.c: fill the HOST_* variables of vmcs_vars. */
void host_state_setup(void);

/* vmxstep3.c: compute, print and store the control words (0, or -1 when a
 * required control is missing: the run must stop). */
int controls_setup(void);

/* vmxstep3.c: VMWRITE every machine[] variable into the current VMCS
 * (0, or -1 after explaining the failed VMWRITE). */
int machine_load(void);

/* vmxdemo.c: the VMXON sequence (0, or -1 after a line saying why);
 * vmxstep3.c: one control word from its capability MSR. Not static: the
 * lab05 monitor links them as its vmxbase module (vmxbase = lab03). */
int vmx_enter(void);
int adjust_control(unsigned word, vmx_u64 required, vmx_u64 optional, vmx_u64 *value,
		   struct vmm_control_caps *caps);

#endif /* LAB03_H */
