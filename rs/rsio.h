/* rsio.h -- the RS's UDP I/O: non-blocking sockets under uv_poll_t, recvmmsg/sendmmsg batches into rs/relay. */
#ifndef NTM_RS_RSIO_H
#define NTM_RS_RSIO_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct msg_addr;
struct relay;
struct rsio;

enum rsio_limit {
	RSIO_LIMIT_INVALID = 0,
	RSIO_BATCH = 32,		/* datagrams per recvmmsg */
	RSIO_ROUNDS = 8,		/* batches per wakeup per socket */
	RSIO_SLOT_SIZE = 2048,		/* DATAPLANE_SLOT_SIZE */
	RSIO_SOCKETS_MAX = 8,
};

/* Counters of the I/O half (the relay counts its decisions). */
struct rsio_stats {
	uint64_t	 received;	/* datagrams */
	uint64_t	 received_bytes;
	uint64_t	 truncated;	/* larger than a slot */
	uint64_t	 sent;		/* datagrams, forwards and cookies */
	uint64_t	 sent_bytes;
	uint64_t	 send_errors;	/* refused by the socket: dropped */
};

/*
 * rsio_start: one UDP socket per listen address (loop_udp_socket), polled
 * on loop; every datagram goes through relay_input() with uv_now() and
 * the answer (forward unchanged, cookie) leaves from a socket of the
 * destination's family: the one bound to that family's advertised
 * address when there is one (the address nodes bound to), else the
 * first of that family.  A 1 s timer runs relay_expire().  The memory is
 * preallocated here: one batch of slots, no allocation per packet.
 * relay and the addresses are borrowed and must outlive the rsio.
 * Returns 0 or a negative errno, naming the failing address in a log
 * line; after a failure rsio_close() still releases what was made.
 */
int	rsio_start(struct rsio **out, uv_loop_t *loop, struct relay *relay,
	    const struct sockaddr_storage *listen, size_t nlisten,
	    const struct msg_addr *advertised, size_t nadvertised);
/* Stops polling and closes the sockets; memory goes in the close callbacks. */
void	rsio_close(struct rsio *);
const struct rsio_stats *rsio_stats(const struct rsio *);

#endif
