/* sigio.h -- libuv UDP I/O for the DC's signalling on 4610: sockets, timer and persistence around dc/signal. */
#ifndef NTM_DC_SIGIO_H
#define NTM_DC_SIGIO_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "msg.h"

struct signal;
struct signal_fed;
struct signal_out;
struct signal_relay;

/*
 * One uv_udp_t per listen address (IPv6 sockets are IPV6_V6ONLY, so the
 * two families never alias), feeding every datagram to signal_input() and
 * executing what it returns:
 *
 *   send     uv_udp_try_send() on the socket the request arrived on (no
 *            queueing: a full socket buffer drops the answer, counted;
 *            the node retransmits);
 *   persist  nodes-table upserts, batched and written in one transaction
 *            on a libuv worker thread (uv_queue_work), never on the loop;
 *   timers   one uv_timer_t armed at signal_next_timer() after every
 *            event, firing signal_timer();
 *   fed      handed to the function of sigio_set_fed() (dc.c: the
 *            federation links), counted in fed_unsent without one;
 *   relay    handed to the function of sigio_set_relay() (dc.c: the
 *            links to the RS, dc/relay); without one the core is told
 *            at once that there is no RS (MN gets UNAVAILABLE), counted
 *            in relay_unsent.
 *
 * The protocol clock is uv_now() (ms, monotonic); ticket dates use time().
 */
enum sigio_limit {
	SIGIO_LIMIT_INVALID = 0,
	SIGIO_SOCKETS_MAX = 16,
	SIGIO_RECV_BUF = 2048,		/* more than PROTO_DATAGRAM_MAX */
	SIGIO_PERSIST_QUEUE_MAX = 4096, /* rows waiting for the worker */
};

struct sigio_stats {
	uint64_t	 truncated;	/* datagram larger than the buffer */
	uint64_t	 recv_errors;
	uint64_t	 send_errors;	/* try_send failed (EAGAIN, ...) */
	uint64_t	 persist_queued;
	uint64_t	 persist_dropped;	/* queue full, a vIP missing */
	uint64_t	 persist_written;
	uint64_t	 persist_errors;
	uint64_t	 relay_unsent;	/* RELAY_DIRECTION: no RS handler */
	uint64_t	 fed_unsent;	/* federation action, no handler */
};

struct sigio;

/*
 * sigio_start: binds a UDP socket to each of the n addresses and starts
 * receiving.  sig is borrowed (it must outlive the sigio); db_path (may be
 * NULL: no persistence) names the DC database, opened here, at start-up.
 * Returns 0 and *out, or a negative errno (libuv's) with nothing left
 * open.  Stop with sigio_close().
 */
int	sigio_start(struct sigio **out, uv_loop_t *, struct signal *sig,
	    const struct sockaddr_storage *listen, size_t n,
	    const char *db_path);
/*
 * sigio_close: closes the sockets and the timer; the struct is freed in
 * the last close callback (and after a persist batch in flight finished),
 * so the loop must run on.  Accepts NULL.
 */
void	sigio_close(struct sigio *);
/*
 * sigio_set_fed: fn gets each federation action of the core (borrowed for
 * the call; fn may call sigio_apply).  sigio_apply: carries out an out the
 * caller had the core fill (signal_remote_info, signal_remote_ack,
 * signal_handoff_input) and re-arms the timer.
 */
typedef void	(*sigio_fed_fn)(void *arg, const struct signal_fed *);
void	sigio_set_fed(struct sigio *, sigio_fed_fn fn, void *arg);
/*
 * sigio_set_relay: fn gets each RELAY_DIRECTION of the core (borrowed for
 * the call); the answer goes back through signal_relay_ack() and
 * sigio_apply().
 */
typedef void	(*sigio_relay_fn)(void *arg, const struct signal_relay *);
void	sigio_set_relay(struct sigio *, sigio_relay_fn fn, void *arg);
void	sigio_apply(struct sigio *, struct signal_out *out);
const struct sigio_stats *sigio_stats(const struct sigio *);
/* The address socket i is bound to (port 0 in the listen address: the one
 * the kernel picked).  0, -EINVAL for no such socket, or libuv's error. */
int	sigio_sockname(const struct sigio *, size_t i,
	    struct sockaddr_storage *);

/*
 * sigio_ticket_keys_load: gives the core every ticket key of the DC
 * database's ticket_keys table that has not expired at `now`, newest last
 * (the keyring keeps the newest two).  Start-up only (it reads SQLite on
 * the calling thread).  Returns how many keys were added, or a negative
 * errno.
 */
int	sigio_ticket_keys_load(struct signal *, const char *db_path,
	    time_t now);

/* Address conversions: 0, or -EAFNOSUPPORT. */
int	sigio_addr_from_sockaddr(struct msg_addr *, const struct sockaddr *);
int	sigio_addr_to_sockaddr(struct sockaddr_storage *,
	    const struct msg_addr *);

#endif
