#!/bin/bash
# setup.sh - Gradescope runs this once, as root, when it builds the
# autograder's image (the bundle is unpacked in /autograder/source).
#
# It installs the Debian packages the kit needs for the lab this bundle
# grades, through the kit's own dependency step, then builds what every
# submission shares (the runtime; for lab01/02 the minimal kernel), so that
# each grading only builds the student's files.
#
# Base image: the bare-metal labs (03, 04) need Bochs (2.7, with VMX), NASM
# and GCC, which Ubuntu 22.04 (Gradescope's default) and Debian 12 both
# package (make deps-baremetal); the kernel-module labs (01, 02) need
# Debian 12's kernel packages (linux-image-amd64, linux-headers-amd64,
# linux-source-6.1): choose the Debian 12 base image for them.
set -euo pipefail
cd "$(dirname "$0")"
. ./gradescope.env                      # VMXLAB_LAB=NN, written by make gradescope
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends make python3
if [ "$VMXLAB_DEPS" = baremetal ]; then
	make deps-baremetal
else
	make deps
fi
make $VMXLAB_PREPARE
echo "setup.sh: vmxlab is ready to grade lab$VMXLAB_LAB"
