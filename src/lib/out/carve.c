/*
 * carve.c - which packets belong to the selected events (see carve.h).
 *
 * The events are few next to the packets, so they go into a hash table
 * keyed by their conversation (transport and both ends, the lower end
 * first), and each packet costs one lookup, two when events without
 * ports are selected too.
 */
#include "out/carve.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "out/doc.h"
#include "pb.h"
#include "util/banned.h"

struct key {
	uint8_t a[16], b[16];    /* addresses, IPv4 in the first 4 bytes */
	uint16_t pa, pb;         /* ports (0 when none) */
	uint8_t alen, proto;     /* proto 0: any */
};

struct entry {
	struct key k;
	int by_index;            /* range of packet numbers, else of times */
	int64_t lo, hi;
	uint32_t next;           /* next in the bucket, or UINT32_MAX */
};

struct pb_carve {
	struct entry *e;
	uint32_t n, cap;
	uint32_t *buckets;
	uint32_t nb;             /* a power of two */
	int any_portless;        /* some events have no ports */
};

#define NONE UINT32_MAX

static uint32_t hash(const struct key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Both ends in a fixed order, so either direction finds the key. */
static void key_make(struct key *k, const uint8_t *sa, uint16_t sp, const uint8_t *da,
		     uint16_t dp, uint8_t alen, uint8_t proto)
{
	int c = memcmp(sa, da, alen);

	memset(k, 0, sizeof(*k));
	k->alen = alen;
	k->proto = proto;
	if (c < 0 || (c == 0 && sp <= dp)) {
		memcpy(k->a, sa, alen);
		memcpy(k->b, da, alen);
		k->pa = sp;
		k->pb = dp;
	} else {
		memcpy(k->a, da, alen);
		memcpy(k->b, sa, alen);
		k->pa = dp;
		k->pb = sp;
	}
}

struct pb_carve *pb_carve_new(void)
{
	return calloc(1, sizeof(struct pb_carve));
}

void pb_carve_free(struct pb_carve *c)
{
	if (!c)
		return;
	free(c->e);
	free(c->buckets);
	free(c);
}

uint64_t pb_carve_count(const struct pb_carve *c)
{
	return c->n;
}

static int rehash(struct pb_carve *c, uint32_t nb)
{
	uint32_t *b = malloc(nb * sizeof(*b)), i;

	if (!b)
		return PB_ENOMEM;
	for (i = 0; i < nb; i++)
		b[i] = NONE;
	for (i = 0; i < c->n; i++) {
		uint32_t h = hash(&c->e[i].k) & (nb - 1);

		c->e[i].next = b[h];
		b[h] = i;
	}
	free(c->buckets);
	c->buckets = b;
	c->nb = nb;
	return 0;
}

static int parse_ip(const char *s, uint8_t *out, uint8_t *len)
{
	if (!s)
		return -1;
	if (inet_pton(AF_INET, s, out) == 1) {
		*len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*len = 16;
		return 0;
	}
	return -1;
}

static const struct {
	const char *name;
	uint8_t proto;
} transports[] = {
	{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "ipv6-icmp", 58 },
	{ "icmpv6", 58 }, { "sctp", 132 }, { "udplite", 136 }, { "gre", 47 },
};

static int64_t time_of(const cJSON *ev, const char *path)
{
	const char *s = pb_out_str(ev, path);
	struct pb_time t;

	if (!s || pb_time_parse(s, strlen(s), &t) < 0)
		return -1;
	return pb_time_ns(&t);
}

int pb_carve_add(struct pb_carve *c, const cJSON *ev, const char **why)
{
	uint8_t sa[16], da[16], slen = 0, dlen = 0, proto = 0;
	int64_t sp = 0, dp = 0, first, last, x;
	const char *tr;
	struct entry *e;
	uint32_t h;
	size_t i;

	if (parse_ip(pb_out_str(ev, "source.ip"), sa, &slen) < 0 &&
	    parse_ip(pb_out_str(ev, "client.ip"), sa, &slen) < 0) {
		*why = "no source.ip or client.ip";
		return PB_EINVAL;
	}
	if ((parse_ip(pb_out_str(ev, "destination.ip"), da, &dlen) < 0 &&
	     parse_ip(pb_out_str(ev, "server.ip"), da, &dlen) < 0) || dlen != slen) {
		*why = "no destination.ip or server.ip of the source's family";
		return PB_EINVAL;
	}
	if (!pb_out_int(ev, "source.port", &sp))
		pb_out_int(ev, "client.port", &sp);
	if (!pb_out_int(ev, "destination.port", &dp))
		pb_out_int(ev, "server.port", &dp);
	if (sp < 0 || sp > 65535 || dp < 0 || dp > 65535)
		sp = dp = 0;
	tr = pb_out_str(ev, "network.transport");
	for (i = 0; tr && i < sizeof(transports) / sizeof(transports[0]); i++)
		if (!strcmp(tr, transports[i].name))
			proto = transports[i].proto;
	if (!proto && pb_out_int(ev, "network.iana_number", &x) && x > 0 && x < 256)
		proto = (uint8_t)x;
	if (c->n == PB_CARVE_MAX) {
		*why = "too many events to select by";
		return PB_ETOOBIG;
	}
	if (c->n == c->cap) {
		uint32_t nc = c->cap ? c->cap * 2 : 1024;
		struct entry *ne = realloc(c->e, nc * sizeof(*ne));

		if (!ne)
			return PB_ENOMEM;
		c->e = ne;
		c->cap = nc;
	}
	e = &c->e[c->n];
	key_make(&e->k, sa, (uint16_t)sp, da, (uint16_t)dp, slen, proto);
	if (!sp && !dp)
		c->any_portless = 1;
	if (pb_out_int(ev, "pb.packet.first", &first) && first > 0) {
		e->by_index = 1;
		e->lo = first;
		e->hi = pb_out_int(ev, "pb.packet.last", &last) && last >= first ? last : first;
	} else {
		e->by_index = 0;
		e->lo = time_of(ev, "event.start");
		if (e->lo < 0)
			e->lo = time_of(ev, "@timestamp");
		e->hi = time_of(ev, "event.end");
		if (e->hi < e->lo)
			e->hi = e->lo;
		if (e->lo < 0) {
			*why = "no packet numbers (pb.packet.first) and no time";
			return PB_EINVAL;
		}
	}
	c->n++;
	if (c->n > c->nb / 2) {
		if (rehash(c, c->nb ? c->nb * 2 : 2048) < 0) {
			c->n--;
			return PB_ENOMEM;
		}
	} else {
		h = hash(&e->k) & (c->nb - 1);
		e->next = c->buckets[h];
		c->buckets[h] = c->n - 1;
	}
	return 0;
}

static int in_range(const struct entry *e, const struct pb_packet *p)
{
	int64_t v = e->by_index ? (int64_t)p->index : pb_time_ns(&p->ts);

	return v >= e->lo && v <= e->hi;
}

static int lookup(const struct pb_carve *c, const struct key *k, const struct pb_packet *p)
{
	uint32_t i;

	for (i = c->buckets[hash(k) & (c->nb - 1)]; i != NONE; i = c->e[i].next)
		if (!memcmp(&c->e[i].k, k, sizeof(*k)) && in_range(&c->e[i], p))
			return 1;
	return 0;
}

int pb_carve_match(const struct pb_carve *c, const struct pb_packet *p,
		   const struct pb_decoded *d)
{
	struct key k;
	uint32_t i;

	if (!c->n || !d->src_ip || !d->dst_ip || !d->has_proto)
		return 0;
	if (d->is_fragment && !d->has_ports) {
		/* a later fragment: on its addresses and transport alone */
		key_make(&k, d->src_ip, 0, d->dst_ip, 0, d->addr_len, d->proto);
		for (i = 0; i < c->n; i++) {
			const struct key *e = &c->e[i].k;

			if (e->alen == k.alen && !memcmp(e->a, k.a, k.alen) &&
			    !memcmp(e->b, k.b, k.alen) && (!e->proto || e->proto == k.proto) &&
			    in_range(&c->e[i], p))
				return 1;
		}
		return 0;
	}
	key_make(&k, d->src_ip, d->has_ports ? d->sport : 0, d->dst_ip,
		 d->has_ports ? d->dport : 0, d->addr_len, d->proto);
	if (lookup(c, &k, p))
		return 1;
	if (c->any_portless && d->has_ports) {
		key_make(&k, d->src_ip, 0, d->dst_ip, 0, d->addr_len, d->proto);
		if (lookup(c, &k, p))
			return 1;
	}
	/* events that did not say their transport */
	k.proto = 0;
	if (d->has_ports)
		key_make(&k, d->src_ip, d->sport, d->dst_ip, d->dport, d->addr_len, 0);
	return lookup(c, &k, p);
}
