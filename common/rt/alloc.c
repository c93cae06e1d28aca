/*
 * alloc.c - a page allocator for VMX structures (VMXON region, VMCS,
 * bitmaps, EPT tables): zeroed 4 KiB pages, never freed.
 *
 * The pool is the RAM between the end of the payload (__free_start) and the
 * backing of the high mapping (__free_end = BOOT_HIGH_PHYS), both from
 * common/boot/payload.ld.  Identity-mapped: the address returned is the
 * physical address that VMXON/VMPTRLD/EPT pointers need.
 */
#include "rt.h"

enum { PAGE_SIZE = 4096 };

extern char __free_start[], __free_end[];

static uintptr_t next;
static rt_spinlock alloc_lock;          /* both CPUs allocate (smp.c) */

void *pages_alloc(size_t n)
{
	rt_spin_lock(&alloc_lock);
	if (!next)
		next = (uintptr_t)__free_start;
	if (n == 0 || n > ((uintptr_t)__free_end - next) / PAGE_SIZE) {
		size_t left = ((uintptr_t)__free_end - next) / PAGE_SIZE;
		rt_spin_unlock(&alloc_lock);
		rt_panic("page_alloc: out of memory: %zu pages asked, %zu left", n, left);
	}
	void *p = (void *)next;
	next += n * PAGE_SIZE;
	rt_spin_unlock(&alloc_lock);
	memset(p, 0, n * PAGE_SIZE);
	return p;
}

void *page_alloc(void)
{
	return pages_alloc(1);
}

size_t page_alloc_used(void)
{
	return next ? (next - (uintptr_t)__free_start) / PAGE_SIZE : 0;
}

size_t page_alloc_free(void)
{
	uintptr_t from = next ? next : (uintptr_t)__free_start;
	return ((uintptr_t)__free_end - from) / PAGE_SIZE;
}

uint64_t rt_virt_to_phys(const void *va)
{
	uint64_t v = (uint64_t)(uintptr_t)va;
	if (v < (1ull << 32))
		return v;                       /* identity map */
	if (v >= RT_HIGH_VIRT && v - RT_HIGH_VIRT < RT_HIGH_SIZE)
		return v - RT_HIGH_VIRT + RT_HIGH_PHYS;
	return RT_NO_PHYS;
}
