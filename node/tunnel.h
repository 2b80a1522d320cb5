/* tunnel.h -- sans-I/O tunnel establishment of a node, as MN and as CN: Direction Request, Route Direction, NTM ACK, Tunnel Request/Response. */
#ifndef NTM_NODE_TUNNEL_H
#define NTM_NODE_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "dataplane.h"
#include "kex.h"
#include "msg.h"
#include "peercheck.h"
#include "proto.h"

struct ntm_rng;

/*
 * DESIGN.md 4 and 5.1, PROTOCOL.md 6.1, 6.2, 8, 9 and 14.  One struct
 * tunnel per node.  It does no I/O and reads no clock: the daemon feeds it
 *
 *   tunnel_resolve()     a name looked up through the control socket;
 *   tunnel_dc_input()    a ROUTE_DIRECTION from our own DC, already opened
 *                        and decoded by the DC client (only messages sealed
 *                        under our registration's keys reach here, which
 *                        is what makes a path id "from our own DC");
 *   tunnel_peer_input()  a TUNNEL_REQUEST / TUNNEL_RESPONSE datagram from
 *                        the tunnel port, sealed under k_treq / k_tresp
 *                        (8.1), which only this module knows;
 *   tunnel_timeout()     when the timer it asked for fires;
 *
 * and it answers through the emit callback with typed actions (below).
 * `now` is wall-clock time in milliseconds since the Unix epoch: Route
 * Direction expiries and certificate and status dates are Unix times, and
 * retransmissions run on the same clock.
 *
 * Flow as MN (the node that looked the name up):
 *   resolve -> DIRECTION_REQUEST {PEER_FQDN, KEX = first of kex_allowed,
 *   CERT_HASH, STATUS, AEAD_OFFERS}, retransmitted at 250, 500, 1000,
 *   2000 ms (5 sends), failing 4 s after the last -> ROUTE_DIRECTION (same
 *   transaction id): the peer's status is checked at once
 *   (peercheck_status_check) -> [rsa without the responder's certificate
 *   cached: a certificate fetch (TUNNEL_REQUEST with CERT_FETCH), same
 *   destinations and schedule -> its answer: certificate = PEER_CERT_HASH,
 *   peercheck_verify, cached] -> as initiator TUNNEL_REQUEST to every
 *   PEER_ADDR (RELAY_ADDR on relay and punch routes), same schedule ->
 *   TUNNEL_RESPONSE: peer certificate and status (peercheck_verify), Sig_R,
 *   the scheme's last step, keys -> INSTALL, ANSWER.
 * Flow as CN:
 *   ROUTE_DIRECTION (the DC's own transaction id) -> scheme within
 *   kex_allowed and the peer's status, then NTM_ACK (OK or the refusal);
 *   the path id is remembered until its EXPIRY -> [a certificate fetch
 *   for that path id: our certificate and status, no private-key
 *   operation, the path stays open] -> TUNNEL_REQUEST for that path id
 *   only: path, scheme, cert_I, status_I (peercheck_verify) and
 *   Sig_I, all before the private-key operation -> TUNNEL_RESPONSE, keys,
 *   INSTALL.
 * Roles follow the ROLE attribute, not who asked (8.1): on the reverse
 * route MN is the responder and waits for CN's TUNNEL_REQUEST, and CN
 * sends it right after its NTM_ACK.
 *
 * Concurrent lookups of one name share one setup; a lookup of a name with
 * a live tunnel is answered at once.  When two tunnels to one peer come
 * up (both set up toward each other), the lower path id (16 big-endian
 * bytes) survives and the other gets a CLOSE action.
 *
 * Messages are fragmented (PROTOCOL.md 11) when larger than a datagram:
 * a Tunnel Request carrying a certificate, a status and a signature often
 * is.  Retransmissions are the same datagrams, byte for byte; a responder
 * answers a repeated request with its cached response (kept 8 s).
 */

enum tunnel_act_type {
	TUNNEL_ACT_INVALID = 0,
	TUNNEL_ACT_SEND_DC,	/* signalling message for our DC */
	TUNNEL_ACT_SEND_PEER,	/* one datagram to a peer address */
	TUNNEL_ACT_INSTALL,	/* a tunnel's data-plane keys */
	TUNNEL_ACT_CLOSE,	/* tear a tunnel down (lost the race) */
	TUNNEL_ACT_ANSWER,	/* answer one pending resolve */
	TUNNEL_ACT_TIMER,	/* call tunnel_timeout() at `when` */
};

/*
 * One action; every pointer is borrowed for the duration of the emit
 * callback only.
 *
 * SEND_DC: `msg` is the whole message as msg_encode() writes it: the
 *   header with sequence number 0 and header id zero, the plaintext body
 *   and PROTO_TAG_LEN zero bytes.  The DC client sets the sequence number
 *   and the session id, seals and sends.  With `retransmit` the message is
 *   a repetition of the one first sent with this transaction id and type:
 *   the client re-sends the sealed bytes it sent then (PROTOCOL.md 5.5).
 * SEND_PEER: `dgram` is a complete sealed datagram for `to`.
 * INSTALL: `tun` holds everything dataplane_tunnel_add() needs, and
 *   k_rekey, peer_cert and peer_status what the in-tunnel exchanges need
 *   (node/intunnel.h); the keys are wiped when the callback returns.
 * CLOSE: the tunnel with `path_id` / receiver id `rid` must go (remove it
 *   from the data plane and send TUNNEL_CLOSE; `status` REVOKED when the
 *   peer's certificate was revoked, else a lost race).
 * ANSWER: the resolve `token` is answered: `status` OK with the peer's
 *   virtual IPs, or the refusal (REVOKED, CERT_INVALID, UNAVAILABLE, ...)
 *   with `reason` for the log and the control socket.
 * TIMER: arm the one timer for `when` (ms); UINT64_MAX cancels it.
 */
/*
 * Where one setup's time went, in microseconds of the clock the conf
 * gives (all 0 without one).  As MN: route is the lookup to our Route
 * Direction (DC and CN's acceptance), request the Route Direction to our
 * Tunnel Request sent (signature; a certificate fetch on rsa's first
 * contact), peer the request to the Response (network and CN's work),
 * finish the Response to the tunnel up (its checks and key schedule);
 * setup their sum.  As CN: setup is our Route Direction to the tunnel
 * up, answer the Tunnel Request in to our Response sent.
 */
struct tunnel_timing {
	uint32_t	setup_us;
	uint32_t	route_us;
	uint32_t	request_us;
	uint32_t	peer_us;
	uint32_t	finish_us;
	uint32_t	answer_us;
};

struct tunnel_action {
	enum tunnel_act_type	 type;
	const char		*peer;		/* FQDN; all but TIMER */
	const uint8_t		*path_id;	/* 16 bytes or NULL */
	/* SEND_DC, SEND_PEER */
	const uint8_t		*msg;
	size_t			 len;
	uint32_t		 txid;
	bool			 retransmit;
	const struct msg_addr	*to;
	/* INSTALL */
	const struct dataplane_tunnel_conf *tun;
	uint8_t			 kex;
	const uint8_t		*k_rekey;	/* PROTO_KEY_LEN, wiped after */
	const uint8_t		*peer_cert;	/* DER, as verified */
	size_t			 peer_cert_len;
	const uint8_t		*peer_status;	/* DER, the staple verified */
	size_t			 peer_status_len;
	const struct tunnel_timing *timing;
	bool			*refused;	/* the handler sets it when the
						 * data plane does not take it */
	/* CLOSE */
	uint32_t		 rid;
	/* ANSWER */
	uint64_t		 token;
	enum proto_status	 status;
	const char		*reason;
	bool			 has_vip4, has_vip6;
	uint8_t			 vip4[4];
	uint8_t			 vip6[16];
	/* TIMER */
	uint64_t		 when;
};

typedef void	(*tunnel_emit_cb)(void *arg, const struct tunnel_action *);

enum tunnel_limit {
	TUNNEL_LIMIT_INVALID = 0,
	TUNNEL_WAITERS_MAX = 32,	/* resolves sharing one setup */
	TUNNEL_SETUPS_MAX = 256,	/* setups in progress */
	TUNNEL_CACHE_MS = 8000,		/* cached answers, PROTOCOL 5.5 */
	TUNNEL_FAIL_WAIT_MS = 4000,	/* after the last send */
	/* Certificate fetch answers, PROTOCOL.md 8.5. */
	TUNNEL_FETCH_DGRAMS_MAX = 3,	/* datagrams per answer */
	TUNNEL_FETCH_ANSWERS_MAX = 5,	/* sends per path id */
};

struct tunnel_conf {
	const char		*fqdn;		/* own, lower case */
	gnutls_x509_crt_t	 cert;		/* own; borrowed */
	gnutls_privkey_t	 key;		/* its key; borrowed */
	const uint8_t		*status;	/* own, DER; copied */
	size_t			 status_len;
	struct kex_allowed	 kex_allowed;	/* n 0: default */
	uint8_t			 aead[PROTO_AEAD_MAX]; /* best first */
	size_t			 naead;		/* 0: AES-GCM, ChaCha */
	struct peercheck	*pc;		/* borrowed */
	struct ntm_rng		*rng;		/* borrowed */
	tunnel_emit_cb		 emit;
	void			*arg;
	/* Microseconds of a monotonic clock for tunnel_timing, or NULL. */
	uint64_t		(*clock_us)(void);
};

struct tunnel_stats {
	uint64_t	setups;		/* started as MN */
	uint64_t	established;
	uint64_t	refused;	/* setups that ended in a refusal */
	uint64_t	timeouts;	/* no answer after every send */
	uint64_t	dropped;	/* peer datagrams dropped unanswered */
	uint64_t	replays;	/* repeated path ids or messages */
	uint64_t	closed_races;	/* lost to a lower path id */
	uint64_t	cert_fetches;	/* rsa: certificates fetched as I */
	uint64_t	cert_fetch_answers; /* fetches answered as R */
};

struct tunnel;

/* Returns 0 and *out (free with tunnel_free), -EINVAL, -ENOMEM. */
int	 tunnel_new(struct tunnel **out, const struct tunnel_conf *);
void	 tunnel_free(struct tunnel *);
/* Replaces the own status sent in later messages. 0, -EINVAL, -ENOMEM. */
int	 tunnel_set_status(struct tunnel *, const uint8_t *der, size_t len);

/*
 * A lookup of `name` (lower-cased here) answered later by an ANSWER action
 * carrying `token` (or at once when a tunnel is live).  Returns 0; -EINVAL
 * for a name that is not an FQDN or is our own; -EBUSY when too many
 * lookups wait for one name or too many setups are running; -ENOMEM.
 */
int	 tunnel_resolve(struct tunnel *, const char *name, uint64_t token,
	    uint64_t now);
/*
 * A decoded ROUTE_DIRECTION from our DC.  Returns 0 when it was used
 * (including a refusal answered by NTM_ACK), or a negative code for a
 * message dropped: -EALREADY (path id already used), -ETIMEDOUT (expired),
 * -ENOENT (an answer to no pending request), -EPROTO (not a usable Route
 * Direction).
 */
int	 tunnel_dc_input(struct tunnel *, const struct msg *, uint64_t now);
/*
 * A datagram of the common-header format from the tunnel port.  Returns 0
 * when it was used (answered, held as a fragment, or ending a setup), or a
 * negative code for one dropped without an answer: -ENOENT (no current
 * path id of ours), -EBADMSG (does not open), -EALREADY (replayed),
 * -EPROTO or a MSG_E_* code (malformed).
 */
int	 tunnel_peer_input(struct tunnel *, const uint8_t *pkt, size_t len,
	    const struct sockaddr *from, uint64_t now);
/* Call when the timer set by a TIMER action fires (or any time). */
void	 tunnel_timeout(struct tunnel *, uint64_t now);
/* The earliest time tunnel_timeout() has work, UINT64_MAX if none. */
uint64_t tunnel_next_timer(const struct tunnel *);
/*
 * A peer's status from a STATUS_NOTICE (the DC client answers the notice
 * itself).  It is verified (peercheck_status_check); when it says revoked,
 * every live tunnel to that serial gets a CLOSE action with status
 * REVOKED and setups toward it fail.  Returns 0 for a good status,
 * PEERCHECK_E_REVOKED after closing, or the check's error.
 */
int	 tunnel_peer_status(struct tunnel *, const uint8_t *serial,
	    size_t serial_len, const uint8_t *der, size_t der_len,
	    uint64_t now);
/*
 * The peer of the live tunnel `path_id` renewed its certificate (an
 * accepted CERT_UPDATE): STATUS_NOTICEs about the new serial now close it.
 * 0, -EINVAL, -ENOENT.
 */
int	 tunnel_peer_renewed(struct tunnel *,
	    const uint8_t path_id[PROTO_ID_LEN], const uint8_t *serial,
	    size_t len);
/*
 * Our own certificate was renewed: later handshakes send this one (cert
 * and key borrowed as in tunnel_conf; the caller keeps the old ones alive
 * until this returns) with `status`.  0, -EINVAL, -ENOMEM.
 */
int	 tunnel_set_identity(struct tunnel *, gnutls_x509_crt_t cert,
	    gnutls_privkey_t key, const uint8_t *status, size_t status_len);
/*
 * Forgets a live tunnel (closed by the data plane, idle, peer revoked), so
 * the next lookup of its peer sets up a new one.  Called from inside the
 * INSTALL callback, it refuses that tunnel: it never goes live and its
 * lookups are answered INTERNAL.  0 or -ENOENT.
 */
int	 tunnel_close(struct tunnel *, const uint8_t path_id[PROTO_ID_LEN]);
/*
 * Whether a setup holds this path id (its Route Direction taken, its end or
 * its cached answer still to come): what an RS binding of the path serves
 * until the tunnel is installed.
 */
bool	 tunnel_path_pending(const struct tunnel *,
	    const uint8_t path_id[PROTO_ID_LEN]);
/* Live tunnels and setups in progress. */
size_t	 tunnel_count(const struct tunnel *);
size_t	 tunnel_setups(const struct tunnel *);
const struct tunnel_stats *tunnel_stats(const struct tunnel *);

#endif
