# mk/deps.mk - the kit installs its own Debian packages.
#
# `make deps` checks every package below with dpkg-query and installs only the
# missing ones (apt-get update once, then apt-get install). It is quiet when
# everything is present. `run`, `test` and `grade` depend on it, so a fresh
# Debian 12 machine needs no manual step. Without root (and without sudo) it
# stops and names the packages it could not install.

# What the bare-metal labs need (make deps-baremetal: the Gradescope bundle
# of lab03/lab04 on an image without Debian's kernel packages) ...
DEPS_BAREMETAL := make gcc binutils nasm python3 util-linux coreutils \
	bochs bochsbios vgabios bubblewrap
# ... and everything: the kernel-module labs, QEMU, the unit tests.
DEPS_PACKAGES := \
	$(DEPS_BAREMETAL) \
	qemu-system-x86 \
	libcmocka-dev \
	busybox-static cpio xorriso isolinux syslinux-common \
	linux-image-amd64 linux-headers-amd64 linux-source-6.1 \
	bc flex bison libelf-dev libssl-dev kmod xz-utils \
	python3-pytest python3-pytest-xdist python3-pytest-timeout

# lab05's post-mortem tools: vmxstat reads the monitor ELF with pyelftools
# and draws with gnuplot (tools/vmxstat); gdb opens the monitor's cores.
DEPS_PACKAGES += python3-pyelftools gnuplot-nox gdb

# The lectures (make slides, slides/slides.mk): pandoc writes each deck's
# HTML, Chromium prints its PDF and renders the tests' screenshots,
# poppler-utils' pdfinfo counts the PDF's pages, and the DejaVu fonts are
# the only fonts the slides use (so they look the same on every machine).
DEPS_PACKAGES += pandoc chromium poppler-utils fonts-dejavu-core

# The stamp records the package list it was made for: a changed list re-checks.
DEPS_STAMP := build/.deps-$(shell echo '$(DEPS_PACKAGES)' | md5sum | cut -c1-12)

.PHONY: deps deps-baremetal
deps: $(DEPS_STAMP)

deps-baremetal:
	@sh mk/install-deps.sh $(DEPS_BAREMETAL)

$(DEPS_STAMP):
	@sh mk/install-deps.sh $(DEPS_PACKAGES)
	@mkdir -p $(@D) && touch $@
