"""Helpers for the husk benchmark: the runtimes under test, the bundle, cgroups,
process reaping and the machine description. Used by bench/driver.py and
bench/profile.py; everything here runs inside the bench's private mount namespace."""
import ctypes
import datetime
import json
import os
import platform
import re
import select
import shutil
import signal
import subprocess
import sys
import time

CGROUP_ROOT = "/sys/fs/cgroup"
UNIFIED = "/sys/fs/cgroup/unified"
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
PR_SET_CHILD_SUBREAPER = 36
MNT_DETACH = 2

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


class RunFailed(Exception):
    pass


def _check(rc, what):
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


# ---------------------------------------------------------------- process plumbing


def become_subreaper():
    """PID 1 of this host does not reap orphans: detached containers and anything a
    runtime leaves behind are re-parented to us instead, and we reap them."""
    _check(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")


def install_signal_handlers():
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    # SIGINT too: a shell starting us in the background would have it ignored.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, interrupt)


def ignore_signals():
    """During cleanup a second Ctrl-C must not leave containers behind."""
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)


_devnull = None


TIMER = [None]  # path of the built bench/timer, set by the driver


def spawn(argv, errfd, stdout=None):
    """Starts argv with stdin (and stdout unless given) on /dev/null and stderr on
    errfd, in its own process group (so Ctrl-C reaches only the driver, which then
    cleans up)."""
    global _devnull
    if _devnull is None:
        _devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    out = _devnull if stdout is None else stdout
    fa = [(os.POSIX_SPAWN_DUP2, _devnull, 0), (os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, errfd, 2)]
    return os.posix_spawn(argv[0], argv, ENV, file_actions=fa, setpgroup=0)


def wait_exit(pid, timeout=30):
    """Waits for a container process to end: reaps it when it is our child (the usual
    case: we are the subreaper), otherwise waits on a pidfd."""
    try:
        os.waitpid(pid, 0)
        return
    except ChildProcessError:
        pass
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        if not select.select([fd], [], [], timeout)[0]:
            raise RunFailed(f"container process {pid} still running after {timeout}s")
    finally:
        os.close(fd)


def reap_all(timeout):
    """Reaps every child; waits up to timeout for those still running."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)


_progress_shown = False


def progress(label, i, n):
    global _progress_shown
    if sys.stderr.isatty():
        sys.stderr.write(f"\r  {label}: {i}/{n}   ")
        sys.stderr.flush()
        _progress_shown = True


def progress_done():
    global _progress_shown
    if _progress_shown:
        sys.stderr.write("\r" + " " * 70 + "\r")
        sys.stderr.flush()
        _progress_shown = False


# ---------------------------------------------------------------- the view and the bundle


def prepare_view(work):
    """Unmounts the cgroup2 hierarchy in OUR mount namespace only (never the host's),
    and mounts a tmpfs for bundles and runtime state, like /run on a usual host."""
    # run.sh (our parent) stays in the host's namespace; unshare exec'd us into a new one.
    if os.readlink("/proc/self/ns/mnt") == os.readlink(f"/proc/{os.getppid()}/ns/mnt"):
        raise SystemExit("driver must run in a private mount namespace (start it with bench/run.sh)")
    if os.path.ismount(UNIFIED):
        _check(libc.umount2(UNIFIED.encode(), MNT_DETACH), f"umount {UNIFIED}")
    if os.path.ismount(UNIFIED):
        raise SystemExit(f"{UNIFIED} is still mounted")
    tmp = os.path.join(work, "t")
    os.makedirs(tmp, exist_ok=True)
    _check(libc.mount(b"tmpfs", tmp.encode(), b"tmpfs", 0, b"mode=755"), f"mount tmpfs on {tmp}")


def build_rootfs(work):
    rootfs = os.path.join(work, "t", "rootfs")
    for d in ("bin", "proc", "dev", "sys", "etc", "tmp", "root"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    shutil.copy2("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    for tool in ("true", "sleep", "sh"):
        os.symlink("busybox", os.path.join(rootfs, "bin", tool))
    with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
    with open(os.path.join(rootfs, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    return rootfs


CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
MASKED = [
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
]
READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def config(rootfs, args, netns, cgroups_path):
    """The one config.json every runtime gets: what `runc spec` writes, with terminal
    false, an absolute root, hostname "bench", our cgroupsPath and no /sys/fs/cgroup
    mount (the floor does not mount it either)."""
    namespaces = [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
    if netns:
        namespaces.insert(1, {"type": "network"})
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: CAPS for k in ("bounding", "effective", "permitted", "ambient")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": rootfs, "readonly": True},
        "hostname": "bench",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "cgroupsPath": cgroups_path,
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": namespaces,
            "maskedPaths": MASKED,
            "readonlyPaths": READONLY,
        },
    }


# ---------------------------------------------------------------- cgroups


def v1_hierarchies():
    """The v1 hierarchies mounted under /sys/fs/cgroup (cpu, memory, ..., systemd)."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mnt = fields[4]
            fstype = fields[fields.index("-") + 1]
            if fstype == "cgroup" and mnt.startswith(CGROUP_ROOT + "/"):
                out.append(mnt)
    return out


def read_int(path, default=0):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def make_cgroup_parent(path):
    """Creates path in every v1 hierarchy; cpuset gets its parent's cpus and mems
    (an empty cpuset cannot hold tasks)."""
    for h in v1_hierarchies():
        cur = h
        for part in path.strip("/").split("/"):
            parent, cur = cur, os.path.join(cur, part)
            if not os.path.isdir(cur):
                os.mkdir(cur)
            if os.path.exists(os.path.join(cur, "cpuset.cpus")):
                for f in ("cpuset.cpus", "cpuset.mems"):
                    with open(os.path.join(cur, f)) as r:
                        if r.read().strip():
                            continue
                    with open(os.path.join(parent, f)) as r, open(os.path.join(cur, f), "w") as w:
                        w.write(r.read())


def remove_cgroups(parent):
    """Removes every cgroup under parent in each v1 hierarchy (killing what is left
    inside), and the plain directories crun writes under the unmounted cgroup2 path."""
    for h in v1_hierarchies():
        top = h + parent
        if not os.path.isdir(top):
            continue
        for _ in range(50):
            for d, _, _ in os.walk(top, topdown=False):
                for pid in open(os.path.join(d, "cgroup.procs")).read().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                reap_all(timeout=0)
                try:
                    os.rmdir(d)
                except OSError:
                    pass
            if not os.path.isdir(top):
                break
            time.sleep(0.1)
        else:
            print(f"cleanup: could not remove {top}", file=sys.stderr)
    stray = UNIFIED + parent
    if not os.path.ismount(UNIFIED) and os.path.isdir(stray):
        shutil.rmtree(stray, ignore_errors=True)


def slab_objects_kb():
    """KiB in live slab objects (active objects x object size, /proc/slabinfo): unlike
    Slab in /proc/meminfo it does not count free room in partly used slab pages, which
    depends on what ran before."""
    total = 0
    with open("/proc/slabinfo") as f:
        for line in f:
            if line.startswith(("slabinfo", "#")):
                continue
            fields = line.split()
            total += int(fields[1]) * int(fields[3])
    return total / 1024


def drop_reclaimable_caches():
    """Frees unused dentries and inodes (echo 2 > drop_caches) so that slab growth starts
    from the same place for every runtime; what is in use stays."""
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("2\n")
    except OSError:
        pass


class KmemTrace:
    """Kernel objects allocated and still live between start() and stop(), from the kmem
    tracepoints (kmalloc/kmem_cache_alloc matched with kfree/kmem_cache_free by address):
    exact, where slab counters blur with per-cpu caches and partly used pages. Every task's
    allocations count (the runtime's, the containers', kernel workers'), except those of the
    pids given (the bench itself)."""

    TRACEFS = "/sys/kernel/tracing"
    EVENTS = ("kmalloc", "kfree", "kmem_cache_alloc", "kmem_cache_free")
    ALLOC = re.compile(r"-(\d+)\s+\[\d+\].*?: (?:kmalloc|kmem_cache_alloc): call_site=\S+ ptr=(\S+)"
                       r".*? bytes_alloc=(\d+)")
    FREE = re.compile(r": (?:kfree|kmem_cache_free): call_site=\S+ ptr=(\S+)")

    def __init__(self, exclude_pids):
        self.exclude = {str(p) for p in exclude_pids}

    @classmethod
    def available(cls):
        """Mounts tracefs in this (private) mount namespace when needed."""
        ev = os.path.join(cls.TRACEFS, "events", "kmem")
        if not os.path.isdir(ev):
            subprocess.run(["mount", "-t", "tracefs", "nodev", cls.TRACEFS], capture_output=True)
        return all(os.path.isdir(os.path.join(ev, e)) for e in cls.EVENTS)

    def _w(self, rel, value):
        with open(os.path.join(self.TRACEFS, rel), "w") as f:
            f.write(value)

    def _events(self, on):
        for e in self.EVENTS:
            self._w(f"events/kmem/{e}/enable", "1" if on else "0")

    def start(self):
        self._w("tracing_on", "0")
        with open(os.path.join(self.TRACEFS, "buffer_size_kb")) as f:
            self.saved_size = f.read().split()[0]
        self._w("buffer_size_kb", "131072")
        self._w("trace", "")
        self._events(True)
        self._w("tracing_on", "1")

    def stop(self):
        """Returns (live bytes, events lost?)."""
        self._w("tracing_on", "0")
        self._events(False)
        live, lost = {}, False
        with open(os.path.join(self.TRACEFS, "trace")) as f:
            for line in f:
                if line.startswith("#"):
                    m = re.search(r"entries-in-buffer/entries-written: (\d+)/(\d+)", line)
                    lost = lost or bool(m and m.group(1) != m.group(2))
                    continue
                m = self.FREE.search(line)
                if m:
                    live.pop(m.group(1), None)
                    continue
                m = self.ALLOC.search(line)
                if m and m.group(1) not in self.exclude:
                    live[m.group(2)] = int(m.group(3))
        self._w("trace", "")
        self._w("buffer_size_kb", self.saved_size)
        return sum(live.values()), lost


def tree_bytes(path):
    """Bytes the files under path take (st_blocks): a runtime's state on its tmpfs."""
    total = 0
    for d, dirs, files in os.walk(path):
        for name in dirs + files:
            try:
                total += os.lstat(os.path.join(d, name)).st_blocks * 512
            except OSError:
                pass
    return total


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":")
            out[k] = int(v.split()[0])
    return out


# ---------------------------------------------------------------- runtimes


class Runtime:
    """One OCI runtime binary, with its own --root, bundles and cgroup parent."""

    def __init__(self, name, path, work, cg_parent):
        self.name, self.path = name, path
        base = os.path.join(work, "t")
        self.rootfs = os.path.join(base, "rootfs")
        self.root = os.path.join(base, "state", name)
        self.bundles = os.path.join(base, "bundles", name)
        self.cg = f"{cg_parent}/{name}"
        self.cg_parent = cg_parent
        # The parent exists before the first container, as the floor's does and as
        # a container manager's (/docker, /kubepods) does: no runtime pays for
        # creating it (runc and crun leave a parent they made; husk removes it).
        make_cgroup_parent(self.cg)
        os.makedirs(self.root, exist_ok=True)
        self.errlog = os.path.join(work, f"{name}.stderr")
        self.errfd = os.open(self.errlog, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        self.live = set()
        self.counter = 0

    def cmd(self, *args):
        return [self.path, "--root", self.root, *args]

    def new_id(self):
        self.counter += 1
        return f"b{self.counter}"

    def bundle(self, slot, cid, args, netns=False, cg=None):
        """Writes bundles/<slot>/config.json for container cid (before any timing)."""
        d = os.path.join(self.bundles, str(slot))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(config(self.rootfs, args, netns, f"{cg or self.cg}/{cid}"), f)
        return d

    def err_tail(self, since):
        with open(self.errlog, "rb") as f:
            f.seek(since)
            return f.read()[-1500:].decode(errors="replace").strip()

    def timed(self, argv, expect=0):
        """Runs argv under bench/timer (a small static C program, so the clocks sit
        right around the command and ru_maxrss is the command's, not Python's)."""
        since = os.fstat(self.errfd).st_size
        r, w = os.pipe()
        try:
            pid = spawn([TIMER[0]] + argv, self.errfd, stdout=w)
        finally:
            os.close(w)
        with os.fdopen(r, "rb") as f:
            line = f.read().decode()
        os.waitpid(pid, 0)
        try:
            code, wall_ns, utime_us, stime_us, maxrss_kb = (int(x) for x in line.split())
        except ValueError:
            raise RunFailed(f"timer failed for {argv}: {self.err_tail(since)}")
        if code != expect:
            cmd = " ".join([os.path.basename(argv[0])] + argv[1:])
            raise RunFailed(f"`{cmd}` exited {code}: {self.err_tail(since)}")
        user, sys_ = utime_us / 1e6, stime_us / 1e6
        return {"wall": wall_ns / 1e9, "cpu": user + sys_, "user": user, "sys": sys_, "maxrss_kb": maxrss_kb}

    def quiet(self, *args):
        """An untimed command whose failure does not matter (cleanup)."""
        pid = spawn(self.cmd(*args), self.errfd)
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0

    def run_true(self, netns):
        cid = self.new_id()
        b = self.bundle(0, cid, ["/bin/true"], netns)
        self.live.add(cid)
        s = self.timed(self.cmd("run", "--bundle", b, cid))
        self.live.discard(cid)
        return s

    def run_checks(self, cid, checks):
        """One `run` of a shell script of checks: the first that fails is the
        exit status (10 + its index), all passing exit 42."""
        script = "".join(f"{c} || exit {10 + i}\n" for i, c in enumerate(checks)) + "exit 42\n"
        b = self.bundle(0, cid, ["/bin/sh", "-c", script])
        self.live.add(cid)
        try:
            self.timed(self.cmd("run", "--bundle", b, cid), expect=42)
        except RunFailed as e:
            m = re.search(r"exited (\d+)", str(e))
            n = int(m.group(1)) - 10 if m else -1
            if 0 <= n < len(checks):
                raise RunFailed(f"the container failed the check `{checks[n]}`") from None
            raise
        self.live.discard(cid)

    def sanity(self):
        """A runtime that exits 0 without doing the whole job would look fast. Check in
        one `run` that the container got what the config asks for, and that its exit
        status comes back; the first failing check is the exit status."""
        cid = self.new_id()
        checks = [
            '[ $$ = 1 ]',  # own pid namespace
            '[ "$(hostname)" = bench ]',
            '! touch /rofile 2>/dev/null',  # read-only root
            '[ -c /dev/null ] && [ -c /dev/urandom ] && [ -L /dev/ptmx ]',
            'grep -q " /dev/pts devpts " /proc/mounts && grep -q " /dev/mqueue mqueue " /proc/mounts',
            'grep -q " /dev/shm tmpfs " /proc/mounts && grep -q " /sys sysfs ro," /proc/mounts',
            '[ ! -s /proc/kcore ] && ! echo 1 2>/dev/null >/proc/sys/kernel/ns_last_pid',  # masked, ro
            'grep -q "^CapEff:.*0000000020000420$" /proc/self/status',
            'grep -q "^NoNewPrivs:.*1$" /proc/self/status',
            '[ "$(ulimit -n)" = 1024 ]',
            f'grep -q ":memory:{self.cg}/{cid}$" /proc/self/cgroup',
        ]
        self.run_checks(cid, checks)

    def create_start(self, cid, b, pidfile):
        self.live.add(cid)
        create = self.timed(self.cmd("create", "--bundle", b, "--pid-file", pidfile, cid))
        with open(pidfile) as f:
            pid = int(f.read().strip())
        start = self.timed(self.cmd("start", cid))
        return create, start, pid

    def lifecycle(self):
        cid = self.new_id()
        b = self.bundle(0, cid, ["/bin/true"])
        create, start, pid = self.create_start(cid, b, os.path.join(b, "pid"))
        wait_exit(pid)
        delete = self.timed(self.cmd("delete", cid))
        self.live.discard(cid)
        return {"create": create, "start": start, "delete": delete}

    def batch(self, n, parallel):
        """n `run /bin/true` containers, at most `parallel` at a time; totals."""
        ids = [self.new_id() for _ in range(n)]
        bundles = [self.bundle(i, cid, ["/bin/true"]) for i, cid in enumerate(ids)]
        since = os.fstat(self.errfd).st_size
        running, user, sys_, failed, nxt = {}, 0.0, 0.0, [], 0
        t0 = time.perf_counter_ns()
        while nxt < n or running:
            while nxt < n and len(running) < parallel and not failed:
                self.live.add(ids[nxt])
                running[spawn(self.cmd("run", "--bundle", bundles[nxt], ids[nxt]), self.errfd)] = ids[nxt]
                nxt += 1
            if not running:
                break
            pid, status, ru = os.wait4(-1, 0)
            cid = running.pop(pid, None)
            if cid is None:
                continue  # an orphan re-parented to us
            user += ru.ru_utime
            sys_ += ru.ru_stime
            if os.waitstatus_to_exitcode(status) != 0:
                failed.append(cid)
            else:
                self.live.discard(cid)
        wall = (time.perf_counter_ns() - t0) / 1e9
        if failed:
            raise RunFailed(f"{len(failed)} of {n} runs failed: {self.err_tail(since)}")
        return {"wall": wall, "cpu": user + sys_, "user": user, "sys": sys_}

    def cgroup_memory(self, cg):
        """Bytes charged to the memory cgroups of the containers under cg, and to cg."""
        top = os.path.join(CGROUP_ROOT, "memory") + cg
        kids = 0
        if os.path.isdir(top):
            for d in os.listdir(top):
                p = os.path.join(top, d)
                if os.path.isdir(p):
                    kids += read_int(os.path.join(p, "memory.usage_in_bytes"))
        return kids, read_int(os.path.join(top, "memory.usage_in_bytes"))

    def detached(self, n):
        """n detached `sleep` containers: start all, measure memory, kill + delete all."""
        cg = f"{self.cg_parent}/{self.name}-detached"
        ids = [self.new_id() for _ in range(n)]
        bundles = [self.bundle(i, cid, ["/bin/sleep", "3600"], cg=cg) for i, cid in enumerate(ids)]
        drop_reclaimable_caches()
        time.sleep(0.2)
        state0 = tree_bytes(self.root)
        m0, obj0 = meminfo(), slab_objects_kb()
        pids, user, sys_ = [], 0.0, 0.0
        t0 = time.perf_counter_ns()
        for i, cid in enumerate(ids):
            create, start, pid = self.create_start(cid, bundles[i], os.path.join(bundles[i], "pid"))
            pids.append(pid)
            user += create["user"] + start["user"]
            sys_ += create["sys"] + start["sys"]
            progress(f"{self.name}: {n} detached containers", i + 1, n)
        start_s = (time.perf_counter_ns() - t0) / 1e9
        time.sleep(1)  # let the containers settle before reading the charge
        kids, parent = self.cgroup_memory(cg)
        m1, obj1 = meminfo(), slab_objects_kb()
        state_bytes = tree_bytes(self.root) - state0
        alive = sum(1 for p in pids if os.path.exists(f"/proc/{p}"))
        if alive != n:
            raise RunFailed(f"only {alive} of {n} detached containers are alive")
        t1 = time.perf_counter_ns()
        self.kill_delete_all(ids, pids)
        cleanup_s = (time.perf_counter_ns() - t1) / 1e9
        return {
            "start_s": start_s, "cleanup_s": cleanup_s, "start_user_s": user, "start_sys_s": sys_,
            "cgroup_bytes": kids, "cgroup_parent_bytes": parent,
            "slab_kb": m1["Slab"] - m0["Slab"], "sunreclaim_kb": m1["SUnreclaim"] - m0["SUnreclaim"],
            "slab_objects_kb": obj1 - obj0, "state_bytes": state_bytes,
            "memavailable_drop_kb": m0["MemAvailable"] - m1["MemAvailable"],
        }

    def kill_delete_all(self, ids, pids):
        """Timed like everything else: kill KILL each, reap each, delete each."""
        for cid in ids:
            self.timed(self.cmd("kill", cid, "KILL"))
        for pid in pids:
            wait_exit(pid)
        for cid in ids:
            self.timed(self.cmd("delete", cid))
            self.live.discard(cid)

    def kmem(self, n, tracer):
        """Live kernel objects per container, traced while n detached `sleep` containers
        are created and started (they are killed and deleted afterwards)."""
        cg = f"{self.cg_parent}/{self.name}-kmem"
        ids = [self.new_id() for _ in range(n)]
        bundles = [self.bundle(i, cid, ["/bin/sleep", "3600"], cg=cg) for i, cid in enumerate(ids)]
        pids = []
        tracer.start()
        try:
            for i, cid in enumerate(ids):
                pids.append(self.create_start(cid, bundles[i], os.path.join(bundles[i], "pid"))[2])
            time.sleep(0.5)  # RCU-deferred frees land
        finally:
            live, lost = tracer.stop()
        self.kill_delete_all(ids, pids)
        if lost:
            raise RunFailed("the trace buffer overflowed")
        return live / n

    def cleanup_all(self):
        """Kills and deletes every container this runtime may still hold."""
        ids = set(self.live)
        if os.path.isdir(self.root):
            ids |= {d for d in os.listdir(self.root) if os.path.isdir(os.path.join(self.root, d))}
        for cid in ids:
            self.quiet("kill", cid, "KILL")
        reap_all(timeout=2)
        for cid in ids:
            self.quiet("delete", "--force", cid)
        self.live.clear()
        reap_all(timeout=2)


class Floor(Runtime):
    """bench/floor.c: the same namespaces and mounts without a runtime around them."""

    def __init__(self, name, path, rootfs, cg_parent, cgroups):
        self.name, self.path, self.rootfs = name, path, rootfs
        self.cg = f"{cg_parent}/{name}" if cgroups else None
        self.errlog = os.path.join(os.path.dirname(os.path.dirname(rootfs)), f"{name}.stderr")
        self.errfd = os.open(self.errlog, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        self.live, self.counter, self.root = set(), 0, None
        if self.cg:
            make_cgroup_parent(self.cg)

    def run_true(self, netns):
        argv = [self.path] + (["-n"] if netns else [])
        if self.cg:
            argv += ["-c", f"{self.cg}/{self.new_id()}"]
        return self.timed(argv + [self.rootfs])

    def cleanup_all(self):
        pass


# ---------------------------------------------------------------- the userns section

# The fixed host range of the variants that spell their mappings out (crun's and
# husk's without husk.userns=auto): below husk's default auto pool (2^30 ..), and
# one block (65536 ids) like the range husk.userns=auto hands out.
USERNS_HOST, USERNS_SIZE = 900_000_000, 65536


def default_spec(husk, work):
    """The config `husk spec` writes (the hardened default, with husk.userns=auto and
    husk.rootfs.idmap=true), read from the husk under test."""
    d = os.path.join(work, "t", "default-spec")
    os.makedirs(d, exist_ok=True)
    r = subprocess.run([husk, "spec", "--bundle", d], capture_output=True, text=True, timeout=30, env=ENV)
    path = os.path.join(d, "config.json")
    if r.returncode != 0 or not os.path.exists(path):
        raise RunFailed(f"`{os.path.basename(husk)} spec` failed: {(r.stderr or r.stdout).strip()[-300:]}")
    with open(path) as f:
        spec = json.load(f)
    shutil.rmtree(d)
    ann = spec.get("annotations") or {}
    if not any(n.get("type") == "user" for n in spec.get("linux", {}).get("namespaces", [])) or \
            ann.get("husk.userns") != "auto" or ann.get("husk.rootfs.idmap") != "true":
        raise RunFailed("its `spec` writes no user namespace with husk.userns=auto and husk.rootfs.idmap=true")
    return spec


def userns_config(base, rootfs, args, cgroups_path, maps, annotations):
    """The default spec, changed only where the bench must: the command, terminal false,
    the rootfs by absolute path, our cgroupsPath, and ociVersion 1.0.2 (crun 1.8.1
    refuses a newer one). maps: the host id where container id 0 starts, or None
    (husk.userns=auto finds one); annotations: the husk ones this variant keeps."""
    c = json.loads(json.dumps(base))
    c["ociVersion"] = "1.0.2"
    c["process"]["terminal"] = False
    c["process"]["args"] = args
    c["root"]["path"] = rootfs
    c["linux"]["cgroupsPath"] = cgroups_path
    c.pop("annotations", None)
    if annotations:
        c["annotations"] = dict(annotations)
    for key in ("uidMappings", "gidMappings"):
        c["linux"].pop(key, None)
        if maps is not None:
            c["linux"][key] = [{"containerID": 0, "hostID": maps, "size": USERNS_SIZE}]
    return c


def chowned_copy(rootfs, dest, host):
    """A copy of rootfs with every owner shifted into the range at host: what a
    runtime without an idmapped rootfs needs (made once, before any timing)."""
    shutil.copytree(rootfs, dest, symlinks=True)
    for d, dirs, files in os.walk(dest):
        for name in [d] + [os.path.join(d, x) for x in dirs + files]:
            st = os.lstat(name)
            os.lchown(name, host + st.st_uid, host + st.st_gid)
    return dest


class UsernsVariant(Runtime):
    """One way of running the user-namespaced default spec: a runtime binary, a
    rootfs (the image as it is, or the chowned copy), fixed maps or
    husk.userns=auto, and whether the rootfs is idmapped (husk.rootfs.idmap)."""

    def __init__(self, name, path, work, cg_parent, base, rootfs, maps, annotations):
        # Its own state root, bundles and cgroup parent (userns-NAME), apart from
        # the other sections' runtimes of the same binary; reported as NAME.
        super().__init__(f"userns-{name}", path, work, cg_parent)
        self.name = name
        self.base, self.rootfs, self.maps, self.annotations = base, rootfs, maps, annotations

    def bundle(self, slot, cid, args, netns=False, cg=None):
        d = os.path.join(self.bundles, str(slot))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(userns_config(self.base, self.rootfs, args, f"{cg or self.cg}/{cid}", self.maps,
                                    self.annotations), f)
        return d

    def sanity(self):
        """Container root is a host range of 65536 ids that is not host root, and the
        rootfs looks owned by that root from inside (idmapped or chowned right)."""
        cid = self.new_id()
        checks = [
            'read a b c </proc/self/uid_map && [ "$a" = 0 ] && [ "$b" != 0 ] && [ "$c" = 65536 ]',
            'read a b c </proc/self/gid_map && [ "$a" = 0 ] && [ "$b" != 0 ] && [ "$c" = 65536 ]',
            '[ "$(busybox stat -c %u:%g /bin/busybox)" = 0:0 ]',
            '! touch /rofile 2>/dev/null',
        ]
        if self.maps is not None:
            checks.append(f'read a b c </proc/self/uid_map && [ "$b" = {self.maps} ]')
        self.run_checks(cid, checks)

    def traced_run(self, log):
        """One `run /bin/true` with --debug and a JSON log: {step: duration_us} of
        the steps husk traces (the first of each name; untimed otherwise)."""
        cid = self.new_id()
        b = self.bundle(0, cid, ["/bin/true"])
        self.live.add(cid)
        self.timed([self.path, "--root", self.root, "--debug", "--log", log, "--log-format", "json",
                    "run", "--bundle", b, cid])
        self.live.discard(cid)
        steps = {}
        with open(log) as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if "step" in e and e["step"] not in steps:
                    steps[e["step"]] = e["duration_us"]
        os.unlink(log)
        return steps

    def leftover_ranges(self):
        """Block files husk.userns=auto left in this state root (none when every
        container released its range at delete)."""
        d = os.path.join(self.root, "@userns")
        return sorted(e for e in os.listdir(d) if e != "lock") if os.path.isdir(d) else []


# ---------------------------------------------------------------- description


def stripped_size(path, work):
    """Size of the binary without symbols and debug info (what a package ships)."""
    out = os.path.join(work, "t", "stripped")
    try:
        subprocess.run(["strip", "-o", out, path], check=True, capture_output=True, timeout=30)
        return os.stat(out).st_size
    except (OSError, subprocess.SubprocessError):
        return os.stat(path).st_size
    finally:
        if os.path.exists(out):
            os.unlink(out)


def linked_libraries(path):
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    libs = []
    for line in out.splitlines():
        name = line.strip().split(" ")[0]
        if name and "=>" in line or name.startswith("/"):
            libs.append(os.path.basename(name))
    return libs


def version(path):
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, env=ENV)
        first = (out.stdout or out.stderr).strip().splitlines()
        return first[0] if first else "(no version output)"
    except (OSError, subprocess.TimeoutExpired):
        return "(unknown)"


def git_commit(path):
    """", commit abc1234" when the binary lies in a git checkout (a husk build)."""
    try:
        out = subprocess.run(["git", "-C", os.path.dirname(os.path.realpath(path)), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return f", commit {out.stdout.strip()}" if out.returncode == 0 and out.stdout.strip() else ""


def machine(runtimes):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    osname = platform.system()
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "mem": f"{meminfo()['MemTotal'] / 1024 / 1024:.1f} GiB RAM",
        "os": osname,
        "load": "load average %.2f %.2f %.2f at the start" % os.getloadavg(),
        "versions": {rt.name: f"{version(rt.path)}{git_commit(rt.path)}  ({os.path.realpath(rt.path)})"
                     for rt in runtimes},
    }


def markdown(m, report):
    host = os.environ.get("BENCH_HOST") or platform.node() or "dev"
    lines = [
        f"# husk benchmark, {m['date']} ({host})",
        "",
        "Produced by `make bench` (bench/run.sh); see bench/README.md for how to read it.",
        "",
        "## Machine",
        "",
        f"- CPUs: {m['nproc']} x {m['cpu']}",
        f"- Kernel: {m['kernel']}, {m['os']}",
        f"- Memory: {m['mem']}",
        f"- Noise: {m['load']} (other work on the machine)",
    ]
    lines += [f"- {name}: {v}" for name, v in m["versions"].items()]
    lines += ["", "## Report", "", "```", *report, "```", ""]
    return "\n".join(lines)

def unused_path(folder, base):
    """A dated report never overwrites an earlier one of the same day."""
    md = os.path.normpath(os.path.join(folder, f"{base}.md"))
    n = 2
    while os.path.exists(md):
        md = os.path.normpath(os.path.join(folder, f"{base}-{n}.md"))
        n += 1
    return md
