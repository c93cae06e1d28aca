#!/bin/sh
# mk/install-deps.sh PKG... - install the Debian packages that are missing.
# Called by `make deps`; prints nothing when all are present.
missing=""
for p in "$@"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo -n"
else
	echo "deps: error: these Debian packages are missing and I am not root (and have no sudo):$missing" >&2
	echo "deps: install them with: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || { echo "deps: error: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -q --no-install-recommends$missing >build-deps.log 2>&1; then
	echo "deps: error: apt-get install failed for:$missing (log: build-deps.log)" >&2
	tail -n 20 build-deps.log >&2
	exit 1
fi
rm -f build-deps.log
echo "deps: done"
