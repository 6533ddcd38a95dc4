/*
 * tcp.c - TCP stream reassembly (tcp.h has the policy).
 *
 * Sequence numbers wrap at 2^32; they are compared by the sign of their
 * 32-bit difference (RFC 9293, section 3.4), and turned into 64-bit stream
 * offsets as soon as they are placed, so the buffers never see the wrap.
 *
 *   stream:  ... delivered | kept (buf) | hole | out of order | ...
 *                          ^buf_off     ^off (= next_seq)
 */
#include "tcp/tcp.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "util/banned.h"

struct pb_tcp_seg {
	struct pb_tcp_seg *next;
	uint32_t seq;
	uint32_t len;
	int64_t ns;
	uint64_t pkt;
	uint8_t data[];
};

static int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

void pb_tcp_init(struct pb_tcp *t, size_t max_buf, size_t max_ooo,
		 struct pb_tcp_stats *st)
{
	memset(t, 0, sizeof(*t));
	t->max_buf = max_buf ? max_buf : 1;
	t->max_ooo = max_ooo;
	t->st = st;
}

static void dir_release(struct pb_tcp_dir *d)
{
	struct pb_tcp_seg *s, *n;

	for (s = d->ooo; s; s = n) {
		n = s->next;
		free(s);
	}
	d->ooo = NULL;
	d->ooo_bytes = 0;
	d->n_ooo = 0;
	free(d->buf);
	d->buf = NULL;
	d->len = d->cap = 0;
}

void pb_tcp_release(struct pb_tcp *t)
{
	dir_release(&t->d[0]);
	dir_release(&t->d[1]);
}

/* ---------------------------------------------------------- marks */

/* Note that the bytes from stream offset off on came at (ns, pkt).  Marks
 * are kept for the bytes being handed over; when they are full, the
 * second oldest goes (its bytes take the time of the one before them), so
 * the first and the newest stay exact: a message that spans more packets
 * than there are marks still gets the times of its first and last bytes,
 * whatever pieces its bytes came in. */
static void mark_add(struct pb_tcp_dir *d, uint64_t off, int64_t ns, uint64_t pkt)
{
	struct pb_tcp_mark *m;

	if (d->n_marks && d->marks[d->n_marks - 1].pkt == pkt &&
	    d->marks[d->n_marks - 1].ns == ns &&
	    d->marks[d->n_marks - 1].off <= off) {
		return;  /* more of the same packet: its mark covers it */
	} else if (d->n_marks && d->marks[d->n_marks - 1].off == off) {
		m = &d->marks[d->n_marks - 1];
	} else if (d->n_marks == PB_TCP_MARKS) {
		if (d->marks[PB_TCP_MARKS - 1].off >= off)
			return;
		memmove(d->marks + 1, d->marks + 2,
			(PB_TCP_MARKS - 2) * sizeof(d->marks[0]));
		m = &d->marks[PB_TCP_MARKS - 1];
	} else {
		m = &d->marks[d->n_marks++];
	}
	m->off = off;
	m->ns = ns;
	m->pkt = pkt;
}

/* Drop the marks of bytes before off, keeping the one that covers off. */
static void mark_trim(struct pb_tcp_dir *d, uint64_t off)
{
	unsigned i = 0;

	while (i + 1 < d->n_marks && d->marks[i + 1].off <= off)
		i++;
	if (i) {
		memmove(d->marks, d->marks + i, (d->n_marks - i) * sizeof(d->marks[0]));
		d->n_marks -= i;
	}
}

int pb_tcp_byte_time(const void *tv, int dir, size_t off, int64_t *ns, uint64_t *pkt)
{
	const struct pb_tcp *t = tv;
	const struct pb_tcp_dir *d = &t->d[dir & 1];
	uint64_t at = d->buf_off + off;
	unsigned i;

	if (!d->n_marks)
		return -1;
	for (i = d->n_marks; i-- > 0;)
		if (d->marks[i].off <= at || i == 0) {
			*ns = d->marks[i].ns;
			*pkt = d->marks[i].pkt;
			return 0;
		}
	return -1;
}

/* ------------------------------------------------------- delivery */

static int buf_reserve(const struct pb_tcp *t, struct pb_tcp_dir *d, size_t need)
{
	size_t ncap;
	uint8_t *nb;

	if (d->cap >= need)
		return 0;
	ncap = d->cap ? d->cap : 4096;
	while (ncap < need)
		ncap *= 2;
	if (ncap > t->max_buf && need <= t->max_buf)
		ncap = t->max_buf;  /* never more than the cap */
	nb = realloc(d->buf, ncap);
	if (!nb)
		return -1;
	d->buf = nb;
	d->cap = ncap;
	return 0;
}

/* Hand the kept bytes to the consumer until it stops consuming. */
static void consume(struct pb_tcp *t, int dir, const struct pb_tcp_ops *ops, void *arg)
{
	struct pb_tcp_dir *d = &t->d[dir];

	while (d->len > 0) {
		size_t used = ops->data(arg, dir, d->buf, d->len);

		if (used > d->len)
			used = d->len;
		if (used == 0) {
			if (d->len < t->max_buf)
				return;  /* needs more */
			/* full and nothing usable: drop it all */
			if (t->st) {
				t->st->dropped_bytes += d->len;
				t->st->gaps++;
				t->st->gap_bytes += d->len;
			}
			used = d->len;
			d->len = 0;
			d->buf_off += used;
			mark_trim(d, d->buf_off);
			if (ops->gap)
				ops->gap(arg, dir, used);
			return;
		}
		memmove(d->buf, d->buf + used, d->len - used);
		d->len -= used;
		d->buf_off += used;
		mark_trim(d, d->buf_off);
	}
}

/* In-order bytes of dir: kept after what is already there, and handed
 * over in pieces no bigger than max_buf. */
static void deliver(struct pb_tcp *t, int dir, const uint8_t *p, size_t n,
		    int64_t ns, uint64_t pkt, const struct pb_tcp_ops *ops, void *arg)
{
	struct pb_tcp_dir *d = &t->d[dir];

	d->next_seq += (uint32_t)n;
	while (n > 0) {
		size_t room, take;

		if (d->len == 0) {
			/* nothing kept: hand the segment over in place */
			size_t used;

			d->buf_off = d->off;
			d->n_marks = 0;
			mark_add(d, d->off, ns, pkt);
			take = n < t->max_buf ? n : t->max_buf;
			used = ops->data(arg, dir, p, take);
			if (used > take)
				used = take;
			d->off += used;
			d->buf_off = d->off;
			p += used;
			n -= used;
			if (used == take && n == 0)
				return;
			if (used > 0)
				continue;
			/* keep the rest (from p) below */
		}
		room = t->max_buf - d->len;
		take = n < room ? n : room;
		if (take > 0) {
			if (buf_reserve(t, d, d->len + take) < 0) {
				/* no memory: these bytes are lost to the parser */
				if (t->st) {
					t->st->dropped_bytes += n;
					t->st->gaps++;
					t->st->gap_bytes += n;
				}
				d->off += n;
				d->buf_off += d->len + n;
				d->len = 0;
				if (ops->gap)
					ops->gap(arg, dir, n);
				return;
			}
			mark_add(d, d->off, ns, pkt);
			memcpy(d->buf + d->len, p, take);
			d->len += take;
			d->off += take;
			p += take;
			n -= take;
		}
		consume(t, dir, ops, arg);
	}
}

/* The direction's FIN is reached. */
static void end_dir(struct pb_tcp *t, int dir, const struct pb_tcp_ops *ops, void *arg)
{
	struct pb_tcp_dir *d = &t->d[dir];

	if (d->ended)
		return;
	d->ended = 1;
	if (ops->fin)
		ops->fin(arg, dir);
}

/* Hand over the out-of-order segments that now continue the stream, and
 * end the direction when its FIN is reached. */
static void drain_ooo(struct pb_tcp *t, int dir, const struct pb_tcp_ops *ops, void *arg)
{
	struct pb_tcp_dir *d = &t->d[dir];
	struct pb_tcp_seg *s;

	while ((s = d->ooo) != NULL && seq_diff(s->seq, d->next_seq) <= 0) {
		int32_t skip = seq_diff(d->next_seq, s->seq);

		d->ooo = s->next;
		d->ooo_bytes -= s->len;
		d->n_ooo--;
		if ((uint32_t)skip < s->len)
			deliver(t, dir, s->data + skip, s->len - (uint32_t)skip, s->ns, s->pkt,
				ops, arg);
		free(s);
	}
	if (d->fin_seen && seq_diff(d->next_seq, d->fin_seq) >= 0)
		end_dir(t, dir, ops, arg);
}

/* The bytes up to seq were never captured: a gap, then what follows. */
static void skip_to(struct pb_tcp *t, int dir, uint32_t seq,
		    const struct pb_tcp_ops *ops, void *arg)
{
	struct pb_tcp_dir *d = &t->d[dir];
	int32_t n = seq_diff(seq, d->next_seq);
	uint64_t lost;

	if (n <= 0)
		return;
	if (t->st) {
		t->st->gaps++;
		t->st->gap_bytes += (uint32_t)n;
		/* what the consumer kept waiting for more cannot be completed */
		t->st->dropped_bytes += d->len;
	}
	lost = (uint32_t)n + d->len;
	d->buf_off += d->len + (uint32_t)n;
	d->len = 0;
	d->off += (uint32_t)n;
	d->next_seq = seq;
	d->n_marks = 0;
	if (ops->gap)
		ops->gap(arg, dir, lost);
	drain_ooo(t, dir, ops, arg);
}

/* Hold one piece of a segment: [seq, seq + n), none of it held yet. */
static int hold(struct pb_tcp *t, struct pb_tcp_dir *d, struct pb_tcp_seg **link,
		uint32_t seq, const uint8_t *p, size_t n, int64_t ns, uint64_t pkt)
{
	struct pb_tcp_seg *s;

	if (n == 0)
		return 0;
	if (d->ooo_bytes + n > t->max_ooo || d->n_ooo >= PB_TCP_MAX_OOO_SEGS)
		return -1;
	s = malloc(sizeof(*s) + n);
	if (!s)
		return -1;
	s->seq = seq;
	s->len = (uint32_t)n;
	s->ns = ns;
	s->pkt = pkt;
	memcpy(s->data, p, n);
	s->next = *link;
	*link = s;
	d->ooo_bytes += n;
	d->n_ooo++;
	return 0;
}

/* Keep a segment that starts after a hole.  Only its bytes that no held
 * segment has are kept, so among held copies the first to arrive wins,
 * as it does against delivered bytes.  Returns 0, or -1 when the limits
 * (max_ooo bytes, PB_TCP_MAX_OOO_SEGS pieces) left some of it out. */
static int keep_ooo(struct pb_tcp *t, int dir, uint32_t seq, const uint8_t *p,
		    size_t n, int64_t ns, uint64_t pkt)
{
	struct pb_tcp_dir *d = &t->d[dir];
	struct pb_tcp_seg **link = &d->ooo;
	uint32_t cur = seq, end = seq + (uint32_t)n;
	int rc = 0;

	while (seq_diff(end, cur) > 0) {
		struct pb_tcp_seg *s = *link;
		uint32_t upto;

		if (s && seq_diff(s->seq + s->len, cur) <= 0) {
			link = &s->next;  /* wholly before what is left */
			continue;
		}
		/* the new bytes before the next held segment (or to the end) */
		upto = s && seq_diff(s->seq, end) < 0 ? s->seq : end;
		if (seq_diff(upto, cur) > 0) {
			if (hold(t, d, link, cur, p + (cur - seq), upto - cur, ns, pkt) < 0)
				rc = -1;
			else
				link = &(*link)->next;
			cur = upto;
		}
		if (!s || seq_diff(s->seq, end) >= 0)
			break;
		/* skip what that segment already holds */
		if (seq_diff(s->seq + s->len, cur) > 0)
			cur = s->seq + s->len;
		link = &s->next;
	}
	if (t->st)
		t->st->out_of_order++;
	return rc;
}

/* A hole the capture missed: the other side acknowledged held bytes after
 * it, so it received what is in the hole.  (An acknowledgement alone is
 * not enough: with captures merged from two taps it can come before the
 * data it covers.) */
static void ack_gap(struct pb_tcp *t, int dir, const struct pb_tcp_ops *ops, void *arg)
{
	struct pb_tcp_dir *d = &t->d[dir];

	while (d->has_acked && d->ooo && !d->ended &&
	       seq_diff(d->ooo->seq, d->next_seq) > 0 &&
	       seq_diff(d->ooo->seq, d->acked) < 0)
		skip_to(t, dir, d->ooo->seq, ops, arg);
}

void pb_tcp_segment(struct pb_tcp *t, int dir, uint32_t seq, uint32_t ack,
		    uint16_t flags, const uint8_t *data, size_t len, size_t wire,
		    int64_t ns, uint64_t pkt, const struct pb_tcp_ops *ops, void *arg)
{
	struct pb_tcp_dir *d, *o;
	int fin = (flags & PB_TCP_FIN) != 0;
	int32_t rel;

	dir &= 1;
	d = &t->d[dir];
	o = &t->d[!dir];
	if (wire < len)
		wire = len;
	if ((flags & PB_TCP_SYN) && !d->syn_seen) {
		d->syn_seen = 1;
		d->isn = seq;
	} else if ((flags & PB_TCP_SYN) && seq != d->isn && d->off == 0 &&
		   d->len == 0 && !d->ooo && !d->fin_seen) {
		/* another SYN before any data, with another sequence number
		 * (several SYN-ACKs, the client taking the last): the stream
		 * starts after the latest */
		d->isn = seq;
		d->next_seq = seq + 1;
		d->mid_stream = 0;
	}
	if (!d->started) {
		if (flags & PB_TCP_SYN) {
			d->next_seq = seq + 1;
		} else {
			d->next_seq = seq;
			d->mid_stream = 1;
		}
		d->started = 1;
	}
	if (flags & PB_TCP_SYN)
		seq++;  /* data with a SYN starts after it */
	if (d->ended || ((flags & PB_TCP_SYN) && wire == 0 && !fin))
		goto acked;
	if (len > 0 && t->st)
		t->st->segments++;
	if (fin && !d->fin_seen) {
		d->fin_seen = 1;
		d->fin_seq = seq + (uint32_t)wire;
	}
	rel = seq_diff(seq, d->next_seq);
	if (rel > 0) {
		if (len > 0 && keep_ooo(t, dir, seq, data, len, ns, pkt) < 0) {
			/* too much held: give up the hole before the first
			 * held byte, and then this segment's, and try again */
			if (d->ooo)
				skip_to(t, dir, d->ooo->seq, ops, arg);
			if (seq_diff(seq, d->next_seq) > 0)
				skip_to(t, dir, seq, ops, arg);
			rel = seq_diff(seq, d->next_seq);
			if (rel <= 0 && (size_t)-(int64_t)rel < len)
				deliver(t, dir, data + (size_t)-(int64_t)rel,
					len - (size_t)-(int64_t)rel, ns, pkt, ops, arg);
		}
	} else {
		size_t skip = (size_t)-(int64_t)rel;

		if (skip < len) {
			if (skip > 0 && t->st)
				t->st->overlaps++;
			deliver(t, dir, data + skip, len - skip, ns, pkt, ops, arg);
		} else if (len > 0 && t->st) {
			t->st->retransmitted++;
		}
		/* what a snapshot length cut off the end was not captured */
		if (wire > len && skip < wire)
			skip_to(t, dir, seq + (uint32_t)wire, ops, arg);
	}
	drain_ooo(t, dir, ops, arg);
	ack_gap(t, dir, ops, arg);
acked:
	if ((flags & PB_TCP_ACK) && o->started &&
	    (!o->has_acked || seq_diff(ack, o->acked) > 0)) {
		o->acked = ack;
		o->has_acked = 1;
		ack_gap(t, !dir, ops, arg);
	}
	if (flags & PB_TCP_RST) {
		pb_tcp_flush(t, ops, arg);
		end_dir(t, dir, ops, arg);
		end_dir(t, !dir, ops, arg);
	}
}

void pb_tcp_flush(struct pb_tcp *t, const struct pb_tcp_ops *ops, void *arg)
{
	int dir;

	for (dir = 0; dir < 2; dir++) {
		struct pb_tcp_dir *d = &t->d[dir];

		while (d->ooo && !d->ended) {
			if (seq_diff(d->ooo->seq, d->next_seq) > 0)
				skip_to(t, dir, d->ooo->seq, ops, arg);
			else
				drain_ooo(t, dir, ops, arg);
		}
		/* a FIN after a hole: the hole was not captured */
		if (d->fin_seen && !d->ended)
			skip_to(t, dir, d->fin_seq, ops, arg);
	}
}
