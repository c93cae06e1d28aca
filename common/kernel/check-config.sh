#!/bin/sh
# check-config.sh - every option of the fragment must be in the final .config.
#
# Usage: check-config.sh FRAGMENT DOTCONFIG
# `make olddefconfig` silently drops an option whose dependencies are not met;
# a kernel missing, say, CONFIG_MODULE_UNLOAD would fail much later and far
# from the cause. This names the option instead.
set -eu
fragment=$1 config=$2
missing=0
for line in $(grep -E '^CONFIG_[A-Z0-9_]+=' "$fragment"); do
	if ! grep -qxF "$line" "$config"; then
		have=$(grep -E "^(# )?${line%%=*}[= ]" "$config" || echo "absent")
		echo "error: $fragment asks for $line but the kernel configuration has: $have" >&2
		echo "       (an option it depends on is missing from $fragment)" >&2
		missing=1
	fi
done
exit $missing
