/*
 * cassandra.c - the Cassandra CQL native protocol (v1 to v5): frames, the
 * v5 checksummed segments, LZ4 and Snappy bodies, and requests paired with
 * their responses by stream id, written as Packetbeat's cassandra.*.
 *
 * References: the CQL binary protocol specifications of Apache Cassandra,
 * doc/native_protocol_v3.spec, native_protocol_v4.spec and
 * native_protocol_v5.spec (sections 2 "Frame header" / "Frame format",
 * 3 "Notations", 4 "Messages", 5 "Compression", 9 "Error codes"); the
 * LZ4 block format (lz4/doc/lz4_Block_format.md); the Snappy format
 * (google/snappy format_description.txt).
 *
 * A frame (v3 and later; v1 and v2 have a one-byte stream and an 8-byte
 * header) is, big-endian:
 *
 *      0         8        16        24        32         40
 *      +---------+---------+---------+---------+---------+
 *      | version |  flags  |      stream       | opcode  |
 *      +---------+---------+---------+---------+---------+
 *      |                length                 |
 *      +---------+---------+---------+---------+
 *      |        body (length bytes) ...        |
 *      +----------------------------------------
 *
 *   version  0x0N for a request, 0x8N for a response (N = 1..5)
 *   flags    0x01 compressed body, 0x02 tracing, 0x04 custom payload,
 *            0x08 warnings, 0x10 beta (v5)
 *   stream   a signed id: a response carries its request's; the server's
 *            own pushes (EVENT) use -1
 *
 * A response body starts with what its flags announce, in this order:
 *
 *   [tracing id: 16-byte uuid][warnings: string list][custom payload:
 *   bytes map] message
 *
 * A compressed body (v4 and earlier) is the whole body compressed: LZ4 as
 * a 4-byte big-endian uncompressed length and an LZ4 block, or Snappy as
 * Snappy writes it.  The algorithm is the STARTUP's COMPRESSION option.
 *
 * Protocol v5: after the STARTUP exchange (READY or AUTHENTICATE) both
 * sides wrap the frames ("envelopes") in segments, little-endian:
 *
 *   uncompressed: 3 bytes: payload length (17 bits) | self-contained (1)
 *                 3 bytes: CRC24 of those 3 bytes
 *                 payload (at most 131071 bytes), CRC32 of the payload
 *   LZ4:          5 bytes: compressed length (17) | uncompressed length
 *                 (17, 0: stored as is) | self-contained (1)
 *                 3 bytes: CRC24 of those 5 bytes
 *                 compressed payload, CRC32 of it
 *
 * A self-contained segment holds whole envelopes; a large envelope is
 * spread over segments that are not.  CRC24: initial value 0x875060,
 * polynomial 0x1974F0B, bytes fed in wire order; CRC32: zlib's, of four
 * bytes FA 2D 55 CA followed by the payload (as Cassandra computes it).
 */
#include "proto/proto.h"

#include <lz4.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "conf/conf.h"
#include "txn/queue.h"
#include "util/buf.h"
#include "util/cursor.h"
#include "util/json.h"
#include "util/banned.h"

/* ---- limits ---- */

#define CQL_HDR_LEN 9              /* v3 and later */
#define CQL_HDR_LEN_V2 8           /* v1, v2 */
/* A frame body is at most 256 MB (spec, section 2.5). */
#define CQL_MAX_BODY (256u << 20)
/* Body bytes of a request kept while it waits for its response; past it
 * the fields at the end are missing (a note says so). */
#define CQL_MAX_KEEP (64u << 10)
/* A decompressed body: larger ones are not decompressed. */
#define CQL_MAX_INFLATE (16u << 20)
/* Requests awaiting their response in one conversation: drivers keep a
 * few hundred in flight at most; more is a flood or lost responses. */
#define CQL_MAX_PENDING 256
/* Statements prepared in one conversation whose text is kept, so that an
 * EXECUTE shows the query it runs; the oldest is forgotten first. */
#define CQL_MAX_PREPARED 128
#define CQL_MAX_PREP_TEXT (4u << 10)
#define CQL_MAX_ID 64              /* prepared ids are 16 bytes (MD5) */
/* Items listed in one array or map of an event (supported options,
 * warnings, batch statements, primary key indexes); the rest are
 * counted, not listed. */
#define CQL_MAX_LIST 64
/* Nesting of column types (list<map<text, frozen<tuple<...>>>>). */
#define CQL_MAX_DEPTH 16
/* A v5 segment's payload: 17 bits. */
#define CQL_SEG_MAX 131071
/* The cassandra object of one event. */
#define CQL_MAX_OBJ (8u << 20)

/* ---- the wire ---- */

enum {
	CQL_F_COMPRESS = 0x01, CQL_F_TRACING = 0x02, CQL_F_CUSTOM = 0x04,
	CQL_F_WARNING = 0x08, CQL_F_BETA = 0x10,
};

enum {
	CQL_OP_ERROR = 0x00, CQL_OP_STARTUP = 0x01, CQL_OP_READY = 0x02,
	CQL_OP_AUTHENTICATE = 0x03, CQL_OP_OPTIONS = 0x05,
	CQL_OP_SUPPORTED = 0x06, CQL_OP_QUERY = 0x07, CQL_OP_RESULT = 0x08,
	CQL_OP_PREPARE = 0x09, CQL_OP_EXECUTE = 0x0A, CQL_OP_REGISTER = 0x0B,
	CQL_OP_EVENT = 0x0C, CQL_OP_BATCH = 0x0D, CQL_OP_AUTH_CHALLENGE = 0x0E,
	CQL_OP_AUTH_RESPONSE = 0x0F, CQL_OP_AUTH_SUCCESS = 0x10,
	CQL_OP_MAX = 0x10,
};

/* compression of a connection (STARTUP's COMPRESSION option) */
enum { CQL_C_NONE, CQL_C_LZ4, CQL_C_SNAPPY, CQL_C_UNKNOWN };

static const char *const cql_ops[CQL_OP_MAX + 1] = {
	"ERROR", "STARTUP", "READY", "AUTHENTICATE", NULL, "OPTIONS",
	"SUPPORTED", "QUERY", "RESULT", "PREPARE", "EXECUTE", "REGISTER",
	"EVENT", "BATCH", "AUTH_CHALLENGE", "AUTH_RESPONSE", "AUTH_SUCCESS",
};

/* which opcodes a client sends (1) and a server sends (2) */
static const uint8_t cql_op_side[CQL_OP_MAX + 1] = {
	2, 1, 2, 2, 0, 1, 2, 1, 2, 1, 1, 1, 2, 1, 2, 1, 2,
};

/* ---- notes: error.message ---- */

enum {
	CQL_N_UNM_RQ = 1u << 0, CQL_N_UNM_RS = 1u << 1, CQL_N_DUP = 1u << 2,
	CQL_N_FLOOD = 1u << 3, CQL_N_LOSS = 1u << 4, CQL_N_BIG = 1u << 5,
	CQL_N_INFLATE = 1u << 6, CQL_N_NOCOMP = 1u << 7, CQL_N_BAD = 1u << 8,
	CQL_N_CRC24 = 1u << 9, CQL_N_CRC32 = 1u << 10, CQL_N_INCOMPLETE = 1u << 11,
	CQL_N_CUT = 1u << 12, CQL_N_SKIPPED = 1u << 13, CQL_N_SEGMENT = 1u << 14,
};

static const char *const cql_notes[] = {
	"Unmatched request",
	"Unmatched response",
	"Another request with the same stream id was sent before this one "
	"was answered, so it was closed without a response",
	"Too many requests were pending in this conversation, so this one "
	"was closed without waiting for its response",
	"Packet loss while capturing the message",
	"Frame body too large to decode: only its header was read",
	"Compressed frame body could not be decompressed",
	"Compressed frame body of an unknown compression: not decoded",
	"Frame body is malformed: the fields after the error are missing",
	"Segment header CRC24 mismatch: bytes skipped",
	"Segment payload CRC32 mismatch",
	"Message incomplete at end of stream",
	"Request body too large to keep whole: fields near its end are missing",
	"Bytes that are not CQL frames were skipped before this message",
	"Segment framing broken: an envelope ends inside a self-contained segment",
};
#define CQL_N_COUNT (sizeof(cql_notes) / sizeof(cql_notes[0]))

/* ---- options ---- */

/* The options of the "cassandra" entry (pb-proto-cassandra(7)). */
struct cql_conf {
	int send_request, send_response;  /* own defaults: true */
	int send_request_header, send_response_header;
	int compressor;                   /* CQL_C_NONE (guess), _LZ4, _SNAPPY */
	uint32_t ignored;                 /* bit per opcode */
};

static void cql_conf_init(void *v)
{
	struct cql_conf *cf = v;

	/* Packetbeat's defaults for cassandra differ from other protocols:
	 * everything is sent */
	memset(cf, 0, sizeof(*cf));
	cf->send_request = cf->send_response = 1;
	cf->send_request_header = cf->send_response_header = 1;
}

static int cql_op_by_name(const char *s)
{
	char up[32];
	size_t n, i, b = 0;

	if (!s)
		return -1;
	/* Packetbeat trims and upper-cases the names */
	while (s[b] == ' ' || s[b] == '\t')
		b++;
	n = strlen(s + b);
	while (n > 0 && (s[b + n - 1] == ' ' || s[b + n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(up))
		return -1;
	for (i = 0; i < n; i++) {
		char ch = s[b + i];

		up[i] = (char)(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
	}
	up[n] = '\0';
	for (i = 0; i <= CQL_OP_MAX; i++)
		if (cql_ops[i] && strcmp(cql_ops[i], up) == 0)
			return (int)i;
	return -1;
}

static int cql_conf_load(void *v, struct pb_conf *c, const char *prefix)
{
	struct cql_conf *cf = v;
	const struct pb_conf_node *n, *k;
	const char *comp = NULL;
	char p[256];

#define CQL_KEY(x) (snprintf(p, sizeof(p), "%s.%s", prefix, x), p)
	/* send_request and send_response are read here too: the engine's
	 * defaults (false) are not cassandra's (true) */
	if (pb_conf_bool(c, CQL_KEY("send_request"), &cf->send_request) < 0 ||
	    pb_conf_bool(c, CQL_KEY("send_response"), &cf->send_response) < 0 ||
	    pb_conf_bool(c, CQL_KEY("send_request_header"), &cf->send_request_header) < 0 ||
	    pb_conf_bool(c, CQL_KEY("send_response_header"), &cf->send_response_header) < 0 ||
	    pb_conf_str(c, CQL_KEY("compressor"), &comp) < 0)
		return -1;
	if (comp) {
		if (!*comp)
			cf->compressor = CQL_C_NONE;
		else if (strcmp(comp, "snappy") == 0)
			cf->compressor = CQL_C_SNAPPY;
		else if (strcmp(comp, "lz4") == 0)
			cf->compressor = CQL_C_LZ4;
		else
			return pb_conf_fail(c, CQL_KEY("compressor"),
					    "expected \"\", \"snappy\" or \"lz4\"");
	}
	n = pb_conf_get(c, CQL_KEY("ignored_ops"));
	if (n) {
		if (n->kind == PB_CONF_SCALAR) {
			int op;

			if (!n->quoted && (!n->value || !*n->value))
				return 0;
			op = cql_op_by_name(n->value);
			if (op < 0)
				return pb_conf_fail(c, p, "unknown frame op");
			cf->ignored |= 1u << op;
		} else if (n->kind == PB_CONF_SEQ) {
			for (k = n->child; k; k = k->next) {
				int op = k->kind == PB_CONF_SCALAR ? cql_op_by_name(k->value) : -1;

				if (op < 0)
					return pb_conf_fail(c, p, "unknown frame op (expected ERROR, "
							    "STARTUP, ..., AUTH_SUCCESS)");
				cf->ignored |= 1u << op;
			}
		} else {
			return pb_conf_fail(c, p, "expected a list of frame ops");
		}
	}
#undef CQL_KEY
	return 0;
}

static const struct cql_conf cql_conf_default = {
	1, 1, 1, 1, CQL_C_NONE, 0,
};

static const struct cql_conf *cql_cf(const struct pb_txn_conn *c)
{
	return c->conf ? c->conf : &cql_conf_default;
}

/* ---- state ---- */

/* One frame (or v5 envelope), whole. */
struct cql_msg {
	uint8_t dir;                 /* the direction that sent it */
	uint8_t version;             /* the version byte, direction bit too */
	uint8_t flags, opcode;
	uint8_t ignored;             /* its opcode is in ignored_ops */
	uint8_t decoded;             /* body holds the (decompressed) body */
	int16_t stream;
	uint32_t length;             /* the header's body length */
	uint64_t size;               /* bytes on the wire: header and body */
	int64_t start_ns, end_ns;
	uint64_t first_pkt, last_pkt;
	uint8_t *body;               /* owned, body_len bytes (may be cut) */
	size_t body_len;
	uint32_t notes;              /* CQL_N_* */
};

/* modes of a direction */
enum {
	CQL_M_NEW = 0,      /* nothing read yet */
	CQL_M_FRAMES,       /* frames, one after another */
	CQL_M_RESYNC,       /* looking for the next frame header */
	CQL_M_SEGMENTS,     /* v5 segments around envelopes */
	CQL_M_SEG_RESYNC,   /* looking for the next segment header */
};

/* roles of a direction, learnt from the direction bit */
enum { CQL_R_UNKNOWN, CQL_R_CLIENT, CQL_R_SERVER };

struct cql_dir {
	uint8_t mode, role;
	uint32_t pend_notes;         /* for the next message of this side */
	uint64_t skip;               /* body bytes of a too-large frame left */
	struct cql_msg *skipping;    /* that frame, finished when skipped */
	/* v5: envelope bytes unwrapped from segments, and the time of the
	 * segment the first of them came in */
	struct pb_buf env;
	int64_t env_ns;
	uint64_t env_pkt;
	uint32_t seg_notes;          /* CRC notes for the envelopes ending in
				      * the segment being read */
};

struct cql_slot {
	struct cql_msg *m;
};

struct cql_prep {
	uint8_t id[CQL_MAX_ID];
	uint8_t id_len;
	char *text;                  /* NUL-terminated, capped */
};

struct cql_state {
	struct cql_dir d[2];
	struct pb_txn_queue q;       /* requests awaiting their response */
	int q_init;
	uint8_t comp;                /* CQL_C_* from STARTUP */
	uint8_t v5;                  /* a v5 STARTUP was seen */
	struct cql_prep *prep;       /* CQL_MAX_PREPARED, or NULL */
	unsigned n_prep, next_prep;
};

static struct cql_state *cql_s(struct pb_txn_conn *c)
{
	return c->state;
}

static struct cql_dir *cql_d(struct pb_txn_conn *c, int dir)
{
	return &cql_s(c)->d[dir & 1];
}

static void cql_msg_free(struct cql_msg *m)
{
	if (m) {
		free(m->body);
		free(m);
	}
}

static void cql_error(struct pb_txn_conn *c)
{
	if (c->st)
		c->st->parse_errors++;
}

/* ---- checksums of v5 segments ---- */

static uint32_t cql_crc24(const uint8_t *p, size_t n)
{
	uint32_t crc = 0x875060;
	size_t i;
	int b;

	for (i = 0; i < n; i++) {
		crc ^= (uint32_t)p[i] << 16;
		for (b = 0; b < 8; b++) {
			crc <<= 1;
			if (crc & 0x1000000)
				crc ^= 0x1974F0B;
		}
	}
	return crc & 0xFFFFFF;
}

static uint32_t cql_crc32(const uint8_t *p, size_t n)
{
	static const uint8_t salt[4] = { 0xFA, 0x2D, 0x55, 0xCA };
	uLong crc = crc32(0L, Z_NULL, 0);

	crc = crc32(crc, salt, 4);
	/* a payload is at most 128 KiB: it fits zlib's uInt */
	crc = crc32(crc, p, (uInt)n);
	return (uint32_t)crc;
}

/* ---- names of numbers ---- */

static const char *cql_op_name(unsigned op, char *buf, size_t cap)
{
	if (op <= CQL_OP_MAX && cql_ops[op])
		return cql_ops[op];
	snprintf(buf, cap, "UNKNOWN_OP_%u", op);
	return buf;
}

/* Header flags: Packetbeat's names for one flag ("Default" for none);
 * several are joined with '|' (Packetbeat writes UnknownFlag_N). */
static const char *cql_flags_name(unsigned f, char *buf, size_t cap)
{
	static const char *const names[] = {
		"Compress", "Tracing", "CustomPayload", "Warning", "Beta",
	};
	size_t k = 0;
	unsigned i;

	if (f == 0)
		return "Default";
	if (f & ~0x1Fu) {
		snprintf(buf, cap, "UnknownFlag_%u", f);
		return buf;
	}
	buf[0] = '\0';
	for (i = 0; i < 5; i++)
		if (f & (1u << i))
			k += (size_t)snprintf(buf + k, cap - k, "%s%s", k ? "|" : "", names[i]);
	return buf;
}

/* Rows metadata flags, as Packetbeat names them (FLAG_N otherwise). */
static const char *cql_rflags_name(uint32_t f, char *buf, size_t cap)
{
	static const char *const names[] = {
		"GlobalTableSpec", "HasMorePages", "NoMetaData", "MetadataChanged",
	};
	size_t k = 0;
	unsigned i;

	if (f == 0 || (f & ~0xFu)) {
		snprintf(buf, cap, "FLAG_%u", (unsigned)f);
		return buf;
	}
	buf[0] = '\0';
	for (i = 0; i < 4; i++)
		if (f & (1u << i))
			k += (size_t)snprintf(buf + k, cap - k, "%s%s", k ? "|" : "", names[i]);
	return buf;
}

static const char *cql_cons_name(unsigned v, char *buf, size_t cap)
{
	static const char *const names[] = {
		"ANY", "ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM",
		"EACH_QUORUM", "SERIAL", "LOCAL_SERIAL", "LOCAL_ONE",
	};

	if (v < sizeof(names) / sizeof(names[0]))
		return names[v];
	snprintf(buf, cap, "UNKNOWN_CONS_0x%x", v);
	return buf;
}

struct cql_code {
	uint32_t code;
	const char *name;
};

/* error codes (spec section 9) and Packetbeat's names for them */
static const struct cql_code cql_errs[] = {
	{ 0x0000, "errServer" }, { 0x000A, "errProtocol" },
	{ 0x0100, "errCredentials" }, { 0x1000, "errUnavailable" },
	{ 0x1001, "errOverloaded" }, { 0x1002, "errBootstrapping" },
	{ 0x1003, "errTruncate" }, { 0x1100, "errWriteTimeout" },
	{ 0x1200, "errReadTimeout" }, { 0x1300, "errReadFailure" },
	{ 0x1400, "errFunctionFailure" }, { 0x1500, "errWriteFailure" },
	{ 0x2000, "errSyntax" }, { 0x2100, "errUnauthorized" },
	{ 0x2200, "errInvalid" }, { 0x2300, "errConfig" },
	{ 0x2400, "errAlreadyExists" }, { 0x2500, "errUnprepared" },
};

static const char *cql_err_name(uint32_t code)
{
	size_t i;

	for (i = 0; i < sizeof(cql_errs) / sizeof(cql_errs[0]); i++)
		if (cql_errs[i].code == code)
			return cql_errs[i].name;
	return "ErrUnknown";
}

/* ---- reading the notations (spec section 3) ---- */

/* [string]: a [short] n and n bytes */
static const uint8_t *cql_string(struct pb_cur *c, size_t *n)
{
	*n = pb_cur_be16(c);
	return pb_cur_bytes(c, *n);
}

/* [long string]: an [int] n and n bytes */
static const uint8_t *cql_long_string(struct pb_cur *c, size_t *n)
{
	int32_t len = (int32_t)pb_cur_be32(c);

	if (len < 0) {
		pb_cur_invalid(c);
		*n = 0;
		return NULL;
	}
	*n = (size_t)len;
	return pb_cur_bytes(c, *n);
}

/* [bytes]: an [int] n and n bytes; n < 0 is null (*null set) */
static const uint8_t *cql_bytes(struct pb_cur *c, size_t *n, int *null)
{
	int32_t len = (int32_t)pb_cur_be32(c);

	*n = 0;
	*null = len < 0;
	if (len < 0)
		return NULL;
	*n = (size_t)len;
	return pb_cur_bytes(c, *n);
}

/* [value]: like [bytes], -1 null, -2 not set, below that invalid */
static void cql_value(struct pb_cur *c)
{
	int32_t len = (int32_t)pb_cur_be32(c);

	if (len < -2)
		pb_cur_invalid(c);
	else if (len > 0)
		pb_cur_skip(c, (size_t)len);
}

/* [short bytes] */
static const uint8_t *cql_short_bytes(struct pb_cur *c, size_t *n)
{
	*n = pb_cur_be16(c);
	return pb_cur_bytes(c, *n);
}

/* ---- writing values ---- */

static void cql_w_str(struct pb_json *j, const uint8_t *p, size_t n)
{
	pb_json_str(j, p ? (const void *)p : "", p ? n : 0);
}

static void cql_w_hex(struct pb_json *j, const uint8_t *p, size_t n, int upper)
{
	const char *dg = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	struct pb_buf b;
	size_t i;

	pb_buf_init(&b, 2 * n + 16);
	for (i = 0; i < n; i++) {
		pb_buf_addc(&b, dg[p[i] >> 4]);
		pb_buf_addc(&b, dg[p[i] & 15]);
	}
	pb_json_ascii(j, b.data ? b.data : "", b.data ? b.len : 0);
	pb_buf_release(&b);
}

/* A prepared id: as a UUID when it has 16 bytes (the MD5 Cassandra uses;
 * Packetbeat's form), else in hex. */
static void cql_w_id(struct pb_json *j, const uint8_t *p, size_t n)
{
	char s[40];
	size_t i, k = 0;

	if (n != 16) {
		cql_w_hex(j, p, n, 0);
		return;
	}
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			s[k++] = '-';
		s[k++] = "0123456789abcdef"[p[i] >> 4];
		s[k++] = "0123456789abcdef"[p[i] & 15];
	}
	pb_json_ascii(j, s, k);
}

/* Bytes as Go's %q quotes them (Packetbeat's form for SASL tokens). */
static void cql_w_goquote(struct pb_json *j, const uint8_t *p, size_t n)
{
	struct pb_buf b;
	size_t i;

	pb_buf_init(&b, 4 * n + 16);
	pb_buf_addc(&b, '"');
	for (i = 0; i < n; i++) {
		uint8_t ch = p[i];

		switch (ch) {
		case '"': pb_buf_adds(&b, "\\\""); break;
		case '\\': pb_buf_adds(&b, "\\\\"); break;
		case '\a': pb_buf_adds(&b, "\\a"); break;
		case '\b': pb_buf_adds(&b, "\\b"); break;
		case '\f': pb_buf_adds(&b, "\\f"); break;
		case '\n': pb_buf_adds(&b, "\\n"); break;
		case '\r': pb_buf_adds(&b, "\\r"); break;
		case '\t': pb_buf_adds(&b, "\\t"); break;
		case '\v': pb_buf_adds(&b, "\\v"); break;
		default:
			if (ch >= 0x20 && ch < 0x7F)
				pb_buf_addc(&b, (char)ch);
			else
				pb_buf_addf(&b, "\\x%02x", ch);
		}
	}
	pb_buf_addc(&b, '"');
	pb_json_str(j, b.data ? b.data : "", b.data ? b.len : 0);
	pb_buf_release(&b);
}

static void cql_w_uuid(struct pb_json *j, const uint8_t *p)
{
	cql_w_id(j, p, 16);
}

/* [string list] as an array (at most CQL_MAX_LIST items listed) */
static void cql_w_string_list(struct pb_json *j, struct pb_cur *c)
{
	unsigned n = pb_cur_be16(c), i;

	pb_json_arr(j);
	for (i = 0; i < n && pb_cur_ok(c); i++) {
		size_t len;
		const uint8_t *s = cql_string(c, &len);

		if (s && i < CQL_MAX_LIST)
			cql_w_str(j, s, len);
	}
	pb_json_arr_end(j);
}

/* [inet]: an address and a port, as "host" and "port" */
static void cql_w_inet(struct pb_json *j, struct pb_cur *c)
{
	unsigned len = pb_cur_u8(c);
	const uint8_t *a;
	char s[64];
	int32_t port;

	if (len != 4 && len != 16) {
		pb_cur_invalid(c);
		return;
	}
	a = pb_cur_bytes(c, len);
	port = (int32_t)pb_cur_be32(c);
	if (!a || !pb_cur_ok(c))
		return;
	if (len == 4) {
		snprintf(s, sizeof(s), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	} else {
		/* RFC 5952: lower case, the longest run of zero groups as :: */
		unsigned g[8], i, best = 8, blen = 0, k;
		size_t o = 0;

		for (i = 0; i < 8; i++)
			g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		for (i = 0; i < 8; i++) {
			unsigned r = 0;

			while (i + r < 8 && g[i + r] == 0)
				r++;
			if (r > blen && r >= 2) {
				best = i;
				blen = r;
			}
			if (r)
				i += r - 1;
		}
		for (k = 0; k < 8; k++) {
			if (k == best) {
				o += (size_t)snprintf(s + o, sizeof(s) - o, "::");
				k += blen - 1;
				continue;
			}
			o += (size_t)snprintf(s + o, sizeof(s) - o, "%s%x",
					      (k && k != best + blen) ? ":" : "", g[k]);
		}
		/* an IPv4-mapped address reads like Go's: the IPv4 form */
		if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
			snprintf(s, sizeof(s), "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
	}
	pb_json_key(j, "host");
	pb_json_cstr(j, s);
	pb_json_key(j, "port");
	pb_json_i64(j, port);
}

/* ---- reading a body into JSON ---- */

/* What one event's cassandra object is built from, and what its
 * building learnt for the prepared-statement cache. */
struct cql_out {
	struct pb_txn_conn *c;
	const struct cql_conf *cf;
	struct pb_buf obj;           /* the cassandra object, as JSON */
	struct pb_json j;
	int bad_rq, bad_rs;          /* a body could not be read whole */
	const uint8_t *prep_text;    /* PREPARE's query text */
	size_t prep_text_len;
	const uint8_t *prep_id;      /* the RESULT prepared's id */
	size_t prep_id_len;
	int is_error;                /* the response is an ERROR */
};

/* The text prepared under an id in this conversation, or NULL. */
static const char *cql_prep_find(struct pb_txn_conn *c, const uint8_t *id, size_t n)
{
	struct cql_state *s = cql_s(c);
	unsigned i;

	if (!s->prep || n == 0 || n > CQL_MAX_ID)
		return NULL;
	for (i = 0; i < s->n_prep; i++)
		if (s->prep[i].id_len == n && memcmp(s->prep[i].id, id, n) == 0)
			return s->prep[i].text;
	return NULL;
}

static void cql_prep_add(struct pb_txn_conn *c, const uint8_t *id, size_t n,
			 const uint8_t *text, size_t tn)
{
	struct cql_state *s = cql_s(c);
	struct cql_prep *e = NULL;
	unsigned i;

	if (n == 0 || n > CQL_MAX_ID)
		return;
	if (!s->prep) {
		s->prep = calloc(CQL_MAX_PREPARED, sizeof(*s->prep));
		if (!s->prep)
			return;
	}
	for (i = 0; i < s->n_prep && !e; i++)
		if (s->prep[i].id_len == n && memcmp(s->prep[i].id, id, n) == 0)
			e = &s->prep[i];
	if (!e) {
		if (s->n_prep < CQL_MAX_PREPARED) {
			e = &s->prep[s->n_prep++];
		} else {
			/* full: the oldest entry goes */
			e = &s->prep[s->next_prep];
			s->next_prep = (s->next_prep + 1) % CQL_MAX_PREPARED;
		}
	}
	free(e->text);
	if (tn > CQL_MAX_PREP_TEXT)
		tn = CQL_MAX_PREP_TEXT;
	e->text = malloc(tn + 1);
	if (!e->text) {
		e->id_len = 0;
		return;
	}
	memcpy(e->text, text, tn);
	e->text[tn] = '\0';
	memcpy(e->id, id, n);
	e->id_len = (uint8_t)n;
}

/* A column type ([option]), skipped; nested types recurse. */
static void cql_type(struct pb_cur *c, int depth)
{
	unsigned id, n, i;
	size_t len;

	if (depth > CQL_MAX_DEPTH) {
		pb_cur_invalid(c);
		return;
	}
	id = pb_cur_be16(c);
	switch (id) {
	case 0x0000:                 /* custom: a Java class name */
		cql_string(c, &len);
		break;
	case 0x0020:                 /* list */
	case 0x0022:                 /* set */
		cql_type(c, depth + 1);
		break;
	case 0x0021:                 /* map */
		cql_type(c, depth + 1);
		cql_type(c, depth + 1);
		break;
	case 0x0030:                 /* UDT: keyspace, name, fields */
		cql_string(c, &len);
		cql_string(c, &len);
		n = pb_cur_be16(c);
		for (i = 0; i < n && pb_cur_ok(c); i++) {
			cql_string(c, &len);
			cql_type(c, depth + 1);
		}
		break;
	case 0x0031:                 /* tuple */
		n = pb_cur_be16(c);
		for (i = 0; i < n && pb_cur_ok(c); i++)
			cql_type(c, depth + 1);
		break;
	default:                     /* a native type: nothing follows */
		break;
	}
}

/* Metadata of rows (prepared = 0) or of a prepared statement's bound
 * variables (prepared = 1, with primary key indexes in v4+), written as
 * Packetbeat's meta object: flags, col_count, pkey_columns, paging_state,
 * keyspace, table. */
static void cql_w_meta(struct cql_out *o, struct pb_cur *c, int v, int prepared)
{
	struct pb_json *j = &o->j;
	uint32_t flags = pb_cur_be32(c);
	int32_t ncols = (int32_t)pb_cur_be32(c);
	int32_t i;
	char buf[32];

	if (!pb_cur_ok(c))
		return;
	pb_json_key(j, "flags");
	pb_json_cstr(j, cql_rflags_name(flags, buf, sizeof(buf)));
	pb_json_key(j, "col_count");
	pb_json_i64(j, ncols);
	if (ncols < 0) {
		pb_cur_invalid(c);
		return;
	}
	if (prepared && v >= 4) {
		int32_t npk = (int32_t)pb_cur_be32(c);

		if (npk < 0) {
			pb_cur_invalid(c);
			return;
		}
		pb_json_key(j, "pkey_columns");
		pb_json_arr(j);
		for (i = 0; i < npk && pb_cur_ok(c); i++) {
			unsigned k = pb_cur_be16(c);

			if (pb_cur_ok(c) && i < CQL_MAX_LIST)
				pb_json_u64(j, k);
		}
		pb_json_arr_end(j);
	}
	if (!prepared && (flags & 0x02)) {
		size_t n;
		int null;
		const uint8_t *ps = cql_bytes(c, &n, &null);

		if (pb_cur_ok(c)) {
			pb_json_key(j, "paging_state");
			cql_w_hex(j, ps, n, 1);
		}
	}
	if (!prepared && v >= 5 && (flags & 0x08)) {
		size_t n;
		const uint8_t *id = cql_short_bytes(c, &n);

		if (pb_cur_ok(c)) {
			pb_json_key(j, "new_metadata_id");
			cql_w_hex(j, id, n, 0);
		}
	}
	if (!prepared && (flags & 0x04))
		return;              /* no_metadata: no column specs */
	if (flags & 0x01) {
		size_t kn, tn;
		const uint8_t *ks = cql_string(c, &kn), *tb = cql_string(c, &tn);

		if (!pb_cur_ok(c))
			return;
		pb_json_key(j, "keyspace");
		cql_w_str(j, ks, kn);
		pb_json_key(j, "table");
		cql_w_str(j, tb, tn);
	}
	/* the column specs, skipped to reach what follows */
	for (i = 0; i < ncols && pb_cur_ok(c); i++) {
		size_t n;

		if (!(flags & 0x01)) {
			cql_string(c, &n);
			cql_string(c, &n);
		}
		cql_string(c, &n);
		cql_type(c, 0);
	}
}

/* Schema change (RESULT and EVENT): change, target and its names. */
static void cql_w_schema(struct cql_out *o, struct pb_cur *c, int v)
{
	struct pb_json *j = &o->j;
	size_t n, tn;
	const uint8_t *s, *t;

	s = cql_string(c, &n);
	if (!pb_cur_ok(c))
		return;
	pb_json_key(j, "change");
	cql_w_str(j, s, n);
	if (v <= 2) {
		/* v1, v2: keyspace and table ("" for a keyspace change) */
		s = cql_string(c, &n);
		if (!pb_cur_ok(c))
			return;
		pb_json_key(j, "keyspace");
		cql_w_str(j, s, n);
		s = cql_string(c, &n);
		if (!pb_cur_ok(c))
			return;
		pb_json_key(j, "table");
		cql_w_str(j, s, n);
		return;
	}
	t = cql_string(c, &tn);
	if (!pb_cur_ok(c))
		return;
	pb_json_key(j, "target");
	cql_w_str(j, t, tn);
	s = cql_string(c, &n);
	if (!pb_cur_ok(c))
		return;
	pb_json_key(j, "keyspace");
	cql_w_str(j, s, n);
	if (tn == 8 && memcmp(t, "KEYSPACE", 8) == 0)
		return;
	if ((tn == 5 && memcmp(t, "TABLE", 5) == 0) || (tn == 4 && memcmp(t, "TYPE", 4) == 0)) {
		s = cql_string(c, &n);
		if (!pb_cur_ok(c))
			return;
		pb_json_key(j, "object");
		cql_w_str(j, s, n);
		return;
	}
	if ((tn == 8 && memcmp(t, "FUNCTION", 8) == 0) ||
	    (tn == 9 && memcmp(t, "AGGREGATE", 9) == 0)) {
		s = cql_string(c, &n);
		if (!pb_cur_ok(c))
			return;
		pb_json_key(j, "name");
		cql_w_str(j, s, n);
		pb_json_key(j, "args");
		cql_w_string_list(j, c);
	}
}

/* Query parameters of QUERY and EXECUTE (v2+): consistency, flags and
 * what they announce. */
static void cql_w_params(struct cql_out *o, struct pb_cur *c, int v)
{
	struct pb_json *j = &o->j;
	unsigned cons = pb_cur_be16(c);
	uint32_t flags;
	char buf[32];

	if (!pb_cur_ok(c))
		return;
	pb_json_key(j, "consistency");
	pb_json_cstr(j, cql_cons_name(cons, buf, sizeof(buf)));
	if (v <= 1)
		return;
	flags = v >= 5 ? pb_cur_be32(c) : pb_cur_u8(c);
	if (!pb_cur_ok(c))
		return;
	if (flags & 0x01) {
		unsigned n = pb_cur_be16(c), i;

		for (i = 0; i < n && pb_cur_ok(c); i++) {
			size_t len;

			if (flags & 0x40)    /* values with names */
				cql_string(c, &len);
			cql_value(c);
		}
		if (!pb_cur_ok(c))
			return;
		pb_json_key(j, "values");
		pb_json_u64(j, n);
	}
	if (flags & 0x04) {
		int32_t ps = (int32_t)pb_cur_be32(c);

		if (!pb_cur_ok(c))
			return;
		pb_json_key(j, "page_size");
		pb_json_i64(j, ps);
	}
	if (flags & 0x08) {
		size_t n;
		int null;
		const uint8_t *p = cql_bytes(c, &n, &null);

		if (!pb_cur_ok(c))
			return;
		pb_json_key(j, "paging_state");
		cql_w_hex(j, p, n, 1);
	}
	if (flags & 0x10) {
		unsigned sc = pb_cur_be16(c);

		if (!pb_cur_ok(c))
			return;
		pb_json_key(j, "serial_consistency");
		pb_json_cstr(j, cql_cons_name(sc, buf, sizeof(buf)));
	}
	if (flags & 0x20) {
		int64_t ts = (int64_t)pb_cur_be64(c);

		if (!pb_cur_ok(c))
			return;
		pb_json_key(j, "timestamp");
		pb_json_i64(j, ts);
	}
	if (v >= 5 && (flags & 0x80)) {
		size_t n;
		const uint8_t *ks = cql_string(c, &n);

		if (!pb_cur_ok(c))
			return;
		pb_json_key(j, "keyspace");
		cql_w_str(j, ks, n);
	}
}

/* The query text an EXECUTE or a BATCH statement runs, when its PREPARE
 * was seen in this conversation. */
static void cql_w_linked(struct cql_out *o, const uint8_t *id, size_t n)
{
	const char *text = cql_prep_find(o->c, id, n);

	if (text) {
		pb_json_key(&o->j, "query");
		pb_json_cstr(&o->j, text);
	}
}

static const char *const cql_batch_types[] = { "LOGGED", "UNLOGGED", "COUNTER" };

static void cql_w_batch(struct cql_out *o, struct pb_cur *c, int v)
{
	struct pb_json *j = &o->j;
	unsigned type = pb_cur_u8(c), n = pb_cur_be16(c), i;
	char buf[32];

	if (!pb_cur_ok(c))
		return;
	pb_json_key(j, "batch");
	pb_json_obj(j);
	pb_json_key(j, "type");
	if (type < 3) {
		pb_json_cstr(j, cql_batch_types[type]);
	} else {
		snprintf(buf, sizeof(buf), "UNKNOWN_%u", type);
		pb_json_cstr(j, buf);
	}
	pb_json_key(j, "count");
	pb_json_u64(j, n);
	pb_json_key(j, "statements");
	pb_json_arr(j);
	for (i = 0; i < n && pb_cur_ok(c); i++) {
		unsigned kind = pb_cur_u8(c), nv, k;
		const uint8_t *s;
		size_t len;

		if (kind == 0) {
			s = cql_long_string(c, &len);
		} else if (kind == 1) {
			s = cql_short_bytes(c, &len);
		} else {
			pb_cur_invalid(c);
			break;
		}
		nv = pb_cur_be16(c);
		for (k = 0; k < nv && pb_cur_ok(c); k++)
			cql_value(c);
		if (!pb_cur_ok(c) || i >= CQL_MAX_LIST)
			continue;
		pb_json_obj(j);
		if (kind == 0) {
			pb_json_key(j, "query");
			cql_w_str(j, s, len);
		} else {
			pb_json_key(j, "prepared_id");
			cql_w_id(j, s, len);
			cql_w_linked(o, s, len);
		}
		pb_json_key(j, "values");
		pb_json_u64(j, nv);
		pb_json_obj_end(j);
	}
	pb_json_arr_end(j);
	pb_json_obj_end(j);
	if (!pb_cur_ok(c))
		return;
	(void)v;
	{
		unsigned cons = pb_cur_be16(c);

		if (pb_cur_ok(c)) {
			pb_json_key(j, "consistency");
			pb_json_cstr(j, cql_cons_name(cons, buf, sizeof(buf)));
		}
	}
}

/* A key from the wire, escaped as a string is. */
static void cql_w_key(struct pb_json *j, const uint8_t *k, size_t n)
{
	pb_json_str(j, k, n);
	pb_buf_addc(j->b, ':');
	j->comma = 0;
}

/* [string map] as an object; a key seen before is not written again */
static void cql_w_string_map(struct pb_json *j, struct pb_cur *c, int multi)
{
	const uint8_t *keys[CQL_MAX_LIST];
	size_t klen[CQL_MAX_LIST];
	unsigned n = pb_cur_be16(c), i, nk = 0, k;

	pb_json_obj(j);
	for (i = 0; i < n && pb_cur_ok(c); i++) {
		size_t len, vl;
		const uint8_t *key = cql_string(c, &len), *val = NULL;
		int dup = 0;
		struct pb_cur save;

		if (!pb_cur_ok(c))
			break;
		for (k = 0; k < nk && !dup; k++)
			dup = klen[k] == len && memcmp(keys[k], key, len) == 0;
		if (dup || nk >= CQL_MAX_LIST) {
			/* skip the value */
			if (multi) {
				unsigned m = pb_cur_be16(c), x;

				for (x = 0; x < m && pb_cur_ok(c); x++)
					cql_string(c, &vl);
			} else {
				cql_string(c, &vl);
			}
			continue;
		}
		keys[nk] = key;
		klen[nk++] = len;
		save = *c;
		if (multi) {
			/* check the list whole before writing the key */
			unsigned m = pb_cur_be16(&save), x;

			for (x = 0; x < m && pb_cur_ok(&save); x++)
				cql_string(&save, &vl);
			if (!pb_cur_ok(&save)) {
				*c = save;
				break;
			}
			cql_w_key(j, key, len);
			cql_w_string_list(j, c);
		} else {
			val = cql_string(&save, &vl);
			if (!pb_cur_ok(&save)) {
				*c = save;
				break;
			}
			*c = save;
			cql_w_key(j, key, len);
			cql_w_str(j, val, vl);
		}
	}
	pb_json_obj_end(j);
}

/* Read the flags' prefix of a body: tracing id, warnings, custom payload
 * (spec 2.2, and 4 in v5).  Writes tracing_id and warnings for a
 * response. */
static void cql_w_prefix(struct cql_out *o, struct pb_cur *c, const struct cql_msg *m,
			 int resp)
{
	struct pb_json *j = &o->j;

	if (resp && (m->flags & CQL_F_TRACING)) {
		const uint8_t *u = pb_cur_bytes(c, 16);

		if (u) {
			pb_json_key(j, "tracing_id");
			cql_w_uuid(j, u);
		}
	}
	if (resp && (m->flags & CQL_F_WARNING)) {
		struct pb_cur save = *c;
		unsigned n = pb_cur_be16(&save), i;
		size_t len;

		for (i = 0; i < n && pb_cur_ok(&save); i++)
			cql_string(&save, &len);
		if (pb_cur_ok(&save)) {
			pb_json_key(j, "warnings");
			cql_w_string_list(j, c);
		} else {
			*c = save;
		}
	}
	if (m->flags & CQL_F_CUSTOM) {
		unsigned n = pb_cur_be16(c), i;

		for (i = 0; i < n && pb_cur_ok(c); i++) {
			size_t len;
			int null;

			cql_string(c, &len);
			cql_bytes(c, &len, &null);
		}
	}
}

static void cql_w_headers(struct cql_out *o, const struct cql_msg *m)
{
	struct pb_json *j = &o->j;
	char buf[48], v[8];

	pb_json_key(j, "headers");
	pb_json_obj(j);
	pb_json_key(j, "version");
	snprintf(v, sizeof(v), "%u", m->version & 0x7Fu);
	pb_json_cstr(j, v);
	pb_json_key(j, "flags");
	pb_json_cstr(j, cql_flags_name(m->flags, buf, sizeof(buf)));
	pb_json_key(j, "stream");
	pb_json_i64(j, m->stream);
	pb_json_key(j, "op");
	pb_json_cstr(j, cql_op_name(m->opcode, buf, sizeof(buf)));
	pb_json_key(j, "length");
	pb_json_u64(j, m->length);
	pb_json_obj_end(j);
}

/* The request object: headers, then what the message says. */
static void cql_w_request(struct cql_out *o, const struct cql_msg *m)
{
	struct pb_json *j = &o->j;
	struct pb_cur c;
	int v = m->version & 0x7F;
	const uint8_t *s;
	size_t n;

	if (o->cf->send_request_header)
		cql_w_headers(o, m);
	if (!m->decoded)
		return;
	pb_cur_init(&c, m->body, m->body_len);
	cql_w_prefix(o, &c, m, 0);
	switch (m->opcode) {
	case CQL_OP_QUERY:
		if ((m->notes & CQL_N_CUT) && pb_cur_left(&c) >= 4) {
			/* a query longer than what was kept: its start */
			struct pb_cur save = c;
			int32_t len = (int32_t)pb_cur_be32(&save);

			if (len > 0 && (size_t)len > pb_cur_left(&save)) {
				pb_json_key(j, "query");
				cql_w_str(j, save.pos, pb_cur_left(&save));
				break;
			}
		}
		s = cql_long_string(&c, &n);
		if (!pb_cur_ok(&c))
			break;
		pb_json_key(j, "query");
		cql_w_str(j, s, n);
		cql_w_params(o, &c, v);
		break;
	case CQL_OP_PREPARE:
		s = cql_long_string(&c, &n);
		if (!pb_cur_ok(&c))
			break;
		pb_json_key(j, "query");
		cql_w_str(j, s, n);
		o->prep_text = s;
		o->prep_text_len = n;
		if (v >= 5) {
			uint32_t fl = pb_cur_be32(&c);

			if (pb_cur_ok(&c) && (fl & 0x01)) {
				s = cql_string(&c, &n);
				if (pb_cur_ok(&c)) {
					pb_json_key(j, "keyspace");
					cql_w_str(j, s, n);
				}
			}
		}
		break;
	case CQL_OP_EXECUTE:
		s = cql_short_bytes(&c, &n);
		if (!pb_cur_ok(&c))
			break;
		cql_w_linked(o, s, n);
		pb_json_key(j, "prepared_id");
		cql_w_id(j, s, n);
		if (v >= 5) {
			size_t rn;

			cql_short_bytes(&c, &rn);     /* result_metadata_id */
		}
		if (v == 1) {
			/* v1: values, then the consistency */
			unsigned nv = pb_cur_be16(&c), i;

			for (i = 0; i < nv && pb_cur_ok(&c); i++)
				cql_value(&c);
			if (!pb_cur_ok(&c))
				break;
			pb_json_key(j, "values");
			pb_json_u64(j, nv);
		}
		cql_w_params(o, &c, v);
		break;
	case CQL_OP_BATCH:
		cql_w_batch(o, &c, v);
		break;
	case CQL_OP_STARTUP:
		pb_json_key(j, "options");
		cql_w_string_map(j, &c, 0);
		break;
	case CQL_OP_REGISTER:
		pb_json_key(j, "events");
		cql_w_string_list(j, &c);
		break;
	default:
		/* OPTIONS has no body; AUTH_RESPONSE's token is a credential
		 * and is not written */
		break;
	}
	if (c.err == PB_CUR_INVALID || (c.err && !(m->notes & CQL_N_CUT)))
		o->bad_rq = 1;
}

static void cql_w_error(struct cql_out *o, struct pb_cur *c, int v)
{
	struct pb_json *j = &o->j;
	uint32_t code = pb_cur_be32(c);
	size_t n;
	const uint8_t *msg = cql_string(c, &n);
	char buf[32];
	int details = 0;

	if (!pb_cur_ok(c))
		return;
	o->is_error = 1;
	pb_json_key(j, "error");
	pb_json_obj(j);
	pb_json_key(j, "code");
	pb_json_u64(j, code);
	pb_json_key(j, "msg");
	cql_w_str(j, msg, n);
	pb_json_key(j, "type");
	pb_json_cstr(j, cql_err_name(code));
#define CQL_DETAILS() do { if (!details) { pb_json_key(j, "details"); \
	pb_json_obj(j); details = 1; } } while (0)
/* each reads one field and, when it was there, writes it */
#define CQL_CONS(key) do { unsigned x_ = pb_cur_be16(c); \
	if (pb_cur_ok(c)) { CQL_DETAILS(); pb_json_key(j, key); \
		pb_json_cstr(j, cql_cons_name(x_, buf, sizeof(buf))); } } while (0)
#define CQL_INT(key) do { int32_t x_ = (int32_t)pb_cur_be32(c); \
	if (pb_cur_ok(c)) { CQL_DETAILS(); pb_json_key(j, key); \
		pb_json_i64(j, x_); } } while (0)
#define CQL_STR(key) do { size_t l_; const uint8_t *s_ = cql_string(c, &l_); \
	if (pb_cur_ok(c)) { CQL_DETAILS(); pb_json_key(j, key); \
		cql_w_str(j, s_, l_); } } while (0)
#define CQL_BOOL(key) do { unsigned x_ = pb_cur_u8(c); \
	if (pb_cur_ok(c)) { CQL_DETAILS(); pb_json_key(j, key); \
		pb_json_bool(j, x_ != 0); } } while (0)
	switch (code) {
	case 0x1000:                 /* unavailable */
		CQL_CONS("read_consistency");
		CQL_INT("required");
		CQL_INT("alive");
		break;
	case 0x1100:                 /* write timeout */
		CQL_CONS("read_consistency");
		CQL_INT("received");
		CQL_INT("blockfor");
		CQL_STR("write_type");
		break;
	case 0x1200:                 /* read timeout */
		CQL_CONS("read_consistency");
		CQL_INT("received");
		CQL_INT("blockfor");
		CQL_BOOL("data_present");
		break;
	case 0x1300:                 /* read failure */
	case 0x1500:                 /* write failure */
		CQL_CONS("read_consistency");
		CQL_INT("received");
		CQL_INT("blockfor");
		if (v >= 5) {
			/* a reason map: <n> (<inetaddr> <short code>)* */
			int32_t k = (int32_t)pb_cur_be32(c), i;

			for (i = 0; i < k && pb_cur_ok(c); i++) {
				unsigned al = pb_cur_u8(c);

				if (al != 4 && al != 16)
					pb_cur_invalid(c);
				pb_cur_skip(c, al);
				pb_cur_be16(c);
			}
			if (!pb_cur_ok(c) || k < 0)
				break;
			CQL_DETAILS();
			pb_json_key(j, "num_failures");
			pb_json_i64(j, k);
		} else {
			CQL_INT("num_failures");
		}
		if (code == 0x1300)
			CQL_BOOL("data_present");
		else
			CQL_STR("write_type");
		break;
	case 0x1400:                 /* function failure */
		CQL_STR("keyspace");
		CQL_STR("function");
		if (pb_cur_ok(c)) {
			struct pb_cur save = *c;
			unsigned k = pb_cur_be16(&save), i;
			size_t l;

			for (i = 0; i < k && pb_cur_ok(&save); i++)
				cql_string(&save, &l);
			if (pb_cur_ok(&save)) {
				CQL_DETAILS();
				pb_json_key(j, "arg_types");
				cql_w_string_list(j, c);
			} else {
				*c = save;
			}
		}
		break;
	case 0x2400:                 /* already exists */
		CQL_STR("keyspace");
		CQL_STR("table");
		break;
	case 0x2500: {               /* unprepared */
		size_t l;
		const uint8_t *id = cql_short_bytes(c, &l);

		if (!pb_cur_ok(c))
			break;
		CQL_DETAILS();
		pb_json_key(j, "stmt_id");
		cql_w_id(j, id, l);
		break;
	}
	default:
		break;
	}
#undef CQL_DETAILS
#undef CQL_CONS
#undef CQL_INT
#undef CQL_STR
#undef CQL_BOOL
	if (details)
		pb_json_obj_end(j);
	pb_json_obj_end(j);
}

static void cql_w_result(struct cql_out *o, struct pb_cur *c, int v)
{
	struct pb_json *j = &o->j;
	int32_t kind = (int32_t)pb_cur_be32(c);
	const uint8_t *s;
	size_t n;

	if (!pb_cur_ok(c))
		return;
	pb_json_key(j, "result");
	pb_json_obj(j);
	switch (kind) {
	case 1:
		pb_json_key(j, "type");
		pb_json_cstr(j, "void");
		break;
	case 2:
		pb_json_key(j, "type");
		pb_json_cstr(j, "rows");
		pb_json_key(j, "rows");
		pb_json_obj(j);
		pb_json_key(j, "meta");
		pb_json_obj(j);
		cql_w_meta(o, c, v, 0);
		pb_json_obj_end(j);
		{
			int32_t rows = (int32_t)pb_cur_be32(c);

			if (pb_cur_ok(c)) {
				pb_json_key(j, "num_rows");
				pb_json_i64(j, rows);
			}
		}
		pb_json_obj_end(j);
		break;
	case 3:
		pb_json_key(j, "type");
		pb_json_cstr(j, "set_keyspace");
		s = cql_string(c, &n);
		if (pb_cur_ok(c)) {
			pb_json_key(j, "keyspace");
			cql_w_str(j, s, n);
		}
		break;
	case 4:
		pb_json_key(j, "type");
		pb_json_cstr(j, "prepared");
		s = cql_short_bytes(c, &n);
		if (!pb_cur_ok(c))
			break;
		o->prep_id = s;
		o->prep_id_len = n;
		pb_json_key(j, "prepared");
		pb_json_obj(j);
		pb_json_key(j, "prepared_id");
		cql_w_id(j, s, n);
		if (v >= 5) {
			s = cql_short_bytes(c, &n);
			if (pb_cur_ok(c)) {
				pb_json_key(j, "result_metadata_id");
				cql_w_hex(j, s, n, 0);
			}
		}
		if (pb_cur_ok(c)) {
			pb_json_key(j, "req_meta");
			pb_json_obj(j);
			cql_w_meta(o, c, v, 1);
			pb_json_obj_end(j);
		}
		if (v >= 2 && pb_cur_ok(c)) {
			pb_json_key(j, "resp_meta");
			pb_json_obj(j);
			cql_w_meta(o, c, v, 0);
			pb_json_obj_end(j);
		}
		pb_json_obj_end(j);
		break;
	case 5:
		pb_json_key(j, "type");
		pb_json_cstr(j, "schemaChanged");
		pb_json_key(j, "schema_change");
		pb_json_obj(j);
		cql_w_schema(o, c, v);
		pb_json_obj_end(j);
		break;
	default:
		pb_cur_invalid(c);
		break;
	}
	pb_json_obj_end(j);
}

static void cql_w_event(struct cql_out *o, struct pb_cur *c, int v)
{
	struct pb_json *j = &o->j;
	size_t n;
	const uint8_t *t = cql_string(c, &n);

	if (!pb_cur_ok(c))
		return;
	pb_json_key(j, "event");
	pb_json_obj(j);
	pb_json_key(j, "type");
	cql_w_str(j, t, n);
	if ((n == 15 && memcmp(t, "TOPOLOGY_CHANGE", 15) == 0) ||
	    (n == 13 && memcmp(t, "STATUS_CHANGE", 13) == 0)) {
		size_t cn;
		const uint8_t *ch = cql_string(c, &cn);

		if (pb_cur_ok(c)) {
			pb_json_key(j, "change");
			cql_w_str(j, ch, cn);
			cql_w_inet(j, c);
		}
	} else if (n == 13 && memcmp(t, "SCHEMA_CHANGE", 13) == 0) {
		pb_json_key(j, "schema_change");
		pb_json_obj(j);
		cql_w_schema(o, c, v);
		pb_json_obj_end(j);
	} else {
		pb_cur_invalid(c);
	}
	pb_json_obj_end(j);
}

/* The response object: headers, then what the message says. */
static void cql_w_response(struct cql_out *o, const struct cql_msg *m)
{
	struct pb_json *j = &o->j;
	struct pb_cur c;
	int v = m->version & 0x7F;

	if (o->cf->send_response_header)
		cql_w_headers(o, m);
	if (m->opcode == CQL_OP_ERROR)
		o->is_error = 1;
	if (!m->decoded)
		return;
	pb_cur_init(&c, m->body, m->body_len);
	cql_w_prefix(o, &c, m, 1);
	switch (m->opcode) {
	case CQL_OP_ERROR:
		cql_w_error(o, &c, v);
		break;
	case CQL_OP_RESULT:
		cql_w_result(o, &c, v);
		break;
	case CQL_OP_SUPPORTED:
		pb_json_key(j, "supported");
		cql_w_string_map(j, &c, 1);
		break;
	case CQL_OP_AUTHENTICATE: {
		size_t n;
		const uint8_t *s = cql_string(&c, &n);

		if (!pb_cur_ok(&c))
			break;
		pb_json_key(j, "authentication");
		pb_json_obj(j);
		pb_json_key(j, "class");
		cql_w_str(j, s, n);
		pb_json_obj_end(j);
		break;
	}
	case CQL_OP_AUTH_CHALLENGE:
	case CQL_OP_AUTH_SUCCESS: {
		size_t n;
		int null;
		const uint8_t *s = cql_bytes(&c, &n, &null);

		if (!pb_cur_ok(&c))
			break;
		pb_json_key(j, "authentication");
		pb_json_obj(j);
		pb_json_key(j, "data");
		cql_w_goquote(j, s, n);
		pb_json_obj_end(j);
		break;
	}
	case CQL_OP_EVENT:
		cql_w_event(o, &c, v);
		break;
	default:
		break;               /* READY: no body */
	}
	if (c.err)
		o->bad_rs = 1;
}

/* ---- bodies ---- */

/* Decompress a v4-and-earlier body with algorithm comp into *out (a
 * malloc'd buffer): 0, or -1 when it cannot be read. */
static int cql_inflate(int comp, const uint8_t *in, size_t n, uint8_t **out, size_t *olen)
{
	*out = NULL;
	*olen = 0;
	if (comp == CQL_C_LZ4) {
		/* a 4-byte big-endian uncompressed length, then an LZ4 block */
		uint32_t ulen;
		int r;

		if (n < 4)
			return -1;
		ulen = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 |
		       (uint32_t)in[2] << 8 | in[3];
		if (ulen > CQL_MAX_INFLATE || n - 4 > (size_t)INT32_MAX)
			return -1;
		*out = malloc(ulen ? ulen : 1);
		if (!*out)
			return -1;
		if (ulen == 0 && n == 4) {
			*olen = 0;
			return 0;
		}
		r = LZ4_decompress_safe((const char *)in + 4, (char *)*out, (int)(n - 4), (int)ulen);
		if (r < 0 || (uint32_t)r != ulen) {
			free(*out);
			*out = NULL;
			return -1;
		}
		*olen = ulen;
		return 0;
	}
	if (comp == CQL_C_SNAPPY) {
		size_t ulen;

		if (snappy_uncompressed_length((const char *)in, n, &ulen) != SNAPPY_OK ||
		    ulen > CQL_MAX_INFLATE)
			return -1;
		*out = malloc(ulen ? ulen : 1);
		if (!*out)
			return -1;
		if (snappy_uncompress((const char *)in, n, (char *)*out, &ulen) != SNAPPY_OK) {
			free(*out);
			*out = NULL;
			return -1;
		}
		*olen = ulen;
		return 0;
	}
	return -1;
}

/* A new message from a whole frame (hdr: the header's fields; body: n
 * bytes, or NULL when the body is too large and skipped). */
static struct cql_msg *cql_msg_new(struct pb_txn_conn *c, int dir, const uint8_t *hdr,
				   size_t hl, const uint8_t *body, size_t n)
{
	const struct cql_conf *cf = cql_cf(c);
	struct cql_state *s = cql_s(c);
	struct cql_msg *m = calloc(1, sizeof(*m));
	int v, resp;

	if (!m)
		return NULL;
	m->dir = (uint8_t)(dir & 1);
	m->version = hdr[0];
	m->flags = hdr[1];
	v = hdr[0] & 0x7F;
	resp = (hdr[0] & 0x80) != 0;
	if (hl == CQL_HDR_LEN_V2) {
		m->stream = (int8_t)hdr[2];
		m->opcode = hdr[3];
	} else {
		m->stream = (int16_t)(hdr[2] << 8 | hdr[3]);
		m->opcode = hdr[4];
	}
	m->length = (uint32_t)hdr[hl - 4] << 24 | (uint32_t)hdr[hl - 3] << 16 |
		    (uint32_t)hdr[hl - 2] << 8 | hdr[hl - 1];
	m->size = hl + (uint64_t)m->length;
	m->ignored = m->opcode <= CQL_OP_MAX && (cf->ignored & (1u << m->opcode));
	if (!body)
		return m;
	if ((m->flags & CQL_F_COMPRESS) && v <= 4) {
		/* the algorithm: STARTUP's COMPRESSION, else the compressor
		 * option, else whichever reads */
		int comp = s->comp != CQL_C_NONE ? s->comp : cf->compressor;

		if (comp == CQL_C_UNKNOWN) {
			m->notes |= CQL_N_NOCOMP;
			return m;
		}
		if (comp != CQL_C_NONE) {
			if (cql_inflate(comp, body, n, &m->body, &m->body_len) < 0) {
				m->notes |= CQL_N_INFLATE;
				return m;
			}
		} else if (cql_inflate(CQL_C_SNAPPY, body, n, &m->body, &m->body_len) < 0 &&
			   cql_inflate(CQL_C_LZ4, body, n, &m->body, &m->body_len) < 0) {
			m->notes |= CQL_N_INFLATE;
			return m;
		}
		m->decoded = 1;
		if (!resp && m->body_len > CQL_MAX_KEEP) {
			uint8_t *p = realloc(m->body, CQL_MAX_KEEP);

			if (p)
				m->body = p;
			m->body_len = CQL_MAX_KEEP;
			m->notes |= CQL_N_CUT;
		}
		return m;
	}
	/* requests wait for their response: what is kept is capped */
	if (!resp && n > CQL_MAX_KEEP) {
		n = CQL_MAX_KEEP;
		m->notes |= CQL_N_CUT;
	}
	m->body = malloc(n ? n : 1);
	if (!m->body)
		return m;
	memcpy(m->body, body, n);
	m->body_len = n;
	m->decoded = 1;
	return m;
}

/* ---- transactions ---- */

static void cql_out_release(struct cql_out *o)
{
	pb_buf_release(&o->obj);
}

static void cql_write(struct pb_json *j, const struct pb_txn *t, void *arg)
{
	struct cql_out *o = arg;

	(void)t;
	if (!o->obj.data || o->obj.len == 0)
		return;
	pb_json_key(j, "cassandra");
	pb_json_raw(j, o->obj.data, o->obj.len);
}

/* Write rq and rs (either may be NULL) as one event and free them. */
static void cql_emit(struct pb_txn_conn *c, struct cql_msg *rq, struct cql_msg *rs)
{
	const struct cql_conf *cf = cql_cf(c);
	const struct cql_msg *first = rq ? rq : rs, *last = rs ? rs : rq;
	struct cql_out o;
	struct pb_txn t;
	size_t mark;
	unsigned i;

	if (!first)
		return;
	/* ignored_ops: the transaction is not written (Packetbeat) */
	if ((rq && rq->ignored) || (rs && rs->ignored)) {
		cql_msg_free(rq);
		cql_msg_free(rs);
		return;
	}
	memset(&o, 0, sizeof(o));
	memset(&t, 0, sizeof(t));
	o.c = c;
	o.cf = cf;
	pb_buf_init(&o.obj, CQL_MAX_OBJ);
	pb_json_init(&o.j, &o.obj);
	pb_json_obj(&o.j);
	if (rq) {
		/* read even when not written: notes and the prepared cache */
		size_t before = o.obj.len;
		int comma = o.j.comma;

		pb_json_key(&o.j, "request");
		mark = o.obj.len;
		pb_json_obj(&o.j);
		cql_w_request(&o, rq);
		if (!cf->send_request || o.obj.len == mark + 1) {
			/* not sent, or nothing to say: no request object */
			o.obj.len = before;
			o.j.comma = comma;
		} else {
			pb_json_obj_end(&o.j);
		}
	}
	if (rs) {
		size_t before = o.obj.len;
		int comma = o.j.comma;

		pb_json_key(&o.j, "response");
		mark = o.obj.len;
		pb_json_obj(&o.j);
		cql_w_response(&o, rs);
		if (!cf->send_response || o.obj.len == mark + 1) {
			o.obj.len = before;
			o.j.comma = comma;
		} else {
			pb_json_obj_end(&o.j);
		}
	}
	if (!rq && rs && rs->opcode == CQL_OP_EVENT) {
		pb_json_key(&o.j, "no_request");
		pb_json_bool(&o.j, 1);
	}
	pb_json_obj_end(&o.j);
	if (o.obj.len <= 2)
		o.obj.len = 0;       /* {} : nothing to write */
	/* a statement prepared: its text, for the EXECUTEs that follow */
	if (rq && rs && rq->opcode == CQL_OP_PREPARE && o.prep_text && o.prep_id)
		cql_prep_add(c, o.prep_id, o.prep_id_len, o.prep_text, o.prep_text_len);

	t.client = rq ? rq->dir : (uint8_t)!rs->dir;
	t.has_request = rq != NULL;
	t.has_response = rs != NULL;
	/* a server push has no request by nature */
	t.single = !rq && rs && rs->opcode == CQL_OP_EVENT;
	t.start_ns = first->start_ns;
	t.first_pkt = first->first_pkt;
	t.end_ns = last->end_ns;
	t.last_pkt = last->last_pkt;
	t.request_bytes = rq ? rq->size : 0;
	t.response_bytes = rs ? rs->size : 0;
	if (t.single)
		t.status = "OK";
	else
		t.status = !rq || !rs || o.is_error ? "Error" : "OK";
	{
		uint32_t notes[2] = { rq ? rq->notes : 0, (rs ? rs->notes : 0) };

		if (o.bad_rq)
			notes[0] |= CQL_N_BAD;
		if (o.bad_rs)
			notes[1] |= CQL_N_BAD;
		if (!rs && rq && !(rq->notes & (CQL_N_DUP | CQL_N_FLOOD)))
			notes[0] |= CQL_N_UNM_RQ;
		if (!rq && rs && !t.single)
			notes[1] |= CQL_N_UNM_RS;
		for (i = 0; i < CQL_N_COUNT; i++)
			if (notes[0] & (1u << i))
				pb_txn_note(&t, cql_notes[i]);
		for (i = 0; i < CQL_N_COUNT; i++)
			if (notes[1] & (1u << i))
				pb_txn_note(&t, cql_notes[i]);
	}
	t.write = cql_write;
	t.arg = &o;
	pb_txn_emit(c, &t);
	cql_out_release(&o);
	cql_msg_free(rq);
	cql_msg_free(rs);
}

static int cql_match(const void *slot, const void *key)
{
	const struct cql_slot *sl = slot;

	return sl->m && sl->m->stream == *(const int16_t *)key;
}

static struct pb_txn_queue *cql_q(struct pb_txn_conn *c)
{
	struct cql_state *s = cql_s(c);

	if (!s->q_init) {
		pb_txn_queue_init(&s->q, sizeof(struct cql_slot), CQL_MAX_PENDING);
		s->q_init = 1;
	}
	return &s->q;
}

/* STARTUP: the version and compression of the connection. */
static void cql_startup(struct pb_txn_conn *c, const struct cql_msg *m)
{
	struct cql_state *s = cql_s(c);
	struct pb_cur cur;
	unsigned n, i;

	/* v5 segments, unless it is the v5 beta of Cassandra 3.x (beta
	 * flag), which kept the v4 framing */
	if ((m->version & 0x7F) >= 5 && !(m->flags & CQL_F_BETA))
		s->v5 = 1;
	if (!m->decoded)
		return;
	pb_cur_init(&cur, m->body, m->body_len);
	n = pb_cur_be16(&cur);
	for (i = 0; i < n && pb_cur_ok(&cur); i++) {
		size_t kl, vl;
		const uint8_t *k = cql_string(&cur, &kl), *v = cql_string(&cur, &vl);

		if (!pb_cur_ok(&cur))
			break;
		if (kl == 11 && memcmp(k, "COMPRESSION", 11) == 0) {
			char name[16];
			size_t x;

			if (vl >= sizeof(name)) {
				s->comp = CQL_C_UNKNOWN;
				continue;
			}
			for (x = 0; x < vl; x++)
				name[x] = (char)(v[x] >= 'A' && v[x] <= 'Z' ? v[x] - 'A' + 'a' : v[x]);
			name[vl] = '\0';
			if (strcmp(name, "lz4") == 0)
				s->comp = CQL_C_LZ4;
			else if (strcmp(name, "snappy") == 0)
				s->comp = CQL_C_SNAPPY;
			else if (vl == 0)
				s->comp = CQL_C_NONE;
			else
				s->comp = CQL_C_UNKNOWN;
		}
	}
}

/* A whole message of dir was read. */
static void cql_msg_done(struct pb_txn_conn *c, int dir, struct cql_msg *m)
{
	struct pb_txn_queue *q = cql_q(c);

	if (!(m->version & 0x80)) {
		struct cql_slot *sl;
		int i;

		if (m->opcode == CQL_OP_STARTUP)
			cql_startup(c, m);
		/* the same stream id still pending: that request will never
		 * be answered now */
		i = pb_txn_queue_find(q, cql_match, &m->stream);
		if (i >= 0) {
			struct cql_slot old;

			pb_txn_queue_take(q, (unsigned)i, &old);
			old.m->notes |= CQL_N_DUP;
			cql_emit(c, old.m, NULL);
		}
		sl = pb_txn_queue_push(q);
		if (!sl) {
			struct cql_slot old;

			if (pb_txn_queue_pop(q, &old) == 0) {
				old.m->notes |= CQL_N_FLOOD;
				cql_emit(c, old.m, NULL);
			}
			sl = pb_txn_queue_push(q);
		}
		if (!sl) {
			cql_emit(c, m, NULL);
			return;
		}
		sl->m = m;
		return;
	}
	/* v5: after the answer to STARTUP (READY or AUTHENTICATE) both
	 * sides wrap their frames in segments (spec v5 2.3.1) */
	if ((m->version & 0x7F) >= 5 && cql_s(c)->v5 &&
	    (m->opcode == CQL_OP_READY || m->opcode == CQL_OP_AUTHENTICATE)) {
		int k;

		for (k = 0; k < 2; k++) {
			struct cql_dir *d = cql_d(c, k);

			if (d->mode == CQL_M_FRAMES || d->mode == CQL_M_RESYNC || d->mode == CQL_M_NEW)
				if (!d->skip)
					d->mode = CQL_M_SEGMENTS;
		}
	}
	(void)dir;
	/* a response: a server push stands alone; others answer the
	 * request with their stream id */
	if (m->opcode == CQL_OP_EVENT || m->stream < 0) {
		cql_emit(c, NULL, m);
		return;
	}
	{
		int i = pb_txn_queue_find(q, cql_match, &m->stream);
		struct cql_slot sl;

		if (i >= 0 && pb_txn_queue_take(q, (unsigned)i, &sl) == 0) {
			cql_emit(c, sl.m, m);
			return;
		}
	}
	cql_emit(c, NULL, m);
}

/* ---- framing ---- */

/* Is hdr (hl bytes) a frame header that dir could send?  0: no; else the
 * header length (8 or 9).  Only the header is checked. */
static size_t cql_hdr_ok(const struct cql_dir *d, const uint8_t *p, size_t n)
{
	unsigned v = p[0] & 0x7F, resp = p[0] >> 7, op;
	size_t hl;
	uint32_t len;

	if (n < 1 || v < 1 || v > 5)
		return 0;
	hl = v <= 2 ? CQL_HDR_LEN_V2 : CQL_HDR_LEN;
	if (n < hl)
		return 0;
	if (p[1] & ~0x1Fu)
		return 0;                /* unused flags */
	op = p[hl - 5];
	if (op > CQL_OP_MAX || cql_op_side[op] != (resp ? 2 : 1))
		return 0;
	/* a side sends only requests, or only responses */
	if ((d->role == CQL_R_CLIENT && resp) || (d->role == CQL_R_SERVER && !resp))
		return 0;
	len = (uint32_t)p[hl - 4] << 24 | (uint32_t)p[hl - 3] << 16 |
	      (uint32_t)p[hl - 2] << 8 | p[hl - 1];
	if (len > CQL_MAX_BODY)
		return 0;
	return hl;
}

/* Where the bytes given to the frame reader come from, for times. */
struct cql_src {
	int seg;                     /* 1: a v5 envelope buffer */
	size_t base;                 /* raw: offset of p in parse()'s data */
	int64_t s_ns, e_ns;          /* seg: start of the envelope, end of */
	uint64_t s_pkt, e_pkt;       /* the segment being read */
};

static void cql_time(struct pb_txn_conn *c, int dir, const struct cql_src *src, size_t off,
		     int end, int64_t *ns, uint64_t *pkt)
{
	if (src->seg) {
		*ns = end ? src->e_ns : src->s_ns;
		*pkt = end ? src->e_pkt : src->s_pkt;
		return;
	}
	pb_txn_byte_time(c, dir, src->base + off, ns, pkt);
}

/* The largest frame read whole: the engine buffers at most
 * max_message_size bytes of a direction. */
static uint64_t cql_frame_cap(const struct pb_txn_conn *c)
{
	uint64_t cap = c->common && c->common->max_message_size ? c->common->max_message_size
								 : PB_TXN_DEF_MAX_MESSAGE;

	return cap < CQL_MAX_BODY ? cap : CQL_MAX_BODY;
}

/* Is there a segment header at p that verifies?  Its length (6 or 8), or
 * 0.  lz4: the connection uses LZ4 (-1: unknown, try both). */
static size_t cql_seg_hdr_ok(const uint8_t *p, size_t n, int lz4)
{
	if (lz4 != 1 && n >= 6) {
		uint32_t crc = (uint32_t)p[3] | (uint32_t)p[4] << 8 | (uint32_t)p[5] << 16;

		if (cql_crc24(p, 3) == crc && ((uint32_t)p[2] & 0xFC) == 0)
			return 6;
	}
	if (lz4 != 0 && n >= 8) {
		uint32_t crc = (uint32_t)p[5] | (uint32_t)p[6] << 8 | (uint32_t)p[7] << 16;

		if (cql_crc24(p, 5) == crc && (p[4] & 0xF8) == 0)
			return 8;
	}
	return 0;
}

/* Does a v5 segment start at p?  1: yes (the connection's v5 and LZ4
 * settings learnt if they were not known); 0: no; -1: perhaps, when the
 * rest of the segment comes. */
static int cql_seg_start(struct cql_state *s, const uint8_t *p, size_t n)
{
	int lz4 = !s->v5 ? -1 : s->comp == CQL_C_LZ4 ? 1 : s->comp == CQL_C_NONE ? 0 : -1;
	size_t hl = cql_seg_hdr_ok(p, n, lz4), plen;

	if (!hl)
		return 0;
	if (s->v5 && lz4 >= 0)
		return 1;
	/* without a v5 STARTUP: the payload's CRC32 must verify too (the
	 * (compressed) payload length is the low 17 bits in both forms) */
	plen = ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16) & 0x1FFFF;
	if (n < hl + plen + 4)
		return -1;
	if (cql_crc32(p + hl, plen) !=
	    ((uint32_t)p[hl + plen] | (uint32_t)p[hl + plen + 1] << 8 |
	     (uint32_t)p[hl + plen + 2] << 16 | (uint32_t)p[hl + plen + 3] << 24))
		return 0;
	s->v5 = 1;
	if (s->comp != CQL_C_LZ4 && s->comp != CQL_C_NONE)
		s->comp = hl == 8 ? CQL_C_LZ4 : CQL_C_NONE;
	return 1;
}

/* One step of the frame reader over p[0..n): a frame, part of a skipped
 * body, or a byte skipped while resynchronising.  Returns what it used;
 * *more when it needs more bytes to go on. */
static size_t cql_frame_step(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			     const struct cql_src *src, int *more)
{
	struct cql_dir *d = cql_d(c, dir);
	size_t hl, total;
	uint32_t len;
	struct cql_msg *m;

	*more = 0;
	if (d->skip) {
		/* the rest of a body too large to read: counted, not kept */
		size_t take = n < d->skip ? n : (size_t)d->skip;

		d->skip -= take;
		if (d->skip == 0 && d->skipping) {
			m = d->skipping;
			d->skipping = NULL;
			cql_time(c, dir, src, take - 1, 1, &m->end_ns, &m->last_pkt);
			cql_msg_done(c, dir, m);
		}
		return take;
	}
	if (n < CQL_HDR_LEN_V2 || (n < CQL_HDR_LEN && (p[0] & 0x7F) > 2)) {
		*more = 1;
		return 0;
	}
	hl = cql_hdr_ok(d, p, n);
	if (!hl) {
		if (d->mode == CQL_M_FRAMES) {
			/* lost the frames: look for the next header */
			cql_error(c);
			d->mode = CQL_M_RESYNC;
		}
		d->pend_notes |= CQL_N_SKIPPED;
		return 1;
	}
	len = (uint32_t)p[hl - 4] << 24 | (uint32_t)p[hl - 3] << 16 |
	      (uint32_t)p[hl - 2] << 8 | p[hl - 1];
	total = hl + (size_t)len;
	if (d->mode == CQL_M_RESYNC && !src->seg) {
		/* a header found by searching must be followed by another
		 * (or by the end of what there is) before it is believed */
		if (n > total && n - total >= CQL_HDR_LEN) {
			if (!cql_hdr_ok(d, p + total, n - total)) {
				d->pend_notes |= CQL_N_SKIPPED;
				return 1;
			}
		}
	}
	if ((uint64_t)total > cql_frame_cap(c)) {
		/* too large to hold: the header is read, the body skipped */
		m = cql_msg_new(c, dir, p, hl, NULL, 0);
		if (!m)
			return 1;
		m->notes |= CQL_N_BIG | d->pend_notes;
		d->pend_notes = 0;
		cql_time(c, dir, src, 0, 0, &m->start_ns, &m->first_pkt);
		d->role = (p[0] & 0x80) ? CQL_R_SERVER : CQL_R_CLIENT;
		d->mode = src->seg ? d->mode : CQL_M_FRAMES;
		d->skip = len;
		d->skipping = m;
		return hl;
	}
	if (n < total) {
		*more = 1;
		return 0;
	}
	m = cql_msg_new(c, dir, p, hl, p + hl, len);
	if (!m)
		return total;
	m->notes |= d->pend_notes | (src->seg ? d->seg_notes : 0);
	d->pend_notes = 0;
	if (src->seg)
		d->seg_notes = 0;
	cql_time(c, dir, src, 0, 0, &m->start_ns, &m->first_pkt);
	cql_time(c, dir, src, total - 1, 1, &m->end_ns, &m->last_pkt);
	if (!src->seg)
		d->mode = CQL_M_FRAMES;
	d->role = (p[0] & 0x80) ? CQL_R_SERVER : CQL_R_CLIENT;
	cql_d(c, !dir)->role = (p[0] & 0x80) ? CQL_R_CLIENT : CQL_R_SERVER;
	cql_msg_done(c, dir, m);
	return total;
}

/* Envelopes from a v5 direction's buffer; what is left waits for the
 * next segment. */
static void cql_envelopes(struct pb_txn_conn *c, int dir, struct cql_src *src,
			  int64_t seg_ns, uint64_t seg_pkt)
{
	struct cql_dir *d = cql_d(c, dir);
	size_t off = 0;

	while (off < d->env.len) {
		int more;
		size_t used = cql_frame_step(c, dir, (const uint8_t *)d->env.data + off,
					     d->env.len - off, src, &more);

		off += used;
		if (more || used == 0)
			break;
		/* the next envelope came in the segment being read */
		src->s_ns = seg_ns;
		src->s_pkt = seg_pkt;
	}
	if (off > 0) {
		memmove(d->env.data, d->env.data + off, d->env.len - off);
		d->env.len -= off;
		/* what is left began in this segment; an envelope still
		 * incomplete with nothing read keeps its first segment's time */
		d->env_ns = seg_ns;
		d->env_pkt = seg_pkt;
	}
}

/* One step of the segment reader (v5, after the STARTUP exchange). */
static size_t cql_seg_step(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			   size_t base, int *more)
{
	struct cql_state *s = cql_s(c);
	struct cql_dir *d = cql_d(c, dir);
	int lz4 = s->comp == CQL_C_LZ4 ? 1 : s->comp == CQL_C_NONE ? 0 : -1;
	size_t hl, plen, clen = 0, ulen = 0, total;
	int selfc;
	uint32_t crc;
	const uint8_t *pay;
	uint8_t *tmp = NULL;
	struct cql_src src;
	int64_t seg_ns, end_ns;
	uint64_t seg_pkt, end_pkt;
	size_t had;

	*more = 0;
	if (n < (lz4 == 1 ? 8u : 6u)) {
		*more = 1;
		return 0;
	}
	hl = cql_seg_hdr_ok(p, n, lz4);
	if (!hl) {
		if (lz4 == -1 && n < 8) {
			*more = 1;
			return 0;
		}
		if (d->mode == CQL_M_SEGMENTS) {
			cql_error(c);
			d->mode = CQL_M_SEG_RESYNC;
			d->env.len = 0;
			if (d->skipping) {
				d->skipping->notes |= CQL_N_LOSS;
				cql_msg_done(c, dir, d->skipping);
				d->skipping = NULL;
				d->skip = 0;
			}
		}
		d->pend_notes |= CQL_N_CRC24;
		return 1;
	}
	if (hl == 6) {
		uint32_t h = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;

		plen = h & 0x1FFFF;
		selfc = (h >> 17) & 1;
	} else {
		uint64_t h = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
			     (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32;

		clen = h & 0x1FFFF;
		ulen = (h >> 17) & 0x1FFFF;
		selfc = (int)((h >> 34) & 1);
		plen = clen;
	}
	total = hl + plen + 4;
	if (n < total) {
		*more = 1;
		return 0;
	}
	d->mode = CQL_M_SEGMENTS;
	pb_txn_byte_time(c, dir, base, &seg_ns, &seg_pkt);
	pb_txn_byte_time(c, dir, base + total - 1, &end_ns, &end_pkt);
	pay = p + hl;
	crc = (uint32_t)p[hl + plen] | (uint32_t)p[hl + plen + 1] << 8 |
	      (uint32_t)p[hl + plen + 2] << 16 | (uint32_t)p[hl + plen + 3] << 24;
	if (cql_crc32(pay, plen) != crc)
		d->seg_notes |= CQL_N_CRC32;
	if (hl == 8 && ulen != 0) {
		int r;

		tmp = malloc(ulen);
		if (!tmp)
			return total;
		r = LZ4_decompress_safe((const char *)pay, (char *)tmp, (int)plen, (int)ulen);
		if (r < 0 || (size_t)r != ulen) {
			/* the envelopes of this segment are lost */
			free(tmp);
			d->env.len = 0;
			d->pend_notes |= CQL_N_INFLATE;
			return total;
		}
		pay = tmp;
		plen = ulen;
	}
	/* a self-contained segment starts with an envelope */
	if (selfc && d->env.len > 0 && !d->skip) {
		d->env.len = 0;
		d->pend_notes |= CQL_N_SEGMENT;
	}
	had = d->env.len;
	if (d->skip && had == 0 && plen <= d->skip) {
		/* inside a skipped envelope: nothing to keep */
		d->skip -= plen;
		if (d->skip == 0 && d->skipping) {
			struct cql_msg *m = d->skipping;

			d->skipping = NULL;
			m->end_ns = end_ns;
			m->last_pkt = end_pkt;
			cql_msg_done(c, dir, m);
		}
		free(tmp);
		return total;
	}
	if (pb_buf_add(&d->env, pay, plen) < 0) {
		d->env.len = 0;
		d->pend_notes |= CQL_N_BIG;
		free(tmp);
		return total;
	}
	free(tmp);
	memset(&src, 0, sizeof(src));
	src.seg = 1;
	if (had == 0) {
		d->env_ns = seg_ns;
		d->env_pkt = seg_pkt;
	}
	src.s_ns = d->env_ns;
	src.s_pkt = d->env_pkt;
	src.e_ns = end_ns;
	src.e_pkt = end_pkt;
	cql_envelopes(c, dir, &src, seg_ns, seg_pkt);
	return total;
}

/* ---------------------------------------------------------- callbacks */

static int64_t cql_timeout(const struct pb_txn_conn *c)
{
	return c->common && c->common->timeout_ns > 0 ? c->common->timeout_ns
						      : PB_TXN_DEF_TIMEOUT_NS;
}

/* Requests unanswered for transaction_timeout after their last byte are
 * written alone, oldest first. */
static void cql_expire(struct pb_txn_conn *c, int64_t now_ns)
{
	struct cql_state *s = cql_s(c);
	int64_t to = cql_timeout(c);

	if (!s || !s->q_init)
		return;
	for (;;) {
		struct cql_slot *sl = pb_txn_queue_peek(&s->q, 0), out;

		if (!sl || !sl->m)
			break;
		if (now_ns < sl->m->end_ns || now_ns - sl->m->end_ns < to)
			break;
		pb_txn_queue_pop(&s->q, &out);
		cql_emit(c, out.m, NULL);
	}
}

static size_t cql_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct cql_state *s = cql_s(c);
	struct cql_dir *d = cql_d(c, dir);
	size_t off = 0;

	cql_expire(c, c->now_ns);
	if (d->mode == CQL_M_NEW)
		d->mode = c->mid_stream[dir & 1] ? CQL_M_RESYNC : CQL_M_FRAMES;
	if (d->env.max == 0)
		pb_buf_init(&d->env, cql_frame_cap(c) + CQL_SEG_MAX + 16);
	while (off < len) {
		int more = 0;
		size_t used;

		if (d->mode == CQL_M_SEGMENTS || d->mode == CQL_M_SEG_RESYNC) {
			used = cql_seg_step(c, dir, data + off, len - off, off, &more);
		} else {
			struct cql_src src;

			/* v5: after the STARTUP exchange the frames come in
			 * segments: a segment header whose CRC24 verifies
			 * says so.  Found while looking for frames (mid-stream,
			 * no STARTUP seen), the whole segment must verify. */
			if (!d->skip && (s->v5 || d->mode == CQL_M_RESYNC) &&
			    len - off >= CQL_HDR_LEN) {
				int r = cql_seg_start(s, data + off, len - off);

				if (r > 0) {
					d->mode = CQL_M_SEGMENTS;
					continue;
				}
				if (r < 0)
					break;       /* wait for the whole segment */
			}
			memset(&src, 0, sizeof(src));
			src.base = off;
			used = cql_frame_step(c, dir, data + off, len - off, &src, &more);
		}
		if (used > len - off)
			used = len - off;
		off += used;
		if (more || used == 0)
			break;
	}
	return off;
}

/* n bytes of dir were never captured. */
static void cql_gap(struct pb_txn_conn *c, int dir, uint64_t n)
{
	struct cql_dir *d = cql_d(c, dir);

	if (d->mode != CQL_M_SEGMENTS && d->mode != CQL_M_SEG_RESYNC && d->skip) {
		/* inside a skipped body: it is only shorter to skip */
		if (n < d->skip) {
			d->skip -= n;
			if (d->skipping)
				d->skipping->notes |= CQL_N_LOSS;
			return;
		}
		d->skip = 0;
	}
	if (d->skipping) {
		struct cql_msg *m = d->skipping;

		d->skipping = NULL;
		d->skip = 0;
		m->notes |= CQL_N_LOSS;
		m->end_ns = c->now_ns;
		m->last_pkt = c->now_pkt;
		cql_msg_done(c, dir, m);
	}
	d->env.len = 0;
	d->pend_notes |= CQL_N_LOSS;
	if (d->mode == CQL_M_SEGMENTS || d->mode == CQL_M_SEG_RESYNC)
		d->mode = CQL_M_SEG_RESYNC;
	else
		d->mode = CQL_M_RESYNC;
}

/* A frame still being skipped when its direction ends. */
static void cql_finish(struct pb_txn_conn *c, int dir)
{
	struct cql_dir *d = cql_d(c, dir);

	if (d->skipping) {
		struct cql_msg *m = d->skipping;

		d->skipping = NULL;
		d->skip = 0;
		m->notes |= CQL_N_INCOMPLETE;
		m->end_ns = c->now_ns;
		m->last_pkt = c->now_pkt;
		cql_msg_done(c, dir, m);
	}
}

static void cql_fin(struct pb_txn_conn *c, int dir)
{
	if (c->state)
		cql_finish(c, dir & 1);
}

/* The conversation ended: what is pending is written, oldest first. */
static void cql_close(struct pb_txn_conn *c)
{
	struct cql_state *s = cql_s(c);
	unsigned i;
	int dir;

	if (!s)
		return;
	for (dir = 0; dir < 2; dir++)
		cql_finish(c, dir);
	if (s->q_init) {
		struct cql_slot sl;

		while (pb_txn_queue_pop(&s->q, &sl) == 0)
			cql_emit(c, sl.m, NULL);
		pb_txn_queue_release(&s->q);
	}
	for (dir = 0; dir < 2; dir++)
		pb_buf_release(&s->d[dir].env);
	if (s->prep) {
		for (i = 0; i < s->n_prep; i++)
			free(s->prep[i].text);
		free(s->prep);
	}
	memset(s, 0, sizeof(*s));
}

static const uint16_t cassandra_ports[] = { 9042 };

/* the options of its own (pb_proto.keys) */
static const char *const cql_keys[] = {
	"send_request_header",
	"send_response_header",
	"compressor",
	"ignored_ops",
	NULL
};

const struct pb_proto pb_proto_cassandra = {
	.name = "cassandra",
	.transports = PB_TP_TCP,
	.ports = cassandra_ports,
	.n_ports = sizeof(cassandra_ports) / sizeof(cassandra_ports[0]),
	.conf_size = sizeof(struct cql_conf),
	.conf_init = cql_conf_init,
	.conf_load = cql_conf_load,
	.state_size = sizeof(struct cql_state),
	.parse = cql_parse,
	.gap = cql_gap,
	.fin = cql_fin,
	.expire = cql_expire,
	.close = cql_close,
	.keys = cql_keys,
};
