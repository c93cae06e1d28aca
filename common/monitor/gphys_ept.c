/*
 * gphys_ept.c - the kit's side of the gphys = ept module: can this CPU do
 * it, one EPT and VPID per guest, the exits (violations go to the
 * student's ept_violation, misconfigurations are explained here), and the
 * invalidation record.
 *
 * Runs in: the lab05 monitor, VMX root operation.
 *
 * The invalidation record. Bochs flushes its whole TLB on every VM entry,
 * VM exit and INVEPT (docs/PLATFORM.md): a missing INVEPT changes nothing
 * in a Bochs run. Real hardware keeps EPT translations across VM entries
 * (tagged by EPTP, SDM 28.3.1), so a removed or narrowed mapping whose
 * INVEPT is missing stays usable by the guest. The kit therefore records
 * every entry change (ept_set) and every INVEPT (ept_invept), and checks
 * before each VM entry:
 *   - a change that removes or narrows a translation needs an INVEPT
 *     before the entry, unless it is the page of the EPT violation being
 *     handled (SDM 28.3.3.1: the violation invalidated it);
 *   - an INVEPT with no such change before it was not needed.
 * At the guest's end one line says what it found, and one line per change
 * that is not a plain addition shows the record:
 *   ept record: unmap 0x...: rwx -> ---, INVEPT before the next entry: yes
 */
#include "mon.h"
#include "ept.h"
#include "vmm/answers/answers.h"  /* vmm_control_caps: reading a capability MSR (the kit's) */

const char gphys_name[] = "ept";

STAT_DECLARE_ARRAY(ept_faults, 4);      /* 0 demand, 1 copy-on-write, 2 outside RAM, 3 misconfig */
STAT_DECLARE(invept);

enum { FAULT_DEMAND, FAULT_COW, FAULT_OUTSIDE, FAULT_MISCONFIG };

struct ept_guest_state {
	struct ept ept;
	/* the record */
	unsigned long adds, widened, narrowed, at_violation, invepts;
	unsigned long missing, unneeded;
	int pending;                    /* a narrowing change awaits INVEPT */
	int invept_since_entry;
	vmx_u64 pending_gpa;
};

static struct ept_guest_state state;    /* the current guest's (per vCPU) */

/* "rwx", "r-x", "---": an entry's permissions, in the caller's buffer (two
 * of them go into one line). */
static const char *perm_text(vmx_u64 e, char s[4])
{
	s[0] = e & EPT_R ? 'r' : '-';
	s[1] = e & EPT_W ? 'w' : '-';
	s[2] = e & EPT_X ? 'x' : '-';
	s[3] = 0;
	return s;
}

int gphys_check(void)
{
	struct vmm_control_caps proc2 = { 0 };
	vmx_u64 value;
	int ok = 1;

	/* The secondary controls must exist and allow EPT, VPID and
	 * unrestricted guest (IA32_VMX_PROCBASED_CTLS2 allowed-1, SDM A.3.3). */
	if (vmxbase_adjust(VMX_WORD_PROC2, 0, 0, &value) != 0)
		return -1;
	vmm_control_caps(VMX_WORD_PROC2, &proc2);
	if (!proc2.available) {
		printf("monitor: gphys = ept: this CPU has no secondary controls "
		       "(IA32_VMX_PROCBASED_CTLS2 absent: PROC bit 31 allowed-1 is 0), so no EPT and no VPID\n");
		return -1;
	}
	static const struct { vmx_u64 bit; unsigned n; const char *name; } need[] = {
		{ VMX_PROC2_ENABLE_EPT, VMX_PROC2_ENABLE_EPT_BIT, "ENABLE_EPT" },
		{ VMX_PROC2_ENABLE_VPID, VMX_PROC2_ENABLE_VPID_BIT, "ENABLE_VPID" },
		{ VMX_PROC2_UNRESTRICTED_GUEST, VMX_PROC2_UNRESTRICTED_GUEST_BIT, "UNRESTRICTED_GUEST" },
	};
	for (unsigned i = 0; i < RT_ARRAY_SIZE(need); i++)
		if (!(proc2.allowed1 & need[i].bit)) {
			printf("monitor: gphys = ept needs %s: IA32_VMX_PROCBASED_CTLS2 allowed-1 bit %u is 0 "
			       "on this CPU\n", need[i].name, need[i].n);
			ok = 0;
		}
	if (!ok)
		return -1;
	vmx_u64 cap = rdmsr(IA32_VMX_EPT_VPID_CAP);
	if (!VMX_MSR_FIELD_GET(cap, IA32_VMX_EPT_VPID_CAP_PAGE_WALK_LENGTH_4) ||
	    !VMX_MSR_FIELD_GET(cap, IA32_VMX_EPT_VPID_CAP_INVEPT_SINGLE_CONTEXT)) {
		printf("monitor: gphys = ept needs a 4-level walk and single-context INVEPT: "
		       "IA32_VMX_EPT_VPID_CAP = 0x%016llx (bits 6 and 25)\n", (unsigned long long)cap);
		return -1;
	}
	printf("monitor: gphys = ept: IA32_VMX_EPT_VPID_CAP 0x%016llx: 4-level walk, %s, %saccessed/dirty "
	       "flags, single-context INVEPT\n", (unsigned long long)cap,
	       VMX_MSR_FIELD_GET(cap, IA32_VMX_EPT_VPID_CAP_MEMORY_TYPE_WB) ? "write-back" : "uncacheable",
	       VMX_MSR_FIELD_GET(cap, IA32_VMX_EPT_VPID_CAP_ACCESSED_DIRTY_FLAGS) ? "" : "no ");
	return 0;
}

vmx_u64 gphys_proc2(const struct mon_guest *g)
{
	(void)g;
	return VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID;
}

void *ept_page(void)
{
	return mon_page();
}

int gphys_guest_init(struct mon_guest *g)
{
	memset(&state, 0, sizeof(state));
	state.ept.pml4 = ept_page();
	state.ept.violation_gpa = ~0ull;
	state.ept.eptp = ept_pointer(&state.ept);
	mon_shared.vcpu[mon_vcpu].ept_pml4 = (uint64_t)(uintptr_t)state.ept.pml4;     /* for a core */
	g->gphys = &state;
	g->vpid = vpid_for(mon_vcpu, g->index);
	if (g->vpid == 0) {
		mon_guest_stop("vpid_for gave VPID 0, which is the host's (SDM 28.1): TODO(lab05) in ept.c");
		return -1;
	}
	return 0;
}

void gphys_guest_vmcs(struct mon_guest *g)
{
	vmcs_vars.EPT_POINTER = state.ept.eptp;
	vmcs_vars.VIRTUAL_PROCESSOR_IDENTIFIER = g->vpid;
	printf("monitor: EPT pointer 0x%llx, VPID %u\n", (unsigned long long)state.ept.eptp, g->vpid);
}

void ept_set(struct ept *ept, vmx_u64 *entry, vmx_u64 value, vmx_u64 gpa)
{
	vmx_u64 old = *entry, page = gpa & ~(EPT_PAGE_4K - 1);
	char was[4], now[4];
	vmx_u64 lost = (old & EPT_RWX) & ~(value & EPT_RWX);
	int moved = (old & EPT_RWX) && (value & EPT_RWX) &&
		    (old & EPT_ADDR_MASK) != (value & EPT_ADDR_MASK);

	*entry = value;
	if (!(old & EPT_RWX)) {
		state.adds++;
		return;
	}
	if (!lost && !moved) {
		state.widened++;
		printf("ept record: 0x%llx %s -> %s (more permissions): no INVEPT needed\n",
		       (unsigned long long)page, perm_text(old, was), perm_text(value, now));
		return;
	}
	if (ept->violation_gpa == page) {
		state.at_violation++;
		printf("ept record: 0x%llx %s -> %s%s at its own EPT violation: no INVEPT needed "
		       "(SDM 28.3.3.1)\n", (unsigned long long)page, perm_text(old, was), perm_text(value, now),
		       moved ? " (new host page)" : "");
		return;
	}
	state.narrowed++;
	state.pending = 1;
	state.pending_gpa = page;
	printf("ept record: 0x%llx %s -> %s%s: removes or narrows a translation: INVEPT needed\n",
	       (unsigned long long)page, perm_text(old, was), perm_text(value, now), moved ? " (new host page)" : "");
}

void ept_invept(struct ept *ept)
{
	struct invept_descriptor d = { .eptp = ept->eptp };

	STAT_INC(invept);
	state.invepts++;
	if (!state.pending) {
		state.unneeded++;
		printf("ept record: INVEPT with no removed or narrowed translation before it: not needed\n");
	}
	state.pending = 0;
	if (vmm_explain_status("INVEPT", invept(VMX_INVEPT_TYPE_SINGLE_CONTEXT, &d)) != VMX_SUCCEED)
		Panic("INVEPT single-context failed for EPTP 0x%llx", (unsigned long long)ept->eptp);
	printf("ept record: INVEPT single-context\n");
}

void gphys_before_entry(void)
{
	if (state.pending) {
		state.missing++;
		printf("ept record: MISSING INVEPT: 0x%llx lost a translation and the guest runs again "
		       "without one (real hardware may still use the old one)\n",
		       (unsigned long long)state.pending_gpa);
		state.pending = 0;
	}
	state.ept.violation_gpa = ~0ull;
}

void gphys_map(uint64_t gpa, uint64_t hpa)
{
	if (ept_map(&state.ept, gpa, hpa, EPT_PAGE_4K, EPT_RWX) != 0)
		Panic("ept_map of 0x%llx failed", (unsigned long long)gpa);
}

void gphys_map_shared(uint64_t gpa, uint64_t hpa)
{
	if (ept_map(&state.ept, gpa, hpa, EPT_PAGE_4K, EPT_RX | EPT_COW) != 0)
		Panic("ept_map of 0x%llx failed", (unsigned long long)gpa);
}

uint64_t gphys_translate(uint64_t gpa)
{
	unsigned level = 0;
	vmx_u64 *e = ept_walk(&state.ept, gpa, &level);
	struct mon_guest *g = mon_guest;

	if (!e) {
		if (gpa < g->ram_base || gpa - g->ram_base >= g->ram_size)
			return ~0ull;
		gphys_map(gpa & ~(EPT_PAGE_4K - 1), mon_virt_to_phys(ept_page()));
		e = ept_walk(&state.ept, gpa, &level);
		if (!e)
			return ~0ull;
	}
	vmx_u64 size = level == 1 ? EPT_PAGE_4K : EPT_PAGE_2M;
	return (*e & EPT_ADDR_MASK & ~(size - 1)) | (gpa & (size - 1));
}

void ept_count_demand(struct mon_guest *g)
{
	g->demand_faults++;
	STAT_INC_AT(ept_faults, FAULT_DEMAND);
}

void ept_count_cow(struct mon_guest *g)
{
	g->cow_faults++;
	STAT_INC_AT(ept_faults, FAULT_COW);
	printf("monitor: copy-on-write: the guest wrote its shared page 0x%llx: it has its own copy now\n",
	       (unsigned long long)state.ept.violation_gpa);
}

static const char *access_text(const struct ept_fault *f)
{
	return f->write ? "write" : f->fetch ? "instruction fetch" : "read";
}

void ept_stop_outside(struct mon_guest *g, const struct ept_fault *f)
{
	STAT_INC_AT(ept_faults, FAULT_OUTSIDE);
	mon_guest_stop("%s of guest-physical 0x%llx, outside its RAM 0x%llx-0x%llx (walk allowed %s%s%s; "
		       "linear address %s%s)", access_text(f), (unsigned long long)f->gpa,
		       (unsigned long long)g->ram_base, (unsigned long long)(g->ram_base + g->ram_size - 1),
		       f->readable ? "r" : "-", f->writable ? "w" : "-", f->executable ? "x" : "-",
		       f->linear_valid ? "valid" : "not valid",
		       f->linear_valid ? (f->final_translation ? ", the final address" : ", a guest page-table access") : "");
}

/* The rule an EPT entry breaks (SDM 28.2.3.1), or NULL. */
static const char *misconfig_rule(vmx_u64 e, unsigned level, int leaf)
{
	unsigned phys = cpu_phys_address_width();
	vmx_u64 type = VMX_BITS_GET(e, VMX_EPT_ENTRY_MEMORY_TYPE);

	if ((e & EPT_W) && !(e & EPT_R))
		return "write permission without read (bit 1 set, bit 0 clear)";
	if (phys < 52 && (e & EPT_ADDR_MASK) >> phys)
		return "address bits above the physical-address width are set";
	if (level == 4 && (e & VMX_BITS_MASK(VMX_EPT_ENTRY_LARGE_PAGE)))
		return "bit 7 (large page) set in a PML4 entry";
	if (!leaf && VMX_BITS_GET(e, VMX_EPT_ENTRY_MEMORY_TYPE))
		return "bits 5:3 set in a non-leaf entry (reserved there)";
	if (leaf && (type == 2 || type == 3 || type == 7))
		return "memory type 2, 3 or 7 in a leaf (reserved types)";
	if (leaf && level > 1 && (e & EPT_ADDR_MASK & ((1ull << (12 + 9 * (level - 1))) - 1) & ~0xFFFull))
		return "a large page whose address is not aligned to its size";
	return NULL;
}

static void explain_misconfiguration(vmx_u64 gpa)
{
	vmx_u64 *table = state.ept.pml4;
	static const char *const level_name[5] = { "", "PTE", "PDE", "PDPTE", "PML4E" };

	for (unsigned level = 4; level >= 1; level--) {
		vmx_u64 *e = &table[(gpa >> (12 + 9 * (level - 1))) & 511];
		int leaf = level == 1 || (level < 4 && (*e & VMX_BITS_MASK(VMX_EPT_ENTRY_LARGE_PAGE)));
		const char *rule = misconfig_rule(*e, level, leaf);

		printf("monitor: EPT misconfiguration: %s 0x%llx (at 0x%llx)%s%s\n", level_name[level],
		       (unsigned long long)*e, (unsigned long long)mon_virt_to_phys(e),
		       rule ? ": breaks the rule: " : "", rule ? rule : "");
		if (rule || !(*e & EPT_RWX) || leaf)
			return;
		table = (vmx_u64 *)(uintptr_t)(*e & EPT_ADDR_MASK);
	}
}

int gphys_exit(const struct vmm_exit *e)
{
	struct ept_fault f = { 0 };

	vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS, &f.gpa);
	if (e->basic == VMX_EXIT_REASON_EPT_MISCONFIGURATION) {
		STAT_INC_AT(ept_faults, FAULT_MISCONFIG);
		explain_misconfiguration(f.gpa);
		mon_guest_stop("EPT misconfiguration at guest-physical 0x%llx (SDM 28.2.3.1)",
			       (unsigned long long)f.gpa);
		return -1;
	}
	vmcs_read_natural(VMCS_GUEST_LINEAR_ADDRESS, &f.gla);
	ept_decode(e->qualification, &f);
	state.ept.violation_gpa = f.gpa & ~(EPT_PAGE_4K - 1);
	return ept_violation(mon_guest, &state.ept, &f);
}

int gphys_give_back(uint64_t gpa)
{
	return ept_unmap(&state.ept, gpa & ~(EPT_PAGE_4K - 1));
}

void gphys_guest_end(void)
{
	printf("ept record: %lu added, %lu widened, %lu changed at their own violation, %lu narrowed or "
	       "removed; %lu INVEPT; discipline: %s (%lu missing, %lu not needed)\n", state.adds,
	       state.widened, state.at_violation, state.narrowed, state.invepts,
	       state.missing || state.unneeded ? "broken" : "ok", state.missing, state.unneeded);
}
