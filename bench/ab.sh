#!/bin/sh
# A/B of two husk builds on `run /bin/true`, interleaved (see bench/README.md).
# Usage: sh bench/ab.sh /abs/husk-a /abs/husk-b [runs (100)]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bench_prepare "${1:-}"
a=$husk
bench_prepare_b=${2:?usage: sh bench/ab.sh /abs/husk-a /abs/husk-b [runs]}
unshare -m --propagation private /usr/bin/python3 "$here/ab.py" --a "$a" --b "$bench_prepare_b" \
	--timer "$work/timer" --work "$work" --runs "${3:-100}"
