#!/bin/sh
# `make check-hosts`: boot the test host (pure cgroup v2, systemd as PID 1),
# run the integration tests that exercise cgroups and the systemd driver,
# and Podman with cgroup_manager = "systemd", there against this tree's husk,
# and end with the count line "N passed, M failed, K skipped".
# Usage: tests/hosts/check.sh [BUILD_DIR]   (relative to the tree; default build)
# Environment: HUSK_TESTHOST_TESTS (the pytest files or directories to run),
# HUSK_TESTHOST_LIMIT (seconds before the VM is stopped, default 1500).
set -u
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
build=${1:-build}
out=${HUSK_TESTHOST_OUT_DIR:-$tree/$build/testhost-out}
default_tests="tests/integration/test_cgroup_cmds.py tests/integration/test_conformance_cgroups.py
tests/integration/test_cgroup_v2view.py tests/integration/test_lifecycle.py
tests/integration/test_systemd_cgroup.py tests/integration/test_checkpoint.py
tests/integration/test_cgroup_v2_resources.py tests/hosts/test_podman_systemd.py"
# shellcheck disable=SC2086 # one line, words split: it becomes part of the guest's command line
tests=$(printf '%s ' ${HUSK_TESTHOST_TESTS:-$default_tests})
[ -x "$tree/$build/husk" ] || {
	echo "check-hosts: $tree/$build/husk missing: build husk first" >&2
	exit 1
}
sh "$here/run.sh" -o "$out" -t "${HUSK_TESTHOST_LIMIT:-1500}" "mkdir -p \$HUSK_TESTHOST_OUT/results
HUSK=\$PWD/$build/husk PROBE=\$PWD/$build/tests/helper/probe \
python3 -m pytest -q -p no:cacheprovider -o junit_suite_name=hosts-v2 \
--junitxml=\$HUSK_TESTHOST_OUT/results/hosts-v2.xml $tests"
status=$?
if ! ls "$out/results"/*.xml >/dev/null 2>&1; then
	echo "check-hosts: no test results came back from the VM (status $status)" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
[ -f "$out/boot-retried" ] && echo "check-hosts: $(cat "$out/boot-retried")" >&2
python3 "$tree/scripts/summarize.py" "$out/results" || status=1
exit $status
