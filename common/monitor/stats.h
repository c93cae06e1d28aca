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

#define STAT_SECTION __attribute__((section(".statvars"), used, aligned(8)))

#if MON_STATS
#define STAT_DECLARE(name) extern unsigned long stat_##name
#define STAT_DECLARE_ARRAY(name, n) extern unsigned long stat_##name[n]
#define STAT_INC(name) __asm__ volatile("incq %0" : "+m"(stat_##name))
#define STAT_INC_AT(name, index) __asm__ volatile("incq %0" : "+m"(stat_##name[(index)]))
#else
#define STAT_DECLARE(name) struct stat_unused_##name
#define STAT_DECLARE_ARRAY(name, n) struct stat_unused_##name
#define STAT_INC(name) do { } while (0)
#define STAT_INC_AT(name, index) do { (void)(index); } while (0)
#endif

#endif /* MONITOR_STATS_H */
