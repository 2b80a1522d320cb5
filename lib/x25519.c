/* x25519.c -- X25519 key pairs and shared secrets with nettle's curve25519. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>

#include <nettle/curve25519.h>

#include "crypto.h"
#include "rand.h"
#include "x25519.h"

/* RFC 7748 §5 decodeScalar25519, applied to the stored key. */
static void
x25519_clamp(uint8_t k[X25519_KEY_SIZE])
{
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
}

int
x25519_keypair_generate(struct x25519_keypair *kp, struct ntm_rng *rng)
{
	int ret;

	if ((ret = rng_bytes(rng, kp->priv, sizeof(kp->priv))) < 0) {
		x25519_keypair_wipe(kp);
		return ret;
	}
	x25519_clamp(kp->priv);
	curve25519_mul_g(kp->pub, kp->priv);
	return 0;
}

void
x25519_keypair_wipe(struct x25519_keypair *kp)
{
	crypto_wipe(kp, sizeof(*kp));
}

void
x25519_public(uint8_t pub[X25519_KEY_SIZE], const uint8_t priv[X25519_KEY_SIZE])
{
	/* nettle clamps the scalar itself (RFC 7748 conformant since 3.1). */
	curve25519_mul_g(pub, priv);
}

int
x25519_shared(uint8_t shared[X25519_KEY_SIZE],
    const uint8_t priv[X25519_KEY_SIZE], const uint8_t peer[X25519_KEY_SIZE])
{
	static const uint8_t zero[X25519_KEY_SIZE];

	curve25519_mul(shared, priv, peer);
	if (crypto_ct_equal(shared, zero, X25519_KEY_SIZE)) {
		crypto_wipe(shared, X25519_KEY_SIZE);
		return -EINVAL;
	}
	return 0;
}

/*
 * The spare: one pair made before a handshake needs it.  One per process
 * (ntmd runs one loop thread), so the kex interface needs no new field.
 */
static struct x25519_keypair x25519_spare;
static bool x25519_spare_full;

int
x25519_spare_fill(struct ntm_rng *rng)
{
	int ret;

	if (x25519_spare_full)
		return 0;
	if ((ret = x25519_keypair_generate(&x25519_spare, rng)) < 0)
		return ret;
	x25519_spare_full = true;
	return 0;
}

bool
x25519_spare_ready(void)
{
	return x25519_spare_full;
}

void
x25519_spare_wipe(void)
{
	x25519_keypair_wipe(&x25519_spare);
	x25519_spare_full = false;
}

int
x25519_keypair_take(struct x25519_keypair *kp, struct ntm_rng *rng)
{
	if (!x25519_spare_full)
		return x25519_keypair_generate(kp, rng);
	*kp = x25519_spare;
	x25519_spare_wipe();
	return 0;
}
