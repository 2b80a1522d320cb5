#!/bin/sh
# bench_setup.sh -- tunnel setup time in the lab, from the getaddrinfo() call to its answer with the tunnel up.
#
#   as  dc1  dc2                   -- srv 198.51.100.0/24, 2001:db8:0:100::/64
#          [core]
#   alice ---- core ---- dave      1 DC:  alice -> dave (dc1 -> dc1)
#     \------- core ---- bob       2 DCs: alice -> bob  (dc1 -> dc2)
#
# usage: bench/bench_setup.sh [-b builddir] [-n warm setups] [-c cold setups]
#                             [-k "ecdhe shared"]
#
# A fresh setup needs the old tunnel gone on both sides.  Two ways, two rows
# per path:
#   warm (-n rounds, 200 by default): alice's ntmd runs through the whole
#     pass; before each round `ntmctl close` closes her tunnels to dave and
#     to bob (TUNNEL_CLOSE: both drop their side, checked), so every round
#     is a full setup between two peers that have seen each other before.
#   cold (-c rounds, 20 by default): alice's ntmd is restarted before each
#     round (SIGTERM sends TUNNEL_CLOSE, checked the same way), so she meets
#     dave's and bob's certificates and statuses for the first time.  Her
#     file fixes her virtual IPs (no AS round trip) and she registers with
#     dc1 before the round.
# A round resolves dave and bob, in alternating order, each with one
# getaddrinfo() timed in alice's namespace (python3, time.perf_counter
# around the call; the NSS modules are loaded first by an untimed lookup of
# as.ntm.test, a name outside the DC zones, so the figure is the setup, not
# dlopen), then dave once more with his tunnel up.  The lab runs with NTM_LAB_KEX=ecdhe,shared
# (dave and bob allow both); alice's file names one scheme per pass, which
# is what she asks for.  The rsa pass comes last (-k keeps that order):
# before it dave and bob enroll again with RSA-2048 keys (state emptied,
# [node] key_type = rsa2048, the same FQDNs and virtual IPs) and allow
# ecdhe, shared and rsa; alice keeps her P-256 key (she signs Sig_I with
# it; rsa encapsulates to the responder's RSA key and the responder signs
# Sig_R with it).  dave's and bob's ntmd are restarted (virtual IPs
# fixed too) before each pass: a responder's ntmd took no new Route
# Direction after 256 setups in its lifetime (see doc/BENCH.md), and a pass
# is c + n + 1 setups per responder.
#
# What each row is:
#   warm         both peers warm: alice (the MN) set up tunnels to dave and
#                bob before (an untimed first round), so node/peercheck
#                holds their verified certificate / status pairs and only
#                the signatures over this handshake are checked, on both
#                sides (DESIGN.md 5.1).  What the design promises for a
#                repeated contact.
#   cold         alice cold, the responder warm: alice's ntmd has just
#                started, so dave's or bob's certificate and status are new
#                to her (chain, status and Sig_R verified); dave and bob
#                have seen alice in earlier rounds of the pass (only Sig_I
#                is verified).  Each round also pays what a restart leaves
#                behind (first packets of a new process, a fresh
#                registration).
#   reuse        dave resolved again right after a warm round, his tunnel
#                up: NSS, the control socket and ntmd's answer without a
#                setup, the fixed part of the rows above.
#   parts        the warm rows taken apart with ntmd's own clock (the
#                TUNNEL timing options, doc/CONTROL.md 4, read with
#                `ntmctl tunnels --json` after each round): alice's route
#                (lookup to her Route Direction), request (to her Tunnel
#                Request sent), peer (to the Response) and finish (to the
#                tunnel up); the responder's answer (its part of peer); and
#                what lies outside ntmd (python, glibc, the NSS module and
#                the control socket): the row's p50 minus ntmd's.
#
# Baseline in the same run, the crypto floor: the public-key operations on
# the critical path of those rows, timed one by one with GnuTLS and nettle
# as the project uses them, by a small C program compiled here, before and
# after the setups (the machine is shared; the mean of the two is the
# floor).  Counted from node/tunnel.c and node/peercheck.c:
#   alice, Route Direction:  1 verify (dave's status from the DC, new to her)
#           Tunnel Request:  1 sign (Sig_I)
#   dave, Route Direction:   none (he knows alice's status bytes: checked
#                            once per status since bfb2073, before: 1 verify)
#           Tunnel Request:  1 verify (Sig_I), 1 X25519 shared secret
#                            (ecdhe), 1 sign (Sig_R)
#   alice, Tunnel Response:  1 verify (dave's certificate against the AS
#                            intermediate verified once at start-up; his
#                            staple is the status the Route Direction
#                            brought, not checked again: since 1c54019),
#                            1 verify (Sig_R), 1 X25519 shared secret (ecdhe)
#   ecdhe: 2 sign + 4 verify + 2 X25519; shared: 2 sign + 4 verify (cold;
#   before 1c54019 it was 6 verify: certificate, AS intermediate and staple
#   at the Tunnel Response).  The X25519 key pairs are made ahead of time
#   since 0fc7ccb (ntmd fills lib/x25519's spare after each signalling
#   input's sends, and at start-up), so only the two shared secrets count;
#   before, 4 X25519.
# Between two warm peers alice verifies neither dave's status at the Route
# Direction nor his certificate at the Tunnel Response: 2 sign + 2 verify +
# 2 X25519 (ecdhe), 2 sign + 2 verify (shared) (warm).
# rsa (dave's key RSA-2048, alice's P-256): alice signs Sig_I (P-256) and
# encapsulates to dave's key (an RSA public-key operation); dave verifies
# Sig_I (P-256), decapsulates (nettle's blinded RSA root: a private-key
# operation) and signs Sig_R (RSA-PSS); alice verifies Sig_R (RSA-PSS).
# The floor program times RSA-PSS signing and verification with a 2048-bit
# key; the decapsulation is counted at the signature's cost and the
# encapsulation at the verification's (the same private / public RSA
# operation with another padding): warm 1 sign + 1 verify + 2 RSA private +
# 2 RSA public; cold 2 verify more (dave's status and certificate, both
# signed by the P-256 AS, checked when alice fetches his certificate: rsa
# needs it before the Tunnel Request, DESIGN 5).
# Needs root, python3 and a C compiler; brings up its own lab and removes it.
set -u

builddir=.
n=200
c=20
kexes="ecdhe shared rsa"
while getopts b:n:c:k: o; do
	case $o in
	b) builddir=$OPTARG ;;
	n) n=$OPTARG ;;
	c) c=$OPTARG ;;
	k) kexes=$OPTARG ;;
	*) echo "usage: $0 [-b builddir] [-n warm setups] [-c cold setups] [-k \"ecdhe shared\"]" >&2
	   exit 2 ;;
	esac
done
for k in $kexes; do
	case $k in
	ecdhe | shared) [ -z "${rsa_seen:-}" ] ||
		{ echo "$0: -k: rsa must come last (its responders keep RSA keys)" >&2; exit 2; } ;;
	rsa) rsa_seen=1 ;;
	*) echo "$0: -k: schemes are ecdhe, shared and rsa, not '$k'" >&2; exit 2 ;;
	esac
done
pid=
. "$(dirname "$0")/benchlab.sh"
bench_lab_init bs "$builddir"
bench_atexit() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
}

# nstat HOST KEY: one value of ntmctl status (text: "key value" lines).
# No python here: these poll every 20 ms, and a python start-up costs more
# than a setup on a loaded machine.
nstat() {
	"$NTMCTL" status -s "$S/$1/ntmd.sock" 2>/dev/null |
	    awk -v k="$2" '$1 == k { print $2; exit }'
}
# ntunnels HOST: how many tunnels ntmctl tunnels lists (header line first);
# nothing when ntmd does not answer.
ntunnels() {
	nt_out=$("$NTMCTL" tunnels -s "$S/$1/ntmd.sock" 2>/dev/null) || return 0
	printf '%s\n' "$nt_out" | sed 1d | grep -c .
}
gone() {
	! kill -0 "$pid" 2>/dev/null || grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
}
registered() {
	test "$(nstat "${1:-alice}" registration)" = registered
}
peers_alone() {
	test "$(ntunnels dave)" = 0 && test "$(ntunnels bob)" = 0
}
# close_peers: alice closes her tunnels to dave and bob (ntmctl close), and
# both have dropped their side.
close_peers() {
	for p in dave.dc1.ntm.test bob.dc2.ntm.test; do
		"$NTMCTL" close -s "$S/alice/ntmd.sock" "$p" >/dev/null 2>&1 ||
		    echo "$0: round $i: no tunnel to $p to close" >&2
	done
	test "$(ntunnels alice)" = 0 ||
	    { echo "$0: alice kept a tunnel after ntmctl close" >&2; exit 1; }
	wait_for 5 peers_alone ||
	    { echo "$0: dave or bob kept the tunnel after TUNNEL_CLOSE" >&2; exit 1; }
}
# order I: the round's lookups, dave and bob alternating, then dave again.
order() {
	if [ $(($1 % 2)) = 0 ]; then
		echo "dave.dc1.ntm.test bob.dc2.ntm.test +dave.dc1.ntm.test"
	else
		echo "bob.dc2.ntm.test dave.dc1.ntm.test +dave.dc1.ntm.test"
	fi
}

# node_conf HOST KEX: HOST's lab file with its virtual IPs fixed and KEX.
node_conf() {
	sed -e '/^kex_allowed/d' -e '/^vip[46] *=/d' \
		-e "/^\[node\]/a vip4 = $(nstat "$1" vip4)" \
		-e "/^\[node\]/a vip6 = $(nstat "$1" vip6)" \
		-e "/^\[tunnel\]/a kex_allowed = $2" "$S/$1/ntmd.conf" >"$T/$1-$2.conf"
}
# node_start HOST CONF: ntmd -d in HOST's namespace, its pid in $T/HOST.pid.
node_start() {
	rm -f "$T/$1.pid"
	setsid "$LABCMD" exec --name "$L" "$1" -- sh -c \
	    'echo $$ >"$1"; exec "$2" -d -f "$3"' sh "$T/$1.pid" \
	    "$builddir/node/ntmd" "$2" >>"$T/$1-ntmd.log" 2>&1 &
	wait_for 5 test -s "$T/$1.pid"
}
# node_stop HOST: stops HOST's ntmd, the bench's own or the lab's (pid set).
node_stop() {
	if [ -s "$T/$1.pid" ]; then
		pid=$(cat "$T/$1.pid")
	else
		pid=$(cut -d' ' -f1 "$S/$1/ntmd.pid")
	fi
	kill "$pid"
	wait_for 10 gone || { echo "$0: $1's ntmd does not stop" >&2; exit 1; }
}
# responders_restart: dave and bob get a fresh ntmd (same files).
responders_restart() {
	for h in dave bob; do
		node_stop "$h"
		node_start "$h" "$T/$h-$rconf.conf"
		wait_for 20 registered "$h" ||
		    { echo "$0: $h does not register again" >&2; exit 1; }
	done
	pid=
}

# rsa_enroll: dave and bob enroll again with RSA-2048 keys (their lab files
# gain key_type = rsa2048, their state is emptied) under the same FQDNs and
# virtual IPs; from then on they allow rsa too.
rsa_enroll() {
	for h in dave bob; do
		v46="$(nstat "$h" vip4) $(nstat "$h" vip6)"
		node_stop "$h"
		rm -f "$S/$h/state/"*
		sed -i -e '/^key_type/d' -e '/^\[node\]/a key_type = rsa2048' "$S/$h/ntmd.conf"
		sed -e '/^kex_allowed/d' -e '/^\[tunnel\]/a kex_allowed = ecdhe,shared,rsa' \
		    "$S/$h/ntmd.conf" >"$T/$h-enroll.conf"
		node_start "$h" "$T/$h-enroll.conf"
		wait_for 30 registered "$h" ||
		    { echo "$0: $h does not enroll again with an RSA-2048 key" >&2; exit 1; }
		openssl x509 -in "$S/$h/state/cert.pem" -noout -text |
		    grep -q 'Public-Key: (2048 bit)' ||
		    { echo "$0: $h's new certificate has no RSA-2048 key" >&2; exit 1; }
		[ "$(nstat "$h" vip4) $(nstat "$h" vip6)" = "$v46" ] ||
		    { echo "$0: $h's virtual IPs changed with the new enrollment" >&2; exit 1; }
		node_conf "$h" ecdhe,shared,rsa
	done
	pid=
	rconf=ecdhe,shared,rsa
}

# ---- the crypto floor ------------------------------------------------------

cat >"$T/floor.c" <<'EOF'
/* floor.c -- bench_setup: cost of the public-key operations of one setup. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <nettle/curve25519.h>

static double
floor_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int
main(void)
{
	gnutls_privkey_t key, rkey;
	gnutls_pubkey_t pub, rpub;
	gnutls_datum_t sig, msg;
	unsigned char m[64] = { 1 }, priv[32], pubx[32], peer[32], shared[32];
	double t0, sign_us, verify_us, x_us, rsign_us, rverify_us;
	int i, iters = 2000;

	if (gnutls_global_init() < 0 || gnutls_privkey_init(&key) < 0 ||
	    gnutls_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0)
		return 1;
	msg.data = m;
	msg.size = sizeof(m);
	t0 = floor_cpu_us();
	for (i = 0; i < iters; i++) {
		if (gnutls_privkey_sign_data2(key, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
		    0, &msg, &sig) < 0)
			return 1;
		if (i != iters - 1)
			gnutls_free(sig.data);
	}
	sign_us = (floor_cpu_us() - t0) / iters;
	t0 = floor_cpu_us();
	for (i = 0; i < iters / 2; i++)
		if (gnutls_pubkey_verify_data2(pub,
		    GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 0, &msg, &sig) < 0)
			return 1;
	verify_us = (floor_cpu_us() - t0) / (iters / 2);
	gnutls_free(sig.data);
	gnutls_rnd(GNUTLS_RND_RANDOM, priv, sizeof(priv));
	curve25519_mul_g(peer, priv);
	t0 = floor_cpu_us();
	for (i = 0; i < iters; i++) {
		priv[0] ^= (unsigned char)i;
		curve25519_mul_g(pubx, priv);
		curve25519_mul(shared, priv, peer);
	}
	x_us = (floor_cpu_us() - t0) / (2 * iters);
	if (gnutls_privkey_init(&rkey) < 0 ||
	    gnutls_privkey_generate(rkey, GNUTLS_PK_RSA, 2048, 0) < 0 ||
	    gnutls_pubkey_init(&rpub) < 0 ||
	    gnutls_pubkey_import_privkey(rpub, rkey, 0, 0) < 0)
		return 1;
	t0 = floor_cpu_us();
	for (i = 0; i < iters / 10; i++) {
		if (gnutls_privkey_sign_data2(rkey,
		    GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, 0, &msg, &sig) < 0)
			return 1;
		if (i != iters / 10 - 1)
			gnutls_free(sig.data);
	}
	rsign_us = (floor_cpu_us() - t0) / (iters / 10);
	t0 = floor_cpu_us();
	for (i = 0; i < iters; i++)
		if (gnutls_pubkey_verify_data2(rpub,
		    GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, 0, &msg, &sig) < 0)
			return 1;
	rverify_us = (floor_cpu_us() - t0) / iters;
	gnutls_free(sig.data);
	printf("%.1f %.1f %.1f %.1f %.1f %u\n", sign_us, verify_us, x_us,
	    rsign_us, rverify_us, (unsigned)(pubx[0] ^ shared[0]) & 0);
	gnutls_pubkey_deinit(rpub);
	gnutls_privkey_deinit(rkey);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(key);
	return 0;
}
EOF
cc -O2 -o "$T/floor" "$T/floor.c" $(pkg-config --cflags --libs gnutls hogweed nettle) ||
    { echo "$0: cannot build the crypto floor program" >&2; exit 1; }

# ---- the timer: getaddrinfo in alice's namespace ---------------------------

cat >"$T/gai.py" <<'EOF'
# gai.py NAME...: one getaddrinfo() per name; prints "NAME MICROSECONDS ADDR".
# A NAME given as +NAME is looked up the same way and printed as reuse:NAME.
import socket, sys, time
socket.getaddrinfo("as.ntm.test", None)
for arg in sys.argv[1:]:
    name = arg.lstrip("+")
    t0 = time.perf_counter()
    try:
        ai = socket.getaddrinfo(name, None, socket.AF_UNSPEC, socket.SOCK_DGRAM)
        addr = ai[0][4][0]
    except socket.gaierror as e:
        addr = "FAILED:" + str(e.errno)
    t1 = time.perf_counter()
    label = "reuse:" + name if arg.startswith("+") else name
    print(label, int((t1 - t0) * 1e6), addr, flush=True)
EOF

# ---- the lab ----------------------------------------------------------------

NTM_LAB_KEX=ecdhe,shared "$LABCMD" up --name "$L" >"$T/up.log" 2>&1 ||
    { cat "$T/up.log" >&2; exit 1; }
for h in alice dave bob; do
	[ "$(nstat $h registration)" = registered ] ||
	    { echo "$0: $h is not registered" >&2; exit 1; }
done
a4=$(nstat alice vip4)
a6=$(nstat alice vip6)
dave6=$(nstat dave vip6)
bob6=$(nstat bob vip6)
node_conf dave ecdhe,shared
node_conf bob ecdhe,shared
rconf=ecdhe,shared
pid=$(cut -d' ' -f1 "$S/alice/ntmd.pid")
kill "$pid"
wait_for 10 gone || { echo "$0: alice's ntmd does not stop" >&2; exit 1; }
pid=

fl0=$("$T/floor") || { echo "$0: the crypto floor program failed" >&2; exit 1; }
load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench_setup: $n warm and $c cold setups per scheme and peer, tree $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null), $(nproc) CPUs, load $load0"

for k in $kexes; do
	[ "$k" = rsa ] && rsa_enroll
	responders_restart
	sed -e '/^kex_allowed/d' -e '/^vip[46] *=/d' \
		-e "/^\[node\]/a vip4 = $a4" -e "/^\[node\]/a vip6 = $a6" \
		-e "/^\[tunnel\]/a kex_allowed = $k" "$S/alice/ntmd.conf" >"$T/alice-$k.conf"
	"$builddir/node/ntmd" -n -f "$T/alice-$k.conf" >/dev/null ||
	    { echo "$0: ntmd -n refuses kex_allowed = $k" >&2; exit 1; }
	# cold: alice's ntmd restarted before each round.
	: >"$T/$k.cold.raw"
	i=0
	while [ "$i" -lt "$c" ]; do
		node_start alice "$T/alice-$k.conf"
		pid=$(cat "$T/alice.pid")
		wait_for 20 registered ||
		    { echo "$0: alice does not register ($k, round $i)" >&2; exit 1; }
		"$LABCMD" exec --name "$L" alice -- python3 "$T/gai.py" $(order "$i") >>"$T/$k.cold.raw"
		kill "$pid"
		wait_for 10 gone || { echo "$0: alice's ntmd does not stop" >&2; exit 1; }
		rm -f "$T/alice.pid"
		pid=
		wait_for 5 peers_alone ||
		    { echo "$0: dave or bob kept the tunnel after TUNNEL_CLOSE" >&2; exit 1; }
		i=$((i + 1))
	done
	# warm: one ntmd for the whole pass, ntmctl close between rounds.
	node_start alice "$T/alice-$k.conf"
	pid=$(cat "$T/alice.pid")
	wait_for 20 registered ||
	    { echo "$0: alice does not register ($k, warm)" >&2; exit 1; }
	i=warm-up
	"$LABCMD" exec --name "$L" alice -- python3 "$T/gai.py" $(order 0) >"$T/$k.warmup.raw"
	inst0=$(nstat alice tunnel-installed)
	: >"$T/$k.warm.raw"
	: >"$T/$k.parts.raw"
	i=0
	while [ "$i" -lt "$n" ]; do
		close_peers
		"$LABCMD" exec --name "$L" alice -- python3 "$T/gai.py" $(order "$i") >>"$T/$k.warm.raw"
		# Where the time went: each side's TUNNEL timing options.
		for h in alice dave bob; do
			printf '%s ' "$h" >>"$T/$k.parts.raw"
			"$NTMCTL" tunnels --json -s "$S/$h/ntmd.sock" >>"$T/$k.parts.raw" 2>/dev/null ||
			    echo '[]' >>"$T/$k.parts.raw"
		done
		i=$((i + 1))
	done
	echo "$k warm pass: alice installed $(( $(nstat alice tunnel-installed) - inst0 )) tunnels for $((2 * n)) lookups, closed $(nstat alice tunnel-closed-by-request) on request"
	kill "$pid"
	wait_for 10 gone || { echo "$0: alice's ntmd does not stop" >&2; exit 1; }
	rm -f "$T/alice.pid"
	pid=
	wait_for 5 peers_alone ||
	    { echo "$0: dave or bob kept the tunnel after TUNNEL_CLOSE" >&2; exit 1; }
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

fl1=$("$T/floor") || { echo "$0: the crypto floor program failed" >&2; exit 1; }

# ---- figures ----------------------------------------------------------------

python3 - "$T" "$dave6" "$bob6" "$fl0" "$fl1" "$load1" $kexes <<'EOF'
import sys
tdir, dave6, bob6, fl0, fl1, load1 = sys.argv[1:7]
kexes = sys.argv[7:]
f0 = [float(v) for v in fl0.split()[:5]]
f1 = [float(v) for v in fl1.split()[:5]]
for when, f in (("before", f0), ("after", f1)):
    print("crypto floor %-6s the setups (CPU us, one thread): ECDSA P-256 sign %.1f, "
          "verify %.1f, X25519 %.1f; RSA-2048 PSS sign %.1f, verify %.1f"
          % (when, f[0], f[1], f[2], f[3], f[4]))
sign, verify, x, rsign, rverify = ((a + b) / 2 for a, b in zip(f0, f1))
floors = {
    "cold": {"ecdhe": 2 * sign + 4 * verify + 2 * x, "shared": 2 * sign + 4 * verify,
             "rsa": sign + 3 * verify + 2 * rsign + 2 * rverify},
    "warm": {"ecdhe": 2 * sign + 2 * verify + 2 * x, "shared": 2 * sign + 2 * verify,
             "rsa": sign + verify + 2 * rsign + 2 * rverify},
}
print("  mean of the two, GnuTLS 3.7.9 / nettle 3.8.1:")
print("  warm (both peers warm): ecdhe: 2 sign + 2 verify + 2 X25519 = %.0f us; shared: 2 sign + 2 verify = %.0f us;"
      " rsa: 1 sign + 1 verify + 2 RSA private + 2 RSA public = %.0f us"
      % (floors["warm"]["ecdhe"], floors["warm"]["shared"], floors["warm"]["rsa"]))
print("  cold (alice cold, responder warm): ecdhe: 2 sign + 4 verify + 2 X25519 = %.0f us; shared: 2 sign + 4 verify = %.0f us;"
      " rsa: 1 sign + 3 verify + 2 RSA private + 2 RSA public = %.0f us"
      % (floors["cold"]["ecdhe"], floors["cold"]["shared"], floors["cold"]["rsa"]))
print("load average after the run: %s" % load1)
want = {"dave.dc1.ntm.test": dave6, "bob.dc2.ntm.test": bob6,
        "reuse:dave.dc1.ntm.test": dave6}
goal = {"dave.dc1.ntm.test": 1500, "bob.dc2.ntm.test": 2000}
label = {"dave.dc1.ntm.test": "1 DC  (alice -> dave)  ",
         "bob.dc2.ntm.test": "2 DCs (alice -> bob)   ",
         "reuse:dave.dc1.ntm.test": "reuse (dave, tunnel up)"}
paper = {"dave.dc1.ntm.test": 2.4, "bob.dc2.ntm.test": 2.1}

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]

def load(path):
    res = {}
    try:
        lines = open(path).read().split("\n")
    except OSError:
        lines = []
    for line in lines:
        if not line.strip():
            continue
        name, us, addr = line.split()
        res.setdefault(name, [[], 0])
        if addr == want[name]:
            res[name][0].append(int(us))
        else:
            res[name][1] += 1
    return res

print("%-8s %-5s %-23s %5s %5s %9s %9s %9s %10s" % ("scheme", "peers", "path", "ok",
      "fail", "p50 us", "p99 us", "max us", "p50/floor"))
p50 = {}
for k in kexes:
    for mode in ("warm", "cold"):
        res = load("%s/%s.%s.raw" % (tdir, k, mode))
        names = ["dave.dc1.ntm.test", "bob.dc2.ntm.test"]
        if mode == "warm":
            names.append("reuse:dave.dc1.ntm.test")
        for name in names:
            ok, fail = res.get(name, [[], 0])
            m = "-" if name.startswith("reuse:") else mode
            if not ok:
                print("%-8s %-5s %s %5d %5d  no successful setup" % (k, m, label[name], 0, fail))
                continue
            p50[(k, mode, name)] = pct(ok, 50)
            ratio = pct(ok, 50) / floors[mode][k] if name in goal else None
            print("%-8s %-5s %s %5d %5d %9d %9d %9d %10s" % (k, m, label[name], len(ok),
                  fail, pct(ok, 50), pct(ok, 99), max(ok),
                  "-" if ratio is None else "%.2f" % ratio))
# Where the warm setups' time went (ntmd's TUNNEL timing options,
# doc/CONTROL.md 4): medians over the rounds, alice as MN, the peer as CN.
import json
parts = ("route-us", "request-us", "peer-us", "finish-us")
for k in kexes:
    seen = {}
    try:
        lines = open("%s/%s.parts.raw" % (tdir, k)).read().split("\n")
    except OSError:
        lines = []
    for line in lines:
        if not line.strip():
            continue
        host, js = line.split(" ", 1)
        for t in json.loads(js):
            if host == "alice" and t["peer"] in goal:
                for key in ("setup-us",) + parts:
                    if key in t:
                        seen.setdefault((t["peer"], key), []).append(t[key])
            elif host != "alice" and t["peer"] == "alice.dc1.ntm.test" and "answer-us" in t:
                peer = "dave.dc1.ntm.test" if host == "dave" else "bob.dc2.ntm.test"
                seen.setdefault((peer, "answer-us"), []).append(t["answer-us"])
    for name in ("dave.dc1.ntm.test", "bob.dc2.ntm.test"):
        if (name, "setup-us") not in seen:
            continue
        row = ["%s %s" % (key[:-3], pct(seen[(name, key)], 50)) for key in parts
               if (name, key) in seen]
        ans = seen.get((name, "answer-us"))
        print("parts %-6s %s p50 us, in ntmd: setup %d = %s; of peer, %s answered in %s; "
              "outside ntmd (NSS, python) about %d" % (k, label[name].strip(),
              pct(seen[(name, "setup-us")], 50), " + ".join(row), name.split(".")[0],
              pct(ans, 50) if ans else "-",
              p50.get((k, "warm", name), 0) - pct(seen[(name, "setup-us")], 50)))
for mode in ("warm", "cold"):
    for name in ("dave.dc1.ntm.test", "bob.dc2.ntm.test"):
        if ("ecdhe", mode, name) in p50:
            v = p50[("ecdhe", mode, name)]
            print("goal %s, %s: ecdhe p50 %d us <= %d us: %s" % (label[name].strip(), mode,
                  v, goal[name], "met" if v <= goal[name] else "NOT met"))
        for k in ("ecdhe", "rsa"):
            if (k, mode, name) in p50 and ("shared", mode, name) in p50:
                print("ratio %s / shared, %s, %s: %.2f (the paper's PKI scheme over its conventional one: %.1f)"
                      % (k, label[name].strip(), mode,
                         p50[(k, mode, name)] / p50[("shared", mode, name)], paper[name]))
EOF
