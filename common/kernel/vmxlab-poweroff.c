/*
 * vmxlab-poweroff.c - end an emulator run from the initramfs without losing
 * the last lines of output.
 *
 * Runs in: user space, as the last command of the initramfs /init (root),
 * inside Bochs (minimal kernel) or QEMU (Debian's kernel or the minimal one).
 * Built by mk/kernel.mk with `gcc -static`, so the initramfs needs no libc.
 *
 * Why not busybox `poweroff -f`: the minimal kernel has no ACPI, so it only
 * halts, and the emulator would run until its timeout. And a power-off right
 * after `cat` can cut the serial output: the bytes may still sit in the tty
 * buffer or the UART's FIFO. So, in order:
 *   1. tcdrain(): wait until the serial driver reports the transmitter empty;
 *   2. Bochs: the bytes BOCHS_SHUTDOWN_TEXT written to PORT_BOCHS_SHUTDOWN
 *      end the simulation;
 *   3. QEMU: any byte written to PORT_QEMU_EXIT (the isa-debug-exit device,
 *      placed there by tests/lib/emu.py) ends it;
 *   4. otherwise ask the kernel to power off (ACPI, Debian's kernel).
 * Writing to a port that nothing decodes is harmless on both emulators. The
 * ports and the text are the platform list common/platform/emu_exit.def
 * (mk/kernel.mk compiles this file with -I common/include).
 */
#include <stdio.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <termios.h>
#include <unistd.h>

#include "platform/emu_exit.h"

int main(void)
{
	const char *p;

	fflush(stdout);
	tcdrain(STDOUT_FILENO);
	tcdrain(STDERR_FILENO);
	sync();

	/* iopl(3) lets this process use IN/OUT on every port (ioperm stops at 0x3ff). */
	if (iopl(3) == 0) {
		for (p = BOCHS_SHUTDOWN_TEXT; *p; p++)
			outb(*p, PORT_BOCHS_SHUTDOWN);
		outb(0, PORT_QEMU_EXIT);
	} else {
		perror("vmxlab-poweroff: iopl");
	}

	reboot(RB_POWER_OFF);
	perror("vmxlab-poweroff: reboot");
	return 1;
}
