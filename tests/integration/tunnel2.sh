#!/bin/sh
# tunnel2.sh -- the first tunnel (issue 5): in the lab, a lookup on alice sets
# up a tunnel to dave through their DC, both virtual IPs carry traffic, a
# second lookup reuses the tunnel, and a scheme outside the peer's
# kex_allowed is refused.  The AS signs statuses for 60 s only here
# (NTM_LAB_STATUS_VALIDITY): each ntmd must ask for a fresh one at its
# half-life, and a new tunnel still comes up once the first ones expired.
#
#   as  dc1  (dc2 ...)             -- srv 198.51.100.0/24, 2001:db8:0:100::/64
#          [core]
#   alice ---- core ---- dave      (both dc1.ntm.test; direct route, no NAT)
#     ntmd (ecdhe)        ntmd (ecdhe, the default)
#
# tools/ntm-lab starts ntm-as, ntm-dc and ntmd and returns once every node
# is enrolled and registered.  Then alice's ntmd is restarted with
# [tunnel] kex_allowed = shared: dave (ecdhe only) must refuse it.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/lab.sh"
lab_begin t getent ping curl sha256sum openssl
# The shortest validity ntm-as takes: ntmd's own status is half-stale
# after 30 s and expired after 60 s.
NTM_LAB_STATUS_VALIDITY=60s
export NTM_LAB_STATUS_VALIDITY

now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

lab_up "ntm-lab up with every node enrolled and registered"
lab_need_registered alice dave
v4=$(nstat dave vip4)
v6=$(nstat dave vip6)
check "dave has a vIPv4 and a vIPv6" test -n "$v4" -a -n "$v6"

# ---- a fresh tunnel: getent goes through ntmd, which sets it up -----------

t0=$(now_ms)
got=$(lab exec --name "$L" alice -- getent hosts dave.dc1.ntm.test)
t1=$(now_ms)
setup=$((t1 - t0))
check_eq "alice: getent hosts dave.dc1.ntm.test gives dave's vIPv6" \
	"$v6 dave.dc1.ntm.test" "$(echo "$got" | awk '{ print $1, $2 }')"
# Without ntmd the NSS module waits setup_timeout (3 s) and DNS answers.
check "the answer came from ntmd within its setup_timeout (${setup} ms)" \
	test "$setup" -lt 3000
echo "# setup time of a fresh tunnel (getent hosts, alice -> dave): ${setup} ms"
check "alice: ntmctl tunnels lists dave up on the direct route with his vIPs" \
	sh -c "'$NTMCTL' tunnels -s '$S/alice/ntmd.sock' | grep -Eq \
	'^dave\.dc1\.ntm\.test +direct +up +$v4 +$v6\$'"
check "dave: ntmctl tunnels lists alice up" \
	sh -c "'$NTMCTL' tunnels -s '$S/dave/ntmd.sock' | grep -Eq \
	'^alice\.dc1\.ntm\.test +direct +up '"
check_eq "getent ahostsv4 gives dave's vIPv4" "$v4" \
	"$(lab exec --name "$L" alice -- getent ahostsv4 dave.dc1.ntm.test | awk 'NR == 1 { print $1 }')"

# ---- traffic over both virtual IPs -----------------------------------------

check "alice pings dave's vIPv4 $v4 through the tunnel" \
	lab exec --name "$L" alice -- ping -c 2 -W 2 "$v4"
check "alice pings dave's vIPv6 $v6 through the tunnel" \
	lab exec --name "$L" alice -- ping -6 -c 2 -W 2 "$v6"

mkdir -p "$T/www"
head -c 2000000 /dev/urandom >"$T/www/blob"
want=$(sha256sum <"$T/www/blob" | awk '{ print $1 }')
setsid "$LABCMD" exec --name "$L" dave -- python3 -m http.server --bind :: \
	--directory "$T/www" 8080 >"$T/http.log" 2>&1 &
http_up() {
	lab exec --name "$L" dave -- python3 -c \
	    "import socket; socket.create_connection(('::1', 8080), 1)"
}
check "dave serves a file on port 8080" wait_for 10 http_up
check_eq "curl from dave's vIPv4 fetches the file intact (sha256)" "$want" \
	"$(lab exec --name "$L" alice -- curl -sS --max-time 20 "http://$v4:8080/blob" |
		sha256sum | awk '{ print $1 }')"
check_eq "curl from dave's vIPv6 fetches the file intact (sha256)" "$want" \
	"$(lab exec --name "$L" alice -- curl -sS --max-time 20 "http://[$v6]:8080/blob" |
		sha256sum | awk '{ print $1 }')"

# ---- a second lookup reuses the tunnel -------------------------------------

before=$(nstat alice tunnel-installed)
t0=$(now_ms)
got=$(lab exec --name "$L" alice -- getent hosts dave.dc1.ntm.test | awk '{ print $1 }')
t1=$(now_ms)
check_eq "a second getent gives dave's vIPv6 again" "$v6" "$got"
echo "# second lookup (live tunnel): $((t1 - t0)) ms"
check_eq "alice: still one tunnel in ntmctl tunnels" 1 "$(ntunnels alice)"
check_eq "alice: no new tunnel was installed for it" "$before" \
	"$(nstat alice tunnel-installed)"
check_eq "alice: ntmd's tunnel machine holds one live tunnel" 1 \
	"$(nstat alice tunnels-live)"

# ---- REVERSE: the virtual IP of a live tunnel ------------------------------

# ask NODE LINE: one request on NODE's control socket, the final answer.
ask() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
print(s.makefile().read().splitlines()[-1])' "$S/$1/ntmd.sock" "$2"
}
check_eq "alice: REVERSE of dave's vIPv4 names dave (live tunnel)" \
	"OK dave.dc1.ntm.test $v4" "$(ask alice "REVERSE $v4")"
check_eq "alice: REVERSE of dave's vIPv6 names dave (live tunnel)" \
	"OK dave.dc1.ntm.test $v6" "$(ask alice "REVERSE $v6")"
check_eq "alice: REVERSE of a virtual IP without a tunnel stands aside for DNS" \
	"UNAVAIL no-tunnel" "$(ask alice "REVERSE $(nstat bob vip4)")"

# ---- kex_allowed: shared asked by alice, dave allows ecdhe only -------------

a4=$(nstat alice vip4)
a6=$(nstat alice vip6)
pid=$(cut -d' ' -f1 "$S/alice/ntmd.pid")
kill "$pid"
check "alice's ntmd stops on SIGTERM" wait_for 10 pid_gone "$pid"
check "dave drops the tunnel at once: alice's ntmd sent TUNNEL_CLOSE" \
	wait_for 2 no_tunnel dave
check "dave's log names the peer that closed the tunnel" \
	grep -q "tunnel to alice.dc1.ntm.test closed by the peer" "$S/dave/ntmd.log"
# The same node, its virtual IPs now fixed in the file (no AS round trip
# on restart), asking for the paper's conventional scheme.
sed -e '/^kex_allowed/d' -e '/^vip[46] *=/d' \
	-e "/^\[node\]/a vip4 = $a4" -e "/^\[node\]/a vip6 = $a6" \
	-e '/^\[tunnel\]/a kex_allowed = shared' "$S/alice/ntmd.conf" >"$T/alice.conf"
check "ntmd -n accepts [tunnel] kex_allowed = shared" \
	"$top_builddir/node/ntmd" -n -f "$T/alice.conf"
setsid "$LABCMD" exec --name "$L" alice -- sh -c 'echo $$ >"$1"; exec "$2" -d -f "$3"' \
	sh "$T/alice.pid" "$top_builddir/node/ntmd" "$T/alice.conf" >"$T/alice-ntmd.log" 2>&1 &
check "alice's ntmd registers again" wait_for 20 registered alice
check_fails "alice (shared): getent hosts dave.dc1.ntm.test is refused" \
	lab exec --name "$L" alice -- getent hosts dave.dc1.ntm.test
check_eq "alice: ntmctl resolve says NOTFOUND refused" "ntmctl: NOTFOUND refused" \
	"$(lab exec --name "$L" alice -- "$NTMCTL" resolve -s "$S/alice/ntmd.sock" \
		dave.dc1.ntm.test 2>&1)"
check "alice's log says the scheme was not allowed" \
	grep -Eqi "dave.dc1.ntm.test.*key exchange not allowed" "$T/alice-ntmd.log"
check "dave's log says shared is outside its kex_allowed" \
	grep -Eq "alice.dc1.ntm.test.*refused.*scheme outside kex_allowed" "$S/dave/ntmd.log"

# ---- alice back on ecdhe: a new tunnel to the same peer ---------------------

pid=$(cat "$T/alice.pid")
kill "$pid"
check "alice's ntmd (shared) stops" wait_for 10 pid_gone "$pid"
sed -e 's/^kex_allowed = shared$/kex_allowed = ecdhe/' "$T/alice.conf" >"$T/alice2.conf"
setsid "$LABCMD" exec --name "$L" alice -- sh -c 'echo $$ >"$1"; exec "$2" -d -f "$3"' \
	sh "$T/alice2.pid" "$top_builddir/node/ntmd" "$T/alice2.conf" >"$T/alice2-ntmd.log" 2>&1 &
check "alice's ntmd (ecdhe) registers again" wait_for 20 registered alice
check_eq "alice: getent sets up a new tunnel to dave" "$v6" \
	"$(lab exec --name "$L" alice -- getent hosts dave.dc1.ntm.test | awk '{ print $1 }')"
check "alice pings dave's vIPv4 over the new tunnel" \
	lab exec --name "$L" alice -- ping -c 1 -W 2 "$v4"

# ---- own status kept fresh (AUTH_REQUEST at its half-life) -----------------

# thisupdate NODE: thisUpdate of NODE's state/status.der, Unix seconds.
thisupdate() {
	date -d "$(openssl ocsp -respin "$S/$1/state/status.der" -resp_text \
	    -noverify 2>/dev/null | sed -n 's/^ *This Update: //p' | head -n 1)" +%s
}
check "ntm-as signs statuses valid 60 s in this lab" \
	grep -q '^status_validity = 60s$' "$S/as/ntm-as.conf"
d_tu=$(nstat dave status-this-update)
d_nu=$(nstat dave status-next-update)
a_tu=$(nstat alice status-this-update)
d_file=$(thisupdate dave)
check_eq "dave: ntmctl status shows the thisUpdate of its status.der" \
	"$d_file" "$d_tu"
check_eq "dave: its own status is valid for 60 s" 60 "$((d_nu - d_tu))"
# Both daemons keep running: only their timers can bring a fresher status.
expired_and_fresh() {
	if [ "$(date +%s)" -gt "$((d_nu + 1))" ] &&
	    [ "$(nstat dave status-this-update)" -gt "$d_tu" ] &&
	    [ "$(nstat alice status-this-update)" -gt "$a_tu" ]; then
		return 0
	fi
	sleep 1
	return 1
}
check "past dave's first status's nextUpdate, both ntmd hold a fresher one" \
	wait_for 100 expired_and_fresh
d_now=$(thisupdate dave)
check "dave: status.der's thisUpdate moved forward ($d_file -> $d_now)" \
	test "$d_now" -gt "$d_file"
# A refresh may land between reading the file and asking ntmd (every 30 s
# here): they must agree once no refresh is in between.
file_agrees() { [ "$(thisupdate dave)" = "$(nstat dave status-this-update)" ]; }
check "dave: ntmctl status agrees with status.der" wait_for 10 file_agrees
check "dave's status is valid now (thisUpdate <= now < nextUpdate)" \
	sh -c "now=\$(date +%s); test $d_now -le \$now -a \$now -lt \
	$(nstat dave status-next-update)"
check "dave's log says the AS refreshed its status" \
	grep -q "dave.dc1.ntm.test: status refreshed by the AS" "$S/dave/ntmd.log"
check "alice's log says the AS refreshed her status" \
	grep -q "alice.dc1.ntm.test: status refreshed by the AS" "$T/alice2-ntmd.log"
check "dave's tunnel code staples the fresh status" \
	grep -q "dave.dc1.ntm.test: own status reloaded" "$S/dave/ntmd.log"
check "dave: the next refresh is due at the new status's half-life" \
	test "$(nstat dave status-refresh-at)" -gt "$d_now"

# A new tunnel after the first statuses expired: alice's ntmd restarts (its
# TUNNEL_CLOSE ends the old one), dave's keeps running on its timer.
pid=$(cat "$T/alice2.pid")
kill "$pid"
check "alice's ntmd stops again" wait_for 10 pid_gone "$pid"
check "dave holds no tunnel" wait_for 5 no_tunnel dave
setsid "$LABCMD" exec --name "$L" alice -- "$top_builddir/node/ntmd" -d \
	-f "$T/alice2.conf" >"$T/alice3-ntmd.log" 2>&1 &
check "alice's ntmd registers again" wait_for 20 registered alice
check_eq "alice: getent sets up a fresh tunnel to dave past the first nextUpdate" \
	"$v6" "$(lab exec --name "$L" alice -- getent hosts dave.dc1.ntm.test | awk '{ print $1 }')"
check "alice pings dave's vIPv4 over it" \
	lab exec --name "$L" alice -- ping -c 2 -W 2 "$v4"
check "alice pings dave's vIPv6 over it" \
	lab exec --name "$L" alice -- ping -6 -c 2 -W 2 "$v6"
check "no side refused the other's status as expired" \
	sh -c "! grep -Eqi 'status (response )?(has )?expired' '$S/dave/ntmd.log' '$T/alice3-ntmd.log'"

[ "$TAP_FAILED" = 0 ] || dump dc1 alice dave
tap_done
