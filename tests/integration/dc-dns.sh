#!/bin/sh
# dc-dns.sh -- ntm-dc's authoritative DNS seen by dig and kdig over UDP and
# TCP on loopback (no root, no namespace).
#
#   dig / kdig  --UDP+TCP-->  127.0.0.1:$PORT, [::1]:$PORT   ntm-dc -d
#   (127.0.0.1 in the xfr ACL,                                 zone  $T/dc1.zone
#    127.0.0.2 outside it)                                     db    $T/dc.db (sqlite3 adds nodes)
#   python3: pipelined TCP, idle TCP, a burst of UDP queries sent before
#   any answer is read (batched reads), a UDP flood for RRL
#
# The daemon's log is polled for what the clients cannot see (stats at exit).
set -u
. "$top_srcdir/tests/tap.sh"
tap_need_cmd dig kdig sqlite3 python3

DC=$top_builddir/dc/ntm-dc
[ -x "$DC" ] || tap_skip_all "build dc/ntm-dc first"
T=$(mktemp -d /tmp/ntm-dc-dns-$$.XXXXXX)
PID=""

cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]
    try:
        t = socket.socket(); t.bind(("127.0.0.1", p)); t.close()
        u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u6.bind(("::1", p)); u6.close()
        t6 = socket.socket(socket.AF_INET6); t6.bind(("::1", p)); t6.close()
        print(p); break
    except OSError:
        pass
    finally:
        u.close()')
KEY=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=

cat > "$T/dc1.zone" <<EOF
\$ORIGIN dc1.ntm.test.
\$TTL 3600
@	IN SOA ns1 hostmaster 2026010100 7200 900 1209600 300
	IN NS ns1
ns1	IN A 198.18.1.1
ns1	IN AAAA fd6e:746d:6f62:1::1
www	IN CNAME ns1
EOF
i=0
while [ $i -lt 40 ]; do
	echo "big IN TXT \"record $i of a large RRset that does not fit in one UDP answer\"" >> "$T/dc1.zone"
	i=$((i + 1))
done
cat > "$T/dc.conf" <<EOF
[dns]
zone = dc1.ntm.test
zone_file = $T/dc1.zone
listen = 127.0.0.1:$PORT, [::1]:$PORT
prefix4 = 198.18.1.0/24
prefix6 = fd6e:746d:6f62:1::/64
tcp_idle_timeout = 1s

[database]
path = $T/dc.db

[xfr]
allow = 127.0.0.1
key_name = xfr-key
key_algorithm = hmac-sha256
key_secret_file = $T/xfr.key

[rrl]
rate = 50
burst = 50
slip = 2
# per source address here, so that 127.0.0.2 is "another source"
ipv4_prefix = 32
EOF
echo "$KEY" > "$T/xfr.key"
chmod 600 "$T/xfr.key"

# ---- configuration check ---------------------------------------------------
check_eq "ntm-dc -n prints configuration OK" "configuration OK" \
    "$("$DC" -n -f "$T/dc.conf" 2>&1)"
check "ntm-dc -n does not create the database" test ! -e "$T/dc.db"
sed -e 's/^prefix4 = .*/prefix4 = 198.18.0.0\/23/' -e 's/^rate = .*/rate = lots/' \
    "$T/dc.conf" > "$T/bad.conf"
out=$("$DC" -n -f "$T/bad.conf" 2>&1)
rc=$?
check_eq "a bad configuration exits 1" 1 "$rc"
lr=$(grep -n '^rate' "$T/bad.conf" | cut -d: -f1)
case $out in
*"$T/bad.conf:$lr: [rrl] rate: 'lots' is not an integer"*)
	ok "a bad value is reported as file:line: [section] key: reason" ;;
*)	not_ok "a bad value is reported as file:line: [section] key: reason" "$out" ;;
esac
case $out in
*"$T/bad.conf: [dns] prefix4: the length must be a multiple of 8"*)
	ok "and, in the same run, a prefix that is not one reverse zone" ;;
*)	not_ok "and, in the same run, a prefix that is not one reverse zone" "$out" ;;
esac
chmod 644 "$T/xfr.key"
case $("$DC" -n -f "$T/dc.conf" 2>&1) in
*"[xfr] key_secret_file: $T/xfr.key: group or others may access it"*)
	ok "a TSIG secret file readable by others is refused" ;;
*)	not_ok "a TSIG secret file readable by others is refused" ;;
esac
chmod 600 "$T/xfr.key"

# ---- start -----------------------------------------------------------------
"$DC" -d -f "$T/dc.conf" > "$T/log" 2>&1 &
PID=$!
D="dig -p $PORT +time=2 +tries=1"
soa_up() { $D @127.0.0.1 dc1.ntm.test SOA +short | grep -q hostmaster; }
if wait_for 10 soa_up; then ok "ntm-dc answers on 127.0.0.1:$PORT"
else not_ok "ntm-dc answers on 127.0.0.1:$PORT" "$(cat "$T/log")"; tap_done; exit 1; fi
serial() { $D @127.0.0.1 dc1.ntm.test SOA +short | awk '{print $3}'; }
S0=$(serial)

# A node written to the database appears after SIGHUP, with a higher serial.
sqlite3 "$T/dc.db" "INSERT INTO nodes VALUES ('alice.dc1.ntm.test', '198.18.1.10', 'fd6e:746d:6f62:1::10', 0)"
kill -HUP "$PID"
alice_up() { [ "$($D @127.0.0.1 alice.dc1.ntm.test A +short)" = 198.18.1.10 ]; }
check "after SIGHUP a node from the database answers A" wait_for 5 alice_up
S1=$(serial)
check "and the serial went up ($S0 -> $S1)" test "$S1" -gt "$S0"

# ---- answers ---------------------------------------------------------------
out=$($D @127.0.0.1 alice.dc1.ntm.test A +norec)
case $out in *"flags: qr aa;"*) ok "A answer is authoritative, RD clear, no RA" ;;
*) not_ok "A answer is authoritative, RD clear, no RA" "$out" ;; esac
out=$($D @127.0.0.1 alice.dc1.ntm.test A +rec)
case $out in *"flags: qr aa rd;"*) ok "RD is copied, RA stays clear" ;;
*) not_ok "RD is copied, RA stays clear" "$out" ;; esac
check_eq "node A has the short TTL" "60" \
    "$($D @127.0.0.1 alice.dc1.ntm.test A +noall +answer | awk '{print $2}')"
check_eq "AAAA over IPv6 UDP" "fd6e:746d:6f62:1::10" \
    "$($D @::1 alice.dc1.ntm.test AAAA +short)"
check_eq "AAAA over IPv6 TCP" "fd6e:746d:6f62:1::10" \
    "$($D @::1 alice.dc1.ntm.test AAAA +short +tcp)"
check_eq "A over IPv4 TCP" "198.18.1.10" \
    "$($D @127.0.0.1 alice.dc1.ntm.test A +short +tcp)"
check_eq "PTR for the IPv4 virtual IP" "alice.dc1.ntm.test." \
    "$($D @127.0.0.1 -x 198.18.1.10 +short)"
check_eq "PTR for the IPv6 virtual IP" "alice.dc1.ntm.test." \
    "$($D @::1 -x fd6e:746d:6f62:1::10 +short)"
check_eq "names are case-insensitive and the answer echoes the query's case" \
    "AlIcE.dC1.NTM.test. 198.18.1.10" \
    "$($D @127.0.0.1 AlIcE.dC1.NTM.test A +noall +answer | awk '{print $1, $5}')"

out=$($D @127.0.0.1 nobody.dc1.ntm.test A)
case $out in *"status: NXDOMAIN"*"AUTHORITY: 1"*"dc1.ntm.test."*"300"*"IN"*"SOA"*)
	ok "NXDOMAIN carries the SOA in the authority section" ;;
*)	not_ok "NXDOMAIN carries the SOA in the authority section" "$out" ;; esac
out=$($D @127.0.0.1 alice.dc1.ntm.test MX)
case $out in *"status: NOERROR"*"ANSWER: 0, AUTHORITY: 1"*"SOA"*)
	ok "NODATA is NOERROR with no answer and the SOA" ;;
*)	not_ok "NODATA is NOERROR with no answer and the SOA" "$out" ;; esac
out=$($D @127.0.0.1 www.example.com A)
case $out in *"status: REFUSED"*) ok "a name outside our zones is REFUSED" ;;
*) not_ok "a name outside our zones is REFUSED" "$out" ;; esac
out=$(kdig -p $PORT @127.0.0.1 dc1.ntm.test ANY)
n=$(echo "$out" | awk '/ANSWER SECTION/{a=1;next} a&&/^$/{a=0} a&&NF{print $4}' | sort -u | wc -l)
check_eq "ANY gets a single RRset (RFC 8482)" 1 "$n"
out=$($D @127.0.0.1 +opcode=2 dc1.ntm.test)
case $out in *"status: NOTIMP"*) ok "opcode STATUS is NOTIMP" ;;
*) not_ok "opcode STATUS is NOTIMP" "$out" ;; esac

# ---- a burst over UDP: every query answered once, with its own id -----------
# 100 queries over IPv4 (20 from each of 127.0.0.11-15, under the RRL burst
# of one /32) and 40 over IPv6, all sent before any answer is read, so the
# DC reads them in batches; A, AAAA and NXDOMAIN in turn.
cat > "$T/burst.py" <<'EOF'
import select, socket, struct, sys, time
port = int(sys.argv[1])
A = socket.inet_pton(socket.AF_INET, "198.18.1.10")
AAAA = socket.inet_pton(socket.AF_INET6, "fd6e:746d:6f62:1::10")
def q(i, name, t):
    w = struct.pack(">HHHHHH", i, 0, 1, 0, 0, 0)
    for l in name.split("."):
        w += bytes([len(l)]) + l.encode()
    return w + b"\0" + struct.pack(">HH", t, 1)
socks = []
for k in range(5):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.%d" % (11 + k), 0))
    socks.append((s, ("127.0.0.1", port), 20))
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::1", 0))
socks.append((s, ("::1", port), 40))
expect, i = {}, 0
for s, dst, n in socks:
    for _ in range(n):
        i += 1
        kind = i % 3
        s.sendto(q(i, "nobody.dc1.ntm.test" if kind == 2 else
                   "alice.dc1.ntm.test", 28 if kind == 1 else 1), dst)
        expect[i] = (kind, dst[0])
right, wrong, end = set(), [], time.time() + 5
while len(right) + len(wrong) < len(expect) and time.time() < end:
    r, _, _ = select.select([s for s, _, _ in socks], [], [], 0.2)
    for s in r:
        m, frm = s.recvfrom(2048)
        i, flags, qd, an = struct.unpack(">HHHH", m[:8])
        kind, dst = expect.get(i, (None, None))
        rcode = flags & 15
        ok = (i not in right and frm[0] == dst and
              (kind == 2 and rcode == 3 and an == 0 or
               kind == 0 and rcode == 0 and an == 1 and m[-4:] == A or
               kind == 1 and rcode == 0 and an == 1 and m[-16:] == AAAA))
        if ok:
            right.add(i)
        else:
            wrong.append(i)
print(len(expect), len(right), len(wrong))
EOF
check_eq "140 UDP queries sent at once (v4 and v6): each answered right, once, with its id" \
    "140 140 0" "$(python3 "$T/burst.py" $PORT 2>&1)"

# ---- EDNS and truncation -----------------------------------------------------
out=$($D @127.0.0.1 alice.dc1.ntm.test A +bufsize=4096)
case $out in *"EDNS: version: 0, flags:; udp: 1232"*) ok "OPT is echoed with our payload size 1232" ;;
*) not_ok "OPT is echoed with our payload size 1232" "$out" ;; esac
out=$(kdig -p $PORT @127.0.0.1 alice.dc1.ntm.test A +edns=1 +noall +header 2>&1)
case $out in *"BADVERS"*) ok "EDNS version 1 is answered BADVERS" ;;
*) not_ok "EDNS version 1 is answered BADVERS" "$out" ;; esac
out=$($D @127.0.0.1 big.dc1.ntm.test TXT +bufsize=4096 +ignore)
size=$(echo "$out" | sed -n 's/.*MSG SIZE  rcvd: //p')
case $out in *"flags: qr aa tc"*"ANSWER: 0"*) ok "a large TXT RRset over UDP sets TC" ;;
*) not_ok "a large TXT RRset over UDP sets TC" "$out" ;; esac
check "and the UDP answer stays within 1232 bytes ($size)" test "$size" -le 1232
out=$($D @127.0.0.1 big.dc1.ntm.test TXT +noedns +ignore)
case $out in *"flags: qr aa tc"*) ok "without EDNS the limit is 512 bytes (TC)" ;;
*) not_ok "without EDNS the limit is 512 bytes (TC)" "$out" ;; esac
check_eq "over TCP the whole TXT RRset comes" 40 \
    "$($D @127.0.0.1 big.dc1.ntm.test TXT +tcp +short | wc -l)"
check_eq "dig falls back from TC to TCP by itself" 40 \
    "$($D @::1 big.dc1.ntm.test TXT +short | wc -l)"

# ---- TCP: several queries on one connection, pipelined; idle timeout ---------
out=$(kdig -p $PORT @127.0.0.1 +tcp +keepopen +short alice.dc1.ntm.test A \
    alice.dc1.ntm.test AAAA 2>&1)
check_eq "kdig +keepopen: two queries on one TCP connection" \
    "198.18.1.10
fd6e:746d:6f62:1::10" "$out"
cat > "$T/tcp.py" <<'EOF'
import socket, struct, sys, time
port = int(sys.argv[1])
def q(i, name, t):
    w = struct.pack(">HHHHHH", i, 0, 1, 0, 0, 0)
    for l in name.split("."):
        w += bytes([len(l)]) + l.encode()
    w += b"\0" + struct.pack(">HH", t, 1)
    return struct.pack(">H", len(w)) + w
def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b
if sys.argv[2] == "udpaxfr":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(q(9, "dc1.ntm.test", 252)[2:], ("127.0.0.1", port))
    m = s.recv(2048)
    print("rcode", struct.unpack(">H", m[2:4])[0] & 15)
elif sys.argv[2] == "pipeline":
    s = socket.create_connection(("127.0.0.1", port))
    # three queries in one write, before reading any answer
    s.sendall(q(1, "alice.dc1.ntm.test", 1) + q(2, "alice.dc1.ntm.test", 28) +
              q(3, "nobody.dc1.ntm.test", 1))
    out = []
    for _ in range(3):
        n = struct.unpack(">H", recv_exact(s, 2))[0]
        m = recv_exact(s, n)
        i, flags, qd, an = struct.unpack(">HHHH", m[:8])
        out.append("%d:%d:%d" % (i, flags & 15, an))
    print(" ".join(out))
else:
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.time()
    s.settimeout(10)
    try:
        d = s.recv(1)
    except OSError:
        d = b"x"
    print("closed" if d == b"" else "open", "%.1f" % (time.time() - t0))
EOF
check_eq "three pipelined TCP queries are answered in order" "1:0:1 2:0:1 3:3:0" \
    "$(python3 "$T/tcp.py" $PORT pipeline 2>&1)"
out=$(python3 "$T/tcp.py" $PORT idle 2>&1)
case $out in "closed 1."*|"closed 2."*) ok "an idle TCP connection is closed after tcp_idle_timeout ($out)" ;;
*) not_ok "an idle TCP connection is closed after tcp_idle_timeout" "$out" ;; esac

# ---- zone transfers ------------------------------------------------------------
out=$($D @127.0.0.1 dc1.ntm.test AXFR -y hmac-sha256:xfr-key:$KEY)
first=$(echo "$out" | grep -v '^;' | grep -v '^$' | grep -v TSIG | head -1 | awk '{print $4}')
last=$(echo "$out" | grep -v '^;' | grep -v '^$' | grep -v TSIG | tail -1 | awk '{print $4}')
case "$first $last $out" in "SOA SOA "*"alice.dc1.ntm.test."*"198.18.1.10"*)
	ok "AXFR with the TSIG key: SOA first and last, node and static records" ;;
*)	not_ok "AXFR with the TSIG key: SOA first and last, node and static records" "$out" ;; esac
out=$(kdig -p $PORT @127.0.0.1 1.18.198.in-addr.arpa AXFR -y hmac-sha256:xfr-key:$KEY 2>&1)
case $out in *"10.1.18.198.in-addr.arpa."*"PTR"*"alice.dc1.ntm.test."*)
	ok "kdig AXFR of the reverse zone with TSIG carries the node's PTR" ;;
*)	not_ok "kdig AXFR of the reverse zone with TSIG carries the node's PTR" "$out" ;; esac
out=$($D @127.0.0.1 dc1.ntm.test AXFR)
case $out in *"Transfer failed"*) ok "AXFR without the TSIG key fails" ;;
*) not_ok "AXFR without the TSIG key fails" "$out" ;; esac
out=$($D @127.0.0.1 dc1.ntm.test AXFR -y hmac-sha256:xfr-key:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTM=)
case $out in *"TSIG"*"BADSIG"*"Transfer failed"*) ok "AXFR with a wrong TSIG secret fails with TSIG error BADSIG" ;;
*) not_ok "AXFR with a wrong TSIG secret fails with TSIG error BADSIG" "$out" ;; esac
out=$($D @127.0.0.1 dc1.ntm.test SOA -y hmac-sha256:other-key:$KEY)
case $out in *"status: NOTAUTH"*"other-key."*"BADKEY"*) ok "a query signed with an unknown key gets NOTAUTH, TSIG error BADKEY" ;;
*) not_ok "a query signed with an unknown key gets NOTAUTH, TSIG error BADKEY" "$out" ;; esac
out=$($D -b 127.0.0.2 @127.0.0.1 dc1.ntm.test AXFR -y hmac-sha256:xfr-key:$KEY)
case $out in *"Transfer failed"*) ok "AXFR with the key from 127.0.0.2 (outside the ACL) fails" ;;
*) not_ok "AXFR with the key from 127.0.0.2 (outside the ACL) fails" "$out" ;; esac
check "the log names the refused client" grep -q "from 127.0.0.2: refused by the ACL" "$T/log"
check_eq "AXFR over UDP is answered FORMERR" "rcode 1" \
    "$(python3 "$T/tcp.py" $PORT udpaxfr 2>&1)"
S=$(serial)
n=$($D @127.0.0.1 dc1.ntm.test IXFR=$((S - 1)) -y hmac-sha256:xfr-key:$KEY | grep -c 'IN	SOA')
check_eq "IXFR from an older serial is answered with a full transfer (2 SOA)" 2 "$n"
n=$($D @127.0.0.1 dc1.ntm.test IXFR=$S -y hmac-sha256:xfr-key:$KEY | grep -c 'IN	SOA')
check_eq "IXFR from the current serial is answered with the SOA alone" 1 "$n"
out=$($D @127.0.0.1 dc1.ntm.test SOA -y hmac-sha256:xfr-key:$KEY)
case $out in *"status: NOERROR"*"TSIG"*"NOERROR"*) ok "a TSIG-signed SOA query gets a signed answer" ;;
*) not_ok "a TSIG-signed SOA query gets a signed answer" "$out" ;; esac

# ---- SIGHUP again: a second node, another serial -----------------------------
sqlite3 "$T/dc.db" "INSERT INTO nodes VALUES ('dave.dc1.ntm.test', '198.18.1.11', 'fd6e:746d:6f62:1::11', 0)"
kill -HUP "$PID"
dave_up() { [ "$($D @::1 dave.dc1.ntm.test AAAA +short)" = fd6e:746d:6f62:1::11 ]; }
check "a second node appears after SIGHUP" wait_for 5 dave_up
S2=$(serial)
check "serial $S1 -> $S2" test "$S2" -gt "$S1"
kill -HUP "$PID"
wait_for 5 grep -q "(unchanged)" "$T/log"
check_eq "a reload without changes keeps the serial" "$S2" "$(serial)"

# ---- response rate limiting ----------------------------------------------------
cat > "$T/flood.py" <<'EOF'
import socket, struct, sys, time
port = int(sys.argv[1])
w = struct.pack(">HHHHHH", 7, 0, 1, 0, 0, 0)
for l in "alice.dc1.ntm.test".split("."):
    w += bytes([len(l)]) + l.encode()
w += b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
for _ in range(500):
    s.sendto(w, ("127.0.0.1", port))
s.settimeout(0.5)
full = tc = 0
try:
    while True:
        m = s.recv(2048)
        if struct.unpack(">H", m[2:4])[0] & 0x200:
            tc += 1
        else:
            full += 1
except socket.timeout:
    pass
print(full, tc)
EOF
read full tc <<EOF
$(python3 "$T/flood.py" $PORT)
EOF
check "a flood of 500 from one source gets at most burst + refill full answers ($full)" \
    test "$full" -ge 40 -a "$full" -le 120
check "and some TC=1 slip answers ($tc)" test "$tc" -gt 0
check_eq "meanwhile another source (127.0.0.2) is answered" "198.18.1.10" \
    "$($D -b 127.0.0.2 @127.0.0.1 alice.dc1.ntm.test A +short)"

# ---- a wildcard listener answers from the address it was asked on --------------
# (IP_PKTINFO / IPV6_PKTINFO: dig drops an answer from another source)
W=$(tap_free_port)
sed -e "s/^listen = .*/listen = 0.0.0.0:$W, [::]:$W/" \
    -e "s|^path = .*|path = $T/wild.db|" "$T/dc.conf" > "$T/wild.conf"
"$DC" -d -f "$T/wild.conf" > "$T/wild.log" 2>&1 &
WPID=$!
wild_up() { dig -p "$W" +time=2 +tries=1 @127.0.0.2 dc1.ntm.test SOA +short |
    grep -q hostmaster; }
check "on 0.0.0.0, a query to 127.0.0.2 is answered from 127.0.0.2" \
    wait_for 10 wild_up
check_eq "on [::], a query to ::1 is answered from ::1" "ns1.dc1.ntm.test." \
    "$(dig -p "$W" +time=2 +tries=1 @::1 www.dc1.ntm.test CNAME +short)"
kill "$WPID"
wait "$WPID"
check_eq "the wildcard ntm-dc stops with status 0" 0 "$?"

# ---- shutdown: statistics in the log -------------------------------------------
kill "$PID"
wait "$PID"
check_eq "SIGTERM stops ntm-dc with status 0" 0 "$?"
PID=""
line=$(grep "dns stats:" "$T/log")
rrl=$(echo "$line" | sed -n 's/.*rrl dropped \([0-9]*\).*/\1/p')
check "the statistics at exit count rate-limited drops ($rrl)" test "${rrl:-0}" -gt 0
case $line in *"xfr refused "[1-9]*) ok "and refused transfers" ;;
*) not_ok "and refused transfers" "$line" ;; esac
check_eq "the serial is kept in the database" "$S2" \
    "$(sqlite3 "$T/dc.db" "SELECT serial FROM zone_serial WHERE zone = 'dc1.ntm.test'")"

tap_done
