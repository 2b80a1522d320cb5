#!/bin/sh
# refuse.sh -- the refusals of issue 5 with the real daemons: a peer
# certificate from another root, expired, of the wrong role, for another
# FQDN, with other virtual IPs, one the AS never announced, a revoked one,
# a scheme outside kex_allowed (no fallback), rsa toward a P-256
# certificate.  Each time: getent (through the NSS module) fails, neither
# node holds a tunnel, and a log line names the check that failed (for
# the revoked certificate only the DC's: see the end).
#
#   as  dc1                          -- srv 198.51.100.0/24
#          [core]
#   alice ---- core ---- dave        (both dc1.ntm.test; direct route)
#
# A bad certificate goes into alice's state dir (key.pem + cert.pem with
# its chain, made offline with "ntmctl ca issue" from the lab AS's CA
# directory or from another root) and her ntmd is restarted; it keeps its
# DC ticket, so it registers as before with the virtual IPs of the ticket.
#
# Which check fires depends on the direction, because the DC directs each
# side with the peer's certificate hash from two different sources:
#   - alice as MN (alice -> dave): the DC passes dave the hash alice put in
#     her Direction Request, i.e. the bad certificate's.  dave's full peer
#     check runs and names the real defect (chain, role, dates, FQDN,
#     virtual IPs, serial).
#   - alice as CN (dave -> alice): the DC directs dave with the hash the AS
#     announced for alice's enrolled certificate (its notices), and dave
#     signs his Tunnel Request over that hash (PROTOCOL.md 8.3).  alice
#     checks the signature against the hash of the certificate she now
#     holds, so she refuses the request herself ("handshake signature does
#     not verify") before dave ever sees her substituted certificate; had
#     she answered, dave would refuse it as "not the one the DC directed".
# The other root's certificate goes in with the lab's AS CA after it: with
# that root's own AS CA in her cert.pem, alice's tunnel code takes it as
# the status signer and refuses dave's status at his Route Direction
# ("status does not verify") before sending anything.
# A revoked certificate never reaches a node's peer check: the AS's notice
# makes the DC refuse the Direction Request (REVOKED) in either direction.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/lab.sh"
lab_begin rf getent openssl

lab_up "ntm-lab up with every node enrolled and registered"
lab_need_registered alice dave

A4=$(nstat alice vip4)
A6=$(nstat alice vip6)
CA=$S/as/ca
cp "$S/alice/state/key.pem" "$T/good.key"
cp "$S/alice/state/cert.pem" "$T/good.pem"
NOW=$(date +%s)

# issue NAME CADIR ARGS...: a certificate and key from CADIR's AS CA as
# $T/NAME.key and $T/NAME.pem (with that AS CA after it, as ntmd keeps it).
issue() {
	n=$1 d=$2
	shift 2
	"$NTMCTL" ca issue --dir "$d" --out "$T/$n.leaf" "$@" >"$T/$n.log" 2>&1 ||
	    return 1
	mv "$T/$n.leaf.key" "$T/$n.key"
	cat "$T/$n.leaf.pem" "$d/as.pem" >"$T/$n.pem"
}

# alice_holds NAME: alice's ntmd restarted with $T/NAME.key and .pem.
alice_holds() {
	node_stop alice || return 1
	install -m 0600 "$T/$1.key" "$S/alice/state/key.pem"
	install -m 0600 "$T/$1.pem" "$S/alice/state/cert.pem"
	node_start alice
}

no_tunnels() {
	no_tunnel alice && no_tunnel dave
}

# refused FROM TO WHAT [REASON]: FROM's lookup of TO fails (ntmctl resolve
# says NOTFOUND REASON, default refused) and neither holds a tunnel
# afterwards.
refused() {
	check_fails "$3: $1: getent hosts $2.dc1.ntm.test fails" \
		lab exec --name "$L" "$1" -- getent hosts "$2.dc1.ntm.test"
	check_eq "$3: $1: ntmctl resolve says NOTFOUND ${4:-refused}" \
		"ntmctl: NOTFOUND ${4:-refused}" \
		"$(lab exec --name "$L" "$1" -- "$NTMCTL" resolve -s "$S/$1/ntmd.sock" \
		"$2.dc1.ntm.test" 2>&1)"
	check "$3: no tunnel on alice nor dave" wait_for 3 no_tunnels
}

# ---- substituted certificates ------------------------------------------------

"$NTMCTL" ca init --dir "$T/other" --domain ntm.test \
	--vrange4 198.18.0.0/15 --vrange6 fd6e:746d:6f62::/48 >"$T/other.log" 2>&1
check "another root (ntmctl ca init in a temporary dir)" test -f "$T/other/as.pem"
check "bad certificate: from the other root" issue other "$T/other" \
	--role node --name alice.dc1.ntm.test --vip4 "$A4" --vip6 "$A6"
cat "$T/other.leaf.pem" "$CA/as.pem" >"$T/other.pem"
# Issued as if the clock read 10 days ago, valid one hour.
check "bad certificate: expired 10 days ago (--now, --lifetime)" issue expired "$CA" \
	--role node --name alice.dc1.ntm.test --vip4 "$A4" --vip6 "$A6" \
	--now "$((NOW - 864000))" --lifetime 3600
check "bad certificate: role ntm-rs instead of ntm-node" issue role "$CA" \
	--role rs --name alice.dc1.ntm.test
check "bad certificate: for mallory.dc1.ntm.test" issue fqdn "$CA" \
	--role node --name mallory.dc1.ntm.test --vip4 "$A4" --vip6 "$A6"
check "bad certificate: other virtual IPs" issue vip "$CA" \
	--role node --name alice.dc1.ntm.test --vip4 198.18.1.99 \
	--vip6 fd6e:746d:6f62:1::99
# Right name, addresses and chain, valid: only its serial is not the one
# the AS issued and announced (status and direction carry that one).
check "bad certificate: a second one the AS never announced" issue serial "$CA" \
	--role node --name alice.dc1.ntm.test --vip4 "$A4" --vip6 "$A6"

# substitute NAME WHAT ERE: alice holds certificate NAME; refused by dave
# as CN with the check ERE, then by dave as MN on the directed hash.
substitute() {
	check "$2: alice's ntmd restarts with it and registers" alice_holds "$1"
	log_mark alice
	log_mark dave
	refused alice dave "$2"
	check "$2: dave's peer check names it: $3" \
		log_has dave "peer alice\.dc1\.ntm\.test refused: $3"
	check "$2: dave refused alice's Tunnel Request for it" \
		log_has dave "tunnel request from alice\.dc1\.ntm\.test \(path [0-9a-f]+\) refused: $3"
	check "$2: alice's log: dave refused the tunnel" \
		log_has alice "tunnel to dave\.dc1\.ntm\.test \(path [0-9a-f]+\) refused: "
	log_mark alice
	log_mark dave
	refused dave alice "$2, the other way"
	check "$2, the other way: alice refuses dave's request, signed for her announced certificate" \
		log_has alice "tunnel request from dave\.dc1\.ntm\.test \(path [0-9a-f]+\) refused: handshake signature does not verify"
	check "$2, the other way: dave's log: alice refused it" \
		log_has dave "tunnel to alice\.dc1\.ntm\.test \(path [0-9a-f]+\) refused: peer refused: handshake signature does not verify"
}

substitute other "another root" \
	"certificate does not chain to the root through the AS"
substitute expired "expired" "certificate expired"
substitute role "wrong role" "certificate role is not ntm-node"
substitute fqdn "wrong FQDN" "certificate FQDN is not the peer's name"
substitute vip "virtual IP mismatch" \
	"certificate virtual IPs differ from the directed ones"
substitute serial "unannounced certificate" \
	"certificate serial is not the directed one"

check "alice's ntmd restarts with her enrolled certificate" alice_holds good
log_mark alice
check_eq "alice reaches dave again with her own certificate" \
	"$(nstat dave vip6)" \
	"$(lab exec --name "$L" alice -- getent hosts dave.dc1.ntm.test | awk '{ print $1 }')"
check "alice's ntmd restarts (ends that tunnel)" node_restart alice
check "dave holds no tunnel" wait_for 5 no_tunnel dave

# ---- a scheme outside the peer's kex_allowed: no fallback ------------------

node_set alice tunnel kex_allowed shared
check "alice's ntmd restarts with kex_allowed = shared" node_restart alice
log_mark alice
log_mark dave
refused alice dave "shared toward ecdhe-only dave"
check "shared: dave refused it at the Route Direction: scheme outside kex_allowed" \
	log_has dave "route direction from alice\.dc1\.ntm\.test \(path [0-9a-f]+\) refused: scheme outside kex_allowed"
check "shared: alice's log: the DC refused the direction (key exchange not allowed)" \
	log_has alice "tunnel to dave\.dc1\.ntm\.test \(path -\) refused: the DC refused the direction \(key exchange not allowed\)"
check "shared: no fallback: alice never tried ecdhe" \
	not_logged alice dave "tunnel to (dave|alice)\.dc1\.ntm\.test up"
log_mark alice
log_mark dave
refused dave alice "ecdhe toward shared-only alice"
check "ecdhe: alice refused it at the Route Direction: scheme outside kex_allowed" \
	log_has alice "route direction from dave\.dc1\.ntm\.test \(path [0-9a-f]+\) refused: scheme outside kex_allowed"
check "ecdhe: dave's log: the DC refused the direction (key exchange not allowed)" \
	log_has dave "tunnel to alice\.dc1\.ntm\.test \(path -\) refused: the DC refused the direction \(key exchange not allowed\)"
check "ecdhe: no fallback: dave never tried shared" \
	not_logged alice dave "tunnel to (dave|alice)\.dc1\.ntm\.test up"

# ---- rsa toward a P-256 certificate ----------------------------------------

# alice would start rsa, dave ecdhe; both allow both.  dave's ecdhe
# tunnel teaches alice his (P-256) certificate; his restart ends it.
node_set alice tunnel kex_allowed "rsa, ecdhe"
node_set dave tunnel kex_allowed "ecdhe, rsa"
check "alice's ntmd restarts with kex_allowed = rsa, ecdhe" node_restart alice
check "dave's ntmd restarts with kex_allowed = ecdhe, rsa" node_restart dave
check_eq "dave -> alice: an ecdhe tunnel" "$A6" \
	"$(lab exec --name "$L" dave -- getent hosts alice.dc1.ntm.test | awk '{ print $1 }')"
check "dave's ntmd restarts (ends it; alice keeps his certificate)" node_restart dave
check "alice holds no tunnel" wait_for 5 no_tunnel alice
log_mark alice
log_mark dave
refused alice dave "rsa toward P-256"
check "rsa toward P-256: alice's log says rsa needs an RSA-2048 certificate key" \
	log_has alice "tunnel to dave\.dc1\.ntm\.test \(path [0-9a-f]+\) refused: key-exchange scheme needs an RSA-2048 certificate key"
check "rsa toward P-256: no fallback to ecdhe" \
	not_logged alice dave "tunnel to (dave|alice)\.dc1\.ntm\.test up"
# The other way round is the same check on dave's side (the initiator
# refuses before sending anything): not repeated.

# ---- revoked ---------------------------------------------------------------

# The AS's notice makes dc1 end alice's registration at once.  Nothing
# tells alice (the DC sends a node no STATUS_NOTICE yet): her Direction
# Requests go unanswered, and the DC answers dave's with NOT_REGISTERED.
# The revocation shows in the DC's log; the nodes' logs say what they saw.
node_set alice tunnel kex_allowed ecdhe
node_set dave tunnel kex_allowed ecdhe
check "alice's ntmd restarts with kex_allowed = ecdhe" node_restart alice
check "dave's ntmd restarts with kex_allowed = ecdhe" node_restart dave
dc_revoked() {
	grep -q "alice\.dc1\.ntm\.test: revoked; its registration ended" \
	    "$S/dc1/ntm-dc.log"
}
check "ntmctl revoke alice.dc1.ntm.test at the lab AS" \
	"$NTMCTL" revoke alice.dc1.ntm.test --socket "$S/as/ntm-as.sock"
check "dc1 ends alice's registration on the AS's notice" wait_for 10 dc_revoked
log_mark alice
log_mark dave
refused alice dave "revoked MN" timeout
check "revoked MN: alice's log: no route direction from the DC" \
	wait_for 15 log_has alice "tunnel to dave\.dc1\.ntm\.test \(path -\) refused: no route direction from the DC"
refused dave alice "revoked CN" no-such-node
check "revoked CN: dave's log: the DC refused the direction (not registered)" \
	log_has dave "tunnel to alice\.dc1\.ntm\.test \(path -\) refused: the DC refused the direction \(not registered\)"

[ "$TAP_FAILED" = 0 ] || dump as dc1 alice dave
tap_done
