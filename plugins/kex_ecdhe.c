/* kex_ecdhe.c -- ecdhe scheme: ephemeral X25519 keys on both sides. */
#include "config.h"

#include <string.h>

#include "crypto.h"
#include "kex.h"
#include "x25519.h"

/*
 * MN: a fresh key pair -- the spare made ahead of time when there is one
 * (x25519_spare_fill), never used before and wiped from the spare as it is
 * taken; its public half is eph_I.
 */
static int
kex_ecdhe_offer(struct kex *kx, const struct kex_input *in, uint8_t *field)
{
	int ret;

	(void)in;
	if ((ret = x25519_keypair_take(&kx->eph, kx->rng)) < 0)
		return ret;
	memcpy(field, kx->eph.pub, X25519_KEY_SIZE);
	return 0;
}

/* The shared secret becomes the IKM; the private half is gone after. */
static int
kex_ecdhe_shared(struct kex *kx, const uint8_t *peer)
{
	int ret;

	ret = x25519_shared(kx->ikm, kx->eph.priv, peer);
	x25519_keypair_wipe(&kx->eph);
	if (ret < 0)
		return KEX_E_PEER_KEY;
	kx->ikm_len = X25519_KEY_SIZE;
	return 0;
}

/* CN: its own fresh key pair (the spare, if ready) against eph_I: eph_R. */
static int
kex_ecdhe_respond(struct kex *kx, const struct kex_input *in,
    const struct handshake_verified *verified, const uint8_t *field,
    uint8_t *answer)
{
	int ret;

	(void)in;
	(void)verified;
	if ((ret = x25519_keypair_take(&kx->eph, kx->rng)) < 0)
		return ret;
	memcpy(answer, kx->eph.pub, X25519_KEY_SIZE);
	if ((ret = kex_ecdhe_shared(kx, field)) < 0)
		crypto_wipe(answer, X25519_KEY_SIZE);
	return ret;
}

static int
kex_ecdhe_finish(struct kex *kx, const uint8_t *answer)
{
	return kex_ecdhe_shared(kx, answer);
}

const struct kex_ops kex_ecdhe_ops = {
	.id = PROTO_KEX_ECDHE,
	.name = "ecdhe",
	.offer_attr = PROTO_ATTR_EPHEMERAL,
	.offer_len = PROTO_X25519_LEN,
	.answer_attr = PROTO_ATTR_EPHEMERAL,
	.answer_len = PROTO_X25519_LEN,
	.offer = kex_ecdhe_offer,
	.respond = kex_ecdhe_respond,
	.finish = kex_ecdhe_finish,
};
