/*
 * check_reader.c - event/reader.h: event NDJSON in, as pb-enrich and
 * pb-export read it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "event/reader.h"
#include "pb.h"
#include "util/log.h"

static char dir[] = "/tmp/check_reader.XXXXXX";

/* A file in the test directory holding s (gzip'ed when gz). */
static const char *file_with(const char *name, const char *s, size_t n, int gz)
{
	static char path[4][256];
	static int k;
	char *p = path[k++ & 3];

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	if (gz) {
		gzFile g = gzopen(p, "wb");

		ck_assert_ptr_nonnull(g);
		ck_assert_int_eq(gzwrite(g, s, (unsigned)n), (int)n);
		gzclose(g);
	} else {
		FILE *f = fopen(p, "wb");

		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(s, 1, n, f), n);
		fclose(f);
	}
	return p;
}

/* Read every event; the values of key "n" joined by ',' into out. */
static int read_all(const char *const *paths, int n, int strict, char *out, size_t len,
		    struct pb_event_reader_stats *st)
{
	struct pb_event_reader *r;
	cJSON *o;
	int rc;

	out[0] = '\0';
	rc = pb_event_reader_open(&r, paths, n, strict);
	if (rc < 0)
		return rc;
	while ((rc = pb_event_reader_next(r, &o)) == 0) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "n");
		size_t tl;
		const char *text = pb_event_reader_text(r, &tl);

		ck_assert_ptr_nonnull(text);
		ck_assert_uint_gt(tl, 0);
		ck_assert_int_eq(text[0], '{');
		snprintf(out + strlen(out), len - strlen(out), "%s%d", out[0] ? "," : "",
			 cJSON_IsNumber(v) ? v->valueint : -1);
		cJSON_Delete(o);
	}
	*st = *pb_event_reader_stats(r);
	pb_event_reader_free(r);
	return rc;
}

START_TEST(test_reader_lines)
{
	static const char in[] = "{\"n\":1}\n\n   \n{\"n\":2}\r\n{\"n\":3}";
	const char *p = file_with("a.ndjson", in, sizeof(in) - 1, 0);
	struct pb_event_reader_stats st;
	char got[256];

	ck_assert_int_eq(read_all(&p, 1, 0, got, sizeof(got), &st), PB_EOF);
	ck_assert_str_eq(got, "1,2,3");       /* last line without a newline too */
	ck_assert_uint_eq(st.lines, 5);
	ck_assert_uint_eq(st.events, 3);
	ck_assert_uint_eq(st.bad, 0);
}
END_TEST

START_TEST(test_reader_bad_lines)
{
	static const char in[] = "{\"n\":1}\nnot json\n[1,2]\n\"s\"\n{\"n\":2}\n{\"n\":\n";
	const char *p = file_with("b.ndjson", in, sizeof(in) - 1, 0);
	struct pb_event_reader_stats st;
	char got[256];

	ck_assert_int_eq(read_all(&p, 1, 0, got, sizeof(got), &st), PB_EOF);
	ck_assert_str_eq(got, "1,2");
	ck_assert_uint_eq(st.bad, 4);
	ck_assert_uint_eq(st.events, 2);
	/* strict: stops at the first bad line */
	ck_assert_int_eq(read_all(&p, 1, 1, got, sizeof(got), &st), PB_EINVAL);
	ck_assert_str_eq(got, "1");
	ck_assert_uint_eq(st.bad, 1);
}
END_TEST

START_TEST(test_reader_files_in_order)
{
	static const char a[] = "{\"n\":1}\n{\"n\":2}\n", b[] = "{\"n\":3}\n";
	const char *p[3];
	struct pb_event_reader_stats st;
	char got[256];

	p[0] = file_with("c1.ndjson", a, sizeof(a) - 1, 0);
	p[1] = file_with("c2.ndjson.gz", b, sizeof(b) - 1, 1);   /* gzip is read */
	p[2] = file_with("c3.ndjson", "", 0, 0);                 /* empty */
	ck_assert_int_eq(read_all(p, 3, 0, got, sizeof(got), &st), PB_EOF);
	ck_assert_str_eq(got, "1,2,3");
}
END_TEST

START_TEST(test_reader_names_and_lines)
{
	static const char a[] = "{\"n\":1}\n\n{\"n\":2}\n";
	const char *p = file_with("d.ndjson", a, sizeof(a) - 1, 0);
	struct pb_event_reader *r;
	uint64_t done, total;
	cJSON *o;

	ck_assert_int_eq(pb_event_reader_open(&r, &p, 1, 0), 0);
	ck_assert_int_eq(pb_event_reader_next(r, &o), 0);
	ck_assert_uint_eq(pb_event_reader_line(r), 1);
	cJSON_Delete(o);
	ck_assert_int_eq(pb_event_reader_next(r, &o), 0);
	ck_assert_uint_eq(pb_event_reader_line(r), 3);
	ck_assert_str_eq(pb_event_reader_name(r), p);
	cJSON_Delete(o);
	pb_event_reader_progress(r, &done, &total);
	ck_assert_uint_eq(total, sizeof(a) - 1);
	ck_assert_int_eq(pb_event_reader_next(r, &o), PB_EOF);
	ck_assert_ptr_null(o);
	pb_event_reader_free(r);
}
END_TEST

START_TEST(test_reader_missing_file)
{
	const char *p[2];
	struct pb_event_reader *r;
	struct pb_event_reader_stats st;
	char got[256];

	p[0] = "/nonexistent/x.ndjson";
	ck_assert_int_eq(pb_event_reader_open(&r, p, 1, 0), PB_EIO);
	ck_assert_ptr_null(r);
	/* a later file that is missing ends the reading there, with an error */
	p[0] = file_with("e.ndjson", "{\"n\":1}\n", 8, 0);
	p[1] = "/nonexistent/y.ndjson";
	ck_assert_int_eq(read_all(p, 2, 0, got, sizeof(got), &st), PB_EIO);
	ck_assert_str_eq(got, "1");
}
END_TEST

START_TEST(test_reader_long_line)
{
	/* a line over the maximum is skipped, the next one read */
	size_t n = PB_EVENT_MAX_LINE + 100, i;
	char *big = malloc(n + 32);
	const char *p;
	struct pb_event_reader_stats st;
	char got[256];

	ck_assert_ptr_nonnull(big);
	memcpy(big, "{\"n\":\"", 6);
	for (i = 6; i < n; i++)
		big[i] = 'x';
	memcpy(big + n, "\"}\n{\"n\":7}\n", 11);
	p = file_with("f.ndjson", big, n + 11, 0);
	free(big);
	ck_assert_int_eq(read_all(&p, 1, 0, got, sizeof(got), &st), PB_EOF);
	ck_assert_str_eq(got, "7");
	ck_assert_uint_eq(st.oversized, 1);
	ck_assert_uint_eq(st.bad, 1);
	ck_assert_int_eq(read_all(&p, 1, 1, got, sizeof(got), &st), PB_ETOOBIG);
}
END_TEST

START_TEST(test_reader_hostile)
{
	/* NULs, deep nesting, invalid UTF-8: reported or read, never a crash */
	static const char in[] = "{\"n\":1,\"a\":\"\xff\xfe\"}\n{\"n\":\0 2}\n"
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"
		"{\"n\":3}\n";
	const char *p = file_with("g.ndjson", in, sizeof(in) - 1, 0);
	struct pb_event_reader_stats st;
	char got[256];

	read_all(&p, 1, 0, got, sizeof(got), &st);
	ck_assert_uint_eq(st.events + st.bad, 4);
	ck_assert_ptr_nonnull(strstr(got, "3"));
}
END_TEST

static Suite *reader_suite(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_reader_lines);
	tcase_add_test(tc, test_reader_bad_lines);
	tcase_add_test(tc, test_reader_files_in_order);
	tcase_add_test(tc, test_reader_names_and_lines);
	tcase_add_test(tc, test_reader_missing_file);
	tcase_add_test(tc, test_reader_long_line);
	tcase_add_test(tc, test_reader_hostile);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reader_suite());
	char cmd[300];
	int failed;

	if (!mkdtemp(dir))
		return 99;
	pb_log_set_prog("check_reader");
	pb_log_set_level(PB_LOG_QUIET);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		failed++;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
