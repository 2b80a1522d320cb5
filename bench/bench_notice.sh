#!/bin/sh
# bench_notice.sh -- AS -> DC notice latency in the lab: enrollments and revocations of N nodes.
#
#   alice (asnode) --enroll 4612--> as (ntm-as) --NOTICE_* TLS 4611--> dc1 (ntm-dc)
#
# usage: bench/bench_notice.sh [-b builddir] [-n nodes]
#
# Accounts of 5 names each, n1..nN.dc1.ntm.test; tests/as/asnode (built
# here if missing) enrolls them one after the other, from the namespaces of
# alice, dave, bob and carol in turn (so N <= 80 stays within the AS's
# rate limits), then ntmctl revokes them one after the other.  What is timed:
#   issued:  from ntm-as's "enroll: issued FQDN serial S" line, logged right
#            after the certificate, its status and the outbox row are
#            committed (as/enroll.c), to ntm-dc's "notice N: notice-issued
#            FQDN serial S" line, logged once the DC stored it (dc/notice.c);
#   revoked: from the start of the ntmctl revoke call (the AS commits in a
#            worker, then wakes its notice links) to ntm-dc's "notice N:
#            notice-revoked FQDN" line; this includes ntmctl's own start and
#            the commit, so it is an upper bound; also from ntmctl's
#            return (after the commit; negative when the DC was first).
# Both daemons log time of day to the millisecond from the same clock.
# Baseline in the same run: the ping round trip as -> dc1 (20 echoes).
# Needs root; brings up its own lab and removes it.
set -u

builddir=.
n=60
while getopts b:n: o; do
	case $o in
	b) builddir=$OPTARG ;;
	n) n=$OPTARG ;;
	*) echo "usage: $0 [-b builddir] [-n nodes]" >&2; exit 2 ;;
	esac
done
. "$(dirname "$0")/benchlab.sh"
bench_lab_init bn "$builddir"
[ -x "$builddir/tests/as/asnode" ] || make -s -C "$builddir" tests/as/asnode >/dev/null ||
    { echo "$0: cannot build tests/as/asnode" >&2; exit 2; }
[ "$n" -ge 1 ] && [ "$n" -le 80 ] || { echo "$0: -n 1..80 (the AS's rate limits)" >&2; exit 2; }

ASNODE=$builddir/tests/as/asnode

dc_has() {
	grep -q "notice [0-9]*: $1 $2 " "$S/dc1/ntm-dc.log"
}

"$LABCMD" up --name "$L" >"$T/up.log" 2>&1 || { cat "$T/up.log" >&2; exit 1; }
grep -q "notice: AS .* connected" "$S/dc1/ntm-dc.log" ||
    wait_for 10 grep -q "notice: AS .* connected" "$S/dc1/ntm-dc.log" ||
    { echo "$0: dc1 has no notice link from the AS" >&2; exit 1; }

# acct I: the account of node I; the AS allows 5 enrollment attempts per
# account and 20 per source address at once (ntm-as.conf(5) defaults).
acct() {
	echo "bench$(( ($1 - 1) / 5 ))"
}
echo "bench secret $$" >"$T/password"
chmod 600 "$T/password"
fqdns=
i=1
while [ "$i" -le "$n" ]; do
	fqdns="$fqdns --fqdn n$i.dc1.ntm.test"
	if [ $((i % 5)) = 0 ] || [ "$i" = "$n" ]; then
		"$NTMCTL" account add "$(acct "$i")" $fqdns --password-file \
		    "$T/password" --socket "$S/as/ntm-as.sock" >>"$T/account.log" 2>&1 ||
		    { cat "$T/account.log" >&2; exit 1; }
		fqdns=
	fi
	i=$((i + 1))
done

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench_notice: $n enrollments and $n revocations, tree $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null), $(nproc) CPUs, load $load0"

rtt=$("$LABCMD" exec --name "$L" as -- ping -c 20 -i 0.01 -q 198.51.100.5 2>/dev/null |
    sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')

i=1
while [ "$i" -le "$n" ]; do
	f=n$i.dc1.ntm.test
	set -- alice dave bob carol
	shift $((i % 4))
	"$LABCMD" exec --name "$L" "${1:-alice}" -- "$ASNODE" -a 198.51.100.4:4612 \
	    -t "$S/alice/root.pem" enroll "$(acct "$i")" "bench secret $$" "$f" \
	    "$T/n$i" >"$T/n$i.out" 2>&1 ||
	    { echo "$0: enrollment of $f failed:" >&2; cat "$T/n$i.out" >&2; exit 1; }
	wait_for 10 dc_has notice-issued "$f" ||
	    { echo "$0: dc1 never applied the issuance of $f" >&2; exit 1; }
	i=$((i + 1))
done
: >"$T/revoke.times"
i=1
while [ "$i" -le "$n" ]; do
	f=n$i.dc1.ntm.test
	t0=$(date +%s%N)
	"$NTMCTL" revoke "$f" --socket "$S/as/ntm-as.sock" >>"$T/revoke.log" 2>&1 ||
	    { echo "$0: ntmctl revoke $f failed" >&2; cat "$T/revoke.log" >&2; exit 1; }
	t1=$(date +%s%N)
	echo "$f $t0 $t1" >>"$T/revoke.times"
	wait_for 10 dc_has notice-revoked "$f" ||
	    { echo "$0: dc1 never applied the revocation of $f" >&2; exit 1; }
	i=$((i + 1))
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$S/as/ntm-as.log" "$S/dc1/ntm-dc.log" "$T/revoke.times" "$n" \
    "${rtt:-nan}" "$load1" <<'EOF'
import re, sys, time
aslog, dclog, rtimes, n, rtt, load1 = sys.argv[1:7]
n = int(n)
rtt = float(rtt)

def tod_ms(s):
    h, m, rest = s.split(":")
    return (int(h) * 3600 + int(m) * 60) * 1000 + float(rest) * 1000

issued_as, dc = {}, {}
for line in open(aslog):
    m = re.match(r"(\d\d:\d\d:\d\d\.\d+) .*enroll: issued (\S+) serial (\S+)", line)
    if m:
        issued_as[m.group(2)] = tod_ms(m.group(1))
for line in open(dclog):
    m = re.match(r"(\d\d:\d\d:\d\d\.\d+) .*notice \d+: (notice-[a-z-]+) (\S+)", line)
    if m:
        dc.setdefault((m.group(2), m.group(3)), tod_ms(m.group(1)))

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]

iss = [dc[("notice-issued", f)] - issued_as[f] for f in issued_as
       if f.startswith("n") and ("notice-issued", f) in dc]
rev, rev1, call = [], [], []
for line in open(rtimes):
    f, t0, t1 = line.split()
    # ns since the epoch -> ms since midnight, in the zone the logs use
    lt = time.localtime(int(t0) // 10**9)
    mid = (int(t0) // 10**9 - (lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec)) * 1000
    t0ms, t1ms = int(t0) / 1e6 - mid, int(t1) / 1e6 - mid
    if ("notice-revoked", f) in dc:
        rev.append(dc[("notice-revoked", f)] - t0ms)
        rev1.append(dc[("notice-revoked", f)] - t1ms)
    call.append(t1ms - t0ms)
print("baseline: ping as -> dc1, mean round trip %.3f ms (20 echoes)" % rtt)
print("load average after the run: %s" % load1)
print("%-38s %4s %8s %8s %8s %9s" % ("what", "n", "p50 ms", "p90 ms", "max ms", "p50/rtt"))
for name, v in (("issued: AS commit -> DC applied", iss),
                ("revoked: ntmctl call -> DC applied", rev),
                ("revoked: ntmctl return -> DC applied", rev1),
                ("(ntmctl revoke call itself)", call)):
    if not v:
        print("%-38s %4d  none measured" % (name, 0))
        continue
    print("%-38s %4d %8.1f %8.1f %8.1f %9.0f" % (name, len(v), pct(v, 50),
          pct(v, 90), max(v), pct(v, 50) / rtt if rtt == rtt else float("nan")))
for name, v in (("issued", iss), ("revoked", rev)):
    if v:
        print("goal p50 <= 50 ms, %s: %s (%.1f ms)" % (name,
              "met" if pct(v, 50) <= 50 else "NOT met", pct(v, 50)))
EOF
