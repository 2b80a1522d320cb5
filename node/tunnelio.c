/* tunnelio.c -- ntmd glue: node/tunnel <-> control, DC, peers, data plane. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "aead.h"
#include "buf.h"
#include "cert.h"
#include "control.h"
#include "crypto.h"
#include "ctlmsg.h"
#include "dataplane.h"
#include "dcclient.h"
#include "frag.h"
#include "intunnel.h"
#include "kex.h"
#include "x25519.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "peercheck.h"
#include "proto.h"
#include "replay.h"
#include "rsbind.h"
#include "store.h"
#include "tunnel.h"
#include "tunnelio.h"

_Static_assert((size_t)DCCLIENT_SENT_CACHE >= (size_t)TUNNEL_SETUPS_MAX,
    "every setup's Direction Request or NTM ACK must stay resendable");

/* A resolve from the control socket, until its ANSWER. */
struct tunnelio_wait {
	bool			 used;
	uint64_t		 token;
	enum ctlmsg_family	 family;
	ntmd_reply_fn		 reply;
	void			*req;
	char			 name[PROTO_FQDN_MAX + 1];	/* looked up */
};

/* A tunnel installed in the data plane. */
struct tunnelio_tunnel {
	struct tunnelio		*tio;
	bool			 used;
	bool			 closing;	/* removed at the next reap */
	uint8_t			 path_id[PROTO_ID_LEN];
	char			 peer[PROTO_FQDN_MAX + 1];
	struct dataplane_tunnel	*dt;
	struct intunnel		*it;		/* rekey, certificate updates */
	uint8_t			 route;		/* enum proto_route; 0: none */
	bool			 via_rs;	/* data goes through the RS */
	uint8_t			 kex;
	bool			 has_vip4, has_vip6;
	uint8_t			 vip4[4], vip6[16];
	/* For ntmctl tunnels (uv_now ms): install, last packet seen in. */
	uint64_t		 installed_at;
	uint64_t		 last_in;
	uint64_t		 seen_in;	/* packets_in at last_in */
	struct tunnel_timing	 timing;	/* of its setup */
};

struct tunnelio_route {
	uint8_t			 path_id[PROTO_ID_LEN];
	uint8_t			 route;
	uint64_t		 punch_until;	/* uv_now ms: direct only */
	/* Datagrams for the RS kept until punch_until, then sent at once. */
	uint8_t			*held;		/* TUNNELIO_HELD_MAX datagrams */
	size_t			 heldlen[TUNNELIO_HELD_MAX];
	struct msg_addr		 heldto[TUNNELIO_HELD_MAX];
	size_t			 nheld;
};

struct tunnelio {
	struct tunnelio_conf	 conf;
	struct kex_allowed	 kex;
	struct ntmd_resolver	 resolver;
	bool			 stopped;

	/* The identity, once loaded (tunnelio_identity). */
	char			*fqdn;
	gnutls_x509_crt_t	*roots, *chain;
	unsigned		 nroots, nchain;
	gnutls_privkey_t	 key;
	gnutls_x509_crt_t	 own;		/* chain[0], or rchain[0] */
	/*
	 * After a renewal: the new chain and key.  The first chain stays, as
	 * peercheck borrows its AS certificate (chain[1]).
	 */
	gnutls_x509_crt_t	*rchain;
	unsigned		 nrchain;
	gnutls_privkey_t	 rkey;
	gnutls_datum_t		 own_der;	/* its DER, for CERT_UPDATE */
	struct timespec		 cert_mtime;	/* of cert.pem when read */
	uint8_t			 serial[PROTO_SERIAL_MAX];
	size_t			 serial_len;
	struct cert_trust	*trust;
	struct peercheck	*pc;
	struct tunnel		*t;
	struct timespec		 status_mtime;	/* of status.der when read */
	uint64_t		 status_at;	/* next look at status.der */

	struct dataplane	*dp;		/* borrowed */
	struct dataplane_io	*dpio;		/* borrowed */

	uv_timer_t		 timer;		/* tunnel_next_timer() */
	uv_timer_t		 tick;		/* data-plane timers, reaping */
	uv_timer_t		 rstimer;	/* rsbind_next_timer() */
	uv_timer_t		 spare;		/* the X25519 spare, when idle */
	bool			 timers_init;
	struct rsbind		*rsb;		/* RS bindings (punch, relay) */
	uint64_t		 punch_held;	/* Tunnel Requests kept off the
						 * RS before the punch deadline */

	uint64_t		 token_next;
	struct tunnelio_wait	 waits[TUNNELIO_WAITS_MAX];
	struct tunnelio_tunnel	 tunnels[TUNNELIO_TUNNELS_MAX];
	struct tunnelio_route	 routes[TUNNELIO_ROUTES_MAX];
	size_t			 route_next;
	struct tunnelio_stats	 stats;
	/* In-tunnel counters of tunnels already gone. */
	struct intunnel_stats	 gone;
	struct frag_table	*frag;		/* in-tunnel reassembly */
};

static const char *const tunnelio_route_names[] = {
	[PROTO_ROUTE_DIRECT] = "direct",
	[PROTO_ROUTE_REVERSE] = "reverse",
	[PROTO_ROUTE_PRIVATE] = "private",
	[PROTO_ROUTE_PUNCH] = "punch",
	[PROTO_ROUTE_RELAY] = "relay",
};

static uint64_t
tunnelio_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
tunnelio_hex(const uint8_t *p, size_t len, char *out, size_t cap)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < len && 2 * i + 2 < cap; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void
tunnelio_sockaddr(const struct msg_addr *a, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == PROTO_FAMILY_IPV4) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
	}
}

static void
tunnelio_sendto(struct tunnelio *tio, const uint8_t *p, size_t len,
    const struct sockaddr *sa)
{
	int fd = sa->sa_family == AF_INET ? tio->conf.fd4 : tio->conf.fd6;
	char a[LOOP_ADDRSTRLEN];

	/* Losses are covered by node/tunnel's retransmissions. */
	if (fd < 0 || sendto(fd, p, len, 0, sa, loop_addr_len(sa)) < 0) {
		(void)loop_addr_format(sa, a, sizeof(a));
		log_debug("tunnel: send to %s: %s", a, fd < 0 ?
		    "no socket of that family" : strerror(errno));
	}
}

/* ---- answers to the control socket --------------------------------------- */

static void
tunnelio_reply_word(struct tunnelio_wait *w, enum ctlmsg_type type,
    const char *word)
{
	struct ctlmsg m;
	ntmd_reply_fn reply = w->reply;
	void *req = w->req;

	memset(w, 0, sizeof(*w));
	memset(&m, 0, sizeof(m));
	m.type = type;
	snprintf(m.word, sizeof(m.word), "%s", word);
	reply(req, &m);
}

/* CONTROL.md 4's reasons for a refusal from node/tunnel. */
static const char *
tunnelio_reason(enum proto_status st, const char *reason)
{
	switch (st) {
	case PROTO_STATUS_REVOKED:
		return "revoked";
	case PROTO_STATUS_UNKNOWN_NODE:
	case PROTO_STATUS_NOT_REGISTERED:
		return "no-such-node";
	case PROTO_STATUS_UNAVAILABLE:
		/* node/tunnel's own give-ups say "no ...", a DC "refused". */
		return reason != NULL && strstr(reason, "refused") == NULL ?
		    "timeout" : "refused";
	default:
		return "refused";
	}
}

static void
tunnelio_answer(struct tunnelio *tio, const struct tunnel_action *a)
{
	struct tunnelio_wait *w = NULL;
	struct ctlmsg m;
	ntmd_reply_fn reply;
	void *req;
	size_t i;

	for (i = 0; i < TUNNELIO_WAITS_MAX; i++)
		if (tio->waits[i].used && tio->waits[i].token == a->token) {
			w = &tio->waits[i];
			break;
		}
	if (w == NULL)
		return;
	if (a->status != PROTO_STATUS_OK) {
		tio->stats.answered_refused++;
		log_warnx("lookup of %s: no tunnel: %s (%s)", a->peer,
		    msg_status_name(a->status), a->reason != NULL ? a->reason :
		    "no reason given");
		tunnelio_reply_word(w, CTLMSG_NOTFOUND,
		    tunnelio_reason(a->status, a->reason));
		return;
	}
	memset(&m, 0, sizeof(m));
	m.type = CTLMSG_OK;
	snprintf(m.name, sizeof(m.name), "%s", a->peer);
	/* "any": IPv4 then IPv6, as in CONTROL.md's example. */
	if (a->has_vip4 && w->family != CTLMSG_FAMILY_INET6) {
		m.addr[m.naddr].af = AF_INET;
		memcpy(m.addr[m.naddr++].a, a->vip4, 4);
	}
	if (a->has_vip6 && w->family != CTLMSG_FAMILY_INET) {
		m.addr[m.naddr].af = AF_INET6;
		memcpy(m.addr[m.naddr++].a, a->vip6, 16);
	}
	tio->stats.answered_ok++;
	if (m.naddr == 0) {
		tunnelio_reply_word(w, CTLMSG_NOTFOUND, "no-address");
		return;
	}
	reply = w->reply;
	req = w->req;
	memset(w, 0, sizeof(*w));
	reply(req, &m);
}

/* ---- installed tunnels --------------------------------------------------- */

static struct tunnelio_tunnel *
tunnelio_find(struct tunnelio *tio, const uint8_t *path_id)
{
	size_t i;

	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++)
		if (tio->tunnels[i].used && memcmp(tio->tunnels[i].path_id,
		    path_id, PROTO_ID_LEN) == 0)
			return &tio->tunnels[i];
	return NULL;
}

/* Sends an in-tunnel message of `type` (no attributes) on tt. */
static void
tunnelio_send_inner(struct tunnelio *tio, struct tunnelio_tunnel *tt,
    uint8_t type, uint8_t status)
{
	uint8_t buf[PROTO_HEADER_LEN + 64];
	struct msg m;
	size_t len;
	int rc;

	if (tio->dpio == NULL || tt->dt == NULL)
		return;
	msg_init(&m, type);
	m.hdr.status = status;
	memcpy(m.hdr.id, tt->path_id, PROTO_ID_LEN);
	if ((rc = msg_encode(&m, buf, sizeof(buf), &len)) < 0 ||
	    (rc = dataplane_io_send_control(tio->dpio, tt->dt, buf,
	    len)) < 0)
		log_debug("tunnel to %s: %s not sent: %d", tt->peer,
		    msg_type_name(type), rc);
}

static void	tunnelio_tick_cb(uv_timer_t *);

static void
tunnelio_stats_add(struct intunnel_stats *sum, const struct intunnel_stats *s)
{
	sum->rekeys += s->rekeys;
	sum->rekeys_started += s->rekeys_started;
	sum->rekey_retransmits += s->rekey_retransmits;
	sum->rekey_failed += s->rekey_failed;
	sum->rekey_dropped += s->rekey_dropped;
	sum->cert_updates_sent += s->cert_updates_sent;
	sum->cert_updates_acked += s->cert_updates_acked;
	sum->cert_updates_accepted += s->cert_updates_accepted;
	sum->cert_updates_refused += s->cert_updates_refused;
	sum->dropped += s->dropped;
}

/* Frees tt's in-tunnel state, its counters kept in tio->gone. */
static void
tunnelio_forget(struct tunnelio *tio, struct tunnelio_tunnel *tt)
{
	if (tt->used && tio->rsb != NULL)
		rsbind_stop(tio->rsb, tt->path_id);
	if (tt->it == NULL)
		return;
	tunnelio_stats_add(&tio->gone, intunnel_stats(tt->it));
	intunnel_free(tt->it);
	tt->it = NULL;
}

/*
 * The tick runs every TUNNELIO_TICK_MS, sooner when an in-tunnel request
 * is due for a retransmission.
 */
static void
tunnelio_tick_arm(struct tunnelio *tio)
{
	uint64_t now, next, t, delay;
	size_t i;

	if (!tio->timers_init || tio->stopped)
		return;
	now = uv_now(tio->conf.loop);
	next = now + TUNNELIO_TICK_MS;
	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++)
		if (tio->tunnels[i].used && tio->tunnels[i].it != NULL &&
		    (t = intunnel_next(tio->tunnels[i].it)) < next)
			next = t;
	delay = next > now ? next - now : 0;
	if (uv_is_active((uv_handle_t *)&tio->tick) &&
	    uv_timer_get_due_in(&tio->tick) <= delay)
		return;
	uv_timer_start(&tio->tick, tunnelio_tick_cb, delay, 0);
}

/*
 * Notes when tt last delivered a packet, for the idle time ntmctl shows:
 * the tick and the listing look at the data plane's counter, so the
 * data path pays nothing for it (resolution: one tick).
 */
static void
tunnelio_seen(struct tunnelio_tunnel *tt, uint64_t now)
{
	uint64_t in;

	if (tt->dt == NULL)
		return;
	in = dataplane_tunnel_stats(tt->dt)->packets_in;
	if (in != tt->seen_in) {
		tt->seen_in = in;
		tt->last_in = now;
	}
}

/* Marks tt for removal at the next reap (never inside a data-plane call). */
static void
tunnelio_retire(struct tunnelio *tio, struct tunnelio_tunnel *tt)
{
	if (tt->closing)
		return;
	tt->closing = true;
	/* The tick reaps it once the data plane's callback has returned. */
	if (tio->timers_init && !tio->stopped)
		uv_timer_start(&tio->tick, tunnelio_tick_cb, 0, 0);
}

static void
tunnelio_reap(struct tunnelio *tio)
{
	struct tunnelio_tunnel *tt;
	size_t i;

	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++) {
		tt = &tio->tunnels[i];
		if (!tt->used || !tt->closing)
			continue;
		tunnelio_forget(tio, tt);
		if (tio->dp != NULL)
			dataplane_tunnel_remove(tio->dp, tt->dt);
		if (tio->t != NULL)
			(void)tunnel_close(tio->t, tt->path_id);
		tio->stats.closed++;
		memset(tt, 0, sizeof(*tt));
	}
}

/* intunnel's send: one in-tunnel message as a TUNNEL_CONTROL packet. */
static int
tunnelio_it_send(void *arg, const uint8_t *msg, size_t len, bool old)
{
	struct tunnelio_tunnel *tt = arg;
	struct tunnelio *tio = tt->tio;

	if (tio->dpio == NULL || tt->dt == NULL)
		return -ENOTCONN;
	return dataplane_io_send_control_key(tio->dpio, tt->dt, msg, len, old);
}

/* intunnel's close: TUNNEL_CLOSE with its status, then the reap. */
static void
tunnelio_it_close(void *arg, enum proto_status st, const char *why)
{
	struct tunnelio_tunnel *tt = arg;

	(void)why;		/* intunnel logged it */
	tunnelio_send_inner(tt->tio, tt, PROTO_MSG_TUNNEL_CLOSE, st);
	tunnelio_retire(tt->tio, tt);
}

static int
tunnelio_intunnel(struct tunnelio *tio, struct tunnelio_tunnel *tt,
    const struct tunnel_action *a, struct dataplane_tunnel *dt)
{
	struct intunnel_conf ic;
	int rc;

	memset(tt, 0, sizeof(*tt));
	tt->tio = tio;
	if (a->k_rekey == NULL || a->peer_cert == NULL ||
	    a->peer_status == NULL)
		return -EINVAL;
	if ((rc = dataplane_tunnel_set_rekey(dt, tio->conf.rekey_ms,
	    tio->conf.rekey_packets)) < 0)
		return rc;
	memset(&ic, 0, sizeof(ic));
	ic.path_id = a->path_id;
	ic.peer = a->peer;
	ic.role = a->tun->role;
	ic.kex = a->kex;
	ic.allowed = &tio->kex;
	ic.k_rekey = a->k_rekey;
	ic.peer_cert = a->peer_cert;
	ic.peer_cert_len = a->peer_cert_len;
	ic.peer_status = a->peer_status;
	ic.peer_status_len = a->peer_status_len;
	ic.has_vip4 = a->tun->has_vip4;
	ic.has_vip6 = a->tun->has_vip6;
	ic.peer_vip4 = a->tun->peer_vip4;
	ic.peer_vip6 = a->tun->peer_vip6;
	ic.own_key = tio->key;
	ic.pc = tio->pc;
	ic.frag = tio->frag;
	ic.rng = tio->conf.rng;
	ic.send = tunnelio_it_send;
	ic.close = tunnelio_it_close;
	ic.arg = tt;
	return intunnel_new(&tt->it, &ic, dt);
}

static void
tunnelio_install(struct tunnelio *tio, const struct tunnel_action *a)
{
	struct tunnelio_tunnel *tt = NULL, *old;
	struct dataplane_tunnel *dt;
	struct msg_addr ma;
	char hex[2 * PROTO_ID_LEN + 1];
	uint8_t replaced[PROTO_ID_LEN];
	bool has_replaced = false;
	size_t i;
	int rc;

	tunnelio_hex(a->path_id, PROTO_ID_LEN, hex, sizeof(hex));
	for (i = 0; i < TUNNELIO_TUNNELS_MAX && tt == NULL; i++)
		if (!tio->tunnels[i].used)
			tt = &tio->tunnels[i];
	if (tio->dp == NULL || tt == NULL) {
		tio->stats.install_failed++;
		log_warnx("tunnel to %s (path %s): %s", a->peer, hex,
		    tio->dp == NULL ? "the data plane is not running" :
		    "too many tunnels");
		*a->refused = true;
		rsbind_stop(tio->rsb, a->path_id);
		return;
	}
	/*
	 * Both sides set up toward each other: node/tunnel keeps the lower
	 * path id and sends CLOSE for the other right after this INSTALL.
	 * The data plane routes a peer's VIPs to one tunnel only, so the
	 * loser is never installed and the winner replaces the old one here
	 * (the CLOSE that follows then finds nothing left to remove).
	 */
	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++) {
		old = &tio->tunnels[i];
		if (!old->used || strcmp(old->peer, a->peer) != 0)
			continue;
		if (old->closing) {
			tunnelio_reap(tio);
			continue;
		}
		if (memcmp(old->path_id, a->path_id, PROTO_ID_LEN) < 0) {
			log_info("tunnel to %s (path %s): the live tunnel has "
			    "the lower path id and stays", a->peer, hex);
			rsbind_stop(tio->rsb, a->path_id);
			return;
		}
		memcpy(replaced, old->path_id, PROTO_ID_LEN);
		has_replaced = true;
		tunnelio_forget(tio, old);
		dataplane_tunnel_remove(tio->dp, old->dt);
		memset(old, 0, sizeof(*old));
		tio->stats.closed++;
	}
	if ((rc = dataplane_tunnel_add(tio->dp, a->tun, &dt)) == 0 &&
	    (rc = tunnelio_intunnel(tio, tt, a, dt)) < 0)
		dataplane_tunnel_remove(tio->dp, dt);
	if (rc < 0) {
		tio->stats.install_failed++;
		log_warnx("tunnel to %s (path %s): data plane: %s", a->peer,
		    hex, strerror(-rc));
		/* Neither the new tunnel nor the one it replaced is live. */
		if (has_replaced)
			(void)tunnel_close(tio->t, replaced);
		*a->refused = true;
		rsbind_stop(tio->rsb, a->path_id);
		return;
	}
	tt->used = true;
	memcpy(tt->path_id, a->path_id, PROTO_ID_LEN);
	snprintf(tt->peer, sizeof(tt->peer), "%s", a->peer);
	tt->dt = dt;
	tt->kex = a->kex;
	tt->installed_at = tt->last_in = uv_now(tio->conf.loop);
	if (a->timing != NULL)
		tt->timing = *a->timing;
	if ((tt->has_vip4 = a->tun->has_vip4))
		memcpy(tt->vip4, a->tun->peer_vip4, 4);
	if ((tt->has_vip6 = a->tun->has_vip6))
		memcpy(tt->vip6, a->tun->peer_vip6, 16);
	for (i = 0; i < TUNNELIO_ROUTES_MAX; i++)
		if (memcmp(tio->routes[i].path_id, a->path_id,
		    PROTO_ID_LEN) == 0)
			tt->route = tio->routes[i].route;
	/*
	 * The handshake's datagram came through the RS or directly; the data
	 * follows it.  A punch that went direct needs the binding no more.
	 */
	tt->via_rs = rsbind_addr_of((const struct sockaddr *)
	    &a->tun->peer_addr, &ma) == 0 && rsbind_is_rs(tio->rsb,
	    a->path_id, &ma);
	if (!tt->via_rs)
		rsbind_stop(tio->rsb, a->path_id);
	/*
	 * Keep-alives only where a NAT binding needs them (PROTOCOL.md 10.3):
	 * we are behind NAT, or the route says a side is (all but direct).
	 */
	dataplane_timers_start(dt, uv_now(tio->conf.loop),
	    tio->conf.dc->reg.nat != PROTO_NAT_NONE ||
	    tt->route != PROTO_ROUTE_DIRECT);
	tio->stats.installed++;
	if (tt->via_rs)
		tio->stats.via_rs++;
	log_info("tunnel to %s installed (path %s, rid %08x, %s, %s route, "
	    "via %s)", a->peer, hex, a->tun->rid, kex_name(a->kex) != NULL ?
	    kex_name(a->kex) : "?", tt->route > 0 && tt->route <=
	    PROTO_ROUTE_MAX ? tunnelio_route_names[tt->route] : "unknown",
	    tt->via_rs ? "rs" : "direct");
}

static void
tunnelio_close_action(struct tunnelio *tio, const struct tunnel_action *a)
{
	struct tunnelio_tunnel *tt;

	if (a->path_id == NULL || (tt = tunnelio_find(tio, a->path_id)) ==
	    NULL)
		return;
	log_info("tunnel to %s closing: %s", tt->peer,
	    a->status == PROTO_STATUS_REVOKED ? "its certificate is revoked" :
	    "a tunnel with a lower path id won");
	tunnelio_send_inner(tio, tt, PROTO_MSG_TUNNEL_CLOSE, a->status);
	tunnelio_retire(tio, tt);
}

/* ---- RS binding (PROTOCOL.md 10.2) --------------------------------------- */

static void	tunnelio_rs_timer_cb(uv_timer_t *);

static void
tunnelio_rs_arm(struct tunnelio *tio)
{
	uint64_t next, now;
	size_t i;

	if (!tio->timers_init || tio->stopped || tio->rsb == NULL)
		return;
	uv_timer_stop(&tio->rstimer);
	next = rsbind_next_timer(tio->rsb);
	for (i = 0; i < TUNNELIO_ROUTES_MAX; i++)
		if (tio->routes[i].nheld > 0 &&
		    tio->routes[i].punch_until < next)
			next = tio->routes[i].punch_until;
	if (next == UINT64_MAX)
		return;
	now = uv_now(tio->conf.loop);
	uv_timer_start(&tio->rstimer, tunnelio_rs_timer_cb, next > now ?
	    next - now : 0, 0);
}

static void
tunnelio_held_drop(struct tunnelio_route *rt)
{
	free(rt->held);
	rt->held = NULL;
	rt->nheld = 0;
}

/*
 * The punch deadline passed: what node/tunnel sent toward the RS before it
 * goes now (the direct path did not answer in time), unless the tunnel is
 * already up.
 */
static void
tunnelio_held_flush(struct tunnelio *tio, uint64_t now)
{
	struct tunnelio_route *rt;
	struct sockaddr_storage ss;
	size_t i, j;

	for (i = 0; i < TUNNELIO_ROUTES_MAX; i++) {
		rt = &tio->routes[i];
		if (rt->nheld == 0 || now < rt->punch_until)
			continue;
		if (tunnelio_find(tio, rt->path_id) == NULL)
			for (j = 0; j < rt->nheld; j++) {
				tunnelio_sockaddr(&rt->heldto[j], &ss);
				tunnelio_sendto(tio, rt->held + j *
				    PROTO_DATAGRAM_MAX, rt->heldlen[j],
				    (const struct sockaddr *)&ss);
			}
		tunnelio_held_drop(rt);
	}
}

static void
tunnelio_rs_timer_cb(uv_timer_t *h)
{
	struct tunnelio *tio = h->data;
	uint64_t now = uv_now(tio->conf.loop);

	rsbind_timeout(tio->rsb, now);
	tunnelio_held_flush(tio, now);
	tunnelio_rs_arm(tio);
}

/* rsbind's send: hellos and punch probes leave from the tunnel port. */
static void
tunnelio_rs_send(void *arg, const uint8_t *p, size_t len,
    const struct msg_addr *to)
{
	struct tunnelio *tio = arg;
	struct sockaddr_storage ss;

	tunnelio_sockaddr(to, &ss);
	tunnelio_sendto(tio, p, len, (const struct sockaddr *)&ss);
}

/*
 * A punch or relay Route Direction: bind at the RS before node/tunnel's
 * first Tunnel Request leaves, so the RS has our side when the request
 * (ours, or the peer's through it) arrives.  On punch the hellos also go
 * to the peer's addresses (probes opening our NAT toward it), and Tunnel
 * Requests go direct only until the punch deadline (PUNCH_DEADLINE, 8.1):
 * node/tunnel's retransmissions after it go through the RS as well.
 * Returns true when a new binding started.
 */
static bool
tunnelio_rs_start(struct tunnelio *tio, const struct msg *m,
    struct tunnelio_route *rt)
{
	char hex[2 * PROTO_ID_LEN + 1];
	struct rsbind_conf c;
	struct msg_route r;
	uint64_t now = uv_now(tio->conf.loop);
	int rc;

	if (tio->rsb == NULL || m->hdr.status != PROTO_STATUS_OK ||
	    msg_route_read(m, &r) < 0 || (r.route != PROTO_ROUTE_PUNCH &&
	    r.route != PROTO_ROUTE_RELAY) || r.binding_key == NULL ||
	    r.nrelay_addr == 0)
		return false;
	memset(&c, 0, sizeof(c));
	c.path_id = r.path_id;
	c.rid = r.recv_id;
	c.key = r.binding_key;
	c.relay = r.relay_addr;
	c.nrelay = r.nrelay_addr;
	c.family = tio->conf.dc->reg.observed.family;
	if (r.route == PROTO_ROUTE_PUNCH) {
		c.probe = r.peer_addr;
		c.nprobe = r.npeer_addr;
		rt->punch_until = now + (r.punch_deadline > 0 ?
		    r.punch_deadline : PROTO_TIMER_PUNCH_DEADLINE);
	}
	rc = rsbind_start(tio->rsb, &c, now);
	tunnelio_hex(r.path_id, PROTO_ID_LEN, hex, sizeof(hex));
	if (rc < 0 && rc != -EEXIST)
		log_warnx("path %s: no RS binding: %s", hex, strerror(-rc));
	else if (rc == 0)
		log_debug("path %s: binding at the RS (%s route, rid %08x)",
		    hex, tunnelio_route_names[r.route], r.recv_id);
	tunnelio_rs_arm(tio);
	return rc == 0;
}

/*
 * A punch path before its deadline: a datagram for the RS is held back
 * (a copy kept for the deadline; retransmissions are the same bytes).
 */
static bool
tunnelio_rs_hold(struct tunnelio *tio, const struct tunnel_action *a)
{
	struct tunnelio_route *rt = NULL;
	size_t i;

	if (a->path_id == NULL || tio->rsb == NULL ||
	    !rsbind_is_rs(tio->rsb, a->path_id, a->to))
		return false;
	for (i = 0; i < TUNNELIO_ROUTES_MAX && rt == NULL; i++)
		if (memcmp(tio->routes[i].path_id, a->path_id,
		    PROTO_ID_LEN) == 0)
			rt = &tio->routes[i];
	if (rt == NULL || rt->route != PROTO_ROUTE_PUNCH ||
	    uv_now(tio->conf.loop) >= rt->punch_until)
		return false;
	for (i = 0; i < rt->nheld; i++)
		if (rt->heldlen[i] == a->len && memcmp(rt->held + i *
		    PROTO_DATAGRAM_MAX, a->msg, a->len) == 0)
			return true;
	if (rt->held == NULL && (rt->held = malloc(TUNNELIO_HELD_MAX *
	    PROTO_DATAGRAM_MAX)) == NULL)
		return true;	/* the retransmissions will do */
	if (rt->nheld < TUNNELIO_HELD_MAX && a->len <= PROTO_DATAGRAM_MAX) {
		memcpy(rt->held + rt->nheld * PROTO_DATAGRAM_MAX, a->msg,
		    a->len);
		rt->heldlen[rt->nheld] = a->len;
		rt->heldto[rt->nheld++] = *a->to;
		tunnelio_rs_arm(tio);
	}
	return true;
}

/* ---- the tunnel machine's actions ---------------------------------------- */

static void	tunnelio_timer_cb(uv_timer_t *);

static void
tunnelio_emit(void *arg, const struct tunnel_action *a)
{
	struct tunnelio *tio = arg;
	struct sockaddr_storage ss;
	uint8_t out[PROTO_DATAGRAM_MAX];
	size_t outlen;
	uint64_t now;
	int rc;

	switch (a->type) {
	case TUNNEL_ACT_SEND_DC:
		rc = dcclient_send_msg(tio->conf.dc, a->msg, a->len,
		    a->retransmit, out, sizeof(out), &outlen);
		if (rc < 0) {
			log_debug("tunnel: %s for %s not sent to the DC: %d",
			    a->len >= 2 ? msg_type_name(a->msg[1]) : "message",
			    a->peer != NULL ? a->peer : "-", rc);
			break;
		}
		tunnelio_sendto(tio, out, outlen,
		    (const struct sockaddr *)tio->conf.dc_addr);
		break;
	case TUNNEL_ACT_SEND_PEER:
		if (tunnelio_rs_hold(tio, a)) {
			tio->punch_held++;
			break;
		}
		tunnelio_sockaddr(a->to, &ss);
		tunnelio_sendto(tio, a->msg, a->len, (struct sockaddr *)&ss);
		break;
	case TUNNEL_ACT_INSTALL:
		tunnelio_install(tio, a);
		break;
	case TUNNEL_ACT_CLOSE:
		tunnelio_close_action(tio, a);
		break;
	case TUNNEL_ACT_ANSWER:
		tunnelio_answer(tio, a);
		break;
	case TUNNEL_ACT_TIMER:
		if (!tio->timers_init || tio->stopped)
			break;
		uv_timer_stop(&tio->timer);
		if (a->when == UINT64_MAX)
			break;
		now = tunnelio_now();
		uv_timer_start(&tio->timer, tunnelio_timer_cb, a->when > now ?
		    a->when - now : 0, 0);
		break;
	default:
		break;
	}
}

static void
tunnelio_timer_cb(uv_timer_t *h)
{
	struct tunnelio *tio = h->data;

	if (tio->t != NULL)
		tunnel_timeout(tio->t, tunnelio_now());
}

/*
 * Our status (or certificate) changed: every live tunnel's peer gets a
 * CERT_UPDATE with the certificate and the new status (PROTOCOL.md 10.3).
 */
static void
tunnelio_restaple(struct tunnelio *tio, const uint8_t *status, size_t len)
{
	struct tunnelio_tunnel *tt;
	size_t i, n = 0;

	if (tio->own_der.data == NULL)
		return;
	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++) {
		tt = &tio->tunnels[i];
		if (!tt->used || tt->closing || tt->it == NULL)
			continue;
		if (intunnel_cert_update(tt->it, tio->own_der.data,
		    tio->own_der.size, status, len,
		    uv_now(tio->conf.loop)) == 0)
			n++;
	}
	if (n > 0)
		log_info("%s: fresh status sent to %zu peer%s", tio->fqdn, n,
		    n == 1 ? "" : "s");
	tunnelio_tick_arm(tio);
}

static int	tunnelio_pem_list(const char *, gnutls_x509_crt_t **,
		    unsigned *);
static void	tunnelio_crts_free(gnutls_x509_crt_t *, unsigned);

/* Does the certificate chain[0] belong to the private key? */
static bool
tunnelio_key_matches(gnutls_x509_crt_t crt, gnutls_privkey_t key)
{
	gnutls_pubkey_t a = NULL, b = NULL;
	gnutls_datum_t da = { NULL, 0 }, db = { NULL, 0 };
	bool same = false;

	if (cert_pubkey_of(key, &a) < 0 || gnutls_pubkey_init(&b) < 0)
		goto done;
	if (gnutls_pubkey_import_x509(b, crt, 0) < 0 ||
	    gnutls_pubkey_export2(a, GNUTLS_X509_FMT_DER, &da) < 0 ||
	    gnutls_pubkey_export2(b, GNUTLS_X509_FMT_DER, &db) < 0)
		goto done;
	same = da.size == db.size && memcmp(da.data, db.data, da.size) == 0;
done:
	gnutls_free(da.data);
	gnutls_free(db.data);
	gnutls_pubkey_deinit(a);
	gnutls_pubkey_deinit(b);
	return same;
}

/*
 * cert.pem changed since we read it: ntmd saved a renewed certificate (and
 * its key and status).  Later handshakes use them (tunnel_set_identity),
 * rsa answers in live tunnels the new key, and every live peer gets the
 * new certificate and status in a CERT_UPDATE.  Files caught half-written
 * (key and certificate not matching) are tried again at the next look.
 * Returns 1 when it took a new identity, 0 when unchanged, or a negative
 * errno.
 */
static int
tunnelio_renewed(struct tunnelio *tio)
{
	char path[PATH_MAX];
	gnutls_x509_crt_t *chain = NULL;
	gnutls_privkey_t key = NULL;
	gnutls_datum_t der = { NULL, 0 };
	uint8_t serial[PROTO_SERIAL_MAX];
	struct stat cst, sst;
	unsigned nchain = 0;
	uint8_t *status = NULL;
	size_t len, sl = sizeof(serial), i;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", tio->conf.state_dir, STORE_CERT);
	if (stat(path, &cst) < 0)
		return -errno;
	if (cst.st_mtim.tv_sec == tio->cert_mtime.tv_sec &&
	    cst.st_mtim.tv_nsec == tio->cert_mtime.tv_nsec)
		return 0;
	if ((rc = tunnelio_pem_list(path, &chain, &nchain)) < 0)
		goto done;
	rc = -EAGAIN;
	if (nchain < 2 || gnutls_x509_crt_get_serial(chain[0], serial,
	    &sl) < 0)
		goto done;
	if (sl == tio->serial_len && memcmp(serial, tio->serial, sl) == 0) {
		/* Rewritten, same certificate: nothing to renew. */
		tio->cert_mtime = cst.st_mtim;
		rc = 0;
		goto done;
	}
	snprintf(path, sizeof(path), "%s/%s", tio->conf.state_dir, STORE_KEY);
	if (cert_key_read(path, &key) < 0 ||
	    !tunnelio_key_matches(chain[0], key))
		goto done;
	snprintf(path, sizeof(path), "%s/%s", tio->conf.state_dir,
	    STORE_STATUS);
	if ((status = malloc(PROTO_STATUS_MAX_LEN)) == NULL) {
		rc = -ENOMEM;
		goto done;
	}
	if (stat(path, &sst) < 0 ||
	    store_read(tio->conf.state_dir, STORE_STATUS, status,
	    PROTO_STATUS_MAX_LEN, &len) < 0 ||
	    gnutls_x509_crt_export2(chain[0], GNUTLS_X509_FMT_DER, &der) < 0 ||
	    (rc = tunnel_set_identity(tio->t, chain[0], key, status,
	    len)) < 0) {
		if (rc == -EAGAIN)
			rc = -EINVAL;
		goto done;
	}
	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++)
		if (tio->tunnels[i].used && tio->tunnels[i].it != NULL)
			intunnel_set_own_key(tio->tunnels[i].it, key);
	/* Nothing borrows the previous renewal's chain and key any more. */
	tunnelio_crts_free(tio->rchain, tio->nrchain);
	gnutls_privkey_deinit(tio->rkey);
	tio->rchain = chain;
	tio->nrchain = nchain;
	tio->rkey = key;
	chain = NULL;
	nchain = 0;
	key = NULL;
	tio->own = tio->rchain[0];
	gnutls_free(tio->own_der.data);
	tio->own_der = der;
	der.data = NULL;
	memcpy(tio->serial, serial, sl);
	tio->serial_len = sl;
	tio->cert_mtime = cst.st_mtim;
	tio->status_mtime = sst.st_mtim;
	log_info("%s: renewed certificate taken for new tunnels", tio->fqdn);
	tunnelio_restaple(tio, status, len);
	rc = 1;
done:
	if (rc < 0)
		log_warnx("%s: renewed certificate not taken yet: %s",
		    tio->fqdn, strerror(-rc));
	gnutls_free(der.data);
	free(status);
	gnutls_privkey_deinit(key);
	tunnelio_crts_free(chain, nchain);
	return rc;
}

/*
 * status.der is rewritten whenever ntmd gets a fresher status (AS answer,
 * STATUS_NOTICE); later handshakes staple the new one.  ntmd calls this
 * right after it saved one; the tick looks every TUNNELIO_STATUS_TICKS s.
 */
int
tunnelio_status_reload(struct tunnelio *tio)
{
	char path[PATH_MAX];
	uint8_t *buf;
	struct stat st;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", tio->conf.state_dir,
	    STORE_STATUS);
	if (tio->t == NULL)
		return 0;
	if ((rc = tunnelio_renewed(tio)) != 0)
		return rc;
	if (stat(path, &st) < 0)
		return -errno;
	if (st.st_mtim.tv_sec == tio->status_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == tio->status_mtime.tv_nsec)
		return 0;
	if ((buf = malloc(PROTO_STATUS_MAX_LEN)) == NULL)
		return -ENOMEM;
	if ((rc = store_read(tio->conf.state_dir, STORE_STATUS, buf,
	    PROTO_STATUS_MAX_LEN, &len)) == 0 &&
	    (rc = tunnel_set_status(tio->t, buf, len)) == 0) {
		tio->status_mtime = st.st_mtim;
		log_info("%s: own status reloaded from %s", tio->fqdn, path);
		tunnelio_restaple(tio, buf, len);
		rc = 1;
	}
	free(buf);
	return rc;
}

/* An RS binding serves while its tunnel is installed or its setup runs. */
static bool
tunnelio_rs_keep(void *arg, const uint8_t path_id[PROTO_ID_LEN])
{
	struct tunnelio *tio = arg;

	return tunnelio_find(tio, path_id) != NULL ||
	    (tio->t != NULL && tunnel_path_pending(tio->t, path_id));
}

/* Every second: data-plane timers of each tunnel, and reaping. */
static void
tunnelio_tick_cb(uv_timer_t *h)
{
	struct tunnelio *tio = h->data;
	struct tunnelio_tunnel *tt;
	uint64_t now = uv_now(tio->conf.loop);
	unsigned due;
	size_t i;

	tunnelio_reap(tio);
	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++) {
		tt = &tio->tunnels[i];
		if (!tt->used || tt->closing)
			continue;
		tunnelio_seen(tt, now);
		due = dataplane_timers_due(tt->dt, now);
		if (due & DATAPLANE_TIMER_IDLE) {
			log_info("tunnel to %s idle for %d s: closed",
			    tt->peer, PROTO_TIMER_TUNNEL_IDLE / 1000);
			tio->stats.idle_closed++;
			tt->closing = true;
			continue;
		}
		if (due & DATAPLANE_TIMER_KEEPALIVE)
			tunnelio_send_inner(tio, tt,
			    PROTO_MSG_TUNNEL_KEEPALIVE, PROTO_STATUS_OK);
		if (tt->it != NULL)
			intunnel_tick(tt->it, due, now, time(NULL));
	}
	tunnelio_reap(tio);
	/* Bindings of setups that ended without a tunnel. */
	if (tio->rsb != NULL && rsbind_count(tio->rsb) > 0 &&
	    rsbind_sweep(tio->rsb, tunnelio_rs_keep, tio) > 0)
		tunnelio_rs_arm(tio);
	/* Whole seconds since the last status look, however often we ran. */
	if (now >= tio->status_at) {
		tio->status_at = now + (uint64_t)TUNNELIO_STATUS_TICKS *
		    TUNNELIO_TICK_MS;
		(void)tunnelio_status_reload(tio);
	}
	if (!tio->stopped)
		uv_timer_start(&tio->tick, tunnelio_tick_cb, TUNNELIO_TICK_MS,
		    0);
	tunnelio_tick_arm(tio);
}

/* ---- the resolver -------------------------------------------------------- */

static int
tunnelio_resolve(void *arg, const char *name, enum ctlmsg_family family,
    ntmd_reply_fn reply, void *req)
{
	struct tunnelio *tio = arg;
	struct tunnelio_wait *w = NULL;
	uint64_t token;
	size_t i;
	int rc;

	for (i = 0; i < TUNNELIO_WAITS_MAX && w == NULL; i++)
		if (!tio->waits[i].used)
			w = &tio->waits[i];
	if (w == NULL || tio->t == NULL || tio->stopped) {
		w = &(struct tunnelio_wait){ .reply = reply, .req = req };
		tunnelio_reply_word(w, CTLMSG_UNAVAIL, tio->stopped ?
		    "shutting-down" : tio->t == NULL ? "not-enrolled" : "busy");
		return 0;
	}
	tio->stats.resolves++;
	token = ++tio->token_next;
	w->used = true;
	w->token = token;
	w->family = family;
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->reply = reply;
	w->req = req;
	/* The answer may come from inside tunnel_resolve (a live tunnel). */
	if ((rc = tunnel_resolve(tio->t, name, token, tunnelio_now())) < 0) {
		for (i = 0; i < TUNNELIO_WAITS_MAX; i++)
			if (tio->waits[i].used && tio->waits[i].token == token)
				tunnelio_reply_word(&tio->waits[i],
				    rc == -EBUSY ? CTLMSG_UNAVAIL :
				    CTLMSG_NOTFOUND, rc == -EBUSY ? "busy" :
				    "refused");
	}
	return 0;
}

/*
 * REVERSE: a virtual IP of a live tunnel is answered from the table.  For
 * any other address ntmd stands aside (UNAVAIL), so NSS asks DNS, where the
 * peer's DC answers the PTR; setting a tunnel up from an address (DESIGN.md
 * 7, the VIP -> FQDN -> DC lookup) is not built yet.
 */
static int
tunnelio_reverse(void *arg, const struct ctlmsg_addr *addr,
    ntmd_reply_fn reply, void *req)
{
	struct tunnelio *tio = arg;
	const struct tunnelio_tunnel *tt;
	struct tunnelio_wait w = { .reply = reply, .req = req };
	struct ctlmsg m;
	size_t i;

	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++) {
		tt = &tio->tunnels[i];
		if (!tt->used || tt->closing ||
		    !((addr->af == AF_INET && tt->has_vip4 &&
		    memcmp(addr->a, tt->vip4, 4) == 0) ||
		    (addr->af == AF_INET6 && tt->has_vip6 &&
		    memcmp(addr->a, tt->vip6, 16) == 0)))
			continue;
		memset(&m, 0, sizeof(m));
		m.type = CTLMSG_OK;
		snprintf(m.name, sizeof(m.name), "%s", tt->peer);
		m.addr[0] = *addr;
		m.naddr = 1;
		reply(req, &m);
		return 0;
	}
	tunnelio_reply_word(&w, CTLMSG_UNAVAIL, "no-tunnel");
	return 0;
}

const struct ntmd_resolver *
tunnelio_resolver(struct tunnelio *tio)
{
	return &tio->resolver;
}

/* ---- signalling from the DC and from peers ------------------------------- */

static void
tunnelio_status_notice(struct tunnelio *tio, const struct msg *m)
{
	const struct msg_attr *serial, *status;
	uint8_t out[PROTO_DATAGRAM_MAX];
	struct msg ack;
	size_t outlen;
	int rc;

	serial = msg_attr_find(m, PROTO_ATTR_SERIAL);
	status = msg_attr_find(m, PROTO_ATTR_STATUS);
	if (serial == NULL || status == NULL) {
		tio->stats.dc_dropped++;
		return;
	}
	if (serial->len == tio->serial_len && memcmp(serial->val,
	    tio->serial, serial->len) == 0) {
		/* Our own refreshed status, restapled in later handshakes. */
		if ((rc = tunnel_set_status(tio->t, status->val,
		    status->len)) == 0) {
			(void)store_write(tio->conf.state_dir, STORE_STATUS,
			    status->val, status->len);
			tunnelio_restaple(tio, status->val, status->len);
		}
		log_info("%s: own status refreshed by the DC%s", tio->fqdn,
		    rc == 0 ? "" : " but not usable");
	} else {
		rc = tunnel_peer_status(tio->t, serial->val, serial->len,
		    status->val, status->len, tunnelio_now());
		if (rc < 0)
			log_info("status notice for a peer: %s",
			    peercheck_strerror(rc));
	}
	msg_init(&ack, PROTO_MSG_STATUS_NOTICE_ACK);
	ack.hdr.txid = m->hdr.txid;
	ack.hdr.status = PROTO_STATUS_OK;
	if (msg_add_bytes(&ack, PROTO_ATTR_SERIAL, serial->val,
	    serial->len) < 0 || dcclient_seal(tio->conf.dc, &ack, out,
	    sizeof(out), &outlen) < 0)
		return;
	tunnelio_sendto(tio, out, outlen,
	    (const struct sockaddr *)tio->conf.dc_addr);
}

/*
 * A ROUTE_DIRECTION's header id is its path id (PROTOCOL.md 6.1), not the
 * session id dcclient_open() insists on, so it is opened here with the
 * same session key, sequence window and checks, and its PATH_ID must equal
 * the header id (an error answer without a path: the session id).  Being
 * sealed under k_DC->N of our registration is what
 * makes it come from our own DC.
 */
static int
tunnelio_dc_open(struct dcclient *dc, uint8_t *pkt, size_t len,
    uint64_t now, struct msg *m)
{
	uint8_t nonce[PROTO_NONCE_LEN];
	const struct msg_attr *pa;
	struct msg_header h;
	struct rbuf r;
	int rc;

	if (dc->k_rx == NULL)
		return -ENOTCONN;
	rbuf_init(&r, pkt, len);
	if ((rc = msg_header_decode(&r, &h)) < 0)
		return rc;
	if (h.type != PROTO_MSG_ROUTE_DIRECTION)
		return dcclient_open_at(dc, pkt, len, now, m);
	if (!(h.flags & PROTO_F_SEALED))
		return MSG_E_FLAGS;
	if ((size_t)PROTO_HEADER_LEN + h.length != len)
		return MSG_E_TRAILING;
	if (!replay_check(&dc->rx_window, h.seq))
		return -EALREADY;
	msg_nonce(&h, nonce);
	if ((rc = aead_open(dc->k_rx, nonce, pkt, PROTO_HEADER_LEN,
	    pkt + PROTO_HEADER_LEN, h.length, pkt + PROTO_HEADER_LEN,
	    h.length)) < 0)
		return rc;
	if (h.flags & PROTO_F_FRAGMENT) {
		/* PROTOCOL.md 11: each fragment opened, then reassembled. */
		if (replay_update(&dc->rx_window, h.seq) < 0)
			return -EALREADY;
		if ((rc = dcclient_fragment(dc, &h, pkt + PROTO_HEADER_LEN,
		    h.length - PROTO_TAG_LEN, now, m)) < 0)
			return rc;
	} else {
		if ((rc = msg_decode(pkt, len, m)) < 0)
			return rc;
		if (replay_update(&dc->rx_window, h.seq) < 0)
			return -EALREADY;
	}
	/* An error answer to MN has no path: its header id is the session's. */
	if ((pa = msg_attr_find(m, PROTO_ATTR_PATH_ID)) == NULL)
		return crypto_ct_equal(h.id, dc->sid, PROTO_ID_LEN) ? 0 :
		    -ENOMSG;
	if (pa->len != PROTO_ID_LEN || memcmp(pa->val, h.id,
	    PROTO_ID_LEN) != 0)
		return -EPROTO;
	return 0;
}

static int
tunnelio_dc(struct tunnelio *tio, uint8_t *pkt, size_t len)
{
	const struct msg_attr *pa;
	struct tunnelio_route *rt = NULL;
	struct msg m;
	uint8_t route = 0;
	bool bound;
	size_t i;
	int rc;

	if ((rc = tunnelio_dc_open(tio->conf.dc, pkt, len, tunnelio_now(),
	    &m)) == -EINPROGRESS)
		return 0;		/* a fragment, held */
	if (rc < 0)
		return rc;
	switch (m.hdr.type) {
	case PROTO_MSG_ROUTE_DIRECTION:
		if ((pa = msg_attr_find(&m, PROTO_ATTR_PATH_ID)) != NULL &&
		    pa->len == PROTO_ID_LEN &&
		    msg_attr_u8(&m, PROTO_ATTR_ROUTE, &route) == 0) {
			/* The DC repeats a Route Direction until our ACK. */
			for (i = 0; i < TUNNELIO_ROUTES_MAX && rt == NULL; i++)
				if (memcmp(tio->routes[i].path_id, pa->val,
				    PROTO_ID_LEN) == 0)
					rt = &tio->routes[i];
			if (rt == NULL) {
				rt = &tio->routes[tio->route_next];
				tio->route_next = (tio->route_next + 1) %
				    TUNNELIO_ROUTES_MAX;
				tunnelio_held_drop(rt);
				memset(rt, 0, sizeof(*rt));
				memcpy(rt->path_id, pa->val, PROTO_ID_LEN);
				rt->route = route;
			}
		}
		bound = rt != NULL && tunnelio_rs_start(tio, &m, rt);
		rc = tunnel_dc_input(tio->t, &m, tunnelio_now());
		if (rc < 0 && bound)
			rsbind_stop(tio->rsb, rt->path_id);
		return rc;
	case PROTO_MSG_STATUS_NOTICE:
		tunnelio_status_notice(tio, &m);
		return 0;
	default:
		return -EPROTO;
	}
}

/*
 * The next handshake's X25519 key pair (lib/x25519.h), made ahead so that
 * a setup takes a ready pair.  At start-up at once; after a handshake
 * TUNNELIO_SPARE_MS after the last signalling input, when the setups
 * around it are over: made right after our Tunnel Request or Response it
 * took a CPU from the peer's or the resolver's next step.  A setup that
 * comes first makes its pair itself.
 */
static bool
tunnelio_spare_wanted(const struct tunnelio *tio)
{
	return kex_allowed_has(&tio->kex, PROTO_KEX_ECDHE) &&
	    !x25519_spare_ready();
}

static void
tunnelio_spare(struct tunnelio *tio)
{
	if (tunnelio_spare_wanted(tio))
		(void)x25519_spare_fill(tio->conf.rng);
}

static void
tunnelio_spare_cb(uv_timer_t *h)
{
	tunnelio_spare(h->data);
}

static void
tunnelio_spare_later(struct tunnelio *tio)
{
	if (tunnelio_spare_wanted(tio))
		uv_timer_start(&tio->spare, tunnelio_spare_cb,
		    TUNNELIO_SPARE_MS, 0);
}

/* Microseconds of the monotonic clock: tunnel_timing. */
static uint64_t
tunnelio_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int
tunnelio_signal(struct tunnelio *tio, uint8_t *pkt, size_t len,
    const struct sockaddr *from, bool from_dc)
{
	char a[LOOP_ADDRSTRLEN];
	uint8_t type = len >= 2 ? pkt[1] : 0;
	struct msg_addr ma;
	int rc;

	if (tio->t == NULL || tio->stopped)
		rc = -ENOTCONN;
	else if (from_dc && (type == PROTO_MSG_ROUTE_DIRECTION ||
	    type == PROTO_MSG_STATUS_NOTICE))
		rc = tunnelio_dc(tio, pkt, len);
	else if (type == PROTO_MSG_TUNNEL_REQUEST ||
	    type == PROTO_MSG_TUNNEL_RESPONSE) {
		rc = tunnel_peer_input(tio->t, pkt, len, from,
		    tunnelio_now());
		/* Opened under k_treq / k_tresp: the RS has both sides. */
		if (rc == 0 && len >= PROTO_HEADER_LEN &&
		    rsbind_addr_of(from, &ma) == 0 && rsbind_from_rs(tio->rsb,
		    pkt + PROTO_HEADER_LEN - PROTO_ID_LEN, &ma))
			tunnelio_rs_arm(tio);
	} else if (type == PROTO_MSG_RS_COOKIE || type == PROTO_MSG_RS_HELLO) {
		/* A cookie from the RS; a hello is a peer's punch probe. */
		if ((rc = rsbind_addr_of(from, &ma)) == 0 &&
		    (rc = rsbind_input(tio->rsb, pkt, len, &ma,
		    uv_now(tio->conf.loop))) == 0)
			tunnelio_rs_arm(tio);
		if (rc == -ENOMSG)
			return 0;
	} else
		rc = -EPROTO;
	if (rc == 0)
		tunnelio_spare_later(tio);
	if (rc < 0) {
		if (from_dc)
			tio->stats.dc_dropped++;
		else
			tio->stats.peer_dropped++;
		(void)loop_addr_format(from, a, sizeof(a));
		log_debug("%s: %s dropped: %s", a, msg_type_name(type),
		    rc <= MSG_E_SHORT_HEADER ? msg_strerror(rc) :
		    rc <= -1000 ? peercheck_strerror(rc) : strerror(-rc));
	}
	return rc;
}

/* An accepted CERT_UPDATE may bring a renewed certificate: its serial. */
static void
tunnelio_peer_serial(struct tunnelio *tio, struct tunnelio_tunnel *tt)
{
	uint8_t serial[PROTO_SERIAL_MAX];
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	const uint8_t *der;
	size_t len, sl = sizeof(serial);

	intunnel_peer_cert(tt->it, &der, &len);
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned int)len;
	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0 &&
	    gnutls_x509_crt_get_serial(crt, serial, &sl) == 0)
		(void)tunnel_peer_renewed(tio->t, tt->path_id, serial, sl);
	gnutls_x509_crt_deinit(crt);
}

void
tunnelio_control(struct tunnelio *tio, struct dataplane_tunnel *dt,
    const uint8_t *p, size_t len)
{
	struct tunnelio_tunnel *tt = NULL;
	struct msg_header h;
	struct rbuf r;
	uint64_t before;
	struct msg m;
	size_t i;

	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++)
		if (tio->tunnels[i].used && tio->tunnels[i].dt == dt)
			tt = &tio->tunnels[i];
	rbuf_init(&r, p, len);
	if (tt == NULL || msg_header_decode(&r, &h) < 0)
		return;
	/* Fragments (a large CERT_UPDATE) are reassembled by intunnel. */
	if (h.flags & PROTO_F_FRAGMENT)
		m.hdr = h;
	else if (msg_decode(p, len, &m) < 0)
		return;
	switch (m.hdr.type) {
	case PROTO_MSG_TUNNEL_CLOSE:
		log_info("tunnel to %s closed by the peer (%s)", tt->peer,
		    msg_status_name(m.hdr.status));
		tunnelio_retire(tio, tt);
		break;
	case PROTO_MSG_TUNNEL_KEEPALIVE:
		break;
	case PROTO_MSG_REKEY_REQUEST:
	case PROTO_MSG_REKEY_RESPONSE:
	case PROTO_MSG_CERT_UPDATE:
	case PROTO_MSG_CERT_UPDATE_ACK:
		if (tt->it == NULL || tt->closing)
			break;
		before = intunnel_stats(tt->it)->cert_updates_accepted;
		(void)intunnel_input(tt->it, p, len, uv_now(tio->conf.loop),
		    time(NULL));
		if (intunnel_stats(tt->it)->cert_updates_accepted != before)
			tunnelio_peer_serial(tio, tt);
		tunnelio_tick_arm(tio);
		break;
	default:
		log_debug("tunnel to %s: %s not handled yet", tt->peer,
		    msg_type_name(m.hdr.type));
		break;
	}
}

/* ---- identity ------------------------------------------------------------ */

static int
tunnelio_pem_list(const char *path, gnutls_x509_crt_t **out, unsigned *n)
{
	gnutls_datum_t d = { NULL, 0 };
	int rc;

	if ((rc = gnutls_load_file(path, &d)) < 0)
		return -ENOENT;
	rc = gnutls_x509_crt_list_import2(out, n, &d, GNUTLS_X509_FMT_PEM, 0);
	gnutls_free(d.data);
	return rc < 0 ? -EINVAL : 0;
}

static void
tunnelio_crts_free(gnutls_x509_crt_t *c, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(c[i]);
	gnutls_free(c);
}

int
tunnelio_identity(struct tunnelio *tio, const char *fqdn)
{
	char path[PATH_MAX];
	uint8_t *status = NULL;
	size_t status_len, sl;
	struct peercheck_conf pcc;
	struct tunnel_conf tc;
	struct stat st;
	const char *what;
	int rc;

	if (tio->t != NULL)
		return 0;
	if (fqdn == NULL)
		return -EINVAL;
	if ((status = malloc(PROTO_STATUS_MAX_LEN)) == NULL)
		return -ENOMEM;
	what = tio->conf.ca_file != NULL ? tio->conf.ca_file : "ca_file";
	if (tio->conf.ca_file == NULL || (rc = tunnelio_pem_list(
	    tio->conf.ca_file, &tio->roots, &tio->nroots)) < 0) {
		rc = -ENOENT;
		goto bad;
	}
	what = STORE_CERT;
	snprintf(path, sizeof(path), "%s/%s", tio->conf.state_dir,
	    STORE_CERT);
	if ((rc = tunnelio_pem_list(path, &tio->chain, &tio->nchain)) < 0)
		goto bad;
	if (tio->nchain < 2) {
		rc = -EINVAL;
		goto bad;
	}
	if (stat(path, &st) == 0)
		tio->cert_mtime = st.st_mtim;
	tio->own = tio->chain[0];
	if (gnutls_x509_crt_export2(tio->own, GNUTLS_X509_FMT_DER,
	    &tio->own_der) < 0) {
		rc = -EINVAL;
		goto bad;
	}
	what = STORE_KEY;
	snprintf(path, sizeof(path), "%s/%s", tio->conf.state_dir, STORE_KEY);
	if ((rc = cert_key_read(path, &tio->key)) < 0)
		goto bad;
	what = STORE_STATUS;
	snprintf(path, sizeof(path), "%s/%s", tio->conf.state_dir,
	    STORE_STATUS);
	if (stat(path, &st) == 0)
		tio->status_mtime = st.st_mtim;
	if ((rc = store_read(tio->conf.state_dir, STORE_STATUS, status,
	    PROTO_STATUS_MAX_LEN, &status_len)) < 0)
		goto bad;
	sl = sizeof(tio->serial);
	what = "serial";
	if (gnutls_x509_crt_get_serial(tio->own, tio->serial, &sl) < 0) {
		rc = -EINVAL;
		goto bad;
	}
	tio->serial_len = sl;
	what = "trust";
	if ((rc = cert_trust_new(tio->roots, tio->nroots, &tio->trust)) < 0)
		goto bad;
	memset(&pcc, 0, sizeof(pcc));
	pcc.trust = tio->trust;
	pcc.as_ca = tio->chain[1];
	what = "peer checks";
	if ((rc = peercheck_new(&tio->pc, &pcc)) < 0)
		goto bad;
	if ((tio->fqdn = strdup(fqdn)) == NULL) {
		rc = -ENOMEM;
		goto bad;
	}
	memset(&tc, 0, sizeof(tc));
	tc.fqdn = tio->fqdn;
	tc.cert = tio->own;
	tc.key = tio->key;
	tc.status = status;
	tc.status_len = status_len;
	tc.kex_allowed = tio->kex;
	tc.pc = tio->pc;
	tc.rng = tio->conf.rng;
	tc.emit = tunnelio_emit;
	tc.arg = tio;
	tc.clock_us = tunnelio_clock_us;
	what = "tunnel";
	if ((rc = tunnel_new(&tio->t, &tc)) < 0)
		goto bad;
	free(status);
	log_info("%s: tunnel setup ready (kex %s%s)", fqdn,
	    kex_name(kex_allowed_first(&tio->kex)), tio->kex.n > 1 ?
	    " first" : "");
	return 0;
bad:
	log_warnx("%s: tunnels unavailable: %s: %s", fqdn, what,
	    rc <= -1000 ? cert_strerror(rc) : strerror(-rc));
	free(status);
	free(tio->fqdn);
	tio->fqdn = NULL;
	peercheck_free(tio->pc);
	tio->pc = NULL;
	cert_trust_free(tio->trust);
	tio->trust = NULL;
	gnutls_privkey_deinit(tio->key);
	tio->key = NULL;
	tunnelio_crts_free(tio->chain, tio->nchain);
	tio->chain = NULL;
	tio->nchain = 0;
	tio->own = NULL;
	gnutls_free(tio->own_der.data);
	tio->own_der.data = NULL;
	tunnelio_crts_free(tio->roots, tio->nroots);
	tio->roots = NULL;
	tio->nroots = 0;
	return rc;
}

/* ---- life cycle ---------------------------------------------------------- */

int
tunnelio_new(struct tunnelio **out, const struct tunnelio_conf *c)
{
	struct tunnelio *tio;

	*out = NULL;
	if (c == NULL || c->loop == NULL || c->dc == NULL ||
	    c->dc_addr == NULL || c->state_dir == NULL || c->rng == NULL)
		return -EINVAL;
	if ((tio = calloc(1, sizeof(*tio))) == NULL)
		return -ENOMEM;
	tio->conf = *c;
	if ((tio->frag = malloc(sizeof(*tio->frag))) == NULL) {
		free(tio);
		return -ENOMEM;
	}
	frag_table_init(tio->frag);
	if (c->kex_allowed == NULL)
		kex_allowed_default(&tio->kex);
	else if (kex_allowed_parse(c->kex_allowed, &tio->kex) < 0) {
		free(tio->frag);
		free(tio);
		return -EINVAL;
	}
	if (rsbind_new(&tio->rsb, tunnelio_rs_send, tio) < 0) {
		free(tio->frag);
		free(tio);
		return -ENOMEM;
	}
	tio->resolver.resolve = tunnelio_resolve;
	tio->resolver.reverse = tunnelio_reverse;
	tio->resolver.arg = tio;
	uv_timer_init(c->loop, &tio->timer);
	tio->timer.data = tio;
	uv_timer_init(c->loop, &tio->tick);
	tio->tick.data = tio;
	uv_timer_init(c->loop, &tio->rstimer);
	tio->rstimer.data = tio;
	uv_timer_init(c->loop, &tio->spare);
	tio->spare.data = tio;
	tio->timers_init = true;
	uv_timer_start(&tio->tick, tunnelio_tick_cb, TUNNELIO_TICK_MS, 0);
	tunnelio_spare(tio);
	*out = tio;
	return 0;
}

void
tunnelio_set_dataplane(struct tunnelio *tio, struct dataplane *dp,
    struct dataplane_io *io)
{
	tio->dp = dp;
	tio->dpio = io;
}

void
tunnelio_stop(struct tunnelio *tio)
{
	size_t i;

	if (tio == NULL || tio->stopped)
		return;
	/* Peers drop their side now instead of after the idle timeout. */
	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++)
		if (tio->tunnels[i].used && !tio->tunnels[i].closing)
			tunnelio_send_inner(tio, &tio->tunnels[i],
			    PROTO_MSG_TUNNEL_CLOSE, PROTO_STATUS_UNAVAILABLE);
	tio->stopped = true;
	for (i = 0; i < TUNNELIO_WAITS_MAX; i++)
		if (tio->waits[i].used)
			tunnelio_reply_word(&tio->waits[i], CTLMSG_UNAVAIL,
			    "shutting-down");
	uv_timer_stop(&tio->timer);
	uv_timer_stop(&tio->tick);
	uv_timer_stop(&tio->rstimer);
	uv_timer_stop(&tio->spare);
	uv_close((uv_handle_t *)&tio->timer, NULL);
	uv_close((uv_handle_t *)&tio->tick, NULL);
	uv_close((uv_handle_t *)&tio->rstimer, NULL);
	uv_close((uv_handle_t *)&tio->spare, NULL);
}

void
tunnelio_free(struct tunnelio *tio)
{
	size_t i;

	if (tio == NULL)
		return;
	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++)
		tunnelio_forget(tio, &tio->tunnels[i]);
	rsbind_free(tio->rsb);
	for (i = 0; i < TUNNELIO_ROUTES_MAX; i++)
		tunnelio_held_drop(&tio->routes[i]);
	free(tio->frag);
	gnutls_free(tio->own_der.data);
	tunnel_free(tio->t);
	peercheck_free(tio->pc);
	cert_trust_free(tio->trust);
	gnutls_privkey_deinit(tio->key);
	tunnelio_crts_free(tio->chain, tio->nchain);
	tunnelio_crts_free(tio->rchain, tio->nrchain);
	gnutls_privkey_deinit(tio->rkey);
	tunnelio_crts_free(tio->roots, tio->nroots);
	free(tio->fqdn);
	free(tio);
	x25519_spare_wipe();
}

/* ---- ntmctl -------------------------------------------------------------- */

/* Its setup's timing (CONTROL.md 4), the parts we measured. */
static void
tunnelio_list_timing(const struct tunnelio_tunnel *tt, struct ctlmsg *m)
{
	const struct {
		const char	*key;
		uint32_t	 us;
	} parts[] = {
		{ "setup-us", tt->timing.setup_us },
		{ "route-us", tt->timing.route_us },
		{ "request-us", tt->timing.request_us },
		{ "peer-us", tt->timing.peer_us },
		{ "finish-us", tt->timing.finish_us },
		{ "answer-us", tt->timing.answer_us },
	};
	size_t i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (parts[i].us != 0)
			(void)ctlmsg_opt_add_u64(m, parts[i].key, parts[i].us);
}

/*
 * The options of a TUNNEL line (CONTROL.md 4): the scheme, whether the
 * data goes through the RS, the data plane's counters of this tunnel, its
 * key epoch, age and idle time, its setup's timing.  Two words and at
 * most thirteen numbers stay far below the line limit with the two
 * addresses a tunnel has.
 */
static void
tunnelio_list_opts(struct tunnelio *tio, struct tunnelio_tunnel *tt,
    struct ctlmsg *m)
{
	const struct dataplane_stats *ds;
	uint64_t now = uv_now(tio->conf.loop), drops = 0;
	size_t i;

	if (kex_name(tt->kex) != NULL)
		(void)ctlmsg_opt_add(m, "kex", kex_name(tt->kex));
	(void)ctlmsg_opt_add(m, "via", tt->via_rs ? "rs" : "direct");
	if (tt->dt != NULL) {
		tunnelio_seen(tt, now);
		ds = dataplane_tunnel_stats(tt->dt);
		for (i = 1; i < DATAPLANE_VERDICT_COUNT; i++)
			drops += ds->drops[i];
		(void)ctlmsg_opt_add_u64(m, "packets-in", ds->packets_in);
		(void)ctlmsg_opt_add_u64(m, "packets-out", ds->packets_out);
		(void)ctlmsg_opt_add_u64(m, "bytes-in", ds->bytes_in);
		(void)ctlmsg_opt_add_u64(m, "bytes-out", ds->bytes_out);
		(void)ctlmsg_opt_add_u64(m, "drops", drops);
	}
	if (tt->it != NULL)
		(void)ctlmsg_opt_add_u64(m, "epoch", intunnel_epoch(tt->it));
	(void)ctlmsg_opt_add_u64(m, "age-s", now > tt->installed_at ?
	    (now - tt->installed_at) / 1000 : 0);
	(void)ctlmsg_opt_add_u64(m, "idle-s", now > tt->last_in ?
	    (now - tt->last_in) / 1000 : 0);
	tunnelio_list_timing(tt, m);
}

void
tunnelio_list(struct tunnelio *tio, struct control_reply *r)
{
	struct tunnelio_tunnel *tt;
	struct ctlmsg m;
	size_t i;

	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++) {
		tt = &tio->tunnels[i];
		if (!tt->used)
			continue;
		memset(&m, 0, sizeof(m));
		m.type = CTLMSG_TUNNEL;
		snprintf(m.name, sizeof(m.name), "%s", tt->peer);
		snprintf(m.word, sizeof(m.word), "%s", tt->route > 0 &&
		    tt->route <= PROTO_ROUTE_MAX ?
		    tunnelio_route_names[tt->route] : "unknown");
		snprintf(m.value, sizeof(m.value), "%s", tt->closing ?
		    "closing" : "up");
		if (tt->has_vip4) {
			m.addr[m.naddr].af = AF_INET;
			memcpy(m.addr[m.naddr++].a, tt->vip4, 4);
		}
		if (tt->has_vip6) {
			m.addr[m.naddr].af = AF_INET6;
			memcpy(m.addr[m.naddr++].a, tt->vip6, 16);
		}
		tunnelio_list_opts(tio, tt, &m);
		if (m.naddr > 0)
			control_reply_add(r, &m);
	}
}

int
tunnelio_close_peer(struct tunnelio *tio, const char *name,
    struct ctlmsg *closed)
{
	struct tunnelio_tunnel *tt = NULL;
	char hex[2 * PROTO_ID_LEN + 1];
	size_t i;

	memset(closed, 0, sizeof(*closed));
	if (tio->stopped)
		return -ESHUTDOWN;
	for (i = 0; i < TUNNELIO_TUNNELS_MAX && tt == NULL; i++)
		if (tio->tunnels[i].used && !tio->tunnels[i].closing &&
		    strcmp(tio->tunnels[i].peer, name) == 0)
			tt = &tio->tunnels[i];
	if (tt == NULL) {
		for (i = 0; i < TUNNELIO_WAITS_MAX; i++)
			if (tio->waits[i].used &&
			    strcmp(tio->waits[i].name, name) == 0)
				return -EINPROGRESS;
		return -ENOENT;
	}
	closed->type = CTLMSG_OK;
	snprintf(closed->name, sizeof(closed->name), "%s", tt->peer);
	if (tt->has_vip4) {
		closed->addr[closed->naddr].af = AF_INET;
		memcpy(closed->addr[closed->naddr++].a, tt->vip4, 4);
	}
	if (tt->has_vip6) {
		closed->addr[closed->naddr].af = AF_INET6;
		memcpy(closed->addr[closed->naddr++].a, tt->vip6, 16);
	}
	tunnelio_hex(tt->path_id, PROTO_ID_LEN, hex, sizeof(hex));
	log_info("tunnel to %s (path %s) closed on request", tt->peer, hex);
	/* OK: no fault of either side; the peer drops its half at once. */
	tunnelio_send_inner(tio, tt, PROTO_MSG_TUNNEL_CLOSE, PROTO_STATUS_OK);
	tio->stats.closed_by_request++;
	tt->closing = true;
	/* Not inside a data-plane call: gone before the answer is sent. */
	tunnelio_reap(tio);
	return 0;
}

/* Live tunnels whose data goes through the RS. */
static uint64_t
tunnelio_via_rs(const struct tunnelio *tio)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++)
		if (tio->tunnels[i].used && !tio->tunnels[i].closing &&
		    tio->tunnels[i].via_rs)
			n++;
	return n;
}

void
tunnelio_stats_reply(struct tunnelio *tio, struct control_reply *r)
{
	const struct tunnel_stats *ts;
	struct intunnel_stats sum;
	struct dataplane_stats ds;
	char key[CTLMSG_WORD_MAX + 1];
	uint32_t epoch = 0;
	size_t i;
	char v[32];

#define STAT_U64(key, val) do {						\
	snprintf(v, sizeof(v), "%llu", (unsigned long long)(val));	\
	control_reply_stat(r, key, v);					\
} while (0)
	STAT_U64("tunnel-resolves", tio->stats.resolves);
	STAT_U64("tunnel-installed", tio->stats.installed);
	STAT_U64("tunnel-install-failed", tio->stats.install_failed);
	STAT_U64("tunnel-closed", tio->stats.closed);
	STAT_U64("tunnel-idle-closed", tio->stats.idle_closed);
	STAT_U64("tunnel-closed-by-request", tio->stats.closed_by_request);
	STAT_U64("tunnel-refused-answers", tio->stats.answered_refused);
	STAT_U64("tunnel-dc-dropped", tio->stats.dc_dropped);
	STAT_U64("tunnel-peer-dropped", tio->stats.peer_dropped);
	STAT_U64("tunnels-via-rs", tunnelio_via_rs(tio));
	STAT_U64("tunnel-installed-via-rs", tio->stats.via_rs);
	STAT_U64("rs-bindings", rsbind_count(tio->rsb));
	STAT_U64("rs-hellos", rsbind_stats(tio->rsb)->hellos);
	STAT_U64("rs-punch-probes", rsbind_stats(tio->rsb)->probes);
	STAT_U64("rs-cookies", rsbind_stats(tio->rsb)->cookies);
	STAT_U64("rs-cookies-dropped", rsbind_stats(tio->rsb)->cookies_dropped);
	STAT_U64("rs-bound", rsbind_stats(tio->rsb)->bound);
	STAT_U64("rs-bind-failed", rsbind_stats(tio->rsb)->failed);
	STAT_U64("punch-requests-held", tio->punch_held);
	sum = tio->gone;
	for (i = 0; i < TUNNELIO_TUNNELS_MAX; i++)
		if (tio->tunnels[i].used && tio->tunnels[i].it != NULL) {
			tunnelio_stats_add(&sum,
			    intunnel_stats(tio->tunnels[i].it));
			if (intunnel_epoch(tio->tunnels[i].it) > epoch)
				epoch = intunnel_epoch(tio->tunnels[i].it);
		}
	STAT_U64("tunnel-rekeys", sum.rekeys);
	STAT_U64("tunnel-rekeys-started", sum.rekeys_started);
	STAT_U64("tunnel-rekey-retransmits", sum.rekey_retransmits);
	STAT_U64("tunnel-rekey-failed", sum.rekey_failed);
	STAT_U64("tunnel-rekey-dropped", sum.rekey_dropped);
	STAT_U64("tunnel-key-epoch-max", epoch);
	STAT_U64("tunnel-cert-updates-sent", sum.cert_updates_sent);
	STAT_U64("tunnel-cert-updates-acked", sum.cert_updates_acked);
	STAT_U64("tunnel-cert-updates-accepted", sum.cert_updates_accepted);
	STAT_U64("tunnel-cert-updates-refused", sum.cert_updates_refused);
	STAT_U64("tunnel-control-dropped", sum.dropped);
	if (tio->dp != NULL) {
		dataplane_stats_sum(tio->dp, &ds);
		STAT_U64("data-packets-in", ds.packets_in);
		STAT_U64("data-packets-out", ds.packets_out);
		/* Live tunnels' and the table's drops, by reason. */
		for (i = 1; i < DATAPLANE_VERDICT_COUNT; i++) {
			snprintf(key, sizeof(key), "data-drop-%s",
			    dataplane_verdict_name((enum dataplane_verdict)i));
			STAT_U64(key, ds.drops[i]);
		}
	}
	if (tio->t != NULL) {
		ts = tunnel_stats(tio->t);
		STAT_U64("tunnels-live", tunnel_count(tio->t));
		STAT_U64("tunnel-setups", ts->setups);
		STAT_U64("tunnel-established", ts->established);
		STAT_U64("tunnel-refused", ts->refused);
		STAT_U64("tunnel-timeouts", ts->timeouts);
		STAT_U64("tunnel-cert-fetches", ts->cert_fetches);
		STAT_U64("tunnel-cert-fetch-answers", ts->cert_fetch_answers);
	}
#undef STAT_U64
}
