/* rrl.h -- response rate limiting per source prefix: token buckets with slip. */
#ifndef NTM_DC_RRL_H
#define NTM_DC_RRL_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

/*
 * Answers over UDP to one source prefix (/24 for IPv4, /56 for IPv6 by
 * default) draw from a token bucket refilled at `rate` answers per second
 * up to `burst`.  An answer without a token is dropped, except every
 * `slip`-th one, which goes out as a minimal TC=1 answer so that a real
 * client behind a spoofed flood retries over TCP (slip 0: drop all).
 * The table has a fixed number of slots (no allocation per source), indexed
 * by a hash keyed with random bytes so that a flood cannot aim at another
 * prefix's slot.  A prefix that lands on a slot in use shares that bucket
 * until the bucket is full again, then takes the slot over: a collision
 * can only limit sooner, never let a flood through.  TCP is never limited.
 */
enum rrl_verdict {
	RRL_INVALID = 0,
	RRL_PASS,
	RRL_DROP,
	RRL_SLIP,
};

enum rrl_default {
	RRL_RATE_DEFAULT = 100,
	RRL_BURST_DEFAULT = 200,
	RRL_SLIP_DEFAULT = 2,
	RRL_V4_PREFIX_DEFAULT = 24,
	RRL_V6_PREFIX_DEFAULT = 56,
	RRL_SLOTS_DEFAULT = 4096,
};

struct rrl_config {
	bool		enabled;
	uint32_t	rate;		/* answers per second per prefix */
	uint32_t	burst;
	uint32_t	slip;
	unsigned	v4_prefix;	/* 8..32 */
	unsigned	v6_prefix;	/* 16..128 */
	uint32_t	slots;		/* rounded up to a power of two */
};

struct rrl;
struct ntm_rng;

/* Fills cfg with the defaults above (enabled). */
void	rrl_config_default(struct rrl_config *cfg);
/*
 * rrl_new: the hash key comes from rng (borrowed for the call only).
 * Caller frees with rrl_free(); NULL on allocation or rng failure.
 */
struct rrl *rrl_new(const struct rrl_config *cfg, struct ntm_rng *rng);
void	rrl_free(struct rrl *);		/* accepts NULL */
/* One answer to `src` at `now` (ms, monotonic). */
enum rrl_verdict rrl_check(struct rrl *, const struct sockaddr *src,
	    uint64_t now);

#endif
