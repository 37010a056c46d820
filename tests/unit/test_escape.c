/* Escaping user-controlled strings for the terminal and the log (util/escape.h). */
#include "spec_test.h"
#include "util/escape.h"

static void escapes(const char *in, const char *want)
{
	char out[256];
	assert_string_equal(husk_escape(out, sizeof(out), in), want);
}

static void plain_text_unchanged(void **state)
{
	escapes("", "");
	escapes("c1", "c1");
	escapes("/run/husk/my-container_1.2+3", "/run/husk/my-container_1.2+3");
	escapes("back\\slash \"quoted\"", "back\\slash \"quoted\"");
	escapes("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");
}

static void control_characters(void **state)
{
	escapes("a\x1b[31mb", "a\\x1b[31mb");
	escapes("line\nforged", "line\\nforged");
	escapes("\r\t", "\\r\\t");
	escapes("\x01\x7f", "\\x01\\x7f");
	/* C1 controls (U+009B is CSI on some terminals), byte by byte */
	escapes("a\xc2\x9b"
		"b",
		"a\\xc2\\x9bb");
}

static void not_utf8(void **state)
{
	escapes("\x9b", "\\x9b");
	escapes("a\xff"
		"b",
		"a\\xffb");
	escapes("\xc3", "\\xc3");		    /* cut short */
	escapes("\xc0\xaf", "\\xc0\\xaf");	    /* overlong "/" */
	escapes("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* a surrogate */
}

static void cut_short_when_full(void **state)
{
	char out[6];
	assert_string_equal(husk_escape(out, sizeof(out), "abcdefgh"), "abcde");
	assert_string_equal(husk_escape(out, sizeof(out), "ab\x1b"), "ab");
	assert_string_equal(husk_escape(out, sizeof(out), "a\x1b"), "a\\x1b");
}

static void utf8_chars(void **state)
{
	uint32_t cp = 0;
	assert_int_equal(husk_utf8_char("A", &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(husk_utf8_char("\xc3\xa9", &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(husk_utf8_char("\xf4\x90\x80\x80", &cp), 0); /* past U+10FFFF */
	assert_int_equal(husk_utf8_char("\x80", &cp), 0);
	assert_true(husk_is_control(0x1b));
	assert_true(husk_is_control(0x9f));
	assert_false(husk_is_control(0xa0));
}

RUN(cmocka_unit_test(plain_text_unchanged), cmocka_unit_test(control_characters),
    cmocka_unit_test(not_utf8), cmocka_unit_test(cut_short_when_full), cmocka_unit_test(utf8_chars))
