/*
 * ip.c - IPv4 with options and IPv6 with extension headers.
 *
 * References: RFC 791 (IPv4), RFC 8200 (IPv6), RFC 4302 (AH), RFC 6564
 * (uniform extension header format).
 *
 *  IPv4:  | ver 4 ihl 4 | tos 8 | total length 16 |
 *         | identification 16  | flags 3 offset 13 |
 *         | ttl 8 | proto 8 | checksum 16 | src 32 | dst 32 | options |
 *  IPv6:  | ver 4 | traffic class 8 | flow label 20 |
 *         | payload length 16 | next header 8 | hop limit 8 |
 *         | src 128 | dst 128 | extension headers ... |
 *
 * The declared lengths are believed only up to the captured bytes: a total
 * length past the end of a whole frame is noted (IP4_LENGTH_EXCEEDS_FRAME)
 * and the frame's end is taken as the datagram's; when the capture's
 * snaplen cut the frame, the declared length stands for what was on the
 * wire.  ip.length shows the declared value, except that a declared 0
 * (written by segmentation offload) shows the length the frame gives.
 * Ethernet padding past the declared length is not payload.
 */
#include "decode/decode_int.h"

#include "util/banned.h"

/* Bytes the wire had from h on: to the end of the enclosing layer (a
 * tunnel's payload) or of the frame as it was on the wire. */
static uint32_t wire_avail(const uint8_t *h, const struct pb_packet *p,
			   const struct pb_decoded *d)
{
	uint32_t off = (uint32_t)(h - p->data);
	uint32_t end = d->wire_end ? d->wire_end : p->len;

	if (end < p->caplen && !d->wire_end)
		end = p->caplen; /* caplen above the original length */
	return end > off ? end - off : 0;
}

static void dec_ip4(struct pb_cur *c, const struct pb_packet *p,
		    struct pb_decoded *d, struct pb_decode_stats *st)
{
	const uint8_t *h = c->pos;
	size_t avail = pb_cur_left(c);
	uint32_t hlen, total, cap, wire;
	uint16_t fo;
	struct pb_cur t;

	if (avail < 20) {
		pb_dec_anomaly(d, st, PB_AN_IP4_TRUNCATED, 1);
		return;
	}
	if (h[0] >> 4 != 4) {
		pb_dec_anomaly(d, st, PB_AN_IP_BAD_VERSION, 1);
		return;
	}
	d->layers |= PB_LAYER_IP4;
	st->ipv4++;
	d->ip_version = 4;
	d->addr_len = 4;
	hlen = (uint32_t)(h[0] & 0x0f) * 4;
	d->tos = h[1];
	total = (uint32_t)h[2] << 8 | h[3];
	d->ip_len = total;
	d->ip_id = (uint16_t)(h[4] << 8 | h[5]);
	fo = (uint16_t)(h[6] << 8 | h[7]);
	d->ttl = h[8];
	d->proto = h[9];
	d->has_proto = 1;
	d->src_ip = h + 12;
	d->dst_ip = h + 16;
	d->ip_flags = (uint8_t)((fo & 0x8000 ? PB_IP_RF : 0) |
				(fo & 0x4000 ? PB_IP_DF : 0) |
				(fo & 0x2000 ? PB_IP_MF : 0));
	d->frag_offset = (uint16_t)((fo & 0x1fff) * 8);
	d->frag_more = (fo & 0x2000) != 0;
	d->frag_id = d->ip_id;
	d->is_fragment = d->frag_more || d->frag_offset;
	if (d->is_fragment)
		st->fragments++;
	d->ip_hlen = (uint8_t)hlen;
	if (hlen < 20) {
		pb_dec_anomaly(d, st, PB_AN_IP4_BAD_HEADER_LENGTH, 1);
		return;
	}
	if (hlen > avail) {
		pb_dec_anomaly(d, st, PB_AN_IP4_TRUNCATED, 1);
		return;
	}
	if (total == 0) {
		/* Written by a NIC doing segmentation offload: the frame
		 * is the only length there is. */
		pb_dec_anomaly(d, st, PB_AN_IP4_ZERO_TOTAL_LENGTH, 0);
		total = (uint32_t)avail;
		d->ip_len = total;
	}
	if (total < hlen) {
		pb_dec_anomaly(d, st, PB_AN_IP4_BAD_TOTAL_LENGTH, 1);
		return;
	}
	wire = wire_avail(h, p, d);
	if (total > wire) {
		/* more than the frame (or the tunnel carrying us) had on the
		 * wire: the length lies, and what is there is all there was */
		pb_dec_anomaly(d, st, PB_AN_IP4_LENGTH_EXCEEDS_FRAME, 0);
		total = wire;
	}
	/* what of it was captured: a snaplen may have cut it */
	cap = total > avail ? (uint32_t)avail : total;
	d->wire_end = (uint32_t)(h - p->data) + total;
	/* Options: walk them only to check they are well formed. */
	if (hlen > 20) {
		struct pb_cur o;

		pb_cur_init(&o, h + 20, hlen - 20);
		while (pb_cur_left(&o) > 0) {
			uint8_t kind = pb_cur_u8(&o), olen;

			if (kind == 0) /* end of list */
				break;
			if (kind == 1) /* no-op */
				continue;
			olen = pb_cur_u8(&o);
			if (!pb_cur_ok(&o) || olen < 2 || olen - 2u > pb_cur_left(&o)) {
				pb_dec_anomaly(d, st, PB_AN_IP4_OPTIONS_MALFORMED, 0);
				break;
			}
			pb_cur_skip(&o, olen - 2u);
		}
	}
	if (d->is_fragment) {
		d->ip_hdr = h;
		d->frag_hdr_len = (uint16_t)hlen;
		d->frag_proto = d->proto;
		d->frag_data = h + hlen;
		d->frag_data_len = total - hlen;
		d->frag_whole = cap == total;
	}
	if (d->frag_offset)
		return; /* a later fragment: no transport header here */
	pb_cur_init(&t, h + hlen, cap - hlen);
	total -= hlen;
	/* IPsec AH (RFC 4302) sits between IPv4 and the protocol it
	 * authenticates, as it does among IPv6's extension headers; the
	 * transport is what follows it.  | next 8 | length 8 (words - 2) | */
	if (d->proto == 51) {
		uint8_t next = pb_cur_u8(&t), alen = pb_cur_u8(&t);
		size_t sz = ((size_t)alen + 2) * 4;

		if (!pb_cur_ok(&t) || sz - 2 > pb_cur_left(&t) || sz > total) {
			pb_dec_anomaly(d, st, PB_AN_IP4_TRUNCATED, 1);
			return;
		}
		pb_cur_skip(&t, sz - 2);
		total -= (uint32_t)sz;
		d->proto = next;
	}
	pb_dec_transport(&t, total, p, d, st);
}

/* Extension headers that share the (next, length in 8-octet units) form.
 * The mobility header (135) is left out on purpose: it ends the chain in
 * practice (its next header is 59), so it is reported as the protocol. */
static int ip6_generic_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 139 || nh == 140 ||
	       nh == 253 || nh == 254;
}

static void dec_ip6(struct pb_cur *c, const struct pb_packet *p,
		    struct pb_decoded *d, struct pb_decode_stats *st)
{
	const uint8_t *h = c->pos;
	size_t avail = pb_cur_left(c);
	uint32_t plen, total, cap, wire, used = 0;
	uint8_t nh;
	int n_ext = 0;
	struct pb_cur x, t;

	if (avail < 40) {
		pb_dec_anomaly(d, st, PB_AN_IP6_TRUNCATED, 1);
		return;
	}
	if (h[0] >> 4 != 6) {
		pb_dec_anomaly(d, st, PB_AN_IP_BAD_VERSION, 1);
		return;
	}
	d->layers |= PB_LAYER_IP6;
	st->ipv6++;
	d->ip_version = 6;
	d->addr_len = 16;
	d->tos = (uint8_t)((h[0] & 0x0f) << 4 | h[1] >> 4);
	d->ip6_flow = (uint32_t)(h[1] & 0x0f) << 16 | (uint32_t)h[2] << 8 | h[3];
	plen = (uint32_t)h[4] << 8 | h[5];
	nh = h[6];
	d->ttl = h[7];
	d->src_ip = h + 8;
	d->dst_ip = h + 24;
	if (plen == 0) /* a jumbogram (RFC 2675) or offload: use the frame */
		plen = (uint32_t)avail - 40;
	total = 40 + plen;
	d->ip_len = total;
	wire = wire_avail(h, p, d);
	if (total > wire && wire >= 40) { /* as for IPv4 */
		pb_dec_anomaly(d, st, PB_AN_IP6_LENGTH_EXCEEDS_FRAME, 0);
		total = wire;
		plen = total - 40;
	}
	cap = total > avail ? (uint32_t)avail : total;
	d->wire_end = (uint32_t)(h - p->data) + total;
	pb_cur_init(&x, h + 40, cap - 40);
	/* Walk the extension headers to the upper-layer protocol. */
	for (;;) {
		if (ip6_generic_ext(nh) || nh == 51) {
			uint8_t next = pb_cur_u8(&x), len = pb_cur_u8(&x);
			size_t sz = nh == 51 ? ((size_t)len + 2) * 4 : ((size_t)len + 1) * 8;

			if (!pb_cur_ok(&x) || sz - 2 > pb_cur_left(&x)) {
				d->proto = nh;
				d->has_proto = 1;
				pb_dec_anomaly(d, st, PB_AN_IP6_EXT_TRUNCATED, 1);
				return;
			}
			pb_cur_skip(&x, sz - 2);
			used += (uint32_t)sz;
			nh = next;
		} else if (nh == 44) { /* fragment header, RFC 8200 4.5 */
			const uint8_t *fh = x.pos;
			uint8_t next = pb_cur_u8(&x);
			uint16_t off;

			pb_cur_skip(&x, 1);
			off = pb_cur_be16(&x);
			d->frag_id = pb_cur_be32(&x);
			if (!pb_cur_ok(&x)) {
				d->proto = nh;
				d->has_proto = 1;
				pb_dec_anomaly(d, st, PB_AN_IP6_EXT_TRUNCATED, 1);
				return;
			}
			used += 8;
			d->has_frag6 = 1;
			d->frag_offset = off & 0xfff8;
			d->frag_more = off & 1;
			/* an atomic fragment (offset 0, M 0) is whole */
			d->is_fragment = d->frag_offset || d->frag_more;
			if (d->is_fragment && !d->frag_data) {
				st->fragments++;
				d->ip_hdr = h;
				d->frag_hdr_len = (uint16_t)(fh - h);
				d->frag_proto = next;
				d->frag_data = fh + 8;
				d->frag_data_len = plen >= used ? plen - used : 0;
				d->frag_whole = cap == total;
			}
			nh = next;
			if (d->frag_offset) {
				d->proto = nh;
				d->has_proto = 1;
				return;
			}
		} else {
			break;
		}
		/* Every header consumes at least 8 bytes, so the walk ends with
		 * the packet; a long chain is still worth a note (evasion). */
		if (++n_ext == PB_MAX_IP6_EXT + 1)
			pb_dec_anomaly(d, st, PB_AN_IP6_TOO_MANY_EXT, 0);
	}
	d->proto = nh;
	d->has_proto = 1;
	if (nh == 59) /* no next header */
		return;
	pb_cur_init(&t, x.pos, pb_cur_left(&x));
	pb_dec_transport(&t, plen >= used ? plen - used : 0, p, d, st);
}

void pb_dec_ip(struct pb_cur *c, int version, const struct pb_packet *p,
	       struct pb_decoded *d, struct pb_decode_stats *st)
{
	if (version == 4)
		dec_ip4(c, p, d, st);
	else if (version == 6)
		dec_ip6(c, p, d, st);
	else
		pb_dec_anomaly(d, st, PB_AN_IP_BAD_VERSION, 1);
}
