#!/bin/sh
# Profiles one `run /bin/true` of husk next to crun and the floor:
#   strace -f -c (syscall counts, system time, latency) side by side, and
#   valgrind --tool=callgrind instruction counts with the top functions.
# Usage: sh bench/profile.sh /abs/path/to/husk [strace|callgrind|strace,callgrind]
# PROFILE_TOP sets how many rows to show (default 15). See bench/README.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bench_prepare "${1:-}" strace valgrind callgrind_annotate

status=0
unshare -m --propagation private /usr/bin/python3 "$here/profile.py" \
	--husk "$husk" --floor "$work/floor" --work "$work" --results "$here/results" \
	--what "${2:-strace,callgrind}" || status=$?
exit "$status"
