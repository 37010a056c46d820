"""The systemd cgroup driver (--systemd-cgroup, linux.cgroupsPath
"slice:prefix:name"): systemd makes a transient scope for the container,
with linux.resources as its properties. Needs systemd as PID 1 (the test
host, tests/hosts); elsewhere test_runtime_state.py checks the refusal."""
import os
import pwd
import subprocess
import time

import pytest

from conftest import Runtime, is_husk
from test_rootless import make_rootless

pytestmark = pytest.mark.skipif(not os.path.exists("/run/systemd/system"),
                                reason="systemd is not running here (/run/systemd/system "
                                       "is missing): run on the test host, make check-hosts")

SD = ("--systemd-cgroup",)
PREFIX = "husk-test"


def show(unit, *props):
    out = subprocess.run(["systemctl", "show", "-p", ",".join(props), unit],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)


def scope_dir(unit):
    cg = show(unit, "ControlGroup")["ControlGroup"]
    assert cg, f"{unit} has no cgroup"
    return "/sys/fs/cgroup" + cg


def read(path):
    with open(path) as f:
        return f.read().strip()


def procs(unit):
    return {int(p) for p in read(os.path.join(scope_dir(unit), "cgroup.procs")).split()}


def create(rt, bundle, resources=None, slice_=""):
    cid = rt.new_id("sd")
    bundle.set_args("/bin/probe", "sleep", "300")
    bundle.linux["cgroupsPath"] = f"{slice_}:{PREFIX}:{cid}"
    if resources is not None:
        bundle.linux["resources"] = resources
    r = rt.create(bundle, cid, global_args=SD)
    return cid, f"{PREFIX}-{cid}.scope", r


RES = {"memory": {"limit": 64 << 20, "swap": 96 << 20},
       "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0"},
       "pids": {"limit": 99}}


def test_create_starts_a_scope_with_the_resources(rt, bundle):
    cid, unit, r = create(rt, bundle, RES)
    r.check()
    pid = rt.state(cid)["pid"]
    p = show(unit, "ActiveState", "Slice", "Delegate", "MemoryMax", "MemorySwapMax", "TasksMax",
             "CPUWeight", "CPUQuotaPerSecUSec", "AllowedCPUs")
    assert p["ActiveState"] == "active", p
    assert p["Slice"] == "system.slice"
    assert p["Delegate"] == "yes"
    assert p["MemoryMax"] == str(64 << 20)
    assert p["MemorySwapMax"] == str(32 << 20)
    assert p["TasksMax"] == "99"
    assert p["CPUWeight"] == "39"  # 1024 shares, converted as runc does
    assert p["CPUQuotaPerSecUSec"] == "500ms"
    assert p["AllowedCPUs"] == "0"
    d = scope_dir(unit)
    assert d == f"/sys/fs/cgroup/system.slice/{unit}"
    # Only the container's process: husk left the scope it was started with.
    assert procs(unit) == {pid}
    assert read(f"/proc/{pid}/cgroup") == f"0::/system.slice/{unit}"
    # The files agree with the properties.
    assert read(os.path.join(d, "memory.max")) == str(64 << 20)
    assert read(os.path.join(d, "pids.max")) == "99"
    assert read(os.path.join(d, "cpu.max")) == "50000 100000"
    rt.start(cid).check()
    assert rt.state(cid)["status"] == "running"


def test_update_sets_the_unit_properties_and_the_files(rt, bundle):
    cid, unit, r = create(rt, bundle, RES)
    r.check()
    rt.cmd("update", "--memory", str(128 << 20), "--pids-limit", "200", cid,
           global_args=SD).check()
    p = show(unit, "MemoryMax", "TasksMax")
    assert p["MemoryMax"] == str(128 << 20)
    assert p["TasksMax"] == "200"
    d = scope_dir(unit)
    assert read(os.path.join(d, "memory.max")) == str(128 << 20)
    assert read(os.path.join(d, "pids.max")) == "200"


def test_delete_stops_the_scope(rt, bundle):
    cid, unit, r = create(rt, bundle, RES)
    r.check()
    d = scope_dir(unit)
    rt.start(cid).check()
    rt.kill(cid, "KILL").check()
    rt.wait_status(cid, "stopped")
    rt.cmd("delete", cid, global_args=SD).check()
    assert show(unit, "ActiveState")["ActiveState"] == "inactive"
    assert not os.path.exists(d)
    rt.assert_nothing_left(ids=[cid])


def test_delete_force_of_a_created_container(rt, bundle):
    cid, unit, r = create(rt, bundle)
    r.check()
    d = scope_dir(unit)
    rt.cmd("delete", "--force", cid, global_args=SD).check()
    assert show(unit, "ActiveState")["ActiveState"] == "inactive"
    assert not os.path.exists(d)
    rt.assert_nothing_left(ids=[cid])


def test_slice_of_its_own(rt, bundle):
    """A slice that does not exist yet: systemd makes it, as runc relies on."""
    cid, unit, r = create(rt, bundle, slice_="husktest-pods.slice")
    r.check()
    pid = rt.state(cid)["pid"]
    assert read(f"/proc/{pid}/cgroup") == \
        f"0::/husktest.slice/husktest-pods.slice/{unit}"
    rt.cmd("delete", "--force", cid, global_args=SD).check()
    subprocess.run(["systemctl", "stop", "husktest.slice"], timeout=30)


@pytest.mark.skipif(not is_husk(), reason="husk's messages")
@pytest.mark.parametrize("path,msg", [
    ("system.slice:husk-test", 'wants "slice:prefix:name"'),
    ("system.slice:husk-test:x.slice", "is not supported"),
    ("nota:husk-test:x", "is not a slice name"),
])
def test_bad_paths_are_refused_and_leave_nothing(rt, bundle, path, msg):
    cid = rt.new_id("sd")
    bundle.set_args("/bin/true")
    bundle.linux["cgroupsPath"] = path
    r = rt.create(bundle, cid, global_args=SD)
    r.fails()
    assert msg in r.err, r.err
    rt.assert_nothing_left(ids=[cid])


def test_a_scope_that_exists_is_refused(rt, bundle):
    """Two containers cannot share one scope: the second create fails and
    the first keeps its scope."""
    cid, unit, r = create(rt, bundle)
    r.check()
    other = rt.new_id("sd")
    bundle.linux["cgroupsPath"] = f":{PREFIX}:{cid}"
    r2 = rt.create(bundle, other, global_args=SD)
    r2.fails()
    assert unit in r2.err
    assert show(unit, "ActiveState")["ActiveState"] == "active"
    assert rt.state(cid)["pid"] in procs(unit)
    assert not os.path.exists(os.path.join(rt.root, other))


def test_run_in_the_foreground_leaves_the_scope_to_the_container(rt, bundle):
    cid = rt.new_id("sd")
    unit = f"{PREFIX}-{cid}.scope"
    bundle.set_args("/bin/probe", "sleep", "300")
    bundle.linux["cgroupsPath"] = f":{PREFIX}:{cid}"
    bundle.write()
    p = rt.cmd_bg("run", "--bundle", bundle.path, cid, global_args=SD)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            st = rt.state_raw(cid)
            if st.rc == 0 and '"running"' in st.out:
                break
            time.sleep(0.1)
        pid = rt.state(cid)["pid"]
        assert procs(unit) == {pid}, "husk run stayed in the container's scope"
    finally:
        rt.kill(cid, "KILL")
        rt.finish(p, timeout=30)
    rt.assert_nothing_left(ids=[cid])


# ---- rootless: the user's own systemd ------------------------------------

USER_UID = 1000
USER_UNIT = "/usr/lib/systemd/system/user@.service"


class UserManager:
    def __init__(self, name, runtime_dir):
        self.name, self.runtime_dir = name, runtime_dir

    def show(self, unit, *props):
        """systemctl --user show, as the user, of a unit in its manager."""
        out = subprocess.run(["runuser", "-u", self.name, "--", "env",
                              f"XDG_RUNTIME_DIR={self.runtime_dir}", "systemctl", "--user",
                              "show", "-p", ",".join(props), unit],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)


@pytest.fixture
def user_manager():
    """uid 1000 with a systemd of its own (lingering, as for rootless
    Podman), made here where the host has none; skipped when that cannot be."""
    if os.geteuid() != 0:
        pytest.skip("needs root to set up the user's systemd")
    try:
        name = pwd.getpwuid(USER_UID).pw_name
        made = False
    except KeyError:
        name, made = "husktest", True
        if subprocess.run(["useradd", "-u", str(USER_UID), "-U", "-M", name],
                          capture_output=True).returncode != 0:
            pytest.skip("no user 1000 and useradd failed")
    sock = f"/run/user/{USER_UID}/systemd/private"
    r = subprocess.run(["loginctl", "enable-linger", name], capture_output=True, text=True)
    deadline = time.monotonic() + 90
    while r.returncode == 0 and not os.path.exists(sock) and time.monotonic() < deadline:
        time.sleep(0.5)
    if not os.path.exists(sock):
        why = f"the user's systemd did not start: {r.stderr.strip()}"
        # A host with user@.service and logind (the test host) gives a
        # lingering user a manager: that it did not is a failure there.
        if os.path.exists(USER_UNIT) and r.returncode == 0:
            journal = subprocess.run(["journalctl", "-b", "-n", "30", "--no-pager",
                                      "-u", f"user@{USER_UID}.service"],
                                     capture_output=True, text=True).stdout
            pytest.fail(f"{why}\n{journal}")
        pytest.skip(why)
    yield UserManager(name, f"/run/user/{USER_UID}")
    subprocess.run(["loginctl", "disable-linger", name], capture_output=True)
    if made:
        subprocess.run(["userdel", name], capture_output=True)


class UserRuntime(Runtime):
    """The runtime as uid 1000 talking to its systemd."""

    def __init__(self, root, iodir, runtime_dir):
        super().__init__(root, iodir, user=(USER_UID, USER_UID))
        self.runtime_dir = runtime_dir

    def _identity(self, env=None, preexec=None):
        env = dict(env or {"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        env["XDG_RUNTIME_DIR"] = self.runtime_dir
        return super()._identity(env, preexec)


@pytest.fixture
def user_runtime(runtime, tmp_path, user_manager):
    for p in (tmp_path, tmp_path.parent, tmp_path.parent.parent):
        os.chmod(p, 0o755)
    root = tmp_path / "user-state"
    root.mkdir(mode=0o700)
    os.chown(root, USER_UID, USER_UID)
    rl = UserRuntime(str(root), runtime.iodir, user_manager.runtime_dir)
    rl.ids, rl.bundles, rl.pids = runtime.ids, runtime.bundles, runtime.pids
    yield rl
    rl.cleanup()


def user_scope(unit):
    return f"/user.slice/user-{USER_UID}.slice/user@{USER_UID}.service/user.slice/{unit}"


def create_rootless(rl, bundle, resources):
    """A sleeping container of uid 1000 in a scope of its own systemd."""
    cid = rl.new_id("sdu")
    make_rootless(bundle)
    bundle.set_args("/bin/probe", "sleep", "300")
    bundle.linux["cgroupsPath"] = f":{PREFIX}:{cid}"
    bundle.linux["resources"] = resources
    rl.create(bundle, cid, global_args=SD).check()
    return cid, f"{PREFIX}-{cid}.scope"


def test_rootless_scope_in_the_users_systemd(user_runtime, bundle):
    rl = user_runtime
    cid, unit = create_rootless(rl, bundle, {"pids": {"limit": 50}})
    pid = rl.state(cid)["pid"]
    cg = read(f"/proc/{pid}/cgroup")
    want = user_scope(unit)
    assert cg == "0::" + want
    assert read(f"/sys/fs/cgroup{want}/pids.max") == "50"
    rl.cmd("delete", "--force", cid, global_args=SD).check()
    assert not os.path.exists(f"/sys/fs/cgroup{want}")


def test_rootless_resources_update_and_delete(user_runtime, bundle, user_manager):
    """The user's manager delegates memory, cpu and pids to the user (its
    user@.service): the scope has the limits as properties and in its files,
    is the user's own subtree (Delegate), takes an update, and a delete
    after the container ended stops it."""
    rl = user_runtime
    cid, unit = create_rootless(rl, bundle, {"memory": {"limit": 64 << 20},
                                             "cpu": {"quota": 50000, "period": 100000},
                                             "pids": {"limit": 60}})
    d = "/sys/fs/cgroup" + user_scope(unit)
    p = user_manager.show(unit, "ActiveState", "Slice", "Delegate", "MemoryMax", "TasksMax",
                          "CPUQuotaPerSecUSec")
    assert p == {"ActiveState": "active", "Slice": "user.slice", "Delegate": "yes",
                 "MemoryMax": str(64 << 20), "TasksMax": "60", "CPUQuotaPerSecUSec": "500ms"}
    assert read(f"{d}/memory.max") == str(64 << 20)
    assert read(f"{d}/cpu.max") == "50000 100000"
    # delegated: the scope's directory and its cgroup.procs are the user's
    for f in (d, f"{d}/cgroup.procs", f"{d}/cgroup.subtree_control"):
        assert os.stat(f).st_uid == USER_UID, f
    rl.start(cid).check()
    rl.cmd("update", "--memory", str(96 << 20), "--pids-limit", "70", cid,
           global_args=SD).check()
    p = user_manager.show(unit, "MemoryMax", "TasksMax")
    assert p == {"MemoryMax": str(96 << 20), "TasksMax": "70"}
    assert read(f"{d}/memory.max") == str(96 << 20)
    assert read(f"{d}/pids.max") == "70"
    rl.kill(cid, "KILL").check()
    rl.wait_status(cid, "stopped")
    rl.cmd("delete", cid, global_args=SD).check()
    assert user_manager.show(unit, "ActiveState")["ActiveState"] == "inactive"
    assert not os.path.exists(d)
    rl.assert_nothing_left(ids=[cid])
