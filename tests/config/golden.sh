#!/bin/sh
# golden.sh -- config golden tests: conftest N.conf must print N.out (TAP).
. "$top_srcdir/tests/tap.sh"

driver="$top_builddir/tests/config/conftest"
tmp=$(mktemp "${TMPDIR:-/tmp}/ntm-golden.XXXXXX") || exit 1
trap 'rm -f "$tmp"' EXIT
cd "$top_srcdir/tests/config" || exit 1

# The .out files end with the exit status, so a valid file must also exit 0.
for conf in *.conf; do
	name=${conf%.conf}
	{ "$driver" "$conf" 2>&1; echo "exit $?"; } >"$tmp"
	if [ ! -f "$name.out" ]; then
		not_ok "$name: no $name.out" "$(cat "$tmp")"
	elif out=$(diff -u "$name.out" "$tmp"); then
		ok "$name"
	else
		not_ok "$name" "$out"
	fi
done
tap_done
