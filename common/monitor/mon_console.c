/*
 * mon_console.c - the monitor's COM1: the runtime's serial API (rt.h:
 * putchar, puts, printf through rt_putc_serial_locked ...) for code linked
 * into the monitor, with two differences from the host side's:
 *   - the lock is the host's rt_console_lock (its address is in the boot
 *     block): both CPUs, host side and monitors, print on one UART;
 *   - every line starts with who printed it: "[vcpu0] " for the monitor,
 *     "[vcpu0 NAME] " while guest NAME is current (a guest's own lines, and
 *     what lab03/lab04 code prints for it).
 *
 * Runs in: the monitor (64-bit ring 0, per-vCPU .data: each vCPU has its
 * own line state).
 */
#include "mon.h"
#include "../rt/rt_internal.h"
#include "platform/uart.h"

static int at_line_start = 1;
static const char *prefix_name;

static rt_spinlock *console_lock(void)
{
	return (rt_spinlock *)(uintptr_t)mon_boot_block->console_lock;
}

void mon_console_prefix(const char *guest_name)
{
	prefix_name = guest_name;
}

static void uart_out(char c)
{
	while (!(inb(COM1_BASE + UART_LSR) & UART_LSR_THRE))
		;
	outb(COM1_BASE + UART_THR, (uint8_t)c);
}

void rt_putc_serial_locked(char c, void *ctx)
{
	(void)ctx;
	if (at_line_start) {
		const char *p;

		uart_out('[');
		for (p = "vcpu"; *p; p++)
			uart_out(*p);
		uart_out((char)('0' + mon_vcpu));
		if (prefix_name) {
			uart_out(' ');
			for (p = prefix_name; *p; p++)
				uart_out(*p);
		}
		uart_out(']');
		uart_out(' ');
		at_line_start = 0;
	}
	uart_out(c);
	if (c == '\n')
		at_line_start = 1;
}

/* Whether this vCPU holds the console lock: a monitor exception in the
 * middle of a printf releases it (mon_console_release), and only then: the
 * other vCPU may hold it. */
static int console_held;

void rt_console_begin(void)
{
	rt_spin_lock(console_lock());
	console_held = 1;
}

void rt_console_end(void)
{
	console_held = 0;
	rt_spin_unlock(console_lock());
}

void mon_console_release(void)
{
	if (console_held)
		rt_console_end();
	if (!at_line_start)
		putchar('\n');         /* the cut line ends; the report starts on its own */
}

int putchar(int c)
{
	rt_console_begin();
	rt_putc_serial_locked((char)c, NULL);
	rt_console_end();
	return (unsigned char)c;
}

int puts(const char *s)
{
	rt_console_begin();
	while (*s)
		rt_putc_serial_locked(*s++, NULL);
	rt_putc_serial_locked('\n', NULL);
	rt_console_end();
	return 0;
}

void rt_putc_serial(char c, void *ctx)
{
	(void)ctx;
	putchar(c);
}

void serial_init(void)
{
	/* The host side set the UART up; nothing to do. */
}

void serial_flush(void)
{
	while (!(inb(COM1_BASE + UART_LSR) & UART_LSR_TEMT))
		;
}

void puthex(uint64_t v)
{
	printf("0x%016llx", (unsigned long long)v);
}

/* The runtime's other exits make no sense in a monitor: the host side
 * alone ends the emulator run. */
void emu_exit(int code)
{
	Panic("emu_exit(%d) called in the monitor: only the host side may end the run", code);
}

void rt_panic(const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	Panic("%s", msg);
}
