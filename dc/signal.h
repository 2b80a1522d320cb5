/* signal.h -- the DC's sans-I/O signalling core on UDP 4610: registration, keep-alive, expiry, one-DC direction. */
#ifndef NTM_DC_SIGNAL_H
#define NTM_DC_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "msg.h"
#include "proto.h"
#include "registry.h"

struct ntm_rng;

/*
 * signal_input() consumes one datagram (bytes, source address, the time)
 * and fills a struct signal_out with what to do: datagrams to send and
 * rows to persist.  signal_next_timer() says when signal_timer() has work
 * (registration and cookie expiry).  No sockets, no clock, no globals:
 * dc/sigio.c does the I/O, tests drive it directly.
 *
 * Implemented (PROTOCOL.md 5, 7, 15):
 *   REG_HELLO -> REG_CHALLENGE   ticket opened (key id, tag, body, expiry,
 *                                FQDN one label below the zone, serial not
 *                                revoked); a pending row per ticket id; a
 *                                retransmitted hello (same nonce) gets the
 *                                same challenge, byte for byte
 *   REGISTRATION -> _ACK         keys from K_ND and both nonces; observed
 *                                address and NAT state; lifetime and
 *                                keep-alive interval; a persist action.
 *                                The DC grants its configured lifetime
 *                                whatever LIFETIME asks: one lifetime for
 *                                all keeps the registry's expiry list
 *                                sorted without a heap
 *   KEEPALIVE -> _ACK            refreshes the entry; a new source address
 *                                (NAT rebinding) becomes the observed one
 *   expiry                       registrations not refreshed within the
 *                                lifetime, cookies after 10 s
 *   DIRECTION_REQUEST            one DC (MN and CN both registered here):
 *                                policy, revocation and registration checks,
 *                                route decision (dc/route.h), path id, tunnel
 *                                and temporary keys, receiver ids (and RS
 *                                binding keys on punch and relay); the
 *                                ROUTE_DIRECTION to CN first, retransmitted
 *                                250 ms doubling, 5 sends; on CN's NTM_ACK the
 *                                ROUTE_DIRECTION to MN (DESIGN.md 4 order);
 *                                CN's refusal, or no NTM_ACK, is MN's error
 *                                answer
 * Every sealed message is checked against the session's replay window
 * before it is processed; a duplicate of the request last answered, within
 * PROTO cache time (8 s), gets the cached answer again byte for byte.
 * Bad input is dropped silently and counted (struct signal_stats).
 *
 * Amplification: an answer to an address that has not proven it receives
 * (the REG_HELLO's source that then sent the REGISTRATION, or the observed
 * address of such a registration) is at most SIGNAL_AMPLIFICATION times the
 * bytes received in that datagram; a REGISTRATION_ACK that would be larger
 * is sent without its optional FQDN/VIP attributes, and dropped (counted)
 * if still too large.  REG_CHALLENGE is never larger than its REG_HELLO.
 *
 * Federation (PROTOCOL.md 6.4, 8.1; DESIGN.md 4), with config.federation
 * set; without it a CN in another zone is answered UNAVAILABLE:
 *   DC_MN  DIRECTION_REQUEST for a CN outside our zone: MN's checks, then a
 *          SIGNAL_FED_ASK action (NODE_INFO_REQUEST to CN's DC); the caller
 *          gives the answer to signal_remote_info(), which decides the
 *          route from CN's addresses, makes path id and keys and emits
 *          SIGNAL_FED_HANDOFF (a ROUTE_HANDOFF); signal_remote_ack() takes
 *          the PEER_NTM_ACK and sends MN its Route Direction (or CN's
 *          refusal).  No answer within SIGNAL_REMOTE_MS: UNAVAILABLE to MN.
 *   DC_CN  signal_handoff_input(): CN's Route Direction made from the
 *          ROUTE_HANDOFF, sent through CN's keep-alive binding and
 *          retransmitted as in one DC; CN's NTM_ACK (or its absence)
 *          becomes SIGNAL_FED_PEER_ACK for the asking DC.
 * The caller matches actions and answers by `ref` (a number the core
 * picks for DC_MN's directions, the caller's own for DC_CN's handoffs)
 * and checks that the peer DC may speak for the zones involved.
 *
 * Relay (PROTOCOL.md 6.5, 8.1; DESIGN.md 4), on punch and relay routes:
 * DC_MN makes path id, keys, both receiver ids and both binding keys, then
 * hands out a RELAY_DIRECTION (signal_out.relay, with a ref) for the RS
 * and waits.  signal_relay_ack() takes the RS's RELAY_DIRECTION_ACK: its
 * RELAY_ADDR list goes into both Route Directions, each side with its own
 * BINDING_KEY, and the flow goes on as on the other routes (CN's Route
 * Direction first, or the ROUTE_HANDOFF to DC_CN).  A REFUSED_POLICY from
 * the RS (receiver id taken) gets new receiver ids and one more
 * RELAY_DIRECTION; no RS configured (config.nrelay 0), any other error, or
 * no ACK within SIGNAL_RELAY_MS: UNAVAILABLE to MN.  With two DCs it is
 * DC_MN that talks to the RS; DC_CN passes the handoff's RELAY_ADDR and
 * CN's BINDING_KEY on unchanged.
 *
 * Fragments (PROTOCOL.md 11): sealed node -> DC messages that come as
 * fragments are reassembled (lib/frag, per source address, 2 s, 16 KiB)
 * after each fragment's tag verified, then handled as one message;
 * fragmented REGISTRATIONs are dropped (they always fit a datagram).  A
 * message to a node over PROTO_DATAGRAM_MAX goes out as 2..16 sealed
 * fragments, each with its own sequence number; retransmissions and
 * cached answers repeat them byte for byte.
 *
 * Not implemented yet: STATUS_NOTICE / _ACK (counted in drop_unsupported).
 */
enum signal_limit {
	SIGNAL_LIMIT_INVALID = 0,
	SIGNAL_SENDS_MAX = PROTO_FRAGMENTS_MAX + 4, /* datagrams per input */
	SIGNAL_PERSISTS_MAX = 1,	/* rows per input */
	SIGNAL_AMPLIFICATION = 3,	/* answer bytes per byte, unproven */
	SIGNAL_CACHE_MS = 8000,		/* answers kept for retransmissions */
	SIGNAL_DECODE_ERRORS = 21,	/* MSG_E_SHORT_HEADER .. MSG_E_TICKET */
	SIGNAL_FQDN_BUF = PROTO_FQDN_MAX + 1,
	SIGNAL_VIP_TEXT = 46,		/* INET6_ADDRSTRLEN */
	SIGNAL_PATHS_MAX = 4096,	/* directions waiting for NTM_ACK */
	SIGNAL_RELAYS_MAX = 2,		/* RS addresses (IPv4, IPv6) */
	SIGNAL_FED_MAX = 4,		/* federation actions per input */
	SIGNAL_FED_MSG_MAX = 1536,	/* a ROUTE_HANDOFF, unsealed */
	SIGNAL_REMOTE_MS = 12000,	/* DC_MN: wait for DC_CN, per step */
	SIGNAL_RELAY_MS = 2000,		/* DC_MN: wait for the RS's ACK */
	SIGNAL_RELAY_TRIES = 2,		/* RELAY_DIRECTIONs per direction */
	SIGNAL_MSG_MAX = PROTO_REASSEMBLY_MAX,	/* a message, fragmented */
};

struct signal_config {
	const char	*zone;		/* forward zone, lower case, no dot */
	uint32_t	 lifetime_s;	/* granted lifetime; 0: 120 */
	uint32_t	 keepalive_s;	/* behind NAT; 0: 25 */
	uint32_t	 punch_deadline_ms;	/* 0: 1000 */
	/*
	 * nrelay: how many RS the caller can send a RELAY_DIRECTION to (0:
	 * punch and relay routes are answered UNAVAILABLE).  relay[] is not
	 * read: the RELAY_ADDR nodes get comes from the RS's ACK.
	 */
	struct msg_addr	 relay[SIGNAL_RELAYS_MAX];
	size_t		 nrelay;
	bool		 federation;	/* other zones through their DCs */
};

/* A node's certificate as the DC's status store knows it (borrowed). */
struct signal_cert {
	const uint8_t	*hash;		/* PROTO_HASH_LEN */
	const uint8_t	*serial;
	size_t		 serial_len;
	const uint8_t	*status;	/* stapled DER OCSP response */
	size_t		 status_len;
};

struct signal_hooks {
	struct registry_hooks zone;	/* see registry.h */
	/*
	 * revoked: is this certificate serial revoked?  (The DC's status
	 * store: cert_status.revoked.)  NULL: nothing is known revoked.
	 */
	bool		(*revoked)(void *arg, const uint8_t *serial,
			    size_t len);
	/*
	 * cert: CN's certificate hash, serial and newest status, for MN's
	 * Route Direction (pointers borrowed until the hook is called
	 * again).  0, or -ENOENT (answered UNAVAILABLE).  NULL: -ENOENT.
	 */
	int		(*cert)(void *arg, const char *fqdn,
			    struct signal_cert *);
	/*
	 * allowed: the direction policy for MN -> CN.  NULL: every pair
	 * within the deployment is allowed (the DESIGN.md default).
	 */
	bool		(*allowed)(void *arg, const char *mn, const char *cn);
	void		*arg;
};

struct signal_send {
	struct msg_addr	 to;
	size_t		 len;
	uint8_t		 buf[PROTO_DATAGRAM_MAX];
};

/* A nodes-table row (schema/dc.sql): upsert by fqdn. */
struct signal_persist {
	char		 fqdn[SIGNAL_FQDN_BUF];
	char		 vip4[SIGNAL_VIP_TEXT];	/* "" when none */
	char		 vip6[SIGNAL_VIP_TEXT];
};

/*
 * RELAY_DIRECTION for the RS (PROTOCOL.md 6.5), on punch and relay routes;
 * its answer goes to signal_relay_ack() with ref.
 */
struct signal_relay {
	uint64_t	 ref;
	uint8_t		 path_id[PROTO_ID_LEN];
	uint32_t	 recv_id;		/* MN side */
	uint32_t	 peer_recv_id;		/* CN side */
	uint8_t		 binding_key[PROTO_KEY_LEN];	/* MN side */
	uint8_t		 peer_binding_key[PROTO_KEY_LEN];
	struct msg_addr	 observed;		/* MN */
	struct msg_addr	 peer_addr;		/* CN */
	uint64_t	 expiry;		/* Unix seconds */
};

/* What goes to another DC over the federation link (PROTOCOL.md 6.4). */
enum signal_fed_kind {
	SIGNAL_FED_INVALID = 0,
	SIGNAL_FED_ASK,		/* NODE_INFO_REQUEST about cn for mn, kex */
	SIGNAL_FED_HANDOFF,	/* buf: ROUTE_HANDOFF to cn's DC */
	SIGNAL_FED_PEER_ACK,	/* buf: PEER_NTM_ACK to the DC_MN of ref */
};

/*
 * buf holds an encoded message with transaction id 0: the link sets its
 * own (ASK, HANDOFF) or the one of the ROUTE_HANDOFF it answers (PEER_ACK).
 */
struct signal_fed {
	enum signal_fed_kind	 kind;
	uint64_t		 ref;
	char			 mn[SIGNAL_FQDN_BUF];
	char			 cn[SIGNAL_FQDN_BUF];
	uint8_t			 kex;
	size_t			 len;
	uint8_t			 buf[SIGNAL_FED_MSG_MAX];
};

struct signal_out {
	size_t			 nfed;
	struct signal_fed	 fed[SIGNAL_FED_MAX];
	size_t			 nsend;
	struct signal_send	 send[SIGNAL_SENDS_MAX];
	size_t			 npersist;
	struct signal_persist	 persist[SIGNAL_PERSISTS_MAX];
	size_t			 nrelay;
	struct signal_relay	 relay[1];
};

/* Counters for `ntmctl dc stats`; signal_stats_foreach names them. */
struct signal_stats {
	uint64_t	 rx;
	uint64_t	 rx_bytes;
	uint64_t	 tx;
	uint64_t	 tx_bytes;
	uint64_t	 drop_decode[SIGNAL_DECODE_ERRORS];	/* by MSG_E_* */
	uint64_t	 drop_type;		/* not a node->DC type */
	uint64_t	 drop_unknown_session;
	uint64_t	 drop_aead;		/* tag did not verify */
	uint64_t	 drop_replay;
	uint64_t	 drop_amplification;
	uint64_t	 drop_fragment;
	uint64_t	 drop_unsupported;
	uint64_t	 drop_internal;		/* allocation, crypto setup */
	uint64_t	 hellos;
	uint64_t	 challenges;
	uint64_t	 bad_ticket;
	uint64_t	 expired_ticket;
	uint64_t	 foreign_ticket;	/* FQDN outside the zone */
	uint64_t	 revoked_ticket;
	uint64_t	 rate_limited;
	uint64_t	 registrations;
	uint64_t	 keepalives;
	uint64_t	 rebinds;		/* observed address changed */
	uint64_t	 cache_resends;
	uint64_t	 expired;		/* registrations timed out */
	uint64_t	 directions;		/* DIRECTION_REQUESTs taken */
	uint64_t	 directions_refused;	/* answered with an error */
	uint64_t	 directions_routed;	/* ROUTE_DIRECTION to MN sent */
	uint64_t	 route[PROTO_ROUTE_MAX + 1];	/* by proto_route */
	uint64_t	 cn_retransmits;
	uint64_t	 cn_timeouts;		/* no NTM_ACK after 5 sends */
	uint64_t	 ntm_acks;
	uint64_t	 drop_unknown_path;	/* NTM_ACK, no such path */
	uint64_t	 remote_asks;		/* NODE_INFO_REQUESTs asked */
	uint64_t	 remote_handoffs;	/* ROUTE_HANDOFFs sent */
	uint64_t	 remote_timeouts;	/* a peer DC did not answer */
	uint64_t	 handoffs;		/* DC_CN: ROUTE_HANDOFFs */
	uint64_t	 handoffs_refused;
	uint64_t	 drop_unknown_ref;	/* late or unknown answers */
	uint64_t	 relay_asks;		/* RELAY_DIRECTIONs handed out */
	uint64_t	 relay_acks;		/* ACKs with RS addresses */
	uint64_t	 relay_collisions;	/* REFUSED_POLICY: new ids */
	uint64_t	 relay_refused;		/* other errors, no address */
	uint64_t	 relay_timeouts;	/* no ACK within SIGNAL_RELAY_MS */
	uint64_t	 relay_no_rs;		/* punch/relay, no RS configured */
	uint64_t	 frag_in;		/* fragments taken */
	uint64_t	 frag_messages;		/* messages reassembled */
	uint64_t	 frag_out;		/* messages sent as fragments */
	uint64_t	 frag_out_datagrams;
};

struct signal;

/*
 * signal_new: cfg and hooks are copied (cfg->zone too); rng is borrowed for
 * the core's life.  The caller frees with signal_free().
 */
int	signal_new(struct signal **, const struct signal_config *cfg,
	    const struct signal_hooks *hooks, struct ntm_rng *rng);
void	signal_free(struct signal *);		/* accepts NULL */
/* A ticket key from the AS (NOTICE_TICKET_KEY or the ticket_keys table). */
int	signal_ticket_key_add(struct signal *, uint32_t id,
	    const uint8_t key[PROTO_KEY_LEN]);

/*
 * signal_input: one datagram of len bytes from `from`.  `now` is the
 * protocol clock (ms, monotonic), `wall` the date for ticket expiry.
 * out is cleared first, then filled.
 */
void	signal_input(struct signal *, const void *p, size_t len,
	    const struct msg_addr *from, uint64_t now, time_t wall,
	    struct signal_out *out);
/* Call when signal_next_timer() is due: expires what is over at `now`. */
void	signal_timer(struct signal *, uint64_t now, struct signal_out *out);
/* When signal_timer() next has work (ms); UINT64_MAX: nothing to do. */
uint64_t signal_next_timer(const struct signal *);

const struct signal_stats *signal_stats(const struct signal *);
/* Calls fn(name, value) for every counter, in a fixed order. */
void	signal_stats_foreach(const struct signal *,
	    void (*fn)(const char *name, uint64_t value, void *), void *arg);
/*
 * signal_node_revoked: the AS revoked `fqdn`'s certificate (NOTICE_REVOKED):
 * its registration ends at once, pending cookies and directions that
 * involve it are dropped, so it can neither keep its session nor be
 * directed to.  Its DNS names and virtual IPs stay (registry_forget()
 * removes those too).  Returns 0, or -ENOENT when it was not registered.
 */
int	signal_node_revoked(struct signal *, const char *fqdn);
/*
 * Federation (see above).  signal_remote_info: the answer to the
 * SIGNAL_FED_ASK of ref: err 0 and the decoded NODE_INFO_RESPONSE (its
 * status is DC_CN's), or a negative errno and NULL (-ENOENT no DC for the
 * zone, -EPERM the DC found may not speak for it, -ETIMEDOUT, ...).
 * signal_remote_ack: the same for the SIGNAL_FED_HANDOFF of ref and its
 * PEER_NTM_ACK.  signal_handoff_input: a decoded ROUTE_HANDOFF from a DC
 * allowed to speak for MN's zone (the caller checked); ref comes back in
 * the SIGNAL_FED_PEER_ACK.  Answers for an unknown ref are counted and
 * dropped.  out is cleared first, then filled.
 */
void	signal_remote_info(struct signal *, uint64_t ref, int err,
	    const struct msg *resp, uint64_t now, time_t wall,
	    struct signal_out *out);
void	signal_remote_ack(struct signal *, uint64_t ref, int err,
	    const struct msg *ack, uint64_t now, struct signal_out *out);
void	signal_handoff_input(struct signal *, uint64_t ref,
	    const struct msg *handoff, uint64_t now, struct signal_out *out);
/*
 * signal_relay_ack: the RS's answer to the RELAY_DIRECTION of ref: err 0
 * and the decoded RELAY_DIRECTION_ACK (its status is the RS's), or a
 * negative errno and NULL (-ENOTCONN no RS link, -ETIMEDOUT, ...).  An
 * unknown or late ref is counted and dropped.  out is cleared first.
 */
void	signal_relay_ack(struct signal *, uint64_t ref, int err,
	    const struct msg *ack, uint64_t now, struct signal_out *out);

/* The registry, borrowed (peer lookups, revocation: registry_forget). */
struct registry *signal_registry(struct signal *);

#endif
