/*
 * transport.c - TCP with options, UDP, ICMP and ICMPv6 headers.
 *
 * References: RFC 9293 (TCP), RFC 7323 (window scale, timestamps),
 * RFC 2018 (SACK), RFC 768 (UDP), RFC 792 (ICMP), RFC 4443 (ICMPv6),
 * RFC 9260 (SCTP common header).
 *
 *  TCP:  | sport 16 | dport 16 | seq 32 | ack 32 |
 *        | offset 4 rsvd 3 NS 1 | CWR ECE URG ACK PSH RST SYN FIN |
 *        | window 16 | checksum 16 | urgent 16 | options ... |
 *  UDP:  | sport 16 | dport 16 | length 16 | checksum 16 |
 *  ICMP: | type 8 | code 8 | checksum 16 | (echo: id 16 | seq 16) |
 *
 * wire_len is the transport length the IP header declares; the cursor
 * holds what was captured of it.  Checksums are not verified: offload
 * leaves them wrong in most captures taken on the sending host.
 */
#include "decode/decode_int.h"

#include "util/banned.h"

enum { IPP_ICMP = 1, IPP_TCP = 6, IPP_UDP = 17, IPP_ICMP6 = 58, IPP_SCTP = 132 };

static void set_payload(struct pb_cur *c, uint32_t wire, struct pb_decoded *d)
{
	size_t cap = pb_cur_left(c);

	d->has_payload = 1;
	d->payload_len = wire;
	d->payload = c->pos;
	d->payload_caplen = (uint32_t)(cap < wire ? cap : wire);
}

/* TCP options: kind, length, value; EOL and NOP are one byte. */
static void tcp_options(struct pb_cur *o, struct pb_decoded *d, struct pb_decode_stats *st)
{
	struct pb_tcp_opts *t = &d->tcpopt;

	while (pb_cur_left(o) > 0) {
		uint8_t kind = pb_cur_u8(o), len;
		struct pb_cur v;

		if (kind == 0)
			break;
		if (kind == 1)
			continue;
		len = pb_cur_u8(o);
		if (!pb_cur_ok(o) || len < 2 || len - 2u > pb_cur_left(o)) {
			pb_dec_anomaly(d, st, PB_AN_TCP_OPTIONS_MALFORMED, 0);
			return;
		}
		v = pb_cur_sub(o, len - 2u);
		switch (kind) {
		case 2:
			if (len == 4) {
				t->mss = pb_cur_be16(&v);
				t->has_mss = 1;
			}
			break;
		case 3:
			if (len == 3) {
				t->wscale = pb_cur_u8(&v);
				t->has_wscale = 1;
			}
			break;
		case 4:
			if (len == 2)
				t->sack_permitted = 1;
			break;
		case 5:
			while (pb_cur_left(&v) >= 8 && t->nsack < PB_MAX_SACK) {
				t->sack[t->nsack][0] = pb_cur_be32(&v);
				t->sack[t->nsack][1] = pb_cur_be32(&v);
				t->nsack++;
			}
			break;
		case 8:
			if (len == 10) {
				t->tsval = pb_cur_be32(&v);
				t->tsecr = pb_cur_be32(&v);
				t->has_ts = 1;
			}
			break;
		default:
			break;
		}
		if ((kind == 2 && len != 4) || (kind == 3 && len != 3) ||
		    (kind == 4 && len != 2) || (kind == 8 && len != 10) ||
		    (kind == 5 && (len - 2) % 8)) {
			pb_dec_anomaly(d, st, PB_AN_TCP_OPTIONS_MALFORMED, 0);
			return;
		}
	}
}

static void dec_tcp(struct pb_cur *c, uint32_t wire, struct pb_decoded *d,
		    struct pb_decode_stats *st)
{
	const uint8_t *h = c->pos;
	uint32_t doff;
	size_t avail = pb_cur_left(c);
	struct pb_cur o;

	if (avail < 20) {
		pb_dec_anomaly(d, st, PB_AN_TCP_TRUNCATED, 1);
		return;
	}
	d->layers |= PB_LAYER_TCP;
	st->tcp++;
	d->has_ports = 1;
	d->sport = (uint16_t)(h[0] << 8 | h[1]);
	d->dport = (uint16_t)(h[2] << 8 | h[3]);
	d->seq = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
	d->ack = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];
	doff = (uint32_t)(h[12] >> 4) * 4;
	d->tcp_flags = (uint16_t)((h[12] & 1) << 8 | h[13]);
	d->window = (uint16_t)(h[14] << 8 | h[15]);
	d->tcp_hlen = (uint8_t)doff;
	if (doff < 20 || doff > wire) {
		pb_dec_anomaly(d, st, PB_AN_TCP_BAD_OFFSET, 1);
		return;
	}
	if (doff > avail) {
		pb_dec_anomaly(d, st, PB_AN_TCP_TRUNCATED, 1);
		return;
	}
	pb_cur_init(&o, h + 20, doff - 20);
	tcp_options(&o, d, st);
	pb_cur_skip(c, doff);
	set_payload(c, wire - doff, d);
}

static void dec_udp(struct pb_cur *c, uint32_t wire, const struct pb_packet *p,
		    struct pb_decoded *d, struct pb_decode_stats *st)
{
	uint16_t ulen;

	d->sport = pb_cur_be16(c);
	d->dport = pb_cur_be16(c);
	ulen = pb_cur_be16(c);
	pb_cur_skip(c, 2);
	if (!pb_cur_ok(c)) {
		pb_dec_anomaly(d, st, PB_AN_UDP_TRUNCATED, 1);
		return;
	}
	d->layers |= PB_LAYER_UDP;
	st->udp++;
	d->has_ports = 1;
	if (wire < 8) {
		pb_dec_anomaly(d, st, PB_AN_UDP_BAD_LENGTH, 0);
		wire = 8;
	}
	/* A UDP length that disagrees with IP is noted; IP's is believed
	 * when UDP's is impossible (below 8 or past the IP payload). */
	/* The first fragment of a datagram carries the whole datagram's UDP
	 * length, longer than the fragment itself: that is no anomaly, and
	 * the UDP length is the payload the datagram has. */
	if (d->is_fragment && ulen > wire) {
		wire = ulen;
	} else {
		if (ulen != wire && !(ulen == 0 && d->ip_version == 6))
			pb_dec_anomaly(d, st, PB_AN_UDP_BAD_LENGTH, 0);
		if (ulen >= 8 && ulen <= wire)
			wire = ulen;
	}
	set_payload(c, wire - 8, d);
	/* VXLAN, Geneve, Teredo: the datagram's payload is a packet.  Not
	 * in a first fragment, which holds only the start of it: the inner
	 * packet is decoded from the datagram reassembly rebuilds. */
	if (!d->is_fragment &&
	    (pb_udp_tunnel_port(d->sport) || pb_udp_tunnel_port(d->dport))) {
		struct pb_cur in;

		pb_cur_init(&in, d->payload, d->payload_caplen);
		d->wire_end = (uint32_t)(d->payload - p->data) + d->payload_len;
		pb_dec_udp_tunnel(&in, p, d, st);
	}
}

static void dec_icmp(struct pb_cur *c, uint32_t wire, int v6, struct pb_decoded *d,
		     struct pb_decode_stats *st)
{
	size_t cap = pb_cur_left(c);

	/* the whole message, for pb-txn's ICMP transactions */
	d->icmp_msg = c->pos;
	d->icmp_len = wire;
	d->icmp_caplen = (uint32_t)(cap < wire ? cap : wire);
	d->icmp_type = pb_cur_u8(c);
	d->icmp_code = pb_cur_u8(c);
	pb_cur_skip(c, 2);
	if (!pb_cur_ok(c)) {
		pb_dec_anomaly(d, st, PB_AN_ICMP_TRUNCATED, 1);
		return;
	}
	if (v6) {
		d->layers |= PB_LAYER_ICMP6;
		st->icmp6++;
	} else {
		d->layers |= PB_LAYER_ICMP;
		st->icmp++;
	}
	/* echo request and reply carry an identifier and a sequence */
	if ((!v6 && (d->icmp_type == 0 || d->icmp_type == 8)) ||
	    (v6 && (d->icmp_type == 128 || d->icmp_type == 129))) {
		d->icmp_id = pb_cur_be16(c);
		d->icmp_seq = pb_cur_be16(c);
		d->has_icmp_echo = pb_cur_ok(c);
	}
}

void pb_dec_transport(struct pb_cur *c, uint32_t wire, const struct pb_packet *p,
		      struct pb_decoded *d, struct pb_decode_stats *st)
{
	switch (d->proto) {
	case IPP_TCP:
		dec_tcp(c, wire, d, st);
		break;
	case IPP_UDP:
		dec_udp(c, wire, p, d, st);
		break;
	case IPP_ICMP:
		if (d->ip_version == 4)
			dec_icmp(c, wire, 0, d, st);
		else
			st->other_transport++;
		break;
	case IPP_ICMP6:
		dec_icmp(c, wire, 1, d, st);
		break;
	case 4:  /* IPv4 in IP */
	case 41: /* IPv6 in IP */
	case 47: /* GRE */
		/* as for UDP tunnels: not from a first fragment */
		if (!d->is_fragment)
			pb_dec_ip_tunnel(c, p, d, st);
		break;
	case IPP_SCTP:
		/* RFC 9260 common header: | sport 16 | dport 16 | vtag 32 | crc 32 |
		 * only the ports matter here (flows, Community ID) */
		d->sport = pb_cur_be16(c);
		d->dport = pb_cur_be16(c);
		pb_cur_skip(c, 8);
		if (!pb_cur_ok(c)) {
			pb_dec_anomaly(d, st, PB_AN_SCTP_TRUNCATED, 1);
			break;
		}
		d->has_ports = 1;
		st->other_transport++;
		break;
	default:
		st->other_transport++;
		break;
	}
}
