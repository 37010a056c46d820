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

# The vm backend (bench/vm.py): husk-vm against bare QEMU booting the same
# kernel and initramfs, when the guest kernel is there (make vm-kernel).
# BENCH_SECTIONS without "vm" skips it.
case ",${BENCH_SECTIONS:-vm}," in *,vm,*)
	if [ -f "$(dirname "$husk")/vm/vmlinux" ] && [ -f "$(dirname "$husk")/vm/husk-agent.cpio" ]; then
		stamp=$(date -u +%Y-%m-%d-%H%M%SZ)
		/usr/bin/python3 "$here/vm.py" "$husk" --json "$here/results/$stamp-vm-backend.json" |
			tee "$here/results/$stamp-vm-backend.txt" || status=1
	else
		echo "bench: vm section skipped: no guest kernel or agent beside $husk (make vm-kernel)"
	fi
	;;
esac
exit "$status"
