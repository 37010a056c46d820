"""What the integration and security suites share: the child subreaper
that reaps the container inits reparented to the test process (PID 1 on the
test machines does not reap orphans), the parts of the default OCI
config (the shape `runc spec` writes), and a --console-socket listener.

Each suite's conftest.py puts this directory on sys.path and imports it, so
either suite still runs on its own.
"""

import ctypes
import os
import socket
import time

PR_SET_CHILD_SUBREAPER = 36
_libc = ctypes.CDLL(None, use_errno=True)


def become_subreaper():
    """Orphaned descendants (container inits whose runtime exited) become
    our children instead of PID 1's."""
    if _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def children():
    """Pids of our direct children (of every thread)."""
    pids = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return pids
    for t in tasks:
        try:
            with open(f"/proc/self/task/{t}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return pids


def other_pids():
    """Every pid in /proc but our own."""
    me = os.getpid()
    for e in os.listdir("/proc"):
        if e.isdigit() and int(e) != me:
            yield int(e)


def proc_state(pid):
    """The state letter of /proc/PID/stat ("Z" for a zombie), None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
        return data[data.rindex(")") + 2]
    except (OSError, ValueError, IndexError):
        return None


def reap_zombies(skip=()):
    """Reap our zombie children except those in skip (whose Popen objects
    wait for them); never touches a live child."""
    for pid in children():
        if pid in skip or proc_state(pid) != "Z":
            continue
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
MASKED_PATHS = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/sys/firmware", "/proc/scsi"]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def default_mounts(devpts_extra=()):
    """The default mounts, a fresh list; devpts_extra are more devpts
    options (e.g. "gid=5")."""
    return [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                     *devpts_extra]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
    ]


# LeakSanitizer cannot run under ptrace: an ASan build of husk traced by
# strace keeps every other check but leak detection.
STRACE_PATH = "/usr/bin/strace"
STRACE = ("env", "ASAN_OPTIONS=" + ":".join(
    o for o in (os.environ.get("ASAN_OPTIONS"), "detect_leaks=0") if o), STRACE_PATH)


class ConsoleSocket:
    """What an engine listens on with --console-socket: one connection
    carrying the pty master (SCM_RIGHTS)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.sock.settimeout(0.2)

    def receive_master(self, proc=None, timeout=10, payload=None):
        """The master sent to us. proc: the command that sends it (its
        failure ends the wait); payload: the bytes that must come with it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn, _ = self.sock.accept()
                break
            except socket.timeout:
                assert time.monotonic() < deadline, "no master on the console socket"
                if proc is not None and proc.poll() not in (None, 0):
                    raise AssertionError(f"exit {proc.returncode} before sending a master")
        conn.settimeout(10)
        with conn:
            msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
        assert len(fds) == 1, f"expected one fd, got {fds}"
        assert payload is None or msg == payload, msg
        return fds[0]

    def close(self):
        self.sock.close()
