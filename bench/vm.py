#!/usr/bin/python3
"""The vm backend measured as Firecracker measures itself, beside bare QEMU.

For each run, in turn (husk, bare, husk, bare, ...):

  husk  `husk-vm create` of a busybox bundle; the monitor's vm.json gives the
        CLOCK_MONOTONIC moment the agent's HELLO arrived (the agent sends it
        as its first act once its mounts and channel are up: the fixed point)
        and the moment the container was created in the guest. Then
        `husk-vm run` of `echo`: the time to its first byte of output.
  bare  The very same hypervisor command line husk used (read back from the
        state directory's vmm.argv), started directly from this script with
        its own virtiofsd and agent socket: the time to HELLO, and, driving
        the agent's protocol itself (CREATE, START), to the first output.

husk's overhead is the difference: everything husk does around the VM
(config, state, cgroup, monitor, share set-up, guest config). Memory: the
resident set of the monitor, virtiofsd and QEMU while a container sleeps,
QEMU's split into guest RAM (its memfd, RssShmem) and its own (anon + file).
The linux backend's `run` of the same bundle is timed beside it.

Usage: bench/vm.py HUSK [--runs N] [--json OUT]
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pylib"))
import vmproto  # noqa: E402

VIRTIOFSD = "/usr/lib/qemu/virtiofsd"


def make_bundle(path, args):
    rootfs = os.path.join(path, "rootfs")
    for d in ("bin", "proc", "dev", "sys", "tmp", "run"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    if not os.path.exists(os.path.join(rootfs, "bin", "busybox")):
        shutil.copy2("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
        for applet in ("sh", "echo", "sleep"):
            os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    config = {
        "ociVersion": "1.0.2",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": args,
                    "env": ["PATH=/bin"], "cwd": "/"},
        "root": {"path": "rootfs"},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "mount", "ipc", "uts")]},
    }
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)
    return config


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def first_output_ns(argv, **kw):
    """Start argv; ns until its first byte on stdout; then wait for it."""
    t0 = now_ns()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, **kw)
    first = p.stdout.read(1)
    t1 = now_ns()
    p.stdout.read()
    err = p.stderr.read()
    if p.wait() != 0 or not first:
        raise RuntimeError(f"{argv}: exit {p.returncode}: {err.decode(errors='replace')}")
    return t1 - t0


class Husk:
    def __init__(self, husk, work):
        self.vm = os.path.join(os.path.dirname(husk), "husk-vm")
        self.linux = husk
        self.root = os.path.join(work, "root")
        self.n = 0

    def new_id(self):
        self.n += 1
        return f"bench-vm-{os.getpid()}-{self.n}"

    def cmd(self, *args, binary=None):
        return [binary or self.vm, "--root", self.root, *args]

    def create_to_ready(self, bundle):
        """ns from exec of create to HELLO, and to create's return."""
        cid = self.new_id()
        t0 = now_ns()
        subprocess.run(self.cmd("create", "--bundle", bundle, cid), check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        t1 = now_ns()
        with open(os.path.join(self.root, cid, "vm.json")) as f:
            facts = json.load(f)
        argv = open(os.path.join(self.root, cid, "vmm.argv"), "rb").read().split(b"\0")[:-1]
        subprocess.run(self.cmd("delete", "-f", cid), check=True)
        return facts["monotonic_ns"]["agent_ready"] - t0, t1 - t0, facts, argv

    def run_first_output(self, bundle):
        return first_output_ns(self.cmd("run", "--bundle", bundle, self.new_id()))

    def linux_first_output(self, bundle):
        return first_output_ns(self.cmd("run", "--bundle", bundle, self.new_id(),
                                        binary=self.linux))


class Bare:
    """The hypervisor command line husk used, run directly."""

    def __init__(self, argv, bundle, work):
        self.argv = [a.decode() for a in argv]
        self.bundle = bundle
        self.work = work
        self.agent_fd = next(int(a.split("fd=")[1].split(",")[0]) for a in self.argv
                             if a.startswith("socket,id=agent,fd="))

    def boot(self):
        """Start virtiofsd and QEMU as husk would; return (t0, procs, sock)."""
        d = tempfile.mkdtemp(dir=self.work)
        t0 = now_ns()
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(os.path.join(d, "vfs.sock"))
        lsock.listen(1)
        fs = subprocess.Popen([VIRTIOFSD, f"--fd={lsock.fileno()}", "-o",
                               f"source={self.bundle},cache=auto,sandbox=namespace"],
                              pass_fds=[lsock.fileno()], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        lsock.close()
        ours, theirs = socket.socketpair()
        os.dup2(theirs.fileno(), self.agent_fd, inheritable=True)
        theirs.close()
        qemu = subprocess.Popen(self.argv, cwd=d, pass_fds=[self.agent_fd],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        os.close(self.agent_fd)
        return t0, (qemu, fs), ours, d

    @staticmethod
    def stop(procs, sock, d):
        sock.close()
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(d, ignore_errors=True)

    def to_hello(self):
        t0, procs, sock, d = self.boot()
        try:
            conn = vmproto.Channel(sock)
            conn.expect(vmproto.HELLO, timeout=60)
            return now_ns() - t0, procs
        finally:
            self.stop(procs, sock, d)

    def first_output(self, config):
        t0, procs, sock, d = self.boot()
        try:
            conn = vmproto.Channel(sock)
            conn.expect(vmproto.HELLO, timeout=60)
            guest = json.loads(json.dumps(config))
            guest["root"]["path"] = "/run/husk/share/rootfs"
            conn.send(vmproto.CREATE, 0, {"id": "bare", "config": guest, "terminal": False})
            conn.expect(vmproto.CREATED)
            conn.send(vmproto.START, 0, {})
            while True:
                m = conn.recv(timeout=60)
                if m.type == vmproto.STDOUT and m.payload:
                    return now_ns() - t0
                if m.type in (vmproto.EXIT, vmproto.ERROR):
                    raise RuntimeError(f"bare: {m}")
        finally:
            self.stop(procs, sock, d)


def rss_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                out[k] = int(v.split()[0])
    return out


def descendants(pid):
    kids = []
    for t in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{t}/children") as f:
            kids += [int(c) for c in f.read().split()]
    return kids + [g for k in kids for g in descendants(k)]


def memory(h, bundle):
    cid = h.new_id()
    subprocess.run(h.cmd("run", "-d", "--bundle", bundle, cid), check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        time.sleep(2)
        with open(os.path.join(h.root, cid, "vm.json")) as f:
            facts = json.load(f)
        mon = facts["monitor_pid"]
        qemu = rss_kib(facts["vmm_pid"])
        fs_pids = [facts["virtiofsd_pid"]] + descendants(facts["virtiofsd_pid"])
        fs = sum(rss_kib(p)["VmRSS"] for p in fs_pids)
        # Pages shared between virtiofsd's two processes count twice: an upper bound.
        return {"monitor_kib": rss_kib(mon)["VmRSS"],
                "qemu_own_kib": qemu["RssAnon"] + qemu["RssFile"],
                "qemu_guest_ram_kib": qemu["RssShmem"],
                "virtiofsd_kib": fs,
                "host_overhead_kib": rss_kib(mon)["VmRSS"] + qemu["RssAnon"] + qemu["RssFile"] + fs}
    finally:
        subprocess.run(h.cmd("delete", "-f", cid), check=True)


def med_ms(xs):
    return statistics.median(xs) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("husk")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_VM_RUNS", "10")))
    ap.add_argument("--json")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="husk-bench-vm-")
    try:
        return measure(a, work)
    finally:
        subprocess.run(["umount", "-R", work], stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


def measure(a, work):
    h = Husk(os.path.abspath(a.husk), work)
    echo = os.path.join(work, "echo")
    sleeper = os.path.join(work, "sleep")
    os.makedirs(echo)
    os.makedirs(sleeper)
    config = make_bundle(echo, ["/bin/echo", "hi"])
    make_bundle(sleeper, ["/bin/sleep", "60"])
    # one husk create first: its vmm.argv is what bare replays
    _, _, facts, argv = h.create_to_ready(echo)
    bare = Bare(argv, echo, work)
    r = {k: [] for k in ("husk_ready", "husk_create", "guest_boot", "bare_ready",
                         "husk_first", "bare_first", "linux_first")}
    for _ in range(a.runs):
        ready, create, facts, _ = h.create_to_ready(echo)
        r["husk_ready"].append(ready)
        r["husk_create"].append(create)
        r["guest_boot"].append(facts["guest_boot_ns"])
        t, _ = bare.to_hello()
        r["bare_ready"].append(t)
        r["husk_first"].append(h.run_first_output(echo))
        r["bare_first"].append(bare.first_output(config))
        r["linux_first"].append(h.linux_first_output(echo))
    mem = memory(h, sleeper)
    accel = facts["accel"]
    med = {k: med_ms(v) for k, v in r.items()}
    lines = [
        f"vm backend ({accel.upper()}{': software emulation, no /dev/kvm' if accel == 'tcg' else ''}), "
        f"{a.runs} runs each, husk and bare QEMU in turn, medians",
        f"  create -> agent ready      husk {med['husk_ready']:8.1f} ms   bare QEMU {med['bare_ready']:8.1f} ms"
        f"   husk/bare {med['husk_ready'] / med['bare_ready']:.3f}",
        f"    (guest kernel boot to the agent's HELLO, guest clock: {med['guest_boot']:.1f} ms;"
        f" whole `create` {med['husk_create']:.1f} ms)",
        f"  start -> first output      husk {med['husk_first']:8.1f} ms   bare QEMU {med['bare_first']:8.1f} ms"
        f"   husk/bare {med['husk_first'] / med['bare_first']:.3f}   (husk-vm run echo)",
        f"  linux backend, same bundle  husk run {med['linux_first']:8.1f} ms to first output",
        f"  host memory of a sleeping container: monitor {mem['monitor_kib']} KiB, QEMU own"
        f" {mem['qemu_own_kib']} KiB (+ guest RAM touched {mem['qemu_guest_ram_kib']} KiB),"
        f" virtiofsd {mem['virtiofsd_kib']} KiB; overhead excluding guest RAM"
        f" {mem['host_overhead_kib'] / 1024:.1f} MiB",
    ]
    print("\n".join(lines))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"samples_ns": r, "median_ms": med, "memory": mem, "accel": accel,
                       "runs": a.runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
