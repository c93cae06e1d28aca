/*
 * com2.h - the second serial port, for binary data (stats dumps, cores):
 * COM2 is a file under results/ in Bochs (tests/lib/emu.py, com2=True),
 * never mixed with COM1's text. The host side sets it up (rt_uart_setup);
 * it and the monitor both write to it, each holding the host's COM2 lock.
 *
 * Runs in: the host side or the monitor, 64-bit ring 0.
 */
#ifndef MONITOR_COM2_H
#define MONITOR_COM2_H

#include "rt.h"
#include "platform/uart.h"

static inline void com2_write(const void *data, size_t n)
{
	const uint8_t *p = data;

	while (n--) {
		while (!(inb(COM2_BASE + UART_LSR) & UART_LSR_THRE))
			;
		outb(COM2_BASE + UART_THR, *p++);
	}
}

/* The 20-byte GNU build id in an ELF note (Elf64_Nhdr, "GNU\0", desc),
 * or NULL. */
static inline const uint8_t *com2_build_id(const uint8_t *note)
{
	const uint32_t *h = (const uint32_t *)note;

	if (h[0] != 4 || h[1] != 20 || h[2] != 3 || memcmp(note + 12, "GNU", 4) != 0)
		return NULL;
	return note + 16;
}

#endif
