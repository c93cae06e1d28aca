; mon_entry.asm - the monitor's first instruction: where the host side's
; world switch (host/host_switch.asm, mon_switch_to) lands.
;
; Runs in: the monitor, at MON_IMAGE_BASE (the linker script puts
; .text.mon_start first), on this vCPU's page tables (CR3) and monitor stack
; (RSP), with the host's GDT, IDT and TR still loaded: mon_main's first act
; is to load the monitor's own (mon_core.c, mon_cpu_init).
;
; IN: RDI = the vCPU's boot block (struct mon_boot, layout.h; identity-mapped)

bits 64
default rel

%include "cfi.inc"

extern mon_main

section .text.mon_start progbits alloc exec

global mon_start
mon_start:
        xor     ebp, ebp                ; the outermost frame: backtraces end here
        call    mon_main                ; never returns (mon_return goes back to the host)
.halt:  cli
        hlt
        jmp     .halt
mon_start_end:

; void mon_capture(struct mon_regs *r)   (layout.h; the core's NT_PRSTATUS)
; The caller's registers as they are at the call: RIP = the return address,
; RSP = the stack pointer after the return. RAX, RCX, RDX, RSI, RDI, R8-R11
; are the caller's at the call too (clobbered by nothing before they are
; stored).
R_R15 equ 0
R_RIP equ 128
R_CS  equ 136
R_RSP equ 152
global mon_capture
mon_capture:
        mov     [rdi + 80], rax
        mov     [rdi + R_R15], r15
        mov     [rdi + 8], r14
        mov     [rdi + 16], r13
        mov     [rdi + 24], r12
        mov     [rdi + 32], rbp
        mov     [rdi + 40], rbx
        mov     [rdi + 48], r11
        mov     [rdi + 56], r10
        mov     [rdi + 64], r9
        mov     [rdi + 72], r8
        mov     [rdi + 88], rcx
        mov     [rdi + 96], rdx
        mov     [rdi + 104], rsi
        mov     [rdi + 112], rdi
        mov     rax, [rsp]
        mov     [rdi + R_RIP], rax
        lea     rax, [rsp + 8]
        mov     [rdi + R_RSP], rax
        pushfq
        pop     qword [rdi + 144]
        xor     eax, eax
        mov     ax, cs
        mov     [rdi + R_CS], rax
        mov     ax, ss
        mov     [rdi + 160], rax
        mov     ax, ds
        mov     [rdi + 184], rax
        mov     ax, es
        mov     [rdi + 192], rax
        mov     ax, fs
        mov     [rdi + 200], rax
        mov     ax, gs
        mov     [rdi + 208], rax
        mov     rax, [rdi + 80]
        ret
global mon_capture_end
mon_capture_end:

; Call frame information (cfi.inc): mon_start is the outermost frame (no
; return address: a backtrace ends here).
CFI_CIE
CFI_FDE mon_start, mon_start_end
        CFI_UNDEFINED_RA
CFI_FDE_END
