/*
 * pgsql.c - the PostgreSQL frontend/backend protocol (version 3.x) over
 * TCP: startup, encryption requests, simple and extended queries, results,
 * errors, COPY and notifications, paired FIFO into Packetbeat's "pgsql"
 * events.
 *
 * References: PostgreSQL 15 documentation, chapter 55 "Frontend/Backend
 * Protocol": 55.2 (message flow: start-up, simple query, extended query,
 * COPY, asynchronous operations, canceling requests, SSL and GSSAPI
 * session encryption), 55.7 (message formats), 55.8 (error and notice
 * message fields), https://www.postgresql.org/docs/15/protocol.html;
 * Appendix A (SQLSTATE codes).  psql's lexer (src/fe_utils/psqlscan.l)
 * for where one statement of a query string ends.  pb-proto-pgsql(7)
 * teaches all of it with the fields.
 *
 * Every message but a client's first has a type byte and a length that
 * counts itself, not the type:
 *
 *    +------+----------------------+------------------------------+
 *    | type | length (int32, BE)   | body: length - 4 bytes       |
 *    +------+----------------------+------------------------------+
 *
 * A client's first message (and the one after a declined encryption
 * request) has no type; its code says what it is:
 *
 *    +----------------------+----------------------+-------------------+
 *    | length (int32, BE)   | code (int32, BE)     | body              |
 *    +----------------------+----------------------+-------------------+
 *      196608 (3.0)  StartupMessage: name\0value\0 ... \0
 *      80877103      SSLRequest (8 bytes): the server answers 'S' or 'N'
 *      80877104      GSSENCRequest (8 bytes): 'G' or 'N'
 *      80877102      CancelRequest (16 bytes): process id, secret key
 *
 * The conversations read here (client ->, server <-):
 *
 *    start-up   StartupMessage ->  <- R (auth)  p -> ... <- R(ok) S* K Z
 *                                    (or <- E: a failed login)
 *    simple     Q "s1; s2" ->  <- [T D*] C  [T D*] C  Z  (E ends it early)
 *    extended   P B D E S  ->  <- 1 2 T|n D* C  Z   (E: the rest to the
 *                                                    Sync is skipped)
 *    COPY in    Q "COPY .. FROM STDIN" ->  <- G  d* c ->  <- C Z
 *    COPY out   Q "COPY .. TO STDOUT"  ->  <- H d* c C Z
 *    async      <- N (notice), A (notification), S (parameter status)
 *
 * Each direction is framed on its own (UNTYPED -> TYPED, SKIP for the
 * tail of a long message, RESYNC after a gap or a bad message).  Client
 * messages become pending entries in a FIFO (txn/queue.h): one per
 * Query (its statements taken one per CommandComplete/ErrorResponse),
 * one per Execute, one per Sync, one for the start-up.  The server's
 * results gather in an accumulator until a completion closes the oldest
 * entry; ReadyForQuery closes everything up to the Sync (or Query) it
 * answers, so statements an error skipped are known for what they are.
 */
#include "proto/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "txn/queue.h"
#include "util/buf.h"
#include "util/cursor.h"
#include "util/json.h"
#include "util/banned.h"

/* ------------------------------------------------------------ limits */

/* A message of at most this many bytes is read whole; a longer one (a
 * big row, a big COPY chunk, a huge query) is read from its first bytes
 * this long and the rest skipped as it comes, so nothing waits in the
 * engine for a gigabyte message.  Query texts are kept up to here. */
#define PGSQL_MAX_MSG (256u << 10)
/* The smallest prefix read of a long message, whatever max_message_size
 * says: a header and a little more. */
#define PGSQL_MIN_PREFIX 64u
/* The start-up message: the server refuses more (MAX_STARTUP_PACKET_LENGTH). */
#define PGSQL_MAX_STARTUP 10000u
/* Entries waiting for the server (a Query, an Execute, a Sync...).  A
 * client that pipelines more without reading answers gets its oldest
 * written unanswered: memory per connection stays bounded. */
#define PGSQL_MAX_PENDING 64
/* Named prepared statements and portals remembered per connection (the
 * unnamed ones besides); past it the least recently defined goes. */
#define PGSQL_MAX_STMTS 64
#define PGSQL_MAX_PORTALS 16
/* Statement and portal names: the server cuts them to NAMEDATALEN - 1. */
#define PGSQL_NAME_LEN 64
/* Result columns whose text/binary format is remembered (a row has at
 * most 1664 target columns, MaxTupleAttributeNumber); later columns
 * count as text. */
#define PGSQL_MAX_FIELDS 1664
/* The raw response text (send_response), whatever max_rows and
 * max_row_length allow. */
#define PGSQL_MAX_RESPONSE (4u << 20)
/* Kept of an ErrorResponse's message, of each notice, and notices kept
 * per statement. */
#define PGSQL_MAX_ERRMSG (8u << 10)
#define PGSQL_NOTICE_LEN 512
#define PGSQL_MAX_NOTICES 4
/* A command tag ("INSERT 0 1", "SELECT 300"); short by nature. */
#define PGSQL_TAG_LEN 64
/* Start-up parameters kept (user, database, application_name). */
#define PGSQL_PARAM_LEN 64
/* A resynchronising direction takes a message start only if its length
 * is at most this (and the next header looks right too). */
#define PGSQL_RESYNC_MAX (64u << 10)
/* The method: the first keyword, upper-cased. */
#define PGSQL_METHOD_LEN 32
/* Bounds for max_rows and max_row_length (beyond Packetbeat's 10 and
 * 1024, a user may ask for more, not without limit). */
#define PGSQL_CONF_MAX_ROWS 1000000
#define PGSQL_CONF_MAX_ROW_LEN (1 << 20)
/* Steps in a row that consume nothing: never reached; a guard. */
#define PGSQL_MAX_IDLE 8

/* The codes of the untyped messages (55.7). */
#define PGSQL_CODE_SSL 80877103u
#define PGSQL_CODE_GSSENC 80877104u
#define PGSQL_CODE_CANCEL 80877102u
#define PGSQL_CODE_V2 0x00020000u

/* Notes (error.message). */
static const char pgsql_n_unm_rq[] = "Unmatched request";
static const char pgsql_n_unm_rs[] = "Unmatched response";
static const char pgsql_n_loss_rq[] = "Packet loss while capturing the request";
static const char pgsql_n_loss_rs[] = "Packet loss while capturing the response";
static const char pgsql_n_skipped[] =
	"Not executed: an earlier statement of the same request failed";
static const char pgsql_n_flood[] =
	"Too many requests were pending on this connection: written without waiting for the response";
static const char pgsql_n_cut[] = "Query text truncated (longer than 262144 bytes)";
static const char pgsql_n_incomplete[] = "Response incomplete at end of stream";
static const char pgsql_n_rs_cut[] = "Response text truncated";
static const char pgsql_n_ssl[] =
	"SSLRequest accepted: the rest of the conversation is encrypted (TLS) and was not decoded";
static const char pgsql_n_gss[] =
	"GSSENCRequest accepted: the rest of the conversation is encrypted (GSSAPI) and was not decoded";
static const char pgsql_n_tls[] =
	"TLS from the first byte (direct SSL negotiation): the conversation was not decoded";
static const char pgsql_n_nostmt[] =
	"The statement executed was prepared before the capture began";

/* ----------------------------------------------------- configuration */

struct pgsql_conf {
	int64_t max_rows;            /* rows kept in response (10) */
	int64_t max_row_length;      /* bytes of values kept per row (1024) */
};

static void pgsql_conf_init(void *v)
{
	struct pgsql_conf *cf = v;

	cf->max_rows = 10;
	cf->max_row_length = 1024;
}

static int pgsql_conf_int(struct pb_conf *c, const char *prefix, const char *key, int64_t *out,
			  int64_t max, const char *why)
{
	char p[256];
	int64_t v = *out;
	int rc;

	snprintf(p, sizeof(p), "%s.%s", prefix, key);
	rc = pb_conf_int(c, p, &v);
	if (rc < 0)
		return -1;
	if (rc == 0 && (v < 0 || v > max)) {
		pb_conf_fail(c, p, why);
		return -1;
	}
	*out = v;
	return 0;
}

static int pgsql_conf_load(void *v, struct pb_conf *c, const char *prefix)
{
	struct pgsql_conf *cf = v;

	if (pgsql_conf_int(c, prefix, "max_rows", &cf->max_rows, PGSQL_CONF_MAX_ROWS,
			   "expected a number of rows from 0 to 1000000") < 0 ||
	    pgsql_conf_int(c, prefix, "max_row_length", &cf->max_row_length,
			   PGSQL_CONF_MAX_ROW_LEN, "expected a length from 0 to 1048576") < 0)
		return -1;
	return 0;
}

static const struct pgsql_conf pgsql_conf_default = { 10, 1024 };

static const struct pgsql_conf *pgsql_cf(const struct pb_txn_conn *c)
{
	return c->conf ? c->conf : &pgsql_conf_default;
}

/* ------------------------------------------------------------- state */

/* A query text, shared by the statement table, portals and pending
 * entries that name it (counted references). */
struct pgsql_text {
	unsigned refs;
	uint32_t len;
	uint8_t cut;                 /* the message was longer than kept */
	char s[];                    /* len bytes and a NUL */
};

/* A named prepared statement or portal, and its query. */
struct pgsql_named {
	char name[PGSQL_NAME_LEN];
	uint32_t age;                /* when defined: the oldest goes first */
	struct pgsql_text *text;     /* NULL: slot free (or query unknown) */
	uint8_t used;
};

/* What a pending entry stands for. */
enum {
	PGSQL_P_EXEC = 1,            /* an Execute (extended query) */
	PGSQL_P_QUERY,               /* a Query: its statements, one by one */
	PGSQL_P_FUNC,                /* a FunctionCall */
	PGSQL_P_SYNC,                /* a Sync: ends an extended batch */
	PGSQL_P_STARTUP              /* the start-up and authentication */
};

/* One slot of the pending FIFO. */
struct pgsql_pend {
	uint8_t kind;
	uint8_t done;                /* FUNC, SYNC: answered already */
	uint8_t lost;                /* bytes of the request were lost */
	uint8_t flood;               /* pushed out by a full queue */
	uint8_t nostmt;              /* EXEC of a statement never seen */
	uint32_t seq;
	uint32_t next;               /* QUERY: where the next statement starts */
	uint32_t fn_oid;             /* FUNC: the function's OID */
	struct pgsql_text *text;     /* the query (SYNC: the batch's Parse) */
	int64_t start_ns, end_ns;
	uint64_t first_pkt, last_pkt;
	uint64_t bytes;
};

/* Client messages of an extended batch not yet given to an entry
 * (Parse, Bind, Describe, Close before an Execute or a Sync). */
struct pgsql_batch {
	uint8_t have;
	int64_t start_ns, end_ns;
	uint64_t first_pkt, last_pkt;
	uint64_t bytes;
	struct pgsql_text *parse;    /* the batch's last Parse */
};

struct pgsql_notice {
	char sev[16];
	char code[8];
	char msg[PGSQL_NOTICE_LEN];
};

/* The server's answer so far to the oldest pending entry. */
struct pgsql_acc {
	uint8_t started;
	uint8_t error, loss, copy, empty, suspended, has_tag, csv_cut;
	int64_t start_ns, end_ns;
	uint64_t first_pkt, last_pkt;
	uint64_t bytes;
	uint32_t num_fields;
	uint64_t num_rows, copy_rows;
	uint8_t fmt[PGSQL_MAX_FIELDS / 8];   /* 1 bits: binary columns */
	char tag[PGSQL_TAG_LEN];
	char err_code[8], err_sev[16], err_vsev[16];
	struct pb_buf err_msg;
	struct pgsql_notice notices[PGSQL_MAX_NOTICES];
	unsigned n_notices;
	struct pb_buf csv;           /* send_response: header and rows */
	unsigned csv_rows;
	struct pb_buf scratch;       /* one CSV field being escaped */
};

/* Where a direction's framing is. */
enum {
	PGSQL_D_NEW = 0,             /* nothing read yet */
	PGSQL_D_UNTYPED,             /* a client's first message is next */
	PGSQL_D_TYPED,               /* type byte, length, body */
	PGSQL_D_SKIP,                /* the rest of a long message */
	PGSQL_D_RESYNC,              /* looking for a message start */
	PGSQL_D_OFF                  /* not read any more */
};

struct pgsql_dir {
	uint8_t state;
	uint64_t skip;               /* SKIP: bytes still to come */
};

/* The connection (c->state; zeroed by the engine). */
struct pgsql_state {
	uint8_t roles;               /* client is known */
	uint8_t client;              /* the endpoint that is the client */
	uint8_t expect;              /* 'S' or 'G': an encryption request
				      * waits for its one-byte answer */
	uint8_t encrypted;           /* nothing more is readable */
	uint8_t failed;              /* an error since the last ReadyForQuery */
	uint8_t rq_lost;             /* client bytes lost since then */
	uint8_t sasl;                /* AuthenticationSASL seen: the next
				      * password message names the mechanism */
	uint8_t have_user, have_db, have_app;
	struct pgsql_dir d[2];
	struct pb_txn_queue q;
	uint32_t seq, last_exec;
	struct pgsql_batch batch;
	uint64_t rq_extra;           /* COPY data the client sent */
	int64_t enc_ns;              /* the encryption request */
	uint64_t enc_pkt;
	struct pgsql_text *ustmt, *uportal;  /* the unnamed ones */
	struct pgsql_named stmts[PGSQL_MAX_STMTS];
	struct pgsql_named portals[PGSQL_MAX_PORTALS];
	uint32_t age;
	char user[PGSQL_PARAM_LEN], db[PGSQL_PARAM_LEN], app[PGSQL_PARAM_LEN];
	char auth[32];               /* how the server asked to authenticate */
	struct pgsql_acc acc;
};

static struct pgsql_state *pgsql_s(struct pb_txn_conn *c)
{
	return c->state;
}

/* the direction the server sends */
static int pgsql_is_server(const struct pgsql_state *s, int dir)
{
	return (dir & 1) != s->client;
}

static void pgsql_error(struct pb_txn_conn *c)
{
	if (c->st)
		c->st->parse_errors++;
}

/* ------------------------------------------------------------- texts */

static struct pgsql_text *pgsql_text_new(const void *p, size_t n, int cut)
{
	struct pgsql_text *t;

	if (n > PGSQL_MAX_MSG) {
		n = PGSQL_MAX_MSG;
		cut = 1;
	}
	t = malloc(sizeof(*t) + n + 1);
	if (!t)
		return NULL;
	t->refs = 1;
	t->len = (uint32_t)n;
	t->cut = (uint8_t)cut;
	if (n)
		memcpy(t->s, p, n);
	t->s[n] = '\0';
	return t;
}

static struct pgsql_text *pgsql_text_ref(struct pgsql_text *t)
{
	if (t)
		t->refs++;
	return t;
}

static void pgsql_text_unref(struct pgsql_text **tp)
{
	struct pgsql_text *t = *tp;

	*tp = NULL;
	if (t && --t->refs == 0)
		free(t);
}

/* ----------------------------------------------------- SQL scanning */

static int pgsql_space(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* identifier characters (SQL: letters, digits, _, $, and any byte of a
 * multi-byte character) */
static int pgsql_ident_start(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch >= 0x80;
}

static int pgsql_ident_char(uint8_t ch)
{
	return pgsql_ident_start(ch) || (ch >= '0' && ch <= '9') || ch == '$';
}

static int pgsql_ieq(const char *a, size_t n, const char *lit)
{
	size_t i;

	if (strlen(lit) != n)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = a[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch != lit[i])
			return 0;
	}
	return 1;
}

/* Past a comment at q[i] ("--" to the end of the line, or a nested
 * block comment); i itself when there is none. */
static size_t pgsql_comment(const char *q, size_t n, size_t i)
{
	if (i + 1 < n && q[i] == '-' && q[i + 1] == '-') {
		while (i < n && q[i] != '\n')
			i++;
		return i;
	}
	if (i + 1 < n && q[i] == '/' && q[i + 1] == '*') {
		unsigned depth = 1;

		i += 2;
		while (i < n && depth > 0) {
			if (i + 1 < n && q[i] == '/' && q[i + 1] == '*') {
				depth++;
				i += 2;
			} else if (i + 1 < n && q[i] == '*' && q[i + 1] == '/') {
				depth--;
				i += 2;
			} else {
				i++;
			}
		}
		return i;
	}
	return i;
}

/* Past a dollar-quoted string at q[i] ('$', an optional tag, '$', the
 * body, the same tag again); i when q[i] starts none ($1 is a
 * parameter). */
static size_t pgsql_dollar(const char *q, size_t n, size_t i)
{
	size_t t = i + 1, tl, k;

	if (t < n && (q[t] >= '0' && q[t] <= '9'))
		return i;
	while (t < n && q[t] != '$') {
		if (!pgsql_ident_char((uint8_t)q[t]) || q[t] == '$')
			return i;
		t++;
	}
	if (t >= n)
		return i;
	tl = t + 1 - i;                  /* the tag with both dollars */
	for (k = t + 1; k + tl <= n; k++)
		if (q[k] == '$' && memcmp(q + k, q + i, tl) == 0)
			return k + tl;
	return n;                        /* never closed: to the end */
}

/* Past a quoted string or identifier at q[i] (quote ch; doubled quotes
 * inside; backslash escapes in E'' strings). */
static size_t pgsql_quoted(const char *q, size_t n, size_t i, char ch, int esc)
{
	i++;
	while (i < n) {
		if (esc && q[i] == '\\') {
			i += 2;
			continue;
		}
		if (q[i] == ch) {
			if (i + 1 < n && q[i + 1] == ch) {
				i += 2;
				continue;
			}
			return i + 1;
		}
		i++;
	}
	return n;
}

/*
 * The next statement of the query string q[0..n) from *pos: where it
 * starts and how long it is, without the whitespace around it and the
 * ';' after it; *pos moves past that ';'.  A semicolon ends a statement
 * outside quotes, comments and parentheses, and outside the BEGIN ...
 * END of a CREATE [OR REPLACE] FUNCTION|PROCEDURE body (psql's rule).
 * Pieces with nothing but blanks and comments are not statements.
 * 0 when no statement is left.
 */
static int pgsql_next_stmt(const char *q, size_t n, uint32_t *pos, size_t *off, size_t *len)
{
	size_t i = *pos;

	while (i < n) {
		size_t start = i, e, b;
		unsigned paren = 0, begin = 0, nid = 0;
		char ids[4] = { 0, 0, 0, 0 };
		int token = 0;

		while (i < n) {
			uint8_t ch = (uint8_t)q[i];
			size_t k = pgsql_comment(q, n, i);

			if (k != i) {
				i = k;
				continue;
			}
			if (pgsql_space(ch)) {
				i++;
				continue;
			}
			if (ch == ';' && paren == 0 && begin == 0)
				break;
			token = 1;
			if (ch == '\'') {
				int esc = i > 0 && (q[i - 1] == 'E' || q[i - 1] == 'e') &&
					  (i < 2 || !pgsql_ident_char((uint8_t)q[i - 2]));

				i = pgsql_quoted(q, n, i, '\'', esc);
			} else if (ch == '"') {
				i = pgsql_quoted(q, n, i, '"', 0);
			} else if (ch == '$' && (k = pgsql_dollar(q, n, i)) != i) {
				i = k;
			} else if (ch == '(') {
				paren++;
				i++;
			} else if (ch == ')') {
				if (paren)
					paren--;
				i++;
			} else if (pgsql_ident_start(ch)) {
				size_t w = i;

				while (i < n && pgsql_ident_char((uint8_t)q[i]))
					i++;
				/* CREATE [OR REPLACE] FUNCTION|PROCEDURE ... BEGIN
				 * ... END: semicolons inside are the body's */
				if (nid < 4) {
					const char *kw[] = { "create", "function", "procedure", "or",
							     "replace" };
					unsigned x;

					for (x = 0; x < 5; x++)
						if (pgsql_ieq(q + w, i - w, kw[x]))
							ids[nid] = kw[x][0];
				}
				nid++;
				if (ids[0] == 'c' &&
				    (ids[1] == 'f' || ids[1] == 'p' ||
				     (ids[1] == 'o' && ids[2] == 'r' && (ids[3] == 'f' || ids[3] == 'p'))) &&
				    paren == 0) {
					if (pgsql_ieq(q + w, i - w, "begin"))
						begin++;
					else if (pgsql_ieq(q + w, i - w, "case") && begin >= 1)
						begin++;
					else if (pgsql_ieq(q + w, i - w, "end") && begin > 0)
						begin--;
				}
			} else {
				i++;
			}
		}
		e = i;
		if (i < n)
			i++;                 /* the ';' */
		if (!token)
			continue;            /* blanks and comments only */
		for (b = start; b < e && pgsql_space((uint8_t)q[b]); b++)
			;
		while (e > b && pgsql_space((uint8_t)q[e - 1]))
			e--;
		*pos = (uint32_t)i;
		*off = b;
		*len = e - b;
		return 1;
	}
	*pos = (uint32_t)n;
	return 0;
}

/* A Parse's query without the blanks around it and one ';' after it. */
static void pgsql_trim(const char *q, size_t n, size_t *off, size_t *len)
{
	size_t b = 0, e = n;

	while (b < e && pgsql_space((uint8_t)q[b]))
		b++;
	while (e > b && pgsql_space((uint8_t)q[e - 1]))
		e--;
	if (e > b && q[e - 1] == ';') {
		e--;
		while (e > b && pgsql_space((uint8_t)q[e - 1]))
			e--;
	}
	*off = b;
	*len = e - b;
}

/* Packetbeat's method: the first keyword, upper-cased (blanks, comments
 * and opening parentheses before it skipped); "" when there is none. */
static void pgsql_method(const char *q, size_t n, char out[PGSQL_METHOD_LEN])
{
	size_t i = 0, k = 0;

	for (;;) {
		size_t j = pgsql_comment(q, n, i);

		if (j != i) {
			i = j;
			continue;
		}
		if (i < n && (pgsql_space((uint8_t)q[i]) || q[i] == '(')) {
			i++;
			continue;
		}
		break;
	}
	while (i < n && k + 1 < PGSQL_METHOD_LEN &&
	       ((q[i] >= 'a' && q[i] <= 'z') || (q[i] >= 'A' && q[i] <= 'Z') || q[i] == '_' ||
		(k > 0 && q[i] >= '0' && q[i] <= '9'))) {
		char ch = q[i++];

		out[k++] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
	}
	out[k] = '\0';
}

/* ------------------------------------------------ statements, portals */

/* A NUL-terminated name from the cursor, cut to the table's size as the
 * server cuts it.  0 when the string has no NUL (the message is bad). */
static int pgsql_name(struct pb_cur *cur, char out[PGSQL_NAME_LEN])
{
	size_t left = pb_cur_left(cur), n;
	const uint8_t *p = cur->pos, *nul;

	if (!pb_cur_ok(cur) || !(nul = memchr(p, 0, left)))
		return 0;
	n = (size_t)(nul - p);
	pb_cur_skip(cur, n + 1);
	if (n >= PGSQL_NAME_LEN)
		n = PGSQL_NAME_LEN - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

/* The slot named name, or NULL; with make, a slot for it (the least
 * recently defined one given up when all are taken). */
static struct pgsql_named *pgsql_named(struct pgsql_state *s, struct pgsql_named *tab,
				       unsigned cap, const char *name, int make)
{
	struct pgsql_named *free_slot = NULL, *old = NULL;
	unsigned i;

	for (i = 0; i < cap; i++) {
		if (tab[i].used && strcmp(tab[i].name, name) == 0)
			return &tab[i];
		if (!tab[i].used && !free_slot)
			free_slot = &tab[i];
		if (tab[i].used && (!old || tab[i].age < old->age))
			old = &tab[i];
	}
	if (!make)
		return NULL;
	if (!free_slot) {
		free_slot = old;
		pgsql_text_unref(&free_slot->text);
	}
	memset(free_slot, 0, sizeof(*free_slot));
	memcpy(free_slot->name, name, strlen(name) + 1);
	free_slot->used = 1;
	free_slot->age = ++s->age;
	return free_slot;
}

/* The query a statement (or portal) name stands for (a new reference),
 * or NULL when it is not known. */
static struct pgsql_text *pgsql_lookup(struct pgsql_state *s, int portal, const char *name)
{
	struct pgsql_named *e;

	if (!name[0])
		return pgsql_text_ref(portal ? s->uportal : s->ustmt);
	e = portal ? pgsql_named(s, s->portals, PGSQL_MAX_PORTALS, name, 0)
		   : pgsql_named(s, s->stmts, PGSQL_MAX_STMTS, name, 0);
	return e ? pgsql_text_ref(e->text) : NULL;
}

/* Remember what name stands for (t: a reference given over). */
static void pgsql_define(struct pgsql_state *s, int portal, const char *name, struct pgsql_text *t)
{
	struct pgsql_named *e;

	if (!name[0]) {
		struct pgsql_text **u = portal ? &s->uportal : &s->ustmt;

		pgsql_text_unref(u);
		*u = t;
		return;
	}
	e = portal ? pgsql_named(s, s->portals, PGSQL_MAX_PORTALS, name, 1)
		   : pgsql_named(s, s->stmts, PGSQL_MAX_STMTS, name, 1);
	pgsql_text_unref(&e->text);
	e->text = t;
}

static void pgsql_forget(struct pgsql_state *s, int portal, const char *name)
{
	struct pgsql_named *e;

	if (!name[0]) {
		pgsql_text_unref(portal ? &s->uportal : &s->ustmt);
		return;
	}
	e = portal ? pgsql_named(s, s->portals, PGSQL_MAX_PORTALS, name, 0)
		   : pgsql_named(s, s->stmts, PGSQL_MAX_STMTS, name, 0);
	if (e) {
		pgsql_text_unref(&e->text);
		e->used = 0;
	}
}

/* ------------------------------------------------------ accumulator */

static void pgsql_acc_init(struct pgsql_acc *a)
{
	memset(a, 0, sizeof(*a));
	pb_buf_init(&a->err_msg, PGSQL_MAX_ERRMSG);
	pb_buf_init(&a->csv, PGSQL_MAX_RESPONSE);
	pb_buf_init(&a->scratch, 2 * PGSQL_CONF_MAX_ROW_LEN + 16);
}

static void pgsql_acc_release(struct pgsql_acc *a)
{
	pb_buf_release(&a->err_msg);
	pb_buf_release(&a->csv);
	pb_buf_release(&a->scratch);
}

/* Ready for the next answer (buffers kept for reuse). */
static void pgsql_acc_reset(struct pgsql_acc *a)
{
	struct pb_buf em = a->err_msg, csv = a->csv, sc = a->scratch;

	memset(a, 0, sizeof(*a));
	pb_buf_clear(&em);
	pb_buf_clear(&csv);
	pb_buf_clear(&sc);
	a->err_msg = em;
	a->csv = csv;
	a->scratch = sc;
}

/* ------------------------------------------------------------ events */

/* What one event is written from, for the write() callback. */
enum {
	PGSQL_E_QUERY = 0,           /* a statement and its result */
	PGSQL_E_LOGIN,               /* a failed start-up */
	PGSQL_E_ENC,                 /* an accepted encryption request */
	PGSQL_E_CANCEL,
	PGSQL_E_NOTIFY,
	PGSQL_E_FUNC
};

struct pgsql_ev {
	int kind;
	struct pgsql_state *s;
	const struct pgsql_pend *p;  /* the request, or NULL */
	const struct pgsql_acc *a;   /* the response, or NULL */
	uint32_t pid;                /* CANCEL, NOTIFY */
	const uint8_t *chan, *payload;
	size_t chan_len, payload_len;
	struct pb_buf query;         /* the statement, NUL-terminated */
	char method[PGSQL_METHOD_LEN];
};

/* the number of a command tag ("COPY 5"): its last word; -1 if none */
static int64_t pgsql_tag_count(const char *tag)
{
	const char *sp = strrchr(tag, ' ');
	int64_t v = 0;

	if (!sp || !sp[1])
		return -1;
	for (sp++; *sp; sp++) {
		if (*sp < '0' || *sp > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*sp - '0');
	}
	return v;
}

static void pgsql_kv(struct pb_json *j, const char *key, size_t kl, const char *v)
{
	pb_json_keyn(j, key, kl);
	pb_json_cstr(j, v);
}
#define PGSQL_KV(j, lit, v) pgsql_kv((j), "" lit "", sizeof(lit) - 1, (v))

static void pgsql_write(struct pb_json *j, const struct pb_txn *t, void *arg)
{
	const struct pgsql_ev *e = arg;
	const struct pgsql_state *s = e->s;
	const struct pgsql_acc *a = e->a;
	unsigned i;

	(void)t;
	pb_json_key(j, "pgsql");
	pb_json_obj(j);
	/* each field of the error as it was sent (a server may leave one
	 * out; C, M and S are always there from PostgreSQL) */
	if (a && a->error) {
		if (a->err_code[0])
			PGSQL_KV(j, "error_code", a->err_code);
		if (a->err_msg.len) {
			pb_json_key(j, "error_message");
			pb_json_str(j, a->err_msg.data, a->err_msg.len);
		}
		if (a->err_sev[0] || a->err_vsev[0])
			PGSQL_KV(j, "error_severity", a->err_sev[0] ? a->err_sev : a->err_vsev);
	}
	if (a && (e->kind == PGSQL_E_QUERY || e->kind == PGSQL_E_FUNC)) {
		int64_t n = a->num_rows;

		/* COPY: the rows copied, as its tag counts them */
		if (a->copy) {
			n = (int64_t)a->copy_rows;
			if (a->has_tag && strncmp(a->tag, "COPY ", 5) == 0 && pgsql_tag_count(a->tag) >= 0)
				n = pgsql_tag_count(a->tag);
		}
		pb_json_key(j, "num_fields");
		pb_json_u64(j, a->num_fields);
		pb_json_key(j, "num_rows");
		pb_json_u64(j, (uint64_t)n);
		if (a->has_tag)
			PGSQL_KV(j, "command_tag", a->tag);
	}
	if (a && a->n_notices) {
		pb_json_key(j, "notices");
		pb_json_arr(j);
		for (i = 0; i < a->n_notices; i++) {
			pb_json_obj(j);
			PGSQL_KV(j, "severity", a->notices[i].sev);
			PGSQL_KV(j, "code", a->notices[i].code);
			PGSQL_KV(j, "message", a->notices[i].msg);
			pb_json_obj_end(j);
		}
		pb_json_arr_end(j);
	}
	if (e->kind == PGSQL_E_FUNC && e->p) {
		pb_json_key(j, "function_oid");
		pb_json_u64(j, e->p->fn_oid);
	}
	if (e->kind == PGSQL_E_LOGIN && s->auth[0])
		PGSQL_KV(j, "auth_method", s->auth);
	if (e->kind == PGSQL_E_NOTIFY) {
		pb_json_key(j, "notification");
		pb_json_obj(j);
		pb_json_key(j, "channel");
		pb_json_str(j, e->chan, e->chan_len);
		pb_json_key(j, "payload");
		pb_json_str(j, e->payload, e->payload_len);
		pb_json_key(j, "process_id");
		pb_json_u64(j, e->pid);
		pb_json_obj_end(j);
	}
	if (e->kind == PGSQL_E_CANCEL) {
		pb_json_key(j, "cancel");
		pb_json_obj(j);
		pb_json_key(j, "process_id");
		pb_json_u64(j, e->pid);
		pb_json_obj_end(j);
	}
	if (s->have_user)
		PGSQL_KV(j, "user", s->user);
	if (s->have_db)
		PGSQL_KV(j, "database", s->db);
	if (s->have_app)
		PGSQL_KV(j, "application_name", s->app);
	pb_json_obj_end(j);
}

/* Whether the write() callback has anything to write. */
static int pgsql_has_fields(const struct pgsql_ev *e)
{
	const struct pgsql_state *s = e->s;

	if (e->a && (e->kind == PGSQL_E_QUERY || e->a->error || e->a->n_notices))
		return 1;
	return e->kind == PGSQL_E_CANCEL || e->kind == PGSQL_E_NOTIFY ||
	       e->kind == PGSQL_E_FUNC || (e->kind == PGSQL_E_LOGIN && s->auth[0]) ||
	       s->have_user || s->have_db || s->have_app;
}

static void pgsql_ev_init(struct pgsql_ev *e, int kind, struct pgsql_state *s)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->s = s;
	pb_buf_init(&e->query, PGSQL_MAX_MSG + 1);
}

/*
 * Write one event: p the request (or NULL), with the statement
 * text[off..off+len) when it has a query; a the answer (or NULL);
 * extra request bytes (COPY data); note a note of the pairing (or NULL).
 */
static void pgsql_emit(struct pb_txn_conn *c, struct pgsql_ev *e, const struct pgsql_text *text,
		       size_t off, size_t len, uint64_t extra, const char *note, const char *method)
{
	struct pgsql_state *s = e->s;
	const struct pgsql_pend *p = e->p;
	const struct pgsql_acc *a = e->a;
	struct pb_txn t;

	memset(&t, 0, sizeof(t));
	t.client = s->client;
	t.has_request = p != NULL;
	t.has_response = a != NULL;
	if (p) {
		t.start_ns = p->start_ns;
		t.first_pkt = p->first_pkt;
		t.end_ns = p->end_ns;
		t.last_pkt = p->last_pkt;
		t.request_bytes = p->bytes + extra;
	}
	if (a) {
		if (!p) {
			t.start_ns = a->start_ns;
			t.first_pkt = a->first_pkt;
		}
		t.end_ns = a->end_ns;
		t.last_pkt = a->last_pkt;
		t.response_bytes = a->bytes;
	}
	t.status = (a && a->error) || !p || !a ? "Error" : "OK";
	if (e->kind == PGSQL_E_CANCEL || e->kind == PGSQL_E_NOTIFY || e->kind == PGSQL_E_ENC) {
		/* messages that have no answer by nature: counted as such */
		t.single = e->kind != PGSQL_E_ENC || !a;
		t.status = "OK";
	}
	if (text) {
		if (off > text->len)
			off = text->len;
		if (len > text->len - off)
			len = text->len - off;
		if (len)
			pb_buf_add(&e->query, text->s + off, len);
		pgsql_method(text->s + off, len, e->method);
		t.query = pb_buf_cstr(&e->query);
		if (e->query.len == 0)
			t.query = "";
		if (e->method[0])
			t.method = e->method;
		/* Packetbeat's request text is the statement */
		t.request = (const uint8_t *)t.query;
		t.request_len = e->query.len;
		if (text->cut)
			pb_txn_note(&t, pgsql_n_cut);
	}
	if (method)
		t.method = method;
	if (p && p->lost)
		pb_txn_note(&t, pgsql_n_loss_rq);
	if (!p && a && s->rq_lost)
		pb_txn_note(&t, pgsql_n_loss_rq);
	if (a && a->loss)
		pb_txn_note(&t, pgsql_n_loss_rs);
	if (p && p->nostmt)
		pb_txn_note(&t, pgsql_n_nostmt);
	if (p && p->flood)
		pb_txn_note(&t, pgsql_n_flood);
	if (note)
		pb_txn_note(&t, note);
	if (a && a->csv_cut)
		pb_txn_note(&t, pgsql_n_rs_cut);
	/* Packetbeat's response text: the rows as CSV ("" without rows) */
	if (a && a->csv.len) {
		t.response = (const uint8_t *)a->csv.data;
		t.response_len = a->csv.len;
	} else if (a && (e->kind == PGSQL_E_QUERY || e->kind == PGSQL_E_FUNC)) {
		t.response = (const uint8_t *)"";
		t.response_len = 0;
	}
	if (pgsql_has_fields(e)) {
		t.write = pgsql_write;
		t.arg = e;
	}
	pb_txn_emit(c, &t);
	pb_buf_release(&e->query);
}

/* A request without its answer (or with a partial one). */
static void pgsql_emit_alone(struct pb_txn_conn *c, struct pgsql_state *s, struct pgsql_pend *p,
			     const struct pgsql_acc *a, const char *note)
{
	struct pgsql_ev e;

	if (p->kind == PGSQL_P_QUERY) {
		size_t off, len;
		int any = 0;

		/* every statement not answered yet, one event each; a partial
		 * answer goes with the first, the others have none */
		while (p->text && pgsql_next_stmt(p->text->s, p->text->len, &p->next, &off, &len)) {
			pgsql_ev_init(&e, PGSQL_E_QUERY, s);
			e.p = p;
			e.a = any ? NULL : a;
			pgsql_emit(c, &e, p->text, off, len, 0,
				   any && a ? pgsql_n_unm_rq : note, NULL);
			any = 1;
		}
		if (!any && a) {
			pgsql_ev_init(&e, PGSQL_E_QUERY, s);
			e.p = p;
			e.a = a;
			pgsql_emit(c, &e, p->text, 0, p->text ? p->text->len : 0, 0, note, NULL);
		}
		return;
	}
	if (p->kind == PGSQL_P_EXEC || (p->kind == PGSQL_P_FUNC && !p->done)) {
		size_t off = 0, len = 0;

		pgsql_ev_init(&e, p->kind == PGSQL_P_FUNC ? PGSQL_E_FUNC : PGSQL_E_QUERY, s);
		e.p = p;
		e.a = a;
		if (p->text)
			pgsql_trim(p->text->s, p->text->len, &off, &len);
		pgsql_emit(c, &e, p->text, off, len, 0, note,
			   p->kind == PGSQL_P_FUNC ? "FUNCTIONCALL" : NULL);
	}
}

/* ------------------------------------------------------------ queue */

static void pgsql_pend_release(struct pgsql_pend *p)
{
	pgsql_text_unref(&p->text);
}

/* A new entry at the tail (zeroed); a full queue first writes out its
 * oldest unanswered. */
static struct pgsql_pend *pgsql_push(struct pb_txn_conn *c, struct pgsql_state *s)
{
	struct pgsql_pend *p;

	if (s->q.size == 0)
		pb_txn_queue_init(&s->q, sizeof(struct pgsql_pend), PGSQL_MAX_PENDING);
	p = pb_txn_queue_push(&s->q);
	if (!p && pb_txn_queue_full(&s->q)) {
		struct pgsql_pend old;

		if (pb_txn_queue_pop(&s->q, &old) == 0) {
			old.flood = 1;
			pgsql_emit_alone(c, s, &old, NULL, NULL);
			pgsql_pend_release(&old);
		}
		p = pb_txn_queue_push(&s->q);
	}
	if (p)
		p->seq = ++s->seq;
	return p;
}

static struct pgsql_pend *pgsql_head(struct pgsql_state *s)
{
	return pb_txn_queue_peek(&s->q, 0);
}

static struct pgsql_pend *pgsql_tail(struct pgsql_state *s)
{
	unsigned n = pb_txn_queue_len(&s->q);

	return n ? pb_txn_queue_peek(&s->q, n - 1) : NULL;
}

/* ------------------------------------------------------- one message */

/* A message as the handlers see it. */
struct pgsql_msg {
	uint8_t type;
	uint8_t cut;                 /* only the first bytes are here */
	const uint8_t *body;         /* after the length */
	size_t len;                  /* body bytes here */
	uint64_t size;               /* type byte, length and body, declared */
	int64_t start_ns, end_ns;
	uint64_t first_pkt, last_pkt;
};

/* the request side of a message: times and bytes */
static void pgsql_span_set(const struct pgsql_msg *m, int64_t *sns, uint64_t *spkt,
			   int64_t *ens, uint64_t *epkt, uint64_t *bytes)
{
	*sns = m->start_ns;
	*spkt = m->first_pkt;
	*ens = m->end_ns;
	*epkt = m->last_pkt;
	*bytes = m->size;
}

static void pgsql_batch_add(struct pgsql_state *s, const struct pgsql_msg *m)
{
	struct pgsql_batch *b = &s->batch;

	if (!b->have) {
		b->have = 1;
		b->start_ns = m->start_ns;
		b->first_pkt = m->first_pkt;
		b->bytes = 0;
	}
	b->end_ns = m->end_ns;
	b->last_pkt = m->last_pkt;
	b->bytes += m->size;
}

static void pgsql_batch_reset(struct pgsql_state *s)
{
	pgsql_text_unref(&s->batch.parse);
	memset(&s->batch, 0, sizeof(s->batch));
}

/* The last Execute, when it is still the newest entry and nothing of a
 * new batch came after it: Sync and Flush bytes go to it. */
static struct pgsql_pend *pgsql_last_exec(struct pgsql_state *s)
{
	struct pgsql_pend *t = pgsql_tail(s);

	return t && s->last_exec && t->seq == s->last_exec && !s->batch.have ? t : NULL;
}

static void pgsql_pend_extend(struct pgsql_pend *p, const struct pgsql_msg *m)
{
	p->end_ns = m->end_ns;
	p->last_pkt = m->last_pkt;
	p->bytes += m->size;
}

/* A NUL-terminated string of the body: a text to keep. */
static struct pgsql_text *pgsql_cstr_text(struct pb_cur *cur, int msg_cut)
{
	size_t left = pb_cur_left(cur);
	const uint8_t *p = cur->pos, *nul = pb_cur_ok(cur) ? memchr(p, 0, left) : NULL;
	size_t n = nul ? (size_t)(nul - p) : left;

	pb_cur_skip(cur, nul ? n + 1 : n);
	/* no NUL: the message was cut (or is bad); what is there is kept */
	return pgsql_text_new(p, n, msg_cut || !nul);
}

/* A start-up parameter value into out (cut to its size). */
static void pgsql_param(char *out, const uint8_t *v, size_t n)
{
	if (n >= PGSQL_PARAM_LEN)
		n = PGSQL_PARAM_LEN - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

/* StartupMessage: version, then name\0value\0 pairs and a final \0. */
static void pgsql_startup(struct pb_txn_conn *c, struct pgsql_state *s, const uint8_t *p,
			  size_t n, const struct pgsql_msg *m)
{
	struct pb_cur cur;
	struct pgsql_pend *e;

	pb_cur_init(&cur, p, n);
	pb_cur_skip(&cur, 8);            /* length, version */
	while (pb_cur_left(&cur) > 0) {
		const uint8_t *k = cur.pos, *kn, *v, *vn;

		if (*k == 0)
			break;           /* the terminator */
		kn = memchr(k, 0, pb_cur_left(&cur));
		if (!kn)
			break;
		pb_cur_skip(&cur, (size_t)(kn - k) + 1);
		v = cur.pos;
		vn = pb_cur_left(&cur) ? memchr(v, 0, pb_cur_left(&cur)) : NULL;
		if (!vn)
			break;
		pb_cur_skip(&cur, (size_t)(vn - v) + 1);
		if (strcmp((const char *)k, "user") == 0) {
			pgsql_param(s->user, v, (size_t)(vn - v));
			s->have_user = 1;
		} else if (strcmp((const char *)k, "database") == 0) {
			pgsql_param(s->db, v, (size_t)(vn - v));
			s->have_db = 1;
		} else if (strcmp((const char *)k, "application_name") == 0) {
			pgsql_param(s->app, v, (size_t)(vn - v));
			s->have_app = 1;
		}
	}
	/* the database defaults to the user's name (55.7) */
	if (s->have_user && !s->have_db) {
		memcpy(s->db, s->user, sizeof(s->db));
		s->have_db = 1;
	}
	e = pgsql_push(c, s);
	if (e) {
		e->kind = PGSQL_P_STARTUP;
		pgsql_span_set(m, &e->start_ns, &e->first_pkt, &e->end_ns, &e->last_pkt, &e->bytes);
	}
}

/* The event of a conversation that turns unreadable: the encryption
 * request (8 bytes) and its one-byte answer rs, or (rs NULL) the first
 * bytes of a TLS handshake. */
static void pgsql_emit_enc(struct pb_txn_conn *c, struct pgsql_state *s, int64_t rq_ns,
			   uint64_t rq_pkt, uint64_t rq_bytes, const struct pgsql_msg *rs,
			   const char *note, const char *method)
{
	struct pgsql_ev e;
	struct pgsql_pend p;
	struct pgsql_acc a;

	memset(&p, 0, sizeof(p));
	memset(&a, 0, sizeof(a));
	pgsql_ev_init(&e, PGSQL_E_ENC, s);
	p.start_ns = p.end_ns = rq_ns;
	p.first_pkt = p.last_pkt = rq_pkt;
	p.bytes = rq_bytes;
	e.p = &p;
	if (rs) {
		a.started = 1;
		a.start_ns = a.end_ns = rs->start_ns;
		a.first_pkt = a.last_pkt = rs->first_pkt;
		a.bytes = 1;
		e.a = &a;
	}
	pgsql_emit(c, &e, NULL, 0, 0, 0, note, method);
	s->encrypted = 1;
}

/* The client's first message (or one after a declined request). */
static size_t pgsql_untyped(struct pb_txn_conn *c, struct pgsql_state *s, int dir,
			    const uint8_t *p, size_t n, size_t base, int *more)
{
	uint32_t len, code;
	struct pgsql_msg m;

	/* TLS straight away (PostgreSQL 17's sslnegotiation=direct): a
	 * handshake record */
	if (n >= 1 && p[0] == 0x16) {
		if (n < 2) {
			*more = 1;
			return 0;
		}
		if (p[1] == 0x03) {
			int64_t ns;
			uint64_t pkt;

			pb_txn_byte_time(c, dir, base, &ns, &pkt);
			pgsql_emit_enc(c, s, ns, pkt, 0, NULL, pgsql_n_tls, "SSL");
			return n;
		}
	}
	/* an untyped length is at most 10000: its first byte is 0, which no
	 * message type is */
	if (n >= 1 && p[0] != 0) {
		s->d[dir & 1].state = PGSQL_D_TYPED;
		return 0;
	}
	if (n < 8) {
		*more = 1;
		return 0;
	}
	len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	code = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	if (len < 8 || len > PGSQL_MAX_STARTUP ||
	    !((code == PGSQL_CODE_SSL && len == 8) || (code == PGSQL_CODE_GSSENC && len == 8) ||
	      (code == PGSQL_CODE_CANCEL && len == 16) || (code >> 16) == 3 ||
	      code == PGSQL_CODE_V2)) {
		/* not a start-up message: read typed messages from here */
		pgsql_error(c);
		s->d[dir & 1].state = PGSQL_D_RESYNC;
		return 0;
	}
	if (len > n) {
		*more = 1;
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.size = len;
	pb_txn_byte_time(c, dir, base, &m.start_ns, &m.first_pkt);
	pb_txn_byte_time(c, dir, base + len - 1, &m.end_ns, &m.last_pkt);
	if (code == PGSQL_CODE_SSL || code == PGSQL_CODE_GSSENC) {
		/* the answer is one byte; the client waits for it */
		s->expect = code == PGSQL_CODE_SSL ? 'S' : 'G';
		s->enc_ns = m.start_ns;
		s->enc_pkt = m.first_pkt;
		return len;
	}
	if (code == PGSQL_CODE_CANCEL) {
		struct pgsql_ev e;
		struct pgsql_pend rq;

		/* on a connection of its own: process id, secret key */
		memset(&rq, 0, sizeof(rq));
		pgsql_span_set(&m, &rq.start_ns, &rq.first_pkt, &rq.end_ns, &rq.last_pkt, &rq.bytes);
		pgsql_ev_init(&e, PGSQL_E_CANCEL, s);
		e.p = &rq;
		e.pid = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
		pgsql_emit(c, &e, NULL, 0, 0, 0, NULL, "CANCEL");
		s->d[dir & 1].state = PGSQL_D_OFF;
		return len;
	}
	if (code == PGSQL_CODE_V2) {
		/* protocol 2.0 (before PostgreSQL 7.4): not read */
		s->d[0].state = s->d[1].state = PGSQL_D_OFF;
		return n;
	}
	pgsql_startup(c, s, p, len, &m);
	s->d[dir & 1].state = PGSQL_D_TYPED;
	return len;
}

/* ---- client messages ---- */

static void pgsql_client_msg(struct pb_txn_conn *c, struct pgsql_state *s, const struct pgsql_msg *m)
{
	struct pb_cur cur;
	struct pgsql_pend *e;
	char name[PGSQL_NAME_LEN], name2[PGSQL_NAME_LEN];

	pb_cur_init(&cur, m->body, m->len);
	switch (m->type) {
	case 'Q': {
		/* Query: one string, any number of statements */
		struct pgsql_text *t = pgsql_cstr_text(&cur, m->cut);

		pgsql_batch_reset(s);
		s->last_exec = 0;
		e = pgsql_push(c, s);
		if (!e) {
			pgsql_text_unref(&t);
			return;
		}
		e->kind = PGSQL_P_QUERY;
		e->text = t;
		pgsql_span_set(m, &e->start_ns, &e->first_pkt, &e->end_ns, &e->last_pkt, &e->bytes);
		return;
	}
	case 'P': {
		/* Parse: statement name, query, parameter types */
		struct pgsql_text *t;

		pgsql_batch_add(s, m);
		if (!pgsql_name(&cur, name))
			return;
		t = pgsql_cstr_text(&cur, m->cut);
		if (!t)
			return;
		pgsql_define(s, 0, name, t);
		pgsql_text_unref(&s->batch.parse);
		s->batch.parse = pgsql_text_ref(t);
		return;
	}
	case 'B':
		/* Bind: portal name, statement name, parameters */
		pgsql_batch_add(s, m);
		if (pgsql_name(&cur, name) && pgsql_name(&cur, name2))
			pgsql_define(s, 1, name, pgsql_lookup(s, 0, name2));
		return;
	case 'C':
		/* Close: 'S' statement or 'P' portal, and its name */
		pgsql_batch_add(s, m);
		{
			uint8_t what = pb_cur_u8(&cur);

			if (pgsql_name(&cur, name) && (what == 'S' || what == 'P'))
				pgsql_forget(s, what == 'P', name);
		}
		return;
	case 'D':
		pgsql_batch_add(s, m);
		return;
	case 'E': {
		/* Execute: a portal (and a row limit): the statement bound to
		 * it is what runs */
		struct pgsql_text *t = NULL;
		int known = 0;

		if (pgsql_name(&cur, name)) {
			t = pgsql_lookup(s, 1, name);
			known = t != NULL;
		}
		e = pgsql_push(c, s);
		if (!e) {
			pgsql_text_unref(&t);
			return;
		}
		e->kind = PGSQL_P_EXEC;
		e->text = t;
		e->nostmt = !known;
		pgsql_span_set(m, &e->start_ns, &e->first_pkt, &e->end_ns, &e->last_pkt, &e->bytes);
		if (s->batch.have) {
			/* the Parse, Bind, Describe before it are its request */
			e->start_ns = s->batch.start_ns;
			e->first_pkt = s->batch.first_pkt;
			e->bytes += s->batch.bytes;
			s->batch.have = 0;
			s->batch.bytes = 0;
		}
		s->last_exec = e->seq;
		return;
	}
	case 'H':
		/* Flush: no answer of its own */
		if ((e = pgsql_last_exec(s)) != NULL)
			pgsql_pend_extend(e, m);
		else
			pgsql_batch_add(s, m);
		return;
	case 'S':
		/* Sync: the end of a batch; ReadyForQuery answers it */
		if ((e = pgsql_last_exec(s)) != NULL)
			pgsql_pend_extend(e, m);
		else
			pgsql_batch_add(s, m);
		e = pgsql_push(c, s);
		if (e) {
			e->kind = PGSQL_P_SYNC;
			e->text = pgsql_text_ref(s->batch.parse);
			if (s->batch.have) {
				e->start_ns = s->batch.start_ns;
				e->first_pkt = s->batch.first_pkt;
				e->end_ns = s->batch.end_ns;
				e->last_pkt = s->batch.last_pkt;
				e->bytes = s->batch.bytes;
			} else {
				pgsql_span_set(m, &e->start_ns, &e->first_pkt, &e->end_ns,
					       &e->last_pkt, &e->bytes);
				e->bytes = 0;
			}
		}
		pgsql_batch_reset(s);
		s->last_exec = 0;
		return;
	case 'F':
		/* FunctionCall: the function's OID, arguments */
		e = pgsql_push(c, s);
		if (e) {
			e->kind = PGSQL_P_FUNC;
			e->fn_oid = pb_cur_be32(&cur);
			pgsql_span_set(m, &e->start_ns, &e->first_pkt, &e->end_ns, &e->last_pkt,
				       &e->bytes);
		}
		return;
	case 'd':
	case 'c':
	case 'f':
		/* COPY data, done, fail: part of the COPY's request */
		s->rq_extra += m->size;
		return;
	case 'p': {
		/* a password, SASL or GSS message: part of the start-up */
		struct pgsql_pend *h = pgsql_head(s);

		if (h && h->kind == PGSQL_P_STARTUP)
			pgsql_pend_extend(h, m);
		/* SASLInitialResponse names the mechanism chosen */
		if (s->sasl && pgsql_name(&cur, name)) {
			size_t k = strlen(name);

			if (k >= sizeof(s->auth))
				k = sizeof(s->auth) - 1;
			memcpy(s->auth, name, k);
			s->auth[k] = '\0';
		}
		s->sasl = 0;
		return;
	}
	default:
		return;              /* 'X' Terminate */
	}
}

/* ---- server messages ---- */

/* The answer grows by m. */
static void pgsql_acc_add(struct pgsql_acc *a, const struct pgsql_msg *m)
{
	if (!a->started) {
		a->started = 1;
		a->start_ns = m->start_ns;
		a->first_pkt = m->first_pkt;
	}
	a->end_ns = m->end_ns;
	a->last_pkt = m->last_pkt;
	a->bytes += m->size;
}

/* The first rune of s is a white space as Go's unicode.IsSpace has it
 * (the CSV writer quotes such a field). */
static int pgsql_lead_space(const uint8_t *s, size_t n)
{
	uint32_t r;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r');
	if ((s[0] & 0xe0) == 0xc0 && n >= 2 && (s[1] & 0xc0) == 0x80)
		r = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	else if ((s[0] & 0xf0) == 0xe0 && n >= 3 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80)
		r = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	else
		return 0;
	return r == 0x85 || r == 0xa0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200a) ||
	       r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000;
}

/* One CSV field, as Packetbeat writes its response (Go's encoding/csv
 * after "\n" -> "\\n", and in rows "\r" -> "\\r"). */
static void pgsql_csv_field(struct pgsql_acc *a, const uint8_t *v, size_t n, int row, int first)
{
	struct pb_buf *sc = &a->scratch, *b = &a->csv;
	size_t i;
	int quote = 0;

	pb_buf_clear(sc);
	for (i = 0; i < n; i++) {
		if (v[i] == '\n')
			pb_buf_add(sc, "\\n", 2);
		else if (row && v[i] == '\r')
			pb_buf_add(sc, "\\r", 2);
		else
			pb_buf_addc(sc, (char)v[i]);
	}
	if (!first && pb_buf_addc(b, ',') < 0)
		a->csv_cut = 1;
	if (sc->len == 0)
		return;
	if (sc->len == 2 && memcmp(sc->data, "\\.", 2) == 0)
		quote = 1;
	for (i = 0; i < sc->len && !quote; i++)
		if (sc->data[i] == ',' || sc->data[i] == '"' || sc->data[i] == '\r' ||
		    sc->data[i] == '\n')
			quote = 1;
	if (!quote)
		quote = pgsql_lead_space((const uint8_t *)sc->data, sc->len);
	if (!quote) {
		if (pb_buf_add(b, sc->data, sc->len) < 0)
			a->csv_cut = 1;
		return;
	}
	pb_buf_addc(b, '"');
	for (i = 0; i < sc->len; i++) {
		if (sc->data[i] == '"')
			pb_buf_addc(b, '"');
		if (pb_buf_addc(b, sc->data[i]) < 0)
			a->csv_cut = 1;
	}
	if (pb_buf_addc(b, '"') < 0)
		a->csv_cut = 1;
}

static void pgsql_csv_end(struct pgsql_acc *a)
{
	if (pb_buf_addc(&a->csv, '\n') < 0)
		a->csv_cut = 1;
}

static int pgsql_want_csv(const struct pb_txn_conn *c)
{
	return c->common && c->common->send_response;
}

/* RowDescription: a count, then per field a name and 18 bytes (table
 * OID, column, type OID, type length, type modifier, format code). */
static void pgsql_row_desc(struct pb_txn_conn *c, struct pgsql_acc *a, struct pb_cur *cur)
{
	unsigned cnt = pb_cur_be16(cur), i, nf = 0;
	int csv = pgsql_want_csv(c);

	memset(a->fmt, 0, sizeof(a->fmt));
	if (csv) {
		pb_buf_clear(&a->csv);
		a->csv_rows = 0;
	}
	/* at most as many fields as bytes allow (19 bytes each at least) */
	for (i = 0; i < cnt && pb_cur_ok(cur) && pb_cur_left(cur) >= 19; i++) {
		const uint8_t *nm = cur->pos, *nul = memchr(nm, 0, pb_cur_left(cur));
		uint16_t fmt;

		if (!nul)
			break;
		pb_cur_skip(cur, (size_t)(nul - nm) + 1);
		pb_cur_skip(cur, 16);
		fmt = pb_cur_be16(cur);
		if (!pb_cur_ok(cur))
			break;
		if (i < PGSQL_MAX_FIELDS && fmt != 0)
			a->fmt[i / 8] |= (uint8_t)(1u << (i % 8));
		if (csv)
			pgsql_csv_field(a, nm, (size_t)(nul - nm), 0, nf == 0);
		nf++;
	}
	if (csv && nf)
		pgsql_csv_end(a);
	a->num_fields = nf;
}

/* DataRow: a count, then per column a length (-1: NULL) and the value. */
static void pgsql_data_row(struct pb_txn_conn *c, struct pgsql_acc *a, struct pb_cur *cur)
{
	const struct pgsql_conf *cf = pgsql_cf(c);
	unsigned cnt, i;
	uint64_t rowlen = 0, max = (uint64_t)cf->max_row_length;

	a->num_rows++;
	if (!pgsql_want_csv(c) || a->csv_rows >= (uint64_t)cf->max_rows)
		return;
	a->csv_rows++;
	cnt = pb_cur_be16(cur);
	for (i = 0; i < cnt && pb_cur_ok(cur) && pb_cur_left(cur) >= 4; i++) {
		int32_t vl = (int32_t)pb_cur_be32(cur);
		const uint8_t *v = cur->pos;
		size_t n = 0;

		if (vl > 0) {
			/* a value cut by the message's end (a long row read
			 * from its start) is kept as far as it goes */
			n = (size_t)vl <= pb_cur_left(cur) ? (size_t)vl : pb_cur_left(cur);
			pb_cur_skip(cur, n);
		}
		/* binary values are written empty, as Packetbeat does */
		if (i < PGSQL_MAX_FIELDS && (a->fmt[i / 8] >> (i % 8) & 1))
			n = 0;
		/* past max_row_length the row has no more columns */
		if (rowlen < max) {
			if (rowlen + n > max)
				n = (size_t)(max - rowlen);
			pgsql_csv_field(a, v, n, 1, i == 0);
			rowlen += n;
		}
	}
	pgsql_csv_end(a);
}

/* ErrorResponse, NoticeResponse: (code byte, string) fields, a 0 byte. */
struct pgsql_fields {
	const uint8_t *f[256];
	size_t n[256];
};

static void pgsql_fields(struct pb_cur *cur, struct pgsql_fields *out)
{
	memset(out, 0, sizeof(*out));
	while (pb_cur_ok(cur) && pb_cur_left(cur) > 0) {
		uint8_t k = pb_cur_u8(cur);
		const uint8_t *v, *nul;

		if (k == 0)
			break;
		v = cur->pos;
		nul = memchr(v, 0, pb_cur_left(cur));
		if (!nul) {
			/* cut: the value so far (a long message's start) */
			out->f[k] = v;
			out->n[k] = pb_cur_left(cur);
			break;
		}
		out->f[k] = v;
		out->n[k] = (size_t)(nul - v);
		pb_cur_skip(cur, out->n[k] + 1);
	}
}

static void pgsql_copy_field(char *dst, size_t cap, const struct pgsql_fields *f, uint8_t k)
{
	size_t n = f->n[k];

	if (!f->f[k]) {
		dst[0] = '\0';
		return;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, f->f[k], n);
	dst[n] = '\0';
	/* a NUL inside is not possible (fields end at one) */
}

/* Any other text of a response (COPY data lines). */
static void pgsql_copy_line(struct pb_txn_conn *c, struct pgsql_acc *a, const uint8_t *p, size_t n)
{
	const struct pgsql_conf *cf = pgsql_cf(c);

	a->copy_rows++;
	if (!pgsql_want_csv(c) || a->csv_rows >= (uint64_t)cf->max_rows)
		return;
	a->csv_rows++;
	if (n && p[n - 1] == '\n')
		n--;
	if ((uint64_t)n > (uint64_t)cf->max_row_length)
		n = (size_t)cf->max_row_length;
	if (n && pb_buf_add(&a->csv, p, n) < 0)
		a->csv_cut = 1;
	pgsql_csv_end(a);
}

/* A completion (CommandComplete, EmptyQueryResponse, PortalSuspended,
 * ErrorResponse, FunctionCallResponse) answers the oldest entry. */
static void pgsql_complete(struct pb_txn_conn *c, struct pgsql_state *s, uint8_t type)
{
	struct pgsql_pend *h = pgsql_head(s), p;
	struct pgsql_acc *a = &s->acc;
	struct pgsql_ev e;
	uint64_t extra = s->rq_extra;

	s->rq_extra = 0;
	if (type == 'E')
		s->failed = 1;
	if (!h || (h->kind == PGSQL_P_SYNC && (type != 'E' || h->done)) ||
	    (h->kind == PGSQL_P_FUNC && h->done) ||
	    (h->kind == PGSQL_P_STARTUP && type != 'E')) {
		/* nothing asked this (a request not captured, or a fatal
		 * error sent on its own) */
		pgsql_ev_init(&e, PGSQL_E_QUERY, s);
		e.a = a;
		pgsql_emit(c, &e, NULL, 0, 0, 0, pgsql_n_unm_rs, NULL);
		pgsql_acc_reset(a);
		return;
	}
	switch (h->kind) {
	case PGSQL_P_EXEC: {
		size_t off = 0, len = 0;

		pb_txn_queue_pop(&s->q, &p);
		pgsql_ev_init(&e, PGSQL_E_QUERY, s);
		e.p = &p;
		e.a = a;
		if (p.text)
			pgsql_trim(p.text->s, p.text->len, &off, &len);
		pgsql_emit(c, &e, p.text, off, len, extra, NULL, NULL);
		pgsql_pend_release(&p);
		break;
	}
	case PGSQL_P_QUERY: {
		size_t off = 0, len = 0;

		pgsql_ev_init(&e, PGSQL_E_QUERY, s);
		e.p = h;
		e.a = a;
		if (!h->text || !pgsql_next_stmt(h->text->s, h->text->len, &h->next, &off, &len)) {
			/* more answers than statements were found: the
			 * whole query string */
			off = 0;
			len = h->text ? h->text->len : 0;
			if (h->text)
				pgsql_trim(h->text->s, h->text->len, &off, &len);
		}
		pgsql_emit(c, &e, h->text, off, len, extra, NULL, NULL);
		break;
	}
	case PGSQL_P_FUNC:
		pgsql_ev_init(&e, PGSQL_E_FUNC, s);
		e.p = h;
		e.a = a;
		pgsql_emit(c, &e, NULL, 0, 0, extra, NULL, "FUNCTIONCALL");
		h->done = 1;
		break;
	case PGSQL_P_SYNC: {
		size_t off = 0, len = 0;

		/* an error of a batch without Execute (a Parse that failed):
		 * the batch is the request, its Parse the query */
		pgsql_ev_init(&e, PGSQL_E_QUERY, s);
		e.p = h;
		e.a = a;
		if (h->text)
			pgsql_trim(h->text->s, h->text->len, &off, &len);
		pgsql_emit(c, &e, h->text, off, len, extra, NULL, NULL);
		h->done = 1;
		break;
	}
	case PGSQL_P_STARTUP:
		/* the login failed: the server closes after it */
		pb_txn_queue_pop(&s->q, &p);
		pgsql_ev_init(&e, PGSQL_E_LOGIN, s);
		e.p = &p;
		e.a = a;
		pgsql_emit(c, &e, NULL, 0, 0, extra, NULL, "LOGIN");
		pgsql_pend_release(&p);
		break;
	default:
		break;
	}
	pgsql_acc_reset(a);
}

/* ReadyForQuery: everything up to the Sync, Query, FunctionCall or
 * start-up it answers is over; what the server skipped after an error
 * is written alone. */
static void pgsql_ready(struct pb_txn_conn *c, struct pgsql_state *s)
{
	unsigned i, n = pb_txn_queue_len(&s->q);
	int found = 0;

	pgsql_acc_reset(&s->acc);
	for (i = 0; i < n && !found; i++) {
		const struct pgsql_pend *p = pb_txn_queue_peek(&s->q, i);

		found = p->kind != PGSQL_P_EXEC;
	}
	while (found) {
		struct pgsql_pend p;
		int last;

		if (pb_txn_queue_pop(&s->q, &p) < 0)
			break;
		last = p.kind != PGSQL_P_EXEC;
		if (p.kind == PGSQL_P_EXEC || p.kind == PGSQL_P_QUERY)
			pgsql_emit_alone(c, s, &p, NULL, s->failed ? pgsql_n_skipped : pgsql_n_unm_rq);
		pgsql_pend_release(&p);
		if (last)
			break;
	}
	s->failed = 0;
	s->rq_lost = 0;
	s->rq_extra = 0;
	s->sasl = 0;
}

/* NotificationResponse: process id, channel, payload: an event alone. */
static void pgsql_notification(struct pb_txn_conn *c, struct pgsql_state *s,
			       const struct pgsql_msg *m, struct pb_cur *cur)
{
	struct pgsql_ev e;
	struct pgsql_acc a;
	const uint8_t *ch, *pl, *nul;

	pgsql_ev_init(&e, PGSQL_E_NOTIFY, s);
	e.pid = pb_cur_be32(cur);
	ch = cur->pos;
	nul = pb_cur_ok(cur) ? memchr(ch, 0, pb_cur_left(cur)) : NULL;
	e.chan = ch;
	e.chan_len = nul ? (size_t)(nul - ch) : pb_cur_left(cur);
	pb_cur_skip(cur, nul ? e.chan_len + 1 : e.chan_len);
	pl = cur->pos;
	nul = pb_cur_ok(cur) ? memchr(pl, 0, pb_cur_left(cur)) : NULL;
	e.payload = pl;
	e.payload_len = nul ? (size_t)(nul - pl) : pb_cur_left(cur);
	/* the message alone is the event's response (no fields of a result) */
	memset(&a, 0, sizeof(a));
	a.started = 1;
	a.start_ns = m->start_ns;
	a.first_pkt = m->first_pkt;
	a.end_ns = m->end_ns;
	a.last_pkt = m->last_pkt;
	a.bytes = m->size;
	e.a = &a;
	pgsql_emit(c, &e, NULL, 0, 0, 0, NULL, "NOTIFICATION");
}

static void pgsql_server_msg(struct pb_txn_conn *c, struct pgsql_state *s, const struct pgsql_msg *m)
{
	struct pgsql_acc *a = &s->acc;
	struct pgsql_pend *h = pgsql_head(s);
	struct pb_cur cur;

	pb_cur_init(&cur, m->body, m->len);
	switch (m->type) {
	case 'R': {
		/* Authentication*: only the start-up's */
		uint32_t code = pb_cur_be32(&cur);
		static const char *const names[] = {
			[2] = "kerberos5", [3] = "password", [5] = "md5", [6] = "scm",
			[7] = "gss", [9] = "sspi", [10] = "sasl",
		};

		if (!h || h->kind != PGSQL_P_STARTUP)
			return;
		pgsql_acc_add(a, m);
		if (code < sizeof(names) / sizeof(names[0]) && names[code]) {
			size_t k = strlen(names[code]);

			memcpy(s->auth, names[code], k + 1);
		}
		s->sasl = code == 10;
		return;
	}
	case 'K':
	case 'S':
	case 'v':
	case '1':
	case '2':
	case '3':
	case 't':
	case 'n':
		/* BackendKeyData, ParameterStatus, NegotiateProtocolVersion;
		 * the acknowledgements of Parse, Bind, Close, Describe: not
		 * part of a result (Packetbeat does not count them either) */
		return;
	case 'T':
		pgsql_acc_add(a, m);
		pgsql_row_desc(c, a, &cur);
		return;
	case 'D':
		pgsql_acc_add(a, m);
		pgsql_data_row(c, a, &cur);
		return;
	case 'C': {
		const uint8_t *p = cur.pos, *nul = memchr(p, 0, pb_cur_left(&cur));
		size_t n = nul ? (size_t)(nul - p) : pb_cur_left(&cur);

		pgsql_acc_add(a, m);
		if (n >= sizeof(a->tag))
			n = sizeof(a->tag) - 1;
		memcpy(a->tag, p, n);
		a->tag[n] = '\0';
		a->has_tag = 1;
		pgsql_complete(c, s, 'C');
		return;
	}
	case 'I':
		pgsql_acc_add(a, m);
		a->empty = 1;
		pgsql_complete(c, s, 'I');
		return;
	case 's':
		pgsql_acc_add(a, m);
		a->suspended = 1;
		pgsql_complete(c, s, 's');
		return;
	case 'V':
		pgsql_acc_add(a, m);
		pgsql_complete(c, s, 'V');
		return;
	case 'E': {
		struct pgsql_fields f;

		pgsql_acc_add(a, m);
		pgsql_fields(&cur, &f);
		a->error = 1;
		pgsql_copy_field(a->err_code, sizeof(a->err_code), &f, 'C');
		pgsql_copy_field(a->err_sev, sizeof(a->err_sev), &f, 'S');
		pgsql_copy_field(a->err_vsev, sizeof(a->err_vsev), &f, 'V');
		pb_buf_clear(&a->err_msg);
		if (f.f['M'] && f.n['M'])
			pb_buf_add(&a->err_msg, f.f['M'],
				   f.n['M'] < PGSQL_MAX_ERRMSG - 1 ? f.n['M'] : PGSQL_MAX_ERRMSG - 1);
		pgsql_complete(c, s, 'E');
		return;
	}
	case 'N': {
		/* NoticeResponse: kept with the statement it came with */
		struct pgsql_fields f;
		struct pgsql_notice *nt;

		if (!h || h->kind == PGSQL_P_STARTUP)
			return;
		pgsql_acc_add(a, m);
		if (a->n_notices >= PGSQL_MAX_NOTICES)
			return;
		pgsql_fields(&cur, &f);
		nt = &a->notices[a->n_notices++];
		pgsql_copy_field(nt->sev, sizeof(nt->sev), &f, f.f['S'] ? 'S' : 'V');
		pgsql_copy_field(nt->code, sizeof(nt->code), &f, 'C');
		pgsql_copy_field(nt->msg, sizeof(nt->msg), &f, 'M');
		return;
	}
	case 'A':
		pgsql_notification(c, s, m, &cur);
		return;
	case 'G':
	case 'H':
	case 'W':
		/* CopyIn, CopyOut, CopyBoth response */
		pgsql_acc_add(a, m);
		a->copy = m->type;
		return;
	case 'd':
		pgsql_acc_add(a, m);
		pgsql_copy_line(c, a, m->body, m->len);
		return;
	case 'c':
		pgsql_acc_add(a, m);
		return;
	case 'Z':
		pgsql_ready(c, s);
		return;
	default:
		return;
	}
}

/* ------------------------------------------------------------ framing */

/* Whether type and length can start a message of this direction: the
 * type is one of its own and the length fits the type (55.7). */
static int pgsql_valid(int server, uint8_t type, uint32_t len)
{
	if (len < 4 || len > 0x7fffffffu)
		return 0;
	if (!server) {
		switch (type) {
		case 'S': case 'H': case 'X': case 'c':
			return len == 4;
		case 'Q': case 'f':
			return len >= 5;
		case 'P':
			return len >= 8;
		case 'B':
			return len >= 12;
		case 'D': case 'C':
			return len >= 6;
		case 'E':
			return len >= 9;
		case 'F':
			return len >= 14;
		case 'd': case 'p':
			return 1;
		default:
			return 0;
		}
	}
	switch (type) {
	case 'Z':
		return len == 5;
	case '1': case '2': case '3': case 'I': case 's': case 'n': case 'c':
		return len == 4;
	case 'K':
		return len >= 12 && len <= 264;
	case 'R': case 'V':
		return len >= 8;
	case 'S': case 'T': case 'D': case 't':
		return len >= 6;
	case 'C': case 'E': case 'N':
		return len >= 5;
	case 'A':
		return len >= 10;
	case 'G': case 'H': case 'W':
		return len >= 7;
	case 'v':
		return len >= 12;
	case 'd':
		return 1;
	default:
		return 0;
	}
}

static uint32_t pgsql_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* How much of a long message is read: PGSQL_MAX_MSG, or less when the
 * engine buffers less (max_message_size). */
static size_t pgsql_prefix(const struct pb_txn_conn *c)
{
	size_t k = PGSQL_MAX_MSG;

	if (c->common && c->common->max_message_size && c->common->max_message_size < k)
		k = (size_t)c->common->max_message_size;
	return k < PGSQL_MIN_PREFIX ? PGSQL_MIN_PREFIX : k;
}

static void pgsql_dispatch(struct pb_txn_conn *c, struct pgsql_state *s, int dir,
			   const struct pgsql_msg *m)
{
	if (pgsql_is_server(s, dir))
		pgsql_server_msg(c, s, m);
	else
		pgsql_client_msg(c, s, m);
}

/* A typed message at p[0..n). */
static size_t pgsql_typed(struct pb_txn_conn *c, struct pgsql_state *s, int dir,
			  const uint8_t *p, size_t n, size_t base, int *more)
{
	struct pgsql_dir *d = &s->d[dir & 1];
	int server = pgsql_is_server(s, dir);
	struct pgsql_msg m;
	uint32_t len;
	uint64_t total;
	size_t keep = pgsql_prefix(c), have;

	/* the one-byte answer to an encryption request */
	if (server && s->expect && n >= 1) {
		uint8_t b = p[0];

		if (b == 'N') {
			/* declined: the client goes on in clear, untyped */
			s->expect = 0;
			s->d[s->client].state = PGSQL_D_UNTYPED;
			return 1;
		}
		if (b == s->expect) {
			memset(&m, 0, sizeof(m));
			pb_txn_byte_time(c, dir, base, &m.start_ns, &m.first_pkt);
			pgsql_emit_enc(c, s, s->enc_ns, s->enc_pkt, 8, &m,
				       b == 'S' ? pgsql_n_ssl : pgsql_n_gss,
				       b == 'S' ? "SSL" : "GSSENC");
			return n;
		}
		s->expect = 0;           /* an old server's error, or else */
	}
	if (n < 5) {
		*more = 1;
		return 0;
	}
	len = pgsql_be32(p + 1);
	if (!pgsql_valid(server, p[0], len)) {
		pgsql_error(c);
		d->state = PGSQL_D_RESYNC;
		return 0;
	}
	total = (uint64_t)len + 1;
	if (total > n && total <= keep) {
		*more = 1;
		return 0;
	}
	if (total > n && n < keep) {
		*more = 1;
		return 0;
	}
	have = total <= n ? (size_t)total : keep;
	memset(&m, 0, sizeof(m));
	m.type = p[0];
	m.cut = have < total;
	m.body = p + 5;
	m.len = have - 5;
	m.size = total;
	pb_txn_byte_time(c, dir, base, &m.start_ns, &m.first_pkt);
	pb_txn_byte_time(c, dir, base + have - 1, &m.end_ns, &m.last_pkt);
	if (m.cut) {
		d->state = PGSQL_D_SKIP;
		d->skip = total - have;
	}
	pgsql_dispatch(c, s, dir, &m);
	return have;
}

/* The rest of a long message: consumed as it comes. */
static size_t pgsql_skip(struct pb_txn_conn *c, struct pgsql_state *s, int dir, size_t n,
			 size_t base)
{
	struct pgsql_dir *d = &s->d[dir & 1];
	size_t take = (uint64_t)n < d->skip ? n : (size_t)d->skip;

	d->skip -= take;
	/* the answer being read ends later */
	if (take && pgsql_is_server(s, dir) && s->acc.started)
		pb_txn_byte_time(c, dir, base + take - 1, &s->acc.end_ns, &s->acc.last_pkt);
	if (d->skip == 0)
		d->state = PGSQL_D_TYPED;
	return take;
}

/* Looking for a message start: a valid header whose message ends where
 * another valid header starts (or where the data ends). */
static size_t pgsql_resync(struct pb_txn_conn *c, struct pgsql_state *s, int dir,
			   const uint8_t *p, size_t n, int *more)
{
	int server = pgsql_is_server(s, dir);
	size_t i;

	(void)c;
	for (i = 0; i + 5 <= n; i++) {
		uint32_t len = pgsql_be32(p + i + 1);
		size_t end;

		if (!pgsql_valid(server, p[i], len) || len > PGSQL_RESYNC_MAX)
			continue;
		end = i + 1 + len;
		if (end == n ||
		    (end + 5 <= n && pgsql_valid(server, p[end], pgsql_be32(p + end + 1)))) {
			s->d[dir & 1].state = PGSQL_D_TYPED;
			return i;
		}
		if (end > n || end + 5 > n) {
			/* cannot tell yet: wait here for more */
			*more = 1;
			return i;
		}
	}
	/* the last bytes may start a header: keep them */
	*more = 1;
	return n >= 4 ? n - 4 : 0;
}

/* ---------------------------------------------------------- callbacks */

/* Which endpoint is the client: the one that sent a start-up message,
 * else the one not on a configured port, else the one that sent the
 * SYN, else the one whose first message only a client sends, else
 * endpoint 0. */
static int pgsql_roles(struct pb_txn_conn *c, struct pgsql_state *s, int dir,
		       const uint8_t *p, size_t n)
{
	int srv[2] = { 0, 0 }, e;
	unsigned i;

	s->roles = 1;
	if (!c->mid_stream[dir & 1] && n >= 1 && p[0] == 0) {
		if (n < 8) {
			s->roles = 0;
			return 0;        /* wait: maybe a start-up message */
		}
		s->client = (uint8_t)(dir & 1);
		return 1;
	}
	for (e = 0; e < 2 && c->common; e++)
		for (i = 0; i < c->common->n_ports; i++)
			if (c->common->ports[i] == c->port[e])
				srv[e] = 1;
	if (srv[0] != srv[1]) {
		s->client = srv[0] ? 1 : 0;
		return 1;
	}
	if (!c->mid_stream[0] && !c->mid_stream[1]) {
		s->client = 0;           /* the sender of the SYN */
		return 1;
	}
	if (n >= 1 && p[0] && strchr("QPBFHXp", p[0]))
		s->client = (uint8_t)(dir & 1);
	else if (n >= 1 && p[0] && strchr("RTZKNAGWVntI123", p[0]))
		s->client = (uint8_t)!(dir & 1);
	else
		s->client = 0;
	return 1;
}

static int64_t pgsql_timeout(const struct pb_txn_conn *c)
{
	return c->common && c->common->timeout_ns > 0 ? c->common->timeout_ns
						      : PB_TXN_DEF_TIMEOUT_NS;
}

/* Entries unanswered for transaction_timeout are written alone (not
 * while their answer is being read). */
static void pgsql_expire(struct pb_txn_conn *c, int64_t now_ns)
{
	struct pgsql_state *s = pgsql_s(c);
	int64_t to = pgsql_timeout(c);
	struct pgsql_pend *h;

	if (!s)
		return;
	while ((h = pgsql_head(s)) != NULL) {
		struct pgsql_pend p;

		if (s->acc.started)
			break;
		if (now_ns < h->end_ns || now_ns - h->end_ns < to)
			break;
		pb_txn_queue_pop(&s->q, &p);
		pgsql_emit_alone(c, s, &p, NULL, pgsql_n_unm_rq);
		pgsql_pend_release(&p);
	}
}

static size_t pgsql_step(struct pb_txn_conn *c, struct pgsql_state *s, int dir,
			 const uint8_t *p, size_t n, size_t base, int *more)
{
	switch (s->d[dir & 1].state) {
	case PGSQL_D_UNTYPED:
		return pgsql_untyped(c, s, dir, p, n, base, more);
	case PGSQL_D_TYPED:
		return pgsql_typed(c, s, dir, p, n, base, more);
	case PGSQL_D_SKIP:
		return pgsql_skip(c, s, dir, n, base);
	case PGSQL_D_RESYNC:
		return pgsql_resync(c, s, dir, p, n, more);
	default:
		return n;
	}
}

static size_t pgsql_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct pgsql_state *s = pgsql_s(c);
	struct pgsql_dir *d;
	size_t off = 0;
	unsigned idle = 0;

	if (!s)
		return len;
	dir &= 1;
	pgsql_expire(c, c->now_ns);
	if (!s->roles && !pgsql_roles(c, s, dir, data, len))
		return 0;
	if (s->acc.err_msg.max == 0)
		pgsql_acc_init(&s->acc);
	d = &s->d[dir];
	if (d->state == PGSQL_D_NEW) {
		if (c->mid_stream[dir])
			d->state = PGSQL_D_RESYNC;
		else
			d->state = pgsql_is_server(s, dir) ? PGSQL_D_TYPED : PGSQL_D_UNTYPED;
	}
	while (off < len) {
		int more = 0;
		size_t used;

		if (s->encrypted || d->state == PGSQL_D_OFF)
			return len;
		used = pgsql_step(c, s, dir, data + off, len - off, off, &more);
		if (used > len - off)
			used = len - off;
		off += used;
		if (more)
			break;
		if (used == 0 && ++idle > PGSQL_MAX_IDLE)
			break;
		if (used > 0)
			idle = 0;
	}
	return off;
}

/* n bytes of dir were never captured. */
static void pgsql_gap(struct pb_txn_conn *c, int dir, uint64_t n)
{
	struct pgsql_state *s = pgsql_s(c);
	struct pgsql_dir *d;

	if (!s || s->encrypted)
		return;
	dir &= 1;
	d = &s->d[dir];
	if (d->state == PGSQL_D_OFF || !s->roles)
		return;
	if (pgsql_is_server(s, dir)) {
		if (s->acc.started || pgsql_head(s))
			s->acc.loss = 1;
	} else {
		/* the message cut is gone whole: what answers it will come
		 * unmatched, with this note */
		s->rq_lost = 1;
	}
	/* inside a long message the framing survives */
	if (d->state == PGSQL_D_SKIP && n <= d->skip) {
		d->skip -= n;
		if (d->skip == 0)
			d->state = PGSQL_D_TYPED;
		return;
	}
	d->state = PGSQL_D_RESYNC;
}

/* close(): the conversation ended: a partial answer and every entry
 * left are written; everything is freed. */
static void pgsql_close(struct pb_txn_conn *c)
{
	struct pgsql_state *s = pgsql_s(c);
	struct pgsql_pend p;
	unsigned i;

	if (!s)
		return;
	if (s->acc.err_msg.max == 0)
		pgsql_acc_init(&s->acc);
	/* an answer cut by the end of the capture goes with its request */
	if (s->acc.started) {
		struct pgsql_pend *h = pgsql_head(s);

		if (h && (h->kind == PGSQL_P_EXEC || h->kind == PGSQL_P_QUERY)) {
			pb_txn_queue_pop(&s->q, &p);
			pgsql_emit_alone(c, s, &p, &s->acc, pgsql_n_incomplete);
			pgsql_pend_release(&p);
		} else if (!h) {
			struct pgsql_ev e;

			pgsql_ev_init(&e, PGSQL_E_QUERY, s);
			e.a = &s->acc;
			pgsql_emit(c, &e, NULL, 0, 0, 0, pgsql_n_incomplete, NULL);
		}
	}
	while (pb_txn_queue_pop(&s->q, &p) == 0) {
		pgsql_emit_alone(c, s, &p, NULL, pgsql_n_unm_rq);
		pgsql_pend_release(&p);
	}
	pb_txn_queue_release(&s->q);
	pgsql_batch_reset(s);
	pgsql_text_unref(&s->ustmt);
	pgsql_text_unref(&s->uportal);
	for (i = 0; i < PGSQL_MAX_STMTS; i++)
		pgsql_text_unref(&s->stmts[i].text);
	for (i = 0; i < PGSQL_MAX_PORTALS; i++)
		pgsql_text_unref(&s->portals[i].text);
	pgsql_acc_release(&s->acc);
	memset(s, 0, sizeof(*s));
}

/* Packetbeat's default port */
static const uint16_t pgsql_ports[] = { 5432 };

/* the options of its own (pb_proto.keys) */
static const char *const pgsql_keys[] = {
	"max_rows",
	"max_row_length",
	NULL
};

const struct pb_proto pb_proto_pgsql = {
	.name = "pgsql",
	.transports = PB_TP_TCP,
	.ports = pgsql_ports,
	.n_ports = sizeof(pgsql_ports) / sizeof(pgsql_ports[0]),
	.conf_size = sizeof(struct pgsql_conf),
	.conf_init = pgsql_conf_init,
	.conf_load = pgsql_conf_load,
	.state_size = sizeof(struct pgsql_state),
	.parse = pgsql_parse,
	.gap = pgsql_gap,
	.expire = pgsql_expire,
	.close = pgsql_close,
	.keys = pgsql_keys,
};
