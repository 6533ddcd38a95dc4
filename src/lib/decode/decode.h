/*
 * decode.h - link, network and transport decoding of one frame.
 *
 * pb_decode() walks a frame from its link type down to the transport
 * header and fills struct pb_decoded with what it found.  It never
 * allocates and keeps pointers into the frame only for the duration of the
 * caller's use of the same frame.  What it cannot decode is named by an
 * anomaly (UPPER_SNAKE, table in decode.c) and counted in struct
 * pb_decode_stats; the first anomaly that stopped decoding is d->error.
 *
 * The walk:  link (Ethernet, SLL, SLL2, NULL/LOOP, raw IP)
 *              -> 802.1Q/802.1ad tags -> ethertype
 *              -> MPLS label stack | PPPoE session
 *              -> IPv4 (options) | IPv6 (extension headers) | ARP
 *              -> TCP (options) | UDP | ICMP | ICMPv6 | SCTP ports
 * and through tunnels, back to the top with the inner packet:
 *   IP proto 4/41 (IP in IP), 47 (GRE: IP, Ethernet, ERSPAN I-III, MPLS,
 *   PPP), UDP 4789 (VXLAN), 6081 (Geneve), 3544 (Teredo), 4754 (GRE in
 *   UDP), 6635 (MPLS in UDP).
 * The network and transport fields always describe the innermost packet;
 * each tunnel crossed leaves its outer addresses in tunnels[], outermost
 * first, and the innermost Ethernet header gives the MAC addresses.
 */
#ifndef PB_DECODE_H
#define PB_DECODE_H

#include <stdint.h>

#include "capture/capture.h"
#include "decode/reasm.h"

/* Link types (LINKTYPE_* values as stored in capture files). */
enum {
	PB_LT_NULL = 0,
	PB_LT_ETHERNET = 1,
	PB_LT_RAW_BSD1 = 12,   /* DLT_RAW on most BSDs */
	PB_LT_RAW_BSD2 = 14,   /* DLT_RAW on some */
	PB_LT_RAW = 101,
	PB_LT_LOOP = 108,
	PB_LT_LINUX_SLL = 113,
	PB_LT_IPV4 = 228,
	PB_LT_IPV6 = 229,
	PB_LT_LINUX_SLL2 = 276,
};

/* Layers present, as bits of pb_decoded.layers. */
enum {
	PB_LAYER_ETH = 1u << 0,
	PB_LAYER_SLL = 1u << 1,
	PB_LAYER_VLAN = 1u << 2,
	PB_LAYER_ARP = 1u << 3,
	PB_LAYER_IP4 = 1u << 4,
	PB_LAYER_IP6 = 1u << 5,
	PB_LAYER_TCP = 1u << 6,
	PB_LAYER_UDP = 1u << 7,
	PB_LAYER_ICMP = 1u << 8,
	PB_LAYER_ICMP6 = 1u << 9,
};

/* TCP flags in header order (bit 8 is NS). */
enum {
	PB_TCP_FIN = 0x001, PB_TCP_SYN = 0x002, PB_TCP_RST = 0x004,
	PB_TCP_PSH = 0x008, PB_TCP_ACK = 0x010, PB_TCP_URG = 0x020,
	PB_TCP_ECE = 0x040, PB_TCP_CWR = 0x080, PB_TCP_NS = 0x100,
};

/* IPv4 flags */
enum { PB_IP_MF = 1, PB_IP_DF = 2, PB_IP_RF = 4 };

/* The anomalies decode can name.  Keep in step with the table in decode.c
 * and with pb-ndjson(5). */
enum pb_anomaly {
	PB_AN_NONE = 0,
	PB_AN_LINKTYPE_UNSUPPORTED,
	PB_AN_LINK_TRUNCATED,
	PB_AN_VLAN_TRUNCATED,
	PB_AN_VLAN_TOO_DEEP,
	PB_AN_LLC_TRUNCATED,
	PB_AN_ARP_TRUNCATED,
	PB_AN_IP_BAD_VERSION,
	PB_AN_IP4_TRUNCATED,
	PB_AN_IP4_BAD_HEADER_LENGTH,
	PB_AN_IP4_BAD_TOTAL_LENGTH,
	PB_AN_IP4_LENGTH_EXCEEDS_FRAME,
	PB_AN_IP4_ZERO_TOTAL_LENGTH,
	PB_AN_IP4_OPTIONS_MALFORMED,
	PB_AN_IP6_TRUNCATED,
	PB_AN_IP6_LENGTH_EXCEEDS_FRAME,
	PB_AN_IP6_EXT_TRUNCATED,
	PB_AN_IP6_TOO_MANY_EXT,
	PB_AN_TCP_TRUNCATED,
	PB_AN_TCP_BAD_OFFSET,
	PB_AN_TCP_OPTIONS_MALFORMED,
	PB_AN_UDP_TRUNCATED,
	PB_AN_UDP_BAD_LENGTH,
	PB_AN_ICMP_TRUNCATED,
	PB_AN_SCTP_TRUNCATED,
	PB_AN_MPLS_TRUNCATED,
	PB_AN_MPLS_TOO_DEEP,
	PB_AN_MPLS_PAYLOAD_UNKNOWN,
	PB_AN_PPPOE_TRUNCATED,
	PB_AN_GRE_TRUNCATED,
	PB_AN_GRE_UNSUPPORTED,
	PB_AN_ERSPAN_TRUNCATED,
	PB_AN_VXLAN_TRUNCATED,
	PB_AN_GENEVE_TRUNCATED,
	PB_AN_TUNNEL_TOO_DEEP,
	PB_AN_FRAG_OVERLAP,
	PB_AN_FRAG_CONFLICT,
	PB_AN_FRAG_DUPLICATE,
	PB_AN_FRAG_TOO_BIG,
	PB_AN_FRAG_TINY_FIRST,
	PB_AN_FRAG_TCP_OFFSET_ONE,
	PB_AN_FRAG_MALFORMED,
	PB_AN_FRAG_TOO_MANY,
	PB_AN_FRAG_DROPPED,
	PB_AN_FRAG_NOMEM,
	PB_AN_FRAG_NOT_CAPTURED,
	PB_AN_SNAPLEN_CUT,
	PB_AN_MAX
};

const char *pb_anomaly_name(enum pb_anomaly a);    /* "IP4_TRUNCATED" */
const char *pb_anomaly_message(enum pb_anomaly a); /* "truncated IPv4 header" */
/* True for anomalies that are notes about a packet rather than errors. */
int pb_anomaly_is_note(enum pb_anomaly a);

#define PB_MAX_VLAN 8          /* tags walked before VLAN_TOO_DEEP */
#define PB_MAX_IP6_EXT 16      /* extension headers before a note */
#define PB_MAX_ANOMALIES 4     /* kept per packet (all are counted) */
#define PB_MAX_SACK 4          /* SACK blocks a TCP header can hold */
#define PB_MAX_TUNNELS 8       /* tunnels crossed before TUNNEL_TOO_DEEP */
#define PB_MAX_MPLS 16         /* labels walked before MPLS_TOO_DEEP */
#define PB_MAX_MPLS_KEPT 4     /* labels kept for the record */

enum pb_tunnel_type {
	PB_TUN_IPIP = 1,  /* IPv4 in IPv4 */
	PB_TUN_6IN4,      /* IPv6 in IPv4 (RFC 4213) */
	PB_TUN_4IN6,      /* IPv4 in IPv6 (RFC 2473) */
	PB_TUN_6IN6,      /* IPv6 in IPv6 (RFC 2473) */
	PB_TUN_GRE,       /* RFC 2784, 2890 */
	PB_TUN_ERSPAN,    /* ERSPAN types I-III over GRE */
	PB_TUN_VXLAN,     /* RFC 7348 */
	PB_TUN_GENEVE,    /* RFC 8926 */
	PB_TUN_TEREDO,    /* RFC 4380 */
	PB_TUN_MPLS_UDP,  /* MPLS in UDP, RFC 7510 */
};
const char *pb_tunnel_name(enum pb_tunnel_type t);

/* The outer layer of one tunnel. */
struct pb_tunnel {
	uint8_t type;              /* enum pb_tunnel_type */
	uint8_t ip_version, addr_len;
	const uint8_t *src_ip, *dst_ip;
	uint8_t has_ports;         /* UDP-borne tunnels */
	uint16_t sport, dport;
	uint8_t has_id;
	uint32_t id;               /* GRE key, VNI, ERSPAN session id */
	uint8_t has_seq;
	uint32_t seq;              /* GRE sequence number */
	uint8_t erspan_version;    /* 1, 2 or 3 */
};

struct pb_tcp_opts {
	uint16_t mss;
	uint8_t wscale;
	uint8_t nsack;             /* SACK blocks */
	uint32_t tsval, tsecr;
	uint32_t sack[PB_MAX_SACK][2];
	uint8_t has_mss, has_wscale, sack_permitted, has_ts;
};

struct pb_decoded {
	uint32_t layers;           /* PB_LAYER_* */

	/* link */
	const uint8_t *src_mac;    /* 6 bytes, or NULL */
	const uint8_t *dst_mac;
	uint16_t ethertype;        /* network protocol after link and tags */
	uint8_t has_ethertype;
	uint8_t n_vlan;            /* tags walked */
	uint16_t vlan[2];          /* outer and inner VLAN id */
	uint32_t wire_end;         /* where the enclosing layer's bytes end on
				    * the wire, as an offset into the frame
				    * (0: the frame's original length) */

	/* ARP (IPv4 over Ethernet) */
	uint16_t arp_op;
	const uint8_t *arp_sha, *arp_spa, *arp_tha, *arp_tpa;

	/* network: the innermost IP header */
	uint8_t ip_version;        /* 0, 4 or 6 */
	uint8_t addr_len;          /* 4 or 16 */
	const uint8_t *src_ip, *dst_ip;
	uint8_t ttl;               /* TTL or hop limit */
	uint8_t tos;               /* TOS or traffic class */
	uint8_t ip_flags;          /* PB_IP_* (IPv4) */
	uint8_t ip_hlen;           /* IPv4 header bytes, with options */
	uint16_t ip_id;            /* IPv4 identification */
	uint32_t ip6_flow;         /* IPv6 flow label */
	uint32_t ip_len;           /* total length as declared (v6: 40 + payload) */
	uint8_t proto;             /* transport protocol number */
	uint8_t has_proto;
	uint8_t is_fragment;       /* offset != 0 or more fragments */
	uint8_t frag_more;
	uint8_t has_frag6;
	uint16_t frag_offset;      /* bytes */
	uint32_t frag_id;          /* IPv4 id or IPv6 fragment header id */
	/* a fragment, as reassembly needs it: the IP header, the length of
	 * the unfragmentable part, and the fragment's data */
	const uint8_t *ip_hdr;
	uint16_t frag_hdr_len;
	uint8_t frag_whole;        /* all of the fragment's data was captured */
	uint8_t frag_proto;        /* the datagram's protocol (v6: next header) */
	const uint8_t *frag_data;
	uint32_t frag_data_len;
	uint32_t reassembled_len;  /* set when this fragment completed a datagram */
	/* what reassembly did with the fragment (pb_decoder_run): held for
	 * later, or completed a datagram of frag_frames frames whose frame
	 * lengths sum to frag_wire.  Neither: not taken (dropped, cut by the
	 * snaplen, or reassembly off). */
	uint8_t frag_held;
	uint32_t frag_frames;
	uint64_t frag_wire;

	/* transport */
	uint8_t has_ports;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t tcp_flags;
	uint16_t window;
	uint8_t tcp_hlen;
	struct pb_tcp_opts tcpopt;
	uint8_t icmp_type, icmp_code;
	uint8_t has_icmp_echo;
	uint16_t icmp_id, icmp_seq;
	/* the ICMP message from its type byte: wire length, captured bytes */
	const uint8_t *icmp_msg;
	uint32_t icmp_len, icmp_caplen;

	/* payload of the transport: wire length and captured bytes */
	uint8_t has_payload;
	uint32_t payload_len;      /* as the headers declare it */
	const uint8_t *payload;
	uint32_t payload_caplen;   /* how much of it was captured */

	/* encapsulations crossed (the tunnels themselves are at the end) */
	uint8_t n_tunnels;
	uint8_t n_mpls;            /* labels walked (the first few kept) */
	uint32_t mpls[PB_MAX_MPLS_KEPT];
	uint8_t has_pppoe;
	uint16_t pppoe_session;

	/* problems, in the order met; error is the one that stopped decoding */
	uint8_t n_anomalies;
	uint8_t anomalies[PB_MAX_ANOMALIES];
	uint8_t error;

	/* Last, and not cleared per packet: only the first n_tunnels are
	 * meaningful. */
	struct pb_tunnel tunnels[PB_MAX_TUNNELS];
};

struct pb_decode_stats {
	uint64_t packets;
	uint64_t ipv4, ipv6, arp, other_net;
	uint64_t tcp, udp, icmp, icmp6, other_transport;
	uint64_t fragments;
	uint64_t tunnelled;                 /* tunnel layers crossed */
	uint64_t errors;                    /* packets with an error */
	uint64_t anomalies[PB_AN_MAX];
};

void pb_decode(const struct pb_packet *p, struct pb_decoded *d,
	       struct pb_decode_stats *st);

/*
 * A decoder with state: pb_decode() plus IP fragment reassembly.  The
 * fragment that completes a datagram is reported with the decode of the
 * whole datagram (its transport, ports and payload length) in place of its
 * own, and reassembled_len set; every fragment still gets its own record.
 */
struct pb_decoder {
	struct pb_decode_stats st;
	int reassemble;
	struct pb_reasm reasm;
	struct pb_decoded whole;   /* scratch: the rebuilt datagram */
	uint64_t frag_not_captured;
};

int pb_decoder_init(struct pb_decoder *dec, int reassemble,
		    const struct pb_reasm_limits *lim);
void pb_decoder_release(struct pb_decoder *dec);
void pb_decoder_run(struct pb_decoder *dec, const struct pb_packet *p,
		    struct pb_decoded *d);
/* End of input: what is still held is discarded (counted as timed out). */
void pb_decoder_finish(struct pb_decoder *dec);

/* IANA keyword for an IP protocol number ("tcp", "ipv6-icmp"), or NULL. */
const char *pb_ip_proto_name(uint8_t proto);

#endif
