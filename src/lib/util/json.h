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

void pb_json_obj(struct pb_json *j);       /* { */
void pb_json_obj_end(struct pb_json *j);   /* } */
void pb_json_arr(struct pb_json *j);       /* [ */
void pb_json_arr_end(struct pb_json *j);   /* ] */
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

/* Escape s into b as the inside of a JSON string (no quotes). */
void pb_json_escape(struct pb_buf *b, const void *s, size_t n);

#endif
