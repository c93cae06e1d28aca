/*
 * mon_core.c - the monitor's core module: a vCPU's start (its own GDT, IDT,
 * TSS in its reserved slot), the guests it runs one after another, Panic,
 * the monitor's exception handler (guard pages), the way back to the host.
 *
 * Runs in: the monitor (layout.h), entered from mon_start (mon_entry.asm) on
 * this vCPU's stack and page tables, 64-bit ring 0, interrupts off.
 */
#include "mon.h"
#include "../rt/rt_internal.h"

unsigned mon_vcpu;
struct mon_boot *mon_boot_block;
struct mon_shared mon_shared MON_SHARED;
MON_VMMADDR(mon_shared);
MON_VMMADDR(mon_vcpu);
MON_VMMADDR(mon_boot_block);

void mon_mm_init(void);
void mon_run_guests(void);

/* This vCPU's reserved slot (layout.h). */
static uint64_t slot(void)
{
	return MON_BASE + (uint64_t)mon_vcpu * MON_SLOT_SIZE;
}

/* 64-bit descriptors: the boot GDT's code and data, and this vCPU's TSS. */
enum {
	DESC_CODE64 = 0x00AF9B000000FFFFull,
	DESC_DATA = 0x00CF93000000FFFFull,
	TSS64_SIZE = 104, TSS64_RSP0 = 4, TSS64_IST1 = 36, TSS64_IOMAP = 102,
	GATE_INTERRUPT = 0x8E, IST_EXCEPTIONS = 1,
};

static void mon_cpu_init(void)
{
	uint64_t *gdt = (uint64_t *)(slot() + MON_SLOT_GDT);
	uint8_t *tss = (uint8_t *)(slot() + MON_SLOT_TSS);
	uint64_t *idt = (uint64_t *)(slot() + MON_SLOT_IDT);
	uint64_t tss_base = (uint64_t)(uintptr_t)tss;
	uint64_t ist_top = slot() + MON_SLOT_IST + MON_IST_PAGES * MON_PAGE;

	memset(gdt, 0, MON_PAGE);
	gdt[MON_SEL_CODE64 / 8] = DESC_CODE64;
	gdt[MON_SEL_DATA / 8] = DESC_DATA;
	gdt[MON_SEL_TSS / 8] = (TSS64_SIZE - 1) | ((tss_base & 0xFFFFFF) << 16) | (0x89ull << 40) |
			       (((tss_base >> 24) & 0xFF) << 56);
	gdt[MON_SEL_TSS / 8 + 1] = tss_base >> 32;
	memset(tss, 0, MON_PAGE);
	memcpy(tss + TSS64_RSP0, &ist_top, 8);
	memcpy(tss + TSS64_IST1, &ist_top, 8);
	*(uint16_t *)(tss + TSS64_IOMAP) = TSS64_SIZE;

	/* Every exception vector to the runtime's stubs (common/rt/isr.asm),
	 * on the IST1 stack: a stack overflow into the guard page still has a
	 * good stack to report on. */
	memset(idt, 0, MON_PAGE);
	for (unsigned v = 0; v < 32; v++) {
		uint64_t h = rt_isr_table[v];
		idt[2 * v] = (h & 0xFFFF) | ((uint64_t)MON_SEL_CODE64 << 16) |
			     ((uint64_t)IST_EXCEPTIONS << 32) | ((uint64_t)GATE_INTERRUPT << 40) |
			     (((h >> 16) & 0xFFFF) << 48);
		idt[2 * v + 1] = h >> 32;
	}
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; }
		gdtr = { 8 * 8 - 1, (uint64_t)(uintptr_t)gdt },
		idtr = { 32 * 16 - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)MON_SEL_TSS));
	/* The segment registers from this GDT too: CS by a far return, the
	 * data segments with its data descriptor. The AP's trampoline left
	 * other selectors in FS and GS, and lab03 reads the VMCS host-state
	 * bases from whatever descriptors they select (SDM 26.2.3). */
	__asm__ volatile("pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w1, %%ds\n\t"
			 "movw %w1, %%es\n\t"
			 "movw %w1, %%ss\n\t"
			 "movw %w1, %%fs\n\t"
			 "movw %w1, %%gs"
			 : : "i"(MON_SEL_CODE64), "r"(MON_SEL_DATA) : "rax", "memory");
}

void mon_capture(struct mon_regs *r);        /* mon_entry.asm */

/* This vCPU's record in the shared area: its registers where it leaves (a
 * monitor exception's frame when there was one, else here), and the
 * memory a core needs: its current guest's EPT, its pool's use. */
static void record_leaving(void)
{
	struct mon_vcpu_record *rec = &mon_shared.vcpu[mon_vcpu];

	if (!rec->regs_saved) {
		mon_capture(&rec->regs);
		rec->regs.orig_rax = ~0ull;     /* not in a system call (as the exception path) */
		rec->regs_saved = 1;
	}
	rec->pool_next = mon_boot_block->pool_base + mon_pages_used() * MON_PAGE;
}

__attribute__((noreturn)) void mon_return(enum mon_result r)
{
	void (*back)(struct mon_boot *, uint64_t) =
		(void (*)(struct mon_boot *, uint64_t))(uintptr_t)mon_boot_block->switch_back;

	record_leaving();
	serial_flush();
	back(mon_boot_block, r);
	__builtin_unreachable();
}

__attribute__((noreturn)) void Panic(const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof(mon_shared.panic_message)];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The first panic wins the shared record; the host side reads it. */
	if (__sync_bool_compare_and_swap(&mon_shared.panic_vcpu_plus1, 0, mon_vcpu + 1))
		memcpy(mon_shared.panic_message, msg, sizeof(msg));
	mon_console_prefix(NULL);
	printf("PANIC: %s\n", msg);
	mon_return(MON_RESULT_PANIC);
}

/* The other vCPU panicked: stop here (the host side writes the core). */
void mon_check_other_panic(void)
{
	uint32_t p = mon_shared.panic_vcpu_plus1;

	if (!p || p == mon_vcpu + 1)
		return;
	mon_console_prefix(NULL);
	printf("monitor: stopped: vCPU %u panicked\n", p - 1);
	mon_return(MON_RESULT_STOPPED);
}

/* Which part of this vCPU's slot an address is in, for the report. */
static const char *slot_part(uint64_t a, unsigned *vcpu)
{
	if (a < MON_BASE || a >= MON_BASE + MON_VCPUS * MON_SLOT_SIZE)
		return NULL;
	uint64_t off = (a - MON_BASE) % MON_SLOT_SIZE;
	*vcpu = (unsigned)((a - MON_BASE) / MON_SLOT_SIZE);
	if (off < MON_SLOT_STACK)
		return "the guard page below its monitor stack (the stack overflowed)";
	if (off >= MON_SLOT_GUARD_MID && off < MON_SLOT_IST)
		return "the guard page above its monitor stack";
	if (off >= MON_SLOT_GUARD_HIGH)
		return "the guard page at the end of its slot";
	return "its reserved slot";
}

/* common/rt/isr.asm calls this for every exception in the monitor. */
void rt_exception(struct rt_exception_frame *f)
{
	static int depth;
	uint64_t cr2 = read_cr2();
	unsigned owner = 0;
	const char *part;

	struct mon_vcpu_record *rec = &mon_shared.vcpu[mon_vcpu];

	mon_console_release();
	if (depth++)
		mon_return(MON_RESULT_PANIC);
	/* The core's registers for this vCPU: where the exception happened. */
	rec->regs = (struct mon_regs){
		.r15 = f->r15, .r14 = f->r14, .r13 = f->r13, .r12 = f->r12, .rbp = f->rbp, .rbx = f->rbx,
		.r11 = f->r11, .r10 = f->r10, .r9 = f->r9, .r8 = f->r8, .rax = f->rax, .rcx = f->rcx,
		.rdx = f->rdx, .rsi = f->rsi, .rdi = f->rdi, .orig_rax = ~0ull, .rip = f->rip, .cs = f->cs,
		.eflags = f->rflags, .rsp = f->rsp, .ss = f->ss,
	};
	rec->regs_saved = rec->in_exception = 1;
	if (f->vector == 14 && (part = slot_part(cr2, &owner)) != NULL)
		Panic("monitor exception #PF: vCPU %u touched 0x%llx, %s of vCPU %u; rip 0x%llx rsp 0x%llx",
		      mon_vcpu, (unsigned long long)cr2, part, owner, (unsigned long long)f->rip,
		      (unsigned long long)f->rsp);
	Panic("monitor exception vector %llu error 0x%llx at rip 0x%llx rsp 0x%llx cr2 0x%llx",
	      (unsigned long long)f->vector, (unsigned long long)f->error_code,
	      (unsigned long long)f->rip, (unsigned long long)f->rsp, (unsigned long long)cr2);
}

#if MON_TEST_GUARD
/* monitor.cfg `test = guard`: recurse until the stack runs into its guard
 * page (tests/test_lab05.py expects the report above, naming the vCPU). */
static __attribute__((noinline)) unsigned long overflow(unsigned long depth)
{
	volatile char frame[512];

	frame[0] = (char)depth;
	return overflow(depth + 1) + frame[0];
}
#endif

__attribute__((noreturn)) void mon_main(struct mon_boot *b)
{
	mon_boot_block = b;
	mon_vcpu = (unsigned)b->vcpu;
	mon_cpu_init();
	mon_mm_init();
	printf("monitor: vCPU %u at 0x%llx (stack 0x%llx-0x%llx, guard pages below and above), "
	       "modules: hv=vt gphys=%s vmxbase=%s vm86=%s stats=%s\n", mon_vcpu,
	       (unsigned long long)MON_IMAGE_BASE,
	       (unsigned long long)(slot() + MON_SLOT_STACK),
	       (unsigned long long)(slot() + MON_SLOT_STACK + MON_STACK_PAGES * MON_PAGE),
	       gphys_name, MON_VMXBASE_NAME, MON_VM86_NAME, MON_STATS ? "on" : "none");
	if (MON_VM86_KIT)
		printf("monitor: vm86 = kit: the kit's solution of lab04 stands in for TODO(lab04) in "
		       "vm86_guest.c, vm86_io.c and vm86demo.c\n");
#if MON_TEST_GUARD
	if (mon_vcpu == MON_TEST_GUARD - 1) {
		printf("monitor: test = guard: overflowing vCPU %u's monitor stack on purpose\n", mon_vcpu);
		overflow(0);
	}
#endif
	mon_run_guests();
	mon_return(MON_RESULT_DONE);
}
