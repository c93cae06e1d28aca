/*
 * start.c - the runtime's entry from setup.asm, and the end of a run.
 *
 * Runs in: 64-bit long mode on the boot stack, straight after
 * common/boot/setup.asm step 7 (segments, TR, page tables ready).
 */
#include "rt.h"
#include "rt_internal.h"
#include "platform/emu_exit.h"  /* the ports, from common/platform/emu_exit.def */

__attribute__((noreturn)) void rt_start(void)
{
	rt_idt_init();          /* first: from here on a fault is reported */
	serial_init();
	lab_main();
	puts("vmxlab: done");
	emu_exit(RT_EXIT_OK);
}

__attribute__((noreturn)) void emu_exit(int code)
{
	serial_flush();
	outb(PORT_QEMU_EXIT, (uint8_t)code);
	for (const char *p = BOCHS_SHUTDOWN_TEXT; *p; p++)
		outb(PORT_BOCHS_SHUTDOWN, (uint8_t)*p);
	for (;;) {
		cpu_cli();
		cpu_hlt();
	}
}

__attribute__((noreturn)) void rt_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("PANIC: ");
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	emu_exit(RT_EXIT_PANIC);
}
