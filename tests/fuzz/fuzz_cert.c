/* fuzz_cert.c -- libFuzzer target: a peer's certificate through the cached AS-anchor check and through GnuTLS, which must agree. */
#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
 * A tunnel peer's certificate arrives from the network and node/
 * peercheck.c checks it with cert_anchor_verify() (one ECDSA check against
 * the AS intermediate verified once, lib/cert.c parsing the DER itself)
 * unless that says -ENOTSUP, and with cert_verify() (GnuTLS) otherwise.
 * The oracle: whenever the anchor decides, it decides as cert_verify()
 * does — it never accepts what GnuTLS refuses, nor refuses what it
 * accepts.
 *
 * Input: one control byte, then the body.
 *
 *   bit  7 6 5   4 3 2   1 0
 *        -       clock   mode
 *
 * mode 0: the body is a DER certificate, checked as it is;
 * mode 1: the body is a DER TBSCertificate, signed here with the AS key
 *         (ECDSA-SHA256) and wrapped, so mutations of the signed part
 *         reach the checks after the signature;
 * mode 2: as 1, signed with a key that is not the AS's;
 * mode 3: a node certificate issued here by cert_issue() for a name made
 *         from the body, as the AS issues them.
 * The clock is fz_clock[clock] from FZ_NOW.  The AS key is fixed below,
 * so the TBS seeds in the corpus (issuer name and key identifier) keep
 * matching the AS certificate made at start-up; the root is fresh.
 */
#define FZ_NOW	((time_t)1795000000)

static const char fz_as_key_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIKPNbSS7X+Rq2dkYCcX6vqw1tlYMw2YbNmjCD4XlW5t0oAoGCCqGSM49\n"
    "AwEHoUQDQgAE3oIfFB8btIC8FkAxVUtXAKbXcLulWMbDtuDpJyxDiXk7T/sr76UE\n"
    "V5Mhdudqp+g5JFK55vLLv14KvSmTK8Qz2Q==\n"
    "-----END EC PRIVATE KEY-----\n";

static const time_t fz_clock[8] = {
	0, -3600 - 1, 86400 * 30, 86400 * 400, -86400 * 2, 86400 * 3650,
	86400 * 365 * 30, 1,
};

/* DER AlgorithmIdentifier ecdsa-with-SHA256, no parameters. */
static const uint8_t fz_alg[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
};

static struct {
	struct cert_ca		 ca;
	gnutls_privkey_t	 other_key, node_key;
	gnutls_pubkey_t		 node_pub;
	struct cert_trust	*trust;
	struct cert_anchor	*anchor;
	struct ntm_rng		*rng;
	uint64_t		 decided, deferred;
} fz;

static void fz_fail(const char *) __attribute__((noreturn));

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_cert: %s\n", what);
	abort();
}

static void
fz_init(void)
{
	const struct testca_opts opts = { .as_key_pem = fz_as_key_pem };

	log_init("fuzz_cert", 1, LOG_LEVEL_ERR);
	if ((fz.rng = rng_seeded_new("fuzz_cert", 9)) == NULL ||
	    testca_make(&fz.ca, &opts, fz.rng, FZ_NOW - 86400) < 0 ||
	    cert_key_generate(CERT_KEY_P256, &fz.other_key) < 0 ||
	    cert_key_generate(CERT_KEY_P256, &fz.node_key) < 0 ||
	    cert_pubkey_of(fz.node_key, &fz.node_pub) < 0)
		fz_fail("keys, root and AS CA");
	if (cert_trust_new(&fz.ca.root, 1, &fz.trust) < 0 ||
	    cert_anchor_new(fz.trust, fz.ca.as, CERT_ROLE_NODE,
	    &fz.anchor) < 0)
		fz_fail("trust and anchor");
	if (!cert_anchor_usable(fz.anchor))
		fz_fail("the AS CA made here does not give a usable anchor");
}

/* A DER length of n at p; returns the bytes written (at most 4). */
static size_t
fz_der_len(uint8_t *p, size_t n)
{
	if (n < 0x80) {
		p[0] = (uint8_t)n;
		return 1;
	}
	if (n < 0x100) {
		p[0] = 0x81;
		p[1] = (uint8_t)n;
		return 2;
	}
	p[0] = 0x82;
	p[1] = (uint8_t)(n >> 8);
	p[2] = (uint8_t)n;
	return 3;
}

/*
 * Certificate ::= SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING sig },
 * the signature by key over tbs.  Returns the length written to out, or 0.
 */
static size_t
fz_wrap(gnutls_privkey_t key, const uint8_t *tbs, size_t tlen, uint8_t *out,
    size_t cap)
{
	const gnutls_datum_t data = { (unsigned char *)tbs, (unsigned)tlen };
	gnutls_datum_t sig = { NULL, 0 };
	uint8_t bits[8];
	size_t blen, body, n = 0;

	if (gnutls_privkey_sign_data(key, GNUTLS_DIG_SHA256, 0, &data,
	    &sig) < 0)
		fz_fail("sign");
	bits[0] = 0x03;
	blen = 1 + fz_der_len(bits + 1, sig.size + 1);
	bits[blen++] = 0x00;
	body = tlen + sizeof(fz_alg) + blen + sig.size;
	if (body > 0xffff || body + 4 > cap) {
		gnutls_free(sig.data);
		return 0;
	}
	out[n++] = 0x30;
	n += fz_der_len(out + n, body);
	memcpy(out + n, tbs, tlen);
	n += tlen;
	memcpy(out + n, fz_alg, sizeof(fz_alg));
	n += sizeof(fz_alg);
	memcpy(out + n, bits, blen);
	n += blen;
	memcpy(out + n, sig.data, sig.size);
	n += sig.size;
	gnutls_free(sig.data);
	return n;
}

/* A node certificate for a name made of the body's letters. */
static gnutls_x509_crt_t
fz_issue(const uint8_t *p, size_t len)
{
	struct cert_issuer iss = { fz.ca.as, fz.ca.as_key };
	struct cert_request req;
	gnutls_x509_crt_t crt;
	char fqdn[80];
	size_t i, n = 0;

	for (i = 0; i < len && n < 20; i++)
		if (p[i] >= 'a' && p[i] <= 'z')
			fqdn[n++] = (char)p[i];
	if (n == 0)
		fqdn[n++] = 'n';
	snprintf(fqdn + n, sizeof(fqdn) - n, ".dc%u.ntm.test",
	    len > 0 ? p[0] % 3 : 1);
	memset(&req, 0, sizeof(req));
	req.role = CERT_ROLE_NODE;
	req.fqdn = fqdn;
	req.has_vip4 = true;
	req.vip4.s_addr = htonl(0xc6120100u | (len > 1 ? p[1] : 7));
	req.pubkey = fz.node_pub;
	if (cert_issue(&req, &iss, fz.rng, FZ_NOW - 3600, &crt) < 0)
		return NULL;
	return crt;
}

/* The oracle on one certificate (leaf imported from der[0..len)). */
static void
fz_compare(gnutls_x509_crt_t leaf, const uint8_t *der, size_t len,
    time_t now, bool must_decide)
{
	const struct cert_expect ex = { CERT_ROLE_NODE, NULL, NULL, NULL };
	int ra, rv;

	ra = cert_anchor_verify(fz.anchor, leaf, der, len, now);
	if (ra == -ENOTSUP) {
		if (must_decide)
			fz_fail("the anchor defers a certificate cert_issue made");
		fz.deferred++;
		return;
	}
	fz.decided++;
	rv = cert_verify(fz.trust, leaf, fz.ca.as, &ex, now);
	if ((ra == 0) != (rv == 0)) {
		fprintf(stderr, "anchor %d (%s), GnuTLS %d (%s)\n", ra,
		    cert_strerror(ra), rv, cert_strerror(rv));
		fz_fail(ra == 0 ? "the anchor accepts what GnuTLS refuses" :
		    "the anchor refuses what GnuTLS accepts");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[70000];
	gnutls_x509_crt_t leaf = NULL;
	gnutls_datum_t d;
	const uint8_t *der;
	size_t len;
	time_t now;
	int mode;

	if (fz.anchor == NULL)
		fz_init();
	if (size < 1)
		return 0;
	mode = data[0] & 3;
	now = FZ_NOW + fz_clock[(data[0] >> 2) & 7];
	der = data + 1;
	len = size - 1;
	if (mode == 3) {
		if ((leaf = fz_issue(der, len)) == NULL)
			return 0;
		d.data = NULL;
		if (gnutls_x509_crt_export2(leaf, GNUTLS_X509_FMT_DER, &d) < 0)
			fz_fail("export");
		fz_compare(leaf, d.data, d.size, now, true);
		gnutls_free(d.data);
		gnutls_x509_crt_deinit(leaf);
		return 0;
	}
	if (mode == 1 || mode == 2) {
		if (len > 0xff00 || (len = fz_wrap(mode == 1 ? fz.ca.as_key :
		    fz.other_key, der, len, buf, sizeof(buf))) == 0)
			return 0;
		der = buf;
	}
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_init(&leaf) < 0)
		fz_fail("crt_init");
	if (gnutls_x509_crt_import(leaf, &d, GNUTLS_X509_FMT_DER) == 0)
		fz_compare(leaf, der, len, now, false);
	gnutls_x509_crt_deinit(leaf);
	return 0;
}

#ifdef FUZZ_CORPUS_GEN
/*
 * gen_cert_corpus DIR: writes the seed corpus (make pki-corpus): issued
 * node certificates whole (mode 0) and as TBS to be signed again (mode
 * 1, and mode 2 with the other key), and names for mode 3.
 */
static void
gen_write(const char *dir, const char *name, uint8_t ctl, const uint8_t *p,
    size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(&ctl, 1, 1, f) != 1 ||
	    fwrite(p, 1, len, f) != len || fclose(f) != 0)
		fz_fail(path);
}

/* The TBSCertificate of a DER certificate: its first element. */
static size_t
gen_tbs(const uint8_t *der, size_t len, const uint8_t **tbs)
{
	size_t off = 1, n, hl;

	if (len < 4 || der[0] != 0x30)
		fz_fail("not a certificate");
	off += der[1] < 0x80 ? 1 : 1 + (der[1] & 0x7f);
	*tbs = der + off;
	n = der[off + 1];
	hl = 2;
	if (n & 0x80) {
		hl = 2 + (n & 0x7f);
		n = n == 0x81 ? der[off + 2] : (size_t)der[off + 2] << 8 |
		    der[off + 3];
	}
	return hl + n;
}

int
main(int argc, char **argv)
{
	static const char *const names[] = { "alice", "bob", "carolxyz" };
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	const uint8_t *tbs;
	char name[64];
	size_t i, tlen;

	if (argc != 2)
		fz_fail("usage: gen_cert_corpus DIR");
	fz_init();
	for (i = 0; i < 3; i++) {
		crt = fz_issue((const uint8_t *)names[i], strlen(names[i]));
		if (crt == NULL || gnutls_x509_crt_export2(crt,
		    GNUTLS_X509_FMT_DER, &d) < 0)
			fz_fail("issue");
		snprintf(name, sizeof(name), "whole-%s", names[i]);
		gen_write(argv[1], name, (uint8_t)(i << 2), d.data, d.size);
		tlen = gen_tbs(d.data, d.size, &tbs);
		snprintf(name, sizeof(name), "tbs-%s", names[i]);
		gen_write(argv[1], name, (uint8_t)(1 | i << 2), tbs, tlen);
		snprintf(name, sizeof(name), "tbs-other-key-%s", names[i]);
		gen_write(argv[1], name, 2, tbs, tlen);
		snprintf(name, sizeof(name), "tbs-late-%s", names[i]);
		gen_write(argv[1], name, 1 | 3 << 2, tbs, tlen);
		snprintf(name, sizeof(name), "issue-%s", names[i]);
		gen_write(argv[1], name, (uint8_t)(3 | i << 2),
		    (const uint8_t *)names[i], strlen(names[i]));
		gnutls_free(d.data);
		gnutls_x509_crt_deinit(crt);
	}
	return 0;
}
#endif
