/*
 * vmxprobe.c - a lab05 guest that looks for VMX where the monitor hides it:
 * CPUID.1:ECX.VMX, CR4.VMXE, then RDMSR of IA32_VMX_BASIC anyway. On a CPU
 * without VMX that RDMSR raises #GP: the runtime's exception line shows it.
 */
#include "rt.h"
#include "vmx/cpu_bits.h"
#include "vmx/msrs.h"

void lab_main(void)
{
	struct cpuid_regs r = cpuid(CPUID_LEAF_FEATURES, 0);

	printf("vmxprobe: CPUID.1:ECX.VMX = %u, CR4.VMXE = %u\n", (unsigned)!!(r.ecx & CPUID_1_ECX_VMX),
	       (unsigned)!!(read_cr4() & CPU_CR4_VMXE));
	printf("vmxprobe: RDMSR IA32_VMX_BASIC (0x%x) anyway:\n", IA32_VMX_BASIC);
	uint64_t v = rdmsr(IA32_VMX_BASIC);
	printf("vmxprobe: IA32_VMX_BASIC = 0x%llx: VMX is not hidden\n", (unsigned long long)v);
}
