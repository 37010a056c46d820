#!/bin/sh
# Install what husk needs to build and test, when missing. As root on Debian
# this runs apt-get; otherwise it lists what is missing and fails.
# Groups beyond the build set are chosen by the caller's environment:
#   HUSK_BENCH_DEPS=1   bench/ (crun, runc, hyperfine, ...)
#   HUSK_CHECK_DEPS=1   tests/lint (clang-format, shellcheck, cppcheck), runc, criu
#   HUSK_ENGINE_DEPS=1  tests/engines (Podman, containerd, Docker and what they call)
#   HUSK_VM_DEPS=1      the vm backend: QEMU, and what building its guest kernel needs
set -eu
need_pkgs="meson ninja-build pkg-config gcc clang libjansson-dev libseccomp-dev libcap-dev
libcmocka-dev libc6-dev python3 python3-pytest python3-gi gir1.2-glib-2.0 busybox-static uidmap iproute2 libclang-rt-14-dev strace"
if [ "${HUSK_BENCH_DEPS:-0}" = 1 ]; then
	need_pkgs="$need_pkgs crun runc hyperfine time valgrind"
fi
if [ "${HUSK_CHECK_DEPS:-0}" = 1 ]; then
	# tests/lint: the house rules
	need_pkgs="$need_pkgs clang-format shellcheck cppcheck git"
	# runc: the reference the parity tests compare husk with
	need_pkgs="$need_pkgs runc"
	# criu: checkpoint and restore (tests/integration/test_checkpoint.py;
	# where the kernel is one criu cannot work on, it checks the error)
	need_pkgs="$need_pkgs criu"
fi
# make check's package stage: build the .deb, lint it, read its man pages.
if [ "${HUSK_PKG_DEPS:-0}" = 1 ]; then
	need_pkgs="$need_pkgs dpkg-dev debhelper lintian man-db git"
fi
if [ "${HUSK_ENGINE_DEPS:-0}" = 1 ]; then
	# catatonit: the init `podman run --init` injects
	need_pkgs="$need_pkgs podman conmon netavark aardvark-dns iptables catatonit containerd docker.io bsdutils"
fi
if [ "${HUSK_VM_DEPS:-0}" = 1 ]; then
	# The vm backend runs containers under Debian's QEMU; its guest kernel
	# is built from Debian's linux-source (vm/kernel/build.sh).
	need_pkgs="$need_pkgs qemu-system-x86 linux-source-6.1 make flex bison bc libelf-dev xz-utils"
fi
if [ "${HUSK_HOSTS_DEPS:-0}" = 1 ]; then
	# The test host VM (tests/hosts): debootstrap makes its Debian root
	# filesystem, QEMU boots it with Debian's own kernel (linux-image-amd64:
	# installing it does not change the running host kernel).
	need_pkgs="$need_pkgs debootstrap qemu-system-x86 linux-image-amd64 e2fsprogs cpio gzip xz-utils"
fi
missing=""
for p in $need_pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing packages:$missing (run as root, or install them with apt-get)" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may be running unattended upgrades: wait for the dpkg and
# apt list locks (up to HUSK_APT_LOCK_WAIT seconds) instead of failing.
lock_wait=${HUSK_APT_LOCK_WAIT:-900}
apt_get() {
	apt-get -o DPkg::Lock::Timeout="$lock_wait" "$@"
}
waited=0
until apt_get update -qq; do
	# `apt-get update` takes the lists lock, which DPkg::Lock::Timeout
	# does not cover on every apt version: retry while another apt holds it
	waited=$((waited + 10))
	if [ "$waited" -gt "$lock_wait" ]; then
		echo "apt-get update kept failing for ${lock_wait}s" >&2
		exit 1
	fi
	echo "apt-get update failed (another apt-get running?): retrying in 10 s" >&2
	sleep 10
done
# shellcheck disable=SC2086
apt_get install -y -qq --no-install-recommends $missing >/dev/null
