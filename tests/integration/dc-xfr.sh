#!/bin/sh
# dc-xfr.sh -- NSD as a secondary of ntm-dc's zones: AXFR with TSIG, then a
# NOTIFY after a node change brings the new record to NSD.
#
#   ntm-dc -d  127.0.0.1:$DCPORT  ----AXFR+TSIG---->  nsd -d  127.0.0.1:$NSDPORT
#     zone dc1.ntm.test          <---SOA check/AXFR--   secondary of dc1.ntm.test
#     + 1.18.198.in-addr.arpa    -----NOTIFY+TSIG--->   and 1.18.198.in-addr.arpa
#     db: sqlite3 adds a node, SIGHUP
#
# NSD runs as root in the foreground without chroot, from its own config in
# a temporary directory; everything listens on loopback only.
set -u
. "$top_srcdir/tests/tap.sh"
command -v nsd >/dev/null 2>&1 || command -v /usr/sbin/nsd >/dev/null 2>&1 ||
	tap_skip_all "needs nsd (Debian package nsd)"
tap_need_root
tap_need_cmd dig sqlite3 python3
NSD=$(command -v nsd || echo /usr/sbin/nsd)

DC=$top_builddir/dc/ntm-dc
. "$top_srcdir/tests/asdc.sh"
asdc_begin dc-xfr "$DC"
NSDPID=
ASDC_AT_EXIT=nsd_stop
nsd_stop() { [ -z "$NSDPID" ] || kill "$NSDPID" 2>/dev/null; }

DCPORT=$DNS_PORT
NSDPORT=$(tap_free_port)
while [ "$NSDPORT" = "$DCPORT" ]; do NSDPORT=$(tap_free_port); done
KEY=eHhmci1rZXktZm9yLXRoZS1uc2Qtc2Vjb25kYXJ5LXRlc3Q=

# Serial 1 and a refresh of 60 s: a later serial can only come from NOTIFY.
asdc_zone 198.18.1.1 "1 60 30 1209600 300"
asdc_dc_dns
cat >> dc.conf <<EOF

[xfr]
allow = 127.0.0.1
key_name = xfr-key
key_algorithm = hmac-sha256
key_secret_file = $T/xfr.key
notify = 127.0.0.1:$NSDPORT
EOF
echo "$KEY" > "$T/xfr.key"
chmod 600 "$T/xfr.key"

cat > "$T/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1@$NSDPORT
	port: $NSDPORT
	username: ""
	chroot: ""
	zonesdir: "$T"
	database: ""
	pidfile: "$T/nsd.pid"
	xfrdfile: "$T/xfrd.state"
	zonelistfile: "$T/zone.list"
	xfrdir: "$T"
	logfile: "$T/nsd.log"
	verbosity: 2
	do-ip6: no
remote-control:
	control-enable: no
key:
	name: "xfr-key"
	algorithm: hmac-sha256
	secret: "$KEY"
zone:
	name: "dc1.ntm.test"
	zonefile: "$T/sec-dc1.zone"
	request-xfr: AXFR 127.0.0.1@$DCPORT xfr-key
	allow-notify: 127.0.0.1 xfr-key
zone:
	name: "1.18.198.in-addr.arpa"
	zonefile: "$T/sec-rev4.zone"
	request-xfr: AXFR 127.0.0.1@$DCPORT xfr-key
	allow-notify: 127.0.0.1 xfr-key
EOF

# ntm-dc first: it creates its database; alice is there before NSD starts.
"$DC" -d -f "$T/dc.conf" > "$T/dc.log" 2>&1 &
DCPID=$!
dc_up() { dig -p "$DCPORT" @127.0.0.1 dc1.ntm.test SOA +short | grep -q hostmaster; }
if wait_for 10 dc_up; then ok "ntm-dc answers on 127.0.0.1:$DCPORT"
else not_ok "ntm-dc answers on 127.0.0.1:$DCPORT" "$(cat "$T/dc.log")"; tap_done; exit 1; fi
sqlite3 "$T/dc.db" "INSERT INTO nodes VALUES ('alice.dc1.ntm.test', '198.18.1.10', 'fd6e:746d:6f62:1::10', 0)"
kill -HUP "$DCPID"
wait_for 5 grep -q "reloaded dc1.ntm.test: serial 2, 1 nodes" "$T/dc.log"

"$NSD" -d -c "$T/nsd.conf" > "$T/nsd.out" 2>&1 &
NSDPID=$!
N="dig -p $NSDPORT @127.0.0.1 +time=1 +tries=1"
nsd_alice() { [ "$($N alice.dc1.ntm.test A +short)" = 198.18.1.10 ]; }
if wait_for 20 nsd_alice; then ok "NSD received the zone by AXFR with TSIG and answers alice's A"
else not_ok "NSD received the zone by AXFR with TSIG and answers alice's A" \
    "$(cat "$T/nsd.log" "$T/nsd.out" 2>/dev/null; tail -20 "$T/dc.log")"; fi
check_eq "NSD serves the DC's serial" 2 "$($N dc1.ntm.test SOA +short | awk '{print $3}')"
nsd_ptr() { [ "$($N -x 198.18.1.10 +short)" = alice.dc1.ntm.test. ]; }
check "NSD also serves the reverse zone's PTR" wait_for 10 nsd_ptr
check "ntm-dc logged the transfers" grep -q "xfr dc1.ntm.test. serial 2 to 127.0.0.1" "$T/dc.log"

# A node change: database row, SIGHUP, serial 3, NOTIFY, NSD transfers again.
sqlite3 "$T/dc.db" "INSERT INTO nodes VALUES ('dave.dc1.ntm.test', '198.18.1.11', 'fd6e:746d:6f62:1::11', 0)"
kill -HUP "$DCPID"
nsd_dave() { [ "$($N dave.dc1.ntm.test A +short)" = 198.18.1.11 ]; }
if wait_for 20 nsd_dave; then ok "after a NOTIFY NSD answers the new node's A record"
else not_ok "after a NOTIFY NSD answers the new node's A record" \
    "$(cat "$T/nsd.log" 2>/dev/null; tail -20 "$T/dc.log")"; fi
check_eq "NSD has serial 3" 3 "$($N dc1.ntm.test SOA +short | awk '{print $3}')"
check "NSD acknowledged the NOTIFY" wait_for 5 grep -q "acknowledged zone" "$T/dc.log"
# The SOA refresh is 60 s, so only the NOTIFY can have brought serial 3 this soon.
case $(cat "$T/nsd.log" 2>/dev/null) in
*"notify"*|*"NOTIFY"*) ok "NSD's log shows the NOTIFY" ;;
*) not_ok "NSD's log shows the NOTIFY" "$(cat "$T/nsd.log" 2>/dev/null)" ;;
esac

kill "$NSDPID"
wait "$NSDPID" 2>/dev/null
NSDPID=""
kill "$DCPID"
wait "$DCPID"
check_eq "ntm-dc exits 0 on SIGTERM" 0 "$?"
DCPID=""
case $(grep "dns stats:" "$T/dc.log") in
*"xfr "[1-9]*"notify sent "[1-9]*"acked "[1-9]*) ok "the statistics count transfers and acknowledged NOTIFYs" ;;
*) not_ok "the statistics count transfers and acknowledged NOTIFYs" "$(grep "dns stats:" "$T/dc.log")" ;;
esac

tap_done
