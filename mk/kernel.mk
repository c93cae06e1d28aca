# mk/kernel.mk - kernels and kernel modules for the module labs (lab01, lab02).
#
# Two kernels, each with the lab modules built against it:
#
#   debian  Debian's packaged kernel (linux-image-amd64) and its headers
#           (linux-headers-amd64). QEMU boots it with -kernel/-initrd. The
#           version is resolved from the installed metapackage and the headers
#           must be the same version, or the build stops naming both.
#   mini    a small kernel built from Debian's linux-source-6.1: tinyconfig +
#           common/kernel/minimal.config. Bochs boots it from an isolinux ISO
#           in about 10 s (Debian's kernel needs about 2 minutes there). Built
#           once into build/kernel/obj; rebuilt only when the fragment or the
#           linux-source package version changes (the stamp's name holds both).
#
# Module builds copy a lab folder (or its solution) to
# build/kernel/mod/<kernel>/<lab|sol>/labNN-name/, so the source folders stay
# free of build output, and pass KIT_ROOT (this folder) so the Kbuild's
# `-I$(KIT_ROOT)/common/include` finds the shared headers from the copy too.
# Each lab's lab.mk calls the kernel_lab template below for its make targets.

KERNEL_BUILD := $(BUILD)/kernel
KERNEL_FRAGMENT := common/kernel/minimal.config
KERNEL_SOURCE_PKG := linux-source-6.1
KERNEL_SOURCE_TAR := /usr/src/linux-source-6.1.tar.xz
KERNEL_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
KBOOT := $(PYTHON) common/kernel/kboot.py

MINI_SRC := $(KERNEL_BUILD)/linux-source-6.1
MINI_OBJ := $(KERNEL_BUILD)/obj
MINI_BZIMAGE := $(MINI_OBJ)/arch/x86/boot/bzImage
MINI_HASH := $(shell { md5sum < $(KERNEL_FRAGMENT); \
	dpkg-query -W -f='$${Version}' $(KERNEL_SOURCE_PKG) 2>/dev/null; } | md5sum | cut -c1-12)
MINI_STAMP := $(MINI_OBJ)/.vmxlab-built-$(MINI_HASH)
MINI_MAKE = $(MAKE) --no-print-directory -C $(MINI_SRC) O=$(abspath $(MINI_OBJ)) ARCH=x86_64

DEBIAN_ENV := $(KERNEL_BUILD)/debian-kernel.env
POWEROFF := $(KERNEL_BUILD)/tools/vmxlab-poweroff

.PHONY: kernel kernel-debian FORCE
$(call help-line,kernel       build the minimal kernel for Bochs (once; 2 to 4 minutes on 2 cores))
$(call help-line,qemu-check-labNN  lab01/02: the tests' module checks (reload x20, 8 readers, dd, non-root) in QEMU; bochs-check-labNN in Bochs)

kernel: $(MINI_STAMP)
kernel-debian: $(DEBIAN_ENV)

# --- Debian's kernel: resolve the version, check the headers match ------------
# Runs every time (cheap dpkg queries); the file is rewritten only when its
# content changes, so modules are rebuilt only after a kernel upgrade.
$(DEBIAN_ENV): FORCE
	@mkdir -p $(@D)
	@sh common/kernel/debian-kernel.sh > $@.tmp || { rm -f $@.tmp; exit 1; }
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

FORCE:

# --- The minimal kernel --------------------------------------------------------
$(MINI_SRC)/Makefile: | $(KERNEL_SOURCE_TAR)
	@echo "kernel: extracting $(KERNEL_SOURCE_TAR) into $(KERNEL_BUILD)/"
	@mkdir -p $(KERNEL_BUILD)
	@tar -xJf $(KERNEL_SOURCE_TAR) -C $(KERNEL_BUILD)
	@touch $@

$(KERNEL_SOURCE_TAR):
	@echo "error: $@ is missing: install $(KERNEL_SOURCE_PKG) (make deps)" >&2; exit 1

# The log of the build is kept; a failure shows its last lines.
$(MINI_STAMP): | $(MINI_SRC)/Makefile
	@echo "kernel: building the minimal kernel (tinyconfig + $(KERNEL_FRAGMENT)), -j$(KERNEL_JOBS);" \
		"2 to 4 minutes on 2 cores, log in $(KERNEL_BUILD)/build.log"
	@rm -f $(MINI_OBJ)/.vmxlab-built-*
	@mkdir -p $(MINI_OBJ)
	@{ $(MINI_MAKE) tinyconfig && \
	   $(MINI_SRC)/scripts/kconfig/merge_config.sh -m -O $(abspath $(MINI_OBJ)) \
		$(abspath $(MINI_OBJ))/.config $(KERNEL_FRAGMENT) && \
	   $(MINI_MAKE) olddefconfig; } > $(KERNEL_BUILD)/config.log 2>&1 || \
		{ tail -n 20 $(KERNEL_BUILD)/config.log >&2; exit 1; }
	@sh common/kernel/check-config.sh $(KERNEL_FRAGMENT) $(MINI_OBJ)/.config
	@start=$$(date +%s); \
	$(MINI_MAKE) -j$(KERNEL_JOBS) bzImage modules > $(KERNEL_BUILD)/build.log 2>&1 || \
		{ tail -n 30 $(KERNEL_BUILD)/build.log >&2; \
		  echo "error: the minimal kernel did not build; log: $(KERNEL_BUILD)/build.log" >&2; exit 1; }; \
	secs=$$(( $$(date +%s) - start )); echo $$secs > $(KERNEL_BUILD)/build-seconds; \
	echo "kernel: $(MINI_BZIMAGE) built in $$secs s"
	@touch $@

# --- Initramfs helper ------------------------------------------------------------
$(POWEROFF): common/kernel/vmxlab-poweroff.c common/include/platform/emu_exit.h common/platform/emu_exit.def
	@mkdir -p $(@D)
	$(CC) -static -Os -Wall -Wextra -Icommon/include -o $@ $<

# --- Module builds -------------------------------------------------------------
# $(call kmod_build,KERNEL,SRCDIR,OUTDIR,MODULE): the recipe lines that copy
# SRCDIR's Kbuild and C files to OUTDIR and run kbuild there.
# Read when the recipe runs, after $(DEBIAN_ENV) was brought up to date.
KMOD_KDIR_debian = $(shell sed -n 's/^DEBIAN_KDIR=//p' $(DEBIAN_ENV))
KMOD_KDIR_mini = $(abspath $(MINI_OBJ))

define kmod_build
	@rm -rf $(3) && mkdir -p $(3)
	@cp $(2)/Kbuild $(wildcard $(2)/*.c $(2)/*.h) $(3)/
	@echo "kbuild: $(4).ko from $(2)/ against the $(1) kernel"
	@$(MAKE) --no-print-directory -C $$(KMOD_KDIR_$(1)) M=$(abspath $(3)) KIT_ROOT=$(abspath .) modules \
		> $(3)/build.log 2>&1 || { cat $(3)/build.log >&2; \
		echo "error: $(4).ko did not build from $(2)/ (log: $(3)/build.log)" >&2; exit 1; }
	@grep -E 'warning:' $(3)/build.log >&2 || true
endef

KMOD_DEPS_debian := $(DEBIAN_ENV)
KMOD_DEPS_mini := $(MINI_STAMP)
KMOD_COMMON := $(wildcard common/include/vmx/*.h common/vmx/*.def)

# $(call kernel_lab,NN,LABDIR,MODULE): the modules of one lab for both kernels
# and both source trees, and its run-labNN / qemu-labNN / bochs-dbg-labNN.
#   build/kernel/mod/debian/lab/LABDIR/MODULE.ko   your code, Debian's kernel
#   build/kernel/mod/mini/sol/LABDIR/MODULE.ko     the solution, minimal kernel
define kernel_lab
$(foreach k,debian mini,
$(KERNEL_BUILD)/mod/$(k)/lab/$(2)/$(3).ko: $(wildcard $(2)/Kbuild $(2)/*.c $(2)/*.h) $(KMOD_COMMON) $(KMOD_DEPS_$(k))
$(call kmod_build,$(k),$(2),$(KERNEL_BUILD)/mod/$(k)/lab/$(2),$(3))
$(KERNEL_BUILD)/mod/$(k)/sol/$(2)/$(3).ko: $(wildcard solutions/$(2)/Kbuild solutions/$(2)/*.c solutions/$(2)/*.h) $(KMOD_COMMON) $(KMOD_DEPS_$(k))
$(call kmod_build,$(k),solutions/$(2),$(KERNEL_BUILD)/mod/$(k)/sol/$(2),$(3))
)
LAB$(1)_TREE := $$(if $$(filter 1,$$(SOLUTION)),sol,lab)
LAB$(1)_KO_debian = $(KERNEL_BUILD)/mod/debian/$$(LAB$(1)_TREE)/$(2)/$(3).ko
LAB$(1)_KO_mini = $(KERNEL_BUILD)/mod/mini/$$(LAB$(1)_TREE)/$(2)/$(3).ko

# (The handout has no solutions/: there `make all` builds no module.)
ALL_TARGETS += $(if $(wildcard solutions/$(2)/Kbuild),$(foreach k,debian mini,$(KERNEL_BUILD)/mod/$(k)/sol/$(2)/$(3).ko) $(POWEROFF))

.PHONY: lab$(1) run-lab$(1) qemu-lab$(1) bochs-dbg-lab$(1) qemu-check-lab$(1) bochs-check-lab$(1)
lab$(1): $$(LAB$(1)_KO_debian) $$(LAB$(1)_KO_mini) $(POWEROFF)

run-lab$(1): deps $$(LAB$(1)_KO_mini) $(POWEROFF)
	@$(KBOOT) bochs --cpu $$(BOCHS_CPU) --name run-lab$(1)-$$(BOCHS_CPU) $$(LAB$(1)_KO_mini)

qemu-lab$(1): deps $$(LAB$(1)_KO_debian) $(POWEROFF)
	@$(KBOOT) qemu --name qemu-lab$(1) $$(LAB$(1)_KO_debian)

bochs-dbg-lab$(1): deps $$(LAB$(1)_KO_mini) $(POWEROFF)
	@$(KBOOT) bochs-dbg --cpu $$(BOCHS_CPU) --name bochs-dbg-lab$(1) $$(LAB$(1)_KO_mini)

# The robustness checks of the tests (common/kernel/checks.sh) on this lab's
# module: load, cat, mode, non-root read, dd bs=1, 8 readers, 20 reloads, dmesg.
qemu-check-lab$(1): deps $$(LAB$(1)_KO_debian) $(POWEROFF)
	@$(KBOOT) qemu-checks --cpus 2 --name qemu-check-lab$(1) $$(LAB$(1)_KO_debian)

bochs-check-lab$(1): deps $$(LAB$(1)_KO_mini) $(POWEROFF)
	@$(KBOOT) bochs-checks --cpu $$(BOCHS_CPU) --timeout 300 --name bochs-check-lab$(1)-$$(BOCHS_CPU) $$(LAB$(1)_KO_mini)
endef
