/* The one parser of uids and gids from text (util/ids.h): exec --user,
 * --additional-gids, and the range check every config id goes through. */
#include "spec_test.h"
#include "util/ids.h"

static void id_ok(const char *s, uint32_t want)
{
	struct husk_err err = {0};
	uint32_t v = 12345;
	if (husk_id_parse(s, &v, &err) != 0)
		fail_msg("rejected \"%s\": %s", s, err.msg);
	assert_int_equal(v, want);
}

static void id_bad(const char *s, const char *msg)
{
	struct husk_err err = {0};
	uint32_t v = 12345;
	assert_int_equal(husk_id_parse(s, &v, &err), -1);
	assert_string_equal(err.msg, msg);
	assert_int_equal(v, 12345); /* untouched */
}

static void decimal_ids(void **state)
{
	id_ok("0", 0);
	id_ok("1000", 1000);
	id_ok("2147483647", 2147483647u);
	id_ok("007", 7);
}

static void not_decimal(void **state)
{
	id_bad("", "\"\" is not a decimal id");
	id_bad("-1", "\"-1\" is not a decimal id");
	id_bad("+1", "\"+1\" is not a decimal id");
	id_bad(" 1", "\" 1\" is not a decimal id");
	id_bad("1 ", "\"1 \" is not a decimal id");
	id_bad("0x10", "\"0x10\" is not a decimal id");
	id_bad("1e3", "\"1e3\" is not a decimal id");
	id_bad("root", "\"root\" is not a decimal id");
}

static void out_of_range(void **state)
{
	id_bad("2147483648", "2147483648 is out of range (0..2147483647)");
	id_bad("4294967295", "4294967295 is out of range (0..2147483647)");
	id_bad("4294967296", "4294967296 is out of range (0..2147483647)");
	id_bad("18446744073709551616", "18446744073709551616 is out of range (0..2147483647)");
	/* Wraps to 0 in 64 bits: must not come out as root. */
	id_bad("18446744073709551616000",
	       "18446744073709551616000 is out of range (0..2147483647)");
	id_bad("99999999999999999999999999999999999999999",
	       "99999999999999999999999999999999... is out of range (0..2147483647)");
}

static void check_numbers(void **state)
{
	struct husk_err err = {0};
	uint32_t v = 0;
	assert_int_equal(husk_id_check(2147483647, &v, &err), 0);
	assert_int_equal(v, 2147483647u);
	assert_int_equal(husk_id_check(-1, &v, &err), -1);
	assert_string_equal(err.msg, "-1 is out of range (0..2147483647)");
	assert_int_equal(husk_id_check(4294967295, &v, &err), -1);
	assert_string_equal(err.msg, "4294967295 is out of range (0..2147483647)");
	assert_int_equal(husk_id_check(INT64_MIN, &v, &err), -1);
}

static void user_ok(const char *s, uint32_t uid, bool has_gid, uint32_t gid)
{
	struct husk_err err = {0};
	uint32_t u = 1, g = 1;
	bool has = !has_gid;
	if (husk_user_parse(s, &u, &g, &has, &err) != 0)
		fail_msg("rejected \"%s\": %s", s, err.msg);
	assert_int_equal(u, uid);
	assert_int_equal(has, has_gid);
	if (has_gid)
		assert_int_equal(g, gid);
}

static void user_bad(const char *s, const char *msg)
{
	struct husk_err err = {0};
	uint32_t u, g;
	bool has;
	assert_int_equal(husk_user_parse(s, &u, &g, &has, &err), -1);
	assert_string_equal(err.msg, msg);
}

static void user_spec(void **state)
{
	user_ok("1000", 1000, false, 0);
	user_ok("1000:100", 1000, true, 100);
	user_ok("0:0", 0, true, 0);
	user_bad("", "uid: \"\" is not a decimal id");
	user_bad("1000:", "gid: \"\" is not a decimal id");
	user_bad(":1000", "uid: \"\" is not a decimal id");
	user_bad("1000:-1", "gid: \"-1\" is not a decimal id");
	user_bad("-1", "uid: \"-1\" is not a decimal id");
	user_bad("4294967295", "uid: 4294967295 is out of range (0..2147483647)");
	user_bad("0:4294967296", "gid: 4294967296 is out of range (0..2147483647)");
	user_bad("1000:100:5", "gid: \"100:5\" is not a decimal id");
	user_bad("root", "uid: \"root\" is not a decimal id");
}

RUN(cmocka_unit_test(decimal_ids), cmocka_unit_test(not_decimal), cmocka_unit_test(out_of_range),
    cmocka_unit_test(check_numbers), cmocka_unit_test(user_spec))
