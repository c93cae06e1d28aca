/* monitor.ld.S - the lab05 monitor's linker script (run through cpp with
 * layout.h, so every address comes from there).
 *
 * One ELF, linked at MON_IMAGE_BASE in the last 64 MiB, from the module
 * objects the config chose (lab05-ept/monitor.cfg; the map file and `nm`
 * show where each module landed). Program headers tell the host side how
 * to map each part (common/monitor/host/load.c):
 *
 *   text      R X   .text .rodata                     shared by the vCPUs
 *   percpu    R W   .data .bss                        one copy per vCPU
 *   shared    R W   .shared                           one copy (host reads it)
 *   statvars  R W   .statvars                         one copy per vCPU
 *   vmmaddr   R     .vmmaddr                          one copy
 *
 * Segments start on page boundaries: a page holds one kind only.
 */
#define MON_LINKER_SCRIPT
#include "layout.h"

OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(mon_start)

PHDRS
{
	text     PT_LOAD FLAGS(5);
	percpu   PT_LOAD FLAGS(6);
	shared   PT_LOAD FLAGS(6);
	statvars PT_LOAD FLAGS(6);
	vmmaddr  PT_LOAD FLAGS(4);
	note     PT_NOTE FLAGS(4);
}

SECTIONS
{
	__mon_reserved_start = MON_BASE;
	__mon_reserved_end = MON_IMAGE_BASE;

	. = MON_IMAGE_BASE;
	.text : {
		__mon_text_start = .;
		KEEP(*(.text.mon_start))
		*(.text .text.*)
	} :text
	.rodata : {
		*(.rodata .rodata.*)
		. = ALIGN(8);
		__mon_modules_start = .;
		KEEP(*(.mon_modules))
		__mon_modules_end = .;
	} :text
	.note.gnu.build-id : { __mon_build_id_note = .; *(.note.gnu.build-id) } :text :note
	__mon_text_end = ALIGN(MON_PAGE);

	. = ALIGN(MON_PAGE);
	.data : {
		__mon_percpu_start = .;
		*(.data .data.*)
	} :percpu
	.bss (NOLOAD) : {
		*(.bss .bss.*)
		*(COMMON)
		. = ALIGN(MON_PAGE);
		__mon_percpu_end = .;
	} :percpu

	. = ALIGN(MON_PAGE);
	.shared : {
		__mon_shared_start = .;
		KEEP(*(.shared .shared.*))
		. = ALIGN(MON_PAGE);
		__mon_shared_end = .;
	} :shared

	.statvars : {
		__mon_statvars_start = .;
		KEEP(*(.statvars .statvars.*))
		. = ALIGN(MON_PAGE);
		__mon_statvars_end = .;
	} :statvars

	.vmmaddr : {
		__mon_vmmaddr_start = .;
		KEEP(*(.vmmaddr .vmmaddr.*))
		__mon_vmmaddr_end = .;
		. = ALIGN(MON_PAGE);
	} :vmmaddr
	__mon_image_end = .;

	/DISCARD/ : { *(.eh_frame*) *(.comment*) *(.note.GNU-stack) }
}

ASSERT(__mon_image_end <= MON_BASE + MON_SIZE - MON_PAGE, "the monitor image does not fit in the last 64 MiB")
ASSERT(__mon_reserved_start + MON_VCPUS * MON_SLOT_SIZE <= MON_IMAGE_BASE, "the reserved area is too small for MON_VCPUS slots")
