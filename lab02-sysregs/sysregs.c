/*
 * sysregs.c - /proc/sysregs: the control registers and IA32_EFER of one CPU.
 *
 * Runs in: the Linux kernel, as a loadable module (ring 0). Lab 02 of vmxlab.
 * Intel SDM vol. 3: 2.5 "Control Registers", 2.2.1 "Extended Feature Enable
 * Register", 10.8.6 "Task Priority in IA-32e Mode" (CR8).
 *
 * A user program cannot execute `mov %cr0, %rax` (it is privileged: #GP at
 * CPL 3) nor `rdmsr`. Kernel code can, and a /proc file lets anyone with
 * permission see the result:
 *
 *     $ sudo insmod sysregs.ko && sudo cat /proc/sysregs
 *     cpu: 0
 *     CR0: 0x0000000080050033 PE MP ET NE WP AM PG
 *     ...
 *
 * Each line is `NAME: value bit-names`. The bit names come from the kit's
 * one list of CPU register bits, common/vmx/cpu_bits.def, through
 * vmx/cpu_bits.h.
 *
 * The file is mode 0400 (root only): CR3 holds the physical address of the
 * kernel's page tables and CR2 the last faulting address, both of which help
 * an attacker defeat kernel address-space randomization (KASLR).
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/smp.h>
#include <asm/msr-index.h>

#include <vmx/cpu_bits.h>

#define SYSREGS_NAME "sysregs"

/* The registers of one CPU, read together with preemption disabled. */
struct sysregs {
	int cpu;
	unsigned long cr0, cr2, cr3, cr4, cr8;
	u64 efer;
};

/*
 * Read this CPU's registers. The caller has disabled preemption: the
 * registers are per CPU, and without it the scheduler could move us to
 * another CPU halfway through, mixing the registers of two CPUs.
 */
/* slide: sysregs-todo */
static void sysregs_read(struct sysregs *r)
{
	u32 lo, hi;

	r->cpu = smp_processor_id();
	/* TODO(lab02): read CR0, CR2, CR3, CR4 and CR8 with GCC inline asm
	 * (`mov %%crN, %0` with an "=r" output), and IA32_EFER with `rdmsr`
	 * (ECX = MSR_EFER in, EDX:EAX out). */
	/* end slide */
	lo = hi = 0;
	r->cr0 = r->cr2 = r->cr3 = r->cr4 = r->cr8 = 0;
	r->efer = ((u64)hi << 32) | lo;
}

/* `NAME: 0x0000000080050033 PE MP ...`: the value, then the named set bits. */
static void sysregs_print(struct seq_file *m, const char *label, unsigned int reg, u64 value)
{
	unsigned int i;

	seq_printf(m, "%s: 0x%016llx", label, value);
	for (i = 0; i < CPU_REG_BIT_COUNT; i++) {
		const struct cpu_reg_bit_info *b = &cpu_reg_bit_table[i];

		if (b->reg == reg && (value >> b->bit) & 1)
			seq_printf(m, " %s", b->name);
	}
	seq_putc(m, '\n');
}

static int sysregs_show(struct seq_file *m, void *v)
{
	struct sysregs r;

	/* TODO(lab02): the registers must all come from one CPU: keep this
	 * task on its CPU while reading them (get_cpu() ... put_cpu()). */
	sysregs_read(&r);

	seq_printf(m, "cpu: %d\n", r.cpu);
	sysregs_print(m, "CR0", CPU_REG_CR0, r.cr0);
	/* CR2 and CR3 have no flag bits worth naming: an address and a table base. */
	seq_printf(m, "CR2: 0x%016lx (last page-fault linear address)\n", r.cr2);
	seq_printf(m, "CR3: 0x%016lx (page-table base; low bits: PCID or PWT/PCD)\n", r.cr3);
	sysregs_print(m, "CR4", CPU_REG_CR4, r.cr4);
	/* CR8 bits 3:0 are the task-priority class (TPR bits 7:4). */
	seq_printf(m, "CR8: 0x%016lx (task-priority class %lu)\n", r.cr8, r.cr8 & 0xf);
	sysregs_print(m, "EFER", CPU_REG_EFER, r.efer);
	return 0;
}

/* slide: proc-ops */
static int sysregs_open(struct inode *inode, struct file *file)
{
	return single_open(file, sysregs_show, NULL);
}

static const struct proc_ops sysregs_proc_ops = {
	.proc_open = sysregs_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};
/* end slide */

static int __init sysregs_init(void)
{
	/* 0400: readable by root only, see the header comment. */
	if (!proc_create(SYSREGS_NAME, 0400, NULL, &sysregs_proc_ops))
		return -ENOMEM;
	pr_info(SYSREGS_NAME ": /proc/" SYSREGS_NAME " created\n");
	return 0;
}

static void __exit sysregs_exit(void)
{
	remove_proc_entry(SYSREGS_NAME, NULL);
	pr_info(SYSREGS_NAME ": /proc/" SYSREGS_NAME " removed\n");
}

module_init(sysregs_init);
module_exit(sysregs_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vmxlab lab02: control registers and IA32_EFER in /proc/sysregs");
