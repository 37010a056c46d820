"""Bad input: hostile and malformed config.json / process.json.

Every file in corpus/ (made by corpus/make_corpus.py: the default config
with one hostile or malformed change; corpus/expect.json names the field)
plus a few generated ones (10 MB strings, deeply nested JSON, bad ids)
must give exit status 1, and leave no state dir, cgroup, mount or
process behind.  For husk the error message must also name the field
(any of the words in expect.json, case-insensitive); other runtimes are
only held to the exit status and the cleanup.

Against runc 1.1.5: most cases are refused; the ones runc accepts are
listed in README.md (they are runc's gaps, not the test's).
"""

import json
import os
import pathlib
import time

import pytest

from conftest import HERE, leftovers, procs_rooted_at, skip_if_not_built

CORPUS = HERE / "corpus"
EXPECT = json.loads((CORPUS / "expect.json").read_text())
CONFIG_CASES = sorted(k for k in EXPECT if not k.startswith("exec_"))
EXEC_CASES = sorted(k for k in EXPECT if k.startswith("exec_"))

# Host paths a traversal case would create if the runtime followed it.
ESCAPE_PATHS = ["/tmp/husk-evil", "/tmp/husk-evil-node",
                "/tmp/husk-sysctl-escape"]
ESCAPE_CGROUP = "husk-sec-escape"


def escaped():
    found = [p for p in ESCAPE_PATHS if os.path.lexists(p)]
    found += [str(p) for p in pathlib.Path("/sys/fs/cgroup").glob(
        f"*/{ESCAPE_CGROUP}")]
    return found


def remove_escapes():
    for p in escaped():
        try:
            if p.startswith("/sys/fs/cgroup"):
                os.rmdir(p)
            elif os.path.isdir(p) and not os.path.islink(p):
                os.rmdir(p)
            else:
                os.unlink(p)
        except OSError:
            pass


def check_rejected(rt, bundle, r, fields):
    msg = (r.stderr or "") + (r.stdout or "")
    try:
        esc = escaped()
        assert esc == [], f"a traversal reached the host: {esc}"
        assert r.returncode != 0, f"accepted: {msg[:300]}"
        if not rt.is_runc:
            assert r.returncode == 1, f"exit {r.returncode}: {msg[:300]}"
            assert any(f.lower() in msg.lower() for f in fields), (
                f"message does not name the field {fields}: {msg[:300]!r}")
        assert leftovers(rt, bundle) == []
    finally:
        remove_escapes()


def run_raw(rt, bundle, text, cid=None, timeout=20):
    (bundle.path / "config.json").write_text(text)
    cid = bundle.cid if cid is None else cid
    rt.created.append(cid)
    return rt("run", "--bundle", bundle.path, cid, timeout=timeout)


@pytest.mark.parametrize("name", CONFIG_CASES)
def test_corpus_config_rejected(rt, bundle, name):
    text = (CORPUS / f"{name}.json").read_text()
    text = text.replace("@CGROUP@", bundle.cgroups_path)
    r = run_raw(rt, bundle, text)
    check_rejected(rt, bundle, r, EXPECT[name])


def base_text(bundle, mutate):
    cfg = json.loads(json.dumps(bundle.config))
    mutate(cfg)
    return json.dumps(cfg)


def test_ten_megabyte_hostname(rt, bundle):
    text = base_text(bundle, lambda c: c.update(hostname="h" * (10 << 20)))
    check_rejected(rt, bundle, run_raw(rt, bundle, text), ["hostname"])


def test_ten_megabyte_cwd(rt, bundle):
    text = base_text(bundle, lambda c: c["process"].update(
        cwd="/" + "d" * (10 << 20)))
    check_rejected(rt, bundle, run_raw(rt, bundle, text), ["cwd"])


def test_deeply_nested_json(rt, bundle):
    depth = 200000
    text = base_text(bundle, lambda c: c.update(annotations={"a": "@"}))
    text = text.replace('"@"', "[" * depth + "]" * depth)
    check_rejected(rt, bundle, run_raw(rt, bundle, text),
                   ["config.json", "depth", "nest"])


def test_huge_mount_list(rt, bundle):
    def m(c):
        c["mounts"] += [{"destination": "/../x%d" % i, "type": "tmpfs",
                         "source": "tmpfs"} for i in range(2000)]
    text = base_text(bundle, m)
    check_rejected(rt, bundle, run_raw(rt, bundle, text),
                   ["mounts", "destination"])


@pytest.mark.parametrize("cid", ["a/b", "../escape", "..", ".", "",
                                 "x" * 1024, "a\nb", "-rf"])
def test_bad_container_id(rt, bundle, cid):
    bundle.write()
    r = run_raw(rt, bundle, (bundle.path / "config.json").read_text(), cid=cid)
    if cid == "-rf" and r.returncode == 0:
        pytest.fail("option-like id accepted")
    check_rejected(rt, bundle, r, ["id"])
    # nothing was created outside the state root
    assert not (pathlib.Path(rt.root).parent / "escape").exists()
    assert os.listdir(rt.root) == [], os.listdir(rt.root)


@pytest.fixture
def running(rt, bundle, tmp_path):
    bundle.config["process"]["args"] = ["/bin/sleep", "30"]
    with open(tmp_path / "out", "w") as f:
        assert rt.create(bundle, stdout=f).returncode == 0
    assert rt("start", bundle.cid).returncode == 0
    skip_if_not_built(rt("exec", bundle.cid, "/bin/true"), "exec")
    return bundle


def container_procs(bundle):
    return len(procs_rooted_at(bundle.rootfs))


def test_good_process_json_works(rt, running, tmp_path):
    """Companion: a valid process.json execs fine, so the rejections
    below come from the bad values."""
    p = tmp_path / "process.json"
    good = dict(running.config["process"], args=["/bin/true"])
    p.write_text(json.dumps(good))
    r = rt("exec", "--process", p, running.cid)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("name", EXEC_CASES)
def test_corpus_process_json_rejected(rt, running, tmp_path, name):
    p = tmp_path / "process.json"
    p.write_text((CORPUS / f"{name}.json").read_text())
    before = container_procs(running)
    r = rt("exec", "--process", p, running.cid)
    msg = r.stderr + r.stdout
    assert r.returncode != 0, f"accepted: {msg[:300]}"
    if not rt.is_runc:
        assert r.returncode == 1, msg
        assert any(f.lower() in msg.lower() for f in EXPECT[name]), (
            f"message does not name the field {EXPECT[name]}: {msg[:300]!r}")
    time.sleep(0.05)
    assert container_procs(running) == before, "exec left a process behind"
    st = rt.state(running.cid)
    assert st and st["status"] == "running", "container harmed by bad exec"
