#!/bin/sh
# `make check`: every test suite, against the normal build and the
# ASan+UBSan build, then one summary line "N passed, M failed".
set -u
build=$1
asan=$2
out=${HUSK_CHECK_OUT:-$build/check}
rm -rf "$out"
mkdir -p "$out"
py=/usr/bin/python3
status=0

stage() {
	echo "=== $1"
}

# A stage that ran no test still counts: one failed case in the summary.
stage_failed() { # name reason
	printf '<testsuite name="%s" tests="1" failures="1" skipped="0"><testcase name="%s"><failure message="%s"/></testcase></testsuite>\n' \
		"$1" "$1" "$2" >"$out/$1.xml"
}

# The test host (tests/hosts, docs/testhost.md): a Debian 12 VM with systemd
# as PID 1 on pure cgroup v2. Its image is made (or found up to date) in the
# background from the start, so that debootstrap's downloads overlap the
# suites below; its stage waits for it (the image's lock) near the end.
hosts_wanted() { [ -d tests/hosts ] && [ "${HUSK_SKIP_HOSTS:-0}" != 1 ]; }
if hosts_wanted; then
	sh tests/hosts/build-image.sh >"$build/testhost-image.log" 2>&1 &
fi

stage "unit tests"
meson test -C "$build" --print-errorlogs || status=1
cp "$build/meson-logs/testlog.json" "$out/unit.json" 2>/dev/null || true

run_pytest() { # name husk-binary dir [extra pytest args]
	name=$1 bin=$2 dir=$3
	shift 3
	stage "$name"
	HUSK="$(realpath "$bin")" PROBE="$(realpath "$build/tests/helper/probe")" \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99 \
		$py -m pytest -q -p no:cacheprovider --junitxml="$out/$name.xml" "$dir" "$@" || status=1
}

# house rules: clang-format, shellcheck, cppcheck (needs no root, no build)
[ -d tests/lint ] && run_pytest lint "$build/husk" tests/lint
[ -d tests/integration ] && run_pytest integration "$build/husk" tests/integration
[ -d tests/security ] && ls tests/security/test_*.py >/dev/null 2>&1 &&
	run_pytest security "$build/husk" tests/security
# The vm backend under QEMU (TCG here, KVM where the host has it). Its guest
# kernel is built once per machine (about 13 minutes on 2 cores) and cached
# by vm/kernel/build.sh; HUSK_VM_REQUIRED makes a missing kernel a failure
# there instead of a skip.
if [ -d tests/vm ] && [ "${HUSK_SKIP_VM:-0}" != 1 ]; then
	stage "vm guest kernel (cached after the first build)"
	sh vm/kernel/build.sh "$build/vm/vmlinux" || status=1
	HUSK_VM_REQUIRED=1 run_pytest vm "$build/husk" tests/vm
	# The host side again under ASan+UBSan; the sanitizer build makes no
	# (static) agent, so it boots the normal build's guest pieces.
	if [ ! -e "$asan/vm" ]; then ln -s "$(realpath "$build/vm")" "$asan/vm"; fi
	HUSK_VM_REQUIRED=1 run_pytest vm-asan "$asan/husk" tests/vm
fi
[ -d tests/integration ] && run_pytest integration-asan "$asan/husk" tests/integration
[ -d tests/engines ] && ls tests/engines/test_*.py >/dev/null 2>&1 && [ "${HUSK_SKIP_ENGINES:-0}" != 1 ] &&
	run_pytest engines "$build/husk" tests/engines

if hosts_wanted; then
	stage "test host: pure cgroup v2, systemd as PID 1 (Debian 12 VM; image log $build/testhost-image.log)"
	wait
	sh tests/hosts/check.sh "$build" || status=1
	cp "$build/testhost-out/results/hosts-v2.xml" "$out/hosts-v2.xml" 2>/dev/null ||
		stage_failed hosts-v2 "no results came back from the test host: see $build/testhost-out"
fi

# The man pages against the code, then the .deb built, linted, installed
# into a throw-away root and run (tests/package).
[ "${HUSK_SKIP_PACKAGE:-0}" != 1 ] && run_pytest package "$build/husk" tests/package

[ "${HUSK_SKIP_FUZZ:-0}" != 1 ] && stage "fuzz (30 s, if clang has libFuzzer)" &&
	{ sh tests/fuzz/check.sh "$out" 30 || status=1; }

$py scripts/summarize.py "$out" || status=1
exit $status
