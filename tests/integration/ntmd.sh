#!/bin/sh
# ntmd.sh -- ntmd in a namespace of its own: TUN with the virtual IPs and
# routes, the control socket answering ntmctl, -n, and the privilege drop.
#
#   +------------------------- ntm-$$-node ---------------------------+
#   |  lo                                                             |
#   |  ntm0   198.18.1.10/32  fd6e:746d:6f62:1::a/128                 |
#   |         198.18.0.0/15 -> ntm0    fd6e:746d:6f62::/48 -> ntm0    |
#   |  ntmd   user nobody + CAP_NET_ADMIN, control socket $dir/run/  |
#   +-----------------------------------------------------------------+
#
# No DC runs here: ntmd has no ticket, so it must say so (registration
# no-ticket) and answer peers with UNAVAIL not-registered.
. "$top_srcdir/tests/tap.sh"
tap_need_root
tap_need_cmd ip python3

ntmd="$top_builddir/node/ntmd"
ntmctl="$top_builddir/tools/ntmctl"
ns="ntm-$$-node"
dir=$(mktemp -d /tmp/ntmd-test.XXXXXX)
chmod 755 "$dir"
pid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

sock="$dir/run/ntmd.sock"
cat >"$dir/ntmd.conf" <<EOF
[node]
state_dir = $dir/state
user = nobody
fqdn = alice.dc1.ntm.test
vip4 = 198.18.1.10
vip6 = fd6e:746d:6f62:1::a

[dc]
address = 192.0.2.1

[control]
socket = $sock
zones = dc1.ntm.test, dc2.ntm.test
EOF

# -n: a good file, then a broken one with every error on its own line.
txt=$("$ntmd" -n -f "$dir/ntmd.conf" 2>&1); rc=$?
check "-n accepts a good file" test "$rc" = 0 -a "$txt" = "configuration OK"

cat >"$dir/bad.conf" <<EOF
[node]
fqdn = alice.dc1.ntm.test
vip4 = fd6e::1
[tunnel]
mtu = 99
EOF
txt=$("$ntmd" -n -f "$dir/bad.conf" 2>&1); rc=$?
check "-n on a broken file exits 1" test "$rc" = 1
check "-n names file:line of the bad mtu" \
	grep -qx "$dir/bad.conf:5: \[tunnel\] mtu: .*" <<EOF
$txt
EOF
check "-n names file:line of the bad vip4" \
	grep -qx "$dir/bad.conf:3: \[node\] vip4: not an IPv4 address" <<EOF
$txt
EOF

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" "$ntmd" -d -f "$dir/ntmd.conf" 2>"$dir/log" &
pid=$!

# Wait for the control socket (start-up is done when it exists).
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
check "ntmd creates its control socket" test -S "$sock"

addrs=$(ip -n "$ns" addr show dev ntm0 2>&1)
check "ntm0 carries the virtual IPv4" \
	grep -q "inet 198.18.1.10/32 " <<EOF
$addrs
EOF
check "ntm0 carries the virtual IPv6" \
	grep -q "inet6 fd6e:746d:6f62:1::a/128 " <<EOF
$addrs
EOF
check "ntm0 is up" grep -q "state UNKNOWN\|,UP" <<EOF
$addrs
EOF
r4=$(ip -n "$ns" route show 198.18.0.0/15)
check "IPv4 range routed into ntm0 from the virtual IP" \
	grep -q "dev ntm0 .*src 198.18.1.10" <<EOF
$r4
EOF
r6=$(ip -n "$ns" -6 route show fd6e:746d:6f62::/48)
check "IPv6 range routed into ntm0" grep -q "dev ntm0" <<EOF
$r6
EOF

st=$(grep -E '^(Uid|CapEff):' /proc/$pid/status)
nobody=$(id -u nobody)
check "ntmd runs as nobody" grep -q "^Uid:[[:space:]]*$nobody[[:space:]]" <<EOF
$st
EOF
check "ntmd keeps CAP_NET_ADMIN only" \
	grep -q "^CapEff:[[:space:]]*0000000000001000$" <<EOF
$st
EOF

txt=$("$ntmctl" status -s "$sock" 2>&1); rc=$?
check "ntmctl status exits 0" test "$rc" = 0
check "ntmctl status shows the node" grep -q "^fqdn  *alice.dc1.ntm.test$" <<EOF
$txt
EOF
check "ntmctl status says there is no ticket" \
	grep -q "^registration  *no-ticket$" <<EOF
$txt
EOF
json=$("$ntmctl" status --json -s "$sock" 2>&1)
check "ntmctl status --json is JSON with the node's addresses" \
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["fqdn"] == "alice.dc1.ntm.test", d
assert d["vip4"] == "198.18.1.10" and d["vip6"] == "fd6e:746d:6f62:1::a", d
assert d["device"] == "ntm0" and d["registration"] == "no-ticket", d
assert isinstance(d["registrations"], int), d
' "$json"

txt=$("$ntmctl" resolve -s "$sock" Alice.DC1.ntm.test. 2>&1); rc=$?
check "resolve of its own name answers its virtual IPs" \
	test "$rc" = 0 -a \
	"$txt" = "alice.dc1.ntm.test 198.18.1.10 fd6e:746d:6f62:1::a"
txt=$("$ntmctl" resolve -s "$sock" www.example.com 2>&1); rc=$?
check "resolve of a foreign name: UNAVAIL not-in-zone, exit 1" \
	test "$rc" = 1 -a "$txt" = "ntmctl: UNAVAIL not-in-zone"
txt=$("$ntmctl" resolve -s "$sock" bob.dc2.ntm.test 2>&1); rc=$?
check "resolve of a peer without registration: UNAVAIL not-registered" \
	test "$rc" = 1 -a "$txt" = "ntmctl: UNAVAIL not-registered"
txt=$("$ntmctl" tunnels --json -s "$sock" 2>&1)
check "ntmctl tunnels --json: an empty list" test "$txt" = "[]"

kill -TERM "$pid"
wait "$pid"; rc=$?
pid=
check "ntmd stops on SIGTERM with status 0" test "$rc" = 0
check "ntm0 is gone with ntmd" sh -c "! ip -n $ns link show ntm0 2>/dev/null"
if ! [ "$TAP_FAILED" = 0 ]; then
	sed 's/^/# ntmd: /' "$dir/log"
fi
tap_done
