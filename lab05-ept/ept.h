/*
 * ept.h - lab05's EPT and VPID: what the student writes (ept.c) and the
 * kit's side of it (common/monitor/gphys_ept.c) tell each other.
 *
 * Runs in: the lab05 monitor (common/monitor/mon.h), 64-bit ring 0, VMX root.
 * SDM vol. 3C (classic numbering) 28.2 (EPT: the walk, the entries, memory
 * types, violations, misconfigurations), 28.3.3 (invalidation), 28.1
 * (VPID), 24.6.11 (the EPT pointer), 27.2.1 (the violation's qualification),
 * 30.3 (INVEPT, INVVPID), A.10 (IA32_VMX_EPT_VPID_CAP).
 *
 * A 4-level EPT walk of a guest-physical address (bits 47:0):
 *
 *   47      39 38      30 29      21 20      12 11         0
 *  +----------+----------+----------+----------+------------+
 *  | PML4 idx | PDPT idx |  PD idx  |  PT idx  |   offset   |
 *  +----------+----------+----------+----------+------------+
 *   EPTP -> PML4E -> PDPTE -> PDE -(bit 7: 2 MiB page)-> PTE -> 4 KiB page
 *
 * One entry (the layout EPT_ENTRY of common/vmx/vmx_layouts.def):
 *
 *   63  62..52 51 ........ 12 11 10  9  8  7  6  5..3  2  1  0
 *  +--+-------+-------------+--+--+--+--+--+--+-----+--+--+--+
 *  |SV| ign.  | phys. addr. |sw|UX| D| A|PS|IP| MT  | X| W| R|
 *  +--+-------+-------------+--+--+--+--+--+--+-----+--+--+--+
 *   R W X: read, write, execute; MT: memory type (leaf only); IP: ignore
 *   PAT (leaf only); PS: large page (PDPTE/PDE); A, D: accessed, dirty;
 *   sw: bit 11, ignored by the CPU: the kit marks copy-on-write pages there.
 */
#ifndef LAB05_EPT_H
#define LAB05_EPT_H

#include "mon.h"

/* Permissions of a mapping: EPT entry bits 2:0. */
enum {
	EPT_R = 1u << VMX_EPT_ENTRY_READ_LSB,
	EPT_W = 1u << VMX_EPT_ENTRY_WRITE_LSB,
	EPT_X = 1u << VMX_EPT_ENTRY_EXECUTE_LSB,
	EPT_RWX = EPT_R | EPT_W | EPT_X,
	EPT_RX = EPT_R | EPT_X,
};

/* The kit's mark of a copy-on-write page (bit 11: ignored by the CPU). */
#define EPT_COW VMX_BITS_MASK(VMX_EPT_ENTRY_IGNORED_11)
#define EPT_ADDR_MASK VMX_BITS_MASK(VMX_EPT_ENTRY_ADDRESS)

#define EPT_PAGE_4K 0x1000ull
#define EPT_PAGE_2M 0x200000ull

/* One guest's EPT. */
struct ept {
	vmx_u64 *pml4;                  /* the top table: a pool page (VA = PA) */
	vmx_u64 eptp;                   /* ept_pointer()'s value */
	vmx_u64 violation_gpa;          /* the page of the violation being handled, or ~0 */
};

/* What an EPT violation's exit qualification says (ept_decode). */
struct ept_fault {
	vmx_u64 gpa;                    /* GUEST_PHYSICAL_ADDRESS of the exit */
	vmx_u64 gla;                    /* GUEST_LINEAR_ADDRESS, when linear_valid */
	int read, write, fetch;         /* the access */
	int readable, writable, executable;     /* what the walk allowed */
	int linear_valid;               /* bit 7 */
	int final_translation;          /* bit 8: 1 the final address, 0 a guest page-table access */
};

/* --- The student's (ept.c) ------------------------------------------------- */

vmx_u64 ept_pointer(const struct ept *ept);
int ept_map(struct ept *ept, vmx_u64 gpa, vmx_u64 hpa, vmx_u64 size, vmx_u64 flags);
vmx_u64 *ept_walk(struct ept *ept, vmx_u64 gpa, unsigned *level);
void ept_decode(vmx_u64 qualification, struct ept_fault *f);
int ept_violation(struct mon_guest *g, struct ept *ept, const struct ept_fault *f);
int ept_unmap(struct ept *ept, vmx_u64 gpa);
vmx_u16 vpid_for(unsigned vcpu, unsigned guest_index);

/* --- The kit's (common/monitor/gphys_ept.c) -------------------------------- */

/* Write one EPT entry. Every change goes through here: the kit records it
 * (old and new value, the guest-physical address it maps, whether it is
 * the page of the violation being handled) for the invalidation record. */
void ept_set(struct ept *ept, vmx_u64 *entry, vmx_u64 value, vmx_u64 gpa);

/* INVEPT single-context for this EPT (SDM 30.3), recorded. */
void ept_invept(struct ept *ept);

/* A zeroed pool page for a table or for guest RAM (VA = PA). */
void *ept_page(void);

/* Count a fault for the guest's summary and the statistics. */
void ept_count_demand(struct mon_guest *g);
void ept_count_cow(struct mon_guest *g);

/* Stop the guest for an access outside its RAM, with the decoded fault. */
void ept_stop_outside(struct mon_guest *g, const struct ept_fault *f);

#endif /* LAB05_EPT_H */
