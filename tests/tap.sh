# tap.sh -- TAP helpers for shell tests (sourced).  Each check prints one
# "ok"/"not ok" line; tap_done prints the plan and sets the exit status.
#
#   . "$top_srcdir/tests/tap.sh"
#   tap_need_root                    # whole test skipped (not failed) if not root
#   check "dig answers A" test "$a" = 198.18.1.2
#   tap_done

TAP_N=0
TAP_FAILED=0

tap_skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

tap_need_root() {
	[ "$(id -u)" = 0 ] || tap_skip_all "needs root"
}

tap_need_cmd() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || tap_skip_all "needs $c"
	done
}

# ok DESCRIPTION: record a pass.  not_ok DESCRIPTION [DETAIL]: a failure.
ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1"
}

not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/# /'
	return 0
}

# check DESCRIPTION CMD...: passes when CMD exits 0.
check() {
	desc=$1
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc" "$out"
	fi
}

# check_fails DESCRIPTION CMD...: passes when CMD exits non-zero.
check_fails() {
	desc=$1
	shift
	if out=$("$@" 2>&1); then
		not_ok "$desc (unexpectedly succeeded)" "$out"
	else
		ok "$desc"
	fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected: $2
actual:   $3"
	fi
}

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds or the
# deadline passes; returns CMD's last status.
wait_for() {
	deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 ))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ $(( $(date +%s%N) / 1000000 )) -ge $deadline ] && return 1
		sleep 0.05
	done
}

# tap_free_port: a port free on 127.0.0.1 for both UDP and TCP just now.
tap_free_port() {
	python3 -c 'import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]
    try:
        t = socket.socket(); t.bind(("127.0.0.1", p)); t.close()
        print(p); break
    except OSError:
        pass
    finally:
        u.close()'
}

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
