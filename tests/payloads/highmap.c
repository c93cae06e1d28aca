/*
 * highmap.c - checks the high mapping of the boot path: a routine linked at
 * 0xFFFFFFFFFC000000 (highmap_high.c) runs, reads back its own address, and
 * its bytes are found at the physical backing, BOOT_HIGH_PHYS, through the
 * identity map.  Each check prints one "high: NAME: ok|FAILED" line.
 */
#include "rt.h"

extern uint64_t high_where(void);
extern uint64_t high_asm_where(void);   /* highmap_asm.asm */
extern uint64_t high_data_value, high_bss_value;

static void check(const char *name, int ok)
{
	printf("high: %s: %s\n", name, ok ? "ok" : "FAILED");
}

void lab_main(void)
{
	uint64_t fn = (uint64_t)(uintptr_t)&high_where;
	printf("high: high_where is linked at 0x%016llx\n", (unsigned long long)fn);
	uint64_t rip = high_where();
	printf("high: rip read back 0x%016llx\n", (unsigned long long)rip);
	check("runs in the top 64 MiB", rip >= RT_HIGH_VIRT && rip - fn < 64);
	check(".high.data copied", high_data_value == 0x4849474844415441ull);
	check(".high.bss zeroed then written", high_bss_value == 1);
	uint64_t asm_rip = high_asm_where();
	printf("high: asm routine runs at 0x%016llx\n", (unsigned long long)asm_rip);
	check("NASM code in the top 64 MiB", asm_rip == (uint64_t)(uintptr_t)&high_asm_where &&
	      asm_rip >= RT_HIGH_VIRT);

	uint64_t pa = rt_virt_to_phys(&high_where);
	const void *backing = (const void *)(uintptr_t)pa;
	printf("high: physical backing of high_where 0x%llx\n", (unsigned long long)pa);
	check("same bytes through the identity map",
	      pa == RT_HIGH_PHYS + (fn - RT_HIGH_VIRT) &&
	      memcmp(backing, (const void *)(uintptr_t)fn, 32) == 0);
}
