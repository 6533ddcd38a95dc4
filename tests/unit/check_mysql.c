/*
 * check_mysql.c - PLACEHOLDER for the mysql parser's suite.
 */
#include <check.h>
#include <stdlib.h>

#include "proto/proto.h"

START_TEST(test_mysql_registered)
{
	ck_assert_ptr_nonnull(pb_proto_find("mysql"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mysql");
	TCase *tc = tcase_create("mysql");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_mysql_registered);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
