/* linux.seccomp compiled to BPF with libseccomp (or taken from the cache,
 * seccomp_cache.c) by the runtime before clone, so a bad profile fails
 * `create` and the child only makes one seccomp(2) call, at the latest
 * point its position allows. With SCMP_ACT_NOTIFY the listener goes to the
 * parent, which hands it to listenerPath together with the container state. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "linux/internal.h"
#include "state/state.h"
#include "util/cleanup.h"
#include "util/log.h"

static uint32_t action_value(enum husk_seccomp_action a, bool has_ret, uint32_t ret)
{
	uint32_t errno_ret = has_ret ? ret : EPERM;

	switch (a) {
	case HUSK_SCMP_KILL:
	case HUSK_SCMP_KILL_THREAD:
		return SCMP_ACT_KILL_THREAD;
	case HUSK_SCMP_KILL_PROCESS:
		return SCMP_ACT_KILL_PROCESS;
	case HUSK_SCMP_TRAP:
		return SCMP_ACT_TRAP;
	case HUSK_SCMP_ERRNO:
		return SCMP_ACT_ERRNO(errno_ret);
	case HUSK_SCMP_TRACE:
		return SCMP_ACT_TRACE(errno_ret);
	case HUSK_SCMP_LOG:
		return SCMP_ACT_LOG;
	case HUSK_SCMP_NOTIFY:
		return SCMP_ACT_NOTIFY;
	case HUSK_SCMP_ALLOW:
		break;
	}
	return SCMP_ACT_ALLOW;
}

static const enum scmp_compare ops[] = {
    [HUSK_SCMP_CMP_NE] = SCMP_CMP_NE,
    [HUSK_SCMP_CMP_LT] = SCMP_CMP_LT,
    [HUSK_SCMP_CMP_LE] = SCMP_CMP_LE,
    [HUSK_SCMP_CMP_EQ] = SCMP_CMP_EQ,
    [HUSK_SCMP_CMP_GE] = SCMP_CMP_GE,
    [HUSK_SCMP_CMP_GT] = SCMP_CMP_GT,
    [HUSK_SCMP_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

static struct scmp_arg_cmp to_cmp(const struct husk_seccomp_arg *a)
{
	/* For MASKED_EQ both OCI and libseccomp put the mask first. */
	return (struct scmp_arg_cmp){
	    .arg = a->index, .op = ops[a->op], .datum_a = a->value, .datum_b = a->value_two};
}

static bool repeats_an_index(const struct husk_seccomp_rule *r)
{
	for (size_t i = 0; i < r->n_args; i++)
		for (size_t k = i + 1; k < r->n_args; k++)
			if (r->args[i].index == r->args[k].index)
				return true;
	return false;
}

/* Conditions on different arguments are ANDed in one rule. libseccomp
 * refuses two conditions on the same argument, so such a rule becomes one
 * rule per condition (ORed), which is how runc reads it. */
static int add_syscall(scmp_filter_ctx ctx, uint32_t action, int nr,
		       const struct husk_seccomp_rule *r, const char *name, struct husk_err *err)
{
	struct scmp_arg_cmp cmp[6];
	int rc;

	if (r->n_args > HUSK_ARRAY_SIZE(cmp))
		return husk_err_plain(err, EINVAL, "seccomp rule for %s: too many arguments", name);
	for (size_t i = 0; i < r->n_args; i++)
		cmp[i] = to_cmp(&r->args[i]);
	if (r->n_args > 1 && repeats_an_index(r)) {
		for (size_t i = 0; i < r->n_args; i++)
			if ((rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[i])) < 0)
				return husk_err_set(err, -rc, "seccomp rule for %s", name);
		return 0;
	}
	rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)r->n_args, cmp);
	if (rc < 0)
		return husk_err_set(err, -rc, "seccomp rule for %s", name);
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct husk_seccomp *sc, uint32_t def,
		     struct husk_err *err)
{
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct husk_seccomp_rule *r = &sc->rules[i];
		uint32_t action = action_value(r->action, r->has_errno_ret, r->errno_ret);
		if (action == def)
			continue; /* libseccomp rejects rules that repeat the default */
		for (size_t k = 0; k < r->names.n; k++) {
			int nr = seccomp_syscall_resolve_name(r->names.v[k]);
			if (nr == __NR_SCMP_ERROR) {
				husk_debug("seccomp: unknown syscall %s ignored", r->names.v[k]);
				continue;
			}
			if (add_syscall(ctx, action, nr, r, r->names.v[k], err) < 0)
				return -1;
		}
	}
	return 0;
}

static int add_arches(scmp_filter_ctx ctx, const struct husk_strv *arches, struct husk_err *err)
{
	for (size_t i = 0; i < arches->n; i++) {
		const char *name = arches->v[i];
		char lower[32];
		size_t k = 0;
		if (strncmp(name, "SCMP_ARCH_", 10) == 0)
			name += 10;
		for (; k < sizeof(lower) - 1 && name[k]; k++)
			lower[k] =
			    (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
		lower[k] = '\0';
		uint32_t arch = seccomp_arch_resolve_name(lower);
		if (arch == 0)
			return husk_err_plain(err, EINVAL, "seccomp: unknown architecture %s",
					      arches->v[i]);
		int rc = seccomp_arch_add(ctx, arch);
		if (rc < 0 && rc != -EEXIST)
			return husk_err_set(err, -rc, "seccomp: add architecture %s", arches->v[i]);
	}
	return 0;
}

struct husk_seccomp_prog {
	struct sock_filter *insns;
	size_t count;
	unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
};

/* The profile's flags go to seccomp(2) itself, as libseccomp would pass
 * them; NEW_LISTENER when a rule notifies. */
static int kernel_flags(const struct husk_seccomp *sc, unsigned int *out, struct husk_err *err)
{
	unsigned int flags = 0;

	for (size_t i = 0; i < sc->flags.n; i++) {
		const char *f = sc->flags.v[i];
		if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0)
			flags |= SECCOMP_FILTER_FLAG_LOG;
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
			flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") != 0) /* single-threaded */
			return husk_err_set(err, EOPNOTSUPP, "seccomp flag %s is not supported", f);
	}
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct husk_seccomp_rule *r = &sc->rules[i];
		if (r->action != HUSK_SCMP_NOTIFY)
			continue;
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		/* The child hands the listener over with sendmsg once the filter
		 * is loaded: notified, it would wait for an answer that only the
		 * listener it is carrying could give, and create would hang. */
		for (size_t k = 0; k < r->names.n; k++)
			if (strcmp(r->names.v[k], "sendmsg") == 0)
				return husk_err_set(
				    err, EINVAL,
				    "seccomp: SCMP_ACT_NOTIFY cannot be used for "
				    "sendmsg (the runtime passes the listener with it)");
	}
	if ((flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) &&
	    !(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER))
		flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	*out = flags;
	return 0;
}

/* libseccomp writes the program to an fd; a memfd brings it back. */
static struct sock_filter *export_bpf(scmp_filter_ctx ctx, size_t *count, struct husk_err *err)
{
	struct stat st;
	_cleanup_close_ int fd = memfd_create("husk-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return husk_err_sys(err, "memfd_create"), NULL;
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return husk_err_set(err, -rc, "seccomp: generate the filter"), NULL;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % sizeof(struct sock_filter))
		return husk_err_set(err, EIO, "seccomp: bad filter size"), NULL;
	struct sock_filter *insns = malloc((size_t)st.st_size);
	if (!insns)
		return husk_err_set(err, ENOMEM, "seccomp filter"), NULL;
	if (pread(fd, insns, (size_t)st.st_size, 0) != st.st_size) {
		free(insns);
		return husk_err_sys(err, "seccomp: read the filter"), NULL;
	}
	*count = (size_t)st.st_size / sizeof(struct sock_filter);
	return insns;
}

static struct sock_filter *compile_bpf(const struct husk_seccomp *sc, size_t *count,
				       struct husk_err *err)
{
	uint32_t def =
	    action_value(sc->default_action, sc->has_default_errno_ret, sc->default_errno_ret);
	scmp_filter_ctx ctx = seccomp_init(def);
	struct sock_filter *insns = NULL;

	if (!ctx)
		return husk_err_set(err, ENOMEM, "seccomp_init"), NULL;
	if (add_arches(ctx, &sc->architectures, err) == 0 && add_rules(ctx, sc, def, err) == 0)
		insns = export_bpf(ctx, count, err);
	seccomp_release(ctx);
	return insns;
}

int husk_seccomp_compile(const struct husk_seccomp *sc, void **out, struct husk_err *err)
{
	struct husk_seccomp_prog *prog = calloc(1, sizeof(*prog));
	size_t canon_len = 0;

	*out = NULL;
	if (!prog)
		return husk_err_set(err, ENOMEM, "seccomp filter");
	_cleanup_free_ char *canon = husk_seccomp_canon(sc, &canon_len);
	if (kernel_flags(sc, &prog->flags, err) < 0)
		goto fail;
	if (canon && (prog->insns = husk_seccomp_cache_get(canon, canon_len, &prog->count)))
		husk_debug("seccomp: filter from the cache");
	if (!prog->insns) {
		prog->insns = compile_bpf(sc, &prog->count, err);
		if (!prog->insns)
			goto fail;
		if (canon)
			husk_seccomp_cache_put(canon, canon_len, prog->insns, prog->count);
	}
	if (prog->count > BPF_MAXINSNS) {
		husk_err_set(err, E2BIG, "seccomp filter of %zu instructions", prog->count);
		goto fail;
	}
	*out = prog;
	return 0;
fail:
	husk_seccomp_release(prog);
	return -1;
}

int husk_seccomp_load(void *filter, int *notify_fd, struct husk_err *err)
{
	struct husk_seccomp_prog *prog = filter;
	struct sock_fprog fprog = {.len = (unsigned short)prog->count, .filter = prog->insns};

	*notify_fd = -1;
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, prog->flags, &fprog);
	if (rc < 0)
		return husk_err_sys(err, "load seccomp filter");
	if (prog->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
		*notify_fd = (int)rc; /* the kernel makes it close-on-exec */
	return 0;
}

bool husk_seccomp_has_listener(const void *filter)
{
	const struct husk_seccomp_prog *prog = filter;
	return prog && (prog->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER);
}

/* For a filter loaded after "ready", where a failure can no longer fail
 * `create`: the kernel answers EFAULT for a NULL program when it knows
 * every flag, EINVAL when it does not (libseccomp probes it the same way). */
int husk_seccomp_check(const void *filter, struct husk_err *err)
{
	const struct husk_seccomp_prog *prog = filter;

	if (!prog || prog->flags == 0)
		return 0;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, prog->flags, NULL) == 0 ||
	    errno == EFAULT)
		return 0;
	return husk_err_sys(err, "seccomp: the kernel refuses the filter flags 0x%x", prog->flags);
}

void husk_seccomp_release(void *filter)
{
	struct husk_seccomp_prog *prog = filter;
	if (prog) {
		free(prog->insns);
		free(prog);
	}
}

/* For an exec the container is running and its state names its init; the
 * top-level pid is always the process whose listener this is. */
static char *listener_state_json(const struct husk_spec *spec, const char *id, const char *bundle,
				 pid_t pid, pid_t init_pid)
{
	/* A view for the encoder, which only reads it. */
	const struct husk_container shown = {
	    .id = (char *)id,
	    .bundle = (char *)bundle,
	    .pid = init_pid ? init_pid : pid,
	    .status = init_pid ? HUSK_STATUS_RUNNING : HUSK_STATUS_CREATING,
	    .annotations = spec->annotations,
	};
	return husk_state_listener_json(&shown, pid, spec->linux.seccomp->listener_metadata);
}

int husk_seccomp_send_listener(const struct husk_spec *spec, const char *id, const char *bundle,
			       pid_t pid, pid_t init_pid, int notify_fd, struct husk_err *err)
{
	const char *path = spec->linux.seccomp ? spec->linux.seccomp->listener_path : NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (!path)
		return husk_err_plain(err, EINVAL, "seccomp: SCMP_ACT_NOTIFY needs listenerPath");
	if (strlen(path) >= sizeof(sa.sun_path))
		return husk_err_set(err, ENAMETOOLONG, "seccomp listener %s", path);
	strcpy(sa.sun_path, path);
	_cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return husk_err_sys(err, "connect to seccomp listener %s", path);
	_cleanup_free_ char *state =
	    listener_state_json(spec, id, bundle ? bundle : "", pid, init_pid);
	if (!state)
		return husk_err_set(err, ENOMEM, "seccomp listener state");
	if (husk_send_fd(sock, state, strlen(state), notify_fd, err) < 0)
		return husk_err_prefix(err, "send seccomp listener to %s", path);
	return 0;
}
