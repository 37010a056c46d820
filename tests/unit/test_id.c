/* Container id validation. */
#include "spec_test.h"

static void accepts(const char *id)
{
	struct husk_err err = {0};
	if (husk_id_validate(id, &err) != 0)
		fail_msg("rejected \"%s\": %s", id, err.msg);
}

static void rejects(const char *id, const char *msg)
{
	struct husk_err err = {0};
	assert_int_equal(husk_id_validate(id, &err), -1);
	assert_string_equal(err.msg, msg);
}

static void valid_ids(void **state)
{
	accepts("c1");
	accepts("my-container_1.2+3");
	accepts("A");
	accepts("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	accepts("...");
	accepts("-x");
}

static void empty_id(void **state)
{
	rejects("", "invalid container id: must not be empty");
	rejects(NULL, "invalid container id: must not be empty");
}

static void dot_ids(void **state)
{
	rejects(".", "invalid container id: not a valid name");
	rejects("..", "invalid container id: not a valid name");
}

static void bad_characters(void **state)
{
	rejects("../x", "invalid container id: only letters, digits and _ . + - are allowed");
	rejects("a/b", "invalid container id: only letters, digits and _ . + - are allowed");
	rejects("a b", "invalid container id: only letters, digits and _ . + - are allowed");
	rejects("a\nb", "invalid container id: only letters, digits and _ . + - are allowed");
	rejects("é", "invalid container id: only letters, digits and _ . + - are allowed");
}

/* The id names a directory: at most NAME_MAX (255) bytes. */
static void length_limit(void **state)
{
	char id[258];
	memset(id, 'a', sizeof(id) - 1);
	id[255] = '\0';
	accepts(id);
	id[255] = 'a';
	id[256] = '\0';
	rejects(id, "invalid container id: 256 bytes, longer than 255 (the limit of a file name)");
}

/* The kernel reserves keyring names that start with "."; the id is still
 * valid (the keyring is "_ses.<id>"). */
static void leading_dot(void **state)
{
	accepts(".hidden");
	accepts(".c1");
	accepts("..x");
}

RUN(cmocka_unit_test(valid_ids), cmocka_unit_test(empty_id), cmocka_unit_test(dot_ids),
    cmocka_unit_test(bad_characters), cmocka_unit_test(length_limit), cmocka_unit_test(leading_dot))
