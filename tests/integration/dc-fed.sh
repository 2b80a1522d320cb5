#!/bin/sh
# dc-fed.sh -- DC <-> DC on 4611: ntm-dc answers a peer DC's Node
# Information Request for a registered node of its zone, only for an
# asking DC whose certificate lists MN's zone; the asking side accepts a
# DC only for zones its certificate lists, wherever DNS pointed it;
# [federation] resolver is checked (needs [tls], an address) and used;
# a ROUTE_HANDOFF from a peer DC (handoff.py) is refused for an MN zone
# its certificate does not list, answered NOT_REGISTERED for an absent
# CN, and sent to a registered CN as its Route Direction (UNAVAILABLE when
# it never acknowledges).
#
#   asnode --enroll--> ntm-as --notices--> ntm-dc (dc1.ntm.test) <--UDP-- regclient (n1)
#   fedclient (ntm-dc certificate of dc2.ntm.test) --TLS 4611--^
#
# No root: everything on 127.0.0.1.  The resolver half (NS lookup, TTL
# cache) is tested in test_federation against a DNS server on loopback.
set -u
. "$top_srcdir/tests/tap.sh"
tap_need_cmd sqlite3 python3

NTMCTL=$top_builddir/tools/ntmctl
NTMAS=$top_builddir/as/ntm-as
ASNODE=$top_builddir/tests/as/asnode
DC=$top_builddir/dc/ntm-dc
REG=$top_builddir/tests/dc/regclient
FED=$top_builddir/tests/dc/fedclient
. "$top_srcdir/tests/asdc.sh"
asdc_begin dcf "$NTMCTL" "$NTMAS" "$ASNODE" "$DC" "$REG" "$FED"
asdc_ca dc2
head -c 32 /dev/urandom > dc1.tkey
chmod 600 dc1.tkey
asdc_as_conf "" "ticket_key = $T/dc1.tkey"
asdc_zone 198.18.1.1
asdc_dc_conf "ticket_key_file = $T/dc1.tkey"
cat >> dc.conf <<EOF

[ocsp]
listen = 127.0.0.1:$OCSP_PORT

[federation]
resolver = 127.0.0.1:$DNS_PORT
EOF
# The same without [tls], and with a resolver that is not an address.
sed '/^\[tls\]/,/^key =/d' dc.conf > dc-notls.conf
sed 's/^resolver = .*/resolver = ns1.example/' dc.conf > dc-badres.conf

start_dc() {
	"$DC" -d -v -f dc.conf >> dc.log 2>&1 &
	DCPID=$!
	wait_for 10 grep -q "notice: AS notices on 127.0.0.1:$TLS_PORT" dc.log
}
check_fed_log() {
	grep -q "federation: peer DCs found through 127.0.0.1:$DNS_PORT" dc.log
}
start_as() {
	$NTMAS -d -v -f as.conf >> as.log 2>&1 &
	ASPID=$!
	wait_for 10 grep -q "listening for nodes" as.log
}
check_eq "ntm-dc -n accepts the configuration" "configuration OK" \
    "$("$DC" -n -f dc.conf 2>&1)"
out=$("$DC" -n -f dc-notls.conf 2>&1)
case $out in
*"[federation] needs [tls]"*) ok "[federation] without [tls] is refused" ;;
*) not_ok "[federation] without [tls] is refused" "$out" ;;
esac
out=$("$DC" -n -f dc-badres.conf 2>&1)
case $out in
*'[federation] resolver: "ns1.example" is not address[:port]'*)
	ok "a resolver that is not an address is refused" ;;
*) not_ok "a resolver that is not an address is refused" "$out" ;;
esac
start_dc || { not_ok "ntm-dc starts" "$(cat dc.log)"; tap_done; exit 1; }
start_as || { not_ok "ntm-as starts" "$(cat as.log)"; tap_done; exit 1; }
check "with [federation] the DC looks for peer DCs through the resolver" \
	check_fed_log
echo "operator secret" | $NTMCTL account add ops --fqdn n1.dc1.ntm.test \
	--socket as.sock >/dev/null
$ASNODE -a 127.0.0.1:$AS_PORT -t ca/root.pem enroll ops "operator secret" \
	n1.dc1.ntm.test n1 > n1.out 2>&1
S1=$(sed -n 's/^serial //p' n1.out)
V4=$(sed -n 's/^vip4 //p' n1.out)
V6=$(sed -n 's/^vip6 //p' n1.out)
wait_for 10 grep -q "notice-issued n1.dc1.ntm.test" dc.log
check "n1's certificate and status reach the DC" \
	grep -q "notice-issued n1.dc1.ntm.test" dc.log
out=$("$REG" -k dc1.tkey -n n1.dc1.ntm.test -4 "$V4" -6 "$V6" -s "$S1" \
	127.0.0.1:$SIG_PORT 2>&1)
case $out in
"registered n1.dc1.ntm.test observed "*) ok "n1 registers" ;;
*) not_ok "n1 registers" "$out" ;;
esac
OBS=$(echo "$out" | sed 's/.* observed \([^ ]*\) .*/\1/')

ask() {	# ask CHAIN KEY MN CN: fedclient's one line
	"$FED" -a 127.0.0.1:$TLS_PORT -t ca/root.pem -c "$1" -k "$2" "$3" "$4" 2>&1
}
out=$(ask dc2.chain dc2.key alice.dc2.ntm.test n1.dc1.ntm.test)
check_eq "DC dc2 asking for n1 (MN alice in dc2) gets n1's observed address" \
	"status ok observed $OBS nat 1" "$out"
wait_for 5 grep -q "federation: DC ns1.dc2.ntm.test connected" dc.log
check "the DC logs the peer DC by name" \
	grep -q "federation: DC ns1.dc2.ntm.test connected" dc.log
out=$(ask dc2.chain dc2.key alice.dc3.ntm.test n1.dc1.ntm.test)
check_eq "for an MN of a zone its certificate does not list: refused by policy" \
	"status refused by policy" "$out"
out=$(ask dc2.chain dc2.key alice.dc2.ntm.test dave.dc1.ntm.test)
check_eq "a node that is not registered" "status not registered" "$out"
out=$(ask dc2.chain dc2.key alice.dc2.ntm.test bob.dc9.ntm.test)
case $out in
"refused: the server's certificate does not list dc9.ntm.test")
	ok "DC_MN refuses a DC whose certificate does not list CN's zone, wherever DNS pointed" ;;
*) not_ok "DC_MN refuses a DC whose certificate does not list CN's zone, wherever DNS pointed" "$out" ;;
esac
# A peer DC handing over CN's Route Direction (ROUTE_HANDOFF, PROTOCOL.md
# 6.4), written here from the wire format; prints DC_CN's answer.
cat > handoff.py <<'EOF'
import socket, ssl, struct, sys
port, chain, key, mn, cn = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
def attr(t, v):
    return struct.pack(">HH", t, len(v)) + v
path = bytes(range(1, 17))
body = b"".join([
    attr(0x001a, path), attr(0x001d, b"\x01"), attr(0x001e, b"\x02"),
    attr(0x0012, b"\x03"), attr(0x0007, struct.pack(">Q", 4000000000)),
    attr(0x0011, mn.encode()), attr(0x0033, bytes([198, 18, 2, 9])),
    attr(0x000b, struct.pack(">BH", 4, 4620) + bytes([192, 0, 2, 9])),
    attr(0x001b, struct.pack(">I", 11)), attr(0x001c, struct.pack(">I", 12)),
    attr(0x0020, b"\x07" * 32), attr(0x0021, b"\x08" * 32),
    attr(0x0030, b"\x09" * 32), attr(0x0031, b"\x2a"),
    attr(0x0032, b"STATUS"), attr(0x0010, cn.encode())])
hdr = struct.pack(">BBBBHHIQ", 1, 0x42, 1, 0, len(body), 0, 4242, 0) + path
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.set_alpn_protocols(["ntmobile/1"])
ctx.load_cert_chain(chain, key)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port))))
s.settimeout(20)
s.sendall(hdr + body)
def read(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit("closed")
        b += c
    return b
h = read(36)
_, typ, status, _, length, _, txid, _ = struct.unpack(">BBBBHHIQ", h[:20])
b = read(length)
same = b == attr(0x001a, path)
print("type %#x status %d txid %d path %s" % (typ, status, txid,
      "same" if same else "other"))
EOF
handoff() {	# handoff CHAIN KEY MN CN
	python3 handoff.py "$TLS_PORT" "$1" "$2" "$3" "$4" 2>&1
}
out=$(handoff dc2.chain dc2.key alice.dc3.ntm.test n1.dc1.ntm.test)
check_eq "a ROUTE_HANDOFF for an MN of a zone the DC's certificate does not list: PEER_NTM_ACK refused by policy" \
	"type 0x43 status 7 txid 4242 path same" "$out"
out=$(handoff dc2.chain dc2.key alice.dc2.ntm.test dave.dc1.ntm.test)
check_eq "a ROUTE_HANDOFF for a node that is not registered: PEER_NTM_ACK not registered" \
	"type 0x43 status 5 txid 4242 path same" "$out"
out=$(handoff dc2.chain dc2.key alice.dc2.ntm.test n1.dc1.ntm.test)
check_eq "a ROUTE_HANDOFF for n1, who never acknowledges: PEER_NTM_ACK unavailable after the retransmissions" \
	"type 0x43 status 20 txid 4242 path same" "$out"
check "the DC sent n1 its Route Direction from the handoff" \
	grep -q "signal: handoff alice.dc2.ntm.test -> n1.dc1.ntm.test: direct route, CN at $OBS" dc.log
$NTMCTL ca issue --dir ca --role node --fqdn eve.dc2.ntm.test \
	--vip4 198.18.2.200 --vip6 fd6e:746d:6f62:2::200 --out eve >/dev/null
cat eve.pem ca/as.pem > eve.chain
out=$(ask eve.chain eve.key alice.dc2.ntm.test n1.dc1.ntm.test)
case $out in
"closed "*) ok "a node certificate cannot ask ($out)" ;;
*) not_ok "a node certificate cannot ask" "$out" ;;
esac
wait_for 5 grep -q "refused ntm-node certificate of 'eve.dc2.ntm.test'" dc.log
check "and the DC logs the refused certificate" \
	grep -q "refused ntm-node certificate of 'eve.dc2.ntm.test'" dc.log

stop "$DCPID"
DCPID=
tap_done
