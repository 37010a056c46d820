"""A/B of two husk builds: `run /bin/true` taking turns (A B, B A, ...), in the same
private namespace and cgroup view as run.sh. Started by bench/ab.sh. Prints the
medians of wall and cpu for each and the ratio B/A (< 1: B is faster)."""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--timer", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args()
    bl.TIMER[0] = args.timer
    bl.become_subreaper()
    bl.install_signal_handlers()
    bl.prepare_view(args.work)
    bl.build_rootfs(args.work)
    parent = f"/husk-bench-{os.getpid()}"
    bl.make_cgroup_parent(parent)
    rts = [bl.Runtime("a", args.a, args.work, parent), bl.Runtime("b", args.b, args.work, parent)]
    samples = {rt.name: [] for rt in rts}
    try:
        for i in range(args.runs):
            for rt in rts if i % 2 == 0 else rts[::-1]:
                samples[rt.name].append(rt.run_true(False))
    finally:
        bl.ignore_signals()
        for rt in rts:
            rt.cleanup_all()
        bl.reap_all(timeout=5)
        bl.remove_cgroups(parent)
    med = {n: {k: statistics.median(s[k] for s in v) * 1e3 for k in ("wall", "cpu", "sys")}
           for n, v in samples.items()}
    for n in ("a", "b"):
        print(f"  {n}  wall {med[n]['wall']:6.2f} ms  cpu {med[n]['cpu']:6.2f} ms  sys {med[n]['sys']:6.2f} ms"
              f"  ({args.a if n == 'a' else args.b})")
    print("  b/a  " + "  ".join(f"{k} {med['b'][k] / med['a'][k]:.3f}x" for k in ("wall", "cpu")))


if __name__ == "__main__":
    sys.exit(main())
