#!/bin/sh
# `make check-hosts`: boot the test host (pure cgroup v2, systemd as PID 1),
# run the integration tests that exercise cgroups there against this tree's
# husk, and end with the count line "N passed, M failed, K skipped".
# Usage: tests/hosts/check.sh [BUILD_DIR]   (relative to the tree; default build)
set -u
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
build=${1:-build}
out=${HUSK_TESTHOST_OUT_DIR:-$tree/$build/testhost-out}
tests=${HUSK_TESTHOST_TESTS:-"tests/integration/test_cgroup_cmds.py
tests/integration/test_conformance_cgroups.py tests/integration/test_cgroup_v2view.py
tests/integration/test_lifecycle.py"}
[ -x "$tree/$build/husk" ] || {
	echo "check-hosts: $tree/$build/husk missing: build husk first" >&2
	exit 1
}
# shellcheck disable=SC2086
sh "$here/run.sh" -o "$out" "mkdir -p \$HUSK_TESTHOST_OUT/results
HUSK=\$PWD/$build/husk PROBE=\$PWD/$build/tests/helper/probe \
python3 -m pytest -q -p no:cacheprovider -o junit_suite_name=hosts-v2 \
--junitxml=\$HUSK_TESTHOST_OUT/results/hosts-v2.xml $(echo $tests)"
status=$?
[ -d "$out/results" ] && ls "$out/results"/*.xml >/dev/null 2>&1 || {
	echo "check-hosts: no test results came back from the VM (status $status)" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}
python3 "$tree/scripts/summarize.py" "$out/results" || status=1
exit $status
