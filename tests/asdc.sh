# asdc.sh -- sourced after tap.sh by the loopback tests of ntm-as and ntm-dc:
# a scratch directory, free ports, a CA with the AS's and the DCs'
# certificates, and the as.conf / dc1.zone / dc.conf they start from.
#
# asdc_begin TAG BINARY...   skip all unless each BINARY is built; make $T,
#                            remove it on exit (unless KEEP or NTM_KEEP is
#                            set), cd there; pick AS_PORT DNS_PORT SIG_PORT
#                            TLS_PORT OCSP_PORT.  A test that starts more
#                            sets ASDC_AT_EXIT to a command run first on exit
# asdc_ca [dc2]              ca/ (root, AS intermediate), as1 and dc1 (and
#                            dc2) certificates, each with NAME.chain
# asdc_ca_init               ca/ alone
# asdc_issue OUT ARGS...     ntmctl ca issue ARGS into OUT.pem, OUT.key and
#                            OUT.chain (with the AS intermediate)
# asdc_as_conf AS_EXTRA DC1_EXTRA   as.conf; lines added to [as] / [dc.dc1]
#                            (dc1 at TLS_PORT, its signalling at SIG_PORT)
# asdc_as_head AS_EXTRA [LIMITS]  as.conf with its [as] section alone;
#                            LIMITS replace account_burst and source_burst
#                            (1000 each), then
# asdc_as_dc N ADDRESS [EXTRA]  one [dc.dcN] after it: zone dcN.ntm.test at
#                            ADDRESS, prefixes 198.18.N.0/24 and
#                            fd6e:746d:6f62:N::/64, EXTRA lines
# asdc_zone NS1_ADDRESS [SOA]  dc1.zone (SOA, NS, the name server's A); SOA
#                            is its serial and timers
# asdc_dc_conf [SIGNAL_EXTRA]  dc.conf: [dns] [database] [signal] [tls]; a
#                            test appends its other sections (cat >> dc.conf)
# asdc_dc_dns [LISTEN]       dc.conf with [dns] (at LISTEN, default
#                            127.0.0.1:DNS_PORT) and [database] alone, then
# asdc_dc_signal LISTEN [EXTRA]  appends [signal]
# asdc_dc_tls                appends [tls] at 127.0.0.1:TLS_PORT, as dc1
# The daemons' pids go in ASPID and DCPID (a list for several DCs); stop
# PID [SIGNAL] ends one.

asdc_begin() {
	asdc_tag=$1
	shift
	for b in "$@"; do
		[ -x "$b" ] || tap_skip_all "build $b first"
	done
	T=$(mktemp -d "${TMPDIR:-/tmp}/ntm-$asdc_tag.XXXXXX")
	ASPID= DCPID=
	trap asdc_cleanup EXIT INT TERM
	cd "$T" || exit 1
	AS_PORT=$(tap_free_port)
	DNS_PORT=$(tap_free_port)
	SIG_PORT=$(tap_free_port)
	TLS_PORT=$(tap_free_port)
	OCSP_PORT=$(tap_free_port)
}

stop() { [ -n "$1" ] && kill ${2:+-$2} "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

asdc_cleanup() {
	[ -z "${ASDC_AT_EXIT:-}" ] || $ASDC_AT_EXIT
	for p in $ASPID $DCPID; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}${NTM_KEEP:-}" ] || rm -rf "$T"
}

asdc_ca_init() {
	$NTMCTL ca init --dir ca --domain ntm.test --vrange4 198.18.0.0/15 \
		--vrange6 fd6e:746d:6f62::/48 >/dev/null || exit 1
}

asdc_issue() {
	asdc_out=$1
	shift
	$NTMCTL ca issue --dir ca "$@" --out "$asdc_out" >/dev/null &&
	cat "$asdc_out.pem" ca/as.pem > "$asdc_out.chain" || exit 1
}

asdc_ca() {
	asdc_ca_init
	asdc_issue as1 --role as --name as.ntm.test
	asdc_issue dc1 --role dc --name ns1.dc1.ntm.test --zone dc1.ntm.test
	[ "${1:-}" = dc2 ] || return 0
	asdc_issue dc2 --role dc --name ns1.dc2.ntm.test --zone dc2.ntm.test
}

asdc_as_conf() {
	asdc_as_head "${1:-}"
	asdc_as_dc 1 "127.0.0.1:$TLS_PORT" "signalling = 127.0.0.1:$SIG_PORT
${2:-}"
}

asdc_as_head() {
	cat > as.conf <<EOF
[as]
listen = 127.0.0.1:$AS_PORT
database = $T/as.db
trust = $T/ca/root.pem
ca_cert = $T/ca/as.pem
ca_key = $T/ca/as.key
tls_cert = $T/as1.chain
tls_key = $T/as1.key
control = $T/as.sock
argon2_passes = 1
argon2_memory_kib = 1024
${2:-account_burst = 1000
source_burst = 1000}
$1
EOF
}

asdc_as_dc() {
	cat >> as.conf <<EOF

[dc.dc$1]
zone = dc$1.ntm.test
address = $2
prefix4 = 198.18.$1.0/24
prefix6 = fd6e:746d:6f62:$1::/64
${3:-}
EOF
}

asdc_zone() {
	cat > dc1.zone <<EOF
\$ORIGIN dc1.ntm.test.
\$TTL 3600
@	IN SOA ns1 hostmaster ${2:-2026010100 7200 900 1209600 300}
	IN NS ns1
ns1	IN A $1
EOF
}

asdc_dc_conf() {
	asdc_dc_dns
	asdc_dc_signal "127.0.0.1:$SIG_PORT" "${1:-}"
	asdc_dc_tls
}

asdc_dc_dns() {
	cat > dc.conf <<EOF
[dns]
zone = dc1.ntm.test
zone_file = $T/dc1.zone
listen = ${1:-127.0.0.1:$DNS_PORT}
prefix4 = 198.18.1.0/24
prefix6 = fd6e:746d:6f62:1::/64

[database]
path = $T/dc.db
EOF
}

asdc_dc_signal() {
	cat >> dc.conf <<EOF

[signal]
listen = $1
${2:-}
EOF
}

asdc_dc_tls() {
	cat >> dc.conf <<EOF

[tls]
listen = 127.0.0.1:$TLS_PORT
trust = $T/ca/root.pem
cert = $T/dc1.chain
key = $T/dc1.key
EOF
}
