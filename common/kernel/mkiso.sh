#!/bin/sh
# mkiso.sh - a bootable CD image (isolinux) holding a kernel and an initramfs.
#
# Usage: mkiso.sh OUT.iso BZIMAGE INITRD "KERNEL COMMAND LINE"
# Bochs has no way to load a 64-bit Linux kernel directly (QEMU's -kernel),
# so its runs boot from this ISO: BIOS -> isolinux -> bzImage + initrd.
set -eu
if [ $# -ne 4 ]; then
	echo "usage: $0 OUT.iso BZIMAGE INITRD \"CMDLINE\"" >&2
	exit 2
fi
out=$1 kernel=$2 initrd=$3 cmdline=$4
isolinux=/usr/lib/ISOLINUX/isolinux.bin
ldlinux=/usr/lib/syslinux/modules/bios/ldlinux.c32
for f in "$isolinux" "$ldlinux"; do
	if [ ! -f "$f" ]; then
		echo "mkiso: $f is missing; install isolinux and syslinux-common (make deps)" >&2
		exit 1
	fi
done
for f in "$kernel" "$initrd"; do
	if [ ! -f "$f" ]; then
		echo "mkiso: $f does not exist" >&2
		exit 1
	fi
done

mkdir -p "$(dirname "$out")"
stage=$(mktemp -d "$out.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/isolinux"
cp "$isolinux" "$ldlinux" "$stage/isolinux/"
cp "$kernel" "$stage/bzimage"
cp "$initrd" "$stage/initrd.gz"
# PROMPT 0 + no TIMEOUT: boot the default entry at once.
cat > "$stage/isolinux/isolinux.cfg" <<CFG
DEFAULT vmxlab
PROMPT 0
LABEL vmxlab
  KERNEL /bzimage
  APPEND initrd=/initrd.gz $cmdline
CFG
xorriso -as mkisofs -quiet -o "$out.tmp.$$" -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table "$stage" 2>"$out.log" || {
	cat "$out.log" >&2
	exit 1
}
rm -f "$out.log"
mv "$out.tmp.$$" "$out"
