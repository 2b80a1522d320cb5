#!/bin/sh
# tls-interop.sh -- lib/tls's client against a TLS 1.3 server that is not
# GnuTLS: Python's ssl module (OpenSSL), which sends NewSessionTicket
# messages after the handshake.  The node's AS client (tests/as/asnode, the
# same lib/tls code ntmd uses) must still get the answer that follows the
# tickets, whether they come alone or in one read with the answer.
# Loopback only; no root needed.
. "$top_srcdir/tests/tap.sh"
tap_need_cmd python3

NTMCTL=$top_builddir/tools/ntmctl
ASNODE=$top_builddir/tests/as/asnode
[ -x "$ASNODE" ] || tap_skip_all "tests/as/asnode not built"
T=$(mktemp -d "${TMPDIR:-/tmp}/ntm-tlsio.XXXXXX")
SRV=
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$T"' EXIT INT TERM

(cd "$T" && "$NTMCTL" ca init --dir ca --domain ntm.test \
	--vrange4 198.18.0.0/15 --vrange6 fd6e:746d:6f62::/48 \
	--permit-ip 127.0.0.0/8 &&
	"$NTMCTL" ca issue --dir ca --role as --name as.ntm.test \
	--ip 127.0.0.1 --out as1) >"$T/ca.log" 2>&1
check_eq "ntmctl ca made the AS certificate" 0 "$?"
cat "$T/as1.pem" "$T/ca/as.pem" >"$T/chain.pem"

# An AS stand-in: one connection per ticket count in argv, answers each
# request with a header carrying status 3 (VERSION) and no attributes, so
# asnode prints "status VERSION" and exits 3.  Mode "split" sends the
# tickets in their own segment before the answer; "joined" lets OpenSSL
# put them in front of the answer in one write.
cat >"$T/srv.py" <<'PY'
import socket, ssl, struct, sys, time
d, port = sys.argv[1], int(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(4)
open(d + "/ready", "w").close()
for spec in sys.argv[3:]:
    tickets, mode = spec.split(":")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(["ntmobile/1"])
    ctx.num_tickets = int(tickets)
    ctx.load_cert_chain(d + "/chain.pem", d + "/as1.key")
    c, _ = ls.accept()
    t = ctx.wrap_socket(c, server_side=True, do_handshake_on_connect=False)
    t.do_handshake()
    if mode == "split":
        time.sleep(0.2)
    hdr = b""
    while len(hdr) < 36:
        hdr += t.recv(36 - len(hdr))
    v, typ, st, fl, ln, _, txid, seq, hid = struct.unpack("!BBBBHHIQ16s", hdr)
    body = b""
    while len(body) < ln:
        body += t.recv(ln - len(body))
    if mode == "split":
        time.sleep(0.2)
    t.sendall(struct.pack("!BBBBHHIQ16s", v, typ, 3, 0, 0, 0, txid, seq, hid))
    time.sleep(0.5)
    t.close()
PY

port=$((20000 + $$ % 20000))
python3 "$T/srv.py" "$T" "$port" 0:joined 2:joined 2:split 8:joined \
	>"$T/srv.log" 2>&1 &
SRV=$!
check "the Python TLS server listens" wait_for 10 test -e "$T/ready"

for spec in 0:joined 2:joined 2:split 8:joined; do
	out=$(timeout 10 "$ASNODE" -a "127.0.0.1:$port" -t "$T/ca/root.pem" \
		enroll acct pw alice.dc1.ntm.test "$T/out" 2>&1)
	rc=$?
	check_eq "answer after ${spec%:*} session tickets (${spec#*:}) delivered" \
		"3 status VERSION" "$rc $(printf '%s\n' "$out" | grep '^status')"
done

tap_done
