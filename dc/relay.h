/* relay.h -- the DC's client of ntm-rs: RELAY_DIRECTION over persistent mutual TLS on 4614 (PROTOCOL.md 6.5, 12.1). */
#ifndef NTM_DC_RELAY_H
#define NTM_DC_RELAY_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "proto.h"

struct msg;
struct ntm_rng;
struct signal_relay;
struct tls_creds;

/*
 * DESIGN.md 4 and 6, PROTOCOL.md 6.5: on punch and relay routes DC_MN
 * allocates the path at an RS before any Route Direction goes out.  One
 * persistent mutual-TLS link per configured RS ([relay] server), made by
 * lib/tls's client: it reconnects with a doubling, jittered backoff, and
 * the server must present a certificate of role ntm-rs that chains to the
 * trust store through the AS CA (anything else is refused and retried).
 *
 * relay_direction() encodes a RELAY_DIRECTION from dc/signal's action,
 * gives it a transaction id and sends it on the first RS whose link is up
 * (else it waits for the first configured one to come up); the
 * RELAY_DIRECTION_ACK with that transaction id goes to the callback.  A
 * link that drops before the answer sends the request again once it is
 * back (the RS answers the same path id again or refuses the receiver
 * ids, and dc/signal copes with both).  No answer within
 * RELAY_TIMEOUT_MS: -ETIMEDOUT.
 */
enum relay_limit {
	RELAY_LIMIT_INVALID = 0,
	RELAY_SERVERS_MAX = 4,
	RELAY_ASKS_MAX = 1024,		/* RELAY_DIRECTIONs in flight */
	RELAY_TIMEOUT_MS = 2000,	/* SIGNAL_RELAY_MS */
	RELAY_TICK_MS = 100,
	RELAY_MSG_MAX = 512,		/* a RELAY_DIRECTION, encoded */
	RELAY_TXID_OFF = 8,		/* in the common header */
};

/* Counters for `ntmctl dc stats` (relay_stats_foreach names them). */
struct relay_stats {
	uint64_t	 asks;		/* RELAY_DIRECTIONs taken */
	uint64_t	 sends;		/* written to a link, resends included */
	uint64_t	 resends;	/* after a link came back */
	uint64_t	 acks;		/* RELAY_DIRECTION_ACK status OK */
	uint64_t	 errors;	/* ACKs with another status */
	uint64_t	 timeouts;
	uint64_t	 busy;		/* refused: RELAY_ASKS_MAX in flight */
	uint64_t	 stray;		/* frames that answer nothing of ours */
	uint64_t	 links_up;	/* handshakes completed */
	uint64_t	 links_down;	/* connected links lost */
};

typedef void	(*relay_answer_fn)(void *arg, int status,
		    const struct msg *ack);

struct relay;

/*
 * relay_new: one link to each of servers[0 .. n-1] (n >= 1), connecting
 * at once.  creds (own chain ntm-dc, key, trust) and rng are borrowed and
 * must outlive the relay.  Returns 0, -EINVAL, -ENOMEM or lib/tls's error.
 */
int	relay_new(struct relay **, uv_loop_t *, struct tls_creds *,
	    const struct sockaddr_storage *servers, size_t n,
	    struct ntm_rng *rng);
/*
 * relay_direction: sends rl as a RELAY_DIRECTION.  cb gets 0 and the
 * decoded RELAY_DIRECTION_ACK (borrowed for the call; its status is the
 * RS's), or a negative errno: -ETIMEDOUT, -ECANCELED on relay_close().
 * Returns 0 (cb follows, never before the return), or a negative errno
 * (-EBUSY, -EINVAL; no cb).
 */
int	relay_direction(struct relay *, const struct signal_relay *rl,
	    relay_answer_fn cb, void *arg);
/* Links with a completed handshake now. */
size_t	relay_links_up(const struct relay *);
const struct relay_stats *relay_stats(const struct relay *);
/* Calls fn(name, value) for every counter, in a fixed order ("rs_..."). */
void	relay_stats_foreach(const struct relay *,
	    void (*fn)(const char *name, uint64_t value, void *), void *arg);
/*
 * relay_close: pending requests get -ECANCELED, the links close as the
 * loop runs on.  relay_free: after uv_run() returned.  Both accept NULL.
 */
void	relay_close(struct relay *);
void	relay_free(struct relay *);

/*
 * relay_encode: the RELAY_DIRECTION for rl with transaction id txid (and
 * the path id as header id) into out[cap].  Pure; 0 or a MSG_E_* /
 * -ENOSPC.
 */
int	relay_encode(const struct signal_relay *rl, uint32_t txid,
	    uint8_t *out, size_t cap, size_t *len);

#endif
