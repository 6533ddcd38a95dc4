/* json.c - streaming JSON writer with UTF-8 validation. */
#include "util/json.h"

#include "util/base64.h"
#include "util/banned.h"

static inline void sep(struct pb_json *j)
{
	if (j->comma)
		pb_buf_addc(j->b, ',');
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

/* 1 for the bytes written as they are: printable ASCII and DEL, but not
 * '"' or '\\'.  A table, as every string byte of every event is looked
 * up. */
#define R4(v) v, v, v, v
#define R16(v) R4(v), R4(v), R4(v), R4(v)
static const uint8_t json_plain[256] = {
	R16(0), R16(0),                                  /* 0x00 - 0x1f */
	1, 1, 0, R4(1), R4(1), R4(1), 1,                 /* 0x20 - 0x2f: '"' */
	R16(1),                                          /* 0x30 - 0x3f */
	R16(1),                                          /* 0x40 - 0x4f */
	R4(1), R4(1), R4(1), 0, 1, 1, 1,                 /* 0x50 - 0x5f: '\\' */
	R16(1), R16(1),                                  /* 0x60 - 0x7f */
	/* 0x80 - 0xff: 0, UTF-8 is checked apart */
};
#undef R16
#undef R4

/* How many bytes from s need no escaping. */
static inline size_t plain_run(const uint8_t *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	size_t i = 0;

	/* eight bytes at a time while none is below 0x20, '"', '\\' or
	 * above 0x7f: a byte below 0x20 borrows into its top bit, '"' and
	 * '\\' become zero bytes that do, the others have it set.  A borrow
	 * carried into the next byte only comes from a byte that matched
	 * itself, so the test is exact for the word; the bytes then tell
	 * where. */
	while (n - i >= 8) {
		uint64_t x, t;

		memcpy(&x, s + i, 8);
		t = (x - ones * 0x20) | ((x ^ ones * '"') - ones) | ((x ^ ones * '\\') - ones) | x;
		if (t & high)
			break;
		i += 8;
	}
	while (i < n && json_plain[s[i]])
		i++;
	return i;
}

void pb_json_escape(struct pb_buf *b, const void *sv, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *s = sv;
	size_t i = 0, run = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t ul;

		if (json_plain[c]) {
			i += 1 + plain_run(s + i + 1, n - i - 1);
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
	struct pb_buf *b = j->b;

	/* the common case, a string with nothing to escape: one copy */
	if (plain_run(s, n) == n &&
	    (b->cap - b->len >= n + 4 || pb_buf_grow(b, n + 4) == 0)) {
		char *p = b->data + b->len;

		if (j->comma)
			*p++ = ',';
		*p++ = '"';
		memcpy(p, s, n);
		p += n;
		*p++ = '"';
		b->len = (size_t)(p - b->data);
		j->comma = 1;
		return;
	}
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

static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

char *pb_json_put_u64(char *p, uint64_t v)
{
	char *e;
	uint32_t w;
	int n;

	/* the small values (counts, ids) first */
	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	if (v < 100) {
		memcpy(p, digit_pairs + v * 2, 2);
		return p + 2;
	}
	if (v > UINT32_MAX) {
		/* the low 8 digits at a time, then the rest (32-bit arithmetic
		 * for each part is cheaper than 64-bit) */
		char *q = pb_json_put_u64(p, v / 100000000);
		uint32_t lo = (uint32_t)(v % 100000000);
		int k;

		for (k = 6; k >= 0; k -= 2) {
			memcpy(q + k, digit_pairs + (lo % 100) * 2, 2);
			lo /= 100;
		}
		return q + 8;
	}
	/* the number of digits, then two at a time from the end */
	w = (uint32_t)v;
	n = w < 1000 ? 3 : w < 10000 ? 4 : w < 100000 ? 5 : w < 1000000 ? 6 :
	    w < 10000000 ? 7 : w < 100000000 ? 8 : w < 1000000000 ? 9 : 10;
	e = p + n;
	p = e;
	while (w >= 100) {
		p -= 2;
		memcpy(p, digit_pairs + (w % 100) * 2, 2);
		w /= 100;
	}
	if (w >= 10)
		memcpy(p - 2, digit_pairs + w * 2, 2);
	else
		p[-1] = (char)('0' + w);
	return e;
}

void pb_json_u64(struct pb_json *j, uint64_t v)
{
	char *p = pb_json_room(j, PB_JSON_U64_MAX + 1);

	if (!p)
		return;
	p = pb_json_put_sep(j, p);
	pb_json_done(j, pb_json_put_u64(p, v), 1);
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
