#!/bin/sh
# ctlclose.sh -- ntmctl close and the richer ntmctl tunnels (CONTROL.md 3, 4):
# closing one tunnel on request drops it on both sides at once, a new
# lookup sets up a new one with fresh counters, and the listing names the
# scheme and carries per-tunnel counters.
#
#   as  dc1                        -- srv 198.51.100.0/24, 2001:db8:0:100::/64
#          [core]
#   alice ---- core ---- dave      (both dc1.ntm.test; direct route, ecdhe)
#
# alice looks dave up (getent, through the NSS module), pings him, then
#   ntmctl close dave.dc1.ntm.test    on alice: exit 0, one line; alice's
#                                     table is empty when it returns, dave
#                                     drops his side on the TUNNEL_CLOSE,
#                                     pings fail;
#   getent again                      a new tunnel (another path id, the
#                                     counters start again);
#   ntmctl close twice                the second fails with a clear line;
#   a setup held up (dave's ntmd stopped with SIGSTOP): close answers that
#   the setup is still running and leaves it alone.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/lab.sh"
lab_begin cc getent ping openssl

# A stopped ntmd (the last part) goes on before the lab comes down.
dpid=
lab_atexit() {
	[ -n "$dpid" ] && kill -CONT "$dpid" 2>/dev/null
}

# jopt KEY: KEY of the first tunnel in the listing on stdin (--json).
jopt() {
	python3 -c '
import json, sys
t = json.load(sys.stdin)
print(t[0].get(sys.argv[1], "") if t else "")' "$1" 2>/dev/null
}

# topt NODE KEY: KEY of the first tunnel in NODE's ntmctl tunnels --json.
topt() {
	ctl "$1" tunnels --json 2>/dev/null | jopt "$2"
}

# path_of NODE: the path id of NODE's latest "tunnel to dave ... installed".
path_of() {
	sed -n 's/.*tunnel to dave\.dc1\.ntm\.test installed (path \([0-9a-f]*\),.*/\1/p' \
	    "$S/$1/ntmd.log" | tail -n 1
}

lab_up "ntm-lab up with every node enrolled and registered"
lab_need_registered alice dave
v4=$(nstat dave vip4)
v6=$(nstat dave vip6)

# ---- a tunnel, and what the listing says about it --------------------------

check_eq "alice: getent hosts dave.dc1.ntm.test gives dave's vIPv6" "$v6" \
	"$(lab exec --name "$L" alice -- getent hosts dave.dc1.ntm.test |
	awk '{ print $1 }')"
check "alice pings dave's vIPv4 five times through the tunnel" \
	lab exec --name "$L" alice -- ping -c 5 -i 0.2 -W 2 "$v4"
t_ping=$(date +%s)
json=$(ctl alice tunnels --json 2>&1)
t_list=$(date +%s)
check "alice: the plain listing keeps its shape (name route state addresses)" \
	sh -c "'$NTMCTL' tunnels -s '$S/alice/ntmd.sock' | grep -Eq \
	'^dave\.dc1\.ntm\.test +direct +up +$v4 +$v6\$'"
check_eq "alice: ntmctl tunnels --json names the scheme" ecdhe \
	"$(topt alice kex)"
check_eq "dave: ntmctl tunnels --json names the scheme" ecdhe \
	"$(topt dave kex)"
check_eq "alice: the tunnel's data goes direct" direct "$(topt alice via)"
out1=$(topt alice packets-out)
in1=$(topt alice packets-in)
check "alice: the tunnel sealed the 5 echo requests (packets-out $out1)" \
	test "${out1:-0}" -ge 5
check "alice: the tunnel opened the 5 echo replies (packets-in $in1)" \
	test "${in1:-0}" -ge 5
check "alice: bytes-in counts their inner bytes ($(topt alice bytes-in))" \
	test "$(topt alice bytes-in)" -ge $((in1 * 84))
check_eq "alice: no drops on the tunnel" 0 "$(topt alice drops)"
check_eq "alice: key epoch 0 (no rekey yet)" 0 "$(topt alice epoch)"
idle=$(echo "$json" | jopt idle-s)
age=$(echo "$json" | jopt age-s)
check "alice: idle-s counts from the last reply ($idle s, listed $((t_list - t_ping)) s after)" \
	test "$idle" -le $((t_list - t_ping + 1))
check "alice: age-s counts from the install ($age s >= idle-s)" \
	test "$age" -ge "$idle" -a "$age" -lt 60
check "alice: ntmctl tunnels -v shows kex and counters" \
	sh -c "'$NTMCTL' tunnels -v -s '$S/alice/ntmd.sock' | grep -Eq \
	'^dave\.dc1\.ntm\.test +direct +up +ecdhe +direct +$in1 +$out1 '"
path1=$(path_of alice)
installed=$(nstat alice tunnel-installed)

# ---- close it ---------------------------------------------------------------

log_mark dave
msg=$(ctl alice close dave.dc1.ntm.test 2>&1)
rc=$?
check_eq "alice: ntmctl close dave.dc1.ntm.test exits 0" 0 "$rc"
check_eq "alice: ntmctl close says what it closed" \
	"closed the tunnel to dave.dc1.ntm.test ($v4 $v6)" "$msg"
# The answer comes once the tunnel is gone: no waiting here.
check_eq "alice: no tunnel listed right after the answer" 0 "$(ntunnels alice)"
check_eq "alice: the tunnel machine holds no live tunnel" 0 \
	"$(nstat alice tunnels-live)"
check_eq "alice: tunnel-closed-by-request counts it" 1 \
	"$(nstat alice tunnel-closed-by-request)"
check "dave: drops his side on alice's TUNNEL_CLOSE" wait_for 5 no_tunnel dave
check "dave's log: closed by the peer with status ok" \
	log_has dave "tunnel to alice\.dc1\.ntm\.test closed by the peer \(ok\)"
check_fails "alice: a ping to dave's vIPv4 finds no tunnel" \
	lab exec --name "$L" alice -- ping -c 1 -W 1 "$v4"

# ---- a new lookup, a new tunnel ---------------------------------------------

check_eq "alice: getent hosts dave.dc1.ntm.test again gives dave's vIPv6" \
	"$v6" "$(lab exec --name "$L" alice -- getent hosts dave.dc1.ntm.test |
	awk '{ print $1 }')"
check_eq "alice: one more tunnel installed" $((installed + 1)) \
	"$(nstat alice tunnel-installed)"
path2=$(path_of alice)
check "alice: the new tunnel has another path id ($path1 -> $path2)" \
	test -n "$path2" -a "$path2" != "$path1"
check "alice: the new tunnel's counters start again (packets-out $(topt alice packets-out) < $out1)" \
	test "$(topt alice packets-out)" -lt "$out1"
check "dave: lists alice up again" wait_for 5 sh -c \
	"'$NTMCTL' tunnels -s '$S/dave/ntmd.sock' | grep -Eq '^alice\.dc1\.ntm\.test +direct +up '"
check "alice pings dave's vIPv4 over the new tunnel" \
	lab exec --name "$L" alice -- ping -c 1 -W 2 "$v4"

# ---- close errors -----------------------------------------------------------

check_eq "alice: ntmctl close --json names what it closed" \
	"{\"closed\":\"dave.dc1.ntm.test\",\"addresses\":[\"$v4\",\"$v6\"]}" \
	"$(ctl alice close --json Dave.DC1.ntm.test. 2>&1)"
msg=$(ctl alice close dave.dc1.ntm.test 2>&1)
rc=$?
check_eq "alice: closing it again exits 1" 1 "$rc"
check_eq "alice: ... with one clear line" \
	"ntmctl: no tunnel to dave.dc1.ntm.test" "$msg"
msg=$(ctl alice close carol.dc2.ntm.test 2>&1)
rc=$?
check_eq "alice: closing a peer never tunneled to exits 1 ($msg)" 1 "$rc"
msg=$("$NTMCTL" close -s "$S/alice/nosuch.sock" dave.dc1.ntm.test 2>&1)
rc=$?
check_eq "alice: ntmd down: exit 1 and a message naming it ($msg)" "1 yes" \
	"$rc $(echo "$msg" | grep -q 'ntmd is not running' && echo yes)"
if command -v setpriv >/dev/null 2>&1 &&
    setpriv --reuid=4242 --regid=4242 --clear-groups \
    test -w "$S/alice/ntmd.sock" 2>/dev/null; then
	msg=$(setpriv --reuid=4242 --regid=4242 --clear-groups \
	    "$NTMCTL" close -s "$S/alice/ntmd.sock" dave.dc1.ntm.test 2>&1)
	rc=$?
	check_eq "another user: close refused, exit 1 ($msg)" "1 yes" \
	    "$rc $(echo "$msg" | grep -q 'permission denied' && echo yes)"
else
	ok "another user: close refused # SKIP the lab's socket is out of uid 4242's reach"
fi

# ---- a setup still running is left alone ------------------------------------

dpid=$(cut -d' ' -f1 "$S/dave/ntmd.pid")
kill -STOP "$dpid"
lab exec --name "$L" alice -- getent hosts dave.dc1.ntm.test >/dev/null 2>&1 &
gpid=$!
setting_up() {
	ctl alice close dave.dc1.ntm.test 2>&1 | grep -q 'setup is still running'
}
check "alice: close during a setup says the setup is still running" \
	wait_for 3 setting_up
kill -CONT "$dpid"
dpid=
wait "$gpid"
check "alice: the setup ends on its own (a tunnel or a timeout)" \
	wait_for 10 sh -c "! '$NTMCTL' close -s '$S/alice/ntmd.sock' \
	dave.dc1.ntm.test 2>&1 | grep -q 'still running'"

tap_done
