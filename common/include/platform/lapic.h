/*
 * platform/lapic.h - the local APIC registers and IPI commands the runtime
 * uses to start the second CPU, from common/platform/lapic.def. Where it
 * runs: the bare-metal runtime (common/rt/smp.c).
 *
 * A register's address is LAPIC_BASE + LAPIC_<REGISTER> (identity-mapped).
 */
#ifndef PLATFORM_LAPIC_H
#define PLATFORM_LAPIC_H

enum platform_lapic {
#define PLATFORM_CONST(name, value, desc) name = value,
#include "../../platform/lapic.def"
#undef PLATFORM_CONST
};

#endif /* PLATFORM_LAPIC_H */
