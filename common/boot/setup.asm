; setup.asm - from real mode to 64-bit long mode, then into the C runtime.
;
; Runs in: 16-bit real mode at BOOT_LOAD_ADDRESS (0x8000), jumped to by the
; boot sector (bootsect.asm); switches to 32-bit protected mode, places the
; payload, builds the page tables, switches to 64-bit long mode and calls
; rt_start() (common/rt/start.c) on the boot stack.  Never returns.
; SDM Vol. 3A, "Mode Switching" and "Initializing IA-32e Mode"; the formats
; are in "Segment Descriptors", "Task Management in 64-Bit Mode" and "Paging".  The memory map is in common/boot/payload.ld; the
; numbers (BOOT_HIGH_PHYS, ...) are linker symbols defined there.
;
; The GDT (boot_gdt below; selectors are byte offsets into it):
;
;   selector  descriptor
;   0x00      null
;   0x08      CODE64   64-bit code, DPL 0 (L=1)          CS in long mode
;   0x10      DATA     read/write data, flat 4 GiB       DS ES FS GS SS
;   0x18      CODE32   32-bit code, flat 4 GiB           CS in steps 2-6 only
;   0x20      TSS64    64-bit available TSS (16 bytes)   TR (the VMCS host TR
;                      base = boot_tss, limit 103           selector must be
;                                                           non-zero)
;
; Page tables (in .bss, 4 KiB aligned, zeroed in step 4, built in step 5):
;
;   CR3 -> boot_pml4 [0]   -> boot_pdpt_low [0..3] -> boot_pd_low (4 pages,
;                                                     2048 x 2 MiB = 4 GiB,
;                                                     VA = PA)
;          boot_pml4 [511] -> boot_pdpt_high [511] -> boot_pd_high [480..511]
;                                                     32 x 2 MiB: VA
;                                                     0xFFFFFFFFFC000000.. ->
;                                                     PA BOOT_HIGH_PHYS..

; --- Named constants (SDM Vol. 3A; section names beside each group) ----------

; Segment descriptor bits (in the 64-bit descriptor as a whole)
DESC_ACCESSED       equ 1 << 40         ; set now so the CPU never writes the GDT
DESC_RW             equ 1 << 41         ; data: writable; code: readable
DESC_CODE           equ 1 << 43         ; executable segment
DESC_S              equ 1 << 44         ; code/data (0 = system descriptor)
DESC_P              equ 1 << 47         ; present
DESC_L              equ 1 << 53         ; 64-bit code segment
DESC_DB             equ 1 << 54         ; 32-bit default operand size
DESC_G              equ 1 << 55         ; limit in 4 KiB units
DESC_LIMIT_4G       equ 0x000F00000000FFFF  ; limit 0xFFFFF (with G: 4 GiB)
DESC_TYPE_TSS64     equ 0x9 << 40       ; system type: 64-bit TSS (available)

; Selectors
CODE64_SEL          equ 0x08
DATA_SEL            equ 0x10
CODE32_SEL          equ 0x18
TSS_SEL             equ 0x20

; 64-bit TSS (SDM Vol. 3A "Task Management in 64-Bit Mode", figure "64-Bit TSS Format")
TSS_RSP0            equ 4
TSS_IST1            equ 36
TSS_IOMAP_BASE      equ 102
TSS_SIZE            equ 104

; 32-bit interrupt gate (SDM Vol. 3A "IDT Descriptors"), used only in steps 3-6
GATE32_INTERRUPT    equ 0x8E            ; present, DPL 0, 32-bit interrupt gate
IDT32_VECTORS       equ 32

; Paging-structure entry bits (SDM Vol. 3A "4-Level Paging and 5-Level Paging")
PTE_P               equ 1 << 0          ; present
PTE_RW              equ 1 << 1          ; writable
PTE_PS              equ 1 << 7          ; in a PD entry: maps a 2 MiB page
PTE_TABLE           equ PTE_P | PTE_RW
PTE_LARGE           equ PTE_P | PTE_RW | PTE_PS
LOW_LARGE_PAGES     equ 2048            ; 2048 x 2 MiB = the first 4 GiB
LARGE_PAGE          equ 0x200000
PAGE_SIZE           equ 4096

; Control registers and EFER (SDM Vol. 3A "Control Registers", "Extended
; Feature Enable Register").  The bit names come
; from the fact list common/vmx/cpu_bits.def, expanded by mk/facts.mk into
; build/gen/cpu_bits.inc: CPU_CR0_PE, CPU_CR4_PAE, CPU_EFER_LME, ...
%include "cpu_bits.inc"
CR0_LONG_MODE       equ CPU_CR0_PE | CPU_CR0_MP | CPU_CR0_ET | CPU_CR0_NE \
                        | CPU_CR0_WP | CPU_CR0_PG
                                        ; CD and NW clear: caches on (a VMX
                                        ; guest inherits CD/NW from the host);
                                        ; NE set: VMX requires it (CR0_FIXED0)
MSR_EFER            equ 0xC0000080
CPUID_EXT_MAX       equ 0x80000000
CPUID_EXT_FEATURES  equ 0x80000001
CPUID_EXT_EDX_LM    equ 1 << 29         ; long mode supported

; Hardware ports
PORT_A20_FAST       equ 0x92            ; "system control port A"
A20_FAST_ENABLE     equ 1 << 1
A20_FAST_RESET      equ 1 << 0          ; never write 1: resets the machine
BIOS_A20_ENABLE     equ 0x2401          ; int 15h AX=2401h: enable A20 gate
A20_TEST_LOW        equ 0x000500        ; these two alias when A20 is off
A20_TEST_HIGH       equ 0x100500
A20_TEST_VALUE      equ 0x0A20A20A
EXIT_BOOT_FAILURE   equ 0x7F            ; the byte for QEMU's exit port
REAL_MODE_STACK     equ 0x7C00          ; grows down below the boot sector

; The UART at COM1 (COM1_BASE, UART_LSR, UART_LSR_THRE, ...) and the ports
; that end an emulator run (PORT_QEMU_EXIT, PORT_BOCHS_SHUTDOWN,
; BOCHS_SHUTDOWN_TEXT): the platform lists common/platform/uart.def and
; emu_exit.def, expanded by mk/facts.mk into build/gen/.
%include "uart.inc"
%include "emu_exit.inc"

; Provided by payload.ld (absolute symbols)
extern BOOT_HIGH_PHYS, BOOT_HIGH_PML4_INDEX, BOOT_HIGH_PDPT_INDEX
extern BOOT_HIGH_PD_INDEX, BOOT_HIGH_LARGE_PAGES
extern __payload_lma, __payload_start, __payload_size
extern __bss_start, __bss_size
extern __high_lma, __high_size, __high_bss_offset, __high_bss_size
; Provided by the runtime (common/rt/start.c)
extern rt_start

global setup_start, boot_gdt, boot_tss, boot_pml4
global boot_stack_top, boot_exception_stack_top

section .setup progbits alloc exec write align=16

; ===========================================================================
; 16-bit real mode.  CS = DS = ES = SS = 0, so a label's address is its offset.
bits 16

setup_start:
        ; Step 1: real mode: flat segments, interrupts off, A20 on.
        cli
        xor     ax, ax
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     sp, REAL_MODE_STACK
        cld
        mov     ax, BIOS_A20_ENABLE     ; ask the BIOS first (may be unsupported)
        int     0x15
        in      al, PORT_A20_FAST       ; then the fast A20 gate; step 3 checks
        or      al, A20_FAST_ENABLE
        and     al, ~A20_FAST_RESET & 0xFF
        out     PORT_A20_FAST, al
        cli                             ; int 15h may have set IF again

        ; Step 2: 32-bit protected mode: load the GDT, set CR0.PE, far jump
        ; to reload CS with a 32-bit code segment.
        o32 lgdt [boot_gdt_pointer]
        mov     eax, cr0
        or      eax, CPU_CR0_PE
        mov     cr0, eax
        jmp     dword CODE32_SEL:protected_mode_entry

; ===========================================================================
; 32-bit protected mode, flat segments, paging off (VA = PA).
bits 32

protected_mode_entry:
        mov     ax, DATA_SEL
        mov     ds, ax
        mov     es, ax
        mov     fs, ax
        mov     gs, ax
        mov     ss, ax
        mov     esp, REAL_MODE_STACK

        ; Step 3: a voice and a safety net: COM1 for messages, a 32-bit IDT
        ; whose handlers report a fault here instead of a triple fault.
        call    serial32_init
        call    idt32_install
%ifdef BOOT_SELFTEST_FAULT32
        ud2                             ; tests/test_boot.py only: a #UD in setup
%endif
        call    check_a20
        call    check_long_mode

        ; Step 4: place the payload (payload.ld): .text/.rodata/.data to
        ; 1 MiB, zero .bss, .high to BOOT_HIGH_PHYS, zero .high.bss.
        mov     esi, __payload_lma
        mov     edi, __payload_start
        mov     ecx, __payload_size
        rep movsb
        mov     edi, __bss_start        ; also zeroes the page tables below
        mov     ecx, __bss_size
        xor     eax, eax
        rep stosb
        mov     esi, __high_lma
        mov     edi, BOOT_HIGH_PHYS
        mov     ecx, __high_size
        rep movsb
        mov     edi, BOOT_HIGH_PHYS
        add     edi, __high_bss_offset
        mov     ecx, __high_bss_size
        xor     eax, eax
        rep stosb

        ; Step 5: page tables, the TSS descriptor's base.
        call    build_page_tables
        mov     eax, boot_tss
        mov     [boot_gdt + TSS_SEL + 2], ax    ; base 15:0
        shr     eax, 16
        mov     [boot_gdt + TSS_SEL + 4], al    ; base 23:16
        mov     [boot_gdt + TSS_SEL + 7], ah    ; base 31:24 (63:32 stay 0)

        ; Step 6: long mode (SDM Vol. 3A "Initializing IA-32e Mode"): CR4.PAE, CR3, EFER.LME,
        ; then CR0.PG activates IA-32e mode; a far jump to a code segment
        ; with L=1 leaves compatibility mode for 64-bit mode.  From here until
        ; rt_start() installs the 64-bit IDT a fault would triple-fault: the
        ; window is the few instructions below and at long_mode_entry.
        mov     eax, cr4
        or      eax, CPU_CR4_PAE
        mov     cr4, eax
        mov     eax, boot_pml4
        mov     cr3, eax
        mov     ecx, MSR_EFER
        rdmsr
        or      eax, CPU_EFER_LME
        wrmsr
        mov     eax, CR0_LONG_MODE
        mov     cr0, eax
        jmp     CODE64_SEL:long_mode_entry

; build_page_tables: fill the (zeroed) tables drawn in the file header.
; IN: nothing.  OUT: boot_pml4 ready for CR3.  Clobbers: EAX, EBX, ECX, EDI.
build_page_tables:
        mov     dword [boot_pml4], boot_pdpt_low + PTE_TABLE
        mov     ebx, BOOT_HIGH_PML4_INDEX
        mov     dword [boot_pml4 + ebx * 8], boot_pdpt_high + PTE_TABLE
        ; identity map: 4 PDPT entries, each a PD of 512 large pages
        mov     edi, boot_pdpt_low
        mov     eax, boot_pd_low + PTE_TABLE
        mov     ecx, LOW_LARGE_PAGES / 512
.pdpt:  mov     [edi], eax
        add     eax, PAGE_SIZE
        add     edi, 8
        loop    .pdpt
        mov     edi, boot_pd_low
        mov     eax, PTE_LARGE          ; PA 0 (the high dword stays 0: < 4 GiB)
        mov     ecx, LOW_LARGE_PAGES
.low:   mov     [edi], eax
        add     eax, LARGE_PAGE
        add     edi, 8
        loop    .low
        ; the top 64 MiB -> BOOT_HIGH_PHYS
        mov     ebx, BOOT_HIGH_PDPT_INDEX
        mov     dword [boot_pdpt_high + ebx * 8], boot_pd_high + PTE_TABLE
        mov     ebx, BOOT_HIGH_PD_INDEX
        lea     edi, [boot_pd_high + ebx * 8]
        mov     eax, BOOT_HIGH_PHYS
        or      eax, PTE_LARGE
        mov     ecx, BOOT_HIGH_LARGE_PAGES
.high:  mov     [edi], eax
        add     eax, LARGE_PAGE
        add     edi, 8
        loop    .high
        ret

; check_a20: stop with a message unless A20 is on (0x100500 must not alias
; 0x000500).  IN: nothing.  OUT: returns only if A20 is on.  Clobbers: EAX, ESI.
check_a20:
        mov     dword [A20_TEST_LOW], 0
        mov     dword [A20_TEST_HIGH], A20_TEST_VALUE
        cmp     dword [A20_TEST_LOW], A20_TEST_VALUE
        jne     .on
        mov     esi, msg_no_a20
        jmp     boot_fail
.on:    ret

; check_long_mode: stop with a message unless CPUID says long mode exists.
; IN: nothing.  OUT: returns only on a 64-bit CPU.  Clobbers: EAX-EDX, ESI.
check_long_mode:
        mov     eax, CPUID_EXT_MAX
        cpuid
        cmp     eax, CPUID_EXT_FEATURES
        jb      .no
        mov     eax, CPUID_EXT_FEATURES
        cpuid
        test    edx, CPUID_EXT_EDX_LM
        jz      .no
        ret
.no:    mov     esi, msg_no_long_mode
        jmp     boot_fail

; boot_fail: print "boot: error: <message>" and end the emulator run.
; IN: ESI = zero-terminated message.  OUT: does not return.
boot_fail:
        push    esi
        mov     esi, msg_boot_error
        call    serial32_puts
        pop     esi
        call    serial32_puts
        mov     esi, msg_newline
        call    serial32_puts
        jmp     emu_exit32

; serial32_init: COM1 to 115200 baud, 8N1, FIFOs on (the C runtime does the
; same again; Bochs' reset default is 5-bit words).
; IN: nothing.  OUT: nothing.  Clobbers: EAX, EDX.
serial32_init:
        mov     dx, COM1_BASE + UART_IER
        xor     al, al
        out     dx, al                  ; no UART interrupts
        mov     dx, COM1_BASE + UART_LCR
        mov     al, UART_LCR_DLAB
        out     dx, al
        mov     dx, COM1_BASE + UART_DLL
        mov     al, UART_DIVISOR_115200 & 0xFF
        out     dx, al
        mov     dx, COM1_BASE + UART_DLM
        mov     al, UART_DIVISOR_115200 >> 8
        out     dx, al
        mov     dx, COM1_BASE + UART_LCR
        mov     al, UART_LCR_8N1
        out     dx, al
        mov     dx, COM1_BASE + UART_FCR
        mov     al, UART_FCR_ENABLE_CLEAR
        out     dx, al
        mov     dx, COM1_BASE + UART_MCR
        mov     al, UART_MCR_DTR_RTS_OUT2
        out     dx, al
        ret

; serial32_putc: send one byte on COM1, waiting for room first.
; IN: AL = byte.  OUT: nothing.  Clobbers: EDX.
serial32_putc:
        push    eax
        mov     dx, COM1_BASE + UART_LSR
.wait:  in      al, dx
        test    al, UART_LSR_THRE
        jz      .wait
        pop     eax
        mov     dx, COM1_BASE + UART_THR
        out     dx, al
        ret

; serial32_puts: send a zero-terminated string on COM1.
; IN: ESI = string.  OUT: ESI past the terminator.  Clobbers: EAX, EDX.
serial32_puts:
        lodsb
        test    al, al
        jz      .done
        call    serial32_putc
        jmp     serial32_puts
.done:  ret

; serial32_hex32: send "0x" and 8 hex digits on COM1.
; IN: EBX = value.  OUT: nothing.  Clobbers: EAX, ECX, EDX.
serial32_hex32:
        mov     al, '0'
        call    serial32_putc
        mov     al, 'x'
        call    serial32_putc
        mov     ecx, 8
.digit: rol     ebx, 4
        mov     al, bl
        and     al, 0x0F
        add     al, '0'
        cmp     al, '9'
        jbe     .out
        add     al, 'a' - '9' - 1
.out:   call    serial32_putc
        loop    .digit
        ret

; emu_exit32: end the emulator run (QEMU isa-debug-exit, then Bochs), else halt.
; IN: nothing.  OUT: does not return.  (The C twin is emu_exit(), start.c.)
emu_exit32:
        mov     dx, COM1_BASE + UART_LSR ; let the last byte leave the UART first:
.drain: in      al, dx                  ; Bochs drops what is still in it
        test    al, UART_LSR_TEMT
        jz      .drain
        mov     al, EXIT_BOOT_FAILURE
        out     PORT_QEMU_EXIT, al
        mov     dx, PORT_BOCHS_SHUTDOWN
        mov     esi, msg_shutdown
.next:  lodsb
        test    al, al
        jz      .halt
        out     dx, al
        jmp     .next
.halt:  cli
        hlt
        jmp     .halt

; idt32_install: point the 32 exception vectors at fault32_stub_N and load
; the IDT.  IN: nothing.  OUT: IDTR set.  Clobbers: EAX, EBX, ECX, EDI.
idt32_install:
        mov     edi, boot_idt32
        mov     ebx, fault32_stubs
        xor     ecx, ecx
.gate:  mov     eax, [ebx + ecx * 4]
        mov     [edi], ax               ; offset 15:0
        mov     word [edi + 2], CODE32_SEL
        mov     byte [edi + 4], 0
        mov     byte [edi + 5], GATE32_INTERRUPT
        shr     eax, 16
        mov     [edi + 6], ax           ; offset 31:16
        add     edi, 8
        inc     ecx
        cmp     ecx, IDT32_VECTORS
        jb      .gate
        lidt    [boot_idt32_pointer]
        ret

; fault32_stub_N: a fault during the 32-bit steps.  The CPU pushed an error
; code for vectors 8, 10-14, 17, 21, 29, 30; the other stubs push 0 so that
; fault32_common sees [esp] = vector, [esp+4] = error code, [esp+8] = EIP.
%macro FAULT32_STUB 1
fault32_stub_%1:
%if (%1 == 8) || (%1 >= 10 && %1 <= 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
%else
        push    0
%endif
        push    %1
        jmp     fault32_common
%endmacro

%assign vector 0
%rep IDT32_VECTORS
        FAULT32_STUB vector
%assign vector vector + 1
%endrep

; fault32_common: print "EXCEPTION: vector=0x.. in boot setup (32-bit
; protected mode) error=0x........ eip=0x........" and end the run.
; IN: [esp] = vector, [esp+4] = error code, [esp+8] = EIP.  OUT: no return.
fault32_common:
        pop     dword [fault32_frame]           ; vector
        pop     dword [fault32_frame + 4]       ; error code
        pop     dword [fault32_frame + 8]       ; EIP
        mov     esp, REAL_MODE_STACK            ; a known-good stack
        mov     esi, msg_fault32_vector
        call    serial32_puts
        mov     ebx, [fault32_frame]
        call    serial32_hex32
        mov     esi, msg_fault32_where
        call    serial32_puts
        mov     esi, msg_fault32_error
        call    serial32_puts
        mov     ebx, [fault32_frame + 4]
        call    serial32_hex32
        mov     esi, msg_fault32_eip
        call    serial32_puts
        mov     ebx, [fault32_frame + 8]
        call    serial32_hex32
        mov     esi, msg_newline
        call    serial32_puts
        jmp     emu_exit32

; ===========================================================================
; 64-bit long mode.
bits 64

long_mode_entry:
        ; Step 7: 64-bit segments, the TSS (TR) with an exception stack in
        ; IST1, the boot stack, then the C runtime.
        mov     ax, DATA_SEL
        mov     ds, ax
        mov     es, ax
        mov     fs, ax
        mov     gs, ax
        mov     ss, ax
        mov     rsp, boot_stack_top
        mov     rax, boot_exception_stack_top
        mov     [boot_tss + TSS_IST1], rax
        mov     [boot_tss + TSS_RSP0], rax
        mov     ax, TSS_SEL
        ltr     ax
        xor     ebp, ebp
        call    rt_start                ; never returns
.halt:  cli
        hlt
        jmp     .halt

; ===========================================================================
; Data (in .setup: low memory, linked at its run address).

        align   16
boot_gdt:
        dq      0                                                   ; 0x00 null
        dq      DESC_P | DESC_S | DESC_CODE | DESC_RW | DESC_ACCESSED \
                | DESC_L | DESC_G | DESC_LIMIT_4G                  ; 0x08 CODE64
        dq      DESC_P | DESC_S | DESC_RW | DESC_ACCESSED \
                | DESC_DB | DESC_G | DESC_LIMIT_4G                 ; 0x10 DATA
        dq      DESC_P | DESC_S | DESC_CODE | DESC_RW | DESC_ACCESSED \
                | DESC_DB | DESC_G | DESC_LIMIT_4G                 ; 0x18 CODE32
        dq      DESC_P | DESC_TYPE_TSS64 | (TSS_SIZE - 1)          ; 0x20 TSS64
        dq      0                                                   ;  (base 63:32)
boot_gdt_end:

boot_gdt_pointer:                       ; lgdt operand: 16-bit limit, base
        dw      boot_gdt_end - boot_gdt - 1
        dq      boot_gdt

        align   16
boot_tss:                               ; the 64-bit TSS format
        times   TSS_IOMAP_BASE db 0     ; RSP0-2, IST1-7 filled in step 7
        dw      TSS_SIZE                ; I/O map base beyond the limit: no bitmap

        align   8
boot_idt32:
        times   IDT32_VECTORS * 8 db 0
boot_idt32_pointer:
        dw      IDT32_VECTORS * 8 - 1
        dd      boot_idt32

fault32_stubs:
%assign vector 0
%rep IDT32_VECTORS
        dd      fault32_stub_ %+ vector
%assign vector vector + 1
%endrep

fault32_frame:  dd 0, 0, 0              ; vector, error code, EIP of the fault

msg_boot_error:     db "boot: error: ", 0
msg_no_a20:         db "the A20 line could not be enabled", 0
msg_no_long_mode:   db "this CPU has no 64-bit long mode (CPUID 80000001h EDX[29])", 0
msg_fault32_vector: db "EXCEPTION: vector=", 0
msg_fault32_where:  db " in boot setup (32-bit protected mode)", 0
msg_fault32_error:  db " error=", 0
msg_fault32_eip:    db " eip=", 0
msg_newline:        db 10, 0
msg_shutdown:       db BOCHS_SHUTDOWN_TEXT, 0

; ===========================================================================
; Page tables and stacks: .bss of the payload region (zeroed in step 4).
section .bss nobits alloc noexec write align=4096

        alignb  4096
boot_pml4:          resb PAGE_SIZE
boot_pdpt_low:      resb PAGE_SIZE
boot_pd_low:        resb PAGE_SIZE * LOW_LARGE_PAGES / 512
boot_pdpt_high:     resb PAGE_SIZE
boot_pd_high:       resb PAGE_SIZE

        alignb  16
                    resb 65536
boot_stack_top:
                    resb 16384
boot_exception_stack_top:
