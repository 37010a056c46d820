"""A hostile guest: the guest kernel's root owns the agent's port, so the
host must treat every frame from it as hostile input. Each mode of
hostile_init.c breaks one rule of the protocol (docs/vm-agent.md); the
create must fail with a message naming that rule, and leave no process,
cgroup, mount or state directory behind."""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, alive, find_cgroups, mounts_mentioning

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def hostile_initrd(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler to build the hostile guest")
    d = tmp_path_factory.mktemp("hostile")
    init = d / "init"
    subprocess.run([cc, "-static", "-O2", "-o", str(init), os.path.join(HERE, "hostile_init.c")],
                   check=True)
    cpio = d / "hostile.cpio"
    subprocess.run([sys.executable, os.path.join(REPO, "scripts", "mkcpio.py"), str(cpio),
                    str(init)], check=True)
    return str(cpio)


CASES = [
    ("badmagic", "agent protocol: bad magic 0xdeadbeef"),
    ("version", "agent protocol: version 2, this husk speaks 1"),
    ("oversize", "agent protocol: HELLO: 67108864 bytes is too long"),
    ("hosttype", "agent protocol: message type 32 not allowed from the guest"),
    ("flags", "agent protocol: HELLO: flags 0x8000"),
    ("badjson", "agent protocol: HELLO: payload:"),
    ("badfield", "agent protocol: HELLO: \"boot_ns\" must be an integer in"),
    ("badexit", "agent protocol: EXIT: \"status\" must be an integer in 0..255"),
    # the guest closes the port inside a frame and reboots: the host reads
    # either the early end or the reset of QEMU's end, whichever comes first
    ("shortframe", ("agent channel: closed inside a frame", "agent channel: read: Connection reset")),
]


@pytest.mark.parametrize("mode,message", CASES, ids=[c[0] for c in CASES])
def test_hostile_guest_refused(vm_ready, husk, bundle, hostile_initrd, mode, message):
    cid = husk.new_id()
    bundle.config["vm"] = {"kernel": {"initrd": hostile_initrd, "parameters": [f"hostile={mode}"]}}
    before = set(os.listdir("/proc"))
    p = husk("run", "--bundle", bundle.path, cid, bundle=bundle)
    assert p.returncode != 0
    messages = message if isinstance(message, tuple) else (message,)
    assert any(m in p.stderr for m in messages), p.stderr
    assert not os.path.exists(os.path.join(husk.root, cid)), "state directory left"
    assert not find_cgroups(cid), find_cgroups(cid)
    assert not mounts_mentioning(cid)
    # this test's own: the monitor's argv names the state root, virtiofsd's
    # the share under it, QEMU's the hostile initrd
    new = [int(x) for x in set(os.listdir("/proc")) - before if x.isdigit()]
    left = [pid for pid in new if alive(pid) and mentions(pid, (husk.root, hostile_initrd))]
    assert not left, f"processes left: {left}"


def mentions(pid, texts):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().decode(errors="replace")
    except OSError:
        return False
    return any(t in cmdline for t in texts)
