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
; The BIOS reads the floppy by CHS: 18 sectors per track, 2 heads, 80
; cylinders.  LBA -> CHS:  sector = LBA % 18 + 1,  head = (LBA / 18) % 2,
; cylinder = LBA / 36.  Bochs and QEMU both reject reads that run past the end
; of a track, and the ISA DMA used by the floppy controller cannot cross a
; 64 KiB physical boundary, so each int 13h read is cut at both.

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
READ_RETRIES        equ 3
PARAGRAPHS_PER_SECTOR equ SECTOR_SIZE / 16
PARAGRAPHS_PER_64K  equ 0x1000

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
; Clobbers: AX, BX, CX, DX, SI, DI, ES.  Does not return on a read error.
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
        mov     di, READ_RETRIES
.retry: mov     es, [dest_segment]
        xor     bx, bx                  ; ES:BX = destination
        mov     ax, si
        mov     ah, 0x02                ; int 13h AH=02h: read sectors, AL = count
        mov     dl, [boot_drive]
        push    cx
        push    dx
        int     0x13
        pop     dx
        pop     cx
        jnc     .ok
        xor     ah, ah                  ; int 13h AH=00h: reset the drive
        int     0x13
        dec     di
        jnz     .retry
        mov     si, msg_disk_error
        jmp     fatal
.ok:    add     [lba], si
        sub     [remaining], si
        mov     ax, si
        shl     ax, 5                   ; * PARAGRAPHS_PER_SECTOR
        add     [dest_segment], ax
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

msg_disk_error: db "EXCEPTION: boot sector: int 13h floppy read failed", 13, 10, 0

boot_drive:     db 0
lba:            dw 0
remaining:      dw 0
dest_segment:   dw 0

        times 510 - ($ - $$) db 0
        dw      0xAA55                  ; the BIOS boots only with this signature
