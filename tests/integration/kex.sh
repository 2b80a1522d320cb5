#!/bin/sh
# kex.sh -- every key-exchange scheme end to end in the lab (issue 5): for
# ecdhe, shared and rsa, a lookup sets up a tunnel in each direction
# between two nodes (getent through the NSS module gives the virtual IP,
# ping goes through it, both ntmd log the scheme they used).  rsa with
# RSA-2048 node keys ([node] key_type = rsa2048, enrolled with the lab AS).
#
#   as  dc1                          -- srv 198.51.100.0/24
#          [core]
#   alice ---- core ---- dave        (both dc1.ntm.test; direct route)
#
# Each scheme: both nodes' [tunnel] kex_allowed set and their ntmd
# restarted (the restart's TUNNEL_CLOSE ends the tunnel before), then
#   alice -> dave  (alice initiator)   and, after alice's ntmd restarted,
#   dave -> alice  (dave initiator).
#
# rsa: the initiator encapsulates to the responder's certificate key, so
# it needs that certificate before its Tunnel Request (PROTOCOL.md 9.2).
# ntmd keeps the certificates it learnt in memory; on first contact it
# fetches the responder's in band (PROTOCOL.md 8.5), so the first rsa
# lookup succeeds (the log says the certificate was fetched) and a later
# one with the certificate still held sends no fetch.  rsa toward a P-256
# certificate (fetched the same way) is still refused, with no fallback.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/lab.sh"
lab_begin kx getent ping openssl

lab_up "ntm-lab up with every node enrolled and registered"
lab_need_registered alice dave

# vips NODE: NODE's "vIPv4 vIPv6" from ntmctl status.
vips() {
	echo "$(nstat "$1" vip4) $(nstat "$1" vip6)"
}

# tunnel_kex NODE: the scheme of NODE's tunnel in ntmctl tunnels --json,
# empty when the listing does not carry it.
tunnel_kex() {
	ctl "$1" tunnels --json 2>/dev/null | python3 -c '
import json, sys
t = json.load(sys.stdin)
print(t[0].get("kex", t[0].get("scheme", "")) if t else "")' 2>/dev/null
}

# setup_check SCHEME FROM TO: FROM looks TO up with no tunnel between them;
# a tunnel of SCHEME comes up with FROM as initiator, traffic goes both
# ways over TO's virtual IPs.
setup_check() {
	k=$1 from=$2 to=$3
	set -- $(vips "$to")
	t4=$1 t6=$2
	log_mark "$from"
	log_mark "$to"
	check_eq "$k: $from: getent hosts $to.dc1.ntm.test gives $to's vIPv6" \
		"$t6" "$(lab exec --name "$L" "$from" -- getent hosts "$to.dc1.ntm.test" |
		awk '{ print $1 }')"
	check_eq "$k: $from: getent ahostsv4 gives $to's vIPv4" "$t4" \
		"$(lab exec --name "$L" "$from" -- getent ahostsv4 "$to.dc1.ntm.test" |
		awk 'NR == 1 { print $1 }')"
	check "$k: $from's log: tunnel to $to up with $k as initiator" \
		log_has "$from" "tunnel to $to\.dc1\.ntm\.test up \(path [0-9a-f]+, $k, initiator\)"
	check "$k: $to's log: tunnel to $from up with $k as responder" \
		log_has "$to" "tunnel to $from\.dc1\.ntm\.test up \(path [0-9a-f]+, $k, responder\)"
	check "$k: $from's data plane installed it with $k" \
		log_has "$from" "tunnel to $to\.dc1\.ntm\.test installed \(path [0-9a-f]+, rid [0-9a-f]+, $k[,)]"
	check "$k: $from: ntmctl tunnels lists $to up" \
		sh -c "'$NTMCTL' tunnels -s '$S/$from/ntmd.sock' | grep -Eq \
		'^$to\.dc1\.ntm\.test +direct +up +$t4 +$t6\$'"
	check "$k: $to: ntmctl tunnels lists $from up" \
		sh -c "'$NTMCTL' tunnels -s '$S/$to/ntmd.sock' | grep -Eq \
		'^$from\.dc1\.ntm\.test +direct +up '"
	check_eq "$k: $from: ntmctl tunnels --json names the scheme" "$k" \
		"$(tunnel_kex "$from")"
	check "$k: $from pings $to's vIPv4 $t4 through the tunnel" \
		lab exec --name "$L" "$from" -- ping -c 2 -W 2 "$t4"
	check "$k: $from pings $to's vIPv6 $t6 through the tunnel" \
		lab exec --name "$L" "$from" -- ping -6 -c 2 -W 2 "$t6"
	set -- $(vips "$from")
	check "$k: $to pings $from's vIPv4 $1 back over the same tunnel" \
		lab exec --name "$L" "$to" -- ping -c 2 -W 2 "$1"
	check_eq "$k: $to: still one tunnel (the answer used the live one)" 1 \
		"$(ntunnels "$to")"
	check "$k: neither side logged a refusal" \
		not_logged "$from" "$to" "refused"
}

# both NODE1 NODE2 SCHEMES: sets kex_allowed on both, restarts both.
both() {
	for n in "$1" "$2"; do
		node_set "$n" tunnel kex_allowed "$3"
		check "$n: ntmd -n accepts kex_allowed = $3" "$NTMD" -n -f "$S/$n/ntmd.conf"
		check "$n: ntmd restarts and registers (kex_allowed = $3)" node_restart "$n"
	done
	check "no tunnel left on alice" wait_for 5 no_tunnel alice
	check "no tunnel left on dave" wait_for 5 no_tunnel dave
}

# ---- ecdhe (the default) ---------------------------------------------------

both alice dave ecdhe
setup_check ecdhe alice dave
check "ecdhe: alice's ntmd restarts (its TUNNEL_CLOSE ends the tunnel)" node_restart alice
check "ecdhe: dave holds no tunnel" wait_for 5 no_tunnel dave
setup_check ecdhe dave alice

# ---- shared (the paper's conventional scheme) ------------------------------

both alice dave shared
setup_check shared alice dave
check "shared: alice's ntmd restarts" node_restart alice
check "shared: dave holds no tunnel" wait_for 5 no_tunnel dave
setup_check shared dave alice

# ---- rsa toward a P-256 certificate, first contact ------------------------

# Both allow rsa and ecdhe, alice asks rsa first, and neither holds the
# other's certificate (both just restarted).  alice fetches dave's
# certificate in band (PROTOCOL.md 8.5): it is his P-256 one, so rsa is
# refused, and nothing falls back to ecdhe.
both alice dave "rsa, ecdhe"
log_mark alice
log_mark dave
check_fails "rsa toward P-256: alice's lookup of dave fails" \
	lab exec --name "$L" alice -- getent hosts dave.dc1.ntm.test
check "rsa toward P-256: alice fetched dave's certificate (none held)" \
	log_has alice "certificate of dave\.dc1\.ntm\.test fetched \(path [0-9a-f]+\)"
check "rsa toward P-256: alice's log says rsa needs an RSA-2048 certificate key" \
	log_has alice "tunnel to dave\.dc1\.ntm\.test \(path [0-9a-f]+\) refused: key-exchange scheme needs an RSA-2048 certificate key"
check "rsa toward P-256: no fallback: no tunnel with another scheme" \
	not_logged alice dave "tunnel to (dave|alice)\.dc1\.ntm\.test (up|installed)"
check_eq "rsa toward P-256: alice holds no tunnel" 0 "$(ntunnels alice)"

# ---- rsa: RSA-2048 node keys -------------------------------------------------

# Both nodes enroll again with an RSA key: state emptied, key_type set.
for n in alice dave; do
	node_stop "$n"
	rm -f "$S/$n/state/"*
	node_set "$n" node key_type rsa2048
	node_set "$n" tunnel kex_allowed "rsa, ecdhe"
done
for n in alice dave; do
	check "$n: ntmd -n accepts key_type = rsa2048" "$NTMD" -n -f "$S/$n/ntmd.conf"
	log_mark "$n"
	check "$n: ntmd enrolls again and registers" node_start "$n"
	check "$n: ntmd made an RSA-2048 key for its enrollment" \
		log_has "$n" "key\.pem: new RSA-2048 key for enrollment"
	check "$n: the AS issued a certificate for the RSA-2048 key" \
		sh -c "openssl x509 -in '$S/$n/state/cert.pem' -noout -text |
		grep -q 'Public-Key: (2048 bit)'"
	check "$n: that certificate allows key encipherment (RSA-KEM target)" \
		sh -c "openssl x509 -in '$S/$n/state/cert.pem' -noout -ext keyUsage |
		grep -q 'Key Encipherment'"
done

# First contact: alice holds no certificate of dave's.  Her ntmd fetches
# it from dave on the path of the Route Direction, checks it against the
# hash her DC directed, and the first rsa lookup sets the tunnel up.
setup_check rsa alice dave
check "rsa: alice's log: dave's certificate fetched (first contact)" \
	log_has alice "certificate of dave\.dc1\.ntm\.test fetched \(path [0-9a-f]+\)"
check "rsa: dave's log: he answered alice's certificate fetch" \
	log_has dave "certificate fetch from alice\.dc1\.ntm\.test \(path [0-9a-f]+\) answered"

# The tunnel closes (dave's restart); alice, still running, keeps his
# certificate (the same one: his state survives the restart), so her
# next lookup sends no fetch.
check "rsa: dave's ntmd restarts (ends the tunnel)" node_restart dave
check "rsa: alice holds no tunnel" wait_for 5 no_tunnel alice
setup_check rsa alice dave
check "rsa: alice's second lookup did not fetch dave's certificate again" \
	not_logged alice dave "certificate of dave\.dc1\.ntm\.test fetched"
check "rsa: dave answered no certificate fetch this time" \
	not_logged dave dave "certificate fetch from alice"

# The other way: dave restarted again has forgotten alice's certificate
# (it is kept in memory only) and fetches it for his first rsa lookup.
check "rsa: dave's ntmd restarts (forgets alice's certificate)" node_restart dave
check "rsa: alice holds no tunnel" wait_for 5 no_tunnel alice
setup_check rsa dave alice
check "rsa: dave's log: alice's certificate fetched" \
	log_has dave "certificate of alice\.dc1\.ntm\.test fetched \(path [0-9a-f]+\)"
check "rsa: alice's log: she answered dave's certificate fetch" \
	log_has alice "certificate fetch from dave\.dc1\.ntm\.test \(path [0-9a-f]+\) answered"

[ "$TAP_FAILED" = 0 ] || dump as dc1 alice dave
tap_done
