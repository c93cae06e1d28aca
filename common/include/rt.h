/*
 * rt.h - the bare-metal runtime every payload is linked with.
 *
 * Runs in: 64-bit long mode, ring 0, interrupts off, on the identity map of
 * the first 4 GiB (VA = PA there) set up by common/boot/setup.asm; the top
 * 64 MiB of the address space is mapped too (see common/boot/payload.ld).
 *
 * A payload defines `void lab_main(void)`.  The runtime initialises COM1
 * (115200 8N1) and the exception handlers, calls lab_main(), prints
 * "vmxlab: done" when it returns and ends the emulator run.  Any CPU
 * exception prints one "EXCEPTION: ..." line and ends the run.
 *
 * Contents: serial output and printf; ending the run; the page allocator;
 * string functions; CPU register/instruction helpers (rt_cpu.h); VMX
 * instruction wrappers (rt_vmx.h).
 */
#ifndef RT_H
#define RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "rt_cpu.h"
#include "rt_vmx.h"

/* The payload's entry point: the runtime calls it once. */
void lab_main(void);

/* --- Two CPUs (common/rt/smp.c) -------------------------------------------- */

/*
 * A spinlock: 0 free, 1 held.  XCHG is atomic with a LOCK of its own (SDM
 * vol. 3A 9.1.2.1); PAUSE tells the CPU (and Bochs) that this is a spin.
 * Not recursive: code that may run while the lock is held (an exception
 * handler) takes it over with rt_spin_reset().
 */
typedef struct {
	volatile uint32_t locked;
} rt_spinlock;

static inline void rt_spin_lock(rt_spinlock *l)
{
	uint32_t one = 1;

	for (;;) {
		__asm__ volatile("xchg %0, %1" : "+r"(one), "+m"(l->locked) : : "memory");
		if (one == 0)
			return;
		while (l->locked)
			__asm__ volatile("pause" ::: "memory");
		one = 1;
	}
}

static inline void rt_spin_unlock(rt_spinlock *l)
{
	__asm__ volatile("" ::: "memory");
	l->locked = 0;
}

static inline void rt_spin_reset(rt_spinlock *l) { l->locked = 0; }

/* COM1's lock: printf, puts and putchar hold it while they write. */
extern rt_spinlock rt_console_lock;

/*
 * Start the second CPU (the application processor, AP) of a two-CPU
 * machine (Bochs `cpu: count=2`): INIT, then two STARTUP IPIs with the
 * trampoline's page (smp.c, ap_trampoline.asm). The AP goes from real mode
 * to long mode on the boot page tables, loads a GDT and TSS of its own (the
 * boot GDT's TSS is the BSP's) and the runtime's IDT, and calls
 * entry(arg) on a stack of its own; entry must not return. Returns 0 once
 * the AP runs, -1 (after a line saying so) when no AP answered.
 */
int rt_start_ap(void (*entry)(void *arg), void *arg);

/* --- Serial output (COM1, common/rt/serial.c, printf.c) ------------------- */

void serial_init(void);
void rt_uart_setup(uint16_t base);      /* a 16550 at base: 115200 8N1, FIFOs on */
int putchar(int c);                     /* writes c (no "\r" is added) */
int puts(const char *s);                /* writes s and "\n" */
void serial_flush(void);                /* waits until every byte has been sent */
void puthex(uint64_t v);                /* "0x" and 16 hex digits, no newline */

/*
 * printf family: %s %c %d %i %u %x %X %p %% with the length modifiers
 * l, ll, z, the flags '0' and '-', and a field width (a number or '*').
 * %p prints 0x and 16 hex digits.  Return the number of characters
 * produced (snprintf: that would have been produced).
 */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* The core every function above uses: each character goes to out(c, ctx).
 * The decoders in common/include/vmx/decode.h print through such a callback. */
typedef void (*rt_putc_fn)(char c, void *ctx);
int rt_vformat(rt_putc_fn out, void *ctx, const char *fmt, va_list ap);
void rt_putc_serial(char c, void *ctx); /* an rt_putc_fn that prints on COM1 */

/* --- Ending the run (common/rt/start.c) ----------------------------------- */

/*
 * Wait until COM1 has sent everything, then end the emulator run: `code` to
 * QEMU's isa-debug-exit port (QEMU exits with status code * 2 + 1), then
 * "Shutdown" to Bochs' shutdown port (Bochs exits with 1 whatever the code),
 * then halt forever (the ports: common/platform/emu_exit.def).  The exit
 * status says nothing about pass/fail: the serial output does.
 */
__attribute__((noreturn)) void emu_exit(int code);

enum rt_exit_code {
	RT_EXIT_OK = 0,            /* lab_main returned */
	RT_EXIT_EXCEPTION = 0x31,  /* a CPU exception */
	RT_EXIT_PANIC = 0x32,      /* rt_panic() */
};

/* Print "PANIC: <message>" and end the run. */
__attribute__((noreturn, format(printf, 1, 2))) void rt_panic(const char *fmt, ...);

/* --- Memory (common/rt/alloc.c) ------------------------------------------- */

/*
 * One zeroed, 4 KiB-aligned page from the pool between the end of the
 * payload and BOOT_HIGH_PHYS (payload.ld).  The address is both virtual and
 * physical (identity map).  Pages are never freed.  Running out panics.
 */
void *page_alloc(void);
/* n contiguous zeroed pages (n >= 1), 4 KiB aligned. */
void *pages_alloc(size_t n);
/* Pages handed out so far and pages left. */
size_t page_alloc_used(void);
size_t page_alloc_free(void);

/*
 * The top 64 MiB: virtual RT_HIGH_VIRT.. is physical RT_HIGH_PHYS.. (both
 * from payload.ld).  rt_virt_to_phys() knows both mappings; other addresses
 * give RT_NO_PHYS.
 */
extern char BOOT_HIGH_VIRT[], BOOT_HIGH_PHYS[], BOOT_HIGH_SIZE[];
#define RT_HIGH_VIRT ((uint64_t)(uintptr_t)BOOT_HIGH_VIRT)
#define RT_HIGH_PHYS ((uint64_t)(uintptr_t)BOOT_HIGH_PHYS)
#define RT_HIGH_SIZE ((uint64_t)(uintptr_t)BOOT_HIGH_SIZE)
#define RT_NO_PHYS (~0ull)
uint64_t rt_virt_to_phys(const void *va);

/* Boot structures (common/boot/setup.asm): the GDT, the TSS, the PML4 that
 * CR3 points at.  Selectors of the GDT: */
#define RT_SEL_CODE64 0x08
#define RT_SEL_DATA   0x10
#define RT_SEL_CODE32 0x18
#define RT_SEL_TSS    0x20
extern uint64_t boot_gdt[];
extern uint8_t boot_tss[];
extern uint64_t boot_pml4[];

/* --- Strings (common/rt/string.c) ----------------------------------------- */

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#define RT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* RT_H */
