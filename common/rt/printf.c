/*
 * printf.c - formatted output for the bare-metal runtime.
 *
 * One formatter, rt_vformat(), sends each character to a callback; printf
 * sends them to COM1, snprintf into a buffer.  Supported: conversions
 * %s %c %d %i %u %x %X %p %%, length modifiers l ll z, flags '0' and '-',
 * a field width (digits or '*').  No precision, no floating point.
 */
#include "rt.h"
#include "rt_internal.h"

struct sink {
	rt_putc_fn out;
	void *ctx;
	int count;
};

static void emit(struct sink *s, char c)
{
	s->out(c, s->ctx);
	s->count++;
}

static void pad(struct sink *s, char c, int n)
{
	while (n-- > 0)
		emit(s, c);
}

/* Emit prefix + digits (or a string) in a field of `width`. */
static void field(struct sink *s, const char *prefix, const char *body, int len,
		  int width, int left, int zero)
{
	int plen = (int)strlen(prefix);
	int fill = width - plen - len;
	if (!left && !zero)
		pad(s, ' ', fill);
	while (*prefix)
		emit(s, *prefix++);
	if (!left && zero)
		pad(s, '0', fill);
	while (len--)
		emit(s, *body++);
	if (left)
		pad(s, ' ', fill);
}

/* Digits of v in base 10 or 16 into the end of buf; returns the first. */
static char *digits(char *end, unsigned long long v, unsigned base, int upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;
	do {
		*--p = set[v % base];
		v /= base;
	} while (v);
	return p;
}

int rt_vformat(rt_putc_fn out, void *ctx, const char *fmt, va_list ap)
{
	struct sink s = { out, ctx, 0 };
	char buf[24];
	char *end = buf + sizeof(buf);

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(&s, *fmt);
			continue;
		}
		fmt++;
		int left = 0, zero = 0, width = 0, lng = 0;
		for (;; fmt++) {
			if (*fmt == '-')
				left = 1;
			else if (*fmt == '0')
				zero = 1;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = 1;
				width = -width;
			}
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (left)
			zero = 0;
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		if (*fmt == 'z') {
			lng = 1;
			fmt++;
		}

		unsigned long long u;
		long long v;
		char *p;
		const char *str;
		char ch;
		switch (*fmt) {
		case 'd':
		case 'i':
			v = lng >= 2 ? va_arg(ap, long long)
			  : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
			u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
			p = digits(end, u, 10, 0);
			field(&s, v < 0 ? "-" : "", p, (int)(end - p), width, left, zero);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng >= 2 ? va_arg(ap, unsigned long long)
			  : lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			p = digits(end, u, *fmt == 'u' ? 10 : 16, *fmt == 'X');
			field(&s, "", p, (int)(end - p), width, left, zero);
			break;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			p = digits(end, u, 16, 0);
			while (end - p < 16)
				*--p = '0';
			field(&s, "0x", p, (int)(end - p), width, left, zero);
			break;
		case 'c':
			ch = (char)va_arg(ap, int);
			field(&s, "", &ch, 1, width, left, 0);
			break;
		case 's':
			str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			field(&s, "", str, (int)strlen(str), width, left, 0);
			break;
		case '%':
			emit(&s, '%');
			break;
		case '\0':
			fmt--;          /* a lone '%' at the end: stop at the NUL */
			break;
		default:                /* unknown: print it as written */
			emit(&s, '%');
			emit(&s, *fmt);
			break;
		}
	}
	return s.count;
}

int vprintf(const char *fmt, va_list ap)
{
	rt_console_begin();                     /* one call, one piece of output */
	int n = rt_vformat(rt_putc_serial_locked, NULL, fmt, ap);
	rt_console_end();
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

struct buffer {
	char *buf;
	size_t size, used;
};

static void buffer_putc(char c, void *ctx)
{
	struct buffer *b = ctx;
	if (b->used + 1 < b->size)
		b->buf[b->used] = c;
	b->used++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buffer b = { buf, size, 0 };
	int n = rt_vformat(buffer_putc, &b, fmt, ap);
	if (size)
		buf[b.used < size ? b.used : size - 1] = '\0';
	return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
