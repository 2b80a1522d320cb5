#!/bin/sh
# bench_tput.sh -- TCP throughput through the tunnel (alice -> dave) against the raw path, and ntmd CPU per GB.
#
#   alice 203.0.113.18 ---- core ---- dave 203.0.113.34      raw path
#   alice vIP ===== ntmd tunnel (UDP 4620) ===== dave vIP     tunnel
#   alice 192.0.2.1 == wireguard-go (UDP 51820) == 192.0.2.2  wg
#   alice 10.200.0.1 === nebula (UDP 4242) === 10.200.0.2     nebula
#
# usage: bench/bench_tput.sh [-b builddir] [-t seconds] [-r rounds]
#
# iperf3 -s runs in dave's namespace; alice's iperf3 -c sends to dave's
# global IPv4 address (raw: the kernel path through core) and to his
# virtual IPv4 (the same hosts through both ntmd's TUN devices and the
# tunnel), with 1 and with 4 streams.  The raw and tunnel runs alternate
# for -r rounds (default 3) of -t seconds (default 5); the median of each
# is printed with the ratio tunnel / raw.  Tunnel CPU: utime + stime of
# both ntmd processes (/proc/PID/stat) before and after each tunnel run,
# divided by the bytes iperf3's receiver counted.  When wireguard-go and
# wg are installed (Debian wireguard-go, wireguard-tools), the same hosts
# also get a wireguard-go tunnel (userspace TUN like ntmd, inner addresses
# 192.0.2.1 and .2, UDP 51820 between the global addresses), measured and
# costed the same way.  When nebula and nebula-cert are installed (Debian
# nebula), the same hosts also get a Nebula overlay: a CA and one host
# certificate each made with nebula-cert in a temporary directory, dave
# the lighthouse (10.200.0.2) and alice a host (10.200.0.1), UDP 4242
# between the global addresses, MTU 1420, cipher aes (AES-256-GCM, Nebula's
# default and the AEAD the ntmd tunnel picks first), measured and costed
# the same way (CPU of both nebula processes, dave's also being the
# lighthouse); issue 5's goal is one stream through ntmd >= 4x Nebula.
# Needs root and iperf3; brings up its own lab and removes it.
set -u

builddir=.
secs=5
rounds=3
while getopts b:t:r: o; do
	case $o in
	b) builddir=$OPTARG ;;
	t) secs=$OPTARG ;;
	r) rounds=$OPTARG ;;
	*) echo "usage: $0 [-b builddir] [-t seconds] [-r rounds]" >&2; exit 2 ;;
	esac
done
command -v iperf3 >/dev/null || { echo "$0: needs iperf3 (apt-get install iperf3)" >&2; exit 2; }
srv=
wg=
neb=
. "$(dirname "$0")/benchlab.sh"
bench_lab_init bt "$builddir"

# Before the lab goes down: iperf3's server, wireguard-go and nebula.
bench_atexit() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	for p in $wg $neb; do
		kill "$p" 2>/dev/null
	done
	for f in "$T"/wg-*.pid "$T"/neb-*.pid; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
}

nstat() {
	"$NTMCTL" status --json -s "$S/$1/ntmd.sock" 2>/dev/null |
	    python3 -c "import json, sys; print(json.load(sys.stdin).get('$2', ''))" 2>/dev/null
}
# cpu_ticks PID...: utime + stime of the processes, in clock ticks.
cpu_ticks() {
	for p in "$@"; do
		sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }'
	done | awk '{ s += $1 } END { print s }'
}

"$LABCMD" up --name "$L" >"$T/up.log" 2>&1 || { cat "$T/up.log" >&2; exit 1; }
apid=$(cut -d' ' -f1 "$S/alice/ntmd.pid")
dpid=$(cut -d' ' -f1 "$S/dave/ntmd.pid")
dave4=$(nstat dave vip4)
raw4=203.0.113.34
got=$("$LABCMD" exec --name "$L" alice -- getent ahostsv4 dave.dc1.ntm.test | awk 'NR == 1 { print $1 }')
[ "$got" = "$dave4" ] ||
    { echo "$0: no tunnel alice -> dave (getent gave '$got', want $dave4)" >&2; exit 1; }
"$LABCMD" exec --name "$L" alice -- ping -c 1 -W 2 "$dave4" >/dev/null ||
    { echo "$0: dave's virtual IP does not answer through the tunnel" >&2; exit 1; }

setsid "$LABCMD" exec --name "$L" dave -- sh -c 'echo $$ >"$1"; exec iperf3 -s -B "$2"' \
    sh "$T/iperf.pid" 0.0.0.0 >"$T/iperf-s.log" 2>&1 &
i=0
while [ ! -s "$T/iperf.pid" ] ||
    ! "$LABCMD" exec --name "$L" dave -- ss -Hltn 'sport = :5201' | grep -q .; do
	i=$((i + 1))
	[ "$i" -lt 250 ] || { echo "$0: iperf3 -s does not start" >&2; exit 1; }
	sleep 0.02
done
srv=$(cat "$T/iperf.pid")

# wg_up HOST ADDR PEERKEY ENDPOINT: wireguard-go on HOST (device wgbHOST: its
# control socket /run/wireguard/DEVICE.sock is shared by every namespace),
# its pid in $T/wg-HOST.pid.
wg_up() {
	setsid "$LABCMD" exec --name "$L" "$1" -- sh -c 'echo $$ >"$1"
	    WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 exec wireguard-go -f "$2"' \
	    sh "$T/wg-$1.pid" "wgb$1" >"$T/wg-$1.log" 2>&1 &
	i=0
	until "$LABCMD" exec --name "$L" "$1" -- ip link show "wgb$1" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt 250 ] || return 1
		sleep 0.02
	done
	"$LABCMD" exec --name "$L" "$1" -- sh -c 'wg set "$6" listen-port 51820 \
	    private-key "$1" peer "$2" endpoint "$3" allowed-ips "$4" &&
	    ip addr add "$5"/24 dev "$6" && ip link set "$6" mtu 1420 up' sh \
	    "$T/$1.wgkey" "$3" "$4" "$( [ "$2" = 192.0.2.1 ] && echo 192.0.2.2 || echo 192.0.2.1)/32" "$2" "wgb$1"
}
if command -v wireguard-go >/dev/null && command -v wg >/dev/null; then
	umask 077
	wg genkey >"$T/alice.wgkey"
	wg genkey >"$T/dave.wgkey"
	umask 022
	if wg_up alice 192.0.2.1 "$(wg pubkey <"$T/dave.wgkey")" 203.0.113.34:51820 &&
	    wg_up dave 192.0.2.2 "$(wg pubkey <"$T/alice.wgkey")" 203.0.113.18:51820 &&
	    "$LABCMD" exec --name "$L" alice -- ping -c 1 -W 2 192.0.2.2 >/dev/null; then
		wg="$(cat "$T/wg-alice.pid") $(cat "$T/wg-dave.pid")"
		wgver=$(dpkg-query -W -f '${Version}' wireguard-go 2>/dev/null)
	else
		echo "$0: wireguard-go tunnel did not come up; measured without it" >&2
	fi
fi

# neb_conf HOST: nebula's config for HOST in $T/neb/HOST.yml; dave is the
# lighthouse, alice finds him through the static host map.
neb_conf() {
	if [ "$1" = dave ]; then
		lh='  am_lighthouse: true'
		hosts=
	else
		lh='  am_lighthouse: false
  interval: 60
  hosts:
    - "10.200.0.2"'
		hosts='static_host_map:
  "10.200.0.2": ["203.0.113.34:4242"]'
	fi
	cat >"$T/neb/$1.yml" <<NEBEOF
pki:
  ca: $T/neb/ca.crt
  cert: $T/neb/$1.crt
  key: $T/neb/$1.key
$hosts
lighthouse:
$lh
listen:
  host: 0.0.0.0
  port: 4242
punchy:
  punch: false
cipher: aes
tun:
  disabled: false
  dev: nebb$1
  mtu: 1420
logging:
  level: warning
firewall:
  outbound:
    - port: any
      proto: any
      host: any
  inbound:
    - port: any
      proto: any
      host: any
NEBEOF
}
# neb_up HOST ADDR: nebula on HOST with overlay address ADDR, its pid in
# $T/neb-HOST.pid, up when its device has the address.
neb_up() {
	"$NEBCERT" sign -ca-crt "$T/neb/ca.crt" -ca-key "$T/neb/ca.key" \
	    -name "$1" -ip "$2/24" -out-crt "$T/neb/$1.crt" \
	    -out-key "$T/neb/$1.key" >>"$T/neb/cert.log" 2>&1 || return 1
	neb_conf "$1"
	setsid "$LABCMD" exec --name "$L" "$1" -- sh -c 'echo $$ >"$1"
	    exec nebula -config "$2"' sh "$T/neb-$1.pid" "$T/neb/$1.yml" \
	    >"$T/neb-$1.log" 2>&1 &
	i=0
	until "$LABCMD" exec --name "$L" "$1" -- ip -o addr show dev "nebb$1" 2>/dev/null |
	    grep -q "inet $2/"; do
		i=$((i + 1))
		[ "$i" -lt 250 ] || return 1
		sleep 0.02
	done
}
NEBCERT=$(command -v nebula-cert)
if command -v nebula >/dev/null && [ -n "$NEBCERT" ]; then
	mkdir -m 0700 "$T/neb"
	i=0
	if "$NEBCERT" ca -name "ntm-bench-$L" -out-crt "$T/neb/ca.crt" \
	    -out-key "$T/neb/ca.key" >"$T/neb/cert.log" 2>&1 &&
	    neb_up dave 10.200.0.2 && neb_up alice 10.200.0.1 &&
	    until "$LABCMD" exec --name "$L" alice -- ping -c 1 -W 1 10.200.0.2 >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt 10 ] || break
	    done && [ "$i" -lt 10 ]; then
		neb="$(cat "$T/neb-alice.pid") $(cat "$T/neb-dave.pid")"
		nebver=$(nebula -version 2>/dev/null | sed -n 's/^Version: //p')
	else
		echo "$0: nebula overlay did not come up; measured without it" >&2
		tail -5 "$T/neb/cert.log" "$T"/neb-*.log >&2 2>/dev/null
	fi
fi

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench_tput: iperf3 TCP alice -> dave, $rounds rounds of $secs s, tree $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null), $(nproc) CPUs, kernel $(uname -r), load $load0"
hz=$(getconf CLK_TCK)
: >"$T/results"
r=1
while [ "$r" -le "$rounds" ]; do
	for p in 1 4; do
		for path in raw tunnel ${wg:+wg} ${neb:+nebula}; do
			case $path in
			raw) dst=$raw4; pids= ;;
			tunnel) dst=$dave4; pids="$apid $dpid" ;;
			wg) dst=192.0.2.2; pids=$wg ;;
			nebula) dst=10.200.0.2; pids=$neb ;;
			esac
			c0=$(cpu_ticks $pids)
			"$LABCMD" exec --name "$L" alice -- iperf3 -c "$dst" -t "$secs" \
			    -P "$p" -J >"$T/run.json" 2>&1 ||
			    { echo "$0: iperf3 to $dst failed:" >&2; tail -5 "$T/run.json" >&2; exit 1; }
			c1=$(cpu_ticks $pids)
			python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
e = j["end"]["sum_received"]
print(sys.argv[2], sys.argv[3], e["bytes"], e["bits_per_second"], sys.argv[4])' \
			    "$T/run.json" "$path" "$p" $((c1 - c0)) >>"$T/results"
		done
	done
	r=$((r + 1))
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
mtu=$("$LABCMD" exec --name "$L" alice -- sh -c \
    'd=$(ip -o route get "$1" | sed -n "s/.* dev \([^ ]*\).*/\1/p"); echo "$d $(cat /sys/class/net/$d/mtu)"' \
    sh "$dave4")

python3 - "$T/results" "$hz" "$load1" "${mtu:-?}" "${wgver:-}" "${nebver:-}" <<'EOF'
import statistics, sys
res, hz, load1, mtu, wgver, nebver = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
runs = {}
for line in open(res):
    path, p, nbytes, bps, ticks = line.split()
    runs.setdefault((path, int(p)), []).append((int(nbytes), float(bps), int(ticks)))
print("load average after the run: %s; tunnel device and MTU: %s" % (load1, mtu))
if wgver:
    print("wg: wireguard-go %s, MTU 1420, CPU of both wireguard-go processes" % wgver)
if nebver:
    print("nebula: Nebula %s, cipher aes (AES-256-GCM), MTU 1420, dave the lighthouse, CPU of both nebula processes" % nebver)
print("%-7s %7s %12s %32s %8s %18s" % ("streams", "path", "median Mb/s",
      "runs Mb/s", "vs raw", "CPU s per GB"))
for p in (1, 4):
    raw = statistics.median(r[1] for r in runs[("raw", p)]) / 1e6
    for path in ("raw", "tunnel", "wg", "nebula"):
        if (path, p) not in runs:
            continue
        v = runs[(path, p)]
        med = statistics.median(r[1] for r in v) / 1e6
        each = " ".join("%.0f" % (r[1] / 1e6) for r in v)
        if path != "raw":
            gb = sum(r[0] for r in v) / 1e9
            cpu = sum(r[2] for r in v) / hz
            cpu_s = "%.2f" % (cpu / gb)
        else:
            cpu_s = "-"
        print("%-7d %7s %12.0f %32s %8.2f %18s" % (p, path, med, each,
              med / raw, cpu_s))
for p in (1, 4):
    if ("wg", p) in runs:
        t = statistics.median(r[1] for r in runs[("tunnel", p)])
        w = statistics.median(r[1] for r in runs[("wg", p)])
        print("ratio ntmd tunnel / wireguard-go, %d stream(s): %.2f" % (p, t / w))
for p in (1, 4):
    if ("nebula", p) in runs:
        t = statistics.median(r[1] for r in runs[("tunnel", p)])
        n = statistics.median(r[1] for r in runs[("nebula", p)])
        print("ratio ntmd tunnel / nebula, %d stream(s): %.2f" % (p, t / n))
if ("nebula", 1) in runs:
    t = statistics.median(r[1] for r in runs[("tunnel", 1)])
    n = statistics.median(r[1] for r in runs[("nebula", 1)])
    print("goal: one stream through ntmd >= 4x Nebula: %s (%.2fx)" %
          ("met" if t >= 4 * n else "NOT met", t / n))
else:
    print("goal: one stream through ntmd >= 4x Nebula: not measured (nebula not installed)")
EOF
