/*
 * check_memcache.c - PLACEHOLDER for the memcache parser's suite.
 */
#include <check.h>
#include <stdlib.h>

#include "proto/proto.h"

START_TEST(test_memcache_registered)
{
	ck_assert_ptr_nonnull(pb_proto_find("memcache"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("memcache");
	TCase *tc = tcase_create("memcache");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_memcache_registered);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
