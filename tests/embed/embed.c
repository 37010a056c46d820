/* An embedder's program, built against the installed-style include path
 * only (include/, not src/): it proves husk/husk.h stands alone. It asks
 * libhusk for the features document and for the state of a container that
 * does not exist, and checks both answers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <husk/husk.h>

int main(int argc, char **argv)
{
	struct husk_ctx ctx = {.root = argc > 1 ? argv[1] : "/nonexistent-husk-root"};
	struct husk_err err = {0};
	char *text;

	husk_selfexe_init(argv);
	text = husk_features(&err);
	if (!text || !strstr(text, "\"org.husk.backends\"")) {
		fprintf(stderr, "features: %s\n", text ? "no backends" : err.msg);
		return 1;
	}
	free(text);
	text = husk_state_json(&ctx, "no-such-container", &err);
	if (text || err.code != ENOENT) {
		fprintf(stderr, "state of a missing container: code %d, %s\n", err.code, err.msg);
		return 1;
	}
	printf("ok: %s\n", err.msg);
	return 0;
}
