# mk/deps.mk - the kit installs its own Debian packages.
#
# `make deps` checks every package below with dpkg-query and installs only the
# missing ones (apt-get update once, then apt-get install). It is quiet when
# everything is present. `run`, `test` and `grade` depend on it, so a fresh
# Debian 12 machine needs no manual step. Without root (and without sudo) it
# stops and names the packages it could not install.

DEPS_PACKAGES := \
	make gcc binutils nasm python3 util-linux coreutils \
	bochs bochsbios vgabios \
	qemu-system-x86 \
	libcmocka-dev \
	busybox-static cpio xorriso isolinux syslinux-common \
	linux-image-amd64 linux-headers-amd64 linux-source-6.1 \
	bc flex bison libelf-dev libssl-dev kmod xz-utils \
	bubblewrap

# The stamp records the package list it was made for: a changed list re-checks.
DEPS_STAMP := build/.deps-$(shell echo '$(DEPS_PACKAGES)' | md5sum | cut -c1-12)

.PHONY: deps
deps: $(DEPS_STAMP)

$(DEPS_STAMP):
	@sh mk/install-deps.sh $(DEPS_PACKAGES)
	@mkdir -p $(@D) && touch $@
