; vmm_entry.asm - enter a guest (VMLAUNCH/VMRESUME) and come back on its VM exit.
;
; Runs in: 64-bit long mode, VMX root operation, CPL 0 (the bare-metal host of
; lab03, lab04 and lab05). SDM vol. 3C: chapter 26 (VM entries), 27 (VM exits).
;
; Why assembly: a VM exit does not return to the instruction after VMLAUNCH.
; The CPU loads the host state from the VMCS and jumps to HOST_RIP with
; RSP = HOST_RSP, and it saves none of the guest's general registers (only
; RSP, RIP and RFLAGS are in the VMCS). C cannot say "continue here with this
; stack and save every register first", so this file does two things:
;
;   vmm_enter        saves the host's callee-saved registers on its stack,
;                    VMWRITEs HOST_RSP = that stack position, loads the guest's
;                    registers from a struct vmm_gprs and executes VMLAUNCH or
;                    VMRESUME. If the instruction fails it returns at once.
;   vmm_exit_entry   HOST_RIP. Stores the guest's registers into the same
;                    struct vmm_gprs, restores the host's registers and
;                    returns from vmm_enter as if it were an ordinary call.
;
; The host stack between the two (HOST_RSP points at the lowest slot):
;
;   +48  rbp  \
;   +40  rbx   |
;   +32  r12   |  the host's callee-saved registers (System V AMD64 ABI)
;   +24  r13   |
;   +16  r14   |
;    +8  r15  /
;    +0  pointer to the struct vmm_gprs        <- HOST_RSP
;
; struct vmm_gprs (common/vmm/vmm.h) holds the 16 registers in the order of
; their x86 register numbers (RAX=0 ... R15=15), so an exit qualification that
; names "register n" (SDM 27.2.1, table "Exit Qualification for
; Control-Register Accesses") indexes it directly.
; Slot 4 (RSP) is not touched here: the guest's RSP lives in the VMCS.

bits 64
default rel

; VMCS_HOST_RSP, the encoding VMWRITE needs: from the field list
; common/vmx/vmcs_fields.def, which mk/facts.mk expands into
; build/gen/vmx_fields.inc (`%define VMCS_<FIELD> encoding`, the C names).
%include "vmx_fields.inc"

%include "vmm_gprs.inc"              ; GPR_RAX ... GPR_R15: struct vmm_gprs offsets

; Return values of vmm_enter (vmm.h: VMM_ENTER_*).
ENTER_EXITED        equ 0               ; the guest ran and a VM exit came back
ENTER_FAIL_INVALID  equ 1               ; VMfailInvalid: CF = 1 (no current VMCS)
ENTER_FAIL_VALID    equ 2               ; VMfailValid: ZF = 1 (error in the VMCS)

section .text

; int vmm_enter(struct vmm_gprs *gprs, int resume)
; IN:  RDI = guest registers to load (and to fill on the VM exit)
;      ESI = 0: VMLAUNCH (VMCS launch state "clear"), else VMRESUME
; OUT: EAX = ENTER_EXITED after a VM exit (the guest's registers are in *gprs),
;            ENTER_FAIL_INVALID or ENTER_FAIL_VALID if the instruction failed
;            (then the guest never ran and *gprs is unchanged)
; Clobbers: RAX RCX RDX RSI RDI R8-R11, RFLAGS (the caller-saved set)
global vmm_enter
vmm_enter:
        push    rbp
        push    rbx
        push    r12
        push    r13
        push    r14
        push    r15
        push    rdi                     ; the struct vmm_gprs, found again at [HOST_RSP]

        mov     eax, VMCS_HOST_RSP
        vmwrite rax, rsp                ; HOST_RSP = this very stack position
        jbe     .host_rsp_failed        ; CF or ZF set: VMfailInvalid/VMfailValid

        test    esi, esi                ; ZF = 1 means VMLAUNCH; the MOVs below keep flags
        GPRS_LOAD                       ; vmm_gprs.inc: 15 MOVs, RDI last
        jnz     .resume
        vmlaunch                        ; on success, execution continues at vmm_exit_entry
        jmp     .entry_failed
.resume:
        vmresume                        ; likewise
.entry_failed:
        ; The instruction failed: the guest never ran. RFLAGS says how
        ; (SDM 30.2 "Conventions": CF = 1 VMfailInvalid, ZF = 1 VMfailValid).
        mov     eax, ENTER_FAIL_INVALID
        jc      .restore
        mov     eax, ENTER_FAIL_VALID
        jmp     .restore

.host_rsp_failed:
        mov     eax, ENTER_FAIL_INVALID
        jc      .restore
        mov     eax, ENTER_FAIL_VALID
.restore:
        add     rsp, 8                  ; drop the struct pointer
        pop     r15
        pop     r14
        pop     r13
        pop     r12
        pop     rbx
        pop     rbp
        ret

; vmm_exit_entry - HOST_RIP: where every VM exit lands.
; IN:  RSP = HOST_RSP (the stack vmm_enter left, see the map above);
;      every general register still holds the guest's value;
;      RFLAGS = 0x2, interrupts off (SDM 27.5.3: RFLAGS is cleared on exit)
; OUT: returns from vmm_enter with EAX = ENTER_EXITED
; Clobbers: as vmm_enter
global vmm_exit_entry
; slide: exit-entry
vmm_exit_entry:
        push    rdi                     ; free one register: the guest's RDI
        mov     rdi, [rsp + 8]          ; the struct vmm_gprs
        GPRS_STORE_BUT_RDI              ; vmm_gprs.inc: 14 MOVs
        pop     rax                     ; the guest's RDI
        mov     [rdi + GPR_RDI], rax
        cld                             ; the C ABI expects DF = 0 (the exit cleared it anyway)
        mov     eax, ENTER_EXITED
        jmp     vmm_enter.restore       ; the one epilogue: returns to vmm_enter's caller
; end slide

section .note.GNU-stack noalloc noexec nowrite progbits
