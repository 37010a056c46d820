"""root: path, readonly, missing rootfs, --no-pivot."""

import os
import shutil

EROFS = 30


def test_rootfs_is_root(rt, bundle):
    with open(os.path.join(bundle.rootfs, "marker"), "w") as f:
        f.write("inside\n")
    bundle.set_args("/bin/cat", "/marker")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out == "inside\n"


def test_host_root_is_unreachable(rt, bundle):
    bundle.set_args("/bin/sh", "-c", "ls /work /usr/lib 2>&1; cd /..; ls /")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert "itest" not in r.out and "python3" not in r.out


def test_readonly_root(rt, bundle):
    bundle.config["root"]["readonly"] = True
    out = rt.probe(bundle, "open", "/etc/passwd", "rw", "+", "open", "/dev/null", "rw", "+",
                   "mounts")
    assert out[0]["errno"] == EROFS
    assert out[1]["errno"] == 0
    root = [m for m in out[2]["mounts"] if m["mount_point"] == "/"][0]
    assert "ro" in root["options"].split(",")


def test_readonly_root_keeps_writable_mounts(rt, bundle):
    bundle.config["root"]["readonly"] = True
    bundle.config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"})
    bundle.set_args("/bin/sh", "-c", "echo x > /tmp/f && echo x > /dev/shm/f && echo ok")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out == "ok\n"


def test_absolute_root_path(rt, bundle):
    bundle.config["root"]["path"] = bundle.rootfs
    assert rt.probe(bundle, "pid")["pid"] == 1


def test_missing_rootfs_fails(rt, bundle):
    shutil.rmtree(bundle.rootfs)
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


def test_rootfs_is_a_file_fails(rt, bundle):
    shutil.rmtree(bundle.rootfs)
    with open(bundle.rootfs, "w") as f:
        f.write("not a dir")
    r = rt.run(bundle)
    assert r.rc != 0
    rt.assert_nothing_left()


def test_no_pivot(rt, bundle):
    bundle.set_args("/bin/probe", "mounts", "+", "pid")
    r = rt.run(bundle, None, "--no-pivot")
    assert r.rc == 0, r
    mounts, pid = r.lines()
    assert pid["pid"] == 1
    assert any(m["mount_point"] == "/" for m in mounts["mounts"])
    bundle.set_args("/bin/sh", "-c", "ls /work 2>&1")
    r = rt.run(bundle, None, "--no-pivot")
    assert "itest" not in r.out
