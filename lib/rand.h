/* rand.h -- injected randomness: the system generator in daemons, a seeded DRBG in tests. */
#ifndef NTM_RAND_H
#define NTM_RAND_H

#include <stddef.h>
#include <stdint.h>

/*
 * Every function that needs random bytes takes a struct ntm_rng *, so tests
 * replay exactly.  rng_system() is a process-wide instance backed by
 * gnutls_rnd(GNUTLS_RND_RANDOM) (never freed).  rng_seeded_new() makes a
 * deterministic generator from a seed (caller frees with rng_free(); it
 * accepts NULL and rng_system()'s instance, doing nothing for the latter).
 */
struct ntm_rng;

struct ntm_rng	*rng_system(void);
struct ntm_rng	*rng_seeded_new(const void *seed, size_t seedlen);
void		 rng_free(struct ntm_rng *);
/* Fills buf with len random bytes; returns 0 or a negative errno. */
int		 rng_bytes(struct ntm_rng *, void *buf, size_t len);
/* A uniformly distributed value in [0, bound), bound > 0. */
uint32_t	 rng_uniform(struct ntm_rng *, uint32_t bound);

#endif
