/* outbox.h -- AS notices to DCs: a durable outbox with per-DC cursors and a sans-I/O delivery window. */
#ifndef NTM_AS_OUTBOX_H
#define NTM_AS_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct db;

/*
 * Every issuance, revocation and status refresh is queued here, in the same
 * transaction as the row it announces, for one DC (the node's home DC) or
 * for all (OUTBOX_ALL: revocations).  Each notice gets a sequence number
 * from one counter that never goes back, even after pruning (the table is
 * AUTOINCREMENT), so seqs are increasing per DC though not contiguous: a DC
 * sees the gaps left by other DCs' notices.  SQLite has one writer at a
 * time and a seq is drawn under the write lock held to commit, so notices
 * become visible in seq order: a cursor never passes a seq that commits
 * later.
 *
 * Delivery is at least once and in seq order.  A DC acknowledges by seq
 * ("everything for me up to seq is applied") and keeps the last seq it
 * applied; it drops, and acknowledges again, any notice with a seq at or
 * below it.  So a notice sent twice -- after a reconnect, after an AS
 * restart, or when the AS crashed between a DC's ack and writing it -- is
 * applied once, as far as the DC can tell.
 *
 * Acks are written to dc_cursors with outbox_ack(), at once or in batches
 * (outbox_conn_persist()).  What a crash costs: an ack received but not yet
 * written is lost, so the DC is sent those notices again and ignores them
 * by seq; a notice committed but not yet sent is sent after the restart.
 * Nothing committed is ever lost, nothing rolled back is ever sent.
 *
 * DCs are registered (outbox_dc_add) from the AS configuration; a new DC's
 * cursor starts at 0, so it receives every notice still kept.  Notices that
 * every DC concerned has acknowledged are removed by outbox_prune(); bringing
 * a DC added later up to the current state (all live revocations) is the
 * transport's job on its first connection, not the outbox's.
 */
#define OUTBOX_ALL	"*"

enum outbox_kind {
	OUTBOX_KIND_INVALID = 0,
	OUTBOX_KIND_ISSUED,	/* payload: the certificate (DER) */
	OUTBOX_KIND_REVOKED,	/* payload: the revoked status (DER) */
	OUTBOX_KIND_STATUS,	/* payload: a refreshed status (DER) */
	OUTBOX_KIND_TICKET_KEY,	/* payload: the key id, u32 big-endian;
				 * serial: the id as 32 hex digits (as/tkey.h) */
};

enum outbox_limits {
	OUTBOX_LIMITS_INVALID = 0,
	OUTBOX_DC_MAX = 63,		/* bytes of a DC name */
	OUTBOX_SERIAL_LEN = 32,		/* lower-case hex, 128 bits */
	OUTBOX_PAYLOAD_MAX = 16 * 1024,
	OUTBOX_WINDOW_MAX = 256,	/* notices in flight per DC */
	OUTBOX_WINDOW_DEFAULT = 32,
	OUTBOX_ACK_TIMEOUT_MS = 10000,	/* oldest unacked notice, then reset */
};

/* "issued", "revoked", "status", "ticket_key"; NULL for anything else. */
const char	*outbox_kind_name(enum outbox_kind);
/* A DC name: 1..OUTBOX_DC_MAX bytes of [a-z0-9.-], starting alphanumeric. */
bool		 outbox_dc_valid(const char *dc);

/*
 * Database functions: they take a database opened with schema_as and
 * return 0 (or a count) or a negative errno; -EINVAL for invalid arguments.
 */

/* Registers a DC with cursor 0 (-EEXIST if known). */
int	 outbox_dc_add(struct db *, const char *dc);
/*
 * Forgets a DC: its cursor and the notices addressed to it alone, so it no
 * longer holds back pruning.  -ENOENT if unknown.
 */
int	 outbox_dc_remove(struct db *, const char *dc);

/*
 * outbox_add: queues a notice for `dc` (a registered DC, or OUTBOX_ALL) about
 * certificate `serial` (32 lower-case hex digits).  It opens no transaction:
 * call it inside the caller's, between db_begin() and db_commit(), so the
 * certificate, revocation or status row and its notice commit or vanish
 * together.  `payload` (1..OUTBOX_PAYLOAD_MAX bytes) is copied.  *seq (may be
 * NULL) receives the notice's seq.  -ENOENT for an unregistered DC,
 * -EMSGSIZE for a payload over the limit.
 */
int	 outbox_add(struct db *, const char *dc, enum outbox_kind,
	    const char *serial, const void *payload, size_t len, time_t now,
	    uint64_t *seq);

/* A notice as read back; every pointer is borrowed for the callback only. */
struct outbox_notice {
	uint64_t		 seq;
	const char		*dc;		/* the DC, or OUTBOX_ALL */
	enum outbox_kind	 kind;
	const char		*serial;
	const uint8_t		*payload;
	size_t			 len;
	int64_t			 created;	/* unix seconds */
};

/* Returns 0 to go on; anything else stops the walk and is returned. */
typedef int	(*outbox_cb)(const struct outbox_notice *, void *arg);

/*
 * outbox_pending: calls `cb` for each notice for `dc` (addressed to it or to
 * OUTBOX_ALL) with seq > after_seq, in seq order, at most `max` of them.
 * Returns how many were passed to cb, the callback's non-zero value if it
 * stopped the walk, or a negative errno (-ENOENT: unregistered DC).  Fewer
 * than `max` means there is nothing more for now.
 */
int	 outbox_pending(struct db *, const char *dc, uint64_t after_seq,
	    size_t max, outbox_cb cb, void *arg);

/*
 * outbox_ack: records that `dc` has applied everything up to `seq`.  The
 * cursor only moves forward: 0 when it moved; -EALREADY when seq is not
 * above the stored cursor (a duplicate or late ack, ignored); -ERANGE when
 * seq is above every seq ever issued (the DC is confused or lying: nothing
 * is written); -ENOENT for an unregistered DC.  Batching several acks in one
 * of the caller's transactions is fine.
 */
int	 outbox_ack(struct db *, const char *dc, uint64_t seq);
/* The stored cursor of `dc` (-ENOENT if unregistered). */
int	 outbox_cursor(struct db *, const char *dc, uint64_t *seq);

/*
 * outbox_dcs: calls `cb` with each registered DC and its cursor, by name,
 * so the AS can reconcile the registry with its configuration.  `dc` is
 * borrowed for the call.  Returns the count, the callback's non-zero value
 * if it stopped the walk, or a negative errno.
 */
typedef int	(*outbox_dc_cb)(const char *dc, uint64_t cursor, void *arg);
int	 outbox_dcs(struct db *, outbox_dc_cb cb, void *arg);

/*
 * outbox_prune: deletes the notices every DC concerned has acknowledged (a
 * DC's own notices once it has; OUTBOX_ALL ones once every registered DC
 * has; none of those while no DC is registered).  *removed may be NULL.
 */
int	 outbox_prune(struct db *, size_t *removed);

/*
 * Delivery to one DC over one channel, sans I/O.  The caller owns the
 * channel, the database and the clock (milliseconds, any monotonic origin),
 * and drives it as:
 *
 *   outbox_conn_init()        once per configured DC, with its stored cursor
 *   outbox_conn_connected()   the channel to the DC is up (again)
 *   outbox_conn_next()        what to do now:
 *     SEND   outbox_pending(db, dc, step.after_seq, step.max, ...), write
 *            each notice to the channel and call outbox_conn_sent(); if
 *            fewer than step.max came, outbox_conn_drained(step.gen)
 *     WAIT   window full or nothing new: wait for an ack, a kick, or
 *            step.deadline, then ask again
 *     RESET  the oldest notice in flight got no ack in time: close the
 *            channel, outbox_conn_disconnected(), reconnect later
 *     IDLE   not connected, or nothing in flight and nothing new
 *   outbox_conn_acked()       an ack arrived from the DC
 *   outbox_conn_kick()        a notice for this DC (or OUTBOX_ALL) committed
 *   outbox_conn_persist()     an ack to write: outbox_ack() (batched as the
 *                             caller likes), then outbox_conn_persisted()
 *   outbox_conn_disconnected() the channel went down: what was in flight is
 *                             sent again from the last ack on reconnect
 *
 * At most `window` notices are unacknowledged at once.  The struct is
 * embedded by its owner (no allocation); fields are private.
 */
enum outbox_action {
	OUTBOX_ACT_INVALID = 0,
	OUTBOX_ACT_IDLE,
	OUTBOX_ACT_SEND,
	OUTBOX_ACT_WAIT,
	OUTBOX_ACT_RESET,
};

/*
 * SEND: fetch at most `max` notices above `after_seq`, and pass `gen` to
 * outbox_conn_drained().  WAIT (and SEND with notices in flight): `deadline`
 * is when to ask again at the latest; 0 when there is none.
 */
struct outbox_step {
	enum outbox_action	 action;
	uint64_t		 after_seq;
	size_t			 max;
	uint64_t		 gen;
	uint64_t		 deadline;
};

struct outbox_flight {
	uint64_t	 seq;
	uint64_t	 sent_at;
};

struct outbox_conn {
	unsigned int		 window;
	uint64_t		 ack_timeout_ms;
	bool			 connected;
	bool			 drained;	/* nothing new until a kick */
	uint64_t		 gen;		/* kicks so far */
	uint64_t		 acked;		/* highest seq DC applied */
	uint64_t		 persisted;	/* highest ack stored */
	uint64_t		 sent;		/* highest seq sent */
	struct outbox_flight	 flight[OUTBOX_WINDOW_MAX];	/* ring */
	size_t			 head;
	size_t			 inflight;
};

/*
 * `cursor` is the stored cursor (outbox_cursor).  window 0 means
 * OUTBOX_WINDOW_DEFAULT, more than OUTBOX_WINDOW_MAX is clamped;
 * ack_timeout_ms 0 means OUTBOX_ACK_TIMEOUT_MS.
 */
void	 outbox_conn_init(struct outbox_conn *, uint64_t cursor,
	    unsigned int window, uint64_t ack_timeout_ms);
/*
 * Starts a session from the later of the last ack and `cursor`.  When the DC
 * opens the session by telling the last seq it applied, record that first
 * with outbox_ack() (which refuses a seq never issued) and pass the cursor
 * it leaves: the DC is then not sent what it already has.
 */
void	 outbox_conn_connected(struct outbox_conn *, uint64_t cursor);
void	 outbox_conn_disconnected(struct outbox_conn *);
void	 outbox_conn_kick(struct outbox_conn *);
void	 outbox_conn_next(const struct outbox_conn *, uint64_t now,
	    struct outbox_step *);
/*
 * After notice `seq` was written to the channel.  -ENOTCONN when not
 * connected, -ENOBUFS when the window is full, -EINVAL when seq does not
 * follow the last one sent (notices go out in seq order).
 */
int	 outbox_conn_sent(struct outbox_conn *, uint64_t seq, uint64_t now);
/* The fetch made for step.gen came back short: nothing more for now. */
void	 outbox_conn_drained(struct outbox_conn *, uint64_t gen);
/*
 * The DC applied everything up to `seq`: 0 when the ack moved forward,
 * -EALREADY for a duplicate or older ack (ignored), -ERANGE for a seq above
 * anything sent in this session (ignored: the DC cannot have it),
 * -ENOTCONN when not connected.
 */
int	 outbox_conn_acked(struct outbox_conn *, uint64_t seq);
/* true and *seq when an ack is not yet written to the database. */
bool	 outbox_conn_persist(const struct outbox_conn *, uint64_t *seq);
void	 outbox_conn_persisted(struct outbox_conn *, uint64_t seq);

#endif
