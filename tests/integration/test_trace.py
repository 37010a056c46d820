"""--debug: every set-up step of create/start/kill/delete/exec is logged with
what it acted on and how long it took, from the runtime and from the
container process (after clone), as text or as JSON lines."""

import json
import os
import re

from conftest import husk_only

# what a person debugging a slow or failing create looks for
CHILD_STEPS = {"namespaces join", "mount", "pivot_root", "cgroup join", "seccomp", "exec"}
RUNTIME_STEPS = {"read config", "cgroup create", "clone", "create"}


def _json_lines(path):
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for e in entries:
        assert {"level", "msg", "time"} <= set(e), e
    return entries


def _traces(entries):
    out = [e for e in entries if "step" in e]
    for e in out:
        assert e["level"] == "debug", e
        assert isinstance(e["duration_us"], int) and e["duration_us"] >= 0, e
        assert "object" in e, e
    return out


@husk_only
def test_debug_json_traces_every_setup_step(rt, bundle, tmp_path):
    log = tmp_path / "log.json"
    g = ("--debug", "--log", str(log), "--log-format", "json")
    bundle.set_args("/bin/probe", "sleep", "30")
    r = rt.create(bundle, global_args=g)
    assert r.rc == 0, r
    rt.cmd("start", r.cid, global_args=g).check()
    rt.cmd("exec", r.cid, "/bin/true", global_args=g).check()
    rt.cmd("kill", r.cid, "KILL", global_args=g).check()
    rt.wait_status(r.cid, "stopped")
    rt.cmd("delete", r.cid, global_args=g).check()
    traces = _traces(_json_lines(log))
    steps = {e["step"] for e in traces}
    assert CHILD_STEPS <= steps, steps
    assert RUNTIME_STEPS <= steps, steps
    assert {"release exec fifo", "signal init", "delete", "state remove"} <= steps, steps
    mounts = {e["object"] for e in traces if e["step"] == "mount"}
    assert {"/proc", "/dev"} <= mounts, mounts
    execs = [e["object"] for e in traces if e["step"] == "exec"]
    assert "/bin/probe" in execs and "/bin/true" in execs, execs
    clone = next(e for e in traces if e["step"] == "clone")
    assert "pid" in clone["object"] and "mount" in clone["object"], clone
    # the whole create is at least as long as its clone
    create = next(e for e in traces if e["step"] == "create")
    assert create["duration_us"] >= clone["duration_us"], (create, clone)


@husk_only
def test_debug_text_trace(rt, bundle, tmp_path):
    log = tmp_path / "log.txt"
    bundle.set_args("/bin/true")
    r = rt.run(bundle, global_args=("--debug", "--log", str(log)))
    assert r.rc == 0, r
    text = log.read_text()
    for step in ("pivot_root", "seccomp", "exec", "namespaces join"):
        assert re.search(rf'level=debug msg="[^"]*" step="{step}" object="[^"]*" '
                         rf"duration_us=\d+", text), (step, text)


@husk_only
def test_failed_step_is_marked(rt, bundle, tmp_path):
    log = tmp_path / "log.json"
    bundle.set_args("/bin/true")
    bundle.config["mounts"].append({"destination": "/mnt", "type": "bind",
                                    "source": "/nonexistent-source", "options": ["rbind"]})
    r = rt.run(bundle, global_args=("--debug", "--log", str(log), "--log-format", "json"))
    assert r.rc != 0, r
    entries = _json_lines(log)
    failed = [e for e in _traces(entries) if e.get("failed")]
    assert any(e["step"] == "create" for e in failed), failed
    # the error itself is the last error line, as engines read it
    assert [e for e in entries if e["level"] == "error"][-1]["msg"].startswith("create ")
    rt.assert_nothing_left()


@husk_only
def test_no_trace_without_debug(rt, bundle, tmp_path):
    log = tmp_path / "log.json"
    bundle.set_args("/bin/true")
    r = rt.run(bundle, global_args=("--log", str(log), "--log-format", "json"))
    assert r.rc == 0, r
    assert not log.exists() or not _traces(_json_lines(log))


@husk_only
def test_debug_traces_userns_range_and_idmap_on_their_own(rt, bundle, tmp_path):
    """The `husk spec` default's two extra steps each get a line of their own
    (bench/README.md's userns section reports them), and only when asked for."""
    bundle.set_args("/bin/true")
    plain = tmp_path / "plain.json"
    g = ("--debug", "--log-format", "json", "--log")
    assert rt.run(bundle, global_args=(*g, str(plain))).rc == 0
    plain_steps = {e["step"] for e in _traces(_json_lines(plain))}
    assert not {"user namespace range", "idmap rootfs"} & plain_steps, plain_steps

    bundle.linux["namespaces"].append({"type": "user"})
    bundle.config["annotations"] = {"husk.userns": "auto", "husk.rootfs.idmap": "true"}
    log = tmp_path / "log.json"
    r = rt.run(bundle, global_args=(*g, str(log)))
    assert r.rc == 0, r
    traces = _traces(_json_lines(log))
    idmap = [e for e in traces if e["step"] == "idmap rootfs"]
    assert len(idmap) == 1 and os.path.samefile(idmap[0]["object"], bundle.rootfs), idmap
    ranges = [e for e in traces if e["step"] == "user namespace range"]
    assert len(ranges) == 1 and ranges[0]["object"] == r.cid, ranges
    # both lie inside the create
    create = next(e for e in traces if e["step"] == "create")
    assert create["duration_us"] >= idmap[0]["duration_us"] + ranges[0]["duration_us"]
    rt.assert_nothing_left()


@husk_only
def test_idmap_uses_the_containers_own_user_namespace(rt, bundle, tmp_path):
    """The rootfs is idmapped with the container's user namespace, so only
    once the runtime wrote its maps (no helper process making a namespace
    of its own first, ~1 ms): the `idmap rootfs` step ends after `uid and
    gid maps`, outside `prepare`, which only clones the tree."""
    bundle.set_args("/bin/sh", "-c", "stat -c %u:%g / /home/user")
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.config["annotations"] = {"husk.userns": "auto", "husk.rootfs.idmap": "true"}
    log = tmp_path / "log.json"
    r = rt.run(bundle, global_args=("--debug", "--log-format", "json", "--log", str(log)))
    assert r.rc == 0, r
    assert r.out.split() == ["0:0", "1000:1000"], r.out
    steps = [e["step"] for e in _traces(_json_lines(log))]
    assert steps.index("uid and gid maps") < steps.index("idmap rootfs"), steps
    assert steps.index("prepare") < steps.index("uid and gid maps"), steps
    assert "rootfs tree" in steps[:steps.index("prepare")], steps
    rt.assert_nothing_left()
