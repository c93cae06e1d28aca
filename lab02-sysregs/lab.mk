# lab02-sysregs/lab.mk - the make targets of lab 02 (sysregs.ko, /proc/sysregs).
#
#   make run-lab02        the minimal kernel in Bochs (BOCHS_CPU): insmod, cat
#   make qemu-lab02       Debian's kernel in QEMU
#   make bochs-dbg-lab02  the Bochs run with its debugger prompt
#   make lab02            just build sysregs.ko for both kernels
# SOLUTION=1 uses solutions/lab02-sysregs/. The rules are the kernel_lab
# template of mk/kernel.mk, shared with lab01.
$(eval $(call kernel_lab,02,lab02-sysregs,sysregs))
