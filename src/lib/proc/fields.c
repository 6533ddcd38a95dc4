/*
 * fields.c - dotted field paths over cJSON events, and the event writer.
 *
 * "a.b.c" names {"a":{"b":{"c":1}}}, {"a.b":{"c":1}} and {"a.b.c":1}
 * alike: at each level a key matches when it is the whole rest of the
 * path, or a prefix of it that ends at a dot.  Beats expands dotted keys
 * when it decodes JSON; readers of NDJSON written by other tools must
 * take both forms, so the lookup does instead of rewriting every event.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc.h"
#include "util/json.h"
#include "util/banned.h"

/* The child of obj whose key is path itself (*rest set to "") or a
 * prefix of path ending at a dot (*rest after the dot), starting after
 * 'from' (NULL: the first). */
static cJSON *field_step(const cJSON *obj, const char *path, const char **rest,
			 cJSON *from)
{
	cJSON *k = from ? from->next : obj->child;

	/* one pass per key, no strlen: this runs for every field of every
	 * condition on every event */
	for (; k; k = k->next) {
		const char *s = k->string;
		size_t i = 0;

		if (!s || s[0] != path[0])
			continue;
		while (s[i] && s[i] == path[i])
			i++;
		if (s[i])
			continue;            /* the key is not a prefix of the path */
		if (path[i] == '\0') {
			*rest = path + i;
			return k;
		}
		if (path[i] == '.' && i > 0 && path[i + 1] != '\0') {
			*rest = path + i + 1;
			return k;
		}
	}
	return NULL;
}

/* Put v where k is, under k's key (cJSON's replace keeps no key). */
static int replace_item(cJSON *obj, cJSON *k, cJSON *v)
{
	char *key = strdup(k->string);

	if (!key) {
		cJSON_Delete(v);
		return -1;
	}
	if (!(v->type & cJSON_StringIsConst))
		free(v->string);
	v->type &= ~cJSON_StringIsConst;
	v->string = key;
	cJSON_ReplaceItemViaPointer(obj, k, v);
	return 0;
}

cJSON *pb_proc_field_get(const cJSON *ev, const char *path)
{
	cJSON *k = NULL;
	const char *rest;

	if (!ev || !cJSON_IsObject(ev) || !*path)
		return NULL;
	while ((k = field_step(ev, path, &rest, k)) != NULL) {
		cJSON *r;

		if (!*rest)
			return k;
		if (cJSON_IsObject(k) && (r = pb_proc_field_get(k, rest)) != NULL)
			return r;
	}
	return NULL;
}

int pb_proc_field_put(cJSON *ev, const char *path, cJSON *v)
{
	cJSON *k = NULL, *m;
	const char *rest, *dot;
	char seg[256];

	if (!v)
		return -1;
	if (!cJSON_IsObject(ev) || !*path) {
		cJSON_Delete(v);
		return -1;
	}
	/* an existing key for the whole rest, or an object on the way */
	while ((k = field_step(ev, path, &rest, k)) != NULL) {
		if (!*rest)
			return replace_item(ev, k, v);
		if (cJSON_IsObject(k))
			return pb_proc_field_put(k, rest, v);
		/* "a" holds a value where "a.b" needs an object: Beats
		 * fails here too (expected map) */
		cJSON_Delete(v);
		return -1;
	}
	dot = strchr(path, '.');
	if (!dot) {
		cJSON_AddItemToObject(ev, path, v);
		return 0;
	}
	if ((size_t)(dot - path) >= sizeof(seg) || dot == path) {
		cJSON_Delete(v);
		return -1;
	}
	memcpy(seg, path, (size_t)(dot - path));
	seg[dot - path] = '\0';
	m = cJSON_AddObjectToObject(ev, seg);
	if (!m) {
		cJSON_Delete(v);
		return -1;
	}
	return pb_proc_field_put(m, dot + 1, v);
}

cJSON *pb_proc_field_take(cJSON *ev, const char *path)
{
	cJSON *k = NULL;
	const char *rest;

	if (!ev || !cJSON_IsObject(ev) || !*path)
		return NULL;
	while ((k = field_step(ev, path, &rest, k)) != NULL) {
		cJSON *r;

		if (!*rest)
			return cJSON_DetachItemViaPointer(ev, k);
		if (cJSON_IsObject(k) && (r = pb_proc_field_take(k, rest)) != NULL)
			return r;
	}
	return NULL;
}

/* Numbers: integral values as integers (cJSON would print 1e+15 style
 * for some), others with the fewest digits that read back the same. */
static void write_number(struct pb_json *j, double d)
{
	char tmp[40];
	int prec;

	if (!isfinite(d)) {
		pb_json_raw(j, "null", 4);
		return;
	}
	if (d == floor(d) && fabs(d) < 9.2e18) {
		pb_json_i64(j, (int64_t)d);
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	pb_json_raw(j, tmp, strlen(tmp));
}

/* Room for n more bytes under the buffer's cap: the writer below drops
 * what does not fit, so an event too big for the cap is refused whole
 * rather than written cut. */
static int room(const struct pb_json *j, size_t n)
{
	return j->b->max - j->b->len > n + 8;
}

static int write_value(struct pb_json *j, const cJSON *v)
{
	const cJSON *k;
	size_t n;

	switch (v->type & 0xff) {
	case cJSON_False:
	case cJSON_True:
	case cJSON_NULL:
	case cJSON_Invalid:
	case cJSON_Number:
		if (!room(j, 40))
			return -1;
		if ((v->type & 0xff) == cJSON_Number)
			write_number(j, v->valuedouble);
		else if ((v->type & 0xff) == cJSON_False || (v->type & 0xff) == cJSON_True)
			pb_json_bool(j, (v->type & 0xff) == cJSON_True);
		else
			pb_json_raw(j, "null", 4);
		return 0;
	case cJSON_String:
		n = strlen(v->valuestring);
		if (!room(j, 6 * n))   /* every byte may become \u00XX */
			return -1;
		pb_json_str(j, v->valuestring, n);
		return 0;
	case cJSON_Raw:
		n = strlen(v->valuestring);
		if (!room(j, n))
			return -1;
		pb_json_raw(j, v->valuestring, n);
		return 0;
	case cJSON_Array:
		if (!room(j, 2))
			return -1;
		pb_json_arr(j);
		for (k = v->child; k; k = k->next)
			if (write_value(j, k) < 0)
				return -1;
		if (!room(j, 1))
			return -1;
		pb_json_arr_end(j);
		return 0;
	case cJSON_Object:
		if (!room(j, 2))
			return -1;
		pb_json_obj(j);
		for (k = v->child; k; k = k->next) {
			/* keys go through the escaper: they come from input */
			n = strlen(k->string);
			if (!room(j, 6 * n + 1))
				return -1;
			pb_json_str(j, k->string, n);
			pb_buf_addc(j->b, ':');
			j->comma = 0;
			if (write_value(j, k) < 0)
				return -1;
		}
		if (!room(j, 1))
			return -1;
		pb_json_obj_end(j);
		return 0;
	}
	return 0;
}

int pb_proc_write_json(struct pb_buf *b, const cJSON *ev)
{
	struct pb_json j;
	size_t start = b->len;

	pb_json_init(&j, b);
	if (write_value(&j, ev) < 0 || pb_buf_addc(b, '\n') < 0) {
		b->len = start;
		return -1;
	}
	return 0;
}
