/* buf.c - growable byte buffer with a size cap. */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "pb.h"
#include "util/banned.h"

void pb_buf_init(struct pb_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void pb_buf_release(struct pb_buf *b)
{
	free(b->data);
	pb_buf_init(b, b->max);
}

int pb_buf_grow(struct pb_buf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (n > b->max + 1 || b->len > b->max + 1 - n)
		return PB_ETOOBIG;
	want = b->len + n;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (!p)
		return PB_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int pb_buf_addf(struct pb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || pb_buf_grow(b, (size_t)n + 1) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *pb_buf_cstr(struct pb_buf *b)
{
	if (pb_buf_grow(b, 1) < 0)
		return "";
	b->data[b->len] = '\0';
	return b->data;
}
