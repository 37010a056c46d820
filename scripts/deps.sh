#!/bin/sh
# Install what husk needs to build and test, when missing. As root on Debian
# this runs apt-get; otherwise it lists what is missing and fails.
set -eu
need_pkgs="meson ninja-build pkg-config gcc clang libjansson-dev libseccomp-dev libcap-dev
libcmocka-dev libc6-dev python3 python3-pytest busybox-static uidmap iproute2 libclang-rt-14-dev"
if [ "${HUSK_BENCH_DEPS:-0}" = 1 ]; then
	need_pkgs="$need_pkgs crun runc hyperfine time strace valgrind"
fi
if [ "${HUSK_ENGINE_DEPS:-0}" = 1 ]; then
	need_pkgs="$need_pkgs podman conmon netavark aardvark-dns iptables containerd docker.io bsdutils"
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
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
