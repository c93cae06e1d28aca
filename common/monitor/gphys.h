/*
 * gphys.h - the guest-physical memory module's interface. Alternatives:
 *   ept   EPT + VPID: gphys_ept.c (the kit's side) + lab05-ept/ept.c (the
 *         student's: the EPT pointer, mapping, the walk, violations,
 *         invalidation); each guest has its own EPT and VPID
 *   none  guest-physical = host-physical (gphys_none.c): no EPT, no VPID;
 *         only for guests that need no EPT (lab04's virtual-8086 guest)
 * An AMD alternative (npt: nested paging under hv = svm) would implement
 * the same functions.
 */
#ifndef MONITOR_GPHYS_H
#define MONITOR_GPHYS_H

struct mon_guest;
struct vmm_exit;

extern const char gphys_name[];                 /* "ept" or "none" */

/* Can this CPU do it? 0, or -1 after a line naming the missing capability. */
int gphys_check(void);

/* The secondary controls this alternative needs (ENABLE_EPT ...). */
vmx_u64 gphys_proc2(const struct mon_guest *g);

/* A new guest's empty address space; the VMCS variables it needs
 * (EPT_POINTER, VIRTUAL_PROCESSOR_ID) into vmcs_vars. */
int gphys_guest_init(struct mon_guest *g);
void gphys_guest_vmcs(struct mon_guest *g);

/* Map one guest page read/write/execute to host page hpa (guest building:
 * the window of mon_mm.c calls it for every page). */
void gphys_map(uint64_t gpa, uint64_t hpa);

/* Map one page read + execute only, shared with other guests (a loaded
 * image): the first write gives the writer its own copy. */
void gphys_map_shared(uint64_t gpa, uint64_t hpa);

/* The host page behind a guest-physical address (mapping it on demand if it
 * is RAM), or ~0 when it is not the guest's. */
uint64_t gphys_translate(uint64_t gpa);

/* EPT violation (48) and misconfiguration (49) exits: 0 to resume the
 * guest, -1 when it was stopped. */
int gphys_exit(const struct vmm_exit *e);

/* The guest gives a page back (VMCALL MON_HC_GIVE_BACK): unmap it. 0 or -1. */
int gphys_give_back(uint64_t gpa);

/* Called before every VM entry (the invalidation discipline is checked
 * there), and when the guest is over (its summary line). */
void gphys_before_entry(void);
void gphys_guest_end(void);

#endif /* MONITOR_GPHYS_H */
