/* relay.h -- the RS's pure core: path table, RELAY_DIRECTION, RS_HELLO/RS_COOKIE binding and forwarding decisions. */
#ifndef NTM_RS_RELAY_H
#define NTM_RS_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "msg.h"
#include "proto.h"

/*
 * DESIGN.md section 6 "RS binding", PROTOCOL.md 6.5 and 10.2.  A path is
 * what one RELAY_DIRECTION allocates: two sides, MN's (side 0: RECV_ID,
 * BINDING_KEY, OBSERVED_ADDR) and CN's (side 1: PEER_RECV_ID,
 * PEER_BINDING_KEY, PEER_ADDR).  A side's receiver id is what packets *to*
 * that side carry, and what that side's own hellos carry.
 *
 *   RS_HELLO from S for side X (rid = X's id)
 *     tag fails under X's binding key          drop (auth)
 *     counter <= X's last accepted              drop (replay)
 *     S is X's bound address                    accept: counter, activity
 *     X unbound and S is the DC's observed one  bind X to S
 *     cookie field = cookie(X, S, slot or slot-1)  bind / rebind X to S
 *     otherwise                                 answer RS_COOKIE to S
 *   DATA / TUNNEL_CONTROL from S, rid = X's id
 *     forward unchanged to X's bound address if S is the other side's
 *   TUNNEL_REQUEST / TUNNEL_RESPONSE from S, header id = path id
 *     forward unchanged to the other side if S is one side's bound address
 *
 * A hello that binds is not answered (PROTOCOL.md 10.2 Decision): the node
 * learns it from the traffic the RS forwards.  Nothing here is sent to an
 * address that has not shown it holds a binding key, except a cookie,
 * which is smaller than the hello it answers.
 *
 * Time: `now` is a monotonic clock in milliseconds (uv_now); `wall` is
 * Unix seconds, used only to turn RELAY_DIRECTION's EXPIRY into a
 * deadline on the monotonic clock.  Randomness (the cookie secret) comes
 * from the rng given to relay_new.  No I/O, no allocation per packet:
 * every path and its two AEAD keys are made when a RELAY_DIRECTION is
 * accepted, within the table's fixed capacity.
 */

enum relay_limit {
	RELAY_LIMIT_INVALID = 0,
	RELAY_PATHS_DEFAULT = 4096,
	RELAY_PATHS_MAX = 1 << 20,
	RELAY_ADDRS_MAX = 2,		/* RELAY_ADDR 1-2 in the ACK */
	RELAY_COOKIE_SLOT_MS = 10000,	/* PROTO_TIMER_COOKIE: a cookie
					 * lives one to two slots */
	RELAY_EXPIRY_MAX_S = 300,	/* an allocation is held at most this
					 * long before a side binds */
	RELAY_HELLO_LEN = PROTO_DATA_HEADER_LEN + PROTO_RANDOM_LEN +
	    PROTO_TAG_LEN,		/* 64 */
	RELAY_COOKIE_LEN = PROTO_DATA_HEADER_LEN + PROTO_RANDOM_LEN, /* 48 */
	RELAY_ANSWER_MAX = 512,		/* an encoded RELAY_DIRECTION_ACK */
};

/* Why a datagram was not forwarded (or, for hellos, not accepted). */
enum relay_drop {
	RELAY_DROP_NONE = 0,
	RELAY_DROP_MALFORMED,		/* header does not decode */
	RELAY_DROP_TYPE,		/* a type the RS does not relay */
	RELAY_DROP_UNKNOWN,		/* no path for the receiver / path id */
	RELAY_DROP_UNBOUND,		/* a side of the path is not bound */
	RELAY_DROP_SOURCE,		/* not from the other side's address */
	RELAY_DROP_AUTH,		/* hello tag does not verify */
	RELAY_DROP_REPLAY,		/* hello counter not above the last */
	RELAY_DROP_COOKIE,		/* hello's cookie wrong or stale */
	RELAY_DROP_COUNT,
};

/* What to do with one datagram. */
enum relay_verdict {
	RELAY_VERDICT_INVALID = 0,
	RELAY_VERDICT_DROP,		/* see relay_action.drop */
	RELAY_VERDICT_FORWARD,		/* send the input unchanged to `to` */
	RELAY_VERDICT_REPLY,		/* send reply[0..reply_len) to `to` */
	RELAY_VERDICT_ACCEPT,		/* a hello bound or refreshed a side */
};

struct relay_action {
	enum relay_verdict	 verdict;
	enum relay_drop		 drop;
	struct msg_addr		 to;
	size_t			 reply_len;
	uint8_t			 reply[RELAY_COOKIE_LEN];
};

struct relay_config {
	size_t			 paths_max;	/* 0: RELAY_PATHS_DEFAULT */
	uint64_t		 idle_ms;	/* 0: PROTO_TIMER_RS_IDLE */
	size_t			 naddr;		/* advertised in the ACK, 1-2 */
	struct msg_addr		 addr[RELAY_ADDRS_MAX];
};

/* Counters for `ntmctl rs stats`. */
struct relay_stats {
	uint64_t	 directions;		/* RELAY_DIRECTIONs accepted */
	uint64_t	 directions_repeated;	/* same path again: same ACK */
	uint64_t	 refused_collision;	/* REFUSED_POLICY */
	uint64_t	 refused_full;		/* UNAVAILABLE: table full */
	uint64_t	 refused_expired;	/* EXPIRED */
	uint64_t	 refused_malformed;	/* MALFORMED */
	uint64_t	 hellos;		/* RS_HELLO received */
	uint64_t	 binds;			/* first binding of a side */
	uint64_t	 binds_cookie;		/* ... of them after a cookie */
	uint64_t	 rebinds;		/* a side moved */
	uint64_t	 refreshes;		/* hello from the bound address */
	uint64_t	 cookies_sent;
	uint64_t	 forwarded;		/* packets */
	uint64_t	 forwarded_bytes;
	uint64_t	 expired_idle;		/* paths idle past idle_ms */
	uint64_t	 expired_unbound;	/* no side bound by EXPIRY */
	uint64_t	 drops[RELAY_DROP_COUNT];
};

struct relay;
struct ntm_rng;

/*
 * relay_new: a table of cfg->paths_max paths (allocated here, once) and a
 * cookie secret from rng (borrowed for the call).  Returns 0 and *out, or
 * -EINVAL (no address, too many paths), -ENOMEM, or an rng error.
 * relay_free wipes the keys and the secret; it accepts NULL.
 */
int	 relay_new(struct relay **out, const struct relay_config *cfg,
	    struct ntm_rng *rng);
void	 relay_free(struct relay *);

/*
 * relay_direction: one message from a DC's TLS channel (the whole framed
 * message, header included) -> the answer in out[cap], *outlen bytes:
 *   RELAY_DIRECTION accepted, or the same path again  ACK, OK
 *   a receiver id in use by another path, or equal    ACK, REFUSED_POLICY
 *   the path id in use with other ids or keys          ACK, REFUSED_POLICY
 *   table full                                         ACK, UNAVAILABLE
 *   EXPIRY already passed                              ACK, EXPIRED
 *   attribute-level error, or another type             ACK, MALFORMED
 * Error answers echo the transaction id, the header id and PATH_ID when
 * there is one, with ERROR_TEXT.  Returns 0 with an answer, or a negative
 * MSG_E_* when the header itself is bad (the caller closes the channel).
 * `dc` names the peer in logs only (borrowed).
 */
int	 relay_direction(struct relay *, const uint8_t *p, size_t len,
	    const char *dc, uint64_t now, time_t wall, uint8_t *out,
	    size_t cap, size_t *outlen);

/*
 * relay_input: one UDP datagram from `from` -> *act (see the table at the
 * top).  The input is only read; a FORWARD sends it unchanged.  Counts
 * every outcome in the stats.
 */
void	 relay_input(struct relay *, const uint8_t *p, size_t len,
	    const struct msg_addr *from, uint64_t now, struct relay_action *act);

/*
 * relay_expire: call every RELAY_SWEEP_MS or so.  Drops paths no side
 * bound by their EXPIRY and paths idle for idle_ms (no hello accepted,
 * nothing forwarded).  Returns how many went.
 */
enum { RELAY_SWEEP_MS = 1000 };
size_t	 relay_expire(struct relay *, uint64_t now);

const struct relay_stats *relay_stats(const struct relay *);
size_t	 relay_paths(const struct relay *);	/* in use */
size_t	 relay_paths_bound(const struct relay *); /* both sides bound */
size_t	 relay_capacity(const struct relay *);
const char *relay_drop_name(enum relay_drop);

/*
 * For tests and tools (rsnode): the cookie the RS expects from `from` for
 * receiver id rid at `now`, and a hello's bytes.  relay_hello_build writes
 * RELAY_HELLO_LEN bytes: header (rid, counter), cookie field (NULL: zero),
 * tag under key.  Returns 0 or a negative errno.
 */
void	 relay_cookie(const struct relay *, uint32_t rid,
	    const struct msg_addr *from, uint64_t now,
	    uint8_t cookie[PROTO_RANDOM_LEN]);
int	 relay_hello_build(const uint8_t key[PROTO_KEY_LEN], uint32_t rid,
	    uint64_t counter, const uint8_t cookie[PROTO_RANDOM_LEN],
	    uint8_t out[RELAY_HELLO_LEN]);

#endif
