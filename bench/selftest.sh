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
	n=$((n + $(grep -c 'husk-bench' /proc/self/mountinfo || true)))
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

# The userns section needs husk's own `spec` default (husk.userns=auto, idmapped rootfs):
# with runc standing in, the run above skipped it; run it with a husk that has one.
writes_userns_default() {
	d=$(mktemp -d /tmp/husk-bench-selftest-spec.XXXXXX)
	ok=1
	"$1" spec --bundle "$d" >/dev/null 2>&1 && grep -q '"husk.userns"' "$d/config.json" && ok=0
	rm -rf "$d"
	return "$ok"
}
uh=
for cand in "$rt" "${HUSK:-}" "$here/../build/husk"; do
	if [ -n "$cand" ] && [ -x "$cand" ] && writes_userns_default "$cand"; then
		uh=$(cd "$(dirname "$cand")" && pwd)/$(basename "$cand")
		break
	fi
done
if ! writes_userns_default "$rt"; then
	grep -q "^\[userns\]" "$out" && grep -q "  skipped: .*writes no user namespace" "$out"
	check "the userns section is skipped, saying why, for a runtime without husk's default" $?
fi
if [ -n "$uh" ]; then
	rc=0
	BENCH_SECTIONS=userns sh "$here/run.sh" "$uh" >"$out" 2>&1 || rc=$?
	check "the userns section runs with $uh" "$rc"
	raw=$(sed -n 's/^raw numbers: //p' "$out")
	rc=0
	/usr/bin/python3 - "$raw" <<'PY' || rc=$?
import json, sys
sec = json.load(open(sys.argv[1]))["sections"].get("userns", {})
missing = [n for n in ("husk", "crun", "husk-chown", "husk-maps-idmap") if not sec.get("stats", {}).get(n)]
missing += [f"difference {d}" for d in ("idmap step", "range allocation")
            if not any(k.startswith(d) for k in sec.get("differences", {}))]
missing += [f"traced {s}" for s in ("idmap rootfs", "user namespace range") if s not in sec.get("traced", {})]
if any(sec.get("ranges_left", {"?": ["no record"]}).values()):
    missing.append(f"no range left behind: {sec.get('ranges_left')}")
if missing:
    print("missing:", ", ".join(missing))
    sys.exit(1)
PY
	check "the userns section has all four variants, the differences, the traced steps, no range left" "$rc"
	grep -q "crun 1.8.1" "$out" && grep -q "chowned" "$out"
	check "the userns report says what crun gets" $?
	[ "$(leftovers)" = "$before" ]
	check "nothing left behind after the userns section" $?
else
	echo "ok - # SKIP userns section: no husk with its userns default (pass one, or set HUSK)"
fi

BENCH_SECTIONS=size sh "$here/run.sh" /bin/true >"$out" 2>&1 || true
grep -q "preflight: husk FAILED" "$out"
check "a runtime that does not run the container is left out" $?
[ "$(leftovers)" = "$before" ]
check "still nothing left behind" $?
exit "$fail"
