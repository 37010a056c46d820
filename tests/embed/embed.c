/* An embedder's program, built against the installed-style include path
 * only (include/, not src/): it proves husk/husk.h stands alone. It asks
 * libhusk for the features document, the state of a container that does
 * not exist, the list of an empty root, the resources of update's flags
 * and the default config.json (written into a scratch bundle, and refused
 * a second time), and checks each answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <husk/husk.h>

static int fail(const char *what, const struct husk_err *err)
{
	fprintf(stderr, "%s: %s\n", what, err->msg);
	return 1;
}

static int check_list(const struct husk_ctx *ctx)
{
	struct husk_container_summary *list;
	struct husk_err err = {0};
	size_t n;

	if (husk_list(ctx, true, &list, &n, &err) < 0)
		return fail("list", &err);
	husk_list_free(list, n);
	if (n != 0) {
		fprintf(stderr, "list of an empty root: %zu containers\n", n);
		return 1;
	}
	return 0;
}

static int check_update_opts(void)
{
	struct husk_update_opts o = {.memory = {true, 1 << 20}, .cpuset_cpus = "0"};
	struct husk_update_opts bad = {.blkio_weight = 1};
	struct husk_err err = {0};
	struct husk_resources *res = husk_resources_from_update_opts(&o, &err);

	if (!res)
		return fail("update opts", &err);
	husk_resources_free(res);
	if (husk_resources_from_update_opts(&bad, &err) || !strstr(err.msg, "blkio_weight")) {
		fprintf(stderr, "update opts: a blkio weight of 1 was not refused\n");
		return 1;
	}
	return 0;
}

static int check_spec(void)
{
	char dir[] = "/tmp/husk-embed.XXXXXX", path[64];
	struct husk_err err = {0};
	char *text = husk_spec_default_json(true, &err);
	int r = 0;

	if (!text || !strstr(text, "\"uidMappings\""))
		return fail("spec --rootless", &err);
	free(text);
	if (!mkdtemp(dir))
		return perror("mkdtemp"), 1;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (husk_spec_write_default(dir, false, &err) < 0)
		r = fail("spec write", &err);
	else if (access(path, R_OK) < 0)
		r = fail("spec write: no config.json", &err);
	else if (husk_spec_write_default(dir, false, &err) == 0 || !strstr(err.msg, "exists"))
		r = fail("spec write over an existing config.json", &err);
	unlink(path);
	rmdir(dir);
	return r;
}

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
	return check_list(&ctx) || check_update_opts() || check_spec();
}
