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

void serial_init(void)
{
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, UART_LCR_DLAB);
	outb(COM1_BASE + UART_DLL, UART_DIVISOR_115200 & 0xFF);
	outb(COM1_BASE + UART_DLM, UART_DIVISOR_115200 >> 8);
	outb(COM1_BASE + UART_LCR, UART_LCR_8N1);
	outb(COM1_BASE + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(COM1_BASE + UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

int putchar(int c)
{
	while (!(inb(COM1_BASE + UART_LSR) & UART_LSR_THRE))
		;
	outb(COM1_BASE + UART_THR, (uint8_t)c);
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
	while (*s)
		putchar(*s++);
	putchar('\n');
	return 0;
}

void rt_putc_serial(char c, void *ctx)
{
	(void)ctx;
	putchar(c);
}

void puthex(uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	putchar('0');
	putchar('x');
	for (int shift = 60; shift >= 0; shift -= 4)
		putchar(digits[(v >> shift) & 0xF]);
}
