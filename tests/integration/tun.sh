#!/bin/sh
# tun.sh -- the node data plane between two namespaces: TUN ntm0, virtual
# IPs and routes by netlink, DATA packets over UDP 4620, seen by ping,
# iperf3 and a socat file transfer (root; skipped otherwise).
#
#   ntm-dp-$$-a                                       ntm-dp-$$-b
#   ntm0 198.18.1.2/32                          ntm0 198.18.2.2/32
#        fd6e:746d:6f62:1::2/128                     fd6e:746d:6f62:2::2/128
#   routes 198.18.0.0/15, fd6e:746d:6f62::/48 -> ntm0 (both sides)
#   dptest -I (initiator)                             dptest (responder)
#   veth va 192.0.2.1/24 ---- UDP 4620 ---- vb 192.0.2.2/24
#           2001:db8::1/64                         2001:db8::2/64
#
# First AES-256-GCM over outer IPv4 with UDP GSO sends and GRO receives,
# then ChaCha20-Poly1305 over outer IPv6 with one datagram per syscall.
#
# dptest is a harness with a fixed key pair on its command line; the
# product's key exchange is not involved.  Counters come from the
# harness's statistics file (SIGUSR1); SIGUSR2 makes A send one packet
# sealed with a wrong key.
set -u
. "$top_srcdir/tests/tap.sh"
tap_need_root
tap_need_cmd ip ping iperf3 socat sha256sum python3 ss

DPTEST=$top_builddir/tests/dataplane/dptest
[ -x "$DPTEST" ] || tap_skip_all "build tests/dataplane/dptest first"
[ -c /dev/net/tun ] || tap_skip_all "no /dev/net/tun"

NA=ntm-dp-$$-a
NB=ntm-dp-$$-b
T=$(mktemp -d /tmp/ntm-dp-$$.XXXXXX)
PIDS=""
KI=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
KR=f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff
A4=198.18.1.2
A6=fd6e:746d:6f62:1::2
B4=198.18.2.2
B6=fd6e:746d:6f62:2::2

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ip netns add "$NA" && ip netns add "$NB" ||
    tap_skip_all "cannot create network namespaces"
ip -n "$NA" link set lo up
ip -n "$NB" link set lo up
ip -n "$NA" link add va type veth peer name vb netns "$NB"
ip -n "$NA" addr add 192.0.2.1/24 dev va
ip -n "$NB" addr add 192.0.2.2/24 dev vb
ip -n "$NA" addr add 2001:db8::1/64 dev va nodad
ip -n "$NB" addr add 2001:db8::2/64 dev vb nodad
ip -n "$NA" link set va up
ip -n "$NB" link set vb up

ip netns exec "$NA" "$DPTEST" -g -G -I -a $A4 -A $A6 -b $B4 -B $B6 \
    -l 192.0.2.1:4620 -p 192.0.2.2:4620 -r 0x0a0a0a0a -R 0x0b0b0b0b \
    -k $KI -K $KR -s "$T/a.stats" > "$T/a.log" 2>&1 &
PIDS="$PIDS $!"
PA=$!
ip netns exec "$NB" "$DPTEST" -g -G -c aes -a $B4 -A $B6 -b $A4 -B $A6 \
    -l 192.0.2.2:4620 -p 192.0.2.1:4620 -r 0x0b0b0b0b -R 0x0a0a0a0a \
    -k $KI -K $KR -s "$T/b.stats" > "$T/b.log" 2>&1 &
PIDS="$PIDS $!"
PB=$!

if wait_for 5 grep -q "ready on ntm0 .*, gso, gro)" "$T/a.log" &&
    wait_for 5 grep -q "ready on ntm0 .*, gso, gro)" "$T/b.log"; then
	ok "dptest up in both namespaces"
else
	not_ok "dptest up in both namespaces" "$(cat "$T/a.log" "$T/b.log")"
	tap_done
	exit 1
fi

# ---- the device as netlink left it ------------------------------------
link=$(ip -n "$NA" -o link show ntm0)
case $link in
*"<POINTOPOINT,NOARP,UP,LOWER_UP>"*"mtu 1420"*)
	ok "ntm0 is up, without multicast, with MTU 1420" ;;
*)	not_ok "ntm0 is up, without multicast, with MTU 1420" "$link" ;;
esac
check "ntm0 holds the virtual IPv4 /32" \
    sh -c "ip -n $NA -o addr show dev ntm0 | grep -q 'inet $A4/32'"
check "ntm0 holds the virtual IPv6 /128" \
    sh -c "ip -n $NA -o addr show dev ntm0 | grep -q 'inet6 $A6/128'"
# No link-local address: the kernel would send solicitations into the tunnel.
check_eq "ntm0 has no IPv6 link-local address" "" \
    "$(ip -n "$NA" -o -6 addr show dev ntm0 scope link)"
check_eq "the IPv4 virtual range routes to ntm0" "198.18.0.0/15 dev ntm0" \
    "$(ip -n "$NA" -4 route show 198.18.0.0/15 | sed 's/ proto.*//')"
check "the IPv6 virtual range routes to ntm0" \
    sh -c "ip -n $NA -6 route show fd6e:746d:6f62::/48 | grep -q 'dev ntm0'"

# ---- traffic over the virtual IPs ---------------------------------------
check "ping over the virtual IPv4 addresses" \
    ip netns exec "$NA" ping -c 3 -i 0.2 -W 2 $B4
check "ping over the virtual IPv6 addresses" \
    ip netns exec "$NA" ping -6 -c 3 -i 0.2 -W 2 $B6
check "ping back from B to A" \
    ip netns exec "$NB" ping -c 2 -i 0.2 -W 2 $A4
ip netns exec "$NB" iperf3 -s -1 -B $B4 -p 5201 > "$T/iperf-s.log" 2>&1 &
PIDS="$PIDS $!"
if wait_for 5 sh -c "ip netns exec $NB ss -ltn | grep -q '$B4:5201'"; then
	ip netns exec "$NA" iperf3 -c $B4 -p 5201 -t 2 -J > "$T/iperf.json" 2>&1
	bytes=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(int(d["end"]["sum_received"]["bytes"]))' "$T/iperf.json" 2>/dev/null)
	if [ "${bytes:-0}" -gt 1000000 ]; then
		ok "iperf3 over the tunnel: $bytes bytes received"
	else
		not_ok "iperf3 over the tunnel moves data" \
		    "$(tail -20 "$T/iperf.json")"
	fi
else
	not_ok "iperf3 server listens on the virtual IP" \
	    "$(cat "$T/iperf-s.log")"
fi

head -c 4194304 /dev/urandom > "$T/src"
ip netns exec "$NB" socat -u TCP6-LISTEN:5002,bind="[$B6]",reuseaddr \
    CREATE:"$T/dst" > "$T/socat.log" 2>&1 &
SOCAT=$!
PIDS="$PIDS $SOCAT"
if wait_for 5 sh -c "ip netns exec $NB ss -ltn | grep -q ':5002'"; then
	ip netns exec "$NA" socat -u OPEN:"$T/src" TCP6:"[$B6]:5002" \
	    >> "$T/socat.log" 2>&1
	wait_for 10 sh -c "! kill -0 $SOCAT"
	check_eq "4 MiB over IPv6 virtual IPs arrive intact (sha256)" \
	    "$(sha256sum < "$T/src")" "$(sha256sum < "$T/dst" 2>/dev/null)"
else
	not_ok "socat listens on the virtual IPv6 address" \
	    "$(cat "$T/socat.log")"
fi

# ---- counters -------------------------------------------------------------
stats() {	# stats A|B: fresh statistics line of that side
	f=$T/$(echo "$1" | tr AB ab).stats
	pid=$PA
	[ "$1" = B ] && pid=$PB
	rm -f "$f"
	kill -USR1 "$pid"
	wait_for 5 test -s "$f" && cat "$f"
}
field() {	# field NAME LINE
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
sa=$(stats A)
sb=$(stats B)
drops_a=$(printf '%s\n' "$sa" | tr ' ' '\n' | grep '^drop_' | grep -v '=0$')
drops_b=$(printf '%s\n' "$sb" | tr ' ' '\n' | grep '^drop_' | grep -v '=0$')
check_eq "A counted no drops" "" "$drops_a"
check_eq "B counted no drops" "" "$drops_b"
check_eq "A's TUN took every packet" 0 "$(field tun_write_errors "$sa")"
n=$(field packets_in "$sb")
if [ "${n:-0}" -gt 1000 ] && [ "$(field bytes_in "$sb")" -gt 4194304 ]; then
	ok "B counted the packets and bytes it delivered ($n packets)"
else
	not_ok "B counted the packets and bytes it delivered" "$sb"
fi

# A packet to a virtual IP without a tunnel goes nowhere and is counted.
ip netns exec "$NA" ping -c 1 -W 1 198.18.2.9 > /dev/null 2>&1
sa=$(stats A)
check_eq "a packet to a VIP without tunnel is counted" 1 \
    "$(field drop_no_tunnel "$sa")"

# A packet sealed with the wrong key: counted as an authentication failure.
kill -USR2 "$PA"
wait_for 5 grep -q "sent a forged packet" "$T/a.log"
b_auth_counted() {
	[ "$(field drop_auth "$(stats B)")" = 1 ]
}
if wait_for 5 b_auth_counted; then
	ok "a packet under a wrong key is dropped as an auth failure"
else
	not_ok "a packet under a wrong key is dropped as an auth failure" \
	    "$(cat "$T/b.stats" 2>/dev/null)"
fi
sb=$(stats B)
check_eq "and nothing else was dropped" "drop_auth=1" \
    "$(printf '%s\n' "$sb" | tr ' ' '\n' | grep '^drop_' | grep -v '=0$')"
check "the tunnel still works after the forgery" \
    ip netns exec "$NA" ping -c 1 -W 2 $B4

# ---- again with ChaCha20-Poly1305 over outer IPv6 ----------------------
kill "$PA" "$PB"
wait "$PA" "$PB"
check "ntm0 and its routes go away with the data plane" \
    sh -c "! ip -n $NA link show ntm0 && ! ip -n $NA route get $B4"
ip netns exec "$NA" "$DPTEST" -I -c chacha -a $A4 -A $A6 -b $B4 -B $B6 \
    -l "[2001:db8::1]:4620" -p "[2001:db8::2]:4620" -r 7 -R 8 \
    -k $KI -K $KR -s "$T/a.stats" > "$T/a.log" 2>&1 &
PA=$!
PIDS="$PIDS $PA"
ip netns exec "$NB" "$DPTEST" -c chacha -a $B4 -A $B6 -b $A4 -B $A6 \
    -l "[2001:db8::2]:4620" -p "[2001:db8::1]:4620" -r 8 -R 7 \
    -k $KI -K $KR -s "$T/b.stats" > "$T/b.log" 2>&1 &
PB=$!
PIDS="$PIDS $PB"
READY2="ready on ntm0 .*chacha20-poly1305, no gso, no gro"
if wait_for 5 grep -q "$READY2" "$T/a.log" &&
    wait_for 5 grep -q "$READY2" "$T/b.log"; then
	ok "dptest up with chacha20-poly1305 over outer IPv6"
else
	not_ok "dptest up with chacha20-poly1305 over outer IPv6" \
	    "$(cat "$T/a.log" "$T/b.log")"
fi
check "ping over the virtual IPv4 addresses (outer IPv6)" \
    ip netns exec "$NA" ping -c 3 -i 0.2 -W 2 $B4
check "ping over the virtual IPv6 addresses (outer IPv6)" \
    ip netns exec "$NA" ping -6 -c 3 -i 0.2 -W 2 $B6
rm -f "$T/dst"
ip netns exec "$NB" socat -u TCP4-LISTEN:5003,bind=$B4,reuseaddr \
    CREATE:"$T/dst" > "$T/socat.log" 2>&1 &
SOCAT=$!
PIDS="$PIDS $SOCAT"
if wait_for 5 sh -c "ip netns exec $NB ss -ltn | grep -q '$B4:5003'"; then
	ip netns exec "$NA" socat -u OPEN:"$T/src" TCP4:$B4:5003 \
	    >> "$T/socat.log" 2>&1
	wait_for 10 sh -c "! kill -0 $SOCAT"
	check_eq "4 MiB over IPv4 virtual IPs arrive intact (outer IPv6)" \
	    "$(sha256sum < "$T/src")" "$(sha256sum < "$T/dst" 2>/dev/null)"
else
	not_ok "socat listens on the virtual IPv4 address" \
	    "$(cat "$T/socat.log")"
fi
sb=$(stats B)
check_eq "B counted no drops (outer IPv6)" "" \
    "$(printf '%s\n' "$sb" | tr ' ' '\n' | grep '^drop_' | grep -v '=0$')"
n=$(field bytes_in "$sb")
if [ "${n:-0}" -gt 4194304 ]; then
	ok "B delivered the transfer's bytes (outer IPv6): $n"
else
	not_ok "B delivered the transfer's bytes (outer IPv6)" "$sb"
fi

tap_done
