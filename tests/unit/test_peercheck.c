/* test_peercheck.c -- peer verification: chain, role, status, name, dates, virtual IPs, cache. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cert.h"
#include "crypto.h"
#include "log.h"
#include "ocsp.h"
#include "peercheck.h"
#include "rand.h"

#include "../testca.h"

#define NOW	((time_t)1795000000)

struct ca {
	struct cert_ca		 cert;
	struct ocsp_signer	*signer;
};

struct leaf {
	gnutls_privkey_t	 key;
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 der;
	uint8_t			 hash[32];
	uint8_t			 serial[32];
	size_t			 serial_len;
	uint8_t			 vip4[4];
	uint8_t			 vip6[16];
};

struct fix {
	struct ntm_rng		*rng;
	struct ca		 ca, other;
	struct cert_trust	*trust;
	struct leaf		 bob;		/* good, v4 + v6 */
	struct leaf		 bob_other;	/* other root */
	struct leaf		 bob_old;	/* expired by NOW */
	struct leaf		 bob_rs;	/* role ntm-rs */
	struct leaf		 alice;
	struct peercheck	*pc;
};

static void
ca_make_life(struct fix *f, struct ca *c, time_t as_issued,
    uint32_t as_lifetime);

static void
ca_make(struct fix *f, struct ca *c)
{
	ca_make_life(f, c, NOW - 30 * 86400, 0);
}

/* A root and an AS issued at as_issued, the AS for as_lifetime (0: default). */
static void
ca_make_life(struct fix *f, struct ca *c, time_t as_issued,
    uint32_t as_lifetime)
{
	const struct testca_opts o = { .as_lifetime = as_lifetime };

	assert_int_equal(testca_make(&c->cert, &o, f->rng, as_issued), 0);
	assert_int_equal(ocsp_signer_new(c->cert.as, &c->signer), 0);
}

static void
ca_free(struct ca *c)
{
	ocsp_signer_free(c->signer);
	cert_ca_clear(&c->cert);
}

static void
leaf_make_key(struct fix *f, struct leaf *l, const struct ca *c,
    enum cert_keytype kt, enum cert_role role, const char *fqdn,
    const char *v4, const char *v6, time_t issued, uint32_t lifetime)
{
	const struct testca_leaf tl = { .role = role, .keytype = kt,
	    .fqdn = fqdn, .vip4 = v4, .vip6 = v6, .lifetime = lifetime };

	assert_int_equal(testca_vips(&tl, l->vip4, l->vip6), 0);
	assert_int_equal(testca_issue(&c->cert, &tl, f->rng, issued, &l->key,
	    &l->crt), 0);
	assert_int_equal(gnutls_x509_crt_export2(l->crt, GNUTLS_X509_FMT_DER,
	    &l->der), 0);
	crypto_sha256(l->hash, l->der.data, l->der.size);
	l->serial_len = sizeof(l->serial);
	assert_int_equal(gnutls_x509_crt_get_serial(l->crt, l->serial,
	    &l->serial_len), 0);
}

static void
leaf_make(struct fix *f, struct leaf *l, const struct ca *c,
    enum cert_role role, const char *fqdn, const char *v4, const char *v6,
    time_t issued, uint32_t lifetime)
{
	leaf_make_key(f, l, c, CERT_KEY_P256, role, fqdn, v4, v6, issued,
	    lifetime);
}

static void
leaf_free(struct leaf *l)
{
	gnutls_free(l->der.data);
	gnutls_x509_crt_deinit(l->crt);
	gnutls_privkey_deinit(l->key);
}

/* A status about l, signed by c's AS, issued at t. */
static gnutls_datum_t
status_make(const struct ca *c, const struct leaf *l, enum ocsp_cert_status s,
    time_t t)
{
	struct ocsp_status st;
	gnutls_datum_t der;

	memset(&st, 0, sizeof(st));
	st.status = s;
	st.produced_at = t;
	st.this_update = t;
	st.next_update = t + OCSP_VALIDITY_DEFAULT;
	if (s == OCSP_CERT_REVOKED) {
		st.revocation_time = t - 10;
		st.reason = OCSP_REASON_KEY_COMPROMISE;
	}
	assert_int_equal(ocsp_sign(c->signer, c->cert.as_key, l->serial,
	    l->serial_len, &st, &der), 0);
	return der;
}

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct peercheck_conf conf;

	assert_non_null(f);
	log_init("test_peercheck", 1, LOG_LEVEL_ERR);
	f->rng = rng_seeded_new("test_peercheck", 14);
	ca_make(f, &f->ca);
	ca_make(f, &f->other);
	assert_int_equal(cert_trust_new(&f->ca.cert.root, 1, &f->trust), 0);
	leaf_make(f, &f->bob, &f->ca, CERT_ROLE_NODE, "bob.dc2.ntm.test",
	    "198.18.2.10", "fd6e:746d:6f62:2::10", NOW - 3600, 86400);
	leaf_make(f, &f->bob_other, &f->other, CERT_ROLE_NODE,
	    "bob.dc2.ntm.test", "198.18.2.10", "fd6e:746d:6f62:2::10",
	    NOW - 3600, 86400);
	leaf_make(f, &f->bob_old, &f->ca, CERT_ROLE_NODE, "bob.dc2.ntm.test",
	    "198.18.2.10", "fd6e:746d:6f62:2::10", NOW - 3 * 86400, 86400);
	leaf_make(f, &f->bob_rs, &f->ca, CERT_ROLE_RS, "bob.dc2.ntm.test",
	    NULL, NULL, NOW - 3600, 86400);
	leaf_make(f, &f->alice, &f->ca, CERT_ROLE_NODE, "alice.dc1.ntm.test",
	    "198.18.1.10", NULL, NOW - 3600, 86400);
	memset(&conf, 0, sizeof(conf));
	conf.trust = f->trust;
	conf.as_ca = f->ca.cert.as;
	assert_int_equal(peercheck_new(&f->pc, &conf), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	peercheck_free(f->pc);
	leaf_free(&f->alice);
	leaf_free(&f->bob_rs);
	leaf_free(&f->bob_old);
	leaf_free(&f->bob_other);
	leaf_free(&f->bob);
	cert_trust_free(f->trust);
	ca_free(&f->other);
	ca_free(&f->ca);
	rng_free(f->rng);
	free(f);
	return 0;
}

/* What a Route Direction toward bob directs. */
static struct peercheck_expect
expect_bob(const struct leaf *l)
{
	struct peercheck_expect ex;

	memset(&ex, 0, sizeof(ex));
	ex.fqdn = "bob.dc2.ntm.test";
	ex.vip4 = l->vip4;
	ex.vip6 = l->vip6;
	ex.cert_hash = l->hash;
	ex.serial = l->serial;
	ex.serial_len = l->serial_len;
	return ex;
}

static int
verify(struct fix *f, const struct leaf *l, const gnutls_datum_t *st,
    const struct peercheck_expect *ex, time_t now)
{
	return peercheck_verify(f->pc, l->der.data, l->der.size, st->data,
	    st->size, ex, now, NULL);
}

/* verify() as the handshake calls it: *pub lent from the cache. */
static int
borrow(struct fix *f, const struct leaf *l, const gnutls_datum_t *st,
    const struct peercheck_expect *ex, gnutls_pubkey_t *pub)
{
	return peercheck_verify_borrow(f->pc, l->der.data, l->der.size,
	    st->data, st->size, ex, NOW, pub);
}

/*
 * A node enrolled with [node] key_type = rsa2048: its certificate passes
 * every check, and the key given back (and found by hash, as an rsa
 * initiator looks it up) is the RSA-2048 key the certificate allows
 * key encipherment with.
 */
static void
test_rsa_peer(void **state)
{
	struct fix *f = *state;
	struct peercheck_expect ex;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t st;
	struct leaf bob;
	unsigned int ku = 0;

	leaf_make_key(f, &bob, &f->ca, CERT_KEY_RSA2048, CERT_ROLE_NODE,
	    "bob.dc2.ntm.test", "198.18.2.10", "fd6e:746d:6f62:2::10",
	    NOW - 3600, 86400);
	assert_true(gnutls_x509_crt_get_key_usage(bob.crt, &ku, NULL) >= 0);
	assert_true(ku & GNUTLS_KEY_KEY_ENCIPHERMENT);
	assert_true(ku & GNUTLS_KEY_DIGITAL_SIGNATURE);
	ex = expect_bob(&bob);
	st = status_make(&f->ca, &bob, OCSP_CERT_GOOD, NOW - 60);
	assert_int_equal(peercheck_verify(f->pc, bob.der.data, bob.der.size,
	    st.data, st.size, &ex, NOW, &pub), 0);
	assert_non_null(pub);
	assert_int_equal(cert_key_type(pub), CERT_KEY_RSA2048);
	gnutls_pubkey_deinit(pub);
	pub = NULL;
	assert_int_equal(peercheck_cert_pubkey(f->pc, bob.hash, &pub), 0);
	assert_int_equal(cert_key_type(pub), CERT_KEY_RSA2048);
	gnutls_pubkey_deinit(pub);
	/* The same checks refuse it as for any key: another name here. */
	ex.fqdn = "carol.dc2.ntm.test";
	assert_int_equal(verify(f, &bob, &st, &ex, NOW), PEERCHECK_E_FQDN);
	/* A P-256 peer's key, the one rsa must not be run toward. */
	assert_int_equal(peercheck_cert_add(f->pc, f->bob.der.data,
	    f->bob.der.size), 0);
	assert_int_equal(peercheck_cert_pubkey(f->pc, f->bob.hash, &pub), 0);
	assert_int_equal(cert_key_type(pub), CERT_KEY_P256);
	gnutls_pubkey_deinit(pub);
	gnutls_free(st.data);
	leaf_free(&bob);
}

/*
 * peercheck_verify_borrow: the key kept with the cached certificate, the
 * same object each time, checks bob's signatures; a refusal lends none.
 */
static void
test_borrowed_key(void **state)
{
	struct fix *f = *state;
	struct peercheck_expect ex = expect_bob(&f->bob);
	gnutls_datum_t st = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 60);
	gnutls_datum_t msg = { (unsigned char *)"transcript", 10 }, sig;
	gnutls_pubkey_t pub = NULL, again = NULL;

	assert_int_equal(borrow(f, &f->bob, &st, &ex, &pub), 0);
	assert_non_null(pub);
	assert_int_equal(cert_key_type(pub), CERT_KEY_P256);
	assert_int_equal(gnutls_privkey_sign_data2(f->bob.key,
	    GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 0, &msg, &sig), 0);
	assert_true(gnutls_pubkey_verify_data2(pub,
	    GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 0, &msg, &sig) >= 0);
	sig.data[sig.size - 1] ^= 1;
	assert_true(gnutls_pubkey_verify_data2(pub,
	    GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 0, &msg, &sig) < 0);
	assert_int_equal(borrow(f, &f->bob, &st, &ex, &again), 0);
	assert_ptr_equal(again, pub);
	/* Another expected name: refused, nothing lent. */
	ex.fqdn = "carol.dc2.ntm.test";
	assert_int_equal(borrow(f, &f->bob, &st, &ex, &again),
	    PEERCHECK_E_FQDN);
	assert_null(again);
	gnutls_free(sig.data);
	gnutls_free(st.data);
}

static void
test_good_peer_and_cache(void **state)
{
	struct fix *f = *state;
	struct peercheck_expect ex = expect_bob(&f->bob);
	gnutls_datum_t st = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 60);
	gnutls_pubkey_t pub = NULL;
	const uint8_t *der;
	size_t len;

	assert_int_equal(peercheck_verify(f->pc, f->bob.der.data,
	    f->bob.der.size, st.data, st.size, &ex, NOW, &pub), 0);
	assert_non_null(pub);
	assert_int_equal(cert_key_type(pub), CERT_KEY_P256);
	gnutls_pubkey_deinit(pub);
	assert_int_equal(peercheck_stats(f->pc)->verified, 1);
	assert_int_equal(peercheck_stats(f->pc)->cache_hits, 0);
	/* Same pair again: no signature work, same answer. */
	assert_int_equal(verify(f, &f->bob, &st, &ex, NOW + 1), 0);
	assert_int_equal(peercheck_stats(f->pc)->cache_hits, 1);
	/* The cached pair still obeys the clock and the expectation. */
	assert_int_equal(verify(f, &f->bob, &st, &ex,
	    NOW + OCSP_VALIDITY_DEFAULT + PEERCHECK_SKEW + 60),
	    PEERCHECK_E_STATUS_EXPIRED);
	ex.fqdn = "carol.dc2.ntm.test";
	assert_int_equal(verify(f, &f->bob, &st, &ex, NOW), PEERCHECK_E_FQDN);
	/* The certificate is kept by its hash (peers may send CERT_HASH). */
	assert_int_equal(peercheck_cert_find(f->pc, f->bob.hash, &der, &len),
	    0);
	assert_int_equal(len, f->bob.der.size);
	assert_memory_equal(der, f->bob.der.data, len);
	assert_int_equal(peercheck_cert_find(f->pc, f->alice.hash, &der,
	    &len), -ENOENT);
	gnutls_free(st.data);
}

static void
test_other_root_refused(void **state)
{
	struct fix *f = *state;
	struct peercheck_expect ex = expect_bob(&f->bob_other);
	gnutls_datum_t st = status_make(&f->other, &f->bob_other,
	    OCSP_CERT_GOOD, NOW - 60);

	assert_int_equal(verify(f, &f->bob_other, &st, &ex, NOW),
	    PEERCHECK_E_CHAIN);
	assert_int_equal(peercheck_status(PEERCHECK_E_CHAIN),
	    PROTO_STATUS_CERT_INVALID);
	assert_int_equal(peercheck_stats(f->pc)->refused[PEERCHECK_E_CHAIN -
	    PEERCHECK_E_FIRST], 1);
	gnutls_free(st.data);
}

static void
test_dates_with_skew(void **state)
{
	struct fix *f = *state;
	struct peercheck_expect ex = expect_bob(&f->bob_old);
	time_t end = NOW - 3 * 86400 + 86400;
	gnutls_datum_t st = status_make(&f->ca, &f->bob_old, OCSP_CERT_GOOD,
	    end + 100);

	/* notAfter passed by more than the skew. */
	assert_int_equal(verify(f, &f->bob_old, &st, &ex, end + 400),
	    PEERCHECK_E_EXPIRED);
	assert_int_equal(peercheck_status(PEERCHECK_E_EXPIRED),
	    PROTO_STATUS_EXPIRED);
	/* Within five minutes of it: tolerated. */
	assert_int_equal(verify(f, &f->bob_old, &st, &ex, end + 200), 0);
	gnutls_free(st.data);
	/* Not yet valid, beyond the skew (notBefore is issue - 5 min). */
	ex = expect_bob(&f->bob);
	st = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD, NOW - 3600 - 900);
	assert_int_equal(verify(f, &f->bob, &st, &ex, NOW - 3600 - 1000),
	    PEERCHECK_E_NOT_YET_VALID);
	gnutls_free(st.data);
}

static void
test_revoked_is_final(void **state)
{
	struct fix *f = *state;
	struct peercheck_expect ex = expect_bob(&f->bob);
	gnutls_datum_t rev = status_make(&f->ca, &f->bob, OCSP_CERT_REVOKED,
	    NOW - 30);
	gnutls_datum_t good = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 10);
	bool revoked = false;

	assert_int_equal(verify(f, &f->bob, &rev, &ex, NOW),
	    PEERCHECK_E_REVOKED);
	assert_int_equal(peercheck_status(PEERCHECK_E_REVOKED),
	    PROTO_STATUS_REVOKED);
	(void)peercheck_newest(f->pc, f->bob.serial, f->bob.serial_len,
	    &revoked);
	assert_true(revoked);
	/* A newer good status (a DC hiding the revocation) changes nothing. */
	assert_int_equal(verify(f, &f->bob, &good, &ex, NOW),
	    PEERCHECK_E_REVOKED);
	assert_int_equal(peercheck_status_check(f->pc, ex.fqdn, f->bob.serial,
	    f->bob.serial_len, good.data, good.size, NOW),
	    PEERCHECK_E_REVOKED);
	gnutls_free(good.data);
	gnutls_free(rev.data);
}

static void
test_stale_and_expired_status(void **state)
{
	struct fix *f = *state;
	struct peercheck_expect ex = expect_bob(&f->bob);
	gnutls_datum_t older = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 300);
	gnutls_datum_t newer = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 100);
	gnutls_datum_t old = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 3600);

	assert_int_equal(verify(f, &f->bob, &newer, &ex, NOW), 0);
	assert_int_equal(peercheck_newest(f->pc, f->bob.serial,
	    f->bob.serial_len, NULL), NOW - 100);
	/*
	 * A peer's own staple, older than the good status its DC handed out
	 * (still valid): the newer one stands for the serial, so the tunnel
	 * goes ahead, and the newest seen does not move back.
	 */
	assert_int_equal(verify(f, &f->bob, &older, &ex, NOW), 0);
	assert_int_equal(peercheck_newest(f->pc, f->bob.serial,
	    f->bob.serial_len, NULL), NOW - 100);
	/* A status handed out on its own must not be older than one seen. */
	assert_int_equal(peercheck_status(PEERCHECK_E_STALE),
	    PROTO_STATUS_STALE_STATUS);
	assert_int_equal(peercheck_status_check(f->pc, ex.fqdn, f->bob.serial,
	    f->bob.serial_len, older.data, older.size, NOW),
	    PEERCHECK_E_STALE);
	/* Past its nextUpdate (10 min) by more than the skew. */
	assert_int_equal(verify(f, &f->bob, &old, &ex, NOW),
	    PEERCHECK_E_STATUS_EXPIRED);
	gnutls_free(old.data);
	gnutls_free(newer.data);
	gnutls_free(older.data);
}

/*
 * No staple past its nextUpdate, not even within the clock skew: a live
 * tunnel closes at nextUpdate (intunnel), so the handshake taking one
 * would set up a tunnel that the next tick closes again.  A status whose
 * thisUpdate is ahead of our clock (an AS clock running fast) is taken
 * within the skew.
 */
static void
test_status_end_strict(void **state)
{
	struct fix *f = *state;
	struct peercheck_expect ex = expect_bob(&f->bob);
	gnutls_datum_t ended = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - OCSP_VALIDITY_DEFAULT - 60);
	gnutls_datum_t ahead = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW + 60);

	assert_int_equal(verify(f, &f->bob, &ended, &ex, NOW),
	    PEERCHECK_E_STATUS_EXPIRED);
	assert_int_equal(peercheck_status_check(f->pc, ex.fqdn, f->bob.serial,
	    f->bob.serial_len, ended.data, ended.size, NOW),
	    PEERCHECK_E_STATUS_EXPIRED);
	/* The same staple a second before its end still counts. */
	assert_int_equal(verify(f, &f->bob, &ended, &ex,
	    NOW - 61), 0);
	assert_int_equal(verify(f, &f->bob, &ahead, &ex, NOW), 0);
	gnutls_free(ended.data);
	gnutls_free(ahead.data);
}

static void
test_wrong_role_refused(void **state)
{
	struct fix *f = *state;
	struct peercheck_expect ex = expect_bob(&f->bob_rs);
	gnutls_datum_t st = status_make(&f->ca, &f->bob_rs, OCSP_CERT_GOOD,
	    NOW - 60);

	ex.vip4 = f->bob.vip4;
	ex.vip6 = NULL;
	assert_int_equal(verify(f, &f->bob_rs, &st, &ex, NOW),
	    PEERCHECK_E_ROLE);
	gnutls_free(st.data);
}

static void
test_name_address_serial_hash(void **state)
{
	struct fix *f = *state;
	struct peercheck_expect ex = expect_bob(&f->bob);
	gnutls_datum_t st = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 60);
	gnutls_datum_t st_alice = status_make(&f->ca, &f->alice,
	    OCSP_CERT_GOOD, NOW - 60);
	uint8_t other4[4] = { 198, 18, 2, 11 };
	uint8_t serial[32];

	ex.fqdn = "alice.dc1.ntm.test";
	assert_int_equal(verify(f, &f->bob, &st, &ex, NOW), PEERCHECK_E_FQDN);
	ex = expect_bob(&f->bob);
	ex.vip4 = other4;
	assert_int_equal(verify(f, &f->bob, &st, &ex, NOW), PEERCHECK_E_VIP);
	/* The certificate has an IPv6 address the DC did not direct. */
	ex = expect_bob(&f->bob);
	ex.vip6 = NULL;
	assert_int_equal(verify(f, &f->bob, &st, &ex, NOW), PEERCHECK_E_VIP);
	ex = expect_bob(&f->bob);
	memcpy(serial, f->bob.serial, f->bob.serial_len);
	serial[f->bob.serial_len - 1] ^= 1;
	ex.serial = serial;
	assert_int_equal(verify(f, &f->bob, &st, &ex, NOW), PEERCHECK_E_SERIAL);
	ex = expect_bob(&f->bob);
	ex.cert_hash = f->alice.hash;
	assert_int_equal(verify(f, &f->bob, &st, &ex, NOW),
	    PEERCHECK_E_CERT_HASH);
	/* A good status about another certificate. */
	ex = expect_bob(&f->bob);
	assert_int_equal(verify(f, &f->bob, &st_alice, &ex, NOW),
	    PEERCHECK_E_STATUS);
	/* Garbage certificate. */
	assert_int_equal(peercheck_verify(f->pc, (const uint8_t *)"junk", 4,
	    st.data, st.size, &ex, NOW, NULL), PEERCHECK_E_CERT_PARSE);
	assert_int_equal(verify(f, &f->bob, &st, &ex, NOW), 0);
	gnutls_free(st_alice.data);
	gnutls_free(st.data);
}

/* The Route Direction's status, checked before the certificate arrives. */
static void
test_status_alone(void **state)
{
	struct fix *f = *state;
	gnutls_datum_t st = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 60);
	gnutls_datum_t other = status_make(&f->other, &f->bob_other,
	    OCSP_CERT_GOOD, NOW - 60);
	gnutls_datum_t rev = status_make(&f->ca, &f->alice,
	    OCSP_CERT_REVOKED, NOW - 60);
	const char *n = "bob.dc2.ntm.test";

	assert_int_equal(peercheck_status_check(f->pc, n, f->bob.serial,
	    f->bob.serial_len, st.data, st.size, NOW), 0);
	assert_int_equal(peercheck_newest(f->pc, f->bob.serial,
	    f->bob.serial_len, NULL), NOW - 60);
	/* Directed serial differs from the status's. */
	assert_int_equal(peercheck_status_check(f->pc, n, f->alice.serial,
	    f->alice.serial_len, st.data, st.size, NOW), PEERCHECK_E_STATUS);
	/* Signed by another AS. */
	assert_int_equal(peercheck_status_check(f->pc, n, f->bob_other.serial,
	    f->bob_other.serial_len, other.data, other.size, NOW),
	    PEERCHECK_E_STATUS);
	assert_int_equal(peercheck_status_check(f->pc, n, f->alice.serial,
	    f->alice.serial_len, rev.data, rev.size, NOW),
	    PEERCHECK_E_REVOKED);
	assert_int_equal(peercheck_status_check(f->pc, n, f->bob.serial,
	    f->bob.serial_len, st.data, st.size,
	    NOW + OCSP_VALIDITY_DEFAULT + PEERCHECK_SKEW + 1),
	    PEERCHECK_E_STATUS_EXPIRED);
	assert_int_equal(peercheck_status_check(f->pc, n, f->bob.serial,
	    f->bob.serial_len, (const uint8_t *)"x", 1, NOW),
	    PEERCHECK_E_STATUS);
	gnutls_free(rev.data);
	gnutls_free(other.data);
	gnutls_free(st.data);
}

/* ---- the cached path refuses exactly what the uncached path refuses ---- */

/* A status with its own validity (status_make's is the default 10 min). */
static gnutls_datum_t
status_make_v(const struct ca *c, const struct leaf *l,
    enum ocsp_cert_status s, time_t t, time_t validity)
{
	struct ocsp_status st;
	gnutls_datum_t der;

	memset(&st, 0, sizeof(st));
	st.status = s;
	st.produced_at = st.this_update = t;
	st.next_update = t + validity;
	if (s == OCSP_CERT_REVOKED) {
		st.revocation_time = t - 10;
		st.reason = OCSP_REASON_KEY_COMPROMISE;
	}
	assert_int_equal(ocsp_sign(c->signer, c->cert.as_key, l->serial,
	    l->serial_len, &st, &der), 0);
	return der;
}

/* One row: a certificate and staple at `now`, after an optional prime. */
struct pc_row {
	const char			*name;
	const gnutls_datum_t		*cert;
	const gnutls_datum_t		*status;
	struct peercheck_expect		 ex;
	time_t				 now;
	const gnutls_datum_t		*prime_cert;	/* verified first */
	const gnutls_datum_t		*prime_status;
	time_t				 prime_now;
	bool				 prime_rd;	/* status check only */
	int				 want;
};

enum pc_way {
	PC_WAY_UNCACHED,	/* peercheck_new_uncached */
	PC_WAY_COLD,		/* cached, first sight */
	PC_WAY_AFTER_RD,	/* cached, status read at Route Direction */
	PC_WAY_AGAIN,		/* cached, the same call a second time */
	PC_WAY_N,
};

static int
row_run(struct fix *f, const struct pc_row *r, enum pc_way way)
{
	struct peercheck_conf conf;
	struct peercheck *pc;
	int rv, again;

	memset(&conf, 0, sizeof(conf));
	conf.trust = f->trust;
	conf.as_ca = f->ca.cert.as;
	assert_int_equal((way == PC_WAY_UNCACHED ?
	    peercheck_new_uncached(&pc, &conf) : peercheck_new(&pc, &conf)),
	    0);
	if (r->prime_rd)
		(void)peercheck_status_check(pc, r->ex.fqdn, r->ex.serial,
		    r->ex.serial_len, r->prime_status->data,
		    r->prime_status->size, r->prime_now);
	else if (r->prime_cert != NULL) {
		/* Every prime in the table is bob, as directed. */
		struct peercheck_expect pex = expect_bob(&f->bob);

		assert_int_equal(peercheck_verify(pc, r->prime_cert->data,
		    r->prime_cert->size, r->prime_status->data,
		    r->prime_status->size, &pex, r->prime_now, NULL), 0);
	}
	/* Whatever the Route Direction check says, the staple is read. */
	if (way == PC_WAY_AFTER_RD)
		(void)peercheck_status_check(pc, r->ex.fqdn, r->ex.serial,
		    r->ex.serial_len, r->status->data, r->status->size,
		    r->now);
	rv = peercheck_verify(pc, r->cert->data, r->cert->size,
	    r->status->data, r->status->size, &r->ex, r->now, NULL);
	if (way == PC_WAY_AGAIN) {
		again = peercheck_verify(pc, r->cert->data, r->cert->size,
		    r->status->data, r->status->size, &r->ex, r->now, NULL);
		if (again != rv)
			fail_msg("%s: second call %d, first %d", r->name,
			    again, rv);
		if (rv == 0)
			assert_int_equal(peercheck_stats(pc)->cache_hits, 1);
	}
	peercheck_free(pc);
	return rv;
}

static void
test_cached_refuses_as_uncached(void **state)
{
	struct fix *f = *state;
	struct peercheck_expect bob = expect_bob(&f->bob);
	struct peercheck_expect old = expect_bob(&f->bob_old);
	struct peercheck_expect other = expect_bob(&f->bob_other);
	struct peercheck_expect rs = expect_bob(&f->bob_rs);
	struct peercheck_expect e;
	const time_t end = NOW - 3 * 86400 + 86400;	/* bob_old's end */
	uint8_t v4[4] = { 198, 18, 2, 11 }, serial[32], hash[32];
	gnutls_datum_t good = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 60);
	gnutls_datum_t rev = status_make(&f->ca, &f->bob, OCSP_CERT_REVOKED,
	    NOW - 30);
	gnutls_datum_t forged = status_make(&f->other, &f->bob,
	    OCSP_CERT_GOOD, NOW - 60);
	gnutls_datum_t st_alice = status_make(&f->ca, &f->alice,
	    OCSP_CERT_GOOD, NOW - 60);
	gnutls_datum_t st_old = status_make(&f->ca, &f->bob_old,
	    OCSP_CERT_GOOD, NOW - 60);
	gnutls_datum_t st_old_end = status_make(&f->ca, &f->bob_old,
	    OCSP_CERT_GOOD, end + 100);
	gnutls_datum_t st_other = status_make(&f->other, &f->bob_other,
	    OCSP_CERT_GOOD, NOW - 60);
	gnutls_datum_t st_rs = status_make(&f->ca, &f->bob_rs, OCSP_CERT_GOOD,
	    NOW - 60);
	gnutls_datum_t early = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 3600 - 900);
	gnutls_datum_t aged = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 3600);
	gnutls_datum_t future = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW + 1000);
	/* Stale: a newer short status seen, expired; an older long one. */
	gnutls_datum_t newer = status_make_v(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 900, 600);
	gnutls_datum_t older = status_make_v(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 1000, OCSP_VALIDITY_MAX);
	gnutls_datum_t tampered;
	struct peercheck_expect ex_t;
	size_t i, w;
	int got;

	/* bob's certificate with one bit of the AS's signature flipped. */
	tampered.size = f->bob.der.size;
	tampered.data = malloc(tampered.size);
	assert_non_null(tampered.data);
	memcpy(tampered.data, f->bob.der.data, tampered.size);
	tampered.data[tampered.size - 2] ^= 0x01;
	ex_t = bob;
	crypto_sha256(hash, tampered.data, tampered.size);
	ex_t.cert_hash = hash;
	rs.vip4 = f->bob.vip4;
	rs.vip6 = NULL;

	{
		struct pc_row rows[32];
		size_t n = 0;

#define ROW(nm, c, st, e_, t, w_) do {					\
	memset(&rows[n], 0, sizeof(rows[n]));				\
	rows[n].name = (nm);						\
	rows[n].cert = (c);						\
	rows[n].status = (st);						\
	rows[n].ex = (e_);						\
	rows[n].now = (t);						\
	rows[n].want = (w_);						\
	n++;								\
} while (0)
#define PRIME(c, st, t) do {						\
	rows[n - 1].prime_cert = (c);					\
	rows[n - 1].prime_status = (st);				\
	rows[n - 1].prime_now = (t);					\
} while (0)
		ROW("good", &f->bob.der, &good, bob, NOW, 0);
		ROW("revoked", &f->bob.der, &rev, bob, NOW,
		    PEERCHECK_E_REVOKED);
		/* A revocation seen at a Route Direction is final. */
		ROW("revoked seen before", &f->bob.der, &good, bob, NOW,
		    PEERCHECK_E_REVOKED);
		PRIME(NULL, &rev, NOW);
		rows[n - 1].prime_rd = true;
		ROW("expired certificate", &f->bob_old.der, &st_old, old, NOW,
		    PEERCHECK_E_EXPIRED);
		ROW("expired within skew", &f->bob_old.der, &st_old_end, old,
		    end + 200, 0);
		ROW("expired beyond skew", &f->bob_old.der, &st_old_end, old,
		    end + 400, PEERCHECK_E_EXPIRED);
		ROW("not yet valid", &f->bob.der, &early, bob,
		    NOW - 3600 - 1000, PEERCHECK_E_NOT_YET_VALID);
		ROW("other root", &f->bob_other.der, &st_other, other, NOW,
		    PEERCHECK_E_CHAIN);
		ROW("bad signature", &tampered, &good, ex_t, NOW,
		    PEERCHECK_E_CHAIN);
		ROW("wrong role", &f->bob_rs.der, &st_rs, rs, NOW,
		    PEERCHECK_E_ROLE);
		e = bob;
		e.fqdn = "carol.dc2.ntm.test";
		ROW("wrong name", &f->bob.der, &good, e, NOW,
		    PEERCHECK_E_FQDN);
		e = bob;
		e.vip4 = v4;
		ROW("wrong address", &f->bob.der, &good, e, NOW,
		    PEERCHECK_E_VIP);
		e = bob;
		memcpy(serial, f->bob.serial, f->bob.serial_len);
		serial[f->bob.serial_len - 1] ^= 1;
		e.serial = serial;
		ROW("wrong serial", &f->bob.der, &good, e, NOW,
		    PEERCHECK_E_SERIAL);
		e = bob;
		e.cert_hash = f->alice.hash;
		ROW("not the directed certificate", &f->bob.der, &good, e, NOW,
		    PEERCHECK_E_CERT_HASH);
		ROW("status of another", &f->bob.der, &st_alice, bob, NOW,
		    PEERCHECK_E_STATUS);
		ROW("status by another AS", &f->bob.der, &forged, bob, NOW,
		    PEERCHECK_E_STATUS);
		ROW("status past nextUpdate", &f->bob.der, &aged, bob, NOW,
		    PEERCHECK_E_STATUS_EXPIRED);
		ROW("status from the future", &f->bob.der, &future, bob, NOW,
		    PEERCHECK_E_STATUS_EXPIRED);
		ROW("stale status", &f->bob.der, &older, bob, NOW + 100,
		    PEERCHECK_E_STALE);
		PRIME(&f->bob.der, &newer, NOW - 800);
		/* A pair verified once must still obey the clock. */
		ROW("good, later expired", &f->bob.der, &good, bob,
		    NOW + 86400, PEERCHECK_E_EXPIRED);
		PRIME(&f->bob.der, &good, NOW);
		ROW("good, status later stale", &f->bob.der, &good, bob,
		    NOW + OCSP_VALIDITY_DEFAULT + PEERCHECK_SKEW + 1,
		    PEERCHECK_E_STATUS_EXPIRED);
		PRIME(&f->bob.der, &good, NOW);
		e = bob;
		e.fqdn = "bob.dc1.ntm.test";
		ROW("good, later another name", &f->bob.der, &good, e, NOW,
		    PEERCHECK_E_FQDN);
		PRIME(&f->bob.der, &good, NOW);
		e = bob;
		e.vip6 = NULL;
		ROW("good, later fewer addresses", &f->bob.der, &good, e, NOW,
		    PEERCHECK_E_VIP);
		PRIME(&f->bob.der, &good, NOW);
#undef ROW
#undef PRIME
		for (i = 0; i < n; i++)
			for (w = 0; w < PC_WAY_N; w++) {
				got = row_run(f, &rows[i], w);
				if (got != rows[i].want)
					fail_msg("%s (way %zu): %d (%s), want "
					    "%d (%s)", rows[i].name, w, got,
					    peercheck_strerror(got),
					    rows[i].want,
					    peercheck_strerror(rows[i].want));
			}
	}
	free(tampered.data);
	gnutls_free(older.data);
	gnutls_free(newer.data);
	gnutls_free(future.data);
	gnutls_free(aged.data);
	gnutls_free(early.data);
	gnutls_free(st_rs.data);
	gnutls_free(st_other.data);
	gnutls_free(st_old_end.data);
	gnutls_free(st_old.data);
	gnutls_free(st_alice.data);
	gnutls_free(forged.data);
	gnutls_free(rev.data);
	gnutls_free(good.data);
}

/*
 * The cached path's point: after the Route Direction's status check, the
 * Tunnel Response's certificate costs no second status verification and
 * a second sight of the certificate no chain work; the counters show the
 * pair cache, the result shows the same peer accepted.
 */
static void
test_cached_work_skipped(void **state)
{
	struct fix *f = *state;
	struct peercheck_expect ex = expect_bob(&f->bob);
	gnutls_datum_t st = status_make(&f->ca, &f->bob, OCSP_CERT_GOOD,
	    NOW - 60);
	time_t tu = 0, nu = 0;

	assert_int_equal(peercheck_status_check(f->pc, ex.fqdn, ex.serial,
	    ex.serial_len, st.data, st.size, NOW), 0);
	assert_int_equal(peercheck_status_times(f->pc, st.data, st.size, &tu,
	    &nu), 0);
	assert_int_equal(tu, NOW - 60);
	assert_int_equal(verify(f, &f->bob, &st, &ex, NOW), 0);
	assert_int_equal(peercheck_stats(f->pc)->verified, 1);
	assert_int_equal(peercheck_stats(f->pc)->cache_hits, 0);
	assert_int_equal(verify(f, &f->bob, &st, &ex, NOW + 10), 0);
	assert_int_equal(peercheck_stats(f->pc)->cache_hits, 1);
	gnutls_free(st.data);
}

/*
 * An AS certificate that expires while a verified pair is still fresh:
 * the cached pair is refused exactly when the uncached check refuses it.
 */
static void
test_as_expiry_applies_to_cached_pairs(void **state)
{
	struct fix *f = *state;
	const time_t as_end = NOW + 1800;
	struct peercheck_conf conf;
	struct peercheck *cached, *uncached;
	struct cert_trust *trust;
	struct peercheck_expect ex;
	struct leaf bob;
	struct ca ca;
	gnutls_datum_t st;

	ca_make_life(f, &ca, NOW - 86400, (uint32_t)(as_end - NOW + 86400));
	assert_int_equal(cert_trust_new(&ca.cert.root, 1, &trust), 0);
	leaf_make(f, &bob, &ca, CERT_ROLE_NODE, "bob.dc2.ntm.test",
	    "198.18.2.10", "fd6e:746d:6f62:2::10", NOW - 3600, 7 * 86400);
	st = status_make_v(&ca, &bob, OCSP_CERT_GOOD, NOW - 60,
	    OCSP_VALIDITY_MAX);
	ex = expect_bob(&bob);
	memset(&conf, 0, sizeof(conf));
	conf.trust = trust;
	conf.as_ca = ca.cert.as;
	assert_int_equal(peercheck_new(&cached, &conf), 0);
	assert_int_equal(peercheck_new_uncached(&uncached, &conf), 0);
	assert_int_equal(peercheck_verify(cached, bob.der.data, bob.der.size,
	    st.data, st.size, &ex, NOW, NULL), 0);
	assert_int_equal(peercheck_verify(uncached, bob.der.data,
	    bob.der.size, st.data, st.size, &ex, NOW, NULL), 0);
	/* Within the skew of the AS's end: still accepted, from the cache. */
	assert_int_equal(peercheck_verify(cached, bob.der.data, bob.der.size,
	    st.data, st.size, &ex, as_end + 200, NULL), 0);
	assert_int_equal(peercheck_stats(cached)->cache_hits, 1);
	assert_int_equal(peercheck_verify(uncached, bob.der.data,
	    bob.der.size, st.data, st.size, &ex, as_end + 200, NULL), 0);
	/* Beyond it: the leaf and the status are fine, the AS is not. */
	assert_int_equal(peercheck_verify(cached, bob.der.data, bob.der.size,
	    st.data, st.size, &ex, as_end + 400, NULL), PEERCHECK_E_EXPIRED);
	assert_int_equal(peercheck_verify(uncached, bob.der.data,
	    bob.der.size, st.data, st.size, &ex, as_end + 400, NULL),
	    PEERCHECK_E_EXPIRED);
	peercheck_free(uncached);
	peercheck_free(cached);
	gnutls_free(st.data);
	leaf_free(&bob);
	cert_trust_free(trust);
	ca_free(&ca);
}

static void
test_error_names(void **state)
{
	int e, g;

	(void)state;
	for (e = PEERCHECK_E_FIRST; e <= PEERCHECK_E_LAST; e++) {
		assert_non_null(peercheck_strerror(e));
		assert_int_not_equal(peercheck_status(e), PROTO_STATUS_OK);
		assert_int_not_equal(peercheck_status(e),
		    PROTO_STATUS_INTERNAL);
		for (g = e + 1; g <= PEERCHECK_E_LAST; g++)
			assert_string_not_equal(peercheck_strerror(e),
			    peercheck_strerror(g));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_peer_and_cache,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_borrowed_key,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_root_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dates_with_skew,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_is_final,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_expired_status,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_end_strict,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_role_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_address_serial_hash,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_alone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cached_refuses_as_uncached,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cached_work_skipped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_as_expiry_applies_to_cached_pairs, setup, teardown),
		cmocka_unit_test(test_error_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
