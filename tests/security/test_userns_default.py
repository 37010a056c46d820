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


def leak_and_write(rt, bundle, tmp_path, identity):
    host = tmp_path / "host-secrets"
    host.mkdir()
    os.chmod(host, 0o755)
    victim = host / "victim"
    victim.write_text("host data\n")
    os.chown(victim, 0, 0)
    os.chmod(victim, 0o644)
    default_spec(rt, bundle, identity)
    bundle.config["mounts"].append({"destination": "/leak", "type": "bind",
                                    "source": str(host), "options": ["rbind", "rw"]})
    bundle.config["process"]["args"] = ["/bin/sh", "-c", ATTACK]
    r = rt.run(bundle)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout, victim.read_text()


def test_default_container_root_cannot_write_a_leaked_host_file(rt, bundle, tmp_path):
    out, content = leak_and_write(rt, bundle, tmp_path, identity=False)
    assert "REFUSED" in out, out
    assert content == "host data\n"


def test_identity_map_container_root_writes_it(rt, bundle, tmp_path):
    """Companion: with container root = host root the same write succeeds."""
    out, content = leak_and_write(rt, bundle, tmp_path, identity=True)
    assert "WROTE" in out, out
    assert "pwned" in content
