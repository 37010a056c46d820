"""CVE-2019-5736: the container overwrites the runtime's binary.

A hostile process inside a running container watches /proc for the runtime
entering the container on `exec`, grabs /proc/PID/exe of it with O_PATH and,
once the runtime no longer runs it, reopens that handle for writing.  A
second trap is an image file `#!/proc/self/exe`: exec'ing it makes the
runtime's entering process run the runtime binary again, inside the
container.  The attack helper only ever writes to a file whose inode is the
runtime under test, and the runtime under test is a COPY of $HUSK, so
nothing real is at risk.  The test checks the copy's hash is unchanged.

Against runc 1.1.5: defended (runc re-executes from a sealed memfd copy;
the helper never finds the on-disk inode).  The companion test shows the
helper overwriting a binary that a plain, unprotected process runs.
"""

import hashlib
import os
import shutil
import subprocess
import time

import pytest

from conftest import Runtime, skip_if_not_built


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def wait_report(out, timeout=8):
    """The attacker prints one verdict line when it succeeds or gives up."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        text = out.read_text()
        if "OVERWROTE" in text or "FOUND" in text:
            return text
        time.sleep(0.05)
    return out.read_text()


@pytest.fixture
def runtime_copy(runtime_ok, tmp_path):
    d = tmp_path / "runtime-copy"
    d.mkdir()
    copy = d / os.path.basename(runtime_ok)
    shutil.copy2(runtime_ok, copy)
    r = Runtime(str(copy), tmp_path / "state-copy")
    yield r
    r.cleanup()


def test_exec_does_not_expose_writable_runtime_binary(runtime_copy, bundle,
                                                      tmp_path):
    rt = runtime_copy
    before = sha256(rt.binary)
    st = os.stat(rt.binary)
    evil = bundle.rootfs / "evil"
    evil.write_text("#!/proc/self/exe\n")
    evil.chmod(0o755)
    bundle.config["process"]["args"] = ["/attack", "overwrite-exe",
                                         str(st.st_dev), str(st.st_ino), "4"]
    out = tmp_path / "container.out"
    with open(out, "w") as f:
        r = rt.create(bundle, stdout=f)
    assert r.returncode == 0, out.read_text()
    assert rt("start", bundle.cid).returncode == 0
    time.sleep(0.2)
    skip_if_not_built(rt("exec", bundle.cid, "/bin/true", timeout=10), "exec")
    execs = []
    try:
        for i in range(8):
            execs.append(rt("exec", bundle.cid, "/bin/true", timeout=10))
            # The classic trap: the entering process execs the runtime itself.
            execs.append(rt("exec", bundle.cid, "/evil", timeout=10))
    except OSError:  # ENOEXEC: the copy was already overwritten
        pass
    report = wait_report(out)
    after = sha256(rt.binary)
    print(report)
    assert "OVERWROTE" not in report, report
    assert after == before, "the runtime binary was modified from the container"
    assert any(e.returncode == 0 for e in execs[::2]), (
        "exec never worked, so the attack was not exercised: "
        + (execs[0].stderr if execs else ""))
    assert ("NOT-FOUND" in report or "FOUND-BUT-NOT-WRITABLE" in report), report


@pytest.mark.parametrize("entry", ["/bin/true", "/evil"])
def test_run_into_shared_pid_namespace_does_not_expose_binary(
        runtime_copy, make_bundle, tmp_path, entry):
    """The same attack on `run` (no exec needed): container B joins the
    pid namespace of container A, where the attacker waits.  B's process
    is the runtime entering the container (entrypoint /bin/true: only the
    setup window before execve is exposed); with entrypoint `/evil`
    (`#!/proc/self/exe`) it also executes the runtime binary again
    inside the container."""
    rt = runtime_copy
    before = sha256(rt.binary)
    st = os.stat(rt.binary)
    a = make_bundle()
    a.config["process"]["args"] = ["/attack", "overwrite-exe", str(st.st_dev),
                                   str(st.st_ino), "4"]
    out = tmp_path / "attacker.out"
    with open(out, "w") as f:
        r = rt.create(a, stdout=f)
    assert r.returncode == 0, out.read_text()
    assert rt("start", a.cid).returncode == 0
    pid = rt.state(a.cid)["pid"]
    time.sleep(0.2)
    for _ in range(10):
        b = make_bundle()
        evil = b.rootfs / "evil"
        evil.write_text("#!/proc/self/exe\n")
        evil.chmod(0o755)
        b.config["linux"]["namespaces"] = [
            {"type": "pid", "path": f"/proc/{pid}/ns/pid"}] + [
            n for n in b.config["linux"]["namespaces"] if n["type"] != "pid"]
        b.config["process"]["args"] = [entry]
        try:
            rt.run(b, timeout=10)
        except OSError:  # ENOEXEC: the copy was already overwritten
            break
    report = wait_report(out)
    print(report)
    assert "OVERWROTE" not in report, report
    assert sha256(rt.binary) == before, (
        "the runtime binary was modified from the container")
    assert ("NOT-FOUND" in report or "FOUND-BUT-NOT-WRITABLE" in report), report


def test_overwrite_attack_works_without_defence(attack_bin, tmp_path):
    """The helper against a process that runs an unprotected on-disk
    binary (a copy of the helper standing in for a runtime without the
    sealed-copy defence): it grabs /proc/PID/exe and overwrites it."""
    victim = tmp_path / "naive-runtime"
    shutil.copy2(attack_bin, victim)
    before = sha256(victim)
    st = os.stat(victim)
    attacker = subprocess.Popen([str(attack_bin), "overwrite-exe",
                                 str(st.st_dev), str(st.st_ino), "4"],
                                stdout=subprocess.PIPE, text=True)
    time.sleep(0.1)
    # The "runtime" runs for a moment, then exits, as `runc exec` does.
    subprocess.run([str(victim), "sleep", "0.3"], check=True)
    out, _ = attacker.communicate(timeout=10)
    assert "OVERWROTE" in out, out
    assert sha256(victim) != before
