#!/bin/sh
# mkinitramfs.sh - pack a small initramfs for one lab run.
#
# Usage: mkinitramfs.sh OUT.cpio.gz POWEROFF RUN.sh [FILE...]
#   POWEROFF  the static vmxlab-poweroff binary (mk/kernel.mk builds it)
#   RUN.sh    becomes /lab/run.sh, which /init runs
#   FILE...   copied into /lab/ (the modules, usually)
# Contents: busybox-static as /bin/busybox, common/kernel/init as /init.
# The kernel's built-in initramfs supplies /dev/console.
set -eu
if [ $# -lt 3 ]; then
	echo "usage: $0 OUT.cpio.gz POWEROFF RUN.sh [FILE...]" >&2
	exit 2
fi
out=$1 poweroff=$2 script=$3
shift 3
here=$(dirname "$0")
busybox=/bin/busybox
for f in "$busybox" "$poweroff" "$script" "$here/init" "$@"; do
	if [ ! -f "$f" ]; then
		echo "mkinitramfs: $f does not exist" >&2
		exit 1
	fi
done
if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked' &&
   ! ldd "$busybox" 2>&1 | grep -q 'not a dynamic'; then
	echo "mkinitramfs: $busybox is not statically linked; install busybox-static (make deps)" >&2
	exit 1
fi

mkdir -p "$(dirname "$out")"
stage=$(mktemp -d "$out.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/proc" "$stage/sys" "$stage/dev" "$stage/tmp" "$stage/lab"
chmod 755 "$stage" "$stage/bin" "$stage/lab"	# mktemp made "/" 0700: no one else could enter
chmod 1777 "$stage/tmp"
cp "$busybox" "$stage/bin/busybox"
cp "$poweroff" "$stage/bin/vmxlab-poweroff"
cp "$here/init" "$stage/init"
cp "$script" "$stage/lab/run.sh"
for f in "$@"; do
	cp "$f" "$stage/lab/"
done
chmod 755 "$stage/init" "$stage/bin/busybox" "$stage/bin/vmxlab-poweroff"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$out.tmp.$$"
mv "$out.tmp.$$" "$out"
