#!/bin/sh
# bench_nss.sh -- ordinary lookups (names outside the NTMobile zones) with `ntm` in nsswitch.conf against without it, ntmd running and stopped.
#
# usage: bench/bench_nss.sh [-b builddir] [-n lookups per name and block] [-r blocks]
#
# What a user adding `ntm` to hosts: expects (issue 5, DESIGN.md 7): a
# lookup that is not for an NTMobile name costs what it cost before,
# whether ntmd runs or not.  In the lab's alice namespace (her own
# /etc/netns nsswitch.conf, resolv.conf pointing at the lab's unbound, and
# /etc/ntmobile/nss.conf naming the zones dc1.ntm.test and dc2.ntm.test):
#   localhost          in /etc/hosts: `files` answers before ntm is asked
#                      (the control: its ratio is the method's own spread)
#   as.ntm.test        in DNS (the lab's parent zone, cached by unbound)
#   nothere.ntm.test   not in DNS: NXDOMAIN
#   www.example.org    a name the lab's resolver refuses (no Internet here)
#   198.51.100.3       an address outside the virtual ranges, getnameinfo
#                      with NI_NAMEREQD (REFUSED by the resolver)
# bench/bench_lookup times getaddrinfo(AF_UNSPEC) / getnameinfo (in ns) in one
# process per block (the first lookup of each name untimed: it loads the
# modules; its median across blocks is printed apart).  Two variants of
# alice's nsswitch.conf, bind-mounted over hers for the block's process:
#   without   hosts: files dns
#   with ntm  hosts: files ntm [NOTFOUND=return] dns   (the lab's own line)
# Phase 1, ntmd running: -r blocks of each, alternating (without, with;
# then with, without; ...).  Phase 2, alice's ntmd stopped (SIGTERM, the
# control socket gone): the same again.  Each phase prints p50 and p99 per
# name and variant over all its samples and the ratio with / without of
# the p50s; the goal line asks for every ratio to be at most 1.05.
# Needs root; brings up its own lab and removes it.
set -u

builddir=.
n=200
blocks=10
while getopts b:n:r: o; do
	case $o in
	b) builddir=$OPTARG ;;
	n) n=$OPTARG ;;
	r) blocks=$OPTARG ;;
	*) echo "usage: $0 [-b builddir] [-n lookups per name and block] [-r blocks]" >&2
	   exit 2 ;;
	esac
done
command -v unshare >/dev/null || { echo "$0: needs unshare (util-linux)" >&2; exit 2; }
. "$(dirname "$0")/benchlab.sh"
bench_lab_init bl "$builddir" as/ntm-as dc/ntm-dc node/ntmd tools/ntmctl \
    bench/bench_lookup plugins/.libs/libnss_ntm.so.2
LOOKUP=$builddir/bench/bench_lookup
ARGS="localhost as.ntm.test nothere.ntm.test www.example.org 198.51.100.3"

echo "bench_nss: $blocks blocks of $n lookups per name and variant, ntmd running and stopped," \
    "tree $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
    "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$LABCMD" up --name "$L" >"$T/up.log" 2>&1 || { cat "$T/up.log" >&2; exit 1; }

# The two nsswitch.conf variants, from the one ntm-lab wrote for alice.
labns=/etc/netns/ntm-$L-alice/nsswitch.conf
grep -q '^hosts:[[:space:]]*files ntm \[NOTFOUND=return\] dns$' "$labns" ||
    { echo "$0: $labns has not the documented hosts: line" >&2; exit 1; }
cp "$labns" "$T/nss-with"
sed 's/^hosts:.*/hosts:\t\tfiles dns/' "$labns" >"$T/nss-without"

# block VARIANT PHASE: one bench_lookup process in alice's namespace with
# VARIANT's nsswitch.conf; samples appended to $T/PHASE-VARIANT.
block() {
	"$LABCMD" exec --name "$L" alice -- unshare -m sh -c \
	    'mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"' sh \
	    "$T/nss-$1" "$LOOKUP" -n "$n" $ARGS >"$T/out" 2>"$T/err" ||
	    { echo "$0: bench_lookup failed ($1, $2):" >&2; cat "$T/err" >&2; exit 1; }
	grep '^sample ' "$T/out" >>"$T/$2-$1"
	grep '^lookup ' "$T/out" >>"$T/$2-$1.first"
}

# phase NAME: -r alternating pairs of blocks.
phase() {
	i=0
	while [ "$i" -lt "$blocks" ]; do
		if [ $((i % 2)) = 0 ]; then
			block without "$1"; block with "$1"
		else
			block with "$1"; block without "$1"
		fi
		i=$((i + 1))
	done
}

# pct FILE ARG P: the P-th percentile (0-100) of ARG's samples in FILE, in
# microseconds with one decimal (bench_lookup times in nanoseconds).
pct() {
	awk -v a="$2" '$2 == a { print $3 }' "$1" | sort -n |
	    awk -v p="$3" '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		i = int(NR * p / 100 + 0.5); if (i < 1) i = 1; if (i > NR) i = NR
		printf "%.1f\n", v[i] / 1000 }'
}
# firstmed FILE ARG: median first-lookup time of ARG across the blocks (us).
firstmed() {
	awk -v a="$2" '$2 == a { print $4 }' "$1" | sort -n |
	    awk '{ v[NR] = $1 } END { if (NR) printf "%.1f\n", v[int((NR + 1) / 2)] / 1000; else print "-" }'
}
# report PHASE: the table and the ratios of one phase.
report() {
	printf '%-18s %-9s %8s %8s %9s  %s\n' name variant "p50 us" "p99 us" \
	    "first us" "result (mismatches)"
	ratios=
	worst=0
	for a in $ARGS; do
		for v in without with; do
			res=$(awk -v a="$a" '$2 == a { $1 = $2 = $3 = $4 = ""; print; exit }' \
			    "$T/$1-$v.first" | sed 's/^ *result //; s/ mismatches / (/; s/$/)/')
			mm=$(awk -v a="$a" '$2 == a { m += $NF } END { print m + 0 }' "$T/$1-$v.first")
			eval "p50_$v=\$(pct \"\$T/\$1-\$v\" \"\$a\" 50)"
			eval "p=\$p50_$v"
			printf '%-18s %-9s %8s %8s %9s  %s\n' "$a" "$v" "$p" \
			    "$(pct "$T/$1-$v" "$a" 99)" "$(firstmed "$T/$1-$v.first" "$a")" "$res"
			[ "$mm" = 0 ] || echo "  $mm of $a's lookups ($v) ended unlike the first" >&2
		done
		r=$(awk -v x="$p50_with" -v y="$p50_without" 'BEGIN { printf "%.3f", x / y }')
		ratios="$ratios
ratio with / without ntm, $1, $a: p50 $r"
		worst=$(awk -v r="$r" -v w="$worst" 'BEGIN { print (r > w) ? r : w }')
	done
	echo "${ratios#?}"
	if awk -v w="$worst" 'BEGIN { exit !(w <= 1.05) }'; then
		echo "goal ntmd $1: every p50 with ntm within 5% of without (worst $worst): met"
	else
		echo "goal ntmd $1: every p50 with ntm within 5% of without (worst $worst): NOT met"
	fi
}

# Warm the resolver's cache and check the module is in the path at all:
# an NTMobile name resolves through it with ntmd running.
"$LABCMD" exec --name "$L" alice -- getent hosts as.ntm.test >/dev/null ||
    { echo "$0: as.ntm.test does not resolve in the lab" >&2; exit 1; }
"$LABCMD" exec --name "$L" alice -- getent hosts dave.dc1.ntm.test >/dev/null ||
    { echo "$0: dave.dc1.ntm.test does not resolve through ntm" >&2; exit 1; }

phase running
echo "ntmd running (alice's ntmd, pid $(cut -d' ' -f1 "$S/alice/ntmd.pid")):"
report running

apid=$(cut -d' ' -f1 "$S/alice/ntmd.pid")
kill "$apid"
i=0
while kill -0 "$apid" 2>/dev/null && [ "$i" -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -0 "$apid" 2>/dev/null && { echo "$0: alice's ntmd did not stop" >&2; exit 1; }
"$NTMCTL" status -s "$S/alice/ntmd.sock" >/dev/null 2>&1 &&
    { echo "$0: alice's control socket still answers" >&2; exit 1; }
phase stopped
echo "ntmd stopped (SIGTERM; ntmctl status fails):"
report stopped
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
