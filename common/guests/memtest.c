/*
 * memtest.c - a lab05 guest that exercises the monitor's EPT:
 *   1. demand paging: it touches pages nothing has mapped yet;
 *   2. isolation: it reads, then writes, a canary at a guest-physical
 *      address every memtest guest uses (another guest's canary must never
 *      show: tests/test_lab05.py looks for it);
 *   3. copy-on-write: it writes into its boot image, which the monitor
 *      shares read-only between every guest of this image;
 *   4. giving a page back (hypercall): the monitor unmaps it (and must
 *      INVEPT); touched again, it comes back as a fresh zero page;
 *   5. it asks the monitor to dump its counters (COM2, tools/vmxstat);
 *   6. outside RAM: it reads above its 128 MiB; the monitor stops it.
 * Its page tables are setup.asm's, in .bss at 1 MiB: never in the shared
 * image pages (with EPT accessed/dirty flags the CPU's page walks write).
 */
#include "rt.h"
#include "../guests/hypercall.h"

enum {
	TOUCH_BASE = 0x1000000,         /* 16 MiB: nothing is there yet */
	TOUCH_PAGES = 32,
	CANARY_GPA = 0x3000000,
	IMAGE_PAGE = 0xA000,            /* a page of the boot image (0x8000 ...) */
	GIVE_BACK_GPA = 0x2000000,
	OUTSIDE = 0x9000000,            /* 144 MiB: above the guest's RAM */
};

void lab_main(void)
{
	unsigned apic = cpuid(CPUID_LEAF_FEATURES, 0).ebx >> 24;
	char canary[32];

	for (unsigned i = 0; i < TOUCH_PAGES; i++)
		*(volatile uint32_t *)(uintptr_t)(TOUCH_BASE + i * 4096) = i;
	printf("memtest: touched %u pages from 0x%x\n", TOUCH_PAGES, TOUCH_BASE);

	volatile char *c = (volatile char *)(uintptr_t)CANARY_GPA;
	printf("memtest: 0x%x holds \"%s\" before my canary\n", CANARY_GPA, c[0] ? (const char *)c : "");
	snprintf(canary, sizeof(canary), "canary-of-cpu-%u", apic);
	memcpy((char *)c, canary, strlen(canary) + 1);
	printf("memtest: wrote my canary at 0x%x\n", CANARY_GPA);

	volatile uint8_t *img = (volatile uint8_t *)(uintptr_t)IMAGE_PAGE;
	uint8_t before = img[0];
	img[0] = (uint8_t)(before ^ 0xFF);
	printf("memtest: wrote the shared image page 0x%x: 0x%02x -> 0x%02x\n", IMAGE_PAGE, before, img[0]);

	volatile uint32_t *g = (volatile uint32_t *)(uintptr_t)GIVE_BACK_GPA;
	*g = 0x600DF00D;
	unsigned long r = mon_hypercall(MON_HC_GIVE_BACK, GIVE_BACK_GPA);
	printf("memtest: gave page 0x%x back (hypercall result %lu); it now reads 0x%x\n", GIVE_BACK_GPA,
	       r, *g);

	printf("memtest: asked for the monitor's counters (hypercall result %lu)\n",
	       mon_hypercall(MON_HC_STATS, 0));
	printf("memtest: reading 0x%x, outside my RAM\n", OUTSIDE);
	printf("memtest: read 0x%x: the monitor did not stop me\n", *(volatile uint32_t *)(uintptr_t)OUTSIDE);
}
