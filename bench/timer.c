/* timer: runs one command and reports its wall time and the rusage of its process
 * tree, measured close to the command (no interpreter between the clocks).
 *
 * Usage: timer COMMAND [ARG...]
 * The command gets stdin and stdout on /dev/null and timer's stderr. On stdout timer
 * prints one line: "EXIT WALL_NS UTIME_US STIME_US MAXRSS_KB".
 *
 * Built static by bench/run.sh: ru_maxrss of a child includes the high-water RSS of
 * the address space it had before exec, so the parent must be small for the peak RSS
 * of the runtime to be measured rather than the parent's (a Python driver's is 16 MiB).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: timer COMMAND [ARG...]\n");
		return 2;
	}
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		perror("open /dev/null");
		return 2;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, devnull, 1);

	long long t0 = now_ns();
	pid_t pid;
	int rc = posix_spawn(&pid, argv[1], &fa, NULL, argv + 1, environ);
	if (rc != 0) {
		fprintf(stderr, "timer: cannot run %s\n", argv[1]);
		return 2;
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 2;
	}
	long long wall = now_ns() - t0;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	printf("%d %lld %lld %lld %ld\n", code, wall,
	       (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss);
	return 0;
}
