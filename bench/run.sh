#!/bin/sh
# husk benchmark suite: husk against crun and runc (and a C floor) on one bundle.
# Usage: sh bench/run.sh /abs/path/to/husk      (make bench does this)
# Knobs (environment): BENCH_RUNS BENCH_LIFECYCLE_RUNS BENCH_SEQ BENCH_REPS
# BENCH_PARALLEL BENCH_DETACHED BENCH_DETACHED_ROUNDS BENCH_SECTIONS BENCH_HOST,
# and BENCH_DOCS (where the dated markdown copy goes; empty to skip).
# See bench/README.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bench_prepare "${1:-}"

# One private mount namespace for every runtime alike: the driver unmounts
# /sys/fs/cgroup/unified there (never on the host) before anything runs.
status=0
unshare -m --propagation private /usr/bin/python3 "$here/driver.py" \
	--husk "$husk" --floor "$work/floor" --timer "$work/timer" --work "$work" \
	--results "$here/results" --docs "${BENCH_DOCS-$here/../docs/benchmarks}" || status=$?
exit "$status"
