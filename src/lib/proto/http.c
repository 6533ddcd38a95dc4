/*
 * http.c - HTTP/1.0 and HTTP/1.1 over TCP: message framing, pairing of
 * requests with responses, and the fields of Packetbeat's "http" event.
 *
 * References: RFC 9110 (HTTP semantics: methods, status codes, fields),
 * RFC 9112 (HTTP/1.1 syntax: start lines, field lines, message body
 * length, chunked transfer coding, pipelining), RFC 3986 (URI), RFC 7617
 * (Basic authentication), RFC 1950, 1951 and 1952 (the zlib, deflate and
 * gzip codings).  pb-proto-http(7) teaches all of it with the fields.
 *
 * One exchange, each side a head (start line, field lines, empty line)
 * and a body framed by Content-Length, by chunks, or by the end of the
 * stream:
 *
 *   client -> server                    server -> client
 *   POST /f?a=1 HTTP/1.1\r\n     start  HTTP/1.1 200 OK\r\n
 *   Host: example.com\r\n        field  Content-Type: text/plain\r\n
 *   Content-Length: 5\r\n        field  Transfer-Encoding: chunked\r\n
 *   \r\n                         end    \r\n
 *   hello                        body   5\r\nworld\r\n    chunk
 *                                       0\r\n             last chunk
 *                                       Expires: 0\r\n    trailer field
 *                                       \r\n              end
 *
 * Each direction runs START -> (head) -> BODY | CHUNK_* | BODY_CLOSE ->
 * START; RESYNC skips to the next line that starts a message; DEAD
 * follows a protocol switch.  Requests wait in a per-direction FIFO until
 * a final response from the other side closes the oldest.
 */
#include "proto/proto.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include "util/base64.h"
#include "util/buf.h"
#include "util/cursor.h"
#include "util/json.h"
#include "util/banned.h"

/* ------------------------------------------------------------ limits */

/* A request line or status line.  RFC 9112 section 3 asks for request
 * lines of at least 8000 octets to be accepted. */
#define HTTP_MAX_START_LINE 8192
/* The whole head (start line, field lines, empty line).  It is kept
 * unconsumed until it ends, so this bounds what waits in the engine. */
#define HTTP_MAX_HEAD (64u << 10)
/* Field lines remembered per message (more are read for framing only). */
#define HTTP_MAX_FIELDS 256
/* Requests sent one way and not answered yet; past it the oldest is
 * written as unmatched, so a client pipelining forever, or a server that
 * never answers, cannot grow the queue. */
#define HTTP_MAX_PENDING 32
/* Body bytes kept per message (body.content, form parameters, raw text),
 * and the most a decoded body may grow to (decompression bombs). */
#define HTTP_MAX_BODY (1u << 20)
/* A chunk-size line with its extensions. */
#define HTTP_MAX_CHUNK_LINE 4096
/* All trailer field lines of one chunked body. */
#define HTTP_MAX_TRAILER HTTP_MAX_HEAD
/* Content and transfer codings undone for one body, and a name's bytes. */
#define HTTP_MAX_CODINGS 4
#define HTTP_CODING_LEN 16
/* Query and form parameters rewritten into url.query. */
#define HTTP_MAX_PARAMS 256
/* Cookies split out of one header by split_cookie. */
#define HTTP_MAX_COOKIES 64
/* First body bytes kept to tell the body's mime_type. */
#define HTTP_SNIFF 512
/* The largest Content-Length or chunk size believed: byte counts added
 * from such values stay far from overflowing 64 bits. */
#define HTTP_MAX_LEN (UINT64_C(1) << 62)
/* Configuration lists: names per list, bytes per name (with the NUL). */
#define HTTP_MAX_LIST 64
#define HTTP_MAX_NAME 64
/* State changes in a row that consume nothing: a bound, never reached,
 * that keeps a logic slip from spinning. */
#define HTTP_MAX_IDLE 8

/* Notes (error.message).  The first five are Packetbeat's own words. */
static const char http_n_loss_rq[] = "Packet loss while capturing the request";
static const char http_n_loss_rs[] = "Packet loss while capturing the response";
static const char http_n_unm_rq[] = "Unmatched request";
static const char http_n_unm_rs[] = "Unmatched response";
static const char http_n_port[] = "Host header port number mismatch";
static const char http_n_inc_rq[] = "Request incomplete at end of stream";
static const char http_n_inc_rs[] = "Response incomplete at end of stream";
static const char http_n_cl[] = "Invalid Content-Length";
static const char http_n_te[] = "Invalid Transfer-Encoding";
static const char http_n_chunk[] = "Invalid chunked encoding";
static const char http_n_te_cl[] = "Both Transfer-Encoding and Content-Length";
static const char http_n_pipe[] = "Too many pipelined requests";
static const char http_n_cut_rq[] = "Request body content truncated";
static const char http_n_cut_rs[] = "Response body content truncated";

/* ----------------------------------------------------- configuration */

struct http_list {
	unsigned n;
	char v[HTTP_MAX_LIST][HTTP_MAX_NAME];
};

/* The options of the "http" entry (pb-proto-http(7), CONFIGURATION).
 * Lists live inside the block: the engine frees it with free(). */
struct http_conf {
	int send_all_headers;
	struct http_list send_headers;       /* lower-cased */
	int split_cookie;
	char real_ip_header[HTTP_MAX_NAME];  /* lower-cased, "" for none */
	struct http_list include_rq;         /* include_body_for + _request_ */
	struct http_list include_rs;         /* include_body_for + _response_ */
	struct http_list hide_keywords;      /* lower-cased */
	int redact_authorization;
	struct http_list redact_headers;     /* lower-cased */
	int decode_body;
};

static void http_conf_init(void *v)
{
	struct http_conf *cf = v;

	memset(cf, 0, sizeof(*cf));
	cf->decode_body = 1;
}

static void http_lower(char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
}

static int http_list_add(struct pb_conf *c, const char *path, struct http_list *l,
			 const char *v, int lower)
{
	size_t n = v ? strlen(v) : 0;

	if (l->n >= HTTP_MAX_LIST)
		return pb_conf_fail(c, path, "too many names (at most 64)");
	if (n >= HTTP_MAX_NAME)
		return pb_conf_fail(c, path, "a name is longer than 63 bytes");
	memcpy(l->v[l->n], v ? v : "", n);
	l->v[l->n][n] = '\0';
	if (lower)
		http_lower(l->v[l->n], n);
	l->n++;
	return 0;
}

/* A list of strings; a single string counts as a list of one, and an
 * empty unquoted value as an empty list (as YAML "key:" reads). */
static int http_list_load(struct pb_conf *c, const char *path, struct http_list *l, int lower)
{
	const struct pb_conf_node *n = pb_conf_get(c, path), *k;

	if (!n)
		return 0;
	if (n->kind == PB_CONF_SCALAR) {
		if (!n->quoted && (!n->value || !*n->value))
			return 0;
		return http_list_add(c, path, l, n->value, lower) < 0 ? -1 : 0;
	}
	if (n->kind != PB_CONF_SEQ) {
		pb_conf_fail(c, path, "expected a list of strings");
		return -1;
	}
	for (k = n->child; k; k = k->next) {
		if (k->kind != PB_CONF_SCALAR) {
			pb_conf_fail(c, path, "expected a list of strings");
			return -1;
		}
		if (http_list_add(c, path, l, k->value, lower) < 0)
			return -1;
	}
	return 0;
}

static int http_conf_load(void *v, struct pb_conf *c, const char *prefix)
{
	struct http_conf *cf = v;
	struct http_list both;
	const char *rip = NULL;
	char p[256];
	unsigned i;

#define HTTP_KEY(k) (snprintf(p, sizeof(p), "%s.%s", prefix, k), p)
	memset(&both, 0, sizeof(both));
	if (pb_conf_bool(c, HTTP_KEY("send_all_headers"), &cf->send_all_headers) < 0 ||
	    pb_conf_bool(c, HTTP_KEY("split_cookie"), &cf->split_cookie) < 0 ||
	    pb_conf_bool(c, HTTP_KEY("redact_authorization"), &cf->redact_authorization) < 0 ||
	    pb_conf_bool(c, HTTP_KEY("decode_body"), &cf->decode_body) < 0 ||
	    pb_conf_str(c, HTTP_KEY("real_ip_header"), &rip) < 0)
		return -1;
	if (http_list_load(c, HTTP_KEY("send_headers"), &cf->send_headers, 1) < 0 ||
	    http_list_load(c, HTTP_KEY("hide_keywords"), &cf->hide_keywords, 1) < 0 ||
	    http_list_load(c, HTTP_KEY("redact_headers"), &cf->redact_headers, 1) < 0 ||
	    http_list_load(c, HTTP_KEY("include_body_for"), &both, 0) < 0)
		return -1;
	/* include_body_for applies to both directions, before the others */
	for (i = 0; i < both.n; i++)
		if (http_list_add(c, HTTP_KEY("include_body_for"), &cf->include_rq, both.v[i], 0) < 0 ||
		    http_list_add(c, HTTP_KEY("include_body_for"), &cf->include_rs, both.v[i], 0) < 0)
			return -1;
	if (http_list_load(c, HTTP_KEY("include_request_body_for"), &cf->include_rq, 0) < 0 ||
	    http_list_load(c, HTTP_KEY("include_response_body_for"), &cf->include_rs, 0) < 0)
		return -1;
	if (rip) {
		size_t n = strlen(rip);

		if (n >= sizeof(cf->real_ip_header)) {
			pb_conf_fail(c, HTTP_KEY("real_ip_header"), "longer than 63 bytes");
			return -1;
		}
		memcpy(cf->real_ip_header, rip, n + 1);
		http_lower(cf->real_ip_header, n);
	}
#undef HTTP_KEY
	return 0;
}

static const struct http_conf http_conf_default = { .decode_body = 1 };

static const struct http_conf *http_cf(const struct pb_txn_conn *c)
{
	return c->conf ? c->conf : &http_conf_default;
}

/* --------------------------------------------------------- messages */

/* Fields used beyond framing; the last occurrence wins, as Packetbeat
 * reads them. */
enum {
	HTTP_WK_HOST, HTTP_WK_REFERER, HTTP_WK_UA, HTTP_WK_CTYPE,
	HTTP_WK_AUTH, HTTP_WK_REALIP, HTTP_WK_N
};

/* A piece of a message's head, by offset: the head is copied once and
 * everything read from it points into the copy, so nothing points into
 * the bytes parse() was lent.  32 bits hold any head under the cap. */
struct http_span {
	uint32_t off, len;        /* in http_msg.work */
};

/* One field line, "Name: value" (RFC 9112 section 5). */
struct http_field {
	struct http_span name;    /* lower-cased */
	struct http_span val;     /* without surrounding whitespace */
};

/* A content or transfer coding to undo ("gzip", "deflate", ...).  A name
 * cut short can only match no decoder, which is what it should do. */
struct http_coding {
	char name[HTTP_CODING_LEN];   /* lower-cased, maybe cut short */
	uint8_t te;                   /* from Transfer-Encoding */
};

/* One message whose head has been read, until it is written.  It owns
 * copies of everything it needs (its head, the kept body), so it may wait
 * in a queue after the bytes it came from are gone. */
struct http_msg {
	struct http_msg *next;        /* pending queue */
	struct http_msg *early;       /* request: a final response that came
				       * while its body was still arriving */
	uint8_t dir, is_req;
	uint8_t vmaj, vmin;
	uint16_t code;
	/* framing, from the field lines */
	uint8_t has_cl, cl_bad, te, te_bad, chunked_seen, chunked;
	uint8_t answers_head, answers_connect;   /* responses */
	/* what happened to it (notes) */
	uint8_t loss, incomplete, chunk_bad, te_and_cl, overflow;
	uint8_t resp_lost;            /* request: its response fell in a gap */
	/* the body: kept (keep), written as content (send_body) */
	uint8_t keep, send_body, body_cut, body_lost;
	int64_t start_ns, end_ns;
	uint64_t first_pkt, last_pkt;
	uint64_t size;                /* bytes on the wire: head and body */
	uint64_t body_bytes;          /* payload (chunk data) bytes */
	uint64_t cl;                  /* the Content-Length declared */
	uint8_t *work;                /* the head, names lower-cased, folds
				       * turned to spaces */
	uint32_t work_len;
	uint8_t *raw;                 /* the head as sent (send_request /
				       * send_response only) */
	uint32_t raw_len;
	struct http_span method, target, phrase;
	struct http_field *f;
	unsigned nf;
	struct http_span wk[HTTP_WK_N];
	uint8_t has_wk[HTTP_WK_N];
	struct http_coding cod[HTTP_MAX_CODINGS];
	unsigned ncod;
	uint8_t cod_over;
	struct pb_buf body;
	uint8_t sniff[HTTP_SNIFF];
	unsigned nsniff;
};

/* Where a direction is in the message it reads (see the diagram at the
 * top and pb-proto-http(7), THE MESSAGE STATE MACHINE). */
enum http_state_id {
	HTTP_S_NEW = 0,     /* nothing seen in this direction yet */
	HTTP_S_START,       /* a start line is expected */
	HTTP_S_RESYNC,      /* skipping to a line that starts a message */
	HTTP_S_BODY,        /* Content-Length body, remain bytes to go */
	HTTP_S_BODY_CLOSE,  /* the body ends with the direction */
	HTTP_S_CHUNK_SIZE,  /* chunk-size line */
	HTTP_S_CHUNK_DATA,  /* chunk data, remain bytes to go */
	HTTP_S_CHUNK_END,   /* the CRLF after chunk data */
	HTTP_S_TRAILER,     /* trailer field lines, then the empty line */
	HTTP_S_DEAD         /* no longer HTTP/1.x (101, CONNECT, h2) */
};

/* One direction of the connection: its reading state, the message it is
 * reading, and the requests it sent that wait for an answer. */
struct http_dir {
	uint8_t state;
	uint8_t midline;        /* RESYNC: inside a line, skip to its end */
	/* Searches resume where they stopped, so a line that arrives a byte
	 * at a time costs linear time.  All are offsets in the unconsumed
	 * data and go back to 0 when bytes are consumed. */
	size_t lscan;           /* the line at offset 0: no LF before this */
	size_t line, scan;      /* the head: start of its current line, and
				 * no LF in [line, scan) */
	uint64_t remain;        /* BODY, CHUNK_DATA: bytes still to come */
	size_t trailer;         /* TRAILER: bytes of trailer lines so far */
	/* START: time and packet of the head's first byte, taken when it is
	 * first seen (the head may take several calls to arrive) */
	int64_t first_ns;
	uint64_t first_pkt;
	uint8_t have_first;
	struct http_msg *cur;   /* the message being read */
	struct http_msg *q, *q_tail;  /* requests sent this way, unanswered */
	unsigned nq;
};

/* The connection's state (c->state): zeroed by the engine, and zeroed
 * again by close(), so both directions start in HTTP_S_NEW. */
struct http_state {
	struct http_dir d[2];
};

/* Free a message and a response held with it (a request answered early
 * frees its answer if it is dropped unwritten). */
static void http_msg_free(struct http_msg *m)
{
	if (!m)
		return;
	http_msg_free(m->early);
	free(m->work);
	free(m->raw);
	free(m->f);
	pb_buf_release(&m->body);
	free(m);
}

/* pb_buf_add() that takes an empty buffer's NULL data with n == 0 */
static int http_add(struct pb_buf *b, const void *p, size_t n)
{
	return n ? pb_buf_add(b, p, n) : 0;
}

/* A message that could not be read: counted for --stats. */
static void http_error(struct pb_txn_conn *c)
{
	if (c->st)
		c->st->parse_errors++;
}

/* The state of dir; dir is masked so no caller can index past d[1]. */
static struct http_dir *http_d(struct pb_txn_conn *c, int dir)
{
	return &((struct http_state *)c->state)->d[dir & 1];
}

/* The first LF of the line at p[0..lim), resuming after what earlier
 * calls searched. */
static const uint8_t *http_nl(struct http_dir *d, const uint8_t *p, size_t lim)
{
	/* a resume point past lim belongs to other data: search it all */
	size_t from = d->lscan <= lim ? d->lscan : 0;
	const uint8_t *nl = memchr(p + from, '\n', lim - from);

	if (!nl)
		d->lscan = lim;      /* no LF up to lim: start there next time */
	return nl;
}

/* ------------------------------------------------------- characters */

/* Character classes, ASCII only: the protocol's syntax is ASCII, and
 * locale-dependent <ctype.h> must not change what is parsed. */
static int http_digit(uint8_t ch)
{
	return ch >= '0' && ch <= '9';
}

static int http_alpha(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* the value of a hex digit (chunk sizes, percent escapes), or -1 */
static int http_hex(uint8_t ch)
{
	if (http_digit(ch))
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* tchar (RFC 9110 section 5.6.2): what field names and methods are made
 * of.  It excludes '"', '\\' and controls, so a valid name can be a JSON
 * key as it is. */
static int http_tchar(uint8_t ch)
{
	return http_alpha(ch) || http_digit(ch) ||
	       (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* OWS, optional whitespace: SP or HTAB (RFC 9110 section 5.6.3) */
static int http_ows(uint8_t ch)
{
	return ch == ' ' || ch == '\t';
}

static uint8_t http_lc(uint8_t ch)
{
	return ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch - 'A' + 'a') : ch;
}

/* a equals the lower-case literal s, ignoring ASCII case */
static int http_ieq(const uint8_t *a, size_t n, const char *s)
{
	size_t i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (http_lc(a[i]) != (uint8_t)s[i])
			return 0;
	return 1;
}

/* a equals s exactly: names are lower-cased before they are compared,
 * and methods are case-sensitive (RFC 9110 section 9.1) */
static int http_eq(const uint8_t *a, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(a, s, n) == 0;
}

/* s is one of the names of a configuration list (lower-cased there) */
static int http_in_list(const struct http_list *l, const uint8_t *s, size_t n)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (http_eq(s, n, l->v[i]))
			return 1;
	return 0;
}

/* substring search that takes an empty needle as found, as Go's
 * bytes.Contains does (include_body_for: [""] keeps every body) */
static int http_contains(const uint8_t *h, size_t hn, const char *needle)
{
	size_t n = strlen(needle), i;

	if (n == 0)
		return 1;
	for (i = 0; i + n <= hn; i++)
		if (memcmp(h + i, needle, n) == 0)
			return 1;
	return 0;
}

/* The next line of c, without its CRLF (or a bare LF, which RFC 9112
 * section 2.2 lets a recipient take as a line end); 0 at the end. */
static int http_line(struct pb_cur *c, const uint8_t **line, size_t *n)
{
	size_t left = pb_cur_left(c), len;
	const uint8_t *nl;

	if (!pb_cur_ok(c) || left == 0)
		return 0;
	/* a last line without LF is taken whole: heads given here always
	 * end in an empty line, so that is only ever the final one */
	nl = memchr(c->pos, '\n', left);
	len = nl ? (size_t)(nl - c->pos) : left;
	*line = pb_cur_bytes(c, len);
	if (nl)
		pb_cur_skip(c, 1);
	/* the CR of CRLF is not part of the line */
	*n = len > 0 && (*line)[len - 1] == '\r' ? len - 1 : len;
	return *line != NULL;
}

/* ------------------------------------------------------ start lines */

/* What a line is: not a start line, a request line, a status line, or
 * the first line of the HTTP/2 connection preface. */
enum { HTTP_K_BAD = 0, HTTP_K_REQ, HTTP_K_RESP, HTTP_K_H2 };

/* A start line taken apart (offsets in the line it was read from). */
struct http_start {
	uint8_t vmaj, vmin;
	uint16_t code;
	size_t method_len;
	size_t target, target_len;     /* offsets in the line */
	size_t phrase, phrase_len;
};

/* Methods of the IANA registry: only these start a message when
 * resynchronising, so a stray line in a body is less likely taken. */
static const char *const http_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE",
	"PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK",
	"UNLOCK", "SEARCH", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE",
	"ACL", "BIND", "REBIND", "UNBIND", "LINK", "UNLINK", "MKCALENDAR",
	"ORDERPATCH", "VERSION-CONTROL", "UPDATE", "LABEL", "MKWORKSPACE",
	"BASELINE-CONTROL", "MKREDIRECTREF", "UPDATEREDIRECTREF", "QUERY",
	"PURGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", NULL
};

/* m is a registered method (exact case: methods are case-sensitive) */
static int http_known_method(const uint8_t *m, size_t n)
{
	unsigned i;

	for (i = 0; http_methods[i]; i++)
		if (http_eq(m, n, http_methods[i]))
			return 1;
	return 0;
}

/*
 *   request-line = method SP request-target SP HTTP-version
 *   status-line  = HTTP-version SP status-code SP [ reason-phrase ]
 *   HTTP-version = "HTTP/" DIGIT "." DIGIT
 *
 * p holds one line without its CRLF.  strict (when resynchronising) also
 * wants a registered method, a request-target of a known form and a
 * status code below 600.
 */
static int http_start_line(const uint8_t *p, size_t n, int strict, struct http_start *st)
{
	size_t i, te, tb;

	memset(st, 0, sizeof(*st));
	/* "HTTP/" cannot start a method followed by a space, so a line that
	 * starts with it is a status line or nothing */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* HTTP/d.d SP ddd, then SP and a phrase, or nothing; only
		 * major version 1 is this protocol (n >= 12 covers p[11]) */
		if (n < 12 || !http_digit(p[5]) || p[6] != '.' || !http_digit(p[7]) ||
		    p[8] != ' ' || p[5] != '1')
			return HTTP_K_BAD;
		for (i = 9; i < 12; i++)
			if (!http_digit(p[i]))
				return HTTP_K_BAD;
		st->code = (uint16_t)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
		/* codes are 100 to 599 (RFC 9110 section 15); a first digit
		 * 0 is never valid, 6 to 9 only unregistered */
		if (st->code < 100 || (strict && st->code > 599))
			return HTTP_K_BAD;
		if (n > 12) {
			if (p[12] != ' ')
				return HTTP_K_BAD;
			/* reason-phrase: HTAB, SP, VCHAR, obs-text; no controls */
			for (i = 13; i < n; i++)
				if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
					return HTTP_K_BAD;
			st->phrase = 13;
			st->phrase_len = n - 13;
		}
		st->vmaj = 1;
		st->vmin = (uint8_t)(p[7] - '0');
		return HTTP_K_RESP;
	}
	/* method = token */
	for (i = 0; i < n && http_tchar(p[i]); i++)
		;
	/* a method, SP, at least one byte of target, SP HTTP/d.d: so n is
	 * at least i + 11, which keeps every index below in the line */
	if (i == 0 || i + 11 > n || p[i] != ' ')
		return HTTP_K_BAD;
	st->method_len = i;
	/* the version is the last 8 bytes, after the last SP (a target with
	 * spaces in it, which clients should not send, is still read) */
	te = n - 9;
	if (p[te] != ' ' || memcmp(p + te + 1, "HTTP/", 5) != 0 || !http_digit(p[te + 6]) ||
	    p[te + 7] != '.' || !http_digit(p[te + 8]))
		return HTTP_K_BAD;
	/* the target, without extra spaces around it; no controls in it */
	for (tb = i + 1; tb < te && p[tb] == ' '; tb++)
		;
	while (te > tb && p[te - 1] == ' ')
		te--;
	if (te == tb)
		return HTTP_K_BAD;
	for (i = tb; i < te; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return HTTP_K_BAD;
	st->target = tb;
	st->target_len = te - tb;
	st->vmaj = (uint8_t)(p[n - 3] - '0');
	st->vmin = (uint8_t)(p[n - 1] - '0');
	/* "PRI * HTTP/2.0": the HTTP/2 connection preface (RFC 9113 3.4) */
	if (st->vmaj == 2 && http_eq(p, st->method_len, "PRI") && st->target_len == 1 &&
	    p[tb] == '*')
		return HTTP_K_H2;
	if (st->vmaj != 1)
		return HTTP_K_BAD;
	if (strict) {
		uint8_t t0 = p[tb];

		if (!http_known_method(p, st->method_len))
			return HTTP_K_BAD;
		/* origin-form, asterisk-form, absolute-form, or authority-form
		 * for CONNECT (RFC 9112 section 3.2) */
		if (t0 != '/' && t0 != '*' && !http_alpha(t0))
			return HTTP_K_BAD;
	}
	return HTTP_K_REQ;
}

/* ----------------------------------------------------- field values */

/* Content-Length = 1*DIGIT; a list of equal values ("5, 5") is one
 * value (RFC 9112 section 6.3); anything else, or a value past
 * HTTP_MAX_LEN, is invalid. */
static int http_parse_cl(const uint8_t *s, size_t n, uint64_t *out)
{
	size_t i = 0;
	uint64_t first = 0;
	int have = 0;

	/* each element of the list: OWS 1*DIGIT OWS, then "," or the end;
	 * a sign, a hex prefix or a space inside the digits is invalid, as
	 * a length two parsers could read differently must be */
	for (;;) {
		uint64_t v = 0;
		size_t d = 0;

		while (i < n && http_ows(s[i]))
			i++;
		for (; i < n && http_digit(s[i]); i++, d++) {
			if (v > (HTTP_MAX_LEN - 9) / 10)
				return -1;   /* checked before it can overflow */
			v = v * 10 + (uint64_t)(s[i] - '0');
		}
		if (d == 0 || (have && v != first))
			return -1;
		first = v;
		have = 1;
		while (i < n && http_ows(s[i]))
			i++;
		if (i == n)
			break;
		if (s[i] != ',')
			return -1;
		i++;
	}
	*out = first;
	return 0;
}

/* chunk = chunk-size [ chunk-ext ] CRLF, chunk-size = 1*HEXDIG */
static int http_chunk_size(const uint8_t *p, size_t n, uint64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;

	/* leading zeros are fine; the value, not the digit count, is capped */
	for (; i < n && http_hex(p[i]) >= 0; i++) {
		if (v > (HTTP_MAX_LEN >> 4))
			return -1;       /* too many digits: would overflow */
		v = v << 4 | (uint64_t)http_hex(p[i]);
	}
	if (i == 0)
		return -1;           /* no digits: "-5", "", "zz" */
	while (i < n && http_ows(p[i]))
		i++;                 /* BWS before an extension */
	/* chunk-ext = *( BWS ";" BWS name [ "=" value ] ), not needed: all
	 * that matters is that nothing else follows the size */
	if (i < n && p[i] != ';')
		return -1;
	*out = v;
	return 0;
}

/* A list of codings (Transfer-Encoding, Content-Encoding), each maybe
 * with parameters.  "chunked" must be the last transfer coding and
 * appear once (RFC 9112 section 6.1); other codings are kept to be
 * undone before a body is included. */
static void http_codings(struct http_msg *m, const uint8_t *v, size_t n, int te)
{
	size_t i = 0;

	if (te)
		m->te = 1;
	/* one element per comma; i runs to n + 1 so the last one, ended by
	 * the end of the value rather than a comma, is read too */
	while (i <= n) {
		size_t s = i, e, k;

		while (i < n && v[i] != ',')
			i++;
		e = i++;
		for (k = s; k < e; k++)
			if (v[k] == ';')
				break;       /* parameters are not needed */
		e = k;
		while (s < e && http_ows(v[s]))
			s++;
		while (e > s && http_ows(v[e - 1]))
			e--;
		if (s == e)
			continue;    /* empty elements are allowed in lists */
		if (te) {
			if (m->chunked_seen)
				m->te_bad = 1;   /* something after chunked */
			if (http_ieq(v + s, e - s, "chunked")) {
				m->chunked_seen = 1;
				continue;
			}
		}
		/* a body coded more times than this is not undone at all */
		if (m->ncod >= HTTP_MAX_CODINGS) {
			m->cod_over = 1;
			continue;
		}
		for (k = 0; k < e - s && k < HTTP_CODING_LEN - 1; k++)
			m->cod[m->ncod].name[k] = (char)http_lc(v[s + k]);
		m->cod[m->ncod].name[k] = '\0';
		m->cod[m->ncod].te = (uint8_t)te;
		m->ncod++;
	}
}

/* ------------------------------------------------------------ heads */

/* Split a field line at its colon: name (tchar, no space before the
 * colon: RFC 9112 section 5.1 makes "Name :" an error) and value without
 * surrounding whitespace.  The name is lower-cased in place. */
static int http_field_split(struct http_msg *m, size_t off, size_t len, struct http_field *f)
{
	uint8_t *p = m->work + off;
	size_t i, v, e;

	/* field-name = token: a space, a quote or a control before the
	 * colon makes the line no field (it is skipped, and never applied
	 * to framing, where a lenient reading would differ from the
	 * server's) */
	for (i = 0; i < len && p[i] != ':'; i++)
		if (!http_tchar(p[i]))
			return 0;
	if (i == 0 || i == len)
		return 0;            /* no name, or no colon */
	/* names are case-insensitive: lower-cased once, compared exactly */
	for (v = 0; v < i; v++)
		p[v] = http_lc(p[v]);
	f->name.off = (uint32_t)off;
	f->name.len = (uint32_t)i;
	for (v = i + 1; v < len && http_ows(p[v]); v++)
		;
	for (e = len; e > v && http_ows(p[e - 1]); e--)
		;
	f->val.off = (uint32_t)(off + v);
	f->val.len = (uint32_t)(e - v);
	return 1;
}

/* A complete field (folds joined): framing, the well-known fields, and
 * the list written as headers. */
static void http_field_done(const struct http_conf *cf, struct http_msg *m,
			    const struct http_field *f, unsigned cap)
{
	const uint8_t *name = m->work + f->name.off, *val = m->work + f->val.off;
	size_t nl = f->name.len, vl = f->val.len;
	int wk = -1;

	if (http_eq(name, nl, "content-length")) {
		uint64_t v;

		/* several Content-Length fields must agree (RFC 9112 6.3) */
		if (http_parse_cl(val, vl, &v) < 0 || (m->has_cl && v != m->cl)) {
			m->cl_bad = 1;
		} else {
			m->cl = v;
			m->has_cl = 1;
		}
	} else if (http_eq(name, nl, "transfer-encoding")) {
		/* several fields are one list, in order (RFC 9110 5.3) */
		http_codings(m, val, vl, 1);
	} else if (http_eq(name, nl, "content-encoding")) {
		http_codings(m, val, vl, 0);
	} else if (http_eq(name, nl, "content-type")) {
		wk = HTTP_WK_CTYPE;
	} else if (http_eq(name, nl, "host")) {
		wk = HTTP_WK_HOST;
	} else if (http_eq(name, nl, "referer")) {
		wk = HTTP_WK_REFERER;
	} else if (http_eq(name, nl, "user-agent")) {
		wk = HTTP_WK_UA;
	} else if (http_eq(name, nl, "authorization")) {
		wk = HTTP_WK_AUTH;
	}
	if (wk >= 0) {
		m->wk[wk] = f->val;
		m->has_wk[wk] = 1;
	}
	/* any field can be the real-IP one, even one handled above */
	if (cf->real_ip_header[0] && http_eq(name, nl, cf->real_ip_header)) {
		m->wk[HTTP_WK_REALIP] = f->val;
		m->has_wk[HTTP_WK_REALIP] = 1;
	}
	/* past the cap a field still framed the message above; it is only
	 * not written */
	if (m->nf < cap)
		m->f[m->nf++] = *f;
}

/* The field lines of m->work, after the start line, up to the empty
 * line. */
static void http_fields(const struct http_conf *cf, struct http_msg *m, unsigned cap)
{
	struct pb_cur cur;
	const uint8_t *line;
	size_t len;
	struct http_field pend;
	int have = 0;

	pb_cur_init(&cur, m->work, m->work_len);
	if (!http_line(&cur, &line, &len))
		return;              /* the start line, read already */
	/* a field is applied when the next line shows it is not folded on,
	 * so a folded Content-Length is read whole */
	while (http_line(&cur, &line, &len) && len > 0) {
		size_t off = (size_t)(line - m->work), e, vend;

		if (line[0] == ' ' || line[0] == '\t') {
			size_t b = 0;

			/* obs-fold (RFC 9112 section 5.2): this line goes on
			 * with the value above; the fold becomes spaces */
			if (!have)
				continue;    /* nothing to continue: skipped */
			while (b < len && http_ows(line[b]))
				b++;
			for (e = len; e > b && http_ows(line[e - 1]); e--)
				;
			if (e == b)
				continue;    /* a blank continuation adds nothing */
			/* the value goes on after one space: the continuation
			 * moves left over the fold (the cursor is past it) */
			vend = (size_t)pend.val.off + pend.val.len;
			m->work[vend] = ' ';
			memmove(m->work + vend + 1, m->work + off + b, e - b);
			pend.val.len = (uint32_t)(vend + 1 + (e - b) - pend.val.off);
			while (pend.val.len > 0 && m->work[pend.val.off] == ' ') {
				pend.val.off++;
				pend.val.len--;
			}
			continue;
		}
		if (have)
			http_field_done(cf, m, &pend, cap);
		have = http_field_split(m, off, len, &pend);
	}
	if (have)
		http_field_done(cf, m, &pend, cap);   /* the last field */
}

/* The request a response from dir answers: the oldest waiting on the
 * other side, else the one the other side is still sending. */
static struct http_msg *http_answered(struct pb_txn_conn *c, int dir)
{
	struct http_dir *od = http_d(c, !dir);

	if (od->q)
		return od->q;
	if (od->cur && od->cur->is_req && !od->cur->early)
		return od->cur;
	return NULL;
}

/* Body bytes a message may keep: HTTP_MAX_BODY, or less when the
 * protocol's max_message_size says so. */
static uint64_t http_body_cap(const struct pb_txn_conn *c)
{
	uint64_t cap = HTTP_MAX_BODY;

	if (c->common && c->common->max_message_size < cap)
		cap = c->common->max_message_size;
	return cap;
}

/* A message from its head, p[0..n): a copy to keep, the start line, the
 * fields, what to do with the body. */
static struct http_msg *http_msg_new(struct pb_txn_conn *c, int dir, const uint8_t *p,
				     size_t n, const struct http_start *st, int kind)
{
	const struct http_conf *cf = http_cf(c);
	const struct pb_proto_common *pc = c->common;
	struct http_msg *m = calloc(1, sizeof(*m));
	size_t i, lines = 0;
	unsigned cap;
	int raw;

	if (!m)
		return NULL;
	/* the field array is sized by the lines of this head (at most one
	 * field each), capped: a head of short lines cannot ask for more */
	for (i = 0; i < n; i++)
		lines += p[i] == '\n';
	cap = lines > HTTP_MAX_FIELDS ? HTTP_MAX_FIELDS : (unsigned)lines;
	m->work = malloc(n);
	m->f = cap ? calloc(cap, sizeof(*m->f)) : NULL;
	pb_buf_init(&m->body, (size_t)http_body_cap(c));
	if (!m->work || (cap && !m->f)) {
		http_msg_free(m);
		return NULL;
	}
	/* n <= HTTP_MAX_HEAD, so every offset fits the 32-bit spans */
	memcpy(m->work, p, n);
	m->work_len = (uint32_t)n;
	m->dir = (uint8_t)(dir & 1);
	m->is_req = kind == HTTP_K_REQ;
	/* the untouched text only when it will be written; without memory
	 * for it the event just lacks it */
	raw = pc && (m->is_req ? pc->send_request : pc->send_response);
	if (raw && (m->raw = malloc(n)) != NULL) {
		memcpy(m->raw, p, n);
		m->raw_len = (uint32_t)n;
	}
	m->vmaj = st->vmaj;
	m->vmin = st->vmin;
	m->code = st->code;
	m->method.len = (uint32_t)st->method_len;
	m->target.off = (uint32_t)st->target;
	m->target.len = (uint32_t)st->target_len;
	m->phrase.off = (uint32_t)st->phrase;
	m->phrase.len = (uint32_t)st->phrase_len;
	http_fields(cf, m, cap);
	/* chunked only when it was the final transfer coding, once */
	m->chunked = m->chunked_seen && !m->te_bad;
	/* bodies whose Content-Type matches include_*_body_for are written;
	 * form bodies are kept for url.query as Packetbeat does */
	{
		const struct http_list *inc = m->is_req ? &cf->include_rq : &cf->include_rs;
		const uint8_t *ct = m->work + m->wk[HTTP_WK_CTYPE].off;
		size_t ctl = m->has_wk[HTTP_WK_CTYPE] ? m->wk[HTTP_WK_CTYPE].len : 0;
		unsigned k;

		for (k = 0; k < inc->n && !m->send_body; k++)
			m->send_body = (uint8_t)http_contains(ct, ctl, inc->v[k]);
		m->keep = m->send_body ||
			  (m->is_req && http_contains(ct, ctl, "urlencoded") && ctl > 0);
	}
	/* whether a response has a body depends on the request's method:
	 * it is known now, from the request this response will close */
	if (!m->is_req) {
		struct http_msg *rq = http_answered(c, dir);

		if (rq) {
			const uint8_t *meth = rq->work + rq->method.off;

			m->answers_head = http_eq(meth, rq->method.len, "HEAD");
			m->answers_connect = http_eq(meth, rq->method.len, "CONNECT");
		}
	}
	return m;
}

/* ------------------------------------------------------------ bodies */

/* n body bytes of m arrived: counted always; the first HTTP_SNIFF kept
 * for mime_type; all kept, up to the cap, when the body is wanted.  The
 * body is never trusted to be as long as it says: only what arrived is
 * copied, and only into capped buffers. */
static void http_body_add(struct http_msg *m, const uint8_t *p, size_t n)
{
	m->size += n;
	m->body_bytes += n;
	if (m->body_lost)
		return;              /* after a gap the bytes do not follow on */
	if (m->nsniff < HTTP_SNIFF) {
		size_t k = HTTP_SNIFF - m->nsniff;

		if (k > n)
			k = n;
		memcpy(m->sniff + m->nsniff, p, k);
		m->nsniff += (unsigned)k;
	}
	if (m->keep && !m->body_cut) {
		size_t room = m->body.max - m->body.len;

		/* what does not fit is dropped, and the body marked cut so
		 * its count stays that of the wire */
		if (n > room)
			m->body_cut = 1;
		if (http_add(&m->body, p, n > room ? room : n) < 0)
			m->body_cut = 1;
	}
}

/* ------------------------------------------------------------ events */

/* What the write() callback needs of one message. */
struct http_side {
	const struct http_msg *m;
	const uint8_t *body;          /* kept body, decoded when it could be */
	size_t body_len;
	int send;                     /* written as body.content */
	uint64_t body_bytes;
	const char *mime;
	struct pb_buf dec[2];         /* decoding, one coding after another */
	char note[112];               /* why decoding failed */
};

/* One query or form parameter, decoded, for url.query. */
struct http_kv {
	uint32_t k, kl, v, vl;        /* in http_out.arena */
	uint8_t form;                 /* from a form body */
};

/* Everything one event is written from, built by http_emit() and read by
 * the write() callback; freed when pb_txn_emit() returns.  Every buffer
 * has a cap derived from the input caps above. */
struct http_out {
	const struct http_conf *cf;
	struct http_side rq, rs;
	/* url.* */
	struct pb_buf path;           /* percent-decoded */
	struct pb_buf query;          /* url.query as Packetbeat re-encodes it */
	struct pb_buf full;
	struct pb_buf arena;          /* decoded parameters */
	struct http_kv kv[HTTP_MAX_PARAMS];
	unsigned nkv;
	const uint8_t *ext;
	size_t ext_len;
	uint16_t port;
	int port_mismatch;
	/* NUL-terminated strings handed over in struct pb_txn */
	struct pb_buf s_method, s_query, s_path, s_domain, s_ref, s_fwd, s_user;
	struct pb_buf raw_rq, raw_rs;
	struct pb_buf s_phrase;       /* status_phrase, lower-cased */
};

/* ---- body decoding ---- */

/* Inflate in[0..n) into out (capped at out->max): 0 done, 1 cut at the
 * cap, -1 invalid or cut short.  wbits as for inflateInit2(). */
static int http_inflate(const uint8_t *in, size_t n, int wbits, struct pb_buf *out)
{
	z_stream z;
	int r, ret = -1;

	memset(&z, 0, sizeof(z));
	pb_buf_clear(out);
	if (inflateInit2(&z, wbits) != Z_OK)
		return -1;
	z.next_in = in;
	z.avail_in = (uInt)n;        /* n <= HTTP_MAX_BODY */
	/* output in slices of at most 16 KiB up to the cap: a small input
	 * that inflates to gigabytes stops at out->max */
	for (;;) {
		size_t want = out->max - out->len;
		uInt before_in = z.avail_in;

		if (want == 0) {
			ret = 1;         /* the decoded body reached the cap */
			break;
		}
		if (want > 16384)
			want = 16384;
		if (pb_buf_grow(out, want) < 0)
			break;
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = (uInt)want;
		r = inflate(&z, Z_NO_FLUSH);
		out->len += want - z.avail_out;
		if (r == Z_STREAM_END) {
			ret = 0;
			break;
		}
		/* Z_OK made progress; Z_BUF_ERROR with input left only wants
		 * room; anything else is bad data or data cut short */
		if (r != Z_OK && !(r == Z_BUF_ERROR && z.avail_out == 0))
			break;
		if (z.avail_in == before_in && z.avail_out == want)
			break;           /* no progress at all: give up */
	}
	inflateEnd(&z);
	return ret;
}

/* The outcome of undoing one coding. */
enum { HTTP_DEC_OK, HTTP_DEC_SAME, HTTP_DEC_CUT, HTTP_DEC_BAD, HTTP_DEC_UNKNOWN };

/* Undo the coding name on in[0..n) into out: the codings Packetbeat
 * undoes (gzip, deflate, their x- aliases, identity); br, zstd and
 * compress are not. */
static int http_undo(const char *name, const uint8_t *in, size_t n, struct pb_buf *out)
{
	int r, wbits;

	if (strcmp(name, "identity") == 0)
		return HTTP_DEC_SAME;
	if (strcmp(name, "gzip") == 0 || strcmp(name, "x-gzip") == 0) {
		wbits = 16 + MAX_WBITS;  /* zlib reads the gzip wrapper */
	} else if (strcmp(name, "deflate") == 0 || strcmp(name, "x-deflate") == 0) {
		/* "deflate" is zlib-wrapped (RFC 9110 8.4.1.2); many servers
		 * send raw deflate, which is what Packetbeat reads: a valid
		 * zlib header decides */
		/* zlib header (RFC 1950 2.2): CM 8, CINFO <= 7, and CMF*256
		 * + FLG a multiple of 31; raw deflate rarely looks like it */
		wbits = n >= 2 && (in[0] & 0x0f) == 8 && (in[0] >> 4) <= 7 &&
				((unsigned)in[0] << 8 | in[1]) % 31 == 0 ? MAX_WBITS : -MAX_WBITS;
	} else {
		return HTTP_DEC_UNKNOWN;
	}
	r = http_inflate(in, n, wbits, out);
	return r == 0 ? HTTP_DEC_OK : r == 1 ? HTTP_DEC_CUT : HTTP_DEC_BAD;
}

/* Undo the codings in reverse of the order they were applied (content
 * codings first, then transfer codings).  A failure leaves a note; the
 * partial output is kept only when the failing step was the last one,
 * as Packetbeat does. */
static void http_decode(struct http_side *s, const struct http_msg *m)
{
	const uint8_t *in = s->body;
	size_t n = s->body_len;
	unsigned i, done = 0, k = 0;
	int pass;

	if (m->cod_over) {
		snprintf(s->note, sizeof(s->note),
			 "unable to decode body: more than %d codings", HTTP_MAX_CODINGS);
		return;
	}
	/* pass 1 the transfer codings, pass 0 the content codings, each
	 * list from its end; each step reads the output of the one before
	 * from one buffer and writes the other */
	for (pass = 1; pass >= 0; pass--) {
		for (i = m->ncod; i-- > 0;) {
			struct pb_buf *out = &s->dec[k & 1];
			const char *why = NULL;
			int r;

			if (m->cod[i].te != pass)
				continue;
			done++;
			r = http_undo(m->cod[i].name, in, n, out);
			if (r == HTTP_DEC_SAME)
				continue;
			if (r == HTTP_DEC_OK) {
				in = (const uint8_t *)out->data;
				n = out->len;
				k++;
				continue;
			}
			why = r == HTTP_DEC_UNKNOWN ? "decoder not found" :
			      r == HTTP_DEC_CUT ? "body truncated due to size limitation" :
						  "invalid or incomplete data";
			snprintf(s->note, sizeof(s->note), "unable to decode body using %s encoding: %s",
				 m->cod[i].name, why);
			/* a coding not undone, or a later one left to undo:
			 * nothing meaningful to write */
			if (r == HTTP_DEC_UNKNOWN || done < m->ncod) {
				s->body = NULL;
				s->body_len = 0;
			} else {
				s->body = (const uint8_t *)out->data;
				s->body_len = out->len;
			}
			return;
		}
	}
	s->body = in;
	s->body_len = n;
}

/* ---- mime_type: from the body's bytes (ECS says: not from the
 * Content-Type header), after the WHATWG MIME sniffing signatures ---- */

/* A signature: len bytes sig at offset off of the body mean type. */
struct http_magic {
	const char *sig;
	uint8_t len, off;
	const char *type;
};

static const struct http_magic http_magics[] = {
	{ "%PDF-", 5, 0, "application/pdf" },
	{ "%!PS-Adobe-", 11, 0, "application/postscript" },
	{ "\x89PNG\r\n\x1a\n", 8, 0, "image/png" },
	{ "GIF87a", 6, 0, "image/gif" },
	{ "GIF89a", 6, 0, "image/gif" },
	{ "\xff\xd8\xff", 3, 0, "image/jpeg" },
	{ "WEBP", 4, 8, "image/webp" },          /* after "RIFF" and a size */
	{ "\x00\x00\x01\x00", 4, 0, "image/x-icon" },
	{ "\x00\x00\x02\x00", 4, 0, "image/x-icon" },
	{ "wOFF", 4, 0, "font/woff" },
	{ "wOF2", 4, 0, "font/woff2" },
	{ "OggS\x00", 5, 0, "application/ogg" },
	{ "ID3", 3, 0, "audio/mpeg" },
	{ "fLaC", 4, 0, "audio/flac" },
	{ "ftyp", 4, 4, "video/mp4" },
	{ "\x1a\x45\xdf\xa3", 4, 0, "video/webm" },
	{ "\x1f\x8b\x08", 3, 0, "application/gzip" },
	{ "PK\x03\x04", 4, 0, "application/zip" },
	{ "Rar!\x1a\x07", 6, 0, "application/vnd.rar" },
	{ "7z\xbc\xaf\x27\x1c", 6, 0, "application/x-7z-compressed" },
	{ "\x7f" "ELF", 4, 0, "application/x-executable" },
	{ "MZ", 2, 0, "application/vnd.microsoft.portable-executable" },
	{ "\x00" "asm", 4, 0, "application/wasm" },
	{ "\xef\xbb\xbf", 3, 0, "text/plain" },
	{ "\xfe\xff", 2, 0, "text/plain" },
	{ "\xff\xfe", 2, 0, "text/plain" },
};

/* tags that make a text body HTML when it starts with them; all but the
 * comment opener must be followed by a space or '>' */
static const char *const http_html_tags[] = {
	"<!doctype html", "<html", "<head", "<script", "<iframe", "<h1", "<div",
	"<font", "<table", "<a", "<style", "<title", "<b", "<body", "<br", "<p",
	"<!--", NULL
};

/* The type of a body from its first n bytes (n <= HTTP_SNIFF), or NULL
 * for no body. */
static const char *http_sniff(const uint8_t *p, size_t n)
{
	size_t i, k;

	if (n == 0)
		return NULL;
	/* binary formats first: each signature is checked only when the
	 * bytes it needs are there */
	for (i = 0; i < sizeof(http_magics) / sizeof(http_magics[0]); i++) {
		const struct http_magic *g = &http_magics[i];

		if (n >= (size_t)g->off + g->len && memcmp(p + g->off, g->sig, g->len) == 0 &&
		    (g->off != 8 || memcmp(p, "RIFF", 4) == 0))
			return g->type;
	}
	/* markup: after leading whitespace, ignoring case */
	for (i = 0; i < n && (http_ows(p[i]) || p[i] == '\r' || p[i] == '\n' || p[i] == '\f'); i++)
		;
	if (n - i >= 5 && http_ieq(p + i, 5, "<?xml"))
		return "text/xml";
	for (k = 0; http_html_tags[k]; k++) {
		const char *tag = http_html_tags[k];
		size_t tl = strlen(tag);

		/* the tag must end there: "<b>" and "<b " are HTML, "<bx" not
		 * (n - i > tl leaves room for the byte after it) */
		if (n - i > tl && http_ieq(p + i, tl, tag) &&
		    (p[i + tl] == ' ' || p[i + tl] == '>' || tag[tl - 1] == '-'))
			return "text/html";
	}
	/* binary data bytes (WHATWG MIME sniffing, section 3) */
	for (i = 0; i < n; i++)
		if (p[i] <= 0x08 || p[i] == 0x0b || (p[i] >= 0x0e && p[i] <= 0x1a) ||
		    (p[i] >= 0x1c && p[i] <= 0x1f))
			return "application/octet-stream";
	return "text/plain";
}

/* A side with empty, capped decoding buffers. */
static void http_side_init(struct http_side *s)
{
	memset(s, 0, sizeof(*s));
	pb_buf_init(&s->dec[0], HTTP_MAX_BODY);
	pb_buf_init(&s->dec[1], HTTP_MAX_BODY);
}

/* What is written of message m: its body decoded or as kept, its body
 * count, and its mime_type. */
static void http_side_prepare(const struct http_conf *cf, struct http_side *s,
			      const struct http_msg *m)
{
	s->m = m;
	s->body_bytes = m->body_bytes;
	if (m->keep && m->body.len > 0) {
		s->body = (const uint8_t *)m->body.data;
		s->body_len = m->body.len;
		/* bytes missing after a gap cannot be inflated */
		if (cf->decode_body && (m->ncod > 0 || m->cod_over) && !m->body_lost)
			http_decode(s, m);
	}
	s->send = m->send_body && s->body && s->body_len > 0;
	/* Packetbeat counts the included (decoded) body; a body cut short
	 * keeps the count of the bytes on the wire */
	if (s->send && !m->body_cut && !m->body_lost)
		s->body_bytes = s->body_len;
	if (s->body && s->body_len > 0 && !m->body_lost)
		s->mime = http_sniff(s->body, s->body_len < HTTP_SNIFF ? s->body_len : HTTP_SNIFF);
	else if (m->nsniff > 0)
		s->mime = http_sniff(m->sniff, m->nsniff);
}

/* ---- url.*: the request-target read as Go's url.Parse reads it, so
 * that url.path and url.query match Packetbeat's ---- */

/* percent-decode; in a query component '+' is a space.  -1 on a bad
 * escape (the whole value is then dropped, as Go does). */
static int http_unescape(struct pb_buf *b, const uint8_t *s, size_t n, int query)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t ch = s[i];

		if (ch == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;   /* "%" needs two hex digits after it */
			hi = http_hex(s[i + 1]);
			lo = http_hex(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			ch = (uint8_t)(hi << 4 | lo);
			i += 2;
		} else if (query && ch == '+') {
			ch = ' ';        /* form encoding; a path keeps its '+' */
		}
		/* the output is never longer than the input; the cap is the
		 * caller's buffer's */
		if (pb_buf_addc(b, (char)ch) < 0)
			return -1;
	}
	return 0;
}

/* path (decoded) and raw query of a request-target; -1 when Go's parser
 * refuses it (Packetbeat then writes neither) */
static int http_target(struct http_out *o, const uint8_t *p, size_t n,
		       const uint8_t **rq, size_t *rqn)
{
	size_t i, s = 0, e;
	int scheme = 0;

	*rq = NULL;
	*rqn = 0;
	/* clients do not send fragments; a target that has one is read as
	 * Go reads a URL, without it */
	for (i = 0; i < n && p[i] != '#'; i++)
		;
	n = i;
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	for (i = 0; i < n; i++) {
		if (http_alpha(p[i]))
			continue;
		if (http_digit(p[i]) || p[i] == '+' || p[i] == '-' || p[i] == '.') {
			if (i == 0)
				break;
			continue;
		}
		if (p[i] == ':') {
			if (i == 0)
				return -1;   /* ":x": a scheme with no name */
			scheme = 1;
			s = i + 1;
		}
		break;               /* any other byte: there is no scheme */
	}
	/* the query is what follows the first '?' */
	for (e = s; e < n && p[e] != '?'; e++)
		;
	if (e < n) {
		*rq = p + e + 1;
		*rqn = n - e - 1;
	}
	if (s == e || p[s] != '/') {
		if (scheme)
			return 0;        /* opaque ("host:443" for CONNECT) */
		for (i = s; i < e && p[i] != '/'; i++)
			if (p[i] == ':')
				return -1;   /* a colon in the first segment */
	}
	/* absolute-form: skip the authority ("//host:port"); url.domain
	 * comes from Host, as in Packetbeat.  Without a scheme a target that
	 * starts "//" is a path with an empty first segment (RFC 9112 3.2.1;
	 * Go's ParseRequestURI, which Packetbeat uses, reads it so too) */
	if (scheme && e - s >= 2 && p[s] == '/' && p[s + 1] == '/') {
		for (s += 2; s < e && p[s] != '/'; s++)
			;
	}
	return http_unescape(&o->path, p + s, e - s, 0);
}

/* one name=value pair of a query or a form body */
static void http_kv_add(struct http_out *o, const uint8_t *s, size_t n, int form)
{
	const uint8_t *eq = memchr(s, '=', n);
	size_t kl = eq ? (size_t)(eq - s) : n, mark = o->arena.len;
	struct http_kv *kv;

	/* Go refuses ';' as a separator since 1.17: the pair is dropped */
	if (n == 0 || memchr(s, ';', n))
		return;
	if (o->nkv >= HTTP_MAX_PARAMS)
		return;              /* more parameters are not rewritten */
	kv = &o->kv[o->nkv];
	kv->k = (uint32_t)o->arena.len;
	if (http_unescape(&o->arena, s, kl, 1) < 0)
		goto drop;
	kv->kl = (uint32_t)(o->arena.len - kv->k);
	kv->v = (uint32_t)o->arena.len;
	if (eq && http_unescape(&o->arena, eq + 1, n - kl - 1, 1) < 0)
		goto drop;
	kv->vl = (uint32_t)(o->arena.len - kv->v);
	kv->form = (uint8_t)form;
	o->nkv++;
	return;
drop:
	/* a bad escape drops the pair, and what it had decoded */
	o->arena.len = mark;
}

/* pairs separated by '&' (application/x-www-form-urlencoded, the form
 * of queries and of form bodies) */
static void http_kv_parse(struct http_out *o, const uint8_t *s, size_t n, int form)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && s[j] != '&')
			j++;
		http_kv_add(o, s + i, j - i, form);
		i = j + 1;
	}
}

/* names in byte order, a prefix first: the order of Go's sort.Strings,
 * which Packetbeat's url.Values.Encode() uses */
static int http_kv_cmp(const struct http_out *o, const struct http_kv *a, const struct http_kv *b)
{
	size_t n = a->kl < b->kl ? a->kl : b->kl;
	int r = n ? memcmp(o->arena.data + a->k, o->arena.data + b->k, n) : 0;

	return r ? r : (a->kl > b->kl) - (a->kl < b->kl);
}

/* QueryEscape: unreserved bytes stay, space is '+', the rest %XX */
static void http_esc_query(struct pb_buf *b, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t ch = s[i];

		if (http_alpha(ch) || http_digit(ch) || ch == '-' || ch == '_' || ch == '.' ||
		    ch == '~') {
			pb_buf_addc(b, (char)ch);
		} else if (ch == ' ') {
			pb_buf_addc(b, '+');
		} else {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			http_add(b, e, 3);
		}
	}
}

/* a path as a URL writes it: pchar and '/' stay, except '?' */
static void http_esc_path(struct pb_buf *b, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t ch = s[i];

		if (http_alpha(ch) || http_digit(ch) || (ch != 0 && strchr("-_.~$&+,/:;=@", ch))) {
			pb_buf_addc(b, (char)ch);
		} else {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			http_add(b, e, 3);
		}
	}
}

/* url.query as Packetbeat writes it: the query's parameters and, for a
 * form body, the form's (replacing same-named ones), values of
 * hide_keywords replaced by "xxxxx", sorted by name, encoded again */
static void http_query(struct http_out *o, const uint8_t *rq, size_t rqn,
		       const uint8_t *form, size_t formn)
{
	unsigned idx[HTTP_MAX_PARAMS], n = 0, i, k;

	/* the arena gets its memory first, so offsets into it are never
	 * offsets from NULL */
	if (pb_buf_grow(&o->arena, 1) < 0)
		return;
	if (rq)
		http_kv_parse(o, rq, rqn, 0);
	if (form)
		http_kv_parse(o, form, formn, 1);
	for (i = 0; i < o->nkv; i++) {
		int dup = 0;

		/* a name given in the form body replaces the query's */
		for (k = 0; !o->kv[i].form && k < o->nkv && !dup; k++)
			dup = o->kv[k].form && http_kv_cmp(o, &o->kv[i], &o->kv[k]) == 0;
		if (dup)
			continue;
		/* insertion sort, stable: values of a name keep their order */
		for (k = n; k > 0 && http_kv_cmp(o, &o->kv[idx[k - 1]], &o->kv[i]) > 0; k--)
			idx[k] = idx[k - 1];
		idx[k] = i;
		n++;
	}
	for (i = 0; i < n; i++) {
		const struct http_kv *kv = &o->kv[idx[i]];
		const uint8_t *key = (const uint8_t *)o->arena.data + kv->k;
		char low[HTTP_MAX_NAME];
		int hide = 0;

		/* hide_keywords match names in any case; a name longer than
		 * any keyword can hold matches none */
		if (kv->kl < sizeof(low)) {
			memcpy(low, key, kv->kl);
			http_lower(low, kv->kl);
			hide = http_in_list(&o->cf->hide_keywords, (const uint8_t *)low, kv->kl);
		}
		if (i > 0)
			pb_buf_addc(&o->query, '&');
		http_esc_query(&o->query, key, kv->kl);
		pb_buf_addc(&o->query, '=');
		if (hide)
			pb_buf_adds(&o->query, "xxxxx");
		else
			http_esc_query(&o->query, (const uint8_t *)o->arena.data + kv->v, kv->vl);
	}
}

/* ---- Host ---- */

/* s is an IPv4 or IPv6 address in text (then it is no domain name).
 * inet_pton() wants a C string: the longest address text is 45 bytes. */
static int http_is_ip(const uint8_t *s, size_t n)
{
	char tmp[64];
	uint8_t a[16];

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET, tmp, a) == 1 || inet_pton(AF_INET6, tmp, a) == 1;
}

/* port = 1*DIGIT, 1 to 65535 here; 0 when it is not one.  At most five
 * digits are read, so the sum cannot overflow. */
static uint16_t http_port(const uint8_t *s, size_t n)
{
	uint32_t v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (!http_digit(s[i]))
			return 0;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	return v <= 65535 ? (uint16_t)v : 0;
}

/* Host = uri-host [ ":" port ]; an IPv6 literal is bracketed.  What
 * does not split cleanly is taken whole as the name with no port. */
static void http_host(const uint8_t *h, size_t n, const uint8_t **name, size_t *nl,
		      uint16_t *port)
{
	const uint8_t *colon;
	size_t i, colons = 0;

	*name = h;
	*nl = n;
	*port = 0;
	/* an address alone, IPv6 ones unbracketed too (as Go accepts) */
	if (n == 0 || http_is_ip(h, n))
		return;
	if (h[0] == '[') {
		const uint8_t *rb = memchr(h, ']', n);
		size_t r;

		if (!rb)
			return;
		/* r >= 1: "[...]" alone, or followed by ":port" */
		r = (size_t)(rb - h);
		if (r + 1 == n) {
			*name = h + 1;
			*nl = r - 1;
		} else if (h[r + 1] == ':' && (*port = http_port(h + r + 2, n - r - 2)) != 0) {
			*name = h + 1;
			*nl = r - 1;
		}
		return;
	}
	/* name:port has one colon; more is an unbracketed IPv6 literal
	 * that did not parse, kept whole */
	for (i = 0; i < n; i++)
		colons += h[i] == ':';
	if (colons != 1)
		return;
	colon = memchr(h, ':', n);
	*port = http_port(colon + 1, n - (size_t)(colon - h) - 1);
	if (*port)
		*nl = (size_t)(colon - h);
}

/* p[0..n) as a C string in b (struct pb_txn takes C strings); NULL when
 * it does not fit b's cap */
static const char *http_cstr(struct pb_buf *b, const void *p, size_t n)
{
	pb_buf_clear(b);
	if (http_add(b, p, n) < 0)
		return NULL;
	return pb_buf_cstr(b);
}

/* the user of "Authorization: Basic base64(user:password)" (RFC 7617),
 * padded or not */
static void http_basic_user(struct http_out *o, const uint8_t *v, size_t n)
{
	uint8_t tmp[768];
	char pad[1024];
	const uint8_t *colon;
	long len;

	/* the scheme name is case-insensitive (RFC 9110 section 11.1) */
	if (n <= 6 || !http_ieq(v, 6, "basic "))
		return;
	v += 6;
	n -= 6;
	/* credentials past 1 KiB are not read: pad must hold the padding,
	 * and tmp the decoded 3/4 of pad */
	if (n + 3 > sizeof(pad))
		return;
	memcpy(pad, v, n);
	while (n % 4)
		pad[n++] = '=';      /* Go's RawStdEncoding: padding optional */
	len = pb_base64_decode(tmp, pad, n);
	if (len <= 0)
		return;
	/* user-id ":" password; no colon, no user */
	colon = memchr(tmp, ':', (size_t)len);
	if (colon && colon > tmp)
		http_cstr(&o->s_user, tmp, (size_t)(colon - tmp));
}

/* the host of a Referer URL ("scheme://[user@]host[:port]/..."), for
 * related.hosts */
static void http_ref_host(struct http_out *o, const uint8_t *r, size_t n)
{
	const uint8_t *p = NULL, *at;
	size_t i, hl;
	const uint8_t *name;
	uint16_t port;

	/* the scheme, then "://"; a relative Referer has no host */
	for (i = 0; i + 2 < n; i++) {
		if (r[i] == ':' && r[i + 1] == '/' && r[i + 2] == '/') {
			p = r + i + 3;
			break;
		}
		if (!http_alpha(r[i]) && !(i > 0 && (http_digit(r[i]) || r[i] == '+' ||
						       r[i] == '-' || r[i] == '.')))
			return;
	}
	if (!p)
		return;
	/* the authority ends at the path, the query or the fragment; the
	 * host follows any userinfo */
	n -= (size_t)(p - r);
	for (hl = 0; hl < n && p[hl] != '/' && p[hl] != '?' && p[hl] != '#'; hl++)
		;
	at = memchr(p, '@', hl);
	if (at) {
		hl -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	http_host(p, hl, &name, &i, &port);
	if (i > 0 && !http_is_ip(name, i))
		http_cstr(&o->s_ref, name, i);
}

/* method, query, path, url.*, server domain, related hosts, user and
 * forwarded IP of a request */
static void http_request_fields(struct pb_txn_conn *c, struct pb_txn *t, struct http_out *o,
				const struct http_msg *m)
{
	const uint8_t *w = m->work;
	const uint8_t *rq = NULL, *dom = NULL;
	size_t rqn = 0, dl = 0;
	uint16_t hport = 0, sport = c->port[!(t->client & 1)];
	int ok;

	t->method = http_cstr(&o->s_method, w + m->method.off, m->method.len);
	/* a target Go refuses gives Packetbeat neither path nor query */
	ok = http_target(o, w + m->target.off, m->target.len, &rq, &rqn) == 0;
	if (!ok) {
		pb_buf_clear(&o->path);
	} else {
		const struct http_side *s = &o->rq;
		int form = m->has_wk[HTTP_WK_CTYPE] &&
			   http_contains(w + m->wk[HTTP_WK_CTYPE].off, m->wk[HTTP_WK_CTYPE].len,
					 "urlencoded");

		http_query(o, rq, rqn, form && s->body ? s->body : NULL, form ? s->body_len : 0);
	}
	/* query = "METHOD path", as Packetbeat builds it */
	http_add(&o->s_query, w + m->method.off, m->method.len);
	pb_buf_addc(&o->s_query, ' ');
	http_add(&o->s_query, o->path.data, o->path.len);
	t->query = pb_buf_cstr(&o->s_query);
	if (o->path.len > 0)
		t->path = http_cstr(&o->s_path, o->path.data, o->path.len);
	/* url.extension: what follows the last dot of the last segment */
	if (o->path.len > 0) {
		const uint8_t *p = (const uint8_t *)o->path.data;
		size_t i = o->path.len;

		while (i > 0 && p[i - 1] != '/' && p[i - 1] != '.')
			i--;
		if (i > 0 && p[i - 1] == '.' && i < o->path.len) {
			o->ext = p + i;
			o->ext_len = o->path.len - i;
		}
	}
	/* the server as the client named it (RFC 9110 section 7.2); the port
	 * defaults to the one the connection went to */
	if (m->has_wk[HTTP_WK_HOST])
		http_host(w + m->wk[HTTP_WK_HOST].off, m->wk[HTTP_WK_HOST].len, &dom, &dl, &hport);
	if (hport && hport != sport)
		o->port_mismatch = 1;
	o->port = hport ? hport : sport;
	if (dl > 0) {
		const char *d = http_cstr(&o->s_domain, dom, dl);

		/* a name is a domain; an address only the URL's host */
		if (d && !http_is_ip(dom, dl)) {
			t->server_domain = d;
			pb_txn_host(t, d);
		}
		/* url.full = scheme "://" host [":" port] path ["?" query],
		 * an IPv6 host in brackets, as Go's URL.String() writes it */
		pb_buf_adds(&o->full, "http://");
		if (memchr(dom, ':', dl))
			pb_buf_addc(&o->full, '[');
		http_add(&o->full, dom, dl);
		if (memchr(dom, ':', dl))
			pb_buf_addc(&o->full, ']');
		if (o->port != 80)
			pb_buf_addf(&o->full, ":%u", (unsigned)o->port);
		/* a path that is not absolute ("*") gets its slash */
		if (o->path.len > 0 && o->path.data[0] != '/')
			pb_buf_addc(&o->full, '/');
		http_esc_path(&o->full, (const uint8_t *)o->path.data, o->path.len);
		if (o->query.len > 0) {
			pb_buf_addc(&o->full, '?');
			http_add(&o->full, o->query.data, o->query.len);
		}
	}
	if (m->has_wk[HTTP_WK_REFERER]) {
		http_ref_host(o, w + m->wk[HTTP_WK_REFERER].off, m->wk[HTTP_WK_REFERER].len);
		if (o->s_ref.len > 0)
			pb_txn_host(t, pb_buf_cstr(&o->s_ref));
	}
	if (m->has_wk[HTTP_WK_REALIP]) {
		/* the first address of a list ("client, proxy1, proxy2") */
		const uint8_t *v = w + m->wk[HTTP_WK_REALIP].off;
		size_t n = m->wk[HTTP_WK_REALIP].len, e = 0;

		while (e < n && v[e] != ',')
			e++;
		while (e > 0 && http_ows(v[e - 1]))
			e--;
		if (e > 0)
			t->forwarded_ip = http_cstr(&o->s_fwd, v, e);
	}
	/* with redact_authorization the credentials are not read at all */
	if (m->has_wk[HTTP_WK_AUTH] && !o->cf->redact_authorization)
		http_basic_user(o, w + m->wk[HTTP_WK_AUTH].off, m->wk[HTTP_WK_AUTH].len);
}

/* ---- raw text (send_request / send_response) ---- */

/* the fields that carry credentials (RFC 9110 sections 11.6.2, 11.7.2) */
static int http_is_auth_name(const uint8_t *p, size_t n)
{
	return http_ieq(p, n, "authorization") || http_ieq(p, n, "proxy-authorization");
}

/* The raw text of a message into b, as Packetbeat writes it: the head as
 * sent, with credentials masked when asked, and the body when it is
 * written (decoded). */
static void http_raw(const struct http_conf *cf, struct pb_buf *b, const struct http_side *s)
{
	const struct http_msg *m = s->m;
	size_t start = b->len;

	if (!m->raw)
		return;
	if (http_add(b, m->raw, m->raw_len) < 0)
		return;
	if (m->is_req && cf->redact_authorization) {
		/* credentials become '*' up to the end of their line */
		uint8_t *p = (uint8_t *)b->data + start;
		size_t n = m->raw_len, i = 0;

		/* line by line; the name before the colon, in any case, the
		 * value after it up to the CR */
		while (i < n) {
			uint8_t *nl = memchr(p + i, '\n', n - i);
			size_t e = nl ? (size_t)(nl - p) : n, k;
			uint8_t *colon = memchr(p + i, ':', e - i);

			if (colon && http_is_auth_name(p + i, (size_t)(colon - (p + i))))
				for (k = (size_t)(colon - p) + 1; k < e && p[k] != '\r'; k++)
					p[k] = '*';
			i = e + 1;
		}
	}
	if (s->send)
		http_add(b, s->body, s->body_len);
}

/* ---- writing ---- */

/* A Cookie or Set-Cookie value as an object (split_cookie), the way
 * Packetbeat splits it: on every ';', so Set-Cookie attributes
 * ("Path=/") become entries too.  Keys come from the wire and are
 * escaped before they become JSON keys. */
static void http_write_cookies(struct pb_json *j, const uint8_t *v, size_t n)
{
	struct { size_t k, kl, v, vl; } ck[HTTP_MAX_COOKIES];
	struct pb_buf keys, esc;
	unsigned nck = 0, i, k;
	size_t s = 0;

	/* keys are at most the value's bytes; escaping grows a byte to at
	 * most six */
	pb_buf_init(&keys, HTTP_MAX_HEAD);
	pb_buf_init(&esc, 6 * HTTP_MAX_HEAD);
	/* name=value pairs split on ';', names lower-cased, one pair of
	 * double quotes taken off values */
	while (s <= n && nck < HTTP_MAX_COOKIES) {
		size_t e = s, eq, a, b;

		while (e < n && v[e] != ';')
			e++;
		for (eq = s; eq < e && v[eq] != '='; eq++)
			;
		/* a piece without '=' is no cookie ("Secure", "HttpOnly") */
		if (eq < e) {
			for (a = s; a < eq && (http_ows(v[a]) || v[a] == '\r' || v[a] == '\n'); a++)
				;
			for (b = eq; b > a && (http_ows(v[b - 1]) || v[b - 1] == '\r'); b--)
				;
			ck[nck].k = keys.len;
			ck[nck].kl = b - a;
			for (; a < b; a++)
				pb_buf_addc(&keys, (char)http_lc(v[a]));
			for (a = eq + 1; a < e && http_ows(v[a]); a++)
				;
			for (b = e; b > a && http_ows(v[b - 1]); b--)
				;
			if (b - a > 1 && v[a] == '"' && v[b - 1] == '"') {
				a++;
				b--;
			}
			ck[nck].v = a;
			ck[nck].vl = b - a;
			nck++;
		}
		s = e + 1;
	}
	pb_json_obj(j);
	for (i = 0; i < nck; i++) {
		int later = 0;

		/* a name given twice keeps its last value */
		for (k = i + 1; k < nck && !later; k++)
			later = ck[k].kl == ck[i].kl &&
				(ck[i].kl == 0 ||
				 memcmp(keys.data + ck[k].k, keys.data + ck[i].k, ck[i].kl) == 0);
		if (later)
			continue;
		pb_buf_clear(&esc);
		pb_json_escape(&esc, keys.data ? keys.data + ck[i].k : "", ck[i].kl);
		pb_json_keyn(j, esc.data ? esc.data : "", esc.len);
		pb_json_str(j, v + ck[i].v, ck[i].vl);
	}
	pb_json_obj_end(j);
	pb_buf_release(&keys);
	pb_buf_release(&esc);
}

/* http.request.headers or http.response.headers of m.  Field names are
 * tokens, lower-cased: valid JSON keys as they are (http_tchar), and
 * each is written once, so no key repeats. */
static void http_write_headers(struct pb_json *j, const struct http_out *o, const struct http_msg *m)
{
	const struct http_conf *cf = o->cf;
	int send = cf->send_all_headers || cf->send_headers.n > 0;
	struct pb_buf val;
	unsigned i, k;

	pb_buf_init(&val, HTTP_MAX_HEAD);
	pb_json_key(j, "headers");
	pb_json_obj(j);
	/* always there, as in Packetbeat: the length and the type */
	pb_json_key(j, "content-length");
	pb_json_u64(j, m->has_cl && !m->cl_bad ? m->cl : m->body_bytes);
	if (m->has_wk[HTTP_WK_CTYPE]) {
		pb_json_key(j, "content-type");
		pb_json_str(j, m->work + m->wk[HTTP_WK_CTYPE].off, m->wk[HTTP_WK_CTYPE].len);
	}
	for (i = 0; send && i < m->nf; i++) {
		const uint8_t *name = m->work + m->f[i].name.off;
		size_t nl = m->f[i].name.len;
		int seen = 0;

		/* written above, from what framing decided */
		if (http_eq(name, nl, "content-length") || http_eq(name, nl, "content-type"))
			continue;
		if (!cf->send_all_headers && !http_in_list(&cf->send_headers, name, nl))
			continue;
		for (k = 0; k < i && !seen; k++)
			seen = m->f[k].name.len == nl && memcmp(m->work + m->f[k].name.off, name, nl) == 0;
		if (seen)
			continue;        /* written with its first occurrence */
		/* the value: every occurrence joined by ", " */
		pb_buf_clear(&val);
		/* redaction replaces the value whole, before any split */
		if (m->is_req && cf->redact_authorization && http_is_auth_name(name, nl)) {
			pb_buf_addc(&val, '*');
		} else if (http_in_list(&cf->redact_headers, name, nl)) {
			pb_buf_adds(&val, "REDACTED");
		} else {
			for (k = i; k < m->nf; k++) {
				if (m->f[k].name.len != nl || memcmp(m->work + m->f[k].name.off, name, nl))
					continue;
				if (k > i)
					http_add(&val, ", ", 2);
				http_add(&val, m->work + m->f[k].val.off, m->f[k].val.len);
			}
		}
		pb_json_keyn(j, (const char *)name, nl);
		if (cf->split_cookie && http_eq(name, nl, m->is_req ? "cookie" : "set-cookie"))
			http_write_cookies(j, (const uint8_t *)(val.data ? val.data : ""), val.len);
		else
			pb_json_str(j, val.data ? val.data : "", val.len);
	}
	pb_json_obj_end(j);
	pb_buf_release(&val);
}

/* body.bytes and body.content; zero and empty are left out, as
 * Packetbeat leaves out zero values */
static void http_write_body(struct pb_json *j, const struct http_side *s)
{
	if (!s->body_bytes && !s->send)
		return;
	pb_json_key(j, "body");
	pb_json_obj(j);
	if (s->body_bytes) {
		pb_json_key(j, "bytes");
		pb_json_u64(j, s->body_bytes);
	}
	if (s->send) {
		pb_json_key(j, "content");
		pb_json_str(j, s->body, s->body_len);
	}
	pb_json_obj_end(j);
}

/* The protocol's objects of the event (struct pb_txn.write): http, then
 * for a request url, user_agent and user.  Strings from the wire go
 * through pb_json_str(), which escapes them. */
static void http_write(struct pb_json *j, const struct pb_txn *t, void *arg)
{
	const struct http_out *o = arg;
	const struct http_msg *rq = o->rq.m, *rs = o->rs.m, *v = rq ? rq : rs;
	char ver[8];

	pb_json_key(j, "http");
	pb_json_obj(j);
	if (rq) {
		pb_json_key(j, "request");
		pb_json_obj(j);
		pb_json_key(j, "method");
		pb_json_str(j, rq->work + rq->method.off, rq->method.len);
		if (rq->size) {
			pb_json_key(j, "bytes");
			pb_json_u64(j, rq->size);
		}
		http_write_body(j, &o->rq);
		if (o->rq.mime) {
			pb_json_key(j, "mime_type");
			pb_json_cstr(j, o->rq.mime);
		}
		if (rq->has_wk[HTTP_WK_REFERER] && rq->wk[HTTP_WK_REFERER].len) {
			pb_json_key(j, "referrer");
			pb_json_str(j, rq->work + rq->wk[HTTP_WK_REFERER].off,
				    rq->wk[HTTP_WK_REFERER].len);
		}
		http_write_headers(j, o, rq);
		pb_json_obj_end(j);
	}
	if (rs) {
		pb_json_key(j, "response");
		pb_json_obj(j);
		pb_json_key(j, "status_code");
		pb_json_u64(j, rs->code);
		if (o->s_phrase.len) {
			pb_json_key(j, "status_phrase");
			pb_json_str(j, o->s_phrase.data, o->s_phrase.len);
		}
		if (rs->size) {
			pb_json_key(j, "bytes");
			pb_json_u64(j, rs->size);
		}
		http_write_body(j, &o->rs);
		if (o->rs.mime) {
			pb_json_key(j, "mime_type");
			pb_json_cstr(j, o->rs.mime);
		}
		http_write_headers(j, o, rs);
		pb_json_obj_end(j);
	}
	snprintf(ver, sizeof(ver), "%u.%u", (unsigned)v->vmaj, (unsigned)v->vmin);
	pb_json_key(j, "version");
	pb_json_cstr(j, ver);
	pb_json_obj_end(j);
	if (rq) {
		pb_json_key(j, "url");
		pb_json_obj(j);
		pb_json_key(j, "scheme");
		pb_json_ascii(j, "http", 4);
		if (o->s_domain.len) {
			pb_json_key(j, "domain");
			pb_json_str(j, o->s_domain.data, o->s_domain.len);
		}
		if (o->port && o->port != 80) {
			pb_json_key(j, "port");
			pb_json_u64(j, o->port);
		}
		/* the Basic user, also as user.name below */
		if (o->s_user.len) {
			pb_json_key(j, "username");
			pb_json_str(j, o->s_user.data, o->s_user.len);
		}
		if (o->path.len) {
			pb_json_key(j, "path");
			pb_json_str(j, o->path.data, o->path.len);
		}
		if (o->query.len) {
			pb_json_key(j, "query");
			pb_json_str(j, o->query.data, o->query.len);
		}
		if (o->ext_len) {
			pb_json_key(j, "extension");
			pb_json_str(j, o->ext, o->ext_len);
		}
		if (o->full.len) {
			pb_json_key(j, "full");
			pb_json_str(j, o->full.data, o->full.len);
		}
		pb_json_obj_end(j);
		if (rq->has_wk[HTTP_WK_UA] && rq->wk[HTTP_WK_UA].len) {
			pb_json_key(j, "user_agent");
			pb_json_obj(j);
			pb_json_key(j, "original");
			pb_json_str(j, rq->work + rq->wk[HTTP_WK_UA].off, rq->wk[HTTP_WK_UA].len);
			pb_json_obj_end(j);
		}
		if (o->s_user.len) {
			pb_json_key(j, "user");
			pb_json_obj(j);
			pb_json_key(j, "name");
			pb_json_str(j, o->s_user.data, o->s_user.len);
			pb_json_obj_end(j);
		}
	}
	(void)t;
}

/* Empty buffers, each capped by what can reach it: a path is at most a
 * head; parameters come from a head and a kept body, and escaping
 * triples a byte at most; raw text is a head and a kept body. */
static void http_out_init(struct http_out *o, const struct http_conf *cf)
{
	memset(o, 0, sizeof(*o));
	o->cf = cf;
	http_side_init(&o->rq);
	http_side_init(&o->rs);
	pb_buf_init(&o->path, HTTP_MAX_HEAD);
	pb_buf_init(&o->query, 4 * HTTP_MAX_HEAD + 4 * HTTP_MAX_BODY);
	pb_buf_init(&o->full, 8 * HTTP_MAX_HEAD + 4 * HTTP_MAX_BODY);
	pb_buf_init(&o->arena, HTTP_MAX_HEAD + HTTP_MAX_BODY);
	pb_buf_init(&o->s_method, HTTP_MAX_START_LINE);
	pb_buf_init(&o->s_query, 2 * HTTP_MAX_START_LINE);
	pb_buf_init(&o->s_path, HTTP_MAX_START_LINE);
	pb_buf_init(&o->s_domain, HTTP_MAX_HEAD);
	pb_buf_init(&o->s_ref, HTTP_MAX_HEAD);
	pb_buf_init(&o->s_fwd, HTTP_MAX_HEAD);
	pb_buf_init(&o->s_user, HTTP_MAX_HEAD);
	pb_buf_init(&o->raw_rq, HTTP_MAX_HEAD + HTTP_MAX_BODY);
	pb_buf_init(&o->raw_rs, HTTP_MAX_HEAD + HTTP_MAX_BODY);
	pb_buf_init(&o->s_phrase, HTTP_MAX_START_LINE);
}

/* Free what the event was built in (not o itself). */
static void http_out_release(struct http_out *o)
{
	struct pb_buf *all[] = {
		&o->rq.dec[0], &o->rq.dec[1], &o->rs.dec[0], &o->rs.dec[1], &o->path,
		&o->query, &o->full, &o->arena, &o->s_method, &o->s_query, &o->s_path,
		&o->s_domain, &o->s_ref, &o->s_fwd, &o->s_user, &o->raw_rq, &o->raw_rs,
		&o->s_phrase,
	};
	unsigned i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		pb_buf_release(all[i]);
}

/* the notes of one message, in the order Packetbeat adds its own */
static void http_notes(struct pb_txn *t, const struct http_side *s, int alone)
{
	const struct http_msg *m = s->m;
	int rq = m->is_req;

	if (m->loss)
		pb_txn_note(t, rq ? http_n_loss_rq : http_n_loss_rs);
	if (m->incomplete)
		pb_txn_note(t, rq ? http_n_inc_rq : http_n_inc_rs);
	if (m->cl_bad && !m->te)
		pb_txn_note(t, http_n_cl);
	if (m->te && !m->chunked && rq)
		pb_txn_note(t, http_n_te);
	if (m->chunk_bad)
		pb_txn_note(t, http_n_chunk);
	if (m->te_and_cl)
		pb_txn_note(t, http_n_te_cl);
	if (m->overflow)
		pb_txn_note(t, http_n_pipe);
	if (m->resp_lost)
		pb_txn_note(t, http_n_loss_rs);
	if (alone)
		pb_txn_note(t, rq ? http_n_unm_rq : http_n_unm_rs);
	if (s->note[0])
		pb_txn_note(t, s->note);
	if (s->send && m->body_cut)
		pb_txn_note(t, rq ? http_n_cut_rq : http_n_cut_rs);
}

/* Write one transaction (either message may be missing) and free both. */
static void http_emit(struct pb_txn_conn *c, struct http_msg *rq, struct http_msg *rs)
{
	const struct http_conf *cf = http_cf(c);
	const struct http_msg *first = rq ? rq : rs, *last = rs ? rs : rq;
	struct http_out *o;
	struct pb_txn t;

	if (!first)
		return;
	/* a few KiB: on the heap, not the parser's stack */
	o = malloc(sizeof(*o));
	if (!o) {
		http_msg_free(rq);
		http_msg_free(rs);
		return;
	}
	memset(&t, 0, sizeof(t));
	http_out_init(o, cf);
	/* the client is the side that sent the request; with a response
	 * alone, the side that received it */
	t.client = rq ? rq->dir : (uint8_t)!rs->dir;
	t.has_request = rq != NULL;
	t.has_response = rs != NULL;
	t.start_ns = first->start_ns;
	t.first_pkt = first->first_pkt;
	t.end_ns = last->end_ns;
	t.last_pkt = last->last_pkt;
	/* client.bytes / server.bytes: each message on the wire */
	t.request_bytes = rq ? rq->size : 0;
	t.response_bytes = rs ? rs->size : 0;
	/* Packetbeat: Error when a side is missing or the code is >= 400 */
	t.status = !rq || !rs || rs->code >= 400 ? "Error" : "OK";
	if (rq)
		http_side_prepare(cf, &o->rq, rq);
	if (rs) {
		size_t k;

		http_side_prepare(cf, &o->rs, rs);
		/* status_phrase is lower-cased, as Packetbeat 8 writes it */
		for (k = 0; k < rs->phrase.len; k++)
			pb_buf_addc(&o->s_phrase, (char)http_lc(rs->work[rs->phrase.off + k]));
	}
	/* notes of the request first, then of the response, as Packetbeat
	 * appends them */
	if (rq) {
		http_request_fields(c, &t, o, rq);
		http_notes(&t, &o->rq, rs == NULL);
		if (o->port_mismatch)
			pb_txn_note(&t, http_n_port);
		http_raw(cf, &o->raw_rq, &o->rq);
		if (rq->raw) {
			t.request = (const uint8_t *)o->raw_rq.data;
			t.request_len = o->raw_rq.len;
		}
	}
	if (rs) {
		http_notes(&t, &o->rs, rq == NULL);
		http_raw(cf, &o->raw_rs, &o->rs);
		if (rs->raw) {
			t.response = (const uint8_t *)o->raw_rs.data;
			t.response_len = o->raw_rs.len;
		}
	}
	t.write = http_write;
	t.arg = o;
	/* every pointer in t lives in o or in the messages until here */
	pb_txn_emit(c, &t);
	http_out_release(o);
	free(o);
	http_msg_free(rq);
	http_msg_free(rs);
}

/* ----------------------------------------------------------- pairing */

/* The oldest request waiting in d's queue, taken out, or NULL. */
static struct http_msg *http_pop(struct http_dir *d)
{
	struct http_msg *m = d->q;

	if (m) {
		d->q = m->next;
		if (!d->q)
			d->q_tail = NULL;
		d->nq--;
		m->next = NULL;
	}
	return m;
}

/* A request ended: written with the response that came before it ended,
 * or queued for the next response from the other side. */
static void http_request_done(struct pb_txn_conn *c, int dir, struct http_msg *m)
{
	struct http_dir *d = http_d(c, dir);

	if (m->early) {
		struct http_msg *rs = m->early;

		m->early = NULL;
		http_emit(c, m, rs);
		return;
	}
	/* a full queue: the oldest goes out unanswered, which keeps the
	 * memory of a connection bounded whatever its client sends */
	if (d->nq >= HTTP_MAX_PENDING) {
		struct http_msg *old = http_pop(d);

		old->overflow = 1;
		http_emit(c, old, NULL);
	}
	if (d->q_tail)
		d->q_tail->next = m;
	else
		d->q = m;
	d->q_tail = m;
	d->nq++;
}

/* A final response ended: it answers the oldest request of the other
 * side (FIFO: HTTP/1.1 answers in order, RFC 9112 section 9.3.2). */
static void http_response_done(struct pb_txn_conn *c, int dir, struct http_msg *m)
{
	struct http_dir *od = http_d(c, !dir);

	if (od->q) {
		http_emit(c, http_pop(od), m);
	} else if (od->cur && od->cur->is_req && !od->cur->early) {
		/* answered before the request ended (an early 4xx, or an
		 * Expect: 100-continue refused): written when it ends */
		od->cur->early = m;
	} else {
		http_emit(c, NULL, m);
	}
}

/* Both directions stop being HTTP/1.x (101, CONNECT tunnel, h2). */
static void http_dead(struct pb_txn_conn *c)
{
	http_d(c, 0)->state = HTTP_S_DEAD;
	http_d(c, 1)->state = HTTP_S_DEAD;
}

/* The message of dir ends (its last byte was consumed). */
static void http_done(struct pb_txn_conn *c, int dir, struct http_msg *m)
{
	struct http_dir *d = http_d(c, dir);
	int upgrade;

	d->cur = NULL;
	d->lscan = d->line = d->scan = 0;
	if (d->state != HTTP_S_DEAD)
		d->state = HTTP_S_START;
	/* the direction is ready for the next message before the pairing
	 * below, which may switch both directions to DEAD */
	if (m->is_req) {
		http_request_done(c, dir, m);
		return;
	}
	/* 1xx other than 101 are interim: they close no request, and a
	 * stray one (100 with no request seen) is dropped (RFC 9110 15.2) */
	if (m->code < 200 && m->code != 101) {
		http_msg_free(m);
		return;
	}
	/* after 101 (RFC 9110 15.2.2) or a 2xx to CONNECT (9.3.6) the bytes
	 * are another protocol's; m is gone once paired, so decide first */
	upgrade = m->code == 101 || (m->answers_connect && m->code / 100 == 2);
	http_response_done(c, dir, m);
	if (upgrade)
		http_dead(c);
}

/* The message ends on a framing error: what follows is skipped up to
 * the next start line. */
static void http_done_resync(struct pb_txn_conn *c, int dir, struct http_msg *m)
{
	struct http_dir *d = http_d(c, dir);

	/* the message is still written, with its notes: its head was read */
	http_error(c);
	http_done(c, dir, m);
	if (d->state != HTTP_S_DEAD) {
		d->state = HTTP_S_RESYNC;
		d->midline = 0;
	}
}

/* The body framing of a message whose head was just read (RFC 9112
 * section 6.3, in its order). */
static void http_frame(struct pb_txn_conn *c, int dir, struct http_msg *m)
{
	struct http_dir *d = http_d(c, dir);
	uint16_t code = m->code;

	if (m->te && (m->has_cl || m->cl_bad))
		m->te_and_cl = 1;    /* Transfer-Encoding wins; a smuggling sign */
	if (!m->is_req) {
		/* no body: 1xx, 204, 304, the answer to HEAD, a tunnel */
		if (code < 200 || code == 204 || code == 304 || m->answers_head ||
		    (m->answers_connect && code / 100 == 2)) {
			http_done(c, dir, m);
			return;
		}
		if (m->te) {
			/* not chunked last: the body runs to the close */
			d->state = m->chunked ? HTTP_S_CHUNK_SIZE : HTTP_S_BODY_CLOSE;
			return;
		}
		/* an invalid length: where the body ends is unknown (RFC
		 * 9112 6.3 says the connection is unusable) */
		if (m->cl_bad) {
			http_done_resync(c, dir, m);
			return;
		}
		/* no length at all: a response is read to the close */
		if (!m->has_cl) {
			d->state = HTTP_S_BODY_CLOSE;
			return;
		}
	} else if (m->te) {
		/* a request's transfer coding must end in chunked */
		if (m->chunked)
			d->state = HTTP_S_CHUNK_SIZE;
		else
			http_done_resync(c, dir, m);
		return;
	} else if (m->cl_bad) {
		http_done_resync(c, dir, m);
		return;              /* a request must be answered 400 */
	}
	/* Content-Length, or none: a request without one has no body */
	if (m->cl == 0) {
		http_done(c, dir, m);
		return;
	}
	d->remain = m->cl;           /* counted down as bytes come, never
				      * allocated: a length is not trusted */
	d->state = HTTP_S_BODY;
}

/* ------------------------------------------------------- the framer */

/* End of the head: the offset after its empty line, or 0 when it has
 * not arrived.  The search resumes where the last one stopped. */
static size_t http_head_end(struct http_dir *d, const uint8_t *p, size_t n, size_t first)
{
	size_t lim = n < HTTP_MAX_HEAD ? n : HTTP_MAX_HEAD;
	/* resume points out of range (other data) are not trusted */
	size_t line = d->line >= first && d->line <= lim ? d->line : first;
	size_t pos = d->scan >= line && d->scan <= lim ? d->scan : line;

	/* line by line from the one after the start line: the head ends at
	 * the first empty one (CRLF, or a bare LF) */
	while (pos < lim) {
		const uint8_t *nl = memchr(p + pos, '\n', lim - pos);
		size_t ll;

		if (!nl) {
			pos = lim;
			break;
		}
		ll = (size_t)(nl - (p + line));
		if (ll == 0 || (ll == 1 && p[line] == '\r'))
			return line + ll + 1;      /* the empty line */
		line += ll + 1;
		pos = line;
	}
	d->line = line;
	d->scan = pos;
	return 0;
}

/* START: wait for a whole head, check its start line as soon as that
 * line is whole, then read the head into a message and decide its body.
 * Nothing is consumed until the head is whole, so the engine keeps the
 * bytes (at most HTTP_MAX_HEAD of them). */
static size_t http_st_start(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			    size_t base, int *more)
{
	struct http_dir *d = http_d(c, dir);
	const uint8_t *nl;
	size_t k, ll, len, head;
	struct http_start st;
	struct http_msg *m;
	int kind;

	/* RFC 9112 section 2.2: empty lines before a start line are skipped */
	for (k = 0; k < n && (p[k] == '\r' || p[k] == '\n'); k++)
		;
	if (k > 0) {
		d->lscan = d->line = d->scan = 0;
		d->have_first = 0;
		return k;
	}
	/* the message's start time: its first byte, now, while its offset
	 * is known (base: where p is in the data parse() was given) */
	if (!d->have_first) {
		pb_txn_byte_time(c, dir, base, &d->first_ns, &d->first_pkt);
		d->have_first = 1;
	}
	nl = http_nl(d, p, n < HTTP_MAX_START_LINE ? n : HTTP_MAX_START_LINE);
	if (!nl) {
		if (n < HTTP_MAX_START_LINE) {
			*more = 1;
			return 0;
		}
		/* no line end where a start line must have ended: skip what
		 * was searched, and the rest of that line in RESYNC (not all
		 * of n: a message may follow the line's end) */
		http_error(c);
		d->state = HTTP_S_RESYNC;
		d->midline = 1;
		return HTTP_MAX_START_LINE;
	}
	ll = (size_t)(nl - p);
	len = ll > 0 && p[ll - 1] == '\r' ? ll - 1 : ll;
	kind = http_start_line(p, len, 0, &st);
	if (kind == HTTP_K_BAD) {
		/* resync looks at this same line again, for a start line
		 * after leftover bytes ("okHTTP/1.1 200 OK"), else skips it */
		http_error(c);
		d->state = HTTP_S_RESYNC;
		d->midline = 0;
		return 0;
	}
	/* HTTP/2 with prior knowledge: binary frames follow */
	if (kind == HTTP_K_H2) {
		http_dead(c);
		return 0;
	}
	head = http_head_end(d, p, n, ll + 1);
	if (head == 0) {
		if (n < HTTP_MAX_HEAD) {
			*more = 1;
			return 0;
		}
		/* a head past HTTP_MAX_HEAD: dropped, and its lines skipped */
		http_error(c);
		d->state = HTTP_S_RESYNC;
		d->midline = 0;
		d->lscan = d->line = d->scan = 0;
		return ll + 1;
	}
	/* the head is whole: p[0..head) */
	d->lscan = d->line = d->scan = 0;
	d->have_first = 0;
	m = http_msg_new(c, dir, p, head, &st, kind);
	if (!m) {
		/* no memory for it: skip it like a message we cannot read */
		http_error(c);
		d->state = HTTP_S_RESYNC;
		d->midline = 0;
		return head;
	}
	/* its size and times so far: the body adds to them */
	m->size = head;
	m->start_ns = d->first_ns;
	m->first_pkt = d->first_pkt;
	pb_txn_byte_time(c, dir, base + head - 1, &m->end_ns, &m->last_pkt);
	d->cur = m;
	http_frame(c, dir, m);   /* may end it at once (no body) */
	return head;
}

/* Where a strict start line begins in the line p[0..n): at 0, or after
 * leftover bytes of a message whose end was lost ("okHTTP/1.1 404 ...",
 * "</html>GET / HTTP/1.1"); -1 when there is none. */
static long http_find_start(const uint8_t *p, size_t n)
{
	struct http_start st;
	size_t k, sp, e;
	unsigned tries = 0, i;

	if (http_start_line(p, n, 1, &st) != HTTP_K_BAD)
		return 0;
	/* a status line: "HTTP/1." later in the line (a bounded number of
	 * candidates, so a hostile line costs little) */
	for (k = 1; k + 12 <= n && tries < 32; k++) {
		if (p[k] != 'H' || memcmp(p + k, "HTTP/1.", 7) != 0)
			continue;
		tries++;
		if (http_start_line(p + k, n - k, 1, &st) == HTTP_K_RESP)
			return (long)k;
	}
	/* a request line ends in " HTTP/1.d"; its target is the word before
	 * that, and the method ends just before the target's space */
	if (n < 12 || p[n - 9] != ' ' || memcmp(p + n - 8, "HTTP/1.", 7) != 0)
		return -1;
	/* back over the target to the space before it */
	for (sp = n - 9; sp > 0 && p[sp - 1] != ' '; sp--)
		;
	if (sp < 2)
		return -1;
	e = sp - 1;
	/* a registered method whose end meets that space, and which starts
	 * after byte 0 (byte 0 was tried above) */
	for (i = 0; http_methods[i]; i++) {
		size_t ml = strlen(http_methods[i]);

		if (ml < e && memcmp(p + e - ml, http_methods[i], ml) == 0 &&
		    http_start_line(p + e - ml, n - (e - ml), 1, &st) == HTTP_K_REQ)
			return (long)(e - ml);
	}
	return -1;
}

/* Skip to the start of a line that starts a message.  Only a strict
 * start line counts, so a line in a body is less likely taken for one. */
static size_t http_st_resync(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			     int *more)
{
	struct http_dir *d = http_d(c, dir);
	const uint8_t *nl;
	size_t ll, len;
	long at;

	/* inside a line: nothing can start before its end */
	if (d->midline) {
		nl = memchr(p, '\n', n);
		if (!nl)
			return n;
		d->midline = 0;
		return (size_t)(nl - p) + 1;
	}
	nl = http_nl(d, p, n < HTTP_MAX_START_LINE ? n : HTTP_MAX_START_LINE);
	if (!nl) {
		if (n < HTTP_MAX_START_LINE) {
			*more = 1;       /* the line may still be a start line */
			return 0;
		}
		/* too long to be one: skip it to its end */
		d->midline = 1;
		return HTTP_MAX_START_LINE;
	}
	/* a whole line: a start line in it, or skip it */
	ll = (size_t)(nl - p);
	len = ll > 0 && p[ll - 1] == '\r' ? ll - 1 : ll;
	at = http_find_start(p, len);
	if (at < 0)
		return ll + 1;
	/* the bytes before it belonged to a message we cannot place */
	d->state = HTTP_S_START;
	d->lscan = d->line = d->scan = 0;
	return (size_t)at;
}

/* Body bytes: Content-Length, chunk data, or up to the close. */
static size_t http_st_body(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n, size_t base)
{
	struct http_dir *d = http_d(c, dir);
	struct http_msg *m = d->cur;
	size_t take = n;

	/* only this message's bytes: what follows its length is the next
	 * message (or, in chunks, the CRLF after the data) */
	if (d->state != HTTP_S_BODY_CLOSE && (uint64_t)take > d->remain)
		take = (size_t)d->remain;
	if (take == 0)
		return 0;            /* remain is never 0 here; a guard */
	http_body_add(m, p, take);
	/* the message's last byte so far */
	pb_txn_byte_time(c, dir, base + take - 1, &m->end_ns, &m->last_pkt);
	if (d->state == HTTP_S_BODY_CLOSE)
		return take;         /* ends with the direction (fin) */
	d->remain -= take;
	if (d->remain == 0) {
		if (d->state == HTTP_S_CHUNK_DATA)
			d->state = HTTP_S_CHUNK_END;
		else
			http_done(c, dir, m);
	}
	return take;
}

/* Chunk framing broke: the message ends with a note, and the bytes that
 * broke it are looked at again for a start line. */
static void http_bad_chunk(struct pb_txn_conn *c, int dir)
{
	struct http_msg *m = http_d(c, dir)->cur;

	m->chunk_bad = 1;
	http_done_resync(c, dir, m);
}

/* A line of chunked framing: chunk-size line, or a trailer line. */
static size_t http_st_chunk_line(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
				 size_t base, int *more)
{
	struct http_dir *d = http_d(c, dir);
	struct http_msg *m = d->cur;
	/* a chunk-size line has its own cap; trailer lines share one */
	size_t lim = d->state == HTTP_S_CHUNK_SIZE ? HTTP_MAX_CHUNK_LINE
						  : HTTP_MAX_TRAILER - d->trailer;
	const uint8_t *nl = http_nl(d, p, n < lim ? n : lim);
	size_t ll, len;
	uint64_t sz;

	if (!nl) {
		if (n < lim) {
			*more = 1;
			return 0;
		}
		http_bad_chunk(c, dir);   /* a line past its cap */
		return 0;
	}
	ll = (size_t)(nl - p);
	len = ll > 0 && p[ll - 1] == '\r' ? ll - 1 : ll;
	/* framing bytes count in the message's size, not its body's */
	if (d->state == HTTP_S_CHUNK_SIZE) {
		if (http_chunk_size(p, len, &sz) < 0 || sz >= HTTP_MAX_LEN) {
			http_bad_chunk(c, dir);
			return 0;
		}
		m->size += ll + 1;
		pb_txn_byte_time(c, dir, base + ll, &m->end_ns, &m->last_pkt);
		if (sz == 0) {
			/* last-chunk: trailer section follows */
			d->state = HTTP_S_TRAILER;
			d->trailer = 0;
		} else {
			d->state = HTTP_S_CHUNK_DATA;
			d->remain = sz;
		}
		return ll + 1;
	}
	/* trailer-section = *( field-line CRLF ), then CRLF */
	m->size += ll + 1;
	pb_txn_byte_time(c, dir, base + ll, &m->end_ns, &m->last_pkt);
	if (len == 0)
		http_done(c, dir, m);
	else
		d->trailer += ll + 1;
	return ll + 1;
}

/* The CRLF that ends chunk data (a bare LF is taken too). */
static size_t http_st_chunk_end(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
				size_t base, int *more)
{
	struct http_dir *d = http_d(c, dir);
	struct http_msg *m = d->cur;
	size_t k;

	/* n >= 1 here (parse never steps on no data) */
	if (p[0] == '\n') {
		k = 1;
	} else if (p[0] == '\r') {
		if (n < 2) {
			*more = 1;
			return 0;
		}
		if (p[1] != '\n') {
			http_bad_chunk(c, dir);
			return 0;
		}
		k = 2;
	} else {
		http_bad_chunk(c, dir);
		return 0;
	}
	m->size += k;
	pb_txn_byte_time(c, dir, base + k - 1, &m->end_ns, &m->last_pkt);
	d->state = HTTP_S_CHUNK_SIZE;
	return k;
}

/* One step in the state of dir: bytes consumed; *more when the step
 * needs more bytes than p[0..n). */
static size_t http_step(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n, size_t base,
			int *more)
{
	struct http_dir *d = http_d(c, dir);

	/* each state's reader consumes what it can of p; a reader that
	 * changes the state without consuming leaves p to the next one */
	switch (d->state) {
	case HTTP_S_START: {
		size_t used = http_st_start(c, dir, p, n, base, more);

		if (d->state != HTTP_S_START)
			d->have_first = 0;   /* left without a head */
		return used;
	}
	case HTTP_S_RESYNC:
		return http_st_resync(c, dir, p, n, more);
	case HTTP_S_BODY:
	case HTTP_S_BODY_CLOSE:
	case HTTP_S_CHUNK_DATA:
		return http_st_body(c, dir, p, n, base);
	case HTTP_S_CHUNK_SIZE:
	case HTTP_S_TRAILER:
		return http_st_chunk_line(c, dir, p, n, base, more);
	case HTTP_S_CHUNK_END:
		return http_st_chunk_end(c, dir, p, n, base, more);
	case HTTP_S_DEAD:
	default:
		return n;            /* not ours to read any more */
	}
}

/* ---------------------------------------------------------- callbacks */

/* transaction_timeout, in capture time */
static int64_t http_timeout(const struct pb_txn_conn *c)
{
	return c->common && c->common->timeout_ns > 0 ? c->common->timeout_ns
						      : PB_TXN_DEF_TIMEOUT_NS;
}

/* Requests not answered within transaction_timeout of their last byte
 * are written alone; not while a response is being read (it answers
 * the oldest). */
static void http_expire(struct pb_txn_conn *c, int64_t now_ns)
{
	int64_t to = http_timeout(c);
	int dir;

	if (!c->state)
		return;
	for (dir = 0; dir < 2; dir++) {
		struct http_dir *d = http_d(c, dir), *od = http_d(c, !dir);

		/* oldest first: once one is not due, none after it is */
		while (d->q) {
			if (od->cur && !od->cur->is_req)
				break;
			/* a clock going back (merged captures) expires nothing;
			 * the subtraction cannot overflow once now >= end */
			if (now_ns < d->q->end_ns || now_ns - d->q->end_ns < to)
				break;
			http_emit(c, http_pop(d), NULL);
		}
	}
}

/* parse(): the unconsumed bytes of dir.  Each step reads from off; the
 * loop ends when a step needs more bytes than there are, or all are
 * consumed.  What is returned unconsumed comes back with more after it. */
static size_t http_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct http_dir *d = http_d(c, dir);
	size_t off = 0;
	unsigned idle = 0;

	/* what timed out before these bytes is written before them */
	http_expire(c, c->now_ns);
	/* a direction whose SYN was not seen may start inside a message */
	if (d->state == HTTP_S_NEW)
		d->state = c->mid_stream[dir & 1] ? HTTP_S_RESYNC : HTTP_S_START;
	while (off < len) {
		int more = 0;
		size_t used = http_step(c, dir, data + off, len - off, off, &more);

		if (used > len - off)
			used = len - off;
		off += used;
		if (used > 0)
			d->lscan = d->line = d->scan = 0;   /* offsets moved */
		if (more)
			break;
		/* a state change that consumed nothing goes round again */
		if (used == 0 && ++idle > HTTP_MAX_IDLE)
			break;
		if (used > 0)
			idle = 0;
	}
	return off;
}

/* n bytes of dir were never captured (any bytes parse() had left
 * unconsumed are among them). */
static void http_gap(struct pb_txn_conn *c, int dir, uint64_t n)
{
	struct http_dir *d = http_d(c, dir);
	struct http_msg *m = d->cur;

	if (d->state == HTTP_S_DEAD)
		return;
	/* the unconsumed bytes are gone: resume points and the head's start
	 * time go with them */
	d->lscan = d->line = d->scan = 0;
	d->midline = 0;
	d->have_first = 0;
	if (!m) {
		struct http_dir *od = http_d(c, !dir);

		/* between messages or in a head: where the next one starts
		 * is unknown.  Responses come in order, so bytes lost there
		 * while requests wait held (at least the start of) the answer
		 * to the oldest: it goes out without one, and the next
		 * response read answers the next request, not this one. */
		if (od->q) {
			struct http_msg *rq = http_pop(od);

			rq->resp_lost = 1;
			http_emit(c, rq, NULL);
		}
		d->state = HTTP_S_RESYNC;
		return;
	}
	/* the message was in its body: it is noted, and keeps no more body
	 * (the kept bytes would have a hole) */
	m->loss = 1;
	m->body_lost = 1;
	switch (d->state) {
	case HTTP_S_BODY_CLOSE:
		/* the lost bytes were body: the close still ends it */
		m->size += n;
		m->body_bytes += n;
		return;
	case HTTP_S_BODY:
	case HTTP_S_CHUNK_DATA:
		/* a gap inside a body of known length is counted and the
		 * message goes on (Packetbeat does the same) */
		if (n < d->remain) {
			d->remain -= n;
			m->size += n;
			m->body_bytes += n;
			return;
		}
		/* the gap covers the rest of the body (or chunk), and maybe
		 * more: the body ends at its declared length */
		m->size += d->remain;
		m->body_bytes += d->remain;
		if (n == d->remain && d->state == HTTP_S_CHUNK_DATA) {
			d->remain = 0;
			d->state = HTTP_S_CHUNK_END;
			return;
		}
		if (n == d->remain) {
			d->remain = 0;
			http_done(c, dir, m);
			return;
		}
		d->remain = 0;
		break;
	default:
		break;               /* chunk framing lost */
	}
	/* the gap ran past the message: it ends, the next start is unknown */
	http_done(c, dir, m);
	if (d->state != HTTP_S_DEAD)
		d->state = HTTP_S_RESYNC;
}

/* The message being read in dir ends with the stream. */
static void http_finish(struct pb_txn_conn *c, int dir)
{
	struct http_dir *d = http_d(c, dir);
	struct http_msg *m = d->cur;

	if (!m)
		return;
	/* a body to the close, or a chunked body missing only its final
	 * CRLF, is whole; anything else was cut short */
	if (d->state != HTTP_S_BODY_CLOSE && d->state != HTTP_S_TRAILER)
		m->incomplete = 1;
	http_done(c, dir, m);
}

/* fin(): dir ended (FIN, or RST for both).  Pending requests stay: a
 * client that half-closes still gets its answers. */
static void http_fin(struct pb_txn_conn *c, int dir)
{
	if (c->state)
		http_finish(c, dir & 1);
}

/* close(): the conversation ended.  Messages being read are finished,
 * every request still waiting is written alone, and everything is
 * freed; the state is left zeroed, so a second close() writes nothing. */
static void http_close(struct pb_txn_conn *c)
{
	struct http_state *s = c->state;
	int dir, pass;

	if (!s)
		return;
	/* requests first, so a response read to the end finds its request */
	for (pass = 1; pass >= 0; pass--)
		for (dir = 0; dir < 2; dir++)
			if (s->d[dir].cur && s->d[dir].cur->is_req == pass)
				http_finish(c, dir);
	/* what no response closed, oldest first, direction 0 first */
	for (dir = 0; dir < 2; dir++) {
		struct http_msg *m;

		while ((m = http_pop(&s->d[dir])) != NULL)
			http_emit(c, m, NULL);
	}
	memset(s, 0, sizeof(*s));
}

/* Packetbeat's default HTTP ports */
static const uint16_t http_ports[] = { 80, 8080, 8000, 5000, 8002 };

/* The parser, as the registry (proto.c) lists it. */
/* the options of its own (pb_proto.keys) */
static const char *const http_keys[] = {
	"send_headers",
	"send_all_headers",
	"split_cookie",
	"real_ip_header",
	"include_body_for",
	"include_request_body_for",
	"include_response_body_for",
	"decode_body",
	"hide_keywords",
	"redact_authorization",
	"redact_headers",
	NULL
};

const struct pb_proto pb_proto_http = {
	.name = "http",
	.transports = PB_TP_TCP,
	.ports = http_ports,
	.n_ports = sizeof(http_ports) / sizeof(http_ports[0]),
	.conf_size = sizeof(struct http_conf),
	.conf_init = http_conf_init,
	.conf_load = http_conf_load,
	.state_size = sizeof(struct http_state),
	.parse = http_parse,
	.gap = http_gap,
	.fin = http_fin,
	.expire = http_expire,
	.close = http_close,
	.keys = http_keys,
};
