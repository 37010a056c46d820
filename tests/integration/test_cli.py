"""The command line itself: version, help, spec, features, unknown commands."""

import json
import os
import re

import pytest

from conftest import is_husk

COMMANDS = ["create", "start", "run", "state", "kill", "delete", "list", "exec", "ps", "pause",
            "resume", "update", "events", "spec", "features"]


@pytest.mark.parametrize("flag", ["--version", "-v"])
def test_version(rt, flag):
    r = rt.cmd(flag).check()
    lines = r.out.splitlines()
    assert re.match(r"^\S+ version \S+", lines[0]), r.out
    assert any(line.startswith("spec: ") for line in lines), r.out


def test_help(rt):
    r = rt.cmd("--help").check()
    for c in ("create", "start", "run", "delete", "state", "kill", "list"):
        assert c in r.out


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help(rt, command):
    r = rt.cmd(command, "--help").check()
    assert command in r.out.lower()


def test_unknown_command(rt):
    r = rt.cmd("no-such-command")
    assert r.rc != 0
    if is_husk():
        assert r.rc == 1
        assert "no-such-command" in r.err


def test_spec_writes_a_runnable_config(rt, bundle):
    assert not os.path.exists(os.path.join(bundle.path, "config.json"))
    rt.cmd("spec", "--bundle", bundle.path).check()
    with open(os.path.join(bundle.path, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["ociVersion"].startswith("1.")
    assert cfg["root"]["path"] == "rootfs"
    assert cfg["process"]["args"]
    kinds = {n["type"] for n in cfg["linux"]["namespaces"]}
    assert {"pid", "mount", "ipc", "uts", "network"} <= kinds
    assert any(m["destination"] == "/proc" for m in cfg["mounts"])
    # what it wrote runs, once made non-interactive
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/probe", "pid"]
    bundle.config = cfg
    res = rt.run(bundle)
    assert res.rc == 0, res
    assert res.lines()[0]["pid"] == 1


def test_spec_refuses_to_overwrite(rt, bundle):
    path = os.path.join(bundle.path, "config.json")
    with open(path, "w") as f:
        f.write("keep me")
    r = rt.cmd("spec", "--bundle", bundle.path)
    assert r.rc != 0
    with open(path) as f:
        assert f.read() == "keep me"


def test_features(rt):
    r = rt.cmd("features").check()
    f = json.loads(r.out)
    assert re.match(r"^1\.\d+\.\d+", f["ociVersionMin"])
    assert re.match(r"^1\.\d+\.\d+", f["ociVersionMax"])
    assert set(f["hooks"]) >= {"prestart", "createRuntime", "createContainer",
                                "startContainer", "poststart", "poststop"}
    assert {"bind", "rbind", "ro", "nosuid"} <= set(f["mountOptions"])
    linux = f["linux"]
    assert {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"} <= set(
        linux["namespaces"])
    assert "CAP_SYS_ADMIN" in linux["capabilities"]
    assert linux["seccomp"]["enabled"] is True
    assert "SCMP_ACT_ERRNO" in linux["seccomp"]["actions"]


def test_root_option_isolates_state(rt, bundle, tmp_path):
    cid, _ = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    other = rt.cmd("list", "--quiet", global_args=()).out.split()
    assert cid in other
    from conftest import Runtime
    elsewhere = Runtime(str(tmp_path / "other-root"), rt.iodir)
    assert elsewhere.state_raw(cid).rc != 0
    assert elsewhere.list(quiet=True).out.split() == []


def test_global_options_as_engines_write_them(rt, bundle, tmp_path):
    # conmon writes `--log-format=json`; go-runc writes `--log L --log-format json`
    log = tmp_path / "log.json"
    bundle.set_args("/bin/probe", "pid")
    bundle.write()
    cid = rt.new_id()
    r = rt.cmd_files(cid, "create", "--bundle", bundle.path, "--pid-file",
                     str(tmp_path / "pid"), "--no-new-keyring", cid,
                     global_args=(f"--log={log}", "--log-format=json", "--debug"))
    assert r.rc == 0, r
    assert rt.state(cid)["status"] == "created"


def test_short_options(rt, bundle):
    bundle.set_args("/bin/probe", "sleep", "30")
    bundle.write()
    cid = rt.new_id()
    rt.cmd_files(cid, "create", "-b", bundle.path, cid).check()
    entries = json.loads(rt.cmd("list", "-f", "json").check().out)
    assert [e["id"] for e in entries] == [cid]
    assert rt.cmd("list", "-q").check().out.split() == [cid]
    rt.cmd("delete", "-f", cid).check()


def test_rootless_false_is_accepted(rt):
    r = rt.cmd("list", global_args=("--rootless", "false"))
    assert r.rc == 0, r
