#!/bin/sh
# ntmd.sh -- ntmd in a namespace of its own: TUN with the virtual IPs and
# routes, the control socket answering ntmctl, -n, and the privilege drop.
#
#   +------------------------- ntm-$$-node ---------------------------+
#   |  lo                                                             |
#   |  ntm0   198.18.1.10/32  fd6e:746d:6f62:1::a/128                 |
#   |         198.18.0.0/15 -> ntm0    fd6e:746d:6f62::/48 -> ntm0    |
#   |  ntmd   user nobody + CAP_NET_ADMIN, control socket $dir/run/  |
#   |  dc0 (veth) 192.0.2.1   <- a DC written here in Python from      |
#   |                            PROTOCOL.md 7 (second run only)       |
#   +-----------------------------------------------------------------+
#
# First run: no ticket, so ntmd must say so (registration no-ticket) and
# answer peers with UNAVAIL not-registered.  Second run: a ticket and K_ND
# in the state directory (as enrollment leaves them), and ntmd registers
# with the Python DC over real UDP: REG_HELLO, REG_CHALLENGE, REGISTRATION
# sealed under the HKDF key, REGISTRATION_ACK; ntmctl shows the result.
. "$top_srcdir/tests/tap.sh"
tap_need_root
tap_need_cmd ip python3

ntmd="$top_builddir/node/ntmd"
ntmctl="$top_builddir/tools/ntmctl"
ns="ntm-$$-node"
dir=$(mktemp -d /tmp/ntmd-test.XXXXXX)
chmod 755 "$dir"
# The CA, zone and dc.conf of the third and fourth runs come from asdc.sh,
# written in $T (run them in a subshell that cd's there).
. "$top_srcdir/tests/asdc.sh"
T=$dir
NTMCTL=$ntmctl
pid=
dcpid=
aspid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	[ -n "$dcpid" ] && kill "$dcpid" 2>/dev/null
	[ -n "$aspid" ] && kill "$aspid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# end_run NTMD_LOG LABEL PEER_LOG...: stop ntmd, then the DC and AS of the
# run; after a failure show ntmd's log and the peers' under LABEL.
end_run() {
	kill -TERM "$pid"
	wait "$pid"
	pid=
	for p in $dcpid $aspid; do kill "$p" 2>/dev/null; done
	for p in $dcpid $aspid; do wait "$p" 2>/dev/null; done
	dcpid= aspid=
	[ "$TAP_FAILED" = 0 ] && return
	sed 's/^/# ntmd: /' "$1"
	label=$2
	shift 2
	sed "s/^/# $label: /" "$@"
}

# A DC for one node, from PROTOCOL.md 2, 3 and 7 (not from ntmd's code).
cat >"$dir/dc.py" <<'EOF'
import hashlib, hmac, os, socket, struct, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

knd, ticket = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
log = sys.argv[3]
HDR = "!BBBBHHIQ16s"

def expand(prk, info):
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()

def tlvs(body):
    out, i = [], 0
    while i < len(body):
        t, n = struct.unpack_from("!HH", body, i)
        out.append((t, body[i + 4:i + 4 + n]))
        i += 4 + n
    return out

def tlv(t, v):
    return struct.pack("!HH", t, len(v)) + v

def note(line):
    with open(log, "a") as f:
        f.write(line + "\n")

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.1", 4610))
note("listening")
sid, kn, kd, seq = os.urandom(16), None, None, 0
while True:
    pkt, src = s.recvfrom(2048)
    ver, typ, st, fl, ln, _, txid, rseq, hid = struct.unpack_from(HDR, pkt)
    hdr, body = pkt[:36], pkt[36:]
    if typ == 1:
        a = dict(tlvs(body))
        if a.get(3) != ticket:
            note("bad ticket")
            continue
        cookie = os.urandom(32)
        prk = hmac.new(a[1] + cookie, knd, hashlib.sha256).digest()
        kn = AESGCM(expand(prk, b"ntmobile v1 node to dc"))
        kd = AESGCM(expand(prk, b"ntmobile v1 dc to node"))
        b = tlv(2, cookie) + tlv(1, a[1])
        h = struct.pack(HDR, 1, 2, 1, 0, len(b), 0, txid, 0, sid)
        s.sendto(h + b, src)
        note("challenge")
        continue
    if kn is None or fl != 1 or hid != sid:
        note("dropped type %d" % typ)
        continue
    nonce = bytes([1, typ, 0, 0]) + struct.pack("!Q", rseq)
    try:
        plain = kn.decrypt(nonce, body, hdr)
    except Exception:
        note("bad tag")
        continue
    obs = b"\x04" + struct.pack("!H", src[1]) + socket.inet_aton(src[0])
    if typ == 3:
        local = [v for t, v in tlvs(plain) if t == 9]
        note("registration from %s:%d locals %s" % (src[0], src[1],
            " ".join(v.hex() for v in local)))
        nat = b"\x01" if obs in local else b"\x02"
        b = tlv(0x0a, obs) + tlv(0x1f, nat)
        b += tlv(8, struct.pack("!I", 30)) + tlv(0x2e, struct.pack("!I", 1))
        b += tlv(0x10, b"alice.dc1.ntm.test")
        rtype = 4
    elif typ == 5:
        b, rtype = tlv(0x0a, obs), 6
        note("keepalive")
    else:
        continue
    seq += 1
    h = struct.pack(HDR, 1, rtype, 1, 1, len(b) + 16, 0, txid, seq, sid)
    n = bytes([1, rtype, 0, 0]) + struct.pack("!Q", seq)
    s.sendto(h + kd.encrypt(n, b, h), src)
EOF

sock="$dir/run/ntmd.sock"
cat >"$dir/ntmd.conf" <<EOF
[node]
state_dir = $dir/state
user = nobody
fqdn = alice.dc1.ntm.test
vip4 = 198.18.1.10
vip6 = fd6e:746d:6f62:1::a

[dc]
address = 192.0.2.1

[control]
socket = $sock
zones = dc1.ntm.test, dc2.ntm.test
EOF

# -n: a good file, then a broken one with every error on its own line.
txt=$("$ntmd" -n -f "$dir/ntmd.conf" 2>&1); rc=$?
check "-n accepts a good file" test "$rc" = 0 -a "$txt" = "configuration OK"

cat >"$dir/bad.conf" <<EOF
[node]
fqdn = alice.dc1.ntm.test
vip4 = fd6e::1
[tunnel]
mtu = 99
kex_allowed = ecdhe, foo
EOF
txt=$("$ntmd" -n -f "$dir/bad.conf" 2>&1); rc=$?
check "-n on a broken file exits 1" test "$rc" = 1
check "-n names file:line of the bad mtu" \
	grep -qx "$dir/bad.conf:5: \[tunnel\] mtu: .*" <<EOF
$txt
EOF
check "-n names file:line of the bad vip4" \
	grep -qx "$dir/bad.conf:3: \[node\] vip4: not an IPv4 address" <<EOF
$txt
EOF
check "-n names file:line of an unknown scheme in kex_allowed" \
	grep -qx "$dir/bad.conf:6: \[tunnel\] kex_allowed: 'ecdhe, foo' is not a list of ecdhe, rsa and shared, each named once" <<EOF
$txt
EOF

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" "$ntmd" -d -f "$dir/ntmd.conf" 2>"$dir/log" &
pid=$!

# Wait for the control socket (start-up is done when it exists).
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
check "ntmd creates its control socket" test -S "$sock"

addrs=$(ip -n "$ns" addr show dev ntm0 2>&1)
check "ntm0 carries the virtual IPv4" \
	grep -q "inet 198.18.1.10/32 " <<EOF
$addrs
EOF
check "ntm0 carries the virtual IPv6" \
	grep -q "inet6 fd6e:746d:6f62:1::a/128 " <<EOF
$addrs
EOF
check "ntm0 is up" grep -q "state UNKNOWN\|,UP" <<EOF
$addrs
EOF
r4=$(ip -n "$ns" route show 198.18.0.0/15)
check "IPv4 range routed into ntm0 from the virtual IP" \
	grep -q "dev ntm0 .*src 198.18.1.10" <<EOF
$r4
EOF
r6=$(ip -n "$ns" -6 route show fd6e:746d:6f62::/48)
check "IPv6 range routed into ntm0" grep -q "dev ntm0" <<EOF
$r6
EOF

st=$(grep -E '^(Uid|CapEff):' /proc/$pid/status)
nobody=$(id -u nobody)
check "ntmd runs as nobody" grep -q "^Uid:[[:space:]]*$nobody[[:space:]]" <<EOF
$st
EOF
check "ntmd keeps CAP_NET_ADMIN only" \
	grep -q "^CapEff:[[:space:]]*0000000000001000$" <<EOF
$st
EOF

txt=$("$ntmctl" status -s "$sock" 2>&1); rc=$?
check "ntmctl status exits 0" test "$rc" = 0
check "ntmctl status shows the node" grep -q "^fqdn  *alice.dc1.ntm.test$" <<EOF
$txt
EOF
check "ntmctl status says there is no ticket" \
	grep -q "^registration  *no-ticket$" <<EOF
$txt
EOF
json=$("$ntmctl" status --json -s "$sock" 2>&1)
check "ntmctl status --json is JSON with the node's addresses" \
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["fqdn"] == "alice.dc1.ntm.test", d
assert d["vip4"] == "198.18.1.10" and d["vip6"] == "fd6e:746d:6f62:1::a", d
assert d["device"] == "ntm0" and d["registration"] == "no-ticket", d
assert isinstance(d["registrations"], int), d
' "$json"

txt=$("$ntmctl" resolve -s "$sock" Alice.DC1.ntm.test. 2>&1); rc=$?
check "resolve of its own name answers its virtual IPs" \
	test "$rc" = 0 -a \
	"$txt" = "alice.dc1.ntm.test 198.18.1.10 fd6e:746d:6f62:1::a"
txt=$("$ntmctl" resolve -s "$sock" www.example.com 2>&1); rc=$?
check "resolve of a foreign name: UNAVAIL not-in-zone, exit 1" \
	test "$rc" = 1 -a "$txt" = "ntmctl: UNAVAIL not-in-zone"
txt=$("$ntmctl" resolve -s "$sock" bob.dc2.ntm.test 2>&1); rc=$?
check "resolve of a peer without registration: UNAVAIL not-registered" \
	test "$rc" = 1 -a "$txt" = "ntmctl: UNAVAIL not-registered"
txt=$("$ntmctl" tunnels --json -s "$sock" 2>&1)
check "ntmctl tunnels --json: an empty list" test "$txt" = "[]"

kill -TERM "$pid"
wait "$pid"; rc=$?
pid=
check "ntmd stops on SIGTERM with status 0" test "$rc" = 0
check "ntm0 is gone with ntmd" sh -c "! ip -n $ns link show ntm0 2>/dev/null"
if ! [ "$TAP_FAILED" = 0 ]; then
	sed 's/^/# ntmd: /' "$dir/log"
fi

# Second run: a stored ticket and a DC to register with.
if python3 -c 'import cryptography.hazmat.primitives.ciphers.aead' \
	2>/dev/null; then
	ip -n "$ns" link add dc0 type veth peer name dc1
	ip -n "$ns" addr add 192.0.2.1/24 dev dc0
	ip -n "$ns" link set dc0 up
	ip -n "$ns" link set dc1 up
	knd=$(printf '%064x' 7)
	tkt=01000000070102030405060708090a0b0c$(printf 'ab%.0s' $(seq 40))
	python3 -c '
import sys, struct
open(sys.argv[1] + "/ticket", "wb").write(bytes.fromhex(sys.argv[2]))
open(sys.argv[1] + "/ticket.key", "wb").write(bytes.fromhex(sys.argv[3])
    + struct.pack("!Q", 4102444800))
' "$dir/state" "$tkt" "$knd"
	chmod 600 "$dir/state/ticket" "$dir/state/ticket.key"
	ip netns exec "$ns" python3 "$dir/dc.py" "$knd" "$tkt" \
		"$dir/dc.log" &
	dcpid=$!
	wait_for 5 grep -q listening "$dir/dc.log"
	ip netns exec "$ns" "$ntmd" -d -f "$dir/ntmd.conf" 2>"$dir/log2" &
	pid=$!
	registered() {
		"$ntmctl" status -s "$sock" 2>/dev/null |
		    grep -q "^registration  *registered$"
	}
	check "ntmd registers with the DC using the stored ticket" \
		wait_for 10 registered
	txt=$("$ntmctl" status --json -s "$sock" 2>&1)
	check "status shows the observed address, port and NAT state" \
		python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["observed"] == "192.0.2.1" and d["observed-port"] == 4620, d
assert d["nat"] == "none" and d["keepalive-s"] == 1, d
assert d["registrations"] == 1, d
' "$txt"
	# LOCAL_ADDR 192.0.2.1 port 4620: family 4, port 0x120c, address.
	check "REGISTRATION listed the node's address with its tunnel port" \
		grep -q "locals .*04120cc0000201" "$dir/dc.log"
	keepalive_acked() {
		"$ntmctl" status --json -s "$sock" 2>/dev/null |
		    python3 -c 'import json,sys; sys.exit(
		        json.load(sys.stdin)["keepalives"] < 2)'
	}
	check "keep-alives every granted second, answered by the DC" \
		wait_for 5 keepalive_acked
	# Mobility: a new address on the node; it registers again with it.
	ip -n "$ns" addr add 192.0.2.77/24 dev dc0
	reregistered() {
		grep -q "locals .*04120cc000024d" "$dir/dc.log"
	}
	check "a new local address makes ntmd register again, listing it" \
		wait_for 10 reregistered
	txt=$("$ntmctl" resolve -s "$sock" bob.dc2.ntm.test 2>&1)
	check_eq "registered from a bare ticket, not enrolled: a peer is UNAVAIL" \
		"ntmctl: UNAVAIL not-enrolled" "$txt"
	end_run "$dir/log2" dc "$dir/dc.log"
else
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - registration with a DC # SKIP no python3-cryptography"
fi

# Third run: not enrolled at all.  ntmd makes its key and CSR, enrolls
# with an AS written here in Python (TLS 1.3, ALPN ntmobile/1, a real
# ntm-as certificate from ntmctl ca; it issues through ntmctl ca issue),
# takes its virtual IP from the certificate and registers with the DC.
if python3 -c 'import cryptography.hazmat.primitives.ciphers.aead' \
	2>/dev/null && command -v openssl >/dev/null; then
	(cd "$dir" && asdc_ca_init &&
	asdc_issue as1 --role as --name as.ntm.test) >"$dir/ca.log" 2>&1
	cp "$dir/ca/root.pem" "$dir/root.pem"
	cat >"$dir/as.py" <<'EOF'
import socket, ssl, struct, subprocess, sys
d = sys.argv[1]
knd, ticket = bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
HDR = "!BBBBHHIQ16s"

def tlv(t, v):
    return struct.pack("!HH", t, len(v)) + v

def note(line):
    with open(d + "/as.log", "a") as f:
        f.write(line + "\n")

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.set_alpn_protocols(["ntmobile/1"])
ctx.load_cert_chain(d + "/as1.chain", d + "/as1.key")
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("192.0.2.1", 4612))
ls.listen(4)
note("listening")
while True:
    c, _ = ls.accept()
    try:
        t = ctx.wrap_socket(c, server_side=True)
        hdr = b""
        while len(hdr) < 36:
            hdr += t.recv(36 - len(hdr))
        v, typ, st, fl, ln, _, txid, seq, hid = struct.unpack(HDR, hdr)
        body = b""
        while len(body) < ln:
            body += t.recv(ln - len(body))
    except Exception as e:
        note("error " + repr(e))
        continue
    a, i = {}, 0
    while i < len(body):
        at, n = struct.unpack_from("!HH", body, i)
        a[at] = body[i + 4:i + 4 + n]
        i += 4 + n
    note("request type %d account %s password %s" % (typ,
        a.get(0x28, b"").decode(), a.get(0x29, b"").decode()))
    open(d + "/node.csr", "wb").write(a[0x2a])
    r = subprocess.run(["%s/tools/ntmctl" % sys.argv[4], "ca", "issue",
        "--dir", d + "/ca", "--role", "node", "--fqdn",
        "alice.dc1.ntm.test", "--vip4", "198.18.1.10", "--lifetime",
        "165", "--csr",
        d + "/node.csr", "--out", d + "/issued"], capture_output=True)
    note("issue: " + r.stdout.decode().strip() + r.stderr.decode().strip())
    crt = ssl.PEM_cert_to_DER_cert(open(d + "/issued.pem").read())
    ca = ssl.PEM_cert_to_DER_cert(open(d + "/ca/as.pem").read())
    dc = b"\x04" + struct.pack("!H", 4610) + socket.inet_aton("192.0.2.1")
    b = tlv(0x15, crt) + tlv(0x15, ca) + tlv(0x17, b"OCSP")
    b += tlv(3, ticket) + tlv(4, b"\x1d" * 16) + tlv(5, knd)
    b += tlv(7, struct.pack("!Q", 4102444800)) + tlv(0x0d, dc)
    b += tlv(0x10, b"alice.dc1.ntm.test") + tlv(0x2f, b"dc1.ntm.test")
    b += tlv(0x0e, socket.inet_aton("198.18.1.10"))
    t.sendall(struct.pack(HDR, 1, 0x63, 1, 0, len(b), 0, txid, 0,
        b"\0" * 16) + b)
    note("answered")
EOF
	state3="$dir/state3"
	printf 'hunter2\n' >"$dir/password"
	chmod 600 "$dir/password"
	chown nobody "$dir/password"
	cat >"$dir/ntmd3.conf" <<EOF
[node]
state_dir = $state3
user = nobody
fqdn = alice.dc1.ntm.test
ca_file = $dir/root.pem

[as]
address = 192.0.2.1
account = alice
password_file = $dir/password

[control]
socket = $sock

[log]
level = debug
EOF
	ip netns exec "$ns" python3 "$dir/dc.py" "$knd" "$tkt" \
		"$dir/dc3.log" &
	dcpid=$!
	ip netns exec "$ns" python3 "$dir/as.py" "$dir" "$knd" "$tkt" \
		"$top_builddir" 2>"$dir/as.err" &
	aspid=$!
	wait_for 5 grep -q listening "$dir/dc3.log"
	wait_for 5 grep -q listening "$dir/as.log"
	ip netns exec "$ns" "$ntmd" -d -f "$dir/ntmd3.conf" 2>"$dir/log3" &
	pid=$!
	check "a new node enrolls with the AS and registers with its DC" \
		wait_for 15 registered
	check "the AS got ENROLL_REQUEST with the account and password" \
		grep -q "request type 96 account alice password hunter2" \
		"$dir/as.log"
	check "the AS issued from ntmd's CSR" grep -q \
		"issued ntm-node certificate for alice.dc1.ntm.test" \
		"$dir/as.log"
	check "ntmd kept its key 0600" test "$(stat -c %a \
		"$state3/key.pem" 2>&1)" = 600
	check "ntmd saved the certificate the AS issued" \
		cmp -s "$state3/cert.pem" "$dir/issued.pem" -n \
		"$(stat -c %s "$dir/issued.pem")"
	txt=$(ip -n "$ns" addr show dev ntm0)
	check "the virtual IP from the certificate is on ntm0" \
		grep -q "inet 198.18.1.10/32 " <<EOF
$txt
EOF
	# 165 s issued 5 min back-dated: renewal due 10 s after issue.
	check "ntmd renews at two thirds of the lifetime with RENEW_REQUEST" \
		wait_for 25 grep -q "request type 98 " "$dir/as.log"
	issued_twice() {
		test "$(grep -c "issued ntm-node certificate" \
		    "$dir/as.log")" -ge 2
	}
	check "the AS issued a second certificate for the renewal" \
		wait_for 10 issued_twice
	check "the renewed certificate replaces the old one" \
		wait_for 5 cmp -s "$state3/cert.pem" "$dir/issued.pem" -n \
		"$(stat -c %s "$dir/issued.pem")"
	check "still registered after the renewal" registered
	end_run "$dir/log3" as "$dir/as.log" "$dir/as.err" "$dir/ca.log"
else
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - enrollment with an AS # SKIP no python3-cryptography"
fi

# Fourth run: the real ntm-dc.  A ticket sealed here under the DC's ticket
# key (PROTOCOL.md 13; key id = first 4 bytes of its SHA-256, as ntm-dc
# reads ticket_key_file), and ntmd registers with ntm-dc, which then
# answers alice's A record.
if python3 -c 'import cryptography.hazmat.primitives.ciphers.aead' \
	2>/dev/null && [ -x "$top_builddir/dc/ntm-dc" ]; then
	state4="$dir/state4"
	mkdir -p "$state4"
	dkey=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
	printf '%s\n' "$dkey" >"$dir/dc-ticket.key"
	chmod 600 "$dir/dc-ticket.key"
	python3 -c '
import hashlib, os, struct, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
key, out = bytes.fromhex(sys.argv[1]), sys.argv[2]
knd = os.urandom(32)
def tlv(t, v):
    return struct.pack("!HH", t, len(v)) + v
body = tlv(4, os.urandom(16)) + tlv(5, knd) + tlv(0x10, b"alice.dc1.ntm.test")
body += tlv(0x0e, bytes([198, 18, 1, 10]))
body += tlv(7, struct.pack("!Q", 4102444800))
kid = hashlib.sha256(key).digest()[:4]
nonce = os.urandom(12)
aad = b"\x01" + kid + nonce
open(out + "/ticket", "wb").write(aad + AESGCM(key).encrypt(nonce, body, aad))
open(out + "/ticket.key", "wb").write(knd + struct.pack("!Q", 4102444800))
' "$dkey" "$state4"
	chmod 600 "$state4/ticket" "$state4/ticket.key"
	(cd "$dir" && asdc_zone 198.18.1.1 && asdc_dc_dns 192.0.2.1:53 &&
	asdc_dc_signal 192.0.2.1:4610 "ticket_key_file = $dir/dc-ticket.key")
	cat >"$dir/ntmd4.conf" <<EOF
[node]
state_dir = $state4
user = nobody
fqdn = alice.dc1.ntm.test
vip4 = 198.18.1.10

[dc]
address = 192.0.2.1

[control]
socket = $sock
EOF
	ip netns exec "$ns" "$top_builddir/dc/ntm-dc" -d -f \
		"$dir/dc.conf" >"$dir/dc4.log" 2>&1 &
	dcpid=$!
	wait_for 10 grep -q "signalling on 192.0.2.1:4610" "$dir/dc4.log"
	ip netns exec "$ns" "$ntmd" -d -f "$dir/ntmd4.conf" 2>"$dir/log4" &
	pid=$!
	check "ntmd registers with ntm-dc" wait_for 10 registered
	txt=$("$ntmctl" status --json -s "$sock" 2>&1)
	check "ntm-dc saw the node's tunnel port from its own address" \
		python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["observed-port"] == 4620 and d["nat"] == "none", d
' "$txt"
	if command -v dig >/dev/null; then
		txt=$(ip netns exec "$ns" dig +short +time=2 +tries=1 \
			@192.0.2.1 alice.dc1.ntm.test A 2>&1)
		check_eq "ntm-dc's DNS answers the registered node's A" \
			198.18.1.10 "$txt"
	fi
	end_run "$dir/log4" ntm-dc "$dir/dc4.log"
else
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - registration with ntm-dc # SKIP not built"
fi
tap_done
