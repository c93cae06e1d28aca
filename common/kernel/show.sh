# show.sh - /lab/run.sh for `make run-labNN` and `make qemu-labNN`.
#
# Loads every module in /lab and prints the pseudo-file it creates (each lab
# module NAME.ko makes /proc/NAME) between two marker lines, which
# common/kernel/kboot.py cuts out for the student. Then unloads the module.
for ko in /lab/*.ko; do
	mod=$(basename "$ko" .ko)
	if ! insmod "$ko"; then
		echo "vmxlab: insmod $mod.ko failed; the kernel log says:"
		dmesg | tail -n 20
		continue
	fi
	echo "vmxlab: ---- cat /proc/$mod ----"
	cat "/proc/$mod"
	echo "vmxlab: ---- end of /proc/$mod ----"
	rmmod "$mod" || echo "vmxlab: rmmod $mod failed"
done
# A warning or oops in the kernel log is shown, whatever the output looked like.
if dmesg | grep -E -q 'WARNING:|BUG:|Oops|Call Trace'; then
	echo "vmxlab: the kernel log has a warning or an oops:"
	dmesg | grep -E -A 20 'WARNING:|BUG:|Oops'
fi
