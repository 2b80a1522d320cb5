/* test_handshake.c -- tunnel handshake: Sig_I, Sig_R, transcript, keys. */
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

#include <nettle/hmac.h>

#include "cert.h"
#include "crypto.h"
#include "handshake.h"
#include "msg.h"
#include "rand.h"

#include "../testca.h"

#define NOW	((time_t)1795000000)

/* A node's identity: key pair and a certificate from the test AS. */
struct ident {
	gnutls_privkey_t	 key;
	gnutls_pubkey_t		 pub;
	gnutls_x509_crt_t	 crt;
	uint8_t			 hash[HANDSHAKE_HASH_LEN];
};

struct pki {
	struct ntm_rng		*rng;
	struct cert_ca		 ca;
	struct ident		 alice;		/* P-256 */
	struct ident		 bob;		/* P-256 */
	struct ident		 dave;		/* RSA-2048 */
};

static void
ident_make(struct pki *p, struct ident *id, enum cert_keytype type,
    const char *fqdn, const char *vip4)
{
	const struct testca_leaf l = { .keytype = type, .fqdn = fqdn,
	    .vip4 = vip4, .lifetime = 3600 };

	assert_int_equal(testca_issue(&p->ca, &l, p->rng, NOW, &id->key,
	    &id->crt), 0);
	assert_int_equal(cert_pubkey_of(id->key, &id->pub), 0);
	assert_int_equal(handshake_cert_hash(id->crt, id->hash), 0);
}

static void
ident_free(struct ident *id)
{
	gnutls_x509_crt_deinit(id->crt);
	gnutls_pubkey_deinit(id->pub);
	gnutls_privkey_deinit(id->key);
}

static int
group_setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->rng = rng_seeded_new("test_handshake", 14);
	assert_non_null(p->rng);
	assert_int_equal(testca_make(&p->ca, NULL, p->rng, NOW - 86400), 0);
	ident_make(p, &p->alice, CERT_KEY_P256, "alice.dc1.ntm.test",
	    "198.18.1.10");
	ident_make(p, &p->bob, CERT_KEY_P256, "bob.dc2.ntm.test",
	    "198.18.2.10");
	ident_make(p, &p->dave, CERT_KEY_RSA2048, "dave.dc1.ntm.test",
	    "198.18.1.11");
	*state = p;
	return 0;
}

static int
group_teardown(void **state)
{
	struct pki *p = *state;

	ident_free(&p->dave);
	ident_free(&p->bob);
	ident_free(&p->alice);
	cert_ca_clear(&p->ca);
	rng_free(p->rng);
	free(p);
	return 0;
}

/*
 * A Tunnel Request and Response as they cross the wire: built, signed,
 * encoded, and decoded again into req/resp (which borrow reqbuf/respbuf).
 */
struct wire {
	const uint8_t	*offers;	/* NULL: both, ChaCha20 first */
	size_t		 noffers;
	uint8_t		 choice;	/* 0: ChaCha20-Poly1305 */
	uint8_t		 path[PROTO_ID_LEN];
	uint8_t		 nonce_i[PROTO_RANDOM_LEN];
	uint8_t		 nonce_r[PROTO_RANDOM_LEN];
	uint8_t		 eph_i[PROTO_X25519_LEN];
	uint8_t		 eph_r[PROTO_X25519_LEN];
	uint8_t		 sig[PROTO_SIGNATURE_MAX];
	size_t		 siglen;
	uint8_t		 reqbuf[2048];
	size_t		 reqlen;
	uint8_t		 respbuf[2048];
	size_t		 resplen;
	struct msg	 build;
	struct msg	 req;
	struct msg	 resp;
};

static const uint8_t offers[] = { PROTO_AEAD_CHACHA20_POLY1305,
    PROTO_AEAD_AES256_GCM };
static const char status_bytes[] = "stapled status";

static void
fill(uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v + i);
}

/* MN's request from `mn` to `cn`, signed unless sign is false. */
static void
wire_request(struct wire *w, const struct ident *mn, const struct ident *cn,
    bool sign)
{
	struct msg *m = &w->build;

	fill(w->path, sizeof(w->path), 0x10);
	fill(w->nonce_i, sizeof(w->nonce_i), 0x40);
	fill(w->eph_i, sizeof(w->eph_i), 0x80);
	msg_init(m, PROTO_MSG_TUNNEL_REQUEST);
	memcpy(m->hdr.id, w->path, sizeof(w->path));
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_PATH_ID, w->path,
	    sizeof(w->path)), 0);
	assert_int_equal(msg_add_u8(m, PROTO_ATTR_KEX, PROTO_KEX_ECDHE), 0);
	if (w->offers == NULL) {
		w->offers = offers;
		w->noffers = sizeof(offers);
	}
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_AEAD_OFFERS, w->offers,
	    w->noffers), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_NONCE, w->nonce_i,
	    sizeof(w->nonce_i)), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_EPHEMERAL, w->eph_i,
	    sizeof(w->eph_i)), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_FQDN, "alice.dc1.ntm.test",
	    18), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_PEER_FQDN,
	    "bob.dc2.ntm.test", 16), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_CERT_HASH, mn->hash,
	    sizeof(mn->hash)), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_STATUS, status_bytes,
	    sizeof(status_bytes)), 0);
	if (sign) {
		assert_int_equal(handshake_sign_request(m, cn->hash, mn->key,
		    w->sig, sizeof(w->sig), &w->siglen), 0);
		assert_int_equal(msg_add_bytes(m, PROTO_ATTR_SIGNATURE, w->sig,
		    w->siglen), 0);
		assert_int_equal(msg_encode(m, w->reqbuf, sizeof(w->reqbuf),
		    &w->reqlen), 0);
		assert_int_equal(msg_decode(w->reqbuf, w->reqlen, &w->req), 0);
	}
}

/* CN's response to w->req, signed by cn. */
static void
wire_response(struct wire *w, const struct ident *cn)
{
	struct msg *m = &w->build;

	fill(w->nonce_r, sizeof(w->nonce_r), 0x60);
	fill(w->eph_r, sizeof(w->eph_r), 0xa0);
	msg_init(m, PROTO_MSG_TUNNEL_RESPONSE);
	memcpy(m->hdr.id, w->path, sizeof(w->path));
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_NONCE, w->nonce_r,
	    sizeof(w->nonce_r)), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_EPHEMERAL, w->eph_r,
	    sizeof(w->eph_r)), 0);
	assert_int_equal(msg_add_u8(m, PROTO_ATTR_AEAD, w->choice != 0 ?
	    w->choice : PROTO_AEAD_CHACHA20_POLY1305), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_CERT_HASH, cn->hash,
	    sizeof(cn->hash)), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_STATUS, status_bytes,
	    sizeof(status_bytes)), 0);
	assert_int_equal(handshake_sign_response(&w->req, m, cn->hash, cn->key,
	    w->sig, sizeof(w->sig), &w->siglen), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_SIGNATURE, w->sig,
	    w->siglen), 0);
	assert_int_equal(msg_encode(m, w->respbuf, sizeof(w->respbuf),
	    &w->resplen), 0);
	assert_int_equal(msg_decode(w->respbuf, w->resplen, &w->resp), 0);
}

static struct wire *
wire_new(void)
{
	struct wire *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	return w;
}

/* Whether a Tunnel Request attribute is one of the fields Sig_I covers. */
static bool
request_signed(uint16_t type)
{
	switch (type) {
	case PROTO_ATTR_PATH_ID:
	case PROTO_ATTR_KEX:
	case PROTO_ATTR_AEAD_OFFERS:
	case PROTO_ATTR_NONCE:
	case PROTO_ATTR_EPHEMERAL:
	case PROTO_ATTR_KEM_CT:
	case PROTO_ATTR_END_KEY_CT:
	case PROTO_ATTR_FQDN:
	case PROTO_ATTR_PEER_FQDN:
		return true;
	default:
		return false;
	}
}

static void
test_request_verifies(void **state)
{
	struct pki *p = *state;
	struct wire *w = wire_new();
	struct handshake_verified *v = NULL;

	wire_request(w, &p->alice, &p->bob, true);
	assert_int_equal(handshake_verify_request(&w->req, p->bob.hash,
	    p->alice.pub, &v), 0);
	assert_non_null(v);
	assert_int_equal(handshake_verified_side(v), HANDSHAKE_SIDE_REQUEST);
	/* The token covers exactly the signed eph_I of the signed scheme. */
	assert_true(handshake_verified_covers(v, HANDSHAKE_SIDE_REQUEST,
	    PROTO_KEX_ECDHE, PROTO_ATTR_EPHEMERAL, w->eph_i,
	    sizeof(w->eph_i)));
	assert_false(handshake_verified_covers(v, HANDSHAKE_SIDE_RESPONSE,
	    PROTO_KEX_ECDHE, PROTO_ATTR_EPHEMERAL, w->eph_i,
	    sizeof(w->eph_i)));
	assert_false(handshake_verified_covers(v, HANDSHAKE_SIDE_REQUEST,
	    PROTO_KEX_RSA, PROTO_ATTR_EPHEMERAL, w->eph_i, sizeof(w->eph_i)));
	assert_false(handshake_verified_covers(v, HANDSHAKE_SIDE_REQUEST,
	    PROTO_KEX_ECDHE, PROTO_ATTR_KEM_CT, w->eph_i, sizeof(w->eph_i)));
	assert_false(handshake_verified_covers(v, HANDSHAKE_SIDE_REQUEST,
	    PROTO_KEX_ECDHE, PROTO_ATTR_EPHEMERAL, w->eph_r,
	    sizeof(w->eph_r)));
	assert_false(handshake_verified_covers(v, HANDSHAKE_SIDE_REQUEST,
	    PROTO_KEX_ECDHE, PROTO_ATTR_EPHEMERAL, w->eph_i,
	    sizeof(w->eph_i) - 1));
	assert_false(handshake_verified_covers(NULL, HANDSHAKE_SIDE_REQUEST,
	    PROTO_KEX_ECDHE, PROTO_ATTR_EPHEMERAL, w->eph_i,
	    sizeof(w->eph_i)));
	handshake_verified_free(v);
	handshake_verified_free(NULL);
	free(w);
}

/* Sig_I is over exactly the documented bytes (doc/KEX.md). */
static void
test_request_signed_bytes(void **state)
{
	struct pki *p = *state;
	struct wire *w = wire_new();
	uint8_t t[HANDSHAKE_TRANSCRIPT_MAX], tbs[22 + 32];
	const struct msg_attr *sig;
	gnutls_datum_t d = { tbs, sizeof(tbs) }, s;
	struct wbuf b;

	wire_request(w, &p->alice, &p->bob, true);
	wbuf_init(&b, t, sizeof(t));
	assert_int_equal(msg_transcript_request(&w->req, p->bob.hash, &b), 0);
	memcpy(tbs, "ntmobile v1 initiator", 22);	/* and its NUL */
	assert_int_equal(tbs[21], 0);
	crypto_sha256(tbs + 22, t, wbuf_len(&b));
	assert_non_null(sig = msg_attr_find(&w->req, PROTO_ATTR_SIGNATURE));
	s.data = (unsigned char *)sig->val;
	s.size = sig->len;
	assert_int_equal(gnutls_pubkey_verify_data2(p->alice.pub,
	    GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 0, &d, &s), 0);
	/* The responder's context does not verify it. */
	memcpy(tbs, "ntmobile v1 responder", 22);
	assert_true(gnutls_pubkey_verify_data2(p->alice.pub,
	    GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 0, &d, &s) < 0);
	free(w);
}

/* Every byte of every signed field matters; unsigned ones are not covered. */
static void
test_request_any_changed_byte_fails(void **state)
{
	struct pki *p = *state;
	struct wire *w = wire_new();
	struct handshake_verified *v;
	size_t i, j, off, tried = 0;
	uint8_t *at;

	wire_request(w, &p->alice, &p->bob, true);
	for (i = 0; i < w->req.nattr; i++) {
		const struct msg_attr *a = &w->req.attr[i];

		if (!request_signed(a->type))
			continue;
		off = (size_t)(a->val - w->reqbuf);
		for (j = 0; j < a->len; j++) {
			at = &w->reqbuf[off + j];
			*at ^= 0x01;
			v = (struct handshake_verified *)1;
			assert_int_equal(handshake_verify_request(&w->req,
			    p->bob.hash, p->alice.pub, &v),
			    HANDSHAKE_E_SIGNATURE);
			assert_null(v);
			*at ^= 0x01;
			tried++;
		}
	}
	/* path 16, kex 1, offers 2, nonce 32, eph 32, fqdns 18 + 16 */
	assert_int_equal(tried, 16 + 1 + 2 + 32 + 32 + 18 + 16);
	/* H(cert_R) is signed too: another responder's hash fails. */
	assert_int_equal(handshake_verify_request(&w->req, p->alice.hash,
	    p->alice.pub, &v), HANDSHAKE_E_SIGNATURE);
	/* The signature itself, and the wrong signer. */
	off = (size_t)(msg_attr_find(&w->req, PROTO_ATTR_SIGNATURE)->val -
	    w->reqbuf);
	w->reqbuf[off + 10] ^= 0x80;
	assert_int_equal(handshake_verify_request(&w->req, p->bob.hash,
	    p->alice.pub, &v), HANDSHAKE_E_SIGNATURE);
	w->reqbuf[off + 10] ^= 0x80;
	assert_int_equal(handshake_verify_request(&w->req, p->bob.hash,
	    p->bob.pub, &v), HANDSHAKE_E_SIGNATURE);
	assert_int_equal(handshake_verify_request(&w->req, p->bob.hash,
	    p->alice.pub, &v), 0);
	handshake_verified_free(v);
	free(w);
}

static void
test_response_any_changed_byte_fails(void **state)
{
	struct pki *p = *state;
	struct wire *w = wire_new();
	struct handshake_verified *v = NULL;
	size_t i, j, off, tried = 0;
	uint8_t *at;

	wire_request(w, &p->alice, &p->bob, true);
	wire_response(w, &p->bob);
	assert_int_equal(handshake_verify_response(&w->req, &w->resp,
	    p->bob.hash, p->bob.pub, &v), 0);
	assert_int_equal(handshake_verified_side(v), HANDSHAKE_SIDE_RESPONSE);
	assert_true(handshake_verified_covers(v, HANDSHAKE_SIDE_RESPONSE,
	    PROTO_KEX_ECDHE, PROTO_ATTR_EPHEMERAL, w->eph_r,
	    sizeof(w->eph_r)));
	handshake_verified_free(v);

	/* Response fields: nonce_R, eph_R, the AEAD choice. */
	for (i = 0; i < w->resp.nattr; i++) {
		const struct msg_attr *a = &w->resp.attr[i];

		if (a->type != PROTO_ATTR_NONCE &&
		    a->type != PROTO_ATTR_EPHEMERAL &&
		    a->type != PROTO_ATTR_AEAD)
			continue;
		off = (size_t)(a->val - w->respbuf);
		for (j = 0; j < a->len; j++) {
			at = &w->respbuf[off + j];
			*at ^= 0x04;
			assert_int_equal(handshake_verify_response(&w->req,
			    &w->resp, p->bob.hash, p->bob.pub, &v),
			    HANDSHAKE_E_SIGNATURE);
			*at ^= 0x04;
			tried++;
		}
	}
	assert_int_equal(tried, 32 + 32 + 1);
	/* Sig_R covers the request's fields as well. */
	for (i = 0; i < w->req.nattr; i++) {
		const struct msg_attr *a = &w->req.attr[i];

		if (!request_signed(a->type))
			continue;
		off = (size_t)(a->val - w->reqbuf);
		w->reqbuf[off] ^= 0x02;
		assert_int_equal(handshake_verify_response(&w->req, &w->resp,
		    p->bob.hash, p->bob.pub, &v), HANDSHAKE_E_SIGNATURE);
		w->reqbuf[off] ^= 0x02;
	}
	assert_int_equal(handshake_verify_response(&w->req, &w->resp,
	    p->alice.hash, p->bob.pub, &v), HANDSHAKE_E_SIGNATURE);
	assert_int_equal(handshake_verify_response(&w->req, &w->resp,
	    p->bob.hash, p->alice.pub, &v), HANDSHAKE_E_SIGNATURE);
	free(w);
}

/* RSA-2048 keys sign with RSA-PSS (SHA-256), not PKCS#1 v1.5. */
static void
test_rsa_pss(void **state)
{
	struct pki *p = *state;
	struct wire *w = wire_new();
	struct handshake_verified *v = NULL;
	uint8_t t[HANDSHAKE_TRANSCRIPT_MAX], tbs[22 + 32];
	gnutls_datum_t d = { tbs, sizeof(tbs) }, s;
	const struct msg_attr *sig;
	struct wbuf b;

	wire_request(w, &p->dave, &p->bob, true);
	assert_int_equal(handshake_verify_request(&w->req, p->bob.hash,
	    p->dave.pub, &v), 0);
	handshake_verified_free(v);
	assert_non_null(sig = msg_attr_find(&w->req, PROTO_ATTR_SIGNATURE));
	assert_int_equal(sig->len, 256);
	wbuf_init(&b, t, sizeof(t));
	assert_int_equal(msg_transcript_request(&w->req, p->bob.hash, &b), 0);
	memcpy(tbs, "ntmobile v1 initiator", 22);
	crypto_sha256(tbs + 22, t, wbuf_len(&b));
	s.data = (unsigned char *)sig->val;
	s.size = sig->len;
	assert_int_equal(gnutls_pubkey_verify_data2(p->dave.pub,
	    GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, 0, &d, &s), 0);
	assert_true(gnutls_pubkey_verify_data2(p->dave.pub,
	    GNUTLS_SIGN_RSA_SHA256, 0, &d, &s) < 0);
	/* And an RSA responder signs its response the same way. */
	wire_response(w, &p->dave);
	assert_int_equal(handshake_verify_response(&w->req, &w->resp,
	    p->dave.hash, p->dave.pub, &v), 0);
	handshake_verified_free(v);
	free(w);
}

static void
test_key_types_refused(void **state)
{
	struct pki *p = *state;
	struct wire *w = wire_new();
	struct handshake_verified *v = NULL;
	gnutls_privkey_t k384;
	gnutls_pubkey_t p384;
	uint8_t sig[PROTO_SIGNATURE_MAX];
	size_t siglen = 1;

	assert_int_equal(gnutls_privkey_init(&k384), 0);
	assert_int_equal(gnutls_privkey_generate(k384, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), 0), 0);
	assert_int_equal(cert_pubkey_of(k384, &p384), 0);
	wire_request(w, &p->alice, &p->bob, true);
	assert_int_equal(handshake_sign_request(&w->build, p->bob.hash, k384,
	    sig, sizeof(sig), &siglen), HANDSHAKE_E_KEY_TYPE);
	assert_int_equal(siglen, 0);
	assert_int_equal(handshake_verify_request(&w->req, p->bob.hash, p384,
	    &v), HANDSHAKE_E_KEY_TYPE);
	assert_null(v);
	gnutls_pubkey_deinit(p384);
	gnutls_privkey_deinit(k384);
	free(w);
}

static void
test_missing_fields(void **state)
{
	struct pki *p = *state;
	struct wire *w = wire_new();
	struct handshake_verified *v = NULL;
	uint8_t sig[PROTO_SIGNATURE_MAX];
	size_t siglen;
	struct msg m;

	/* Not signed: no SIGNATURE attribute. */
	wire_request(w, &p->alice, &p->bob, false);
	assert_int_equal(handshake_verify_request(&w->build, p->bob.hash,
	    p->alice.pub, &v), HANDSHAKE_E_NO_SIGNATURE);
	/* A request without its key share cannot be signed. */
	msg_init(&m, PROTO_MSG_TUNNEL_REQUEST);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PATH_ID, w->path,
	    sizeof(w->path)), 0);
	assert_int_equal(msg_add_u8(&m, PROTO_ATTR_KEX, PROTO_KEX_ECDHE), 0);
	assert_int_equal(handshake_sign_request(&m, p->bob.hash, p->alice.key,
	    sig, sizeof(sig), &siglen), HANDSHAKE_E_TRANSCRIPT);
	/* Too small a buffer for the signature. */
	assert_int_equal(handshake_sign_request(&w->build, p->bob.hash,
	    p->alice.key, sig, 8, &siglen), -ENOSPC);
	free(w);
}

static void
test_cert_hash_is_sha256_of_der(void **state)
{
	struct pki *p = *state;
	gnutls_datum_t der;
	uint8_t h[32];

	assert_int_equal(gnutls_x509_crt_export2(p->alice.crt,
	    GNUTLS_X509_FMT_DER, &der), 0);
	crypto_sha256(h, der.data, der.size);
	gnutls_free(der.data);
	assert_memory_equal(h, p->alice.hash, sizeof(h));
	assert_memory_not_equal(p->alice.hash, p->bob.hash, sizeof(h));
}

/* HKDF-SHA256 with one output block, written out with nettle's HMAC. */
static void
ref_key(uint8_t out[32], const uint8_t salt[32], const uint8_t *ikm,
    size_t ikmlen, const char *label, const uint8_t th[32])
{
	struct hmac_sha256_ctx h;
	uint8_t prk[32], one = 1;

	hmac_sha256_set_key(&h, 32, salt);
	hmac_sha256_update(&h, ikmlen, ikm);
	hmac_sha256_digest(&h, 32, prk);
	hmac_sha256_set_key(&h, 32, prk);
	hmac_sha256_update(&h, strlen(label), (const uint8_t *)label);
	hmac_sha256_update(&h, 32, th);
	hmac_sha256_update(&h, 1, &one);
	hmac_sha256_digest(&h, 32, out);
}

static void
test_key_schedule(void **state)
{
	uint8_t temp[32], ikm[32], th[32], ref[32];
	struct handshake_keys k, k2;

	(void)state;
	fill(temp, sizeof(temp), 0x01);
	fill(ikm, sizeof(ikm), 0x21);
	fill(th, sizeof(th), 0x41);
	assert_int_equal(handshake_derive(temp, ikm, sizeof(ikm), th, &k), 0);
	ref_key(ref, temp, ikm, sizeof(ikm), "ntmobile v1 key i2r", th);
	assert_memory_equal(k.i2r, ref, 32);
	ref_key(ref, temp, ikm, sizeof(ikm), "ntmobile v1 key r2i", th);
	assert_memory_equal(k.r2i, ref, 32);
	ref_key(ref, temp, ikm, sizeof(ikm), "ntmobile v1 key rekey", th);
	assert_memory_equal(k.rekey, ref, 32);
	assert_memory_not_equal(k.i2r, k.r2i, 32);
	assert_memory_not_equal(k.i2r, k.rekey, 32);
	assert_memory_not_equal(k.r2i, k.rekey, 32);

	/* Each input changes every key. */
	th[31] ^= 1;
	assert_int_equal(handshake_derive(temp, ikm, sizeof(ikm), th, &k2), 0);
	assert_memory_not_equal(k.i2r, k2.i2r, 32);
	assert_memory_not_equal(k.r2i, k2.r2i, 32);
	th[31] ^= 1;
	temp[0] ^= 1;
	assert_int_equal(handshake_derive(temp, ikm, sizeof(ikm), th, &k2), 0);
	assert_memory_not_equal(k.i2r, k2.i2r, 32);
	temp[0] ^= 1;
	ikm[5] ^= 1;
	assert_int_equal(handshake_derive(temp, ikm, sizeof(ikm), th, &k2), 0);
	assert_memory_not_equal(k.rekey, k2.rekey, 32);

	assert_int_equal(handshake_derive(temp, ikm, 0, th, &k2), -EINVAL);
	assert_int_equal(handshake_derive(NULL, ikm, 32, th, &k2), -EINVAL);
	handshake_keys_wipe(&k);
	memset(&k2, 0, sizeof(k2));
	assert_memory_equal(&k, &k2, sizeof(k));
}

/* Rekey: th over both attribute lists, salt k_rekey, IKM may be empty. */
static void
test_rekey_schedule(void **state)
{
	uint8_t nonce_a[32], nonce_b[32], k_rekey[32], th[32], ref[32];
	uint8_t t[256];
	struct msg req, resp;
	struct handshake_keys k;
	struct handshake_verified *v = NULL;
	struct wbuf b;

	(void)state;
	fill(nonce_a, 32, 0x11);
	fill(nonce_b, 32, 0x22);
	fill(k_rekey, 32, 0x33);
	msg_init(&req, PROTO_MSG_REKEY_REQUEST);
	assert_int_equal(msg_add_u32(&req, PROTO_ATTR_KEY_EPOCH, 7), 0);
	assert_int_equal(msg_add_bytes(&req, PROTO_ATTR_NONCE, nonce_a, 32), 0);
	msg_init(&resp, PROTO_MSG_REKEY_RESPONSE);
	assert_int_equal(msg_add_u32(&resp, PROTO_ATTR_KEY_EPOCH, 7), 0);
	assert_int_equal(msg_add_bytes(&resp, PROTO_ATTR_NONCE, nonce_b, 32),
	    0);
	assert_int_equal(handshake_rekey_hash(&req, &resp, th), 0);
	wbuf_init(&b, t, sizeof(t));
	assert_int_equal(msg_attrs_encode(&req, &b), 0);
	assert_int_equal(msg_attrs_encode(&resp, &b), 0);
	assert_int_equal(wbuf_len(&b), 2 * (8 + 36));
	crypto_sha256(ref, t, wbuf_len(&b));
	assert_memory_equal(th, ref, 32);

	assert_int_equal(handshake_rekey_derive(k_rekey, NULL, 0, th, &k), 0);
	ref_key(ref, k_rekey, NULL, 0, "ntmobile v1 key i2r", th);
	assert_memory_equal(k.i2r, ref, 32);
	ref_key(ref, k_rekey, NULL, 0, "ntmobile v1 key rekey", th);
	assert_memory_equal(k.rekey, ref, 32);
	/* The first handshake never has an empty IKM. */
	assert_int_equal(handshake_derive(k_rekey, NULL, 0, th, &k), -EINVAL);

	/* Tunnel tokens: side from the message type; the share they cover. */
	assert_int_equal(handshake_verified_tunnel(&req, PROTO_KEX_SHARED, &v),
	    0);
	assert_int_equal(handshake_verified_side(v),
	    HANDSHAKE_SIDE_REKEY_REQUEST);
	assert_true(handshake_verified_covers(v, HANDSHAKE_SIDE_REKEY_REQUEST,
	    PROTO_KEX_SHARED, PROTO_ATTR_INVALID, NULL, 0));
	assert_false(handshake_verified_covers(v, HANDSHAKE_SIDE_REQUEST,
	    PROTO_KEX_SHARED, PROTO_ATTR_INVALID, NULL, 0));
	handshake_verified_free(v);
	assert_int_equal(handshake_verified_tunnel(&resp, PROTO_KEX_SHARED,
	    &v), 0);
	assert_int_equal(handshake_verified_side(v),
	    HANDSHAKE_SIDE_REKEY_RESPONSE);
	handshake_verified_free(v);
}

/* th covers the request and the response: the AEAD choice among them. */
static void
test_transcript_hash(void **state)
{
	struct pki *p = *state;
	struct wire *w = wire_new();
	uint8_t t[HANDSHAKE_TRANSCRIPT_MAX], th[32], ref[32];
	struct wbuf b;
	size_t off;

	wire_request(w, &p->alice, &p->bob, true);
	wire_response(w, &p->bob);
	assert_int_equal(handshake_transcript_hash(&w->req, &w->resp,
	    p->bob.hash, th), 0);
	wbuf_init(&b, t, sizeof(t));
	assert_int_equal(msg_transcript_request(&w->req, p->bob.hash, &b), 0);
	assert_int_equal(msg_transcript_response(&w->resp, p->bob.hash, &b), 0);
	crypto_sha256(ref, t, wbuf_len(&b));
	assert_memory_equal(th, ref, 32);

	off = (size_t)(msg_attr_find(&w->resp, PROTO_ATTR_AEAD)->val -
	    w->respbuf);
	w->respbuf[off] = PROTO_AEAD_AES256_GCM;
	assert_int_equal(handshake_transcript_hash(&w->req, &w->resp,
	    p->bob.hash, ref), 0);
	assert_memory_not_equal(th, ref, 32);
	free(w);
}

/* CN's preference among MN's offers; MN refuses a choice not offered. */
static void
test_aead_choice(void **state)
{
	static const uint8_t aes_only[] = { PROTO_AEAD_AES256_GCM };
	static const uint8_t prefs[] = { PROTO_AEAD_AES256_GCM,
	    PROTO_AEAD_CHACHA20_POLY1305 };
	static const uint8_t unknown[] = { 0, 7 };
	struct pki *p = *state;
	struct wire *w = wire_new();
	struct handshake_verified *v = NULL;
	uint8_t choice;

	wire_request(w, &p->alice, &p->bob, true);
	assert_int_equal(handshake_aead_choose(&w->req, prefs, 2, &choice), 0);
	assert_int_equal(choice, PROTO_AEAD_AES256_GCM);
	assert_int_equal(handshake_aead_choose(&w->req, prefs + 1, 1,
	    &choice), 0);
	assert_int_equal(choice, PROTO_AEAD_CHACHA20_POLY1305);
	assert_int_equal(handshake_aead_choose(&w->req, prefs, 0, &choice),
	    HANDSHAKE_E_AEAD);
	assert_int_equal(handshake_aead_choose(&w->req, unknown, 2, &choice),
	    HANDSHAKE_E_AEAD);
	assert_int_equal(choice, PROTO_AEAD_INVALID);
	free(w);

	/* MN offers AES only; CN wants ChaCha20 only. */
	w = wire_new();
	w->offers = aes_only;
	w->noffers = sizeof(aes_only);
	wire_request(w, &p->alice, &p->bob, true);
	assert_int_equal(handshake_aead_choose(&w->req, prefs + 1, 1,
	    &choice), HANDSHAKE_E_AEAD);
	assert_int_equal(handshake_status(HANDSHAKE_E_AEAD),
	    PROTO_STATUS_AEAD_NOT_ALLOWED);
	/* A validly signed response choosing what was not offered. */
	wire_response(w, &p->bob);
	assert_int_equal(handshake_verify_response(&w->req, &w->resp,
	    p->bob.hash, p->bob.pub, &v), HANDSHAKE_E_AEAD);
	assert_null(v);
	free(w);

	assert_int_equal(handshake_aead_alg(PROTO_AEAD_AES256_GCM),
	    AEAD_ALG_AES256GCM);
	assert_int_equal(handshake_aead_alg(PROTO_AEAD_CHACHA20_POLY1305),
	    AEAD_ALG_CHACHA20POLY1305);
	assert_int_equal(handshake_aead_alg(0), AEAD_ALG_INVALID);
	assert_int_equal(handshake_aead_alg(3), AEAD_ALG_INVALID);
}

/* Each error has its own message, so logs tell the failures apart. */
static void
test_strerror(void **state)
{
	int e, f;

	(void)state;
	for (e = HANDSHAKE_E_FIRST; e <= HANDSHAKE_E_LAST; e++) {
		assert_true(strlen(handshake_strerror(e)) > 10);
		for (f = HANDSHAKE_E_FIRST; f < e; f++)
			assert_string_not_equal(handshake_strerror(e),
			    handshake_strerror(f));
	}
	assert_string_equal(handshake_strerror(-ENOMEM), strerror(ENOMEM));
	assert_int_equal(handshake_status(HANDSHAKE_E_SIGNATURE),
	    PROTO_STATUS_AUTH_FAILED);
	assert_int_equal(handshake_status(HANDSHAKE_E_KEY_TYPE),
	    PROTO_STATUS_CERT_INVALID);
	assert_int_equal(handshake_status(0), PROTO_STATUS_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_verifies),
		cmocka_unit_test(test_request_signed_bytes),
		cmocka_unit_test(test_request_any_changed_byte_fails),
		cmocka_unit_test(test_response_any_changed_byte_fails),
		cmocka_unit_test(test_rsa_pss),
		cmocka_unit_test(test_key_types_refused),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_cert_hash_is_sha256_of_der),
		cmocka_unit_test(test_key_schedule),
		cmocka_unit_test(test_transcript_hash),
		cmocka_unit_test(test_rekey_schedule),
		cmocka_unit_test(test_aead_choice),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
