/*
 * tunnel.c - encapsulations: MPLS label stacks, PPPoE sessions, IP in IP,
 * GRE (with ERSPAN I-III, Ethernet, MPLS and PPP payloads), VXLAN, Geneve
 * and Teredo.  Each hands the inner packet back to the link or IP stage.
 *
 * References: RFC 3032 (MPLS), RFC 4448 (Ethernet pseudowire control
 * word), RFC 2516 (PPPoE), RFC 1661 (PPP), RFC 2003, 2473, 4213 (IP in IP),
 * RFC 2784, 2890 (GRE, key and sequence), RFC 2637 (enhanced GRE),
 * draft-foschiano-erspan (ERSPAN), RFC 7348 (VXLAN), RFC 8926 (Geneve),
 * RFC 4380 (Teredo).
 *
 *  MPLS:   | label 20 | TC 3 | S 1 | TTL 8 |  ... until S = 1
 *  PPPoE:  | ver 4 type 4 | code 8 | session 16 | length 16 | PPP proto 16 |
 *  GRE (also in UDP port 4754):
 *          | C R K S s recur(3) | A flags(4) ver(3) | protocol 16 |
 *          [ checksum 16 | offset 16 ] [ key 32 ] [ sequence 32 ] [ ack 32 ]
 *  ERSPAN II:  | ver 4 | vlan 12 | cos 3 en 2 t 1 session 10 | rsvd 12 index 20 |
 *  ERSPAN III: | ver 4 | vlan 12 | cos 3 bso 2 t 1 session 10 | timestamp 32 |
 *              | sgt 16 | p ft(5) hw(6) d gra(2) o | [platform 64 if o]
 *  VXLAN:  | flags 8 (I = 0x08) | rsvd 24 | VNI 24 | rsvd 8 | Ethernet...
 *  Geneve: | ver 2 optlen 6 | O C rsvd 6 | protocol 16 | VNI 24 | rsvd 8 |
 *          | options: optlen x 4 bytes | payload
 *  Teredo: [ auth: 0x0001 idlen aulen id auth nonce(8) conf(1) ]
 *          [ origin: 0x0000 port 16 addr 32 ] | IPv6 header ...
 *
 * Entering a tunnel moves the outer IP (and UDP) fields into the next
 * entry of d->tunnels and clears them, so what decodes next is the inner
 * packet; nesting stops at PB_MAX_TUNNELS.
 */
#include "decode/decode_int.h"

#include <stddef.h>
#include <string.h>

#include "util/banned.h"

enum {
	ET_TEB = 0x6558,
	ET_ERSPAN2 = 0x88be, ET_ERSPAN3 = 0x22eb,
	ET_PPP = 0x880b,
	PPP_IPV4 = 0x0021, PPP_IPV6 = 0x0057,
	UDP_VXLAN = 4789, UDP_GENEVE = 6081, UDP_TEREDO = 3544, UDP_GRE = 4754,
	UDP_MPLS = 6635, ET_WCCP = 0x883e,
};

/* Move the current network and transport fields into a new tunnel entry
 * and clear them; 0, or -1 (and TUNNEL_TOO_DEEP) past the nesting limit. */
static int push_tunnel(struct pb_decoded *d, struct pb_decode_stats *st,
		       enum pb_tunnel_type type)
{
	struct pb_tunnel *t;
	size_t from = offsetof(struct pb_decoded, ip_version);
	size_t to = offsetof(struct pb_decoded, payload_caplen) + sizeof(d->payload_caplen);

	if (d->n_tunnels == PB_MAX_TUNNELS) {
		pb_dec_anomaly(d, st, PB_AN_TUNNEL_TOO_DEEP, 1);
		return -1;
	}
	t = &d->tunnels[d->n_tunnels++];
	memset(t, 0, sizeof(*t));
	t->type = (uint8_t)type;
	t->ip_version = d->ip_version;
	t->addr_len = d->addr_len;
	t->src_ip = d->src_ip;
	t->dst_ip = d->dst_ip;
	if (d->layers & PB_LAYER_UDP) {
		t->has_ports = 1;
		t->sport = d->sport;
		t->dport = d->dport;
	}
	/* the inner packet starts with a clean network and transport; an
	 * inner Ethernet header will say its own ethertype */
	memset((char *)d + from, 0, to - from);
	d->has_ethertype = 0;
	d->layers &= ~(uint32_t)(PB_LAYER_IP4 | PB_LAYER_IP6 | PB_LAYER_TCP |
				 PB_LAYER_UDP | PB_LAYER_ICMP | PB_LAYER_ICMP6 |
				 PB_LAYER_ARP);
	st->tunnelled++;
	return 0;
}

/* ---- MPLS ---- */

void pb_dec_mpls(struct pb_cur *c, const struct pb_packet *p,
		 struct pb_decoded *d, struct pb_decode_stats *st)
{
	unsigned n = 0;

	/* Walk to the bottom of the stack (S bit), bounded by PB_MAX_MPLS. */
	for (;;) {
		uint32_t e = pb_cur_be32(c);

		if (!pb_cur_ok(c)) {
			pb_dec_anomaly(d, st, PB_AN_MPLS_TRUNCATED, 1);
			return;
		}
		if (d->n_mpls < PB_MAX_MPLS_KEPT)
			d->mpls[d->n_mpls] = e >> 12;
		if (d->n_mpls < 255)
			d->n_mpls++;
		if (e & 0x100)
			break;
		if (++n == PB_MAX_MPLS) {
			pb_dec_anomaly(d, st, PB_AN_MPLS_TOO_DEEP, 1);
			return;
		}
	}
	/* MPLS does not say what it carries.  The usual guess, which is
	 * pbtools' rule: a first nibble of 4 is IPv4, 6 is IPv6, and 0 is
	 * the control word of an Ethernet pseudowire (RFC 4448) followed by
	 * an Ethernet frame; anything else is left undecoded. */
	if (!pb_cur_has(c, 1)) {
		pb_dec_anomaly(d, st, PB_AN_MPLS_TRUNCATED, 1);
		return;
	}
	switch (c->pos[0] >> 4) {
	case 4:
		pb_dec_ip(c, 4, p, d, st);
		break;
	case 6:
		pb_dec_ip(c, 6, p, d, st);
		break;
	case 0:
		pb_cur_skip(c, 4);
		if (!pb_cur_ok(c)) {
			pb_dec_anomaly(d, st, PB_AN_MPLS_TRUNCATED, 1);
			return;
		}
		pb_dec_ethernet(c, p, d, st);
		break;
	default:
		pb_dec_anomaly(d, st, PB_AN_MPLS_PAYLOAD_UNKNOWN, 0);
		break;
	}
}

/* ---- PPP and PPPoE ---- */

/* A PPP frame: optional address and control (ff 03), then the protocol. */
static void dec_ppp(struct pb_cur *c, const struct pb_packet *p,
		    struct pb_decoded *d, struct pb_decode_stats *st)
{
	uint16_t proto;

	if (pb_cur_has(c, 2) && c->pos[0] == 0xff && c->pos[1] == 0x03)
		pb_cur_skip(c, 2);
	/* the protocol field may be compressed to one odd byte (RFC 1661) */
	if (pb_cur_has(c, 1) && (c->pos[0] & 1))
		proto = pb_cur_u8(c);
	else
		proto = pb_cur_be16(c);
	if (!pb_cur_ok(c)) {
		pb_dec_anomaly(d, st, PB_AN_PPPOE_TRUNCATED, 1);
		return;
	}
	if (proto == PPP_IPV4)
		pb_dec_ip(c, 4, p, d, st);
	else if (proto == PPP_IPV6)
		pb_dec_ip(c, 6, p, d, st);
	else
		st->other_net++; /* LCP, IPCP, CHAP...: control traffic */
}

void pb_dec_pppoe(struct pb_cur *c, const struct pb_packet *p,
		  struct pb_decoded *d, struct pb_decode_stats *st)
{
	uint8_t vt = pb_cur_u8(c), code = pb_cur_u8(c);
	uint16_t sess = pb_cur_be16(c), len = pb_cur_be16(c);
	struct pb_cur in;

	if (!pb_cur_ok(c)) {
		pb_dec_anomaly(d, st, PB_AN_PPPOE_TRUNCATED, 1);
		return;
	}
	d->has_pppoe = 1;
	d->pppoe_session = sess;
	if (vt != 0x11 || code != 0) {
		st->other_net++;
		return;
	}
	/* the PPP frame is as long as PPPoE says, or what was captured; on
	 * the wire it ends there too, when that is before the frame's end */
	in = pb_cur_sub(c, len);
	{
		uint32_t end = (uint32_t)(in.pos - p->data) + len;
		uint32_t cur = d->wire_end ? d->wire_end
					   : (p->len > p->caplen ? p->len : p->caplen);

		if (end < cur)
			d->wire_end = end;
	}
	dec_ppp(&in, p, d, st);
}

/* ---- IP in IP and GRE ---- */

static void dec_erspan(struct pb_cur *c, int version, const struct pb_packet *p,
		       struct pb_decoded *d, struct pb_decode_stats *st)
{
	struct pb_tunnel *t = &d->tunnels[d->n_tunnels - 1];

	t->type = PB_TUN_ERSPAN;
	t->erspan_version = (uint8_t)version;
	if (version >= 2) {
		uint16_t w1;

		pb_cur_skip(c, 2); /* version and original VLAN */
		w1 = pb_cur_be16(c);

		pb_cur_skip(c, 4); /* II: reserved and index; III: timestamp */
		if (version == 3) {
			uint16_t sgt_flags;

			pb_cur_skip(c, 2); /* security group tag */
			sgt_flags = pb_cur_be16(c);
			if (sgt_flags & 1) /* O: an 8-byte platform sub-header */
				pb_cur_skip(c, 8);
		}
		if (!pb_cur_ok(c)) {
			pb_dec_anomaly(d, st, PB_AN_ERSPAN_TRUNCATED, 1);
			return;
		}
		t->has_id = 1;
		t->id = w1 & 0x3ff; /* session id */
	}
	pb_dec_ethernet(c, p, d, st);
}

static void dec_gre(struct pb_cur *c, const struct pb_packet *p,
		    struct pb_decoded *d, struct pb_decode_stats *st)
{
	uint16_t fl = pb_cur_be16(c), proto = pb_cur_be16(c);
	unsigned ver = fl & 7;
	struct pb_tunnel *t;

	if (!pb_cur_ok(c)) {
		pb_dec_anomaly(d, st, PB_AN_GRE_TRUNCATED, 1);
		return;
	}
	/* Source routing (R, RFC 1701) and versions above 1 are not decoded. */
	if ((fl & 0x4000) || ver > 1) {
		pb_dec_anomaly(d, st, PB_AN_GRE_UNSUPPORTED, 0);
		return;
	}
	if (push_tunnel(d, st, PB_TUN_GRE) < 0)
		return;
	t = &d->tunnels[d->n_tunnels - 1];
	if (fl & 0x8000)
		pb_cur_skip(c, 4); /* checksum and reserved */
	if (fl & 0x2000) {
		t->has_id = 1;
		t->id = pb_cur_be32(c); /* enhanced GRE: length and call id */
	}
	if (fl & 0x1000) {
		t->has_seq = 1;
		t->seq = pb_cur_be32(c);
	}
	if (ver == 1 && (fl & 0x0080))
		pb_cur_skip(c, 4); /* acknowledgment */
	if (!pb_cur_ok(c)) {
		pb_dec_anomaly(d, st, PB_AN_GRE_TRUNCATED, 1);
		return;
	}
	/* The protocol field is an ethertype: GRE's own payloads here, the
	 * rest (IPv4, IPv6, MPLS...) as after an Ethernet header. */
	switch (proto) {
	case ET_TEB:
		pb_dec_ethernet(c, p, d, st);
		break;
	case ET_ERSPAN2:
		/* type I has no sequence number and no ERSPAN header */
		dec_erspan(c, (fl & 0x1000) ? 2 : 1, p, d, st);
		break;
	case ET_ERSPAN3:
		dec_erspan(c, 3, p, d, st);
		break;
	case ET_PPP:
		dec_ppp(c, p, d, st);
		break;
	case ET_WCCP:
		/* WCCP v2 redirection: a 4-byte redirect header, then IPv4 */
		pb_cur_skip(c, 4);
		if (!pb_cur_ok(c)) {
			pb_dec_anomaly(d, st, PB_AN_GRE_TRUNCATED, 1);
			return;
		}
		pb_dec_ip(c, 4, p, d, st);
		break;
	default:
		pb_dec_ethertype(c, proto, p, d, st);
		break;
	}
}

void pb_dec_ip_tunnel(struct pb_cur *c, const struct pb_packet *p,
		      struct pb_decoded *d, struct pb_decode_stats *st)
{
	uint8_t outer = d->ip_version, proto = d->proto;

	if (proto == 47) {
		dec_gre(c, p, d, st);
		return;
	}
	if (push_tunnel(d, st, outer == 4 ? (proto == 4 ? PB_TUN_IPIP : PB_TUN_6IN4)
					  : (proto == 4 ? PB_TUN_4IN6 : PB_TUN_6IN6)) < 0)
		return;
	pb_dec_ip(c, proto == 4 ? 4 : 6, p, d, st);
}

/* ---- UDP tunnels ---- */

static int dec_vxlan(struct pb_cur *c, const struct pb_packet *p,
		     struct pb_decoded *d, struct pb_decode_stats *st)
{
	uint32_t vni;

	/* Only a header with the I flag is taken for VXLAN (RFC 7348 5). */
	if (pb_cur_left(c) < 8) {
		pb_dec_anomaly(d, st, PB_AN_VXLAN_TRUNCATED, 0);
		return 0;
	}
	if (!(c->pos[0] & 0x08))
		return 0;
	pb_cur_skip(c, 4);
	vni = pb_cur_be32(c) >> 8;
	if (push_tunnel(d, st, PB_TUN_VXLAN) < 0)
		return 1;
	d->tunnels[d->n_tunnels - 1].has_id = 1;
	d->tunnels[d->n_tunnels - 1].id = vni;
	pb_dec_ethernet(c, p, d, st);
	return 1;
}

static int dec_geneve(struct pb_cur *c, const struct pb_packet *p,
		      struct pb_decoded *d, struct pb_decode_stats *st)
{
	uint8_t b0, optlen;
	uint16_t proto;
	uint32_t vni;

	if (pb_cur_left(c) < 8 || (c->pos[0] >> 6) != 0)
		return 0; /* not Geneve version 0 */
	b0 = pb_cur_u8(c);
	optlen = (uint8_t)((b0 & 0x3f) * 4);
	pb_cur_skip(c, 1);
	proto = pb_cur_be16(c);
	vni = pb_cur_be32(c) >> 8;
	if (push_tunnel(d, st, PB_TUN_GENEVE) < 0)
		return 1;
	d->tunnels[d->n_tunnels - 1].has_id = 1;
	d->tunnels[d->n_tunnels - 1].id = vni;
	/* options are skipped whole, by the length the header gives */
	pb_cur_skip(c, optlen);
	if (!pb_cur_ok(c)) {
		pb_dec_anomaly(d, st, PB_AN_GENEVE_TRUNCATED, 1);
		return 1;
	}
	if (proto == ET_TEB)
		pb_dec_ethernet(c, p, d, st);
	else
		pb_dec_ethertype(c, proto, p, d, st);
	return 1;
}

/* Teredo is taken only when what follows the optional headers is an IPv6
 * header whose payload length matches the datagram exactly. */
static int dec_teredo(struct pb_cur *c, const struct pb_packet *p,
		      struct pb_decoded *d, struct pb_decode_stats *st)
{
	struct pb_cur t = *c;
	size_t plen;

	if (pb_cur_left(&t) >= 2 && t.pos[0] == 0 && t.pos[1] == 1) {
		uint8_t idlen, aulen;

		pb_cur_skip(&t, 2);
		idlen = pb_cur_u8(&t);
		aulen = pb_cur_u8(&t);
		pb_cur_skip(&t, (size_t)idlen + aulen + 8 + 1);
	}
	if (pb_cur_left(&t) >= 2 && t.pos[0] == 0 && t.pos[1] == 0)
		pb_cur_skip(&t, 8); /* origin indication */
	if (!pb_cur_ok(&t) || pb_cur_left(&t) < 40 || (t.pos[0] >> 4) != 6)
		return 0;
	plen = (size_t)t.pos[4] << 8 | t.pos[5];
	if (plen + 40 != pb_cur_left(&t) || p->caplen < p->len)
		return 0;
	if (push_tunnel(d, st, PB_TUN_TEREDO) < 0)
		return 1;
	pb_dec_ip(&t, 6, p, d, st);
	return 1;
}

int pb_dec_udp_tunnel(struct pb_cur *c, const struct pb_packet *p,
		      struct pb_decoded *d, struct pb_decode_stats *st)
{
	uint16_t dp = d->dport, sp = d->sport;

	/* either port: replies and mirrored traffic use the source port */
	if (dp == UDP_VXLAN || sp == UDP_VXLAN)
		return dec_vxlan(c, p, d, st);
	if (dp == UDP_GENEVE || sp == UDP_GENEVE)
		return dec_geneve(c, p, d, st);
	if (dp == UDP_TEREDO || sp == UDP_TEREDO)
		return dec_teredo(c, p, d, st);
	if (dp == UDP_GRE || sp == UDP_GRE) {
		/* the GRE header follows the UDP header directly */
		dec_gre(c, p, d, st);
		return 1;
	}
	if (dp == UDP_MPLS || sp == UDP_MPLS) {
		if (push_tunnel(d, st, PB_TUN_MPLS_UDP) == 0)
			pb_dec_mpls(c, p, d, st);
		return 1;
	}
	return 0;
}
