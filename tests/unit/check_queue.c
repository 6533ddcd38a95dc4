/*
 * check_queue.c - txn/queue.h: the capped FIFO of pending requests.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "txn/queue.h"

struct item {
	uint32_t id;
	char tag[12];
};

static int match_id(const void *slot, const void *key)
{
	return ((const struct item *)slot)->id == *(const uint32_t *)key;
}

START_TEST(test_queue_fifo)
{
	struct pb_txn_queue q;
	struct item out, *it;
	uint32_t i;

	pb_txn_queue_init(&q, sizeof(struct item), 4);
	ck_assert_ptr_null(q.slots);             /* nothing until a push */
	ck_assert_int_eq(pb_txn_queue_pop(&q, &out), -1);
	ck_assert_ptr_null(pb_txn_queue_peek(&q, 0));
	for (i = 1; i <= 4; i++) {
		it = pb_txn_queue_push(&q);
		ck_assert_ptr_nonnull(it);
		ck_assert_uint_eq(it->id, 0);    /* zeroed */
		it->id = i;
	}
	ck_assert(pb_txn_queue_full(&q));
	ck_assert_ptr_null(pb_txn_queue_push(&q));   /* the cap holds */
	ck_assert_uint_eq(pb_txn_queue_len(&q), 4);
	ck_assert_int_eq(pb_txn_queue_pop(&q, &out), 0);
	ck_assert_uint_eq(out.id, 1);
	/* wrap around the ring: push after a pop, order kept */
	it = pb_txn_queue_push(&q);
	ck_assert_ptr_nonnull(it);
	it->id = 5;
	for (i = 2; i <= 5; i++) {
		it = pb_txn_queue_peek(&q, i - 2);
		ck_assert_uint_eq(it->id, i);
	}
	for (i = 2; i <= 5; i++) {
		ck_assert_int_eq(pb_txn_queue_pop(&q, &out), 0);
		ck_assert_uint_eq(out.id, i);
	}
	ck_assert_uint_eq(pb_txn_queue_len(&q), 0);
	pb_txn_queue_release(&q);
	pb_txn_queue_release(&q);                /* twice is harmless */
}
END_TEST

START_TEST(test_queue_find_take)
{
	struct pb_txn_queue q;
	struct item out, *it;
	uint32_t i, key;
	int k;

	pb_txn_queue_init(&q, sizeof(struct item), 8);
	/* let head move first, so the middle take crosses the ring's end */
	for (i = 0; i < 6; i++)
		((struct item *)pb_txn_queue_push(&q))->id = 100 + i;
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(pb_txn_queue_pop(&q, NULL), 0);
	for (i = 1; i <= 6; i++)
		((struct item *)pb_txn_queue_push(&q))->id = i;
	key = 4;
	k = pb_txn_queue_find(&q, match_id, &key);
	ck_assert_int_eq(k, 3);
	ck_assert_int_eq(pb_txn_queue_take(&q, (unsigned)k, &out), 0);
	ck_assert_uint_eq(out.id, 4);
	key = 4;
	ck_assert_int_eq(pb_txn_queue_find(&q, match_id, &key), -1);
	ck_assert_int_eq(pb_txn_queue_take(&q, 5, &out), -1);   /* past the end */
	{
		const uint32_t want[] = { 1, 2, 3, 5, 6 };

		for (i = 0; i < 5; i++) {
			it = pb_txn_queue_peek(&q, i);
			ck_assert_uint_eq(it->id, want[i]);
		}
	}
	/* the last one, then the first */
	ck_assert_int_eq(pb_txn_queue_take(&q, 4, &out), 0);
	ck_assert_uint_eq(out.id, 6);
	ck_assert_int_eq(pb_txn_queue_take(&q, 0, &out), 0);
	ck_assert_uint_eq(out.id, 1);
	ck_assert_uint_eq(pb_txn_queue_len(&q), 3);
	pb_txn_queue_release(&q);
}
END_TEST

START_TEST(test_queue_zero_cap)
{
	struct pb_txn_queue q;

	pb_txn_queue_init(&q, sizeof(struct item), 0);
	ck_assert_ptr_null(pb_txn_queue_push(&q));
	pb_txn_queue_init(&q, 0, 4);
	ck_assert_ptr_null(pb_txn_queue_push(&q));
	pb_txn_queue_release(&q);
}
END_TEST

static Suite *queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("queue");

	tcase_add_test(tc, test_queue_fifo);
	tcase_add_test(tc, test_queue_find_take);
	tcase_add_test(tc, test_queue_zero_cap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(queue_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
