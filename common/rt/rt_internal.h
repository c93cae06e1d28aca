/*
 * rt_internal.h - what the runtime's files share with each other but not
 * with payloads.
 */
#ifndef RT_INTERNAL_H
#define RT_INTERNAL_H

#include <stdint.h>

/* exception.c: fill and load the 64-bit IDT (all 32 exception vectors). */
void rt_idt_init(void);

/*
 * The stack an isr.asm stub builds before calling rt_exception(): the
 * general registers it pushed, the vector, the error code (0 when the CPU
 * pushes none) and the frame the CPU pushed (SDM Vol. 3A "64-Bit Mode Stack
 * Frame").
 */
struct rt_exception_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

void rt_exception(struct rt_exception_frame *f);

/* isr.asm: the entry address of each exception stub, vectors 0..31. */
extern const uint64_t rt_isr_table[32];

/* serial.c: hold COM1 for one piece of output (vprintf), and print one
 * character while holding it. The lab05 monitor has its own versions
 * (common/monitor/mon_console.c): same API, the host's lock, line prefixes. */
void rt_console_begin(void);
void rt_console_end(void);
void rt_putc_serial_locked(char c, void *ctx);

#endif /* RT_INTERNAL_H */
