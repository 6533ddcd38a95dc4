/*
 * cursor.h - the bounds-checked byte cursor every parser reads through.
 *
 * A read past the end returns 0 and sets a sticky error, so a group of
 * reads is checked once at the end.  A length-prefixed part gets a
 * sub-cursor limited to its declared length (pb_cur_sub); the parent skips
 * the whole declared length whatever the child does.  Two failure kinds are
 * kept apart: PB_CUR_TRUNCATED (ran out of bytes) and PB_CUR_INVALID (the
 * bytes contradict the format), set by the parser with pb_cur_invalid().
 */
#ifndef PB_CURSOR_H
#define PB_CURSOR_H

#include <stddef.h>
#include <stdint.h>

enum { PB_CUR_OK = 0, PB_CUR_TRUNCATED = 1, PB_CUR_INVALID = 2 };

struct pb_cur {
	const uint8_t *start; /* first byte, for offsets */
	const uint8_t *pos;   /* next byte to read */
	const uint8_t *end;   /* one past the last readable byte */
	int err;              /* sticky: first failure wins */
};

static inline void pb_cur_init(struct pb_cur *c, const void *p, size_t n)
{
	c->start = c->pos = (const uint8_t *)p;
	c->end = c->start + n;
	c->err = PB_CUR_OK;
}

static inline size_t pb_cur_left(const struct pb_cur *c)
{
	return (size_t)(c->end - c->pos);
}

static inline size_t pb_cur_offset(const struct pb_cur *c)
{
	return (size_t)(c->pos - c->start);
}

static inline int pb_cur_ok(const struct pb_cur *c)
{
	return c->err == PB_CUR_OK;
}

/* Mark the input invalid (does not override an earlier failure). */
static inline void pb_cur_invalid(struct pb_cur *c)
{
	if (!c->err)
		c->err = PB_CUR_INVALID;
}

/* True when n more bytes can be read; otherwise sets TRUNCATED. */
static inline int pb_cur_has(struct pb_cur *c, size_t n)
{
	if (c->err)
		return 0;
	if (pb_cur_left(c) < n) {
		c->err = PB_CUR_TRUNCATED;
		return 0;
	}
	return 1;
}

/* Pointer to the next n bytes and advance, or NULL (and TRUNCATED). */
static inline const uint8_t *pb_cur_bytes(struct pb_cur *c, size_t n)
{
	const uint8_t *p;

	if (!pb_cur_has(c, n))
		return NULL;
	p = c->pos;
	c->pos += n;
	return p;
}

static inline void pb_cur_skip(struct pb_cur *c, size_t n)
{
	if (pb_cur_has(c, n))
		c->pos += n;
	else
		c->pos = c->end;
}

static inline uint8_t pb_cur_u8(struct pb_cur *c)
{
	return pb_cur_has(c, 1) ? *c->pos++ : 0;
}

static inline uint16_t pb_cur_be16(struct pb_cur *c)
{
	const uint8_t *p = pb_cur_bytes(c, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline uint32_t pb_cur_be24(struct pb_cur *c)
{
	const uint8_t *p = pb_cur_bytes(c, 3);
	return p ? (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2] : 0;
}

static inline uint32_t pb_cur_be32(struct pb_cur *c)
{
	const uint8_t *p = pb_cur_bytes(c, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		   (uint32_t)p[2] << 8 | p[3] : 0;
}

/* 64-bit reads take all 8 bytes or none, so a short read returns 0 and
 * consumes nothing, like the narrower readers. */
static inline uint64_t pb_cur_be64(struct pb_cur *c)
{
	const uint8_t *p = pb_cur_bytes(c, 8);
	return p ? (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
		   (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
		   (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
		   (uint64_t)p[6] << 8 | p[7] : 0;
}

static inline uint16_t pb_cur_le16(struct pb_cur *c)
{
	const uint8_t *p = pb_cur_bytes(c, 2);
	return p ? (uint16_t)(p[1] << 8 | p[0]) : 0;
}

static inline uint32_t pb_cur_le32(struct pb_cur *c)
{
	const uint8_t *p = pb_cur_bytes(c, 4);
	return p ? (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
		   (uint32_t)p[1] << 8 | p[0] : 0;
}

static inline uint64_t pb_cur_le64(struct pb_cur *c)
{
	const uint8_t *p = pb_cur_bytes(c, 8);
	return p ? (uint64_t)p[7] << 56 | (uint64_t)p[6] << 48 |
		   (uint64_t)p[5] << 40 | (uint64_t)p[4] << 32 |
		   (uint64_t)p[3] << 24 | (uint64_t)p[2] << 16 |
		   (uint64_t)p[1] << 8 | p[0] : 0;
}

/* Read 16/32 bits in the byte order a file declared (swap != 0: BE). */
static inline uint16_t pb_cur_u16o(struct pb_cur *c, int be)
{
	return be ? pb_cur_be16(c) : pb_cur_le16(c);
}

static inline uint32_t pb_cur_u32o(struct pb_cur *c, int be)
{
	return be ? pb_cur_be32(c) : pb_cur_le32(c);
}

/*
 * A child cursor over the next n bytes.  The parent always moves past the
 * n declared bytes; when fewer remain the child gets what there is and
 * starts TRUNCATED-aware (its reads fail at the real end), and the parent
 * is marked TRUNCATED.
 */
static inline struct pb_cur pb_cur_sub(struct pb_cur *c, size_t n)
{
	struct pb_cur s;
	size_t have = c->err ? 0 : pb_cur_left(c);

	if (have >= n) {
		pb_cur_init(&s, c->pos, n);
		c->pos += n;
	} else {
		pb_cur_init(&s, c->pos, have);
		c->pos = c->end;
		if (!c->err)
			c->err = PB_CUR_TRUNCATED;
	}
	return s;
}

#endif
