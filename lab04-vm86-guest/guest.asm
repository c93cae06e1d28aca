; guest.asm - the lab04 guest: 16-bit real-mode code that runs as a
; virtual-8086 task inside a VMX guest.
;
; Runs in: virtual-8086 mode (RFLAGS.VM = 1), CPL 3, in VMX non-root
; operation.  The host (vm86demo.c) copies the bytes between guest_image_start
; and guest_image_end to the start of the guest's code segment and enters the
; guest at offset 0 with CS = DS = SS = GUEST_SEGMENT (vm86_guest.c).  Every
; address below is an offset from guest_image_start, so the code runs
; wherever the host puts it: a real-mode program only knows segment:offset.
; SDM vol. 3B chapter 20 (8086 emulation, virtual-8086 mode), vol. 3C 25.1-25.3
; (which instructions cause VM exits, and how CR0 reads see the read shadow).
;
; What it does, in order:
;   1. prints a banner through the serial UART (COM1), by polling the line
;      status register and writing the transmit register, as a BIOS-less
;      real-mode program would;
;   2. executes `smsw eax` and prints the value it saw: the CR0 guest/host
;      mask and the CR0 read shadow decide that value (SDM 25.3), and SMSW
;      never causes a VM exit (SDM 25.1.3 lists what does);
;   3. reads the BIOS timer tick count at 0040:006C, a real-mode address
;      (segment 0x40 means linear 0x400 only in real and virtual-8086 mode;
;      in protected mode 0x40 would be a GDT selector), and prints it;
;   4. optionally (ECX != 0 at entry, a benchmark knob) reads the UART line
;      status register ECX times between two RDTSCs and prints the TSC delta;
;   5. ends with HLT.  HLT is privileged: at CPL 3 it raises #GP(0) before
;      any VM exit could happen (SDM 25.1.1: privilege checks come first).
;      The host puts #GP in the exception bitmap, so the #GP becomes a VM exit
;      (reason EXCEPTION_OR_NMI, vector 13); the host recognises the address
;      of this HLT and reports "guest: done".  This is how the original demo
;      ended too, and it shows an exception exit in every run.  Why not
;      VMCALL: it would work as well (VMCALL exits unconditionally in VMX
;      non-root operation), but HLT is what a real-mode program does when it
;      has nothing left to do, and its #GP is a fault the student can steer
;      with EXCEPTION_BITMAP (README exercise 4).
;
; Output lines (one item per line, `NAME: value`):
;   guest: hello from virtual-8086 mode
;   guest smsw: 0x........
;   guest bios ticks: 0x........
;   guest io burst: N reads, tsc delta 0x........     (step 4 only)

bits 16

; --- Named constants ---------------------------------------------------------

; The serial port (a 16550 UART): COM1_BASE, UART_THR (transmit holding
; register, write), UART_LSR (line status register, read) and UART_LSR_THRE
; (THR empty: room for one more byte) come from the kit's platform list
; common/platform/uart.def, expanded by make into build/gen/uart.inc.
%include "uart.inc"
BDA_SEGMENT         equ 0x0040          ; BIOS data area, as a real-mode segment
BDA_TIMER_TICKS     equ 0x006C          ; dword: timer ticks since midnight (18.2 Hz)

global guest_image_start, guest_image_end, guest_final_hlt

; The guest is data to the 64-bit host (it is copied, never executed there).
section .rodata

guest_image_start:

; guest_entry: where the host starts the guest (offset 0 of the image).
; IN: CS = DS = SS = the guest segment, SP = top of the segment,
;     ECX = number of LSR reads to time (0: skip step 4).
; OUT: never returns; ends at guest_final_hlt.
guest_entry:
        cld
        mov     ebp, ecx                ; keep the burst count (step 4)

        ; Step 1: the banner.
        mov     si, msg_banner - guest_image_start
        call    puts

        ; Step 2: SMSW into a 32-bit register.  With a 32-bit register operand
        ; SMSW stores CR0 bits 31:0 (SDM vol. 2B, SMSW; on processors before
        ; the Pentium Pro bits 31:16 were undefined).
        smsw    eax
        push    eax                     ; puts clobbers AL
        mov     si, msg_smsw - guest_image_start
        call    puts
        pop     eax
        call    puthex32
        call    newline

        ; Step 3: the BIOS tick count through a real-mode segment.
        push    es
        mov     ax, BDA_SEGMENT
        mov     es, ax                  ; v8086: ES.base = 0x40 << 4 = 0x400
        mov     eax, [es:BDA_TIMER_TICKS]
        pop     es
        push    eax
        mov     si, msg_ticks - guest_image_start
        call    puts
        pop     eax
        call    puthex32
        call    newline

        ; Step 4 (benchmark knob): time EBP reads of the UART LSR.  Each IN
        ; is a VM exit when the host traps the port, and runs natively when
        ; the port is passed through; RDTSC works at CPL 3 while CR4.TSD = 0.
        test    ebp, ebp
        jz      .done
        rdtsc
        mov     ebx, eax                ; start (low 32 bits are enough)
        mov     ecx, ebp
        mov     dx, COM1_BASE + UART_LSR
.burst: in      al, dx
        dec     ecx
        jnz     .burst
        rdtsc
        sub     eax, ebx
        push    eax
        mov     si, msg_burst - guest_image_start
        call    puts
        mov     eax, ebp
        call    putdec32
        mov     si, msg_burst_mid - guest_image_start
        call    puts
        pop     eax
        call    puthex32
        call    newline

.done:
        ; Step 5: the end.  HLT at CPL 3 raises #GP(0); see the file header.
guest_final_hlt:
        hlt
        jmp     guest_final_hlt         ; never reached unless the host resumes

; --- Serial output (polled UART) ---------------------------------------------

; putc: send one byte on COM1, waiting until the UART has room.
; IN: AL = byte.  OUT: nothing.  Clobbers: DX.
putc:
        push    ax
        mov     dx, COM1_BASE + UART_LSR
.wait:  in      al, dx
        test    al, UART_LSR_THRE
        jz      .wait
        pop     ax
        mov     dx, COM1_BASE + UART_THR
        out     dx, al
        ret

; puts: send a zero-terminated string.
; IN: DS:SI = string.  OUT: SI past the terminator.  Clobbers: AL, DX.
puts:
        lodsb
        test    al, al
        jz      .end
        call    putc
        jmp     puts
.end:   ret

; newline: send "\n".  IN: nothing.  OUT: nothing.  Clobbers: AL, DX.
newline:
        mov     al, 10
        jmp     putc

; puthex32: send "0x" and 8 lower-case hex digits.
; IN: EAX = value.  OUT: nothing.  Clobbers: EAX, CX, DX, EDI.
puthex32:
        mov     edi, eax
        mov     al, '0'
        call    putc
        mov     al, 'x'
        call    putc
        mov     cx, 8
.digit: rol     edi, 4
        mov     ax, di
        and     al, 0x0F
        add     al, '0'
        cmp     al, '9'
        jbe     .out
        add     al, 'a' - '9' - 1
.out:   call    putc
        loop    .digit
        ret

; putdec32: send EAX in decimal.
; IN: EAX = value.  OUT: nothing.  Clobbers: EAX, CX, EDX, EDI.
putdec32:
        mov     edi, 10
        xor     cx, cx
.div:   xor     edx, edx
        div     edi                     ; EAX = quotient, EDX = next digit
        push    dx
        inc     cx
        test    eax, eax
        jnz     .div
.emit:  pop     ax
        add     al, '0'
        call    putc
        loop    .emit
        ret

; --- Messages ----------------------------------------------------------------

msg_banner:     db "guest: hello from virtual-8086 mode", 10, 0
msg_smsw:       db "guest smsw: ", 0
msg_ticks:      db "guest bios ticks: ", 0
msg_burst:      db "guest io burst: ", 0
msg_burst_mid:  db " reads, tsc delta ", 0

guest_image_end:

section .note.GNU-stack noalloc noexec nowrite progbits
