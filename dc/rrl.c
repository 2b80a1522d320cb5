/* rrl.c -- response rate limiting: fixed table of token buckets keyed by source prefix. */
#include "config.h"

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"
#include "rrl.h"

enum {
	RRL_KEY_LEN = 17,		/* family byte + 16 address bytes */
	RRL_MS = 1000,
};

struct rrl_slot {
	uint8_t		key[RRL_KEY_LEN];
	bool		used;
	uint64_t	tokens_ms;	/* tokens x RRL_MS: exact refill */
	uint64_t	last;
	uint32_t	limited;	/* refused since the bucket ran dry */
};

struct rrl {
	struct rrl_config	 cfg;
	uint64_t		 hkey[2];	/* SipHash-style key, random */
	uint32_t		 mask;
	struct rrl_slot		*slots;
};

void
rrl_config_default(struct rrl_config *cfg)
{
	cfg->enabled = true;
	cfg->rate = RRL_RATE_DEFAULT;
	cfg->burst = RRL_BURST_DEFAULT;
	cfg->slip = RRL_SLIP_DEFAULT;
	cfg->v4_prefix = RRL_V4_PREFIX_DEFAULT;
	cfg->v6_prefix = RRL_V6_PREFIX_DEFAULT;
	cfg->slots = RRL_SLOTS_DEFAULT;
}

struct rrl *
rrl_new(const struct rrl_config *cfg, struct ntm_rng *rng)
{
	struct rrl *r;
	uint32_t n = 1;

	while (n < cfg->slots && n < (1U << 24))
		n <<= 1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if (rng_bytes(rng, r->hkey, sizeof(r->hkey)) < 0) {
		free(r);
		return NULL;
	}
	if ((r->slots = calloc(n, sizeof(*r->slots))) == NULL) {
		free(r);
		return NULL;
	}
	r->cfg = *cfg;
	if (r->cfg.burst < 1)
		r->cfg.burst = 1;
	r->mask = n - 1;
	return r;
}

void
rrl_free(struct rrl *r)
{
	if (r == NULL)
		return;
	free(r->slots);
	free(r);
}

static void
rrl_mask(uint8_t *addr, unsigned len, unsigned bits)
{
	unsigned i;

	for (i = 0; i < len; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			addr[i] &= (uint8_t)(0xff00 >> bits);
			bits = 0;
		}
	}
}

static bool
rrl_key(const struct rrl *r, const struct sockaddr *sa, uint8_t *key)
{
	memset(key, 0, RRL_KEY_LEN);
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		key[0] = 4;
		memcpy(key + 1, &s4->sin_addr, 4);
		rrl_mask(key + 1, 4, r->cfg.v4_prefix);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		key[0] = 6;
		memcpy(key + 1, &s6->sin6_addr, 16);
		rrl_mask(key + 1, 16, r->cfg.v6_prefix);
		return true;
	}
	return false;
}

#define RRL_ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

static void
rrl_sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = RRL_ROTL(v[1], 13); v[1] ^= v[0];
	v[0] = RRL_ROTL(v[0], 32);
	v[2] += v[3]; v[3] = RRL_ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = RRL_ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = RRL_ROTL(v[1], 17); v[1] ^= v[2];
	v[2] = RRL_ROTL(v[2], 32);
}

/* SipHash-2-4 of the slot key (a fixed 24-byte block, length included). */
static uint32_t
rrl_hash(const struct rrl *r, const uint8_t *key)
{
	uint64_t v[4], m;
	uint8_t block[24] = { 0 };
	int i, j;

	memcpy(block, key, RRL_KEY_LEN);
	block[23] = RRL_KEY_LEN;
	v[0] = r->hkey[0] ^ 0x736f6d6570736575ULL;
	v[1] = r->hkey[1] ^ 0x646f72616e646f6dULL;
	v[2] = r->hkey[0] ^ 0x6c7967656e657261ULL;
	v[3] = r->hkey[1] ^ 0x7465646279746573ULL;
	for (i = 0; i < 3; i++) {
		m = 0;
		for (j = 7; j >= 0; j--)
			m = m << 8 | block[i * 8 + j];
		v[3] ^= m;
		rrl_sipround(v);
		rrl_sipround(v);
		v[0] ^= m;
	}
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		rrl_sipround(v);
	return (uint32_t)(v[0] ^ v[1] ^ v[2] ^ v[3]);
}

static void
rrl_refill(const struct rrl *r, struct rrl_slot *s, uint64_t now)
{
	uint64_t cap = (uint64_t)r->cfg.burst * RRL_MS;

	if (now > s->last) {
		s->tokens_ms += (now - s->last) * r->cfg.rate;
		if (s->tokens_ms > cap)
			s->tokens_ms = cap;
	}
	s->last = now;
}

enum rrl_verdict
rrl_check(struct rrl *r, const struct sockaddr *src, uint64_t now)
{
	uint8_t key[RRL_KEY_LEN];
	struct rrl_slot *s;

	if (r == NULL || !r->cfg.enabled || !rrl_key(r, src, key))
		return RRL_PASS;
	s = &r->slots[rrl_hash(r, key) & r->mask];
	if (s->used && memcmp(s->key, key, RRL_KEY_LEN) != 0) {
		/* Another prefix's slot: share its bucket until it is full. */
		rrl_refill(r, s, now);
		if (s->tokens_ms >= (uint64_t)r->cfg.burst * RRL_MS)
			s->used = false;
	}
	if (!s->used) {
		memcpy(s->key, key, RRL_KEY_LEN);
		s->used = true;
		s->tokens_ms = (uint64_t)r->cfg.burst * RRL_MS;
		s->last = now;
		s->limited = 0;
	}
	rrl_refill(r, s, now);
	if (s->tokens_ms >= RRL_MS) {
		s->tokens_ms -= RRL_MS;
		s->limited = 0;
		return RRL_PASS;
	}
	s->limited++;
	if (r->cfg.slip > 0 && s->limited % r->cfg.slip == 0)
		return RRL_SLIP;
	return RRL_DROP;
}
