; ap_trampoline.asm - where the second CPU (the AP) starts: real mode at
; AP_TRAMPOLINE_BASE, to long mode on the boot page tables, then C.
;
; Runs in: the application processor, right after the STARTUP IPI that
; common/rt/smp.c sends (SDM vol. 3A 8.4.4.1 "Typical BSP Initialization
; Sequence": the AP starts in real mode at CS:IP = vector << 8 : 0000).
; smp.c copies everything from rt_ap_trampoline to rt_ap_trampoline_end to
; AP_TRAMPOLINE_BASE (a page below the boot sector, dead after boot) and
; fills the parameter block at its end before the IPIs.
;
; The same road setup.asm takes, shortened: there is nothing to load, the
; page tables exist, and the BSP's CR0, CR4 and EFER say what to set:
;   16-bit: the boot GDT (its CODE32/DATA descriptors), CR0.PE, far jump
;   32-bit: CR4 (PAE ...), CR3 = the boot PML4, EFER (LME ...), CR0 (PG ...)
;   64-bit: the AP's stack, then rt_ap_main(params) in smp.c
;
; Every address below is AP_TRAMPOLINE_BASE + (label - rt_ap_trampoline):
; the code runs at a copy, not where it was linked.

bits 16
default abs

global rt_ap_trampoline, rt_ap_trampoline_end, rt_ap_params
global AP_TRAMPOLINE_BASE

AP_TRAMPOLINE_BASE  equ 0x7000          ; a page: the SIPI vector is 0x07
CODE64_SEL          equ 0x08            ; the boot GDT (setup.asm)
DATA_SEL            equ 0x10
CODE32_SEL          equ 0x18
MSR_EFER            equ 0xC0000080

%define AT(label) (AP_TRAMPOLINE_BASE + (label) - rt_ap_trampoline)

section .rodata

        align   16
rt_ap_trampoline:
        cli
        cld
        xor     ax, ax
        mov     ds, ax                  ; offsets below are linear (< 64 KiB)
        o32 lgdt [AT(p_gdt)]
        mov     eax, cr0
        or      eax, 1                  ; CR0.PE
        mov     cr0, eax
        jmp     dword CODE32_SEL:AT(ap_protected)

bits 32
ap_protected:
        mov     ax, DATA_SEL
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     eax, [AT(p_cr4)]
        mov     cr4, eax
        mov     eax, [AT(p_cr3)]
        mov     cr3, eax
        mov     ecx, MSR_EFER
        mov     eax, [AT(p_efer)]
        xor     edx, edx
        wrmsr
        mov     eax, [AT(p_cr0)]        ; PG with EFER.LME: IA-32e mode
        mov     cr0, eax
        jmp     CODE64_SEL:AT(ap_long)

bits 64
ap_long:
        mov     ax, DATA_SEL
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     rsp, [AT(p_stack)]
        mov     rdi, AT(rt_ap_params)
        xor     ebp, ebp
        call    [AT(p_main)]            ; rt_ap_main: never returns
.halt:  cli
        hlt
        jmp     .halt

; The parameter block (struct rt_ap_params in smp.c: keep the two in step).
        align   16
rt_ap_params:
p_gdt:    dw 0                          ; lgdt operand: limit
          dq 0                          ;               base
          dw 0, 0, 0                    ; (pad to 16)
p_cr0:    dq 0
p_cr3:    dq 0
p_cr4:    dq 0
p_efer:   dq 0
p_stack:  dq 0                          ; the AP's first RSP
p_main:   dq 0                          ; rt_ap_main
p_entry:  dq 0                          ; what rt_ap_main calls, and its argument
p_arg:    dq 0
p_started: dq 0                         ; the AP sets it to 1
rt_ap_trampoline_end:
