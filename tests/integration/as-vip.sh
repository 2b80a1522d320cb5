#!/bin/sh
# as-vip.sh -- the AS asks the home DC for a node's virtual IPs
# (VIP_REQUEST on the notice channel) and sends the DC its ticket keys
# (NOTICE_TICKET_KEY): no pool, no shared key file.  An unreachable DC
# refuses enrollment UNAVAILABLE, or falls back to a configured pool; the
# DC keeps assignments and certificate hashes across kill -9.
#
#   asnode --ENROLL--> ntm-as --VIP_REQUEST / NOTICE_* (TLS 4611)--> ntm-dc
#                      as.db (ticket_keys, outbox)   <--VIP_RESPONSE, NOTICE_ACK
#                                                        dc.db (vip_assignments,
#   dig ------------------------------------------------->  ticket_keys, cert_status)
#
# No root: everything on 127.0.0.1, ports picked free.
set -u
. "$top_srcdir/tests/tap.sh"
tap_need_cmd sqlite3 dig python3 openssl

NTMCTL=$top_builddir/tools/ntmctl
NTMAS=$top_builddir/as/ntm-as
ASNODE=$top_builddir/tests/as/asnode
DC=$top_builddir/dc/ntm-dc
. "$top_srcdir/tests/asdc.sh"
asdc_begin asvip "$NTMCTL" "$NTMAS" "$ASNODE" "$DC"
asdc_ca

# as.conf: [dc.dc1] with vip_source = dc, no pool, no ticket key file.
write_as_conf() {	# write_as_conf [extra dc.dc1 lines]
	asdc_as_conf "vip_timeout = 1s" "vip_source = dc
$1"
}
write_as_conf ""
asdc_zone 192.0.2.53
asdc_dc_conf

check_eq "ntm-as -n accepts vip_source = dc without ticket_key" \
	"configuration OK" "$("$NTMAS" -n -f as.conf 2>&1)"
sed 's/^vip_source = dc/vip_source = relay/' as.conf > bad.conf
case $("$NTMAS" -n -f bad.conf 2>&1) in
*vip_source*) ok "an unknown vip_source is refused" ;;
*) not_ok "an unknown vip_source is refused" "$("$NTMAS" -n -f bad.conf 2>&1)" ;;
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
enroll() {	# enroll NAME: asnode's answer in NAME.out
	$ASNODE -a 127.0.0.1:$AS_PORT -t ca/root.pem enroll ops \
	    "operator secret" "$1.dc1.ntm.test" "$1" > "$1.out" 2>&1
}
D="dig -p $DNS_PORT +time=2 +tries=1 @127.0.0.1"

start_dc || { not_ok "ntm-dc starts" "$(cat dc.log)"; tap_done; exit 1; }
check "without a key file the DC waits for the AS's ticket key" \
	grep -q "no ticket key" dc.log
start_as || { not_ok "ntm-as starts" "$(cat as.log)"; tap_done; exit 1; }
ok "ntm-as starts"
echo "operator secret" | $NTMCTL account add ops --fqdn n1.dc1.ntm.test \
	--fqdn n2.dc1.ntm.test --fqdn n3.dc1.ntm.test --socket as.sock >/dev/null

# ---- NOTICE_TICKET_KEY --------------------------------------------------------
KID=$(sqlite3 as.db "SELECT printf('%08x', id) FROM ticket_keys WHERE dc = 'dc1'")
check "the AS made a ticket key for dc1" test -n "$KID"
wait_for 10 grep -q "ticket key $KID" dc.log
check "the DC applies NOTICE_TICKET_KEY $KID" grep -q "ticket key $KID" dc.log
check "the AS stores it" test -n \
	"$(sqlite3 as.db "SELECT hex(key) FROM ticket_keys WHERE dc = 'dc1'")"
check_eq "the DC stores the same key" \
	"$(sqlite3 as.db "SELECT hex(key) FROM ticket_keys WHERE dc = 'dc1'")" \
	"$(sqlite3 dc.db "SELECT hex(key) FROM ticket_keys WHERE printf('%08x', id) = '$KID'")"

# ---- VIP_REQUEST ------------------------------------------------------------
enroll n1
check "n1 enrolls" grep -q "^status OK" n1.out
check_eq "with the DC's first free pair" "198.18.1.1 fd6e:746d:6f62:1::1" \
	"$(sed -n 's/^vip4 //p' n1.out) $(sed -n 's/^vip6 //p' n1.out)"
check "which the DC logs as its answer" \
	grep -q "vip: n1.dc1.ntm.test for AS as.ntm.test: 198.18.1.1" dc.log
check "n1's ticket is sealed under the AS's key" \
	grep -q "^ticket_key_id $KID" n1.out
wait_for 10 grep -q "notice-issued n1.dc1.ntm.test" dc.log
check_eq "dig answers n1's A" "198.18.1.1" "$($D n1.dc1.ntm.test A +short)"
# A pair the DC already assigned (to n9, say by an earlier AS) is skipped.
sqlite3 dc.db "INSERT INTO vip_assignments VALUES ('n9.dc1.ntm.test', \
'198.18.1.2', 'fd6e:746d:6f62:1::2', 1)"
enroll n2
check_eq "n2 gets the next pair nobody holds" "198.18.1.3" \
	"$(sed -n 's/^vip4 //p' n2.out)"
S2=$(sed -n 's/^serial //p' n2.out)
wait_for 10 grep -q "notice-issued n2.dc1.ntm.test" dc.log

# ---- the certificate hash survives kill -9 ------------------------------------
H2=$(openssl x509 -in n2.pem -outform der | sha256sum | cut -d' ' -f1)
stop "$DCPID" 9
DCPID=
check_eq "the DC stored n2's certificate hash" "$H2" \
	"$(sqlite3 dc.db "SELECT lower(hex(cert_hash)) FROM cert_status WHERE serial = '$S2'")"
: > dc.log
start_dc || not_ok "ntm-dc restarts" "$(cat dc.log)"
check "after kill -9 the DC has the AS's ticket key from its database" \
	sh -c '! grep -q "no ticket key" dc.log'
enroll n1
check_eq "after the restart n1 is answered the same pair" "198.18.1.1" \
	"$(sed -n 's/^vip4 //p' n1.out)"

# ---- the DC unreachable ------------------------------------------------------
stop "$DCPID"
DCPID=
enroll n3
check "without the DC, enrollment is refused UNAVAILABLE" \
	grep -q "^status UNAVAILABLE" n3.out
check "and the AS says why" grep -q \
	"n3.dc1.ntm.test from .*: DC dc1 gave no virtual IPs (no answer within 1000 ms); refused UNAVAILABLE" as.log
stop "$ASPID"
ASPID=
write_as_conf "pool4 = 198.18.1.128/25
pool6 = fd6e:746d:6f62:1::80/121"
mv as.log as1.log
start_as || not_ok "ntm-as restarts with a pool" "$(cat as.log)"
enroll n3
check "with a pool configured, the AS falls back on it" \
	grep -q "^status OK" n3.out
check_eq "n3 gets the pool's first address" "198.18.1.129" \
	"$(sed -n 's/^vip4 //p' n3.out)"
check "and logs the fallback" grep -q \
	"n3.dc1.ntm.test from .*: DC dc1 gave no virtual IPs .*taking them from the configured pool" as.log

stop "$ASPID"
ASPID=
tap_done
