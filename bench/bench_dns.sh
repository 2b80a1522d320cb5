#!/bin/sh
# bench_dns.sh -- dnsperf against ntm-dc and against NSD serving the same zone of 100 k nodes, each in its own network namespace on loopback; prints both rates and their ratio.
#
#   netns ntmb-PID-dc                    netns ntmb-PID-nsd
#   +--------------------------+         +--------------------------+
#   | lo 127.0.0.1             |         | lo 127.0.0.1             |
#   |   ntm-dc  :53 (RRL off)  |         |   nsd :53 (server-count  |
#   |   dnsperf -> 127.0.0.1   |         |   1, rrl-ratelimit 0)    |
#   +--------------------------+         |   dnsperf -> 127.0.0.1   |
#                                        +--------------------------+
#
# Both serve dc1.ntm.test: the same static records (SOA, NS, glue), and N
# nodes nNNNNNN.dc1.ntm.test with one A and one AAAA each, TTL 60 -- for
# ntm-dc as rows of its SQLite database (schema/dc.sql `nodes`), for NSD as
# lines of its zone file.  The query mix is 45 % A and 45 % AAAA of random
# nodes and 10 % names that do not exist (NXDOMAIN), over UDP and IPv4 for
# both.  The servers take turns, ROUNDS times, and the median of each is
# reported, so a noisy moment hurts both alike.  Beside the rate, each run
# reports the server's CPU time (user + system, from /proc; for NSD all of
# its processes) per answered query: on a machine shared with other work
# the rate follows whatever else runs, the CPU cost per query much less.
# It also reports how busy the server was, how often it slept (each sleep
# costs a wakeup when the next query comes, dear on a virtual machine),
# and dnsperf's own CPU per query: when the server is not busy all the
# time, they tell whether dnsperf or the wakeups held it back.
# Nothing leaves the two namespaces' loopback interfaces.
#
# Usage (root): bench/bench_dns.sh [-n nodes] [-l seconds] [-r rounds]
#                 [-b builddir] [-w file.md]
#   -n  nodes in the zone (default 100000)
#   -l  seconds per dnsperf run (default 10)
#   -r  rounds, each running both servers (default 3)
#   -b  build tree holding dc/ntm-dc (default: the current directory, or
#       $top_builddir)
#   -w  also write the result into this Markdown file, between the lines
#       "<!-- bench_dns begin -->" and "<!-- bench_dns end -->" (appended
#       when they are missing)
# Installs dnsperf with apt-get when it is missing.

set -eu

nodes=100000
secs=10
rounds=3
builddir=${top_builddir:-.}
writeto=

while getopts n:l:r:b:w: opt; do
	case $opt in
	n) nodes=$OPTARG ;;
	l) secs=$OPTARG ;;
	r) rounds=$OPTARG ;;
	b) builddir=$OPTARG ;;
	w) writeto=$OPTARG ;;
	*) echo "usage: $0 [-n nodes] [-l seconds] [-r rounds] [-b builddir] [-w file.md]" >&2
	   exit 2 ;;
	esac
done

die() { echo "bench_dns: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
dc_bin=$builddir/dc/ntm-dc
[ -x "$dc_bin" ] || die "$dc_bin not built (make in the build tree, or -b DIR)"
command -v nsd >/dev/null || die "nsd missing: apt-get install nsd"
command -v sqlite3 >/dev/null || die "sqlite3 missing: apt-get install sqlite3"
command -v dig >/dev/null || die "dig missing: apt-get install bind9-dnsutils"
if ! command -v dnsperf >/dev/null; then
	echo "bench_dns: installing dnsperf" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q dnsperf >/dev/null ||
	    die "cannot install dnsperf"
fi

# With two CPUs or more, each server runs on CPU 0 and dnsperf on CPU 1, so
# the two never take turns on one core differently for the two servers.
pin_srv=
pin_cli=
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	pin_srv="taskset -c 0"
	pin_cli="taskset -c 1"
fi

zone=dc1.ntm.test
ns_dc=ntmb-$$-dc
ns_nsd=ntmb-$$-nsd
work=$(mktemp -d /tmp/bench_dns.XXXXXX)
dc_pid=
nsd_pid=

cleanup() {
	[ -n "$dc_pid" ] && kill "$dc_pid" 2>/dev/null && wait "$dc_pid" 2>/dev/null
	# NSD daemonizes: its pid is in the pidfile, also when it failed later.
	[ -z "$nsd_pid" ] && [ -s "$work/nsd.pid" ] && nsd_pid=$(cat "$work/nsd.pid")
	if [ -n "$nsd_pid" ] && kill "$nsd_pid" 2>/dev/null; then
		# NSD writes its state files on the way out; wait for it.
		i=0
		while kill -0 "$nsd_pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	ip netns del "$ns_dc" 2>/dev/null || true
	ip netns del "$ns_nsd" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for ns in "$ns_dc" "$ns_nsd"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done

# Waits up to 120 s for NAME to answer in namespace NS.
wait_answer() {
	i=0
	while ! ip netns exec "$1" dig +time=1 +tries=1 +short @127.0.0.1 \
	    "$2" A 2>/dev/null | grep -q '^198\.'; do
		i=$((i + 1))
		[ $i -lt 240 ] || die "no answer for $2 in $1"
		sleep 0.5
	done
}

# ---- data: the same names for both servers ----
echo "bench_dns: $nodes nodes, queries, zone files" >&2
static="\$ORIGIN $zone.
\$TTL 3600
@	IN SOA ns1 hostmaster 1 7200 900 1209600 300
	IN NS ns1
ns1	IN A 198.18.0.1
ns1	IN AAAA fd6e:746d:6f62:1::1"
printf '%s\n' "$static" >"$work/dc.zone"
# Node i: 198.18.0.0 + 2 + i (inside 198.18.0.0/15, so the DC's prefix4 is
# the /8 around it: prefixes are /8, /16 or /24), fd6e:746d:6f62:1::/64.
awk -v n="$nodes" -v zone="$zone" -v sql="$work/nodes.sql" \
    -v zf="$work/nsd.zone" -v q="$work/queries" 'BEGIN {
	print "BEGIN;" > sql
	for (i = 0; i < n; i++) {
		a = i + 2
		v4 = sprintf("198.%d.%d.%d", 18 + int(a / 65536),
		    int(a / 256) % 256, a % 256)
		v6 = sprintf("fd6e:746d:6f62:1::%x:%x", int(a / 65536),
		    a % 65536)
		name = sprintf("n%07d", i)
		printf("INSERT INTO nodes VALUES (\x27%s.%s\x27, \x27%s\x27, " \
		    "\x27%s\x27, 1795000000);\n", name, zone, v4, v6) > sql
		printf("%s 60 IN A %s\n%s 60 IN AAAA %s\n", name, v4,
		    name, v6) > zf
	}
	print "COMMIT;" > sql
	srand(1)
	for (i = 0; i < 200000; i++) {
		r = rand()
		k = int(rand() * n)
		if (r < 0.10)
			printf("x%07d.%s A\n", k, zone) > q
		else if (r < 0.55)
			printf("n%07d.%s A\n", k, zone) > q
		else
			printf("n%07d.%s AAAA\n", k, zone) > q
	}
}'
{ printf '%s\n' "$static"; cat "$work/nsd.zone"; } >"$work/nsd.full"
mv "$work/nsd.full" "$work/nsd.zone"

# ---- ntm-dc: RRL off, nodes in its database ----
cat >"$work/dc.conf" <<EOF
[dns]
zone = $zone
zone_file = $work/dc.zone
listen = 127.0.0.1:53
prefix4 = 198.0.0.0/8
prefix6 = fd6e:746d:6f62:1::/64
node_ttl = 60

[database]
path = $work/dc.db

[rrl]
enabled = no
EOF
chmod 0600 "$work/dc.conf"

# The first start creates the database with its schema; then the nodes go in.
ip netns exec "$ns_dc" "$dc_bin" -d -f "$work/dc.conf" 2>"$work/dc.log" &
dc_pid=$!
i=0
until grep -q 'serving' "$work/dc.log"; do
	i=$((i + 1))
	if [ $i -ge 100 ] || ! kill -0 "$dc_pid" 2>/dev/null; then
		cat "$work/dc.log" >&2
		die "ntm-dc did not start"
	fi
	sleep 0.1
done
kill "$dc_pid"
wait "$dc_pid" 2>/dev/null || true
dc_pid=
sqlite3 "$work/dc.db" <"$work/nodes.sql"
# shellcheck disable=SC2086
ip netns exec "$ns_dc" $pin_srv "$dc_bin" -d -f "$work/dc.conf" \
    2>"$work/dc.log" &
dc_pid=$!
wait_answer "$ns_dc" "n0000000.$zone"
grep -q "($nodes nodes)" "$work/dc.log" ||
    { cat "$work/dc.log" >&2; die "ntm-dc did not load $nodes nodes"; }

# ---- NSD: one server process, no RRL, no privilege drop, all in $work ----
cat >"$work/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1
	port: 53
	do-ip4: yes
	do-ip6: no
	server-count: 1
	rrl-ratelimit: 0
	minimal-responses: yes
	username: ""
	chroot: ""
	zonesdir: "$work"
	zonelistfile: "$work/zone.list"
	database: ""
	xfrdfile: "$work/xfrd.state"
	xfrdir: "$work"
	pidfile: "$work/nsd.pid"
	logfile: "$work/nsd.log"
	verbosity: 0
	hide-version: yes
remote-control:
	control-enable: no
zone:
	name: $zone
	zonefile: "$work/nsd.zone"
EOF
nsd-checkconf "$work/nsd.conf" || die "nsd.conf refused"
# shellcheck disable=SC2086
ip netns exec "$ns_nsd" $pin_srv nsd -c "$work/nsd.conf"
wait_answer "$ns_nsd" "n0000000.$zone"
nsd_pid=$(cat "$work/nsd.pid")

# The same question gets the same answer from both (hence NSD's
# minimal-responses: ntm-dc sends no NS set with a positive answer), but
# for the SOA serial, which ntm-dc advances as nodes change.
answer() {
	# shellcheck disable=SC2086
	ip netns exec "$1" dig +norec +noall +answer +authority @127.0.0.1 $2 |
	    awk '$4 == "SOA" { $7 = "SERIAL" } { $1 = $1; print }' | sort
}
for qn in "n0000000.$zone A" "n$(printf %07d $((nodes - 1))).$zone AAAA" \
    "x0000001.$zone A"; do
	a=$(answer "$ns_dc" "$qn")
	b=$(answer "$ns_nsd" "$qn")
	[ "$a" = "$b" ] || die "answers differ for $qn:
ntm-dc: $a
nsd:    $b"
done

clk_tck=$(getconf CLK_TCK)

# CPU clock ticks (user + system) used so far by the given processes.
cpu_ticks() {
	for p in "$@"; do
		# Fields after the command name, which ends at the last ')'.
		sed 's/.*) //' "/proc/$p/stat" 2>/dev/null
	done | awk '{ t += $12 + $13 } END { print t + 0 }'
}

# The processes serving for $1: ntm-dc, or all of NSD's session (its
# pidfile names xfrd, which leads the session; main and the server run
# below it).
server_pids() {
	if [ "$1" = ntm-dc ]; then
		echo "$dc_pid"
	else
		ps -o pid= -s "$nsd_pid"
	fi
}

# Times a server's processes went to sleep (voluntary context switches).
sleeps() {
	for p in "$@"; do
		cat "/proc/$p/status" 2>/dev/null
	done | awk '/^voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}

# CPU seconds (user + system) of this shell's waited-for children when
# `times >FILE` ran here (not in a subshell, which has children of its own).
child_cpu() {
	awk 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) {
			split($i, a, "m")
			t += a[1] * 60 + a[2]
		}
		print t
	}' "$1"
}

# One dnsperf run; prints its queries per second and records, per answered
# query, the server's CPU microseconds in $work/$2.cpu, and beside them in
# $work/$2.diag how busy the server was (its CPU time over the run's),
# how often it went to sleep, and dnsperf's own CPU cost and busy share.
# The last three say who waited for whom: a server under 100 % busy while
# dnsperf is near it is held back by the client or by wakeups, not by its
# own work.
perf() {
	# shellcheck disable=SC2046
	t0=$(cpu_ticks $(server_pids "$2"))
	# shellcheck disable=SC2046
	s0=$(sleeps $(server_pids "$2"))
	times >"$work/times0"
	# shellcheck disable=SC2086
	ip netns exec "$1" $pin_cli dnsperf -s 127.0.0.1 -p 53 \
	    -d "$work/queries" \
	    -l "$secs" -c 8 -T 1 -q 256 >"$work/perf.out" 2>&1 ||
	    { cat "$work/perf.out" >&2; die "dnsperf failed in $1"; }
	times >"$work/times1"
	c0=$(child_cpu "$work/times0")
	c1=$(child_cpu "$work/times1")
	# shellcheck disable=SC2046
	t1=$(cpu_ticks $(server_pids "$2"))
	# shellcheck disable=SC2046
	s1=$(sleeps $(server_pids "$2"))
	done_q=$(awk '/Queries completed:/ { print $3 }' "$work/perf.out")
	run_s=$(awk '/Run time \(s\):/ { print $4 }' "$work/perf.out")
	cpu=$(awk -v t="$((t1 - t0))" -v hz="$clk_tck" -v n="$done_q" \
	    'BEGIN { printf("%.2f\n", n > 0 ? t / hz * 1e6 / n : 0) }')
	echo "$cpu" >>"$work/$2.cpu"
	diag=$(awk -v t="$((t1 - t0))" -v hz="$clk_tck" -v n="$done_q" \
	    -v s="$((s1 - s0))" -v c0="$c0" -v c1="$c1" -v r="$run_s" \
	    'BEGIN {
		if (n <= 0 || r <= 0) { print "0 0 0 0"; exit }
		printf("%.0f %.1f %.2f %.0f\n", t / hz / r * 100,
		    s * 1000 / n, (c1 - c0) * 1e6 / n, (c1 - c0) / r * 100)
	}')
	echo "$diag" >>"$work/$2.diag"
	lost=$(awk '/Queries lost:/ { print $3 }' "$work/perf.out")
	codes=$(sed -n 's/^ *Response codes: *//p' "$work/perf.out")
	echo "$lost" >>"$work/$2.lost"
	sed -n 's/^Version //p' "$work/perf.out" >"$work/perf.version"
	qps=$(awk '/Queries per second:/ { printf("%.0f\n", $4) }' \
	    "$work/perf.out")
	echo "$diag" | {
		read -r busy slp ccpu cbusy
		echo "  $2: $qps qps, $cpu CPU us/query (busy $busy %," \
		    "$slp sleeps per 1000 queries); dnsperf $ccpu us/query" \
		    "(busy $cbusy %); lost $lost, $codes" >&2
	}
	echo "$qps"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$work/ntm-dc.lost"
: >"$work/nsd.lost"
: >"$work/ntm-dc.cpu"
: >"$work/nsd.cpu"
: >"$work/ntm-dc.diag"
: >"$work/nsd.diag"
: >"$work/dc.qps"
: >"$work/nsd.qps"
r=1
while [ $r -le "$rounds" ]; do
	echo "bench_dns: round $r of $rounds" >&2
	perf "$ns_dc" ntm-dc >>"$work/dc.qps"
	perf "$ns_nsd" nsd >>"$work/nsd.qps"
	r=$((r + 1))
done
dc_q=$(median <"$work/dc.qps")
nsd_q=$(median <"$work/nsd.qps")
ratio=$(awk -v a="$dc_q" -v b="$nsd_q" 'BEGIN { printf("%.2f", a / b) }')
dc_cpu=$(median <"$work/ntm-dc.cpu")
nsd_cpu=$(median <"$work/nsd.cpu")
# Above 1: ntm-dc spends less CPU per answer than NSD.
cpu_ratio=$(awk -v a="$dc_cpu" -v b="$nsd_cpu" \
    'BEGIN { printf("%.2f", a > 0 ? b / a : 0) }')
perf_version=$(cat "$work/perf.version")
# Medians of the diagnostics: server busy %, server sleeps per 1000
# queries, dnsperf CPU us per query, dnsperf busy %.
diag_median() {
	for col in 1 2 3 4; do
		cut -d' ' -f"$col" "$1" | median
	done | tr '\n' ' ' | sed 's/ $//'
}
# shellcheck disable=SC2046
set -- $(diag_median "$work/ntm-dc.diag")
dc_busy=$1 dc_slp=$2 dc_ccpu=$3 dc_cbusy=$4
# shellcheck disable=SC2046
set -- $(diag_median "$work/nsd.diag")
nsd_busy=$1 nsd_slp=$2 nsd_ccpu=$3 nsd_cbusy=$4
goal=$(awk -v r="$ratio" 'BEGIN { print (r >= 1.0) ? "met" : "NOT met" }')

result="| server | queries/s (median of $rounds) | runs | queries lost per run | CPU us per query (median) | runs | server busy % | server sleeps per 1000 queries | dnsperf CPU us per query | dnsperf busy % |
|---|---|---|---|---|---|---|---|---|---|
| ntm-dc (tree at $(cd "$builddir" && git rev-parse --short HEAD 2>/dev/null || echo '?'), RRL off) | $dc_q | $(tr '\n' ' ' <"$work/dc.qps") | $(tr '\n' ' ' <"$work/ntm-dc.lost") | $dc_cpu | $(tr '\n' ' ' <"$work/ntm-dc.cpu") | $dc_busy | $dc_slp | $dc_ccpu | $dc_cbusy |
| NSD $(nsd -v 2>&1 | sed -n 's/^NSD version //p') (server-count 1, rrl-ratelimit 0) | $nsd_q | $(tr '\n' ' ' <"$work/nsd.qps") | $(tr '\n' ' ' <"$work/nsd.lost") | $nsd_cpu | $(tr '\n' ' ' <"$work/nsd.cpu") | $nsd_busy | $nsd_slp | $nsd_ccpu | $nsd_cbusy |

ratio ntm-dc / NSD = **$ratio** (goal >= 1.0: $goal); CPU per query NSD /
ntm-dc = $cpu_ratio (above 1: ntm-dc cheaper); $nodes nodes, A 45 % /
AAAA 45 % / NXDOMAIN 10 %, UDP over IPv4 loopback, dnsperf $perf_version \`-c 8 -T 1 -q 256
-l $secs\`, $(nproc) CPUs${pin_srv:+ (server on CPU 0, dnsperf on CPU 1)},
load average before the run $load0, $(date -u +%Y-%m-%d).  Medians
of the last four columns: the server's CPU time over the run's, its
voluntary sleeps, and dnsperf's own CPU (both of its threads)."

echo
echo "ntm-dc: $dc_q queries/s"
echo "nsd:    $nsd_q queries/s"
echo "ratio ntm-dc/nsd: $ratio (goal >= 1.0: $goal)"
echo "CPU us/query: ntm-dc $dc_cpu, nsd $nsd_cpu (nsd/ntm-dc $cpu_ratio)"
echo "server busy %: ntm-dc $dc_busy, nsd $nsd_busy; sleeps/1000 queries:" \
    "ntm-dc $dc_slp, nsd $nsd_slp"
echo "dnsperf CPU us/query: with ntm-dc $dc_ccpu, with nsd $nsd_ccpu;" \
    "dnsperf busy %: $dc_cbusy, $nsd_cbusy"
echo
printf '%s\n' "$result"

if [ -n "$writeto" ]; then
	if grep -q '^<!-- bench_dns begin -->$' "$writeto" 2>/dev/null; then
		RES=$result awk '
		/^<!-- bench_dns begin -->$/ {
			print; print ENVIRON["RES"]; skip = 1; next
		}
		/^<!-- bench_dns end -->$/ { skip = 0 }
		!skip { print }' "$writeto" >"$work/md"
		cat "$work/md" >"$writeto"
	else
		printf '\n<!-- bench_dns begin -->\n%s\n<!-- bench_dns end -->\n' \
		    "$result" >>"$writeto"
	fi
	echo "bench_dns: result written to $writeto" >&2
fi
