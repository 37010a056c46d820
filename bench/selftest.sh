#!/bin/sh
# Checks the bench itself, quickly (about a minute): every section produces numbers
# for every runtime, nothing is left behind (containers, cgroups, work dirs), and a
# runtime that exits 0 without running the container is caught by the preflight.
# Usage: sh bench/selftest.sh [/abs/path/to/runtime]   (default: runc standing in for husk)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rt=${1:-$(command -v runc)}
out=$(mktemp /tmp/husk-bench-selftest.XXXXXX)
trap 'rm -f "$out"' EXIT
fail=0
check() {
	if [ "$2" = 0 ]; then echo "ok - $1"; else echo "not ok - $1"; fail=1; fi
}
leftovers() {
	n=$(find /sys/fs/cgroup -maxdepth 2 -name 'husk-bench-*' 2>/dev/null | wc -l)
	n=$((n + $(find /tmp -maxdepth 1 -name 'husk-bench.*' | wc -l)))
	echo "$n"
}
before=$(leftovers)

export BENCH_DOCS="" BENCH_RUNS=3 BENCH_LIFECYCLE_RUNS=2 BENCH_SEQ=3 BENCH_REPS=1 \
	BENCH_DETACHED=3 BENCH_DETACHED_ROUNDS=1 BENCH_KMEM=2
rc=0
sh "$here/run.sh" "$rt" >"$out" 2>&1 || rc=$?
check "bench runs with $rt as husk" "$rc"
raw=$(sed -n 's/^raw numbers: //p' "$out")
rc=0
/usr/bin/python3 - "$raw" <<'PY' || rc=$?
import json, sys
raw = json.load(open(sys.argv[1]))
want = ["husk", "crun", "runc"]
sec = raw["sections"]
missing = []
for key in ("run", "run_netns", "lifecycle_create", "lifecycle_start", "lifecycle_delete", "seq", "par"):
    for name in want:
        if not sec.get(key, {}).get("stats", {}).get(name):
            missing.append(f"{key}/{name}")
for name in want:
    if name not in sec.get("detached", {}).get("median", {}):
        missing.append(f"detached/{name}")
    if "kmem" in sec and name not in sec["kmem"].get("median_bytes", {}):
        missing.append(f"kmem/{name}")
    if name not in raw.get("peak_rss_kb", {}) or name not in raw.get("size", {}):
        missing.append(f"rss-or-size/{name}")
for name in ("floor", "floor-nocg"):
    if not sec["run"]["stats"].get(name):
        missing.append(f"run/{name}")
if missing:
    print("missing:", ", ".join(missing))
    sys.exit(1)
PY
check "every section has numbers for husk, crun, runc and the floor" "$rc"
grep -q "husk/crun " "$out" && grep -q "husk/runc " "$out" && grep -q "husk/floor " "$out"
check "the report prints the husk ratios" $?
grep -q "/sys/fs/cgroup/unified is unmounted" "$out"
check "the report states the cgroup view" $?
[ "$(leftovers)" = "$before" ]
check "no cgroups or work directories left behind" $?

BENCH_SECTIONS=size sh "$here/run.sh" /bin/true >"$out" 2>&1 || true
grep -q "preflight: husk FAILED" "$out"
check "a runtime that does not run the container is left out" $?
[ "$(leftovers)" = "$before" ]
check "still nothing left behind" $?
exit "$fail"
