/*
 * vmentry.h - shared between the VM-entry differential test's setup
 * (vmentry.c) and its breakages (cases.c).
 *
 * Runs in: bare metal, 64-bit ring 0, VMX root operation (tests/vmentry).
 */
#ifndef VMENTRY_H
#define VMENTRY_H

#include "rt.h"
#include "rt_vmx.h"
#include "vmx/controls.h"
#include "vmx/cpu_bits.h"
#include "vmx/fields.h"
#include "vmx/layouts.h"
#include "vmx/msrs.h"
#include "vmx/values.h"
#include "vmm/vmm.h"                /* common/vmm: VM entry/exit, machine[] */
#include "vmm/answers/answers.h"      /* the kit's VMXON and control adjustment */

/* Guest access rights (SDM 24.4.1, table "Format of Access Rights"), segment
 * types (SDM vol. 3A 3.4.5.1, 3.5) and selector bits: short names for the common/vmx lists
 * (vmx_layouts.def SEG_AR, SELECTOR; vmx_values.def SEG_TYPE, SYSTEM_TYPE). */
#define AR_TYPE_DATA_RW_ACCESSED   VMX_SEG_TYPE_DATA_RW_ACCESSED
#define AR_TYPE_CODE_XR_ACCESSED   VMX_SEG_TYPE_CODE_XR_ACCESSED
#define AR_TYPE_CODE_XRC_ACCESSED  VMX_SEG_TYPE_CODE_XRC_ACCESSED
#define AR_TYPE_TSS_AVAILABLE      VMX_SYSTEM_TYPE_TSS32_AVAILABLE
#define AR_TYPE_TSS_BUSY           VMX_SYSTEM_TYPE_TSS32_BUSY
#define AR_TYPE_LDT                VMX_SYSTEM_TYPE_LDT
#define AR_S                       VMX_BITS_MASK(VMX_SEG_AR_S)
#define AR_DPL(n)                  VMX_BITS_PUT(VMX_SEG_AR_DPL, n)
#define AR_P                       VMX_BITS_MASK(VMX_SEG_AR_P)
#define AR_L                       VMX_BITS_MASK(VMX_SEG_AR_L)
#define AR_DB                      VMX_BITS_MASK(VMX_SEG_AR_DB)
#define AR_G                       VMX_BITS_MASK(VMX_SEG_AR_G)
#define AR_UNUSABLE                VMX_BITS_MASK(VMX_SEG_AR_UNUSABLE)
#define AR_TYPE_MASK               VMX_BITS_MASK(VMX_SEG_AR_TYPE)
#define AR_TYPE_ACCESSED           VMX_BITS_MASK(VMX_SEG_TYPE_BITS_ACCESSED)
#define AR_CODE64  (AR_TYPE_CODE_XR_ACCESSED | AR_S | AR_P | AR_L | AR_G)
#define AR_DATA    (AR_TYPE_DATA_RW_ACCESSED | AR_S | AR_P | AR_DB | AR_G)
#define AR_TSS_BUSY (AR_TYPE_TSS_BUSY | AR_P)
#define AR_V86     VMX_V86_SEGMENT_ACCESS_RIGHTS   /* 0xF3 (SDM 26.3.1.2) */
#define SEL_TI     VMX_BITS_MASK(VMX_SELECTOR_TI)  /* selector: LDT */
#define TSS64_LIMIT 0x67                           /* 104-byte TSS (SDM 3A 7.7) */
#define V86_SELECTOR 0x1000                        /* the v8086 guest runs at 1000:0000 */
#define RFLAGS_FIXED1 VMX_BITS_MASK(VMX_RFLAGS_FIXED_1) /* RFLAGS bit 1 is always 1 */
#define DR7_INIT    0x400                          /* DR7 after reset: bit 10 is 1 */
#define NONCANONICAL 0x0000800000000000ull         /* bit 47 set, 63:48 clear */

/* What the breakages need to know about the machine and the valid VMCS. */
struct vmentry_env {
	uint64_t basic;                 /* IA32_VMX_BASIC */
	struct vmm_control_caps cap[VMX_WORD_COUNT];   /* allowed0/allowed1 of each word */
	uint64_t misc;                  /* IA32_VMX_MISC */
	unsigned int phys_bits;         /* MAXPHYADDR (CPUID.80000008H:EAX[7:0]) */
	uint64_t vmcs_phys;             /* the current VMCS */
	void *scratch;                  /* a zeroed 4-KiB page for bitmaps and MSR areas */
	void *zero_page;                /* a zeroed page: the virtual-8086 guest's CR3 */
};

extern struct vmentry_env env;

/* VMREAD/VMWRITE that stop the run with a message on failure (a breakage
 * that cannot be written would make the case meaningless). */
uint64_t vmentry_read(uint32_t field, const char *name);
void vmentry_write(uint32_t field, const char *name, uint64_t value);

/*
 * The typed form the cases use: the field by its SDM name, the width in the
 * macro's name, checked against the encoding at build time like rt_vmx.h's
 * vmcs_write16/32/64/_natural (VMCS_ASSERT_WIDTH):
 *     WR16(GUEST_CS_SELECTOR, RT_SEL_CODE64);     compiles
 *     WR32(GUEST_CS_SELECTOR, RT_SEL_CODE64);     does not: a 16-bit field
 * The whole value goes to VMWRITE, which keeps the field's width of it (SDM
 * 30.3); so a case's value is printed in full if the write fails.
 * SETn/CLRn read the field, set or clear `bits`, and write it back.
 */
#define VMENTRY_RD(W, field)                                                  \
	({                                                                    \
		VMCS_ASSERT_WIDTH(VMCS_##field, VMCS_WIDTH_##W);              \
		vmentry_read(VMCS_##field, #field);                           \
	})
#define VMENTRY_WR(W, field, value)                                           \
	({                                                                    \
		VMCS_ASSERT_WIDTH(VMCS_##field, VMCS_WIDTH_##W);              \
		vmentry_write(VMCS_##field, #field, (value));                 \
	})
#define RD16(field)                 VMENTRY_RD(16, field)
#define RD32(field)                 VMENTRY_RD(32, field)
#define RD64(field)                 VMENTRY_RD(64, field)
#define RD_NATURAL(field)           VMENTRY_RD(NATURAL, field)
#define WR16(field, value)          VMENTRY_WR(16, field, value)
#define WR32(field, value)          VMENTRY_WR(32, field, value)
#define WR64(field, value)          VMENTRY_WR(64, field, value)
#define WR_NATURAL(field, value)    VMENTRY_WR(NATURAL, field, value)
#define SET16(field, bits)          WR16(field, RD16(field) | (uint64_t)(bits))
#define SET32(field, bits)          WR32(field, RD32(field) | (uint64_t)(bits))
#define SET64(field, bits)          WR64(field, RD64(field) | (uint64_t)(bits))
#define SET_NATURAL(field, bits)    WR_NATURAL(field, RD_NATURAL(field) | (uint64_t)(bits))
#define CLR16(field, bits)          WR16(field, RD16(field) & ~(uint64_t)(bits))
#define CLR32(field, bits)          WR32(field, RD32(field) & ~(uint64_t)(bits))
#define CLR64(field, bits)          WR64(field, RD64(field) & ~(uint64_t)(bits))
#define CLR_NATURAL(field, bits)    WR_NATURAL(field, RD_NATURAL(field) & ~(uint64_t)(bits))

/* The control bit of `word` that must be 1 (allowed-0 setting 1), or that
 * must be 0 (allowed-1 setting 0); -1 when there is none. */
int vmentry_required1_bit(enum vmx_control_word word);
int vmentry_required0_bit(enum vmx_control_word word);

/* 1 if the CPU lets `mask` be 1 in control word `word` (0 if the word is absent). */
int vmentry_allowed(enum vmx_control_word word, uint64_t mask);

/* Turn the 64-bit guest of the valid VMCS into a virtual-8086 guest that
 * passes every check (lab04's rules). */
void vmentry_make_v86_guest(void);

/* Turn it into lab05's unrestricted real-mode guest (CR0.PE = PG = 0, EPT),
 * valid; or print why not on this CPU and return -1. */
int vmentry_make_real_mode_guest(void);

/* The breakages (cases.c): case 0 is "nothing broken". Each break_*()
 * returns 0 after changing the VMCS, or prints why it cannot apply on this
 * CPU and returns -1. */
struct vmentry_case {
	const char *name;
	const char *rule;
	const char *what;
	int (*apply)(void);
};
extern const struct vmentry_case vmentry_cases[];
extern const int vmentry_case_count;

/* Print `case: not applicable: <why>` and return -1. */
int vmentry_not_applicable(const char *why);

#endif /* VMENTRY_H */
