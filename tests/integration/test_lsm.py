"""Confinement the config asks for is applied or refused, never dropped.

On a host without AppArmor (or SELinux), a config that names a profile
(or a label) must fail, naming the field, and leave nothing behind: a
container that runs unconfined while its config says otherwise is worse
than no container. runc refuses these too (each at its own step). The
host here has neither module; on a host that has one, its cases skip.
"""

import json
import os

import pytest

from conftest import husk_only


def _apparmor_enabled():
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            enabled = f.read(1) == "Y"
    except OSError:
        return False
    return enabled and os.path.exists("/sys/kernel/security/apparmor")


def _selinux_enabled():
    try:
        with open("/proc/self/mounts") as f:
            return any(line.split()[1] == "/sys/fs/selinux" for line in f)
    except OSError:
        return False


no_apparmor = pytest.mark.skipif(_apparmor_enabled(), reason="AppArmor is enabled here")
no_selinux = pytest.mark.skipif(_selinux_enabled(), reason="SELinux is enabled here")

CASES = [
    pytest.param(("process", "apparmorProfile", "husk-test-profile"), "AppArmor",
                 marks=no_apparmor, id="apparmorProfile"),
    pytest.param(("process", "selinuxLabel", "system_u:system_r:container_t:s0"), "SELinux",
                 marks=no_selinux, id="selinuxLabel"),
    pytest.param(("linux", "mountLabel", "system_u:object_r:container_file_t:s0"), "SELinux",
                 marks=no_selinux, id="mountLabel"),
]


@pytest.mark.parametrize("field, lsm", CASES)
@pytest.mark.parametrize("how", ["run", "create"])
def test_unenforceable_confinement_is_refused(rt, bundle, field, lsm, how):
    section, key, value = field
    bundle.config[section][key] = value
    bundle.set_args("/bin/true")
    r = rt.run(bundle) if how == "run" else rt.create(bundle)
    assert r.rc != 0, f"{key} ignored on a host without {lsm}: {r}"
    if os.path.basename(rt.binary).startswith("husk"):
        assert f"{section}.{key}" in r.err and lsm in r.err, r.err
        assert value in r.err, r.err
    rt.assert_nothing_left()
    assert rt.state_raw(r.cid).rc != 0


@pytest.fixture
def running(rt, bundle):
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    return cid, pid


@husk_only
@pytest.mark.parametrize("flag, value, words", [
    pytest.param("--apparmor", "husk-test-profile", ("--apparmor", "AppArmor"), marks=no_apparmor,
                 id="apparmor"),
    pytest.param("--process-label", "system_u:system_r:container_t:s0",
                 ("--process-label", "SELinux"), marks=no_selinux, id="process-label"),
])
def test_exec_flag_is_refused(rt, running, flag, value, words):
    cid, pid = running
    r = rt.cmd("exec", flag, value, cid, "/bin/true")
    assert r.rc != 0, r
    for w in words + (value,):
        assert w in r.err, r.err
    # the container itself is untouched, and exec without the flag works
    assert rt.state(cid)["status"] == "running"
    rt.cmd("exec", cid, "/bin/true").check()


@husk_only
@pytest.mark.parametrize("key, value", [
    pytest.param("apparmorProfile", "husk-test-profile", marks=no_apparmor, id="apparmor"),
    pytest.param("selinuxLabel", "system_u:system_r:container_t:s0", marks=no_selinux,
                 id="selinux"),
])
def test_exec_process_file_is_refused(rt, running, tmp_path, key, value):
    cid, _ = running
    proc = {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["/bin/true"], "cwd": "/",
            key: value}
    path = tmp_path / "process.json"
    path.write_text(json.dumps(proc))
    r = rt.cmd("exec", "--process", str(path), cid)
    assert r.rc != 0, r
    assert key in r.err and value in r.err, r.err


def test_empty_fields_mean_unconfined(rt, bundle):
    # runc's reading: an empty string asks for nothing
    bundle.process["apparmorProfile"] = ""
    bundle.process["selinuxLabel"] = ""
    bundle.linux["mountLabel"] = ""
    bundle.set_args("/bin/true")
    rt.run(bundle).check()


@husk_only
@no_apparmor
def test_unconfined_profile_runs_without_apparmor(rt, bundle, running):
    """"unconfined" asks for what a host without AppArmor gives: it runs,
    in the config and as exec's flag."""
    bundle.process["apparmorProfile"] = "unconfined"
    bundle.set_args("/bin/true")
    rt.run(bundle).check()
    cid, _ = running
    r = rt.cmd("exec", "--apparmor", "unconfined", cid, "echo", "hi")
    assert (r.rc, r.out) == (0, "hi\n"), r
