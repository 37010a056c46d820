/* Cost of husk_spec_parse on one config.json, for callgrind: parse and free
 * it N times (default 100). Built by hand against the normal build:
 *   cc -O2 -g -D_GNU_SOURCE -Isrc tests/fuzz/parse_loop.c build/libhusk.a \
 *      -ljansson -lseccomp -lcap -o /tmp/parse_loop
 *   valgrind --tool=callgrind /tmp/parse_loop tests/unit/data/docker-20.10.json 100
 * (instructions / N = one parse). */
#include <stdio.h>
#include <stdlib.h>

#include "spec/spec.h"

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	struct husk_err err;
	FILE *f;
	size_t len;
	int n;

	if (argc < 2 || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: parse_loop CONFIG.JSON [N]\n");
		return 2;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	n = argc > 2 ? atoi(argv[2]) : 100;
	for (int i = 0; i < n; i++) {
		struct husk_spec *s = husk_spec_parse(buf, len, &err);
		if (!s) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		husk_spec_free(s);
	}
	return 0;
}
