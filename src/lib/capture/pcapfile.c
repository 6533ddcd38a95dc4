/*
 * pcapfile.c - pcap and pcapng file readers.
 *
 * References: draft-ietf-opsawg-pcap (the pcap format) and
 * draft-ietf-opsawg-pcapng (the pcapng format).
 *
 * pcap:    global header, then records:
 *   +------------+------------+------------+------------+-----------+
 *   | ts_sec  32 | ts_frac 32 | caplen  32 | origlen 32 | data ...  |
 *   +------------+------------+------------+------------+-----------+
 *   in the byte order of the magic; ts_frac in us or ns per the magic.
 *
 * pcapng:  blocks of  | type 32 | total length 32 | body | total length 32 |
 *   SHB sets the byte order of its section; IDBs number the section's
 *   interfaces (link type, snaplen, if_tsresol, if_tsoffset); EPB, SPB and
 *   the obsolete PB carry packets.  Other blocks are skipped by length.
 *
 * Records are read in place from the stream buffer.  A record longer than
 * PB_MAX_FRAME is reported; in pcap reading cannot resynchronise after it,
 * in pcapng the block is skipped and reading goes on.
 */
#include "capture/capture_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "util/banned.h"

#define PCAP_HDR 24
#define PCAP_REC 16

static int check_stream_error(struct pb_capture *c)
{
	if (c->s.err) {
		pb_cap_report(c, "read error after packet %llu: %s",
			      (unsigned long long)c->index, strerror(c->s.err));
		return PB_EIO;
	}
	return 0;
}

int pb_cap_pcap_open(struct pb_capture *c)
{
	struct pb_cur cur;
	uint32_t magic;

	if (pb_stream_fill(&c->s, PCAP_HDR) < PCAP_HDR) {
		if (check_stream_error(c))
			return PB_EIO;
		pb_cap_report(c, "truncated pcap file header");
		return PB_ETRUNC;
	}
	pb_cur_init(&cur, pb_stream_ptr(&c->s), PCAP_HDR);
	magic = pb_cur_be32(&cur);
	c->be = magic == 0xa1b2c3d4 || magic == 0xa1b23c4d || magic == 0xa1b2cd34;
	c->nsec = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
	c->rec_extra = magic == 0xa1b2cd34 || magic == 0x34cdb2a1 ? 8 : 0;
	pb_cur_skip(&cur, 2 + 2 + 4 + 4); /* version, thiszone, sigfigs */
	c->snaplen = pb_cur_u32o(&cur, c->be);
	/* The low 16 bits are the link type; the FCS flags sit above. */
	c->linktype = pb_cur_u32o(&cur, c->be) & 0xffff;
	pb_stream_consume(&c->s, PCAP_HDR);
	return 0;
}

int pb_cap_pcap_next(struct pb_capture *c, struct pb_packet *p)
{
	size_t hl = PCAP_REC + (size_t)c->rec_extra, avail;
	struct pb_cur cur;
	uint32_t sec, frac, caplen, len;

	avail = pb_stream_fill(&c->s, hl);
	if (avail == 0)
		return check_stream_error(c) ? PB_EIO : PB_EOF;
	if (avail < hl) {
		if (check_stream_error(c))
			return PB_EIO;
		c->st.truncated++;
		pb_cap_report(c, "truncated after packet %llu (%zu bytes of a "
			      "record header)", (unsigned long long)c->index, avail);
		return PB_ETRUNC;
	}
	pb_cur_init(&cur, pb_stream_ptr(&c->s), hl);
	sec = pb_cur_u32o(&cur, c->be);
	frac = pb_cur_u32o(&cur, c->be);
	caplen = pb_cur_u32o(&cur, c->be);
	len = pb_cur_u32o(&cur, c->be);
	c->st.records++;
	if (caplen > PB_MAX_FRAME) {
		/* Either a corrupt header or a frame nothing can hold: the
		 * next record's position is unknowable, so stop here. */
		c->st.oversized++;
		c->st.bad++;
		pb_cap_report(c, "packet %llu: record of %u bytes exceeds the "
			      "%u-byte maximum; the rest of the file is unreadable",
			      (unsigned long long)c->index + 1, caplen, PB_MAX_FRAME);
		return PB_ETOOBIG;
	}
	avail = pb_stream_fill(&c->s, hl + caplen);
	if (avail < hl + caplen) {
		if (check_stream_error(c))
			return PB_EIO;
		c->st.truncated++;
		pb_cap_report(c, "truncated after packet %llu (packet %llu has "
			      "%zu of %u bytes)", (unsigned long long)c->index,
			      (unsigned long long)c->index + 1, avail - hl, caplen);
		return PB_ETRUNC;
	}
	if (c->snaplen && caplen > c->snaplen)
		c->st.snaplen_exceeded++;
	if (caplen > len)
		c->st.caplen_gt_len++;
	p->index = ++c->index;
	/* Normalise a sub-second field that overflowed into seconds. */
	if (c->nsec) {
		p->ts.sec = (int64_t)sec + frac / 1000000000u;
		p->ts.nsec = frac % 1000000000u;
		p->ts.prec = 9;
	} else {
		p->ts.sec = (int64_t)sec + frac / 1000000u;
		p->ts.nsec = frac % 1000000u * 1000u;
		p->ts.prec = 6;
	}
	p->caplen = caplen;
	p->len = len;
	p->linktype = c->linktype;
	p->iface = 0;
	p->data = pb_stream_ptr(&c->s) + hl;
	pb_stream_consume(&c->s, hl + caplen);
	return 0;
}

/* ---- pcapng ---- */

enum {
	NG_SHB = 0x0a0d0d0a,
	NG_IDB = 1,
	NG_PB = 2,  /* obsolete packet block */
	NG_SPB = 3,
	NG_EPB = 6,
	NG_OPT_END = 0,
	NG_IF_TSRESOL = 9,
	NG_IF_TSOFFSET = 14,
};

/* Convert a pcapng timestamp in units of if_tsresol to seconds + ns. */
static void ng_time(const struct pb_ng_iface *ifc, uint64_t t, struct pb_time *out)
{
	uint8_t r = ifc->tsresol;

	if (r & 0x80) {
		unsigned e = r & 0x7f;

		if (e > 63)
			e = 63;
		out->sec = (int64_t)(t >> e);
		out->nsec = (uint32_t)(((unsigned __int128)(t & ((1ULL << e) - 1)) *
					1000000000u) >> e);
		out->prec = e <= 20 ? 6 : 9;
	} else {
		unsigned e = r > 19 ? 19 : r;
		uint64_t div = 1, k;

		for (k = 0; k < e; k++)
			div *= 10;
		out->sec = (int64_t)(t / div);
		if (e <= 9) {
			uint64_t mul = 1;

			for (k = e; k < 9; k++)
				mul *= 10;
			out->nsec = (uint32_t)(t % div * mul);
		} else {
			uint64_t d2 = 1;

			for (k = 9; k < e; k++)
				d2 *= 10;
			out->nsec = (uint32_t)(t % div / d2);
		}
		out->prec = e <= 6 ? 6 : 9;
	}
	/* if_tsoffset is any 64-bit value a file cares to hold: saturate
	 * rather than overflow */
	if (__builtin_add_overflow(out->sec, ifc->tsoffset, &out->sec))
		out->sec = ifc->tsoffset < 0 ? INT64_MIN : INT64_MAX;
}

/* Read a whole block into place; 0, PB_EOF, or an error. */
static int ng_block(struct pb_capture *c, uint32_t *type, struct pb_cur *body,
		    size_t *total)
{
	const uint8_t *p;
	size_t avail;
	uint32_t len;
	struct pb_cur h;

	avail = pb_stream_fill(&c->s, 12);
	if (avail == 0)
		return check_stream_error(c) ? PB_EIO : PB_EOF;
	if (avail < 12) {
		if (check_stream_error(c))
			return PB_EIO;
		c->st.truncated++;
		pb_cap_report(c, "truncated after packet %llu (%zu bytes of a "
			      "block header)", (unsigned long long)c->index, avail);
		return PB_ETRUNC;
	}
	p = pb_stream_ptr(&c->s);
	pb_cur_init(&h, p, 12);
	/* A section header sets the byte order of everything after it. */
	if (pb_cur_be32(&h) == NG_SHB) {
		uint32_t bom = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
			       (uint32_t)p[10] << 8 | p[11];

		if (bom == 0x1a2b3c4d)
			c->be = 1;
		else if (bom == 0x4d3c2b1a)
			c->be = 0;
		else {
			pb_cap_report(c, "section header after packet %llu has a bad "
				      "byte-order magic", (unsigned long long)c->index);
			return PB_EINVAL;
		}
	}
	pb_cur_init(&h, p, 8);
	*type = pb_cur_u32o(&h, c->be);
	len = pb_cur_u32o(&h, c->be);
	if (len < 12 || len % 4 || len > PB_NG_MAX_BLOCK) {
		pb_cap_report(c, "block after packet %llu has an impossible length "
			      "%u; the rest of the file is unreadable",
			      (unsigned long long)c->index, len);
		c->st.bad++;
		return PB_EINVAL;
	}
	avail = pb_stream_fill(&c->s, len);
	if (avail < len) {
		if (check_stream_error(c))
			return PB_EIO;
		c->st.truncated++;
		pb_cap_report(c, "truncated after packet %llu (a block has %zu of "
			      "%u bytes)", (unsigned long long)c->index, avail, len);
		return PB_ETRUNC;
	}
	pb_cur_init(body, pb_stream_ptr(&c->s) + 8, len - 12);
	*total = len;
	return 0;
}

static int ng_section(struct pb_capture *c, struct pb_cur *b)
{
	uint16_t major;

	pb_cur_skip(b, 4); /* byte-order magic, already read */
	major = pb_cur_u16o(b, c->be);
	if (!pb_cur_ok(b) || major != 1) {
		pb_cap_report(c, "unsupported pcapng version %u", major);
		return PB_EFORMAT;
	}
	/* Interface numbers restart in each section. */
	c->iface_base += c->n_ifaces;
	c->n_ifaces = 0;
	return 0;
}

static int ng_interface(struct pb_capture *c, struct pb_cur *b)
{
	struct pb_ng_iface ifc = { 0, 0, 6, 0 };

	ifc.linktype = pb_cur_u16o(b, c->be);
	pb_cur_skip(b, 2);
	ifc.snaplen = pb_cur_u32o(b, c->be);
	/* options: code 16, length 16, value padded to 32 bits */
	while (pb_cur_ok(b) && pb_cur_left(b) >= 4) {
		uint16_t code = pb_cur_u16o(b, c->be);
		uint16_t olen = pb_cur_u16o(b, c->be);
		struct pb_cur v = pb_cur_sub(b, olen);

		pb_cur_skip(b, (4 - olen % 4) % 4);
		if (code == NG_OPT_END || pb_cur_left(&v) < olen)
			break; /* the end, or an option running past the block */
		if (code == NG_IF_TSRESOL && olen >= 1)
			ifc.tsresol = pb_cur_u8(&v);
		else if (code == NG_IF_TSOFFSET && olen >= 8)
			ifc.tsoffset = (int64_t)(c->be ? pb_cur_be64(&v) : pb_cur_le64(&v));
	}
	if (c->n_ifaces == c->cap_ifaces) {
		uint32_t ncap = c->cap_ifaces ? c->cap_ifaces * 2 : 8;
		struct pb_ng_iface *n;

		if (ncap > PB_NG_MAX_IFACES) {
			pb_cap_report(c, "more than %u interfaces in one section",
				      PB_NG_MAX_IFACES);
			return PB_ETOOBIG;
		}
		n = realloc(c->ifaces, ncap * sizeof(*n));
		if (!n)
			return PB_ENOMEM;
		c->ifaces = n;
		c->cap_ifaces = ncap;
	}
	c->ifaces[c->n_ifaces++] = ifc;
	return 0;
}

int pb_cap_pcapng_open(struct pb_capture *c)
{
	/* The first block is read by pb_cap_pcapng_next like any other;
	 * only check here that it is a whole section header. */
	if (pb_stream_fill(&c->s, 12) < 12) {
		pb_cap_report(c, "truncated pcapng section header");
		return PB_ETRUNC;
	}
	return 0;
}

int pb_cap_pcapng_next(struct pb_capture *c, struct pb_packet *p)
{
	for (;;) {
		struct pb_cur b;
		uint32_t type, ifid = 0, caplen = 0, len = 0;
		uint64_t ts = 0;
		size_t total;
		int rc = ng_block(c, &type, &b, &total);

		if (rc < 0)
			return rc;
		switch (type) {
		case NG_SHB:
			rc = ng_section(c, &b);
			break;
		case NG_IDB:
			rc = ng_interface(c, &b);
			break;
		case NG_EPB:
		case NG_PB:
			if (type == NG_EPB) {
				ifid = pb_cur_u32o(&b, c->be);
			} else {
				ifid = pb_cur_u16o(&b, c->be);
				pb_cur_skip(&b, 2); /* drops count */
			}
			ts = (uint64_t)pb_cur_u32o(&b, c->be) << 32;
			ts |= pb_cur_u32o(&b, c->be);
			caplen = pb_cur_u32o(&b, c->be);
			len = pb_cur_u32o(&b, c->be);
			break;
		case NG_SPB:
			/* No timestamp, no caplen: the frame fills the block,
			 * cut to the original length and interface 0's snaplen. */
			len = pb_cur_u32o(&b, c->be);
			caplen = (uint32_t)pb_cur_left(&b);
			if (caplen > len)
				caplen = len;
			if (c->n_ifaces && c->ifaces[0].snaplen &&
			    caplen > c->ifaces[0].snaplen)
				caplen = c->ifaces[0].snaplen;
			break;
		default:
			break; /* name resolution, statistics, custom: skipped */
		}
		if (rc < 0) {
			pb_stream_consume(&c->s, total);
			return rc;
		}
		if (type != NG_EPB && type != NG_PB && type != NG_SPB) {
			pb_stream_consume(&c->s, total);
			continue;
		}
		c->st.records++;
		c->index++;
		if (!pb_cur_ok(&b) || ifid >= c->n_ifaces || caplen > pb_cur_left(&b) ||
		    caplen > PB_MAX_FRAME) {
			c->st.bad++;
			if (caplen > PB_MAX_FRAME)
				c->st.oversized++;
			pb_cap_report(c, "packet %llu: %s; skipped",
				      (unsigned long long)c->index,
				      ifid >= c->n_ifaces ? "unknown interface" :
				      caplen > PB_MAX_FRAME ? "record exceeds the 256 KiB maximum" :
				      "captured length exceeds its block");
			pb_stream_consume(&c->s, total);
			continue;
		}
		if (c->ifaces[ifid].snaplen && caplen > c->ifaces[ifid].snaplen)
			c->st.snaplen_exceeded++;
		if (caplen > len)
			c->st.caplen_gt_len++;
		p->index = c->index;
		if (type == NG_SPB) {
			p->ts.sec = 0;
			p->ts.nsec = 0;
			p->ts.prec = 6;
		} else {
			ng_time(&c->ifaces[ifid], ts, &p->ts);
		}
		p->caplen = caplen;
		p->len = len;
		p->linktype = c->ifaces[ifid].linktype;
		p->iface = c->iface_base + ifid;
		p->data = b.pos;
		pb_stream_consume(&c->s, total);
		return 0;
	}
}
