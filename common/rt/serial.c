/*
 * serial.c - a polling driver for the 16550 UART at COM1 (I/O port 0x3F8).
 *
 * Runs in: the bare-metal runtime, ring 0, interrupts off.
 * Every byte waits for the transmit holding register to be empty (LSR.THRE)
 * first: Bochs drops bytes written while it is busy.  Bochs' reset default
 * is a 5-bit word, so serial_init() must run before the first byte.
 *
 * Register map (offset from 0x3F8; DLL/DLM replace THR/IER while LCR.DLAB=1):
 *   +0 THR  transmit holding (write)    +0 DLL  divisor latch, low byte
 *   +1 IER  interrupt enable            +1 DLM  divisor latch, high byte
 *   +2 FCR  FIFO control (write)        +3 LCR  line control
 *   +4 MCR  modem control               +5 LSR  line status
 */
#include "rt.h"

enum {
	COM1 = 0x3F8,
	UART_THR = 0, UART_DLL = 0, UART_IER = 1, UART_DLM = 1,
	UART_FCR = 2, UART_LCR = 3, UART_MCR = 4, UART_LSR = 5,
	UART_LCR_DLAB = 0x80,
	UART_LCR_8N1 = 0x03,            /* 8 data bits, no parity, 1 stop bit */
	UART_FCR_ENABLE_CLEAR = 0x07,   /* FIFOs on, receive and transmit cleared */
	UART_MCR_DTR_RTS_OUT2 = 0x0B,
	UART_LSR_THRE = 0x20,           /* room for a byte */
	UART_LSR_TEMT = 0x40,           /* everything sent */
	UART_CLOCK_DIVISOR_115200 = 1,  /* 1.8432 MHz / 16 / 115200 */
};

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, UART_LCR_DLAB);
	outb(COM1 + UART_DLL, UART_CLOCK_DIVISOR_115200 & 0xFF);
	outb(COM1 + UART_DLM, UART_CLOCK_DIVISOR_115200 >> 8);
	outb(COM1 + UART_LCR, UART_LCR_8N1);
	outb(COM1 + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

int putchar(int c)
{
	while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
		;
	outb(COM1 + UART_THR, (uint8_t)c);
	return (unsigned char)c;
}

/* Wait until the last byte has left the UART (used before ending the run). */
void serial_flush(void)
{
	while (!(inb(COM1 + UART_LSR) & UART_LSR_TEMT))
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
