/*
 * lab04.h - what the parts of lab04 share: the parameters given on the make
 * command line, the guest's memory layout, and the functions of each file.
 *
 * Runs in: the bare-metal host (64-bit, ring 0, VMX root operation), linked
 * with the runtime (rt.h) and the monitor pieces of common/vmm/ (vmm.h).
 *
 * The files of lab04:
 *   guest.asm       the guest: 16-bit real-mode code run as a virtual-8086 task
 *   vm86_guest.c    the guest's memory, page tables, TSS and VMCS guest state
 *   vm86_io.c       the I/O-instruction exits: decode, emulate the UART
 *   vm86demo.c      lab_main: CR0/CR4 mask and shadow, launch, exit loop, summary
 *   params.c        the parameter block, compiled with the make command line's values
 */
#ifndef LAB04_H
#define LAB04_H

#include "vmm/vmm.h"
#include "vmm/answers/answers.h"  /* the kit's VMXON, controls and machine[] loop (lab03's work) */
#include "vmx/layouts.h"    /* VMX_IO_QUAL_*, VMX_INTR_INFO_EXIT_*, VMX_SEG_AR_* bit layouts */
#include "vmx/values.h"     /* VMX_INTR_TYPE_*, VMX_SEG_TYPE_*, VMX_V86_SEGMENT_* values */
#include "platform/uart.h"  /* COM1_BASE, UART_THR, UART_LSR, ... (the UART the guest writes) */

/* --- Parameters (params.c) -------------------------------------------------- */

/*
 * The parameters of a run, one X-macro line each: NAME, default, meaning.
 * `make run-lab04 CR0_MASK=0x1 ...` builds an image with those values in
 * params.c (see tools/lab04params/params.py, which reads THIS list to learn
 * the order and the defaults: add a parameter here and nowhere else).
 * Every value is a 32-bit number.
 */
#define LAB04_PARAM_LIST(X)                                                           \
	X(CR0_MASK,         0x80000001, "CR0 guest/host mask: 1 = the host owns the bit") \
	X(CR0_SHADOW,       0x00000000, "CR0 read shadow: what the guest reads for owned bits") \
	X(CR4_MASK,         0x00000000, "CR4 guest/host mask")                       \
	X(CR4_SHADOW,       0x00000000, "CR4 read shadow")                           \
	X(EXCEPTION_BITMAP, 0x00002000, "bit n = 1: guest exception n causes a VM exit") \
	X(GUEST_CR0,        0x00000000, "guest CR0 (default: IA32_VMX_CR0_FIXED0 | ET)") \
	X(IO_EXITING,       0x00000000, "1: every guest port access exits, the host emulates COM1") \
	X(IO_BURST,         0x00000000, "benchmark: the guest times this many UART LSR reads") \
	X(EXIT_LOG,         0x00000001, "0: no line per exit, only the summary (benchmark)")

enum lab04_param_index {
#define LAB04_PARAM_INDEX(name, def, desc) LAB04_PARAM_##name,
	LAB04_PARAM_LIST(LAB04_PARAM_INDEX)
#undef LAB04_PARAM_INDEX
	LAB04_PARAM_COUNT
};

/*
 * The block in the image (params.c).  `given` has bit i set when parameter
 * i came from the command line (so GUEST_CR0 can default to a value
 * computed from the CPU's MSRs).
 */
struct lab04_params {
	vmx_u32 given;
	vmx_u32 value[LAB04_PARAM_COUNT];
};

extern const struct lab04_params lab04_params;

/* The value of a parameter, and whether the command line gave it. */
#define LAB04_PARAM(name) (lab04_params.value[LAB04_PARAM_##name])
#define LAB04_GIVEN(name) ((lab04_params.given >> LAB04_PARAM_##name) & 1u)

/* Print `param NAME: 0x........` for each parameter the command line gave. */
void lab04_params_print(void);

/* --- The guest's memory (vm86_guest.c) ------------------------------------- */

/*
 * The guest's linear address space, as its own page tables map it (32-bit
 * paging, 4 KiB pages; without EPT, the guest's "physical" addresses are
 * host physical addresses):
 *
 *   linear 0x00000000 +---------------------------+
 *                     | IVT + BIOS data area      |  -> host physical page 0,
 *   0x00001000        +---------------------------+     read-only, user
 *                     | not present               |
 *   0x00010000        +---------------------------+  GUEST_SEGMENT << 4
 *                     | guest code (guest.asm)    |  -> 16 host pages, user,
 *                     | ...                       |     read/write
 *                     | stack (grows down)        |  <- SP = GUEST_STACK_TOP
 *   0x00020000        +---------------------------+
 *                     | not present               |
 *   0x00200000        +---------------------------+  GUEST_TSS_LINEAR
 *                     | 32-bit TSS + I/O bitmap   |  -> host pages, supervisor
 *   0x00203000        +---------------------------+     (only the CPU reads it)
 *
 * A virtual-8086 task can reach linear 0 .. 0x10FFEF only, so the TSS above
 * that is out of its reach; the CPU still reads the TSS's I/O permission
 * bitmap through these page tables on every IN/OUT (SDM vol. 1, "I/O
 * Permission Bit Map").
 */
#define GUEST_SEGMENT       0x1000u     /* CS = DS = ES = SS; base = 0x10000 */
#define GUEST_SEGMENT_SIZE  0x10000u    /* one real-mode segment: 64 KiB */
#define GUEST_STACK_TOP     0xFFF0u     /* SP at entry */
#define GUEST_BDA_LINEAR    0x00000000u /* page 0: IVT and BIOS data area */
#define GUEST_TSS_LINEAR    0x00200000u

/* A 32-bit TSS (SDM vol. 3A 7.2.1, figure "32-Bit Task-State Segment
 * (TSS)") is 104 bytes; the word at offset 102 is the offset of the I/O
 * permission bitmap; one bit per port (65536 bits), then one byte of all
 * ones (SDM vol. 1, "I/O Permission Bit Map"). */
#define TSS32_SIZE          104u
#define TSS32_IOMAP_BASE    102u
#define IO_PORTS            65536u
#define TSS32_WITH_IOMAP    (TSS32_SIZE + IO_PORTS / 8 + 1)

/* COM1, the UART the guest writes: COM1_BASE, COM1_PORTS, UART_THR,
 * UART_LSR, UART_LSR_THRE, UART_LSR_TEMT, ... come from platform/uart.h
 * (the platform list common/platform/uart.def), included above. */

/* What vm86_guest_build() set up, for the guest state and the host. */
struct vm86_layout {
	vmx_u8 *code;                   /* host address of linear GUEST_SEGMENT << 4 */
	vmx_u8 *tss;                    /* host address of the TSS */
	vmx_u32 *page_directory;        /* guest CR3 */
	vmx_u8 *io_bitmap_a;            /* VMCS I/O bitmaps: ports 0-0x7FFF */
	vmx_u8 *io_bitmap_b;            /*                   ports 0x8000-0xFFFF */
	vmx_u16 final_hlt;              /* IP of the guest's last instruction */
};

/* Allocate and fill the guest's memory, page tables, TSS, I/O bitmaps. */
void vm86_guest_build(struct vm86_layout *m);

/* Fill vmcs_vars' guest-state area for the virtual-8086 task (vmxstep1). */
void vm86_guest_state(const struct vm86_layout *m, vmx_u64 guest_cr0, vmx_u64 guest_cr4);

/* Ports 0x3F8-0x3FF pass through (bit 0) in the TSS and VMCS bitmaps; the
 * rest stay 1.  `bitmap` covers `ports` ports from `first`. */
void vm86_io_allow(vmx_u8 *bitmap, vmx_u32 first, vmx_u32 ports, vmx_u32 from, vmx_u32 count);

/* vm86demo.c: the CR0/CR4 guest/host masks and read shadows into vmcs_vars,
 * from the parameters (the lab05 monitor calls it for this guest too). */
void vm86_cr_masks(void);

/* --- I/O exits (vm86_io.c) ------------------------------------------------- */

/*
 * The exit qualification of an I/O-instruction exit (SDM vol. 3C 27.2.1,
 * table "Exit Qualification for I/O Instructions") is the layout IO_QUAL of common/vmx/vmx_layouts.def:
 * VMX_BITS_GET(q, VMX_IO_QUAL_PORT) is bits 31:16, and so on for SIZE
 * (size - 1), DIRECTION_IN, STRING, REP and IMMEDIATE (vmx/layouts.h).
 */

/* One decoded I/O exit. */
struct vm86_io {
	vmx_u16 port;
	unsigned size;                  /* 1, 2 or 4 bytes */
	int in;                         /* 1: IN (port -> register), 0: OUT */
	int string;                     /* INS/OUTS */
	int rep;
	int immediate;                  /* IN AL, imm8 rather than IN AL, DX */
};

/* Statistics the summary prints. */
struct vm86_io_stats {
	unsigned long bytes_sent;       /* THR writes passed to the real COM1 */
	unsigned long lsr_reads;
	unsigned long other;            /* accesses to ports we do not emulate */
};

/*
 * Handle one I/O-instruction exit: decode the qualification into *io,
 * emulate the access (COM1 THR/LSR), advance the guest's RIP, and when `log`
 * print the exit's line:
 *   exit: IO_INSTRUCTION qualification 0x3fd0008 port 0x3fd in size 1 value 0x60
 * Returns 0 to resume the guest, -1 when the access cannot
 * be emulated (the guest is stopped).
 */
int vm86_io_exit(const struct vmm_exit *e, struct vmm_gprs *g, struct vm86_io *io,
		 struct vm86_io_stats *st, int log);

/* Print what is left in the guest's line buffer (at the end of the run). */
void vm86_io_flush(void);

/* The VM-exit interruption information (SDM vol. 3C 24.9.2, table
 * "Format of the VM-Exit Interruption-Information Field") is the layout
 * INTR_INFO_EXIT of vmx_layouts.def (VECTOR, TYPE, ERROR_CODE_VALID,
 * NMI_UNBLOCKING, VALID); its TYPE values are the set INTR_TYPE of
 * vmx_values.def. */

#endif /* LAB04_H */
