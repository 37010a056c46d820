#!/bin/sh
# Boot the test host (a Debian 12 VM with systemd on the pure cgroup v2
# hierarchy), run a shell command inside it on a copy of this husk tree, power
# it off and return the command's exit status.
#
#   tests/hosts/run.sh [-o OUTDIR] [-t SECONDS] 'COMMAND'
#
# COMMAND runs as root under /bin/sh in the guest's copy of the tree (build/
# included, .git and build-* left out: build husk on the host first); $HUSK_TESTHOST_OUT is a directory
# shared with the host (OUTDIR, default build/testhost-out) where it may leave
# results. OUTDIR also gets: log (the command's output), rc, console.log (the
# VM's serial console), boot-seconds, test-seconds, system-state.
# Exit status: the command's, 124 when the VM ran past the time limit
# (default 1500 s), 125 when the VM ended without running the command or did
# not boot in HUSK_TESTHOST_BOOT_LIMIT s (default 300) twice. A boot that
# stalls is retried once (the command never is): the first boot's console
# stays as console-stalled.log, and boot-retried says why.
# QEMU is the only process started; it is gone, and nothing is mounted on the
# host, when this script returns.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
out=$tree/build/testhost-out
limit=1500
while getopts o:t: opt; do
	case $opt in
	o) out=$OPTARG ;;
	t) limit=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 1 ] || {
	echo "usage: $0 [-o OUTDIR] [-t SECONDS] 'COMMAND'" >&2
	exit 2
}

t0=$(date +%s)
cache=$(sh "$here/build-image.sh")
t1=$(date +%s)

# OUTDIR is emptied: only one this script made (it has the marker) or a new one
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -f "$out/.testhost-out" ]; then
	echo "testhost: $out is not empty and not an output directory of $0" >&2
	exit 2
fi
rm -rf "$out"
mkdir -p "$out"
: >"$out/.testhost-out"
out=$(cd "$out" && pwd)
printf '%s\n' "$1" >"$out/cmd"
# The tree goes in as a tar archive on a second disk (see
# guest/husk-testhost-start); the output directory is left out of it.
rel_out=$(realpath --relative-to="$tree" "$out")
tar -C "$tree" --exclude=./.git --exclude='./build-*' --exclude=./tests/integration/.rootfs \
	--exclude='__pycache__' --exclude="./$rel_out" -cf "$out/tree.tar" .

# KVM where the host has it (QEMU falls back to TCG, its software
# emulation, if KVM does not open), else TCG.
if [ -w /dev/kvm ] && [ -r /dev/kvm ]; then
	accel="-accel kvm -accel tcg -cpu max"
else
	accel="-accel tcg -cpu max"
fi
cmdline="console=ttyS0 panic=-1 quiet loglevel=4 systemd.show_status=auto"
cmdline="$cmdline systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all"

# One boot: QEMU under `timeout`, watched until the guest says systemd has
# finished booting (boot-seconds, which the runner writes just before the
# command starts). Under TCG on a loaded host a boot now and then stalls in
# the kernel (RCU stall: a vCPU's timer never fires); a boot that has not got
# there in $boot_limit s is stopped (status 2) and the caller boots once more.
# Once the command has started the VM is never restarted: a test must not run
# twice.
boot_limit=${HUSK_TESTHOST_BOOT_LIMIT:-300}
boot() {
	rm -f "$out/unpacked-seconds" "$out/system-state" "$out/boot-seconds"
	# shellcheck disable=SC2086
	timeout --kill-after=10 "$limit" qemu-system-x86_64 \
		-nodefaults -no-user-config -display none -monitor none -no-reboot \
		-machine q35 $accel -smp "${HUSK_TESTHOST_CPUS:-2}" -m "${HUSK_TESTHOST_MEM:-2048}" \
		-kernel "$cache/vmlinux" -initrd "$cache/initrd" -append "$cmdline" \
		-drive "file=$cache/root.img,format=raw,if=virtio,snapshot=on" \
		-drive "file=$out/tree.tar,format=raw,if=virtio,readonly=on" \
		-virtfs "local,path=$out,mount_tag=huskout,security_model=none" \
		-serial "file:$out/console.log" </dev/null >"$out/qemu.log" 2>&1 &
	vm=$!
	started=$(date +%s)
	status=0
	while kill -0 $vm 2>/dev/null; do
		if [ ! -f "$out/boot-seconds" ] && [ $(($(date +%s) - started)) -ge "$boot_limit" ]; then
			echo "testhost: the VM has not booted after $boot_limit s" \
				"($(stage)), stopping it" >&2
			kill $vm
			wait $vm 2>/dev/null
			return 2
		fi
		sleep 1
	done
	wait $vm || status=$?
	return 0
}
# How far a boot got, for the log.
stage() {
	if [ -f "$out/unpacked-seconds" ]; then
		echo "the runner started, systemd not ready"
	else
		echo "the runner never started"
	fi
}
retry() {
	cp "$out/console.log" "$out/console-stalled.log"
	echo "boot stalled: not booted after $boot_limit s ($(stage)); retried once" >"$out/boot-retried"
	echo "testhost: RETRYING THE BOOT once (a stalled boot, not a test failure);" \
		"first console kept as $out/console-stalled.log" >&2
	boot
}
trap 'kill $vm 2>/dev/null; wait $vm 2>/dev/null; exit 130' INT TERM HUP
boot || retry || {
	echo "testhost: the VM did not boot twice in $boot_limit s; console: $out/console.log" >&2
	exit 125
}
trap - INT TERM HUP
t2=$(date +%s)

rm -f "$out/tree.tar"
cat "$out/log" 2>/dev/null || true
echo "testhost: image $((t1 - t0)) s, VM $((t2 - t1)) s (boot to systemd ready" \
	"$(cat "$out/boot-seconds" 2>/dev/null || echo ?) s, command" \
	"$(awk '{printf "%.0f", $2 - $1}' "$out/test-seconds" 2>/dev/null || echo ?) s)" >&2
if [ "$status" = 124 ] || [ "$status" = 137 ]; then
	echo "testhost: the VM ran past $limit s and was stopped; console: $out/console.log" >&2
	exit 124
fi
if [ ! -f "$out/rc" ]; then
	echo "testhost: the VM ended (QEMU status $status) without running the command;" \
		"console: $out/console.log" >&2
	tail -n 20 "$out/console.log" "$out/qemu.log" >&2 2>/dev/null || true
	exit 125
fi
exit "$(cat "$out/rc")"
