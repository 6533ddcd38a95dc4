/*
 * link.c - link layers: Ethernet II and 802.3/LLC/SNAP, 802.1Q/802.1ad
 * tags, Linux cooked captures (SLL, SLL2), BSD NULL/LOOP, raw IP; and ARP.
 *
 * References: IEEE 802.3, IEEE 802.1Q, RFC 826 (ARP), RFC 1042 (SNAP),
 * tcpdump.org/linktypes.html (LINKTYPE_LINUX_SLL, LINUX_SLL2, NULL, LOOP).
 *
 *   Ethernet:  | dst 6 | src 6 | type/len 2 | ...
 *   802.1Q:                    | 0x8100 | PCP 3 DEI 1 VID 12 | type 2 |
 *   802.1BR E-Tag:             | 0x893f | 6 bytes | type 2 |
 *   VN-Tag:                    | 0x8926 | 4 bytes | type 2 |
 *   SLL:   | pkttype 2 | arphrd 2 | addrlen 2 | addr 8 | protocol 2 |
 *   SLL2:  | protocol 2 | rsvd 2 | ifindex 4 | arphrd 2 | pkttype 1 |
 *          | addrlen 1 | addr 8 |
 *   NULL:  | address family, 4 bytes in the capturing host's order |
 *   LOOP:  | address family, 4 bytes big-endian |
 */
#include "decode/decode_int.h"

#include "util/banned.h"

enum {
	ET_IPV4 = 0x0800,
	ET_ARP = 0x0806,
	ET_VLAN = 0x8100,   /* 802.1Q */
	ET_QINQ = 0x88a8,   /* 802.1ad service tag */
	ET_QINQ_OLD = 0x9100,
	ET_IPV6 = 0x86dd,
	ET_MPLS = 0x8847,
	ET_MPLS_MC = 0x8848,
	ET_PPPOE = 0x8864, /* PPPoE session stage */
	ET_VNTAG = 0x8926,  /* Cisco VN-Tag: 4 bytes of tag */
	ET_ETAG = 0x893f,   /* IEEE 802.1BR E-Tag: 6 bytes of tag */
};

/* ARP for IPv4 over Ethernet: the one kind worth naming addresses for. */
static void dec_arp(struct pb_cur *c, struct pb_decoded *d, struct pb_decode_stats *st)
{
	uint16_t htype = pb_cur_be16(c), ptype = pb_cur_be16(c);
	uint8_t hlen = pb_cur_u8(c), plen = pb_cur_u8(c);

	d->arp_op = pb_cur_be16(c);
	if (!pb_cur_ok(c)) {
		pb_dec_anomaly(d, st, PB_AN_ARP_TRUNCATED, 1);
		return;
	}
	d->layers |= PB_LAYER_ARP;
	st->arp++;
	if (htype != 1 || ptype != ET_IPV4 || hlen != 6 || plen != 4)
		return; /* another hardware or protocol: the op is all we show */
	d->arp_sha = pb_cur_bytes(c, 6);
	d->arp_spa = pb_cur_bytes(c, 4);
	d->arp_tha = pb_cur_bytes(c, 6);
	d->arp_tpa = pb_cur_bytes(c, 4);
	if (!pb_cur_ok(c)) {
		d->arp_sha = d->arp_spa = d->arp_tha = d->arp_tpa = NULL;
		pb_dec_anomaly(d, st, PB_AN_ARP_TRUNCATED, 1);
	}
}

void pb_dec_ethertype(struct pb_cur *c, uint16_t type, const struct pb_packet *p,
		      struct pb_decoded *d, struct pb_decode_stats *st)
{
	unsigned n_tags = 0;

	/* 802.1Q and 802.1ad tags; the first two are kept (outer, inner). */
	/* VN-Tag and E-Tag (port extenders) are skipped: they name a port,
	 * not a network.  All tags count towards the same depth limit. */
	while (type == ET_VLAN || type == ET_QINQ || type == ET_QINQ_OLD ||
	       type == ET_VNTAG || type == ET_ETAG) {
		uint16_t tci = 0;

		if (n_tags++ == PB_MAX_VLAN) {
			pb_dec_anomaly(d, st, PB_AN_VLAN_TOO_DEEP, 1);
			return;
		}
		if (type == ET_VNTAG)
			pb_cur_skip(c, 4);
		else if (type == ET_ETAG)
			pb_cur_skip(c, 6);
		else
			tci = pb_cur_be16(c);
		if (type == ET_VNTAG || type == ET_ETAG) {
			type = pb_cur_be16(c);
			if (!pb_cur_ok(c)) {
				pb_dec_anomaly(d, st, PB_AN_VLAN_TRUNCATED, 1);
				return;
			}
			continue;
		}
		type = pb_cur_be16(c);
		if (!pb_cur_ok(c)) {
			pb_dec_anomaly(d, st, PB_AN_VLAN_TRUNCATED, 1);
			return;
		}
		if (d->n_vlan < 2)
			d->vlan[d->n_vlan] = tci & 0x0fff;
		d->n_vlan++;
		d->layers |= PB_LAYER_VLAN;
	}
	d->ethertype = type;
	d->has_ethertype = 1;
	switch (type) {
	case ET_IPV4:
		pb_dec_ip(c, 4, p, d, st);
		break;
	case ET_IPV6:
		pb_dec_ip(c, 6, p, d, st);
		break;
	case ET_ARP:
		dec_arp(c, d, st);
		break;
	case ET_MPLS:
	case ET_MPLS_MC:
		pb_dec_mpls(c, p, d, st);
		break;
	case ET_PPPOE:
		pb_dec_pppoe(c, p, d, st);
		break;
	default:
		st->other_net++;
		break;
	}
}

/* An Ethernet type/length field below 1536 is an 802.3 length: an LLC
 * header follows, and SNAP (AA AA 03) carries an ethertype after an OUI. */
static void dec_ethernet_payload(struct pb_cur *c, uint16_t tl, const struct pb_packet *p,
				 struct pb_decoded *d, struct pb_decode_stats *st)
{
	const uint8_t *llc;

	if (tl >= 1536) {
		pb_dec_ethertype(c, tl, p, d, st);
		return;
	}
	llc = pb_cur_bytes(c, 3);
	if (!llc) {
		pb_dec_anomaly(d, st, PB_AN_LLC_TRUNCATED, 1);
		return;
	}
	if (llc[0] == 0xaa && llc[1] == 0xaa && llc[2] == 0x03) {
		uint16_t type;

		pb_cur_skip(c, 3); /* OUI */
		type = pb_cur_be16(c);
		if (!pb_cur_ok(c)) {
			pb_dec_anomaly(d, st, PB_AN_LLC_TRUNCATED, 1);
			return;
		}
		pb_dec_ethertype(c, type, p, d, st);
		return;
	}
	st->other_net++; /* STP, NetBIOS, IPX... : not decoded further */
}

void pb_dec_ethernet(struct pb_cur *c, const struct pb_packet *p,
		     struct pb_decoded *d, struct pb_decode_stats *st)
{
	uint16_t tl;

	d->dst_mac = pb_cur_bytes(c, 6);
	d->src_mac = pb_cur_bytes(c, 6);
	tl = pb_cur_be16(c);
	if (!pb_cur_ok(c)) {
		d->dst_mac = d->src_mac = NULL;
		pb_dec_anomaly(d, st, PB_AN_LINK_TRUNCATED, 1);
		return;
	}
	d->layers |= PB_LAYER_ETH;
	dec_ethernet_payload(c, tl, p, d, st);
}

/* Linux cooked protocol field: an ethertype, or 802.2/802.3 markers. */
static void dec_sll_proto(struct pb_cur *c, uint16_t arphrd, uint16_t proto,
			  const struct pb_packet *p, struct pb_decoded *d,
			  struct pb_decode_stats *st)
{
	d->layers |= PB_LAYER_SLL;
	if (arphrd == 1 || arphrd == 772) { /* Ethernet, loopback */
		if (proto == 0x0004) { /* 802.2 LLC frame */
			const uint8_t *llc = pb_cur_bytes(c, 3);

			if (llc && llc[0] == 0xaa && llc[1] == 0xaa && llc[2] == 0x03) {
				pb_cur_skip(c, 3);
				proto = pb_cur_be16(c);
				if (pb_cur_ok(c)) {
					pb_dec_ethertype(c, proto, p, d, st);
					return;
				}
			}
			if (!pb_cur_ok(c))
				pb_dec_anomaly(d, st, PB_AN_LLC_TRUNCATED, 1);
			else
				st->other_net++;
			return;
		}
	}
	if (proto < 1536) { /* 802.3, CAN, ... */
		st->other_net++;
		return;
	}
	pb_dec_ethertype(c, proto, p, d, st);
}

static void dec_sll(struct pb_cur *c, const struct pb_packet *p,
		    struct pb_decoded *d, struct pb_decode_stats *st)
{
	uint16_t arphrd, alen, proto;
	const uint8_t *addr;

	pb_cur_skip(c, 2); /* packet type */
	arphrd = pb_cur_be16(c);
	alen = pb_cur_be16(c);
	addr = pb_cur_bytes(c, 8);
	proto = pb_cur_be16(c);
	if (!pb_cur_ok(c)) {
		pb_dec_anomaly(d, st, PB_AN_LINK_TRUNCATED, 1);
		return;
	}
	if (alen == 6)
		d->src_mac = addr; /* the sender's address, when it is a MAC */
	dec_sll_proto(c, arphrd, proto, p, d, st);
}

static void dec_sll2(struct pb_cur *c, const struct pb_packet *p,
		     struct pb_decoded *d, struct pb_decode_stats *st)
{
	uint16_t proto, arphrd;
	uint8_t alen;
	const uint8_t *addr;

	proto = pb_cur_be16(c);
	pb_cur_skip(c, 2 + 4); /* reserved, interface index */
	arphrd = pb_cur_be16(c);
	pb_cur_skip(c, 1); /* packet type */
	alen = pb_cur_u8(c);
	addr = pb_cur_bytes(c, 8);
	if (!pb_cur_ok(c)) {
		pb_dec_anomaly(d, st, PB_AN_LINK_TRUNCATED, 1);
		return;
	}
	if (alen == 6)
		d->src_mac = addr;
	dec_sll_proto(c, arphrd, proto, p, d, st);
}

/* BSD address families for IP: AF_INET is 2 everywhere; AF_INET6 is 24,
 * 28 or 30 depending on the BSD, and 10 on Linux. */
static void dec_af(struct pb_cur *c, uint32_t af, const uint8_t *hdr,
		   const struct pb_packet *p, struct pb_decoded *d,
		   struct pb_decode_stats *st)
{
	uint16_t et = (uint16_t)(hdr[2] << 8 | hdr[3]);

	if (af == 2)
		pb_dec_ip(c, 4, p, d, st);
	else if (af == 24 || af == 28 || af == 30 || af == 10)
		pb_dec_ip(c, 6, p, d, st);
	else if (et == ET_IPV4 || et == ET_IPV6)
		/* Some writers put an Ethernet type in the last two bytes
		 * of the header instead of an address family. */
		pb_dec_ethertype(c, et, p, d, st);
	else
		st->other_net++;
}

/* Raw IP: the version nibble says which. */
static void dec_raw(struct pb_cur *c, const struct pb_packet *p,
		    struct pb_decoded *d, struct pb_decode_stats *st)
{
	if (!pb_cur_has(c, 1)) {
		pb_dec_anomaly(d, st, PB_AN_LINK_TRUNCATED, 1);
		return;
	}
	pb_dec_ip(c, c->pos[0] >> 4, p, d, st);
}

void pb_dec_link(struct pb_cur *c, const struct pb_packet *p,
		 struct pb_decoded *d, struct pb_decode_stats *st)
{
	const uint8_t *hdr;
	uint32_t af;

	switch (p->linktype) {
	case PB_LT_ETHERNET:
		pb_dec_ethernet(c, p, d, st);
		break;
	case PB_LT_LINUX_SLL:
		dec_sll(c, p, d, st);
		break;
	case PB_LT_LINUX_SLL2:
		dec_sll2(c, p, d, st);
		break;
	case PB_LT_NULL:
		hdr = c->pos;
		af = pb_cur_le32(c);
		if (!pb_cur_ok(c)) {
			pb_dec_anomaly(d, st, PB_AN_LINK_TRUNCATED, 1);
			break;
		}
		/* written in the capturing host's order: a big-endian host
		 * leaves the family in the high bytes */
		if ((af & 0xffff) == 0)
			af = af >> 24 | (af >> 8 & 0xff00);
		dec_af(c, af, hdr, p, d, st);
		break;
	case PB_LT_LOOP:
		hdr = c->pos;
		af = pb_cur_be32(c);
		if (!pb_cur_ok(c)) {
			pb_dec_anomaly(d, st, PB_AN_LINK_TRUNCATED, 1);
			break;
		}
		dec_af(c, af, hdr, p, d, st);
		break;
	case PB_LT_RAW:
	case PB_LT_RAW_BSD1:
	case PB_LT_RAW_BSD2:
		dec_raw(c, p, d, st);
		break;
	case PB_LT_IPV4:
		pb_dec_ip(c, 4, p, d, st);
		break;
	case PB_LT_IPV6:
		pb_dec_ip(c, 6, p, d, st);
		break;
	default:
		pb_dec_anomaly(d, st, PB_AN_LINKTYPE_UNSUPPORTED, 1);
		break;
	}
}
