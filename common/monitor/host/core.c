/*
 * core.c - after a panic, the host side writes one ELF core of the monitor
 * on COM2 ("Monitor Composition": the core of every vCPU in one file, ELF
 * within ELF). `gdb monitor.elf monitor.core` opens it (tools/vmxcore takes
 * it out of COM2's file); tools/vmxcore/corequery.py adds gdb commands.
 *
 *   ELF header (ET_CORE, EM_X86_64), program headers:
 *   PT_NOTE   NT_PRSTATUS per vCPU, the panicking vCPU first (gdb makes
 *             the first the current thread; the LWP is the vCPU + 1);
 *             "VMXLAB" 1: the kit's note, text: build id, panicking vCPU,
 *             the message, modules and alternatives, each vCPU's end, the
 *             alias addresses, the .vmmaddr table (gdb reads a core through
 *             its program headers only: a note, not a section);
 *             "VMXLAB" 2: the monitor ELF the host side carries (no debug
 *             information: the image has no room for it; vmxcore can put
 *             the full one of the same build id in its place)
 *   PT_LOAD   at the monitor's addresses: the panicking vCPU's .data/.bss,
 *             .statvars, the shared area, .vmmaddr; every vCPU's stack and
 *             exception stack, GDT, IDT and TSS; every vCPU's .data/.bss and
 *             .statvars again at MON_CORE_ALIAS(v) (layout.h: they share
 *             one monitor address); each vCPU's current guest's EPT tables
 *             at their physical addresses (the monitor's identity map)
 *
 * The core is written as it is computed: sizes first, then the bytes,
 * through each vCPU's own page tables.
 *
 * Runs in: the host side, after both vCPUs are back.
 */
#include "host.h"
#include "com2.h"
#include "mon_config.h"

enum {
	MAX_EPT_PAGES = 48,             /* per vCPU */
	MAX_SEGMENTS = 8 + MON_VCPUS * (4 + MAX_EPT_PAGES),
	PRSTATUS_SIZE = 336,            /* struct elf_prstatus, x86-64 */
	PRSTATUS_PID = 32, PRSTATUS_CURSIG = 12, PRSTATUS_REG = 112,
	NOTE_KIT = 0x564d5801, NOTE_ELF = 0x564d5802,   /* "VMX" 1, 2: types no core reader knows */
	SIGABRT_NUMBER = 6,
	EPT_RWX_BITS = 7, EPT_LARGE = 0x80,
};
#define EPT_TABLE_ADDR 0x000FFFFFFFFFF000ull
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ull

_Static_assert(__builtin_offsetof(struct mon_regs, rip) == 16 * 8, "struct mon_regs is pr_reg");
_Static_assert(sizeof(struct mon_regs) == 27 * 8, "struct mon_regs is pr_reg");
_Static_assert(PRSTATUS_REG + sizeof(struct mon_regs) + 8 == PRSTATUS_SIZE, "elf_prstatus layout");

/* A PT_LOAD: `size` bytes at monitor address `va`, read through a vCPU's
 * page tables (pml4) from address `from`, or physical (pml4 NULL). */
struct segment {
	uint64_t va, size, from;
	uint64_t *pml4;
};

static struct segment segs[MAX_SEGMENTS];
static unsigned nsegs;
static char kit_note[2048];

static void add(uint64_t va, uint64_t size, uint64_t *pml4, uint64_t from)
{
	if (size == 0 || nsegs == MAX_SEGMENTS)
		return;
	segs[nsegs++] = (struct segment){ .va = va, .size = size, .from = from, .pml4 = pml4 };
}

static uint64_t section_end(const char *name)
{
	const Elf64_Shdr *s = find_section(name);
	return s ? s->sh_addr + s->sh_size : 0;
}

/* The page-table pages of an EPT (not the guest's memory), each a segment
 * at its physical address. */
static void add_ept(uint64_t table, unsigned level, unsigned *budget)
{
	const uint64_t *e = (const uint64_t *)(uintptr_t)table;

	if (*budget == 0)
		return;
	(*budget)--;
	add(table, MON_PAGE, NULL, table);
	if (level == 1)
		return;
	for (unsigned i = 0; i < 512; i++)
		if ((e[i] & EPT_RWX_BITS) && !(e[i] & EPT_LARGE))
			add_ept(e[i] & EPT_TABLE_ADDR, level - 1, budget);
}

static size_t note_size(size_t namesz, size_t descsz)
{
	return 12 + ((namesz + 3) & ~(size_t)3) + ((descsz + 3) & ~(size_t)3);
}

static void put_note(const char *name, uint32_t type, const void *desc, size_t descsz)
{
	static const uint8_t zeros[4];
	uint32_t h[3] = { (uint32_t)strlen(name) + 1, (uint32_t)descsz, type };

	com2_write(h, sizeof(h));
	com2_write(name, h[0]);
	com2_write(zeros, ((h[0] + 3) & ~3u) - h[0]);
	com2_write(desc, descsz);
	com2_write(zeros, ((descsz + 3) & ~(size_t)3) - descsz);
}

static void put_segment(const struct segment *s)
{
	static const uint8_t zero_page[MON_PAGE];

	for (uint64_t off = 0; off < s->size;) {
		uint64_t addr = s->from + off, n = MON_PAGE - (addr & (MON_PAGE - 1));
		const void *p = zero_page;

		if (n > s->size - off)
			n = s->size - off;
		if (!s->pml4) {
			p = (const void *)(uintptr_t)addr;
		} else {
			uint64_t pte = high_pte(s->pml4, addr);
			if (pte & 1)
				p = (const void *)(uintptr_t)((pte & PTE_ADDR_MASK) + (addr & (MON_PAGE - 1)));
		}
		com2_write(p, n);
		off += n;
	}
}

static const char *result_name(uint64_t r)
{
	static const char *const names[] = { "running", "done", "refused", "panicked", "stopped" };
	return r < RT_ARRAY_SIZE(names) ? names[r] : "?";
}

static void kit_text(const struct mon_shared *sh, const uint64_t results[MON_VCPUS], const uint8_t *id)
{
	size_t n = 0;
	const Elf64_Shdr *vm = find_section(".vmmaddr");

#define KIT(...)                                                                                  \
	(n += n < sizeof(kit_note) ? (size_t)snprintf(kit_note + n, sizeof(kit_note) - n, __VA_ARGS__) : 0)
	KIT("vmxlab lab05 monitor core\nbuild-id ");
	for (unsigned i = 0; i < 20; i++)
		KIT("%02x", id[i]);
	KIT("\npanic-vcpu %u\npanic %s\n", sh->panic_vcpu_plus1 - 1, sh->panic_message);
	KIT("modules hv=vt gphys=%s vmxbase=%s vm86=%s stats=%s\n", MON_GPHYS_EPT ? "ept" : "none",
	    MON_VMXBASE_NAME, MON_VM86_NAME, MON_STATS ? "on" : "none");
	KIT("vcpus %d\nalias-base 0x%llx\nalias-stride 0x%llx\nimage-base 0x%llx\n", MON_VCPUS,
	    (unsigned long long)MON_CORE_ALIAS_BASE, (unsigned long long)MON_CORE_ALIAS_STRIDE,
	    (unsigned long long)MON_IMAGE_BASE);
	for (unsigned v = 0; v < MON_VCPUS; v++)
		KIT("vcpu %u %s ept-pml4 0x%llx regs %s\n", v, result_name(results[v]),
		    (unsigned long long)sh->vcpu[v].ept_pml4,
		    sh->vcpu[v].in_exception ? "exception" : "capture");
	if (vm) {
		const struct mon_vmmaddr *a = (const struct mon_vmmaddr *)(monitor_elf + vm->sh_offset);
		for (uint64_t i = 0; i < vm->sh_size / sizeof(*a); i++)
			if (a[i].name[0])
				KIT("vmmaddr %s 0x%llx %llu\n", a[i].name, (unsigned long long)a[i].addr,
				    (unsigned long long)a[i].size);
	}
#undef KIT
	if (n >= sizeof(kit_note))
		kit_note[sizeof(kit_note) - 1] = 0;
}

void host_write_core(uint64_t *const pml4[MON_VCPUS], const uint64_t results[MON_VCPUS],
		     const struct mon_shared *sh)
{
	const Elf64_Shdr *note = find_section(".note.gnu.build-id"), *data = find_section(".data"),
			 *sv = find_section(".statvars");
	const uint8_t *id = note ? com2_build_id(monitor_elf + note->sh_offset) : NULL;
	unsigned panic = sh->panic_vcpu_plus1 - 1, order[MON_VCPUS], k = 0;
	uint64_t t0 = rdtsc();

	if (!id || !data || !sh->panic_vcpu_plus1) {
		printf("host: no core: %s\n", !id ? "the monitor has no build id" : "nothing to dump");
		return;
	}
	order[k++] = panic;
	for (unsigned v = 0; v < MON_VCPUS; v++)
		if (v != panic)
			order[k++] = v;

	/* The segments. */
	nsegs = 0;
	uint64_t percpu_end = (section_end(".bss") + MON_PAGE - 1) & ~(uint64_t)(MON_PAGE - 1);
	add(data->sh_addr, percpu_end - data->sh_addr, pml4[panic], data->sh_addr);
	if (sv)
		add(sv->sh_addr, sv->sh_size, pml4[panic], sv->sh_addr);
	const Elf64_Shdr *shd = find_section(".shared"), *vm = find_section(".vmmaddr");
	if (shd)
		add(shd->sh_addr, shd->sh_size, pml4[panic], shd->sh_addr);
	if (vm)
		add(vm->sh_addr, (vm->sh_size + MON_PAGE - 1) & ~(uint64_t)(MON_PAGE - 1), pml4[panic], vm->sh_addr);
	for (unsigned v = 0; v < MON_VCPUS; v++) {
		uint64_t slot = MON_BASE + (uint64_t)v * MON_SLOT_SIZE;
		add(slot + MON_SLOT_STACK, MON_STACK_PAGES * MON_PAGE, pml4[v], slot + MON_SLOT_STACK);
		add(slot + MON_SLOT_IST, MON_SLOT_GUARD_HIGH - MON_SLOT_IST, pml4[v], slot + MON_SLOT_IST);
		uint64_t alias = MON_CORE_ALIAS(v) - MON_IMAGE_BASE;
		add(alias + data->sh_addr, percpu_end - data->sh_addr, pml4[v], data->sh_addr);
		if (sv)
			add(alias + sv->sh_addr, sv->sh_size, pml4[v], sv->sh_addr);
	}
	for (unsigned i = 0; i < MON_VCPUS; i++) {
		unsigned v = order[i], budget = MAX_EPT_PAGES;
		if (sh->vcpu[v].ept_pml4)
			add_ept(sh->vcpu[v].ept_pml4, 4, &budget);
	}
	kit_text(sh, results, id);

	/* Sizes and offsets. */
	size_t kit_len = strlen(kit_note) + 1, elf_len = (size_t)(monitor_elf_end - monitor_elf);
	size_t notes = MON_VCPUS * note_size(5, PRSTATUS_SIZE) + note_size(7, kit_len) + note_size(7, elf_len);
	unsigned phnum = 1 + nsegs;
	/* Segment data from a page boundary: each p_offset is congruent to its
	 * p_vaddr modulo p_align (the gABI's rule for loadable segments). */
	uint64_t off = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
	uint64_t data_off = (off + notes + MON_PAGE - 1) & ~(uint64_t)(MON_PAGE - 1);
	uint64_t total = data_off;
	for (unsigned i = 0; i < nsegs; i++)
		total += segs[i].size;

	struct mon_core_header h = { .panic_vcpu = panic, .size = total };
	memcpy(h.magic, MON_CORE_MAGIC, sizeof(h.magic));
	memcpy(h.build_id, id, sizeof(h.build_id));

	rt_spin_lock(&com2_lock);
	com2_write(&h, sizeof(h));
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE },
		.e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = (uint16_t)phnum,
	};
	com2_write(&eh, sizeof(eh));
	Elf64_Phdr ph = { .p_type = PT_NOTE, .p_offset = off, .p_filesz = notes, .p_align = 4 };
	com2_write(&ph, sizeof(ph));
	uint64_t at = data_off;
	for (unsigned i = 0; i < nsegs; i++) {
		ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = at,
				   .p_vaddr = segs[i].va, .p_filesz = segs[i].size, .p_memsz = segs[i].size,
				   .p_align = MON_PAGE };
		com2_write(&ph, sizeof(ph));
		at += segs[i].size;
	}
	for (unsigned i = 0; i < MON_VCPUS; i++) {
		unsigned v = order[i];
		uint8_t pr[PRSTATUS_SIZE] = { 0 };
		uint32_t pid = v + 1;
		uint16_t sig = v == panic ? SIGABRT_NUMBER : 0;
		memcpy(pr + PRSTATUS_CURSIG, &sig, sizeof(sig));
		memcpy(pr + PRSTATUS_PID, &pid, sizeof(pid));
		memcpy(pr + PRSTATUS_REG, &sh->vcpu[v].regs, sizeof(struct mon_regs));
		put_note("CORE", NT_PRSTATUS, pr, sizeof(pr));
	}
	put_note("VMXLAB", NOTE_KIT, kit_note, kit_len);
	put_note("VMXLAB", NOTE_ELF, monitor_elf, elf_len);
	static const uint8_t pad[MON_PAGE];
	com2_write(pad, data_off - off - notes);
	for (unsigned i = 0; i < nsegs; i++)
		put_segment(&segs[i]);
	rt_spin_unlock(&com2_lock);
	printf("host: core of vCPU %u's panic on COM2: %llu bytes, %u segments, both vCPUs' registers "
	       "(%llu M emulated instructions)\n", panic, (unsigned long long)total, nsegs,
	       (unsigned long long)((rdtsc() - t0) / 1000000));
}
