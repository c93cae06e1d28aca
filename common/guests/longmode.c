/*
 * longmode.c - a lab05 guest: the kit's boot path (bootsect's job done by
 * the monitor, then setup.asm: real mode -> protected mode -> long mode)
 * and this payload, which prints from 64-bit mode through the virtual COM1.
 * The monitor reports each mode change it sees on the way.
 */
#include "rt.h"
#include "vmx/cpu_bits.h"

void lab_main(void)
{
	uint64_t cr0 = read_cr0(), efer = rdmsr(RT_MSR_IA32_EFER);

	printf("longmode: hello from 64-bit long mode: CR0 0x%llx (PE %u PG %u), EFER 0x%llx (LMA %u)\n",
	       (unsigned long long)cr0, (unsigned)!!(cr0 & CPU_CR0_PE), (unsigned)!!(cr0 & CPU_CR0_PG),
	       (unsigned long long)efer, (unsigned)!!(efer & CPU_EFER_LMA));
}
