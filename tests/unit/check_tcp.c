/* check_tcp.c - TCP stream reassembly (tcp/tcp.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "tcp/tcp.h"

/* A consumer that takes whole lines ("...\n") and logs what it saw:
 * data as it consumed it, gaps as "<gap N>", ends as "<fin>". */
struct sink {
	char log[2][4096];
	size_t loglen[2];
	int consume_all;          /* take everything, not only whole lines */
	int64_t first_ns[2];      /* time of the first byte of the last line */
	uint64_t first_pkt[2];
	struct pb_tcp *t;
};

static void logs(struct sink *s, int dir, const char *p, size_t n)
{
	if (s->loglen[dir] + n < sizeof(s->log[dir])) {
		memcpy(s->log[dir] + s->loglen[dir], p, n);
		s->loglen[dir] += n;
		s->log[dir][s->loglen[dir]] = 0;
	}
}

static size_t on_data(void *arg, int dir, const uint8_t *p, size_t n)
{
	struct sink *s = arg;
	const uint8_t *nl;

	if (s->consume_all) {
		logs(s, dir, (const char *)p, n);
		return n;
	}
	nl = memchr(p, '\n', n);
	if (!nl)
		return 0;
	pb_tcp_byte_time(s->t, dir, 0, &s->first_ns[dir], &s->first_pkt[dir]);
	logs(s, dir, (const char *)p, (size_t)(nl - p) + 1);
	return (size_t)(nl - p) + 1;
}

static void on_gap(void *arg, int dir, uint64_t n)
{
	struct sink *s = arg;
	char b[32];

	snprintf(b, sizeof(b), "<gap %llu>", (unsigned long long)n);
	logs(s, dir, b, strlen(b));
}

static void on_fin(void *arg, int dir)
{
	logs(arg, dir, "<fin>", 5);
}

static const struct pb_tcp_ops ops = { on_data, on_gap, on_fin };

static struct pb_tcp t;
static struct pb_tcp_stats st;
static struct sink s;

static void setup(void)
{
	memset(&s, 0, sizeof(s));
	memset(&st, 0, sizeof(st));
	pb_tcp_init(&t, 64, 256, &st);
	s.t = &t;
}

static void teardown(void)
{
	pb_tcp_release(&t);
}

static void seg(int dir, uint32_t seq, uint16_t flags, const char *data, int64_t ns)
{
	size_t n = data ? strlen(data) : 0;

	pb_tcp_segment(&t, dir, seq, 0, flags, (const uint8_t *)data, n, n, ns,
		       (uint64_t)ns, &ops, &s);
}

static void seg_ack(int dir, uint32_t seq, uint32_t ack, const char *data)
{
	size_t n = data ? strlen(data) : 0;

	pb_tcp_segment(&t, dir, seq, ack, PB_TCP_ACK, (const uint8_t *)data, n, n, 0, 0,
		       &ops, &s);
}

START_TEST(test_in_order)
{
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(0, 1001, PB_TCP_ACK, "GET /\n", 2);
	seg(0, 1007, PB_TCP_ACK, "Host: x\n", 3);
	ck_assert_str_eq(s.log[0], "GET /\nHost: x\n");
	ck_assert_int_eq(t.d[0].mid_stream, 0);
	ck_assert_int_eq(st.segments, 2);
}
END_TEST

START_TEST(test_split_line_keeps_first_time)
{
	/* a line in three segments: its time is the first segment's */
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(0, 1001, PB_TCP_ACK, "GE", 10);
	seg(0, 1003, PB_TCP_ACK, "T /", 20);
	ck_assert_str_eq(s.log[0], "");
	seg(0, 1006, PB_TCP_ACK, "\nnext", 30);
	ck_assert_str_eq(s.log[0], "GET /\n");
	ck_assert_int_eq(s.first_ns[0], 10);
	ck_assert_int_eq(s.first_pkt[0], 10);
	/* the rest ("next") is kept, from the last segment */
	seg(0, 1011, PB_TCP_ACK, "\n", 40);
	ck_assert_str_eq(s.log[0], "GET /\nnext\n");
	ck_assert_int_eq(s.first_ns[0], 30);
}
END_TEST

START_TEST(test_mid_stream)
{
	seg(1, 5000, PB_TCP_ACK, "HTTP/1.1 200 OK\n", 1);
	ck_assert_int_eq(t.d[1].mid_stream, 1);
	ck_assert_str_eq(s.log[1], "HTTP/1.1 200 OK\n");
}
END_TEST

START_TEST(test_retransmission_and_overlap)
{
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(0, 1001, PB_TCP_ACK, "abc\n", 2);
	seg(0, 1001, PB_TCP_ACK, "abc\n", 3);        /* again */
	ck_assert_int_eq(st.retransmitted, 1);
	/* overlaps the delivered "c\n": first copy wins, "de\n" is new */
	seg(0, 1003, PB_TCP_ACK, "XXde\n", 4);
	ck_assert_str_eq(s.log[0], "abc\nde\n");
	ck_assert_int_eq(st.overlaps, 1);
}
END_TEST

START_TEST(test_out_of_order)
{
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(0, 1005, PB_TCP_ACK, "ef\n", 3);         /* after a hole */
	ck_assert_str_eq(s.log[0], "");
	ck_assert_int_eq(st.out_of_order, 1);
	seg(0, 1001, PB_TCP_ACK, "abcd", 2);         /* fills it */
	ck_assert_str_eq(s.log[0], "abcdef\n");
}
END_TEST

START_TEST(test_ack_reveals_gap)
{
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(0, 1001, PB_TCP_ACK, "one\n", 2);
	/* "two\n" (1005-1008) was never captured; the next line was */
	seg(0, 1009, PB_TCP_ACK, "three\n", 3);
	ck_assert_str_eq(s.log[0], "one\n");
	/* the receiver acknowledges all of it: the hole is a gap */
	seg_ack(1, 9000, 1015, NULL);
	ck_assert_str_eq(s.log[0], "one\n<gap 4>three\n");
	ck_assert_int_eq(st.gaps, 1);
	ck_assert_int_eq(st.gap_bytes, 4);
}
END_TEST

START_TEST(test_gap_drops_partial)
{
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(0, 1001, PB_TCP_ACK, "par", 2);          /* kept: no newline */
	seg(0, 1010, PB_TCP_ACK, "x\n", 3);          /* after a hole */
	seg_ack(1, 1, 1012, NULL);
	/* the kept 3 bytes cannot be completed: counted in the gap */
	ck_assert_str_eq(s.log[0], "<gap 9>x\n");
}
END_TEST

START_TEST(test_fin_after_data)
{
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(0, 1001, PB_TCP_ACK | PB_TCP_FIN, "bye\n", 2);
	ck_assert_str_eq(s.log[0], "bye\n<fin>");
	/* nothing after the FIN */
	seg(0, 1006, PB_TCP_ACK, "late\n", 3);
	ck_assert_str_eq(s.log[0], "bye\n<fin>");
}
END_TEST

START_TEST(test_fin_out_of_order)
{
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(0, 1005, PB_TCP_ACK | PB_TCP_FIN, NULL, 3); /* FIN before the data */
	ck_assert_str_eq(s.log[0], "");
	seg(0, 1001, PB_TCP_ACK, "end\n", 2);
	ck_assert_str_eq(s.log[0], "end\n<fin>");
}
END_TEST

START_TEST(test_rst_ends_both)
{
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(1, 7000, PB_TCP_SYN | PB_TCP_ACK, NULL, 2);
	seg(0, 1001, PB_TCP_ACK, "q\n", 3);
	seg(1, 7001, PB_TCP_RST, NULL, 4);
	ck_assert_str_eq(s.log[0], "q\n<fin>");
	ck_assert_str_eq(s.log[1], "<fin>");
}
END_TEST

START_TEST(test_buffer_cap)
{
	char big[100];

	/* no newline in more than max_buf (64) bytes: dropped as a gap */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(0, 1001, PB_TCP_ACK, big, 2);
	seg(0, 1100, PB_TCP_ACK, "ok\n", 3);
	ck_assert_ptr_nonnull(strstr(s.log[0], "<gap 64>"));
	ck_assert_int_eq(st.dropped_bytes > 0, 1);
	ck_assert_ptr_nonnull(strstr(s.log[0], "ok\n"));
}
END_TEST

START_TEST(test_ooo_cap)
{
	char chunk[65];
	uint32_t seq;

	/* a hole at 1001, then more out-of-order bytes than max_ooo (256) */
	memset(chunk, 'b', 63);
	chunk[63] = '\n';
	chunk[64] = 0;
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	for (seq = 1011; seq < 1011 + 6 * 64; seq += 64)
		seg(0, seq, PB_TCP_ACK, chunk, 2);
	/* the hole was given up: a gap of 10, then the lines */
	ck_assert_ptr_nonnull(strstr(s.log[0], "<gap 10>"));
	ck_assert_int_le(t.d[0].ooo_bytes, 256);
}
END_TEST

START_TEST(test_ooo_segment_count_cap)
{
	uint32_t i;

	/* thousands of empty FINs past a hole: bounded by count, not bytes */
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	for (i = 0; i < 5000; i++)
		pb_tcp_segment(&t, 0, 2000 + i * 10, 0, PB_TCP_ACK, (const uint8_t *)"z", 1,
			       1, 0, 0, &ops, &s);
	ck_assert_int_le(t.d[0].n_ooo, PB_TCP_MAX_OOO_SEGS);
}
END_TEST

START_TEST(test_sequence_wrap)
{
	seg(0, 0xfffffffdu, PB_TCP_SYN, NULL, 1);
	seg(0, 0xfffffffeu, PB_TCP_ACK, "ab", 2);
	seg(0, 0x00000000u, PB_TCP_ACK, "c\n", 3);
	ck_assert_str_eq(s.log[0], "abc\n");
	/* out of order across the wrap */
	seg(0, 0x00000004u, PB_TCP_ACK, "e\n", 4);
	seg(0, 0x00000002u, PB_TCP_ACK, "dd", 5);
	ck_assert_str_eq(s.log[0], "abc\ndde\n");
}
END_TEST

START_TEST(test_flush_at_end)
{
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(0, 1001, PB_TCP_ACK, "a\n", 2);
	seg(0, 1010, PB_TCP_ACK, "b\n", 3);
	pb_tcp_flush(&t, &ops, &s);
	ck_assert_str_eq(s.log[0], "a\n<gap 7>b\n");
}
END_TEST

START_TEST(test_byte_by_byte_equals_whole)
{
	const char *msg = "line one\nline two\nthree\n";
	char whole[4096];
	size_t i, n = strlen(msg);

	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(0, 1001, PB_TCP_ACK, msg, 2);
	memcpy(whole, s.log[0], s.loglen[0] + 1);
	pb_tcp_release(&t);
	setup();
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	for (i = 0; i < n; i++)
		pb_tcp_segment(&t, 0, 1001 + (uint32_t)i, 0, PB_TCP_ACK,
			       (const uint8_t *)msg + i, 1, 1, 2, 2, &ops, &s);
	ck_assert_str_eq(s.log[0], whole);
}
END_TEST

START_TEST(test_syn_with_data)
{
	/* TCP Fast Open: data rides on the SYN, after its sequence number */
	pb_tcp_segment(&t, 0, 500, 0, PB_TCP_SYN, (const uint8_t *)"hi\n", 3, 3, 1, 1, &ops, &s);
	seg(0, 504, PB_TCP_ACK, "more\n", 2);
	ck_assert_str_eq(s.log[0], "hi\nmore\n");
}
END_TEST

START_TEST(test_ack_before_data)
{
	/* merged taps: the acknowledgement is seen before the data it covers */
	s.consume_all = 1;
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg_ack(1, 9000, 1010, NULL);
	seg(0, 1001, PB_TCP_ACK, "123456789", 2);
	ck_assert_str_eq(s.log[0], "123456789");
	ck_assert_int_eq(st.gaps, 0);
}
END_TEST

START_TEST(test_held_first_copy_wins)
{
	s.consume_all = 1;
	seg(0, 100, PB_TCP_SYN, NULL, 1);
	seg(0, 106, PB_TCP_ACK, "AAA", 2);      /* 106-108, first */
	seg(0, 105, PB_TCP_ACK, "BBBB", 3);     /* 105-108: only 105 is new */
	seg(0, 101, PB_TCP_ACK, "wxyz", 4);     /* fills the hole */
	ck_assert_str_eq(s.log[0], "wxyzBAAA");
	/* a copy covering held pieces on both sides keeps only the middle */
	seg(0, 120, PB_TCP_ACK, "CC", 5);       /* 120-121 */
	seg(0, 125, PB_TCP_ACK, "DD", 6);       /* 125-126 */
	seg(0, 119, PB_TCP_ACK, "eeeeeeeeee", 7); /* 119-128 */
	seg(0, 109, PB_TCP_ACK, "0123456789", 8); /* 109-118 */
	ck_assert_str_eq(s.log[0], "wxyzBAAA0123456789eCCeeeDDee");
}
END_TEST

START_TEST(test_snaplen_cut_is_gap)
{
	s.consume_all = 1;
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	/* 3 of 10 bytes captured */
	pb_tcp_segment(&t, 0, 1001, 0, PB_TCP_ACK, (const uint8_t *)"abc", 3, 10, 2, 2,
		       &ops, &s);
	seg(0, 1011, PB_TCP_ACK | PB_TCP_FIN, "z", 3);
	ck_assert_str_eq(s.log[0], "abc<gap 7>z<fin>");
}
END_TEST

START_TEST(test_acks_after_half_close)
{
	s.consume_all = 1;
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(1, 5000, PB_TCP_SYN | PB_TCP_ACK, NULL, 2);
	seg(0, 1001, PB_TCP_ACK | PB_TCP_FIN, "q", 3);   /* client done */
	ck_assert_str_eq(s.log[0], "q<fin>");
	seg(1, 5001, PB_TCP_ACK, "r1", 4);
	seg(1, 5006, PB_TCP_ACK, "r3", 5);                /* 5003-5005 lost */
	seg_ack(0, 1003, 5008, NULL);                     /* the client got all */
	ck_assert_str_eq(s.log[1], "r1<gap 3>r3");
}
END_TEST

START_TEST(test_fin_after_hole_at_flush)
{
	s.consume_all = 1;
	seg(0, 1000, PB_TCP_SYN, NULL, 1);
	seg(0, 1001, PB_TCP_ACK, "ab", 2);
	seg(0, 1010, PB_TCP_ACK | PB_TCP_FIN, NULL, 3);
	ck_assert_str_eq(s.log[0], "ab");
	pb_tcp_flush(&t, &ops, &s);
	ck_assert_str_eq(s.log[0], "ab<gap 7><fin>");
}
END_TEST

START_TEST(test_several_syn_acks)
{
	/* the server answered with several SYN-ACKs of different sequence
	 * numbers; its data follows the last */
	s.consume_all = 1;
	seg(1, 1000, PB_TCP_SYN | PB_TCP_ACK, NULL, 1);
	seg(1, 1000, PB_TCP_SYN | PB_TCP_ACK, NULL, 2);
	seg(1, 7000, PB_TCP_SYN | PB_TCP_ACK, NULL, 3);
	seg(1, 7001, PB_TCP_ACK, "hello", 4);
	ck_assert_str_eq(s.log[1], "hello");
	ck_assert_int_eq(st.gaps, 0);
}
END_TEST

static Suite *tcp_suite(void)
{
	Suite *su = suite_create("tcp");
	TCase *tc = tcase_create("reassembly");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_in_order);
	tcase_add_test(tc, test_split_line_keeps_first_time);
	tcase_add_test(tc, test_mid_stream);
	tcase_add_test(tc, test_retransmission_and_overlap);
	tcase_add_test(tc, test_out_of_order);
	tcase_add_test(tc, test_ack_reveals_gap);
	tcase_add_test(tc, test_gap_drops_partial);
	tcase_add_test(tc, test_fin_after_data);
	tcase_add_test(tc, test_fin_out_of_order);
	tcase_add_test(tc, test_rst_ends_both);
	tcase_add_test(tc, test_buffer_cap);
	tcase_add_test(tc, test_ooo_cap);
	tcase_add_test(tc, test_ooo_segment_count_cap);
	tcase_add_test(tc, test_sequence_wrap);
	tcase_add_test(tc, test_flush_at_end);
	tcase_add_test(tc, test_byte_by_byte_equals_whole);
	tcase_add_test(tc, test_syn_with_data);
	tcase_add_test(tc, test_ack_before_data);
	tcase_add_test(tc, test_held_first_copy_wins);
	tcase_add_test(tc, test_snaplen_cut_is_gap);
	tcase_add_test(tc, test_acks_after_half_close);
	tcase_add_test(tc, test_fin_after_hole_at_flush);
	tcase_add_test(tc, test_several_syn_acks);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(tcp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
