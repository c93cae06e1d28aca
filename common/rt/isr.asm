; isr.asm - the entry stubs of the 32 exception vectors (64-bit mode).
;
; Runs in: 64-bit long mode; the CPU enters a stub through the IDT built by
; exception.c, on the IST1 stack (SDM Vol. 3A "Interrupt Stack Table"), with
; this frame:
;
;   [rsp+32] SS   [rsp+24] RSP   [rsp+16] RFLAGS   [rsp+8] CS   [rsp] RIP
;   and, for vectors 8, 10-14, 17, 21, 29, 30 only, an error code below RIP.
;
; Each stub makes the frame uniform (a 0 error code where the CPU pushes
; none), pushes its vector, and jumps to isr_common, which saves the general
; registers as struct rt_exception_frame (rt_internal.h) and calls
; rt_exception(frame).  Exceptions are reports, not recoveries: nothing
; returns from here.

bits 64
default rel

extern rt_exception
global rt_isr_table

EXCEPTION_VECTORS equ 32

section .text

%macro ISR_STUB 1
isr_stub_%1:
%if (%1 == 8) || (%1 >= 10 && %1 <= 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
%else
        push    0                       ; no error code from the CPU
%endif
        push    %1                      ; vector
        jmp     isr_common
%endmacro

%assign vector 0
%rep EXCEPTION_VECTORS
        ISR_STUB vector
%assign vector vector + 1
%endrep

; isr_common: save the registers, call rt_exception(frame).
; IN: [rsp] = vector, [rsp+8] = error code, CPU frame above.
; OUT: does not return.  Clobbers: everything (the run ends).
isr_common:
        push    rax
        push    rbx
        push    rcx
        push    rdx
        push    rsi
        push    rdi
        push    rbp
        push    r8
        push    r9
        push    r10
        push    r11
        push    r12
        push    r13
        push    r14
        push    r15
        cld
        mov     rdi, rsp                ; struct rt_exception_frame *
        and     rsp, -16                ; the C ABI wants a 16-byte aligned call
        call    rt_exception
.halt:  cli
        hlt
        jmp     .halt

section .rodata
        align   8
rt_isr_table:
%assign vector 0
%rep EXCEPTION_VECTORS
        dq      isr_stub_ %+ vector
%assign vector vector + 1
%endrep
