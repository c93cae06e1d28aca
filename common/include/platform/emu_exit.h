/*
 * platform/emu_exit.h - how a program ends its emulator run: QEMU's
 * isa-debug-exit port, Bochs' shutdown port and the text it wants there,
 * from common/platform/emu_exit.def (which says what each emulator does).
 * Where it runs: the bare-metal runtime (common/rt/start.c) and the kernel
 * labs' initramfs (common/kernel/vmxlab-poweroff.c, user space).
 */
#ifndef PLATFORM_EMU_EXIT_H
#define PLATFORM_EMU_EXIT_H

enum platform_emu_exit {
#define PLATFORM_CONST(name, value, desc) name = value,
#define PLATFORM_TEXT(name, text, desc)
#include "../../platform/emu_exit.def"
#undef PLATFORM_CONST
#undef PLATFORM_TEXT
};

/* The texts, as strings (static: a file that uses none gets no warning). */
#define PLATFORM_CONST(name, value, desc)
#define PLATFORM_TEXT(name, text, desc) static const char name[] __attribute__((unused)) = text;
#include "../../platform/emu_exit.def"
#undef PLATFORM_CONST
#undef PLATFORM_TEXT

#endif /* PLATFORM_EMU_EXIT_H */
