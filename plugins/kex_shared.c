/* kex_shared.c -- shared scheme: end key sealed under the temporary key. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "aead.h"
#include "crypto.h"
#include "kex.h"
#include "rand.h"

/*
 * The paper's conventional scheme.  Every DC on the path knows the
 * temporary key, so it can open the end key and derive every tunnel key
 * (DESIGN.md §10): this scheme exists to be measured against the others.
 *
 * END_KEY_CT = AES-256-GCM(key = HKDF-Expand(temporary key,
 * "ntmobile v1 shared end key" || nonce_I, 32), nonce = 12 zero bytes,
 * no AAD, the 32-byte end key): 48 bytes.  The sealing key depends on
 * nonce_I, so two offers under one temporary key never share a key and
 * the fixed nonce is never reused.
 */
#define KEX_SHARED_LABEL	"ntmobile v1 shared end key"

enum {
	KEX_SHARED_LABEL_LEN = sizeof(KEX_SHARED_LABEL) - 1,
	KEX_SHARED_END_KEY_LEN = PROTO_KEY_LEN,
};

_Static_assert(PROTO_END_KEY_CT_LEN == KEX_SHARED_END_KEY_LEN + AEAD_TAG_SIZE,
    "END_KEY_CT is an end key and a tag");

static int
kex_shared_aead(struct aead **out, const struct kex_input *in)
{
	uint8_t info[KEX_SHARED_LABEL_LEN + PROTO_RANDOM_LEN];
	uint8_t key[AEAD_KEY_SIZE];
	int ret;

	*out = NULL;
	if (in->temp_key == NULL || in->nonce_i == NULL)
		return -EINVAL;
	memcpy(info, KEX_SHARED_LABEL, KEX_SHARED_LABEL_LEN);
	memcpy(info + KEX_SHARED_LABEL_LEN, in->nonce_i, PROTO_RANDOM_LEN);
	if ((ret = crypto_hkdf_expand(key, sizeof(key), in->temp_key,
	    PROTO_KEY_LEN, info, sizeof(info))) == 0)
		ret = aead_new(out, AEAD_ALG_AES256GCM, key, sizeof(key));
	crypto_wipe(key, sizeof(key));
	return ret;
}

/* MN: a fresh end key is the IKM; the field is the end key sealed. */
static int
kex_shared_offer(struct kex *kx, const struct kex_input *in, uint8_t *field)
{
	static const uint8_t nonce[AEAD_NONCE_SIZE];
	struct aead *a;
	int ret;

	if ((ret = kex_shared_aead(&a, in)) < 0)
		return ret;
	if ((ret = rng_bytes(kx->rng, kx->ikm, KEX_SHARED_END_KEY_LEN)) == 0)
		ret = aead_seal(a, nonce, NULL, 0, kx->ikm,
		    KEX_SHARED_END_KEY_LEN, field, PROTO_END_KEY_CT_LEN);
	if (ret == 0)
		kx->ikm_len = KEX_SHARED_END_KEY_LEN;
	aead_free(a);
	return ret;
}

/* CN: opens the end key. */
static int
kex_shared_respond(struct kex *kx, const struct kex_input *in,
    const struct handshake_verified *verified, const uint8_t *field,
    uint8_t *answer)
{
	static const uint8_t nonce[AEAD_NONCE_SIZE];
	struct aead *a;
	int ret;

	(void)verified;
	(void)answer;
	if ((ret = kex_shared_aead(&a, in)) < 0)
		return ret;
	ret = aead_open(a, nonce, NULL, 0, field, PROTO_END_KEY_CT_LEN,
	    kx->ikm, sizeof(kx->ikm));
	aead_free(a);
	if (ret == -EBADMSG)
		return KEX_E_DECRYPT;
	if (ret < 0)
		return ret;
	kx->ikm_len = KEX_SHARED_END_KEY_LEN;
	return 0;
}

static int
kex_shared_finish(struct kex *kx, const uint8_t *answer)
{
	(void)kx;
	(void)answer;
	return 0;
}

const struct kex_ops kex_shared_ops = {
	.id = PROTO_KEX_SHARED,
	.name = "shared",
	.offer_attr = PROTO_ATTR_END_KEY_CT,
	.offer_len = PROTO_END_KEY_CT_LEN,
	.answer_attr = PROTO_ATTR_INVALID,
	.answer_len = 0,
	.rekey_no_field = true,		/* the nonces alone */
	.offer = kex_shared_offer,
	.respond = kex_shared_respond,
	.finish = kex_shared_finish,
};
