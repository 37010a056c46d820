"""checkpoint and restore with CRIU (husk-checkpoint(8), husk-restore(8)).

A shell loop counts in its own memory and writes each number to a file in
the rootfs (or to its stdout pipe); after a checkpoint and a restore the
count goes on past the checkpointed value instead of starting again at 1.
That needs a kernel criu works on (`criu check`): the round trips skip,
naming criu's reason, where it does not, and there the test that criu's
failure is reported clearly and leaves the container running runs instead.
Bad input and what criu 3.17 cannot restore are refused everywhere."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import Runtime, host_run, husk_only, is_husk, spawn

pytestmark = [husk_only, pytest.mark.skipif(not is_husk(), reason="husk's checkpoint")]

COUNTER = ("i=0; while :; do i=$((i+1)); echo $i > /count.tmp; mv /count.tmp /count; "
           "[ -e /stop ] && exit 3; sleep 0.1; done")
PIPE_COUNTER = "i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done"


def criu_path():
    return shutil.which("criu") or ("/usr/sbin/criu" if os.path.exists("/usr/sbin/criu")
                                    else None)


def criu_check():
    """None when criu works on this kernel, else why not."""
    path = criu_path()
    if not path:
        return "criu is not installed"
    r = subprocess.run([path, "check"], capture_output=True, text=True, timeout=60)
    if r.returncode == 0:
        return None
    errors = [l for l in (r.stdout + r.stderr).splitlines() if "Error" in l]
    return (errors or ["criu check failed"])[0]


CRIU_BROKEN = criu_check()
needs_criu = pytest.mark.skipif(CRIU_BROKEN is not None,
                                reason=f"criu cannot run here: {CRIU_BROKEN}")


def count(bundle):
    try:
        with open(os.path.join(bundle.rootfs, "count")) as f:
            return int(f.read().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def wait_count(bundle, above, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = count(bundle)
        if n > above:
            return n
        time.sleep(0.05)
    raise AssertionError(f"the count never went past {above} (it is {count(bundle)})")


def start_counter(rt, bundle):
    bundle.set_args("/bin/sh", "-c", COUNTER)
    cid, pid = rt.start_detached(bundle)
    wait_count(bundle, 3)
    return cid, pid


def keep_logs(images):
    """criu's logs where the test host brings them back (HUSK_TESTHOST_OUT)."""
    out = os.environ.get("HUSK_TESTHOST_OUT")
    if not out:
        return
    dest = os.path.join(out, "criu-logs", os.path.basename(os.path.dirname(str(images))))
    for name in ("dump.log", "pre-dump.log", "restore.log"):
        if os.path.exists(os.path.join(images, name)):
            os.makedirs(dest, exist_ok=True)
            shutil.copy(os.path.join(images, name), dest)


def checkpoint(rt, cid, images, *extra):
    r = rt.cmd("checkpoint", "--image-path", str(images), *extra, cid, timeout=120)
    if r.rc:
        keep_logs(images)
    return r


def restore(rt, bundle, cid, images, *extra):
    bundle.write()
    r = rt.cmd_files(cid, "restore", "--detach", "--bundle", bundle.path, "--image-path",
                     str(images), *extra, cid, timeout=120)
    if cid not in rt.ids:
        rt.ids.append(cid)
    if r.rc:
        keep_logs(images)
    return r


def assert_gone(rt, cid):
    r = rt.state_raw(cid)
    assert r.rc != 0 and "does not exist" in r.err, r


# -- where criu cannot run --------------------------------------------------

@pytest.mark.skipif(CRIU_BROKEN is None, reason="criu works here: the round trips cover it")
def test_criu_failure_is_clear_and_leaves_the_container_running(rt, bundle, tmp_path):
    cid, pid = start_counter(rt, bundle)
    r = checkpoint(rt, cid, tmp_path / "images").fails()
    if criu_path() is None:
        assert "criu not found" in r.err, r
    else:
        assert "criu cannot checkpoint on this kernel: " in r.err, r
        reason = r.err.split("on this kernel: ", 1)[1].strip()
        assert reason and reason in CRIU_BROKEN, (reason, CRIU_BROKEN)
    st = rt.state(cid)
    assert st["status"] == "running" and st["pid"] == pid
    wait_count(bundle, count(bundle))  # still counting
    rt.delete(cid, force=True).check()


# -- bad input, refused before anything is made ----------------------------

def test_checkpoint_unknown_container(rt, tmp_path):
    r = checkpoint(rt, "no-such-container", tmp_path / "images").fails()
    assert "checkpoint no-such-container" in r.err and "does not exist" in r.err, r
    assert not (tmp_path / "images").exists()


def test_bad_manage_cgroups_mode(rt, bundle, tmp_path):
    cid, pid = start_counter(rt, bundle)
    r = checkpoint(rt, cid, tmp_path / "images", "--manage-cgroups-mode", "bogus").fails()
    assert '--manage-cgroups-mode: unknown mode "bogus"' in r.err, r
    assert not (tmp_path / "images").exists()
    assert rt.state(cid)["status"] == "running"
    rt.delete(cid, force=True).check()
    (tmp_path / "images").mkdir()
    r = restore(rt, bundle, "it-r-mode", tmp_path / "images", "--manage-cgroups-mode",
                "bogus").fails()
    assert '--manage-cgroups-mode: unknown mode "bogus"' in r.err, r
    assert_gone(rt, "it-r-mode")


def test_global_criu_option_names_the_program(rt, bundle, tmp_path):
    cid, pid = start_counter(rt, bundle)
    r = rt.cmd("checkpoint", "--image-path", str(tmp_path / "images"), cid,
               global_args=("--criu", "/nonexistent/criu")).fails()
    assert "criu /nonexistent/criu: No such file or directory" in r.err, r
    assert rt.state(cid)["status"] == "running"
    rt.delete(cid, force=True).check()


def test_restore_missing_image_dir(rt, bundle, tmp_path):
    r = restore(rt, bundle, "it-r-missing", tmp_path / "nothing-here").fails()
    assert "restore it-r-missing: image directory" in r.err and "No such file" in r.err, r
    assert_gone(rt, "it-r-missing")


@pytest.mark.skipif(criu_path() is None, reason="criu is not installed")
@pytest.mark.parametrize("cid,annotations,why", [
    ("it-r-idmap", {"husk.rootfs.idmap": "true"},
     "criu cannot restore it: its rootfs is idmapped"),
    ("it-r-vm", {"run.oci.handler": "vm"}, "the vm backend cannot be restored"),
])
def test_restore_refuses_what_criu_cannot_bring_back(rt, bundle, tmp_path, cid, annotations,
                                                      why):
    bundle.config["annotations"] = annotations
    (tmp_path / "images").mkdir()
    r = restore(rt, bundle, cid, tmp_path / "images").fails()
    assert why in r.err, r
    assert_gone(rt, cid)


def test_checkpoint_refuses_an_idmapped_rootfs(rt, bundle, tmp_path):
    bundle.config["annotations"] = {"husk.rootfs.idmap": "true"}
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    bundle.set_args("/bin/sleep", "100")
    r = rt.create(bundle)
    if r.rc != 0:
        pytest.skip(f"no idmapped rootfs here: {r.err.strip()}")
    rt.start(r.cid).check()
    c = checkpoint(rt, r.cid, tmp_path / "images").fails()
    assert "criu cannot checkpoint it: its rootfs is idmapped" in c.err, c
    assert rt.state(r.cid)["status"] == "running"
    rt.delete(r.cid, force=True).check()


# -- round trips ------------------------------------------------------------

@needs_criu
def test_round_trip_same_root(rt, bundle, tmp_path):
    cid, _ = start_counter(rt, bundle)
    checkpoint(rt, cid, tmp_path / "images").check()
    assert_gone(rt, cid)  # runc's behaviour: the checkpointed container is gone
    at_dump = count(bundle)
    time.sleep(0.3)
    assert count(bundle) == at_dump, "the counter still ran after the checkpoint"
    assert os.path.exists(tmp_path / "images" / "descriptors.json")
    restore(rt, bundle, cid, tmp_path / "images").check()
    assert count(bundle) >= at_dump
    wait_count(bundle, at_dump + 3)
    assert rt.state(cid)["status"] == "running"
    rt.delete(cid, force=True).check()


@needs_criu
def test_round_trip_fresh_root(rt, bundle, tmp_path):
    cid, _ = start_counter(rt, bundle)
    checkpoint(rt, cid, tmp_path / "images", "--work-path", str(tmp_path / "work")).check()
    assert os.path.exists(tmp_path / "work" / "dump.log")
    at_dump = count(bundle)
    fresh = Runtime(str(tmp_path / "fresh-state"), rt.iodir)
    try:
        restore(fresh, bundle, cid, tmp_path / "images").check()
        wait_count(bundle, at_dump + 3)
        st = fresh.state(cid)
        assert st["status"] == "running" and st["pid"] > 0
    finally:
        fresh.cleanup()
        fresh.assert_nothing_left(bundles=[bundle])


@needs_criu
def test_leave_running(rt, bundle, tmp_path):
    cid, pid = start_counter(rt, bundle)
    checkpoint(rt, cid, tmp_path / "images", "--leave-running").check()
    st = rt.state(cid)
    assert st["status"] == "running" and st["pid"] == pid
    wait_count(bundle, count(bundle) + 2)
    rt.delete(cid, force=True).check()
    # the images still restore it
    at_dump = count(bundle)
    restore(rt, bundle, cid, tmp_path / "images").check()
    wait_count(bundle, 0)
    rt.delete(cid, force=True).check()
    assert at_dump > 0


@needs_criu
def test_pre_dump_then_dump(rt, bundle, tmp_path):
    cid, _ = start_counter(rt, bundle)
    checkpoint(rt, cid, tmp_path / "pre", "--pre-dump").check()
    assert rt.state(cid)["status"] == "running"
    checkpoint(rt, cid, tmp_path / "final", "--parent-path", "../pre").check()
    assert_gone(rt, cid)
    at_dump = count(bundle)
    restore(rt, bundle, cid, tmp_path / "final").check()
    wait_count(bundle, at_dump + 2)
    rt.delete(cid, force=True).check()


@needs_criu
def test_foreground_restore_returns_the_exit_status(rt, bundle, tmp_path):
    cid, _ = start_counter(rt, bundle)
    checkpoint(rt, cid, tmp_path / "images").check()
    at_dump = count(bundle)
    p = rt.cmd_bg("restore", "--bundle", bundle.path, "--image-path",
                  str(tmp_path / "images"), cid)
    rt.ids.append(cid)
    try:
        wait_count(bundle, at_dump + 2)
    except AssertionError:
        keep_logs(tmp_path / "images")
        p.kill()
        raise AssertionError(f"not counting after a foreground restore: {rt.finish(p)}")
    with open(os.path.join(bundle.rootfs, "stop"), "w"):
        pass
    r = rt.finish(p, timeout=60)
    assert r.rc == 3, r
    assert_gone(rt, cid)


@needs_criu
def test_restore_hands_the_container_new_stdout_pipe(rt, bundle, tmp_path):
    """conmon's way: the container's stdout was a pipe; the restored one
    writes to the pipe restore's caller passes."""
    bundle.set_args("/bin/sh", "-c", PIPE_COUNTER)
    cid = rt.new_id()
    bundle.write()
    first = spawn(rt.argv("run", "--detach", "--bundle", bundle.path, cid),
                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert first.wait(30) == 0
    seen = [int(first.stdout.readline()) for _ in range(3)]
    checkpoint(rt, cid, tmp_path / "images").check()
    rest = first.stdout.read().split()  # the pipe closes with the dumped container
    last = int(rest[-1]) if rest else seen[-1]
    second = spawn(rt.argv("restore", "--detach", "--bundle", bundle.path, "--image-path",
                           str(tmp_path / "images"), cid),
                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert second.wait(120) == 0, second.stderr.read()
    after = [int(second.stdout.readline()) for _ in range(3)]
    assert after[0] > last, (last, after)
    rt.delete(cid, force=True).check()
    second.stdout.close()
    first.stdout.close()
    host_run(["true"])


@needs_criu
def test_restore_into_a_cgroup_whose_parents_husk_made(rt, bundle, tmp_path):
    """A cgroupsPath whose parents create makes: husk's saved form of it has
    a line a hierarchy; criu's --cgroup-root must get the one path."""
    parent = f"husk-ck-{os.getpid()}"
    bundle.set_args("/bin/sh", "-c", COUNTER)
    cid = rt.new_id()
    bundle.linux["cgroupsPath"] = f"/{parent}/{cid}"
    rt.start_detached(bundle, cid=cid)
    wait_count(bundle, 3)
    checkpoint(rt, cid, tmp_path / "images").check()
    at_dump = count(bundle)
    restore(rt, bundle, cid, tmp_path / "images").check()
    wait_count(bundle, at_dump + 2)
    with open(f"/proc/{rt.state(cid)['pid']}/cgroup") as f:
        assert f"/{parent}/{cid}\n" in f.read()
    rt.delete(cid, force=True).check()


@needs_criu
def test_restore_makes_the_bind_mount_points_a_fresh_rootfs_lacks(rt, bundle, tmp_path):
    """podman's --import: the new container's rootfs has no file where the
    config binds one (its /etc/hosts); restore makes it as create would."""
    host_file = tmp_path / "hosts"
    host_file.write_text("127.0.0.1 restored\n")
    bundle.config["mounts"].append({"destination": "/etc/husk-ck-hosts", "type": "bind",
                                    "source": str(host_file), "options": ["rbind", "ro"]})
    cid, _ = start_counter(rt, bundle)
    checkpoint(rt, cid, tmp_path / "images").check()
    at_dump = count(bundle)
    os.unlink(os.path.join(bundle.rootfs, "etc", "husk-ck-hosts"))
    restore(rt, bundle, cid, tmp_path / "images").check()
    wait_count(bundle, at_dump + 2)
    r = rt.cmd("exec", cid, "cat", "/etc/husk-ck-hosts").check()
    assert "restored" in r.out
    rt.delete(cid, force=True).check()
