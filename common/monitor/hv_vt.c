/*
 * hv_vt.c - the hv module's VMX alternative ("vt"): VMX operation on this
 * vCPU, one VMCS per guest, the run loop, and every VM exit the monitor
 * handles (SDM vol. 3C, classic numbering: 24 (the VMCS), 25 (non-root
 * operation), 26 (VM entries), 27 (VM exits)). An "svm" alternative (AMD-V:
 * VMRUN, the VMCB, #VMEXIT codes) would provide mon_run_guests() the same
 * way, over the same guests, gphys and console.
 *
 * Runs in: the monitor (mon.h), on each vCPU.
 *
 * What the monitor gives every guest (guests.c builds them):
 *   - COM1: every port exits; THR and LSR go to lab04's vm86_io_exit (the
 *     student's lab04 module), which prints the guest's lines;
 *   - the A20 port (0x92) as a byte of its own; the emulator-exit ports end
 *     the guest, not the run;
 *   - CPUID with VMX hidden (leaf 1 ECX bit 5 = 0); CR4.VMXE reads 0 (CR4
 *     mask and shadow) and setting it raises #GP; RDMSR/WRMSR of anything
 *     but IA32_EFER raises #GP (the VMX MSRs and IA32_FEATURE_CONTROL
 *     among them); a VMX instruction raises #UD: a CPU without VMX;
 *   - CR0.PE and CR0.PG owned by the monitor (mask) so it sees, and
 *     reports, each mode change; EFER.LMA set as the CPU would.
 */
#include "mon.h"
#include "vmm/answers/answers.h"
#include "vmcheck/vmcheck.h"
#include "platform/uart.h"
#include "platform/emu_exit.h"
#include "lab04.h"
#include "guests/hypercall.h"

struct mon_guest *mon_guest;
MON_VMMADDR(mon_guest);
static uint64_t exit_tsc;               /* when the last handle_exit started */

/* lab03's vmxstep2.c: the HOST_* variables from the live registers (here:
 * the monitor's own GDT, IDT, TSS and page tables). */
void host_state_setup(void);

/* guests.c */
int guest_build(struct mon_guest *g);
void guest_ended(struct mon_guest *g);

enum {
	PORT_A20 = 0x92,                /* "fast A20" (system control port A) */
	A20_BIT = 0x02,
	VECTOR_UD = 6, VECTOR_GP = 13,
	MAX_EXITS = 2000000,            /* a guest that never stops is stopped */
};

STAT_DECLARE(guest_runs);
STAT_DECLARE(injected_events);
STAT_DECLARE(vmcalls);
STAT_DECLARE_ARRAY(io_by_port, STAT_IO_PORTS + 1);

void mon_guest_stop(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(mon_guest->stop_reason, sizeof(mon_guest->stop_reason), fmt, ap);
	va_end(ap);
	mon_guest->state = GUEST_STOPPED;
	printf("stopped: %s\n", mon_guest->stop_reason);
}

void mon_inject_exception(unsigned vector, int has_error_code, uint32_t error_code)
{
	vmx_u32 info = (vmx_u32)(VMX_BITS_PUT(VMX_INTR_INFO_ENTRY_VECTOR, vector) |
				 VMX_BITS_PUT(VMX_INTR_INFO_ENTRY_TYPE, VMX_INTR_TYPE_HARDWARE_EXCEPTION) |
				 VMX_BITS_PUT(VMX_INTR_INFO_ENTRY_DELIVER_ERROR_CODE, has_error_code != 0) |
				 VMX_BITS_MASK(VMX_INTR_INFO_ENTRY_VALID));

	vmcs_write32(VMCS_VM_ENTRY_INTERRUPTION_INFORMATION, info);
	if (has_error_code)
		vmcs_write32(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	STAT_INC(injected_events);
}

/* --- CPUID, MSRs, VMX instructions: a CPU without VMX --------------------- */

static void exit_cpuid(const struct vmm_exit *e)
{
	struct vmm_gprs *g = &mon_guest->gprs;
	struct cpuid_regs r = cpuid((uint32_t)g->rax, (uint32_t)g->rcx);

	if ((uint32_t)g->rax == CPUID_LEAF_FEATURES)
		r.ecx &= ~CPUID_1_ECX_VMX;      /* hide VMX (SDM 23.6) */
	g->rax = r.eax;
	g->rbx = r.ebx;
	g->rcx = r.ecx;
	g->rdx = r.edx;
	vmm_skip_instruction(e);
}

static void exit_msr(const struct vmm_exit *e)
{
	uint32_t msr = (uint32_t)mon_guest->gprs.rcx;

	/* The MSR bitmap lets IA32_EFER through; anything that exits is an
	 * MSR this virtual CPU does not have. */
	printf("monitor: %s of MSR 0x%x (%s): #GP, as on a CPU without it\n",
	       e->basic == VMX_EXIT_REASON_RDMSR ? "RDMSR" : "WRMSR", msr, vmm_msr_name(msr));
	mon_inject_exception(VECTOR_GP, 1, 0);
}

/* --- CR0 and CR4 -------------------------------------------------------- */

static void report_cr0(vmx_u64 old, vmx_u64 new)
{
	if ((old ^ new) & CPU_CR0_PE)
		printf("monitor: CR0.PE %u -> %u (%s)\n", (unsigned)!!(old & CPU_CR0_PE),
		       (unsigned)!!(new & CPU_CR0_PE), new & CPU_CR0_PE ? "protected mode" : "real mode");
	if ((old ^ new) & CPU_CR0_PG)
		printf("monitor: CR0.PG %u -> %u (paging %s)\n", (unsigned)!!(old & CPU_CR0_PG),
		       (unsigned)!!(new & CPU_CR0_PG), new & CPU_CR0_PG ? "on" : "off");
}

static void guest_write_cr0(vmx_u64 value)
{
	vmx_u64 old = mon_guest->cr0_view, efer = 0;
	vmx_u64 fixed0 = rdmsr(IA32_VMX_CR0_FIXED0), fixed1 = rdmsr(IA32_VMX_CR0_FIXED1);
	vmx_u32 entry = 0;

	/* With unrestricted guest, PE and PG are the guest's to clear
	 * (SDM 26.3.1.1); the other fixed bits stay as VMX demands. */
	fixed0 &= ~(CPU_CR0_PE | CPU_CR0_PG);
	report_cr0(old, value);
	mon_guest->cr0_view = value;
	vmcs_write_natural(VMCS_GUEST_CR0, (value | fixed0) & fixed1);
	vmcs_write_natural(VMCS_CR0_READ_SHADOW, value);

	/* CR0.PG with EFER.LME activates IA-32e mode: the CPU would set
	 * EFER.LMA; the monitor owns PG, so it does (SDM vol. 3A 9.8.5), and
	 * VM entry must then say "IA-32e mode guest" (SDM 26.3.1.1). */
	vmcs_read64(VMCS_GUEST_IA32_EFER, &efer);
	vmcs_read32(VMCS_VM_ENTRY_CONTROLS, &entry);
	int lma = (efer & CPU_EFER_LME) && (value & CPU_CR0_PG);
	if (lma != !!(efer & CPU_EFER_LMA)) {
		printf("monitor: EFER.LMA %u -> %u (%s)\n", (unsigned)!lma, (unsigned)lma,
		       lma ? "IA-32e mode: long mode" : "IA-32e mode off");
		efer = lma ? efer | CPU_EFER_LMA : efer & ~CPU_EFER_LMA;
		entry = lma ? entry | VMX_ENTRY_IA_32E_MODE_GUEST : entry & ~VMX_ENTRY_IA_32E_MODE_GUEST;
		vmcs_write64(VMCS_GUEST_IA32_EFER, efer);
		vmcs_write32(VMCS_VM_ENTRY_CONTROLS, entry);
	}
}

static void exit_cr(const struct vmm_exit *e)
{
	vmx_u64 q = e->qualification;
	unsigned cr = (unsigned)VMX_BITS_GET(q, VMX_CR_QUAL_CR_NUMBER);
	unsigned type = (unsigned)VMX_BITS_GET(q, VMX_CR_QUAL_ACCESS_TYPE);
	unsigned reg = (unsigned)VMX_BITS_GET(q, VMX_CR_QUAL_REGISTER);
	vmx_u64 value = 0;

	if (type == VMX_CR_ACCESS_MOV_TO_CR) {
		if (reg == 4)
			vmcs_read_natural(VMCS_GUEST_RSP, &value);
		else
			value = mon_guest->gprs.reg[reg];
	}
	if (type == VMX_CR_ACCESS_MOV_TO_CR && cr == 0) {
		guest_write_cr0(value);
	} else if (type == VMX_CR_ACCESS_LMSW) {
		/* LMSW writes CR0 bits 3:0 and cannot clear PE. */
		vmx_u64 src = VMX_BITS_GET(q, VMX_CR_QUAL_LMSW_SOURCE) & 0xF;
		guest_write_cr0((mon_guest->cr0_view & ~0xEull) | src | (mon_guest->cr0_view & CPU_CR0_PE));
	} else if (type == VMX_CR_ACCESS_MOV_TO_CR && cr == 4) {
		if (value & CPU_CR4_VMXE) {
			printf("monitor: MOV to CR4 sets VMXE: #GP, as on a CPU without VMX\n");
			mon_inject_exception(VECTOR_GP, 1, 0);
			return;
		}
		mon_guest->cr4_view = value;
		vmcs_write_natural(VMCS_GUEST_CR4, value | rdmsr(IA32_VMX_CR4_FIXED0));
		vmcs_write_natural(VMCS_CR4_READ_SHADOW, value);
	} else {
		mon_guest_stop("control-register access the monitor does not emulate (qualification 0x%llx)",
			       (unsigned long long)q);
		return;
	}
	vmm_skip_instruction(e);
}

/* --- I/O ---------------------------------------------------------------- */

static void exit_io(const struct vmm_exit *e)
{
	static struct vm86_io_stats io_stats;
	struct vmm_gprs *g = &mon_guest->gprs;
	vmx_u16 port = (vmx_u16)VMX_BITS_GET(e->qualification, VMX_IO_QUAL_PORT);
	int in = VMX_BITS_GET(e->qualification, VMX_IO_QUAL_DIRECTION_IN) != 0;
	struct vm86_io io;

	STAT_INC_AT(io_by_port, port < STAT_IO_PORTS ? port : STAT_IO_PORTS);
	if (port == PORT_QEMU_EXIT && !in) {
		mon_guest->exit_code = (uint32_t)(g->rax & 0xFF);
		printf("monitor: the guest wrote 0x%x to the emulator-exit port: guest ended\n",
		       mon_guest->exit_code);
		mon_guest->state = GUEST_ENDED;
		return;
	}
	if (port == PORT_BOCHS_SHUTDOWN && !in) {
		printf("monitor: the guest wrote to Bochs' shutdown port: guest ended\n");
		mon_guest->state = GUEST_ENDED;
		return;
	}
	if (port == PORT_A20) {
		if (in)
			g->rax = (g->rax & ~0xFFull) | mon_guest->a20_port;
		else
			mon_guest->a20_port = (uint8_t)g->rax;
		vmm_skip_instruction(e);
		return;
	}
	/* COM1's line control register is the monitor's to keep: while the
	 * guest has DLAB set (setting the baud rate, as the boot path's
	 * serial_init does), ports +0 and +1 are the divisor latch, not the
	 * transmit buffer: lab04's handler, written for a guest that only
	 * prints, would print the divisor bytes. */
	if (port == COM1_BASE + UART_LCR) {
		if (in)
			g->rax = (g->rax & ~0xFFull) | mon_guest->uart_lcr;
		else
			mon_guest->uart_lcr = (uint8_t)g->rax;
		vmm_skip_instruction(e);
		return;
	}
	if ((mon_guest->uart_lcr & UART_LCR_DLAB) && (port == COM1_BASE || port == COM1_BASE + 1)) {
		if (in)
			g->rax &= ~0xFFull;
		vmm_skip_instruction(e);
		return;
	}
	/* COM1 and everything else: lab04's handler (THR, LSR emulated; other
	 * ports read all ones, writes dropped). */
	if (vm86_io_exit(e, g, &io, &io_stats, 0) != 0)
		mon_guest_stop("lab04's vm86_io_exit could not emulate port 0x%x", port);
}

/* --- Events ------------------------------------------------------------- */

static void exit_exception(const struct vmm_exit *e)
{
	unsigned vector = (unsigned)VMX_BITS_GET(e->interruption_info, VMX_INTR_INFO_EXIT_VECTOR);

	if (mon_guest->kind == GUEST_VM86 && vector == VECTOR_GP &&
	    (e->guest_rip & 0xFFFF) == mon_guest->vm86_final_hlt) {
		printf("monitor: #GP at the guest's final hlt (CPL 3): guest ended\n");
		mon_guest->state = GUEST_ENDED;
		return;
	}
	mon_guest_stop("exception vector %u at rip 0x%llx (interruption info 0x%x)", vector,
		       (unsigned long long)e->guest_rip, e->interruption_info);
}

/* Inlined into the hot path of mon_exit_handler. */
static inline __attribute__((always_inline)) void exit_vmcall(const struct vmm_exit *e)
{
	struct vmm_gprs *g = &mon_guest->gprs;

	STAT_INC(vmcalls);
	if (g->rax == MON_HC_BENCH) {
		g->rax = 0;
		g->rcx = exit_tsc;
		mon_guest->bench_pending = 1;   /* RDX: set just before the entry */
	} else if (g->rax == MON_HC_NOP) {
		g->rax = 0;
	} else if (g->rax == MON_HC_STATS) {
#if MON_TEST_PANIC
		if (mon_vcpu == MON_TEST_PANIC - 1)
			Panic("test = panic%u: a panic on purpose, at guest %s's hypercall MON_HC_STATS (rip 0x%llx)",
			      mon_vcpu, mon_guest->name, (unsigned long long)e->guest_rip);
#endif
		g->rax = mon_statdump(MON_STATDUMP_VMCALL) == 0 ? 0 : 1;
		printf("monitor: hypercall: the guest asks for the counters: %s\n",
		       g->rax ? "none (stats = none)" : "dumped on COM2");
	} else if (g->rax == MON_HC_GIVE_BACK) {
		int r = gphys_give_back(g->rbx);
		printf("monitor: hypercall: the guest gives back page 0x%llx: %s\n",
		       (unsigned long long)g->rbx, r == 0 ? "unmapped" : "nothing mapped there");
		g->rax = r == 0 ? 0 : 1;
	} else {
		g->rax = ~0ull;
	}
	vmm_skip_instruction(e);
}

static void handle_exit(const struct vmm_exit *e)
{
	switch (e->basic) {
	case VMX_EXIT_REASON_EXCEPTION_OR_NMI:  exit_exception(e); break;
	case VMX_EXIT_REASON_CPUID:             exit_cpuid(e); break;
	case VMX_EXIT_REASON_RDMSR:
	case VMX_EXIT_REASON_WRMSR:             exit_msr(e); break;
	case VMX_EXIT_REASON_CONTROL_REGISTER_ACCESS: exit_cr(e); break;
	case VMX_EXIT_REASON_IO_INSTRUCTION:    exit_io(e); break;
	case VMX_EXIT_REASON_VMCALL:            exit_vmcall(e); break;
	case VMX_EXIT_REASON_EPT_VIOLATION:
	case VMX_EXIT_REASON_EPT_MISCONFIGURATION:
		gphys_exit(e);
		break;
	case VMX_EXIT_REASON_HLT:
		printf("monitor: HLT with nothing to wake the guest: guest ended\n");
		mon_guest->state = GUEST_ENDED;
		break;
	case VMX_EXIT_REASON_TRIPLE_FAULT:
		mon_guest_stop("triple fault at rip 0x%llx", (unsigned long long)e->guest_rip);
		break;
	case VMX_EXIT_REASON_VMCLEAR: case VMX_EXIT_REASON_VMLAUNCH: case VMX_EXIT_REASON_VMPTRLD:
	case VMX_EXIT_REASON_VMPTRST: case VMX_EXIT_REASON_VMREAD: case VMX_EXIT_REASON_VMRESUME:
	case VMX_EXIT_REASON_VMWRITE: case VMX_EXIT_REASON_VMXOFF: case VMX_EXIT_REASON_VMXON:
	case VMX_EXIT_REASON_INVEPT: case VMX_EXIT_REASON_INVVPID:
		printf("monitor: %s in the guest: #UD, as on a CPU without VMX\n", vmm_exit_name(e->basic));
		mon_inject_exception(VECTOR_UD, 0, 0);
		break;
	default:
		mon_guest_stop("unexpected VM exit %s (%u)", vmm_exit_name(e->basic), e->basic);
		break;
	}
}

/* --- Controls and the run ------------------------------------------------- */

/* One control word: the required bits adjusted to what this CPU allows
 * (vmxbase: lab03's adjust_control or the kit's), or a line naming the word
 * and the bits it cannot have. */
static int control(unsigned word, vmx_u64 required, vmx_u64 *value)
{
	if (vmxbase_adjust(word, required, 0, value) == 0)
		return 0;
	printf("monitor: the %s controls (%s) cannot have 0x%llx on this CPU: see %s's allowed-1 "
	       "settings (lab01's /proc/vmxmsrs decodes them)\n", vmx_control_word_table[word].name,
	       vmx_control_word_table[word].description, (unsigned long long)required,
	       vmm_msr_name(vmx_control_word_table[word].msr));
	return -1;
}

static int guest_controls(struct mon_guest *g)
{
	vmx_u64 pin, proc, proc2, exit, entry;
	int boot = g->kind == GUEST_BOOT;
	/* A boot guest reaches long mode: its EFER is saved and loaded at each
	 * exit and entry, the host's loaded at exit. A vm86 guest (CPL 3, no
	 * WRMSR) never changes EFER, and older CPUs (core2_penryn_t9600) lack
	 * these controls. */
	vmx_u64 efer_exit = boot ? VMX_EXIT_SAVE_IA32_EFER | VMX_EXIT_LOAD_IA32_EFER : 0;
	vmx_u64 efer_entry = boot ? VMX_ENTRY_LOAD_IA32_EFER : 0;

	if (control(VMX_WORD_PIN, 0, &pin) ||
	    control(VMX_WORD_PROC, VMX_PROC_HLT_EXITING | VMX_PROC_UNCONDITIONAL_IO_EXITING |
		    VMX_PROC_USE_MSR_BITMAPS | VMX_PROC_ACTIVATE_SECONDARY_CONTROLS, &proc) ||
	    control(VMX_WORD_PROC2, gphys_proc2(g) | (boot ? VMX_PROC2_UNRESTRICTED_GUEST : 0), &proc2) ||
	    control(VMX_WORD_EXIT, VMX_EXIT_HOST_ADDRESS_SPACE_SIZE | efer_exit, &exit) ||
	    control(VMX_WORD_ENTRY, efer_entry, &entry))
		return -1;
	/* CR3 load/store exiting: a guest with EPT owns its CR3 (the
	 * TRUE MSRs let these be 0). */
	proc &= ~(VMX_PROC_CR3_LOAD_EXITING | VMX_PROC_CR3_STORE_EXITING);
	vmcs_vars.PIN_BASED_VM_EXECUTION_CONTROLS = (vmx_u32)pin;
	vmcs_vars.PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS = (vmx_u32)proc;
	vmcs_vars.SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS = (vmx_u32)proc2;
	vmcs_vars.PRIMARY_VM_EXIT_CONTROLS = (vmx_u32)exit;
	vmcs_vars.VM_ENTRY_CONTROLS = (vmx_u32)entry;

	/* MSR bitmap (SDM 24.6.9): every MSR exits but IA32_EFER. Read bitmap
	 * for 0..1FFFH at 0, for C0000000H..C0001FFFH at 1024; write bitmaps
	 * at 2048 and 3072. */
	uint8_t *msr = mon_page();
	unsigned efer = RT_MSR_IA32_EFER - 0xC0000000u;
	memset(msr, 0xFF, MON_PAGE);
	msr[1024 + efer / 8] &= (uint8_t)~(1u << (efer % 8));
	msr[3072 + efer / 8] &= (uint8_t)~(1u << (efer % 8));
	vmcs_vars.MSR_BITMAPS_ADDRESS = (uintptr_t)msr;

	if (boot) {
		vmcs_vars.HOST_IA32_EFER = rdmsr(RT_MSR_IA32_EFER);
		vmcs_vars.GUEST_IA32_EFER = 0;
	}
	/* CR4.VMXE is the monitor's: the guest reads 0. */
	vmcs_vars.CR4_GUEST_HOST_MASK |= CPU_CR4_VMXE;
	return 0;
}

/* MON_HC_BENCH's marks (hypercall.h), in functions of their own so that
 * make bench's instruction trace tells them from the monitor's work. */
static __attribute__((noinline)) void bench_mark_exit(void)
{
	exit_tsc = rdtsc();
}

static __attribute__((noinline)) void bench_mark_entry(struct mon_guest *g, struct vmm_gprs *gprs)
{
	g->bench_pending = 0;
	gprs->rdx = rdtsc();
}

/* hv_vt_entry.asm */
int mon_vmentry(struct vmm_gprs *gprs, int launched);
int mon_exit_handler(struct vmm_gprs *gprs);

/* Every exit but the hot path's: the whole exit information, a failed VM
 * entry (a Panic), the first exit's "VMLAUNCH: ok", the handler. */
static __attribute__((noinline)) void exit_other(struct mon_guest *g)
{
	struct vmm_exit e;

	mon_check_other_panic();
	vmm_exit_read(&e);
	if (e.entry_failure) {
		/* The checks of SDM 26.3/26.4 failed, at VMLAUNCH or at a
		 * VMRESUME: the guest did not run. A failed VM entry is the
		 * monitor's bug, not the guest's: Panic (a core records it). */
		printf("%s: entry failed\n", g->launched ? "VMRESUME" : "VMLAUNCH");
		vmm_exit_print(&e);
		Panic("VM entry of guest %s failed: %s (the lines above say which check)", g->name,
		      vmm_exit_name(e.basic));
	}
	if (!g->launched) {
		printf("VMLAUNCH: ok\n");
		g->launched = 1;
	}
	STAT_INC_AT(exits_by_reason, e.basic < VMM_EXIT_REASON_LIMIT ? e.basic : 0);
	g->exits++;
	handle_exit(&e);
}

/* Every VM exit of the current guest, from hv_vt_entry.asm (mon_vmexit),
 * with the guest's registers saved in *gprs (mon_guest->gprs). Returns 1 to
 * resume the guest, 0 when it is done. The exit information is read as
 * needed: a VMCALL, the hot path (make bench measures it), needs only the
 * instruction's address and length. */
int mon_exit_handler(struct vmm_gprs *gprs)
{
	struct mon_guest *g = mon_guest;
	vmx_u32 reason = 0;

	vmcs_read32(VMCS_VM_EXIT_REASON, &reason);
	if (__builtin_expect(reason == VMX_EXIT_REASON_VMCALL && g->launched, 1)) {
		struct vmm_exit e;               /* only what exit_vmcall reads */

		e.basic = VMX_EXIT_REASON_VMCALL;
		if (gprs->rax == MON_HC_BENCH)
			bench_mark_exit();
		vmcs_read_natural(VMCS_GUEST_RIP, &e.guest_rip);
		vmcs_read32(VMCS_VM_EXIT_INSTRUCTION_LENGTH, &e.instruction_length);
		STAT_INC_AT(exits_by_reason, VMX_EXIT_REASON_VMCALL);
		g->exits++;
		exit_vmcall(&e);
	} else {
		exit_other(g);
	}
	if (g->state != GUEST_RUNNING)
		return 0;
	if (g->exits >= MAX_EXITS) {
		mon_guest_stop("%d VM exits and not done", MAX_EXITS);
		return 0;
	}
	gphys_before_entry();
	if (g->bench_pending)
		bench_mark_entry(g, gprs);
	return 1;
}

static void run_guest(struct mon_guest *g)
{
	mon_guest = g;
#if MON_STATS
	memcpy(g->exits_at_start, stat_exits_by_reason, sizeof(g->exits_at_start));
#endif
	mon_console_prefix(g->name);
	STAT_INC(guest_runs);
	memset(&vmcs_vars, 0, sizeof(vmcs_vars));
	g->vmcs = vmm_vmcs_alloc();
	if (vmm_vmcs_load(g->vmcs) != 0) {
		mon_guest_stop("VMCLEAR/VMPTRLD of its VMCS failed");
		goto out;
	}
	if (gphys_guest_init(g) != 0 || guest_build(g) != 0) {
		if (g->state == GUEST_RUNNING)
			mon_guest_stop("its memory could not be built");
		goto out;
	}
	host_state_setup();
	if (guest_controls(g) != 0) {
		mon_guest_stop("a control it needs is not allowed on this CPU (the line above names it)");
		goto out;
	}
	gphys_guest_vmcs(g);
	if (vmxbase_machine_load() != 0) {
		mon_guest_stop("the machine[] loop could not write the VMCS");
		goto out;
	}
	if (vmcheck_current_vmcs() != 0) {
		mon_guest_stop("the VM-entry checker refuses its VMCS (rules above, with their SDM sections)");
		goto out;
	}
	/* The guest runs until the exit handler (mon_exit_handler, called by
	 * hv_vt_entry.asm at each VM exit) says it is done; mon_vmentry
	 * returns then, or at once when VMLAUNCH/VMRESUME fails. */
	gphys_before_entry();
	int status = mon_vmentry(&g->gprs, g->launched);
	if (status == 3)
		Panic("VMWRITE of HOST_RSP or HOST_RIP failed for guest %s (hv_vt_entry.asm)", g->name);
	if (status != 0) {
		vmm_explain_status(g->launched ? "VMRESUME" : "VMLAUNCH",
				   status == 1 ? VMX_FAIL_INVALID : VMX_FAIL_VALID);
		Panic("%s of guest %s failed (VMfail%s; the line above says why)",
		      g->launched ? "VMRESUME" : "VMLAUNCH", g->name, status == 1 ? "Invalid" : "Valid");
	}
out:
	guest_ended(g);
	mon_console_prefix(NULL);
	mon_guest = NULL;
}

/* The config's guests (mon_config.h), both vCPUs' (per-vCPU .data: each
 * vCPU runs and updates its own). */
struct mon_guest mon_guests[] = {
#define MON_GUEST(vcpu, name_, kind_) { .name = name_, .kind = GUEST_##kind_, .index = vcpu },
	MON_GUEST_LIST(MON_GUEST)
#undef MON_GUEST
};
MON_VMMADDR(mon_guests);

void mon_run_guests(void)
{
	struct mon_guest *guests = mon_guests;
	unsigned n = 0, ran = 0;

	if (gphys_check() != 0) {
		printf("monitor: refused: gphys = %s needs what this CPU lacks (the line above); no guest runs\n",
		       gphys_name);
		mon_return(MON_RESULT_REFUSED);
	}
	for (unsigned i = 0; i < RT_ARRAY_SIZE(mon_guests); i++)
		if (guests[i].kind == GUEST_BOOT && MON_GPHYS_NONE) {
			printf("monitor: refused: guest %s starts in real mode, which needs unrestricted "
			       "guest and so EPT (SDM 26.2.1.1); gphys = none cannot run it\n", guests[i].name);
			mon_return(MON_RESULT_REFUSED);
		}
	if (vmxbase_vmxon() != 0) {
		printf("monitor: refused: VMXON by %s failed (the lines above say why)%s\n", vmxbase_source,
		       MON_VMXBASE_LAB03 ? "; to run lab05 before lab03 is done, choose the kit's: vmxbase = kit "
					   "in lab05-ept/monitor.cfg, or make run-lab05 VMXBASE=kit" : "");
		mon_return(MON_RESULT_REFUSED);
	}
	printf("monitor: VMXON done by %s\n", vmxbase_source);
	for (unsigned i = 0; i < RT_ARRAY_SIZE(mon_guests); i++) {
		/* The list's `index` field holds the vCPU until here. */
		if (guests[i].index != mon_vcpu)
			continue;
		guests[i].index = n++;
		mon_check_other_panic();
		run_guest(&guests[i]);
		ran++;
	}
	if (vmm_explain_status("VMXOFF", vmxoff()) == VMX_SUCCEED)
		printf("monitor: %u guests run, VMXOFF done, %llu pool pages used\n", ran,
		       (unsigned long long)mon_pages_used());
}
