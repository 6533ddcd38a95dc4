/*
 * tcp.h - TCP stream reassembly, one connection, both directions.
 *
 * Each direction's bytes are handed over in sequence order, once, through
 * ops->data(), which returns how many it consumed; the rest is kept (up to
 * max_buf bytes) and handed over again with what follows.  The policy:
 *
 *   - The first segment seen in a direction sets where it starts: after
 *     the SYN, or at the segment itself when the SYN was not captured
 *     (the direction is then "mid-stream").
 *   - Bytes already delivered or held are never taken again: a
 *     retransmission is dropped, and of a segment that overlaps bytes
 *     delivered or held only the new ones count (the first copy wins).
 *   - A segment after a hole is kept, copied, until the hole fills; out of
 *     order bytes are bounded by max_ooo and PB_TCP_MAX_OOO_SEGS pieces
 *     per direction.
 *   - A hole becomes a gap (ops->gap(), then what follows is delivered)
 *     when the other side has acknowledged held bytes after it (the
 *     receiver had the hole's bytes; the capture missed them), when the
 *     held bytes pass the limits, and at the end (pb_tcp_flush()).  An
 *     acknowledgement with nothing held after the hole waits: captures
 *     merged from two taps can show it before the data it covers.
 *   - Bytes a snapshot length cut off a segment are a gap at once.
 *   - A FIN ends its direction once every byte before it is delivered
 *     (ops->fin()); an RST ends both, after a gap for any hole.
 *   - Buffered bytes the consumer cannot use (max_buf reached and nothing
 *     consumed) are dropped and reported as a gap of their length.
 */
#ifndef PB_TCP_H
#define PB_TCP_H

#include <stddef.h>
#include <stdint.h>

#define PB_TCP_MARKS 32
/* out-of-order segments held per direction, whatever their size: a
 * stream of empty FINs at distinct sequence numbers would otherwise
 * hold memory without holding bytes */
#define PB_TCP_MAX_OOO_SEGS 1024

struct pb_tcp_ops {
	/* bytes of dir in order; returns how many were consumed (<= n) */
	size_t (*data)(void *arg, int dir, const uint8_t *p, size_t n);
	/* n bytes of dir were not captured */
	void (*gap)(void *arg, int dir, uint64_t n);
	/* dir ended */
	void (*fin)(void *arg, int dir);
};

struct pb_tcp_seg;               /* an out-of-order segment (tcp.c) */

struct pb_tcp_mark {             /* where a segment's bytes start */
	uint64_t off;            /* stream offset */
	int64_t ns;
	uint64_t pkt;
};

struct pb_tcp_dir {
	uint32_t next_seq;       /* the next byte expected */
	uint32_t fin_seq;        /* sequence number of the FIN */
	uint32_t acked;          /* the highest acknowledgement from the other
				  * side (when has_acked) */
	uint8_t has_acked;
	uint32_t isn;            /* the SYN's sequence number (syn_seen) */
	uint8_t syn_seen;
	uint8_t started;         /* next_seq is known */
	uint8_t mid_stream;      /* started without a SYN */
	uint8_t fin_seen, ended;
	uint64_t off;            /* stream offset of next_seq */
	uint8_t *buf;            /* kept bytes, starting at stream offset */
	size_t len, cap;         /* ... buf_off */
	uint64_t buf_off;
	struct pb_tcp_mark marks[PB_TCP_MARKS]; /* of the bytes being handed */
	unsigned n_marks;
	struct pb_tcp_seg *ooo;  /* out of order, by sequence number */
	size_t ooo_bytes;
	unsigned n_ooo;
};

struct pb_tcp_stats {
	uint64_t segments;       /* with data */
	uint64_t retransmitted;  /* dropped whole: every byte delivered */
	uint64_t overlaps;       /* partly delivered: the new bytes taken */
	uint64_t out_of_order;   /* kept for later */
	uint64_t gaps, gap_bytes;
	uint64_t dropped_bytes;  /* buffered, unconsumable, dropped */
};

struct pb_tcp {
	struct pb_tcp_dir d[2];
	size_t max_buf;          /* kept bytes per direction */
	size_t max_ooo;          /* out-of-order bytes per direction */
	struct pb_tcp_stats *st; /* shared counters, may be NULL */
};

void pb_tcp_init(struct pb_tcp *t, size_t max_buf, size_t max_ooo,
		 struct pb_tcp_stats *st);
void pb_tcp_release(struct pb_tcp *t);

/* One segment of dir.  flags are the TCP flags (decode.h PB_TCP_*); ack
 * is used only when flags has ACK.  len bytes of data were captured of
 * the segment's wire bytes (a snapshot length cuts the rest: a gap). */
void pb_tcp_segment(struct pb_tcp *t, int dir, uint32_t seq, uint32_t ack,
		    uint16_t flags, const uint8_t *data, size_t len, size_t wire,
		    int64_t ns, uint64_t pkt, const struct pb_tcp_ops *ops, void *arg);

/* The end: every hole becomes a gap and what is held is delivered. */
void pb_tcp_flush(struct pb_tcp *t, const struct pb_tcp_ops *ops, void *arg);

/* The time and packet of the byte at offset off of the data last handed
 * to ops->data() for dir; 0, or -1 when nothing was handed. */
int pb_tcp_byte_time(const void *t, int dir, size_t off, int64_t *ns, uint64_t *pkt);

#endif
