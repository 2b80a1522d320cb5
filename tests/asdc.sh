# asdc.sh -- sourced after tap.sh by the loopback tests of ntm-as and ntm-dc:
# a scratch directory, free ports, a CA with the AS's and the DCs'
# certificates, and the as.conf / dc1.zone / dc.conf they start from.
#
# asdc_begin TAG BINARY...   skip all unless each BINARY is built; make $T,
#                            remove it on exit (unless KEEP is set), cd there;
#                            pick AS_PORT DNS_PORT SIG_PORT TLS_PORT OCSP_PORT
# asdc_ca [dc2]              ca/ (root, AS intermediate), as1 and dc1 (and
#                            dc2) certificates, each with NAME.chain
# asdc_as_conf AS_EXTRA DC1_EXTRA   as.conf; lines added to [as] / [dc.dc1]
#                            (dc1 at TLS_PORT, its signalling at SIG_PORT)
# asdc_as_head AS_EXTRA      as.conf with its [as] section alone, then
# asdc_as_dc N ADDRESS [EXTRA]  one [dc.dcN] after it: zone dcN.ntm.test at
#                            ADDRESS, prefixes 198.18.N.0/24 and
#                            fd6e:746d:6f62:N::/64, EXTRA lines
# asdc_zone NS1_ADDRESS      dc1.zone (SOA, NS, the name server's A)
# asdc_dc_conf [SIGNAL_EXTRA]  dc.conf: [dns] [database] [signal] [tls]; a
#                            test appends its other sections (cat >> dc.conf)
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
	for p in $ASPID $DCPID; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}

asdc_ca() {
	$NTMCTL ca init --dir ca --domain ntm.test --vrange4 198.18.0.0/15 \
		--vrange6 fd6e:746d:6f62::/48 >/dev/null || exit 1
	$NTMCTL ca issue --dir ca --role as --name as.ntm.test \
		--out as1 >/dev/null &&
	$NTMCTL ca issue --dir ca --role dc --name ns1.dc1.ntm.test \
		--zone dc1.ntm.test --out dc1 >/dev/null || exit 1
	for c in as1 dc1; do cat $c.pem ca/as.pem > $c.chain; done
	[ "${1:-}" = dc2 ] || return 0
	$NTMCTL ca issue --dir ca --role dc --name ns1.dc2.ntm.test \
		--zone dc2.ntm.test --out dc2 >/dev/null || exit 1
	cat dc2.pem ca/as.pem > dc2.chain
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
account_burst = 1000
source_burst = 1000
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
@	IN SOA ns1 hostmaster 2026010100 7200 900 1209600 300
	IN NS ns1
ns1	IN A $1
EOF
}

asdc_dc_conf() {
	cat > dc.conf <<EOF
[dns]
zone = dc1.ntm.test
zone_file = $T/dc1.zone
listen = 127.0.0.1:$DNS_PORT
prefix4 = 198.18.1.0/24
prefix6 = fd6e:746d:6f62:1::/64

[database]
path = $T/dc.db

[signal]
listen = 127.0.0.1:$SIG_PORT
${1:-}

[tls]
listen = 127.0.0.1:$TLS_PORT
trust = $T/ca/root.pem
cert = $T/dc1.chain
key = $T/dc1.key
EOF
}
