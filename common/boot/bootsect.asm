; bootsect.asm - the floppy boot sector: load the payload image, jump to setup.
;
; Runs in: 16-bit real mode at 0x7C00, loaded there by the BIOS from the
; first sector of a 1.44 MB floppy (DL = boot drive).
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

FDC_MSR             equ 0x3F4           ; main status register
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
BDA_FLOPPY_IRQ_SEEN equ 0x80
BDA_MOTOR_COUNT     equ 0x440           ; the BIOS IRQ 0 handler stops the motor at 0
BDA_TICKS           equ 0x46C           ; timer ticks, 18.2 per second
FDC_TIMEOUT_TICKS   equ 37              ; 2 s: a read of 18 sectors takes 0.2 s

COM1                equ 0x3F8           ; 16550 UART base, used for errors only
UART_LSR            equ 5               ; line status register
UART_LSR_THRE       equ 0x20            ; transmit holding register empty

FDC_DOR             equ 0x3F2           ; floppy digital output register
FDC_DOR_MOTORS_OFF  equ 0x0C            ; controller enabled, DMA on, no motor

%if LOAD_ADDRESS + PAYLOAD_SECTORS * SECTOR_SIZE > LOAD_LIMIT
%error "payload image too large for low memory (0x8000..0x9F000)"
%endif

start:
        ; Step 1: a known state: CS:IP = 0:7C00, DS = ES = SS = 0, stack below us.
        jmp     0:.flat                 ; some BIOSes enter at 07C0:0000
.flat:  cli
        xor     ax, ax
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     sp, 0x7C00
        sti
        cld
        mov     [boot_drive], dl

        ; Step 2: read PAYLOAD_SECTORS sectors from LBA 1 to LOAD_ADDRESS.
        mov     word [lba], 1
        mov     word [remaining], PAYLOAD_SECTORS
        mov     word [dest_segment], LOAD_ADDRESS / 16
.next:  cmp     word [remaining], 0
        je      .loaded
        call    read_chunk
        jmp     .next

.loaded:
        ; Step 3: stop the floppy motor (the BIOS would leave it running).
        mov     dx, FDC_DOR
        mov     al, FDC_DOR_MOTORS_OFF
        out     dx, al

        ; Step 4: enter setup (common/boot/setup.asm) with DL = boot drive.
        mov     dl, [boot_drive]
        jmp     0:LOAD_ADDRESS

; read_chunk: read the next run of sectors that stays inside one track and
; one 64 KiB DMA page, then advance lba, remaining and dest_segment.
; IN: [lba], [remaining] (> 0), [dest_segment].  OUT: the three advanced.
; Clobbers: AX, BX, CX, DX, SI.  Does not return on a read error or timeout.
read_chunk:
        ; count = min(remaining, sectors left in track, sectors left in DMA page)
        mov     ax, [lba]
        xor     dx, dx
        mov     bx, SECTORS_PER_TRACK
        div     bx                      ; AX = track index, DX = sector in track
        mov     si, SECTORS_PER_TRACK
        sub     si, dx                  ; SI = sectors left in this track
        mov     cl, dl
        inc     cl                      ; CL = CHS sector number (1-based)
        xor     dx, dx
        mov     bx, HEADS
        div     bx                      ; AX = cylinder, DX = head
        mov     ch, al                  ; CH = cylinder (always < 256 on a floppy)
        mov     dh, dl                  ; DH = head
        mov     ax, [remaining]
        cmp     si, ax
        jbe     .track_ok
        mov     si, ax
.track_ok:
        mov     ax, [dest_segment]
        and     ax, PARAGRAPHS_PER_64K - 1
        neg     ax
        add     ax, PARAGRAPHS_PER_64K  ; paragraphs up to the next 64 KiB line
        shr     ax, 5                   ; / PARAGRAPHS_PER_SECTOR
        cmp     si, ax
        jbe     .dma_ok
        mov     si, ax
.dma_ok:
        ; DMA channel 2: SI sectors from the controller to dest_segment:0.
        mov     al, DMA_MASK_ON | DMA_CHANNEL_FLOPPY
        out     DMA_MASK, al
        out     DMA_CLEAR_FLIPFLOP, al
        mov     al, DMA_MODE_TO_MEMORY
        out     DMA_MODE, al
        mov     ax, [dest_segment]
        mov     bx, ax
        shl     ax, 4                   ; physical address bits 15:0
        out     DMA2_ADDRESS, al
        mov     al, ah
        out     DMA2_ADDRESS, al
        mov     al, bh
        shr     al, 4                   ; bits 19:16
        out     DMA2_PAGE, al
        mov     ax, si
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
        mov     al, FDC_DOR_MOTOR_A
        mov     bx, dx                  ; keep DH = head
        mov     dx, FDC_DOR
        out     dx, al
        mov     al, bh
        shl     al, 2                   ; head in bit 2, drive 0
        mov     [read_cmd + 1], al
        mov     [read_cmd + 2], ch      ; C
        mov     [read_cmd + 3], bh      ; H
        mov     [read_cmd + 4], cl      ; R
        push    si
        mov     si, read_cmd
        mov     cx, read_cmd_end - read_cmd
.send:  lodsb
        call    fdc_out
        loop    .send
        pop     si

        ; Wait for IRQ 6 with HLT (the timer interrupt wakes us too).
        mov     bx, [BDA_TICKS]
.wait:  cli
        test    byte [BDA_FLOPPY_IRQ], BDA_FLOPPY_IRQ_SEEN
        jnz     .result
        mov     ax, [BDA_TICKS]
        sub     ax, bx
        cmp     ax, FDC_TIMEOUT_TICKS
        ja      .failed
        sti
        hlt                             ; STI's one-instruction delay: no lost IRQ
        jmp     .wait
.result:
        sti
        call    fdc_in                  ; ST0
        mov     bl, al
        mov     cx, FDC_RESULT_BYTES - 1
.drain: call    fdc_in                  ; ST1 ST2 C H R N: not needed
        loop    .drain
        test    bl, FDC_ST0_IC
        jz      .ok
.failed:
        mov     si, msg_disk_error
        jmp     fatal
.ok:    add     [lba], si
        sub     [remaining], si
        mov     ax, si
        shl     ax, 5                   ; * PARAGRAPHS_PER_SECTOR
        add     [dest_segment], ax
        ret

; fdc_out: send AL to the controller when it is ready for a command byte.
; fdc_in: read one result byte into AL.  Clobbers: AH, DX.
fdc_out:
        mov     ah, al
        mov     dx, FDC_MSR
.busy:  in      al, dx
        and     al, FDC_MSR_RQM | FDC_MSR_DIO
        cmp     al, FDC_MSR_RQM
        jne     .busy
        inc     dx                      ; FDC_FIFO
        mov     al, ah
        out     dx, al
        ret

fdc_in:
        mov     dx, FDC_MSR
.busy:  in      al, dx
        and     al, FDC_MSR_RQM | FDC_MSR_DIO
        cmp     al, FDC_MSR_RQM | FDC_MSR_DIO
        jne     .busy
        inc     dx                      ; FDC_FIFO
        in      al, dx
        ret

; fatal: print a zero-terminated message on COM1, then halt forever.
; The UART keeps the BIOS settings (Bochs: 5-bit words), so program it first.
; IN: SI = message.  OUT: does not return.
fatal:
        mov     dx, COM1 + 3            ; LCR: DLAB=1
        mov     al, 0x80
        out     dx, al
        mov     dx, COM1                ; DLL = 1: 115200 baud
        mov     al, 1
        out     dx, al
        inc     dx                      ; DLM = 0
        xor     al, al
        out     dx, al
        mov     dx, COM1 + 3            ; LCR: 8 data bits, no parity, 1 stop
        mov     al, 0x03
        out     dx, al
.char:  lodsb
        test    al, al
        jz      .halt
        mov     ah, al
        mov     dx, COM1 + UART_LSR
.wait:  in      al, dx
        test    al, UART_LSR_THRE
        jz      .wait
        mov     dx, COM1
        mov     al, ah
        out     dx, al
        jmp     .char
.halt:  cli
        hlt
        jmp     .halt

msg_disk_error: db "EXCEPTION: boot sector: floppy read failed", 13, 10, 0

; READ DATA: MFM, then head << 2 | drive, C, H, R (patched per read), N = 2
; (512 bytes), EOT = last sector of the track, gap length, DTL (unused).
read_cmd:       db 0x46, 0, 0, 0, 0, 2, SECTORS_PER_TRACK, 0x1B, 0xFF
read_cmd_end:

boot_drive:     db 0
lba:            dw 0
remaining:      dw 0
dest_segment:   dw 0

        times 510 - ($ - $$) db 0
        dw      0xAA55                  ; the BIOS boots only with this signature
