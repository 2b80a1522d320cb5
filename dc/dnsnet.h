/* dnsnet.h -- DNS over UDP and TCP on libuv: sockets, TCP framing and idle timeout, NOTIFY sending. */
#ifndef NTM_DC_DNSNET_H
#define NTM_DC_DNSNET_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "dns.h"

struct dnsnet_config {
	const struct sockaddr_storage	*listen;	/* read by dnsnet_new */
	size_t				 nlisten;
	uint64_t			 tcp_idle_ms;	/* quiet: closed */
	unsigned			 tcp_clients;	/* at once */
	struct ntm_rng			*rng;		/* NOTIFY ids */
};

struct dnsnet;
struct ntm_rng;

/*
 * dnsnet_new: binds a UDP socket and a TCP listener on every address.
 * `srv` is borrowed for the life of the dnsnet (its zone pointer may be
 * swapped between callbacks).  Returns 0 or a negative errno (logged with
 * the address).  dnsnet_close() closes everything; the struct is freed in
 * the last close callback, so the loop must run once more.
 */
int	dnsnet_new(uv_loop_t *, struct dns_server *srv,
	    const struct dnsnet_config *, struct dnsnet **);
void	dnsnet_close(struct dnsnet *);		/* accepts NULL */

/*
 * dnsnet_notify: call after the zone's serial changed.  Sends a NOTIFY for
 * every zone to every target in srv->xfr, retrying every
 * XFR_NOTIFY_RETRY_MS up to XFR_NOTIFY_TRIES times until answered.
 */
void	dnsnet_notify(struct dnsnet *);

#endif
