/*
 * check_util.c - util/buf.h, util/json.h, util/base64.h, util/time.h and
 * util/community_id.h.
 */
#include <arpa/inet.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/community_id.h"
#include "util/json.h"
#include "util/time.h"

/* ---- buf ---- */

START_TEST(test_buf_basic)
{
	struct pb_buf b;

	pb_buf_init(&b, 1024);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(pb_buf_cstr(&b), "");
	ck_assert_int_eq(pb_buf_adds(&b, "abc"), 0);
	ck_assert_int_eq(pb_buf_addc(&b, '-'), 0);
	ck_assert_int_eq(pb_buf_add(&b, "xyz", 2), 0);
	ck_assert_int_eq(pb_buf_addf(&b, "%d/%s", 42, "q"), 0);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(pb_buf_cstr(&b), "abc-xy42/q");
	ck_assert_uint_eq(b.len, 10); /* cstr does not count the NUL */
	pb_buf_clear(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(pb_buf_cstr(&b), "");
	pb_buf_release(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.max, 1024);
}
END_TEST

START_TEST(test_buf_cap)
{
	struct pb_buf b;
	char big[600];

	pb_buf_init(&b, 8);
	/* exactly the cap fits */
	ck_assert_int_eq(pb_buf_adds(&b, "12345678"), 0);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_uint_le(b.cap, 9);
	/* one more byte, by every route, fails and changes nothing */
	ck_assert_int_lt(pb_buf_addc(&b, 'x'), 0);
	ck_assert_int_lt(pb_buf_add(&b, "x", 1), 0);
	ck_assert_int_lt(pb_buf_addf(&b, "%c", 'x'), 0);
	ck_assert_int_eq(pb_buf_grow(&b, 2), PB_ETOOBIG);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_mem_eq(b.data, "12345678", 8);
	ck_assert_str_eq(pb_buf_cstr(&b), "12345678");
	/* nothing added is still fine */
	ck_assert_int_eq(pb_buf_add(&b, "", 0), 0);
	pb_buf_release(&b);

	/* a partial append past the cap is all or nothing */
	pb_buf_init(&b, 8);
	ck_assert_int_eq(pb_buf_adds(&b, "abcde"), 0);
	ck_assert_int_lt(pb_buf_adds(&b, "fghi"), 0);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_str_eq(pb_buf_cstr(&b), "abcde");
	ck_assert_int_lt(pb_buf_addf(&b, "%s", "1234"), 0);
	ck_assert_str_eq(pb_buf_cstr(&b), "abcde");
	ck_assert_int_eq(pb_buf_addf(&b, "%s", "123"), 0);
	ck_assert_str_eq(pb_buf_cstr(&b), "abcde123");
	pb_buf_release(&b);

	/* growing past the first allocation, then hitting the cap */
	memset(big, 'z', sizeof(big));
	pb_buf_init(&b, 1000);
	ck_assert_int_eq(pb_buf_add(&b, big, sizeof(big)), 0);
	ck_assert_int_lt(pb_buf_add(&b, big, 401), 0);
	ck_assert_uint_eq(b.len, 600);
	ck_assert_int_eq(pb_buf_add(&b, big, 400), 0);
	ck_assert_uint_eq(b.len, 1000);
	ck_assert_uint_le(b.cap, 1001);
	ck_assert_int_eq(b.data[999], 'z');
	/* a huge request does not wrap around */
	ck_assert_int_eq(pb_buf_grow(&b, SIZE_MAX), PB_ETOOBIG);
	ck_assert_uint_eq(b.len, 1000);
	pb_buf_release(&b);
}
END_TEST

/* ---- json ---- */

static const char *esc(struct pb_buf *b, const void *s, size_t n)
{
	pb_buf_clear(b);
	pb_json_escape(b, s, n);
	return pb_buf_cstr(b);
}

/* Every output must parse as JSON and be valid UTF-8 (cJSON checks the
 * syntax; the escaping test checks the bytes). */
static void assert_json(const char *s)
{
	cJSON *j = cJSON_Parse(s);

	ck_assert_msg(j != NULL, "not valid JSON: %s", s);
	cJSON_Delete(j);
}

START_TEST(test_json_escape_ascii)
{
	struct pb_buf b;

	pb_buf_init(&b, 4096);
	ck_assert_str_eq(esc(&b, "plain text", 10), "plain text");
	ck_assert_str_eq(esc(&b, "a\"b\\c", 5), "a\\\"b\\\\c");
	ck_assert_str_eq(esc(&b, "\n\r\t", 3), "\\n\\r\\t");
	ck_assert_str_eq(esc(&b, "\x01\x1f\b\f", 4), "\\u0001\\u001f\\u0008\\u000c");
	/* NUL is a byte like the others */
	ck_assert_str_eq(esc(&b, "a\0b", 3), "a\\u0000b");
	/* DEL and '/' need no escape in JSON */
	ck_assert_str_eq(esc(&b, "\x7f/", 2), "\x7f/");
	ck_assert_str_eq(esc(&b, "", 0), "");
	pb_buf_release(&b);
}
END_TEST

START_TEST(test_json_escape_utf8)
{
	struct pb_buf b;

	pb_buf_init(&b, 4096);
	/* valid sequences of 2, 3 and 4 bytes stay as they are */
	ck_assert_str_eq(esc(&b, "caf\xc3\xa9", 5), "caf\xc3\xa9");
	ck_assert_str_eq(esc(&b, "\xe2\x82\xac", 3), "\xe2\x82\xac");
	ck_assert_str_eq(esc(&b, "\xf0\x9f\x98\x80!", 5), "\xf0\x9f\x98\x80!");
	ck_assert_str_eq(esc(&b, "\xf4\x8f\xbf\xbf", 4), "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
	ck_assert_str_eq(esc(&b, "\xed\x9f\xbf", 3), "\xed\x9f\xbf");         /* U+D7FF */
	/* stray continuation and bytes never valid */
	ck_assert_str_eq(esc(&b, "\x80", 1), "\\u0080");
	ck_assert_str_eq(esc(&b, "a\xffz", 3), "a\\u00ffz");
	ck_assert_str_eq(esc(&b, "\xfe", 1), "\\u00fe");
	/* overlong forms */
	ck_assert_str_eq(esc(&b, "\xc0\xaf", 2), "\\u00c0\\u00af");
	ck_assert_str_eq(esc(&b, "\xc1\xbf", 2), "\\u00c1\\u00bf");
	ck_assert_str_eq(esc(&b, "\xe0\x80\xaf", 3), "\\u00e0\\u0080\\u00af");
	ck_assert_str_eq(esc(&b, "\xf0\x8f\xbf\xbf", 4),
			 "\\u00f0\\u008f\\u00bf\\u00bf");
	/* UTF-16 surrogates encoded in UTF-8 (CESU) */
	ck_assert_str_eq(esc(&b, "\xed\xa0\x80", 3), "\\u00ed\\u00a0\\u0080");
	ck_assert_str_eq(esc(&b, "\xed\xbf\xbf", 3), "\\u00ed\\u00bf\\u00bf");
	/* past U+10FFFF */
	ck_assert_str_eq(esc(&b, "\xf4\x90\x80\x80", 4),
			 "\\u00f4\\u0090\\u0080\\u0080");
	ck_assert_str_eq(esc(&b, "\xf5\x80\x80\x80", 4),
			 "\\u00f5\\u0080\\u0080\\u0080");
	/* a sequence cut by the end of the string, or by an ASCII byte */
	ck_assert_str_eq(esc(&b, "x\xe2\x82", 3), "x\\u00e2\\u0082");
	ck_assert_str_eq(esc(&b, "\xc3" "A", 2), "\\u00c3A");
	/* the escaped result is valid JSON and decodes to the Latin-1 reading */
	{
		cJSON *j;

		pb_buf_clear(&b);
		pb_buf_addc(&b, '"');
		pb_json_escape(&b, "\xe9t\xc3\xa9", 4);
		pb_buf_addc(&b, '"');
		j = cJSON_Parse(pb_buf_cstr(&b));
		ck_assert_ptr_nonnull(j);
		ck_assert_str_eq(j->valuestring, "\xc3\xa9t\xc3\xa9");
		cJSON_Delete(j);
	}
	pb_buf_release(&b);
}
END_TEST

START_TEST(test_json_structure)
{
	struct pb_buf b;
	struct pb_json j;
	static const char expect[] =
		"{\"a\":1,\"b\":[1,\"two\",{\"c\":true,\"d\":false},[],{}],"
		"\"e\":{\"f\":{\"g\":[[1,2],[3]]},\"h\":-5},\"i\":\"q\\\"\","
		"\"r\":{\"x\":1},\"z\":\"Zm9vYg==\"}";

	pb_buf_init(&b, 4096);
	pb_json_init(&j, &b);
	pb_json_obj(&j);
	pb_json_key(&j, "a");
	pb_json_u64(&j, 1);
	pb_json_key(&j, "b");
	pb_json_arr(&j);
	pb_json_u64(&j, 1);
	pb_json_cstr(&j, "two");
	pb_json_obj(&j);
	pb_json_key(&j, "c");
	pb_json_bool(&j, 1);
	pb_json_key(&j, "d");
	pb_json_bool(&j, 0);
	pb_json_obj_end(&j);
	pb_json_arr(&j);
	pb_json_arr_end(&j);
	pb_json_obj(&j);
	pb_json_obj_end(&j);
	pb_json_arr_end(&j);
	pb_json_key(&j, "e");
	pb_json_obj(&j);
	pb_json_key(&j, "f");
	pb_json_obj(&j);
	pb_json_key(&j, "g");
	pb_json_arr(&j);
	pb_json_arr(&j);
	pb_json_u64(&j, 1);
	pb_json_u64(&j, 2);
	pb_json_arr_end(&j);
	pb_json_arr(&j);
	pb_json_u64(&j, 3);
	pb_json_arr_end(&j);
	pb_json_arr_end(&j);
	pb_json_obj_end(&j);
	pb_json_key(&j, "h");
	pb_json_i64(&j, -5);
	pb_json_obj_end(&j);
	pb_json_key(&j, "i");
	pb_json_str(&j, "q\"", 2);
	pb_json_key(&j, "r");
	pb_json_raw(&j, "{\"x\":1}", 7);
	pb_json_keyn(&j, "zz", 1);
	pb_json_base64(&j, "foob", 4);
	pb_json_obj_end(&j);
	ck_assert_str_eq(pb_buf_cstr(&b), expect);
	assert_json(pb_buf_cstr(&b));
	pb_buf_release(&b);
}
END_TEST

START_TEST(test_json_numbers)
{
	struct pb_buf b;
	struct pb_json j;

	pb_buf_init(&b, 4096);
	pb_json_init(&j, &b);
	pb_json_arr(&j);
	pb_json_u64(&j, 0);
	pb_json_u64(&j, 9);
	pb_json_u64(&j, 10);
	pb_json_u64(&j, 99);
	pb_json_u64(&j, 100);
	pb_json_u64(&j, 1000000007);
	pb_json_u64(&j, UINT64_MAX);
	pb_json_i64(&j, 0);
	pb_json_i64(&j, -1);
	pb_json_i64(&j, -10);
	pb_json_i64(&j, INT64_MAX);
	pb_json_i64(&j, INT64_MIN);
	pb_json_i64(&j, -2);
	pb_json_arr_end(&j);
	ck_assert_str_eq(pb_buf_cstr(&b),
			 "[0,9,10,99,100,1000000007,18446744073709551615,0,-1,-10,"
			 "9223372036854775807,-9223372036854775808,-2]");
	assert_json(pb_buf_cstr(&b));
	pb_buf_release(&b);
}
END_TEST

START_TEST(test_json_cap)
{
	struct pb_buf b;
	struct pb_json j;
	size_t before;

	/* a capped buffer truncates output but never overflows */
	pb_buf_init(&b, 16);
	pb_json_init(&j, &b);
	pb_json_obj(&j);
	pb_json_key(&j, "abcdef");
	pb_json_str(&j, "0123456789", 10);
	ck_assert_uint_le(b.len, 16);
	before = b.len;
	pb_json_u64(&j, UINT64_MAX);
	pb_json_key(&j, "a_much_longer_key_than_fits");
	ck_assert_uint_eq(b.len, before);
	ck_assert_uint_le(b.len, 16);
	pb_buf_release(&b);
}
END_TEST

/* ---- base64 ---- */

static const struct {
	const char *plain, *enc;
} b64_vectors[] = { /* RFC 4648 section 10 */
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

START_TEST(test_base64_encode)
{
	const char *plain = b64_vectors[_i].plain, *enc = b64_vectors[_i].enc;
	char out[16];
	size_t n = strlen(plain);

	memset(out, '#', sizeof(out));
	ck_assert_uint_eq(pb_base64_enc_len(n), strlen(enc));
	pb_base64_encode(out, plain, n);
	ck_assert_mem_eq(out, enc, strlen(enc));
	ck_assert_int_eq(out[strlen(enc)], '#'); /* no NUL, nothing more */
}
END_TEST

START_TEST(test_base64_decode)
{
	const char *plain = b64_vectors[_i].plain, *enc = b64_vectors[_i].enc;
	uint8_t out[16];
	long n = pb_base64_decode(out, enc, strlen(enc));

	ck_assert_int_eq(n, (long)strlen(plain));
	ck_assert_mem_eq(out, plain, (size_t)n);
}
END_TEST

START_TEST(test_base64_binary)
{
	uint8_t in[256], out[256];
	char enc[344];
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(255 - i);
	pb_base64_encode(enc, in, sizeof(in));
	ck_assert_uint_eq(pb_base64_enc_len(256), 344);
	ck_assert_int_eq(pb_base64_decode(out, enc, 344), 256);
	ck_assert_mem_eq(out, in, 256);
	/* the high alphabet */
	{
		static const uint8_t x[3] = { 0xfb, 0xff, 0xbf };
		char e[4];

		pb_base64_encode(e, x, 3);
		ck_assert_mem_eq(e, "+/+/", 4);
	}
}
END_TEST

START_TEST(test_base64_reject)
{
	static const char *const bad[] = {
		"Zg",        /* length not a multiple of 4 */
		"Zg=",
		"Zm9vY",
		"Zm9v!A==",  /* bad characters */
		"Zm 9",
		"Zm9-",
		"Zm9_",
		"Zm\n9v",
		"Z===",      /* bad padding */
		"====",
		"Zg=A",
		"=Zm9",
		"Zg==Zm9v",  /* padding in the middle */
		"Zm8=Zm8=",
	};
	uint8_t out[16];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pb_base64_decode(out, bad[i], strlen(bad[i])) == -1,
			      "'%s' was accepted", bad[i]);
	/* an embedded NUL is a bad character too */
	ck_assert_int_eq(pb_base64_decode(out, "Zm\0v", 4), -1);
}
END_TEST

/* ---- time ---- */

static const char *fmt(int64_t sec, uint32_t nsec, uint8_t prec)
{
	static char out[PB_TIME_MAXLEN];
	struct pb_time t = { sec, nsec, prec };
	size_t n = pb_time_format(out, &t);

	ck_assert_uint_eq(n, strlen(out));
	return out;
}

START_TEST(test_time_format)
{
	ck_assert_str_eq(fmt(0, 0, 6), "1970-01-01T00:00:00.000000Z");
	ck_assert_str_eq(fmt(1700000000, 123456789, 6), "2023-11-14T22:13:20.123456Z");
	ck_assert_str_eq(fmt(1700000000, 123456789, 9), "2023-11-14T22:13:20.123456789Z");
	ck_assert_str_eq(fmt(1700000000, 1000, 9), "2023-11-14T22:13:20.000001000Z");
	ck_assert_str_eq(fmt(1700000000, 999999999, 6), "2023-11-14T22:13:20.999999Z");
	ck_assert_str_eq(fmt(1700000000, 5000, 0), "2023-11-14T22:13:20Z");
	ck_assert_str_eq(fmt(1700000000, 120000000, 3), "2023-11-14T22:13:20.120Z");
	/* before and after 2000 */
	ck_assert_str_eq(fmt(946684799, 999999000, 6), "1999-12-31T23:59:59.999999Z");
	ck_assert_str_eq(fmt(946684800, 0, 6), "2000-01-01T00:00:00.000000Z");
	ck_assert_str_eq(fmt(951782400, 0, 9), "2000-02-29T00:00:00.000000000Z");
	ck_assert_str_eq(fmt(-1, 500000000, 6), "1969-12-31T23:59:59.500000Z");
	ck_assert_str_eq(fmt(-2203848000, 0, 6), "1900-03-01T12:00:00.000000Z");
	ck_assert_str_eq(fmt(1795946645, 123456000, 6), "2026-11-29T10:04:05.123456Z");
	/* the leap day and the days around it */
	ck_assert_str_eq(fmt(1709164800, 0, 6), "2024-02-29T00:00:00.000000Z");
	ck_assert_str_eq(fmt(1709251199, 0, 6), "2024-02-29T23:59:59.000000Z");
	ck_assert_str_eq(fmt(1709251200, 0, 6), "2024-03-01T00:00:00.000000Z");
	ck_assert_str_eq(fmt(1709164799, 0, 6), "2024-02-28T23:59:59.000000Z");
}
END_TEST

START_TEST(test_time_format_clamp)
{
	/* the last second with a four-digit year */
	ck_assert_str_eq(fmt(253402300799, 5, 9), "9999-12-31T23:59:59.000000005Z");
	/* later times saturate at the last representable instant */
	ck_assert_str_eq(fmt(253402300800, 0, 6), "9999-12-31T23:59:59.999999Z");
	ck_assert_str_eq(fmt(253402300800 + 86400 * 200, 0, 9),
			 "9999-12-31T23:59:59.999999999Z");
	ck_assert_str_eq(fmt(INT64_MAX, 0, 6), "9999-12-31T23:59:59.999999Z");
	/* and earlier ones at the first */
	ck_assert_str_eq(fmt(-62167219200, 0, 6), "0000-01-01T00:00:00.000000Z");
	ck_assert_str_eq(fmt(-62167219201, 7, 6), "0000-01-01T00:00:00.000000Z");
	ck_assert_str_eq(fmt(INT64_MIN, 0, 6), "0000-01-01T00:00:00.000000Z");
	/* the per-thread date cache is not fooled by the change of day */
	ck_assert_str_eq(fmt(1709164800, 0, 6), "2024-02-29T00:00:00.000000Z");
	ck_assert_str_eq(fmt(1709164799, 0, 6), "2024-02-28T23:59:59.000000Z");
}
END_TEST

static void parse_ok(const char *s, int64_t sec, uint32_t nsec, uint8_t prec)
{
	struct pb_time t;
	int rc = pb_time_parse(s, strlen(s), &t);

	ck_assert_msg(rc == 0, "'%s' rejected (%d)", s, rc);
	ck_assert_msg(t.sec == sec && t.nsec == nsec && t.prec == prec,
		      "'%s': got %lld.%09u prec %u", s, (long long)t.sec, t.nsec, t.prec);
}

START_TEST(test_time_parse_rfc3339)
{
	parse_ok("2024-02-29T12:34:56Z", 1709210096, 0, 6);
	parse_ok("2024-02-29t12:34:56z", 1709210096, 0, 6);
	parse_ok("2024-02-29 12:34:56Z", 1709210096, 0, 6);
	/* 1 to 9 fractional digits; six or fewer keep microseconds */
	parse_ok("2024-02-29T12:34:56.5Z", 1709210096, 500000000, 6);
	parse_ok("2024-02-29T12:34:56.123Z", 1709210096, 123000000, 6);
	parse_ok("2024-02-29T12:34:56.123456Z", 1709210096, 123456000, 6);
	parse_ok("2024-02-29T12:34:56.1234567Z", 1709210096, 123456700, 9);
	parse_ok("2024-02-29T12:34:56.123456789Z", 1709210096, 123456789, 9);
	/* digits past nine are read and dropped */
	parse_ok("2024-02-29T12:34:56.1234567891Z", 1709210096, 123456789, 9);
	/* offsets */
	parse_ok("2024-02-29T14:34:56+02:00", 1709210096, 0, 6);
	parse_ok("2024-02-29T07:04:56-05:30", 1709210096, 0, 6);
	parse_ok("2024-03-01T01:00:00.25+02:00", 1709247600, 250000000, 6);
	parse_ok("2024-02-29T12:34:56+00:00", 1709210096, 0, 6);
	parse_ok("1999-12-31T23:59:59Z", 946684799, 0, 6);
	parse_ok("1970-01-01T00:00:00Z", 0, 0, 6);
	parse_ok("1969-12-31T23:59:59.5Z", -1, 500000000, 6);
	parse_ok("9999-12-31T23:59:59Z", 253402300799, 0, 6);
	/* a leap second is let through as the next second */
	parse_ok("2016-12-31T23:59:60Z", 1483228800, 0, 6);
}
END_TEST

START_TEST(test_time_parse_epoch)
{
	parse_ok("1700000000.5", 1700000000, 500000000, 6);
	parse_ok("1700000000", 1700000000, 0, 6);
	parse_ok("0", 0, 0, 6);
	parse_ok("1700000000.000001", 1700000000, 1000, 6);
	parse_ok("1700000000.123456789", 1700000000, 123456789, 9);
	parse_ok("1700000000.1234567", 1700000000, 123456700, 9);
	parse_ok("-1.25", -2, 750000000, 6);
	parse_ok("-5", -5, 0, 6);
	parse_ok("9223372036854775807", INT64_MAX, 0, 6);
}
END_TEST

START_TEST(test_time_parse_garbage)
{
	static const char *const bad[] = {
		"", "-", ".", "abc", "1700000000.", "1700000000.5x", "17000x",
		"1.2.3", "--1", " 1", "1e9",
		"99999999999999999999",           /* past int64 */
		"9223372036854775808",
		"2024-02-29", "2024-02-29T", "2024-02-29T12:34", "2024-02-29T12:34:56",
		"2024-02-29T12:34:56.Z", "2024-02-29T12:34:56+0200",
		"2024-02-29T12:34:56+02", "2024-02-29T12:34:56ZZ",
		"2024-02-29X12:34:56Z", "2024-13-01T00:00:00Z", "2024-00-01T00:00:00Z",
		"2024-01-32T00:00:00Z", "2024-01-00T00:00:00Z", "2024-01-01T24:00:00Z",
		"2024-01-01T00:60:00Z", "2024-01-01T00:00:61Z", "2024-1-01T00:00:00Z",
		"2024-01-01T00:00:00 Z", "20x4-01-01T00:00:00Z",
	};
	struct pb_time t;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pb_time_parse(bad[i], strlen(bad[i]), &t) == PB_EINVAL,
			      "'%s' accepted", bad[i]);
	/* the length bounds the parse: a valid prefix is not enough */
	ck_assert_int_eq(pb_time_parse("2024-02-29T12:34:56Z", 19, &t), PB_EINVAL);
	ck_assert_int_eq(pb_time_parse("2024-02-29T12:34:56Zjunk", 20, &t), 0);
	ck_assert_int_eq(t.sec, 1709210096);
}
END_TEST

START_TEST(test_time_roundtrip)
{
	char out[PB_TIME_MAXLEN];
	struct pb_time t = { 1795946645, 123456789, 9 }, u;
	size_t n = pb_time_format(out, &t);

	ck_assert_int_eq(pb_time_parse(out, n, &u), 0);
	ck_assert_int_eq(u.sec, t.sec);
	ck_assert_uint_eq(u.nsec, t.nsec);
	ck_assert_uint_eq(u.prec, 9);
	ck_assert(pb_time_ns(&u) == 1795946645123456789LL);
	t.prec = 6;
	n = pb_time_format(out, &t);
	ck_assert_int_eq(pb_time_parse(out, n, &u), 0);
	ck_assert_uint_eq(u.nsec, 123456000);
	ck_assert_uint_eq(u.prec, 6);
}
END_TEST

/* ---- Community ID ---- */

static const char *cid(const char *sa, const char *da, int v6, uint8_t proto,
		       int has_ports, uint16_t sp, uint16_t dp, uint16_t seed)
{
	static char out[PB_COMMUNITY_ID_LEN + 1];
	uint8_t a[16], b[16];
	struct pb_flow_tuple t;

	ck_assert_int_eq(inet_pton(v6 ? AF_INET6 : AF_INET, sa, a), 1);
	ck_assert_int_eq(inet_pton(v6 ? AF_INET6 : AF_INET, da, b), 1);
	memset(&t, 0, sizeof(t));
	t.saddr = a;
	t.daddr = b;
	t.alen = v6 ? 16 : 4;
	t.proto = proto;
	t.has_ports = (uint8_t)has_ports;
	t.sport = sp;
	t.dport = dp;
	memset(out, '#', sizeof(out));
	ck_assert_int_eq(pb_community_id(out, &t, seed), 0);
	ck_assert_uint_eq(strlen(out), PB_COMMUNITY_ID_LEN);
	return out;
}

START_TEST(test_community_id_baseline)
{
	/* Community ID spec baseline; checked against tshark 4.0's
	 * communityid post-dissector on frames built with the same tuples */
	ck_assert_str_eq(cid("128.232.110.120", "66.35.250.204", 0, 6, 1, 34855, 80, 0),
			 "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	ck_assert_str_eq(cid("66.35.250.204", "128.232.110.120", 0, 6, 1, 80, 34855, 0),
			 "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	ck_assert_str_eq(cid("192.168.1.52", "8.8.8.8", 0, 17, 1, 54585, 53, 0),
			 "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
	ck_assert_str_eq(cid("8.8.8.8", "192.168.1.52", 0, 17, 1, 53, 54585, 0),
			 "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
	/* ICMP echo request and its reply hash alike */
	ck_assert_str_eq(cid("192.168.0.89", "192.168.0.1", 0, 1, 1, 8, 0, 0),
			 "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
	ck_assert_str_eq(cid("192.168.0.1", "192.168.0.89", 0, 1, 1, 0, 0, 0),
			 "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
	/* ICMPv6 neighbour solicitation (type 135, counterpart 136) */
	ck_assert_str_eq(cid("fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea",
			     1, 58, 1, 135, 0, 0),
			 "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=");
	ck_assert_str_eq(cid("fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da",
			     1, 58, 1, 136, 0, 0),
			 "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=");
}
END_TEST

START_TEST(test_community_id_other)
{
	/* seed 1 (tshark -o communityid.seed:1) */
	ck_assert_str_eq(cid("128.232.110.120", "66.35.250.204", 0, 6, 1, 34855, 80, 1),
			 "1:3V71V58M3Ksw/yuFALMcW0LAHvc=");
	ck_assert_str_eq(cid("192.168.1.52", "8.8.8.8", 0, 17, 1, 54585, 53, 1),
			 "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=");
	/* one-way ICMP (destination unreachable) keeps its direction */
	ck_assert_str_eq(cid("192.168.0.1", "192.168.0.89", 0, 1, 1, 3, 1, 0),
			 "1:o3zT92uTgnRWv/YrDVeXcWumpC4=");
	ck_assert_str_ne(cid("192.168.0.89", "192.168.0.1", 0, 1, 1, 3, 1, 0),
			 "1:o3zT92uTgnRWv/YrDVeXcWumpC4=");
	/* a protocol without ports (GRE), either direction */
	ck_assert_str_eq(cid("10.0.0.2", "10.0.0.1", 0, 47, 0, 0, 0, 0),
			 "1:+KlEHDT0vJgzs/eNmzHq0aSpRYw=");
	ck_assert_str_eq(cid("10.0.0.1", "10.0.0.2", 0, 47, 0, 0, 0, 0),
			 "1:+KlEHDT0vJgzs/eNmzHq0aSpRYw=");
	/* same address: the ports order the endpoints */
	{
		char a[PB_COMMUNITY_ID_LEN + 1];

		memcpy(a, cid("10.1.1.1", "10.1.1.1", 0, 6, 1, 5000, 80, 0), sizeof(a));
		ck_assert_str_eq(cid("10.1.1.1", "10.1.1.1", 0, 6, 1, 80, 5000, 0), a);
	}
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc;

	tc = tcase_create("buf");
	tcase_add_test(tc, test_buf_basic);
	tcase_add_test(tc, test_buf_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, test_json_escape_ascii);
	tcase_add_test(tc, test_json_escape_utf8);
	tcase_add_test(tc, test_json_structure);
	tcase_add_test(tc, test_json_numbers);
	tcase_add_test(tc, test_json_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("base64");
	tcase_add_loop_test(tc, test_base64_encode, 0,
			    (int)(sizeof(b64_vectors) / sizeof(b64_vectors[0])));
	tcase_add_loop_test(tc, test_base64_decode, 0,
			    (int)(sizeof(b64_vectors) / sizeof(b64_vectors[0])));
	tcase_add_test(tc, test_base64_binary);
	tcase_add_test(tc, test_base64_reject);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_test(tc, test_time_format);
	tcase_add_test(tc, test_time_format_clamp);
	tcase_add_test(tc, test_time_parse_rfc3339);
	tcase_add_test(tc, test_time_parse_epoch);
	tcase_add_test(tc, test_time_parse_garbage);
	tcase_add_test(tc, test_time_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("community_id");
	tcase_add_test(tc, test_community_id_baseline);
	tcase_add_test(tc, test_community_id_other);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(util_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
