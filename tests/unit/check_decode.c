/*
 * check_decode.c - pb_decode() on hand-built frames: every link type, IPv4
 * and IPv6 with options and extension headers, TCP options, UDP, ICMP,
 * tags, ARP; hostile frames; and the packet record written for a frame.
 *
 * Frames are decoded from a heap copy of exactly their length, so a read
 * past the end shows under valgrind.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "decode/decode.h"
#include "event/packet_record.h"
#include "util/base64.h"
#include "util/buf.h"

/* ---- frame pieces ---- */

#define MAC_DST 0x02, 0x00, 0x00, 0x00, 0x00, 0x02
#define MAC_SRC 0x02, 0x00, 0x00, 0x00, 0x00, 0x01
#define IP4_ADDRS 192, 168, 1, 1, 192, 168, 1, 2
#define IP6_SRC 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
#define IP6_DST 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02

static const uint8_t eth_ip4[] = { MAC_DST, MAC_SRC, 0x08, 0x00 };
static const uint8_t eth_ip6[] = { MAC_DST, MAC_SRC, 0x86, 0xdd };

/* Ethernet / IPv4 / TCP with every option pbtools reads, and NS set. */
static const uint8_t tcp4[] = {
	MAC_DST, MAC_SRC, 0x08, 0x00,
	/* IPv4: IHL 5, total 84, id 0x1234, DF, TTL 64, TCP */
	0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00,
	0x40, 0x06, 0x00, 0x00, IP4_ADDRS,
	/* TCP 1234 -> 80, seq 0x01020304, ack 0x0a0b0c0d, offset 15, NS,
	 * CWR ECE SYN, window 65535 */
	0x04, 0xd2, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04,
	0x0a, 0x0b, 0x0c, 0x0d, 0xf1, 0xc2, 0xff, 0xff,
	0x00, 0x00, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4,                         /* MSS 1460 */
	0x03, 0x03, 0x07,                               /* window scale 7 */
	0x04, 0x02,                                     /* SACK permitted */
	0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2,             /* timestamps 1, 2 */
	0x01,                                           /* NOP */
	0x05, 0x12, 0, 0, 0, 100, 0, 0, 0, 200,         /* SACK 100-200 */
	0, 0, 0x01, 0x2c, 0, 0, 0x01, 0x90,             /*      300-400 */
	0x00, 0x00,                                     /* EOL */
	'a', 'b', 'c', 'd',
};
#define TCP4_IP 14
#define TCP4_TCP 34
#define TCP4_DATA 94

/* IPv4 / UDP 5353 -> 53 with 4 bytes of payload (no link header) */
static const uint8_t ip4_udp[] = {
	0x45, 0x00, 0x00, 0x20, 0xab, 0xcd, 0x00, 0x00,
	0x40, 0x11, 0x00, 0x00, IP4_ADDRS,
	0x14, 0xe9, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00,
	'q', 'u', 'e', 'r',
};

/* IPv6 / UDP 1000 -> 53 with 4 bytes of payload */
static const uint8_t ip6_udp[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40, IP6_SRC, IP6_DST,
	0x03, 0xe8, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00,
	'a', 'b', 'c', 'd',
};

/* ---- helpers ---- */

struct frame {
	uint8_t b[2048];
	size_t n;
};

static void fr_add(struct frame *f, const void *p, size_t n)
{
	ck_assert_uint_le(f->n + n, sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

#define FR_ADD(f, arr) fr_add((f), (arr), sizeof(arr))

static struct pb_decode_stats g_st;
static struct pb_packet g_pkt;
static uint8_t *g_held; /* the frame being looked at: d points into it */

static void setup(void)
{
	memset(&g_st, 0, sizeof(g_st));
	g_held = NULL;
}

static void teardown(void)
{
	free(g_held);
	g_held = NULL;
}

/* Decode n bytes captured of a frame that had wire bytes. */
static void decode_wire(const void *frame, size_t n, size_t wire, uint32_t lt,
			struct pb_decoded *d)
{
	free(g_held);
	g_held = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(g_held);
	if (n)
		memcpy(g_held, frame, n);
	memset(&g_pkt, 0, sizeof(g_pkt));
	g_pkt.index = 1;
	g_pkt.ts.sec = 1700000000;
	g_pkt.ts.nsec = 123456000;
	g_pkt.ts.prec = 6;
	g_pkt.caplen = (uint32_t)n;
	g_pkt.len = (uint32_t)wire;
	g_pkt.linktype = lt;
	g_pkt.data = g_held;
	pb_decode(&g_pkt, d, &g_st);
}

static void decode(const void *frame, size_t n, uint32_t lt, struct pb_decoded *d)
{
	decode_wire(frame, n, n, lt, d);
}

static void decode_fr(const struct frame *f, uint32_t lt, struct pb_decoded *d)
{
	decode(f->b, f->n, lt, d);
}

static int has_an(const struct pb_decoded *d, enum pb_anomaly a)
{
	int i;

	for (i = 0; i < d->n_anomalies; i++)
		if (d->anomalies[i] == a)
			return 1;
	return 0;
}

#define ck_assert_an(d, a) \
	ck_assert_msg(has_an((d), (a)), "anomaly %s missing", pb_anomaly_name(a))
#define ck_assert_no_an(d, a) \
	ck_assert_msg(!has_an((d), (a)), "unexpected anomaly %s", pb_anomaly_name(a))
#define ck_assert_clean(d)                                                    \
	ck_assert_msg((d)->n_anomalies == 0 && !(d)->error,                   \
		      "unexpected anomaly %s", pb_anomaly_name((d)->anomalies[0]))

static const uint8_t a4_src[4] = { 192, 168, 1, 1 }, a4_dst[4] = { 192, 168, 1, 2 };
static const uint8_t a6_src[16] = { IP6_SRC }, a6_dst[16] = { IP6_DST };
static const uint8_t mac_src[6] = { MAC_SRC }, mac_dst[6] = { MAC_DST };

/* The IPv4 UDP packet of ip4_udp was found whole. */
static void assert_ip4_udp(const struct pb_decoded *d)
{
	ck_assert_uint_eq(d->ip_version, 4);
	ck_assert(d->layers & PB_LAYER_IP4);
	ck_assert(d->layers & PB_LAYER_UDP);
	ck_assert_mem_eq(d->src_ip, a4_src, 4);
	ck_assert_mem_eq(d->dst_ip, a4_dst, 4);
	ck_assert_uint_eq(d->proto, 17);
	ck_assert_uint_eq(d->sport, 5353);
	ck_assert_uint_eq(d->dport, 53);
	ck_assert_uint_eq(d->payload_len, 4);
	ck_assert_uint_eq(d->payload_caplen, 4);
	ck_assert_mem_eq(d->payload, "quer", 4);
}

static void assert_ip6_udp(const struct pb_decoded *d)
{
	ck_assert_uint_eq(d->ip_version, 6);
	ck_assert(d->layers & PB_LAYER_IP6);
	ck_assert(d->layers & PB_LAYER_UDP);
	ck_assert_mem_eq(d->src_ip, a6_src, 16);
	ck_assert_mem_eq(d->dst_ip, a6_dst, 16);
	ck_assert_uint_eq(d->addr_len, 16);
	ck_assert_uint_eq(d->sport, 1000);
	ck_assert_uint_eq(d->dport, 53);
	ck_assert_uint_eq(d->payload_len, 4);
	ck_assert_mem_eq(d->payload, "abcd", 4);
}

/* ---- Ethernet, IPv4, TCP ---- */

START_TEST(test_tcp4_all_options)
{
	struct pb_decoded d;
	const struct pb_tcp_opts *o = &d.tcpopt;

	decode(tcp4, sizeof(tcp4), PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_IP4 | PB_LAYER_TCP);
	ck_assert_mem_eq(d.src_mac, mac_src, 6);
	ck_assert_mem_eq(d.dst_mac, mac_dst, 6);
	ck_assert(d.has_ethertype);
	ck_assert_uint_eq(d.ethertype, 0x0800);
	ck_assert_uint_eq(d.n_vlan, 0);
	ck_assert_uint_eq(d.ip_version, 4);
	ck_assert_uint_eq(d.addr_len, 4);
	ck_assert_mem_eq(d.src_ip, a4_src, 4);
	ck_assert_mem_eq(d.dst_ip, a4_dst, 4);
	ck_assert_uint_eq(d.ttl, 64);
	ck_assert_uint_eq(d.tos, 0);
	ck_assert_uint_eq(d.ip_flags, PB_IP_DF);
	ck_assert_uint_eq(d.ip_hlen, 20);
	ck_assert_uint_eq(d.ip_id, 0x1234);
	ck_assert_uint_eq(d.ip_len, 84);
	ck_assert(!d.is_fragment);
	ck_assert_uint_eq(d.proto, 6);
	ck_assert(d.has_ports);
	ck_assert_uint_eq(d.sport, 1234);
	ck_assert_uint_eq(d.dport, 80);
	ck_assert_uint_eq(d.seq, 0x01020304);
	ck_assert_uint_eq(d.ack, 0x0a0b0c0d);
	ck_assert_uint_eq(d.tcp_flags, PB_TCP_NS | PB_TCP_CWR | PB_TCP_ECE | PB_TCP_SYN);
	ck_assert_uint_eq(d.window, 65535);
	ck_assert_uint_eq(d.tcp_hlen, 60);
	ck_assert(o->has_mss);
	ck_assert_uint_eq(o->mss, 1460);
	ck_assert(o->has_wscale);
	ck_assert_uint_eq(o->wscale, 7);
	ck_assert(o->sack_permitted);
	ck_assert(o->has_ts);
	ck_assert_uint_eq(o->tsval, 1);
	ck_assert_uint_eq(o->tsecr, 2);
	ck_assert_uint_eq(o->nsack, 2);
	ck_assert_uint_eq(o->sack[0][0], 100);
	ck_assert_uint_eq(o->sack[0][1], 200);
	ck_assert_uint_eq(o->sack[1][0], 300);
	ck_assert_uint_eq(o->sack[1][1], 400);
	ck_assert(d.has_payload);
	ck_assert_uint_eq(d.payload_len, 4);
	ck_assert_uint_eq(d.payload_caplen, 4);
	ck_assert_ptr_eq(d.payload, g_held + TCP4_DATA);
	ck_assert_uint_eq(g_st.packets, 1);
	ck_assert_uint_eq(g_st.ipv4, 1);
	ck_assert_uint_eq(g_st.tcp, 1);
	ck_assert_uint_eq(g_st.errors, 0);
}
END_TEST

START_TEST(test_tcp4_flags)
{
	struct pb_decoded d;
	struct frame f = { .n = 0 };

	fr_add(&f, tcp4, TCP4_TCP + 20);
	f.b[TCP4_IP + 3] = 40;   /* IP total: headers only */
	f.b[TCP4_TCP + 12] = 0x50;
	f.b[TCP4_TCP + 13] = 0x3d; /* URG ACK PSH RST FIN */
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.tcp_flags, PB_TCP_URG | PB_TCP_ACK | PB_TCP_PSH |
					       PB_TCP_RST | PB_TCP_FIN);
	ck_assert_uint_eq(d.tcp_hlen, 20);
	ck_assert(!d.tcpopt.has_mss && !d.tcpopt.has_ts && !d.tcpopt.nsack);
	ck_assert(d.has_payload);
	ck_assert_uint_eq(d.payload_len, 0);
	/* reserved bits beside NS are not flags */
	f.b[TCP4_TCP + 12] = 0x5e;
	f.b[TCP4_TCP + 13] = 0x10;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.tcp_flags, PB_TCP_ACK);
}
END_TEST

START_TEST(test_ip4_options)
{
	static const uint8_t pkt[] = {
		0x47, 0x00, 0x00, 0x28, 0xab, 0xcd, 0x00, 0x00,
		0x40, 0x11, 0x00, 0x00, IP4_ADDRS,
		0x01, 0x01, 0x94, 0x04, 0x00, 0x00, /* NOP NOP router alert */
		0x00, 0x00,                         /* EOL */
		0x14, 0xe9, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00,
		'q', 'u', 'e', 'r',
	};
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, eth_ip4);
	FR_ADD(&f, pkt);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.ip_hlen, 28);
	ck_assert_uint_eq(d.ip_len, 40);
	assert_ip4_udp(&d);

	/* an option with length 0: noted, decoding goes on */
	f.b[14 + 20] = 0x07;
	f.b[14 + 21] = 0x00;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_an(&d, PB_AN_IP4_OPTIONS_MALFORMED);
	ck_assert(pb_anomaly_is_note(PB_AN_IP4_OPTIONS_MALFORMED));
	ck_assert_uint_eq(d.error, 0);
	assert_ip4_udp(&d);

	/* an option longer than the options */
	f.b[14 + 21] = 39;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_an(&d, PB_AN_IP4_OPTIONS_MALFORMED);
	assert_ip4_udp(&d);

	/* a kind byte with no room for its length */
	f.b[14 + 20] = 0x01;
	f.b[14 + 21] = 0x01;
	f.b[14 + 22] = 0x01;
	f.b[14 + 23] = 0x01;
	f.b[14 + 24] = 0x01;
	f.b[14 + 25] = 0x01;
	f.b[14 + 26] = 0x01;
	f.b[14 + 27] = 0x83;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_an(&d, PB_AN_IP4_OPTIONS_MALFORMED);
	assert_ip4_udp(&d);
}
END_TEST

START_TEST(test_ip4_fragments)
{
	static const uint8_t first[] = {
		0x45, 0x00, 0x00, 0x20, 0x77, 0x77, 0x20, 0x00, /* MF, offset 0 */
		0x40, 0x11, 0x00, 0x00, IP4_ADDRS,
		0x14, 0xe9, 0x00, 0x35, 0x05, 0xc8, 0x00, 0x00, /* UDP length 1480 */
		'q', 'u', 'e', 'r',
	};
	static const uint8_t later[] = {
		0x45, 0x00, 0x00, 0x18, 0x77, 0x77, 0x00, 0xb9, /* offset 185 * 8 */
		0x40, 0x11, 0x00, 0x00, IP4_ADDRS,
		'r', 'e', 's', 't',
	};
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, eth_ip4);
	FR_ADD(&f, first);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d); /* the datagram's UDP length is no anomaly */
	ck_assert(d.is_fragment);
	ck_assert(d.frag_more);
	ck_assert_uint_eq(d.frag_offset, 0);
	ck_assert_uint_eq(d.frag_id, 0x7777);
	ck_assert_uint_eq(d.ip_flags, PB_IP_MF);
	ck_assert(d.layers & PB_LAYER_UDP);
	ck_assert_uint_eq(d.sport, 5353);
	ck_assert_uint_eq(d.payload_len, 1472);
	ck_assert_uint_eq(d.payload_caplen, 4);
	ck_assert_uint_eq(g_st.fragments, 1);

	f.n = 0;
	FR_ADD(&f, eth_ip4);
	FR_ADD(&f, later);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.is_fragment);
	ck_assert(!d.frag_more);
	ck_assert_uint_eq(d.frag_offset, 1480);
	ck_assert_uint_eq(d.ip_flags, 0);
	ck_assert(d.has_proto);
	ck_assert_uint_eq(d.proto, 17);
	/* no transport header in a later fragment */
	ck_assert(!(d.layers & PB_LAYER_UDP));
	ck_assert(!d.has_ports);
	ck_assert(!d.has_payload);
	ck_assert_uint_eq(g_st.fragments, 2);

	/* a middle fragment: offset and MF */
	f.b[14 + 6] = 0x20;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert(d.frag_more);
	ck_assert_uint_eq(d.frag_offset, 1480);
	ck_assert_uint_eq(d.ip_flags, PB_IP_MF);

	/* DF and the reserved bit: not a fragment */
	f.n = 0;
	FR_ADD(&f, eth_ip4);
	FR_ADD(&f, ip4_udp);
	f.b[14 + 6] = 0xc0;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.ip_flags, PB_IP_DF | PB_IP_RF);
	ck_assert(!d.is_fragment);
	assert_ip4_udp(&d);
}
END_TEST

/* ---- IPv6 ---- */

START_TEST(test_ip6_ext_headers)
{
	static const uint8_t pkt[] = {
		0x6a, 0xbc, 0xde, 0xf1, 0x00, 0x24, 0x00, 0x40, IP6_SRC, IP6_DST,
		0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* hop-by-hop */
		0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* destination */
		0x11, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, /* fragment, M */
		0x03, 0xe8, 0x00, 0x35, 0x00, 0x10, 0x00, 0x00, /* UDP, 16 */
		'a', 'b', 'c', 'd',
	};
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, eth_ip6);
	FR_ADD(&f, pkt);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.ethertype, 0x86dd);
	ck_assert_uint_eq(d.tos, 0xab);
	ck_assert_uint_eq(d.ip6_flow, 0xcdef1);
	ck_assert_uint_eq(d.ttl, 64);
	ck_assert_uint_eq(d.ip_len, 76);
	ck_assert(d.has_frag6);
	ck_assert(d.is_fragment);
	ck_assert(d.frag_more);
	ck_assert_uint_eq(d.frag_offset, 0);
	ck_assert_uint_eq(d.frag_id, 0xdeadbeef);
	ck_assert_uint_eq(d.proto, 17);
	ck_assert(d.layers & PB_LAYER_UDP);
	ck_assert_uint_eq(d.sport, 1000);
	ck_assert_uint_eq(d.dport, 53);
	ck_assert_uint_eq(d.payload_len, 8); /* the whole datagram's */
	ck_assert_uint_eq(d.payload_caplen, 4);
	ck_assert_uint_eq(g_st.ipv6, 1);
	ck_assert_uint_eq(g_st.fragments, 1);

	/* a later fragment stops at the fragment header */
	f.b[14 + 40 + 16 + 2] = 0x05;
	f.b[14 + 40 + 16 + 3] = 0xc8;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.is_fragment);
	ck_assert(!d.frag_more);
	ck_assert_uint_eq(d.frag_offset, 1480);
	ck_assert_uint_eq(d.proto, 17);
	ck_assert(!(d.layers & PB_LAYER_UDP));

	/* an atomic fragment (offset 0, no M) is a whole datagram */
	f.b[14 + 40 + 16 + 2] = 0x00;
	f.b[14 + 40 + 16 + 3] = 0x00;
	f.b[14 + 40 + 24 + 5] = 0x0c; /* UDP length 12 */
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.has_frag6);
	ck_assert(!d.is_fragment);
	ck_assert_uint_eq(d.payload_len, 4);
}
END_TEST

START_TEST(test_ip6_ah)
{
	static const uint8_t pkt[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x33, 0x40, IP6_SRC, IP6_DST,
		/* AH: next TCP, length 4 (24 bytes), SPI, sequence, ICV */
		0x06, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
		0x00, 0x00, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		/* TCP 443 -> 50000, ACK */
		0x01, 0xbb, 0xc3, 0x50, 0, 0, 0, 1, 0, 0, 0, 2,
		0x50, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, eth_ip6);
	FR_ADD(&f, pkt);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.proto, 6);
	ck_assert(d.layers & PB_LAYER_TCP);
	ck_assert_uint_eq(d.sport, 443);
	ck_assert_uint_eq(d.dport, 50000);
	ck_assert_uint_eq(d.tcp_flags, PB_TCP_ACK);
	ck_assert_uint_eq(d.payload_len, 0);
}
END_TEST

START_TEST(test_ip4_ah)
{
	static const uint8_t pkt[] = {
		0x45, 0x00, 0x00, 0x36, 0x00, 0x01, 0x00, 0x00,
		0x40, 0x33, 0x00, 0x00, IP4_ADDRS,
		0x11, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
		0x00, 0x00, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		0x14, 0xe9, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, 'h', 'i',
	};
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, eth_ip4);
	FR_ADD(&f, pkt);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.proto, 17);
	ck_assert(d.layers & PB_LAYER_UDP);
	ck_assert_uint_eq(d.sport, 5353);
	ck_assert_uint_eq(d.payload_len, 2);
	ck_assert_mem_eq(d.payload, "hi", 2);

	/* an AH longer than the datagram */
	f.b[14 + 21] = 0x40;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_IP4_TRUNCATED);
	ck_assert(!(d.layers & PB_LAYER_UDP));
}
END_TEST

/* ---- ICMP, ICMPv6, UDP ---- */

START_TEST(test_icmp_echo)
{
	static const uint8_t pkt[] = {
		0x45, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00,
		0x40, 0x01, 0x00, 0x00, IP4_ADDRS,
		0x08, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g',
	};
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, eth_ip4);
	FR_ADD(&f, pkt);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.layers & PB_LAYER_ICMP);
	ck_assert_uint_eq(d.icmp_type, 8);
	ck_assert_uint_eq(d.icmp_code, 0);
	ck_assert(d.has_icmp_echo);
	ck_assert_uint_eq(d.icmp_id, 0x1234);
	ck_assert_uint_eq(d.icmp_seq, 1);
	ck_assert(!d.has_ports);
	ck_assert_uint_eq(g_st.icmp, 1);

	/* destination unreachable: no echo fields */
	f.b[34] = 3;
	f.b[35] = 1;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.icmp_type, 3);
	ck_assert_uint_eq(d.icmp_code, 1);
	ck_assert(!d.has_icmp_echo);

	/* an echo cut after the type: truncated */
	f.b[34] = 0;
	decode(f.b, 34 + 3, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_ICMP_TRUNCATED);
	ck_assert(!(d.layers & PB_LAYER_ICMP));
}
END_TEST

START_TEST(test_icmp6)
{
	static const uint8_t echo[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x3a, 0xff, IP6_SRC, IP6_DST,
		0x80, 0x00, 0x00, 0x00, 0xab, 0xcd, 0x00, 0x07, 'p', 'i', 'n', 'g',
	};
	static const uint8_t ns[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x3a, 0xff, IP6_SRC, IP6_DST,
		0x87, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, IP6_DST,
	};
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, eth_ip6);
	FR_ADD(&f, echo);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.layers & PB_LAYER_ICMP6);
	ck_assert(!(d.layers & PB_LAYER_ICMP));
	ck_assert_uint_eq(d.proto, 58);
	ck_assert_uint_eq(d.icmp_type, 128);
	ck_assert(d.has_icmp_echo);
	ck_assert_uint_eq(d.icmp_id, 0xabcd);
	ck_assert_uint_eq(d.icmp_seq, 7);
	ck_assert_uint_eq(d.ttl, 255);

	f.n = 0;
	FR_ADD(&f, eth_ip6);
	FR_ADD(&f, ns);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.layers & PB_LAYER_ICMP6);
	ck_assert_uint_eq(d.icmp_type, 135);
	ck_assert_uint_eq(d.icmp_code, 0);
	ck_assert(!d.has_icmp_echo);
	ck_assert_uint_eq(g_st.icmp6, 2);

	/* protocol 1 inside IPv6 is not ICMPv6 */
	f.b[14 + 6] = 1;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert(!(d.layers & (PB_LAYER_ICMP | PB_LAYER_ICMP6)));
	ck_assert_uint_eq(g_st.other_transport, 1);
}
END_TEST

START_TEST(test_udp)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;
	static const uint8_t pad[16];

	FR_ADD(&f, eth_ip4);
	FR_ADD(&f, ip4_udp);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	assert_ip4_udp(&d);
	ck_assert_uint_eq(g_st.udp, 1);

	/* Ethernet padding after the datagram is not payload */
	FR_ADD(&f, pad);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	assert_ip4_udp(&d);

	/* IPv6, and a zero UDP length (jumbogram style) is accepted there */
	f.n = 0;
	FR_ADD(&f, eth_ip6);
	FR_ADD(&f, ip6_udp);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	assert_ip6_udp(&d);
	f.b[14 + 44] = 0;
	f.b[14 + 45] = 0;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	assert_ip6_udp(&d);
}
END_TEST

/* ---- tags, LLC, ARP ---- */

START_TEST(test_vlan)
{
	static const uint8_t hdr[] = {
		MAC_DST, MAC_SRC, 0x81, 0x00, 0x20, 0x64, 0x08, 0x00,
	};
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, hdr);
	FR_ADD(&f, ip4_udp);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.layers & PB_LAYER_VLAN);
	ck_assert_uint_eq(d.n_vlan, 1);
	ck_assert_uint_eq(d.vlan[0], 100);
	ck_assert_uint_eq(d.ethertype, 0x0800);
	assert_ip4_udp(&d);

	/* a tag cut short */
	decode(f.b, 16, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_VLAN_TRUNCATED);
}
END_TEST

START_TEST(test_qinq)
{
	static const uint8_t frame[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, MAC_SRC,
		0x88, 0xa8, 0x00, 0xc8,         /* S-tag 200 */
		0x81, 0x00, 0xe1, 0x2c,         /* C-tag 300, PCP 7 */
		0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
		MAC_SRC, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
	};
	struct pb_decoded d;

	decode(frame, sizeof(frame), PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_vlan, 2);
	ck_assert_uint_eq(d.vlan[0], 200);
	ck_assert_uint_eq(d.vlan[1], 300);
	ck_assert(d.layers & PB_LAYER_ARP);
	ck_assert_uint_eq(d.arp_op, 1);
}
END_TEST

/* _i tags: 8 is the most walked, 9 is too deep */
START_TEST(test_vlan_depth)
{
	static const uint8_t tag[] = { 0x81, 0x00 };
	struct frame f = { .n = 0 };
	struct pb_decoded d;
	int i;

	f.n = 12;
	memcpy(f.b, tcp4, 12);
	for (i = 0; i < _i; i++) {
		uint8_t tci[2] = { 0x00, (uint8_t)(i + 1) };

		FR_ADD(&f, tag);
		FR_ADD(&f, tci);
	}
	fr_add(&f, tcp4 + 12, sizeof(tcp4) - 12);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	if (_i <= PB_MAX_VLAN) {
		ck_assert_clean(&d);
		ck_assert_uint_eq(d.n_vlan, _i);
		ck_assert_uint_eq(d.vlan[0], 1);
		ck_assert_uint_eq(d.vlan[1], 2);
		ck_assert(d.layers & PB_LAYER_TCP);
	} else {
		ck_assert_uint_eq(d.error, PB_AN_VLAN_TOO_DEEP);
		ck_assert_uint_eq(d.n_vlan, PB_MAX_VLAN);
		ck_assert(!(d.layers & PB_LAYER_IP4));
		ck_assert_uint_eq(g_st.errors, 1);
		ck_assert_uint_eq(g_st.anomalies[PB_AN_VLAN_TOO_DEEP], 1);
	}
}
END_TEST

START_TEST(test_llc_snap)
{
	static const uint8_t snap[] = {
		MAC_DST, MAC_SRC, 0x00, 0x28,
		0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00,
	};
	static const uint8_t stp[] = {
		0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, MAC_SRC, 0x00, 0x26,
		0x42, 0x42, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, snap);
	FR_ADD(&f, ip4_udp);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.layers & PB_LAYER_ETH);
	ck_assert_uint_eq(d.ethertype, 0x0800);
	assert_ip4_udp(&d);

	/* SNAP cut inside its OUI or type */
	decode(f.b, 14 + 6, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_LLC_TRUNCATED);
	decode(f.b, 14 + 2, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_LLC_TRUNCATED);

	/* plain LLC (spanning tree): not decoded further, no error */
	decode(stp, sizeof(stp), PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH);
	ck_assert(!d.has_ethertype);
	ck_assert_uint_eq(g_st.other_net, 1);
}
END_TEST

START_TEST(test_arp)
{
	static const uint8_t frame[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, MAC_SRC, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
		MAC_SRC, 10, 0, 0, 1, MAC_DST, 10, 0, 0, 2,
	};
	static const uint8_t spa[4] = { 10, 0, 0, 1 }, tpa[4] = { 10, 0, 0, 2 };
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	decode(frame, sizeof(frame), PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_ARP);
	ck_assert_uint_eq(d.arp_op, 2);
	ck_assert_mem_eq(d.arp_sha, mac_src, 6);
	ck_assert_mem_eq(d.arp_spa, spa, 4);
	ck_assert_mem_eq(d.arp_tha, mac_dst, 6);
	ck_assert_mem_eq(d.arp_tpa, tpa, 4);
	ck_assert_uint_eq(d.ip_version, 0);
	ck_assert_uint_eq(g_st.arp, 1);

	/* cut in the addresses: no addresses, an error */
	decode(frame, sizeof(frame) - 1, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_ARP_TRUNCATED);
	ck_assert_ptr_null(d.arp_spa);
	ck_assert_ptr_null(d.arp_tpa);
	/* cut in the fixed part */
	decode(frame, 14 + 7, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_ARP_TRUNCATED);
	ck_assert(!(d.layers & PB_LAYER_ARP));

	/* another hardware type: the operation only */
	fr_add(&f, frame, sizeof(frame));
	f.b[15] = 6;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.layers & PB_LAYER_ARP);
	ck_assert_uint_eq(d.arp_op, 2);
	ck_assert_ptr_null(d.arp_spa);
}
END_TEST

/* ---- other link types ---- */

START_TEST(test_sll)
{
	static const uint8_t sll[] = {
		0x00, 0x00, 0x00, 0x01, 0x00, 0x06, MAC_SRC, 0x00, 0x00, 0x08, 0x00,
	};
	static const uint8_t sll_llc[] = {
		0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x04,
		0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x86, 0xdd,
	};
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, sll);
	FR_ADD(&f, ip4_udp);
	decode_fr(&f, PB_LT_LINUX_SLL, &d);
	ck_assert_clean(&d);
	ck_assert(d.layers & PB_LAYER_SLL);
	ck_assert(!(d.layers & PB_LAYER_ETH));
	ck_assert_mem_eq(d.src_mac, mac_src, 6);
	ck_assert_ptr_null(d.dst_mac);
	assert_ip4_udp(&d);

	/* no link address: no MAC */
	f.b[5] = 0;
	decode_fr(&f, PB_LT_LINUX_SLL, &d);
	ck_assert_ptr_null(d.src_mac);
	assert_ip4_udp(&d);

	/* an 802.2 frame with SNAP */
	f.n = 0;
	FR_ADD(&f, sll_llc);
	FR_ADD(&f, ip6_udp);
	decode_fr(&f, PB_LT_LINUX_SLL, &d);
	ck_assert_clean(&d);
	assert_ip6_udp(&d);

	decode(sll, 10, PB_LT_LINUX_SLL, &d);
	ck_assert_uint_eq(d.error, PB_AN_LINK_TRUNCATED);
}
END_TEST

START_TEST(test_sll2)
{
	static const uint8_t sll2[] = {
		0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
		0x00, 0x01, 0x04, 0x06, MAC_SRC, 0x00, 0x00,
	};
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, sll2);
	FR_ADD(&f, ip6_udp);
	decode_fr(&f, PB_LT_LINUX_SLL2, &d);
	ck_assert_clean(&d);
	ck_assert(d.layers & PB_LAYER_SLL);
	ck_assert_mem_eq(d.src_mac, mac_src, 6);
	assert_ip6_udp(&d);

	decode(sll2, sizeof(sll2) - 1, PB_LT_LINUX_SLL2, &d);
	ck_assert_uint_eq(d.error, PB_AN_LINK_TRUNCATED);
}
END_TEST

static const struct {
	uint32_t lt;
	uint8_t hdr[4];
	int ip;        /* 4, 6, or 0: not decoded */
} null_cases[] = {
	{ PB_LT_NULL, { 0x02, 0, 0, 0 }, 4 },       /* AF_INET, little-endian host */
	{ PB_LT_NULL, { 0, 0, 0, 0x02 }, 4 },       /* AF_INET, big-endian host */
	{ PB_LT_NULL, { 0x18, 0, 0, 0 }, 6 },       /* AF_INET6 24 (NetBSD, OpenBSD) */
	{ PB_LT_NULL, { 0x1c, 0, 0, 0 }, 6 },       /* 28 (FreeBSD) */
	{ PB_LT_NULL, { 0x1e, 0, 0, 0 }, 6 },       /* 30 (macOS) */
	{ PB_LT_NULL, { 0, 0, 0, 0x18 }, 6 },
	{ PB_LT_NULL, { 0, 0, 0, 0x1c }, 6 },
	{ PB_LT_NULL, { 0, 0, 0, 0x1e }, 6 },
	{ PB_LT_NULL, { 0x0a, 0, 0, 0 }, 6 },       /* Linux AF_INET6 */
	{ PB_LT_NULL, { 0, 0, 0x08, 0x00 }, 4 },    /* an ethertype instead */
	{ PB_LT_NULL, { 0x07, 0, 0, 0 }, 0 },       /* another family */
	{ PB_LT_LOOP, { 0, 0, 0, 0x02 }, 4 },
	{ PB_LT_LOOP, { 0, 0, 0, 0x18 }, 6 },
	{ PB_LT_LOOP, { 0, 0, 0, 0x1e }, 6 },
};

START_TEST(test_null_loop)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;
	int ip = null_cases[_i].ip;

	fr_add(&f, null_cases[_i].hdr, 4);
	if (ip == 6)
		FR_ADD(&f, ip6_udp);
	else
		FR_ADD(&f, ip4_udp);
	decode_fr(&f, null_cases[_i].lt, &d);
	ck_assert_clean(&d);
	if (ip == 4)
		assert_ip4_udp(&d);
	else if (ip == 6)
		assert_ip6_udp(&d);
	else
		ck_assert_uint_eq(d.ip_version, 0);
	ck_assert_ptr_null(d.src_mac);

	decode(f.b, 3, null_cases[_i].lt, &d);
	ck_assert_uint_eq(d.error, PB_AN_LINK_TRUNCATED);
}
END_TEST

static const struct {
	uint32_t lt;
	int ip;
} raw_cases[] = {
	{ PB_LT_RAW, 4 }, { PB_LT_RAW, 6 }, { PB_LT_RAW_BSD1, 4 }, { PB_LT_RAW_BSD1, 6 },
	{ PB_LT_RAW_BSD2, 6 }, { PB_LT_IPV4, 4 }, { PB_LT_IPV6, 6 },
};

START_TEST(test_raw)
{
	struct pb_decoded d;
	uint32_t lt = raw_cases[_i].lt;

	if (raw_cases[_i].ip == 4) {
		decode(ip4_udp, sizeof(ip4_udp), lt, &d);
		ck_assert_clean(&d);
		assert_ip4_udp(&d);
	} else {
		decode(ip6_udp, sizeof(ip6_udp), lt, &d);
		ck_assert_clean(&d);
		assert_ip6_udp(&d);
	}
	ck_assert_uint_eq(d.layers & (PB_LAYER_ETH | PB_LAYER_SLL), 0);
	ck_assert(!d.has_ethertype);

	/* empty, and a version that is neither */
	decode(ip4_udp, 0, lt, &d);
	ck_assert(d.error == PB_AN_LINK_TRUNCATED || d.error == PB_AN_IP4_TRUNCATED ||
		  d.error == PB_AN_IP6_TRUNCATED);
	{
		uint8_t bad[sizeof(ip6_udp)];

		memcpy(bad, ip6_udp, sizeof(bad));
		bad[0] = 0x50;
		decode(bad, sizeof(bad), lt, &d);
		ck_assert_uint_eq(d.error, PB_AN_IP_BAD_VERSION);
	}
}
END_TEST

START_TEST(test_raw_wrong_version)
{
	struct pb_decoded d;

	/* an IPv6 packet on the IPv4 link type, and the reverse */
	decode(ip6_udp, sizeof(ip6_udp), PB_LT_IPV4, &d);
	ck_assert_uint_eq(d.error, PB_AN_IP_BAD_VERSION);
	decode(ip4_udp, sizeof(ip4_udp), PB_LT_IPV6, &d);
	ck_assert_uint_eq(d.error, PB_AN_IP6_TRUNCATED); /* 28 < 40 bytes */
	{
		uint8_t b[48];

		memset(b, 0, sizeof(b));
		memcpy(b, ip4_udp, sizeof(ip4_udp));
		decode(b, sizeof(b), PB_LT_IPV6, &d);
		ck_assert_uint_eq(d.error, PB_AN_IP_BAD_VERSION);
	}
}
END_TEST

START_TEST(test_unsupported_linktype)
{
	struct pb_decoded d;

	decode(tcp4, sizeof(tcp4), 147, &d);
	ck_assert_uint_eq(d.error, PB_AN_LINKTYPE_UNSUPPORTED);
	ck_assert_uint_eq(d.n_anomalies, 1);
	ck_assert_uint_eq(d.layers, 0);
	decode(tcp4, sizeof(tcp4), 0xffffffffu, &d);
	ck_assert_uint_eq(d.error, PB_AN_LINKTYPE_UNSUPPORTED);
	ck_assert_uint_eq(g_st.errors, 2);
	ck_assert_uint_eq(g_st.anomalies[PB_AN_LINKTYPE_UNSUPPORTED], 2);
	ck_assert_str_eq(pb_anomaly_name(PB_AN_LINKTYPE_UNSUPPORTED), "LINKTYPE_UNSUPPORTED");
}
END_TEST

/* ---- hostile frames ---- */

/* _i is the captured length of tcp4: once cut by a snaplen, once as a
 * whole frame that claims more than it has. */
START_TEST(test_truncation_points)
{
	size_t n = (size_t)_i;
	struct pb_decoded d;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		int snap = pass == 0;
		enum pb_anomaly want;

		decode_wire(tcp4, n, snap ? sizeof(tcp4) : n, PB_LT_ETHERNET, &d);
		if (n < 14)
			want = PB_AN_LINK_TRUNCATED;
		else if (n < TCP4_TCP)
			want = PB_AN_IP4_TRUNCATED;
		else if (n < TCP4_TCP + 20)
			want = PB_AN_TCP_TRUNCATED;
		else if (n < TCP4_DATA)
			/* cut by a snaplen the options are missing; in a whole
			 * frame the data offset runs past the segment */
			want = snap ? PB_AN_TCP_TRUNCATED : PB_AN_TCP_BAD_OFFSET;
		else
			want = PB_AN_NONE;
		ck_assert_msg(d.error == want, "length %zu %s: error %s, expected %s", n,
			      snap ? "(snaplen)" : "(whole)", pb_anomaly_name(d.error),
			      pb_anomaly_name(want));
		ck_assert_uint_le(d.n_anomalies, PB_MAX_ANOMALIES);
		if (snap && n < sizeof(tcp4))
			ck_assert_an(&d, PB_AN_SNAPLEN_CUT);
		else
			ck_assert_no_an(&d, PB_AN_SNAPLEN_CUT);
		if (!snap && n >= TCP4_TCP && n < sizeof(tcp4))
			ck_assert_an(&d, PB_AN_IP4_LENGTH_EXCEEDS_FRAME);
		if (n >= TCP4_TCP) {
			ck_assert_uint_eq(d.ip_len, 84); /* as declared */
			ck_assert_mem_eq(d.src_ip, a4_src, 4);
		}
		if (n >= TCP4_DATA) {
			ck_assert(d.layers & PB_LAYER_TCP);
			ck_assert_uint_eq(d.tcpopt.mss, 1460);
			ck_assert_uint_eq(d.payload_caplen, n - TCP4_DATA);
			ck_assert_uint_eq(d.payload_len, snap ? 4 : n - TCP4_DATA);
		}
		/* the record is written and is JSON, whatever the cut */
		{
			struct pb_buf b;
			struct pb_record_opts o = { 1, 0 };
			cJSON *j;

			pb_buf_init(&b, 1 << 20);
			pb_packet_record(&b, &g_pkt, &d, &o);
			j = cJSON_Parse(pb_buf_cstr(&b));
			ck_assert_msg(j != NULL, "length %zu: bad JSON %s", n, b.data);
			cJSON_Delete(j);
			pb_buf_release(&b);
		}
	}
}
END_TEST

START_TEST(test_ip4_bad_lengths)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, eth_ip4);
	FR_ADD(&f, ip4_udp);

	/* IHL below 5 */
	f.b[14] = 0x44;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_IP4_BAD_HEADER_LENGTH);
	ck_assert(d.layers & PB_LAYER_IP4);
	ck_assert(!(d.layers & PB_LAYER_UDP));
	f.b[14] = 0x40;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_IP4_BAD_HEADER_LENGTH);

	/* IHL past the frame */
	f.b[14] = 0x4f;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_IP4_TRUNCATED);

	/* total length below the header length */
	f.b[14] = 0x45;
	f.b[17] = 16;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_IP4_BAD_TOTAL_LENGTH);
	ck_assert(!(d.layers & PB_LAYER_UDP));

	/* total length 0 (segmentation offload): the frame's length is used */
	f.b[17] = 0;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_an(&d, PB_AN_IP4_ZERO_TOTAL_LENGTH);
	ck_assert_uint_eq(d.error, 0);
	ck_assert_uint_eq(d.ip_len, 32);
	assert_ip4_udp(&d);

	/* total length past the end of a whole frame: noted, payload clamped */
	f.b[17] = 200;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_an(&d, PB_AN_IP4_LENGTH_EXCEEDS_FRAME);
	ck_assert_no_an(&d, PB_AN_UDP_BAD_LENGTH);
	ck_assert_uint_eq(d.error, 0);
	ck_assert_uint_eq(d.ip_len, 200);
	assert_ip4_udp(&d);

	/* the same when a snaplen cut the frame: the declared length stands */
	decode_wire(f.b, f.n, 300, PB_LT_ETHERNET, &d);
	ck_assert_no_an(&d, PB_AN_IP4_LENGTH_EXCEEDS_FRAME);
	ck_assert_an(&d, PB_AN_SNAPLEN_CUT);
	ck_assert_an(&d, PB_AN_UDP_BAD_LENGTH); /* 12 against 180 */
	ck_assert_uint_eq(d.error, 0);
	ck_assert_uint_eq(d.payload_len, 4);
}
END_TEST

START_TEST(test_tcp_bad_offset)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	fr_add(&f, tcp4, TCP4_TCP + 20);
	f.b[TCP4_IP + 3] = 40;
	/* data offset 4 */
	f.b[TCP4_TCP + 12] = 0x40;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_TCP_BAD_OFFSET);
	ck_assert_uint_eq(d.tcp_hlen, 16);
	ck_assert(!d.has_payload);
	/* data offset 0 */
	f.b[TCP4_TCP + 12] = 0x00;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_TCP_BAD_OFFSET);
	/* data offset 15 in a 20-byte segment */
	f.b[TCP4_TCP + 12] = 0xf0;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_TCP_BAD_OFFSET);
	ck_assert(!d.has_payload);
	ck_assert_str_eq(pb_anomaly_message(d.error), "TCP data offset outside the segment");
}
END_TEST

static const struct {
	uint8_t opt[8];
	int malformed;
} tcp_opt_cases[] = {
	{ { 0x02, 0x00, 0, 0, 0, 0, 0, 0 }, 1 },            /* length 0 */
	{ { 0x02, 0x01, 0, 0, 0, 0, 0, 0 }, 1 },            /* length 1 */
	{ { 0x01, 0x08, 0x14, 0, 0, 0, 0, 0 }, 1 },         /* length past the end */
	{ { 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x08 }, 1 }, /* no length byte */
	{ { 0x02, 0x03, 0x05, 0x01, 0x01, 0, 0, 0 }, 1 },   /* MSS of 3 bytes */
	{ { 0x03, 0x04, 0x07, 0x00, 0x00, 0, 0, 0 }, 1 },   /* window scale of 4 */
	{ { 0x04, 0x03, 0x00, 0x00, 0, 0, 0, 0 }, 1 },      /* SACK-permitted of 3 */
	{ { 0x05, 0x06, 0, 0, 0, 1, 0, 0 }, 1 },            /* SACK not 2 + 8n */
	{ { 0x08, 0x08, 0, 0, 0, 1, 0, 0 }, 1 },            /* timestamps of 8 */
	{ { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 0 }, /* EOL ends it */
	{ { 0xfe, 0x04, 0xab, 0xcd, 0x02, 0x04, 0x01, 0x00 }, 0 }, /* unknown kind */
};

START_TEST(test_tcp_options_malformed)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;
	static const uint8_t data[] = { 'x', 'y' };

	fr_add(&f, tcp4, TCP4_TCP + 20);
	f.b[TCP4_IP + 3] = 20 + 28 + 2;
	f.b[TCP4_TCP + 12] = 0x70;
	fr_add(&f, tcp_opt_cases[_i].opt, 8);
	FR_ADD(&f, data);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	/* a note: the header is still decoded, with its payload */
	ck_assert_uint_eq(d.error, 0);
	ck_assert(d.layers & PB_LAYER_TCP);
	ck_assert_uint_eq(d.tcp_hlen, 28);
	ck_assert_uint_eq(d.payload_len, 2);
	ck_assert_mem_eq(d.payload, "xy", 2);
	if (tcp_opt_cases[_i].malformed)
		ck_assert_an(&d, PB_AN_TCP_OPTIONS_MALFORMED);
	else
		ck_assert_no_an(&d, PB_AN_TCP_OPTIONS_MALFORMED);
	if (_i == 10) {
		ck_assert(d.tcpopt.has_mss);
		ck_assert_uint_eq(d.tcpopt.mss, 256);
	} else {
		ck_assert(!d.tcpopt.has_mss);
	}
}
END_TEST

START_TEST(test_udp_bad_length)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	FR_ADD(&f, eth_ip4);
	FR_ADD(&f, ip4_udp);
	/* UDP length below 8 */
	f.b[14 + 24] = 0;
	f.b[14 + 25] = 4;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_an(&d, PB_AN_UDP_BAD_LENGTH);
	ck_assert_uint_eq(d.error, 0);
	assert_ip4_udp(&d); /* IP's length believed */
	/* UDP length past the IP payload */
	f.b[14 + 25] = 100;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_an(&d, PB_AN_UDP_BAD_LENGTH);
	assert_ip4_udp(&d);
	/* shorter than the IP payload: UDP's length is the datagram */
	f.b[14 + 25] = 10;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_an(&d, PB_AN_UDP_BAD_LENGTH);
	ck_assert_uint_eq(d.payload_len, 2);
	/* IP payload shorter than a UDP header */
	f.b[14 + 25] = 12;
	f.b[14 + 3] = 24;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_UDP_TRUNCATED);
	ck_assert(!(d.layers & PB_LAYER_UDP));
}
END_TEST

START_TEST(test_ip6_ext_past_end)
{
	static const uint8_t hbh[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x40, IP6_SRC, IP6_DST,
		0x11, 0x05, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* says 48 bytes */
	};
	static const uint8_t frag[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x04, 0x2c, 0x40, IP6_SRC, IP6_DST,
		0x11, 0x00, 0x00, 0x01,
	};
	struct pb_decoded d;

	decode(hbh, sizeof(hbh), PB_LT_IPV6, &d);
	ck_assert_uint_eq(d.error, PB_AN_IP6_EXT_TRUNCATED);
	ck_assert(d.has_proto);
	ck_assert_uint_eq(d.proto, 0);
	ck_assert(!(d.layers & PB_LAYER_UDP));
	decode(frag, sizeof(frag), PB_LT_IPV6, &d);
	ck_assert_uint_eq(d.error, PB_AN_IP6_EXT_TRUNCATED);
	ck_assert_uint_eq(d.proto, 44);
	/* a header cut after its next-header byte */
	decode(hbh, 41, PB_LT_IPV6, &d);
	ck_assert_uint_eq(d.error, PB_AN_IP6_EXT_TRUNCATED);
	/* and a payload length past the frame */
	{
		uint8_t b[sizeof(ip6_udp)];

		memcpy(b, ip6_udp, sizeof(b));
		b[5] = 200;
		decode(b, sizeof(b), PB_LT_IPV6, &d);
		ck_assert_an(&d, PB_AN_IP6_LENGTH_EXCEEDS_FRAME);
		ck_assert_uint_eq(d.error, 0);
		assert_ip6_udp(&d);
		ck_assert_uint_eq(d.ip_len, 240);
		/* a payload length of 0 takes the frame's */
		b[5] = 0;
		decode(b, sizeof(b), PB_LT_IPV6, &d);
		ck_assert_clean(&d);
		assert_ip6_udp(&d);
	}
}
END_TEST

/* _i extension headers before UDP: 16 is fine, 17 draws a note */
START_TEST(test_ip6_ext_chain)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;
	uint8_t hdr[40];
	int i, n = _i;
	uint16_t plen = (uint16_t)(n * 8 + 12);

	memcpy(hdr, ip6_udp, 40);
	hdr[4] = (uint8_t)(plen >> 8);
	hdr[5] = (uint8_t)plen;
	hdr[6] = 60;
	FR_ADD(&f, hdr);
	for (i = 0; i < n; i++) {
		uint8_t ext[8] = { (uint8_t)(i + 1 < n ? 60 : 17), 0, 0x01, 0x04, 0, 0, 0, 0 };

		FR_ADD(&f, ext);
	}
	fr_add(&f, ip6_udp + 40, sizeof(ip6_udp) - 40);
	decode_fr(&f, PB_LT_RAW, &d);
	ck_assert_uint_eq(d.error, 0);
	assert_ip6_udp(&d);
	if (n > PB_MAX_IP6_EXT)
		ck_assert_an(&d, PB_AN_IP6_TOO_MANY_EXT);
	else
		ck_assert_clean(&d);
}
END_TEST

/* Every prefix of every frame here decodes without a read past the end
 * and with a record that is JSON. */
START_TEST(test_prefix_sweep)
{
	static const struct {
		const uint8_t *p;
		size_t n;
		uint32_t lt;
	} frames[] = {
		{ tcp4, sizeof(tcp4), PB_LT_ETHERNET },
		{ ip4_udp, sizeof(ip4_udp), PB_LT_RAW },
		{ ip6_udp, sizeof(ip6_udp), PB_LT_RAW },
		{ ip6_udp, sizeof(ip6_udp), PB_LT_IPV6 },
		{ tcp4 + 14, sizeof(tcp4) - 14, PB_LT_IPV4 },
	};
	size_t k, n;

	for (k = 0; k < sizeof(frames) / sizeof(frames[0]); k++) {
		for (n = 0; n <= frames[k].n; n++) {
			struct pb_decoded d;
			struct pb_buf b;
			struct pb_record_opts o = { 0, 0 };
			cJSON *j;

			decode(frames[k].p, n, frames[k].lt, &d);
			if (n == frames[k].n)
				ck_assert_clean(&d);
			else if (n < frames[k].n - 4) /* short of the payload */
				ck_assert_uint_ne(d.error, 0);
			ck_assert_uint_le(d.n_anomalies, PB_MAX_ANOMALIES);
			pb_buf_init(&b, 1 << 16);
			pb_packet_record(&b, &g_pkt, &d, &o);
			j = cJSON_Parse(pb_buf_cstr(&b));
			ck_assert_msg(j != NULL, "frame %zu length %zu: %s", k, n, b.data);
			cJSON_Delete(j);
			pb_buf_release(&b);
		}
	}
}
END_TEST

/* ---- the packet record ---- */

START_TEST(test_record_exact)
{
	static const char expect[] =
		"{\"@timestamp\":\"2023-11-14T22:13:20.123456Z\","
		"\"event\":{\"kind\":\"event\",\"dataset\":\"packet\"},"
		"\"packet\":{\"index\":1,\"length\":98,\"caplen\":98,\"linktype\":1,\"interface\":0},"
		"\"source\":{\"mac\":\"02-00-00-00-00-01\",\"ip\":\"192.168.1.1\",\"port\":1234},"
		"\"destination\":{\"mac\":\"02-00-00-00-00-02\",\"ip\":\"192.168.1.2\",\"port\":80},"
		"\"network\":{\"type\":\"ipv4\",\"transport\":\"tcp\",\"iana_number\":\"6\","
		"\"community_id\":\"1:uVvkyXlDX7y3f+Slt8Mu/eQJJw0=\"},"
		"\"ip\":{\"version\":4,\"ttl\":64,\"tos\":0,\"length\":84,\"id\":4660,"
		"\"header_length\":20,\"flags\":[\"DF\"]},"
		"\"tcp\":{\"flags\":[\"SYN\",\"ECE\",\"CWR\",\"NS\"],\"seq\":16909060,"
		"\"ack\":168496141,\"window\":65535,\"header_length\":60,"
		"\"options\":{\"mss\":1460,\"wscale\":7,\"sack_permitted\":true,"
		"\"sack\":[[100,200],[300,400]],\"timestamp\":{\"val\":1,\"ecr\":2}}},"
		"\"payload\":{\"bytes\":4}}\n";
	struct pb_decoded d;
	struct pb_buf b;
	struct pb_record_opts o = { 0, 0 };
	cJSON *j, *v;

	decode(tcp4, sizeof(tcp4), PB_LT_ETHERNET, &d);
	pb_buf_init(&b, 1 << 16);
	pb_packet_record(&b, &g_pkt, &d, &o);
	ck_assert_str_eq(pb_buf_cstr(&b), expect);

	j = cJSON_Parse(b.data);
	ck_assert_ptr_nonnull(j);
	v = cJSON_GetObjectItemCaseSensitive(j, "tcp");
	v = cJSON_GetObjectItemCaseSensitive(v, "options");
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(v, "mss")->valueint, 1460);
	cJSON_Delete(j);

	/* with the frame: packet.data gives the bytes back */
	pb_buf_clear(&b);
	o.with_data = 1;
	pb_packet_record(&b, &g_pkt, &d, &o);
	j = cJSON_Parse(pb_buf_cstr(&b));
	ck_assert_ptr_nonnull(j);
	v = cJSON_GetObjectItemCaseSensitive(j, "packet");
	v = cJSON_GetObjectItemCaseSensitive(v, "data");
	ck_assert(cJSON_IsString(v));
	{
		uint8_t back[sizeof(tcp4) + 3];

		ck_assert_int_eq(pb_base64_decode(back, v->valuestring, strlen(v->valuestring)),
				 (long)sizeof(tcp4));
		ck_assert_mem_eq(back, tcp4, sizeof(tcp4));
	}
	cJSON_Delete(j);
	pb_buf_release(&b);
}
END_TEST

START_TEST(test_record_anomalies)
{
	struct pb_decoded d;
	struct pb_buf b;
	struct pb_record_opts o = { 0, 0 };
	cJSON *j, *pb, *an, *err;

	/* cut by a snaplen inside the IPv4 header: as in pb-ndjson(5) */
	decode_wire(tcp4, 24, 74, PB_LT_ETHERNET, &d);
	pb_buf_init(&b, 1 << 16);
	pb_packet_record(&b, &g_pkt, &d, &o);
	ck_assert_str_eq(pb_buf_cstr(&b),
			 "{\"@timestamp\":\"2023-11-14T22:13:20.123456Z\","
			 "\"event\":{\"kind\":\"event\",\"dataset\":\"packet\"},"
			 "\"packet\":{\"index\":1,\"length\":74,\"caplen\":24,\"linktype\":1,"
			 "\"interface\":0},\"source\":{\"mac\":\"02-00-00-00-00-01\"},"
			 "\"destination\":{\"mac\":\"02-00-00-00-00-02\"},"
			 "\"pb\":{\"ethertype\":\"0x0800\",\"anomalies\":[\"SNAPLEN_CUT\","
			 "\"IP4_TRUNCATED\"]},\"error\":{\"message\":\"truncated IPv4 header\"}}\n");
	j = cJSON_Parse(b.data);
	ck_assert_ptr_nonnull(j);
	pb = cJSON_GetObjectItemCaseSensitive(j, "pb");
	an = cJSON_GetObjectItemCaseSensitive(pb, "anomalies");
	ck_assert_int_eq(cJSON_GetArraySize(an), 2);
	err = cJSON_GetObjectItemCaseSensitive(j, "error");
	ck_assert_ptr_nonnull(err);
	cJSON_Delete(j);
	pb_buf_release(&b);
}
END_TEST

START_TEST(test_anomaly_table)
{
	int a;

	for (a = 0; a < PB_AN_MAX; a++) {
		const char *name = pb_anomaly_name((enum pb_anomaly)a);

		ck_assert_ptr_nonnull(name);
		ck_assert_msg(strlen(name) > 0, "anomaly %d has no name", a);
		if (a)
			ck_assert_msg(strlen(pb_anomaly_message((enum pb_anomaly)a)) > 0,
				      "%s has no message", name);
	}
	ck_assert_str_eq(pb_anomaly_name(PB_AN_MAX), "UNKNOWN");
	ck_assert_str_eq(pb_ip_proto_name(58), "ipv6-icmp");
	ck_assert_ptr_null(pb_ip_proto_name(255));
}
END_TEST

static Suite *decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *tc;

	tc = tcase_create("layers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tcp4_all_options);
	tcase_add_test(tc, test_tcp4_flags);
	tcase_add_test(tc, test_ip4_options);
	tcase_add_test(tc, test_ip4_fragments);
	tcase_add_test(tc, test_ip6_ext_headers);
	tcase_add_test(tc, test_ip6_ah);
	tcase_add_test(tc, test_ip4_ah);
	tcase_add_test(tc, test_icmp_echo);
	tcase_add_test(tc, test_icmp6);
	tcase_add_test(tc, test_udp);
	tcase_add_test(tc, test_vlan);
	tcase_add_test(tc, test_qinq);
	tcase_add_loop_test(tc, test_vlan_depth, PB_MAX_VLAN, PB_MAX_VLAN + 2);
	tcase_add_test(tc, test_llc_snap);
	tcase_add_test(tc, test_arp);
	suite_add_tcase(s, tc);

	tc = tcase_create("links");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sll);
	tcase_add_test(tc, test_sll2);
	tcase_add_loop_test(tc, test_null_loop, 0,
			    (int)(sizeof(null_cases) / sizeof(null_cases[0])));
	tcase_add_loop_test(tc, test_raw, 0, (int)(sizeof(raw_cases) / sizeof(raw_cases[0])));
	tcase_add_test(tc, test_raw_wrong_version);
	tcase_add_test(tc, test_unsupported_linktype);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_truncation_points, 0, (int)sizeof(tcp4) + 1);
	tcase_add_test(tc, test_ip4_bad_lengths);
	tcase_add_test(tc, test_tcp_bad_offset);
	tcase_add_loop_test(tc, test_tcp_options_malformed, 0,
			    (int)(sizeof(tcp_opt_cases) / sizeof(tcp_opt_cases[0])));
	tcase_add_test(tc, test_udp_bad_length);
	tcase_add_test(tc, test_ip6_ext_past_end);
	tcase_add_loop_test(tc, test_ip6_ext_chain, PB_MAX_IP6_EXT, PB_MAX_IP6_EXT + 2);
	tcase_add_test(tc, test_prefix_sweep);
	suite_add_tcase(s, tc);

	tc = tcase_create("record");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_record_exact);
	tcase_add_test(tc, test_record_anomalies);
	tcase_add_test(tc, test_anomaly_table);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(decode_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
