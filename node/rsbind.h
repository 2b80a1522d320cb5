/* rsbind.h -- sans-I/O RS binding of a node: RS_HELLO, RS_COOKIE, retransmission and punch probes per path. */
#ifndef NTM_NODE_RSBIND_H
#define NTM_NODE_RSBIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "msg.h"
#include "proto.h"

/*
 * PROTOCOL.md 10.2.  On a punch or relay Route Direction the node binds
 * its tunnel-port address at the RS, one binding per path:
 *
 *   RS_HELLO (64 B) = data header (receiver id = our own RECV_ID,
 *       counter = hello counter) | cookie field (32, zero or the RS's
 *       cookie) | tag = AES-256-GCM(BINDING_KEY, nonce 0x02 0x2a 0 0
 *       counter, AAD = header | cookie field, empty plaintext)
 *   RS_COOKIE (48 B) = data header (our receiver id, the hello's
 *       counter) | cookie (32)
 *
 * The RS answers a hello that binds with nothing (10.2 Decision): the node
 * learns it is bound when traffic of the path comes from the RS
 * (rsbind_from_rs).  Until then it sends a *new* hello, counter + 1, on
 * the schedule of 5.5 (0, 250, 500, 1000, 2000 ms) and gives up 4 s after
 * the fifth.  An RS_COOKIE from the RS for our latest counter is answered
 * at once with a new hello (counter + 1) carrying the cookie, and later
 * hellos of the schedule carry it too.  Every hello has a counter above
 * every earlier one under its key: a hello is never re-sent with the same
 * counter, as the same GCM nonce with another cookie field would reuse the
 * nonce.
 *
 * Punch routes: each hello is also sent to the peer's addresses (probes),
 * so the node's NAT opens toward the peer while the peer's Tunnel Request
 * (or its own) tries the direct path.  A node receiving such a probe drops
 * it (it cannot verify the peer's binding key, and needs nothing from it).
 *
 * Addresses: the node binds with the RS address of the family it is
 * registered over (the family its DC saw and handed to the RS), else the
 * first RELAY_ADDR.  No I/O and no clock: `now` is in milliseconds on any
 * monotonic scale, the same for every call; datagrams leave through the
 * send callback.
 */

enum rsbind_limit {
	RSBIND_LIMIT_INVALID = 0,
	RSBIND_PATHS_MAX = 256,		/* bindings at once (ntmd's tunnels) */
	RSBIND_PROBES_MAX = PROTO_ADDRS_MAX,
	RSBIND_HELLO_LEN = PROTO_DATA_HEADER_LEN + PROTO_RANDOM_LEN +
	    PROTO_TAG_LEN,		/* 64 */
	RSBIND_COOKIE_LEN = PROTO_DATA_HEADER_LEN + PROTO_RANDOM_LEN, /* 48 */
	RSBIND_FAIL_WAIT_MS = 4000,	/* after the last hello */
};

enum rsbind_state {
	RSBIND_STATE_INVALID = 0,
	RSBIND_STATE_BINDING,		/* hellos sent, no traffic yet */
	RSBIND_STATE_BOUND,		/* traffic of the path came from it */
	RSBIND_STATE_FAILED,		/* schedule over, nothing came */
};

struct rsbind_conf {
	const uint8_t		*path_id;	/* PROTO_ID_LEN */
	uint32_t		 rid;		/* our own RECV_ID */
	const uint8_t		*key;		/* BINDING_KEY, PROTO_KEY_LEN */
	const struct msg_addr	*relay;		/* RELAY_ADDR list */
	size_t			 nrelay;
	uint8_t			 family;	/* ours, PROTO_FAMILY_*; 0: any */
	const struct msg_addr	*probe;		/* punch: PEER_ADDR list */
	size_t			 nprobe;
};

struct rsbind_stats {
	uint64_t	starts;
	uint64_t	hellos;		/* RS_HELLOs sent to the RS */
	uint64_t	probes;		/* copies sent to peers (punch) */
	uint64_t	cookies;	/* RS_COOKIEs answered */
	uint64_t	cookies_dropped;/* unknown, stale or not from the RS */
	uint64_t	bound;		/* bindings confirmed by traffic */
	uint64_t	failed;		/* schedules that ended unbound */
	uint64_t	rebinds;
};

/* One datagram for `to`; p is borrowed for the call. */
typedef void	(*rsbind_send_cb)(void *arg, const uint8_t *p, size_t len,
	    const struct msg_addr *to);

struct rsbind;

/* Returns 0 and *out (free with rsbind_free, which wipes the keys), -ENOMEM. */
int	 rsbind_new(struct rsbind **out, rsbind_send_cb send, void *arg);
void	 rsbind_free(struct rsbind *);

/*
 * Starts binding the path (first hello sent before this returns); a failed
 * binding's slot is reused when no other is free.  Returns
 * 0, -EINVAL (no key, no RS address), -EEXIST (path already bound or
 * binding), -ENOSPC (RSBIND_PATHS_MAX paths), or a crypto error.
 */
int	 rsbind_start(struct rsbind *, const struct rsbind_conf *,
	    uint64_t now);
/*
 * A data-format datagram from the tunnel port that is an RS_COOKIE (or an
 * RS_HELLO probe from a peer, which is dropped here: -ENOMSG).  Returns 0
 * when the cookie was answered with a new hello, -ENOENT (no binding with
 * that receiver id, or not from its RS), -EALREADY (not for our latest
 * hello, or the path is bound), -EPROTO / MSG_E_* (malformed).
 */
int	 rsbind_input(struct rsbind *, const uint8_t *p, size_t len,
	    const struct msg_addr *from, uint64_t now);
/*
 * Call when a datagram of `path_id` (a Tunnel Request or Response) arrived
 * from `from`.  Returns true when `from` is the path's RS address: the
 * binding is confirmed (the RS forwards only between bound sides) and its
 * hellos stop.
 */
bool	 rsbind_from_rs(struct rsbind *, const uint8_t path_id[PROTO_ID_LEN],
	    const struct msg_addr *from);
/* True when `a` is the RS address the path binds with. */
bool	 rsbind_is_rs(const struct rsbind *,
	    const uint8_t path_id[PROTO_ID_LEN], const struct msg_addr *a);
/*
 * Our address changed (mobility): a new hello with a higher counter and no
 * cookie, and the schedule again.  0, -ENOENT, or a crypto error.
 */
int	 rsbind_rebind(struct rsbind *, const uint8_t path_id[PROTO_ID_LEN],
	    uint64_t now);
/* Forget the path (tunnel closed, setup failed, direct path won). */
void	 rsbind_stop(struct rsbind *, const uint8_t path_id[PROTO_ID_LEN]);
/*
 * Forgets every path for which keep(arg, path_id) is false (no tunnel and
 * no setup uses it any more): a bound binding has no timer of its own, so
 * one whose setup failed after it was confirmed would hold its slot for
 * good.  Returns the number of paths forgotten.
 */
size_t	 rsbind_sweep(struct rsbind *, bool (*keep)(void *arg,
	    const uint8_t path_id[PROTO_ID_LEN]), void *arg);
/* Call at rsbind_next_timer() (or any time): hellos due, give-ups. */
void	 rsbind_timeout(struct rsbind *, uint64_t now);
/* The earliest time rsbind_timeout() has work, UINT64_MAX if none. */
uint64_t rsbind_next_timer(const struct rsbind *);
/* The path's state, RSBIND_STATE_INVALID when unknown. */
enum rsbind_state rsbind_state(const struct rsbind *,
	    const uint8_t path_id[PROTO_ID_LEN]);
/* The last hello counter used on the path, 0 when unknown. */
uint64_t rsbind_counter(const struct rsbind *,
	    const uint8_t path_id[PROTO_ID_LEN]);
size_t	 rsbind_count(const struct rsbind *);
const struct rsbind_stats *rsbind_stats(const struct rsbind *);

/* A socket address as a PROTOCOL.md 3.2 address; -EAFNOSUPPORT. */
int	 rsbind_addr_of(const struct sockaddr *, struct msg_addr *);

#endif
