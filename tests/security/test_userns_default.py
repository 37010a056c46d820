"""A host file reached through a leaked mount, with the default config.

`husk spec`'s config maps container root to an unprivileged host range of
its own (husk.userns=auto) and idmaps only the image. A host directory
that leaks into the container (here: a bind mount the config should not
have had) shows its root-owned files as nobody's, and container root,
being a stranger to them, cannot write them. The companion test runs the
same attack with the identity map (container root = host root, the old
default), where the write lands on the host."""

import json
import os
import subprocess

import pytest

ATTACK = "echo pwned >> /leak/victim && echo WROTE || echo REFUSED"


def default_spec(rt, bundle, identity):
    if rt.is_runc:
        pytest.skip("husk's default config")
    r = subprocess.run([rt.binary, "spec"], cwd=bundle.path, capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    spec = json.loads((bundle.path / "config.json").read_text())
    spec["root"] = {"path": "rootfs"}
    spec["process"]["terminal"] = False
    spec["linux"]["cgroupsPath"] = bundle.cgroups_path
    if identity:
        spec.pop("annotations", None)
        full = [{"containerID": 0, "hostID": 0, "size": 4294967295}]
        spec["linux"]["uidMappings"] = full
        spec["linux"]["gidMappings"] = full
    bundle.config = spec


def attack_through_leaked_bind(rt, bundle, host, identity, script):
    """host (a root-owned host directory) leaked into the container at
    /leak by a bind mount; the container's root runs script there."""
    os.chown(host, 0, 0)
    os.chmod(host, 0o755)
    default_spec(rt, bundle, identity)
    bundle.config["mounts"].append({"destination": "/leak", "type": "bind",
                                    "source": str(host), "options": ["rbind", "rw"]})
    bundle.config["process"]["args"] = ["/bin/sh", "-c", script]
    r = rt.run(bundle)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def leak_and_write(rt, bundle, tmp_path, identity):
    host = tmp_path / "host-secrets"
    host.mkdir()
    victim = host / "victim"
    victim.write_text("host data\n")
    os.chown(victim, 0, 0)
    os.chmod(victim, 0o644)
    out = attack_through_leaked_bind(rt, bundle, host, identity, ATTACK)
    return out, victim.read_text()


def test_default_container_root_cannot_write_a_leaked_host_file(rt, bundle, tmp_path):
    out, content = leak_and_write(rt, bundle, tmp_path, identity=False)
    assert "REFUSED" in out, out
    assert content == "host data\n"


def test_identity_map_container_root_writes_it(rt, bundle, tmp_path):
    """Companion: with container root = host root the same write succeeds."""
    out, content = leak_and_write(rt, bundle, tmp_path, identity=True)
    assert "WROTE" in out, out
    assert "pwned" in content


CREATE = "touch /leak/planted && echo CREATED || echo REFUSED"


def leak_and_create(rt, bundle, tmp_path, identity):
    """The leaked bind mount of a root-owned 0755 host directory: container
    root tries to plant a new file in it."""
    host = tmp_path / "host-dir"
    host.mkdir()
    out = attack_through_leaked_bind(rt, bundle, host, identity, CREATE)
    return out, (host / "planted").exists()


def test_default_container_root_cannot_create_in_a_leaked_host_dir(rt, bundle, tmp_path):
    out, planted = leak_and_create(rt, bundle, tmp_path, identity=False)
    assert "REFUSED" in out, out
    assert not planted


def test_identity_map_container_root_creates_in_it(rt, bundle, tmp_path):
    """Companion: with container root = host root the file is planted."""
    out, planted = leak_and_create(rt, bundle, tmp_path, identity=True)
    assert "CREATED" in out, out
    assert planted


# A host directory fd handed to the container (--preserve-fds: the fd a
# runtime or a caller leaks, as in CVE-2024-21626) reaches host files by
# /proc/self/fd/3/NAME, around every mount.
FD_ATTACK = ("(echo pwned >> /proc/self/fd/3/victim) 2>/dev/null && echo WROTE || echo REFUSED; "
             "(echo x > /proc/self/fd/3/planted) 2>/dev/null && echo CREATED || echo NOT-CREATED")


def leak_fd_and_write(rt, bundle, tmp_path, identity):
    host = tmp_path / "host-secrets"
    host.mkdir()
    os.chown(host, 0, 0)
    os.chmod(host, 0o755)
    victim = host / "victim"
    victim.write_text("host data\n")
    os.chown(victim, 0, 0)
    os.chmod(victim, 0o644)
    default_spec(rt, bundle, identity)
    bundle.config["process"]["args"] = ["/bin/sh", "-c", FD_ATTACK]
    dirfd = os.open(host, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # preexec_fn runs before subprocess closes the fds not in pass_fds
        bundle.write()
        rt.created.append(bundle.cid)
        r = rt("run", "--preserve-fds", "1", "--bundle", bundle.path, bundle.cid,
               pass_fds=(3,), preexec_fn=lambda: os.dup2(dirfd, 3))
    finally:
        os.close(dirfd)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout, victim.read_text(), (host / "planted").exists()


def test_default_container_root_cannot_write_through_a_leaked_host_fd(rt, bundle, tmp_path):
    out, content, planted = leak_fd_and_write(rt, bundle, tmp_path, identity=False)
    assert "REFUSED" in out and "NOT-CREATED" in out, out
    assert content == "host data\n"
    assert not planted


def test_identity_map_container_root_writes_through_the_fd(rt, bundle, tmp_path):
    """Companion: with the identity map the same fd writes and plants on the
    host (so the fd really reaches the host directory)."""
    out, content, planted = leak_fd_and_write(rt, bundle, tmp_path, identity=True)
    assert "WROTE" in out and "CREATED" in out, out
    assert "pwned" in content
    assert planted
