/*
 * hypercall.h - the lab05 monitor's hypercalls: VMCALL with RAX = number,
 * RBX = argument; the result comes back in RAX. Shared by the monitor
 * (common/monitor/hv_vt.c) and the guests that call it (memtest.c).
 */
#ifndef GUESTS_HYPERCALL_H
#define GUESTS_HYPERCALL_H

#define MON_HC_GIVE_BACK 0x1AB05001u    /* RBX = a guest-physical page the guest no longer needs */
/* Does nothing but time itself, for make bench (tests/bench_lab05.py): RBX =
 * the guest's TSC just before VMCALL; back come RCX = the TSC when the
 * monitor's exit handler started, RDX = the TSC just before the monitor
 * re-entered the guest. In Bochs the TSC is the tick count, one per
 * instruction of this CPU. */
#define MON_HC_BENCH 0x1AB05002u
/* Dump this vCPU's counters on COM2 now (tools/vmxstat); returns 0, or 1
 * with stats = none. */
#define MON_HC_STATS 0x1AB05004u
/* Does nothing; returns 0 (make bench traces one: the monitor's bare cost). */
#define MON_HC_NOP 0x1AB05003u

static inline unsigned long mon_hypercall(unsigned long nr, unsigned long arg)
{
	unsigned long ret = nr;
	__asm__ volatile("vmcall" : "+a"(ret) : "b"(arg) : "memory");
	return ret;
}

#endif
