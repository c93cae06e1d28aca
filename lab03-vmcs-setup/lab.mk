# lab03-vmcs-setup/lab.mk - the make targets of lab 03 (VMXON, machine[],
# controls from capabilities, VMLAUNCH).
#
#   make run-lab03        build your lab03-vmcs-setup/ and run it in Bochs
#   make bochs-dbg-lab03  the same under Bochs' debugger, stopping at every
#                         VM exit (`vmexitbp`, see README.md)
#   make lab03            just build build/lab03/lab03.img
#   make run-lab03 BREAK=FIELD=VALUE   the run with one VMCS field overwritten
#                         before VMLAUNCH (README.md, exercise 1)
#   make lab03-broken     build/lab03/broken/lab03-broken.img: the same code
#                         built with LAB03_BROKEN_CONTROL, which requires one
#                         control bit the CPU does not allow (for the grader)
# SOLUTION=1 runs solutions/lab03-vmcs-setup/ instead (build/solutions/lab03/);
# BOCHS_CPU=<model> picks the emulated CPU (default corei7_haswell_4770).
#
# Each image is the four lab sources plus the shared monitor pieces of
# common/vmm/ (exit stub, exit and error decoding, machine[]) and, when
# present, the software VM-entry checker of common/vmcheck/. They are built
# with the baremetal_payload template (mk/baremetal.mk) from the kit root
# (SRCDIR "."), so the sources keep their paths.

LAB03_DIR := lab03-vmcs-setup
LAB03_SOL_DIR := solutions/lab03-vmcs-setup
LAB03_PARTS := vmxstep1.c vmxstep2.c vmxstep3.c vmxdemo.c
LAB03_VMM := common/vmm/vmm_entry.asm common/vmm/exit.c common/vmm/controls.c \
	common/vmm/machine.c common/vmm/vmxon.c
LAB03_VMCHECK := $(sort $(wildcard common/vmcheck/*.c))
LAB03_CFLAGS := -Icommon $(if $(LAB03_VMCHECK),-DLAB03_HAVE_VMCHECK)

# lab03_image(NAME, LABDIR, OUTDIR, EXTRA_CFLAGS)
lab03_image = $(eval $(call baremetal_payload,$(1),.,$(addprefix $(2)/,$(LAB03_PARTS)) \
	$(LAB03_VMM) $(LAB03_VMCHECK),$(3),,$(LAB03_CFLAGS) -I$(2) $(4)))

$(call lab03_image,lab03,$(LAB03_DIR),$(BUILD)/lab03)
$(call lab03_image,lab03-broken,$(LAB03_DIR),$(BUILD)/lab03/broken,-DLAB03_BROKEN_CONTROL)
ifneq ($(wildcard $(LAB03_SOL_DIR)/vmxdemo.c),)
$(call lab03_image,lab03,$(LAB03_SOL_DIR),$(BUILD)/solutions/lab03)
$(call lab03_image,lab03-broken,$(LAB03_SOL_DIR),$(BUILD)/solutions/lab03/broken,-DLAB03_BROKEN_CONTROL)
endif

# The kit's own test of common/vmm/ (tests/test_lab03.py): not lab code.
# It tests the kit's answers to lab03 too (common/vmm/answers/), which a
# lab03 image never links: a lab03 grading copy of the kit has none.
$(eval $(call baremetal_payload,vmm-test,.,common/vmm/test/vmm_test.c $(LAB03_VMM) \
	$(sort $(wildcard common/vmm/answers/*.c)),$(BUILD)/vmm,,-Icommon))

LAB03_IMAGE := $(if $(filter 1,$(SOLUTION)),$(BUILD)/solutions/lab03,$(BUILD)/lab03)/lab03.img

# BREAK=FIELD=VALUE (e.g. BREAK=GUEST_TR_ACCESS_RIGHTS=0x83): the same run,
# with one VMCS component overwritten after machine[] is loaded, so you see
# what the checker and the CPU make of it (README.md, exercise 1). FIELD is a
# name from common/vmx/vmcs_fields.def, VALUE a C number.
ifneq ($(BREAK),)
LAB03_BREAK_NAME := $(word 1,$(subst =, ,$(BREAK)))
LAB03_BREAK_VALUE := $(word 2,$(subst =, ,$(BREAK)))
ifneq ($(words $(subst =, ,$(BREAK))),2)
$(error BREAK=$(BREAK) must be FIELD=VALUE, e.g. BREAK=GUEST_TR_ACCESS_RIGHTS=0x83)
endif
LAB03_BREAK_KNOWN := $(shell grep -c '^VMCS_FIELD.$(LAB03_BREAK_NAME),' common/vmx/vmcs_fields.def)
ifeq ($(LAB03_BREAK_KNOWN),0)
$(error BREAK: $(LAB03_BREAK_NAME) is not a VMCS field name of common/vmx/vmcs_fields.def)
endif
ifeq ($(shell echo '$(LAB03_BREAK_VALUE)' | grep -xE '0[xX][0-9a-fA-F]{1,16}|[0-9]{1,19}'),)
$(error BREAK: value $(LAB03_BREAK_VALUE) is not a number (0x... hex or decimal, at most 64 bits))
endif
LAB03_BREAK_DIR := $(if $(filter 1,$(SOLUTION)),$(BUILD)/solutions/lab03,$(BUILD)/lab03)/break/$(LAB03_BREAK_NAME)-$(LAB03_BREAK_VALUE)
$(call lab03_image,lab03-break,$(if $(filter 1,$(SOLUTION)),$(LAB03_SOL_DIR),$(LAB03_DIR)),$(LAB03_BREAK_DIR),-DLAB03_BREAK_FIELD=$(LAB03_BREAK_NAME) -DLAB03_BREAK_VALUE=$(LAB03_BREAK_VALUE)ull)
LAB03_IMAGE := $(LAB03_BREAK_DIR)/lab03-break.img
endif

$(call help-line,run-lab03    lab03 in Bochs: VMXON$(comma) machine[] self-test$(comma) controls$(comma) VMLAUNCH (SOLUTION=1$(comma) BOCHS_CPU=))
$(call help-line,bochs-dbg-lab03  lab03 under the Bochs debugger$(comma) stopping at each VM exit (vmexitbp))

.PHONY: lab03 lab03-broken run-lab03 bochs-dbg-lab03

lab03: $(BUILD)/lab03/lab03.img
lab03-broken: $(BUILD)/lab03/broken/lab03-broken.img

run-lab03: deps $(LAB03_IMAGE)
	@$(PYTHON) tests/lib/emu.py bochs $(LAB03_IMAGE) --cpu $(BOCHS_CPU) --name run-lab03 --timeout 60

bochs-dbg-lab03: deps $(LAB03_IMAGE)
	@$(PYTHON) tests/lib/emu.py bochs-dbg $(LAB03_IMAGE) --cpu $(BOCHS_CPU) --name bochs-dbg-lab03 --rc vmexitbp \
		--elf $(LAB03_IMAGE:.img=.elf)
