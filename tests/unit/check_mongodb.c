/*
 * check_mongodb.c - the MongoDB parser (proto/mongodb.c) driven as the
 * engine drives it (tests/unit/txnharness.h): OP_MSG commands and
 * replies paired by requestID, the legacy opcodes, OP_COMPRESSED with
 * each compressor, checksums, moreToCome and exhaust streams, every split
 * point of a message, gaps, FIN, hostile lengths and BSON, the options,
 * the rendering of every BSON type, and random input.
 *
 * Messages and BSON documents are built byte by byte below (struct b);
 * the fields of the events are read back with cJSON.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "txnharness.h"
#include "proto/proto.h"

#define SEC INT64_C(1000000000)

/* ---- building bytes ---- */

struct b {
	uint8_t d[1 << 16];
	size_t n;
	size_t stack[256];        /* offsets of open documents */
	unsigned sp;
};

static void b_raw(struct b *b, const void *p, size_t n)
{
	ck_assert_uint_le(b->n + n, sizeof(b->d));
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void b_u8(struct b *b, unsigned v)
{
	uint8_t x = (uint8_t)v;

	b_raw(b, &x, 1);
}

static void b_i32(struct b *b, int32_t v)
{
	uint32_t u = (uint32_t)v;
	uint8_t x[4] = { (uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24) };

	b_raw(b, x, 4);
}

static void b_i64(struct b *b, int64_t v)
{
	b_i32(b, (int32_t)(uint32_t)((uint64_t)v & 0xffffffffu));
	b_i32(b, (int32_t)(uint32_t)((uint64_t)v >> 32));
}

static void b_cstr(struct b *b, const char *s)
{
	b_raw(b, s, strlen(s) + 1);
}

static void b_set32(struct b *b, size_t at, uint32_t v)
{
	b->d[at] = (uint8_t)v;
	b->d[at + 1] = (uint8_t)(v >> 8);
	b->d[at + 2] = (uint8_t)(v >> 16);
	b->d[at + 3] = (uint8_t)(v >> 24);
}

/* documents: open, elements, close */
static void d_open(struct b *b)
{
	b->stack[b->sp++] = b->n;
	b_i32(b, 0);
}

static void d_close(struct b *b)
{
	size_t at = b->stack[--b->sp];

	b_u8(b, 0);
	b_set32(b, at, (uint32_t)(b->n - at));
}

static void e_name(struct b *b, unsigned type, const char *name)
{
	b_u8(b, type);
	b_cstr(b, name);
}

static void e_str(struct b *b, const char *name, const char *v)
{
	e_name(b, 2, name);
	b_i32(b, (int32_t)strlen(v) + 1);
	b_cstr(b, v);
}

static void e_i32(struct b *b, const char *name, int32_t v)
{
	e_name(b, 16, name);
	b_i32(b, v);
}

static void e_i64(struct b *b, const char *name, int64_t v)
{
	e_name(b, 18, name);
	b_i64(b, v);
}

static void e_double(struct b *b, const char *name, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	e_name(b, 1, name);
	b_i64(b, (int64_t)u);
}

static void e_doc(struct b *b, const char *name)
{
	e_name(b, 3, name);
	d_open(b);
}

static void e_arr(struct b *b, const char *name)
{
	e_name(b, 4, name);
	d_open(b);
}

/* messages: header, body, then the length */
static void m_open(struct b *b, int32_t id, int32_t to, int32_t op)
{
	b->n = 0;
	b->sp = 0;
	b_i32(b, 0);
	b_i32(b, id);
	b_i32(b, to);
	b_i32(b, op);
}

static void m_close(struct b *b)
{
	b_set32(b, 0, (uint32_t)b->n);
}

/* an OP_MSG whose body is {cmd: coll, extra..., $db: db}, flags given */
static void msg_cmd(struct b *b, int32_t id, uint32_t flags, const char *cmd,
		    const char *coll, const char *db)
{
	m_open(b, id, 0, 2013);
	b_i32(b, (int32_t)flags);
	b_u8(b, 0);
	d_open(b);
	if (coll)
		e_str(b, cmd, coll);
	else
		e_i32(b, cmd, 1);
	e_str(b, "$db", db);
	d_close(b);
	m_close(b);
}

/* an OP_MSG reply {ok: 1} with a cursor of n documents {i: k} */
static void msg_cursor_reply(struct b *b, int32_t id, int32_t to, int n, int64_t cursor)
{
	char k[16];
	int i;

	m_open(b, id, to, 2013);
	b_i32(b, 0);
	b_u8(b, 0);
	d_open(b);
	e_doc(b, "cursor");
	e_arr(b, "firstBatch");
	for (i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "%d", i);
		e_doc(b, k);
		e_i32(b, "i", i);
		d_close(b);
	}
	d_close(b);
	e_i64(b, "id", cursor);
	e_str(b, "ns", "shop.things");
	d_close(b);
	e_double(b, "ok", 1.0);
	d_close(b);
	m_close(b);
}

static void msg_ok(struct b *b, int32_t id, int32_t to, uint32_t flags)
{
	m_open(b, id, to, 2013);
	b_i32(b, (int32_t)flags);
	b_u8(b, 0);
	d_open(b);
	e_double(b, "ok", 1.0);
	d_close(b);
	m_close(b);
}

/* ---- running ---- */

static struct th *new_th(void)
{
	return th_new(pb_proto_find("mongodb"), 6, 40000, 27017);
}

/* the parser's options block (struct mongo_conf) */
struct mconf {
	int64_t max_docs, max_doc_length;
};

static struct mconf *conf_of(struct th *h)
{
	return h->conf;
}

static cJSON *ev(struct th *h, unsigned i)
{
	cJSON *e = th_event(h, i);

	ck_assert_msg(e != NULL, "no event %u (have %u)", i, h->n_ev);
	return e;
}

static void send(struct th *h, int dir, const struct b *b)
{
	th_tcp(h, dir, b->d, b->n);
}

/* ---- OP_MSG ---- */

START_TEST(test_find_cursor)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;
	size_t rq;

	m_open(&b, 7, 0, 2013);
	b_i32(&b, 0);
	b_u8(&b, 0);
	d_open(&b);
	e_str(&b, "find", "things");
	e_doc(&b, "filter");
	e_doc(&b, "qty");
	e_i32(&b, "$gt", 1);
	d_close(&b);
	d_close(&b);
	e_str(&b, "$db", "shop");
	e_doc(&b, "lsid");
	e_i32(&b, "id", 1);
	d_close(&b);
	d_close(&b);
	m_close(&b);
	rq = b.n;
	send(h, 0, &b);
	ck_assert_uint_eq(h->n_ev, 0);
	msg_cursor_reply(&b, 99, 7, 3, INT64_C(9007199254740993));
	send(h, 1, &b);
	ck_assert_uint_eq(h->n_ev, 1);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "type"), "mongodb");
	ck_assert_str_eq(th_str(e, "status"), "OK");
	ck_assert_str_eq(th_str(e, "method"), "find");
	ck_assert_str_eq(th_str(e, "resource"), "shop.things");
	/* the filter stays; $db and lsid are metadata */
	ck_assert_str_eq(th_str(e, "query"), "shop.things.find({\"filter\":{\"qty\":{\"$gt\":1}}})");
	ck_assert_str_eq(th_str(e, "mongodb.query"), "{\"qty\":{\"$gt\":1}}");
	ck_assert_str_eq(th_str(e, "mongodb.database"), "shop");
	ck_assert_str_eq(th_str(e, "mongodb.collection"), "things");
	ck_assert_str_eq(th_str(e, "mongodb.opcodeName"), "OP_MSG");
	ck_assert_int_eq((int)th_num(e, "mongodb.numberReturned"), 3);
	/* past 2^53: a string keeps every digit */
	ck_assert_str_eq(th_str(e, "mongodb.cursorId"), "9007199254740993");
	ck_assert_int_eq((int)th_num(e, "client.bytes"), (int)rq);
	ck_assert_int_eq((int)th_num(e, "server.bytes"), (int)b.n);
	ck_assert_ptr_null(th_get(e, "request"));
	ck_assert_ptr_null(th_get(e, "response"));
	ck_assert_ptr_null(th_get(e, "error"));
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.parse_errors, 0);
	th_free(h);
}
END_TEST

/* The same exchange cut at every byte gives the same event. */
START_TEST(test_every_split)
{
	struct b rq, rs;
	char *want = NULL;
	size_t step;

	msg_cmd(&rq, 1, 0, "count", "things", "shop");
	msg_cursor_reply(&rs, 2, 1, 2, 5);
	for (step = 0; step <= rq.n + rs.n; step++) {
		struct th *h = new_th();

		if (step == 0) {
			send(h, 0, &rq);
			send(h, 1, &rs);
		} else {
			th_tcp_split(h, 0, rq.d, rq.n, step);
			th_tcp_split(h, 1, rs.d, rs.n, step);
		}
		ck_assert_uint_eq(h->n_ev, 1);
		if (!want) {
			want = strdup(h->ev[0]);
		} else {
			/* times differ with the number of packets: compare what
			 * the parser decided */
			cJSON *a = cJSON_Parse(want), *e = ev(h, 0);

			ck_assert_str_eq(th_str(e, "query"), th_str(a, "query"));
			ck_assert_str_eq(th_str(e, "status"), "OK");
			ck_assert_str_eq(th_str(e, "mongodb.cursorId"), "5");
			ck_assert_int_eq((int)th_num(e, "server.bytes"), (int)rs.n);
			cJSON_Delete(a);
			cJSON_Delete(e);
		}
		th_free(h);
	}
	free(want);
}
END_TEST

/* Two messages in one segment, and replies out of order: pairing is by
 * id, not by order. */
START_TEST(test_pairing_by_id)
{
	struct th *h = new_th();
	struct b a, b2, both;
	cJSON *e;

	msg_cmd(&a, 10, 0, "find", "one", "db");
	msg_cmd(&b2, 11, 0, "find", "two", "db");
	both.n = 0;
	b_raw(&both, a.d, a.n);
	b_raw(&both, b2.d, b2.n);
	send(h, 0, &both);
	msg_ok(&a, 500, 11, 0);
	send(h, 1, &a);
	msg_ok(&a, 501, 10, 0);
	send(h, 1, &a);
	ck_assert_uint_eq(h->n_ev, 2);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "resource"), "db.two");
	cJSON_Delete(e);
	e = ev(h, 1);
	ck_assert_str_eq(th_str(e, "resource"), "db.one");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_command_error)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;

	msg_cmd(&b, 3, 0, "drop", "nosuch", "shop");
	send(h, 0, &b);
	m_open(&b, 4, 3, 2013);
	b_i32(&b, 0);
	b_u8(&b, 0);
	d_open(&b);
	e_double(&b, "ok", 0.0);
	e_str(&b, "errmsg", "ns not found");
	e_i32(&b, "code", 26);
	e_str(&b, "codeName", "NamespaceNotFound");
	d_close(&b);
	m_close(&b);
	send(h, 1, &b);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert_str_eq(th_str(e, "mongodb.error"), "ns not found");
	ck_assert_int_eq((int)th_num(e, "mongodb.code"), 26);
	ck_assert_str_eq(th_str(e, "mongodb.codeName"), "NamespaceNotFound");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_write_errors)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;

	msg_cmd(&b, 3, 0, "insert", "things", "shop");
	send(h, 0, &b);
	m_open(&b, 4, 3, 2013);
	b_i32(&b, 0);
	b_u8(&b, 0);
	d_open(&b);
	e_i32(&b, "n", 0);
	e_arr(&b, "writeErrors");
	e_doc(&b, "0");
	e_i32(&b, "index", 0);
	e_i32(&b, "code", 11000);
	e_str(&b, "errmsg", "E11000 duplicate key");
	d_close(&b);
	d_close(&b);
	e_double(&b, "ok", 1.0);
	d_close(&b);
	m_close(&b);
	send(h, 1, &b);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert_str_eq(th_str(e, "mongodb.error"),
			 "[{\"index\":0,\"code\":11000,\"errmsg\":\"E11000 duplicate key\"}]");
	ck_assert_int_eq((int)th_num(e, "mongodb.code"), 11000);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* A document sequence is part of the command: kept out of "query" when
 * it is the data, written in "request". */
START_TEST(test_doc_sequence_and_send_request)
{
	struct th *h = new_th();
	struct b b;
	size_t at;
	cJSON *e;

	h->common.send_request = 1;
	m_open(&b, 1, 0, 2013);
	b_i32(&b, 0);
	b_u8(&b, 0);
	d_open(&b);
	e_str(&b, "insert", "things");
	e_str(&b, "$db", "shop");
	d_close(&b);
	b_u8(&b, 1);
	at = b.n;
	b_i32(&b, 0);
	b_cstr(&b, "documents");
	d_open(&b);
	e_str(&b, "a", "x");
	d_close(&b);
	d_open(&b);
	e_i32(&b, "b", 2);
	d_close(&b);
	b_set32(&b, at, (uint32_t)(b.n - at));
	m_close(&b);
	send(h, 0, &b);
	msg_ok(&b, 2, 1, 0);
	send(h, 1, &b);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "query"), "shop.things.insert({})");
	ck_assert_str_eq(th_str(e, "request"),
			 "shop.things.insert({\"$db\":\"shop\",\"documents\":[{\"a\":\"x\"},{\"b\":2}]})");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_more_to_come_request)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;

	msg_cmd(&b, 1, 0x2, "insert", "log", "shop");
	send(h, 0, &b);
	/* written at once: no reply will come */
	ck_assert_uint_eq(h->n_ev, 1);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "status"), "OK");
	ck_assert_int_eq(cJSON_IsTrue(th_get(e, "mongodb.moreToCome")), 1);
	ck_assert_ptr_null(th_get(e, "error"));
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.messages, 1);   /* a message, not unmatched */
	th_free(h);
}
END_TEST

/* An exhaust stream: each reply with moreToCome names the previous one;
 * each gives an event, the request's bytes counted once. */
START_TEST(test_exhaust)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;
	unsigned i;
	size_t rq;

	msg_cmd(&b, 5, 0x10000, "hello", NULL, "admin");
	rq = b.n;
	send(h, 0, &b);
	msg_ok(&b, 100, 5, 0x2);
	send(h, 1, &b);
	msg_ok(&b, 101, 100, 0x2);
	send(h, 1, &b);
	msg_ok(&b, 102, 101, 0);
	send(h, 1, &b);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 3);
	for (i = 0; i < 3; i++) {
		e = ev(h, i);
		ck_assert_str_eq(th_str(e, "method"), "hello");
		ck_assert_str_eq(th_str(e, "resource"), "admin.$cmd");
		ck_assert_str_eq(th_str(e, "status"), "OK");
		ck_assert_int_eq((int)th_num(e, "client.bytes"), i == 0 ? (int)rq : 0);
		ck_assert_int_eq(cJSON_IsTrue(th_get(e, "mongodb.exhaust")), i < 2);
		/* the request's opcode once, with its bytes */
		ck_assert_int_eq(th_get(e, "mongodb.opcodeName") != NULL, i == 0);
		cJSON_Delete(e);
	}
	th_free(h);
}
END_TEST

static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	unsigned k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? crc >> 1 ^ 0x82f63b78u : crc >> 1;
	}
	return crc ^ 0xffffffffu;
}

START_TEST(test_checksum)
{
	int bad;

	for (bad = 0; bad < 2; bad++) {
		struct th *h = new_th();
		struct b b;
		cJSON *e;

		msg_cmd(&b, 1, 0x1, "ping", NULL, "admin");
		b.n += 4;
		m_close(&b);
		b_set32(&b, b.n - 4, crc32c(b.d, b.n - 4) ^ (uint32_t)bad);
		send(h, 0, &b);
		msg_ok(&b, 2, 1, 0);
		send(h, 1, &b);
		e = ev(h, 0);
		ck_assert_str_eq(th_str(e, "method"), "ping");
		ck_assert_int_eq(th_has_note(e, "CRC-32C checksum mismatch", 1), bad);
		/* the trailer is not read as a section */
		ck_assert_int_eq(th_has_note(e, "Malformed message", 1), 0);
		cJSON_Delete(e);
		th_free(h);
	}
}
END_TEST

/* OP_COMPRESSED around an OP_MSG, body compressed with compressor id */
static void compress_msg(struct b *out, const struct b *in, unsigned id)
{
	uint8_t z[4096];
	size_t zn = sizeof(z);
	int32_t rid, to, op;

	memcpy(&rid, in->d + 4, 4);
	memcpy(&to, in->d + 8, 4);
	memcpy(&op, in->d + 12, 4);
	if (id == 1) {
		ck_assert_int_eq(snappy_compress((const char *)in->d + 16, in->n - 16, (char *)z, &zn),
				 SNAPPY_OK);
	} else if (id == 2) {
		uLongf l = sizeof(z);

		ck_assert_int_eq(compress2(z, &l, in->d + 16, in->n - 16, 6), Z_OK);
		zn = l;
	} else if (id == 3) {
		zn = ZSTD_compress(z, sizeof(z), in->d + 16, in->n - 16, 3);
		ck_assert(!ZSTD_isError(zn));
	} else {
		memcpy(z, in->d + 16, in->n - 16);
		zn = in->n - 16;
	}
	m_open(out, rid, to, 2012);
	b_i32(out, op);
	b_i32(out, (int32_t)(in->n - 16));
	b_u8(out, id);
	b_raw(out, z, zn);
	m_close(out);
}

START_TEST(test_compressed)
{
	static const char *const names[] = { "noop", "snappy", "zlib", "zstd" };
	unsigned id;

	for (id = 0; id < 4; id++) {
		struct th *h = new_th();
		struct b m, z;
		cJSON *e;

		msg_cmd(&m, 1, 0, "find", "things", "shop");
		compress_msg(&z, &m, id);
		send(h, 0, &z);
		msg_cursor_reply(&m, 2, 1, 1, 0);
		compress_msg(&z, &m, id);
		send(h, 1, &z);
		ck_assert_uint_eq(h->n_ev, 1);
		e = ev(h, 0);
		ck_assert_str_eq(th_str(e, "method"), "find");
		ck_assert_str_eq(th_str(e, "mongodb.compressor"), names[id]);
		ck_assert_str_eq(th_str(e, "mongodb.opcodeName"), "OP_MSG");
		ck_assert_int_eq((int)th_num(e, "mongodb.numberReturned"), 1);
		ck_assert_int_eq((int)th_num(e, "server.bytes"), (int)z.n);
		ck_assert_ptr_null(th_get(e, "error"));
		cJSON_Delete(e);
		th_free(h);
	}
}
END_TEST

/* Compressed bytes that lie: the message still pairs, with a note. */
START_TEST(test_compressed_bad)
{
	struct th *h = new_th();
	struct b m, z;
	cJSON *e;

	msg_cmd(&m, 1, 0, "find", "things", "shop");
	compress_msg(&z, &m, 1);
	/* a size the snappy stream does not have */
	b_set32(&z, 20, (uint32_t)(m.n - 16 + 5));
	send(h, 0, &z);
	/* an uncompressedSize past the cap is not believed */
	msg_ok(&m, 2, 1, 0);
	compress_msg(&z, &m, 3);
	b_set32(&z, 20, 0x7fffffffu);
	send(h, 1, &z);
	ck_assert_uint_eq(h->n_ev, 1);
	e = ev(h, 0);
	ck_assert(th_has_note(e, "Decompression failed", 1));
	ck_assert_str_eq(th_str(e, "mongodb.compressor"), "snappy");
	cJSON_Delete(e);
	ck_assert_uint_ge(h->st.parse_errors, 2);
	th_free(h);
}
END_TEST

/* ---- legacy opcodes ---- */

START_TEST(test_legacy_query_reply)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;

	h->common.send_response = 1;
	m_open(&b, 10, 0, 2004);
	b_i32(&b, 0);
	b_cstr(&b, "test.restaurants");
	b_i32(&b, 2);
	b_i32(&b, 3);
	d_open(&b);
	e_str(&b, "borough", "Bronx");
	d_close(&b);
	d_open(&b);
	e_i32(&b, "name", 1);
	d_close(&b);
	m_close(&b);
	send(h, 0, &b);
	m_open(&b, 11, 10, 1);
	b_i32(&b, 8);
	b_i64(&b, 77);
	b_i32(&b, 2);
	b_i32(&b, 2);
	d_open(&b);
	e_str(&b, "name", "a");
	d_close(&b);
	d_open(&b);
	e_str(&b, "name", "b");
	d_close(&b);
	m_close(&b);
	send(h, 1, &b);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "find");
	ck_assert_str_eq(th_str(e, "resource"), "test.restaurants");
	ck_assert_str_eq(th_str(e, "query"),
			 "test.restaurants.find({\"borough\":\"Bronx\"}).skip(2).limit(3)");
	ck_assert_str_eq(th_str(e, "mongodb.fullCollectionName"), "test.restaurants");
	ck_assert_int_eq((int)th_num(e, "mongodb.numberToSkip"), 2);
	ck_assert_int_eq((int)th_num(e, "mongodb.numberToReturn"), 3);
	ck_assert_str_eq(th_str(e, "mongodb.returnFieldsSelector"), "{\"name\":1}");
	ck_assert_int_eq((int)th_num(e, "mongodb.numberReturned"), 2);
	ck_assert_int_eq((int)th_num(e, "mongodb.startingFrom"), 2);
	ck_assert_str_eq(th_str(e, "mongodb.cursorId"), "77");
	ck_assert_str_eq(th_str(e, "response"), "{\"name\":\"a\"}\n{\"name\":\"b\"}");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_legacy_command_and_err)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;

	/* a command wrapped in $query */
	m_open(&b, 1, 0, 2004);
	b_i32(&b, 0);
	b_cstr(&b, "test.$cmd");
	b_i32(&b, 0);
	b_i32(&b, -1);
	d_open(&b);
	e_doc(&b, "$query");
	e_str(&b, "count", "things");
	d_close(&b);
	d_close(&b);
	m_close(&b);
	send(h, 0, &b);
	m_open(&b, 2, 1, 1);
	b_i32(&b, 2);                        /* QueryFailure */
	b_i64(&b, 0);
	b_i32(&b, 0);
	b_i32(&b, 1);
	d_open(&b);
	e_str(&b, "$err", "bad query");
	e_i32(&b, "code", 2);
	d_close(&b);
	m_close(&b);
	send(h, 1, &b);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "count");
	ck_assert_str_eq(th_str(e, "resource"), "test.things");
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert_str_eq(th_str(e, "mongodb.error"), "bad query");
	ck_assert_int_eq((int)th_num(e, "mongodb.code"), 2);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* OP_INSERT, OP_UPDATE, OP_DELETE, OP_KILL_CURSORS: no reply, written
 * at once, status OK; OP_GET_MORE awaits one. */
START_TEST(test_legacy_fire_and_forget)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;

	m_open(&b, 1, 0, 2002);
	b_i32(&b, 0);
	b_cstr(&b, "db.c");
	d_open(&b);
	e_i32(&b, "x", 1);
	d_close(&b);
	m_close(&b);
	send(h, 0, &b);
	m_open(&b, 2, 0, 2001);
	b_i32(&b, 0);
	b_cstr(&b, "db.c");
	b_i32(&b, 0);
	d_open(&b);
	e_i32(&b, "x", 1);
	d_close(&b);
	d_open(&b);
	e_doc(&b, "$set");
	e_i32(&b, "y", 2);
	d_close(&b);
	d_close(&b);
	m_close(&b);
	send(h, 0, &b);
	m_open(&b, 3, 0, 2006);
	b_i32(&b, 0);
	b_cstr(&b, "db.c");
	b_i32(&b, 1);
	d_open(&b);
	e_i32(&b, "x", 1);
	d_close(&b);
	m_close(&b);
	send(h, 0, &b);
	m_open(&b, 4, 0, 2007);
	b_i32(&b, 0);
	b_i32(&b, 1);
	b_i64(&b, 1234);
	m_close(&b);
	send(h, 0, &b);
	ck_assert_uint_eq(h->n_ev, 4);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "insert");
	ck_assert_str_eq(th_str(e, "status"), "OK");
	ck_assert_str_eq(th_str(e, "resource"), "db.c");
	cJSON_Delete(e);
	e = ev(h, 1);
	ck_assert_str_eq(th_str(e, "method"), "update");
	ck_assert_str_eq(th_str(e, "mongodb.selector"), "{\"x\":1}");
	ck_assert_str_eq(th_str(e, "mongodb.update"), "{\"$set\":{\"y\":2}}");
	ck_assert_str_eq(th_str(e, "query"), "db.c.update({\"x\":1},{\"$set\":{\"y\":2}})");
	cJSON_Delete(e);
	e = ev(h, 2);
	ck_assert_str_eq(th_str(e, "method"), "delete");
	cJSON_Delete(e);
	e = ev(h, 3);
	ck_assert_str_eq(th_str(e, "method"), "killCursors");
	ck_assert_str_eq(th_str(e, "mongodb.cursorId"), "1234");
	ck_assert_str_eq(th_str(e, "status"), "OK");
	cJSON_Delete(e);
	/* a getMore waits, and is unmatched at the end */
	m_open(&b, 5, 0, 2005);
	b_i32(&b, 0);
	b_cstr(&b, "db.c");
	b_i32(&b, 10);
	b_i64(&b, 1234);
	m_close(&b);
	send(h, 0, &b);
	ck_assert_uint_eq(h->n_ev, 4);
	th_close(h);
	e = ev(h, 4);
	ck_assert_str_eq(th_str(e, "method"), "getMore");
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert(th_has_note(e, "Unmatched request", 1));
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- hostile input ---- */

START_TEST(test_hostile_lengths)
{
	struct th *h = new_th();
	struct b b, junk;
	cJSON *e;

	/* a length too small for a header: resynchronised on the next
	 * message */
	junk.n = 0;
	b_i32(&junk, 8);
	b_i32(&junk, 0);
	b_i32(&junk, 0);
	b_i32(&junk, 2013);
	send(h, 0, &junk);
	msg_cmd(&b, 1, 0, "ping", NULL, "admin");
	send(h, 0, &b);
	msg_ok(&b, 2, 1, 0);
	send(h, 1, &b);
	ck_assert_uint_eq(h->n_ev, 1);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "ping");
	cJSON_Delete(e);
	ck_assert_uint_ge(h->st.parse_errors, 1);
	/* a negative length */
	junk.n = 0;
	b_i32(&junk, -5);
	b_i32(&junk, 0);
	b_i32(&junk, 0);
	b_i32(&junk, 2013);
	send(h, 0, &junk);
	msg_cmd(&b, 3, 0, "ping", NULL, "admin");
	send(h, 0, &b);
	msg_ok(&b, 4, 3, 0);
	send(h, 1, &b);
	ck_assert_uint_eq(h->n_ev, 2);
	th_free(h);
}
END_TEST

/* A message past the cap: written from its header, its bytes skipped,
 * and the next one read. */
START_TEST(test_too_large)
{
	struct th *h = new_th();
	struct b b;
	static uint8_t big[4096];
	unsigned i;
	cJSON *e;

	h->common.max_message_size = 1000;
	m_open(&b, 1, 0, 2013);
	b_i32(&b, 0);
	b_u8(&b, 0);
	b_set32(&b, 0, 5000);
	send(h, 0, &b);
	for (i = 0; i < 4; i++)
		th_tcp(h, 0, big, i < 3 ? 1000 : 5000 - 21 - 3000);
	msg_cmd(&b, 2, 0, "ping", NULL, "admin");
	send(h, 0, &b);
	msg_ok(&b, 3, 1, 0);
	send(h, 1, &b);
	msg_ok(&b, 4, 2, 0);
	send(h, 1, &b);
	ck_assert_uint_eq(h->n_ev, 2);
	e = ev(h, 0);
	ck_assert(th_has_note(e, "Message too large", 1));
	ck_assert_int_eq((int)th_num(e, "client.bytes"), 5000);
	ck_assert_str_eq(th_str(e, "status"), "OK");
	cJSON_Delete(e);
	e = ev(h, 1);
	ck_assert_str_eq(th_str(e, "method"), "ping");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* BSON that lies about its lengths, and nesting past the limit. */
START_TEST(test_hostile_bson)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;
	int i;

	/* a string whose length runs past its document */
	m_open(&b, 1, 0, 2013);
	b_i32(&b, 0);
	b_u8(&b, 0);
	d_open(&b);
	e_name(&b, 2, "find");
	b_i32(&b, 1000);
	b_cstr(&b, "x");
	d_close(&b);
	m_close(&b);
	send(h, 0, &b);
	msg_ok(&b, 2, 1, 0);
	send(h, 1, &b);
	e = ev(h, 0);
	ck_assert(th_has_note(e, "Malformed message", 1));
	cJSON_Delete(e);
	/* 150 nested documents */
	m_open(&b, 3, 0, 2013);
	b_i32(&b, 0);
	b_u8(&b, 0);
	d_open(&b);
	e_str(&b, "find", "c");
	for (i = 0; i < 150; i++)
		e_doc(&b, "filter");
	for (i = 0; i < 150; i++)
		d_close(&b);
	e_str(&b, "$db", "d");
	d_close(&b);
	m_close(&b);
	send(h, 0, &b);
	msg_ok(&b, 4, 3, 0);
	send(h, 1, &b);
	ck_assert_uint_eq(h->n_ev, 2);
	e = ev(h, 1);
	ck_assert_str_eq(th_str(e, "method"), "find");
	ck_assert(th_has_note(e, "Malformed message", 1));
	cJSON_Delete(e);
	/* an unknown element type */
	m_open(&b, 5, 0, 2013);
	b_i32(&b, 0);
	b_u8(&b, 0);
	d_open(&b);
	e_str(&b, "find", "c");
	e_name(&b, 0x42, "odd");
	d_close(&b);
	m_close(&b);
	send(h, 0, &b);
	msg_ok(&b, 6, 5, 0);
	send(h, 1, &b);
	e = ev(h, 2);
	ck_assert(th_has_note(e, "Malformed message", 1));
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* An unknown opcode is counted and skipped by its length. */
START_TEST(test_unknown_opcode)
{
	struct th *h = new_th();
	struct b b;

	msg_cmd(&b, 0, 0, "insert", "c", "db");
	b_set32(&b, 12, 2269);
	send(h, 0, &b);
	ck_assert_uint_eq(h->n_ev, 0);
	ck_assert_uint_eq(h->st.parse_errors, 1);
	msg_cmd(&b, 1, 0, "ping", NULL, "admin");
	send(h, 0, &b);
	msg_ok(&b, 2, 1, 0);
	send(h, 1, &b);
	ck_assert_uint_eq(h->n_ev, 1);
	th_free(h);
}
END_TEST

/* A gap in a reply: the request says its reply was lost; the rest of
 * the cut message is skipped and the next one read. */
START_TEST(test_gap)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;

	msg_cmd(&b, 1, 0, "find", "c", "db");
	send(h, 0, &b);
	msg_cursor_reply(&b, 2, 1, 2, 0);
	th_tcp(h, 1, b.d, 20);               /* the header and a little */
	th_gap(h, 1, 30);                    /* 20 given + 30 lost */
	th_tcp(h, 1, b.d + 50, b.n - 50);    /* the rest of it */
	ck_assert_uint_eq(h->n_ev, 1);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert(th_has_note(e, "Packet loss while capturing the response", 1));
	cJSON_Delete(e);
	/* and the stream goes on */
	msg_cmd(&b, 3, 0, "ping", NULL, "admin");
	send(h, 0, &b);
	msg_ok(&b, 4, 3, 0);
	send(h, 1, &b);
	ck_assert_uint_eq(h->n_ev, 2);
	e = ev(h, 1);
	ck_assert_str_eq(th_str(e, "method"), "ping");
	ck_assert_str_eq(th_str(e, "status"), "OK");
	cJSON_Delete(e);
	/* a gap at a boundary: resynchronised on the next header */
	th_gap(h, 0, 100);
	msg_cmd(&b, 5, 0, "ping", NULL, "admin");
	send(h, 0, &b);
	msg_ok(&b, 6, 5, 0);
	send(h, 1, &b);
	ck_assert_uint_eq(h->n_ev, 3);
	th_free(h);
}
END_TEST

/* A direction whose start was not captured begins inside a message:
 * its tail is skipped up to the next plausible header. */
START_TEST(test_mid_stream)
{
	struct th *h = new_th();
	struct b b, tail;
	cJSON *e;

	h->c.mid_stream[0] = h->c.mid_stream[1] = 1;
	msg_cmd(&b, 1, 0, "find", "lost", "db");
	tail.n = 0;
	b_raw(&tail, b.d + 7, b.n - 7);
	msg_cmd(&b, 2, 0, "find", "seen", "db");
	b_raw(&tail, b.d, b.n);
	th_tcp_split(h, 0, tail.d, tail.n, 5);
	msg_ok(&b, 3, 2, 0);
	send(h, 1, &b);
	ck_assert_uint_eq(h->n_ev, 1);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "resource"), "db.seen");
	ck_assert_str_eq(th_str(e, "status"), "OK");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* A gap that ends where its message ends: the next message is read at
 * once, without resynchronising. */
START_TEST(test_gap_to_boundary)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;

	msg_cmd(&b, 1, 0, "find", "c", "db");
	th_tcp(h, 0, b.d, 16);
	th_gap(h, 0, b.n - 16);
	/* a request lost in a gap waits for its reply, with a note */
	msg_ok(&b, 2, 1, 0);
	send(h, 1, &b);
	ck_assert_uint_eq(h->n_ev, 1);
	e = ev(h, 0);
	ck_assert(th_has_note(e, "Packet loss while capturing the request", 1));
	ck_assert_str_eq(th_str(e, "status"), "OK");
	cJSON_Delete(e);
	msg_cmd(&b, 3, 0, "ping", NULL, "admin");
	send(h, 0, &b);
	msg_ok(&b, 4, 3, 0);
	send(h, 1, &b);
	ck_assert_uint_eq(h->n_ev, 2);
	th_free(h);
}
END_TEST

START_TEST(test_fin_and_close)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;

	/* a lone reply (no request seen), then a request cut by FIN */
	msg_ok(&b, 50, 49, 0);
	send(h, 1, &b);
	msg_cmd(&b, 1, 0, "find", "c", "db");
	th_tcp(h, 0, b.d, b.n - 3);
	th_fin(h, 0);
	ck_assert_uint_eq(h->n_ev, 0);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	e = ev(h, 0);
	ck_assert(th_has_note(e, "Request incomplete at end of stream", 1));
	ck_assert(th_has_note(e, "Unmatched request", 1));
	ck_assert_str_eq(th_str(e, "mongodb.opcodeName"), "OP_MSG");
	cJSON_Delete(e);
	e = ev(h, 1);
	ck_assert(th_has_note(e, "Unmatched response", 1));
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert_ptr_null(th_get(e, "mongodb.opcodeName"));
	ck_assert_str_eq(th_str(e, "client.ip"), "10.0.0.1");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* A reply seen before its request (merged captures) still pairs. */
START_TEST(test_reply_first)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;

	m_open(&b, 2, 1, 1);
	b_i32(&b, 0);
	b_i64(&b, 0);
	b_i32(&b, 0);
	b_i32(&b, 0);
	m_close(&b);
	send(h, 1, &b);
	m_open(&b, 1, 0, 2004);
	b_i32(&b, 0);
	b_cstr(&b, "a.$cmd");
	b_i32(&b, 0);
	b_i32(&b, -1);
	d_open(&b);
	e_i32(&b, "buildinfo", 1);
	d_close(&b);
	m_close(&b);
	send(h, 0, &b);
	ck_assert_uint_eq(h->n_ev, 1);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "buildinfo");
	ck_assert_str_eq(th_str(e, "status"), "OK");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_timeout_and_overflow)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;
	int i;

	msg_cmd(&b, 1, 0, "ping", NULL, "admin");
	send(h, 0, &b);
	th_expire(h, 11 * SEC);
	ck_assert_uint_eq(h->n_ev, 1);
	e = ev(h, 0);
	ck_assert(th_has_note(e, "Unmatched request", 1));
	cJSON_Delete(e);
	/* 70 unanswered: the 6 oldest go out with a note */
	for (i = 0; i < 70; i++) {
		msg_cmd(&b, 100 + i, 0, "ping", NULL, "admin");
		send(h, 0, &b);
	}
	ck_assert_uint_eq(h->n_ev, 7);
	e = ev(h, 1);
	ck_assert(th_has_note(e, "Too many pending requests", 1));
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 71);
	th_free(h);
}
END_TEST

/* ---- options ---- */

START_TEST(test_max_docs_and_length)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;

	h->common.send_response = 1;
	conf_of(h)->max_docs = 2;
	msg_cmd(&b, 1, 0, "find", "c", "db");
	send(h, 0, &b);
	msg_cursor_reply(&b, 2, 1, 5, 0);
	send(h, 1, &b);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "response"), "{\"i\":0}\n{\"i\":1}\n[...]");
	cJSON_Delete(e);
	conf_of(h)->max_docs = 0;
	conf_of(h)->max_doc_length = 4;
	msg_cmd(&b, 3, 0, "find", "c", "db");
	send(h, 0, &b);
	msg_cursor_reply(&b, 4, 3, 3, 0);
	send(h, 1, &b);
	e = ev(h, 1);
	ck_assert_str_eq(th_str(e, "response"), "{\"i\" ...\n{\"i\" ...\n{\"i\" ...");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_conf)
{
	const struct pb_proto *p = pb_proto_find("mongodb");
	struct pb_conf c;
	struct mconf cf;

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->n_ports, 1);
	ck_assert_uint_eq(p->ports[0], 27017);
	ck_assert_uint_eq(p->conf_size, sizeof(cf));
	p->conf_init(&cf);
	ck_assert_int_eq(cf.max_docs, 10);
	ck_assert_int_eq(cf.max_doc_length, 5000);
	pb_conf_init(&c);
	ck_assert_int_eq(pb_conf_load_string(&c, "t",
		"packetbeat.protocols:\n- type: mongodb\n  max_docs: 0\n  max_doc_length: 10\n"), 0);
	ck_assert_int_eq(p->conf_load(&cf, &c, "packetbeat.protocols.0"), 0);
	ck_assert_int_eq(cf.max_docs, 0);
	ck_assert_int_eq(cf.max_doc_length, 10);
	pb_conf_release(&c);
	pb_conf_init(&c);
	ck_assert_int_eq(pb_conf_load_string(&c, "t",
		"packetbeat.protocols:\n- type: mongodb\n  max_docs: -1\n"), 0);
	ck_assert_int_lt(p->conf_load(&cf, &c, "packetbeat.protocols.0"), 0);
	pb_conf_release(&c);
}
END_TEST

/* ---- BSON as Extended JSON ---- */

START_TEST(test_all_types)
{
	struct th *h = new_th();
	struct b b;
	cJSON *e;
	size_t at;
	static const uint8_t oid[12] = { 0x65, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

	h->common.send_response = 1;
	msg_cmd(&b, 1, 0, "find", "c", "db");
	send(h, 0, &b);
	m_open(&b, 2, 1, 1);
	b_i32(&b, 0);
	b_i64(&b, 0);
	b_i32(&b, 0);
	b_i32(&b, 1);
	d_open(&b);
	e_double(&b, "d", 2.5);
	e_double(&b, "d1", 1.0);
	e_str(&b, "s", "t\"\n\xc3\xa9");
	e_doc(&b, "o");
	d_close(&b);
	e_arr(&b, "a");
	e_i32(&b, "0", 1);
	d_close(&b);
	e_name(&b, 5, "bin");
	b_i32(&b, 3);
	b_u8(&b, 0x80);
	b_raw(&b, "abc", 3);
	e_name(&b, 6, "u");
	e_name(&b, 7, "oid");
	b_raw(&b, oid, 12);
	e_name(&b, 8, "t");
	b_u8(&b, 1);
	e_name(&b, 9, "dt");
	b_i64(&b, INT64_C(1700000000123));
	e_name(&b, 9, "old");
	b_i64(&b, -1000);
	e_name(&b, 10, "n");
	e_name(&b, 11, "re");
	b_cstr(&b, "^a");
	b_cstr(&b, "i");
	e_name(&b, 12, "ptr");
	b_i32(&b, 2);
	b_cstr(&b, "x");
	b_raw(&b, oid, 12);
	e_name(&b, 13, "js");
	b_i32(&b, 2);
	b_cstr(&b, "f");
	e_name(&b, 14, "sym");
	b_i32(&b, 2);
	b_cstr(&b, "y");
	e_name(&b, 15, "jsws");
	at = b.n;
	b_i32(&b, 0);
	b_i32(&b, 2);
	b_cstr(&b, "g");
	d_open(&b);
	e_i32(&b, "x", 1);
	d_close(&b);
	b_set32(&b, at, (uint32_t)(b.n - at));
	e_i32(&b, "i", -7);
	e_name(&b, 17, "ts");
	b_i32(&b, 7);
	b_i32(&b, 1700000000);
	e_i64(&b, "l", INT64_C(-9000000000));
	e_name(&b, 19, "dec");               /* 123.45 */
	b_i64(&b, 12345);
	b_i64(&b, (int64_t)(UINT64_C(6174) << 49));
	e_name(&b, 19, "dec2");              /* 1E+3 */
	b_i64(&b, 1);
	b_i64(&b, (int64_t)(UINT64_C(6179) << 49));
	e_name(&b, 0xff, "min");
	e_name(&b, 0x7f, "max");
	d_close(&b);
	m_close(&b);
	send(h, 1, &b);
	e = ev(h, 0);
	ck_assert_str_eq(th_str(e, "response"),
		"{\"d\":2.5,\"d1\":1.0,\"s\":\"t\\\"\\n\xc3\xa9\",\"o\":{},\"a\":[1],"
		"\"bin\":{\"$binary\":{\"base64\":\"YWJj\",\"subType\":\"80\"}},"
		"\"u\":{\"$undefined\":true},\"oid\":{\"$oid\":\"650000000000000000000001\"},"
		"\"t\":true,\"dt\":{\"$date\":\"2023-11-14T22:13:20.123Z\"},"
		"\"old\":{\"$date\":{\"$numberLong\":\"-1000\"}},\"n\":null,"
		"\"re\":{\"$regularExpression\":{\"pattern\":\"^a\",\"options\":\"i\"}},"
		"\"ptr\":{\"$dbPointer\":{\"$ref\":\"x\",\"$id\":{\"$oid\":\"650000000000000000000001\"}}},"
		"\"js\":{\"$code\":\"f\"},\"sym\":{\"$symbol\":\"y\"},"
		"\"jsws\":{\"$code\":\"g\",\"$scope\":{\"x\":1}},\"i\":-7,"
		"\"ts\":{\"$timestamp\":{\"t\":1700000000,\"i\":7}},\"l\":-9000000000,"
		"\"dec\":{\"$numberDecimal\":\"123.45\"},\"dec2\":{\"$numberDecimal\":\"1E+3\"},"
		"\"min\":{\"$minKey\":1},\"max\":{\"$maxKey\":1}}");
	ck_assert_ptr_null(th_get(e, "error"));
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* Random bytes, and random cuts of real messages: no crash, no leak
 * (run under ASan in the sanitizer build). */
START_TEST(test_random)
{
	unsigned seed = 12345, round, i;

	for (round = 0; round < 300; round++) {
		struct th *h = new_th();
		struct b b;
		size_t n;

		msg_cursor_reply(&b, 2, 1, 4, 9);
		if (round % 2) {
			/* flip bytes of a real message */
			for (i = 0; i < 6; i++) {
				seed = seed * 1103515245u + 12345u;
				b.d[(seed >> 8) % b.n] ^= (uint8_t)(seed >> 16);
			}
			n = b.n;
		} else {
			n = 0;
			for (i = 0; i < 300; i++) {
				seed = seed * 1103515245u + 12345u;
				b.d[n++] = (uint8_t)(seed >> 16);
			}
			/* a plausible header now and then */
			if (round % 4 == 0) {
				b_set32(&b, 0, 100);
				b_set32(&b, 12, 2013);
			}
		}
		th_tcp_split(h, (int)(round % 3 == 0), b.d, n, 1 + round % 7);
		th_close(h);
		th_free(h);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mongodb");
	TCase *tc = tcase_create("mongodb");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_find_cursor);
	tcase_add_test(tc, test_every_split);
	tcase_add_test(tc, test_pairing_by_id);
	tcase_add_test(tc, test_command_error);
	tcase_add_test(tc, test_write_errors);
	tcase_add_test(tc, test_doc_sequence_and_send_request);
	tcase_add_test(tc, test_more_to_come_request);
	tcase_add_test(tc, test_exhaust);
	tcase_add_test(tc, test_checksum);
	tcase_add_test(tc, test_compressed);
	tcase_add_test(tc, test_compressed_bad);
	tcase_add_test(tc, test_legacy_query_reply);
	tcase_add_test(tc, test_legacy_command_and_err);
	tcase_add_test(tc, test_legacy_fire_and_forget);
	tcase_add_test(tc, test_hostile_lengths);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_hostile_bson);
	tcase_add_test(tc, test_unknown_opcode);
	tcase_add_test(tc, test_gap);
	tcase_add_test(tc, test_mid_stream);
	tcase_add_test(tc, test_gap_to_boundary);
	tcase_add_test(tc, test_fin_and_close);
	tcase_add_test(tc, test_reply_first);
	tcase_add_test(tc, test_timeout_and_overflow);
	tcase_add_test(tc, test_max_docs_and_length);
	tcase_add_test(tc, test_conf);
	tcase_add_test(tc, test_all_types);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
