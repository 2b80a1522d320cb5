/* intunnel.h -- in-tunnel messages of one live tunnel: rekey, certificate and status updates, staple expiry. */
#ifndef NTM_NODE_INTUNNEL_H
#define NTM_NODE_INTUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include "dataplane.h"
#include "frag.h"
#include "kex.h"
#include "peercheck.h"
#include "proto.h"

struct ntm_rng;

/*
 * PROTOCOL.md 10.3 (and 6.3, 8.4, 11).  One struct intunnel per installed
 * tunnel, sans-I/O: ntmd feeds it the plaintext of authenticated
 * TUNNEL_CONTROL packets (intunnel_input), the data-plane timer events and
 * the clock (intunnel_tick), and its own fresh status or certificate
 * (intunnel_cert_update); it answers through two callbacks, `send` (one
 * in-tunnel message of at most PROTO_DATAGRAM_MAX bytes, to be sealed as a
 * TUNNEL_CONTROL packet under the current key, or under the previous one
 * when `old` is set) and `close` (tear the tunnel down with TUNNEL_CLOSE
 * `status`; called at most once, the struct stays usable until freed).
 * It drives the data plane's pure key functions itself (install, switch,
 * retire: dataplane.h), never its I/O.
 *
 * Rekey.  When the data plane reports DATAPLANE_TIMER_REKEY (the
 * original initiator first, the original responder PROTO_TIMER_OLD_KEY
 * later if nothing happened), the side sends REKEY_REQUEST {KEY_EPOCH =
 * current + 1, NONCE, and per scheme EPHEMERAL (ecdhe) or KEM_CT to the
 * peer's certificate key (rsa); nothing for shared}, retransmitted at 250,
 * 500, 1000, 2000 ms (5 sends; the same inner bytes, each in a new outer
 * packet).  The receiver checks the epoch, runs the scheme, answers
 * REKEY_RESPONSE {KEY_EPOCH, NONCE, EPHEMERAL (ecdhe)}, installs the new
 * keys and sends with them right after its answer; the requester installs
 * and switches on receiving the answer.  Both then derive
 *
 *   th  = SHA-256(attribute list of the request || of the response)
 *   PRK = HKDF-Extract(k_rekey, IKM);  k_i2r, k_r2i, k_rekey as in 8.4
 *
 * where "i2r" is the REKEY_REQUEST sender to its receiver (doc/KEX.md);
 * the data plane's keys keep the directions of the original handshake.
 * A request repeated after the answer (the answer was lost) gets the same
 * answer again, sealed under the old key the requester still uses.  A
 * request whose epoch is neither current + 1 nor the one just answered,
 * or whose scheme step fails, is dropped and counted (rekey_dropped).
 * When both sides ask at once, the original initiator's request wins (in
 * an rsa tunnel only the initiator asks: doc/KEX.md).  A
 * rekey without an answer after every send is counted (rekey_failed) and
 * asked again PROTO_TIMER_OLD_KEY later.
 *
 * Certificate and status.  intunnel_cert_update() sends CERT_UPDATE
 * {CERT, STATUS} (fragmented above a datagram, PROTOCOL.md 11),
 * retransmitted like a request until CERT_UPDATE_ACK {CERT_HASH = H(cert)}
 * arrives.  A received CERT_UPDATE is verified in full (peercheck_verify:
 * chain, role, dates, the status's signature, serial, good, not older than
 * the newest seen) with the tunnel's peer FQDN and virtual IPs as the
 * expectation, so neither may change; accepted, it becomes the peer's
 * certificate and staple and is acknowledged.  Refused: REVOKED closes the
 * tunnel with status REVOKED, an expired certificate or status with
 * EXPIRED, any other failure with CERT_INVALID (each logged), except a
 * status older than one already seen, which is only dropped (a late copy).
 * The peer's staple (from the handshake or the last update) is watched:
 * at its nextUpdate without a fresher one the tunnel is closed (EXPIRED).
 */

struct intunnel;

typedef int	(*intunnel_send_fn)(void *arg, const uint8_t *msg, size_t len,
	    bool old);
typedef void	(*intunnel_close_fn)(void *arg, enum proto_status status,
	    const char *why);

/* Everything one tunnel's in-tunnel exchanges need; pointers borrowed. */
struct intunnel_conf {
	const uint8_t		*path_id;	/* PROTO_ID_LEN */
	const char		*peer;		/* its FQDN */
	enum dataplane_role	 role;		/* ours in the handshake */
	uint8_t			 kex;		/* enum proto_kex */
	const struct kex_allowed *allowed;
	const uint8_t		*k_rekey;	/* PROTO_KEY_LEN; copied */
	const uint8_t		*peer_cert;	/* DER; copied */
	size_t			 peer_cert_len;
	const uint8_t		*peer_status;	/* DER stapled; dates read */
	size_t			 peer_status_len;
	bool			 has_vip4, has_vip6;
	const uint8_t		*peer_vip4, *peer_vip6;
	gnutls_privkey_t	 own_key;	/* rsa answers */
	struct peercheck	*pc;
	struct frag_table	*frag;		/* shared by all tunnels */
	struct ntm_rng		*rng;
	intunnel_send_fn	 send;
	intunnel_close_fn	 close;
	void			*arg;
};

struct intunnel_stats {
	uint64_t	rekeys;			/* completed, either side */
	uint64_t	rekeys_started;		/* requests we sent */
	uint64_t	rekey_retransmits;
	uint64_t	rekey_failed;		/* no answer after every send */
	uint64_t	rekey_dropped;		/* wrong epoch, failed step */
	uint64_t	cert_updates_sent;	/* CERT_UPDATEs started */
	uint64_t	cert_updates_acked;
	uint64_t	cert_updates_accepted;	/* peer's, verified */
	uint64_t	cert_updates_refused;
	uint64_t	dropped;		/* undecodable, unexpected */
};

/*
 * intunnel_new: the state of the tunnel dt (borrowed; it must outlive the
 * struct) at `now` (ms, the data plane's clock).  Returns 0 and *out
 * (intunnel_free), -EINVAL (missing field, peer certificate or status that
 * does not parse) or -ENOMEM.
 */
int	 intunnel_new(struct intunnel **out, const struct intunnel_conf *,
	    struct dataplane_tunnel *dt);
/* Wipes the keys and frees; accepts NULL. */
void	 intunnel_free(struct intunnel *);

/*
 * intunnel_input: the plaintext of an authenticated TUNNEL_CONTROL packet
 * of this tunnel (TUNNEL_KEEPALIVE, TUNNEL_CLOSE and TUNNEL_UPDATE are the
 * caller's; they return -ENOTSUP).  now: ms of the data plane's clock;
 * wall: Unix seconds for certificate and status dates.  Returns 0 when
 * the message was used, or a negative code for one dropped (counted).
 */
int	 intunnel_input(struct intunnel *, const uint8_t *msg, size_t len,
	    uint64_t now, time_t wall);

/*
 * intunnel_tick: `due` is what dataplane_timers_due() reported for this
 * tunnel (REKEY starts a rekey, RETIRE retires the old key); then
 * retransmissions and the staple's expiry.  Call it at least at
 * intunnel_next().
 */
void	 intunnel_tick(struct intunnel *, unsigned due, uint64_t now,
	    time_t wall);
/* The earliest ms at which intunnel_tick() has work; UINT64_MAX: none. */
uint64_t intunnel_next(const struct intunnel *);

/* Starts a rekey now (what DATAPLANE_TIMER_REKEY does).  0, -EBUSY, ... */
int	 intunnel_rekey(struct intunnel *, uint64_t now);

/*
 * intunnel_cert_update: sends CERT_UPDATE with our certificate and status
 * (DER, copied); replaces an update still waiting for its ACK.  0,
 * -EMSGSIZE (more than 16 fragments), -ENOMEM.
 */
int	 intunnel_cert_update(struct intunnel *, const uint8_t *cert,
	    size_t cert_len, const uint8_t *status, size_t status_len,
	    uint64_t now);

/* Our certificate was renewed: rsa answers use this key (borrowed). */
void	 intunnel_set_own_key(struct intunnel *, gnutls_privkey_t);
/* The key epoch this side sends with (0 after the handshake). */
uint32_t intunnel_epoch(const struct intunnel *);
/* True while a rekey request or a certificate update awaits its answer. */
bool	 intunnel_rekey_pending(const struct intunnel *);
bool	 intunnel_update_pending(const struct intunnel *);
/* The peer's certificate as last accepted (borrowed until the next call). */
void	 intunnel_peer_cert(const struct intunnel *, const uint8_t **der,
	    size_t *len);
/* nextUpdate of the peer's current staple. */
time_t	 intunnel_peer_status_expiry(const struct intunnel *);
const struct intunnel_stats *intunnel_stats(const struct intunnel *);

#endif
