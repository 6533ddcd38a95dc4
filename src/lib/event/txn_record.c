/*
 * txn_record.c - one transaction event (txn_record.h).
 *
 * Key order is fixed (pb-ndjson(5)): @timestamp, type, event, status,
 * method, query, resource, path, client, server, source, destination,
 * network, related, the protocol's objects, request, response, error, pb.
 * The client is the source and the server the destination, as Packetbeat
 * writes them.
 */
#include "event/txn_record.h"

#include <string.h>

#include "decode/decode.h"
#include "event/ecs.h"
#include "util/community_id.h"
#include "util/json.h"
#include "util/time.h"
#include "util/banned.h"

/* An optional string under a literal key (its length known at compile
 * time: no strlen per event). */
#define opt_str(j, lit, v) opt_strn((j), "" lit "", sizeof(lit) - 1, (v))

static void opt_strn(struct pb_json *j, const char *key, size_t klen, const char *v)
{
	if (!v)
		return;
	pb_json_keyn(j, key, klen);
	pb_json_cstr(j, v);
}

/* An endpoint object; its address was formatted once by the caller, as
 * the same two addresses are written four times and in related.ip. */
static void endpoint(struct pb_json *j, const char *name, size_t nlen,
		     const struct pb_txn_conn *c, int e, const char *ip, size_t iplen,
		     int bytes, uint64_t nbytes, const char *domain)
{
	/* "name":{"ip":"..","port":N,"bytes":N: one run of known size */
	char *p = pb_json_room(j, nlen + iplen + 2 * PB_JSON_U64_MAX + 40);

	if (p) {
		p = pb_json_put_sep(j, p);
		*p++ = '"';
		p = pb_json_put(p, name, nlen);
		p = pb_json_putlit(p, "\":{\"ip\":\"");
		p = pb_json_put(p, ip, iplen);
		*p++ = '"';
		if (c->transport == 6 || c->transport == 17) {
			p = pb_json_putlit(p, ",\"port\":");
			p = pb_json_put_u64(p, c->port[e]);
		}
		if (bytes) {
			p = pb_json_putlit(p, ",\"bytes\":");
			p = pb_json_put_u64(p, nbytes);
		}
		pb_json_done(j, p, 1);
	}
	opt_str(j, "domain", domain);
	pb_json_obj_end(j);
}

/* The length of a short name (a protocol's): counted in place, cheaper
 * than a call for a few bytes. */
static size_t short_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* A time as pb_ecs_time_ns() writes it, into s (PB_TIME_MAXLEN bytes),
 * so a time written twice is formatted once. */
static size_t time_text(char *s, int64_t ns, int prec)
{
	struct pb_time t;
	int64_t sec = ns / 1000000000, rem = ns % 1000000000;

	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	t.sec = sec;
	t.nsec = (uint32_t)rem;
	t.prec = (uint8_t)prec;
	return pb_time_format(s, &t);
}

/*
 * The Community ID of ft with seed, remembering the last ones computed
 * (a small table indexed by a hash of the key): a conversation's events
 * share it, conversations interleave, and a SHA-1 through EVP costs more
 * than the rest of a small event.  The key is every input the hash reads
 * (pb_community_id() depends on nothing else); thread-local, as that
 * function's own context is.  About 4 KB, never grown.
 */
#define CID_MEMO_SLOTS 64
/* alen, proto, has_ports, sport, dport, seed, then the addresses */
#define CID_KEY_LEN (9 + 2 * 16)

struct cid_memo {
	int valid;
	uint8_t key[CID_KEY_LEN];
	char cid[PB_COMMUNITY_ID_LEN + 1];
};

/* Two keys alike, compared eight bytes at a time in place (a memcmp call
 * costs more than the compare for 41 bytes). */
static int memo_key_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t x, y, diff = 0;
	size_t i;

	for (i = 0; i + 8 <= CID_KEY_LEN; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		diff |= x ^ y;
	}
	return diff == 0 && a[CID_KEY_LEN - 1] == b[CID_KEY_LEN - 1];
}

static int community_id_memo(char *out, const struct pb_flow_tuple *ft, uint16_t seed)
{
	static __thread struct cid_memo memos[CID_MEMO_SLOTS];
	struct cid_memo *memo;
	uint8_t key[CID_KEY_LEN];
	size_t alen = ft->alen <= 16 ? ft->alen : 16, i;
	uint64_t h = 0, w;

	memset(key, 0, sizeof(key));
	key[0] = ft->alen;
	key[1] = ft->proto;
	key[2] = ft->has_ports;
	key[3] = (uint8_t)(ft->sport >> 8);
	key[4] = (uint8_t)ft->sport;
	key[5] = (uint8_t)(ft->dport >> 8);
	key[6] = (uint8_t)ft->dport;
	key[7] = (uint8_t)(seed >> 8);
	key[8] = (uint8_t)seed;
	memcpy(key + 9, ft->saddr, alen);
	memcpy(key + 9 + 16, ft->daddr, alen);
	/* a multiplicative hash, eight bytes at a time (the last byte
	 * alone) */
	for (i = 0; i + 8 <= sizeof(key); i += 8) {
		memcpy(&w, key + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15u;
	}
	h = (h ^ key[sizeof(key) - 1]) * 0x9e3779b97f4a7c15u;
	memo = &memos[(h >> 32) % CID_MEMO_SLOTS];
	if (memo->valid && memo_key_eq(memo->key, key)) {
		memcpy(out, memo->cid, sizeof(memo->cid));
		return 0;
	}
	/* a failure is not remembered: the next event tries again */
	memo->valid = 0;
	if (pb_community_id(out, ft, seed) != 0)
		return -1;
	memcpy(memo->key, key, sizeof(key));
	memcpy(memo->cid, out, sizeof(memo->cid));
	memo->valid = 1;
	return 0;
}

static int community_id(char *out, const struct pb_txn_conn *c, const struct pb_txn *t,
			uint16_t seed)
{
	struct pb_flow_tuple ft;
	int cl = t->client & 1;

	memset(&ft, 0, sizeof(ft));
	ft.saddr = c->addr[cl];
	ft.daddr = c->addr[!cl];
	ft.alen = c->family == 4 ? 4 : 16;
	ft.proto = c->transport;
	if (c->transport == 6 || c->transport == 17) {
		ft.has_ports = 1;
		ft.sport = c->port[cl];
		ft.dport = c->port[!cl];
	} else if (t->has_icmp) {
		ft.has_ports = 1;
		ft.sport = t->icmp_type;
		ft.dport = t->icmp_code;
	}
	return community_id_memo(out, &ft, seed);
}

void pb_txn_record(struct pb_buf *out, const struct pb_txn_conn *c,
		   const struct pb_txn *t, const struct pb_txn_record_opts *o)
{
	int cl = t->client & 1, bytes = !t->no_bytes;
	/* the protocol's name is one of the registry's, plain ASCII: written
	 * without the escaping pass */
	const char *name = c->proto->name;
	size_t name_len = short_len(name);
	char cid[PB_COMMUNITY_ID_LEN + 1];
	const char *tname = pb_ip_proto_name(c->transport);
	size_t tname_len;
	char ts[PB_TIME_MAXLEN];
	size_t ts_len = time_text(ts, t->start_ns, c->prec);
	/* the two endpoints' addresses, each written three times */
	int alen = c->family == 4 ? 4 : 16;
	char ipc[48], ips[48];
	size_t ipc_len = pb_format_ip(ipc, c->addr[cl], alen);
	size_t ips_len = pb_format_ip(ips, c->addr[!cl], alen);
	unsigned i;
	struct pb_json j;
	char *p;

	pb_json_init(&j, out);
	/* the fixed head up to the end of the event object, written in one
	 * run: every piece is a literal, the protocol's name, a time or a
	 * number (sizes: three times, two names, the literals, a number) */
	p = pb_json_room(&j, 3 * PB_TIME_MAXLEN + 2 * name_len + PB_JSON_U64_MAX + 256);
	if (p) {
		p = pb_json_put_sep(&j, p);
		p = pb_json_putlit(p, "{\"@timestamp\":\"");
		p = pb_json_put(p, ts, ts_len);
		p = pb_json_putlit(p, "\",\"type\":\"");
		p = pb_json_put(p, name, name_len);
		p = pb_json_putlit(p, "\",\"event\":{\"kind\":\"event\",\"category\":[\"network\"],"
				   "\"type\":[\"connection\"");
		if (!t->event_type_connection_only)
			p = pb_json_putlit(p, ",\"protocol\"");
		p = pb_json_putlit(p, "],\"dataset\":\"");
		p = pb_json_put(p, name, name_len);
		p = pb_json_putlit(p, "\",\"start\":\"");
		p = pb_json_put(p, ts, ts_len);
		*p++ = '"';
		/* the end and the duration come with a response, as Packetbeat
		 * sets them: a lone request has neither (a lone response ends
		 * where it starts) */
		if (t->has_response) {
			p = pb_json_putlit(p, ",\"end\":\"");
			if (t->end_ns != t->start_ns)
				ts_len = time_text(ts, t->end_ns, c->prec);
			p = pb_json_put(p, ts, ts_len);
			*p++ = '"';
			if (t->end_ns >= t->start_ns) {
				p = pb_json_putlit(p, ",\"duration\":");
				p = pb_json_put_i64(p, t->end_ns - t->start_ns);
			}
		}
		pb_json_done(&j, p, 1);
		/* event.action and event.outcome, for the protocols that set
		 * them, escaped as any text from the input */
		opt_str(&j, "action", t->action);
		opt_str(&j, "outcome", t->outcome);
		pb_json_obj_end(&j);
	}

	opt_str(&j, "status", t->status);
	opt_str(&j, "method", t->method);
	opt_str(&j, "query", t->query);
	opt_str(&j, "resource", t->resource);
	opt_str(&j, "path", t->path);

	endpoint(&j, "client", 6, c, cl, ipc, ipc_len, bytes, t->request_bytes, NULL);
	endpoint(&j, "server", 6, c, !cl, ips, ips_len, bytes, t->response_bytes,
		 t->server_domain);
	endpoint(&j, "source", 6, c, cl, ipc, ipc_len, bytes, t->request_bytes, NULL);
	endpoint(&j, "destination", 11, c, !cl, ips, ips_len, bytes, t->response_bytes,
		 t->server_domain);

	/* network up to its optional forwarded_ip, in one run */
	tname_len = tname ? short_len(tname) : 0;
	p = pb_json_room(&j, name_len + tname_len + PB_JSON_U64_MAX + PB_COMMUNITY_ID_LEN + 160);
	if (p) {
		p = pb_json_put_sep(&j, p);
		p = pb_json_putlit(p, "\"network\":{\"type\":\"");
		p = pb_json_put(p, c->family == 4 ? "ipv4" : "ipv6", 4);
		*p++ = '"';
		if (tname) {
			p = pb_json_putlit(p, ",\"transport\":\"");
			p = pb_json_put(p, tname, tname_len);
			*p++ = '"';
		}
		/* the IANA number as a string, as pb_ecs_iana_number() has it */
		p = pb_json_putlit(p, ",\"iana_number\":\"");
		p = pb_json_put_u64(p, c->transport);
		p = pb_json_putlit(p, "\",\"protocol\":\"");
		p = pb_json_put(p, name, name_len);
		*p++ = '"';
		if (bytes) {
			p = pb_json_putlit(p, ",\"bytes\":");
			p = pb_json_put_u64(p, t->request_bytes + t->response_bytes);
		}
		if (community_id(cid, c, t, o ? o->cid_seed : 0) == 0) {
			p = pb_json_putlit(p, ",\"community_id\":\"");
			p = pb_json_put(p, cid, PB_COMMUNITY_ID_LEN);
			*p++ = '"';
		}
		pb_json_done(&j, p, 1);
	}
	opt_str(&j, "forwarded_ip", t->forwarded_ip);
	pb_json_obj_end(&j);

	/* related.ip: both endpoints, then the protocol's addresses (each at
	 * most 46 characters, quoted, after a comma) */
	p = pb_json_room(&j, 20 + (2 + PB_TXN_MAX_RELATED) * 50);
	if (p) {
		p = pb_json_put_sep(&j, p);
		p = pb_json_putlit(p, "\"related\":{\"ip\":[\"");
		p = pb_json_put(p, ipc, ipc_len);
		*p++ = '"';
		if (memcmp(c->addr[0], c->addr[1], (size_t)alen) != 0) {
			p = pb_json_putlit(p, ",\"");
			p = pb_json_put(p, ips, ips_len);
			*p++ = '"';
		}
		for (i = 0; i < t->n_related && i < PB_TXN_MAX_RELATED; i++) {
			int len = t->related_len[i];

			/* the endpoints are there already */
			if (len == alen && (memcmp(t->related[i], c->addr[0], (size_t)len) == 0 ||
					    memcmp(t->related[i], c->addr[1], (size_t)len) == 0))
				continue;
			p = pb_json_putlit(p, ",\"");
			p += pb_format_ip(p, t->related[i], len);
			*p++ = '"';
		}
		*p++ = ']';
		pb_json_done(&j, p, 1);
	}
	if (t->n_hosts) {
		pb_json_key(&j, "hosts");
		pb_json_arr(&j);
		for (i = 0; i < t->n_hosts && i < PB_TXN_MAX_HOSTS; i++)
			pb_json_cstr(&j, t->hosts[i]);
		pb_json_arr_end(&j);
	}
	pb_json_obj_end(&j);

	if (t->write)
		t->write(&j, t, t->arg);

	if (t->request && c->common && c->common->send_request) {
		pb_json_key(&j, "request");
		pb_json_str(&j, t->request, t->request_len);
	}
	if (t->response && c->common && c->common->send_response) {
		pb_json_key(&j, "response");
		pb_json_str(&j, t->response, t->response_len);
	}
	if (t->n_notes) {
		pb_json_key(&j, "error");
		pb_json_obj(&j);
		pb_json_key(&j, "message");
		if (t->n_notes == 1) {
			pb_json_cstr(&j, t->notes[0]);
		} else {
			pb_json_arr(&j);
			for (i = 0; i < t->n_notes && i < PB_TXN_MAX_NOTES; i++)
				pb_json_cstr(&j, t->notes[i]);
			pb_json_arr_end(&j);
		}
		pb_json_obj_end(&j);
	}

	/* the packet numbers, the closing braces and the newline */
	p = pb_json_room(&j, 2 * PB_JSON_U64_MAX + 40);
	if (p) {
		p = pb_json_put_sep(&j, p);
		p = pb_json_putlit(p, "\"pb\":{\"packet\":{\"first\":");
		p = pb_json_put_u64(p, t->first_pkt);
		p = pb_json_putlit(p, ",\"last\":");
		p = pb_json_put_u64(p, t->last_pkt);
		p = pb_json_putlit(p, "}}}\n");
		pb_json_done(&j, p, 1);
	}
}
