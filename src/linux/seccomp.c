/* linux.seccomp compiled with libseccomp. Compiled before "ready" so a bad
 * profile fails `create`; loaded by child.c at the latest point its
 * position allows. With SCMP_ACT_NOTIFY the listener goes to the parent,
 * which hands it to listenerPath together with the container state. */
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "linux/internal.h"
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
		return husk_err_set(err, EINVAL, "seccomp rule for %s: too many arguments", name);
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
		for (; name[k] && k < sizeof(lower) - 1; k++)
			lower[k] =
			    (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
		lower[k] = '\0';
		uint32_t arch = seccomp_arch_resolve_name(lower);
		if (arch == 0)
			return husk_err_set(err, EINVAL, "seccomp: unknown architecture %s",
					    arches->v[i]);
		int rc = seccomp_arch_add(ctx, arch);
		if (rc < 0 && rc != -EEXIST)
			return husk_err_set(err, -rc, "seccomp: add architecture %s", arches->v[i]);
	}
	return 0;
}

static int set_flags(scmp_filter_ctx ctx, const struct husk_strv *flags, struct husk_err *err)
{
	/* no_new_privs is process.noNewPrivileges' business, not libseccomp's. */
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	for (size_t i = 0; rc == 0 && i < flags->n; i++) {
		const char *f = flags->v[i];
		if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0)
			rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			continue; /* the process is single-threaded */
		else
			return husk_err_set(err, EOPNOTSUPP, "seccomp flag %s is not supported", f);
		if (rc < 0)
			return husk_err_set(err, -rc, "seccomp flag %s", f);
	}
	if (rc < 0)
		return husk_err_set(err, -rc, "seccomp filter attributes");
	return 0;
}

int husk_seccomp_compile(const struct husk_seccomp *sc, void **out, struct husk_err *err)
{
	uint32_t def =
	    action_value(sc->default_action, sc->has_default_errno_ret, sc->default_errno_ret);
	scmp_filter_ctx ctx = seccomp_init(def);

	*out = NULL;
	if (!ctx)
		return husk_err_set(err, ENOMEM, "seccomp_init");
	if (add_arches(ctx, &sc->architectures, err) < 0 || set_flags(ctx, &sc->flags, err) < 0 ||
	    add_rules(ctx, sc, def, err) < 0) {
		seccomp_release(ctx);
		return -1;
	}
	*out = ctx;
	return 0;
}

int husk_seccomp_load(void *filter, int *notify_fd, struct husk_err *err)
{
	*notify_fd = -1;
	int rc = seccomp_load(filter);
	if (rc < 0)
		return husk_err_set(err, -rc, "load seccomp filter");
	int fd = seccomp_notify_fd(filter);
	if (fd >= 0)
		*notify_fd = fd;
	return 0;
}

void husk_seccomp_release(void *filter)
{
	if (filter)
		seccomp_release(filter);
}

static char *listener_state_json(const struct husk_spec *spec, const char *id, const char *bundle,
				 pid_t pid)
{
	json_t *ann = json_object();
	for (size_t i = 0; ann && i < spec->annotations.n; i++)
		json_object_set_new(ann, spec->annotations.v[i].key,
				    json_string(spec->annotations.v[i].value));
	const char *version = spec->oci_version ? spec->oci_version : "1.0.2";
	const char *meta = spec->linux.seccomp->listener_metadata;
	json_t *doc =
	    json_pack("{s:s, s:[s], s:i, s:s, s:{s:s, s:s, s:s, s:i, s:s, s:o}}", "ociVersion",
		      version, "fds", "seccompFd", "pid", (int)pid, "metadata", meta ? meta : "",
		      "state", "ociVersion", version, "id", id, "status", "creating", "pid",
		      (int)pid, "bundle", bundle, "annotations", ann);
	if (!doc)
		return NULL;
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return text;
}

int husk_seccomp_send_listener(const struct husk_spec *spec, const char *id, const char *bundle,
			       pid_t pid, int notify_fd, struct husk_err *err)
{
	const char *path = spec->linux.seccomp ? spec->linux.seccomp->listener_path : NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (!path)
		return husk_err_set(err, EINVAL, "seccomp: SCMP_ACT_NOTIFY needs listenerPath");
	if (strlen(path) >= sizeof(sa.sun_path))
		return husk_err_set(err, ENAMETOOLONG, "seccomp listener %s", path);
	strcpy(sa.sun_path, path);
	_cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return husk_err_sys(err, "connect to seccomp listener %s", path);
	_cleanup_free_ char *state = listener_state_json(spec, id, bundle ? bundle : "", pid);
	if (!state)
		return husk_err_set(err, ENOMEM, "seccomp listener state");
	if (husk_send_fd(sock, state, strlen(state), notify_fd, err) < 0)
		return husk_err_prefix(err, "send seccomp listener to %s", path);
	return 0;
}
