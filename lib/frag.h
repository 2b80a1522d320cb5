/* frag.h -- splitting signalling messages into fragments and reassembling them per peer. */
#ifndef NTM_FRAG_H
#define NTM_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proto.h"

/*
 * DESIGN.md sections 4 and 12: no signalling datagram carries more than
 * 1200 bytes; a larger message goes as at most 16 fragments, reassembled
 * within 2 s and 16 KiB per peer.  The fragment sub-header on the wire
 * (message id u32, index u8, count u8) is lib/msg.c's business; this file
 * works on the decoded fields and the payload bytes.
 */
enum frag_limit {
	/* The protocol's limits (lib/proto.h). */
	FRAG_MAX_COUNT = PROTO_FRAGMENTS_MAX,	/* fragments per message */
	FRAG_PIECE_MAX = PROTO_DATAGRAM_MAX,	/* bytes per fragment, at most */
	FRAG_MESSAGE_MAX = PROTO_REASSEMBLY_MAX, /* bytes per message */
	FRAG_PEER_BYTES = PROTO_REASSEMBLY_MAX,	/* bytes held per peer */
	FRAG_TIMEOUT_MS = PROTO_TIMER_REASSEMBLY, /* from the first fragment */
	/* This table's own sizes. */
	FRAG_PEER_PARTIALS = 4,		/* partial messages per peer */
	FRAG_TABLE_SLOTS = 64,		/* partial messages in the table */
	FRAG_TABLE_CHUNKS = 256,	/* buffered fragments in the table */
};

/* One piece of a split message: bytes [off, off + len) of the input. */
struct frag_piece {
	size_t	off;
	size_t	len;
};

/*
 * Splits a message of msglen bytes into pieces of at most max_piece bytes
 * (the last one shorter), filling pieces[0 .. *count - 1].  Nothing is
 * copied or allocated.  A message of 0 bytes is one empty piece.  Returns 0,
 * -EINVAL when max_piece is 0 or above FRAG_PIECE_MAX, -EMSGSIZE when the
 * message is larger than FRAG_MESSAGE_MAX or needs more than FRAG_MAX_COUNT
 * pieces.
 */
int	frag_split(size_t msglen, size_t max_piece,
	    struct frag_piece pieces[FRAG_MAX_COUNT], unsigned *count);

/*
 * Whom a fragment came from: the datagram's source address and port.  IPv4
 * is stored as a v4-mapped IPv6 address, so the same peer seen through an
 * AF_INET socket and a dual-stack AF_INET6 socket gets the same key.
 */
struct frag_peer {
	uint8_t		addr[16];
	uint16_t	port;		/* host order */
};

/* Returns 0, or -EAFNOSUPPORT for a family other than AF_INET/AF_INET6. */
int	frag_peer_from_sockaddr(struct frag_peer *, const struct sockaddr *);
bool	frag_peer_equal(const struct frag_peer *, const struct frag_peer *);

/* Counters for the statistics a daemon shows (ntmctl). */
struct frag_stats {
	uint64_t	completed;	/* messages handed out */
	uint64_t	duplicates;	/* exact copies of a held fragment, ignored */
	uint64_t	invalid;	/* count/index/size out of range */
	uint64_t	inconsistent;	/* conflicting copy or count change */
	uint64_t	oversized;	/* message would pass FRAG_MESSAGE_MAX */
	uint64_t	expired;	/* partial messages dropped after 2 s */
	uint64_t	evicted;	/* partial messages dropped to make room */
};

struct frag_partial {
	struct frag_peer peer;
	uint32_t	msgid;
	uint64_t	started;	/* ms, arrival of its first fragment */
	uint64_t	seq;		/* creation order, for "oldest" */
	uint32_t	bytes;		/* payload bytes held */
	uint8_t		count;		/* 0: slot unused */
	uint8_t		have;		/* fragments held */
	uint16_t	chunk[FRAG_MAX_COUNT];	/* index into chunks + 1, 0: none */
	uint16_t	len[FRAG_MAX_COUNT];
};

/*
 * The reassembly table.  Caller-owned plain memory of fixed size (about
 * 310 KiB: allocate it once, or embed it, and frag_table_init() it); nothing
 * is allocated per fragment.  Limits, all enforced in frag_input():
 *
 * - a message has 1..16 fragments, each at most FRAG_PIECE_MAX bytes, and at
 *   most FRAG_MESSAGE_MAX bytes in total;
 * - a peer holds at most FRAG_PEER_PARTIALS partial messages and
 *   FRAG_PEER_BYTES payload bytes; the table holds at most FRAG_TABLE_SLOTS
 *   partial messages and FRAG_TABLE_CHUNKS fragments (the global cap,
 *   FRAG_TABLE_CHUNKS * FRAG_PIECE_MAX bytes);
 * - a partial message expires FRAG_TIMEOUT_MS after its first fragment
 *   arrived, however many fragments came since, so a slow drip cannot keep
 *   a slot.
 *
 * When a new fragment is valid but a limit is reached, the oldest partial
 * message is evicted: the peer's own oldest for the per-peer limits, the
 * table's oldest for the global ones; never the message the fragment
 * belongs to.  Evicting the oldest rather than refusing the newest lets a
 * peer that gave up on a message and sent a new one make progress, and a
 * flood from one peer only ever evicts that peer's own messages until the
 * whole table is full.
 *
 * A refused fragment changes nothing (apart from statistics): a fragment
 * whose count differs from the held message's, or which repeats a held
 * index with different bytes, is refused and the held message kept.
 */
struct frag_table {
	struct frag_partial slot[FRAG_TABLE_SLOTS];
	uint16_t	free_chunk[FRAG_TABLE_CHUNKS];
	uint16_t	nfree;
	uint64_t	next_seq;
	struct frag_stats stats;
	uint8_t		chunk[FRAG_TABLE_CHUNKS][FRAG_PIECE_MAX];
};

void	frag_table_init(struct frag_table *);

/*
 * Takes one fragment of message msgid from peer at time now (ms).  Returns:
 *   1  the message is complete: its bytes are in out[0 .. *outlen - 1] and
 *      the table no longer holds it;
 *   0  held (or an exact duplicate of a held fragment, ignored);
 *  -EINVAL    count is 0 or above FRAG_MAX_COUNT, index >= count, or the
 *             payload is larger than FRAG_PIECE_MAX;
 *  -EBADMSG   inconsistent with the held fragments of the same message;
 *  -EMSGSIZE  the message would be larger than FRAG_MESSAGE_MAX;
 *  -ENOSPC    complete, but larger than outcap (the message is dropped;
 *             an outcap of FRAG_MESSAGE_MAX never fails).
 * Expired partial messages are dropped first.  data is copied; out is the
 * caller's.
 */
int	frag_input(struct frag_table *, const struct frag_peer *, uint32_t msgid,
	    uint8_t index, uint8_t count, const void *data, size_t len,
	    uint64_t now, void *out, size_t outcap, size_t *outlen);

/* Drops partial messages whose time is up at now (ms). */
void	frag_expire(struct frag_table *, uint64_t now);
/* When frag_expire() next has work (ms), UINT64_MAX when nothing is held. */
uint64_t frag_next_expiry(const struct frag_table *);
/* Payload bytes and partial messages held for a peer. */
size_t	frag_peer_bytes(const struct frag_table *, const struct frag_peer *);
unsigned frag_peer_partials(const struct frag_table *,
	    const struct frag_peer *);

#endif
