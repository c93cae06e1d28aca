/*
 * exception.c - the 64-bit IDT and the exception report.
 *
 * Runs in: the bare-metal runtime.  Every exception vector 0-31 goes through
 * a stub in isr.asm on the IST1 stack (a good stack even when the fault
 * came from a broken RSP) to rt_exception(), which prints ONE line and ends
 * the run:
 *   EXCEPTION: vector=13 #GP error=0x0 rip=0x... cs=0x8 rflags=0x... rsp=0x...
 *              cr2=0x... cr0=0x... cr3=0x... cr4=0x...       (all on one line)
 * SDM Vol. 3A, "Exception and Interrupt Vectors" (the table of vectors) and
 * "64-Bit Mode Exception and Interrupt Handling" (the 16-byte IDT gates).
 */
#include "rt.h"
#include "rt_internal.h"

/* A 64-bit interrupt gate (SDM Vol. 3A figure "64-Bit IDT Gate Descriptors"). */
struct idt_gate {
	uint16_t offset_15_0;
	uint16_t selector;
	uint8_t ist;            /* bits 2:0: the IST entry to switch to */
	uint8_t type_attr;      /* P, DPL, type */
	uint16_t offset_31_16;
	uint32_t offset_63_32;
	uint32_t reserved;
};

enum {
	IDT_VECTORS = 256,
	EXCEPTION_VECTORS = 32,
	GATE_TYPE_INTERRUPT64 = 0xE,
	GATE_DPL0 = 0 << 5,
	GATE_PRESENT = 1 << 7,
	GATE_IST_EXCEPTIONS = 1, /* TSS.IST1 = boot_exception_stack_top (setup.asm) */
};

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));

static const char *const mnemonic[EXCEPTION_VECTORS] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
	"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

void rt_idt_init(void)
{
	for (int v = 0; v < EXCEPTION_VECTORS; v++) {
		uint64_t handler = rt_isr_table[v];
		idt[v] = (struct idt_gate){
			.offset_15_0 = (uint16_t)handler,
			.selector = RT_SEL_CODE64,
			.ist = GATE_IST_EXCEPTIONS,
			.type_attr = GATE_PRESENT | GATE_DPL0 | GATE_TYPE_INTERRUPT64,
			.offset_31_16 = (uint16_t)(handler >> 16),
			.offset_63_32 = (uint32_t)(handler >> 32),
		};
	}
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

void rt_exception(struct rt_exception_frame *f)
{
	static int depth;

	rt_spin_reset(&rt_console_lock); /* the fault may have hit inside printf */
	serial_flush();         /* let what was printed before the fault out */
	serial_init();          /* the payload may have changed the UART */
	if (depth++) {
		/* A fault while reporting one: say so with little code, stop. */
		printf("EXCEPTION: vector=%llu (while reporting an exception) rip=0x%016llx\n",
		       (unsigned long long)f->vector, (unsigned long long)f->rip);
		emu_exit(RT_EXIT_EXCEPTION);
	}
	const char *name = f->vector < EXCEPTION_VECTORS ? mnemonic[f->vector] : "?";
	printf("EXCEPTION: vector=%llu %s error=0x%llx rip=0x%016llx cs=0x%llx"
	       " rflags=0x%llx rsp=0x%016llx cr2=0x%016llx cr0=0x%llx cr3=0x%llx"
	       " cr4=0x%llx\n",
	       (unsigned long long)f->vector, name,
	       (unsigned long long)f->error_code, (unsigned long long)f->rip,
	       (unsigned long long)f->cs, (unsigned long long)f->rflags,
	       (unsigned long long)f->rsp, (unsigned long long)read_cr2(),
	       (unsigned long long)read_cr0(), (unsigned long long)read_cr3(),
	       (unsigned long long)read_cr4());
	emu_exit(RT_EXIT_EXCEPTION);
}
