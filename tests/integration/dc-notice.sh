#!/bin/sh
# dc-notice.sh -- the real ntm-as sends its notices to ntm-dc over mutual
# TLS: an issued node answers in DNS, a revoked one can no longer register,
# each notice applied once across a DC restart.
#
#   asnode --enroll--> ntm-as --NOTICE_* (TLS 4611, client ntm-as)--> ntm-dc
#                        as.db (outbox, dc_cursors)                   dc.db (cert_status,
#   regclient --REG_HELLO/REGISTRATION (UDP)------------------------>  notice_cursor, nodes)
#   dig ------------------------------------------------------------>  DNS
#
# No root: everything on 127.0.0.1, ports picked free.
set -u
. "$top_srcdir/tests/tap.sh"
tap_need_cmd sqlite3 dig python3 curl

NTMCTL=$top_builddir/tools/ntmctl
NTMAS=$top_builddir/as/ntm-as
ASNODE=$top_builddir/tests/as/asnode
DC=$top_builddir/dc/ntm-dc
REG=$top_builddir/tests/dc/regclient
. "$top_srcdir/tests/asdc.sh"
asdc_begin dcn "$NTMCTL" "$NTMAS" "$ASNODE" "$DC" "$REG"
asdc_ca dc2
head -c 32 /dev/urandom > dc1.tkey
chmod 600 dc1.tkey
asdc_as_conf "" "ticket_key = $T/dc1.tkey"
asdc_zone 198.18.1.1
asdc_dc_conf "ticket_key_file = $T/dc1.tkey"
cat >> dc.conf <<EOF

[ocsp]
listen = 127.0.0.1:$OCSP_PORT
EOF

check_eq "ntm-dc -n accepts [tls]" "configuration OK" "$("$DC" -n -f dc.conf 2>&1)"
sed '/^key = /d' dc.conf > bad.conf
case $("$DC" -n -f bad.conf 2>&1) in
*"[tls] trust, cert and key go together"*) ok "[tls] without a key is refused" ;;
*) not_ok "[tls] without a key is refused" ;;
esac

start_dc() {
	"$DC" -d -v -f dc.conf >> dc.log 2>&1 &
	DCPID=$!
	wait_for 10 grep -q "notice: AS notices on 127.0.0.1:$TLS_PORT" dc.log
}
start_as() {
	$NTMAS -d -v -f as.conf >> as.log 2>&1 &
	ASPID=$!
	wait_for 10 grep -q "listening for nodes" as.log
}
D="dig -p $DNS_PORT +time=2 +tries=1 @127.0.0.1"

start_dc || { not_ok "ntm-dc starts" "$(cat dc.log)"; tap_done; exit 1; }
ok "ntm-dc listens for notices on 127.0.0.1:$TLS_PORT"
start_as || { not_ok "ntm-as starts" "$(cat as.log)"; tap_done; exit 1; }
ok "ntm-as starts"
wait_for 10 grep -q "notice: AS as.ntm.test connected" dc.log
check "ntm-as connects to the DC with its ntm-as certificate" \
	grep -q "notice: AS as.ntm.test connected" dc.log
echo "operator secret" | $NTMCTL account add ops --fqdn n1.dc1.ntm.test \
	--fqdn n2.dc1.ntm.test --socket as.sock >/dev/null

# ---- issuance ----------------------------------------------------------------
$ASNODE -a 127.0.0.1:$AS_PORT -t ca/root.pem enroll ops "operator secret" \
	n1.dc1.ntm.test n1 > n1.out 2>&1
check "n1 enrolls with the AS" grep -q "^status OK" n1.out
S1=$(sed -n 's/^serial //p' n1.out)
V4=$(sed -n 's/^vip4 //p' n1.out)
V6=$(sed -n 's/^vip6 //p' n1.out)
wait_for 10 grep -q "notice-issued n1.dc1.ntm.test" dc.log
check "the DC applies NOTICE_ISSUED for n1" grep -q \
	"notice-issued n1.dc1.ntm.test serial $S1" dc.log
check_eq "its status is stored, good" "n1.dc1.ntm.test|0" \
	"$(sqlite3 dc.db "SELECT fqdn, revoked FROM cert_status WHERE serial = '$S1'")"
check_eq "dig answers n1's A from the issued virtual IP ($V4)" "$V4" \
	"$($D n1.dc1.ntm.test A +short)"
check_eq "and its AAAA" "$V6" "$($D n1.dc1.ntm.test AAAA +short)"
seq_dc() { sqlite3 dc.db "SELECT last_seq FROM notice_cursor WHERE as_name = 'as.ntm.test'"; }
# The AS logs each ack (it writes them to dc_cursors in batches).
acked() { [ -n "$(seq_dc)" ] && grep -q "notice: dc dc1: acked up to $(seq_dc)\$" as.log; }
check "the AS has the DC's ack: cursor $(seq_dc)" wait_for 10 acked

# The statuses the DC stores, to anyone over HTTP (openssl's client).
ocsp() {	# ocsp CERT: openssl ocsp's verdict from the DC's responder
	timeout 10 openssl ocsp -issuer ca/as.pem -cert "$1" -CAfile ca/root.pem \
	    -no_nonce -url "http://127.0.0.1:$OCSP_PORT" 2>&1
}
if command -v openssl >/dev/null 2>&1; then
	out=$(ocsp n1.pem)
	case $out in
	*"Response verify OK"*"n1.pem: good"*)
		ok "openssl ocsp -url gets n1's AS-signed status from the DC: good" ;;
	*) not_ok "openssl ocsp -url gets n1's AS-signed status from the DC: good" "$out" ;;
	esac
	out=$(ocsp dc2.pem)
	case $out in
	*"unauthorized (6)"*) ok "a certificate the DC has no status for: unauthorized" ;;
	*) not_ok "a certificate the DC has no status for: unauthorized" "$out" ;;
	esac
	openssl ocsp -issuer ca/as.pem -cert n1.pem -no_nonce -reqout req.der \
	    >/dev/null 2>&1
	url=$(base64 -w0 req.der | sed 's/+/%2B/g; s|/|%2F|g; s/=/%3D/g')
	curl -s -o resp.der "http://127.0.0.1:$OCSP_PORT/$url"
	out=$(openssl ocsp -respin resp.der -issuer ca/as.pem -cert n1.pem \
	    -CAfile ca/root.pem -no_nonce 2>&1)
	case $out in
	*"n1.pem: good"*) ok "and over HTTP GET (curl, base64 in the URL)" ;;
	*) not_ok "and over HTTP GET (curl, base64 in the URL)" "$out" ;;
	esac
else
	for i in 1 2 3; do ok "# SKIP no openssl"; done
fi

out=$("$REG" -k dc1.tkey -n n1.dc1.ntm.test -4 "$V4" -6 "$V6" -s "$S1" \
	127.0.0.1:$SIG_PORT 2>&1)
case $out in
"registered n1.dc1.ntm.test "*) ok "n1 registers with a ticket naming its serial" ;;
*) not_ok "n1 registers with a ticket naming its serial" "$out" ;;
esac

# ---- revocation --------------------------------------------------------------
$NTMCTL revoke n1.dc1.ntm.test --socket as.sock >/dev/null
wait_for 10 grep -q "notice-revoked n1.dc1.ntm.test" dc.log
check "the DC applies NOTICE_REVOKED" grep -q "notice-revoked n1.dc1.ntm.test" dc.log
check "and ends n1's registration at once" grep -q \
	"n1.dc1.ntm.test: revoked; its registration ended" dc.log
check_eq "the stored status is revoked" 1 \
	"$(sqlite3 dc.db "SELECT revoked FROM cert_status WHERE serial = '$S1'")"
out=$("$REG" -k dc1.tkey -n n1.dc1.ntm.test -4 "$V4" -6 "$V6" -s "$S1" \
	127.0.0.1:$SIG_PORT 2>&1)
check_eq "a new registration with n1's certificate is refused" \
	"refused revoked" "$out"
if command -v openssl >/dev/null 2>&1; then
	out=$(ocsp n1.pem)
	case $out in
	*"n1.pem: revoked"*) ok "openssl ocsp now says n1 is revoked" ;;
	*) not_ok "openssl ocsp now says n1 is revoked" "$out" ;;
	esac
else
	ok "# SKIP no openssl"
fi
check "the AS has the DC's ack of the revocation" wait_for 10 acked

# ---- restart: applied once -------------------------------------------------
before=$(seq_dc)
n_issued=$(grep -c "notice-issued" dc.log)
stop "$DCPID" 9
DCPID=
: > dc.log
start_dc || not_ok "ntm-dc restarts" "$(cat dc.log)"
wait_for 10 grep -q "notice: AS as.ntm.test connected" dc.log
check_eq "after kill -9 the DC's cursor is still $before" "$before" \
	"$(grep -o 'connected from [^ ]* (cursor [0-9]*)' dc.log | sed 's/.*cursor //; s/)//' | head -1)"
out=$("$REG" -k dc1.tkey -n n1.dc1.ntm.test -4 "$V4" -6 "$V6" -s "$S1" \
	127.0.0.1:$SIG_PORT 2>&1)
check_eq "the revocation survives the restart" "refused revoked" "$out"
check_eq "n1 still answers in DNS from the database" "$V4" \
	"$($D n1.dc1.ntm.test A +short)"
$ASNODE -a 127.0.0.1:$AS_PORT -t ca/root.pem enroll ops "operator secret" \
	n2.dc1.ntm.test n2 > n2.out 2>&1
V4b=$(sed -n 's/^vip4 //p' n2.out)
wait_for 10 grep -q "notice-issued n2.dc1.ntm.test" dc.log
check "a node enrolled after the restart is announced" \
	grep -q "notice-issued n2.dc1.ntm.test" dc.log
check_eq "dig answers n2's A ($V4b)" "$V4b" "$($D n2.dc1.ntm.test A +short)"
if [ "$V4b" = "$V4" ]; then
	# The AS gave the revoked n1's addresses to n2.
	check_eq "n1, revoked, no longer holds the address it gave up" "" \
	    "$($D n1.dc1.ntm.test A +short)"
	check_eq "the PTR names n2" "n2.dc1.ntm.test." "$($D -x "$V4" +short)"
else
	ok "# SKIP the AS did not reuse n1's addresses"
	ok "# SKIP the AS did not reuse n1's addresses"
fi
check_eq "and nothing from before is applied again" 0 \
	"$(grep -c 'notice-issued n1\|notice-revoked n1' dc.log)"
check "the AS has the DC's ack of n2's notice" wait_for 10 acked

# ---- only the AS may send notices -------------------------------------------
if command -v openssl >/dev/null 2>&1; then
	printf '' | timeout 5 openssl s_client -connect 127.0.0.1:$TLS_PORT \
		-tls1_3 -alpn ntmobile/1 -CAfile ca/root.pem -cert dc2.chain \
		-key dc2.key > ossl.out 2>&1
	# 4611 is shared with DC federation: an ntm-dc client is a peer DC,
	# whose frames go to the federation code, never taken as the AS's.
	wait_for 5 grep -q "DC ns1.dc2.ntm.test connected" dc.log
	check "a client with an ntm-dc certificate is a peer DC, not the AS" \
		sh -c 'grep -q "federation: DC ns1.dc2.ntm.test connected" dc.log &&
		    ! grep -q "notice: AS ns1.dc2" dc.log'
else
	ok "# SKIP no openssl"
fi

stop "$DCPID"
DCPID=
tap_done
