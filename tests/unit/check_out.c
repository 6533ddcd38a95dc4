/*
 * check_out.c - out/: event fields and ids (doc.h), the SQLite writer,
 * the pcap writer, index name patterns, bulk items and the template.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "out/carve.h"
#include "out/doc.h"
#include "out/es.h"
#include "out/pcapw.h"
#include "out/sqlite.h"
#include "pb.h"
#include "util/log.h"

static char dir[] = "/tmp/check_out.XXXXXX";

static const char *tmp_path(const char *name)
{
	static char path[4][256];
	static int k;
	char *p = path[k++ & 3];

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

/* The id of an event given as text. */
static void id_of(const char *text, char id[PB_OUT_ID_LEN + 1], char *canon, size_t n)
{
	cJSON *o = cJSON_Parse(text);
	struct pb_buf scratch;
	const char *c;
	size_t len;

	ck_assert_ptr_nonnull(o);
	pb_buf_init(&scratch, 1 << 20);
	ck_assert_int_eq(pb_out_canon(o, text, strlen(text), &scratch, &c, &len), 0);
	ck_assert_int_eq(pb_out_event_id(c, len, id), 0);
	snprintf(canon, n, "%.*s", (int)len, c);
	pb_buf_release(&scratch);
	cJSON_Delete(o);
}

START_TEST(test_doc_fields)
{
	cJSON *o = cJSON_Parse("{\"a\":{\"b\":{\"c\":1}},\"x.y\":\"s\",\"p\":{\"q.r\":\"7\"},"
			       "\"t\":true,\"big\":1e30,\"neg\":-5,\"f\":1.5}");
	int64_t v;

	ck_assert_ptr_nonnull(o);
	ck_assert(pb_out_int(o, "a.b.c", &v) && v == 1);
	ck_assert_str_eq(pb_out_str(o, "x.y"), "s");
	ck_assert(pb_out_int(o, "p.q.r", &v) && v == 7);   /* digits in a string */
	ck_assert_ptr_null(pb_out_field(o, "a.b.d"));
	ck_assert_ptr_null(pb_out_field(o, "a.b.c.d"));
	ck_assert_ptr_null(pb_out_str(o, "a.b.c"));         /* not a string */
	ck_assert(!pb_out_int(o, "big", &v));
	ck_assert(!pb_out_int(o, "f", &v));
	ck_assert(pb_out_int(o, "neg", &v) && v == -5);
	ck_assert(!pb_out_int(o, "t", &v));
	ck_assert_ptr_null(pb_out_field_nested(o, "x.y")); /* dotted: not nested */
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_doc_canon_and_id)
{
	char a[PB_OUT_ID_LEN + 1], b[PB_OUT_ID_LEN + 1], c[PB_OUT_ID_LEN + 1],
	     d[PB_OUT_ID_LEN + 1], ca[512], cb[512], cc[512], cd[512];

	id_of("{\"@timestamp\":\"2026-01-01T00:00:00.000001Z\",\"source\":{\"ip\":\"1.2.3.4\","
	      "\"port\":5},\"s\":\"a b\\\"c\"}", a, ca, sizeof(ca));
	/* the same with white space, and with dotted keys */
	id_of(" { \"@timestamp\" : \"2026-01-01T00:00:00.000001Z\",\n\t\"source\":{ \"ip\":"
	      "\"1.2.3.4\", \"port\":5 }, \"s\" : \"a b\\\"c\" } ", b, cb, sizeof(cb));
	id_of("{\"@timestamp\":\"2026-01-01T00:00:00.000001Z\",\"source.ip\":\"1.2.3.4\","
	      "\"source.port\":5,\"s\":\"a b\\\"c\"}", c, cc, sizeof(cc));
	id_of("{\"@timestamp\":\"2026-01-01T00:00:00.000002Z\",\"source\":{\"ip\":\"1.2.3.4\","
	      "\"port\":5},\"s\":\"a b\\\"c\"}", d, cd, sizeof(cd));
	ck_assert_str_eq(ca, "{\"@timestamp\":\"2026-01-01T00:00:00.000001Z\",\"source\":"
			     "{\"ip\":\"1.2.3.4\",\"port\":5},\"s\":\"a b\\\"c\"}");
	ck_assert_str_eq(cb, ca);
	ck_assert_str_eq(cc, ca);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, c);
	ck_assert_str_ne(a, d);
	ck_assert_uint_eq(strlen(a), PB_OUT_ID_LEN);
	ck_assert_uint_eq(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789-_"), PB_OUT_ID_LEN);
}
END_TEST

START_TEST(test_doc_nest_conflict)
{
	/* a dotted key whose prefix is a value stays dotted; nested objects
	 * gather several dotted keys in the place of the first */
	char id[PB_OUT_ID_LEN + 1], canon[512];

	id_of("{\"a\":1,\"a.b\":2,\"c.d\":3,\"e\":4,\"c.f\":{\"g.h\":5}}", id, canon, sizeof(canon));
	ck_assert_str_eq(canon, "{\"a\":1,\"a.b\":2,\"c\":{\"d\":3,\"f\":{\"g\":{\"h\":5}}},\"e\":4}");
}
END_TEST

START_TEST(test_index_pattern)
{
	struct pb_es_index *ix;
	struct pb_buf out;
	const char *why = NULL;
	char err[256];
	cJSON *ev = cJSON_Parse("{\"@timestamp\":\"2026-03-04T05:06:07.123456Z\",\"type\":\"DNS\","
				"\"agent\":{\"version\":\"8.1\"},\"n\":42}");

	pb_buf_init(&out, 4096);
	ck_assert_int_eq(pb_es_index_compile(&ix, "pb-%{[type]}-%{[agent.version]}-%{[n]}-"
					     "%{+yyyy.MM.dd-HH:mm:ss}-%{+yy}", err, sizeof(err)), 0);
	ck_assert_int_eq(pb_es_index_eval(ix, ev, &out, &why), 0);
	ck_assert_str_eq(out.data, "pb-dns-8.1-42-2026.03.04-05:06:07-26");
	pb_es_index_free(ix);
	ck_assert_int_eq(pb_es_index_compile(&ix, "x-%{[no.such]:none}-%{[agent.nothing]}", err,
					     sizeof(err)), 0);
	ck_assert_int_eq(pb_es_index_eval(ix, ev, &out, &why), PB_EINVAL);
	ck_assert_ptr_nonnull(why);
	pb_es_index_free(ix);
	ck_assert_int_eq(pb_es_index_compile(&ix, "a-%{+yyyy}", err, sizeof(err)), 0);
	cJSON_DeleteItemFromObject(ev, "@timestamp");
	ck_assert_int_eq(pb_es_index_eval(ix, ev, &out, &why), PB_EINVAL);
	pb_es_index_free(ix);
	ck_assert_int_eq(pb_es_index_compile(&ix, "a-%{oops", err, sizeof(err)), PB_EUSAGE);
	ck_assert_int_eq(pb_es_index_compile(&ix, "a-%{+yyyy.ww}", err, sizeof(err)), PB_EUSAGE);
	ck_assert_int_eq(pb_es_index_compile(&ix, "a-%{x}", err, sizeof(err)), PB_EUSAGE);
	ck_assert_int_eq(pb_es_index_compile(&ix, "a-%{[]}", err, sizeof(err)), PB_EUSAGE);
	ck_assert_int_eq(pb_es_index_compile(&ix, "", err, sizeof(err)), PB_EUSAGE);
	cJSON_Delete(ev);
	pb_buf_release(&out);
}
END_TEST

START_TEST(test_bulk_item)
{
	struct pb_buf b;

	pb_buf_init(&b, 4096);
	ck_assert_int_eq(pb_es_bulk_item(&b, 1, "i", "ID", NULL, "{\"a\":1}", 7), 0);
	ck_assert_int_eq(pb_es_bulk_item(&b, 0, "j\"k", "ID2", "p", "{}", 2), 0);
	ck_assert_str_eq(pb_buf_cstr(&b),
			 "{\"create\":{\"_index\":\"i\",\"_id\":\"ID\"}}\n{\"a\":1}\n"
			 "{\"index\":{\"_index\":\"j\\\"k\",\"_id\":\"ID2\",\"pipeline\":\"p\"}}\n{}\n");
	pb_buf_release(&b);
}
END_TEST

START_TEST(test_template)
{
	struct pb_buf b;
	cJSON *t;

	pb_buf_init(&b, 1 << 20);
	ck_assert_int_eq(pb_es_template(&b, "pb-*", 1), 0);
	t = cJSON_Parse(pb_buf_cstr(&b));
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(pb_out_str(t, "template.mappings.properties.@timestamp.type"), "date_nanos");
	ck_assert_ptr_nonnull(pb_out_field(t, "data_stream"));
	ck_assert_str_eq(pb_out_str(t, "template.mappings.properties.destination.properties.ip.type"),
			 "ip");
	ck_assert_str_eq(pb_out_str(t, "template.mappings.properties.http.properties.response."
				       "properties.status_code.type"), "long");
	cJSON_Delete(t);
	pb_buf_release(&b);
}
END_TEST

/* ---- SQLite ---- */

static int64_t one_int(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t v = -1;

	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static int add_text(struct pb_sqlite *s, const char *text)
{
	cJSON *o = cJSON_Parse(text);
	struct pb_buf scratch;
	const char *c;
	size_t len;
	char id[PB_OUT_ID_LEN + 1];
	int rc;

	pb_buf_init(&scratch, 1 << 20);
	ck_assert_int_eq(pb_out_canon(o, text, strlen(text), &scratch, &c, &len), 0);
	ck_assert_int_eq(pb_out_event_id(c, len, id), 0);
	rc = pb_sqlite_add(s, o, c, len, id);
	pb_buf_release(&scratch);
	cJSON_Delete(o);
	return rc;
}

START_TEST(test_sqlite_rows)
{
	const char *db = tmp_path("a.db");
	struct pb_sqlite_opts o;
	struct pb_sqlite *s;

	pb_sqlite_opts_init(&o);
	o.batch = 2;
	ck_assert_int_eq(pb_sqlite_open(&s, db, &o), 0);
	ck_assert_int_eq(add_text(s, "{\"@timestamp\":\"2026-01-01T00:00:01.5Z\",\"type\":\"http\","
				  "\"source\":{\"ip\":\"10.0.0.1\",\"port\":1234},\"destination\":"
				  "{\"ip\":\"10.0.0.2\",\"port\":\"80\"},\"http\":{\"response\":"
				  "{\"status_code\":404}},\"event\":{\"duration\":1500}}"), 0);
	ck_assert_int_eq(add_text(s, "{\"@timestamp\":\"2026-01-01T00:00:01.5Z\",\"type\":\"http\","
				  "\"source\":{\"ip\":\"10.0.0.1\",\"port\":1234},\"destination\":"
				  "{\"ip\":\"10.0.0.2\",\"port\":\"80\"},\"http\":{\"response\":"
				  "{\"status_code\":404}},\"event\":{\"duration\":1500}}"), 1);
	ck_assert_int_eq(add_text(s, "{\"type\":\"mysql\",\"mysql.error_code\":1146,"
				  "\"flow\":{\"final\":true}}"), 0);
	ck_assert_int_eq(pb_sqlite_stats(s)->inserted, 2);
	ck_assert_int_eq(pb_sqlite_stats(s)->duplicates, 1);
	ck_assert_int_eq(pb_sqlite_stats(s)->no_time, 1);
	ck_assert_int_eq(pb_sqlite_close(s), 0);
	ck_assert_int_eq(one_int(db, "select count(*) from events"), 2);
	ck_assert_int_eq(one_int(db, "select ts from events where type='http'"),
			 1767225601500000000LL);
	ck_assert_int_eq(one_int(db, "select dst_port + src_port + http_status + duration "
				     "from events where type='http'"), 80 + 1234 + 404 + 1500);
	ck_assert_int_eq(one_int(db, "select error_code = '1146' and final = 1 and ts is null "
				     "from events where type='mysql'"), 1);
	ck_assert_int_eq(one_int(db, "select json_extract(doc, '$.mysql.error_code') "
				     "from events where type='mysql'"), 1146);
	ck_assert_int_eq(one_int(db, "pragma user_version"), PB_SQLITE_SCHEMA_VERSION);
	/* open again: nothing changes, and the views are there */
	ck_assert_int_eq(pb_sqlite_open(&s, db, &o), 0);
	ck_assert_int_eq(pb_sqlite_close(s), 0);
	ck_assert_int_eq(one_int(db, "select count(*) from sqlite_master where type='view'"), 5);
}
END_TEST

START_TEST(test_sqlite_refuse)
{
	const char *db = tmp_path("b.db");
	struct pb_sqlite_opts o;
	struct pb_sqlite *s;
	sqlite3 *h;

	pb_sqlite_opts_init(&o);
	ck_assert_int_eq(pb_sqlite_open(&s, db, &o), 0);
	ck_assert_int_eq(pb_sqlite_close(s), 0);
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "pragma user_version = 7", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	ck_assert_int_eq(pb_sqlite_open(&s, db, &o), PB_EFORMAT);
	db = tmp_path("c.db");
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "create table t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	ck_assert_int_eq(pb_sqlite_open(&s, db, &o), PB_EFORMAT);
	ck_assert_int_eq(pb_sqlite_open(&s, "/nonexistent/dir/x.db", &o), PB_EIO);
}
END_TEST

/* ---- pcap ---- */

static void pkt(struct pb_packet *p, int64_t sec, uint32_t nsec, int prec, uint32_t lt,
		const uint8_t *d, uint32_t n)
{
	memset(p, 0, sizeof(*p));
	p->ts.sec = sec;
	p->ts.nsec = nsec;
	p->ts.prec = (uint8_t)prec;
	p->linktype = lt;
	p->caplen = n;
	p->len = n + 10;
	p->data = d;
}

/* Read path back: packets as "sec.nsec/prec/lt/len/caplen/byte0" joined by ' '. */
static void read_back(const char *path, char *out, size_t n, int *kind)
{
	struct pb_capture_opts co;
	struct pb_capture *c;
	struct pb_packet p;

	out[0] = '\0';
	pb_capture_opts_init(&co);
	ck_assert_int_eq(pb_capture_open_file(&c, path, &co), 0);
	while (pb_capture_next(c, &p) == 0)
		snprintf(out + strlen(out), n - strlen(out), "%s%lld.%09u/%d/%u/%u/%u/%02x",
			 out[0] ? " " : "", (long long)p.ts.sec, p.ts.nsec, p.ts.prec,
			 p.linktype, p.len, p.caplen, p.data[0]);
	*kind = pb_capture_kind(c);
	pb_capture_free(c);
}

START_TEST(test_pcapw_forms)
{
	static const uint8_t d1[] = { 1, 2, 3 }, d2[] = { 0xaa, 5, 6, 7, 8 };
	struct pb_pcapw *w;
	struct pb_packet p;
	char got[1024];
	int kind;
	const char *path = tmp_path("a.pcap");

	/* one link type, microseconds: a microsecond pcap */
	ck_assert_int_eq(pb_pcapw_open(&w, path, 0), 0);
	pkt(&p, 100, 1000, 6, 1, d1, 3);
	ck_assert_int_eq(pb_pcapw_write(w, &p), 0);
	pkt(&p, 101, 2000, 6, 1, d2, 5);
	ck_assert_int_eq(pb_pcapw_write(w, &p), 0);
	ck_assert_int_eq(pb_pcapw_stats(w)->format, 1);
	ck_assert_int_eq(pb_pcapw_close(w), 0);
	read_back(path, got, sizeof(got), &kind);
	ck_assert_int_eq(kind, PB_INPUT_PCAP);
	ck_assert_str_eq(got, "100.000001000/6/1/13/3/01 101.000002000/6/1/15/5/aa");

	/* then nanoseconds: rewritten as a nanosecond pcap */
	ck_assert_int_eq(pb_pcapw_open(&w, path, 0), 0);
	pkt(&p, 100, 1000, 6, 1, d1, 3);
	ck_assert_int_eq(pb_pcapw_write(w, &p), 0);
	pkt(&p, 101, 2345, 9, 1, d2, 5);
	ck_assert_int_eq(pb_pcapw_write(w, &p), 0);
	ck_assert_int_eq(pb_pcapw_stats(w)->format, 2);
	ck_assert_int_eq(pb_pcapw_stats(w)->rewrites, 1);
	ck_assert_int_eq(pb_pcapw_close(w), 0);
	read_back(path, got, sizeof(got), &kind);
	ck_assert_str_eq(got, "100.000001000/9/1/13/3/01 101.000002345/9/1/15/5/aa");

	/* then another link type: pcapng, each interface keeping its precision */
	ck_assert_int_eq(pb_pcapw_open(&w, path, 0), 0);
	pkt(&p, 100, 1000, 6, 1, d1, 3);
	ck_assert_int_eq(pb_pcapw_write(w, &p), 0);
	pkt(&p, 101, 2345, 9, 113, d2, 5);
	ck_assert_int_eq(pb_pcapw_write(w, &p), 0);
	pkt(&p, 102, 3000, 6, 1, d2, 4);
	ck_assert_int_eq(pb_pcapw_write(w, &p), 0);
	ck_assert_int_eq(pb_pcapw_stats(w)->format, 3);
	ck_assert_int_eq(pb_pcapw_close(w), 0);
	read_back(path, got, sizeof(got), &kind);
	ck_assert_int_eq(kind, PB_INPUT_PCAPNG);
	ck_assert_str_eq(got, "100.000001000/6/1/13/3/01 101.000002345/9/113/15/5/aa "
			      "102.000003000/6/1/14/4/aa");

	/* no packets: still a capture */
	ck_assert_int_eq(pb_pcapw_open(&w, path, 1), 0);
	ck_assert_int_eq(pb_pcapw_close(w), 0);
	read_back(path, got, sizeof(got), &kind);
	ck_assert_str_eq(got, "");
	ck_assert_int_eq(pb_pcapw_open(&w, "/nonexistent/dir/x.pcap", 0), PB_EIO);
}
END_TEST


/* ---- carving ---- */

static void decoded(struct pb_decoded *d, const uint8_t *s, const uint8_t *t, uint8_t alen,
		    uint8_t proto, int ports, uint16_t sp, uint16_t dp)
{
	memset(d, 0, sizeof(*d));
	d->src_ip = s;
	d->dst_ip = t;
	d->addr_len = alen;
	d->proto = proto;
	d->has_proto = 1;
	d->has_ports = (uint8_t)ports;
	d->sport = sp;
	d->dport = dp;
}

START_TEST(test_carve)
{
	static const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 }, c3[4] = { 10, 0, 0, 3 };
	struct pb_carve *c = pb_carve_new();
	struct pb_packet p;
	struct pb_decoded d;
	const char *why = NULL;
	cJSON *ev;

	ck_assert_ptr_nonnull(c);
	/* by packet numbers */
	ev = cJSON_Parse("{\"source\":{\"ip\":\"10.0.0.1\",\"port\":1000},\"destination\":"
			 "{\"ip\":\"10.0.0.2\",\"port\":80},\"network\":{\"transport\":\"tcp\"},"
			 "\"pb\":{\"packet\":{\"first\":5,\"last\":8}}}");
	ck_assert_int_eq(pb_carve_add(c, ev, &why), 0);
	cJSON_Delete(ev);
	/* by time, client/server, dotted */
	ev = cJSON_Parse("{\"client.ip\":\"10.0.0.1\",\"server.ip\":\"10.0.0.3\","
			 "\"network.transport\":\"icmp\",\"event\":{\"start\":"
			 "\"1970-01-01T00:00:10.000000Z\",\"end\":\"1970-01-01T00:00:11.000000Z\"}}");
	ck_assert_int_eq(pb_carve_add(c, ev, &why), 0);
	cJSON_Delete(ev);
	ev = cJSON_Parse("{\"type\":\"x\"}");
	ck_assert_int_eq(pb_carve_add(c, ev, &why), PB_EINVAL);
	ck_assert_ptr_nonnull(why);
	cJSON_Delete(ev);
	ck_assert_uint_eq(pb_carve_count(c), 2);

	memset(&p, 0, sizeof(p));
	p.index = 6;
	decoded(&d, b, a, 4, 6, 1, 80, 1000);          /* the reply direction */
	ck_assert(pb_carve_match(c, &p, &d));
	p.index = 9;                                    /* after the range */
	ck_assert(!pb_carve_match(c, &p, &d));
	p.index = 5;
	decoded(&d, a, b, 4, 6, 1, 1001, 80);           /* another port */
	ck_assert(!pb_carve_match(c, &p, &d));
	decoded(&d, a, b, 4, 17, 1, 1000, 80);          /* another transport */
	ck_assert(!pb_carve_match(c, &p, &d));
	decoded(&d, a, b, 4, 6, 0, 0, 0);               /* a later fragment */
	d.is_fragment = 1;
	ck_assert(pb_carve_match(c, &p, &d));
	p.ts.sec = 10;
	p.ts.nsec = 500000000;
	decoded(&d, c3, a, 4, 1, 0, 0, 0);              /* ICMP, in time */
	ck_assert(pb_carve_match(c, &p, &d));
	p.ts.sec = 12;
	ck_assert(!pb_carve_match(c, &p, &d));
	pb_carve_free(c);
}
END_TEST

static Suite *out_suite(void)
{
	Suite *s = suite_create("out");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_doc_fields);
	tcase_add_test(tc, test_doc_canon_and_id);
	tcase_add_test(tc, test_doc_nest_conflict);
	tcase_add_test(tc, test_index_pattern);
	tcase_add_test(tc, test_bulk_item);
	tcase_add_test(tc, test_template);
	tcase_add_test(tc, test_sqlite_rows);
	tcase_add_test(tc, test_sqlite_refuse);
	tcase_add_test(tc, test_pcapw_forms);
	tcase_add_test(tc, test_carve);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(out_suite());
	char cmd[300];
	int failed;

	if (!mkdtemp(dir))
		return 99;
	pb_log_set_prog("check_out");
	pb_log_set_level(PB_LOG_QUIET);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		failed++;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
