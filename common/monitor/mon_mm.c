/*
 * mon_mm.c - the monitor's memory: this vCPU's page pool, the guest window,
 * and virtual-to-physical translation.
 *
 * Runs in: the monitor, on this vCPU's page tables (layout.h draws them).
 *
 * The pool: the host side gives each vCPU's monitor MON_POOL_SIZE bytes of
 * physical memory (mon_boot.pool_base); VMCS regions, bitmaps, EPT tables
 * and guest RAM come from it, one 4 KiB page at a time, never freed. Only
 * this vCPU allocates from it: no lock.
 *
 * page_alloc()/pages_alloc() (rt.h) are what code written for the host
 * side calls (common/vmm, lab03, lab04). Outside the window they return pool
 * pages (identity-mapped: address = physical address). Inside
 * mon_window_begin/_end they return guest-physical pages instead: the
 * pointer IS the guest-physical address, mapped in the monitor's window
 * (MON_WINDOW_BASE, 4 KiB page tables the host side gave us) to a pool page
 * and handed to the window's map function (gphys maps it for the guest).
 * So lab04's vm86_guest_build, which stores page_alloc() pointers in the
 * guest's page tables, builds a guest that runs at guest-physical
 * addresses of its own, unchanged.
 */
#include "mon.h"

enum { PTE_P = 1, PTE_W = 2, PTE_PS = 0x80, PAGE_SHIFT = 12 };
#define PTE_ADDR 0x000FFFFFFFFFF000ull

static uint64_t pool_next, pool_end, pool_start;
static uint64_t window_next;
static mon_window_map_fn window_map;

void mon_mm_init(void)
{
	pool_start = pool_next = mon_boot_block->pool_base;
	pool_end = pool_next + mon_boot_block->pool_size;
}

void *mon_page(void)
{
	if (pool_next >= pool_end)
		Panic("out of memory: vCPU %u's pool of %llu pages is used up", mon_vcpu,
		      (unsigned long long)((pool_end - pool_start) >> PAGE_SHIFT));
	void *p = (void *)(uintptr_t)pool_next;
	pool_next += MON_PAGE;
	memset(p, 0, MON_PAGE);
	return p;
}

uint64_t mon_pages_used(void)
{
	return (pool_next - pool_start) >> PAGE_SHIFT;
}

static uint64_t *window_pte(uint64_t va)
{
	uint64_t index = (va - MON_WINDOW_BASE) >> PAGE_SHIFT;

	if (va < MON_WINDOW_BASE || index >= MON_WINDOW_PTS * 512ull)
		Panic("guest window full: 0x%llx is beyond its %u MiB", (unsigned long long)va,
		      MON_WINDOW_PTS * 2);
	return (uint64_t *)(uintptr_t)mon_boot_block->window_pts + index;
}

void mon_window_begin(uint64_t gpa_base, mon_window_map_fn map)
{
	/* Forget the last guest's window pages. */
	memset((void *)(uintptr_t)mon_boot_block->window_pts, 0, MON_WINDOW_PTS * MON_PAGE);
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	window_next = gpa_base;
	window_map = map;
}

uint64_t mon_window_end(void)
{
	uint64_t next = window_next;

	window_next = 0;
	window_map = NULL;
	return next;
}

void *pages_alloc(size_t n)
{
	if (!window_next) {
		/* Consecutive pool pages are physically contiguous. */
		void *first = mon_page();
		for (size_t i = 1; i < n; i++)
			mon_page();
		return first;
	}
	uint64_t first = window_next;
	for (size_t i = 0; i < n; i++, window_next += MON_PAGE) {
		void *host = mon_page();
		uint64_t hpa = (uint64_t)(uintptr_t)host;

		*window_pte(window_next) = hpa | PTE_P | PTE_W;
		__asm__ volatile("invlpg (%0)" : : "r"(window_next) : "memory");
		window_map(window_next, hpa);
	}
	memset((void *)(uintptr_t)first, 0, n * MON_PAGE);
	return (void *)(uintptr_t)first;
}

void *page_alloc(void)
{
	return pages_alloc(1);
}

size_t page_alloc_used(void)
{
	return mon_pages_used();
}

size_t page_alloc_free(void)
{
	return (pool_end - pool_next) >> PAGE_SHIFT;
}

/* A walk of this vCPU's own page tables (4-level; page tables live in low,
 * identity-mapped memory). */
uint64_t mon_virt_to_phys(const void *va)
{
	uint64_t v = (uint64_t)(uintptr_t)va, e = read_cr3() & PTE_ADDR;
	static const unsigned shift[4] = { 39, 30, 21, 12 };

	for (unsigned level = 0; level < 4; level++) {
		e = ((uint64_t *)(uintptr_t)(e & PTE_ADDR))[(v >> shift[level]) & 511];
		if (!(e & PTE_P))
			return RT_NO_PHYS;
		if (level > 0 && level < 3 && (e & PTE_PS)) {
			uint64_t size = 1ull << shift[level];
			return (e & PTE_ADDR & ~(size - 1)) | (v & (size - 1));
		}
	}
	return (e & PTE_ADDR) | (v & (MON_PAGE - 1));
}

uint64_t rt_virt_to_phys(const void *va)
{
	return mon_virt_to_phys(va);
}
