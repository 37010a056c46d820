/* The cgroup code against fake cgroupfs trees in a temporary directory
 * (plain files stand in for cgroup files). This is how the pure cgroup v2
 * logic is tested on hosts without a cgroup2-only /sys/fs/cgroup; a pure v1
 * tree is checked the same way. No root needed. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cgroup/internal.h"

static char root[256];

static void put(const char *rel, const char *content)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static char *get(const char *rel)
{
	static char buf[4096];
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void rm_rf(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

/* A fresh, empty fake tree in root. */
static void make_root(void)
{
	snprintf(root, sizeof(root), "/tmp/husk-cgfake-XXXXXX");
	assert_non_null(mkdtemp(root));
}

static void remove_file(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
}

/* Point the cgroup code at the fake tree, with the caller's own cgroups
 * read from the fake file self-cgroup. */
static void use_fake_tree(enum husk_cgroup_mode mode)
{
	char self[300];
	snprintf(self, sizeof(self), "%s/self-cgroup", root);
	husk_cgroup_test_setup(root, mode, self);
}

static int setup_v2(void **state)
{
	make_root();
	put("cgroup.controllers", "cpuset cpu io memory hugetlb pids");
	put("cgroup.subtree_control", "");
	put("husk/cgroup.subtree_control", "");
	put("husk/cgroup.controllers", "");
	static const char *const files[] = {
	    "cgroup.procs",    "memory.max",	"memory.swap.max", "memory.low",
	    "cpu.weight",      "cpu.max.burst", "cpu.idle",	   "cpuset.cpus",
	    "cpuset.mems",     "pids.max",	"io.weight",	   "io.max",
	    "hugetlb.2MB.max", "cgroup.freeze", "cgroup.kill",	   "memory.high",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "husk/c1/%s", files[i]);
		put(rel, "");
	}
	put("husk/c1/cgroup.controllers", "cpuset cpu io memory hugetlb pids");
	put("husk/c1/cpu.max", "max 100000");
	put("husk/c1/memory.events", "low 0\nhigh 0\nmax 4\noom 3\noom_kill 2\n");
	put("husk/c1/memory.current", "1234");
	put("husk/c1/cgroup.events", "populated 1\nfrozen 1\n");
	put("husk/c1/pids.current", "3");
	put("self-cgroup", "0::/user/session\n");
	use_fake_tree(HUSK_CGROUP_V2);
	return 0;
}

static int teardown(void **state)
{
	husk_cgroup_test_setup(NULL, HUSK_CGROUP_V1, NULL);
	rm_rf();
	return 0;
}

static struct husk_cgroup *create(const char *path, const struct husk_resources *res,
				  struct husk_err *err)
{
	struct husk_spec spec = {0};
	struct husk_cgroup *cg = NULL;
	spec.linux.cgroups_path = (char *)path;
	spec.linux.resources = (struct husk_resources *)res;
	/* rootless: no device filter (a fake directory cannot take one) */
	if (husk_cgroup_create("c1", &spec, true, &cg, err) < 0)
		return NULL;
	return cg;
}

static void v2_resources(void **state)
{
	struct husk_err err = {0};
	struct husk_resources res = {0};
	struct husk_hugepage_limit hp = {.page_size = "2MB", .limit = 4194304};
	struct husk_blkio_throttle thr = {.major = 8, .minor = 0, .rate = 1000};
	struct husk_kv kv = {.key = "memory.high", .value = "50000000"};

	res.has_memory = true;
	res.memory.limit = (struct husk_opt_i64){true, 100 << 20};
	res.memory.swap = (struct husk_opt_i64){true, 300 << 20};
	res.memory.reservation = (struct husk_opt_i64){true, 1 << 20};
	res.has_cpu = true;
	res.cpu.shares = (struct husk_opt_u64){true, 1024};
	res.cpu.quota = (struct husk_opt_i64){true, 50000};
	res.cpu.burst = (struct husk_opt_u64){true, 1000};
	res.cpu.idle = (struct husk_opt_i64){true, 1};
	res.cpu.cpus = "0";
	res.pids_limit = (struct husk_opt_i64){true, 10};
	res.has_blkio = true;
	res.blkio.has_weight = true;
	res.blkio.weight = 500;
	res.blkio.read_bps = (struct husk_throttle_list){&thr, 1};
	res.hugepages = &hp;
	res.n_hugepages = 1;
	res.unified = (struct husk_kvv){&kv, 1};

	struct husk_cgroup *cg = create("/husk/c1", &res, &err);
	if (!cg)
		fail_msg("create: %s", err.msg);
	assert_string_equal(husk_cgroup_path(cg), "/husk/c1");
	assert_string_equal(get("husk/c1/memory.max"), "104857600");
	assert_string_equal(get("husk/c1/memory.swap.max"), "209715200");
	assert_string_equal(get("husk/c1/memory.low"), "1048576");
	assert_string_equal(get("husk/c1/cpu.weight"), "39");
	assert_string_equal(get("husk/c1/cpu.max"), "50000 100000");
	assert_string_equal(get("husk/c1/cpu.max.burst"), "1000");
	assert_string_equal(get("husk/c1/cpu.idle"), "1");
	assert_string_equal(get("husk/c1/cpuset.cpus"), "0");
	assert_string_equal(get("husk/c1/pids.max"), "10");
	assert_string_equal(get("husk/c1/io.weight"), "default 4950");
	assert_string_equal(get("husk/c1/io.max"), "8:0 rbps=1000");
	assert_string_equal(get("husk/c1/hugetlb.2MB.max"), "4194304");
	assert_string_equal(get("husk/c1/memory.high"), "50000000");
	/* pure v2: the unified dir fd is there for CLONE_INTO_CGROUP */
	assert_true(husk_cgroup_v2_fd(cg) >= 0);

	/* update: only the period changes; the quota already set is kept */
	struct husk_resources up = {0};
	up.has_cpu = true;
	up.cpu.period = (struct husk_opt_u64){true, 200000};
	up.pids_limit = (struct husk_opt_i64){true, -1};
	assert_int_equal(husk_cgroup_update(cg, &up, &err), 0);
	assert_string_equal(get("husk/c1/cpu.max"), "50000 200000");
	assert_string_equal(get("husk/c1/pids.max"), "max");

	assert_int_equal(husk_cgroup_enter(cg, 4242, false, false, &err), 0);
	assert_string_equal(get("husk/c1/cgroup.procs"), "4242");

	uint64_t ooms = 0;
	assert_int_equal(husk_cgroup_oom_count(cg, &ooms, &err), 0);
	assert_int_equal(ooms, 2);

	/* cgroup.events already says frozen: freeze returns at once */
	assert_int_equal(husk_cgroup_freeze(cg, true, &err), 0);
	assert_string_equal(get("husk/c1/cgroup.freeze"), "1");
	bool frozen = false;
	assert_int_equal(husk_cgroup_is_frozen(cg, &frozen, &err), 0);
	assert_true(frozen);

	char *stats = husk_cgroup_stats_json(cg, &err);
	assert_non_null(stats);
	json_error_t jerr;
	json_t *j = json_loads(stats, 0, &jerr);
	if (!j)
		fail_msg("stats JSON invalid: %s: %s", jerr.text, stats);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(json_object_get(j, "memory"), "usage"), "usage")),
			 1234);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(json_object_get(j, "memory"), "usage"), "failcnt")),
			 4);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "pids"), "current")),
			 3);
	json_decref(j);
	free(stats);

	/* reopen from the saved path */
	struct husk_cgroup *again = NULL;
	assert_int_equal(husk_cgroup_open(husk_cgroup_path(cg), &again, &err), 0);
	assert_string_equal(cg_unified(again)->dir, cg_unified(cg)->dir);
	husk_cgroup_free(again);
	husk_cgroup_free(cg);
}

/* pids walk nested cgroups and come back sorted; SIGKILL on v2 is one
 * write to cgroup.kill (no process is signalled one by one). */
static void v2_pids_and_kill(void **state)
{
	struct husk_err err = {0};
	struct husk_cgroup *cg = create("/husk/c1", NULL, &err);
	pid_t *pids = NULL;
	size_t n = 0;

	if (!cg)
		fail_msg("create: %s", err.msg);
	put("husk/c1/cgroup.procs", "999999\n12\n");
	put("husk/c1/inner/cgroup.procs", "7\n");
	assert_int_equal(husk_cgroup_pids(cg, &pids, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pids[0], 7);
	assert_int_equal(pids[1], 12);
	assert_int_equal(pids[2], 999999);
	free(pids);
	put("husk/c1/cgroup.procs", "");
	put("husk/c1/inner/cgroup.procs", "");
	assert_int_equal(husk_cgroup_kill_all(cg, SIGKILL, &err), 0);
	assert_string_equal(get("husk/c1/cgroup.kill"), "1");
	husk_cgroup_free(cg);
}

static void expect_error(const struct husk_resources *res, const char *needle)
{
	struct husk_err err = {0};
	struct husk_cgroup *cg = create("/husk/c1", res, &err);
	if (cg)
		fail_msg("create succeeded; wanted an error with \"%s\"", needle);
	if (!strstr(err.msg, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, needle);
}

/* A memory limit with swap, where the swap file is missing. */
static void expect_swap_error(const char *needle)
{
	struct husk_resources res = {0};
	res.has_memory = true;
	res.memory.limit = (struct husk_opt_i64){true, 100};
	res.memory.swap = (struct husk_opt_i64){true, 200};
	expect_error(&res, needle);
}

/* youki contest cgroup_v2_cpu test_cpu_quota_negative_value_default_set:
 * any negative quota is "max" with the default period, as runc and crun. */
static void v2_negative_quota_is_max(void **state)
{
	struct husk_err err = {0};
	struct husk_resources res = {0};
	res.has_cpu = true;
	res.cpu.quota = (struct husk_opt_i64){true, -9999};
	put("husk/c1/cpu.max", "50000 100000");
	struct husk_cgroup *cg = create("/husk/c1", &res, &err);
	if (!cg)
		fail_msg("create: %s", err.msg);
	assert_string_equal(get("husk/c1/cpu.max"), "max 100000");
	husk_cgroup_free(cg);
}

/* runc's `update --memory-swap` without --memory: the swap is converted
 * against the limit already in memory.max. */
static void v2_update_swap_alone(void **state)
{
	struct husk_err err = {0};
	struct husk_resources res = {0};
	res.has_memory = true;
	res.memory.limit = (struct husk_opt_i64){true, 100 << 20};
	struct husk_cgroup *cg = create("/husk/c1", &res, &err);
	if (!cg)
		fail_msg("create: %s", err.msg);
	memset(&res, 0, sizeof(res));
	res.has_memory = true;
	res.memory.swap = (struct husk_opt_i64){true, 300 << 20};
	if (husk_cgroup_update(cg, &res, &err) < 0)
		fail_msg("update: %s", err.msg);
	assert_string_equal(get("husk/c1/memory.swap.max"), "209715200");
	assert_string_equal(get("husk/c1/memory.max"), "104857600");
	/* below the limit in force: refused, nothing written */
	res.memory.swap.v = 50 << 20;
	assert_int_equal(husk_cgroup_update(cg, &res, &err), -1);
	assert_non_null(strstr(err.msg, "is below memory.limit 104857600"));
	assert_string_equal(get("husk/c1/memory.swap.max"), "209715200");
	husk_cgroup_free(cg);
}

static void v2_refusals(void **state)
{
	struct husk_resources res = {0};
	res.has_memory = true;
	res.memory.swappiness = (struct husk_opt_u64){true, 10};
	expect_error(&res, "linux.resources.memory.swappiness: not supported on cgroup v2");

	memset(&res, 0, sizeof(res));
	res.has_memory = true;
	res.memory.kernel = (struct husk_opt_i64){true, 1 << 20};
	expect_error(&res, "linux.resources.memory.kernel: kernel memory limits are not supported");
	res.memory.kernel.v = 0; /* 0 asks for nothing: fine */
	struct husk_err err = {0};
	struct husk_cgroup *cg = create("/husk/c1", &res, &err);
	assert_non_null(cg);
	husk_cgroup_free(cg);

	memset(&res, 0, sizeof(res));
	res.has_memory = true;
	res.memory.has_disable_oom_killer = res.memory.disable_oom_killer = true;
	expect_error(&res, "disableOOMKiller: not supported on cgroup v2");

	memset(&res, 0, sizeof(res));
	res.has_memory = true;
	res.memory.limit = (struct husk_opt_i64){true, -12345};
	expect_error(&res,
		     "linux.resources.memory.limit: -12345 is not valid (-1 means unlimited)");

	memset(&res, 0, sizeof(res));
	res.has_cpu = true;
	res.cpu.realtime_runtime = (struct husk_opt_i64){true, 1000};
	expect_error(&res, "linux.resources.cpu.realtimeRuntime: not supported on cgroup v2");

	memset(&res, 0, sizeof(res));
	struct husk_kv bad[] = {
	    {"../cgroup.procs", "1"}, {"memory.nonexistent", "1"}, {"rdma.max", "x"}};
	res.unified = (struct husk_kvv){&bad[0], 1};
	expect_error(&res, "linux.resources.unified.../cgroup.procs: not a cgroup file name");
	res.unified = (struct husk_kvv){&bad[1], 1};
	expect_error(&res, "linux.resources.unified.memory.nonexistent: no such file");
	res.unified = (struct husk_kvv){&bad[2], 1};
	expect_error(&res, "(controller not enabled on cgroup2)");

	memset(&res, 0, sizeof(res));
	res.has_net_class_id = true;
	expect_error(&res, "linux.resources.network.classID: the net_cls cgroup controller is not "
			   "available");

	/* swap accounting off: no memory.swap.max */
	remove_file("husk/c1/memory.swap.max");
	expect_swap_error("linux.resources.memory.swap: memory.swap.max not available (swap "
			  "accounting off)");
	/* ... but unlimited swap, or none beyond the limit, pass there (runc) */
	struct husk_opt_i64 swaps[] = {{true, -1}, {true, 100 << 20}, {false, 0}};
	struct husk_opt_i64 limits[] = {{true, 100 << 20}, {true, 100 << 20}, {true, -1}};
	for (size_t i = 0; i < 3; i++) {
		struct husk_err e = {0};
		memset(&res, 0, sizeof(res));
		res.has_memory = true;
		res.memory.limit = limits[i];
		res.memory.swap = swaps[i];
		struct husk_cgroup *ok = create("/husk/c1", &res, &e);
		if (!ok)
			fail_msg("swap case %zu: %s", i, e.msg);
		assert_string_equal(get("husk/c1/memory.max"), i == 2 ? "max" : "104857600");
		husk_cgroup_free(ok);
	}

	struct husk_hugepage_limit hp = {.page_size = "1GB", .limit = 1};
	memset(&res, 0, sizeof(res));
	res.hugepages = &hp;
	res.n_hugepages = 1;
	expect_error(&res, "hugetlb.1GB.max not available (page size 1GB not supported)");
}

static void v2_relative_path_and_controllers(void **state)
{
	struct husk_err err = {0};
	/* relative: below the parent of the caller's cgroup (/user/session) */
	put("user/cgroup.subtree_control", "");
	put("user/ctr/cgroup.controllers", "");
	put("user/ctr/cgroup.procs", "");
	struct husk_cgroup *cg = create("ctr", NULL, &err);
	if (!cg)
		fail_msg("create: %s", err.msg);
	assert_string_equal(husk_cgroup_path(cg), "/user/ctr");
	husk_cgroup_free(cg);

	/* controllers are enabled from the root down to the leaf's parent */
	struct cg_mount m = {.controllers = "", .dir = root, .own = "/", .unified = true};
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/user/ctr", root);
	struct cg_hier h = {.mount = &m, .path = "/user/ctr", .dir = dir};
	assert_int_equal(cg_v2_enable_controllers(&h, "cpu io memory pids", &err), 0);
	assert_string_equal(get("cgroup.subtree_control"), "+cpu +io +memory +pids");
	assert_string_equal(get("user/cgroup.subtree_control"), "+cpu +io +memory +pids");
	/* the leaf's own subtree_control is left alone */
	assert_null(get("user/ctr/cgroup.subtree_control"));
	/* a leaf that already has them all costs one read, no write */
	put("user/cgroup.subtree_control", "untouched");
	put("user/ctr/cgroup.controllers", "cpu io memory pids");
	assert_int_equal(cg_v2_enable_controllers(&h, "cpu io memory pids", &err), 0);
	assert_string_equal(get("user/cgroup.subtree_control"), "untouched");
}

static void v2_systemd_form_refused(void **state)
{
	struct husk_err err = {0};
	assert_null(create("system.slice:husk:c1", NULL, &err));
	assert_non_null(strstr(err.msg, "needs --systemd-cgroup"));
	assert_null(create("/husk/../../etc", NULL, &err));
	assert_non_null(strstr(err.msg, "\"..\" is not allowed"));
}

/* ---- pure v1 ---- */

static int setup_v1(void **state)
{
	make_root();
	put("memory/husk/c1/memory.limit_in_bytes", "");
	put("memory/husk/c1/memory.memsw.limit_in_bytes", "");
	put("memory/husk/c1/memory.soft_limit_in_bytes", "");
	put("memory/husk/c1/memory.swappiness", "");
	put("memory/husk/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n");
	put("memory/husk/c1/cgroup.procs", "");
	put("cpu,cpuacct/husk/c1/cpu.shares", "");
	put("cpu,cpuacct/husk/c1/cpu.cfs_quota_us", "");
	put("cpu,cpuacct/husk/c1/cpu.cfs_period_us", "");
	put("cpu,cpuacct/husk/c1/cgroup.procs", "");
	put("cpuset/cpuset.cpus", "0-3");
	put("cpuset/cpuset.mems", "0");
	put("cpuset/a/cpuset.cpus", "");
	put("cpuset/a/cpuset.mems", "");
	put("cpuset/a/b/cpuset.cpus", "");
	put("cpuset/a/b/cpuset.mems", "");
	put("freezer/husk/c1/freezer.state", "THAWED");
	put("freezer/husk/c1/cgroup.procs", "");
	put("blkio/husk/c1/blkio.bfq.weight", "");
	put("blkio/husk/c1/cgroup.procs", "");
	put("self-cgroup", "5:blkio:/\n4:memory:/\n3:cpu,cpuacct:/\n2:freezer:/\n"
			   "1:name=elogind:/\n0::/\n");
	use_fake_tree(HUSK_CGROUP_V1);
	return 0;
}

static void v1_resources(void **state)
{
	struct husk_err err = {0};
	struct husk_resources res = {0};
	res.has_memory = true;
	res.memory.limit = (struct husk_opt_i64){true, 100 << 20};
	res.memory.swap = (struct husk_opt_i64){true, 300 << 20};
	res.memory.swappiness = (struct husk_opt_u64){true, 0};
	res.memory.has_disable_oom_killer = res.memory.disable_oom_killer = true;
	res.has_cpu = true;
	res.cpu.shares = (struct husk_opt_u64){true, 512};
	res.cpu.quota = (struct husk_opt_i64){true, -1};
	res.cpu.period = (struct husk_opt_u64){true, 50000};
	res.has_blkio = true;
	res.blkio.has_weight = true;
	res.blkio.weight = 300;

	struct husk_cgroup *cg = create("/husk/c1", &res, &err);
	if (!cg)
		fail_msg("create: %s", err.msg);
	/* four hierarchies, no unified one, no named ones but systemd */
	assert_int_equal(cg->n, 4);
	assert_null(cg_unified(cg));
	assert_int_equal(husk_cgroup_v2_fd(cg), -1);
	assert_string_equal(get("memory/husk/c1/memory.limit_in_bytes"), "104857600");
	assert_string_equal(get("memory/husk/c1/memory.memsw.limit_in_bytes"), "314572800");
	assert_string_equal(get("memory/husk/c1/memory.swappiness"), "0");
	assert_string_equal(get("memory/husk/c1/memory.oom_control"), "1");
	assert_string_equal(get("cpu,cpuacct/husk/c1/cpu.shares"), "512");
	assert_string_equal(get("cpu,cpuacct/husk/c1/cpu.cfs_quota_us"), "-1");
	assert_string_equal(get("cpu,cpuacct/husk/c1/cpu.cfs_period_us"), "50000");
	assert_string_equal(get("blkio/husk/c1/blkio.bfq.weight"), "300");

	assert_int_equal(husk_cgroup_enter(cg, 77, false, false, &err), 0);
	assert_string_equal(get("freezer/husk/c1/cgroup.procs"), "77");
	assert_string_equal(get("cpu,cpuacct/husk/c1/cgroup.procs"), "77");

	/* The child moves itself through the v1 tasks files when every one of
	 * them opens; one missing means the runtime writes cgroup.procs. */
	static const char *const v1[] = {"memory", "cpu,cpuacct", "blkio", "freezer"};
	char rel[128];
	struct husk_cgroup_tasks t;
	for (size_t i = 0; i < 4; i++) {
		snprintf(rel, sizeof(rel), "%s/husk/c1/tasks", v1[i]);
		put(rel, "");
	}
	husk_cgroup_open_tasks(cg, &t);
	assert_int_equal(t.n, 4);
	assert_int_equal(write(t.fd[0], "0", 1), 1);
	husk_cgroup_close_tasks(&t);
	assert_int_equal(t.n, 0);
	put("freezer/husk/c1/cgroup.procs", "");
	assert_int_equal(husk_cgroup_enter(cg, 78, false, true, &err), 0);
	assert_string_equal(get("freezer/husk/c1/cgroup.procs"), "");
	remove_file("blkio/husk/c1/tasks");
	husk_cgroup_open_tasks(cg, &t);
	assert_int_equal(t.n, 0);

	put("freezer/husk/c1/freezer.state", "FROZEN");
	bool frozen = false;
	assert_int_equal(husk_cgroup_is_frozen(cg, &frozen, &err), 0);
	assert_true(frozen);
	husk_cgroup_free(cg);

	/* unified keys need cgroup2; memory.swap needs memsw files */
	struct husk_kv kv = {"memory.high", "1"};
	memset(&res, 0, sizeof(res));
	res.unified = (struct husk_kvv){&kv, 1};
	expect_error(&res, "linux.resources.unified: needs a cgroup2 hierarchy");
	remove_file("memory/husk/c1/memory.memsw.limit_in_bytes");
	expect_swap_error("linux.resources.memory.swap: memory.memsw.limit_in_bytes not available "
			  "(swap accounting off)");
	memset(&res, 0, sizeof(res));
	res.has_memory = true;
	res.memory.swappiness = (struct husk_opt_u64){true, 101};
	expect_error(&res, "swappiness: 101 is not in 0-100");
	memset(&res, 0, sizeof(res));
	res.has_memory = true;
	res.memory.kernel = (struct husk_opt_i64){true, 4096};
	expect_error(&res, "linux.resources.memory.kernel: kernel memory limits are not supported "
			   "by this kernel");
}

/* The hierarchy of the cpuset leaf /a/b of the fake v1 tree. */
struct cpuset_leaf {
	char mnt[300], dir[300];
	struct cg_mount m;
};

static struct cg_hier cpuset_leaf(struct cpuset_leaf *l)
{
	snprintf(l->mnt, sizeof(l->mnt), "%s/cpuset", root);
	snprintf(l->dir, sizeof(l->dir), "%s/cpuset/a/b", root);
	l->m = (struct cg_mount){.controllers = "cpuset", .dir = l->mnt, .own = "/"};
	return (struct cg_hier){.mount = &l->m, .path = "/a/b", .dir = l->dir};
}

static void v1_cpuset_inherit(void **state)
{
	struct husk_err err = {0};
	struct cpuset_leaf leaf;
	struct cg_hier h = cpuset_leaf(&leaf);
	put("cpuset/a/cpuset.mems", "0"); /* already set levels are kept */
	assert_int_equal(cg_cpuset_inherit(&h, &err), 0);
	assert_string_equal(get("cpuset/a/cpuset.cpus"), "0-3");
	assert_string_equal(get("cpuset/a/b/cpuset.cpus"), "0-3");
	assert_string_equal(get("cpuset/a/b/cpuset.mems"), "0");
	assert_string_equal(get("cpuset/cpuset.cpus"), "0-3");
}

/* Only the leaf is new (parents 0) and its parent is set: the leaf takes the
 * parent's values, not the root's. */
static void v1_cpuset_inherit_from_parent(void **state)
{
	struct husk_err err = {0};
	struct cpuset_leaf leaf;
	struct cg_hier h = cpuset_leaf(&leaf);
	put("cpuset/a/cpuset.cpus", "1");
	put("cpuset/a/cpuset.mems", "0");
	assert_int_equal(cg_cpuset_inherit(&h, &err), 0);
	assert_string_equal(get("cpuset/a/b/cpuset.cpus"), "1");
	assert_string_equal(get("cpuset/a/b/cpuset.mems"), "0");
	/* a parent we created ourselves is filled too, from the nearest set level */
	put("cpuset/a/cpuset.cpus", "");
	put("cpuset/a/b/cpuset.cpus", "");
	h.parents = 1;
	assert_int_equal(cg_cpuset_inherit(&h, &err), 0);
	assert_string_equal(get("cpuset/a/cpuset.cpus"), "0-3");
	assert_string_equal(get("cpuset/a/b/cpuset.cpus"), "0-3");
}

static void v1_relative_per_hierarchy(void **state)
{
	struct husk_err err = {0};
	/* the caller sits in a different memory cgroup: paths differ */
	put("self-cgroup", "4:memory:/sandbox/x\n3:cpu,cpuacct:/\n");
	put("memory/sandbox/x/ctr/cgroup.procs", "");
	put("cpu,cpuacct/ctr/cgroup.procs", "");
	use_fake_tree(HUSK_CGROUP_V1);
	struct husk_cgroup *cg = create("ctr", NULL, &err);
	if (!cg)
		fail_msg("create: %s", err.msg);
	assert_string_equal(husk_cgroup_path(cg), "/sandbox/x/ctr\ncpu,cpuacct\t0\t/ctr");
	struct husk_cgroup *again = NULL;
	assert_int_equal(husk_cgroup_open(husk_cgroup_path(cg), &again, &err), 0);
	assert_int_equal(again->n, 2);
	assert_string_equal(cg_find(again, "memory")->path, "/sandbox/x/ctr");
	assert_string_equal(cg_find(again, "cpuacct")->path, "/ctr");
	husk_cgroup_free(again);
	husk_cgroup_free(cg);
}

/* youki contest cgroup_v1_relative_network: a combined net_cls,net_prio
 * hierarchy, relative cgroupsPath under the caller's (root) cgroup; the test
 * reads classid and an "lo 10" line of ifpriomap at that path. */
static void v1_network_combined_hierarchy(void **state)
{
	struct husk_err err = {0};
	struct husk_resources res = {0};
	struct husk_net_priority prio = {.name = "lo", .priority = 10};
	put("self-cgroup", "6:net_cls,net_prio:/\n4:memory:/\n");
	put("net_cls,net_prio/testdir/rt/ctr/net_cls.classid", "0");
	put("net_cls,net_prio/testdir/rt/ctr/net_prio.ifpriomap", "");
	put("net_cls,net_prio/testdir/rt/ctr/cgroup.procs", "");
	put("memory/testdir/rt/ctr/cgroup.procs", "");
	use_fake_tree(HUSK_CGROUP_V1);
	res.has_net_class_id = true;
	res.net_class_id = 255;
	res.net_priorities = &prio;
	res.n_net_priorities = 1;
	struct husk_cgroup *cg = create("testdir/rt/ctr", &res, &err);
	if (!cg)
		fail_msg("create: %s", err.msg);
	assert_string_equal(get("net_cls,net_prio/testdir/rt/ctr/net_cls.classid"), "255");
	assert_string_equal(get("net_cls,net_prio/testdir/rt/ctr/net_prio.ifpriomap"), "lo 10");
	husk_cgroup_free(cg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(v2_resources, setup_v2, teardown),
	    cmocka_unit_test_setup_teardown(v2_refusals, setup_v2, teardown),
	    cmocka_unit_test_setup_teardown(v2_negative_quota_is_max, setup_v2, teardown),
	    cmocka_unit_test_setup_teardown(v2_update_swap_alone, setup_v2, teardown),
	    cmocka_unit_test_setup_teardown(v2_pids_and_kill, setup_v2, teardown),
	    cmocka_unit_test_setup_teardown(v2_relative_path_and_controllers, setup_v2, teardown),
	    cmocka_unit_test_setup_teardown(v2_systemd_form_refused, setup_v2, teardown),
	    cmocka_unit_test_setup_teardown(v1_resources, setup_v1, teardown),
	    cmocka_unit_test_setup_teardown(v1_cpuset_inherit, setup_v1, teardown),
	    cmocka_unit_test_setup_teardown(v1_cpuset_inherit_from_parent, setup_v1, teardown),
	    cmocka_unit_test_setup_teardown(v1_relative_per_hierarchy, setup_v1, teardown),
	    cmocka_unit_test_setup_teardown(v1_network_combined_hierarchy, setup_v1, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
