/*
 * doc.c - event fields, time, canonical text and id (see doc.h).
 */
#include "out/doc.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "pb.h"
#include "util/banned.h"

/* Nested first, then every way of splitting the rest of the path at a
 * dot: "a.b.c" is found as a{b{c}}, "a.b"{c}, a{"b.c"} or "a.b.c". */
static const cJSON *field_at(const cJSON *o, const char *path, size_t n)
{
	const cJSON *c;
	size_t i;

	if (!cJSON_IsObject(o))
		return NULL;
	for (c = o->child; c; c = c->next)
		if (c->string && !strncmp(c->string, path, n) && c->string[n] == '\0')
			return c;
	for (i = 0; i < n; i++) {
		if (path[i] != '.')
			continue;
		for (c = o->child; c; c = c->next) {
			if (c->string && strlen(c->string) == i &&
			    !memcmp(c->string, path, i) && cJSON_IsObject(c)) {
				const cJSON *v = field_at(c, path + i + 1, n - i - 1);

				if (v)
					return v;
			}
		}
	}
	return NULL;
}

const cJSON *pb_out_field_nested(const cJSON *root, const char *path)
{
	const cJSON *o = root;

	while (o) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		const cJSON *c;

		if (!cJSON_IsObject(o))
			return NULL;
		for (c = o->child; c; c = c->next)
			if (c->string && c->string[0] == path[0] &&
			    !strncmp(c->string, path, n) && c->string[n] == '\0')
				break;
		if (!c || !dot)
			return c;
		o = c;
		path = dot + 1;
	}
	return NULL;
}

const cJSON *pb_out_field(const cJSON *root, const char *path)
{
	const cJSON *v = pb_out_field_nested(root, path);

	return v ? v : field_at(root, path, strlen(path));
}

const char *pb_out_str(const cJSON *root, const char *path)
{
	const cJSON *v = pb_out_field(root, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int pb_out_int(const cJSON *root, const char *path, int64_t *v)
{
	return pb_out_json_int(pb_out_field(root, path), v);
}

int pb_out_json_int(const cJSON *f, int64_t *v)
{
	if (cJSON_IsNumber(f)) {
		double d = f->valuedouble;

		if (d < -9.2e18 || d > 9.2e18 || d != (double)(int64_t)d)
			return 0;
		*v = (int64_t)d;
		return 1;
	}
	if (cJSON_IsString(f) && f->valuestring[0]) {
		const char *s = f->valuestring;
		int64_t x = 0;
		int neg = *s == '-';

		if (neg)
			s++;
		if (!*s || strlen(s) > 18)
			return 0;
		for (; *s; s++) {
			if (*s < '0' || *s > '9')
				return 0;
			x = x * 10 + (*s - '0');
		}
		*v = neg ? -x : x;
		return 1;
	}
	return 0;
}

int pb_out_time(const cJSON *root, struct pb_time *t)
{
	const char *s = pb_out_str(root, "@timestamp");

	if (!s || pb_time_parse(s, strlen(s), t) < 0)
		return PB_EINVAL;
	return 0;
}

/* Is there a dotted key anywhere in v? */
static int has_dotted(const cJSON *v)
{
	const cJSON *c;

	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return 0;
	for (c = v->child; c; c = c->next) {
		if (c->string && strchr(c->string, '.'))
			return 1;
		if (has_dotted(c))
			return 1;
	}
	return 0;
}

/* Nest the dotted keys of object o, in place and keeping the order: the
 * first "a.b" becomes an object "a" where it stood (later "a.x" keys join
 * it).  A key whose prefix is already a non-object value stays dotted,
 * since nesting it would lose one of the two. */
static int nest(cJSON *o)
{
	cJSON *c, *next;

	if (cJSON_IsArray(o)) {
		for (c = o->child; c; c = c->next)
			if (nest(c) < 0)
				return PB_ENOMEM;
		return 0;
	}
	if (!cJSON_IsObject(o))
		return 0;
	for (c = o->child; c; c = next) {
		const char *dot;
		cJSON *parent = NULL, *p;
		char *rest;
		size_t plen;

		next = c->next;
		dot = c->string ? strchr(c->string, '.') : NULL;
		if (!dot || dot == c->string || !dot[1])
			continue;
		plen = (size_t)(dot - c->string);
		for (p = o->child; p; p = p->next)
			if (p != c && p->string && strlen(p->string) == plen &&
			    !memcmp(p->string, c->string, plen))
				break;
		if (p && !cJSON_IsObject(p))
			continue;
		rest = cJSON_malloc(strlen(dot + 1) + 1);
		if (!rest)
			return PB_ENOMEM;
		memcpy(rest, dot + 1, strlen(dot + 1) + 1);
		if (p) {
			parent = p;
		} else {
			char *name = cJSON_malloc(plen + 1);

			parent = cJSON_CreateObject();
			if (!parent || !name) {
				cJSON_free(rest);
				cJSON_free(name);
				cJSON_Delete(parent);
				return PB_ENOMEM;
			}
			memcpy(name, c->string, plen);
			name[plen] = '\0';
			parent->string = name;
			/* splice the new object in where c stands */
			parent->next = c;
			parent->prev = c->prev;
			if (o->child == c)
				o->child = parent;
			else
				c->prev->next = parent;
			c->prev = parent;
		}
		cJSON_DetachItemViaPointer(o, c);
		/* the key becomes a copy of rest (the old one is freed) */
		cJSON_AddItemToObject(parent, rest, c);
		cJSON_free(rest);
	}
	for (c = o->child; c; c = c->next)
		if (nest(c) < 0)
			return PB_ENOMEM;
	return 0;
}

int pb_out_canon(cJSON *obj, const char *text, size_t len, struct pb_buf *scratch,
		 const char **out, size_t *outlen)
{
	size_t i, start;
	int in_str = 0, ws = 0;

	pb_buf_clear(scratch);
	if (has_dotted(obj)) {
		char *s;

		if (nest(obj) < 0)
			return PB_ENOMEM;
		s = cJSON_PrintUnformatted(obj);
		if (!s)
			return PB_ENOMEM;
		if (pb_buf_adds(scratch, s) < 0) {
			cJSON_free(s);
			return PB_ENOMEM;
		}
		cJSON_free(s);
		*out = scratch->data;
		*outlen = scratch->len;
		return 0;
	}
	/* the line, less white space outside strings (and at its ends); a
	 * line with no white space at all (what pbtools writes, unless a
	 * string holds a space) is canonical as it is: found with memchr,
	 * without the byte loop */
	if (!memchr(text, ' ', len) && !memchr(text, '\t', len) &&
	    !memchr(text, '\r', len) && !memchr(text, '\n', len)) {
		*out = text;
		*outlen = len;
		return 0;
	}
	for (i = 0; i < len; i++) {
		char ch = text[i];

		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
		} else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			ws = 1;
			break;
		}
	}
	if (!ws) {
		*out = text;
		*outlen = len;
		return 0;
	}
	in_str = 0;
	for (i = start = 0; i < len; i++) {
		char ch = text[i];

		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
		} else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			if (i > start && pb_buf_add(scratch, text + start, i - start) < 0)
				return PB_ENOMEM;
			start = i + 1;
		}
	}
	if (len > start && pb_buf_add(scratch, text + start, len - start) < 0)
		return PB_ENOMEM;
	*out = scratch->data ? scratch->data : "";
	*outlen = scratch->len;
	return 0;
}

int pb_out_event_id(const char *canon, size_t len, char id[PB_OUT_ID_LEN + 1])
{
	static const char b64url[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	static __thread EVP_MD_CTX *ctx;
	static __thread EVP_MD *sha256;
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0, i, o = 0;

	/* one context and one fetched digest per thread: fetching per event
	 * costs more than hashing it */
	if (!ctx) {
		ctx = EVP_MD_CTX_new();
		sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
		if (!ctx || !sha256)
			return PB_ENOMEM;
	}
	if (!EVP_DigestInit_ex2(ctx, sha256, NULL) || !EVP_DigestUpdate(ctx, canon, len) ||
	    !EVP_DigestFinal_ex(ctx, dig, &dlen) || dlen < 16)
		return PB_ENOMEM;
	/* 16 bytes: five groups of three, and one byte left */
	for (i = 0; i + 3 <= 15; i += 3) {
		uint32_t v = (uint32_t)dig[i] << 16 | (uint32_t)dig[i + 1] << 8 | dig[i + 2];

		id[o++] = b64url[v >> 18 & 63];
		id[o++] = b64url[v >> 12 & 63];
		id[o++] = b64url[v >> 6 & 63];
		id[o++] = b64url[v & 63];
	}
	id[o++] = b64url[dig[15] >> 2];
	id[o++] = b64url[(dig[15] & 3) << 4];
	id[o] = '\0';
	return 0;
}
