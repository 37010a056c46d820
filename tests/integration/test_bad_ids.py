"""Bad input that would become privilege, and container ids.

- A uid or gid of 4294967295 is (uid_t)-1, "leave unchanged" to the kernel:
  the process would keep the runtime's root. Ids above 2^31 - 1 are refused
  (as runc refuses them), in config.json, exec's process.json and flags.
- exec --env needs KEY=VALUE; exec --process reads files of any size.
- Ids may start with "."; an id too long for the state directory is refused
  before anything is made; control characters are escaped when printed.
"""

import json
import os

import pytest

from conftest import husk_only

RANGE = "is out of range (0..2147483647)"


def run_fails(rt, bundle, cid=None):
    r = rt.run(bundle, cid)
    assert r.rc == 1, r
    rt.assert_nothing_left()
    return r


def no_raw_controls(text):
    return not any(ord(ch) < 0x20 and ch not in "\n" or ord(ch) == 0x7f for ch in text)


# --------------------------------------------------------------------------
# config.json
# --------------------------------------------------------------------------
def _device(**ids):
    return {"path": "/dev/itest-null", "type": "c", "major": 1, "minor": 3, **ids}


def _userns(bundle, mapping):
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = [mapping]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]


@husk_only  # runc refuses some of these only once the process is set up
@pytest.mark.parametrize("field,value,edit", [
    ("process.user.uid", 4294967295, lambda b: b.process["user"].update(uid=4294967295)),
    ("process.user.uid", 2147483648, lambda b: b.process["user"].update(uid=2147483648)),
    ("process.user.uid", 18446744073709551615,
     lambda b: b.process["user"].update(uid=18446744073709551615)),
    ("process.user.gid", 4294967295, lambda b: b.process["user"].update(gid=4294967295)),
    ("process.user.additionalGids[1]", 4294967295,
     lambda b: b.process["user"].update(additionalGids=[5, 4294967295])),
    ("linux.devices[0].uid", 4294967295,
     lambda b: b.linux.update(devices=[_device(uid=4294967295)])),
    ("linux.devices[0].gid", 4294967295,
     lambda b: b.linux.update(devices=[_device(gid=4294967295)])),
    ("linux.uidMappings[0].hostID", 4294967295,
     lambda b: _userns(b, {"containerID": 0, "hostID": 4294967295, "size": 1})),
    ("linux.uidMappings[0].containerID", 4294967295,
     lambda b: _userns(b, {"containerID": 4294967295, "hostID": 0, "size": 1})),
])
def test_config_id_out_of_range(rt, bundle, field, value, edit):
    edit(bundle)
    r = run_fails(rt, bundle)
    assert f"{field}: {value} {RANGE}" in r.err, r.err


@husk_only
def test_config_id_map_end_past_the_last_id(rt, bundle):
    _userns(bundle, {"containerID": 1, "hostID": 0, "size": 4294967295})
    r = run_fails(rt, bundle)
    assert "linux.uidMappings[0]: range overflows" in r.err, r.err


def test_config_largest_id_runs(rt, bundle):
    bundle.process["user"] = {"uid": 2147483647, "gid": 2147483647,
                              "additionalGids": [2147483647]}
    ids = rt.probe(bundle, "ids")
    assert (ids["uid"], ids["gid"], ids["groups"]) == (2147483647, 2147483647, [2147483647])


# --------------------------------------------------------------------------
# exec: flags and process.json
# --------------------------------------------------------------------------
@pytest.fixture
def running(rt, bundle):
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    return cid, pid


def container_procs(pid):
    """The pids in the container's memory cgroup (v1 here; unified otherwise)."""
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    for _, ctl, path in lines:
        if "memory" in ctl.split(","):
            base = "/sys/fs/cgroup/memory"
            break
    else:
        base, path = "/sys/fs/cgroup", lines[0][2]
    with open(f"{base}{path}/cgroup.procs") as f:
        return sorted(int(x) for x in f.read().split())


def exec_refused(rt, running, *args):
    cid, pid = running
    before = container_procs(pid)
    r = rt.cmd("exec", *args, cid, "/bin/probe", "ids")
    assert r.rc == 1, r
    assert '"uid"' not in r.out, r  # nothing ran
    assert container_procs(pid) == before
    assert rt.state(cid)["status"] == "running"
    return r


@pytest.mark.parametrize("value", ["-1", "4294967295", "4294967296", "2147483648",
                                   "18446744073709551616000", "99999999999999999999999999",
                                   "+1", " 1", "1 ", "0x10", "", "1000:", ":1000", "1000:-1",
                                   "1000:4294967295", "root"])
def test_exec_user_is_parsed_strictly(rt, running, value):
    r = exec_refused(rt, running, "--user", value)
    assert "--user" in r.err, r.err
    if value.startswith(("-1", "4294967295", "4294967296", "2147483648")):
        assert f"uid: {value} {RANGE}" in r.err or "uid: \"-1\" is not a decimal id" in r.err
    if value == "1000:-1":
        assert 'gid: "-1" is not a decimal id' in r.err, r.err


@pytest.mark.parametrize("value", ["-1", "4294967295", "4294967296", "+5", "5x"])
def test_exec_additional_gids_are_parsed_strictly(rt, running, value):
    r = exec_refused(rt, running, "--additional-gids", value)
    assert "--additional-gids" in r.err, r.err


def test_exec_user_largest_id(rt, running):
    cid, _ = running
    r = rt.cmd("exec", "--user", "2147483647:2147483647", "-g", "2147483647", cid,
               "/bin/probe", "ids")
    assert r.rc == 0, r
    ids = r.lines()[0]
    assert (ids["uid"], ids["gid"], ids["groups"]) == (2147483647, 2147483647, [2147483647])


@pytest.mark.parametrize("user,field", [({"uid": 4294967295, "gid": 0}, "process.user.uid"),
                                        ({"uid": 0, "gid": 4294967295}, "process.user.gid"),
                                        ({"uid": 0, "gid": 0, "additionalGids": [4294967295]},
                                         "process.user.additionalGids[0]")])
def test_exec_process_file_id_out_of_range(rt, running, tmp_path, user, field):
    path = tmp_path / "process.json"
    path.write_text(json.dumps({"user": user, "args": ["/bin/probe", "ids"], "cwd": "/",
                                "env": ["PATH=/bin"]}))
    r = exec_refused(rt, running, "--process", str(path))
    assert f"{field}: 4294967295 {RANGE}" in r.err, r.err


@pytest.mark.parametrize("value", ["FOO", "=bar"])
def test_exec_env_needs_key_and_value(rt, running, value):
    r = exec_refused(rt, running, "--env", value)
    assert "--env" in r.err and "KEY=value" in r.err, r.err


def _big_process(args):
    """A process over 2 MiB: 512 KiB of environment (execve takes it) and
    blank space, which JSON allows between tokens."""
    env = ["PATH=/bin"] + [f"BIG{i}={'x' * 1000}" for i in range(512)] + ["LAST=here"]
    proc = {"user": {"uid": 0, "gid": 0}, "args": args, "cwd": "/", "env": env}
    text = json.dumps(proc)
    return text[:-1] + " " * (2 * 1024 * 1024 - len(text) + 10) + "}"


def test_exec_big_process_file(rt, running, tmp_path):
    cid, _ = running
    path = tmp_path / "process.json"
    path.write_text(_big_process(["/bin/probe", "env"]))
    assert path.stat().st_size > 2 * 1024 * 1024
    r = rt.cmd("exec", "--process", str(path), cid)
    assert r.rc == 0, r
    assert "LAST=here" in r.lines()[0]["env"]


def test_big_config_file(rt, bundle):
    """config.json and process.json take the same sizes."""
    bundle.config["process"] = json.loads(_big_process(["/bin/probe", "env"]))
    bundle.write()
    bundle.write_config = False
    path = os.path.join(bundle.path, "config.json")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text[:-1] + " " * (2 * 1024 * 1024) + "}")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert "LAST=here" in r.lines()[0]["env"]


# --------------------------------------------------------------------------
# ids
# --------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", [".", ".."])
def test_id_with_leading_dot(rt, bundle, prefix):
    cid = prefix + rt.new_id()
    bundle.set_args("/bin/probe", "sleep", "60")
    rt.create(bundle, cid).check()
    rt.start(cid).check()
    assert rt.state(cid)["status"] == "running"
    assert cid in rt.list(quiet=True).check().out.split()
    rt.kill(cid, "KILL").check()
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()
    rt.assert_nothing_left()


def test_id_of_255_bytes_runs(rt, bundle):
    cid = rt.new_id()
    cid += "x" * (255 - len(cid))
    rt.ids.append(cid)
    bundle.set_args("/bin/true")
    assert rt.run(bundle, cid).rc == 0
    rt.assert_nothing_left()


def test_id_of_256_bytes_is_refused(rt, bundle):
    cid = rt.new_id()
    cid += "x" * (256 - len(cid))
    rt.ids.append(cid)
    r = run_fails(rt, bundle, cid)
    assert "256 bytes, longer than 255" in r.err, r.err
    assert not os.path.exists(rt.root) or os.listdir(rt.root) == []


@husk_only  # runc fails later, with ENAMETOOLONG from the first path it makes
def test_state_path_too_long_is_refused_first(rt, bundle, tmp_path):
    root = str(tmp_path / "r")
    deep = os.path.join(root, *(["d" * 250] * 16))
    cid = rt.new_id()
    bundle.write()
    r = rt.cmd("run", "--bundle", bundle.path, cid, global_args=("--root", deep))
    assert r.rc == 1, r
    assert "state directory path too long" in r.err and "limit of 4095" in r.err, r.err
    assert not os.path.exists(root)
    rt.assert_nothing_left()


# --------------------------------------------------------------------------
# control characters are escaped when printed
# --------------------------------------------------------------------------
@husk_only
@pytest.mark.parametrize("cmd", [("state",), ("kill",), ("delete",), ("delete", "--force"),
                                 ("pause",), ("events",)])
def test_control_characters_in_ids_are_escaped(rt, cmd):
    r = rt.cmd(*cmd, "a\x1b[31mb\nforged")
    assert r.rc == 1, r
    assert "a\\x1b[31mb\\nforged" in r.err, r.err
    assert "\x1b" not in r.err and "\nforged" not in r.err, r.err


@husk_only
def test_control_characters_in_paths_are_escaped(rt, bundle, tmp_path):
    log = tmp_path / "log"
    r = rt.cmd("run", "--bundle", "/nonexistent/\x1b]0;title\x07", rt.new_id(),
               global_args=("--log", str(log)))
    assert r.rc == 1, r
    assert "/nonexistent/\\x1b]0;title\\x07" in r.err, r.err
    assert no_raw_controls(r.err), r.err
    assert no_raw_controls(log.read_text()), log.read_text()
    rt.assert_nothing_left()


@husk_only
def test_list_escapes_the_bundle_path(rt, bundle, tmp_path):
    link = tmp_path / "b\x1b[2Jundle"
    os.symlink(bundle.path, link)
    bundle.write()
    cid = rt.new_id()
    r = rt.cmd_files(cid, "create", "--bundle", str(link), cid)
    assert r.rc == 0, r
    out = rt.list().check().out
    assert "b\\x1b[2Jundle" in out, out
    assert no_raw_controls(out), out
    rt.delete(cid, force=True).check()
    rt.assert_nothing_left()
