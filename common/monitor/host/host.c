/*
 * host.c - the lab05 host side: the low-memory program the boot path
 * starts (VMware's "VMX" in "Monitor Composition"). It loads the monitor
 * ELF at the top 64 MiB with page tables of its own for each vCPU, starts
 * the second CPU, switches both CPUs into the monitor (host_switch.asm)
 * and, when they are back, reports how each vCPU's run ended. Only the host
 * side ends the emulator run (the runtime does, after lab_main returns).
 *
 * Runs in: the bare-metal runtime (rt.h), 64-bit ring 0: lab_main on the
 * BSP, ap_main on the AP. The address map: common/monitor/layout.h.
 */
#include "rt.h"
#include "layout.h"
#include "mon_config.h"
#include <elf.h>

uint64_t mon_switch_to(struct mon_boot *b);
void mon_switch_back(struct mon_boot *b, uint64_t result);

_Static_assert(__builtin_offsetof(struct mon_boot, mon_cr3) == 8, "host_switch.asm B_MON_CR3");
_Static_assert(__builtin_offsetof(struct mon_boot, result) == 96, "host_switch.asm B_RESULT");
_Static_assert(__builtin_offsetof(struct mon_boot, host_rsp) == 104, "host_switch.asm B_HOST_RSP");
_Static_assert(__builtin_offsetof(struct mon_boot, host_gdtr) == 120, "host_switch.asm B_HOST_GDTR");
_Static_assert(__builtin_offsetof(struct mon_boot, host_idtr) == 130, "host_switch.asm B_HOST_IDTR");
_Static_assert(__builtin_offsetof(struct mon_boot, host_tr) == 140, "host_switch.asm B_HOST_TR");

/* host_images.asm (generated): the monitor ELF and the guests' images. */
extern const uint8_t monitor_elf[], monitor_elf_end[];
extern const struct mon_guest_image host_guest_images[];
extern const uint64_t host_guest_image_count;

enum { PTE_P = 1, PTE_W = 2, PTE_PS = 0x80 };
#define PTE_ADDR 0x000FFFFFFFFFF000ull

static const char *const result_text[] = {
	[MON_RESULT_NONE] = "still running (no answer)",
	[MON_RESULT_DONE] = "done",
	[MON_RESULT_REFUSED] = "refused",
	[MON_RESULT_PANIC] = "panicked",
};

static uint64_t *table_at(uint64_t *parent, unsigned index)
{
	if (!(parent[index] & PTE_P))
		parent[index] = (uint64_t)(uintptr_t)page_alloc() | PTE_P | PTE_W;
	return (uint64_t *)(uintptr_t)(parent[index] & PTE_ADDR);
}

/* Map one 4 KiB page of the monitor area in a vCPU's tables. */
static void map_high(uint64_t *pml4, uint64_t va, uint64_t pa)
{
	uint64_t *pdpt = table_at(pml4, (va >> 39) & 511);
	uint64_t *pd = table_at(pdpt, (va >> 30) & 511);
	uint64_t *pt = table_at(pd, (va >> 21) & 511);
	pt[(va >> 12) & 511] = pa | PTE_P | PTE_W;
}

static uint64_t high_pte(uint64_t *pml4, uint64_t va)
{
	uint64_t e = pml4[(va >> 39) & 511];
	for (int shift = 30; shift >= 12; shift -= 9) {
		if (!(e & PTE_P))
			return 0;
		e = ((uint64_t *)(uintptr_t)(e & PTE_ADDR))[(va >> shift) & 511];
	}
	return e;
}

static const char *section_name(const Elf64_Ehdr *eh, const Elf64_Shdr *sh)
{
	const Elf64_Shdr *strtab = (const Elf64_Shdr *)(monitor_elf + eh->e_shoff) + eh->e_shstrndx;
	return (const char *)monitor_elf + strtab->sh_offset + sh->sh_name;
}

/* .data, .bss and .statvars: one copy per vCPU; the rest is shared. */
static int per_vcpu(const char *name)
{
	return !strcmp(name, ".data") || !strcmp(name, ".bss") || !strcmp(name, ".statvars");
}

static uint64_t shared_va;      /* .shared: where the host reads the panic record */

static void load_monitor(unsigned vcpu, uint64_t *pml4, uint64_t *first_pml4)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)monitor_elf;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(monitor_elf + eh->e_shoff);

	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_machine != EM_X86_64)
		rt_panic("host: the embedded monitor is not an x86-64 ELF");
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const char *name = section_name(eh, &sh[i]);
		if (!(sh[i].sh_flags & SHF_ALLOC) || sh[i].sh_size == 0)
			continue;
		if (!strcmp(name, ".shared"))
			shared_va = sh[i].sh_addr;
		int own = per_vcpu(name);
		for (uint64_t off = 0; off < sh[i].sh_size; off += MON_PAGE) {
			uint64_t va = (sh[i].sh_addr + off) & ~(uint64_t)(MON_PAGE - 1);
			uint64_t pte = high_pte(pml4, va), pa;
			if (!(pte & PTE_P)) {
				uint64_t other = first_pml4 ? high_pte(first_pml4, va) : 0;
				pa = !own && (other & PTE_P) ? (other & PTE_ADDR) : (uint64_t)(uintptr_t)page_alloc();
				map_high(pml4, va, pa);
			} else {
				pa = pte & PTE_ADDR;
			}
			if (sh[i].sh_type != SHT_NOBITS && (own || !first_pml4)) {
				uint64_t from = sh[i].sh_addr + off > va ? sh[i].sh_addr + off : va;
				uint64_t to = va + MON_PAGE < sh[i].sh_addr + sh[i].sh_size ?
					      va + MON_PAGE : sh[i].sh_addr + sh[i].sh_size;
				memcpy((void *)(uintptr_t)(pa + (from - va)),
				       monitor_elf + sh[i].sh_offset + (from - sh[i].sh_addr), to - from);
			}
		}
	}
	/* The vCPU's slot: stack, exception stack, GDT, IDT, TSS; the guard
	 * pages stay unmapped. */
	uint64_t slot = MON_BASE + (uint64_t)vcpu * MON_SLOT_SIZE;
	for (unsigned p = 0; p < MON_STACK_PAGES; p++)
		map_high(pml4, slot + MON_SLOT_STACK + p * MON_PAGE, (uint64_t)(uintptr_t)page_alloc());
	for (unsigned p = 0; p < MON_IST_PAGES; p++)
		map_high(pml4, slot + MON_SLOT_IST + p * MON_PAGE, (uint64_t)(uintptr_t)page_alloc());
	map_high(pml4, slot + MON_SLOT_GDT, (uint64_t)(uintptr_t)page_alloc());
	map_high(pml4, slot + MON_SLOT_IDT, (uint64_t)(uintptr_t)page_alloc());
	map_high(pml4, slot + MON_SLOT_TSS, (uint64_t)(uintptr_t)page_alloc());
}

static struct mon_boot *prepare_vcpu(unsigned vcpu, uint64_t *first_pml4, uint64_t **pml4_out)
{
	struct mon_boot *b = page_alloc();
	uint64_t *pml4 = page_alloc(), *pdpt_low = page_alloc();
	uint64_t *boot_pdpt = (uint64_t *)(uintptr_t)(boot_pml4[0] & PTE_ADDR);

	/* Below 4 GiB: the boot tables' identity map (2 MiB pages), except
	 * 1-2 GiB, the guest window: a PD and MON_WINDOW_PTS page tables. */
	for (unsigned i = 0; i < 4; i++)
		pdpt_low[i] = boot_pdpt[i];
	uint64_t *window_pd = page_alloc();
	uint8_t *window_pts = pages_alloc(MON_WINDOW_PTS);
	for (unsigned i = 0; i < MON_WINDOW_PTS; i++)
		window_pd[i] = (uint64_t)(uintptr_t)(window_pts + i * MON_PAGE) | PTE_P | PTE_W;
	pdpt_low[MON_WINDOW_BASE >> 30] = (uint64_t)(uintptr_t)window_pd | PTE_P | PTE_W;
	pml4[0] = (uint64_t)(uintptr_t)pdpt_low | PTE_P | PTE_W;
	load_monitor(vcpu, pml4, first_pml4);

	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)monitor_elf;
	b->vcpu = vcpu;
	b->mon_cr3 = (uint64_t)(uintptr_t)pml4;
	b->mon_rsp = MON_BASE + vcpu * MON_SLOT_SIZE + MON_SLOT_STACK + MON_STACK_PAGES * MON_PAGE;
	b->mon_entry = eh->e_entry;
	b->switch_back = (uint64_t)(uintptr_t)mon_switch_back;
	b->console_lock = (uint64_t)(uintptr_t)&rt_console_lock;
	b->pool_base = MON_POOL_BASE + vcpu * MON_POOL_SIZE;
	b->pool_size = MON_POOL_SIZE;
	b->window_pd = (uint64_t)(uintptr_t)window_pd;
	b->window_pts = (uint64_t)(uintptr_t)window_pts;
	b->guest_images = (uint64_t)(uintptr_t)host_guest_images;
	b->guest_image_count = host_guest_image_count;
	*pml4_out = pml4;
	return b;
}

static volatile int ap_finished;

static void ap_main(void *arg)
{
	mon_switch_to(arg);
	ap_finished = 1;
	for (;;) {
		cpu_cli();
		cpu_hlt();
	}
}

void lab_main(void)
{
	struct mon_boot *b[MON_VCPUS];
	uint64_t *pml4[MON_VCPUS];

	printf("host: lab05: a monitor of %llu bytes (ELF) for %d vCPUs at 0x%llx, %llu guest images\n",
	       (unsigned long long)(monitor_elf_end - monitor_elf), MON_VCPUS,
	       (unsigned long long)MON_BASE, (unsigned long long)host_guest_image_count);
	for (unsigned v = 0; v < MON_VCPUS; v++)
		b[v] = prepare_vcpu(v, v ? pml4[0] : NULL, &pml4[v]);
	printf("host: page tables ready (%zu host pages used); starting the second CPU\n", page_alloc_used());
	if (rt_start_ap(ap_main, b[1]) != 0) {
		printf("host: lab05 needs two CPUs; stopping\n");
		return;
	}
	mon_switch_to(b[0]);
	/* vCPU 1 may still run: wait for it (a bounded wait: Bochs' tick
	 * watchdog ends a run that never finishes). */
	while (!ap_finished)
		__asm__ volatile("pause" ::: "memory");
	for (unsigned v = 0; v < MON_VCPUS; v++)
		printf("host: vCPU %u: %s\n", v, result_text[b[v]->result <= MON_RESULT_PANIC ? b[v]->result : 0]);
	/* The panic record in the monitor's shared area (one copy: read it
	 * through vCPU 0's mapping). */
	uint64_t pte = high_pte(pml4[0], shared_va);
	if (shared_va && (pte & PTE_P)) {
		const volatile uint32_t *panic_vcpu = (const volatile uint32_t *)(uintptr_t)(pte & PTE_ADDR);
		if (*panic_vcpu)
			printf("host: panic on vCPU %u: %s\n", *panic_vcpu - 1,
			       (const char *)(uintptr_t)((pte & PTE_ADDR) + 4));
	}
}
