/*
 * platform/uart.h - the 16550 UART at COM1: its ports, registers and the
 * register bits the kit uses, from common/platform/uart.def (the register
 * map is drawn there). Where it runs: the bare-metal runtime
 * (common/rt/serial.c) and lab04's host (lab04.h).
 *
 * Names are the list's: COM1_BASE, UART_LSR, UART_LSR_THRE, ...; a register's
 * port is COM1_BASE + UART_<REGISTER>.
 */
#ifndef PLATFORM_UART_H
#define PLATFORM_UART_H

enum platform_uart {
#define PLATFORM_CONST(name, value, desc) name = value,
#include "../../platform/uart.def"
#undef PLATFORM_CONST
};

#endif /* PLATFORM_UART_H */
