/* `husk spec`: the default config.json written into a bundle. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/io.h"

static int write_config(const char *bundle, const char *text, struct husk_err *err)
{
	char path[4096];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/config.json", bundle);
	/* O_EXCL: never overwrite a config someone already wrote. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST)
		return husk_err_set(err, 0, "File config.json exists. Remove it first.");
	if (fd < 0)
		return husk_err_sys(err, "create %s", path);
	if (husk_write_all(fd, text, strlen(text)) < 0 || husk_write_all(fd, "\n", 1) < 0) {
		husk_err_sys(err, "write %s", path);
		unlink(path);
		return -1;
	}
	return 0;
}

int husk_spec_write_default(const char *bundle, bool rootless, struct husk_err *err)
{
	_cleanup_free_ char *text = husk_spec_default_json(rootless, err);

	if (!text || write_config(bundle, text, err) < 0)
		return husk_err_prefix(err, "spec");
	return 0;
}
