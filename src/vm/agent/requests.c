/* What each message from the host does. Every message has passed
 * proto.c's checks (its fields exist, with their types and ranges); what
 * is checked here is whether it makes sense now: its stream, the state of
 * the container. A request that does not gets ERROR and changes nothing. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "vm/agent/agent.h"

static struct husk_ctx ctx_of(const struct agent *a)
{
	return (struct husk_ctx){.root = a->state_root};
}

int agent_read_pid_file(const char *path, pid_t *pid, struct husk_err *err)
{
	char buf[32];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *end;
	long v;

	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) < 0)
		return husk_err_sys(err, "read %s", path);
	buf[n] = '\0';
	v = strtol(buf, &end, 10);
	if (end == buf || v <= 0 || v > (1L << 22))
		return husk_err_plain(err, EINVAL, "%s: not a pid", path);
	*pid = (pid_t)v;
	unlink(path);
	return 0;
}

/* The process object with "terminal" as the host asked (husk makes the pty
 * by it; the message's flag is what the agent then expects). */
static int set_terminal(json_t *process, bool terminal, struct husk_err *err)
{
	if (!json_is_object(process))
		return husk_err_plain(err, EINVAL, "\"process\" must be an object");
	if (json_object_set_new(process, "terminal", json_boolean(terminal)) < 0)
		return husk_err_set(err, ENOMEM, "process.terminal");
	return 0;
}

static int write_json(const char *path, json_t *obj, struct husk_err *err)
{
	unlink(path);
	if (json_dump_file(obj, path, JSON_COMPACT) < 0)
		return husk_err_set(err, errno ? errno : EIO, "write %s", path);
	return 0;
}

/* Run `spawn` with the process's stdio in place; then its pid from the
 * pid file. The entry is the caller's to free on failure. */
typedef int (*spawn_fn)(struct agent *a, const char *pid_file, const char *console, void *arg,
			struct husk_err *err);

static int spawn_with_stdio(struct agent *a, struct agent_proc *p, bool terminal, spawn_fn fn,
			    void *arg, struct husk_err *err)
{
	struct agent_stdio s;
	char pid_file[PATH_MAX];
	int r;

	snprintf(pid_file, sizeof(pid_file), "%s/pid-%u", a->work_dir, p->stream);
	unlink(pid_file);
	r = agent_stdio_prepare(a, &s, p, terminal, err);
	if (r == 0)
		r = agent_stdio_swap_in(&s, err);
	if (r == 0) {
		r = fn(a, pid_file, terminal ? s.sock_path : NULL, arg, err);
		agent_stdio_swap_out(&s);
	}
	if (r == 0)
		r = agent_stdio_finish(&s, p, err);
	agent_stdio_release(&s);
	if (r == 0)
		r = agent_read_pid_file(pid_file, &p->pid, err);
	return r;
}

static int do_create(struct agent *a, const char *pid_file, const char *console, void *arg,
		     struct husk_err *err)
{
	struct husk_ctx ctx = ctx_of(a);
	struct husk_create_opts o = {
	    .bundle = a->bundle_dir, .pid_file = pid_file, .console_socket = console};
	return husk_create(&ctx, arg, &o, err);
}

static int create(struct agent *a, struct husk_vm_msg *m, struct husk_err *err)
{
	const char *id = json_string_value(json_object_get(m->json, "id"));
	json_t *config = json_object_get(m->json, "config");
	bool terminal = json_is_true(json_object_get(m->json, "terminal"));
	char path[PATH_MAX];
	struct agent_proc *p;

	if (m->stream != 0)
		return husk_err_plain(err, EINVAL, "CREATE on stream %u: it belongs on 0",
				      m->stream);
	if (a->id)
		return husk_err_plain(err, EEXIST, "CREATE %s: container %s exists", id, a->id);
	snprintf(path, sizeof(path), "%s/config.json", a->bundle_dir);
	if (set_terminal(json_object_get(config, "process"), terminal, err) < 0)
		return husk_err_prefix(err, "create %s: config", id);
	/* Once: a CREATE that fails here ends the VM (the host gives up). */
	if (agent_net_setup(a, config, err) < 0)
		return husk_err_prefix(err, "create %s", id);
	if (write_json(path, config, err) < 0)
		return -1;
	p = agent_proc_new(a, 0, err);
	if (!p)
		return -1;
	if (spawn_with_stdio(a, p, terminal, do_create, (void *)id, err) < 0) {
		agent_proc_free(a, p);
		return -1;
	}
	a->id = strdup(id);
	if (!a->id)
		return husk_err_set(err, ENOMEM, "create %s", id);
	return agent_send(a, HUSK_VM_CREATED, 0, json_pack("{s:i}", "pid", (int)p->pid));
}

static int start(struct agent *a, struct husk_vm_msg *m, struct husk_err *err)
{
	struct husk_ctx ctx = ctx_of(a);

	if (m->stream != 0)
		return husk_err_plain(err, EINVAL, "START on stream %u: it belongs on 0",
				      m->stream);
	if (!a->id)
		return husk_err_plain(err, ENOENT, "START: no container was created");
	if (husk_start(&ctx, a->id, err) < 0)
		return -1;
	return agent_send(a, HUSK_VM_STARTED, 0, NULL);
}

static int do_exec(struct agent *a, const char *pid_file, const char *console, void *arg,
		   struct husk_err *err)
{
	struct husk_ctx ctx = ctx_of(a);
	struct husk_exec_opts o = {
	    .process = arg, .pid_file = pid_file, .console_socket = console, .detach = true};
	int status;

	return husk_exec(&ctx, a->id, &o, &status, err);
}

static int exec_process(struct agent *a, struct husk_vm_msg *m, struct husk_err *err)
{
	json_t *process = json_object_get(m->json, "process");
	bool terminal = json_is_true(json_object_get(m->json, "terminal"));
	char path[PATH_MAX];
	struct husk_process *hp;
	struct agent_proc *p;
	int r;

	if (m->stream == 0)
		return husk_err_plain(err, EINVAL,
				      "EXEC on stream 0: that is the container's init");
	if (!a->id)
		return husk_err_plain(err, ENOENT, "EXEC: no container was created");
	if (agent_proc_find(a, m->stream))
		return husk_err_plain(err, EEXIST, "EXEC: stream %u is in use", m->stream);
	snprintf(path, sizeof(path), "%s/process-%u.json", a->work_dir, m->stream);
	if (set_terminal(process, terminal, err) < 0 || write_json(path, process, err) < 0)
		return husk_err_prefix(err, "exec %s", a->id);
	hp = husk_process_load(path, err);
	unlink(path);
	if (!hp)
		return husk_err_prefix(err, "exec %s", a->id);
	p = agent_proc_new(a, m->stream, err);
	r = p ? spawn_with_stdio(a, p, terminal, do_exec, hp, err) : -1;
	husk_process_free(hp);
	if (r < 0) {
		if (p)
			agent_proc_free(a, p);
		return -1;
	}
	return agent_send(a, HUSK_VM_EXEC_STARTED, m->stream,
			  json_pack("{s:i}", "pid", (int)p->pid));
}

static struct agent_proc *live_proc(struct agent *a, uint32_t stream, const char *what,
				    struct husk_err *err)
{
	struct agent_proc *p = agent_proc_find(a, stream);
	if (!p)
		husk_err_plain(err, ESRCH, "%s: no process on stream %u", what, stream);
	return p;
}

static int stdin_data(struct agent *a, struct husk_vm_msg *m, struct husk_err *err)
{
	struct agent_proc *p = live_proc(a, m->stream, "STDIN", err);
	return p ? agent_proc_stdin(p, m->payload, m->len, err) : -1;
}

static int signal_proc(struct agent *a, struct husk_vm_msg *m, struct husk_err *err)
{
	int sig = (int)json_integer_value(json_object_get(m->json, "signal"));
	bool all = json_is_true(json_object_get(m->json, "all"));
	struct husk_ctx ctx = ctx_of(a);
	struct agent_proc *p = live_proc(a, m->stream, "SIGNAL", err);

	if (!p)
		return -1;
	if (m->stream == 0)
		return husk_kill(&ctx, a->id, sig, all, err);
	if (p->exited)
		return 0;
	if (kill(p->pid, sig) < 0)
		return husk_err_sys(err, "signal %d to %d", sig, (int)p->pid);
	return 0;
}

static int winsize(struct agent *a, struct husk_vm_msg *m, struct husk_err *err)
{
	struct winsize ws = {
	    .ws_row = (unsigned short)json_integer_value(json_object_get(m->json, "rows")),
	    .ws_col = (unsigned short)json_integer_value(json_object_get(m->json, "cols"))};
	struct agent_proc *p = live_proc(a, m->stream, "WINSIZE", err);

	if (!p)
		return -1;
	if (!p->pty || p->in_fd < 0)
		return husk_err_plain(err, ENOTTY, "WINSIZE: stream %u has no terminal", m->stream);
	if (ioctl(p->in_fd, TIOCSWINSZ, &ws) < 0)
		return husk_err_sys(err, "WINSIZE on stream %u", m->stream);
	return 0;
}

/* Reals that hold an integer exactly become integers again. */
static void reals_to_ints(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_real(v))
		return;
	if (json_is_object(v)) {
		json_object_foreach(v, key, item)
		{
			double d = json_real_value(item);
			if (json_is_real(item) && d == (double)(json_int_t)d &&
			    d < 9007199254740992.0 && d > -9007199254740992.0)
				json_object_set_new(v, key, json_integer((json_int_t)d));
			else
				reals_to_ints(item);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			double d = json_real_value(item);
			if (json_is_real(item) && d == (double)(json_int_t)d &&
			    d < 9007199254740992.0 && d > -9007199254740992.0)
				json_array_set_new(v, i, json_integer((json_int_t)d));
			else
				reals_to_ints(item);
		}
	}
}

/* The stats line as JSON. cgroup v2's "max" is 2^64 - 1, past what
 * jansson (and the host's check of the reply) takes as an integer: such
 * numbers come as reals, every other number as it was. */
static json_t *parse_stats(const char *line)
{
	json_t *obj = json_loads(line, 0, NULL);

	if (obj)
		return obj;
	obj = json_loads(line, JSON_DECODE_INT_AS_REAL, NULL);
	if (obj)
		reals_to_ints(obj);
	return obj;
}

/* The data object `husk events --stats` prints for the container. */
static int stats(struct agent *a, struct husk_vm_msg *m, struct husk_err *err)
{
	struct husk_ctx ctx = ctx_of(a);
	struct husk_events *ev;
	_cleanup_free_ char *line = NULL;
	json_t *obj, *data;

	if (m->stream != 0)
		return husk_err_plain(err, EINVAL, "STATS on stream %u: it belongs on 0",
				      m->stream);
	if (!a->id)
		return husk_err_plain(err, ENOENT, "STATS: no container was created");
	if (husk_events_open(&ctx, a->id, &ev, err) < 0)
		return -1;
	line = husk_events_stats(ev, err);
	husk_events_close(ev);
	if (!line)
		return -1;
	obj = parse_stats(line);
	data = json_object_get(obj, "data");
	if (!json_is_object(data)) {
		json_decref(obj);
		return husk_err_plain(err, EPROTO, "stats %s: no data object", a->id);
	}
	json_incref(data);
	json_decref(obj);
	return agent_send(a, HUSK_VM_STATS_REPLY, 0, json_pack("{s:o}", "data", data));
}

/* 0: done (or answered with ERROR); -1: the channel failed. */
int agent_handle(struct agent *a, struct husk_vm_msg *m)
{
	struct husk_err err = {0};
	int r;

	switch (m->type) {
	case HUSK_VM_CREATE:
		r = create(a, m, &err);
		break;
	case HUSK_VM_START:
		r = start(a, m, &err);
		break;
	case HUSK_VM_EXEC:
		r = exec_process(a, m, &err);
		break;
	case HUSK_VM_STDIN:
		r = stdin_data(a, m, &err);
		break;
	case HUSK_VM_SIGNAL:
		r = signal_proc(a, m, &err);
		break;
	case HUSK_VM_WINSIZE:
		r = winsize(a, m, &err);
		break;
	case HUSK_VM_STATS:
		r = stats(a, m, &err);
		break;
	default: /* proto.c lets only the host's types through */
		r = husk_err_plain(&err, EPROTO, "message type %u", m->type);
		break;
	}
	if (a->failed)
		return -1;
	if (r < 0)
		return agent_send_error(a, m->stream, &err);
	return 0;
}
