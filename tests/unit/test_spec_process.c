/* config.json "process" and `exec --process` files. */
#include <sched.h>
#include <sys/resource.h>

#include "spec_test.h"

#define PROC(extra) CONFIG(",\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"]" extra "}")

static struct husk_process *proc_ok(const char *json)
{
	struct husk_spec *s = parse_ok(json);
	struct husk_process *p = s->process;
	s->process = NULL;
	husk_spec_free(s);
	assert_non_null(p);
	return p;
}

static void basics(void **state)
{
	struct husk_process *p = proc_ok(
	    PROC(",\"terminal\":true,\"env\":[\"A=1\",\"PATH=/bin\"],\"consoleSize\":{\"height\":"
		 "24,\"width\":80},\"noNewPrivileges\":true,\"oomScoreAdj\":-500,"
		 "\"apparmorProfile\":\"prof\",\"selinuxLabel\":\"lbl\",\"commandLine\":\"x\""));
	assert_true(p->terminal);
	assert_string_equal(p->cwd, "/");
	assert_int_equal(p->args.n, 1);
	assert_string_equal(p->args.v[0], "sh");
	assert_null(p->args.v[1]);
	assert_int_equal(p->env.n, 2);
	assert_string_equal(p->env.v[1], "PATH=/bin");
	assert_true(p->has_console_size);
	assert_int_equal(p->console_height, 24);
	assert_int_equal(p->console_width, 80);
	assert_true(p->no_new_privileges);
	assert_true(p->has_oom_score_adj);
	assert_int_equal(p->oom_score_adj, -500);
	assert_string_equal(p->apparmor_profile, "prof");
	assert_string_equal(p->selinux_label, "lbl");
	assert_string_equal(p->command_line, "x");
	assert_false(p->has_caps);
	assert_null(p->scheduler);
	husk_process_free(p);
}

static void defaults_when_absent(void **state)
{
	struct husk_process *p = proc_ok(PROC(""));
	assert_false(p->terminal);
	assert_false(p->has_console_size);
	assert_false(p->has_oom_score_adj);
	assert_false(p->user.has_umask);
	assert_int_equal(p->user.uid, 0);
	assert_int_equal(p->n_rlimits, 0);
	assert_false(p->has_io_priority);
	husk_process_free(p);
}

static void user(void **state)
{
	struct husk_process *p =
	    proc_ok(PROC(",\"user\":{\"uid\":1000,\"gid\":100,\"umask\":18,"
			 "\"additionalGids\":[5,6,2147483647],\"username\":\"bob\"}"));
	assert_int_equal(p->user.uid, 1000);
	assert_int_equal(p->user.gid, 100);
	assert_true(p->user.has_umask);
	assert_int_equal(p->user.umask, 022);
	assert_int_equal(p->user.n_additional_gids, 3);
	assert_int_equal(p->user.additional_gids[1], 6);
	assert_int_equal(p->user.additional_gids[2], 2147483647u);
	assert_string_equal(p->user.username, "bob");
	husk_process_free(p);
}

static void capabilities(void **state)
{
	struct husk_process *p = proc_ok(
	    PROC(",\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\","
		 "\"CAP_CHECKPOINT_RESTORE\"],\"effective\":[\"CAP_KILL\"],\"inheritable\":[],"
		 "\"permitted\":[\"CAP_SYS_ADMIN\"],\"ambient\":[\"CAP_NET_RAW\"]}"));
	assert_true(p->has_caps);
	assert_int_equal(p->caps.bounding, (1ULL << 0) | (1ULL << 5) | (1ULL << 40));
	assert_int_equal(p->caps.effective, 1ULL << 5);
	assert_int_equal(p->caps.inheritable, 0);
	assert_int_equal(p->caps.permitted, 1ULL << 21);
	assert_int_equal(p->caps.ambient, 1ULL << 13);
	husk_process_free(p);
}

static void rlimits(void **state)
{
	struct husk_process *p =
	    proc_ok(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":4096},"
			 "{\"type\":\"RLIMIT_CORE\",\"soft\":18446744073709551615,"
			 "\"hard\":18446744073709551615}]"));
	assert_int_equal(p->n_rlimits, 2);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(p->rlimits[0].soft, 1024);
	assert_int_equal(p->rlimits[0].hard, 4096);
	assert_int_equal(p->rlimits[1].resource, RLIMIT_CORE);
	assert_true(p->rlimits[1].soft == UINT64_MAX);
	assert_true(p->rlimits[1].hard == UINT64_MAX);
	husk_process_free(p);
}

static void all_rlimit_names(void **state)
{
	static const char *const names[] = {
	    "RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",	"RLIMIT_STACK",
	    "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",	"RLIMIT_NOFILE",
	    "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",	"RLIMIT_SIGPENDING",
	    "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
	};
	static const int values[] = {
	    RLIMIT_CPU,	     RLIMIT_FSIZE, RLIMIT_DATA,	  RLIMIT_STACK,
	    RLIMIT_CORE,     RLIMIT_RSS,   RLIMIT_NPROC,  RLIMIT_NOFILE,
	    RLIMIT_MEMLOCK,  RLIMIT_AS,	   RLIMIT_LOCKS,  RLIMIT_SIGPENDING,
	    RLIMIT_MSGQUEUE, RLIMIT_NICE,  RLIMIT_RTPRIO, RLIMIT_RTTIME,
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(husk_rlimit_from_name(names[i]), values[i]);
	assert_int_equal(husk_rlimit_from_name("RLIMIT_FOO"), -1);
	assert_int_equal(husk_rlimit_from_name("NOFILE"), -1);
}

static void scheduler(void **state)
{
	struct husk_process *p = proc_ok(
	    PROC(",\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"nice\":-5,\"priority\":0,"
		 "\"flags\":[\"SCHED_FLAG_RESET_ON_FORK\",\"SCHED_FLAG_RECLAIM\"],\"runtime\":1000,"
		 "\"deadline\":2000,\"period\":3000}"));
	assert_non_null(p->scheduler);
	assert_int_equal(p->scheduler->policy, 6);
	assert_int_equal(p->scheduler->nice, -5);
	assert_int_equal(p->scheduler->flags, 0x3);
	assert_int_equal(p->scheduler->runtime, 1000);
	assert_int_equal(p->scheduler->deadline, 2000);
	assert_int_equal(p->scheduler->period, 3000);
	husk_process_free(p);
}

static void scheduler_policies(void **state)
{
	struct husk_process *p = proc_ok(PROC(",\"scheduler\":{\"policy\":\"SCHED_BATCH\"}"));
	assert_int_equal(p->scheduler->policy, SCHED_BATCH);
	husk_process_free(p);
	p = proc_ok(PROC(",\"scheduler\":{\"policy\":\"SCHED_IDLE\"}"));
	assert_int_equal(p->scheduler->policy, SCHED_IDLE);
	husk_process_free(p);
}

static void io_priority(void **state)
{
	struct husk_process *p =
	    proc_ok(PROC(",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_IDLE\",\"priority\":7}"));
	assert_true(p->has_io_priority);
	assert_int_equal(p->io_priority_class, 3);
	assert_int_equal(p->io_priority, 7);
	husk_process_free(p);
}

static void cpu_affinity(void **state)
{
	struct husk_process *p =
	    proc_ok(PROC(",\"execCPUAffinity\":{\"initial\":\"0-3,7\",\"final\":\"1\"}"));
	assert_string_equal(p->exec_cpu_affinity_initial, "0-3,7");
	assert_string_equal(p->exec_cpu_affinity_final, "1");
	husk_process_free(p);
}

static void process_json(void **state)
{
	const char *json = "{\"cwd\":\"/tmp\",\"args\":[\"ls\",\"-l\"],\"user\":{\"uid\":1}}";
	struct husk_err err = {0};
	struct husk_process *p = husk_process_parse(json, strlen(json), &err);
	assert_non_null(p);
	assert_string_equal(p->cwd, "/tmp");
	assert_string_equal(p->args.v[1], "-l");
	assert_int_equal(p->user.uid, 1);
	husk_process_free(p);
}

static void process_json_errors(void **state)
{
	struct husk_err err = {0};
	const char *j1 = "{\"cwd\":\"/\",\"args\":[]}";
	const char *j2 =
	    "{\"cwd\":\"/\",\"args\":[\"x\"],\"capabilities\":{\"bounding\":[\"CAP_X\"]}}";
	const char *j3 = "{\"cwd\":";
	assert_null(husk_process_parse(j1, strlen(j1), &err));
	assert_string_equal(err.msg, "process.args: must not be empty");
	assert_null(husk_process_parse(j2, strlen(j2), &err));
	assert_string_equal(err.msg,
			    "process.capabilities.bounding[0]: unknown capability \"CAP_X\"");
	assert_null(husk_process_parse(j3, strlen(j3), &err));
	assert_string_equal(err.msg,
			    "process.json: line 1 column 7: unexpected token near end of file");
}

RUN(cmocka_unit_test(basics), cmocka_unit_test(defaults_when_absent), cmocka_unit_test(user),
    cmocka_unit_test(capabilities), cmocka_unit_test(rlimits), cmocka_unit_test(all_rlimit_names),
    cmocka_unit_test(scheduler), cmocka_unit_test(scheduler_policies),
    cmocka_unit_test(io_priority), cmocka_unit_test(cpu_affinity), cmocka_unit_test(process_json),
    cmocka_unit_test(process_json_errors))
