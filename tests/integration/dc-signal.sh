#!/bin/sh
# dc-signal.sh -- ntm-dc's node signalling on loopback (no root): a test
# node registers with a ticket sealed under the DC's ticket key, and dig
# then answers the node's virtual IPs.
#
#   tests/dc/regclient  --UDP-->  127.0.0.1:$SIG_PORT,     ntm-dc -d
#   (plays the AS: seals            [::1]:$SIG_PORT        signal + DNS
#    the ticket with lib/ticket)                           db $T/dc.db
#   dig                 --UDP-->  127.0.0.1:$DNS_PORT
set -u
. "$top_srcdir/tests/tap.sh"
tap_need_cmd dig sqlite3 python3

DC=$top_builddir/dc/ntm-dc
REG=$top_builddir/tests/dc/regclient
. "$top_srcdir/tests/asdc.sh"
asdc_begin dc-signal "$DC" "$REG"

asdc_zone 198.18.1.1
asdc_dc_dns
asdc_dc_signal "127.0.0.1:$SIG_PORT, [::1]:$SIG_PORT" \
	"ticket_key_file = $T/ticket.key
lifetime = 60s"
# The ticket key as ntm-as reads it: 64 hex digits.
printf '%s\n' 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef > "$T/ticket.key"
chmod 600 "$T/ticket.key"
printf '%s\n' fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210 > "$T/other.key"
chmod 600 "$T/other.key"

# ---- configuration ---------------------------------------------------------
check_eq "ntm-dc -n accepts [signal] with a ticket key" "configuration OK" \
    "$("$DC" -n -f "$T/dc.conf" 2>&1)"
chmod 644 "$T/ticket.key"
case $("$DC" -n -f "$T/dc.conf" 2>&1) in
*"[signal] ticket_key_file:"*"group or others may access it"*)
	ok "a ticket key readable by others is refused" ;;
*)	not_ok "a ticket key readable by others is refused" "$("$DC" -n -f "$T/dc.conf" 2>&1)" ;;
esac
chmod 600 "$T/ticket.key"
sed 's/^lifetime = .*/lifetime = 20s\nkeepalive = 30s/' "$T/dc.conf" > "$T/bad.conf"
case $("$DC" -n -f "$T/bad.conf" 2>&1) in
*"[signal] keepalive must be shorter than lifetime"*)
	ok "a keep-alive interval longer than the lifetime is refused" ;;
*)	not_ok "a keep-alive interval longer than the lifetime is refused" ;;
esac
printf 'not a key\n' > "$T/short.key"
chmod 600 "$T/short.key"
sed "s|^ticket_key_file = .*|ticket_key_file = $T/short.key|" "$T/dc.conf" > "$T/bad.conf"
case $("$DC" -n -f "$T/bad.conf" 2>&1) in
*"a ticket key is 32 bytes, raw or as 64 hex digits"*)
	ok "a ticket key file of the wrong size is refused" ;;
*)	not_ok "a ticket key file of the wrong size is refused" ;;
esac

# ---- start -----------------------------------------------------------------
start_dc() {
	"$DC" -d -v -f "$T/dc.conf" >> "$T/log" 2>&1 &
	DCPID=$!
	wait_for 10 grep -q "signalling on \[::1\]:$SIG_PORT" "$T/log"
}
if start_dc; then ok "ntm-dc signals on 127.0.0.1:$SIG_PORT and [::1]:$SIG_PORT"
else not_ok "ntm-dc signals on 127.0.0.1:$SIG_PORT and [::1]:$SIG_PORT" "$(cat "$T/log")"; tap_done; exit 1; fi
D="dig -p $DNS_PORT +time=2 +tries=1 @127.0.0.1"
serial() { $D dc1.ntm.test SOA +short | awk '{print $3}'; }
S0=$(serial)
check_eq "before registering, alice is not in DNS" "NXDOMAIN" \
    "$($D alice.dc1.ntm.test A | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')"

# ---- registration ----------------------------------------------------------
out=$("$REG" -k "$T/ticket.key" -n alice.dc1.ntm.test -4 198.18.1.10 \
    -6 fd6e:746d:6f62:1::10 127.0.0.1:$SIG_PORT 2>&1)
case $out in
"registered alice.dc1.ntm.test observed 127.0.0.1:"*" lifetime 60")
	ok "a node with a ticket under the DC's key registers (REGISTRATION_ACK, lifetime 60 s)" ;;
*)	not_ok "a node with a ticket under the DC's key registers (REGISTRATION_ACK, lifetime 60 s)" "$out
$(cat "$T/log")" ;;
esac
check_eq "dig then answers alice's A" 198.18.1.10 \
    "$($D alice.dc1.ntm.test A +short)"
check_eq "and alice's AAAA" fd6e:746d:6f62:1::10 \
    "$($D alice.dc1.ntm.test AAAA +short)"
check_eq "and the PTR of her IPv4 address" alice.dc1.ntm.test. \
    "$($D -x 198.18.1.10 +short)"
S1=$(serial)
check "the zone serial went up ($S0 -> $S1)" test "$S1" -gt "$S0"
row() { [ "$(sqlite3 "$T/dc.db" "SELECT vip4, vip6 FROM nodes WHERE fqdn = 'alice.dc1.ntm.test'")" = "198.18.1.10|fd6e:746d:6f62:1::10" ]; }
check "the registration is stored in the nodes table" wait_for 5 row

out=$("$REG" -k "$T/ticket.key" -n dave.dc1.ntm.test -6 fd6e:746d:6f62:1::11 \
    "[::1]:$SIG_PORT" 2>&1)
case $out in
"registered dave.dc1.ntm.test observed [::1]:"*)
	ok "an IPv6-only node registers over IPv6" ;;
*)	not_ok "an IPv6-only node registers over IPv6" "$out" ;;
esac
check_eq "and answers AAAA" fd6e:746d:6f62:1::11 \
    "$($D dave.dc1.ntm.test AAAA +short)"

# ---- refusals --------------------------------------------------------------
out=$("$REG" -k "$T/other.key" -n carol.dc1.ntm.test -4 198.18.1.12 \
    127.0.0.1:$SIG_PORT 2>&1)
check_eq "a ticket under a key the DC does not hold is refused" \
    "refused bad ticket" "$out"
check_eq "and the node does not appear in DNS" "" \
    "$($D carol.dc1.ntm.test A +short)"
out=$("$REG" -k "$T/ticket.key" -n bob.dc2.ntm.test -4 198.18.2.10 \
    127.0.0.1:$SIG_PORT 2>&1)
case $out in
"refused "*) ok "a ticket for a name outside the DC's zone is refused ($out)" ;;
*)	not_ok "a ticket for a name outside the DC's zone is refused" "$out" ;;
esac

# ---- restart ---------------------------------------------------------------
stop "$DCPID"
DCPID=
: > "$T/log"
if start_dc; then ok "ntm-dc restarts"; else not_ok "ntm-dc restarts" "$(cat "$T/log")"; fi
check_eq "after a restart alice's address is served from the database" \
    198.18.1.10 "$($D alice.dc1.ntm.test A +short)"
out=$("$REG" -k "$T/ticket.key" -n alice.dc1.ntm.test -4 198.18.1.10 \
    -6 fd6e:746d:6f62:1::10 127.0.0.1:$SIG_PORT 2>&1)
case $out in
"registered alice.dc1.ntm.test "*) ok "and alice registers again with the same ticket key" ;;
*)	not_ok "and alice registers again with the same ticket key" "$out" ;;
esac

tap_done
