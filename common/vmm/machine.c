/*
 * machine.c - machine[]: every VMCS component paired with the memory
 * variable that holds its value, so one loop can move them all into the VMCS
 * whatever their widths; and the read-back self-test over the same table.
 *
 * Runs in: bare metal, 64-bit, VMX root operation with a current VMCS.
 * SDM vol. 3C (classic numbering) 24.11.2 (field encodings), 30.3 (VMREAD,
 * VMWRITE), appendix B (the fields), A.6 (IA32_VMX_MISC bit 29).
 *
 * The VMCS layout in memory is the CPU's secret: software names a component
 * by its 32-bit encoding and moves it with VMWRITE/VMREAD. The encoding
 * says the width (bits 14:13) and the kind (bits 11:10), so a table of
 * (encoding, &variable) pairs is all a uniform loop needs:
 *
 *   machine[i] = { encoding, width, group, &vmcs_vars.NAME, "NAME" }
 *
 * Both struct vmcs_vars (vmm.h) and machine[] below are generated from
 * common/vmx/vmcs_fields.def with an X-macro: no encoding is typed here.
 */
#include "vmm.h"

struct vmcs_vars vmcs_vars;

const struct machine_entry machine[] = {
#define VMCS_FIELD(name, enc, width, group, desc) \
	{ enc, VMCS_WIDTH_##width, VMCS_GROUP_##group, &vmcs_vars.name, #name },
#include "../vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

const unsigned machine_count = RT_ARRAY_SIZE(machine);

/* Each variable's C type agrees with the width its encoding claims: the
 * struct and the table come from the same line of the list, and this checks
 * the list itself (a 16-bit field listed with a 32-bit encoding fails). */
#define VMCS_FIELD(name, enc, width, group, desc)                                         \
	_Static_assert(VMCS_ENC_WIDTH(enc) == VMCS_WIDTH_##width &&                       \
		       sizeof(vmcs_vars.name) == (VMCS_WIDTH_##width == VMCS_WIDTH_16 ? 2 :  \
						  VMCS_WIDTH_##width == VMCS_WIDTH_32 ? 4 : 8), \
		       #name ": the variable's width disagrees with the encoding");
#include "../vmx/vmcs_fields.def"
#undef VMCS_FIELD

/* Bytes of a variable of each width (enum vmcs_width order: 16, 64, 32,
 * natural); natural width is 64 bits on this host. */
static const unsigned char width_bytes[] = {
	[VMCS_WIDTH_16] = 2, [VMCS_WIDTH_64] = 8, [VMCS_WIDTH_32] = 4, [VMCS_WIDTH_NATURAL] = 8,
};

/* x86 is little-endian: the low bytes of a vmx_u64 are the narrower value. */
vmx_u64 machine_get(const struct machine_entry *e)
{
	vmx_u64 v = 0;

	memcpy(&v, e->variable, width_bytes[e->width]);
	return v;
}

void machine_set(const struct machine_entry *e, vmx_u64 value)
{
	memcpy(e->variable, &value, width_bytes[e->width]);
}

const struct machine_entry *machine_find(vmx_u32 encoding)
{
	unsigned i;

	for (i = 0; i < machine_count; i++)
		if (machine[i].encoding == encoding)
			return &machine[i];
	return VMX_NULL;
}

int vmm_machine_load(void)
{
	const struct machine_entry *e;
	unsigned written = 0, absent = 0;

	for (e = machine; e < machine + machine_count; e++) {
		vmx_u64 v = machine_get(e);
		int st;

		if (e->group == VMCS_GROUP_READ_ONLY)
			continue;               /* VM-exit information: written by the CPU */
		st = vmwrite(e->encoding, v);
		if (st == VMX_SUCCEED)
			written++;
		else if (st == VMX_FAIL_VALID && v == 0 &&
			 vmm_instruction_error() == vmm_error_unsupported_component())
			absent++;               /* not on this CPU, and not needed */
		else {
			printf("machine[] load: %s = 0x%llx refused\n", e->name, (unsigned long long)v);
			vmm_explain_status("VMWRITE", st);
			return -1;
		}
	}
	printf("machine[] load: %u fields written, %u not supported by this CPU (all zero)\n",
	       written, absent);
	return 0;
}

/* A value for entry i that no other entry gets, and that the CPU stores
 * unchanged: access-rights fields keep only their defined bits (a CPU may
 * store them packed, SDM 24.4.1: "reserved bits" are not preserved). */
static vmx_u64 cookie(unsigned i, const struct machine_entry *e)
{
	/* i + 1 added to every 16-bit quarter (no carries: i < 0x1000), so
	 * each width's truncation is distinct and never 0. */
	vmx_u64 c = 0xC0DEA000C0DEA000ull + 0x0001000100010001ull * (i + 1);
	unsigned bits = 8u * width_bytes[e->width];

	if (bits < 64)
		c &= (1ull << bits) - 1;
	if (e->encoding >= VMCS_GUEST_ES_ACCESS_RIGHTS && e->encoding <= VMCS_GUEST_TR_ACCESS_RIGHTS)
		c = (0x1D000u | (i & 0xFFu)) & VMM_AR_DEFINED_BITS;
	return c;
}

int vmm_machine_selftest(void)
{
	vmx_u64 misc = rdmsr(IA32_VMX_MISC);
	int ro_writable = VMX_MSR_FIELD_GET(misc, IA32_VMX_MISC_VMWRITE_EXIT_INFORMATION) != 0;
	unsigned i, ok = 0, unsupported = 0, read_only = 0, mismatched = 0;
	static vmx_u8 tested[512];      /* machine_count is about 200 */

	if (machine_count > sizeof(tested))
		rt_panic("machine[] self-test: %u fields, room for %u", machine_count,
			 (unsigned)sizeof(tested));

	/*
	 * Pass 1: which components does this CPU have? A VMREAD of one it lacks
	 * fails with VMfailValid, error 12. Probing with VMREAD first keeps the
	 * VM_INSTRUCTION_ERROR field (itself a component) untouched later.
	 */
	for (i = 0; i < machine_count; i++) {
		const struct machine_entry *e = &machine[i];
		uint64_t v;
		int status = vmread(e->encoding, &v);

		tested[i] = 0;
		if (status != VMX_SUCCEED) {
			vmx_u32 n = status == VMX_FAIL_VALID ? vmm_instruction_error() : 0;
			/* Short lines: at 115200 baud each byte costs the run
			 * time; the summary line below says what they mean. */
			if (status == VMX_FAIL_VALID)
				printf("machine[] skip: %s (error %u)\n", e->name, n);
			else
				printf("machine[] skip: %s (%s)\n", e->name, vmx_status_name(status));
			unsupported++;
			continue;
		}
		if (e->group == VMCS_GROUP_READ_ONLY && !ro_writable) {
			printf("machine[] skip: %s (read-only)\n", e->name);
			read_only++;
			continue;
		}
		tested[i] = 1;
	}

	/* Pass 2: a distinct cookie into every tested component. */
	for (i = 0; i < machine_count; i++) {
		int status;

		if (!tested[i])
			continue;
		status = vmwrite(machine[i].encoding, cookie(i, &machine[i]));
		if (status != VMX_SUCCEED) {
			printf("machine[] mismatch: %s: VMWRITE failed\n", machine[i].name);
			vmm_explain_status("VMWRITE", status);
			tested[i] = 0;
			mismatched++;
		}
	}

	/* Pass 3: read every cookie back (after all writes: a component that
	 * shares storage with another would show here). 64-bit components are
	 * also read through their high-half encoding (encoding | 1). */
	for (i = 0; i < machine_count; i++) {
		const struct machine_entry *e = &machine[i];
		vmx_u64 want = cookie(i, e);
		uint64_t got = 0, high = 0;

		if (!tested[i])
			continue;
		if (vmread(e->encoding, &got) != VMX_SUCCEED || got != want) {
			printf("machine[] mismatch: %s wrote 0x%llx read 0x%llx\n", e->name,
			       (unsigned long long)want, (unsigned long long)got);
			mismatched++;
			continue;
		}
		if (e->width == VMCS_WIDTH_64 &&
		    (vmread(VMCS_ENC_HIGH(e->encoding), &high) != VMX_SUCCEED || high != want >> 32)) {
			printf("machine[] mismatch: %s high half read 0x%llx, want 0x%llx\n", e->name,
			       (unsigned long long)high, (unsigned long long)(want >> 32));
			mismatched++;
			continue;
		}
		ok++;
	}

	printf("machine[] skipped: %u not supported by this CPU (VM-instruction error 12), "
	       "%u read-only (IA32_VMX_MISC bit %u is %u)\n", unsupported, read_only,
	       IA32_VMX_MISC_VMWRITE_EXIT_INFORMATION_LSB, ro_writable);
	printf("machine[] read-back: %u fields ok, %u skipped, %u mismatched\n", ok,
	       unsupported + read_only, mismatched);
	return (int)mismatched;
}
