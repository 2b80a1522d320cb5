/* dcclient.h -- node side of registration and keep-alive with the home DC (PROTOCOL.md 6.1, 7), sans-I/O. */
#ifndef NTM_NODE_DCCLIENT_H
#define NTM_NODE_DCCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "proto.h"
#include "replay.h"

struct aead;
struct frag_table;
struct ntm_rng;

/*
 * The registration client is pure: it consumes datagrams from the DC, the
 * time and random bytes, and emits typed actions that its owner drains
 * with dcclient_poll().  It opens no socket and reads no clock.
 *
 * Time: every `now` is milliseconds on the Unix epoch (the ticket's expiry
 * is a Unix date), non-decreasing between calls.
 *
 *   state       sends (retransmitted)       leaves on
 *   IDLE        -                           dcclient_start()
 *   HELLO       REG_HELLO {TICKET, NONCE}   REG_CHALLENGE -> REGISTERING
 *   REGISTERING REGISTRATION (k_N->DC)      REGISTRATION_ACK -> REGISTERED
 *   REGISTERED  KEEPALIVE every KEEPALIVE s a changed OBSERVED_ADDR, two
 *                                           thirds of the lifetime without
 *                                           an answer, a failed request,
 *                                           new local addresses -> HELLO
 *   BACKOFF     -                           retry timer -> HELLO
 *   NO_TICKET   -                           dcclient_set_ticket()
 *
 * Requests follow PROTOCOL.md 5.5: retransmitted byte for byte after 250,
 * 500, 1000, 2000 ms (5 sends), failed 4000 ms after the last send.  A
 * failed REG_HELLO or REGISTRATION goes to BACKOFF (1 s, doubling to 60 s,
 * or the DC's RETRY_AFTER); a failed KEEPALIVE starts a new registration at
 * once (a restarted DC forgot the session, PROTOCOL.md 7 step 6).  A
 * REG_CHALLENGE with BAD_TICKET or EXPIRED, or a ticket past its expiry,
 * goes to NO_TICKET: the owner must authenticate with the AS again.
 */
enum dcclient_state {
	DCCLIENT_STATE_INVALID = 0,
	DCCLIENT_IDLE,
	DCCLIENT_HELLO,
	DCCLIENT_REGISTERING,
	DCCLIENT_REGISTERED,
	DCCLIENT_BACKOFF,
	DCCLIENT_NO_TICKET,
};

enum dcclient_limit {
	DCCLIENT_LIMIT_INVALID = 0,
	DCCLIENT_OUTBOX = 4,			/* queued actions */
	DCCLIENT_BACKOFF_MIN_MS = 1000,
	DCCLIENT_BACKOFF_MAX_MS = 60000,
	/* Last send to failure (PROTOCOL.md 5.5). */
	DCCLIENT_FAIL_AFTER_MS = 4000,
	/* Sealed sends kept for resends: one per setup node/tunnel runs. */
	DCCLIENT_SENT_CACHE = 256,
};

enum dcclient_action_type {
	DCCLIENT_ACT_INVALID = 0,
	DCCLIENT_ACT_SEND,		/* send data[0..len) to the DC */
	DCCLIENT_ACT_REGISTERED,	/* a REGISTRATION_ACK arrived */
	DCCLIENT_ACT_LOST,		/* the registration ended; retrying */
	DCCLIENT_ACT_NEED_TICKET,	/* the ticket is refused or expired */
};

/* One action; data is a copy the owner may keep until the next poll. */
struct dcclient_action {
	enum dcclient_action_type type;
	uint8_t			 status;	/* LOST/NEED_TICKET: why */
	size_t			 len;
	uint8_t			 data[PROTO_DATAGRAM_MAX];
};

/* What the DC told us in the last REGISTRATION_ACK / KEEPALIVE_ACK. */
struct dcclient_reg {
	struct msg_addr		 observed;
	uint8_t			 nat;		/* enum proto_nat */
	uint32_t		 lifetime_s;
	uint32_t		 keepalive_s;
	uint64_t		 registered_at;	/* ms, the last ACK */
	uint64_t		 refreshed_at;	/* ms, the last answer */
	char			 fqdn[PROTO_FQDN_MAX + 1]; /* or "" */
	bool			 has_vip4, has_vip6;
	uint8_t			 vip4[4], vip6[16];
};

/* Counters for ntmctl status. */
struct dcclient_stats {
	uint64_t	 registrations;	/* REGISTRATION_ACKs accepted */
	uint64_t	 keepalives;	/* KEEPALIVE_ACKs accepted */
	uint64_t	 retransmits;
	uint64_t	 failures;	/* requests that got no answer */
	uint64_t	 dropped;	/* datagrams refused, any reason */
};

/*
 * The client.  Embedded by its owner; dcclient_init() before use,
 * dcclient_clear() to release (wipes the keys).  Not thread-safe.
 */
struct dcclient {
	enum dcclient_state	 state;
	struct ntm_rng		*rng;			/* borrowed */

	/* Ticket and K_ND from the AS (PROTOCOL.md 13). */
	uint8_t			 ticket[PROTO_TICKET_MAX];
	size_t			 ticket_len;
	uint8_t			 k_nd[PROTO_KEY_LEN];
	uint64_t		 ticket_expiry;		/* Unix seconds */

	/* The node's own addresses, tunnel port included. */
	struct msg_addr		 local[PROTO_ADDRS_MAX];
	size_t			 nlocal;
	uint32_t		 want_lifetime_s;	/* 0: not asked */
	uint32_t		 want_keepalive_s;

	/* The registration session (PROTOCOL.md 7). */
	uint8_t			 nonce_n[PROTO_RANDOM_LEN];
	uint8_t			 sid[PROTO_ID_LEN];
	struct aead		*k_tx;		/* k_N->DC */
	struct aead		*k_rx;		/* k_DC->N */
	uint64_t		 seq_tx;	/* last sequence number sent */
	struct replay_window	 rx_window;
	uint32_t		 txid_next;

	/* The one outstanding request, as first sent. */
	uint8_t			 req[PROTO_DATAGRAM_MAX];
	size_t			 req_len;
	uint8_t			 req_type;	/* 0: none */
	uint32_t		 req_txid;
	unsigned		 req_sends;
	uint64_t		 req_next;	/* next retransmission */
	uint64_t		 req_fail;	/* give up at */

	uint64_t		 keepalive_due;
	uint64_t		 backoff_until;
	uint32_t		 backoff_ms;

	struct dcclient_reg	 reg;
	struct dcclient_stats	 stats;

	struct dcclient_action	 outbox[DCCLIENT_OUTBOX];
	size_t			 out_head, out_n;

	/*
	 * dcclient_send_msg()'s sealed messages, for byte-exact resends: the
	 * same bytes sealed again under the same sequence number are the
	 * same datagram, so the number and the plaintext's hash are enough.
	 */
	struct {
		uint8_t		 type;
		uint32_t	 txid;
		uint64_t	 seq;		/* 0: free */
		uint8_t		 hash[PROTO_HASH_LEN];	/* of msg as given */
	}			 sent[DCCLIENT_SENT_CACHE];
	size_t			 sent_next;

	/*
	 * Reassembly of fragmented messages from the DC (PROTOCOL.md 11),
	 * allocated at the first fragment, freed by dcclient_clear().
	 */
	struct frag_table	*frag;
	uint8_t			*whole;		/* PROTO_REASSEMBLY_MAX */
};

void	dcclient_init(struct dcclient *, struct ntm_rng *);
void	dcclient_clear(struct dcclient *);		/* accepts NULL */
/*
 * Sets the ticket (copied, 34..512 bytes), K_ND (copied) and the ticket's
 * expiry (Unix seconds).  From NO_TICKET it returns to IDLE; in any other
 * state the current registration goes on and the next one uses the new
 * ticket.  Returns 0 or -EINVAL.
 */
int	dcclient_set_ticket(struct dcclient *, const void *ticket, size_t len,
	    const uint8_t k_nd[PROTO_KEY_LEN], uint64_t expiry);
/*
 * Sets the node's addresses (1..PROTO_ADDRS_MAX, copied, preferred first).
 * When registered (or registering) with other addresses, a new
 * registration starts at once (PROTOCOL.md 7 step 6).  Returns 0 or
 * -EINVAL.
 */
int	dcclient_set_addrs(struct dcclient *, const struct msg_addr *,
	    size_t n, uint64_t now);
/* Lifetime and keep-alive interval to ask for (0: let the DC choose). */
void	dcclient_set_wanted(struct dcclient *, uint32_t lifetime_s,
	    uint32_t keepalive_s);
/*
 * Starts registering (from IDLE, BACKOFF or REGISTERED: a new session).
 * Returns 0, -ENOKEY without a ticket (state NO_TICKET), -EKEYEXPIRED when
 * the ticket has expired (NO_TICKET, a NEED_TICKET action queued), or
 * -EDESTADDRREQ without local addresses.
 */
int	dcclient_start(struct dcclient *, uint64_t now);
/*
 * A datagram from the DC's address.  Returns 0 when it was taken, or a
 * negative code when it was dropped (counted in stats.dropped): a MSG_E_*
 * code, -EBADMSG (tag), -EALREADY (replay), -ENOMSG (no request waits for
 * this answer, wrong transaction id or session), -EPROTO (not a
 * registration message: ROUTE_DIRECTION and the like belong to the tunnel
 * code, which opens them with dcclient_open()).
 */
int	dcclient_input(struct dcclient *, const void *pkt, size_t len,
	    uint64_t now);
/* Runs the timers due at now (retransmission, keep-alive, refresh). */
void	dcclient_timer(struct dcclient *, uint64_t now);
/* When dcclient_timer() must run next, or UINT64_MAX for never. */
uint64_t dcclient_next_timer(const struct dcclient *);
/* Takes the oldest action into *a; false when there is none. */
bool	dcclient_poll(struct dcclient *, struct dcclient_action *a);

bool	dcclient_registered(const struct dcclient *);
const char *dcclient_state_name(enum dcclient_state);

/*
 * For the other node<->DC messages (DIRECTION_REQUEST, NTM_ACK,
 * STATUS_NOTICE_ACK out; ROUTE_DIRECTION, STATUS_NOTICE in) of the live
 * registration.  dcclient_seal() sets m's id (session id), sequence number
 * and, when m->hdr.txid is 0, a fresh transaction id, then encodes and
 * seals it under k_N->DC into out[cap].  dcclient_open() checks the
 * header, opens a sealed message from the DC in place (pkt is modified),
 * applies the replay window and decodes into *m (borrowing pkt).  Both
 * return 0, -ENOTCONN when there is no session, or the codec's and AEAD's
 * errors.  dcclient_open() refuses fragments (-EOPNOTSUPP); use
 * dcclient_open_at() where a message may be fragmented.
 */
int	dcclient_seal(struct dcclient *, struct msg *m, uint8_t *out,
	    size_t cap, size_t *outlen);
int	dcclient_open(struct dcclient *, uint8_t *pkt, size_t len,
	    struct msg *m);
/*
 * dcclient_open_at: dcclient_open() that also takes fragments (PROTOCOL.md
 * 11): each is opened and its sequence number marked on its own, then
 * held (-EINPROGRESS) until the message is whole; then 0 with *m decoded
 * from the client's reassembly buffer (borrowed until the next call that
 * reassembles).  `now` (ms) times out partial messages after 2 s.
 */
int	dcclient_open_at(struct dcclient *, uint8_t *pkt, size_t len,
	    uint64_t now, struct msg *m);
/*
 * dcclient_fragment: one fragment from the DC, already opened and its
 * sequence number marked: h its header (FRAGMENT set), body[0..len) its
 * plaintext.  Returns -EINPROGRESS when held, 0 with *m decoded (against
 * h's type, without the FRAGMENT flag) when the message is whole, -ENOMEM,
 * or lib/frag's and the codec's errors.  For openers outside this file
 * (node/tunnelio's Route Directions, whose header id is a path id).
 */
int	dcclient_fragment(struct dcclient *, const struct msg_header *h,
	    const uint8_t *body, size_t len, uint64_t now, struct msg *m);
/*
 * dcclient_send_msg: for node/tunnel's SEND_DC action.  msg[0..len) is a
 * whole message as msg_encode() writes it (sequence number 0, header id
 * zero, plaintext body, PROTO_TAG_LEN zero bytes).  The client sets the
 * next sequence number and the session id and seals it into out (cap at
 * least len).  With retransmit it writes instead the sealed bytes it made
 * for the same type and transaction id, byte for byte (PROTOCOL.md 5.5):
 * msg must be the bytes first given.  The last DCCLIENT_SENT_CACHE
 * messages are kept, and a new registration forgets them.  Returns 0;
 * -ENOTCONN without a session; -ENOENT for a retransmission of nothing
 * kept (or of other bytes); -EMSGSIZE above one datagram (messages
 * are not fragmented here); MSG_E_* for a header that does not check or
 * an unsealed type; -ENOSPC.
 */
int	dcclient_send_msg(struct dcclient *, const uint8_t *msg, size_t len,
	    bool retransmit, uint8_t *out, size_t cap, size_t *outlen);

/* HKDF-Expand labels of PROTOCOL.md 7 step 3 (no NUL). */
#define DCCLIENT_LABEL_N2DC	"ntmobile v1 node to dc"
#define DCCLIENT_LABEL_DC2N	"ntmobile v1 dc to node"

/*
 * The session keys of PROTOCOL.md 7 step 3, exported for tests and the DC
 * side: PRK = HKDF-Extract(nonce_N || cookie, K_ND), then the two
 * directions.  Returns 0 or -EINVAL.
 */
int	dcclient_derive(const uint8_t k_nd[PROTO_KEY_LEN],
	    const uint8_t nonce_n[PROTO_RANDOM_LEN],
	    const uint8_t cookie[PROTO_RANDOM_LEN],
	    uint8_t k_n2dc[PROTO_KEY_LEN], uint8_t k_dc2n[PROTO_KEY_LEN]);

#endif
