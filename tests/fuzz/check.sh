#!/bin/sh
# `make check`'s fuzz stage: run the config.json fuzzer for SECONDS (default
# 30) where clang has libFuzzer, and record the outcome in OUT/fuzz.xml, a
# junit file with one test case that scripts/summarize.py counts (skipped
# when there is no libFuzzer). The full output goes to build-fuzz/check.log
# (not OUT: summarize.py reads every file there).
#   tests/fuzz/check.sh OUT [SECONDS]
set -u
mkdir -p "$1"
out=$(cd "$1" && pwd)
secs=${2:-30}
cd "$(dirname "$0")/../.." || exit 1
build=${FUZZ_BUILD:-build-fuzz}
mkdir -p "$build"
log=$(cd "$build" && pwd)/check.log
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT

printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$probe/t.c"
if clang -fsanitize=fuzzer "$probe/t.c" -o "$probe/t" >/dev/null 2>&1; then
	start=$(date +%s)
	sh tests/fuzz/run.sh "$secs" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
else
	echo "clang with libFuzzer not found" >"$log"
	rc=skip
	took=0
fi

/usr/bin/python3 - "$out/fuzz.xml" "$rc" "$took" "$secs" "$log" "$build" <<'PY'
import sys
from xml.sax.saxutils import escape, quoteattr
path, rc, took, secs, log, build = sys.argv[1:]
tail = open(log, errors="replace").read()[-4000:]
name = quoteattr(f"fuzz_config ({secs} s)")
if rc == "skip":
    body, fails, skips = f"<skipped message={quoteattr(tail.strip())}/>", 0, 1
elif rc == "0":
    body, fails, skips = "", 0, 0
else:
    msg = quoteattr(f"exit {rc}: see {log}; crashing inputs in {build}/fuzz-artifacts/")
    body, fails, skips = f"<failure message={msg}>{escape(tail)}</failure>", 1, 0
with open(path, "w") as f:
    f.write(f'<testsuite name="fuzz" tests="1" failures="{fails}" errors="0" '
            f'skipped="{skips}" time="{took}">'
            f'<testcase classname="fuzz" name={name} time="{took}">{body}</testcase>'
            "</testsuite>\n")
PY
echo "fuzz: ${rc} after ${took} s (log: $log)"
[ "$rc" = 0 ] || [ "$rc" = skip ]
