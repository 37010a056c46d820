"""Rootless, as engines run it: a fresh unprivileged user with its own
$XDG_RUNTIME_DIR and no --root, a config from `spec --rootless`, the whole
lifecycle, subordinate ids through newuidmap/newgidmap, and clear errors for
what needs privilege.

The user (USER) is created without subordinate ids; the tests that need them
add /etc/subuid and /etc/subgid lines and take them out again."""

import errno
import fcntl
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import RUNTIME_NAME, host_run, is_husk, is_runc, spawn, _finish

USER = "huskrlmore"
SUB_START, SUB_COUNT = 300000, 65536


@pytest.fixture(scope="module")
def user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        # no automatic subordinate ids: the tests decide whether there are any
        host_run(["useradd", "-m", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", USER])
        return pwd.getpwnam(USER)


class UserRuntime:
    """The runtime binary run as `user` through setpriv, with no --root: the
    state goes to $XDG_RUNTIME_DIR/<runtime>."""

    def __init__(self, user, home, binary, bundle):
        self.user, self.home, self.binary, self.bundle = user, home, binary, bundle
        self.xdg = os.path.join(home, "xdg")
        self.state_root = os.path.join(self.xdg, "runc" if is_runc() else "husk")

    def argv(self, *args):
        return ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                "--init-groups", "--", self.binary, *args]

    def env(self):
        return {"HOME": self.user.pw_dir, "USER": USER, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
                "XDG_RUNTIME_DIR": self.xdg}

    def cmd(self, *args, timeout=30):
        p = spawn(self.argv(*args), cwd=self.bundle.path, env=self.env(),
                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = _finish(p, timeout)
        return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def cmd_files(self, *args, timeout=30):
        """For create / run -d: the container keeps its stdio, so files."""
        out_path = os.path.join(self.home, "out")
        with open(out_path, "ab") as out, open(os.path.join(self.home, "err"), "wb+") as err:
            p = spawn(self.argv(*args), cwd=self.bundle.path, env=self.env(),
                      stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            _finish(p, timeout)
            err.seek(0)
            return p.returncode, err.read().decode(errors="replace")

    def output(self):
        with open(os.path.join(self.home, "out")) as f:
            return f.read()

    def config(self):
        with open(os.path.join(self.bundle.path, "config.json")) as f:
            return json.load(f)

    def write_config(self, cfg):
        # the marker lets the suite's leak check find this bundle's processes
        env = cfg["process"].setdefault("env", [])
        if not any(e.startswith("HUSK_ITEST_MARK=") for e in env):
            env.append(f"HUSK_ITEST_MARK={self.bundle.marker}")
        path = os.path.join(self.bundle.path, "config.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def state(self, cid):
        rc, out, err = self.cmd("state", cid)
        assert rc == 0, err
        return json.loads(out)

    def wait_status(self, cid, status, timeout=10):
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            st = self.state(cid)
            if st["status"] == status:
                return st
            time.sleep(0.02)
        raise AssertionError(f"{cid} never reached {status}: {st}")


@pytest.fixture
def urt(user, rt, bundle):
    """A UserRuntime with a bundle from `spec --rootless`, as the user."""
    home = tempfile.mkdtemp(prefix="husk-rlmore-", dir="/tmp")
    os.chmod(home, 0o755)
    xdg = os.path.join(home, "xdg")
    os.mkdir(xdg, 0o700)
    os.chown(xdg, user.pw_uid, user.pw_gid)
    binary = os.path.join(home, RUNTIME_NAME)  # where the user can run it
    shutil.copy2(rt.binary, binary)
    os.chmod(binary, 0o755)
    os.chown(bundle.path, user.pw_uid, user.pw_gid)  # spec writes config.json here
    bundle.write_config = False
    u = UserRuntime(user, home, binary, bundle)
    rc, _, err = u.cmd("spec", "--rootless")
    assert rc == 0, err
    cfg = u.config()
    cfg["process"]["terminal"] = False
    cfg["root"] = {"path": "rootfs", "readonly": False}
    u.write_config(cfg)
    u.ids = []
    u.rt = rt
    yield u
    for cid in u.ids:
        u.cmd("delete", "--force", cid)
    rt.assert_nothing_left(u.ids, [bundle])
    left = os.listdir(u.state_root) if os.path.isdir(u.state_root) else []
    shutil.rmtree(home, ignore_errors=True)
    assert not [e for e in left if e in u.ids], f"state left under {u.state_root}: {left}"


def new_id(u, tag):
    cid = f"rlm-{tag}-{os.urandom(4).hex()}"
    u.ids.append(cid)
    return cid


def set_args(u, *args):
    cfg = u.config()
    cfg["process"]["args"] = list(args)
    u.write_config(cfg)
    return cfg


def test_spec_rootless_maps_root_to_the_caller(urt, user):
    cfg = urt.config()
    assert cfg["linux"]["uidMappings"] == [{"containerID": 0, "hostID": user.pw_uid, "size": 1}]
    assert cfg["linux"]["gidMappings"] == [{"containerID": 0, "hostID": user.pw_gid, "size": 1}]
    assert {"type": "user"} in cfg["linux"]["namespaces"]
    assert "network" not in [n["type"] for n in cfg["linux"]["namespaces"]]


def test_run_id_is_root_inside(urt, user):
    set_args(urt, "/bin/sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map")
    rc, out, err = urt.cmd("run", new_id(urt, "run"))
    assert rc == 0, err
    lines = [line.split() for line in out.splitlines()]
    assert lines[:2] == [["0"], ["0"]]
    assert lines[2] == ["0", str(user.pw_uid), "1"]
    assert lines[3] == ["0", str(user.pw_gid), "1"]


def test_exit_code_of_run(urt):
    set_args(urt, "/bin/sh", "-c", "exit 7")
    rc, _, err = urt.cmd("run", new_id(urt, "exit"))
    assert rc == 7, err


def test_lifecycle_under_xdg_runtime_dir(urt, user):
    set_args(urt, "/bin/sleep", "60")
    cid = new_id(urt, "life")
    rc, err = urt.cmd_files("create", cid)
    assert rc == 0, err
    assert os.path.isdir(os.path.join(urt.state_root, cid))
    assert os.stat(os.path.join(urt.state_root, cid)).st_uid == user.pw_uid
    assert urt.state(cid)["status"] == "created"
    # `list` shows this container and nothing else the runtime keeps there
    rc, out, err = urt.cmd("list", "--format", "json")
    assert rc == 0, err
    assert [c["id"] for c in json.loads(out)] == [cid]
    rc, out, _ = urt.cmd("list", "--quiet")
    assert out.split() == [cid]
    rc, _, err = urt.cmd("start", cid)
    assert rc == 0, err
    st = urt.wait_status(cid, "running")
    with open(f"/proc/{st['pid']}/status") as f:
        uid_line = next(line for line in f if line.startswith("Uid:"))
    assert uid_line.split()[1] == str(user.pw_uid)
    rc, _, err = urt.cmd("kill", cid, "KILL")
    assert rc == 0, err
    urt.wait_status(cid, "stopped")
    rc, _, err = urt.cmd("delete", cid)
    assert rc == 0, err
    assert not os.path.exists(os.path.join(urt.state_root, cid))
    rc, out, _ = urt.cmd("list", "--quiet")
    assert out.split() == []


def test_delete_force_of_running(urt):
    set_args(urt, "/bin/sleep", "60")
    cid = new_id(urt, "force")
    rc, err = urt.cmd_files("run", "--detach", cid)
    assert rc == 0, err
    urt.wait_status(cid, "running")
    rc, _, err = urt.cmd("delete", "--force", cid)
    assert rc == 0, err
    assert not os.path.exists(os.path.join(urt.state_root, cid))
    urt.rt.assert_nothing_left([cid], [urt.bundle])  # the process is gone too


# ---------------------------------------------------------------------------
# Subordinate ids
# ---------------------------------------------------------------------------
def _edit_subid_files(add=None, remove=None):
    for path in ("/etc/subuid", "/etc/subgid"):
        with open(path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            lines = [line for line in f.read().splitlines() if line and line != remove]
            if add:
                lines.append(add)
            f.seek(0)
            f.truncate()
            f.write("".join(line + "\n" for line in lines))


@pytest.fixture
def subids(user):
    if not (shutil.which("newuidmap") and shutil.which("newgidmap")):
        pytest.skip("newuidmap/newgidmap not installed")
    entry = f"{USER}:{SUB_START}:{SUB_COUNT}"
    _edit_subid_files(add=entry)
    yield SUB_START
    _edit_subid_files(remove=entry)


def subid_maps(urt, user, maps_uid, maps_gid):
    cfg = urt.config()
    cfg["linux"]["uidMappings"] = maps_uid
    cfg["linux"]["gidMappings"] = maps_gid
    caps = cfg["process"]["capabilities"]
    for k in ("bounding", "effective", "permitted"):
        caps[k] = sorted(set(caps.get(k, [])) | {"CAP_CHOWN"})
    cfg["process"]["args"] = ["/bin/sh", "-c", "cat /proc/self/uid_map; touch /tmp/owned && "
                              "chown 1000:1000 /tmp/owned && echo chowned"]
    urt.write_config(cfg)


def test_multi_id_mapping_with_subids(urt, user, subids):
    own_u = {"containerID": 0, "hostID": user.pw_uid, "size": 1}
    own_g = {"containerID": 0, "hostID": user.pw_gid, "size": 1}
    sub = {"containerID": 1, "hostID": subids, "size": 65536 - 1}
    subid_maps(urt, user, [own_u, sub], [own_g, sub])
    rc, out, err = urt.cmd("run", new_id(urt, "subids"))
    assert rc == 0, err
    lines = out.splitlines()
    assert [line.split() for line in lines[:2]] == [["0", str(user.pw_uid), "1"],
                                                     ["1", str(subids), "65535"]]
    assert lines[2] == "chowned"
    st = os.stat(os.path.join(urt.bundle.rootfs, "tmp", "owned"))
    assert (st.st_uid, st.st_gid) == (subids + 999, subids + 999)


@pytest.mark.skipif(is_runc(), reason="runc 1.1: `fchown fd 7: operation not permitted` when "
                    "root inside is a subordinate id")
def test_single_subid_range_mapping(urt, user, subids):
    # root inside is a subordinate id, not the caller: only newuidmap may
    # write such a map, even though it is a single line
    rng = {"containerID": 0, "hostID": subids, "size": 2000}
    subid_maps(urt, user, [rng], [rng])
    rc, out, err = urt.cmd("run", new_id(urt, "subrange"))
    assert rc == 0, err
    assert out.splitlines()[0].split() == ["0", str(subids), "2000"]
    st = os.stat(os.path.join(urt.bundle.rootfs, "tmp", "owned"))
    assert st.st_uid == subids + 1000


def test_subids_not_granted_fails_cleanly(urt, user):
    own = {"containerID": 0, "hostID": user.pw_uid, "size": 1}
    sub = {"containerID": 1, "hostID": SUB_START, "size": 100}
    subid_maps(urt, user, [own, sub], [dict(own, hostID=user.pw_gid), sub])
    cid = new_id(urt, "nosub")
    rc, _, err = urt.cmd("run", cid)
    assert rc != 0
    if is_husk():
        assert "newuidmap" in err and "/etc/subuid" in err, err
    assert not os.path.exists(os.path.join(urt.state_root, cid))


# ---------------------------------------------------------------------------
# What needs privilege: a clear error that names the resource
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("resource,value", [
    ("memory", {"limit": 64 << 20}),
    ("pids", {"limit": 100}),
    ("cpu", {"shares": 512}),
    ("blockIO", {"weight": 500}),
])
def test_limit_without_delegated_cgroup_names_the_resource(urt, resource, value):
    cfg = set_args(urt, "/bin/true")
    cfg["linux"]["resources"] = {resource: value}
    urt.write_config(cfg)
    cid = new_id(urt, "limit")
    rc, _, err = urt.cmd("run", cid)
    assert rc != 0, "a limit was accepted without a cgroup to enforce it"
    if is_husk():
        assert resource in err, err
        assert "no permission" in err and "delegated cgroup" in err, err
    assert not os.path.exists(os.path.join(urt.state_root, cid))


def test_without_limits_no_cgroup_needed(urt):
    # spec --rootless has no resources: nothing to enforce, nothing to fail
    cfg = set_args(urt, "/bin/sh", "-c", "echo ok")
    assert not cfg["linux"].get("resources")
    rc, out, err = urt.cmd("run", new_id(urt, "nolimit"))
    assert rc == 0, err
    assert out.strip() == "ok"


# ---------------------------------------------------------------------------
# Commands that find the container's processes: no cgroup to read them from
# ---------------------------------------------------------------------------
RUNC_NEEDS_CGROUP = "runc 1.1 needs the cgroup: `unable to get all container pids: lstat`"


@pytest.mark.skipif(is_runc(), reason=RUNC_NEEDS_CGROUP)
def test_ps_lists_the_processes(urt):
    set_args(urt, "/bin/sh", "-c", "sleep 60 & sleep 61 & wait")
    cid = new_id(urt, "ps")
    rc, err = urt.cmd_files("run", "--detach", cid)
    assert rc == 0, err
    init = urt.wait_status(cid, "running")["pid"]
    deadline = time.monotonic() + 5
    while True:
        rc, out, err = urt.cmd("ps", "--format", "json", cid)
        assert rc == 0, err
        pids = json.loads(out)
        if len(pids) == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert init in pids and len(pids) == 3, pids
    for pid in pids:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert f.read().split(b"\0")[0] in (b"/bin/sh", b"sleep"), pid


@pytest.mark.skipif(is_runc(), reason=RUNC_NEEDS_CGROUP)
def test_kill_all_reaches_every_process(urt):
    # sh as pid 1 ignores TERM; its children do not: once they die, it exits
    set_args(urt, "/bin/sh", "-c", "sleep 60 & sleep 61 & wait; echo children-gone")
    cid = new_id(urt, "killall")
    rc, err = urt.cmd_files("run", "--detach", cid)
    assert rc == 0, err
    urt.wait_status(cid, "running")
    time.sleep(0.2)  # let sh start both children
    rc, _, err = urt.cmd("kill", "--all", cid, "TERM")
    assert rc == 0, err
    urt.wait_status(cid, "stopped", timeout=5)
    assert "children-gone" in urt.output()


@pytest.mark.parametrize("resources", [
    {"memory": {}},
    {"cpu": {}},
    {"pids": {"limit": 0}},
    {"devices": [{"allow": False, "access": "rwm"}]},
    {"memory": {}, "cpu": {}, "blockIO": {}, "hugepageLimits": []},
], ids=["memory", "cpu", "pids0", "devices", "all-empty"])
def test_resources_that_ask_for_nothing_need_no_cgroup(urt, resources):
    # engines write empty objects; only a value to enforce needs a cgroup
    cfg = set_args(urt, "/bin/sh", "-c", "echo ok")
    cfg["linux"]["resources"] = resources
    urt.write_config(cfg)
    rc, out, err = urt.cmd("run", new_id(urt, "empty"))
    assert rc == 0, err
    assert out.strip() == "ok"


def test_seccomp_notify_rootless(urt, user):
    # the agent is the test (root); the unprivileged runtime connects to it
    from test_seccomp_actions import Listener, notify_profile
    path = os.path.join(urt.home, "agent.sock")
    lst = Listener(path, lambda n: (0, -errno.EXDEV))
    try:
        os.chmod(path, 0o777)
        cfg = set_args(urt, "/bin/sh", "-c", "mkdir /tmp/d; echo rc=$?")
        cfg["linux"]["seccomp"] = notify_profile(path, metadata="rl")
        urt.write_config(cfg)
        cid = new_id(urt, "notify")
        rc, out, err = urt.cmd("run", cid)
        assert rc == 0, err
        assert "cross-device link" in err.lower(), (out, err)
        assert "rc=1" in out
    finally:
        lst.close()
    assert lst.state["metadata"] == "rl"
    assert lst.state["state"]["id"] == cid
    assert lst.seen
