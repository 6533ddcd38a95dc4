/*
 * queue.c - the capped FIFO of pending requests (see queue.h).
 *
 * A ring of fixed-size slots: push and pop at the ends are O(1); taking
 * a slot out of the middle (a response paired by id) moves the younger
 * ones up, which is O(cap) with cap a small protocol constant.
 */
#include "txn/queue.h"

#include <stdlib.h>
#include <string.h>

#include "util/banned.h"

void pb_txn_queue_init(struct pb_txn_queue *q, size_t size, unsigned cap)
{
	memset(q, 0, sizeof(*q));
	q->size = size;
	q->cap = cap;
}

void pb_txn_queue_release(struct pb_txn_queue *q)
{
	free(q->slots);
	q->slots = NULL;
	q->head = q->n = 0;
}

static unsigned char *queue_slot(const struct pb_txn_queue *q, unsigned i)
{
	return q->slots + (size_t)((q->head + i) % q->cap) * q->size;
}

void *pb_txn_queue_push(struct pb_txn_queue *q)
{
	unsigned char *s;

	if (q->n >= q->cap || q->size == 0)
		return NULL;
	if (!q->slots) {
		q->slots = calloc(q->cap, q->size);
		if (!q->slots)
			return NULL;
		q->head = 0;
	}
	s = queue_slot(q, q->n);
	memset(s, 0, q->size);
	q->n++;
	return s;
}

void *pb_txn_queue_peek(const struct pb_txn_queue *q, unsigned i)
{
	return i < q->n ? queue_slot(q, i) : NULL;
}

int pb_txn_queue_take(struct pb_txn_queue *q, unsigned i, void *out)
{
	unsigned k;

	if (i >= q->n)
		return -1;
	if (out)
		memcpy(out, queue_slot(q, i), q->size);
	if (i == 0) {
		q->head = (q->head + 1) % q->cap;
	} else {
		/* close the hole: each younger slot moves one place up */
		for (k = i; k + 1 < q->n; k++)
			memcpy(queue_slot(q, k), queue_slot(q, k + 1), q->size);
	}
	q->n--;
	if (q->n == 0)
		q->head = 0;
	return 0;
}

int pb_txn_queue_find(const struct pb_txn_queue *q,
		      int (*match)(const void *slot, const void *key),
		      const void *key)
{
	unsigned i;

	for (i = 0; i < q->n; i++)
		if (match(queue_slot(q, i), key))
			return (int)i;
	return -1;
}
