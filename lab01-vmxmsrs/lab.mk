# lab01-vmxmsrs/lab.mk - the make targets of lab 01 (vmxmsrs.ko, /proc/vmxmsrs).
#
#   make run-lab01        the minimal kernel in Bochs (BOCHS_CPU, VMX): insmod, cat
#   make qemu-lab01       Debian's kernel in QEMU (no VMX: the one-line answer)
#   make bochs-dbg-lab01  the Bochs run with its debugger prompt
#   make lab01            just build vmxmsrs.ko for both kernels
# SOLUTION=1 uses solutions/lab01-vmxmsrs/. The rules are the kernel_lab
# template of mk/kernel.mk, shared with lab02.
$(eval $(call kernel_lab,01,lab01-vmxmsrs,vmxmsrs))
