"""The state store and lifecycle edges that the other files do not cover:
pid reuse, --keep, forced deletes, a dead init at start, run's own pty."""

import json
import os
import signal
import subprocess
import time

import pytest

from conftest import husk_only, is_husk, spawn, _finish, _proc_state


def start_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def state_file(rt, cid):
    return os.path.join(rt.root, cid, "state.json")


@husk_only
def test_reused_pid_is_stopped_and_never_signalled(rt, bundle):
    """A recorded pid that now belongs to another process (different start
    time) means the container stopped; kill must not touch that process."""
    cid, pid = rt.start_detached(bundle, "/bin/probe", "signal-wait")
    with open(state_file(rt, cid)) as f:
        st = json.load(f)
    # Start times tick at USER_HZ: a victim started in the container's tick
    # would be indistinguishable from it, which is not what this test is about.
    while True:
        victim = spawn(["sleep", "30"])
        if start_ticks(victim.pid) != st["pid_start"]:
            break
        victim.kill()
        _finish(victim, 5)
        time.sleep(0.02)
    try:
        st["pid"] = victim.pid  # what a recycled pid looks like
        with open(state_file(rt, cid), "w") as f:
            json.dump(st, f)
        assert rt.state(cid)["status"] == "stopped"
        r = rt.kill(cid, "KILL").fails()
        assert "not running" in r.err
        time.sleep(0.1)
        assert victim.poll() is None, "kill signalled a process that is not the container"
    finally:
        victim.kill()
        _finish(victim, 5)
        os.kill(pid, signal.SIGKILL)


def test_run_keep_leaves_a_stopped_container(rt, bundle):
    bundle.set_args("/bin/sh", "-c", "exit 3")
    r = rt.run(bundle, None, "--keep")
    assert r.rc == 3, r
    st = rt.state(r.cid)
    assert st["status"] == "stopped"
    assert st["pid"] == 0
    rt.delete(r.cid).check()
    assert rt.state_raw(r.cid).rc != 0


def test_force_delete_of_missing_container_succeeds(rt):
    cid = rt.new_id()
    rt.delete(cid, force=True).check()
    assert rt.delete(cid).rc != 0


def test_force_delete_running_kills_every_process(rt, bundle):
    cid, pid = rt.start_detached(bundle, "/bin/sh", "-c", "sleep 100 & sleep 100 & wait")
    rt.delete(cid, force=True).check()
    assert _proc_state(pid) in (None, "Z")
    rt.assert_nothing_left([cid])


def test_start_after_init_died_fails_without_hanging(rt, bundle):
    bundle.set_args("/bin/true")
    cid = rt.create(bundle).check().cid
    pid = rt.state(cid)["pid"]
    os.kill(pid, signal.SIGKILL)
    rt.wait_status(cid, "stopped")
    t = time.monotonic()
    r = rt.start(cid).fails()
    assert time.monotonic() - t < 5
    assert "stopped" in r.err


@husk_only
def test_state_dir_layout_and_modes(rt, bundle):
    bundle.set_args("/bin/true")
    cid = rt.create(bundle).check().cid
    d = os.path.join(rt.root, cid)
    assert os.stat(rt.root).st_mode & 0o777 == 0o700
    assert os.stat(d).st_mode & 0o777 == 0o711
    fifo = os.stat(os.path.join(d, "exec.fifo"))
    assert fifo.st_mode & 0o777 == 0o622
    rt.start(cid).check()
    rt.wait_status(cid, "stopped")
    assert not os.path.exists(os.path.join(d, "exec.fifo")), "start removes the fifo"
    rt.delete(cid).check()
    assert not os.path.exists(d)


def test_list_shows_owner_and_json_fields(rt, bundle):
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "30")
    table = rt.list().check().out.splitlines()
    assert table[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    row = [line.split() for line in table[1:] if line.split()[0] == cid][0]
    assert row[1] == str(pid) and row[2] == "running" and row[5] == "root"
    entries = rt.list("json").check().json()
    e = [x for x in entries if x["id"] == cid][0]
    assert e["pid"] == pid and e["status"] == "running" and e["owner"] == "root"
    assert os.path.realpath(e["bundle"]) == os.path.realpath(bundle.path)
    assert rt.list(quiet=True).check().out.split() == [cid]


def test_state_output_is_indented_like_runc(rt, bundle):
    cid, _ = rt.start_detached(bundle, "/bin/probe", "sleep", "30")
    out = rt.state_raw(cid).check().out
    assert out.startswith('{\n  "ociVersion": ')
    keys = list(json.loads(out).keys())
    assert keys[:8] == ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created",
                        "owner"]


@pytest.mark.skipif(os.path.exists("/run/systemd/system"),
                    reason="systemd runs here: tests/integration/test_systemd_cgroup.py covers it")
def test_systemd_cgroup_without_systemd_is_refused_cleanly(rt, bundle):
    """--systemd-cgroup on a host without systemd: a clear reason, and
    nothing left behind (no state directory, no cgroup)."""
    bundle.set_args("/bin/true")
    bundle.linux["cgroupsPath"] = "system.slice:husk-test:" + "nosd"
    cid = rt.new_id()
    bundle.write()
    before = set(os.listdir("/sys/fs/cgroup/unified" if os.path.isdir(
        "/sys/fs/cgroup/unified") else "/sys/fs/cgroup"))
    r = rt.cmd("create", "--bundle", bundle.path, cid, global_args=("--systemd-cgroup",))
    r.fails()
    if is_husk():
        assert "/run/systemd/system is missing" in r.err, r.err
    assert not os.path.exists(os.path.join(rt.root, cid))
    after = set(os.listdir("/sys/fs/cgroup/unified" if os.path.isdir(
        "/sys/fs/cgroup/unified") else "/sys/fs/cgroup"))
    assert after == before


@husk_only
def test_run_relays_its_own_pty(rt, bundle):
    """process.terminal without --console-socket: husk run holds the pty
    master and copies stdin and stdout through it."""
    bundle.process["terminal"] = True
    bundle.set_args("/bin/sh", "-c", "tty; read line; echo got:$line; exit 4")
    r = rt.run(bundle, input="hello\n")
    assert r.rc == 4, r
    assert "/dev/pts/" in r.out or "/dev/console" in r.out
    assert "got:hello" in r.out


@husk_only
def test_create_failure_leaves_nothing(rt, bundle, tmp_path):
    """A failure after the state directory and cgroup exist (here the
    user program is missing) removes them again."""
    bundle.set_args("/no/such/program")
    pid_file = str(tmp_path / "pid")
    r = rt.create(bundle, pid_file=pid_file).fails()
    assert "create " + r.cid in r.err
    assert not os.path.exists(os.path.join(rt.root, r.cid))
    assert not os.path.exists(pid_file)
    rt.assert_nothing_left([r.cid])


@husk_only
def test_pid_file_does_not_follow_a_planted_temporary_link(rt, bundle, tmp_path):
    """The pid file is written to a temporary name and renamed; a symlink
    planted at that name (a world-writable directory) must not be followed."""
    victim = tmp_path / "victim"
    victim.write_text("keep")
    pid_file = tmp_path / "pid"
    os.symlink(victim, tmp_path / ".pid.tmp")
    bundle.set_args("/bin/true")
    r = rt.create(bundle, pid_file=str(pid_file)).check()
    assert victim.read_text() == "keep"
    assert pid_file.read_text() == str(rt.state(r.cid)["pid"])
    assert not os.path.islink(pid_file)


@husk_only
@pytest.mark.parametrize("data", ["no newline at the end", "line\n", ""])
def test_run_pty_passes_end_of_input(rt, bundle, data):
    """stdin that is not a terminal ends as the end-of-file character of
    the pty, so a reader in the container finishes (even mid-line)."""
    bundle.process["terminal"] = True
    bundle.set_args("/bin/sh", "-c", "cat; echo done:$?")
    r = rt.run(bundle, input=data, timeout=10)
    assert r.rc == 0, r
    assert "done:0" in r.out
    if data:
        assert data.strip() in r.out
