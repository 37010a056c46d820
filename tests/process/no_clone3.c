/* Run a test with clone3 answering ENOSYS, as under Docker's default
 * seccomp profile or valgrind, so the clone(2) fallback gets exercised. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (argc < 2 || !ctx)
		return 2;
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0 ||
	    seccomp_load(ctx) < 0) {
		fprintf(stderr, "no_clone3: cannot load the filter\n");
		return 77;
	}
	seccomp_release(ctx);
	execv(argv[1], argv + 1);
	perror("no_clone3: exec");
	return 2;
}
