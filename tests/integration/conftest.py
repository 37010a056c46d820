"""Shared fixtures for the integration suite.

The suite drives a runtime binary the way engines do: HUSK=<path> picks it
(husk, or runc/crun for comparison), PROBE=<path> is the static probe that
runs inside containers and prints JSON about what it sees.

Every test gets a `runtime` (a wrapper around the binary with its own
--root) and a `bundle` (a fresh bundle directory with a default config).
After each test, whatever the test left is force-deleted and the host is
checked: no state directory, cgroup, mount or process may remain.
"""

import copy
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "pylib"))
import husktest  # noqa: E402


def _default_binary(env, *candidates):
    value = os.environ.get(env)
    if value:
        return os.path.abspath(value)
    for c in candidates:
        if os.path.exists(c):
            return c
    return candidates[0]


HUSK = _default_binary("HUSK", os.path.join(REPO, "build", "husk"))
PROBE = _default_binary("PROBE", os.path.join(REPO, "build", "tests", "helper", "probe"))
RUNTIME_NAME = os.path.basename(HUSK)
CGROUP_ROOT = "/sys/fs/cgroup"
# The host's cgroup layout. Pure v2 (most hosts with systemd): cgroup2 is
# mounted at CGROUP_ROOT itself, every controller in one tree. v1 or hybrid
# (the development machine): a tmpfs there with one mount per v1 controller
# (cpu, memory, pids...), plus on a hybrid host cgroup2 at unified/.
CGROUP_V2 = os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers"))


def cgroup_file(controller, path, name):
    """Host path of file name of the cgroup path in the hierarchy that holds
    controller: CGROUP_ROOT/path/name on pure v2, CGROUP_ROOT/controller/
    path/name on v1. The file's own name differs between the layouts
    (memory.max, memory.limit_in_bytes): the caller picks it."""
    base = CGROUP_ROOT if CGROUP_V2 else os.path.join(CGROUP_ROOT, controller)
    return os.path.join(base, path.lstrip("/"), name)


def cgroup_hierarchies():
    """The host's cgroup hierarchies' mount points: CGROUP_ROOT alone on pure
    v2; each v1 controller's (and unified/ on a hybrid host) otherwise,
    without the cpu -> cpu,cpuacct style links."""
    if CGROUP_V2:
        return [CGROUP_ROOT]
    found = []
    for name in sorted(os.listdir(CGROUP_ROOT)):
        base = os.path.join(CGROUP_ROOT, name)
        if os.path.isdir(base) and not os.path.islink(base):
            found.append(base)
    return found


def cgroup_dirs(path):
    """The directories of cgroup path that exist, in every hierarchy."""
    dirs = (os.path.join(h, path.lstrip("/")) for h in cgroup_hierarchies())
    return [d for d in dirs if os.path.isdir(d)]


def remove_cgroup_tree(path):
    """rmdir cgroup path and everything below it in every hierarchy, deepest
    first (a test's leftovers; a cgroup that still holds a process stays)."""
    for top in cgroup_dirs(path):
        for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def is_husk():
    """True when the binary under test is husk (not runc or crun)."""
    return RUNTIME_NAME.startswith("husk")


def is_runc():
    return RUNTIME_NAME.startswith("runc")


# Behaviour that husk has on purpose and runc does not (hardening, error
# messages that name the field): skipped when the suite runs against runc.
husk_only = pytest.mark.skipif(not is_husk(), reason="husk-specific behaviour")


# ---------------------------------------------------------------------------
# Child subreaper: PID 1 on the test machines does not reap orphans, and a
# container's init is reparented to us once the runtime that made it exits.
# ---------------------------------------------------------------------------
_spawn_lock = threading.Lock()
_owned_pids = set()  # children a Popen object will wait for itself
_proc_state = husktest.proc_state


def reap_orphans():
    """Reap zombie children that no Popen object is waiting for."""
    with _spawn_lock:
        husktest.reap_zombies(_owned_pids)


# Reaping runs only while a test of this suite holds the `runtime` fixture:
# other modules in this directory spawn children the reaper must not steal.
_reaper_active = threading.Event()


def _reaper_loop():
    while True:
        _reaper_active.wait()
        time.sleep(0.02)
        if _reaper_active.is_set():
            reap_orphans()


def pytest_configure(config):
    husktest.become_subreaper()
    threading.Thread(target=_reaper_loop, name="reaper", daemon=True).start()
    config.addinivalue_line("markers", "husk_only: behaviour runc does not have")


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="the integration suite runs as root")
    for item in items:
        if str(item.fspath).startswith(HERE + os.sep):
            item.add_marker(skip)


def spawn(argv, **kw):
    """Popen registered so the reaper thread leaves it alone."""
    with _spawn_lock:
        p = subprocess.Popen(argv, **kw)
        _owned_pids.add(p.pid)
    return p


def host_run(argv, check=True, timeout=60):
    """subprocess.run for host tools, safe from the reaper; returns stdout."""
    p = spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = _finish(p, timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{argv} exited {p.returncode}: {err.decode(errors='replace')}")
    return out.decode(errors="replace")


def host_run_status(argv, timeout=60):
    """Run a host command for its exit status alone (negative: killed by that signal)."""
    p = spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
              stderr=subprocess.DEVNULL)
    try:
        return p.wait(timeout=timeout)
    finally:
        _owned_pids.discard(p.pid)


def _finish(p, timeout, input=None):
    try:
        out, err = p.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        # a container may still hold the pipes open: do not read them
        raise AssertionError(f"{p.args} timed out after {timeout}s")
    finally:
        _owned_pids.discard(p.pid)
    return out, err


# ---------------------------------------------------------------------------
# Root filesystem: busybox + probe, built once per session.
# ---------------------------------------------------------------------------
PASSWD = """root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
"""
GROUP = """root:x:0:
tty:x:5:
users:x:100:
user:x:1000:
nogroup:x:65534:
"""


# Bump when _build_rootfs changes so cached images are rebuilt.
IMAGE_VERSION = "2"


def _build_rootfs(dest):
    tmp = f"{dest}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root",
              "home/user", "mnt", "run", "var"):
        os.makedirs(os.path.join(tmp, d))
    os.chmod(os.path.join(tmp, "tmp"), 0o1777)
    shutil.copy2("/bin/busybox", os.path.join(tmp, "bin", "busybox"))
    # like `busybox --install -s`, but relative links: /bin is a link to
    # /usr/bin on the host, so --install would point them at /usr/bin/busybox
    applets = host_run(["/bin/busybox", "--list"]).split()
    for a in applets:
        if a != "busybox":
            os.symlink("busybox", os.path.join(tmp, "bin", a))
    with open(os.path.join(tmp, "etc", "passwd"), "w") as f:
        f.write(PASSWD)
    with open(os.path.join(tmp, "etc", "group"), "w") as f:
        f.write(GROUP)
    os.chown(os.path.join(tmp, "home", "user"), 1000, 1000)
    os.rename(tmp, dest)


@pytest.fixture(scope="session")
def rootfs_image():
    """Path of the shared, read-only-by-convention rootfs image."""
    if not os.path.exists(PROBE):
        pytest.exit(f"probe binary {PROBE} missing: build it (ninja -C build)", 2)
    cache = os.path.join(HERE, ".rootfs")
    image = os.path.join(cache, "busybox")
    stamp = os.path.join(image, ".itest-image")
    try:
        with open(stamp) as f:
            fresh = f.read() == IMAGE_VERSION
    except OSError:
        fresh = False
    if not fresh:
        os.makedirs(cache, exist_ok=True)
        shutil.rmtree(image, ignore_errors=True)
        _build_rootfs(image)
        with open(stamp, "w") as f:
            f.write(IMAGE_VERSION)
    shutil.copy2(PROBE, os.path.join(image, "bin", "probe"))
    return image


# ---------------------------------------------------------------------------
# Bundles
# ---------------------------------------------------------------------------
DEFAULT_CAPS = husktest.DEFAULT_CAPS


def default_config():
    """A config shaped like `runc spec`'s, without a terminal."""
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": ["/bin/true"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: list(DEFAULT_CAPS)
                             for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "itest",
        "mounts": husktest.default_mounts(["gid=5"]),
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": list(husktest.MASKED_PATHS),
            "readonlyPaths": list(husktest.READONLY_PATHS),
        },
    }


class Bundle:
    """A bundle directory; edit .config, it is written before each use."""

    def __init__(self, path, image):
        self.path = path
        self.rootfs = os.path.join(path, "rootfs")
        self.marker = uuid.uuid4().hex
        self.config = default_config()
        self.write_config = True
        os.makedirs(path)
        host_run(["cp", "-a", image, self.rootfs])

    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config["linux"]

    def set_args(self, *args):
        self.process["args"] = list(args)

    def write(self):
        if not self.write_config:
            return
        cfg = copy.deepcopy(self.config)
        env = cfg.get("process", {}).get("env") if isinstance(cfg.get("process"), dict) else None
        if isinstance(env, list):
            # lets the leak check find this bundle's processes
            env.append(f"HUSK_ITEST_MARK={self.marker}")
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)


def _can_idmap(path):
    """True when the kernel idmaps a mount of path's filesystem: what husk's
    default spec (a user namespace, an idmapped rootfs) needs of the place
    bundles live. tmpfs can be idmapped from Linux 6.3 only. The probe
    clones path's mount detached (open_tree) and idmaps the clone with a
    fresh user namespace's fd (mount_setattr): nothing is attached, and
    closing the fd drops the clone. Needs root (the maps), as the suite."""
    import ctypes
    import struct
    libc = ctypes.CDLL(None, use_errno=True)
    sys_open_tree, sys_mount_setattr = 428, 442  # the same on every arch
    open_tree_clone, at_empty_path, mount_attr_idmap = 1, 0x1000, 0x00100000
    # a process in a user namespace of its own, until its stdin closes
    holder = spawn(["unshare", "--user", "cat"], stdin=subprocess.PIPE,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        userns = None
        for _ in range(500):  # once it has unshared, its namespace differs
            ns = os.readlink(f"/proc/{holder.pid}/ns/user")
            if ns != os.readlink("/proc/self/ns/user"):
                # the kernel idmaps only with a namespace that has maps
                for m in ("uid_map", "gid_map"):
                    with open(f"/proc/{holder.pid}/{m}", "w") as f:
                        f.write("0 100000 1")
                userns = os.open(f"/proc/{holder.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
                break
            time.sleep(0.002)
        if userns is None:
            return False
        tree = libc.syscall(sys_open_tree, -100, path.encode(), open_tree_clone | 0o2000000)
        if tree < 0:
            os.close(userns)
            return False
        attr = struct.pack("QQQQ", mount_attr_idmap, 0, 0, userns)
        ok = libc.syscall(sys_mount_setattr, tree, b"", at_empty_path, attr, len(attr)) == 0
        os.close(tree)
        os.close(userns)
        return ok
    finally:
        _finish(holder, 10)


def _runs_binaries(path):
    """Devices and setuid binaries work in a rootfs there (a tmpfs /dev/shm
    is often nodev,nosuid, as systemd mounts it)."""
    return not os.statvfs(path).f_flag & (os.ST_NODEV | os.ST_NOSUID | os.ST_NOEXEC)


_bundle_base = []


def _bundle_base_dir():
    """Where bundles go: HUSK_ITEST_BUNDLE_DIR, else a RAM-backed /dev/shm
    where the kernel can idmap it and it lets devices and setuid binaries
    work (copying the image onto a disk costs ~0.3 s a test, into RAM a few
    milliseconds), else /var/tmp on the root filesystem, else pytest's own
    temporary directory (None)."""
    if not _bundle_base:
        chosen = os.environ.get("HUSK_ITEST_BUNDLE_DIR") or None
        for d in ([] if chosen else ["/dev/shm", "/var/tmp"]):
            try:
                usable = os.access(d, os.W_OK) and _runs_binaries(d) and _can_idmap(d)
            except OSError:  # not there, or not root
                usable = False
            if usable:
                chosen = d
                break
        _bundle_base.append(chosen)
    return _bundle_base[0]


def _bundle_parent(tmp_path):
    base = _bundle_base_dir()
    if base:
        import tempfile
        parent = tempfile.mkdtemp(prefix="husk-itest-", dir=base)
    else:
        parent = str(tmp_path / "bundles")
        os.mkdir(parent)
    # a user-namespaced container's root must be able to reach its rootfs
    os.chmod(parent, 0o755)
    return parent, base is not None


@pytest.fixture
def make_bundle(tmp_path, rootfs_image, runtime):
    parent, remove = _bundle_parent(tmp_path)
    counter = [0]

    def make():
        counter[0] += 1
        b = Bundle(os.path.join(parent, f"bundle{counter[0]}"), rootfs_image)
        runtime.bundles.append(b)
        return b

    yield make
    # never recurse into a mount a faulty runtime left here (it could be a
    # bind of a host directory): the leak check reports it instead
    real = os.path.realpath(parent)
    if remove and not any(mp.startswith(real + "/") for mp in mount_points()):
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def bundle(make_bundle):
    return make_bundle()


# ---------------------------------------------------------------------------
# The runtime wrapper
# ---------------------------------------------------------------------------
class Result:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def check(self):
        assert self.rc == 0, f"{' '.join(self.argv)} exited {self.rc}: {self.err}"
        return self

    def fails(self):
        assert self.rc != 0, f"{' '.join(self.argv)} succeeded, expected failure"
        return self

    def json(self):
        return json.loads(self.out)

    def lines(self):
        return [json.loads(line) for line in self.out.splitlines() if line.startswith("{")]

    def __repr__(self):
        return f"Result(rc={self.rc}, out={self.out[-500:]!r}, err={self.err[-1000:]!r})"


class Runtime:
    def __init__(self, root, iodir, user=None):
        self.binary = HUSK
        self.root = root
        self.iodir = iodir
        self.user = user  # (uid, gid) to run the runtime as, for rootless tests
        self.ids = []
        self.bundles = []
        self.pids = {}  # id -> init pid seen in its state

    def new_id(self, tag="c"):
        cid = f"it-{tag}-{uuid.uuid4().hex[:12]}"
        self.ids.append(cid)
        return cid

    def argv(self, *args, global_args=()):
        return [self.binary, "--root", self.root, *global_args, *args]

    def cmd(self, *args, global_args=(), input=None, timeout=30, env=None, pass_fds=()):
        """Run the runtime with pipes; for commands whose stdio no container keeps."""
        return self.finish(self.cmd_bg(*args, global_args=global_args, input=input, env=env,
                                       pass_fds=pass_fds), timeout=timeout, input=input)

    def cmd_bg(self, *args, global_args=(), input=None, env=None, pass_fds=()):
        """Start the runtime without waiting; finish() collects it."""
        argv = self.argv(*args, global_args=global_args)
        preexec = None
        if isinstance(pass_fds, dict):
            # {number in the child: fd here}
            fd_map = dict(pass_fds)

            def preexec():
                for target, source in fd_map.items():
                    os.dup2(source, target)
                    os.set_inheritable(target, True)

            pass_fds = tuple(fd_map)
        return spawn(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=pass_fds,
                     **self._identity(env, preexec))

    def _identity(self, env=None, preexec=None):
        """Popen arguments that drop to self.user (after `preexec`)."""
        if not self.user:
            return {"env": env, "preexec_fn": preexec}
        uid, gid = self.user

        def drop():
            if preexec:
                preexec()
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)

        env = dict(env or {"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        env.setdefault("XDG_RUNTIME_DIR", self.root)
        env.setdefault("HOME", self.root)
        return {"env": env, "preexec_fn": drop}

    def finish(self, p, timeout=30, input=None):
        out, err = _finish(p, timeout, input.encode() if isinstance(input, str) else input)
        return Result(p.args, p.returncode, out.decode(errors="replace"),
                      err.decode(errors="replace"))

    def cmd_files(self, cid, *args, global_args=(), timeout=30):
        """Run with stdout/stderr in files: the container inherits them and
        may outlive the runtime (create, run -d)."""
        return self.finish_files(self.cmd_files_bg(cid, *args, global_args=global_args),
                                 timeout=timeout)

    def cmd_files_bg(self, cid, *args, global_args=(), tag="", cwd=None, umask=None):
        argv = self.argv(*args, global_args=global_args)
        out_path, err_path = self.out_path(cid + tag), self.err_path(cid + tag)
        preexec = (lambda: os.umask(umask)) if umask is not None else None
        with open(out_path, "ab") as out, open(err_path, "ab") as err:
            # The offsets before the spawn: the child shares these open files,
            # and one that fails fast has written (moving them) before
            # spawn returns.
            io = (out_path, out.tell(), err_path, err.tell())
            p = spawn(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd,
                      **self._identity(preexec=preexec))
            p.io = io
        return p

    def finish_files(self, p, timeout=30):
        _finish(p, timeout)
        out_path, start_out, err_path, start_err = p.io
        with open(out_path, "rb") as f:
            f.seek(start_out)
            o = f.read().decode(errors="replace")
        with open(err_path, "rb") as f:
            f.seek(start_err)
            e = f.read().decode(errors="replace")
        return Result(p.args, p.returncode, o, e)

    def out_path(self, cid):
        return os.path.join(self.iodir, f"{cid}.out")

    def err_path(self, cid):
        return os.path.join(self.iodir, f"{cid}.err")

    def output(self, cid):
        try:
            with open(self.out_path(cid)) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # -- commands ---------------------------------------------------------
    def run(self, bundle, cid=None, *extra, detach=False, timeout=30, global_args=(),
            input=None, pass_fds=()):
        """`run`: foreground returns the container's exit code as rc."""
        cid = self.new_id() if cid is None else cid
        bundle.write()
        args = ["run", "--bundle", bundle.path, *extra]
        if detach:
            args.append("--detach")
            r = self.cmd_files(cid, *args, cid, timeout=timeout, global_args=global_args)
        else:
            r = self.cmd(*args, cid, timeout=timeout, global_args=global_args, input=input,
                         pass_fds=pass_fds)
        r.cid = cid
        return r

    def run_bg(self, bundle, cid=None, *extra):
        """Foreground `run` left running; returns (id, Popen) for finish()."""
        cid = self.new_id() if cid is None else cid
        bundle.write()
        return cid, self.cmd_bg("run", "--bundle", bundle.path, *extra, cid)

    def create(self, bundle, cid=None, *extra, pid_file=None, global_args=(), timeout=30):
        cid = self.new_id() if cid is None else cid
        bundle.write()
        args = ["create", "--bundle", bundle.path, *extra]
        if pid_file:
            args += ["--pid-file", pid_file]
        r = self.cmd_files(cid, *args, cid, global_args=global_args, timeout=timeout)
        r.cid = cid
        return r

    def start(self, cid):
        return self.cmd("start", cid)

    def state_raw(self, cid):
        return self.cmd("state", cid)

    def state(self, cid):
        r = self.state_raw(cid).check()
        st = json.loads(r.out)
        if st.get("pid"):
            self.pids[cid] = st["pid"]
        return st

    def kill(self, cid, sig=None, all=False):
        args = ["kill"] + (["--all"] if all else []) + [cid] + ([str(sig)] if sig else [])
        return self.cmd(*args)

    def delete(self, cid, force=False):
        return self.cmd("delete", *(["--force"] if force else []), cid)

    def list(self, fmt=None, quiet=False):
        args = ["list"]
        if fmt:
            args += ["--format", fmt]
        if quiet:
            args.append("--quiet")
        return self.cmd(*args)

    # -- helpers ----------------------------------------------------------
    def wait_status(self, cid, status, timeout=10):
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            r = self.state_raw(cid)
            if r.rc == 0:
                st = json.loads(r.out)
                if st["status"] == status:
                    return st
            time.sleep(0.01)
        raise AssertionError(f"{cid} did not reach {status!r}; last state {st}")

    def wait_output(self, cid, text, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.output(cid)
            if text in out:
                return out
            time.sleep(0.01)
        raise AssertionError(f"{cid} never printed {text!r}; output {self.output(cid)!r}")

    def probe(self, bundle, *args, cid=None):
        """Run /bin/probe ARGS in the foreground; one dict per probe command."""
        bundle.set_args("/bin/probe", *args)
        r = self.run(bundle, cid)
        assert r.rc == 0, f"probe {' '.join(args)} failed: {r}"
        out = r.lines()
        return out[0] if len(out) == 1 else out

    def start_detached(self, bundle, *args, cid=None):
        """create + start a container running ARGS; returns its id and pid."""
        if args:
            bundle.set_args(*args)
        r = self.create(bundle, cid).check()
        self.start(r.cid).check()
        return r.cid, self.state(r.cid)["pid"]

    # -- leak checks ------------------------------------------------------
    def leftovers(self, ids=None, bundles=None):
        """Describe what is left on the host of the given containers."""
        ids = self.ids if ids is None else ids
        bundles = self.bundles if bundles is None else bundles
        found = []
        if os.path.isdir(self.root):
            for e in os.listdir(self.root):
                if any(cid in e for cid in ids):
                    found.append(f"state entry {self.root}/{e}")
        found += [f"cgroup {p}" for p in find_cgroups(ids)]
        prefixes = [os.path.realpath(b.path) for b in bundles]
        for mp in mount_points():
            if any(mp == p or mp.startswith(p + "/") for p in prefixes):
                found.append(f"mount {mp}")
        markers = [b.marker.encode() for b in bundles]
        for pid, environ, cmdline in processes():
            if any(m in environ for m in markers):
                found.append(f"process {pid} {cmdline!r} of a test bundle")
            elif any(cid.encode() in cmdline for cid in ids):
                found.append(f"process {pid} {cmdline!r} naming a test container")
        id_bytes = [cid.encode() for cid in ids]
        for pid, cgroups in process_cgroups():
            # a runtime's own helper before exec (e.g. `runc init`) has neither
            # the marker nor the id in its command line, only its cgroup
            if any(b"/" + i + b"\n" in cgroups or b"/" + i + b"/" in cgroups for i in id_bytes):
                found.append(f"process {pid} in a cgroup of a test container")
        for cid in ids:
            pid = self.pids.get(cid)
            if pid and _proc_state(pid) not in (None, "Z"):
                found.append(f"container init {pid} of {cid} still alive")
        return found

    def assert_nothing_left(self, ids=None, bundles=None, timeout=5):
        deadline = time.monotonic() + timeout
        while True:
            reap_orphans()
            left = self.leftovers(ids, bundles)
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert not left, "left behind: " + "; ".join(left)

    def cleanup(self):
        for cid in self.ids:
            self.cmd("delete", "--force", cid, timeout=20)


def find_cgroups(ids, max_depth=4):
    found = []
    try:
        hierarchies = cgroup_hierarchies()
    except OSError:
        return found
    for base in hierarchies:
        for dirpath, dirnames, _ in os.walk(base):
            depth = dirpath[len(base):].count("/")
            for d in dirnames:
                if any(cid in d for cid in ids):
                    found.append(os.path.join(dirpath, d))
            if depth >= max_depth - 1:
                dirnames[:] = []
    return found


def mount_points():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            yield line.split()[4].encode().decode("unicode_escape")


def processes():
    for pid in husktest.other_pids():
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        yield pid, environ, cmdline


def process_cgroups():
    for pid in husktest.other_pids():
        try:
            with open(f"/proc/{pid}/cgroup", "rb") as f:
                yield pid, f.read()
        except OSError:
            continue


@pytest.fixture
def runtime(tmp_path):
    root = tmp_path / "state"
    iodir = tmp_path / "io"
    iodir.mkdir()
    rt = Runtime(str(root), str(iodir))
    _reaper_active.set()
    try:
        yield rt
        rt.cleanup()
        rt.assert_nothing_left()
    finally:
        reap_orphans()
        _reaper_active.clear()


# Shorter alias used by most tests.
@pytest.fixture
def rt(runtime):
    return runtime


def host_ns_inode(kind, pid="self"):
    return os.stat(f"/proc/{pid}/ns/{kind}").st_ino
