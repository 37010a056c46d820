/* Just enough of the D-Bus wire protocol to talk to systemd's manager over
 * its private socket: EXTERNAL authentication, method calls, their replies
 * and the JobRemoved signal (docs/cgroups.md says why not sd-bus). Little
 * endian messages only, which is what systemd sends on every host husk runs. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* A message body being written; alignment is relative to its start, which
 * the message puts on an 8-byte boundary. */
struct dbus_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

void dbus_buf_free(struct dbus_buf *b);
void dbus_put_u8(struct dbus_buf *b, uint8_t v);
void dbus_put_bool(struct dbus_buf *b, bool v);
void dbus_put_u32(struct dbus_buf *b, uint32_t v);
void dbus_put_u64(struct dbus_buf *b, uint64_t v);
void dbus_put_str(struct dbus_buf *b, const char *s); /* 's' and 'o' */
void dbus_put_sig(struct dbus_buf *b, const char *s); /* 'g' */
/* An array: begin returns the offset of its length word; elem_align is the
 * alignment of its elements (8 for structs). */
size_t dbus_array_begin(struct dbus_buf *b, size_t elem_align);
void dbus_array_end(struct dbus_buf *b, size_t len_off, size_t elem_align);
/* One (sv) entry of a property array, its variant's signature given; the
 * caller then writes the value. */
void dbus_prop_begin(struct dbus_buf *b, const char *name, const char *sig);

/* Reading a received body. */
struct dbus_rd {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};
uint32_t dbus_get_u32(struct dbus_rd *r);
const char *dbus_get_str(struct dbus_rd *r); /* NULL when malformed */

struct dbus_msg {
	uint8_t *raw;
	uint8_t type; /* 1 call, 2 reply, 3 error, 4 signal */
	uint32_t serial, reply_serial;
	const char *member, *error_name, *signature;
	struct dbus_rd body;
};
void dbus_msg_free(struct dbus_msg *m);

/* JobRemoved signals seen while waiting for something else. */
#define DBUS_MAX_DONE 16
struct dbus_conn {
	int fd;
	uint32_t serial;
	size_t n_done;
	char *done_job[DBUS_MAX_DONE], *done_result[DBUS_MAX_DONE];
};

/* Connect to a unix socket and authenticate as the caller's euid. */
int dbus_open(struct dbus_conn *c, const char *socket_path, struct husk_err *err);
void dbus_close(struct dbus_conn *c);

/* Call member of org.freedesktop.systemd1.Manager on /org/freedesktop/systemd1
 * and wait for its reply. An error reply fails with its name and message
 * ("org.freedesktop.systemd1.NoSuchUnit: Unit x.scope not loaded."); its
 * name is left in *error_name (caller frees) when that is not NULL. */
int dbus_call_manager(struct dbus_conn *c, const char *member, const char *sig,
		      const struct dbus_buf *body, struct dbus_msg *reply, char **error_name,
		      struct husk_err *err);

/* Wait (up to timeout_ms) for the JobRemoved signal of job; its result
 * ("done", "failed", "canceled", ...) in *result (caller frees). When
 * gone(arg) says the job's work is visibly done, that is "done" too. */
int dbus_wait_job(struct dbus_conn *c, const char *job, int timeout_ms, bool (*gone)(void *),
		  void *arg, char **result, struct husk_err *err);

/* Encode a whole message (header + body) into out; exposed for tests. */
int dbus_encode_call(uint32_t serial, const char *path, const char *iface, const char *member,
		     const char *dest, const char *sig, const struct dbus_buf *body,
		     struct dbus_buf *out);
/* Decode one complete message of `len` bytes (takes ownership of raw). */
int dbus_decode(uint8_t *raw, size_t len, struct dbus_msg *m, struct husk_err *err);
/* How many bytes the message whose first 16 bytes are `head` has in all;
 * 0 when the header is not one we can read. */
size_t dbus_msg_size(const uint8_t head[16]);
