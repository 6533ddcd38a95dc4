/*
 * json.h - a streaming JSON writer into a capped buffer.
 *
 * Output is compact and deterministic: keys come out in the order they are
 * written.  Strings from the wire go through pb_json_str(), which escapes
 * control characters and turns every byte that is not part of valid UTF-8
 * into \u00XX (the byte's Latin-1 reading), so output is always valid JSON
 * and valid UTF-8.  Numbers are integers only; there is no NaN or Infinity.
 */
#ifndef PB_JSON_H
#define PB_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/buf.h"

struct pb_json {
	struct pb_buf *b;
	int comma;  /* a value was just completed: the next one needs ',' */
};

static inline void pb_json_init(struct pb_json *j, struct pb_buf *b)
{
	j->b = b;
	j->comma = 0;
}

/* The structural characters are inline: an event has dozens of them,
 * and a call each cost more than the byte it writes. */
static inline void pb_json_open_(struct pb_json *j, char ch)
{
	struct pb_buf *b = j->b;

	if (b->cap - b->len < 3 && pb_buf_grow(b, 3) < 0) {
		/* as the separate appends would: what fits goes */
		if (j->comma)
			pb_buf_addc(b, ',');
		pb_buf_addc(b, ch);
	} else {
		if (j->comma)
			b->data[b->len++] = ',';
		b->data[b->len++] = ch;
	}
	j->comma = 0;
}

static inline void pb_json_obj(struct pb_json *j)       /* { */
{
	pb_json_open_(j, '{');
}

static inline void pb_json_obj_end(struct pb_json *j)   /* } */
{
	pb_buf_addc(j->b, '}');
	j->comma = 1;
}

static inline void pb_json_arr(struct pb_json *j)       /* [ */
{
	pb_json_open_(j, '[');
}

static inline void pb_json_arr_end(struct pb_json *j)   /* ] */
{
	pb_buf_addc(j->b, ']');
	j->comma = 1;
}
/* "name": with a name that needs no escaping (a literal or a field name
 * from a table), n bytes long.  pb_json_key() takes a string literal. */
static inline void pb_json_keyn(struct pb_json *j, const char *name, size_t n)
{
	struct pb_buf *b = j->b;
	char *p;

	if (b->cap - b->len < n + 5 && pb_buf_grow(b, n + 5) < 0)
		return;
	p = b->data + b->len;
	if (j->comma)
		*p++ = ',';
	*p++ = '"';
	memcpy(p, name, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	b->len = (size_t)(p - b->data);
	j->comma = 0;
}
#define pb_json_key(j, lit) pb_json_keyn((j), "" lit "", sizeof(lit) - 1)
void pb_json_str(struct pb_json *j, const void *s, size_t n);
/* A string the caller formatted itself and knows needs no escaping
 * (printable ASCII without '"' or '\\'): written as it is. */
static inline void pb_json_ascii(struct pb_json *j, const char *s, size_t n)
{
	struct pb_buf *b = j->b;
	char *p;

	if (b->cap - b->len < n + 4 && pb_buf_grow(b, n + 4) < 0)
		return;
	p = b->data + b->len;
	if (j->comma)
		*p++ = ',';
	*p++ = '"';
	memcpy(p, s, n);
	p += n;
	*p++ = '"';
	b->len = (size_t)(p - b->data);
	j->comma = 1;
}
void pb_json_cstr(struct pb_json *j, const char *s);
void pb_json_u64(struct pb_json *j, uint64_t v);
void pb_json_i64(struct pb_json *j, int64_t v);
void pb_json_bool(struct pb_json *j, int v);
/* A value already formatted as JSON by the caller. */
void pb_json_raw(struct pb_json *j, const char *s, size_t n);
/* A string of base64 of n bytes. */
void pb_json_base64(struct pb_json *j, const void *p, size_t n);

/*
 * Direct writing, for a run of keys and values whose size has a known
 * bound: one room check for the run instead of one a piece.
 * pb_json_room() gives where at most n bytes may be written (NULL when
 * the buffer cannot grow that far: then the run is left out); the
 * pb_json_put*() helpers write there and return the next place;
 * pb_json_done() keeps what was written and says whether it ended with
 * a value (so the next one needs a ',').  Only bytes that need no
 * escaping may go this way: literals, numbers, formatted addresses.
 */
static inline char *pb_json_room(struct pb_json *j, size_t n)
{
	struct pb_buf *b = j->b;

	if (b->cap - b->len < n + 1 && pb_buf_grow(b, n + 1) < 0)
		return NULL;
	return b->data + b->len;
}

static inline void pb_json_done(struct pb_json *j, char *p, int comma)
{
	j->b->len = (size_t)(p - j->b->data);
	j->comma = comma;
}

/* The ',' a value or key needs after another value. */
static inline char *pb_json_put_sep(const struct pb_json *j, char *p)
{
	if (j->comma)
		*p++ = ',';
	return p;
}

static inline char *pb_json_put(char *p, const void *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}
#define pb_json_putlit(p, lit) pb_json_put((p), "" lit "", sizeof(lit) - 1)

/* v in decimal: at most 20 bytes. */
char *pb_json_put_u64(char *p, uint64_t v);
/* v in decimal, '-' first when negative: at most 20 bytes. */
static inline char *pb_json_put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return pb_json_put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return pb_json_put_u64(p, (uint64_t)v);
}
#define PB_JSON_U64_MAX 20

/* Escape s into b as the inside of a JSON string (no quotes). */
void pb_json_escape(struct pb_buf *b, const void *s, size_t n);

#endif
