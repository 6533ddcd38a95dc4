/*
 * reasm.c - IPv4 and IPv6 fragment reassembly, bounded, on capture time.
 *
 * References: RFC 791 section 3.2 (IPv4 fragmentation), RFC 815 (the hole
 * list idea, done here as a sorted list of held ranges), RFC 1858 (tiny
 * and overlapping fragment attacks), RFC 5722 (overlapping IPv6 fragments
 * are discarded), RFC 6946 (atomic fragments), RFC 7112 (the first
 * fragment should hold the upper-layer header), RFC 8200 section 4.5.
 *
 *  IPv4 fragment:  | IPv4 header (20-60, the unfragmentable part)       |
 *                  |   id 16 | 0 DF MF | offset 13 (8-byte units)      |
 *                  | data: bytes [offset, offset + len) of the payload  |
 *     rebuilt:     | first fragment's header: MF 0, offset 0, total    |
 *                  | length and checksum fixed | bytes [0, end)         |
 *
 *  IPv6 fragment:  | IPv6 header 40 | ext headers (hop-by-hop, dest,   |
 *                  | routing): the unfragmentable part, last names 44   |
 *                  | fragment header 8: next 8 | 0 8 | offset 13 |00 M |
 *                  |                    identification 32               |
 *                  | data: bytes [offset, offset + len)                 |
 *     rebuilt:     | first fragment's unfragmentable part, its last     |
 *                  | next header := the fragment header's next header,  |
 *                  | payload length fixed | bytes [0, end)              |
 *
 *  The datagram table (all of it allocated by pb_reasm_init):
 *
 *   bucket[hash(key) & mask] -> slot -> slot -> NIL      (hash chains)
 *   age_head -> slot <-> slot <-> ... <-> slot <- age_tail  (first seen)
 *   free_head -> slot -> slot -> NIL                     (unused slots)
 *   slot i: key, deadline, header copy, end, bytes held,
 *           pieces[i * max_fragments ...]: sorted, disjoint ranges
 *             { off, len, data copy }, at most max_fragments of them
 *
 * The key is version, protocol (IPv4 only), id, src and dst; one lookup is
 * one hash and a chain walk.  A chain is at most max_datagrams long, so a
 * capture crafted to collide costs time bounded by the limits, not more.
 *
 * Memory: the slots, the piece arrays, the buckets, a merge scratch array
 * and the output buffer are allocated once at init.  On the hot path the
 * only allocations are the copies of held bytes: one malloc per new byte
 * range and one per first-fragment header.  Their total is kept within
 * max_bytes by evicting the oldest datagrams before the copy is made, and
 * the ranges per datagram within max_fragments.
 *
 * Overlaps: IPv4 keeps the bytes that arrived first, so a new fragment is
 * cut to the holes it fills; IPv6 drops the datagram (RFC 5722) unless the
 * fragment repeats a held one exactly.  Either way held pieces never
 * overlap, so a datagram is complete when its end is known and the count
 * of bytes held equals it.
 *
 * Capture time may run backwards in merged captures: the age list stays in
 * arrival order and expiry stops at the first datagram not yet due, so a
 * step back delays expiry and never hastens it.  The limits still hold.
 */
#include "decode/reasm.h"

#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "util/cursor.h"
#include "util/banned.h"

#define NIL UINT32_MAX
#define KEY_LEN 40        /* version, proto, 0, 0, id 32, src 128, dst 128 */
#define IP_MAXLEN 65535u  /* IPv4 total length, IPv6 payload length */
#define MAX_OFFSET 65528u /* a 13-bit offset field times 8 */

struct pb_reasm_piece {
	uint32_t off, len;
	uint8_t *data;         /* len bytes, owned */
};

struct pb_reasm_dg {
	uint8_t key[KEY_LEN];
	uint32_t hash;
	uint32_t hnext;        /* hash chain, or the free list */
	uint32_t older, newer; /* age list */
	int64_t deadline;      /* capture time it expires at */
	uint8_t *hdr;          /* offset-0 fragment's unfragmentable part */
	uint32_t hdr_len;
	uint32_t nh_off;       /* IPv6: the next-header byte naming 44 */
	uint8_t next;          /* IPv6: offset-0 fragment header's next */
	uint8_t has_end;
	uint32_t end;          /* data length, once MF=0 was seen */
	uint32_t hi;           /* highest byte end held */
	uint32_t have;         /* bytes held (pieces are disjoint) */
	uint32_t n;            /* pieces held */
	uint64_t bytes;        /* have + hdr_len: counted in max_bytes */
	uint32_t frames;       /* fragments offered to it, as frames */
	uint64_t wire;         /* and their frame_len */
};

/* What a fragment would do to a datagram (dg_inspect). */
struct walk {
	uint32_t covered;      /* of its bytes, already held */
	uint32_t fresh;        /* not held yet */
	uint32_t gaps;         /* ranges those fresh bytes form */
	int differs;           /* a held byte differs from the fragment's */
	int exact;             /* a held piece has its offset and length */
};

/* Names of the PB_REASM_* bits, in bit order. */
static const char *const an_names[PB_REASM_N_ANOMALIES] = {
	"FRAG_OVERLAP", "FRAG_OVERLAP_CONFLICT", "FRAG_DUPLICATE",
	"FRAG_TOO_BIG", "FRAG_TINY_FIRST", "FRAG_TCP_OFFSET_ONE",
	"FRAG_MALFORMED", "FRAG_TOO_MANY", "FRAG_EVICTED", "FRAG_DROPPED",
	"FRAG_NOMEM",
};

const char *pb_reasm_anomaly_name(unsigned bit)
{
	unsigned i;

	/* one bit at a time; a combination has no name */
	for (i = 0; i < PB_REASM_N_ANOMALIES; i++)
		if (bit == 1u << i)
			return an_names[i];
	return "UNKNOWN";
}

/* ---- the table ---- */

static struct pb_reasm_piece *dg_pieces(struct pb_reasm *r, const struct pb_reasm_dg *dg)
{
	/* each slot owns max_fragments entries of the slab */
	return r->pieces + (size_t)(dg - r->dg) * r->lim.max_fragments;
}

/* A 64-bit multiply-xorshift over the key's words.  Native byte order:
 * nothing written depends on the hash, only lookups do. */
static uint32_t key_hash(const uint8_t *k)
{
	uint64_t h = UINT64_C(0x243f6a8885a308d3), w;
	size_t i;

	for (i = 0; i < KEY_LEN; i += 8) {
		memcpy(&w, k + i, 8);
		h ^= w;
		h *= UINT64_C(0x9e3779b97f4a7c15);
		h ^= h >> 29;
	}
	h ^= h >> 32;
	return (uint32_t)h;
}

/* The RFCs' key: IPv4 (src, dst, protocol, id), IPv6 (src, dst, id), and
 * the version so the two never meet.  A byte string, compared whole. */
static void key_make(uint8_t *k, const struct pb_reasm_frag *f)
{
	size_t alen = f->version == 4 ? 4 : 16;

	memset(k, 0, KEY_LEN);
	k[0] = f->version;
	/* RFC 8200: the next header may differ between fragments */
	k[1] = f->version == 4 ? f->proto : 0;
	k[4] = (uint8_t)(f->id >> 24);
	k[5] = (uint8_t)(f->id >> 16);
	k[6] = (uint8_t)(f->id >> 8);
	k[7] = (uint8_t)f->id;
	memcpy(k + 8, f->src, alen);
	memcpy(k + 24, f->dst, alen);
}

static uint32_t dg_lookup(const struct pb_reasm *r, const uint8_t *k, uint32_t h)
{
	uint32_t i;

	/* the chain holds only used slots, at most max_datagrams */
	for (i = r->bucket[h & r->mask]; i != NIL; i = r->dg[i].hnext)
		if (r->dg[i].hash == h && !memcmp(r->dg[i].key, k, KEY_LEN))
			return i;
	return NIL;
}

/* Take a free slot for key k (the caller made sure there is one), and
 * make it the newest on the age list. */
static uint32_t dg_new(struct pb_reasm *r, const uint8_t *k, uint32_t h,
		       int64_t now_ns)
{
	uint32_t i = r->free_head;
	struct pb_reasm_dg *dg = &r->dg[i];

	r->free_head = dg->hnext;
	memset(dg, 0, sizeof(*dg));
	memcpy(dg->key, k, KEY_LEN);
	dg->hash = h;
	/* push on its hash chain */
	dg->hnext = r->bucket[h & r->mask];
	r->bucket[h & r->mask] = i;
	/* append to the age list */
	dg->older = r->age_tail;
	dg->newer = NIL;
	if (r->age_tail != NIL)
		r->dg[r->age_tail].newer = i;
	else
		r->age_head = i;
	r->age_tail = i;
	/* the timer starts with the first fragment; saturate, never wrap */
	dg->deadline = now_ns > INT64_MAX - r->lim.timeout_ns ?
		INT64_MAX : now_ns + r->lim.timeout_ns;
	if (++r->st.held_datagrams > r->st.peak_datagrams)
		r->st.peak_datagrams = r->st.held_datagrams;
	return i;
}

/* Free what slot i holds and return it to the free list. */
static void dg_drop(struct pb_reasm *r, uint32_t i)
{
	struct pb_reasm_dg *dg = &r->dg[i];
	struct pb_reasm_piece *pc = dg_pieces(r, dg);
	uint32_t *link, k;

	for (k = 0; k < dg->n; k++)
		free(pc[k].data);
	free(dg->hdr);
	r->st.frames_dropped += dg->frames; /* 0 once rebuilt */
	r->st.held_bytes -= dg->bytes;
	r->st.held_datagrams--;
	/* unlink from the hash chain (singly linked: walk to it) */
	for (link = &r->bucket[dg->hash & r->mask]; *link != NIL;
	     link = &r->dg[*link].hnext) {
		if (*link == i) {
			*link = dg->hnext;
			break;
		}
	}
	/* and from the age list */
	if (dg->older != NIL)
		r->dg[dg->older].newer = dg->newer;
	else
		r->age_head = dg->newer;
	if (dg->newer != NIL)
		r->dg[dg->newer].older = dg->older;
	else
		r->age_tail = dg->older;
	/* a cleared slot heads the free list */
	memset(dg, 0, sizeof(*dg));
	dg->hnext = r->free_head;
	r->free_head = i;
}

/* Evict the oldest datagram other than keep (NIL: any); 0 or -1. */
static int evict_oldest(struct pb_reasm *r, uint32_t keep, unsigned *an)
{
	uint32_t v = r->age_head;

	if (v != NIL && v == keep)
		v = r->dg[v].newer;
	if (v == NIL)
		return -1;
	dg_drop(r, v);
	r->st.evicted_for_limits++;
	*an |= PB_REASM_EVICTED;
	return 0;
}

/* Make room for need more bytes in datagram keep, evicting others, oldest
 * first.  -1 when keep alone would pass max_bytes: then nothing is
 * evicted, so one oversized datagram cannot flush the table. */
static int make_room(struct pb_reasm *r, uint32_t keep, uint64_t need, unsigned *an)
{
	if (need > r->lim.max_bytes - r->dg[keep].bytes)
		return -1;
	/* each step frees a datagram, so this ends within max_datagrams */
	while (r->st.held_bytes + need > r->lim.max_bytes)
		if (evict_oldest(r, keep, an) < 0)
			return -1;
	return 0;
}

int pb_reasm_init(struct pb_reasm *r, const struct pb_reasm_limits *l)
{
	uint32_t nb = 1, i;

	/* safe to release from here on, whatever fails */
	memset(r, 0, sizeof(*r));
	r->free_head = r->age_head = r->age_tail = NIL;
	r->lim.max_datagrams = l && l->max_datagrams ? l->max_datagrams : PB_REASM_DEF_DATAGRAMS;
	r->lim.max_bytes = l && l->max_bytes ? l->max_bytes : PB_REASM_DEF_BYTES;
	r->lim.timeout_ns = l && l->timeout_ns ? l->timeout_ns : PB_REASM_DEF_TIMEOUT_NS;
	r->lim.max_fragments = l && l->max_fragments ? l->max_fragments : PB_REASM_DEF_FRAGMENTS;
	/* the fixed tables grow with max_datagrams * max_fragments: cap it */
	if (r->lim.max_datagrams > PB_REASM_MAX_DATAGRAMS ||
	    r->lim.max_fragments > PB_REASM_MAX_FRAGMENTS ||
	    (uint64_t)r->lim.max_datagrams * r->lim.max_fragments > PB_REASM_MAX_PIECES ||
	    r->lim.timeout_ns < 0)
		return PB_EUSAGE;
	/* buckets: a power of two at least twice the slots (load <= 1/2) */
	while (nb < 2 * r->lim.max_datagrams)
		nb *= 2;
	r->mask = nb - 1;
	r->dg = calloc(r->lim.max_datagrams, sizeof(*r->dg));
	r->pieces = calloc((size_t)r->lim.max_datagrams * r->lim.max_fragments,
			   sizeof(*r->pieces));
	r->scratch = calloc(r->lim.max_fragments, sizeof(*r->scratch));
	r->bucket = malloc((size_t)nb * sizeof(*r->bucket));
	r->out = malloc(PB_REASM_OUT_MAX);
	if (!r->dg || !r->pieces || !r->scratch || !r->bucket || !r->out) {
		pb_reasm_release(r);
		return PB_ENOMEM;
	}
	for (i = 0; i < nb; i++)
		r->bucket[i] = NIL;
	/* every slot starts on the free list, lowest index first */
	for (i = r->lim.max_datagrams; i-- > 0;) {
		r->dg[i].hnext = r->free_head;
		r->free_head = i;
	}
	return 0;
}

void pb_reasm_release(struct pb_reasm *r)
{
	/* dropping from the head empties the age list, one slot a step */
	if (r->dg)
		while (r->age_head != NIL)
			dg_drop(r, r->age_head);
	free(r->dg);
	free(r->pieces);
	free(r->scratch);
	free(r->bucket);
	free(r->out);
	r->dg = NULL;
	r->pieces = r->scratch = NULL;
	r->bucket = NULL;
	r->out = NULL;
	r->free_head = r->age_head = r->age_tail = NIL;
}

void pb_reasm_expire(struct pb_reasm *r, int64_t now_ns)
{
	/* oldest first; each step discards one, so the cost is what expires */
	while (r->age_head != NIL && now_ns >= r->dg[r->age_head].deadline) {
		dg_drop(r, r->age_head);
		r->st.timed_out++;
	}
}

/* ---- one fragment ---- */

/* Extension headers with the (next, length in 8-octet units) form that
 * may stand before a fragment header, as in ip.c. */
static int ip6_generic_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 139 || nh == 140 ||
	       nh == 253 || nh == 254;
}

/* Walk an IPv6 unfragmentable part to the next-header byte that names the
 * fragment header; its offset in *nh_off, or -1 when the chain does not
 * end exactly at the end of the part with 44. */
static int ip6_unfrag_walk(const uint8_t *h, size_t n, size_t *nh_off)
{
	struct pb_cur c;
	uint8_t nh = h[6];
	size_t at = 6;

	pb_cur_init(&c, h + 40, n - 40);
	/* every header consumes at least 8 bytes: bounded by n */
	while (pb_cur_left(&c) > 0) {
		uint8_t next, len;
		size_t sz;

		/* only an extension header can stand before 44 */
		if (!ip6_generic_ext(nh) && nh != 51)
			return -1;
		at = 40 + pb_cur_offset(&c);
		next = pb_cur_u8(&c);
		len = pb_cur_u8(&c);
		/* AH counts 4-octet units less 2 (RFC 4302), others 8 less 1 */
		sz = nh == 51 ? ((size_t)len + 2) * 4 : ((size_t)len + 1) * 8;
		if (!pb_cur_ok(&c) || sz - 2 > pb_cur_left(&c))
			return -1;
		pb_cur_skip(&c, sz - 2);
		nh = next;
	}
	if (nh != 44)
		return -1;
	*nh_off = at;
	return 0;
}

/* Checks that need only the fragment itself.  0, or -1: malformed.
 * Nothing is read beyond the lengths the caller gave. */
static int frag_check(const struct pb_reasm_frag *f, size_t *nh_off)
{
	if (!f->src || !f->dst || !f->hdr || !f->data)
		return -1;
	/* an empty fragment carries nothing (Linux drops it too) */
	if (f->data_len == 0 || f->data_len > IP_MAXLEN)
		return -1;
	/* offsets come in 8-byte units, 13 bits of them */
	if (f->offset % 8 || f->offset > MAX_OFFSET)
		return -1;
	/* bytes past 65535: no offset field can describe them (ping of death) */
	if (f->data_len > IP_MAXLEN - f->offset)
		return -1;
	/* all but the last fragment hold a multiple of 8 (RFC 8200 4.5) */
	if (f->more && f->data_len % 8)
		return -1;
	if (f->version == 4) {
		/* a 16-bit id; a header of 20-60 bytes that says so */
		if (f->id > 0xffff || f->hdr_len < 20 || f->hdr_len > 60)
			return -1;
		if (f->hdr[0] >> 4 != 4 || (size_t)(f->hdr[0] & 0x0f) * 4 != f->hdr_len)
			return -1;
		return 0;
	}
	if (f->version == 6) {
		/* the rebuilt datagram must fit PB_REASM_OUT_MAX (checked
		 * again with the data); the chain must end in 44 */
		if (f->hdr_len < 40 || f->hdr_len > PB_REASM_OUT_MAX || f->hdr[0] >> 4 != 6)
			return -1;
		return ip6_unfrag_walk(f->hdr, f->hdr_len, nh_off);
	}
	return -1;
}

/* RFC 1858 3.1 / RFC 7112: the first fragment is too short for the
 * transport header (TCP: 20 bytes and the options its data offset
 * claims; UDP: 8), so filters that look at ports or flags see nothing. */
static int frag_tiny(const struct pb_reasm_frag *f)
{
	if (f->proto == 6) {
		if (f->data_len < 20)
			return 1;
		/* byte 12, high nibble: the TCP header length in words */
		return (size_t)(f->data[12] >> 4) * 4 > f->data_len;
	}
	/* with MF=1 the length is a non-zero multiple of 8, so this never
	 * fires today; kept so the rule reads whole if that check moves */
	if (f->proto == 17)
		return f->data_len < 8;
	return 0;
}

/* Lay out one datagram's header in r->out, fixed for data_len bytes of
 * data that the caller copies after it.  Returns the header length. */
static size_t rebuild_header(struct pb_reasm *r, int version, const uint8_t *hdr,
			     size_t hdr_len, size_t nh_off, uint8_t next,
			     size_t data_len)
{
	uint8_t *o = r->out;

	memcpy(o, hdr, hdr_len);
	if (version == 4) {
		size_t total = hdr_len + data_len, k;
		uint32_t sum = 0;

		o[2] = (uint8_t)(total >> 8);
		o[3] = (uint8_t)total;
		/* keep RF and DF; MF and the offset go */
		o[6] &= 0xc0;
		o[7] = 0;
		/* the header checksum over the header as rebuilt: a pcap
		 * written from it should not carry a checksum known wrong */
		o[10] = o[11] = 0;
		for (k = 0; k + 1 < hdr_len; k += 2)
			sum += (uint32_t)o[k] << 8 | o[k + 1];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		o[10] = (uint8_t)(~sum >> 8);
		o[11] = (uint8_t)~sum;
	} else {
		/* the payload length counts the extension headers kept */
		size_t plen = hdr_len - 40 + data_len;

		o[4] = (uint8_t)(plen >> 8);
		o[5] = (uint8_t)plen;
		/* the fragment header goes: whoever named it names its next */
		o[nh_off] = next;
	}
	return hdr_len;
}

/* What [f->offset, end) would do to the held pieces: bytes already held,
 * whether any differ, and the holes it would fill. */
static void dg_inspect(struct pb_reasm *r, struct pb_reasm_dg *dg,
		       const struct pb_reasm_frag *f, struct walk *w)
{
	const struct pb_reasm_piece *pc = dg_pieces(r, dg);
	uint32_t off = f->offset, end = off + (uint32_t)f->data_len;
	uint32_t pos = off, i = 0;

	memset(w, 0, sizeof(*w));
	/* skip the pieces that end before the fragment starts */
	while (i < dg->n && pc[i].off + pc[i].len <= off)
		i++;
	/* invariant: pieces before i end at or before pos, piece i after */
	while (pos < end) {
		uint32_t pend, oend;

		if (i == dg->n || pc[i].off > pos) {
			/* a hole [pos, next piece or end) */
			uint32_t gend = i < dg->n && pc[i].off < end ? pc[i].off : end;

			w->fresh += gend - pos;
			w->gaps++;
			pos = gend;
			continue;
		}
		/* held bytes [pos, min(end, piece end)): compare them */
		pend = pc[i].off + pc[i].len;
		oend = pend < end ? pend : end;
		if (pc[i].off == off && pc[i].len == f->data_len)
			w->exact = 1;
		if (memcmp(pc[i].data + (pos - pc[i].off), f->data + (pos - off),
			   oend - pos))
			w->differs = 1;
		w->covered += oend - pos;
		pos = pend;
		i++;
	}
}

/*
 * Copy the holes f fills in as new pieces, merging them with the held ones
 * through r->scratch: one pass, O(pieces), whatever the overlap.  The
 * caller checked max_fragments and max_bytes.  On a failed malloc the
 * merge still completes without the rest, so the slot stays consistent
 * for the caller to drop; PB_ENOMEM.
 */
static int dg_fill(struct pb_reasm *r, struct pb_reasm_dg *dg,
		   const struct pb_reasm_frag *f)
{
	struct pb_reasm_piece *pc = dg_pieces(r, dg), *m = r->scratch;
	uint32_t off = f->offset, end = off + (uint32_t)f->data_len;
	uint32_t pos = off, i = 0, k = 0;
	int rc = 0;

	/* the pieces before the fragment, as they are */
	while (i < dg->n && pc[i].off + pc[i].len <= off)
		m[k++] = pc[i++];
	/* k + holes left <= n + gaps <= max_fragments: m never overflows */
	while (pos < end) {
		uint32_t gend;
		uint8_t *copy;

		if (i < dg->n && pc[i].off <= pos) {
			/* held: first wins, keep it */
			pos = pc[i].off + pc[i].len;
			m[k++] = pc[i++];
			continue;
		}
		gend = i < dg->n && pc[i].off < end ? pc[i].off : end;
		copy = malloc(gend - pos);
		if (!copy) {
			rc = PB_ENOMEM;
			break;
		}
		memcpy(copy, f->data + (pos - off), gend - pos);
		m[k].off = pos;
		m[k].len = gend - pos;
		m[k++].data = copy;
		dg->have += gend - pos;
		dg->bytes += gend - pos;
		r->st.held_bytes += gend - pos;
		pos = gend;
	}
	/* the pieces after it, and back into the slot */
	while (i < dg->n)
		m[k++] = pc[i++];
	memcpy(pc, m, (size_t)k * sizeof(*pc));
	dg->n = k;
	return rc;
}

/*
 * Add f to datagram i.  1: complete; 0: held (or nothing to add); < 0: the
 * caller drops the datagram.  Counts and anomaly bits are set here.
 */
static int dg_add(struct pb_reasm *r, uint32_t i, const struct pb_reasm_frag *f,
		  size_t nh_off, unsigned *an)
{
	struct pb_reasm_dg *dg = &r->dg[i];
	uint32_t end = f->offset + (uint32_t)f->data_len;
	uint32_t hi = dg->hi > end ? dg->hi : end;
	size_t extra; /* what the header adds to the length field's count */
	uint64_t need;
	struct walk w;
	int news_end = !f->more && !dg->has_end;

	/* The end: one, and nothing past it (RFC 791: MF=0 fixes the total
	 * length).  A second end or data past it: which is the lie cannot
	 * be told, so the datagram goes. */
	if ((!f->more && ((dg->has_end && dg->end != end) || dg->hi > end)) ||
	    (f->more && dg->has_end && end > dg->end)) {
		r->st.bad++;
		*an |= PB_REASM_MALFORMED;
		return PB_EINVAL;
	}
	/* The rebuilt length field, with the header that will be used: the
	 * first offset-0 fragment's, or for now this one's. */
	if (dg->hdr)
		extra = f->version == 4 ? dg->hdr_len : dg->hdr_len - 40u;
	else
		extra = f->version == 4 ? f->hdr_len : f->hdr_len - 40;
	if (extra + hi > IP_MAXLEN) {
		r->st.too_big++;
		*an |= PB_REASM_TOO_BIG;
		return PB_ETOOBIG;
	}
	dg_inspect(r, dg, f, &w);
	if (w.covered) {
		/* Nothing new and nothing different: a duplicate.  For IPv6
		 * only an exact repeat of one fragment (RFC 8200 4.5). */
		if (!w.fresh && !w.differs && !news_end && (f->version == 4 || w.exact)) {
			r->st.duplicates++;
			*an |= PB_REASM_DUPLICATE;
			return 0;
		}
		r->st.overlaps++;
		*an |= PB_REASM_OVERLAP;
		if (w.differs) {
			r->st.overlap_conflicts++;
			*an |= PB_REASM_CONFLICT;
		}
		/* RFC 5722: any other overlap discards the IPv6 datagram */
		if (f->version == 6) {
			r->st.overlap_drops++;
			return PB_EINVAL;
		}
		/* IPv4, first wins: only the holes are filled, below */
	}
	/* each hole becomes a piece: at most max_fragments of them */
	if (dg->n + w.gaps > r->lim.max_fragments) {
		r->st.too_many_fragments++;
		*an |= PB_REASM_TOO_MANY;
		return PB_ENOMEM;
	}
	/* Room for the fresh bytes and, from the first offset-0 fragment,
	 * the header copy, before anything is allocated. */
	need = w.fresh + (f->offset == 0 && !dg->hdr ? f->hdr_len : 0);
	if (need && make_room(r, i, need, an) < 0) {
		r->st.evicted_for_limits++;
		*an |= PB_REASM_NOMEM;
		return PB_ENOMEM;
	}
	if (f->offset == 0 && !dg->hdr) {
		/* RFC 791 and RFC 8200: the header comes from offset 0 */
		dg->hdr = malloc(f->hdr_len);
		if (!dg->hdr)
			goto nomem;
		memcpy(dg->hdr, f->hdr, f->hdr_len);
		dg->hdr_len = (uint32_t)f->hdr_len;
		dg->nh_off = (uint32_t)nh_off;
		dg->next = f->proto;
		dg->bytes += f->hdr_len;
		r->st.held_bytes += f->hdr_len;
	}
	if (w.fresh && dg_fill(r, dg, f) < 0)
		goto nomem;
	if (r->st.held_bytes > r->st.peak_bytes)
		r->st.peak_bytes = r->st.held_bytes;
	dg->hi = hi;
	if (!f->more) {
		dg->has_end = 1;
		dg->end = end;
	}
	/* disjoint pieces within [0, end) that add up to end cover it */
	return dg->has_end && dg->have == dg->end && dg->hdr;
nomem:
	r->st.alloc_failed++;
	*an |= PB_REASM_NOMEM;
	return PB_ENOMEM;
}

/* Drop the datagram held under f's key, if any: f showed it cannot be
 * rebuilt. */
static void drop_key(struct pb_reasm *r, const struct pb_reasm_frag *f, unsigned *an)
{
	uint8_t key[KEY_LEN];
	uint32_t i;

	key_make(key, f);
	i = dg_lookup(r, key, key_hash(key));
	if (i != NIL) {
		*an |= PB_REASM_DROPPED;
		dg_drop(r, i);
	}
}

/* The datagram in slot i is complete: lay it out in r->out. */
static int dg_finish(struct pb_reasm *r, uint32_t i, const uint8_t **out,
		     size_t *out_len)
{
	struct pb_reasm_dg *dg = &r->dg[i];
	const struct pb_reasm_piece *pc = dg_pieces(r, dg);
	size_t hl, pos = 0;
	uint32_t k;

	hl = rebuild_header(r, dg->key[0], dg->hdr, dg->hdr_len, dg->nh_off,
			    dg->next, dg->end);
	/* the pieces are sorted and disjoint; check they also touch, so a
	 * bug here shows as an error rather than stale bytes */
	for (k = 0; k < dg->n; k++) {
		if (pc[k].off != pos)
			return PB_EINVAL;
		memcpy(r->out + hl + pos, pc[k].data, pc[k].len);
		pos += pc[k].len;
	}
	*out = r->out;
	*out_len = hl + pos;
	return 1;
}

static int reasm_add(struct pb_reasm *r, const struct pb_reasm_frag *f,
		     int64_t now_ns, const uint8_t **out, size_t *out_len,
		     unsigned *an)
{
	uint8_t key[KEY_LEN];
	size_t nh_off = 0, extra;
	uint32_t h, i, end;
	int rc, fresh_dg = 0;

	if (frag_check(f, &nh_off) < 0) {
		r->st.bad++;
		*an |= PB_REASM_MALFORMED;
		return PB_EINVAL;
	}
	end = f->offset + (uint32_t)f->data_len;
	extra = f->version == 4 ? f->hdr_len : f->hdr_len - 40;
	/* RFC 1858 3.2: TCP at offset 8 can rewrite the flags of a header
	 * the first fragment carried (noted; first-wins keeps those) */
	if (f->version == 4 && f->offset == 8 && f->proto == 6) {
		r->st.tcp_offset_one++;
		*an |= PB_REASM_TCP_OFFSET_ONE;
	}
	/* noted and still reassembled: the output shows what was sent */
	if (f->offset == 0 && f->more && frag_tiny(f)) {
		r->st.tiny_first++;
		*an |= PB_REASM_TINY_FIRST;
	}
	if (extra + end > IP_MAXLEN) {
		/* no datagram could hold it (RFC 8200 4.5 checks each
		 * fragment so); refused before taking a slot */
		r->st.too_big++;
		*an |= PB_REASM_TOO_BIG;
		if (f->offset || f->more)
			drop_key(r, f, an);
		return PB_ETOOBIG;
	}
	if (f->offset == 0 && !f->more) {
		/* Whole already: rebuilt at once, apart from anything held
		 * under the same key (RFC 6946). */
		rebuild_header(r, f->version, f->hdr, f->hdr_len, nh_off,
			       f->proto, f->data_len);
		memcpy(r->out + f->hdr_len, f->data, f->data_len);
		*out = r->out;
		*out_len = f->hdr_len + f->data_len;
		r->st.reassembled++;
		r->attached = 1;
		r->done_frames = 1;
		r->done_wire = f->frame_len;
		return 1;
	}
	key_make(key, f);
	h = key_hash(key);
	i = dg_lookup(r, key, h);
	if (i == NIL) {
		/* a fragment bigger than max_bytes never fits: refuse it
		 * before evicting anything for it */
		if (f->data_len + (f->offset == 0 ? f->hdr_len : 0) > r->lim.max_bytes) {
			r->st.evicted_for_limits++;
			*an |= PB_REASM_NOMEM;
			return PB_ENOMEM;
		}
		/* a full table gives up its oldest datagram */
		if (r->st.held_datagrams >= r->lim.max_datagrams)
			evict_oldest(r, NIL, an);
		i = dg_new(r, key, h, now_ns);
		fresh_dg = 1;
	}
	/* from here the frame's fate is its datagram's */
	r->attached = 1;
	r->dg[i].frames++;
	r->dg[i].wire += f->frame_len;
	rc = dg_add(r, i, f, nh_off, an);
	if (rc == 1) {
		/* whole: lay it out, and the slot is free again */
		r->done_frames = r->dg[i].frames;
		r->done_wire = r->dg[i].wire;
		r->dg[i].frames = 0;
		rc = dg_finish(r, i, out, out_len);
		if (rc == 1) {
			r->st.reassembled++;
		} else {
			r->st.bad++; /* cannot happen: pieces are checked */
			r->st.frames_dropped += r->done_frames;
			*an |= PB_REASM_MALFORMED;
		}
		dg_drop(r, i);
		return rc;
	}
	if (rc < 0) {
		/* what was held goes with it */
		if (!fresh_dg)
			*an |= PB_REASM_DROPPED;
		dg_drop(r, i);
	}
	return rc;
}

int pb_reasm_add(struct pb_reasm *r, const struct pb_reasm_frag *f,
		 int64_t now_ns, const uint8_t **out, size_t *out_len,
		 unsigned *anomalies)
{
	unsigned an = 0;
	int rc;

	if (anomalies)
		*anomalies = 0;
	/* a reassembler that failed to init (or was released) has no dg */
	if (!r || !r->dg || !f || !out || !out_len)
		return PB_EUSAGE;
	*out = NULL;
	*out_len = 0;
	r->st.fragments++;
	r->attached = 0;
	r->done_frames = 0;
	r->done_wire = 0;
	/* amortised: each datagram expires once, in age order */
	pb_reasm_expire(r, now_ns);
	rc = reasm_add(r, f, now_ns, out, out_len, &an);
	if (!r->attached)
		r->st.frames_dropped++; /* refused before it was held */
	if (anomalies)
		*anomalies = an;
	return rc;
}
