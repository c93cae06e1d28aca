/*
 * machine.c - machine[]: every VMCS component paired with the memory
 * variable that holds its value, so one loop can move them all into the VMCS
 * whatever their widths; and the read-back test of such a loop over the same
 * table. The loop itself is lab03's work (vmxstep3.c, machine_load); the
 * kit's own version is common/vmm/answers/machine_load.c.
 *
 * Runs in: bare metal, 64-bit, VMX root operation with a current VMCS.
 * SDM vol. 3C (classic numbering) 24.11.2 (field encodings), 30.3 (VMREAD,
 * VMWRITE), appendix B (the fields).
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

/* slide: machine-table */
struct vmcs_vars vmcs_vars;

const struct machine_entry machine[] = {
#define VMCS_FIELD(name, enc, width, group, desc) \
	{ enc, VMCS_WIDTH_##width, VMCS_GROUP_##group, &vmcs_vars.name, #name },
#include "../vmx/vmcs_fields.def"
#undef VMCS_FIELD
/* end slide */
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

int vmm_machine_readback(int (*load)(void))
{
	unsigned i, ok = 0, unsupported = 0, read_only = 0, mismatched = 0;
	static vmx_u8 tested[RT_ARRAY_SIZE(machine)];  /* one per vmcs_fields.def line */
	int status;

	/*
	 * Pass 1: which components does this CPU have? A VMREAD of one it lacks
	 * fails with VMfailValid, error 12. Probing with VMREAD first keeps the
	 * VM_INSTRUCTION_ERROR field (itself a component) untouched later.
	 * Read-only components (VM-exit information) are the CPU's to write: a
	 * machine[] loop skips them, so the test does too.
	 */
	for (i = 0; i < machine_count; i++) {
		const struct machine_entry *e = &machine[i];
		uint64_t v;
		int st = vmread(e->encoding, &v);

		tested[i] = 0;
		if (st != VMX_SUCCEED) {
			/* Short lines: at 115200 baud each byte costs the run
			 * time; the summary line below says what they mean. */
			if (st == VMX_FAIL_VALID)
				printf("machine[] skip: %s (error %u)\n", e->name, vmm_instruction_error());
			else
				printf("machine[] skip: %s (%s)\n", e->name, vmx_status_name(st));
			unsupported++;
			continue;
		}
		if (e->group == VMCS_GROUP_READ_ONLY) {
			printf("machine[] skip: %s (read-only)\n", e->name);
			read_only++;
			continue;
		}
		tested[i] = 1;
	}

	/* Pass 2: a distinct cookie in the variable of every tested component,
	 * 0 in the others (a loop may skip an absent component only when its
	 * variable is 0), then the loop under test moves them into the VMCS. */
	for (i = 0; i < machine_count; i++)
		machine_set(&machine[i], tested[i] ? cookie(i, &machine[i]) : 0);
	status = load();
	if (status != 0) {
		printf("machine[] read-back: the loop under test failed (returned %d); nothing compared\n",
		       status);
		memset(&vmcs_vars, 0, sizeof(vmcs_vars));
		return -1;
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
	/* The variables held cookies: the real setup starts from zero. */
	memset(&vmcs_vars, 0, sizeof(vmcs_vars));

	printf("machine[] skipped: %u not supported by this CPU (VM-instruction error 12), "
	       "%u read-only (VM-exit information)\n", unsupported, read_only);
	printf("machine[] read-back: %u fields ok, %u skipped, %u mismatched\n", ok,
	       unsupported + read_only, mismatched);
	return (int)mismatched;
}
