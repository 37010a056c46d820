#!/bin/sh
# Build the config.json fuzzer with clang (libFuzzer + ASan + UBSan) and run
# it for N seconds (default 60) on the seed corpus.
#   tests/fuzz/run.sh [SECONDS] [extra libFuzzer args...]
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-60}
[ $# -gt 0 ] && shift
build=${FUZZ_BUILD:-build-fuzz}

# werror off: the fuzz build must not stop on another part's clang-only warning.
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=true -Dbuildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false \
		-Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined' >/dev/null
fi
ninja -C "$build" tests/fuzz/fuzz_config

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# New inputs go to a scratch directory; the checked-in seeds stay as they are.
cp tests/fuzz/corpus/* "$work/"
mkdir -p "$build/fuzz-artifacts"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$build/tests/fuzz/fuzz_config" -max_total_time="$secs" -max_len=16384 \
	-dict=tests/fuzz/config.dict -artifact_prefix="$build/fuzz-artifacts/" \
	-print_final_stats=1 "$@" "$work"
