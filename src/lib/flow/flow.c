/* flow.c - the flow table (flow.h). */
#include "flow/flow.h"

#include <stdlib.h>
#include <string.h>

#include "util/base64.h"
#include "util/community_id.h"
#include "util/time.h"
#include "util/banned.h"

#define NIL UINT32_MAX
#define SEC INT64_C(1000000000)

/* ------------------------------------------------------------ configuration */

void pb_flow_conf_init(struct pb_flow_conf *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->enabled = 1;
	fc->timeout_ns = PB_FLOW_DEF_TIMEOUT_NS;
	fc->period_ns = PB_FLOW_DEF_PERIOD_NS;
	fc->max_flows = PB_FLOW_DEF_MAX;
}

int pb_flow_conf_load(struct pb_flow_conf *fc, struct pb_conf *c)
{
	int64_t v;
	int b, rc;

	if ((rc = pb_conf_bool(c, "packetbeat.flows.enabled", &b)) < 0)
		return rc;
	if (rc == 0)
		fc->enabled = b;
	if ((rc = pb_conf_duration(c, "packetbeat.flows.timeout", &v)) < 0)
		return rc;
	if (rc == 0) {
		if (v < SEC)
			return pb_conf_fail(c, "packetbeat.flows.timeout",
					 "must be at least 1s");
		fc->timeout_ns = v;
	}
	/* a negative duration ("-1s", as Packetbeat's own configurations
	 * write it): no interim reports, as -1 */
	{
		const char *ps = NULL;

		if (pb_conf_str(c, "packetbeat.flows.period", &ps) == 0 && ps &&
		    ps[0] == '-' && ps[1] && pb_parse_duration(ps + 1, &v) == 0) {
			fc->period_ns = -1;
			goto period_done;
		}
	}
	if ((rc = pb_conf_duration(c, "packetbeat.flows.period", &v)) < 0)
		return rc;
	if (rc == 0) {
		if (v >= 0 && v < SEC)
			return pb_conf_fail(c, "packetbeat.flows.period",
					 "must be -1 or at least 1s");
		fc->period_ns = v < 0 ? -1 : v;
	}
period_done:
	if ((rc = pb_conf_int(c, "packetbeat.flows.max_flows", &v)) < 0)
		return rc;
	if (rc == 0) {
		if (v < 1 || v > PB_FLOW_MAX_MAX)
			return pb_conf_fail(c, "packetbeat.flows.max_flows",
					 "must be between 1 and 268435456");
		fc->max_flows = (uint32_t)v;
	}
	if ((rc = pb_conf_bool(c, "packetbeat.flows.allow_mismatched_eth", &b)) < 0)
		return rc;
	if (rc == 0)
		fc->key_macs = !b;
	if ((rc = pb_conf_bool(c, "packetbeat.flows.enable_delta_flow_reports", &b)) < 0)
		return rc;
	if (rc == 0)
		fc->delta = (uint8_t)b;
	return 0;
}

const char *pb_flow_why_name(enum pb_flow_why w)
{
	switch (w) {
	case PB_FLOW_INTERIM: return "active";
	case PB_FLOW_TIMEOUT: return "timeout";
	case PB_FLOW_EVICTED: return "evicted";
	case PB_FLOW_END: return "end_of_input";
	}
	return "unknown";
}

/* ------------------------------------------------------------ the table */

static inline uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

static inline uint64_t key_hash64(const struct pb_flow_key *k, uint64_t seed)
{
	uint64_t w[8], h = seed;
	int i;

	memcpy(w, k, sizeof(w));
	for (i = 0; i < 8; i++)
		h = (h ^ w[i]) * UINT64_C(0x9e3779b97f4a7c15) + (h >> 29);
	return mix64(h);
}

_Static_assert(sizeof(struct pb_flow_key) == 64, "flow key is 64 bytes");

int pb_flow_table_init(struct pb_flow_table *t, const struct pb_flow_conf *fc,
		       pb_flow_report_fn report, void *ctx)
{
	memset(t, 0, sizeof(*t));
	if (fc)
		t->conf = *fc;
	else
		pb_flow_conf_init(&t->conf);
	if (t->conf.max_flows == 0 || t->conf.max_flows > PB_FLOW_MAX_MAX ||
	    t->conf.timeout_ns < 1)
		return PB_EUSAGE;
	t->report = report;
	t->ctx = ctx;
	t->free_head = t->oldest = t->newest = t->last_hit = NIL;
	t->clock = INT64_MIN;
	t->mask = 1023;
	t->bucket = malloc(sizeof(*t->bucket) * (t->mask + 1));
	if (!t->bucket)
		return PB_ENOMEM;
	memset(t->bucket, 0xff, sizeof(*t->bucket) * (t->mask + 1));
	return 0;
}

void pb_flow_table_release(struct pb_flow_table *t)
{
	free(t->flows);
	free(t->bucket);
	t->flows = NULL;
	t->bucket = NULL;
	t->cap = t->used = 0;
}

/* Double the buckets when the flows outnumber them. */
static void grow_buckets(struct pb_flow_table *t)
{
	uint32_t nb = (t->mask + 1) * 2, i, *b;

	b = malloc(sizeof(*b) * nb);
	if (!b)
		return; /* longer chains, still correct */
	memset(b, 0xff, sizeof(*b) * nb);
	for (i = 0; i < t->used; i++) {
		struct pb_flow *f = &t->flows[i];

		if (f->older == NIL - 1)
			continue; /* on the free list */
		f->hnext = b[f->hash & (nb - 1)];
		b[f->hash & (nb - 1)] = i;
	}
	free(t->bucket);
	t->bucket = b;
	t->mask = nb - 1;
}

static void list_unlink(struct pb_flow_table *t, uint32_t i)
{
	struct pb_flow *f = &t->flows[i];

	if (f->older != NIL)
		t->flows[f->older].newer = f->newer;
	else
		t->oldest = f->newer;
	if (f->newer != NIL)
		t->flows[f->newer].older = f->older;
	else
		t->newest = f->older;
}

static void list_append(struct pb_flow_table *t, uint32_t i)
{
	struct pb_flow *f = &t->flows[i];

	f->newer = NIL;
	f->older = t->newest;
	if (t->newest != NIL)
		t->flows[t->newest].newer = i;
	else
		t->oldest = i;
	t->newest = i;
}

/* Report flow i as final and free it. */
static void end_flow(struct pb_flow_table *t, uint32_t i, int64_t when,
		     enum pb_flow_why why)
{
	struct pb_flow *f = &t->flows[i];
	uint32_t *link;

	if (t->report)
		t->report(t->ctx, f, when, why);
	switch (why) {
	case PB_FLOW_TIMEOUT: t->st.timed_out++; break;
	case PB_FLOW_EVICTED: t->st.evicted++; break;
	default: t->st.ended++; break;
	}
	for (link = &t->bucket[f->hash & t->mask]; *link != NIL;
	     link = &t->flows[*link].hnext) {
		if (*link == i) {
			*link = f->hnext;
			break;
		}
	}
	list_unlink(t, i);
	if (t->last_hit == i)
		t->last_hit = NIL;
	f->older = NIL - 1; /* marks a free entry */
	f->hnext = t->free_head;
	t->free_head = i;
	t->st.active--;
}

static void report_interim(struct pb_flow_table *t, struct pb_flow *f, int64_t when)
{
	if (t->report)
		t->report(t->ctx, f, when, PB_FLOW_INTERIM);
	t->st.interim++;
	if (t->conf.delta) {
		f->packets[0] = f->packets[1] = 0;
		f->bytes[0] = f->bytes[1] = 0;
	}
}

/* The period boundary at b: an interim report for every flow active in
 * [b - period, b), oldest activity first. */
static void period_end(struct pb_flow_table *t, int64_t b)
{
	int64_t from = b - t->conf.period_ns;
	uint32_t i = t->newest, first = NIL;

	while (i != NIL && t->flows[i].touch_ns >= from) {
		first = i;
		i = t->flows[i].older;
	}
	for (i = first; i != NIL; i = t->flows[i].newer)
		report_interim(t, &t->flows[i], b);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The first period boundary after time x; INT64_MAX stands for "none"
 * (the next would not fit in the clock). */
static int64_t boundary_after(const struct pb_flow_table *t, int64_t x)
{
	int64_t q = floor_div(x, t->conf.period_ns);

	if (q >= INT64_MAX / t->conf.period_ns)
		return INT64_MAX;
	return (q + 1) * t->conf.period_ns;
}

void pb_flow_advance(struct pb_flow_table *t, int64_t now)
{
	int periodic = t->conf.period_ns > 0;

	if (!t->started) {
		t->started = 1;
		t->clock = now;
		if (periodic)
			t->next_period = boundary_after(t, now);
		return;
	}
	if (now <= t->clock)
		return;
	for (;;) {
		int64_t exp = INT64_MAX;

		if (t->oldest != NIL) {
			int64_t touch = t->flows[t->oldest].touch_ns;

			exp = touch > INT64_MAX - t->conf.timeout_ns ? INT64_MAX
				: touch + t->conf.timeout_ns;
		}
		if (periodic && t->next_period != INT64_MAX &&
		    t->next_period <= now && t->next_period <= exp) {
			period_end(t, t->next_period);
			/* the clock was before this boundary, so nothing was
			 * active after it: the boundaries up to now have
			 * nothing to report.  The next that may is after now
			 * (a packet at a boundary opens the period it starts). */
			t->next_period = boundary_after(t, now);
			continue;
		}
		if (exp < now) {
			end_flow(t, t->oldest, exp, PB_FLOW_TIMEOUT);
			continue;
		}
		break;
	}
	t->clock = now;
}

/* ------------------------------------------------------------ keys */

static int is_port_proto(uint8_t p)
{
	return p == 6 || p == 17 || p == 132 || p == 136;
}

/* Build the key of d with the packet's sender as end 0 (swapped later).
 * Returns 0, or -1 (not keyed: *why says which count). */
static int make_key(const struct pb_flow_table *t, const struct pb_decoded *d,
		    struct pb_flow_key *k, int *why_undecodable)
{
	int nv = d->n_vlan > 2 ? 2 : d->n_vlan;

	memset(k, 0, sizeof(*k));
	k->n_vlan = (uint8_t)nv;
	if (nv > 0)
		k->vlan[0] = d->vlan[0];
	if (nv > 1)
		k->vlan[1] = d->vlan[1];
	/* by MAC only when the link gives both: SLL has only the sender's,
	 * which would make each direction a flow of its own */
	if (t->conf.key_macs && d->src_mac && d->dst_mac) {
		memcpy(k->mac[0], d->src_mac, 6);
		memcpy(k->mac[1], d->dst_mac, 6);
	}
	if ((d->ip_version == 4 || d->ip_version == 6) && d->src_ip) {
		if (!d->has_proto) {
			*why_undecodable = 1;
			return -1;
		}
		k->family = d->ip_version;
		k->proto = d->proto;
		memcpy(k->addr[0], d->src_ip, d->addr_len);
		memcpy(k->addr[1], d->dst_ip, d->addr_len);
		if (is_port_proto(d->proto)) {
			if (d->has_ports) {
				k->kind = PB_FK_PORTS;
				k->port[0] = d->sport;
				k->port[1] = d->dport;
				return 0;
			}
			if (!d->is_fragment) {
				*why_undecodable = 1;
				return -1;
			}
			k->kind = PB_FK_IP; /* a later fragment: no ports */
			return 0;
		}
		if (d->proto == 1 || d->proto == 58) {
			uint8_t other;
			int req;

			if (!(d->layers & (PB_LAYER_ICMP | PB_LAYER_ICMP6))) {
				if (!d->is_fragment) {
					*why_undecodable = 1;
					return -1;
				}
				k->kind = PB_FK_IP;
				return 0;
			}
			k->kind = PB_FK_ICMP;
			if (pb_icmp_counterpart(d->icmp_type, d->proto == 58, &other, &req)) {
				/* the pair, by its request type, and the id */
				uint8_t rq = req ? d->icmp_type : other;

				k->aux = 0x1000000u | (uint32_t)rq << 16 |
					 (d->has_icmp_echo ? d->icmp_id : 0);
			} else {
				k->aux = (uint32_t)d->icmp_type << 8 | d->icmp_code;
			}
			return 0;
		}
		k->kind = PB_FK_IP;
		return 0;
	}
	if (d->ip_version == 0 && d->src_mac && d->has_ethertype && !d->error &&
	    d->ethertype != 0x0800 && d->ethertype != 0x86dd) {
		k->kind = PB_FK_ETHER;
		k->aux = d->ethertype;
		if (d->arp_spa && d->arp_tpa) {
			/* ARP: the asker and the asked for, so a request and
			 * its reply (broadcast, then unicast) are one flow */
			k->family = 4;
			memcpy(k->addr[0], d->arp_spa, 4);
			memcpy(k->addr[1], d->arp_tpa, 4);
			return 0;
		}
		if (!d->dst_mac)
			goto unkeyed;
		memcpy(k->addr[0], d->src_mac, 6);
		memcpy(k->addr[1], d->dst_mac, 6);
		return 0;
	}
unkeyed:
	/* an IP packet whose IP layer could not be read, or a frame that
	 * went wrong before it got anywhere */
	*why_undecodable = d->ip_version != 0 || d->error ||
			   (d->has_ethertype && (d->ethertype == 0x0800 || d->ethertype == 0x86dd));
	return -1;
}

/* Put the smaller end first; returns 1 when the ends were swapped. */
static int canonical(struct pb_flow_key *k)
{
	int c = memcmp(k->addr[0], k->addr[1], 16);
	uint8_t a[16], m[6];
	uint16_t p;

	if (c == 0)
		c = (k->port[0] > k->port[1]) - (k->port[0] < k->port[1]);
	if (c == 0)
		c = memcmp(k->mac[0], k->mac[1], 6);
	if (c <= 0)
		return 0;
	memcpy(a, k->addr[0], 16);
	memcpy(k->addr[0], k->addr[1], 16);
	memcpy(k->addr[1], a, 16);
	memcpy(m, k->mac[0], 6);
	memcpy(k->mac[0], k->mac[1], 6);
	memcpy(k->mac[1], m, 6);
	p = k->port[0];
	k->port[0] = k->port[1];
	k->port[1] = p;
	return 1;
}

/* ------------------------------------------------------------ packets */

static inline int key_eq(const struct pb_flow_key *a, const struct pb_flow_key *b)
{
	uint64_t x[sizeof(*a) / 8], y[sizeof(*a) / 8], d = 0;
	size_t n;

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	for (n = 0; n < sizeof(*a) / 8; n++)
		d |= x[n] ^ y[n];
	return d == 0;
}

static uint32_t lookup(const struct pb_flow_table *t, const struct pb_flow_key *k,
		       uint32_t h)
{
	uint32_t i;

	for (i = t->bucket[h & t->mask]; i != NIL; i = t->flows[i].hnext) {
		const struct pb_flow *f = &t->flows[i];

		if (f->hash == h && key_eq(&f->key, k))
			return i;
	}
	return NIL;
}

/* A free entry: from the free list, the unused tail, more memory, or the
 * least recently active flow. */
static uint32_t take_entry(struct pb_flow_table *t)
{
	uint32_t i;

	if (t->free_head != NIL) {
		i = t->free_head;
		t->free_head = t->flows[i].hnext;
		return i;
	}
	if (t->used < t->cap)
		return t->used++;
	if (t->cap < t->conf.max_flows) {
		uint32_t nc = t->cap ? t->cap * 2 : 1024;
		struct pb_flow *nf;

		if (nc > t->conf.max_flows || nc < t->cap)
			nc = t->conf.max_flows;
		nf = realloc(t->flows, sizeof(*nf) * nc);
		if (nf) {
			t->flows = nf;
			t->cap = nc;
			return t->used++;
		}
		t->st.alloc_failed++;
	}
	if (t->oldest == NIL)
		return NIL;
	end_flow(t, t->oldest, t->clock, PB_FLOW_EVICTED);
	i = t->free_head;
	t->free_head = t->flows[i].hnext;
	return i;
}

static void set_source(struct pb_flow *f, int end, int evidence)
{
	if (evidence > f->evidence) {
		f->evidence = (uint8_t)evidence;
		f->src = (uint8_t)end;
	}
}

struct pb_flow *pb_flow_packet(struct pb_flow_table *t, const struct pb_packet *p,
			       const struct pb_decoded *d)
{
	struct pb_flow_key k;
	struct pb_flow *f;
	int64_t ts = pb_time_ns(&p->ts), touch;
	uint32_t h = 0, i;
	uint64_t n, bytes;
	int undecodable = 0, snd;

	t->st.packets++;
	if (d->frag_held) {
		t->st.frag_held++;
		return NULL;
	}
	if (make_key(t, d, &k, &undecodable) < 0) {
		if (undecodable)
			t->st.undecodable++;
		else
			t->st.not_ip++;
		return NULL;
	}
	snd = canonical(&k);
	pb_flow_advance(t, ts);
	touch = ts;
	if (ts < t->clock) {
		t->st.late++;
		touch = t->clock;
	}
	/* the flow of the previous packet, often this one's too */
	if (t->last_hit != NIL && key_eq(&t->flows[t->last_hit].key, &k)) {
		i = t->last_hit;
	} else {
		h = (uint32_t)key_hash64(&k, 0);
		i = lookup(t, &k, h);
	}
	if (i == NIL) {
		i = take_entry(t);
		if (i == NIL)
			return NULL; /* max_flows 0 cannot happen; no memory */
		f = &t->flows[i];
		memset(f, 0, sizeof(*f));
		f->key = k;
		f->hash = h;
		f->create_ns = f->first_ns = f->last_ns = ts;
		f->first_pkt = f->last_pkt = p->index;
		f->src = (uint8_t)snd;
		f->evidence = PB_FLOW_EV_FIRST;
		f->prec = p->ts.prec;
		if (k.kind == PB_FK_ICMP) {
			f->icmp_type = d->icmp_type;
			f->icmp_code = d->icmp_code;
			f->icmp_end = (uint8_t)snd;
		}
		if (k.kind == PB_FK_PORTS && k.proto == 6 &&
		    (k.port[0] < 1024) != (k.port[1] < 1024))
			/* the end with the privileged port is the server */
			set_source(f, k.port[0] < 1024 ? 1 : 0, PB_FLOW_EV_PORT);
		f->hnext = t->bucket[h & t->mask];
		t->bucket[h & t->mask] = i;
		list_append(t, i);
		t->st.flows++;
		if (++t->st.active > t->st.peak)
			t->st.peak = t->st.active;
		if (t->st.active > (uint64_t)t->mask + 1)
			grow_buckets(t);
		f = &t->flows[i];
	} else {
		f = &t->flows[i];
		if (f->newer != NIL) {
			list_unlink(t, i);
			list_append(t, i);
		}
		if (ts < f->first_ns) {
			f->first_ns = ts;
			f->first_pkt = p->index;
		}
		if (ts >= f->last_ns) {
			f->last_ns = ts;
			f->last_pkt = p->index;
		}
	}
	f->touch_ns = touch;
	/* a rebuilt datagram counts every frame that carried it */
	n = d->frag_frames ? d->frag_frames : 1;
	bytes = d->frag_frames ? d->frag_wire : p->len;
	f->packets[snd] += n;
	f->bytes[snd] += bytes;
	t->st.counted += n;
	if (d->src_mac) {
		/* an end's own MAC (as sender) wins over what the other end
		 * sent to; a group address (broadcast) is nobody's */
		if (!(f->has_mac & (4u << snd))) {
			f->has_mac |= (uint8_t)(5u << snd);
			memcpy(f->mac[snd], d->src_mac, 6);
		}
		if (d->dst_mac && !(f->has_mac & (1u << !snd)) && !(d->dst_mac[0] & 1)) {
			f->has_mac |= (uint8_t)(1u << !snd);
			memcpy(f->mac[!snd], d->dst_mac, 6);
		}
	}
	if (k.kind == PB_FK_PORTS && k.proto == 6) {
		f->tcp_flags[snd] |= d->tcp_flags;
		if ((d->tcp_flags & (PB_TCP_SYN | PB_TCP_ACK)) == PB_TCP_SYN)
			set_source(f, snd, PB_FLOW_EV_OPEN);
		else if ((d->tcp_flags & (PB_TCP_SYN | PB_TCP_ACK)) ==
			 (PB_TCP_SYN | PB_TCP_ACK))
			set_source(f, !snd, PB_FLOW_EV_ANSWER);
	} else if (k.kind == PB_FK_ICMP) {
		uint8_t other;
		int req;

		if (pb_icmp_counterpart(d->icmp_type, k.proto == 58, &other, &req)) {
			if (req)
				set_source(f, snd, PB_FLOW_EV_OPEN);
			else
				set_source(f, !snd, PB_FLOW_EV_ANSWER);
		}
	}
	f->sender = (uint8_t)snd;
	t->last_hit = i;
	return f;
}

void pb_flow_finish(struct pb_flow_table *t)
{
	while (t->oldest != NIL)
		end_flow(t, t->oldest, t->clock, PB_FLOW_END);
}

/* ------------------------------------------------------------ derived */

void pb_flow_id(char *out, const struct pb_flow *f)
{
	uint8_t raw[16];
	uint64_t a, b;
	char tmp[32];
	size_t n;

	a = key_hash64(&f->key, (uint64_t)f->create_ns);
	b = key_hash64(&f->key, mix64((uint64_t)f->create_ns ^ UINT64_C(0x5bd1e9955bd1e995)));
	memcpy(raw, &a, 8);
	memcpy(raw + 8, &b, 8);
	pb_base64_encode(tmp, raw, sizeof(raw));
	n = pb_base64_enc_len(sizeof(raw));
	/* base64url without padding: 22 characters */
	for (size_t i = 0; i < n; i++) {
		if (tmp[i] == '+')
			tmp[i] = '-';
		else if (tmp[i] == '/')
			tmp[i] = '_';
	}
	memcpy(out, tmp, PB_FLOW_ID_LEN);
	out[PB_FLOW_ID_LEN] = '\0';
}

int pb_flow_community_id(char *out, const struct pb_flow *f, uint16_t seed)
{
	struct pb_flow_tuple ft;
	int s = f->src;

	if (f->key.kind == PB_FK_ETHER)
		return -1;
	memset(&ft, 0, sizeof(ft));
	ft.alen = f->key.family == 4 ? 4 : 16;
	ft.proto = f->key.proto;
	if (f->key.kind == PB_FK_ICMP) {
		/* as the first message seen was sent */
		s = f->icmp_end;
		ft.has_ports = 1;
		ft.sport = f->icmp_type;
		ft.dport = f->icmp_code;
	} else if (f->key.kind == PB_FK_PORTS) {
		ft.has_ports = 1;
		ft.sport = f->key.port[s];
		ft.dport = f->key.port[!s];
	}
	ft.saddr = f->key.addr[s];
	ft.daddr = f->key.addr[!s];
	return pb_community_id(out, &ft, seed);
}
