/*
 * vm86_io.c - I/O-instruction VM exits: what the exit qualification says, and
 * a tiny emulated UART so the guest can still print when every port exits.
 *
 * Runs in: the bare-metal host, 64-bit ring 0, VMX root operation, after a
 * VM exit with basic reason IO_INSTRUCTION (30).
 *
 * When does IN/OUT exit (SDM vol. 3C 25.1.3)?  With "unconditional I/O
 * exiting" = 1 and "use I/O bitmaps" = 0, every one does.  With "use I/O
 * bitmaps" = 1, the access exits when any of its ports has a 1 in I/O bitmap
 * A (ports 0-0x7FFF) or B (0x8000-0xFFFF).  In virtual-8086 mode the CPU
 * first checks the TSS I/O permission bitmap; a port denied there raises
 * #GP in the guest instead of exiting (SDM 25.1.1: such faults come first).
 *
 * The exit qualification (SDM 27.2.1, table "Exit Qualification for I/O
 * Instructions") says which port, how many bytes, which direction, string or
 * not, REP or not, DX or immediate.  The
 * value of an OUT is in the guest's RAX (saved by vmm_entry.asm); an IN
 * returns its value by writing the guest's RAX.  VM exits are faults in the
 * instruction stream: GUEST_RIP still points at the IN/OUT, so the handler
 * advances it by the instruction length (SDM 27.2.4).
 *
 * The emulated UART: a write to the transmit holding register (THR) goes to
 * the real COM1, line by line (a guest line appears whole, after the exit
 * lines its bytes caused); a read of the line status register (LSR) says
 * "transmitter empty", so the guest never waits.
 */
#include "lab04.h"

/* The guest's current output line: the host prints it once complete, after
 * the exit line of the byte that completed it (256: room for the runtime's
 * exception report, about 150 characters, which lab05's guests print). */
static char line[256];
static unsigned line_len;
static int line_complete;

static void guest_byte(char c)
{
	if (c != '\n')
		line[line_len++] = c;
	if (c == '\n' || line_len == sizeof(line) - 1)
		line_complete = 1;
}

static void print_line_if_complete(void)
{
	if (!line_complete)
		return;
	line[line_len] = '\0';
	puts(line);
	line_len = 0;
	line_complete = 0;
}

void vm86_io_flush(void)
{
	if (line_len)
		line_complete = 1;
	print_line_if_complete();
}

int vm86_io_exit(const struct vmm_exit *e, struct vmm_gprs *g, struct vm86_io *io,
		 struct vm86_io_stats *st, int log)
{
	vmx_u64 q = e->qualification;

	/* TODO(lab04): decode the exit qualification into *io (SDM table
	 * "Exit Qualification for I/O Instructions"; the fields VMX_IO_QUAL_* of
	 * vmx/layouts.h, read with VMX_BITS_GET):
	 * port (bits 31:16), size in bytes (bits 2:0 hold size - 1), direction
	 * (bit 3: 1 = IN), string (bit 4), REP (bit 5), immediate operand (bit 6). */
	(void)q;
	io->port = 0; io->size = 1; io->in = 0;
	io->string = io->rep = io->immediate = 0;

	vmx_u32 size_mask = io->size == 4 ? 0xFFFFFFFFu : (1u << (8 * io->size)) - 1;
	if (io->string) {
		printf("exit: %s qualification 0x%llx port 0x%x string I/O (INS/OUTS): not emulated here, guest stopped\n",
		       vmm_exit_name(e->basic), (unsigned long long)q, io->port);
		return -1;
	}

	/* TODO(lab04): emulate COM1 for the guest, then resume it after the
	 * instruction.  OUT to COM1_BASE + UART_THR: pass the byte (AL) to
	 * guest_byte().  IN from COM1_BASE + UART_LSR: put UART_LSR_THRE |
	 * UART_LSR_TEMT into AL (keep the rest of RAX).  Any other port: an IN
	 * reads all ones, an OUT is dropped (count it in st->other).  Finally
	 * advance GUEST_RIP past the instruction (vmm_skip_instruction). */
	(void)st; (void)guest_byte;
	printf("io: TODO(lab04): the I/O exit handler is not written yet: guest stopped\n");
	return -1;

	/* One line per exit, the decoded qualification included; for IN the
	 * value is what the guest now has in AL/AX/EAX. */
	if (log)
		printf("exit: %s qualification 0x%llx port 0x%x %s size %u%s value 0x%llx\n",
		       vmm_exit_name(e->basic), (unsigned long long)q, io->port,
		       io->in ? "in" : "out", io->size, io->immediate ? " immediate" : "",
		       (unsigned long long)(g->rax & size_mask));
	print_line_if_complete();
	return 0;
}
