/*
 * vm86_guest.c - the guest component of lab04 (the "vmxstep1" of this lab):
 * a virtual-8086 task, its memory, its page tables, its TSS, and the VMCS
 * guest-state values that describe it.
 *
 * Runs in: the bare-metal host, 64-bit ring 0, before VMLAUNCH.  It fills
 * vmcs_vars (common/vmm/vmm.h); the machine[] loop of lab03 copies those
 * variables into the VMCS.
 *
 * Why a virtual-8086 task: before "unrestricted guest" (SDM 24.6.2, table
 * "Definitions of Secondary Processor-Based VM-Execution Controls"), VMX
 * could only run guests with CR0.PE = 1 and CR0.PG = 1 (the
 * IA32_VMX_CR0_FIXED0 MSR demands both).  Real-mode code therefore ran as a
 * virtual-8086 task: protected mode with paging, RFLAGS.VM = 1, segments that
 * behave like real mode (base = selector * 16, 64 KiB limits).  The CR0
 * guest/host mask and read shadow then hide PE and PG from the guest.
 *
 * SDM vol. 3C 26.3.1.2 (checks on the guest segment registers: the
 * virtual-8086 rules), 26.3.1.1 (CR0/CR4), 26.3.1.4 (RIP, RFLAGS);
 * vol. 3A 4.3 (32-bit paging), 7.2.1 (TSS); vol. 3B 20.2 (virtual-8086 mode).
 */
#include "lab04.h"

/* Guest symbols of guest.asm: the image and its final instruction. */
extern const vmx_u8 guest_image_start[], guest_image_end[], guest_final_hlt[];

/* 32-bit paging entries (SDM vol. 3A 4.3, the tables
 * "Format of a 32-Bit Page-Directory Entry that References a Page Table" and
 * "Format of a 32-Bit Page-Table Entry that Maps a 4-KByte Page"). */
enum {
	PTE_P = 1u << 0,                /* present */
	PTE_RW = 1u << 1,               /* writable */
	PTE_US = 1u << 2,               /* user: CPL 3 (the v8086 task) may use it */
	PAGE_SIZE = 4096u,
	PAGE_SHIFT = 12,
	PT_ENTRIES = 1024u,
	PDE_SHIFT = 22,                 /* each PDE maps 4 MiB */
};

/* VMCS access rights (SDM 24.4.1, table "Format of Access Rights") are the
 * layout SEG_AR of common/vmx/vmx_layouts.def: VMX_SEG_AR_TYPE (bits 3:0), _S (4), _DPL
 * (6:5), _P (7), ...; put a value into a field with VMX_BITS_PUT and take a
 * one-bit field's mask with VMX_BITS_MASK (vmx/layouts.h).  The segment
 * types are VMX_SEG_TYPE_* (code/data) and VMX_SYSTEM_TYPE_* (vmx/values.h). */

/* The guest TR selector: any index with TI = 0 and RPL 0.  No guest GDT
 * exists; VM entry takes TR's base, limit and rights from the VMCS. */
#define V86_TR_SELECTOR     0x0008u

/* RFLAGS bit 1 is reserved and always 1 (SDM vol. 1, 3.4.3): VMX_RFLAGS_FIXED_1;
 * IOPL is the two-bit field VMX_RFLAGS_IOPL (13:12) of vmx_layouts.def. */

/* Map linear page `linear` to host physical `phys` with `flags`, allocating
 * the page table on first use.  32-bit paging: PDE index = bits 31:22, PTE
 * index = bits 21:12. */
static void map_page(vmx_u32 *pd, vmx_u32 linear, vmx_u64 phys, vmx_u32 flags)
{
	vmx_u32 *pde = &pd[linear >> PDE_SHIFT];

	if (!(*pde & PTE_P)) {
		vmx_u32 *pt = page_alloc();
		*pde = (vmx_u32)(uintptr_t)pt | PTE_P | PTE_RW | PTE_US;
	}
	vmx_u32 *pt = (vmx_u32 *)(uintptr_t)(*pde & ~(PAGE_SIZE - 1));
	pt[(linear >> PAGE_SHIFT) & (PT_ENTRIES - 1)] = (vmx_u32)phys | flags | PTE_P;
}

void vm86_io_allow(vmx_u8 *bitmap, vmx_u32 first, vmx_u32 ports, vmx_u32 from, vmx_u32 count)
{
	for (vmx_u32 port = from; port < from + count; port++)
		if (port >= first && port < first + ports)
			bitmap[(port - first) / 8] &= (vmx_u8)~(1u << ((port - first) % 8));
}

void vm86_guest_build(struct vm86_layout *m)
{
	vmx_u32 image = (vmx_u32)(guest_image_end - guest_image_start);

	/* The guest's code segment: 64 KiB of host memory, the image at offset 0. */
	m->code = pages_alloc(GUEST_SEGMENT_SIZE / PAGE_SIZE);
	memcpy(m->code, guest_image_start, image);
	m->final_hlt = (vmx_u16)(guest_final_hlt - guest_image_start);

	/* The TSS: 104 bytes, then the I/O permission bitmap (all ports denied
	 * except COM1), then the byte of ones that ends it. */
	m->tss = pages_alloc((TSS32_WITH_IOMAP + PAGE_SIZE - 1) / PAGE_SIZE);
	vmx_u8 *iomap = m->tss + TSS32_SIZE;
	memset(iomap, 0xFF, IO_PORTS / 8 + 1);
	vm86_io_allow(iomap, 0, IO_PORTS, COM1_BASE, COM1_PORTS);
	*(vmx_u16 *)(m->tss + TSS32_IOMAP_BASE) = TSS32_SIZE;

	/* The VMCS I/O bitmaps (SDM 24.6.4): A for ports 0-0x7FFF, B for
	 * 0x8000-0xFFFF; bit = 1 means the access exits.  COM1 passes through. */
	m->io_bitmap_a = page_alloc();
	m->io_bitmap_b = page_alloc();
	memset(m->io_bitmap_a, 0xFF, PAGE_SIZE);
	memset(m->io_bitmap_b, 0xFF, PAGE_SIZE);
	vm86_io_allow(m->io_bitmap_a, 0, IO_PORTS / 2, COM1_BASE, COM1_PORTS);

	/* The page tables drawn in lab04.h. */
	m->page_directory = page_alloc();
	map_page(m->page_directory, GUEST_BDA_LINEAR, 0, PTE_US);      /* read-only */
	for (vmx_u32 off = 0; off < GUEST_SEGMENT_SIZE; off += PAGE_SIZE)
		map_page(m->page_directory, (GUEST_SEGMENT << 4) + off,
			 (uintptr_t)m->code + off, PTE_US | PTE_RW);
	for (vmx_u32 off = 0; off < TSS32_WITH_IOMAP; off += PAGE_SIZE)
		map_page(m->page_directory, GUEST_TSS_LINEAR + off,
			 (uintptr_t)m->tss + off, PTE_RW);
}

void vm86_guest_state(const struct vm86_layout *m, vmx_u64 guest_cr0, vmx_u64 guest_cr4)
{
	/* Control registers: CR0 as asked (PE, PG and NE are fixed to 1 without
	 * unrestricted guest); CR3 = the page directory; CR4 with VMXE (fixed),
	 * PAE and PSE clear: plain 32-bit paging with 4 KiB pages. */
	vmcs_vars.GUEST_CR0 = guest_cr0;
	vmcs_vars.GUEST_CR3 = (uintptr_t)m->page_directory;
	vmcs_vars.GUEST_CR4 = guest_cr4;
	vmcs_vars.GUEST_DR7 = 0x400;    /* the reset value: bit 10 reads as 1 */

	/* slide: v86-segments-todo */
	/* TODO(lab04): the six segment registers of a virtual-8086 task.  With
	 * RFLAGS.VM = 1 each one must look like a real-mode segment (SDM
	 * 26.3.1.2): base = selector << 4, limit 0xFFFF, access rights 0xF3
	 * (read/write data, accessed, S = 1, DPL 3, present).  CS, DS, ES and SS
	 * are GUEST_SEGMENT; FS and GS may be 0. */

	/* TODO(lab04): LDTR and TR.  The task has no LDT: mark LDTR unusable
	 * (VMM_AR_UNUSABLE).  TR must describe a busy 32-bit TSS (type 11, S = 0,
	 * present) at GUEST_TSS_LINEAR whose limit covers the I/O permission
	 * bitmap: in virtual-8086 mode every IN/OUT is checked against that
	 * bitmap before any VM exit (SDM vol. 1 "I/O Permission Bit Map";
	 * vol. 3C 25.1.1).  The TR selector: V86_TR_SELECTOR. */
	/* end slide */

	/* No guest GDT or IDT: the v8086 task never loads a descriptor, and an
	 * exception the exception bitmap lets through finds an empty IDT (limit
	 * 0), faults again, and ends in a triple fault, which is a VM exit
	 * (reason TRIPLE_FAULT). */
	vmcs_vars.GUEST_GDTR_BASE = 0;
	vmcs_vars.GUEST_GDTR_LIMIT = 0;
	vmcs_vars.GUEST_IDTR_BASE = 0;
	vmcs_vars.GUEST_IDTR_LIMIT = 0;

	/* Where the task starts: CS:IP = GUEST_SEGMENT:0000, SS:SP at the top of
	 * the same segment.  RFLAGS: VM = 1 (virtual-8086 mode), bit 1 = 1,
	 * IF = 0 (no interrupts reach this guest), IOPL = 0 (CLI, STI, PUSHF,
	 * POPF, INT n, IRET would fault for a monitor to emulate: the classic
	 * v8086 design; I/O is governed by the TSS bitmap whatever IOPL says). */
	vmcs_vars.GUEST_RIP = 0;
	vmcs_vars.GUEST_RSP = GUEST_STACK_TOP;
	vmcs_vars.GUEST_RFLAGS = CPU_RFLAGS_VM | VMX_BITS_MASK(VMX_RFLAGS_FIXED_1) | VMX_BITS_PUT(VMX_RFLAGS_IOPL, 0);

	/* Non-register state (SDM 24.4.2): active, nothing blocked, nothing
	 * pending; no shadow VMCS (link pointer all ones, SDM 26.3.1.5). */
	vmcs_vars.GUEST_ACTIVITY_STATE = VMX_ACTIVITY_ACTIVE;
	vmcs_vars.GUEST_INTERRUPTIBILITY_STATE = 0;
	vmcs_vars.GUEST_PENDING_DEBUG_EXCEPTIONS = 0;
	vmcs_vars.VMCS_LINK_POINTER = ~0ull;
}
