"""`delete --force ID` leaves nothing, whatever state the container is in:
nested cgroups, paused, a create or delete killed half way, a broken state
file. Statuses say what is true, and `list` reports what it cannot read."""

import os
import random
import signal
import time

import husktest
import pytest

from conftest import CGROUP_ROOT, CGROUP_V2, husk_only, is_runc, spawn

STRACE = husktest.STRACE  # env ASAN_OPTIONS=...detect_leaks=0 strace
needs_strace = pytest.mark.skipif(not os.path.exists(husktest.STRACE_PATH),
                                  reason="needs strace")


def cgroup_dirs(pid):
    """The container's cgroup directory in every hierarchy, from the host,
    as /proc/PID/cgroup of a process inside it names them: CGROUP_ROOT
    itself holds the unified hierarchy on a pure v2 host, unified/ below it
    on a hybrid one."""
    dirs = []
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if path == "/":
                continue
            if CGROUP_V2:
                dirs.append(CGROUP_ROOT + path)
                continue
            names = ["unified"] if not controllers else [
                controllers.replace("name=", ""), *controllers.replace("name=", "").split(",")]
            for name in names:
                base = os.path.join(CGROUP_ROOT, name)
                if os.path.isdir(base) and not os.path.islink(base):
                    dirs.append(base + path)
                    break
    return dirs


def children_of(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def wait_child(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = children_of(pid)
        if kids:
            return kids[0]
        time.sleep(0.01)
    raise AssertionError(f"{pid} never forked")


def nest(dirs, pid):
    """Make sub-cgroups below each of the container's cgroups (one left
    empty) and move pid two levels down in every hierarchy."""
    for d in dirs:
        deep = os.path.join(d, "a", "b")
        os.makedirs(deep)
        os.makedirs(os.path.join(d, "empty", "deeper"))
        for sub in (os.path.join(d, "a"), deep):  # a new v1 cpuset starts empty
            for f in ("cpuset.cpus", "cpuset.mems"):
                # on cgroup2 a child has the files only where its parent
                # enables cpuset for it (and then they need no copy)
                if os.path.exists(os.path.join(d, f)) and not CGROUP_V2:
                    with open(os.path.join(d, f)) as src, open(os.path.join(sub, f), "w") as dst:
                        dst.write(src.read())
        with open(os.path.join(deep, "cgroup.procs"), "w") as f:
            f.write(str(pid))


def start_two_processes(rt, bundle):
    """A running container whose init has a child; returns id, init, child."""
    cid, pid = rt.start_detached(bundle, "/bin/sh", "-c", "sleep 60 & exec sleep 61")
    return cid, pid, wait_child(pid)


@pytest.mark.parametrize("paused", [False, True])
def test_force_delete_removes_nested_cgroups(rt, bundle, paused):
    """The container made cgroups below its own and a process lives there:
    delete --force kills it and removes the whole subtree."""
    cid, pid, child = start_two_processes(rt, bundle)
    dirs = cgroup_dirs(pid)
    assert dirs, "the container has no cgroup of its own"
    nest(dirs, child)
    if paused:
        rt.cmd("pause", cid).check()
    start = time.monotonic()
    r = rt.delete(cid, force=True)
    elapsed = time.monotonic() - start
    assert r.rc == 0, r
    assert [d for d in dirs if os.path.exists(d)] == []
    assert elapsed < 3, f"delete --force took {elapsed:.1f}s"
    rt.assert_nothing_left([cid], [bundle])


def freeze_sub_cgroup(dirs):
    """The container freezes its own a/b (v1 freezer, and cgroup2 where the
    host has it): thawing the container's cgroup alone does not thaw it."""
    for d in dirs:
        for f, val in (("freezer.state", "FROZEN"), ("cgroup.freeze", "1")):
            path = os.path.join(d, "a", "b", f)
            if os.path.exists(path):
                with open(path, "w") as out:
                    out.write(val)


def test_force_delete_of_a_paused_container_with_a_frozen_sub_cgroup_is_quick(rt, bundle):
    cid, pid, child = start_two_processes(rt, bundle)
    dirs = cgroup_dirs(pid)
    nest(dirs, child)
    freeze_sub_cgroup(dirs)
    rt.cmd("pause", cid).check()
    assert rt.state(cid)["status"] == "paused"
    start = time.monotonic()
    r = rt.delete(cid, force=True)
    elapsed = time.monotonic() - start
    assert r.rc == 0, r
    assert elapsed < 3, f"delete --force of a paused container took {elapsed:.1f}s"
    rt.assert_nothing_left([cid], [bundle])


@pytest.mark.skipif(is_runc(), reason="runc 1.1 thaws only the container's own cgroup")
def test_kill_reaches_an_init_in_a_frozen_sub_cgroup(rt, bundle):
    """SIGKILL thaws the whole subtree after sending, as runc thaws the
    container's cgroup, so the init dies instead of staying frozen."""
    cid, pid, _ = start_two_processes(rt, bundle)
    dirs = cgroup_dirs(pid)
    nest(dirs, pid)
    freeze_sub_cgroup(dirs)
    rt.kill(cid, "KILL").check()
    rt.wait_status(cid, "stopped", timeout=3)
    rt.delete(cid, force=True).check()
    rt.assert_nothing_left([cid], [bundle])


# ---------------------------------------------------------------------------
# A create killed half way
# ---------------------------------------------------------------------------
def killed_create_then_force_delete(rt, bundle, wrap=(), delay=None):
    cid = rt.new_id()
    argv = [*wrap, *rt.argv("create", "--bundle", bundle.path, cid)]
    with open(rt.out_path(cid), "ab") as out:
        p = spawn(argv, stdin=open(os.devnull), stdout=out, stderr=out)
    if delay is not None:
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    r = rt.delete(cid, force=True)
    assert r.rc == 0, r
    assert rt.state_raw(cid).rc != 0
    rt.assert_nothing_left([cid], [bundle])


# Syscalls of create to die at (SIGKILL on entering the Nth): making the
# state directory and its files, each cgroup directory, saving the state,
# cloning the container process, writing cgroup files.
# (Earlier points, before any cgroup exists, and later ones, once state.json
# names the process, were already cleaned up: not repeated here.)
KILL_POINTS = [("mkdir,mkdirat", 8), ("mkdir,mkdirat", 11), ("rename,renameat,renameat2", 2),
               ("write", 5), ("write", 15)]


@husk_only  # runc leaves cgroups behind when killed after making them
@needs_strace
@pytest.mark.parametrize("syscalls,nth", KILL_POINTS)
def test_create_killed_at_a_syscall_leaves_nothing_after_force_delete(rt, bundle, syscalls,
                                                                      nth):
    bundle.set_args("/bin/probe", "sleep", "60")
    bundle.write()
    wrap = [*STRACE, "-qq", "-o", "/dev/null",
            "-e", f"inject={syscalls}:signal=KILL:when={nth}"]
    killed_create_then_force_delete(rt, bundle, wrap)


@husk_only
def test_create_killed_at_random_moments_leaves_nothing_after_force_delete(rt, bundle):
    bundle.set_args("/bin/probe", "sleep", "60")
    bundle.write()
    start = time.monotonic()
    rt.create(bundle).check()
    took = time.monotonic() - start
    rng = random.Random(1234)
    for _ in range(20):
        killed_create_then_force_delete(rt, bundle, delay=rng.uniform(0, took * 1.2))


# ---------------------------------------------------------------------------
# A broken state file
# ---------------------------------------------------------------------------
BROKEN = {"missing": None, "empty": b"", "truncated": b'{"ociVersion":"1.0.2","id":"x',
          "garbage": b"\x00\xffnot json at all"}


def break_state(rt, cid, kind):
    path = os.path.join(rt.root, cid, "state.json")
    if BROKEN[kind] is None:
        os.unlink(path)
    else:
        with open(path, "wb") as f:
            f.write(BROKEN[kind])


@husk_only  # runc cannot delete a container whose state.json is broken
@pytest.mark.parametrize("started", [False, True], ids=["created", "running"])
@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_force_delete_with_a_broken_state_file(rt, bundle, kind, started):
    cid, pid, _ = start_two_processes(rt, bundle) if started else (None, None, None)
    if not started:
        bundle.set_args("/bin/probe", "sleep", "60")
        cid = rt.create(bundle).check().cid
        pid = rt.state(cid)["pid"]
    dirs = cgroup_dirs(pid)
    break_state(rt, cid, kind)
    r = rt.delete(cid, force=True)
    assert r.rc == 0, r
    assert [d for d in dirs if os.path.exists(d)] == []
    rt.assert_nothing_left([cid], [bundle])


@husk_only
def test_state_of_a_container_without_its_state_file_is_stopped(rt, bundle):
    bundle.set_args("/bin/probe", "sleep", "60")
    cid = rt.create(bundle).check().cid
    break_state(rt, cid, "missing")
    st = rt.state(cid)
    assert st["status"] == "stopped", st
    r = rt.kill(cid, "KILL")
    assert r.rc != 0 and "still being created" not in r.err, r


@pytest.mark.parametrize("kind", ["truncated", "garbage"])
def test_list_reports_an_entry_it_cannot_read(rt, make_bundle, kind):
    good = make_bundle()
    good.set_args("/bin/probe", "sleep", "60")
    bad = make_bundle()
    bad.set_args("/bin/probe", "sleep", "60")
    good_id = rt.create(good).check().cid
    bad_id = rt.create(bad).check().cid
    break_state(rt, bad_id, kind)
    for args in ((), ("--quiet",), ("--format", "json")):
        r = rt.cmd("list", *args)
        assert r.rc == 0, r  # as runc: the others are still listed
        assert good_id in r.out, r
        assert bad_id not in r.out, r
        assert bad_id in r.err, f"list said nothing about {bad_id}: {r}"
    if not is_runc():
        rt.delete(bad_id, force=True).check()


# ---------------------------------------------------------------------------
# A delete killed half way, and commands during a delete
# ---------------------------------------------------------------------------
def strace_delete(rt, cid, inject, force=True):
    argv = [*STRACE, "-qq", "-o", "/dev/null", "-e", f"inject={inject}",
            *rt.argv("delete", *(["--force"] if force else []), cid)]
    return spawn(argv, stdin=open(os.devnull), stdout=open(os.devnull, "wb"),
                 stderr=open(os.devnull, "wb"))


@husk_only
@needs_strace
@pytest.mark.parametrize("nth", [2, 3])
def test_state_after_a_killed_delete_says_stopped(rt, bundle, nth):
    """delete dies while it removes the state directory's files (the
    cgroup and the process are gone by then): the container is stopped,
    not creating, and a plain delete finishes the job."""
    bundle.set_args("/bin/probe", "sleep", "60")
    cid = rt.create(bundle).check().cid
    rt.state(cid)
    p = strace_delete(rt, cid, f"unlink,unlinkat:signal=KILL:when={nth}")
    p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL
    st = rt.state(cid)
    assert st["status"] == "stopped", st
    r = rt.kill(cid, "KILL")
    assert r.rc != 0 and "not running" in r.err, r
    rt.delete(cid).check()
    rt.assert_nothing_left([cid], [bundle])


@husk_only
@needs_strace
def test_commands_during_a_slow_delete_say_stopped(rt, bundle):
    bundle.set_args("/bin/probe", "sleep", "60")
    cid = rt.create(bundle).check().cid
    rt.state(cid)
    p = strace_delete(rt, cid, "unlink,unlinkat:delay_enter=1500000:when=2")
    try:
        time.sleep(0.8)
        st = rt.state_raw(cid)
        k = rt.kill(cid, "KILL")
    finally:
        p.wait(timeout=30)
    assert p.returncode == 0
    if st.rc == 0:
        assert '"stopped"' in st.out, st
    assert "still being created" not in k.err, k
    rt.assert_nothing_left([cid], [bundle])
