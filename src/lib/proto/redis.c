/*
 * redis.c - Redis over TCP: RESP2 and RESP3 replies, multibulk and inline
 * commands, FIFO pairing with pipelining, pub/sub and RESP3 pushes, and
 * the fields of Packetbeat's "redis" event.
 *
 * References: the Redis serialization protocol specification (RESP2 and
 * RESP3: https://redis.io/docs/latest/develop/reference/protocol-spec/
 * and https://github.com/redis/redis-specifications, spec/protocol/
 * RESP3.md), the pub/sub, MULTI/EXEC, CLIENT REPLY, MONITOR and PSYNC
 * pages of the Redis command reference, and Redis's networking.c
 * (processInlineBuffer, processMultibulkBuffer: what a server accepts).
 * pb-proto-redis(7) teaches all of it with the fields.
 *
 * Every value starts with a type byte and ends with CRLF; aggregates say
 * how many values follow, strings how many bytes:
 *
 *   client -> server (an array of bulk strings, or one inline line)
 *   *3\r\n  $3\r\nSET\r\n  $4\r\nkey3\r\n  $2\r\nme\r\n     SET key3 me
 *   set key3 me\r\n                                          inline
 *
 *   server -> client
 *   +OK\r\n            simple string   -ERR msg\r\n    error
 *   :42\r\n            integer         $2\r\nme\r\n    bulk string
 *   $-1\r\n  *-1\r\n   nil (RESP2)     *2\r\n...       array of 2 values
 *   RESP3: _\r\n null, #t\r\n boolean, ,3.14\r\n double, (12..\r\n big
 *   number, !N\r\n..\r\n bulk error, =N\r\ntxt:..\r\n verbatim string,
 *   %N map (N pairs), ~N set, |N attribute (N pairs before the value they
 *   describe), >N push (out of band), and streamed strings ($?\r\n then
 *   ;N\r\n chunks ending with ;0\r\n) and aggregates (*? ... .\r\n).
 *
 * Each direction is read by a small state machine that consumes bytes as
 * they come (bulk payloads and simple lines are streamed, so no value has
 * to fit in the engine's buffer): IDLE -> TYPE -> LEN | SIMPLE | BULK ->
 * CRLF -> ... until the top-level value is complete; INLINE reads a
 * command line; RESYNC skips to a line that can start a message; DEAD
 * stops reading (replication stream, or not Redis).  Requests wait in a
 * capped FIFO (txn/queue.h); each reply answers the oldest, except pushes
 * and pub/sub messages, which answer nothing.
 */
#include "proto/proto.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txn/queue.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/banned.h"

/* ------------------------------------------------------------ limits */

/* The text kept of a command (query) or of a reply (return_value): a
 * value of megabytes is summed up by its first bytes, and "..." says the
 * rest was left out. */
#define REDIS_MAX_TEXT 4096
/* Aggregates inside aggregates.  Redis replies nest a few levels; a
 * deeper message is not believed. */
#define REDIS_MAX_DEPTH 32
/* A length or count line ("*3", "$1048576"): sign, 19 digits, CRLF. */
#define REDIS_MAX_LEN_LINE 24
/* An inline command line: Redis refuses longer ones (PROTO_INLINE_MAX_SIZE,
 * "Protocol error: too big inline request"). */
#define REDIS_MAX_INLINE (64u << 10)
/* Arguments of one command remembered (their text shares
 * REDIS_MAX_TEXT); more are counted. */
#define REDIS_MAX_ARGS 1024
/* Top-level elements of a reply remembered: enough to tell a pub/sub
 * message ("pmessage", pattern, channel, payload). */
#define REDIS_REPLY_ARGS 4
/* The largest count or length believed: counts are only counted down,
 * never allocated, and stay far from overflowing. */
#define REDIS_MAX_COUNT (UINT64_C(1) << 60)
/* Messages that could not be read before a conversation is taken as not
 * Redis and no longer read. */
#define REDIS_MAX_ERRORS 8
/* Packetbeat's queue_max_messages and queue_max_bytes defaults, and what
 * pbtools keeps when they are set to 0 or less (Packetbeat's "no limit"):
 * memory stays bounded whatever the configuration says. */
#define REDIS_DEF_MAX_MESSAGES 20000
#define REDIS_DEF_MAX_BYTES (1u << 20)
#define REDIS_HARD_MAX_MESSAGES 100000
#define REDIS_HARD_MAX_BYTES (UINT64_C(64) << 20)
/* The queue's first size in slots; it doubles up to queue_max_messages. */
#define REDIS_QUEUE_START 64
/* State changes in a row that consume nothing: a bound, never reached,
 * that keeps a logic slip from spinning. */
#define REDIS_MAX_IDLE 8
/* What replaces a password in query and request. */
#define REDIS_MASK "xxxxx"

/* Notes (error.message).  The first two are the words pbtools' other
 * parsers use for the same things. */
static const char redis_n_unm_rq[] = "Unmatched request";
static const char redis_n_unm_rs[] = "Unmatched response";
static const char redis_n_loss_rq[] = "Packet loss while capturing the request";
static const char redis_n_loss_rs[] = "Packet loss while capturing the response";
static const char redis_n_inc_rq[] = "Request incomplete at end of stream";
static const char redis_n_inc_rs[] = "Response incomplete at end of stream";
static const char redis_n_full[] = "Too many pipelined requests";
static const char redis_n_late[] = "Response to a request written before without it";
static const char redis_n_bad_rs[] = "Response could not be parsed";
static const char redis_n_gap_rs[] = "Response not paired: requests were lost before it";

/* ----------------------------------------------------- configuration */

/* The options of the "redis" entry (pb-proto-redis(7), CONFIGURATION). */
struct redis_conf {
	int64_t queue_max_bytes;     /* <= 0: Packetbeat's "no limit" */
	int64_t queue_max_messages;
};

static void redis_conf_init(void *v)
{
	struct redis_conf *cf = v;

	cf->queue_max_bytes = REDIS_DEF_MAX_BYTES;
	cf->queue_max_messages = REDIS_DEF_MAX_MESSAGES;
}

/* An integer, or a size ("1mb"), as a queue limit. */
static int redis_conf_limit(struct pb_conf *c, const char *path, int64_t *out)
{
	const struct pb_conf_node *n = pb_conf_get(c, path);
	uint64_t sz;

	if (!n)
		return 0;
	if (n->kind != PB_CONF_SCALAR || !n->value)
		return pb_conf_fail(c, path, "expected a number");
	if (pb_parse_int(n->value, out) == 0)
		return 0;
	if (pb_parse_size(n->value, &sz) == 0 && sz <= (uint64_t)INT64_MAX) {
		*out = (int64_t)sz;
		return 0;
	}
	return pb_conf_fail(c, path, "expected a number");
}

static int redis_conf_load(void *v, struct pb_conf *c, const char *prefix)
{
	struct redis_conf *cf = v;
	char p[256];

	snprintf(p, sizeof(p), "%s.queue_max_bytes", prefix);
	if (redis_conf_limit(c, p, &cf->queue_max_bytes) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s.queue_max_messages", prefix);
	if (redis_conf_limit(c, p, &cf->queue_max_messages) < 0)
		return -1;
	return 0;
}

static const struct redis_conf redis_conf_default = {
	REDIS_DEF_MAX_BYTES, REDIS_DEF_MAX_MESSAGES
};

static const struct redis_conf *redis_cf(const struct pb_txn_conn *c)
{
	return c->conf ? c->conf : &redis_conf_default;
}

static unsigned redis_max_messages(const struct pb_txn_conn *c)
{
	int64_t v = redis_cf(c)->queue_max_messages;

	return v <= 0 || v > REDIS_HARD_MAX_MESSAGES ? REDIS_HARD_MAX_MESSAGES : (unsigned)v;
}

static uint64_t redis_max_bytes(const struct pb_txn_conn *c)
{
	int64_t v = redis_cf(c)->queue_max_bytes;

	return v <= 0 || (uint64_t)v > REDIS_HARD_MAX_BYTES ? REDIS_HARD_MAX_BYTES : (uint64_t)v;
}

/* --------------------------------------------------------- messages */

/* One argument (or top-level element) kept: its bytes in msg.args. */
struct redis_span {
	uint32_t off, len;
	uint8_t cut;                 /* bytes were left out (the cap) */
	uint8_t nil;                 /* a null value */
	uint8_t agg;                 /* an aggregate, not kept */
	uint32_t roff, rlen;         /* inline: the token as sent, in text */
};

/* Pub/sub confirmations and messages, by their first element. */
enum {
	REDIS_K_NONE = 0,
	REDIS_K_SUBSCRIBE, REDIS_K_PSUBSCRIBE, REDIS_K_SSUBSCRIBE,
	REDIS_K_UNSUBSCRIBE, REDIS_K_PUNSUBSCRIBE, REDIS_K_SUNSUBSCRIBE,
	REDIS_K_MESSAGE, REDIS_K_PMESSAGE, REDIS_K_SMESSAGE
};

/* One message, from its first byte until it is written.  It owns copies
 * of what it needs, so it may wait in the queue after the bytes it came
 * from are gone. */
struct redis_msg {
	int64_t start_ns, end_ns;
	uint64_t first_pkt, last_pkt;
	uint64_t size;               /* bytes on the wire */
	uint8_t type;                /* the top-level value's type byte */
	uint8_t inl;                 /* an inline command */
	uint8_t cut;                 /* text was left out */
	uint8_t incomplete;          /* ended by the stream's end */
	uint8_t after_gap;           /* request read after lost bytes */
	uint8_t sub_kind;            /* request: a (un)subscribe command */
	uint8_t psync;               /* request: PSYNC (replication follows) */
	uint8_t monitor, reset;      /* request: MONITOR, RESET */
	uint64_t nelem;              /* top-level elements (aggregates) */
	struct pb_buf text;          /* reply: the value rendered; inline
				      * request: the line */
	struct pb_buf args;          /* kept arguments' bytes */
	struct redis_span *span;
	unsigned nspan, spancap;
	uint64_t nargs;              /* all arguments, kept or not */
	/* a request waiting for its (un)subscribe confirmations */
	struct redis_msg *rs;        /* the confirmations so far */
	uint32_t confs, expect;      /* expect 0: not known yet */
};

static void redis_msg_free(struct redis_msg *m)
{
	if (!m)
		return;
	redis_msg_free(m->rs);
	pb_buf_release(&m->text);
	pb_buf_release(&m->args);
	free(m->span);
	free(m);
}

/* Reader states (see the diagram at the top). */
enum {
	RS_IDLE = 0,     /* between messages */
	RS_TYPE,         /* a value's type byte */
	RS_LEN,          /* the length or count line of a value */
	RS_SIMPLE,       /* the rest of a one-line value */
	RS_BULK,         /* a string's bytes, left to go */
	RS_CRLF,         /* the CRLF after a string's bytes */
	RS_CHUNK,        /* a streamed string's ";N" line */
	RS_INLINE,       /* an inline command line */
	RS_RESYNC,       /* skipping to the end of a line */
	RS_RESYNC_LINE,  /* a line start: does a message start here? */
	RS_DEAD          /* no longer read */
};

/* One open aggregate. */
struct redis_frame {
	uint8_t type;                /* '*' '~' '>' '%' '|' */
	uint8_t streamed;            /* count "?": ends with ".\r\n" */
	uint64_t left;               /* values still to come */
	uint64_t done;               /* values read, for separators */
};

/* One direction of the connection. */
struct redis_dir {
	uint8_t st;
	uint8_t depth;               /* open aggregates */
	uint8_t quiet;               /* of them, attributes (not rendered) */
	uint8_t vtype;               /* type byte of the scalar being read */
	uint8_t chunked;             /* BULK/CRLF: a streamed string's chunk */
	uint8_t pending_cr;          /* SIMPLE/INLINE: a CR held back */
	uint8_t keep_arg, render;    /* the scalar is kept / rendered */
	uint8_t vskip;               /* verbatim "txt:" bytes to skip */
	uint8_t first;               /* a boolean's byte */
	uint8_t resync;              /* reading from a guessed start: a
				      * failure is not counted */
	uint8_t errors;              /* messages that could not be read */
	uint64_t left;               /* BULK: bytes to go; INLINE: read */
	struct redis_frame stk[REDIS_MAX_DEPTH];
	struct redis_msg *m;         /* the message being read */
};

/* The connection's state (c->state), zeroed by the engine and again by
 * close(). */
struct redis_state {
	uint8_t init;
	uint8_t srv;                 /* endpoint (= direction) of the server */
	uint8_t dead;
	uint8_t reply_off, reply_skip; /* CLIENT REPLY OFF / SKIP */
	uint8_t monitor;             /* after MONITOR's +OK */
	uint8_t lost;                /* bytes lost: pairing not trusted */
	uint64_t orphans;            /* replies owed to requests written
				      * without them (timeout, full queue) */
	uint64_t queued_bytes;
	/* subscriptions, from the confirmations' counts */
	int64_t subs, ssubs, nchan, npat;
	struct pb_txn_queue q;       /* struct redis_msg * per slot */
	struct redis_dir d[2];
};

static struct redis_state *redis_s(struct pb_txn_conn *c)
{
	return c->state;
}

static struct redis_dir *redis_d(struct pb_txn_conn *c, int dir)
{
	return &redis_s(c)->d[dir & 1];
}

/* ------------------------------------------------------- characters */

static int redis_digit(uint8_t ch)
{
	return ch >= '0' && ch <= '9';
}

static uint8_t redis_upper(uint8_t ch)
{
	return ch >= 'a' && ch <= 'z' ? (uint8_t)(ch - 'a' + 'A') : ch;
}

/* s[0..n) equals the upper-case word w, whatever the case of s */
static int redis_ieq(const uint8_t *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!w[i] || redis_upper(s[i]) != (uint8_t)w[i])
			return 0;
	return w[n] == '\0';
}

/* isspace() as Redis's sdssplitargs() uses it, in the C locale */
static int redis_space(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static int redis_hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* --------------------------------------------------- text and spans */

/* Append to a capped text: what does not fit is left out and noted. */
static void redis_text(struct redis_msg *m, const void *p, size_t n)
{
	size_t room = m->text.len < REDIS_MAX_TEXT ? REDIS_MAX_TEXT - m->text.len : 0;

	if (n > room) {
		m->cut = 1;
		n = room;
	}
	if (n && pb_buf_add(&m->text, p, n) < 0)
		m->cut = 1;
}

#define redis_textlit(m, lit) redis_text((m), "" lit "", sizeof(lit) - 1)

/* Start keeping one argument; 0, or -1 when no more are kept. */
static int redis_span_open(struct redis_msg *m, unsigned max)
{
	struct redis_span *s;

	m->nargs++;
	if (m->nspan >= max)
		return -1;
	if (m->nspan == m->spancap) {
		unsigned ncap = m->spancap ? m->spancap * 2 : 8;
		struct redis_span *ns;

		if (ncap > max)
			ncap = max;
		ns = realloc(m->span, ncap * sizeof(*ns));
		if (!ns)
			return -1;
		m->span = ns;
		m->spancap = ncap;
	}
	s = &m->span[m->nspan++];
	memset(s, 0, sizeof(*s));
	s->off = (uint32_t)m->args.len;
	return 0;
}

/* Bytes of the argument being kept (the last span). */
static void redis_span_add(struct redis_msg *m, const uint8_t *p, size_t n)
{
	struct redis_span *s = &m->span[m->nspan - 1];
	size_t room = m->args.len < REDIS_MAX_TEXT ? REDIS_MAX_TEXT - m->args.len : 0;

	if (n > room) {
		s->cut = 1;
		n = room;
	}
	if (n && pb_buf_add(&m->args, p, n) < 0)
		s->cut = 1;
	s->len = (uint32_t)(m->args.len - s->off);
}

static const uint8_t *redis_arg(const struct redis_msg *m, unsigned i, size_t *n)
{
	if (i >= m->nspan) {
		*n = 0;
		return NULL;
	}
	*n = m->span[i].len;
	return (const uint8_t *)m->args.data + m->span[i].off;
}

/* argument i is the upper-case word w */
static int redis_arg_is(const struct redis_msg *m, unsigned i, const char *w)
{
	size_t n;
	const uint8_t *a = redis_arg(m, i, &n);

	return a && !m->span[i].cut && redis_ieq(a, n, w);
}

/* ----------------------------------------------------------- reading */

static struct redis_msg *redis_msg_new(struct pb_txn_conn *c, int dir, size_t off)
{
	struct redis_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pb_buf_init(&m->text, REDIS_MAX_TEXT + 16);
	pb_buf_init(&m->args, REDIS_MAX_TEXT + 16);
	pb_txn_byte_time(c, dir, off, &m->start_ns, &m->first_pkt);
	m->end_ns = m->start_ns;
	m->last_pkt = m->first_pkt;
	return m;
}

static int redis_is_client(struct pb_txn_conn *c, int dir)
{
	return (dir & 1) != redis_s(c)->srv;
}

/* The type bytes a value may start with. */
static int redis_type_byte(uint8_t b)
{
	return b && strchr("*$+-:_#,(!=%~|>", b) != NULL;
}

static void redis_request(struct pb_txn_conn *c, struct redis_msg *m);
static void redis_response(struct pb_txn_conn *c, struct redis_msg *m);
static void redis_flush(struct pb_txn_conn *c, const char *note);

/* The message of dir ended at offset off (its last byte) of the data. */
static void redis_msg_done(struct pb_txn_conn *c, int dir, size_t off)
{
	struct redis_dir *d = redis_d(c, dir);
	struct redis_msg *m = d->m;

	d->m = NULL;
	d->st = RS_IDLE;
	d->depth = d->quiet = 0;
	d->resync = 0;
	if (!m)
		return;
	pb_txn_byte_time(c, dir, off, &m->end_ns, &m->last_pkt);
	if (redis_is_client(c, dir))
		redis_request(c, m);
	else
		redis_response(c, m);
}

/* The bytes of dir contradict RESP: the message is dropped, and reading
 * resumes at a line that can start one.  Too many such messages and the
 * conversation is not read any more. */
static void redis_invalid(struct pb_txn_conn *c, int dir)
{
	struct redis_state *s = redis_s(c);
	struct redis_dir *d = redis_d(c, dir);

	redis_msg_free(d->m);
	d->m = NULL;
	d->depth = d->quiet = 0;
	d->pending_cr = 0;
	d->st = RS_RESYNC;
	/* a start guessed after lost bytes was wrong: try the next line */
	if (d->resync)
		return;
	if (c->st)
		c->st->parse_errors++;
	/* what the lost bytes answered is not known any more */
	if (redis_is_client(c, dir)) {
		s->lost = 1;
	} else {
		redis_flush(c, redis_n_bad_rs);
		s->lost = 1;
	}
	if (++d->errors >= REDIS_MAX_ERRORS) {
		redis_flush(c, NULL);
		s->dead = 1;
		s->d[0].st = s->d[1].st = RS_DEAD;
	}
}

/* A scalar starts: where its bytes go. */
static void redis_scalar_begin(struct pb_txn_conn *c, int dir, uint8_t type)
{
	struct redis_dir *d = redis_d(c, dir);
	struct redis_msg *m = d->m;
	int client = redis_is_client(c, dir);

	d->vtype = type;
	d->vskip = type == '=' ? 4 : 0;
	d->first = 0;
	d->render = !client && d->quiet == 0;
	d->keep_arg = 0;
	if (d->depth == 1 && d->quiet == 0 && d->stk[0].type != '|' &&
	    redis_span_open(m, client ? REDIS_MAX_ARGS : REDIS_REPLY_ARGS) == 0)
		d->keep_arg = 1;
}

/* Bytes of the scalar being read. */
static void redis_scalar_bytes(struct redis_dir *d, const uint8_t *p, size_t n)
{
	struct redis_msg *m = d->m;

	if (n == 0)
		return;
	if (d->vskip) {
		size_t k = n < d->vskip ? n : d->vskip;

		d->vskip = (uint8_t)(d->vskip - k);
		p += k;
		n -= k;
		if (n == 0)
			return;
	}
	if (d->vtype == '#') {
		if (!d->first)
			d->first = p[0];
		return;
	}
	if (d->keep_arg)
		redis_span_add(m, p, n);
	if (d->render)
		redis_text(m, p, n);
}


/* Bytes of the message being read consumed: counted in its size. */
static size_t redis_eat(struct redis_dir *d, size_t k)
{
	if (d->m)
		d->m->size += k;
	return k;
}

/* The separator before a value inside an aggregate (", ", or ": "
 * between a map's key and value), when the reply is rendered. */
static void redis_elem_begin(struct pb_txn_conn *c, int dir, uint8_t type)
{
	struct redis_dir *d = redis_d(c, dir);
	struct redis_frame *f;

	if (d->depth == 0 || type == '|' || d->quiet || redis_is_client(c, dir))
		return;
	f = &d->stk[d->depth - 1];
	if (f->done == 0)
		return;
	if (f->type == '%' && (f->done & 1))
		redis_textlit(d->m, ": ");
	else
		redis_textlit(d->m, ", ");
}

/* An element of the top-level aggregate that is not a string (a null,
 * or an aggregate): kept as a marked argument. */
static void redis_elem_mark(struct pb_txn_conn *c, int dir, int nil)
{
	struct redis_dir *d = redis_d(c, dir);
	struct redis_msg *m = d->m;

	if (d->depth != 1 || d->quiet)
		return;
	if (redis_span_open(m, redis_is_client(c, dir) ? REDIS_MAX_ARGS : REDIS_REPLY_ARGS) == 0) {
		m->span[m->nspan - 1].nil = (uint8_t)nil;
		m->span[m->nspan - 1].agg = (uint8_t)!nil;
	}
}

/* The open aggregate ends. */
static void redis_agg_close(struct pb_txn_conn *c, int dir)
{
	struct redis_dir *d = redis_d(c, dir);
	struct redis_frame *f;

	if (d->depth == 0)
		return;
	f = &d->stk[--d->depth];
	if (f->type == '|') {
		d->quiet--;
		return;
	}
	if (!d->quiet && !redis_is_client(c, dir))
		redis_text(d->m, f->type == '%' ? "}" : "]", 1);
}

/* A value ended at offset off: it counts in its aggregate, aggregates
 * that are full end with it, and the message ends with the top level. */
static void redis_elem_done(struct pb_txn_conn *c, int dir, size_t off)
{
	struct redis_dir *d = redis_d(c, dir);

	while (d->depth) {
		struct redis_frame *f = &d->stk[d->depth - 1];
		int attr;

		f->done++;
		if (f->streamed || --f->left > 0) {
			d->st = RS_TYPE;
			return;
		}
		attr = f->type == '|';
		redis_agg_close(c, dir);
		if (attr) {
			/* an attribute describes the value after it, which is
			 * read in its place */
			d->st = RS_TYPE;
			return;
		}
	}
	redis_msg_done(c, dir, off);
}

/* The scalar being read ended at offset off. */
static void redis_scalar_end(struct pb_txn_conn *c, int dir, size_t off)
{
	struct redis_dir *d = redis_d(c, dir);
	struct redis_msg *m = d->m;

	if (d->vtype == '#') {
		const char *v = d->first == 't' ? "true" : "false";

		if (d->keep_arg)
			redis_span_add(m, (const uint8_t *)v, strlen(v));
		if (d->render)
			redis_text(m, v, strlen(v));
	} else if (d->vtype == '_') {
		if (d->keep_arg)
			m->span[m->nspan - 1].nil = 1;
		if (d->render)
			redis_textlit(m, "nil");
	}
	d->keep_arg = d->render = 0;
	redis_elem_done(c, dir, off);
}

/* A decimal count or length: 0 and *v, or -1. */
static int redis_number(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (!redis_digit(p[i]))
			return -1;
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	if (x > REDIS_MAX_COUNT)
		return -1;
	*v = x;
	return 0;
}

/* A line ending within REDIS_MAX_LEN_LINE bytes: its length without LF
 * (and without the CR before it in *k), 0 when more bytes are needed,
 * -1 when it is too long. */
static long redis_short_line(const uint8_t *p, size_t n, size_t *k)
{
	size_t lim = n < REDIS_MAX_LEN_LINE ? n : REDIS_MAX_LEN_LINE;
	const uint8_t *nl = memchr(p, '\n', lim);
	size_t ln;

	if (!nl)
		return n >= REDIS_MAX_LEN_LINE ? -1 : 0;
	ln = (size_t)(nl - p);
	*k = ln && p[ln - 1] == '\r' ? ln - 1 : ln;
	return (long)ln + 1;
}

/* RS_LEN: the length or count of the value whose type byte was read. */
static size_t redis_st_len(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			   size_t base, int *more)
{
	struct redis_dir *d = redis_d(c, dir);
	struct redis_msg *m = d->m;
	int client = redis_is_client(c, dir);
	uint8_t t = d->vtype;
	int null = 0, streamed = 0, agg = strchr("*%~>|", t) != NULL;
	uint64_t v = 0;
	size_t k = 0;
	long used = redis_short_line(p, n, &k);

	if (used == 0) {
		*more = 1;
		return 0;
	}
	if (used < 0)
		goto bad;
	if (k == 1 && p[0] == '?')
		streamed = 1;
	else if (k == 2 && p[0] == '-' && p[1] == '1')
		null = 1;
	else if (redis_number(p, k, &v) < 0)
		goto bad;
	/* what a server accepts from a client (networking.c): counts up to
	 * 1024*1024, strings up to proto-max-bulk-len (512 MB), no nulls
	 * and nothing streamed */
	if (client && (streamed || (t == '$' && null) ||
		       (t == '*' && v > (1u << 20)) || (t == '$' && v > (UINT64_C(512) << 20))))
		goto bad;
	if (streamed && t != '$' && !agg)
		goto bad;
	redis_eat(d, (size_t)used);
	if (!agg) {
		redis_scalar_begin(c, dir, t);
		if (null) {
			if (d->keep_arg)
				m->span[m->nspan - 1].nil = 1;
			if (d->render)
				redis_textlit(m, "nil");
			d->keep_arg = d->render = 0;
			redis_elem_done(c, dir, base + (size_t)used - 1);
		} else if (streamed) {
			d->chunked = 1;
			d->st = RS_CHUNK;
		} else {
			d->chunked = 0;
			d->left = v;
			d->st = v ? RS_BULK : RS_CRLF;
		}
		return (size_t)used;
	}
	if (d->depth == 0 && t != '|')
		m->nelem = v;
	if (t == '|' && null)
		goto bad;
	if (null || (v == 0 && !streamed)) {
		if (t == '|') {              /* no attributes: the value follows */
			d->st = RS_TYPE;
			return (size_t)used;
		}
		redis_elem_mark(c, dir, null);
		if (!client && !d->quiet)
			redis_text(m, null ? "nil" : t == '%' ? "{}" : "[]", null ? 3 : 2);
		redis_elem_done(c, dir, base + (size_t)used - 1);
		return (size_t)used;
	}
	if (d->depth >= REDIS_MAX_DEPTH)
		goto bad;
	if (t != '|')
		redis_elem_mark(c, dir, 0);
	d->stk[d->depth].type = t;
	d->stk[d->depth].streamed = (uint8_t)streamed;
	d->stk[d->depth].left = t == '%' || t == '|' ? 2 * v : v;
	d->stk[d->depth].done = 0;
	if (t == '|')
		d->quiet++;
	else if (!client && !d->quiet)
		redis_text(m, t == '%' ? "{" : "[", 1);
	d->depth++;
	d->st = RS_TYPE;
	return (size_t)used;
bad:
	redis_invalid(c, dir);
	return 0;
}

/* RS_TYPE: the type byte of the next value. */
static size_t redis_st_type(struct pb_txn_conn *c, int dir, const uint8_t *p)
{
	struct redis_dir *d = redis_d(c, dir);
	int client = redis_is_client(c, dir);
	uint8_t b = p[0];

	/* the end of a streamed aggregate: ".\r\n" */
	if (b == '.' && d->depth && d->stk[d->depth - 1].streamed) {
		d->vtype = '.';
		d->keep_arg = d->render = 0;
		d->st = RS_SIMPLE;
		return redis_eat(d, 1);
	}
	if (!redis_type_byte(b) || (client && b != (d->depth ? '$' : '*'))) {
		redis_invalid(c, dir);
		return 0;
	}
	if (d->depth == 0 && b != '|' && !d->m->type)
		d->m->type = b;
	redis_elem_begin(c, dir, b);
	d->vtype = b;
	if (strchr("$*%~>|=!", b)) {
		d->st = RS_LEN;
	} else {
		redis_scalar_begin(c, dir, b);
		d->st = RS_SIMPLE;
	}
	return redis_eat(d, 1);
}

/* RS_SIMPLE: the rest of a one-line value, streamed up to its LF. */
static size_t redis_st_simple(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			      size_t base)
{
	struct redis_dir *d = redis_d(c, dir);
	const uint8_t *nl = memchr(p, '\n', n);
	size_t take = nl ? (size_t)(nl - p) : n, used = nl ? take + 1 : n, k = take;

	/* a CR held back from the last call is content unless LF follows */
	if (d->pending_cr) {
		d->pending_cr = 0;
		if (!(nl && take == 0) && d->vtype != '.')
			redis_scalar_bytes(d, (const uint8_t *)"\r", 1);
	}
	if (nl) {
		if (k && p[k - 1] == '\r')
			k--;
	} else if (k && p[k - 1] == '\r') {
		k--;
		d->pending_cr = 1;
	}
	if (d->vtype != '.')
		redis_scalar_bytes(d, p, k);
	redis_eat(d, used);
	if (nl) {
		if (d->vtype == '.') {
			redis_agg_close(c, dir);
			redis_elem_done(c, dir, base + take);
		} else {
			redis_scalar_end(c, dir, base + take);
		}
	}
	return used;
}

/* RS_BULK: a string's bytes. */
static size_t redis_st_bulk(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n)
{
	struct redis_dir *d = redis_d(c, dir);
	size_t k = (uint64_t)n < d->left ? n : (size_t)d->left;

	redis_scalar_bytes(d, p, k);
	d->left -= k;
	if (d->left == 0)
		d->st = RS_CRLF;
	return redis_eat(d, k);
}

/* RS_CRLF: the CRLF after a string's bytes. */
static size_t redis_st_crlf(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			    size_t base, int *more)
{
	struct redis_dir *d = redis_d(c, dir);

	if (n < 2 && p[0] == '\r') {
		*more = 1;
		return 0;
	}
	if (p[0] != '\r' || p[1] != '\n') {
		redis_invalid(c, dir);
		return 0;
	}
	redis_eat(d, 2);
	if (d->chunked)
		d->st = RS_CHUNK;
	else
		redis_scalar_end(c, dir, base + 1);
	return 2;
}

/* RS_CHUNK: ";N" before each chunk of a streamed string; ";0" ends it. */
static size_t redis_st_chunk(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			     size_t base, int *more)
{
	struct redis_dir *d = redis_d(c, dir);
	size_t k = 0;
	long used = redis_short_line(p, n, &k);
	uint64_t v;

	if (used == 0) {
		*more = 1;
		return 0;
	}
	if (used < 0 || k < 2 || p[0] != ';' || redis_number(p + 1, k - 1, &v) < 0) {
		redis_invalid(c, dir);
		return 0;
	}
	redis_eat(d, (size_t)used);
	if (v == 0) {
		d->chunked = 0;
		redis_scalar_end(c, dir, base + (size_t)used - 1);
	} else {
		d->left = v;
		d->st = RS_BULK;
	}
	return (size_t)used;
}

/* Split an inline command line as Redis does (sdssplitargs: blanks
 * between arguments, "double quotes" with \xHH \n \r \t \b \a escapes,
 * 'single quotes' with \' only): each argument kept unquoted, with
 * where it was in the line. */
static void redis_inline_split(struct redis_msg *m)
{
	const uint8_t *p = (const uint8_t *)m->text.data;
	size_t n = m->text.len, i = 0;

	while (i < n) {
		size_t start;
		struct redis_span *s = NULL;

		while (i < n && redis_space(p[i]))
			i++;
		if (i >= n)
			break;
		start = i;
		if (redis_span_open(m, REDIS_MAX_ARGS) == 0)
			s = &m->span[m->nspan - 1];
		if (p[i] == '"' || p[i] == '\'') {
			uint8_t q = p[i++];

			while (i < n && p[i] != q) {
				uint8_t ch = p[i];
				size_t adv = 1;

				if (ch == '\\' && q == '"' && i + 3 < n && p[i + 1] == 'x' &&
				    redis_hexval(p[i + 2]) >= 0 && redis_hexval(p[i + 3]) >= 0) {
					ch = (uint8_t)(redis_hexval(p[i + 2]) * 16 + redis_hexval(p[i + 3]));
					adv = 4;
				} else if (ch == '\\' && i + 1 < n && (q == '"' || p[i + 1] == '\'')) {
					ch = p[i + 1];
					adv = 2;
					if (q == '"') {
						switch (ch) {
						case 'n': ch = '\n'; break;
						case 'r': ch = '\r'; break;
						case 't': ch = '\t'; break;
						case 'b': ch = '\b'; break;
						case 'a': ch = '\a'; break;
						default: break;
						}
					}
				}
				if (s)
					redis_span_add(m, &ch, 1);
				i += adv;
			}
			if (i < n)
				i++;         /* the closing quote */
		} else {
			while (i < n && !redis_space(p[i])) {
				if (s)
					redis_span_add(m, &p[i], 1);
				i++;
			}
		}
		if (s) {
			s->roff = (uint32_t)start;
			s->rlen = (uint32_t)(i - start);
		}
	}
}

/* RS_INLINE: an inline command line, up to its LF. */
static size_t redis_st_inline(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			      size_t base)
{
	struct redis_dir *d = redis_d(c, dir);
	struct redis_msg *m = d->m;
	const uint8_t *nl = memchr(p, '\n', n);
	size_t take = nl ? (size_t)(nl - p) : n, used = nl ? take + 1 : n, k = take;

	if (d->left + take > REDIS_MAX_INLINE) {
		redis_invalid(c, dir);
		return 0;
	}
	if (d->pending_cr) {
		d->pending_cr = 0;
		if (!(nl && take == 0))
			redis_text(m, "\r", 1);
	}
	if (nl) {
		if (k && p[k - 1] == '\r')
			k--;
	} else if (k && p[k - 1] == '\r') {
		k--;
		d->pending_cr = 1;
	}
	redis_text(m, p, k);
	d->left += take;
	redis_eat(d, used);
	if (nl) {
		redis_inline_split(m);
		redis_msg_done(c, dir, base + take);
	}
	return used;
}

/* ----------------------------------------------------------- pairing */

static struct redis_msg *redis_head(struct redis_state *s)
{
	struct redis_msg **slot = pb_txn_queue_peek(&s->q, 0);

	return slot ? *slot : NULL;
}

static struct redis_msg *redis_pop(struct redis_state *s)
{
	struct redis_msg *m = NULL;

	if (pb_txn_queue_pop(&s->q, &m) < 0)
		return NULL;
	s->queued_bytes -= m->size <= s->queued_bytes ? m->size : s->queued_bytes;
	return m;
}

/* What an event is made of, until it is written. */
struct redis_out {
	struct pb_buf method, query, resource, rtext, kind, chan, pat;
	uint8_t has_rv, is_error, push;
};

static void redis_out_init(struct redis_out *o)
{
	memset(o, 0, sizeof(*o));
	pb_buf_init(&o->method, REDIS_MAX_TEXT * 4 + 64);
	pb_buf_init(&o->query, REDIS_MAX_TEXT * 4 + 64);
	pb_buf_init(&o->resource, REDIS_MAX_TEXT * 4 + 64);
	pb_buf_init(&o->rtext, REDIS_MAX_TEXT + 64);
	pb_buf_init(&o->kind, REDIS_MAX_TEXT + 64);
	pb_buf_init(&o->chan, REDIS_MAX_TEXT + 64);
	pb_buf_init(&o->pat, REDIS_MAX_TEXT + 64);
}

static void redis_out_release(struct redis_out *o)
{
	pb_buf_release(&o->method);
	pb_buf_release(&o->query);
	pb_buf_release(&o->resource);
	pb_buf_release(&o->rtext);
	pb_buf_release(&o->kind);
	pb_buf_release(&o->chan);
	pb_buf_release(&o->pat);
}

/* Bytes into a C string: a NUL byte is written "\x00" (the engine's
 * strings end at a NUL); upper-cased when asked (method). */
static void redis_cstr_add(struct pb_buf *b, const uint8_t *p, size_t n, int upper)
{
	size_t i, from = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == 0 || upper) {
			pb_buf_add(b, p + from, i - from);
			if (p[i] == 0)
				pb_buf_add(b, "\\x00", 4);
			else
				pb_buf_addc(b, (char)redis_upper(p[i]));
			from = i + 1;
		}
	}
	if (n > from)
		pb_buf_add(b, p + from, n - from);
}

/* Text cut at the cap: a UTF-8 character cut short at its end is left
 * out whole (at most 3 bytes go: binary data stays), then "...". */
static void redis_add_cut(struct pb_buf *b, size_t keep_from)
{
	size_t n = b->len, k = 0;

	while (k < 3 && n - k > keep_from && ((uint8_t)b->data[n - 1 - k] & 0xc0) == 0x80)
		k++;
	if (n - k > keep_from) {
		uint8_t lead = (uint8_t)b->data[n - 1 - k];
		size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

		if (lead >= 0xc0 && want > k + 1)
			b->len = n - 1 - k;
	}
	pb_buf_add(b, "...", 3);
}

/* Commands whose first argument names a subcommand (Redis's container
 * commands, and DEBUG): method is "CONFIG GET", resource the argument
 * after the subcommand. */
static const char *const redis_containers[] = {
	"ACL", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "DEBUG", "FUNCTION",
	"LATENCY", "MEMORY", "MODULE", "OBJECT", "PUBSUB", "SCRIPT", "SLOWLOG",
	"XGROUP", "XINFO", NULL
};

static int redis_two_words(const struct redis_msg *m)
{
	size_t n, i;
	const uint8_t *a;
	unsigned k;

	if (m->nspan < 2)
		return 0;
	for (k = 0; redis_containers[k]; k++)
		if (redis_arg_is(m, 0, redis_containers[k]))
			break;
	if (!redis_containers[k])
		return 0;
	a = redis_arg(m, 1, &n);
	if (n == 0 || n > 32 || m->span[1].cut)
		return 0;
	for (i = 0; i < n; i++)
		if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= 'A' && a[i] <= 'Z') ||
		      (i > 0 && (redis_digit(a[i]) || a[i] == '-' || a[i] == '_'))))
			return 0;
	return 1;
}

/* Whether argument i of a command is a secret: 0 no, 1 the whole of it,
 * 2 all but its first byte (an ACL rule ">password"). */
static int redis_secret(const struct redis_msg *m, unsigned i)
{
	unsigned j;
	size_t n;
	const uint8_t *a;

	if (i == 0)
		return 0;
	/* AUTH [username] password */
	if (redis_arg_is(m, 0, "AUTH"))
		return m->nargs <= 2 ? 1 : i >= 2;
	/* HELLO protover [AUTH username password] [SETNAME name] */
	if (redis_arg_is(m, 0, "HELLO")) {
		for (j = 2; j + 2 <= i; j++)
			if (j + 2 == i && redis_arg_is(m, j, "AUTH"))
				return 1;
		return 0;
	}
	/* MIGRATE host port key db timeout [COPY] [REPLACE] [AUTH password]
	 * [AUTH2 username password] [KEYS ...] */
	if (redis_arg_is(m, 0, "MIGRATE")) {
		for (j = 6; j < i; j++)
			if ((j + 1 == i && redis_arg_is(m, j, "AUTH")) ||
			    (j + 2 == i && redis_arg_is(m, j, "AUTH2")))
				return 1;
		return 0;
	}
	/* CONFIG SET name value [name value ...]: the password options */
	if (redis_arg_is(m, 0, "CONFIG") && redis_arg_is(m, 1, "SET")) {
		if (i < 3 || (i - 2) % 2 != 1)
			return 0;
		return redis_arg_is(m, i - 1, "REQUIREPASS") || redis_arg_is(m, i - 1, "MASTERAUTH") ||
		       redis_arg_is(m, i - 1, "TLS-KEY-FILE-PASS") ||
		       redis_arg_is(m, i - 1, "TLS-CLIENT-KEY-FILE-PASS");
	}
	/* ACL SETUSER name rule...: >pass <pass #hash !hash */
	if (redis_arg_is(m, 0, "ACL") && redis_arg_is(m, 1, "SETUSER") && i >= 3) {
		a = redis_arg(m, i, &n);
		if (a && n && strchr("><#!", a[0]))
			return 2;
	}
	return 0;
}

/* One argument as the query shows it. */
static void redis_query_arg(struct pb_buf *b, const struct redis_msg *m, unsigned i)
{
	size_t n;
	const uint8_t *a = redis_arg(m, i, &n);
	int sec = redis_secret(m, i);

	if (sec == 1) {
		pb_buf_adds(b, REDIS_MASK);
	} else if (sec == 2) {
		redis_cstr_add(b, a, 1, 0);
		pb_buf_adds(b, REDIS_MASK);
	} else if (m->span[i].nil) {
		pb_buf_adds(b, "nil");
	} else {
		redis_cstr_add(b, a, n, 0);
	}
}

/* method, query and resource of a request */
static void redis_request_fields(struct redis_out *o, const struct redis_msg *m)
{
	int two = redis_two_words(m), cut = m->cut;
	unsigned i, r = two ? 2 : 1;
	size_t n;
	const uint8_t *a;

	a = redis_arg(m, 0, &n);
	redis_cstr_add(&o->method, a, n, 1);
	if (two) {
		pb_buf_addc(&o->method, ' ');
		a = redis_arg(m, 1, &n);
		redis_cstr_add(&o->method, a, n, 1);
	}
	/* resource: the argument after the command (the key of key
	 * commands), as Packetbeat takes it; never a secret */
	if (r < m->nspan && !redis_secret(m, r) && !m->span[r].nil && !m->span[r].agg) {
		a = redis_arg(m, r, &n);
		redis_cstr_add(&o->resource, a, n, 0);
	}
	if (m->inl) {
		/* the line as sent, secrets replaced; past the last argument
		 * kept nothing is shown (a secret there would not be known) */
		const uint8_t *line = (const uint8_t *)m->text.data;
		size_t at = 0, end = m->text.len;

		if (m->nargs > m->nspan && m->nspan) {
			end = m->span[m->nspan - 1].roff + m->span[m->nspan - 1].rlen;
			cut = 1;
		}

		for (i = 0; i < m->nspan; i++) {
			const struct redis_span *s = &m->span[i];
			int sec = redis_secret(m, i);

			if (!sec)
				continue;
			redis_cstr_add(&o->query, line + at, s->roff - at, 0);
			if (sec == 2)
				redis_cstr_add(&o->query, line + s->roff, 1, 0);
			pb_buf_adds(&o->query, REDIS_MASK);
			at = s->roff + s->rlen;
		}
		redis_cstr_add(&o->query, line + at, end - at, 0);
	} else {
		/* the arguments joined by spaces, as Packetbeat writes them */
		for (i = 0; i < m->nspan; i++) {
			if (i)
				pb_buf_addc(&o->query, ' ');
			redis_query_arg(&o->query, m, i);
			if (m->span[i].cut)
				cut = 1;
		}
		if (m->nargs > m->nspan)
			cut = 1;
	}
	if (o->query.len > REDIS_MAX_TEXT) {
		o->query.len = REDIS_MAX_TEXT;
		cut = 1;
	}
	if (cut)
		redis_add_cut(&o->query, 0);
}

/* The kinds of pub/sub messages, by their first element. */
static const char *const redis_kinds[] = {
	"", "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe",
	"sunsubscribe", "message", "pmessage", "smessage"
};

static int redis_kind_of(const uint8_t *a, size_t n)
{
	int k;
	size_t i;

	for (k = REDIS_K_SUBSCRIBE; k <= REDIS_K_SMESSAGE; k++) {
		const char *w = redis_kinds[k];

		if (strlen(w) != n)
			continue;
		for (i = 0; i < n; i++)
			if ((a[i] | 0x20) != (uint8_t)w[i])
				break;
		if (i == n)
			return k;
	}
	return REDIS_K_NONE;
}

/* The pub/sub kind of a reply (an array or push whose first element is
 * "message", "subscribe", ...), or REDIS_K_NONE. */
static int redis_reply_kind(const struct redis_msg *m)
{
	size_t n;
	const uint8_t *a;

	if ((m->type != '*' && m->type != '>') || m->nspan == 0 || m->span[0].nil ||
	    m->span[0].agg || m->span[0].cut)
		return REDIS_K_NONE;
	a = redis_arg(m, 0, &n);
	return redis_kind_of(a, n);
}

/* A push's fields: its kind, and the channel (and pattern) it names. */
static void redis_push_fields(struct redis_out *o, const struct redis_msg *m, int kind,
			      int monitor)
{
	size_t n;
	const uint8_t *a;

	o->push = 1;
	if (monitor) {
		pb_buf_adds(&o->kind, "monitor");
		return;
	}
	if (m->nspan && !m->span[0].nil && !m->span[0].agg) {
		a = redis_arg(m, 0, &n);
		redis_cstr_add(&o->kind, a, n, 0);
	}
	if (kind == REDIS_K_NONE)
		return;
	if (kind == REDIS_K_PMESSAGE) {
		if (m->nspan > 1 && !m->span[1].nil) {
			a = redis_arg(m, 1, &n);
			redis_cstr_add(&o->pat, a, n, 0);
		}
		if (m->nspan > 2 && !m->span[2].nil) {
			a = redis_arg(m, 2, &n);
			redis_cstr_add(&o->chan, a, n, 0);
		}
		return;
	}
	if (m->nspan > 1 && !m->span[1].nil && !m->span[1].agg) {
		a = redis_arg(m, 1, &n);
		redis_cstr_add(kind == REDIS_K_PSUBSCRIBE || kind == REDIS_K_PUNSUBSCRIBE ?
			       &o->pat : &o->chan, a, n, 0);
	}
}

/* the "redis" object */
static void redis_write(struct pb_json *j, const struct pb_txn *t, void *arg)
{
	const struct redis_out *o = arg;

	(void)t;
	if (!o->has_rv && !o->push)
		return;
	pb_json_key(j, "redis");
	pb_json_obj(j);
	if (o->has_rv) {
		if (o->is_error)
			pb_json_key(j, "error");
		else
			pb_json_key(j, "return_value");
		pb_json_str(j, o->rtext.data, o->rtext.len);
	}
	if (o->push) {
		pb_json_key(j, "push");
		pb_json_obj(j);
		if (o->kind.len) {
			pb_json_key(j, "type");
			pb_json_str(j, o->kind.data, o->kind.len);
		}
		if (o->chan.len) {
			pb_json_key(j, "channel");
			pb_json_str(j, o->chan.data, o->chan.len);
		}
		if (o->pat.len) {
			pb_json_key(j, "pattern");
			pb_json_str(j, o->pat.data, o->pat.len);
		}
		pb_json_obj_end(j);
	}
	pb_json_obj_end(j);
}

/* Emit flags */
enum {
	REDIS_E_SINGLE = 1,          /* a message alone by nature */
	REDIS_E_PUSH = 2,            /* ... a push or pub/sub message */
	REDIS_E_MONITOR = 4          /* ... a MONITOR line */
};

/*
 * Write one event and free its messages: a transaction (rq and rs), a
 * request alone (unanswered, or answered by nothing by its nature), or a
 * reply alone (unmatched, or a push).  note: for a reply alone, why it is
 * alone; for a request alone, a note after "Unmatched request".
 */
static void redis_emit(struct pb_txn_conn *c, struct redis_msg *rq, struct redis_msg *rs,
		       const char *note, int flags)
{
	struct redis_state *s = redis_s(c);
	const struct redis_msg *first = rq ? rq : rs, *last = rs ? rs : rq;
	int single = flags & (REDIS_E_SINGLE | REDIS_E_PUSH | REDIS_E_MONITOR);
	struct redis_out *o;
	struct pb_txn t;
	char action[64];

	if (!first)
		return;
	o = malloc(sizeof(*o));
	if (!o)
		goto out;
	memset(&t, 0, sizeof(t));
	redis_out_init(o);
	t.client = (uint8_t)!s->srv;
	t.has_request = rq != NULL;
	t.has_response = rs != NULL;
	t.single = single != 0;
	t.start_ns = first->start_ns;
	t.first_pkt = first->first_pkt;
	t.end_ns = last->end_ns;
	t.last_pkt = last->last_pkt;
	t.request_bytes = rq ? rq->size : 0;
	t.response_bytes = rs ? rs->size : 0;
	if (rq) {
		redis_request_fields(o, rq);
		t.method = pb_buf_cstr(&o->method);
		t.query = pb_buf_cstr(&o->query);
		if (o->resource.len)
			t.resource = pb_buf_cstr(&o->resource);
		t.request = (const uint8_t *)o->query.data;
		t.request_len = o->query.len;
	}
	if (rs) {
		int multi = rq && rq->confs > 1 && rq->rs == rs;

		o->has_rv = 1;
		o->is_error = rs->type == '-' || rs->type == '!';
		pb_buf_add(&o->rtext, rs->text.data ? rs->text.data : "", rs->text.len);
		if (rs->cut)
			redis_add_cut(&o->rtext, multi ? 1 : 0);
		else if (multi)
			pb_buf_addc(&o->rtext, ']');
		pb_buf_cstr(&o->rtext);
		t.response = (const uint8_t *)o->rtext.data;
		t.response_len = o->rtext.len;
		if (flags & (REDIS_E_PUSH | REDIS_E_MONITOR))
			redis_push_fields(o, rs, redis_reply_kind(rs), flags & REDIS_E_MONITOR);
	}
	/* event.action "redis.<command>" and event.outcome "failure" for an
	 * error reply, as Packetbeat 8 writes them; of a two-word method
	 * ("CONFIG SET") the first word, Packetbeat's method */
	if (t.method && *t.method) {
		size_t i, n = sizeof("redis.") - 1;

		memcpy(action, "redis.", n);
		for (i = 0; t.method[i] && t.method[i] != ' ' && n < sizeof(action) - 1; i++, n++)
			action[n] = (char)tolower((unsigned char)t.method[i]);
		action[n] = '\0';
		t.action = action;
	}
	if (rs && o->is_error)
		t.outcome = "failure";
	/* Packetbeat: Error for an error reply; pbtools also for a message
	 * missing its other half, or cut by the end of the stream */
	t.status = (rs && o->is_error) || (!single && (!rq || !rs)) ||
		   (rq && rq->incomplete) || (rs && rs->incomplete) ? "Error" : "OK";
	if (rq && rq->incomplete)
		pb_txn_note(&t, redis_n_inc_rq);
	if (rs && rs->incomplete)
		pb_txn_note(&t, redis_n_inc_rs);
	if (rq && !rs && !single)
		pb_txn_note(&t, redis_n_unm_rq);
	if (note)
		pb_txn_note(&t, note);
	t.write = redis_write;
	t.arg = o;
	pb_txn_emit(c, &t);
	redis_out_release(o);
	free(o);
out:
	if (rq && rq->rs == rs)
		rq->rs = NULL;
	redis_msg_free(rq);
	redis_msg_free(rs);
}

/* Every request waiting is written without its reply (note after
 * "Unmatched request"); those that had some of their confirmations are
 * written with them. */
static void redis_flush(struct pb_txn_conn *c, const char *note)
{
	struct redis_state *s = redis_s(c);
	struct redis_msg *m;

	while ((m = redis_pop(s)) != NULL) {
		if (m->confs)
			redis_emit(c, m, m->rs, NULL, 0);
		else
			redis_emit(c, m, NULL, note, 0);
	}
	s->queued_bytes = 0;
	s->orphans = 0;
}

/* The subscription counts after a confirmation (its third element). */
static void redis_count_subs(struct redis_state *s, const struct redis_msg *m, int kind)
{
	size_t n, i;
	const uint8_t *a;
	int64_t v = 0, prev;

	if (m->nspan < 3 || m->span[2].nil || m->span[2].agg)
		return;
	a = redis_arg(m, 2, &n);
	if (n == 0 || n > 18)
		return;
	for (i = 0; i < n; i++) {
		if (!redis_digit(a[i]))
			return;
		v = v * 10 + (a[i] - '0');
	}
	if (kind == REDIS_K_SSUBSCRIBE || kind == REDIS_K_SUNSUBSCRIBE) {
		s->ssubs = v;
		return;
	}
	prev = s->subs;
	if (kind == REDIS_K_SUBSCRIBE && v > prev)
		s->nchan += v - prev;
	else if (kind == REDIS_K_PSUBSCRIBE && v > prev)
		s->npat += v - prev;
	else if (kind == REDIS_K_UNSUBSCRIBE && v < prev)
		s->nchan = s->nchan > prev - v ? s->nchan - (prev - v) : 0;
	else if (kind == REDIS_K_PUNSUBSCRIBE && v < prev)
		s->npat = s->npat > prev - v ? s->npat - (prev - v) : 0;
	s->subs = v;
}

/* A confirmation of the (un)subscribe request at the head of the queue:
 * one comes per channel or pattern; the request is written with all of
 * them once they are in. */
static void redis_confirm(struct pb_txn_conn *c, struct redis_msg *rq, struct redis_msg *m,
			  int kind)
{
	struct redis_state *s = redis_s(c);

	if (rq->confs == 0 && rq->expect == 0) {
		/* without arguments the un-subscription is from all: as
		 * many confirmations as subscriptions (at least one) */
		int64_t have = kind == REDIS_K_UNSUBSCRIBE ? s->nchan :
			       kind == REDIS_K_PUNSUBSCRIBE ? s->npat : s->ssubs;

		rq->expect = have > 1 ? (uint32_t)(have > 100000 ? 100000 : have) : 1;
	}
	redis_count_subs(s, m, kind);
	if (rq->confs == 0) {
		rq->rs = m;
	} else {
		struct redis_msg *rs = rq->rs;

		if (rq->confs == 1) {
			/* two or more: [[subscribe, a, 1], [subscribe, b, 2]] */
			struct pb_buf b = rs->text;

			pb_buf_init(&rs->text, REDIS_MAX_TEXT + 16);
			redis_textlit(rs, "[");
			redis_text(rs, b.data ? b.data : "", b.len);
			pb_buf_release(&b);
		}
		redis_textlit(rs, ", ");
		redis_text(rs, m->text.data ? m->text.data : "", m->text.len);
		rs->cut |= m->cut;
		rs->size += m->size;
		rs->end_ns = m->end_ns;
		rs->last_pkt = m->last_pkt;
		redis_msg_free(m);
	}
	rq->confs++;
	if (rq->confs >= rq->expect) {
		redis_pop(s);
		redis_emit(c, rq, rq->rs, NULL, 0);
	}
}

/* "1700000000.123456 [0 127.0.0.1:5000] "get" "k"": a MONITOR line */
static int redis_monitor_line(const struct redis_msg *m)
{
	const char *p = m->text.data;

	return p && m->text.len > 2 && redis_digit((uint8_t)p[0]) &&
	       memchr(p, '[', m->text.len) != NULL;
}

static void redis_go_dead(struct pb_txn_conn *c)
{
	struct redis_state *s = redis_s(c);

	s->dead = 1;
	redis_msg_free(s->d[0].m);
	redis_msg_free(s->d[1].m);
	s->d[0].m = s->d[1].m = NULL;
	s->d[0].st = s->d[1].st = RS_DEAD;
}

/* A full queue below its cap: its slots moved to one twice as large (the
 * slots are allocated whole, so a connection that pipelines little does
 * not pay for queue_max_messages of them). */
static void redis_queue_grow(struct redis_state *s, unsigned cap)
{
	struct pb_txn_queue nq;
	struct redis_msg *m;
	unsigned ncap = s->q.cap > cap / 2 ? cap : s->q.cap * 2;

	pb_txn_queue_init(&nq, sizeof(struct redis_msg *), ncap);
	if (!pb_txn_queue_push(&nq)) {
		pb_txn_queue_release(&nq);
		return;              /* out of memory: the queue stays */
	}
	pb_txn_queue_pop(&nq, NULL);
	while (pb_txn_queue_pop(&s->q, &m) == 0)
		memcpy(pb_txn_queue_push(&nq), &m, sizeof(m));
	pb_txn_queue_release(&s->q);
	s->q = nq;
}

/* A request was read. */
static void redis_request(struct pb_txn_conn *c, struct redis_msg *m)
{
	struct redis_state *s = redis_s(c);
	unsigned cap;
	int noreply = 0;
	void *slot;

	if (m->nargs == 0 || m->nspan == 0) {
		/* an empty line or "*0": Redis runs nothing, answers nothing */
		redis_msg_free(m);
		return;
	}
	if (redis_arg_is(m, 0, "SUBSCRIBE"))
		m->sub_kind = REDIS_K_SUBSCRIBE;
	else if (redis_arg_is(m, 0, "PSUBSCRIBE"))
		m->sub_kind = REDIS_K_PSUBSCRIBE;
	else if (redis_arg_is(m, 0, "SSUBSCRIBE"))
		m->sub_kind = REDIS_K_SSUBSCRIBE;
	else if (redis_arg_is(m, 0, "UNSUBSCRIBE"))
		m->sub_kind = REDIS_K_UNSUBSCRIBE;
	else if (redis_arg_is(m, 0, "PUNSUBSCRIBE"))
		m->sub_kind = REDIS_K_PUNSUBSCRIBE;
	else if (redis_arg_is(m, 0, "SUNSUBSCRIBE"))
		m->sub_kind = REDIS_K_SUNSUBSCRIBE;
	/* one confirmation per channel or pattern named (none named: one
	 * per subscription, counted when the first comes) */
	if (m->sub_kind && m->nargs > 1)
		m->expect = m->nargs - 1 > 100000 ? 100000 : (uint32_t)(m->nargs - 1);
	m->psync = redis_arg_is(m, 0, "PSYNC") ? 1 : redis_arg_is(m, 0, "SYNC") ? 2 : 0;
	m->monitor = redis_arg_is(m, 0, "MONITOR");
	m->reset = redis_arg_is(m, 0, "RESET");
	/* CLIENT REPLY OFF | SKIP: no reply to it, and none to the commands
	 * after it (until CLIENT REPLY ON) or to the next one */
	if (redis_arg_is(m, 0, "CLIENT") && redis_arg_is(m, 1, "REPLY") && m->nargs == 3) {
		if (redis_arg_is(m, 2, "ON")) {
			s->reply_off = s->reply_skip = 0;
		} else if (redis_arg_is(m, 2, "OFF")) {
			s->reply_off = 1;
			noreply = 1;
		} else if (redis_arg_is(m, 2, "SKIP")) {
			if (!s->reply_off)
				s->reply_skip = 2;   /* this one and the next */
			noreply = 1;
		}
	}
	if (!noreply && s->reply_off) {
		noreply = 1;
	} else if (!noreply && s->reply_skip) {
		noreply = 1;
		s->reply_skip = 0;
	} else if (s->reply_skip == 2) {
		s->reply_skip = 1;
	}
	if (noreply) {
		redis_emit(c, m, NULL, NULL, REDIS_E_SINGLE);
		return;
	}
	if (s->lost)
		m->after_gap = 1;
	/* the queue: its caps push the oldest out, written unanswered; its
	 * reply, when it comes, is then written alone */
	cap = redis_max_messages(c);
	if (s->q.cap == 0)
		pb_txn_queue_init(&s->q, sizeof(struct redis_msg *),
				  cap < REDIS_QUEUE_START ? cap : REDIS_QUEUE_START);
	if (pb_txn_queue_full(&s->q) && s->q.cap < cap)
		redis_queue_grow(s, cap);
	while (pb_txn_queue_len(&s->q) > 0 &&
	       (pb_txn_queue_full(&s->q) || s->queued_bytes + m->size > redis_max_bytes(c))) {
		struct redis_msg *old = redis_pop(s);

		if (old->confs) {
			redis_emit(c, old, old->rs, redis_n_full, 0);
		} else {
			if (!old->after_gap)
				s->orphans++;
			redis_emit(c, old, NULL, redis_n_full, 0);
		}
	}
	slot = pb_txn_queue_push(&s->q);
	if (!slot) {
		redis_emit(c, m, NULL, NULL, 0);
		return;
	}
	memcpy(slot, &m, sizeof(m));
	s->queued_bytes += m->size;
}

/* A reply was read. */
static void redis_response(struct pb_txn_conn *c, struct redis_msg *m)
{
	struct redis_state *s = redis_s(c);
	struct redis_msg *head = redis_head(s);
	int kind = redis_reply_kind(m), push = m->type == '>';
	int is_conf = kind >= REDIS_K_SUBSCRIBE && kind <= REDIS_K_SUNSUBSCRIBE && m->nelem == 3;
	int is_msg = ((kind == REDIS_K_MESSAGE || kind == REDIS_K_SMESSAGE) && m->nelem == 3) ||
		     (kind == REDIS_K_PMESSAGE && m->nelem == 4);
	int sub_mode = s->subs > 0 || s->ssubs > 0;
	int err = m->type == '-' || m->type == '!';

	/* a request collecting its confirmations takes the next one of its
	 * kind; pushes go by; anything else means it has all it will get */
	if (head && head->confs) {
		if (is_conf && kind == head->sub_kind) {
			redis_confirm(c, head, m, kind);
			return;
		}
		if (!push && !(is_msg && sub_mode)) {
			redis_pop(s);
			redis_emit(c, head, head->rs, NULL, 0);
			head = redis_head(s);
		}
	}
	/* after MONITOR, the server sends a line per command it runs */
	if (s->monitor && m->type == '+' && redis_monitor_line(m)) {
		redis_emit(c, NULL, m, NULL, REDIS_E_MONITOR);
		return;
	}
	/* the first confirmation of the (un)subscribe request waiting (in
	 * RESP3 it is a push) */
	if (is_conf && head && head->sub_kind == kind && !s->orphans && !head->after_gap) {
		redis_confirm(c, head, m, kind);
		return;
	}
	/* RESP3 pushes, and RESP2 pub/sub messages, answer no request */
	if (push || ((is_msg || is_conf) && (sub_mode || !head))) {
		redis_emit(c, NULL, m, NULL, REDIS_E_PUSH);
		return;
	}
	/* the reply to a request written already without it */
	if (s->orphans) {
		s->orphans--;
		redis_emit(c, NULL, m, redis_n_late, 0);
		return;
	}
	if (!head) {
		redis_emit(c, NULL, m, s->lost ? redis_n_gap_rs : redis_n_unm_rs, 0);
		return;
	}
	/* after lost bytes, a reply answers the request read after them
	 * only when it is the only one waiting and the reply came after it:
	 * replies to the lost requests may still be on their way */
	if (head->after_gap) {
		if (pb_txn_queue_len(&s->q) != 1 || m->start_ns < head->end_ns) {
			redis_emit(c, NULL, m, redis_n_gap_rs, 0);
			return;
		}
		s->lost = 0;
	}
	redis_pop(s);
	if (!err) {
		if (head->monitor)
			s->monitor = 1;
		if (head->reset) {
			s->monitor = 0;
			s->subs = s->ssubs = s->nchan = s->npat = 0;
			s->reply_off = s->reply_skip = 0;
		}
	}
	if (head->psync == 1 && !err) {
		/* PSYNC's +FULLRESYNC or +CONTINUE: the replication stream
		 * follows (an RDB file, then commands from the server) */
		redis_emit(c, head, m, NULL, 0);
		redis_flush(c, NULL);
		redis_go_dead(c);
		return;
	}
	redis_emit(c, head, m, NULL, 0);
}

/* ---------------------------------------------------------- callbacks */

static int redis_port_is_ours(const struct pb_txn_conn *c, uint16_t port)
{
	unsigned i;

	if (!c->common || c->common->n_ports == 0)
		return port == 6379;
	for (i = 0; i < c->common->n_ports && i < PB_TXN_MAX_PORTS; i++)
		if (c->common->ports[i] == port)
			return 1;
	return 0;
}

/* Which endpoint is the server: the one on a Redis port; when both or
 * neither are, the one whose first bytes are a reply; else endpoint 1
 * (endpoint 0 sent the first packet). */
static void redis_setup(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct redis_state *s = redis_s(c);
	int p0, p1, k;

	if (s->init)
		return;
	s->init = 1;
	p0 = redis_port_is_ours(c, c->port[0]);
	p1 = redis_port_is_ours(c, c->port[1]);
	if (p0 != p1) {
		s->srv = (uint8_t)p0 ? 0 : 1;
	} else if (data && len) {
		int reply = redis_type_byte(data[0]) && data[0] != '*';

		s->srv = (uint8_t)(reply ? (dir & 1) : !(dir & 1));
	} else {
		s->srv = 1;
	}
	/* a direction whose start was not captured may begin inside a
	 * message: read from a line that can start one */
	for (k = 0; k < 2; k++)
		s->d[k].st = c->mid_stream[k] ? RS_RESYNC_LINE : RS_IDLE;
}

static int64_t redis_timeout(const struct pb_txn_conn *c)
{
	return c->common && c->common->timeout_ns > 0 ? c->common->timeout_ns
						      : PB_TXN_DEF_TIMEOUT_NS;
}

/* Requests not answered within transaction_timeout of their last byte
 * are written alone (not while a reply is being read: it answers the
 * oldest); their replies, if they come, are written alone too. */
static void redis_expire(struct pb_txn_conn *c, int64_t now_ns)
{
	struct redis_state *s = c->state;
	int64_t to = redis_timeout(c);
	struct redis_msg *m;

	if (!s || !s->init || s->dead || s->d[s->srv].m)
		return;
	while ((m = redis_head(s)) != NULL) {
		int64_t end = m->rs ? m->rs->end_ns : m->end_ns;

		if (now_ns < end || now_ns - end < to)
			break;
		redis_pop(s);
		if (m->confs) {
			redis_emit(c, m, m->rs, NULL, 0);
		} else {
			if (!m->after_gap)
				s->orphans++;
			redis_emit(c, m, NULL, NULL, 0);
		}
	}
}

/* One step in the state of dir: bytes consumed; *more when the step
 * needs more bytes than p[0..n). */
static size_t redis_step(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			 size_t base, int *more)
{
	struct redis_state *s = redis_s(c);
	struct redis_dir *d = redis_d(c, dir);
	int client = redis_is_client(c, dir);

	switch (d->st) {
	case RS_IDLE: {
		struct redis_msg *head;

		/* a master's keep-alive newlines between replies */
		if (!client && (p[0] == '\r' || p[0] == '\n'))
			return 1;
		/* SYNC is answered by the replication stream itself */
		head = redis_head(s);
		if (!client && head && head->psync == 2) {
			redis_pop(s);
			redis_emit(c, head, NULL, NULL, REDIS_E_SINGLE);
			redis_flush(c, NULL);
			redis_go_dead(c);
			return n;
		}
		d->m = redis_msg_new(c, dir, base);
		if (!d->m)
			return n;
		d->depth = d->quiet = 0;
		d->pending_cr = 0;
		if (client && p[0] != '*') {
			d->m->inl = 1;
			d->left = 0;
			d->st = RS_INLINE;
		} else {
			d->st = RS_TYPE;
		}
		return 0;
	}
	case RS_TYPE:
		return redis_st_type(c, dir, p);
	case RS_LEN:
		return redis_st_len(c, dir, p, n, base, more);
	case RS_SIMPLE:
		return redis_st_simple(c, dir, p, n, base);
	case RS_BULK:
		return redis_st_bulk(c, dir, p, n);
	case RS_CRLF:
		return redis_st_crlf(c, dir, p, n, base, more);
	case RS_CHUNK:
		return redis_st_chunk(c, dir, p, n, base, more);
	case RS_INLINE:
		return redis_st_inline(c, dir, p, n, base);
	case RS_RESYNC: {
		const uint8_t *nl = memchr(p, '\n', n);

		if (!nl)
			return n;
		d->st = RS_RESYNC_LINE;
		return (size_t)(nl - p) + 1;
	}
	case RS_RESYNC_LINE:
		/* requests start with '*' (an inline line cannot be told from
		 * the middle of a value), replies with a type byte */
		if (client ? p[0] == '*' : redis_type_byte(p[0])) {
			d->st = RS_IDLE;
			d->resync = 1;
			return 0;
		}
		d->st = RS_RESYNC;
		return 0;
	case RS_DEAD:
	default:
		return n;
	}
}

/* parse(): the unconsumed bytes of dir. */
static size_t redis_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct redis_state *s = redis_s(c);
	struct redis_dir *d;
	size_t off = 0;
	unsigned idle = 0;

	redis_setup(c, dir, data, len);
	if (s->dead)
		return len;
	/* what timed out before these bytes is written before them */
	redis_expire(c, c->now_ns);
	d = redis_d(c, dir);
	while (off < len) {
		int more = 0;
		size_t used;

		if (d->st == RS_DEAD)
			return len;
		used = redis_step(c, dir, data + off, len - off, off, &more);
		if (used > len - off)
			used = len - off;
		off += used;
		if (more)
			break;
		if (used == 0 && ++idle > REDIS_MAX_IDLE)
			break;
		if (used > 0)
			idle = 0;
	}
	/* a message still being read ends, so far, at the last byte taken
	 * (its end if the stream stops here) */
	if (d->m && off > 0 && d->st != RS_DEAD)
		pb_txn_byte_time(c, dir, off - 1, &d->m->end_ns, &d->m->last_pkt);
	return off;
}

/* n bytes of dir were never captured: the message being read is lost,
 * and reading resumes at a line that can start one.  Lost requests
 * leave replies that answer nothing seen; lost replies leave requests
 * whose answer is gone: pairing is not trusted until it can be again. */
static void redis_gap(struct pb_txn_conn *c, int dir, uint64_t n)
{
	struct redis_state *s = redis_s(c);
	struct redis_dir *d;
	struct redis_msg *m;

	(void)n;
	redis_setup(c, dir, NULL, 0);
	if (s->dead)
		return;
	d = redis_d(c, dir);
	m = d->m;
	d->m = NULL;
	d->depth = d->quiet = 0;
	d->pending_cr = 0;
	d->st = RS_RESYNC_LINE;
	if (redis_is_client(c, dir)) {
		/* a request whose end was lost: written alone, with what
		 * was read of it */
		if (m && m->inl && m->nspan == 0)
			redis_inline_split(m);
		if (m && m->nspan) {
			redis_emit(c, m, NULL, redis_n_loss_rq, 0);
			m = NULL;
		}
	} else {
		redis_flush(c, redis_n_loss_rs);
	}
	redis_msg_free(m);
	s->lost = 1;
}

/* The message being read in dir ends with the stream: a request cut
 * short is written alone (the server runs nothing incomplete), a reply
 * cut short answers its request. */
static void redis_finish(struct pb_txn_conn *c, int dir)
{
	struct redis_state *s = redis_s(c);
	struct redis_dir *d = redis_d(c, dir);
	struct redis_msg *m = d->m;

	d->m = NULL;
	d->depth = d->quiet = 0;
	d->pending_cr = 0;
	if (d->st != RS_DEAD)
		d->st = RS_IDLE;
	if (!m || s->dead) {
		redis_msg_free(m);
		return;
	}
	m->incomplete = 1;
	if (m->end_ns < m->start_ns)
		m->end_ns = m->start_ns;
	if (redis_is_client(c, dir)) {
		if (m->inl && m->nspan == 0)
			redis_inline_split(m);
		if (m->nspan == 0) {
			redis_msg_free(m);
			return;
		}
		redis_emit(c, m, NULL, NULL, 0);
	} else {
		redis_response(c, m);
	}
}

/* fin(): dir ended.  Requests waiting stay: a client that half-closes
 * still gets its answers. */
static void redis_fin(struct pb_txn_conn *c, int dir)
{
	struct redis_state *s = redis_s(c);

	if (!s || !s->init)
		return;
	redis_finish(c, dir & 1);
}

/* close(): the conversation ended; everything waiting is written and
 * freed, and the state is left zeroed. */
static void redis_close(struct pb_txn_conn *c)
{
	struct redis_state *s = c->state;

	if (!s)
		return;
	if (s->init) {
		/* the reply being read first, so it finds its request */
		redis_finish(c, s->srv);
		redis_finish(c, !s->srv);
		redis_flush(c, NULL);
	}
	pb_txn_queue_release(&s->q);
	redis_msg_free(s->d[0].m);
	redis_msg_free(s->d[1].m);
	memset(s, 0, sizeof(*s));
}

static const uint16_t redis_ports[] = { 6379 };

/* the options of its own (pb_proto.keys) */
static const char *const redis_keys[] = {
	"queue_max_bytes",
	"queue_max_messages",
	NULL
};

const struct pb_proto pb_proto_redis = {
	.name = "redis",
	.transports = PB_TP_TCP,
	.ports = redis_ports,
	.n_ports = sizeof(redis_ports) / sizeof(redis_ports[0]),
	.conf_size = sizeof(struct redis_conf),
	.conf_init = redis_conf_init,
	.conf_load = redis_conf_load,
	.state_size = sizeof(struct redis_state),
	.parse = redis_parse,
	.gap = redis_gap,
	.fin = redis_fin,
	.expire = redis_expire,
	.close = redis_close,
	.keys = redis_keys,
};
