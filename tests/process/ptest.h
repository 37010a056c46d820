/* Harness for the process-side tests of src/linux: a busybox image in a
 * scratch directory, specs built from JSON fragments, and one call that
 * spawns a container with its stdout/stderr on a pipe, starts it through
 * the exec fifo and collects output and exit status. Needs root. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "linux/linux.h"

#define FAILF(...)                                                                                 \
	do {                                                                                       \
		fprintf(stderr, "  %s:%d: ", __func__, __LINE__);                                  \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		return 1;                                                                          \
	} while (0)
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			FAILF(__VA_ARGS__);                                                        \
	} while (0)

struct tcase {
	const char *script;	   /* sh -c SCRIPT; no '"' or '\' */
	const char *args;	   /* JSON array replacing ["sh","-c",script] */
	const char *namespaces;	   /* JSON array; default pid,mount,ipc,uts,network,cgroup */
	const char *process_extra; /* ",\"key\":..." appended to process */
	const char *linux_extra;   /* appended to linux */
	const char *top_extra;	   /* appended to the top object */
	bool terminal;
	int preserve_fds;
	int cgroup_fd;	       /* 0 means none (set -1 semantics internally) */
	const char *fail_hook; /* callback refuses this hook kind */
	bool keep_running;     /* do not start; leave pid in result for the caller */
};

struct tresult {
	int rc; /* husk_linux_spawn's */
	struct husk_err err;
	char out[16384];
	int status; /* waitpid status */
	pid_t pid;
	int pidfd;
	bool orphans;	   /* children left after a failed spawn */
	bool start_failed; /* no byte on the exec fifo */
	struct husk_spec *spec;
};

extern char ptest_base[];   /* scratch directory */
extern char ptest_rootfs[]; /* busybox image */
extern pid_t ptest_pid;	    /* the test process */

/* Set up the image; returns 77 to skip (not root, no busybox), 0 ok. */
int ptest_init(void);
void ptest_cleanup(void);
struct husk_spec *ptest_spec(const struct tcase *tc);
/* Run one case; returns 0 when the harness itself worked. */
int ptest_run(const struct tcase *tc, struct tresult *r);
/* Start a spawned-and-kept container (open the fifo). */
int ptest_start(struct tresult *r);
void ptest_free(struct tresult *r);
/* Read all of fd into buf (NUL terminated). */
void ptest_read_all(int fd, char *buf, size_t len);
/* readlink /proc/PID/ns/NAME ("self" when pid == 0). */
void ptest_ns(pid_t pid, const char *name, char *buf, size_t len);
/* Hook log written by the callbacks: "kind:where" lines. */
void ptest_hook_log(char *buf, size_t len);

struct ptest_case {
	const char *name;
	int (*fn)(void);
};

/* The whole main() of a test program: set up, run every case (or only the
 * one named by argv[1]) with the seccomp cache off, report, clean up.
 * Returns the exit status (77 skip, 1 when a case failed). */
int ptest_main(int argc, char **argv, const struct ptest_case *cases, size_t n);
