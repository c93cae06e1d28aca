/*
 * stats.c - the monitor's counters (stats.h), one definition each, in
 * .statvars: each vCPU's page tables map its own copy there.
 */
#include "mon.h"

#if MON_STATS
unsigned long stat_exits_by_reason[VMM_EXIT_REASON_LIMIT] STAT_SECTION;
unsigned long stat_guest_runs STAT_SECTION;
unsigned long stat_injected_events STAT_SECTION;
unsigned long stat_vmcalls STAT_SECTION;
unsigned long stat_io_by_port[0x10000 / 0x100] STAT_SECTION;
unsigned long stat_ept_faults[4] STAT_SECTION;
unsigned long stat_invept STAT_SECTION;
MON_VMMADDR(stat_exits_by_reason);
#endif
