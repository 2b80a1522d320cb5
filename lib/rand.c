/* rand.c -- system randomness (gnutls_rnd) and a seeded ChaCha20 DRBG. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/chacha.h>
#include <nettle/sha2.h>

#include "log.h"
#include "rand.h"

/*
 * The seeded generator is the ChaCha20 keystream (D. J. Bernstein's original
 * variant: 64-bit nonce, 64-bit block counter) under key = SHA-256(seed),
 * nonce = 0, counter starting at 0.  Output is the keystream in order, so the
 * bytes a generator yields do not depend on how the caller splits its reads:
 * rng_bytes(g, 10) then rng_bytes(g, 22) gives the same 32 bytes as one
 * rng_bytes(g, 32).  2^70 bytes before the counter wraps; no reseeding, no
 * backtracking resistance: it exists to make tests and simulations replay,
 * never to make keys in a daemon.  A seeded generator is not thread-safe;
 * the system one is (gnutls_rnd is).
 */
enum rng_kind {
	RNG_KIND_INVALID = 0,
	RNG_KIND_SYSTEM,
	RNG_KIND_SEEDED,
};

struct ntm_rng {
	enum rng_kind		kind;
	struct chacha_ctx	chacha;
	uint8_t			block[CHACHA_BLOCK_SIZE];
	size_t			used;	/* of block, handed out */
};

static struct ntm_rng rng_system_instance = { .kind = RNG_KIND_SYSTEM };

struct ntm_rng *
rng_system(void)
{
	return &rng_system_instance;
}

struct ntm_rng *
rng_seeded_new(const void *seed, size_t seedlen)
{
	static const uint8_t nonce[CHACHA_NONCE_SIZE];
	struct sha256_ctx h;
	uint8_t key[CHACHA_KEY_SIZE];
	struct ntm_rng *g;

	if (seed == NULL && seedlen > 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->kind = RNG_KIND_SEEDED;
	sha256_init(&h);
	if (seedlen > 0)
		sha256_update(&h, seedlen, seed);
	sha256_digest(&h, sizeof(key), key);
	chacha_set_key(&g->chacha, key);
	chacha_set_nonce(&g->chacha, nonce);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(&h, sizeof(h));
	g->used = sizeof(g->block);	/* no block generated yet */
	return g;
}

void
rng_free(struct ntm_rng *g)
{
	if (g == NULL || g->kind != RNG_KIND_SEEDED)
		return;
	explicit_bzero(g, sizeof(*g));
	free(g);
}

/* Refills the keystream block: ChaCha20 of zeros is the keystream itself. */
static void
rng_refill(struct ntm_rng *g)
{
	memset(g->block, 0, sizeof(g->block));
	chacha_crypt(&g->chacha, sizeof(g->block), g->block, g->block);
	g->used = 0;
}

int
rng_bytes(struct ntm_rng *g, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t n;

	if (g == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	if (len == 0)
		return 0;
	switch (g->kind) {
	case RNG_KIND_SYSTEM:
		if (gnutls_rnd(GNUTLS_RND_RANDOM, buf, len) < 0)
			return -EIO;
		return 0;
	case RNG_KIND_SEEDED:
		while (len > 0) {
			if (g->used == sizeof(g->block))
				rng_refill(g);
			n = sizeof(g->block) - g->used;
			if (n > len)
				n = len;
			memcpy(p, g->block + g->used, n);
			/* Handed-out bytes do not stay in the generator. */
			explicit_bzero(g->block + g->used, n);
			g->used += n;
			p += n;
			len -= n;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Rejection sampling: values below 2^32 mod bound are drawn again, so each
 * residue of the remaining range [2^32 mod bound, 2^32) is equally likely.
 * Fewer than half of the draws are rejected for any bound.
 */
uint32_t
rng_uniform(struct ntm_rng *g, uint32_t bound)
{
	uint32_t min, x;
	uint8_t b[4];

	if (bound < 2)
		return 0;
	min = (uint32_t)-bound % bound;
	for (;;) {
		if (rng_bytes(g, b, sizeof(b)) < 0)
			fatalx("rng_uniform: the random generator failed");
		x = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
		if (x >= min)
			return x % bound;
	}
}
