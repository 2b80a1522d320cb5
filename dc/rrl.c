/* rrl.c -- response rate limiting: fixed table of token buckets keyed by source prefix. */
#include "config.h"

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rrl.h"

enum {
	RRL_KEY_LEN = 17,		/* family byte + 16 address bytes */
	RRL_MS = 1000,
};

struct rrl_slot {
	uint8_t		key[RRL_KEY_LEN];
	bool		used;
	uint64_t	tokens_ms;	/* tokens scaled by RRL_MS for exact refill */
	uint64_t	last;
	uint32_t	limited;	/* answers refused since the bucket ran dry */
};

struct rrl {
	struct rrl_config	 cfg;
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
rrl_new(const struct rrl_config *cfg)
{
	struct rrl *r;
	uint32_t n = 1;

	while (n < cfg->slots && n < (1U << 24))
		n <<= 1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
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

static uint32_t
rrl_hash(const uint8_t *key)
{
	uint32_t h = 2166136261U;
	int i;

	for (i = 0; i < RRL_KEY_LEN; i++) {
		h ^= key[i];
		h *= 16777619U;
	}
	return h;
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
	s = &r->slots[rrl_hash(key) & r->mask];
	if (!s->used || memcmp(s->key, key, RRL_KEY_LEN) != 0) {
		/* A colliding prefix keeps the slot while it is limited. */
		if (s->used) {
			rrl_refill(r, s, now);
			if (s->tokens_ms < (uint64_t)r->cfg.burst * RRL_MS)
				return RRL_PASS;
		}
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
