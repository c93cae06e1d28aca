# tests/vmentry/vmentry.mk - the VM-entry differential test payload.
#
# One image, build/vmentry/vmentry.img: a valid VMCS for a 64-bit guest, one
# breakage chosen at run time (tests/vmentry/vmentry.c says how), the software
# checker (common/vmcheck/), then VMLAUNCH. tests/test_vmentry.py runs every
# case of tests/vmentry/cases.def in Bochs and compares.

# The monitor pieces (VMXON, control words, VMLAUNCH and the exit stub) are
# the kit's own, common/vmm/ (docs/CONTRACTS.md, "Monitor pieces").
VMENTRY_VMM := common/vmm/vmm_entry.asm common/vmm/exit.c common/vmm/controls.c \
	common/vmm/machine.c common/vmm/vmxon.c $(sort $(wildcard common/vmm/answers/*.c))
VMENTRY_SOURCES := tests/vmentry/vmentry.c tests/vmentry/cases.c tests/vmentry/guest.asm \
	$(sort $(wildcard common/vmcheck/*.c)) $(VMENTRY_VMM)

$(eval $(call baremetal_payload,vmentry,.,$(VMENTRY_SOURCES),$(BUILD)/vmentry,,-Icommon))

# cases.c expands cases.def: rebuild it when the list changes.
$(BUILD)/vmentry/obj/tests/vmentry/cases.o: tests/vmentry/cases.def

.PHONY: vmentry test-vmentry
vmentry: $(BUILD)/vmentry/vmentry.img

# Just this test: every case in Bochs, the table in results/vmentry/table.txt.
test-vmentry: $(BUILD)/vmentry/vmentry.img
	@$(PYTHON) -m pytest -n auto -m vmentry

$(call help-line,test-vmentry the VM-entry differential test: checker vs Bochs; table in results/vmentry/)
