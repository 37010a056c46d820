"""The child->parent error path: a failure during set-up reaches the user
naming the resource and the kernel's reason, never the transport's."""

import os

import pytest

from conftest import husk_only


def _one_error_line(r):
    lines = r.err.splitlines()
    assert len(lines) == 1, r.err
    assert lines[0].startswith("husk: error: create "), lines[0]
    assert "recvmsg" not in lines[0] and "Connection reset" not in lines[0], lines[0]
    return lines[0]


@husk_only
def test_memory_limit_too_small_names_the_limit(rt, bundle):
    bundle.set_args("/bin/true")
    bundle.linux.setdefault("resources", {})["memory"] = {"limit": 1}
    r = rt.create(bundle)
    assert r.rc == 1, r
    line = _one_error_line(r)
    assert "memory" in line and "limit" in line, line
    rt.assert_nothing_left()


@husk_only
def test_refused_cgroup_write_names_the_file_and_the_reason(rt, bundle):
    bundle.set_args("/bin/true")
    bundle.linux.setdefault("resources", {})["cpu"] = {"cpus": "9999"}
    r = rt.create(bundle)
    assert r.rc == 1, r
    line = _one_error_line(r)
    assert "cpus" in line and "9999" in line, line
    # the kernel's reason, after the step
    assert line.rstrip().endswith(("result out of range", "Invalid argument")), line
    rt.assert_nothing_left()


@husk_only
def test_long_path_keeps_the_reason(rt, bundle):
    # a bind source of ~3.5 KiB: the message is longer than 1 KiB, and the
    # part that says what went wrong (the errno) is at its end
    source = "/nonexistent-" + "/".join(["d" * 200] * 17)
    assert len(source) > 3000
    bundle.set_args("/bin/true")
    bundle.config["mounts"].append({"destination": "/mnt", "type": "bind", "source": source,
                                    "options": ["rbind"]})
    r = rt.create(bundle)
    assert r.rc == 1, r
    line = _one_error_line(r)
    assert line.endswith("No such file or directory"), line[-200:]
    assert "/mnt" in line or source[-100:] in line, line[-300:]
    rt.assert_nothing_left()


@husk_only
def test_failure_inside_the_child_comes_back_whole(rt, bundle):
    # cwd is made in the child, after clone: a file in its way fails there
    with open(os.path.join(bundle.rootfs, "tmp", "afile"), "w") as f:
        f.write("x")
    long_dir = "/tmp/afile/" + "/".join(["e" * 200] * 15)
    bundle.process["cwd"] = long_dir
    bundle.set_args("/bin/true")
    r = rt.create(bundle)
    assert r.rc == 1, r
    line = _one_error_line(r)
    assert line.endswith("Not a directory"), line[-200:]
    rt.assert_nothing_left()
