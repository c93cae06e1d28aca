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

vmx_u64 machine_get(const struct machine_entry *e)
{
	switch (e->width) {
	case VMCS_WIDTH_16:
		return *(const vmx_u16 *)e->variable;
	case VMCS_WIDTH_32:
		return *(const vmx_u32 *)e->variable;
	default:                        /* 64-bit and natural width (64 here) */
		return *(const vmx_u64 *)e->variable;
	}
}

void machine_set(const struct machine_entry *e, vmx_u64 value)
{
	switch (e->width) {
	case VMCS_WIDTH_16:
		*(vmx_u16 *)e->variable = (vmx_u16)value;
		break;
	case VMCS_WIDTH_32:
		*(vmx_u32 *)e->variable = (vmx_u32)value;
		break;
	default:
		*(vmx_u64 *)e->variable = value;
		break;
	}
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
	unsigned i, written = 0, unsupported = 0;

	for (i = 0; i < machine_count; i++) {
		const struct machine_entry *e = &machine[i];
		vmx_u64 value = machine_get(e);
		int status;

		if (e->group == VMCS_GROUP_READ_ONLY)
			continue;       /* exit information: the CPU writes it */
		status = vmwrite(e->encoding, value);
		if (status == VMX_SUCCEED) {
			written++;
			continue;
		}
		if (status == VMX_FAIL_VALID &&
		    vmm_instruction_error() == vmm_error_unsupported_component() && value == 0) {
			unsupported++;  /* the CPU lacks it and we do not need it */
			continue;
		}
		printf("machine[] load: VMWRITE %s (0x%08x) = 0x%llx failed\n", e->name,
		       e->encoding, (unsigned long long)value);
		vmm_explain_status("VMWRITE", status);
		return -1;
	}
	printf("machine[] load: %u fields written, %u not supported by this CPU (all zero)\n",
	       written, unsupported);
	return 0;
}

/* A value for entry i that no other entry gets, and that the CPU stores
 * unchanged: access-rights fields keep only their defined bits (a CPU may
 * store them packed, SDM 24.4.1: "reserved bits" are not preserved). */
static vmx_u64 cookie(unsigned i, const struct machine_entry *e)
{
	switch (e->width) {
	case VMCS_WIDTH_16:
		return 0xC000u | i;
	case VMCS_WIDTH_32:
		if (e->encoding >= VMCS_GUEST_ES_ACCESS_RIGHTS &&
		    e->encoding <= VMCS_GUEST_TR_ACCESS_RIGHTS)
			return (0x1D000u | (i & 0xFFu)) & VMM_AR_DEFINED_BITS;
		return 0xC0DE0000u | i;
	default:
		return 0xC0DE00000000C0DEull | ((vmx_u64)i << 16);
	}
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
			printf("machine[] skip: %s (not supported: %s, error %u)\n", e->name,
			       vmx_status_name(status), n);
			unsupported++;
			continue;
		}
		if (e->group == VMCS_GROUP_READ_ONLY && !ro_writable) {
			printf("machine[] skip: %s (read-only: IA32_VMX_MISC bit %u is 0)\n", e->name,
			       IA32_VMX_MISC_VMWRITE_EXIT_INFORMATION_LSB);
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
