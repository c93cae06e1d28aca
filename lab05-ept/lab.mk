# lab05-ept/lab.mk - lab05: EPT and VPID in a modular monitor linked at the
# top 64 MiB, run on two vCPUs, assembled from the labs. Included by the top
# GNUmakefile.
#
#   make run-lab05 [SOLUTION=1] [BOCHS_CPU=model] [GPHYS=ept|none] [STATS=on|none]
#                  [VMXBASE=lab03|kit] [TEST=none|guard0|guard1] [VCPU0="..."] [VCPU1="..."]
#       build the monitor the config chose (lab05-ept/monitor.cfg; a
#       variable overrides one line) and run it in Bochs with two CPUs
#   make bochs-dbg-lab05   the same with the Bochs debugger (vmexitbp; README)
#   make lab05             just build it and print the image's path
#
# What is built (build/lab05/<variant>/ or build/solutions/lab05/<variant>/):
#   monitor.elf   the monitor: the chosen module objects linked by GNU ld with
#                 common/monitor/monitor.ld.S at 0xFFFFFFFFFC000000 (.map too)
#   lab05.img     the host side (common/monitor/host/) as a boot-path payload,
#                 carrying monitor.elf and the guests' images
# The modules: common/monitor/ (core, hv = vt, gphys = ept | none, stats),
# your lab03 (vmxbase = lab03) or the kit's answers (vmxbase = kit), your
# lab04 (the vm86 guest and I/O exits), your lab05 (ept.c).

LAB05_DIR := lab05-ept
LAB05_CFG := $(LAB05_DIR)/monitor.cfg
LAB05_CFG_PY := $(PYTHON) tools/monitorcfg/monitorcfg.py
LAB05_VARS := GPHYS STATS VMXBASE VM86 TEST VCPU0 VCPU1
lab05_quote = '$(subst ','\'',$(1))'
LAB05_ARGS := $(foreach v,$(LAB05_VARS),$(if $(filter command line environment,$(origin $(v))),$(call lab05_quote,$(v)=$($(v)))))
# make core-lab05 panics on purpose: test = panic1 unless TEST= says panic0.
ifeq ($(filter core-lab05,$(MAKECMDGOALS)),core-lab05)
ifeq ($(filter panic%,$(TEST)),)
LAB05_ARGS += 'TEST=panic1'
endif
endif
LAB05_CFG_ARGS := --cfg $(LAB05_CFG) $(LAB05_ARGS)
lab05_get = $(shell MONITORCFG_KEY=$(1) $(LAB05_CFG_PY) get $(LAB05_CFG_ARGS) 2>/dev/null)

LAB05_GOALS := lab05 run-lab05 bochs-dbg-lab05 stats-lab05 core-lab05
ifneq ($(filter $(LAB05_GOALS),$(MAKECMDGOALS)),)
LAB05_CHECK := $(shell $(LAB05_CFG_PY) check $(LAB05_CFG_ARGS) 2>&1)
ifneq ($(LAB05_CHECK),)
$(error $(LAB05_CHECK))
endif
endif

LAB05_SOL := $(filter 1,$(SOLUTION))
LAB05_SRC := $(if $(LAB05_SOL),solutions/lab05-ept,$(LAB05_DIR))
LAB05_LAB03 := $(if $(LAB05_SOL),solutions/lab03-vmcs-setup,lab03-vmcs-setup)
LAB05_VM86 := $(call lab05_get,vm86)
# vm86 = kit: the kit's own solution of lab04 stands in for the student's.
LAB05_LAB04 := $(if $(or $(LAB05_SOL),$(filter kit,$(LAB05_VM86))),solutions/lab04-vm86-guest,lab04-vm86-guest)
ifneq ($(filter $(LAB05_GOALS),$(MAKECMDGOALS)),)
ifeq ($(wildcard $(LAB05_LAB04)/vm86_io.c),)
$(error lab05: vm86 = kit links the kit's solution of lab04 ($(LAB05_LAB04)/), which this copy of the kit (a student handout) does not have: finish TODO(lab04) and use vm86 = lab04)
endif
endif
LAB05_VARIANT := $(shell $(LAB05_CFG_PY) variant $(LAB05_CFG_ARGS) 2>/dev/null)
LAB05_GPHYS := $(call lab05_get,gphys)
LAB05_VMXBASE := $(call lab05_get,vmxbase)
LAB05_IMAGES := $(call lab05_get,images)
LAB05_OUT := $(BUILD)/$(if $(LAB05_SOL),solutions/)lab05/$(LAB05_VARIANT)

# The guests that are boot-path payloads (msrdump is the boot path's own).
$(eval $(call baremetal_payload,longmode,common/guests,longmode.c,$(BUILD)/guests))
$(eval $(call baremetal_payload,vmxprobe,common/guests,vmxprobe.c,$(BUILD)/guests))
$(eval $(call baremetal_payload,memtest,common/guests,memtest.c,$(BUILD)/guests))
$(eval $(call baremetal_payload,vmcallbench,common/guests,vmcallbench.c,$(BUILD)/guests))
lab05_image_bin = $(if $(filter msrdump,$(1)),$(BUILD)/msrdump/msrdump.bin,$(BUILD)/guests/$(1).bin)

# --- The monitor ----------------------------------------------------------------
LAB05_MON_C := $(addprefix common/monitor/,mon_core.c mon_console.c mon_mm.c hv_vt.c guests.c \
	stats.c gphys_$(LAB05_GPHYS).c vmxbase_$(LAB05_VMXBASE).c) \
	common/rt/printf.c common/rt/string.c \
	$(sort $(wildcard common/vmm/*.c common/vmm/answers/*.c common/vmcheck/*.c)) \
	$(LAB05_LAB03)/vmxstep2.c \
	$(if $(filter lab03,$(LAB05_VMXBASE)),$(addprefix $(LAB05_LAB03)/,vmxstep1.c vmxstep3.c vmxdemo.c)) \
	$(addprefix $(LAB05_LAB04)/,vm86_guest.c vm86_io.c vm86demo.c params.c) \
	$(if $(filter ept,$(LAB05_GPHYS)),$(LAB05_SRC)/ept.c)
LAB05_MON_ASM := common/monitor/mon_entry.asm common/monitor/hv_vt_entry.asm common/rt/isr.asm common/vmm/vmm_entry.asm \
	$(LAB05_LAB04)/guest.asm
LAB05_MON_OBJS := $(patsubst %,$(LAB05_OUT)/mon/%.o,$(basename $(LAB05_MON_C) $(LAB05_MON_ASM)))
LAB05_MON_CFLAGS := -I$(LAB05_OUT) -Icommon/monitor -Icommon -I$(LAB05_SRC) -I$(LAB05_LAB03) \
	-I$(LAB05_LAB04) -DLAB05_MONITOR

$(LAB05_OUT)/mon_config.h: $(LAB05_CFG) tools/monitorcfg/monitorcfg.py
	@mkdir -p $(@D)
	@$(LAB05_CFG_PY) header $(LAB05_CFG_ARGS) > $@.tmp && mv $@.tmp $@

# lab_main of lab03 and lab04 stays in their objects under another name: the
# monitor's entry is mon_start.
$(LAB05_OUT)/mon/%.o: %.c $(LAB05_OUT)/mon_config.h | $(BM_GEN_FILES)
	@mkdir -p $(@D)
	$(BM_CC) $(BM_CFLAGS) $(LAB05_MON_CFLAGS) $(BM_INCLUDES) \
		-Dlab_main=$(subst -,_,$(notdir $(*D)))_lab_main -c $< -o $@
$(LAB05_OUT)/mon/%.o: %.asm | $(BM_GEN_FILES)
	@mkdir -p $(@D)
	$(BM_NASM) $(BM_NASMFLAGS) -I$(dir $<) -MD $(@:.o=.d) $< -o $@
-include $(LAB05_MON_OBJS:.o=.d)

$(LAB05_OUT)/monitor.ld: common/monitor/monitor.ld.S common/monitor/layout.h
	@mkdir -p $(@D)
	cpp -P -undef -Icommon/monitor $< -o $@

$(LAB05_OUT)/monitor.elf: $(LAB05_MON_OBJS) $(LAB05_OUT)/monitor.ld
	$(BM_LD) -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
		--build-id=sha1 -T $(LAB05_OUT)/monitor.ld -Map=$(LAB05_OUT)/monitor.map -o $@ $(LAB05_MON_OBJS)

# The copy the host side carries: without debug information (the image must
# fit below 640 KiB); symbols stay. monitor.elf keeps everything, for gdb.
$(LAB05_OUT)/monitor.load.elf: $(LAB05_OUT)/monitor.elf
	$(BM_OBJCOPY) --strip-debug $< $@

# --- The host side -------------------------------------------------------------
$(LAB05_OUT)/host_images.asm: $(LAB05_DIR)/lab.mk $(LAB05_OUT)/monitor.load.elf $(foreach i,$(LAB05_IMAGES),$(call lab05_image_bin,$(i)))
	@{ echo "; host_images.asm - generated by lab05-ept/lab.mk: the monitor ELF and the guests' images"; \
	  echo "section .rodata"; echo "global monitor_elf, monitor_elf_end, host_guest_images, host_guest_image_count"; \
	  echo "align 4096"; echo "monitor_elf: incbin \"$(LAB05_OUT)/monitor.load.elf\""; echo "monitor_elf_end:"; \
	  $(foreach i,$(LAB05_IMAGES),echo "align 4096, db 0"; echo "image_$(i): incbin \"$(call lab05_image_bin,$(i))\""; echo "image_$(i)_end:";) \
	  echo "align 4096, db 0"; echo "align 8"; echo "host_guest_images:"; \
	  $(foreach i,$(LAB05_IMAGES),echo "name_$(i): db \"$(i)\""; echo "  times 16 - ($$ - name_$(i)) db 0"; \
	    echo "  dq image_$(i), image_$(i)_end - image_$(i)";) \
	  echo "host_guest_image_count: dq $(words $(LAB05_IMAGES))"; } > $@

$(LAB05_OUT)/host/%.o: common/monitor/host/%.c $(LAB05_OUT)/mon_config.h | $(BM_GEN_FILES)
	@mkdir -p $(@D)
	$(BM_CC) $(BM_CFLAGS) -I$(LAB05_OUT) -Icommon/monitor $(BM_INCLUDES) -c $< -o $@
$(LAB05_OUT)/host/%.o: common/monitor/host/%.asm
	@mkdir -p $(@D)
	$(BM_NASM) $(BM_NASMFLAGS) $< -o $@
$(LAB05_OUT)/host/host_images.o: $(LAB05_OUT)/host_images.asm
	@mkdir -p $(@D)
	$(BM_NASM) $(BM_NASMFLAGS) $< -o $@

LAB05_HOST_OBJS := $(addprefix $(LAB05_OUT)/host/,host.o core.o host_switch.o host_images.o)
$(eval $(call baremetal_image,lab05,$(LAB05_OUT),$(LAB05_HOST_OBJS)))
LAB05_IMAGE := $(LAB05_OUT)/lab05.img

$(call help-line,run-lab05    lab05 in Bochs (2 CPUs): the EPT/VPID monitor; GPHYS= STATS= VMXBASE= TEST= VCPU0= VCPU1=)
$(call help-line,bochs-dbg-lab05  lab05 in Bochs with the debugger stopping at each VM exit (vmexitbp))
$(call help-line,stats-lab05  run lab05, then vmxstat: the counters per vCPU, CSV, JSON and a PNG of exits by reason)
$(call help-line,core-lab05   lab05 with a panic on purpose (TEST=panic1): its core, opened in gdb with corequery)

.PHONY: lab05 run-lab05 bochs-dbg-lab05 stats-lab05 core-lab05
lab05: $(LAB05_IMAGE)
	@echo "$<"

run-lab05: $(LAB05_IMAGE)
	@$(PYTHON) tests/lib/emu.py bochs "$<" --cpu $(BOCHS_CPU) --cpus 2 --com2 --name run-lab05

# The counters: the run writes them on COM2 (results/stats-lab05/com2.bin);
# tools/vmxstat/vmxstat.py names them from this build's monitor.elf.
LAB05_STATS_DIR := results/stats-lab05
stats-lab05: $(LAB05_IMAGE)
	@$(PYTHON) tests/lib/emu.py bochs "$<" --cpu $(BOCHS_CPU) --cpus 2 --com2 --name stats-lab05
	@$(PYTHON) tools/vmxstat/vmxstat.py $(LAB05_OUT)/monitor.elf $(LAB05_STATS_DIR)/com2.bin \
		--csv $(LAB05_STATS_DIR)/stats.csv --json $(LAB05_STATS_DIR)/stats.json --png $(LAB05_STATS_DIR)/exits.png

# A panic on purpose (test = panicN; TEST=panic0 for vCPU 0), the core the
# host side writes on COM2, taken out by tools/vmxcore and opened in gdb with
# the corequery commands (`help user`); without a terminal gdb runs a few
# of them and exits.
LAB05_CORE_DIR := results/core-lab05
LAB05_GDB_SHOW := -ex 'info threads' -ex 'bt' -ex 'vmx-panic' -ex 'vmx-vcpus'
core-lab05: $(LAB05_IMAGE)
	@$(PYTHON) tests/lib/emu.py bochs "$<" --cpu $(BOCHS_CPU) --cpus 2 --com2 --name core-lab05
	@$(PYTHON) tools/vmxcore/vmxcore.py $(LAB05_OUT)/monitor.elf $(LAB05_CORE_DIR)/com2.bin $(LAB05_CORE_DIR)/monitor.core
	@echo "core-lab05: gdb $(LAB05_OUT)/monitor.elf $(LAB05_CORE_DIR)/monitor.core -x tools/vmxcore/corequery.py"
	@if [ -t 0 ]; then gdb -q $(LAB05_GDB_SHOW) -x tools/vmxcore/corequery.py $(LAB05_OUT)/monitor.elf $(LAB05_CORE_DIR)/monitor.core; \
	else gdb -q -batch -x tools/vmxcore/corequery.py $(LAB05_GDB_SHOW) $(LAB05_OUT)/monitor.elf $(LAB05_CORE_DIR)/monitor.core; fi

bochs-dbg-lab05: $(LAB05_IMAGE)
	@$(PYTHON) tests/lib/emu.py bochs-dbg "$<" --cpu $(BOCHS_CPU) --cpus 2 --com2 --name bochs-dbg-lab05 \
		--rc vmexitbp --elf $(LAB05_OUT)/monitor.elf

# The demo's lab05 images (tests/demo.py, step 4 of make run): monitor.cfg as
# it is, the solutions' tree and the student's, at fixed paths. A make of its
# own decides what is out of date (the config picks the objects).
# (Not in that make itself: there LAB05_OUT is the demo's folder and these
# rules would call it again, for ever.)
ifneq ($(origin LAB05_OUT),command line)
.PHONY: lab05-demo-force
$(BUILD)/solutions/lab05/demo/lab05.img: lab05-demo-force
	@$(MAKE) --no-print-directory -s lab05 SOLUTION=1 LAB05_OUT=$(BUILD)/solutions/lab05/demo >/dev/null
$(BUILD)/lab05/demo/lab05.img: lab05-demo-force
	@$(MAKE) --no-print-directory -s lab05 SOLUTION=0 LAB05_OUT=$(BUILD)/lab05/demo >/dev/null
endif
