/* test_kex.c -- key-exchange schemes in whole in-memory tunnel handshakes. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cert.h"
#include "crypto.h"
#include "handshake.h"
#include "kex.h"
#include "msg.h"
#include "rand.h"

#include "../testca.h"

#define NOW	((time_t)1795000000)

struct node {
	const char		*fqdn;
	gnutls_privkey_t	 key;
	gnutls_pubkey_t		 pub;
	gnutls_x509_crt_t	 crt;
	uint8_t			 hash[HANDSHAKE_HASH_LEN];
};

struct pki {
	struct ntm_rng		*rng;
	struct cert_ca		 ca;
	struct node		 alice;		/* P-256 */
	struct node		 bob;		/* P-256 */
	struct node		 carol;		/* RSA-2048 */
	struct node		 dave;		/* RSA-2048 */
};

static void
node_make(struct pki *p, struct node *n, enum cert_keytype type,
    const char *fqdn, const char *vip4)
{
	const struct testca_leaf l = { .keytype = type, .fqdn = fqdn,
	    .vip4 = vip4, .lifetime = 3600 };

	n->fqdn = fqdn;
	assert_int_equal(testca_issue(&p->ca, &l, p->rng, NOW, &n->key,
	    &n->crt), 0);
	assert_int_equal(cert_pubkey_of(n->key, &n->pub), 0);
	assert_int_equal(handshake_cert_hash(n->crt, n->hash), 0);
}

static void
node_free(struct node *n)
{
	gnutls_x509_crt_deinit(n->crt);
	gnutls_pubkey_deinit(n->pub);
	gnutls_privkey_deinit(n->key);
}

static int
group_setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->rng = rng_seeded_new("test_kex", 8);
	assert_non_null(p->rng);
	assert_int_equal(testca_make(&p->ca, NULL, p->rng, NOW - 86400), 0);
	node_make(p, &p->alice, CERT_KEY_P256, "alice.dc1.ntm.test",
	    "198.18.1.10");
	node_make(p, &p->bob, CERT_KEY_P256, "bob.dc2.ntm.test",
	    "198.18.2.10");
	node_make(p, &p->carol, CERT_KEY_RSA2048, "carol.dc2.ntm.test",
	    "198.18.2.11");
	node_make(p, &p->dave, CERT_KEY_RSA2048, "dave.dc1.ntm.test",
	    "198.18.1.11");
	*state = p;
	return 0;
}

static int
group_teardown(void **state)
{
	struct pki *p = *state;

	node_free(&p->dave);
	node_free(&p->carol);
	node_free(&p->bob);
	node_free(&p->alice);
	cert_ca_clear(&p->ca);
	rng_free(p->rng);
	free(p);
	return 0;
}

/*
 * One tunnel handshake, MN -> CN, with everything that crosses the wire
 * encoded and decoded again.  The DC's part is the temporary key and the
 * path id (from their own seeded generator).  The force_* fields let a
 * test play a misbehaving peer that signs a chosen field.
 */
struct hs {
	const struct node	*mn, *cn;
	uint8_t			 scheme;
	struct kex_allowed	 mn_allowed, cn_allowed;
	const uint8_t		*force_share;	/* MN signs this */
	const uint8_t		*force_answer;	/* CN signs this */
	gnutls_pubkey_t		 kem_pub;	/* rsa: KEM to this */

	struct ntm_rng		*rng_dc, *rng_mn, *rng_cn;
	uint8_t			 temp_key[PROTO_KEY_LEN];
	uint8_t			 path[PROTO_ID_LEN];
	uint8_t			 nonce_i[PROTO_RANDOM_LEN];
	uint8_t			 nonce_r[PROTO_RANDOM_LEN];
	struct kex		*kmn, *kcn;
	uint8_t			 field[KEX_FIELD_MAX];
	size_t			 fieldlen;
	uint8_t			 answer[KEX_FIELD_MAX];
	size_t			 answerlen;
	uint8_t			 sig_i[PROTO_SIGNATURE_MAX];
	uint8_t			 sig_r[PROTO_SIGNATURE_MAX];
	size_t			 sig_i_len, sig_r_len;
	struct msg		 req;		/* MN's, as built */
	struct msg		 resp;		/* CN's, as built */
	struct msg		 dreq;		/* as CN decoded it */
	struct msg		 dresp;		/* as MN decoded it */
	uint8_t			 reqbuf[2048];
	uint8_t			 respbuf[1024];
	size_t			 reqlen, resplen;
	struct handshake_verified *tok_cn, *tok_mn;
	uint8_t			 ikm_mn[KEX_IKM_MAX];
	uint8_t			 ikm_cn[KEX_IKM_MAX];
	size_t			 ikm_mn_len, ikm_cn_len;
	struct handshake_keys	 keys_mn, keys_cn;
};

/* MN offers AES first; CN prefers ChaCha20, and its preference wins. */
static const uint8_t offers[] = { PROTO_AEAD_AES256_GCM,
    PROTO_AEAD_CHACHA20_POLY1305 };
static const uint8_t cn_prefs[] = { PROTO_AEAD_CHACHA20_POLY1305,
    PROTO_AEAD_AES256_GCM };
static const char status_bytes[] = "stapled status";

static struct ntm_rng *
seeded(const char *seed, const char *who)
{
	char s[128];
	struct ntm_rng *g;

	snprintf(s, sizeof(s), "%s/%s", seed, who);
	assert_non_null(g = rng_seeded_new(s, strlen(s)));
	return g;
}

static struct hs *
hs_new(const struct node *mn, const struct node *cn, uint8_t scheme,
    const char *seed)
{
	struct hs *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->mn = mn;
	h->cn = cn;
	h->scheme = scheme;
	assert_int_equal(kex_allowed_parse("ecdhe, rsa, shared",
	    &h->mn_allowed), 0);
	h->cn_allowed = h->mn_allowed;
	h->rng_dc = seeded(seed, "dc");
	h->rng_mn = seeded(seed, "mn");
	h->rng_cn = seeded(seed, "cn");
	assert_int_equal(rng_bytes(h->rng_dc, h->temp_key,
	    sizeof(h->temp_key)), 0);
	assert_int_equal(rng_bytes(h->rng_dc, h->path, sizeof(h->path)), 0);
	return h;
}

static void
hs_free(struct hs *h)
{
	kex_free(h->kmn);
	kex_free(h->kcn);
	handshake_verified_free(h->tok_cn);
	handshake_verified_free(h->tok_mn);
	rng_free(h->rng_dc);
	rng_free(h->rng_mn);
	rng_free(h->rng_cn);
	free(h);
}

/* MN: the scheme's field, the Tunnel Request, Sig_I; encoded to reqbuf. */
static int
hs_mn_request(struct hs *h)
{
	struct kex_input in = { h->temp_key, h->nonce_i,
	    h->kem_pub != NULL ? h->kem_pub : h->cn->pub, NULL };
	struct msg *m = &h->req;
	int ret;

	if ((ret = kex_new(&h->kmn, &h->mn_allowed, h->scheme,
	    PROTO_ROLE_INITIATOR, h->rng_mn)) < 0)
		return ret;
	assert_int_equal(rng_bytes(h->rng_mn, h->nonce_i,
	    sizeof(h->nonce_i)), 0);
	if ((ret = kex_offer(h->kmn, &in, h->field, sizeof(h->field),
	    &h->fieldlen)) < 0)
		return ret;
	assert_int_equal(h->fieldlen, kex_ops(h->kmn)->offer_len);
	if (h->force_share != NULL)
		memcpy(h->field, h->force_share, h->fieldlen);
	msg_init(m, PROTO_MSG_TUNNEL_REQUEST);
	memcpy(m->hdr.id, h->path, sizeof(h->path));
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_PATH_ID, h->path,
	    sizeof(h->path)), 0);
	assert_int_equal(msg_add_u8(m, PROTO_ATTR_KEX, h->scheme), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_AEAD_OFFERS, offers,
	    sizeof(offers)), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_NONCE, h->nonce_i,
	    sizeof(h->nonce_i)), 0);
	assert_int_equal(msg_add_bytes(m, kex_ops(h->kmn)->offer_attr,
	    h->field, h->fieldlen), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_FQDN, h->mn->fqdn,
	    strlen(h->mn->fqdn)), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_PEER_FQDN, h->cn->fqdn,
	    strlen(h->cn->fqdn)), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_CERT_HASH, h->mn->hash,
	    sizeof(h->mn->hash)), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_STATUS, status_bytes,
	    sizeof(status_bytes)), 0);
	assert_int_equal(handshake_sign_request(m, h->cn->hash, h->mn->key,
	    h->sig_i, sizeof(h->sig_i), &h->sig_i_len), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_SIGNATURE, h->sig_i,
	    h->sig_i_len), 0);
	assert_int_equal(msg_encode(m, h->reqbuf, sizeof(h->reqbuf),
	    &h->reqlen), 0);
	return 0;
}

/* CN: decode, Sig_I, scheme check, the scheme's answer, Tunnel Response. */
static int
hs_cn_respond(struct hs *h)
{
	struct kex_input in = { h->temp_key, NULL, NULL, h->cn->key };
	const struct msg_attr *share, *nonce;
	struct msg *m = &h->resp;
	const uint8_t *ikm;
	uint8_t kex, aead, th[HANDSHAKE_HASH_LEN];
	int ret;

	assert_int_equal(msg_decode(h->reqbuf, h->reqlen, &h->dreq), 0);
	if ((ret = handshake_verify_request(&h->dreq, h->cn->hash,
	    h->mn->pub, &h->tok_cn)) < 0)
		return ret;
	assert_int_equal(msg_attr_u8(&h->dreq, PROTO_ATTR_KEX, &kex), 0);
	if ((ret = kex_new(&h->kcn, &h->cn_allowed, kex, PROTO_ROLE_RESPONDER,
	    h->rng_cn)) < 0)
		return ret;
	assert_int_equal(handshake_aead_choose(&h->dreq, cn_prefs,
	    sizeof(cn_prefs), &aead), 0);
	assert_non_null(nonce = msg_attr_find(&h->dreq, PROTO_ATTR_NONCE));
	in.nonce_i = nonce->val;
	assert_non_null(share = msg_attr_find(&h->dreq,
	    kex_ops(h->kcn)->offer_attr));
	if ((ret = kex_respond(h->kcn, &in, h->tok_cn, share->val, share->len,
	    h->answer, sizeof(h->answer), &h->answerlen)) < 0)
		return ret;
	if (h->force_answer != NULL)
		memcpy(h->answer, h->force_answer, h->answerlen);
	assert_int_equal(rng_bytes(h->rng_cn, h->nonce_r,
	    sizeof(h->nonce_r)), 0);
	msg_init(m, PROTO_MSG_TUNNEL_RESPONSE);
	memcpy(m->hdr.id, h->path, sizeof(h->path));
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_NONCE, h->nonce_r,
	    sizeof(h->nonce_r)), 0);
	if (h->answerlen > 0)
		assert_int_equal(msg_add_bytes(m, kex_ops(h->kcn)->answer_attr,
		    h->answer, h->answerlen), 0);
	assert_int_equal(msg_add_u8(m, PROTO_ATTR_AEAD, aead), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_CERT_HASH, h->cn->hash,
	    sizeof(h->cn->hash)), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_STATUS, status_bytes,
	    sizeof(status_bytes)), 0);
	assert_int_equal(handshake_sign_response(&h->dreq, m, h->cn->hash,
	    h->cn->key, h->sig_r, sizeof(h->sig_r), &h->sig_r_len), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_SIGNATURE, h->sig_r,
	    h->sig_r_len), 0);
	assert_int_equal(msg_encode(m, h->respbuf, sizeof(h->respbuf),
	    &h->resplen), 0);
	assert_int_equal(handshake_transcript_hash(&h->dreq, m, h->cn->hash,
	    th), 0);
	assert_int_equal(kex_ikm(h->kcn, &ikm, &h->ikm_cn_len), 0);
	memcpy(h->ikm_cn, ikm, h->ikm_cn_len);
	assert_int_equal(kex_derive(h->kcn, h->temp_key, th, &h->keys_cn), 0);
	/* The IKM is gone once the keys exist (PROTOCOL.md 8.4). */
	assert_int_equal(kex_ikm(h->kcn, &ikm, &h->ikm_cn_len), KEX_E_STATE);
	assert_true(crypto_ct_equal(h->kcn->ikm,
	    (uint8_t[KEX_IKM_MAX]){ 0 }, KEX_IKM_MAX));
	return 0;
}

/* MN: decode, Sig_R, the scheme's last step, keys. */
static int
hs_mn_finish(struct hs *h)
{
	const struct msg_attr *answer;
	const uint8_t *ikm;
	uint8_t th[HANDSHAKE_HASH_LEN];
	int ret;

	assert_int_equal(msg_decode(h->respbuf, h->resplen, &h->dresp), 0);
	if ((ret = handshake_verify_response(&h->req, &h->dresp, h->cn->hash,
	    h->cn->pub, &h->tok_mn)) < 0)
		return ret;
	answer = msg_attr_find(&h->dresp, kex_ops(h->kmn)->answer_attr);
	if ((ret = kex_finish(h->kmn, h->tok_mn,
	    answer != NULL ? answer->val : NULL,
	    answer != NULL ? answer->len : 0)) < 0)
		return ret;
	assert_int_equal(handshake_transcript_hash(&h->req, &h->dresp,
	    h->cn->hash, th), 0);
	assert_int_equal(kex_ikm(h->kmn, &ikm, &h->ikm_mn_len), 0);
	memcpy(h->ikm_mn, ikm, h->ikm_mn_len);
	assert_int_equal(kex_derive(h->kmn, h->temp_key, th, &h->keys_mn), 0);
	assert_int_equal(kex_derive(h->kmn, h->temp_key, th, &h->keys_mn),
	    KEX_E_STATE);
	return 0;
}

static struct hs *
hs_run(const struct node *mn, const struct node *cn, uint8_t scheme,
    const char *seed)
{
	struct hs *h = hs_new(mn, cn, scheme, seed);

	assert_int_equal(hs_mn_request(h), 0);
	assert_int_equal(hs_cn_respond(h), 0);
	assert_int_equal(hs_mn_finish(h), 0);
	return h;
}

static void
assert_tunnel_keys(const struct hs *h)
{
	assert_memory_equal(&h->keys_mn, &h->keys_cn, sizeof(h->keys_mn));
	assert_memory_not_equal(h->keys_mn.i2r, h->keys_mn.r2i,
	    HANDSHAKE_KEY_LEN);
	assert_memory_not_equal(h->keys_mn.i2r, h->keys_mn.rekey,
	    HANDSHAKE_KEY_LEN);
}

static void
test_ecdhe_exchange(void **state)
{
	struct pki *p = *state;
	struct hs *h = hs_run(&p->alice, &p->bob, PROTO_KEX_ECDHE, "ecdhe");
	uint8_t aead;

	assert_tunnel_keys(h);
	assert_int_equal(h->fieldlen, 32);
	assert_int_equal(h->answerlen, 32);
	assert_int_equal(h->ikm_mn_len, 32);
	assert_int_equal(h->ikm_cn_len, 32);
	assert_memory_equal(h->ikm_mn, h->ikm_cn, 32);
	/* CN's AEAD preference, among MN's offers, is in the transcript. */
	assert_int_equal(msg_attr_u8(&h->dresp, PROTO_ATTR_AEAD, &aead), 0);
	assert_int_equal(aead, PROTO_AEAD_CHACHA20_POLY1305);
	/* The ephemeral private keys are gone once the secret is made. */
	assert_true(crypto_ct_equal(h->kmn->eph.priv,
	    (uint8_t[32]){ 0 }, 32));
	assert_true(crypto_ct_equal(h->kcn->eph.priv,
	    (uint8_t[32]){ 0 }, 32));
	hs_free(h);
}

static void
test_rsa_exchange(void **state)
{
	struct pki *p = *state;
	struct hs *h;

	/* ECDSA initiator, RSA responder; then RSA on both sides. */
	h = hs_run(&p->alice, &p->carol, PROTO_KEX_RSA, "rsa");
	assert_tunnel_keys(h);
	assert_int_equal(h->fieldlen, PROTO_RSA_KEM_LEN);
	assert_int_equal(h->answerlen, 0);
	assert_null(msg_attr_find(&h->dresp, PROTO_ATTR_EPHEMERAL));
	assert_int_equal(h->ikm_mn_len, PROTO_RSA_KEM_LEN);
	assert_int_equal(h->ikm_cn_len, PROTO_RSA_KEM_LEN);
	assert_memory_equal(h->ikm_mn, h->ikm_cn, PROTO_RSA_KEM_LEN);
	/* c is not r. */
	assert_memory_not_equal(h->ikm_mn, h->field, PROTO_RSA_KEM_LEN);
	hs_free(h);

	h = hs_run(&p->dave, &p->carol, PROTO_KEX_RSA, "rsa2");
	assert_tunnel_keys(h);
	hs_free(h);
}

static void
test_shared_exchange(void **state)
{
	struct pki *p = *state;
	struct hs *h = hs_run(&p->alice, &p->bob, PROTO_KEX_SHARED, "shared");

	assert_tunnel_keys(h);
	assert_int_equal(h->fieldlen, PROTO_END_KEY_CT_LEN);
	assert_int_equal(h->answerlen, 0);
	assert_int_equal(h->ikm_mn_len, 32);
	assert_memory_equal(h->ikm_mn, h->ikm_cn, 32);
	/* The end key does not travel in the clear. */
	assert_null(memmem(h->reqbuf, h->reqlen, h->ikm_mn, 32));
	hs_free(h);
}

/* Same seeds, same bytes and keys; another seed, other ones. */
static void
test_deterministic_with_seeded_rng(void **state)
{
	static const uint8_t schemes[] = { PROTO_KEX_SHARED, PROTO_KEX_RSA,
	    PROTO_KEX_ECDHE };
	struct pki *p = *state;
	struct hs *h1, *h2, *h3;
	size_t i;

	for (i = 0; i < sizeof(schemes); i++) {
		h1 = hs_run(&p->alice, &p->carol, schemes[i], "seed-a");
		h2 = hs_run(&p->alice, &p->carol, schemes[i], "seed-a");
		h3 = hs_run(&p->alice, &p->carol, schemes[i], "seed-b");
		assert_int_equal(h1->fieldlen, h2->fieldlen);
		assert_memory_equal(h1->field, h2->field, h1->fieldlen);
		assert_memory_equal(h1->answer, h2->answer, h1->answerlen);
		assert_memory_equal(&h1->keys_mn, &h2->keys_mn,
		    sizeof(h1->keys_mn));
		assert_memory_not_equal(h1->field, h3->field, h1->fieldlen);
		assert_memory_not_equal(h1->keys_mn.i2r, h3->keys_mn.i2r,
		    HANDSHAKE_KEY_LEN);
		hs_free(h3);
		hs_free(h2);
		hs_free(h1);
	}
}

/*
 * The ephemeral made ahead of time (x25519_spare_fill): the next
 * handshake side that needs a key pair takes it -- its public half is
 * what goes on the wire -- and the one after gets a fresh pair, never the
 * same one again.  The exchange with a spare ends in the same keys on both
 * sides.
 */
static void
test_ecdhe_spare_used_once(void **state)
{
	struct pki *p = *state;
	struct x25519_keypair want, a, b;
	struct ntm_rng *g, *g_copy;
	struct hs *h, *h2;

	x25519_spare_wipe();
	assert_false(x25519_spare_ready());
	/* What the spare will be: the same seed drawn the same way. */
	g = seeded("spare", "pool");
	g_copy = seeded("spare", "pool");
	assert_int_equal(x25519_keypair_generate(&want, g_copy), 0);

	/* MN's eph_I is the spare, which is then gone. */
	assert_int_equal(x25519_spare_fill(g), 0);
	assert_true(x25519_spare_ready());
	assert_int_equal(x25519_spare_fill(g), 0);	/* one is enough */
	h = hs_run(&p->alice, &p->bob, PROTO_KEX_ECDHE, "spare-hs");
	assert_false(x25519_spare_ready());
	assert_int_equal(h->fieldlen, X25519_KEY_SIZE);
	assert_memory_equal(h->field, want.pub, X25519_KEY_SIZE);
	assert_memory_not_equal(h->answer, want.pub, X25519_KEY_SIZE);
	assert_tunnel_keys(h);
	assert_memory_equal(h->ikm_mn, h->ikm_cn, 32);

	/* The same handshake seeds without a spare: another eph_I. */
	h2 = hs_run(&p->alice, &p->bob, PROTO_KEX_ECDHE, "spare-hs");
	assert_memory_not_equal(h2->field, want.pub, X25519_KEY_SIZE);
	assert_memory_not_equal(h2->field, h->field, X25519_KEY_SIZE);
	assert_tunnel_keys(h2);
	hs_free(h2);
	hs_free(h);

	/* CN takes one too: filled between the request and the answer. */
	assert_int_equal(x25519_keypair_generate(&want, g_copy), 0);
	h = hs_new(&p->alice, &p->bob, PROTO_KEX_ECDHE, "spare-cn");
	assert_int_equal(hs_mn_request(h), 0);
	assert_int_equal(x25519_spare_fill(g), 0);
	assert_int_equal(hs_cn_respond(h), 0);
	assert_int_equal(hs_mn_finish(h), 0);
	assert_false(x25519_spare_ready());
	assert_memory_equal(h->answer, want.pub, X25519_KEY_SIZE);
	assert_memory_not_equal(h->field, want.pub, X25519_KEY_SIZE);
	assert_tunnel_keys(h);
	hs_free(h);

	/* Taken twice after one fill: two different, working pairs. */
	assert_int_equal(x25519_spare_fill(g), 0);
	assert_int_equal(x25519_keypair_take(&a, g), 0);
	assert_int_equal(x25519_keypair_take(&b, g), 0);
	assert_memory_not_equal(a.priv, b.priv, X25519_KEY_SIZE);
	assert_memory_not_equal(a.pub, b.pub, X25519_KEY_SIZE);
	x25519_public(want.pub, a.priv);
	assert_memory_equal(want.pub, a.pub, X25519_KEY_SIZE);
	x25519_public(want.pub, b.priv);
	assert_memory_equal(want.pub, b.pub, X25519_KEY_SIZE);
	/* A spare forgotten is wiped; nothing is handed out from it. */
	assert_int_equal(x25519_spare_fill(g), 0);
	x25519_spare_wipe();
	assert_false(x25519_spare_ready());
	x25519_keypair_wipe(&a);
	x25519_keypair_wipe(&b);
	x25519_keypair_wipe(&want);
	rng_free(g_copy);
	rng_free(g);
}

static void
test_allowed_parse(void **state)
{
	static const char *const bad[] = { "", " ", ",", "ecdhe,", ",ecdhe",
	    "ecdhe,,rsa", "ecdhe,ecdhe", "rsa, ecdhe, rsa", "dh", "ECDHE",
	    "ecdhe;rsa", "ecdhe rsa", "shared, rsa, ecdhe, x" };
	struct kex_allowed a, keep;
	char buf[64];
	char *names[] = { "rsa", " ecdhe " };
	char *dup[] = { "rsa", "rsa" };
	size_t i;

	(void)state;
	kex_allowed_default(&a);
	assert_int_equal(a.n, 1);
	assert_true(kex_allowed_has(&a, PROTO_KEX_ECDHE));
	assert_false(kex_allowed_has(&a, PROTO_KEX_RSA));
	assert_false(kex_allowed_has(&a, PROTO_KEX_SHARED));
	assert_false(kex_allowed_has(&a, PROTO_KEX_INVALID));
	assert_int_equal(kex_allowed_first(&a), PROTO_KEX_ECDHE);

	assert_int_equal(kex_allowed_parse("ecdhe", &a), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.id[0], PROTO_KEX_ECDHE);
	assert_int_equal(kex_allowed_parse("rsa,ecdhe", &a), 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(kex_allowed_first(&a), PROTO_KEX_RSA);
	assert_true(kex_allowed_has(&a, PROTO_KEX_ECDHE));
	assert_false(kex_allowed_has(&a, PROTO_KEX_SHARED));
	assert_int_equal(kex_allowed_format(&a, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "rsa, ecdhe");
	assert_int_equal(kex_allowed_format(&a, buf, 5), -ENOSPC);
	assert_int_equal(kex_allowed_parse("\tshared , rsa ,ecdhe", &a), 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.id[0], PROTO_KEX_SHARED);
	assert_int_equal(a.id[2], PROTO_KEX_ECDHE);

	keep = a;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(kex_allowed_parse(bad[i], &a), -EINVAL);
		assert_memory_equal(&a, &keep, sizeof(a));
	}
	assert_int_equal(kex_allowed_parse(NULL, &a), -EINVAL);

	assert_int_equal(kex_allowed_from_names(names, 2, &a), 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.id[0], PROTO_KEX_RSA);
	assert_int_equal(a.id[1], PROTO_KEX_ECDHE);
	assert_int_equal(kex_allowed_from_names(dup, 2, &a), -EINVAL);
	assert_int_equal(kex_allowed_from_names(names, 0, &a), -EINVAL);
}

static void
test_registry(void **state)
{
	(void)state;
	assert_ptr_equal(kex_find(PROTO_KEX_SHARED), &kex_shared_ops);
	assert_ptr_equal(kex_find(PROTO_KEX_RSA), &kex_rsa_ops);
	assert_ptr_equal(kex_find(PROTO_KEX_ECDHE), &kex_ecdhe_ops);
	assert_null(kex_find(PROTO_KEX_INVALID));
	assert_null(kex_find(PROTO_KEX_MAX + 1));
	assert_ptr_equal(kex_find_name("ecdhe"), &kex_ecdhe_ops);
	assert_null(kex_find_name("none"));
	assert_string_equal(kex_name(PROTO_KEX_RSA), "rsa");
	assert_null(kex_name(0));
	/* Each scheme's fields are the attributes PROTOCOL.md sizes. */
	assert_int_equal(kex_ecdhe_ops.offer_attr, PROTO_ATTR_EPHEMERAL);
	assert_int_equal(kex_ecdhe_ops.answer_attr, PROTO_ATTR_EPHEMERAL);
	assert_int_equal(kex_rsa_ops.offer_attr, PROTO_ATTR_KEM_CT);
	assert_int_equal(kex_rsa_ops.answer_attr, PROTO_ATTR_INVALID);
	assert_int_equal(kex_shared_ops.offer_attr, PROTO_ATTR_END_KEY_CT);
	assert_int_equal(kex_shared_ops.offer_len, PROTO_END_KEY_CT_LEN);
}

/* CN refuses a scheme outside its kex_allowed, with its own code. */
static void
test_scheme_not_allowed_refused(void **state)
{
	struct pki *p = *state;
	struct kex_allowed def;
	struct kex *kx = (struct kex *)1;
	struct hs *h;

	kex_allowed_default(&def);
	assert_int_equal(kex_new(&kx, &def, PROTO_KEX_RSA,
	    PROTO_ROLE_RESPONDER, p->rng), KEX_E_NOT_ALLOWED);
	assert_null(kx);
	assert_int_equal(kex_new(&kx, &def, PROTO_KEX_SHARED,
	    PROTO_ROLE_RESPONDER, p->rng), KEX_E_NOT_ALLOWED);
	assert_int_equal(kex_status(KEX_E_NOT_ALLOWED),
	    PROTO_STATUS_KEX_NOT_ALLOWED);
	assert_int_equal(kex_new(&kx, &def, PROTO_KEX_MAX + 1,
	    PROTO_ROLE_RESPONDER, p->rng), KEX_E_UNKNOWN);
	assert_int_equal(kex_new(&kx, &def, PROTO_KEX_INVALID,
	    PROTO_ROLE_RESPONDER, p->rng), KEX_E_UNKNOWN);
	/* MN names only schemes it allows itself. */
	assert_int_equal(kex_new(&kx, &def, PROTO_KEX_SHARED,
	    PROTO_ROLE_INITIATOR, p->rng), KEX_E_NOT_ALLOWED);

	/* Whole exchange: MN asks for shared, CN allows ecdhe only. */
	h = hs_new(&p->alice, &p->bob, PROTO_KEX_SHARED, "refuse");
	kex_allowed_default(&h->cn_allowed);
	assert_int_equal(hs_mn_request(h), 0);
	assert_int_equal(hs_cn_respond(h), KEX_E_NOT_ALLOWED);
	assert_null(h->kcn);
	hs_free(h);
	assert_int_not_equal(KEX_E_NOT_ALLOWED, KEX_E_UNKNOWN);
}

static void
test_rsa_toward_ecdsa_refused(void **state)
{
	struct pki *p = *state;
	struct hs *h;
	const uint8_t *ikm;
	size_t len;

	/* MN: bob's certificate key is P-256, so there is no KEM to it. */
	h = hs_new(&p->alice, &p->bob, PROTO_KEX_RSA, "rsa-ecdsa");
	assert_int_equal(hs_mn_request(h), KEX_E_KEY_TYPE);
	assert_int_equal(h->fieldlen, 0);
	assert_int_equal(kex_ikm(h->kmn, &ikm, &len), KEX_E_STATE);
	/* A failed state stays failed: no second offer on it. */
	assert_int_equal(kex_offer(h->kmn, &(struct kex_input){ h->temp_key,
	    h->nonce_i, p->carol.pub, NULL }, h->field, sizeof(h->field),
	    &len), KEX_E_STATE);
	assert_int_equal(kex_status(KEX_E_KEY_TYPE), PROTO_STATUS_CERT_INVALID);
	hs_free(h);
}

/* CN whose own key is ECDSA cannot take part in rsa. */
static void
test_rsa_responder_with_ecdsa_key_refused(void **state)
{
	struct pki *p = *state;
	struct hs *h = hs_new(&p->alice, &p->bob, PROTO_KEX_RSA, "rsa-cn");

	/* MN encapsulates to some RSA key, signs for bob. */
	h->kem_pub = p->carol.pub;
	assert_int_equal(hs_mn_request(h), 0);
	assert_int_equal(hs_cn_respond(h), KEX_E_KEY_TYPE);
	hs_free(h);
}

/*
 * rsa: CN decapsulates only with a token from Sig_I's check that covers
 * this very c.  No token, a token for another c, the wrong side's token
 * or a direct call into the scheme are all refused.
 */
static void
test_rsa_decaps_needs_verified_signature(void **state)
{
	struct pki *p = *state;
	struct hs *h = hs_new(&p->alice, &p->carol, PROTO_KEX_RSA, "order");
	struct hs *other = hs_run(&p->alice, &p->carol, PROTO_KEX_RSA,
	    "order-other");
	struct kex_input in = { NULL, NULL, NULL, p->carol.key };
	const struct msg_attr *c;
	uint8_t answer[KEX_FIELD_MAX];
	const uint8_t *ikm;
	size_t len;

	assert_int_equal(hs_mn_request(h), 0);
	assert_int_equal(msg_decode(h->reqbuf, h->reqlen, &h->dreq), 0);
	assert_non_null(c = msg_attr_find(&h->dreq, PROTO_ATTR_KEM_CT));

	assert_int_equal(kex_new(&h->kcn, &h->cn_allowed, PROTO_KEX_RSA,
	    PROTO_ROLE_RESPONDER, h->rng_cn), 0);
	assert_int_equal(kex_respond(h->kcn, &in, NULL, c->val, c->len,
	    answer, sizeof(answer), &len), KEX_E_UNVERIFIED);
	assert_int_equal(kex_ikm(h->kcn, &ikm, &len), KEX_E_STATE);
	kex_free(h->kcn);

	/* A verified token of another request (another c). */
	assert_int_equal(kex_new(&h->kcn, &h->cn_allowed, PROTO_KEX_RSA,
	    PROTO_ROLE_RESPONDER, h->rng_cn), 0);
	assert_int_equal(kex_respond(h->kcn, &in, other->tok_cn, c->val,
	    c->len, answer, sizeof(answer), &len), KEX_E_UNVERIFIED);
	kex_free(h->kcn);

	/* A response-side token is no proof of Sig_I. */
	assert_int_equal(kex_new(&h->kcn, &h->cn_allowed, PROTO_KEX_RSA,
	    PROTO_ROLE_RESPONDER, h->rng_cn), 0);
	assert_int_equal(kex_respond(h->kcn, &in, other->tok_mn, c->val,
	    c->len, answer, sizeof(answer), &len), KEX_E_UNVERIFIED);
	kex_free(h->kcn);

	/* Around kex_respond(): the scheme checks next to decapsulation. */
	assert_int_equal(kex_new(&h->kcn, &h->cn_allowed, PROTO_KEX_RSA,
	    PROTO_ROLE_RESPONDER, h->rng_cn), 0);
	assert_int_equal(kex_rsa_ops.respond(h->kcn, &in, NULL, c->val,
	    answer), KEX_E_UNVERIFIED);
	assert_int_equal(h->kcn->ikm_len, 0);
	kex_free(h->kcn);
	h->kcn = NULL;

	/* With the signature checked, it works. */
	assert_int_equal(hs_cn_respond(h), 0);
	assert_int_equal(hs_mn_finish(h), 0);
	assert_tunnel_keys(h);
	assert_int_equal(kex_status(KEX_E_UNVERIFIED),
	    PROTO_STATUS_AUTH_FAILED);
	hs_free(other);
	hs_free(h);
}

/* Every scheme: no token, no use of the peer's field. */
static void
test_every_scheme_needs_token(void **state)
{
	static const uint8_t schemes[] = { PROTO_KEX_SHARED, PROTO_KEX_RSA,
	    PROTO_KEX_ECDHE };
	struct pki *p = *state;
	struct kex_input in;
	const struct msg_attr *share, *nonce;
	uint8_t answer[KEX_FIELD_MAX];
	struct hs *h;
	size_t i, len;

	for (i = 0; i < sizeof(schemes); i++) {
		h = hs_new(&p->alice, &p->carol, schemes[i], "token");
		assert_int_equal(hs_mn_request(h), 0);
		assert_int_equal(msg_decode(h->reqbuf, h->reqlen, &h->dreq), 0);
		assert_int_equal(kex_new(&h->kcn, &h->cn_allowed, schemes[i],
		    PROTO_ROLE_RESPONDER, h->rng_cn), 0);
		nonce = msg_attr_find(&h->dreq, PROTO_ATTR_NONCE);
		share = msg_attr_find(&h->dreq, kex_ops(h->kcn)->offer_attr);
		in = (struct kex_input){ h->temp_key, nonce->val, NULL,
		    p->carol.key };
		assert_int_equal(kex_respond(h->kcn, &in, NULL, share->val,
		    share->len, answer, sizeof(answer), &len),
		    KEX_E_UNVERIFIED);
		assert_int_equal(len, 0);
		hs_free(h);
	}
}

/* MN uses eph_R only after Sig_R verified. */
static void
test_finish_needs_verified_response(void **state)
{
	struct pki *p = *state;
	struct hs *h = hs_new(&p->alice, &p->bob, PROTO_KEX_ECDHE, "finish");
	const struct msg_attr *eph;

	assert_int_equal(hs_mn_request(h), 0);
	assert_int_equal(hs_cn_respond(h), 0);
	assert_int_equal(msg_decode(h->respbuf, h->resplen, &h->dresp), 0);
	assert_non_null(eph = msg_attr_find(&h->dresp, PROTO_ATTR_EPHEMERAL));
	/* CN's request token is the wrong side. */
	assert_int_equal(kex_finish(h->kmn, h->tok_cn, eph->val, eph->len),
	    KEX_E_UNVERIFIED);
	hs_free(h);
}

static void
test_wrong_order_refused(void **state)
{
	struct pki *p = *state;
	struct kex_allowed all;
	struct kex_input in = { NULL, NULL, NULL, NULL };
	uint8_t field[KEX_FIELD_MAX];
	const uint8_t *ikm;
	struct kex *kx;
	size_t len;

	assert_int_equal(kex_allowed_parse("ecdhe,rsa,shared", &all), 0);
	assert_int_equal(kex_new(&kx, &all, PROTO_KEX_ECDHE,
	    PROTO_ROLE_INITIATOR, p->rng), 0);
	assert_int_equal(kex_finish(kx, NULL, field, 32), KEX_E_STATE);
	assert_int_equal(kex_respond(kx, &in, NULL, field, 32, field,
	    sizeof(field), &len), KEX_E_STATE);
	assert_int_equal(kex_ikm(kx, &ikm, &len), KEX_E_STATE);
	assert_int_equal(kex_offer(kx, &in, field, 31, &len), -EINVAL);
	assert_int_equal(kex_offer(kx, &in, field, sizeof(field), &len), 0);
	assert_int_equal(kex_offer(kx, &in, field, sizeof(field), &len),
	    KEX_E_STATE);
	assert_int_equal(kex_ikm(kx, &ikm, &len), KEX_E_STATE);
	kex_free(kx);

	assert_int_equal(kex_new(&kx, &all, PROTO_KEX_ECDHE,
	    PROTO_ROLE_RESPONDER, p->rng), 0);
	assert_int_equal(kex_offer(kx, &in, field, sizeof(field), &len),
	    KEX_E_STATE);
	kex_free(kx);
	kex_free(NULL);
	assert_int_equal(kex_new(&kx, &all, PROTO_KEX_ECDHE,
	    PROTO_ROLE_INVALID, p->rng), -EINVAL);
}

/* Low-order X25519 points (RFC 7748 §6.1): the shared secret is zero. */
static const uint8_t low_order[][32] = {
	{ 0 },
	{ 1 },
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	  0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	  0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
};

static void
test_ecdhe_all_zero_refused(void **state)
{
	struct pki *p = *state;
	struct hs *h;
	const uint8_t *ikm;
	size_t i, len;

	for (i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		/* A signed low-order eph_I: CN refuses. */
		h = hs_new(&p->alice, &p->bob, PROTO_KEX_ECDHE, "zero-i");
		h->force_share = low_order[i];
		assert_int_equal(hs_mn_request(h), 0);
		assert_int_equal(hs_cn_respond(h), KEX_E_PEER_KEY);
		assert_int_equal(h->answerlen, 0);
		assert_int_equal(kex_ikm(h->kcn, &ikm, &len), KEX_E_STATE);
		hs_free(h);

		/* A signed low-order eph_R: MN refuses. */
		h = hs_new(&p->alice, &p->bob, PROTO_KEX_ECDHE, "zero-r");
		h->force_answer = low_order[i];
		assert_int_equal(hs_mn_request(h), 0);
		assert_int_equal(hs_cn_respond(h), 0);
		assert_int_equal(hs_mn_finish(h), KEX_E_PEER_KEY);
		assert_int_equal(kex_ikm(h->kmn, &ikm, &len), KEX_E_STATE);
		hs_free(h);
	}
}

/* n - 1 of an RSA-2048 key, 256 bytes big-endian (n is odd). */
static void
modulus_minus_one(gnutls_pubkey_t pub, uint8_t out[PROTO_RSA_KEM_LEN])
{
	gnutls_datum_t m, e;

	assert_int_equal(gnutls_pubkey_export_rsa_raw2(pub, &m, &e,
	    GNUTLS_EXPORT_FLAG_NO_LZ), 0);
	assert_int_equal(m.size, PROTO_RSA_KEM_LEN);
	memcpy(out, m.data, PROTO_RSA_KEM_LEN);
	assert_true(out[PROTO_RSA_KEM_LEN - 1] & 1);
	out[PROTO_RSA_KEM_LEN - 1] &= 0xfe;
	gnutls_free(m.data);
	gnutls_free(e.data);
}

/* A signed but bad field: CN cannot use it. */
static void
test_bad_fields_refused(void **state)
{
	struct pki *p = *state;
	uint8_t junk[PROTO_END_KEY_CT_LEN], big[PROTO_RSA_KEM_LEN];
	struct hs *h;

	/* shared: a sealed end key that does not open. */
	memset(junk, 0x5a, sizeof(junk));
	h = hs_new(&p->alice, &p->bob, PROTO_KEX_SHARED, "junk");
	h->force_share = junk;
	assert_int_equal(hs_mn_request(h), 0);
	assert_int_equal(hs_cn_respond(h), KEX_E_DECRYPT);
	hs_free(h);

	/* shared: CN given another temporary key. */
	h = hs_new(&p->alice, &p->bob, PROTO_KEX_SHARED, "temp");
	assert_int_equal(hs_mn_request(h), 0);
	h->temp_key[0] ^= 1;
	assert_int_equal(hs_cn_respond(h), KEX_E_DECRYPT);
	hs_free(h);

	/* shared: the sealing key depends on nonce_I too. */
	h = hs_new(&p->alice, &p->bob, PROTO_KEX_SHARED, "nonce");
	assert_int_equal(hs_mn_request(h), 0);
	assert_int_equal(msg_decode(h->reqbuf, h->reqlen, &h->dreq), 0);
	assert_int_equal(handshake_verify_request(&h->dreq, p->bob.hash,
	    p->alice.pub, &h->tok_cn), 0);
	assert_int_equal(kex_new(&h->kcn, &h->cn_allowed, PROTO_KEX_SHARED,
	    PROTO_ROLE_RESPONDER, h->rng_cn), 0);
	h->nonce_i[0] ^= 1;
	assert_int_equal(kex_respond(h->kcn, &(struct kex_input){ h->temp_key,
	    h->nonce_i, NULL, NULL }, h->tok_cn,
	    msg_attr_find(&h->dreq, PROTO_ATTR_END_KEY_CT)->val,
	    PROTO_END_KEY_CT_LEN, h->answer, sizeof(h->answer),
	    &h->answerlen), KEX_E_DECRYPT);
	hs_free(h);

	/* rsa: c not below n. */
	memset(big, 0xff, sizeof(big));
	h = hs_new(&p->alice, &p->carol, PROTO_KEX_RSA, "big");
	h->force_share = big;
	assert_int_equal(hs_mn_request(h), 0);
	assert_int_equal(hs_cn_respond(h), KEX_E_DECRYPT);
	hs_free(h);

	/* rsa: r = 1 (c = 1) and r = n - 1 (c = n - 1), PROTOCOL.md 9.2. */
	memset(big, 0, sizeof(big));
	big[sizeof(big) - 1] = 1;
	h = hs_new(&p->alice, &p->carol, PROTO_KEX_RSA, "one");
	h->force_share = big;
	assert_int_equal(hs_mn_request(h), 0);
	assert_int_equal(hs_cn_respond(h), KEX_E_DECRYPT);
	hs_free(h);
	modulus_minus_one(p->carol.pub, big);
	h = hs_new(&p->alice, &p->carol, PROTO_KEX_RSA, "n-1");
	h->force_share = big;
	assert_int_equal(hs_mn_request(h), 0);
	assert_int_equal(hs_cn_respond(h), KEX_E_DECRYPT);
	assert_int_equal(kex_status(KEX_E_DECRYPT), PROTO_STATUS_AUTH_FAILED);
	hs_free(h);
}

/*
 * What a DC knows: the temporary key (it made it), both certificates and
 * everything on the wire.  With `shared` that is enough to derive the
 * tunnel keys (DESIGN.md §10: the DCs can read and forge everything).
 * With `ecdhe` the same steps give the DC its own secret, not the
 * tunnel's, and nothing it can compute from the wire is the IKM.
 */
static int
dc_derive(const struct hs *h, const struct node *mn, const struct node *cn,
    struct handshake_keys *out)
{
	struct handshake_verified *v = NULL;
	struct kex_allowed all;
	struct kex *kx = NULL;
	struct msg req, resp;
	const struct msg_attr *share, *nonce;
	struct kex_input in = { h->temp_key, NULL, NULL, NULL };
	uint8_t answer[KEX_FIELD_MAX], th[HANDSHAKE_HASH_LEN];
	struct ntm_rng *rng = rng_seeded_new("dc", 2);
	const uint8_t *ikm;
	size_t len;
	uint8_t kex;
	int ret;

	assert_int_equal(kex_allowed_parse("shared, ecdhe", &all), 0);
	assert_int_equal(msg_decode(h->reqbuf, h->reqlen, &req), 0);
	assert_int_equal(msg_decode(h->respbuf, h->resplen, &resp), 0);
	/* Signatures verify with public keys: anyone gets the token. */
	assert_int_equal(handshake_verify_request(&req, cn->hash, mn->pub, &v),
	    0);
	assert_int_equal(msg_attr_u8(&req, PROTO_ATTR_KEX, &kex), 0);
	assert_int_equal(kex_new(&kx, &all, kex, PROTO_ROLE_RESPONDER, rng), 0);
	nonce = msg_attr_find(&req, PROTO_ATTR_NONCE);
	in.nonce_i = nonce->val;
	share = msg_attr_find(&req, kex_ops(kx)->offer_attr);
	if ((ret = kex_respond(kx, &in, v, share->val, share->len, answer,
	    sizeof(answer), &len)) == 0 &&
	    (ret = kex_ikm(kx, &ikm, &len)) == 0 &&
	    (ret = handshake_transcript_hash(&req, &resp, cn->hash, th)) == 0)
		ret = handshake_derive(h->temp_key, ikm, len, th, out);
	kex_free(kx);
	handshake_verified_free(v);
	rng_free(rng);
	return ret;
}

static void
test_shared_dc_reads_everything(void **state)
{
	struct pki *p = *state;
	struct hs *h = hs_run(&p->alice, &p->bob, PROTO_KEX_SHARED, "dc");
	struct handshake_keys dc;

	assert_int_equal(dc_derive(h, &p->alice, &p->bob, &dc), 0);
	assert_memory_equal(&dc, &h->keys_mn, sizeof(dc));
	assert_memory_equal(&dc, &h->keys_cn, sizeof(dc));
	hs_free(h);
}

static void
test_ecdhe_dc_derives_nothing(void **state)
{
	struct pki *p = *state;
	struct hs *h = hs_run(&p->alice, &p->bob, PROTO_KEX_ECDHE, "dc");
	struct handshake_keys dc, guess;
	const struct msg_attr *ei, *er;
	uint8_t both[64], th[HANDSHAKE_HASH_LEN];
	struct msg req, resp;

	assert_int_equal(dc_derive(h, &p->alice, &p->bob, &dc), 0);
	assert_memory_not_equal(dc.i2r, h->keys_mn.i2r, HANDSHAKE_KEY_LEN);
	assert_memory_not_equal(dc.r2i, h->keys_mn.r2i, HANDSHAKE_KEY_LEN);
	/* The public values themselves as IKM do not give the keys either. */
	assert_int_equal(msg_decode(h->reqbuf, h->reqlen, &req), 0);
	assert_int_equal(msg_decode(h->respbuf, h->resplen, &resp), 0);
	assert_int_equal(handshake_transcript_hash(&req, &resp, p->bob.hash,
	    th), 0);
	ei = msg_attr_find(&req, PROTO_ATTR_EPHEMERAL);
	er = msg_attr_find(&resp, PROTO_ATTR_EPHEMERAL);
	memcpy(both, ei->val, 32);
	memcpy(both + 32, er->val, 32);
	assert_int_equal(handshake_derive(h->temp_key, both, 64, th, &guess),
	    0);
	assert_memory_not_equal(guess.i2r, h->keys_mn.i2r, HANDSHAKE_KEY_LEN);
	assert_int_equal(handshake_derive(h->temp_key, h->temp_key, 32, th,
	    &guess), 0);
	assert_memory_not_equal(guess.i2r, h->keys_mn.i2r, HANDSHAKE_KEY_LEN);
	hs_free(h);
}

/*
 * An in-tunnel rekey (PROTOCOL.md 10.3) after a handshake h: MN sends
 * REKEY_REQUEST, CN answers REKEY_RESPONSE; both messages are encoded and
 * decoded as inner messages, whose authentication is the tunnel AEAD's.
 */
struct rekey {
	struct kex		*ki, *kr;
	struct handshake_verified *tr, *ti;
	uint8_t			 nonce_i[PROTO_RANDOM_LEN];
	uint8_t			 nonce_r[PROTO_RANDOM_LEN];
	uint8_t			 field[KEX_FIELD_MAX];
	uint8_t			 answer[KEX_FIELD_MAX];
	size_t			 fieldlen, answerlen;
	struct msg		 req, resp, dreq, dresp;
	uint8_t			 reqbuf[1024], respbuf[512];
	size_t			 reqlen, resplen;
	uint8_t			 th[HANDSHAKE_HASH_LEN];
	struct handshake_keys	 keys_i, keys_r;
};

static void
rekey_run(struct hs *h, struct rekey *r)
{
	struct kex_input in_i = { NULL, NULL, h->cn->pub, NULL };
	struct kex_input in_r = { NULL, NULL, NULL, h->cn->key };
	const struct msg_attr *a;
	uint8_t th[HANDSHAKE_HASH_LEN];

	memset(r, 0, sizeof(*r));
	/* MN */
	assert_int_equal(kex_new_rekey(&r->ki, &h->mn_allowed, h->scheme,
	    PROTO_ROLE_INITIATOR, h->rng_mn), 0);
	assert_int_equal(rng_bytes(h->rng_mn, r->nonce_i, 32), 0);
	assert_int_equal(kex_offer(r->ki, &in_i, r->field, sizeof(r->field),
	    &r->fieldlen), 0);
	msg_init(&r->req, PROTO_MSG_REKEY_REQUEST);
	memcpy(r->req.hdr.id, h->path, sizeof(h->path));
	assert_int_equal(msg_add_u32(&r->req, PROTO_ATTR_KEY_EPOCH, 1), 0);
	assert_int_equal(msg_add_bytes(&r->req, PROTO_ATTR_NONCE, r->nonce_i,
	    32), 0);
	if (r->fieldlen > 0)
		assert_int_equal(msg_add_bytes(&r->req,
		    kex_field_attr(r->ki), r->field, r->fieldlen), 0);
	assert_int_equal(msg_encode(&r->req, r->reqbuf, sizeof(r->reqbuf),
	    &r->reqlen), 0);
	/* CN */
	assert_int_equal(msg_decode(r->reqbuf, r->reqlen, &r->dreq), 0);
	assert_int_equal(handshake_verified_tunnel(&r->dreq, h->scheme,
	    &r->tr), 0);
	assert_int_equal(kex_new_rekey(&r->kr, &h->cn_allowed, h->scheme,
	    PROTO_ROLE_RESPONDER, h->rng_cn), 0);
	a = msg_attr_find(&r->dreq, kex_field_attr(r->kr));
	assert_int_equal(kex_respond(r->kr, &in_r, r->tr,
	    a != NULL ? a->val : NULL, a != NULL ? a->len : 0, r->answer,
	    sizeof(r->answer), &r->answerlen), 0);
	assert_int_equal(rng_bytes(h->rng_cn, r->nonce_r, 32), 0);
	msg_init(&r->resp, PROTO_MSG_REKEY_RESPONSE);
	memcpy(r->resp.hdr.id, h->path, sizeof(h->path));
	assert_int_equal(msg_add_u32(&r->resp, PROTO_ATTR_KEY_EPOCH, 1), 0);
	assert_int_equal(msg_add_bytes(&r->resp, PROTO_ATTR_NONCE, r->nonce_r,
	    32), 0);
	if (r->answerlen > 0)
		assert_int_equal(msg_add_bytes(&r->resp, PROTO_ATTR_EPHEMERAL,
		    r->answer, r->answerlen), 0);
	assert_int_equal(msg_encode(&r->resp, r->respbuf, sizeof(r->respbuf),
	    &r->resplen), 0);
	assert_int_equal(handshake_rekey_hash(&r->dreq, &r->resp, th), 0);
	assert_int_equal(kex_derive(r->kr, h->keys_cn.rekey, th, &r->keys_r),
	    0);
	/* MN */
	assert_int_equal(msg_decode(r->respbuf, r->resplen, &r->dresp), 0);
	assert_int_equal(handshake_verified_tunnel(&r->dresp, h->scheme,
	    &r->ti), 0);
	a = msg_attr_find(&r->dresp, PROTO_ATTR_EPHEMERAL);
	assert_int_equal(kex_finish(r->ki, r->ti, a != NULL ? a->val : NULL,
	    a != NULL ? a->len : 0), 0);
	assert_int_equal(handshake_rekey_hash(&r->req, &r->dresp, r->th), 0);
	assert_memory_equal(th, r->th, sizeof(th));
	assert_int_equal(kex_derive(r->ki, h->keys_mn.rekey, r->th,
	    &r->keys_i), 0);
}

static void
rekey_free(struct rekey *r)
{
	kex_free(r->ki);
	kex_free(r->kr);
	handshake_verified_free(r->ti);
	handshake_verified_free(r->tr);
}

static void
test_rekey_every_scheme(void **state)
{
	static const uint8_t schemes[] = { PROTO_KEX_SHARED, PROTO_KEX_RSA,
	    PROTO_KEX_ECDHE };
	static const size_t fieldlen[] = { 0, PROTO_RSA_KEM_LEN,
	    PROTO_X25519_LEN };
	struct pki *p = *state;
	struct rekey *r = calloc(1, sizeof(*r));
	struct hs *h;
	size_t i;

	assert_non_null(r);
	for (i = 0; i < sizeof(schemes); i++) {
		h = hs_run(&p->alice, &p->carol, schemes[i], "rekey");
		rekey_run(h, r);
		assert_int_equal(r->fieldlen, fieldlen[i]);
		assert_memory_equal(&r->keys_i, &r->keys_r, sizeof(r->keys_i));
		assert_memory_not_equal(r->keys_i.i2r, r->keys_i.r2i, 32);
		assert_memory_not_equal(r->keys_i.i2r, h->keys_mn.i2r, 32);
		assert_memory_not_equal(r->keys_i.rekey, h->keys_mn.rekey, 32);
		rekey_free(r);
		hs_free(h);
	}
	free(r);
}

/*
 * Rekeying a shared tunnel uses no new secret: whoever derived the first
 * keys (a DC, from the temporary key) follows every rekey.  An ecdhe
 * rekey brings a fresh X25519 secret, so k_rekey and the wire alone do
 * not give the new keys.
 */
static void
test_rekey_secrecy(void **state)
{
	struct pki *p = *state;
	struct rekey *r = calloc(1, sizeof(*r));
	struct handshake_keys dc, next;
	struct hs *h;

	assert_non_null(r);
	h = hs_run(&p->alice, &p->bob, PROTO_KEX_SHARED, "rekey-dc");
	assert_int_equal(dc_derive(h, &p->alice, &p->bob, &dc), 0);
	rekey_run(h, r);
	assert_int_equal(handshake_rekey_derive(dc.rekey, NULL, 0, r->th,
	    &next), 0);
	assert_memory_equal(&next, &r->keys_i, sizeof(next));
	rekey_free(r);
	hs_free(h);

	h = hs_run(&p->alice, &p->bob, PROTO_KEX_ECDHE, "rekey-dc");
	rekey_run(h, r);
	assert_int_equal(handshake_rekey_derive(h->keys_mn.rekey, NULL, 0,
	    r->th, &next), 0);
	assert_memory_not_equal(next.i2r, r->keys_i.i2r, 32);
	rekey_free(r);
	hs_free(h);
	free(r);
}

static void
test_rekey_refusals(void **state)
{
	struct pki *p = *state;
	struct hs *h = hs_run(&p->alice, &p->bob, PROTO_KEX_ECDHE, "rekey-no");
	struct handshake_verified *v = (struct handshake_verified *)1;
	struct kex_allowed rsa_only;
	struct kex *kx;

	/* Only rekey messages make tunnel tokens. */
	assert_int_equal(handshake_verified_tunnel(&h->dreq, PROTO_KEX_ECDHE,
	    &v), -EINVAL);
	assert_null(v);
	/* A scheme dropped from kex_allowed is not rekeyed with. */
	assert_int_equal(kex_allowed_parse("rsa", &rsa_only), 0);
	assert_int_equal(kex_new_rekey(&kx, &rsa_only, PROTO_KEX_ECDHE,
	    PROTO_ROLE_INITIATOR, h->rng_mn), KEX_E_NOT_ALLOWED);
	/* Signature tokens do not drive a rekey state, nor the reverse. */
	{
		const struct msg_attr *eph = msg_attr_find(&h->dreq,
		    PROTO_ATTR_EPHEMERAL);
		struct kex_input in = { NULL, NULL, NULL, NULL };
		uint8_t answer[KEX_FIELD_MAX];
		struct msg rk;
		size_t len;

		assert_int_equal(kex_new_rekey(&kx, &h->cn_allowed,
		    PROTO_KEX_ECDHE, PROTO_ROLE_RESPONDER, h->rng_cn), 0);
		assert_int_equal(kex_respond(kx, &in, h->tok_cn, eph->val,
		    eph->len, answer, sizeof(answer), &len),
		    KEX_E_UNVERIFIED);
		kex_free(kx);

		msg_init(&rk, PROTO_MSG_REKEY_REQUEST);
		assert_int_equal(msg_add_bytes(&rk, PROTO_ATTR_EPHEMERAL,
		    eph->val, eph->len), 0);
		assert_int_equal(handshake_verified_tunnel(&rk,
		    PROTO_KEX_ECDHE, &v), 0);
		assert_int_equal(kex_new(&kx, &h->cn_allowed, PROTO_KEX_ECDHE,
		    PROTO_ROLE_RESPONDER, h->rng_cn), 0);
		assert_int_equal(kex_respond(kx, &in, v, eph->val, eph->len,
		    answer, sizeof(answer), &len), KEX_E_UNVERIFIED);
		kex_free(kx);
		handshake_verified_free(v);
	}
	/* A rekey key schedule needs its salt. */
	assert_int_equal(handshake_rekey_derive(NULL, NULL, 0, h->temp_key,
	    &h->keys_mn), -EINVAL);
	hs_free(h);
}

static void
test_strerror(void **state)
{
	int e, f;

	(void)state;
	for (e = KEX_E_FIRST; e <= KEX_E_LAST; e++) {
		assert_true(strlen(kex_strerror(e)) > 10);
		for (f = KEX_E_FIRST; f < e; f++)
			assert_string_not_equal(kex_strerror(e),
			    kex_strerror(f));
	}
	assert_string_equal(kex_strerror(-ENOMEM), strerror(ENOMEM));
	assert_int_equal(kex_status(0), PROTO_STATUS_OK);
	assert_int_equal(kex_status(-ENOMEM), PROTO_STATUS_INTERNAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecdhe_exchange),
		cmocka_unit_test(test_rsa_exchange),
		cmocka_unit_test(test_shared_exchange),
		cmocka_unit_test(test_deterministic_with_seeded_rng),
		cmocka_unit_test(test_ecdhe_spare_used_once),
		cmocka_unit_test(test_allowed_parse),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_scheme_not_allowed_refused),
		cmocka_unit_test(test_rsa_toward_ecdsa_refused),
		cmocka_unit_test(test_rsa_responder_with_ecdsa_key_refused),
		cmocka_unit_test(test_rsa_decaps_needs_verified_signature),
		cmocka_unit_test(test_every_scheme_needs_token),
		cmocka_unit_test(test_finish_needs_verified_response),
		cmocka_unit_test(test_wrong_order_refused),
		cmocka_unit_test(test_ecdhe_all_zero_refused),
		cmocka_unit_test(test_bad_fields_refused),
		cmocka_unit_test(test_shared_dc_reads_everything),
		cmocka_unit_test(test_ecdhe_dc_derives_nothing),
		cmocka_unit_test(test_rekey_every_scheme),
		cmocka_unit_test(test_rekey_secrecy),
		cmocka_unit_test(test_rekey_refusals),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
