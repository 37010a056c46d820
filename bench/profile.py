#!/usr/bin/python3
"""Profiles one `run` of /bin/true: husk side by side with crun (and the floor).

- strace -f -c: syscall counts, system time and latency (-w) per syscall, for the
  whole process tree of each runtime, side by side.
- valgrind --tool=callgrind: instructions executed in user space by the runtime's
  processes (the container's /bin/true is skipped), and the top functions.

Started by bench/profile.sh in the same kind of private mount namespace as the bench.
"""
import argparse
import fcntl
import json
import glob
import os
import shutil
import platform
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

TOP = int(os.environ.get("PROFILE_TOP", "15"))
MEMFD_SEALS = 0x1 | 0x2 | 0x4 | 0x8  # F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE
F_ADD_SEALS = 1033


def sealed_copy(path):
    """An inheritable, sealed memfd holding a copy of the binary at path."""
    fd = os.memfd_create(os.path.basename(path), os.MFD_ALLOW_SEALING)
    with open(path, "rb") as f:
        os.write(fd, f.read())
    fcntl.fcntl(fd, F_ADD_SEALS, MEMFD_SEALS)
    os.set_inheritable(fd, True)
    return fd


class Profiler:
    def __init__(self, args):
        self.args = args
        self.work = args.work
        self.out_dir = os.path.join(args.work, "t", "profile")
        self.cg_parent = f"/husk-bench-{os.getpid()}"
        self.lines = []

    def out(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def setup(self):
        bl.become_subreaper()
        bl.prepare_view(self.work)
        self.rootfs = bl.build_rootfs(self.work)
        os.makedirs(self.out_dir, exist_ok=True)
        self.runtimes = [bl.Runtime("husk", self.args.husk, self.work, self.cg_parent)]
        crun = subprocess.run(["sh", "-c", "command -v crun"], capture_output=True, text=True).stdout.strip()
        if crun:
            self.runtimes.append(bl.Runtime("crun", crun, self.work, self.cg_parent))
        self.floor = bl.Floor("floor", self.args.floor, self.rootfs, self.cg_parent, cgroups=True)

    def command(self, rt, rlimits=True):
        """The argv of one `run /bin/true` (a fresh container id and bundle)."""
        if isinstance(rt, bl.Floor):
            return [rt.path, "-c", f"{rt.cg}/{rt.new_id()}", rt.rootfs]
        cid = rt.new_id()
        b = rt.bundle(0, cid, ["/bin/true"])
        if not rlimits:
            path = os.path.join(b, "config.json")
            with open(path) as f:
                cfg = json.load(f)
            del cfg["process"]["rlimits"]
            with open(path, "w") as f:
                json.dump(cfg, f)
        return rt.cmd("run", "--bundle", b, cid)

    def wrapped(self, rt, prefix, tag, rlimits=True, sealed=False):
        argv = prefix + self.command(rt, rlimits)
        fds = ()
        if sealed:
            # crun 1.8.1 re-executes itself from a sealed memfd at startup, which
            # valgrind 3.19 cannot follow (no execveat). Started from such a memfd
            # already, it skips the copy and the re-exec.
            fd = sealed_copy(argv[len(prefix)])
            argv[len(prefix)] = f"/proc/self/fd/{fd}"
            fds = (fd,)
        try:
            res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=bl.ENV,
                                 pass_fds=fds)
        finally:
            for fd in fds:
                os.close(fd)
        if res.returncode != 0:
            own = [ln for ln in res.stderr.splitlines() if ln.strip() and not ln.startswith("==")]
            why = own[-1] if own else res.stderr.strip()[-300:]
            self.out(f"  {rt.name} ({tag}) exited {res.returncode}: {why}")
            return False
        return True

    # ------------------------------------------------------------ strace

    @staticmethod
    def parse_strace(path):
        """{syscall: (calls, seconds, errors)} from `strace -c -U name,calls,total-time,errors`."""
        out = {}
        with open(path) as f:
            for line in f:
                m = re.match(r"^(\w+)\s+(\d+)\s+([\d.]+)\s*(\d*)\s*$", line)
                if m and m.group(1) != "total":
                    out[m.group(1)] = (int(m.group(2)), float(m.group(3)), int(m.group(4) or 0))
        return out

    def strace(self):
        subjects = self.runtimes + [self.floor]
        counts, latency = {}, {}
        for rt in subjects:
            for mode, store in (("sys", counts), ("wall", latency)):
                path = os.path.join(self.out_dir, f"strace-{rt.name}-{mode}.txt")
                prefix = ["strace", "-f", "-c", "-U", "name,calls,total-time,errors", "-o", path]
                if mode == "wall":
                    prefix.insert(3, "-w")
                if self.wrapped(rt, prefix, f"strace {mode}"):
                    store[rt.name] = self.parse_strace(path)
        names = [rt.name for rt in subjects if rt.name in counts]
        if not names:
            return
        self.out("[strace] one `run /bin/true`, whole process tree (strace -f -c); sorted by husk's")
        self.out("         calls. calls | system time ms (strace -c) | latency ms (strace -c -w)")
        self.out("         strace slows every syscall; compare counts first, times only roughly.")
        ref = names[0]
        every = set()
        for n in names:
            every |= set(counts[n]) | set(latency.get(n, {}))
        # By calls: the counts repeat from run to run, strace's times do not.
        order = sorted(every, key=lambda s: (-counts[ref].get(s, (0, 0, 0))[0], s))
        hdr = f"  {'syscall':<18}" + "".join(f"{n + ' calls':>12}" for n in names)
        hdr += "".join(f"{n + ' sys':>11}" for n in names) + "".join(f"{n + ' lat':>11}" for n in names)
        self.out(hdr)
        for i, s in enumerate(order):
            if i >= max(TOP, 25):
                break
            row = f"  {s:<18}" + "".join(f"{counts[n].get(s, (0, 0, 0))[0]:>12}" for n in names)
            row += "".join(f"{counts[n].get(s, (0, 0, 0))[1] * 1000:>11.2f}" for n in names)
            row += "".join(f"{latency.get(n, {}).get(s, (0, 0, 0))[1] * 1000:>11.2f}" for n in names)
            self.out(row)
        tot = f"  {'TOTAL':<18}" + "".join(f"{sum(v[0] for v in counts[n].values()):>12}" for n in names)
        tot += "".join(f"{sum(v[1] for v in counts[n].values()) * 1000:>11.2f}" for n in names)
        tot += "".join(f"{sum(v[1] for v in latency.get(n, {}).values()) * 1000:>11.2f}" for n in names)
        self.out(tot)
        self.out(f"  (distinct syscalls: " + ", ".join(f"{n} {len(counts[n])}" for n in names) + ")")
        self.out()

    # ------------------------------------------------------------ timeline

    @staticmethod
    def phases(path):
        """Splits an `strace -f -ttt` log of one run into phases, and finds the longest
        gaps between consecutive syscalls (where the time went)."""
        rows = []
        with open(path) as f:
            for line in f:
                parts = line.split(None, 2)
                if len(parts) == 3:
                    rows.append((float(parts[1]), parts[0], parts[2].strip()))
        if not rows:
            return None
        t0, end = rows[0][0], rows[-1][0]
        clone = next((t for t, _, s in rows if s.startswith(("clone(", "clone3(")) and "CLONE_NEW" in s), None)
        execs = [(t, pid) for t, pid, s in rows if s.startswith(("execve(\"/bin/true\"", "execveat("))]
        exec_t, exec_pid = execs[-1] if execs else (None, None)
        exit_t = next((t for t, pid, s in rows if pid == exec_pid and t >= exec_t and "exit" in s), None)
        # strace prints a syscall when it returns (or "unfinished" when another
        # process interleaves). Per process, a gap is the user-space work since its
        # previous syscall plus the duration of the syscall that ends the gap; waits
        # for the other process (recvmsg, poll, wait4, read) show up as gaps too.
        last, gaps = {}, []
        for t, pid, s in rows:
            if pid in last and not s.startswith("+++"):
                gaps.append((t - last[pid], pid, s[:90]))
            last[pid] = t
        gaps.sort(reverse=True)
        ms = lambda a, b: (b - a) * 1000 if a is not None and b is not None else None  # noqa: E731
        return {
            "total": ms(t0, end), "to clone": ms(t0, clone), "clone to exec": ms(clone, exec_t),
            "container": ms(exec_t, exit_t), "after exit": ms(exit_t, end), "gaps": gaps[:5],
        }

    def timeline(self):
        runs = int(os.environ.get("PROFILE_RUNS", "5"))
        self.out(f"[timeline] phases of one `run /bin/true` from `strace -f -ttt` (median of {runs} runs, ms;")
        self.out("           strace slows every syscall several times over, so compare the phases")
        self.out("           between runtimes, not with the bench's wall times)")
        keys = ("total", "to clone", "clone to exec", "container", "after exit")
        self.out(f"  {'':<8}" + "".join(f"{k:>15}" for k in keys))
        gaps = {}
        for rt in self.runtimes + [self.floor]:
            got = []
            for i in range(runs):
                path = os.path.join(self.out_dir, f"timeline-{rt.name}-{i}.txt")
                if self.wrapped(rt, ["strace", "-f", "-ttt", "-o", path], "strace timeline"):
                    ph = self.phases(path)
                    if ph:
                        got.append(ph)
            if not got:
                continue
            cells = ""
            for k in keys:
                vals = sorted(g[k] for g in got if g[k] is not None)
                cells += f"{vals[len(vals) // 2]:>15.2f}" if vals else f"{'-':>15}"
            self.out(f"  {rt.name:<8}{cells}")
            gaps[rt.name] = min(got, key=lambda g: g["total"])["gaps"]
        self.out()
        for name, g in gaps.items():
            self.out(f"  longest gaps between a process's syscall returns, {name} (fastest run), with the")
            self.out("  syscall that ends the gap (its own time plus the user-space work before it):")
            for d, pid, s in g:
                self.out(f"    {d * 1000:7.2f} ms  [{pid}] {s}")
        self.out()

    # ------------------------------------------------------------ callgrind

    @staticmethod
    def callgrind_total(path):
        with open(path) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
        return 0

    def callgrind(self):
        self.out("[callgrind] instructions executed in user space by the runtime's own processes for one")
        self.out("            `run /bin/true` (valgrind --tool=callgrind --trace-children=yes; the")
        self.out("            container's /bin/true is skipped). Kernel work is not counted, nor the")
        self.out("            container-side child after pivot_root (valgrind cannot write its output")
        self.out("            file from inside the container). The bundle has no rlimits here (valgrind")
        self.out("            refuses setrlimit NOFILE), and crun is started from a sealed memfd so that")
        self.out("            it skips its self-copy and re-exec (which valgrind cannot follow).")
        totals, incomplete = {}, set()
        # Not the floor: its pid-1 child cannot write its output file once inside
        # the container, and valgrind then fails it; its work is in the kernel anyway.
        for rt in self.runtimes:
            pattern = os.path.join(self.out_dir, f"callgrind-{rt.name}.%p")
            prefix = ["valgrind", "--tool=callgrind", "--trace-children=yes",
                      "--trace-children-skip=/bin/true,*/busybox", f"--callgrind-out-file={pattern}"]
            # valgrind keeps fds at the top of the range for itself and refuses the
            # container's setrlimit(NOFILE, 1024): the bundle drops rlimits here.
            ok = self.wrapped(rt, prefix, "callgrind", rlimits=False, sealed=rt.name == "crun")
            files = glob.glob(pattern.replace("%p", "*"))
            if not files:
                continue
            if not ok:
                self.out(f"  {rt.name}: INCOMPLETE, the counts below stop where it failed under valgrind")
                incomplete.add(rt.name)
            per_file = sorted(((self.callgrind_total(f), f) for f in files), reverse=True)
            totals[rt.name] = (sum(t for t, _ in per_file), per_file)
        # A forked child's file starts with its parent's counts at the fork (callgrind
        # does not reset them), so the processes are listed, not summed; the largest
        # is the headline figure. An exec starts a fresh count.
        for name, (_, files) in totals.items():
            per = ", ".join(f"{t:,}" for t, _ in files)
            self.out(f"  {name:<6}{files[0][0]:>14,} instructions in its largest process (all: {per})")
        if "husk" in totals and "crun" in totals and totals["crun"][1] and not incomplete:
            self.out(f"  husk/crun: {totals['husk'][1][0][0] / totals['crun'][1][0][0]:.2f}x (largest processes)")
        self.out()
        for name, (total, files) in totals.items():
            if not files:
                continue
            for inclusive in ("no", "yes"):
                kind = "own" if inclusive == "no" else "inclusive (callees counted in)"
                self.out(f"  top {TOP} functions of {name} by {kind} instructions, largest process:")
                res = subprocess.run(
                    ["callgrind_annotate", f"--inclusive={inclusive}", files[0][1]],
                    capture_output=True, text=True,
                )
                self.annotate_top(res.stdout)
                self.out()

    def annotate_top(self, text):
        lines = text.splitlines()
        start = next((i for i, l in enumerate(lines) if l.strip().startswith("Ir") and "file:function" in l), None)
        if start is None:
            self.out("    (callgrind_annotate gave no function table)")
            return
        shown = 0
        for line in lines[start + 2:]:
            if not line.strip():
                if shown:
                    break
                continue
            self.out("    " + line.strip()[:110])
            shown += 1
            if shown >= TOP:
                break

    def cleanup(self):
        for rt in self.runtimes:
            rt.cleanup_all()
        bl.reap_all(timeout=5)
        bl.remove_cgroups(self.cg_parent)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--husk", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--what", default="strace,callgrind")
    ap.add_argument("--docs")
    args = ap.parse_args()
    p = Profiler(args)
    bl.install_signal_handlers()
    try:
        p.setup()
        what = args.what.split(",")
        if "strace" in what:
            p.strace()
            p.timeline()
        if "callgrind" in what:
            p.callgrind()
        os.makedirs(args.results, exist_ok=True)
        keep = os.environ.get("PROFILE_KEEP")
        if keep:
            # The raw strace and callgrind files, for a closer look than the tables.
            shutil.copytree(p.out_dir, keep, dirs_exist_ok=True)
        import datetime

        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d-%H%M%SZ")
        path = os.path.join(args.results, f"profile-{stamp}.txt")
        with open(path, "w") as f:
            f.write("\n".join(p.lines) + "\n")
        print(f"profile: {path}")
        if args.docs:
            host = os.environ.get("BENCH_HOST") or platform.node() or "dev"
            md = bl.unused_path(args.docs, f"{stamp[:10]}-{host}-profile")
            os.makedirs(args.docs, exist_ok=True)
            with open(md, "w") as f:
                f.write(f"# husk profile, {stamp} ({host})\n\nProduced by `sh bench/profile.sh`; "
                        "see bench/README.md.\n\n```\n" + "\n".join(p.lines) + "\n```\n")
            print(f"dated copy: {md}")
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        return 130
    finally:
        bl.ignore_signals()
        p.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
