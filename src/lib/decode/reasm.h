/*
 * reasm.h - IPv4 and IPv6 fragment reassembly, bounded in memory and
 * driven by capture time.
 *
 * References: RFC 791 (IPv4), RFC 815 (reassembly), RFC 1858 (fragment
 * attacks), RFC 5722 (overlapping IPv6 fragments), RFC 6946 (atomic
 * fragments), RFC 8200 section 4.5 (IPv6 fragmentation).
 *
 * The caller decodes a fragment and offers it with pb_reasm_add(); the
 * fragment that completes a datagram gets the rebuilt datagram back.
 * Datagrams are keyed per RFC (IPv4: version, src, dst, protocol, id;
 * IPv6: version, src, dst, id).  Every byte offered is borrowed for the call:
 * what is held is copied, and the copies are capped by max_bytes.
 *
 * Policy, in one place:
 *  - IPv4 overlaps: first wins (the bytes that arrived first are kept),
 *    counted as overlaps, and as conflicts when a new byte differs.
 *  - IPv6 overlaps: the whole datagram is discarded (RFC 5722), counted;
 *    an exact duplicate (same offset, length and bytes) is only counted
 *    (RFC 8200 4.5 allows it).
 *  - A fragment that adds no byte and changes none is a duplicate.
 *  - A second, different end (MF=0), or bytes past the known end: the
 *    datagram is discarded as malformed.
 *  - A rebuilt datagram over 65535 bytes (IPv4 total length, IPv6 payload
 *    length): the datagram is discarded (too_big).
 *  - An offset-0 fragment with MF=0 is whole (an atomic fragment): it is
 *    rebuilt at once, apart from anything held (RFC 6946).
 *  - Limits: the oldest datagram (by first fragment) is evicted to make
 *    room; expiry is timeout_ns of capture time after the first fragment.
 *  - At the end of input, pb_reasm_expire(r, INT64_MAX) discards what is
 *    still held (counted as timed out).
 */
#ifndef PB_REASM_H
#define PB_REASM_H

#include <stddef.h>
#include <stdint.h>

/* Defaults for a zero field of struct pb_reasm_limits. */
#define PB_REASM_DEF_DATAGRAMS 1024u
#define PB_REASM_DEF_BYTES (16u * 1024 * 1024)
/* Linux uses 30 s for IPv4 (ipfrag_time); RFC 8200 says 60 s for IPv6.
 * One value for both keeps the output independent of the version. */
#define PB_REASM_DEF_TIMEOUT_NS (30 * INT64_C(1000000000))
#define PB_REASM_DEF_FRAGMENTS 64u

/* Upper bounds accepted by pb_reasm_init (PB_EUSAGE beyond them). */
#define PB_REASM_MAX_DATAGRAMS (1u << 20)
#define PB_REASM_MAX_FRAGMENTS 8192u   /* 65536 / 8: one per 8-byte unit */
/* max_datagrams * max_fragments: the piece arrays allocated at init
 * (16 bytes each, so 64 MiB at most; the defaults take 1 MiB). */
#define PB_REASM_MAX_PIECES (1u << 22)

/* Largest rebuilt datagram: an IPv6 header and a 65535-byte payload
 * (an IPv4 datagram is at most 65535 bytes in all). */
#define PB_REASM_OUT_MAX (40u + 65535u)

struct pb_reasm_limits {
	uint32_t max_datagrams; /* being reassembled at once (1024) */
	uint64_t max_bytes;     /* data and header copies held (16 MiB) */
	int64_t timeout_ns;     /* capture time after the first fragment (30 s) */
	uint32_t max_fragments; /* byte ranges held per datagram (64) */
};

/* What happened to one fragment, as bits of pb_reasm_add's *anomalies. */
enum {
	PB_REASM_OVERLAP = 1u << 0,     /* overlaps bytes already held */
	PB_REASM_CONFLICT = 1u << 1,    /* ... and some of them differ */
	PB_REASM_DUPLICATE = 1u << 2,   /* adds nothing, changes nothing */
	PB_REASM_TOO_BIG = 1u << 3,     /* datagram would exceed 65535 */
	PB_REASM_TINY_FIRST = 1u << 4,  /* first fragment lacks the transport
					 * header (RFC 1858 3.1, RFC 7112) */
	PB_REASM_TCP_OFFSET_ONE = 1u << 5, /* IPv4 TCP at offset 8 (RFC 1858 3.2) */
	PB_REASM_MALFORMED = 1u << 6,   /* contradicts itself or the datagram */
	PB_REASM_TOO_MANY = 1u << 7,    /* max_fragments reached */
	PB_REASM_EVICTED = 1u << 8,     /* older datagrams evicted for room */
	PB_REASM_DROPPED = 1u << 9,     /* its datagram was discarded */
	PB_REASM_NOMEM = 1u << 10,      /* max_bytes, or malloc failed */
};
#define PB_REASM_N_ANOMALIES 11

/* UPPER_SNAKE name of one anomaly bit ("FRAG_OVERLAP"), or "UNKNOWN". */
const char *pb_reasm_anomaly_name(unsigned bit);

struct pb_reasm_stats {
	uint64_t fragments;          /* offered to pb_reasm_add */
	uint64_t reassembled;        /* datagrams rebuilt (atomic ones too) */
	uint64_t timed_out;          /* datagrams expired by capture time */
	uint64_t evicted_for_limits; /* datagrams evicted (oldest first) or
				      * refused for max_datagrams or
				      * max_bytes */
	uint64_t overlaps;           /* fragments overlapping held bytes */
	uint64_t overlap_conflicts;  /* ... with different bytes */
	uint64_t overlap_drops;      /* IPv6 datagrams dropped (RFC 5722) */
	uint64_t duplicates;         /* fragments adding nothing */
	uint64_t too_big;            /* datagrams over 65535 */
	uint64_t too_many_fragments; /* datagrams dropped at max_fragments */
	uint64_t tiny_first;         /* RFC 1858 tiny first fragments */
	uint64_t tcp_offset_one;     /* RFC 1858 offset-8 TCP fragments */
	uint64_t bad;                /* fragments dropped as malformed */
	uint64_t alloc_failed;       /* malloc returned NULL */
	/* frames (fragments as captured) of datagrams never rebuilt: held
	 * ones that expired or were dropped, and ones refused outright */
	uint64_t frames_dropped;
	/* gauges: what is held now, and the most ever held */
	uint64_t held_datagrams, held_bytes;
	uint64_t peak_datagrams, peak_bytes;
};

/* One fragment, as the decoder found it.  Every pointer is borrowed for
 * the call and read only within the lengths given here. */
struct pb_reasm_frag {
	uint8_t version;      /* 4 or 6 */
	uint8_t proto;        /* IPv4 protocol; IPv6: the fragment header's
			       * next header */
	uint8_t more;         /* MF (IPv4) or M (IPv6) */
	uint32_t id;          /* IPv4 identification (16 bits) or the IPv6
			       * fragment header's identification */
	const uint8_t *src;   /* 4 or 16 bytes */
	const uint8_t *dst;
	/* The unfragmentable part: the IPv4 header with options, or the IPv6
	 * header and the extension headers before the fragment header (the
	 * last of them names 44, the fragment header). */
	const uint8_t *hdr;
	size_t hdr_len;
	const uint8_t *data;  /* the fragment's payload */
	size_t data_len;
	uint32_t offset;      /* in bytes: the offset field times 8 */
	uint32_t frame_len;   /* the frame's length on the wire (for the
			       * frame accounting below) */
};

struct pb_reasm_dg;     /* one datagram being reassembled */
struct pb_reasm_piece;  /* one byte range held */

struct pb_reasm {
	struct pb_reasm_limits lim;
	struct pb_reasm_stats st;
	struct pb_reasm_dg *dg;          /* max_datagrams slots */
	struct pb_reasm_piece *pieces;   /* max_fragments per slot */
	struct pb_reasm_piece *scratch;  /* max_fragments: merging room */
	uint32_t *bucket;                /* hash heads: slot index or NIL */
	uint32_t mask;                   /* buckets - 1 (a power of two) */
	uint32_t free_head;              /* unused slots, linked */
	uint32_t age_head, age_tail;     /* held slots, oldest first */
	uint8_t *out;                    /* PB_REASM_OUT_MAX bytes */
	/* After pb_reasm_add() returned 1: the frames that made the
	 * datagram and the sum of their frame_len, duplicates included. */
	uint32_t done_frames;
	uint64_t done_wire;
	int attached;                    /* scratch: this fragment was held */
};

/* Allocate the tables (all the fixed memory there will be).  l may be
 * NULL, and a zero field takes its default.  0, PB_EUSAGE (a limit out of
 * range, or max_datagrams * max_fragments over PB_REASM_MAX_PIECES) or
 * PB_ENOMEM; on failure the struct is safe to release. */
int pb_reasm_init(struct pb_reasm *r, const struct pb_reasm_limits *l);
void pb_reasm_release(struct pb_reasm *r);

/*
 * Offer one fragment captured at now_ns.  Returns
 *   1  it completed a datagram: *out / *out_len hold the rebuilt datagram,
 *      valid until the next call on r.  IPv4: the first fragment's header
 *      with MF and offset 0, the total length set and the checksum
 *      recomputed.  IPv6: the first fragment's unfragmentable part without
 *      the fragment header, the header before it naming the fragment
 *      header's next header, and the payload length set;
 *   0  the fragment is held (or was a duplicate, or overlapped held bytes);
 *  <0  it was dropped: PB_EINVAL malformed (or an IPv6 overlap),
 *      PB_ETOOBIG too big, PB_ENOMEM a limit or malloc; *anomalies says
 *      more, and PB_REASM_DROPPED when held fragments went with it.
 * anomalies may be NULL; otherwise it receives the PB_REASM_* bits.
 * Expiry runs first, so a datagram older than the timeout is never added to.
 */
int pb_reasm_add(struct pb_reasm *r, const struct pb_reasm_frag *f,
		 int64_t now_ns, const uint8_t **out, size_t *out_len,
		 unsigned *anomalies);

/* Discard the datagrams whose first fragment is timeout_ns or more older
 * than now_ns.  Costs one step per datagram discarded plus one. */
void pb_reasm_expire(struct pb_reasm *r, int64_t now_ns);

#endif
