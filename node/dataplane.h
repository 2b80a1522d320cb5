/* dataplane.h -- node data plane: tunnel table, DATA seal/open, UDP<->TUN. */
#ifndef NTM_NODE_DATAPLANE_H
#define NTM_NODE_DATAPLANE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "aead.h"
#include "buf.h"
#include "proto.h"
#include "rand.h"
#include "replay.h"

/*
 * The wire format is lib/proto.h's data-plane packet (PROTOCOL.md 10.1):
 *
 *   version | type | key phase | 0 | receiver id (32) | counter (64)
 *   ciphertext || tag (16)
 *
 * AAD = those 16 header bytes; nonce = 0x02 || type || 0x0000 || counter
 * (msg_data_nonce()).  The first counter a key sends is 1 (lib/replay.h
 * never accepts 0): "starts at 0, incremented per packet" in PROTOCOL.md
 * is read as "incremented before each packet".
 *
 * The pure half (dataplane_seal, dataplane_open, dataplane_route) touches
 * no socket and allocates nothing per packet.  The I/O half
 * (dataplane_io_*) runs them over a UDP socket per family and the TUN fd
 * under uv_poll_t with recvmmsg/sendmmsg batches from a preallocated pool.
 */

/* What happened to a received packet; an index into dataplane_stats.drops. */
enum dataplane_verdict {
	DATAPLANE_OK = 0,		/* authenticated and accepted */
	DATAPLANE_DROP_MALFORMED,	/* header, size, or inner IP framing */
	DATAPLANE_DROP_UNKNOWN_RID,	/* no tunnel has this receiver id */
	DATAPLANE_DROP_NO_KEY,		/* no receive key for the key phase */
	DATAPLANE_DROP_REPLAY,		/* counter seen or too old */
	DATAPLANE_DROP_AUTH,		/* tag did not verify */
	DATAPLANE_DROP_INNER_SRC,	/* not the peer's certified VIP */
	DATAPLANE_DROP_INNER_DST,	/* not one of our virtual IPs */
	DATAPLANE_DROP_NO_TUNNEL,	/* TUN packet to a VIP without tunnel */
	DATAPLANE_DROP_TX,		/* could not seal or send */
	DATAPLANE_VERDICT_COUNT,
};

enum dataplane_limit {
	DATAPLANE_LIMIT_INVALID = 0,
	DATAPLANE_OVERHEAD = PROTO_DATA_HEADER_LEN + PROTO_TAG_LEN,
	/* Largest inner packet handled; the TUN MTU is well below it. */
	DATAPLANE_INNER_MAX = 65535 - DATAPLANE_OVERHEAD,
	/* One pool slot: header, inner packet up to this, tag. */
	DATAPLANE_SLOT_SIZE = 2048,
	DATAPLANE_BATCH = 32,		/* packets per recvmmsg, TUN round */
	/* Datagrams per UDP GSO send, below UDP_MAX_SEGMENTS (64). */
	DATAPLANE_GSO_SEGMENTS = DATAPLANE_BATCH,
	DATAPLANE_CTRL_SIZE = 32,	/* >= CMSG_SPACE(sizeof(int)) */
	/* UDP GRO receive: messages per recvmmsg and one buffer each. */
	DATAPLANE_GRO_BATCH = 8,
	DATAPLANE_GRO_BUF = 65536,
	/* Packets one receive round may give: 64 per UDP GRO buffer. */
	DATAPLANE_TUN_GRO_PACKETS = DATAPLANE_GRO_BATCH * 64,
	DATAPLANE_TUNNELS_MAX = 65536,
	IPV4_HEADER_MIN = 20,
	IPV6_HEADER_LEN = 40,
	UDP_HEADER_LEN = 8,
	/* Payload bytes of one GSO send: one UDP datagram's worth. */
	DATAPLANE_GSO_BYTES = 65535 - IPV6_HEADER_LEN - UDP_HEADER_LEN,
};

struct dataplane_stats {
	uint64_t	packets_in;	/* delivered inner packets */
	uint64_t	bytes_in;	/* inner bytes delivered */
	uint64_t	packets_out;	/* sealed packets */
	uint64_t	bytes_out;	/* inner bytes sealed */
	uint64_t	drops[DATAPLANE_VERDICT_COUNT];	/* [0] unused */
};

/* Which handshake role we had: it decides which key we send with. */
enum dataplane_role {
	DATAPLANE_ROLE_INVALID = 0,
	DATAPLANE_ROLE_INITIATOR,	/* we send with k_I->R */
	DATAPLANE_ROLE_RESPONDER,	/* we send with k_R->I */
};

/*
 * Everything a tunnel starts with, from the Route Direction and the
 * handshake.  Keys are copied into AEAD contexts; the caller wipes its own
 * copies.  A zero has_vip4/has_vip6 means the peer's certificate holds no
 * address of that family, so no inner packet of that family is accepted
 * from it or routed to it.
 */
struct dataplane_tunnel_conf {
	uint32_t		 rid;		/* ours: peers send to it */
	uint32_t		 peer_rid;	/* the peer's: we send to it */
	enum aead_alg		 alg;
	enum dataplane_role	 role;
	uint8_t			 key_i2r[PROTO_KEY_LEN];
	uint8_t			 key_r2i[PROTO_KEY_LEN];
	bool			 has_vip4, has_vip6;
	uint8_t			 peer_vip4[4];
	uint8_t			 peer_vip6[16];
	struct sockaddr_storage	 peer_addr;	/* outer destination */
};

/* Our own virtual IPs: inner destinations we accept. */
struct dataplane_conf {
	bool		 has_vip4, has_vip6;
	uint8_t		 vip4[4];
	uint8_t		 vip6[16];
	size_t		 max_tunnels;	/* sizes the hash tables; 0: 1024 */
};

struct dataplane;
struct dataplane_tunnel;
struct tso_gro;

/*
 * dataplane_new: an empty table.  rng keys the hash of peer virtual IPs (so
 * no peer can choose addresses that collide).  Returns 0, -EINVAL or
 * -ENOMEM.  dataplane_free() frees the table and every tunnel in it.
 */
int	dataplane_new(struct dataplane **, const struct dataplane_conf *,
	    struct ntm_rng *);
void	dataplane_free(struct dataplane *);

/*
 * dataplane_rid_new: a random receiver id, non-zero and not in use, for a
 * tunnel whose Route Direction did not fix one.  0 or a negative errno.
 */
int	dataplane_rid_new(struct dataplane *, struct ntm_rng *, uint32_t *);

/*
 * dataplane_tunnel_add: a tunnel from conf, owned by the table.  *out (may
 * be NULL) is borrowed until dataplane_tunnel_remove() or dataplane_free().
 * Returns 0; -EINVAL (rid 0, no VIP, a peer VIP equal to one of ours, bad
 * keys); -EEXIST (rid, or a peer VIP already routed to another tunnel);
 * -ENOSPC (max_tunnels reached); -ENOMEM.
 */
int	dataplane_tunnel_add(struct dataplane *,
	    const struct dataplane_tunnel_conf *,
	    struct dataplane_tunnel **out);
/* Unlinks and frees the tunnel (keys wiped).  Accepts NULL. */
void	dataplane_tunnel_remove(struct dataplane *, struct dataplane_tunnel *);

struct dataplane_tunnel *dataplane_lookup_rid(const struct dataplane *,
	    uint32_t rid);
/* By the peer's virtual IP; family AF_INET (4 bytes) or AF_INET6 (16). */
struct dataplane_tunnel *dataplane_lookup_vip(const struct dataplane *,
	    int family, const uint8_t *addr);

const struct dataplane_stats *dataplane_tunnel_stats(
	    const struct dataplane_tunnel *);
/* Drops that belong to no tunnel (malformed, unknown rid, no tunnel). */
const struct dataplane_stats *dataplane_table_stats(const struct dataplane *);
/* The table's own counters plus every tunnel's, into *out. */
void	dataplane_stats_sum(const struct dataplane *, struct dataplane_stats *);
const char *dataplane_verdict_name(enum dataplane_verdict);
/* Where sealed packets go; the I/O half reads it, roaming will change it. */
const struct sockaddr *dataplane_tunnel_peer(const struct dataplane_tunnel *);
uint32_t dataplane_tunnel_rid(const struct dataplane_tunnel *);

/*
 * Roaming: where sealed packets go from now on.  Call only after an
 * authenticated TUNNEL_UPDATE (PROTOCOL.md 10.3) named the new address.
 */
void	dataplane_tunnel_set_peer(struct dataplane_tunnel *,
	    const struct sockaddr *);

/*
 * Rekeying (PROTOCOL.md 10.3), in three steps driven by the in-tunnel
 * REKEY exchange and its timer:
 *
 *   dataplane_tunnel_install()  after the new keys exist (epoch = current
 *       + 1, else -EINVAL): receives under the new key phase at once,
 *       with a fresh replay window; the key of two epochs ago goes.
 *       -EBUSY while an installed key waits for its switch.
 *   dataplane_tunnel_switch()   when this side starts sending with them:
 *       right after REKEY_RESPONSE as responder, on receiving it as
 *       initiator.  The counter restarts at 1.  -ENOENT if none installed.
 *   dataplane_tunnel_retire()   PROTO_TIMER_OLD_KEY after the switch:
 *       packets under the old key phase are dropped (NO_KEY) from now on.
 *
 * dataplane_tunnel_needs_rekey() is true once 2^PROTO_REKEY_PACKETS_LOG2
 * packets (or dataplane_tunnel_set_rekey()'s number) were sent under the
 * current key (the time limit is reported by the timers below).  An
 * install also drops an old key not yet retired (its slot is reused).
 * Keys are copied; the caller wipes its own.
 */
/*
 * A switch keeps the key sent with until then, so an answer that must
 * still open under it (a REKEY_RESPONSE sent again to a peer that has not
 * switched) can be sealed with dataplane_seal_old() until the retire, or
 * until the next install, whichever comes first.
 *
 * dataplane_tunnel_set_rekey: when this tunnel asks for a rekey: after ms
 * milliseconds or `packets` packets under one key (0: the protocol's 1 h
 * and 2^32; more than those: -EINVAL).  The responder asks
 * PROTO_TIMER_OLD_KEY later than the initiator, as above.
 */
int	dataplane_tunnel_set_rekey(struct dataplane_tunnel *, uint64_t ms,
	    uint64_t packets);
/* The newest installed key epoch (0 after the handshake). */
uint32_t dataplane_tunnel_epoch(const struct dataplane_tunnel *);
/* The key phase this side sends with now. */
uint8_t	dataplane_tunnel_tx_phase(const struct dataplane_tunnel *);
/* True between a switch and the retire (dataplane_seal_old works). */
bool	dataplane_tunnel_has_old_key(const struct dataplane_tunnel *);
int	dataplane_tunnel_install(struct dataplane_tunnel *, uint32_t epoch,
	    const uint8_t key_i2r[PROTO_KEY_LEN],
	    const uint8_t key_r2i[PROTO_KEY_LEN]);
int	dataplane_tunnel_switch(struct dataplane_tunnel *);
void	dataplane_tunnel_retire(struct dataplane_tunnel *);
bool	dataplane_tunnel_needs_rekey(const struct dataplane_tunnel *);

/*
 * Timers (PROTOCOL.md 10.3, 14), driven by named events in the manner of
 * WireGuard's timers.c.  `now` is one monotonic millisecond clock for all
 * calls on a table (the I/O half uses uv_now() of its loop).  Nothing here
 * arms a timer: dataplane_timers_due() says what is due and
 * dataplane_timers_next() when to ask again.
 *
 *   dataplane_timers_start()          after dataplane_tunnel_add(); keepalive
 *                                     when either side is behind NAT
 *   dataplane_timers_data_sent()      after sealing any packet
 *   dataplane_timers_data_received()  after dataplane_open() accepted one
 *   dataplane_timers_key_switched()   after dataplane_tunnel_switch()
 */
enum dataplane_timer_event {
	DATAPLANE_TIMER_NONE = 0,
	/* Nothing sent for PROTO_TIMER_TUNNEL_KEEPALIVE: send a keep-alive. */
	DATAPLANE_TIMER_KEEPALIVE = 1 << 0,
	/*
	 * The key is 1 h old or has sent 2^32 packets: start a rekey.  Reported
	 * once per key; the responder gets it PROTO_TIMER_OLD_KEY later than
	 * the initiator, so it steps in only when the initiator did not.
	 */
	DATAPLANE_TIMER_REKEY = 1 << 1,
	/* PROTO_TIMER_OLD_KEY after a switch: dataplane_tunnel_retire(). */
	DATAPLANE_TIMER_RETIRE = 1 << 2,
	/* Nothing received for PROTO_TIMER_TUNNEL_IDLE: remove the tunnel. */
	DATAPLANE_TIMER_IDLE = 1 << 3,
};

void	dataplane_timers_start(struct dataplane_tunnel *, uint64_t now,
	    bool keepalive);
void	dataplane_timers_data_sent(struct dataplane_tunnel *, uint64_t now);
void	dataplane_timers_data_received(struct dataplane_tunnel *,
	    uint64_t now);
void	dataplane_timers_key_switched(struct dataplane_tunnel *, uint64_t now);
/* Events due at now (enum dataplane_timer_event bits). */
unsigned dataplane_timers_due(struct dataplane_tunnel *, uint64_t now);
/* The earliest time at which dataplane_timers_due() can report more. */
uint64_t dataplane_timers_next(const struct dataplane_tunnel *, uint64_t now);

/*
 * dataplane_seal: builds one outer packet of `type` (PROTO_MSG_DATA or
 * PROTO_MSG_TUNNEL_CONTROL) in out: 16-byte header, then inner sealed,
 * then the tag; *outlen = inlen + DATAPLANE_OVERHEAD.  inner may already
 * sit at out + PROTO_DATA_HEADER_LEN (sealed in place, no copy) or
 * anywhere else that does not overlap the header.  Returns 0; -EINVAL (type,
 * empty or oversized inner); -ENOSPC (outcap); -EKEYEXPIRED when the send
 * counter is exhausted (rekey first); -EIO.  Counts packets_out/bytes_out.
 */
int	dataplane_seal(struct dataplane_tunnel *, uint8_t type,
	    const uint8_t *inner, size_t inlen, uint8_t *out, size_t outcap,
	    size_t *outlen);

/*
 * dataplane_seal_old: the same under the key sent with before the last
 * dataplane_tunnel_switch(), with that key's own counter (never reused);
 * -ENOENT once it is retired or when there was no switch.
 */
int	dataplane_seal_old(struct dataplane_tunnel *, uint8_t type,
	    const uint8_t *inner, size_t inlen, uint8_t *out, size_t outcap,
	    size_t *outlen);

/* A packet dataplane_open() accepted: pointers into the caller's buffer. */
struct dataplane_rx {
	struct dataplane_tunnel	*tunnel;	/* borrowed */
	uint8_t			 type;		/* DATA or TUNNEL_CONTROL */
	uint8_t			*inner;		/* plaintext, in place */
	size_t			 inner_len;	/* an IP packet's own length */
};

/*
 * dataplane_open: checks the header, finds the tunnel by receiver id,
 * checks the replay window, opens in place (pkt is modified), records the
 * counter, and for DATA checks the inner IPv4/IPv6 header: its length, the
 * source (the peer's certified virtual IP) and the destination (one of
 * ours).  `from` is where the datagram came from (kept for roaming; not
 * checked, since relayed packets come from the RS).  Returns DATAPLANE_OK
 * with *rx filled, or the drop reason, which is also counted (on the
 * tunnel when one was found, else on the table).  After a drop *rx is
 * empty if the packet did not authenticate; after an inner-check drop it
 * shows the authenticated packet that was refused (for logging).
 */
enum dataplane_verdict dataplane_open(struct dataplane *, uint8_t *pkt,
	    size_t len, const struct sockaddr *from, struct dataplane_rx *rx);

/* An inner IP packet's addresses, pointing into the packet. */
struct dataplane_ip {
	int		 family;	/* AF_INET or AF_INET6 */
	const uint8_t	*src, *dst;
	size_t		 len;		/* the packet's own length */
};

/* Inner IP header fields, as dataplane_ip_parse() walks them. */
enum dataplane_ip_field {
	DATAPLANE_IP_V4 = 4,
	DATAPLANE_IP_V6 = 6,
	DATAPLANE_IPV4_ADDR_LEN = 4,
	DATAPLANE_IPV6_ADDR_LEN = 16,
	DATAPLANE_IPV4_SKIP_TO_TOTAL = 1,	/* DSCP/ECN */
	/* id, flags, ttl, protocol, checksum */
	DATAPLANE_IPV4_SKIP_TO_SRC = 8,
	DATAPLANE_IPV6_SKIP_TO_PLEN = 3,	/* rest of class, flow label */
	DATAPLANE_IPV6_SKIP_TO_SRC = 2,		/* next header, hop limit */
};

/*
 * dataplane_ip_parse: an inner IPv4/IPv6 header's addresses and own length;
 * 0 or -EBADMSG.  IPv4: IHL of at least 5 words, total length covering the
 * header and inside the input.  IPv6: the fixed header and its payload
 * length inside the input (no jumbograms: the MTU is far below).  Inline:
 * the data plane runs it on every packet.
 */
static inline int
dataplane_ip_parse(const uint8_t *p, size_t len, struct dataplane_ip *ip)
{
	struct rbuf b;
	uint8_t vihl;
	uint16_t total, plen;
	size_t ihl;

	rbuf_init(&b, p, len);
	if (rbuf_get_u8(&b, &vihl) < 0)
		return -EBADMSG;
	switch (vihl >> 4) {
	case DATAPLANE_IP_V4:
		ihl = (size_t)(vihl & 0x0f) * 4;
		if (ihl < IPV4_HEADER_MIN ||
		    rbuf_skip(&b, DATAPLANE_IPV4_SKIP_TO_TOTAL) < 0 ||
		    rbuf_get_u16(&b, &total) < 0 ||
		    rbuf_skip(&b, DATAPLANE_IPV4_SKIP_TO_SRC) < 0 ||
		    rbuf_get_ptr(&b, &ip->src, DATAPLANE_IPV4_ADDR_LEN) < 0 ||
		    rbuf_get_ptr(&b, &ip->dst, DATAPLANE_IPV4_ADDR_LEN) < 0)
			return -EBADMSG;
		if (total < ihl || total > len)
			return -EBADMSG;
		ip->family = AF_INET;
		ip->len = total;
		return 0;
	case DATAPLANE_IP_V6:
		if (rbuf_skip(&b, DATAPLANE_IPV6_SKIP_TO_PLEN) < 0 ||
		    rbuf_get_u16(&b, &plen) < 0 ||
		    rbuf_skip(&b, DATAPLANE_IPV6_SKIP_TO_SRC) < 0 ||
		    rbuf_get_ptr(&b, &ip->src, DATAPLANE_IPV6_ADDR_LEN) < 0 ||
		    rbuf_get_ptr(&b, &ip->dst, DATAPLANE_IPV6_ADDR_LEN) < 0)
			return -EBADMSG;
		if ((size_t)plen > rbuf_left(&b))
			return -EBADMSG;
		ip->family = AF_INET6;
		ip->len = IPV6_HEADER_LEN + (size_t)plen;
		return 0;
	default:
		return -EBADMSG;
	}
}

/*
 * dataplane_route: the tunnel for an inner packet read from the TUN device,
 * by its destination; NULL (and the reason in *why) when the packet is not
 * IP, is truncated, its source is not one of our virtual IPs, or no tunnel
 * has its destination.  Counts nothing: the caller decides (a miss may
 * start a tunnel setup, DESIGN.md 7).
 */
struct dataplane_tunnel *dataplane_route(const struct dataplane *,
	    const uint8_t *inner, size_t len, enum dataplane_verdict *why);

/*
 * The I/O half.  One per process, embedded by its owner; the uv_poll_t
 * handles are embedded here, so the struct lives until the close callback
 * passed to dataplane_io_close() has run (dataplane_io_close() is needed
 * even after a failed start).  Sockets and the TUN fd are
 * borrowed (the owner closes them after that callback); -1 where a family
 * is not used.  Callbacks (all optional) get borrowed bytes valid only
 * during the call:
 *
 *   on_signal   a datagram on the tunnel port that is not DATA or
 *               TUNNEL_CONTROL (Tunnel Request/Response, RS cookies)
 *   on_control  the plaintext of an authenticated TUNNEL_CONTROL packet
 *   on_miss     a TUN packet to a virtual IP without a tunnel (setup
 *               trigger, DESIGN.md 7)
 *
 * It reports dataplane_timers_data_sent() and _data_received() itself,
 * with uv_now() of its loop as the clock.
 */
struct dataplane_io;
typedef void	(*dataplane_signal_cb)(struct dataplane_io *,
	    const uint8_t *, size_t, const struct sockaddr *from);
typedef void	(*dataplane_control_cb)(struct dataplane_io *,
	    struct dataplane_tunnel *, const uint8_t *, size_t,
	    const struct sockaddr *from);
typedef void	(*dataplane_miss_cb)(struct dataplane_io *, const uint8_t *,
	    size_t);
typedef void	(*dataplane_close_cb)(struct dataplane_io *);

struct dataplane_slot {
	struct sockaddr_storage	 addr;
	size_t			 len;
	uint8_t			 buf[DATAPLANE_SLOT_SIZE];
};

struct dataplane_io {
	struct dataplane	*dp;		/* borrowed */
	uv_loop_t		*loop;		/* borrowed; timer clock */
	int			 fd4, fd6, tunfd;	/* borrowed */
	uv_poll_t		 poll4, poll6, polltun;
	unsigned		 polls, nclosing;	/* handle bits */
	dataplane_signal_cb	 on_signal;
	dataplane_control_cb	 on_control;
	dataplane_miss_cb	 on_miss;
	dataplane_close_cb	 on_close;
	void			*arg;		/* for the owner's callbacks */
	/* Preallocated batch: DATAPLANE_BATCH slots and their headers. */
	struct dataplane_slot	*slots;
	struct mmsghdr		*msgs;
	struct iovec		*iovs;
	uint8_t			(*ctrl)[DATAPLANE_CTRL_SIZE]; /* cmsgs */
	bool			 gso;		/* UDP GSO sends */
	uint8_t			*grobuf;	/* UDP GRO receives when set */
	uint64_t		 gso_sends;	/* sends of 2+ datagrams */
	uint64_t		 gro_receives;	/* receives of 2+ datagrams */
	uint64_t		 tun_write_errors;
	/*
	 * TUN offloads (node/tun.h tun_open_offload): set by
	 * dataplane_io_start() when the TUN fd has IFF_VNET_HDR.  Reads go
	 * to tunbuf (a virtio_net_hdr and up to 64 KiB) and are split by
	 * node/tso.h into MTU-sized packets, each routed, checked and sealed
	 * as before; writes carry a virtio_net_hdr (below: coalesced).
	 */
	bool			 vnet;
	uint8_t			*tunbuf;
	uint64_t		 tso_reads;	/* reads of 2+ packets */
	uint64_t		 tso_drops;	/* reads tso_begin refused */
	/*
	 * Receive coalescing with offloads (node/tso.h tso_gro_*): the DATA
	 * packets a receive round opened are written to the TUN fd at its
	 * end, consecutive TCP segments of one flow as one super-segment.
	 */
	struct tso_gro		*tun_gro;
	uint64_t		 tun_gro_writes;	/* writes of 2+ packets */
	uint64_t		 tun_gro_packets;	/* packets in them */
};

/*
 * dataplane_io_start: allocates the pool and starts polling.  Returns 0 or
 * a negative errno (nothing left running then; call dataplane_io_close()
 * anyway to free the pool).
 */
int	dataplane_io_start(struct dataplane_io *, uv_loop_t *,
	    struct dataplane *, int fd4, int fd6, int tunfd);
/*
 * dataplane_io_gso: send each batch's packets to one peer as one UDP GSO
 * send (UDP_SEGMENT) instead of one datagram each.  Returns 0, or
 * -EOPNOTSUPP when the kernel lacks UDP_SEGMENT.
 *
 * GSO is on by default only when the TUN fd has offloads (io->vnet): a
 * read then gives dozens of equal pieces for one peer, and bench_tput
 * measured 5.6 -> 4.6 CPU s per GB (one stream) with it.  Without
 * offloads GSO and GRO are off by default: between two namespaces over
 * veth on a loaded two-CPU host, iperf3 through the tunnel measured no
 * clear gain from either or both (1.0-1.5 Gbit/s in every setting, run to
 * run noise larger than the difference), and GSO alone was slower in one
 * series.
 */
int	dataplane_io_gso(struct dataplane_io *, bool on);
/*
 * dataplane_io_gro: let the kernel coalesce received datagrams of one
 * sender (UDP_GRO); each is split here into its data packets.  Takes
 * DATAPLANE_GRO_BATCH * DATAPLANE_GRO_BUF bytes while on.  Returns 0,
 * -EOPNOTSUPP (kernel without UDP_GRO) or -ENOMEM.
 *
 * Worth turning on when the TUN fd has offloads (io->vnet): the peer's
 * GSO sends then arrive as one buffer each (the kernel does not split
 * them), and their TCP segments are coalesced again for the TUN write.
 * Six alternating 5 s iperf3 runs in the lab (kernel 6.18, load 4 to 6)
 * gave 1.9 to 2.3 tunnel CPU s per GB with it against 2.7 to 3.0
 * without, at the same or higher throughput.  It stays the owner's
 * choice (off after dataplane_io_start) so that dptest's "no gro" means
 * what it says.
 */
int	dataplane_io_gro(struct dataplane_io *, bool on);
/* Stops polling; cb runs once every handle is closed and the pool freed. */
void	dataplane_io_close(struct dataplane_io *, dataplane_close_cb cb);
/* Seals and sends one TUNNEL_CONTROL packet now.  0 or a negative errno. */
int	dataplane_io_send_control(struct dataplane_io *,
	    struct dataplane_tunnel *, const uint8_t *, size_t);
/* The same, sealed under the old key when `old` (dataplane_seal_old()). */
int	dataplane_io_send_control_key(struct dataplane_io *,
	    struct dataplane_tunnel *, const uint8_t *, size_t, bool old);

#endif
