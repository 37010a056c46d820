"""linux.maskedPaths and linux.readonlyPaths."""

import os

EROFS, EACCES, ENOENT = 30, 13, 2


def make_tree(bundle):
    os.makedirs(os.path.join(bundle.rootfs, "secretdir"))
    with open(os.path.join(bundle.rootfs, "secretdir", "key"), "w") as f:
        f.write("top secret\n")
    with open(os.path.join(bundle.rootfs, "secretfile"), "w") as f:
        f.write("top secret\n")
    os.makedirs(os.path.join(bundle.rootfs, "rodir"))


def test_masked_file_reads_empty(rt, bundle):
    make_tree(bundle)
    bundle.linux["maskedPaths"] = ["/secretfile", "/proc/timer_list"]
    bundle.set_args("/bin/sh", "-c", "cat /secretfile; echo rc=$?; wc -c < /proc/timer_list")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert "top secret" not in r.out
    assert r.out.split() == ["rc=0", "0"]


def test_masked_file_is_null_device(rt, bundle):
    make_tree(bundle)
    bundle.linux["maskedPaths"] = ["/secretfile"]
    st = rt.probe(bundle, "stat", "/secretfile")["/secretfile"]
    assert (st["type"], st["major"], st["minor"]) == ("char", 1, 3)


def test_masked_dir_is_empty_and_read_only(rt, bundle):
    make_tree(bundle)
    bundle.linux["maskedPaths"] = ["/secretdir"]
    bundle.set_args("/bin/sh", "-c", "ls -A /secretdir; echo rc=$?; touch /secretdir/x; "
                    "echo touch=$?")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.split() == ["rc=0", "touch=1"]


def test_default_masked_proc_paths(rt, bundle):
    bundle.set_args("/bin/sh", "-c", "wc -c < /proc/timer_list; wc -c < /proc/keys")
    r = rt.run(bundle)
    assert r.rc == 0, r
    assert r.out.split() == ["0", "0"]


def test_missing_masked_path_is_ignored(rt, bundle):
    bundle.linux["maskedPaths"] = ["/does/not/exist", "/proc/acpi"]
    assert rt.probe(bundle, "pid")["pid"] == 1


def test_readonly_paths(rt, bundle):
    make_tree(bundle)
    bundle.linux["readonlyPaths"] = ["/rodir", "/proc/sys", "/secretfile"]
    out = rt.probe(bundle, "open", "/proc/sys/kernel/hostname", "rw", "+",
                   "open", "/secretfile", "rw", "+", "open", "/secretfile")
    assert out[0]["errno"] == EROFS
    assert out[1]["errno"] == EROFS
    assert out[2]["errno"] == 0
    bundle.set_args("/bin/sh", "-c", "touch /rodir/x; echo rc=$?; ls /proc/sys | wc -l")
    r = rt.run(bundle)
    assert r.out.split()[0] == "rc=1"
    assert int(r.out.split()[1]) > 0, "read-only paths must stay readable"


def test_default_readonly_proc_sys(rt, bundle):
    out = rt.probe(bundle, "open", "/proc/sys/kernel/hostname", "rw", "+",
                   "open", "/proc/sys/vm/swappiness", "rw")
    assert out[0]["errno"] == EROFS
    assert out[1]["errno"] == EROFS


def test_missing_readonly_path_is_ignored(rt, bundle):
    bundle.linux["readonlyPaths"] = ["/does/not/exist"]
    assert rt.probe(bundle, "pid")["pid"] == 1


def test_masking_does_not_touch_host(rt, bundle):
    make_tree(bundle)
    bundle.linux["maskedPaths"] = ["/secretfile"]
    rt.probe(bundle, "pid")
    with open(os.path.join(bundle.rootfs, "secretfile")) as f:
        assert f.read() == "top secret\n"
