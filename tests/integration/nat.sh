#!/bin/sh
# nat.sh -- the route grid in the lab's nat topology (tools/lab/nat.topo):
# nodes behind three kinds of NAT, a dual-stack global node and an
# IPv6-only one; for every ordered pair, the route the DC picks and
# whether a tunnel carries pings over the virtual IPs.
#
#   parent resolver as dc1 dc2 rs   -- srv, [core]
#   home1 (firewall): alice dave    home2 (firewall): bob
#   cgn (random): frank             hotel (masquerade): grace
#   carol: global v4 + v6           erin: global v6 only
#
# Every pair must work: the name resolves to the peer's virtual IP, both
# ntmd name the route the DC picked, pings go over both virtual IPs (on
# punch and relay routes both ways).  On punch and relay routes the tunnel
# goes through the RS where it must (relay; punch with the random NAT,
# whose mapping toward the peer is not the one the DC saw) and directly
# where hole punching works (two firewall NATs), as ntmd logs it ("via
# rs" / "via direct") on both sides.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/lab.sh"
lab_begin nat dig getent ping iptables ss

# troute NODE PEER: the route of NODE's tunnel to PEER (ntmctl tunnels
# --json), empty when there is none.
troute() {
	ctl "$1" tunnels --json 2>/dev/null | python3 -c "import json, sys
for t in json.load(sys.stdin):
    if t['peer'].split('.')[0] == '$2':
        print(t['route'])
        break" 2>/dev/null
}

# via NODE PEERFQDN: how NODE's latest tunnel to PEERFQDN carries data,
# "rs" or "direct", from ntmd's "installed" log line.
via() {
	grep "tunnel to $2 installed" "$S/$1/ntmd.log" 2>/dev/null | tail -n 1 |
	    sed -n 's/.*, via \([a-z]*\))$/\1/p'
}

# expect_via MN CN ROUTE: "rs", "direct", or "any" where either is right
# (hole punching through the masquerade NAT depends on who sends first).
expect_via() {
	eval "nm=\${nat_$1:-} nc=\${nat_$2:-}"
	eval "km=\${kind_$nm:-global} kc=\${kind_$nc:-global}"
	if [ "$3" = relay ] || [ "$km" = random ] || [ "$kc" = random ]; then
		echo rs
	elif [ "$km" = firewall ] && [ "$kc" = firewall ]; then
		echo direct
	else
		echo any
	fi
}

NODES="alice dave bob carol erin frank grace"
zone_alice=dc1 zone_dave=dc1 zone_erin=dc1 zone_grace=dc1
zone_bob=dc2 zone_carol=dc2 zone_frank=dc2
# How each node reaches the world: its NAT router (and kind), or global.
nat_alice=home1 nat_dave=home1 nat_bob=home2 nat_frank=cgn nat_grace=hotel
kind_home1=firewall kind_home2=firewall kind_cgn=random kind_hotel=masquerade
pub_home1=203.0.113.2 pub_home2=203.0.113.18 pub_cgn=203.0.113.34 pub_hotel=203.0.113.50

# expect MN CN: the route dc/route.c picks (doc/LAB.md, the grid).
expect() {
	eval "nm=\${nat_$1:-} nc=\${nat_$2:-}"
	if [ -n "$nm" ] && [ -n "$nc" ]; then
		if [ "$nm" = "$nc" ]; then echo private; else echo punch; fi
	elif { [ "$1" = erin ] && [ -n "$nc" ]; } || { [ "$2" = erin ] && [ -n "$nm" ]; }; then
		echo relay		# no common address family
	elif [ -n "$nc" ]; then
		echo reverse		# CN behind a NAT, MN global
	else
		echo direct
	fi
}

# ---- up: NAT routers, IPv6-only host, every node registered ------------------

NTM_LAB_KEY_TYPE=p256 lab_up \
	"ntm-lab up nat returns with every node enrolled and registered" nat
check_eq "up warns about nothing" "" \
	"$(printf '%s\n' "$LAB_UP_OUT" | grep -v "^lab $L up:")"
check_eq "status --json names each router's NAT kind" \
	"cgn:random core:- home1:firewall home2:firewall hotel:masquerade" \
	"$(lab status --name "$L" --json | python3 -c 'import json, sys
print(" ".join(sorted("%s:%s" % (h["name"], h.get("nat", "-")) for h in json.load(sys.stdin)["hosts"] if h["role"] == "router")))')"
check_eq "NTM_LAB_KEY_TYPE=p256 is written as [node] key_type in every ntmd.conf" \
	7 "$(cat "$S"/*/ntmd.conf | grep -c '^key_type = p256$')"
check "erin (IPv6 only) has no IPv4 address on eth0" sh -c \
	"! ip -n ntm-$L-erin -4 addr show dev eth0 | grep -q inet"
check "alice (behind a NAT) has no global IPv6 address" sh -c \
	"! ip -n ntm-$L-alice -6 addr show scope global dev eth0 | grep -q inet6"

for n in $NODES; do
	eval "r=\${nat_$n:-}"
	check_eq "$n: registered" registered "$(nstat "$n" registration)"
	if [ -n "$r" ]; then
		eval "pub=\$pub_$r"
		check_eq "$n: the DC observes it behind $r's NAT at $pub" "$pub behind" \
			"$(nstat "$n" observed) $(nstat "$n" nat)"
	fi
done
check_eq "carol: observed at her own address, no NAT" "203.0.113.66 none" \
	"$(nstat carol observed) $(nstat carol nat)"
check_eq "erin: registered over IPv6 at her own address, no NAT" "2001:db8:0:13::2 none" \
	"$(nstat erin observed) $(nstat erin nat)"

# ---- the NAT kinds behave as measured (shared/NETNS-NOTES.md) --------------

# udp_sources FROM: FROM sends one datagram from local port 5555 to each
# of carol's ports 7001 and 7002; prints the two source addresses carol
# saw, "ADDR:PORT ADDR:PORT".
udp_sources() {
	lab exec --name "$L" carol -- python3 -c '
import select, socket, sys
ss = []
for p in (7001, 7002):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("203.0.113.66", p))
    ss.append(s)
print("ready", flush=True)
seen = {}
while len(seen) < 2:
    r, _, _ = select.select(ss, [], [], 5)
    if not r:
        break
    for s in r:
        d, a = s.recvfrom(100)
        seen[s.getsockname()[1]] = "%s:%d" % a
print(" ".join(seen.get(p, "-") for p in (7001, 7002)), flush=True)
' >"$T/udp.out" 2>&1 &
	up=$!
	wait_for 5 grep -q ready "$T/udp.out"
	lab exec --name "$L" "$1" -- python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5555))
for p in (7001, 7002):
    s.sendto(b"x", ("203.0.113.66", p))
' >/dev/null 2>&1
	wait "$up"
	tail -n 1 "$T/udp.out"
}
check_eq "firewall NAT (bob): one mapping, source port kept, for both destinations" \
	"203.0.113.18:5555 203.0.113.18:5555" "$(udp_sources bob)"
got=$(udp_sources frank)
p1=${got%% *}
p2=${got##* }
if [ "${p1%:*}" = 203.0.113.34 ] && [ "${p2%:*}" = 203.0.113.34 ] && [ "$p1" != "$p2" ]; then
	ok "random NAT (frank): a new source port per destination ($got)"
else
	not_ok "random NAT (frank): a new source port per destination" "saw: $got"
fi
check_fails "firewall NAT (home1) drops an unsolicited ping from outside" \
	lab exec --name "$L" carol -- ping -n -c 1 -W 1 203.0.113.2
check "masquerade NAT (hotel) answers a ping from outside (no firewall)" \
	lab exec --name "$L" carol -- ping -n -c 1 -W 1 203.0.113.50
check_fails "a private LAN is not routed from outside (carol -> alice's 192.168.1.10)" \
	lab exec --name "$L" carol -- ping -n -c 1 -W 1 192.168.1.10

# ---- restart: a node's edited ntmd.conf is read again ----------------------

pid0=$(cut -d' ' -f1 "$S/carol/ntmd.pid")
sed -i 's/^\[tunnel\]$/&\nmtu = 1300/' "$S/carol/ntmd.conf"
if out=$(lab restart --name "$L" carol 2>&1); then
	ok "ntm-lab restart carol"
else
	not_ok "ntm-lab restart carol" "$out"
fi
pid1=$(cut -d' ' -f1 "$S/carol/ntmd.pid")
check "carol's ntmd has a new PID" test "$pid0" != "$pid1"
check "the old ntmd ($pid0) is gone" pid_gone "$pid0"
check_eq "carol is registered again at once (restart waits for it)" registered \
	"$(nstat carol registration)"
check "carol's restarted ntmd runs ntm0 with mtu 1300 (the edited file was read)" sh -c \
	"ip -n ntm-$L-carol link show ntm0 | grep -q 'mtu 1300 '"
check_fails "restart of a router is refused (nothing runs there)" lab restart --name "$L" home1

# ---- the grid ---------------------------------------------------------------

# fresh A B: no tunnel left between A and B on either side (a lookup
# reuses a live tunnel, whose route was decided for the other direction):
# restart both ntmd if one lists the other.
fresh() {
	if [ -n "$(troute "$1" "$2")$(troute "$2" "$1")" ]; then
		lab restart --name "$L" "$1" >/dev/null 2>&1 &&
		    lab restart --name "$L" "$2" >/dev/null 2>&1
	fi
}

for a in $NODES; do
	for b in $NODES; do
		[ "$a" = "$b" ] && continue
		eval "zb=\$zone_$b"
		name=$b.$zb.ntm.test
		want=$(expect "$a" "$b")
		eval "na=\${nat_$a:-} nb=\${nat_$b:-}"
		eval "ka=\${kind_$na:-global} kb=\${kind_$nb:-global}"
		what="$a ($ka) -> $b ($kb)"
		fresh "$a" "$b"
		got=$(lab exec --name "$L" "$a" -- timeout 10 getent hosts "$name")
		v4=$(nstat "$b" vip4)
		v6=$(nstat "$b" vip6)
		ra=$(troute "$a" "$b")
		rb=$(troute "$b" "$a")
		case $want in
		direct | reverse | private)
			check_eq "$what: getent hosts $name gives $b's vIPv6" "$v6 $name" \
				"$(echo "$got" | awk '{ print $1, $2 }')"
			check_eq "$what: both ntmd name the route $want" "$want $want" "$ra $rb"
			if lab exec --name "$L" "$a" -- ping -n -c 2 -i 0.2 -W 2 "$v4" >/dev/null 2>&1 &&
			    lab exec --name "$L" "$a" -- ping -6 -n -c 2 -i 0.2 -W 2 "$v6" >/dev/null 2>&1; then
				ok "$what: ping over both virtual IPs"
			else
				not_ok "$what: ping over both virtual IPs" "$(dump "$a" "$b")"
			fi
			;;
		*)
			eval "za=\$zone_$a"
			check_eq "$what: getent hosts $name gives $b's vIPv6" "$v6 $name" \
				"$(echo "$got" | awk '{ print $1, $2 }')"
			check_eq "$what: both ntmd name the route $want" "$want $want" "$ra $rb"
			if lab exec --name "$L" "$a" -- ping -n -c 2 -i 0.2 -W 2 "$v4" >/dev/null 2>&1 &&
			    lab exec --name "$L" "$a" -- ping -6 -n -c 2 -i 0.2 -W 2 "$v6" >/dev/null 2>&1; then
				ok "$what: ping over both virtual IPs"
			else
				not_ok "$what: ping over both virtual IPs" "$(dump "$a" "$b")"
			fi
			av4=$(nstat "$a" vip4)
			av6=$(nstat "$a" vip6)
			if lab exec --name "$L" "$b" -- ping -n -c 2 -i 0.2 -W 2 "$av4" >/dev/null 2>&1 &&
			    lab exec --name "$L" "$b" -- ping -6 -n -c 2 -i 0.2 -W 2 "$av6" >/dev/null 2>&1; then
				ok "$what: ping back from $b over both virtual IPs"
			else
				not_ok "$what: ping back from $b over both virtual IPs" "$(dump "$a" "$b")"
			fi
			wv=$(expect_via "$a" "$b" "$want")
			va=$(via "$a" "$name")
			vb=$(via "$b" "$a.$za.ntm.test")
			if [ "$wv" = any ]; then
				if [ -n "$va" ] && [ "$va" = "$vb" ]; then
					ok "$what: both sides take the same path (via $va)"
				else
					not_ok "$what: both sides take the same path" \
						"via '$va' and '$vb'"
				fi
			else
				check_eq "$what: the tunnel goes via $wv on both sides" "$wv $wv" "$va $vb"
			fi
			;;
		esac
	done
done

lab_down_checks

tap_done
