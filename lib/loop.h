/* loop.h -- libuv glue every daemon shares: signals, shutdown, UDP sockets, address text. */
#ifndef NTM_LOOP_H
#define NTM_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

/*
 * One struct loop per process, embedded in the daemon's environment struct
 * and living as long as the uv_loop_t (which it borrows).  It owns three
 * uv_signal_t handles, unreferenced, so they never keep the loop alive on
 * their own:
 *
 *   SIGINT, SIGTERM  with no on_stop callback: stop the loop (loop_run()
 *                    returns the signal number).  With on_stop: call it, and
 *                    the daemon calls loop_stop() when its graceful shutdown
 *                    is done; a second SIGINT/SIGTERM stops the loop at once.
 *   SIGHUP           call on_reload (configuration reload); ignored without.
 *
 * loop_init() also ignores SIGPIPE for the process: a peer closing a TLS or
 * control connection must show up as EPIPE, not kill the daemon.
 */
struct loop;
typedef void	(*loop_cb)(struct loop *, void *arg);

enum loop_signal_slot {
	LOOP_SIGNAL_INT,
	LOOP_SIGNAL_TERM,
	LOOP_SIGNAL_HUP,
	LOOP_SIGNAL_COUNT,
};

struct loop {
	uv_loop_t	*uv;			/* borrowed */
	uv_signal_t	 sig[LOOP_SIGNAL_COUNT];
	loop_cb		 on_reload;
	loop_cb		 on_stop;
	void		*arg;			/* borrowed, given to the callbacks */
	int		 stop_signal;		/* signal that stopped, or 0 */
	bool		 stopping;		/* on_stop was called */
};

/*
 * Returns 0 or a negative errno (libuv's codes are negative errnos).  After
 * a failure, loop_shutdown() still closes what was set up.
 */
int	loop_init(struct loop *, uv_loop_t *, loop_cb on_reload,
	    loop_cb on_stop, void *arg);
/*
 * Runs the loop until loop_stop(), a stop signal, or nothing is left to do.
 * Returns the signal number that stopped it, or 0.
 */
int	loop_run(struct loop *);
void	loop_stop(struct loop *);
/*
 * Shutdown: closes every handle on the loop that is not already closing
 * (ours and any left over, with no close callback), runs the loop until
 * every pending close callback has run, then closes the loop.  Owners whose
 * memory is freed in a close callback must uv_close() their handles with
 * that callback before calling this; those callbacks still run here.
 * Returns 0, or UV_EBUSY if requests (uv_queue_work) are still pending.
 */
int	loop_shutdown(struct loop *);

/*
 * Non-blocking UDP socket for uv_poll_t use (the data plane and the RS run
 * their own recvmmsg/sendmmsg batches): SOCK_NONBLOCK | SOCK_CLOEXEC,
 * IPV6_V6ONLY on for AF_INET6 (one socket per family, so a v4-mapped
 * address never aliases an IPv4 peer), receive and send buffers of
 * LOOP_UDP_BUFSIZE (SO_RCVBUFFORCE / SO_SNDBUFFORCE, which pass
 * net.core.[rw]mem_max with CAP_NET_ADMIN; without it SO_RCVBUF / SO_SNDBUF,
 * which the kernel caps there), optional SO_REUSEADDR, optional
 * destination-address ancillary data (so a reply leaves from the address
 * the request came to), optionally never fragmenting, bound to sa.  On
 * success *fdp is the caller's to close.
 */
enum loop_udp_flag {
	LOOP_UDP_REUSEADDR = 1 << 0,
	LOOP_UDP_PKTINFO = 1 << 1,	/* IP_PKTINFO / IPV6_RECVPKTINFO */
	/*
	 * Never fragment (RFC 9715): IPv4 datagrams carry DF and neither
	 * family fragments locally or shrinks to a path MTU learned from
	 * ICMP, which anyone can forge (IP_PMTUDISC_PROBE /
	 * IPV6_PMTUDISC_PROBE).  A datagram above the interface MTU fails
	 * with EMSGSIZE.  For answers that fit 1280 bytes, such as DNS's.
	 */
	LOOP_UDP_DONTFRAG = 1 << 2,
};
enum { LOOP_UDP_BUFSIZE = 4 * 1024 * 1024 };

int	loop_udp_socket(const struct sockaddr *sa, unsigned flags, int *fdp);

/*
 * Address text, shared with lib/config.c.  Accepted forms:
 *   198.51.100.1          198.51.100.1:4610
 *   2001:db8::1           [2001:db8::1]         [2001:db8::1]:4610
 *   [fe80::1%eth0]:4610   (scope as interface name or number)
 * An IPv6 address takes a port only inside brackets.  Only numeric
 * addresses (inet_pton), no names, no short IPv4 forms like "10.1".
 * Without a port, the port is default_port; with LOOP_ADDR_NEED_PORT a
 * missing port is an error.  Returns 0, -EINVAL (not an address), -ERANGE
 * (bad port) or -EDESTADDRREQ (port needed).
 */
enum loop_addr_flag {
	LOOP_ADDR_NEED_PORT = 1 << 0,
};
/* Longest text loop_addr_format() writes, with the NUL. */
enum { LOOP_ADDRSTRLEN = 72 };

int	loop_addr_parse(const char *text, uint16_t default_port, unsigned flags,
	    struct sockaddr_storage *);
/*
 * "198.51.100.1:4610" or "[2001:db8::1]:4610"; with port 0 the bare address
 * ("2001:db8::1"), which loop_addr_parse() reads back.  Returns 0,
 * -EAFNOSUPPORT, or -ENOSPC when len is too small (LOOP_ADDRSTRLEN is not).
 */
int	loop_addr_format(const struct sockaddr *, char *buf, size_t len);
/* sizeof the family's sockaddr, 0 for another family. */
socklen_t loop_addr_len(const struct sockaddr *);
/* Same family, address, port (and IPv6 scope). */
bool	loop_addr_equal(const struct sockaddr *, const struct sockaddr *);

#endif
