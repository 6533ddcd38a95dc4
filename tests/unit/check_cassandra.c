/*
 * check_cassandra.c - the Cassandra CQL parser (proto/cassandra.c) driven
 * as the engine drives it (txnharness.h): frames of v1 to v5, every
 * request and response body, pairing by stream id (out of order, reused
 * ids, the pending cap), server pushes, ERROR details, LZ4 and Snappy
 * bodies, v5 segments (CRC24, CRC32, LZ4, envelopes spread over segments
 * and segments holding several), hostile lengths and types, every split
 * point, gaps, mid-stream starts, FIN and close, timeouts, and every
 * option.
 *
 * Endpoint 0 (10.0.0.1:40000) is the client, endpoint 1 (10.0.0.2:9042)
 * the server.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <lz4.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "conf/conf.h"
#include "proto/proto.h"
#include "txnharness.h"

#define SEC INT64_C(1000000000)

/* opcodes */
enum {
	ERROR = 0, STARTUP = 1, READY = 2, AUTHENTICATE = 3, OPTIONS = 5,
	SUPPORTED = 6, QUERY = 7, RESULT = 8, PREPARE = 9, EXECUTE = 10,
	REGISTER = 11, EVENT = 12, BATCH = 13, AUTH_CHALLENGE = 14,
	AUTH_RESPONSE = 15, AUTH_SUCCESS = 16,
};

/* ---- a byte builder ---- */

struct b {
	uint8_t d[1 << 19];
	size_t n;
};

static struct b *bnew(void)
{
	struct b *b = calloc(1, sizeof(*b));

	ck_assert_ptr_nonnull(b);
	return b;
}

static void put(struct b *b, const void *p, size_t n)
{
	ck_assert(b->n + n <= sizeof(b->d));
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void u8(struct b *b, unsigned v)
{
	uint8_t x = (uint8_t)v;

	put(b, &x, 1);
}

static void be16(struct b *b, unsigned v)
{
	u8(b, v >> 8);
	u8(b, v);
}

static void be32(struct b *b, uint32_t v)
{
	be16(b, v >> 16);
	be16(b, v & 0xFFFF);
}

static void be64(struct b *b, uint64_t v)
{
	be32(b, (uint32_t)(v >> 32));
	be32(b, (uint32_t)v);
}

static void str(struct b *b, const char *s)
{
	be16(b, (unsigned)strlen(s));
	put(b, s, strlen(s));
}

static void lstr(struct b *b, const char *s)
{
	be32(b, (uint32_t)strlen(s));
	put(b, s, strlen(s));
}

static void bytes(struct b *b, const void *p, int n)
{
	be32(b, (uint32_t)n);
	if (n > 0)
		put(b, p, (size_t)n);
}

/* a frame of version v (0x04 request, 0x84 response) around body */
static void frame(struct b *out, unsigned v, unsigned flags, int stream, unsigned op,
		  const struct b *body)
{
	size_t n = body ? body->n : 0;

	u8(out, v);
	u8(out, flags);
	if ((v & 0x7F) <= 2) {
		u8(out, (unsigned)stream & 0xFF);
	} else {
		be16(out, (unsigned)stream & 0xFFFF);
	}
	u8(out, op);
	be32(out, (uint32_t)n);
	if (n)
		put(out, body->d, n);
}

/* ---- the harness ---- */

static const struct pb_proto *cql(void)
{
	const struct pb_proto *p = pb_proto_find("cassandra");

	ck_assert_ptr_nonnull(p);
	return p;
}

static struct th *mk(const char *yaml)
{
	struct th *h = th_new(cql(), 6, 40000, 9042);

	if (yaml)
		th_load_conf(h, yaml);
	return h;
}

static void cli(struct th *h, const struct b *b)
{
	th_tcp(h, 0, b->d, b->n);
}

static void srv(struct th *h, const struct b *b)
{
	th_tcp(h, 1, b->d, b->n);
}

/* event i, which the caller frees */
/* common bodies */
static void q_body(struct b *b, const char *q, unsigned cons)
{
	lstr(b, q);
	be16(b, cons);
	u8(b, 0);
}

static void query(struct b *out, int stream, const char *q)
{
	struct b *body = bnew();

	q_body(body, q, 1);
	frame(out, 0x04, 0, stream, QUERY, body);
	free(body);
}

/* a v5 QUERY: flags are an [int] */
static void query5(struct b *out, int stream, const char *q)
{
	struct b *body = bnew();

	lstr(body, q);
	be16(body, 1);
	be32(body, 0);
	frame(out, 0x05, 0, stream, QUERY, body);
	free(body);
}

static void result_void(struct b *out, int stream)
{
	struct b *body = bnew();

	be32(body, 1);
	frame(out, 0x84, 0, stream, RESULT, body);
	free(body);
}

/* rows: ks.tb, columns id int and name varchar, n rows */
static void rows_body(struct b *body, unsigned flags, const char *paging, int n)
{
	int i;

	be32(body, 2);
	be32(body, flags);
	be32(body, 2);
	if (flags & 0x02)
		bytes(body, paging, (int)strlen(paging));
	if (!(flags & 0x04)) {
		if (flags & 0x01) {
			str(body, "ks");
			str(body, "tb");
		}
		if (!(flags & 0x01)) {
			str(body, "ks");
			str(body, "tb");
		}
		str(body, "id");
		be16(body, 0x0009);
		if (!(flags & 0x01)) {
			str(body, "ks");
			str(body, "tb");
		}
		str(body, "name");
		be16(body, 0x000D);
	}
	be32(body, (uint32_t)n);
	for (i = 0; i < n; i++) {
		uint8_t v[4] = { 0, 0, 0, (uint8_t)i };

		bytes(body, v, 4);
		bytes(body, "abc", 3);
	}
}

static void result_rows(struct b *out, int stream, int n)
{
	struct b *body = bnew();

	rows_body(body, 0x01, NULL, n);
	frame(out, 0x84, 0, stream, RESULT, body);
	free(body);
}

/* ---- checksums of v5 segments (as in the specification) ---- */

static uint32_t crc24(const uint8_t *p, size_t n)
{
	uint32_t crc = 0x875060;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		crc ^= (uint32_t)p[i] << 16;
		for (k = 0; k < 8; k++) {
			crc <<= 1;
			if (crc & 0x1000000)
				crc ^= 0x1974F0B;
		}
	}
	return crc & 0xFFFFFF;
}

static uint32_t crc32s(const uint8_t *p, size_t n)
{
	static const uint8_t salt[4] = { 0xFA, 0x2D, 0x55, 0xCA };
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, salt, 4);
	c = crc32(c, p, (uInt)n);
	return (uint32_t)c;
}

static void le(struct b *b, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		u8(b, (unsigned)(v >> (8 * i)) & 0xFF);
}

/* an uncompressed segment around p[0..n) */
static void segment(struct b *out, const uint8_t *p, size_t n, int selfc)
{
	uint8_t h[3];
	uint32_t v = (uint32_t)n | (selfc ? 1u << 17 : 0);

	h[0] = v & 0xFF;
	h[1] = (v >> 8) & 0xFF;
	h[2] = (v >> 16) & 0xFF;
	put(out, h, 3);
	le(out, crc24(h, 3), 3);
	put(out, p, n);
	le(out, crc32s(p, n), 4);
}

/* an LZ4 segment (compressed when that is shorter) */
static void segment_lz4(struct b *out, const uint8_t *p, size_t n, int selfc)
{
	char *c = malloc(LZ4_compressBound((int)n) + 1);
	int cn = LZ4_compress_default((const char *)p, c, (int)n, LZ4_compressBound((int)n));
	uint64_t v;
	uint8_t h[5];
	int i;

	ck_assert_int_gt(cn, 0);
	if ((size_t)cn >= n) {
		memcpy(c, p, n);
		cn = (int)n;
		v = (uint64_t)n;                 /* stored: uncompressed length 0 */
	} else {
		v = (uint64_t)cn | (uint64_t)n << 17;
	}
	if (selfc)
		v |= (uint64_t)1 << 34;
	for (i = 0; i < 5; i++)
		h[i] = (uint8_t)(v >> (8 * i));
	put(out, h, 5);
	le(out, crc24(h, 5), 3);
	put(out, c, (size_t)cn);
	le(out, crc32s((const uint8_t *)c, (size_t)cn), 4);
	free(c);
}

static void startup(struct b *out, unsigned v, const char *comp)
{
	struct b *body = bnew();

	be16(body, comp ? 2 : 1);
	str(body, "CQL_VERSION");
	str(body, "3.0.0");
	if (comp) {
		str(body, "COMPRESSION");
		str(body, comp);
	}
	frame(out, v, 0, 0, STARTUP, body);
	free(body);
}

/* ---- tests ---- */

START_TEST(test_registered)
{
	const struct pb_proto *p = cql();

	ck_assert_str_eq(p->name, "cassandra");
	ck_assert_int_eq(p->n_ports, 1);
	ck_assert_int_eq(p->ports[0], 9042);
	ck_assert(p->transports == PB_TP_TCP);
}
END_TEST

START_TEST(test_query_void)
{
	struct th *h = mk(NULL);
	struct b *rq = bnew(), *rs = bnew();
	cJSON *e;

	query(rq, 7, "INSERT INTO t (a) VALUES (1)");
	result_void(rs, 7);
	cli(h, rq);
	ck_assert_int_eq(h->n_ev, 0);
	srv(h, rs);
	ck_assert_int_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "type"), "cassandra");
	ck_assert_str_eq(th_str(e, "status"), "OK");
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "INSERT INTO t (a) VALUES (1)");
	ck_assert_str_eq(th_str(e, "cassandra.request.consistency"), "ONE");
	ck_assert_str_eq(th_str(e, "cassandra.request.headers.version"), "4");
	ck_assert_str_eq(th_str(e, "cassandra.request.headers.flags"), "Default");
	ck_assert_str_eq(th_str(e, "cassandra.request.headers.op"), "QUERY");
	ck_assert_int_eq((int)th_num(e, "cassandra.request.headers.stream"), 7);
	ck_assert_int_eq((int)th_num(e, "cassandra.request.headers.length"), (int)rq->n - 9);
	ck_assert_str_eq(th_str(e, "cassandra.response.headers.op"), "RESULT");
	ck_assert_int_eq((int)th_num(e, "cassandra.response.headers.length"), 4);
	ck_assert_str_eq(th_str(e, "cassandra.response.result.type"), "void");
	ck_assert_int_eq((int)th_num(e, "client.bytes"), (int)rq->n);
	ck_assert_int_eq((int)th_num(e, "server.bytes"), 13);
	ck_assert_int_eq((int)th_num(e, "client.port"), 40000);
	ck_assert_int_eq((int)th_num(e, "server.port"), 9042);
	ck_assert_ptr_null(th_get(e, "error"));
	ck_assert_ptr_null(th_get(e, "cassandra.no_request"));
	/* Packetbeat writes no protocol-independent query or method */
	ck_assert_ptr_null(th_get(e, "query"));
	ck_assert_ptr_null(th_get(e, "request"));
	cJSON_Delete(e);
	ck_assert_int_eq((int)h->st.transactions, 1);
	th_free(h);
	free(rq);
	free(rs);
}
END_TEST

/* the same conversation cut at every point gives the same event */
START_TEST(test_every_split)
{
	struct b *rq = bnew(), *rs = bnew(), *body = bnew();
	char *want = NULL;
	size_t step;

	q_body(body, "SELECT id, name FROM ks.tb", 4);
	frame(rq, 0x04, 0, 300, QUERY, body);
	result_rows(rs, 300, 3);
	for (step = 1; step <= rs->n + 1; step++) {
		struct th *h = mk(NULL);

		th_tcp_split(h, 0, rq->d, rq->n, step);
		th_tcp_split(h, 1, rs->d, rs->n, step);
		ck_assert_int_eq(h->n_ev, 1);
		{
			cJSON *e = th_ev(h, 0);

			ck_assert_int_eq((int)th_num(e, "cassandra.response.result.rows.num_rows"), 3);
			ck_assert_str_eq(th_str(e, "cassandra.request.consistency"), "QUORUM");
			cJSON_DeleteItemFromObject(e, "@timestamp");
			cJSON_DeleteItemFromObject(e, "event");
			cJSON_DeleteItemFromObject(e, "pb");
			{
				char *s = cJSON_PrintUnformatted(e);

				if (!want)
					want = s;
				else {
					ck_assert_str_eq(s, want);
					free(s);
				}
			}
			cJSON_Delete(e);
		}
		th_free(h);
	}
	free(want);
	free(rq);
	free(rs);
	free(body);
}
END_TEST

START_TEST(test_rows_meta)
{
	struct th *h = mk(NULL);
	struct b *rq = bnew(), *rs = bnew(), *body = bnew();
	cJSON *e;
	const cJSON *a;

	query(rq, 1, "SELECT * FROM tb");
	rows_body(body, 0x01 | 0x02, "\x01\x02\xab", 2);
	frame(rs, 0x84, 0, 1, RESULT, body);
	cli(h, rq);
	srv(h, rs);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "cassandra.response.result.type"), "rows");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.rows.meta.flags"),
			 "GlobalTableSpec|HasMorePages");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.rows.meta.paging_state"), "0102AB");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.rows.meta.keyspace"), "ks");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.rows.meta.table"), "tb");
	ck_assert_int_eq((int)th_num(e, "cassandra.response.result.rows.meta.col_count"), 2);
	ck_assert_int_eq((int)th_num(e, "cassandra.response.result.rows.num_rows"), 2);
	cJSON_Delete(e);
	th_free(h);

	/* per-column specs (no global table spec) and no_metadata */
	h = mk(NULL);
	rs->n = 0;
	body->n = 0;
	rows_body(body, 0, NULL, 5);
	frame(rs, 0x84, 0, 1, RESULT, body);
	cli(h, rq);
	srv(h, rs);
	rs->n = 0;
	body->n = 0;
	rq->n = 0;
	query(rq, 2, "SELECT * FROM tb");
	rows_body(body, 0x04, NULL, 0);
	frame(rs, 0x84, 0, 2, RESULT, body);
	cli(h, rq);
	srv(h, rs);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "cassandra.response.result.rows.meta.flags"), "FLAG_0");
	ck_assert_ptr_null(th_get(e, "cassandra.response.result.rows.meta.keyspace"));
	ck_assert_int_eq((int)th_num(e, "cassandra.response.result.rows.num_rows"), 5);
	cJSON_Delete(e);
	e = th_ev(h, 1);
	ck_assert_str_eq(th_str(e, "cassandra.response.result.rows.meta.flags"), "NoMetaData");
	ck_assert_int_eq((int)th_num(e, "cassandra.response.result.rows.num_rows"), 0);
	a = th_get(e, "error");
	ck_assert_ptr_null(a);
	cJSON_Delete(e);
	th_free(h);
	free(rq);
	free(rs);
	free(body);
}
END_TEST

/* nested column types are skipped to reach the row count */
START_TEST(test_rows_nested_types)
{
	struct th *h = mk(NULL);
	struct b *rq = bnew(), *rs = bnew(), *body = bnew();
	cJSON *e;

	query(rq, 1, "SELECT m FROM tb");
	be32(body, 2);
	be32(body, 0x01);
	be32(body, 3);
	str(body, "ks");
	str(body, "tb");
	str(body, "m");                  /* map<text, list<frozen<tuple<int, udt>>>> */
	be16(body, 0x21);
	be16(body, 0x0A);
	be16(body, 0x20);
	be16(body, 0x31);
	be16(body, 2);
	be16(body, 0x09);
	be16(body, 0x30);
	str(body, "ks");
	str(body, "addr");
	be16(body, 2);
	str(body, "street");
	be16(body, 0x0D);
	str(body, "zip");
	be16(body, 0x0009);
	str(body, "c");                  /* custom */
	be16(body, 0x0000);
	str(body, "org.apache.cassandra.db.marshal.DurationType");
	str(body, "s");                  /* set<uuid> */
	be16(body, 0x22);
	be16(body, 0x0C);
	be32(body, 42);
	frame(rs, 0x84, 0, 1, RESULT, body);
	cli(h, rq);
	srv(h, rs);
	e = th_ev(h, 0);
	ck_assert_int_eq((int)th_num(e, "cassandra.response.result.rows.num_rows"), 42);
	ck_assert_int_eq((int)th_num(e, "cassandra.response.result.rows.meta.col_count"), 3);
	ck_assert_ptr_null(th_get(e, "error"));
	cJSON_Delete(e);
	th_free(h);
	free(rq);
	free(rs);
	free(body);
}
END_TEST

/* a type nested deeper than the limit is malformed, read no further */
START_TEST(test_rows_type_too_deep)
{
	struct th *h = mk(NULL);
	struct b *rq = bnew(), *rs = bnew(), *body = bnew();
	cJSON *e;
	int i;

	query(rq, 1, "SELECT l FROM tb");
	be32(body, 2);
	be32(body, 0x01);
	be32(body, 1);
	str(body, "ks");
	str(body, "tb");
	str(body, "l");
	for (i = 0; i < 40; i++)
		be16(body, 0x20);        /* list<list<list<...>>> */
	be16(body, 0x09);
	be32(body, 1);
	frame(rs, 0x84, 0, 1, RESULT, body);
	cli(h, rq);
	srv(h, rs);
	e = th_ev(h, 0);
	ck_assert_ptr_null(th_get(e, "cassandra.response.result.rows.num_rows"));
	ck_assert(th_has_note(e, "malformed", 0));
	cJSON_Delete(e);
	th_free(h);
	free(rq);
	free(rs);
	free(body);
}
END_TEST

START_TEST(test_out_of_order)
{
	struct th *h = mk(NULL);
	struct b *rq = bnew(), *rs = bnew();
	cJSON *e;

	/* three requests in one segment, answered 3, 1, 2 */
	query(rq, 1, "q1");
	query(rq, 2, "q2");
	query(rq, 3, "q3");
	result_void(rs, 3);
	result_rows(rs, 1, 1);
	result_void(rs, 2);
	cli(h, rq);
	srv(h, rs);
	ck_assert_int_eq(h->n_ev, 3);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "q3");
	ck_assert_int_eq((int)th_num(e, "cassandra.response.headers.stream"), 3);
	cJSON_Delete(e);
	e = th_ev(h, 1);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "q1");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.type"), "rows");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "q2");
	cJSON_Delete(e);
	th_free(h);
	free(rq);
	free(rs);
}
END_TEST

START_TEST(test_stream_reused)
{
	struct th *h = mk(NULL);
	struct b *rq = bnew(), *rs = bnew();
	cJSON *e;

	query(rq, 5, "first");
	query(rq, 5, "second");
	result_void(rs, 5);
	cli(h, rq);
	ck_assert_int_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "first");
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert(th_has_note(e, "same stream id", 0));
	ck_assert_ptr_null(th_get(e, "cassandra.response"));
	cJSON_Delete(e);
	srv(h, rs);
	e = th_ev(h, 1);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "second");
	ck_assert_str_eq(th_str(e, "status"), "OK");
	cJSON_Delete(e);
	th_free(h);
	free(rq);
	free(rs);
}
END_TEST

START_TEST(test_pending_cap)
{
	struct th *h = mk(NULL);
	struct b *rq = bnew();
	cJSON *e;
	int i;

	for (i = 0; i < 300; i++) {
		char q[32];

		snprintf(q, sizeof(q), "q%d", i);
		query(rq, i, q);
	}
	cli(h, rq);
	/* 256 kept: the 44 oldest went out unanswered */
	ck_assert_int_eq(h->n_ev, 44);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "q0");
	ck_assert(th_has_note(e, "Too many requests", 0));
	cJSON_Delete(e);
	th_close(h);
	/* the harness keeps 256 events: the counters count them all */
	ck_assert_int_eq((int)h->st.unmatched_requests, 300);
	e = th_ev(h, 255);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "q255");
	ck_assert(th_has_note(e, "Unmatched request", 1));
	cJSON_Delete(e);
	th_free(h);
	free(rq);
}
END_TEST

START_TEST(test_event_push)
{
	struct th *h = mk(NULL);
	struct b *rs = bnew(), *body = bnew(), *rq = bnew();
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	cJSON *e;

	/* a request pending with stream 0 must not take the event */
	query(rq, 0, "SELECT 1");
	cli(h, rq);
	str(body, "TOPOLOGY_CHANGE");
	str(body, "NEW_NODE");
	u8(body, 16);
	put(body, v6, 16);
	be32(body, 9042);
	frame(rs, 0x84, 0, -1, EVENT, body);
	body->n = 0;
	str(body, "SCHEMA_CHANGE");
	str(body, "CREATED");
	str(body, "FUNCTION");
	str(body, "ks");
	str(body, "fn");
	be16(body, 2);
	str(body, "int");
	str(body, "text");
	frame(rs, 0x84, 0, -1, EVENT, body);
	srv(h, rs);
	ck_assert_int_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	ck_assert(cJSON_IsTrue(th_get(e, "cassandra.no_request")));
	ck_assert_str_eq(th_str(e, "status"), "OK");
	ck_assert_int_eq((int)th_num(e, "cassandra.response.headers.stream"), -1);
	ck_assert_str_eq(th_str(e, "cassandra.response.event.type"), "TOPOLOGY_CHANGE");
	ck_assert_str_eq(th_str(e, "cassandra.response.event.change"), "NEW_NODE");
	ck_assert_str_eq(th_str(e, "cassandra.response.event.host"), "2001:db8::1");
	ck_assert_int_eq((int)th_num(e, "cassandra.response.event.port"), 9042);
	/* the client is the side the event was sent to */
	ck_assert_str_eq(th_str(e, "client.ip"), "10.0.0.1");
	ck_assert_ptr_null(th_get(e, "error"));
	cJSON_Delete(e);
	e = th_ev(h, 1);
	ck_assert_str_eq(th_str(e, "cassandra.response.event.schema_change.target"), "FUNCTION");
	ck_assert_str_eq(th_str(e, "cassandra.response.event.schema_change.name"), "fn");
	ck_assert_int_eq(cJSON_GetArraySize(th_get(e, "cassandra.response.event.schema_change.args")), 2);
	cJSON_Delete(e);
	ck_assert_int_eq((int)h->st.messages, 2);
	th_close(h);
	ck_assert_int_eq(h->n_ev, 3);
	th_free(h);
	free(rs);
	free(rq);
	free(body);
}
END_TEST

START_TEST(test_unmatched_response)
{
	struct th *h = mk(NULL);
	struct b *rs = bnew();
	cJSON *e;

	result_void(rs, 9);
	srv(h, rs);
	ck_assert_int_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert(th_has_note(e, "Unmatched response", 1));
	ck_assert_ptr_null(th_get(e, "cassandra.request"));
	ck_assert_str_eq(th_str(e, "client.ip"), "10.0.0.1");
	cJSON_Delete(e);
	ck_assert_int_eq((int)h->st.unmatched_responses, 1);
	th_free(h);
	free(rs);
}
END_TEST

/* an ERROR with the details of its code */
static cJSON *error_event(uint32_t code, const struct b *extra, int v)
{
	struct th *h = mk(NULL);
	struct b *rq = bnew(), *rs = bnew(), *body = bnew();
	cJSON *e;

	query(rq, 1, "X");
	if (v == 5) {
		rq->n = 0;
		body->n = 0;
		lstr(body, "X");
		be16(body, 1);
		be32(body, 0);
		frame(rq, 0x05, 0, 1, QUERY, body);
		body->n = 0;
	}
	be32(body, code);
	str(body, "message");
	if (extra)
		put(body, extra->d, extra->n);
	frame(rs, 0x80 | (unsigned)v, 0, 1, ERROR, body);
	cli(h, rq);
	srv(h, rs);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert_int_eq((int)th_num(e, "cassandra.response.error.code"), (int)code);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.msg"), "message");
	th_free(h);
	free(rq);
	free(rs);
	free(body);
	return e;
}

START_TEST(test_errors)
{
	struct b *x = bnew();
	cJSON *e;

	e = error_event(0x2000, NULL, 4);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.type"), "errSyntax");
	ck_assert_ptr_null(th_get(e, "cassandra.response.error.details"));
	cJSON_Delete(e);

	be16(x, 4);
	be32(x, 3);
	be32(x, 1);
	e = error_event(0x1000, x, 4);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.type"), "errUnavailable");
	ck_assert_str_eq(th_str(e, "cassandra.response.error.details.read_consistency"), "QUORUM");
	ck_assert_int_eq((int)th_num(e, "cassandra.response.error.details.required"), 3);
	ck_assert_int_eq((int)th_num(e, "cassandra.response.error.details.alive"), 1);
	cJSON_Delete(e);

	x->n = 0;
	be16(x, 6);
	be32(x, 1);
	be32(x, 2);
	str(x, "BATCH_LOG");
	e = error_event(0x1100, x, 4);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.type"), "errWriteTimeout");
	ck_assert_str_eq(th_str(e, "cassandra.response.error.details.read_consistency"), "LOCAL_QUORUM");
	ck_assert_int_eq((int)th_num(e, "cassandra.response.error.details.received"), 1);
	ck_assert_int_eq((int)th_num(e, "cassandra.response.error.details.blockfor"), 2);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.details.write_type"), "BATCH_LOG");
	cJSON_Delete(e);

	x->n = 0;
	be16(x, 1);
	be32(x, 0);
	be32(x, 1);
	u8(x, 1);
	e = error_event(0x1200, x, 4);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.type"), "errReadTimeout");
	ck_assert(cJSON_IsTrue(th_get(e, "cassandra.response.error.details.data_present")));
	cJSON_Delete(e);

	/* read failure: v4 <numfailures>, v5 a reason map */
	x->n = 0;
	be16(x, 1);
	be32(x, 0);
	be32(x, 1);
	be32(x, 2);
	u8(x, 0);
	e = error_event(0x1300, x, 4);
	ck_assert_int_eq((int)th_num(e, "cassandra.response.error.details.num_failures"), 2);
	ck_assert(cJSON_IsFalse(th_get(e, "cassandra.response.error.details.data_present")));
	cJSON_Delete(e);
	x->n = 0;
	be16(x, 1);
	be32(x, 0);
	be32(x, 1);
	be32(x, 1);
	u8(x, 4);
	be32(x, 0x0a000003);
	be16(x, 1);
	str(x, "SIMPLE");
	e = error_event(0x1500, x, 5);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.type"), "errWriteFailure");
	ck_assert_int_eq((int)th_num(e, "cassandra.response.error.details.num_failures"), 1);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.details.write_type"), "SIMPLE");
	cJSON_Delete(e);

	x->n = 0;
	str(x, "ks");
	str(x, "fn");
	be16(x, 1);
	str(x, "int");
	e = error_event(0x1400, x, 4);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.details.function"), "fn");
	ck_assert_int_eq(cJSON_GetArraySize(th_get(e, "cassandra.response.error.details.arg_types")), 1);
	cJSON_Delete(e);

	x->n = 0;
	str(x, "ks");
	str(x, "");
	e = error_event(0x2400, x, 4);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.type"), "errAlreadyExists");
	ck_assert_str_eq(th_str(e, "cassandra.response.error.details.keyspace"), "ks");
	ck_assert_str_eq(th_str(e, "cassandra.response.error.details.table"), "");
	cJSON_Delete(e);

	x->n = 0;
	be16(x, 16);
	put(x, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
	e = error_event(0x2500, x, 4);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.type"), "errUnprepared");
	ck_assert_str_eq(th_str(e, "cassandra.response.error.details.stmt_id"),
			 "00112233-4455-6677-8899-aabbccddeeff");
	cJSON_Delete(e);

	e = error_event(0x7777, NULL, 4);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.type"), "ErrUnknown");
	cJSON_Delete(e);

	/* details cut short: what was there is written, with a note */
	x->n = 0;
	be16(x, 1);
	be16(x, 0);
	e = error_event(0x1000, x, 4);
	ck_assert_str_eq(th_str(e, "cassandra.response.error.details.read_consistency"), "ONE");
	ck_assert_ptr_null(th_get(e, "cassandra.response.error.details.required"));
	ck_assert(th_has_note(e, "malformed", 0));
	cJSON_Delete(e);
	free(x);
}
END_TEST

START_TEST(test_prepare_execute_batch)
{
	struct th *h = mk(NULL);
	struct b *f = bnew(), *body = bnew();
	static const uint8_t id[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	cJSON *e;

	lstr(body, "INSERT INTO t (a, b) VALUES (?, ?)");
	frame(f, 0x04, 0, 1, PREPARE, body);
	cli(h, f);
	f->n = body->n = 0;
	be32(body, 4);
	be16(body, 16);
	put(body, id, 16);
	be32(body, 1);                   /* metadata: global spec, 2 cols, pk 0 */
	be32(body, 2);
	be32(body, 1);
	be16(body, 0);
	str(body, "ks");
	str(body, "t");
	str(body, "a");
	be16(body, 9);
	str(body, "b");
	be16(body, 13);
	be32(body, 4);                   /* result metadata: none */
	be32(body, 0);
	frame(f, 0x84, 0, 1, RESULT, body);
	srv(h, f);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "INSERT INTO t (a, b) VALUES (?, ?)");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.type"), "prepared");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.prepared.prepared_id"),
			 "01020304-0506-0708-090a-0b0c0d0e0f10");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.prepared.req_meta.keyspace"), "ks");
	ck_assert_int_eq(cJSON_GetArraySize(th_get(e, "cassandra.response.result.prepared.req_meta.pkey_columns")), 1);
	ck_assert_str_eq(th_str(e, "cassandra.response.result.prepared.resp_meta.flags"), "NoMetaData");
	cJSON_Delete(e);

	/* EXECUTE: the prepared text is linked */
	f->n = body->n = 0;
	be16(body, 16);
	put(body, id, 16);
	be16(body, 0x0A);                /* LOCAL_ONE */
	u8(body, 0x01 | 0x04 | 0x20);    /* values, page size, timestamp */
	be16(body, 2);
	bytes(body, "\0\0\0\1", 4);
	be32(body, 0xFFFFFFFF);          /* null */
	be32(body, 5000);
	be64(body, 1700000000000000ULL);
	frame(f, 0x04, 0, 2, EXECUTE, body);
	cli(h, f);
	f->n = 0;
	result_void(f, 2);
	srv(h, f);
	e = th_ev(h, 1);
	ck_assert_str_eq(th_str(e, "cassandra.request.headers.op"), "EXECUTE");
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "INSERT INTO t (a, b) VALUES (?, ?)");
	ck_assert_str_eq(th_str(e, "cassandra.request.prepared_id"), "01020304-0506-0708-090a-0b0c0d0e0f10");
	ck_assert_str_eq(th_str(e, "cassandra.request.consistency"), "LOCAL_ONE");
	ck_assert_int_eq((int)th_num(e, "cassandra.request.values"), 2);
	ck_assert_int_eq((int)th_num(e, "cassandra.request.page_size"), 5000);
	ck_assert(th_num(e, "cassandra.request.timestamp") > 1.6e15);
	cJSON_Delete(e);

	/* BATCH of a query and the prepared id */
	f->n = body->n = 0;
	u8(body, 1);                     /* UNLOGGED */
	be16(body, 2);
	u8(body, 0);
	lstr(body, "DELETE FROM t WHERE a = 1");
	be16(body, 0);
	u8(body, 1);
	be16(body, 16);
	put(body, id, 16);
	be16(body, 2);
	bytes(body, "\0\0\0\2", 4);
	bytes(body, "x", 1);
	be16(body, 4);
	u8(body, 0);
	frame(f, 0x04, 0, 3, BATCH, body);
	cli(h, f);
	f->n = 0;
	result_void(f, 3);
	srv(h, f);
	e = th_ev(h, 2);
	ck_assert_str_eq(th_str(e, "cassandra.request.batch.type"), "UNLOGGED");
	ck_assert_int_eq((int)th_num(e, "cassandra.request.batch.count"), 2);
	{
		const cJSON *st = th_get(e, "cassandra.request.batch.statements");

		ck_assert_int_eq(cJSON_GetArraySize(st), 2);
		ck_assert_str_eq(th_str(cJSON_GetArrayItem(st, 0), "query"), "DELETE FROM t WHERE a = 1");
		ck_assert_str_eq(th_str(cJSON_GetArrayItem(st, 1), "query"),
				 "INSERT INTO t (a, b) VALUES (?, ?)");
		ck_assert_int_eq((int)th_num(cJSON_GetArrayItem(st, 1), "values"), 2);
	}
	ck_assert_str_eq(th_str(e, "cassandra.request.consistency"), "QUORUM");
	cJSON_Delete(e);

	/* an id never prepared here: no query */
	f->n = body->n = 0;
	be16(body, 3);
	put(body, "abc", 3);
	be16(body, 1);
	u8(body, 0);
	frame(f, 0x04, 0, 4, EXECUTE, body);
	cli(h, f);
	f->n = 0;
	result_void(f, 4);
	srv(h, f);
	e = th_ev(h, 3);
	ck_assert_ptr_null(th_get(e, "cassandra.request.query"));
	ck_assert_str_eq(th_str(e, "cassandra.request.prepared_id"), "616263");
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(body);
}
END_TEST

START_TEST(test_handshake_bodies)
{
	struct th *h = mk(NULL);
	struct b *f = bnew(), *body = bnew();
	cJSON *e;
	const cJSON *sup;

	frame(f, 0x04, 0, 0, OPTIONS, NULL);
	cli(h, f);
	f->n = 0;
	be16(body, 3);
	str(body, "COMPRESSION");
	be16(body, 2);
	str(body, "snappy");
	str(body, "lz4");
	str(body, "CQL_VERSION");
	be16(body, 1);
	str(body, "3.4.5");
	str(body, "COMPRESSION");        /* a key again: not written twice */
	be16(body, 1);
	str(body, "zstd");
	frame(f, 0x84, 0, 0, SUPPORTED, body);
	srv(h, f);
	e = th_ev(h, 0);
	sup = th_get(e, "cassandra.response.supported");
	ck_assert_int_eq(cJSON_GetArraySize(sup), 2);
	ck_assert_int_eq(cJSON_GetArraySize(th_get(sup, "COMPRESSION")), 2);
	ck_assert_str_eq(cJSON_GetArrayItem(th_get(sup, "COMPRESSION"), 1)->valuestring, "lz4");
	ck_assert_int_eq((int)th_num(e, "source.bytes"), 9);
	cJSON_Delete(e);

	f->n = 0;
	startup(f, 0x04, NULL);
	cli(h, f);
	f->n = body->n = 0;
	str(body, "org.apache.cassandra.auth.PasswordAuthenticator");
	frame(f, 0x84, 0, 0, AUTHENTICATE, body);
	srv(h, f);
	e = th_ev(h, 1);
	ck_assert_str_eq(th_str(e, "cassandra.request.options.CQL_VERSION"), "3.0.0");
	ck_assert_str_eq(th_str(e, "cassandra.response.authentication.class"),
			 "org.apache.cassandra.auth.PasswordAuthenticator");
	cJSON_Delete(e);

	f->n = body->n = 0;
	bytes(body, "\0user\0secret", 12);
	frame(f, 0x04, 0, 1, AUTH_RESPONSE, body);
	cli(h, f);
	f->n = body->n = 0;
	bytes(body, "ch\"al\n\x01", 7);
	frame(f, 0x84, 0, 1, AUTH_CHALLENGE, body);
	srv(h, f);
	e = th_ev(h, 2);
	/* the credentials are not written */
	ck_assert(strstr(h->ev[2], "secret") == NULL);
	ck_assert_str_eq(th_str(e, "cassandra.response.authentication.data"), "\"ch\\\"al\\n\\x01\"");
	cJSON_Delete(e);

	f->n = body->n = 0;
	be16(body, 2);
	str(body, "STATUS_CHANGE");
	str(body, "SCHEMA_CHANGE");
	frame(f, 0x04, 0, 2, REGISTER, body);
	cli(h, f);
	f->n = 0;
	frame(f, 0x84, 0, 2, READY, NULL);
	srv(h, f);
	e = th_ev(h, 3);
	ck_assert_int_eq(cJSON_GetArraySize(th_get(e, "cassandra.request.events")), 2);
	ck_assert_str_eq(th_str(e, "cassandra.response.headers.op"), "READY");
	cJSON_Delete(e);

	/* set_keyspace and schema changes (TABLE, TYPE, AGGREGATE) */
	f->n = 0;
	query(f, 3, "USE ks");
	query(f, 4, "CREATE TABLE t (a int PRIMARY KEY)");
	cli(h, f);
	f->n = body->n = 0;
	be32(body, 3);
	str(body, "ks");
	frame(f, 0x84, 0, 3, RESULT, body);
	body->n = 0;
	be32(body, 5);
	str(body, "UPDATED");
	str(body, "TABLE");
	str(body, "ks");
	str(body, "t");
	frame(f, 0x84, 0, 4, RESULT, body);
	srv(h, f);
	e = th_ev(h, 4);
	ck_assert_str_eq(th_str(e, "cassandra.response.result.type"), "set_keyspace");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.keyspace"), "ks");
	cJSON_Delete(e);
	e = th_ev(h, 5);
	ck_assert_str_eq(th_str(e, "cassandra.response.result.type"), "schemaChanged");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.schema_change.change"), "UPDATED");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.schema_change.target"), "TABLE");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.schema_change.object"), "t");
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(body);
}
END_TEST

START_TEST(test_tracing_warnings_payload)
{
	struct th *h = mk(NULL);
	struct b *f = bnew(), *body = bnew();
	cJSON *e;

	/* a traced request with a custom payload */
	be16(body, 1);
	str(body, "k");
	bytes(body, "v", 1);
	q_body(body, "SELECT 1", 1);
	frame(f, 0x04, 0x02 | 0x04, 1, QUERY, body);
	cli(h, f);
	f->n = body->n = 0;
	put(body, "\x5f\x1a\x2d\x80\xa3\xb4\x11\xee\xb2\xc1\xb7\xd9\xc3\xe4\xf5\x01", 16);
	be16(body, 2);
	str(body, "warning one");
	str(body, "warning two");
	be32(body, 1);
	frame(f, 0x84, 0x02 | 0x08, 1, RESULT, body);
	srv(h, f);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "SELECT 1");
	ck_assert_str_eq(th_str(e, "cassandra.request.headers.flags"), "Tracing|CustomPayload");
	ck_assert_str_eq(th_str(e, "cassandra.response.headers.flags"), "Tracing|Warning");
	ck_assert_str_eq(th_str(e, "cassandra.response.tracing_id"), "5f1a2d80-a3b4-11ee-b2c1-b7d9c3e4f501");
	ck_assert_int_eq(cJSON_GetArraySize(th_get(e, "cassandra.response.warnings")), 2);
	ck_assert_str_eq(th_str(e, "cassandra.response.result.type"), "void");
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(body);
}
END_TEST

/* v4 compressed bodies: LZ4 (4-byte length and a block) and Snappy */
static void compressed_conv(const char *comp, const char *yaml, int startup_seen,
			    int expect_ok)
{
	struct th *h = mk(yaml);
	struct b *f = bnew(), *body = bnew(), *cbody = bnew();
	cJSON *e;

	if (startup_seen) {
		startup(f, 0x04, comp);
		cli(h, f);
		f->n = 0;
		frame(f, 0x84, 0, 0, READY, NULL);
		srv(h, f);
	}
	q_body(body, "SELECT name FROM tb WHERE id = 'compressed body, compressed body'", 1);
	if (strcmp(comp, "lz4") == 0) {
		int n;

		be32(cbody, (uint32_t)body->n);
		n = LZ4_compress_default((const char *)body->d, (char *)cbody->d + 4, (int)body->n,
					 (int)sizeof(cbody->d) - 4);
		ck_assert_int_gt(n, 0);
		cbody->n += (size_t)n;
	} else if (strcmp(comp, "snappy") == 0) {
		size_t n = sizeof(cbody->d);

		ck_assert(snappy_compress((const char *)body->d, body->n, (char *)cbody->d, &n) == SNAPPY_OK);
		cbody->n = n;
	} else {
		put(cbody, "\xff\xfe\xfd\xfc\xfb", 5);
	}
	f->n = 0;
	frame(f, 0x04, 0x01, 1, QUERY, cbody);
	cli(h, f);
	f->n = 0;
	result_void(f, 1);
	srv(h, f);
	e = th_ev(h, startup_seen ? 1 : 0);
	ck_assert_str_eq(th_str(e, "cassandra.request.headers.flags"), "Compress");
	ck_assert_int_eq((int)th_num(e, "cassandra.request.headers.length"), (int)cbody->n);
	if (expect_ok) {
		ck_assert_str_eq(th_str(e, "cassandra.request.query"),
				 "SELECT name FROM tb WHERE id = 'compressed body, compressed body'");
		ck_assert_ptr_null(th_get(e, "error"));
	} else {
		ck_assert_ptr_null(th_get(e, "cassandra.request.query"));
		ck_assert_ptr_nonnull(th_get(e, "error.message"));
	}
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(body);
	free(cbody);
}

START_TEST(test_compression)
{
	compressed_conv("lz4", NULL, 1, 1);
	compressed_conv("snappy", NULL, 1, 1);
	/* no STARTUP seen: the compressor option, or whichever reads */
	compressed_conv("snappy", "packetbeat.protocols:\n- type: cassandra\n  compressor: snappy\n", 0, 1);
	compressed_conv("lz4", NULL, 0, 1);
	compressed_conv("snappy", NULL, 0, 1);
	/* garbage in a compressed body */
	compressed_conv("junk", NULL, 0, 0);
}
END_TEST

START_TEST(test_compression_unknown)
{
	struct th *h = mk(NULL);
	struct b *f = bnew(), *body = bnew();
	cJSON *e;

	startup(f, 0x04, "zstd");
	cli(h, f);
	f->n = 0;
	frame(f, 0x84, 0, 0, READY, NULL);
	srv(h, f);
	f->n = 0;
	put(body, "whatever", 8);
	frame(f, 0x04, 0x01, 1, QUERY, body);
	cli(h, f);
	f->n = 0;
	result_void(f, 1);
	srv(h, f);
	e = th_ev(h, 1);
	ck_assert(th_has_note(e, "unknown compression", 0));
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(body);
}
END_TEST

/* v5: plain frames up to READY, then segments */
static void v5_conv(int lz4, int bad_crc32)
{
	struct th *h = mk(NULL);
	struct b *f = bnew(), *env = bnew(), *body = bnew();
	cJSON *e;
	size_t i, big = 300000;

	startup(f, 0x05, lz4 ? "lz4" : NULL);
	cli(h, f);
	f->n = 0;
	frame(f, 0x85, 0, 0, READY, NULL);
	srv(h, f);
	ck_assert_int_eq(h->n_ev, 1);

	/* two queries in one segment */
	lstr(body, "SELECT a");
	be16(body, 1);
	be32(body, 0x04);            /* v5: [int] flags; page size */
	be32(body, 100);
	frame(env, 0x05, 0, 1, QUERY, body);
	body->n = 0;
	lstr(body, "SELECT big");
	be16(body, 1);
	be32(body, 0);
	frame(env, 0x05, 0, 2, QUERY, body);
	f->n = 0;
	if (lz4)
		segment_lz4(f, env->d, env->n, 1);
	else
		segment(f, env->d, env->n, 1);
	if (bad_crc32)
		f->d[f->n - 1] ^= 0xFF;
	cli(h, f);
	ck_assert_int_eq(h->n_ev, 1);

	/* the answer to 1, then a large one over three segments */
	env->n = 0;
	result_rows(env, 1, 2);
	body->n = 0;
	be32(body, 2);
	be32(body, 0x01);
	be32(body, 1);
	str(body, "ks");
	str(body, "blobs");
	str(body, "b");
	be16(body, 0x03);
	be32(body, 1);
	be32(body, (uint32_t)big);
	for (i = 0; i < big; i++)
		u8(body, (unsigned)(i * 7) & 0xFF);
	frame(env, 0x85, 0, 2, RESULT, body);
	f->n = 0;
	for (i = 0; i < env->n; i += 131071) {
		size_t n = env->n - i < 131071 ? env->n - i : 131071;

		if (lz4)
			segment_lz4(f, env->d + i, n, 0);
		else
			segment(f, env->d + i, n, 0);
	}
	th_tcp_split(h, 1, f->d, f->n, 1400);
	ck_assert_int_eq(h->n_ev, 3);
	e = th_ev(h, 1);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "SELECT a");
	ck_assert_str_eq(th_str(e, "cassandra.request.headers.version"), "5");
	ck_assert_int_eq((int)th_num(e, "cassandra.request.page_size"), 100);
	ck_assert_int_eq((int)th_num(e, "cassandra.response.result.rows.num_rows"), 2);
	if (bad_crc32)
		ck_assert(th_has_note(e, "CRC32 mismatch", 0));
	else
		ck_assert_ptr_null(th_get(e, "error"));
	cJSON_Delete(e);
	e = th_ev(h, 2);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "SELECT big");
	ck_assert_int_eq((int)th_num(e, "cassandra.response.headers.length"), (int)body->n);
	ck_assert_int_eq((int)th_num(e, "cassandra.response.result.rows.num_rows"), 1);
	ck_assert_int_eq((int)th_num(e, "server.bytes"), (int)body->n + 9);
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(env);
	free(body);
}

START_TEST(test_v5_segments)
{
	v5_conv(0, 0);
	v5_conv(1, 0);
	v5_conv(0, 1);
}
END_TEST

/* a segment whose header CRC24 is wrong: skipped, the next one read */
START_TEST(test_v5_bad_crc24)
{
	struct th *h = mk(NULL);
	struct b *f = bnew(), *env = bnew();
	cJSON *e;

	startup(f, 0x05, NULL);
	cli(h, f);
	f->n = 0;
	frame(f, 0x85, 0, 0, READY, NULL);
	srv(h, f);
	query5(env, 1, "SELECT 1");
	f->n = 0;
	segment(f, env->d, env->n, 1);
	cli(h, f);
	env->n = 0;
	result_void(env, 1);
	env->d[0] = 0x85;
	f->n = 0;
	segment(f, env->d, env->n, 1);
	f->d[4] ^= 0x55;                 /* the CRC24 */
	env->n = 0;
	result_rows(env, 1, 1);
	env->d[0] = 0x85;
	segment(f, env->d, env->n, 1);
	srv(h, f);
	ck_assert_int_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	ck_assert_str_eq(th_str(e, "cassandra.response.result.type"), "rows");
	ck_assert(th_has_note(e, "CRC24", 0));
	ck_assert(!th_has_note(e, "malformed", 0));
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "SELECT 1");
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(env);
}
END_TEST

/* a v5 connection whose start was not captured: found by its segments */
START_TEST(test_v5_mid_stream)
{
	struct th *h = mk(NULL);
	struct b *f = bnew(), *env = bnew();
	cJSON *e;

	h->c.mid_stream[0] = h->c.mid_stream[1] = 1;
	query5(env, 3, "SELECT mid");
	put(f, "\x01\x02\x03", 3);       /* the end of an earlier segment */
	segment(f, env->d, env->n, 1);
	cli(h, f);
	env->n = 0;
	result_void(env, 3);
	env->d[0] = 0x85;
	f->n = 0;
	segment(f, env->d, env->n, 1);
	srv(h, f);
	ck_assert_int_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "SELECT mid");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.type"), "void");
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(env);
}
END_TEST

START_TEST(test_v5_prepared)
{
	struct th *h = mk(NULL);
	struct b *f = bnew(), *env = bnew(), *body = bnew();
	cJSON *e;

	startup(f, 0x05, NULL);
	cli(h, f);
	f->n = 0;
	frame(f, 0x85, 0, 0, READY, NULL);
	srv(h, f);
	lstr(body, "SELECT x FROM t WHERE k = ?");
	be32(body, 1);                   /* with keyspace */
	str(body, "ks");
	frame(env, 0x05, 0, 1, PREPARE, body);
	f->n = 0;
	segment(f, env->d, env->n, 1);
	cli(h, f);
	env->n = body->n = 0;
	be32(body, 4);
	be16(body, 2);
	put(body, "id", 2);
	be16(body, 2);
	put(body, "rm", 2);
	be32(body, 0);
	be32(body, 0);
	be32(body, 0);
	be32(body, 0x04);
	be32(body, 1);
	frame(env, 0x85, 0, 1, RESULT, body);
	f->n = 0;
	segment(f, env->d, env->n, 1);
	srv(h, f);
	e = th_ev(h, 1);
	ck_assert_str_eq(th_str(e, "cassandra.request.keyspace"), "ks");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.prepared.prepared_id"), "6964");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.prepared.result_metadata_id"), "726d");
	cJSON_Delete(e);
	/* EXECUTE v5: id, result metadata id, parameters */
	env->n = body->n = 0;
	be16(body, 2);
	put(body, "id", 2);
	be16(body, 2);
	put(body, "rm", 2);
	be16(body, 1);
	be32(body, 0x80);                /* keyspace */
	str(body, "other");
	frame(env, 0x05, 0, 2, EXECUTE, body);
	f->n = 0;
	segment(f, env->d, env->n, 1);
	cli(h, f);
	env->n = 0;
	result_void(env, 2);
	env->d[0] = 0x85;
	f->n = 0;
	segment(f, env->d, env->n, 1);
	srv(h, f);
	e = th_ev(h, 2);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "SELECT x FROM t WHERE k = ?");
	ck_assert_str_eq(th_str(e, "cassandra.request.keyspace"), "other");
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(env);
	free(body);
}
END_TEST

/* the v5 beta of Cassandra 3.x (beta flag) keeps the v4 framing */
START_TEST(test_v5_beta)
{
	struct th *h = mk(NULL);
	struct b *f = bnew();
	cJSON *e;

	startup(f, 0x05, NULL);
	f->d[1] = 0x10;
	cli(h, f);
	f->n = 0;
	frame(f, 0x85, 0, 0, READY, NULL);
	srv(h, f);
	f->n = 0;
	query5(f, 1, "SELECT beta");
	f->d[1] = 0x10;
	cli(h, f);
	f->n = 0;
	result_void(f, 1);
	f->d[0] = 0x85;
	srv(h, f);
	ck_assert_int_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "SELECT beta");
	ck_assert_str_eq(th_str(e, "cassandra.request.headers.flags"), "Beta");
	ck_assert_ptr_null(th_get(e, "error"));
	cJSON_Delete(e);
	th_free(h);
	free(f);
}
END_TEST

START_TEST(test_v2_header)
{
	struct th *h = mk(NULL);
	struct b *f = bnew(), *body = bnew();
	cJSON *e;

	q_body(body, "SELECT v2", 1);
	frame(f, 0x02, 0, 5, QUERY, body);
	cli(h, f);
	f->n = body->n = 0;
	be32(body, 1);
	frame(f, 0x82, 0, 5, RESULT, body);
	srv(h, f);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "cassandra.request.headers.version"), "2");
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "SELECT v2");
	ck_assert_int_eq((int)th_num(e, "client.bytes"), (int)(8 + 16));
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(body);
}
END_TEST

/* lengths that lie: past the 256 MB limit, past the body, negative */
START_TEST(test_hostile_lengths)
{
	struct th *h = mk(NULL);
	struct b *f = bnew(), *body = bnew();
	cJSON *e;

	/* a header claiming 4 GB: not a frame; the next one is read */
	put(f, "\x04\x00\x00\x01\x07\xff\xff\xff\xff", 9);
	query(f, 2, "after");
	cli(h, f);
	f->n = 0;
	result_void(f, 2);
	srv(h, f);
	ck_assert_int_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "after");
	ck_assert(th_has_note(e, "not CQL frames", 0));
	cJSON_Delete(e);

	/* a [long string] longer than its body, and a negative one */
	f->n = 0;
	be32(body, 1000);
	put(body, "short", 5);
	frame(f, 0x04, 0, 3, QUERY, body);
	body->n = 0;
	be32(body, 0x80000000u);
	frame(f, 0x04, 0, 4, QUERY, body);
	cli(h, f);
	f->n = 0;
	/* a [string] past the body in a RESULT, a column count of 2^31-1 */
	body->n = 0;
	be32(body, 3);
	be16(body, 60000);
	put(body, "ks", 2);
	frame(f, 0x84, 0, 3, RESULT, body);
	body->n = 0;
	be32(body, 2);
	be32(body, 0);
	be32(body, 0x7FFFFFFF);
	str(body, "a");
	frame(f, 0x84, 0, 4, RESULT, body);
	srv(h, f);
	ck_assert_int_eq(h->n_ev, 3);
	e = th_ev(h, 1);
	ck_assert_ptr_null(th_get(e, "cassandra.request.query"));
	ck_assert_ptr_null(th_get(e, "cassandra.response.result.keyspace"));
	ck_assert_str_eq(th_str(e, "cassandra.response.result.type"), "set_keyspace");
	ck_assert(th_has_note(e, "malformed", 0));
	cJSON_Delete(e);
	e = th_ev(h, 2);
	ck_assert_int_eq((int)th_num(e, "cassandra.response.result.rows.meta.col_count"), 0x7FFFFFFF);
	ck_assert_ptr_null(th_get(e, "cassandra.response.result.rows.num_rows"));
	cJSON_Delete(e);

	/* counts larger than what follows: a string list and a map */
	f->n = body->n = 0;
	be16(body, 65535);
	str(body, "only one");
	frame(f, 0x04, 0, 5, REGISTER, body);
	cli(h, f);
	f->n = body->n = 0;
	be16(body, 65535);
	str(body, "k");
	be16(body, 1);
	str(body, "v");
	frame(f, 0x84, 0, 5, SUPPORTED, body);
	srv(h, f);
	e = th_ev(h, 3);
	ck_assert_int_eq(cJSON_GetArraySize(th_get(e, "cassandra.request.events")), 1);
	ck_assert_int_eq(cJSON_GetArraySize(th_get(e, "cassandra.response.supported")), 1);
	cJSON_Delete(e);

	/* an unknown opcode and a response opcode from the client */
	f->n = 0;
	put(f, "\x04\x00\x00\x06\x04\x00\x00\x00\x00", 9);
	put(f, "\x04\x00\x00\x06\x08\x00\x00\x00\x00", 9);
	query(f, 6, "still");
	cli(h, f);
	f->n = 0;
	result_void(f, 6);
	srv(h, f);
	ck_assert_int_eq(h->n_ev, 5);
	e = th_ev(h, 4);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "still");
	cJSON_Delete(e);
	ck_assert(h->st.parse_errors >= 1);
	th_free(h);
	free(f);
	free(body);
}
END_TEST

/* a frame larger than max_message_size: its header is read, its body
 * skipped as it comes, and what follows is read */
START_TEST(test_too_large)
{
	struct th *h = mk(NULL);
	struct b *f = bnew(), *body = bnew();
	cJSON *e;
	size_t i;

	h->common.max_message_size = 4096;
	query(f, 1, "SELECT big");
	cli(h, f);
	f->n = 0;
	for (i = 0; i < 20000; i++)
		u8(body, 0x41);
	frame(f, 0x84, 0, 1, RESULT, body);
	result_void(f, 1);
	query(body, 0, "");              /* unused */
	th_tcp_split(h, 1, f->d, f->n, 1000);
	ck_assert_int_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	ck_assert(th_has_note(e, "too large", 0));
	ck_assert_int_eq((int)th_num(e, "cassandra.response.headers.length"), 20000);
	ck_assert_int_eq((int)th_num(e, "server.bytes"), 20009);
	ck_assert_ptr_null(th_get(e, "cassandra.response.result"));
	cJSON_Delete(e);
	e = th_ev(h, 1);
	ck_assert(th_has_note(e, "Unmatched response", 1));
	cJSON_Delete(e);

	/* the stream ends inside one */
	f->n = 0;
	query(f, 2, "SELECT big");
	cli(h, f);
	f->n = 0;
	frame(f, 0x84, 0, 2, RESULT, body);
	th_tcp(h, 1, f->d, 5000);
	th_fin(h, 1);
	ck_assert_int_eq(h->n_ev, 3);
	e = th_ev(h, 2);
	ck_assert(th_has_note(e, "incomplete", 0));
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(body);
}
END_TEST

/* a request of more than 64 KiB is kept cut: its query too */
START_TEST(test_request_cut)
{
	struct th *h = mk(NULL);
	struct b *f = bnew();
	char *q = malloc(70001);
	cJSON *e;

	memset(q, 'a', 70000);
	q[70000] = '\0';
	query(f, 1, q);
	cli(h, f);
	f->n = 0;
	result_void(f, 1);
	srv(h, f);
	e = th_ev(h, 0);
	ck_assert(th_has_note(e, "too large to keep whole", 0));
	ck_assert(!th_has_note(e, "malformed", 0));
	/* the start of the query: what was kept after its length */
	ck_assert_int_eq((int)strlen(th_str(e, "cassandra.request.query")), 65536 - 4);
	ck_assert_int_eq((int)th_num(e, "cassandra.request.headers.length"), 70007);
	ck_assert_int_eq((int)th_num(e, "client.bytes"), 70016);
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(q);
}
END_TEST

START_TEST(test_gap)
{
	struct th *h = mk(NULL);
	struct b *f = bnew();
	cJSON *e;

	query(f, 1, "one");
	query(f, 2, "two");
	cli(h, f);
	f->n = 0;
	result_rows(f, 1, 3);
	/* half of the first response arrives, the rest is lost */
	th_tcp(h, 1, f->d, 20);
	th_gap(h, 1, f->n - 20);
	f->n = 0;
	result_void(f, 2);
	srv(h, f);
	ck_assert_int_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "two");
	ck_assert(th_has_note(e, "Packet loss", 0));
	cJSON_Delete(e);
	th_close(h);
	ck_assert_int_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "one");
	ck_assert(th_has_note(e, "Unmatched request", 1));
	cJSON_Delete(e);
	ck_assert_int_eq((int)h->st.unmatched_requests, 1);
	th_free(h);
	free(f);
}
END_TEST

/* a connection whose start was not captured starts inside a frame */
START_TEST(test_mid_stream)
{
	struct th *h = mk(NULL);
	struct b *f = bnew(), *g = bnew();
	cJSON *e;

	h->c.mid_stream[0] = h->c.mid_stream[1] = 1;
	query(g, 1, "the tail of a frame we never saw the start of");
	put(f, g->d + 11, g->n - 11);
	query(f, 2, "whole");
	cli(h, f);
	f->n = 0;
	result_void(f, 1);
	result_void(f, 2);
	srv(h, f);
	ck_assert_int_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	ck_assert(th_has_note(e, "Unmatched response", 1));
	cJSON_Delete(e);
	e = th_ev(h, 1);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "whole");
	cJSON_Delete(e);
	th_free(h);
	free(f);
	free(g);
}
END_TEST

START_TEST(test_expire)
{
	struct th *h = mk(NULL);
	struct b *f = bnew();
	cJSON *e;

	query(f, 1, "slow");
	cli(h, f);
	th_expire(h, 5 * SEC);
	ck_assert_int_eq(h->n_ev, 0);
	th_expire(h, 6 * SEC);
	ck_assert_int_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert(th_has_note(e, "Unmatched request", 1));
	cJSON_Delete(e);
	/* its late response stands alone */
	f->n = 0;
	result_void(f, 1);
	srv(h, f);
	ck_assert_int_eq(h->n_ev, 2);
	th_free(h);
	free(f);
}
END_TEST

START_TEST(test_options)
{
	struct th *h;
	struct b *f = bnew();
	cJSON *e;

	/* defaults: everything written */
	ck_assert_int_eq(th_conf_rc(cql(), "packetbeat.protocols:\n- type: cassandra\n"), 0);
	ck_assert_int_eq(th_conf_rc(cql(), "packetbeat.protocols:\n- type: cassandra\n  compressor: lz4\n"), 0);
	ck_assert_int_ne(th_conf_rc(cql(), "packetbeat.protocols:\n- type: cassandra\n  compressor: gzip\n"), 0);
	ck_assert_int_ne(th_conf_rc(cql(), "packetbeat.protocols:\n- type: cassandra\n  ignored_ops: [NOPE]\n"), 0);
	ck_assert_int_ne(th_conf_rc(cql(), "packetbeat.protocols:\n- type: cassandra\n  send_request_header: maybe\n"), 0);

	h = mk("packetbeat.protocols:\n- type: cassandra\n  send_request_header: false\n"
	       "  send_response_header: false\n");
	query(f, 1, "q");
	cli(h, f);
	f->n = 0;
	result_void(f, 1);
	srv(h, f);
	e = th_ev(h, 0);
	ck_assert_ptr_null(th_get(e, "cassandra.request.headers"));
	ck_assert_ptr_null(th_get(e, "cassandra.response.headers"));
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "q");
	ck_assert_str_eq(th_str(e, "cassandra.response.result.type"), "void");
	cJSON_Delete(e);
	/* READY has nothing beyond its headers: no response object */
	f->n = 0;
	frame(f, 0x04, 0, 2, OPTIONS, NULL);
	cli(h, f);
	f->n = 0;
	frame(f, 0x84, 0, 2, READY, NULL);
	srv(h, f);
	e = th_ev(h, 1);
	ck_assert_ptr_null(th_get(e, "cassandra"));
	cJSON_Delete(e);
	th_free(h);

	h = mk("packetbeat.protocols:\n- type: cassandra\n  send_request: false\n"
	       "  send_response: false\n");
	f->n = 0;
	query(f, 1, "q");
	cli(h, f);
	f->n = 0;
	result_void(f, 1);
	srv(h, f);
	e = th_ev(h, 0);
	ck_assert_ptr_null(th_get(e, "cassandra"));
	ck_assert_str_eq(th_str(e, "status"), "OK");
	cJSON_Delete(e);
	th_free(h);

	/* ignored_ops: neither side of their transactions is written */
	h = mk("packetbeat.protocols:\n- type: cassandra\n  ignored_ops: [options, ' READY ']\n");
	f->n = 0;
	frame(f, 0x04, 0, 0, OPTIONS, NULL);
	startup(f, 0x04, NULL);
	f->d[9 + 2] = 0;
	f->d[9 + 3] = 1;                 /* the STARTUP on stream 1 */
	query(f, 2, "kept");
	cli(h, f);
	f->n = 0;
	frame(f, 0x84, 0, 0, SUPPORTED, NULL);
	frame(f, 0x84, 0, 1, READY, NULL);
	result_void(f, 2);
	srv(h, f);
	ck_assert_int_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	ck_assert_str_eq(th_str(e, "cassandra.request.query"), "kept");
	cJSON_Delete(e);
	th_free(h);
	free(f);
}
END_TEST

/* random bytes in both directions: never a crash, never a read past */
START_TEST(test_noise)
{
	uint32_t seed = 12345;
	int round;

	for (round = 0; round < 200; round++) {
		struct th *h = mk(NULL);
		uint8_t buf[2048];
		size_t i, n;
		int d;

		h->c.mid_stream[0] = h->c.mid_stream[1] = (uint8_t)(round & 1);
		for (d = 0; d < 6; d++) {
			struct b *f = bnew();

			n = (seed >> 3) % sizeof(buf);
			for (i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				buf[i] = (uint8_t)(seed >> 16);
			}
			/* sometimes a valid frame among the noise */
			if (round % 3 == 0) {
				query(f, d, "valid");
				put(f, buf, n);
				th_tcp(h, d & 1, f->d, f->n);
			} else {
				th_tcp(h, d & 1, buf, n);
			}
			free(f);
		}
		th_close(h);
		th_free(h);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cassandra");
	TCase *tc = tcase_create("cassandra");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_registered);
	tcase_add_test(tc, test_query_void);
	tcase_add_test(tc, test_every_split);
	tcase_add_test(tc, test_rows_meta);
	tcase_add_test(tc, test_rows_nested_types);
	tcase_add_test(tc, test_rows_type_too_deep);
	tcase_add_test(tc, test_out_of_order);
	tcase_add_test(tc, test_stream_reused);
	tcase_add_test(tc, test_pending_cap);
	tcase_add_test(tc, test_event_push);
	tcase_add_test(tc, test_unmatched_response);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_prepare_execute_batch);
	tcase_add_test(tc, test_handshake_bodies);
	tcase_add_test(tc, test_tracing_warnings_payload);
	tcase_add_test(tc, test_compression);
	tcase_add_test(tc, test_compression_unknown);
	tcase_add_test(tc, test_v5_segments);
	tcase_add_test(tc, test_v5_bad_crc24);
	tcase_add_test(tc, test_v5_mid_stream);
	tcase_add_test(tc, test_v5_prepared);
	tcase_add_test(tc, test_v5_beta);
	tcase_add_test(tc, test_v2_header);
	tcase_add_test(tc, test_hostile_lengths);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_request_cut);
	tcase_add_test(tc, test_gap);
	tcase_add_test(tc, test_mid_stream);
	tcase_add_test(tc, test_expire);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_noise);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
