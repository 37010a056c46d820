"""The agent protocol of husk's vm backend (src/vm/proto.h), from the host's
side: frames to send to husk-agent and a reader for what it answers.

A frame is a 16-byte little-endian header (u32 magic "HVM" + version,
u16 type, u16 flags, u32 stream, u32 len) and len bytes of payload: raw
bytes for the stdio types, a JSON object for the others.
"""

import json
import os
import select
import struct
import time

VERSION = 1
MAGIC = 0x48564D00 | VERSION
HDR = struct.Struct("<IHHII")
MAX_PAYLOAD = 1 << 20
IO_CHUNK = 32 << 10

# guest -> host
HELLO, CREATED, STARTED, EXEC_STARTED, STDOUT, STDERR, EXIT, ERROR, STATS_REPLY = range(1, 10)
# host -> guest
CREATE, START, EXEC, STDIN, SIGNAL, WINSIZE, STATS = range(32, 39)

NAMES = {v: k for k, v in dict(
    HELLO=HELLO, CREATED=CREATED, STARTED=STARTED, EXEC_STARTED=EXEC_STARTED, STDOUT=STDOUT,
    STDERR=STDERR, EXIT=EXIT, ERROR=ERROR, STATS_REPLY=STATS_REPLY, CREATE=CREATE,
    START=START, EXEC=EXEC, STDIN=STDIN, SIGNAL=SIGNAL, WINSIZE=WINSIZE, STATS=STATS).items()}
STREAM_TYPES = {STDOUT, STDERR, STDIN}


def frame(type_, stream=0, payload=None, magic=MAGIC, flags=0, length=None):
    """One frame; payload: bytes, or a dict for the JSON types. `magic`,
    `flags` and `length` let a test break the rules on purpose."""
    if payload is None:
        payload = b"" if type_ in STREAM_TYPES else {}
    if isinstance(payload, dict):
        payload = json.dumps(payload).encode()
    n = len(payload) if length is None else length
    return HDR.pack(magic, type_, flags, stream, n) + payload


class Msg:
    def __init__(self, type_, stream, payload):
        self.type, self.stream, self.payload = type_, stream, payload
        self.json = None if type_ in STREAM_TYPES else json.loads(payload)

    def __repr__(self):
        body = self.payload if self.json is None else self.json
        return f"<{NAMES.get(self.type, self.type)} stream {self.stream}: {body!r}>"


class Channel:
    """The host's end of the agent's channel (a socket)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.log = []  # every message received, in order
        self.pending = []  # stdio that expect() passed over, for recv() to return

    def send(self, type_, stream=0, payload=None):
        self.sock.sendall(frame(type_, stream, payload))

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no frame from the agent in time; got " + repr(self.log[-5:]))
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return True
        data = self.sock.recv(1 << 20)
        if not data:
            return False
        self.buf += data
        return True

    def recv(self, timeout=10):
        """The next message, or None when the agent closed the channel."""
        if self.pending:
            return self.pending.pop(0)
        return self._recv(timeout)

    def _recv(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= HDR.size:
                magic, type_, flags, stream, n = HDR.unpack_from(self.buf)
                assert magic == MAGIC and flags == 0, f"bad frame from the agent {self.buf[:16]!r}"
                assert type_ in NAMES and type_ < 32, f"type {type_} from the agent"
                assert n <= (IO_CHUNK if type_ in STREAM_TYPES else MAX_PAYLOAD)
                if len(self.buf) >= HDR.size + n:
                    m = Msg(type_, stream, self.buf[HDR.size:HDR.size + n])
                    self.buf = self.buf[HDR.size + n:]
                    self.log.append(m)
                    return m
            if not self._fill(deadline):
                assert not self.buf, f"the agent closed inside a frame: {self.buf!r}"
                return None

    def expect(self, type_, stream=0, timeout=10):
        """The next message that is not stdio, which must be type_ on stream
        (the stdio before it is kept for recv)."""
        while True:
            m = self._recv(timeout)
            assert m is not None, f"channel closed waiting for {NAMES[type_]}"
            if m.type in (STDOUT, STDERR):
                self.pending.append(m)
                continue
            assert (m.type, m.stream) == (type_, stream), f"want {NAMES[type_]}: got {m!r}"
            return m

    def until_exit(self, stream=0, timeout=20):
        """(stdout, stderr, status) of stream, reading up to its EXIT; the
        output must have ended (the empty frames) before EXIT came."""
        out, err, ended = b"", b"", set()
        others = []  # other streams' messages, kept for recv
        deadline = time.monotonic() + timeout
        while True:
            m = self.recv(max(0.01, deadline - time.monotonic()))
            assert m is not None, f"channel closed before EXIT of stream {stream}"
            if m.stream != stream:
                others.append(m)
                continue
            if m.type in (STDOUT, STDERR):
                assert m.type not in ended, f"output after its end: {m!r}"
                if not m.payload:
                    ended.add(m.type)
                elif m.type == STDOUT:
                    out += m.payload
                else:
                    err += m.payload
            elif m.type == EXIT:
                assert STDOUT in ended, "EXIT before the end of stdout"
                self.pending[:0] = others
                return out, err, m.json["status"]
            else:
                raise AssertionError(f"unexpected {m!r}")


def wait_closed(sock, timeout=10):
    """Read until the agent closes its end; what came, as raw bytes."""
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([sock], [], [], deadline - time.monotonic())
        if not r:
            break
        try:
            chunk = sock.recv(1 << 16)
        except ConnectionResetError:
            # it closed with bytes of ours unread (the rest of a bad frame)
            return data
        if not chunk:
            return data
        data += chunk
    raise TimeoutError("the agent kept the channel open")


def close_quietly(fd):
    try:
        os.close(fd)
    except OSError:
        pass
