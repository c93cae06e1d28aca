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
#                               only build the image of these values; print its path
#
# The image: boot path + runtime (mk/baremetal.mk) + common/vmm (VMXON,
# machine[], controls, exit stub and decoding) + common/vmcheck (the
# software VM-entry checker) + lab03's vmxstep2.c (the host state) + this
# lab's files.  A parameter set gets an image of its own: the kit's tool
# tools/lab04params/params.py checks each value before anything is built,
# then params.c is built again with them (build/lab04/params-<hash>/).

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

LAB04_OBJDIR := $(if $(filter 1,$(SOLUTION)),$(BUILD)/solutions/lab04,$(BUILD)/lab04)
LAB04_PARAMS_PY := $(PYTHON) tools/lab04params/params.py

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

# The image for this parameter set: the lab's image itself when no
# parameter is given, else the set's own: params.c compiled with the values
# (-D flags from params.py), linked with the lab's other objects.  Its
# recipes print nothing, so a run prints the same with or without
# parameters.
LAB04_BASE := $(LAB04_OBJDIR)/lab04.img
LAB04_SRCDIR := $(if $(filter 1,$(SOLUTION)),$(LAB04_SOLUTION_DIR),$(LAB04_DIR))
LAB04_IMAGE := $(LAB04_BASE)
ifneq ($(strip $(LAB04_ARGS)),)
LAB04_SET := $(LAB04_OBJDIR)/$(shell $(LAB04_PARAMS_PY) variant $(LAB04_ARGS))
LAB04_SET_DEFINES := $(shell $(LAB04_PARAMS_PY) defines $(LAB04_ARGS))
LAB04_SET_OBJS := $(filter-out %/params.o,$($(LAB04_OBJDIR)/lab04.objs)) $(LAB04_SET)/params.o
LAB04_IMAGE := $(LAB04_SET)/lab04.img

$(LAB04_SET)/params.o: $(LAB04_SRCDIR)/params.c | $(BM_GEN_FILES)
	@mkdir -p $(@D)
	@$(BM_CC) $(BM_CFLAGS) $(LAB04_CFLAGS) $(LAB04_SET_DEFINES) -I. $(BM_INCLUDES) -c $< -o $@
-include $(LAB04_SET)/params.d
$(eval $(call baremetal_image,lab04,$(LAB04_SET),$(LAB04_SET_OBJS)))
.SILENT: $(addprefix $(LAB04_SET)/lab04.,elf bin img)
endif
LAB04_ELF := $(LAB04_IMAGE:.img=.elf)
# LAB04_OUT=path.img: a copy there (the grader keeps one per run).
ifneq ($(LAB04_OUT),)
$(LAB04_OUT): $(LAB04_IMAGE)
	@mkdir -p $(@D)
	@cp $< $@.tmp && mv $@.tmp $@
LAB04_IMAGE := $(LAB04_OUT)
endif

$(call help-line,run-lab04    lab04 in Bochs: a virtual-8086 guest; CR0_MASK= CR0_SHADOW= IO_EXITING=1 ...)
$(call help-line,qemu-lab04   lab04 in QEMU (KVM=1: an Intel host with nested VMX; TCG says "no VMX"))
$(call help-line,bochs-dbg-lab04  lab04 in Bochs with the debugger stopping at each VM exit (vmexitbp))

.PHONY: lab04 run-lab04 qemu-lab04 bochs-dbg-lab04 lab04-params

lab04: $(BUILD)/lab04/lab04.img

lab04-params: $(LAB04_IMAGE)
	@echo "$<"

run-lab04: $(LAB04_IMAGE)
	@$(PYTHON) tests/lib/emu.py bochs "$<" --cpu $(BOCHS_CPU) --name run-lab04

qemu-lab04: $(LAB04_IMAGE)
	@$(PYTHON) tests/lib/emu.py qemu "$<" --name qemu-lab04 $(if $(filter 1,$(KVM)),--kvm)

bochs-dbg-lab04: $(LAB04_IMAGE)
	@$(PYTHON) tests/lib/emu.py bochs-dbg "$<" --cpu $(BOCHS_CPU) --name bochs-dbg-lab04 --rc vmexitbp \
		--elf $(LAB04_ELF)
