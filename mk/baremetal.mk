# mk/baremetal.mk - build bare-metal payloads: floppy images that boot in
# Bochs and QEMU into 64-bit long mode and run `void lab_main(void)`.
#
# A payload image = the boot sector (common/boot/bootsect.asm) + one ELF
# linked by common/boot/payload.ld from: setup (common/boot/setup.asm), the
# runtime (common/rt/), and the payload's own C and NASM sources.  The memory
# map is drawn in payload.ld; the API the payload sees is common/include/rt.h.
#
# Use (in a lab.mk or another fragment; the docs are in docs/CONTRACTS.md,
# "Building a payload"):
#
#   $(eval $(call baremetal_payload,NAME,SRCDIR,SOURCES,OUTDIR[,HIGH_SOURCES[,CFLAGS]]))
#
#   NAME          image name: OUTDIR/NAME.img (1.44 MB floppy), OUTDIR/NAME.elf
#                 (with symbols, for objdump/gdb), OUTDIR/NAME.map (linker map)
#   SRCDIR        folder of the sources
#   SOURCES       .c and .asm files, relative to SRCDIR (subfolders allowed)
#   OUTDIR        where the outputs go (under build/)
#   HIGH_SOURCES  optional .c/.asm files (relative to SRCDIR) whose code and
#                 data run at the top 64 MiB, 0xFFFFFFFFFC000000 upward
#   CFLAGS        optional extra C flags for this payload (e.g. -DSOLUTION)
#
# The image is appended to ALL_TARGETS.  C sources see -I SRCDIR,
# -I common/include (rt.h, vmx/*.h) and -I build/gen; NASM sources see the
# same folders with -I, so generated .inc files in build/gen/ are includable.
# Fragments that generate files in build/gen/ add them to BM_GEN_FILES so
# payload objects are built after them.

BM_CC      := gcc
BM_LD      := ld
BM_OBJCOPY := objcopy
BM_NASM    := nasm

BM_INCLUDES := -Icommon/include -I$(BUILD)/gen
BM_CFLAGS := -std=gnu11 -ffreestanding -fno-pic -fno-pie -mcmodel=kernel \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector -nostdlib \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-common \
	-fno-tree-loop-distribute-patterns -O2 -g -Wall -Wextra -MMD -MP
BM_NASMFLAGS := -f elf64 -g -Icommon/include/ -I$(BUILD)/gen/
BM_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack \
	--build-id=none --no-warn-rwx-segments -T common/boot/payload.ld
BM_LDSCRIPT := common/boot/payload.ld
BM_BOOTSECT := common/boot/bootsect.asm
BM_FLOPPY_BYTES := 1474560

# The runtime: built once into build/rt/, linked into every payload.
BM_RT_DIR := $(BUILD)/rt
BM_RT_C   := $(sort $(wildcard common/rt/*.c))
BM_RT_ASM := common/boot/setup.asm $(sort $(wildcard common/rt/*.asm))
BM_RT_OBJS := $(patsubst common/%.c,$(BM_RT_DIR)/%.o,$(BM_RT_C)) \
	$(patsubst common/%.asm,$(BM_RT_DIR)/%.o,$(BM_RT_ASM))

$(BM_RT_DIR)/%.o: common/%.c
	@mkdir -p $(@D)
	$(BM_CC) $(BM_CFLAGS) $(BM_INCLUDES) -Icommon/rt -c $< -o $@

$(BM_RT_DIR)/%.o: common/%.asm
	@mkdir -p $(@D)
	$(BM_NASM) $(BM_NASMFLAGS) -MD $(@:.o=.d) $< -o $@

-include $(BM_RT_OBJS:.o=.d)

# setup.asm takes the CR0/CR4/EFER bit names, the UART and the exit ports
# from the fact lists (mk/facts.mk).
BM_SETUP_GEN := $(addprefix $(BUILD)/gen/,cpu_bits.inc uart.inc emu_exit.inc)
$(BM_RT_DIR)/boot/setup.o: $(BM_SETUP_GEN)

# bm_objs(SRCDIR,SOURCES,OBJDIR): object file names for sources.
bm_objs = $(patsubst %,$(3)/%.o,$(basename $(2)))

# baremetal_payload(NAME,SRCDIR,SOURCES,OUTDIR,HIGH_SOURCES,CFLAGS)
define baremetal_payload
$(4)/$(1).objs := $(call bm_objs,$(2),$(3),$(4)/obj) \
	$(call bm_objs,$(2),$(5),$(4)/obj/high)

$(4)/obj/%.o: $(2)/%.c | $$(BM_GEN_FILES)
	@mkdir -p $$(@D)
	$$(BM_CC) $$(BM_CFLAGS) $(6) -I$(2) $$(BM_INCLUDES) -c $$< -o $$@

$(4)/obj/%.o: $(2)/%.asm | $$(BM_GEN_FILES)
	@mkdir -p $$(@D)
	$$(BM_NASM) $$(BM_NASMFLAGS) -I$(2)/ -MD $$(@:.o=.d) $$< -o $$@

# High objects: compiled as usual, then every allocated section renamed
# .text -> .high.text, .rodata.str1.1 -> .high.rodata.str1.1, ... so that
# payload.ld places them at BOOT_HIGH_VIRT.
$(4)/obj/high/%.o: $(4)/obj/high/%.low.o
	$$(BM_OBJCOPY) --prefix-alloc-sections=.high $$< $$@

$(if $(strip $(5)),.SECONDARY: $(patsubst %.o,%.low.o,$(call bm_objs,$(2),$(5),$(4)/obj/high)))

$(4)/obj/high/%.low.o: $(2)/%.c | $$(BM_GEN_FILES)
	@mkdir -p $$(@D)
	$$(BM_CC) $$(BM_CFLAGS) $(6) -I$(2) $$(BM_INCLUDES) -c $$< -o $$@

$(4)/obj/high/%.low.o: $(2)/%.asm | $$(BM_GEN_FILES)
	@mkdir -p $$(@D)
	$$(BM_NASM) $$(BM_NASMFLAGS) -I$(2)/ -MD $$(@:.o=.d) $$< -o $$@

$(call baremetal_image,$(1),$(4),$$($(4)/$(1).objs))

-include $$($(4)/$(1).objs:.o=.d) $$(patsubst %.o,%.low.d,$$(filter $(4)/obj/high/%,$$($(4)/$(1).objs)))

ALL_TARGETS += $(4)/$(1).img
endef

# baremetal_image(NAME,OUTDIR,OBJS): link OBJS with the runtime into
# OUTDIR/NAME.elf (and .map, .bin), then the floppy OUTDIR/NAME.img. Used by
# baremetal_payload, and by lab04 for an image per parameter set (its own
# params.o with the other objects of the lab's image).
# (A payload may link another runtime by setting NAME_RT_OBJS; the boot
# self-tests do.)
define baremetal_image
$(2)/$(1).elf: $(3) $$(or $$($(1)_RT_OBJS),$$(BM_RT_OBJS)) $$(BM_LDSCRIPT)
	$$(BM_LD) $$(BM_LDFLAGS) -Map=$(2)/$(1).map -o $$@ \
		$$(or $$($(1)_RT_OBJS),$$(BM_RT_OBJS)) $(3)

$(2)/$(1).bin: $(2)/$(1).elf
	$$(BM_OBJCOPY) -O binary $$< $$@

# The boot sector is assembled for this image: it reads exactly the sectors
# of NAME.bin.  Then boot sector + payload, padded to a 1.44 MB floppy.
$(2)/$(1).img: $(2)/$(1).bin $$(BM_BOOTSECT) $(BUILD)/gen/uart.inc
	$$(BM_NASM) -f bin -I$(BUILD)/gen/ -DPAYLOAD_SECTORS=$$$$(( ($$$$(stat -c %s $$<) + 511) / 512 )) \
		$$(BM_BOOTSECT) -o $(2)/$(1).bootsect
	cat $(2)/$(1).bootsect $$< > $$@.tmp
	truncate -s $$(BM_FLOPPY_BYTES) $$@.tmp
	mv $$@.tmp $$@
endef

# --- The boot path's own payloads ---------------------------------------------

# `make run` step 1: the VMX capability MSRs of the emulated CPU.
$(eval $(call baremetal_payload,msrdump,common/msrdump,msrdump.c,$(BUILD)/msrdump))

# Test payloads for tests/test_boot.py.
$(eval $(call baremetal_payload,hello,tests/payloads,hello.c,$(BUILD)/boot/tests))
$(eval $(call baremetal_payload,fault,tests/payloads,fault.c,$(BUILD)/boot/tests))
$(eval $(call baremetal_payload,highmap,tests/payloads,highmap.c,$(BUILD)/boot/tests,highmap_high.c highmap_asm.asm))
$(eval $(call baremetal_payload,vmxops,tests/payloads,vmxops.c,$(BUILD)/boot/tests))

# A payload whose setup faults on purpose in 32-bit protected mode (the
# 32-bit IDT of setup.asm must report it): setup assembled with
# -DBOOT_SELFTEST_FAULT32, the rest of the runtime as usual.
$(BUILD)/boot/tests/setupfault/setup.o: common/boot/setup.asm $(BM_SETUP_GEN)
	@mkdir -p $(@D)
	$(BM_NASM) $(BM_NASMFLAGS) -DBOOT_SELFTEST_FAULT32 $< -o $@
setupfault_RT_OBJS := $(BUILD)/boot/tests/setupfault/setup.o \
	$(filter-out $(BM_RT_DIR)/boot/setup.o,$(BM_RT_OBJS))
$(eval $(call baremetal_payload,setupfault,tests/payloads,hello.c,$(BUILD)/boot/tests/setupfault))
$(eval $(call baremetal_payload,bigimage,tests/payloads,bigimage.c bigblob.asm,$(BUILD)/boot/tests))
