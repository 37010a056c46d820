"""process.user: uid, gid, additionalGids, umask."""

import pytest


def test_root_by_default(rt, bundle):
    ids = rt.probe(bundle, "ids")
    assert (ids["uid"], ids["gid"], ids["euid"], ids["egid"]) == (0, 0, 0, 0)
    assert ids["groups"] in ([], [0])


@pytest.mark.parametrize("uid,gid", [(1000, 1000), (65534, 65534), (4242, 100), (0, 100)])
def test_uid_gid(rt, bundle, uid, gid):
    bundle.process["user"] = {"uid": uid, "gid": gid}
    ids = rt.probe(bundle, "ids")
    assert (ids["uid"], ids["euid"]) == (uid, uid)
    assert (ids["gid"], ids["egid"]) == (gid, gid)


def test_no_supplementary_groups_leak_from_runtime(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    ids = rt.probe(bundle, "ids")
    assert set(ids["groups"]) <= {1000}, ids


def test_additional_gids(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 100, 4000]}
    ids = rt.probe(bundle, "ids")
    assert {5, 100, 4000} <= set(ids["groups"])
    assert set(ids["groups"]) <= {5, 100, 4000, 1000}


@pytest.mark.parametrize("umask", [0o077, 0o002, 0])
def test_umask(rt, bundle, umask):
    bundle.process["user"] = {"uid": 0, "gid": 0, "umask": umask}
    assert rt.probe(bundle, "ids")["umask"] == umask


def test_default_umask_is_022(rt, bundle):
    assert rt.probe(bundle, "ids")["umask"] == 0o022


def test_files_created_with_uid_and_umask(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 100, "umask": 0o027}
    bundle.process["cwd"] = "/tmp"
    bundle.set_args("/bin/sh", "-c", "touch /tmp/f && stat -c '%u %g %a' /tmp/f")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.split() == ["1000", "100", "640"]


def test_non_root_cannot_read_root_only_file(rt, bundle):
    import os
    secret = os.path.join(bundle.rootfs, "secret")
    with open(secret, "w") as f:
        f.write("x")
    os.chmod(secret, 0o600)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    assert rt.probe(bundle, "open", "/secret")["errno"] == 13  # EACCES


def test_runtime_umask_does_not_leak(rt, bundle):
    bundle.set_args("/bin/probe", "ids")
    bundle.write()
    cid = rt.new_id()
    r = rt.finish_files(rt.cmd_files_bg(cid, "run", "--bundle", bundle.path, cid, umask=0o077))
    assert r.rc == 0, r
    assert r.lines()[0]["umask"] == 0o022
