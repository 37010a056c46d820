/* The fd-path helpers of src/linux/fs without root: path splitting, and
 * creating directories and files inside a directory fd with symlinks in the
 * way (absolute, relative, dangling, escaping with ".."): everything must
 * land inside the directory, nothing outside. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux/fs/fs.h"

static int failed;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: ", __func__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			failed++;                                                                  \
		}                                                                                  \
	} while (0)

static char base[64];
static char root[128], outside[128];

static void split_case(const char *path, int want_rc, const char *want_parent,
		       const char *want_name)
{
	char parent[64], name[32];
	int rc = husk_split_path(path, parent, sizeof(parent), name, sizeof(name));
	CHECK(rc == want_rc, "split %s: rc %d", path, rc);
	if (rc == 0 && want_rc == 0)
		CHECK(strcmp(parent, want_parent) == 0 && strcmp(name, want_name) == 0,
		      "split %s: %s + %s", path, parent, name);
}

static void test_split(void)
{
	split_case("a/b/c", 0, "a/b", "c");
	split_case("/a/b/", 0, "/a", "b");
	split_case("c", 0, ".", "c");
	split_case("/c", 0, "/", "c");
	split_case("//c//", 0, "/", "c");
	split_case("/", -1, "", "");
	split_case("", -1, "", "");
	split_case("a/..", -1, "", "");
	split_case("a/.", -1, "", "");
}

static bool exists(const char *dir, const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

static void test_mkdir_in_root(int root_fd)
{
	struct husk_err err = {0};
	struct stat st;
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "ln -s %s %s/abs && ln -s ../../../../../../%s %s/rel && ln -s / %s/slash && "
		 "ln -s nowhere/deeper %s/dangling && mkdir %s/real",
		 outside, root, outside, root, root, root, root);
	CHECK(system(cmd) == 0, "setup");

	int fd = husk_mkdir_at(root_fd, "/a/b/c", 0755, HUSK_RESOLVE_IN_ROOT, &err);
	CHECK(fd >= 0 && exists(root, "a/b/c"), "plain mkdir -p: %s", err.msg);
	close(fd);
	fd = husk_mkdir_at(root_fd, "/abs/x", 0755, HUSK_RESOLVE_IN_ROOT, &err);
	CHECK(fd >= 0, "through absolute link: %s", err.msg);
	close(fd);
	fd = husk_mkdir_at(root_fd, "rel/y", 0755, HUSK_RESOLVE_IN_ROOT, &err);
	CHECK(fd >= 0, "through relative link: %s", err.msg);
	close(fd);
	fd = husk_mkdir_at(root_fd, "/slash/../../z", 0755, HUSK_RESOLVE_IN_ROOT, &err);
	CHECK(fd >= 0 && exists(root, "z"), "\"..\" above the root: %s", err.msg);
	close(fd);
	fd = husk_mkdir_at(root_fd, "dangling/w", 0755, HUSK_RESOLVE_IN_ROOT, &err);
	CHECK(fd >= 0 && exists(root, "nowhere/deeper/w"), "through a dangling link: %s", err.msg);
	close(fd);
	CHECK(!exists(outside, "x") && !exists(outside, "y"), "a directory was made outside");
	CHECK(exists(root, &outside[1]) && stat(root, &st) == 0, "the links were not followed");

	/* strict resolution refuses every symlink */
	fd = husk_mkdir_at(root_fd, "abs/q", 0755, HUSK_RESOLVE_STRICT, &err);
	CHECK(fd < 0 && err.code == ELOOP, "strict followed a link (%s)", err.msg);
	CHECK(!exists(outside, "q"), "strict made a directory outside");

	/* a file target, created empty, never through a link */
	fd = husk_mkfile_at(root_fd, "/real/f", 0644, HUSK_RESOLVE_IN_ROOT, &err);
	CHECK(fd >= 0 && exists(root, "real/f"), "mkfile: %s", err.msg);
	close(fd);
	fd = husk_mkfile_at(root_fd, "/abs/f2", 0644, HUSK_RESOLVE_IN_ROOT, &err);
	CHECK(fd >= 0 && !exists(outside, "f2"), "mkfile through a link: %s", err.msg);
	close(fd);
}

int main(void)
{
	snprintf(base, sizeof(base), "/tmp/husk-fdpath-test.%d", (int)getpid());
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	if (mkdir(base, 0700) < 0 || mkdir(root, 0755) < 0 || mkdir(outside, 0755) < 0) {
		perror("mkdir");
		return 1;
	}
	int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	test_split();
	test_mkdir_in_root(root_fd);

	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	if (system(cmd) != 0)
		failed++;
	printf("%s\n", failed ? "FAILED" : "ok");
	return failed ? 1 : 0;
}
