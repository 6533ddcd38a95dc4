/*
 * check_flow.c - the flow table (flow/flow.h): which end is the source,
 * what makes two packets one flow, timeouts, period boundaries, out of
 * order timestamps, eviction, the end of input, the configuration, the
 * flow and community ids, and the flow event written for a report.
 *
 * Most packets are struct pb_decoded filled by hand with the fields the
 * table keys by; ARP, QinQ and IPv4 fragments go through the real decoder
 * so the two agree on what they hand each other.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "conf/conf.h"
#include "decode/decode.h"
#include "event/flow_record.h"
#include "flow/flow.h"
#include "util/buf.h"
#include "util/community_id.h"

#define SEC INT64_C(1000000000)
/* A multiple of every period used here, so boundaries are T0 + 10 s * n. */
#define T0 (INT64_C(1700000000) * SEC)

/* ---- hosts: index -> IPv4 address and MAC ---- */

enum { H_A = 1, H_B, H_C, H_D, H_SPEC_C, H_SPEC_S, H_N };

static const uint8_t ip4[H_N][4] = {
	[H_A] = { 10, 0, 0, 1 },
	[H_B] = { 10, 0, 0, 2 },
	[H_C] = { 10, 0, 0, 3 },
	[H_D] = { 10, 0, 0, 4 },
	/* the Community ID spec's example 5-tuple */
	[H_SPEC_C] = { 128, 232, 110, 120 },
	[H_SPEC_S] = { 66, 35, 250, 204 },
};

static const uint8_t mac[H_N][6] = {
	[H_A] = { 0x02, 0, 0, 0, 0, 0x01 },
	[H_B] = { 0x02, 0, 0, 0, 0, 0x02 },
	[H_C] = { 0x02, 0, 0, 0, 0, 0x03 },
	[H_D] = { 0x02, 0, 0, 0, 0, 0x04 },
	[H_SPEC_C] = { 0x02, 0, 0, 0, 0, 0x05 },
	[H_SPEC_S] = { 0x02, 0, 0, 0, 0, 0x06 },
};

static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- the table under test and its reports ---- */

struct report {
	struct pb_flow f;        /* a copy: the flow is gone after a final */
	int64_t when;
	enum pb_flow_why why;
};

#define MAX_KEPT 64
#define RUNAWAY 100000  /* more reports than any test makes: a loop */

static struct pb_flow_table g_t;
static struct pb_flow_conf g_fc;
static struct report g_rep[MAX_KEPT];
static int g_nrep;        /* reports made; the first MAX_KEPT are kept */
static uint64_t g_index;  /* packet.index of the last packet fed */

static void on_report(void *ctx, const struct pb_flow *f, int64_t when,
		      enum pb_flow_why why)
{
	(void)ctx;
	ck_assert_msg(g_nrep < RUNAWAY, "runaway reports");
	if (g_nrep < MAX_KEPT) {
		g_rep[g_nrep].f = *f;
		g_rep[g_nrep].when = when;
		g_rep[g_nrep].why = why;
	}
	g_nrep++;
}

static void setup(void)
{
	memset(&g_t, 0, sizeof(g_t));
	memset(g_rep, 0, sizeof(g_rep));
	g_nrep = 0;
	g_index = 0;
	/* long timeout, no periods: tests turn on what they look at */
	pb_flow_conf_init(&g_fc);
	g_fc.timeout_ns = 3600 * SEC;
	g_fc.period_ns = -1;
}

static void teardown(void)
{
	pb_flow_table_release(&g_t);
}

static void start(void)
{
	ck_assert_int_eq(pb_flow_table_init(&g_t, &g_fc, on_report, NULL), 0);
}

static void packet_at(struct pb_packet *p, int64_t ns, uint32_t len)
{
	memset(p, 0, sizeof(*p));
	p->index = ++g_index;
	p->ts.sec = ns / SEC;
	p->ts.nsec = (uint32_t)(ns % SEC);
	p->ts.prec = 9;
	p->caplen = p->len = len;
	p->linktype = PB_LT_ETHERNET;
}

/* Offer d as a packet of len bytes on the wire at ns. */
static struct pb_flow *feed(int64_t ns, uint32_t len, const struct pb_decoded *d)
{
	struct pb_packet p;

	packet_at(&p, ns, len);
	return pb_flow_packet(&g_t, &p, d);
}

/* ---- decoded packets by hand ---- */

static void mk_ip(struct pb_decoded *d, int from, int to, uint8_t proto)
{
	memset(d, 0, sizeof(*d));
	d->layers = PB_LAYER_ETH | PB_LAYER_IP4;
	d->src_mac = mac[from];
	d->dst_mac = mac[to];
	d->ethertype = 0x0800;
	d->has_ethertype = 1;
	d->ip_version = 4;
	d->addr_len = 4;
	d->src_ip = ip4[from];
	d->dst_ip = ip4[to];
	d->proto = proto;
	d->has_proto = 1;
}

static void mk_tcp(struct pb_decoded *d, int from, uint16_t sport, int to,
		   uint16_t dport, uint16_t flags)
{
	mk_ip(d, from, to, 6);
	d->layers |= PB_LAYER_TCP;
	d->has_ports = 1;
	d->sport = sport;
	d->dport = dport;
	d->tcp_flags = flags;
}

static void mk_udp(struct pb_decoded *d, int from, uint16_t sport, int to,
		   uint16_t dport)
{
	mk_ip(d, from, to, 17);
	d->layers |= PB_LAYER_UDP;
	d->has_ports = 1;
	d->sport = sport;
	d->dport = dport;
}

static void mk_icmp(struct pb_decoded *d, int from, int to, uint8_t type,
		    uint8_t code, int echo_id)
{
	mk_ip(d, from, to, 1);
	d->layers |= PB_LAYER_ICMP;
	d->icmp_type = type;
	d->icmp_code = code;
	if (echo_id >= 0) {
		d->has_icmp_echo = 1;
		d->icmp_id = (uint16_t)echo_id;
	}
}

/* The flow's source end is host h, port port, chosen on evidence ev. */
static void assert_source(const struct pb_flow *f, int h, uint16_t port, int ev)
{
	ck_assert_mem_eq(f->key.addr[f->src], ip4[h], 4);
	ck_assert_uint_eq(f->key.port[f->src], port);
	ck_assert_int_eq(f->evidence, ev);
}

/* The end of f that is host h. */
static int end_of(const struct pb_flow *f, int h)
{
	if (memcmp(f->key.addr[0], ip4[h], 4) == 0)
		return 0;
	ck_assert_mem_eq(f->key.addr[1], ip4[h], 4);
	return 1;
}

/* ---- real frames through the decoder ---- */

struct frame {
	uint8_t b[256];
	size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
	ck_assert_uint_le(f->n + n, sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(f, b, 2);
}

static void put_eth(struct frame *f, const uint8_t *dst, const uint8_t *src)
{
	put(f, dst, 6);
	put(f, src, 6);
}

/* An IPv4 header with a correct checksum. */
static void put_ip4(struct frame *f, int from, int to, uint8_t proto,
		    uint16_t payload, uint16_t id, uint16_t frag)
{
	uint8_t h[20] = { 0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto };
	uint32_t sum = 0;
	int i;

	h[2] = (uint8_t)((20 + payload) >> 8);
	h[3] = (uint8_t)(20 + payload);
	h[4] = (uint8_t)(id >> 8);
	h[5] = (uint8_t)id;
	h[6] = (uint8_t)(frag >> 8);
	h[7] = (uint8_t)frag;
	memcpy(h + 12, ip4[from], 4);
	memcpy(h + 16, ip4[to], 4);
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	h[10] = (uint8_t)(~sum >> 8);
	h[11] = (uint8_t)~sum;
	put(f, h, 20);
}

/* Decode f from a heap copy of exactly its bytes (so valgrind sees any
 * read past the end) with dec, or pb_decode() alone, and offer it. */
static struct pb_flow *feed_frame(int64_t ns, const struct frame *f,
				  struct pb_decoder *dec, struct pb_decoded *d)
{
	struct pb_decode_stats st;
	struct pb_flow *fl;
	struct pb_packet p;
	uint8_t *copy = malloc(f->n);

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, f->b, f->n);
	packet_at(&p, ns, (uint32_t)f->n);
	p.data = copy;
	memset(&st, 0, sizeof(st));
	if (dec)
		pb_decoder_run(dec, &p, d);
	else
		pb_decode(&p, d, &st);
	fl = pb_flow_packet(&g_t, &p, d);
	free(copy);
	return fl;
}

/* ---- direction ---- */

START_TEST(test_dir_syn_first)
{
	struct pb_decoded d;
	struct pb_flow *f;

	start();
	/* B is the larger address: the sender is end 1 of the key, so this
	 * also checks the choice survives the canonical order */
	mk_tcp(&d, H_B, 40000, H_A, 8080, PB_TCP_SYN);
	f = feed(T0, 74, &d);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->src, 1);
	assert_source(f, H_B, 40000, PB_FLOW_EV_OPEN);
	mk_tcp(&d, H_A, 8080, H_B, 40000, PB_TCP_SYN | PB_TCP_ACK);
	f = feed(T0 + 1, 74, &d);
	assert_source(f, H_B, 40000, PB_FLOW_EV_OPEN);
	ck_assert_uint_eq(f->tcp_flags[end_of(f, H_B)], PB_TCP_SYN);
	ck_assert_uint_eq(f->tcp_flags[end_of(f, H_A)], PB_TCP_SYN | PB_TCP_ACK);
}
END_TEST

START_TEST(test_dir_simultaneous_open)
{
	struct pb_decoded d;
	struct pb_flow *f;

	start();
	/* both ends send a SYN: evidence as good as what decided the source
	 * does not take it over, so the first SYN's sender stays the source */
	mk_tcp(&d, H_A, 5000, H_B, 6000, PB_TCP_SYN);
	feed(T0, 74, &d);
	mk_tcp(&d, H_B, 6000, H_A, 5000, PB_TCP_SYN);
	f = feed(T0 + 1, 74, &d);
	assert_source(f, H_A, 5000, PB_FLOW_EV_OPEN);
	/* and likewise for two answers */
	mk_tcp(&d, H_C, 7000, H_D, 8000, PB_TCP_SYN | PB_TCP_ACK);
	feed(T0 + 2, 74, &d);
	mk_tcp(&d, H_D, 8000, H_C, 7000, PB_TCP_SYN | PB_TCP_ACK);
	f = feed(T0 + 3, 74, &d);
	assert_source(f, H_D, 8000, PB_FLOW_EV_ANSWER);
}
END_TEST

START_TEST(test_dir_synack_first)
{
	struct pb_decoded d;
	struct pb_flow *f;

	start();
	/* the capture started after the SYN: the SYN-ACK's receiver opened */
	mk_tcp(&d, H_A, 8080, H_B, 40000, PB_TCP_SYN | PB_TCP_ACK);
	f = feed(T0, 74, &d);
	assert_source(f, H_B, 40000, PB_FLOW_EV_ANSWER);
	mk_tcp(&d, H_B, 40000, H_A, 8080, PB_TCP_ACK);
	f = feed(T0 + 1, 66, &d);
	assert_source(f, H_B, 40000, PB_FLOW_EV_ANSWER);
}
END_TEST

START_TEST(test_dir_late_syn_flips)
{
	struct pb_decoded d;
	struct pb_flow *f;

	start();
	/* no privileged port: mid-stream, the first sender is all we have */
	mk_tcp(&d, H_A, 5000, H_B, 6000, PB_TCP_ACK | PB_TCP_PSH);
	f = feed(T0, 100, &d);
	assert_source(f, H_A, 5000, PB_FLOW_EV_FIRST);
	mk_tcp(&d, H_B, 6000, H_A, 5000, PB_TCP_ACK);
	f = feed(T0 + SEC, 60, &d);
	assert_source(f, H_A, 5000, PB_FLOW_EV_FIRST);
	/* a new connection on the same ports, opened by B */
	mk_tcp(&d, H_B, 6000, H_A, 5000, PB_TCP_SYN);
	f = feed(T0 + 2 * SEC, 74, &d);
	assert_source(f, H_B, 6000, PB_FLOW_EV_OPEN);
	ck_assert_uint_eq(g_t.st.flows, 1);
}
END_TEST

START_TEST(test_dir_syn_beats_port)
{
	struct pb_decoded d;
	struct pb_flow *f;

	start();
	/* active FTP data: the server connects from port 20 to the client */
	mk_tcp(&d, H_B, 50000, H_A, 20, PB_TCP_ACK);
	f = feed(T0, 66, &d);
	assert_source(f, H_B, 50000, PB_FLOW_EV_PORT);
	mk_tcp(&d, H_A, 20, H_B, 50000, PB_TCP_SYN);
	f = feed(T0 + SEC, 74, &d);
	assert_source(f, H_A, 20, PB_FLOW_EV_OPEN);
}
END_TEST

START_TEST(test_dir_privileged_port)
{
	struct pb_decoded d;
	struct pb_flow *f;

	start();
	/* mid-stream, the server speaks first: port 443 is the destination */
	mk_tcp(&d, H_A, 443, H_B, 50000, PB_TCP_ACK | PB_TCP_PSH);
	f = feed(T0, 1500, &d);
	assert_source(f, H_B, 50000, PB_FLOW_EV_PORT);
	ck_assert_uint_eq(f->key.port[!f->src], 443);
	/* ... and the other way round in the key order */
	mk_tcp(&d, H_C, 50001, H_B, 22, PB_TCP_ACK);
	f = feed(T0 + 1, 66, &d);
	assert_source(f, H_C, 50001, PB_FLOW_EV_PORT);
	/* both ends privileged, or neither: no port evidence */
	mk_tcp(&d, H_D, 1023, H_A, 1000, PB_TCP_ACK);
	f = feed(T0 + 2, 66, &d);
	assert_source(f, H_D, 1023, PB_FLOW_EV_FIRST);
	mk_tcp(&d, H_D, 1024, H_A, 1025, PB_TCP_ACK);
	f = feed(T0 + 3, 66, &d);
	assert_source(f, H_D, 1024, PB_FLOW_EV_FIRST);
	/* UDP has no port evidence: DNS answer seen first stays the source */
	mk_udp(&d, H_D, 53, H_A, 33333);
	f = feed(T0 + 4, 90, &d);
	assert_source(f, H_D, 53, PB_FLOW_EV_FIRST);
}
END_TEST

START_TEST(test_dir_udp_first_sender)
{
	struct pb_decoded d;
	struct pb_flow *f;

	start();
	mk_udp(&d, H_C, 9999, H_A, 7777);
	f = feed(T0, 100, &d);
	ck_assert_int_eq(f->src, 1); /* C > A: the key starts with A */
	assert_source(f, H_C, 9999, PB_FLOW_EV_FIRST);
	mk_udp(&d, H_A, 7777, H_C, 9999);
	f = feed(T0 + SEC, 100, &d);
	assert_source(f, H_C, 9999, PB_FLOW_EV_FIRST);
}
END_TEST

START_TEST(test_dir_icmp_reply_first)
{
	struct pb_decoded d;
	struct pb_flow *f;

	start();
	/* the reply from A to C was seen first: C asked */
	mk_icmp(&d, H_A, H_C, 0, 0, 77);
	f = feed(T0, 98, &d);
	ck_assert_mem_eq(f->key.addr[f->src], ip4[H_C], 4);
	ck_assert_int_eq(f->evidence, PB_FLOW_EV_ANSWER);
	/* the first message is the one kept */
	ck_assert_uint_eq(f->icmp_type, 0);
	ck_assert_mem_eq(f->key.addr[f->icmp_end], ip4[H_A], 4);
	mk_icmp(&d, H_C, H_A, 8, 0, 77);
	f = feed(T0 + SEC, 98, &d);
	ck_assert_mem_eq(f->key.addr[f->src], ip4[H_C], 4);
	ck_assert_int_eq(f->evidence, PB_FLOW_EV_OPEN);
	ck_assert_uint_eq(f->icmp_type, 0);
	ck_assert_uint_eq(g_t.st.flows, 1);
}
END_TEST

START_TEST(test_dir_counters_after_flip)
{
	struct pb_decoded d;
	struct pb_flow *f;
	int a, b;

	start();
	mk_tcp(&d, H_A, 5000, H_B, 6000, PB_TCP_ACK);
	feed(T0, 100, &d);
	feed(T0 + 1, 110, &d);
	mk_tcp(&d, H_B, 6000, H_A, 5000, PB_TCP_ACK);
	f = feed(T0 + 2, 60, &d);
	assert_source(f, H_A, 5000, PB_FLOW_EV_FIRST);
	mk_tcp(&d, H_B, 6000, H_A, 5000, PB_TCP_SYN);
	f = feed(T0 + 3, 74, &d);
	assert_source(f, H_B, 6000, PB_FLOW_EV_OPEN);
	/* the counters stay with the end that sent them: what B sent is
	 * now the source's */
	a = end_of(f, H_A);
	b = end_of(f, H_B);
	ck_assert_int_eq(f->src, b);
	ck_assert_uint_eq(f->packets[b], 2);
	ck_assert_uint_eq(f->bytes[b], 60 + 74);
	ck_assert_uint_eq(f->packets[a], 2);
	ck_assert_uint_eq(f->bytes[a], 100 + 110);
	ck_assert_uint_eq(g_t.st.counted, 4);
}
END_TEST

/* ---- keys ---- */

START_TEST(test_key_both_directions)
{
	struct pb_decoded d;
	struct pb_flow *f1, *f2;

	start();
	mk_tcp(&d, H_B, 1234, H_A, 80, PB_TCP_ACK);
	f1 = feed(T0, 100, &d);
	mk_tcp(&d, H_A, 80, H_B, 1234, PB_TCP_ACK);
	f2 = feed(T0 + 1, 200, &d);
	ck_assert_ptr_eq(f1, f2);
	ck_assert_uint_eq(g_t.st.flows, 1);
	ck_assert_uint_eq(g_t.st.active, 1);
	/* canonical: the smaller address first, each end with its port */
	ck_assert_int_eq(f2->key.kind, PB_FK_PORTS);
	ck_assert_uint_eq(f2->key.proto, 6);
	ck_assert_uint_eq(f2->key.family, 4);
	ck_assert_mem_eq(f2->key.addr[0], ip4[H_A], 4);
	ck_assert_uint_eq(f2->key.port[0], 80);
	ck_assert_uint_eq(f2->key.port[1], 1234);
	ck_assert_uint_eq(f2->packets[0], 1);
	ck_assert_uint_eq(f2->bytes[0], 200);
	ck_assert_uint_eq(f2->packets[1], 1);
	ck_assert_uint_eq(f2->bytes[1], 100);
	/* the same addresses, another port: another flow */
	mk_tcp(&d, H_B, 1235, H_A, 80, PB_TCP_ACK);
	ck_assert_ptr_ne(feed(T0 + 2, 100, &d), f2);
	ck_assert_uint_eq(g_t.st.flows, 2);
}
END_TEST

START_TEST(test_key_vlan)
{
	struct pb_decoded d;
	struct pb_flow *f;

	start();
	mk_udp(&d, H_A, 1000, H_B, 2000);
	d.n_vlan = 1;
	d.vlan[0] = 10;
	f = feed(T0, 100, &d);
	ck_assert_uint_eq(f->key.n_vlan, 1);
	ck_assert_uint_eq(f->key.vlan[0], 10);
	mk_udp(&d, H_B, 2000, H_A, 1000);
	d.n_vlan = 1;
	d.vlan[0] = 10;
	ck_assert_ptr_eq(feed(T0 + 1, 100, &d), f);
	ck_assert_uint_eq(g_t.st.flows, 1);
	/* another VLAN, or none, is another network */
	d.vlan[0] = 20;
	ck_assert_ptr_ne(feed(T0 + 2, 100, &d), f);
	ck_assert_uint_eq(g_t.st.flows, 2);
	d.n_vlan = 0;
	d.vlan[0] = 0;
	f = feed(T0 + 3, 100, &d);
	ck_assert_uint_eq(f->key.n_vlan, 0);
	ck_assert_uint_eq(g_t.st.flows, 3);
}
END_TEST

/* Ethernet, an 802.1ad tag, an 802.1Q tag, IPv4, UDP 1000 -> 2000. */
static void qinq_frame(struct frame *f, int from, int to, uint16_t outer,
		       uint16_t inner)
{
	f->n = 0;
	put_eth(f, mac[to], mac[from]);
	put16(f, 0x88a8);
	put16(f, outer);
	put16(f, 0x8100);
	put16(f, inner);
	put16(f, 0x0800);
	put_ip4(f, from, to, 17, 12, 1, 0);
	put16(f, from == H_A ? 1000 : 2000);
	put16(f, from == H_A ? 2000 : 1000);
	put16(f, 12);
	put16(f, 0);
	put(f, "abcd", 4);
}

START_TEST(test_key_qinq)
{
	struct pb_decoded d;
	struct pb_flow *f;
	struct frame fr;

	start();
	qinq_frame(&fr, H_A, H_B, 100, 200);
	f = feed_frame(T0, &fr, NULL, &d);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(d.n_vlan, 2);
	ck_assert_uint_eq(f->key.n_vlan, 2);
	ck_assert_uint_eq(f->key.vlan[0], 100);
	ck_assert_uint_eq(f->key.vlan[1], 200);
	ck_assert_int_eq(f->key.kind, PB_FK_PORTS);
	ck_assert_uint_eq(f->key.port[0], 1000);
	ck_assert_uint_eq(f->key.port[1], 2000);
	qinq_frame(&fr, H_B, H_A, 100, 200);
	ck_assert_ptr_eq(feed_frame(T0 + 1, &fr, NULL, &d), f);
	ck_assert_uint_eq(f->packets[0], 1);
	ck_assert_uint_eq(f->packets[1], 1);
	ck_assert_uint_eq(f->bytes[0], 54);
	ck_assert_uint_eq(g_t.st.flows, 1);
	/* the inner id alone differs: another flow */
	qinq_frame(&fr, H_A, H_B, 100, 201);
	f = feed_frame(T0 + 2, &fr, NULL, &d);
	ck_assert_uint_eq(f->key.vlan[1], 201);
	ck_assert_uint_eq(g_t.st.flows, 2);
	/* the outer alone differs */
	qinq_frame(&fr, H_A, H_B, 101, 200);
	feed_frame(T0 + 3, &fr, NULL, &d);
	ck_assert_uint_eq(g_t.st.flows, 3);
}
END_TEST

START_TEST(test_key_icmp_echo_ids)
{
	struct pb_decoded d;
	struct pb_flow *f;

	start();
	mk_icmp(&d, H_A, H_B, 8, 0, 1);
	f = feed(T0, 98, &d);
	ck_assert_int_eq(f->key.kind, PB_FK_ICMP);
	ck_assert_uint_eq(f->key.aux & 0xffff, 1);
	mk_icmp(&d, H_B, H_A, 0, 0, 1);
	ck_assert_ptr_eq(feed(T0 + 1, 98, &d), f);
	ck_assert_uint_eq(f->packets[0] + f->packets[1], 2);
	ck_assert_uint_eq(g_t.st.flows, 1);
	/* another identifier is another ping */
	mk_icmp(&d, H_B, H_A, 0, 0, 2);
	f = feed(T0 + 2, 98, &d);
	ck_assert_uint_eq(f->key.aux & 0xffff, 2);
	ck_assert_uint_eq(g_t.st.flows, 2);
	mk_icmp(&d, H_A, H_B, 8, 0, 2);
	ck_assert_ptr_eq(feed(T0 + 3, 98, &d), f);
	ck_assert_uint_eq(g_t.st.flows, 2);
}
END_TEST

START_TEST(test_key_icmp_unreachable)
{
	struct pb_decoded d;
	struct pb_flow *echo, *f;

	start();
	mk_icmp(&d, H_A, H_B, 8, 0, 5);
	echo = feed(T0, 98, &d);
	/* B answers with port unreachable: not part of the ping */
	mk_icmp(&d, H_B, H_A, 3, 3, -1);
	f = feed(T0 + 1, 70, &d);
	ck_assert_ptr_ne(f, echo);
	ck_assert_int_eq(f->key.kind, PB_FK_ICMP);
	ck_assert_uint_eq(f->key.aux, 3u << 8 | 3);
	ck_assert_uint_eq(f->icmp_type, 3);
	ck_assert_uint_eq(f->icmp_code, 3);
	/* no reply to wait for: the sender is the source */
	ck_assert_mem_eq(f->key.addr[f->src], ip4[H_B], 4);
	ck_assert_int_eq(f->evidence, PB_FLOW_EV_FIRST);
	/* the same message again is the same flow ... */
	ck_assert_ptr_eq(feed(T0 + 2, 70, &d), f);
	ck_assert_uint_eq(f->packets[f->src], 2);
	/* ... another code or type is not */
	mk_icmp(&d, H_B, H_A, 3, 1, -1);
	feed(T0 + 3, 70, &d);
	mk_icmp(&d, H_B, H_A, 11, 0, -1);
	feed(T0 + 4, 70, &d);
	ck_assert_uint_eq(g_t.st.flows, 4);
	ck_assert_uint_eq(echo->packets[0] + echo->packets[1], 1);
}
END_TEST

/* An Ethernet ARP frame padded to 60 bytes. */
static void arp_frame(struct frame *f, const uint8_t *eth_dst, int from,
		      uint16_t op, const uint8_t *tha, int to)
{
	static const uint8_t hdr[6] = { 0, 1, 8, 0, 6, 4 };

	f->n = 0;
	put_eth(f, eth_dst, mac[from]);
	put16(f, 0x0806);
	put(f, hdr, sizeof(hdr));
	put16(f, op);
	put(f, mac[from], 6);
	put(f, ip4[from], 4);
	put(f, tha, 6);
	put(f, ip4[to], 4);
	while (f->n < 60)
		put(f, "", 1);
}

START_TEST(test_key_arp)
{
	static const uint8_t zero[6];
	struct pb_decoded d;
	struct pb_flow *f;
	struct frame fr;
	char cid[PB_COMMUNITY_ID_LEN + 1];
	int a, b;

	start();
	/* who has B? tell A (broadcast), then B's answer to A */
	arp_frame(&fr, mac_bcast, H_A, 1, zero, H_B);
	f = feed_frame(T0, &fr, NULL, &d);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->key.kind, PB_FK_ETHER);
	ck_assert_uint_eq(f->key.family, 4);
	ck_assert_uint_eq(f->key.aux, 0x0806);
	ck_assert_mem_eq(f->key.addr[0], ip4[H_A], 4);
	ck_assert_mem_eq(f->key.addr[1], ip4[H_B], 4);
	arp_frame(&fr, mac[H_A], H_B, 2, mac[H_A], H_A);
	ck_assert_ptr_eq(feed_frame(T0 + SEC / 1000, &fr, NULL, &d), f);
	ck_assert_uint_eq(g_t.st.flows, 1);
	a = end_of(f, H_A);
	b = end_of(f, H_B);
	ck_assert_uint_eq(f->packets[a], 1);
	ck_assert_uint_eq(f->packets[b], 1);
	ck_assert_uint_eq(f->bytes[a], 60);
	ck_assert_mem_eq(f->key.addr[f->src], ip4[H_A], 4);
	/* each end's own MAC, never the broadcast address */
	ck_assert_uint_eq(f->has_mac, 0xf);
	ck_assert_mem_eq(f->mac[a], mac[H_A], 6);
	ck_assert_mem_eq(f->mac[b], mac[H_B], 6);
	/* not an IP flow */
	ck_assert_int_eq(pb_flow_community_id(cid, f, 0), -1);
	/* another question is another flow */
	arp_frame(&fr, mac_bcast, H_A, 1, zero, H_C);
	ck_assert_ptr_ne(feed_frame(T0 + SEC, &fr, NULL, &d), f);
	ck_assert_uint_eq(g_t.st.flows, 2);
}
END_TEST

START_TEST(test_key_undecodable)
{
	struct pb_decoded d;
	struct pb_flow *f;

	start();
	/* TCP whose ports were cut off, and not a later fragment */
	mk_tcp(&d, H_A, 0, H_B, 0, 0);
	d.has_ports = 0;
	d.layers &= ~(uint32_t)PB_LAYER_TCP;
	ck_assert_ptr_null(feed(T0, 40, &d));
	ck_assert_uint_eq(g_t.st.undecodable, 1);
	/* IP with no protocol read */
	mk_ip(&d, H_A, H_B, 0);
	d.has_proto = 0;
	ck_assert_ptr_null(feed(T0 + 1, 30, &d));
	ck_assert_uint_eq(g_t.st.undecodable, 2);
	/* nothing at all: not IP, no addresses */
	memset(&d, 0, sizeof(d));
	ck_assert_ptr_null(feed(T0 + 2, 10, &d));
	ck_assert_uint_eq(g_t.st.not_ip, 1);
	ck_assert_uint_eq(g_t.st.flows, 0);
	ck_assert_uint_eq(g_t.st.counted, 0);
	ck_assert_uint_eq(g_t.st.packets, 3);
	/* a later fragment has no ports by nature: an address flow */
	mk_tcp(&d, H_A, 0, H_B, 0, 0);
	d.has_ports = 0;
	d.is_fragment = 1;
	f = feed(T0 + 3, 600, &d);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->key.kind, PB_FK_IP);
	ck_assert_uint_eq(f->key.proto, 6);
	ck_assert_uint_eq(g_t.st.undecodable, 2);
	ck_assert_uint_eq(g_t.st.flows, 1);
}
END_TEST

START_TEST(test_key_fragments)
{
	struct pb_decoded d;
	struct pb_flow *f;

	start();
	/* held for reassembly: counted later, with its datagram */
	mk_udp(&d, H_A, 5000, H_B, 6000);
	d.is_fragment = 1;
	d.frag_held = 1;
	ck_assert_ptr_null(feed(T0, 1514, &d));
	ck_assert_uint_eq(g_t.st.frag_held, 1);
	ck_assert_uint_eq(g_t.st.flows, 0);
	ck_assert_uint_eq(g_t.st.counted, 0);
	/* the datagram completed by the third frame counts all three */
	mk_udp(&d, H_A, 5000, H_B, 6000);
	d.is_fragment = 1;
	d.frag_frames = 3;
	d.frag_wire = 1514 + 1514 + 400;
	f = feed(T0 + 1, 400, &d);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->packets[end_of(f, H_A)], 3);
	ck_assert_uint_eq(f->bytes[end_of(f, H_A)], 3428);
	ck_assert_uint_eq(f->packets[end_of(f, H_B)], 0);
	ck_assert_uint_eq(g_t.st.counted, 3);
	ck_assert_uint_eq(g_t.st.packets, 2);
}
END_TEST

/* One UDP datagram, 5000 -> 6000 with 32 bytes of payload, in three
 * IPv4 fragments of 16, 16 and 8 bytes. */
static void frag_frame(struct frame *f, int part)
{
	static const uint8_t udp[8] = { 0x13, 0x88, 0x17, 0x70, 0, 40, 0, 0 };
	static const uint16_t off[3] = { 0, 16, 32 }, len[3] = { 16, 16, 8 };
	uint8_t body[40];

	memcpy(body, udp, 8);
	memcpy(body + 8, "0123456789abcdef0123456789abcdef", 32);
	f->n = 0;
	put_eth(f, mac[H_B], mac[H_A]);
	put16(f, 0x0800);
	put_ip4(f, H_A, H_B, 17, len[part], 0x4242,
		(uint16_t)((part < 2 ? 0x2000 : 0) | off[part] / 8));
	put(f, body + off[part], len[part]);
}

START_TEST(test_key_fragments_decoded)
{
	struct pb_decoder dec;
	struct pb_decoded d;
	struct pb_flow *f;
	struct frame fr;
	int i;

	start();
	ck_assert_int_eq(pb_decoder_init(&dec, 1, NULL), 0);
	for (i = 0; i < 2; i++) {
		frag_frame(&fr, i);
		ck_assert_ptr_null(feed_frame(T0 + i, &fr, &dec, &d));
		ck_assert_uint_eq(d.frag_held, 1);
	}
	frag_frame(&fr, 2);
	f = feed_frame(T0 + 2, &fr, &dec, &d);
	ck_assert_uint_eq(d.frag_frames, 3);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->key.kind, PB_FK_PORTS);
	ck_assert_uint_eq(f->key.port[end_of(f, H_A)], 5000);
	ck_assert_uint_eq(f->key.port[end_of(f, H_B)], 6000);
	ck_assert_uint_eq(f->packets[end_of(f, H_A)], 3);
	ck_assert_uint_eq(f->bytes[end_of(f, H_A)], 50 + 50 + 42);
	ck_assert_uint_eq(g_t.st.frag_held, 2);
	ck_assert_uint_eq(g_t.st.counted, 3);
	ck_assert_uint_eq(g_t.st.flows, 1);
	pb_decoder_finish(&dec);
	pb_decoder_release(&dec);
}
END_TEST

START_TEST(test_key_macs)
{
	struct pb_decoded d;
	struct pb_flow *f;

	/* _i 0: allow_mismatched_eth (the default); 1: MACs in the key */
	g_fc.key_macs = (uint8_t)_i;
	start();
	mk_udp(&d, H_A, 1000, H_B, 2000);
	f = feed(T0, 100, &d);
	mk_udp(&d, H_B, 2000, H_A, 1000);
	ck_assert_ptr_eq(feed(T0 + 1, 100, &d), f);
	/* the same addresses and ports through another router (C's MAC) */
	mk_udp(&d, H_A, 1000, H_B, 2000);
	d.dst_mac = mac[H_C];
	feed(T0 + 2, 100, &d);
	ck_assert_uint_eq(g_t.st.flows, _i ? 2 : 1);
	ck_assert_uint_eq(f->packets[0] + f->packets[1], _i ? 2 : 3);
	if (_i) {
		ck_assert_mem_eq(f->key.mac[end_of(f, H_A)], mac[H_A], 6);
		ck_assert_mem_eq(f->key.mac[end_of(f, H_B)], mac[H_B], 6);
	}
}
END_TEST

/* ---- timeouts ---- */

START_TEST(test_timeout_edge)
{
	struct pb_decoded d;
	struct pb_flow *f;

	g_fc.timeout_ns = 30 * SEC;
	start();
	mk_udp(&d, H_A, 1000, H_B, 2000);
	f = feed(T0, 100, &d);
	/* exactly the timeout after the last packet: still the flow */
	ck_assert_ptr_eq(feed(T0 + 30 * SEC, 100, &d), f);
	ck_assert_int_eq(g_nrep, 0);
	ck_assert_uint_eq(f->packets[0], 2);
	/* one nanosecond more: the flow ended when its timeout ran out,
	 * before this packet started another */
	f = feed(T0 + 60 * SEC + 1, 100, &d);
	ck_assert_int_eq(g_nrep, 1);
	ck_assert_int_eq(g_rep[0].why, PB_FLOW_TIMEOUT);
	ck_assert_int_eq(g_rep[0].when, T0 + 60 * SEC);
	ck_assert_uint_eq(g_rep[0].f.packets[0], 2);
	ck_assert_int_eq(g_rep[0].f.first_ns, T0);
	ck_assert_int_eq(g_rep[0].f.last_ns, T0 + 30 * SEC);
	ck_assert_int_eq(f->create_ns, T0 + 60 * SEC + 1);
	ck_assert_uint_eq(f->packets[0], 1);
	ck_assert_uint_eq(g_t.st.flows, 2);
	ck_assert_uint_eq(g_t.st.timed_out, 1);
	ck_assert_uint_eq(g_t.st.active, 1);
}
END_TEST

START_TEST(test_timeout_order)
{
	struct pb_decoded d;

	g_fc.timeout_ns = 30 * SEC;
	start();
	/* three flows idle since 1, 2 and 3 s; B's flow touched again */
	mk_udp(&d, H_A, 1, H_B, 1);
	feed(T0 + 1 * SEC, 100, &d);
	mk_udp(&d, H_A, 1, H_C, 1);
	feed(T0 + 2 * SEC, 100, &d);
	mk_udp(&d, H_A, 1, H_D, 1);
	feed(T0 + 3 * SEC, 100, &d);
	mk_udp(&d, H_A, 1, H_B, 1);
	feed(T0 + 4 * SEC, 100, &d);
	pb_flow_advance(&g_t, T0 + 100 * SEC);
	ck_assert_int_eq(g_nrep, 3);
	ck_assert_mem_eq(g_rep[0].f.key.addr[1], ip4[H_C], 4);
	ck_assert_int_eq(g_rep[0].when, T0 + 32 * SEC);
	ck_assert_mem_eq(g_rep[1].f.key.addr[1], ip4[H_D], 4);
	ck_assert_int_eq(g_rep[1].when, T0 + 33 * SEC);
	ck_assert_mem_eq(g_rep[2].f.key.addr[1], ip4[H_B], 4);
	ck_assert_int_eq(g_rep[2].when, T0 + 34 * SEC);
	ck_assert_int_eq(g_rep[2].why, PB_FLOW_TIMEOUT);
	ck_assert_uint_eq(g_t.st.active, 0);
	ck_assert_int_eq(g_t.clock, T0 + 100 * SEC);
}
END_TEST

/* ---- periods ---- */

/* Report i is an interim report at T0 + s seconds of a flow that has
 * counted packets packets. */
static void assert_interim(int i, int64_t s, uint64_t packets)
{
	ck_assert_int_eq(g_rep[i].why, PB_FLOW_INTERIM);
	ck_assert_int_eq(g_rep[i].when, T0 + s * SEC);
	ck_assert_int_eq(g_rep[i].when % g_fc.period_ns, 0);
	ck_assert_uint_eq(g_rep[i].f.packets[0] + g_rep[i].f.packets[1], packets);
}

START_TEST(test_period_boundaries)
{
	static const int64_t at[] = { 1, 5, 12, 35, 36, 41 };
	struct pb_decoded d;
	size_t i;

	g_fc.period_ns = 10 * SEC;
	start();
	mk_udp(&d, H_A, 1000, H_B, 2000);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		feed(T0 + at[i] * SEC, 100, &d);
	pb_flow_finish(&g_t);
	/* active in [0,10), [10,20), [30,40); idle in [20,30) */
	ck_assert_int_eq(g_nrep, 4);
	assert_interim(0, 10, 2);
	assert_interim(1, 20, 3);
	assert_interim(2, 40, 5);
	ck_assert_int_eq(g_rep[3].why, PB_FLOW_END);
	ck_assert_int_eq(g_rep[3].when, T0 + 41 * SEC);
	ck_assert_uint_eq(g_rep[3].f.packets[0], 6);
	ck_assert_uint_eq(g_t.st.interim, 3);
	ck_assert_uint_eq(g_t.st.ended, 1);
}
END_TEST

START_TEST(test_period_packet_on_boundary)
{
	struct pb_decoded d;

	g_fc.period_ns = 10 * SEC;
	start();
	mk_udp(&d, H_A, 1000, H_B, 2000);
	feed(T0 + 5 * SEC, 100, &d);
	/* at 10 s exactly: the period [0,10) is reported without it */
	feed(T0 + 10 * SEC, 100, &d);
	ck_assert_int_eq(g_nrep, 1);
	assert_interim(0, 10, 1);
	/* it made the flow active in [10,20) */
	feed(T0 + 25 * SEC, 100, &d);
	ck_assert_int_eq(g_nrep, 2);
	assert_interim(1, 20, 2);
	pb_flow_finish(&g_t);
	ck_assert_int_eq(g_nrep, 3);
	ck_assert_int_eq(g_rep[2].when, T0 + 25 * SEC);
	/* a flow whose first packet is on a boundary */
	mk_udp(&d, H_C, 1000, H_B, 2000);
	feed(T0 + 30 * SEC, 100, &d);
	pb_flow_advance(&g_t, T0 + 40 * SEC);
	ck_assert_int_eq(g_nrep, 4);
	assert_interim(3, 40, 1);
}
END_TEST

START_TEST(test_period_off)
{
	static const int64_t at[] = { 1, 15, 25, 47 };
	struct pb_decoded d;
	size_t i;

	g_fc.period_ns = -1;
	start();
	mk_udp(&d, H_A, 1000, H_B, 2000);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		feed(T0 + at[i] * SEC, 100, &d);
	pb_flow_advance(&g_t, T0 + 60 * SEC);
	ck_assert_int_eq(g_nrep, 0);
	pb_flow_finish(&g_t);
	ck_assert_int_eq(g_nrep, 1);
	ck_assert_int_eq(g_rep[0].why, PB_FLOW_END);
	ck_assert_int_eq(g_rep[0].when, T0 + 60 * SEC);
	ck_assert_uint_eq(g_rep[0].f.packets[0], 4);
	ck_assert_uint_eq(g_t.st.interim, 0);
}
END_TEST

START_TEST(test_period_time_jump)
{
	const int64_t later = T0 + INT64_C(100) * 365 * 86400 * SEC;
	struct pb_decoded d;
	int i;

	g_fc.period_ns = 10 * SEC;
	g_fc.timeout_ns = 30 * SEC;
	start();
	mk_udp(&d, H_A, 1000, H_B, 2000);
	feed(T0 + SEC, 100, &d);
	/* a century later (a bad timestamp): ten billion boundaries with
	 * nothing to report, which must not be walked one by one */
	mk_udp(&d, H_C, 1000, H_B, 2000);
	feed(later, 100, &d);
	ck_assert_int_eq(g_nrep, 2);
	assert_interim(0, 10, 1);
	ck_assert_int_eq(g_rep[1].why, PB_FLOW_TIMEOUT);
	ck_assert_int_eq(g_rep[1].when, T0 + 31 * SEC);
	ck_assert_int_eq(g_t.clock, later);
	/* and on from there, as usual */
	feed(later + 10 * SEC, 100, &d);
	pb_flow_finish(&g_t);
	ck_assert_int_eq(g_nrep, 4);
	ck_assert_int_eq(g_rep[2].why, PB_FLOW_INTERIM);
	ck_assert_int_eq(g_rep[2].when, (later / (10 * SEC) + 1) * 10 * SEC);
	ck_assert_int_eq(g_rep[3].why, PB_FLOW_END);
	for (i = 1; i < g_nrep; i++)
		ck_assert_int_le(g_rep[i - 1].when, g_rep[i].when);
}
END_TEST

START_TEST(test_period_clock_limit)
{
	struct pb_decoded d;
	struct pb_flow *f;

	g_fc.period_ns = 10 * SEC;
	g_fc.timeout_ns = 30 * SEC;
	start();
	mk_udp(&d, H_A, 1000, H_B, 2000);
	feed(T0 + SEC, 100, &d);
	/* a timestamp past 2262 (a pcapng with a bogus one) is held at the
	 * largest time there is, INT64_MAX: time still moves there */
	mk_udp(&d, H_C, 1000, H_B, 2000);
	f = feed(INT64_MAX, 100, &d);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(g_t.clock, INT64_MAX);
	ck_assert_int_eq(g_nrep, 2);
	assert_interim(0, 10, 1);
	ck_assert_int_eq(g_rep[1].why, PB_FLOW_TIMEOUT);
	ck_assert_int_eq(g_rep[1].when, T0 + 31 * SEC);
	pb_flow_finish(&g_t);
	ck_assert_int_eq(g_nrep, 3);
	ck_assert_int_eq(g_rep[2].why, PB_FLOW_END);
	ck_assert_int_eq(g_rep[2].when, INT64_MAX);
}
END_TEST

START_TEST(test_period_clock_limit_active)
{
	const int64_t near = INT64_C(9223372035) * SEC;
	struct pb_decoded d;
	struct pb_flow *f;

	g_fc.period_ns = 10 * SEC;
	g_fc.timeout_ns = 30 * SEC;
	start();
	/* 9223372030 s was the last boundary; the next is past INT64_MAX */
	mk_udp(&d, H_A, 1000, H_B, 2000);
	f = feed(near, 100, &d);
	f = feed(INT64_MAX, 100, &d);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(g_nrep, 0);
	ck_assert_uint_eq(f->packets[0], 2);
	pb_flow_finish(&g_t);
	ck_assert_int_eq(g_nrep, 1);
	ck_assert_int_eq(g_rep[0].why, PB_FLOW_END);
	ck_assert_int_eq(g_rep[0].when, INT64_MAX);
}
END_TEST

START_TEST(test_period_delta)
{
	struct pb_decoded d;

	g_fc.period_ns = 10 * SEC;
	g_fc.delta = 1;
	start();
	mk_udp(&d, H_A, 1000, H_B, 2000);
	feed(T0 + 1 * SEC, 100, &d);
	feed(T0 + 2 * SEC, 100, &d);
	feed(T0 + 15 * SEC, 50, &d);
	feed(T0 + 25 * SEC, 70, &d);
	pb_flow_finish(&g_t);
	/* each report counts what came since the one before */
	ck_assert_int_eq(g_nrep, 3);
	assert_interim(0, 10, 2);
	ck_assert_uint_eq(g_rep[0].f.bytes[0], 200);
	assert_interim(1, 20, 1);
	ck_assert_uint_eq(g_rep[1].f.bytes[0], 50);
	ck_assert_int_eq(g_rep[2].why, PB_FLOW_END);
	ck_assert_uint_eq(g_rep[2].f.packets[0], 1);
	ck_assert_uint_eq(g_rep[2].f.bytes[0], 70);
	/* the times still cover the whole flow */
	ck_assert_int_eq(g_rep[2].f.first_ns, T0 + SEC);
	ck_assert_int_eq(g_rep[2].f.last_ns, T0 + 25 * SEC);
}
END_TEST

START_TEST(test_period_not_delta)
{
	struct pb_decoded d;

	g_fc.period_ns = 10 * SEC;
	start();
	mk_udp(&d, H_A, 1000, H_B, 2000);
	feed(T0 + 1 * SEC, 100, &d);
	feed(T0 + 15 * SEC, 50, &d);
	pb_flow_finish(&g_t);
	ck_assert_int_eq(g_nrep, 2);
	assert_interim(0, 10, 1);
	ck_assert_uint_eq(g_rep[1].f.packets[0], 2);
	ck_assert_uint_eq(g_rep[1].f.bytes[0], 150);
}
END_TEST

/* ---- out of order ---- */

START_TEST(test_late_packet)
{
	struct pb_decoded d;
	struct pb_flow *x, *z;

	g_fc.timeout_ns = 30 * SEC;
	start();
	mk_udp(&d, H_A, 1000, H_B, 2000);
	x = feed(T0 + 100 * SEC, 100, &d);
	mk_udp(&d, H_C, 1000, H_D, 2000);
	feed(T0 + 105 * SEC, 100, &d);
	/* from the other file of a merge, five seconds behind */
	mk_udp(&d, H_B, 2000, H_A, 1000);
	ck_assert_ptr_eq(feed(T0 + 95 * SEC, 60, &d), x);
	ck_assert_uint_eq(g_t.st.late, 1);
	ck_assert_int_eq(g_t.clock, T0 + 105 * SEC);
	ck_assert_uint_eq(x->packets[end_of(x, H_B)], 1);
	ck_assert_uint_eq(x->bytes[end_of(x, H_B)], 60);
	ck_assert_int_eq(x->first_ns, T0 + 95 * SEC);
	ck_assert_uint_eq(x->first_pkt, 3);
	ck_assert_int_eq(x->last_ns, T0 + 100 * SEC);
	ck_assert_uint_eq(x->last_pkt, 1);
	ck_assert_int_eq(x->create_ns, T0 + 100 * SEC);
	/* a late packet of a new flow */
	mk_udp(&d, H_D, 3000, H_A, 4000);
	z = feed(T0 + 90 * SEC, 60, &d);
	ck_assert_uint_eq(g_t.st.late, 2);
	ck_assert_int_eq(z->first_ns, T0 + 90 * SEC);
	ck_assert_int_eq(g_t.clock, T0 + 105 * SEC);
	/* nothing ended on account of the old times: all three were seen
	 * at the clock, 105 s, and time out together, in activity order */
	pb_flow_advance(&g_t, T0 + 135 * SEC);
	ck_assert_int_eq(g_nrep, 0);
	pb_flow_advance(&g_t, T0 + 136 * SEC);
	ck_assert_int_eq(g_nrep, 3);
	ck_assert_mem_eq(g_rep[0].f.key.addr[0], ip4[H_C], 4);
	ck_assert_mem_eq(g_rep[1].f.key.addr[1], ip4[H_B], 4);
	ck_assert_mem_eq(g_rep[2].f.key.addr[1], ip4[H_D], 4);
	ck_assert_int_eq(g_rep[1].when, T0 + 135 * SEC);
	ck_assert_int_eq(g_rep[1].f.first_ns, T0 + 95 * SEC);
	ck_assert_uint_eq(g_rep[1].f.packets[0] + g_rep[1].f.packets[1], 2);
}
END_TEST

/* ---- eviction and the end ---- */

START_TEST(test_evict_least_recent)
{
	struct pb_decoded d;
	struct pb_flow *f;

	g_fc.max_flows = 2;
	start();
	mk_udp(&d, H_A, 1000, H_B, 2000);
	feed(T0 + 1 * SEC, 100, &d);
	mk_udp(&d, H_A, 1000, H_C, 2000);
	feed(T0 + 2 * SEC, 100, &d);
	/* B's flow is the oldest made, but C's is the least recently active */
	mk_udp(&d, H_B, 2000, H_A, 1000);
	feed(T0 + 3 * SEC, 100, &d);
	mk_udp(&d, H_A, 1000, H_D, 2000);
	f = feed(T0 + 4 * SEC, 100, &d);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(g_nrep, 1);
	ck_assert_int_eq(g_rep[0].why, PB_FLOW_EVICTED);
	ck_assert_int_eq(g_rep[0].when, T0 + 4 * SEC);
	ck_assert_mem_eq(g_rep[0].f.key.addr[1], ip4[H_C], 4);
	ck_assert_uint_eq(g_t.st.evicted, 1);
	ck_assert_uint_eq(g_t.st.active, 2);
	ck_assert_uint_eq(g_t.st.peak, 2);
	ck_assert_uint_eq(g_t.st.flows, 3);
	ck_assert_mem_eq(f->key.addr[1], ip4[H_D], 4);
	/* B's flow goes on */
	mk_udp(&d, H_A, 1000, H_B, 2000);
	f = feed(T0 + 5 * SEC, 100, &d);
	ck_assert_uint_eq(f->packets[0] + f->packets[1], 3);
	ck_assert_uint_eq(g_t.st.flows, 3);
	ck_assert_int_eq(g_nrep, 1);
}
END_TEST

START_TEST(test_finish_order)
{
	static const int seq[] = { H_B, H_C, H_D, H_B };
	struct pb_decoded d;
	size_t i;

	start();
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		mk_udp(&d, H_A, 1000, seq[i], 2000);
		feed(T0 + (int64_t)(i + 1) * SEC, 100, &d);
	}
	ck_assert_int_eq(g_nrep, 0);
	pb_flow_finish(&g_t);
	ck_assert_int_eq(g_nrep, 3);
	ck_assert_mem_eq(g_rep[0].f.key.addr[1], ip4[H_C], 4);
	ck_assert_mem_eq(g_rep[1].f.key.addr[1], ip4[H_D], 4);
	ck_assert_mem_eq(g_rep[2].f.key.addr[1], ip4[H_B], 4);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(g_rep[i].why, PB_FLOW_END);
		ck_assert_int_eq(g_rep[i].when, T0 + 4 * SEC);
	}
	ck_assert_uint_eq(g_rep[2].f.packets[0], 2);
	ck_assert_uint_eq(g_t.st.ended, 3);
	ck_assert_uint_eq(g_t.st.active, 0);
	/* nothing left to end */
	pb_flow_finish(&g_t);
	ck_assert_int_eq(g_nrep, 3);
}
END_TEST

START_TEST(test_many_flows)
{
	struct pb_decoded d;
	struct pb_flow *f;
	uint32_t i;

	/* past the first 1024 entries and buckets: the table grows and
	 * every flow is still found, from either end */
	start();
	for (i = 0; i < 3000; i++) {
		mk_udp(&d, H_A, (uint16_t)(10000 + i), H_B, 53);
		ck_assert_ptr_nonnull(feed(T0 + i, 80, &d));
	}
	ck_assert_uint_gt(g_t.mask, 1023);
	for (i = 0; i < 3000; i++) {
		mk_udp(&d, H_B, 53, H_A, (uint16_t)(10000 + i));
		f = feed(T0 + 3000 + i, 120, &d);
		ck_assert_uint_eq(f->key.port[end_of(f, H_A)], 10000 + i);
		ck_assert_uint_eq(f->packets[0] + f->packets[1], 2);
	}
	ck_assert_uint_eq(g_t.st.flows, 3000);
	ck_assert_uint_eq(g_t.st.peak, 3000);
	pb_flow_finish(&g_t);
	ck_assert_int_eq(g_nrep, 3000);
	ck_assert_uint_eq(g_t.st.active, 0);
}
END_TEST

/* ---- configuration ---- */

static struct pb_conf g_conf;

static int conf_load(const char *yaml)
{
	ck_assert_int_eq(pb_conf_init(&g_conf), 0);
	ck_assert_int_eq(pb_conf_load_string(&g_conf, "flows.yml", yaml), 0);
	pb_flow_conf_init(&g_fc);
	return pb_flow_conf_load(&g_fc, &g_conf);
}

static void conf_teardown(void)
{
	pb_conf_release(&g_conf);
}

START_TEST(test_conf_defaults)
{
	ck_assert_int_eq(conf_load("packetbeat.interfaces.device: any\n"), 0);
	ck_assert_int_eq(g_fc.enabled, 1);
	ck_assert_int_eq(g_fc.timeout_ns, 30 * SEC);
	ck_assert_int_eq(g_fc.period_ns, 10 * SEC);
	ck_assert_uint_eq(g_fc.max_flows, 1u << 20);
	ck_assert_uint_eq(g_fc.key_macs, 0);
	ck_assert_uint_eq(g_fc.delta, 0);
}
END_TEST

START_TEST(test_conf_values)
{
	ck_assert_int_eq(conf_load("packetbeat.flows:\n"
				   "  timeout: 1m30s\n"
				   "  period: -1\n"
				   "  max_flows: 2\n"
				   "  allow_mismatched_eth: false\n"
				   "  enable_delta_flow_reports: true\n"), 0);
	ck_assert_int_eq(g_fc.timeout_ns, 90 * SEC);
	ck_assert_int_eq(g_fc.period_ns, -1);
	ck_assert_uint_eq(g_fc.max_flows, 2);
	ck_assert_uint_eq(g_fc.key_macs, 1);
	ck_assert_uint_eq(g_fc.delta, 1);
	conf_teardown();
	ck_assert_int_eq(conf_load("packetbeat.flows.allow_mismatched_eth: true\n"
				   "packetbeat.flows.timeout: 1s\n"
				   "packetbeat.flows.period: 1s\n"
				   "packetbeat.flows.enabled: false\n"), 0);
	ck_assert_uint_eq(g_fc.key_macs, 0);
	ck_assert_int_eq(g_fc.timeout_ns, SEC);
	ck_assert_int_eq(g_fc.period_ns, SEC);
	ck_assert_int_eq(g_fc.enabled, 0);
}
END_TEST

static const struct {
	const char *yaml, *err;
} bad_conf[] = {
	{ "packetbeat.flows.timeout: 999ms\n",
	  "flows.yml:1: packetbeat.flows.timeout: must be at least 1s" },
	{ "packetbeat.flows.timeout: -1\n",
	  "flows.yml:1: packetbeat.flows.timeout: must be at least 1s" },
	{ "packetbeat.flows.period: 0.5s\n",
	  "flows.yml:1: packetbeat.flows.period: must be -1 or at least 1s" },
	{ "packetbeat.flows.period: 0\n",
	  "flows.yml:1: packetbeat.flows.period: must be -1 or at least 1s" },
	{ "packetbeat.flows:\n  max_flows: 0\n",
	  "flows.yml:2: packetbeat.flows.max_flows: must be between 1 and 268435456" },
	{ "packetbeat.flows.max_flows: 268435457\n",
	  "flows.yml:1: packetbeat.flows.max_flows: must be between 1 and 268435456" },
	{ "packetbeat.flows.timeout: soon\n",
	  "flows.yml:1: packetbeat.flows.timeout: 'soon' is not a duration (like 10s or 500ms)" },
	{ "packetbeat.flows.enable_delta_flow_reports: maybe\n",
	  "flows.yml:1: packetbeat.flows.enable_delta_flow_reports: 'maybe' is not true or false" },
};

START_TEST(test_conf_rejected)
{
	ck_assert_int_eq(conf_load(bad_conf[_i].yaml), PB_EUSAGE);
	ck_assert_str_eq(g_conf.err, bad_conf[_i].err);
}
END_TEST

/* ---- flow.id and community_id ---- */

/* The flow of one TCP packet from host `from` at ns, in a table of its own. */
static void lone_flow(struct pb_flow *out, int from, int to, int64_t ns)
{
	struct pb_flow_table t;
	struct pb_packet p;
	struct pb_decoded d;
	struct pb_flow *f;

	ck_assert_int_eq(pb_flow_table_init(&t, NULL, NULL, NULL), 0);
	/* no privileged port: the first sender is the source */
	mk_tcp(&d, from, from == H_A ? 40000 : 8080, to, to == H_A ? 40000 : 8080,
	       PB_TCP_ACK);
	packet_at(&p, ns, 66);
	f = pb_flow_packet(&t, &p, &d);
	ck_assert_ptr_nonnull(f);
	*out = *f;
	pb_flow_table_release(&t);
}

static int is_b64url(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

START_TEST(test_flow_id)
{
	struct pb_flow ab, ba, later;
	char id1[PB_FLOW_ID_LEN + 1], id2[PB_FLOW_ID_LEN + 1], id3[PB_FLOW_ID_LEN + 1];
	char again[PB_FLOW_ID_LEN + 1];

	lone_flow(&ab, H_A, H_B, T0 + 123);
	lone_flow(&ba, H_B, H_A, T0 + 123);
	lone_flow(&later, H_A, H_B, T0 + 124);
	ck_assert_int_ne(ab.src, ba.src);
	pb_flow_id(id1, &ab);
	pb_flow_id(id2, &ba);
	pb_flow_id(id3, &later);
	ck_assert_uint_eq(strlen(id1), PB_FLOW_ID_LEN);
	ck_assert_uint_eq(strlen(id3), PB_FLOW_ID_LEN);
	ck_assert_msg(is_b64url(id1), "'%s' is not base64url", id1);
	ck_assert_msg(is_b64url(id3), "'%s' is not base64url", id3);
	/* the same conversation started at the same instant, whichever
	 * end spoke first; another start is another flow */
	ck_assert_str_eq(id1, id2);
	ck_assert_str_ne(id1, id3);
	/* and it does not change as the flow goes on */
	ab.packets[0] += 10;
	ab.last_ns += SEC;
	pb_flow_id(again, &ab);
	ck_assert_str_eq(again, id1);
}
END_TEST

START_TEST(test_community_id)
{
	struct pb_decoded d;
	struct pb_flow *f;
	char cid[PB_COMMUNITY_ID_LEN + 1];

	start();
	/* the spec's example: 128.232.110.120:34855 -> 66.35.250.204:80 */
	mk_tcp(&d, H_SPEC_C, 34855, H_SPEC_S, 80, PB_TCP_SYN);
	f = feed(T0, 74, &d);
	ck_assert_int_eq(pb_flow_community_id(cid, f, 0), 0);
	ck_assert_str_eq(cid, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	/* the answer changes nothing; another seed changes it all */
	mk_tcp(&d, H_SPEC_S, 80, H_SPEC_C, 34855, PB_TCP_SYN | PB_TCP_ACK);
	f = feed(T0 + SEC, 74, &d);
	ck_assert_int_eq(pb_flow_community_id(cid, f, 0), 0);
	ck_assert_str_eq(cid, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	ck_assert_int_eq(pb_flow_community_id(cid, f, 1), 0);
	ck_assert_str_ne(cid, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
}
END_TEST

START_TEST(test_community_id_reverse_first)
{
	struct pb_decoded d;
	struct pb_flow *f;
	char cid[PB_COMMUNITY_ID_LEN + 1];

	start();
	mk_tcp(&d, H_SPEC_S, 80, H_SPEC_C, 34855, PB_TCP_ACK);
	f = feed(T0, 66, &d);
	ck_assert_int_eq(pb_flow_community_id(cid, f, 0), 0);
	ck_assert_str_eq(cid, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
}
END_TEST

/* ---- the flow event ---- */

static cJSON *jget(cJSON *o, const char *path)
{
	char buf[128], *p, *dot;

	ck_assert_uint_lt(strlen(path), sizeof(buf));
	strcpy(buf, path);
	for (p = buf; o && p; p = dot) {
		dot = strchr(p, '.');
		if (dot)
			*dot++ = '\0';
		o = cJSON_GetObjectItemCaseSensitive(o, p);
	}
	ck_assert_msg(o != NULL, "no %s", path);
	return o;
}

static double jnum(cJSON *o, const char *path)
{
	cJSON *n = jget(o, path);

	ck_assert_msg(cJSON_IsNumber(n), "%s is not a number", path);
	return n->valuedouble;
}

static const char *jstr(cJSON *o, const char *path)
{
	cJSON *n = jget(o, path);

	ck_assert_msg(cJSON_IsString(n), "%s is not a string", path);
	return n->valuestring;
}

/* Write report i and parse it back. */
static cJSON *record_of(int i, struct pb_buf *b)
{
	cJSON *j;

	pb_buf_init(b, 1 << 16);
	pb_flow_record(b, &g_rep[i].f, g_rep[i].when, g_rep[i].why, NULL);
	ck_assert_uint_gt(b->len, 0);
	ck_assert_int_eq(b->data[b->len - 1], '\n');
	j = cJSON_Parse(pb_buf_cstr(b));
	ck_assert_msg(j != NULL, "not JSON: %s", pb_buf_cstr(b));
	return j;
}

START_TEST(test_record_final)
{
	struct pb_decoded d;
	struct pb_buf b;
	cJSON *j, *a;
	char id[PB_FLOW_ID_LEN + 1], cid[PB_COMMUNITY_ID_LEN + 1];

	start();
	mk_tcp(&d, H_B, 40000, H_A, 80, PB_TCP_SYN);
	feed(T0, 74, &d);
	mk_tcp(&d, H_A, 80, H_B, 40000, PB_TCP_SYN | PB_TCP_ACK);
	feed(T0 + 1000, 74, &d);
	mk_tcp(&d, H_B, 40000, H_A, 80, PB_TCP_ACK);
	feed(T0 + 2000, 66, &d);
	feed(T0 + 3000, 166, &d);
	pb_flow_finish(&g_t);
	ck_assert_int_eq(g_nrep, 1);

	j = record_of(0, &b);
	ck_assert_str_eq(jstr(j, "type"), "flow");
	a = jget(j, "event.type");
	ck_assert_int_eq(cJSON_GetArraySize(a), 2);
	ck_assert_str_eq(cJSON_GetArrayItem(a, 0)->valuestring, "connection");
	ck_assert_str_eq(cJSON_GetArrayItem(a, 1)->valuestring, "end");
	ck_assert_msg(cJSON_IsTrue(jget(j, "flow.final")), "flow.final");
	pb_flow_id(id, &g_rep[0].f);
	ck_assert_str_eq(jstr(j, "flow.id"), id);
	ck_assert_str_eq(jstr(j, "source.ip"), "10.0.0.2");
	ck_assert_int_eq(jnum(j, "source.port"), 40000);
	ck_assert_str_eq(jstr(j, "source.mac"), "02-00-00-00-00-02");
	ck_assert_int_eq(jnum(j, "source.packets"), 3);
	ck_assert_int_eq(jnum(j, "source.bytes"), 74 + 66 + 166);
	ck_assert_str_eq(jstr(j, "destination.ip"), "10.0.0.1");
	ck_assert_int_eq(jnum(j, "destination.port"), 80);
	ck_assert_int_eq(jnum(j, "destination.packets"), 1);
	ck_assert_int_eq(jnum(j, "destination.bytes"), 74);
	ck_assert_int_eq(jnum(j, "network.bytes"), 74 + 66 + 166 + 74);
	ck_assert_int_eq(jnum(j, "network.packets"), 4);
	ck_assert_str_eq(jstr(j, "network.transport"), "tcp");
	ck_assert_str_eq(jstr(j, "network.type"), "ipv4");
	ck_assert_int_eq(pb_flow_community_id(cid, &g_rep[0].f, 0), 0);
	ck_assert_str_eq(jstr(j, "network.community_id"), cid);
	ck_assert_int_eq(jnum(j, "event.duration"), 3000);
	ck_assert_str_eq(jstr(j, "pb.flow.end_reason"), "end_of_input");
	ck_assert_str_eq(jstr(j, "pb.flow.source_from"), "open");
	ck_assert_int_eq(jnum(j, "pb.packet.first"), 1);
	ck_assert_int_eq(jnum(j, "pb.packet.last"), 4);
	cJSON_Delete(j);
	pb_buf_release(&b);
}
END_TEST

START_TEST(test_record_interim)
{
	struct pb_decoded d;
	struct pb_buf b;
	cJSON *j, *a;

	g_fc.period_ns = 10 * SEC;
	start();
	mk_udp(&d, H_A, 5353, H_B, 53);
	d.n_vlan = 2;
	d.vlan[0] = 7;
	d.vlan[1] = 8;
	feed(T0 + SEC, 80, &d);
	mk_udp(&d, H_B, 53, H_A, 5353);
	d.n_vlan = 2;
	d.vlan[0] = 7;
	d.vlan[1] = 8;
	feed(T0 + 2 * SEC, 120, &d);
	feed(T0 + 3 * SEC, 130, &d);
	pb_flow_advance(&g_t, T0 + 10 * SEC);
	ck_assert_int_eq(g_nrep, 1);

	j = record_of(0, &b);
	ck_assert_str_eq(jstr(j, "@timestamp"), "2023-11-14T22:13:30.000000000Z");
	a = jget(j, "event.type");
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(cJSON_GetArrayItem(a, 0)->valuestring, "connection");
	ck_assert_msg(cJSON_IsFalse(jget(j, "flow.final")), "flow.final");
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(jget(j, "pb.flow"),
							     "end_reason"));
	a = jget(j, "flow.vlan");
	ck_assert_int_eq(cJSON_GetArraySize(a), 2);
	ck_assert_int_eq(cJSON_GetArrayItem(a, 0)->valueint, 7);
	ck_assert_int_eq(cJSON_GetArrayItem(a, 1)->valueint, 8);
	ck_assert_str_eq(jstr(j, "source.ip"), "10.0.0.1");
	ck_assert_int_eq(jnum(j, "source.bytes"), 80);
	ck_assert_int_eq(jnum(j, "source.packets"), 1);
	ck_assert_int_eq(jnum(j, "destination.bytes"), 250);
	ck_assert_int_eq(jnum(j, "destination.packets"), 2);
	ck_assert_int_eq(jnum(j, "network.bytes"), 330);
	ck_assert_int_eq(jnum(j, "network.packets"), 3);
	ck_assert_str_eq(jstr(j, "network.transport"), "udp");
	ck_assert_str_eq(jstr(j, "pb.flow.source_from"), "first_packet");
	cJSON_Delete(j);
	pb_buf_release(&b);
}
END_TEST

static Suite *flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *tc;

	tc = tcase_create("direction");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dir_syn_first);
	tcase_add_test(tc, test_dir_synack_first);
	tcase_add_test(tc, test_dir_simultaneous_open);
	tcase_add_test(tc, test_dir_late_syn_flips);
	tcase_add_test(tc, test_dir_syn_beats_port);
	tcase_add_test(tc, test_dir_privileged_port);
	tcase_add_test(tc, test_dir_udp_first_sender);
	tcase_add_test(tc, test_dir_icmp_reply_first);
	tcase_add_test(tc, test_dir_counters_after_flip);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_key_both_directions);
	tcase_add_test(tc, test_key_vlan);
	tcase_add_test(tc, test_key_qinq);
	tcase_add_test(tc, test_key_icmp_echo_ids);
	tcase_add_test(tc, test_key_icmp_unreachable);
	tcase_add_test(tc, test_key_arp);
	tcase_add_test(tc, test_key_undecodable);
	tcase_add_test(tc, test_key_fragments);
	tcase_add_test(tc, test_key_fragments_decoded);
	tcase_add_loop_test(tc, test_key_macs, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_checked_fixture(tc, setup, teardown);
	/* a boundary walked one at a time would hang: fail instead */
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_timeout_edge);
	tcase_add_test(tc, test_timeout_order);
	tcase_add_test(tc, test_period_boundaries);
	tcase_add_test(tc, test_period_packet_on_boundary);
	tcase_add_test(tc, test_period_off);
	tcase_add_test(tc, test_period_time_jump);
	tcase_add_test(tc, test_period_delta);
	tcase_add_test(tc, test_period_not_delta);
	tcase_add_test(tc, test_late_packet);
	suite_add_tcase(s, tc);

	/* the end of time; a loop there shows as a timeout (CK_FORK=no
	 * runs, which have none, can leave it out: CK_EXCLUDE_TAGS=limits) */
	tc = tcase_create("limits");
	tcase_set_tags(tc, "limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_period_clock_limit);
	tcase_add_test(tc, test_period_clock_limit_active);
	suite_add_tcase(s, tc);

	tc = tcase_create("table");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_evict_least_recent);
	tcase_add_test(tc, test_finish_order);
	tcase_add_test(tc, test_many_flows);
	suite_add_tcase(s, tc);

	tc = tcase_create("conf");
	tcase_add_checked_fixture(tc, NULL, conf_teardown);
	tcase_add_test(tc, test_conf_defaults);
	tcase_add_test(tc, test_conf_values);
	tcase_add_loop_test(tc, test_conf_rejected, 0,
			    (int)(sizeof(bad_conf) / sizeof(bad_conf[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("ids");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_flow_id);
	tcase_add_test(tc, test_community_id);
	tcase_add_test(tc, test_community_id_reverse_first);
	suite_add_tcase(s, tc);

	tc = tcase_create("record");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_record_final);
	tcase_add_test(tc, test_record_interim);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(flow_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
