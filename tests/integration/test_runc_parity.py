"""Where engines depend on it, husk answers like runc: the same scenario is
run with both binaries and the results compared. Runs only against husk,
and only where runc is installed."""

import json
import shutil

import pytest

from conftest import Runtime, is_husk

RUNC = shutil.which("runc")
pytestmark = pytest.mark.skipif(not is_husk() or not RUNC,
                                reason="compares husk with an installed runc")


@pytest.fixture
def pair(runtime, tmp_path):
    """(husk, runc) runtimes; the runtime fixture cleans and checks both."""
    other = Runtime(str(tmp_path / "runc-state"), runtime.iodir)
    other.binary = RUNC
    other.ids, other.bundles, other.pids = runtime.ids, runtime.bundles, runtime.pids
    yield runtime, other
    other.cleanup()


def both(pair, fn):
    return [fn(rt) for rt in pair]


def test_state_and_list_fields(pair, make_bundle):
    def scenario(rt):
        b = make_bundle()
        cid, _ = rt.start_detached(b, "/bin/probe", "sleep", "30")
        state = rt.state(cid)
        listed = json.loads(rt.list(fmt="json").check().out)[0]
        header = rt.list().check().out.splitlines()[0].split()
        return set(state), set(listed), header, state["status"]

    husk, runc = both(pair, scenario)
    assert husk == runc


@pytest.mark.parametrize("args", [["exit", "0"], ["exit", "7"], ["exit", "255"]])
def test_run_exit_codes(pair, make_bundle, args):
    def scenario(rt):
        b = make_bundle()
        b.set_args("/bin/probe", *args)
        return rt.run(b).rc

    husk, runc = both(pair, scenario)
    assert husk == runc


def test_error_exit_codes(pair, make_bundle):
    def scenario(rt):
        codes = {"state-missing": rt.state_raw("it-missing").rc,
                 "delete-missing": rt.delete("it-missing").rc,
                 "kill-missing": rt.kill("it-missing", "KILL").rc}
        b = make_bundle()
        cid, _ = rt.start_detached(b, "/bin/probe", "sleep", "30")
        codes["delete-running"] = rt.delete(cid).rc
        codes["start-running"] = rt.start(cid).rc
        rt.kill(cid, "KILL").check()
        rt.wait_status(cid, "stopped")
        codes["kill-stopped"] = rt.kill(cid, "KILL").rc
        codes["delete-stopped"] = rt.delete(cid).rc
        b2 = make_bundle()
        b2.config["root"]["path"] = "missing-rootfs"
        codes["run-missing-rootfs"] = rt.run(b2).rc
        return codes

    husk, runc = both(pair, scenario)
    assert husk == runc


def test_features_has_runc_keys(pair):
    husk, runc = both(pair, lambda rt: json.loads(rt.cmd("features").check().out))
    assert set(runc) <= set(husk)
    assert set(runc["linux"]) <= set(husk["linux"])
    assert set(runc["linux"]["namespaces"]) <= set(husk["linux"]["namespaces"])
    assert set(runc["linux"]["capabilities"]) <= set(husk["linux"]["capabilities"])


VIEW = ["ids", "+", "caps", "+", "rlimits", "+", "mounts", "+", "fds", "+", "tty", "+",
        "hostname", "+", "oom", "+", "personality", "+", "env", "+", "cwd", "+", "stat",
        "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
        "/dev/ptmx", "/dev/pts/ptmx", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr",
        "/dev/console", "/dev/shm", "/dev/mqueue", "/dev/pts", "/proc/keys",
        "/proc/timer_list", "/sys/firmware", "/proc/acpi", "/tmp", "/etc/passwd"]


def normalized_view(out):
    """The probe's answers minus what legitimately differs between two runs."""
    ids, caps, rlimits, mounts, fds, *rest = out
    for m in mounts["mounts"]:
        if m["mount_point"] == "/":
            m["root"] = "<bundle>"
        if m["fstype"] == "devtmpfs":
            # a host node bound in a user namespace (and masked paths, bound
            # from /dev/null): husk adds nosuid,noexec (as crun does), runc
            # keeps the host's flags; see test_devices.py
            m["options"] = ",".join(o for o in m["options"].split(",")
                                    if o not in ("nosuid", "noexec"))
    tty, env = rest[0], rest[4]
    env["env"] = [e for e in env["env"] if not e.startswith("HUSK_ITEST_MARK=")]
    for key in ("sid", "pgrp"):  # host pids when there is no pid namespace
        if tty.get(key, 0) > 1:
            tty[key] = "<host pid>"
    return [ids, caps, rlimits, mounts, sorted(fds["fds"])] + rest


def configure_rich(b):
    b.process["user"] = {"uid": 1000, "gid": 100, "additionalGids": [5], "umask": 0o027}
    s = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]
    b.process["capabilities"] = {"bounding": s, "permitted": s, "effective": s,
                                 "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
                            {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    b.process["oomScoreAdj"] = 300
    b.process["cwd"] = "/tmp"
    b.config["root"]["readonly"] = True
    b.config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                               "options": ["nosuid", "nodev", "mode=1777", "size=1m"]})
    b.linux["namespaces"].append({"type": "user"})
    idmap = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.linux["uidMappings"] = idmap
    b.linux["gidMappings"] = idmap
    b.linux["maskedPaths"].append("/etc/passwd")
    b.linux["sysctl"] = {"net.ipv4.ip_unprivileged_port_start": "80"}


def configure_rich_no_userns(b):
    configure_rich(b)
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "user"]
    del b.linux["uidMappings"], b.linux["gidMappings"]


def configure_devices(b):
    b.linux["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640,
         "uid": 1000, "gid": 5},
        {"path": "/dev/loop9", "type": "b", "major": 7, "minor": 9}]
    b.linux["resources"]["devices"].append({"allow": True, "type": "c", "major": 10,
                                            "minor": 229, "access": "rw"})


def configure_no_pid_ns(b):
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "pid"]
    b.process["noNewPrivileges"] = False


CONFIGS = {"default": None, "rich": configure_rich, "rich-no-userns": configure_rich_no_userns,
           "devices": configure_devices, "no-pid-ns": configure_no_pid_ns}


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_container_sees_the_same(pair, make_bundle, config):
    def scenario(rt):
        b = make_bundle()
        if CONFIGS[config]:
            CONFIGS[config](b)
        extra = ["/dev/fuse", "/dev/loop9"] if config == "devices" else []
        return normalized_view(rt.probe(b, *VIEW, *extra))

    husk, runc = both(pair, scenario)
    for h, r in zip(husk, runc):
        if isinstance(h, dict):
            for key in sorted(set(h) | set(r)):
                assert h.get(key) == r.get(key), key
        assert h == r


def test_exec_sees_the_same(pair, make_bundle):
    def scenario(rt):
        b = make_bundle()
        configure_rich_no_userns(b)
        # runc 1.1 gives exec'd processes umask 022 whatever process.user.umask
        # says; which one exec should get is not settled: leave it out
        del b.process["user"]["umask"]
        cid, _ = rt.start_detached(b, "/bin/probe", "sleep", "30")
        r = rt.cmd("exec", cid, "/bin/probe", *VIEW)
        assert r.rc == 0, r
        view = normalized_view(r.lines())
        # runc 1.1 races with the Go runtime, which raises the soft NOFILE
        # limit of `runc init` to the hard one: its exec'd process gets 100
        # or 200 here from one run to the next
        del view[2]["RLIMIT_NOFILE"]
        return view

    husk, runc = both(pair, scenario)
    for h, r in zip(husk, runc):
        assert h == r


SYSCALLS = ["getpid", "keyctl", "add_key", "unshare-user", "unshare-ns", "unshare", "mount",
            "bpf", "ptrace", "mknod", "personality", "personality:8", "getpriority", "uname",
            "chroot", "sethostname", "setuid", "kill:0", "dup3:50", "dup3:200"]


@pytest.mark.parametrize("nnp", [True, False])
def test_seccomp_and_caps_answer_the_same(pair, make_bundle, nnp):
    def scenario(rt):
        b = make_bundle()
        b.process["noNewPrivileges"] = nnp
        s = ["CAP_SYS_ADMIN", "CAP_MKNOD", "CAP_SYS_CHROOT", "CAP_KILL"]
        b.process["capabilities"] = {"bounding": s, "permitted": s, "effective": s}
        b.linux["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [
                {"names": ["keyctl", "add_key"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                 "args": [{"index": 0, "value": 0x10000000, "valueTwo": 0x10000000,
                           "op": "SCMP_CMP_MASKED_EQ"}]},
                {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
                 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                {"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9,
                 "args": [{"index": 1, "value": 100, "op": "SCMP_CMP_GE"}]},
                {"names": ["bpf", "ptrace"], "action": "SCMP_ACT_ERRNO"},
            ]}
        return rt.probe(b, "syscall", *SYSCALLS, "+", "caps")

    husk, runc = both(pair, scenario)
    assert husk == runc


def test_hook_state_fields(pair, make_bundle, tmp_path):
    from test_hooks import KINDS, hook_state, recorder, share_hookdir

    def scenario(rt):
        b = make_bundle()
        d = tmp_path / f"hooks-{len(rt.ids)}-{rt.binary.replace('/', '_')}"
        d.mkdir()
        share_hookdir(b, str(d))
        b.config["annotations"] = {"org.example": "x"}
        b.config["hooks"] = {k: [recorder(str(d), k)] for k in KINDS}
        r = rt.run(b)
        assert r.rc == 0, r
        states = {k: hook_state(str(d), k) for k in KINDS}
        return states

    husk, runc = both(pair, scenario)
    for kind in KINDS:
        # husk may add fields (created, owner); what runc gives must be there
        assert set(runc[kind]) <= set(husk[kind]), kind
        assert husk[kind]["annotations"] == runc[kind]["annotations"], kind
        assert husk[kind]["ociVersion"].startswith("1."), kind
