#!/bin/sh
# `husk spec` and `husk features` driven as a user would: files written,
# refusals, exit codes and messages.  Usage: cli_spec.sh PATH/TO/husk
set -u
husk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0

check() { # description, then a command that must succeed
	desc=$1
	shift
	if "$@"; then
		echo "ok - $desc"
	else
		echo "not ok - $desc"
		fails=$((fails + 1))
	fi
}

json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1"; }

mkdir "$dir/b" "$dir/r"
check "spec writes config.json" "$husk" spec -b "$dir/b"
check "config.json is JSON" json_ok "$dir/b/config.json"
check "config.json is hardened" grep -q '"noNewPrivileges": true' "$dir/b/config.json"
out=$("$husk" spec --bundle "$dir/b" 2>&1)
rc=$?
check "spec refuses to overwrite (exit 1)" test "$rc" -eq 1
check "spec names the reason" test "$out" = "husk: error: spec: File config.json exists. Remove it first."
check "spec --rootless writes config.json" "$husk" spec --rootless -b "$dir/r"
check "rootless config maps the caller" grep -q '"hostID": '"$(id -u)" "$dir/r/config.json"
check "rootless config has no cgroup mount" sh -c "! grep -q '/sys/fs/cgroup' '$dir/r/config.json'"
(cd "$dir" && "$husk" spec) >/dev/null 2>&1
check "spec defaults to the current directory" test -f "$dir/config.json"
out=$("$husk" spec -b "$dir/missing" 2>&1)
rc=$?
check "spec into a missing bundle fails" test "$rc" -eq 1
check "and says why" test "$out" = "husk: error: spec: create $dir/missing/config.json: No such file or directory"
"$husk" spec -b "$dir/b" extra >/dev/null 2>&1
check "spec rejects extra arguments" test $? -eq 1
check "spec --help" sh -c "'$husk' spec --help | grep -q 'Usage: husk spec'"
"$husk" features >"$dir/features.json"
check "features exits 0" test $? -eq 0
check "features prints JSON" json_ok "$dir/features.json"
check "features lists namespaces" grep -q '"cgroup"' "$dir/features.json"
check "features --help" sh -c "'$husk' features --help | grep -q 'Usage: husk features'"
"$husk" features --bogus >/dev/null 2>&1
check "features rejects unknown options" test $? -eq 1
exit $((fails > 0))
