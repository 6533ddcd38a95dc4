/*
 * txnharness.h - drive one protocol parser as the engine would, without
 * packets: a connection between 10.0.0.1 (endpoint 0) and 10.0.0.2
 * (endpoint 1), TCP bytes buffered and handed over as the engine does
 * (unconsumed bytes given again with more after them), and every event
 * rendered by pb_txn_record() into a line the test can read with cJSON.
 */
#ifndef PB_TXNHARNESS_H
#define PB_TXNHARNESS_H

#include <check.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "event/txn_record.h"
#include "proto/proto.h"
#include "util/buf.h"

#define TH_MAX_EVENTS 256
#define TH_MAX_BUF (1u << 20)

struct th {
	struct pb_txn_conn c;
	struct pb_proto_common common;
	struct pb_proto_stats st;
	struct pb_txn_sink sink;
	void *conf;
	uint8_t *buf[2];              /* unconsumed bytes per direction */
	size_t len[2];
	char *ev[TH_MAX_EVENTS];      /* rendered events, one line each */
	unsigned n_ev;
};

static void th_emit(void *arg, struct pb_txn_conn *c, const struct pb_txn *t)
{
	struct th *h = arg;
	struct pb_buf b;

	pb_buf_init(&b, 64u << 20);
	pb_txn_record(&b, c, t, NULL);
	if (h->n_ev < TH_MAX_EVENTS) {
		h->ev[h->n_ev] = malloc(b.len + 1);
		memcpy(h->ev[h->n_ev], b.data, b.len);
		h->ev[h->n_ev][b.len] = 0;
		h->n_ev++;
	}
	pb_buf_release(&b);
}

/* transport: 6, 17, 1 or 58.  The protocol's defaults; change h->conf
 * (its own options) and h->common before the first call if needed. */
static inline struct th *th_new(const struct pb_proto *p, uint8_t transport,
				uint16_t port0, uint16_t port1)
{
	struct th *h = calloc(1, sizeof(*h));

	pb_proto_common_init(&h->common, p);
	h->conf = calloc(1, p->conf_size ? p->conf_size : 1);
	if (p->conf_init)
		p->conf_init(h->conf);
	h->sink.emit = th_emit;
	h->sink.arg = h;
	h->c.proto = p;
	h->c.common = &h->common;
	h->c.conf = h->conf;
	h->c.st = &h->st;
	h->c.state = calloc(1, p->state_size ? p->state_size : 1);
	h->c.transport = transport;
	h->c.family = 4;
	h->c.addr[0][0] = 10; h->c.addr[0][3] = 1;
	h->c.addr[1][0] = 10; h->c.addr[1][3] = 2;
	h->c.port[0] = port0;
	h->c.port[1] = port1;
	h->c.prec = 6;
	h->c.sink = &h->sink;
	h->c.now_ns = 1700000000LL * 1000000000LL;
	h->c.now_pkt = 1;
	return h;
}

/* the clock: every call below is one packet, one microsecond later */
static inline void th_tick(struct th *h)
{
	h->c.now_ns += 1000;
	h->c.now_pkt++;
}

/* TCP bytes of dir, as one segment */
static inline void th_tcp(struct th *h, int dir, const void *data, size_t n)
{
	size_t used;

	th_tick(h);
	if (h->len[dir] + n > TH_MAX_BUF)
		n = TH_MAX_BUF - h->len[dir];
	h->buf[dir] = realloc(h->buf[dir], h->len[dir] + n + 1);
	memcpy(h->buf[dir] + h->len[dir], data, n);
	h->len[dir] += n;
	do {
		used = h->c.proto->parse(&h->c, dir, h->buf[dir], h->len[dir]);
		if (used > h->len[dir])
			used = h->len[dir];
		memmove(h->buf[dir], h->buf[dir] + used, h->len[dir] - used);
		h->len[dir] -= used;
	} while (used > 0 && h->len[dir] > 0);
}

/* the same bytes, one segment per `step` bytes */
static inline void th_tcp_split(struct th *h, int dir, const void *data, size_t n,
				size_t step)
{
	size_t i;

	for (i = 0; i < n; i += step)
		th_tcp(h, dir, (const uint8_t *)data + i, n - i < step ? n - i : step);
}

static inline void th_gap(struct th *h, int dir, uint64_t n)
{
	th_tick(h);
	n += h->len[dir];
	h->len[dir] = 0;
	if (h->c.proto->gap)
		h->c.proto->gap(&h->c, dir, n);
}

static inline void th_fin(struct th *h, int dir)
{
	th_tick(h);
	if (h->c.proto->fin)
		h->c.proto->fin(&h->c, dir);
}

static inline void th_datagram(struct th *h, int dir, const void *data, size_t n)
{
	th_tick(h);
	h->c.proto->datagram(&h->c, dir, data, n);
}

/* move the clock by ns and let the parser expire what is due */
static inline void th_expire(struct th *h, int64_t ns)
{
	h->c.now_ns += ns;
	if (h->c.proto->expire)
		h->c.proto->expire(&h->c, h->c.now_ns);
}

static inline void th_close(struct th *h)
{
	if (h->c.proto->close)
		h->c.proto->close(&h->c);
}

static inline void th_free(struct th *h)
{
	unsigned i;

	th_close(h);
	for (i = 0; i < h->n_ev; i++)
		free(h->ev[i]);
	free(h->buf[0]);
	free(h->buf[1]);
	free(h->c.state);
	free(h->conf);
	free(h);
}

/* event i parsed (cJSON_Delete it), or NULL */
static inline cJSON *th_event(struct th *h, unsigned i)
{
	return i < h->n_ev ? cJSON_Parse(h->ev[i]) : NULL;
}

/* a field by dotted path ("http.response.status_code"), or NULL */
static inline const cJSON *th_get(const cJSON *o, const char *path)
{
	char part[128];

	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = 0;
		o = cJSON_GetObjectItemCaseSensitive(o, part);
		path += n + (dot != NULL);
	}
	return o;
}

static inline const char *th_str(const cJSON *o, const char *path)
{
	const cJSON *v = th_get(o, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static inline double th_num(const cJSON *o, const char *path)
{
	const cJSON *v = th_get(o, path);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* error.message (one string, or a list of them) holds note: the whole
 * of one when exact, else within one */
static inline int th_has_note(const cJSON *e, const char *note, int exact)
{
	const cJSON *m = th_get(e, "error.message"), *x;

	if (cJSON_IsString(m))
		return exact ? strcmp(m->valuestring, note) == 0
			     : strstr(m->valuestring, note) != NULL;
	cJSON_ArrayForEach(x, m)
		if (cJSON_IsString(x) && (exact ? strcmp(x->valuestring, note) == 0
						: strstr(x->valuestring, note) != NULL))
			return 1;
	return 0;
}

/* The protocol's own options from a YAML entry, loaded as the engine
 * loads them ("packetbeat.protocols.0"); failing to load fails the test. */
static inline void th_load_conf(struct th *h, const char *yaml)
{
	struct pb_conf c;

	ck_assert_int_eq(pb_conf_init(&c), 0);
	ck_assert_int_eq(pb_conf_load_string(&c, "t.yml", yaml), 0);
	ck_assert_msg(h->c.proto->conf_load(h->conf, &c, "packetbeat.protocols.0") == 0,
		      "conf_load: %s", c.err);
	pb_conf_release(&c);
}

/* What conf_load() of protocol p returns for a YAML entry (0 or -1). */
static inline int th_conf_rc(const struct pb_proto *p, const char *yaml)
{
	struct th *h = th_new(p, 6, 40000, p->n_ports ? p->ports[0] : 1);
	struct pb_conf c;
	int rc;

	ck_assert_int_eq(pb_conf_init(&c), 0);
	ck_assert_int_eq(pb_conf_load_string(&c, "t.yml", yaml), 0);
	rc = h->c.proto->conf_load(h->conf, &c, "packetbeat.protocols.0");
	pb_conf_release(&c);
	th_free(h);
	return rc;
}

/* Text from the client (endpoint 0) or the server (endpoint 1). */
static inline void th_cli_s(struct th *h, const char *s)
{
	th_tcp(h, 0, s, strlen(s));
}

static inline void th_srv_s(struct th *h, const char *s)
{
	th_tcp(h, 1, s, strlen(s));
}

/* Event i, which must be there. */
static inline cJSON *th_ev(struct th *h, unsigned i)
{
	cJSON *e = th_event(h, i);

	ck_assert_msg(e != NULL, "no event %u (have %u)", i, h->n_ev);
	return e;
}

/* A field of an event is the string or the number wanted, or is absent. */
#define th_ck_str(e, path, want) do { \
	const char *got_ = th_str((e), (path)); \
	ck_assert_msg(got_ && strcmp(got_, (want)) == 0, "%s: got '%s', want '%s'", \
		      (path), got_ ? got_ : "(absent)", (want)); \
} while (0)

#define th_ck_num(e, path, want) do { \
	double got_ = th_num((e), (path)); \
	ck_assert_msg(got_ == (double)(want), "%s: got %.0f, want %.0f", (path), got_, \
		      (double)(want)); \
} while (0)

/* error.message holds note, whole (th_ck_note) or within a note
 * (th_ck_note_in). */
#define th_ck_note(e, note) \
	ck_assert_msg(th_has_note((e), (note), 1), "note '%s' missing", (note))
#define th_ck_note_in(e, note) \
	ck_assert_msg(th_has_note((e), (note), 0), "note '%s' missing", (note))

#define th_ck_absent(e, path) \
	ck_assert_msg(th_get((e), (path)) == NULL, "%s should be absent", (path))

#endif
