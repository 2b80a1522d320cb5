#!/bin/sh
# lab.sh -- integration test of tools/ntm-lab: the default topology comes up
# routed and resolving, two labs coexist, and down removes every trace, also
# of a lab whose processes were killed with -9.
#
#   lab A (t<pid>a), lab B (t<pid>b): tools/lab/flat.topo
#
#   parent resolver as dc1 dc2 rs  -- srv 198.51.100.0/24, 2001:db8:0:100::/64
#                      [core]
#   alice  dave  bob  carol        -- one /28 and /64 each in 203.0.113.0/24,
#                                     2001:db8:0:NN::/64
#
#   lab C (t<pid>c) lives under a private state root (NTM_LAB_ROOT) so that
#   its "down --all" cannot touch labs other tests run at the same time.
#   lab D (t<pid>d) is a broken topology that must be refused (old and new
#   syntax: NAT routers, node key types); lab E
#   (t<pid>e) a small topology written here (router gw, 192.0.2.0/26 and
#   192.0.2.64/26, zone lab.test): the script takes any topology file.

. "$top_srcdir/tests/tap.sh"
tap_need_root
tap_need_cmd ip nsd unbound dig python3 setsid

LABCMD="$top_srcdir/tools/ntm-lab"
TOPO="$top_srcdir/tools/lab/flat.topo"
A=t$$a
B=t$$b
C=t$$c
D=t$$d
E=t$$e
CROOT=$(mktemp -d /run/ntm-lab-test.XXXXXX)
NTM_BUILDDIR=$top_builddir
export NTM_BUILDDIR

cleanup() {
	"$LABCMD" down --name "$A" >/dev/null 2>&1
	"$LABCMD" down --name "$B" >/dev/null 2>&1
	"$LABCMD" down --name "$D" >/dev/null 2>&1
	"$LABCMD" down --name "$E" >/dev/null 2>&1
	NTM_LAB_ROOT=$CROOT "$LABCMD" down --name "$C" >/dev/null 2>&1
	rm -rf "$CROOT"
}
trap cleanup EXIT INT TERM

lab() {
	"$LABCMD" "$@"
}

# icmp_echo LAB HOST ADDR: one echo request answered, with ping(8) or,
# where iputils-ping is missing, a raw-socket echo in python3.
icmp_echo() {
	if command -v ping >/dev/null 2>&1; then
		lab exec --name "$1" "$2" -- ping -n -c 1 -W 2 "$3"
		return
	fi
	lab exec --name "$1" "$2" -- python3 - "$3" <<'EOF'
import socket, struct, sys, time
addr = sys.argv[1]
v6 = ":" in addr
fam, proto, req, rep = ((socket.AF_INET6, socket.IPPROTO_ICMPV6, 128, 129) if v6
                        else (socket.AF_INET, socket.IPPROTO_ICMP, 8, 0))
s = socket.socket(fam, socket.SOCK_RAW, proto)
s.settimeout(2)
ident = 0x4c41
def csum(b):
    b += b"\0" * (len(b) & 1)
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff)
    return ~(t + (t >> 16)) & 0xffff
pkt = struct.pack("!BBHHH", req, 0, 0, ident, 1) + b"ntm-lab"
if not v6:
    pkt = pkt[:2] + struct.pack("!H", csum(pkt)) + pkt[4:]
s.sendto(pkt, (addr, 0))
end = time.time() + 2
while time.time() < end:
    try:
        data, src = s.recvfrom(2048)
    except socket.timeout:
        sys.exit(1)
    if not v6:
        data = data[(data[0] & 15) * 4:]
    if data[0] == rep and struct.unpack("!H", data[4:6])[0] == ident:
        sys.exit(0)
sys.exit(1)
EOF
}

# answer LAB HOST SERVER NAME TYPE [dig options]: the answer section, short.
answer() {
	l=$1 h=$2 srv=$3 name=$4 type=$5
	shift 5
	lab exec --name "$l" "$h" -- dig +short +time=2 +tries=2 "$@" @"$srv" "$name" "$type"
}

# json_field LAB EXPR: a python expression over the status JSON (as j).
json_field() {
	lab status --name "$1" --json | python3 -c "import json, sys; j = json.load(sys.stdin); print($2)"
}

lab_pids() {
	json_field "$1" '" ".join(str(p["pid"]) for h in j["hosts"] for p in h["processes"] if p["pid"])'
}

# all_gone PID...: none of the processes exists (a zombie counts as gone).
all_gone() {
	for p in "$@"; do
		# Read once: a zombie may be reaped between a test and a read.
		st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		case $st in
		Z*) ;;
		*) return 1 ;;
		esac
	done
}

# no_trace LAB [ROOT]: no namespace, /etc/netns entry or state dir left.
no_trace() {
	left=$(ls -d /run/netns/ntm-"$1"-* /etc/netns/ntm-"$1"-* "${2:-/run/ntm-lab}/$1" 2>/dev/null)
	[ -z "$left" ] || { echo "left: $left"; return 1; }
}

expected_hosts=$(awk '$1 == "router" || $1 == "host" { print $2 }' "$TOPO" | sort | tr '\n' ' ')

# ---- lab A comes up routed and resolving -----------------------------------

out=$(lab up --name "$A" 2>"$CROOT/up.err")
rc=$?
check_eq "up --name $A exits 0" 0 "$rc"
case $out in
"lab $A up: "*) ok "up reports the lab ready" ;;
*) not_ok "up reports the lab ready" "$out" ;;
esac
# Warnings mean something the lab should start was not (e.g. ntm-dc
# refusing the configuration the lab writes).
check_eq "up warns about nothing" "" "$(cat "$CROOT/up.err")"
if [ "$rc" -ne 0 ]; then
	tap_done
	exit 1
fi

check "alice pings bob's global IPv4 address across core" icmp_echo "$A" alice 203.0.113.50
check "alice pings bob's global IPv6 address across core" icmp_echo "$A" alice 2001:db8:0:21::2
check "carol pings dave's global IPv6 address" icmp_echo "$A" carol 2001:db8:0:12::2

check_eq "resolver (v4) answers a parent-served A record" 198.51.100.4 \
	"$(answer "$A" alice 198.51.100.3 as.ntm.test A)"
check_eq "resolver (v6) answers a parent-served AAAA record" 2001:db8:0:100::7 \
	"$(answer "$A" bob 2001:db8:0:100::3 rs.ntm.test AAAA)"
check_eq "parent delegates dc1.ntm.test to ns1.dc1.ntm.test" ns1.dc1.ntm.test. \
	"$(lab exec --name "$A" alice -- dig +norec +noall +authority +time=2 @198.51.100.2 \
		ns1.dc1.ntm.test A | awk '$4 == "NS" { print $5 }')"
check_eq "the delegation carries glue for ns1.dc1.ntm.test" "198.51.100.5 2001:db8:0:100::5" \
	"$(lab exec --name "$A" alice -- dig +norec +noall +additional +time=2 @198.51.100.2 \
		ns1.dc1.ntm.test A | awk '{ print $5 }' | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "parent delegates dc2's IPv4 reverse zone" "2.18.198.in-addr.arpa. ns1.dc2.ntm.test." \
	"$(lab exec --name "$A" alice -- dig +norec +noall +authority +time=2 @198.51.100.2 \
		-x 198.18.2.7 | awk '$4 == "NS" { print $1, $5 }')"
check_eq "parent delegates dc1's IPv6 reverse zone" \
	"1.0.0.0.2.6.f.6.d.6.4.7.e.6.d.f.ip6.arpa. ns1.dc1.ntm.test." \
	"$(lab exec --name "$A" alice -- dig +norec +noall +authority +time=2 @2001:db8:0:100::2 \
		-x fd6e:746d:6f62:1::9 | awk '$4 == "NS" { print $1, $5 }')"
check_eq "the resolver refuses names outside the lab" REFUSED \
	"$(lab exec --name "$A" alice -- dig +time=2 @198.51.100.3 example.com A |
		sed -n 's/.*status: \([A-Z]*\),.*/\1/p')"

dcstate=$(json_field "$A" '[p["state"] for h in j["hosts"] if h["name"] == "dc1" for p in h["processes"]][0]')
if [ "$dcstate" = running ]; then
	check_eq "the resolver follows the delegation to ntm-dc on dc1" 198.51.100.5 \
		"$(answer "$A" bob 198.51.100.3 ns1.dc1.ntm.test A)"
	check_eq "the resolver follows the delegation to ntm-dc on dc2 (v6)" 2001:db8:0:100::6 \
		"$(answer "$A" alice 2001:db8:0:100::3 ns1.dc2.ntm.test AAAA)"
	check_eq "the resolver reaches dc1's IPv4 reverse zone on ntm-dc" ns1.dc1.ntm.test. \
		"$(answer "$A" carol 198.51.100.3 1.18.198.in-addr.arpa SOA | awk '{ print $1 }')"
	check_eq "the resolver reaches dc2's IPv6 reverse zone on ntm-dc" ns1.dc2.ntm.test. \
		"$(answer "$A" dave 198.51.100.3 2.0.0.0.2.6.f.6.d.6.4.7.e.6.d.f.ip6.arpa SOA |
			awk '{ print $1 }')"
else
	ok "# SKIP delegation to ntm-dc: ntm-dc on dc1 is '$dcstate'"
fi

check_eq "glibc on alice resolves through the lab resolver" "198.51.100.4" \
	"$(lab exec --name "$A" alice -- getent ahostsv4 as.ntm.test | awk 'NR == 1 { print $1 }')"
check_eq "alice's nsswitch.conf puts ntm before dns" "hosts: files ntm [NOTFOUND=return] dns" \
	"$(lab exec --name "$A" alice -- awk '$1 == "hosts:" { $1 = $1; print }' /etc/nsswitch.conf)"
check_eq "alice's nss.conf names her own control socket" "socket = /run/ntm-lab/$A/alice/ntmd.sock" \
	"$(lab exec --name "$A" alice -- grep '^socket' /etc/ntmobile/nss.conf)"
check_eq "exec exports the build tree's NSS module path" "$top_builddir/plugins/.libs" \
	"$(lab exec --name "$A" alice -- sh -c 'echo "${LD_LIBRARY_PATH%%:*}"')"
check_eq "a server's nsswitch.conf has no ntm" "hosts: files dns" \
	"$(lab exec --name "$A" as -- awk '$1 == "hosts:" { $1 = $1; print }' /etc/nsswitch.conf)"

# ---- certificates (when ntmctl is built) --------------------------------------

pki=$(json_field "$A" 'j["certificates"]')
case $pki in
made*)
	S=/run/ntm-lab/$A
	check "dc1's certificate verifies against the lab root through the AS CA" \
		openssl verify -CAfile "$S/dc1/root.pem" -untrusted "$S/dc1/chain.pem" "$S/dc1/cert.pem"
	check "dc1's certificate names its zone and reverse zones" sh -c \
		"openssl x509 -noout -ext subjectAltName -in '$S/dc1/cert.pem' |
		grep 'DNS:dc1.ntm.test' | grep 'DNS:1.18.198.in-addr.arpa' | grep -q 'IP Address:198.51.100.5'"
	check "the RS and AS certificates verify too" sh -c \
		"openssl verify -CAfile '$S/rs/root.pem' -untrusted '$S/rs/chain.pem' '$S/rs/cert.pem' '$S/as/cert.pem'"
	check_eq "server keys are private to root" "600 600" \
		"$(stat -c %a "$S/dc2/cert.key" "$S/rs/cert.key" | tr '\n' ' ' | sed 's/ $//')"
	;;
*)
	ok "# SKIP certificates: $pki"
	;;
esac

# ---- NSS on a node (when libnss_ntm and the test responder are built) --------

RESPONDER=$top_builddir/tests/nss/ntm-nss-responder
if [ -x "$RESPONDER" ] && [ -e "$top_builddir/plugins/.libs/libnss_ntm.so.2" ]; then
	T=$(mktemp -d /tmp/ntm-lab-nss.XXXXXX)
	cat >"$T/table" <<'EOF'
RESOLVE bob.dc2.ntm.test any => OK bob.dc2.ntm.test 198.18.2.10 fd6e:746d:6f62:2::a
RESOLVE bob.dc2.ntm.test inet => OK bob.dc2.ntm.test 198.18.2.10
RESOLVE bob.dc2.ntm.test inet6 => OK bob.dc2.ntm.test fd6e:746d:6f62:2::a
RESOLVE mallory.dc2.ntm.test any => NOTFOUND refused
RESOLVE mallory.dc2.ntm.test inet => NOTFOUND refused
RESOLVE mallory.dc2.ntm.test inet6 => NOTFOUND refused
EOF
	# A stand-in for ntmd on alice's control socket; left running, so
	# that down must stop a process the lab did not start.  The real
	# ntmd (when up started it) is stopped first: it holds the socket.
	alice_ntmd=$(json_field "$A" '[p["pid"] for h in j["hosts"] if h["name"] == "alice" for p in h["processes"] if p["state"] == "running"] or [""]' | tr -d "[]'")
	if [ -n "$alice_ntmd" ]; then
		kill -TERM "$alice_ntmd"
		wait_for 5 all_gone "$alice_ntmd"
		# ntmd runs as nobody by then and may not unlink in root's
		# directory; the next start replaces the file.  What lookups
		# see is that nothing answers there any more.
		check_fails "alice's stopped ntmd answers no connection on its socket" \
			python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "/run/ntm-lab/$A/alice/ntmd.sock"
	fi
	setsid "$LABCMD" exec --name "$A" alice -- "$RESPONDER" \
		-s "/run/ntm-lab/$A/alice/ntmd.sock" -t "$T/table" -l "$T/log" \
		</dev/null >/dev/null 2>&1 &
	wait_for 5 grep -q '^listening' "$T/log"
	check_eq "getent on alice asks alice's ntmd socket through libnss_ntm" "198.18.2.10" \
		"$(lab exec --name "$A" alice -- getent ahostsv4 bob.dc2.ntm.test | awk 'NR == 1 { print $1 }')"
	lab exec --name "$A" alice -- getent hosts mallory.dc2.ntm.test >/dev/null
	check_eq "a refused peer is not found on alice (getent exit 2)" 2 "$?"
	check "the refused name went to alice's ntmd socket" grep -q 'request RESOLVE mallory.dc2.ntm.test' "$T/log"
	check_fails "dave does not get the stand-in's answer (his nss.conf names his own socket)" sh -c \
		"'$LABCMD' exec --name '$A' dave -- getent ahostsv4 bob.dc2.ntm.test | grep -qx '198.18.2.10 .*'"
	rm -rf "$T"
else
	ok "# SKIP NSS on a node: libnss_ntm.so.2 or tests/nss/ntm-nss-responder not built"
fi

check "status --json parses" sh -c "'$LABCMD' status --name '$A' --json | python3 -m json.tool"
check_eq "status --json lists every host of the topology" "$expected_hosts" \
	"$(json_field "$A" '" ".join(sorted(h["name"] for h in j["hosts"])) + " "')"
check_eq "status --json: every namespace exists, nsd and unbound run" "True running running" \
	"$(json_field "$A" 'all(h["namespace_exists"] for h in j["hosts"]), *[p["state"] for h in j["hosts"] for p in h["processes"] if p["name"] in ("nsd", "unbound")]' |
		tr -d "(),'")"
# Her virtual IPs on ntm0 (while ntmd runs) are e2e.sh's business.
check_eq "status --json lists alice's addresses" "203.0.113.18/28 2001:db8:0:11::2/64" \
	"$(json_field "$A" '" ".join(a for h in j["hosts"] if h["name"] == "alice" for a in h["addresses"] if not a.startswith(("198.18.", "fd6e:")))')"
bob_ntmd=$(json_field "$A" '[p["state"] for h in j["hosts"] if h["name"] == "bob" for p in h["processes"]][0]')
if [ ! -x "$top_builddir/node/ntmd" ]; then
	check_eq "status --json says bob's ntmd is not built" "not built" "$bob_ntmd"
elif [ -x "$top_builddir/as/ntm-as" ] && [ "$dcstate" = running ]; then
	check_eq "status --json: bob's ntmd runs, registered with its DC" "running registered" \
		"$(json_field "$A" '*[(p["state"], p.get("registration")) for h in j["hosts"] if h["name"] == "bob" for p in h["processes"]][0]' | tr -d "(),'")"
else
	case $bob_ntmd in
	"not started ("*")") ok "status --json says why bob's ntmd is not started ($bob_ntmd)" ;;
	*) not_ok "status --json says why bob's ntmd is not started" "$bob_ntmd" ;;
	esac
fi
check "status (table) lists parent's nsd as running" \
	sh -c "'$LABCMD' status --name '$A' | grep -E '^parent .*nsd: running \\(pid [0-9]+\\)'"
check_fails "status of a lab that does not exist fails" lab status --name "t$$none"
check_fails "up of an existing lab name fails" lab up --name "$A"

# ---- lab B beside lab A ----------------------------------------------------

check "a second lab $B comes up while $A runs" lab up --name "$B"
check "in $B, dave pings carol's IPv4 address" icmp_echo "$B" dave 203.0.113.66
pidA=$(json_field "$A" '[p["pid"] for h in j["hosts"] if h["name"] == "parent" for p in h["processes"]][0]')
pidB=$(json_field "$B" '[p["pid"] for h in j["hosts"] if h["name"] == "parent" for p in h["processes"]][0]')
check_eq "each lab's NSD runs in its own namespace" "ntm-$A-parent ntm-$B-parent" \
	"$(ip netns identify "$pidA") $(ip netns identify "$pidB")"
pidsB=$(lab_pids "$B")
check "down --name $B exits 0" lab down --name "$B"
check "down --name $B leaves no namespace, /etc/netns entry or state dir" no_trace "$B"
# shellcheck disable=SC2086
check "down --name $B stops every process it started" all_gone $pidsB
check "lab $A still answers after $B is gone" icmp_echo "$A" alice 2001:db8:0:21::2
check_eq "lab $A's resolver still answers" 198.51.100.4 "$(answer "$A" dave 198.51.100.3 as.ntm.test A)"

# ---- a crashed lab is removed by down --all ---------------------------------

if NTM_LAB_ROOT=$CROOT lab up --name "$C" >/dev/null; then
	pidsC=$(NTM_LAB_ROOT=$CROOT lab status --name "$C" --json | python3 -c \
		'import json, sys; print(" ".join(str(p["pid"]) for h in json.load(sys.stdin)["hosts"] for p in h["processes"] if p["pid"]))')
	# A process up never recorded (NSD's children are such too).
	setsid ip netns exec "ntm-$C-alice" sleep 600 </dev/null >/dev/null 2>&1 &
	stray=$!
	# shellcheck disable=SC2086
	kill -9 $pidsC
	# shellcheck disable=SC2086
	wait_for 5 all_gone $pidsC
	check "killed lab shows as degraded" sh -c \
		"NTM_LAB_ROOT='$CROOT' '$LABCMD' status --name '$C' | grep -q '^degraded'"
	nspids=$(ip netns pids "ntm-$C-parent" | tr '\n' ' ')
	check "down --all exits 0 on a killed lab" env NTM_LAB_ROOT="$CROOT" "$LABCMD" down --all
	check "down --all leaves nothing of the killed lab" no_trace "$C" "$CROOT"
	# shellcheck disable=SC2086
	check "down --all stops what was left in the namespaces" all_gone $stray $nspids
	check "down --all under another state root left lab $A alone" \
		icmp_echo "$A" bob 203.0.113.18
else
	not_ok "lab $C (private root) comes up"
fi

# ---- a topology is data: another file, other names and addresses ------------

small=$(mktemp /tmp/ntm-lab-small.XXXXXX)
cat >"$small" <<'EOF'
lab	zone=lab.test vnet4=198.18.0.0/16 vnet6=fd6e:746d:6f62::/48
router	gw
link	net1 router=gw v4=192.0.2.1/26 v6=2001:db8:1::1/64
link	net2 router=gw v4=192.0.2.65/26 v6=2001:db8:2::1/64
host	ns  role=parent   link=net1 v4=192.0.2.2 v6=2001:db8:1::2
host	rec role=resolver link=net1 v4=192.0.2.3 v6=2001:db8:1::3
host	dcx role=dc       link=net1 v4=192.0.2.4 v6=2001:db8:1::4 zone=x.lab.test vnet4=198.18.7.0/24 vnet6=fd6e:746d:6f62:7::/64
host	n1  role=node     link=net2 v4=192.0.2.66 v6=2001:db8:2::2 zone=x.lab.test
EOF
if lab up "$small" --name "$E" >/dev/null; then
	ok "a lab comes up from another topology file"
	check_eq "its status lists that file's hosts" "dcx gw n1 ns rec" \
		"$(json_field "$E" '" ".join(sorted(h["name"] for h in j["hosts"]))')"
	check "n1 pings the parent across gw over IPv6" icmp_echo "$E" n1 2001:db8:1::2
	check_eq "n1 resolves rec.lab.test through its resolver" 192.0.2.3 \
		"$(lab exec --name "$E" n1 -- getent ahostsv4 rec.lab.test | awk 'NR == 1 { print $1 }')"
	check_eq "the parent delegates 7.18.198.in-addr.arpa to the DC" ns1.x.lab.test. \
		"$(lab exec --name "$E" n1 -- dig +norec +noall +authority +time=2 @192.0.2.2 \
			-x 198.18.7.1 | awk '$4 == "NS" { print $5 }')"
	check_eq "n1's nss.conf lists the topology's zone" "zones = x.lab.test" \
		"$(lab exec --name "$E" n1 -- grep '^zones' /etc/ntmobile/nss.conf)"
	check_eq "without an AS host no certificates are made, and status says why" \
		"not made (no as host in the topology)" "$(json_field "$E" 'j["certificates"]')"
	if [ -x "$top_builddir/node/ntmd" ]; then
		check_eq "and n1's ntmd is not started, for that reason" \
			"not started (no as host in the topology)" \
			"$(json_field "$E" '[p["state"] for h in j["hosts"] if h["name"] == "n1" for p in h["processes"]][0]')"
	fi
	check "down --name $E leaves nothing" sh -c "'$LABCMD' down --name '$E' >/dev/null && ls /run/netns/ntm-$E-* /etc/netns/ntm-$E-* /run/ntm-lab/$E 2>/dev/null | wc -l | grep -qx 0"
else
	not_ok "a lab comes up from another topology file"
fi
rm -f "$small"

# ---- a bad topology is refused, and nothing is left -------------------------

bad=$(mktemp /tmp/ntm-lab-bad.XXXXXX)
n=$(wc -l <"$TOPO")
{
	cat "$TOPO"
	echo "host eve role=spy link=srv v4=198.51.100.9 v6=2001:db8:0:100::9"
	echo "link lan-x router=nowhere v4=203.0.113.81/28 v6=2001:db8:0:31::1/64"
	echo "host alice role=node link=srv v4=198.51.100.10 v6=2001:db8:0:100::a zone=dc1.ntm.test"
	echo "router gw2 nat=cone uplink=srv v4=198.51.100.20"
	echo "host zed role=node link=srv v6=2001:db8:0:100::30 zone=dc1.ntm.test key=dsa"
} >"$bad"
upout=$(lab up "$bad" --name "$D" 2>&1)
rc=$?
rm -f "$bad"
check_eq "up with a broken topology fails" 1 "$rc"
check_eq "every topology error is reported as file:line" \
	"$bad:$((n + 1)) $bad:$((n + 2)) $bad:$((n + 3)) $bad:$((n + 4)) $bad:$((n + 5))" \
	"$(printf '%s\n' "$upout" | grep -o "^$bad:[0-9]*" | tr '\n' ' ' | sed 's/ $//')"
check "an unknown NAT kind is refused by name" sh -c \
	"printf '%s\n' \"\$1\" | grep -q 'router gw2: nat= must be firewall, masquerade or random'" - "$upout"
check "a node key type other than p256 or rsa2048 is refused" sh -c \
	"printf '%s\n' \"\$1\" | grep -q 'host zed: key= must be p256 or rsa2048'" - "$upout"
check "a refused topology leaves nothing behind" no_trace "$D"

# ---- down of lab A ----------------------------------------------------------

pidsA=$(lab_pids "$A")
check "down --name $A exits 0" lab down --name "$A"
check "down --name $A leaves no namespace, /etc/netns entry or state dir" no_trace "$A"
# shellcheck disable=SC2086
check "down --name $A stops every process it started" all_gone $pidsA
check_eq "down of a lab that is gone says so and succeeds" "no lab named $A" "$(lab down --name "$A")"

tap_done
