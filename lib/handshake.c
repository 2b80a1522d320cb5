/* handshake.c -- tunnel handshake: transcript, Sig_I/Sig_R, key schedule. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "buf.h"
#include "cert.h"
#include "crypto.h"
#include "handshake.h"
#include "msg.h"

/* The key share the signature covered: its type, length and hash. */
struct handshake_verified {
	enum handshake_side	 side;
	uint8_t			 kex;
	uint16_t		 attr;	/* PROTO_ATTR_INVALID: none */
	size_t			 len;
	uint8_t			 hash[HANDSHAKE_HASH_LEN];
};

static const char *const handshake_errstr[] = {
	"certificate key is neither ECDSA P-256 nor RSA-2048",
	"a signed handshake field is missing",
	"handshake message carries no signature",
	"handshake signature does not verify",
	"signing the handshake failed",
	"no AEAD in common, or one that was not offered",
};

const char *
handshake_strerror(int err)
{
	if (err >= HANDSHAKE_E_FIRST && err <= HANDSHAKE_E_LAST)
		return handshake_errstr[err - HANDSHAKE_E_FIRST];
	if (err < 0)
		return strerror(-err);
	return "success";
}

enum proto_status
handshake_status(int err)
{
	switch (err) {
	case 0:
		return PROTO_STATUS_OK;
	case HANDSHAKE_E_KEY_TYPE:
		return PROTO_STATUS_CERT_INVALID;
	case HANDSHAKE_E_TRANSCRIPT:
		return PROTO_STATUS_MALFORMED;
	case HANDSHAKE_E_NO_SIGNATURE:
	case HANDSHAKE_E_SIGNATURE:
		return PROTO_STATUS_AUTH_FAILED;
	case HANDSHAKE_E_AEAD:
		return PROTO_STATUS_AEAD_NOT_ALLOWED;
	default:
		return PROTO_STATUS_INTERNAL;
	}
}

int
handshake_cert_hash(gnutls_x509_crt_t crt, uint8_t out[HANDSHAKE_HASH_LEN])
{
	gnutls_datum_t der = { NULL, 0 };

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
		return -EINVAL;
	crypto_sha256(out, der.data, der.size);
	gnutls_free(der.data);
	return 0;
}

/* The one signature algorithm each accepted certificate key type has. */
static gnutls_sign_algorithm_t
handshake_sign_alg(gnutls_pubkey_t pub)
{
	switch (cert_key_type(pub)) {
	case CERT_KEY_P256:
		return GNUTLS_SIGN_ECDSA_SECP256R1_SHA256;
	case CERT_KEY_RSA2048:
		return GNUTLS_SIGN_RSA_PSS_RSAE_SHA256;
	default:
		return GNUTLS_SIGN_UNKNOWN;
	}
}

/* Appends T_I or T_R; any codec failure means a signed field is absent. */
static int
handshake_put_request(struct wbuf *w, const struct msg *req,
    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN])
{
	if (msg_transcript_request(req, cert_hash_r, w) < 0)
		return HANDSHAKE_E_TRANSCRIPT;
	return 0;
}

static int
handshake_put_response(struct wbuf *w, const struct msg *resp,
    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN])
{
	if (msg_transcript_response(resp, cert_hash_r, w) < 0)
		return HANDSHAKE_E_TRANSCRIPT;
	return 0;
}

/*
 * The signed bytes: context string with its NUL, then the transcript hash
 * of the request alone (Sig_I) or of request and response (Sig_R, th).
 */
enum {
	HANDSHAKE_CONTEXT_LEN = sizeof(HANDSHAKE_CONTEXT_INITIATOR),
	HANDSHAKE_TBS_LEN = HANDSHAKE_CONTEXT_LEN + HANDSHAKE_HASH_LEN,
};

_Static_assert(sizeof(HANDSHAKE_CONTEXT_INITIATOR) ==
    sizeof(HANDSHAKE_CONTEXT_RESPONDER), "context strings differ in length");

static int
handshake_tbs(uint8_t tbs[HANDSHAKE_TBS_LEN], enum handshake_side side,
    const struct msg *req, const struct msg *resp,
    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN])
{
	uint8_t buf[HANDSHAKE_TRANSCRIPT_MAX];
	struct wbuf w;
	int ret;

	wbuf_init(&w, buf, sizeof(buf));
	if ((ret = handshake_put_request(&w, req, cert_hash_r)) < 0)
		return ret;
	if (side == HANDSHAKE_SIDE_RESPONSE) {
		if ((ret = handshake_put_response(&w, resp, cert_hash_r)) < 0)
			return ret;
		memcpy(tbs, HANDSHAKE_CONTEXT_RESPONDER, HANDSHAKE_CONTEXT_LEN);
	} else
		memcpy(tbs, HANDSHAKE_CONTEXT_INITIATOR, HANDSHAKE_CONTEXT_LEN);
	crypto_sha256(tbs + HANDSHAKE_CONTEXT_LEN, buf, wbuf_len(&w));
	return 0;
}

static int
handshake_sign(enum handshake_side side, const struct msg *req,
    const struct msg *resp, const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN],
    gnutls_privkey_t key, uint8_t *sig, size_t cap, size_t *siglen)
{
	uint8_t tbs[HANDSHAKE_TBS_LEN];
	gnutls_datum_t d = { tbs, sizeof(tbs) }, s = { NULL, 0 };
	gnutls_sign_algorithm_t alg;
	gnutls_pubkey_t pub = NULL;
	int ret;

	*siglen = 0;
	if (cert_pubkey_of(key, &pub) < 0)
		return HANDSHAKE_E_KEY_TYPE;
	alg = handshake_sign_alg(pub);
	gnutls_pubkey_deinit(pub);
	if (alg == GNUTLS_SIGN_UNKNOWN)
		return HANDSHAKE_E_KEY_TYPE;
	if ((ret = handshake_tbs(tbs, side, req, resp, cert_hash_r)) < 0)
		return ret;
	if (gnutls_privkey_sign_data2(key, alg, 0, &d, &s) < 0)
		return HANDSHAKE_E_SIGN;
	if (s.size > cap)
		ret = -ENOSPC;
	else {
		memcpy(sig, s.data, s.size);
		*siglen = s.size;
		ret = 0;
	}
	gnutls_free(s.data);
	return ret;
}

/* The first key share in the order msg_transcript_request() takes it. */
static const struct msg_attr *
handshake_share(const struct msg *m, enum handshake_side side)
{
	static const uint16_t req_shares[] = { PROTO_ATTR_EPHEMERAL,
	    PROTO_ATTR_KEM_CT, PROTO_ATTR_END_KEY_CT };
	const struct msg_attr *a;
	size_t i;

	if (side == HANDSHAKE_SIDE_RESPONSE ||
	    side == HANDSHAKE_SIDE_REKEY_RESPONSE)
		return msg_attr_find(m, PROTO_ATTR_EPHEMERAL);
	for (i = 0; i < sizeof(req_shares) / sizeof(req_shares[0]); i++)
		if ((a = msg_attr_find(m, req_shares[i])) != NULL)
			return a;
	return NULL;
}

/* Whether resp's AEAD choice is among req's offers. */
static bool
handshake_aead_offered(const struct msg *req, const struct msg *resp)
{
	const struct msg_attr *offers;
	uint8_t choice;

	if (msg_attr_u8(resp, PROTO_ATTR_AEAD, &choice) < 0 ||
	    (offers = msg_attr_find(req, PROTO_ATTR_AEAD_OFFERS)) == NULL)
		return false;
	return choice != PROTO_AEAD_INVALID &&
	    memchr(offers->val, choice, offers->len) != NULL;
}

/* A token for the verified (or tunnel-authenticated) message m. */
static int
handshake_token(const struct msg *m, enum handshake_side side, uint8_t kex,
    struct handshake_verified **out)
{
	const struct msg_attr *share;
	struct handshake_verified *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return -ENOMEM;
	v->side = side;
	v->kex = kex;
	if ((share = handshake_share(m, side)) != NULL) {
		v->attr = share->type;
		v->len = share->len;
		crypto_sha256(v->hash, share->val, share->len);
	} else
		v->attr = PROTO_ATTR_INVALID;
	*out = v;
	return 0;
}

static int
handshake_verify(enum handshake_side side, const struct msg *req,
    const struct msg *resp, const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN],
    gnutls_pubkey_t pub, struct handshake_verified **out)
{
	const struct msg *signed_msg = side == HANDSHAKE_SIDE_RESPONSE ?
	    resp : req;
	uint8_t tbs[HANDSHAKE_TBS_LEN];
	gnutls_datum_t d = { tbs, sizeof(tbs) }, s;
	const struct msg_attr *sig;
	gnutls_sign_algorithm_t alg;
	uint8_t kex;
	int ret;

	*out = NULL;
	if ((alg = handshake_sign_alg(pub)) == GNUTLS_SIGN_UNKNOWN)
		return HANDSHAKE_E_KEY_TYPE;
	if ((sig = msg_attr_find(signed_msg, PROTO_ATTR_SIGNATURE)) == NULL ||
	    sig->len == 0)
		return HANDSHAKE_E_NO_SIGNATURE;
	if (msg_attr_u8(req, PROTO_ATTR_KEX, &kex) < 0)
		return HANDSHAKE_E_TRANSCRIPT;
	if ((ret = handshake_tbs(tbs, side, req, resp, cert_hash_r)) < 0)
		return ret;
	s.data = (unsigned char *)sig->val;
	s.size = sig->len;
	if (gnutls_pubkey_verify_data2(pub, alg, 0, &d, &s) < 0)
		return HANDSHAKE_E_SIGNATURE;
	if (side == HANDSHAKE_SIDE_RESPONSE &&
	    !handshake_aead_offered(req, resp))
		return HANDSHAKE_E_AEAD;
	return handshake_token(signed_msg, side, kex, out);
}

int
handshake_sign_request(const struct msg *req,
    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN], gnutls_privkey_t key,
    uint8_t *sig, size_t cap, size_t *siglen)
{
	return handshake_sign(HANDSHAKE_SIDE_REQUEST, req, NULL, cert_hash_r,
	    key, sig, cap, siglen);
}

int
handshake_verify_request(const struct msg *req,
    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN], gnutls_pubkey_t pub_i,
    struct handshake_verified **out)
{
	return handshake_verify(HANDSHAKE_SIDE_REQUEST, req, NULL,
	    cert_hash_r, pub_i, out);
}

int
handshake_sign_response(const struct msg *req, const struct msg *resp,
    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN], gnutls_privkey_t key,
    uint8_t *sig, size_t cap, size_t *siglen)
{
	return handshake_sign(HANDSHAKE_SIDE_RESPONSE, req, resp, cert_hash_r,
	    key, sig, cap, siglen);
}

int
handshake_verify_response(const struct msg *req, const struct msg *resp,
    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN], gnutls_pubkey_t pub_r,
    struct handshake_verified **out)
{
	return handshake_verify(HANDSHAKE_SIDE_RESPONSE, req, resp,
	    cert_hash_r, pub_r, out);
}

int
handshake_aead_choose(const struct msg *req, const uint8_t *prefs,
    size_t nprefs, uint8_t *choice)
{
	const struct msg_attr *offers;
	size_t i;

	*choice = PROTO_AEAD_INVALID;
	if ((offers = msg_attr_find(req, PROTO_ATTR_AEAD_OFFERS)) == NULL)
		return HANDSHAKE_E_AEAD;
	for (i = 0; i < nprefs; i++) {
		if (handshake_aead_alg(prefs[i]) == AEAD_ALG_INVALID)
			continue;
		if (memchr(offers->val, prefs[i], offers->len) != NULL) {
			*choice = prefs[i];
			return 0;
		}
	}
	return HANDSHAKE_E_AEAD;
}

enum aead_alg
handshake_aead_alg(uint8_t id)
{
	switch (id) {
	case PROTO_AEAD_AES256_GCM:
		return AEAD_ALG_AES256GCM;
	case PROTO_AEAD_CHACHA20_POLY1305:
		return AEAD_ALG_CHACHA20POLY1305;
	default:
		return AEAD_ALG_INVALID;
	}
}

void
handshake_verified_free(struct handshake_verified *v)
{
	if (v == NULL)
		return;
	crypto_wipe(v, sizeof(*v));
	free(v);
}

enum handshake_side
handshake_verified_side(const struct handshake_verified *v)
{
	return v == NULL ? HANDSHAKE_SIDE_INVALID : v->side;
}

bool
handshake_verified_covers(const struct handshake_verified *v,
    enum handshake_side side, uint8_t kex, uint16_t attr, const void *val,
    size_t len)
{
	uint8_t h[HANDSHAKE_HASH_LEN];

	if (v == NULL || v->side != side || v->kex != kex || v->attr != attr)
		return false;
	if (attr == PROTO_ATTR_INVALID)
		return len == 0;
	if (val == NULL || len != v->len)
		return false;
	crypto_sha256(h, val, len);
	return crypto_ct_equal(h, v->hash, sizeof(h));
}

int
handshake_transcript_hash(const struct msg *req, const struct msg *resp,
    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN],
    uint8_t th[HANDSHAKE_HASH_LEN])
{
	uint8_t buf[HANDSHAKE_TRANSCRIPT_MAX];
	struct wbuf w;
	int ret;

	wbuf_init(&w, buf, sizeof(buf));
	if ((ret = handshake_put_request(&w, req, cert_hash_r)) < 0 ||
	    (ret = handshake_put_response(&w, resp, cert_hash_r)) < 0)
		return ret;
	crypto_sha256(th, buf, wbuf_len(&w));
	return 0;
}

int
handshake_verified_tunnel(const struct msg *m, uint8_t kex,
    struct handshake_verified **out)
{
	*out = NULL;
	switch (m->hdr.type) {
	case PROTO_MSG_REKEY_REQUEST:
		return handshake_token(m, HANDSHAKE_SIDE_REKEY_REQUEST, kex,
		    out);
	case PROTO_MSG_REKEY_RESPONSE:
		return handshake_token(m, HANDSHAKE_SIDE_REKEY_RESPONSE, kex,
		    out);
	default:
		return -EINVAL;
	}
}

int
handshake_rekey_hash(const struct msg *req, const struct msg *resp,
    uint8_t th[HANDSHAKE_HASH_LEN])
{
	uint8_t buf[HANDSHAKE_TRANSCRIPT_MAX];
	struct wbuf w;

	wbuf_init(&w, buf, sizeof(buf));
	if (msg_attrs_encode(req, &w) < 0 || msg_attrs_encode(resp, &w) < 0)
		return HANDSHAKE_E_TRANSCRIPT;
	crypto_sha256(th, buf, wbuf_len(&w));
	return 0;
}

/* One key: HKDF-Expand(PRK, label || th, 32). */
static int
handshake_expand(uint8_t out[HANDSHAKE_KEY_LEN],
    const uint8_t prk[CRYPTO_SHA256_SIZE], const char *label,
    const uint8_t th[HANDSHAKE_HASH_LEN])
{
	uint8_t info[64];
	size_t n = strlen(label);

	if (n + HANDSHAKE_HASH_LEN > sizeof(info))
		return -EINVAL;
	memcpy(info, label, n);
	memcpy(info + n, th, HANDSHAKE_HASH_LEN);
	return crypto_hkdf_expand(out, HANDSHAKE_KEY_LEN, prk,
	    CRYPTO_SHA256_SIZE, info, n + HANDSHAKE_HASH_LEN);
}

/* The schedule of 8.4 and 10.3 from a 32-byte salt. */
static int
handshake_schedule(const uint8_t salt[HANDSHAKE_KEY_LEN], const uint8_t *ikm,
    size_t ikmlen, const uint8_t th[HANDSHAKE_HASH_LEN],
    struct handshake_keys *k)
{
	uint8_t prk[CRYPTO_SHA256_SIZE];
	int ret;

	crypto_hkdf_extract(prk, salt, HANDSHAKE_KEY_LEN, ikm, ikmlen);
	if ((ret = handshake_expand(k->i2r, prk, HANDSHAKE_LABEL_I2R,
	    th)) < 0 ||
	    (ret = handshake_expand(k->r2i, prk, HANDSHAKE_LABEL_R2I,
	    th)) < 0 ||
	    (ret = handshake_expand(k->rekey, prk, HANDSHAKE_LABEL_REKEY,
	    th)) < 0)
		handshake_keys_wipe(k);
	crypto_wipe(prk, sizeof(prk));
	return ret;
}

int
handshake_derive(const uint8_t temp_key[HANDSHAKE_KEY_LEN],
    const uint8_t *ikm, size_t ikmlen, const uint8_t th[HANDSHAKE_HASH_LEN],
    struct handshake_keys *k)
{
	if (temp_key == NULL || ikm == NULL || ikmlen == 0 || th == NULL)
		return -EINVAL;
	return handshake_schedule(temp_key, ikm, ikmlen, th, k);
}

int
handshake_rekey_derive(const uint8_t k_rekey[HANDSHAKE_KEY_LEN],
    const uint8_t *ikm, size_t ikmlen, const uint8_t th[HANDSHAKE_HASH_LEN],
    struct handshake_keys *k)
{
	if (k_rekey == NULL || (ikm == NULL && ikmlen > 0) || th == NULL)
		return -EINVAL;
	return handshake_schedule(k_rekey, ikm, ikmlen, th, k);
}

void
handshake_keys_wipe(struct handshake_keys *k)
{
	crypto_wipe(k, sizeof(*k));
}
