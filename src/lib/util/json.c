/* json.c - streaming JSON writer with UTF-8 validation. */
#include "util/json.h"

#include "util/base64.h"
#include "util/banned.h"

static inline void sep(struct pb_json *j)
{
	if (j->comma)
		pb_buf_addc(j->b, ',');
}

void pb_json_obj(struct pb_json *j)
{
	sep(j);
	pb_buf_addc(j->b, '{');
	j->comma = 0;
}

void pb_json_obj_end(struct pb_json *j)
{
	pb_buf_addc(j->b, '}');
	j->comma = 1;
}

void pb_json_arr(struct pb_json *j)
{
	sep(j);
	pb_buf_addc(j->b, '[');
	j->comma = 0;
}

void pb_json_arr_end(struct pb_json *j)
{
	pb_buf_addc(j->b, ']');
	j->comma = 1;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	uint32_t cp;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* reject overlong forms, surrogates and values past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

void pb_json_escape(struct pb_buf *b, const void *sv, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *s = sv;
	size_t i = 0, run = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t ul;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80 && (ul = utf8_len(s + i, n - i)) > 0) {
			i += ul;
			continue;
		}
		pb_buf_add(b, s + run, i - run);
		switch (c) {
		case '"': pb_buf_add(b, "\\\"", 2); break;
		case '\\': pb_buf_add(b, "\\\\", 2); break;
		case '\n': pb_buf_add(b, "\\n", 2); break;
		case '\r': pb_buf_add(b, "\\r", 2); break;
		case '\t': pb_buf_add(b, "\\t", 2); break;
		default: {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			pb_buf_add(b, e, 6);
		}
		}
		i++;
		run = i;
	}
	pb_buf_add(b, s + run, n - run);
}

void pb_json_str(struct pb_json *j, const void *s, size_t n)
{
	sep(j);
	pb_buf_addc(j->b, '"');
	pb_json_escape(j->b, s, n);
	pb_buf_addc(j->b, '"');
	j->comma = 1;
}

void pb_json_cstr(struct pb_json *j, const char *s)
{
	pb_json_str(j, s, strlen(s));
}

void pb_json_u64(struct pb_json *j, uint64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char tmp[24];
	size_t i = sizeof(tmp), n;
	struct pb_buf *b = j->b;
	char *p;

	/* two digits per division */
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		tmp[--i] = pairs[r * 2 + 1];
		tmp[--i] = pairs[r * 2];
	}
	if (v >= 10) {
		tmp[--i] = pairs[v * 2 + 1];
		tmp[--i] = pairs[v * 2];
	} else {
		tmp[--i] = (char)('0' + v);
	}
	n = sizeof(tmp) - i;
	if (b->cap - b->len < n + 2 && pb_buf_grow(b, n + 2) < 0)
		return;
	p = b->data + b->len;
	if (j->comma)
		*p++ = ',';
	memcpy(p, tmp + i, n);
	b->len = (size_t)(p + n - b->data);
	j->comma = 1;
}

void pb_json_i64(struct pb_json *j, int64_t v)
{
	if (v < 0) {
		sep(j);
		pb_buf_addc(j->b, '-');
		j->comma = 0;
		pb_json_u64(j, (uint64_t)0 - (uint64_t)v);
	} else {
		pb_json_u64(j, (uint64_t)v);
	}
}

void pb_json_bool(struct pb_json *j, int v)
{
	sep(j);
	if (v)
		pb_buf_add(j->b, "true", 4);
	else
		pb_buf_add(j->b, "false", 5);
	j->comma = 1;
}

void pb_json_raw(struct pb_json *j, const char *s, size_t n)
{
	sep(j);
	pb_buf_add(j->b, s, n);
	j->comma = 1;
}

void pb_json_base64(struct pb_json *j, const void *p, size_t n)
{
	size_t out = pb_base64_enc_len(n);

	sep(j);
	pb_buf_addc(j->b, '"');
	if (pb_buf_grow(j->b, out + 1) == 0) {
		pb_base64_encode(j->b->data + j->b->len, p, n);
		j->b->len += out;
	}
	pb_buf_addc(j->b, '"');
	j->comma = 1;
}
