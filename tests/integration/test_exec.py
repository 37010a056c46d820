"""exec: a second process inside a running container."""

import json
import os

import pytest


@pytest.fixture
def running(rt, bundle):
    """A running container: (id, init pid)."""
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}]}
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}]
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    return cid, pid


def exec_(rt, cid, *args, input=None):
    return rt.cmd("exec", *args, input=input)


def probe_lines(r):
    assert r.rc == 0, r
    out = r.lines()
    return out[0] if len(out) == 1 else out


def test_exec_joins_the_namespaces(rt, running):
    cid, pid = running
    out = probe_lines(exec_(rt, cid, cid, "/bin/probe", "ns", "+", "pid", "+", "hostname"))
    for ns in ("pid", "net", "ipc", "uts", "mnt"):
        assert out[0][ns] == os.stat(f"/proc/{pid}/ns/{ns}").st_ino, ns
    assert out[1]["pid"] != 1
    assert out[2]["hostname"] == "itest"


def assert_exec_shares_the_cgroups(rt, cid, pid, tmp_path):
    """A detached exec'd process is in every cgroup the init is in."""
    pid_file = str(tmp_path / "exec.pid")
    r = rt.cmd_files(cid, "exec", "--detach", "--pid-file", pid_file, cid, "/bin/probe",
                     "sleep", "60")
    assert r.rc == 0, r
    with open(pid_file) as f:
        epid = int(f.read())
    with open(f"/proc/{pid}/cgroup") as a, open(f"/proc/{epid}/cgroup") as b:
        assert a.read() == b.read()


def test_exec_is_in_the_container_cgroup(rt, running, tmp_path):
    cid, pid = running
    assert_exec_shares_the_cgroups(rt, cid, pid, tmp_path)


@pytest.mark.parametrize("join", ["self", "procs"])
def test_exec_into_a_cgroup_namespace_is_in_the_container_cgroup(rt, bundle, tmp_path, join,
                                                                  monkeypatch):
    """The exec'd process joins the container's cgroups (on v1 by moving itself,
    after it entered the cgroup namespace, or moved by the runtime) and sees them
    as its namespace's root."""
    if join == "procs":
        monkeypatch.setenv("HUSK_CGROUP_JOIN", "procs")
    bundle.linux["namespaces"].append({"type": "cgroup"})
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    assert_exec_shares_the_cgroups(rt, cid, pid, tmp_path)
    r = exec_(rt, cid, cid, "/bin/cat", "/proc/self/cgroup")
    assert r.rc == 0, r
    assert all(line.split(":", 2)[2] == "/" for line in r.out.splitlines()), r.out


@pytest.mark.parametrize("code", [0, 5])
def test_exec_exit_code(rt, running, code):
    cid, _ = running
    r = exec_(rt, cid, cid, "/bin/probe", "exit", str(code))
    assert r.rc == code, r


def test_exec_stdio(rt, running):
    cid, _ = running
    r = exec_(rt, cid, cid, "/bin/sh", "-c", "read x; echo got:$x; echo e >&2", input="hi\n")
    assert r.rc == 0, r
    assert r.out == "got:hi\n"
    assert "e" in r.err


def test_exec_inherits_process_settings(rt, running):
    cid, _ = running
    out = probe_lines(exec_(rt, cid, cid, "/bin/probe", "syscall", "keyctl", "+", "caps", "+",
                            "rlimits"))
    assert out[0]["keyctl"] == 42, "the container's seccomp filter applies to exec"
    assert int(out[1]["bounding"], 16) == (1 << 29) | (1 << 5) | (1 << 10)
    assert out[1]["no_new_privs"] == 1


def test_exec_env_cwd_user(rt, running):
    cid, _ = running
    out = probe_lines(exec_(rt, cid, "--env", "FOO=bar", "--cwd", "/tmp", "--user", "1000:100",
                            cid, "/bin/probe", "env", "+", "cwd", "+", "ids"))
    assert "FOO=bar" in out[0]["env"]
    assert any(e.startswith("PATH=") for e in out[0]["env"])
    assert out[1]["cwd"] == "/tmp"
    assert (out[2]["uid"], out[2]["gid"]) == (1000, 100)


def test_exec_process_file(rt, running, tmp_path):
    cid, _ = running
    proc = {"terminal": False, "user": {"uid": 65534, "gid": 65534},
            "args": ["/bin/probe", "ids", "+", "cwd", "+", "env"],
            "env": ["PATH=/bin", "ONLY=this"], "cwd": "/etc"}
    path = tmp_path / "process.json"
    path.write_text(json.dumps(proc))
    out = probe_lines(exec_(rt, cid, "--process", str(path), cid))
    assert out[0]["uid"] == 65534
    assert out[1]["cwd"] == "/etc"
    assert "ONLY=this" in out[2]["env"]


def test_exec_no_stray_fds(rt, running):
    cid, _ = running
    out = probe_lines(exec_(rt, cid, cid, "/bin/probe", "fds"))
    assert sorted(out["fds"], key=int) == ["0", "1", "2"], out


def test_exec_missing_binary_fails(rt, running):
    cid, _ = running
    r = exec_(rt, cid, cid, "/bin/nope")
    assert r.rc != 0
    assert rt.state(cid)["status"] == "running"


def test_exec_into_stopped_container_fails(rt, bundle):
    cid, _ = rt.start_detached(bundle, "/bin/true")
    rt.wait_status(cid, "stopped")
    r = exec_(rt, cid, cid, "/bin/probe", "pid")
    assert r.rc != 0


def test_exec_into_missing_container_fails(rt):
    r = exec_(rt, "x", "it-no-such", "/bin/true")
    assert r.rc != 0


def test_exec_without_command_fails(rt, running):
    cid, _ = running
    assert exec_(rt, cid, cid).rc != 0


def test_container_survives_exec(rt, running):
    cid, pid = running
    for _ in range(3):
        assert exec_(rt, cid, cid, "/bin/true").rc == 0
    assert rt.state(cid)["status"] == "running"
    assert rt.state(cid)["pid"] == pid


def test_detached_exec_dies_with_the_container(rt, running, tmp_path):
    cid, pid = running
    pid_file = str(tmp_path / "exec.pid")
    rt.cmd_files(cid, "exec", "--detach", "--pid-file", pid_file, cid, "/bin/probe", "sleep",
                 "60").check()
    with open(pid_file) as f:
        epid = int(f.read())
    with open(f"/proc/{epid}/environ", "rb") as f:
        assert b"HUSK_ITEST_MARK=" in f.read(), "exec gets the container's env"
    rt.delete(cid, force=True).check()
    rt.assert_nothing_left([cid])


def test_exec_cli_options(rt, bundle):
    bundle.process["noNewPrivileges"] = False
    cid, _ = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    r = rt.cmd("exec", "--cap", "CAP_SYS_CHROOT", "--additional-gids", "5",
               "--no-new-privs", "--user", "0:100", cid,
               "/bin/probe", "caps", "+", "ids", "+", "syscall", "chroot")
    assert r.rc == 0, r
    caps, ids, sc = r.lines()
    assert int(caps["effective"], 16) & (1 << 18), "--cap adds CAP_SYS_CHROOT"
    assert caps["no_new_privs"] == 1
    assert ids["gid"] == 100 and 5 in ids["groups"]
    assert sc["chroot"] == 0


def test_exec_preserve_fds(rt, running, tmp_path):
    cid, _ = running
    path = tmp_path / "extra"
    path.write_text("x")
    fd = os.open(str(path), os.O_RDONLY)
    try:
        r = rt.cmd("exec", "--preserve-fds", "1", cid, "/bin/probe", "fds", pass_fds={3: fd})
    finally:
        os.close(fd)
    assert r.rc == 0, r
    fds = r.lines()[0]["fds"]
    assert sorted(fds, key=int) == ["0", "1", "2", "3"]
    assert fds["3"].endswith("/extra")
