; hv_vt_entry.asm - the lab05 monitor's world switch to a guest and back,
; built for the round trip: a VM exit is handled and the guest resumed
; without returning through the call that entered it.
;
; Runs in: the monitor (64-bit ring 0, VMX root operation), on the vCPU's
; monitor stack. SDM vol. 3C: chapter 26 (VM entries), 27 (VM exits).
;
; lab03 and lab04 use common/vmm/vmm_entry.asm: every VM exit returns from
; vmm_enter to C, which reads the exit information and calls vmm_enter
; again (one VMWRITE of HOST_RSP, seven pushes and pops, two calls per
; exit). A monitor takes thousands of exits per guest, so here the exit
; stub calls the handler and resumes the guest itself:
;
;   mon_vmentry(gprs, launched)   once per guest run: saves the host's
;        callee-saved registers, VMWRITEs HOST_RSP (this stack position) and
;        HOST_RIP (mon_vmexit), loads the guest's registers, VMLAUNCH or
;        VMRESUME. Returns 0 when the handler says the guest is done,
;        1 (VMfailInvalid) / 2 (VMfailValid) when VMLAUNCH or VMRESUME
;        fails, 3 when a VMWRITE of HOST_RSP or HOST_RIP fails.
;   mon_vmexit                    HOST_RIP: stores the guest's registers in
;        the struct vmm_gprs, calls mon_exit_handler(gprs) (hv_vt.c); if it
;        returns non-zero, loads the registers back and VMRESUMEs.
;
; The host stack while a guest runs (HOST_RSP points at the lowest slot,
; 16-byte aligned, so the handler is called with the ABI's alignment):
;   +48 rbp  +40 rbx  +32 r12  +24 r13  +16 r14  +8 r15  +0 struct vmm_gprs *

bits 64
default rel

%include "vmx_fields.inc"
%include "vmm_gprs.inc"
%include "cfi.inc"

extern mon_exit_handler

section .text


; int mon_vmentry(struct vmm_gprs *gprs, int launched)
global mon_vmentry
mon_vmentry:
        push    rbp
.p1:    push    rbx
.p2:    push    r12
.p3:    push    r13
.p4:    push    r14
.p5:    push    r15
.p6:    push    rdi                     ; [HOST_RSP]: the struct vmm_gprs
.p7:    mov     eax, VMCS_HOST_RSP
        vmwrite rax, rsp
        jbe     .failed
        mov     eax, VMCS_HOST_RIP
        lea     rdx, [mon_vmexit]
        vmwrite rax, rdx
        jbe     .failed
        test    esi, esi                ; launched? (the MOVs keep the flags)
        GPRS_LOAD
        jnz     .resume
        vmlaunch                        ; success continues at mon_vmexit
        jmp     .failed
.resume:
        vmresume
.failed:                                ; CF = 1 VMfailInvalid, ZF = 1 VMfailValid
        mov     eax, 1
        jc      .leave
        mov     eax, 2
        jmp     .leave
.vmwrite_failed:
        mov     eax, 3
.leave:
        add     rsp, 8
.q1:    pop     r15
.q2:    pop     r14
.q3:    pop     r13
.q4:    pop     r12
.q5:    pop     rbx
.q6:    pop     rbp
.q7:    ret
global mon_vmentry_end
mon_vmentry_end:

; HOST_RIP. RSP = HOST_RSP; every general register but RSP is the guest's.
global mon_vmexit
mon_vmexit:
        push    rdi
.pushed:
        mov     rdi, [rsp + 8]
        GPRS_STORE_BUT_RDI
        pop     qword [rdi + GPR_RDI]
.popped:
        call    mon_exit_handler        ; RDI = the struct vmm_gprs; RSP 16-byte aligned
        test    eax, eax
        jz      .done
        mov     rdi, [rsp]
        GPRS_LOAD
        vmresume
        jmp     mon_vmentry.failed      ; VMRESUME failed: report it as mon_vmentry's result
.done:
        xor     eax, eax
        jmp     mon_vmentry.leave
global mon_vmexit_end
mon_vmexit_end:

; Call frame information (cfi.inc), so that gdb unwinds a core's backtrace
; through these stubs. While a guest runs, and in mon_vmexit, the host
; stack is mon_vmentry's frame: CFA = HOST_RSP + 64, the return address
; (into run_guest) at CFA - 8, then rbp, rbx, r12 ... r15 as pushed; so a
; backtrace from the exit handler reads mon_vmexit <- run_guest.
CFI_CIE

CFI_FDE mon_vmentry, mon_vmentry_end
        CFI_ADVANCE mon_vmentry, mon_vmentry.p1
        CFI_CFA_OFFSET 16
        CFI_SAVED CFI_RBP, 16
        CFI_ADVANCE mon_vmentry.p1, mon_vmentry.p2
        CFI_CFA_OFFSET 24
        CFI_SAVED CFI_RBX, 24
        CFI_ADVANCE mon_vmentry.p2, mon_vmentry.p3
        CFI_CFA_OFFSET 32
        CFI_SAVED CFI_R12, 32
        CFI_ADVANCE mon_vmentry.p3, mon_vmentry.p4
        CFI_CFA_OFFSET 40
        CFI_SAVED CFI_R13, 40
        CFI_ADVANCE mon_vmentry.p4, mon_vmentry.p5
        CFI_CFA_OFFSET 48
        CFI_SAVED CFI_R14, 48
        CFI_ADVANCE mon_vmentry.p5, mon_vmentry.p6
        CFI_CFA_OFFSET 56
        CFI_SAVED CFI_R15, 56
        CFI_ADVANCE mon_vmentry.p6, mon_vmentry.p7
        CFI_CFA_OFFSET 64
        CFI_ADVANCE mon_vmentry.p7, mon_vmentry.q1
        CFI_CFA_OFFSET 56
        CFI_ADVANCE mon_vmentry.q1, mon_vmentry.q2
        CFI_CFA_OFFSET 48
        CFI_ADVANCE mon_vmentry.q2, mon_vmentry.q3
        CFI_CFA_OFFSET 40
        CFI_ADVANCE mon_vmentry.q3, mon_vmentry.q4
        CFI_CFA_OFFSET 32
        CFI_ADVANCE mon_vmentry.q4, mon_vmentry.q5
        CFI_CFA_OFFSET 24
        CFI_ADVANCE mon_vmentry.q5, mon_vmentry.q6
        CFI_CFA_OFFSET 16
        CFI_ADVANCE mon_vmentry.q6, mon_vmentry.q7
        CFI_CFA_OFFSET 8
CFI_FDE_END

CFI_FDE mon_vmexit, mon_vmexit_end
        CFI_CFA_OFFSET 64
        CFI_SAVED CFI_RBP, 16
        CFI_SAVED CFI_RBX, 24
        CFI_SAVED CFI_R12, 32
        CFI_SAVED CFI_R13, 40
        CFI_SAVED CFI_R14, 48
        CFI_SAVED CFI_R15, 56
        CFI_ADVANCE mon_vmexit, mon_vmexit.pushed
        CFI_CFA_OFFSET 72
        CFI_ADVANCE mon_vmexit.pushed, mon_vmexit.popped
        CFI_CFA_OFFSET 64
CFI_FDE_END

section .note.GNU-stack noalloc noexec nowrite progbits
