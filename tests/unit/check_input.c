/*
 * check_input.c - pb_input: several capture files (and directories of
 * them) read as one capture merged by timestamp; ties, packet.index,
 * packet.file and file_index; gzip and broken members, and a member whose
 * first record is unreadable; files empty or invalid at the peek;
 * --since/--until, --count and --duration across files; a rotated set of
 * 200 files with few open at a time; standard input named twice.
 *
 * Each test writes its files into a fresh directory made with mkdtemp
 * inside one made by main() (under $TMPDIR, else /tmp).  The teardown
 * removes the test's directory; main() removes its own at the end, so
 * nothing is left behind by a test that failed or crashed in its child.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "pb.h"
#include "capture/input.h"
#include "util/log.h"

#include "pcapgen.h"

/* ---- the test directory ---- */

static char g_base[PG_PATH_MAX]; /* main()'s */
static char g_dir[PG_PATH_MAX];  /* the test's, inside g_base */

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char full[PG_PATH_MAX * 2];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
		if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(full);
		else
			unlink(full);
	}
	closedir(d);
	rmdir(path);
}

static void setup(void)
{
	int k = snprintf(g_dir, sizeof(g_dir), "%s/t-XXXXXX", g_base);

	ck_assert(k > 0 && k < (int)sizeof(g_dir));
	ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void teardown(void)
{
	rm_tree(g_dir);
	g_dir[0] = '\0';
}

/* dir/name under the test directory (sub may be NULL) */
static void tpath(char *out, const char *sub, const char *name)
{
	int k;

	if (sub)
		k = snprintf(out, PG_PATH_MAX, "%s/%s/%s", g_dir, sub, name);
	else
		k = snprintf(out, PG_PATH_MAX, "%s/%s", g_dir, name);
	ck_assert(k > 0 && k < PG_PATH_MAX);
}

static void tmkdir(const char *sub)
{
	char p[PG_PATH_MAX];

	tpath(p, NULL, sub);
	ck_assert_int_eq(mkdir(p, 0700), 0);
}

static void write_file(const char *path, const void *b, size_t n, int gz)
{
	if (gz) {
		gzFile z = gzopen(path, "wb9");

		ck_assert_ptr_nonnull(z);
		if (n)
			ck_assert_int_eq(gzwrite(z, b, (unsigned)n), (int)n);
		ck_assert_int_eq(gzclose(z), Z_OK);
	} else {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

		ck_assert_int_ge(fd, 0);
		if (n)
			ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
		ck_assert_int_eq(close(fd), 0);
	}
}

/* A packet's time, in seconds and microseconds. */
struct pk {
	uint32_t sec, usec;
};

/* A pcap of n 20-byte frames: byte 0 is id, byte 1 the packet's number
 * in the file (from 1).  cut != 0 ends the file inside one more record. */
static void write_pcap_cut(char *path, const char *sub, const char *name, uint8_t id,
			   const struct pk *ts, int n, int gz, int cut)
{
	struct pg g;
	uint8_t f[20];
	int i;

	pg_init(&g, 0);
	pg_pcap_header(&g, PG_PCAP_USEC, 65535, 1);
	for (i = 0; i < n; i++) {
		memset(f, 0, sizeof(f));
		f[0] = id;
		f[1] = (uint8_t)(i + 1);
		pg_pcap_rec(&g, ts[i].sec, ts[i].usec, f, sizeof(f));
	}
	if (cut) {
		memset(f, 0xee, sizeof(f));
		pg_pcap_rec_raw(&g, 4000000000u, 0, sizeof(f), sizeof(f), f, 7);
	}
	tpath(path, sub, name);
	write_file(path, g.p, g.len, gz);
	pg_free(&g);
}

static void write_pcap(char *path, const char *name, uint8_t id, const struct pk *ts, int n)
{
	write_pcap_cut(path, NULL, name, id, ts, n, 0, 0);
}

/* ---- reading ---- */

struct got {
	uint8_t id, no;        /* frame bytes 0 and 1 */
	struct pb_time ts;
	uint64_t index, file_index;
	char file[PG_PATH_MAX]; /* packet.file, or "" */
};

static void opts_init(struct pb_input_opts *o)
{
	memset(o, 0, sizeof(*o));
	pb_capture_opts_init(&o->cap);
}

static int open_paths(struct pb_input **in, const char *const *paths, int n,
		      const struct pb_input_opts *o)
{
	struct pb_input_opts def;

	if (!o) {
		opts_init(&def);
		o = &def;
	}
	*in = NULL;
	return pb_input_open(in, paths, n, NULL, o);
}

static void take(struct got *g, const struct pb_packet *p)
{
	ck_assert_uint_ge(p->caplen, 2);
	g->id = p->data[0];
	g->no = p->data[1];
	g->ts = p->ts;
	g->index = p->index;
	g->file_index = p->file_index;
	if (p->file)
		snprintf(g->file, sizeof(g->file), "%s", p->file);
	else
		g->file[0] = '\0';
}

/* Read to the end (at most max packets); the end stays the end. */
static int read_all(struct pb_input *in, struct got *g, int max)
{
	struct pb_packet p;
	int n = 0, rc;

	while ((rc = pb_input_next(in, &p)) == 0) {
		ck_assert_int_lt(n, max);
		take(&g[n], &p);
		n++;
	}
	ck_assert_int_eq(rc, PB_EOF);
	ck_assert_int_eq(pb_input_next(in, &p), PB_EOF);
	return n;
}

#define ck_assert_pkt(g, want_id, want_no)                                         \
	do {                                                                       \
		ck_assert_msg((g)->id == (want_id) && (g)->no == (want_no),        \
			      "packet %u/%u, expected %u/%u", (g)->id, (g)->no,    \
			      (unsigned)(want_id), (unsigned)(want_no));           \
	} while (0)

/* ---- merging ---- */

START_TEST(test_merge_interleaved)
{
	static const struct pk ta[] = { { 100, 1 }, { 100, 300 }, { 102, 0 } };
	static const struct pk tb[] = { { 100, 2 }, { 101, 999999 }, { 103, 0 } };
	static const uint8_t want[][2] = { { 1, 1 }, { 2, 1 }, { 1, 2 }, { 2, 2 },
					   { 1, 3 }, { 2, 3 } };
	char a[PG_PATH_MAX], b[PG_PATH_MAX];
	struct pb_input *in;
	struct got g[8];
	struct pb_capture_stats cs;
	int i, n, order;

	write_pcap(a, "a.pcap", 1, ta, 3);
	write_pcap(b, "b.pcap", 2, tb, 3);
	/* the order named does not matter when no times are equal */
	for (order = 0; order < 2; order++) {
		const char *paths[2] = { order ? b : a, order ? a : b };

		ck_assert_int_eq(open_paths(&in, paths, 2, NULL), 0);
		ck_assert_ptr_nonnull(in);
		ck_assert_str_eq(pb_input_name(in), "2 files");
		ck_assert(!pb_input_is_live(in));
		n = read_all(in, g, 8);
		ck_assert_int_eq(n, 6);
		for (i = 0; i < n; i++) {
			const struct pk *t = g[i].id == 1 ? &ta[g[i].no - 1] : &tb[g[i].no - 1];

			ck_assert_pkt(&g[i], want[i][0], want[i][1]);
			/* index: the position in the merged stream */
			ck_assert_uint_eq(g[i].index, (uint64_t)i + 1);
			/* file_index: the position in its own file */
			ck_assert_uint_eq(g[i].file_index, g[i].no);
			ck_assert_str_eq(g[i].file, g[i].id == 1 ? a : b);
			ck_assert_int_eq(g[i].ts.sec, t->sec);
			ck_assert_uint_eq(g[i].ts.nsec, t->usec * 1000u);
		}
		ck_assert_uint_eq(pb_input_stats(in)->packets, 6);
		ck_assert_uint_eq(pb_input_stats(in)->files, 2);
		ck_assert_uint_eq(pb_input_stats(in)->before_since, 0);
		ck_assert_uint_eq(pb_input_stats(in)->after_until, 0);
		pb_input_capture_stats(in, &cs);
		ck_assert_uint_eq(cs.records, 6);
		ck_assert_uint_eq(cs.packets, 6);
		ck_assert_uint_eq(pb_input_errors(in), 0);
		pb_input_free(in);
	}
}
END_TEST

/* Equal times go to the file named first, packet by packet. */
START_TEST(test_merge_ties)
{
	static const struct pk ta[] = { { 10, 0 }, { 10, 0 }, { 20, 0 } };
	static const struct pk tb[] = { { 10, 0 }, { 20, 0 } };
	static const uint8_t want_ab[][2] = { { 1, 1 }, { 1, 2 }, { 2, 1 }, { 1, 3 }, { 2, 2 } };
	static const uint8_t want_ba[][2] = { { 2, 1 }, { 1, 1 }, { 1, 2 }, { 2, 2 }, { 1, 3 } };
	char a[PG_PATH_MAX], b[PG_PATH_MAX];
	struct pb_input *in;
	struct got g[8];
	int i, n;

	write_pcap(a, "a.pcap", 1, ta, 3);
	write_pcap(b, "b.pcap", 2, tb, 2);
	{
		const char *paths[] = { a, b };

		ck_assert_int_eq(open_paths(&in, paths, 2, NULL), 0);
		n = read_all(in, g, 8);
		ck_assert_int_eq(n, 5);
		for (i = 0; i < n; i++) {
			ck_assert_pkt(&g[i], want_ab[i][0], want_ab[i][1]);
			ck_assert_uint_eq(g[i].index, (uint64_t)i + 1);
		}
		pb_input_free(in);
	}
	{
		const char *paths[] = { b, a };

		ck_assert_int_eq(open_paths(&in, paths, 2, NULL), 0);
		n = read_all(in, g, 8);
		ck_assert_int_eq(n, 5);
		for (i = 0; i < n; i++) {
			ck_assert_pkt(&g[i], want_ba[i][0], want_ba[i][1]);
			ck_assert_uint_eq(g[i].file_index, g[i].no);
		}
		pb_input_free(in);
	}
}
END_TEST

/* One input: packet.file is not set, index is the file's own. */
START_TEST(test_single_input)
{
	static const struct pk ta[] = { { 5, 0 }, { 6, 0 }, { 7, 0 } };
	char a[PG_PATH_MAX];
	const char *paths[1];
	struct pb_input *in;
	struct got g[4];
	int i;

	write_pcap(a, "only.pcap", 7, ta, 3);
	paths[0] = a;
	ck_assert_int_eq(open_paths(&in, paths, 1, NULL), 0);
	ck_assert_str_eq(pb_input_name(in), a);
	ck_assert_int_eq(read_all(in, g, 4), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_pkt(&g[i], 7, i + 1);
		ck_assert_uint_eq(g[i].index, (uint64_t)i + 1);
		ck_assert_uint_eq(g[i].file_index, (uint64_t)i + 1);
		ck_assert_str_eq(g[i].file, "");
	}
	ck_assert_uint_eq(pb_input_stats(in)->files, 1);
	pb_input_free(in);
}
END_TEST

/* A directory stands for its regular files in name order; hidden files
 * and subdirectories are left out. */
START_TEST(test_directory)
{
	static const struct pk t5[] = { { 5, 0 } };
	static const struct pk t1[] = { { 1, 0 } };
	enum { ND = 16 };
	/* a permutation of 0..15: the order the files are written in */
	static const int shuffle[ND] = { 11, 3, 14, 0, 7, 9, 1, 15, 5, 12, 2, 8, 13, 6, 10, 4 };
	char p[PG_PATH_MAX], dir[PG_PATH_MAX], extra[PG_PATH_MAX];
	static char names[ND][PG_PATH_MAX];
	struct pb_input *in;
	struct got g[ND + 2];
	int i, n;

	tmkdir("in");
	tmkdir("in/sub");
	/* all at the same time: the ties show the order the directory's files
	 * were taken in, whatever order the directory lists them in */
	for (i = 0; i < ND; i++) {
		int k = shuffle[i];
		char name[32];

		snprintf(name, sizeof(name), "%c%02d.pcap", 'a' + k, 15 - k);
		write_pcap_cut(names[k], "in", name, (uint8_t)(k + 1), t5, 1, 0, 0);
	}
	write_pcap_cut(p, "in", ".hidden.pcap", 99, t1, 1, 0, 0);
	write_pcap_cut(p, "in/sub", "d.pcap", 98, t1, 1, 0, 0);
	tpath(dir, NULL, "in");
	write_pcap(extra, "z.pcap", 100, t5, 1);
	{
		/* a file named after the directory comes after its files */
		const char *paths[] = { dir, extra };

		ck_assert_int_eq(open_paths(&in, paths, 2, NULL), 0);
		ck_assert_str_eq(pb_input_name(in), "17 files");
		n = read_all(in, g, ND + 2);
		ck_assert_int_eq(n, ND + 1);
		for (i = 0; i < ND; i++) {
			ck_assert_pkt(&g[i], i + 1, 1);
			ck_assert_str_eq(g[i].file, names[i]);
			ck_assert_uint_eq(g[i].index, (uint64_t)i + 1);
		}
		ck_assert_pkt(&g[ND], 100, 1);
		ck_assert_str_eq(g[ND].file, extra);
		ck_assert_uint_eq(pb_input_stats(in)->files, ND + 1);
		ck_assert_uint_eq(pb_input_errors(in), 0);
		pb_input_free(in);
	}
	{
		/* named before the directory: first among equal times */
		const char *paths[] = { extra, dir };

		ck_assert_int_eq(open_paths(&in, paths, 2, NULL), 0);
		n = read_all(in, g, ND + 2);
		ck_assert_int_eq(n, ND + 1);
		ck_assert_pkt(&g[0], 100, 1);
		for (i = 0; i < ND; i++)
			ck_assert_pkt(&g[i + 1], i + 1, 1);
		pb_input_free(in);
	}
	{
		/* an empty directory: nothing to read, no packets */
		const char *paths[1];

		tmkdir("empty");
		tpath(p, NULL, "empty");
		paths[0] = p;
		ck_assert_int_eq(open_paths(&in, paths, 1, NULL), 0);
		ck_assert_int_eq(read_all(in, g, 8), 0);
		ck_assert_uint_eq(pb_input_stats(in)->files, 0);
		pb_input_free(in);
	}
}
END_TEST

START_TEST(test_gzip_member)
{
	static const struct pk ta[] = { { 1, 0 }, { 3, 0 } };
	static const struct pk tb[] = { { 2, 0 }, { 4, 0 } };
	char a[PG_PATH_MAX], b[PG_PATH_MAX];
	const char *paths[2];
	struct pb_input *in;
	struct got g[8];
	int i;

	write_pcap(a, "a.pcap", 1, ta, 2);
	write_pcap_cut(b, NULL, "b.pcap.gz", 2, tb, 2, 1, 0);
	paths[0] = a;
	paths[1] = b;
	ck_assert_int_eq(open_paths(&in, paths, 2, NULL), 0);
	ck_assert_int_eq(read_all(in, g, 8), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_pkt(&g[i], i % 2 ? 2 : 1, i / 2 + 1);
		ck_assert_int_eq(g[i].ts.sec, i + 1);
		ck_assert_uint_eq(g[i].index, (uint64_t)i + 1);
	}
	ck_assert_str_eq(g[1].file, b);
	ck_assert_uint_eq(pb_input_errors(in), 0);
	pb_input_free(in);
}
END_TEST

/* Broken members are reported and the others read: one that is not a
 * capture, and one cut inside its second record. */
START_TEST(test_broken_member)
{
	static const struct pk ta[] = { { 1, 0 }, { 3, 0 }, { 5, 0 } };
	static const struct pk tc[] = { { 2, 0 }, { 4, 0 } };
	static const struct pk td[] = { { 2, 500000 } };
	char a[PG_PATH_MAX], b[PG_PATH_MAX], c[PG_PATH_MAX], d[PG_PATH_MAX];
	const char *paths[4];
	struct pb_input *in;
	struct got g[8];
	struct pb_capture_stats cs;
	int i;
	static const uint8_t want[][2] = { { 1, 1 }, { 3, 1 }, { 4, 1 }, { 1, 2 },
					   { 3, 2 }, { 1, 3 } };

	write_pcap(a, "a.pcap", 1, ta, 3);
	tpath(b, NULL, "b.pcap");
	write_file(b, "hello world\n", 12, 0);
	write_pcap(c, "c.pcap", 3, tc, 2);
	write_pcap_cut(d, NULL, "d.pcap", 4, td, 1, 0, 1);
	paths[0] = a;
	paths[1] = b;
	paths[2] = c;
	paths[3] = d;
	ck_assert_int_eq(open_paths(&in, paths, 4, NULL), 0);
	ck_assert_int_eq(read_all(in, g, 8), 6);
	for (i = 0; i < 6; i++) {
		ck_assert_pkt(&g[i], want[i][0], want[i][1]);
		ck_assert_uint_eq(g[i].index, (uint64_t)i + 1);
	}
	/* one problem each: b is no capture, d ends inside a record */
	ck_assert_uint_eq(pb_input_errors(in), 2);
	pb_input_capture_stats(in, &cs);
	ck_assert_uint_eq(cs.packets, 6);
	ck_assert_uint_eq(cs.truncated, 1);
	ck_assert_uint_eq(pb_input_stats(in)->files, 3);
	pb_input_free(in);
}
END_TEST

/* A member that has no packet at the peek: an empty capture (no problem),
 * a capture whose first record is cut (a problem), an empty file and a
 * gzip of nothing (not captures). */
START_TEST(test_empty_at_peek)
{
	static const struct pk ta[] = { { 1, 0 }, { 2, 0 } };
	char a[PG_PATH_MAX], e[PG_PATH_MAX], t[PG_PATH_MAX], z[PG_PATH_MAX], gz[PG_PATH_MAX];
	struct pb_input *in;
	struct got g[8];
	int i;

	write_pcap(a, "a.pcap", 1, ta, 2);
	write_pcap(e, "empty.pcap", 2, NULL, 0);
	write_pcap_cut(t, NULL, "cut.pcap", 3, NULL, 0, 0, 1);
	tpath(z, NULL, "zero.pcap");
	write_file(z, "", 0, 0);
	tpath(gz, NULL, "zero.pcap.gz");
	write_file(gz, "", 0, 1);
	{
		/* the empty capture, named first and last */
		const char *paths[] = { e, a, e };

		ck_assert_int_eq(open_paths(&in, paths, 3, NULL), 0);
		ck_assert_int_eq(read_all(in, g, 8), 2);
		for (i = 0; i < 2; i++) {
			ck_assert_pkt(&g[i], 1, i + 1);
			ck_assert_uint_eq(g[i].index, (uint64_t)i + 1);
			ck_assert_str_eq(g[i].file, a);
		}
		ck_assert_uint_eq(pb_input_errors(in), 0);
		pb_input_free(in);
	}
	{
		const char *paths[] = { t, a };

		ck_assert_int_eq(open_paths(&in, paths, 2, NULL), 0);
		ck_assert_int_eq(read_all(in, g, 8), 2);
		ck_assert_pkt(&g[0], 1, 1);
		ck_assert_pkt(&g[1], 1, 2);
		ck_assert_uint_eq(pb_input_errors(in), 1);
		pb_input_free(in);
	}
	{
		const char *paths[] = { z, a, gz };
		struct pb_capture_stats cs;

		ck_assert_int_eq(open_paths(&in, paths, 3, NULL), 0);
		ck_assert_int_eq(read_all(in, g, 8), 2);
		ck_assert_pkt(&g[1], 1, 2);
		ck_assert_uint_eq(pb_input_errors(in), 2);
		pb_input_capture_stats(in, &cs);
		ck_assert_uint_eq(cs.packets, 2);
		pb_input_free(in);
	}
	{
		/* nothing readable at all */
		const char *paths[] = { e, z };

		ck_assert_int_eq(open_paths(&in, paths, 2, NULL), 0);
		ck_assert_int_eq(read_all(in, g, 8), 0);
		ck_assert_uint_eq(pb_input_errors(in), 1);
		pb_input_free(in);
	}
	{
		/* one input that is not a capture fails at open */
		const char *paths[] = { z };

		ck_assert_int_eq(open_paths(&in, paths, 1, NULL), PB_EFORMAT);
		ck_assert_ptr_null(in);
	}
}
END_TEST

/* A member whose first record is unreadable but whose others are fine:
 * its good packets are merged, and its problem is reported once. */
START_TEST(test_member_bad_first_record)
{
	static const struct pk ta[] = { { 1, 0 }, { 3, 0 } };
	static const char nd[] =
		"{\"not json\n"
		"{\"@timestamp\":\"1970-01-01T00:00:02.000000Z\","
		"\"packet\":{\"data\":\"BQEAAAAAAAAAAAAAAAAAAAAAAAA=\"}}\n"
		"{\"@timestamp\":\"1970-01-01T00:00:04.000000Z\","
		"\"packet\":{\"data\":\"BQIAAAAAAAAAAAAAAAAAAAAAAAA=\"}}\n";
	static const uint8_t want[][2] = { { 1, 1 }, { 5, 1 }, { 1, 2 }, { 5, 2 } };
	char a[PG_PATH_MAX], n[PG_PATH_MAX];
	const char *paths[2];
	struct pb_input *in;
	struct got g[8];
	struct pb_capture_stats cs;
	int i;

	write_pcap(a, "a.pcap", 1, ta, 2);
	tpath(n, NULL, "n.ndjson");
	write_file(n, nd, sizeof(nd) - 1, 0);
	/* alone, it reads as two packets and one problem */
	paths[0] = n;
	ck_assert_int_eq(open_paths(&in, paths, 1, NULL), 0);
	ck_assert_int_eq(read_all(in, g, 8), 2);
	ck_assert_uint_eq(pb_input_errors(in), 1);
	pb_input_free(in);
	/* merged, the same */
	paths[0] = a;
	paths[1] = n;
	ck_assert_int_eq(open_paths(&in, paths, 2, NULL), 0);
	ck_assert_int_eq(read_all(in, g, 8), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_pkt(&g[i], want[i][0], want[i][1]);
		ck_assert_int_eq(g[i].ts.sec, i + 1);
		ck_assert_uint_eq(g[i].index, (uint64_t)i + 1);
		ck_assert_uint_eq(g[i].file_index, want[i][1]);
		ck_assert_str_eq(g[i].file, want[i][0] == 1 ? a : n);
	}
	ck_assert_uint_eq(pb_input_errors(in), 1);
	pb_input_capture_stats(in, &cs);
	ck_assert_uint_eq(cs.packets, 4);
	ck_assert_uint_eq(cs.bad, 1);
	ck_assert_uint_eq(pb_input_stats(in)->files, 2);
	pb_input_free(in);
}
END_TEST

/* ---- limits across files ---- */

/* [since, until] is inclusive; a packet past until ends its file. */
START_TEST(test_since_until)
{
	/* a's fifth packet (4 s) is never reached: a ends at 10 s */
	static const struct pk ta[] = { { 1, 0 }, { 2, 0 }, { 3, 0 }, { 10, 0 }, { 4, 0 } };
	static const struct pk tb[] = { { 2, 500000 }, { 5, 0 }, { 5, 1 } };
	static const uint8_t want[][2] = { { 1, 2 }, { 2, 1 }, { 1, 3 }, { 2, 2 } };
	char a[PG_PATH_MAX], b[PG_PATH_MAX];
	const char *paths[2];
	struct pb_input_opts o;
	struct pb_input *in;
	struct got g[8];
	const struct pb_input_stats *st;
	int i;

	write_pcap(a, "a.pcap", 1, ta, 5);
	write_pcap(b, "b.pcap", 2, tb, 3);
	paths[0] = a;
	paths[1] = b;
	opts_init(&o);
	o.has_since = o.has_until = 1;
	o.since.sec = 2;
	o.until.sec = 5;
	ck_assert_int_eq(open_paths(&in, paths, 2, &o), 0);
	ck_assert_int_eq(read_all(in, g, 8), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_pkt(&g[i], want[i][0], want[i][1]);
		ck_assert_uint_eq(g[i].file_index, want[i][1]);
	}
	st = pb_input_stats(in);
	ck_assert_uint_eq(st->packets, 4);
	ck_assert_uint_eq(st->before_since, 1);
	ck_assert_uint_eq(st->after_until, 2);
	ck_assert_uint_eq(pb_input_errors(in), 0);
	pb_input_free(in);

	/* since alone, one nanosecond after b's second packet */
	opts_init(&o);
	o.has_since = 1;
	o.since.sec = 5;
	o.since.nsec = 1;
	ck_assert_int_eq(open_paths(&in, paths, 2, &o), 0);
	ck_assert_int_eq(read_all(in, g, 8), 2);
	ck_assert_pkt(&g[0], 2, 3);
	ck_assert_pkt(&g[1], 1, 4);
	ck_assert_uint_eq(pb_input_stats(in)->before_since, 6);
	ck_assert_uint_eq(pb_input_stats(in)->after_until, 0);
	pb_input_free(in);

	/* until alone, on one input: the file stops at its first later packet */
	opts_init(&o);
	o.has_until = 1;
	o.until.sec = 3;
	ck_assert_int_eq(open_paths(&in, paths, 1, &o), 0);
	ck_assert_int_eq(read_all(in, g, 8), 3);
	ck_assert_pkt(&g[2], 1, 3);
	ck_assert_uint_eq(pb_input_stats(in)->after_until, 1);
	pb_input_free(in);
}
END_TEST

START_TEST(test_count_across_files)
{
	static const struct pk ta[] = { { 1, 0 }, { 3, 0 }, { 5, 0 } };
	static const struct pk tb[] = { { 2, 0 }, { 4, 0 }, { 6, 0 } };
	char a[PG_PATH_MAX], b[PG_PATH_MAX];
	const char *paths[2];
	struct pb_input_opts o;
	struct pb_input *in;
	struct got g[8];
	int i;

	write_pcap(a, "a.pcap", 1, ta, 3);
	write_pcap(b, "b.pcap", 2, tb, 3);
	paths[0] = a;
	paths[1] = b;
	opts_init(&o);
	o.count = 4;
	ck_assert_int_eq(open_paths(&in, paths, 2, &o), 0);
	ck_assert_int_eq(read_all(in, g, 8), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_pkt(&g[i], i % 2 ? 2 : 1, i / 2 + 1);
		ck_assert_int_eq(g[i].ts.sec, i + 1);
	}
	ck_assert_uint_eq(pb_input_stats(in)->packets, 4);
	pb_input_free(in);

	/* the count counts packets kept, not those skipped by --since */
	o.has_since = 1;
	o.since.sec = 3;
	ck_assert_int_eq(open_paths(&in, paths, 2, &o), 0);
	ck_assert_int_eq(read_all(in, g, 8), 4);
	ck_assert_int_eq(g[0].ts.sec, 3);
	ck_assert_int_eq(g[3].ts.sec, 6);
	ck_assert_uint_eq(pb_input_stats(in)->before_since, 2);
	pb_input_free(in);
}
END_TEST

/* --duration counts capture time from the first packet, inclusive. */
START_TEST(test_duration)
{
	static const struct pk ta[] = { { 100, 0 }, { 101, 0 }, { 103, 0 } };
	static const struct pk tb[] = { { 100, 500000 }, { 102, 0 }, { 102, 500000 } };
	char a[PG_PATH_MAX], b[PG_PATH_MAX];
	const char *paths[2];
	struct pb_input_opts o;
	struct pb_input *in;
	struct got g[8];

	write_pcap(a, "a.pcap", 1, ta, 3);
	write_pcap(b, "b.pcap", 2, tb, 3);
	paths[0] = a;
	paths[1] = b;
	opts_init(&o);
	o.duration = 2.0;
	ck_assert_int_eq(open_paths(&in, paths, 2, &o), 0);
	ck_assert_int_eq(read_all(in, g, 8), 4);
	ck_assert_pkt(&g[0], 1, 1);
	ck_assert_pkt(&g[1], 2, 1);
	ck_assert_pkt(&g[2], 1, 2);
	ck_assert_pkt(&g[3], 2, 2); /* 102 s: exactly 2 s after the first */
	ck_assert_uint_eq(pb_input_stats(in)->packets, 4);
	pb_input_free(in);

	/* from the first packet kept, not the first in the files */
	o.has_since = 1;
	o.since.sec = 101;
	ck_assert_int_eq(open_paths(&in, paths, 2, &o), 0);
	ck_assert_int_eq(read_all(in, g, 8), 4);
	ck_assert_pkt(&g[0], 1, 2);
	ck_assert_pkt(&g[3], 1, 3);
	pb_input_free(in);
}
END_TEST

/* ---- many files ---- */

/* Descriptors open in this process now. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A rotated set: file i has packets at 10i and 10i + 15 seconds, so each
 * overlaps the next.  The merge interleaves them, and only the files the
 * stream is inside are open. */
START_TEST(test_many_files)
{
	enum { NF = 200 };
	static char names[NF][PG_PATH_MAX];
	const char *paths[NF + 1];
	struct pb_input *in;
	struct pb_packet p;
	int i, n = 0, rc, base, most = 0, seen[NF] = { 0 };
	int64_t last = -1;

	tmkdir("set");
	for (i = 0; i < NF; i++) {
		struct pk ts[2] = { { 1000u + 10u * (uint32_t)i, 0 },
				    { 1000u + 10u * (uint32_t)i + 15u, 0 } };
		char name[32];

		snprintf(name, sizeof(name), "f%03d.pcap", i);
		write_pcap_cut(names[i], "set", name, (uint8_t)i, ts, 2, 0, 0);
		paths[i] = names[i];
	}
	base = open_fds();
	ck_assert_int_gt(base, 0);
	/* named in reverse: the merge orders them by time */
	for (i = 0; i < NF; i++)
		paths[i] = names[NF - 1 - i];
	ck_assert_int_eq(open_paths(&in, paths, NF, NULL), 0);
	ck_assert_int_eq(open_fds(), base); /* the peek closed them again */
	while ((rc = pb_input_next(in, &p)) == 0) {
		int64_t t = pb_time_ns(&p.ts);
		int f = p.data[0], fds = open_fds() - base;

		ck_assert_int_lt(n, 2 * NF);
		n++;
		ck_assert_msg(t > last, "packet %d out of order", n);
		last = t;
		ck_assert_uint_eq(p.index, (uint64_t)n);
		ck_assert_int_eq(p.data[1], seen[f] + 1);
		seen[f]++;
		ck_assert_uint_eq(p.file_index, (uint64_t)seen[f]);
		ck_assert_str_eq(p.file, names[f]);
		if (fds > most)
			most = fds;
	}
	ck_assert_int_eq(rc, PB_EOF);
	ck_assert_int_eq(n, 2 * NF);
	for (i = 0; i < NF; i++)
		ck_assert_int_eq(seen[i], 2);
	/* at most the two overlapping files (and a spare) at any time */
	ck_assert_msg(most >= 1 && most <= 3, "%d files open at once", most);
	ck_assert_uint_eq(pb_input_stats(in)->files, NF);
	ck_assert_uint_eq(pb_input_errors(in), 0);
	pb_input_free(in);
	ck_assert_int_eq(open_fds(), base);

	/* the directory of them reads the same */
	{
		char dir[PG_PATH_MAX];
		const char *dp[1];

		tpath(dir, NULL, "set");
		dp[0] = dir;
		ck_assert_int_eq(open_paths(&in, dp, 1, NULL), 0);
		ck_assert_str_eq(pb_input_name(in), "200 files");
		n = 0;
		last = -1;
		while ((rc = pb_input_next(in, &p)) == 0) {
			ck_assert(pb_time_ns(&p.ts) > last);
			last = pb_time_ns(&p.ts);
			n++;
		}
		ck_assert_int_eq(rc, PB_EOF);
		ck_assert_int_eq(n, 2 * NF);
		pb_input_free(in);
	}
}
END_TEST

/* ---- usage ---- */

START_TEST(test_stdin_twice)
{
	static const struct pk ta[] = { { 1, 0 } };
	static int dummy;
	struct pb_input_opts o;
	char a[PG_PATH_MAX];
	struct pb_input *in;

	opts_init(&o);
	write_pcap(a, "a.pcap", 1, ta, 1);
	{
		const char *paths[] = { "-", "-" };

		in = (struct pb_input *)(void *)&dummy;
		ck_assert_int_eq(pb_input_open(&in, paths, 2, NULL, &o), PB_EUSAGE);
		ck_assert_ptr_null(in);
	}
	{
		const char *paths[] = { "-", a, "-" };

		in = (struct pb_input *)(void *)&dummy;
		ck_assert_int_eq(pb_input_open(&in, paths, 3, NULL, &o), PB_EUSAGE);
		ck_assert_ptr_null(in);
	}
	{
		/* a path that does not exist, alone: the open fails */
		const char *paths[] = { "/nonexistent/pbtest.pcap" };

		in = (struct pb_input *)(void *)&dummy;
		ck_assert_int_eq(pb_input_open(&in, paths, 1, NULL, &o), PB_EIO);
		ck_assert_ptr_null(in);
	}
}
END_TEST

static Suite *input_suite(void)
{
	Suite *s = suite_create("input");
	TCase *tc;

	tc = tcase_create("merge");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_merge_interleaved);
	tcase_add_test(tc, test_merge_ties);
	tcase_add_test(tc, test_single_input);
	tcase_add_test(tc, test_directory);
	tcase_add_test(tc, test_gzip_member);
	tcase_add_test(tc, test_broken_member);
	tcase_add_test(tc, test_empty_at_peek);
	tcase_add_test(tc, test_member_bad_first_record);
	tcase_add_test(tc, test_many_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_since_until);
	tcase_add_test(tc, test_count_across_files);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_stdin_twice);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(input_suite());
	int failed;

	/* the reported input problems are expected: keep the output to
	 * Check's own lines */
	pb_log_set_level(PB_LOG_QUIET);
	pg_tmpname(g_base); /* .../pbtest-XXXXXX */
	if (!mkdtemp(g_base)) {
		perror(g_base);
		srunner_free(sr);
		return EXIT_FAILURE;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rm_tree(g_base);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
