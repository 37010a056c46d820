"""linux.seccomp, each action as the container sees it, the profile's flags
and architectures, and the SCMP_ACT_NOTIFY listener flow (listenerPath,
listenerMetadata, the container process state of runtime.md)."""

import ctypes
import errno
import json
import os
import select
import signal
import socket
import threading

import pytest
import seccomp_bpf

from conftest import PROBE, host_run_status, husk_only, is_husk, is_runc

SIGSYS_EXIT = 128 + signal.SIGSYS
NR_GETPRIORITY_X86_64 = 140


def profile(*rules, default="SCMP_ACT_ALLOW", arches=("SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                                                       "SCMP_ARCH_X32"), **extra):
    p = {"defaultAction": default, "architectures": list(arches), "syscalls": list(rules)}
    p.update(extra)
    return p


def rule(names, action, **kw):
    r = {"names": names if isinstance(names, list) else [names], "action": action}
    r.update(kw)
    return r


# ---------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
                                    "SCMP_ACT_KILL_PROCESS"])
def test_kill_seen_by_a_parent_inside(rt, bundle, action):
    # the shell inside outlives its killed child and reports how it died
    bundle.linux["seccomp"] = profile(rule("getpriority", action))
    bundle.set_args("/bin/sh", "-c", "/bin/probe syscall getpriority; echo rc=$?; "
                    "/bin/probe syscall getpid")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert f"rc={SIGSYS_EXIT}" in r.out
    assert '{"getpid":0}' in r.out
    assert "getpriority" not in r.out  # the killed probe printed nothing


def test_kill_of_init_ends_run_with_sigsys(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("getpriority", "SCMP_ACT_KILL_PROCESS"))
    bundle.set_args("/bin/probe", "syscall", "getpid", "+", "syscall", "getpriority")
    r = rt.run(bundle)
    assert r.rc == SIGSYS_EXIT, r
    assert r.lines() == [{"getpid": 0}]


def test_trap_delivers_sigsys(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("getpriority", "SCMP_ACT_TRAP"))
    out = rt.probe(bundle, "trap-syscall", "getpriority", "+", "trap-syscall", "getpid")
    assert out[0] == {"sigsys": 1, "nr": NR_GETPRIORITY_X86_64}
    assert out[1] == {"sigsys": 0, "nr": -1}


def test_trap_uncaught_kills(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("getpriority", "SCMP_ACT_TRAP"))
    bundle.set_args("/bin/probe", "syscall", "getpriority")
    r = rt.run(bundle)
    assert r.rc == SIGSYS_EXIT, r


def test_log_allows(rt, bundle):
    bundle.linux["seccomp"] = profile(rule(["getpriority", "keyctl"], "SCMP_ACT_LOG"),
                                      rule("chroot", "SCMP_ACT_ERRNO", errnoRet=7))
    out = rt.probe(bundle, "syscall", "getpriority", "keyctl", "chroot", "+", "caps")
    assert out[0] == {"getpriority": 0, "keyctl": 0, "chroot": 7}
    assert out[1]["seccomp"] == 2


def test_trace_without_tracer_is_enosys(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("getpriority", "SCMP_ACT_TRACE", errnoRet=5))
    out = rt.probe(bundle, "syscall", "getpriority", "getpid")
    assert out == {"getpriority": errno.ENOSYS, "getpid": 0}


def test_errno_action_from_inside(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("mkdir", "SCMP_ACT_ERRNO", errnoRet=errno.EXDEV),
                                      rule("mkdirat", "SCMP_ACT_ERRNO", errnoRet=errno.EXDEV))
    out = rt.probe(bundle, "syscall", "mkdir", "+", "stat", "/tmp/.probe-dir")
    assert out[0] == {"mkdir": errno.EXDEV}
    assert out[1]["/tmp/.probe-dir"] == {"errno": errno.ENOENT}


def test_allow_default_with_deny_rules(rt, bundle):
    bundle.linux["seccomp"] = profile(
        rule("getpriority", "SCMP_ACT_ERRNO", errnoRet=11),
        rule("keyctl", "SCMP_ACT_ERRNO"))
    out = rt.probe(bundle, "syscall", "getpriority", "keyctl", "getpid", "uname", "mkdir")
    assert out == {"getpriority": 11, "keyctl": errno.EPERM, "getpid": 0, "uname": 0,
                   "mkdir": 0}


def test_rule_repeating_the_default_is_harmless(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("getpid", "SCMP_ACT_ALLOW"),
                                      rule("keyctl", "SCMP_ACT_ERRNO", errnoRet=9))
    assert rt.probe(bundle, "syscall", "getpid", "keyctl") == {"getpid": 0, "keyctl": 9}


# What a static probe, busybox and a runtime's last steps before exec need.
from test_seccomp import ALLOW  # noqa: E402


@pytest.mark.parametrize("ret", [None, 13, 61])
def test_default_errno_ret(rt, bundle, ret):
    extra = {} if ret is None else {"defaultErrnoRet": ret}
    bundle.linux["seccomp"] = profile({"names": ALLOW, "action": "SCMP_ACT_ALLOW"},
                                      default="SCMP_ACT_ERRNO", **extra)
    out = rt.probe(bundle, "syscall", "getpid", "mkdir", "chroot")
    want = errno.EPERM if ret is None else ret
    assert out == {"getpid": 0, "mkdir": want, "chroot": want}


# ---------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------
def _ssb_mode():
    try:
        with open("/sys/devices/system/cpu/vulnerabilities/spec_store_bypass") as f:
            return f.read()
    except OSError:
        return ""


def _ssb(rt, bundle, flags):
    bundle.linux["seccomp"] = profile(rule("keyctl", "SCMP_ACT_ERRNO", errnoRet=42),
                                      flags=flags)
    bundle.set_args("/bin/sh", "-c", "grep Speculation_Store_Bypass /proc/self/status; "
                    "/bin/probe syscall keyctl")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.lines() == [{"keyctl": 42}]
    return r.out.splitlines()[0].split(":", 1)[1].strip()


RUNC_NO_FLAGS = "runc 1.1 refuses every seccomp flag (\"not yet supported\")"


@pytest.mark.skipif(is_runc(), reason=RUNC_NO_FLAGS)
def test_flag_spec_allow(rt, bundle, make_bundle):
    with_flag = _ssb(rt, bundle, ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"])
    without = _ssb(rt, make_bundle(), [])
    if "seccomp" in _ssb_mode():
        # seccomp forces the mitigation unless the flag says not to
        assert "force mitigated" in without
        assert with_flag != without
    else:
        # this host mitigates only on prctl: seccomp leaves the state alone
        assert with_flag == without


@pytest.mark.parametrize("flags", [["SECCOMP_FILTER_FLAG_LOG"],
                                   ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
                                   []])
def test_flags_accepted(rt, bundle, flags):
    if flags and is_runc():
        pytest.skip(RUNC_NO_FLAGS)
    bundle.linux["seccomp"] = profile(rule("keyctl", "SCMP_ACT_ERRNO", errnoRet=42),
                                      flags=flags)
    assert rt.probe(bundle, "syscall", "keyctl", "getpid") == {"keyctl": 42, "getpid": 0}


@husk_only
def test_unknown_flag_names_the_field(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("keyctl", "SCMP_ACT_ERRNO"),
                                      flags=["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FLAG_BOGUS"])
    r = rt.run(bundle)
    assert r.rc != 0
    assert "linux.seccomp.flags[1]" in r.err and "SECCOMP_FLAG_BOGUS" in r.err, r
    rt.assert_nothing_left()


# ---------------------------------------------------------------------------
# Architectures: a 64-bit process can still enter the i386 table (int 0x80)
# ---------------------------------------------------------------------------
def _ia32_entry_works():
    """Whether `int $0x80` reaches the kernel's syscall entry on this host.

    Some kernels (paravirtualised guests, ia32_emulation=0) answer it with
    SIGSEGV before any seccomp filter is consulted: there the rules for the
    i386 table cannot be observed from inside a container at all.
    """
    if not os.path.exists(PROBE):
        return True  # the rootfs fixture stops the session with the reason
    return host_run_status([PROBE, "syscall", "getpriority-x86"]) != -signal.SIGSEGV


needs_ia32_entry = pytest.mark.skipif(
    not _ia32_entry_works(),
    reason="int $0x80 raises SIGSEGV on this host's kernel (no 32-bit syscall entry): "
           "a filter's i386 rules cannot be reached")


@needs_ia32_entry
def test_listed_foreign_arch_gets_the_rules(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("getpriority", "SCMP_ACT_ERRNO", errnoRet=21))
    out = rt.probe(bundle, "syscall", "getpriority", "getpriority-x86", "getpid")
    assert out == {"getpriority": 21, "getpriority-x86": 21, "getpid": 0}


@needs_ia32_entry
@pytest.mark.parametrize("arches", [["SCMP_ARCH_X86_64"], []])
def test_unlisted_arch_is_killed(rt, bundle, arches):
    bundle.linux["seccomp"] = profile(rule("getpriority", "SCMP_ACT_ERRNO", errnoRet=21),
                                      arches=arches)
    bundle.set_args("/bin/probe", "syscall", "getpriority", "+", "syscall", "getpriority-x86")
    r = rt.run(bundle)
    assert r.rc == SIGSYS_EXIT, r
    assert r.lines() == [{"getpriority": 21}]


# The same two rules proved on the filter the kernel installed, where the
# i386 entry cannot be made: PTRACE_SECCOMP_GET_FILTER reads the program back
# and it is run on the seccomp_data of an i386 getpriority (nr 96).
NR_GETPRIORITY_I386 = 96
NR_GETPID_X86_64 = 39


def _installed_verdicts(rt, bundle, calls):
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    try:
        programs = seccomp_bpf.read_filters(pid)
    finally:
        rt.kill(cid, "KILL")
    assert programs, "the container runs under no seccomp filter"
    return [seccomp_bpf.verdict(programs, seccomp_bpf.seccomp_data(nr, arch))
            for nr, arch in calls]


def test_listed_foreign_arch_rules_are_in_the_filter(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("getpriority", "SCMP_ACT_ERRNO", errnoRet=21))
    got = _installed_verdicts(rt, bundle, [
        (NR_GETPRIORITY_I386, seccomp_bpf.AUDIT_ARCH_I386),
        (NR_GETPRIORITY_X86_64, seccomp_bpf.AUDIT_ARCH_X86_64),
        (NR_GETPID_X86_64, seccomp_bpf.AUDIT_ARCH_X86_64)])
    errno21 = seccomp_bpf.SECCOMP_RET_ERRNO | 21
    assert got == [errno21, errno21, seccomp_bpf.SECCOMP_RET_ALLOW], [hex(v) for v in got]


@pytest.mark.parametrize("arches", [["SCMP_ARCH_X86_64"], []])
def test_unlisted_arch_is_killed_by_the_filter(rt, bundle, arches):
    bundle.linux["seccomp"] = profile(rule("getpriority", "SCMP_ACT_ERRNO", errnoRet=21),
                                      arches=arches)
    i386, native = _installed_verdicts(rt, bundle, [
        (NR_GETPRIORITY_I386, seccomp_bpf.AUDIT_ARCH_I386),
        (NR_GETPRIORITY_X86_64, seccomp_bpf.AUDIT_ARCH_X86_64)])
    kills = (seccomp_bpf.SECCOMP_RET_KILL_PROCESS, seccomp_bpf.SECCOMP_RET_KILL_THREAD)
    assert i386 & seccomp_bpf.SECCOMP_RET_ACTION_FULL in kills, hex(i386)
    assert native == seccomp_bpf.SECCOMP_RET_ERRNO | 21, hex(native)


def test_arch_names_without_prefix_fail(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("keyctl", "SCMP_ACT_ERRNO"), arches=["x86_64"])
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


# ---------------------------------------------------------------------------
# SCMP_ACT_NOTIFY: the listener
# ---------------------------------------------------------------------------
class SeccompData(ctypes.Structure):
    _fields_ = [("nr", ctypes.c_int), ("arch", ctypes.c_uint32),
                ("instruction_pointer", ctypes.c_uint64), ("args", ctypes.c_uint64 * 6)]


class SeccompNotif(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("data", SeccompData)]


class SeccompNotifResp(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("val", ctypes.c_int64), ("error", ctypes.c_int32),
                ("flags", ctypes.c_uint32)]


class NotifSizes(ctypes.Structure):
    _fields_ = [("seccomp_notif", ctypes.c_uint16), ("seccomp_notif_resp", ctypes.c_uint16),
                ("seccomp_data", ctypes.c_uint16)]


def _iowr(type_, nr, size):
    # asm-generic/ioctl.h: dir(2 bits: read|write = 3) size(14) type(8) nr(8)
    return (3 << 30) | (size << 16) | (ord(type_) << 8) | nr


SECCOMP_IOCTL_NOTIF_RECV = _iowr("!", 0, ctypes.sizeof(SeccompNotif))
SECCOMP_IOCTL_NOTIF_SEND = _iowr("!", 1, ctypes.sizeof(SeccompNotifResp))
SYS_seccomp = 317
SECCOMP_GET_NOTIF_SIZES = 3
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]


def test_notify_ioctl_numbers_match_the_kernel():
    sizes = NotifSizes()
    assert _libc.syscall(ctypes.c_long(SYS_seccomp), ctypes.c_long(SECCOMP_GET_NOTIF_SIZES),
                         ctypes.c_long(0), ctypes.byref(sizes)) == 0, ctypes.get_errno()
    assert sizes.seccomp_notif == ctypes.sizeof(SeccompNotif)
    assert sizes.seccomp_notif_resp == ctypes.sizeof(SeccompNotifResp)
    assert sizes.seccomp_data == ctypes.sizeof(SeccompData)
    assert (SECCOMP_IOCTL_NOTIF_RECV, SECCOMP_IOCTL_NOTIF_SEND) == (0xC0502100, 0xC0182101)


SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1


class Listener:
    """A seccomp agent at listenerPath: takes the state and the notify fd,
    then answers each notification with `answer(notif) -> (val, error[,
    flags])`. `connections`: how many processes hand it a listener (the
    container, then each exec)."""

    def __init__(self, path, answer, connections=1):
        self.path = path
        self.answer = answer
        self.connections = connections
        self.state = None
        self.states = []
        self.fds = []
        self.seen = []  # syscall numbers answered
        self.error = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        answering = []
        try:
            self.sock.settimeout(20)
            for _ in range(self.connections):
                conn, _ = self.sock.accept()
                with conn:
                    conn.settimeout(20)
                    msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
                if not msg:
                    return
                self.fds += fds
                self.states.append(json.loads(msg))
                self.state = self.states[0]
                if fds:
                    t = threading.Thread(target=self._answer, args=(fds[0],), daemon=True)
                    t.start()
                    answering.append(t)
        except Exception as e:  # reported by the test through .error
            self.error = e
        for t in answering:
            t.join(30)

    def _answer(self, fd):
        try:
            self._answer_loop(fd)
        except Exception as e:
            self.error = e

    def _answer_loop(self, fd):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while True:
            events = poller.poll(20000)
            if not events or events[0][1] & (select.POLLHUP | select.POLLERR):
                return  # the filter has no users left (or nothing came)
            notif = SeccompNotif()
            if _libc.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, ctypes.byref(notif)) < 0:
                if ctypes.get_errno() in (errno.EINTR, errno.ENOENT):
                    continue
                raise OSError(ctypes.get_errno(), "SECCOMP_IOCTL_NOTIF_RECV")
            self.seen.append(notif.data.nr)
            val, error, *flags = self.answer(notif)
            resp = SeccompNotifResp(id=notif.id, val=val, error=error,
                                    flags=flags[0] if flags else 0)
            if _libc.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, ctypes.byref(resp)) < 0:
                if ctypes.get_errno() != errno.ENOENT:  # the caller died meanwhile
                    raise OSError(ctypes.get_errno(), "SECCOMP_IOCTL_NOTIF_SEND")

    def abandon(self):
        """No runtime will connect: wake the accept and forget its error."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.path)  # says nothing: the server gives up
        self.thread.join(30)
        self.error = None

    def close(self):
        self.thread.join(30)
        self.sock.close()
        fds, self.fds = self.fds, []
        for fd in fds:
            os.close(fd)
        error, self.error = self.error, None
        if error:
            raise error


@pytest.fixture
def listener(tmp_path):
    made = []

    def start(answer, name="agent.sock", connections=1):
        lst = Listener(str(tmp_path / name), answer, connections)
        made.append(lst)
        return lst

    yield start
    for lst in made:
        lst.close()


def notify_profile(path, metadata=None, names=("mkdir", "mkdirat")):
    p = profile(rule(list(names), "SCMP_ACT_NOTIFY"), listenerPath=path)
    if metadata is not None:
        p["listenerMetadata"] = metadata
    return p


def test_notify_answers_with_an_errno(rt, bundle, listener):
    lst = listener(lambda n: (0, -errno.EXDEV))
    bundle.linux["seccomp"] = notify_profile(lst.path)
    out = rt.probe(bundle, "syscall", "mkdir", "getpid", "+", "stat", "/tmp/.probe-dir")
    assert out[0] == {"mkdir": errno.EXDEV, "getpid": 0}
    assert out[1]["/tmp/.probe-dir"] == {"errno": errno.ENOENT}
    lst.close()
    assert lst.seen and set(lst.seen) <= {83, 258}  # mkdir, mkdirat on x86_64


def test_notify_fakes_success(rt, bundle, listener):
    lst = listener(lambda n: (0, 0))
    bundle.linux["seccomp"] = notify_profile(lst.path)
    out = rt.probe(bundle, "syscall", "mkdir", "+", "stat", "/tmp/.probe-dir")
    assert out[0] == {"mkdir": 0}  # the agent said yes ...
    assert out[1]["/tmp/.probe-dir"] == {"errno": errno.ENOENT}  # ... and made nothing
    lst.close()
    assert len(lst.seen) == 1


def test_notify_state_follows_the_spec(rt, bundle, listener, tmp_path):
    lst = listener(lambda n: (0, -errno.EACCES))
    bundle.linux["seccomp"] = notify_profile(lst.path, metadata="agent-cfg=42;x")
    bundle.config["annotations"] = {"org.example.k": "v"}
    bundle.set_args("/bin/probe", "syscall", "mkdir")
    pid_file = str(tmp_path / "pid")
    cid = rt.create(bundle, pid_file=pid_file).check().cid
    with open(pid_file) as f:
        pid = int(f.read())
    rt.start(cid).check()
    # the version is the runtime's spec version, as in `state`
    version = rt.wait_status(cid, "stopped")["ociVersion"]
    assert rt.output(cid).strip() == json.dumps({"mkdir": errno.EACCES}, separators=(",", ":"))
    n_fds = len(lst.fds)
    lst.close()
    st = lst.state
    assert set(st) == {"ociVersion", "fds", "pid", "metadata", "state"}, st
    assert st["ociVersion"] == version
    assert st["fds"] == ["seccompFd"]
    assert n_fds == 1
    assert st["metadata"] == "agent-cfg=42;x"
    inner = st["state"]
    if not is_runc():  # runc 1.1 leaves both pids at 0
        assert st["pid"] == pid
        assert inner["pid"] == pid
    assert inner["id"] == cid
    assert inner["status"] == "creating"
    assert inner["bundle"] == bundle.path
    assert inner["ociVersion"] == version
    assert inner["annotations"] == {"org.example.k": "v"}
    assert lst.seen == [83] or lst.seen == [258]


def test_notify_without_metadata(rt, bundle, listener):
    lst = listener(lambda n: (0, -errno.EPERM))
    bundle.linux["seccomp"] = notify_profile(lst.path)
    assert rt.probe(bundle, "syscall", "mkdir") == {"mkdir": errno.EPERM}
    lst.close()
    assert lst.state.get("metadata", "") == ""


def test_notify_missing_listener_fails_cleanly(rt, bundle, tmp_path):
    path = str(tmp_path / "nobody-listens.sock")
    bundle.linux["seccomp"] = notify_profile(path)
    bundle.set_args("/bin/probe", "syscall", "mkdir")
    r = rt.create(bundle)
    assert r.rc != 0, r
    if not is_runc():
        assert path in r.err and "No such file" in r.err, r
    rt.assert_nothing_left()


def test_notify_listener_that_refuses_fails_cleanly(rt, bundle, tmp_path):
    # a socket file with nobody behind it: connect gets ECONNREFUSED
    path = str(tmp_path / "dead.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
    bundle.linux["seccomp"] = notify_profile(path)
    r = rt.run(bundle)
    assert r.rc != 0, r
    if not is_runc():
        assert path in r.err, r
    rt.assert_nothing_left()


@husk_only
def test_notify_without_listener_path_fails(rt, bundle):
    bundle.linux["seccomp"] = profile(rule("mkdir", "SCMP_ACT_NOTIFY"))
    r = rt.run(bundle)
    assert r.rc != 0
    assert "listenerPath" in r.err, r
    rt.assert_nothing_left()


def test_notify_continue_lets_the_syscall_run(rt, bundle, listener):
    # the runtime's own last steps (write, close, execve) reach the agent
    # too; an agent that lets them through must get a working container
    lst = listener(lambda n: (0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE))
    bundle.linux["seccomp"] = notify_profile(lst.path, names=("mkdir", "mkdirat", "close",
                                                               "execve"))
    out = rt.probe(bundle, "syscall", "mkdir", "+", "stat", "/tmp/.probe-dir")
    assert out[0] == {"mkdir": 0}
    assert out[1]["/tmp/.probe-dir"]["type"] == "dir"  # made for real this time
    lst.close()
    assert 59 in lst.seen and 3 in lst.seen  # execve and close were notified


def test_notify_on_the_syscall_that_hands_over_the_listener(rt, bundle, listener):
    # husk passes the listener with sendmsg after the filter is loaded: a
    # notification there could only be answered by the listener it carries
    lst = listener(lambda n: (0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE))
    bundle.linux["seccomp"] = notify_profile(lst.path, names=("sendmsg", "mkdir"))
    bundle.set_args("/bin/probe", "syscall", "getpid")
    r = rt.run(bundle, timeout=10)  # must not hang either way
    if r.rc == 0:
        assert r.lines() == [{"getpid": 0}]
    else:
        assert "SCMP_ACT_NOTIFY" in r.err and "sendmsg" in r.err, r
        lst.abandon()
    assert not is_husk() or r.rc != 0
    rt.assert_nothing_left()


def test_notify_exec_hands_over_its_own_listener(rt, bundle, listener):
    lst = listener(lambda n: (0, -errno.EXDEV), connections=2)
    bundle.linux["seccomp"] = notify_profile(lst.path, metadata="m")
    bundle.config["annotations"] = {"a": "b"}
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    r = rt.cmd("exec", cid, "/bin/probe", "syscall", "mkdir", "getpid", timeout=15)
    assert r.rc == 0, r
    assert r.lines() == [{"mkdir": errno.EXDEV, "getpid": 0}]
    rt.kill(cid, "KILL").check()
    rt.wait_status(cid, "stopped")
    lst.close()
    assert len(lst.states) == 2
    first, second = lst.states
    assert first["pid"] == pid and first["state"]["status"] == "creating"
    # the exec'd process's own listener, in the state of the running container
    assert second["fds"] == ["seccompFd"]
    assert second["pid"] not in (0, pid)
    assert second["metadata"] == "m"
    inner = second["state"]
    assert (inner["id"], inner["status"], inner["pid"], inner["bundle"]) == (
        cid, "running", pid, bundle.path)
    assert inner.get("annotations") == {"a": "b"}
