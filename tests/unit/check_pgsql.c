/*
 * check_pgsql.c - PLACEHOLDER for the pgsql parser's suite.
 */
#include <check.h>
#include <stdlib.h>

#include "proto/proto.h"

START_TEST(test_pgsql_registered)
{
	ck_assert_ptr_nonnull(pb_proto_find("pgsql"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pgsql");
	TCase *tc = tcase_create("pgsql");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_pgsql_registered);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
