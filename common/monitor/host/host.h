/*
 * host.h - what the host side's files share: host.c (loading, starting,
 * collecting) and core.c (the core after a panic).
 *
 * Runs in: the host side (the boot path's payload), 64-bit ring 0.
 */
#ifndef MONITOR_HOST_H
#define MONITOR_HOST_H

#include "rt.h"
#include "layout.h"
#include <elf.h>

/* host_images.asm: the monitor ELF the host side loads (monitor.load.elf). */
extern const uint8_t monitor_elf[], monitor_elf_end[];

/* host.c */
extern rt_spinlock com2_lock;
uint64_t high_pte(uint64_t *pml4, uint64_t va);         /* a vCPU's PTE of a monitor address */
const Elf64_Shdr *find_section(const char *name);       /* in monitor_elf, or NULL */

/* core.c: one ELF core of the monitor on COM2, the panicking vCPU first. */
void host_write_core(uint64_t *const pml4[MON_VCPUS], const uint64_t results[MON_VCPUS],
		     const struct mon_shared *shared);

#endif
