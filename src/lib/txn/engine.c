/*
 * engine.c - pb-txn's engine (engine.h): configuration of the protocols,
 * connections on top of the flow table, TCP reassembly wiring, dispatch
 * to the parsers, and the events.
 */
#include "txn/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/time.h"
#include "util/banned.h"

/* A flow no protocol follows: its user pointer, so the port lookup is
 * made once per flow. */
static char not_followed;

#define ONE_SECOND INT64_C(1000000000)

/* ------------------------------------------------------ configuration */

int pb_txn_conf_init(struct pb_txn_conf *tc)
{
	unsigned i, k;

	memset(tc, 0, sizeof(*tc));
	tc->max_ooo = PB_TXN_DEF_MAX_OOO;
	if (pb_n_protos > PB_TXN_MAX_PROTOS)
		return PB_EUSAGE;
	for (i = 0; i < pb_n_protos; i++) {
		const struct pb_proto *p = pb_protos[i];

		pb_proto_common_init(&tc->common[i], p);
		tc->pconf[i] = calloc(1, p->conf_size ? p->conf_size : 1);
		if (!tc->pconf[i])
			return PB_ENOMEM;
		if (p->conf_init)
			p->conf_init(tc->pconf[i]);
		for (k = 0; k < tc->common[i].n_ports; k++) {
			uint16_t port = tc->common[i].ports[k];

			if ((p->transports & PB_TP_TCP) && !tc->tcp_port[port])
				tc->tcp_port[port] = (uint8_t)(i + 1);
			if ((p->transports & PB_TP_UDP) && !tc->udp_port[port])
				tc->udp_port[port] = (uint8_t)(i + 1);
		}
		if ((p->transports & PB_TP_ICMP) && !tc->icmp)
			tc->icmp = (int)i + 1;
	}
	return 0;
}

void pb_txn_conf_release(struct pb_txn_conf *tc)
{
	unsigned i;

	for (i = 0; i < PB_TXN_MAX_PROTOS; i++) {
		free(tc->pconf[i]);
		tc->pconf[i] = NULL;
	}
}

static int proto_index(const struct pb_proto *p)
{
	unsigned i;

	for (i = 0; i < pb_n_protos; i++)
		if (pb_protos[i] == p)
			return (int)i;
	return -1;
}

/* ports: a list of numbers, or one number */
static int load_ports(struct pb_proto_common *pc, struct pb_conf *c, const char *path)
{
	const struct pb_conf_node *n = pb_conf_get(c, path), *k;
	char sub[300];
	int64_t v;
	unsigned i = 0;

	if (!n)
		return 0;
	if (n->kind == PB_CONF_MAP)
		return pb_conf_fail(c, path, "expected a list of ports");
	pc->n_ports = 0;
	for (k = n->kind == PB_CONF_SEQ ? n->child : n; k;
	     k = n->kind == PB_CONF_SEQ ? k->next : NULL, i++) {
		if (n->kind == PB_CONF_SEQ)
			snprintf(sub, sizeof(sub), "%s.%u", path, i);
		else
			snprintf(sub, sizeof(sub), "%s", path);
		if (k->kind != PB_CONF_SCALAR || pb_parse_int(k->value, &v) < 0 ||
		    v < 1 || v > 65535)
			return pb_conf_fail(c, sub, "expected a port number from 1 to 65535");
		if (pc->n_ports == PB_TXN_MAX_PORTS)
			return pb_conf_fail(c, path, "too many ports (at most 64)");
		pc->ports[pc->n_ports++] = (uint16_t)v;
	}
	return 0;
}

/* Warn about the keys of an entry that neither every protocol nor this
 * one has: a misspelt option would otherwise be silently ignored. */
static void check_keys(struct pb_conf *c, const char *prefix, const struct pb_proto *p)
{
	static const char *const common[] = {
		"type", "enabled", "ports", "send_request", "send_response",
		"transaction_timeout", "max_message_size",
		/* Beats' per-input keys, for pb-enrich */
		"fields", "fields_under_root", "tags", "index", "processors",
		"pipeline", "keep_null", NULL
	};
	const struct pb_conf_node *n = pb_conf_get(c, prefix), *k;
	const char *const *w;

	if (!n || n->kind != PB_CONF_MAP || !p->keys)
		return;
	for (k = n->child; k; k = k->next) {
		int known = 0;

		for (w = common; *w && !known; w++)
			known = strcmp(*w, k->key) == 0;
		for (w = p->keys; w && *w && !known; w++)
			known = strcmp(*w, k->key) == 0;
		if (!known)
			pb_warn("%s:%d: unknown setting '%s.%s' (ignored)", k->file, k->line,
				prefix, k->key);
	}
}

/* One protocol entry at prefix. */
static int load_entry(struct pb_txn_conf *tc, struct pb_conf *c, const char *prefix,
		      const char *type, uint8_t *seen)
{
	const struct pb_proto *p = pb_proto_find(type);
	struct pb_proto_common *pc;
	char path[256];
	uint64_t sz;
	int i;

	if (!p) {
		pb_warn("%s: protocol '%s' is not one pb-txn decodes; ignored",
			prefix, type);
		return 0;
	}
	i = proto_index(p);
	check_keys(c, prefix, p);
	if (seen[i]) {
		snprintf(path, sizeof(path), "%s.type", prefix);
		return pb_conf_fail(c, path, "this protocol is configured twice");
	}
	seen[i] = 1;
	pc = &tc->common[i];
#define KEY(k) (snprintf(path, sizeof(path), "%s.%s", prefix, k), path)
	if (pb_conf_bool(c, KEY("enabled"), &pc->enabled) < 0 ||
	    load_ports(pc, c, KEY("ports")) < 0 ||
	    pb_conf_bool(c, KEY("send_request"), &pc->send_request) < 0 ||
	    pb_conf_bool(c, KEY("send_response"), &pc->send_response) < 0 ||
	    pb_conf_duration(c, KEY("transaction_timeout"), &pc->timeout_ns) < 0)
		return -1;
	if (pc->timeout_ns < 1000000)
		return pb_conf_fail(c, KEY("transaction_timeout"),
				    "expected a duration of 1ms or more");
	sz = pc->max_message_size;
	if (pb_conf_size(c, KEY("max_message_size"), &sz) < 0)
		return -1;
	if (sz < 1024 || sz > (1u << 30))
		return pb_conf_fail(c, KEY("max_message_size"),
				    "expected a size from 1KiB to 1GiB");
	pc->max_message_size = sz;
#undef KEY
	if (p->conf_load && p->conf_load(tc->pconf[i], c, prefix) < 0)
		return -1;
	return 0;
}

/* Two protocols on one port of one transport cannot both have it. */
int pb_txn_conf_map(struct pb_txn_conf *tc, struct pb_conf *c)
{
	unsigned i, k;

	memset(tc->tcp_port, 0, sizeof(tc->tcp_port));
	memset(tc->udp_port, 0, sizeof(tc->udp_port));
	tc->icmp = 0;
	for (i = 0; i < pb_n_protos; i++) {
		const struct pb_proto *p = pb_protos[i];
		const struct pb_proto_common *pc = &tc->common[i];

		if (!pc->enabled)
			continue;
		if (p->transports & PB_TP_ICMP)
			tc->icmp = (int)i + 1;
		for (k = 0; k < pc->n_ports; k++) {
			uint16_t port = pc->ports[k];
			uint8_t *slots[2] = { tc->tcp_port + port, tc->udp_port + port };
			int tp[2] = { PB_TP_TCP, PB_TP_UDP }, j;

			for (j = 0; j < 2; j++) {
				if (!(p->transports & tp[j]))
					continue;
				if (*slots[j] && *slots[j] != i + 1) {
					char why[160];

					snprintf(why, sizeof(why),
						 "Duplicate port (%u) exists in %s and %s protocols",
						 port, pb_protos[*slots[j] - 1]->name, p->name);
					return pb_conf_fail(c, "packetbeat.protocols", why);
				}
				*slots[j] = (uint8_t)(i + 1);
			}
		}
	}
	return 0;
}

int pb_txn_conf_load(struct pb_txn_conf *tc, struct pb_conf *c)
{
	const struct pb_conf_node *n = pb_conf_get(c, "packetbeat.protocols"), *k;
	uint8_t seen[PB_TXN_MAX_PROTOS] = { 0 };
	char prefix[128], path[160];
	unsigned i;

	if (n) {
		tc->configured = 1;
		if (n->kind == PB_CONF_SEQ) {
			for (k = n->child, i = 0; k; k = k->next, i++) {
				const char *type = NULL;

				snprintf(prefix, sizeof(prefix), "packetbeat.protocols.%u", i);
				snprintf(path, sizeof(path), "%s.type", prefix);
				if (k->kind != PB_CONF_MAP)
					return pb_conf_fail(c, prefix, "expected a map with a type");
				if (pb_conf_str(c, path, &type) < 0)
					return -1;
				if (!type)
					return pb_conf_fail(c, prefix,
							    "missing type: every protocol needs one");
				if (load_entry(tc, c, prefix, type, seen) < 0)
					return -1;
			}
		} else if (n->kind == PB_CONF_MAP) {
			/* the older form: packetbeat.protocols.<name>: {...};
			 * or list entries made by -E packetbeat.protocols.N.key=... */
			for (k = n->child; k; k = k->next) {
				const char *type = k->key;

				snprintf(prefix, sizeof(prefix), "packetbeat.protocols.%s", k->key);
				if (k->kind != PB_CONF_MAP)
					return pb_conf_fail(c, prefix, "expected a map");
				if (k->key[0] && strspn(k->key, "0123456789") == strlen(k->key)) {
					snprintf(path, sizeof(path), "%s.type", prefix);
					type = NULL;
					if (pb_conf_str(c, path, &type) < 0)
						return -1;
					if (!type)
						return pb_conf_fail(c, prefix,
								    "missing type: every protocol needs one");
				}
				if (load_entry(tc, c, prefix, type, seen) < 0)
					return -1;
			}
		} else if (n->value && *n->value) {
			return pb_conf_fail(c, "packetbeat.protocols",
					    "expected a list of protocols");
		} /* else empty: no protocol */
		/* as in Packetbeat, a protocol not listed is not decoded */
		for (i = 0; i < pb_n_protos; i++)
			if (!seen[i])
				tc->common[i].enabled = 0;
	}
	return 0;
}

/* --------------------------------------------------------- connections */

static void sink_emit(void *arg, struct pb_txn_conn *c, const struct pb_txn *t)
{
	struct pb_txn_engine *e = arg;

	pb_txn_record(e->out, c, t, &e->ro);
	e->st.events++;
	if (e->done)
		e->done(e->ctx);
}

static size_t tcp_data(void *arg, int dir, const uint8_t *p, size_t n)
{
	struct pb_txn_conn *c = arg;
	struct pb_tcp *t = c->tcp;

	c->mid_stream[dir] = t->d[dir].mid_stream;
	return c->proto->parse ? c->proto->parse(c, dir, p, n) : n;
}

static void tcp_gap(void *arg, int dir, uint64_t n)
{
	struct pb_txn_conn *c = arg;

	c->st->gaps++;
	c->st->gap_bytes += n;
	if (c->proto->gap)
		c->proto->gap(c, dir, n);
}

static void tcp_fin(void *arg, int dir)
{
	struct pb_txn_conn *c = arg;

	if (c->proto->fin)
		c->proto->fin(c, dir);
}

static const struct pb_tcp_ops tcp_ops = { tcp_data, tcp_gap, tcp_fin };

/* Unlink a connection and free it with its reassembly and parser state. */
static void conn_free(struct pb_txn_engine *e, struct pb_txn_conn *c)
{
	if (c->tcp) {
		pb_tcp_release(c->tcp);
		free(c->tcp);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		e->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->state);
	free(c);
}

/* The conversation ended: what reassembly holds is delivered (after a gap
 * for any hole), the parser emits what is pending, and it goes. */
static void conn_close(struct pb_txn_engine *e, struct pb_txn_conn *c, int64_t when)
{
	if (when > c->now_ns)
		c->now_ns = when;
	if (c->tcp)
		pb_tcp_flush(c->tcp, &tcp_ops, c);
	if (c->proto->close)
		c->proto->close(c);
	conn_free(e, c);
}

static void on_flow(void *ctx, const struct pb_flow *f, int64_t when, enum pb_flow_why why)
{
	struct pb_txn_engine *e = ctx;

	if (why != PB_FLOW_INTERIM && f->user && f->user != &not_followed)
		conn_close(e, f->user, when);
	if (e->flows_out) {
		pb_flow_record(e->out, f, when, why, &e->fro);
		e->st.flow_events++;
		if (e->done)
			e->done(e->ctx);
	}
}

int pb_txn_engine_init(struct pb_txn_engine *e, const struct pb_txn_conf *tc,
		       const struct pb_flow_conf *fc, int flows_out,
		       struct pb_buf *out, void (*done)(void *ctx), void *ctx)
{
	int rc;

	memset(e, 0, sizeof(*e));
	e->conf = tc;
	e->flows_out = flows_out;
	e->out = out;
	e->done = done;
	e->ctx = ctx;
	e->sink.emit = sink_emit;
	e->sink.arg = e;
	e->clock = INT64_MIN;
	e->next_expire = INT64_MIN;
	rc = pb_flow_table_init(&e->ft, fc, on_flow, e);
	return rc;
}

void pb_txn_engine_release(struct pb_txn_engine *e)
{
	/* without pb_txn_finish() (an error): the parsers free what their
	 * states hold, and what they would emit goes nowhere */
	while (e->conns) {
		struct pb_txn_conn *c = e->conns;

		c->sink = NULL;
		if (c->proto->close)
			c->proto->close(c);
		conn_free(e, c);
	}
	pb_flow_table_release(&e->ft);
}

/* Which protocol follows this packet's conversation: by port, the
 * source's first as Packetbeat looks; ICMP by being ICMP. */
static int choose(const struct pb_txn_conf *tc, const struct pb_decoded *d)
{
	if (d->proto == 6 && d->has_ports && (d->layers & PB_LAYER_TCP))
		return tc->tcp_port[d->sport] ? tc->tcp_port[d->sport] : tc->tcp_port[d->dport];
	if (d->proto == 17 && d->has_ports && (d->layers & PB_LAYER_UDP))
		return tc->udp_port[d->sport] ? tc->udp_port[d->sport] : tc->udp_port[d->dport];
	if ((d->proto == 1 && (d->layers & PB_LAYER_ICMP)) ||
	    (d->proto == 58 && (d->layers & PB_LAYER_ICMP6)))
		return tc->icmp;
	return 0;
}

static struct pb_txn_conn *conn_new(struct pb_txn_engine *e, int pi,
				    const struct pb_packet *p, const struct pb_decoded *d)
{
	const struct pb_proto *pr = pb_protos[pi];
	const struct pb_proto_common *pc = &e->conf->common[pi];
	struct pb_txn_conn *c = calloc(1, sizeof(*c));
	int alen = d->ip_version == 4 ? 4 : 16;

	if (!c)
		return NULL;
	c->state = calloc(1, pr->state_size ? pr->state_size : 1);
	if (!c->state) {
		free(c);
		return NULL;
	}
	if (d->proto == 6) {
		c->tcp = malloc(sizeof(struct pb_tcp));
		if (!c->tcp) {
			free(c->state);
			free(c);
			return NULL;
		}
		/* never less than a TLS record or an HTTP head needs, however
		 * small max_message_size (which the parsers also apply to the
		 * message bodies they keep) */
		pb_tcp_init(c->tcp, (size_t)(pc->max_message_size > PB_TXN_MIN_BUFFER ?
					     pc->max_message_size : PB_TXN_MIN_BUFFER),
			    (size_t)e->conf->max_ooo, &e->tcp_st);
	}
	c->proto = pr;
	c->common = pc;
	c->conf = e->conf->pconf[pi];
	c->st = &e->pst[pi];
	c->transport = d->proto;
	c->family = d->ip_version == 4 ? 4 : 6;
	memcpy(c->addr[0], d->src_ip, (size_t)alen);
	memcpy(c->addr[1], d->dst_ip, (size_t)alen);
	if (d->has_ports) {
		c->port[0] = d->sport;
		c->port[1] = d->dport;
	}
	c->prec = p->ts.prec;
	c->sink = &e->sink;
	c->eng = e;
	c->next = e->conns;
	if (e->conns)
		e->conns->prev = c;
	e->conns = c;
	c->st->conns++;
	e->st.conns++;
	return c;
}

/* The direction of a packet: 0 when endpoint 0 sent it. */
static int packet_dir(const struct pb_txn_conn *c, const struct pb_decoded *d)
{
	int alen = c->family == 4 ? 4 : 16;

	if (memcmp(d->src_ip, c->addr[0], (size_t)alen) != 0)
		return 1;
	if (memcmp(d->dst_ip, c->addr[1], (size_t)alen) != 0)
		return 0;
	if (c->transport == 6 || c->transport == 17)
		return d->sport == c->port[0] && d->dport == c->port[1] ? 0 : 1;
	return 0;
}

static void expire_all(struct pb_txn_engine *e, int64_t now)
{
	struct pb_txn_conn *c, *next;

	for (c = e->conns; c; c = next) {
		next = c->next;
		if (c->proto->expire) {
			c->now_ns = now;
			c->proto->expire(c, now);
		}
	}
}

static int64_t plus_second(int64_t t)
{
	return t > INT64_MAX - ONE_SECOND ? INT64_MAX : t + ONE_SECOND;
}

static void tick(struct pb_txn_engine *e, int64_t now)
{
	if (now > e->clock)
		e->clock = now;
	if (e->next_expire == INT64_MIN) {
		e->next_expire = plus_second(e->clock);
	} else if (e->clock >= e->next_expire) {
		expire_all(e, e->clock);
		e->next_expire = plus_second(e->clock);
	}
}

/* A TCP segment to reassembly; with segment_bytes, in pieces of that
 * many bytes (a test of the parsers: the events must not change). */
static void tcp_packet(struct pb_txn_engine *e, struct pb_txn_conn *c, int dir,
		       const struct pb_decoded *d, uint64_t pkt)
{
	size_t len = d->has_payload ? d->payload_caplen : 0, off = 0, step;
	size_t wire = d->has_payload ? d->payload_len : 0;
	uint32_t seq = d->seq;
	uint16_t flags = d->tcp_flags;

	if (wire < len)
		wire = len;
	if (!e->segment_bytes || len <= e->segment_bytes) {
		pb_tcp_segment(c->tcp, dir, seq, d->ack, flags, d->payload, len, wire,
			       c->now_ns, pkt, &tcp_ops, c);
		return;
	}
	/* The acknowledgement goes with the last piece only: a whole segment's
	 * is acted on after its data (tcp.c), and a hole it closes in the
	 * other direction must be declared at the same point of the stream,
	 * or the parsers would see a different order of events. */
	if (flags & PB_TCP_SYN) {
		/* the SYN alone first; its data follows it */
		pb_tcp_segment(c->tcp, dir, seq, d->ack,
			       flags & (uint16_t)~(PB_TCP_FIN | PB_TCP_ACK),
			       NULL, 0, 0, c->now_ns, pkt, &tcp_ops, c);
		seq++;
		flags &= (uint16_t)~PB_TCP_SYN;
	}
	while (off < len) {
		uint16_t f = flags & (uint16_t)~(PB_TCP_FIN | PB_TCP_RST | PB_TCP_ACK);
		size_t w;

		step = len - off < e->segment_bytes ? len - off : e->segment_bytes;
		w = step;
		if (off + step == len) {
			f = flags;  /* FIN and RST with the last piece, */
			w += wire - len; /* and what the snapshot length cut */
		}
		pb_tcp_segment(c->tcp, dir, seq + (uint32_t)off, d->ack, f,
			       d->payload + off, step, w, c->now_ns, pkt, &tcp_ops, c);
		off += step;
	}
}

/* A SYN on a conversation whose connection has ended, or begun to end:
 * the same addresses and ports, a new connection, unless it is the first
 * connection's SYN again (a retransmission, or a capture that replays). */
static int tcp_reused(const struct pb_txn_conn *c, int dir, const struct pb_decoded *d)
{
	const struct pb_tcp *t = c->tcp;
	const struct pb_tcp_dir *td = &t->d[dir & 1];

	return (d->tcp_flags & (PB_TCP_SYN | PB_TCP_ACK)) == PB_TCP_SYN &&
	       !(td->syn_seen && td->isn == d->seq) &&
	       (t->d[0].fin_seen || t->d[1].fin_seen || t->d[0].ended || t->d[1].ended);
}

void pb_txn_packet(struct pb_txn_engine *e, const struct pb_packet *p,
		   const struct pb_decoded *d)
{
	struct pb_flow *f;
	struct pb_txn_conn *c;
	int64_t ts = pb_time_ns(&p->ts);
	int dir;

	e->st.packets++;
	f = pb_flow_packet(&e->ft, p, d);
	tick(e, ts);
	if (!f || f->user == &not_followed)
		return;
	c = f->user;
	if (!c) {
		int pi = choose(e->conf, d);

		if (pi == 0) {
			f->user = &not_followed;
			return;
		}
		c = conn_new(e, pi - 1, p, d);
		if (!c) {
			e->st.alloc_failed++;
			f->user = &not_followed;
			return;
		}
		f->user = c;
	}
	if (c->tcp && tcp_reused(c, packet_dir(c, d), d)) {
		int pi = (int)(c->st - e->pst);

		conn_close(e, c, ts);
		f->user = NULL;
		c = conn_new(e, pi, p, d);
		if (!c) {
			e->st.alloc_failed++;
			f->user = &not_followed;
			return;
		}
		f->user = c;
	}
	e->st.followed++;
	c->now_ns = ts > c->now_ns ? ts : c->now_ns;
	c->now_pkt = p->index;
	dir = packet_dir(c, d);
	if (c->tcp) {
		if (d->layers & PB_LAYER_TCP)
			tcp_packet(e, c, dir, d, p->index);
	} else if (c->transport == 17) {
		if (d->has_payload && c->proto->datagram) {
			c->wire_len = d->payload_len;
			c->proto->datagram(c, dir, d->payload, d->payload_caplen);
		}
	} else if (d->icmp_msg && c->proto->datagram) {
		c->wire_len = d->icmp_len;
		c->proto->datagram(c, dir, d->icmp_msg, d->icmp_caplen);
	}
}

void pb_txn_advance(struct pb_txn_engine *e, int64_t now_ns)
{
	pb_flow_advance(&e->ft, now_ns);
	tick(e, now_ns);
}

void pb_txn_finish(struct pb_txn_engine *e)
{
	if (e->clock != INT64_MIN)
		expire_all(e, e->clock);
	pb_flow_finish(&e->ft);
}
