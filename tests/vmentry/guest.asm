; guest.asm - the guest of the VM-entry differential test (tests/vmentry).
;
; Runs in: VMX non-root operation, 64-bit mode, CPL 0, on the host's page
; tables and GDT (tests/vmentry/vmentry.c writes that VMCS). SDM vol. 3C,
; appendix C: VMCALL exits with basic exit reason 18.

bits 64
default rel

section .text

; vmentry_guest64 - the whole guest: one VMCALL, which exits.
; IN: nothing. OUT: never returns (the VMM never resumes it). Clobbers: none.
global vmentry_guest64
vmentry_guest64:
        vmcall
        hlt
        jmp     vmentry_guest64

section .note.GNU-stack noalloc noexec nowrite progbits
