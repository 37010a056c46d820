/* husk_fds_cloexec_from: close_range, and the fallbacks where a seccomp
 * filter around the runtime refuses it (one fcntl per fd, listed from
 * /proc/self/fd or, without it, every number below the fd limit). */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "linux/internal.h"

enum { N = 4 };

/* N fds without close-on-exec, the first at `low`; returns the first. */
static int open_plain(int low)
{
	int first = -1;
	for (int i = 0; i < N; i++) {
		int fd = fcntl(STDERR_FILENO, F_DUPFD, low);
		assert_true(fd >= 0);
		if (first < 0)
			first = fd;
		low = fd + 1;
	}
	return first;
}

static bool cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);
	assert_true(flags >= 0);
	return flags & FD_CLOEXEC;
}

/* The fds below `from` are left alone, those from it on are marked. */
static void check_from(int proc_fd)
{
	struct husk_err err = {0};
	int first = open_plain(100);
	unsigned int from = (unsigned)first + 2;

	assert_int_equal(husk_fds_cloexec_from(from, proc_fd, &err), 0);
	for (int fd = first; fd < first + N; fd++) {
		assert_int_equal(cloexec(fd), (unsigned)fd >= from);
		close(fd);
	}
}

static void with_close_range(void **state)
{
	(void)state;
	check_from(-1);
}

static void refuse_close_range(void **state)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	(void)state;
	assert_non_null(ctx);
	assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(close_range), 0), 0);
	assert_int_equal(seccomp_load(ctx), 0); /* sets no_new_privs: no root needed */
	seccomp_release(ctx);
	errno = 0;
	assert_int_equal(close_range(200, 201, CLOSE_RANGE_CLOEXEC), -1);
	assert_int_equal(errno, EPERM);
}

static void listed_from_proc_self(void **state)
{
	(void)state;
	check_from(-1);
}

static void listed_from_a_proc_fd(void **state)
{
	int proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	(void)state;
	assert_true(proc_fd >= 0);
	check_from(proc_fd);
	close(proc_fd);
}

static void every_number_without_proc(void **state)
{
	/* a directory without self/fd stands for a missing /proc */
	int not_proc = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	(void)state;
	assert_true(not_proc >= 0);
	check_from(not_proc);
	close(not_proc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(with_close_range),		 cmocka_unit_test(refuse_close_range),
	    cmocka_unit_test(listed_from_proc_self),	 cmocka_unit_test(listed_from_a_proc_fd),
	    cmocka_unit_test(every_number_without_proc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
