# lab04-vm86-guest/lab.mk - lab04: a virtual-8086 guest whose smsw shows the
# CR0 guest/host mask and read shadow.  Included by the top GNUmakefile.
#
#   make run-lab04 [CR0_MASK=0x...] [CR0_SHADOW=0x...] [CR4_MASK=0x...]
#                  [CR4_SHADOW=0x...] [EXCEPTION_BITMAP=0x...] [GUEST_CR0=0x...]
#                  [IO_EXITING=1] [SOLUTION=1] [BOCHS_CPU=model]
#       build the lab, then run it in Bochs with these values
#   make qemu-lab04 [KVM=1]     the same image in QEMU (TCG: "no VMX"; KVM=1
#                               needs an Intel host with nested VMX)
#   make bochs-dbg-lab04        Bochs with its debugger, stopping at every VM
#                               exit (vmexitbp); see README.md
#   make lab04                  just build build/lab04/lab04.img
#   make lab04-params [LAB04_OUT=path.img] NAME=VALUE...
#                               only make the patched image; print its path
#
# The image: boot path + runtime (mk/baremetal.mk) + common/vmm (VMXON,
# machine[], controls, exit stub and decoding) + common/vmcheck (the
# software VM-entry checker) + lab03's vmxstep2.c (the host state) + this
# lab's files.  Parameters do not rebuild it: lab04-vm86-guest/params.py
# checks each value before anything is built, then patches a copy of the
# image (build/lab04/params-<hash>/lab04.img).

LAB04_DIR := lab04-vm86-guest
LAB04_SOLUTION_DIR := solutions/lab04-vm86-guest
LAB04_FILES := guest.asm vm86_guest.c vm86_io.c vm86demo.c params.c
# common/vmm/answers/: the kit's VMXON, controls and machine[] loop (lab03's
# work), so lab04 runs whatever a student's lab03 does.
LAB04_SHARED := $(sort $(wildcard common/vmm/*.c common/vmm/*.asm common/vmm/answers/*.c \
	common/vmcheck/*.c))
LAB04_CFLAGS := -Icommon

# The starter (your lab folder + lab03's folder) and the solution.  Each is
# defined only when lab03's host-state file is there to link.
ifneq ($(wildcard lab03-vmcs-setup/vmxstep2.c),)
$(eval $(call baremetal_payload,lab04,.,$(addprefix $(LAB04_DIR)/,$(LAB04_FILES)) \
	lab03-vmcs-setup/vmxstep2.c $(LAB04_SHARED),$(BUILD)/lab04,,$(LAB04_CFLAGS)))
endif
ifneq ($(wildcard solutions/lab03-vmcs-setup/vmxstep2.c $(LAB04_SOLUTION_DIR)/vm86demo.c),)
$(eval $(call baremetal_payload,lab04,.,$(addprefix $(LAB04_SOLUTION_DIR)/,$(LAB04_FILES)) \
	solutions/lab03-vmcs-setup/vmxstep2.c $(LAB04_SHARED),$(BUILD)/solutions/lab04,,$(LAB04_CFLAGS)))
endif

LAB04_BASE := $(if $(filter 1,$(SOLUTION)),$(BUILD)/solutions/lab04,$(BUILD)/lab04)/lab04.img
LAB04_PARAMS_PY := $(PYTHON) $(LAB04_DIR)/params.py

# Check the parameters while make reads this file, so a bad value stops
# before anything is built.  Only for lab04's own targets.
LAB04_GOALS := run-lab04 qemu-lab04 bochs-dbg-lab04 lab04-params
ifneq ($(filter $(LAB04_GOALS),$(MAKECMDGOALS)),)
LAB04_PARAM_NAMES := $(shell $(LAB04_PARAMS_PY) names)
lab04_quote = '$(subst ','\'',$(1))'
LAB04_ARGS := $(foreach v,$(LAB04_PARAM_NAMES),$(if $(filter command line environment,$(origin $(v))),$(call lab04_quote,$(v)=$($(v)))))
# Every command-line variable's name too: a misspelled parameter (CR0MASK=1)
# is refused instead of silently ignored.
LAB04_CMDLINE := $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v)))
LAB04_CHECK := $(shell $(LAB04_PARAMS_PY) check --command-line $(call lab04_quote,$(LAB04_CMDLINE)) $(LAB04_ARGS) 2>&1)
ifneq ($(LAB04_CHECK),)
$(error $(LAB04_CHECK))
endif
KVM ?= 0
ifeq ($(filter $(KVM),0 1),)
$(error KVM=$(KVM) must be 0 (QEMU TCG) or 1 (QEMU with KVM: an Intel host with nested VMX))
endif
endif

$(call help-line,run-lab04    lab04 in Bochs: a virtual-8086 guest; CR0_MASK= CR0_SHADOW= IO_EXITING=1 ...)
$(call help-line,qemu-lab04   lab04 in QEMU (KVM=1: an Intel host with nested VMX; TCG says "no VMX"))
$(call help-line,bochs-dbg-lab04  lab04 in Bochs with the debugger stopping at each VM exit (vmexitbp))

.PHONY: lab04 run-lab04 qemu-lab04 bochs-dbg-lab04 lab04-params

lab04: $(BUILD)/lab04/lab04.img

# The image for this parameter set: the base image itself when no parameter
# is given, else a patched copy.
lab04_image = $(if $(strip $(LAB04_ARGS) $(LAB04_OUT)),$$($(LAB04_PARAMS_PY) patch $(LAB04_BASE) $(if $(LAB04_OUT),--out $(LAB04_OUT)) $(LAB04_ARGS)),$(LAB04_BASE))

lab04-params: $(LAB04_BASE)
	@img=$(lab04_image) && echo "$$img"

run-lab04: $(LAB04_BASE)
	@img=$(lab04_image) && \
	$(PYTHON) tests/lib/emu.py bochs "$$img" --cpu $(BOCHS_CPU) --name run-lab04

qemu-lab04: $(LAB04_BASE)
	@img=$(lab04_image) && \
	$(PYTHON) tests/lib/emu.py qemu "$$img" --name qemu-lab04 $(if $(filter 1,$(KVM)),--kvm)

bochs-dbg-lab04: $(LAB04_BASE)
	@img=$(lab04_image) && \
	$(PYTHON) tests/lib/emu.py bochs-dbg "$$img" --cpu $(BOCHS_CPU) --name bochs-dbg-lab04 --rc vmexitbp \
		--elf $(LAB04_BASE:.img=.elf)
