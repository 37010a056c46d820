/* The agent protocol: what husk on the host and husk-agent in the guest say
 * to each other over the VM's virtio-serial port (docs/vm-agent.md).
 *
 * Every message is one frame: a 16-byte header, little-endian,
 *
 *	u32 magic    HUSK_VM_MAGIC ("HVM" + protocol version)
 *	u16 type     enum husk_vm_type
 *	u16 flags    0 (others are refused)
 *	u32 stream   which process the message is about: 0 is the container's
 *	             init, exec'd processes get the number the host chose
 *	u32 len      payload bytes that follow, at most HUSK_VM_MAX_PAYLOAD
 *
 * then the payload: raw bytes for the stdio types, a JSON object for the
 * others (its fields below). A peer that breaks any rule (bad magic, unknown
 * type, flags, an oversized frame, a payload that is not the JSON its type
 * needs, a field of the wrong type or out of range) is cut off: the guest is
 * untrusted from the host's side, and the host validates every frame before
 * acting on it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/err.h"

#define HUSK_VM_PROTO_VERSION 1u
#define HUSK_VM_MAGIC	      (0x48564d00u | HUSK_VM_PROTO_VERSION) /* "HVM\1" */
#define HUSK_VM_HDR_SIZE      16u
#define HUSK_VM_MAX_PAYLOAD   (1u << 20) /* a config.json fits; stdio is chunked */
#define HUSK_VM_IO_CHUNK      (32u << 10)
/* The virtio-serial port's name (the guest finds /dev/vportNpM by it). */
#define HUSK_VM_PORT_NAME "org.husk.agent"
/* The virtio-fs tag of the shared directory (rootfs and bind sources). */
#define HUSK_VM_FS_TAG "husk"

enum husk_vm_type {
	/* guest -> host */
	HUSK_VM_HELLO = 1,	  /* {"version": 1, "boot_ns": N}: agent ready */
	HUSK_VM_CREATED = 2,	  /* {"pid": N}: stream's process waits for START */
	HUSK_VM_STARTED = 3,	  /* {}: the init (stream 0) exec'd its program */
	HUSK_VM_EXEC_STARTED = 4, /* {"pid": N} */
	HUSK_VM_STDOUT = 5,	  /* bytes; empty: end of output */
	HUSK_VM_STDERR = 6,	  /* bytes; empty: end of output */
	HUSK_VM_EXIT = 7,	  /* {"status": N}: as a shell reports it (code, 128+signal) */
	HUSK_VM_ERROR = 8,	  /* {"errno": N, "message": "..."}: a request failed */
	/* host -> guest */
	HUSK_VM_CREATE = 32,	 /* {"id": "...", "config": {...}, "terminal": bool} */
	HUSK_VM_START = 33,	 /* {} */
	HUSK_VM_EXEC = 34,	 /* {"process": {...}, "terminal": bool} on a new stream */
	HUSK_VM_STDIN = 35,	 /* bytes; empty: end of input */
	HUSK_VM_SIGNAL = 36,	 /* {"signal": N, "all": bool} */
	HUSK_VM_WINSIZE = 37,	 /* {"rows": N, "cols": N} */
	HUSK_VM_STATS = 38,	 /* {}: answered by STATS_REPLY */
	HUSK_VM_STATS_REPLY = 9, /* guest -> host: {"data": {...}} (events' data object) */
};

struct husk_vm_msg {
	uint16_t type;
	uint32_t stream;
	uint32_t len;
	uint8_t *payload; /* len bytes (+ a NUL the sender did not send), or NULL */
	json_t *json;	  /* the payload parsed, for the JSON types; else NULL */
};

/* Whether a message of `type` may come from the guest (to_host) or the host. */
bool husk_vm_type_valid(uint16_t type, bool to_host);
/* Its name for logs and errors ("EXEC"), or "unknown". */
const char *husk_vm_type_name(uint16_t type);
/* Whether its payload is raw bytes (stdio) rather than JSON. */
bool husk_vm_type_is_stream(uint16_t type);

/* Encode a header into buf (HUSK_VM_HDR_SIZE bytes). */
void husk_vm_hdr_encode(uint8_t *buf, uint16_t type, uint32_t stream, uint32_t len);
/* Decode and check one: magic, flags, length, and that `type` may travel
 * this way (to_host: a guest's message). */
int husk_vm_hdr_decode(const uint8_t *buf, bool to_host, struct husk_vm_msg *m,
		       struct husk_err *err);

/* Parse and check m's payload against its type's fields; sets m->json. */
int husk_vm_payload_check(struct husk_vm_msg *m, struct husk_err *err);

/* Send one frame on a blocking fd (all of it, EINTR retried). `json` for
 * the JSON types (NULL sends "{}"), `data`/`len` for the stream types. */
int husk_vm_send(int fd, uint16_t type, uint32_t stream, const json_t *json, const void *data,
		 size_t len, struct husk_err *err);

/* Read one whole frame from a blocking fd and check it (header and
 * payload). 0: a message in *m; 1: the peer closed before a frame began. */
int husk_vm_recv(int fd, bool to_host, struct husk_vm_msg *m, struct husk_err *err);

/* Incremental receive for a non-blocking fd in an event loop. Feed bytes as
 * they come; each complete frame is checked and handed out. */
struct husk_vm_reader {
	bool to_host;
	uint8_t hdr[HUSK_VM_HDR_SIZE];
	size_t have;
	struct husk_vm_msg cur;
	bool in_payload;
};
void husk_vm_reader_init(struct husk_vm_reader *r, bool to_host);
/* Read what fd has; 1: a frame is complete in *out (caller owns it, then
 * calls husk_vm_msg_clear), 0: need more (EAGAIN), 2: end of file between
 * frames, -1: error (read error, or the peer broke the protocol). */
int husk_vm_reader_step(struct husk_vm_reader *r, int fd, struct husk_vm_msg *out,
			struct husk_err *err);
void husk_vm_reader_clear(struct husk_vm_reader *r);

void husk_vm_msg_clear(struct husk_vm_msg *m);
