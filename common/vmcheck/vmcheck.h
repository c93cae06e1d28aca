/*
 * vmcheck.h - a software VM-entry checker: the SDM's VM-entry checks, run on
 * the current VMCS before the CPU is asked, one rule at a time.
 *
 * Runs in: 64-bit ring 0, VMX root operation, with a current VMCS (after
 * VMPTRLD). Freestanding C: it reads the VMCS with VMREAD and the capability
 * MSRs with RDMSR, and prints through the runtime's printf (rt.h).
 *
 * SDM numbering: Intel SDM vol. 3C in the classic numbering, where chapter 24
 * is "Virtual Machine Control Structures", 25 "VMX Non-Root Operation",
 * 26 "VM Entries" and 27 "VM Exits". Every rule cites its section of
 * chapter 26 (26.2.1.1 VM-execution control fields ... 26.3.1.5 guest
 * non-register state, 26.4 loading MSRs). Newer SDM editions renumbered the
 * VMX chapters one up (VM entries became chapter 27); the section titles are
 * the same.
 *
 * Usage:
 *
 *     int n = vmcheck_current_vmcs();      // prints one line per violation
 *     for (int i = 0; i < n; i++)
 *             printf("%s\n", vmcheck_violation(i)->rule->id);
 *     vmcheck_expected_outcome(&out);      // what the CPU should do now
 *
 * A violation prints, on one line:
 *
 *     vmcheck: <ID> (SDM <section>): <message> [<field>=<value>]
 *
 * e.g. `vmcheck: HOST_CS_NULL (SDM 26.2.3): the host CS selector must not be
 * 0000H [HOST_CS_SELECTOR=0x0]`.
 */
#ifndef VMCHECK_VMCHECK_H
#define VMCHECK_VMCHECK_H

/*
 * What the CPU does when a rule is broken (SDM 26.1-26.4). The checks run in
 * this order, and the first failing group decides what software sees:
 *   VMCHECK_VMFAIL_CONTROLS  VMfailValid, VM-instruction error 7
 *                            ("VM entry with invalid control field(s)")
 *   VMCHECK_VMFAIL_HOST      VMfailValid, VM-instruction error 8
 *                            ("VM entry with invalid host-state field(s)")
 *   VMCHECK_EXIT_GUEST_STATE VM exit with exit reason 33 | bit 31
 *                            ("VM-entry failure due to invalid guest state")
 *   VMCHECK_EXIT_MSR_LOADING VM exit with exit reason 34 | bit 31
 *                            ("VM-entry failure due to MSR loading")
 */
enum vmcheck_outcome {
	VMCHECK_NONE = 0,               /* no violation: the entry should succeed */
	VMCHECK_VMFAIL_CONTROLS,
	VMCHECK_VMFAIL_HOST,
	VMCHECK_EXIT_GUEST_STATE,
	VMCHECK_EXIT_MSR_LOADING,
};

struct vmcheck_state;           /* the snapshot a rule looks at (rules.h) */
struct vmcheck_finding;         /* what a broken rule reports (below) */

/* One rule of the SDM, defined next to its check in the file of its SDM
 * section (VMCHECK_RULE, rules.h; vmcheck.c lists the files). */
struct vmcheck_rule {
	const char *id;                 /* upper snake case, e.g. HOST_CS_NULL */
	const char *section;            /* SDM vol. 3C section, e.g. "26.2.3" */
	const char *message;            /* what must hold, in one sentence */
	enum vmcheck_outcome outcome;   /* how the CPU refuses the entry */
	unsigned long long qualification; /* exit qualification for the EXIT_* outcomes
					     (SDM 26.7; MSR loading: the entry number) */
	/* Returns 1 and fills *f when the rule is broken, 0 when it holds. */
	int (*check)(const struct vmcheck_state *s, struct vmcheck_finding *f);
};

/* One broken rule, with the field and value that broke it. */
struct vmcheck_finding {
	const struct vmcheck_rule *rule;
	const char *field;              /* SDM field (or MSR / register) name */
	unsigned long long value;       /* its value */
	unsigned long long qualification; /* 0, or set by the check (MSR loading) */
};

/* The expected CPU reaction to the last checked VMCS. */
struct vmcheck_expectation {
	enum vmcheck_outcome outcome;
	unsigned int error;             /* VM-instruction error, for VMFAIL_* */
	unsigned int exit_reason;       /* basic exit reason, for EXIT_* */
	unsigned long long qualification; /* exit qualification, for EXIT_* */
};

/*
 * Check the current VMCS against every rule; print one line per violation
 * and a summary line `vmcheck: N violation(s)`. Returns N (0: the checker
 * expects VMLAUNCH to succeed). VMREAD of a field the CPU lacks is treated as
 * 0 and only matters to the rules that need that field.
 */
int vmcheck_current_vmcs(void);

/* The i-th violation of the last check (0 <= i < N), or 0 past the end. */
const struct vmcheck_finding *vmcheck_violation(int i);

/* 1 if the last check named the rule `id`, 0 otherwise. */
int vmcheck_named(const char *id);

/* What the CPU should do with the last checked VMCS: the outcome of the
 * earliest group (controls, host, guest, MSR loading) that has a violation. */
void vmcheck_expected_outcome(struct vmcheck_expectation *out);

/* Print `<prefix>VMfailValid error 7` / `<prefix>entry failure reason 33
 * qualification 0x0` / `<prefix>launched` for an expectation. */
void vmcheck_print_expectation(const char *prefix, const struct vmcheck_expectation *e);

/* Every rule, for listings: the i-th in the order they run (0 <= i), or 0
 * past the last one. */
const struct vmcheck_rule *vmcheck_rule(int i);

#endif
