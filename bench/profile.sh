#!/bin/sh
# Profiles one `run /bin/true` of husk next to crun and the floor:
#   strace -f -c (syscall counts, system time, latency) side by side, and
#   valgrind --tool=callgrind instruction counts with the top functions.
# Usage: sh bench/profile.sh /abs/path/to/husk [strace|callgrind|strace,callgrind]
# PROFILE_TOP (rows, 15), PROFILE_RUNS (timeline runs, 5); BENCH_DOCS as in
# run.sh (dated copy in docs/benchmarks; empty to skip). See bench/README.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bench_prepare "${1:-}" strace valgrind callgrind_annotate

status=0
unshare -m --propagation private /usr/bin/python3 "$here/profile.py" \
	--husk "$husk" --floor "$work/floor" --work "$work" --results "$here/results" \
	--what "${2:-strace,callgrind}" --docs "${BENCH_DOCS-$here/../docs/benchmarks}" || status=$?
exit "$status"
