#!/usr/bin/python3
"""Benchmark driver: runs husk, crun and runc in turn on one bundle and reports.

Started by bench/run.sh inside a private mount namespace (unshare -m). It unmounts
/sys/fs/cgroup/unified there (so crun 1.8.1 accepts this hybrid host; every runtime
sees the same cgroup v1-only view), mounts a tmpfs for bundles and state, makes
itself a child subreaper, and cleans up every container and cgroup it created,
also on Ctrl-C. See bench/README.md for what each section measures.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402



def env_int(name, default):
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        sys.exit(f"{name} must be an integer")


# ---------------------------------------------------------------- statistics


def quantile(xs, q):
    """Linear-interpolated quantile of a non-empty list (q in [0, 1])."""
    s = sorted(xs)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summary(xs):
    if not xs:
        return None
    return {"median": statistics.median(xs), "p10": quantile(xs, 0.1), "p90": quantile(xs, 0.9), "n": len(xs)}


def fmt_ms(x, scale=1000):
    return "-" if x is None else f"{x * scale:.2f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


# ---------------------------------------------------------------- the bench


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = args.work
        self.cg_parent = f"/husk-bench-{os.getpid()}"
        self.runtimes = []  # bl.Runtime, in turn order
        self.report = []  # lines of the text report
        self.raw = {"sections": {}}
        self.runs = env_int("BENCH_RUNS", 200)
        self.lifecycle_runs = env_int("BENCH_LIFECYCLE_RUNS", max(self.runs // 2, 1))
        self.seq = env_int("BENCH_SEQ", 100)
        self.reps = env_int("BENCH_REPS", 5)
        self.parallel = env_int("BENCH_PARALLEL", 4)
        self.detached = env_int("BENCH_DETACHED", 200)
        self.detached_rounds = env_int("BENCH_DETACHED_ROUNDS", 3)
        self.kmem_n = env_int("BENCH_KMEM", 20)
        self.sections = os.environ.get("BENCH_SECTIONS", "run,netns,lifecycle,seq,par,detached,userns,kmem,size").split(",")

    def out(self, line=""):
        print(line, flush=True)
        self.report.append(line)

    # ------------------------------------------------------------ setup

    def setup(self):
        bl.become_subreaper()
        bl.TIMER[0] = self.args.timer
        bl.prepare_view(self.work)
        self.rootfs = bl.build_rootfs(self.work)
        self.floor = self.args.floor
        order = [("husk", self.args.husk)]
        for name in ("crun", "runc"):
            path = shutil.which(name)
            if path:
                order.append((name, path))
            else:
                self.out(f"note: {name} is not installed; it is left out")
        for name, path in order:
            self.runtimes.append(bl.Runtime(name, path, self.work, self.cg_parent))
        self.floor_rts = [
            bl.Floor("floor", self.floor, self.rootfs, self.cg_parent, cgroups=True),
            bl.Floor("floor-nocg", self.floor, self.rootfs, self.cg_parent, cgroups=False),
        ]

    def preflight(self):
        """One run of /bin/true per runtime, and for the runtimes a check that the
        container really ran; a runtime that fails is left out."""
        ok = []
        for rt in self.runtimes + self.floor_rts:
            try:
                rt.run_true(netns=False)
                if not isinstance(rt, bl.Floor):
                    rt.sanity()
                ok.append(rt)
            except bl.RunFailed as e:
                self.out(f"preflight: {rt.name} FAILED, left out of the comparison: {e}")
        self.runtimes = [r for r in self.runtimes if r in ok]
        self.floor_rts = [r for r in self.floor_rts if r in ok]
        if not self.runtimes:
            raise SystemExit("no runtime could run /bin/true; nothing to compare")

    # ------------------------------------------------------------ sections

    def interleaved(self, rts, n, fn, label):
        """Calls fn(rt, i) n times per runtime, in rotating order (A B C, B C A, ...),
        and collects the samples per runtime. A runtime that fails leaves the section."""
        samples = {rt.name: [] for rt in rts}
        alive = list(rts)
        for i in range(n):
            k = i % len(alive) if alive else 0
            for rt in alive[k:] + alive[:k]:
                try:
                    samples[rt.name].append(fn(rt, i))
                except bl.RunFailed as e:
                    self.out(f"{label}: {rt.name} failed at run {i}, left out: {e}")
                    rt.cleanup_all()
                    alive = [r for r in alive if r is not rt]
                    samples[rt.name] = []
            if not alive:
                break
            bl.progress(label, i + 1, n)
        bl.progress_done()
        return samples

    def table(self, title, samples, keys=("wall", "cpu", "user", "sys"), floor_names=(), unit="ms", end=True):
        """Prints medians [p10-p90] per runtime, then the husk ratios of the medians."""
        scale = 1000 if unit == "ms" else 1
        w = max([12] + [len(n) + 2 for n in samples])
        self.out(title)
        self.out((f"  {'':<{w}}" + "".join(f"{k + ' ' + unit:<24}" for k in keys)).rstrip())
        stats = {}
        for name, rows in samples.items():
            if not rows:
                continue
            stats[name] = {k: summary([r[k] for r in rows]) for k in keys}
            cells = ""
            for k in keys:
                s = stats[name][k]
                med, lo, hi = (fmt_ms(s[q], scale) for q in ("median", "p10", "p90"))
                cells += f"{med:>8} [{lo}-{hi}]".ljust(24)
            self.out(f"  {name:<{w}}{cells}".rstrip())
        for other in ["crun", "runc", *floor_names]:
            if "husk" in stats and other in stats:
                parts = [
                    f"{k} {fmt_ratio(ratio(stats['husk'][k]['median'], stats[other][k]['median']))}"
                    for k in keys
                ]
                self.out(f"  husk/{other:<12}" + "  ".join(parts))
        if end:
            self.out()
        return stats

    def record(self, key, samples, stats, **extra):
        self.raw["sections"][key] = {"samples": samples, "stats": stats, **extra}

    def section_run(self, netns):
        key = "run_netns" if netns else "run"
        rts = self.runtimes + (self.floor_rts if not netns else self.floor_rts[:1])
        label = f"run /bin/true ({'with' if netns else 'no'} netns)"
        samples = self.interleaved(rts, self.runs, lambda rt, i: rt.run_true(netns=netns), label)
        stats = self.table(
            f"[{key}] `run` of /bin/true, foreground, {'with a' if netns else 'no'} network namespace"
            f" ({self.runs} runs each, interleaved)",
            samples,
            floor_names=[f.name for f in self.floor_rts],
        )
        self.record(key, samples, stats)
        if not netns:
            self.peak_rss = {n: statistics.median(r["maxrss_kb"] for r in rows) for n, rows in samples.items() if rows}

    def section_lifecycle(self):
        samples = self.interleaved(self.runtimes, self.lifecycle_runs, lambda rt, i: rt.lifecycle(), "create/start/delete")
        per_step = {}
        for step in ("create", "start", "delete"):
            per_step[step] = {n: [r[step] for r in rows] for n, rows in samples.items()}
            stats = self.table(
                f"[lifecycle.{step}] `{step}` of a /bin/true container ({self.lifecycle_runs} runs each)",
                per_step[step],
            )
            self.record(f"lifecycle_{step}", per_step[step], stats)

    def section_batch(self, parallel):
        key = "par" if parallel > 1 else "seq"
        label = f"{self.seq} containers, {parallel} at a time"
        samples = self.interleaved(self.runtimes, self.reps, lambda rt, i: rt.batch(self.seq, parallel), label)
        stats = self.table(
            f"[{key}] {self.seq} `run /bin/true` containers, {parallel} at a time: total for the batch"
            f" ({self.reps} batches each; cpu = sum over the batch)",
            samples,
            unit="s",
        )
        self.record(key, samples, stats, containers=self.seq, parallel=parallel)

    def section_detached(self):
        n, rounds = self.detached, self.detached_rounds
        self.out(f"[detached] {n} detached `sleep` containers (create + start each), then kill + delete all")
        self.out(f"  ({rounds} rounds, runtimes one after the other, the order rotated each round so each")
        self.out("   runtime goes first once; unused dentries and inodes dropped before each batch; median of rounds)")
        per_round = {rt.name: [] for rt in self.runtimes}
        alive = list(self.runtimes)
        for r in range(rounds):
            k = r % len(alive) if alive else 0
            for rt in alive[k:] + alive[:k]:
                if rt not in alive:
                    continue
                try:
                    per_round[rt.name].append(rt.detached(n))
                except bl.RunFailed as e:
                    self.out(f"  {rt.name} failed, left out: {e}")
                    rt.cleanup_all()
                    alive = [x for x in alive if x is not rt]
                    per_round[rt.name] = []
                bl.progress_done()
        results = {
            name: {k: statistics.median(r[k] for r in rows) for k in rows[0]}
            for name, rows in per_round.items() if rows
        }
        hdr = f"  {'runtime':<9}{'start all s':>12}{'per ctr ms':>11}{'cleanup s':>10}{'per ctr ms':>11}"
        hdr += f"{'cgroup KiB':>11}{'objects KiB':>12}{'slab KiB':>10}{'sunrecl KiB':>12}{'state KiB':>10}"
        self.out(hdr + "   (memory: per container)")
        for name, r in results.items():
            self.out(
                f"  {name:<9}{r['start_s']:>12.2f}{r['start_s'] / n * 1000:>11.2f}{r['cleanup_s']:>10.2f}"
                f"{r['cleanup_s'] / n * 1000:>11.2f}{r['cgroup_bytes'] / n / 1024:>11.1f}"
                f"{r['slab_objects_kb'] / n:>12.1f}{r['slab_kb'] / n:>10.1f}{r['sunreclaim_kb'] / n:>12.1f}"
                f"{r['state_bytes'] / n / 1024:>10.1f}"
            )
        for other in ("crun", "runc"):
            if "husk" in results and other in results:
                h, o = results["husk"], results[other]
                self.out(
                    f"  husk/{other:<6} start {fmt_ratio(ratio(h['start_s'], o['start_s']))}"
                    f"  cleanup {fmt_ratio(ratio(h['cleanup_s'], o['cleanup_s']))}"
                    f"  cgroup mem {fmt_ratio(ratio(h['cgroup_bytes'], o['cgroup_bytes']))}"
                    f"  objects {fmt_ratio(ratio(h['slab_objects_kb'], o['slab_objects_kb']))}"
                    f"  slab {fmt_ratio(ratio(h['slab_kb'], o['slab_kb']))}"
                    f"  state {fmt_ratio(ratio(h['state_bytes'], o['state_bytes']))}"
                )
        self.out("  (cgroup = memory.usage_in_bytes summed over the containers' v1 memory cgroups, all")
        self.out("   running: what is charged to them, which leaves out kernel objects a runtime makes before")
        self.out("   the process joins its cgroups, such as the namespaces clone creates, for every runtime")
        self.out("   here); objects = growth of live slab objects (/proc/slabinfo), the whole")
        self.out("   kernel-object cost wherever it is charged; slab, sunrecl = growth of Slab and SUnreclaim")
        self.out("   in /proc/meminfo (whole slab pages, so noisier); state = the runtime's state directory")
        self.out("   on its tmpfs. Growth is from before the first create to after the last start.)")
        self.out()
        self.raw["sections"]["detached"] = {"containers": n, "rounds": per_round, "median": results}

    def section_kmem(self):
        n, rounds = self.kmem_n, self.detached_rounds
        if not bl.KmemTrace.available():
            self.out("[kmem] skipped: no kmem tracepoints (tracefs) on this kernel\n")
            return
        self.out(f"[kmem] live kernel objects per container, traced: {n} detached `sleep` containers")
        self.out(f"  ({rounds} rounds, order rotated; kmalloc/kmem_cache_alloc matched with their frees by")
        self.out("   address from the first create to 0.5 s after the last start; every task's allocations but")
        self.out("   the bench's own; median of rounds)")
        tracer = bl.KmemTrace([os.getpid()])
        per_round = {rt.name: [] for rt in self.runtimes}
        for r in range(rounds):
            k = r % len(self.runtimes)
            for rt in self.runtimes[k:] + self.runtimes[:k]:
                try:
                    per_round[rt.name].append(rt.kmem(n, tracer))
                except bl.RunFailed as e:
                    self.out(f"  {rt.name} round {r + 1} left out: {e}")
                    rt.cleanup_all()
                bl.progress(f"kmem: {rt.name}", r + 1, rounds)
                bl.progress_done()
        med = {name: statistics.median(v) for name, v in per_round.items() if v}
        for name, v in med.items():
            spread = ", ".join(f"{x / 1024:.1f}" for x in per_round[name])
            self.out(f"  {name:<9}{v / 1024:>9.1f} KiB   (rounds: {spread})")
        for other in ("crun", "runc"):
            if "husk" in med and other in med:
                self.out(f"  husk/{other:<6}{fmt_ratio(ratio(med['husk'], med[other]))}")
        self.out()
        self.raw["sections"]["kmem"] = {"containers": n, "rounds": per_round, "median_bytes": med}

    def userns_variants(self, base, chowned):
        """The four ways of running the user-namespaced default spec (bench/README.md)."""
        husk, crun = self.args.husk, shutil.which("crun")
        auto = {"husk.userns": "auto", "husk.rootfs.idmap": "true"}
        want = [
            ("husk", husk, self.rootfs, None, auto),
            ("crun", crun, chowned, bl.USERNS_HOST, {}),
            ("husk-chown", husk, chowned, bl.USERNS_HOST, {}),
            ("husk-maps-idmap", husk, self.rootfs, bl.USERNS_HOST, {"husk.rootfs.idmap": "true"}),
        ]
        out = []
        for name, path, rootfs, maps, ann in want:
            if not path:
                self.out(f"  note: {name} is not installed; it is left out")
                continue
            out.append(bl.UsernsVariant(name, path, self.work, self.cg_parent, base,
                                        rootfs, maps, ann))
        return out

    def paired(self, samples, a, b, key):
        """Run-by-run differences a - b (the variants ran in the same rounds)."""
        xs, ys = samples.get(a) or [], samples.get(b) or []
        return [x[key] - y[key] for x, y in zip(xs, ys)]

    def section_userns(self):
        self.out("[userns] `run` of /bin/true with the `husk spec` default: a user namespace, husk.userns=auto,")
        self.out("  husk.rootfs.idmap=true, its seccomp profile, network and cgroup namespaces and /sys/fs/cgroup")
        self.out(f"  mount ({self.runs} runs each, interleaved). Variants, same config otherwise:")
        self.out("    husk             the default: husk takes a 65536-id host range (husk.userns=auto) and")
        self.out("                     idmaps the image as it is (open_tree + mount_setattr MOUNT_ATTR_IDMAP)")
        self.out(f"    crun             explicit uidMappings/gidMappings 0 -> {bl.USERNS_HOST} (65536) and a copy of")
        self.out("                     the image chowned to that range, made once before timing: crun 1.8.1")
        self.out("                     cannot idmap a rootfs (its `idmap` option is for entries of `mounts`")
        self.out("                     only, bind mounts in 1.8.x; the OCI root has no options)")
        self.out("    husk-chown       exactly crun's config: the same maps and the chowned copy, no idmap")
        self.out("    husk-maps-idmap  the same maps, the image as it is, husk.rootfs.idmap=true (no range")
        self.out("                     allocation)")
        try:
            base = bl.default_spec(self.args.husk, self.work)
        except bl.RunFailed as e:
            self.out(f"  skipped: {os.path.basename(self.args.husk)}: {e}\n")
            return
        # crun opens the rootfs from inside the user namespace, as the container's root
        # (a host uid of the range): it must be able to pass through the work directory
        # (mktemp's 0700). husk opens it before, from outside.
        os.chmod(self.work, 0o711)
        chowned = bl.chowned_copy(self.rootfs, os.path.join(self.work, "t", "rootfs-chowned"), bl.USERNS_HOST)
        variants = self.userns_variants(base, chowned)
        self.userns_rts = variants
        ok = []
        for rt in variants:
            try:
                rt.run_true(netns=False)
                rt.sanity()
                ok.append(rt)
            except bl.RunFailed as e:
                self.out(f"  preflight: {rt.name} FAILED, left out: {e}")
                rt.cleanup_all()
        samples = self.interleaved(ok, self.runs, lambda rt, i: rt.run_true(netns=False), "userns")
        stats = self.table("  medians:", samples, end=False)
        for a, b in (("husk-chown", "crun"), ("husk-maps-idmap", "crun")):
            if a in stats and b in stats:
                parts = [f"{k} {fmt_ratio(ratio(stats[a][k]['median'], stats[b][k]['median']))}"
                         for k in ("wall", "cpu")]
                self.out(f"  {a + '/' + b:<22}" + "  ".join(parts))
        diffs = {}
        self.out("  what each step adds, from run-by-run differences of variants that ran in the same round")
        self.out("  (median [p10-p90] ms):")
        for label, a, b in (
            ("idmap step (husk-maps-idmap - husk-chown)", "husk-maps-idmap", "husk-chown"),
            ("range allocation (husk - husk-maps-idmap)", "husk", "husk-maps-idmap"),
            ("both (husk - husk-chown)", "husk", "husk-chown"),
        ):
            d = {k: summary(self.paired(samples, a, b, k)) for k in ("wall", "cpu")}
            if not d["wall"]:
                continue
            diffs[label] = d
            cells = "  ".join(f"{k} {fmt_ms(d[k]['median'])} [{fmt_ms(d[k]['p10'])}-{fmt_ms(d[k]['p90'])}]"
                              for k in ("wall", "cpu"))
            self.out(f"    {label:<44}{cells}")
        traced = self.userns_traced(ok)
        left = {rt.name: rt.leftover_ranges() for rt in ok if rt.path == self.args.husk}
        bad = {n: v for n, v in left.items() if v}
        self.out(f"  ranges left in husk's state roots after the runs: {bad if bad else 'none'}")
        self.out()
        shutil.rmtree(chowned, ignore_errors=True)
        self.record("userns", samples, stats, differences=diffs, traced=traced, ranges_left=left,
                    host_range=[bl.USERNS_HOST, bl.USERNS_SIZE], crun_rootfs="chowned copy")

    def userns_traced(self, variants):
        """The steps' own times from husk's --debug trace (JSON log), over separate,
        untimed runs of the default (--debug itself costs time)."""
        husk = next((rt for rt in variants if rt.name == "husk"), None)
        if husk is None:
            return {}
        log = os.path.join(self.work, "t", "trace.json")
        per_step = {}
        for i in range(self.runs):
            try:
                for step, us in husk.traced_run(log).items():
                    per_step.setdefault(step, []).append(us / 1e6)
            except bl.RunFailed as e:
                self.out(f"  traced runs: husk failed at run {i}, stopped: {e}")
                husk.cleanup_all()
                break
            bl.progress("userns: husk --debug", i + 1, self.runs)
        bl.progress_done()
        steps = ("idmap rootfs", "user namespace range", "prepare", "clone", "create")
        out = {s: summary(per_step[s]) for s in steps if per_step.get(s)}
        n = max((v["n"] for v in out.values()), default=0)
        self.out(f"  husk's own step times, --debug --log-format json ({n} further runs of the default,")
        self.out("  untimed; median [p10-p90] ms; `create` holds `idmap rootfs` and the range):")
        for s, v in out.items():
            self.out(f"    {s:<22}{fmt_ms(v['median']):>8} [{fmt_ms(v['p10'])}-{fmt_ms(v['p90'])}]")
        if "idmap rootfs" not in out:
            self.out("    (no `idmap rootfs` step in the trace: this husk does not trace it on its own)")
        return out

    def section_rss(self):
        if not getattr(self, "peak_rss", None):
            return
        self.out("[rss] peak RSS of the runtime process tree during `run /bin/true` (ru_maxrss, median)")
        for name, kb in self.peak_rss.items():
            self.out(f"  {name:<11}{kb / 1024:>8.2f} MiB")
        for other in ("crun", "runc", "floor"):
            if "husk" in self.peak_rss and other in self.peak_rss:
                self.out(f"  husk/{other:<6}{fmt_ratio(ratio(self.peak_rss['husk'], self.peak_rss[other]))}")
        self.out()
        self.raw["peak_rss_kb"] = self.peak_rss

    def section_size(self):
        self.out("[size] binary size and linked libraries")
        sizes = {}
        for rt in self.runtimes:
            real = os.path.realpath(rt.path)
            size = os.stat(real).st_size
            stripped = bl.stripped_size(real, self.work)
            libs = bl.linked_libraries(real)
            sizes[rt.name] = {"path": real, "bytes": size, "stripped_bytes": stripped, "libs": libs}
            self.out(f"  {rt.name:<6}{size / 1024:>9.0f} KiB  ({stripped / 1024:.0f} KiB stripped)  {real}")
            self.out(f"  {'':<6}{'libs:':>9}  {', '.join(libs) if libs else '(static)'}")
        self.out()
        self.raw["size"] = sizes

    def run_all(self):
        self.setup()
        self.header()
        self.preflight()
        if "run" in self.sections:
            self.section_run(netns=False)
        if "netns" in self.sections:
            self.section_run(netns=True)
        if "lifecycle" in self.sections:
            self.section_lifecycle()
        if "seq" in self.sections:
            self.section_batch(1)
        if "par" in self.sections:
            self.section_batch(self.parallel)
        if "detached" in self.sections:
            self.section_detached()
        if "userns" in self.sections:
            self.section_userns()
        self.section_rss()
        if "kmem" in self.sections:
            self.section_kmem()
        if "size" in self.sections:
            self.section_size()

    def header(self):
        m = bl.machine(self.runtimes)
        self.machine = m
        self.raw["machine"] = m
        self.out(f"husk benchmark  {m['date']}")
        self.out(f"machine: {m['nproc']} cpus, {m['cpu']}, kernel {m['kernel']}, {m['mem']}, {m['os']}")
        self.out(f"         {m['load']}")
        for name, v in m["versions"].items():
            self.out(f"  {name:<6}{v}")
        self.out("setup: every runtime runs in ONE private mount namespace (unshare -m --propagation private)")
        self.out("       in which /sys/fs/cgroup/unified is unmounted, so all of them see the same cgroup v1")
        self.out("       view (crun 1.8.1 refuses the hybrid host otherwise). One busybox bundle, one")
        self.out("       runc-spec-like config.json (terminal false, read-only root, no seccomp, no")
        self.out("       /sys/fs/cgroup mount), cgroupsPath per container, --root per runtime on a tmpfs.")
        self.out(f"runs: BENCH_RUNS={self.runs} BENCH_LIFECYCLE_RUNS={self.lifecycle_runs} BENCH_SEQ={self.seq}"
                 f" BENCH_REPS={self.reps}")
        self.out(f"      BENCH_PARALLEL={self.parallel} BENCH_DETACHED={self.detached}"
                 f" BENCH_DETACHED_ROUNDS={self.detached_rounds}")
        self.out("times: wall = spawn to reap of the runtime command; cpu = user + sys from the rusage of")
        self.out("       the runtime's process tree (wait4), which for `run` includes the container's own")
        self.out("       /bin/true for every runtime alike. The kernel splits cpu into user and sys by tick")
        self.out("       sampling, so for a few-ms command trust cpu more than either part.")
        self.out("cells: median [p10-p90]; ratios are of medians (< 1 means husk is faster / smaller).")
        self.out()

    def cleanup(self):
        for rt in self.runtimes + getattr(self, "floor_rts", []) + getattr(self, "userns_rts", []):
            try:
                rt.cleanup_all()
            except Exception as e:  # keep cleaning the others
                print(f"cleanup {rt.name}: {e}", file=sys.stderr)
        bl.reap_all(timeout=5)
        bl.remove_cgroups(self.cg_parent)
        bl.reap_all(timeout=1)

    def save(self):
        stamp = self.machine["date"].replace(":", "").replace(" ", "-")
        os.makedirs(self.args.results, exist_ok=True)
        txt = os.path.join(self.args.results, f"{stamp}.txt")
        with open(txt, "w") as f:
            f.write("\n".join(self.report) + "\n")
        js = os.path.join(self.args.results, f"{stamp}.json")
        with open(js, "w") as f:
            json.dump(rounded(self.raw), f, indent=1)
        print(f"report: {txt}\nraw numbers: {js}")
        if self.args.docs:
            day = self.machine["date"][:10]
            host = os.environ.get("BENCH_HOST") or platform.node() or "dev"
            os.makedirs(self.args.docs, exist_ok=True)
            md = bl.unused_path(self.args.docs, f"{day}-{host}")
            with open(md, "w") as f:
                f.write(bl.markdown(self.machine, self.report))
            with open(md[:-3] + ".json", "w") as f:
                json.dump(rounded(self.raw), f)
            print(f"dated copy: {md}")


def rounded(obj):
    """Raw numbers to the microsecond (or byte): enough, and half the size."""
    if isinstance(obj, float):
        return round(obj, 6)
    if isinstance(obj, dict):
        return {k: rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [rounded(v) for v in obj]
    return obj


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--husk", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--timer", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--docs")
    args = ap.parse_args()
    bench = Bench(args)
    bl.install_signal_handlers()
    try:
        bench.run_all()
        bench.save()
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        return 130
    finally:
        bl.ignore_signals()
        bench.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
