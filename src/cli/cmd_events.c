/* husk events: a container's resource statistics (one snapshot with
 * --stats, else every --interval) and OOM events as they happen, one JSON
 * object per line, until the container stops. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "util/cleanup.h"

static void events_usage(FILE *out)
{
	fprintf(out, "Usage: husk events [--stats] [--interval DURATION] <container-id>\n\n"
		     "Print resource statistics and OOM events of a container as JSON lines\n"
		     "({\"type\":\"stats\",...} and {\"type\":\"oom\",...}) until it stops.\n\n"
		     "Options:\n"
		     "      --stats              print one statistics snapshot and exit\n"
		     "      --interval DURATION  time between statistics (default 5s; units\n"
		     "                           ns, us, ms, s, m, h, combinable: 1m30s)\n"
		     "  -h, --help               print this help\n");
}

/* A Go-style duration ("5s", "250ms", "1m30s") in milliseconds; -1 if bad. */
static long parse_duration(const char *s)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3},	{"ms", 1},
		     {"s", 1000},  {"m", 60000}, {"h", 3600000}};
	double total = 0;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		size_t best = 0, best_len = 0;
		if (end == s || v < 0)
			return -1;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);
			if (strncmp(end, units[i].unit, l) == 0 && l > best_len) {
				best = i;
				best_len = l;
			}
		}
		if (!best_len)
			return -1;
		total += v * units[best].ms;
		s = end + best_len;
	}
	return total >= 1 && total < 1e12 ? (long)total : -1;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int print_stats(struct husk_events *ev, struct husk_err *err)
{
	_cleanup_free_ char *line = husk_events_stats(ev, err);
	if (!line)
		return -1;
	printf("%s\n", line);
	fflush(stdout);
	return 0;
}

static int stream(struct husk_events *ev, const char *id, long interval_ms)
{
	struct husk_err err = {0};
	long next = now_ms() + interval_ms;

	for (;;) {
		unsigned ooms;
		bool stopped;
		long left = next - now_ms();
		if (left <= 0) {
			if (print_stats(ev, &err) < 0) {
				/* The cgroup goes away as the container stops. */
				if (husk_events_wait(ev, 0, &ooms, &stopped, &err) == 0 && stopped)
					return 0;
				return cli_fail(&err);
			}
			next += interval_ms;
			continue;
		}
		if (husk_events_wait(ev, (int)left, &ooms, &stopped, &err) < 0)
			return cli_fail(&err);
		for (unsigned i = 0; i < ooms; i++)
			printf("{\"type\":\"oom\",\"id\":\"%s\"}\n", id);
		fflush(stdout);
		if (stopped)
			return 0;
	}
}

int cmd_events(struct cli_globals *g, int argc, char **argv)
{
	enum { O_STATS = 256, O_INTERVAL };
	static const struct option opts[] = {
	    {"stats", no_argument, NULL, O_STATS},
	    {"interval", required_argument, NULL, O_INTERVAL},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct husk_ctx ctx = {.root = g->root, .rootless = g->rootless};
	struct husk_err err = {0};
	struct husk_events *ev;
	bool stats_once = false;
	long interval_ms = 5000;
	int c, ret;

	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			events_usage(stdout);
			return 0;
		case O_STATS:
			stats_once = true;
			break;
		case O_INTERVAL:
			interval_ms = parse_duration(optarg);
			if (interval_ms < 0)
				return cli_usage_error("events", "invalid --interval %s", optarg);
			break;
		default:
			return cli_bad_option("events", c, argv);
		}
	}
	if (optind != argc - 1)
		return cli_want_one_id("events", argc - optind);
	if (husk_events_open(&ctx, argv[optind], &ev, &err) < 0)
		return cli_fail(&err);
	if (stats_once)
		ret = print_stats(ev, &err) < 0 ? cli_fail(&err) : 0;
	else
		ret = stream(ev, argv[optind], interval_ms);
	husk_events_close(ev);
	return ret;
}
