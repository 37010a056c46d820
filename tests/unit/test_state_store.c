/* The state store on a temporary directory: atomic files, the container
 * record round trip, listing, removal, and /proc/PID/stat parsing. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/state.h"
#include "util/io.h"

#include "state_root.h"

static void create_makes_dirs_with_modes_and_refuses_twice(void **state)
{
	struct husk_err err = {0};
	struct stat st;
	char path[128];
	int fd = husk_state_dir_create(root, "c1", &err);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(root, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/c1", root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0711);
	assert_int_equal(husk_state_dir_create(root, "c1", &err), -1);
	assert_int_equal(err.code, EEXIST);
	assert_string_equal(err.msg, "container already exists");
	assert_int_equal(husk_state_remove(root, "c1", &err), 0);
	assert_int_equal(stat(path, &st), -1);
}

static void open_missing_says_does_not_exist(void **state)
{
	struct husk_err err = {0};
	assert_int_equal(husk_state_dir_open(root, "nope", &err), -1);
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.msg, "container does not exist");
}

static void record_round_trip(void **state)
{
	struct husk_err err = {0};
	struct husk_kv ann[] = {{"a.b", "c"}, {"x", ""}};
	struct husk_container in = {
	    .id = "c2",
	    .pid = 1234,
	    .pid_start = 987654321012ULL,
	    .bundle = "/b",
	    .rootfs = "/b/rootfs",
	    .created = "2026-01-02T03:04:05.000000006Z",
	    .owner = "",
	    .cgroup_path = "/husk/c2",
	    .annotations = {ann, 2},
	    .hook_kinds = 0x21,
	    .status = HUSK_STATUS_CREATED,
	};
	struct husk_container out = {0};
	int fd = husk_state_dir_create(root, "c2", &err);

	assert_true(fd >= 0);
	assert_int_equal(husk_state_save(fd, &in, &err), 0);
	assert_int_equal(husk_state_load(fd, &out, &err), 0);
	assert_int_equal(out.pid, 1234);
	assert_true(out.pid_start == 987654321012ULL);
	assert_string_equal(out.bundle, "/b");
	assert_string_equal(out.rootfs, "/b/rootfs");
	assert_string_equal(out.created, in.created);
	assert_string_equal(out.cgroup_path, "/husk/c2");
	assert_int_equal(out.hook_kinds, 0x21);
	assert_int_equal(out.annotations.n, 2);
	assert_string_equal(out.annotations.v[0].key, "a.b");
	assert_string_equal(out.annotations.v[0].value, "c");
	assert_int_not_equal(out.status, HUSK_STATUS_CREATING);
	for (size_t i = 0; i < out.annotations.n; i++) {
		free(out.annotations.v[i].key);
		free(out.annotations.v[i].value);
	}
	free(out.annotations.v);
	free(out.bundle);
	free(out.rootfs);
	free(out.created);
	free(out.owner);
	free(out.cgroup_path);

	/* A record saved while creating loads as creating. */
	in.status = HUSK_STATUS_CREATING;
	in.cgroup_path = NULL;
	memset(&out, 0, sizeof(out));
	assert_int_equal(husk_state_save(fd, &in, &err), 0);
	assert_int_equal(husk_state_load(fd, &out, &err), 0);
	assert_int_equal(out.status, HUSK_STATUS_CREATING);
	assert_null(out.cgroup_path);
	for (size_t i = 0; i < out.annotations.n; i++) {
		free(out.annotations.v[i].key);
		free(out.annotations.v[i].value);
	}
	free(out.annotations.v);
	free(out.bundle);
	free(out.rootfs);
	free(out.created);
	free(out.owner);
	close(fd);
	assert_int_equal(husk_state_remove(root, "c2", &err), 0);
}

static void write_file_replaces_whole_and_leaves_no_temporary(void **state)
{
	struct husk_err err = {0};
	int fd = husk_state_dir_create(root, "c3", &err);
	size_t len;
	char *text;

	assert_true(fd >= 0);
	assert_int_equal(husk_state_write_file(fd, "f", "a long first version", 20, 0600, &err), 0);
	assert_int_equal(husk_state_write_file(fd, "f", "short", 5, 0600, &err), 0);
	text = husk_read_file(fd, "f", 0, &len, &err);
	assert_non_null(text);
	assert_int_equal(len, 5);
	assert_string_equal(text, "short");
	free(text);
	assert_int_equal(faccessat(fd, ".f.tmp", F_OK, 0), -1);
	assert_null(husk_read_file(fd, "missing", 0, &len, &err));
	assert_int_equal(err.code, ENOENT);
	close(fd);
	assert_int_equal(husk_state_remove(root, "c3", &err), 0);
}

static void list_is_sorted_and_empty_without_root(void **state)
{
	struct husk_err err = {0};
	const char *ids[] = {"zeta", "alpha", "mid"};
	char **got;
	size_t n;

	assert_int_equal(husk_state_list("/nonexistent/husk-root", &got, &n, &err), 0);
	assert_int_equal(n, 0);
	for (size_t i = 0; i < 3; i++)
		close(husk_state_dir_create(root, ids[i], &err));
	assert_int_equal(husk_state_list(root, &got, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(got[0], "alpha");
	assert_string_equal(got[1], "mid");
	assert_string_equal(got[2], "zeta");
	for (size_t i = 0; i < n; i++) {
		husk_state_remove(root, got[i], &err);
		free(got[i]);
	}
	free(got);
}

static void proc_stat_of_self_and_of_nothing(void **state)
{
	struct husk_err err = {0};
	uint64_t start, again;
	bool alive;

	assert_int_equal(husk_proc_stat(getpid(), &start, &alive, &err), 0);
	assert_true(alive);
	assert_true(start > 0);
	assert_int_equal(husk_proc_stat(getpid(), &again, &alive, &err), 0);
	assert_true(again == start);
	/* pid_max is at most 4194304: this pid cannot exist. */
	assert_int_equal(husk_proc_stat(4194305, &start, &alive, &err), 0);
	assert_false(alive);
}

static void lock_is_exclusive_between_processes(void **state)
{
	struct husk_err err = {0};
	int fd = husk_state_dir_create(root, "c4", &err);
	int lock = husk_state_lock(fd, &err);
	pid_t pid;
	int status;

	assert_true(lock >= 0);
	pid = fork();
	if (pid == 0) {
		/* A second process must not get the lock while we hold it. */
		int lfd = openat(fd, HUSK_LOCK_FILE, O_RDWR | O_CLOEXEC);
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		_exit(fcntl(lfd, F_SETLK, &fl) < 0 && (errno == EAGAIN || errno == EACCES) ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(lock);
	close(fd);
	husk_state_remove(root, "c4", &err);
}

static void rfc3339_shape(void **state)
{
	char buf[64];
	husk_rfc3339_now(buf, sizeof(buf));
	assert_int_equal(strlen(buf), 30);
	assert_int_equal(buf[4], '-');
	assert_int_equal(buf[10], 'T');
	assert_int_equal(buf[19], '.');
	assert_int_equal(buf[29], 'Z');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(create_makes_dirs_with_modes_and_refuses_twice),
	    cmocka_unit_test(open_missing_says_does_not_exist),
	    cmocka_unit_test(record_round_trip),
	    cmocka_unit_test(write_file_replaces_whole_and_leaves_no_temporary),
	    cmocka_unit_test(list_is_sorted_and_empty_without_root),
	    cmocka_unit_test(proc_stat_of_self_and_of_nothing),
	    cmocka_unit_test(lock_is_exclusive_between_processes),
	    cmocka_unit_test(rfc3339_shape),
	};
	return cmocka_run_group_tests(tests, make_root, remove_root);
}
