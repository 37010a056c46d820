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

/* A file target that is a dangling link is made where the link points,
 * resolved inside the root (runc and crun do the same). */
static void test_mkfile_dangling(int root_fd)
{
	struct husk_err err = {0};
	char cmd[768];

	snprintf(cmd, sizeof(cmd),
		 "ln -s /fabs/target %s/fl-abs && ln -s frel/target %s/fl-rel && "
		 "ln -s ../../../../../../..%s/fesc %s/fl-esc && ln -s fl-abs2 %s/fl-chain && "
		 "ln -s /fchain/end %s/fl-abs2 && mkdir %s/sub && ln -s ../fup/t %s/sub/fl-up",
		 root, root, outside, root, root, root, root, root);
	CHECK(system(cmd) == 0, "setup");

	static const struct {
		const char *dest, *made;
	} cases[] = {
	    {"/fl-abs", "fabs/target"},
	    {"fl-rel", "frel/target"},
	    {"/fl-chain", "fchain/end"},
	    {"/sub/fl-up", "fup/t"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = husk_mkfile_at(root_fd, cases[i].dest, 0644, HUSK_RESOLVE_IN_ROOT, &err);
		struct stat st;
		CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
			  exists(root, cases[i].made),
		      "mkfile through dangling %s: %s", cases[i].dest, err.msg);
		if (fd >= 0)
			close(fd);
	}
	/* ".." in the target stops at the root: made inside, never outside */
	int fd = husk_mkfile_at(root_fd, "/fl-esc", 0644, HUSK_RESOLVE_IN_ROOT, &err);
	char inside[256];
	snprintf(inside, sizeof(inside), "%s/fesc", &outside[1]);
	CHECK(fd >= 0 && exists(root, inside), "mkfile through an escaping link: %s", err.msg);
	CHECK(!exists(outside, "fesc"), "mkfile made a file outside the root");
	if (fd >= 0)
		close(fd);
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
	test_mkfile_dangling(root_fd);
}

/* The resolver's own rules, beyond what mkdir exercises. */
static void test_fallback_rules(int root_fd)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/d/e && echo x > %s/d/e/file && ln -s ../../d %s/d/e/up && "
		 "ln -s /d/e/file %s/abslink && ln -s loop2 %s/loop1 && ln -s loop1 %s/loop2",
		 root, root, root, root, root, root);
	CHECK(system(cmd) == 0, "setup");

	int fd = husk_openat2(root_fd, "d/e/up/e/file", O_RDONLY, 0, HUSK_RESOLVE_IN_ROOT);
	char buf[4] = "";
	CHECK(fd >= 0 && read(fd, buf, 2) == 2 && buf[0] == 'x', "relative link with ..");
	close(fd);
	fd = husk_openat2(root_fd, "abslink", O_PATH, 0, HUSK_RESOLVE_IN_ROOT);
	CHECK(fd >= 0, "absolute link inside the root: %s", strerror(errno));
	close(fd);
	fd = husk_openat2(root_fd, "abslink", O_PATH | O_NOFOLLOW, 0, HUSK_RESOLVE_IN_ROOT);
	struct stat st;
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode), "O_NOFOLLOW on the last");
	close(fd);
	fd = husk_openat2(root_fd, "loop1", O_PATH, 0, HUSK_RESOLVE_IN_ROOT);
	CHECK(fd < 0 && errno == ELOOP, "symlink loop: %d", errno);
	fd = husk_openat2(root_fd, "../../..", O_PATH, 0, HUSK_RESOLVE_IN_ROOT);
	CHECK(fd >= 0 && fstat(fd, &st) == 0, "\"..\" above the root");
	struct stat rst;
	CHECK(fstat(root_fd, &rst) == 0 && st.st_ino == rst.st_ino, "\"..\" left the root");
	close(fd);
	fd = husk_openat2(root_fd, "../x", O_PATH, 0, HUSK_RESOLVE_STRICT);
	CHECK(fd < 0 && errno == EXDEV, "beneath: \"..\" escaped (%d)", errno);
	fd = husk_openat2(root_fd, "abslink", O_PATH, 0, HUSK_RESOLVE_STRICT);
	CHECK(fd < 0 && errno == ELOOP, "strict followed a link (%d)", errno);
	fd = husk_openat2(root_fd, "d/e/file/x", O_PATH, 0, HUSK_RESOLVE_IN_ROOT);
	CHECK(fd < 0 && errno == ENOTDIR, "file as a directory (%d)", errno);
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

	/* again with the userspace resolver openat2-less systems get */
	char cmd0[256];
	snprintf(cmd0, sizeof(cmd0), "rm -rf %s/* %s/* && ls %s", root, outside, root);
	if (system(cmd0) != 0)
		failed++;
	husk_fdpath_no_openat2 = true;
	test_mkdir_in_root(root_fd);
	test_fallback_rules(root_fd);
	husk_fdpath_no_openat2 = false;

	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	if (system(cmd) != 0)
		failed++;
	printf("%s\n", failed ? "FAILED" : "ok");
	return failed ? 1 : 0;
}
