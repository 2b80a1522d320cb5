/* kex_rsa.c -- rsa scheme: RSA-KEM to CN's RSA-2048 certificate key. */
#include "config.h"

#include <errno.h>

#include <nettle/bignum.h>

#include "crypto.h"
#include "handshake.h"
#include "kex.h"
#include "rsakem.h"

/*
 * The certificate key must be RSA-2048: KEM_CT is PROTO_RSA_KEM_LEN bytes
 * on the wire, and lib/cert issues no other RSA size.
 */
static int
kex_rsa_key_check(const struct rsakem_key *k)
{
	return rsakem_key_size(k) == PROTO_RSA_KEM_LEN ? 0 : KEX_E_KEY_TYPE;
}

/*
 * PROTOCOL.md 9.2: 1 < r < n - 1.  lib/rsakem draws r in [1, n); r = 1
 * and r = n - 1 (c = 1 and c = n - 1, e being odd) would send r in all
 * but name, so MN draws again and CN refuses them.
 */
static bool
kex_rsa_r_ok(const struct rsakem_key *k, const uint8_t *r)
{
	mpz_t x;
	bool ok;

	mpz_init(x);
	nettle_mpz_set_str_256_u(x, PROTO_RSA_KEM_LEN, r);
	ok = mpz_cmp_ui(x, 1) > 0;
	mpz_add_ui(x, x, 1);
	ok = ok && mpz_cmp(x, k->pub.n) < 0;
	/* x held r + 1; its limbs are wiped before they are freed. */
	crypto_wipe(x->_mp_d, (size_t)x->_mp_alloc * sizeof(mp_limb_t));
	mpz_clear(x);
	return ok;
}

/* Draws before giving up; each fails with odds of about 2^-2046. */
enum { KEX_RSA_DRAWS = 4 };

/* MN: c = r^e mod n to CN's key; r is the IKM. */
static int
kex_rsa_offer(struct kex *kx, const struct kex_input *in, uint8_t *field)
{
	struct rsakem_key *k = NULL;
	int i, ret;

	if (in->peer_pub == NULL)
		return -EINVAL;
	if ((ret = rsakem_key_from_pubkey(&k, in->peer_pub)) < 0)
		return ret == -EINVAL ? KEX_E_KEY_TYPE : ret;
	if ((ret = kex_rsa_key_check(k)) < 0)
		goto done;
	ret = -EIO;
	for (i = 0; i < KEX_RSA_DRAWS; i++) {
		if ((ret = rsakem_encapsulate(&k->pub, kx->rng, field,
		    PROTO_RSA_KEM_LEN, kx->ikm, PROTO_RSA_KEM_LEN)) < 0)
			goto done;
		if (kex_rsa_r_ok(k, kx->ikm))
			break;
		crypto_wipe(kx->ikm, PROTO_RSA_KEM_LEN);
		ret = -EIO;
	}
	if (ret == 0)
		kx->ikm_len = PROTO_RSA_KEM_LEN;
 done:
	rsakem_key_free(k);
	return ret;
}

/*
 * CN: r from c with the private key.  kex_respond() checked the token
 * already; it is checked again here, next to the private-key operation it
 * guards, so no path reaches rsakem_decapsulate() without it.
 */
static int
kex_rsa_respond(struct kex *kx, const struct kex_input *in,
    const struct handshake_verified *verified, const uint8_t *field,
    uint8_t *answer)
{
	struct rsakem_key *k = NULL;
	int ret;

	(void)answer;
	if (!handshake_verified_covers(verified, kex_token_side(kx, true),
	    PROTO_KEX_RSA, PROTO_ATTR_KEM_CT, field, PROTO_RSA_KEM_LEN))
		return KEX_E_UNVERIFIED;
	if (in->own_priv == NULL)
		return -EINVAL;
	if ((ret = rsakem_key_from_privkey(&k, in->own_priv)) < 0)
		return ret == -EINVAL ? KEX_E_KEY_TYPE : ret;
	if ((ret = kex_rsa_key_check(k)) < 0)
		goto done;
	ret = rsakem_decapsulate(&k->pub, &k->priv, kx->rng, field,
	    PROTO_RSA_KEM_LEN, kx->ikm, PROTO_RSA_KEM_LEN);
	if (ret == -EBADMSG)
		ret = KEX_E_DECRYPT;
	if (ret == 0 && !kex_rsa_r_ok(k, kx->ikm)) {
		crypto_wipe(kx->ikm, PROTO_RSA_KEM_LEN);
		ret = KEX_E_DECRYPT;
	}
	if (ret == 0)
		kx->ikm_len = PROTO_RSA_KEM_LEN;
 done:
	rsakem_key_free(k);
	return ret;
}

/* MN: the response carries nothing for rsa; r is the IKM already. */
static int
kex_rsa_finish(struct kex *kx, const uint8_t *answer)
{
	(void)kx;
	(void)answer;
	return 0;
}

const struct kex_ops kex_rsa_ops = {
	.id = PROTO_KEX_RSA,
	.name = "rsa",
	.offer_attr = PROTO_ATTR_KEM_CT,
	.offer_len = PROTO_RSA_KEM_LEN,
	.answer_attr = PROTO_ATTR_INVALID,
	.answer_len = 0,
	.offer = kex_rsa_offer,
	.respond = kex_rsa_respond,
	.finish = kex_rsa_finish,
};
