"""husk-agent, the vm backend's guest PID 1, in its test mode: started here
with `--no-init --channel-fd N --root DIR` over a socketpair, no VM. The
test speaks the agent protocol (tests/pylib/vmproto.py) as the host does and
the agent runs the container with libhusk on this machine."""

import copy
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import REPO, husk_only, spawn, _owned_pids
import husktest
import vmproto as vp

AGENT = os.environ.get("HUSK_AGENT", os.path.join(REPO, "build", "husk-agent"))
# The agent's own failures (the host broke the protocol): main.c's AGENT_EXIT_FAILURE.
AGENT_FAILURE = 125

pytestmark = [
    husk_only,
    pytest.mark.skipif(not os.path.exists(AGENT), reason=f"{AGENT} not built"),
]


class Agent:
    def __init__(self, rt, bundle, tmp_path):
        self.rt, self.bundle = rt, bundle
        host, guest = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.log_path = str(tmp_path / "agent.log")
        with open(self.log_path, "wb") as log:
            self.proc = spawn([AGENT, "--no-init", "--channel-fd", str(guest.fileno()),
                               "--root", rt.root], pass_fds=(guest.fileno(),),
                              stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        guest.close()
        self.sock = host
        self.chan = vp.Channel(host)
        hello = self.chan.expect(vp.HELLO)
        assert hello.json["version"] == 1 and hello.json["boot_ns"] > 0
        self.cid = None

    def config(self, *args, pid_ns=True):
        """The bundle's config as the host sends it: root.path absolute."""
        b = self.bundle
        b.set_args(*args)
        cfg = copy.deepcopy(b.config)
        cfg["root"]["path"] = b.rootfs
        cfg["process"]["env"].append(f"HUSK_ITEST_MARK={b.marker}")
        if not pid_ns:
            cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                          if n["type"] != "pid"]
        return cfg

    def create(self, *args, terminal=False, pid_ns=True):
        self.cid = self.rt.new_id("vm")
        self.chan.send(vp.CREATE, 0, {"id": self.cid, "config": self.config(*args, pid_ns=pid_ns),
                                      "terminal": terminal})
        pid = self.chan.expect(vp.CREATED).json["pid"]
        self.rt.pids[self.cid] = pid
        assert husktest.proc_state(pid) not in (None, "Z")
        return pid

    def run(self, *args, terminal=False, pid_ns=True):
        pid = self.create(*args, terminal=terminal, pid_ns=pid_ns)
        self.chan.send(vp.START)
        self.chan.expect(vp.STARTED)
        return pid

    def wait(self, timeout=20):
        """The agent's exit status; it must have closed the channel."""
        vp.wait_closed(self.sock, timeout)
        try:
            return self.proc.wait(timeout)
        finally:
            _owned_pids.discard(self.proc.pid)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def close(self):
        # hanging up ends the agent, which tears down what it runs; killed
        # only when it does not
        self.sock.close()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the agent did not end when the host hung up")
        finally:
            _owned_pids.discard(self.proc.pid)
        assert self.proc.returncode >= 0, f"the agent died of signal {-self.proc.returncode}"


@pytest.fixture
def agent(rt, bundle, tmp_path):
    a = Agent(rt, bundle, tmp_path)
    yield a
    a.close()


def test_echo_output_and_exit(agent):
    agent.run("/bin/echo", "hello from the vm")
    out, err, status = agent.chan.until_exit()
    assert (out, err, status) == (b"hello from the vm\n", b"", 0)
    assert agent.wait() == 0, agent.log()
    assert not os.listdir(agent.rt.root), "the container's state was left"


def test_exit_code(agent):
    agent.run("/bin/sh", "-c", "exit 3")
    assert agent.chan.until_exit()[2] == 3
    assert agent.wait() == 3


def test_stdin_is_relayed(agent):
    agent.run("/bin/cat")
    data = b"line one\n" + b"x" * 100000 + b"\nthe end\n"
    for i in range(0, len(data), vp.IO_CHUNK):
        agent.chan.send(vp.STDIN, 0, data[i:i + vp.IO_CHUNK])
    agent.chan.send(vp.STDIN, 0, b"")  # end of input: cat exits
    out, err, status = agent.chan.until_exit()
    assert (out, err, status) == (data, b"", 0)
    assert agent.wait() == 0


def test_stderr_apart_from_stdout(agent):
    agent.run("/bin/sh", "-c", "echo to-out; echo to-err >&2; echo more-out")
    out, err, status = agent.chan.until_exit()
    assert (out, err, status) == (b"to-out\nmore-out\n", b"to-err\n", 0)


def test_terminal(agent):
    agent.run("/bin/sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && echo all-ttys", terminal=True)
    out, err, status = agent.chan.until_exit()
    assert status == 0, out
    lines = out.decode().split("\r\n")
    assert lines[0].startswith("/dev/pts/"), out
    assert "all-ttys" in lines, out
    assert err == b""


def test_winsize_and_terminal_input(agent):
    agent.run("/bin/sh", "-c", "read line; echo got-$line; stty size", terminal=True)
    agent.chan.send(vp.WINSIZE, 0, {"rows": 33, "cols": 77})
    agent.chan.send(vp.STDIN, 0, b"abc\n")
    out, _, status = agent.chan.until_exit()
    assert status == 0, out
    assert b"got-abc\r\n" in out and b"33 77\r\n" in out, out


def test_exec_while_init_runs(agent):
    agent.run("/bin/sh", "-c", "echo init-up; exec cat")
    process = agent.config("/bin/sh", "-c", "echo exec-out; echo exec-err >&2; exit 7")["process"]
    agent.chan.send(vp.EXEC, 1, {"process": process, "terminal": False})
    pid = agent.chan.expect(vp.EXEC_STARTED, 1).json["pid"]
    assert pid > 0
    assert agent.chan.until_exit(1) == (b"exec-out\n", b"exec-err\n", 7)
    # the init still runs: its stdin still reaches it
    agent.chan.send(vp.STDIN, 0, b"still here\n")
    agent.chan.send(vp.STDIN, 0, b"")
    # what the init printed around the exec is all there, on its own stream
    assert agent.chan.until_exit(0) == (b"init-up\nstill here\n", b"", 0)
    assert agent.wait() == 0


def test_exec_refuses_stream_0_and_a_stream_in_use(agent):
    agent.run("/bin/cat")
    process = agent.config("/bin/sleep", "30")["process"]
    agent.chan.send(vp.EXEC, 0, {"process": process, "terminal": False})
    assert "stream 0" in agent.chan.expect(vp.ERROR, 0).json["message"]
    agent.chan.send(vp.EXEC, 5, {"process": process, "terminal": False})
    agent.chan.expect(vp.EXEC_STARTED, 5)
    agent.chan.send(vp.EXEC, 5, {"process": process, "terminal": False})
    assert "in use" in agent.chan.expect(vp.ERROR, 5).json["message"]
    agent.chan.send(vp.SIGNAL, 5, {"signal": signal.SIGKILL, "all": False})
    assert agent.chan.until_exit(5)[2] == 128 + signal.SIGKILL
    agent.chan.send(vp.STDIN, 0, b"")
    assert agent.chan.until_exit(0)[2] == 0


def test_exec_with_terminal(agent):
    agent.run("/bin/cat")
    process = agent.config("/bin/sh", "-c", "[ -t 0 ] && echo exec-tty")["process"]
    agent.chan.send(vp.EXEC, 2, {"process": process, "terminal": True})
    agent.chan.expect(vp.EXEC_STARTED, 2)
    out, _, status = agent.chan.until_exit(2)
    assert (out, status) == (b"exec-tty\r\n", 0)
    agent.chan.send(vp.STDIN, 0, b"")
    agent.chan.until_exit(0)


def test_signal_stream_0(agent):
    # without a pid namespace sleep is not an init there, which would
    # ignore SIGTERM: it dies of it
    agent.run("/bin/sleep", "100", pid_ns=False)
    agent.chan.send(vp.SIGNAL, 0, {"signal": signal.SIGTERM, "all": False})
    assert agent.chan.until_exit()[2] == 128 + signal.SIGTERM
    assert agent.wait() == 128 + signal.SIGTERM


def test_create_failure_is_an_error_reply(agent):
    agent.cid = agent.rt.new_id("vm")
    cfg = agent.config("/no/such/program")
    cfg["root"]["path"] = "/nonexistent/rootfs"
    agent.chan.send(vp.CREATE, 0, {"id": agent.cid, "config": cfg, "terminal": False})
    err = agent.chan.expect(vp.ERROR).json
    assert err["message"].startswith(f"create {agent.cid}: "), err
    assert "/nonexistent/rootfs" in err["message"], err
    # the agent goes on: a second CREATE works
    agent.run("/bin/echo", "second")
    assert agent.chan.until_exit() == (b"second\n", b"", 0)


def test_requests_out_of_place_are_refused(agent):
    agent.chan.send(vp.START)
    assert "no container" in agent.chan.expect(vp.ERROR).json["message"]
    agent.chan.send(vp.STDIN, 9, b"x")
    assert "stream 9" in agent.chan.expect(vp.ERROR, 9).json["message"]
    agent.run("/bin/cat")
    agent.chan.send(vp.WINSIZE, 0, {"rows": 1, "cols": 1})
    assert "no terminal" in agent.chan.expect(vp.ERROR).json["message"]
    agent.chan.send(vp.CREATE, 3, {"id": "other", "config": {}, "terminal": False})
    assert "stream 3" in agent.chan.expect(vp.ERROR, 3).json["message"]
    agent.chan.send(vp.STDIN, 0, b"")
    assert agent.chan.until_exit()[2] == 0


def test_stats(agent):
    agent.run("/bin/cat")
    agent.chan.send(vp.STATS)
    data = agent.chan.expect(vp.STATS_REPLY).json["data"]
    assert isinstance(data, dict) and data, data
    assert data.get("pids", {}).get("current", 0) >= 1, data
    agent.chan.send(vp.STDIN, 0, b"")
    agent.chan.until_exit()


BAD_FRAMES = {
    "bad magic": vp.frame(vp.START, magic=0x12345678),
    "other version": vp.frame(vp.START, magic=vp.MAGIC + 1),
    "unknown type": vp.frame(99),
    "a guest's type": vp.frame(vp.HELLO, payload={"version": 1, "boot_ns": 1}),
    "flags": vp.frame(vp.START, flags=1),
    "oversized": vp.frame(vp.CREATE, length=vp.MAX_PAYLOAD + 1),
    "oversized stdin": vp.frame(vp.STDIN, length=vp.IO_CHUNK + 1),
    "not json": vp.frame(vp.SIGNAL, payload=b"{nope"),
    "CREATE without terminal": vp.frame(vp.CREATE, payload={"id": "x", "config": {}}),
    "SIGNAL out of range": vp.frame(vp.SIGNAL, payload={"signal": 0, "all": False}),
    "unknown field": vp.frame(vp.START, payload={"now": True}),
}


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_bad_frame_stops_the_agent(agent, name):
    pid = agent.run("/bin/sleep", "100")
    agent.chan.send_raw(BAD_FRAMES[name])
    err = agent.chan.expect(vp.ERROR)
    assert err.json["message"].startswith("agent protocol: "), err
    assert agent.wait() == AGENT_FAILURE, agent.log()
    # the agent was its subreaper and reaped it: gone, not a zombie
    assert husktest.proc_state(pid) is None, f"container init {pid} left"
    assert not os.listdir(agent.rt.root), "the container's state was left"


def test_host_hanging_up_stops_the_agent(agent):
    pid = agent.run("/bin/sleep", "100")
    agent.sock.shutdown(socket.SHUT_WR)
    assert agent.wait() == AGENT_FAILURE
    assert husktest.proc_state(pid) is None
    assert not os.listdir(agent.rt.root)


def test_exit_waits_for_output(agent):
    # much more output than a pipe holds, written just before exiting
    agent.run("/bin/sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' a; exit 4")
    out, _, status = agent.chan.until_exit()
    assert (len(out), status) == (1000000, 4)
    assert set(out) == {ord("a")}


def test_usage_errors():
    for argv in ([AGENT, "--no-init"], [AGENT, "--no-init", "--channel-fd", "x", "--root", "/"],
                 [AGENT, "--channel-fd", "3"]):
        p = subprocess.run(argv, capture_output=True, timeout=10)
        assert p.returncode == 2, (argv, p)
    # not PID 1 and no test mode: refuses rather than mounting over the host
    p = subprocess.run([AGENT], capture_output=True, timeout=10)
    assert p.returncode == 2 and b"not PID 1" in p.stderr


GOOD_NIC = {"name": "eth0", "mac": "02:42:0a:00:00:02", "mtu": 1500,
            "addresses": ["10.0.0.2/24", "fd00::2/64"],
            "routes": [{"dst": "default", "gateway": "10.0.0.1"}, {"dst": "10.1.0.0/16"}]}


@pytest.mark.parametrize("bad,field", [
    ({"interfaces": [dict(GOOD_NIC, mtu=10)]}, "interfaces[0]: mtu"),
    ({"interfaces": [dict(GOOD_NIC, mac="02:42:0a:00:00")]}, "interfaces[0]: mac"),
    ({"interfaces": [dict(GOOD_NIC, name="lo")]}, "interfaces[0]: name"),
    ({"interfaces": [dict(GOOD_NIC, extra=1)]}, "interfaces[0].extra: unknown field"),
    ({"interfaces": [dict(GOOD_NIC, addresses=["10.0.0.2/33"])]}, "addresses[0]"),
    ({"interfaces": [dict(GOOD_NIC, routes=[{"dst": "default"}])]}, "routes[0]"),
    ({"interfaces": [dict(GOOD_NIC, routes=[{"dst": "10.1.0.0/16", "gateway": "fd00::1"}])]},
     "routes[0]"),
    ({"interfaces": [GOOD_NIC, GOOD_NIC]}, "interfaces[1]"),
    ({"cards": []}, "unknown field"),
])
def test_network_annotation_checked_strictly(agent, bad, field):
    agent.cid = agent.rt.new_id("vm")
    cfg = agent.config("/bin/true")
    cfg["annotations"] = {"org.husk.vm.network": json.dumps(bad)}
    agent.chan.send(vp.CREATE, 0, {"id": agent.cid, "config": cfg, "terminal": False})
    err = agent.chan.expect(vp.ERROR).json
    assert "annotations.org.husk.vm.network: " in err["message"], err
    assert field in err["message"], err
    # well-formed settings pass the checks (the test mode does not apply them)
    cfg["annotations"]["org.husk.vm.network"] = json.dumps({"interfaces": [GOOD_NIC]})
    agent.chan.send(vp.CREATE, 0, {"id": agent.cid, "config": cfg, "terminal": False})
    agent.chan.expect(vp.CREATED)
    agent.chan.send(vp.START)
    agent.chan.expect(vp.STARTED)
    assert agent.chan.until_exit()[2] == 0
