/* fuzz_csr.c -- libFuzzer target: PKCS#10 requests through cert_csr_check. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "cert.h"
#include "log.h"
#include "rand.h"

#include "../testca.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Input: one control byte, then a DER CertificationRequest as an
 * enrollment carries it.
 *
 *   bit  7 6 5 4   3 2      1 0
 *        unused    resign   name
 *
 * name: the FQDN the account is for, fz_names[name] (NULL: any).
 * resign 1: the request's key is replaced by a fixed P-256 key and the
 * request signed again, so mutations of names and extensions get past the
 * signature check; resign 2: the same with a P-384 key, which must always
 * be refused; 0 and 3: the request as it came.
 *
 * A request that passes is issued as the AS would (cert_issue) and the
 * certificate must verify for that name under the fixed trust setup.
 */
#define FZ_NOW	((time_t)1795000000)

static const char *const fz_names[4] = {
	"alice.dc1.ntm.test", NULL, "Alice.DC1.ntm.test.", "bob.dc2.ntm.test",
};

struct fz_state {
	struct ntm_rng		*rng;
	struct cert_ca		 ca;
	gnutls_privkey_t	 p256, p384;
	gnutls_pubkey_t		 p256_pub, p384_pub;
	struct cert_trust	*trust;
};

static struct fz_state	fz;

static void fz_fail(const char *) __attribute__((noreturn));

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_csr: %s\n", what);
	abort();
}

static void
fz_init(void)
{
	gnutls_x509_privkey_t xk;

	log_init("fuzz_csr", 1, LOG_LEVEL_ERR);
	if ((fz.rng = rng_seeded_new("fuzz_csr", 8)) == NULL ||
	    testca_make(&fz.ca, NULL, fz.rng, FZ_NOW - 86400) < 0 ||
	    cert_trust_new(&fz.ca.root, 1, &fz.trust) < 0)
		fz_fail("root and AS CA");
	if (cert_key_generate(CERT_KEY_P256, &fz.p256) < 0 ||
	    cert_pubkey_of(fz.p256, &fz.p256_pub) < 0)
		fz_fail("keys");
	/* cert_key_generate makes only the two allowed types. */
	if (gnutls_x509_privkey_init(&xk) < 0 ||
	    gnutls_x509_privkey_generate(xk, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), 0) < 0 ||
	    gnutls_privkey_init(&fz.p384) < 0 ||
	    gnutls_privkey_import_x509(fz.p384, xk,
	    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE) < 0 ||
	    cert_pubkey_of(fz.p384, &fz.p384_pub) < 0)
		fz_fail("P-384 key");
}

/* Replaces the request's key and signs it again; false if GnuTLS cannot. */
static bool
fz_resign(gnutls_x509_crq_t *crq, gnutls_privkey_t key, gnutls_pubkey_t pub)
{
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_crq_t again = NULL;
	bool ok = false;

	if (gnutls_x509_crq_set_pubkey(*crq, pub) < 0 ||
	    gnutls_x509_crq_privkey_sign(*crq, key, GNUTLS_DIG_SHA256, 0) < 0 ||
	    gnutls_x509_crq_export2(*crq, GNUTLS_X509_FMT_DER, &der) < 0)
		goto out;
	/* What the AS sees is the DER, so read it back as the AS would. */
	if (gnutls_x509_crq_init(&again) < 0)
		fz_fail("gnutls_x509_crq_init");
	if (gnutls_x509_crq_import(again, &der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crq_deinit(again);
		goto out;
	}
	gnutls_x509_crq_deinit(*crq);
	*crq = again;
	ok = true;
out:
	gnutls_free(der.data);
	return ok;
}

static bool
fz_same_key(gnutls_pubkey_t a, gnutls_pubkey_t b)
{
	uint8_t ia[64], ib[64];
	size_t la = sizeof(ia), lb = sizeof(ib);

	return gnutls_pubkey_get_key_id(a, GNUTLS_KEYID_USE_SHA256, ia,
	    &la) == 0 && gnutls_pubkey_get_key_id(b, GNUTLS_KEYID_USE_SHA256,
	    ib, &lb) == 0 && la == lb && memcmp(ia, ib, la) == 0;
}

static bool
fz_has_cn(gnutls_x509_crq_t crq)
{
	char buf[512];
	size_t sz = sizeof(buf);

	return gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, buf, &sz) != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
}

/* name equals want, ignoring case and one trailing dot. */
static bool
fz_same_name(const char *name, size_t len, const char *want)
{
	size_t wlen = strlen(want);

	if (wlen > 0 && want[wlen - 1] == '.')
		wlen--;
	if (len > 0 && name[len - 1] == '.')
		len--;
	return len == wlen && strncasecmp(name, want, len) == 0;
}

/*
 * What an accepted request may carry, read back through GnuTLS on its own:
 * no CA bit, no key usage beyond signing and key encipherment, no
 * extension but those four, and only the account's name.
 */
static void
fz_policy(gnutls_x509_crq_t crq, const char *name)
{
	char buf[512], oid[128];
	unsigned int i, ca = 0, usage = 0, critical, type;
	size_t sz;
	int pathlen, rv;

	if (gnutls_x509_crq_get_basic_constraints(crq, NULL, &ca,
	    &pathlen) >= 0 && ca)
		fz_fail("accepted a request for a CA");
	if (gnutls_x509_crq_get_key_usage(crq, &usage, NULL) >= 0 &&
	    (usage & ~(unsigned int)(GNUTLS_KEY_DIGITAL_SIGNATURE |
	    GNUTLS_KEY_KEY_ENCIPHERMENT)) != 0)
		fz_fail("accepted a request for more key usage");
	for (i = 0;; i++) {
		sz = sizeof(oid);
		if (gnutls_x509_crq_get_extension_info(crq, i, oid, &sz,
		    &critical) < 0)
			break;
		if (strcmp(oid, "2.5.29.17") != 0 &&
		    strcmp(oid, "2.5.29.14") != 0 &&
		    strcmp(oid, "2.5.29.19") != 0 &&
		    strcmp(oid, "2.5.29.15") != 0)
			fz_fail("accepted a request with another extension");
	}
	if (name == NULL)
		return;
	sz = sizeof(buf);
	if (gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, buf, &sz) == 0 && !fz_same_name(buf, sz, name))
		fz_fail("accepted a request with another CN");
	for (i = 0;; i++) {
		sz = sizeof(buf);
		rv = gnutls_x509_crq_get_subject_alt_name(crq, i, buf, &sz,
		    &type, &critical);
		if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rv < 0 || type != GNUTLS_SAN_DNSNAME ||
		    !fz_same_name(buf, sz, name))
			fz_fail("accepted a request with another SAN");
	}
}

/* An accepted request: the AS issues from it; the certificate must verify. */
static void
fz_issue(gnutls_pubkey_t pub, const char *name)
{
	struct cert_issuer iss = { fz.ca.as, fz.ca.as_key };
	struct cert_request req;
	struct cert_expect ex;
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t got;
	int rv;

	memset(&req, 0, sizeof(req));
	req.role = CERT_ROLE_NODE;
	req.fqdn = name == fz_names[3] ? name : fz_names[0];
	req.has_vip4 = true;
	req.vip4.s_addr = htonl(0xc612010aU);	/* 198.18.1.10 */
	req.pubkey = pub;
	if ((rv = cert_issue(&req, &iss, fz.rng, FZ_NOW, &crt)) < 0) {
		fprintf(stderr, "cert_issue: %s\n", cert_strerror(rv));
		fz_fail("an accepted request cannot be issued");
	}
	memset(&ex, 0, sizeof(ex));
	ex.role = CERT_ROLE_NODE;
	ex.fqdn = req.fqdn;
	ex.vip4 = &req.vip4;
	if ((rv = cert_verify(fz.trust, crt, fz.ca.as, &ex, FZ_NOW)) < 0) {
		fprintf(stderr, "cert_verify: %s\n", cert_strerror(rv));
		fz_fail("an accepted request's certificate does not verify");
	}
	if (gnutls_pubkey_init(&got) < 0)
		fz_fail("gnutls_pubkey_init");
	if (gnutls_pubkey_import_x509(got, crt, 0) < 0 ||
	    !fz_same_key(got, pub))
		fz_fail("the certificate certifies another key");
	gnutls_pubkey_deinit(got);
	gnutls_x509_crt_deinit(crt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	gnutls_datum_t der;
	gnutls_x509_crq_t crq;
	gnutls_pubkey_t pub = NULL, pub2 = NULL;
	const char *name;
	int resign, rv;

	if (!ready) {
		fz_init();
		ready = true;
	}
	if (size < 1)
		return 0;
	name = fz_names[data[0] & 3];
	resign = (data[0] >> 2) & 3;
	der.data = (unsigned char *)data + 1;
	der.size = (unsigned int)(size - 1);
	if (gnutls_x509_crq_init(&crq) < 0)
		fz_fail("gnutls_x509_crq_init");
	if (gnutls_x509_crq_import(crq, &der, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	if (resign == 1 && !fz_resign(&crq, fz.p256, fz.p256_pub))
		goto out;
	if (resign == 2 && !fz_resign(&crq, fz.p384, fz.p384_pub))
		goto out;

	rv = cert_csr_check(crq, name, &pub);
	if (rv < 0) {
		if (pub != NULL)
			fz_fail("refused, but a key was handed out");
		if (rv != -ENOMEM && (rv < CERT_E_FIRST || rv > CERT_E_LAST))
			fz_fail("unexpected return value");
		if (resign == 1 && rv == CERT_E_CSR_SIGNATURE)
			fz_fail("a freshly signed request has a bad signature");
		goto out;
	}
	if (rv != 0 || pub == NULL || cert_key_type(pub) == CERT_KEY_INVALID)
		fz_fail("accepted without a usable key");
	if (resign == 2)
		fz_fail("accepted a P-384 key");
	fz_policy(crq, name);
	if (resign == 1 && !fz_same_key(pub, fz.p256_pub))
		fz_fail("the key handed out is not the request's");
	/* Naming the account only narrows what passes. */
	if (name != NULL && cert_csr_check(crq, NULL, &pub2) != 0)
		fz_fail("accepted for a name but not for any name");
	gnutls_pubkey_deinit(pub2);
	pub2 = NULL;
	/* A request that names alice never passes for bob. */
	if (name != NULL && name != fz_names[3] && fz_has_cn(crq) &&
	    (rv = cert_csr_check(crq, fz_names[3], &pub2)) != CERT_E_CSR_NAME)
		fz_fail("a request naming alice passes for bob");
	gnutls_pubkey_deinit(pub2);
	pub2 = NULL;
	fz_issue(pub, name);
out:
	gnutls_pubkey_deinit(pub2);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crq_deinit(crq);
	return 0;
}

#ifdef FUZZ_CORPUS_GEN
/* gen_csr_corpus DIR: writes the seed corpus (make pki-corpus). */
static const char	*gen_dir;

enum gen_opt {
	GEN_SAN = 1 << 0,		/* SAN dNSName = CN */
	GEN_SAN_IP = 1 << 1,		/* SAN iPAddress */
	GEN_CA = 1 << 2,		/* basicConstraints CA:TRUE */
	GEN_NOT_CA = 1 << 3,		/* basicConstraints CA:FALSE */
	GEN_KU_SIGN = 1 << 4,		/* keyUsage digitalSignature */
	GEN_KU_CERT = 1 << 5,		/* keyUsage keyCertSign */
	GEN_EKU = 1 << 6,		/* extKeyUsage serverAuth */
	GEN_ORG = 1 << 7,		/* O= besides the CN */
	GEN_TWO_CN = 1 << 8,
	GEN_BAD_SIG = 1 << 9,		/* last signature byte flipped */
	GEN_SKI = 1 << 10,
	GEN_PASSWORD = 1 << 11,		/* challengePassword attribute */
};

static gnutls_privkey_t
gen_key(gnutls_pk_algorithm_t pk, unsigned int bits)
{
	gnutls_privkey_t key;

	if (gnutls_privkey_init(&key) < 0 ||
	    gnutls_privkey_generate(key, pk, bits, 0) < 0)
		fz_fail("gen_key");
	return key;
}

static void
gen_csr(const char *file, uint8_t ctl, gnutls_privkey_t key, const char *cn,
    unsigned int opt)
{
	static const uint8_t ip[4] = { 198, 18, 1, 10 };
	gnutls_x509_crq_t crq;
	gnutls_pubkey_t pub;
	gnutls_datum_t der;
	char path[4096];
	FILE *f;

	if (gnutls_x509_crq_init(&crq) < 0 || cert_pubkey_of(key, &pub) < 0)
		fz_fail("gen_csr");
	if (cn != NULL && gnutls_x509_crq_set_dn_by_oid(crq,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned int)strlen(cn)) < 0)
		fz_fail("CN");
	if ((opt & GEN_TWO_CN) && gnutls_x509_crq_set_dn_by_oid(crq,
	    GNUTLS_OID_X520_COMMON_NAME, 0, "bob.dc2.ntm.test", 16) < 0)
		fz_fail("second CN");
	if ((opt & GEN_ORG) && gnutls_x509_crq_set_dn_by_oid(crq,
	    GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "Example", 7) < 0)
		fz_fail("O");
	if ((opt & GEN_SAN) && gnutls_x509_crq_set_subject_alt_name(crq,
	    GNUTLS_SAN_DNSNAME, cn, (unsigned int)strlen(cn),
	    GNUTLS_FSAN_APPEND) < 0)
		fz_fail("SAN");
	if ((opt & GEN_SAN_IP) && gnutls_x509_crq_set_subject_alt_name(crq,
	    GNUTLS_SAN_IPADDRESS, ip, sizeof(ip), GNUTLS_FSAN_APPEND) < 0)
		fz_fail("SAN IP");
	if ((opt & (GEN_CA | GEN_NOT_CA)) &&
	    gnutls_x509_crq_set_basic_constraints(crq, (opt & GEN_CA) != 0,
	    -1) < 0)
		fz_fail("basicConstraints");
	if ((opt & GEN_KU_SIGN) && gnutls_x509_crq_set_key_usage(crq,
	    GNUTLS_KEY_DIGITAL_SIGNATURE) < 0)
		fz_fail("keyUsage");
	if ((opt & GEN_KU_CERT) && gnutls_x509_crq_set_key_usage(crq,
	    GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_CERT_SIGN) < 0)
		fz_fail("keyUsage");
	if ((opt & GEN_EKU) && gnutls_x509_crq_set_key_purpose_oid(crq,
	    GNUTLS_KP_TLS_WWW_SERVER, 0) < 0)
		fz_fail("extKeyUsage");
	/* The extension's value: an OCTET STRING of 20 bytes. */
	if ((opt & GEN_SKI) && gnutls_x509_crq_set_extension_by_oid(crq,
	    "2.5.29.14", "\x04\x14" "01234567890123456789", 22, 0) < 0)
		fz_fail("subjectKeyId");
	if ((opt & GEN_PASSWORD) &&
	    gnutls_x509_crq_set_challenge_password(crq, "secret") < 0)
		fz_fail("challengePassword");
	if (gnutls_x509_crq_set_pubkey(crq, pub) < 0 ||
	    gnutls_x509_crq_privkey_sign(crq, key, 0, 0) < 0 ||
	    gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der) < 0)
		fz_fail("sign");
	if (opt & GEN_BAD_SIG)
		der.data[der.size - 1] ^= 0x01;
	snprintf(path, sizeof(path), "%s/%s", gen_dir, file);
	if ((f = fopen(path, "wb")) == NULL || fwrite(&ctl, 1, 1, f) != 1 ||
	    fwrite(der.data, 1, der.size, f) != der.size || fclose(f) != 0)
		fz_fail(path);
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crq_deinit(crq);
}

int
main(int argc, char *argv[])
{
	const char *alice = "alice.dc1.ntm.test";
	gnutls_privkey_t p256, rsa, p384, ed;

	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	gen_dir = argv[1];
	p256 = gen_key(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
	p384 = gen_key(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1));
	rsa = gen_key(GNUTLS_PK_RSA, 2048);
	ed = gen_key(GNUTLS_PK_EDDSA_ED25519, 256);
	gen_csr("p256-cn-san", 0x00, p256, alice, GEN_SAN);
	gen_csr("p256-cn-san-any-name", 0x01, p256, alice, GEN_SAN);
	gen_csr("p256-cn-san-upper-name", 0x02, p256, alice, GEN_SAN);
	gen_csr("p256-cn-san-for-bob", 0x03, p256, alice, GEN_SAN);
	gen_csr("p256-empty", 0x00, p256, NULL, 0);
	gen_csr("p256-tool-extensions", 0x00, p256, alice,
	    GEN_SAN | GEN_NOT_CA | GEN_KU_SIGN | GEN_SKI);
	gen_csr("p256-password", 0x00, p256, alice, GEN_PASSWORD);
	gen_csr("p256-ca", 0x00, p256, alice, GEN_CA);
	gen_csr("p256-ca-resigned", 0x04, p256, alice, GEN_CA);
	gen_csr("p256-keycertsign", 0x00, p256, alice, GEN_KU_CERT);
	gen_csr("p256-eku", 0x00, p256, alice, GEN_EKU);
	gen_csr("p256-org", 0x00, p256, alice, GEN_ORG);
	gen_csr("p256-two-cn", 0x01, p256, alice, GEN_TWO_CN);
	gen_csr("p256-san-ip", 0x00, p256, alice, GEN_SAN_IP);
	gen_csr("p256-bad-name", 0x01, p256, "alice..dc1", 0);
	gen_csr("p256-bad-sig", 0x00, p256, alice, GEN_SAN | GEN_BAD_SIG);
	gen_csr("p256-bad-sig-resigned", 0x04, p256, alice,
	    GEN_SAN | GEN_BAD_SIG);
	gen_csr("rsa2048-cn", 0x00, rsa, alice, 0);
	gen_csr("p384-cn", 0x00, p384, alice, 0);
	gen_csr("p384-resigned", 0x08, p256, alice, GEN_SAN);
	gen_csr("ed25519-cn", 0x00, ed, alice, 0);
	return 0;
}
#endif
