"""Podman 4.3 driving husk with cgroup_manager = "systemd", on a host whose
PID 1 is systemd (the test host, tests/hosts; docs/testhost.md): each
container's cgroup is a transient scope (machine.slice/libpod-<id>.scope)
that husk's systemd driver asks systemd for, and Podman's checkpoint and
restore go through husk's. The recipes in podman.sh run on the build
machine with cgroupfs; here everything lives in a private store under a
temporary directory and is removed again. Skips where systemd is not PID 1
or Podman is not installed."""
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time

import pytest

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/run/systemd/system"),
                       reason="systemd is not PID 1 here (/run/systemd/system is missing): "
                              "run on the test host, make check-hosts"),
    pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="rootful podman: needs root"),
]

IMAGE = "localhost/husk-bb:latest"  # a full name: a short one would ask a registry
STEP = 120  # seconds for one podman command (TCG is slow)
COUNTER = "i=0; while :; do echo $i; i=$((i+1)); sleep 0.2; done"
TRAP = "trap 'echo got-TERM; exit 0' TERM; echo started; while :; do sleep 0.1; done"


class Podman:
    def __init__(self, top, runtime):
        self.top, self.runtime = top, runtime
        self.env = dict(os.environ, CONTAINERS_CONF=f"{top}/containers.conf",
                        CONTAINERS_STORAGE_CONF=f"{top}/storage.conf")
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            self.env.pop(k, None)

    def __call__(self, *args, timeout=STEP, check=True):
        r = subprocess.run(["podman", "--runtime", self.runtime, *args], env=self.env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout, cwd=self.top)
        if check:
            assert r.returncode == 0, f"podman {' '.join(args)}: rc {r.returncode}\n" \
                                      f"{r.stdout}\n{r.stderr}{log_tail(r.stderr)}"
        return r

    def inspect(self, name, fmt):
        return self("inspect", "-f", fmt, name).stdout.strip()

    def logs(self, name):
        return self("logs", name).stdout


def log_tail(err, lines=25):
    """The end of the log an error points to (criu's, through husk's message)."""
    m = re.search(r"\(log: (/[^)\s]+)\)", err)
    if not m or not os.path.exists(m.group(1)):
        return ""
    with open(m.group(1), errors="replace") as f:
        return f"\n--- {m.group(1)}:\n" + "".join(f.readlines()[-lines:])


def write_conf(top):
    for d in ("tmp", "networks"):
        os.makedirs(f"{top}/{d}", exist_ok=True)
    with open(f"{top}/containers.conf", "w") as f:
        # netns "none": the test host has no iptables, which netavark's bridge needs
        f.write(f"""[containers]
log_driver = "k8s-file"
netns = "none"
[network]
network_backend = "netavark"
network_config_dir = "{top}/networks"
[engine]
cgroup_manager = "systemd"
events_logger = "file"
tmp_dir = "{top}/tmp"
static_dir = "{top}/root/libpod"
volume_path = "{top}/root/volumes"
# husk gets --log-format=json --log FILE, so podman reports its errors
runtime_supports_json = ["crun", "runc", "husk"]
""")
    with open(f"{top}/storage.conf", "w") as f:
        f.write(f"""[storage]
driver = "overlay"
runroot = "{top}/run"
graphroot = "{top}/root"
""")


def rootfs_tar(path):
    """A busybox rootfs (Debian's busybox-static) as a tarball for `podman import`."""
    busybox = shutil.which("busybox")
    if not busybox:
        pytest.skip("no busybox here to make an image of")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    with tarfile.open(path, "w") as t:
        def add_dir(name, mode=0o755):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode = tarfile.DIRTYPE, mode
            t.addfile(ti)
        for d in ("bin", "etc", "proc", "sys", "dev", "root", "run", "mnt"):
            add_dir(d)
        add_dir("tmp", 0o1777)
        t.add(busybox, "bin/busybox")
        for a in applets:
            if a != "busybox":
                ti = tarfile.TarInfo(f"bin/{a}")
                ti.type, ti.linkname = tarfile.SYMTYPE, "busybox"
                t.addfile(ti)
        for name, text in (("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
                           ("etc/group", "root:x:0:\n")):
            data = text.encode()
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o644
            t.addfile(ti, io.BytesIO(data))


@pytest.fixture(scope="module")
def podman():
    husk = os.environ.get("HUSK")
    if not husk:
        pytest.skip("HUSK is not set")
    # short: conmon's attach sockets live below it (108 bytes at most)
    top = tempfile.mkdtemp(prefix="hpod-", dir="/var/tmp")
    p = Podman(top, os.path.realpath(husk))
    try:
        write_conf(top)
        rootfs_tar(f"{top}/rootfs.tar")
        p("import", "-q", f"{top}/rootfs.tar", IMAGE)
        yield p
    finally:
        p("rm", "-af", "-t", "0", check=False)
        p("rmi", "-af", check=False)
        subprocess.run(["umount", "-R", f"{top}/root/overlay"], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)


def wait_for(what, cond, limit=60):
    deadline = time.monotonic() + limit
    while True:
        got = cond()
        if got or time.monotonic() > deadline:
            assert got, f"timed out after {limit} s waiting for {what}"
            return got
        time.sleep(0.2)


def read(path):
    with open(path) as f:
        return f.read().strip()


def unit_prop(unit, prop):
    return subprocess.run(["systemctl", "show", "-p", prop, "--value", unit],
                          capture_output=True, text=True, timeout=30).stdout.strip()


def test_runtime_is_husk_and_cgroup_manager_is_systemd(podman):
    info = podman("info", "-f", "{{.Host.CgroupManager}} {{.Host.OCIRuntime.Path}}").stdout
    assert info.split() == ["systemd", podman.runtime]


def test_run_echo(podman):
    assert podman("run", "--rm", IMAGE, "echo", "hi").stdout == "hi\n"


def test_exit_code(podman):
    assert podman("run", "--rm", IMAGE, "sh", "-c", "exit 7", check=False).returncode == 7


def test_memory_limit_lands_in_the_containers_scope(podman):
    """--memory: husk asks systemd for libpod-<id>.scope in machine.slice
    with MemoryMax, and the container's process is in that scope."""
    podman("run", "-d", "--name", "pm-mem", "--memory", "64m", IMAGE, "sleep", "300")
    try:
        cid = podman.inspect("pm-mem", "{{.Id}}")
        pid = int(podman.inspect("pm-mem", "{{.State.Pid}}"))
        unit = f"libpod-{cid}.scope"
        assert read(f"/proc/{pid}/cgroup") == f"0::/machine.slice/{unit}"
        assert read(f"/sys/fs/cgroup/machine.slice/{unit}/memory.max") == str(64 << 20)
        assert unit_prop(unit, "MemoryMax") == str(64 << 20)
        assert unit_prop(unit, "ActiveState") == "active"
        # inside, the container sees its own cgroup as the root (cgroupns)
        out = podman("exec", "pm-mem", "cat", "/sys/fs/cgroup/memory.max").stdout
        assert out.strip() == str(64 << 20)
    finally:
        podman("rm", "-f", "-t", "0", "pm-mem")
    assert not os.path.exists(f"/sys/fs/cgroup/machine.slice/{unit}")


def test_detached_exec_logs_ps_stop_rm(podman):
    podman("run", "-d", "--name", "pm-d", IMAGE, "sh", "-c", TRAP)
    try:
        cid = podman.inspect("pm-d", "{{.Id}}")
        ps = podman("ps", "--no-trunc", "--filter", "status=running",
                    "--format", "{{.ID}} {{.Names}}").stdout
        assert f"{cid} pm-d" in ps.splitlines(), ps
        assert podman("exec", "pm-d", "sh", "-c", "echo exec-ok").stdout == "exec-ok\n"
        assert podman("exec", "pm-d", "sh", "-c", "exit 5", check=False).returncode == 5
        wait_for("'started' in the logs", lambda: "started" in podman.logs("pm-d"))
        podman("stop", "-t", "30", "pm-d")
        assert "got-TERM" in podman.logs("pm-d")
        assert podman.inspect("pm-d", "{{.State.Status}} {{.State.ExitCode}}") == "exited 0"
        assert unit_prop(f"libpod-{cid}.scope", "ActiveState") in ("inactive", "")
        podman("rm", "pm-d")
        assert podman("container", "exists", "pm-d", check=False).returncode == 1
    finally:
        podman("rm", "-f", "-t", "0", "pm-d", check=False)


def test_network_none(podman):
    out = podman("run", "--rm", "--network", "none", IMAGE, "ip", "-o", "link").stdout
    assert " lo:" in out and "eth0" not in out, out


# ---- checkpoint and restore (husk checkpoint/restore through criu) --------


@pytest.fixture(scope="module")
def criu_ready(podman):
    if subprocess.run([podman.runtime, "checkpoint", "--help"],
                      capture_output=True).returncode != 0:
        pytest.skip(f"{podman.runtime} has no checkpoint command")
    if shutil.which("criu") is None:
        pytest.skip("criu is not installed")
    r = subprocess.run(["criu", "check"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        pytest.skip(f"criu cannot run on this kernel: {(r.stdout + r.stderr).strip()}")


def counts(text):
    return [int(x) for x in re.findall(r"^(\d+)$", text, re.M)]


def assert_went_on(before, now):
    """The counter went on from where the checkpoint stopped it rather than
    starting over: `before` are the counts logged up to the checkpoint, `now`
    the log's counts after the restore (the old log kept in front, or not)."""
    new = now[len(before):] if now[:len(before)] == before else now
    assert len(new) >= 3, f"too few counts after the restore: {now[-10:]}"
    assert before[-1] - 2 <= new[0] <= before[-1] + 3, \
        f"the count started over: {before[-3:]} then {new[:3]}"
    assert all(b - a == 1 for a, b in zip(new, new[1:])), new


def start_counter(podman, name):
    podman("run", "-d", "--name", name, "--network", "none", IMAGE, "sh", "-c", COUNTER)
    wait_for("the counter to reach 5", lambda: len(counts(podman.logs(name))) >= 5)


def test_checkpoint_and_restore(podman, criu_ready):
    start_counter(podman, "pm-cr")
    try:
        podman("container", "checkpoint", "pm-cr")
        assert podman.inspect("pm-cr", "{{.State.Status}}") == "exited"
        before = counts(podman.logs("pm-cr"))
        podman("container", "restore", "pm-cr")
        assert podman.inspect("pm-cr", "{{.State.Status}}") == "running"
        cid = podman.inspect("pm-cr", "{{.Id}}")
        new_pid = int(podman.inspect("pm-cr", "{{.State.Pid}}"))
        assert read(f"/proc/{new_pid}/cgroup") == f"0::/machine.slice/libpod-{cid}.scope"
        wait_for("the count to go on", lambda: (counts(podman.logs("pm-cr")) or [0])[-1] > before[-1] + 3)
        assert_went_on(before, counts(podman.logs("pm-cr")))
        # the restored tree: the counter is PID 1 inside, and exec joins it
        assert podman("exec", "pm-cr", "cat", "/proc/1/cmdline").stdout.startswith("sh\0-c")
    finally:
        podman("rm", "-f", "-t", "0", "pm-cr", check=False)


def test_checkpoint_export_and_import_into_a_new_container(podman, criu_ready):
    archive = f"{podman.top}/pm-ex.tar.gz"
    start_counter(podman, "pm-ex")
    try:
        podman("container", "checkpoint", "--export", archive, "pm-ex")
        assert os.path.getsize(archive) > 0
        before = counts(podman.logs("pm-ex"))
        podman("rm", "pm-ex")
        podman("container", "restore", "--import", archive, "--name", "pm-im")
        assert podman.inspect("pm-im", "{{.State.Status}}") == "running"
        cid = podman.inspect("pm-im", "{{.Id}}")
        pid = int(podman.inspect("pm-im", "{{.State.Pid}}"))
        assert read(f"/proc/{pid}/cgroup") == f"0::/machine.slice/libpod-{cid}.scope"
        # the new container's log starts where the old one stopped: restored, not restarted
        wait_for("the count to go on",
                 lambda: (counts(podman.logs("pm-im")) or [0])[-1] > before[-1] + 3)
        assert_went_on(before, counts(podman.logs("pm-im")))
    finally:
        podman("rm", "-f", "-t", "0", "pm-ex", check=False)
        podman("rm", "-f", "-t", "0", "pm-im", check=False)
