#!/bin/sh
# nss.sh -- libnss_ntm.so.2 under getent in a network namespace, against a
# scripted stand-in for ntmd (tests/nss/responder.c).
#
#   netns ntm-nss-$$: lo, veth ntm-a/ntm-b (192.0.2.1, 2001:db8::1)
#
#   getent --nsswitch.conf: hosts: files ntm [NOTFOUND=return] dns
#     |-- files: /etc/hosts       plainhost.example 192.0.2.7 2001:db8::7
#     |-- ntm:   libnss_ntm.so.2  (build tree, LD_LIBRARY_PATH)
#     |            reads /etc/ntmobile/nss.conf (from /etc/netns/NS/ntmobile)
#     |            '-- UNIX socket $T/root/ntmd.sock   -> responder (root)
#     |                            $T/nobody/ntmd.sock -> responder (nobody)
#     '-- dns:   127.0.0.1:53     first nothing listens, later
#                                 tests/nss/dnsstub.py answers 192.0.2.99
#
# The responder logs each connection and request; the DNS stub logs each
# query: so the test sees not only what getent prints but which source was
# asked.  Needs root (namespace, /etc/netns, setpriv to nobody).
set -u
. "$top_srcdir/tests/tap.sh"
tap_need_root
tap_need_cmd ip getent setpriv python3

B=$top_builddir
MODDIR=$B/plugins/.libs
RESPONDER=$B/tests/nss/ntm-nss-responder
NSSCALL=$B/tests/nss/nsscall
DNSSTUB=$top_srcdir/tests/nss/dnsstub.py
[ -f "$MODDIR/libnss_ntm.so.2" ] ||
    tap_skip_all "build plugins/libnss_ntm.la first"

NS=ntm-nss-$$
ETC=/etc/netns/$NS
T=$(mktemp -d /tmp/ntm-nss-$$.XXXXXX)
PIDS=""

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$ETC" "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ip netns exec binds $ETC/ntmobile over /etc/ntmobile only if that exists
# on the host.  It is left in place afterwards: other tests running at the
# same time may rely on it, and an empty root-owned directory is harmless.
[ -d /etc/ntmobile ] || mkdir -p /etc/ntmobile
mkdir -p "$ETC/ntmobile"
chmod 755 "$T"
mkdir -p "$T/root" "$T/nobody"
chown 65534:65534 "$T/nobody"

cat >"$ETC/nsswitch.conf" <<EOF
hosts: files ntm [NOTFOUND=return] dns
EOF
echo "nameserver 127.0.0.1" >"$ETC/resolv.conf"
cat >"$ETC/hosts" <<EOF
127.0.0.1 localhost
192.0.2.7 plainhost.example
2001:db8::7 plainhost.example
EOF

# write_conf SOCKET [EXTRA LINE]
write_conf() {
	cat >"$ETC/ntmobile/nss.conf" <<EOF
# written by tests/integration/nss.sh
socket = $1
zones = dc1.ntm.test dc2.ntm.test
setup_timeout = 1s
${2:-}
EOF
}

cat >"$T/table" <<EOF
RESOLVE alice.dc1.ntm.test any => WAIT 3000; OK alice.dc1.ntm.test 198.18.1.10 fd6e:746d:6f62:1::a
RESOLVE alice.dc1.ntm.test inet => OK alice.dc1.ntm.test 198.18.1.10
RESOLVE alice.dc1.ntm.test inet6 => OK alice.dc1.ntm.test fd6e:746d:6f62:1::a
RESOLVE bob.dc2.ntm.test inet => OK bob.dc2.ntm.test 198.18.2.10
RESOLVE bob.dc2.ntm.test inet6 => OK bob.dc2.ntm.test 198.18.2.10
RESOLVE bob.dc2.ntm.test any => OK bob.dc2.ntm.test 198.18.2.10
REVERSE 198.18.1.10 => OK alice.dc1.ntm.test 198.18.1.10
REVERSE fd6e:746d:6f62:1::a => OK alice.dc1.ntm.test fd6e:746d:6f62:1::a
REVERSE 198.18.1.99 => OK alice.dc1.ntm.test 198.18.1.10
RESOLVE mallory.dc1.ntm.test any => NOTFOUND refused
RESOLVE mallory.dc1.ntm.test inet => NOTFOUND refused
RESOLVE mallory.dc1.ntm.test inet6 => NOTFOUND refused
RESOLVE slow.dc1.ntm.test inet => @sleep 3000; OK slow.dc1.ntm.test 198.18.1.12
RESOLVE patient.dc1.ntm.test inet => WAIT 3000; @sleep 1500; OK patient.dc1.ntm.test 198.18.1.13
RESOLVE garbled.dc1.ntm.test inet => @raw OK Garbled.dc1.ntm.test 198.18.1.14
RESOLVE hangup.dc1.ntm.test inet => @close
RESOLVE www.example.com any => UNAVAIL not-in-zone
* => NOTFOUND no-such-node
EOF

ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# nx CMD...: runs CMD in the namespace with the build tree's module.
nx() {
	ip netns exec "$NS" env LD_LIBRARY_PATH="$MODDIR" "$@"
}

# start_responder DIR [setpriv options]: serves $T/table on DIR/ntmd.sock.
start_responder() {
	dir=$1
	shift
	rm -f "$dir/log"
	if [ $# -gt 0 ]; then
		setpriv "$@" "$RESPONDER" -s "$dir/ntmd.sock" -t "$T/table" \
		    -l "$dir/log" 2>"$T/responder.err" &
	else
		"$RESPONDER" -s "$dir/ntmd.sock" -t "$T/table" -l "$dir/log" \
		    2>"$T/responder.err" &
	fi
	RPID=$!
	PIDS="$PIDS $RPID"
	wait_for 5 grep -q '^listening' "$dir/log"
}

stop_pid() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

count() {
	grep -c -- "$1" "$2" 2>/dev/null || true
}

ip netns add "$NS" || { echo "1..0 # SKIP cannot create a namespace"; exit 0; }
ip -n "$NS" link set lo up
# getaddrinfo's AI_ADDRCONFIG (getent ahosts*) ignores loopback: give the
# namespace one global address per family, on a link that leads nowhere.
# (No dummy driver on these machines: a veth pair with both ends inside.)
ip -n "$NS" link add ntm-a type veth peer name ntm-b &&
ip -n "$NS" addr add 192.0.2.1/24 dev ntm-a &&
ip -n "$NS" addr add 2001:db8::1/64 dev ntm-a nodad &&
ip -n "$NS" link set ntm-a up && ip -n "$NS" link set ntm-b up ||
    { echo "1..0 # SKIP cannot add a veth pair"; exit 0; }

write_conf "$T/root/ntmd.sock"
if start_responder "$T/root"; then
	ok "responder listens on $T/root/ntmd.sock"
else
	not_ok "responder listens" "$(cat "$T/responder.err")"
fi

# ---- with the responder answering, nothing listening on 127.0.0.1:53 ----

out=$(nx getent hosts alice.dc1.ntm.test)
check_eq "getent hosts prints the responder's virtual IP" \
    "fd6e:746d:6f62:1::a alice.dc1.ntm.test" "$(echo "$out" | tr -s ' ')"

out=$(nx getent ahosts alice.dc1.ntm.test | awk '{print $1}' | sort -u |
    tr '\n' ' ')
check_eq "getent ahosts gives the IPv4 and the IPv6 virtual IP" \
    "198.18.1.10 fd6e:746d:6f62:1::a " "$out"
check_eq "getaddrinfo sent one RESOLVE any (gethostbyname4_r)" 1 \
    "$(count 'request RESOLVE alice.dc1.ntm.test any' "$T/root/log")"

out=$(nx getent ahostsv4 alice.dc1.ntm.test | awk '{print $1}' | sort -u)
check_eq "getent ahostsv4 gives only the IPv4 virtual IP" "198.18.1.10" "$out"

out=$(nx getent hosts 198.18.1.10 | tr -s ' ')
check_eq "getent hosts 198.18.1.10 gives the name (reverse)" \
    "198.18.1.10 alice.dc1.ntm.test" "$out"
out=$(nx getent hosts fd6e:746d:6f62:1::a | tr -s ' ')
check_eq "getent hosts fd6e:746d:6f62:1::a gives the name (reverse)" \
    "fd6e:746d:6f62:1::a alice.dc1.ntm.test" "$out"

out=$(nx getent hosts ALICE.dc1.ntm.test. | tr -s ' ')
check_eq "names are case-folded and one trailing dot is stripped" \
    "fd6e:746d:6f62:1::a alice.dc1.ntm.test" "$out"

t0=$(ms)
nx getent hosts mallory.dc1.ntm.test >/dev/null 2>&1
rc=$?
t1=$(ms)
check_eq "a refused name makes getent fail with exit 2" 2 "$rc"
check "and it fails promptly ($((t1 - t0)) ms < 1000)" \
    test $((t1 - t0)) -lt 1000

out=$(nx getent hosts plainhost.example | tr -s ' ')
check_eq "a name outside NTMobile zones resolves from the netns /etc/hosts" \
    "2001:db8::7 plainhost.example" "$out"

before=$(count '^connect' "$T/root/log")
out=$(nx "$NSSCALL" name4 www.example.com)
check_eq "module: a name outside the zones is UNAVAIL" \
    "status UNAVAIL errno ENOENT h_errno HOST_NOT_FOUND" "$out"
out=$(nx "$NSSCALL" addr2 192.0.2.7)
check_eq "module: an address outside the virtual ranges is UNAVAIL" \
    "status UNAVAIL errno ENOENT h_errno HOST_NOT_FOUND" "$out"
check_eq "module: and ntmd was not even contacted for either" "$before" \
    "$(count '^connect' "$T/root/log")"

out=$(nx "$NSSCALL" name2-inet mallory.dc1.ntm.test)
check_eq "module: a refused name is NOTFOUND / HOST_NOT_FOUND" \
    "status NOTFOUND errno ENOENT h_errno HOST_NOT_FOUND" "$out"

out=$(nx "$NSSCALL" name3-inet6 bob.dc2.ntm.test)
check_eq "module: our name, no address of the family: NOTFOUND / NO_DATA" \
    "status NOTFOUND errno ENOENT h_errno NO_DATA" "$out"

out=$(nx "$NSSCALL" name3-inet alice.dc1.ntm.test)
check_eq "module: gethostbyname3_r fills hostent and canonical name" \
    "status SUCCESS errno 0 h_errno NETDB_SUCCESS
name alice.dc1.ntm.test
addr 198.18.1.10
canon alice.dc1.ntm.test" "$out"

out=$(nx "$NSSCALL" name2-inet alice.dc1.ntm.test 16)
check_eq "module: a too small buffer is TRYAGAIN / ERANGE (hostent)" \
    "status TRYAGAIN errno ERANGE h_errno NETDB_INTERNAL" "$out"
out=$(nx "$NSSCALL" name4 alice.dc1.ntm.test 40)
check_eq "module: a too small buffer is TRYAGAIN / ERANGE (gaih_addrtuple)" \
    "status TRYAGAIN errno ERANGE h_errno NETDB_INTERNAL" "$out"
out=$(nx "$NSSCALL" name4 alice.dc1.ntm.test 256)
check_eq "module: gethostbyname4_r returns both addresses in order" \
    "status SUCCESS errno 0 h_errno NETDB_SUCCESS
name alice.dc1.ntm.test
addr 198.18.1.10
addr fd6e:746d:6f62:1::a" "$out"
out=$(nx "$NSSCALL" addr 198.18.1.10 20)
check_eq "module: reverse with a too small buffer is TRYAGAIN / ERANGE" \
    "status TRYAGAIN errno ERANGE h_errno NETDB_INTERNAL" "$out"

out=$(nx "$NSSCALL" addr2 198.18.1.99)
check_eq "module: a reverse answer for another address is refused" \
    "status UNAVAIL errno EPROTO h_errno TRY_AGAIN" "$out"
out=$(nx "$NSSCALL" name2-inet garbled.dc1.ntm.test)
check_eq "module: a malformed answer line counts as ntmd down" \
    "status UNAVAIL errno EPROTO h_errno TRY_AGAIN" "$out"
out=$(nx "$NSSCALL" name2-inet hangup.dc1.ntm.test)
check_eq "module: ntmd hanging up counts as ntmd down" \
    "status UNAVAIL errno ECONNRESET h_errno TRY_AGAIN" "$out"

t0=$(ms)
out=$(nx "$NSSCALL" name2-inet slow.dc1.ntm.test)
t1=$(ms)
check_eq "module: no answer within setup_timeout (1 s) is NOTFOUND / ETIMEDOUT (no DNS fallback)" \
    "status NOTFOUND errno ETIMEDOUT h_errno TRY_AGAIN" "$out"
check "and it gave up after 1 s ($((t1 - t0)) ms)" \
    test $((t1 - t0)) -ge 950 -a $((t1 - t0)) -lt 2000

t0=$(ms)
out=$(nx "$NSSCALL" name2-inet patient.dc1.ntm.test | head -1)
t1=$(ms)
check_eq "module: WAIT 3000 from ntmd extends the 1 s setup_timeout" \
    "status SUCCESS errno 0 h_errno NETDB_SUCCESS" "$out"
check "and the answer came after 1.5 s ($((t1 - t0)) ms)" \
    test $((t1 - t0)) -ge 1450

out=$(grep -c '^bad-request' "$T/root/log")
check_eq "every request the module sent parsed strictly at the responder" \
    0 "$out"

# ---- nss.conf without zones: ntmd decides ----

cat >"$ETC/ntmobile/nss.conf" <<EOF
socket = $T/root/ntmd.sock
EOF
out=$(nx "$NSSCALL" name4 www.example.com)
check_eq "module: no zones: asks ntmd, UNAVAIL not-in-zone stands aside" \
    "status UNAVAIL errno ENOENT h_errno HOST_NOT_FOUND" "$out"
check_eq "and ntmd did get the question" 1 \
    "$(count 'request RESOLVE www.example.com any' "$T/root/log")"
out=$(nx "$NSSCALL" name alice.dc1.ntm.test)
check_eq "module: gethostbyname_r asks for IPv4" \
    "status SUCCESS errno 0 h_errno NETDB_SUCCESS
name alice.dc1.ntm.test
addr 198.18.1.10" "$out"
out=$(nx "$NSSCALL" addr2 fd6e:746d:6f62:1::a)
check_eq "module: gethostbyaddr2_r of a virtual IPv6 address" \
    "status SUCCESS errno 0 h_errno NETDB_SUCCESS
name alice.dc1.ntm.test
addr fd6e:746d:6f62:1::a" "$out"
write_conf "$T/root/ntmd.sock"

# ---- a DNS server that answers everything with 192.0.2.99 ----

# Not through nx(): a backgrounded shell function is a subshell, and its
# PID is not the stub's.  ip netns exec execs python3 in the same process.
ip netns exec "$NS" python3 "$DNSSTUB" "$T/dns.log" 2>"$T/dns.err" &
DNSPID=$!
PIDS="$PIDS $DNSPID"
if wait_for 5 grep -q '^listening' "$T/dns.log"; then
	ok "DNS stub listens on 127.0.0.1:53 in the namespace"
else
	not_ok "DNS stub listens" "$(cat "$T/dns.err")"
fi

out=$(nx getent hosts www.example.com | tr -s ' ')
check_eq "a name outside NTMobile zones goes on to DNS" \
    "2001:db8::99 www.example.com" "$out"

nx getent hosts mallory.dc1.ntm.test >/dev/null 2>&1
check_eq "a refused name still fails with DNS answering everything" 2 "$?"
check_eq "and DNS was not asked about it ([NOTFOUND=return])" 0 \
    "$(count 'query mallory' "$T/dns.log")"

out=$(nx getent hosts alice.dc1.ntm.test | tr -s ' ')
check_eq "an NTMobile name still comes from ntmd, not DNS" \
    "fd6e:746d:6f62:1::a alice.dc1.ntm.test" "$out"

# ---- ntmd hung: its listen backlog is full ----

cat >"$T/hung.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(0)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(sys.argv[1])      # the one queued connection listen(0) allows
open(sys.argv[2], "w").write("listening\n")
time.sleep(120)
EOF
python3 "$T/hung.py" "$T/root/hung.sock" "$T/hung.log" &
HUNGPID=$!
PIDS="$PIDS $HUNGPID"
wait_for 5 grep -q '^listening' "$T/hung.log"
write_conf "$T/root/hung.sock"
t0=$(ms)
out=$(nx "$NSSCALL" name2-inet alice.dc1.ntm.test)
t1=$(ms)
check_eq "module: a connect that cannot complete is UNAVAIL / ETIMEDOUT" \
    "status UNAVAIL errno ETIMEDOUT h_errno TRY_AGAIN" "$out"
check "after the 100 ms connect limit ($((t1 - t0)) ms)" \
    test $((t1 - t0)) -ge 100 -a $((t1 - t0)) -lt 900
stop_pid "$HUNGPID"
write_conf "$T/root/ntmd.sock"

# ---- ntmd down ----

stop_pid "$RPID"
rm -f "$T/root/ntmd.sock"
t0=$(ms)
out=$(nx "$NSSCALL" name2-inet alice.dc1.ntm.test)
t1=$(ms)
check_eq "module: ntmd down is UNAVAIL at once" \
    "status UNAVAIL errno ENOENT h_errno TRY_AGAIN" "$out"
check "at once ($((t1 - t0)) ms with process start; setup_timeout is 1 s)" \
    test $((t1 - t0)) -lt 800
out=$(nx getent hosts alice.dc1.ntm.test | tr -s ' ')
check_eq "with ntmd down an NTMobile name falls through to DNS" \
    "2001:db8::99 alice.dc1.ntm.test" "$out"
out=$(nx getent hosts plainhost.example | tr -s ' ')
check_eq "with ntmd down other names still resolve (/etc/hosts)" \
    "2001:db8::7 plainhost.example" "$out"
out=$(nx getent hosts www.example.com | tr -s ' ')
check_eq "with ntmd down other names still resolve (DNS)" \
    "2001:db8::99 www.example.com" "$out"

stop_pid "$DNSPID"
t0=$(ms)
nx getent hosts alice.dc1.ntm.test >/dev/null 2>&1
rc=$?
t1=$(ms)
check_eq "with ntmd down and no DNS the NTMobile name fails (exit 2)" 2 "$rc"
check "promptly ($((t1 - t0)) ms < 1000)" test $((t1 - t0)) -lt 1000

# ---- a responder run by the wrong user ----

write_conf "$T/nobody/ntmd.sock"
if start_responder "$T/nobody" --reuid=65534 --regid=65534 --clear-groups; then
	ok "responder runs as nobody"
else
	not_ok "responder runs as nobody" "$(cat "$T/responder.err")"
fi
check_eq "its socket is owned by nobody" 65534 \
    "$(stat -c %u "$T/nobody/ntmd.sock" 2>/dev/null)"
nx getent hosts alice.dc1.ntm.test >/dev/null 2>&1
check_eq "a responder with the wrong uid is refused (getent exit 2)" 2 "$?"
out=$(nx "$NSSCALL" name2-inet alice.dc1.ntm.test)
check_eq "module: the wrong uid is UNAVAIL / EPERM" \
    "status UNAVAIL errno EPERM h_errno TRY_AGAIN" "$out"
wait_for 2 grep -q '^no-request' "$T/nobody/log"
check_eq "the module connected (getent twice, nsscall once), sent nothing" \
    "0 3" \
    "$(count '^request' "$T/nobody/log") $(count '^connect' "$T/nobody/log")"

write_conf "$T/nobody/ntmd.sock" "server_uid = 65534"
out=$(nx getent hosts alice.dc1.ntm.test | tr -s ' ')
check_eq "the same responder is accepted once nss.conf names its uid" \
    "fd6e:746d:6f62:1::a alice.dc1.ntm.test" "$out"

# ---- a running program keeps nss.conf, and sees a change within a second ----

# again_after CHANGE: nsscall looks alice up, CHANGE edits nss.conf, and
# 1.2 s later (the module looks at the file once a second at most) the
# same process looks her up again.  Prints both outcomes' status lines.
again_after() {
	rm -f "$T/go" "$T/again"
	mkfifo "$T/go"
	nx "$NSSCALL" again-name2-inet alice.dc1.ntm.test <"$T/go" >"$T/again" 2>&1 &
	ag=$!
	exec 7>"$T/go"
	wait_for 3 grep -q '^status' "$T/again"
	"$@"
	sleep 1.2
	echo go >&7
	exec 7>&-
	wait "$ag"
	grep '^status' "$T/again"
}
zones_dc2() {
	write_conf "$T/nobody/ntmd.sock" "server_uid = 65534"
	sed -i 's/^zones = .*/zones = dc2.ntm.test/' "$ETC/ntmobile/nss.conf"
}
out=$(again_after zones_dc2 | tr '\n' '|')
check_eq "a program sees nss.conf's zones change (alice's zone dropped)" \
    "status SUCCESS errno 0 h_errno NETDB_SUCCESS|status UNAVAIL errno ENOENT h_errno HOST_NOT_FOUND|" \
    "$out"
write_conf "$T/nobody/ntmd.sock" "server_uid = 65534"
out=$(again_after chmod 666 "$ETC/ntmobile/nss.conf" | tr '\n' '|')
check_eq "a program sees nss.conf become world-writable and stops trusting it" \
    "status SUCCESS errno 0 h_errno NETDB_SUCCESS|status UNAVAIL errno EPERM h_errno HOST_NOT_FOUND|" \
    "$out"
chmod 644 "$ETC/ntmobile/nss.conf"

# ---- a broken nss.conf makes the module stand aside ----

chmod 666 "$ETC/ntmobile/nss.conf"
out=$(nx "$NSSCALL" name2-inet alice.dc1.ntm.test)
check_eq "module: a world-writable nss.conf is not trusted" \
    "status UNAVAIL errno EPERM h_errno HOST_NOT_FOUND" "$out"
chmod 644 "$ETC/ntmobile/nss.conf"
echo "zones = bad_zone" >>"$ETC/ntmobile/nss.conf"
out=$(nx "$NSSCALL" name2-inet alice.dc1.ntm.test)
check_eq "module: an nss.conf that does not parse is not used" \
    "status UNAVAIL errno EINVAL h_errno HOST_NOT_FOUND" "$out"

tap_done
