#!/bin/sh
# ntmctl-cli.sh -- what an operator sees from ntmctl on bad input: the exit
# code (2 usage, 1 failure) and one line on standard error saying why.
# No daemon runs; sockets point into a mktemp directory that has none.
. "$top_srcdir/tests/tap.sh"
tap_need_cmd python3

NTMCTL=$top_builddir/tools/ntmctl
T=$(mktemp -d "${TMPDIR:-/tmp}/ntm-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
echo 'correct horse' >"$T/pw"

# run CMD...: sets $rc and $err (standard error, one line expected)
run() {
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
}

# one_line DESCRIPTION EXPECTED-RC NEEDLE
one_line() {
	case "$err" in
	*"$3"*) ok_text=1 ;;
	*) ok_text=0 ;;
	esac
	lines=$(printf '%s\n' "$err" | wc -l)
	if [ "$rc" = "$2" ] && [ "$ok_text" = 1 ] && [ "$lines" = 1 ]; then
		ok "$1"
	else
		not_ok "$1" "exit $rc (want $2), stderr: $err"
	fi
}

run "$NTMCTL"
one_line "no command: usage error" 2 "missing command"
run "$NTMCTL" frobnicate
one_line "unknown command named" 2 "unknown command 'frobnicate'"
run "$NTMCTL" account add acct --password-file "$T/pw" --socket "$T/none"
one_line "account add without --fqdn" 2 "at least one --fqdn"
run "$NTMCTL" account add acct --fqdn 'not a name' --password-file "$T/pw" \
	--socket "$T/none"
one_line "account add: a bad name is quoted back" 2 "'not a name' is not a name"

# 30 long names do not fit one control line of ntm-as: refused before
# anything is sent, not cut off by the AS.
set -- $(python3 -c "
for i in range(30):
    print('--fqdn', ('a' * 60 + '.') * 3 + 'n%d.dc1.ntm.test' % i)")
run "$NTMCTL" account add acct "$@" --password-file "$T/pw" --socket "$T/none"
one_line "account add: a request too long for the AS refused" 2 \
	"add fewer names at once"

run "$NTMCTL" account add acct --fqdn alice.dc1.ntm.test \
	--password-file "$T/pw" --socket "$T/none"
one_line "account add with ntm-as not running" 1 "is ntm-as running?"
run "$NTMCTL" account add acct --fqdn alice.dc1.ntm.test \
	--password-file "$T/missing" --socket "$T/none"
check "account add with a missing password file fails" test "$rc" != 0

run "$NTMCTL" ca init --dir "$T/ca"
one_line "ca init without --domain" 2 "domain"
run "$NTMCTL" ca issue --dir "$T/nowhere" --role node --name a.dc1.ntm.test \
	--out "$T/x"
check "ca issue without a CA directory fails" test "$rc" = 1

tap_done
