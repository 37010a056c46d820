"""Process, hooks and spec 1.2/1.3 process fields, as conformance suites
(youki's contest, runtime-tools validation) drive them: what the container
observes, which configs must fail, in which order hooks run."""

import json
import os

import pytest

from conftest import is_husk, is_runc

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def log_hook(line, out):
    return {"path": "/bin/sh", "args": ["sh", "-c", f"echo '{line}' >> {out}"]}


def read_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


# --------------------------------------------------------------------------
# hooks
# --------------------------------------------------------------------------
def test_every_hook_kind_in_order_host_paths(rt, bundle):
    """Hooks log to a host path under the rootfs: the runtime-namespace hooks
    and createContainer (before pivot_root) reach it, startContainer (after
    pivot_root) cannot and fails; the lifecycle still goes on: poststart at
    start, poststop at delete."""
    out = os.path.join(bundle.rootfs, "output")
    kinds = {"prestart": "pre-start", "createRuntime": "create-runtime",
             "createContainer": "create-container", "startContainer": "start-container",
             "poststart": "post-start", "poststop": "post-stop"}
    bundle.config["hooks"] = {k: [log_hook(f"{v}{i} called", out) for i in (1, 2)]
                              for k, v in kinds.items()}
    bundle.set_args("true")
    cid = rt.create(bundle).check().cid
    assert rt.state(cid)["status"] == "created"
    rt.start(cid)
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()
    want = [f"{v}{i} called" for k, v in kinds.items() if k != "startContainer"
            for i in (1, 2)]
    assert read_lines(out) == want


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_stops_later_hooks_and_the_process(rt, bundle, kind):
    out = os.path.join(bundle.rootfs, "output")
    hooks = [log_hook("hook_1 called", out), log_hook("hook_2 called", out),
             log_hook("hook_3 called", out)]
    hooks[1]["args"][2] += "; exit 1"
    bundle.config["hooks"] = {kind: hooks}
    bundle.set_args("/bin/sh", "-c", "echo 'process called' >> output")
    r = rt.create(bundle)
    assert r.rc != 0
    rt.assert_nothing_left([r.cid])
    assert read_lines(out) == ["hook_1 called", "hook_2 called"]


def test_failing_start_container_hook_with_run(rt, bundle):
    bundle.config["hooks"] = {"startContainer": [{"path": "/bin/false"}]}
    bundle.set_args("/bin/echo", "program-ran")
    r = rt.run(bundle)
    assert r.rc != 0 and "program-ran" not in r.out, r
    rt.assert_nothing_left()


@pytest.mark.skipif(is_runc(), reason="runc 1.1 gives hooks without env an empty one")
@pytest.mark.parametrize("hook_env,check", [
    (None, 'test "$ONE" = two && test "$FOO" = bar'),
    (["HOOK_VAR=hook_value"], 'test "$HOOK_VAR" = hook_value && test -z "$ONE"'),
])
def test_start_container_hook_environment(rt, bundle, hook_env, check):
    """A startContainer hook without env gets the process's environment;
    with env, only that."""
    hook = {"path": "/bin/sh", "args": ["sh", "-c", check]}
    if hook_env:
        hook["env"] = hook_env
    bundle.config["hooks"] = {"startContainer": [hook]}
    bundle.process["env"] += ["ONE=two", "FOO=bar"]
    bundle.set_args("/bin/sh", "-c", "echo program-runs; sleep 60")
    cid = rt.create(bundle).check().cid
    rt.start(cid).check()
    # a failed hook stops the container instead of running the program
    rt.wait_output(cid, "program-runs", timeout=5)


# --------------------------------------------------------------------------
# capabilities
# --------------------------------------------------------------------------
def status_caps(text):
    return {line.split(":")[0]: int(line.split()[1], 16) for line in text.splitlines()
            if line.startswith("Cap")}


@pytest.mark.skipif(is_runc(), reason="runc 1.1 keeps the bounding set when it is absent")
def test_absent_bounding_set_is_empty(rt, bundle):
    bundle.process["capabilities"] = {k: [] for k in
                                      ("effective", "inheritable", "permitted", "ambient")}
    bundle.set_args("/bin/cat", "/proc/self/status")
    r = rt.run(bundle)
    assert r.rc == 0, r
    caps = status_caps(r.out)
    assert caps == {k: 0 for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


@pytest.mark.skipif(is_runc(), reason="runc 1.1 keeps the bounding set when it is absent")
def test_absent_bounding_set_with_inheritable_fails(rt, bundle):
    caps = ["CAP_SYS_ADMIN"]
    bundle.process["capabilities"] = {"effective": caps, "inheritable": caps,
                                      "permitted": caps, "ambient": []}
    bundle.set_args("/bin/true")
    r = rt.run(bundle)
    assert r.rc != 0
    if is_husk():
        assert "Operation not permitted" in r.err, r.err
    rt.assert_nothing_left()


# --------------------------------------------------------------------------
# user
# --------------------------------------------------------------------------
@pytest.mark.skipif(is_runc(), reason="runc 1.1 drops duplicate additionalGids")
def test_additional_gids_kept_as_listed_with_duplicates(rt, bundle):
    gids = [150, 120, 199, 101, 150]
    bundle.process["user"] = {"uid": 10, "gid": 10, "additionalGids": gids, "umask": 0o002}
    bundle.set_args("/bin/sh", "-c", "id -G; umask")
    r = rt.run(bundle)
    assert r.rc == 0, r
    groups, umask = r.out.split("\n")[:2]
    # getgroups(2) returns what setgroups(2) was given: the duplicate counts
    assert sorted(int(g) for g in groups.split()[1:]) == sorted(gids) or \
        sorted(int(g) for g in groups.split()) == sorted(gids + [10]), r.out
    assert umask == "0002"


# --------------------------------------------------------------------------
# rlimits
# --------------------------------------------------------------------------
def test_rlimit_of_u64_max_fails(rt, bundle):
    big = 18446744073709551615
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": big, "hard": big}]
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


# --------------------------------------------------------------------------
# exec: starts from the config's process
# --------------------------------------------------------------------------
@pytest.mark.skipif(is_runc(), reason="runc 1.1 ignores linux.personality")
def test_exec_gets_the_container_personality(rt, bundle):
    bundle.linux["personality"] = {"domain": "LINUX32"}
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    r = rt.cmd("exec", cid, "uname", "-m")
    assert r.rc == 0, r
    assert r.out.strip() in ("i686", "i386")


def test_exec_env_inherits_and_overrides_the_config(rt, bundle):
    bundle.process["env"] = [PATH_ENV, "HOME=/root", "KEEP=from_config", "MY_VAR=from_spec"]
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    r = rt.cmd("exec", cid, "/bin/sh", "-c", "echo $KEEP")
    assert (r.rc, r.out) == (0, "from_config\n"), r
    r = rt.cmd("exec", "--env", "MY_VAR=from_cli", "--env", "NEW_VAR=hello", cid,
               "/bin/sh", "-c", "env")
    assert r.rc == 0, r
    env = r.out.splitlines()
    assert "MY_VAR=from_cli" in env and "MY_VAR=from_spec" not in env, env
    assert "NEW_VAR=hello" in env and "KEEP=from_config" in env and "HOME=/root" in env


@pytest.mark.skipif(os.cpu_count() < 2, reason="needs two CPUs")
@pytest.mark.skipif(is_runc(), reason="runc 1.1 has no execCPUAffinity")
def test_exec_cpu_affinity_from_the_config(rt, bundle):
    bundle.process["execCPUAffinity"] = {"initial": "0", "final": "1"}
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    r = rt.cmd("exec", cid, "grep", "Cpus_allowed_list", "/proc/self/status")
    assert r.rc == 0, r
    assert r.out.split()[-1] == "1", r.out


@pytest.mark.skipif(os.cpu_count() < 2, reason="needs two CPUs")
@pytest.mark.skipif(is_runc(), reason="runc 1.1 has no execCPUAffinity")
def test_exec_cpu_affinity_initial_only_from_process_json(rt, bundle, tmp_path):
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    proc = {"terminal": False, "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": [PATH_ENV],
            "args": ["/bin/grep", "-F", "Cpus_allowed_list:", "/proc/self/status"],
            "execCPUAffinity": {"initial": "0,1"}}
    path = tmp_path / "process.json"
    path.write_text(json.dumps(proc))
    r = rt.cmd("exec", "--process", str(path), cid, global_args=("--debug",))
    assert r.rc == 0, r
    assert r.out.split()[-1] in ("0-1", "0,1"), r.out
    # runc and youki log the initial mask; contest looks for it
    assert "affinity: 0x3" in r.err, r.err


# --------------------------------------------------------------------------
# linux.memoryPolicy (spec 1.3)
# --------------------------------------------------------------------------
def numa_policy(rt, bundle):
    bundle.set_args("/bin/sh", "-c", "read a p rest < /proc/self/numa_maps; echo $p")
    r = rt.run(bundle)
    assert r.rc == 0, r
    return r.out.strip()


mpol = pytest.mark.skipif(is_runc() or not os.path.exists("/proc/self/numa_maps"),
                          reason="needs NUMA and memoryPolicy support")


@mpol
@pytest.mark.parametrize("policy,want", [
    ({"mode": "MPOL_INTERLEAVE", "nodes": "0"}, "interleave:0"),
    ({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}, "bind=static:0"),
    ({"mode": "MPOL_PREFERRED", "nodes": "0", "flags": ["MPOL_F_RELATIVE_NODES"]},
     "prefer=relative:0"),
    ({"mode": "MPOL_DEFAULT", "nodes": ""}, "default"),
    ({"mode": "MPOL_LOCAL"}, "local"),
    ({"mode": "MPOL_PREFERRED", "nodes": ""}, "local"),
])
def test_memory_policy_is_applied(rt, bundle, policy, want):
    bundle.linux["memoryPolicy"] = policy
    assert numa_policy(rt, bundle) == want


@mpol
@pytest.mark.parametrize("policy", [
    {"mode": "INTERLEAVE", "nodes": "0"},
    {"mode": "MPOL_PREFERRED", "nodes": "0", "flags": ["MPOL_F_RELATIVE_NODES", "badflag"]},
    {"nodes": "0-7"},
    {"mode": "MPOL_DEFAULT", "nodes": "0-7",
     "flags": ["MPOL_F_NUMA_BALANCING", "MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"]},
    {"mode": "MPOL_BIND", "nodes": "0-9876543210", "flags": []},
])
def test_bad_memory_policy_fails(rt, bundle, policy):
    bundle.linux["memoryPolicy"] = policy
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


# --------------------------------------------------------------------------
# runtime-tools linux_process: labels for LSMs the host lacks are refused,
# never dropped (a container that would run unconfined says so; as runc)
# --------------------------------------------------------------------------
@pytest.mark.skipif(os.path.exists("/sys/kernel/security/apparmor"),
                    reason="the profile would have to exist")
@pytest.mark.skipif(os.path.exists("/sys/fs/selinux/enforce"), reason="SELinux is on")
def test_process_with_labels_for_absent_lsms_is_refused(rt, bundle):
    p = bundle.process
    p["oomScoreAdj"] = 500
    p["apparmorProfile"] = "acme_secure_profile"
    p["selinuxLabel"] = "system_u:system_r:svirt_lxc_net_t:s0:c124,c675"
    bundle.set_args("/bin/cat", "/proc/self/oom_score_adj")
    r = rt.run(bundle)
    assert r.rc != 0 and r.out == "", r
    if is_husk():
        assert "process.apparmorProfile" in r.err, r.err
    rt.assert_nothing_left()


def test_exec_ignore_paused_runs_once_resumed(rt, bundle):
    import threading
    import time
    cid, _ = rt.start_detached(bundle, "/bin/sleep", "60")
    rt.cmd("pause", cid).check()
    threading.Thread(target=lambda: (time.sleep(1), rt.cmd("resume", cid))).start()
    r = rt.cmd("exec", "--ignore-paused", cid, "echo", "ran while paused")
    assert (r.rc, r.out) == (0, "ran while paused\n"), r


# --------------------------------------------------------------------------
# ioPriority: the real-time class needs the privileges the init still has
# --------------------------------------------------------------------------
@pytest.mark.skipif(is_runc(), reason="runc 1.1 has no ioPriority")
def test_io_priority_real_time_class_without_capabilities(rt, bundle):
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_RT", "priority": 1}
    bundle.process["capabilities"] = {}
    out = rt.probe(bundle, "sched")
    assert out["ioprio"] == (1 << 13) | 1, out

