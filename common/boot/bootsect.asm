; bootsect.asm - the floppy boot sector: load the payload image, jump to setup.
;
; Runs in: 16-bit real mode at 0x7C00, loaded there by the BIOS from the
; first sector of a 1.44 MB floppy (DL = boot drive), or from the same image
; written to a USB stick (the BIOS emulates a floppy, DL = 0x00, or a hard
; disk, DL = 0x80; either way there is no floppy controller behind it) or
; attached to an emulator as a hard disk.
; Assembled per payload: `nasm -f bin -DPAYLOAD_SECTORS=N bootsect.asm`;
; mk/baremetal.mk computes N from the size of the payload image, so the boot
; sector always reads exactly the sectors that follow it.
;
; The floppy image (mk/baremetal.mk pads it to 1,474,560 bytes):
;
;   LBA 0                 this boot sector (512 bytes, ends with 0x55 0xAA)
;   LBA 1 .. N            the payload image: objcopy -O binary of NAME.elf,
;                         whose first byte is setup_start (common/boot/setup.asm)
;   LBA N+1 .. 2879       zeroes
;
; The floppy is read by CHS: 18 sectors per track, 2 heads, 80 cylinders.
; LBA -> CHS:  sector = LBA % 18 + 1,  head = (LBA / 18) % 2,  cylinder =
; LBA / 36.  Each read stays inside one track (a read that runs past the end
; of a track is refused) and inside one 64 KiB physical page (the ISA DMA that
; carries the data cannot cross a 64 KiB boundary).
;
; Why not int 13h: the floppy controller takes 11 ms of emulated time per
; sector (Bochs models a 300 rpm disk), and the Bochs BIOS spends that time
; in a polling loop: at the tests' 10 M instructions per emulated second,
; ~0.11 M instructions emulated one by one per sector.  This sector programs
; the controller itself and waits with HLT, which Bochs passes over without
; emulating anything.  Measured: the lab03 image (163 sectors) boots and runs
; in 0.30 s instead of 0.70 s (median of 5, tests/bench_lab03.py).  The BIOS
; is still used for what it set up: the controller's data rate, its IRQ 6
; handler (which sets bit 7 of the BIOS data byte 0x43E and acknowledges the
; interrupt) and the timer tick count (0x46C, for a timeout).
;
;   8237 DMA channel 2:  mask it; mode "single, to memory"; address bits
;                        15:0 (two writes) and page = bits 19:16; count =
;                        bytes - 1 (two writes); unmask it
;   82077 floppy:        motor on (DOR); the 9-byte READ DATA command
;                        (MFM, head, C H R, N = 2 for 512-byte sectors,
;                        EOT = 18, gap 0x1B, DTL 0xFF); IRQ 6 when the last
;                        sector is in memory; 7 result bytes, ST0 first
;                        (bits 7:6 = 00: normal termination)
;
; Both emulators move the head to the command's cylinder themselves (an
; implied seek), so there is no SEEK command; the kit boots from drive A:.
;
; When int 13h after all: the boot drive is not the first floppy (DL != 0),
; or the controller path fails (no controller answers: 65536 polls of its
; status port never see "ready for a command byte", as a missing one reads
; 0xFF; an error status; or no IRQ 6 within the timeout).  Then the same
; sectors are read through the BIOS, which knows what really holds the image
; (a USB stick that it shows as a floppy or as a hard disk, a hard disk):
;
;   AH=41h BX=55AAh      extensions installed?  CF clear, BX = AA55h and
;                        CX bit 0 (disk address packet access): use AH=42h
;   AH=42h DS:SI = DAP   extended read: the 16-byte disk address packet
;                        (size 16, 0, sectors, offset, segment, 64-bit LBA)
;   AH=08h               else: geometry (CL bits 5:0 = sectors per track,
;                        DH = last head), then AH=02h CHS reads (AL =
;                        sectors, CH = cylinder bits 7:0, CL = sector |
;                        cylinder bits 9:8 << 6, DH = head, ES:BX = buffer)
;   AH=00h               reset the drive after a failed read, then retry
;                        (BIOS_TRIES failures in all, then the error)
;
; AH=02h gets cylinder bits 7:0 only (CH; bits 9:8 in CL stay 0): enough, as
; a payload of at most (LOAD_LIMIT - LOAD_ADDRESS) / 512 = 1208 sectors stays
; below cylinder 256 with any geometry of 5 or more sectors per cylinder (a
; floppy has 36; BIOSes give hard disks and USB sticks hundreds).
;
; Both ways read the same chunks to the same addresses: one track (of the
; geometry in use: AH=08h's for AH=02h, else the floppy's, so AH=42h moves
; at most 18 sectors a call) and one 64 KiB page (the BIOS of a real floppy
; uses the same DMA channel).

bits 16
org 0x7C00

%ifndef PAYLOAD_SECTORS
%error "assemble with -DPAYLOAD_SECTORS=<sectors of the payload image>"
%endif

LOAD_ADDRESS        equ 0x8000          ; where setup_start is linked (payload.ld)
LOAD_LIMIT          equ 0x9F000         ; the EBDA and the BIOS live above this
SECTOR_SIZE         equ 512
SECTORS_PER_TRACK   equ 18
HEADS               equ 2
PARAGRAPHS_PER_SECTOR equ SECTOR_SIZE / 16
PARAGRAPHS_PER_64K  equ 0x1000

; -DBOOT_SELFTEST_NO_FDC (tests/test_boot.py only): poll a port where no
; controller answers, as on a PC whose BIOS shows a USB stick as drive A:.
%ifdef BOOT_SELFTEST_NO_FDC
FDC_MSR             equ 0x2F4           ; nothing there: reads 0xFF
%else
FDC_MSR             equ 0x3F4           ; main status register
%endif
FDC_FIFO            equ 0x3F5           ; command and result bytes
FDC_MSR_RQM         equ 0x80            ; the FIFO is ready for a byte
FDC_MSR_DIO         equ 0x40            ; ... from the controller to the CPU
FDC_DOR_MOTOR_A     equ 0x1C            ; motor A on, DMA + IRQ on, not reset, drive A:
FDC_RESULT_BYTES    equ 7
FDC_ST0_IC          equ 0xC0            ; ST0 interrupt code; 00 = normal termination

DMA_MASK            equ 0x0A            ; 8237 single-channel mask register
DMA_MODE            equ 0x0B
DMA_CLEAR_FLIPFLOP  equ 0x0C            ; any write: next byte is the low one
DMA2_ADDRESS        equ 0x04            ; channel 2 (the floppy): address bits 15:0
DMA2_COUNT          equ 0x05            ; bytes - 1
DMA2_PAGE           equ 0x81            ; address bits 23:16
DMA_CHANNEL_FLOPPY  equ 2
DMA_MASK_ON         equ 0x04            ; with the channel number: mask it
DMA_MODE_TO_MEMORY  equ 0x46            ; single transfer, increment, write memory, channel 2

BDA_FLOPPY_IRQ      equ 0x43E           ; bit 7: the BIOS IRQ 6 handler saw an interrupt
; -DBOOT_SELFTEST_NO_IRQ (tests/test_boot.py only): test no bit, so IRQ 6
; is never seen and every controller read ends by the timeout.
%ifdef BOOT_SELFTEST_NO_IRQ
BDA_FLOPPY_IRQ_SEEN equ 0
%else
BDA_FLOPPY_IRQ_SEEN equ 0x80
%endif
BDA_MOTOR_COUNT     equ 0x440           ; the BIOS IRQ 0 handler stops the motor at 0
BDA_TICKS           equ 0x46C           ; timer ticks, 18.2 per second
FDC_TIMEOUT_TICKS   equ 37              ; 2 s: a read of 18 sectors takes 0.2 s

%include "uart.inc"                     ; COM1_BASE, UART_* (common/platform/uart.def)

FDC_DOR             equ 0x3F2           ; floppy digital output register
FDC_DOR_MOTORS_OFF  equ 0x0C            ; controller enabled, DMA on, no motor
FDC_DOR_RESET       equ 0x08            ; DMA on, no motor, controller in reset

STACK_TOP           equ 0x7C00          ; the stack grows down from this sector
FIRST_FLOPPY        equ 0x00            ; BIOS drive number of A:

BIOS_DISK           equ 0x13            ; the BIOS disk services (int 13h)
BIOS_RESET          equ 0x00            ; AH: reset the drive
BIOS_READ_CHS       equ 0x02            ; AH: read AL sectors at C/H/S
BIOS_GET_GEOMETRY   equ 0x08            ; AH: drive parameters
BIOS_EXT_CHECK      equ 0x41            ; AH: extensions installed?
BIOS_EXT_READ       equ 0x42            ; AH: read by disk address packet
EXT_CHECK_IN        equ 0x55AA          ; BX for AH=41h ...
; -DBOOT_SELFTEST_NO_EXT (tests/test_boot.py only): expect what no BIOS
; returns, so that the AH=08h + AH=02h way is taken even where AH=42h is.
%ifdef BOOT_SELFTEST_NO_EXT
EXT_CHECK_OUT       equ EXT_CHECK_IN
%else
EXT_CHECK_OUT       equ 0xAA55          ; ... and what an EDD BIOS returns
%endif
EXT_DAP_ACCESS      equ 0x01            ; AH=41h CX bit 0: AH=42h is there
DAP_SIZE            equ 16              ; the disk address packet's length
GEOMETRY_SECTORS    equ 0x3F            ; AH=08h CL bits 5:0: sectors per track
BIOS_TRIES          equ 8               ; failed BIOS reads allowed in all

%if LOAD_ADDRESS + PAYLOAD_SECTORS * SECTOR_SIZE > LOAD_LIMIT
%error "payload image too large for low memory (0x8000..0x9F000)"
%endif
%if FIRST_FLOPPY != 0
%error "step 1 tests DL for FIRST_FLOPPY with TEST DL, DL"
%endif
%if PAYLOAD_SECTORS < 1
%error "PAYLOAD_SECTORS must be at least 1 (step 2 reads before it tests)"
%endif

start:
        ; Step 1: a known state: CS:IP = 0:7C00, DS = SS = 0, stack below us.
        jmp     0:.flat                 ; some BIOSes enter at 07C0:0000
.flat:  xor     ax, ax
        mov     ds, ax
        mov     ss, ax                  ; no interrupt before the next instruction
        mov     sp, STACK_TOP
        cld
        mov     [boot_drive], dl
        test    dl, dl                  ; FIRST_FLOPPY
        je      load                    ; A: is read through the controller first

; use_bios: from now on read through int 13h: AH=42h if the BIOS has it,
; else AH=02h with AH=08h's geometry; then go on with step 2 where it is
; (lba, remaining, dest_segment only advance after a good read).  Reached
; from step 1, or jumped to when the controller fails inside read_chunk:
; its return addresses stay on the stack (a few bytes, once).
; IN: [boot_drive].  OUT: the controller in reset; [method]; for AH=02h
; also [spt], [heads].  Clobbers: AX, BX, CX, DX, DI, ES.  Does not return
; if AH=08h fails (the error is the read's: no geometry, no CHS read).
use_bios:
        mov     dx, FDC_DOR             ; hold the controller in reset: the BIOS
        mov     al, FDC_DOR_RESET       ; starts it afresh at its first floppy
        out     dx, al                  ; access (left mid-command, it hangs it)
        mov     dl, [boot_drive]
        mov     ah, BIOS_EXT_CHECK
        mov     bx, EXT_CHECK_IN
        int     BIOS_DISK               ; keeps DL
        jc      .chs
        cmp     bx, EXT_CHECK_OUT
        jne     .chs
        mov     al, BIOS_EXT_READ
        test    cl, EXT_DAP_ACCESS
        jnz     .method
.chs:   mov     ah, BIOS_GET_GEOMETRY
        int     BIOS_DISK
        jc      int13_failed
        and     cx, GEOMETRY_SECTORS
        jz      int13_failed            ; 0 sectors per track: no geometry
        mov     [spt], cx
        inc     dh                      ; last head + 1 (at most 255)
        mov     [heads], dh             ; (its high byte stays 0)
        mov     al, BIOS_READ_CHS
.method:
        mov     [method], al

        ; Step 2: read PAYLOAD_SECTORS sectors from LBA 1 to LOAD_ADDRESS
        ; (lba, remaining and dest_segment below start with those values).
load:   call    read_chunk
        jnz     load                    ; ZF: nothing remaining

        ; Step 3: stop the floppy motor (the BIOS would leave it running;
        ; with no controller behind the port the write goes nowhere).
        mov     dx, FDC_DOR
        mov     al, FDC_DOR_MOTORS_OFF
        out     dx, al

        ; Step 4: enter setup (common/boot/setup.asm) with DL = boot drive.
        mov     dl, [boot_drive]
        jmp     LOAD_ADDRESS            ; CS = 0 since step 1

; fdc_wait: wait until the controller asks for the next byte (RQM): one to
; write in the command phase (BH = FDC_MSR_RQM), or one to read in the result
; phase (BH = FDC_MSR_RQM | FDC_MSR_DIO).  Jumps to use_bios if it never
; asks (no controller: the port reads 0xFF).
; IN: BH.  OUT: DX = FDC_FIFO.  Clobbers: AL, BP.
fdc_wait:
        mov     dx, FDC_MSR
        xor     bp, bp                  ; 65536 polls: > 65 ms on real hardware
.busy:  dec     bp
        jz      use_bios
        in      al, dx
        and     al, FDC_MSR_RQM | FDC_MSR_DIO
        cmp     al, bh
        jne     .busy
        inc     dx                      ; FDC_FIFO
        ret

; int13_failed: the BIOS could not read the image (BIOS_TRIES failed reads,
; or AH=08h failed or said 0 sectors per track).  OUT: does not return.
int13_failed:
        mov     si, msg_int13_error
        ; fall through to fatal

; fatal: print a zero-terminated message on COM1, then halt forever.
; The UART keeps the BIOS settings (Bochs: 5-bit words), so program it first.
; IN: SI = message.  OUT: does not return.
fatal:
        mov     dx, COM1_BASE + UART_LCR            ; LCR: DLAB=1
        mov     al, UART_LCR_DLAB
        out     dx, al
        mov     dl, (COM1_BASE + UART_DLL) & 0xFF   ; DLL = 1: 115200 baud
        mov     al, UART_DIVISOR_115200
        out     dx, al
%if UART_DLM != UART_DLL + 1 || UART_DIVISOR_115200 != 1
%error "the two lines below assume DLM = DLL + 1 and a divisor of 1 (DLM = 0)"
%endif
        inc     dx                      ; DLM = 0
        dec     ax
        out     dx, al
        mov     dl, (COM1_BASE + UART_LCR) & 0xFF   ; LCR: 8 data bits, no parity, 1 stop
        mov     al, UART_LCR_8N1
        out     dx, al
.char:  lodsb
        test    al, al
        jz      .halt
        mov     ah, al
        mov     dl, (COM1_BASE + UART_LSR) & 0xFF
.wait:  in      al, dx
        test    al, UART_LSR_THRE
        jz      .wait
        mov     dl, (COM1_BASE + UART_THR) & 0xFF
        mov     al, ah
        out     dx, al
        jmp     .char
.halt:  cli
        hlt
        jmp     .halt

; read_chunk: read the next run of sectors that stays inside one track and
; one 64 KiB DMA page, then advance lba, remaining and dest_segment.
; IN: [lba], [remaining] (> 0), [dest_segment], [method], [spt], [heads].
; OUT: the three advanced; ZF set when remaining reached 0.
; Clobbers: AX, BX, CX, DX, SI, DI, BP, ES.  Does not return on a BIOS
; error; jumps to use_bios when the controller fails.
read_chunk:
        ; count = min(remaining, sectors left in track, sectors left in DMA page)
        mov     di, [spt]
        mov     ax, [lba]
        cwd                             ; DX = 0 (AX < 0x8000)
        div     di                      ; AX = track index, DX = sector in track
        sub     di, dx                  ; DI = sectors left in this track
        mov     cl, dl
        inc     cx                      ; CL = CHS sector number (1-based, < 64)
        cwd
        div     word [heads]            ; AX = cylinder, DX = head
        mov     ch, al                  ; CH = cylinder (< 256, see the top)
        mov     dh, dl                  ; DH = head
        mov     ax, [remaining]
        cmp     di, ax
        jbe     .track_ok
        mov     di, ax
.track_ok:
        mov     ax, [dest_segment]
        shl     ax, 4                   ; physical address bits 15:0 (n * 512)
        mov     bx, ax                  ; (for the DMA address)
        not     ax                      ; 65535 - that: bytes to the 64 KiB line - 1
        shr     ax, 9                   ; / SECTOR_SIZE
        inc     ax                      ; AX = sectors up to the line
        cmp     di, ax
        jbe     .dma_ok
        mov     di, ax
.dma_ok:
        cmp     byte [method], 0
        je      .fdc

        ; int 13h: DI sectors to dest_segment:0, by packet or by C/H/S.
        mov     dl, [boot_drive]
        mov     es, [dest_segment]
        xor     bx, bx                  ; ES:BX = buffer (AH=02h)
        mov     ax, di                  ; AL = sectors (AH=02h)
        mov     ah, [method]
        mov     bp, sp
        cmp     ah, BIOS_EXT_READ
        jne     .int13
        push    bx                      ; the packet, last field first: LBA 63:48
        push    bx                      ; LBA 47:32
        push    bx                      ; LBA 31:16
        push    word [lba]              ; LBA 15:0
        push    es                      ; segment
        push    bx                      ; offset 0
        push    di                      ; sectors
        push    byte DAP_SIZE           ; size, reserved byte 0
        mov     si, sp                  ; DS:SI = the packet
.int13: int     BIOS_DISK
        mov     sp, bp                  ; drop the packet, keep CF
        jnc     .ok
        mov     ah, BIOS_RESET
        int     BIOS_DISK
        dec     byte [tries]
        jnz     read_chunk              ; again, from the same lba
        jmp     int13_failed

.fdc:   ; DMA channel 2: DI sectors from the controller to dest_segment:0.
        mov     al, DMA_MASK_ON | DMA_CHANNEL_FLOPPY
        out     DMA_MASK, al
        out     DMA_CLEAR_FLIPFLOP, al
        mov     al, DMA_MODE_TO_MEMORY
        out     DMA_MODE, al
        mov     ax, bx                  ; physical address bits 15:0
        out     DMA2_ADDRESS, al
        mov     al, ah
        out     DMA2_ADDRESS, al
        mov     al, [dest_segment + 1]
        shr     al, 4                   ; bits 19:16
        out     DMA2_PAGE, al
        mov     ax, di
        shl     ax, 9                   ; * SECTOR_SIZE
        dec     ax
        out     DMA2_COUNT, al
        mov     al, ah
        out     DMA2_COUNT, al
        mov     al, DMA_CHANNEL_FLOPPY  ; unmask
        out     DMA_MASK, al

        ; The controller: motor on (and kept on: the BIOS timer handler
        ; counts BDA_MOTOR_COUNT down), then READ DATA for C/H/R.
        mov     byte [BDA_MOTOR_COUNT], 0xFF
        and     byte [BDA_FLOPPY_IRQ], ~BDA_FLOPPY_IRQ_SEEN & 0xFF
        mov     al, dh
        shl     al, 2                   ; head in bit 2, drive 0
        mov     ah, ch                  ; C
        mov     [read_cmd + 1], ax
        mov     [read_cmd + 3], dh      ; H
        mov     [read_cmd + 4], cl      ; R
        mov     al, FDC_DOR_MOTOR_A
        mov     dx, FDC_DOR
        out     dx, al
        mov     si, read_cmd
        mov     cx, read_cmd_end - read_cmd
        mov     bh, FDC_MSR_RQM         ; command phase
.send:  call    fdc_wait
        lodsb
        out     dx, al
        loop    .send

        ; Wait for IRQ 6 with HLT (the timer interrupt wakes us too).
        mov     bl, [BDA_TICKS]
.wait:  cli
        test    byte [BDA_FLOPPY_IRQ], BDA_FLOPPY_IRQ_SEEN
        jnz     .result
        sti
        hlt                             ; STI's one-instruction delay: no lost IRQ
        mov     al, [BDA_TICKS]
        sub     al, bl
        cmp     al, FDC_TIMEOUT_TICKS
        jbe     .wait
.failed:
        jmp     use_bios                ; the controller failed: the BIOS reads
.result:
        sti
        mov     bh, FDC_MSR_RQM | FDC_MSR_DIO ; result phase
        call    fdc_wait
        in      al, dx                  ; ST0
        test    al, FDC_ST0_IC
        jnz     .failed
        mov     cl, FDC_RESULT_BYTES - 1 ; (CH = 0 after .send)
.drain: call    fdc_wait
        in      al, dx                  ; ST1 ST2 C H R N: not needed
        loop    .drain
.ok:    add     [lba], di
        mov     ax, di
        shl     ax, 5                   ; * PARAGRAPHS_PER_SECTOR
        add     [dest_segment], ax
        sub     [remaining], di         ; last: its ZF is the OUT
        ret

; The one error: BIOS_TRIES reads failed, or AH=08h gave no geometry.
msg_int13_error: db "EXCEPTION: boot sector: int 13h disk read failed", 13, 10, 0

; READ DATA: MFM, then head << 2 | drive, C, H, R (patched per read), N = 2
; (512 bytes), EOT = last sector of the track, gap length, DTL (unused).
read_cmd:       db 0x46, 0, 0, 0, 0, 2, SECTORS_PER_TRACK, 0x1B, 0xFF
read_cmd_end:

; The state of step 2, with its starting values (this sector is RAM).
boot_drive:     db 0
method:         db 0                    ; 0: the controller; else the int 13h AH
tries:          db BIOS_TRIES           ; BIOS read failures left
lba:            dw 1                    ; next sector to read
remaining:      dw PAYLOAD_SECTORS
dest_segment:   dw LOAD_ADDRESS / 16    ; where it goes: dest_segment:0
spt:            dw SECTORS_PER_TRACK    ; the floppy's, or AH=08h's
heads:          dw HEADS

        times 510 - ($ - $$) db 0
        dw      0xAA55                  ; the BIOS boots only with this signature
