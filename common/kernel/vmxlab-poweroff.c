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
 *   2. Bochs: the bytes "Shutdown" written to port 0x8900 end the simulation;
 *   3. QEMU: any byte written to the isa-debug-exit device (tests/lib/emu.py
 *      puts it at port 0xf4) ends it;
 *   4. otherwise ask the kernel to power off (ACPI, Debian's kernel).
 * Writing to a port that nothing decodes is harmless on both emulators.
 */
#include <stdio.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <termios.h>
#include <unistd.h>

#define BOCHS_SHUTDOWN_PORT 0x8900	/* Bochs' "shutdown" port */
#define QEMU_DEBUG_EXIT_PORT 0xf4	/* isa-debug-exit, as tests/lib/emu.py sets it */

int main(void)
{
	const char *p;

	fflush(stdout);
	tcdrain(STDOUT_FILENO);
	tcdrain(STDERR_FILENO);
	sync();

	/* iopl(3) lets this process use IN/OUT on every port (ioperm stops at 0x3ff). */
	if (iopl(3) == 0) {
		for (p = "Shutdown"; *p; p++)
			outb(*p, BOCHS_SHUTDOWN_PORT);
		outb(0, QEMU_DEBUG_EXIT_PORT);
	} else {
		perror("vmxlab-poweroff: iopl");
	}

	reboot(RB_POWER_OFF);
	perror("vmxlab-poweroff: reboot");
	return 1;
}
