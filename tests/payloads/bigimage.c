/*
 * bigimage.c - checks that the boot sector loaded a large image intact: the
 * 128 KiB blob of bigblob.asm crosses track, head, cylinder and 64 KiB DMA
 * boundaries on the floppy.  Prints "bigimage: N dwords, M wrong".
 */
#include "rt.h"

extern const uint32_t blob[];
extern const uint32_t blob_dwords;

void lab_main(void)
{
	uint32_t wrong = 0, first_wrong = 0;
	for (uint32_t i = 0; i < blob_dwords; i++) {
		if (blob[i] != (uint32_t)(i * 2654435761u)) {
			if (!wrong)
				first_wrong = i;
			wrong++;
		}
	}
	printf("bigimage: %u dwords, %u wrong", blob_dwords, wrong);
	if (wrong)
		printf(" (first at dword %u, byte offset 0x%x)", first_wrong, first_wrong * 4);
	printf("\n");
}
