"""Inputs near real-world extremes: many env vars, long args, many mounts,
large output, odd but valid paths and ids. Catches fixed-size buffers."""

import os

from conftest import Bundle


def test_many_env_vars(rt, bundle):
    env = [f"VAR_{i}={'x' * 60}{i}" for i in range(2000)]
    bundle.process["env"] = ["PATH=/bin"] + env
    out = rt.probe(bundle, "env")
    assert set(env) <= set(out["env"])


def test_long_argument(rt, bundle):
    arg = "a" * 100_000
    bundle.set_args("/bin/sh", "-c", 'echo ${#1} $#', "sh", arg, "b", "c")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.split() == ["100000", "3"]


def test_many_arguments(rt, bundle):
    args = [f"arg{i}" for i in range(5000)]
    bundle.set_args("/bin/sh", "-c", 'echo $# ${5000}', "sh", *args)
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.split() == ["5000", "arg4999"]


def test_many_mounts(rt, bundle):
    for i in range(64):
        bundle.config["mounts"].append({"destination": f"/m/{i}", "type": "tmpfs",
                                        "source": "tmpfs", "options": ["size=16k"]})
    out = rt.probe(bundle, "mounts")
    points = {m["mount_point"] for m in out["mounts"]}
    assert {f"/m/{i}" for i in range(64)} <= points


def test_large_output(rt, bundle):
    bundle.set_args("/bin/head", "-c", "3000000", "/dev/zero")
    r = rt.run(bundle, timeout=60)
    assert r.rc == 0
    assert len(r.out) == 3_000_000


def test_bundle_path_with_spaces(rt, rootfs_image, tmp_path):
    parent = tmp_path / "dir with spaces"
    parent.mkdir()
    b = Bundle(str(parent / "my bundle"), rootfs_image)
    rt.bundles.append(b)
    b.set_args("/bin/probe", "sleep", "30")
    cid = rt.create(b).check().cid
    assert os.path.realpath(rt.state(cid)["bundle"]) == os.path.realpath(b.path)
    rt.start(cid).check()
    rt.delete(cid, force=True).check()
    rt.assert_nothing_left([cid], [b])


def test_long_valid_id(rt, bundle):
    cid = "it-" + "x" * 200
    rt.ids.append(cid)
    bundle.set_args("/bin/probe", "sleep", "30")
    rt.create(bundle, cid).check()
    assert rt.state(cid)["id"] == cid
    assert cid in rt.list(quiet=True).out.split()


def test_id_with_punctuation(rt, bundle):
    cid = "it-a.b_c-D+9"
    rt.ids.append(cid)
    bundle.set_args("/bin/probe", "pid")
    r = rt.run(bundle, cid)
    assert r.rc == 0, r


def test_hostname_of_64_chars(rt, bundle):
    bundle.config["hostname"] = "h" * 64
    assert rt.probe(bundle, "hostname")["hostname"] == "h" * 64


def test_large_annotations_in_state(rt, bundle):
    ann = {f"org.example.k{i}": "v" * 200 for i in range(500)}
    bundle.config["annotations"] = ann
    bundle.set_args("/bin/probe", "sleep", "30")
    cid = rt.create(bundle).check().cid
    assert rt.state(cid)["annotations"] == ann
