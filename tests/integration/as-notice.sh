#!/bin/sh
# as-notice.sh -- ntm-as notices to DCs over mutual TLS: each DC gets what
# concerns it, once and in order, across a killed receiver and a killed AS.
#
#   asnode ──enroll──> ntm-as ──NOTICE_* (TLS, role ntm-dc)──> dcrecv dc1
#                        │                                 └──> dcrecv dc2
#                        └── as.db: certificates, outbox, cursors
#
# dcrecv (tests/as) is a stand-in DC: it appends "SEQ TYPE SERIAL" per
# notice it applies and re-acknowledges duplicates without applying them.
# No root needed: everything on 127.0.0.1 (tests/asdc.sh picks the ports).
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/asdc.sh"
tap_need_cmd sqlite3

NTMCTL=$top_builddir/tools/ntmctl
NTMAS=$top_builddir/as/ntm-as
ASNODE=$top_builddir/tests/as/asnode
DCRECV=$top_builddir/tests/as/dcrecv
asdc_begin asn "$NTMCTL" "$NTMAS" "$ASNODE" "$DCRECV"
DC1_PORT=$TLS_PORT
DC2_PORT=$(tap_free_port)
R1= R2=

contains() {
	case "$3" in
	*"$2"*) ok "$1" ;;
	*) not_ok "$1" "missing: $2
in: $3" ;;
	esac
}

asdc_ca dc2
$NTMCTL ca issue --dir ca --role node --fqdn eve.dc2.ntm.test \
	--vip4 198.18.2.200 --vip6 fd6e:746d:6f62:2::200 --out eve \
	>/dev/null || exit 1
cat eve.pem ca/as.pem > eve.chain
head -c 32 /dev/urandom > dc1.tkey
head -c 32 /dev/urandom > dc2.tkey
chmod 600 dc1.tkey dc2.tkey

# Two stand-in DCs, neither taking signalling.
asdc_as_head "argon2_checks = 32
notice_window = 4"
asdc_as_dc 1 "127.0.0.1:$DC1_PORT" "ticket_key = $T/dc1.tkey"
asdc_as_dc 2 "127.0.0.1:$DC2_PORT" "ticket_key = $T/dc2.tkey"

# Each start gets a fresh log; earlier ones are kept in *.old.
start_as() {
	cat as.log >> as.old 2>/dev/null
	$NTMAS -d -v -f as.conf > as.log 2>&1 &
	ASPID=$!
	wait_for 10 grep -q "listening for nodes" as.log
}
# start_dc N CHAIN KEY [DELAY_MS]
start_dc() {
	port=$(eval echo \$DC$1_PORT)
	cat dc$1.log >> dc$1.old 2>/dev/null
	$DCRECV -l 127.0.0.1:$port -t ca/root.pem -c "$2" -k "$3" \
		-o dc$1.applied ${4:+-d $4} > dc$1.log 2>&1 &
	eval R$1=$!
	DCPID="$R1 $R2"
	wait_for 5 grep -q "listening" dc$1.log
}
enroll() {	# enroll LABEL.ZONE
	$ASNODE -a 127.0.0.1:$AS_PORT -t ca/root.pem enroll ops \
		"operator secret" "$1" "n-$1" > "n-$1.out" 2>&1
}
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
# has_lines FILE N: for wait_for, which runs it again each time.
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
# cursor_is DC SEQ: the AS stored that DC's ack.
cursor_is() {
	[ "$(sqlite3 as.db "SELECT acked_seq FROM dc_cursors WHERE dc = '$1'" \
	    2>/dev/null)" = "$2" ]
}
# once_in_order FILE: seqs strictly increasing (so none twice).
once_in_order() {
	awk 'NR > 1 && $1 <= prev { exit 1 } { prev = $1 }' "$1"
}

FQDNS=
for i in $(seq 1 30); do FQDNS="$FQDNS --fqdn n$i.dc1.ntm.test"; done
for i in 1 2 3; do FQDNS="$FQDNS --fqdn m$i.dc2.ntm.test"; done

start_as || { not_ok "ntm-as starts" "$(cat as.log)"; tap_done; exit; }
ok "ntm-as starts with two DCs down"
echo "operator secret" | $NTMCTL account add ops $FQDNS --socket as.sock \
	>/dev/null
check "account with 33 FQDNs" test $? = 0

# --- issuance while no DC is up, then both come up ------------------------
enroll n1.dc1.ntm.test && enroll n2.dc1.ntm.test && enroll m1.dc2.ntm.test
check "three nodes enrolled while the DCs are down" test $? = 0
start_dc 1 dc1.chain dc1.key
start_dc 2 dc2.chain dc2.key
wait_for 10 has_lines dc1.applied 2
check_eq "dc1 receives its two NOTICE_ISSUED on connecting" \
	"2 2" "$(lines dc1.applied) $(grep -c notice-issued dc1.applied)"
wait_for 10 has_lines dc2.applied 1
check_eq "dc2 receives only its own node" 1 "$(lines dc2.applied)"
s=$(sed -n 's/^serial //p' n-m1.dc2.ntm.test.out)
contains "with the node's serial" "notice-issued ${s:-none}" \
	"$(cat dc2.applied)"

# --- revocation reaches every DC at once -------------------------------
$NTMCTL revoke n1.dc1.ntm.test --socket as.sock >/dev/null
wait_for 10 grep -q notice-revoked dc2.applied
check "a revocation reaches dc2 too" grep -q notice-revoked dc2.applied
wait_for 10 grep -q notice-revoked dc1.applied
check "and dc1" grep -q notice-revoked dc1.applied

# --- a DC receiver killed and restarted mid-stream ----------------------
stop "$R1"
start_dc 1 dc1.chain dc1.key 40
pids=
for i in $(seq 3 18); do enroll n$i.dc1.ntm.test & pids="$pids $!"; done
wait_for 60 has_lines dc1.applied 8
stop "$R1" 9
before=$(lines dc1.applied)
wait $pids
start_dc 1 dc1.chain dc1.key
want=$(sqlite3 as.db "SELECT count(*) FROM certificates WHERE dc = 'dc1'")
want=$((want + $(sqlite3 as.db "SELECT count(*) FROM revocations")))
wait_for 60 has_lines dc1.applied "$want"
check_eq "after kill -9 and restart dc1 has every notice" "$want" \
	"$(lines dc1.applied)"
check "the kill landed mid-stream" test "$before" -lt "$want"
check "each applied once, in order" once_in_order dc1.applied
missing=0
for s in $(sqlite3 as.db "SELECT serial FROM certificates WHERE dc = 'dc1'"); do
	grep -q "notice-issued $s" dc1.applied || missing=$((missing + 1))
done
check_eq "every dc1 certificate announced" 0 "$missing"
cat dc1.old dc1.log | grep -q "duplicate seq" && ok "re-sent notices were seen as duplicates" \
	|| ok "no re-sent notice (the ack made it before the kill)"

# --- the AS killed during a burst of issuance --------------------------
pids=
for i in $(seq 19 30); do enroll n$i.dc1.ntm.test & pids="$pids $!"; done
sleep 0.3
stop "$ASPID" 9
wait $pids
got=0
for i in $(seq 19 30); do
	grep -q "^status OK" n-n$i.dc1.ntm.test.out 2>/dev/null && got=$((got + 1))
done
lost=0
for i in $(seq 19 30); do
	s=$(sed -n 's/^serial //p' n-n$i.dc1.ntm.test.out 2>/dev/null)
	[ -n "$s" ] || continue
	n=$(sqlite3 as.db "SELECT count(*) FROM certificates WHERE serial = '$s'" 2>&1)
	[ "$n" = 1 ] || { lost=$((lost + 1)); echo "# $s: $n"; }
done
check_eq "every certificate a node received is on record ($got)" 0 "$lost"
start_as
check "ntm-as restarts" test $? = 0
want=$(sqlite3 as.db "SELECT count(*) FROM certificates WHERE dc = 'dc1'")
want=$((want + $(sqlite3 as.db "SELECT count(*) FROM revocations")))
wait_for 60 has_lines dc1.applied "$want"
check_eq "after the AS restart dc1 has every notice" "$want" \
	"$(lines dc1.applied)"
check "still each once, in order" once_in_order dc1.applied
wait_for 10 cursor_is dc1 "$(tail -1 dc1.applied | cut -d' ' -f1)"
check_eq "the AS stored dc1's cursor" "$(tail -1 dc1.applied | cut -d' ' -f1)" \
	"$(sqlite3 as.db "SELECT acked_seq FROM dc_cursors WHERE dc = 'dc1'")"

# --- role check: a node certificate where a DC is expected ---------------
stop "$R2"
start_dc 2 eve.chain eve.key
enroll m2.dc2.ntm.test
M2=$(sed -n 's/^serial //p' n-m2.dc2.ntm.test.out)
wait_for 10 grep -q "refused ntm-node certificate" as.log
check "ntm-as refuses a DC endpoint with a node certificate" \
	grep -q "dc2.*refused ntm-node certificate of 'eve.dc2.ntm.test'" as.log
check "which gets nothing" sh -c "! grep -q '${M2:-none}' dc2.applied"
stop "$R2"
start_dc 2 dc2.chain dc2.key
wait_for 10 grep -q "${M2:-none}" dc2.applied
check "the real dc2 then gets the notice it missed" grep -q "${M2:-none}" \
	dc2.applied

tap_done
