/*
 * vmxmsrs.c - /proc/vmxmsrs: the VMX capability MSRs of this machine.
 *
 * Runs in: the Linux kernel, as a loadable module (ring 0). Lab 01 of vmxlab.
 * Intel SDM vol. 3C 23.6 "Discovering Support for VMX", 23.7 "Enabling and
 * Entering VMX Operation" (IA32_FEATURE_CONTROL), vol. 3D appendix A "VMX
 * Capability Reporting Facility".
 *
 * RDMSR is privileged (#GP at CPL 3), so a user program cannot ask the CPU
 * what its VMX implementation allows. This module reads the MSRs at ring 0
 * and shows them as a pseudo-file that anyone may read:
 *
 *     $ make && sudo insmod vmxmsrs.ko && cat /proc/vmxmsrs
 *
 * The file has three sections (one item per line, `NAME: value` or
 * `0xNUMBER NAME 0xVALUE`):
 *   raw      IA32_FEATURE_CONTROL and 0x480-0x493, as read on the first CPU;
 *            an MSR the CPU does not have is listed as absent with the
 *            reason, and is never read (RDMSR of it would raise #GP);
 *   cpus     the same MSRs read on every online CPU, and which CPU differs;
 *   decoded  every field and control bit by name, from the kit's lists in
 *            common/vmx/ through the decoders of vmx/decode.h.
 * On a CPU without VMX the file is one line saying so.
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/cpu.h>
#include <asm/processor.h>
#include <asm/msr.h>

#include <vmx/decode.h>

#define VMXMSRS_NAME "vmxmsrs"

/* Why an MSR has no value before anything read it (see read_this_cpu). */
static const char not_read[] = "not read (TODO(lab01): the RDMSR loop)";

/* What one CPU said: for each MSR of vmx_msr_table, read or why not. */
struct vmx_snapshot {
	u64 value[VMX_MSR_COUNT];
	const char *absent[VMX_MSR_COUNT];	/* reason; NULL if it was read */
};

/* Index of MSR `number` in vmx_msr_table (the table is the order we print). */
static int msr_index(u32 number)
{
	unsigned int i;

	for (i = 0; i < VMX_MSR_COUNT; i++)
		if (vmx_msr_table[i].number == number)
			return i;
	return -1;
}

static void note_value(struct vmx_snapshot *s, u32 number, u64 value)
{
	int i = msr_index(number);

	if (i >= 0) {
		s->value[i] = value;
		s->absent[i] = NULL;
	}
}

/* The values that decide which optional MSRs exist (see decode.h). */
static void cap_values(const struct vmx_snapshot *s, struct vmx_cap_values *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->basic = s->value[msr_index(IA32_VMX_BASIC)];
	caps->procbased_ctls = s->value[msr_index(IA32_VMX_PROCBASED_CTLS)];
	caps->procbased_ctls2 = s->value[msr_index(IA32_VMX_PROCBASED_CTLS2)];
	caps->exit_ctls = s->value[msr_index(IA32_VMX_EXIT_CTLS)];
}

/*
 * Runs on each online CPU in turn (smp_call_function_single, interrupts
 * off), so every RDMSR reads that CPU's own MSRs. Only called when
 * vmx_present() said yes.
 */
static void read_this_cpu(void *arg)
{
	struct vmx_snapshot *s = arg;
	struct vmx_cap_values caps;
	unsigned int i;
	u32 msr;
	u64 value;

	for (i = 0; i < VMX_MSR_COUNT; i++)
		s->absent[i] = not_read;

	/* slide: rdmsr-todo */
	/*
	 * TODO(lab01): read the eleven classic capability MSRs, IA32_VMX_BASIC
	 * (0x480) through IA32_VMX_VMCS_ENUM (0x48A), with an inline-asm RDMSR
	 * (ECX = MSR number in, EDX:EAX = value out), and store each value with
	 * note_value(s, msr, value). Every CPU with VMX has these eleven.
	 */
	/* end slide */

	/*
	 * The rest exist only when other capabilities say so. Decide from the
	 * values read so far (the table is in MSR-number order and each MSR
	 * depends only on lower-numbered ones), and read with rdmsrl_safe(),
	 * which turns a #GP into an error instead of an oops.
	 */
	for (i = 0; i < VMX_MSR_COUNT; i++) {
		const char *reason;

		msr = vmx_msr_table[i].number;
		if (msr >= IA32_VMX_BASIC && msr <= IA32_VMX_VMCS_ENUM)
			continue;
		if (msr > IA32_VMX_VMCS_ENUM && s->absent[msr_index(IA32_VMX_BASIC)] == not_read)
			continue;	/* cannot decide without the classic MSRs */
		cap_values(s, &caps);
		reason = vmx_msr_absent_reason(msr, &caps);
		if (reason)
			s->absent[i] = reason;
		else if (rdmsrl_safe(msr, &value))
			s->absent[i] = "RDMSR raised #GP";
		else
			note_value(s, msr, value);
	}
}

/* CPUID.1:ECX.VMX, the bit number taken from the kernel's feature list. */
#define CPUID_1_ECX_VMX_BIT (X86_FEATURE_VMX & 31)

/*
 * Does this CPU have VMX? Asks CPUID itself rather than the kernel's
 * feature flags: Linux clears its VMX flag when the firmware left VMX
 * disabled in IA32_FEATURE_CONTROL, and we want to show that MSR then.
 */
/* slide: vmx-present */
static bool vmx_present(void)
{
	return !strcmp(boot_cpu_data.x86_vendor_id, "GenuineIntel") &&
	       (cpuid_ecx(1) & BIT(CPUID_1_ECX_VMX_BIT));
}
/* end slide */

/* The decoders of vmx/decode.h print through this: into the seq_file. */
static void seq_vmx_printf(void *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	seq_vprintf(ctx, fmt, ap);
	va_end(ap);
}

static void show_raw(struct seq_file *m, const struct vmx_printer *p, const struct vmx_snapshot *s)
{
	unsigned int i;

	for (i = 0; i < VMX_MSR_COUNT; i++) {
		const struct vmx_msr_info *msr = &vmx_msr_table[i];

		if (s->absent[i] == not_read)
			seq_printf(m, "0x%x %s %s\n", msr->number, msr->name, not_read);
		else if (s->absent[i])
			seq_printf(m, "0x%x %s absent: %s\n", msr->number, msr->name, s->absent[i]);
		else
			vmx_print_msr_line(p, msr->number, s->value[i]);
	}
}

/* Compare every CPU with the first one; name each difference. */
static void show_cpus(struct seq_file *m, const struct vmx_snapshot *snap, int first)
{
	unsigned int i, differing = 0;
	int cpu;

	for_each_online_cpu(cpu) {
		const struct vmx_snapshot *a = &snap[first], *b = &snap[cpu];

		for (i = 0; i < VMX_MSR_COUNT; i++) {
			const char *name = vmx_msr_table[i].name;

			if (!a->absent[i] != !b->absent[i]) {
				seq_printf(m, "cpu %d differs: %s is %s there, %s on cpu %d\n", cpu, name,
					   b->absent[i] ? "absent" : "present",
					   a->absent[i] ? "absent" : "present", first);
				differing++;
			} else if (!a->absent[i] && a->value[i] != b->value[i]) {
				seq_printf(m, "cpu %d differs: %s = 0x%016llx there, 0x%016llx on cpu %d\n",
					   cpu, name, b->value[i], a->value[i], first);
				differing++;
			}
		}
	}
	if (!differing)
		seq_printf(m, "cpus: all %u online CPUs agree\n", num_online_cpus());
}

/* A control word, decoded from the TRUE MSR where the CPU has it (SDM A.2). */
static void show_control_word(struct seq_file *m, const struct vmx_printer *p,
			      const struct vmx_snapshot *s, unsigned int word)
{
	const struct vmx_control_word_info *w = &vmx_control_word_table[word];
	int plain = msr_index(w->msr);
	int truemsr = w->true_msr ? msr_index(w->true_msr) : -1;
	unsigned int bit;
	u64 cap, defaults;

	seq_printf(m, "\n%s (%s):\n", w->name, w->description);
	if (s->absent[plain]) {
		seq_printf(m, "  not available: %s %s\n", vmx_msr_table[plain].name,
			   s->absent[plain] == not_read ? not_read : "is absent");
		return;
	}
	if (truemsr < 0 || s->absent[truemsr]) {
		seq_printf(m, "  from %s (no TRUE MSR for this word)\n", vmx_msr_table[plain].name);
		vmx_decode_msr(p, w->msr, s->value[plain]);
		return;
	}
	cap = s->value[truemsr];
	seq_printf(m, "  from %s (IA32_VMX_BASIC.TRUE_CONTROLS = 1), not %s\n",
		   vmx_msr_table[truemsr].name, vmx_msr_table[plain].name);
	vmx_decode_msr(p, w->true_msr, cap);
	/* Default1 controls that only the TRUE MSR lets software clear. */
	defaults = vmx_control_split(word, s->value[plain]).allowed0 &
		   ~vmx_control_split(word, cap).allowed0;
	seq_printf(m, "  default1 bits the TRUE MSR lets be 0 (%s says must-be-1):", vmx_msr_table[plain].name);
	if (!defaults)
		seq_puts(m, " none");
	for (bit = 0; defaults >> bit; bit++) {
		const struct vmx_control_bit_info *b;

		if (!((defaults >> bit) & 1))
			continue;
		b = vmx_control_bit_info(word, bit);
		if (b)
			seq_printf(m, " %s", b->name);
		else
			seq_printf(m, " bit%u", bit);
	}
	seq_putc(m, '\n');
}

/* One MSR's decode, or why there is none. */
static void show_decoded_msr(struct seq_file *m, const struct vmx_printer *p,
			     const struct vmx_snapshot *s, u32 number)
{
	int i = msr_index(number);

	seq_printf(m, "\n%s:\n", vmx_msr_table[i].name);
	if (s->absent[i])
		seq_printf(m, "  %s\n", s->absent[i]);
	else
		vmx_decode_msr(p, number, s->value[i]);
}

static void show_decoded(struct seq_file *m, const struct vmx_printer *p, const struct vmx_snapshot *s)
{
	int f0, f1;
	unsigned int word;

	show_decoded_msr(m, p, s, IA32_FEATURE_CONTROL);
	show_decoded_msr(m, p, s, IA32_VMX_BASIC);
	for (word = 0; word < VMX_WORD_COUNT; word++)
		show_control_word(m, p, s, word);
	show_decoded_msr(m, p, s, IA32_VMX_MISC);

	seq_puts(m, "\nCR0 and CR4 in VMX operation (IA32_VMX_CR0_FIXED0/1, IA32_VMX_CR4_FIXED0/1):\n");
	f0 = msr_index(IA32_VMX_CR0_FIXED0);
	f1 = msr_index(IA32_VMX_CR0_FIXED1);
	if (!s->absent[f0] && !s->absent[f1])
		vmx_decode_fixed(p, CPU_REG_CR0, s->value[f0], s->value[f1]);
	f0 = msr_index(IA32_VMX_CR4_FIXED0);
	f1 = msr_index(IA32_VMX_CR4_FIXED1);
	if (!s->absent[f0] && !s->absent[f1])
		vmx_decode_fixed(p, CPU_REG_CR4, s->value[f0], s->value[f1]);

	show_decoded_msr(m, p, s, IA32_VMX_VMCS_ENUM);
	show_decoded_msr(m, p, s, IA32_VMX_EPT_VPID_CAP);
	show_decoded_msr(m, p, s, IA32_VMX_VMFUNC);
}

static int vmxmsrs_show(struct seq_file *m, void *v)
{
	const struct vmx_printer p = { seq_vmx_printf, m };
	struct vmx_snapshot *snap;
	int cpu, first = -1, err = 0;

	if (!vmx_present()) {
		seq_printf(m, "vmx: no: CPU vendor %s, CPUID.1:ECX[%d] (VMX) = %d: "
			   "this CPU has no VMX, so no VMX MSR was read\n",
			   boot_cpu_data.x86_vendor_id, CPUID_1_ECX_VMX_BIT,
			   !!(cpuid_ecx(1) & BIT(CPUID_1_ECX_VMX_BIT)));
		return 0;
	}

	snap = kcalloc(nr_cpu_ids, sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	cpus_read_lock();		/* no CPU comes or goes while we read */
	for_each_online_cpu(cpu) {
		if (first < 0)
			first = cpu;
		err = smp_call_function_single(cpu, read_this_cpu, &snap[cpu], 1);
		if (err)
			break;
	}
	if (!err) {
		seq_printf(m, "vmx: yes: CPU vendor %s, CPUID.1:ECX[%d] (VMX) = 1\n",
			   boot_cpu_data.x86_vendor_id, CPUID_1_ECX_VMX_BIT);
		seq_printf(m, "\n--- raw: read on cpu %d ---\n", first);
		show_raw(m, &p, &snap[first]);
		seq_printf(m, "\n--- cpus: the same MSRs on each of the %u online CPUs ---\n",
			   num_online_cpus());
		show_cpus(m, snap, first);
		seq_printf(m, "\n--- decoded: cpu %d ---\n", first);
		show_decoded(m, &p, &snap[first]);
	}
	cpus_read_unlock();
	kfree(snap);
	return err;
}

static int vmxmsrs_open(struct inode *inode, struct file *file)
{
	/* The whole file is about 16 KiB: size the buffer once, show once. */
	return single_open_size(file, vmxmsrs_show, NULL, 32 * 1024);
}

static const struct proc_ops vmxmsrs_proc_ops = {
	.proc_open = vmxmsrs_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

static int __init vmxmsrs_init(void)
{
	/* 0444: capabilities are no secret; reading them needs no privilege. */
	if (!proc_create(VMXMSRS_NAME, 0444, NULL, &vmxmsrs_proc_ops))
		return -ENOMEM;
	pr_info(VMXMSRS_NAME ": /proc/" VMXMSRS_NAME " created\n");
	return 0;
}

static void __exit vmxmsrs_exit(void)
{
	remove_proc_entry(VMXMSRS_NAME, NULL);
	pr_info(VMXMSRS_NAME ": /proc/" VMXMSRS_NAME " removed\n");
}

module_init(vmxmsrs_init);
module_exit(vmxmsrs_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vmxlab lab01: the VMX capability MSRs in /proc/vmxmsrs");
