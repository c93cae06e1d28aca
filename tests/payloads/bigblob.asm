; bigblob.asm - 128 KiB of known data in .rodata, so that bigimage.img spans
; many floppy tracks, both heads, several cylinders and three 64 KiB DMA
; pages: the boot sector (common/boot/bootsect.asm), which programs the
; floppy controller and the ISA DMA controller itself, must cut its READ
; DATA commands at each of them (a read may not run past the end of a track,
; and one DMA transfer may not cross a 64 KiB page).
; Dword i holds (i * 2654435761) mod 2^32; bigimage.c checks every one.

BLOB_DWORDS equ 32768
global blob, blob_dwords

section .rodata
        align   4
blob:
%assign i 0
%rep BLOB_DWORDS
        dd      (i * 2654435761) & 0xFFFFFFFF
%assign i i + 1
%endrep

        align   4
blob_dwords:
        dd      BLOB_DWORDS
