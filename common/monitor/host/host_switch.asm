; host_switch.asm - the world switch between the host side and the monitor:
; the kit's counterpart of VMware's SwitchToVMM ("Monitor Composition").
;
; Runs in: the host side (low memory, identity-mapped in the host's page
; tables AND in every vCPU's monitor page tables, so these instructions stay
; valid across the CR3 load). 64-bit ring 0.
;
;   mon_switch_to(b)         save the host's callee-saved registers, RSP,
;                            CR3, GDTR, IDTR, TR in *b; load the monitor's
;                            CR3 and stack; jump to b->mon_entry(b)
;   mon_switch_back(b, r)    the monitor calls it (through b->switch_back)
;                            to come back: restore the host's CR3, GDT, IDT,
;                            TR, registers; mon_switch_to returns r
;
; struct mon_boot (common/monitor/layout.h): the offsets below; host.c
; checks them with _Static_assert.

bits 64
default rel

B_MON_CR3       equ 8
B_MON_RSP       equ 16
B_MON_ENTRY     equ 24
B_RESULT        equ 96
B_HOST_RSP      equ 104
B_HOST_CR3      equ 112
B_HOST_GDTR     equ 120
B_HOST_IDTR     equ 130
B_HOST_TR       equ 140
DATA_SEL        equ 0x10
DESC_TYPE_BUSY  equ 0x02                ; type bit 1 of a TSS descriptor (byte 5)

section .text

; uint64_t mon_switch_to(struct mon_boot *b)
global mon_switch_to
mon_switch_to:
        push    rbp
        push    rbx
        push    r12
        push    r13
        push    r14
        push    r15
        mov     [rdi + B_HOST_RSP], rsp
        mov     rax, cr3
        mov     [rdi + B_HOST_CR3], rax
        sgdt    [rdi + B_HOST_GDTR]
        sidt    [rdi + B_HOST_IDTR]
        str     ax
        mov     [rdi + B_HOST_TR], ax
        mov     rax, [rdi + B_MON_CR3]
        mov     rcx, [rdi + B_MON_RSP]
        mov     rdx, [rdi + B_MON_ENTRY]
        mov     cr3, rax                ; the monitor's address space
        mov     rsp, rcx
        push    0                       ; no return address: RSP = 16n + 8 at entry
        jmp     rdx                     ; mon_start(b)

; void mon_switch_back(struct mon_boot *b, uint64_t result)
global mon_switch_back
mon_switch_back:
        mov     [rdi + B_RESULT], rsi
        mov     rax, [rdi + B_HOST_CR3]
        mov     cr3, rax                ; the host's address space
        lgdt    [rdi + B_HOST_GDTR]
        lidt    [rdi + B_HOST_IDTR]
        movzx   eax, word [rdi + B_HOST_TR]
        mov     rdx, [rdi + B_HOST_GDTR + 2]
        and     byte [rdx + rax + 5], ~DESC_TYPE_BUSY & 0xFF  ; LTR wants an available TSS
        ltr     ax
        mov     ax, DATA_SEL
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     rsp, [rdi + B_HOST_RSP]
        pop     r15
        pop     r14
        pop     r13
        pop     r12
        pop     rbx
        pop     rbp
        mov     rax, rsi
        ret
