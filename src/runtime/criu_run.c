/* Running criu, and saying why it failed in words a user can act on. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "runtime/criu.h"
#include "util/cleanup.h"
#include "util/io.h"
#include "util/log.h"

static bool executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* `name` on PATH or in the sbin directories criu's children also search. */
static bool on_path(const char *name)
{
	const char *env = getenv("PATH");
	_cleanup_free_ char *dirs = NULL;
	char path[PATH_MAX], *save = NULL;

	if (asprintf(&dirs, "%s:/usr/sbin:/sbin", env && *env ? env : "/usr/bin:/bin") < 0)
		return true; /* assume so: criu's default then says what is missing */
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/%s", d, name);
		if (d[0] == '/' && executable(path))
			return true;
	}
	return false;
}

bool husk_criu_lacks_iptables(void)
{
	return !on_path("iptables-restore") || !on_path("ip6tables-restore");
}

int husk_criu_find(const char *path, char *out, size_t size, struct husk_err *err)
{
	const char *env = getenv("PATH");
	_cleanup_free_ char *dirs = strdup(env && *env ? env : "/usr/sbin:/usr/bin:/sbin:/bin");
	char *save = NULL;

	if (path) {
		if (!executable(path))
			return husk_err_set(err, errno ? errno : EACCES, "criu %s", path);
		snprintf(out, size, "%s", path);
		return 0;
	}
	if (!dirs)
		return husk_err_set(err, ENOMEM, "find criu");
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, size, "%s/criu", d);
		if (d[0] == '/' && executable(out))
			return 0;
	}
	snprintf(out, size, "/usr/sbin/criu");
	if (executable(out))
		return 0;
	return husk_err_plain(err, ENOENT,
			      "criu not found (on PATH or /usr/sbin/criu): checkpoint and restore "
			      "need CRIU installed (Debian: apt-get install criu), or --criu PATH");
}

/* The child: stdin from /dev/null, stdout and stderr to `out_fd` (criu logs
 * to its --log-file), wait until husk has put it in its cgroup, exec. */
static void child(char **argv, int go_fd, int out_fd)
{
	int null = open("/dev/null", O_RDWR);
	char c;

	if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(127);
	if (read(go_fd, &c, 1) != 1)
		_exit(127);
	execv(argv[0], argv);
	_exit(127);
}

static int wait_exit(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Run argv; its output into out_fd. Its wait status in *status. */
static int spawn_wait(char **argv, struct husk_cgroup *cg, int out_fd, int *status,
		      struct husk_err *err)
{
	int go[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0)
		return husk_err_sys(err, "run criu: pipe");
	pid = fork();
	if (pid < 0) {
		close(go[0]);
		close(go[1]);
		return husk_err_sys(err, "run criu: fork");
	}
	if (pid == 0) {
		close(go[1]);
		child(argv, go[0], out_fd);
	}
	close(go[0]);
	int r = cg ? husk_cgroup_enter(cg, pid, false, false, err) : 0;
	if (r == 0 && write(go[1], "x", 1) != 1)
		r = husk_err_sys(err, "run criu");
	close(go[1]);
	if (wait_exit(pid, status) < 0)
		return husk_err_sys(err, "wait for criu");
	if (r < 0)
		return husk_err_prefix(err, "put criu in the container's cgroup");
	return 0;
}

/* The text of the last `max` "Error (file:line): text" lines of a log,
 * each as its text, joined with "; ". */
static void error_lines(const char *log, int max, bool first, char *out, size_t size)
{
	const char *lines[8];
	int n = 0;

	out[0] = '\0';
	for (const char *p = log; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *e = strstr(p, "Error (");
		const char *nl = strchr(p, '\n');
		if (!e || (nl && e > nl))
			continue;
		if (n == (int)(sizeof(lines) / sizeof(lines[0])))
			memmove(lines, lines + 1, (size_t)--n * sizeof(lines[0]));
		lines[n++] = e;
		if (first && n == max)
			break;
	}
	for (int i = n > max ? n - max : 0; i < n; i++) {
		const char *text = strstr(lines[i], "): ");
		const char *end;
		size_t len = strlen(out);
		text = text ? text + 3 : lines[i];
		end = strchr(text, '\n');
		snprintf(out + len, size - len, "%s%.*s", len ? "; " : "",
			 (int)(end ? end - text : (int)strlen(text)), text);
	}
}

/* What `criu check` says when it fails: criu cannot work on this kernel at
 * all. 0 with out empty when the check passes. */
static int criu_check(const char *criu, char *out, size_t size, struct husk_err *err)
{
	char *argv[] = {(char *)criu, "check", NULL};
	_cleanup_free_ char *text = NULL;
	/* criu's output in memory: no file anywhere to name or remove */
	_cleanup_close_ int fd = memfd_create("criu check", MFD_CLOEXEC);
	int status;

	out[0] = '\0';
	if (fd < 0)
		return husk_err_sys(err, "criu check: memfd for its output");
	if (spawn_wait(argv, NULL, fd, &status, err) < 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	lseek(fd, 0, SEEK_SET);
	text = husk_read_fd(fd, "criu check", 1 << 20, NULL, err);
	if (!text)
		return -1;
	error_lines(text, 1, true, out, size);
	if (!out[0])
		snprintf(out, size, "criu check failed");
	return 0;
}

static int explain(const struct husk_criu_job *job, int status, struct husk_err *err)
{
	const char *verb = job->action == HUSK_CRIU_RESTORE ? "restore" : "checkpoint";
	char why[1024], log_path[PATH_MAX];
	_cleanup_free_ char *log = NULL;
	struct husk_err ignored;

	if (criu_check(job->criu, why, sizeof(why), &ignored) == 0 && why[0])
		return husk_err_plain(err, EOPNOTSUPP, "criu cannot %s on this kernel: %s", verb,
				      why);
	snprintf(log_path, sizeof(log_path), "%s/%s", job->work_dir,
		 husk_criu_log_name(job->action));
	log = husk_read_file(AT_FDCWD, log_path, 0, NULL, &ignored);
	error_lines(log, 3, false, why, sizeof(why));
	if (WIFSIGNALED(status))
		return husk_err_plain(err, EIO, "criu %s killed by signal %d (log: %s)",
				      job->action == HUSK_CRIU_RESTORE ? "restore" : "dump",
				      WTERMSIG(status), log_path);
	return husk_err_plain(err, EIO, "criu %s failed (exit %d): %s (log: %s)",
			      job->action == HUSK_CRIU_RESTORE	  ? "restore"
			      : job->action == HUSK_CRIU_PRE_DUMP ? "pre-dump"
								  : "dump",
			      WEXITSTATUS(status), why[0] ? why : "no error in its log", log_path);
}

int husk_criu_run(const struct husk_criu_job *job, char **argv, struct husk_cgroup *to_cgroup,
		  struct husk_err *err)
{
	_cleanup_close_ int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int status;

	if (null < 0)
		return husk_err_sys(err, "open /dev/null");
	for (char **a = argv; *a; a++)
		husk_debug("criu argv: %s", *a);
	if (spawn_wait(argv, to_cgroup, null, &status, err) < 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return explain(job, status, err);
}
