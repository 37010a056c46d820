#!/bin/sh
# Inside the test host (run by husk-testhost.service): wait until systemd has
# finished booting, copy the shared husk tree to the guest's own disk (tests
# write next to themselves, and 9p is slow for stat-heavy work), run the
# host's command (/mnt/out/cmd) there and leave its output, exit status and
# timings in /mnt/out.
out=/mnt/out
systemctl is-system-running --wait >"$out/system-state" 2>&1
cut -d' ' -f1 /proc/uptime >"$out/boot-seconds"
systemd-analyze >"$out/systemd-analyze" 2>&1
copy_start=$(cut -d' ' -f1 /proc/uptime)
mkdir -p /var/tmp/husk
tar -C /mnt/src --exclude=./.git --exclude='./build-*' --exclude=./tests/integration/.rootfs \
	--exclude='*/__pycache__' --exclude='*/testhost-out' -cf - . | tar -C /var/tmp/husk -xf -
echo "$copy_start $(cut -d' ' -f1 /proc/uptime)" >"$out/copy-seconds"
cd /var/tmp/husk || exit 1
test_start=$(cut -d' ' -f1 /proc/uptime)
HUSK_TESTHOST_OUT=$out PYTHONDONTWRITEBYTECODE=1 /bin/sh "$out/cmd" >"$out/log" 2>&1
echo $? >"$out/rc.tmp"
echo "$test_start $(cut -d' ' -f1 /proc/uptime)" >"$out/test-seconds"
mv "$out/rc.tmp" "$out/rc"
