/*
 * ept.c - lab05: EPT and VPID for the monitor's guests (the gphys = ept
 * module; the kit's side is common/monitor/gphys_ept.c). ept.h draws the
 * walk and an entry.
 *
 * Runs in: the lab05 monitor, VMX root operation, on the vCPU running the
 * guest. SDM vol. 3C (classic numbering): 24.6.11 (EPTP), 28.2.2 (entries),
 * 28.2.3 (violations and misconfigurations), 28.3.3 (invalidation), 28.1
 * (VPID), 27.2.1 (the violation's qualification), A.10.
 */
#include "ept.h"

/* Levels of the walk: 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT. */
static unsigned index_at(vmx_u64 gpa, unsigned level)
{
	return (unsigned)(gpa >> (12 + 9 * (level - 1))) & 511;
}

/* slide: ept-pointer */
vmx_u64 ept_pointer(const struct ept *ept)
{
	/* TODO(lab05): the EPT pointer (SDM 24.6.11): the PML4's physical
	 * address (mon_virt_to_phys), memory type write-back
	 * (VMX_MEMORY_TYPE_WB) when IA32_VMX_EPT_VPID_CAP says WB is allowed
	 * (MEMORY_TYPE_WB, else UC), page-walk length 4 minus 1, and the
	 * accessed/dirty enable bit when the capability has
	 * ACCESSED_DIRTY_FLAGS. The fields: VMX_EPTP_* of vmx/layouts.h;
	 * capability bits: VMX_MSR_FIELD_GET(cap, IA32_VMX_EPT_VPID_CAP_...). */
	(void)ept;
	return 0;
}
/* end slide */

/*
 * Map [gpa, gpa + size) to [hpa, hpa + size) with one leaf: size is
 * EPT_PAGE_4K (a PTE) or EPT_PAGE_2M (a PDE with bit 7). flags: EPT_R/W/X
 * and the kit's EPT_COW. Missing tables are made on the way (ept_page);
 * a non-leaf entry gets R, W and X (the leaf decides) and no memory type;
 * the leaf gets memory type write-back. Every entry is written with
 * ept_set (the kit records each change). Returns 0, or -1 when a 2 MiB
 * page is asked for where 4 KiB pages already are (or the reverse).
 */
int ept_map(struct ept *ept, vmx_u64 gpa, vmx_u64 hpa, vmx_u64 size, vmx_u64 flags)
{
	unsigned leaf_level = size == EPT_PAGE_2M ? 2 : 1;
	vmx_u64 *table = ept->pml4;

	/* TODO(lab05): walk from the PML4 down to leaf_level: at each level
	 * above it, take the entry index_at(gpa, level); if it is not present
	 * (bits 2:0 all 0), make a table with ept_page() and point the entry at
	 * it (its physical address | EPT_RWX); if it is a large page, return
	 * -1. Then write the leaf: hpa | flags | memory type WB
	 * (VMX_BITS_PUT(VMX_EPT_ENTRY_MEMORY_TYPE, VMX_MEMORY_TYPE_WB)), plus
	 * VMX_EPT_ENTRY_LARGE_PAGE for 2 MiB. */
	(void)ept; (void)gpa; (void)hpa; (void)flags; (void)table;
	(void)leaf_level; (void)index_at;
	return -1;
}

/*
 * The leaf entry that maps gpa, and its level (1: 4 KiB PTE, 2: 2 MiB PDE),
 * or NULL when the walk meets a non-present entry first.
 */
vmx_u64 *ept_walk(struct ept *ept, vmx_u64 gpa, unsigned *level)
{
	vmx_u64 *table = ept->pml4;

	/* TODO(lab05): from level 4 down: the entry index_at(gpa, level); not
	 * present -> NULL; level 1, or a large page at level 2 or 3 -> that
	 * entry (and *level); else continue in the table it points at. */
	(void)table; (void)gpa; (void)level;
	return NULL;
}

/* slide: ept-decode */
void ept_decode(vmx_u64 q, struct ept_fault *f)
{
	/* TODO(lab05): the access (bits 0-2), what the walk allowed (3-5),
	 * whether the linear address is valid (7) and, if it is, whether the
	 * access was to the final address (8): the fields VMX_EPT_QUAL_* of
	 * vmx/layouts.h, read with VMX_BITS_GET. (f->gpa and f->gla are
	 * filled by the kit.) */
	(void)q; (void)f;
}
/* end slide */

/*
 * An EPT violation of guest g. Three cases:
 *   - gpa outside the guest's RAM [g->ram_base, g->ram_base + g->ram_size):
 *     ept_stop_outside(g, f); return -1 (the guest is stopped);
 *   - no mapping (the walk finds nothing): demand paging: a fresh page
 *     (ept_page), mapped read/write/execute; ept_count_demand(g);
 *   - a write to a copy-on-write page (EPT_COW, not writable): copy the
 *     page into a fresh one and map that read/write/execute, without
 *     EPT_COW; ept_count_cow(g).
 * Anything else stops the guest (return -1 after mon_guest_stop).
 * INVEPT: none here. The violation itself invalidated every cached
 * translation of this guest-physical page (SDM 28.3.3.1), and the others
 * only gain mappings or permissions.
 */
/* slide: ept-violation */
int ept_violation(struct mon_guest *g, struct ept *ept, const struct ept_fault *f)
{
	vmx_u64 page = f->gpa & ~(EPT_PAGE_4K - 1);
	unsigned level = 0;
	vmx_u64 *e;

	/* TODO(lab05): the three cases above. */
	(void)g; (void)ept; (void)page; (void)level; (void)e;
	mon_guest_stop("EPT violation at 0x%llx: TODO(lab05) in ept.c (ept_violation)",
		       (unsigned long long)f->gpa);
	return -1;
}
/* end slide */

/*
 * Take a page away from the guest (the guest gave it back: balloon
 * hypercall). Clear its leaf, then INVEPT: the CPU may still hold the
 * translation in its TLB or paging-structure caches (SDM 28.3.3.1 lists
 * what the CPU invalidates by itself; an entry made not-present is not
 * among them). Returns 0, or -1 when nothing maps gpa.
 */
int ept_unmap(struct ept *ept, vmx_u64 gpa)
{
	unsigned level = 0;
	vmx_u64 *e = ept_walk(ept, gpa, &level);

	if (!e)
		return -1;
	/* TODO(lab05): clear the entry (ept_set with 0), then invalidate
	 * (ept_invept). */
	(void)e;
	return 0;
}

/* slide: vpid */
vmx_u16 vpid_for(unsigned vcpu, unsigned guest_index)
{
	/* TODO(lab05): a VPID for each guest, never 0 (VPID 0 is the
	 * host's, SDM 28.1), different for every guest of every vCPU. */
	(void)vcpu; (void)guest_index;
	return 0;
}
/* end slide */
