#!/bin/sh
# pki.sh -- ntmctl ca end to end, checked by openssl and certtool.
#
#   ca init ──> root.pem ─┬─> as.pem (AS CA, constrained: ntm.test, vranges)
#                         └─> chain.pem
#   ca issue ─> dc1, rs1, as1, alice (P-256), bob (RSA-2048), carol (CSR)
#   ca revoke bob ─> ca crl ─> crl.pem
#   ca ocsp ─> good.der (alice), rev.der (bob)
#
# No root needed; everything happens in a mktemp directory.
. "$top_srcdir/tests/tap.sh"
tap_need_cmd openssl certtool

NTMCTL=$top_builddir/tools/ntmctl
ROLE_ARC=1.2.840.113556.1.8000.2554.46976.16797.77899.15046985.9586841.8474246.1
T=$(mktemp -d "${TMPDIR:-/tmp}/ntm-pki.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
cd "$T" || exit 1

# contains DESCRIPTION NEEDLE HAYSTACK
contains() {
	case "$3" in
	*"$2"*) ok "$1" ;;
	*) not_ok "$1" "missing: $2
in: $3" ;;
	esac
}

check "ca init creates root and AS CA" $NTMCTL ca init --dir ca \
	--domain ntm.test --vrange4 198.18.0.0/15 \
	--vrange6 fd6e:746d:6f62::/48 --permit-ip 192.0.2.0/24
check_eq "root key written 0600" 600 "$(stat -c %a ca/root.key)"
check_eq "AS key written 0600" 600 "$(stat -c %a ca/as.key)"
out=$($NTMCTL ca init --dir ca --domain ntm.test --vrange4 198.18.0.0/15 \
	--vrange6 fd6e:746d:6f62::/48 2>&1)
check_eq "second init refused (exit 1)" 1 "$?"
contains "second init says why" "already initialised" "$out"

check "issue dc certificate" $NTMCTL ca issue --dir ca --role dc \
	--name ns1.dc1.ntm.test --zone dc1.ntm.test \
	--reverse 198.18.1.0/24 --reverse fd6e:746d:6f62:1::/64 --out dc1
check "issue rs certificate with its address" $NTMCTL ca issue --dir ca \
	--role rs --name rs1.ntm.test --ip 192.0.2.5 --out rs1
check "issue as certificate" $NTMCTL ca issue --dir ca --role as \
	--name as.ntm.test --out as1
check "issue ECDSA node certificate" $NTMCTL ca issue --dir ca --role node \
	--fqdn alice.dc1.ntm.test --vip4 198.18.1.10 \
	--vip6 fd6e:746d:6f62:1::10 --out alice
check "issue RSA-2048 node certificate" $NTMCTL ca issue --dir ca \
	--role node --fqdn bob.dc2.ntm.test --vip4 198.18.2.10 \
	--vip6 fd6e:746d:6f62:2::10 --key rsa2048 --out bob
check_eq "node key written 0600" 600 "$(stat -c %a alice.key)"

for c in dc1 rs1 as1 alice bob; do
	check_eq "openssl verify accepts $c" "$c.pem: OK" "$(openssl verify \
	    -CAfile ca/root.pem -untrusted ca/as.pem $c.pem 2>&1)"
done
for c in dc1 alice bob; do
	out=$(cat $c.pem ca/as.pem ca/root.pem | certtool --verify-chain 2>&1)
	contains "certtool --verify-chain accepts $c" \
	    "Chain verification output: Verified" "$out"
done

text=$(openssl x509 -in alice.pem -noout -text)
contains "node SAN has the FQDN" "DNS:alice.dc1.ntm.test" "$text"
contains "node SAN has the IPv4 vIP" "IP Address:198.18.1.10" "$text"
contains "node SAN has the IPv6 vIP" \
	"IP Address:FD6E:746D:6F62:1:0:0:0:10" "$text"
contains "node EKU is ntm-node" "$ROLE_ARC.1" "$text"
contains "node is not a CA" "CA:FALSE" "$text"
contains "node has a subject key id" "Subject Key Identifier" "$text"
serial=$(openssl x509 -in alice.pem -noout -serial | cut -d= -f2)
check_eq "serial is 16 bytes" 32 "${#serial}"
text=$(openssl x509 -in dc1.pem -noout -text)
contains "dc SAN lists its zone" "DNS:dc1.ntm.test" "$text"
contains "dc SAN lists its IPv4 reverse zone" \
	"DNS:1.18.198.in-addr.arpa" "$text"
contains "dc SAN lists its IPv6 reverse zone" \
	"DNS:1.0.0.0.2.6.f.6.d.6.4.7.e.6.d.f.ip6.arpa" "$text"
contains "dc EKU is ntm-dc" "$ROLE_ARC.2" "$text"
contains "rs EKU is ntm-rs" "$ROLE_ARC.3" \
	"$(openssl x509 -in rs1.pem -noout -text)"
contains "as EKU is ntm-as" "$ROLE_ARC.4" \
	"$(openssl x509 -in as1.pem -noout -text)"
text=$(openssl x509 -in ca/as.pem -noout -text)
contains "AS CA is constrained to the domain" "DNS:ntm.test" "$text"
contains "AS CA is constrained to the IPv4 range" \
	"IP:198.18.0.0/255.254.0.0" "$text"

out=$($NTMCTL ca issue --dir ca --role node --fqdn eve.example.org \
	--vip4 198.18.1.66 --out eve 2>&1)
check_eq "name outside the domain refused (exit 1)" 1 "$?"
contains "outside-domain refusal names the constraint" "constraints" "$out"
check_fails "no key left behind after a refusal" test -e eve.key
check_fails "vIP outside the virtual range refused" $NTMCTL ca issue \
	--dir ca --role node --fqdn eve.dc1.ntm.test --vip4 10.1.2.3 --out eve
out=$($NTMCTL ca issue --dir ca --role wizard --name x.ntm.test --out x 2>&1)
check_eq "unknown role is a usage error (exit 2)" 2 "$?"
check_eq "usage error is one line" 1 "$(printf '%s\n' "$out" | wc -l)"

out=$($NTMCTL ca verify --dir ca --role dc alice.pem 2>&1)
check_eq "verify refuses a node where dc is expected (exit 1)" 1 "$?"
contains "role refusal says so" "expected ntmobile role" "$out"
check "verify accepts node for its FQDN and vIPs" $NTMCTL ca verify --dir ca \
	--role node --name alice.dc1.ntm.test --vip4 198.18.1.10 \
	--vip6 fd6e:746d:6f62:1::10 alice.pem
check_fails "verify refuses another vIP" $NTMCTL ca verify --dir ca \
	--role node --vip4 198.18.1.11 alice.pem
check_fails "verify refuses after expiry (--now)" $NTMCTL ca verify --dir ca \
	--role node --now $(( $(date +%s) + 30 * 86400 )) alice.pem

if command -v python3 >/dev/null 2>&1; then
	check "ca show --json parses" sh -c \
	    "$NTMCTL ca show --json alice.pem | python3 -m json.tool"
fi
contains "ca show names the role" "role:       ntm-node" \
	"$($NTMCTL ca show alice.pem)"

# A node's own PKCS#10 request: accepted plain, refused when it asks for CA.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out carol.key 2>/dev/null
openssl req -new -key carol.key -subj /CN=carol.dc2.ntm.test \
	-out carol.csr 2>/dev/null
check "issue from a CSR" $NTMCTL ca issue --dir ca --role node \
	--fqdn carol.dc2.ntm.test --vip4 198.18.2.11 --csr carol.csr --out carol
check_eq "CSR certificate verifies" "carol.pem: OK" \
	"$(openssl verify -CAfile ca/root.pem -untrusted ca/as.pem carol.pem \
	2>&1)"
openssl req -new -key carol.key -subj /CN=carol.dc2.ntm.test \
	-addext basicConstraints=critical,CA:TRUE -out evil.csr 2>/dev/null
out=$($NTMCTL ca issue --dir ca --role node --fqdn carol.dc2.ntm.test \
	--vip4 198.18.2.11 --csr evil.csr --out evil 2>&1)
check_eq "CSR asking for CA refused (exit 1)" 1 "$?"
contains "CA request refusal says why" "forbidden extension" "$out"
check_fails "CSR for another name refused" $NTMCTL ca issue --dir ca \
	--role node --fqdn dave.dc1.ntm.test --vip4 198.18.1.12 \
	--csr carol.csr --out dave

bob_serial=$(openssl x509 -in bob.pem -noout -serial | cut -d= -f2)
check "revoke bob" $NTMCTL ca revoke --dir ca --cert bob.pem \
	--reason keyCompromise
check_fails "revoking twice refused" $NTMCTL ca revoke --dir ca --cert bob.pem
check "write CRL" $NTMCTL ca crl --dir ca --out crl.pem
out=$(openssl crl -in crl.pem -CAfile ca/as.pem -noout 2>&1)
contains "openssl crl verifies the CRL signature" "verify OK" "$out"
contains "CRL lists bob's serial" "Serial Number: $bob_serial" \
	"$(openssl crl -in crl.pem -noout -text)"
out=$(openssl verify -crl_check -CRLfile crl.pem -CAfile ca/root.pem \
	-untrusted ca/as.pem bob.pem 2>&1)
contains "openssl verify -crl_check rejects bob" "certificate revoked" "$out"

check "OCSP response for alice" $NTMCTL ca ocsp --dir ca --cert alice.pem \
	--out good.der
check "OCSP response for bob" $NTMCTL ca ocsp --dir ca --cert bob.pem \
	--out rev.der
out=$(openssl ocsp -respin good.der -issuer ca/as.pem -CAfile ca/chain.pem \
	-cert alice.pem -resp_text 2>&1)
contains "openssl ocsp verifies alice's response" "Response verify OK" "$out"
contains "alice is good" "alice.pem: good" "$out"
contains "response is by key" "Responder Id: " "$out"
out=$(openssl ocsp -respin rev.der -issuer ca/as.pem -CAfile ca/chain.pem \
	-cert bob.pem -resp_text 2>&1)
contains "openssl ocsp verifies bob's response" "Response verify OK" "$out"
contains "bob is revoked" "bob.pem: revoked" "$out"
contains "revocation reason carried" "Reason: keyCompromise" "$out"
# Flip the lowest bit of the last byte (inside the signature).
size=$(stat -c %s good.der)
last=$(tail -c 1 good.der | od -An -tu1 | tr -d ' ')
head -c $((size - 1)) good.der > bad.der
printf "\\$(printf %03o $((last ^ 1)))" >> bad.der
check_eq "tampered copy differs in one byte" 1 \
	"$(cmp -l good.der bad.der | wc -l)"
out=$(openssl ocsp -respin bad.der -issuer ca/as.pem -CAfile ca/chain.pem \
	-cert alice.pem 2>&1)
case "$out" in
*"Response verify OK"*) not_ok "tampered OCSP response rejected" "$out" ;;
*) ok "tampered OCSP response rejected" ;;
esac

chmod 0644 ca/as.key
out=$($NTMCTL ca issue --dir ca --role node --fqdn dave.dc1.ntm.test \
	--vip4 198.18.1.12 --out dave 2>&1)
check_eq "0644 CA key refused (exit 1)" 1 "$?"
contains "permission refusal is clear" \
	"as.key: key file is accessible by group or others (chmod 600)" "$out"
check_fails "nothing issued with a readable key" test -e dave.pem

tap_done
