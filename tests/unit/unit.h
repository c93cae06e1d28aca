/*
 * unit.h - helpers shared by the cmocka unit tests of the VMX fact lists:
 * a vmx_printer that captures text into a buffer (and refuses printf
 * conversions the kernel/bare-metal printers lack), and a regex check.
 *
 * Where it runs: host only (cmocka, POSIX regex).
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>
#include <cmocka.h>

#include "vmx/decode.h"

struct capture {
	char text[65536];
	size_t len;
	char bad_format[128];   /* first conversion outside the allowed set */
};

/*
 * The decoders may use only %s %c %d %u %x %llx %llu, flags '0' '-', a width
 * (decode.h). Returns 1 if `fmt` keeps to that, else 0 and the offender.
 */
static inline int format_is_portable(const char *fmt, char *bad, size_t badlen)
{
	const char *p = fmt;

	while ((p = strchr(p, '%')) != NULL) {
		const char *start = p++;

		if (*p == '%') {
			p++;
			continue;
		}
		while (*p == '0' || *p == '-')
			p++;
		while (*p >= '0' && *p <= '9')
			p++;
		if (strchr("scdux", *p) && *p) {
			p++;
			continue;
		}
		if (!strncmp(p, "llx", 3) || !strncmp(p, "llu", 3)) {
			p += 3;
			continue;
		}
		snprintf(bad, badlen, "%.*s", (int)(p - start + 1), start);
		return 0;
	}
	return 1;
}

static void capture_printf(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void capture_printf(void *ctx, const char *fmt, ...)
{
	struct capture *c = ctx;
	va_list ap;
	int n;

	/* the first offending conversion is remembered in bad_format */
	if (!c->bad_format[0])
		(void)format_is_portable(fmt, c->bad_format, sizeof(c->bad_format));
	va_start(ap, fmt);
	n = vsnprintf(c->text + c->len, sizeof(c->text) - c->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->len += (size_t)n < sizeof(c->text) - c->len ? (size_t)n : sizeof(c->text) - c->len - 1;
}

static inline struct vmx_printer capture_printer(struct capture *c)
{
	struct vmx_printer p = { capture_printf, c };

	memset(c, 0, sizeof(*c));
	return p;
}

/* Fail, showing the whole text, unless `pattern` (POSIX ERE, multi-line)
 * matches somewhere in it. */
#define assert_text_matches(cap, pattern) assert_text_((cap), (pattern), 1, __FILE__, __LINE__)
#define assert_text_lacks(cap, pattern)   assert_text_((cap), (pattern), 0, __FILE__, __LINE__)

static inline void assert_text_(const struct capture *c, const char *pattern, int want,
				 const char *file, int line)
{
	regex_t re;
	int found;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB) != 0)
		fail_msg("%s:%d: bad regex %s", file, line, pattern);
	found = regexec(&re, c->text, 0, NULL, 0) == 0;
	regfree(&re);
	if (c->bad_format[0])
		fail_msg("%s:%d: decoder used printf conversion '%s', which the kernel and "
			 "bare-metal printers may not support", file, line, c->bad_format);
	if (found != want)
		fail_msg("%s:%d: expected the output %s /%s/; output was:\n%s", file, line,
			 want ? "to match" : "not to match", pattern, c->text);
}

#endif /* UNIT_H */
