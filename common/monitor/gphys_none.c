/*
 * gphys_none.c - the gphys = none module: guest-physical = host-physical.
 * No EPT, no VPID (the monitor runs without them where the CPU has none,
 * e.g. core2_penryn_t9600): only for guests that need no EPT, such as
 * lab04's virtual-8086 guest, whose page tables point at host pages.
 * Nothing isolates such a guest's memory from the rest of the machine but
 * its own page tables.
 *
 * Runs in: the lab05 monitor.
 */
#include "mon.h"

const char gphys_name[] = "none";

int gphys_check(void) { return 0; }
vmx_u64 gphys_proc2(const struct mon_guest *g) { (void)g; return 0; }

int gphys_guest_init(struct mon_guest *g)
{
	g->vpid = 0;
	return 0;
}

void gphys_guest_vmcs(struct mon_guest *g)
{
	(void)g;
	printf("monitor: no EPT, no VPID: guest-physical = host-physical\n");
}

void gphys_map(uint64_t gpa, uint64_t hpa) { (void)gpa; (void)hpa; }
void gphys_map_shared(uint64_t gpa, uint64_t hpa) { (void)gpa; (void)hpa; }
uint64_t gphys_translate(uint64_t gpa) { return gpa; }

int gphys_exit(const struct vmm_exit *e)
{
	mon_guest_stop("%s without EPT", vmm_exit_name(e->basic));
	return -1;
}

int gphys_give_back(uint64_t gpa) { (void)gpa; return -1; }
void gphys_before_entry(void) { }
void gphys_guest_end(void) { }
