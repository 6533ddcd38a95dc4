/*
 * buf.h - a growable byte buffer with a size cap.
 *
 * Every growable buffer in the engine has a maximum given when it is
 * created; appending past it fails with PB_ETOOBIG and leaves the buffer
 * as it was, so input can never make the process grow without bound.
 */
#ifndef PB_BUF_H
#define PB_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pb_buf {
	char *data;  /* NUL-terminated when len < cap */
	size_t len;
	size_t cap;
	size_t max;  /* hard cap on len */
};

void pb_buf_init(struct pb_buf *b, size_t max);
void pb_buf_release(struct pb_buf *b);
static inline void pb_buf_clear(struct pb_buf *b) { b->len = 0; }

/* Make room for n more bytes; 0 or PB_ETOOBIG / PB_ENOMEM. */
int pb_buf_grow(struct pb_buf *b, size_t n);

static inline int pb_buf_add(struct pb_buf *b, const void *p, size_t n)
{
	if (b->cap - b->len < n + 1 && pb_buf_grow(b, n + 1) < 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static inline int pb_buf_addc(struct pb_buf *b, char ch)
{
	if (b->cap - b->len < 2 && pb_buf_grow(b, 2) < 0)
		return -1;
	b->data[b->len++] = ch;
	return 0;
}

static inline int pb_buf_adds(struct pb_buf *b, const char *s)
{
	return pb_buf_add(b, s, strlen(s));
}

int pb_buf_addf(struct pb_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* NUL-terminate and return the contents. */
const char *pb_buf_cstr(struct pb_buf *b);

#endif
