/* husk update: change a container's resource limits, from runc's flags or
 * from a linux.resources JSON document (--resources FILE, "-" = stdin). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"

static void update_usage(FILE *out)
{
	fprintf(out,
		"Usage: husk update [options] <container-id>\n\n"
		"Change the resource limits of a container. Sizes take an optional unit:\n"
		"k, m, g, t (powers of 1024; \"kb\", \"MiB\" and the like work too).\n\n"
		"Options:\n"
		"  -r, --resources FILE        linux.resources JSON to apply (\"-\": stdin);\n"
		"                              the flags below are then ignored\n"
		"      --memory SIZE           memory limit (-1: unlimited)\n"
		"      --memory-reservation SIZE  soft memory limit\n"
		"      --memory-swap SIZE      memory+swap limit (-1: unlimited swap)\n"
		"      --kernel-memory SIZE    kernel memory limit (obsolete)\n"
		"      --kernel-memory-tcp SIZE  kernel TCP buffer limit (obsolete)\n"
		"      --cpu-shares N          CPU shares (relative weight); also --cpu-share\n"
		"      --cpu-quota N           CFS quota in microseconds per period (-1: none)\n"
		"      --cpu-period N          CFS period in microseconds\n"
		"      --cpu-rt-period N       realtime period in microseconds\n"
		"      --cpu-rt-runtime N      realtime runtime in microseconds\n"
		"      --cpuset-cpus LIST      CPUs to use (e.g. 0-2,4)\n"
		"      --cpuset-mems LIST      memory nodes to use\n"
		"      --pids-limit N          maximum number of tasks (-1: unlimited)\n"
		"      --blkio-weight N        block I/O weight, 10 to 1000\n"
		"      --l3-cache-schema S     Intel RDT (not supported)\n"
		"      --mem-bw-schema S       Intel RDT (not supported)\n"
		"  -h, --help                  print this help\n");
}

/* "64m", "1.5g", "1024", "512KiB" -> bytes (binary units, like runc's
 * RAMInBytes); "-1" stays -1. */
static int parse_size(const char *s, int64_t *out)
{
	char *end;
	double v;
	static const char units[] = "bkmgtp";

	if (strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0 || !isdigit((unsigned char)s[0]))
		return -1;
	double mult = 1;
	if (*end) {
		const char *u = strchr(units, tolower((unsigned char)*end));
		if (!u)
			return -1;
		for (long i = 0; i < u - units; i++)
			mult *= 1024;
		end++;
		if (strcasecmp(end, "ib") == 0 || (strcasecmp(end, "b") == 0 && u != units))
			end += strlen(end);
		if (*end)
			return -1;
	}
	if (v * mult > (double)INT64_MAX)
		return -1;
	*out = (int64_t)(v * mult);
	return 0;
}

static int parse_int(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end || errno)
		return -1;
	*out = v;
	return 0;
}

enum {
	O_MEMORY = 256,
	O_MEMORY_RES,
	O_MEMORY_SWAP,
	O_KMEM,
	O_KMEM_TCP,
	O_CPU_SHARES,
	O_CPU_QUOTA,
	O_CPU_PERIOD,
	O_RT_PERIOD,
	O_RT_RUNTIME,
	O_CPUS,
	O_MEMS,
	O_PIDS,
	O_BLKIO,
	O_RDT,
};

/* The value a flag sets, or NULL for --cpuset-cpus and --cpuset-mems. */
static struct husk_update_value *flag_value(struct husk_update_opts *o, int opt)
{
	switch (opt) {
	case O_MEMORY:
		return &o->memory;
	case O_MEMORY_RES:
		return &o->memory_reservation;
	case O_MEMORY_SWAP:
		return &o->memory_swap;
	case O_KMEM:
		return &o->kernel_memory;
	case O_KMEM_TCP:
		return &o->kernel_memory_tcp;
	case O_CPU_SHARES:
		return &o->cpu_shares;
	case O_CPU_QUOTA:
		return &o->cpu_quota;
	case O_CPU_PERIOD:
		return &o->cpu_period;
	case O_RT_PERIOD:
		return &o->cpu_rt_period;
	case O_RT_RUNTIME:
		return &o->cpu_rt_runtime;
	case O_PIDS:
		return &o->pids_limit;
	default:
		return NULL;
	}
}

/* Values that cannot be negative: -1 is no "unlimited" for them. */
static bool unsigned_flag(int opt)
{
	return opt == O_CPU_SHARES || opt == O_CPU_PERIOD || opt == O_RT_PERIOD || opt == O_BLKIO;
}

/* One flag into the options; returns -1 on a bad value. */
static int apply_flag(struct husk_update_opts *o, int opt, const char *arg)
{
	int64_t v;
	bool size = opt == O_MEMORY || opt == O_MEMORY_RES || opt == O_MEMORY_SWAP ||
		    opt == O_KMEM || opt == O_KMEM_TCP;

	if (opt == O_CPUS || opt == O_MEMS) {
		*(opt == O_CPUS ? &o->cpuset_cpus : &o->cpuset_mems) = arg;
		return 0;
	}
	if ((size ? parse_size(arg, &v) : parse_int(arg, &v)) < 0)
		return -1;
	if (unsigned_flag(opt) && v < 0)
		return -1;
	if (opt == O_BLKIO) {
		if (v == 0) /* runc: 0 leaves the weight alone */
			return 0;
		if (v < 10 || v > 1000)
			return -1;
		o->blkio_weight = (uint16_t)v;
		return 0;
	}
	*flag_value(o, opt) = (struct husk_update_value){true, v};
	return 0;
}

int cmd_update(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"resources", required_argument, NULL, 'r'},
	    {"memory", required_argument, NULL, O_MEMORY},
	    {"memory-reservation", required_argument, NULL, O_MEMORY_RES},
	    {"memory-swap", required_argument, NULL, O_MEMORY_SWAP},
	    {"kernel-memory", required_argument, NULL, O_KMEM},
	    {"kernel-memory-tcp", required_argument, NULL, O_KMEM_TCP},
	    {"cpu-share", required_argument, NULL, O_CPU_SHARES},
	    {"cpu-shares", required_argument, NULL, O_CPU_SHARES},
	    {"cpu-quota", required_argument, NULL, O_CPU_QUOTA},
	    {"cpu-period", required_argument, NULL, O_CPU_PERIOD},
	    {"cpu-rt-period", required_argument, NULL, O_RT_PERIOD},
	    {"cpu-rt-runtime", required_argument, NULL, O_RT_RUNTIME},
	    {"cpuset-cpus", required_argument, NULL, O_CPUS},
	    {"cpuset-mems", required_argument, NULL, O_MEMS},
	    {"pids-limit", required_argument, NULL, O_PIDS},
	    {"blkio-weight", required_argument, NULL, O_BLKIO},
	    {"l3-cache-schema", required_argument, NULL, O_RDT},
	    {"mem-bw-schema", required_argument, NULL, O_RDT},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct husk_ctx ctx = {.root = g->root, .rootless = g->rootless};
	struct husk_update_opts flags = {0};
	struct husk_resources *res;
	const char *file = NULL;
	struct husk_err err = {0};
	int c, ret, li = 0;

	while ((c = getopt_long(argc, argv, "+:r:h", opts, &li)) != -1) {
		if (c == 'h') {
			update_usage(stdout);
			return 0;
		}
		if (c == 'r')
			file = optarg;
		else if (c == O_RDT)
			return cli_usage_error("update", "Intel RDT is not supported by husk");
		else if (c == '?' || c == ':')
			return cli_bad_option("update", c, argv);
		else if (apply_flag(&flags, c, optarg) < 0)
			return cli_usage_error("update", "invalid value for --%s: %s",
					       opts[li].name, optarg);
	}
	if (optind != argc - 1)
		return cli_want_one_id("update", argc - optind);
	if (file) {
		res = husk_resources_load(file, &err);
		if (!res) {
			husk_err_prefix(&err, "update");
			return cli_fail(&err);
		}
	} else if (!(res = husk_resources_from_update_opts(&flags, &err)))
		return cli_fail(&err);
	ret = husk_update(&ctx, argv[optind], res, &err) < 0 ? cli_fail(&err) : 0;
	husk_resources_free(res);
	return ret;
}
