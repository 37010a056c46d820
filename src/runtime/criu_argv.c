/* criu's command line from what husk knows of a container: pure logic. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "runtime/criu.h"
#include "util/argv.h"

const char *husk_criu_log_name(enum husk_criu_action a)
{
	switch (a) {
	case HUSK_CRIU_PRE_DUMP:
		return "pre-dump.log";
	case HUSK_CRIU_RESTORE:
		return "restore.log";
	case HUSK_CRIU_DUMP:
		break;
	}
	return "dump.log";
}

int husk_criu_cgroups_mode(const char *mode, const char **out, struct husk_err *err)
{
	static const char *const modes[] = {"soft", "full", "strict", "ignore"};

	if (!mode) {
		*out = "soft";
		return 0;
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(mode, modes[i]) == 0) {
			*out = modes[i];
			return 0;
		}
	return husk_err_plain(err, EINVAL,
			      "--manage-cgroups-mode: unknown mode \"%s\" (want soft, full, strict "
			      "or ignore)",
			      mode);
}

static const char *action_word(enum husk_criu_action a)
{
	return a == HUSK_CRIU_RESTORE ? "restore" : a == HUSK_CRIU_PRE_DUMP ? "pre-dump" : "dump";
}

/* The flags runc passes straight through, and the cgroup mode. */
static void add_common(struct husk_argv *b, const struct husk_criu_job *job, const char *cg_mode)
{
	const struct husk_criu_opts *o = job->o;

	husk_argv_add(b, "--images-dir");
	husk_argv_add(b, "%s", job->image_dir);
	husk_argv_add(b, "--work-dir");
	husk_argv_add(b, "%s", job->work_dir);
	husk_argv_add(b, "--log-file");
	husk_argv_add(b, "%s", husk_criu_log_name(job->action));
	husk_argv_add(b, "-v4");
	husk_argv_add(b, "--root");
	husk_argv_add(b, "%s", job->root);
	husk_argv_add(b, "--manage-cgroups=%s", cg_mode);
	if (job->network_lock_nft) {
		husk_argv_add(b, "--network-lock");
		husk_argv_add(b, "nftables");
	}
	if (o->tcp_established)
		husk_argv_add(b, "--tcp-established");
	if (o->ext_unix_sk)
		husk_argv_add(b, "--ext-unix-sk");
	if (o->shell_job)
		husk_argv_add(b, "--shell-job");
	if (o->file_locks)
		husk_argv_add(b, "--file-locks");
}

static void add_dump(struct husk_argv *b, const struct husk_criu_job *job)
{
	const struct husk_criu_opts *o = job->o;

	husk_argv_add(b, "--tree");
	husk_argv_add(b, "%d", (int)job->pid);
	if (job->action == HUSK_CRIU_PRE_DUMP || o->parent_path)
		husk_argv_add(b, "--track-mem");
	if (o->parent_path) {
		husk_argv_add(b, "--prev-images-dir");
		husk_argv_add(b, "%s", o->parent_path);
	}
	if (job->action == HUSK_CRIU_DUMP && o->leave_running)
		husk_argv_add(b, "--leave-running");
	for (size_t i = 0; i < job->n_mounts; i++) {
		husk_argv_add(b, "--external");
		husk_argv_add(b, "mnt[%s]:%s", job->mounts[i].dest, job->mounts[i].dest);
	}
	for (size_t i = 0; i < job->n_files; i++) {
		husk_argv_add(b, "--external");
		husk_argv_add(b, "%s", job->files[i]);
	}
	if (job->netns_inode) {
		husk_argv_add(b, "--external");
		husk_argv_add(b, "net[%lu]:%s", job->netns_inode, HUSK_CRIU_NETNS_KEY);
	}
}

/* The restored init becomes a child of criu's parent (husk): a foreground
 * restore waits for it as run does, a detached one leaves it to the
 * caller's subreaper. */
static void add_restore(struct husk_argv *b, const struct husk_criu_job *job)
{
	husk_argv_add(b, "--restore-detached");
	husk_argv_add(b, "--restore-sibling");
	husk_argv_add(b, "--pidfile");
	husk_argv_add(b, "%s", job->pidfile);
	if (job->cgroup_root) {
		husk_argv_add(b, "--cgroup-root");
		husk_argv_add(b, "%s", job->cgroup_root);
	}
	for (size_t i = 0; i < job->n_mounts; i++) {
		husk_argv_add(b, "--external");
		husk_argv_add(b, "mnt[%s]:%s", job->mounts[i].dest, job->mounts[i].source);
	}
	for (size_t i = 0; i < job->n_inherit; i++) {
		husk_argv_add(b, "--inherit-fd");
		husk_argv_add(b, "fd[%d]:%s", job->inherit[i].fd, job->inherit[i].key);
	}
}

char **husk_criu_argv(const struct husk_criu_job *job, struct husk_err *err)
{
	struct husk_argv b = {0};
	const char *cg_mode;

	if (husk_criu_cgroups_mode(job->o->manage_cgroups_mode, &cg_mode, err) < 0)
		return NULL;
	husk_argv_add(&b, "%s", job->criu);
	husk_argv_add(&b, "%s", action_word(job->action));
	add_common(&b, job, cg_mode);
	if (job->action == HUSK_CRIU_RESTORE)
		add_restore(&b, job);
	else
		add_dump(&b, job);
	return husk_argv_finish(&b, "criu arguments", err);
}

void husk_criu_file_key(char *out, size_t size, int mnt_id, unsigned long long ino)
{
	snprintf(out, size, "file[%x:%llx]", (unsigned)mnt_id, ino);
}

static bool is_bind(const struct husk_mount *m)
{
	return m->opts.bind || (m->opts.flags & MS_BIND) ||
	       (m->type && strcmp(m->type, "bind") == 0);
}

/* Whether path lies at or below dir (by their text: both are as the config
 * and create resolve them, absolute). */
static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int husk_criu_bind_mounts(const struct husk_spec *spec, const char *rootfs,
			  struct husk_criu_mount **out, size_t *n, struct husk_err *err)
{
	*out = calloc(spec->n_mounts + 1, sizeof(**out));
	*n = 0;
	if (!*out)
		return husk_err_set(err, ENOMEM, "external mounts");
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct husk_mount *m = &spec->mounts[i];
		if (!is_bind(m) || !m->source || m->source[0] != '/' || below(m->source, rootfs))
			continue;
		(*out)[(*n)++] = (struct husk_criu_mount){m->destination, m->source};
	}
	return 0;
}

static const char *annotation(const struct husk_spec *s, const char *key)
{
	for (size_t i = 0; i < s->annotations.n; i++)
		if (strcmp(s->annotations.v[i].key, key) == 0)
			return s->annotations.v[i].value;
	return NULL;
}

const char *husk_criu_unsupported(const struct husk_spec *spec)
{
	const char *idmap = annotation(spec, "husk.rootfs.idmap");

	if (idmap && strcmp(idmap, "true") == 0)
		return "its rootfs is idmapped (husk.rootfs.idmap=true), which criu 3.17 "
		       "cannot restore: idmapped mounts come back without their mapping";
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct husk_mount *m = &spec->mounts[i];
		if (m->opts.idmap || m->n_uid_mappings || m->n_gid_mappings)
			return "it has an idmapped mount, which criu 3.17 cannot restore: "
			       "idmapped mounts come back without their mapping";
	}
	if (spec->process && spec->process->terminal)
		return "its process has a terminal (process.terminal), which husk does not "
		       "checkpoint";
	return NULL;
}
