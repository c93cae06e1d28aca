/*
 * stats.h - the monitor's statistics: STAT_INC(name) is ONE instruction.
 *
 * Counters live in the section .statvars. Each vCPU's page tables map its
 * own copy of .statvars at the same monitor address (layout.h), so a
 * counter is a plain global: `incq name(%rip)`, and an element of a counter
 * array indexed by a register `incq base(,%reg,8)`: no vCPU number, no
 * pointer arithmetic. With stats = none (monitor.cfg) STAT_INC compiles to
 * nothing. Counters are defined once, in stats.c (STAT_DEFINE).
 *
 * Plain (not atomic) increments are right here: no other CPU writes this
 * copy.
 */
#ifndef MONITOR_STATS_H
#define MONITOR_STATS_H

/* I/O exits are counted by port for the ISA ports 0 .. STAT_IO_PORTS - 1;
 * element STAT_IO_PORTS counts every port above. */
#define STAT_IO_PORTS 0x400

#define STAT_SECTION __attribute__((section(".statvars"), used, aligned(8)))

/* Each STAT_INC site's address goes into .stat_sites, a section that is not
 * loaded: tests/test_lab05.py disassembles every site of the linked monitor
 * and fails on anything but one `inc` of a .statvars address. */
#define STAT_SITE "1:\n\t.pushsection .stat_sites, \"\", @progbits\n\t.quad 1b\n\t.popsection\n\t"

/* slide: stat-inc */
#if MON_STATS
#define STAT_DECLARE(name) extern unsigned long stat_##name
#define STAT_DECLARE_ARRAY(name, n) extern unsigned long stat_##name[n]
#define STAT_INC(name) __asm__ volatile(STAT_SITE "incq %0" : "+m"(stat_##name))
/* An element: a constant index is a displacement (`incq name+8*i(%rip)`);
 * an index in a register is the instruction's index (`incq name(,%reg,8)`:
 * the monitor's addresses fit the kernel code model's signed 32 bits). */
#define STAT_INC_AT(name, index)                                                          \
	do {                                                                              \
		if (__builtin_constant_p(index))                                          \
			__asm__ volatile(STAT_SITE "incq %0" : "+m"(stat_##name[(index)])); \
		else                                                                      \
			__asm__ volatile(STAT_SITE "incq %c0(,%1,8)"                      \
					 : : "i"(stat_##name), "r"((unsigned long)(index))  \
					 : "memory");                                     \
	} while (0)
/* end slide */
/* Names for an array's elements, for vmxstat (tools/vmxstat): "a,b,c", or
 * "*exit_reason" (VM exit reasons: common/vmx/vmx_exit_reasons.def), or
 * "*port" (I/O ports; the last element: the ports from its index up); in a
 * section that is not loaded (.statnames: "name=a,b,c\0"). */
#define STAT_INDEX_NAMES(name, names)                                                     \
	__asm__(".pushsection .statnames, \"\", @progbits\n\t.asciz \"" #name "=" names "\"\n\t.popsection")
#else
#define STAT_DECLARE(name) struct stat_unused_##name
#define STAT_DECLARE_ARRAY(name, n) struct stat_unused_##name
#define STAT_INC(name) do { } while (0)
#define STAT_INC_AT(name, index) do { (void)(index); } while (0)
#define STAT_INDEX_NAMES(name, names) struct stat_unused_names_##name
#endif

#endif /* MONITOR_STATS_H */
