/*
 * check_reasm.c - IPv4 and IPv6 fragment reassembly (decode/reasm.h): in
 * and out of order, duplicates, overlaps (first wins for IPv4, RFC 5722
 * for IPv6), timeouts on capture time, limits and eviction, hostile
 * lengths and ends, RFC 1858 tiny and offset-8 fragments, the rebuilt
 * IPv6 unfragmentable part, permutations, and memory held under 100k ids.
 *
 * Every fragment is offered from heap copies of exactly its lengths, so a
 * read past what the caller gave shows under valgrind and ASan.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "pb.h"
#include "decode/reasm.h"

#define SEC INT64_C(1000000000)

static const uint8_t src4[4] = { 192, 0, 2, 1 };
static const uint8_t dst4[4] = { 192, 0, 2, 2 };
static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

/* ---- fragments ---- */

/* A fragment and the header bytes it was cut with. */
struct tfrag {
	struct pb_reasm_frag f;
	uint8_t hdr[64];
};

static uint8_t g_pay[65536];            /* the datagrams' payload bytes */
static uint8_t g_got[PB_REASM_OUT_MAX]; /* the last datagram rebuilt */
static size_t g_got_len;
static struct pb_reasm g_r;

static void fill_payload(void)
{
	size_t i;

	for (i = 0; i < sizeof(g_pay); i++)
		g_pay[i] = (uint8_t)(i * 131 + (i >> 8) * 7 + 3);
}

/* IPv4 fragment: IHL 5 (or hlen with NOP options), junk checksum. */
static void mk4h(struct tfrag *t, size_t hlen, uint32_t id, uint8_t proto,
		 uint32_t off, int more, const uint8_t *data, size_t len)
{
	uint8_t *h = t->hdr;
	size_t total = hlen + len;
	uint16_t fo = (uint16_t)(off / 8 | (more ? 0x2000 : 0));

	memset(t, 0, sizeof(*t));
	memset(h, 1, hlen); /* options: NOPs */
	h[0] = (uint8_t)(0x40 | hlen / 4);
	h[1] = 0;
	h[2] = (uint8_t)(total >> 8);
	h[3] = (uint8_t)total;
	h[4] = (uint8_t)(id >> 8);
	h[5] = (uint8_t)id;
	h[6] = (uint8_t)(fo >> 8); /* no DF on fragments */
	h[7] = (uint8_t)fo;
	h[8] = 64;
	h[9] = proto;
	h[10] = 0xbe;
	h[11] = 0xef;
	memcpy(h + 12, src4, 4);
	memcpy(h + 16, dst4, 4);
	t->f.version = 4;
	t->f.proto = proto;
	t->f.more = (uint8_t)more;
	t->f.id = id;
	t->f.src = src4;
	t->f.dst = dst4;
	t->f.hdr = t->hdr;
	t->f.hdr_len = hlen;
	t->f.data = data;
	t->f.data_len = len;
	t->f.offset = off;
}

static void mk4(struct tfrag *t, uint32_t id, uint8_t proto, uint32_t off,
		int more, const uint8_t *data, size_t len)
{
	mk4h(t, 20, id, proto, off, more, data, len);
}

/* IPv6 fragment; with hbh an 8-byte hop-by-hop header (PadN) stands
 * between the IPv6 header and the fragment header. */
static void mk6(struct tfrag *t, int hbh, uint32_t id, uint8_t next,
		uint32_t off, int more, const uint8_t *data, size_t len)
{
	uint8_t *h = t->hdr;
	size_t plen = (hbh ? 8 : 0) + 8 + len;

	memset(t, 0, sizeof(*t));
	h[0] = 0x60;
	h[4] = (uint8_t)(plen >> 8);
	h[5] = (uint8_t)plen;
	h[6] = hbh ? 0 : 44;
	h[7] = 64;
	memcpy(h + 8, src6, 16);
	memcpy(h + 24, dst6, 16);
	if (hbh) {
		h[40] = 44;   /* next: the fragment header */
		h[41] = 0;    /* 8 bytes */
		h[42] = 1;    /* PadN of 4 */
		h[43] = 4;
	}
	t->f.version = 6;
	t->f.proto = next;
	t->f.more = (uint8_t)more;
	t->f.id = id;
	t->f.src = src6;
	t->f.dst = dst6;
	t->f.hdr = t->hdr;
	t->f.hdr_len = hbh ? 48 : 40;
	t->f.data = data;
	t->f.data_len = len;
	t->f.offset = off;
}

static void *dup_exact(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

/* Offer t from exact heap copies; keep what is rebuilt in g_got. */
static int offer_f(const struct pb_reasm_frag *f, int64_t now, unsigned *an)
{
	struct pb_reasm_frag c = *f;
	size_t alen = f->version == 6 ? 16 : 4;
	const uint8_t *out = (const uint8_t *)"x";
	size_t out_len = 99;
	unsigned a = 0xdead;
	int rc;

	c.hdr = dup_exact(f->hdr, f->hdr_len);
	c.data = dup_exact(f->data, f->data_len);
	c.src = dup_exact(f->src, alen);
	c.dst = dup_exact(f->dst, alen);
	rc = pb_reasm_add(&g_r, &c, now, &out, &out_len, &a);
	free((void *)c.hdr);
	free((void *)c.data);
	free((void *)c.src);
	free((void *)c.dst);
	ck_assert_uint_ne(a, 0xdead);
	if (rc == 1) {
		ck_assert_ptr_nonnull(out);
		ck_assert_uint_le(out_len, sizeof(g_got));
		memcpy(g_got, out, out_len);
		g_got_len = out_len;
	} else {
		ck_assert_ptr_null(out);
		ck_assert_uint_eq(out_len, 0);
	}
	/* the limits hold after every call */
	ck_assert_uint_le(g_r.st.held_datagrams, g_r.lim.max_datagrams);
	ck_assert_uint_le(g_r.st.held_bytes, g_r.lim.max_bytes);
	if (an)
		*an = a;
	return rc;
}

static int offer(const struct tfrag *t, int64_t now, unsigned *an)
{
	return offer_f(&t->f, now, an);
}

/* ---- expected datagrams ---- */

static uint16_t ip4_sum(const uint8_t *h, size_t n)
{
	uint32_t s = 0;
	size_t k;

	for (k = 0; k + 1 < n; k += 2)
		s += (uint32_t)h[k] << 8 | h[k + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The IPv4 datagram rebuilt from first's header and len payload bytes. */
static size_t expect4(uint8_t *e, const struct tfrag *first, const uint8_t *pay,
		      size_t len)
{
	size_t hl = first->f.hdr_len, total = hl + len;
	uint16_t s;

	memcpy(e, first->hdr, hl);
	e[2] = (uint8_t)(total >> 8);
	e[3] = (uint8_t)total;
	e[6] &= 0xc0;
	e[7] = 0;
	e[10] = e[11] = 0;
	s = (uint16_t)~ip4_sum(e, hl);
	e[10] = (uint8_t)(s >> 8);
	e[11] = (uint8_t)s;
	memcpy(e + hl, pay, len);
	return total;
}

/* The IPv6 datagram: first's unfragmentable part naming next, then pay. */
static size_t expect6(uint8_t *e, const struct tfrag *first, uint8_t next,
		      const uint8_t *pay, size_t len)
{
	size_t hl = first->f.hdr_len, plen = hl - 40 + len;

	memcpy(e, first->hdr, hl);
	e[4] = (uint8_t)(plen >> 8);
	e[5] = (uint8_t)plen;
	if (hl == 40)
		e[6] = next;
	else
		e[40] = next; /* the hop-by-hop header's next header */
	memcpy(e + hl, pay, len);
	return hl + len;
}

static void assert_got(const uint8_t *e, size_t n)
{
	ck_assert_uint_eq(g_got_len, n);
	ck_assert_mem_eq(g_got, e, n);
}

/* Offer frags in the given order at time now: all held but the last,
 * which completes.  order may be NULL (in order). */
static void offer_all(const struct tfrag *fr, size_t n, const size_t *order, int64_t now)
{
	size_t k;

	for (k = 0; k < n; k++) {
		int rc = offer(&fr[order ? order[k] : k], now, NULL);

		ck_assert_int_eq(rc, k + 1 == n ? 1 : 0);
	}
	ck_assert_uint_eq(g_r.st.held_datagrams, 0);
	ck_assert_uint_eq(g_r.st.held_bytes, 0);
}

/* Cut [0, len) of g_pay into pieces of step bytes (step % 8 == 0). */
static size_t cut4(struct tfrag *fr, size_t max, uint32_t id, uint8_t proto,
		   size_t len, size_t step)
{
	size_t n = 0, off;

	for (off = 0; off < len; off += step) {
		size_t l = len - off < step ? len - off : step;

		ck_assert_uint_lt(n, max);
		mk4(&fr[n++], id, proto, (uint32_t)off, off + l < len, g_pay + off, l);
	}
	return n;
}

static size_t cut6(struct tfrag *fr, size_t max, int hbh, uint32_t id,
		   uint8_t next, size_t len, size_t step)
{
	size_t n = 0, off;

	for (off = 0; off < len; off += step) {
		size_t l = len - off < step ? len - off : step;

		ck_assert_uint_lt(n, max);
		mk6(&fr[n++], hbh, id, next, (uint32_t)off, off + l < len, g_pay + off, l);
	}
	return n;
}

static void setup(void)
{
	fill_payload();
	ck_assert_int_eq(pb_reasm_init(&g_r, NULL), 0);
	g_got_len = 0;
}

static void setup_limits(const struct pb_reasm_limits *l)
{
	pb_reasm_release(&g_r);
	ck_assert_int_eq(pb_reasm_init(&g_r, l), 0);
}

static void teardown(void)
{
	pb_reasm_release(&g_r);
}

/* ---- order ---- */

START_TEST(test_v4_in_order)
{
	struct tfrag fr[8];
	uint8_t e[256];
	size_t n = cut4(fr, 8, 0x1234, 17, 40, 16), el;

	ck_assert_uint_eq(n, 3);
	offer_all(fr, n, NULL, 5 * SEC);
	el = expect4(e, &fr[0], g_pay, 40);
	assert_got(e, el);
	/* the header: total length, MF and offset cleared, checksum good */
	ck_assert_uint_eq(g_got[2] << 8 | g_got[3], 60);
	ck_assert_uint_eq(g_got[6] & 0x3f, 0);
	ck_assert_uint_eq(g_got[7], 0);
	ck_assert_uint_eq(ip4_sum(g_got, 20), 0xffff);
	ck_assert_uint_eq(g_r.st.fragments, 3);
	ck_assert_uint_eq(g_r.st.reassembled, 1);
	ck_assert_uint_eq(g_r.st.overlaps + g_r.st.duplicates + g_r.st.bad, 0);
	ck_assert_uint_eq(g_r.st.peak_datagrams, 1);
	/* the completing fragment is copied in before the rebuild */
	ck_assert_uint_eq(g_r.st.peak_bytes, 20 + 40);
}
END_TEST

START_TEST(test_v4_out_of_order)
{
	static const size_t orders[][3] = { { 1, 2, 0 }, { 2, 0, 1 }, { 0, 2, 1 }, { 1, 0, 2 } };
	struct tfrag fr[8];
	uint8_t e[256];
	size_t n = cut4(fr, 8, 7, 6, 40, 16), el = expect4(e, &fr[0], g_pay, 40), k;

	for (k = 0; k < sizeof(orders) / sizeof(orders[0]); k++) {
		offer_all(fr, n, orders[k], (int64_t)k * SEC);
		assert_got(e, el);
	}
	ck_assert_uint_eq(g_r.st.reassembled, 4);
}
END_TEST

START_TEST(test_v4_reverse)
{
	struct tfrag fr[8];
	uint8_t e[256];
	size_t order[8], n = cut4(fr, 8, 9, 17, 100, 16), k;

	ck_assert_uint_eq(n, 7);
	for (k = 0; k < n; k++)
		order[k] = n - 1 - k;
	offer_all(fr, n, order, 0);
	assert_got(e, expect4(e, &fr[0], g_pay, 100));
}
END_TEST

/* The header comes from the offset-0 fragment, options and all, even when
 * it arrives last and the others carry a shorter header. */
START_TEST(test_v4_header_from_first)
{
	struct tfrag fr[3];
	uint8_t e[256];

	mk4h(&fr[0], 32, 77, 17, 0, 1, g_pay, 16);
	mk4(&fr[1], 77, 17, 16, 1, g_pay + 16, 16);
	mk4(&fr[2], 77, 17, 32, 0, g_pay + 32, 5);
	ck_assert_int_eq(offer(&fr[2], 0, NULL), 0);
	ck_assert_int_eq(offer(&fr[1], 0, NULL), 0);
	ck_assert_int_eq(offer(&fr[0], 0, NULL), 1);
	assert_got(e, expect4(e, &fr[0], g_pay, 37));
	ck_assert_uint_eq(g_got[0], 0x48);
	ck_assert_uint_eq(ip4_sum(g_got, 32), 0xffff);
}
END_TEST

/* ---- duplicates and overlaps ---- */

START_TEST(test_v4_duplicates)
{
	struct tfrag fr[8];
	uint8_t e[256];
	unsigned an;
	size_t n = cut4(fr, 8, 3, 17, 40, 16);

	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(offer(&fr[0], 0, &an), 0);
	ck_assert_uint_eq(an, 0);
	ck_assert_int_eq(offer(&fr[0], 0, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_DUPLICATE);
	ck_assert_int_eq(offer(&fr[2], 0, &an), 0);
	ck_assert_int_eq(offer(&fr[2], 0, &an), 0); /* the last, again */
	ck_assert_uint_eq(an, PB_REASM_DUPLICATE);
	ck_assert_uint_eq(g_r.st.held_bytes, 20 + 16 + 8);
	ck_assert_int_eq(offer(&fr[1], 0, &an), 1);
	ck_assert_uint_eq(an, 0);
	assert_got(e, expect4(e, &fr[0], g_pay, 40));
	ck_assert_uint_eq(g_r.st.duplicates, 2);
	ck_assert_uint_eq(g_r.st.overlaps, 0);
	ck_assert_uint_eq(g_r.st.overlap_conflicts, 0);
	/* after completion a repeat starts over, and times out */
	ck_assert_int_eq(offer(&fr[1], 0, &an), 0);
	ck_assert_uint_eq(g_r.st.held_datagrams, 1);
	pb_reasm_expire(&g_r, 30 * SEC);
	ck_assert_uint_eq(g_r.st.timed_out, 1);
}
END_TEST

/* IPv4: the bytes that came first win, whatever their offset. */
START_TEST(test_v4_overlap_first_wins)
{
	uint8_t alt[64], want[64], e[256];
	struct tfrag a, b, c, d;
	unsigned an;

	memset(alt, 0xaa, sizeof(alt));
	/* A [0,16), then B [8,24) with different bytes in [8,16) */
	mk4(&a, 11, 17, 0, 1, g_pay, 16);
	memcpy(alt + 8, g_pay + 16, 8);
	mk4(&b, 11, 17, 8, 1, alt, 16);
	mk4(&c, 11, 17, 24, 0, g_pay + 24, 8);
	ck_assert_int_eq(offer(&a, 0, &an), 0);
	ck_assert_int_eq(offer(&b, 0, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_OVERLAP | PB_REASM_CONFLICT);
	ck_assert_int_eq(offer(&c, 0, &an), 1);
	assert_got(e, expect4(e, &a, g_pay, 32));
	ck_assert_uint_eq(g_r.st.overlaps, 1);
	ck_assert_uint_eq(g_r.st.overlap_conflicts, 1);

	/* the other way round: B first, so its bytes [8,16) stay */
	ck_assert_int_eq(offer(&b, 0, NULL), 0);
	ck_assert_int_eq(offer(&a, 0, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_OVERLAP | PB_REASM_CONFLICT);
	ck_assert_int_eq(offer(&c, 0, NULL), 1);
	memcpy(want, g_pay, 32);
	memset(want + 8, 0xaa, 8);
	assert_got(e, expect4(e, &a, want, 32));
	ck_assert_uint_eq(g_r.st.overlaps, 2);
	ck_assert_uint_eq(g_r.st.overlap_conflicts, 2);

	/* an overlap with the same bytes is counted, not a conflict */
	mk4(&b, 11, 17, 8, 1, g_pay + 8, 16);
	ck_assert_int_eq(offer(&a, 0, NULL), 0);
	ck_assert_int_eq(offer(&b, 0, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_OVERLAP);
	/* wholly covered but different: counted, nothing stored */
	mk4(&d, 11, 17, 0, 1, alt, 8);
	ck_assert_int_eq(offer(&d, 0, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_OVERLAP | PB_REASM_CONFLICT);
	ck_assert_uint_eq(g_r.st.held_bytes, 20 + 24);
	/* wholly covered, same bytes, across two held ranges: a duplicate */
	mk4(&d, 11, 17, 0, 1, g_pay, 24);
	ck_assert_int_eq(offer(&d, 0, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_DUPLICATE);
	ck_assert_int_eq(offer(&c, 0, NULL), 1);
	assert_got(e, expect4(e, &a, g_pay, 32));
	ck_assert_uint_eq(g_r.st.overlaps, 4);
	ck_assert_uint_eq(g_r.st.overlap_conflicts, 3);
	ck_assert_uint_eq(g_r.st.duplicates, 1);
	ck_assert_uint_eq(g_r.st.reassembled, 3);
}
END_TEST

/* A fragment inside held bytes that brings the end is news, not a
 * duplicate: it completes the datagram. */
START_TEST(test_v4_covered_end)
{
	struct tfrag a, b;
	uint8_t e[256];
	unsigned an;

	mk4(&a, 12, 17, 0, 1, g_pay, 32);
	mk4(&b, 12, 17, 24, 0, g_pay + 24, 8);
	ck_assert_int_eq(offer(&a, 0, NULL), 0);
	ck_assert_int_eq(offer(&b, 0, &an), 1);
	ck_assert_uint_eq(an, PB_REASM_OVERLAP);
	assert_got(e, expect4(e, &a, g_pay, 32));
}
END_TEST

/* IPv6: an overlap discards the datagram (RFC 5722); an exact duplicate
 * is only counted (RFC 8200 4.5). */
START_TEST(test_v6_overlap_drops)
{
	struct tfrag a, b, c, d;
	uint8_t e[256];
	unsigned an;

	mk6(&a, 0, 0xcafe, 17, 0, 1, g_pay, 16);
	mk6(&b, 0, 0xcafe, 17, 8, 1, g_pay + 8, 16);  /* same bytes, still */
	mk6(&c, 0, 0xcafe, 17, 16, 0, g_pay + 16, 16);
	ck_assert_int_eq(offer(&a, 0, NULL), 0);
	ck_assert_int_eq(offer(&b, 0, &an), PB_EINVAL);
	ck_assert_uint_eq(an, PB_REASM_OVERLAP | PB_REASM_DROPPED);
	ck_assert_uint_eq(g_r.st.overlap_drops, 1);
	ck_assert_uint_eq(g_r.st.overlaps, 1);
	ck_assert_uint_eq(g_r.st.held_datagrams, 0);
	ck_assert_uint_eq(g_r.st.held_bytes, 0);
	/* what follows starts a new datagram that lacks [0,16) */
	ck_assert_int_eq(offer(&c, 0, NULL), 0);
	ck_assert_uint_eq(g_r.st.reassembled, 0);
	pb_reasm_expire(&g_r, INT64_MAX);
	ck_assert_uint_eq(g_r.st.timed_out, 1);

	/* exact duplicates are harmless */
	ck_assert_int_eq(offer(&a, 0, NULL), 0);
	ck_assert_int_eq(offer(&a, 0, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_DUPLICATE);
	ck_assert_int_eq(offer(&c, 0, NULL), 1);
	assert_got(e, expect6(e, &a, 17, g_pay, 32));
	ck_assert_uint_eq(g_r.st.duplicates, 1);

	/* same offset and length, other bytes: an overlap with a conflict */
	memset(e, 0x55, 16);
	mk6(&d, 0, 0xcafe, 17, 0, 1, e, 16);
	ck_assert_int_eq(offer(&a, 0, NULL), 0);
	ck_assert_int_eq(offer(&d, 0, &an), PB_EINVAL);
	ck_assert_uint_eq(an, PB_REASM_OVERLAP | PB_REASM_CONFLICT | PB_REASM_DROPPED);
	/* covered, same bytes, but not one fragment repeated: dropped */
	mk6(&d, 0, 0xcafe, 17, 8, 1, g_pay + 8, 8);
	ck_assert_int_eq(offer(&a, 0, NULL), 0);
	ck_assert_int_eq(offer(&d, 0, &an), PB_EINVAL);
	ck_assert_uint_eq(an, PB_REASM_OVERLAP | PB_REASM_DROPPED);
	ck_assert_uint_eq(g_r.st.overlap_drops, 3);
	ck_assert_uint_eq(g_r.st.overlap_conflicts, 1);
	ck_assert_uint_eq(g_r.st.held_datagrams, 0);
}
END_TEST

/* ---- time ---- */

START_TEST(test_timeout)
{
	struct tfrag fr[8], o[2];
	uint8_t e[256];
	size_t n = cut4(fr, 8, 21, 17, 40, 16);
	int64_t t0 = 1700000000 * SEC;

	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(offer(&fr[0], t0, NULL), 0);
	ck_assert_int_eq(offer(&fr[2], t0 + 10 * SEC, NULL), 0);
	/* the timer runs from the first fragment, not the last */
	pb_reasm_expire(&g_r, t0 + 30 * SEC - 1);
	ck_assert_uint_eq(g_r.st.held_datagrams, 1);
	pb_reasm_expire(&g_r, t0 + 30 * SEC);
	ck_assert_uint_eq(g_r.st.held_datagrams, 0);
	ck_assert_uint_eq(g_r.st.held_bytes, 0);
	ck_assert_uint_eq(g_r.st.timed_out, 1);
	/* the missing fragment now starts a datagram of its own */
	ck_assert_int_eq(offer(&fr[1], t0 + 31 * SEC, NULL), 0);
	ck_assert_uint_eq(g_r.st.reassembled, 0);
	/* expiry through add: a later fragment of another id sweeps it */
	mk4(&o[0], 22, 17, 0, 1, g_pay, 8);
	ck_assert_int_eq(offer(&o[0], t0 + 61 * SEC, NULL), 0);
	ck_assert_uint_eq(g_r.st.timed_out, 2);
	ck_assert_uint_eq(g_r.st.held_datagrams, 1);
	/* and a datagram completed just inside its time is whole (id 22
	 * expires on the way, at +91 s) */
	ck_assert_int_eq(offer(&fr[0], t0 + 62 * SEC, NULL), 0);
	ck_assert_int_eq(offer(&fr[2], t0 + 80 * SEC, NULL), 0);
	ck_assert_int_eq(offer(&fr[1], t0 + 92 * SEC - 1, NULL), 1);
	assert_got(e, expect4(e, &fr[0], g_pay, 40));
	ck_assert_uint_eq(g_r.st.timed_out, 3);
	ck_assert_uint_eq(g_r.st.held_datagrams, 0);
	/* capture time that runs backwards delays expiry, nothing worse:
	 * id 21 (due at +80 s) waits behind id 22 (due at +130 s) */
	ck_assert_int_eq(offer(&o[0], t0 + 100 * SEC, NULL), 0);
	ck_assert_int_eq(offer(&fr[0], t0 + 50 * SEC, NULL), 0);
	pb_reasm_expire(&g_r, t0 + 100 * SEC);
	ck_assert_uint_eq(g_r.st.held_datagrams, 2);
	pb_reasm_expire(&g_r, t0 + 130 * SEC);
	ck_assert_uint_eq(g_r.st.held_datagrams, 0);
	ck_assert_uint_eq(g_r.st.timed_out, 5);
	/* near the end of time the deadline saturates; INT64_MAX flushes */
	ck_assert_int_eq(offer(&fr[0], INT64_MAX - 5, NULL), 0);
	pb_reasm_expire(&g_r, INT64_MAX - 1);
	ck_assert_uint_eq(g_r.st.held_datagrams, 1);
	pb_reasm_expire(&g_r, INT64_MAX);
	ck_assert_uint_eq(g_r.st.held_datagrams, 0);
	ck_assert_uint_eq(g_r.st.timed_out, 6);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_max_datagrams)
{
	struct pb_reasm_limits l = { .max_datagrams = 4 };
	struct tfrag a[6], z[6];
	uint8_t e[256];
	unsigned an;
	uint32_t id;

	setup_limits(&l);
	for (id = 1; id <= 5; id++) {
		mk4(&a[id], id, 17, 0, 1, g_pay, 16);
		mk4(&z[id], id, 17, 16, 0, g_pay + 16, 8);
		ck_assert_int_eq(offer(&a[id], id * SEC, &an), 0);
		ck_assert_uint_eq(an, id == 5 ? PB_REASM_EVICTED : 0);
	}
	ck_assert_uint_eq(g_r.st.held_datagrams, 4);
	ck_assert_uint_eq(g_r.st.evicted_for_limits, 1);
	/* id 1 went: its end starts a new datagram, evicting id 2 */
	ck_assert_int_eq(offer(&z[1], 6 * SEC, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_EVICTED);
	ck_assert_uint_eq(g_r.st.evicted_for_limits, 2);
	/* ids 3-5 are whole once they end */
	for (id = 3; id <= 5; id++) {
		ck_assert_int_eq(offer(&z[id], 7 * SEC, &an), 1);
		ck_assert_uint_eq(an, 0);
		assert_got(e, expect4(e, &a[id], g_pay, 24));
	}
	ck_assert_int_eq(offer(&z[2], 8 * SEC, NULL), 0);
	ck_assert_uint_eq(g_r.st.held_datagrams, 2);
	ck_assert_uint_eq(g_r.st.peak_datagrams, 4);
}
END_TEST

START_TEST(test_max_bytes)
{
	struct pb_reasm_limits l = { .max_bytes = 200 };
	struct tfrag a[4], big, more;
	unsigned an;
	uint32_t id;

	setup_limits(&l);
	/* each first fragment holds 20 + 64 = 84 bytes */
	for (id = 1; id <= 3; id++) {
		mk4(&a[id], id, 17, 0, 1, g_pay, 64);
		ck_assert_int_eq(offer(&a[id], id, &an), 0);
		ck_assert_uint_eq(an, id == 3 ? PB_REASM_EVICTED : 0);
	}
	ck_assert_uint_eq(g_r.st.held_datagrams, 2);
	ck_assert_uint_eq(g_r.st.held_bytes, 168);
	ck_assert_uint_eq(g_r.st.evicted_for_limits, 1);
	/* one fragment larger than the cap: refused, nobody evicted */
	mk4(&big, 9, 17, 64, 1, g_pay, 208);
	ck_assert_int_eq(offer(&big, 4, &an), PB_ENOMEM);
	ck_assert_uint_eq(an, PB_REASM_NOMEM);
	ck_assert_uint_eq(g_r.st.held_datagrams, 2);
	/* id 3 could not hold 84 + 120 even alone: it goes, the rest stay */
	mk4(&more, 3, 17, 64, 1, g_pay + 64, 120);
	ck_assert_int_eq(offer(&more, 5, &an), PB_ENOMEM);
	ck_assert_uint_eq(an, PB_REASM_NOMEM | PB_REASM_DROPPED);
	ck_assert_uint_eq(g_r.st.held_datagrams, 1);
	ck_assert_uint_eq(g_r.st.held_bytes, 84);
	/* 84 + 112 = 196 fits beside nothing else: id 2 is evicted for it */
	mk4(&a[1], 1, 17, 0, 1, g_pay, 64);
	ck_assert_int_eq(offer(&a[1], 6, &an), 0);
	mk4(&more, 1, 17, 64, 1, g_pay + 64, 112);
	ck_assert_int_eq(offer(&more, 7, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_EVICTED);
	ck_assert_uint_eq(g_r.st.held_datagrams, 1);
	ck_assert_uint_eq(g_r.st.held_bytes, 196);
	ck_assert_uint_le(g_r.st.peak_bytes, 200);
	/* the datagram that grows is the oldest: the next oldest goes */
	pb_reasm_expire(&g_r, INT64_MAX);
	mk4(&a[1], 1, 17, 0, 1, g_pay, 64);
	mk4(&a[2], 2, 17, 0, 1, g_pay, 64);
	ck_assert_int_eq(offer(&a[1], 10, NULL), 0);
	ck_assert_int_eq(offer(&a[2], 11, NULL), 0);
	ck_assert_int_eq(offer(&more, 12, &an), 0);   /* id 1, 112 more */
	ck_assert_uint_eq(an, PB_REASM_EVICTED);
	ck_assert_uint_eq(g_r.st.held_datagrams, 1);
	ck_assert_uint_eq(g_r.st.held_bytes, 196);
	/* exactly at the cap still fits: 196 + 4 = 200, and completes */
	mk4(&more, 1, 17, 176, 0, g_pay + 176, 4);
	ck_assert_int_eq(offer(&more, 13, &an), 1);
	ck_assert_uint_eq(an, 0);
	ck_assert_uint_eq(g_r.st.peak_bytes, 200);
	ck_assert_uint_eq(g_r.st.evicted_for_limits, 5);
}
END_TEST

START_TEST(test_max_fragments)
{
	struct pb_reasm_limits l = { .max_fragments = 4 };
	struct tfrag f;
	unsigned an;
	uint32_t k;

	setup_limits(&l);
	/* four separate ranges fit, a fifth does not */
	for (k = 0; k < 4; k++) {
		mk4(&f, 5, 17, k * 16, 1, g_pay + k * 16, 8);
		ck_assert_int_eq(offer(&f, 0, NULL), 0);
	}
	mk4(&f, 5, 17, 64, 1, g_pay + 64, 8);
	ck_assert_int_eq(offer(&f, 0, &an), PB_ENOMEM);
	ck_assert_uint_eq(an, PB_REASM_TOO_MANY | PB_REASM_DROPPED);
	ck_assert_uint_eq(g_r.st.too_many_fragments, 1);
	ck_assert_uint_eq(g_r.st.held_datagrams, 0);
	/* an overlap that leaves three holes filled counts them all */
	mk4(&f, 6, 17, 8, 1, g_pay + 8, 8);
	ck_assert_int_eq(offer(&f, 0, NULL), 0);
	mk4(&f, 6, 17, 24, 1, g_pay + 24, 8);
	ck_assert_int_eq(offer(&f, 0, NULL), 0);
	mk4(&f, 6, 17, 0, 1, g_pay, 40);
	ck_assert_int_eq(offer(&f, 0, &an), PB_ENOMEM);
	ck_assert_uint_eq(an, PB_REASM_OVERLAP | PB_REASM_TOO_MANY | PB_REASM_DROPPED);
	ck_assert_uint_eq(g_r.st.too_many_fragments, 2);
}
END_TEST

/* ---- hostile lengths ---- */

START_TEST(test_too_big)
{
	struct tfrag f, g;
	unsigned an;

	/* 20 + 65512 + 8 > 65535 */
	mk4(&f, 1, 17, 65512, 0, g_pay, 8);
	ck_assert_int_eq(offer(&f, 0, &an), PB_ETOOBIG);
	ck_assert_uint_eq(an, PB_REASM_TOO_BIG);
	/* the largest that fits: 20 + 65504 + 8 = 65532; then a larger
	 * end drops what was held */
	mk4(&f, 1, 17, 65504, 1, g_pay, 8);
	ck_assert_int_eq(offer(&f, 0, &an), 0);
	mk4(&g, 1, 17, 65512, 0, g_pay, 8);
	ck_assert_int_eq(offer(&g, 0, &an), PB_ETOOBIG);
	ck_assert_uint_eq(an, PB_REASM_TOO_BIG | PB_REASM_DROPPED);
	ck_assert_uint_eq(g_r.st.held_datagrams, 0);
	/* past 65535 with no header at all is malformed (ping of death) */
	mk4(&f, 1, 17, 65528, 0, g_pay, 16);
	ck_assert_int_eq(offer(&f, 0, &an), PB_EINVAL);
	ck_assert_uint_eq(an, PB_REASM_MALFORMED);
	/* the first fragment's longer header decides: 60 + 65488 + 8 */
	mk4(&f, 2, 17, 65480, 0, g_pay, 8);
	ck_assert_int_eq(offer(&f, 0, &an), 0);
	mk4h(&g, 60, 2, 17, 0, 1, g_pay, 8);
	ck_assert_int_eq(offer(&g, 0, &an), PB_ETOOBIG);
	ck_assert_uint_eq(an, PB_REASM_TOO_BIG | PB_REASM_DROPPED);
	/* IPv6: the payload length counts the extension headers */
	mk6(&f, 0, 3, 17, 65520, 0, g_pay, 8);
	ck_assert_int_eq(offer(&f, 0, &an), 0);
	mk6(&g, 1, 4, 17, 65520, 0, g_pay, 8);
	ck_assert_int_eq(offer(&g, 0, &an), PB_ETOOBIG);
	mk6(&g, 0, 5, 17, 65528, 0, g_pay, 8);
	ck_assert_int_eq(offer(&g, 0, &an), PB_EINVAL);
	ck_assert_uint_eq(g_r.st.too_big, 4);
	ck_assert_uint_eq(g_r.st.bad, 2);
	ck_assert_uint_eq(g_r.st.held_datagrams, 1);
}
END_TEST

START_TEST(test_malformed_ends)
{
	struct tfrag a, b, c;
	uint8_t e[256];
	unsigned an;

	/* a second, different end */
	mk4(&a, 1, 17, 0, 1, g_pay, 16);
	mk4(&b, 1, 17, 16, 0, g_pay + 16, 8);
	mk4(&c, 1, 17, 16, 0, g_pay + 16, 16);
	ck_assert_int_eq(offer(&b, 0, NULL), 0);
	ck_assert_int_eq(offer(&c, 0, &an), PB_EINVAL);
	ck_assert_uint_eq(an, PB_REASM_MALFORMED | PB_REASM_DROPPED);
	ck_assert_uint_eq(g_r.st.held_datagrams, 0);
	/* bytes past the known end */
	mk4(&c, 1, 17, 24, 1, g_pay + 24, 8);
	ck_assert_int_eq(offer(&b, 0, NULL), 0);
	ck_assert_int_eq(offer(&c, 0, &an), PB_EINVAL);
	ck_assert_uint_eq(an, PB_REASM_MALFORMED | PB_REASM_DROPPED);
	/* an end before bytes already held */
	mk4(&c, 1, 17, 16, 1, g_pay + 16, 16);
	mk4(&b, 1, 17, 8, 0, g_pay + 8, 8);
	ck_assert_int_eq(offer(&c, 0, NULL), 0);
	ck_assert_int_eq(offer(&b, 0, &an), PB_EINVAL);
	ck_assert_uint_eq(an, PB_REASM_MALFORMED | PB_REASM_DROPPED);
	ck_assert_uint_eq(g_r.st.bad, 3);
	ck_assert_uint_eq(g_r.st.held_datagrams, 0);

	/* Broken in itself: only that fragment goes, the datagram stays. */
	ck_assert_int_eq(offer(&a, 0, NULL), 0);
	mk4(&c, 1, 17, 16, 1, g_pay + 16, 12);      /* MF, not 8n */
	ck_assert_int_eq(offer(&c, 0, &an), PB_EINVAL);
	ck_assert_uint_eq(an, PB_REASM_MALFORMED);
	mk4(&c, 1, 17, 20, 0, g_pay + 20, 4);       /* offset not 8n */
	ck_assert_int_eq(offer(&c, 0, &an), PB_EINVAL);
	mk4(&c, 1, 17, 16, 0, g_pay + 16, 0);       /* empty */
	ck_assert_int_eq(offer(&c, 0, &an), PB_EINVAL);
	ck_assert_uint_eq(g_r.st.held_datagrams, 1);
	mk4(&c, 1, 17, 16, 0, g_pay + 16, 4);
	ck_assert_int_eq(offer(&c, 0, &an), 1);
	assert_got(e, expect4(e, &a, g_pay, 20));
	ck_assert_uint_eq(g_r.st.bad, 6);
}
END_TEST

/* Arguments that contradict themselves are refused, read no further. */
START_TEST(test_bad_arguments)
{
	struct tfrag f;
	const uint8_t *out;
	size_t out_len;
	unsigned an;

	mk4(&f, 1, 17, 0, 1, g_pay, 8);
	f.hdr[0] = 0x46;                      /* IHL 6, 20 bytes given */
	ck_assert_int_eq(offer(&f, 0, &an), PB_EINVAL);
	mk4(&f, 1, 17, 0, 1, g_pay, 8);
	f.hdr[0] = 0x65;                      /* version 6 in an IPv4 header */
	ck_assert_int_eq(offer(&f, 0, &an), PB_EINVAL);
	mk4(&f, 0x10000, 17, 0, 1, g_pay, 8); /* a 17-bit IPv4 id */
	ck_assert_int_eq(offer(&f, 0, &an), PB_EINVAL);
	mk4(&f, 1, 17, 0, 1, g_pay, 8);
	f.f.hdr_len = 16;
	ck_assert_int_eq(offer(&f, 0, &an), PB_EINVAL);
	mk4(&f, 1, 17, 0, 1, g_pay, 8);
	f.f.version = 5;
	ck_assert_int_eq(offer(&f, 0, &an), PB_EINVAL);
	ck_assert_uint_eq(an, PB_REASM_MALFORMED);
	/* IPv6: the chain must end exactly at hdr_len, naming 44 */
	mk6(&f, 0, 1, 17, 0, 1, g_pay, 8);
	f.hdr[6] = 17;
	ck_assert_int_eq(offer(&f, 0, &an), PB_EINVAL);
	mk6(&f, 1, 1, 17, 0, 1, g_pay, 8);
	f.hdr[41] = 1;                        /* hop-by-hop of 16 in 8 */
	ck_assert_int_eq(offer(&f, 0, &an), PB_EINVAL);
	mk6(&f, 1, 1, 17, 0, 1, g_pay, 8);
	f.f.hdr_len = 44;                     /* cut inside it */
	ck_assert_int_eq(offer(&f, 0, &an), PB_EINVAL);
	mk6(&f, 1, 1, 17, 0, 1, g_pay, 8);
	f.hdr[40] = 6;                        /* names TCP, not 44 */
	ck_assert_int_eq(offer(&f, 0, &an), PB_EINVAL);
	mk6(&f, 0, 1, 17, 0, 1, g_pay, 8);
	f.f.hdr_len = 39;
	ck_assert_int_eq(offer(&f, 0, &an), PB_EINVAL);
	ck_assert_uint_eq(g_r.st.bad, 10);
	ck_assert_uint_eq(g_r.st.held_datagrams, 0);
	/* the caller's own mistakes */
	mk4(&f, 1, 17, 0, 1, g_pay, 8);
	ck_assert_int_eq(pb_reasm_add(&g_r, NULL, 0, &out, &out_len, &an), PB_EUSAGE);
	ck_assert_int_eq(pb_reasm_add(&g_r, &f.f, 0, NULL, &out_len, NULL), PB_EUSAGE);
	f.f.src = NULL;
	ck_assert_int_eq(pb_reasm_add(&g_r, &f.f, 0, &out, &out_len, NULL), PB_EINVAL);
	mk4(&f, 1, 17, 0, 1, NULL, 8);
	ck_assert_int_eq(pb_reasm_add(&g_r, &f.f, 0, &out, &out_len, NULL), PB_EINVAL);
}
END_TEST

/* ---- RFC 1858 ---- */

START_TEST(test_tiny_first)
{
	struct tfrag a, b, c;
	uint8_t tcp[64], e[256];
	unsigned an;

	/* 16 bytes of TCP in the first fragment: tiny, yet reassembled */
	mk4(&a, 1, 6, 0, 1, g_pay, 16);
	mk4(&b, 1, 6, 16, 0, g_pay + 16, 24);
	ck_assert_int_eq(offer(&a, 0, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_TINY_FIRST);
	ck_assert_int_eq(offer(&b, 0, &an), 1);
	assert_got(e, expect4(e, &a, g_pay, 40));
	/* 24 bytes, but a data offset of 60: the options are cut */
	memcpy(tcp, g_pay, sizeof(tcp));
	tcp[12] = 0xf0;
	mk4(&a, 2, 6, 0, 1, tcp, 24);
	ck_assert_int_eq(offer(&a, 0, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_TINY_FIRST);
	/* 24 bytes with a 20-byte header: fine */
	tcp[12] = 0x50;
	mk4(&a, 3, 6, 0, 1, tcp, 24);
	ck_assert_int_eq(offer(&a, 0, &an), 0);
	ck_assert_uint_eq(an, 0);
	/* UDP's 8 bytes fit in the smallest fragment */
	mk4(&a, 4, 17, 0, 1, g_pay, 8);
	ck_assert_int_eq(offer(&a, 0, &an), 0);
	ck_assert_uint_eq(an, 0);
	/* IPv6 too (RFC 7112) */
	mk6(&a, 0, 1, 6, 0, 1, g_pay, 8);
	ck_assert_int_eq(offer(&a, 0, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_TINY_FIRST);
	ck_assert_uint_eq(g_r.st.tiny_first, 3);

	/* TCP at offset 8 rewriting the flags: noted, and first wins */
	memcpy(tcp, g_pay, sizeof(tcp));
	tcp[12] = 0x50;
	tcp[13] = 0x02;                       /* SYN */
	mk4(&a, 9, 6, 0, 1, tcp, 24);
	memcpy(e, tcp + 8, 24);
	e[5] = 0x04;                          /* RST at byte 13 */
	mk4(&b, 9, 6, 8, 1, e, 24);
	mk4(&c, 9, 6, 32, 0, tcp + 32, 8);
	ck_assert_int_eq(offer(&a, 0, &an), 0);
	ck_assert_int_eq(offer(&b, 0, &an), 0);
	ck_assert_uint_eq(an, PB_REASM_TCP_OFFSET_ONE | PB_REASM_OVERLAP | PB_REASM_CONFLICT);
	ck_assert_int_eq(offer(&c, 0, &an), 1);
	ck_assert_uint_eq(g_got[20 + 13], 0x02);
	ck_assert_uint_eq(g_r.st.tcp_offset_one, 1);
}
END_TEST

/* ---- IPv6 unfragmentable part ---- */

START_TEST(test_v6_hop_by_hop)
{
	struct tfrag fr[8];
	uint8_t e[512];
	size_t n = cut6(fr, 8, 1, 0xdeadbeef, 17, 100, 32), k;

	ck_assert_uint_eq(n, 4);
	/* only the offset-0 fragment's next header counts (RFC 8200 4.5) */
	for (k = 1; k < n; k++)
		fr[k].f.proto = 58;
	offer_all(fr, n, (const size_t[]){ 2, 0, 3, 1 }, 0);
	assert_got(e, expect6(e, &fr[0], 17, g_pay, 100));
	/* spelled out: hop-by-hop names UDP, payload length 8 + 100 */
	ck_assert_uint_eq(g_got_len, 40 + 8 + 100);
	ck_assert_uint_eq(g_got[6], 0);
	ck_assert_uint_eq(g_got[40], 17);
	ck_assert_uint_eq(g_got[4] << 8 | g_got[5], 108);
	ck_assert_mem_eq(g_got + 48, g_pay, 100);

	/* without extension headers the IPv6 header itself names UDP */
	n = cut6(fr, 8, 0, 0xdeadbeef, 17, 100, 32);
	offer_all(fr, n, NULL, 0);
	assert_got(e, expect6(e, &fr[0], 17, g_pay, 100));
	ck_assert_uint_eq(g_got[6], 17);
	ck_assert_uint_eq(g_got[4] << 8 | g_got[5], 100);
}
END_TEST

/* A longer chain: hop-by-hop, then AH (4-octet units, RFC 4302), then
 * the fragment header; the AH's next header is the one rebuilt.  A chain
 * through something that is not an extension header is refused. */
START_TEST(test_v6_ext_chain)
{
	struct tfrag fr[4];
	uint8_t e[512];
	size_t n = cut6(fr, 4, 1, 0x77, 17, 40, 16), k;

	ck_assert_uint_eq(n, 3);
	for (k = 0; k < n; k++) {
		uint8_t *h = fr[k].hdr;

		h[40] = 51;                   /* hop-by-hop -> AH */
		memset(h + 48, 0, 16);
		h[48] = 44;                   /* AH -> fragment header */
		h[49] = 2;                    /* (2 + 2) * 4 = 16 bytes */
		h[52] = 0xab;                 /* SPI */
		h[4] = 0;
		h[5] = (uint8_t)(24 + 8 + fr[k].f.data_len);
		fr[k].f.hdr_len = 64;
	}
	offer_all(fr, n, (const size_t[]){ 1, 2, 0 }, 0);
	ck_assert_uint_eq(g_got_len, 64 + 40);
	memcpy(e, fr[0].hdr, 64);
	e[4] = 0;
	e[5] = 24 + 40;
	e[48] = 17;                           /* AH now names UDP */
	memcpy(e + 64, g_pay, 40);
	assert_got(e, 104);
	ck_assert_uint_eq(g_got[40], 51);     /* hop-by-hop untouched */

	/* hop-by-hop naming UDP, then 8 more bytes: not a chain to 44 */
	mk6(&fr[0], 1, 0x78, 17, 0, 1, g_pay, 8);
	fr[0].hdr[40] = 17;
	fr[0].f.hdr_len = 56;
	ck_assert_int_eq(offer(&fr[0], 0, NULL), PB_EINVAL);
	ck_assert_uint_eq(g_r.st.bad, 1);
}
END_TEST

/* The key: IPv4 (src, dst, proto, id), IPv6 (src, dst, id), and the
 * version; fragments under different keys never mix. */
START_TEST(test_keys)
{
	static const uint8_t other[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 };
	struct tfrag a, b;

	mk4(&a, 1, 17, 0, 1, g_pay, 8);
	mk4(&b, 1, 6, 8, 0, g_pay + 8, 8);    /* other protocol */
	ck_assert_int_eq(offer(&a, 0, NULL), 0);
	ck_assert_int_eq(offer(&b, 0, NULL), 0);
	mk6(&b, 0, 1, 17, 8, 0, g_pay + 8, 8);  /* other version */
	ck_assert_int_eq(offer(&b, 0, NULL), 0);
	mk4(&b, 1, 17, 8, 0, g_pay + 8, 8);
	b.f.dst = src4;                       /* other destination */
	ck_assert_int_eq(offer(&b, 0, NULL), 0);
	mk6(&a, 0, 1, 17, 0, 1, g_pay, 8);
	a.f.src = other;                      /* other IPv6 source */
	ck_assert_int_eq(offer(&a, 0, NULL), 0);
	ck_assert_uint_eq(g_r.st.held_datagrams, 5);
	ck_assert_uint_eq(g_r.st.reassembled, 0);
	/* IPv6 ignores the next header in the key */
	mk6(&a, 0, 1, 6, 0, 1, g_pay, 8);
	ck_assert_int_eq(offer(&a, 0, NULL), 1);
	ck_assert_uint_eq(g_got[6], 6);
}
END_TEST

/* Offset 0 with MF 0 is whole: rebuilt at once, apart from held ones. */
START_TEST(test_single_fragment)
{
	struct tfrag a, h;
	uint8_t e[PB_REASM_OUT_MAX];
	unsigned an;

	mk4(&h, 7, 17, 0, 1, g_pay, 16);
	ck_assert_int_eq(offer(&h, 0, NULL), 0);
	mk4(&a, 7, 17, 0, 0, g_pay + 100, 30);
	a.hdr[6] |= 0x40;                     /* DF is kept */
	ck_assert_int_eq(offer(&a, 0, &an), 1);
	ck_assert_uint_eq(an, 0);
	assert_got(e, expect4(e, &a, g_pay + 100, 30));
	ck_assert_uint_eq(g_got[6], 0x40);
	ck_assert_uint_eq(g_r.st.held_datagrams, 1);
	/* an IPv6 atomic fragment (RFC 6946), the largest there can be */
	mk6(&a, 1, 99, 58, 0, 0, g_pay, 65535 - 8);
	ck_assert_int_eq(offer(&a, 0, &an), 1);
	assert_got(e, expect6(e, &a, 58, g_pay, 65535 - 8));
	ck_assert_uint_eq(g_got_len, 40 + 65535);
	ck_assert_uint_eq(g_r.st.reassembled, 2);
	ck_assert_uint_eq(g_r.st.held_datagrams, 1);
}
END_TEST

/* The largest IPv4 datagram, in 1480-byte fragments, backwards. */
START_TEST(test_largest)
{
	static struct tfrag fr[64];
	static uint8_t e[PB_REASM_OUT_MAX];
	struct pb_reasm_limits l = { .max_fragments = 64 };
	size_t order[64], n, k;

	setup_limits(&l);
	n = cut4(fr, 64, 40000, 17, 65535 - 20, 1480);
	for (k = 0; k < n; k++)
		order[k] = n - 1 - k;
	offer_all(fr, n, order, 0);
	assert_got(e, expect4(e, &fr[0], g_pay, 65535 - 20));
	ck_assert_uint_eq(g_got_len, 65535);
	n = cut6(fr, 64, 1, 40000, 6, 65535 - 8, 1480);
	offer_all(fr, n, NULL, 0);
	assert_got(e, expect6(e, &fr[0], 6, g_pay, 65535 - 8));
	ck_assert_uint_eq(g_got_len, PB_REASM_OUT_MAX);
}
END_TEST

/* ---- permutations ---- */

static uint64_t rng_state;

static uint32_t rng(void)
{
	/* xorshift64*: the same sequence on every run */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

static void shuffle(size_t *a, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		a[k] = k;
	for (k = n; k > 1; k--) {
		size_t j = rng() % k, t = a[k - 1];

		a[k - 1] = a[j];
		a[j] = t;
	}
}

START_TEST(test_permutations)
{
	struct tfrag fr4[6], fr6[6];
	uint8_t ref4[256], ref6[256];
	size_t order[6], l4, l6, n4, n6, k;

	rng_state = UINT64_C(0x9e3779b97f4a7c15);
	n4 = cut4(fr4, 6, 0x4242, 17, 90, 16);
	n6 = cut6(fr6, 6, 1, 0x42424242, 17, 90, 16);
	ck_assert_uint_eq(n4, 6);
	ck_assert_uint_eq(n6, 6);
	/* the reference: in order */
	offer_all(fr4, n4, NULL, 0);
	memcpy(ref4, g_got, g_got_len);
	l4 = g_got_len;
	offer_all(fr6, n6, NULL, 0);
	memcpy(ref6, g_got, g_got_len);
	l6 = g_got_len;
	for (k = 0; k < 200; k++) {
		shuffle(order, 6);
		offer_all(fr4, n4, order, (int64_t)k * SEC);
		assert_got(ref4, l4);
		shuffle(order, 6);
		offer_all(fr6, n6, order, (int64_t)k * SEC);
		assert_got(ref6, l6);
	}
	ck_assert_uint_eq(g_r.st.reassembled, 402);
	ck_assert_uint_eq(g_r.st.overlaps + g_r.st.duplicates + g_r.st.bad, 0);
}
END_TEST

/* ---- memory ---- */

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#define HAVE_MALLINFO2 1
static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}
#endif

/* 100k datagrams, each a lone fragment that never completes: the limits
 * hold after every call, and each datagram leaves by eviction or expiry. */
static const struct pb_reasm_limits mem_cases[] = {
	{ 0, 0, 0, 0 },                    /* defaults: max_datagrams binds */
	{ 256, 64 * 1024, 0, 8 },          /* max_bytes binds */
};

START_TEST(test_bounded_memory)
{
	const struct pb_reasm_limits *l = &mem_cases[_i];
	struct tfrag f;
	uint32_t i;
	int64_t t = 0;
#ifdef HAVE_MALLINFO2
	size_t base, peak = 0;
#endif

	setup_limits(l);
	rng_state = 12345 + (uint64_t)_i;
#ifdef HAVE_MALLINFO2
	base = heap_in_use();
#endif
	for (i = 0; i < 100000; i++) {
		size_t len = 8 * (1 + rng() % 185);           /* 8 - 1480 */
		uint32_t off = 8 * (rng() % 4096);

		if (i % 2)
			mk6(&f, (int)(i % 3 == 0), i, 17, off, 1, g_pay, len);
		else
			mk4(&f, i & 0xffff, (uint8_t)(i >> 16), off, 1, g_pay, len);
		ck_assert_int_eq(offer(&f, t, NULL), 0);
		t += 1000000;                               /* 1 ms */
#ifdef HAVE_MALLINFO2
		if (i % 97 == 0 && heap_in_use() > peak)
			peak = heap_in_use();
#endif
	}
	ck_assert_uint_le(g_r.st.peak_datagrams, g_r.lim.max_datagrams);
	ck_assert_uint_le(g_r.st.peak_bytes, g_r.lim.max_bytes);
	ck_assert_uint_gt(g_r.st.evicted_for_limits, 0);
	/* every datagram is held, evicted or expired */
	ck_assert_uint_eq(g_r.st.held_datagrams + g_r.st.evicted_for_limits +
			  g_r.st.timed_out, 100000);
#ifdef HAVE_MALLINFO2
	/* The heap (when the allocator reports it: not under ASan or
	 * valgrind) grew by at most the cap, malloc's overhead for each
	 * range held, and what glibc's thread cache keeps of freed chunks
	 * (7 per size class up to 1 KiB, counted as in use): well under
	 * 1 MiB, where 100k fragments unbounded would be some 75 MB. */
	if (peak > base)
		ck_assert_uint_le(peak - base, g_r.lim.max_bytes +
				  (size_t)g_r.lim.max_datagrams * 2 * 32 + (1u << 20));
#endif
	pb_reasm_expire(&g_r, INT64_MAX);
	ck_assert_uint_eq(g_r.st.held_bytes, 0);
}
END_TEST

/* ---- set up ---- */

START_TEST(test_init_limits)
{
	struct pb_reasm r;
	struct pb_reasm_limits l = { .max_bytes = 1000 };

	ck_assert_uint_eq(g_r.lim.max_datagrams, PB_REASM_DEF_DATAGRAMS);
	ck_assert_uint_eq(g_r.lim.max_bytes, PB_REASM_DEF_BYTES);
	ck_assert_int_eq(g_r.lim.timeout_ns, PB_REASM_DEF_TIMEOUT_NS);
	ck_assert_uint_eq(g_r.lim.max_fragments, PB_REASM_DEF_FRAGMENTS);
	/* a zero field takes its default */
	ck_assert_int_eq(pb_reasm_init(&r, &l), 0);
	ck_assert_uint_eq(r.lim.max_bytes, 1000);
	ck_assert_uint_eq(r.lim.max_datagrams, PB_REASM_DEF_DATAGRAMS);
	pb_reasm_release(&r);
	pb_reasm_release(&r);                 /* twice is harmless */
	l.max_fragments = PB_REASM_MAX_FRAGMENTS + 1;
	ck_assert_int_eq(pb_reasm_init(&r, &l), PB_EUSAGE);
	pb_reasm_release(&r);
	l.max_fragments = 0;
	l.max_datagrams = PB_REASM_MAX_DATAGRAMS + 1;
	ck_assert_int_eq(pb_reasm_init(&r, &l), PB_EUSAGE);
	pb_reasm_release(&r);
	/* each within bounds, but the piece tables together too large */
	l.max_datagrams = PB_REASM_MAX_DATAGRAMS;
	l.max_fragments = PB_REASM_MAX_FRAGMENTS;
	ck_assert_int_eq(pb_reasm_init(&r, &l), PB_EUSAGE);
	pb_reasm_release(&r);
	l.max_fragments = PB_REASM_MAX_PIECES / PB_REASM_MAX_DATAGRAMS;
	ck_assert_int_eq(pb_reasm_init(&r, &l), 0);
	pb_reasm_release(&r);
	l.max_fragments = 0;
	l.max_datagrams = 0;
	l.timeout_ns = -1;
	ck_assert_int_eq(pb_reasm_init(&r, &l), PB_EUSAGE);
	pb_reasm_release(&r);
	/* a released reassembler refuses work */
	{
		struct tfrag f;
		const uint8_t *out;
		size_t out_len;

		mk4(&f, 1, 17, 0, 1, g_pay, 8);
		ck_assert_int_eq(pb_reasm_add(&r, &f.f, 0, &out, &out_len, NULL), PB_EUSAGE);
		pb_reasm_expire(&r, 0);
	}
}
END_TEST

START_TEST(test_anomaly_names)
{
	unsigned k;

	for (k = 0; k < PB_REASM_N_ANOMALIES; k++)
		ck_assert_str_ne(pb_reasm_anomaly_name(1u << k), "UNKNOWN");
	ck_assert_str_eq(pb_reasm_anomaly_name(PB_REASM_OVERLAP), "FRAG_OVERLAP");
	ck_assert_str_eq(pb_reasm_anomaly_name(PB_REASM_TINY_FIRST), "FRAG_TINY_FIRST");
	ck_assert_str_eq(pb_reasm_anomaly_name(1u << PB_REASM_N_ANOMALIES), "UNKNOWN");
	ck_assert_str_eq(pb_reasm_anomaly_name(3), "UNKNOWN");
}
END_TEST

static Suite *reasm_suite(void)
{
	Suite *s = suite_create("reasm");
	TCase *tc;

	tc = tcase_create("order");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_v4_in_order);
	tcase_add_test(tc, test_v4_out_of_order);
	tcase_add_test(tc, test_v4_reverse);
	tcase_add_test(tc, test_v4_header_from_first);
	tcase_add_test(tc, test_v6_hop_by_hop);
	tcase_add_test(tc, test_v6_ext_chain);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_single_fragment);
	tcase_add_test(tc, test_largest);
	tcase_add_test(tc, test_permutations);
	suite_add_tcase(s, tc);

	tc = tcase_create("overlap");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_v4_duplicates);
	tcase_add_test(tc, test_v4_overlap_first_wins);
	tcase_add_test(tc, test_v4_covered_end);
	tcase_add_test(tc, test_v6_overlap_drops);
	tcase_add_test(tc, test_tiny_first);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_max_datagrams);
	tcase_add_test(tc, test_max_bytes);
	tcase_add_test(tc, test_max_fragments);
	tcase_add_loop_test(tc, test_bounded_memory, 0,
			    (int)(sizeof(mem_cases) / sizeof(mem_cases[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_malformed_ends);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_init_limits);
	tcase_add_test(tc, test_anomaly_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reasm_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
