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

extern mon_main

section .text.mon_start progbits alloc exec

global mon_start
mon_start:
        xor     ebp, ebp                ; the outermost frame: backtraces end here
        call    mon_main                ; never returns (mon_return goes back to the host)
.halt:  cli
        hlt
        jmp     .halt
