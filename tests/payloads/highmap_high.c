/*
 * highmap_high.c - code and data that run in the top 64 MiB of the address
 * space (0xFFFFFFFFFC000000 upward): mk/baremetal.mk builds this file as a
 * HIGH_SOURCES object, so its .text/.data/.bss become .high.* sections that
 * common/boot/payload.ld links at BOOT_HIGH_VIRT.  Lab05's monitor lives
 * there the same way.
 */
#include "rt.h"

uint64_t high_data_value = 0x4849474844415441ull;  /* .high.data: copied by setup */
uint64_t high_bss_value;                           /* .high.bss: zeroed by setup */

/* Return the address this code runs at, read from RIP itself. */
uint64_t high_where(void)
{
	uint64_t rip;
	__asm__ volatile("lea 0(%%rip), %0" : "=r"(rip));
	high_bss_value++;
	printf("high: printf called from 0x%llx\n", (unsigned long long)rip);
	return rip;
}
