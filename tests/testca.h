/* testca.h -- the test CA of unit tests, fuzz targets and benchmarks: ntm.test with the lab's virtual ranges, and the leaves it issues. */
#ifndef NTM_TESTCA_H
#define NTM_TESTCA_H

/*
 * Header only, so that every test program that includes it has it without
 * a source of its own in its Makefile fragment; no cmocka, so that fuzz
 * targets and benchmarks use it too.  Functions return 0 or what lib/cert
 * returned; the caller asserts.
 *
 * The CA is the one `ntmctl ca init --domain ntm.test --vrange4
 * 198.18.0.0/15 --vrange6 fd6e:746d:6f62::/48` makes, through the same
 * cert_ca_make().
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "cert.h"

#define TESTCA_DOMAIN	"ntm.test"
#define TESTCA_VRANGE4	"198.18.0.0/15"
#define TESTCA_VRANGE6	"fd6e:746d:6f62::/48"

/* What a test may change of the CA; NULL to testca_make: all defaults. */
struct testca_opts {
	uint32_t	 as_lifetime;	/* s; 0: the AS default */
	/*
	 * The AS key as PEM (NULL: a new one): fuzz targets whose corpus
	 * holds the AS's name and key identifier fix it.
	 */
	const char	*as_key_pem;
};

/* A leaf of the AS.  Text addresses; NULL fields are left out. */
struct testca_leaf {
	enum cert_role		 role;		/* INVALID: ntm-node */
	enum cert_keytype	 keytype;	/* INVALID: P-256 */
	const char		*fqdn;
	const char		*vip4;
	const char		*vip6;
	const char *const	*zones;		/* a DC's */
	size_t			 nzones;
	uint32_t		 lifetime;	/* s; 0: the role's default */
	gnutls_pubkey_t		 pubkey;	/* NULL: a new key */
};

/* Reads a private key from PEM text; *out is the caller's. */
static inline int
testca_key_pem(const char *pem, gnutls_privkey_t *out)
{
	gnutls_datum_t d;

	d.data = (unsigned char *)(uintptr_t)pem;
	d.size = (unsigned int)strlen(pem);
	*out = NULL;
	if (gnutls_privkey_init(out) < 0)
		return -ENOMEM;
	if (gnutls_privkey_import_x509_raw(*out, &d, GNUTLS_X509_FMT_PEM,
	    NULL, 0) < 0) {
		gnutls_privkey_deinit(*out);
		*out = NULL;
		return CERT_E_PARSE;
	}
	return 0;
}

/*
 * Root and AS CA for ntm.test, both issued at now, serials from rng (root
 * first).  *ca is the caller's: cert_ca_clear().
 */
static inline int
testca_make(struct cert_ca *ca, const struct testca_opts *opts,
    struct ntm_rng *rng, time_t now)
{
	struct cert_ca_request car;
	gnutls_privkey_t as_key = NULL;
	int rv;

	memset(ca, 0, sizeof(*ca));
	memset(&car, 0, sizeof(car));
	car.domain = TESTCA_DOMAIN;
	if ((rv = cert_prefix_parse(TESTCA_VRANGE4, &car.vrange4)) < 0 ||
	    (rv = cert_prefix_parse(TESTCA_VRANGE6, &car.vrange6)) < 0)
		return rv;
	if (opts != NULL) {
		car.lifetime = opts->as_lifetime;
		if (opts->as_key_pem != NULL &&
		    (rv = testca_key_pem(opts->as_key_pem, &as_key)) < 0)
			return rv;
	}
	return cert_ca_make(&car, as_key, rng, now, ca);
}

/* l's virtual IPs as bytes; an address l leaves out is not written. */
static inline int
testca_vips(const struct testca_leaf *l, uint8_t vip4[4], uint8_t vip6[16])
{
	if ((l->vip4 != NULL && inet_pton(AF_INET, l->vip4, vip4) != 1) ||
	    (l->vip6 != NULL && inet_pton(AF_INET6, l->vip6, vip6) != 1))
		return -EINVAL;
	return 0;
}

/*
 * Issues leaf l from ca's AS at now.  With l->pubkey NULL a new key of
 * l->keytype is made and left in *key (the caller's; key may then not be
 * NULL); otherwise *key, if key is given, is NULL.  *crt is the caller's.
 */
static inline int
testca_issue(const struct cert_ca *ca, const struct testca_leaf *l,
    struct ntm_rng *rng, time_t now, gnutls_privkey_t *key,
    gnutls_x509_crt_t *crt)
{
	struct cert_issuer iss = { ca->as, ca->as_key };
	struct cert_request req;
	gnutls_privkey_t k = NULL;
	gnutls_pubkey_t pub = NULL;
	int rv;

	*crt = NULL;
	if (key != NULL)
		*key = NULL;
	memset(&req, 0, sizeof(req));
	req.role = l->role != CERT_ROLE_INVALID ? l->role : CERT_ROLE_NODE;
	req.fqdn = l->fqdn;
	req.zones = l->zones;
	req.nzones = l->nzones;
	req.lifetime = l->lifetime;
	if (l->vip4 != NULL) {
		if (inet_pton(AF_INET, l->vip4, &req.vip4) != 1)
			return -EINVAL;
		req.has_vip4 = true;
	}
	if (l->vip6 != NULL) {
		if (inet_pton(AF_INET6, l->vip6, &req.vip6) != 1)
			return -EINVAL;
		req.has_vip6 = true;
	}
	req.pubkey = l->pubkey;
	if (req.pubkey == NULL) {
		if (key == NULL)
			return -EINVAL;
		if ((rv = cert_key_generate(l->keytype != CERT_KEY_INVALID ?
		    l->keytype : CERT_KEY_P256, &k)) < 0 ||
		    (rv = cert_pubkey_of(k, &pub)) < 0)
			goto out;
		req.pubkey = pub;
	}
	if ((rv = cert_issue(&req, &iss, rng, now, crt)) < 0)
		goto out;
	if (key != NULL) {
		*key = k;
		k = NULL;
	}
out:
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(k);
	return rv;
}

/*
 * The AS key as the AS's signer process gives it to GnuTLS: an external key
 * whose callbacks sign with `real` (ECDSA P-256), counting the signatures.
 */
struct testca_signer {
	gnutls_privkey_t	 real;		/* borrowed */
	int			 calls;
};

/* GnuTLS hands the data, or for ECDSA certificates the digest, to sign. */
static inline int
testca_signer_sign(void *userdata, gnutls_sign_algorithm_t algo,
    const gnutls_datum_t *in, bool hashed, gnutls_datum_t *sig)
{
	struct testca_signer *s = userdata;

	s->calls++;
	if (hashed)
		return gnutls_privkey_sign_hash2(s->real, algo, 0, in, sig);
	return gnutls_privkey_sign_data2(s->real, algo, 0, in, sig);
}

static inline int
testca_signer_data(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
    void *userdata, unsigned int flags, const gnutls_datum_t *data,
    gnutls_datum_t *sig)
{
	return testca_signer_sign(userdata, algo, data, false, sig);
}

static inline int
testca_signer_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
    void *userdata, unsigned int flags, const gnutls_datum_t *hash,
    gnutls_datum_t *sig)
{
	return testca_signer_sign(userdata, algo, hash, true, sig);
}

static inline int
testca_signer_info(gnutls_privkey_t key, unsigned int flags, void *userdata)
{
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return GNUTLS_PK_ECDSA;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return 256;
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO)
		return GNUTLS_FLAGS_TO_SIGN_ALGO(flags) ==
		    GNUTLS_SIGN_ECDSA_SHA256;
	return -1;
}

/* *out (the caller's) signs through s, which must outlive it. */
static inline int
testca_signer_key(struct testca_signer *s, gnutls_privkey_t *out)
{
	if (gnutls_privkey_init(out) < 0)
		return -ENOMEM;
	if (gnutls_privkey_import_ext4(*out, s, testca_signer_data,
	    testca_signer_hash, NULL, NULL, testca_signer_info, 0) < 0) {
		gnutls_privkey_deinit(*out);
		*out = NULL;
		return CERT_E_GNUTLS;
	}
	return 0;
}

#endif
