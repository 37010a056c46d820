/* Signal names and numbers as kill takes them. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/runtime.h"

static void names_with_and_without_prefix(void **state)
{
	assert_int_equal(husk_signal_parse("KILL"), SIGKILL);
	assert_int_equal(husk_signal_parse("SIGKILL"), SIGKILL);
	assert_int_equal(husk_signal_parse("sigterm"), SIGTERM);
	assert_int_equal(husk_signal_parse("term"), SIGTERM);
	assert_int_equal(husk_signal_parse("USR1"), SIGUSR1);
	assert_int_equal(husk_signal_parse("SIGWINCH"), SIGWINCH);
	assert_int_equal(husk_signal_parse("CHLD"), SIGCHLD);
	assert_int_equal(husk_signal_parse("SIGCLD"), SIGCHLD);
}

static void numbers(void **state)
{
	assert_int_equal(husk_signal_parse("9"), 9);
	assert_int_equal(husk_signal_parse("15"), 15);
	assert_int_equal(husk_signal_parse("64"), 64);
	assert_int_equal(husk_signal_parse("0"), 0);
	assert_int_equal(husk_signal_parse("-1"), -1);
	assert_int_equal(husk_signal_parse("65"), -1);
	assert_int_equal(husk_signal_parse("9x"), -1);
	assert_int_equal(husk_signal_parse("-9"), -1);
}

static void realtime(void **state)
{
	assert_int_equal(husk_signal_parse("SIGRTMIN"), SIGRTMIN);
	assert_int_equal(husk_signal_parse("RTMIN+3"), SIGRTMIN + 3);
	assert_int_equal(husk_signal_parse("SIGRTMAX-2"), SIGRTMAX - 2);
	assert_int_equal(husk_signal_parse("RTMAX"), SIGRTMAX);
	assert_int_equal(husk_signal_parse("RTMIN-1"), -1);
	assert_int_equal(husk_signal_parse("RTMAX+1"), -1);
	assert_int_equal(husk_signal_parse("RTMIN+"), -1);
	assert_int_equal(husk_signal_parse("RTMINX"), -1);
}

static void unknown(void **state)
{
	assert_int_equal(husk_signal_parse(""), -1);
	assert_int_equal(husk_signal_parse(NULL), -1);
	assert_int_equal(husk_signal_parse("SIG"), -1);
	assert_int_equal(husk_signal_parse("FOO"), -1);
	assert_int_equal(husk_signal_parse("SIGSIGKILL"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names_with_and_without_prefix),
	    cmocka_unit_test(numbers),
	    cmocka_unit_test(realtime),
	    cmocka_unit_test(unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
