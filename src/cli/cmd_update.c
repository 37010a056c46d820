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
#include "runtime/cgroup_ops.h"
#include "util/cleanup.h"

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

/* One flag into the resources; returns -1 on a bad value. */
static int apply_flag(struct husk_resources *r, int opt, const char *arg)
{
	int64_t v;
	bool size = opt == O_MEMORY || opt == O_MEMORY_RES || opt == O_MEMORY_SWAP ||
		    opt == O_KMEM || opt == O_KMEM_TCP;

	if (opt == O_CPUS || opt == O_MEMS) {
		r->has_cpu = true;
		*(opt == O_CPUS ? &r->cpu.cpus : &r->cpu.mems) = (char *)arg;
		return 0;
	}
	if ((size ? parse_size(arg, &v) : parse_int(arg, &v)) < 0)
		return -1;
	struct husk_opt_i64 i = {true, v};
	struct husk_opt_u64 u = {true, (uint64_t)v};
	r->has_memory |= size;
	r->has_cpu |= opt >= O_CPU_SHARES && opt <= O_RT_RUNTIME;
	switch (opt) {
	case O_MEMORY:
		r->memory.limit = i;
		break;
	case O_MEMORY_RES:
		r->memory.reservation = i;
		break;
	case O_MEMORY_SWAP:
		r->memory.swap = i;
		break;
	case O_KMEM:
		r->memory.kernel = i;
		break;
	case O_KMEM_TCP:
		r->memory.kernel_tcp = i;
		break;
	case O_CPU_QUOTA:
		r->cpu.quota = i;
		break;
	case O_RT_RUNTIME:
		r->cpu.realtime_runtime = i;
		break;
	case O_PIDS:
		r->pids_limit = i;
		break;
	default:
		if (v < 0)
			return -1;
		if (opt == O_CPU_SHARES)
			r->cpu.shares = u;
		else if (opt == O_CPU_PERIOD)
			r->cpu.period = u;
		else if (opt == O_RT_PERIOD)
			r->cpu.realtime_period = u;
		else if (opt == O_BLKIO) {
			if (v == 0) /* runc: 0 leaves the weight alone */
				break;
			if (v < 10 || v > 1000)
				return -1;
			r->has_blkio = true;
			r->blkio.has_weight = true;
			r->blkio.weight = (uint16_t)v;
		}
	}
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
	struct husk_resources flags = {0};
	struct husk_resources *res = &flags, *parsed = NULL;
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
		parsed = husk_resources_load(file, &err);
		if (!parsed) {
			husk_err_prefix(&err, "update");
			return cli_fail(&err);
		}
		res = parsed;
	}
	ret = husk_update(&ctx, argv[optind], res, &err) < 0 ? cli_fail(&err) : 0;
	husk_resources_free(parsed);
	return ret;
}
