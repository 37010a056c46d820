/* Drives husk's D-Bus client (src/cgroup/dbus.c) against the fake systemd
 * manager of fake_systemd.py: `driver SOCKET start|set|stop|stop-gone UNIT`.
 * Prints what came back, one line, for the script to check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/dbus.h"
#include "cgroup/internal.h"

int main(int argc, char **argv)
{
	struct husk_resources r = {0};
	struct husk_err err = {0};
	struct dbus_buf b = {0};
	struct dbus_conn c;
	struct dbus_msg reply = {0};
	char *error_name = NULL, *result = NULL;
	const char *verb = argc == 4 ? argv[2] : "";
	int rc;

	if (argc != 4)
		return 2;
	r.has_memory = true;
	r.memory.limit = (struct husk_opt_i64){true, 64 << 20};
	r.pids_limit = (struct husk_opt_i64){true, 42};
	if (dbus_open(&c, argv[1], &err) < 0) {
		printf("error %s\n", err.msg);
		return 1;
	}
	if (strcmp(verb, "start") == 0) {
		cg_systemd_start_body(&b, argv[3], "system.slice", 4242, &r, &err);
		rc = dbus_call_manager(&c, "StartTransientUnit", "ssa(sv)a(sa(sv))", &b, &reply,
				       &error_name, &err);
	} else {
		dbus_put_str(&b, argv[3]);
		dbus_put_str(&b, "replace");
		rc = dbus_call_manager(&c, "StopUnit", "ss", &b, &reply, &error_name, &err);
	}
	if (rc < 0) {
		printf("error %s | %s\n", error_name ? error_name : "-", err.msg);
		free(error_name);
		dbus_buf_free(&b);
		dbus_close(&c);
		return 1;
	}
	const char *job = dbus_get_str(&reply.body);
	if (!job || dbus_wait_job(&c, job, 5000, NULL, NULL, &result, &err) < 0) {
		printf("error waiting | %s\n", err.msg);
		return 1;
	}
	printf("job %s %s\n", job, result);
	free(result);
	dbus_msg_free(&reply);
	dbus_buf_free(&b);
	dbus_close(&c);
	return 0;
}
