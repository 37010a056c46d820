"""Rootless: an unprivileged user runs containers with no extra power.

A fresh unprivileged user (huskrootless, created if missing) runs
`spec --rootless` and `run` of a container printing `id`.  Inside, the
process is uid 0; on the host the same process runs as the calling user
(the user namespace maps 0 to the caller), and the state lives under
$XDG_RUNTIME_DIR/husk (runc: $XDG_RUNTIME_DIR/runc).

Skips (with the runtime's own words) only when the runtime says rootless
is not implemented/supported; any other failure is a failure.
Against runc 1.1.5: see README.md.
"""

import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import procs_rooted_at

USER = "huskrootless"
UNSUPPORTED = re.compile(r"not (yet )?(implemented|supported)|unsupported|"
                         r"unrecognized option|unknown option|invalid option",
                         re.I)


@pytest.fixture(scope="module")
def user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "-m", USER], check=True, timeout=30)
        return pwd.getpwnam(USER)


@pytest.fixture
def home(user, runtime_ok, rootfs_template):
    d = tempfile.mkdtemp(prefix="husk-rootless-", dir="/tmp")
    os.chmod(d, 0o755)
    bundle = os.path.join(d, "bundle")
    os.mkdir(bundle)
    shutil.copytree(rootfs_template, os.path.join(bundle, "rootfs"),
                    symlinks=True)
    xdg = os.path.join(d, "xdg")
    os.mkdir(xdg, 0o700)
    binary = os.path.join(d, os.path.basename(runtime_ok))
    shutil.copy2(runtime_ok, binary)
    os.chmod(binary, 0o755)
    subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", d],
                   check=True)
    yield {"dir": d, "bundle": bundle, "xdg": xdg, "bin": binary}
    kill_user_containers(user, bundle)
    shutil.rmtree(d, ignore_errors=True)


def kill_user_containers(user, bundle):
    for pid in procs_rooted_at(os.path.join(bundle, "rootfs")):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def as_user(user, home, args, **kw):
    env = {"HOME": user.pw_dir, "USER": USER, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
           "XDG_RUNTIME_DIR": home["xdg"]}
    cmd = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
           "--init-groups", "--", home["bin"], *args]
    return subprocess.Popen(cmd, cwd=home["bundle"], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def skip_if_unsupported(msg):
    if UNSUPPORTED.search(msg):
        pytest.skip(f"rootless not supported by the runtime yet: {msg.strip()[:200]}")


def host_uid(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def test_rootless_run_maps_root_to_caller(user, home, runtime_ok):
    p = as_user(user, home, ["spec", "--rootless"])
    out, err = p.communicate(timeout=10)
    if p.returncode != 0:
        skip_if_unsupported(err)
    assert p.returncode == 0, err
    cfg_path = os.path.join(home["bundle"], "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    maps = cfg["linux"].get("uidMappings", [])
    assert any(m["containerID"] == 0 and m["hostID"] == user.pw_uid
               for m in maps), maps
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/sh", "-c", "id; sleep 1"]
    cfg["root"] = {"path": "rootfs"}
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    os.chown(cfg_path, user.pw_uid, user.pw_gid)

    cid = "rootless-" + os.path.basename(home["dir"])[-8:]
    p = as_user(user, home, ["run", cid])
    name = "runc" if "runc" in os.path.basename(runtime_ok) else "husk"
    state_dir = os.path.join(home["xdg"], name, cid)
    seen_state = seen_uid = None
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and p.poll() is None:
        if seen_state is None and os.path.isdir(state_dir):
            seen_state = True
        for pid in procs_rooted_at(os.path.join(home["bundle"], "rootfs")):
            seen_uid = host_uid(pid) if seen_uid is None else seen_uid
        if seen_state and seen_uid is not None:
            break
        time.sleep(0.02)
    out, err = p.communicate(timeout=15)
    if p.returncode != 0:
        skip_if_unsupported(err)
    assert p.returncode == 0, err
    assert re.search(r"uid=0(\(root\))? gid=0", out), out
    assert seen_uid == user.pw_uid, (
        f"container process runs as host uid {seen_uid}, not {user.pw_uid}")
    assert seen_state, f"no state under {state_dir} while running"
    assert not os.path.exists(state_dir), "state left after run"
