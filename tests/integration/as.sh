#!/bin/sh
# as.sh -- ntm-as end to end on loopback: accounts, enrollment, auth,
# renewal, revocation (OCSP + CRL, read by openssl), and every bad input.
#
#   ntmctl ca init/issue ──> root, AS CA (key only in ntm-as's signer),
#                            ntm-as TLS cert, a DC cert, a node cert
#   asnode (tests/as) ──TLS 127.0.0.1:$AS──> ntm-as ──> as.db, as.crl
#   ntmctl account/revoke ──UNIX socket──> ntm-as
#
# No root needed: one ntm-as on 127.0.0.1, its port picked free.
. "$top_srcdir/tests/tap.sh"
tap_need_cmd openssl

NTMCTL=$top_builddir/tools/ntmctl
NTMAS=$top_builddir/as/ntm-as
ASNODE=$top_builddir/tests/as/asnode
. "$top_srcdir/tests/asdc.sh"
asdc_begin as "$NTMCTL" "$NTMAS" "$ASNODE"

contains() {
	case "$3" in
	*"$2"*) ok "$1" ;;
	*) not_ok "$1" "missing: $2
in: $3" ;;
	esac
}

# --- PKI and configuration ----------------------------------------------
asdc_ca
asdc_issue stray --role node --fqdn mallory.dc1.ntm.test \
	--vip4 198.18.1.200 --vip6 fd6e:746d:6f62:1::200
head -c 32 /dev/urandom > dc1.tkey
head -c 32 /dev/urandom > dc2.tkey
chmod 600 dc1.tkey dc2.tkey

# Few guesses per account, so the rate limit is seen below.
asdc_as_head "crl = $T/as.crl
status_validity = 2m" "account_burst = 4
account_per_minute = 1
source_burst = 500"
asdc_as_dc 1 127.0.0.1:1 "signalling = 192.0.2.1:4610
pool4 = 198.18.1.0/29
pool6 = fd6e:746d:6f62:1::/125
ticket_key = $T/dc1.tkey"
asdc_as_dc 2 127.0.0.1:1 "ticket_key = $T/dc2.tkey"

out=$($NTMAS -n -f as.conf 2>&1)
check_eq "ntm-as -n accepts the configuration" "configuration OK" "$out"
sed 's/^prefix4 = 198.18.2.0.24/prefix4 = 198.18.1.0\/25/' as.conf > bad.conf
out=$($NTMAS -n -f bad.conf 2>&1)
check_eq "ntm-as -n refuses overlapping DC prefixes (exit 1)" 1 "$?"
contains "and says which" "prefixes overlap" "$out"
chmod 644 dc2.tkey
out=$($NTMAS -n -f as.conf 2>&1)
check_eq "a world-readable ticket key is refused" 1 "$?"
chmod 600 dc2.tkey

# --- start ----------------------------------------------------------------
$NTMAS -d -v -f as.conf > as.log 2>&1 &
ASPID=$!
if wait_for 10 grep -q "listening for nodes" as.log; then
	ok "ntm-as starts and listens"
else
	not_ok "ntm-as starts and listens" "$(cat as.log)"
	tap_done
	exit
fi
check "the CA key is not open in the network process" sh -c \
	"! ls -l /proc/$ASPID/fd 2>/dev/null | grep -q 'ca/as.key'"

A="-a 127.0.0.1:$AS_PORT -t ca/root.pem"

# --- accounts -------------------------------------------------------------
out=$(echo "correct horse" | $NTMCTL account add alice \
	--fqdn alice.dc1.ntm.test --fqdn dave.dc1.ntm.test --socket as.sock)
check_eq "ntmctl account add alice" "account alice added with 2 FQDNs" "$out"
echo "battery staple" > bob.pw
check "ntmctl account add bob (password file)" $NTMCTL account add bob \
	--fqdn bob.dc2.ntm.test --password-file bob.pw --socket as.sock
out=$(echo "whatever12" | $NTMCTL account add carol \
	--fqdn bob.dc2.ntm.test --socket as.sock 2>&1)
check_eq "an FQDN of another account is refused (exit 1)" 1 "$?"
contains "and says why" "already belongs" "$out"
out=$($NTMCTL account list --socket as.sock)
contains "account list shows alice's FQDNs" \
	"alice.dc1.ntm.test,dave.dc1.ntm.test" "$out"
out=$($NTMCTL account list --json --socket as.sock)
contains "account list --json" '"name": "bob"' "$out"

# --- enrollment -----------------------------------------------------------
out=$($ASNODE $A enroll alice "correct horse" alice.dc1.ntm.test alice)
check_eq "alice enrolls (exit 0)" 0 "$?"
contains "AUTH_RESPONSE OK" "status OK" "$out"
contains "first vIPv4 of dc1's pool" "vip4 198.18.1.1" "$out"
contains "first vIPv6 of dc1's pool" "vip6 fd6e:746d:6f62:1::1" "$out"
contains "role ntm-node" "role ntm-node" "$out"
contains "default lifetime 30 days (+5 min backdate)" "lifetime 2592300" \
	"$out"
contains "a DC ticket" "ticket" "$out"
contains "the home zone" "zone dc1.ntm.test" "$out"
ASERIAL=$(printf '%s\n' "$out" | sed -n 's/^serial //p')
check_eq "128-bit serial" 32 "${#ASERIAL}"
check_eq "node key written 0600" 600 "$(stat -c %a alice.key)"
check_eq "openssl verifies alice's certificate" "alice.pem: OK" \
	"$(openssl verify -CAfile ca/root.pem -untrusted ca/as.pem alice.pem 2>&1)"
out=$(openssl x509 -in alice.pem -noout -text)
contains "SAN dNSName and iPAddress" \
	"DNS:alice.dc1.ntm.test, IP Address:198.18.1.1" "$out"

out=$($ASNODE $A enroll alice "correct horse" dave.dc1.ntm.test dave)
contains "dave gets the next address" "vip4 198.18.1.2" "$out"
out=$($ASNODE $A enroll bob "battery staple" bob.dc2.ntm.test bob)
contains "bob's pool is dc2's prefix" "vip4 198.18.2.1" "$out"

# --- authentication and renewal -------------------------------------------
out=$($ASNODE $A -c alice.pem -k alice.key auth)
check_eq "alice authenticates with her certificate" 0 "$?"
contains "same certificate" "serial $ASERIAL" "$out"
out=$($ASNODE $A -c alice.pem -k alice.key renew alice2)
check_eq "alice renews" 0 "$?"
contains "renewal keeps the vIP" "vip4 198.18.1.1" "$out"
NSERIAL=$(printf '%s\n' "$out" | sed -n 's/^serial //p')
check "renewal has a new serial" test "$NSERIAL" != "$ASERIAL"
out=$($ASNODE $A -c alice2.pem -k alice2.key auth)
contains "the renewed certificate authenticates" "serial $NSERIAL" "$out"
out=$($ASNODE $A -c alice.pem -k alice.key auth)
contains "the certificate it replaced is revoked" "status REVOKED" "$out"
check "the AS logs it superseded" \
	grep -q "renewal of alice.dc1.ntm.test: certificate $ASERIAL superseded by $NSERIAL" as.log
if command -v sqlite3 >/dev/null 2>&1; then
	n=$(sqlite3 as.db "SELECT reason FROM revocations WHERE serial = '$ASERIAL'")
	check_eq "with reason superseded (4)" 4 "$n"
fi

# --- bad input --------------------------------------------------------------
out=$($ASNODE $A enroll bob "wrong password" bob.dc2.ntm.test x)
check_eq "wrong password refused (exit 3)" 3 "$?"
contains "with AUTH_FAILED" "status AUTH_FAILED" "$out"
out=$($ASNODE $A enroll nobody "correct horse" bob.dc2.ntm.test x)
contains "unknown account: AUTH_FAILED" "status AUTH_FAILED" "$out"
out=$($ASNODE $A enroll alice "correct horse" bob.dc2.ntm.test x)
contains "FQDN of another account: REFUSED_POLICY" \
	"status REFUSED_POLICY" "$out"
out=$($ASNODE $A -c stray.chain -k stray.key auth)
contains "a certificate this AS never issued: CERT_INVALID" \
	"status CERT_INVALID" "$out"
out=$($ASNODE $A -c dc1.chain -k dc1.key auth)
check_eq "a DC certificate on the node channel: refused (no answer)" 4 "$?"
out=$($ASNODE $A junk)
check_eq "garbage bytes: connection closed without answer" 4 "$?"
out=$($ASNODE $A huge)
check_eq "oversized frame: connection closed without answer" 4 "$?"
grep -q "closed (" as.log || grep -q "FRAME\|frame\|bad message" as.log
check "the daemon logs the refused peers" grep -q "127.0.0.1" as.log
out=$($ASNODE $A -c alice2.pem -k alice2.key auth)
check_eq "and keeps serving others" 0 "$?"

# Password guessing: 4 attempts a burst on an account, then RATE_LIMITED.
for i in 1 2 3; do
	$ASNODE $A enroll bob "guess$i" bob.dc2.ntm.test x >/dev/null
done
out=$($ASNODE $A enroll bob "battery staple" bob.dc2.ntm.test x)
contains "guessing is rate limited per account" "status RATE_LIMITED" "$out"
contains "with RETRY_AFTER" "retry_after" "$out"
contains "naming the account limit" "attempts on this account" "$out"
out=$($ASNODE $A enroll alice "correct horse" dave.dc1.ntm.test dave2)
contains "another account is not held back" "status OK" "$out"
check "the log names the account and peer" \
	grep -q "account bob: too many attempts on this account" as.log

# --- revocation -------------------------------------------------------------
out=$($NTMCTL revoke dave.dc1.ntm.test --reason keyCompromise \
	--socket as.sock)
check_eq "ntmctl revoke by FQDN revokes dave's two certificates" \
	"2 certificates revoked" "$out"
out=$($NTMCTL revoke "$NSERIAL" --socket as.sock)
check_eq "ntmctl revoke by serial" "1 certificate revoked" "$out"
out=$($NTMCTL revoke "$NSERIAL" --socket as.sock 2>&1)
check_eq "revoking twice fails (exit 1)" 1 "$?"
out=$($NTMCTL revoke alice --reason nonsense --socket as.sock 2>&1)
check_eq "an unknown reason is a usage error (exit 2)" 2 "$?"
out=$(openssl crl -in as.crl -noout -text 2>&1)
contains "CRL lists alice's renewed serial" \
	"$(echo "$NSERIAL" | tr a-f A-F)" "$out"
check "CRL is signed by the AS CA" openssl crl -in as.crl -noout \
	-CAfile ca/as.pem
out=$($ASNODE $A -c alice2.pem -k alice2.key auth)
contains "a revoked certificate: REVOKED" "status REVOKED" "$out"
out=$($ASNODE $A -c alice2.pem -k alice2.key renew alice3)
contains "and it cannot renew" "status REVOKED" "$out"
out=$($ASNODE $A -c dave.pem -k dave.key auth)
contains "dave is revoked too" "status REVOKED" "$out"

out=$($ASNODE $A -c alice.pem -k alice.key auth)
contains "alice's first certificate stays revoked" "status REVOKED" "$out"

# --- the outbox holds what the DCs must learn ---------------------------
if command -v sqlite3 >/dev/null 2>&1; then
	n=$(sqlite3 as.db "SELECT count(*) FROM notice_outbox WHERE kind = 'issued'")
	check_eq "every issuance queued for its DC" 5 "$n"
	n=$(sqlite3 as.db "SELECT count(*) FROM notice_outbox WHERE kind = 'revoked' AND dc = '*'")
	check_eq "every revocation queued for all DCs (3 + 1 superseded)" 4 "$n"
fi

# --- restart: nothing is lost --------------------------------------------
kill -9 "$ASPID"
wait "$ASPID" 2>/dev/null
$NTMAS -d -f as.conf > as2.log 2>&1 &
ASPID=$!
wait_for 10 grep -q "listening for nodes" as2.log
out=$($ASNODE $A -c bob.pem -k bob.key auth)
contains "after kill -9 and restart bob still authenticates" \
	"status OK" "$out"
out=$($ASNODE $A -c alice2.pem -k alice2.key auth)
contains "and the revocation still holds" "status REVOKED" "$out"

SIGNER=$(pgrep -P "$ASPID" | head -1)
check "a signer child runs" test -n "$SIGNER"
kill "$ASPID"
if wait_for 10 sh -c "! kill -0 $ASPID 2>/dev/null"; then
	ok "SIGTERM stops ntm-as"
else
	not_ok "SIGTERM stops ntm-as"
fi
wait "$ASPID" 2>/dev/null
check "the control socket is removed on exit" test ! -e as.sock
check "the signer child is gone" sh -c "! kill -0 ${SIGNER:-1} 2>/dev/null"
ASPID=
tap_done
