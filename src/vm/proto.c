/* The agent protocol's frames: encoding, and the checks every received frame
 * passes before anyone acts on it (proto.h). */
#include "vm/proto.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

enum field_kind { F_INT, F_BOOL, F_STR, F_OBJ };

struct field {
	const char *name;
	enum field_kind kind;
	long long min, max; /* F_INT: the range; F_STR: the length range */
};

#define MAX_FIELDS 3
struct msg_type {
	uint16_t type;
	const char *name;
	bool to_host; /* sent by the guest */
	bool stream;  /* raw bytes, not JSON */
	struct field fields[MAX_FIELDS];
};

#define PID_MAX (1LL << 22) /* the kernel's PID_MAX_LIMIT */

static const struct msg_type types[] = {
    {HUSK_VM_HELLO,
     "HELLO",
     true,
     false,
     {{"version", F_INT, 1, 1000}, {"boot_ns", F_INT, 0, INT64_MAX}}},
    {HUSK_VM_CREATED, "CREATED", true, false, {{"pid", F_INT, 1, PID_MAX}}},
    {HUSK_VM_STARTED, "STARTED", true, false, {{0}}},
    {HUSK_VM_EXEC_STARTED, "EXEC_STARTED", true, false, {{"pid", F_INT, 1, PID_MAX}}},
    {HUSK_VM_STDOUT, "STDOUT", true, true, {{0}}},
    {HUSK_VM_STDERR, "STDERR", true, true, {{0}}},
    {HUSK_VM_EXIT, "EXIT", true, false, {{"status", F_INT, 0, 255}}},
    {HUSK_VM_ERROR, "ERROR", true, false, {{"errno", F_INT, 0, 4095}, {"message", F_STR, 0, 4096}}},
    {HUSK_VM_STATS_REPLY, "STATS_REPLY", true, false, {{"data", F_OBJ, 0, 0}}},
    {HUSK_VM_CREATE,
     "CREATE",
     false,
     false,
     {{"id", F_STR, 1, 1024}, {"config", F_OBJ, 0, 0}, {"terminal", F_BOOL, 0, 0}}},
    {HUSK_VM_START, "START", false, false, {{0}}},
    {HUSK_VM_EXEC, "EXEC", false, false, {{"process", F_OBJ, 0, 0}, {"terminal", F_BOOL, 0, 0}}},
    {HUSK_VM_STDIN, "STDIN", false, true, {{0}}},
    {HUSK_VM_SIGNAL, "SIGNAL", false, false, {{"signal", F_INT, 1, 64}, {"all", F_BOOL, 0, 0}}},
    {HUSK_VM_WINSIZE,
     "WINSIZE",
     false,
     false,
     {{"rows", F_INT, 0, 65535}, {"cols", F_INT, 0, 65535}}},
    {HUSK_VM_STATS, "STATS", false, false, {{0}}},
};

static const struct msg_type *find_type(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return &types[i];
	return NULL;
}

bool husk_vm_type_valid(uint16_t type, bool to_host)
{
	const struct msg_type *t = find_type(type);
	return t && t->to_host == to_host;
}

const char *husk_vm_type_name(uint16_t type)
{
	const struct msg_type *t = find_type(type);
	return t ? t->name : "unknown";
}

bool husk_vm_type_is_stream(uint16_t type)
{
	const struct msg_type *t = find_type(type);
	return t && t->stream;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void husk_vm_hdr_encode(uint8_t *buf, uint16_t type, uint32_t stream, uint32_t len)
{
	put32(buf, HUSK_VM_MAGIC);
	buf[4] = (uint8_t)type;
	buf[5] = (uint8_t)(type >> 8);
	buf[6] = buf[7] = 0;
	put32(buf + 8, stream);
	put32(buf + 12, len);
}

int husk_vm_hdr_decode(const uint8_t *buf, bool to_host, struct husk_vm_msg *m,
		       struct husk_err *err)
{
	uint32_t magic = get32(buf);
	uint16_t type = (uint16_t)(buf[4] | buf[5] << 8), flags = (uint16_t)(buf[6] | buf[7] << 8);
	const struct msg_type *t;

	if ((magic & 0xffffff00u) != (HUSK_VM_MAGIC & 0xffffff00u))
		return husk_err_plain(err, EPROTO, "agent protocol: bad magic 0x%08x", magic);
	if (magic != HUSK_VM_MAGIC)
		return husk_err_plain(err, EPROTO,
				      "agent protocol: version %u, this husk speaks %u",
				      magic & 0xffu, HUSK_VM_PROTO_VERSION);
	t = find_type(type);
	if (!t || t->to_host != to_host)
		return husk_err_plain(err, EPROTO, "agent protocol: message type %u not allowed %s",
				      type, to_host ? "from the guest" : "from the host");
	if (flags)
		return husk_err_plain(err, EPROTO, "agent protocol: %s: flags 0x%x", t->name,
				      flags);
	*m = (struct husk_vm_msg){.type = type, .stream = get32(buf + 8), .len = get32(buf + 12)};
	if (m->len > (t->stream ? HUSK_VM_IO_CHUNK : HUSK_VM_MAX_PAYLOAD))
		return husk_err_plain(err, EPROTO, "agent protocol: %s: %u bytes is too long",
				      t->name, m->len);
	return 0;
}

static int check_field(const struct msg_type *t, const struct field *f, json_t *v,
		       struct husk_err *err)
{
	switch (f->kind) {
	case F_INT:
		if (!json_is_integer(v) || json_integer_value(v) < f->min ||
		    json_integer_value(v) > f->max)
			return husk_err_plain(err, EPROTO,
					      "agent protocol: %s: \"%s\" must be an integer in "
					      "%lld..%lld",
					      t->name, f->name, f->min, f->max);
		return 0;
	case F_BOOL:
		if (!json_is_boolean(v))
			return husk_err_plain(err, EPROTO,
					      "agent protocol: %s: \"%s\" must be a "
					      "boolean",
					      t->name, f->name);
		return 0;
	case F_STR:
		if (!json_is_string(v) || (long long)json_string_length(v) < f->min ||
		    (long long)json_string_length(v) > f->max ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return husk_err_plain(err, EPROTO,
					      "agent protocol: %s: \"%s\" must be a string of "
					      "%lld..%lld bytes without NUL",
					      t->name, f->name, f->min, f->max);
		return 0;
	case F_OBJ:
		if (!json_is_object(v))
			return husk_err_plain(err, EPROTO,
					      "agent protocol: %s: \"%s\" must be an "
					      "object",
					      t->name, f->name);
		return 0;
	}
	return 0;
}

static const struct field *known_field(const struct msg_type *t, const char *key)
{
	for (size_t i = 0; i < MAX_FIELDS && t->fields[i].name; i++)
		if (strcmp(t->fields[i].name, key) == 0)
			return &t->fields[i];
	return NULL;
}

static int check_object(const struct msg_type *t, json_t *obj, struct husk_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		if (!known_field(t, key))
			return husk_err_plain(
			    err, EPROTO, "agent protocol: %s: unknown field \"%s\"", t->name, key);
	}
	for (size_t i = 0; i < MAX_FIELDS && t->fields[i].name; i++) {
		v = json_object_get(obj, t->fields[i].name);
		if (!v)
			return husk_err_plain(err, EPROTO, "agent protocol: %s: \"%s\" is missing",
					      t->name, t->fields[i].name);
		if (check_field(t, &t->fields[i], v, err) < 0)
			return -1;
	}
	return 0;
}

int husk_vm_payload_check(struct husk_vm_msg *m, struct husk_err *err)
{
	const struct msg_type *t = find_type(m->type);
	json_error_t jerr;

	if (!t)
		return husk_err_plain(err, EPROTO, "agent protocol: message type %u", m->type);
	if (t->stream)
		return 0;
	if (m->len == 0)
		return husk_err_plain(err, EPROTO, "agent protocol: %s: empty payload", t->name);
	m->json = json_loadb((const char *)m->payload, m->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!m->json)
		return husk_err_plain(err, EPROTO, "agent protocol: %s: payload: %s", t->name,
				      jerr.text);
	if (!json_is_object(m->json))
		return husk_err_plain(err, EPROTO, "agent protocol: %s: payload is not an object",
				      t->name);
	return check_object(t, m->json, err);
}

/* The header and payload in as few writes as the fd takes: on a guest's
 * virtio-serial port each write is one buffer the host must consume. A
 * non-blocking fd that is full is waited for (poll), not failed. */
static int write_all(int fd, struct iovec *iov, int n_iov, struct husk_err *err)
{
	while (n_iov > 0) {
		ssize_t n = writev(fd, iov, n_iov);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return husk_err_sys(err, "agent channel: wait to write");
			continue;
		}
		if (n < 0)
			return husk_err_sys(err, "agent channel: write");
		while (n_iov > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			n_iov--;
		}
		if (n_iov > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int husk_vm_send(int fd, uint16_t type, uint32_t stream, const json_t *json, const void *data,
		 size_t len, struct husk_err *err)
{
	uint8_t hdr[HUSK_VM_HDR_SIZE];
	char *text = NULL;
	int r;

	if (!husk_vm_type_is_stream(type)) {
		text = json ? json_dumps(json, JSON_COMPACT) : strdup("{}");
		if (!text)
			return husk_err_set(err, ENOMEM, "agent channel: encode %s",
					    husk_vm_type_name(type));
		data = text;
		len = strlen(text);
	}
	if (len > (husk_vm_type_is_stream(type) ? HUSK_VM_IO_CHUNK : HUSK_VM_MAX_PAYLOAD)) {
		free(text);
		return husk_err_plain(err, EMSGSIZE, "agent channel: %s: %zu bytes is too long",
				      husk_vm_type_name(type), len);
	}
	husk_vm_hdr_encode(hdr, type, stream, (uint32_t)len);
	struct iovec iov[2] = {{.iov_base = hdr, .iov_len = sizeof(hdr)},
			       {.iov_base = (void *)data, .iov_len = len}};
	r = write_all(fd, iov, len > 0 ? 2 : 1, err);
	free(text);
	return r;
}

/* 0: all read; 1: end of file before any byte; -1: error (also EOF midway). */
static int read_all(int fd, void *buf, size_t len, struct husk_err *err)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_err_sys(err, "agent channel: read");
		if (n == 0)
			return got == 0 ? 1
					: husk_err_plain(err, EPROTO,
							 "agent channel: closed inside a frame");
		got += (size_t)n;
	}
	return 0;
}

int husk_vm_recv(int fd, bool to_host, struct husk_vm_msg *m, struct husk_err *err)
{
	uint8_t hdr[HUSK_VM_HDR_SIZE];
	int r;

	*m = (struct husk_vm_msg){0};
	r = read_all(fd, hdr, sizeof(hdr), err);
	if (r != 0)
		return r;
	if (husk_vm_hdr_decode(hdr, to_host, m, err) < 0)
		return -1;
	m->payload = malloc(m->len + 1);
	if (!m->payload)
		return husk_err_set(err, ENOMEM, "agent channel: %u bytes", m->len);
	m->payload[m->len] = 0;
	if (m->len > 0 && read_all(fd, m->payload, m->len, err) != 0) {
		husk_vm_msg_clear(m);
		return husk_err_plain(err, EPROTO, "agent channel: closed inside a frame");
	}
	if (husk_vm_payload_check(m, err) < 0) {
		husk_vm_msg_clear(m);
		return -1;
	}
	return 0;
}

void husk_vm_reader_init(struct husk_vm_reader *r, bool to_host)
{
	*r = (struct husk_vm_reader){.to_host = to_host};
}

void husk_vm_reader_clear(struct husk_vm_reader *r)
{
	husk_vm_msg_clear(&r->cur);
	husk_vm_reader_init(r, r->to_host);
}

/* Read into the header or the payload, whichever is being filled. */
static int reader_fill(struct husk_vm_reader *r, int fd, struct husk_err *err)
{
	uint8_t *dst = r->in_payload ? r->cur.payload : r->hdr;
	size_t want = r->in_payload ? r->cur.len : HUSK_VM_HDR_SIZE;
	ssize_t n;

	do
		n = read(fd, dst + r->have, want - r->have);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0)
		return husk_err_sys(err, "agent channel: read");
	if (n == 0) {
		if (!r->in_payload && r->have == 0)
			return 2;
		return husk_err_plain(err, EPROTO, "agent channel: closed inside a frame");
	}
	r->have += (size_t)n;
	return 1;
}

int husk_vm_reader_step(struct husk_vm_reader *r, int fd, struct husk_vm_msg *out,
			struct husk_err *err)
{
	for (;;) {
		int n;

		if (!r->in_payload && r->have == HUSK_VM_HDR_SIZE) {
			if (husk_vm_hdr_decode(r->hdr, r->to_host, &r->cur, err) < 0)
				return -1;
			r->cur.payload = malloc(r->cur.len + 1);
			if (!r->cur.payload)
				return husk_err_set(err, ENOMEM, "agent channel: %u bytes",
						    r->cur.len);
			r->cur.payload[r->cur.len] = 0;
			r->in_payload = true;
			r->have = 0;
		}
		if (r->in_payload && r->have == r->cur.len) {
			if (husk_vm_payload_check(&r->cur, err) < 0)
				return -1;
			*out = r->cur;
			r->cur = (struct husk_vm_msg){0};
			r->in_payload = false;
			r->have = 0;
			return 1;
		}
		n = reader_fill(r, fd, err);
		if (n != 1)
			return n;
	}
}

void husk_vm_msg_clear(struct husk_vm_msg *m)
{
	free(m->payload);
	if (m->json)
		json_decref(m->json);
	*m = (struct husk_vm_msg){0};
}
