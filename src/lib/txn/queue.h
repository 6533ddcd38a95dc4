/*
 * queue.h - the pending requests of one conversation: a capped FIFO that
 * every protocol pairs its responses against.
 *
 * A parser keeps one queue (or one per direction) in its connection
 * state.  A request that has been read is pushed at the tail; a response
 * is paired by a rule the protocol chooses:
 *
 *   FIFO (HTTP/1.x, MySQL, PostgreSQL, Redis, memcache text): the oldest
 *        pending request, pb_txn_queue_peek(q, 0);
 *   by id (MongoDB requestID, Cassandra stream, memcache opaque or UDP
 *        request id): pb_txn_queue_find() with the protocol's match hook.
 *
 * The slots are fixed-size records of the protocol's own type (slot_size
 * bytes), zeroed when pushed; what they point to is the protocol's to
 * free.  The queue holds at most `cap` slots: pb_txn_queue_push() on a
 * full queue returns NULL, and the parser then takes the oldest out,
 * emits it unanswered (with its overflow note) and pushes again — so a
 * client that never gets answers cannot grow a conversation's memory.
 * Slots are allocated on the first push, so an idle conversation costs
 * only the struct.
 */
#ifndef PB_TXN_QUEUE_H
#define PB_TXN_QUEUE_H

#include <stddef.h>

struct pb_txn_queue {
	unsigned char *slots;        /* cap * size bytes, or NULL */
	size_t size;                 /* bytes per slot */
	unsigned cap;                /* slots at most */
	unsigned head;               /* index of the oldest */
	unsigned n;                  /* slots in use */
};

/* An empty queue of up to cap slots of size bytes (nothing allocated). */
void pb_txn_queue_init(struct pb_txn_queue *q, size_t size, unsigned cap);
/* Free the slots (not what they point to: take them out first). */
void pb_txn_queue_release(struct pb_txn_queue *q);

static inline unsigned pb_txn_queue_len(const struct pb_txn_queue *q)
{
	return q->n;
}

static inline int pb_txn_queue_full(const struct pb_txn_queue *q)
{
	return q->n >= q->cap;
}

/* A new zeroed slot at the tail, or NULL when the queue is full (or out
 * of memory). */
void *pb_txn_queue_push(struct pb_txn_queue *q);
/* The i-th oldest slot (0: the oldest), or NULL past the end. */
void *pb_txn_queue_peek(const struct pb_txn_queue *q, unsigned i);
/* Take the i-th oldest slot out, copying it to out (size bytes; out may
 * be NULL); the slots after it move up.  0, or -1 when i is past the end. */
int pb_txn_queue_take(struct pb_txn_queue *q, unsigned i, void *out);
/* Take the oldest out into out: 0, or -1 when the queue is empty. */
static inline int pb_txn_queue_pop(struct pb_txn_queue *q, void *out)
{
	return pb_txn_queue_take(q, 0, out);
}
/* The index of the oldest slot for which match(slot, key) is non-zero,
 * or -1: the pairing hook of protocols that answer by id. */
int pb_txn_queue_find(const struct pb_txn_queue *q,
		      int (*match)(const void *slot, const void *key),
		      const void *key);

#endif
