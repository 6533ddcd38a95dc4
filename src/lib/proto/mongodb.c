/*
 * mongodb.c - the MongoDB wire protocol over TCP: message framing, a
 * bounded BSON reader, pairing of requests with replies by requestID,
 * and the fields of Packetbeat's "mongodb" event.
 *
 * References: the MongoDB Wire Protocol (mongodb.com/docs/manual/
 * reference/mongodb-wire-protocol/, with its legacy opcodes page), the
 * OP_MSG specification (mongodb/specifications, source/message/
 * OP_MSG.md), the wire compression specification (source/compression/
 * OP_COMPRESSED.md), the BSON specification 1.1 (bsonspec.org/spec.html),
 * Extended JSON v2 (source/extended-json/extended-json.md), the
 * Decimal128 string form (IEEE 754-2008 BID, as that page describes), and
 * RFC 3720 appendix B.4 (CRC-32C).  pb-proto-mongodb(7) teaches all of it.
 *
 * Every message, in either direction, starts with the same header, all
 * integers little-endian:
 *
 *   0        4          8           12       16
 *   +--------+----------+-----------+--------+---------------------+
 *   | length | requestID| responseTo| opCode | body (length - 16)  |
 *   +--------+----------+-----------+--------+---------------------+
 *
 *   OP_MSG 2013     flagBits u32 | sections... | [CRC-32C u32]
 *                   section: kind 0 | document            (the body)
 *                            kind 1 | size i32 | id cstring | documents...
 *   OP_QUERY 2004   flags | fullCollectionName cstring | numberToSkip |
 *                   numberToReturn | query doc | [returnFieldsSelector doc]
 *   OP_REPLY 1      flags | cursorID i64 | startingFrom | numberReturned |
 *                   documents...
 *   OP_COMPRESSED   originalOpcode | uncompressedSize | compressorId u8 |
 *     2012          compressed body (the original message less its header)
 *   OP_UPDATE 2001, OP_INSERT 2002, OP_GET_MORE 2005, OP_DELETE 2006,
 *   OP_KILL_CURSORS 2007: the legacy opcodes (see pb-proto-mongodb(7))
 *
 *   BSON document:  length i32 | (type u8 | name cstring | value)* | 0x00
 *
 * A direction runs HEADER (whole messages, framed by length) or SKIP (the
 * rest of a message too large to keep) or RESYNC (looking for a plausible
 * header after a gap or a broken length).  A request that awaits a reply
 * waits in its direction's queue until a message of the other direction
 * names its requestID in responseTo.
 */
#include "proto/proto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "txn/queue.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/cursor.h"
#include "util/json.h"
#include "util/banned.h"

/* ------------------------------------------------------------ limits */

#define MONGO_HEADER 16
/* mongod's maxMessageSizeBytes: no message is longer; the configured
 * max_message_size (10 MiB by default) caps what is kept below it */
#define MONGO_MAX_MESSAGE 48000000u
/* BSON nesting read before a document is called invalid (mongod itself
 * refuses documents nested deeper than 100) */
#define MONGO_MAX_DEPTH 100
/* requests sent one way and not answered yet; past it the oldest is
 * written unanswered, so a client answered by no one cannot grow a
 * conversation's memory.  Drivers send one command at a time per
 * connection, so even this is generous. */
#define MONGO_MAX_PENDING 64
/* replies that named no request we saw, kept a while in case their
 * request is seen after them (captures of two interfaces merged) */
#define MONGO_MAX_LONE 16
/* a rendered document when max_doc_length is 0 (no limit asked) */
#define MONGO_MAX_DOC_TEXT (1u << 20)
/* all the rendered documents of one response (send_response) */
#define MONGO_MAX_RESPONSE (4u << 20)
/* kind 1 sections of one OP_MSG that are kept (more are read, not kept) */
#define MONGO_MAX_SEQS 8
/* names kept: method, database, collection */
#define MONGO_MAX_NAME 256
/* a full collection name kept ("db.collection") */
#define MONGO_MAX_FCN 1024

enum {
	OP_REPLY = 1, OP_UPDATE = 2001, OP_INSERT = 2002, OP_QUERY = 2004,
	OP_GET_MORE = 2005, OP_DELETE = 2006, OP_KILL_CURSORS = 2007,
	OP_COMPRESSED = 2012, OP_MSG = 2013,
};

/* OP_MSG flagBits */
#define MSG_CHECKSUM 0x1u
#define MSG_MORE 0x2u
#define MSG_EXHAUST 0x10000u
/* bits 0-15 are required: a receiver must refuse unknown ones */
#define MSG_REQUIRED_MASK 0xffffu

/* Notes (error.message).  The first four are HTTP's words in pbtools. */
static const char mongo_n_unm_rq[] = "Unmatched request";
static const char mongo_n_unm_rs[] = "Unmatched response";
static const char mongo_n_loss_rq[] = "Packet loss while capturing the request";
static const char mongo_n_loss_rs[] = "Packet loss while capturing the response";
static const char mongo_n_inc_rq[] = "Request incomplete at end of stream";
static const char mongo_n_inc_rs[] = "Response incomplete at end of stream";
static const char mongo_n_big[] = "Message too large";
static const char mongo_n_bad[] = "Malformed message";
static const char mongo_n_crc[] = "CRC-32C checksum mismatch";
static const char mongo_n_unz[] = "Decompression failed";
static const char mongo_n_pend[] = "Too many pending requests";

/* ----------------------------------------------------- configuration */

/* The options of the "mongodb" entry (pb-proto-mongodb(7)). */
struct mongo_conf {
	int64_t max_docs;         /* documents in "response"; 0: all */
	int64_t max_doc_length;   /* bytes of one rendered document; 0: all */
};

static void mongo_conf_init(void *v)
{
	struct mongo_conf *cf = v;

	cf->max_docs = 10;
	cf->max_doc_length = 5000;
}

static int mongo_conf_load(void *v, struct pb_conf *c, const char *prefix)
{
	struct mongo_conf *cf = v;
	char p[256];

	snprintf(p, sizeof(p), "%s.max_docs", prefix);
	if (pb_conf_int(c, p, &cf->max_docs) < 0)
		return -1;
	if (cf->max_docs < 0) {
		pb_conf_fail(c, p, "must be 0 or more");
		return -1;
	}
	snprintf(p, sizeof(p), "%s.max_doc_length", prefix);
	if (pb_conf_int(c, p, &cf->max_doc_length) < 0)
		return -1;
	if (cf->max_doc_length < 0) {
		pb_conf_fail(c, p, "must be 0 or more");
		return -1;
	}
	return 0;
}

static const struct mongo_conf mongo_conf_default = { 10, 5000 };

static const struct mongo_conf *mongo_cf(const struct pb_txn_conn *c)
{
	return c->conf ? c->conf : &mongo_conf_default;
}

/* The bytes one rendered document may take. */
static size_t mongo_doc_lim(const struct pb_txn_conn *c)
{
	int64_t n = mongo_cf(c)->max_doc_length;

	return n <= 0 || n > MONGO_MAX_DOC_TEXT ? MONGO_MAX_DOC_TEXT : (size_t)n;
}

/* ---------------------------------------------------------- messages */

/* One message read, kept until its event is written.  It owns copies of
 * all it needs: what it came from is gone once parse() returns. */
struct mongo_msg {
	uint8_t dir;
	uint8_t is_resp;
	uint8_t awaits;           /* a request that expects a reply */
	uint8_t cont;             /* a request re-armed for the next reply of
				   * an exhaust stream (its bytes were counted) */
	uint8_t more;             /* OP_MSG moreToCome */
	uint8_t exhaust;          /* OP_MSG exhaustAllowed */
	uint8_t compressor;       /* 0 none, else compressorId + 1 */
	/* what happened to it (notes) */
	uint8_t bad, crc_bad, unz_bad, too_big, loss, incomplete, overflow;
	uint8_t resp_lost;        /* request: its reply fell in a gap */
	int32_t opcode;           /* the original opcode when compressed */
	int32_t request_id, response_to;
	uint32_t length;          /* messageLength */
	int64_t start_ns, end_ns;
	uint64_t first_pkt, last_pkt;
	/* request summary */
	char *method, *resource, *database, *collection, *query, *text;
	/* mongodb.* */
	char *fcn, *q_doc, *fields_sel, *selector, *update;
	uint8_t has_skip, has_ret, has_cursor, has_nret, has_from, has_code;
	int32_t skip, ret, nret, from, code;
	int64_t cursor;
	char *error, *code_name;
};

/* A queue slot: the key and the message. */
struct mongo_slot {
	int32_t id;               /* request: requestID; lone reply: responseTo */
	struct mongo_msg *m;
};

enum { MONGO_S_NEW = 0, MONGO_S_HEADER, MONGO_S_SKIP, MONGO_S_RESYNC };
enum { MONGO_ROLE_NONE = 0, MONGO_ROLE_CLIENT, MONGO_ROLE_SERVER };

/* One direction of the connection. */
struct mongo_dir {
	uint8_t state;
	uint8_t role;             /* learnt from the messages it sends */
	uint64_t skip;            /* SKIP: bytes of the message still to come */
	/* the header of a message not yet whole (for gap and fin) */
	uint8_t have_hdr;
	int32_t h_len, h_id, h_to, h_op;
	struct pb_txn_queue rq;   /* requests sent this way, unanswered */
	struct pb_txn_queue rs;   /* replies sent this way, no request seen */
};

struct mongo_state {
	uint8_t init;
	struct mongo_dir d[2];
};

static struct mongo_state *mongo_st(struct pb_txn_conn *c)
{
	struct mongo_state *s = c->state;
	int i;

	if (!s->init) {
		for (i = 0; i < 2; i++) {
			pb_txn_queue_init(&s->d[i].rq, sizeof(struct mongo_slot),
					  MONGO_MAX_PENDING);
			pb_txn_queue_init(&s->d[i].rs, sizeof(struct mongo_slot),
					  MONGO_MAX_LONE);
		}
		s->init = 1;
	}
	return s;
}

static struct mongo_dir *mongo_d(struct pb_txn_conn *c, int dir)
{
	return &mongo_st(c)->d[dir & 1];
}

static void mongo_msg_free(struct mongo_msg *m)
{
	if (!m)
		return;
	free(m->method);
	free(m->resource);
	free(m->database);
	free(m->collection);
	free(m->query);
	free(m->text);
	free(m->fcn);
	free(m->q_doc);
	free(m->fields_sel);
	free(m->selector);
	free(m->update);
	free(m->error);
	free(m->code_name);
	free(m);
}

/* A NUL-terminated copy of p[0..n), or NULL (no memory). */
static char *mongo_dup(const void *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		if (n)
			memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* The contents of b as a new string (NULL when b is empty). */
static char *mongo_take(struct pb_buf *b)
{
	return b->len ? mongo_dup(b->data, b->len) : NULL;
}

static void mongo_error(struct pb_txn_conn *c)
{
	if (c->st)
		c->st->parse_errors++;
}

static const char *mongo_op_name(int32_t op)
{
	switch (op) {
	case OP_REPLY: return "OP_REPLY";
	case OP_UPDATE: return "OP_UPDATE";
	case OP_INSERT: return "OP_INSERT";
	case OP_QUERY: return "OP_QUERY";
	case OP_GET_MORE: return "OP_GET_MORE";
	case OP_DELETE: return "OP_DELETE";
	case OP_KILL_CURSORS: return "OP_KILL_CURSORS";
	case OP_COMPRESSED: return "OP_COMPRESSED";
	case OP_MSG: return "OP_MSG";
	default: return NULL;
	}
}

/* The smallest body (after the header) each opcode can have: a length
 * below header + this is a broken frame.  OP_COMPRESSED must wrap one of
 * the others. */
static long mongo_min_body(int32_t op)
{
	switch (op) {
	case OP_REPLY: return 20;         /* flags, cursorID, from, number */
	case OP_UPDATE: return 4 + 1 + 4 + 10;
	case OP_INSERT: return 4 + 1;
	case OP_QUERY: return 4 + 1 + 8 + 5;
	case OP_GET_MORE: return 4 + 1 + 4 + 8;
	case OP_DELETE: return 4 + 1 + 4 + 5;
	case OP_KILL_CURSORS: return 8;
	case OP_COMPRESSED: return 9;
	case OP_MSG: return 4 + 1 + 5;    /* flags, kind 0, an empty body */
	default: return -1;
	}
}

static const char *mongo_compressor_name(unsigned id)
{
	switch (id) {
	case 0: return "noop";
	case 1: return "snappy";
	case 2: return "zlib";
	case 3: return "zstd";
	default: return "unknown";
	}
}

/* ------------------------------------------------------------- BSON */

/* BSON element types (bsonspec.org 1.1) */
enum {
	BT_DOUBLE = 1, BT_STRING = 2, BT_DOC = 3, BT_ARRAY = 4, BT_BINARY = 5,
	BT_UNDEF = 6, BT_OID = 7, BT_BOOL = 8, BT_DATE = 9, BT_NULL = 10,
	BT_REGEX = 11, BT_DBPTR = 12, BT_CODE = 13, BT_SYMBOL = 14,
	BT_CODE_W_S = 15, BT_INT32 = 16, BT_TS = 17, BT_INT64 = 18,
	BT_DEC128 = 19, BT_MIN = 0xff, BT_MAX = 0x7f,
};

/* The elements of one document, read in order. */
struct bson_it {
	struct pb_cur c;          /* the elements, less the final 0x00 */
};

/* One element: its type, its name (a cstring of the document) and a
 * cursor over exactly its value's bytes. */
struct bson_el {
	uint8_t type;
	const char *name;
	size_t name_len;
	struct pb_cur v;
};

/* A cstring at the cursor: its bytes (without the NUL) and length; the
 * cursor moves past the NUL.  0, or -1 (TRUNCATED) without a NUL. */
static int bson_cstr(struct pb_cur *c, const char **s, size_t *n)
{
	const uint8_t *z;

	if (!pb_cur_ok(c))
		return -1;
	z = memchr(c->pos, 0, pb_cur_left(c));
	if (!z) {
		c->err = PB_CUR_TRUNCATED;
		c->pos = c->end;
		return -1;
	}
	*s = (const char *)c->pos;
	*n = (size_t)(z - c->pos);
	c->pos = z + 1;
	return 0;
}

/* Open the document at the cursor (the cursor moves past it): 0, or -1
 * when its length lies or it does not end with 0x00. */
static int bson_open(struct pb_cur *c, struct bson_it *it)
{
	struct pb_cur peek = *c, d;
	uint32_t n = pb_cur_le32(&peek);

	/* at least the length and the 0x00; never past what there is */
	if (!pb_cur_ok(&peek) || n < 5 || n > pb_cur_left(c)) {
		pb_cur_invalid(c);
		return -1;
	}
	d = pb_cur_sub(c, n);
	if (d.start[n - 1] != 0) {
		pb_cur_invalid(c);
		return -1;
	}
	pb_cur_init(&it->c, d.start + 4, n - 5);
	return 0;
}

/* A BSON string value: int32 length (with the NUL), bytes, NUL. */
static int bson_str_at(struct pb_cur *c, const char **s, size_t *n)
{
	uint32_t l = pb_cur_le32(c);
	const uint8_t *p;

	if (!pb_cur_ok(c) || l < 1 || l > pb_cur_left(c))
		return -1;
	p = pb_cur_bytes(c, l);
	if (p[l - 1] != 0)
		return -1;
	*s = (const char *)p;
	*n = l - 1;
	return 0;
}

/* The next element: 1, 0 at the end, -1 when the bytes are not BSON.
 * Only the value's extent is checked here; documents inside it are
 * checked when they are opened. */
static int bson_next(struct bson_it *it, struct bson_el *e)
{
	struct pb_cur *c = &it->c;
	const uint8_t *vs;
	const char *s;
	size_t n, skip = 0;

	if (!pb_cur_ok(c))
		return -1;
	if (pb_cur_left(c) == 0)
		return 0;
	e->type = pb_cur_u8(c);
	if (bson_cstr(c, &e->name, &e->name_len) < 0)
		return -1;
	vs = c->pos;
	switch (e->type) {
	/* fixed sizes */
	case BT_DOUBLE: case BT_DATE: case BT_TS: case BT_INT64:
		skip = 8;
		break;
	case BT_INT32:
		skip = 4;
		break;
	case BT_DEC128:
		skip = 16;
		break;
	case BT_OID:
		skip = 12;
		break;
	case BT_BOOL:
		skip = 1;
		break;
	case BT_UNDEF: case BT_NULL: case BT_MIN: case BT_MAX:
		break;
	/* int32 length (with the NUL), bytes, NUL */
	case BT_STRING: case BT_CODE: case BT_SYMBOL:
		if (bson_str_at(c, &s, &n) < 0)
			return -1;
		break;
	/* a document by its own length, checked, not entered */
	case BT_DOC: case BT_ARRAY: {
		struct bson_it sub;

		if (bson_open(c, &sub) < 0)
			return -1;
		break;
	}
	case BT_BINARY: {
		uint32_t l = pb_cur_le32(c);

		/* length, subtype, then the bytes (checked as they are taken) */
		if (!pb_cur_ok(c))
			return -1;
		skip = (size_t)l + 1;
		break;
	}
	/* pattern cstring, options cstring */
	case BT_REGEX:
		if (bson_cstr(c, &s, &n) < 0 || bson_cstr(c, &s, &n) < 0)
			return -1;
		break;
	/* a namespace string and an ObjectId (deprecated) */
	case BT_DBPTR:
		if (bson_str_at(c, &s, &n) < 0)
			return -1;
		skip = 12;
		break;
	case BT_CODE_W_S: {
		uint32_t l = pb_cur_le32(c);

		/* the total length covers itself, the string and the scope */
		if (!pb_cur_ok(c) || l < 4 + 5 + 5 || l - 4 > pb_cur_left(c))
			return -1;
		skip = l - 4;
		break;
	}
	default:
		return -1;           /* not a BSON type */
	}
	if (skip && !pb_cur_bytes(c, skip))
		return -1;
	if (!pb_cur_ok(c))
		return -1;
	pb_cur_init(&e->v, vs, (size_t)(c->pos - vs));
	return 1;
}

static int bson_name_is(const struct bson_el *e, const char *s)
{
	size_t n = strlen(s);

	return e->name_len == n && memcmp(e->name, s, n) == 0;
}

/* Find the top-level element called name in the document d[0..n):
 * 1 (in *e), or 0. */
static int bson_find(const uint8_t *d, size_t n, const char *name, struct bson_el *e)
{
	struct pb_cur c;
	struct bson_it it;

	pb_cur_init(&c, d, n);
	if (bson_open(&c, &it) < 0)
		return 0;
	while (bson_next(&it, e) == 1)
		if (bson_name_is(e, name))
			return 1;
	return 0;
}

/* A string element's text. */
static int bson_el_str(const struct bson_el *e, const char **s, size_t *n)
{
	struct pb_cur v = e->v;

	if (e->type != BT_STRING)
		return -1;
	return bson_str_at(&v, s, n);
}

/* A number element (double, int32, int64, bool) as a double: 0, or -1. */
static int bson_el_num(const struct bson_el *e, double *out)
{
	struct pb_cur v = e->v;

	switch (e->type) {
	case BT_DOUBLE: {
		uint64_t u = pb_cur_le64(&v);

		memcpy(out, &u, sizeof(*out));
		return 0;
	}
	case BT_INT32:
		*out = (int32_t)pb_cur_le32(&v);
		return 0;
	case BT_INT64:
		*out = (double)(int64_t)pb_cur_le64(&v);
		return 0;
	case BT_BOOL:
		*out = pb_cur_u8(&v) ? 1 : 0;
		return 0;
	default:
		return -1;
	}
}

/* An integer element (int32, int64, or a double with no fraction). */
static int bson_el_int(const struct bson_el *e, int64_t *out)
{
	struct pb_cur v = e->v;
	double d;

	if (e->type == BT_INT64) {
		*out = (int64_t)pb_cur_le64(&v);
		return 0;
	}
	if (bson_el_num(e, &d) < 0 || d != d || d < -9.2e18 || d > 9.2e18 ||
	    d != (double)(int64_t)d)
		return -1;
	*out = (int64_t)d;
	return 0;
}

/* ----------------------------------------------- BSON as JSON text */

/*
 * Documents are written as MongoDB Relaxed Extended JSON v2: numbers as
 * JSON numbers (a double always with a '.', an 'e', or as
 * {"$numberDouble": "NaN"}), and the types JSON lacks as the spec's
 * objects ({"$oid": ...}, {"$date": ...}, ...).  Output stops at o->lim
 * bytes; the caller cuts there and appends " ..." as Packetbeat does.
 */
struct bson_out {
	struct pb_buf *b;
	size_t lim;
	int cut;                  /* stopped at lim */
	int bad;                  /* the bytes were not BSON */
};

static void jo_add(struct bson_out *o, const void *p, size_t n)
{
	if (o->cut)
		return;
	pb_buf_add(o->b, p, n);
	if (o->b->len > o->lim)
		o->cut = 1;
}

static void jo_lit(struct bson_out *o, const char *s)
{
	jo_add(o, s, strlen(s));
}

/* A JSON string; the input is first cut so the escaped output can
 * only just pass lim (each byte escapes to at least one). */
static void jo_str(struct bson_out *o, const char *s, size_t n)
{
	size_t room;

	if (o->cut)
		return;
	room = o->lim - (o->b->len < o->lim ? o->b->len : o->lim) + 1;
	if (n > room)
		n = room;
	pb_buf_addc(o->b, '"');
	pb_json_escape(o->b, s, n);
	pb_buf_addc(o->b, '"');
	if (o->b->len > o->lim)
		o->cut = 1;
}

static void jo_i64(struct bson_out *o, int64_t v)
{
	char t[24];
	char *e = pb_json_put_i64(t, v);

	jo_add(o, t, (size_t)(e - t));
}

/* A double in the fewest digits that read back the same. */
static void jo_double(struct bson_out *o, double d)
{
	char t[40];
	int prec;

	if (d != d) {
		jo_lit(o, "{\"$numberDouble\":\"NaN\"}");
		return;
	}
	if (isinf(d)) {
		jo_lit(o, d > 0 ? "{\"$numberDouble\":\"Infinity\"}"
				: "{\"$numberDouble\":\"-Infinity\"}");
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(t, sizeof(t), "%.*g", prec, d);
		if (strtod(t, NULL) == d)
			break;
	}
	/* a double stays a double when read back: 1 -> 1.0 */
	if (!strpbrk(t, ".en")) {
		size_t l = strlen(t);

		if (l + 3 <= sizeof(t))
			memcpy(t + l, ".0", 3);
	}
	jo_lit(o, t);
}

static void jo_hex(struct bson_out *o, const uint8_t *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char t[2];
	size_t i;

	for (i = 0; i < n && !o->cut; i++) {
		t[0] = hx[p[i] >> 4];
		t[1] = hx[p[i] & 15];
		jo_add(o, t, 2);
	}
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void mongo_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* UTC datetime (ms since the epoch): an ISO 8601 string for years 1970
 * to 9999, else the number ({"$numberLong": ...}), as Relaxed EJSON. */
static void jo_date(struct bson_out *o, int64_t ms)
{
	char t[64];
	int64_t secs, days, y;
	unsigned mo, dd, rem, msr;

	if (ms < 0 || ms > INT64_C(253402300799999)) {
		snprintf(t, sizeof(t), "{\"$date\":{\"$numberLong\":\"%lld\"}}", (long long)ms);
		jo_lit(o, t);
		return;
	}
	secs = ms / 1000;
	msr = (unsigned)(ms % 1000);
	days = secs / 86400;
	rem = (unsigned)(secs % 86400);
	mongo_civil(days, &y, &mo, &dd);
	snprintf(t, sizeof(t), "{\"$date\":\"%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ\"}",
		 (long long)y, mo, dd, rem / 3600, rem / 60 % 60, rem % 60, msr);
	jo_lit(o, t);
}

/* Divide the 128-bit number in w[0..3] (w[0] most significant) by 10 in
 * place; the remainder is returned. */
static unsigned mongo_div10(uint32_t w[4])
{
	uint64_t r = 0;
	int i;

	for (i = 0; i < 4; i++) {
		uint64_t cur = r << 32 | w[i];

		w[i] = (uint32_t)(cur / 10);
		r = cur % 10;
	}
	return (unsigned)r;
}

/* Decimal128 (IEEE 754-2008, binary integer decimal) as the string the
 * BSON corpus gives for it. */
static void jo_dec128(struct bson_out *o, const uint8_t *p)
{
	struct pb_cur c;
	uint64_t lo, hi;
	uint32_t w[4];
	char dig[40], t[96];
	int nd = 0, exp, adj, i, neg, pos = 0, zero;
	unsigned comb;

	pb_cur_init(&c, p, 16);
	lo = pb_cur_le64(&c);
	hi = pb_cur_le64(&c);
	neg = (int)(hi >> 63);
	comb = (unsigned)(hi >> 58) & 0x1f;
	if (comb == 0x1e || comb == 0x1f) {
		jo_lit(o, comb == 0x1f ? "{\"$numberDecimal\":\"NaN\"}"
		       : neg ? "{\"$numberDecimal\":\"-Infinity\"}"
			     : "{\"$numberDecimal\":\"Infinity\"}");
		return;
	}
	if ((comb >> 3) == 3) {
		/* 0b11 form: the coefficient would be at least 2^113, which
		 * is past 10^34 - 1, so it reads as zero */
		exp = (int)((hi >> 47) & 0x3fff);
		w[0] = w[1] = w[2] = w[3] = 0;
	} else {
		exp = (int)((hi >> 49) & 0x3fff);
		hi &= UINT64_C(0x1ffffffffffff);
		w[0] = (uint32_t)(hi >> 32);
		w[1] = (uint32_t)hi;
		w[2] = (uint32_t)(lo >> 32);
		w[3] = (uint32_t)lo;
		/* 10^34 - 1 = 0x1ed09bead87c0378d8e63ffffffff */
		if (hi > UINT64_C(0x1ed09bead87c0) ||
		    (hi == UINT64_C(0x1ed09bead87c0) && lo > UINT64_C(0x378d8e63ffffffff)))
			w[0] = w[1] = w[2] = w[3] = 0;
	}
	exp -= 6176;
	/* the coefficient's digits, least significant first */
	do {
		dig[nd++] = (char)('0' + mongo_div10(w));
		zero = !(w[0] | w[1] | w[2] | w[3]);
	} while (!zero && nd < 35);
	adj = exp + nd - 1;
	pos = snprintf(t, sizeof(t), "{\"$numberDecimal\":\"%s", neg ? "-" : "");
	if (exp <= 0 && adj >= -6) {
		if (exp == 0) {
			for (i = nd - 1; i >= 0; i--)
				t[pos++] = dig[i];
		} else if (nd > -exp) {
			for (i = nd - 1; i >= -exp; i--)
				t[pos++] = dig[i];
			t[pos++] = '.';
			for (; i >= 0; i--)
				t[pos++] = dig[i];
		} else {
			t[pos++] = '0';
			t[pos++] = '.';
			for (i = 0; i < -exp - nd; i++)
				t[pos++] = '0';
			for (i = nd - 1; i >= 0; i--)
				t[pos++] = dig[i];
		}
		t[pos] = '\0';
	} else {
		t[pos++] = dig[nd - 1];
		if (nd > 1) {
			t[pos++] = '.';
			for (i = nd - 2; i >= 0; i--)
				t[pos++] = dig[i];
		}
		snprintf(t + pos, sizeof(t) - (size_t)pos, "E%s%d", adj >= 0 ? "+" : "", adj);
		pos += (int)strlen(t + pos);
	}
	snprintf(t + pos, sizeof(t) - (size_t)pos, "\"}");
	jo_lit(o, t);
}

static void jo_doc(struct bson_out *o, struct pb_cur *c, int array, unsigned depth);

/* The value of one element as JSON. */
static void jo_value(struct bson_out *o, const struct bson_el *e, unsigned depth)
{
	struct pb_cur v = e->v;
	const char *s = "", *s2 = "";
	size_t n = 0, n2 = 0;
	char t[64];

	switch (e->type) {
	case BT_DOUBLE: {
		uint64_t u = pb_cur_le64(&v);
		double d;

		memcpy(&d, &u, sizeof(d));
		jo_double(o, d);
		break;
	}
	case BT_STRING:
		if (bson_str_at(&v, &s, &n) == 0)
			jo_str(o, s, n);
		break;
	case BT_DOC:
	case BT_ARRAY:
		jo_doc(o, &v, e->type == BT_ARRAY, depth + 1);
		break;
	case BT_BINARY: {
		uint32_t l = pb_cur_le32(&v);
		unsigned st = pb_cur_u8(&v);
		const uint8_t *p = pb_cur_bytes(&v, l);
		size_t room = o->lim > o->b->len ? o->lim - o->b->len : 0;
		char *b64;

		jo_lit(o, "{\"$binary\":{\"base64\":\"");
		/* only what fits is encoded: base64 is 4/3 of it */
		if (l > room + 3)
			l = (uint32_t)(room + 3);
		b64 = p && l ? malloc(pb_base64_enc_len(l)) : NULL;
		if (b64) {
			pb_base64_encode(b64, p, l);
			jo_add(o, b64, pb_base64_enc_len(l));
			free(b64);
		}
		snprintf(t, sizeof(t), "\",\"subType\":\"%02x\"}}", st);
		jo_lit(o, t);
		break;
	}
	case BT_UNDEF:
		jo_lit(o, "{\"$undefined\":true}");
		break;
	case BT_OID:
		jo_lit(o, "{\"$oid\":\"");
		jo_hex(o, v.pos, 12);
		jo_lit(o, "\"}");
		break;
	case BT_BOOL:
		jo_lit(o, pb_cur_u8(&v) ? "true" : "false");
		break;
	case BT_DATE:
		jo_date(o, (int64_t)pb_cur_le64(&v));
		break;
	case BT_NULL:
		jo_lit(o, "null");
		break;
	case BT_REGEX:
		bson_cstr(&v, &s, &n);
		bson_cstr(&v, &s2, &n2);
		jo_lit(o, "{\"$regularExpression\":{\"pattern\":");
		jo_str(o, s, n);
		jo_lit(o, ",\"options\":");
		jo_str(o, s2, n2);
		jo_lit(o, "}}");
		break;
	case BT_DBPTR:
		bson_str_at(&v, &s, &n);
		jo_lit(o, "{\"$dbPointer\":{\"$ref\":");
		jo_str(o, s, n);
		jo_lit(o, ",\"$id\":{\"$oid\":\"");
		jo_hex(o, v.pos, 12);
		jo_lit(o, "\"}}}");
		break;
	case BT_CODE:
	case BT_SYMBOL:
		bson_str_at(&v, &s, &n);
		jo_lit(o, e->type == BT_CODE ? "{\"$code\":" : "{\"$symbol\":");
		jo_str(o, s, n);
		jo_lit(o, "}");
		break;
	case BT_CODE_W_S: {
		struct pb_cur sc;

		pb_cur_le32(&v);
		if (bson_str_at(&v, &s, &n) < 0) {
			o->bad = 1;
			break;
		}
		/* the scope document must fill the rest exactly */
		sc = v;
		jo_lit(o, "{\"$code\":");
		jo_str(o, s, n);
		jo_lit(o, ",\"$scope\":");
		jo_doc(o, &sc, 0, depth + 1);
		if (pb_cur_left(&sc) != 0)
			o->bad = 1;
		jo_lit(o, "}");
		break;
	}
	case BT_INT32:
		jo_i64(o, (int32_t)pb_cur_le32(&v));
		break;
	case BT_TS: {
		uint32_t inc = pb_cur_le32(&v), ts = pb_cur_le32(&v);

		snprintf(t, sizeof(t), "{\"$timestamp\":{\"t\":%u,\"i\":%u}}", ts, inc);
		jo_lit(o, t);
		break;
	}
	case BT_INT64:
		jo_i64(o, (int64_t)pb_cur_le64(&v));
		break;
	case BT_DEC128:
		jo_dec128(o, v.pos);
		break;
	case BT_MIN:
		jo_lit(o, "{\"$minKey\":1}");
		break;
	case BT_MAX:
		jo_lit(o, "{\"$maxKey\":1}");
		break;
	default:
		o->bad = 1;
		break;
	}
}

/* The document at the cursor as a JSON object (or array), its keys in
 * wire order; the cursor moves past it. */
static void jo_doc(struct bson_out *o, struct pb_cur *c, int array, unsigned depth)
{
	struct bson_it it;
	struct bson_el e;
	int first = 1, r = 0;

	if (depth > MONGO_MAX_DEPTH || bson_open(c, &it) < 0) {
		o->bad = 1;
		jo_lit(o, array ? "[]" : "{}");
		return;
	}
	jo_lit(o, array ? "[" : "{");
	while (!o->cut && (r = bson_next(&it, &e)) == 1) {
		if (!first)
			jo_lit(o, ",");
		first = 0;
		if (!array) {
			jo_str(o, e.name, e.name_len);
			jo_lit(o, ":");
		}
		jo_value(o, &e, depth);
	}
	if (!o->cut && r < 0)
		o->bad = 1;
	jo_lit(o, array ? "]" : "}");
}

/* Start rendering into b, at most lim bytes (the buffer may hold a
 * little more while a piece is written; jo_end cuts it back). */
static void jo_begin(struct bson_out *o, struct pb_buf *b, size_t lim)
{
	pb_buf_clear(b);
	o->b = b;
	o->lim = lim;
	o->cut = 0;
	o->bad = 0;
}

/* Cut at lim (never inside a UTF-8 sequence) and mark the cut with
 * " ...", as Packetbeat does with max_doc_length. */
static void jo_end(struct bson_out *o)
{
	struct pb_buf *b = o->b;

	if (!o->cut)
		return;
	if (b->len > o->lim)
		b->len = o->lim;
	/* back over continuation bytes to the start of their sequence */
	if (b->len > 0 && ((uint8_t)b->data[b->len - 1] & 0x80)) {
		size_t k = b->len;

		while (k > 0 && ((uint8_t)b->data[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0 && ((uint8_t)b->data[k - 1] & 0xc0) == 0xc0)
			k--;
		b->len = k;
	}
	pb_buf_add(b, " ...", 4);
}

/* One element's value as JSON into b, cut at lim; -1 when it is not
 * BSON (what could be read is in b all the same). */
static int mongo_render_el(struct pb_buf *b, size_t lim, const struct bson_el *e)
{
	struct bson_out o;

	jo_begin(&o, b, lim);
	jo_value(&o, e, 0);
	jo_end(&o);
	return o.bad ? -1 : 0;
}

/* The document d[0..n) as JSON into b, cut at lim; -1 when it is not
 * BSON (what could be read is in b all the same). */
static int mongo_render(struct pb_buf *b, size_t lim, const uint8_t *d, size_t n)
{
	struct bson_out o;
	struct pb_cur c;

	jo_begin(&o, b, lim);
	pb_cur_init(&c, d, n);
	jo_doc(&o, &c, 0, 0);
	jo_end(&o);
	return o.bad ? -1 : 0;
}

/* ------------------------------------------------------------ CRC-32C */

/* CRC-32C (Castagnoli, reflected 0x82F63B78), as OP_MSG's checksum.  The
 * table is built on the stack: no shared state. */
static uint32_t mongo_crc32c(const uint8_t *p, size_t n)
{
	uint32_t tab[256], crc = 0xffffffffu;
	unsigned i, k;

	for (i = 0; i < 256; i++) {
		uint32_t v = i;

		for (k = 0; k < 8; k++)
			v = v & 1 ? v >> 1 ^ 0x82f63b78u : v >> 1;
		tab[i] = v;
	}
	while (n--)
		crc = tab[(crc ^ *p++) & 0xff] ^ crc >> 8;
	return crc ^ 0xffffffffu;
}

/* ------------------------------------------------- message contents */

/* Scratch for reading one message: buffers reused for each piece. */
struct mongo_rd {
	struct pb_txn_conn *c;
	struct mongo_msg *m;
	size_t lim;               /* one rendered document */
	int send_rq, send_rs;
	struct pb_buf b;          /* one rendering */
	struct pb_buf t;          /* the text being built */
};

/* A document rendered into a new string (NULL when empty); a document
 * that is not BSON marks the message malformed. */
static char *mongo_doc_str(struct mongo_rd *r, const uint8_t *d, size_t n)
{
	if (mongo_render(&r->b, r->lim, d, n) < 0)
		r->m->bad = 1;
	return mongo_take(&r->b);
}

/* The document at the cursor: its bytes (and the cursor moves past it),
 * or NULL when there is none that holds together. */
static const uint8_t *mongo_doc_at(struct pb_cur *c, size_t *n)
{
	struct pb_cur peek = *c;
	uint32_t l = pb_cur_le32(&peek);
	const uint8_t *p;

	if (!pb_cur_ok(&peek) || l < 5 || l > pb_cur_left(c)) {
		pb_cur_invalid(c);
		return NULL;
	}
	p = pb_cur_bytes(c, l);
	*n = l;
	return p;
}

/* Keep a name, cut at MONGO_MAX_NAME. */
static char *mongo_name(const char *s, size_t n)
{
	return mongo_dup(s, n < MONGO_MAX_NAME ? n : MONGO_MAX_NAME);
}

/* Keep a full collection name, cut at MONGO_MAX_FCN. */
static char *mongo_fcn(const char *s, size_t n)
{
	return mongo_dup(s, n < MONGO_MAX_FCN ? n : MONGO_MAX_FCN);
}

/* database and collection from a full collection name "db.coll". */
static void mongo_split_fcn(struct mongo_msg *m, const char *s, size_t n, int cmd)
{
	const char *dot = memchr(s, '.', n);

	if (!dot) {
		m->database = mongo_name(s, n);
		return;
	}
	m->database = mongo_name(s, (size_t)(dot - s));
	if (!cmd)
		m->collection = mongo_name(dot + 1, n - (size_t)(dot - s) - 1);
}

/* The key of a command's arguments that holds data, not the query: left
 * out of "query" (and kept in "request"), as Packetbeat leaves them out. */
static const char *mongo_data_key(const char *method)
{
	static const struct { const char *cmd, *key; } t[] = {
		{ "insert", "documents" },
		{ "update", "updates" },
		{ "findandmodify", "update" },
	};
	size_t i, k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *a = method, *b = t[i].cmd;

		for (k = 0; a[k] && b[k]; k++) {
			char x = a[k] >= 'A' && a[k] <= 'Z' ? (char)(a[k] - 'A' + 'a') : a[k];

			if (x != b[k])
				break;
		}
		if (!a[k] && !b[k])
			return t[i].key;
	}
	return NULL;
}

/* Commands whose string argument names something else than a
 * collection (a replica set, a log, a user or role, a fail point, a
 * version): their resource is "db.$cmd". */
static int mongo_not_coll(const char *method)
{
	static const char *const t[] = {
		"replSetHeartbeat", "getLog", "configureFailPoint",
		"setFeatureCompatibilityVersion", "createUser", "updateUser",
		"dropUser", "usersInfo", "grantRolesToUser", "revokeRolesFromUser",
		"createRole", "updateRole", "dropRole", "rolesInfo",
		"grantRolesToRole", "revokeRolesFromRole", "grantPrivilegesToRole",
		"revokePrivilegesFromRole", "authenticate", "logApplicationMessage",
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(method, t[i]) == 0)
			return 1;
	return 0;
}

/* Keys of a command that are not its arguments: the session, the
 * cluster time gossip and the database (it is in the resource). */
static int mongo_meta_key(const struct bson_el *e)
{
	return bson_name_is(e, "$db") || bson_name_is(e, "lsid") ||
	       bson_name_is(e, "$clusterTime");
}

/* A kind 1 section: its identifier and its documents' bytes. */
struct mongo_seq {
	const char *id;
	size_t id_len;
	const uint8_t *docs;
	size_t len;
};

/*
 * The arguments of a command as one JSON object: the elements of the
 * command document d[0..n) after the first (the command name), then the
 * document sequences as arrays under their identifiers.  full: all of
 * them (the "request" text); else without the data key of the method and
 * the metadata keys (the "query" summary).  Cut at r->lim.
 */
static void mongo_args(struct mongo_rd *r, const uint8_t *d, size_t n, const char *method,
		       const struct mongo_seq *seq, unsigned nseq, int full, struct pb_buf *out)
{
	const char *data = full ? NULL : mongo_data_key(method);
	struct bson_out o;
	struct pb_cur c;
	struct bson_it it;
	struct bson_el e;
	int first = 1, skip_first = 1, rr = 0;
	unsigned i;

	jo_begin(&o, out, r->lim);
	jo_lit(&o, "{");
	pb_cur_init(&c, d, n);
	if (d && bson_open(&c, &it) == 0) {
		while (!o.cut && (rr = bson_next(&it, &e)) == 1) {
			if (skip_first) {
				skip_first = 0;
				continue;
			}
			if (!full && (mongo_meta_key(&e) || (data && bson_name_is(&e, data))))
				continue;
			if (!first)
				jo_lit(&o, ",");
			first = 0;
			jo_str(&o, e.name, e.name_len);
			jo_lit(&o, ":");
			jo_value(&o, &e, 1);
		}
		if (rr < 0)
			o.bad = 1;
	}
	for (i = 0; i < nseq && !o.cut; i++) {
		struct pb_cur sc;
		int one = 1;

		if (!full && data && seq[i].id_len == strlen(data) &&
		    memcmp(seq[i].id, data, seq[i].id_len) == 0)
			continue;
		if (!first)
			jo_lit(&o, ",");
		first = 0;
		jo_str(&o, seq[i].id, seq[i].id_len);
		jo_lit(&o, ":[");
		pb_cur_init(&sc, seq[i].docs, seq[i].len);
		while (!o.cut && pb_cur_left(&sc) > 0 && pb_cur_ok(&sc)) {
			if (!one)
				jo_lit(&o, ",");
			one = 0;
			jo_doc(&o, &sc, 0, 1);
		}
		jo_lit(&o, "]");
	}
	jo_lit(&o, "}");
	jo_end(&o);
	if (o.bad)
		r->m->bad = 1;
}

/* Packetbeat's form of a call, as a new string:
 * resource.method(args)[.skip(n)][.limit(n)], the skip and the limit
 * from an OP_QUERY's numberToSkip and numberToReturn when positive. */
static char *mongo_call(struct mongo_rd *r, const char *args, size_t n)
{
	const struct mongo_msg *m = r->m;

	pb_buf_clear(&r->t);
	if (m->resource) {
		pb_buf_adds(&r->t, m->resource);
		pb_buf_addc(&r->t, '.');
	}
	pb_buf_adds(&r->t, m->method);
	pb_buf_addc(&r->t, '(');
	if (n)
		pb_buf_add(&r->t, args, n);
	pb_buf_addc(&r->t, ')');
	if (m->has_skip && m->skip > 0)
		pb_buf_addf(&r->t, ".skip(%d)", (int)m->skip);
	if (m->has_ret && m->ret > 0 && m->ret < 0x7fffffff)
		pb_buf_addf(&r->t, ".limit(%d)", (int)m->ret);
	return mongo_take(&r->t);
}

/* query: the command's call with its arguments less data and metadata;
 * the request text (send_request) with all of them. */
static void mongo_summary(struct mongo_rd *r, const uint8_t *d, size_t n,
			  const struct mongo_seq *seq, unsigned nseq)
{
	struct mongo_msg *m = r->m;

	mongo_args(r, d, n, m->method, seq, nseq, 0, &r->b);
	m->query = mongo_call(r, r->b.data, r->b.len);
	if (r->send_rq) {
		mongo_args(r, d, n, m->method, seq, nseq, 1, &r->b);
		m->text = mongo_call(r, r->b.data, r->b.len);
	}
}

/* A command document d[0..n) (OP_MSG body, or the query of OP_QUERY on
 * "db.$cmd"): its name is the method; its value, when a string, the
 * collection (getMore names it in "collection"). */
static void mongo_command(struct mongo_rd *r, const uint8_t *d, size_t n)
{
	struct mongo_msg *m = r->m;
	struct pb_cur c;
	struct bson_it it;
	struct bson_el e, x;
	const char *s;
	size_t sl;
	int64_t id;

	pb_cur_init(&c, d, n);
	if (bson_open(&c, &it) < 0 || bson_next(&it, &e) != 1) {
		m->bad = 1;
		return;
	}
	m->method = mongo_name(e.name, e.name_len);
	if (m->method && bson_el_str(&e, &s, &sl) == 0 && sl && !mongo_not_coll(m->method))
		m->collection = mongo_name(s, sl);
	if (bson_name_is(&e, "getMore")) {
		if (bson_el_int(&e, &id) == 0) {
			m->has_cursor = 1;
			m->cursor = id;
		}
		if (bson_find(d, n, "collection", &x) && bson_el_str(&x, &s, &sl) == 0 && sl) {
			free(m->collection);
			m->collection = mongo_name(s, sl);
		}
	}
	/* the filter of the commands that have one (mongodb.query) */
	if ((bson_find(d, n, "filter", &x) || bson_find(d, n, "query", &x)) &&
	    x.type == BT_DOC) {
		if (mongo_render_el(&r->b, r->lim, &x) < 0)
			m->bad = 1;
		m->q_doc = mongo_take(&r->b);
	}
}

/* resource: "db.collection", or "db.$cmd" for a command on no
 * collection, as Packetbeat names legacy commands. */
static void mongo_resource(struct mongo_msg *m)
{
	struct pb_buf b;

	pb_buf_init(&b, 2 * MONGO_MAX_NAME + 8);
	if (m->database)
		pb_buf_adds(&b, m->database);
	if (m->database && m->collection)
		pb_buf_addc(&b, '.');
	if (m->collection)
		pb_buf_adds(&b, m->collection);
	else if (m->database)
		pb_buf_adds(&b, ".$cmd");
	m->resource = mongo_take(&b);
	pb_buf_release(&b);
}

/*
 * A reply document (OP_MSG body, or the first document of OP_REPLY): an
 * error (ok: 0 with errmsg, code, codeName; $err; writeErrors;
 * writeConcernError), and a cursor's id and batch.  *batch gets the
 * cursor's firstBatch or nextBatch array, when there is one.
 */
static void mongo_reply_doc(struct mongo_rd *r, const uint8_t *d, size_t n,
			    struct bson_el *batch, int *has_batch)
{
	struct mongo_msg *m = r->m;
	struct bson_el e, x;
	const char *s;
	size_t sl;
	double ok;
	int64_t v;

	*has_batch = 0;
	if (bson_find(d, n, "code", &e) && bson_el_int(&e, &v) == 0) {
		m->has_code = 1;
		m->code = (int32_t)v;
	}
	if (bson_find(d, n, "codeName", &e) && bson_el_str(&e, &s, &sl) == 0)
		m->code_name = mongo_name(s, sl);
	if (bson_find(d, n, "ok", &e) && bson_el_num(&e, &ok) == 0 && ok == 0) {
		if (bson_find(d, n, "errmsg", &x) && bson_el_str(&x, &s, &sl) == 0 && sl)
			m->error = mongo_dup(s, sl < r->lim ? sl : r->lim);
		else if (m->code_name)
			m->error = mongo_dup(m->code_name, strlen(m->code_name));
		else
			m->error = mongo_dup("command failed", 14);
	}
	if (!m->error && bson_find(d, n, "$err", &e)) {
		if (bson_el_str(&e, &s, &sl) == 0)
			m->error = mongo_dup(s, sl < r->lim ? sl : r->lim);
		else
			m->error = mongo_dup("$err", 4);
	}
	/* writeErrors and writeConcernError: written as JSON, as Packetbeat
	 * writes writeErrors; the code of the first write error */
	if (!m->error && ((bson_find(d, n, "writeErrors", &e) && e.type == BT_ARRAY) ||
			  (bson_find(d, n, "writeConcernError", &e) && e.type == BT_DOC))) {
		if (mongo_render_el(&r->b, r->lim, &e) < 0)
			m->bad = 1;
		m->error = mongo_take(&r->b);
		if (!m->error)
			m->error = mongo_dup(e.name, e.name_len);
		if (!m->has_code) {
			struct pb_cur ac = e.v;
			struct bson_it it;
			struct bson_el first;
			const uint8_t *fd = NULL;
			size_t fn = 0;

			if (e.type == BT_DOC) {
				fd = ac.pos;
				fn = pb_cur_left(&ac);
			} else if (bson_open(&ac, &it) == 0 && bson_next(&it, &first) == 1 &&
				   first.type == BT_DOC) {
				fd = first.v.pos;
				fn = pb_cur_left(&first.v);
			}
			if (fd && bson_find(fd, fn, "code", &x) && bson_el_int(&x, &v) == 0) {
				m->has_code = 1;
				m->code = (int32_t)v;
			}
			if (fd && !m->code_name && bson_find(fd, fn, "codeName", &x) &&
			    bson_el_str(&x, &s, &sl) == 0)
				m->code_name = mongo_name(s, sl);
		}
	}
	if (!m->error) {
		m->has_code = 0;
		free(m->code_name);
		m->code_name = NULL;
	}
	/* a cursor: {id, ns, firstBatch | nextBatch} */
	if (bson_find(d, n, "cursor", &e) && e.type == BT_DOC) {
		const uint8_t *cd = e.v.pos;
		size_t cn = pb_cur_left(&e.v);

		if (bson_find(cd, cn, "id", &x) && bson_el_int(&x, &v) == 0) {
			m->has_cursor = 1;
			m->cursor = v;
		}
		if ((bson_find(cd, cn, "firstBatch", batch) || bson_find(cd, cn, "nextBatch", batch)) &&
		    batch->type == BT_ARRAY) {
			struct pb_cur ac = batch->v;
			struct bson_it it;
			struct bson_el one;
			int32_t k = 0;

			*has_batch = 1;
			if (bson_open(&ac, &it) == 0)
				while (bson_next(&it, &one) == 1 && k < INT32_MAX)
					k++;
			m->has_nret = 1;
			m->nret = k;
		}
	}
}

/* The response text: each document a line, max_docs of them then
 * "[...]", each cut at max_doc_length, Packetbeat's form.  The documents
 * are in docs[0..n) one after the other. */
static void mongo_docs_text(struct mongo_rd *r, const uint8_t *docs, size_t n)
{
	int64_t maxd = mongo_cf(r->c)->max_docs, k = 0;
	struct pb_cur c;
	size_t dn;
	const uint8_t *d;

	if (!r->send_rs)
		return;
	pb_buf_clear(&r->t);
	pb_cur_init(&c, docs, n);
	while (pb_cur_left(&c) > 0 && pb_cur_ok(&c)) {
		if ((maxd > 0 && k >= maxd) || r->t.len >= MONGO_MAX_RESPONSE) {
			pb_buf_adds(&r->t, "\n[...]");
			break;
		}
		d = mongo_doc_at(&c, &dn);
		if (!d) {
			r->m->bad = 1;
			break;
		}
		if (mongo_render(&r->b, r->lim, d, dn) < 0)
			r->m->bad = 1;
		if (k > 0)
			pb_buf_addc(&r->t, '\n');
		pb_buf_add(&r->t, r->b.data, r->b.len);
		k++;
	}
	free(r->m->text);
	r->m->text = mongo_take(&r->t);
}

/* The elements of an array value, as documents one after the other: the
 * batch of a cursor reply is written like OP_REPLY's documents. */
static void mongo_batch_text(struct mongo_rd *r, const struct bson_el *arr)
{
	int64_t maxd = mongo_cf(r->c)->max_docs, k = 0;
	struct pb_cur ac = arr->v;
	struct bson_it it;
	struct bson_el e;
	struct bson_out o;

	if (!r->send_rs || bson_open(&ac, &it) < 0)
		return;
	pb_buf_clear(&r->t);
	while (bson_next(&it, &e) == 1) {
		if ((maxd > 0 && k >= maxd) || r->t.len >= MONGO_MAX_RESPONSE) {
			pb_buf_adds(&r->t, "\n[...]");
			break;
		}
		jo_begin(&o, &r->b, r->lim);
		jo_value(&o, &e, 1);
		jo_end(&o);
		if (o.bad)
			r->m->bad = 1;
		if (k > 0)
			pb_buf_addc(&r->t, '\n');
		pb_buf_add(&r->t, r->b.data, r->b.len);
		k++;
	}
	free(r->m->text);
	r->m->text = mongo_take(&r->t);
}

/* OP_MSG: flagBits, sections, and the optional CRC-32C. */
static void mongo_op_msg(struct mongo_rd *r, struct pb_cur *c)
{
	struct mongo_msg *m = r->m;
	struct mongo_seq seq[MONGO_MAX_SEQS];
	unsigned nseq = 0;
	const uint8_t *body = NULL;
	size_t body_n = 0;
	uint32_t flags = pb_cur_le32(c);

	m->more = (flags & MSG_MORE) != 0;
	m->exhaust = (flags & MSG_EXHAUST) != 0;
	/* unknown required bits: a receiver must refuse the message */
	if (flags & MSG_REQUIRED_MASK & ~(MSG_CHECKSUM | MSG_MORE))
		m->bad = 1;
	if (flags & MSG_CHECKSUM) {
		/* the sections end 4 bytes before the message does */
		if (pb_cur_left(c) < 4) {
			m->bad = 1;
			return;
		}
		c->end -= 4;
	}
	/* sections to the end: their number is not given, only bytes */
	while (pb_cur_left(c) > 0 && pb_cur_ok(c)) {
		unsigned kind = pb_cur_u8(c);

		if (kind == 0) {
			/* kind 0: one BSON document, the body */
			const uint8_t *d = mongo_doc_at(c, &body_n);

			/* exactly one body section */
			if (!d || body)
				m->bad = 1;
			if (d && !body)
				body = d;
		} else if (kind == 1) {
			uint32_t size;
			struct pb_cur sc, peek = *c;
			const char *id;
			size_t idl;

			/* kind 1: size i32 (itself included) | identifier
			 * cstring | documents to the end of size */
			size = pb_cur_le32(&peek);
			if (!pb_cur_ok(&peek) || size < 5 || size > pb_cur_left(c)) {
				m->bad = 1;
				break;
			}
			sc = pb_cur_sub(c, size);
			pb_cur_skip(&sc, 4);
			if (bson_cstr(&sc, &id, &idl) < 0) {
				m->bad = 1;
				continue;
			}
			if (nseq < MONGO_MAX_SEQS) {
				seq[nseq].id = id;
				seq[nseq].id_len = idl;
				seq[nseq].docs = sc.pos;
				seq[nseq].len = pb_cur_left(&sc);
				nseq++;
			}
		} else {
			/* kind 2 is internal to mongod; others do not exist */
			m->bad = 1;
			break;
		}
	}
	if (!pb_cur_ok(c) || !body) {
		m->bad = 1;
		if (!body)
			return;
	}
	/* what the message is for is decided later (a reply or a command),
	 * so both readings are kept apart: the command's name and
	 * arguments, and the reply's error and cursor */
	if (!m->is_resp) {
		struct bson_el e;
		const char *s;
		size_t sl;

		mongo_command(r, body, body_n);
		if (bson_find(body, body_n, "$db", &e) && bson_el_str(&e, &s, &sl) == 0)
			m->database = mongo_name(s, sl);
		if (m->method) {
			mongo_resource(m);
			mongo_summary(r, body, body_n, seq, nseq);
		}
	} else {
		struct bson_el batch;
		int has_batch;

		mongo_reply_doc(r, body, body_n, &batch, &has_batch);
		if (has_batch)
			mongo_batch_text(r, &batch);
		else
			mongo_docs_text(r, body, body_n);
	}
}

/* OP_QUERY: a find on a collection, or a command on "db.$cmd". */
static void mongo_op_query(struct mongo_rd *r, struct pb_cur *c)
{
	struct mongo_msg *m = r->m;
	const char *fcn;
	size_t fl, qn = 0, sn;
	const uint8_t *q, *sel;
	int cmd;

	/*
	 * flags i32 | fullCollectionName cstring | numberToSkip i32 |
	 * numberToReturn i32 | query doc | [returnFieldsSelector doc]
	 * (flags: tailable, slaveOk, noCursorTimeout, awaitData, exhaust,
	 * partial: nothing pbtools writes)
	 */
	pb_cur_le32(c);                      /* flags */
	if (bson_cstr(c, &fcn, &fl) < 0) {
		m->bad = 1;
		return;
	}
	m->fcn = mongo_fcn(fcn, fl);
	/* numberToReturn: 0 the server's default batch, negative a single
	 * batch of that many and close the cursor (-1: a command) */
	m->skip = (int32_t)pb_cur_le32(c);
	m->ret = (int32_t)pb_cur_le32(c);
	m->has_skip = m->has_ret = pb_cur_ok(c);
	q = mongo_doc_at(c, &qn);
	/* the field selector is there when bytes are left after the query */
	if (q && pb_cur_left(c) > 0) {
		sel = mongo_doc_at(c, &sn);
		if (sel)
			m->fields_sel = mongo_doc_str(r, sel, sn);
	}
	if (!q || !pb_cur_ok(c))
		m->bad = 1;
	cmd = fl >= 5 && memcmp(fcn + fl - 5, ".$cmd", 5) == 0;
	mongo_split_fcn(m, fcn, fl, cmd);
	if (!q)
		return;
	if (cmd) {
		struct bson_el e;

		/* a command may come wrapped: {$query: {cmd...}, ...} */
		if (bson_find(q, qn, "$query", &e) && e.type == BT_DOC) {
			q = e.v.pos;
			qn = pb_cur_left(&e.v);
		}
		mongo_command(r, q, qn);
		if (!m->method)
			return;
		mongo_resource(m);
		mongo_summary(r, q, qn, NULL, 0);
	} else {
		/* a query on a collection: its arguments are the query */
		m->method = mongo_dup("find", 4);
		m->resource = mongo_fcn(fcn, fl);
		m->q_doc = mongo_doc_str(r, q, qn);
		if (m->q_doc) {
			m->query = mongo_call(r, m->q_doc, strlen(m->q_doc));
			if (r->send_rq)
				m->text = mongo_dup(m->query, strlen(m->query));
		}
	}
}

/* OP_REPLY: the documents; the first may say the query failed. */
static void mongo_op_reply(struct mongo_rd *r, struct pb_cur *c)
{
	struct mongo_msg *m = r->m;
	struct pb_cur peek;
	const uint8_t *d;
	size_t dn;

	/*
	 * responseFlags i32 | cursorID i64 | startingFrom i32 |
	 * numberReturned i32 | document...
	 * (responseFlags: CursorNotFound 0, QueryFailure 1, AwaitCapable 3;
	 * a query failure has one document, {$err: ...}, which says all)
	 */
	pb_cur_le32(c);                      /* responseFlags */
	m->cursor = (int64_t)pb_cur_le64(c);
	m->from = (int32_t)pb_cur_le32(c);
	m->nret = (int32_t)pb_cur_le32(c);
	if (!pb_cur_ok(c)) {
		m->bad = 1;
		return;
	}
	m->has_cursor = m->has_from = m->has_nret = 1;
	if (pb_cur_left(c) == 0)
		return;
	/* the first document answers a command, or says what failed */
	peek = *c;
	d = mongo_doc_at(&peek, &dn);
	if (d) {
		struct bson_el batch;
		int has_batch;
		int64_t cursor = m->cursor;
		int32_t nret = m->nret;

		/* the error of the first document; cursorId and numberReturned
		 * stay the OP_REPLY's own, as Packetbeat has them */
		mongo_reply_doc(r, d, dn, &batch, &has_batch);
		m->cursor = cursor;
		m->nret = nret;
	}
	/* numberReturned is not trusted: the documents are what the bytes
	 * hold */
	mongo_docs_text(r, c->pos, pb_cur_left(c));
	/* every document must hold together */
	while (pb_cur_left(c) > 0 && pb_cur_ok(c))
		if (!mongo_doc_at(c, &dn))
			m->bad = 1;
}

/* The legacy write and cursor opcodes. */
static void mongo_op_legacy(struct mongo_rd *r, struct pb_cur *c, int32_t op)
{
	struct mongo_msg *m = r->m;
	const char *fcn = NULL;
	size_t fl = 0, dn;
	const uint8_t *d;

	switch (op) {
	case OP_UPDATE:
		m->method = mongo_dup("update", 6);
		break;
	case OP_INSERT:
		m->method = mongo_dup("insert", 6);
		break;
	case OP_GET_MORE:
		m->method = mongo_dup("getMore", 7);
		break;
	case OP_DELETE:
		m->method = mongo_dup("delete", 6);
		break;
	default:
		m->method = mongo_dup("killCursors", 11);
		break;
	}
	/*
	 * OP_UPDATE        ZERO | fullCollectionName | flags | selector | update
	 * OP_INSERT        flags | fullCollectionName | document...
	 * OP_GET_MORE      ZERO | fullCollectionName | numberToReturn | cursorID
	 * OP_DELETE        ZERO | fullCollectionName | flags | selector
	 * OP_KILL_CURSORS  ZERO | numberOfCursorIDs | cursorID...
	 * (ZERO: an int32 reserved, always 0; flags: an int32)
	 */
	pb_cur_le32(c);                      /* ZERO, or flags (insert) */
	if (op == OP_KILL_CURSORS) {
		/* a count that could say anything: the bytes decide */
		int32_t nc = (int32_t)pb_cur_le32(c);

		/* the count is checked against the bytes there are */
		if (!pb_cur_ok(c) || nc < 0 || (uint64_t)nc * 8 != pb_cur_left(c))
			m->bad = 1;
		if (pb_cur_left(c) >= 8) {
			m->has_cursor = 1;
			m->cursor = (int64_t)pb_cur_le64(c);
		}
		return;
	}
	if (bson_cstr(c, &fcn, &fl) < 0) {
		m->bad = 1;
		return;
	}
	/* the legacy writes name their collection here, not in a command */
	m->fcn = mongo_fcn(fcn, fl);
	mongo_split_fcn(m, fcn, fl, 0);
	m->resource = mongo_fcn(fcn, fl);
	switch (op) {
	case OP_GET_MORE:
		m->ret = (int32_t)pb_cur_le32(c);
		m->cursor = (int64_t)pb_cur_le64(c);
		m->has_ret = m->has_cursor = pb_cur_ok(c);
		if (!pb_cur_ok(c) || pb_cur_left(c) != 0)
			m->bad = 1;
		break;
	case OP_UPDATE:
	case OP_DELETE:
		pb_cur_le32(c);              /* flags */
		d = mongo_doc_at(c, &dn);
		if (d)
			m->selector = mongo_doc_str(r, d, dn);
		if (op == OP_UPDATE && d) {
			d = mongo_doc_at(c, &dn);
			if (d)
				m->update = mongo_doc_str(r, d, dn);
		}
		if (!d || !pb_cur_ok(c))
			m->bad = 1;
		break;
	case OP_INSERT:
		/* the documents inserted: the request text */
		if (r->send_rq) {
			int64_t maxd = mongo_cf(r->c)->max_docs, k = 0;
			struct pb_cur dc = *c;

			pb_buf_clear(&r->t);
			while (pb_cur_left(&dc) > 0 && (d = mongo_doc_at(&dc, &dn)) != NULL) {
				if ((maxd > 0 && k >= maxd) || r->t.len >= MONGO_MAX_RESPONSE) {
					pb_buf_adds(&r->t, "\n[...]");
					break;
				}
				if (mongo_render(&r->b, r->lim, d, dn) < 0)
					m->bad = 1;
				if (k++ > 0)
					pb_buf_addc(&r->t, '\n');
				pb_buf_add(&r->t, r->b.data, r->b.len);
			}
			m->text = mongo_take(&r->t);
		}
		while (pb_cur_left(c) > 0 && pb_cur_ok(c))
			if (!mongo_doc_at(c, &dn))
				m->bad = 1;
		break;
	}
	/* the query summary: resource.method(selector[,update]) */
	pb_buf_clear(&r->b);
	if (m->selector)
		pb_buf_adds(&r->b, m->selector);
	if (m->update) {
		pb_buf_addc(&r->b, ',');
		pb_buf_adds(&r->b, m->update);
	}
	m->query = mongo_call(r, r->b.data, r->b.len);
	if (r->send_rq && !m->text && op != OP_INSERT)
		m->text = mongo_dup(m->query, strlen(m->query));
}

/* The body of a message (after its header, decompressed), by opcode. */
static void mongo_body(struct mongo_rd *r, struct pb_cur *c, int32_t op)
{
	switch (op) {
	case OP_MSG:
		mongo_op_msg(r, c);
		break;
	case OP_QUERY:
		mongo_op_query(r, c);
		break;
	case OP_REPLY:
		mongo_op_reply(r, c);
		break;
	default:
		mongo_op_legacy(r, c, op);
		break;
	}
}

/* ----------------------------------------------------------- pairing */

/* The protocol's objects of the event (struct pb_txn.write). */
struct mongo_out {
	const struct mongo_msg *rq, *rs;
};

static void mongo_write(struct pb_json *j, const struct pb_txn *t, void *arg)
{
	const struct mongo_out *o = arg;
	const struct mongo_msg *rq = o->rq, *rs = o->rs, *any = rq ? rq : rs;
	/* the request's opcode, once: not for a reply alone, nor for the
	 * later replies of an exhaust stream (their request was written
	 * with the first) */
	const char *name = rq && !rq->cont ? mongo_op_name(rq->opcode) : NULL;
	char num[24];

	(void)t;
	pb_json_key(j, "mongodb");
	pb_json_obj(j);
	if (name) {
		pb_json_key(j, "opcodeName");
		pb_json_cstr(j, name);
	}
	if (any->compressor) {
		pb_json_key(j, "compressor");
		pb_json_cstr(j, mongo_compressor_name(any->compressor - 1u));
	}
	if (rq) {
		if (rq->database) {
			pb_json_key(j, "database");
			pb_json_cstr(j, rq->database);
		}
		if (rq->collection) {
			pb_json_key(j, "collection");
			pb_json_cstr(j, rq->collection);
		}
		if (rq->fcn) {
			pb_json_key(j, "fullCollectionName");
			pb_json_cstr(j, rq->fcn);
		}
		if (rq->has_skip) {
			pb_json_key(j, "numberToSkip");
			pb_json_i64(j, rq->skip);
		}
		if (rq->has_ret) {
			pb_json_key(j, "numberToReturn");
			pb_json_i64(j, rq->ret);
		}
		if (rq->q_doc) {
			pb_json_key(j, "query");
			pb_json_cstr(j, rq->q_doc);
		}
		if (rq->fields_sel) {
			pb_json_key(j, "returnFieldsSelector");
			pb_json_cstr(j, rq->fields_sel);
		}
		if (rq->selector) {
			pb_json_key(j, "selector");
			pb_json_cstr(j, rq->selector);
		}
		if (rq->update) {
			pb_json_key(j, "update");
			pb_json_cstr(j, rq->update);
		}
		if (rq->more) {
			pb_json_key(j, "moreToCome");
			pb_json_bool(j, 1);
		}
	}
	if (rs) {
		if (rs->has_nret) {
			pb_json_key(j, "numberReturned");
			pb_json_i64(j, rs->nret);
		}
		if (rs->has_from) {
			pb_json_key(j, "startingFrom");
			pb_json_i64(j, rs->from);
		}
	}
	/* the reply's cursor wins over the request's, as in Packetbeat; a
	 * string, as ids past 2^53 would lose digits as JSON numbers */
	if ((rs && rs->has_cursor) || (rq && rq->has_cursor)) {
		const struct mongo_msg *cm = rs && rs->has_cursor ? rs : rq;
		char *e = pb_json_put_i64(num, cm->cursor);

		pb_json_key(j, "cursorId");
		pb_json_str(j, num, (size_t)(e - num));
	}
	if (rs) {
		if (rs->error) {
			pb_json_key(j, "error");
			pb_json_cstr(j, rs->error);
		}
		if (rs->has_code) {
			pb_json_key(j, "code");
			pb_json_i64(j, rs->code);
		}
		if (rs->code_name) {
			pb_json_key(j, "codeName");
			pb_json_cstr(j, rs->code_name);
		}
		if (rs->more) {
			pb_json_key(j, "exhaust");
			pb_json_bool(j, 1);
		}
	}
	pb_json_obj_end(j);
}

static void mongo_notes(struct pb_txn *t, const struct mongo_msg *m, int alone)
{
	int rq = !m->is_resp;

	if (m->loss)
		pb_txn_note(t, rq ? mongo_n_loss_rq : mongo_n_loss_rs);
	if (m->incomplete)
		pb_txn_note(t, rq ? mongo_n_inc_rq : mongo_n_inc_rs);
	if (m->too_big)
		pb_txn_note(t, mongo_n_big);
	if (m->unz_bad)
		pb_txn_note(t, mongo_n_unz);
	if (m->bad)
		pb_txn_note(t, mongo_n_bad);
	if (m->crc_bad)
		pb_txn_note(t, mongo_n_crc);
	if (m->overflow)
		pb_txn_note(t, mongo_n_pend);
	if (m->resp_lost)
		pb_txn_note(t, mongo_n_loss_rs);
	if (alone)
		pb_txn_note(t, rq ? mongo_n_unm_rq : mongo_n_unm_rs);
}

/* Write one event: a request and its reply, a request alone (answered
 * by nature or not), or a reply alone.  Frees nothing. */
static void mongo_emit(struct pb_txn_conn *c, const struct mongo_msg *rq,
		       const struct mongo_msg *rs)
{
	const struct mongo_msg *first = rq ? rq : rs, *last = rs ? rs : rq;
	struct mongo_out o;
	struct pb_txn t;

	if (!first)
		return;
	memset(&t, 0, sizeof(t));
	t.client = rq ? rq->dir : (uint8_t)!rs->dir;
	t.has_request = rq != NULL;
	t.has_response = rs != NULL;
	/* a write sent without a reply by design is a message, not an
	 * unmatched request */
	t.single = rq && !rs && !rq->awaits;
	t.start_ns = first->start_ns;
	t.first_pkt = first->first_pkt;
	t.end_ns = last->end_ns;
	t.last_pkt = last->last_pkt;
	/* client.bytes / server.bytes: messageLength, as Packetbeat; the
	 * request of a later exhaust reply was counted with the first */
	t.request_bytes = rq && !rq->cont ? rq->length : 0;
	t.response_bytes = rs ? rs->length : 0;
	/* Error: the reply says so, or a side that should be there is not */
	if ((rs && rs->error) || (!rq && rs) || (rq && rq->awaits && !rs))
		t.status = "Error";
	else
		t.status = "OK";
	if (rq) {
		t.method = rq->method;
		t.resource = rq->resource;
		t.query = rq->query;
		mongo_notes(&t, rq, rq->awaits && !rs);
		if (rq->text) {
			t.request = (const uint8_t *)rq->text;
			t.request_len = strlen(rq->text);
		}
	}
	if (rs) {
		mongo_notes(&t, rs, !rq);
		if (rs->text) {
			t.response = (const uint8_t *)rs->text;
			t.response_len = strlen(rs->text);
		}
	}
	o.rq = rq;
	o.rs = rs;
	t.write = mongo_write;
	t.arg = &o;
	pb_txn_emit(c, &t);
}

static int mongo_match(const void *slot, const void *key)
{
	return ((const struct mongo_slot *)slot)->id == *(const int32_t *)key;
}

/* Push m under id into q; a full queue writes its oldest alone first. */
static void mongo_push(struct pb_txn_conn *c, struct pb_txn_queue *q, int32_t id,
		       struct mongo_msg *m, int is_rq)
{
	struct mongo_slot *s = pb_txn_queue_push(q), old;

	if (!s && pb_txn_queue_pop(q, &old) == 0) {
		old.m->overflow = is_rq;
		if (is_rq)
			mongo_emit(c, old.m, NULL);
		else
			mongo_emit(c, NULL, old.m);
		mongo_msg_free(old.m);
		s = pb_txn_queue_push(q);
	}
	if (!s) {
		/* no memory: written at once, alone */
		if (is_rq)
			mongo_emit(c, m, NULL);
		else
			mongo_emit(c, NULL, m);
		mongo_msg_free(m);
		return;
	}
	s->id = id;
	s->m = m;
}

/* A reply from dir answers rq (taken out of its queue).  An exhaust
 * reply (moreToCome) keeps rq waiting, under this reply's requestID, for
 * the next one. */
static void mongo_answer(struct pb_txn_conn *c, int dir, struct mongo_msg *rq,
			 struct mongo_msg *rs)
{
	mongo_emit(c, rq, rs);
	if (rs->more && rs->opcode == OP_MSG) {
		rq->cont = 1;
		rq->request_id = rs->request_id;
		mongo_push(c, &mongo_d(c, !dir)->rq, rq->request_id, rq, 1);
	} else {
		mongo_msg_free(rq);
	}
	mongo_msg_free(rs);
}

/* A whole message of dir, read: decide what it is and pair it. */
static void mongo_dispatch(struct pb_txn_conn *c, int dir, struct mongo_msg *m)
{
	struct mongo_dir *d = mongo_d(c, dir), *od = mongo_d(c, !dir);
	struct mongo_slot s;
	int i;

	if (m->is_resp) {
		/* the side that replies is the server: later OP_MSG from it
		 * are replies even when they name no request we hold */
		d->role = MONGO_ROLE_SERVER;
		if (od->role == MONGO_ROLE_NONE)
			od->role = MONGO_ROLE_CLIENT;
		/* responseTo names the request, whatever the order */
		i = pb_txn_queue_find(&od->rq, mongo_match, &m->response_to);
		if (i >= 0 && pb_txn_queue_take(&od->rq, (unsigned)i, &s) == 0) {
			mongo_answer(c, dir, s.m, m);
			return;
		}
		/* no request seen: kept a while, its request may follow */
		mongo_push(c, &d->rs, m->response_to, m, 0);
		return;
	}
	d->role = MONGO_ROLE_CLIENT;
	if (od->role == MONGO_ROLE_NONE)
		od->role = MONGO_ROLE_SERVER;
	/* fire-and-forget: nothing will answer it */
	if (!m->awaits) {
		mongo_emit(c, m, NULL);
		mongo_msg_free(m);
		return;
	}
	/* a reply seen before its request (merged captures) */
	i = pb_txn_queue_find(&od->rs, mongo_match, &m->request_id);
	if (i >= 0 && pb_txn_queue_take(&od->rs, (unsigned)i, &s) == 0) {
		mongo_answer(c, !dir, m, s.m);
		return;
	}
	/* it waits for the reply that names its requestID */
	mongo_push(c, &d->rq, m->request_id, m, 1);
}

/* Is an OP_MSG of dir a reply?  When it answers a request we hold, when
 * its direction is the server's, or (direction unknown) when it names a
 * request (requests have responseTo 0). */
static int mongo_msg_is_reply(struct pb_txn_conn *c, int dir, int32_t response_to)
{
	struct mongo_dir *d = mongo_d(c, dir), *od = mongo_d(c, !dir);

	if (pb_txn_queue_find(&od->rq, mongo_match, &response_to) >= 0)
		return 1;
	if (d->role == MONGO_ROLE_SERVER)
		return 1;
	if (d->role == MONGO_ROLE_CLIENT)
		return 0;
	return response_to != 0;
}

/* Decompress an OP_COMPRESSED body into a new buffer of exactly usize
 * bytes: the buffer, or NULL. */
static uint8_t *mongo_unzip(unsigned id, const uint8_t *in, size_t n, size_t usize)
{
	uint8_t *out = malloc(usize ? usize : 1);
	int ok = 0;

	if (!out)
		return NULL;
	switch (id) {
	case 0:                              /* noop */
		ok = n == usize;
		if (ok && n)
			memcpy(out, in, n);
		break;
	case 1: {                            /* snappy */
		size_t ul = 0, got = usize;

		ok = snappy_uncompressed_length((const char *)in, n, &ul) == SNAPPY_OK &&
		     ul == usize &&
		     snappy_uncompress((const char *)in, n, (char *)out, &got) == SNAPPY_OK &&
		     got == usize;
		break;
	}
	case 2: {                            /* zlib (RFC 1950) */
		uLongf got = (uLongf)usize;

		ok = uncompress(out, &got, in, (uLong)n) == Z_OK && got == usize;
		break;
	}
	case 3: {                            /* zstd */
		size_t got = ZSTD_decompress(out, usize, in, n);

		ok = !ZSTD_isError(got) && got == usize;
		break;
	}
	default:
		break;
	}
	if (!ok) {
		free(out);
		return NULL;
	}
	return out;
}

/* The largest message kept whole in a direction. */
static uint64_t mongo_cap(const struct pb_txn_conn *c)
{
	uint64_t cap = MONGO_MAX_MESSAGE;

	if (c->common && c->common->max_message_size && c->common->max_message_size < cap)
		cap = c->common->max_message_size;
	return cap < 64 ? 64 : cap;
}

/* A new message from a header, with its time so far. */
static struct mongo_msg *mongo_msg_new(struct pb_txn_conn *c, int dir, size_t base, size_t len,
				       int32_t id, int32_t to, int32_t op, uint32_t length)
{
	struct mongo_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->dir = (uint8_t)(dir & 1);
	m->request_id = id;
	m->response_to = to;
	m->opcode = op;
	m->length = length;
	pb_txn_byte_time(c, dir, base, &m->start_ns, &m->first_pkt);
	pb_txn_byte_time(c, dir, base + (len ? len - 1 : 0), &m->end_ns, &m->last_pkt);
	return m;
}

/* Request or reply, and whether a request waits for an answer, from the
 * (original) opcode. */
static void mongo_classify(struct pb_txn_conn *c, int dir, struct mongo_msg *m)
{
	switch (m->opcode) {
	case OP_REPLY:
		m->is_resp = 1;
		break;
	case OP_QUERY:
	case OP_GET_MORE:
		m->awaits = 1;
		break;
	case OP_MSG:
		m->is_resp = (uint8_t)mongo_msg_is_reply(c, dir, m->response_to);
		break;
	default:                             /* fire-and-forget writes */
		break;
	}
}

/* One whole message p[0..len) of dir (len already checked), at offset
 * base of the data parse() was given. */
static void mongo_message(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t len,
			  size_t base)
{
	struct pb_cur h, body;
	struct mongo_rd r;
	struct mongo_msg *m;
	uint8_t *unz = NULL;
	uint32_t length;
	int32_t id, to, op;

	pb_cur_init(&h, p, len);
	length = pb_cur_le32(&h);
	id = (int32_t)pb_cur_le32(&h);
	to = (int32_t)pb_cur_le32(&h);
	op = (int32_t)pb_cur_le32(&h);
	m = mongo_msg_new(c, dir, base, len, id, to, op, length);
	if (!m) {
		mongo_error(c);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.c = c;
	r.m = m;
	r.lim = mongo_doc_lim(c);
	r.send_rq = c->common && c->common->send_request;
	r.send_rs = c->common && c->common->send_response;
	pb_buf_init(&r.b, r.lim + (64u << 10));
	pb_buf_init(&r.t, MONGO_MAX_RESPONSE + r.lim + (64u << 10));
	body = h;
	if (op == OP_COMPRESSED) {
		int32_t orig = (int32_t)pb_cur_le32(&body);
		uint32_t usize = pb_cur_le32(&body);
		unsigned cid = pb_cur_u8(&body);

		m->opcode = orig;
		m->compressor = (uint8_t)(cid + 1 > 255 ? 255 : cid + 1);
		/* the size it claims is believed only up to the cap */
		if (!pb_cur_ok(&body) || !mongo_op_name(orig) || orig == OP_COMPRESSED ||
		    usize > mongo_cap(c) ||
		    !(unz = mongo_unzip(cid, body.pos, pb_cur_left(&body), usize))) {
			m->unz_bad = 1;
			mongo_error(c);
			pb_cur_init(&body, p, 0);
		} else {
			pb_cur_init(&body, unz, usize);
		}
	} else if (op == OP_MSG && len >= 20) {
		/* checksumPresent: CRC-32C of everything before it */
		struct pb_cur f;

		pb_cur_init(&f, p + 16, 4);
		if ((pb_cur_le32(&f) & MSG_CHECKSUM) && len >= 24) {
			struct pb_cur k;

			pb_cur_init(&k, p + len - 4, 4);
			if (pb_cur_le32(&k) != mongo_crc32c(p, len - 4))
				m->crc_bad = 1;
		}
	}
	mongo_classify(c, dir, m);
	if (!m->unz_bad) {
		mongo_body(&r, &body, m->opcode);
		if (m->bad)
			mongo_error(c);
	}
	/* a request of OP_MSG awaits its reply unless moreToCome says none
	 * will come */
	if (m->opcode == OP_MSG && !m->is_resp)
		m->awaits = !m->more;
	free(unz);
	pb_buf_release(&r.b);
	pb_buf_release(&r.t);
	mongo_dispatch(c, dir, m);
}

/* A message whose bytes we do not have (too large, lost in a gap, cut
 * by the end of the stream): written from its header alone, and from the
 * OP_MSG flagBits when they were there (flags < 0: not seen). */
static void mongo_header_only(struct pb_txn_conn *c, int dir, int32_t len, int32_t id,
			      int32_t to, int32_t op, size_t base, size_t have, int why,
			      int64_t flags)
{
	struct mongo_msg *m = mongo_msg_new(c, dir, base, have, id, to, op, (uint32_t)len);

	if (!m)
		return;
	if (op == OP_MSG && flags >= 0)
		m->more = (flags & MSG_MORE) != 0;
	if (why == 0)
		m->too_big = 1;
	else if (why == 1)
		m->loss = 1;
	else
		m->incomplete = 1;
	mongo_classify(c, dir, m);
	if (!m->is_resp)
		m->awaits = (m->opcode == OP_MSG && !m->more) || m->opcode == OP_QUERY ||
			    m->opcode == OP_GET_MORE || m->opcode == OP_COMPRESSED;
	/* a reply lost in a gap: the request it answers says so */
	if (m->is_resp && why == 1) {
		struct mongo_dir *od = mongo_d(c, !dir);
		struct mongo_slot s;
		int i = pb_txn_queue_find(&od->rq, mongo_match, &to);

		if (i >= 0 && pb_txn_queue_take(&od->rq, (unsigned)i, &s) == 0) {
			s.m->resp_lost = 1;
			mongo_emit(c, s.m, NULL);
			mongo_msg_free(s.m);
		}
		mongo_msg_free(m);
		return;
	}
	mongo_dispatch(c, dir, m);
}

/* ---------------------------------------------------------- framing */

/* Could a message start at p[0..n) (n >= 16)?  A known opcode and a
 * length that fits it and the cap (a message too large to keep is not
 * looked for: a false header there would skip real messages); for
 * OP_MSG, when its next bytes are there, no unknown required flag bit
 * and a section kind that exists. */
static int mongo_plausible(const struct pb_txn_conn *c, const uint8_t *p, size_t n)
{
	struct pb_cur h;
	uint32_t len, flags;
	int32_t op;
	long min;

	pb_cur_init(&h, p, n);
	len = pb_cur_le32(&h);
	pb_cur_skip(&h, 8);
	op = (int32_t)pb_cur_le32(&h);
	min = mongo_min_body(op);
	if (min < 0 || len < MONGO_HEADER + (uint32_t)min || (uint64_t)len > mongo_cap(c))
		return 0;
	if (op == OP_MSG && n >= MONGO_HEADER + 5) {
		flags = pb_cur_le32(&h);
		if ((flags & MSG_REQUIRED_MASK & ~(MSG_CHECKSUM | MSG_MORE)) || pb_cur_u8(&h) > 1)
			return 0;
	}
	return 1;
}

/* RESYNC: skip to the first place a header could start. */
static size_t mongo_resync(struct pb_txn_conn *c, struct mongo_dir *d, const uint8_t *p,
			   size_t n, int *more)
{
	size_t i;

	if (n < MONGO_HEADER) {
		*more = 1;
		return 0;
	}
	for (i = 0; i + MONGO_HEADER <= n; i++)
		if (mongo_plausible(c, p + i, n - i)) {
			d->state = MONGO_S_HEADER;
			return i;
		}
	/* the last 15 bytes may begin one */
	*more = 1;
	return n - (MONGO_HEADER - 1);
}

/* HEADER: one whole message, or what is needed for it. */
static size_t mongo_step(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			 size_t base, int *more)
{
	struct mongo_dir *d = mongo_d(c, dir);
	struct pb_cur h;
	uint32_t len;
	int32_t id, to, op;

	if (n < MONGO_HEADER) {
		*more = 1;
		return 0;
	}
	pb_cur_init(&h, p, MONGO_HEADER);
	len = pb_cur_le32(&h);
	id = (int32_t)pb_cur_le32(&h);
	to = (int32_t)pb_cur_le32(&h);
	op = (int32_t)pb_cur_le32(&h);
	/* a length that cannot hold its own header (or is negative as the
	 * int32 it is): the framing is lost */
	if (len < MONGO_HEADER || len > INT32_MAX) {
		mongo_error(c);
		d->state = MONGO_S_RESYNC;
		d->have_hdr = 0;
		return 0;
	}
	if (!mongo_op_name(op)) {
		/* an unknown opcode: counted and skipped by its length,
		 * as long as no server could have sent that length */
		if (len > MONGO_MAX_MESSAGE) {
			mongo_error(c);
			d->state = MONGO_S_RESYNC;
			return 0;
		}
		mongo_error(c);
		d->have_hdr = 0;
		if (len <= n)
			return len;
		d->state = MONGO_S_SKIP;
		d->skip = len - n;
		return n;
	}
	/* too short for its opcode's fixed fields: not a frame we can
	 * believe either */
	if (len < MONGO_HEADER + (uint32_t)mongo_min_body(op)) {
		mongo_error(c);
		d->state = MONGO_S_RESYNC;
		d->have_hdr = 0;
		return 0;
	}
	/* too large to keep: written from its header, the rest skipped */
	if ((uint64_t)len > mongo_cap(c)) {
		int64_t flags = -1;

		if (n >= MONGO_HEADER + 4) {
			struct pb_cur f;

			pb_cur_init(&f, p + MONGO_HEADER, 4);
			flags = pb_cur_le32(&f);
		}
		d->have_hdr = 0;
		mongo_header_only(c, dir, (int32_t)len, id, to, op, base, n < len ? n : len, 0,
				  flags);
		if (len <= n)
			return len;
		d->state = MONGO_S_SKIP;
		d->skip = len - n;
		return n;
	}
	if (n < len) {
		/* remembered for a gap or the end of the stream */
		d->have_hdr = 1;
		d->h_len = (int32_t)len;
		d->h_id = id;
		d->h_to = to;
		d->h_op = op;
		*more = 1;
		return 0;
	}
	d->have_hdr = 0;
	mongo_message(c, dir, p, len, base);
	return len;
}

/* ---------------------------------------------------------- callbacks */

static int64_t mongo_timeout(const struct pb_txn_conn *c)
{
	return c->common && c->common->timeout_ns > 0 ? c->common->timeout_ns
						      : PB_TXN_DEF_TIMEOUT_NS;
}

/* Requests (and lone replies) older than transaction_timeout are written
 * alone, oldest first. */
static void mongo_expire(struct pb_txn_conn *c, int64_t now_ns)
{
	int64_t to = mongo_timeout(c);
	int dir, k;

	if (!c->state || !((struct mongo_state *)c->state)->init)
		return;
	for (dir = 0; dir < 2; dir++)
		for (k = 0; k < 2; k++) {
			struct pb_txn_queue *q = k ? &mongo_d(c, dir)->rs : &mongo_d(c, dir)->rq;
			struct mongo_slot *s, out;

			while ((s = pb_txn_queue_peek(q, 0)) != NULL) {
				if (now_ns < s->m->end_ns || now_ns - s->m->end_ns < to)
					break;
				pb_txn_queue_pop(q, &out);
				if (k)
					mongo_emit(c, NULL, out.m);
				else
					mongo_emit(c, out.m, NULL);
				mongo_msg_free(out.m);
			}
		}
}

static size_t mongo_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct mongo_dir *d = mongo_d(c, dir);
	size_t off = 0;
	unsigned idle = 0;

	mongo_expire(c, c->now_ns);
	/* a direction whose start was not captured may begin mid-message */
	if (d->state == MONGO_S_NEW)
		d->state = c->mid_stream[dir & 1] ? MONGO_S_RESYNC : MONGO_S_HEADER;
	while (off < len) {
		int more = 0;
		size_t used;

		switch (d->state) {
		case MONGO_S_SKIP:
			used = (uint64_t)(len - off) < d->skip ? len - off : (size_t)d->skip;
			d->skip -= used;
			if (d->skip == 0)
				d->state = MONGO_S_HEADER;
			break;
		case MONGO_S_RESYNC:
			used = mongo_resync(c, d, data + off, len - off, &more);
			break;
		default:
			used = mongo_step(c, dir, data + off, len - off, off, &more);
			break;
		}
		if (used > len - off)
			used = len - off;
		off += used;
		if (more)
			break;
		/* a state change that consumed nothing goes round again, a
		 * bounded number of times */
		if (used == 0 && ++idle > 4)
			break;
		if (used > 0)
			idle = 0;
	}
	return off;
}

/* A message cut by a gap or by the end of the stream, from the header
 * remembered; why: 1 gap, 2 end. */
static void mongo_cut(struct pb_txn_conn *c, int dir, int why)
{
	struct mongo_dir *d = mongo_d(c, dir);

	if (!d->have_hdr)
		return;
	d->have_hdr = 0;
	mongo_header_only(c, dir, d->h_len, d->h_id, d->h_to, d->h_op, 0, 0, why, -1);
}

/* n bytes of dir were never captured (what parse() left unconsumed is
 * counted in them). */
static void mongo_gap(struct pb_txn_conn *c, int dir, uint64_t n)
{
	struct mongo_dir *d = mongo_d(c, dir);

	if (d->state == MONGO_S_SKIP) {
		/* inside a message being skipped: it may just go on */
		if (n <= d->skip) {
			d->skip -= n;
			if (d->skip == 0)
				d->state = MONGO_S_HEADER;
			return;
		}
		d->state = MONGO_S_RESYNC;
		return;
	}
	if (d->have_hdr) {
		uint64_t len = (uint64_t)(uint32_t)d->h_len;

		mongo_cut(c, dir, 1);
		/* the lost bytes began at the message's start: when they do
		 * not reach its end, the rest is skipped; when they end with
		 * it, the next message starts right after */
		if (n < len) {
			d->state = MONGO_S_SKIP;
			d->skip = len - n;
			return;
		}
		d->state = n == len ? MONGO_S_HEADER : MONGO_S_RESYNC;
		return;
	}
	d->state = MONGO_S_RESYNC;
}

static void mongo_fin(struct pb_txn_conn *c, int dir)
{
	if (c->state && ((struct mongo_state *)c->state)->init)
		mongo_cut(c, dir & 1, 2);
}

/* close(): every message waiting is written alone, requests first, and
 * everything is freed; the state is left zeroed. */
static void mongo_close(struct pb_txn_conn *c)
{
	struct mongo_state *s = c->state;
	struct mongo_slot out;
	int dir, k;

	if (!s || !s->init)
		return;
	for (dir = 0; dir < 2; dir++)
		mongo_cut(c, dir, 2);
	for (k = 0; k < 2; k++)
		for (dir = 0; dir < 2; dir++) {
			struct pb_txn_queue *q = k ? &s->d[dir].rs : &s->d[dir].rq;

			while (pb_txn_queue_pop(q, &out) == 0) {
				if (k)
					mongo_emit(c, NULL, out.m);
				else
					mongo_emit(c, out.m, NULL);
				mongo_msg_free(out.m);
			}
		}
	for (dir = 0; dir < 2; dir++) {
		pb_txn_queue_release(&s->d[dir].rq);
		pb_txn_queue_release(&s->d[dir].rs);
	}
	memset(s, 0, sizeof(*s));
}

/* Packetbeat's default MongoDB port */
static const uint16_t mongo_ports[] = { 27017 };

/* the options of its own (pb_proto.keys) */
static const char *const mongo_keys[] = {
	"max_docs",
	"max_doc_length",
	NULL
};

const struct pb_proto pb_proto_mongodb = {
	.name = "mongodb",
	.transports = PB_TP_TCP,
	.ports = mongo_ports,
	.n_ports = sizeof(mongo_ports) / sizeof(mongo_ports[0]),
	.conf_size = sizeof(struct mongo_conf),
	.conf_init = mongo_conf_init,
	.conf_load = mongo_conf_load,
	.state_size = sizeof(struct mongo_state),
	.parse = mongo_parse,
	.gap = mongo_gap,
	.fin = mongo_fin,
	.expire = mongo_expire,
	.close = mongo_close,
	.keys = mongo_keys,
};
