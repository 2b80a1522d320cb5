#!/bin/sh
# golden.sh -- ntmd.conf golden tests: "ntmd -n -v -f N.conf" must print N.out (TAP).
. "$top_srcdir/tests/tap.sh"

ntmd="$top_builddir/node/ntmd"
[ -x "$ntmd" ] || tap_skip_all "node/ntmd is not built"
tmp=$(mktemp "${TMPDIR:-/tmp}/ntm-ntmdconf.XXXXXX") || exit 1
trap 'rm -f "$tmp"' EXIT
cd "$top_srcdir/tests/ntmdconf" || exit 1

# The .out files end with the exit status, so a valid file must also exit 0.
for conf in *.conf; do
	name=${conf%.conf}
	{ "$ntmd" -n -v -f "$conf" 2>&1; echo "exit $?"; } >"$tmp"
	if [ ! -f "$name.out" ]; then
		not_ok "$name: no $name.out" "$(cat "$tmp")"
	elif out=$(diff -u "$name.out" "$tmp"); then
		ok "$name"
	else
		not_ok "$name" "$out"
	fi
done
tap_done
