/*
 * stats.c - the monitor's counters (stats.h), one definition each, in
 * .statvars: each vCPU's page tables map its own copy there. The host
 * side dumps them raw (host/statdump); tools/vmxstat names them from this
 * file's symbols and the .statnames entries.
 */
#include "mon.h"
#include "com2.h"

#if MON_STATS
unsigned long stat_exits_by_reason[VMM_EXIT_REASON_LIMIT] STAT_SECTION;
STAT_INDEX_NAMES(exits_by_reason, "*exit_reason");
unsigned long stat_guest_runs STAT_SECTION;
unsigned long stat_injected_events STAT_SECTION;
unsigned long stat_vmcalls STAT_SECTION;
unsigned long stat_io_by_port[STAT_IO_PORTS + 1] STAT_SECTION;
STAT_INDEX_NAMES(io_by_port, "*port");
unsigned long stat_ept_faults[4] STAT_SECTION;
STAT_INDEX_NAMES(ept_faults, "demand,copy-on-write,outside RAM,misconfiguration");
unsigned long stat_invept STAT_SECTION;
MON_VMMADDR(stat_exits_by_reason);

extern const uint8_t __mon_build_id_note[], __mon_statvars_start[], __mon_statvars_end[];

/* This vCPU's counters on COM2 now (hypercall MON_HC_STATS): the same
 * record the host side writes at the end of the run. */
int mon_statdump(unsigned reason)
{
	const uint8_t *id = com2_build_id(__mon_build_id_note);
	rt_spinlock *lock = (rt_spinlock *)(uintptr_t)mon_boot_block->com2_lock;
	struct mon_statdump_header h = {
		.vcpu = mon_vcpu, .reason = reason,
		.size = (uint32_t)(__mon_statvars_end - __mon_statvars_start),
		.statvars_va = (uint64_t)(uintptr_t)__mon_statvars_start,
	};

	if (!id)
		return -1;
	memcpy(h.magic, MON_STATDUMP_MAGIC, sizeof(h.magic));
	memcpy(h.build_id, id, sizeof(h.build_id));
	rt_spin_lock(lock);
	com2_write(&h, sizeof(h));
	com2_write(__mon_statvars_start, h.size);
	rt_spin_unlock(lock);
	return 0;
}
#else
int mon_statdump(unsigned reason)
{
	(void)reason;
	return -1;
}
#endif
