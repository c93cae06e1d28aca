; launch.asm - VMLAUNCH for the differential test, and the guest it runs.
;
; Runs in: 64-bit long mode, VMX root operation, CPL 0 (tests/vmentry).
; SDM vol. 3C: 26 (VM entries), 27.5 (loading host state on a VM exit).
;
; Why assembly: after a VM exit the CPU continues at HOST_RIP with
; RSP = HOST_RSP and the guest's general registers, so the exit must land
; where the stack and the callee-saved registers of the C caller can be
; restored. Every test case needs one entry attempt and at most one exit,
; so this is the simplest form: no guest registers are loaded or saved.

bits 64
default rel

section .text

; int vmentry_launch(uint64_t host_rsp_field)
; IN:  RDI = encoding of HOST_RSP (passed in by the C caller from
;      common/vmx/vmcs_fields.def: no encoding typed here). HOST_RIP must
;      already be vmentry_exited (the C caller writes it, so that the checker
;      sees it and a test case may break it)
; OUT: EAX = 0 a VM exit came back (the guest ran, or the entry failed after
;      the guest-state checks: see VM_EXIT_REASON bit 31),
;      1 VMfailInvalid (CF = 1), 2 VMfailValid (ZF = 1; VM_INSTRUCTION_ERROR)
; Clobbers: RAX RCX RDX RSI RDI R8-R11, RFLAGS
global vmentry_launch
vmentry_launch:
        push    rbp
        push    rbx
        push    r12
        push    r13
        push    r14
        push    r15
        vmwrite rdi, rsp                ; HOST_RSP = this stack position
        jbe     .failed
        vmlaunch                        ; success continues at vmentry_exited
.failed:
        mov     eax, 1                  ; VMfailInvalid
        jc      launch_restore
        mov     eax, 2                  ; VMfailValid
        jmp     launch_restore
global vmentry_exited
vmentry_exited:                         ; HOST_RIP
        xor     eax, eax                ; RSP = HOST_RSP: the pushes above
launch_restore:
        pop     r15
        pop     r14
        pop     r13
        pop     r12
        pop     rbx
        pop     rbp
        ret

; vmentry_guest64 - the 64-bit guest: VMCALL exits (reason VMCALL, 18).
; IN: nothing (runs with the host's page tables and GDT). OUT: never returns.
global vmentry_guest64
vmentry_guest64:
        vmcall
        hlt
        jmp     vmentry_guest64

section .note.GNU-stack noalloc noexec nowrite progbits
