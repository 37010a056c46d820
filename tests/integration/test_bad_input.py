"""Bad configs and bad arguments: a non-zero exit, a clear error, nothing left behind."""

import json
import os
import re

import pytest

from conftest import husk_only, is_husk


def run_fails(rt, bundle, *extra, cid=None):
    r = rt.run(bundle, cid, *extra)
    assert r.rc == 1, r
    rt.assert_nothing_left()
    return r


@pytest.mark.parametrize("text", ['{"ociVersion": "1.0.2", "process": {', "not json at all",
                                  "", '{"process": {"args": ["/bin/true"],}}'])
def test_malformed_json(rt, bundle, text):
    with open(os.path.join(bundle.path, "config.json"), "w") as f:
        f.write(text)
    bundle.write_config = False
    r = run_fails(rt, bundle)
    if is_husk() and text:
        assert re.search(r"line \d+", r.err) and re.search(r"col(umn)? \d+", r.err), r.err


@pytest.mark.parametrize("doc", [[], "a string", 42, None])
def test_config_is_not_an_object(rt, bundle, doc):
    with open(os.path.join(bundle.path, "config.json"), "w") as f:
        json.dump(doc, f)
    bundle.write_config = False
    r = rt.run(bundle)
    if is_husk():
        assert r.rc == 1, r
    else:
        assert r.rc != 0, r  # runc 1.1 panics (exit 2) on a null config
    rt.assert_nothing_left()


def test_missing_config(rt, bundle):
    bundle.write_config = False
    run_fails(rt, bundle)


def test_missing_process(rt, bundle):
    del bundle.config["process"]
    run_fails(rt, bundle)


def test_empty_args(rt, bundle):
    bundle.set_args()
    r = run_fails(rt, bundle)
    if is_husk():
        assert "args" in r.err


@pytest.mark.parametrize("path,value", [
    (("process", "args"), "/bin/true"),
    (("process", "user", "uid"), "root"),
    (("process", "env"), {"A": "1"}),
    (("root",), "rootfs"),
    (("mounts",), {"destination": "/x"}),
    (("linux", "namespaces"), "pid"),
])
def test_wrong_types(rt, bundle, path, value):
    node = bundle.config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    r = run_fails(rt, bundle)
    if is_husk():
        assert path[-1] in r.err, r.err


@husk_only  # runc accepts negative ids as large unsigned values or fails late
def test_negative_uid(rt, bundle):
    bundle.process["user"]["uid"] = -1
    r = run_fails(rt, bundle)
    assert "uid" in r.err


@pytest.mark.parametrize("cid", ["../x", "", "a" * 2000, "a/b", ".", "..", "a\nb"])
def test_invalid_ids(rt, bundle, cid):
    parent = os.path.dirname(rt.root)
    before = set(os.listdir(parent)) | {os.path.basename(rt.root)}
    r = rt.run(bundle, cid)
    assert r.rc == 1, r
    # nothing was created in, next to or instead of the state directory
    if os.path.isdir(rt.root):
        assert os.listdir(rt.root) == []
    assert set(os.listdir(parent)) <= before
    rt.assert_nothing_left()


def test_missing_rootfs(rt, bundle):
    bundle.config["root"]["path"] = "no-such-rootfs"
    run_fails(rt, bundle)


@husk_only  # runc 1.1 warns and ignores unknown capabilities
def test_unknown_capability(rt, bundle):
    bundle.process["capabilities"]["bounding"].append("CAP_BOGUS")
    r = run_fails(rt, bundle)
    assert "CAP_BOGUS" in r.err


def test_unknown_rlimit(rt, bundle):
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOPE", "soft": 1, "hard": 1}]
    r = run_fails(rt, bundle)
    if is_husk():
        assert "RLIMIT_NOPE" in r.err


def test_unknown_namespace(rt, bundle):
    bundle.linux["namespaces"].append({"type": "nope"})
    r = run_fails(rt, bundle)
    if is_husk():
        assert "nope" in r.err


def test_unknown_signal(rt, bundle):
    cid, _ = rt.start_detached(bundle, "/bin/probe", "sleep", "60")
    for sig in ("SIGNOPE", "NOPE", "99", "65", "1x"):
        r = rt.kill(cid, sig)
        assert r.rc != 0, sig
        if is_husk():
            assert sig in r.err, r.err
    assert rt.state(cid)["status"] == "running"


def test_mount_destination_cannot_escape(rt, bundle):
    name = f"escape-{bundle.marker}"
    bundle.config["mounts"].append({"destination": f"/../../../../../../tmp/{name}",
                                    "type": "tmpfs", "source": "tmpfs"})
    r = rt.run(bundle)
    assert not os.path.exists(f"/tmp/{name}")
    if r.rc == 0:  # kept inside the rootfs
        assert os.path.isdir(os.path.join(bundle.rootfs, "tmp", name))
    rt.assert_nothing_left()


def test_overlong_hostname(rt, bundle):
    bundle.config["hostname"] = "h" * 300
    r = run_fails(rt, bundle)
    if is_husk():
        assert "hostname" in r.err


def test_unknown_command_options(rt):
    r = rt.cmd("state", "--no-such-option", "x")
    assert r.rc != 0


def test_relative_hook_path(rt, bundle):
    bundle.config["hooks"] = {"prestart": [{"path": "bin/true"}]}
    r = run_fails(rt, bundle)
    if is_husk():
        assert "hooks.prestart[0]" in r.err


def test_env_entry_without_equals(rt, bundle):
    bundle.process["env"] = ["PATH=/bin", "NOEQUALS"]
    r = run_fails(rt, bundle)
    if is_husk():
        assert "NOEQUALS" in r.err


@pytest.mark.parametrize("version", ["1.0.0", "1.0.1", "1.0.2", "1.0.2-dev", "1.1.0",
                                     "1.1.0-rc.1", "1.2.0", "1.2.1"])
def test_oci_versions_engines_send_are_accepted(rt, bundle, version):
    bundle.config["ociVersion"] = version
    assert rt.probe(bundle, "pid")["pid"] == 1
