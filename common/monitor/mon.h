/*
 * mon.h - what the lab05 monitor's modules share: the vCPU, its guests,
 * memory, console, panic, statistics, and the interfaces between modules
 * (each alternative of a module implements its interface; monitor.cfg
 * picks one, mk: common/monitor/monitor.mk).
 *
 * Runs in: the monitor, at MON_BASE (layout.h), 64-bit ring 0, on one vCPU's
 * page tables. .data and .bss are that vCPU's own copy: a global variable
 * is per vCPU unless it is in .shared (MON_SHARED). The runtime functions
 * of rt.h (printf, memcpy, page_alloc ...) exist here too, with the
 * monitor's meaning (mon_console.c, mon_mm.c).
 *
 * The modules and their interfaces (docs: lab05-ept/README.md):
 *   core       mon_core.c       vCPU start, the guest list, Panic, exceptions
 *   hv         hv.h             the hardware-virtualization module: vt (VMX:
 *                               hv_vt.c, mon_exits.c); an svm one (AMD-V with
 *                               nested paging) would implement the same
 *   gphys      gphys.h          guest-physical memory: ept (lab05-ept/ept.c
 *                               and gphys_ept.c) or none (gphys_none.c)
 *   vmxbase    vmxbase.h        VMXON, control words, machine[] loop: the
 *                               student's lab03 (vmxbase_lab03.c) or the kit's
 *   vm86       (lab04.h)        lab04's guest building and I/O exits
 *   stats      stats.h          STAT_INC: counters in .statvars, or nothing
 *   guests     guests.c         what each guest kind needs before VMLAUNCH
 */
#ifndef MONITOR_MON_H
#define MONITOR_MON_H

#include "rt.h"
#include "layout.h"
#include "vmm/vmm.h"
#include "mon_config.h"         /* generated from monitor.cfg (tools/monitorcfg) */
#include "stats.h"

#define MON_SHARED __attribute__((section(".shared")))

/* Export `sym` in the .vmmaddr table (layout.h, struct mon_vmmaddr). */
#define MON_VMMADDR(sym)                                                         \
	_Static_assert(sizeof(#sym) <= sizeof(((struct mon_vmmaddr *)0)->name),  \
		       "MON_VMMADDR: the name " #sym " is too long");             \
	static const struct mon_vmmaddr vmmaddr_##sym                            \
		__attribute__((used, section(".vmmaddr"), aligned(8))) =         \
		{ #sym, (uint64_t)(uintptr_t)&(sym), sizeof(sym) }

/* --- The shared area: the page the monitors and the host side both see ---- */
/* struct mon_shared: layout.h (the host side reads it too). */
extern struct mon_shared mon_shared;

/* When the other vCPU has panicked, stop this one (MON_RESULT_STOPPED):
 * called between guests and at VM exits (all but the VMCALL hot path). */
void mon_check_other_panic(void);

/* --- This vCPU (mon_core.c) ---------------------------------------------- */

extern unsigned mon_vcpu;                       /* 0 or 1 (per-vCPU .data) */
extern struct mon_boot *mon_boot_block;         /* the host's block (identity-mapped) */

/* Panic: record the message in the shared area, print it, go back to the
 * host side with MON_RESULT_PANIC. Never returns. */
__attribute__((noreturn, format(printf, 1, 2))) void Panic(const char *fmt, ...);

/* Back to the host side (host_switch.asm) with a result. */
__attribute__((noreturn)) void mon_return(enum mon_result r);

/* --- Console (mon_console.c) ---------------------------------------------- */

/* Every line the monitor prints starts with "[vcpuN] " or, while a guest
 * is current, "[vcpuN NAME] ": set the name (NULL: none). */
/* A monitor exception's handler: give COM1 back if this vCPU held it. */
void mon_console_release(void);
void mon_console_prefix(const char *guest_name);

/* --- Memory (mon_mm.c) ---------------------------------------------------- */

/* A zeroed 4 KiB page of this vCPU's pool (host-physical = its address). */
void *mon_page(void);
uint64_t mon_pages_used(void);

/* The physical address of any monitor, window or identity address. */
uint64_t mon_virt_to_phys(const void *va);

/*
 * The guest window: while a guest is built by code written for the
 * host (lab04's vm86_guest_build calls page_alloc and stores the pointers
 * in the guest's page tables), page_alloc hands out guest-physical pages:
 * pointer = guest-physical address, backed by a host page and mapped in the
 * window. mon_window_begin(gpa_base, map) starts that; map(gpa, hpa) is
 * called for every page (gphys maps it for the guest); mon_window_end()
 * goes back to host pages.
 */
typedef void (*mon_window_map_fn)(uint64_t gpa, uint64_t hpa);
void mon_window_begin(uint64_t gpa_base, mon_window_map_fn map);
uint64_t mon_window_end(void);                  /* returns the next free gpa */

/* --- Guests (guests.c, mon_exits.c) --------------------------------------- */

enum mon_guest_kind {
	GUEST_VM86,             /* lab04's virtual-8086 guest */
	GUEST_BOOT,             /* a boot-path payload: starts in real mode at 0x8000 */
};

enum mon_guest_state { GUEST_RUNNING, GUEST_ENDED, GUEST_STOPPED };

struct mon_guest {
	const char *name;
	enum mon_guest_kind kind;
	const struct mon_guest_image *image;
	unsigned index;                 /* in this vCPU's list */
	uint16_t vpid;                  /* 0: none */
	void *vmcs;
	struct vmm_gprs gprs;
	int launched;
	enum mon_guest_state state;
	char stop_reason[160];
	uint64_t ram_base, ram_size;    /* guest-physical RAM: [base, base + size) */
	void *gphys;                    /* the gphys module's state (struct ept_guest) */
	/* what the monitor emulates */
	uint64_t cr0_view;              /* CR0 as the guest believes it is */
	uint64_t cr4_view;
	uint8_t a20_port;               /* port 0x92 */
	uint8_t uart_lcr;               /* the guest's COM1 line control (DLAB) */
	uint32_t exit_code;             /* the value written to the QEMU exit port */
	/* vm86 (lab04) */
	uint16_t vm86_final_hlt;
	/* counts, for the summary lines */
	unsigned long exits, demand_faults, cow_faults;
#if MON_STATS
	/* stat_exits_by_reason when the guest started: the guest's own exits
	 * by reason are the difference at its end (no per-guest counting on
	 * the exit path) */
	unsigned long exits_at_start[VMM_EXIT_REASON_LIMIT];
#endif
	/* MON_HC_BENCH (hypercall.h): where the last round trip's time went */
	int bench_pending;
};

STAT_DECLARE_ARRAY(exits_by_reason, VMM_EXIT_REASON_LIMIT);   /* stats.c */
/* This vCPU's counters on COM2 now (stats.c); -1 with stats = none. */
int mon_statdump(unsigned reason);

/* The current guest of this vCPU. */
extern struct mon_guest *mon_guest;

/* Stop the current guest: "stopped: <reason>"; the vCPU goes on with the
 * next guest. */
void mon_guest_stop(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Inject a hardware exception into the guest at its next entry (SDM 26.6). */
void mon_inject_exception(unsigned vector, int has_error_code, uint32_t error_code);

/* --- Module interfaces ---------------------------------------------------- */

/*
 * vmxbase (vmxbase_lab03.c: the student's lab03; vmxbase_kit.c: the kit's
 * answers): what lab03 taught. The monitor calls only these three.
 */
int vmxbase_vmxon(void);
int vmxbase_adjust(unsigned word, vmx_u64 required, vmx_u64 optional, vmx_u64 *value);
int vmxbase_machine_load(void);
extern const char vmxbase_source[];             /* "lab03" or "kit (stands in for TODO(lab03) ...)" */

/*
 * gphys (gphys.h): guest-physical memory. ept: EPT + VPID; none:
 * guest-physical = host-physical, no VPID.
 */
#include "gphys.h"

#endif /* MONITOR_MON_H */
