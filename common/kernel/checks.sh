# checks.sh - /lab/run.sh for the tests of the module labs (lab01, lab02).
#
# Runs in: the initramfs (busybox sh, as root), after /init set things up.
# Exercises every module in /lab (each NAME.ko makes /proc/NAME) and prints
# what it saw; tests/test_lab01.py and test_lab02.py decide pass or fail from
# these lines, so a single boot serves many tests:
#   vmxlab: ---- cat /proc/NAME ----   ... the file ...   ---- end of ... ----
#   check: mode /proc/NAME 444
#   check: nonroot /proc/NAME readable | refused: <error>
#   check: ddcmp /proc/NAME same|differ ...     dd bs=1 against cat
#   check: concurrent /proc/NAME K of 8 identical
#   check: cycles NAME K of 20                  rmmod + insmod, file gone between
#   check: unloaded NAME, /proc/NAME gone|still there
#   vmxlab: ---- dmesg ---- ... the whole kernel log ... ---- end of dmesg ----
# Files whose content changes between two reads (CR2 and CR3 in
# /proc/sysregs differ from process to process) are compared on their
# lines that do not: those listed in /lab/stable.NAME as a grep -E pattern.
# Per-CPU files are read on one CPU when /lab/pin.NAME holds a taskset mask
# (CR4 differs between CPUs: Linux sets CR4.PSE only on the boot CPU).

# A user without privileges for the non-root read (busybox su needs a passwd).
mkdir -p /etc
echo 'root:x:0:0:root:/:/bin/sh' > /etc/passwd
echo 'student:x:1000:1000:student:/tmp:/bin/sh' >> /etc/passwd
echo 'root:x:0:' > /etc/group
echo 'student:x:1000:' >> /etc/group

# Prints the bytes of /proc/NAME that must be the same on every read.
stable() {
	if [ -f "/lab/stable.$1" ]; then
		grep -E "$(cat "/lab/stable.$1")" "$2"
	else
		cat "$2"
	fi
}

for ko in /lab/*.ko; do
	mod=$(basename "$ko" .ko)
	f=/proc/$mod
	pin=
	[ -f "/lab/pin.$mod" ] && pin="taskset $(cat "/lab/pin.$mod")"
	if ! insmod "$ko"; then
		echo "check: insmod $mod failed"
		continue
	fi
	echo "check: loaded $mod"

	echo "vmxlab: ---- cat $f ----"
	cat "$f"
	echo "vmxlab: ---- end of $f ----"
	echo "check: mode $f $(stat -c %a "$f")"

	if out=$(su student -c "cat $f" 2>&1 >/dev/null) && [ -z "$out" ]; then
		echo "check: nonroot $f readable"
	else
		echo "check: nonroot $f refused: $out"
	fi

	$pin cat "$f" > /tmp/cat.out
	$pin dd if="$f" of=/tmp/dd.out bs=1 2>/dev/null
	stable "$mod" /tmp/cat.out > /tmp/cat.stable
	stable "$mod" /tmp/dd.out > /tmp/dd.stable
	if cmp -s /tmp/cat.stable /tmp/dd.stable && [ -s /tmp/cat.stable ]; then
		echo "check: ddcmp $f same ($(wc -c < /tmp/dd.out) bytes by dd, $(wc -c < /tmp/cat.out) by cat)"
	else
		echo "check: ddcmp $f differ ($(wc -c < /tmp/dd.out) bytes by dd, $(wc -c < /tmp/cat.out) by cat)"
	fi

	for i in 1 2 3 4 5 6 7 8; do
		$pin cat "$f" > "/tmp/reader.$i" &
	done
	wait
	same=0
	for i in 1 2 3 4 5 6 7 8; do
		stable "$mod" "/tmp/reader.$i" > /tmp/reader.stable
		if cmp -s /tmp/cat.stable /tmp/reader.stable; then
			same=$((same + 1))
		else
			echo "check: reader $i of $f differs from the first cat:"
			diff /tmp/cat.stable /tmp/reader.stable | head -n 10
		fi
	done
	echo "check: concurrent $f $same of 8 identical"

	ok=0
	for i in $(seq 20); do
		rmmod "$mod" || { echo "check: cycle $i: rmmod $mod failed"; break; }
		if [ -e "$f" ]; then
			echo "check: cycle $i: $f still there after rmmod"
			break
		fi
		insmod "$ko" || { echo "check: cycle $i: insmod $mod failed"; break; }
		cat "$f" > /tmp/cycle.out || { echo "check: cycle $i: cat $f failed"; break; }
		ok=$((ok + 1))
	done
	echo "check: cycles $mod $ok of 20"

	rmmod "$mod"
	if [ -e "$f" ]; then
		echo "check: unloaded $mod, $f still there"
	else
		echo "check: unloaded $mod, $f gone"
	fi
done

echo "vmxlab: ---- dmesg ----"
dmesg
echo "vmxlab: ---- end of dmesg ----"
