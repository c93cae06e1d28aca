/*
 * vmx/types.h - fixed-size integers and a few string helpers for the VMX
 * fact headers (common/include/vmx/).
 *
 * Where it runs: everywhere. The same headers are compiled into the Linux
 * kernel modules (__KERNEL__), the host tools (hosted C) and the bare-metal
 * payloads (-ffreestanding). So nothing here includes a libc or kernel
 * header: the types are spelled with the C base types, whose sizes are fixed
 * on x86-64 by the System V ABI (and checked below).
 */
#ifndef VMX_TYPES_H
#define VMX_TYPES_H

typedef unsigned char      vmx_u8;
typedef unsigned short     vmx_u16;
typedef unsigned int       vmx_u32;
typedef unsigned long long vmx_u64;

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(vmx_u8) == 1 && sizeof(vmx_u16) == 2, "vmx_u8/vmx_u16 size");
_Static_assert(sizeof(vmx_u32) == 4 && sizeof(vmx_u64) == 8, "vmx_u32/vmx_u64 size");
#endif

#define VMX_NULL ((void *)0)
#define VMX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The fact tables are `static const` in headers: a file that includes a
 * header but uses only part of it must not get an "unused" warning. */
#define VMX_UNUSED __attribute__((unused))

/* ASCII upper case; enough for the names in the fact lists. */
static inline char vmx_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Case-insensitive string equality (1 if equal): names typed by a user. */
static inline int vmx_str_ieq(const char *a, const char *b)
{
	while (*a && vmx_upper(*a) == vmx_upper(*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

/* If `s` starts with `prefix` (case-insensitive), the rest of `s`; else `s`.
 * Lets a user type GUEST_RIP or VMCS_GUEST_RIP for the same field. */
static inline const char *vmx_skip_prefix(const char *s, const char *prefix)
{
	const char *p = s;

	while (*prefix && vmx_upper(*p) == vmx_upper(*prefix)) {
		p++;
		prefix++;
	}
	return *prefix == '\0' ? p : s;
}

#endif /* VMX_TYPES_H */
