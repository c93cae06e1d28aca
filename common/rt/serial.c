/*
 * serial.c - a polling driver for the 16550 UART at COM1 (I/O port 0x3F8).
 *
 * Runs in: the bare-metal runtime, ring 0, interrupts off.
 * Every byte waits for the transmit holding register to be empty (LSR.THRE)
 * first: Bochs drops bytes written while it is busy.  Bochs' reset default
 * is a 5-bit word, so serial_init() must run before the first byte.
 *
 * The ports, registers and bits (and the register map) are the platform
 * list common/platform/uart.def, through platform/uart.h.
 */
#include "rt.h"
#include "platform/uart.h"
#include "rt_internal.h"

/* A 16550 at `base`: 115200 baud, 8N1, FIFOs on (COM1 here; lab05's host
 * side sets COM2 up the same way for its binary dumps). */
void rt_uart_setup(uint16_t base)
{
	outb(base + UART_IER, 0);
	outb(base + UART_LCR, UART_LCR_DLAB);
	outb(base + UART_DLL, UART_DIVISOR_115200 & 0xFF);
	outb(base + UART_DLM, UART_DIVISOR_115200 >> 8);
	outb(base + UART_LCR, UART_LCR_8N1);
	outb(base + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(base + UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

void serial_init(void)
{
	rt_uart_setup(COM1_BASE);
}

/* COM1 is one device for every CPU: each printf, puts or putchar holds
 * this lock while it writes, so two CPUs' lines never interleave (smp.c). */
rt_spinlock rt_console_lock;

static void putchar_unlocked(int c)
{
	while (!(inb(COM1_BASE + UART_LSR) & UART_LSR_THRE))
		;
	outb(COM1_BASE + UART_THR, (uint8_t)c);
}

int putchar(int c)
{
	rt_spin_lock(&rt_console_lock);
	putchar_unlocked(c);
	rt_spin_unlock(&rt_console_lock);
	return (unsigned char)c;
}

/* Wait until the last byte has left the UART (used before ending the run). */
void serial_flush(void)
{
	while (!(inb(COM1_BASE + UART_LSR) & UART_LSR_TEMT))
		;
}

int puts(const char *s)
{
	rt_spin_lock(&rt_console_lock);
	while (*s)
		putchar_unlocked(*s++);
	putchar_unlocked('\n');
	rt_spin_unlock(&rt_console_lock);
	return 0;
}

void rt_putc_serial(char c, void *ctx)
{
	(void)ctx;
	putchar(c);
}

void rt_console_begin(void)
{
	rt_spin_lock(&rt_console_lock);
}

void rt_console_end(void)
{
	rt_spin_unlock(&rt_console_lock);
}

/* printf's callback: the caller (vprintf) holds the lock. */
void rt_putc_serial_locked(char c, void *ctx)
{
	(void)ctx;
	putchar_unlocked(c);
}

void puthex(uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	putchar('0');
	putchar('x');
	for (int shift = 60; shift >= 0; shift -= 4)
		putchar(digits[(v >> shift) & 0xF]);
}
