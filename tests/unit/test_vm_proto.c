/* The agent protocol's frames (src/vm/proto.c): encoding, and every check a
 * received frame must pass, from both sides. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm/proto.h"

/* A header with any field, even ones husk_vm_hdr_encode would not write. */
static void raw_hdr(uint8_t *b, uint32_t magic, uint16_t type, uint16_t flags, uint32_t stream,
		    uint32_t len)
{
	for (int i = 0; i < 4; i++) {
		b[i] = (uint8_t)(magic >> (8 * i));
		b[8 + i] = (uint8_t)(stream >> (8 * i));
		b[12 + i] = (uint8_t)(len >> (8 * i));
	}
	b[4] = (uint8_t)type;
	b[5] = (uint8_t)(type >> 8);
	b[6] = (uint8_t)flags;
	b[7] = (uint8_t)(flags >> 8);
}

static void hdr_rejected(uint32_t magic, uint16_t type, uint16_t flags, uint32_t len, bool to_host,
			 const char *msg)
{
	uint8_t b[HUSK_VM_HDR_SIZE];
	struct husk_vm_msg m = {0};
	struct husk_err err = {0};

	raw_hdr(b, magic, type, flags, 0, len);
	assert_int_equal(husk_vm_hdr_decode(b, to_host, &m, &err), -1);
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.code, EPROTO);
}

/* The payload check on a message of `type` with this JSON text. */
static int check(uint16_t type, const char *json, struct husk_err *err)
{
	struct husk_vm_msg m = {.type = type, .len = (uint32_t)strlen(json)};
	int r;

	m.payload = (uint8_t *)strdup(json);
	r = husk_vm_payload_check(&m, err);
	husk_vm_msg_clear(&m);
	return r;
}

static void payload_rejected(uint16_t type, const char *json, const char *msg)
{
	struct husk_err err = {0};
	assert_int_equal(check(type, json, &err), -1);
	assert_string_equal(err.msg, msg);
}

static void payload_ok(uint16_t type, const char *json)
{
	struct husk_err err = {0};
	if (check(type, json, &err) != 0)
		fail_msg("%s rejected: %s", json, err.msg);
}

static void round_trip(void **state)
{
	int sv[2];
	struct husk_err err = {0};
	struct husk_vm_msg m;
	json_t *create = json_pack("{s:s, s:{s:s}, s:b}", "id", "c1", "config", "ociVersion",
				   "1.2.0", "terminal", 1);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(husk_vm_send(sv[0], HUSK_VM_CREATE, 0, create, NULL, 0, &err), 0);
	assert_int_equal(husk_vm_send(sv[0], HUSK_VM_STDIN, 7, NULL, "abc", 3, &err), 0);
	assert_int_equal(husk_vm_send(sv[0], HUSK_VM_START, 0, NULL, NULL, 0, &err), 0);
	close(sv[0]);

	assert_int_equal(husk_vm_recv(sv[1], false, &m, &err), 0);
	assert_int_equal(m.type, HUSK_VM_CREATE);
	assert_true(json_equal(m.json, create));
	husk_vm_msg_clear(&m);
	assert_int_equal(husk_vm_recv(sv[1], false, &m, &err), 0);
	assert_int_equal(m.type, HUSK_VM_STDIN);
	assert_int_equal(m.stream, 7);
	assert_int_equal(m.len, 3);
	assert_memory_equal(m.payload, "abc", 3);
	assert_null(m.json);
	husk_vm_msg_clear(&m);
	assert_int_equal(husk_vm_recv(sv[1], false, &m, &err), 0);
	assert_int_equal(m.type, HUSK_VM_START);
	husk_vm_msg_clear(&m);
	/* the peer closed between frames */
	assert_int_equal(husk_vm_recv(sv[1], false, &m, &err), 1);
	close(sv[1]);
	json_decref(create);
}

static void header_fields(void **state)
{
	uint8_t b[HUSK_VM_HDR_SIZE];
	struct husk_vm_msg m = {0};
	struct husk_err err = {0};

	husk_vm_hdr_encode(b, HUSK_VM_STDOUT, 0x01020304, 5);
	assert_memory_equal(b, "\x01MVH\x05\x00\x00\x00\x04\x03\x02\x01\x05\x00\x00\x00", 16);
	assert_int_equal(husk_vm_hdr_decode(b, true, &m, &err), 0);
	assert_int_equal(m.type, HUSK_VM_STDOUT);
	assert_int_equal(m.stream, 0x01020304);
	assert_int_equal(m.len, 5);
}

static void bad_headers(void **state)
{
	hdr_rejected(0x12345678, HUSK_VM_START, 0, 2, false,
		     "agent protocol: bad magic 0x12345678");
	hdr_rejected(HUSK_VM_MAGIC + 1, HUSK_VM_START, 0, 2, false,
		     "agent protocol: version 2, this husk speaks 1");
	hdr_rejected(HUSK_VM_MAGIC, 99, 0, 2, false,
		     "agent protocol: message type 99 not allowed from the host");
	/* each side's types only from that side */
	hdr_rejected(HUSK_VM_MAGIC, HUSK_VM_HELLO, 0, 2, false,
		     "agent protocol: message type 1 not allowed from the host");
	hdr_rejected(HUSK_VM_MAGIC, HUSK_VM_CREATE, 0, 2, true,
		     "agent protocol: message type 32 not allowed from the guest");
	hdr_rejected(HUSK_VM_MAGIC, HUSK_VM_START, 0x8000, 2, false,
		     "agent protocol: START: flags 0x8000");
	hdr_rejected(HUSK_VM_MAGIC, HUSK_VM_CREATE, 0, HUSK_VM_MAX_PAYLOAD + 1, false,
		     "agent protocol: CREATE: 1048577 bytes is too long");
	/* stdio frames are chunked smaller */
	hdr_rejected(HUSK_VM_MAGIC, HUSK_VM_STDIN, 0, HUSK_VM_IO_CHUNK + 1, false,
		     "agent protocol: STDIN: 32769 bytes is too long");
	hdr_rejected(HUSK_VM_MAGIC, HUSK_VM_STDOUT, 0, UINT32_MAX, true,
		     "agent protocol: STDOUT: 4294967295 bytes is too long");
}

static void largest_frames_pass(void **state)
{
	uint8_t b[HUSK_VM_HDR_SIZE];
	struct husk_vm_msg m = {0};
	struct husk_err err = {0};

	raw_hdr(b, HUSK_VM_MAGIC, HUSK_VM_CREATE, 0, 0, HUSK_VM_MAX_PAYLOAD);
	assert_int_equal(husk_vm_hdr_decode(b, false, &m, &err), 0);
	raw_hdr(b, HUSK_VM_MAGIC, HUSK_VM_STDERR, 0, 3, HUSK_VM_IO_CHUNK);
	assert_int_equal(husk_vm_hdr_decode(b, true, &m, &err), 0);
}

static void good_payloads(void **state)
{
	payload_ok(HUSK_VM_HELLO, "{\"version\":1,\"boot_ns\":123}");
	payload_ok(HUSK_VM_CREATE, "{\"id\":\"c\",\"config\":{},\"terminal\":false}");
	payload_ok(HUSK_VM_SIGNAL, "{\"signal\":64,\"all\":true}");
	payload_ok(HUSK_VM_WINSIZE, "{\"rows\":0,\"cols\":65535}");
	payload_ok(HUSK_VM_START, "{}");
	payload_ok(HUSK_VM_ERROR, "{\"errno\":0,\"message\":\"\"}");
	payload_ok(HUSK_VM_EXIT, "{\"status\":255}");
	payload_ok(HUSK_VM_STATS_REPLY, "{\"data\":{\"pids\":{\"current\":1}}}");
	/* stdio payloads are bytes, not checked */
	payload_ok(HUSK_VM_STDIN, "{not json");
}

static void missing_and_unknown_fields(void **state)
{
	payload_rejected(HUSK_VM_CREATE, "{\"id\":\"c\",\"config\":{}}",
			 "agent protocol: CREATE: \"terminal\" is missing");
	payload_rejected(HUSK_VM_EXEC, "{\"terminal\":true}",
			 "agent protocol: EXEC: \"process\" is missing");
	payload_rejected(HUSK_VM_START, "{\"x\":1}", "agent protocol: START: unknown field \"x\"");
	payload_rejected(HUSK_VM_SIGNAL, "{\"signal\":9,\"all\":false,\"pid\":1}",
			 "agent protocol: SIGNAL: unknown field \"pid\"");
}

static void wrong_types(void **state)
{
	payload_rejected(HUSK_VM_SIGNAL, "{\"signal\":\"9\",\"all\":false}",
			 "agent protocol: SIGNAL: \"signal\" must be an integer in 1..64");
	payload_rejected(HUSK_VM_SIGNAL, "{\"signal\":9.0,\"all\":false}",
			 "agent protocol: SIGNAL: \"signal\" must be an integer in 1..64");
	payload_rejected(HUSK_VM_SIGNAL, "{\"signal\":9,\"all\":1}",
			 "agent protocol: SIGNAL: \"all\" must be a boolean");
	payload_rejected(HUSK_VM_CREATE, "{\"id\":1,\"config\":{},\"terminal\":false}",
			 "agent protocol: CREATE: \"id\" must be a string of 1..1024 bytes without "
			 "NUL");
	payload_rejected(HUSK_VM_CREATE, "{\"id\":\"c\",\"config\":[],\"terminal\":false}",
			 "agent protocol: CREATE: \"config\" must be an object");
	payload_rejected(HUSK_VM_EXEC, "{\"process\":null,\"terminal\":false}",
			 "agent protocol: EXEC: \"process\" must be an object");
}

static void out_of_range(void **state)
{
	payload_rejected(HUSK_VM_SIGNAL, "{\"signal\":0,\"all\":false}",
			 "agent protocol: SIGNAL: \"signal\" must be an integer in 1..64");
	payload_rejected(HUSK_VM_SIGNAL, "{\"signal\":65,\"all\":false}",
			 "agent protocol: SIGNAL: \"signal\" must be an integer in 1..64");
	payload_rejected(HUSK_VM_WINSIZE, "{\"rows\":-1,\"cols\":1}",
			 "agent protocol: WINSIZE: \"rows\" must be an integer in 0..65535");
	payload_rejected(HUSK_VM_EXIT, "{\"status\":256}",
			 "agent protocol: EXIT: \"status\" must be an integer in 0..255");
	payload_rejected(HUSK_VM_CREATED, "{\"pid\":0}",
			 "agent protocol: CREATED: \"pid\" must be an integer in 1..4194304");
	payload_rejected(HUSK_VM_CREATE, "{\"id\":\"\",\"config\":{},\"terminal\":false}",
			 "agent protocol: CREATE: \"id\" must be a string of 1..1024 bytes without "
			 "NUL");
	/* a NUL inside a string: jansson refuses it before the field check */
	struct husk_err err = {0};
	assert_int_equal(
	    check(HUSK_VM_CREATE, "{\"id\":\"a\\u0000b\",\"config\":{},\"terminal\":false}", &err),
	    -1);
	assert_non_null(strstr(err.msg, "agent protocol: CREATE: payload: "));
}

static void not_an_object(void **state)
{
	payload_rejected(HUSK_VM_START, "[]", "agent protocol: START: payload is not an object");
	payload_rejected(HUSK_VM_START, "", "agent protocol: START: empty payload");
	struct husk_err err = {0};
	assert_int_equal(check(HUSK_VM_START, "{", &err), -1);
	assert_non_null(strstr(err.msg, "agent protocol: START: payload: "));
	/* a bare value is not even loaded */
	assert_int_equal(check(HUSK_VM_START, "7", &err), -1);
	assert_non_null(strstr(err.msg, "agent protocol: START: payload: "));
	/* trailing bytes after the object */
	assert_int_equal(check(HUSK_VM_START, "{} {}", &err), -1);
}

static void duplicate_keys(void **state)
{
	struct husk_err err = {0};
	assert_int_equal(check(HUSK_VM_SIGNAL, "{\"signal\":9,\"all\":false,\"signal\":1}", &err),
			 -1);
	assert_non_null(strstr(err.msg, "agent protocol: SIGNAL: payload: "));
	assert_non_null(strstr(err.msg, "duplicate"));
}

/* Frames fed to the reader one byte at a time come out whole and checked. */
static void reader_byte_by_byte(void **state)
{
	int sv[2];
	struct husk_err err = {0};
	struct husk_vm_reader r;
	struct husk_vm_msg m = {0};
	uint8_t buf[256];
	size_t n = 0, frames = 0;
	const char *json = "{\"signal\":15,\"all\":true}";

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	husk_vm_hdr_encode(buf, HUSK_VM_SIGNAL, 3, (uint32_t)strlen(json));
	memcpy(buf + HUSK_VM_HDR_SIZE, json, strlen(json));
	n = HUSK_VM_HDR_SIZE + strlen(json);
	husk_vm_hdr_encode(buf + n, HUSK_VM_STDIN, 4, 0); /* an empty STDIN: end of input */
	n += HUSK_VM_HDR_SIZE;
	husk_vm_reader_init(&r, false);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(write(sv[0], buf + i, 1), 1);
		int got = husk_vm_reader_step(&r, sv[1], &m, &err);
		if (i == HUSK_VM_HDR_SIZE + strlen(json) - 1) {
			assert_int_equal(got, 1);
			assert_int_equal(m.type, HUSK_VM_SIGNAL);
			assert_int_equal(m.stream, 3);
			assert_int_equal(json_integer_value(json_object_get(m.json, "signal")), 15);
			husk_vm_msg_clear(&m);
			frames++;
		} else if (i == n - 1) {
			assert_int_equal(got, 1);
			assert_int_equal(m.type, HUSK_VM_STDIN);
			assert_int_equal(m.len, 0);
			husk_vm_msg_clear(&m);
			frames++;
		} else {
			assert_int_equal(got, 0);
		}
	}
	assert_int_equal(frames, 2);
	close(sv[0]);
	assert_int_equal(husk_vm_reader_step(&r, sv[1], &m, &err), 2);
	husk_vm_reader_clear(&r);
	close(sv[1]);
}

/* A bad header is refused as soon as its 16 bytes are in; a frame cut
 * short by the peer is an error, not a clean end. */
static void reader_rejects(void **state)
{
	int sv[2];
	struct husk_err err = {0};
	struct husk_vm_reader r;
	struct husk_vm_msg m = {0};
	uint8_t b[HUSK_VM_HDR_SIZE + 2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	raw_hdr(b, HUSK_VM_MAGIC, HUSK_VM_HELLO, 0, 0, 2);
	assert_int_equal(write(sv[0], b, HUSK_VM_HDR_SIZE), HUSK_VM_HDR_SIZE);
	husk_vm_reader_init(&r, false);
	assert_int_equal(husk_vm_reader_step(&r, sv[1], &m, &err), -1);
	assert_string_equal(err.msg, "agent protocol: message type 1 not allowed from the host");
	husk_vm_reader_clear(&r);

	/* a payload that fails its check */
	husk_vm_hdr_encode(b, HUSK_VM_START, 0, 2);
	memcpy(b + HUSK_VM_HDR_SIZE, "[]", 2);
	assert_int_equal(write(sv[0], b, sizeof(b)), (ssize_t)sizeof(b));
	husk_vm_reader_init(&r, false);
	assert_int_equal(husk_vm_reader_step(&r, sv[1], &m, &err), -1);
	assert_string_equal(err.msg, "agent protocol: START: payload is not an object");
	husk_vm_reader_clear(&r);

	/* closed inside a frame */
	husk_vm_hdr_encode(b, HUSK_VM_START, 0, 2);
	assert_int_equal(write(sv[0], b, HUSK_VM_HDR_SIZE + 1), HUSK_VM_HDR_SIZE + 1);
	close(sv[0]);
	husk_vm_reader_init(&r, false);
	assert_int_equal(husk_vm_reader_step(&r, sv[1], &m, &err), -1);
	assert_string_equal(err.msg, "agent channel: closed inside a frame");
	husk_vm_reader_clear(&r);
	close(sv[1]);
}

static void send_refuses_oversized(void **state)
{
	struct husk_err err = {0};
	static char big[HUSK_VM_IO_CHUNK + 1];
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	assert_int_equal(husk_vm_send(fd, HUSK_VM_STDOUT, 1, NULL, big, sizeof(big), &err), -1);
	assert_string_equal(err.msg, "agent channel: STDOUT: 32769 bytes is too long");
	assert_int_equal(husk_vm_send(fd, HUSK_VM_STDOUT, 1, NULL, big, sizeof(big) - 1, &err), 0);
	close(fd);
}

static void type_names(void **state)
{
	assert_string_equal(husk_vm_type_name(HUSK_VM_EXEC_STARTED), "EXEC_STARTED");
	assert_string_equal(husk_vm_type_name(1000), "unknown");
	assert_true(husk_vm_type_valid(HUSK_VM_STATS_REPLY, true));
	assert_false(husk_vm_type_valid(HUSK_VM_STATS_REPLY, false));
	assert_true(husk_vm_type_is_stream(HUSK_VM_STDERR));
	assert_false(husk_vm_type_is_stream(HUSK_VM_EXIT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(header_fields),
	    cmocka_unit_test(bad_headers),
	    cmocka_unit_test(largest_frames_pass),
	    cmocka_unit_test(good_payloads),
	    cmocka_unit_test(missing_and_unknown_fields),
	    cmocka_unit_test(wrong_types),
	    cmocka_unit_test(out_of_range),
	    cmocka_unit_test(not_an_object),
	    cmocka_unit_test(duplicate_keys),
	    cmocka_unit_test(reader_byte_by_byte),
	    cmocka_unit_test(reader_rejects),
	    cmocka_unit_test(send_refuses_oversized),
	    cmocka_unit_test(type_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
