"""The runtime dying half-way must not leave a container nobody can clean up."""

import os
import signal
import time

import pytest

from conftest import husk_only, is_husk, is_runc, processes


def sigkill_quietly(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


HOOK_TOKEN = "ITEST_SLEEPING_HOOK"


@pytest.fixture(autouse=True)
def kill_sleeping_hooks(rt):
    """A hook outlives a runtime killed under it; end it before the test
    does, or it becomes an unreaped orphan of PID 1 on this host."""
    yield
    token = f"{HOOK_TOKEN}={rt.root}".encode()
    for pid, env, _ in processes():
        if token in env:
            sigkill_quietly(pid)


def sleeping_hook(rt, hookdir):
    # tells the test it started, then blocks create/start for a while
    return {"path": "/bin/sh", "args": ["sh", "-c", f"touch {hookdir}/started; sleep 10"],
            "env": ["PATH=/usr/bin:/bin", f"{HOOK_TOKEN}={rt.root}"]}


def hook_sleeping_in(rt, bundle, kind, hookdir):
    bundle.config["hooks"] = {kind: [sleeping_hook(rt, hookdir)]}


def wait_file(path, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return
        time.sleep(0.01)
    raise AssertionError(f"{path} never appeared")


@husk_only  # runc 1.1 leaves the container's cgroups behind here
def test_killed_create_is_cleaned_by_delete_force(rt, bundle, tmp_path):
    """SIGKILL `create` while a createRuntime hook runs (the container's
    process exists, its cgroups too, no state may be saved yet); then
    `delete --force` must leave nothing: no process, cgroup or state."""
    hook_sleeping_in(rt, bundle, "createRuntime", tmp_path)
    bundle.set_args("/bin/probe", "sleep", "60")
    bundle.write()
    cid = rt.new_id()
    p = rt.cmd_files_bg(cid, "create", "--bundle", bundle.path, cid)
    wait_file(str(tmp_path / "started"))
    p.send_signal(signal.SIGKILL)
    rt.finish_files(p)
    rt.delete(cid, force=True)
    rt.assert_nothing_left([cid], [bundle], timeout=5)


def test_bad_oom_score_adj_fails_cleanly(rt, bundle):
    bundle.process["oomScoreAdj"] = 1001
    r = rt.run(bundle)
    assert r.rc != 0
    if is_husk():
        assert "oomScoreAdj" in r.err or "oom" in r.err.lower()
    rt.assert_nothing_left()


def test_too_many_additional_gids_fails_cleanly(rt, bundle):
    bundle.process["user"]["additionalGids"] = list(range(1, 70000))
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


def test_killed_foreground_run_is_cleaned_by_delete_force(rt, bundle):
    bundle.set_args("/bin/probe", "signal-wait")
    bundle.write()
    cid = rt.new_id()
    p = rt.cmd_files_bg(cid, "run", "--bundle", bundle.path, cid)
    rt.wait_output(cid, "ready")
    p.send_signal(signal.SIGKILL)
    rt.finish_files(p)
    rt.delete(cid, force=True)
    rt.assert_nothing_left([cid], [bundle])


@pytest.mark.skipif(is_runc(), reason="runc 1.1 runs poststart hooks during create")
def test_killed_start_is_cleaned_by_delete_force(rt, bundle, tmp_path):
    hook_sleeping_in(rt, bundle, "poststart", tmp_path)
    bundle.set_args("/bin/probe", "sleep", "60")
    cid = rt.create(bundle).check().cid
    # files, not pipes: the orphaned hook keeps the runtime's stdio open
    p = rt.cmd_files_bg(cid, "start", cid, tag="-start")
    wait_file(str(tmp_path / "started"))
    p.send_signal(signal.SIGKILL)
    rt.finish_files(p)
    rt.delete(cid, force=True)
    rt.assert_nothing_left([cid], [bundle])
