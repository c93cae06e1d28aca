/*
 * vmxinfo.c - look up VMX facts from the command line: VMCS field encodings,
 * capability MSR values, exit reasons, VM-instruction errors, the bit
 * layouts of exit qualifications, access rights ... and named values.
 *
 * Where it runs: on the host (Linux, hosted C). Every fact comes from the
 * lists in common/vmx/ (the .def files) through common/include/vmx/; the decoders are
 * the same code the kernel modules and bare-metal payloads print with.
 * `vmxinfo --help` is the manual.
 *
 * Exit status: 0 found, 1 well-formed but not defined by the SDM,
 * 2 bad input (one line "vmxinfo: error: ..." on stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmx/decode.h"
#include "vmx/layouts.h"
#include "vmx/values.h"

#define VMXINFO_VERSION "1.0"

enum { EXIT_FOUND = 0, EXIT_UNDEFINED = 1, EXIT_BAD_INPUT = 2 };

static const char manual[] =
"NAME\n"
"    vmxinfo - look up Intel VMX facts: VMCS fields, capability MSRs,\n"
"    exit reasons, VM-instruction errors, bit layouts, named values\n"
"\n"
"SYNOPSIS\n"
"    vmxinfo field ENCODING|NAME\n"
"    vmxinfo fields [--group GROUP] [--width WIDTH]\n"
"    vmxinfo msr NUMBER|NAME [VALUE]\n"
"    vmxinfo msrs\n"
"    vmxinfo exit NUMBER|NAME\n"
"    vmxinfo exits\n"
"    vmxinfo error NUMBER\n"
"    vmxinfo errors\n"
"    vmxinfo layout LAYOUT [VALUE]\n"
"    vmxinfo layouts\n"
"    vmxinfo values [SET]\n"
"    vmxinfo --help | --version\n"
"\n"
"DESCRIPTION\n"
"    vmxinfo answers questions about the facts of Intel VT-x (Intel SDM\n"
"    vol. 3C in the classic numbering, chapters 23-30 and appendices A-C)\n"
"    from the kit's fact lists in common/vmx/*.def. Numbers are decimal or\n"
"    hexadecimal with a 0x prefix. Names are case-insensitive and may carry\n"
"    their C prefix (VMCS_, VMX_EXIT_REASON_). Output is one item per line,\n"
"    NAME: value.\n"
"\n"
"COMMANDS\n"
"    field ENCODING|NAME\n"
"        Decode a VMCS field encoding (the operand of VMREAD/VMWRITE, SDM\n"
"        24.11.2): its SDM name, width (bits 14:13), type (bits 11:10),\n"
"        access type (bit 0: full, or high half of a 64-bit field) and index\n"
"        (bits 9:1). By NAME, the same for the named field. An encoding with\n"
"        reserved bits (31:15, 12) set is an error; a well-formed encoding\n"
"        the SDM does not define is shown decoded, with exit status 1.\n"
"    fields [--group GROUP] [--width WIDTH]\n"
"        List the VMCS fields, optionally only one GROUP (control,\n"
"        read-only, guest, host) and/or WIDTH (16, 32, 64, natural).\n"
"    msr NUMBER|NAME [VALUE]\n"
"        Without VALUE, name and describe a VMX capability MSR. With VALUE,\n"
"        decode it: for a control MSR each named control as must-be-0,\n"
"        must-be-1 or may-be-either; for IA32_VMX_BASIC, _MISC,\n"
"        _EPT_VPID_CAP, _VMFUNC, _VMCS_ENUM, IA32_FEATURE_CONTROL every\n"
"        field; for the CR0/CR4 FIXED MSRs the fixed and flexible bits.\n"
"    msrs\n"
"        List the VMX capability MSRs and IA32_FEATURE_CONTROL.\n"
"    exit NUMBER|NAME\n"
"        Name a basic exit reason (SDM appendix C). NUMBER may be the whole\n"
"        exit-reason field: bits 15:0 are the basic reason, bit 31 says the\n"
"        VM entry failed.\n"
"    exits\n"
"        List the basic exit reasons.\n"
"    error NUMBER\n"
"        Describe a VM-instruction error number (the VM_INSTRUCTION_ERROR\n"
"        field after VMfailValid; SDM 30.4).\n"
"    errors\n"
"        List the VM-instruction error numbers with the kit's names (the SDM\n"
"        gives numbers and descriptions only).\n"
"    layout LAYOUT [VALUE]\n"
"        Without VALUE, list the bit fields of a layout (common/vmx/\n"
"        vmx_layouts.def: IO_QUAL, INTR_INFO_EXIT, SEG_AR, EPTP, ...). With\n"
"        VALUE, decode it field by field; a type or memory-type field also\n"
"        shows its name from vmx_values.def.\n"
"    layouts\n"
"        List the layouts and how many fields each has.\n"
"    values [SET]\n"
"        List the named values (common/vmx/vmx_values.def), or one SET\n"
"        (INTR_TYPE, ACTIVITY, SEG_TYPE, SYSTEM_TYPE, MEMORY_TYPE, ...).\n"
"\n"
"OPTIONS\n"
"    -h, --help     this text\n"
"    -V, --version  version and the size of each fact list\n"
"\n"
"EXIT STATUS\n"
"    0   the answer was found\n"
"    1   the input was well-formed but the SDM defines no such field, MSR,\n"
"        exit reason or error number\n"
"    2   bad input: unknown command or option, unknown name, malformed or\n"
"        too large number, reserved encoding bits set, a high-half encoding\n"
"        of a field that is not 64 bits wide; one line on stderr says which\n"
"\n"
"EXAMPLES\n"
"    vmxinfo field 0x0000400A        CR3_TARGET_COUNT, 32-bit control, index 5\n"
"    vmxinfo field guest_rip         the encoding of GUEST_RIP\n"
"    vmxinfo fields --group host --width natural\n"
"    vmxinfo msr 0x482 0xF7F9FFFE0401E172\n"
"    vmxinfo msr IA32_VMX_BASIC 0x00D810000000002B\n"
"    vmxinfo exit 48                 EPT_VIOLATION\n"
"    vmxinfo exit EPT_VIOLATION      48\n"
"    vmxinfo error 7                 VM entry with invalid control field(s)\n"
"    vmxinfo layout IO_QUAL 0x3FD0008   an IN from port 0x3fd, 1 byte\n"
"    vmxinfo layout SEG_AR 0xF3      a virtual-8086 segment's access rights\n"
"    vmxinfo values INTR_TYPE\n";

/* The one-line error for bad input; never returns. */
static void bad_input(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bad_input(const char *fmt, ...)
{
	va_list ap;

	fputs("vmxinfo: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_BAD_INPUT);
}

static void print_to_file(void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void print_to_file(void *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf((FILE *)ctx, fmt, ap);
	va_end(ap);
}

/* Does `s` look like a number (so it is not a name)? */
static int looks_numeric(const char *s)
{
	return (s[0] >= '0' && s[0] <= '9') ||
	       ((s[0] == '-' || s[0] == '+') && s[1] >= '0' && s[1] <= '9');
}

/* Parse a decimal or 0x-hex number no larger than `max`; `what` names it in
 * the error message. */
static unsigned long long parse_number(const char *s, unsigned long long max, const char *what)
{
	unsigned long long v;
	char *end;

	if (!looks_numeric(s) || s[0] == '-' || s[0] == '+')
		bad_input("malformed number '%s' for %s (want decimal or 0x-prefixed hex)", s, what);
	errno = 0;
	v = strtoull(s, &end, 0);
	if (*end != '\0' || end == s || ((s[1] == 'x' || s[1] == 'X') && s[2] == '\0'))
		bad_input("malformed number '%s' for %s (want decimal or 0x-prefixed hex)", s, what);
	if (errno == ERANGE || v > max)
		bad_input("number too large: %s %s is more than 0x%llx", what, s, max);
	return v;
}

static void need_args(int argc, int want_min, int want_max, const char *cmd, const char *usage)
{
	if (argc - 1 < want_min)
		bad_input("'%s' needs %s (usage: vmxinfo %s %s)", cmd, usage, cmd, usage);
	if (argc - 1 > want_max)
		bad_input("too many arguments for '%s' (usage: vmxinfo %s %s)", cmd, cmd, usage);
}

/* --- field / fields ------------------------------------------------------ */

static void print_field(const struct vmcs_field_info *f, vmx_u32 enc)
{
	printf("name: %s\n", f->name);
	printf("c_name: VMCS_%s\n", f->name);
	printf("description: %s\n", f->description);
	printf("encoding: 0x%08x\n", enc);
	printf("width: %s\n", vmcs_width_name(VMCS_ENC_WIDTH(enc)));
	printf("type: %s\n", vmcs_group_name(VMCS_ENC_TYPE(enc)));
	if (VMCS_ENC_ACCESS_HIGH(enc))
		printf("access: high (bits 63:32 of %s, full encoding 0x%08x)\n",
		       f->name, f->encoding);
	else
		printf("access: full\n");
	printf("index: %u\n", VMCS_ENC_INDEX(enc));
	if (f->width == VMCS_WIDTH_64 && !VMCS_ENC_ACCESS_HIGH(enc))
		printf("high_encoding: 0x%08x\n", VMCS_ENC_HIGH(enc));
}

static int cmd_field(int argc, char **argv)
{
	const struct vmcs_field_info *f;
	vmx_u32 enc;

	need_args(argc, 1, 1, "field", "ENCODING|NAME");
	if (!looks_numeric(argv[1])) {
		f = vmcs_field_by_name(argv[1]);
		if (!f)
			bad_input("unknown field name '%s' (vmxinfo fields lists them)", argv[1]);
		print_field(f, f->encoding);
		return EXIT_FOUND;
	}
	enc = (vmx_u32)parse_number(argv[1], 0xFFFFFFFFull, "field encoding");
	if (enc & VMCS_ENC_RESERVED_MASK)
		bad_input("field encoding 0x%08x has reserved bits set (bits 31:15 and 12 must be 0; set: 0x%08x)",
			  enc, enc & VMCS_ENC_RESERVED_MASK);
	if (VMCS_ENC_ACCESS_HIGH(enc) && VMCS_ENC_WIDTH(enc) != VMCS_WIDTH_64)
		bad_input("field encoding 0x%08x has access type high (bit 0) but width bits say %s: only 64-bit fields have a high half",
			  enc, vmcs_width_name(VMCS_ENC_WIDTH(enc)));
	f = vmcs_field_by_encoding(enc & ~1u);
	if (f) {
		print_field(f, enc);
		return EXIT_FOUND;
	}
	printf("encoding: 0x%08x: not a field defined in the SDM\n", enc);
	printf("width: %s\n", vmcs_width_name(VMCS_ENC_WIDTH(enc)));
	printf("type: %s\n", vmcs_group_name(VMCS_ENC_TYPE(enc)));
	printf("access: %s\n", VMCS_ENC_ACCESS_HIGH(enc) ? "high" : "full");
	printf("index: %u\n", VMCS_ENC_INDEX(enc));
	return EXIT_UNDEFINED;
}

static int parse_group(const char *s)
{
	if (vmx_str_ieq(s, "control"))
		return VMCS_GROUP_CONTROL;
	if (vmx_str_ieq(s, "read-only") || vmx_str_ieq(s, "read_only") || vmx_str_ieq(s, "exit-info"))
		return VMCS_GROUP_READ_ONLY;
	if (vmx_str_ieq(s, "guest") || vmx_str_ieq(s, "guest-state") || vmx_str_ieq(s, "guest_state"))
		return VMCS_GROUP_GUEST_STATE;
	if (vmx_str_ieq(s, "host") || vmx_str_ieq(s, "host-state") || vmx_str_ieq(s, "host_state"))
		return VMCS_GROUP_HOST_STATE;
	bad_input("unknown group '%s' (groups: control, read-only, guest, host)", s);
}

static int parse_width(const char *s)
{
	if (!strcmp(s, "16"))
		return VMCS_WIDTH_16;
	if (!strcmp(s, "32"))
		return VMCS_WIDTH_32;
	if (!strcmp(s, "64"))
		return VMCS_WIDTH_64;
	if (vmx_str_ieq(s, "natural") || vmx_str_ieq(s, "natural-width"))
		return VMCS_WIDTH_NATURAL;
	bad_input("unknown width '%s' (widths: 16, 32, 64, natural)", s);
}

static int cmd_fields(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "width", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int group = -1, width = -1, c;
	unsigned i;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":g:w:", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			group = parse_group(optarg);
			break;
		case 'w':
			width = parse_width(optarg);
			break;
		case ':':
			bad_input("option '%s' of 'fields' needs a value", argv[optind - 1]);
		default:
			bad_input("unknown option '%s' for 'fields' (options: --group G, --width W)",
				  argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_input("too many arguments for 'fields' (usage: vmxinfo fields [--group G] [--width W])");
	for (i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];

		if ((group >= 0 && f->group != group) || (width >= 0 && f->width != width))
			continue;
		printf("0x%08x  %-13s  %-14s  %-48s %s\n", f->encoding, vmcs_width_name(f->width),
		       vmcs_group_name(f->group), f->name, f->description);
	}
	return EXIT_FOUND;
}

/* --- msr / msrs ---------------------------------------------------------- */

static int cmd_msr(int argc, char **argv)
{
	const struct vmx_msr_info *m;
	vmx_u32 number;
	int word;

	need_args(argc, 1, 2, "msr", "NUMBER|NAME [VALUE]");
	if (looks_numeric(argv[1])) {
		number = (vmx_u32)parse_number(argv[1], 0xFFFFFFFFull, "MSR number");
		m = vmx_msr_by_number(number);
		if (!m) {
			printf("msr: 0x%x: not a VMX capability MSR (vmxinfo msrs lists them)\n", number);
			return EXIT_UNDEFINED;
		}
	} else {
		m = vmx_msr_by_name(argv[1]);
		if (!m)
			bad_input("unknown MSR name '%s' (vmxinfo msrs lists them)", argv[1]);
	}
	if (argc == 3) {
		vmx_u64 value = parse_number(argv[2], ~0ull, "MSR value");
		struct vmx_printer out = { print_to_file, stdout };

		vmx_decode_msr(&out, m->number, value);
		return EXIT_FOUND;
	}
	printf("name: %s\n", m->name);
	printf("number: 0x%x\n", m->number);
	printf("description: %s\n", m->description);
	word = vmx_control_word_by_msr(m->number);
	if (word >= 0)
		printf("controls: %s (%s), VMCS field %s\n", vmx_control_word_table[word].name,
		       vmx_control_word_table[word].description,
		       vmcs_field_by_encoding(vmx_control_word_table[word].field)->name);
	return EXIT_FOUND;
}

static int cmd_msrs(int argc, char **argv)
{
	unsigned i;

	(void)argv;
	need_args(argc, 0, 0, "msrs", "");
	for (i = 0; i < VMX_MSR_COUNT; i++)
		printf("0x%03x  %-28s %s\n", vmx_msr_table[i].number, vmx_msr_table[i].name,
		       vmx_msr_table[i].description);
	return EXIT_FOUND;
}

/* --- exit / exits / error / errors -------------------------------------- */

static int cmd_exit(int argc, char **argv)
{
	const struct vmx_exit_reason_info *e;
	vmx_u32 reason;

	need_args(argc, 1, 1, "exit", "NUMBER|NAME");
	if (!looks_numeric(argv[1])) {
		e = vmx_exit_reason_by_name(argv[1]);
		if (!e)
			bad_input("unknown exit reason name '%s' (vmxinfo exits lists them)", argv[1]);
		reason = e->number;
	} else {
		reason = (vmx_u32)parse_number(argv[1], 0xFFFFFFFFull, "exit reason");
		e = vmx_exit_reason_by_number(VMX_EXIT_REASON_BASIC(reason));
	}
	if (reason != VMX_EXIT_REASON_BASIC(reason))
		printf("exit_reason_field: 0x%08x\n", reason);
	printf("basic_exit_reason: %u\n", VMX_EXIT_REASON_BASIC(reason));
	if (VMX_EXIT_REASON_IS_ENTRY_FAILURE(reason))
		printf("vm_entry_failure: yes (bit 31)\n");
	if (!e) {
		printf("name: not an exit reason defined in the SDM\n");
		return EXIT_UNDEFINED;
	}
	printf("name: %s\n", e->name);
	printf("c_name: VMX_EXIT_REASON_%s\n", e->name);
	printf("description: %s\n", e->description);
	return EXIT_FOUND;
}

static int cmd_exits(int argc, char **argv)
{
	unsigned i;

	(void)argv;
	need_args(argc, 0, 0, "exits", "");
	for (i = 0; i < VMX_EXIT_REASON_COUNT; i++)
		printf("%3u  %-36s %s\n", vmx_exit_reason_table[i].number,
		       vmx_exit_reason_table[i].name, vmx_exit_reason_table[i].description);
	return EXIT_FOUND;
}

static int cmd_error(int argc, char **argv)
{
	const char *text;
	vmx_u32 n;

	need_args(argc, 1, 1, "error", "NUMBER");
	n = (vmx_u32)parse_number(argv[1], 0xFFFFFFFFull, "VM-instruction error");
	text = vmx_instruction_error_text(n);
	printf("vm_instruction_error: %u\n", n);
	if (!text) {
		printf("description: not a VM-instruction error number defined in the SDM\n");
		return EXIT_UNDEFINED;
	}
	printf("name: %s\n", vmx_instruction_error_name(n));
	printf("description: %s\n", text);
	return EXIT_FOUND;
}

static int cmd_errors(int argc, char **argv)
{
	unsigned i;

	(void)argv;
	need_args(argc, 0, 0, "errors", "");
	for (i = 0; i < VMX_INSTRUCTION_ERROR_COUNT; i++)
		printf("%2u  %-40s %s\n", vmx_instruction_error_table[i].number,
		       vmx_instruction_error_table[i].name, vmx_instruction_error_table[i].description);
	return EXIT_FOUND;
}

/* --- layout / layouts / values ------------------------------------------- */

/* Does vmx_layouts.def have LAYOUT? */
static int layout_exists(const char *layout)
{
	unsigned i;

	for (i = 0; i < VMX_BITFIELD_COUNT; i++)
		if (vmx_str_ieq(vmx_bitfield_table[i].layout, layout))
			return 1;
	return 0;
}

/* The value set a field's contents come from (vmx_values.def), or NULL. */
static const char *field_value_set(const struct vmx_bitfield_info *f, vmx_u64 value)
{
	if (!strcmp(f->name, "TYPE") && !strncmp(f->layout, "INTR_INFO_", 10))
		return "INTR_TYPE";
	if (!strcmp(f->name, "MEMORY_TYPE") && !strcmp(f->layout, "EPTP"))
		return "MEMORY_TYPE";
	if (!strcmp(f->name, "TYPE") && !strcmp(f->layout, "SEG_AR"))
		return VMX_BITS_GET(value, VMX_SEG_AR_S) ? "SEG_TYPE" : "SYSTEM_TYPE";
	return NULL;
}

static int cmd_layout(int argc, char **argv)
{
	vmx_u64 value = 0;
	int decode = argc == 3;
	unsigned i;

	need_args(argc, 1, 2, "layout", "LAYOUT [VALUE]");
	if (!layout_exists(argv[1]))
		bad_input("unknown layout '%s' (vmxinfo layouts lists them)", argv[1]);
	if (decode)
		value = parse_number(argv[2], ~0ull, "the value to decode");
	for (i = 0; i < VMX_BITFIELD_COUNT; i++) {
		const struct vmx_bitfield_info *f = &vmx_bitfield_table[i];
		vmx_u64 v = vmx_bitfield_value(f, value);
		const char *set, *name;

		if (!vmx_str_ieq(f->layout, argv[1]))
			continue;
		if (!decode) {
			if (f->lsb == f->msb)
				printf("bit %2u     %-26s %s\n", f->lsb, f->name, f->description);
			else
				printf("bits %2u:%-2u %-26s %s\n", f->msb, f->lsb, f->name, f->description);
			continue;
		}
		printf("%s: ", f->name);
		if (f->lsb == f->msb)
			printf("%s", v ? "yes" : "no");
		else
			printf("0x%llx", (unsigned long long)v);
		set = field_value_set(f, value);
		name = set ? vmx_value_name(set, v) : NULL;
		if (set)
			printf(" %s", name ? name : "(not a defined value)");
		printf("  (%s)\n", f->description);
	}
	return EXIT_FOUND;
}

static int cmd_layouts(int argc, char **argv)
{
	unsigned i, j, n;

	(void)argv;
	need_args(argc, 0, 0, "layouts", "");
	for (i = 0; i < VMX_BITFIELD_COUNT; i++) {
		const char *l = vmx_bitfield_table[i].layout;

		if (i > 0 && !strcmp(vmx_bitfield_table[i - 1].layout, l))
			continue;
		for (j = i, n = 0; j < VMX_BITFIELD_COUNT && !strcmp(vmx_bitfield_table[j].layout, l); j++)
			n++;
		printf("%-17s %u fields\n", l, n);
	}
	return EXIT_FOUND;
}

static int cmd_values(int argc, char **argv)
{
	unsigned i, n = 0;

	need_args(argc, 0, 1, "values", "[SET]");
	for (i = 0; i < VMX_VALUE_COUNT; i++) {
		const struct vmx_value_info *v = &vmx_value_table[i];

		if (argc == 2 && !vmx_str_ieq(v->set, argv[1]))
			continue;
		printf("%-19s %-30s 0x%-5x %s\n", v->set, v->name, v->value, v->description);
		n++;
	}
	if (n == 0)
		bad_input("unknown value set '%s' (vmxinfo values lists them all)", argv[1]);
	return EXIT_FOUND;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "field", cmd_field },   { "fields", cmd_fields },
	{ "msr", cmd_msr },       { "msrs", cmd_msrs },
	{ "exit", cmd_exit },     { "exits", cmd_exits },
	{ "error", cmd_error },   { "errors", cmd_errors },
	{ "layout", cmd_layout }, { "layouts", cmd_layouts },
	{ "values", cmd_values },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned i;
	int c;

	opterr = 0;
	/* '+': stop at the command; its own options are parsed by the command. */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(manual, stdout);
			return EXIT_FOUND;
		case 'V':
			printf("vmxinfo (vmxlab) %s: %u VMCS fields, %u MSRs, %u control bits, "
			       "%u exit reasons, %u VM-instruction errors, %u layout fields, "
			       "%u named values\n", VMXINFO_VERSION,
			       VMCS_FIELD_COUNT, VMX_MSR_COUNT, VMX_CONTROL_BIT_COUNT,
			       VMX_EXIT_REASON_COUNT, VMX_INSTRUCTION_ERROR_COUNT,
			       VMX_BITFIELD_COUNT, VMX_VALUE_COUNT);
			return EXIT_FOUND;
		default:
			bad_input("unknown option '%s' (see vmxinfo --help)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		bad_input("no command given (commands: field fields msr msrs exit exits error errors layout layouts values; see vmxinfo --help)");
	for (i = 0; i < VMX_ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].run(argc - optind, argv + optind);
	bad_input("unknown command '%s' (commands: field fields msr msrs exit exits error errors layout layouts values)",
		  argv[optind]);
}
