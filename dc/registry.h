/* registry.h -- DC table of registered nodes: FQDN -> virtual IPs, location, NAT state, session keys. */
#ifndef NTM_DC_REGISTRY_H
#define NTM_DC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "proto.h"
#include "replay.h"

struct ntm_rng;

/*
 * Soft state, in memory only (DESIGN.md 9): after a DC restart nodes
 * register again by themselves.  Two kinds of rows:
 *
 *   pending     a REG_HELLO was answered with a cookie; lives
 *               PROTO_TIMER_COOKIE ms, at most one per ticket id, found by
 *               session id (the REGISTRATION's header id) or ticket id;
 *   registered  the REGISTRATION opened; found by session id (every later
 *               message's header id) or FQDN (a peer's Direction Request),
 *               at most one per FQDN: a new registration replaces the old.
 *
 * Sized for a million nodes: chained hash tables that double as they fill,
 * entries allocated once per registration with the FQDN and addresses in
 * the same block, the session keys as 32 raw bytes per direction (AEAD
 * handles are made per message by dc/signal, not held by a million
 * entries), and registered entries in one list ordered by expiry (every
 * refresh grants the same lifetime, so moving to the tail keeps it
 * sorted).  Lookups allocate nothing.
 *
 * Zone hooks: registry_add() calls node_set with the node's FQDN and
 * virtual IPs as text (dc/zone.h zone_node_set does nothing when they are
 * unchanged); registry_forget() calls node_remove.  Expiry calls neither:
 * a node's virtual IPs stay assigned and in DNS while it is away.
 */
struct registry_hooks {
	int	(*node_set)(void *arg, const char *fqdn, const char *vip4,
		    const char *vip6);
	int	(*node_remove)(void *arg, const char *fqdn);
	void	*arg;
};

struct registry_link {
	struct registry_link *next;
};

/*
 * How long dc/signal re-sends a cached answer (its SIGNAL_CACHE_MS, which
 * test_registry checks is the same); registry_refresh() frees older ones.
 */
enum registry_cache_limit {
	REGISTRY_CACHE_INVALID = 0,
	REGISTRY_CACHE_MS = 8000,
};

/*
 * The last answer sent on a registration, re-sent for a duplicate request.
 * Sizes are 32-bit: a sealed signalling answer is one datagram.
 */
struct registry_cache {
	uint8_t		*bytes;
	uint64_t	 req_seq;	/* sequence number of the request */
	uint64_t	 sent;		/* ms */
	uint32_t	 len;		/* 0: nothing cached */
	uint32_t	 cap;
	uint8_t		 req_type;
};

enum registry_flag {
	REGISTRY_F_VIP4 = 0x01,
	REGISTRY_F_VIP6 = 0x02,
	REGISTRY_F_NAT = 0x04,		/* observed is no registered address */
	REGISTRY_F_PROVEN = 0x08,	/* observed answered the cookie */
};

/*
 * A registered node.  The registry owns it; pointers returned by lookups
 * are borrowed until the next registry_add(), registry_expire(),
 * registry_remove() or registry_forget().  dc/signal updates the
 * location, counters, replay window and cache in place.
 *
 * A million of these live in a DC, so the layout is packed (264 bytes on
 * LP64, checked by test_registry): 8-byte members first, then byte arrays
 * and the 2-byte aligned addresses, no holes; the signalling replay window
 * is the 128-wide one (lib/replay.h, 32 bytes, not the data plane's 272);
 * nothing is kept that nobody reads (the ticket id, registration and
 * last-seen times: the last message opened was at expires - lifetime).
 */
struct registry_entry {
	struct registry_link	 by_sid;
	struct registry_link	 by_fqdn;
	struct registry_entry	*exp_prev, *exp_next;
	uint64_t		 tx_seq;	/* last sequence number sent */
	uint64_t		 expires;	/* ms */
	struct replay_window_sig replay;	/* node -> DC sequence nos. */
	struct registry_cache	 cache;
	uint8_t			 sid[PROTO_ID_LEN];
	uint8_t			 key_rx[PROTO_KEY_LEN];	/* k_N->DC */
	uint8_t			 key_tx[PROTO_KEY_LEN];	/* k_DC->N */
	uint8_t			 vip6[16];
	uint8_t			 vip4[4];
	struct msg_addr		 observed;
	uint8_t			 serial[PROTO_SERIAL_MAX];
	uint8_t			 serial_len;
	uint8_t			 flags;		/* enum registry_flag */
	uint8_t			 nlocal;
	uint8_t			 fqdn_len;
	/* nlocal addresses, then the FQDN and a NUL. */
	struct msg_addr		 local[];
};

/* A pending registration: the DC's half of the cookie round trip. */
struct registry_pending {
	struct registry_link	 by_sid;
	struct registry_link	 by_ticket;
	struct registry_pending	*fifo_next;
	struct registry_pending	**fifo_pprev;
	uint8_t			 sid[PROTO_ID_LEN];
	uint8_t			 ticket_id[16];
	uint8_t			 k_nd[PROTO_KEY_LEN];
	uint8_t			 nonce[PROTO_RANDOM_LEN];	/* nonce_N */
	uint8_t			 cookie[PROTO_RANDOM_LEN];
	uint32_t		 txid;		/* of the REG_HELLO */
	uint64_t		 created;	/* ms */
	uint64_t		 ticket_expiry;
	struct msg_addr		 from;		/* REG_HELLO source */
	uint8_t			 vip4[4];
	uint8_t			 vip6[16];
	uint8_t			 serial[PROTO_SERIAL_MAX];
	uint8_t			 serial_len;
	uint8_t			 flags;		/* REGISTRY_F_VIP4/6 */
	uint8_t			 fqdn_len;
	char			 fqdn[PROTO_FQDN_MAX + 1];
};

/* What registry_add() needs; copied. */
struct registry_node {
	const struct registry_pending *p;	/* identity, K_ND, cookie */
	const uint8_t		*key_rx;
	const uint8_t		*key_tx;
	const struct msg_addr	*local;
	size_t			 nlocal;
	struct msg_addr		 observed;
	bool			 proven;
};

struct registry_stats {
	uint64_t	 registered;	/* registry_add() calls */
	uint64_t	 replaced;	/* ... that superseded an older one */
	uint64_t	 expired;
	uint64_t	 pending_expired;
	uint64_t	 pending_replaced;
	uint64_t	 zone_errors;	/* node_set / node_remove failures */
};

struct registry;

/*
 * registry_new: an empty registry whose entries live lifetime_ms after
 * each refresh.  The hooks are copied (NULL members: not called); rng
 * seeds the hash keys.  The caller frees it with registry_free(), which
 * wipes every key.
 */
int	registry_new(struct registry **, uint64_t lifetime_ms,
	    const struct registry_hooks *, struct ntm_rng *);
void	registry_free(struct registry *);		/* accepts NULL */
uint64_t registry_lifetime(const struct registry *);
const struct registry_stats *registry_stats(const struct registry *);

/*
 * registry_add: a registration completed at `now`: makes the entry, drops
 * any older registration of the same FQDN, calls the zone hook.  The
 * pending row is not touched (remove it after).  Returns 0 and *out
 * (borrowed), -EINVAL (more than PROTO_ADDRS_MAX addresses) or -ENOMEM.
 */
int	registry_add(struct registry *, const struct registry_node *,
	    uint64_t now, struct registry_entry **out);
struct registry_entry *registry_find_sid(const struct registry *,
	    const uint8_t sid[PROTO_ID_LEN]);
struct registry_entry *registry_find_fqdn(const struct registry *,
	    const char *fqdn, size_t len);
const char *registry_entry_fqdn(const struct registry_entry *);
/*
 * Call after a new message of e's node opened (not for a retransmission):
 * pushes the expiry out, and frees the cached answer when it is
 * REGISTRY_CACHE_MS old or older, since no retransmission gets it then and
 * the next answer replaces it anyway.  Without that, the cache's buffer
 * stays the size of the largest answer the node ever got (a Route
 * Direction: about 700 bytes against 150 for a REGISTRATION_ACK), for
 * every node that ever asked for a tunnel.
 */
void	registry_refresh(struct registry *, struct registry_entry *,
	    uint64_t now);
void	registry_remove(struct registry *, struct registry_entry *);
/* A node that must go (revoked): remove its registration and its DNS names. */
int	registry_forget(struct registry *, const char *fqdn);
/*
 * Removes entries (and pending rows) whose time is up at `now`, calling
 * cb (may be NULL) for each registered one before it goes.  Returns how
 * many registrations expired.
 */
size_t	registry_expire(struct registry *, uint64_t now,
	    void (*cb)(const struct registry_entry *, void *), void *arg);
/* When registry_expire() next has work (ms); UINT64_MAX: nothing held. */
uint64_t registry_next_expiry(const struct registry *);
size_t	registry_count(const struct registry *);

/*
 * Pending rows.  registry_pending_add copies *p (created, sid and ticket id
 * set by the caller), replacing a pending row of the same ticket id.
 * Returns 0 and *out, -ENOSPC when REGISTRY_PENDING_MAX rows are held
 * (after dropping expired ones), -ENOMEM.
 */
enum {
	REGISTRY_PENDING_MAX = 1 << 17,
};
int	registry_pending_add(struct registry *,
	    const struct registry_pending *p, struct registry_pending **out);
struct registry_pending *registry_pending_find_sid(const struct registry *,
	    const uint8_t sid[PROTO_ID_LEN]);
struct registry_pending *registry_pending_find_ticket(
	    const struct registry *, const uint8_t ticket_id[16]);
void	registry_pending_remove(struct registry *, struct registry_pending *);
size_t	registry_pending_count(const struct registry *);

/* Text of a virtual IP for the zone and the nodes table. */
int	registry_vip_text(const struct registry_entry *, char *v4, size_t v4len,
	    char *v6, size_t v6len);

#endif
