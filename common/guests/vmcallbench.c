/*
 * vmcallbench.c - a lab05 guest for make bench (tests/bench_lab05.py): how
 * many instructions one VMCALL round trip through the monitor costs, and
 * where they go.
 *
 * Bochs' TSC is its tick count: one tick per emulated instruction of this
 * CPU (PLATFORM.md), so TSC deltas are instruction counts. The guest times
 * ROUNDS hypercalls MON_HC_BENCH (hypercall.h), which hand back the TSC at
 * two points in the monitor, and as many turns of the same loop with no
 * VMCALL (the loop's own cost). The monitor is measured on one vCPU: Bochs
 * interleaves its CPUs, but each CPU's instructions are its own ticks.
 * First come ten MON_HC_NOP hypercalls, which the bench traces in Bochs'
 * debugger, instruction by instruction.
 */
#include "rt.h"
#include "../guests/hypercall.h"

enum { ROUNDS = 1000 };

struct split {
	uint64_t to_handler;    /* guest TSC -> the monitor's handle_exit starts */
	uint64_t handler;       /* handle_exit starts -> just before the entry */
	uint64_t to_guest;      /* just before the entry -> the guest's TSC after */
};

static inline void bench_call(struct split *s)
{
	uint64_t before, t1, t2, after;
	unsigned long rax = MON_HC_BENCH;

	before = rdtsc();
	__asm__ volatile("vmcall" : "+a"(rax), "=c"(t1), "=d"(t2) : "b"(before) : "memory");
	after = rdtsc();
	s->to_handler += t1 - before;
	s->handler += t2 - t1;
	s->to_guest += after - t2;
}

static inline void empty_call(struct split *s)
{
	uint64_t before, after;
	unsigned long rax = MON_HC_BENCH, t1 = 0, t2 = 0;

	before = rdtsc();
	__asm__ volatile("" : "+a"(rax), "+c"(t1), "+d"(t2) : "b"(before) : "memory");
	after = rdtsc();
	s->to_guest += after - before;
}

void lab_main(void)
{
	struct split calls = { 0 }, empty = { 0 };

	/* A few hypercalls that only come back (make bench traces one of
	 * them: the monitor's cost without the marks). */
	for (unsigned i = 0; i < 10; i++)
		if (mon_hypercall(MON_HC_NOP, 0) != 0)
			printf("vmcallbench: MON_HC_NOP returned non-zero\n");
	for (unsigned i = 0; i < ROUNDS; i++)
		bench_call(&calls);
	for (unsigned i = 0; i < ROUNDS; i++)
		empty_call(&empty);
	printf("vmcallbench: %u VMCALL round trips: guest->handler %llu, handler %llu, "
	       "handler->guest %llu ticks in all\n", ROUNDS, (unsigned long long)calls.to_handler,
	       (unsigned long long)calls.handler, (unsigned long long)calls.to_guest);
	printf("vmcallbench: %u empty rounds (RDTSC to RDTSC, no VMCALL): %llu ticks in all\n", ROUNDS,
	       (unsigned long long)empty.to_guest);
}
