"""exec as youki's contest drives it (tests/contest/contest/src/tests/exec/):
`<rt> --root R --debug exec [--flags] ID CMD...`, with the config changes
its tests make (read-only root, cgroup namespace, emptied capabilities), plus
--cgroup, the LSM flags and containers without a mount namespace."""

import os

import pytest

from conftest import CGROUP_ROOT, is_runc


def contest_exec(rt, cid, *args):
    return rt.cmd("exec", *_split(cid, args), global_args=("--debug",))


def _split(cid, args):
    """Flags before the id, the command after, as contest's build_exec_command."""
    flags = []
    i = 0
    while i < len(args) and args[i].startswith("--"):
        flags.append(args[i])
        i += 1
    return [*flags, cid, *args[i:]]


def status_of(text):
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


NO_CAPS = {k: [] for k in ("bounding", "effective", "inheritable", "permitted", "ambient")}


def test_mount_test_readonly_root_and_no_duplicate_masks(rt, bundle):
    bundle.config["root"]["readonly"] = True
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    r = contest_exec(rt, cid, "cat", "/proc/self/mountinfo").check()
    lines = [line.split() for line in r.out.splitlines()]
    root = [f for f in lines if f[4] == "/"]
    assert any("ro" in f[5].split(",") for f in root), root
    assert sum(1 for f in lines if f[4] == "/proc/acpi") == 1, r.out
    assert sum(1 for f in lines if f[4] == "/proc/bus") == 1, r.out


@pytest.mark.parametrize("nnp,want", [(False, "0"), (True, "1"), (None, None)])
@pytest.mark.parametrize("target", ["self", "1"])
def test_seccomp_with_no_capabilities(rt, bundle, nnp, want, target):
    bundle.process["capabilities"] = dict(NO_CAPS)
    if nnp is None:
        del bundle.process["noNewPrivileges"]
    else:
        bundle.process["noNewPrivileges"] = nnp
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["syslog"], "action": "SCMP_ACT_ERRNO"}]}
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    r = contest_exec(rt, cid, "cat", f"/proc/{target}/status").check()
    st = status_of(r.out)
    assert st["Seccomp"] == "2", r.out
    if want is not None:
        assert st["NoNewPrivs"] == want, r.out


def container_cgroup(pid, controller):
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctls, path = line.rstrip("\n").split(":", 2)
            if controller in ctls.split(","):
                return path
    # a pure cgroup2 host has one tree for all controllers: no hierarchy of
    # one controller to put a process in a sub-cgroup of alone
    pytest.skip(f"no v1 {controller} hierarchy (per-controller sub-cgroups are cgroup v1's)")


def test_exec_cgroup_flag(rt, bundle):
    """exec/cgroup_test: --cgroup names an existing sub-cgroup of the
    container's; the parent, a missing one, an unknown controller fail."""
    bundle.linux["namespaces"].append({"type": "cgroup"})
    cid, pid = rt.start_detached(bundle, "/bin/sleep", "60")
    for bad in ("..", "notexistspath", "cpu:notexistspath", "waaaaat:/", "a/../../b"):
        r = contest_exec(rt, cid, f"--cgroup={bad}", "cat", "/proc/self/cgroup")
        assert r.rc != 0, (bad, r)
    contest_exec(rt, cid, "cat", "/proc/self/cgroup").check()
    contest_exec(rt, cid, "grep", "^0::/$", "/proc/self/cgroup").check()
    r = contest_exec(rt, cid, "--cgroup=/", "grep", "^0::/$", "/proc/self/cgroup")
    assert r.rc == 0, r


def test_exec_into_a_sub_cgroup_of_one_controller(rt, bundle):
    cid, pid = rt.start_detached(bundle, "/bin/sleep", "60")
    sub = os.path.join(CGROUP_ROOT, "memory", container_cgroup(pid, "memory").lstrip("/"), "sub")
    os.mkdir(sub)
    try:
        r = rt.cmd("exec", "--cgroup", "memory:sub", cid, "cat", "/proc/self/cgroup")
        assert r.rc == 0, r
        lines = r.out.splitlines()
        mem = [line for line in lines if ":memory:" in line]
        assert mem and mem[0].endswith("/sub"), r.out
        pids = [line for line in lines if ":pids:" in line]
        assert pids and not pids[0].endswith("/sub"), r.out
    finally:
        os.rmdir(sub)


@pytest.mark.parametrize("flags", [
    pytest.param(("--cgroup=memory:/", "--cgroup=memory:/"),  # one controller twice
                 marks=pytest.mark.skipif(is_runc(), reason="runc 1.1 takes the last")),
    ("--cgroup=/", "--cgroup=memory:/"),  # a bare path must be the only one
    pytest.param(("--cgroup=,memory:/",),  # an empty controller name
                 marks=pytest.mark.skipif(is_runc(), reason="runc 1.1 ignores it")),
])
def test_exec_cgroup_flag_misuse_fails(rt, bundle, flags):
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    r = rt.cmd("exec", *flags, cid, "true")
    assert r.rc != 0, r
    rt.cmd("exec", "--cgroup=memory:/", "--cgroup=pids:/", cid, "true").check()


@pytest.mark.skipif(os.path.exists("/sys/kernel/security/apparmor"), reason="AppArmor is on")
@pytest.mark.skipif(os.path.exists("/sys/fs/selinux/enforce"), reason="SELinux is on")
@pytest.mark.parametrize("flag, runs", [("--apparmor=unconfined", True),
                                        ("--process-label=system_u:system_r:container_t:s0",
                                         False)])
def test_exec_lsm_flags_without_the_lsm(rt, bundle, flag, runs):
    """No LSM on the host: "unconfined" asks for nothing and runs; a label
    that cannot be applied is refused (test_lsm.py), never dropped."""
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    r = rt.cmd("exec", flag, cid, "echo", "hi")
    if runs:
        assert (r.rc, r.out) == (0, "hi\n"), r
    else:
        assert r.rc != 0 and r.out == "", r


def caps_case(rt, bundle, caps, nnp, *flags):
    bundle.process["capabilities"] = caps
    if nnp is None:
        bundle.process.pop("noNewPrivileges", None)
    else:
        bundle.process["noNewPrivileges"] = nnp
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    r = contest_exec(rt, cid, *flags, "cat", "/proc/self/status").check()
    return cid, status_of(r.out)


def test_some_capabilities(rt, bundle):
    caps = dict(NO_CAPS, bounding=["CAP_SYS_ADMIN"],
                permitted=["CAP_SYS_ADMIN", "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    _, st = caps_case(rt, bundle, caps, True)
    assert st["CapInh"] == "0" * 16
    for k in ("CapBnd", "CapEff", "CapPrm"):
        assert st[k] == "0000000000200000", (k, st)


def test_capabilities_by_flag_with_ambient(rt, bundle):
    caps = {"bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_SYSLOG"], "effective": [],
            "inheritable": ["CAP_CHOWN"], "permitted": ["CAP_KILL", "CAP_CHOWN"],
            "ambient": ["CAP_CHOWN"]}
    cid, st = caps_case(rt, bundle, caps, True)
    assert (st["CapInh"], st["CapBnd"], st["CapEff"], st["CapPrm"], st["CapAmb"]) == (
        "0000000000000001", "0000000400000021", "0000000000000021", "0000000000000021",
        "0000000000000001"), st
    r = contest_exec(rt, cid, "--cap=CAP_SYSLOG", "cat", "/proc/self/status").check()
    st = status_of(r.out)
    assert (st["CapInh"], st["CapBnd"], st["CapEff"], st["CapPrm"], st["CapAmb"]) == (
        "0000000000000001", "0000000400000021", "0000000400000021", "0000000400000021",
        "0000000000000001"), st


@pytest.mark.skipif(is_runc(), reason="runc 1.1 needs /proc mounted then, on the host's view")
@pytest.mark.parametrize("cwd", [None, "/tmp"])
def test_exec_without_mount_namespace_sees_the_container_root(rt, bundle, cwd):
    """Without a mount namespace the init is chrooted into the rootfs; an
    exec'd process must be too (runc chroots to /proc/<init>/root)."""
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "mount"]
    bundle.config["mounts"] = []
    bundle.linux["maskedPaths"] = bundle.linux["readonlyPaths"] = []
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    with open(os.path.join(bundle.rootfs, "marker-root"), "w") as f:
        f.write("x")
    flags = [f"--cwd={cwd}"] if cwd else []
    r = contest_exec(rt, cid, *flags, "/bin/sh", "-c", "ls /marker-root && pwd")
    assert (r.rc, r.out) == (0, f"/marker-root\n{cwd or '/'}\n"), r
