#!/bin/sh
# rekey.sh -- in-tunnel rekey and status re-stapling (issue 5, PROTOCOL.md
# 10.3) in the lab: alice and dave rekey every 3 s while ping, iperf3 and a
# slow curl run through the tunnel; the AS signs statuses for 60 s, so the
# tunnel outlives its first staples only because CERT_UPDATEs carried fresh
# ones; after dave is revoked, alice closes the tunnel once his last staple
# expires (the DC sends no STATUS_NOTICE for revocations yet, so expiry of
# the staple is what ends it; DESIGN.md 3: a revocation is hidden at most
# one validity period).
#
#   as  dc1                        -- srv 198.51.100.0/24, 2001:db8:0:100::/64
#          [core]
#   alice ---- core ---- dave      (both dc1.ntm.test; direct route, no NAT)
#   ntmd, rekey_interval = 3s      ntmd, rekey_interval = 3s
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/lab.sh"
lab_begin r getent ping curl sha256sum openssl iperf3
NTM_LAB_STATUS_VALIDITY=60s
export NTM_LAB_STATUS_VALIDITY

# The web and iperf3 servers on dave, by the pid files they wrote in $T.
lab_atexit() {
	for p in "$T"/*.pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
}

# at_least NODE KEY N: ntmctl status --json's KEY of NODE is >= N.
at_least() {
	v=$(nstat "$1" "$2")
	[ -n "$v" ] && [ "$v" -ge "$3" ]
}

lab_up "ntm-lab up with every node enrolled and registered"

# ---- rekey every 3 s on both nodes ------------------------------------------

for n in alice dave; do
	sed -i '/^rekey_interval/d; /^\[tunnel\]/a rekey_interval = 3s' \
	    "$S/$n/ntmd.conf"
	grep -q '^\[tunnel\]' "$S/$n/ntmd.conf" ||
	    printf '\n[tunnel]\nrekey_interval = 3s\n' >>"$S/$n/ntmd.conf"
	check "$n: ntmd restarted with [tunnel] rekey_interval = 3s" \
	    lab restart --name "$L" "$n"
done
v4=$(nstat dave vip4)
v6=$(nstat dave vip6)
check "dave has a vIPv4 and a vIPv6" test -n "$v4" -a -n "$v6"
check_eq "alice: getent hosts dave.dc1.ntm.test sets the tunnel up" \
	"$v6" "$(lab exec --name "$L" alice -- getent hosts dave.dc1.ntm.test |
	    awk '{ print $1 }')"
installed=$(nstat alice tunnel-installed)
t_up=$(date +%s)

# ---- traffic across several rekeys ------------------------------------------

mkdir -p "$T/www"
head -c 12000000 /dev/urandom >"$T/www/blob"
want=$(sha256sum <"$T/www/blob" | awk '{ print $1 }')
setsid "$LABCMD" exec --name "$L" dave -- sh -c 'echo $$ >"$1"; exec python3 -m http.server --bind :: --directory "$2" 8080' \
	sh "$T/http.pid" "$T/www" >"$T/http.log" 2>&1 &
setsid "$LABCMD" exec --name "$L" dave -- sh -c 'echo $$ >"$1"; exec iperf3 -s' \
	sh "$T/iperf3s.pid" >"$T/iperf3-server.log" 2>&1 &
http_up() {
	lab exec --name "$L" dave -- python3 -c \
	    "import socket; socket.create_connection(('::1', 8080), 1)"
}
check "dave serves a file on port 8080" wait_for 10 http_up
# Not probed by connecting: iperf3 would take the probe for a client.
iperf_up() {
	lab exec --name "$L" dave -- ss -Hltn 'sport = :5201' | grep -q 5201
}
check "dave runs iperf3 -s" wait_for 10 iperf_up

e0=$(nstat alice tunnel-key-epoch-max)
# 100 pings 0.2 s apart, iperf3 for 15 s and a 12 MB curl at 1 MB/s: all
# three span about five rekeys.
lab exec --name "$L" alice -- ping -c 100 -i 0.2 -W 2 "$v4" >"$T/ping.log" 2>&1 &
ping_pid=$!
(lab exec --name "$L" alice -- iperf3 -c "$v4" -t 15 -J >"$T/iperf3.json" \
	2>"$T/iperf3.log"; echo $? >"$T/iperf3.rc") &
iperf_pid=$!
got=$(lab exec --name "$L" alice -- curl -sS --max-time 60 --limit-rate 1M \
	"http://$v4:8080/blob" | sha256sum | awk '{ print $1 }')
check_eq "a 12 MB file fetched at 1 MB/s across rekeys arrives intact (sha256)" \
	"$want" "$got"
wait "$iperf_pid"
check_eq "iperf3 runs its 15 s through the tunnel across rekeys (exit 0)" 0 \
	"$(cat "$T/iperf3.rc")"
check "iperf3 reports over 1 MB received and no error" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
s = r.get("end", {}).get("sum_received", {}).get("bytes", 0)
print("received", s, "error", r.get("error"), "end", list(r.get("end", {})))
sys.exit(0 if s > 1000000 and not r.get("error") else 1)' "$T/iperf3.json"
wait "$ping_pid"
echo "# ping: $(grep 'packets transmitted' "$T/ping.log")"
# iperf3 fills the path: a ping may be lost to a full queue, not to a key.
check "ping answered across the rekeys (at least 90 of 100)" test \
	"$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping.log")" -ge 90
for n in alice dave; do
	check_eq "$n: no data packet refused for its key or counter across the rekeys" \
	    "0 0 0" "$(nstat "$n" data-drop-auth) $(nstat "$n" data-drop-no_key) $(nstat "$n" data-drop-replay)"
done
e1=$(nstat alice tunnel-key-epoch-max)
echo "# key epoch at alice: $e0 before the traffic, $e1 after"
check "the key epoch rose by at least 4 during the traffic ($e0 -> $e1)" \
	test "$e1" -ge $((e0 + 4))
check "alice started the rekeys (tunnel-rekeys-started >= 4)" \
	at_least alice tunnel-rekeys-started 4
check "dave answered them (tunnel-rekeys >= 4)" at_least dave tunnel-rekeys 4
check_eq "dave never had to step in (tunnel-rekeys-started 0)" 0 \
	"$(nstat dave tunnel-rekeys-started)"
check_eq "no rekey message dropped at dave" 0 "$(nstat dave tunnel-rekey-dropped)"
check_eq "no rekey failed at alice" 0 "$(nstat alice tunnel-rekey-failed)"
check_eq "alice: the same tunnel all along (no new install)" "$installed" \
	"$(nstat alice tunnel-installed)"
check "alice's log shows the epochs" \
	grep -q 'tunnel to dave.dc1.ntm.test: rekeyed, key epoch' "$S/alice/ntmd.log"

# ---- status re-stapling: past the first staples' expiry ---------------------

# Each ntmd asks the AS again at half of the 60 s and sends the fresh status
# to its peer in a CERT_UPDATE; the tunnel must outlive the 60 s.
updated() {
	at_least alice tunnel-cert-updates-accepted 1 &&
	    at_least dave tunnel-cert-updates-accepted 1 &&
	    at_least alice tunnel-cert-updates-acked 1
}
check "both ends accepted a CERT_UPDATE with a fresh status within 70 s" \
	wait_for 70 updated
# The staples of the handshake were at most 60 s old when the tunnel came
# up at t_up: 65 s after it, both have expired.
past_first_expiry() {
	test "$(date +%s)" -ge $((t_up + 65))
}
check "65 s after the setup (the first staples have expired)" \
	wait_for 120 past_first_expiry
lab exec --name "$L" alice -- ping -c 2 -W 2 "$v4" >/dev/null 2>&1
check_eq "alice: the tunnel is still up past the first staples' expiry" 1 \
	"$(ntunnels alice)"
check_eq "alice: still the same tunnel" "$installed" \
	"$(nstat alice tunnel-installed)"
check "alice pings dave through it" \
	lab exec --name "$L" alice -- ping -c 2 -W 2 "$v4"
check_eq "no update was refused" "0 0" \
	"$(nstat alice tunnel-cert-updates-refused) $(nstat dave tunnel-cert-updates-refused)"

# ---- revocation: the staple runs out --------------------------------------

check "ntmctl revoke dave.dc1.ntm.test at the AS" \
	"$NTMCTL" revoke dave.dc1.ntm.test --socket "$S/as/ntm-as.sock"
check "alice closes the tunnel to revoked dave within one status validity" \
	wait_for 75 no_tunnel alice
check "alice's log says why" grep -Eiq \
	'tunnel to dave.dc1.ntm.test: closing \((EXPIRED|REVOKED)\)|tunnel to dave.dc1.ntm.test closed: its certificate is revoked' \
	"$S/alice/ntmd.log"
check_fails "alice: getent hosts dave.dc1.ntm.test no longer answers" \
	lab exec --name "$L" alice -- getent hosts dave.dc1.ntm.test

[ "$TAP_FAILED" = 0 ] || dump alice dave
tap_done
