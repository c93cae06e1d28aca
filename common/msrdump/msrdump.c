/*
 * msrdump.c - the first step of `make run`: the VMX capability MSRs of the
 * (emulated) CPU, read at ring 0 with RDMSR, one per line.
 *
 * Runs in: bare metal (Bochs, QEMU), 64-bit ring 0, via the runtime (rt.h).
 * SDM Vol. 3D appendix A (the capability MSRs), Vol. 3C (classic numbering)
 * 23.6 (discovering VMX support), 23.7 (IA32_FEATURE_CONTROL).
 *
 * Output (every MSR name and number comes from common/vmx/vmx_msrs.def):
 *   cpu vendor: GenuineIntel
 *   vmx: yes (CPUID.1:ECX[5] = 1)
 *   0x3a IA32_FEATURE_CONTROL 0x0000000000000005
 *   0x480 IA32_VMX_BASIC 0x00d810000000002b
 *   ...
 *   0x48c IA32_VMX_EPT_VPID_CAP absent: <why, from the MSRs read before>
 *   ...
 *   IA32_VMX_BASIC decoded:
 *     VMCS_REVISION_ID: ...
 * An absent MSR is never read: RDMSR of it raises #GP on a real CPU and on
 * Bochs.  Without VMX (QEMU TCG, AMD) one line says so and nothing is read.
 */
#include "rt.h"
#include "vmx/decode.h"

/* The decoders print through a struct vmx_printer: this one prints on COM1. */
static void serial_printer(void *ctx, const char *fmt, ...)
{
	va_list ap;
	(void)ctx;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static const struct vmx_printer com1 = { serial_printer, NULL };

static void print_vendor(void)
{
	struct cpuid_regs r = cpuid(CPUID_LEAF_VENDOR, 0);
	char vendor[13];
	memcpy(vendor + 0, &r.ebx, 4);   /* the vendor string is EBX, EDX, ECX */
	memcpy(vendor + 4, &r.edx, 4);
	memcpy(vendor + 8, &r.ecx, 4);
	vendor[12] = '\0';
	printf("cpu vendor: %s\n", vendor);
}

/* Remember the values that decide whether later MSRs exist. */
static void note_value(struct vmx_cap_values *caps, uint32_t msr, uint64_t value)
{
	switch (msr) {
	case IA32_VMX_BASIC:           caps->basic = value; break;
	case IA32_VMX_PROCBASED_CTLS:  caps->procbased_ctls = value; break;
	case IA32_VMX_PROCBASED_CTLS2: caps->procbased_ctls2 = value; break;
	case IA32_VMX_EXIT_CTLS:       caps->exit_ctls = value; break;
	default: break;
	}
}

void lab_main(void)
{
	print_vendor();
	if (!(cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_VMX)) {
		printf("vmx: no: CPUID.1:ECX[5] is 0, this CPU has no VMX, so no VMX MSR is read\n");
		return;
	}
	printf("vmx: yes (CPUID.1:ECX[5] = 1)\n");

	/* The list is in MSR-number order, and each optional MSR depends only
	 * on lower-numbered ones: one pass decides and reads. */
	struct vmx_cap_values caps = { 0 };
	unsigned present = 0, absent = 0;
	/* slide: msr-loop */
	for (unsigned i = 0; i < VMX_MSR_COUNT; i++) {
		const struct vmx_msr_info *m = &vmx_msr_table[i];
		const char *reason = vmx_msr_absent_reason(m->number, &caps);
		if (reason) {
			printf("0x%x %s absent: %s\n", m->number, m->name, reason);
			absent++;
			continue;
		}
		uint64_t value = rdmsr(m->number);
		vmx_print_msr_line(&com1, m->number, value);
		note_value(&caps, m->number, value);
		present++;
	}
	/* end slide */
	printf("msrs: %u present, %u absent\n", present, absent);

	printf("IA32_VMX_BASIC decoded:\n");
	vmx_decode_basic(&com1, caps.basic);
}
