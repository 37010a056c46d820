/* husk_read_file: the one whole-file reader of libhusk. Files of every
 * size the buffer grows through, pipes, the size limit, and errors that
 * name the file once. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/io.h"

static char dir[] = "/tmp/husk-read-file-XXXXXX";
static int dir_fd = -1;

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	dir_fd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	return dir_fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	close(dir_fd);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_n(const char *name, size_t n)
{
	char *data = malloc(n + 1);
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_non_null(data);
	assert_true(fd >= 0);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	assert_int_equal(husk_write_all(fd, data, n), 0);
	close(fd);
	free(data);
}

/* Sizes around the first buffer and its doublings come back whole. */
static void sizes_come_back_whole(void **state)
{
	const size_t sizes[] = {0, 1, 4094, 4095, 4096, 4097, 8191, 8192, 100000};
	struct husk_err err = {0};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = 12345;
		write_n("f", sizes[i]);
		char *text = husk_read_file(dir_fd, "f", 0, &len, &err);
		assert_non_null(text);
		assert_int_equal(len, sizes[i]);
		assert_int_equal(strlen(text), sizes[i]);
		for (size_t k = 0; k < len; k++)
			if (text[k] != (char)('a' + k % 26))
				fail_msg("size %zu: byte %zu differs", sizes[i], k);
		free(text);
	}
}

/* The limit refuses a longer file rather than cut it; exactly max is fine. */
static void limit_refuses_longer_files(void **state)
{
	struct husk_err err = {0};
	char *text;

	write_n("g", 5000);
	text = husk_read_file(dir_fd, "g", 5000, NULL, &err);
	assert_non_null(text);
	free(text);
	assert_null(husk_read_file(dir_fd, "g", 4999, NULL, &err));
	assert_int_equal(err.code, EFBIG);
	assert_string_equal(err.msg, "read g: larger than 4999 bytes");
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Missing file, directory: the errno kept, the path named once. */
static void errors_name_the_file_once(void **state)
{
	struct husk_err err = {0};
	char path[128];

	assert_null(husk_read_file(dir_fd, "missing.json", 0, NULL, &err));
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.msg, "open missing.json: No such file or directory");
	snprintf(path, sizeof(path), "%s", dir);
	assert_null(husk_read_file(AT_FDCWD, path, 0, NULL, &err));
	assert_int_equal(err.code, EISDIR);
	assert_int_equal(count(err.msg, path), 1);
	assert_non_null(strstr(err.msg, "read "));
}

/* A pipe (stdin of `update -r -`) is read to its end. */
static void reads_a_pipe(void **state)
{
	struct husk_err err = {0};
	int p[2];
	size_t len;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(husk_write_all(p[1], "{\"a\":1}", 7), 0);
	close(p[1]);
	char *text = husk_read_fd(p[0], "stdin", 0, &len, &err);
	close(p[0]);
	assert_non_null(text);
	assert_int_equal(len, 7);
	assert_string_equal(text, "{\"a\":1}");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sizes_come_back_whole),
	    cmocka_unit_test(limit_refuses_longer_files),
	    cmocka_unit_test(errors_name_the_file_once),
	    cmocka_unit_test(reads_a_pipe),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
