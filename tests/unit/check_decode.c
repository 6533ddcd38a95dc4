/*
 * check_decode.c - pb_decode() on hand-built frames: every link type, IPv4
 * and IPv6 with options and extension headers, TCP options, UDP, ICMP,
 * tags, ARP; tunnels and carriers (MPLS, PPPoE, IP in IP, GRE, ERSPAN,
 * VXLAN, Geneve, Teredo, MPLS in UDP); hostile frames; and the packet
 * record written for a frame.
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

/* ---- tunnels and carriers ---- */

/*
 * Tunnel frames are built with the t_* helpers: t_ip4, t_ip6 and t_udp
 * append a header and remember it; t_done() then sets each remembered
 * header's length to reach the end of the frame as built so far.  Outer
 * layers use their own MAC and IP addresses, so a field can be told apart
 * from the inner packet's (the frame pieces above).
 */

#define O6_SRC 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a
#define O6_DST 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b

static const uint8_t o4_src[4] = { 10, 0, 0, 1 }, o4_dst[4] = { 10, 0, 0, 2 };
static const uint8_t m4_src[4] = { 172, 16, 0, 1 }, m4_dst[4] = { 172, 16, 0, 2 };
static const uint8_t o6_src[16] = { O6_SRC }, o6_dst[16] = { O6_DST };
static const uint8_t omac_src[6] = { 0x0a, 0, 0, 0, 0, 0x0a };

/* Community IDs of the inner packets ip4_udp and ip6_udp, seed 0,
 * computed independently (Python hashlib) from the Community ID spec */
#define CID_UDP4 "1:4E8GN/EjF6A0dqyNdVJgXtNdpP4="
#define CID_UDP6 "1:Y5aw2pXLpPyRjHc8jzdEedlDH78="

enum { FIX_IP4, FIX_IP6, FIX_UDP };
static struct {
	int kind;
	size_t off;
} g_fix[24];
static int g_nfix;

static void t_remember(int kind, size_t off)
{
	ck_assert_int_lt(g_nfix, (int)(sizeof(g_fix) / sizeof(g_fix[0])));
	g_fix[g_nfix].kind = kind;
	g_fix[g_nfix].off = off;
	g_nfix++;
}

static void t_u8(struct frame *f, uint8_t v)
{
	fr_add(f, &v, 1);
}

static void t_be16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	fr_add(f, b, 2);
}

static void t_be32(struct frame *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
			 (uint8_t)v };

	fr_add(f, b, 4);
}

/* The outer Ethernet header: 0a:00:00:00:00:0a -> 0a:00:00:00:00:0b */
static void t_eth(struct frame *f, uint16_t type)
{
	static const uint8_t macs[12] = { 0x0a, 0, 0, 0, 0, 0x0b, 0x0a, 0, 0, 0, 0, 0x0a };

	fr_add(f, macs, sizeof(macs));
	t_be16(f, type);
}

static size_t t_ip4(struct frame *f, uint8_t proto, const uint8_t *src, const uint8_t *dst)
{
	uint8_t h[20] = { 0x45, 0x00, 0, 0, 0x00, 0x07, 0x00, 0x00, 0x3f, proto, 0, 0 };
	size_t off = f->n;

	memcpy(h + 12, src, 4);
	memcpy(h + 16, dst, 4);
	fr_add(f, h, sizeof(h));
	t_remember(FIX_IP4, off);
	return off;
}

static size_t t_ip6(struct frame *f, uint8_t nh, const uint8_t *src, const uint8_t *dst)
{
	uint8_t h[8] = { 0x60, 0, 0, 0, 0, 0, nh, 0x3f };
	size_t off = f->n;

	fr_add(f, h, sizeof(h));
	fr_add(f, src, 16);
	fr_add(f, dst, 16);
	t_remember(FIX_IP6, off);
	return off;
}

static size_t t_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	size_t off = f->n;

	t_be16(f, sport);
	t_be16(f, dport);
	t_be32(f, 0);
	t_remember(FIX_UDP, off);
	return off;
}

static void t_put16(struct frame *f, size_t off, size_t v)
{
	ck_assert_uint_le(v, 0xffff);
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

/* Every remembered header reaches the end of the frame. */
static void t_done(struct frame *f)
{
	int i;

	for (i = 0; i < g_nfix; i++) {
		size_t off = g_fix[i].off;

		if (g_fix[i].kind == FIX_IP4)
			t_put16(f, off + 2, f->n - off);
		else if (g_fix[i].kind == FIX_IP6)
			t_put16(f, off + 4, f->n - off - 40);
		else
			t_put16(f, off + 4, f->n - off);
	}
	g_nfix = 0;
}

/* A range of a frame's bytes that belongs to a tunnel or carrier header,
 * and the anomaly a capture cut inside it must draw (PB_AN_NONE: only the
 * cut itself is noted, as for a heuristic that then does not match). */
struct hdr_range {
	size_t from, to;
	enum pb_anomaly an;
};

struct tframe {
	struct frame f;
	struct hdr_range r[3];
	int nr;
	size_t entered;   /* from this length on every tunnel is crossed */
	int n_tunnels;    /* tunnels crossed by the whole frame */
};

static void t_range(struct tframe *t, size_t from, size_t to, enum pb_anomaly an)
{
	ck_assert_int_lt(t->nr, 3);
	t->r[t->nr].from = from;
	t->r[t->nr].to = to;
	t->r[t->nr].an = an;
	t->nr++;
}

static void t_init(struct tframe *t)
{
	memset(t, 0, sizeof(*t));
	g_nfix = 0;
}

/* ---- the frames ---- */

/* Ethernet / MPLS 16, 17, 18 (bottom, TC 5, TTL 64) / IPv4 UDP */
static void build_mpls3(struct tframe *t)
{
	t_init(t);
	t_eth(&t->f, 0x8847);
	t_be32(&t->f, 16u << 12 | 0x40);
	t_be32(&t->f, 17u << 12 | 0x40);
	t_be32(&t->f, 18u << 12 | 5u << 9 | 0x100 | 0x40);
	FR_ADD(&t->f, ip4_udp);
	t_range(t, 14, 26, PB_AN_MPLS_TRUNCATED);
}

/* Ethernet / MPLS 100 (bottom) / control word / Ethernet / IPv4 / TCP */
static void build_mpls_cw(struct tframe *t)
{
	t_init(t);
	t_eth(&t->f, 0x8847);
	t_be32(&t->f, 100u << 12 | 0x100 | 0xff);
	t_be32(&t->f, 0x00000001); /* control word: sequence 1 */
	FR_ADD(&t->f, tcp4);
	t_range(t, 14, 22, PB_AN_MPLS_TRUNCATED);
}

/* Ethernet / PPPoE session 0x1234 / PPP IPv4 or IPv6 / UDP */
static void build_pppoe(struct tframe *t, int v6)
{
	t_init(t);
	t_eth(&t->f, 0x8864);
	t_be16(&t->f, 0x1100);
	t_be16(&t->f, 0x1234);
	t_be16(&t->f, (uint16_t)(2 + (v6 ? sizeof(ip6_udp) : sizeof(ip4_udp))));
	t_be16(&t->f, v6 ? 0x0057 : 0x0021);
	if (v6)
		FR_ADD(&t->f, ip6_udp);
	else
		FR_ADD(&t->f, ip4_udp);
	t_range(t, 14, 22, PB_AN_PPPOE_TRUNCATED);
}

static void build_pppoe4(struct tframe *t)
{
	build_pppoe(t, 0);
}

static void build_pppoe6(struct tframe *t)
{
	build_pppoe(t, 1);
}

/* Ethernet / IPv4 10.0.0.1 -> 10.0.0.2 proto 4 / IPv4 UDP */
static void build_ipip(struct tframe *t)
{
	t_init(t);
	t_eth(&t->f, 0x0800);
	t_ip4(&t->f, 4, o4_src, o4_dst);
	FR_ADD(&t->f, ip4_udp);
	t_done(&t->f);
	t_range(t, 14, 34, PB_AN_IP4_TRUNCATED);
	t->entered = 34;
	t->n_tunnels = 1;
}

/* Ethernet / IPv4 proto 41 / IPv6 UDP */
static void build_6in4(struct tframe *t)
{
	t_init(t);
	t_eth(&t->f, 0x0800);
	t_ip4(&t->f, 41, o4_src, o4_dst);
	FR_ADD(&t->f, ip6_udp);
	t_done(&t->f);
	t_range(t, 14, 34, PB_AN_IP4_TRUNCATED);
	t->entered = 34;
	t->n_tunnels = 1;
}

/* Ethernet / IPv6 2001:db8::a -> 2001:db8::b next header 4 / IPv4 UDP */
static void build_4in6(struct tframe *t)
{
	t_init(t);
	t_eth(&t->f, 0x86dd);
	t_ip6(&t->f, 4, o6_src, o6_dst);
	FR_ADD(&t->f, ip4_udp);
	t_done(&t->f);
	t_range(t, 14, 54, PB_AN_IP6_TRUNCATED);
	t->entered = 54;
	t->n_tunnels = 1;
}

/* Ethernet / IPv4 proto 47 / GRE K S, key 0xdeadbeef, seq 7 / IPv4 UDP */
static void build_gre_ks(struct tframe *t)
{
	t_init(t);
	t_eth(&t->f, 0x0800);
	t_ip4(&t->f, 47, o4_src, o4_dst);
	t_be16(&t->f, 0x3000);
	t_be16(&t->f, 0x0800);
	t_be32(&t->f, 0xdeadbeef);
	t_be32(&t->f, 7);
	FR_ADD(&t->f, ip4_udp);
	t_done(&t->f);
	t_range(t, 34, 46, PB_AN_GRE_TRUNCATED);
	t->entered = 38;
	t->n_tunnels = 1;
}

/* Ethernet / IPv4 / GRE C (checksum), 0x6558 / Ethernet / IPv4 / TCP */
static void build_gre_teb(struct tframe *t)
{
	t_init(t);
	t_eth(&t->f, 0x0800);
	t_ip4(&t->f, 47, o4_src, o4_dst);
	t_be16(&t->f, 0x8000);
	t_be16(&t->f, 0x6558);
	t_be32(&t->f, 0xabcd0000); /* checksum, reserved */
	FR_ADD(&t->f, tcp4);
	t_done(&t->f);
	t_range(t, 34, 42, PB_AN_GRE_TRUNCATED);
	t->entered = 38;
	t->n_tunnels = 1;
}

/* ERSPAN over GRE: version 1 (no sequence, no header), 2, 3, 3 with the
 * platform sub-header; then Ethernet / IPv4 / TCP */
static void build_erspan(struct tframe *t, int version, int obit)
{
	size_t gre, hdr;

	t_init(t);
	t_eth(&t->f, 0x0800);
	t_ip4(&t->f, 47, o4_src, o4_dst);
	gre = t->f.n;
	t_be16(&t->f, version == 1 ? 0x0000 : 0x1000);
	t_be16(&t->f, version == 3 ? 0x22eb : 0x88be);
	if (version > 1)
		t_be32(&t->f, 0x01020304); /* sequence */
	hdr = t->f.n;
	if (version == 2) {
		t_be16(&t->f, 0x1064);        /* ver 1, VLAN 100 */
		t_be16(&t->f, 0xa000 | 0x123); /* CoS 5, session 0x123 */
		t_be32(&t->f, 0x00000abc);    /* reserved, index */
	} else if (version == 3) {
		t_be16(&t->f, 0x2064);        /* ver 2, VLAN 100 */
		t_be16(&t->f, 0xe000 | 0x3ff); /* CoS 7, session 1023 */
		t_be32(&t->f, 0x11223344);    /* timestamp */
		t_be16(&t->f, 0x5566);        /* security group tag */
		t_be16(&t->f, (uint16_t)(0x8006 | (obit ? 1 : 0)));
		if (obit) {
			t_be32(&t->f, 0x0a0b0c0d); /* platform specific */
			t_be32(&t->f, 0x0e0f1011);
		}
	}
	FR_ADD(&t->f, tcp4);
	t_done(&t->f);
	t_range(t, gre, hdr, PB_AN_GRE_TRUNCATED);
	if (version > 1)
		t_range(t, hdr, hdr + (version == 2 ? 8 : obit ? 20 : 12),
			PB_AN_ERSPAN_TRUNCATED);
	t->entered = gre + 4;
	t->n_tunnels = 1;
}

static void build_erspan1(struct tframe *t)
{
	build_erspan(t, 1, 0);
}

static void build_erspan2(struct tframe *t)
{
	build_erspan(t, 2, 0);
}

static void build_erspan3(struct tframe *t)
{
	build_erspan(t, 3, 0);
}

static void build_erspan3o(struct tframe *t)
{
	build_erspan(t, 3, 1);
}

/* Enhanced GRE (version 1, PPTP): K S A, payload length and call id 1234,
 * seq 9, ack 8, protocol PPP; PPP ff 03 0021 / IPv4 UDP */
static void build_gre_ppp(struct tframe *t)
{
	t_init(t);
	t_eth(&t->f, 0x0800);
	t_ip4(&t->f, 47, o4_src, o4_dst);
	t_be16(&t->f, 0x3081);
	t_be16(&t->f, 0x880b);
	t_be16(&t->f, (uint16_t)(4 + sizeof(ip4_udp)));
	t_be16(&t->f, 1234);
	t_be32(&t->f, 9);
	t_be32(&t->f, 8);
	t_be16(&t->f, 0xff03);
	t_be16(&t->f, 0x0021);
	FR_ADD(&t->f, ip4_udp);
	t_done(&t->f);
	t_range(t, 34, 50, PB_AN_GRE_TRUNCATED);
	t_range(t, 50, 54, PB_AN_PPPOE_TRUNCATED);
	t->entered = 38;
	t->n_tunnels = 1;
}

/* Ethernet / IPv4 / UDP 12345 -> 4754 / GRE K, key 99, 0x0800 / IPv4 UDP */
static void build_gre_udp(struct tframe *t)
{
	t_init(t);
	t_eth(&t->f, 0x0800);
	t_ip4(&t->f, 17, o4_src, o4_dst);
	t_udp(&t->f, 12345, 4754);
	t_be16(&t->f, 0x2000);
	t_be16(&t->f, 0x0800);
	t_be32(&t->f, 99);
	FR_ADD(&t->f, ip4_udp);
	t_done(&t->f);
	t_range(t, 42, 50, PB_AN_GRE_TRUNCATED);
	t->entered = 46;
	t->n_tunnels = 1;
}

/* Ethernet / IPv4 / UDP sport -> dport / VXLAN VNI 0x123456 / inner */
static void build_vxlan_ports(struct tframe *t, uint16_t sport, uint16_t dport,
			      const uint8_t *inner, size_t n)
{
	t_init(t);
	t_eth(&t->f, 0x0800);
	t_ip4(&t->f, 17, o4_src, o4_dst);
	t_udp(&t->f, sport, dport);
	t_be32(&t->f, 0x08000000);
	t_be32(&t->f, 0x12345600);
	fr_add(&t->f, inner, n);
	t_done(&t->f);
	t_range(t, 42, 50, PB_AN_VXLAN_TRUNCATED);
	t->entered = 50;
	t->n_tunnels = 1;
}

static void build_vxlan(struct tframe *t)
{
	build_vxlan_ports(t, 50000, 4789, tcp4, sizeof(tcp4));
}

/* Ethernet / IPv4 / UDP 6081 / Geneve, options, protocol / inner */
static void build_geneve_proto(struct tframe *t, uint16_t proto)
{
	int teb = proto == 0x6558;

	t_init(t);
	t_eth(&t->f, 0x0800);
	t_ip4(&t->f, 17, o4_src, o4_dst);
	t_udp(&t->f, 40000, 6081);
	t_u8(&t->f, teb ? 0x02 : 0x01); /* version 0, options 8 or 4 bytes */
	t_u8(&t->f, 0x40);              /* C: critical options */
	t_be16(&t->f, proto);
	t_be32(&t->f, 0xabcdef00);      /* VNI 0xabcdef */
	/* option class 0x0102, type 0x80, length 1 word (or none) */
	t_be32(&t->f, teb ? 0x01028001 : 0x01028000);
	if (teb)
		t_be32(&t->f, 0x45454545); /* option data that looks like IPv4 */
	if (teb)
		FR_ADD(&t->f, tcp4);
	else
		FR_ADD(&t->f, ip4_udp);
	t_done(&t->f);
	/* a Geneve header cut short is not taken for Geneve (no anomaly of
	 * its own); options cut short are GENEVE_TRUNCATED */
	t_range(t, 42, 50, PB_AN_NONE);
	t_range(t, 50, teb ? 58 : 54, PB_AN_GENEVE_TRUNCATED);
	t->entered = 50;
	t->n_tunnels = 1;
}

static void build_geneve(struct tframe *t)
{
	build_geneve_proto(t, 0x6558);
}

static void build_geneve4(struct tframe *t)
{
	build_geneve_proto(t, 0x0800);
}

/* Ethernet / IPv4 / UDP 3544 / [origin indication] / IPv6 UDP, exactly */
static void build_teredo_opt(struct tframe *t, int origin)
{
	t_init(t);
	t_eth(&t->f, 0x0800);
	t_ip4(&t->f, 17, o4_src, o4_dst);
	t_udp(&t->f, 3544, 51000);
	if (origin) {
		t_be16(&t->f, 0x0000);
		t_be16(&t->f, 0xfc17);     /* obfuscated port */
		t_be32(&t->f, 0x3fffffd4); /* obfuscated address */
	}
	FR_ADD(&t->f, ip6_udp);
	t_done(&t->f);
	/* a cut Teredo packet is not taken: no range with an anomaly */
	t->entered = t->f.n;
	t->n_tunnels = 1;
}

static void build_teredo(struct tframe *t)
{
	build_teredo_opt(t, 0);
}

static void build_teredo_origin(struct tframe *t)
{
	build_teredo_opt(t, 1);
}

/* Ethernet / IPv4 / UDP 6635 / MPLS 200 (bottom) / IPv4 UDP */
static void build_mpls_udp(struct tframe *t)
{
	t_init(t);
	t_eth(&t->f, 0x0800);
	t_ip4(&t->f, 17, o4_src, o4_dst);
	t_udp(&t->f, 49152, 6635);
	t_be32(&t->f, 200u << 12 | 0x100 | 0x40);
	FR_ADD(&t->f, ip4_udp);
	t_done(&t->f);
	t_range(t, 42, 46, PB_AN_MPLS_TRUNCATED);
	t->entered = 42;
	t->n_tunnels = 1;
}

/* Ethernet / IPv4 10.0.0.x / GRE key 77 / IPv4 172.16.0.x / UDP 50000 ->
 * 4789 / VXLAN 42 / Ethernet / IPv4 UDP */
static void build_nested(struct tframe *t)
{
	t_init(t);
	t_eth(&t->f, 0x0800);
	t_ip4(&t->f, 47, o4_src, o4_dst);
	t_be16(&t->f, 0x2000);
	t_be16(&t->f, 0x0800);
	t_be32(&t->f, 77);
	t_ip4(&t->f, 17, m4_src, m4_dst);
	t_udp(&t->f, 50000, 4789);
	t_be32(&t->f, 0x08000000);
	t_be32(&t->f, 42u << 8);
	FR_ADD(&t->f, eth_ip4);
	FR_ADD(&t->f, ip4_udp);
	t_done(&t->f);
	t_range(t, 34, 42, PB_AN_GRE_TRUNCATED);
	t_range(t, 42, 62, PB_AN_IP4_TRUNCATED);
	t_range(t, 70, 78, PB_AN_VXLAN_TRUNCATED);
	t->entered = 78;
	t->n_tunnels = 2;
}

static void assert_tunnel4(const struct pb_tunnel *t, enum pb_tunnel_type type,
			   const uint8_t *src, const uint8_t *dst)
{
	ck_assert_msg(t->type == type, "tunnel %s, expected %s",
		      pb_tunnel_name((enum pb_tunnel_type)t->type), pb_tunnel_name(type));
	ck_assert_uint_eq(t->ip_version, 4);
	ck_assert_uint_eq(t->addr_len, 4);
	ck_assert_mem_eq(t->src_ip, src, 4);
	ck_assert_mem_eq(t->dst_ip, dst, 4);
}

/* The inner Ethernet / IPv4 / TCP of tcp4 was found whole. */
static void assert_inner_tcp4(const struct pb_decoded *d)
{
	ck_assert_uint_eq(d->layers, PB_LAYER_ETH | PB_LAYER_IP4 | PB_LAYER_TCP);
	ck_assert_mem_eq(d->src_mac, mac_src, 6);
	ck_assert_mem_eq(d->dst_mac, mac_dst, 6);
	ck_assert_uint_eq(d->ethertype, 0x0800);
	ck_assert_mem_eq(d->src_ip, a4_src, 4);
	ck_assert_mem_eq(d->dst_ip, a4_dst, 4);
	ck_assert_uint_eq(d->sport, 1234);
	ck_assert_uint_eq(d->dport, 80);
	ck_assert_uint_eq(d->tcpopt.mss, 1460);
	ck_assert_uint_eq(d->payload_len, 4);
	ck_assert_mem_eq(d->payload, "abcd", 4);
}

/* ---- MPLS ---- */

START_TEST(test_mpls_one)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;

	t_eth(&f, 0x8847);
	t_be32(&f, 100u << 12 | 0x100 | 0x40);
	FR_ADD(&f, ip4_udp);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_mpls, 1);
	ck_assert_uint_eq(d.mpls[0], 100);
	ck_assert_uint_eq(d.n_tunnels, 0);
	ck_assert_uint_eq(d.ethertype, 0x8847);
	ck_assert_mem_eq(d.src_mac, omac_src, 6);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_IP4 | PB_LAYER_UDP);
	assert_ip4_udp(&d);
	/* the multicast ethertype too, with the largest label */
	f.b[13] = 0x48;
	f.b[14] = f.b[15] = 0xff;
	f.b[16] |= 0xf0;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.mpls[0], 1048575);
	assert_ip4_udp(&d);
}
END_TEST

START_TEST(test_mpls_three)
{
	struct tframe t;
	struct pb_decoded d;

	build_mpls3(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_mpls, 3);
	ck_assert_uint_eq(d.mpls[0], 16);
	ck_assert_uint_eq(d.mpls[1], 17);
	ck_assert_uint_eq(d.mpls[2], 18);
	assert_ip4_udp(&d);

	/* bottom of the stack, then IPv6 */
	t.f.n = 26;
	FR_ADD(&t.f, ip6_udp);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_mpls, 3);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_IP6 | PB_LAYER_UDP);
	assert_ip6_udp(&d);
}
END_TEST

/* Five labels: all are counted, the first four kept. */
START_TEST(test_mpls_kept)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;
	uint32_t i;

	t_eth(&f, 0x8847);
	for (i = 0; i < 5; i++)
		t_be32(&f, (1000 + i) << 12 | (i == 4 ? 0x100u : 0) | 0x40);
	FR_ADD(&f, ip6_udp);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_mpls, 5);
	for (i = 0; i < PB_MAX_MPLS_KEPT; i++)
		ck_assert_uint_eq(d.mpls[i], 1000 + i);
	assert_ip6_udp(&d);
}
END_TEST

START_TEST(test_mpls_control_word)
{
	struct tframe t;
	struct pb_decoded d;

	build_mpls_cw(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_mpls, 1);
	ck_assert_uint_eq(d.mpls[0], 100);
	ck_assert_uint_eq(d.n_tunnels, 0);
	/* the pseudowire's Ethernet header gives the addresses and type */
	assert_inner_tcp4(&d);
	ck_assert_ptr_eq(d.src_mac, g_held + 22 + 6);
	ck_assert_uint_eq(g_st.tcp, 1);
}
END_TEST

START_TEST(test_mpls_payload_unknown)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;
	static const uint8_t other[] = { 0x51, 0x02, 0x03, 0x04, 0x05, 0x06 };

	t_eth(&f, 0x8847);
	t_be32(&f, 300u << 12 | 0x100 | 0x40);
	FR_ADD(&f, other);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.n_anomalies, 1);
	ck_assert_an(&d, PB_AN_MPLS_PAYLOAD_UNKNOWN);
	ck_assert(pb_anomaly_is_note(PB_AN_MPLS_PAYLOAD_UNKNOWN));
	ck_assert_uint_eq(d.error, 0);
	ck_assert_uint_eq(d.n_mpls, 1);
	ck_assert_uint_eq(d.mpls[0], 300);
	ck_assert_uint_eq(d.ip_version, 0);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH);
	ck_assert_uint_eq(g_st.errors, 0);
	ck_assert_uint_eq(g_st.anomalies[PB_AN_MPLS_PAYLOAD_UNKNOWN], 1);
}
END_TEST

/* _i labels, the last the bottom: 16 are walked, 17 are too deep */
START_TEST(test_mpls_depth)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;
	int i;

	t_eth(&f, 0x8847);
	for (i = 0; i < _i; i++)
		t_be32(&f, (uint32_t)(i + 16) << 12 | (i == _i - 1 ? 0x100u : 0) | 0x40);
	FR_ADD(&f, ip4_udp);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	if (_i <= PB_MAX_MPLS) {
		ck_assert_clean(&d);
		ck_assert_uint_eq(d.n_mpls, _i);
		assert_ip4_udp(&d);
	} else {
		ck_assert_uint_eq(d.error, PB_AN_MPLS_TOO_DEEP);
		ck_assert_uint_eq(d.n_anomalies, 1);
		ck_assert_uint_eq(d.n_mpls, PB_MAX_MPLS);
		ck_assert_uint_eq(d.ip_version, 0);
		ck_assert(!(d.layers & PB_LAYER_IP4));
		ck_assert_uint_eq(g_st.errors, 1);
	}
	ck_assert_uint_eq(d.mpls[0], 16);
	ck_assert_uint_eq(d.mpls[3], 19);
}
END_TEST

START_TEST(test_mpls_truncated)
{
	struct tframe t;
	struct pb_decoded d;

	build_mpls3(&t);
	/* inside the second label */
	decode(t.f.b, 20, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_MPLS_TRUNCATED);
	ck_assert_uint_eq(d.n_mpls, 1);
	ck_assert_uint_eq(d.ip_version, 0);
	/* the stack ends and nothing follows */
	decode(t.f.b, 26, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_MPLS_TRUNCATED);
	ck_assert_uint_eq(d.n_mpls, 3);
	/* a stack that never reaches the bottom */
	decode(t.f.b, 22, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_MPLS_TRUNCATED);
	ck_assert_uint_eq(d.n_mpls, 2);
	/* a control word cut short */
	build_mpls_cw(&t);
	decode(t.f.b, 20, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_MPLS_TRUNCATED);
	ck_assert_ptr_eq(d.src_mac, g_held + 6); /* the outer Ethernet's */
	ck_assert_uint_eq(g_st.anomalies[PB_AN_MPLS_TRUNCATED], 4);
}
END_TEST

/* ---- PPPoE ---- */

START_TEST(test_pppoe)
{
	struct tframe t;
	struct pb_decoded d;

	build_pppoe4(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.has_pppoe);
	ck_assert_uint_eq(d.pppoe_session, 0x1234);
	ck_assert_uint_eq(d.ethertype, 0x8864);
	ck_assert_uint_eq(d.n_tunnels, 0);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_IP4 | PB_LAYER_UDP);
	assert_ip4_udp(&d);

	build_pppoe6(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.has_pppoe);
	ck_assert_uint_eq(d.pppoe_session, 0x1234);
	assert_ip6_udp(&d);

	/* the protocol field compressed to one byte (RFC 1661) */
	t.f.n = 20;
	t_u8(&t.f, 0x57);
	FR_ADD(&t.f, ip6_udp);
	t_put16(&t.f, 18, 1 + sizeof(ip6_udp));
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	assert_ip6_udp(&d);
	ck_assert_uint_eq(g_st.ipv4, 1);
	ck_assert_uint_eq(g_st.ipv6, 2);
	ck_assert_uint_eq(g_st.other_net, 0);
}
END_TEST

START_TEST(test_pppoe_lcp)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;
	/* LCP configure-request, id 1, length 10, magic number */
	static const uint8_t lcp[] = { 0x01, 0x01, 0x00, 0x0a, 0x05, 0x06, 1, 2, 3, 4 };

	t_eth(&f, 0x8864);
	t_be16(&f, 0x1100);
	t_be16(&f, 0x0042);
	t_be16(&f, 2 + sizeof(lcp));
	t_be16(&f, 0xc021);
	FR_ADD(&f, lcp);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.has_pppoe);
	ck_assert_uint_eq(d.pppoe_session, 0x42);
	ck_assert_uint_eq(d.ip_version, 0);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH);
	ck_assert(!d.has_payload);
	ck_assert_uint_eq(g_st.other_net, 1);
	ck_assert_uint_eq(g_st.ipv4 + g_st.ipv6, 0);

	/* a PPPoE code other than session data (PADT) is not PPP */
	f.b[15] = 0xa7;
	decode_fr(&f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert(d.has_pppoe);
	ck_assert_uint_eq(d.ip_version, 0);
	ck_assert_uint_eq(g_st.other_net, 2);

	/* a PPPoE header cut short */
	decode(f.b, 19, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_PPPOE_TRUNCATED);
	ck_assert(!d.has_pppoe);
}
END_TEST

/* The PPPoE length ends the PPP frame before the bytes of the frame do:
 * the bytes past it are not part of the packet. */
START_TEST(test_pppoe_short_length)
{
	struct tframe t;
	struct pb_decoded d;

	/* cut inside the IPv4 header: truncated */
	build_pppoe4(&t);
	t_put16(&t.f, 18, 2 + 10);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_IP4_TRUNCATED);
	ck_assert(d.has_pppoe);
	ck_assert(!(d.layers & PB_LAYER_IP4));

	/* cut inside the UDP header */
	t_put16(&t.f, 18, 2 + 24);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_UDP_TRUNCATED);
	ck_assert(d.layers & PB_LAYER_IP4);
	ck_assert(!(d.layers & PB_LAYER_UDP));

	/* cut inside the UDP payload: two of its four bytes are in the PPP
	 * frame; the IPv4 length runs past the PPPoE payload and is noted */
	t_put16(&t.f, 18, 2 + 30);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, 0);
	ck_assert_an(&d, PB_AN_IP4_LENGTH_EXCEEDS_FRAME);
	ck_assert(d.layers & PB_LAYER_UDP);
	ck_assert_uint_eq(d.ip_len, 32);
	ck_assert_uint_eq(d.payload_caplen, 2);
	ck_assert_uint_eq(d.payload_len, 2);

	/* a PPPoE length longer than the frame: the frame is all there is */
	t_put16(&t.f, 18, 2 + 200);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, 0);
	assert_ip4_udp(&d);
}
END_TEST

/* ---- IP in IP ---- */

START_TEST(test_ipip)
{
	struct tframe t;
	struct pb_decoded d;

	build_ipip(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	assert_tunnel4(&d.tunnels[0], PB_TUN_IPIP, o4_src, o4_dst);
	ck_assert(!d.tunnels[0].has_ports);
	ck_assert(!d.tunnels[0].has_id);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_IP4 | PB_LAYER_UDP);
	assert_ip4_udp(&d);
	ck_assert_uint_eq(d.ttl, 64); /* the inner header's, not the outer 63 */
	ck_assert_uint_eq(d.ip_len, 32);
	ck_assert_uint_eq(g_st.tunnelled, 1);
	ck_assert_uint_eq(g_st.ipv4, 2);
	ck_assert_uint_eq(g_st.udp, 1);
	ck_assert_str_eq(pb_tunnel_name(PB_TUN_IPIP), "ipip");
}
END_TEST

START_TEST(test_6in4)
{
	struct tframe t;
	struct pb_decoded d;

	build_6in4(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	assert_tunnel4(&d.tunnels[0], PB_TUN_6IN4, o4_src, o4_dst);
	/* the outer IPv4 layer is the tunnel's, not the packet's */
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_IP6 | PB_LAYER_UDP);
	assert_ip6_udp(&d);
	ck_assert_uint_eq(g_st.ipv4, 1);
	ck_assert_uint_eq(g_st.ipv6, 1);
	ck_assert_str_eq(pb_tunnel_name(PB_TUN_6IN4), "6in4");
}
END_TEST

START_TEST(test_4in6)
{
	struct tframe t;
	struct pb_decoded d;

	build_4in6(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	ck_assert_uint_eq(d.tunnels[0].type, PB_TUN_4IN6);
	ck_assert_uint_eq(d.tunnels[0].ip_version, 6);
	ck_assert_uint_eq(d.tunnels[0].addr_len, 16);
	ck_assert_mem_eq(d.tunnels[0].src_ip, o6_src, 16);
	ck_assert_mem_eq(d.tunnels[0].dst_ip, o6_dst, 16);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_IP4 | PB_LAYER_UDP);
	assert_ip4_udp(&d);

	/* IPv6 in IPv6 */
	t.f.n = 54;
	t.f.b[20] = 41;
	FR_ADD(&t.f, ip6_udp);
	t_put16(&t.f, 18, sizeof(ip6_udp));
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.tunnels[0].type, PB_TUN_6IN6);
	ck_assert_mem_eq(d.tunnels[0].src_ip, o6_src, 16);
	assert_ip6_udp(&d);
}
END_TEST

/* ---- GRE ---- */

START_TEST(test_gre_key_seq)
{
	struct tframe t;
	struct pb_decoded d;

	build_gre_ks(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	assert_tunnel4(&d.tunnels[0], PB_TUN_GRE, o4_src, o4_dst);
	ck_assert(d.tunnels[0].has_id);
	ck_assert_uint_eq(d.tunnels[0].id, 0xdeadbeef);
	ck_assert(d.tunnels[0].has_seq);
	ck_assert_uint_eq(d.tunnels[0].seq, 7);
	ck_assert(!d.tunnels[0].has_ports);
	ck_assert_uint_eq(d.tunnels[0].erspan_version, 0);
	assert_ip4_udp(&d);

	/* no key, no sequence: nothing to show but the addresses */
	t.f.n = 34;
	t_be16(&t.f, 0x0000);
	t_be16(&t.f, 0x86dd);
	FR_ADD(&t.f, ip6_udp);
	t_put16(&t.f, 16, t.f.n - 14);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.tunnels[0].type, PB_TUN_GRE);
	ck_assert(!d.tunnels[0].has_id);
	ck_assert(!d.tunnels[0].has_seq);
	assert_ip6_udp(&d);
}
END_TEST

START_TEST(test_gre_teb)
{
	struct tframe t;
	struct pb_decoded d;

	build_gre_teb(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	assert_tunnel4(&d.tunnels[0], PB_TUN_GRE, o4_src, o4_dst);
	ck_assert(!d.tunnels[0].has_id);
	assert_inner_tcp4(&d);
	ck_assert_uint_eq(d.tcp_flags, PB_TCP_NS | PB_TCP_CWR | PB_TCP_ECE | PB_TCP_SYN);
}
END_TEST

START_TEST(test_erspan)
{
	struct tframe t;
	struct pb_decoded d;

	/* type I: GRE without a sequence number, Ethernet at once */
	build_erspan1(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	assert_tunnel4(&d.tunnels[0], PB_TUN_ERSPAN, o4_src, o4_dst);
	ck_assert_uint_eq(d.tunnels[0].erspan_version, 1);
	ck_assert(!d.tunnels[0].has_id);
	ck_assert(!d.tunnels[0].has_seq);
	assert_inner_tcp4(&d);

	/* type II: the session id */
	build_erspan2(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	assert_tunnel4(&d.tunnels[0], PB_TUN_ERSPAN, o4_src, o4_dst);
	ck_assert_uint_eq(d.tunnels[0].erspan_version, 2);
	ck_assert(d.tunnels[0].has_id);
	ck_assert_uint_eq(d.tunnels[0].id, 0x123);
	ck_assert(d.tunnels[0].has_seq);
	ck_assert_uint_eq(d.tunnels[0].seq, 0x01020304);
	assert_inner_tcp4(&d);

	/* type III without, then with, the platform sub-header */
	build_erspan3(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.tunnels[0].type, PB_TUN_ERSPAN);
	ck_assert_uint_eq(d.tunnels[0].erspan_version, 3);
	ck_assert_uint_eq(d.tunnels[0].id, 1023);
	assert_inner_tcp4(&d);
	build_erspan3o(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.tunnels[0].erspan_version, 3);
	ck_assert_uint_eq(d.tunnels[0].id, 1023);
	assert_inner_tcp4(&d);
	ck_assert_ptr_eq(d.src_mac, g_held + 42 + 20 + 6);
	ck_assert_str_eq(pb_tunnel_name(PB_TUN_ERSPAN), "erspan");
}
END_TEST

START_TEST(test_gre_v1_ppp)
{
	struct tframe t;
	struct pb_decoded d;

	build_gre_ppp(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	assert_tunnel4(&d.tunnels[0], PB_TUN_GRE, o4_src, o4_dst);
	ck_assert(d.tunnels[0].has_id);
	ck_assert_uint_eq(d.tunnels[0].id, (uint32_t)(4 + sizeof(ip4_udp)) << 16 | 1234);
	ck_assert(d.tunnels[0].has_seq);
	ck_assert_uint_eq(d.tunnels[0].seq, 9);
	ck_assert(!d.has_pppoe);
	assert_ip4_udp(&d);

	/* without the acknowledgment (A clear): 4 bytes fewer */
	memmove(t.f.b + 46, t.f.b + 50, t.f.n - 50);
	t.f.n -= 4;
	t.f.b[35] = 0x01;
	t_put16(&t.f, 16, t.f.n - 14);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.tunnels[0].seq, 9);
	assert_ip4_udp(&d);
}
END_TEST

START_TEST(test_gre_unsupported)
{
	struct tframe t;
	struct pb_decoded d;

	/* R (source routing): a note, the GRE packet is the packet */
	build_gre_ks(&t);
	t.f.b[34] = 0x70;
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, 0);
	ck_assert_uint_eq(d.n_anomalies, 1);
	ck_assert_an(&d, PB_AN_GRE_UNSUPPORTED);
	ck_assert(pb_anomaly_is_note(PB_AN_GRE_UNSUPPORTED));
	ck_assert_uint_eq(d.n_tunnels, 0);
	ck_assert_uint_eq(d.ip_version, 4);
	ck_assert_mem_eq(d.src_ip, o4_src, 4);
	ck_assert_uint_eq(d.proto, 47);
	ck_assert_uint_eq(g_st.tunnelled, 0);

	/* version 2 */
	t.f.b[34] = 0x30;
	t.f.b[35] = 0x02;
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_an(&d, PB_AN_GRE_UNSUPPORTED);
	ck_assert_uint_eq(d.n_tunnels, 0);

	/* an unknown protocol inside GRE: the tunnel is crossed, and the
	 * protocol is left as the ethertype it is */
	t.f.b[35] = 0x00;
	t.f.b[36] = 0x12;
	t.f.b[37] = 0x34;
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.n_anomalies, 0);
	ck_assert_uint_eq(d.error, 0);
	ck_assert_uint_eq(d.n_tunnels, 1);
	ck_assert_uint_eq(d.tunnels[0].id, 0xdeadbeef);
	ck_assert_uint_eq(d.ip_version, 0);
	ck_assert(d.has_ethertype);
	ck_assert_uint_eq(d.ethertype, 0x1234);
	ck_assert_uint_eq(g_st.anomalies[PB_AN_GRE_UNSUPPORTED], 2);
}
END_TEST

START_TEST(test_gre_in_udp)
{
	struct tframe t;
	struct pb_decoded d;

	build_gre_udp(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	assert_tunnel4(&d.tunnels[0], PB_TUN_GRE, o4_src, o4_dst);
	ck_assert(d.tunnels[0].has_ports);
	ck_assert_uint_eq(d.tunnels[0].sport, 12345);
	ck_assert_uint_eq(d.tunnels[0].dport, 4754);
	ck_assert(d.tunnels[0].has_id);
	ck_assert_uint_eq(d.tunnels[0].id, 99);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_IP4 | PB_LAYER_UDP);
	assert_ip4_udp(&d);
	ck_assert_uint_eq(g_st.udp, 2);
}
END_TEST

/* ---- UDP tunnels ---- */

START_TEST(test_vxlan)
{
	struct tframe t;
	struct pb_decoded d;
	int pass;

	/* the VXLAN port as destination, then as source */
	for (pass = 0; pass < 2; pass++) {
		uint16_t sp = pass ? 4789 : 50000, dp = pass ? 50000 : 4789;

		build_vxlan_ports(&t, sp, dp, tcp4, sizeof(tcp4));
		decode_fr(&t.f, PB_LT_ETHERNET, &d);
		ck_assert_clean(&d);
		ck_assert_uint_eq(d.n_tunnels, 1);
		assert_tunnel4(&d.tunnels[0], PB_TUN_VXLAN, o4_src, o4_dst);
		ck_assert(d.tunnels[0].has_ports);
		ck_assert_uint_eq(d.tunnels[0].sport, sp);
		ck_assert_uint_eq(d.tunnels[0].dport, dp);
		ck_assert(d.tunnels[0].has_id);
		ck_assert_uint_eq(d.tunnels[0].id, 0x123456);
		ck_assert(!d.tunnels[0].has_seq);
		assert_inner_tcp4(&d);
	}
	ck_assert_uint_eq(g_st.tunnelled, 2);
	ck_assert_uint_eq(g_st.udp, 2);
	ck_assert_uint_eq(g_st.tcp, 2);
	ck_assert_str_eq(pb_tunnel_name(PB_TUN_VXLAN), "vxlan");
}
END_TEST

START_TEST(test_vxlan_no_i_flag)
{
	struct tframe t;
	struct pb_decoded d;

	build_vxlan(&t);
	t.f.b[42] = 0x00;
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 0);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_IP4 | PB_LAYER_UDP);
	ck_assert_mem_eq(d.src_mac, omac_src, 6);
	ck_assert_mem_eq(d.src_ip, o4_src, 4);
	ck_assert_uint_eq(d.sport, 50000);
	ck_assert_uint_eq(d.dport, 4789);
	ck_assert_uint_eq(d.payload_len, 8 + sizeof(tcp4));
	ck_assert_ptr_eq(d.payload, g_held + 42);
	ck_assert_uint_eq(g_st.tunnelled, 0);
	ck_assert_uint_eq(g_st.tcp, 0);

	/* less than a VXLAN header on the port: a note, still UDP */
	t.f.n = 46;
	t_put16(&t.f, 16, 32);
	t_put16(&t.f, 38, 12);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, 0);
	ck_assert_an(&d, PB_AN_VXLAN_TRUNCATED);
	ck_assert_uint_eq(d.n_tunnels, 0);
	ck_assert_uint_eq(d.dport, 4789);
	ck_assert_uint_eq(d.payload_len, 4);
}
END_TEST

START_TEST(test_geneve)
{
	struct tframe t;
	struct pb_decoded d;

	/* Ethernet inside, after 8 bytes of options skipped by their length */
	build_geneve(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	assert_tunnel4(&d.tunnels[0], PB_TUN_GENEVE, o4_src, o4_dst);
	ck_assert(d.tunnels[0].has_ports);
	ck_assert_uint_eq(d.tunnels[0].sport, 40000);
	ck_assert_uint_eq(d.tunnels[0].dport, 6081);
	ck_assert_uint_eq(d.tunnels[0].id, 0xabcdef);
	assert_inner_tcp4(&d);

	/* IPv4 inside, after 4 bytes of options */
	build_geneve4(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.tunnels[0].type, PB_TUN_GENEVE);
	ck_assert_uint_eq(d.tunnels[0].id, 0xabcdef);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_IP4 | PB_LAYER_UDP);
	assert_ip4_udp(&d);
	ck_assert_mem_eq(d.src_mac, omac_src, 6); /* no inner Ethernet */

	/* an options length past the datagram */
	t.f.b[42] = 0x3f;
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_GENEVE_TRUNCATED);
	ck_assert_uint_eq(d.n_tunnels, 1);
	ck_assert_uint_eq(d.ip_version, 0);

	/* another protocol: the tunnel is crossed, nothing decoded inside */
	t.f.b[42] = 0x01;
	t_put16(&t.f, 44, 0x88cc);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	ck_assert_uint_eq(d.ip_version, 0);
	ck_assert_uint_eq(g_st.other_net, 1);

	/* version 1 is not Geneve */
	t.f.b[42] = 0x41;
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 0);
	ck_assert_uint_eq(d.dport, 6081);
}
END_TEST

START_TEST(test_teredo)
{
	struct tframe t;
	struct pb_decoded d;
	static const uint8_t extra[] = { 0 };

	build_teredo(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	assert_tunnel4(&d.tunnels[0], PB_TUN_TEREDO, o4_src, o4_dst);
	ck_assert_uint_eq(d.tunnels[0].sport, 3544);
	ck_assert_uint_eq(d.tunnels[0].dport, 51000);
	ck_assert(!d.tunnels[0].has_id);
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_IP6 | PB_LAYER_UDP);
	assert_ip6_udp(&d);

	/* with an origin indication */
	build_teredo_origin(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.tunnels[0].type, PB_TUN_TEREDO);
	assert_ip6_udp(&d);

	/* with an authentication header: id 2, auth 3 bytes, nonce, conf */
	t.f.n = 42;
	g_nfix = 0;
	t_remember(FIX_IP4, 14);
	t_remember(FIX_UDP, 34);
	t_be16(&t.f, 0x0001);
	t_u8(&t.f, 2);
	t_u8(&t.f, 3);
	t_be32(&t.f, 0x61626364); /* id "ab", auth "cde" */
	t_u8(&t.f, 0x65);
	t_be32(&t.f, 0x01020304); /* nonce */
	t_be32(&t.f, 0x05060708);
	t_u8(&t.f, 0);            /* confirmation */
	FR_ADD(&t.f, ip6_udp);
	t_done(&t.f);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	assert_ip6_udp(&d);

	/* one byte more in the datagram than the IPv6 packet: not Teredo */
	build_teredo(&t);
	t_remember(FIX_IP4, 14);
	t_remember(FIX_UDP, 34);
	FR_ADD(&t.f, extra);
	t_done(&t.f);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 0);
	ck_assert_uint_eq(d.ip_version, 4);
	ck_assert_uint_eq(d.dport, 51000);
	ck_assert_uint_eq(d.payload_len, sizeof(ip6_udp) + 1);

	/* an IPv6 payload length one more than there is: not Teredo */
	build_teredo(&t);
	t.f.b[42 + 5]++;
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 0);
	ck_assert_uint_eq(d.payload_len, sizeof(ip6_udp));

	/* and one less */
	t.f.b[42 + 5] -= 2;
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.n_tunnels, 0);

	/* the exact length, but cut by a snaplen: not taken */
	build_teredo(&t);
	decode_wire(t.f.b, t.f.n, t.f.n + 10, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.n_tunnels, 0);
	ck_assert_str_eq(pb_tunnel_name(PB_TUN_TEREDO), "teredo");
}
END_TEST

START_TEST(test_mpls_in_udp)
{
	struct tframe t;
	struct pb_decoded d;

	build_mpls_udp(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 1);
	assert_tunnel4(&d.tunnels[0], PB_TUN_MPLS_UDP, o4_src, o4_dst);
	ck_assert(d.tunnels[0].has_ports);
	ck_assert_uint_eq(d.tunnels[0].sport, 49152);
	ck_assert_uint_eq(d.tunnels[0].dport, 6635);
	ck_assert_uint_eq(d.n_mpls, 1);
	ck_assert_uint_eq(d.mpls[0], 200);
	assert_ip4_udp(&d);
	ck_assert_str_eq(pb_tunnel_name(PB_TUN_MPLS_UDP), "mpls-udp");
}
END_TEST

/* ---- nesting ---- */

START_TEST(test_nested_vxlan_gre)
{
	struct tframe t;
	struct pb_decoded d;

	build_nested(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	ck_assert_uint_eq(d.n_tunnels, 2);
	/* outermost first */
	assert_tunnel4(&d.tunnels[0], PB_TUN_GRE, o4_src, o4_dst);
	ck_assert(d.tunnels[0].has_id);
	ck_assert_uint_eq(d.tunnels[0].id, 77);
	ck_assert(!d.tunnels[0].has_ports);
	assert_tunnel4(&d.tunnels[1], PB_TUN_VXLAN, m4_src, m4_dst);
	ck_assert(d.tunnels[1].has_id);
	ck_assert_uint_eq(d.tunnels[1].id, 42);
	ck_assert(d.tunnels[1].has_ports);
	ck_assert_uint_eq(d.tunnels[1].sport, 50000);
	ck_assert_uint_eq(d.tunnels[1].dport, 4789);
	/* the innermost packet in the main fields */
	ck_assert_uint_eq(d.layers, PB_LAYER_ETH | PB_LAYER_IP4 | PB_LAYER_UDP);
	ck_assert_mem_eq(d.src_mac, mac_src, 6);
	ck_assert_mem_eq(d.dst_mac, mac_dst, 6);
	assert_ip4_udp(&d);
	ck_assert_uint_eq(g_st.tunnelled, 2);
	ck_assert_uint_eq(g_st.ipv4, 3);
	ck_assert_uint_eq(g_st.udp, 2);
}
END_TEST

/* _i IPv4 headers of protocol 4 before the IPv4 UDP packet: 8 tunnels are
 * crossed, the 9th is too deep. */
START_TEST(test_tunnel_depth)
{
	struct frame f = { .n = 0 };
	struct pb_decoded d;
	int i;

	g_nfix = 0;
	t_eth(&f, 0x0800);
	for (i = 0; i < _i; i++) {
		uint8_t src[4] = { 10, 0, (uint8_t)i, 1 }, dst[4] = { 10, 0, (uint8_t)i, 2 };

		t_ip4(&f, 4, src, dst);
	}
	FR_ADD(&f, ip4_udp);
	t_done(&f);
	decode_fr(&f, PB_LT_ETHERNET, &d);
	if (_i <= PB_MAX_TUNNELS) {
		ck_assert_clean(&d);
		ck_assert_uint_eq(d.n_tunnels, _i);
		assert_ip4_udp(&d);
	} else {
		ck_assert_uint_eq(d.error, PB_AN_TUNNEL_TOO_DEEP);
		ck_assert_uint_eq(d.n_anomalies, 1);
		ck_assert_uint_eq(d.n_tunnels, PB_MAX_TUNNELS);
		/* the packet stays the innermost header reached */
		ck_assert_uint_eq(d.src_ip[2], PB_MAX_TUNNELS);
		ck_assert_uint_eq(d.proto, 4);
		ck_assert(!(d.layers & PB_LAYER_UDP));
		ck_assert_uint_eq(g_st.errors, 1);
	}
	for (i = 0; i < d.n_tunnels; i++) {
		ck_assert_uint_eq(d.tunnels[i].type, PB_TUN_IPIP);
		ck_assert_uint_eq(d.tunnels[i].src_ip[2], i);
		ck_assert_uint_eq(d.tunnels[i].dst_ip[3], 2);
	}
	ck_assert_uint_eq(g_st.tunnelled, d.n_tunnels);
}
END_TEST

/* ---- every prefix of every tunnel frame ---- */

static const struct {
	const char *name;
	void (*build)(struct tframe *t);
} tunnel_frames[] = {
	{ "mpls3", build_mpls3 },
	{ "mpls_cw", build_mpls_cw },
	{ "pppoe4", build_pppoe4 },
	{ "pppoe6", build_pppoe6 },
	{ "ipip", build_ipip },
	{ "6in4", build_6in4 },
	{ "4in6", build_4in6 },
	{ "gre_ks", build_gre_ks },
	{ "gre_teb", build_gre_teb },
	{ "erspan1", build_erspan1 },
	{ "erspan2", build_erspan2 },
	{ "erspan3", build_erspan3 },
	{ "erspan3o", build_erspan3o },
	{ "gre_ppp", build_gre_ppp },
	{ "gre_udp", build_gre_udp },
	{ "vxlan", build_vxlan },
	{ "geneve", build_geneve },
	{ "geneve4", build_geneve4 },
	{ "teredo", build_teredo },
	{ "teredo_origin", build_teredo_origin },
	{ "mpls_udp", build_mpls_udp },
	{ "nested", build_nested },
};

/* _i names the frame.  Each prefix is decoded twice: cut by a snaplen
 * (the wire had the whole frame), and as a whole frame that is short. */
START_TEST(test_tunnel_truncation)
{
	struct tframe t;
	const char *name = tunnel_frames[_i].name;
	size_t n;
	int k;

	tunnel_frames[_i].build(&t);
	for (n = 0; n <= t.f.n; n++) {
		int pass;

		for (pass = 0; pass < 2; pass++) {
			int snap = pass == 0;
			struct pb_decoded d;
			struct pb_buf b;
			struct pb_record_opts o = { 0, 0 };
			cJSON *j;

			decode_wire(t.f.b, n, snap ? t.f.n : n, PB_LT_ETHERNET, &d);
			ck_assert_uint_le(d.n_anomalies, PB_MAX_ANOMALIES);
			ck_assert_uint_le(d.n_tunnels, PB_MAX_TUNNELS);
			if (n == t.f.n) {
				ck_assert_msg(d.n_anomalies == 0 && !d.error,
					      "%s whole: anomaly %s", name,
					      pb_anomaly_name(d.anomalies[0]));
				ck_assert_int_eq(d.n_tunnels, t.n_tunnels);
			} else {
				ck_assert_msg(d.n_anomalies > 0, "%s length %zu %s: no anomaly",
					      name, n, snap ? "(snaplen)" : "(whole)");
				if (snap)
					ck_assert_an(&d, PB_AN_SNAPLEN_CUT);
			}
			/* cut by a snaplen inside a header: its anomaly */
			for (k = 0; snap && k < t.nr; k++) {
				if (n < t.r[k].from || n >= t.r[k].to)
					continue;
				if (t.r[k].an != PB_AN_NONE)
					ck_assert_msg(has_an(&d, t.r[k].an),
						      "%s length %zu: %s missing (error %s)",
						      name, n, pb_anomaly_name(t.r[k].an),
						      pb_anomaly_name(d.error));
				else
					ck_assert_msg(d.n_anomalies == 1,
						      "%s length %zu: anomaly %s", name, n,
						      pb_anomaly_name(d.anomalies[1]));
			}
			/* past the tunnel headers the tunnels are all crossed,
			 * however little of the inner packet there is */
			if (snap && t.n_tunnels && n >= t.entered)
				ck_assert_msg(d.n_tunnels == t.n_tunnels,
					      "%s length %zu: %d tunnels", name, n, d.n_tunnels);
			if (snap && n < t.entered)
				ck_assert_int_lt(d.n_tunnels, t.n_tunnels ? t.n_tunnels : 1);
			pb_buf_init(&b, 1 << 16);
			pb_packet_record(&b, &g_pkt, &d, &o);
			j = cJSON_Parse(pb_buf_cstr(&b));
			ck_assert_msg(j != NULL, "%s length %zu: bad JSON %s", name, n, b.data);
			cJSON_Delete(j);
			pb_buf_release(&b);
		}
	}
}
END_TEST

/* ---- the inner packet is bounded by its tunnel ---- */

START_TEST(test_inner_length_bound)
{
	struct tframe t;
	struct pb_decoded d;
	static const uint8_t pad[100];
	size_t in_ip = 50 + 14;

	/* VXLAN / Ethernet / IPv4 claiming 200 bytes, UDP claiming 180;
	 * Ethernet padding after the outer datagram */
	build_vxlan_ports(&t, 50000, 4789, eth_ip4, sizeof(eth_ip4));
	t_remember(FIX_IP4, 14);
	t_remember(FIX_UDP, 34);
	FR_ADD(&t.f, ip4_udp);
	t_done(&t.f);
	t_put16(&t.f, in_ip + 2, 200);
	t_put16(&t.f, in_ip + 24, 180);
	FR_ADD(&t.f, pad);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, 0);
	ck_assert_an(&d, PB_AN_IP4_LENGTH_EXCEEDS_FRAME);
	ck_assert_an(&d, PB_AN_UDP_BAD_LENGTH);
	ck_assert_uint_eq(d.n_tunnels, 1);
	ck_assert_uint_eq(d.tunnels[0].type, PB_TUN_VXLAN);
	ck_assert_uint_eq(d.ip_len, 200); /* as declared */
	ck_assert_uint_eq(d.sport, 5353);
	ck_assert_uint_eq(d.payload_len, 4);
	ck_assert_uint_eq(d.payload_caplen, 4);
	ck_assert_mem_eq(d.payload, "quer", 4);

	/* bytes inside the outer IPv4 datagram but past the outer UDP length
	 * do not belong to the tunnel either */
	t.f.n -= sizeof(pad);
	fr_add(&t.f, pad, 10);
	t_put16(&t.f, 16, t.f.n - 14);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, 0);
	ck_assert_an(&d, PB_AN_UDP_BAD_LENGTH);
	ck_assert_an(&d, PB_AN_IP4_LENGTH_EXCEEDS_FRAME);
	ck_assert_uint_eq(d.n_tunnels, 1);
	ck_assert_uint_eq(d.tunnels[0].dport, 4789);
	ck_assert_uint_eq(d.payload_len, 4);
	ck_assert_uint_eq(d.payload_caplen, 4);
	ck_assert_uint_eq(g_st.anomalies[PB_AN_IP4_LENGTH_EXCEEDS_FRAME], 2);

	/* the same datagram cut by a snaplen inside the inner UDP header:
	 * the tunnel's length still bounds what the wire had */
	decode_wire(t.f.b, in_ip + 24, t.f.n, PB_LT_ETHERNET, &d);
	ck_assert_uint_eq(d.error, PB_AN_UDP_TRUNCATED);
	ck_assert_an(&d, PB_AN_IP4_LENGTH_EXCEEDS_FRAME);
	ck_assert_uint_eq(d.ip_len, 200);
}
END_TEST

/* ---- records ---- */

static void record_of(const struct pb_decoded *d, struct pb_buf *b)
{
	struct pb_record_opts o = { 0, 0 };

	pb_buf_init(b, 1 << 16);
	pb_packet_record(b, &g_pkt, d, &o);
}

START_TEST(test_record_vxlan)
{
	struct tframe t;
	struct pb_decoded d;
	struct pb_buf b;
	cJSON *j, *tun, *t0;

	build_vxlan_ports(&t, 50000, 4789, eth_ip4, sizeof(eth_ip4));
	t_remember(FIX_IP4, 14);
	t_remember(FIX_UDP, 34);
	FR_ADD(&t.f, ip4_udp);
	t_done(&t.f);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	record_of(&d, &b);
	ck_assert_str_eq(pb_buf_cstr(&b),
		"{\"@timestamp\":\"2023-11-14T22:13:20.123456Z\","
		"\"event\":{\"kind\":\"event\",\"dataset\":\"packet\"},"
		"\"packet\":{\"index\":1,\"length\":96,\"caplen\":96,\"linktype\":1,\"interface\":0},"
		"\"source\":{\"mac\":\"02-00-00-00-00-01\",\"ip\":\"192.168.1.1\",\"port\":5353},"
		"\"destination\":{\"mac\":\"02-00-00-00-00-02\",\"ip\":\"192.168.1.2\",\"port\":53},"
		"\"network\":{\"type\":\"ipv4\",\"transport\":\"udp\",\"iana_number\":\"17\","
		"\"community_id\":\"" CID_UDP4 "\"},"
		"\"tunnel\":[{\"type\":\"vxlan\",\"id\":1193046,"
		"\"source\":{\"ip\":\"10.0.0.1\",\"port\":50000},"
		"\"destination\":{\"ip\":\"10.0.0.2\",\"port\":4789}}],"
		"\"ip\":{\"version\":4,\"ttl\":64,\"tos\":0,\"length\":32,\"id\":43981,"
		"\"header_length\":20,\"flags\":[]},"
		"\"payload\":{\"bytes\":4}}\n");
	j = cJSON_Parse(b.data);
	ck_assert_ptr_nonnull(j);
	tun = cJSON_GetObjectItemCaseSensitive(j, "tunnel");
	ck_assert(cJSON_IsArray(tun));
	ck_assert_int_eq(cJSON_GetArraySize(tun), 1);
	t0 = cJSON_GetArrayItem(tun, 0);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t0, "type")->valuestring, "vxlan");
	cJSON_Delete(j);
	pb_buf_release(&b);

	/* two tunnels: GRE with its key, then VXLAN, outermost first */
	{
		struct tframe n;

		build_nested(&n);
		decode_fr(&n.f, PB_LT_ETHERNET, &d);
		ck_assert_clean(&d);
		record_of(&d, &b);
		ck_assert_ptr_nonnull(strstr(pb_buf_cstr(&b),
			"\"tunnel\":[{\"type\":\"gre\",\"id\":77,"
			"\"source\":{\"ip\":\"10.0.0.1\"},\"destination\":{\"ip\":\"10.0.0.2\"}},"
			"{\"type\":\"vxlan\",\"id\":42,"
			"\"source\":{\"ip\":\"172.16.0.1\",\"port\":50000},"
			"\"destination\":{\"ip\":\"172.16.0.2\",\"port\":4789}}],"
			"\"ip\":{\"version\":4,"));
		pb_buf_release(&b);
	}
}
END_TEST

START_TEST(test_record_mpls_pppoe)
{
	struct tframe t;
	struct pb_decoded d;
	struct pb_buf b;

	build_mpls3(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	record_of(&d, &b);
	ck_assert_str_eq(pb_buf_cstr(&b),
		"{\"@timestamp\":\"2023-11-14T22:13:20.123456Z\","
		"\"event\":{\"kind\":\"event\",\"dataset\":\"packet\"},"
		"\"packet\":{\"index\":1,\"length\":58,\"caplen\":58,\"linktype\":1,\"interface\":0},"
		"\"source\":{\"mac\":\"0A-00-00-00-00-0A\",\"ip\":\"192.168.1.1\",\"port\":5353},"
		"\"destination\":{\"mac\":\"0A-00-00-00-00-0B\",\"ip\":\"192.168.1.2\",\"port\":53},"
		"\"network\":{\"type\":\"ipv4\",\"transport\":\"udp\",\"iana_number\":\"17\","
		"\"community_id\":\"" CID_UDP4 "\"},"
		"\"mpls\":{\"labels\":[16,17,18],\"depth\":3},"
		"\"ip\":{\"version\":4,\"ttl\":64,\"tos\":0,\"length\":32,\"id\":43981,"
		"\"header_length\":20,\"flags\":[]},"
		"\"payload\":{\"bytes\":4}}\n");
	pb_buf_release(&b);

	/* more labels than are kept: the first four, and the depth */
	{
		struct frame f = { .n = 0 };
		uint32_t i;

		t_eth(&f, 0x8847);
		for (i = 0; i < 6; i++)
			t_be32(&f, (20 + i) << 12 | (i == 5 ? 0x100u : 0) | 0x40);
		FR_ADD(&f, ip4_udp);
		decode_fr(&f, PB_LT_ETHERNET, &d);
		record_of(&d, &b);
		ck_assert_ptr_nonnull(strstr(pb_buf_cstr(&b),
			"\"mpls\":{\"labels\":[20,21,22,23],\"depth\":6},\"ip\":"));
		pb_buf_release(&b);
	}

	build_pppoe6(&t);
	decode_fr(&t.f, PB_LT_ETHERNET, &d);
	ck_assert_clean(&d);
	record_of(&d, &b);
	ck_assert_str_eq(pb_buf_cstr(&b),
		"{\"@timestamp\":\"2023-11-14T22:13:20.123456Z\","
		"\"event\":{\"kind\":\"event\",\"dataset\":\"packet\"},"
		"\"packet\":{\"index\":1,\"length\":74,\"caplen\":74,\"linktype\":1,\"interface\":0},"
		"\"source\":{\"mac\":\"0A-00-00-00-00-0A\",\"ip\":\"2001:db8::1\",\"port\":1000},"
		"\"destination\":{\"mac\":\"0A-00-00-00-00-0B\",\"ip\":\"2001:db8::2\",\"port\":53},"
		"\"network\":{\"type\":\"ipv6\",\"transport\":\"udp\",\"iana_number\":\"17\","
		"\"community_id\":\"" CID_UDP6 "\"},"
		"\"pppoe\":{\"session_id\":4660},"
		"\"ip\":{\"version\":6,\"ttl\":64,\"tos\":0,\"length\":52,\"flow_label\":0},"
		"\"payload\":{\"bytes\":4}}\n");
	pb_buf_release(&b);
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

	tc = tcase_create("tunnels");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_mpls_one);
	tcase_add_test(tc, test_mpls_three);
	tcase_add_test(tc, test_mpls_kept);
	tcase_add_test(tc, test_mpls_control_word);
	tcase_add_test(tc, test_mpls_payload_unknown);
	tcase_add_loop_test(tc, test_mpls_depth, PB_MAX_MPLS, PB_MAX_MPLS + 2);
	tcase_add_test(tc, test_mpls_truncated);
	tcase_add_test(tc, test_pppoe);
	tcase_add_test(tc, test_pppoe_lcp);
	tcase_add_test(tc, test_pppoe_short_length);
	tcase_add_test(tc, test_ipip);
	tcase_add_test(tc, test_6in4);
	tcase_add_test(tc, test_4in6);
	tcase_add_test(tc, test_gre_key_seq);
	tcase_add_test(tc, test_gre_teb);
	tcase_add_test(tc, test_erspan);
	tcase_add_test(tc, test_gre_v1_ppp);
	tcase_add_test(tc, test_gre_unsupported);
	tcase_add_test(tc, test_gre_in_udp);
	tcase_add_test(tc, test_vxlan);
	tcase_add_test(tc, test_vxlan_no_i_flag);
	tcase_add_test(tc, test_geneve);
	tcase_add_test(tc, test_teredo);
	tcase_add_test(tc, test_mpls_in_udp);
	tcase_add_test(tc, test_nested_vxlan_gre);
	tcase_add_loop_test(tc, test_tunnel_depth, PB_MAX_TUNNELS, PB_MAX_TUNNELS + 2);
	tcase_add_loop_test(tc, test_tunnel_truncation, 0,
			    (int)(sizeof(tunnel_frames) / sizeof(tunnel_frames[0])));
	tcase_add_test(tc, test_inner_length_bound);
	tcase_add_test(tc, test_record_vxlan);
	tcase_add_test(tc, test_record_mpls_pppoe);
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
