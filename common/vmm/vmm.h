/*
 * vmm.h - the monitor pieces every bare-metal VMX lab shares (lab03, lab04,
 * lab05 to come): entering a guest and coming back, naming what came back,
 * the machine[] table of VMCS components and the read-back test of a loop
 * over it, VMCS regions, and the names of control words, their bits and
 * their capability MSRs. What lab03's students write (VMXON, control words
 * computed from the capability MSRs, the machine[] loop) is not here: the
 * kit's own versions are in answers/answers.h, for the labs after lab03.
 *
 * Runs in: 64-bit long mode, CPL 0, linked with the runtime
 * (common/include/rt.h); everything that executes a VMX instruction other
 * than VMXON runs in VMX root operation (after VMXON). Intel SDM vol. 3C,
 * classic numbering: chapter 24 (the VMCS), 26 (VM entries), 27 (VM
 * exits), 30 (VMX instructions), appendix A (capability MSRs).
 *
 * The pieces, and the file each one lives in:
 *
 *   vmm_entry.asm   vmm_enter / vmm_exit_entry: VMLAUNCH or VMRESUME, and the
 *                   HOST_RIP stub that saves the guest's general registers
 *   exit.c          vmm_run, vmm_run_to_exit (one trip of a run loop),
 *                   vmm_exit_read/print, vmm_explain_status, the
 *                   entry-failure explanation,
 *                   exit counts by reason
 *   controls.c      the names of control words, their bits and MSRs
 *   machine.c       struct vmcs_vars + machine[] (generated from
 *                   common/vmx/vmcs_fields.def), machine_get/_set/_find,
 *                   vmm_machine_readback (the read-back test of a loop)
 *   vmxon.c         vmm_vmcs_alloc, vmm_vmcs_load (VMCLEAR + VMPTRLD),
 *                   vmm_segment_from_gdt
 *   answers/        the kit's own answers to lab03's TODOs, for the labs
 *                   after it (answers/answers.h): vmm_vmxon, the control
 *                   adjustment (vmm_control_caps/_adjust/_print) and the
 *                   machine[] loop (vmm_machine_load); a lab03 grading
 *                   copy of the kit does not have them
 *
 * Every line these functions print follows the kit's `NAME: value` style
 * (docs/CONTRACTS.md), so tests and graders read them by regex.
 */
#ifndef VMM_VMM_H
#define VMM_VMM_H

#include "rt.h"
#include "rt_vmx.h"
#include "vmx/fields.h"
#include "vmx/controls.h"
#include "vmx/msrs.h"
#include "vmx/exit_reasons.h"
#include "vmx/errors.h"
#include "vmx/cpu_bits.h"
#include "vmx/layouts.h"
#include "vmx/values.h"

/* --- Guest general registers (vmm_entry.asm) ------------------------------ */

/*
 * The guest's general registers while the host runs. A VM exit saves only
 * RSP, RIP and RFLAGS into the VMCS (SDM 27.3); vmm_exit_entry saves the
 * rest here. The order is the x86 register number (RAX = 0 ... R15 = 15), so
 * an exit qualification naming "register n" (SDM 27.2.1, table "Exit
 * Qualification for Control-Register Accesses") reads gpr.reg[n]. reg[4]
 * (RSP) is unused: the guest's RSP is GUEST_RSP.
 */
struct vmm_gprs {
	union {
		vmx_u64 reg[16];
		struct {
			vmx_u64 rax, rcx, rdx, rbx, rsp_unused, rbp, rsi, rdi;
			vmx_u64 r8, r9, r10, r11, r12, r13, r14, r15;
		};
	};
};

/* vmm_entry.asm's offsets are register number * 8: keep the two in step. */
_Static_assert(sizeof(struct vmm_gprs) == 16 * 8, "struct vmm_gprs layout");
_Static_assert(__builtin_offsetof(struct vmm_gprs, rdi) == 7 * 8, "struct vmm_gprs layout");
_Static_assert(__builtin_offsetof(struct vmm_gprs, r15) == 15 * 8, "struct vmm_gprs layout");

/* Return values of vmm_enter (vmm_entry.asm). */
enum {
	VMM_ENTER_EXITED = 0,           /* the guest ran; a VM exit came back */
	VMM_ENTER_FAIL_INVALID = 1,     /* VMfailInvalid (CF = 1) */
	VMM_ENTER_FAIL_VALID = 2,       /* VMfailValid (ZF = 1) */
};

/* The assembly: see vmm_entry.asm for the stack picture. */
int vmm_enter(struct vmm_gprs *gprs, int resume);
void vmm_exit_entry(void);

/*
 * Run the guest of the current VMCS until its next VM exit: VMLAUNCH when
 * `launched` is 0, VMRESUME otherwise. Sets HOST_RSP itself; HOST_RIP must
 * be vmm_exit_entry (vmm_host_rip()). Returns VMX_SUCCEED after a VM exit
 * (the exit may still be an entry failure: check vmm_exit.entry_failure),
 * or the VMX status of the failed VMLAUNCH/VMRESUME.
 */
int vmm_run(struct vmm_gprs *gprs, int launched);

/* The value for HOST_RIP: the entry stub. */
static inline vmx_u64 vmm_host_rip(void)
{
	return (vmx_u64)(unsigned long)vmm_exit_entry;
}

/* --- VM exits and VMX instruction failures (exit.c) ----------------------- */

/* The VM-exit information fields a handler needs (SDM 24.9). */
struct vmm_exit {
	vmx_u32 reason;                 /* the whole exit-reason field */
	vmx_u32 basic;                  /* bits 15:0: the basic exit reason */
	int entry_failure;              /* bit 31: the VM entry failed */
	vmx_u64 qualification;          /* EXIT_QUALIFICATION */
	vmx_u32 instruction_length;     /* VM_EXIT_INSTRUCTION_LENGTH */
	vmx_u32 interruption_info;      /* VM_EXIT_INTERRUPTION_INFORMATION */
	vmx_u64 guest_rip;              /* GUEST_RIP at the exit */
};

/* Read the exit-information fields of the current VMCS. */
void vmm_exit_read(struct vmm_exit *e);

/*
 * Print one line per exit:
 *   exit: VMCALL qualification 0x0 rip 0x100fe7 length 3
 * and for an entry failure (reason bit 31) the explanation lines:
 *   exit: ENTRY_FAILURE_INVALID_GUEST_STATE (entry failure, reason 0x80000021) qualification 0x4
 *   entry failure: VM-entry failure due to invalid guest state
 *   entry failure qualification: 0x4 = VMCS_LINK_POINTER: Failure was due to an invalid VMCS link pointer
 *   entry failure: the guest did not run; its state is as written (SDM 26, "VM-entry failures ...")
 */
void vmm_exit_print(const struct vmm_exit *e);

/* The SDM name of a basic exit reason ("VMCALL"), or "UNKNOWN". */
const char *vmm_exit_name(vmx_u32 basic);

/*
 * One trip of a run loop: enter the guest (vmm_run: VMLAUNCH when *launched
 * is 0, VMRESUME otherwise) and say what came back.
 *   - VMLAUNCH/VMRESUME failed: vmm_explain_status's line; returns 0.
 *   - an entry failure (exit reason bit 31): `VMLAUNCH: entry failed` (or
 *     VMRESUME) and vmm_exit_print's explanation; returns 0.
 *   - a VM exit: *e filled (vmm_exit_read); after the first one, the line
 *     `VMLAUNCH: ok` and *launched = 1; returns 1.
 * The caller prints and handles a VM exit itself (vmm_exit_print, ...), so a
 * loop reads:
 *     while (vmm_run_to_exit(&gprs, &launched, &e)) { handle e; break or continue; }
 */
int vmm_run_to_exit(struct vmm_gprs *gprs, int *launched, struct vmm_exit *e);

/*
 * Exits counted by basic reason, for the summary a run prints at its end.
 * VMM_EXIT_REASON_LIMIT is one more than the largest basic reason of
 * common/vmx/vmx_exit_reasons.def (the size of a union with one member
 * char[number + 1] per listed reason); a larger reason counts as `other`.
 */
union vmm_exit_reason_sizes_ {
#define VMX_EXIT_REASON(name, number, desc) char name[(number) + 1];
#include "../vmx/vmx_exit_reasons.def"
#undef VMX_EXIT_REASON
};
#define VMM_EXIT_REASON_LIMIT sizeof(union vmm_exit_reason_sizes_)

struct vmm_exit_counts {
	unsigned long total;
	unsigned long by_reason[VMM_EXIT_REASON_LIMIT];
	unsigned long other;            /* basic reason >= VMM_EXIT_REASON_LIMIT */
};

/* Count one VM exit (not an entry failure) by its basic reason. */
void vmm_exit_count(struct vmm_exit_counts *c, const struct vmm_exit *e);

/*
 * The summary, one item per line, reasons in number order:
 *   exit count: HLT 1
 *   exit count: VMCALL 1
 *   exits: 2
 */
void vmm_exit_counts_print(const struct vmm_exit_counts *c);

/* GUEST_RIP += the exit's instruction length: resume after the instruction
 * that exited (VMCALL, HLT, CPUID, ...; SDM 27.2.4). Inline: it is on every
 * exit path of a monitor (lab05's VMCALL round trip is measured). */
static inline void vmm_skip_instruction(const struct vmm_exit *e)
{
	vmcs_write_natural(VMCS_GUEST_RIP, e->guest_rip + e->instruction_length);
}

/*
 * Explain a VMX instruction's status, one line:
 *   VMLAUNCH: VMfailValid, VM-instruction error 7: VM entry with invalid control field(s)
 *   VMPTRLD: VMfailInvalid (no current VMCS, or the operand is not a valid VMCS)
 * Prints nothing for VMX_SUCCEED. Returns `status`, so a caller can
 * `return vmm_explain_status("VMLAUNCH", vmlaunch());`.
 */
int vmm_explain_status(const char *instruction, int status);

/* The VM_INSTRUCTION_ERROR field of the current VMCS, and its SDM text. */
vmx_u32 vmm_instruction_error(void);
const char *vmm_instruction_error_text(vmx_u32 number);

/* The VM-instruction error of a VMREAD/VMWRITE to a component this CPU
 * model lacks (VMX_ERROR_VMREAD_VMWRITE_UNSUPPORTED_COMPONENT, 12). */
static inline vmx_u32 vmm_error_unsupported_component(void)
{
	return VMX_ERROR_VMREAD_VMWRITE_UNSUPPORTED_COMPONENT;
}

/* --- Control words from capability MSRs (controls.c) ---------------------- */

/*
 * What the CPU allows for one control word (SDM appendix A.3-A.5):
 * a bit set in allowed0 must be 1, a bit clear in allowed1 must be 0.
 * `msr` is the MSR the bounds came from: the TRUE_ one when IA32_VMX_BASIC
 * bit 55 (TRUE_CONTROLS) is set and the word has one, else the classic one;
 * `msr_value` is what RDMSR returned. `available` is 0 when the word does
 * not exist on this CPU (PROC2 without "activate secondary controls"
 * allowed-1, PROC3 and EXIT2 likewise). lab03's adjust_control fills one
 * (vmxstep3.c); so does vmm_control_caps (answers/answers.h).
 */
struct vmm_control_caps {
	int available;
	vmx_u32 msr;
	vmx_u64 msr_value;
	vmx_u64 allowed0;
	vmx_u64 allowed1;
};

/* Computing them (vmm_control_caps, vmm_control_adjust, vmm_control_print)
 * is lab03's work: the kit's own versions are in vmm/answers/answers.h. */

/* The name of a control word ("PIN") and of a bit in it ("HLT_EXITING", or
 * NULL), and of a capability MSR ("IA32_VMX_TRUE_PINBASED_CTLS", or "?"). */
const char *vmm_control_word_name(unsigned word);
const char *vmm_control_bit_name(unsigned word, unsigned bit);
const char *vmm_msr_name(vmx_u32 msr);

/* --- machine[]: one memory variable per VMCS component (machine.c) -------- */

/*
 * struct vmcs_vars has one member per VMCS field of the SDM, named as the
 * field and typed by its width: vmcs_vars.GUEST_CS_SELECTOR is a vmx_u16,
 * vmcs_vars.GUEST_RIP a vmx_u64 (natural width is 64 bits on this host).
 * Generated from common/vmx/vmcs_fields.def; nothing is typed twice.
 */
typedef vmx_u16 vmcs_var_16;
typedef vmx_u32 vmcs_var_32;
typedef vmx_u64 vmcs_var_64;
typedef vmx_u64 vmcs_var_NATURAL;

struct vmcs_vars {
#define VMCS_FIELD(name, enc, width, group, desc) vmcs_var_##width name;
#include "../vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* The program's one set of VMCS variables: lab code fills it in, the
 * machine[] loop copies it into the current VMCS. */
extern struct vmcs_vars vmcs_vars;

/* One machine[] entry: a VMCS component and the variable that holds it. */
struct machine_entry {
	vmx_u32 encoding;               /* VMREAD/VMWRITE operand (SDM 24.11.2) */
	vmx_u8 width;                   /* enum vmcs_width: encoding bits 14:13 */
	vmx_u8 group;                   /* enum vmcs_group: encoding bits 11:10 */
	void *variable;                 /* &vmcs_vars.NAME */
	const char *name;               /* "GUEST_RIP" */
};

extern const struct machine_entry machine[];
extern const unsigned machine_count;

/* The variable of entry e as a 64-bit value, whatever its width, and back. */
vmx_u64 machine_get(const struct machine_entry *e);
void machine_set(const struct machine_entry *e, vmx_u64 value);

/* The machine[] entry of an encoding, or NULL. */
const struct machine_entry *machine_find(vmx_u32 encoding);

/*
 * The read-back test of a machine[] loop, on the current VMCS (use a
 * scratch VMCS: it overwrites everything). Skips the components the CPU
 * lacks (their VMREAD fails: error 12) and the read-only ones (VM-exit
 * information: a loop never writes them); puts a distinct cookie in the
 * variable of every other component and 0 in the skipped ones, calls LOAD
 * (the loop under test, e.g. lab03's machine_load or vmm_machine_load: it
 * must VMWRITE every writable component from its variable and return 0),
 * then VMREADs each tested component back (a 64-bit one also through its
 * high-half encoding) and compares. Prints one line per skipped component:
 *   machine[] skip: NAME (error E)          VMREAD failed, VM-instruction error E
 *                                           (12: the CPU lacks the component)
 *   machine[] skip: NAME (VMfailInvalid)    VMREAD failed: no current VMCS
 *   machine[] skip: NAME (read-only)        VM-exit information
 * then whatever LOAD prints, then one line per mismatch:
 *   machine[] mismatch: NAME wrote 0x... read 0x...
 *   machine[] mismatch: NAME high half read 0x..., want 0x...
 * then two summaries:
 *   machine[] skipped: U not supported by this CPU (VM-instruction error 12), R read-only (VM-exit information)
 *   machine[] read-back: N fields ok, M skipped, K mismatched
 * where M = U + R. When LOAD returns non-zero, the one line after its own is
 *   machine[] read-back: the loop under test failed (returned S); nothing compared
 * Leaves every vmcs_vars variable 0. Returns K, or -1 when LOAD failed.
 */
int vmm_machine_readback(int (*load)(void));

/* --- VMX operation (vmxon.c) ---------------------------------------------- */

/* Entering VMX operation (VMXON) is lab03's work: the kit's own version,
 * vmm_vmxon, is in vmm/answers/answers.h. */

/* A zeroed 4 KiB VMCS region with the revision id written, ready for
 * VMCLEAR (or, before VMXON, to serve as the VMXON region). */
void *vmm_vmcs_alloc(void);

/* VMCLEAR + VMPTRLD of `vmcs` (virtual = physical here). 0 or -1 (explained). */
int vmm_vmcs_load(void *vmcs);

/* --- Segment access rights (SDM 24.4.1, table "Format of Access Rights") -- */

/*
 * The VMCS access-rights format is the descriptor's bits 47:40 (type, S,
 * DPL, P) in bits 7:0 and bits 55:52 (AVL, L, D/B, G) in bits 15:12, plus
 * one bit that no descriptor has: bit 16 "segment unusable". The positions
 * come from the SEG_AR layout of common/vmx/vmx_layouts.def.
 */
#define VMM_AR_TYPE_MASK        ((vmx_u32)VMX_BITS_MASK(VMX_SEG_AR_TYPE))
#define VMM_AR_S                ((vmx_u32)VMX_BITS_MASK(VMX_SEG_AR_S))
#define VMM_AR_DPL_SHIFT        VMX_SEG_AR_DPL_LSB
#define VMM_AR_P                ((vmx_u32)VMX_BITS_MASK(VMX_SEG_AR_P))
#define VMM_AR_L                ((vmx_u32)VMX_BITS_MASK(VMX_SEG_AR_L))
#define VMM_AR_DB               ((vmx_u32)VMX_BITS_MASK(VMX_SEG_AR_DB))
#define VMM_AR_G                ((vmx_u32)VMX_BITS_MASK(VMX_SEG_AR_G))
#define VMM_AR_UNUSABLE         ((vmx_u32)VMX_BITS_MASK(VMX_SEG_AR_UNUSABLE))
/* Every bit the format defines (a CPU need not keep the reserved ones). */
#define VMM_AR_DEFINED_BITS     ((vmx_u32)~(VMX_BITS_MASK(VMX_SEG_AR_RESERVED_11_8) | \
					    VMX_BITS_MASK(VMX_SEG_AR_RESERVED_31_17)))

/* Load one guest segment register into vmcs_vars (the machine[] loop writes
 * it): its four VMCS fields by their SDM names, GUEST_<seg>_SELECTOR, _BASE,
 * _LIMIT and _ACCESS_RIGHTS (SDM 24.4.1). */
#define VMM_SET_GUEST_SEGMENT(seg, sel, base_, limit_, ar)        \
	do {                                                      \
		vmcs_vars.GUEST_##seg##_SELECTOR = (sel);         \
		vmcs_vars.GUEST_##seg##_BASE = (base_);           \
		vmcs_vars.GUEST_##seg##_LIMIT = (limit_);         \
		vmcs_vars.GUEST_##seg##_ACCESS_RIGHTS = (ar);     \
	} while (0)

/* Access rights, base and limit of a GDT descriptor, in VMCS form. */
struct vmm_segment {
	vmx_u16 selector;
	vmx_u64 base;
	vmx_u32 limit;                  /* in bytes - 1 (G already applied) */
	vmx_u32 access_rights;
};

/* Read descriptor `selector` from the GDT at gdt_base (64-bit system
 * descriptors, such as the TSS, take two slots and have a 64-bit base). */
void vmm_segment_from_gdt(vmx_u64 gdt_base, vmx_u16 selector, struct vmm_segment *s);

#endif /* VMM_VMM_H */
