/* tunnelio.h -- ntmd glue: node/tunnel <-> control, DC, peers, data plane. */
#ifndef NTM_NODE_TUNNELIO_H
#define NTM_NODE_TUNNELIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "ntmd.h"

struct control_reply;
struct dataplane;
struct dataplane_io;
struct dcclient;
struct ntm_rng;

/*
 * node/tunnel is sans-I/O; this file gives it I/O inside ntmd (DESIGN.md
 * 4-7, PROTOCOL.md 6.1, 6.2, 8):
 *
 *   RESOLVE (control socket)  -> tunnel_resolve(), answered from the ANSWER
 *                                action through ntmd_reply_fn
 *   ROUTE_DIRECTION from DC   -> dcclient_open(), tunnel_dc_input()
 *   STATUS_NOTICE from DC     -> STATUS_NOTICE_ACK, tunnel_peer_status() or,
 *                                for our own serial, tunnel_set_status()
 *   TUNNEL_REQUEST/_RESPONSE  -> tunnel_peer_input()
 *   SEND_DC                   -> dcclient_send_msg(), sendto the DC
 *   SEND_PEER                 -> sendto from the tunnel port
 *   INSTALL                   -> dataplane_tunnel_add(), timers started
 *   CLOSE, idle, TUNNEL_CLOSE -> TUNNEL_CLOSE sent, dataplane_tunnel_remove(),
 *   CLOSE (control socket)       tunnel_close()
 *   TIMER                     -> the one uv timer
 *
 * The tunnel machine needs the node's identity, so it is built by
 * tunnelio_identity() once the state directory holds key.pem, cert.pem
 * (the certificate, then the AS intermediate, as ntmd stores the AS's
 * answer) and status.der; until then resolves answer UNAVAIL
 * not-enrolled and signalling is dropped.  The trust roots are ca_file.
 * status.der is read again when it changes (checked every 10 s), so a
 * fresher own status is stapled in later handshakes.
 *
 * REVERSE is answered for the virtual IPs of live tunnels only (else
 * UNAVAIL no-tunnel, and NSS asks DNS for the PTR).
 *
 * Each installed tunnel has a node/intunnel state: REKEY_REQUEST/_RESPONSE
 * when the data plane's rekey timer fires (rekey_ms, rekey_packets),
 * CERT_UPDATE to every live peer whenever our own status is fresher
 * (tunnelio_status_reload, a STATUS_NOTICE about our serial), and the
 * checks of the peers' updates and staples; in-tunnel messages other than
 * TUNNEL_KEEPALIVE and TUNNEL_CLOSE go to it.
 *
 * Punch and relay routes (PROTOCOL.md 8.1, 10.2): the Route Direction
 * starts an RS binding (node/rsbind) before the first Tunnel Request
 * leaves; RS_COOKIEs go to it, and a Tunnel Request/Response that opened
 * and came from the RS confirms it.  On relay the requests go to
 * RELAY_ADDR only (node/tunnel); on punch they go direct only until the
 * Route Direction's PUNCH_DEADLINE (what node/tunnel sent toward the RS
 * before it is sent at the deadline), then direct and through the RS, while
 * the hellos double as probes to the peer's addresses.  The tunnel takes
 * the path its handshake took ("via rs" or direct in the log and
 * tunnels-via-rs in STAT); a punch that went direct drops the binding.
 *
 * Not done here yet: mobility (TUNNEL_UPDATE, and rsbind_rebind after
 * it), setups from a REVERSE lookup or from a packet to a virtual IP
 * without a tunnel (on_miss).
 */

enum tunnelio_limit {
	TUNNELIO_LIMIT_INVALID = 0,
	TUNNELIO_TUNNELS_MAX = 256,	/* installed tunnels tracked */
	TUNNELIO_WAITS_MAX = 256,	/* resolves waiting for an answer */
	TUNNELIO_ROUTES_MAX = 64,	/* recent path id -> route */
	TUNNELIO_HELD_MAX = 4,		/* punch: datagrams held for the RS */
	TUNNELIO_TICK_MS = 1000,	/* data-plane timer scan */
	TUNNELIO_STATUS_TICKS = 10,	/* status.der checked every 10 s */
	TUNNELIO_SPARE_MS = 5,		/* X25519 spare made after this quiet */
};

struct tunnelio_conf {
	uv_loop_t		*loop;		/* borrowed */
	struct dcclient		*dc;		/* borrowed */
	/* Where the DC is: read at every send (ntmd may learn it late). */
	const struct sockaddr_storage *dc_addr;	/* borrowed */
	int			 fd4, fd6;	/* tunnel port; -1: none */
	const char		*state_dir;	/* borrowed */
	const char		*ca_file;	/* borrowed */
	const char		*kex_allowed;	/* "rsa, ecdhe"; NULL: ecdhe */
	struct ntm_rng		*rng;		/* borrowed */
	/* Rekey after this long / this many packets; 0: 1 h / 2^32. */
	uint64_t		 rekey_ms;
	uint64_t		 rekey_packets;
};

struct tunnelio_stats {
	uint64_t	resolves;
	uint64_t	answered_ok;
	uint64_t	answered_refused;
	uint64_t	installed;
	uint64_t	install_failed;
	uint64_t	closed;
	uint64_t	idle_closed;
	uint64_t	closed_by_request;	/* CLOSE on the control socket */
	uint64_t	dc_dropped;	/* DC datagrams not taken */
	uint64_t	peer_dropped;	/* peer datagrams not taken */
	uint64_t	via_rs;		/* installed with the RS in the path */
};

struct tunnelio;

/*
 * tunnelio_new: checks kex_allowed (-EINVAL for an unknown scheme, which
 * ntmd refuses at start-up) and arms nothing yet.  Returns 0 and *out,
 * -EINVAL or -ENOMEM.  The resolver (tunnelio_resolver) is valid from
 * here on, for control_server_start().
 */
int	tunnelio_new(struct tunnelio **out, const struct tunnelio_conf *);
/*
 * tunnelio_stop: sends TUNNEL_CLOSE (UNAVAILABLE) on every tunnel, answers
 * every waiting resolve with UNAVAIL shutting-down, closes the timers.
 * Call before control_server_stop(); tunnelio_free() after
 * loop_shutdown().  Both accept NULL.
 */
void	tunnelio_stop(struct tunnelio *);
void	tunnelio_free(struct tunnelio *);

/* The resolver ntmd hands to the control socket; borrowed from tio. */
const struct ntmd_resolver *tunnelio_resolver(struct tunnelio *);

/*
 * tunnelio_identity: (re)loads key, certificate chain and status from the
 * state directory and builds the tunnel machine for `fqdn`, once.  Call
 * after each registration with the DC.  Returns 0 (also when already
 * built), or the loading error (logged).
 */
int	tunnelio_identity(struct tunnelio *, const char *fqdn);

/*
 * tunnelio_status_reload: reads status.der again when it changed since
 * last read and hands it to the tunnel machine (tunnel_set_status), so
 * the next handshakes staple it, and sends it to every live peer in a
 * CERT_UPDATE.  When cert.pem changed too (a renewal: new serial, key.pem
 * matching), the new certificate, key and status are taken for later
 * handshakes (tunnel_set_identity) and the CERT_UPDATEs carry the new
 * certificate.  Returns 1 when it took a new status or certificate, 0
 * when unchanged or no tunnel machine is built yet, or a negative errno.
 */
int	tunnelio_status_reload(struct tunnelio *);

/* The data plane, once it runs (INSTALL before this fails the setup). */
void	tunnelio_set_dataplane(struct tunnelio *, struct dataplane *,
	    struct dataplane_io *);

/*
 * tunnelio_signal: a datagram on the tunnel port that neither the data
 * plane nor dcclient_input() took: ROUTE_DIRECTION and STATUS_NOTICE from
 * the DC (from_dc: it came from the DC's address), TUNNEL_REQUEST and
 * TUNNEL_RESPONSE from peers.  Returns 0 when taken, else a negative code
 * (counted, logged at debug level).
 */
int	tunnelio_signal(struct tunnelio *, uint8_t *pkt, size_t len,
	    const struct sockaddr *from, bool from_dc);

/* dataplane_io on_control: an authenticated in-tunnel message. */
void	tunnelio_control(struct tunnelio *, struct dataplane_tunnel *,
	    const uint8_t *msg, size_t len);

/*
 * TUNNEL lines for ntmctl tunnels (control_view.tunnels): peer, route,
 * state, virtual IPs, then the options kex, via, packets-in/-out,
 * bytes-in/-out, drops (this tunnel's data-plane counters), epoch (key
 * epoch), age-s and idle-s (seconds since install / since the last packet
 * in, to one tick).
 */
void	tunnelio_list(struct tunnelio *, struct control_reply *);
/*
 * tunnelio_close_peer (control_view.close, ntmctl close): the installed
 * tunnel to name gets a TUNNEL_CLOSE (status OK) and leaves the data
 * plane and node/tunnel's table before this returns, so the next lookup
 * of name sets up a new tunnel.  Returns 0 with *closed the OK answer
 * (name, the peer's virtual IPs); -ENOENT when no tunnel to name is
 * installed; -EINPROGRESS when a lookup of name is still setting one up
 * (left alone); -ESHUTDOWN after tunnelio_stop().
 */
int	tunnelio_close_peer(struct tunnelio *, const char *name,
	    struct ctlmsg *closed);
/* STAT lines for ntmctl status. */
void	tunnelio_stats_reply(struct tunnelio *, struct control_reply *);

#endif
