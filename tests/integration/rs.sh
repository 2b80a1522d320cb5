#!/bin/sh
# rs.sh -- ntm-rs in network namespaces: a test DC allocates a path over
# mutual TLS and gets the RS's addresses; two test nodes bind (MN over
# IPv4, CN over IPv6, both from the addresses their DCs observed, so no
# cookie) and their DATA is relayed intact both ways across the address
# families; a forged hello and a third party's packets are not relayed; a
# client with a node certificate is refused on the TLS port; MN rebinds
# from a second address through the cookie round trip and traffic follows.
#
#   ns a (alice, MN)  198.51.100.10, .11 --+
#   ns b (bob, CN)    2001:db8:0:100::20 --+-- br0 in ns rs: ntm-rs
#   ns x (mallory)    198.51.100.66      --+   198.51.100.7, 2001:db8:0:100::7
#                                               UDP 4613, TLS 4614
#   rsdc (the DC) runs in ns a; ntmctl rs stats in ns rs.
set -u
. "$top_srcdir/tests/tap.sh"
tap_need_root
tap_need_cmd ip python3

NTMCTL=$top_builddir/tools/ntmctl
RS=$top_builddir/rs/ntm-rs
RSDC=$top_builddir/tests/rs/rsdc
RSNODE=$top_builddir/tests/rs/rsnode
for b in "$NTMCTL" "$RS" "$RSDC" "$RSNODE"; do
	[ -x "$b" ] || tap_skip_all "build $b first"
done

P=ntm-$$
NR=$P-rs NA=$P-a NB=$P-b NX=$P-x
T=$(mktemp -d "${TMPDIR:-/tmp}/ntm-rs.XXXXXX")
RSPID= BOBPID=
cleanup() {
	for p in $BOBPID $RSPID; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in $NR $NA $NB $NX; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
cd "$T" || exit 1

# ---- topology ----------------------------------------------------------
for n in $NR $NA $NB $NX; do
	ip netns add "$n" || tap_skip_all "cannot create a namespace"
	ip -n "$n" link set lo up
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
	    net.ipv6.conf.default.accept_dad=0 >/dev/null 2>&1
done
ip -n "$NR" link add br0 type bridge && ip -n "$NR" link set br0 up || exit 1
for h in a b x; do
	eval ns=\$N$(echo $h | tr a-z A-Z)
	ip -n "$NR" link add "v$h" type veth peer name eth0 netns "$ns" &&
	ip -n "$NR" link set "v$h" master br0 up &&
	ip -n "$ns" link set eth0 up || exit 1
done
ip -n "$NR" addr add 198.51.100.7/24 dev br0
ip -n "$NR" addr add 2001:db8:0:100::7/64 dev br0 nodad
ip -n "$NA" addr add 198.51.100.10/24 dev eth0
ip -n "$NA" addr add 198.51.100.11/24 dev eth0
ip -n "$NB" addr add 2001:db8:0:100::20/64 dev eth0 nodad
ip -n "$NX" addr add 198.51.100.66/24 dev eth0

# ---- certificates ------------------------------------------------------
$NTMCTL ca init --dir ca --domain ntm.test --vrange4 198.18.0.0/15 \
	--vrange6 fd6e:746d:6f62::/48 >/dev/null &&
$NTMCTL ca issue --dir ca --role rs --name rs.ntm.test --out rs >/dev/null &&
$NTMCTL ca issue --dir ca --role dc --name ns1.dc1.ntm.test \
	--zone dc1.ntm.test --out dc1 >/dev/null &&
$NTMCTL ca issue --dir ca --role node --fqdn alice.dc1.ntm.test \
	--vip4 198.18.1.10 --out alice >/dev/null || exit 1
for c in rs dc1 alice; do cat $c.pem ca/as.pem > $c.chain; done

cat > rs.conf <<EOF
[relay]
listen = 198.51.100.7:4613, [2001:db8:0:100::7]:4613
address = 198.51.100.7:4613, [2001:db8:0:100::7]:4613
idle = 60s
[tls]
listen = 198.51.100.7:4614
trust = $T/ca/root.pem
cert = $T/rs.chain
key = $T/rs.key
[control]
socket = $T/rs.sock
[log]
level = debug
EOF
sed 's/^address = .*/address = 198.51.100.7:4613, 198.51.100.8:4613/' \
	rs.conf > bad.conf

# ---- configuration -----------------------------------------------------
check_eq "ntm-rs -n accepts the configuration" "configuration OK" \
	"$("$RS" -n -f rs.conf 2>&1)"
out=$("$RS" -n -f bad.conf 2>&1)
if [ $? -ne 0 ] && printf '%s' "$out" | grep -q "one IPv4 and one IPv6"
then ok "two IPv4 addresses to advertise are refused with a reason"
else not_ok "two IPv4 addresses to advertise are refused with a reason" "$out"
fi
printf '[relay]\naddress = 198.51.100.7\nidle = soon\n' > bad2.conf
out=$("$RS" -n -f bad2.conf 2>&1)
if [ $? -ne 0 ] && printf '%s' "$out" | grep -q "bad2.conf:3:" &&
    printf '%s' "$out" | grep -q "trust"
then ok "a bad duration and the missing [tls] keys are reported with file:line"
else not_ok "a bad duration and the missing [tls] keys are reported with file:line" "$out"
fi

# ---- the daemon --------------------------------------------------------
ip netns exec "$NR" "$RS" -d -f rs.conf > rs.log 2>&1 &
RSPID=$!
if wait_for 10 grep -q "ntm-rs ready" rs.log; then
	ok "ntm-rs starts"
else
	not_ok "ntm-rs starts" "$(cat rs.log)"
	tap_done
	exit
fi

rs_stat() {
	ip netns exec "$NR" "$NTMCTL" rs stats -s "$T/rs.sock" |
	    awk -v k="$1" '$1 == k { print $2 }'
}
stat_is() { [ "$(rs_stat "$1")" = "$2" ]; }

K1=$(printf 'a1%.0s' $(seq 32))
K2=$(printf 'b2%.0s' $(seq 32))
PATH1=00112233445566778899aabbccddeeff
rsdc() {
	ip netns exec "$NA" "$RSDC" -a 198.51.100.7:4614 -t ca/root.pem "$@"
}

# ---- the DC's channel --------------------------------------------------
rsdc -c dc1.chain -k dc1.key -p $PATH1 -r 0x1001 -R 0x2002 -b "$K1" -B "$K2" \
	-o 198.51.100.10:40000 -O '[2001:db8:0:100::20]:40000' > ack.out
check_eq "RELAY_DIRECTION_ACK: OK, the path id, both advertised addresses" \
"status 1 ok
path $PATH1
relay 198.51.100.7:4613
relay [2001:db8:0:100::7]:4613" "$(cat ack.out)"

out=$(rsdc -c alice.chain -k alice.key -p ffeeddccbbaa99887766554433221100 \
	-r 0x3003 -R 0x4004 -b "$K1" -B "$K2")
rc=$?
if [ $rc -ne 0 ] && ! printf '%s' "$out" | grep -q '^status'; then
	ok "a client with a node certificate gets no answer on 4614"
else
	not_ok "a client with a node certificate gets no answer on 4614" "$out"
fi
check "the node certificate's allocation is not made" stat_is directions 1

out=$(rsdc -c dc1.chain -k dc1.key -p ffeeddccbbaa99887766554433221100 \
	-r 0x5005 -R 0x2002 -b "$K1" -B "$K2")
check_eq "a receiver id already in use is refused by policy" \
	"status 7 refused by policy" "$(printf '%s\n' "$out" | head -1)"

# ---- binding and relaying ----------------------------------------------
# Bob (CN, IPv6) binds and echoes what reaches him, until two packets.
ip netns exec "$NB" "$RSNODE" -r '[2001:db8:0:100::7]:4613' \
	-l '[2001:db8:0:100::20]:40000' -i 0x2002 -k "$K2" -d 0x1001 -n 0 \
	-e -x 2 -w 20000 > bob.out 2>&1 &
BOBPID=$!
check "bob binds from the address his DC observed" wait_for 5 stat_is binds 1

ip netns exec "$NA" "$RSNODE" -r 198.51.100.7:4613 -l 198.51.100.10:40000 \
	-i 0x1001 -k "$K1" -d 0x2002 -n 1 -m hello-bob -z 1000 -x 1 \
	-w 3000 > alice.out 2>&1
check "alice binds without a cookie" eval '! grep -q cookie alice.out'
check "both sides of the path are bound" stat_is paths-bound 1
sent=$(awk '$1 == "sent" { print $4 }' alice.out)
got=$(awk '$1 == "data" && $9 ~ /^hello-bob/ { print $5, $7 }' bob.out)
check_eq "alice's 1000 bytes reach bob over IPv6, intact, from the RS" \
	"1000 $sent" "$got"
check "and they came from the RS's IPv6 address" \
	grep -q 'data from \[2001:db8:0:100::7\]:4613 len 1000' bob.out
echo_sha=$(python3 -c 'import hashlib, sys
p = (b"hello-bob" * 200)[:1000]
print(hashlib.sha256(b"echo:" + p).hexdigest()[:8])')
got=$(awk '$1 == "data" { print $3, $5, $7 }' alice.out)
check_eq "bob's echo reaches alice over IPv4, intact" \
	"198.51.100.7:4613 1005 $echo_sha" "$got"

# ---- what is not relayed -----------------------------------------------
before=$(rs_stat drop-auth)
ip netns exec "$NX" "$RSNODE" -r 198.51.100.7:4613 -l 198.51.100.66:40000 \
	-i 0x1001 -k "$K1" -F -w 0 > forged.out 2>&1
check_eq "a hello with a forged tag is dropped and counted" \
	"$((before + 1))" "$(rs_stat drop-auth)"
check "and earns no cookie" eval '! grep -q cookie forged.out'
before=$(rs_stat drop-source)
fwd=$(rs_stat forwarded)
ip netns exec "$NX" "$RSNODE" -r 198.51.100.7:4613 -l 198.51.100.66:40001 \
	-d 0x2002 -n 3 -m mallory -w 300 > mallory.out 2>&1
check_eq "a third party's DATA to bob is dropped and counted" \
	"$((before + 3)) $fwd" "$(rs_stat drop-source) $(rs_stat forwarded)"

# ---- mobility: MN moves to a second address ----------------------------
ip netns exec "$NA" "$RSNODE" -r 198.51.100.7:4613 -l 198.51.100.11:40001 \
	-i 0x1001 -k "$K1" -c 10 -d 0x2002 -n 1 -m moved -x 1 \
	-w 3000 > alice2.out 2>&1
check "from a new address alice gets a cookie and binds with it" \
	eval 'grep -q "^cookie$" alice2.out && ! grep -q "cookie again" alice2.out'
check "the RS counts one rebind" stat_is rebinds 1
check "bob's echo follows alice to her new address" \
	grep -q 'data from 198.51.100.7:4613 len 37 .* text echo:moved' alice2.out
wait "$BOBPID"
BOBPID=
check_eq "bob received alice's two packets and nothing of mallory's" \
	"hello moved" \
	"$(awk '$1 == "data" { print substr($9, 1, 5) }' bob.out |
	    tr '\n' ' ' | sed 's/ $//')"
before=$(rs_stat drop-source)
ip netns exec "$NA" "$RSNODE" -r 198.51.100.7:4613 -l 198.51.100.10:40000 \
	-d 0x2002 -n 1 -m stale -w 0 > old.out 2>&1
check_eq "alice's old address is no longer relayed" \
	"$((before + 1))" "$(rs_stat drop-source)"

# ---- the operator's view -----------------------------------------------
json=$(ip netns exec "$NR" "$NTMCTL" rs stats --json -s "$T/rs.sock")
check "ntmctl rs stats --json is JSON with the counters" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["paths"] == 1 and d["paths-bound"] == 1, d
assert d["binds"] == 2 and d["rebinds"] == 1 and d["cookies-sent"] == 1, d
assert d["forwarded"] == 4, d' "$json"

kill "$RSPID"
wait "$RSPID"
rc=$?
RSPID=
check_eq "SIGTERM: ntm-rs exits 0" 0 "$rc"
check "and removes its control socket" test ! -e "$T/rs.sock"

tap_done
