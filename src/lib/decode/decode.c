/* decode.c - the decode entry point, anomaly names and IANA keywords. */
#include "decode/decode_int.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/banned.h"

static const struct {
	const char *name;
	const char *msg;
	int note;  /* a remark about the packet, not a decoding error */
} anomalies[PB_AN_MAX] = {
	[PB_AN_NONE] = { "NONE", "", 1 },
	[PB_AN_LINKTYPE_UNSUPPORTED] = { "LINKTYPE_UNSUPPORTED", "link type not decoded", 0 },
	[PB_AN_LINK_TRUNCATED] = { "LINK_TRUNCATED", "truncated link-layer header", 0 },
	[PB_AN_VLAN_TRUNCATED] = { "VLAN_TRUNCATED", "truncated 802.1Q tag", 0 },
	[PB_AN_VLAN_TOO_DEEP] = { "VLAN_TOO_DEEP", "more than 8 VLAN tags", 0 },
	[PB_AN_LLC_TRUNCATED] = { "LLC_TRUNCATED", "truncated 802.2 LLC/SNAP header", 0 },
	[PB_AN_ARP_TRUNCATED] = { "ARP_TRUNCATED", "truncated ARP packet", 0 },
	[PB_AN_IP_BAD_VERSION] = { "IP_BAD_VERSION", "IP version is neither 4 nor 6", 0 },
	[PB_AN_IP4_TRUNCATED] = { "IP4_TRUNCATED", "truncated IPv4 header", 0 },
	[PB_AN_IP4_BAD_HEADER_LENGTH] = { "IP4_BAD_HEADER_LENGTH", "IPv4 header length below 20 bytes", 0 },
	[PB_AN_IP4_BAD_TOTAL_LENGTH] = { "IP4_BAD_TOTAL_LENGTH", "IPv4 total length smaller than its header", 0 },
	[PB_AN_IP4_LENGTH_EXCEEDS_FRAME] = { "IP4_LENGTH_EXCEEDS_FRAME", "IPv4 total length exceeds the frame", 1 },
	[PB_AN_IP4_ZERO_TOTAL_LENGTH] = { "IP4_ZERO_TOTAL_LENGTH", "IPv4 total length 0 (segmentation offload); frame length used", 1 },
	[PB_AN_IP4_OPTIONS_MALFORMED] = { "IP4_OPTIONS_MALFORMED", "malformed IPv4 options", 1 },
	[PB_AN_IP6_TRUNCATED] = { "IP6_TRUNCATED", "truncated IPv6 header", 0 },
	[PB_AN_IP6_LENGTH_EXCEEDS_FRAME] = { "IP6_LENGTH_EXCEEDS_FRAME", "IPv6 payload length exceeds the frame", 1 },
	[PB_AN_IP6_EXT_TRUNCATED] = { "IP6_EXT_TRUNCATED", "truncated IPv6 extension header", 0 },
	[PB_AN_IP6_TOO_MANY_EXT] = { "IP6_TOO_MANY_EXT", "more than 16 IPv6 extension headers", 1 },
	[PB_AN_TCP_TRUNCATED] = { "TCP_TRUNCATED", "truncated TCP header", 0 },
	[PB_AN_TCP_BAD_OFFSET] = { "TCP_BAD_OFFSET", "TCP data offset outside the segment", 0 },
	[PB_AN_TCP_OPTIONS_MALFORMED] = { "TCP_OPTIONS_MALFORMED", "malformed TCP options", 1 },
	[PB_AN_UDP_TRUNCATED] = { "UDP_TRUNCATED", "truncated UDP header", 0 },
	[PB_AN_UDP_BAD_LENGTH] = { "UDP_BAD_LENGTH", "UDP length disagrees with the IP payload", 1 },
	[PB_AN_ICMP_TRUNCATED] = { "ICMP_TRUNCATED", "truncated ICMP header", 0 },
	[PB_AN_SCTP_TRUNCATED] = { "SCTP_TRUNCATED", "truncated SCTP common header", 0 },
	[PB_AN_MPLS_TRUNCATED] = { "MPLS_TRUNCATED", "truncated MPLS label stack", 0 },
	[PB_AN_MPLS_TOO_DEEP] = { "MPLS_TOO_DEEP", "more than 16 MPLS labels", 0 },
	[PB_AN_MPLS_PAYLOAD_UNKNOWN] = { "MPLS_PAYLOAD_UNKNOWN", "MPLS payload neither IP nor a pseudowire", 1 },
	[PB_AN_PPPOE_TRUNCATED] = { "PPPOE_TRUNCATED", "truncated PPPoE or PPP header", 0 },
	[PB_AN_GRE_TRUNCATED] = { "GRE_TRUNCATED", "truncated GRE header", 0 },
	[PB_AN_GRE_UNSUPPORTED] = { "GRE_UNSUPPORTED", "GRE version or routing not decoded", 1 },
	[PB_AN_ERSPAN_TRUNCATED] = { "ERSPAN_TRUNCATED", "truncated ERSPAN header", 0 },
	[PB_AN_VXLAN_TRUNCATED] = { "VXLAN_TRUNCATED", "UDP port 4789 with less than a VXLAN header", 1 },
	[PB_AN_GENEVE_TRUNCATED] = { "GENEVE_TRUNCATED", "truncated Geneve header or options", 0 },
	[PB_AN_TUNNEL_TOO_DEEP] = { "TUNNEL_TOO_DEEP", "more than 8 nested tunnels", 0 },
	[PB_AN_FRAG_OVERLAP] = { "FRAG_OVERLAP", "fragment overlaps bytes already held", 1 },
	[PB_AN_FRAG_CONFLICT] = { "FRAG_CONFLICT", "overlapping fragment with different bytes", 1 },
	[PB_AN_FRAG_DUPLICATE] = { "FRAG_DUPLICATE", "duplicate fragment", 1 },
	[PB_AN_FRAG_TOO_BIG] = { "FRAG_TOO_BIG", "fragments add up to more than 65535 bytes", 1 },
	[PB_AN_FRAG_TINY_FIRST] = { "FRAG_TINY_FIRST", "first fragment too short for the transport header", 1 },
	[PB_AN_FRAG_TCP_OFFSET_ONE] = { "FRAG_TCP_OFFSET_ONE", "TCP fragment at offset 8 (RFC 1858)", 1 },
	[PB_AN_FRAG_MALFORMED] = { "FRAG_MALFORMED", "fragment contradicts its datagram", 1 },
	[PB_AN_FRAG_TOO_MANY] = { "FRAG_TOO_MANY", "too many fragments in one datagram", 1 },
	[PB_AN_FRAG_DROPPED] = { "FRAG_DROPPED", "datagram discarded", 1 },
	[PB_AN_FRAG_NOMEM] = { "FRAG_NOMEM", "reassembly memory limit reached", 1 },
	[PB_AN_FRAG_NOT_CAPTURED] = { "FRAG_NOT_CAPTURED", "fragment cut by the snaplen: not reassembled", 1 },
	[PB_AN_SNAPLEN_CUT] = { "SNAPLEN_CUT", "frame cut short by the capture's snaplen", 1 },
};

const char *pb_anomaly_name(enum pb_anomaly a)
{
	return (unsigned)a < PB_AN_MAX ? anomalies[a].name : "UNKNOWN";
}

const char *pb_anomaly_message(enum pb_anomaly a)
{
	return (unsigned)a < PB_AN_MAX ? anomalies[a].msg : "unknown anomaly";
}

int pb_anomaly_is_note(enum pb_anomaly a)
{
	return (unsigned)a < PB_AN_MAX ? anomalies[a].note : 0;
}

const char *pb_tunnel_name(enum pb_tunnel_type t)
{
	switch (t) {
	case PB_TUN_IPIP: return "ipip";
	case PB_TUN_6IN4: return "6in4";
	case PB_TUN_4IN6: return "4in6";
	case PB_TUN_6IN6: return "6in6";
	case PB_TUN_GRE: return "gre";
	case PB_TUN_ERSPAN: return "erspan";
	case PB_TUN_VXLAN: return "vxlan";
	case PB_TUN_GENEVE: return "geneve";
	case PB_TUN_TEREDO: return "teredo";
	case PB_TUN_MPLS_UDP: return "mpls-udp";
	}
	return "unknown";
}

const char *pb_ip_proto_name(uint8_t proto)
{
	switch (proto) {
	case 0: return "hopopt";
	case 1: return "icmp";
	case 2: return "igmp";
	case 4: return "ipv4";
	case 6: return "tcp";
	case 8: return "egp";
	case 17: return "udp";
	case 33: return "dccp";
	case 41: return "ipv6";
	case 43: return "ipv6-route";
	case 44: return "ipv6-frag";
	case 46: return "rsvp";
	case 47: return "gre";
	case 50: return "esp";
	case 51: return "ah";
	case 58: return "ipv6-icmp";
	case 59: return "ipv6-nonxt";
	case 60: return "ipv6-opts";
	case 88: return "eigrp";
	case 89: return "ospf";
	case 94: return "ipip";
	case 103: return "pim";
	case 112: return "vrrp";
	case 115: return "l2tp";
	case 132: return "sctp";
	case 135: return "mobility-header";
	case 136: return "udplite";
	case 137: return "mpls-in-ip";
	}
	return NULL;
}

void pb_decode(const struct pb_packet *p, struct pb_decoded *d,
	       struct pb_decode_stats *st)
{
	struct pb_cur c;

	/* Clear only the header part that later fields are read through:
	 * the flags and counts; values are written before they are used. */
	memset(d, 0, offsetof(struct pb_decoded, tunnels));
	st->packets++;
	pb_cur_init(&c, p->data, p->caplen);
	if (p->caplen < p->len)
		pb_dec_anomaly(d, st, PB_AN_SNAPLEN_CUT, 0);
	pb_dec_link(&c, p, d, st);
	if (d->error)
		st->errors++;
}

/* ---- the decoder with reassembly ---- */

int pb_decoder_init(struct pb_decoder *dec, int reassemble,
		    const struct pb_reasm_limits *lim)
{
	memset(dec, 0, sizeof(*dec));
	dec->reassemble = reassemble;
	return reassemble ? pb_reasm_init(&dec->reasm, lim) : 0;
}

void pb_decoder_release(struct pb_decoder *dec)
{
	if (dec->reassemble)
		pb_reasm_release(&dec->reasm);
}

void pb_decoder_finish(struct pb_decoder *dec)
{
	if (dec->reassemble)
		pb_reasm_expire(&dec->reasm, INT64_MAX);
}

/* Reassembly's findings about one fragment, as this packet's anomalies. */
static void frag_anomalies(struct pb_decoded *d, struct pb_decode_stats *st, unsigned an)
{
	static const struct { unsigned bit; enum pb_anomaly a; } map[] = {
		{ PB_REASM_OVERLAP, PB_AN_FRAG_OVERLAP },
		{ PB_REASM_CONFLICT, PB_AN_FRAG_CONFLICT },
		{ PB_REASM_DUPLICATE, PB_AN_FRAG_DUPLICATE },
		{ PB_REASM_TOO_BIG, PB_AN_FRAG_TOO_BIG },
		{ PB_REASM_TINY_FIRST, PB_AN_FRAG_TINY_FIRST },
		{ PB_REASM_TCP_OFFSET_ONE, PB_AN_FRAG_TCP_OFFSET_ONE },
		{ PB_REASM_MALFORMED, PB_AN_FRAG_MALFORMED },
		{ PB_REASM_TOO_MANY, PB_AN_FRAG_TOO_MANY },
		{ PB_REASM_DROPPED, PB_AN_FRAG_DROPPED },
		{ PB_REASM_NOMEM, PB_AN_FRAG_NOMEM },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (an & map[i].bit)
			pb_dec_anomaly(d, st, map[i].a, 0);
}

void pb_decoder_run(struct pb_decoder *dec, const struct pb_packet *p,
		    struct pb_decoded *d)
{
	struct pb_reasm_frag f;
	struct pb_decoded *w = &dec->whole;
	struct pb_packet rp;
	const uint8_t *out;
	size_t out_len, from, to;
	unsigned an = 0;
	int rc, i;

	pb_decode(p, d, &dec->st);
	if (!dec->reassemble || !d->is_fragment || !d->frag_data)
		return;
	if (!d->frag_whole) {
		/* a snaplen cut it: its bytes are not all there to rebuild */
		dec->frag_not_captured++;
		pb_dec_anomaly(d, &dec->st, PB_AN_FRAG_NOT_CAPTURED, 0);
		return;
	}
	memset(&f, 0, sizeof(f));
	f.version = d->ip_version;
	f.proto = d->frag_proto;
	f.more = d->frag_more;
	f.id = d->frag_id;
	f.src = d->src_ip;
	f.dst = d->dst_ip;
	f.hdr = d->ip_hdr;
	f.hdr_len = d->frag_hdr_len;
	f.data = d->frag_data;
	f.data_len = d->frag_data_len;
	f.offset = d->frag_offset;
	f.frame_len = p->len;
	rc = pb_reasm_add(&dec->reasm, &f, pb_time_ns(&p->ts), &out, &out_len, &an);
	frag_anomalies(d, &dec->st, an);
	if (rc == 0)
		d->frag_held = 1;
	if (rc != 1)
		return;
	/* Decode the whole datagram as raw IP, then take its network and
	 * transport fields (and any tunnels and inner link inside it) in
	 * place of the fragment's, keeping what came before it. */
	rp = *p;
	rp.data = out;
	rp.caplen = rp.len = (uint32_t)out_len;
	rp.linktype = PB_LT_RAW;
	{
		struct pb_decode_stats scratch;

		memset(&scratch, 0, sizeof(scratch));
		pb_decode(&rp, w, &scratch);
		/* the datagram's own findings count once, in the real stats */
		for (i = 0; i < PB_AN_MAX; i++)
			dec->st.anomalies[i] += scratch.anomalies[i];
		dec->st.tcp += scratch.tcp;
		dec->st.udp += scratch.udp;
		dec->st.icmp += scratch.icmp;
		dec->st.icmp6 += scratch.icmp6;
		dec->st.tunnelled += scratch.tunnelled;
	}
	/* This packet's IP header stays; the transport is the datagram's.
	 * When the datagram holds a tunnel, the innermost packet is in it,
	 * and its network fields replace this fragment's too. */
	from = w->n_tunnels ? offsetof(struct pb_decoded, ip_version)
			    : offsetof(struct pb_decoded, has_ports);
	to = offsetof(struct pb_decoded, payload_caplen) + sizeof(d->payload_caplen);
	if (w->n_tunnels) {
		for (i = 0; i < w->n_tunnels && d->n_tunnels < PB_MAX_TUNNELS; i++)
			d->tunnels[d->n_tunnels++] = w->tunnels[i];
		if (w->src_mac) { /* Ethernet inside the tunnel */
			d->src_mac = w->src_mac;
			d->dst_mac = w->dst_mac;
		}
	}
	memcpy((char *)d + from, (char *)w + from, to - from);
	/* the protocol after any AH is the datagram's, too */
	d->proto = w->proto;
	d->has_proto = w->has_proto;
	d->reassembled_len = (uint32_t)out_len;
	d->layers = (d->layers & (PB_LAYER_ETH | PB_LAYER_SLL | PB_LAYER_VLAN |
				  (w->n_tunnels ? 0 : PB_LAYER_IP4 | PB_LAYER_IP6))) |
		    (w->layers & ~(uint32_t)(PB_LAYER_ETH | PB_LAYER_SLL | PB_LAYER_VLAN |
					     (w->n_tunnels ? 0 : PB_LAYER_IP4 | PB_LAYER_IP6)));
	for (i = 0; i < w->n_anomalies; i++)
		if (d->n_anomalies < PB_MAX_ANOMALIES)
			d->anomalies[d->n_anomalies++] = w->anomalies[i];
	if (w->error && !d->error)
		d->error = w->error;
	/* after the copy above, which may span these fields */
	d->frag_frames = dec->reasm.done_frames;
	d->frag_wire = dec->reasm.done_wire;
}
