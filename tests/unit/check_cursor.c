/*
 * check_cursor.c - struct pb_cur (util/cursor.h): every reader at the exact
 * end and one byte short, the sticky error, sub-cursors, byte orders.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/cursor.h"

static const uint8_t seq[16] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
};

START_TEST(test_init)
{
	struct pb_cur c;

	pb_cur_init(&c, seq, sizeof(seq));
	ck_assert_ptr_eq(c.start, seq);
	ck_assert_ptr_eq(c.pos, seq);
	ck_assert_ptr_eq(c.end, seq + 16);
	ck_assert_uint_eq(pb_cur_left(&c), 16);
	ck_assert_uint_eq(pb_cur_offset(&c), 0);
	ck_assert_int_eq(c.err, PB_CUR_OK);
	ck_assert(pb_cur_ok(&c));

	/* an empty cursor is fine until something is read */
	pb_cur_init(&c, seq, 0);
	ck_assert_uint_eq(pb_cur_left(&c), 0);
	ck_assert(pb_cur_ok(&c));
	ck_assert(pb_cur_has(&c, 0));
	ck_assert(pb_cur_ok(&c));
	ck_assert(!pb_cur_has(&c, 1));
	ck_assert_int_eq(c.err, PB_CUR_TRUNCATED);
}
END_TEST

/* One table drives the exact-end and one-short cases for every reader. */
enum rd { R_U8, R_BE16, R_BE24, R_BE32, R_BE64, R_LE16, R_LE32, R_LE64,
	  R_U16O_BE, R_U16O_LE, R_U32O_BE, R_U32O_LE, R_MAX };

static const struct {
	const char *name;
	size_t width;
	uint64_t expect;  /* reading seq[0..width) */
} readers[R_MAX] = {
	[R_U8] = { "u8", 1, 0x01 },
	[R_BE16] = { "be16", 2, 0x0102 },
	[R_BE24] = { "be24", 3, 0x010203 },
	[R_BE32] = { "be32", 4, 0x01020304 },
	[R_BE64] = { "be64", 8, 0x0102030405060708ULL },
	[R_LE16] = { "le16", 2, 0x0201 },
	[R_LE32] = { "le32", 4, 0x04030201 },
	[R_LE64] = { "le64", 8, 0x0807060504030201ULL },
	[R_U16O_BE] = { "u16o be", 2, 0x0102 },
	[R_U16O_LE] = { "u16o le", 2, 0x0201 },
	[R_U32O_BE] = { "u32o be", 4, 0x01020304 },
	[R_U32O_LE] = { "u32o le", 4, 0x04030201 },
};

static uint64_t do_read(struct pb_cur *c, int r)
{
	switch (r) {
	case R_U8: return pb_cur_u8(c);
	case R_BE16: return pb_cur_be16(c);
	case R_BE24: return pb_cur_be24(c);
	case R_BE32: return pb_cur_be32(c);
	case R_BE64: return pb_cur_be64(c);
	case R_LE16: return pb_cur_le16(c);
	case R_LE32: return pb_cur_le32(c);
	case R_LE64: return pb_cur_le64(c);
	case R_U16O_BE: return pb_cur_u16o(c, 1);
	case R_U16O_LE: return pb_cur_u16o(c, 0);
	case R_U32O_BE: return pb_cur_u32o(c, 1);
	case R_U32O_LE: return pb_cur_u32o(c, 0);
	}
	return 0xdeadbeef;
}

/* _i is the reader: exactly enough bytes */
START_TEST(test_reader_exact_end)
{
	struct pb_cur c;
	size_t w = readers[_i].width;
	uint64_t v;

	pb_cur_init(&c, seq, w);
	v = do_read(&c, _i);
	ck_assert_msg(v == readers[_i].expect, "%s: got %llx", readers[_i].name,
		      (unsigned long long)v);
	ck_assert_msg(pb_cur_ok(&c), "%s: error at the exact end", readers[_i].name);
	ck_assert_uint_eq(pb_cur_left(&c), 0);
	ck_assert_uint_eq(pb_cur_offset(&c), w);

	/* the next read of any size fails */
	ck_assert_uint_eq(pb_cur_u8(&c), 0);
	ck_assert_int_eq(c.err, PB_CUR_TRUNCATED);
}
END_TEST

/* _i is the reader: one byte short, from the start and from an offset */
START_TEST(test_reader_one_past_end)
{
	struct pb_cur c;
	size_t w = readers[_i].width;
	uint64_t v;

	pb_cur_init(&c, seq, w - 1);
	v = do_read(&c, _i);
	ck_assert_msg(v == 0, "%s: one short returned %llx, not 0",
		      readers[_i].name, (unsigned long long)v);
	ck_assert_int_eq(c.err, PB_CUR_TRUNCATED);
	ck_assert(!pb_cur_ok(&c));
	/* a failed read consumes nothing */
	ck_assert_uint_eq(pb_cur_offset(&c), 0);

	/* the same after a byte was read: the reader straddles the end */
	pb_cur_init(&c, seq, w);
	ck_assert_uint_eq(pb_cur_u8(&c), 0x01);
	v = do_read(&c, _i);
	ck_assert_msg(v == 0, "%s: straddling read returned %llx",
		      readers[_i].name, (unsigned long long)v);
	ck_assert_int_eq(c.err, PB_CUR_TRUNCATED);
	ck_assert_uint_eq(pb_cur_offset(&c), 1);
}
END_TEST

START_TEST(test_bytes_and_skip)
{
	struct pb_cur c;
	const uint8_t *p;

	pb_cur_init(&c, seq, 6);
	p = pb_cur_bytes(&c, 4);
	ck_assert_ptr_eq(p, seq);
	ck_assert_uint_eq(pb_cur_left(&c), 2);
	p = pb_cur_bytes(&c, 2);
	ck_assert_ptr_eq(p, seq + 4);
	ck_assert(pb_cur_ok(&c));
	/* zero bytes at the exact end is fine */
	p = pb_cur_bytes(&c, 0);
	ck_assert_ptr_eq(p, seq + 6);
	ck_assert(pb_cur_ok(&c));
	ck_assert_ptr_null(pb_cur_bytes(&c, 1));
	ck_assert_int_eq(c.err, PB_CUR_TRUNCATED);

	/* skip to the exact end, then past it: pos lands on the end */
	pb_cur_init(&c, seq, 6);
	pb_cur_skip(&c, 6);
	ck_assert(pb_cur_ok(&c));
	ck_assert_uint_eq(pb_cur_left(&c), 0);
	pb_cur_init(&c, seq, 6);
	pb_cur_skip(&c, 2);
	pb_cur_skip(&c, 5);
	ck_assert_int_eq(c.err, PB_CUR_TRUNCATED);
	ck_assert_uint_eq(pb_cur_left(&c), 0);
	ck_assert_uint_eq(pb_cur_offset(&c), 6);
}
END_TEST

START_TEST(test_sticky_error)
{
	struct pb_cur c;

	pb_cur_init(&c, seq, 3);
	ck_assert_uint_eq(pb_cur_be32(&c), 0);
	ck_assert_int_eq(c.err, PB_CUR_TRUNCATED);
	/* three bytes are still there, but every later read fails */
	ck_assert_uint_eq(pb_cur_left(&c), 3);
	ck_assert_uint_eq(pb_cur_u8(&c), 0);
	ck_assert_uint_eq(pb_cur_be16(&c), 0);
	ck_assert_ptr_null(pb_cur_bytes(&c, 1));
	ck_assert(!pb_cur_has(&c, 0));
	ck_assert_uint_eq(pb_cur_left(&c), 3);
	/* invalid does not override the first failure */
	pb_cur_invalid(&c);
	ck_assert_int_eq(c.err, PB_CUR_TRUNCATED);
}
END_TEST

START_TEST(test_invalid_vs_truncated)
{
	struct pb_cur c;

	pb_cur_init(&c, seq, 4);
	ck_assert_uint_eq(pb_cur_u8(&c), 1);
	pb_cur_invalid(&c);
	ck_assert_int_eq(c.err, PB_CUR_INVALID);
	ck_assert(!pb_cur_ok(&c));
	/* reads stop after an invalid mark as well */
	ck_assert_uint_eq(pb_cur_u8(&c), 0);
	ck_assert_uint_eq(pb_cur_offset(&c), 1);
	/* a later truncation does not replace INVALID */
	ck_assert_uint_eq(pb_cur_be64(&c), 0);
	ck_assert_int_eq(c.err, PB_CUR_INVALID);
	pb_cur_skip(&c, 100);
	ck_assert_int_eq(c.err, PB_CUR_INVALID);
}
END_TEST

START_TEST(test_sub_whole)
{
	struct pb_cur c, s;

	pb_cur_init(&c, seq, 10);
	pb_cur_skip(&c, 2);
	s = pb_cur_sub(&c, 4);
	ck_assert(pb_cur_ok(&c));
	ck_assert_uint_eq(pb_cur_offset(&c), 6);
	ck_assert_uint_eq(pb_cur_left(&s), 4);
	ck_assert_ptr_eq(s.start, seq + 2);
	ck_assert_uint_eq(pb_cur_be32(&s), 0x03040506);
	ck_assert(pb_cur_ok(&s));
	/* the child cannot read into the parent's next bytes */
	ck_assert_uint_eq(pb_cur_u8(&s), 0);
	ck_assert_int_eq(s.err, PB_CUR_TRUNCATED);
	ck_assert(pb_cur_ok(&c));
	ck_assert_uint_eq(pb_cur_u8(&c), 0x07);

	/* the parent skips the declared length whatever the child read */
	pb_cur_init(&c, seq, 10);
	s = pb_cur_sub(&c, 8);
	ck_assert_uint_eq(pb_cur_u8(&s), 0x01);
	ck_assert_uint_eq(pb_cur_be16(&c), 0x090a);
	ck_assert(pb_cur_ok(&c));

	/* a zero-length part */
	pb_cur_init(&c, seq, 2);
	s = pb_cur_sub(&c, 0);
	ck_assert_uint_eq(pb_cur_left(&s), 0);
	ck_assert(pb_cur_ok(&s));
	ck_assert(pb_cur_ok(&c));
	ck_assert_uint_eq(pb_cur_left(&c), 2);
}
END_TEST

START_TEST(test_sub_short_parent)
{
	struct pb_cur c, s;

	pb_cur_init(&c, seq, 5);
	pb_cur_skip(&c, 1);
	s = pb_cur_sub(&c, 8); /* declares 8, only 4 remain */
	/* the child gets what is left and starts out OK */
	ck_assert_uint_eq(pb_cur_left(&s), 4);
	ck_assert_ptr_eq(s.start, seq + 1);
	ck_assert(pb_cur_ok(&s));
	/* the parent is TRUNCATED and at its end */
	ck_assert_int_eq(c.err, PB_CUR_TRUNCATED);
	ck_assert_uint_eq(pb_cur_left(&c), 0);
	ck_assert_uint_eq(pb_cur_offset(&c), 5);
	/* the child's reads fail at the real end */
	ck_assert_uint_eq(pb_cur_be24(&s), 0x020304);
	ck_assert(pb_cur_ok(&s));
	ck_assert_uint_eq(pb_cur_be16(&s), 0);
	ck_assert_int_eq(s.err, PB_CUR_TRUNCATED);
	ck_assert_uint_eq(pb_cur_u8(&s), 0);

	/* a sub-cursor of a parent already in error is empty */
	pb_cur_init(&c, seq, 8);
	pb_cur_invalid(&c);
	s = pb_cur_sub(&c, 4);
	ck_assert_uint_eq(pb_cur_left(&s), 0);
	ck_assert_int_eq(c.err, PB_CUR_INVALID); /* not replaced */
	ck_assert_uint_eq(pb_cur_left(&c), 0);

	/* nested: a short grandchild truncates only the child */
	pb_cur_init(&c, seq, 16);
	s = pb_cur_sub(&c, 6);
	{
		struct pb_cur g = pb_cur_sub(&s, 10);

		ck_assert_uint_eq(pb_cur_left(&g), 6);
		ck_assert_int_eq(s.err, PB_CUR_TRUNCATED);
		ck_assert(pb_cur_ok(&g));
	}
	ck_assert(pb_cur_ok(&c));
	ck_assert_uint_eq(pb_cur_left(&c), 10);
}
END_TEST

START_TEST(test_byte_orders)
{
	static const uint8_t ff[8] = { 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8 };
	struct pb_cur c;

	/* high bits survive the shifts (no sign extension) */
	pb_cur_init(&c, ff, 8);
	ck_assert_uint_eq(pb_cur_be32(&c), 0xfffefdfcu);
	ck_assert_uint_eq(pb_cur_le32(&c), 0xf8f9fafbu);
	pb_cur_init(&c, ff, 8);
	ck_assert(pb_cur_be64(&c) == 0xfffefdfcfbfaf9f8ULL);
	pb_cur_init(&c, ff, 8);
	ck_assert(pb_cur_le64(&c) == 0xf8f9fafbfcfdfeffULL);
	pb_cur_init(&c, ff, 3);
	ck_assert_uint_eq(pb_cur_be24(&c), 0xfffefd);
	pb_cur_init(&c, ff, 4);
	ck_assert_uint_eq(pb_cur_be16(&c), 0xfffe);
	ck_assert_uint_eq(pb_cur_le16(&c), 0xfcfd);
	ck_assert(pb_cur_ok(&c));

	/* mixed reads walk the buffer in order */
	pb_cur_init(&c, seq, 16);
	ck_assert_uint_eq(pb_cur_u8(&c), 0x01);
	ck_assert_uint_eq(pb_cur_le16(&c), 0x0302);
	ck_assert_uint_eq(pb_cur_be24(&c), 0x040506);
	ck_assert_uint_eq(pb_cur_u32o(&c, 0), 0x0a090807);
	ck_assert_uint_eq(pb_cur_u16o(&c, 1), 0x0b0c);
	ck_assert_uint_eq(pb_cur_offset(&c), 12);
	ck_assert_uint_eq(pb_cur_le32(&c), 0x100f0e0d);
	ck_assert(pb_cur_ok(&c));
	ck_assert_uint_eq(pb_cur_left(&c), 0);
}
END_TEST

static Suite *cursor_suite(void)
{
	Suite *s = suite_create("cursor");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_init);
	tcase_add_loop_test(tc, test_reader_exact_end, 0, R_MAX);
	tcase_add_loop_test(tc, test_reader_one_past_end, 0, R_MAX);
	tcase_add_test(tc, test_bytes_and_skip);
	tcase_add_test(tc, test_sticky_error);
	tcase_add_test(tc, test_invalid_vs_truncated);
	tcase_add_test(tc, test_sub_whole);
	tcase_add_test(tc, test_sub_short_parent);
	tcase_add_test(tc, test_byte_orders);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cursor_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
