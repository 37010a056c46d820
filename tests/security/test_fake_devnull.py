"""CVE-2025-31133: a fake /dev/null turns masking into a writable bind.

Files in linux.maskedPaths are masked by bind-mounting /dev/null over them.
If the image's /dev/null is a symlink (here to a procfs sysctl file, or to
a host file bound into the container read-only), a runtime that binds "the
container's /dev/null" by path follows the link: the masked path becomes a
read-write alias of the link's target.  The masked path must end up a real
null device (char 1:3) or the container must not start; the target must
not become writable through it.

Demonstrated against runc 1.1.5: escape succeeded (the masked /proc/timer_list
became a writable alias of the link target).
"""

import os

import pytest


def parse_stat(out):
    for line in out.splitlines():
        if line.startswith("STAT ") or line.startswith("STAT-FAILED"):
            return line
    return ""


def read_out(bundle):
    # stdio may itself point at /dev/null, so results go to a file
    out = bundle.rootfs / "tmp" / "out"
    return out.read_text() if out.exists() else ""


def plant_devnull(bundle, target):
    bundle.without_dev_tmpfs()
    os.symlink(target, bundle.rootfs / "dev" / "null")


def test_fake_devnull_to_procfs_sysctl(rt, bundle):
    """/dev/null -> /proc/sys/kernel/hostname (namespaced, so harmless):
    /proc/sys is read-only in the container; writing the masked
    /proc/timer_list must not change the hostname."""
    plant_devnull(bundle, "/proc/sys/kernel/hostname")
    bundle.config["hostname"] = "original"
    bundle.config["process"]["args"] = [
        "/bin/sh", "-c",
        "(/attack stat /proc/timer_list; echo hijacked > /proc/timer_list; "
        "echo HOSTNAME=$(cat /proc/sys/kernel/hostname)) >/tmp/out 2>&1"]
    r = rt.run(bundle, stdin=None, input="")
    r.stdout = read_out(bundle)
    if r.returncode != 0 and "HOSTNAME=" not in r.stdout:
        return  # the runtime refused the hostile image: defended
    assert "HOSTNAME=original" in r.stdout, (
        f"write to masked /proc/timer_list reached the sysctl: {r.stdout}")
    st = parse_stat(r.stdout)
    assert st.startswith("STAT char 1:3"), f"/proc/timer_list is not masked by a null device: {st}"


@pytest.mark.parametrize("mode", ["ro", "rw"])
def test_fake_devnull_to_host_file(rt, bundle, tmp_path, mode):
    """/dev/null -> /hostfile, a host file bound into the container (a
    stand-in for a sensitive procfs file).  The container writes only to
    the masked paths; the host file must not change."""
    host = tmp_path / "host-file"
    host.write_text("host content\n")
    (bundle.rootfs / "hostfile").write_text("")
    bundle.config["mounts"].append(
        {"destination": "/hostfile", "type": "bind", "source": str(host),
         "options": ["bind", mode]})
    plant_devnull(bundle, "/hostfile")
    bundle.config["process"]["args"] = [
        "/bin/sh", "-c",
        "(/attack stat /proc/timer_list; /attack open /proc/timer_list w; "
        "/attack open /proc/keys w) >/tmp/out 2>&1"]
    r = rt.run(bundle, stdin=None, input="")
    out = read_out(bundle)
    assert host.read_text() == "host content\n", (
        f"host file written through a masked path: {out} {r.stderr}")
    if r.returncode == 0:
        st = parse_stat(out)
        assert st.startswith("STAT char 1:3"), (
            f"/proc/timer_list is not masked by a null device: {st}")
