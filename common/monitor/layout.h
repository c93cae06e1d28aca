/*
 * layout.h - the lab05 monitor's address map and the structures the host
 * side and the monitor share. The one place these numbers are written: the
 * host side (common/monitor/host/), the monitor's C and its linker script
 * (monitor.ld.S, run through cpp) all include this file.
 *
 * The monitor lives in the last 64 MiB of the address space, as VMware's
 * does ("Monitor Composition"; docs/MONITOR.md in the lab05 README):
 *
 *   MON_BASE 0xFFFFFFFFFC000000
 *   +0x000000  reserved area: one slot of MON_SLOT_SIZE per vCPU
 *              +0x0000 guard page (never mapped)
 *              +0x1000 host stack, MON_STACK_PAGES pages (RSP starts at the top)
 *              +0x9000 guard page (never mapped)
 *              +0xA000 exception stack (TSS.IST1), MON_IST_PAGES pages
 *              +0xC000 GDT   +0xD000 IDT   +0xE000 TSS   +0xF000 guard
 *   +MON_IMAGE_OFFSET  the linked image (monitor.ld.S):
 *              .text .rodata                one copy, shared by the vCPUs
 *              .data .bss                   one copy PER vCPU, same address
 *              .shared                      one copy: what the host side reads
 *              .statvars                    one copy PER vCPU: counters
 *              .vmmaddr                     one copy: exported addresses
 *   MON_BASE + 64 MiB = 2^64
 *
 * Each vCPU has page tables of its own (built by the host side): the
 * monitor part maps that vCPU's slot, its own .data/.bss/.statvars and the
 * shared rest; below 4 GiB host memory is identity-mapped (VA = PA, so
 * VMCS, EPT and guest pages are reached at their physical address), except
 * the guest window at MON_WINDOW_BASE (1 GiB): guest-physical pages the
 * monitor is building a guest in, mapped 4 KiB at a time (mon_mm.c).
 */
#ifndef MONITOR_LAYOUT_H
#define MONITOR_LAYOUT_H

#define MON_BASE            0xFFFFFFFFFC000000
#define MON_SIZE            0x4000000           /* 64 MiB */
#define MON_VCPUS           2
#define MON_SLOT_SIZE       0x10000
#define MON_SLOT_GUARD_LOW  0x0000
#define MON_SLOT_STACK      0x1000
#define MON_STACK_PAGES     8
#define MON_SLOT_GUARD_MID  0x9000
#define MON_SLOT_IST        0xA000
#define MON_IST_PAGES       2
#define MON_SLOT_GDT        0xC000
#define MON_SLOT_IDT        0xD000
#define MON_SLOT_TSS        0xE000
#define MON_SLOT_GUARD_HIGH 0xF000
#define MON_IMAGE_OFFSET    0x100000            /* after the reserved area (1 MiB) */
#define MON_IMAGE_BASE      (MON_BASE + MON_IMAGE_OFFSET)
#define MON_PAGE            0x1000

/* The guest window (1 GiB .. 2 GiB of the monitor's low half). */
#define MON_WINDOW_BASE     0x40000000
#define MON_WINDOW_SIZE     0x40000000

/* The physical memory the host side gives each vCPU's monitor for VMX
 * structures, EPT tables and guest RAM (Bochs runs have 256 MiB: the host's
 * own pool ends at 32 MiB, payload.ld). */
#define MON_POOL_BASE       0x6000000           /* 96 MiB */
#define MON_POOL_SIZE       0x3000000           /* 48 MiB per vCPU */

#ifndef __ASSEMBLER__
#ifndef MON_LINKER_SCRIPT
#include <stdint.h>

/* The segment selectors of the monitor's GDT: the boot GDT's, so the world
 * switch keeps CS and SS meaningful on both sides. */
#define MON_SEL_CODE64      0x08
#define MON_SEL_DATA        0x10
#define MON_SEL_TSS         0x20

/* How a vCPU's monitor run ended (mon_boot.result). */
enum mon_result {
	MON_RESULT_NONE = 0,            /* still running */
	MON_RESULT_DONE = 1,            /* every guest of this vCPU ran */
	MON_RESULT_REFUSED = 2,         /* a config choice this CPU cannot do */
	MON_RESULT_PANIC = 3,           /* Panic(), a monitor exception, a guard page */
	MON_RESULT_STOPPED = 4,         /* stopped because the other vCPU panicked */
};

/*
 * The boot block: one per vCPU, in the host's low memory (identity-mapped on
 * both sides of the world switch). The host side fills the first part; the
 * switch code saves the host's state in the second.
 */
struct mon_boot {
	uint64_t vcpu;                  /* 0 or 1 */
	uint64_t mon_cr3;               /* this vCPU's PML4 */
	uint64_t mon_rsp;               /* top of this vCPU's monitor stack */
	uint64_t mon_entry;             /* mon_start (monitor.ld.S: ENTRY) */
	uint64_t switch_back;           /* host_switch.asm: mon_switch_back */
	uint64_t console_lock;          /* the host's rt_console_lock (COM1 is shared) */
	uint64_t pool_base, pool_size;  /* physical pages for this vCPU's monitor */
	uint64_t window_pd;             /* phys of the PD mapping MON_WINDOW_BASE */
	uint64_t window_pts;            /* phys of MON_WINDOW_PTS page tables after it */
	uint64_t guest_images;          /* phys of struct mon_guest_image[], ... */
	uint64_t guest_image_count;
	uint64_t result;                /* enum mon_result */
	/* saved by mon_switch_to, restored by mon_switch_back */
	uint64_t host_rsp, host_cr3;
	uint8_t host_gdtr[10], host_idtr[10];
	uint16_t host_tr;
	uint8_t pad[10];
	uint64_t com2_lock;             /* the host's lock of COM2 (the binary port) */
};

/* A stats dump on COM2 (the second serial port, a file under results/ in
 * Bochs): this header, then `size` raw bytes of one vCPU's .statvars.
 * tools/vmxstat/vmxstat.py reads them with the monitor ELF of the same
 * build id. */
#define MON_STATDUMP_MAGIC "VMXSTAT1"
enum { MON_STATDUMP_END_OF_RUN = 0, MON_STATDUMP_VMCALL = 1 };
struct mon_statdump_header {
	char magic[8];                  /* MON_STATDUMP_MAGIC, no NUL */
	uint32_t vcpu;
	uint32_t reason;                /* MON_STATDUMP_* */
	uint8_t build_id[20];           /* the monitor's GNU build id (SHA-1) */
	uint32_t size;                  /* bytes of .statvars that follow */
	uint64_t statvars_va;           /* the monitor address they were at */
};

#define MON_WINDOW_PTS 16               /* 16 x 2 MiB = 32 MiB of window */

/* A guest program the host side carries for the monitor (a boot-path
 * payload's binary, or lab04's guest: see guests.c). */
struct mon_guest_image {
	char name[16];
	uint64_t phys;                  /* where the bytes are (host memory) */
	uint64_t size;
};

/* A vCPU's registers where it left the monitor, in the order of the
 * x86-64 ELF core's NT_PRSTATUS pr_reg (the kernel's struct
 * user_regs_struct): the host side copies it into the core unchanged. */
struct mon_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
	uint64_t fs_base, gs_base, ds, es, fs, gs;
};

/* What each vCPU leaves in the shared area for the host side (and the
 * core): how it left, its registers there, its current guest's EPT. */
struct mon_vcpu_record {
	uint32_t regs_saved;            /* 1: regs hold where it left */
	uint32_t in_exception;          /* 1: regs are a monitor exception's frame */
	struct mon_regs regs;
	uint64_t ept_pml4;              /* phys of the current guest's EPT PML4, or 0 */
	uint64_t pool_next;             /* phys: the first pool page not used */
};

/* The monitor's shared area (.shared: one copy, the host reads it). */
struct mon_shared {
	volatile uint32_t panic_vcpu_plus1;     /* 0: no panic; else the vCPU + 1 */
	char panic_message[256];
	struct mon_vcpu_record vcpu[MON_VCPUS];
};

/* A core on COM2 (written by the host side after a panic): this header,
 * then `size` bytes of an ELF core file. tools/vmxcore takes it out. */
#define MON_CORE_MAGIC "VMXCORE1"
struct mon_core_header {
	char magic[8];                  /* MON_CORE_MAGIC, no NUL */
	uint32_t panic_vcpu;
	uint32_t reserved;
	uint8_t build_id[20];           /* the monitor's GNU build id */
	uint32_t pad;
	uint64_t size;                  /* bytes of the ELF core that follow */
};

/* In the core, each vCPU's own copies of .data, .bss and .statvars also
 * sit at an alias address (they share one monitor address): vCPU v's copy
 * of the byte at MON_IMAGE_BASE + x is at MON_CORE_ALIAS(v) + x. */
#define MON_CORE_ALIAS_BASE   0xFFFFFFFFF8000000
#define MON_CORE_ALIAS_STRIDE 0x1000000
#define MON_CORE_ALIAS(v)     (MON_CORE_ALIAS_BASE + (uint64_t)(v) * MON_CORE_ALIAS_STRIDE)

/* One entry of the .vmmaddr table: a monitor address that tools outside
 * the monitor (the host side, vmxstat, gdb's corequery) find by name
 * instead of by a number compiled into them. mon.h: MON_VMMADDR(sym). */
struct mon_vmmaddr {
	char name[24];
	uint64_t addr;
	uint64_t size;
};

#endif /* !MON_LINKER_SCRIPT */
#endif /* !__ASSEMBLER__ */
#endif /* MONITOR_LAYOUT_H */
