#!/bin/sh
# dc-relay.sh -- punch and relay routes end to end in network namespaces:
# two scripted nodes (tests/dc/dirclient) register with ntm-dc from behind
# two different NATs; alice's Direction Request makes the DC allocate the
# path at ntm-rs (RELAY_DIRECTION over mutual TLS on 4614) and only then
# send both Route Directions, which carry route punch, the RS's advertised
# address and each side's own binding key.  Each node then binds at the RS
# with its key (RS_HELLO through its NAT, cookie round trip) and the RS
# counts both sides bound.  With the RS gone, a Direction Request is
# answered UNAVAILABLE.
#
#   ns n1: alice 10.1.0.2 -- ns r1 (MASQUERADE) 192.0.2.1 --+
#   ns n2: carol 10.2.0.2 -- ns r2 (MASQUERADE) 192.0.2.2 --+-- br0 in ns s:
#        ntm-dc 192.0.2.10 (UDP 4610; its TLS and ntm-as on loopback)
#        ntm-rs 192.0.2.7  (UDP 4613, TLS 4614)
#
# NTM_KEEP=1 keeps the temporary directory (logs, outputs) for debugging.
set -u
. "$top_srcdir/tests/tap.sh"
tap_need_root
tap_need_cmd ip iptables python3

NTMCTL=$top_builddir/tools/ntmctl
NTMAS=$top_builddir/as/ntm-as
ASNODE=$top_builddir/tests/as/asnode
DC=$top_builddir/dc/ntm-dc
RS=$top_builddir/rs/ntm-rs
DIR=$top_builddir/tests/dc/dirclient
RSNODE=$top_builddir/tests/rs/rsnode
P=ntm-$$
NS=$P-s NR1=$P-r1 NR2=$P-r2 NN1=$P-n1 NN2=$P-n2
RSPID= CPID=
ASDC_AT_EXIT=relay_cleanup
relay_cleanup() {
	for p in $CPID $RSPID; do kill "$p" 2>/dev/null; done
	for n in $NN1 $NN2 $NR1 $NR2 $NS; do ip netns del "$n" 2>/dev/null; done
}
. "$top_srcdir/tests/asdc.sh"
asdc_begin dcrelay "$NTMCTL" "$NTMAS" "$ASNODE" "$DC" "$RS" "$DIR" "$RSNODE"

# ---- topology ----------------------------------------------------------
for n in $NS $NR1 $NR2 $NN1 $NN2; do
	ip netns add "$n" || tap_skip_all "cannot create a namespace"
	ip -n "$n" link set lo up
done
ip -n "$NS" link add br0 type bridge && ip -n "$NS" link set br0 up || exit 1
ip -n "$NS" addr add 192.0.2.10/24 dev br0
ip -n "$NS" addr add 192.0.2.7/24 dev br0
for i in 1 2; do
	eval r=\$NR$i n=\$NN$i
	ip -n "$NS" link add "vr$i" type veth peer name wan netns "$r" &&
	ip -n "$NS" link set "vr$i" master br0 up &&
	ip -n "$r" link set wan up &&
	ip -n "$r" addr add "192.0.2.$i/24" dev wan &&
	ip -n "$r" link add lan type veth peer name eth0 netns "$n" &&
	ip -n "$r" link set lan up &&
	ip -n "$r" addr add "10.$i.0.1/24" dev lan &&
	ip -n "$n" link set eth0 up &&
	ip -n "$n" addr add "10.$i.0.2/24" dev eth0 &&
	ip -n "$n" route add default via "10.$i.0.1" || exit 1
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	ip netns exec "$r" iptables -t nat -A POSTROUTING -o wan \
	    -j MASQUERADE || tap_skip_all "no iptables NAT here"
done

# ---- certificates and configuration ------------------------------------
asdc_ca
asdc_issue rs --role rs --name rs.ntm.test
head -c 32 /dev/urandom > dc1.tkey
chmod 600 dc1.tkey

# ntm-as and the DC's TLS and DNS on the loopback of ns s; the DC signals
# on the bridge, where the nodes reach it.
asdc_as_head ""
asdc_as_dc 1 "127.0.0.1:$TLS_PORT" "signalling = 192.0.2.10:4610
ticket_key = $T/dc1.tkey"
asdc_zone 192.0.2.10
asdc_dc_dns
asdc_dc_signal 192.0.2.10:4610 "ticket_key_file = $T/dc1.tkey"
asdc_dc_tls
cat >> dc.conf <<EOF

[relay]
server = 192.0.2.7:4614

[control]
socket = $T/dc.sock

[policy]
rule = deny carol.dc1.ntm.test -> alice.dc1.ntm.test
EOF
cat > rs.conf <<EOF2
[relay]
listen = 192.0.2.7:4613
address = 192.0.2.7:4613
[tls]
listen = 192.0.2.7:4614
trust = $T/ca/root.pem
cert = $T/rs.chain
key = $T/rs.key
[control]
socket = $T/rs.sock
[log]
level = debug
EOF2

check_eq "ntm-dc -n accepts [relay] server" "configuration OK" \
	"$("$DC" -n -f dc.conf 2>&1)"
printf '[signal]\nrelay = 192.0.2.7\n' | cat dc.conf - > old.conf
out=$("$DC" -n -f old.conf 2>&1)
case $out in
*"[signal] relay: unknown key"*) ok "the old [signal] relay is refused" ;;
*) not_ok "the old [signal] relay is refused" "$out" ;;
esac
sed '/^\[tls\]/,/^key =/d' dc.conf > notls.conf
out=$("$DC" -n -f notls.conf 2>&1)
case $out in
*"[relay] needs [tls]"*) ok "[relay] without [tls] is refused" ;;
*) not_ok "[relay] without [tls] is refused" "$out" ;;
esac

# ---- daemons -----------------------------------------------------------
ip netns exec "$NS" "$RS" -d -f rs.conf > rs.log 2>&1 &
RSPID=$!
wait_for 10 grep -q "ntm-rs ready" rs.log ||
	{ not_ok "ntm-rs starts" "$(cat rs.log)"; tap_done; exit 1; }
ip netns exec "$NS" "$DC" -d -v -f dc.conf > dc.log 2>&1 &
DCPID=$!
ip netns exec "$NS" "$NTMAS" -d -v -f as.conf > as.log 2>&1 &
ASPID=$!
if wait_for 10 grep -q "relay: connected to rs.ntm.test" dc.log; then
	ok "ntm-dc links to the RS over mutual TLS (role ntm-rs)"
else
	not_ok "ntm-dc links to the RS over mutual TLS (role ntm-rs)" "$(cat dc.log)"
fi
wait_for 10 grep -q "listening for nodes" as.log ||
	{ not_ok "ntm-as starts" "$(cat as.log)"; tap_done; exit 1; }

# alice and carol enrolled: the DC holds their certificates and statuses.
enroll() {	# enroll NAME -> serial on stdout
	echo "secret of $1" | ip netns exec "$NS" $NTMCTL account add "$1" \
		--fqdn "$1.dc1.ntm.test" --socket as.sock >/dev/null
	ip netns exec "$NS" $ASNODE -a 127.0.0.1:$AS_PORT -t ca/root.pem enroll \
		"$1" "secret of $1" "$1.dc1.ntm.test" "$1" > "$1.enroll" 2>&1
	wait_for 10 grep -q "notice-issued $1.dc1.ntm.test" dc.log
}
enroll alice && enroll carol
check "alice's and carol's certificates reach the DC" \
	grep -q "notice-issued carol.dc1.ntm.test" dc.log
SA=$(sed -n 's/^serial //p' alice.enroll)
SC=$(sed -n 's/^serial //p' carol.enroll)
V4A=$(sed -n 's/^vip4 //p' alice.enroll)
V4C=$(sed -n 's/^vip4 //p' carol.enroll)

# ---- a punch route through the RS --------------------------------------
ip netns exec "$NN2" "$DIR" -k dc1.tkey -n carol.dc1.ntm.test -4 "$V4C" \
	-s "$SC" -t 30 -w 192.0.2.10:4610 > carol.out 2>&1 &
CPID=$!
wait_for 10 grep -q "^registered" carol.out
check "carol registers from behind her NAT (observed 192.0.2.2)" \
	grep -q "^registered carol.dc1.ntm.test observed 192.0.2.2:" carol.out
ip netns exec "$NN1" "$DIR" -k dc1.tkey -n alice.dc1.ntm.test -4 "$V4A" \
	-s "$SA" -t 10 -d carol.dc1.ntm.test 192.0.2.10:4610 > alice.out 2>&1
wait "$CPID"
CPID=
RA=$(grep '^route' alice.out)
RC=$(grep '^route' carol.out)
field() { printf '%s\n' "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
check_eq "alice's Route Direction: route punch" punch "$(printf '%s' "$RA" | awk '{print $2}')"
check_eq "carol's Route Direction: route punch" punch "$(printf '%s' "$RC" | awk '{print $2}')"
check_eq "alice gets the RS's advertised address" 192.0.2.7:4613 "$(field "$RA" relay)"
check_eq "carol gets the RS's advertised address" 192.0.2.7:4613 "$(field "$RC" relay)"
KA=$(field "$RA" binding)
KC=$(field "$RC" binding)
check "each carries a binding key" test ${#KA} -eq 64 -a ${#KC} -eq 64
check "and the two keys differ" test "$KA" != "$KC"
check_eq "alice's receiver id is carol's peer receiver id" \
	"$(field "$RA" recv)" "$(field "$RC" peer_recv)"
check_eq "carol's receiver id is alice's peer receiver id" \
	"$(field "$RC" recv)" "$(field "$RA" peer_recv)"
check_eq "alice is told carol's NAT address" 192.0.2.2 \
	"$(field "$RA" peer | sed 's/:.*//')"
check "the DC sent carol's Route Direction only after the RS's ACK" \
	python3 -c '
import sys
log = open(sys.argv[1]).read()
ask = log.find("asking the RS")
cn = log.find("punch route, CN at")
assert ask >= 0 and cn > ask, (ask, cn)' dc.log

rs_stat() {
	ip netns exec "$NS" "$NTMCTL" rs stats -s "$T/rs.sock" |
	    awk -v k="$1" '$1 == k { print $2 }'
}
stat_is() { [ "$(rs_stat "$1")" = "$2" ]; }
check "ntmctl rs stats: the RS took one RELAY_DIRECTION" stat_is directions 1
check "and holds the path" stat_is paths 1

# Each side binds with the key its Route Direction gave it.
ip netns exec "$NN1" "$RSNODE" -r 192.0.2.7:4613 -i "$(field "$RA" recv)" \
	-k "$KA" -w 1000 > bind-a.out 2>&1
ip netns exec "$NN2" "$RSNODE" -r 192.0.2.7:4613 -i "$(field "$RC" recv)" \
	-k "$KC" -w 1000 > bind-c.out 2>&1
check "both nodes bind at the RS with their own keys" wait_for 5 stat_is binds 2
check "the RS counts the path bound on both sides" stat_is paths-bound 1
before=$(rs_stat binds)
ip netns exec "$NN1" "$RSNODE" -r 192.0.2.7:4613 -i "$(field "$RC" recv)" \
	-k "$KA" -c 5 -w 1000 > bind-x.out 2>&1
check_eq "alice's key does not bind carol's side" "$before" "$(rs_stat binds)"

kill -USR1 "$DCPID"
wait_for 5 grep -q "stats: relay_acks 1" dc.log
check "SIGUSR1: the DC logs relay_asks 1" grep -q "stats: relay_asks 1" dc.log
check "relay_acks 1" grep -q "stats: relay_acks 1" dc.log
check "route_punch 1" grep -q "stats: route_punch 1" dc.log
check "rs_links_connected 1" grep -q "stats: rs_links_connected 1" dc.log

# The same counters from the DC's stats socket, as an operator reads them.
dc_stat() {
	ip netns exec "$NS" "$NTMCTL" dc stats -s "$T/dc.sock" |
	    awk -v k="$1" '$1 == k { print $2 }'
}
check_eq "ntmctl dc stats: relay_asks" 1 "$(dc_stat relay_asks)"
check_eq "ntmctl dc stats: route_punch" 1 "$(dc_stat route_punch)"
check_eq "ntmctl dc stats: two nodes registered" 2 "$(dc_stat registered)"
check "ntmctl dc stats --json is one JSON object with the DNS counters" \
	sh -c "ip netns exec '$NS' '$NTMCTL' dc stats --json -s '$T/dc.sock' |
	python3 -c 'import json, sys; d = json.load(sys.stdin);
assert d[\"relay_acks\"] == 1 and \"dns_queries\" in d, d'"
out=$("$NTMCTL" dc stats -s "$T/none.sock" 2>&1)
check_eq "ntmctl dc stats without ntm-dc: exit 1 and why" \
	"1 ntmctl: ntm-dc is not running ($T/none.sock: No such file or directory)" \
	"$? $out"

# ---- the direction policy ------------------------------------------------
# carol may not ask for alice (the rule above); alice -> carol went through.
printf '[policy]\nrule = permit carol.dc1.ntm.test -> *\n' | cat dc.conf - > badpol.conf
out=$("$DC" -n -f badpol.conf 2>&1)
case $out in
*'[policy] rule "permit carol.dc1.ntm.test -> *": a rule starts with allow or deny'*)
	ok "ntm-dc -n names a bad policy rule and why" ;;
*) not_ok "ntm-dc -n names a bad policy rule and why" "$out" ;;
esac
ip netns exec "$NN1" "$DIR" -k dc1.tkey -n alice.dc1.ntm.test -4 "$V4A" \
	-s "$SA" -t 8 -w 192.0.2.10:4610 > alice3.out 2>&1 &
APID=$!
wait_for 10 grep -q "^registered" alice3.out
ip netns exec "$NN2" "$DIR" -k dc1.tkey -n carol.dc1.ntm.test -4 "$V4C" \
	-s "$SC" -t 10 -d alice.dc1.ntm.test 192.0.2.10:4610 > carol3.out 2>&1
check_eq "policy: carol's request for alice is refused" \
	"refused refused by policy" "$(grep -v '^registered' carol3.out)"
wait "$APID"
check "and alice is never directed" sh -c "! grep -q '^route' alice3.out"
check "the DC logs the denial" \
	grep -q "policy: carol.dc1.ntm.test -> alice.dc1.ntm.test denied" dc.log

# ---- without the RS ----------------------------------------------------
kill "$RSPID"
wait "$RSPID" 2>/dev/null
RSPID=
wait_for 10 grep -q "relay: link to 192.0.2.7:4614 lost" dc.log
check "the DC notices the RS is gone" \
	grep -q "relay: link to 192.0.2.7:4614 lost" dc.log
ip netns exec "$NN2" "$DIR" -k dc1.tkey -n carol.dc1.ntm.test -4 "$V4C" \
	-s "$SC" -t 30 -w 192.0.2.10:4610 > carol2.out 2>&1 &
CPID=$!
wait_for 10 grep -q "^registered" carol2.out
ip netns exec "$NN1" "$DIR" -k dc1.tkey -n alice.dc1.ntm.test -4 "$V4A" \
	-s "$SA" -t 10 -d carol.dc1.ntm.test 192.0.2.10:4610 > alice2.out 2>&1
check_eq "RS down: alice's request is answered UNAVAILABLE" \
	"refused unavailable" "$(grep -v '^registered' alice2.out)"
kill "$CPID" 2>/dev/null
wait "$CPID" 2>/dev/null
CPID=
check_eq "and carol was never directed" "" "$(grep '^route' carol2.out)"

kill "$DCPID"
wait "$DCPID"
rc=$?
DCPID=
check_eq "SIGTERM: ntm-dc exits 0" 0 "$rc"
tap_done
