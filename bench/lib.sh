# shellcheck shell=sh
# Shared by bench/run.sh and bench/profile.sh (sourced, POSIX sh).
# bench_prepare HUSK [TOOL...]: checks the host, the argument and the tools,
# makes $work with the floor and timer binaries built (from $here), and sets
# $husk to an absolute path.
bench_prepare() {
	: "${here:?set here to the bench directory before sourcing lib.sh}"
	husk=${1:-}
	shift || true
	if [ -z "$husk" ]; then
		echo "usage: sh $0 /abs/path/to/husk" >&2
		exit 2
	fi
	case $husk in /*) ;; *) husk=$(command -v "$husk" || echo "$PWD/$husk") ;; esac
	if [ ! -x "$husk" ]; then
		echo "bench: $husk is not an executable" >&2
		exit 2
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "bench: must run as root (namespaces, mounts, cgroups)" >&2
		exit 1
	fi
	for tool in unshare cc /usr/bin/python3 /bin/busybox "$@"; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "bench: $tool is missing (HUSK_BENCH_DEPS=1 sh scripts/deps.sh installs it)" >&2
			exit 1
		fi
	done
	work=$(mktemp -d /tmp/husk-bench.XXXXXX)
	# The driver cleans containers and cgroups itself (also on Ctrl-C); its tmpfs
	# and mounts vanish with its mount namespace. Only the directory is left here.
	trap 'rm -rf "$work"' EXIT
	trap 'echo "bench: interrupted" >&2' INT TERM
	cc -O2 -Wall -Wextra -o "$work/floor" "$here/floor.c"
	# Static if the C library allows it: a small parent keeps ru_maxrss honest.
	cc -O2 -static -Wall -Wextra -o "$work/timer" "$here/timer.c" 2>/dev/null ||
		cc -O2 -Wall -Wextra -o "$work/timer" "$here/timer.c"
}
