#!/bin/sh
# Inside the test host (run by husk-testhost.service from the guest's copy of
# the tree, /var/tmp/husk): wait until systemd has finished booting, run the
# host's command (/mnt/out/cmd) in the tree and leave its output, exit status
# and timings in /mnt/out.
out=/mnt/out
uptime() { cut -d' ' -f1 /proc/uptime; }
uptime >"$out/unpacked-seconds"
systemctl is-system-running --wait >"$out/system-state" 2>&1
uptime >"$out/boot-seconds"
cd /var/tmp/husk || exit 1
test_start=$(uptime)
HUSK_TESTHOST_OUT=$out PYTHONDONTWRITEBYTECODE=1 /bin/sh "$out/cmd" >"$out/log" 2>&1
echo $? >"$out/rc.tmp"
echo "$test_start $(uptime)" >"$out/test-seconds"
{
	systemd-analyze
	systemd-analyze blame | head -n 15
	systemctl --failed --no-legend
} >"$out/systemd-analyze" 2>&1
mv "$out/rc.tmp" "$out/rc"
