/* A minimal D-Bus client for systemd's private socket (dbus.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "cgroup/dbus.h"

/* ---- writing ---- */

void dbus_buf_free(struct dbus_buf *b)
{
	free(b->p);
	*b = (struct dbus_buf){0};
}

static void put(struct dbus_buf *b, const void *v, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

static void align(struct dbus_buf *b, size_t a)
{
	static const uint8_t zero[8];
	put(b, zero, (a - b->len % a) % a);
}

void dbus_put_u8(struct dbus_buf *b, uint8_t v)
{
	put(b, &v, 1);
}

void dbus_put_u32(struct dbus_buf *b, uint32_t v)
{
	align(b, 4);
	put(b, &v, 4); /* little endian: the message says 'l' */
}

void dbus_put_bool(struct dbus_buf *b, bool v)
{
	dbus_put_u32(b, v ? 1 : 0);
}

void dbus_put_u64(struct dbus_buf *b, uint64_t v)
{
	align(b, 8);
	put(b, &v, 8);
}

void dbus_put_str(struct dbus_buf *b, const char *s)
{
	size_t n = strlen(s);
	dbus_put_u32(b, (uint32_t)n);
	put(b, s, n + 1);
}

void dbus_put_sig(struct dbus_buf *b, const char *s)
{
	size_t n = strlen(s);
	dbus_put_u8(b, (uint8_t)n);
	put(b, s, n + 1);
}

size_t dbus_array_begin(struct dbus_buf *b, size_t elem_align)
{
	size_t off;
	dbus_put_u32(b, 0);
	off = b->len - 4;
	align(b, elem_align); /* padding before the first element is not counted */
	return off;
}

void dbus_array_end(struct dbus_buf *b, size_t len_off, size_t elem_align)
{
	/* The length counts from the first element, after the padding. */
	size_t start = (len_off + 4 + elem_align - 1) / elem_align * elem_align;
	uint32_t n;

	if (b->oom)
		return;
	n = (uint32_t)(b->len - start);
	memcpy(b->p + len_off, &n, 4);
}

void dbus_prop_begin(struct dbus_buf *b, const char *name, const char *sig)
{
	align(b, 8);
	dbus_put_str(b, name);
	dbus_put_sig(b, sig);
}

/* ---- reading ---- */

static bool rd_align(struct dbus_rd *r, size_t a)
{
	size_t pos = (r->pos + a - 1) / a * a;
	if (pos > r->len) {
		r->bad = true;
		return false;
	}
	r->pos = pos;
	return true;
}

uint32_t dbus_get_u32(struct dbus_rd *r)
{
	uint32_t v = 0;
	if (!rd_align(r, 4) || r->pos + 4 > r->len) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p + r->pos, 4);
	r->pos += 4;
	return v;
}

const char *dbus_get_str(struct dbus_rd *r)
{
	uint32_t n = dbus_get_u32(r);
	const char *s;
	if (r->bad || n >= r->len - r->pos || r->p[r->pos + n] != '\0') {
		r->bad = true;
		return NULL;
	}
	s = (const char *)r->p + r->pos;
	r->pos += n + 1;
	return s;
}

static const char *get_sig(struct dbus_rd *r)
{
	const char *s;
	if (r->pos >= r->len) {
		r->bad = true;
		return NULL;
	}
	uint8_t n = r->p[r->pos++];
	if (n >= r->len - r->pos || r->p[r->pos + n] != '\0') {
		r->bad = true;
		return NULL;
	}
	s = (const char *)r->p + r->pos;
	r->pos += n + 1u;
	return s;
}

void dbus_msg_free(struct dbus_msg *m)
{
	free(m->raw);
	*m = (struct dbus_msg){0};
}

size_t dbus_msg_size(const uint8_t head[16])
{
	uint32_t body, fields;
	if (head[0] != 'l' || head[3] != 1)
		return 0;
	memcpy(&body, head + 4, 4);
	memcpy(&fields, head + 12, 4);
	if (body > (64u << 20) || fields > (64u << 20))
		return 0;
	return (16 + (size_t)fields + 7) / 8 * 8 + body;
}

/* The header fields: (yv) structs, each value a string, path, signature
 * or u32 (every field the specification defines is one of those). */
static int decode_fields(struct dbus_rd *r, size_t end, struct dbus_msg *m)
{
	while (r->pos < end && !r->bad) {
		if (!rd_align(r, 8) || r->pos >= end)
			break;
		uint8_t code = r->p[r->pos++];
		const char *sig = get_sig(r), *s = NULL;
		uint32_t u = 0;
		if (!sig || sig[1] != '\0')
			return -1;
		if (sig[0] == 's' || sig[0] == 'o')
			s = dbus_get_str(r);
		else if (sig[0] == 'g')
			s = get_sig(r);
		else if (sig[0] == 'u')
			u = dbus_get_u32(r);
		else
			return -1;
		if (code == 3)
			m->member = s;
		else if (code == 4)
			m->error_name = s;
		else if (code == 5)
			m->reply_serial = u;
		else if (code == 8)
			m->signature = s;
	}
	return r->bad ? -1 : 0;
}

int dbus_decode(uint8_t *raw, size_t len, struct dbus_msg *m, struct husk_err *err)
{
	uint32_t body_len, fields_len;
	struct dbus_rd r = {.p = raw, .len = len, .pos = 16};
	size_t body_off;

	*m = (struct dbus_msg){.raw = raw};
	if (len < 16 || dbus_msg_size(raw) != len)
		goto bad;
	m->type = raw[1];
	memcpy(&body_len, raw + 4, 4);
	memcpy(&m->serial, raw + 8, 4);
	memcpy(&fields_len, raw + 12, 4);
	body_off = (16 + (size_t)fields_len + 7) / 8 * 8;
	r.len = 16 + fields_len;
	if (decode_fields(&r, r.len, m) < 0)
		goto bad;
	m->body = (struct dbus_rd){.p = raw + body_off, .len = body_len};
	if (!m->signature)
		m->signature = "";
	return 0;
bad:
	dbus_msg_free(m);
	return husk_err_set(err, EPROTO, "systemd: malformed D-Bus message");
}

int dbus_encode_call(uint32_t serial, const char *path, const char *iface, const char *member,
		     const char *dest, const char *sig, const struct dbus_buf *body,
		     struct dbus_buf *out)
{
	const struct {
		uint8_t code;
		char type;
		const char *v;
	} fields[] = {
	    {1, 'o', path}, {2, 's', iface}, {3, 's', member}, {6, 's', dest}, {8, 'g', sig}};
	uint8_t fixed[12] = {'l', 1, 0, 1};
	uint32_t body_len = body ? (uint32_t)body->len : 0;
	size_t arr;

	memcpy(fixed + 4, &body_len, 4);
	memcpy(fixed + 8, &serial, 4);
	put(out, fixed, sizeof(fixed));
	arr = dbus_array_begin(out, 8);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!fields[i].v || (fields[i].type == 'g' && !fields[i].v[0]))
			continue;
		align(out, 8);
		dbus_put_u8(out, fields[i].code);
		dbus_put_sig(out, (char[]){fields[i].type, '\0'});
		if (fields[i].type == 'g')
			dbus_put_sig(out, fields[i].v);
		else
			dbus_put_str(out, fields[i].v);
	}
	dbus_array_end(out, arr, 8);
	align(out, 8);
	if (body && body->len)
		put(out, body->p, body->len);
	return out->oom || (body && body->oom) ? -1 : 0;
}

/* ---- the connection ---- */

static int write_all(int fd, const void *p, size_t n, struct husk_err *err)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return husk_err_sys(err, "systemd: write to D-Bus socket");
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n, long long deadline, struct husk_err *err)
{
	char *c = p;
	while (n > 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long long left = deadline - husk_monotonic_ms();
		if (left <= 0)
			return husk_err_set(err, ETIMEDOUT,
					    "systemd: no answer on the D-Bus socket");
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return husk_err_sys(err, "systemd: poll D-Bus socket");
		ssize_t r = recv(fd, c, n, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return husk_err_sys(err, "systemd: read from D-Bus socket");
		if (r == 0)
			return husk_err_set(err, ECONNRESET, "systemd: D-Bus connection closed");
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The server's answer to AUTH: one line, "OK <guid>" when accepted. */
static int auth(struct dbus_conn *c, struct husk_err *err)
{
	char line[128], uid[32], hex[64] = "";
	size_t n = 0;
	int len = snprintf(uid, sizeof(uid), "%u", (unsigned)geteuid());

	for (int i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)uid[i]);
	snprintf(line, sizeof(line), "AUTH EXTERNAL %s\r\n", hex);
	if (write_all(c->fd, "", 1, err) < 0 || write_all(c->fd, line, strlen(line), err) < 0)
		return -1;
	long long deadline = husk_monotonic_ms() + 10000;
	while (n < sizeof(line) - 1) {
		if (read_all(c->fd, line + n, 1, deadline, err) < 0)
			return -1;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	if (strncmp(line, "OK ", 3) != 0)
		return husk_err_set(err, EACCES, "systemd: D-Bus authentication refused: %.*s",
				    (int)strcspn(line, "\r\n"), line);
	return write_all(c->fd, "BEGIN\r\n", 7, err);
}

int dbus_open(struct dbus_conn *c, const char *socket_path, struct husk_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	*c = (struct dbus_conn){.fd = -1};
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return husk_err_set(err, ENAMETOOLONG, "systemd: socket path %s", socket_path);
	strcpy(sa.sun_path, socket_path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return husk_err_sys(err, "systemd: socket");
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		husk_err_sys(err, "systemd: connect to %s", socket_path);
		dbus_close(c);
		return -1;
	}
	if (auth(c, err) < 0) {
		dbus_close(c);
		return -1;
	}
	return 0;
}

void dbus_close(struct dbus_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	for (size_t i = 0; i < c->n_done; i++) {
		free(c->done_job[i]);
		free(c->done_result[i]);
	}
	*c = (struct dbus_conn){.fd = -1};
}

static int receive(struct dbus_conn *c, struct dbus_msg *m, long long deadline,
		   struct husk_err *err)
{
	uint8_t head[16];
	size_t size;
	uint8_t *raw;

	if (read_all(c->fd, head, sizeof(head), deadline, err) < 0)
		return -1;
	size = dbus_msg_size(head);
	if (size < 16)
		return husk_err_set(err, EPROTO, "systemd: unreadable D-Bus message header");
	raw = malloc(size);
	if (!raw)
		return husk_err_set(err, ENOMEM, "systemd: D-Bus message");
	memcpy(raw, head, sizeof(head));
	if (read_all(c->fd, raw + 16, size - 16, deadline, err) < 0) {
		free(raw);
		return -1;
	}
	return dbus_decode(raw, size, m, err);
}

/* Keep a JobRemoved signal's job and result: the job a caller waits for
 * may finish before the reply that names it has been read. */
static void note_signal(struct dbus_conn *c, struct dbus_msg *m)
{
	if (m->type != 4 || !m->member || strcmp(m->member, "JobRemoved") != 0 ||
	    strcmp(m->signature, "uoss") != 0)
		return;
	struct dbus_rd r = m->body;
	dbus_get_u32(&r);
	const char *job = dbus_get_str(&r);
	dbus_get_str(&r);
	const char *result = dbus_get_str(&r);
	if (r.bad)
		return;
	if (c->n_done == DBUS_MAX_DONE) { /* forget the oldest */
		free(c->done_job[0]);
		free(c->done_result[0]);
		memmove(c->done_job, c->done_job + 1, (DBUS_MAX_DONE - 1) * sizeof(char *));
		memmove(c->done_result, c->done_result + 1, (DBUS_MAX_DONE - 1) * sizeof(char *));
		c->n_done--;
	}
	c->done_job[c->n_done] = strdup(job);
	c->done_result[c->n_done] = strdup(result);
	c->n_done++;
}

int dbus_call_manager(struct dbus_conn *c, const char *member, const char *sig,
		      const struct dbus_buf *body, struct dbus_msg *reply, char **error_name,
		      struct husk_err *err)
{
	struct dbus_buf msg = {0};
	uint32_t serial = ++c->serial;
	long long deadline = husk_monotonic_ms() + 30000;
	int r;

	if (error_name)
		*error_name = NULL;
	if (dbus_encode_call(serial, "/org/freedesktop/systemd1",
			     "org.freedesktop.systemd1.Manager", member, "org.freedesktop.systemd1",
			     sig, body, &msg) < 0) {
		dbus_buf_free(&msg);
		return husk_err_set(err, ENOMEM, "systemd: %s", member);
	}
	r = write_all(c->fd, msg.p, msg.len, err);
	dbus_buf_free(&msg);
	if (r < 0)
		return -1;
	for (;;) {
		if (receive(c, reply, deadline, err) < 0)
			return husk_err_prefix(err, "systemd: %s", member);
		if ((reply->type == 2 || reply->type == 3) && reply->reply_serial == serial)
			break;
		note_signal(c, reply);
		dbus_msg_free(reply);
	}
	if (reply->type == 3) {
		struct dbus_rd rd = reply->body;
		const char *name = reply->error_name ? reply->error_name : "unknown error";
		const char *text = reply->signature[0] == 's' ? dbus_get_str(&rd) : NULL;
		husk_err_set(err, EIO, "systemd: %s: %s: %s", member, name, text ? text : "");
		if (error_name)
			*error_name = strdup(name);
		dbus_msg_free(reply);
		return -1;
	}
	return 0;
}

int dbus_wait_job(struct dbus_conn *c, const char *job, int timeout_ms, bool (*gone)(void *),
		  void *arg, char **result, struct husk_err *err)
{
	long long deadline = husk_monotonic_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		if (gone && poll(&pfd, 1, 100) == 0) {
			if (gone(arg))
				return (*result = strdup("done"))
					   ? 0
					   : husk_err_set(err, ENOMEM, "job");
			if (husk_monotonic_ms() > deadline)
				return husk_err_set(err, ETIMEDOUT, "systemd: wait for job %s",
						    job);
			continue;
		}
		for (size_t i = 0; i < c->n_done; i++) {
			if (c->done_job[i] && strcmp(c->done_job[i], job) == 0) {
				*result = c->done_result[i];
				c->done_result[i] = NULL;
				return *result ? 0 : husk_err_set(err, ENOMEM, "systemd: job");
			}
		}
		struct dbus_msg m;
		if (receive(c, &m, deadline, err) < 0)
			return husk_err_prefix(err, "systemd: wait for job %s", job);
		note_signal(c, &m);
		dbus_msg_free(&m);
	}
}
