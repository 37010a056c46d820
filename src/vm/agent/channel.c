/* The channel to the host: one fd, read without blocking by the event loop
 * (husk_vm_reader) and written whole frames at a time (blocking), so the
 * O_NONBLOCK flag is switched to what each side needs. And the agent's log. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vm/agent/agent.h"

static int log_fd = STDERR_FILENO;
static bool log_kmsg;

void agent_log_init(bool init)
{
	if (!init)
		return;
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		log_fd = fd;
		log_kmsg = true;
	}
}

void agent_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n = snprintf(line, sizeof(line), "%shusk-agent: ", log_kmsg ? "<3>" : "");

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	/* one write: one kmsg record */
	if (write(log_fd, line, (size_t)n) < 0)
		return;
}

static int set_nonblock(struct agent *a, bool on)
{
	int fl;

	if (a->chan_nonblock == on)
		return 0;
	fl = fcntl(a->chan, F_GETFL);
	if (fl < 0 || fcntl(a->chan, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
		return -1;
	a->chan_nonblock = on;
	return 0;
}

static int send_frame(struct agent *a, uint16_t type, uint32_t stream, const json_t *json,
		      const void *data, size_t len)
{
	struct husk_err err = {0};

	if (a->chan < 0)
		return -1;
	if (set_nonblock(a, false) < 0 ||
	    husk_vm_send(a->chan, type, stream, json, data, len, &err) < 0) {
		agent_log("send %s: %s", husk_vm_type_name(type),
			  err.msg[0] ? err.msg : strerror(errno));
		/* the host is gone or the frame cannot be sent: the end */
		a->failed = true;
		return -1;
	}
	return 0;
}

/* Sends json (and drops the caller's reference). */
int agent_send(struct agent *a, uint16_t type, uint32_t stream, json_t *json)
{
	int r;

	if (!json && !husk_vm_type_is_stream(type)) {
		json = json_object();
		if (!json)
			return -1;
	}
	r = send_frame(a, type, stream, json, NULL, 0);
	json_decref(json);
	return r;
}

int agent_send_bytes(struct agent *a, uint16_t type, uint32_t stream, const void *data, size_t len)
{
	return send_frame(a, type, stream, NULL, data, len);
}

int agent_send_error(struct agent *a, uint32_t stream, const struct husk_err *err)
{
	/* ERROR's checks on the host: errno 0..4095, a message of at most
	 * 4096 bytes; a message naming a path that is not UTF-8 would not be
	 * JSON at all, so bytes outside ASCII become '?' */
	int code = err->code > 0 && err->code < 4096 ? err->code : 0;
	char msg[HUSK_ERR_MSG_MAX];
	size_t i;

	for (i = 0; i < sizeof(msg) - 1 && err->msg[i]; i++)
		msg[i] = (unsigned char)err->msg[i] < 0x80 ? err->msg[i] : '?';
	msg[i] = '\0';
	return agent_send(a, HUSK_VM_ERROR, stream,
			  json_pack("{s:i, s:s}", "errno", code, "message", msg));
}

/* One step of the reader: 1 a message, 0 nothing yet, 2 the host closed,
 * -1 an error (the host broke the protocol). */
int agent_recv(struct agent *a, struct husk_vm_msg *m, struct husk_err *err)
{
	if (set_nonblock(a, true) < 0)
		return husk_err_sys(err, "agent channel: fcntl");
	return husk_vm_reader_step(&a->reader, a->chan, m, err);
}
