; highmap_asm.asm - an assembly routine in the high part (HIGH_SOURCES), the
; way lab05's VM-exit entry stub will live there.
bits 64
default rel

global high_asm_where

section .text

; high_asm_where: the address of its own first instruction.
; IN: nothing.  OUT: RAX = that address.  Clobbers: nothing else.
high_asm_where:
        lea     rax, [rel high_asm_where]
        ret
