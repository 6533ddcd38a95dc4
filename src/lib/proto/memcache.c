/*
 * memcache.c - memcached's text, meta and binary protocols over TCP and
 * UDP: message framing, pairing of requests with responses, and the
 * fields of Packetbeat's "memcache" event.
 *
 * References: memcached's doc/protocol.txt (the text protocol, the meta
 * commands mg/ms/md/ma/mn/me, and the UDP frame header), the binary
 * protocol specification (docs/protocol-binary.xml, "Memcache Binary
 * Protocol", and the wiki page BinaryProtocolRevamped), and Packetbeat's
 * packetbeat/protos/memcache for the event fields.  pb-proto-memcache(7)
 * teaches all of it.
 *
 * Text: a command line, and for storage commands a data block of the
 * declared length; responses are lines, VALUE lines with data blocks:
 *
 *   client -> server                    server -> client
 *   set k 0 0 5\r\n           line      STORED\r\n
 *   hello\r\n                 data
 *   get k x\r\n               line      VALUE k 0 5\r\n      line
 *                                       hello\r\n            data
 *                                       END\r\n              end
 *
 * Binary: a 24-byte header, then extras, key and value:
 *
 *    0       1       2       3       4       5       6       7
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   | magic |opcode | key length    |extlen | dtype | vbucket/status|
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   | total body length             | opaque                        |
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   | CAS                                                           |
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   | extras (extlen) | key (key length) | value (the rest of the   |
 *   | body: total - extlen - key length)                            |
 *   magic 0x80 request, 0x81 response; status in responses only.
 *
 * UDP: every datagram starts with an 8-byte frame header, then a piece
 * of one message (a response may take several datagrams):
 *
 *   | request id (2) | sequence number (2) | datagram count (2) | 0 (2) |
 *
 * Each direction is read by the same framer: MSG (a message starts),
 * DATA (a value of known length), DATA_END (the CRLF after a text data
 * block), RESYNC (skipping to where a message starts).  Requests wait in
 * a per-direction FIFO (txn/queue.h): a text response closes the oldest;
 * a binary one the oldest with the same opaque and opcode, quiet
 * requests before it being written unanswered.  Over UDP the request id
 * pairs them.
 */
#include "proto/proto.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txn/queue.h"
#include "util/buf.h"
#include "util/cursor.h"
#include "util/json.h"
#include "util/banned.h"

/* ------------------------------------------------------------ limits */

/* A text command or response line.  memcached reads keys of at most 250
 * bytes, but a multi-key get has as many as the client sends: 64 KiB is
 * hundreds of keys. */
#define MC_MAX_LINE (64u << 10)
/* Requests sent one way and not answered yet (pipelined gets, quiet
 * binary requests before their Noop).  Past it the oldest is written
 * unanswered, so a client that is never answered cannot grow the queue. */
#define MC_MAX_PENDING 64
/* Key bytes kept per message (a binary key is at most 65535 bytes; a
 * merged VALUE response lists every key it returned). */
#define MC_MAX_KEY_BYTES (256u << 10)
/* Value bytes kept per message, whatever maxvalues and maxbytespervalue
 * allow: values are written base64, a third larger. */
#define MC_MAX_KEPT (1u << 20)
/* STAT lines kept per response (text: all lines of "stats ...";
 * binary: all Stat packets); "stats cachedump" can list thousands. */
#define MC_MAX_STAT_BYTES (256u << 10)
/* Short texts of a message: error message, version, raw arguments,
 * the line of an unknown command. */
#define MC_MAX_TXT (MC_MAX_LINE + 64)
/* Raw text kept for send_request / send_response. */
#define MC_MAX_RAW (64u << 10)
/* Binary header, UDP frame header. */
#define MC_BIN_HDR 24
#define MC_UDP_HDR 8
/* A binary body length believed; memcached's item size limit is at
 * most 1 GiB.  Past it the header is taken as garbage. */
#define MC_MAX_BODY (1u << 30)
/* UDP: transactions waiting per conversation, datagrams of one message,
 * and bytes of one reassembled message. */
#define MC_UDP_MAX_PENDING 256
#define MC_UDP_MAX_DGRAMS 1024
#define MC_UDP_MAX_BYTES (2u << 20)
/* Steps in a row that consume nothing (a bound that keeps a logic slip
 * from spinning; never reached). */
#define MC_MAX_IDLE 8

/* Notes (error.message).  The first five are Packetbeat's words. */
static const char mc_n_loss_rq[] = "Packet loss while capturing the request";
static const char mc_n_loss_rs[] = "Packet loss while capturing the response";
static const char mc_n_norq[] = "Invalid transaction. Request missing";
static const char mc_n_nonquiet[] = "Missing response for non-quiet request";
static const char mc_n_unfinished[] = "Unfinished transaction";
static const char mc_n_pipe[] = "Too many pending requests";
static const char mc_n_inc_rq[] = "Request incomplete at end of stream";
static const char mc_n_inc_rs[] = "Response incomplete at end of stream";
static const char mc_n_bad[] = "Invalid memcache message";
static const char mc_n_crlf[] = "Data block not followed by CRLF";
static const char mc_n_kept[] = "Values cut: too many bytes to keep";
static const char mc_n_unknown[] = "Unknown memcache command";

/* ----------------------------------------------------- configuration */

/* The options of the "memcache" entry (pb-proto-memcache(7)). */
struct mc_conf {
	int parseunknown;            /* publish unknown commands */
	int64_t maxvalues;           /* 0 none, -1 all, N up to N */
	int64_t maxbytespervalue;    /* <= 0: unlimited */
	int64_t udp_timeout_ns;      /* udptransactiontimeout */
};

#define MC_DEF_UDP_TIMEOUT (10 * INT64_C(1000000000))

static void mc_conf_init(void *v)
{
	struct mc_conf *cf = v;

	memset(cf, 0, sizeof(*cf));
	cf->udp_timeout_ns = MC_DEF_UDP_TIMEOUT;
}

static int mc_conf_load(void *v, struct pb_conf *c, const char *prefix)
{
	struct mc_conf *cf = v;
	char p[256];

#define MC_KEY(k) (snprintf(p, sizeof(p), "%s.%s", prefix, k), p)
	if (pb_conf_bool(c, MC_KEY("parseunknown"), &cf->parseunknown) < 0 ||
	    pb_conf_int(c, MC_KEY("maxvalues"), &cf->maxvalues) < 0 ||
	    pb_conf_int(c, MC_KEY("maxbytespervalue"), &cf->maxbytespervalue) < 0 ||
	    pb_conf_duration(c, MC_KEY("udptransactiontimeout"), &cf->udp_timeout_ns) < 0)
		return -1;
	if (cf->maxvalues < -1) {
		pb_conf_fail(c, MC_KEY("maxvalues"), "must be -1 (all), 0 (none) or a count");
		return -1;
	}
#undef MC_KEY
	return 0;
}

static const struct mc_conf mc_conf_default = { 0, 0, 0, MC_DEF_UDP_TIMEOUT };

static const struct mc_conf *mc_cf(const struct pb_txn_conn *c)
{
	return c->conf ? c->conf : &mc_conf_default;
}

/* ------------------------------------------------------------ names */

/* Command classes: Packetbeat's request.type / response.type words. */
static const char mc_t_unknown[] = "UNKNOWN", mc_t_load[] = "Load", mc_t_store[] = "Store",
		  mc_t_delete[] = "Delete", mc_t_counter[] = "Counter", mc_t_info[] = "Info",
		  mc_t_slab[] = "SlabCtrl", mc_t_lru[] = "LRUCrawler", mc_t_stats[] = "Stats",
		  mc_t_success[] = "Success", mc_t_fail[] = "Fail", mc_t_auth[] = "Auth";

/* What a message is, for framing and pairing (the command words come
 * from the tables below). */
enum mc_kind {
	MC_K_UNKNOWN = 0,
	/* text requests */
	MC_K_GET, MC_K_GAT, MC_K_STORE, MC_K_CAS, MC_K_COUNTER, MC_K_TOUCH,
	MC_K_DELETE, MC_K_FLUSH, MC_K_STATS, MC_K_VERBOSITY, MC_K_VERSION,
	MC_K_QUIT, MC_K_SLABS, MC_K_LRU,
	MC_K_MG, MC_K_MS, MC_K_MD, MC_K_MA, MC_K_MN, MC_K_ME,
	/* text responses */
	MC_K_VALUE, MC_K_END, MC_K_PLAIN, MC_K_ERRMSG, MC_K_STAT,
	MC_K_RVERSION, MC_K_NUMBER,
	MC_K_VA, MC_K_META, MC_K_MEDATA,
	/* binary */
	MC_K_BIN
};

/* Text requests: the command word, its class, and how its arguments
 * read (protocol.txt; the classes are Packetbeat's). */
struct mc_tcmd {
	const char *name;
	uint8_t kind;
	const char *type;
};

static const struct mc_tcmd mc_requests[] = {
	{ "get", MC_K_GET, mc_t_load },
	{ "gets", MC_K_GET, mc_t_load },
	{ "gat", MC_K_GAT, mc_t_load },
	{ "gats", MC_K_GAT, mc_t_load },
	{ "set", MC_K_STORE, mc_t_store },
	{ "add", MC_K_STORE, mc_t_store },
	{ "replace", MC_K_STORE, mc_t_store },
	{ "append", MC_K_STORE, mc_t_store },
	{ "prepend", MC_K_STORE, mc_t_store },
	{ "cas", MC_K_CAS, mc_t_store },
	{ "incr", MC_K_COUNTER, mc_t_counter },
	{ "decr", MC_K_COUNTER, mc_t_counter },
	{ "touch", MC_K_TOUCH, mc_t_store },
	{ "delete", MC_K_DELETE, mc_t_delete },
	{ "flush_all", MC_K_FLUSH, mc_t_delete },
	{ "stats", MC_K_STATS, mc_t_stats },
	{ "verbosity", MC_K_VERBOSITY, mc_t_info },
	{ "version", MC_K_VERSION, mc_t_info },
	{ "quit", MC_K_QUIT, mc_t_info },
	{ "slabs", MC_K_SLABS, mc_t_slab },
	{ "lru_crawler", MC_K_LRU, mc_t_lru },
	/* meta commands (memcached 1.6) */
	{ "mg", MC_K_MG, mc_t_load },
	{ "ms", MC_K_MS, mc_t_store },
	{ "md", MC_K_MD, mc_t_delete },
	{ "ma", MC_K_MA, mc_t_counter },
	{ "mn", MC_K_MN, mc_t_info },
	{ "me", MC_K_ME, mc_t_info },
};

/* Text responses.  EXISTS counts as a success, as Packetbeat has it. */
static const struct mc_tcmd mc_responses[] = {
	{ "VALUE", MC_K_VALUE, mc_t_load },
	{ "END", MC_K_END, mc_t_load },
	{ "STORED", MC_K_PLAIN, mc_t_success },
	{ "NOT_STORED", MC_K_PLAIN, mc_t_fail },
	{ "EXISTS", MC_K_PLAIN, mc_t_success },
	{ "NOT_FOUND", MC_K_PLAIN, mc_t_fail },
	{ "TOUCHED", MC_K_PLAIN, mc_t_success },
	{ "DELETED", MC_K_PLAIN, mc_t_success },
	{ "OK", MC_K_PLAIN, mc_t_success },
	{ "ERROR", MC_K_PLAIN, mc_t_fail },
	{ "CLIENT_ERROR", MC_K_ERRMSG, mc_t_fail },
	{ "SERVER_ERROR", MC_K_ERRMSG, mc_t_fail },
	{ "BUSY", MC_K_ERRMSG, mc_t_fail },
	{ "BADCLASS", MC_K_ERRMSG, mc_t_fail },
	{ "NOSPARE", MC_K_ERRMSG, mc_t_fail },
	{ "NOTFULL", MC_K_ERRMSG, mc_t_fail },
	{ "UNSAFE", MC_K_ERRMSG, mc_t_fail },
	{ "SAME", MC_K_ERRMSG, mc_t_fail },
	{ "STAT", MC_K_STAT, mc_t_stats },
	{ "VERSION", MC_K_RVERSION, mc_t_info },
	/* meta responses: HD (done), VA (a value follows), EN (miss), NF
	 * (not found), NS (not stored), EX (exists), MN (no-op), ME (debug) */
	{ "HD", MC_K_META, mc_t_success },
	{ "VA", MC_K_VA, mc_t_load },
	{ "EN", MC_K_META, mc_t_load },
	{ "NF", MC_K_META, mc_t_fail },
	{ "NS", MC_K_META, mc_t_fail },
	{ "EX", MC_K_META, mc_t_success },
	{ "MN", MC_K_META, mc_t_info },
	{ "ME", MC_K_MEDATA, mc_t_info },
};

#define MC_N(t) (sizeof(t) / sizeof((t)[0]))

/* Binary opcodes: Packetbeat's names, its command word and class
 * (Packetbeat has no class for the GAT family and the range and TAP
 * opcodes: UNKNOWN). */
struct mc_op {
	uint8_t op;
	const char *name;
	const char *cmd;
	const char *type;
	uint8_t quiet;
	uint8_t args;     /* MC_A_*: the extras of the request */
};

enum { MC_A_NONE, MC_A_STORE, MC_A_COUNTER, MC_A_EXPTIME, MC_A_VERBOSITY };

static const struct mc_op mc_ops[] = {
	{ 0x00, "Get", "get", mc_t_load, 0, MC_A_NONE },
	{ 0x01, "Set", "set", mc_t_store, 0, MC_A_STORE },
	{ 0x02, "Add", "add", mc_t_store, 0, MC_A_STORE },
	{ 0x03, "Replace", "replace", mc_t_store, 0, MC_A_STORE },
	{ 0x04, "Delete", "delete", mc_t_delete, 0, MC_A_NONE },
	{ 0x05, "Increment", "incr", mc_t_counter, 0, MC_A_COUNTER },
	{ 0x06, "Decrement", "decr", mc_t_counter, 0, MC_A_COUNTER },
	{ 0x07, "Quit", "quit", mc_t_info, 0, MC_A_NONE },
	{ 0x08, "Flush", "flush_all", mc_t_delete, 0, MC_A_EXPTIME },
	{ 0x09, "GetQ", "get", mc_t_load, 1, MC_A_NONE },
	{ 0x0a, "No-op", "noop", mc_t_info, 0, MC_A_NONE },
	{ 0x0b, "Version", "version", mc_t_info, 0, MC_A_NONE },
	{ 0x0c, "GetK", "get", mc_t_load, 0, MC_A_NONE },
	{ 0x0d, "GetKQ", "get", mc_t_load, 1, MC_A_NONE },
	{ 0x0e, "Append", "append", mc_t_store, 0, MC_A_NONE },
	{ 0x0f, "Prepend", "prepend", mc_t_store, 0, MC_A_NONE },
	{ 0x10, "Stat", "stats", mc_t_stats, 0, MC_A_NONE },
	{ 0x11, "SetQ", "set", mc_t_store, 1, MC_A_STORE },
	{ 0x12, "AddQ", "add", mc_t_store, 1, MC_A_STORE },
	{ 0x13, "ReplaceQ", "replace", mc_t_store, 1, MC_A_STORE },
	{ 0x14, "DeleteQ", "delete", mc_t_delete, 1, MC_A_NONE },
	{ 0x15, "IncrementQ", "incr", mc_t_counter, 1, MC_A_COUNTER },
	{ 0x16, "DecrementQ", "decr", mc_t_counter, 1, MC_A_COUNTER },
	{ 0x17, "QuitQ", "quit", mc_t_info, 1, MC_A_NONE },
	{ 0x18, "FlushQ", "flush_all", mc_t_delete, 1, MC_A_EXPTIME },
	{ 0x19, "AppendQ", "append", mc_t_store, 1, MC_A_NONE },
	{ 0x1a, "PrependQ", "prepend", mc_t_store, 1, MC_A_NONE },
	{ 0x1b, "Verbosity", "verbosity", mc_t_info, 0, MC_A_VERBOSITY },
	{ 0x1c, "Touch", "touch", mc_t_store, 0, MC_A_EXPTIME },
	{ 0x1d, "GAT", "gat", mc_t_load, 0, MC_A_EXPTIME },
	{ 0x1e, "GATQ", "gat", mc_t_load, 1, MC_A_EXPTIME },
	{ 0x20, "SASL list mechs", "sasl_list", mc_t_auth, 0, MC_A_NONE },
	{ 0x21, "SASL Auth", "sasl_auth", mc_t_auth, 0, MC_A_NONE },
	{ 0x22, "SASL Step", "sasl_step", mc_t_auth, 0, MC_A_NONE },
	{ 0x23, "GatK", "gat", mc_t_load, 0, MC_A_EXPTIME },
	{ 0x24, "GatKQ", "gat", mc_t_load, 1, MC_A_EXPTIME },
	{ 0x30, "RGet", NULL, NULL, 0, MC_A_NONE },
	{ 0x31, "RSet", NULL, NULL, 0, MC_A_NONE },
	{ 0x32, "RSetQ", NULL, NULL, 1, MC_A_NONE },
	{ 0x33, "RAppend", NULL, NULL, 0, MC_A_NONE },
	{ 0x34, "RAppendQ", NULL, NULL, 1, MC_A_NONE },
	{ 0x35, "RPrepend", NULL, NULL, 0, MC_A_NONE },
	{ 0x36, "RPrependQ", NULL, NULL, 1, MC_A_NONE },
	{ 0x37, "RDelete", NULL, NULL, 0, MC_A_NONE },
	{ 0x38, "RDeleteQ", NULL, NULL, 1, MC_A_NONE },
	{ 0x39, "RIncr", NULL, NULL, 0, MC_A_NONE },
	{ 0x3a, "RIncrQ", NULL, NULL, 1, MC_A_NONE },
	{ 0x3b, "RDecr", NULL, NULL, 0, MC_A_NONE },
	{ 0x3c, "RDecrQ", NULL, NULL, 1, MC_A_NONE },
	{ 0x3d, "Set VBucket", NULL, NULL, 0, MC_A_NONE },
	{ 0x3e, "Get VBucket", NULL, NULL, 0, MC_A_NONE },
	{ 0x3f, "Del VBucket", NULL, NULL, 0, MC_A_NONE },
	{ 0x40, "TAP Connect", NULL, NULL, 0, MC_A_NONE },
	{ 0x41, "TAP Mutation", NULL, NULL, 0, MC_A_NONE },
	{ 0x42, "TAP Delete", NULL, NULL, 0, MC_A_NONE },
	{ 0x43, "TAP Flush", NULL, NULL, 0, MC_A_NONE },
	{ 0x44, "TAP Opaque", NULL, NULL, 0, MC_A_NONE },
	{ 0x45, "TAP VBucket Set", NULL, NULL, 0, MC_A_NONE },
	{ 0x46, "TAP Checkpoint Start", NULL, NULL, 0, MC_A_NONE },
	{ 0x47, "TAP Checkpoint End", NULL, NULL, 0, MC_A_NONE },
};

static const struct mc_op *mc_op_find(uint8_t op)
{
	size_t i;

	for (i = 0; i < MC_N(mc_ops); i++)
		if (mc_ops[i].op == op)
			return &mc_ops[i];
	return NULL;
}

/* Binary response status codes, Packetbeat's words (memcached's headers
 * put the authentication codes at 0x20 and 0x21). */
struct mc_status {
	uint16_t code;
	const char *name;
};

static const struct mc_status mc_statuses[] = {
	{ 0x00, "Success" },
	{ 0x01, "Key not found" },
	{ 0x02, "Key exists" },
	{ 0x03, "Value too large" },
	{ 0x04, "Invalid arguments" },
	{ 0x05, "Item not stored" },
	{ 0x06, "Incr/Decr on non-numeric value." },
	{ 0x07, "The vbucket belongs to another server" },
	{ 0x20, "Authentication error" },
	{ 0x21, "Authentication continue" },
	{ 0x81, "Unknown command" },
	{ 0x82, "Out of memory" },
	{ 0x83, "Not supported" },
	{ 0x84, "Internal error" },
	{ 0x85, "Busy" },
	{ 0x86, "Temporary failure" },
};

static const char *mc_status_name(uint16_t code)
{
	size_t i;

	for (i = 0; i < MC_N(mc_statuses); i++)
		if (mc_statuses[i].code == code)
			return mc_statuses[i].name;
	return NULL;
}

/* --------------------------------------------------------- messages */

/* A piece of a message's kept text (in mc_msg.txt). */
struct mc_span {
	uint32_t off, len;
	uint8_t set;
};

/* Fields a message carries (bits of mc_msg.have). */
enum {
	MC_H_FLAGS = 1u << 0, MC_H_EXPTIME = 1u << 1, MC_H_BYTES = 1u << 2,
	MC_H_CAS = 1u << 3, MC_H_NOREPLY = 1u << 4, MC_H_DELTA = 1u << 5,
	MC_H_INITIAL = 1u << 6, MC_H_VERBOSITY = 1u << 7, MC_H_VALUE = 1u << 8,
	MC_H_COUNT = 1u << 9, MC_H_KEYS = 1u << 10, MC_H_STATS = 1u << 11,
	MC_H_SLEEP = 1u << 12, MC_H_SRC = 1u << 13, MC_H_DST = 1u << 14,
	MC_H_AUTOMOVE = 1u << 15,
};

/* What the data of a message (a text data block, a binary value) is. */
enum {
	MC_D_VALUE,    /* a stored or returned value: counted, maybe kept */
	MC_D_VERSION,  /* binary Version response: the version text */
	MC_D_STAT,     /* binary Stat response: the statistic's value */
	MC_D_COUNTER,  /* binary counter response: 8 bytes, the value */
	MC_D_SKIP,     /* read and dropped (ME debug data) */
};

/* One message from the first byte of its line or header to its last
 * byte; owns copies of what it keeps, so it may wait in a queue. */
struct mc_msg {
	uint8_t dir, is_req, binary, meta;
	uint8_t kind;               /* enum mc_kind */
	uint8_t quiet, noreply;
	uint8_t hidden;             /* unknown, and parseunknown is off */
	uint8_t dkind;              /* MC_D_* of its data */
	/* what happened to it (notes) */
	uint8_t loss, incomplete, bad, crlf, cut, overflow, nonquiet, unfinished;
	uint8_t resp_lost;          /* request: its answer fell in a gap */
	const char *command;        /* static words */
	const char *type;
	const struct mc_op *op;     /* binary */
	uint32_t have;              /* MC_H_* */
	uint32_t flags;
	int64_t exptime;
	uint64_t cas, delta, initial, value, verbosity, bytes;
	int64_t src_class, dst_class;
	uint32_t count_values, values_kept;
	uint8_t opcode, datatype;
	uint16_t status, vbucket;
	uint32_t opaque;
	uint64_t lost;              /* data bytes that fell in a gap */
	int64_t start_ns, end_ns;
	uint64_t first_pkt, last_pkt;
	uint64_t size;              /* bytes on the wire */
	struct mc_span err, ver, raw, line, otok, ktok;
	struct pb_buf txt;          /* short texts, by span */
	struct pb_buf keys;         /* records: u32 length, bytes */
	struct pb_buf vals;         /* records: u32 length, bytes */
	struct pb_buf stats;        /* records: name, then value */
	struct pb_buf rawtext;      /* send_request / send_response */
	size_t val_at;              /* the record being filled in vals */
	uint8_t val_keep;           /* the value being read is kept */
	uint8_t ctr[8];             /* MC_D_COUNTER: the bytes so far */
	uint32_t ctr_n;
};

static struct mc_msg *mc_msg_new(int dir)
{
	struct mc_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->dir = (uint8_t)(dir & 1);
	pb_buf_init(&m->txt, MC_MAX_TXT);
	pb_buf_init(&m->keys, MC_MAX_KEY_BYTES);
	pb_buf_init(&m->vals, MC_MAX_KEPT + 64);
	pb_buf_init(&m->stats, MC_MAX_STAT_BYTES);
	pb_buf_init(&m->rawtext, MC_MAX_RAW);
	return m;
}

static void mc_msg_free(struct mc_msg *m)
{
	if (!m)
		return;
	pb_buf_release(&m->txt);
	pb_buf_release(&m->keys);
	pb_buf_release(&m->vals);
	pb_buf_release(&m->stats);
	pb_buf_release(&m->rawtext);
	free(m);
}

/* Keep n bytes of text under a span (cut at the buffer's cap). */
static void mc_span_set(struct mc_msg *m, struct mc_span *sp, const uint8_t *p, size_t n)
{
	size_t room = m->txt.max > m->txt.len ? m->txt.max - m->txt.len - 1 : 0;

	if (n > room)
		n = room;
	sp->off = (uint32_t)m->txt.len;
	sp->len = 0;
	sp->set = 1;
	if (n && pb_buf_add(&m->txt, p, n) == 0)
		sp->len = (uint32_t)n;
}

/* A length-prefixed record (keys, stats); dropped when the cap is hit. */
static int mc_rec_add(struct pb_buf *b, const uint8_t *p, size_t n)
{
	uint8_t h[4];

	if (n > UINT32_MAX || b->len + 4 + n + 1 > b->max)
		return -1;
	h[0] = (uint8_t)(n >> 24);
	h[1] = (uint8_t)(n >> 16);
	h[2] = (uint8_t)(n >> 8);
	h[3] = (uint8_t)n;
	if (pb_buf_add(b, h, 4) < 0)
		return -1;
	if (n && pb_buf_add(b, p, n) < 0) {
		b->len -= 4;
		return -1;
	}
	return 0;
}

/* The next record of b at *off: 1 with p/n set, 0 at the end. */
static int mc_rec_next(const struct pb_buf *b, size_t *off, const uint8_t **p, size_t *n)
{
	struct pb_cur c;
	uint32_t len;

	if (*off >= b->len)
		return 0;
	pb_cur_init(&c, b->data + *off, b->len - *off);
	len = pb_cur_be32(&c);
	*p = pb_cur_bytes(&c, len);
	if (!*p)
		return 0;
	*n = len;
	*off += 4 + (size_t)len;
	return 1;
}

static void mc_key_add(struct mc_msg *m, const uint8_t *p, size_t n)
{
	m->have |= MC_H_KEYS;
	if (mc_rec_add(&m->keys, p, n) < 0)
		m->cut = 1;
}

/* Raw text for send_request / send_response, when asked for. */
static void mc_raw_add(const struct pb_txn_conn *c, struct mc_msg *m, const uint8_t *p, size_t n)
{
	int want;

	if (!c->common || m->binary || !n)
		return;
	want = m->is_req ? c->common->send_request : c->common->send_response;
	if (!want)
		return;
	if (n > m->rawtext.max - m->rawtext.len - 1)
		n = m->rawtext.max - m->rawtext.len - 1;
	if (n)
		pb_buf_add(&m->rawtext, p, n);
}

/* ------------------------------------------------------------ state */

enum mc_state_id {
	MC_S_MSG = 0,    /* a message starts here */
	MC_S_DATA,       /* remain bytes of data to come */
	MC_S_DATA_END,   /* the CRLF after a text data block */
	MC_S_RESYNC,     /* skipping to where a message starts */
};

/* One direction: where its framer is, the message it reads, a response
 * of several parts being put together, and the requests it sent. */
struct mc_dir {
	uint8_t state;
	uint8_t udp;                 /* reads one UDP message (mc_udp_read) */
	uint8_t trial;               /* ... that may not be whole yet */
	uint8_t started;             /* bytes were seen this way */
	uint8_t bol;                 /* RESYNC: the data starts a line */
	uint64_t remain;
	size_t lscan;                /* no LF in [0, lscan) of the data */
	struct mc_msg *cur;          /* being read (its data) */
	struct mc_msg *open;         /* VALUE.../STAT.../Stat... until its end */
	struct pb_txn_queue q;       /* requests sent this way: mc_msg * */
	/* UDP: the messages one payload gave */
	struct mc_msg *got[8];
	unsigned ngot;
};

/* A UDP transaction, by request id: the request and the response, each
 * put together from its datagrams.  memcached answers a multi-key get
 * with one datagram per item, each announced as 1 of 1, and a long
 * answer with datagrams numbered 0 to n-1 of n: a batch is a run of
 * datagrams 0..n-1, and batches follow one another in a stream until
 * what it holds reads as a whole message. */
struct mc_udp_part {
	uint16_t count, seen;        /* the batch: datagrams announced, got */
	uint8_t active;              /* a batch is being put together */
	uint8_t done;                /* the message was read whole */
	uint8_t any;                 /* a datagram came this way */
	int64_t first_ns, last_ns;
	uint64_t first_pkt, last_pkt;
	struct pb_buf batch;         /* the batch's payloads, in arrival */
	struct pb_buf index;         /* per sequence number: off, len (u32) */
	struct pb_buf stream;        /* whole batches, in order */
};

struct mc_udp_txn {
	uint16_t rid;
	uint8_t used;
	int64_t touched;             /* capture time of its last datagram */
	struct mc_udp_part part[2];  /* per direction */
	struct mc_msg *rq, *rs;
};

struct mc_state {
	struct mc_dir d[2];
	uint8_t init;
	struct mc_udp_txn *udp;      /* MC_UDP_MAX_PENDING slots, or NULL */
	unsigned n_udp;
};

static struct mc_state *mc_s(struct pb_txn_conn *c)
{
	struct mc_state *s = c->state;

	if (!s->init) {
		pb_txn_queue_init(&s->d[0].q, sizeof(struct mc_msg *), MC_MAX_PENDING);
		pb_txn_queue_init(&s->d[1].q, sizeof(struct mc_msg *), MC_MAX_PENDING);
		s->init = 1;
	}
	return s;
}

static struct mc_dir *mc_d(struct pb_txn_conn *c, int dir)
{
	return &mc_s(c)->d[dir & 1];
}

static void mc_error(struct pb_txn_conn *c)
{
	if (c->st)
		c->st->parse_errors++;
}

/* --------------------------------------------------------- emitting */

/* What the event's memcache object is written from. */
struct mc_out {
	const struct mc_msg *rq, *rs;
	const struct mc_conf *cf;
};

static void mc_json_span(struct pb_json *j, const struct mc_msg *m, const struct mc_span *sp)
{
	pb_json_str(j, m->txt.data ? m->txt.data + sp->off : "", sp->len);
}

static void mc_json_recs(struct pb_json *j, const struct pb_buf *b, int base64)
{
	size_t off = 0, n;
	const uint8_t *p;

	pb_json_arr(j);
	while (mc_rec_next(b, &off, &p, &n)) {
		if (base64)
			pb_json_base64(j, p, n);
		else
			pb_json_str(j, p, n);
	}
	pb_json_arr_end(j);
}

/* One side's object: the fields it has, in a fixed order. */
static void mc_write_msg(struct pb_json *j, const struct mc_msg *m)
{
	pb_json_obj(j);
	pb_json_key(j, "command");
	pb_json_cstr(j, m->command ? m->command : "UNKNOWN");
	pb_json_key(j, "type");
	pb_json_cstr(j, m->type ? m->type : mc_t_unknown);
	if (m->binary) {
		pb_json_key(j, "opcode");
		if (m->op)
			pb_json_cstr(j, m->op->name);
		else
			pb_json_ascii(j, "", 0);
		pb_json_key(j, "opcode_value");
		pb_json_u64(j, m->opcode);
		pb_json_key(j, "opaque");
		pb_json_u64(j, m->opaque);
		if (m->is_req) {
			pb_json_key(j, "vbucket");
			pb_json_u64(j, m->vbucket);
			pb_json_key(j, "quiet");
			pb_json_bool(j, m->quiet);
		} else {
			const char *sn = mc_status_name(m->status);

			pb_json_key(j, "status");
			if (sn)
				pb_json_cstr(j, sn);
			else
				pb_json_ascii(j, "", 0);
			pb_json_key(j, "status_code");
			pb_json_u64(j, m->status);
		}
	} else if (m->meta && m->is_req) {
		pb_json_key(j, "quiet");
		pb_json_bool(j, m->quiet);
	}
	if ((m->have & MC_H_KEYS) && m->keys.len) {
		pb_json_key(j, "keys");
		mc_json_recs(j, &m->keys, 0);
	}
	if (m->have & MC_H_COUNT) {
		pb_json_key(j, "count_values");
		pb_json_u64(j, m->count_values);
		if (m->values_kept) {
			pb_json_key(j, "values");
			mc_json_recs(j, &m->vals, 1);
		}
	}
	if (m->have & MC_H_BYTES) {
		pb_json_key(j, "bytes");
		pb_json_u64(j, m->bytes);
	}
	if (m->have & MC_H_FLAGS) {
		pb_json_key(j, "flags");
		pb_json_u64(j, m->flags);
	}
	if (m->have & MC_H_EXPTIME) {
		pb_json_key(j, "exptime");
		pb_json_i64(j, m->exptime);
	}
	if (m->have & MC_H_CAS) {
		pb_json_key(j, "cas_unique");
		pb_json_u64(j, m->cas);
	}
	if (m->have & MC_H_DELTA) {
		pb_json_key(j, "delta");
		pb_json_u64(j, m->delta);
	}
	if (m->have & MC_H_INITIAL) {
		pb_json_key(j, "initial");
		pb_json_u64(j, m->initial);
	}
	if (m->have & MC_H_VERBOSITY) {
		pb_json_key(j, "verbosity");
		pb_json_u64(j, m->verbosity);
	}
	if (m->have & MC_H_SLEEP) {
		pb_json_key(j, "sleep_us");
		pb_json_u64(j, m->value);
	}
	if (m->have & MC_H_SRC) {
		pb_json_key(j, "source_class");
		pb_json_i64(j, m->src_class);
	}
	if (m->have & MC_H_DST) {
		pb_json_key(j, "dest_class");
		pb_json_i64(j, m->dst_class);
	}
	if (m->have & MC_H_AUTOMOVE) {
		static const char *const modes[] = { "standby", "slow", "aggressive" };

		pb_json_key(j, "automove");
		if (m->value < 3) {
			pb_json_cstr(j, modes[m->value]);
		} else {
			char b[24];

			snprintf(b, sizeof(b), "%llu", (unsigned long long)m->value);
			pb_json_cstr(j, b);
		}
	}
	if (m->have & MC_H_VALUE) {
		pb_json_key(j, "value");
		pb_json_u64(j, m->value);
	}
	if (m->have & MC_H_NOREPLY) {
		pb_json_key(j, "noreply");
		pb_json_bool(j, m->noreply);
	}
	/* a meta answer without flags has none to show */
	if (m->raw.set && (m->raw.len || !m->meta)) {
		pb_json_key(j, "raw_args");
		mc_json_span(j, m, &m->raw);
	}
	if (m->line.set) {
		pb_json_key(j, "line");
		mc_json_span(j, m, &m->line);
	}
	if (m->err.set) {
		pb_json_key(j, "error_msg");
		mc_json_span(j, m, &m->err);
	}
	if (m->ver.set) {
		pb_json_key(j, "version");
		mc_json_span(j, m, &m->ver);
	}
	if (m->have & MC_H_STATS) {
		size_t off = 0, n, vn;
		const uint8_t *p, *v;

		pb_json_key(j, "stats");
		pb_json_arr(j);
		while (mc_rec_next(&m->stats, &off, &p, &n) &&
		       mc_rec_next(&m->stats, &off, &v, &vn)) {
			pb_json_obj(j);
			pb_json_key(j, "name");
			pb_json_str(j, p, n);
			pb_json_key(j, "value");
			pb_json_str(j, v, vn);
			pb_json_obj_end(j);
		}
		pb_json_arr_end(j);
	}
	pb_json_obj_end(j);
}

static void mc_write(struct pb_json *j, const struct pb_txn *t, void *arg)
{
	const struct mc_out *o = arg;
	const struct mc_msg *m = o->rq ? o->rq : o->rs;

	pb_json_key(j, "memcache");
	pb_json_obj(j);
	pb_json_key(j, "protocol_type");
	if (!m)
		pb_json_ascii(j, "unknown", 7);
	else if (m->binary)
		pb_json_ascii(j, "binary", 6);
	else
		pb_json_ascii(j, "text", 4);
	if (o->rq) {
		pb_json_key(j, "request");
		mc_write_msg(j, o->rq);
	}
	if (o->rs) {
		pb_json_key(j, "response");
		mc_write_msg(j, o->rs);
	}
	pb_json_obj_end(j);
	(void)t;
}

/* The status Packetbeat derives (computeTransactionStatus). */
static const char *mc_status(const struct mc_msg *rq, const struct mc_msg *rs)
{
	if (!rq)
		return "Client Error";
	if (!rs) {
		if (rq->quiet || rq->noreply || rq->kind == MC_K_QUIT)
			return "OK";
		return "Server Error";
	}
	if (rq->binary) {
		if (rs->status == 0)
			return "OK";
		return rs->status > 0x80 ? "Server Error" : "Error";
	}
	if (rs->type != mc_t_fail)
		return "OK";
	if (rs->command && (strcmp(rs->command, "CLIENT_ERROR") == 0 ||
			    strcmp(rs->command, "SAME") == 0))
		return "Client Error";
	if (rs->kind == MC_K_ERRMSG && strcmp(rs->command, "CLIENT_ERROR") != 0)
		return "Server Error";
	return "Error";
}

static void mc_msg_notes(struct pb_txn *t, const struct mc_msg *m)
{
	int rq = m->is_req;

	if (m->loss)
		pb_txn_note(t, rq ? mc_n_loss_rq : mc_n_loss_rs);
	if (m->incomplete)
		pb_txn_note(t, rq ? mc_n_inc_rq : mc_n_inc_rs);
	if (m->bad)
		pb_txn_note(t, mc_n_bad);
	if (m->crlf)
		pb_txn_note(t, mc_n_crlf);
	if (m->cut)
		pb_txn_note(t, mc_n_kept);
	if (m->overflow)
		pb_txn_note(t, mc_n_pipe);
	if (m->nonquiet)
		pb_txn_note(t, mc_n_nonquiet);
	if (m->unfinished)
		pb_txn_note(t, mc_n_unfinished);
	if (m->resp_lost)
		pb_txn_note(t, mc_n_loss_rs);
}

/* Write one transaction (either side may be missing) and free both.  A
 * side that is an unknown command (parseunknown off) is not written:
 * with nothing else, nothing is. */
static void mc_emit(struct pb_txn_conn *c, struct mc_msg *rq, struct mc_msg *rs)
{
	struct mc_out o;
	struct pb_txn t;
	char action[48];
	const struct mc_msg *first, *last;
	int rs_unknown = 0;

	if (rq && rq->hidden) {
		mc_msg_free(rq);
		rq = NULL;
		if (rs)
			rs->hidden = 1;   /* the answer to an unpublished command */
	}
	if (rs && rs->hidden) {
		rs_unknown = rq != NULL;
		mc_msg_free(rs);
		rs = NULL;
	}
	if (!rq && !rs)
		return;
	first = rq ? rq : rs;
	last = rs ? rs : rq;
	memset(&t, 0, sizeof(t));
	t.client = rq ? rq->dir : (uint8_t)!rs->dir;
	t.has_request = rq != NULL;
	t.has_response = rs != NULL;
	t.start_ns = first->start_ns;
	t.first_pkt = first->first_pkt;
	t.end_ns = last->end_ns;
	t.last_pkt = last->last_pkt;
	t.request_bytes = rq ? rq->size : 0;
	t.response_bytes = rs ? rs->size : 0;
	t.status = mc_status(rq, rs);
	/* event.action "memcache.<request type>" and event.outcome "success"
	 * for a response of status 0 (every text response), as Packetbeat
	 * writes them */
	if (rq && rq->type) {
		size_t i, n = sizeof("memcache.") - 1;

		memcpy(action, "memcache.", n);
		for (i = 0; rq->type[i] && n < sizeof(action) - 1; i++, n++)
			action[n] = (char)tolower((unsigned char)rq->type[i]);
		action[n] = '\0';
		t.action = action;
	}
	if (rs && (!rs->binary || rs->status == 0))
		t.outcome = "success";
	/* the request's notes first, as Packetbeat appends them */
	if (rq)
		mc_msg_notes(&t, rq);
	if (rs_unknown)
		pb_txn_note(&t, mc_n_unknown);
	if (rs) {
		mc_msg_notes(&t, rs);
		if (!rq)
			pb_txn_note(&t, mc_n_norq);
	}
	if (rq && rq->rawtext.len) {
		t.request = (const uint8_t *)rq->rawtext.data;
		t.request_len = rq->rawtext.len;
	}
	if (rs && rs->rawtext.len) {
		t.response = (const uint8_t *)rs->rawtext.data;
		t.response_len = rs->rawtext.len;
	}
	o.rq = rq;
	o.rs = rs;
	o.cf = mc_cf(c);
	t.write = mc_write;
	t.arg = &o;
	pb_txn_emit(c, &t);
	mc_msg_free(rq);
	mc_msg_free(rs);
}

/* ----------------------------------------------------------- pairing */

static struct mc_msg *mc_q_take(struct pb_txn_queue *q, unsigned i)
{
	struct mc_msg *m = NULL;

	if (pb_txn_queue_take(q, i, &m) < 0)
		return NULL;
	return m;
}

static struct mc_msg *mc_q_peek(const struct pb_txn_queue *q, unsigned i)
{
	struct mc_msg **p = pb_txn_queue_peek(q, i);

	return p ? *p : NULL;
}

/* A request that expects an answer waits in its direction's queue; a
 * full queue writes its oldest unanswered first. */
static void mc_queue_request(struct pb_txn_conn *c, int dir, struct mc_msg *m)
{
	struct mc_dir *d = mc_d(c, dir);
	struct mc_msg **slot = pb_txn_queue_push(&d->q);

	if (!slot) {
		struct mc_msg *old = mc_q_take(&d->q, 0);

		if (old) {
			if (!old->quiet && !old->noreply)
				old->overflow = 1;
			mc_emit(c, old, NULL);
		}
		slot = pb_txn_queue_push(&d->q);
	}
	if (!slot) {
		mc_emit(c, m, NULL);    /* out of memory: written alone */
		return;
	}
	*slot = m;
}

/* A meta response rs cannot answer a quiet meta request rq when it is
 * the kind q hides ("q: noreply semantics for return codes"): EN for
 * mg, HD for ms/md/ma, NF for md; and MN answers only mn. */
static int mc_meta_skips(const struct mc_msg *rq, const struct mc_msg *rs)
{
	const char *w = rs->command;

	if (rs->kind == MC_K_META && strcmp(w, "MN") == 0)
		return rq->kind != MC_K_MN;
	if (!rq->quiet)
		return 0;
	if (rq->kind == MC_K_MG)
		return strcmp(w, "EN") == 0;
	if (rq->kind == MC_K_MD)
		return strcmp(w, "HD") == 0 || strcmp(w, "NF") == 0;
	if (rq->kind == MC_K_MS || rq->kind == MC_K_MA)
		return strcmp(w, "HD") == 0;
	return 0;
}

/* Meta opaque tokens ("O..." flags) of both sides differ. */
static int mc_otok_differ(const struct mc_msg *a, const struct mc_msg *b)
{
	if (!a->otok.set || !b->otok.set)
		return 0;
	return a->otok.len != b->otok.len ||
	       memcmp(a->txt.data + a->otok.off, b->txt.data + b->otok.off, a->otok.len) != 0;
}

/* A meta response that names its key (k flag) names another than the
 * request's. */
static int mc_key_differs(const struct mc_msg *rq, const struct mc_msg *rs)
{
	size_t off = 0, n;
	const uint8_t *p;

	if (!rs->ktok.set || !mc_rec_next(&rq->keys, &off, &p, &n))
		return 0;
	return n != rs->ktok.len || memcmp(p, rs->txt.data + rs->ktok.off, n) != 0;
}

/* A complete response from dir: it answers a request from the other
 * direction. */
static void mc_pair(struct pb_txn_conn *c, int dir, struct mc_msg *rs)
{
	struct pb_txn_queue *q = &mc_d(c, !dir)->q;
	struct mc_msg *rq;
	unsigned i, n;

	if (!rs->binary) {
		/* text: the oldest, after the quiet meta requests this
		 * response cannot be the answer of */
		while ((rq = mc_q_peek(q, 0)) != NULL) {
			if (rq->binary || (rq->meta && rs->meta &&
					   (mc_meta_skips(rq, rs) ||
					    (rq->quiet && (mc_otok_differ(rq, rs) ||
							   mc_key_differs(rq, rs)))))) {
				rq = mc_q_take(q, 0);
				if (!rq->quiet && !rq->noreply)
					rq->nonquiet = 1;
				mc_emit(c, rq, NULL);
				continue;
			}
			mc_emit(c, mc_q_take(q, 0), rs);
			return;
		}
		mc_emit(c, NULL, rs);
		return;
	}
	/* binary: the oldest request with the same opaque and opcode */
	n = pb_txn_queue_len(q);
	for (i = 0; i < n; i++) {
		rq = mc_q_peek(q, i);
		if (rq->binary && rq->opaque == rs->opaque && rq->opcode == rs->opcode)
			break;
	}
	if (i == n) {
		mc_emit(c, NULL, rs);
		return;
	}
	/* the requests before it got no answer: quiet ones need none */
	while (i-- > 0) {
		rq = mc_q_take(q, 0);
		if (!rq->quiet && !rq->noreply)
			rq->nonquiet = 1;
		mc_emit(c, rq, NULL);
	}
	mc_emit(c, mc_q_take(q, 0), rs);
}

/* A request that gets no answer: noreply, the text quit, and the
 * binary QuitQ (Packetbeat waits for the answer of a binary Quit). */
static int mc_no_answer(const struct mc_msg *m)
{
	if (m->binary)
		return m->opcode == 0x17;
	return m->noreply || m->kind == MC_K_QUIT;
}

/* A message is complete: for UDP it is collected; for TCP a request
 * waits for its answer (or is written now when none comes) and a
 * response answers. */
static void mc_deliver(struct pb_txn_conn *c, int dir, struct mc_msg *m)
{
	struct mc_dir *d = mc_d(c, dir);

	if (d->udp) {
		if (d->ngot < MC_N(d->got))
			d->got[d->ngot++] = m;
		else if (d->trial)
			mc_msg_free(m);
		else
			mc_emit(c, m->is_req ? m : NULL, m->is_req ? NULL : m);
		return;
	}
	if (!m->is_req) {
		mc_pair(c, dir, m);
		return;
	}
	/* no answer comes: noreply, quit, QuitQ (and a hidden noreply) */
	if (mc_no_answer(m)) {
		mc_emit(c, m, NULL);
		return;
	}
	mc_queue_request(c, dir, m);
}

/* The multi-part response being put together ends (with its END, or
 * cut short by something else). */
static void mc_close_open(struct pb_txn_conn *c, int dir)
{
	struct mc_dir *d = mc_d(c, dir);
	struct mc_msg *o = d->open;

	if (!o)
		return;
	d->open = NULL;
	mc_deliver(c, dir, o);
}

/* m continues o: its keys, values, stats and bytes go into o. */
static void mc_merge(struct mc_msg *o, struct mc_msg *m)
{
	size_t off = 0, n;
	const uint8_t *p;

	o->size += m->size;
	o->end_ns = m->end_ns;
	o->last_pkt = m->last_pkt;
	o->loss |= m->loss;
	o->bad |= m->bad;
	o->crlf |= m->crlf;
	o->cut |= m->cut;
	o->incomplete |= m->incomplete;
	if (m->kind == MC_K_VALUE) {
		o->bytes += m->bytes;
		o->count_values += m->count_values;
		while (mc_rec_next(&m->keys, &off, &p, &n))
			if (mc_rec_add(&o->keys, p, n) < 0)
				o->cut = 1;
		off = 0;
		while (mc_rec_next(&m->vals, &off, &p, &n)) {
			if (mc_rec_add(&o->vals, p, n) < 0) {
				o->cut = 1;
				break;
			}
			o->values_kept++;
		}
	}
	off = 0;
	while (mc_rec_next(&m->stats, &off, &p, &n)) {
		if (mc_rec_add(&o->stats, p, n) < 0) {
			o->cut = 1;
			break;
		}
		o->have |= MC_H_STATS;
	}
	if (m->rawtext.len && o->rawtext.len + m->rawtext.len + 1 < o->rawtext.max)
		pb_buf_add(&o->rawtext, m->rawtext.data, m->rawtext.len);
}

/* The maxvalues limit, applied over a merged response too. */
static int mc_may_keep(const struct pb_txn_conn *c, const struct mc_msg *open, const struct mc_msg *m)
{
	const struct mc_conf *cf = mc_cf(c);
	uint64_t kept = m->values_kept + (open ? open->values_kept : 0);

	if (cf->maxvalues == 0)
		return 0;
	return cf->maxvalues < 0 || kept < (uint64_t)cf->maxvalues;
}

/* The last byte of m was read. */
static void mc_done(struct pb_txn_conn *c, int dir, struct mc_msg *m)
{
	struct mc_dir *d = mc_d(c, dir);
	struct mc_msg *o = d->open;

	if (d->cur == m)
		d->cur = NULL;
	if (m->is_req) {
		mc_deliver(c, dir, m);
		return;
	}
	if (!m->binary) {
		/* VALUE and STAT lines go on until END */
		if (o && ((o->kind == MC_K_VALUE && (m->kind == MC_K_VALUE || m->kind == MC_K_END)) ||
			  (o->kind == MC_K_STAT && (m->kind == MC_K_STAT || m->kind == MC_K_END)))) {
			mc_merge(o, m);
			if (m->kind == MC_K_END)
				mc_close_open(c, dir);
			mc_msg_free(m);
			return;
		}
		if (o) {
			o->incomplete = 1;
			mc_close_open(c, dir);
		}
		if (m->kind == MC_K_VALUE || m->kind == MC_K_STAT) {
			d->open = m;
			return;
		}
		mc_deliver(c, dir, m);
		return;
	}
	/* binary: Stat answers come one per statistic, the last without a
	 * key, all with the request's opaque */
	if (m->opcode == 0x10 && m->status == 0) {
		int last = !(m->have & MC_H_STATS);

		if (o && o->opcode == 0x10 && o->opaque == m->opaque) {
			mc_merge(o, m);
			mc_msg_free(m);
			if (last)
				mc_close_open(c, dir);
			return;
		}
		if (o) {
			o->incomplete = 1;
			mc_close_open(c, dir);
		}
		if (!last) {
			d->open = m;
			return;
		}
		mc_deliver(c, dir, m);
		return;
	}
	if (o) {
		o->incomplete = 1;
		mc_close_open(c, dir);
	}
	mc_deliver(c, dir, m);
}

/* ------------------------------------------------------- text lines */

/* The next space-separated token of l[0..n) from *pos (memcached
 * tokenizes on spaces only); 0 when there is none. */
static int mc_tok(const uint8_t *l, size_t n, size_t *pos, const uint8_t **t, size_t *tn)
{
	size_t i = *pos, b;

	while (i < n && l[i] == ' ')
		i++;
	if (i >= n) {
		*pos = i;
		return 0;
	}
	b = i;
	while (i < n && l[i] != ' ')
		i++;
	*t = l + b;
	*tn = i - b;
	*pos = i;
	return 1;
}

static int mc_eq(const uint8_t *t, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(t, s, n) == 0;
}

/* An unsigned decimal (memcached's safe_strtoull): digits only. */
static int mc_u64(const uint8_t *t, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned dg;

		if (t[i] < '0' || t[i] > '9')
			return -1;
		dg = (unsigned)(t[i] - '0');
		if (v > (UINT64_MAX - dg) / 10)
			return -1;
		v = v * 10 + dg;
	}
	*out = v;
	return 0;
}

/* A signed decimal (exptime may be negative: expired at once). */
static int mc_i64(const uint8_t *t, size_t n, int64_t *out)
{
	uint64_t v;
	int neg = n > 0 && t[0] == '-';

	if (mc_u64(t + neg, n - (size_t)neg, &v) < 0 || v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* Read the next token as a number into a field, or note the message. */
#define MC_NEXT(l, n, pos, t, tn) mc_tok((l), (n), (pos), &(t), &(tn))

/* The arguments after "noreply" may be any; noreply is the word itself
 * as the last token (protocol.txt), read as Packetbeat does: a token
 * that starts with it. */
static void mc_noreply(struct mc_msg *m, const uint8_t *l, size_t n, size_t pos)
{
	const uint8_t *t;
	size_t tn;

	m->have |= MC_H_NOREPLY;
	while (mc_tok(l, n, &pos, &t, &tn))
		if (tn >= 7 && memcmp(t, "noreply", 7) == 0)
			m->noreply = 1;
}

static const struct mc_tcmd *mc_tcmd_find(const struct mc_tcmd *tab, size_t n, const uint8_t *w,
					  size_t wn)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (mc_eq(w, wn, tab[i].name))
			return &tab[i];
	return NULL;
}

/* Meta flags: the tokens after the key (raw_args), q (quiet), O
 * (opaque, echoed back), and for ms the data length first. */
static void mc_meta_flags(struct mc_msg *m, const uint8_t *l, size_t n, size_t pos)
{
	const uint8_t *t;
	size_t tn, b = pos;

	while (b < n && l[b] == ' ')
		b++;
	mc_span_set(m, &m->raw, l + b, n - b);
	while (mc_tok(l, n, &pos, &t, &tn)) {
		if (tn == 1 && t[0] == 'q')
			m->quiet = 1;
		else if (tn >= 1 && t[0] == 'O')
			mc_span_set(m, &m->otok, t, tn);
		else if (tn > 1 && t[0] == 'k' && !m->is_req)
			mc_span_set(m, &m->ktok, t + 1, tn - 1);  /* k<key> */
	}
}

/* One text request line l[0..n) (without its line end); *data is set
 * to the length of the data block that follows, or -1. */
static void mc_text_request(struct pb_txn_conn *c, struct mc_msg *m, const struct mc_tcmd *cmd,
			    const uint8_t *l, size_t n, size_t pos, int64_t *data)
{
	const uint8_t *t;
	size_t tn;
	uint64_t u;
	int ok = 1;

	m->is_req = 1;
	m->kind = cmd->kind;
	m->command = cmd->name;
	m->type = cmd->type;
	*data = -1;
	switch (cmd->kind) {
	case MC_K_GAT:
		/* gat <exptime> <key>* */
		m->have |= MC_H_EXPTIME;
		if (!MC_NEXT(l, n, &pos, t, tn) || mc_i64(t, tn, &m->exptime) < 0)
			ok = 0;
		/* fall through */
	case MC_K_GET:
		/* get <key>*: every token a key (Packetbeat keeps them all) */
		m->have |= MC_H_KEYS;
		while (MC_NEXT(l, n, &pos, t, tn))
			mc_key_add(m, t, tn);
		if (m->keys.len == 0)
			ok = 0;         /* memcached answers ERROR */
		break;
	case MC_K_STORE:
	case MC_K_CAS:
		/* <cmd> <key> <flags> <exptime> <bytes> [<cas>] [noreply] */
		m->have |= MC_H_KEYS | MC_H_FLAGS | MC_H_EXPTIME | MC_H_BYTES | MC_H_COUNT;
		if (MC_NEXT(l, n, &pos, t, tn))
			mc_key_add(m, t, tn);
		else
			ok = 0;
		if (!MC_NEXT(l, n, &pos, t, tn) || mc_u64(t, tn, &u) < 0 || u > UINT32_MAX)
			ok = 0;
		else
			m->flags = (uint32_t)u;
		if (!MC_NEXT(l, n, &pos, t, tn) || mc_i64(t, tn, &m->exptime) < 0)
			ok = 0;
		if (!MC_NEXT(l, n, &pos, t, tn) || mc_u64(t, tn, &m->bytes) < 0 ||
		    m->bytes > MC_MAX_BODY)
			ok = 0;
		else
			*data = (int64_t)m->bytes;
		if (cmd->kind == MC_K_CAS) {
			m->have |= MC_H_CAS;
			if (!MC_NEXT(l, n, &pos, t, tn) || mc_u64(t, tn, &m->cas) < 0)
				ok = 0;
		}
		mc_noreply(m, l, n, pos);
		break;
	case MC_K_COUNTER:
		/* incr <key> <value> [noreply] */
		m->have |= MC_H_KEYS | MC_H_DELTA;
		if (MC_NEXT(l, n, &pos, t, tn))
			mc_key_add(m, t, tn);
		if (!MC_NEXT(l, n, &pos, t, tn) || mc_u64(t, tn, &m->delta) < 0) {
			m->have &= ~(uint32_t)MC_H_DELTA;
			ok = 0;
		}
		mc_noreply(m, l, n, pos);
		break;
	case MC_K_TOUCH:
		/* touch <key> <exptime> [noreply] */
		m->have |= MC_H_KEYS | MC_H_EXPTIME;
		if (MC_NEXT(l, n, &pos, t, tn))
			mc_key_add(m, t, tn);
		if (!MC_NEXT(l, n, &pos, t, tn) || mc_i64(t, tn, &m->exptime) < 0)
			ok = 0;
		mc_noreply(m, l, n, pos);
		break;
	case MC_K_DELETE:
		/* delete <key> [noreply] */
		m->have |= MC_H_KEYS;
		if (MC_NEXT(l, n, &pos, t, tn))
			mc_key_add(m, t, tn);
		else
			ok = 0;
		mc_noreply(m, l, n, pos);
		break;
	case MC_K_FLUSH: {
		/* flush_all [delay] [noreply] */
		size_t p2 = pos;

		m->have |= MC_H_EXPTIME;
		if (MC_NEXT(l, n, &p2, t, tn) && mc_i64(t, tn, &m->exptime) == 0)
			pos = p2;
		mc_noreply(m, l, n, pos);
		break;
	}
	case MC_K_STATS:
		/* stats [args]: the arguments as they are */
		mc_span_set(m, &m->raw, l + pos + (pos < n), n - pos - (pos < n));
		break;
	case MC_K_VERBOSITY:
		m->have |= MC_H_VERBOSITY;
		if (!MC_NEXT(l, n, &pos, t, tn) || mc_u64(t, tn, &m->verbosity) < 0)
			ok = 0;
		mc_noreply(m, l, n, pos);
		break;
	case MC_K_VERSION:
		break;
	case MC_K_QUIT:
		m->have |= MC_H_NOREPLY;
		break;
	case MC_K_SLABS:
	case MC_K_LRU: {
		/* subcommands: "slabs reassign <src> <dst>", "slabs automove
		 * <0|1|2>", "lru_crawler enable|disable|sleep <us>|tocrawl
		 * <n>|crawl <classes>" */
		const uint8_t *sub;
		size_t sn;
		int64_t v;

		if (!MC_NEXT(l, n, &pos, sub, sn)) {
			ok = 0;
			break;
		}
		if (cmd->kind == MC_K_SLABS && mc_eq(sub, sn, "reassign")) {
			m->command = "slabs reassign";
			if (MC_NEXT(l, n, &pos, t, tn) && mc_i64(t, tn, &v) == 0) {
				m->src_class = v;
				m->have |= MC_H_SRC;
			}
			if (MC_NEXT(l, n, &pos, t, tn) && mc_i64(t, tn, &v) == 0) {
				m->dst_class = v;
				m->have |= MC_H_DST;
			}
		} else if (cmd->kind == MC_K_SLABS && mc_eq(sub, sn, "automove")) {
			m->command = "slabs automove";
			if (MC_NEXT(l, n, &pos, t, tn) && mc_u64(t, tn, &m->value) == 0)
				m->have |= MC_H_AUTOMOVE;
		} else if (cmd->kind == MC_K_LRU && mc_eq(sub, sn, "enable")) {
			m->command = "lru_crawler enable";
		} else if (cmd->kind == MC_K_LRU && mc_eq(sub, sn, "disable")) {
			m->command = "lru_crawler disable";
		} else if (cmd->kind == MC_K_LRU && mc_eq(sub, sn, "sleep")) {
			m->command = "lru_crawler sleep";
			if (MC_NEXT(l, n, &pos, t, tn) && mc_u64(t, tn, &m->value) == 0)
				m->have |= MC_H_SLEEP;
		} else if (cmd->kind == MC_K_LRU && mc_eq(sub, sn, "tocrawl")) {
			m->command = "lru_crawler tocrawl";
			if (MC_NEXT(l, n, &pos, t, tn) && mc_u64(t, tn, &m->value) == 0)
				m->have |= MC_H_VALUE;
		} else if (cmd->kind == MC_K_LRU && mc_eq(sub, sn, "crawl")) {
			m->command = "lru_crawler crawl";
			mc_span_set(m, &m->raw, l + pos + (pos < n), n - pos - (pos < n));
		} else {
			/* a subcommand Packetbeat does not know: an unknown
			 * command, as it has it */
			m->kind = MC_K_UNKNOWN;
			m->command = "UNKNOWN";
			m->type = mc_t_unknown;
			mc_span_set(m, &m->line, l, n);
			m->hidden = !mc_cf(c)->parseunknown;
		}
		break;
	}
	case MC_K_MS:
		/* ms <key> <datalen> <flags>* */
		m->meta = 1;
		m->have |= MC_H_KEYS | MC_H_BYTES | MC_H_COUNT;
		if (MC_NEXT(l, n, &pos, t, tn))
			mc_key_add(m, t, tn);
		else
			ok = 0;
		if (!MC_NEXT(l, n, &pos, t, tn) || mc_u64(t, tn, &m->bytes) < 0 ||
		    m->bytes > MC_MAX_BODY)
			ok = 0;
		else
			*data = (int64_t)m->bytes;
		mc_meta_flags(m, l, n, pos);
		break;
	case MC_K_MG:
	case MC_K_MD:
	case MC_K_MA:
	case MC_K_ME:
		/* m? <key> <flags>* */
		m->meta = 1;
		m->have |= MC_H_KEYS;
		if (MC_NEXT(l, n, &pos, t, tn))
			mc_key_add(m, t, tn);
		else
			ok = 0;
		mc_meta_flags(m, l, n, pos);
		break;
	case MC_K_MN:
		m->meta = 1;
		break;
	default:
		break;
	}
	if (!ok)
		m->bad = 1;
}

/* One text response line. */
static void mc_text_response(struct mc_msg *m, const struct mc_tcmd *cmd, const uint8_t *l,
			     size_t n, size_t pos, int64_t *data)
{
	const uint8_t *t, *name;
	size_t tn, nn;
	uint64_t u;
	int ok = 1;

	m->kind = cmd->kind;
	m->command = cmd->name;
	m->type = cmd->type;
	*data = -1;
	switch (cmd->kind) {
	case MC_K_VALUE:
		/* VALUE <key> <flags> <bytes> [<cas unique>] */
		m->have |= MC_H_KEYS | MC_H_FLAGS | MC_H_BYTES | MC_H_CAS | MC_H_COUNT;
		if (MC_NEXT(l, n, &pos, t, tn))
			mc_key_add(m, t, tn);
		else
			ok = 0;
		if (!MC_NEXT(l, n, &pos, t, tn) || mc_u64(t, tn, &u) < 0 || u > UINT32_MAX)
			ok = 0;
		else
			m->flags = (uint32_t)u;
		if (!MC_NEXT(l, n, &pos, t, tn) || mc_u64(t, tn, &m->bytes) < 0 ||
		    m->bytes > MC_MAX_BODY)
			ok = 0;
		else
			*data = (int64_t)m->bytes;
		if (MC_NEXT(l, n, &pos, t, tn) && mc_u64(t, tn, &m->cas) < 0)
			ok = 0;
		break;
	case MC_K_ERRMSG:
		/* CLIENT_ERROR <message>: the rest of the line */
		mc_span_set(m, &m->err, l + pos + (pos < n), n - pos - (pos < n));
		break;
	case MC_K_STAT:
		/* STAT <name> <value> */
		m->have |= MC_H_STATS;
		if (!MC_NEXT(l, n, &pos, name, nn)) {
			ok = 0;
			break;
		}
		while (pos < n && l[pos] == ' ')
			pos++;
		t = l + pos;
		tn = n - pos;
		if (mc_rec_add(&m->stats, name, nn) < 0 || mc_rec_add(&m->stats, t, tn) < 0)
			m->cut = 1;
		break;
	case MC_K_RVERSION:
		mc_span_set(m, &m->ver, l + pos + (pos < n), n - pos - (pos < n));
		break;
	case MC_K_VA:
		/* VA <size> <flags>* */
		m->meta = 1;
		m->have |= MC_H_BYTES | MC_H_COUNT;
		if (!MC_NEXT(l, n, &pos, t, tn) || mc_u64(t, tn, &m->bytes) < 0 ||
		    m->bytes > MC_MAX_BODY)
			ok = 0;
		else
			*data = (int64_t)m->bytes;
		mc_meta_flags(m, l, n, pos);
		break;
	case MC_K_META:
		m->meta = 1;
		mc_meta_flags(m, l, n, pos);
		break;
	case MC_K_MEDATA:
		/* ME <key> <k>=<v>*: debug data on the line */
		m->meta = 1;
		if (MC_NEXT(l, n, &pos, t, tn)) {
			m->have |= MC_H_KEYS;
			mc_key_add(m, t, tn);
		}
		mc_span_set(m, &m->raw, l + pos + (pos < n), n - pos - (pos < n));
		break;
	default:
		break;
	}
	if (!ok)
		m->bad = 1;
}

/* The counter response: a number alone on its line. */
static int mc_is_number_line(const uint8_t *l, size_t n, uint64_t *v)
{
	size_t e = n;

	while (e > 0 && l[e - 1] == ' ')
		e--;
	return mc_u64(l, e, v) == 0;
}

/* A text line read in full (l[0..n) without its line end): the message
 * it starts.  *data: the data block's length, or -1. */
static struct mc_msg *mc_text_line(struct pb_txn_conn *c, int dir, const uint8_t *l, size_t n,
				   int64_t *data)
{
	struct mc_msg *m = mc_msg_new(dir);
	const struct mc_tcmd *cmd;
	const uint8_t *w = NULL;
	size_t wn = 0, pos = 0;
	uint64_t v;

	*data = -1;
	if (!m)
		return NULL;
	mc_tok(l, n, &pos, &w, &wn);
	/* requests are lower case, responses upper case or a number, as
	 * Packetbeat tells them apart */
	if (wn > 0 && w[0] >= 'a' && w[0] <= 'z' &&
	    (cmd = mc_tcmd_find(mc_requests, MC_N(mc_requests), w, wn)) != NULL) {
		mc_text_request(c, m, cmd, l, n, pos, data);
		return m;
	}
	if (wn > 0 && (cmd = mc_tcmd_find(mc_responses, MC_N(mc_responses), w, wn)) != NULL) {
		mc_text_response(m, cmd, l, n, pos, data);
		return m;
	}
	if (wn > 0 && mc_is_number_line(l, n, &v)) {
		m->kind = MC_K_NUMBER;
		m->command = "<counter_op_res>";
		m->type = mc_t_counter;
		m->value = v;
		m->have |= MC_H_VALUE;
		return m;
	}
	/* unknown: a request when it reads like one (lower case first), a
	 * response otherwise; written only with parseunknown */
	m->is_req = n > 0 && l[0] >= 'a' && l[0] <= 'z';
	m->kind = MC_K_UNKNOWN;
	m->command = "UNKNOWN";
	m->type = mc_t_unknown;
	mc_span_set(m, &m->line, l, n);
	m->hidden = !mc_cf(c)->parseunknown;
	if (m->hidden)
		mc_error(c);
	return m;
}

/* ----------------------------------------------------------- values */

/* The data of m begins: what it is, and whether it is kept. */
static void mc_data_begin(struct pb_txn_conn *c, int dir, struct mc_msg *m, int dkind)
{
	struct mc_dir *d = mc_d(c, dir);

	m->dkind = (uint8_t)dkind;
	m->val_keep = 0;
	m->ctr_n = 0;
	if (dkind == MC_D_VALUE) {
		m->have |= MC_H_COUNT;
		if (mc_may_keep(c, d->open, m)) {
			uint8_t h[4] = { 0, 0, 0, 0 };

			if (m->vals.len + 4 + 1 <= m->vals.max && pb_buf_add(&m->vals, h, 4) == 0) {
				m->val_at = m->vals.len - 4;
				m->val_keep = 1;
			} else {
				m->cut = 1;
			}
		}
	} else if (dkind == MC_D_VERSION) {
		mc_span_set(m, &m->ver, (const uint8_t *)"", 0);
	}
}

/* n more bytes of m's data. */
static void mc_data_add(struct pb_txn_conn *c, struct mc_msg *m, const uint8_t *p, size_t n)
{
	const struct mc_conf *cf = mc_cf(c);

	switch (m->dkind) {
	case MC_D_VALUE:
		if (m->val_keep) {
			size_t have = m->vals.len - m->val_at - 4, lim = SIZE_MAX;
			size_t room = m->vals.max - m->vals.len - 1;

			if (cf->maxbytespervalue > 0)
				lim = (size_t)cf->maxbytespervalue;
			if (have >= lim)
				break;
			if (n > lim - have)
				n = lim - have;
			if (n > room) {
				n = room;
				m->cut = 1;
			}
			if (n)
				pb_buf_add(&m->vals, p, n);
		}
		break;
	case MC_D_VERSION:
		if (m->txt.len + n + 1 <= m->txt.max && pb_buf_add(&m->txt, p, n) == 0)
			m->ver.len += (uint32_t)n;
		break;
	case MC_D_STAT:
		/* the value is kept whole in txt until it ends (the key is
		 * the name) */
		if (m->txt.len + n + 1 <= m->txt.max)
			pb_buf_add(&m->txt, p, n);
		break;
	case MC_D_COUNTER:
		while (n > 0 && m->ctr_n < 8) {
			m->ctr[m->ctr_n++] = *p++;
			n--;
		}
		break;
	default:
		break;
	}
}

/* m's data ended (lost: some of it fell in a gap). */
static void mc_data_end(struct mc_msg *m, int lost)
{
	switch (m->dkind) {
	case MC_D_VALUE:
		m->count_values++;
		if (m->val_keep) {
			if (lost) {
				/* Packetbeat counts a value with a hole, and keeps
				 * none of it */
				m->vals.len = m->val_at;
			} else {
				size_t len = m->vals.len - m->val_at - 4;
				uint8_t *h = (uint8_t *)m->vals.data + m->val_at;

				h[0] = (uint8_t)(len >> 24);
				h[1] = (uint8_t)(len >> 16);
				h[2] = (uint8_t)(len >> 8);
				h[3] = (uint8_t)len;
				m->values_kept++;
			}
			m->val_keep = 0;
		}
		break;
	case MC_D_STAT: {
		/* the statistic: its key, and the value held in txt */
		size_t off = 0, kn;
		const uint8_t *k;

		if (mc_rec_next(&m->keys, &off, &k, &kn) && !lost) {
			m->have |= MC_H_STATS;
			if (mc_rec_add(&m->stats, k, kn) < 0 ||
			    mc_rec_add(&m->stats, (const uint8_t *)(m->txt.data ? m->txt.data : ""),
				       m->txt.len) < 0)
				m->cut = 1;
		}
		/* the key was the statistic's name, not an item's */
		m->txt.len = 0;
		m->keys.len = 0;
		m->have &= ~(uint32_t)MC_H_KEYS;
		break;
	}
	case MC_D_COUNTER:
		if (m->ctr_n == 8) {
			struct pb_cur cu;

			pb_cur_init(&cu, m->ctr, 8);
			m->value = pb_cur_be64(&cu);
		}
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------ binary */

/* A header that could start a binary message (resynchronising). */
static int mc_bin_plausible(const uint8_t *p)
{
	struct pb_cur c;
	uint8_t magic, op, ext, dt;
	uint16_t kl;
	uint32_t total;

	pb_cur_init(&c, p, MC_BIN_HDR);
	magic = pb_cur_u8(&c);
	op = pb_cur_u8(&c);
	kl = pb_cur_be16(&c);
	ext = pb_cur_u8(&c);
	dt = pb_cur_u8(&c);
	pb_cur_skip(&c, 2);
	total = pb_cur_be32(&c);
	return (magic == 0x80 || magic == 0x81) && mc_op_find(op) && dt == 0 && ext <= 64 &&
	       (uint64_t)ext + kl <= total && total <= MC_MAX_BODY;
}

/* A binary message at p[0..n): 0 when more bytes are needed, else how
 * many bytes its header, extras and key took (the value follows, read
 * as data).  *m is the message (NULL: invalid, skip).  */
static size_t mc_bin_head(int dir, const uint8_t *p, size_t n, struct mc_msg **out,
			  uint64_t *value_len)
{
	struct pb_cur cu, ex;
	struct mc_msg *m;
	uint8_t magic, ext;
	uint16_t kl, st;
	uint32_t total;
	const uint8_t *key;

	*out = NULL;
	*value_len = 0;
	if (n < MC_BIN_HDR)
		return 0;
	pb_cur_init(&cu, p, n);
	magic = pb_cur_u8(&cu);
	(void)pb_cur_u8(&cu);
	kl = pb_cur_be16(&cu);
	ext = pb_cur_u8(&cu);
	(void)pb_cur_u8(&cu);
	st = pb_cur_be16(&cu);
	total = pb_cur_be32(&cu);
	/* extras and key are inside the body; the body is believed up to
	 * memcached's largest item */
	if ((uint64_t)ext + kl > total || total > MC_MAX_BODY)
		return MC_BIN_HDR;      /* invalid: *out stays NULL */
	if (n < (size_t)MC_BIN_HDR + ext + kl)
		return 0;               /* extras and key: at most 64 KiB */
	m = mc_msg_new(dir);
	if (!m)
		return MC_BIN_HDR;
	m->binary = 1;
	m->is_req = magic == 0x80;
	pb_cur_init(&cu, p, n);
	pb_cur_skip(&cu, 1);
	m->opcode = pb_cur_u8(&cu);
	pb_cur_skip(&cu, 3);
	m->datatype = pb_cur_u8(&cu);
	pb_cur_skip(&cu, 2);
	if (m->is_req)
		m->vbucket = st;
	else
		m->status = st;
	pb_cur_skip(&cu, 4);
	m->opaque = pb_cur_be32(&cu);
	m->cas = pb_cur_be64(&cu);
	if (m->cas)
		m->have |= MC_H_CAS;
	m->op = mc_op_find(m->opcode);
	m->kind = MC_K_BIN;
	if (m->op && m->op->cmd) {
		m->command = m->op->cmd;
		m->type = m->op->type;
	} else {
		m->command = "UNKNOWN";
		m->type = mc_t_unknown;
	}
	m->quiet = m->op ? m->op->quiet : 0;
	if (m->opcode == 0x07 || m->opcode == 0x17)
		m->kind = MC_K_QUIT;
	/* extras: their meaning depends on the opcode and direction */
	ex = pb_cur_sub(&cu, ext);
	if (m->is_req && m->op) {
		switch (m->op->args) {
		case MC_A_STORE:
			/* flags (4), expiration (4) */
			m->have |= MC_H_FLAGS | MC_H_EXPTIME;
			m->flags = pb_cur_be32(&ex);
			m->exptime = pb_cur_be32(&ex);
			break;
		case MC_A_COUNTER:
			/* delta (8), initial (8), expiration (4) */
			m->have |= MC_H_DELTA | MC_H_INITIAL | MC_H_EXPTIME;
			m->delta = pb_cur_be64(&ex);
			m->initial = pb_cur_be64(&ex);
			m->exptime = pb_cur_be32(&ex);
			break;
		case MC_A_EXPTIME:
			m->have |= MC_H_EXPTIME;
			m->exptime = pb_cur_be32(&ex);
			break;
		case MC_A_VERBOSITY:
			m->have |= MC_H_VERBOSITY;
			m->verbosity = pb_cur_be32(&ex);
			break;
		default:
			break;
		}
		if (ext && !pb_cur_ok(&ex))
			m->bad = 1;     /* extras shorter than the opcode's */
	} else if (!m->is_req && m->op && (m->opcode == 0x00 || m->opcode == 0x09 ||
					   m->opcode == 0x0c || m->opcode == 0x0d ||
					   (m->opcode >= 0x1d && m->opcode <= 0x1e) ||
					   m->opcode == 0x23 || m->opcode == 0x24)) {
		/* Get family: the item's flags */
		m->have |= MC_H_FLAGS;
		m->flags = pb_cur_be32(&ex);
	}
	if (m->op && m->op->type == mc_t_counter && !m->is_req)
		m->have |= MC_H_VALUE;
	if (kl) {
		key = pb_cur_bytes(&cu, kl);
		if (key)
			mc_key_add(m, key, kl);
	}
	*value_len = total - ext - kl;
	*out = m;
	return (size_t)MC_BIN_HDR + ext + kl;
}

/* --------------------------------------------------------- framing */

/* The time and packet of the byte at off of the data being parsed. */
static void mc_mark_start(struct pb_txn_conn *c, int dir, struct mc_msg *m, size_t off)
{
	pb_txn_byte_time(c, dir, off, &m->start_ns, &m->first_pkt);
	m->end_ns = m->start_ns;
	m->last_pkt = m->first_pkt;
}

static void mc_mark_end(struct pb_txn_conn *c, int dir, struct mc_msg *m, size_t off)
{
	pb_txn_byte_time(c, dir, off, &m->end_ns, &m->last_pkt);
}

/* A line can start a text message: its first word is a command or a
 * response word, or a number alone. */
static int mc_text_plausible(const uint8_t *p, size_t n)
{
	size_t pos = 0, e;
	const uint8_t *w;
	size_t wn;
	uint64_t v;

	if (!mc_tok(p, n, &pos, &w, &wn) || w != p)
		return 0;
	if (mc_tcmd_find(mc_requests, MC_N(mc_requests), w, wn) ||
	    mc_tcmd_find(mc_responses, MC_N(mc_responses), w, wn))
		return 1;
	e = n;
	return mc_is_number_line(p, e, &v);
}

/* RESYNC: skip to the first place a message can start: a line that
 * reads as one, or a plausible binary header.  d->bol says whether
 * p[0] starts a line. */
static size_t mc_st_resync(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n, int *more)
{
	struct mc_dir *d = mc_d(c, dir);
	size_t i;

	for (i = 0; i < n; i++) {
		int bol = i == 0 ? d->bol : p[i - 1] == '\n';

		/* a binary header needs all its 24 bytes to be judged */
		if (p[i] == 0x80 || p[i] == 0x81) {
			if (n - i < MC_BIN_HDR) {
				*more = 1;
				break;
			}
			if (mc_bin_plausible(p + i)) {
				d->state = MC_S_MSG;
				break;
			}
		}
		if (bol) {
			const uint8_t *nl = memchr(p + i, '\n', n - i);
			size_t ln;

			if (!nl) {
				/* a line start whose line is not all here yet */
				if (n - i < MC_MAX_LINE) {
					*more = 1;
					break;
				}
				continue;
			}
			ln = (size_t)(nl - (p + i));
			if (ln > 0 && p[i + ln - 1] == '\r')
				ln--;
			if (mc_text_plausible(p + i, ln)) {
				d->state = MC_S_MSG;
				break;
			}
		}
	}
	if (i > 0)
		d->bol = p[i - 1] == '\n';
	return i;
}

/* MSG: a message starts at p.  Returns bytes consumed; *more when the
 * message is not all here. */
static size_t mc_st_msg(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n, size_t base,
			int *more)
{
	struct mc_dir *d = mc_d(c, dir);
	struct mc_msg *m;
	const uint8_t *nl;
	size_t from, used, ln;
	int64_t data;

	if (p[0] == 0x80 || p[0] == 0x81) {
		uint64_t vlen;

		used = mc_bin_head(dir, p, n, &m, &vlen);
		if (used == 0) {
			*more = 1;
			return 0;
		}
		if (!m) {
			/* a header that contradicts itself: resynchronise */
			mc_error(c);
			d->state = MC_S_RESYNC;
			d->bol = 0;
			return 1;
		}
		mc_mark_start(c, dir, m, base);
		mc_mark_end(c, dir, m, base + used - 1);
		m->size = used + vlen;
		if (vlen == 0) {
			if (!m->is_req && m->opcode == 0x10 && m->status == 0) {
				/* a statistic with an empty value */
				m->dkind = MC_D_STAT;
				mc_data_end(m, 0);
			}
			mc_done(c, dir, m);
			return used;
		}
		/* the value: what it is depends on opcode and direction */
		m->bytes = vlen;
		if (!m->is_req && m->opcode == 0x0b)
			mc_data_begin(c, dir, m, MC_D_VERSION);
		else if (!m->is_req && m->opcode == 0x10 && m->status == 0)
			mc_data_begin(c, dir, m, MC_D_STAT);
		else if (!m->is_req && m->op && m->op->type == mc_t_counter && m->status == 0)
			mc_data_begin(c, dir, m, MC_D_COUNTER);
		else {
			m->have |= MC_H_BYTES;
			mc_data_begin(c, dir, m, MC_D_VALUE);
		}
		d->cur = m;
		d->remain = vlen;
		d->state = MC_S_DATA;
		return used;
	}
	/* a text line: resume the LF search where the last call stopped */
	from = d->lscan <= n ? d->lscan : 0;
	ln = n < MC_MAX_LINE ? n : MC_MAX_LINE;
	nl = from < ln ? memchr(p + from, '\n', ln - from) : NULL;
	if (!nl) {
		if (n >= MC_MAX_LINE) {
			/* no line end within the longest line believed */
			mc_error(c);
			d->state = MC_S_RESYNC;
			d->bol = 0;
			d->lscan = 0;
			return 1;
		}
		d->lscan = ln;
		*more = 1;
		return 0;
	}
	used = (size_t)(nl - p) + 1;
	ln = used - 1;
	if (ln > 0 && p[ln - 1] == '\r')
		ln--;
	if (ln == 0) {
		/* an empty line: memcached ignores it too */
		return used;
	}
	m = mc_text_line(c, dir, p, ln, &data);
	if (!m)
		return used;
	mc_mark_start(c, dir, m, base);
	mc_mark_end(c, dir, m, base + used - 1);
	m->size = used;
	mc_raw_add(c, m, p, used);
	if (data < 0) {
		mc_done(c, dir, m);
		return used;
	}
	/* a data block of the declared length, then CRLF */
	m->size += (uint64_t)data + 2;
	mc_data_begin(c, dir, m, m->kind == MC_K_MEDATA ? MC_D_SKIP : MC_D_VALUE);
	d->cur = m;
	d->remain = (uint64_t)data;
	d->state = data > 0 ? MC_S_DATA : MC_S_DATA_END;
	if (data == 0)
		mc_data_end(m, 0);      /* an empty value is a value */
	return used;
}

/* DATA: value bytes of the message being read. */
static size_t mc_st_data(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n, size_t base)
{
	struct mc_dir *d = mc_d(c, dir);
	struct mc_msg *m = d->cur;
	size_t k = d->remain < n ? (size_t)d->remain : n;

	mc_data_add(c, m, p, k);
	mc_raw_add(c, m, p, k);
	d->remain -= k;
	mc_mark_end(c, dir, m, base + k - 1);
	if (d->remain > 0)
		return k;
	mc_data_end(m, m->lost != 0);
	if (m->binary) {
		d->state = MC_S_MSG;
		mc_done(c, dir, m);
	} else {
		d->state = MC_S_DATA_END;
	}
	return k;
}

/* DATA_END: the CRLF after a text data block. */
static size_t mc_st_data_end(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			     size_t base, int *more)
{
	struct mc_dir *d = mc_d(c, dir);
	struct mc_msg *m = d->cur;
	size_t used = 0;

	if (p[0] == '\r') {
		if (n < 2) {
			*more = 1;
			return 0;
		}
		used = p[1] == '\n' ? 2 : 0;
	} else if (p[0] == '\n') {
		used = 1;               /* a bare LF, taken as the line end */
		m->size--;
	}
	d->state = MC_S_MSG;
	if (used == 0) {
		/* the block was longer or shorter than declared: the message
		 * ends here, and the next line start is looked for */
		m->crlf = 1;
		m->size -= 2;
		mc_done(c, dir, m);
		d->state = MC_S_RESYNC;
		d->bol = 0;
		return 0;
	}
	mc_raw_add(c, m, p, used);
	mc_mark_end(c, dir, m, base + used - 1);
	mc_done(c, dir, m);
	return used;
}

static size_t mc_step(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n, size_t base,
		      int *more)
{
	switch (mc_d(c, dir)->state) {
	case MC_S_DATA:
		return mc_st_data(c, dir, p, n, base);
	case MC_S_DATA_END:
		return mc_st_data_end(c, dir, p, n, base, more);
	case MC_S_RESYNC:
		return mc_st_resync(c, dir, p, n, more);
	default:
		return mc_st_msg(c, dir, p, n, base, more);
	}
}

/* Run the framer over data[0..len); returns what it consumed. */
static size_t mc_run(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct mc_dir *d = mc_d(c, dir);
	size_t off = 0;
	unsigned idle = 0;

	while (off < len) {
		int more = 0;
		size_t used = mc_step(c, dir, data + off, len - off, off, &more);

		if (used > len - off)
			used = len - off;
		off += used;
		if (used > 0)
			d->lscan = 0;
		if (more)
			break;
		if (used == 0 && ++idle > MC_MAX_IDLE)
			break;
		if (used > 0)
			idle = 0;
	}
	return off;
}

/* ------------------------------------------------------- timeouts */

static int64_t mc_timeout(const struct pb_txn_conn *c)
{
	return c->common && c->common->timeout_ns > 0 ? c->common->timeout_ns
						      : PB_TXN_DEF_TIMEOUT_NS;
}

static void mc_udp_flush(struct pb_txn_conn *c, struct mc_udp_txn *u);

/* Requests unanswered for transaction_timeout after their last byte are
 * written alone; UDP transactions idle for udptransactiontimeout too. */
static void mc_expire(struct pb_txn_conn *c, int64_t now)
{
	struct mc_state *s = mc_s(c);
	int64_t to = mc_timeout(c), uto = mc_cf(c)->udp_timeout_ns;
	int dir;
	unsigned i;

	for (dir = 0; dir < 2; dir++) {
		struct mc_dir *d = &s->d[dir], *od = &s->d[!dir];
		struct mc_msg *m;

		while ((m = mc_q_peek(&d->q, 0)) != NULL) {
			/* not while an answer is being read */
			if (od->cur || od->open)
				break;
			if (now < m->end_ns || now - m->end_ns < to)
				break;
			m = mc_q_take(&d->q, 0);
			if (!m->quiet && !m->noreply)
				m->unfinished = 1;
			mc_emit(c, m, NULL);
		}
	}
	if (uto <= 0 || !s->udp)
		return;
	for (i = 0; i < MC_UDP_MAX_PENDING && s->n_udp; i++) {
		struct mc_udp_txn *u = &s->udp[i];

		if (u->used && now >= u->touched && now - u->touched >= uto)
			mc_udp_flush(c, u);
	}
}

/* ---------------------------------------------------------- TCP */

static size_t mc_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct mc_dir *d = mc_d(c, dir);

	mc_expire(c, c->now_ns);
	/* a direction whose start was not captured may begin inside a
	 * message or its data: it starts where a message can */
	if (!d->started) {
		d->started = 1;
		if (c->mid_stream[dir & 1]) {
			d->state = MC_S_RESYNC;
			d->bol = 1;
		}
	}
	return mc_run(c, dir, data, len);
}

/* The message being read in dir is cut short. */
static void mc_cut(struct pb_txn_conn *c, int dir, int loss)
{
	struct mc_dir *d = mc_d(c, dir);
	struct mc_msg *m = d->cur;

	if (m) {
		if (loss)
			m->loss = 1;
		else
			m->incomplete = 1;
		if (d->state == MC_S_DATA || d->state == MC_S_DATA_END) {
			if (d->state == MC_S_DATA)
				mc_data_end(m, 1);
			m->lost += d->remain;
		}
		d->cur = NULL;
		d->remain = 0;
		mc_done(c, dir, m);
	}
	if (d->open) {
		if (loss)
			d->open->loss = 1;
		else
			d->open->incomplete = 1;
		mc_close_open(c, dir);
	}
}

/* n bytes of dir were not captured. */
static void mc_gap(struct pb_txn_conn *c, int dir, uint64_t n)
{
	struct mc_dir *d = mc_d(c, dir);
	struct mc_msg *m = d->cur;

	d->lscan = 0;
	if (m && d->state == MC_S_DATA && n < d->remain) {
		/* inside a value of known length: counted, not kept, and
		 * the message goes on (as Packetbeat does) */
		m->loss = 1;
		m->lost += n;
		d->remain -= n;
		if (m->dkind == MC_D_VALUE && m->val_keep) {
			m->vals.len = m->val_at;
			m->val_keep = 0;
			m->count_values++;
			m->dkind = MC_D_SKIP;
		}
		return;
	}
	if (m && d->state == MC_S_DATA && n == d->remain) {
		m->loss = 1;
		m->lost += n;
		d->remain = 0;
		mc_data_end(m, 1);
		if (m->binary) {
			d->state = MC_S_MSG;
			mc_done(c, dir, m);
		} else {
			d->state = MC_S_DATA_END;
		}
		return;
	}
	if (!m && !d->open) {
		struct mc_dir *od = mc_d(c, !dir);
		struct mc_msg *rq = mc_q_peek(&od->q, 0);

		/* between messages: text answers come in order, so what was
		 * lost held the answer of the oldest request */
		if (rq && !rq->binary) {
			rq = mc_q_take(&od->q, 0);
			rq->resp_lost = 1;
			mc_emit(c, rq, NULL);
		}
	}
	mc_cut(c, dir, 1);
	d->state = MC_S_RESYNC;
	d->bol = 0;
}

static void mc_fin(struct pb_txn_conn *c, int dir)
{
	struct mc_dir *d;

	if (!c->state)
		return;
	d = mc_d(c, dir);
	mc_cut(c, dir, 0);
	d->state = MC_S_MSG;
}

/* ---------------------------------------------------------- UDP */

static void mc_part_release(struct mc_udp_part *pt)
{
	pb_buf_release(&pt->batch);
	pb_buf_release(&pt->index);
	pb_buf_release(&pt->stream);
	memset(pt, 0, sizeof(*pt));
}

/* The batch's datagrams, in sequence order, onto the stream (those that
 * did not come are left out). */
static void mc_batch_close(struct mc_udp_part *pt)
{
	struct pb_cur ix;
	size_t k;

	for (k = 0; k < pt->count && (k + 1) * 8 <= pt->index.len; k++) {
		uint32_t off, ln;

		pb_cur_init(&ix, pt->index.data + k * 8, 8);
		off = pb_cur_be32(&ix);
		ln = pb_cur_be32(&ix);
		if (!(off & 0x80000000u))
			continue;       /* never came */
		off &= 0x7fffffffu;
		if (ln && (size_t)off + ln <= pt->batch.len &&
		    pb_buf_add(&pt->stream, pt->batch.data + off, ln) < 0)
			break;
	}
	pt->batch.len = 0;
	pt->index.len = 0;
	pt->active = 0;
	pt->seen = pt->count = 0;
}

/* Read the stream of dir's part as one message; unless final, only when
 * it reads whole (then 1).  Its messages go to u. */
static int mc_udp_read(struct pb_txn_conn *c, int dir, struct mc_udp_part *pt,
		       struct mc_udp_txn *u, int final)
{
	struct mc_dir *d = mc_d(c, dir);
	struct mc_dir saved = *d;
	size_t used;
	unsigned i;
	int whole;

	if (pt->done || (!pt->stream.len && !final))
		return pt->done;
	/* the direction's TCP-side state is put aside for the call */
	memset(d, 0, sizeof(*d));
	d->udp = 1;
	d->trial = !final;
	used = pt->stream.len ? mc_run(c, dir, (const uint8_t *)pt->stream.data, pt->stream.len)
			      : 0;
	whole = used == pt->stream.len && !d->cur && !d->open && d->state != MC_S_DATA &&
		d->state != MC_S_DATA_END;
	if (!whole && !final) {
		/* more datagrams to come: read again when they have */
		mc_cut(c, dir, 0);
		for (i = 0; i < d->ngot; i++)
			mc_msg_free(d->got[i]);
		*d = saved;
		return 0;
	}
	mc_cut(c, dir, 0);
	for (i = 0; i < d->ngot; i++) {
		struct mc_msg *m = d->got[i];

		/* the times are the datagrams' */
		m->start_ns = pt->first_ns;
		m->first_pkt = pt->first_pkt;
		m->end_ns = pt->last_ns;
		m->last_pkt = pt->last_pkt;
		if (m->is_req && !u->rq) {
			u->rq = m;
		} else if (!m->is_req && !u->rs) {
			u->rs = m;
		} else {
			/* more than one message of a kind: written alone */
			mc_emit(c, m->is_req ? m : NULL, m->is_req ? NULL : m);
		}
	}
	*d = saved;
	pt->done = 1;
	pb_buf_release(&pt->stream);
	return 1;
}

/* Write a UDP transaction as it stands and free it. */
static void mc_udp_flush(struct pb_txn_conn *c, struct mc_udp_txn *u)
{
	struct mc_state *s = mc_s(c);
	struct mc_msg *rq, *rs;
	int dir;

	/* what came of a message not yet read whole is read as it is */
	for (dir = 0; dir < 2; dir++) {
		struct mc_udp_part *pt = &u->part[dir];

		if (pt->any && !pt->done) {
			if (pt->active)
				mc_batch_close(pt);
			mc_udp_read(c, dir, pt, u, 1);
		}
	}
	rq = u->rq;
	rs = u->rs;
	u->rq = u->rs = NULL;
	if (rq && !rs && !rq->quiet && !rq->noreply)
		rq->unfinished = 1;
	mc_part_release(&u->part[0]);
	mc_part_release(&u->part[1]);
	u->used = 0;
	s->n_udp--;
	mc_emit(c, rq, rs);
}

/* The transaction of request id rid, made when absent (a full table
 * writes its stalest first). */
static struct mc_udp_txn *mc_udp_find(struct pb_txn_conn *c, uint16_t rid)
{
	struct mc_state *s = mc_s(c);
	struct mc_udp_txn *free_slot = NULL, *oldest = NULL;
	unsigned i;

	if (!s->udp) {
		s->udp = calloc(MC_UDP_MAX_PENDING, sizeof(*s->udp));
		if (!s->udp)
			return NULL;
	}
	for (i = 0; i < MC_UDP_MAX_PENDING; i++) {
		struct mc_udp_txn *u = &s->udp[i];

		if (u->used && u->rid == rid)
			return u;
		if (!u->used && !free_slot)
			free_slot = u;
		if (u->used && (!oldest || u->touched < oldest->touched))
			oldest = u;
	}
	if (!free_slot) {
		if (oldest->rq && !oldest->rq->quiet && !oldest->rq->noreply)
			oldest->rq->overflow = 1;
		mc_udp_flush(c, oldest);
		free_slot = oldest;
	}
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = 1;
	free_slot->rid = rid;
	s->n_udp++;
	return free_slot;
}

/* The batch has datagram seq already. */
static int mc_batch_has(const struct mc_udp_part *pt, uint16_t seq)
{
	struct pb_cur ix;

	if ((size_t)seq * 8 + 8 > pt->index.len)
		return 0;
	pb_cur_init(&ix, pt->index.data + (size_t)seq * 8, 8);
	return (pb_cur_be32(&ix) & 0x80000000u) != 0;
}

/* One datagram of a batch into pt: 0, or -1 when it cannot be kept. */
static int mc_batch_add(struct mc_udp_part *pt, uint16_t seq, const uint8_t *body, size_t bn)
{
	struct pb_cur ix;
	uint8_t rec[8];
	size_t k;

	if (pt->index.len == 0) {
		uint8_t zero[8] = { 0 };

		for (k = 0; k < pt->count; k++)
			if (pb_buf_add(&pt->index, zero, 8) < 0)
				return -1;
	}
	pb_cur_init(&ix, pt->index.data + (size_t)seq * 8, 8);
	if (pb_cur_be32(&ix) & 0x80000000u)
		return 0;               /* a duplicate */
	if (pt->batch.len + pt->stream.len + bn + 1 > MC_UDP_MAX_BYTES)
		return -1;              /* past the reassembly cap */
	rec[0] = (uint8_t)(0x80 | (pt->batch.len >> 24));
	rec[1] = (uint8_t)(pt->batch.len >> 16);
	rec[2] = (uint8_t)(pt->batch.len >> 8);
	rec[3] = (uint8_t)pt->batch.len;
	rec[4] = (uint8_t)(bn >> 24);
	rec[5] = (uint8_t)(bn >> 16);
	rec[6] = (uint8_t)(bn >> 8);
	rec[7] = (uint8_t)bn;
	if (bn && pb_buf_add(&pt->batch, body, bn) < 0)
		return -1;
	memcpy(pt->index.data + (size_t)seq * 8, rec, 8);
	pt->seen++;
	return 0;
}

/* A datagram: the frame header, then a piece of a message. */
static void mc_datagram(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct pb_cur cu;
	uint16_t rid, seq, cnt;
	struct mc_udp_txn *u;
	struct mc_udp_part *pt;
	const uint8_t *body;
	size_t bn;

	dir &= 1;
	mc_expire(c, c->now_ns);
	pb_cur_init(&cu, data, len);
	rid = pb_cur_be16(&cu);
	seq = pb_cur_be16(&cu);
	cnt = pb_cur_be16(&cu);
	pb_cur_skip(&cu, 2);
	if (!pb_cur_ok(&cu) || cnt == 0 || seq >= cnt || cnt > MC_UDP_MAX_DGRAMS) {
		/* no frame header, or one that contradicts itself */
		mc_error(c);
		return;
	}
	body = cu.pos;
	bn = pb_cur_left(&cu);
	u = mc_udp_find(c, rid);
	if (!u)
		return;
	pt = &u->part[dir];
	if (pt->done) {
		/* a message of that id was read whole: a new transaction
		 * with a reused id (or an answer nothing asked for) */
		mc_udp_flush(c, u);
		u = mc_udp_find(c, rid);
		if (!u)
			return;
		pt = &u->part[dir];
	}
	u->touched = c->now_ns;
	if (!pt->any) {
		pt->any = 1;
		pt->first_ns = c->now_ns;
		pt->first_pkt = c->now_pkt;
		pb_buf_init(&pt->batch, MC_UDP_MAX_BYTES);
		pb_buf_init(&pt->index, (size_t)MC_UDP_MAX_DGRAMS * 8 + 1);
		pb_buf_init(&pt->stream, MC_UDP_MAX_BYTES);
	}
	pt->last_ns = c->now_ns;
	pt->last_pkt = c->now_pkt;
	if (pt->active && (cnt != pt->count || mc_batch_has(pt, seq)))
		mc_batch_close(pt);     /* a new batch starts: the last is
					 * taken as it is */
	if (!pt->active) {
		pt->active = 1;
		pt->count = cnt;
		pt->seen = 0;
	}
	if (mc_batch_add(pt, seq, body, bn) < 0)
		mc_error(c);
	if (pt->seen == pt->count) {
		mc_batch_close(pt);
		mc_udp_read(c, dir, pt, u, 0);
	}
	/* done: both sides, or a request that is not answered */
	if (u->rq && (u->rs || mc_no_answer(u->rq)))
		mc_udp_flush(c, u);
}

/* ---------------------------------------------------------- close */

static void mc_close(struct pb_txn_conn *c)
{
	struct mc_state *s = c->state;
	int dir, pass;
	unsigned i;

	if (!s)
		return;
	mc_s(c);
	/* requests being read first, so a response cut short finds them */
	for (pass = 1; pass >= 0; pass--)
		for (dir = 0; dir < 2; dir++)
			if (s->d[dir].cur && s->d[dir].cur->is_req == pass)
				mc_cut(c, dir, 0);
	for (dir = 0; dir < 2; dir++)
		if (s->d[dir].open)
			mc_cut(c, dir, 0);
	for (dir = 0; dir < 2; dir++) {
		struct mc_msg *m;

		while ((m = mc_q_take(&s->d[dir].q, 0)) != NULL) {
			if (!m->quiet && !m->noreply)
				m->unfinished = 1;
			mc_emit(c, m, NULL);
		}
		pb_txn_queue_release(&s->d[dir].q);
	}
	if (s->udp) {
		for (i = 0; i < MC_UDP_MAX_PENDING && s->n_udp; i++)
			if (s->udp[i].used)
				mc_udp_flush(c, &s->udp[i]);
		free(s->udp);
	}
	memset(s, 0, sizeof(*s));
}

/* Packetbeat's default memcache port */
static const uint16_t memcache_ports[] = { 11211 };

/* the options of its own (pb_proto.keys) */
static const char *const mc_keys[] = {
	"parseunknown",
	"maxvalues",
	"maxbytespervalue",
	"udptransactiontimeout",
	NULL
};

const struct pb_proto pb_proto_memcache = {
	.name = "memcache",
	.transports = PB_TP_TCP | PB_TP_UDP,
	.ports = memcache_ports,
	.n_ports = sizeof(memcache_ports) / sizeof(memcache_ports[0]),
	.conf_size = sizeof(struct mc_conf),
	.conf_init = mc_conf_init,
	.conf_load = mc_conf_load,
	.state_size = sizeof(struct mc_state),
	.parse = mc_parse,
	.gap = mc_gap,
	.fin = mc_fin,
	.datagram = mc_datagram,
	.expire = mc_expire,
	.close = mc_close,
	.keys = mc_keys,
};
