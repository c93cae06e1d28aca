/*
 * hello.c - the smallest payload: proves the boot path reaches lab_main()
 * in 64-bit mode and prints the machine state the boot path promises.
 * Used by tests/test_boot.py and the boot benchmark.
 */
#include "rt.h"

void lab_main(void)
{
	struct rt_dtr gdtr = read_gdtr(), idtr = read_idtr();

	printf("hello: lab_main reached\n");
	printf("cs: 0x%x\n", read_cs());
	printf("ds: 0x%x\n", read_ds());
	printf("ss: 0x%x\n", read_ss());
	printf("tr: 0x%x\n", read_tr());
	printf("cr0: 0x%llx\n", (unsigned long long)read_cr0());
	printf("cr3: 0x%llx\n", (unsigned long long)read_cr3());
	printf("cr4: 0x%llx\n", (unsigned long long)read_cr4());
	printf("efer: 0x%llx\n", (unsigned long long)rdmsr(0xC0000080));
	printf("gdtr: base=0x%llx limit=0x%x\n", (unsigned long long)gdtr.base, gdtr.limit);
	printf("idtr: base=0x%llx limit=0x%x\n", (unsigned long long)idtr.base, idtr.limit);
	printf("printf: [%5d] [%-5d] [%05d] [%x] [%X] [%08lx] [%llu] [%lld] [%c] [%s] [%-4s] [%p]\n",
	       42, 42, -42, 0xbeefu, 0xbeefu, 0x1234ul, 18446744073709551615ull,
	       -9223372036854775807ll - 1, 'z', "str", "ab", (void *)0x1000);
	printf("puthex: ");
	puthex(0x0123456789abcdefull);
	putchar('\n');
	void *a = page_alloc(), *b = page_alloc();
	printf("page_alloc: 0x%llx 0x%llx\n", (unsigned long long)(uintptr_t)a,
	       (unsigned long long)(uintptr_t)b);
}
