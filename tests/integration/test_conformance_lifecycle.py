"""Lifecycle commands as the public conformance harnesses drive them.

youki's contest runs `<rt> --root R create ID --bundle B` (the id before the
options), `kill ID 9`, `delete ID`, `state ID`, and judges most commands by
their stderr alone: a command "failed" when stderr contains "error" or
"Error", whatever its exit code. runtime-tools judges by the exit code. So a
failing command must exit non-zero AND name the error on stderr, and a
successful one must keep stderr clean.
"""

import json
import os
import subprocess

import pytest

from conftest import is_runc, spawn, _finish


def names_error(text):
    return "error" in text or "Error" in text


def stopped_container(rt, bundle):
    bundle.set_args("/bin/true")
    r = rt.run(bundle, detach=True).check()
    rt.wait_status(r.cid, "stopped")
    return r.cid


def running_container(rt, bundle):
    cid, _ = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    return cid


# (what the suite calls it, how to get the container, the command after the id)
FAILURES = [
    ("kill_non_existed_container", None, ["kill", "{id}", "9"]),
    ("kill_with_empty_id_test", "empty", ["kill", "{id}", "9"]),
    ("kill_stopped_container_test", stopped_container, ["kill", "{id}", "9"]),
    ("kill_unknown_signal", running_container, ["kill", "{id}", "NOSUCHSIG"]),
    ("delete_non_existed_container", None, ["delete", "{id}"]),
    ("delete_running_container_test", running_container, ["delete", "{id}"]),
    ("start_not_created", None, ["start", "{id}"]),
    ("start_stopped", stopped_container, ["start", "{id}"]),
    ("state_non_existed", None, ["state", "{id}"]),
    ("create_without_id", "empty", ["create", "--bundle", "{bundle}"]),
]


@pytest.mark.parametrize("name,setup,args", FAILURES, ids=[f[0] for f in FAILURES])
def test_failed_command_names_the_error_on_stderr(rt, bundle, name, setup, args):
    if setup is None:
        cid = "it-missing-" + os.urandom(4).hex()
    elif setup == "empty":
        cid = ""
    else:
        cid = setup(rt, bundle)
    bundle.write()
    argv = [a.format(id=cid, bundle=bundle.path) for a in args]
    r = rt.cmd(*argv)
    assert r.rc != 0, f"{name}: expected failure, got {r}"
    assert names_error(r.err), f"{name}: stderr must name the error: {r.err!r}"


def test_contest_lifecycle_keeps_stderr_clean(rt, bundle):
    """create (id before --bundle, stdio piped), start, kill 9, state, delete:
    every step succeeds with nothing on stderr, and state reads as contest
    parses it (substring match on the indented JSON)."""
    bundle.set_args("/bin/probe", "sleep", "60")
    bundle.write()
    cid = rt.new_id()
    create = rt.cmd_files(cid, "create", cid, "--bundle", bundle.path)
    assert create.rc == 0 and create.err == "", create
    for step in (["start", cid], ["kill", cid, "9"]):
        r = rt.cmd(*step)
        assert r.rc == 0 and not names_error(r.err), (step, r)
    rt.wait_status(cid, "stopped")
    st = rt.cmd("state", cid)
    assert st.rc == 0 and st.err == "", st
    assert f'"id": "{cid}"' in st.out and '"status": "stopped"' in st.out, st.out
    r = rt.cmd("delete", cid)
    assert r.rc == 0 and r.err == "", r
    assert rt.state_raw(cid).rc != 0


def test_kill_of_stopped_container_has_no_effect(rt, bundle):
    """kill_no_effect: the failed kill leaves `state` byte-for-byte the same."""
    cid = stopped_container(rt, bundle)
    before = rt.cmd("state", cid).check().out
    r = rt.kill(cid, "KILL")
    assert r.rc != 0 and names_error(r.err), r
    assert rt.cmd("state", cid).check().out == before
    rt.delete(cid).check()


def test_kill_created_then_delete_at_once(rt, bundle):
    """kill_created_container_test: kill 9 a created container, then delete
    it without waiting for the stopped state."""
    bundle.set_args("/bin/probe", "sleep", "60")
    r = rt.create(bundle).check()
    rt.kill(r.cid, "9").check()
    d = rt.delete(r.cid)
    assert d.rc == 0 and not names_error(d.err), d
    rt.assert_nothing_left([r.cid])


@pytest.mark.skipif(is_runc(), reason="runc refuses --preserve-fds past the open fds")
def test_preserve_fds_beyond_the_open_ones_leaks_nothing(rt, bundle):
    """fd_control only_stdio: --preserve-fds 100 with only stdio open hands
    the container no fd of the runtime's own."""
    bundle.set_args("/bin/probe", "fds")
    bundle.write()
    cid = rt.new_id()
    create = rt.cmd_files(cid, "create", cid, "--bundle", bundle.path, "--preserve-fds", "100")
    assert create.rc == 0, create
    rt.start(cid).check()
    rt.wait_status(cid, "stopped")
    line = [json.loads(x) for x in rt.output(cid).splitlines() if x.startswith("{")][0]
    assert sorted(line["fds"], key=int) == ["0", "1", "2"], line


def test_create_keeps_the_callers_pipes_until_the_process_exits(rt, bundle):
    """contest's test_inside_container: create with piped stdout/stderr, start,
    then read create's pipes to the end: they close when the container
    process exits, and carry only what the process wrote."""
    bundle.set_args("/bin/sh", "-c", "echo hello")
    bundle.write()
    cid = rt.new_id()
    p = spawn(rt.argv("create", cid, "--bundle", bundle.path), stdin=subprocess.DEVNULL,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rt.wait_status(cid, "created")
    rt.start(cid).check()
    out, err = _finish(p, 10)
    assert p.returncode == 0
    assert out.decode() == "hello\n" and err.decode() == "", (out, err)
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()


def test_kill_all_of_stopped_container_succeeds_and_changes_nothing(rt, bundle):
    """runc's rule, which containerd's shim relies on after init exits: plain
    kill of a stopped container fails, kill --all of it succeeds, and
    neither changes the state."""
    cid = stopped_container(rt, bundle)
    before = rt.cmd("state", cid).check().out
    r = rt.kill(cid, "KILL", all=True)
    assert r.rc == 0 and not names_error(r.err), r
    assert rt.cmd("state", cid).check().out == before
    rt.delete(cid).check()


@pytest.mark.parametrize("root", [".", "./", "rootfs-dir/."])
def test_root_path_dot_components_are_dropped(rt, bundle, root):
    """runtime-tools bundles use root.path "." (the bundle is the rootfs);
    state names the directory as runc does, without "/." left over."""
    bundle.set_args("/bin/true")
    bundle.config["root"] = {"path": root}
    bundle.write()
    bdir = bundle.rootfs
    if root.startswith("rootfs-dir"):
        bdir = os.path.join(bundle.path, "b")
        os.mkdir(bdir)
        os.rename(bundle.rootfs, os.path.join(bdir, "rootfs-dir"))
        expect = os.path.join(bdir, "rootfs-dir")
    else:
        expect = bdir
    os.rename(os.path.join(bundle.path, "config.json"), os.path.join(bdir, "config.json"))
    cid = rt.new_id()
    rt.cmd_files(cid, "create", "--bundle", bdir, cid).check()
    assert rt.state(cid)["rootfs"] == expect
    rt.start(cid).check()
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()


@pytest.mark.parametrize("preserve,expect", [("0", ["0", "1", "2"]),
                                             ("2", ["0", "1", "2", "3", "4"])])
def test_inherited_fds_past_preserve_fds_are_closed(rt, bundle, preserve, expect):
    """fd_control closes_fd / pass_single_fd: fds the caller leaves open
    (no CLOEXEC) reach the container only inside 3 .. 3+N-1; fd 6 lies past
    the range."""
    bundle.set_args("/bin/probe", "fds")
    fd = os.open("/dev/null", os.O_RDONLY)
    try:
        r = rt.run(bundle, None, "--preserve-fds", preserve, pass_fds={3: fd, 4: fd, 6: fd})
    finally:
        os.close(fd)
    assert r.rc == 0, r
    assert sorted(r.lines()[0]["fds"], key=int) == expect
