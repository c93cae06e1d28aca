/*
 * guests.c - what each kind of guest needs before its VMLAUNCH, and its
 * summary line after.
 *
 *   vm86  lab04's virtual-8086 guest, built by lab04's own code
 *         (vm86_guest_build, vm86_guest_state, vm86_cr_masks: the student's
 *         lab04 module). With gphys = ept its memory is built in the guest
 *         window (mon_mm.c): guest-physical addresses from 1 GiB, placed by
 *         EPT wherever the pool had pages; both addresses are printed.
 *   boot  a boot-path payload (the floppy image's bytes after the boot
 *         sector: setup.asm + runtime + payload). The monitor does what the
 *         boot sector and the BIOS would have: the image at 0x8000 (mapped
 *         read-only and shared by every guest of that image: copy-on-write),
 *         an interrupt vector table whose every entry points at an IRET, and
 *         CS:IP = 0000:8000 in real mode (unrestricted guest). The payload
 *         then takes itself to protected mode and to long mode.
 *
 * Runs in: the monitor, on the vCPU that runs the guest.
 */
#include "mon.h"
#include "lab04.h"

enum {
	BOOT_LOAD_ADDRESS = 0x8000,     /* common/boot/payload.ld, bootsect.asm */
	BOOT_GUEST_RAM = 0x8000000,     /* 128 MiB: payload.ld wants >= 96 MiB */
	IVT_ENTRIES = 256,
	IRET_STUB = 0x500,              /* first free byte after the BIOS data area */
	OPCODE_IRET = 0xCF,
	VM86_GPA_BASE = MON_WINDOW_BASE,
};

extern const vmx_u8 guest_image_start[], guest_final_hlt[];

static const struct mon_guest_image *find_image(const char *name)
{
	const struct mon_guest_image *im =
		(const struct mon_guest_image *)(uintptr_t)mon_boot_block->guest_images;

	for (uint64_t i = 0; i < mon_boot_block->guest_image_count; i++)
		if (strcmp(im[i].name, name) == 0)
			return &im[i];
	return NULL;
}

/* Write guest-physical memory through the host page behind it. */
static void guest_write(uint64_t gpa, const void *src, size_t n)
{
	const uint8_t *s = src;

	while (n) {
		uint64_t hpa = gphys_translate(gpa);
		size_t chunk = MON_PAGE - (gpa & (MON_PAGE - 1));

		if (chunk > n)
			chunk = n;
		if (hpa == ~0ull)
			Panic("guest %s: 0x%llx is not its RAM", mon_guest->name, (unsigned long long)gpa);
		memcpy((void *)(uintptr_t)hpa, s, chunk);
		gpa += chunk, s += chunk, n -= chunk;
	}
}

static int build_boot(struct mon_guest *g)
{
	const struct mon_guest_image *im = find_image(g->name);
	uint32_t ivt[IVT_ENTRIES];
	uint8_t iret = OPCODE_IRET;

	if (!im) {
		const struct mon_guest_image *all =
			(const struct mon_guest_image *)(uintptr_t)mon_boot_block->guest_images;
		char have[80] = "";
		for (uint64_t i = 0; i < mon_boot_block->guest_image_count; i++)
			snprintf(have + strlen(have), sizeof(have) - strlen(have), " %s", all[i].name);
		mon_guest_stop("no image named %s in the host side's list (it has:%s)", g->name, have);
		return -1;
	}
	g->image = im;
	g->ram_base = 0;
	g->ram_size = BOOT_GUEST_RAM;
	/* The image, shared read-only: its pages are the host side's copy. */
	for (uint64_t off = 0; off < im->size; off += MON_PAGE)
		gphys_map_shared(BOOT_LOAD_ADDRESS + off, im->phys + off);
	printf("monitor: image %s (%llu bytes) at guest-physical 0x%x, host-physical 0x%llx, "
	       "shared read-only\n", im->name, (unsigned long long)im->size, BOOT_LOAD_ADDRESS,
	       (unsigned long long)im->phys);
	/* A BIOS of one instruction: every vector -> 0050:0000 = IRET. */
	for (unsigned v = 0; v < IVT_ENTRIES; v++)
		ivt[v] = (uint32_t)(IRET_STUB >> 4) << 16;
	guest_write(0, ivt, sizeof(ivt));
	guest_write(IRET_STUB, &iret, 1);

	/* Real mode, as the boot sector leaves it (unrestricted guest:
	 * CR0.PE = CR0.PG = 0; SDM 26.3.1.2 for the segment rules). */
	VMM_SET_GUEST_SEGMENT(CS, 0, 0, 0xFFFF, 0x9B);
	VMM_SET_GUEST_SEGMENT(DS, 0, 0, 0xFFFF, 0x93);
	VMM_SET_GUEST_SEGMENT(ES, 0, 0, 0xFFFF, 0x93);
	VMM_SET_GUEST_SEGMENT(SS, 0, 0, 0xFFFF, 0x93);
	VMM_SET_GUEST_SEGMENT(FS, 0, 0, 0xFFFF, 0x93);
	VMM_SET_GUEST_SEGMENT(GS, 0, 0, 0xFFFF, 0x93);
	VMM_SET_GUEST_SEGMENT(TR, 0, 0, 0xFFFF, 0x8B);
	VMM_SET_GUEST_SEGMENT(LDTR, 0, 0, 0, VMM_AR_UNUSABLE);
	vmcs_vars.GUEST_GDTR_LIMIT = 0xFFFF;
	vmcs_vars.GUEST_IDTR_LIMIT = 0x3FF;
	g->cr0_view = CPU_CR0_ET;
	vmcs_vars.GUEST_CR0 = (CPU_CR0_ET | rdmsr(IA32_VMX_CR0_FIXED0)) & ~(CPU_CR0_PE | CPU_CR0_PG);
	vmcs_vars.CR0_GUEST_HOST_MASK = CPU_CR0_PE | CPU_CR0_PG | CPU_CR0_NE;
	vmcs_vars.CR0_READ_SHADOW = g->cr0_view;
	vmcs_vars.GUEST_CR4 = rdmsr(IA32_VMX_CR4_FIXED0);
	vmcs_vars.CR4_GUEST_HOST_MASK = CPU_CR4_VMXE;
	vmcs_vars.CR4_READ_SHADOW = 0;
	vmcs_vars.GUEST_DR7 = 0x400;
	vmcs_vars.GUEST_RIP = BOOT_LOAD_ADDRESS;
	vmcs_vars.GUEST_RSP = BOOT_LOAD_ADDRESS - 0x400;
	vmcs_vars.GUEST_RFLAGS = VMX_BITS_MASK(VMX_RFLAGS_FIXED_1);
	vmcs_vars.GUEST_ACTIVITY_STATE = VMX_ACTIVITY_ACTIVE;
	vmcs_vars.VMCS_LINK_POINTER = ~0ull;
	return 0;
}

static int build_vm86(struct mon_guest *g)
{
	struct vm86_layout m;
	vmx_u64 guest_cr0 = rdmsr(IA32_VMX_CR0_FIXED0) | CPU_CR0_ET;
	vmx_u64 guest_cr4 = rdmsr(IA32_VMX_CR4_FIXED0);

	if (MON_GPHYS_EPT) {
		/* Guest-physical page 0: a read-only copy of the BIOS data area
		 * (the guest reads the timer ticks at 0040:006C). */
		uint8_t *bda = mon_page();
		memcpy(bda, (const void *)(uintptr_t)0, MON_PAGE);
		gphys_map_shared(0, (uint64_t)(uintptr_t)bda);
		mon_window_begin(VM86_GPA_BASE, gphys_map);
	}
	vm86_guest_build(&m);
	if (MON_GPHYS_EPT) {
		g->ram_base = VM86_GPA_BASE;
		g->ram_size = mon_window_end() - VM86_GPA_BASE;
		printf("monitor: lab04's guest code at guest-physical 0x%llx, host-physical 0x%llx "
		       "(EPT); page directory at guest-physical 0x%llx\n",
		       (unsigned long long)(uintptr_t)m.code,
		       (unsigned long long)gphys_translate((uintptr_t)m.code),
		       (unsigned long long)(uintptr_t)m.page_directory);
		/* The VMCS I/O bitmaps are the CPU's, not the guest's: unused here
		 * (every port exits), and never given to the guest. */
	} else {
		g->ram_base = (uintptr_t)m.code;
		g->ram_size = 0x10000;
		printf("monitor: lab04's guest code at guest-physical = host-physical 0x%llx (gphys none)\n",
		       (unsigned long long)(uintptr_t)m.code);
	}
	g->vm86_final_hlt = m.final_hlt;
	vm86_guest_state(&m, guest_cr0, guest_cr4);
	vm86_cr_masks();
	g->cr0_view = guest_cr0;
	vmcs_vars.EXCEPTION_BITMAP = LAB04_PARAM(EXCEPTION_BITMAP);
	return 0;
}

int guest_build(struct mon_guest *g)
{
	if (g->vpid)
		printf("monitor: guest %s (%s), VPID %u\n", g->name,
		       g->kind == GUEST_VM86 ? "lab04's virtual-8086 guest" : "a boot-path payload from real mode",
		       g->vpid);
	else
		printf("monitor: guest %s (%s), no VPID (gphys = %s: the CPU's TLB entries for it are "
		       "the host's, flushed at every VM entry and exit, SDM 28.3.3.1)\n", g->name,
		       g->kind == GUEST_VM86 ? "lab04's virtual-8086 guest" : "a boot-path payload from real mode",
		       gphys_name);
	return g->kind == GUEST_VM86 ? build_vm86(g) : build_boot(g);
}

void guest_ended(struct mon_guest *g)
{
	char line[400];
	size_t n = 0;

	gphys_guest_end();
	if (g->kind == GUEST_VM86)
		vm86_io_flush();
#if MON_STATS
	for (unsigned r = 0; r < VMM_EXIT_REASON_LIMIT && n < sizeof(line); r++) {
		unsigned long k = stat_exits_by_reason[r] - g->exits_at_start[r];
		if (k)
			n += snprintf(line + n, sizeof(line) - n, "%s %s %lu", n ? "," : "", vmm_exit_name(r), k);
	}
	if (n)
		printf("monitor: guest %s exits by reason:%s\n", g->name, line);
#else
	(void)line, (void)n;
#endif
	printf("monitor: guest %s %s after %lu exits (%lu demand-paging faults, %lu copy-on-write faults)%s%s\n",
	       g->name, g->state == GUEST_STOPPED ? "stopped" : "ended", g->exits, g->demand_faults,
	       g->cow_faults, g->state == GUEST_STOPPED ? ": " : "",
	       g->state == GUEST_STOPPED ? g->stop_reason : "");
}
