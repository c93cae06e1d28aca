/*
 * fault.c - a payload that faults on purpose: the runtime must print one
 * "EXCEPTION:" line (vector, error code, RIP, CR2, ...) and end the run, not
 * hang or triple-fault.  The faulting instruction carries the global label
 * fault_instruction so tests/test_boot.py can compare the reported RIP with
 * the symbol table of fault.elf.
 *
 * The write goes to 4 GiB, the first address the boot page tables leave
 * unmapped (common/boot/payload.ld): #PF, error code 0x2 (write to a
 * not-present page), CR2 = 0x100000000.
 */
#include "rt.h"

#define UNMAPPED_ADDRESS 0x100000000ull

void lab_main(void)
{
	printf("fault: writing to 0x%llx, which is not mapped\n", UNMAPPED_ADDRESS);
	__asm__ volatile(".globl fault_instruction\n"
			 "fault_instruction: movq $1, (%0)"
			 : : "r"(UNMAPPED_ADDRESS) : "memory");
	printf("fault: still running: the write did not fault\n");
}
