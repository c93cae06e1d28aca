#!/bin/sh
# debian-kernel.sh - which Debian kernel the QEMU path uses, checked.
#
# Prints DEBIAN_KVER=, DEBIAN_PKGVER=, DEBIAN_KDIR=, DEBIAN_VMLINUZ= lines
# (mk/kernel.mk keeps them in build/kernel/debian-kernel.env).
# The version comes from the installed metapackage linux-image-amd64; the
# headers (linux-headers-VERSION) must be installed at the same package
# version, or a module would be built for one kernel and loaded into another.
set -eu
fail() { echo "error: $*" >&2; exit 1; }

command -v dpkg-query >/dev/null || fail "dpkg-query not found: the QEMU path needs Debian's kernel packages"
deps=$(dpkg-query -W -f='${Status}|${Depends}' linux-image-amd64 2>/dev/null) ||
	fail "linux-image-amd64 is not installed (make deps)"
case $deps in
*"install ok installed|"*) ;;
*) fail "linux-image-amd64 is not installed (make deps)" ;;
esac
kver=$(echo "${deps#*|}" | sed -n 's/^.*linux-image-\([0-9][^ ,]*\) *(= *\([^)]*\)).*$/\1/p')
image_ver=$(echo "${deps#*|}" | sed -n 's/^.*linux-image-\([0-9][^ ,]*\) *(= *\([^)]*\)).*$/\2/p')
[ -n "$kver" ] || fail "cannot read the kernel version from linux-image-amd64's dependencies: ${deps#*|}"

image_status=$(dpkg-query -W -f='${Status}|${Version}' "linux-image-$kver" 2>/dev/null || true)
case $image_status in
"install ok installed|"*) image_ver=${image_status#*|} ;;
*) fail "linux-image-amd64 wants linux-image-$kver ($image_ver) but that package is not installed (make deps)" ;;
esac
headers_status=$(dpkg-query -W -f='${Status}|${Version}' "linux-headers-$kver" 2>/dev/null || true)
case $headers_status in
"install ok installed|"*) headers_ver=${headers_status#*|} ;;
*)
	have=$(dpkg-query -W -f='${Package} ${Version}\n' 'linux-headers-*-amd64' 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')
	fail "the kernel is linux-image-$kver $image_ver but linux-headers-$kver is not installed" \
		"(installed headers: ${have:-none}); install linux-headers-amd64 matching linux-image-amd64 (make deps)"
	;;
esac
[ "$headers_ver" = "$image_ver" ] ||
	fail "kernel and headers differ: linux-image-$kver is $image_ver, linux-headers-$kver is $headers_ver;" \
		"upgrade both (apt-get install linux-image-amd64 linux-headers-amd64)"
kdir=/lib/modules/$kver/build
[ -f "$kdir/Makefile" ] || fail "$kdir/Makefile is missing although linux-headers-$kver $headers_ver is installed"
vmlinuz=/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || fail "$vmlinuz is missing although linux-image-$kver $image_ver is installed"
echo "DEBIAN_KVER=$kver"
echo "DEBIAN_PKGVER=$image_ver"
echo "DEBIAN_KDIR=$kdir"
echo "DEBIAN_VMLINUZ=$vmlinuz"
