/* ntmd.c -- the node daemon: options, start-up (TUN, sockets, control socket, privilege drop), the DC client's I/O, signals. */
#include "config.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cap-ng.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "cert.h"
#include "config_table.h"
#include "control.h"
#include "ctlmsg.h"
#include "dataplane.h"
#include "dcclient.h"
#include "enroll.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "netlink.h"
#include "ntmd.h"
#include "proto.h"
#include "rand.h"
#include "store.h"
#include "tls.h"
#include "tun.h"
#include "tunnelio.h"

#define NTMD_CONF_DEFAULT	SYSCONFDIR "/ntmobile/ntmd.conf"

/* The daemon's environment: one per process, owned by main(). */
struct ntmd {
	struct ntmd_config	 cfg;
	uv_loop_t		 uv;
	struct loop		 loop;
	struct ntm_rng		*rng;
	uint32_t		 uid;		/* after the privilege drop */
	uint64_t		 started;	/* ms */
	bool			 stopping;

	/* TUN and the one tunnel port (PROTOCOL.md 1), per family. */
	int			 tunfd, fd4, fd6;
	char			 ifname[IFNAMSIZ];
	unsigned		 ifindex;
	struct dataplane	*dp;
	struct dataplane_io	 dpio;
	bool			 dpio_open;
	uv_poll_t		 sigpoll[2];	/* before the data plane */
	unsigned		 nsigpoll;
	bool			 dp_wanted;

	/* Home DC. */
	struct dcclient		 dc;
	uv_timer_t		 dc_timer;
	uv_timer_t		 addr_timer;	/* interface address check */
	struct sockaddr_storage	 dc_addr;
	bool			 has_dc;
	uint64_t		 signal_unhandled;

	/* AS client (enrollment, authentication). */
	struct tls_creds	*as_creds;
	gnutls_privkey_t	 as_key;	/* key of an ENROLL, or NULL */
	char			*password;	/* read before the privilege
						 * drop for a first enrollment;
						 * wiped once enrolled */
	struct enroll_client	 as_ec;
	uv_timer_t		 as_timer;	/* answer timeout, retry */
	bool			 as_running;
	bool			 as_enrolling;
	bool			 as_renewing;	/* the next request renews */
	uv_timer_t		 renew_timer;
	uint32_t		 as_backoff_ms;	/* 0: the last exchange worked */
	int			 as_fail;	/* enum ntmd_as_fail, logged */

	/* Own status (status.der): asked again at its half-life. */
	uv_timer_t		 status_timer;
	bool			 status_refreshing;
	time_t			 status_this_update;	/* 0: none read */
	time_t			 status_next_update;
	time_t			 status_refresh_at;
	uint32_t		 status_retry_s;	/* AS gave no fresher one */
	uint64_t		 status_refreshes;

	struct control_server	 ctl;
	const struct ntmd_resolver *resolver;	/* NULL: not built yet */
	struct tunnelio		*tio;		/* tunnel setup glue */
};

enum ntmd_timer {
	NTMD_TIMER_INVALID = 0,
	NTMD_AS_TIMEOUT_MS = 30000,	/* one exchange with the AS */
	NTMD_AS_RETRY_MS = 10000,	/* after a failure to reach it */
	NTMD_AS_REFUSED_MS = 60000,	/* refused, no RETRY_AFTER */
	NTMD_TICKET_MARGIN_S = 60,	/* a ticket this close to expiry: new */
	NTMD_ADDR_CHECK_MS = 2000,	/* interface addresses read again */
	NTMD_RENEW_MIN_S = 5,		/* soonest renewal */
	NTMD_AS_BACKOFF_MAX_MS = 120000, /* retries double up to this */
	NTMD_STATUS_UNREADABLE_S = 60,	/* no status.der: ask again then */
	NTMD_STATUS_RETRY_S = 10,	/* no fresher status: doubling ... */
	NTMD_STATUS_RETRY_MAX_S = 120,	/* ... up to this */
};

/* Why the last exchange with the AS failed; a kind is logged once in a row. */
enum ntmd_as_fail {
	NTMD_AS_FAIL_NONE = 0,
	NTMD_AS_FAIL_LOCAL,		/* our files, CSR, TLS set-up */
	NTMD_AS_FAIL_TIMEOUT,		/* no answer */
	NTMD_AS_FAIL_ANSWER,		/* an answer that does not parse */
	NTMD_AS_FAIL_REFUSED,		/* status other than OK */
	NTMD_AS_FAIL_VERIFY,		/* certificate or vIPs not ours */
};

static uint64_t
ntmd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
ntmd_usage(void)
{
	fprintf(stderr, "usage: ntmd [-dnv] [-f file]\n");
	exit(2);
}

/* ---- DC client I/O ------------------------------------------------ */

static void	ntmd_dc_timer(uv_timer_t *);
static void	ntmd_as_begin(struct ntmd *);

static void
ntmd_dc_send(struct ntmd *n, const uint8_t *p, size_t len)
{
	const struct sockaddr *sa = (const struct sockaddr *)&n->dc_addr;
	int fd = sa->sa_family == AF_INET ? n->fd4 : n->fd6;
	char a[LOOP_ADDRSTRLEN];

	/* Losses (EAGAIN included) are covered by retransmission. */
	if (fd < 0 || sendto(fd, p, len, 0, sa, loop_addr_len(sa)) < 0) {
		(void)loop_addr_format(sa, a, sizeof(a));
		log_debug("dc %s: send: %s", a, fd < 0 ? "no socket" :
		    strerror(errno));
	}
}

/* Runs the DC client's actions, then arms its timer. */
static void
ntmd_dc_flush(struct ntmd *n)
{
	struct dcclient_action a;
	uint64_t next, now;
	char obs[INET6_ADDRSTRLEN];

	while (dcclient_poll(&n->dc, &a)) {
		switch (a.type) {
		case DCCLIENT_ACT_SEND:
			ntmd_dc_send(n, a.data, a.len);
			break;
		case DCCLIENT_ACT_REGISTERED:
			inet_ntop(n->dc.reg.observed.family ==
			    PROTO_FAMILY_IPV4 ? AF_INET : AF_INET6,
			    n->dc.reg.observed.addr, obs, sizeof(obs));
			log_info("%s: registered with the DC, observed %s port "
			    "%u, %s NAT, lifetime %us, keep-alive %us",
			    n->dc.reg.fqdn[0] != '\0' ? n->dc.reg.fqdn : "node",
			    obs, n->dc.reg.observed.port,
			    n->dc.reg.nat == PROTO_NAT_NONE ? "no" : "behind",
			    n->dc.reg.lifetime_s, n->dc.reg.keepalive_s);
			(void)tunnelio_identity(n->tio, n->cfg.fqdn);
			break;
		case DCCLIENT_ACT_LOST:
			log_warnx("registration with the DC lost (%s), "
			    "registering again", msg_status_name(a.status));
			break;
		case DCCLIENT_ACT_NEED_TICKET:
			log_warnx("the DC ticket is %s; ntmd needs a new one "
			    "from the AS", a.status == PROTO_STATUS_EXPIRED ?
			    "expired" : "refused");
			store_ticket_remove(n->cfg.state_dir);
			ntmd_as_begin(n);
			break;
		default:
			break;
		}
	}
	uv_timer_stop(&n->dc_timer);
	next = dcclient_next_timer(&n->dc);
	if (next == UINT64_MAX)
		return;
	now = ntmd_now();
	uv_timer_start(&n->dc_timer, ntmd_dc_timer, next > now ? next - now :
	    0, 0);
}

static void
ntmd_dc_timer(uv_timer_t *t)
{
	struct ntmd *n = t->data;

	dcclient_timer(&n->dc, ntmd_now());
	ntmd_dc_flush(n);
}

/* Datagrams on the tunnel port that are not data. */
static void
ntmd_signal(struct ntmd *n, const uint8_t *p, size_t len,
    const struct sockaddr *from)
{
	char a[LOOP_ADDRSTRLEN];
	int rc;

	if (len >= 2 && p[1] >= PROTO_MSG_REG_HELLO && p[1] <= 0x1f &&
	    n->has_dc && loop_addr_equal(from,
	    (const struct sockaddr *)&n->dc_addr)) {
		rc = dcclient_input(&n->dc, p, len, ntmd_now());
		if (rc < 0 && rc != -EPROTO) {
			(void)loop_addr_format(from, a, sizeof(a));
			log_debug("dc %s: dropped: %s", a,
			    rc <= MSG_E_SHORT_HEADER ? msg_strerror(rc) :
			    strerror(-rc));
		}
		if (rc != -EPROTO) {
			ntmd_dc_flush(n);
			return;
		}
	}
	/* Route Directions, Tunnel Requests ...: node/tunnel's. */
	if (tunnelio_signal(n->tio, (uint8_t *)p, len, from, n->has_dc &&
	    loop_addr_equal(from, (const struct sockaddr *)&n->dc_addr)) == 0)
		return;
	n->signal_unhandled++;
}

static void
ntmd_on_control(struct dataplane_io *io, struct dataplane_tunnel *t,
    const uint8_t *p, size_t len, const struct sockaddr *from)
{
	struct ntmd *n = io->arg;

	(void)from;
	tunnelio_control(n->tio, t, p, len);
}

static void
ntmd_on_signal(struct dataplane_io *io, const uint8_t *p, size_t len,
    const struct sockaddr *from)
{
	ntmd_signal(io->arg, p, len, from);
}

/*
 * Before the node has a virtual IP there is no data plane (it needs one to
 * check inner packets), so signalling on the tunnel port is read here; the
 * data plane takes the sockets over once enrollment gives the addresses.
 */
static void
ntmd_sigpoll_cb(uv_poll_t *h, int status, int events)
{
	struct ntmd *n = h->data;
	uint8_t buf[PROTO_DATAGRAM_MAX + 1];
	struct sockaddr_storage ss;
	socklen_t sl;
	ssize_t len;
	int fd = h == &n->sigpoll[0] ? n->fd4 : n->fd6;

	(void)events;
	if (status < 0)
		return;
	for (;;) {
		sl = sizeof(ss);
		len = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss,
		    &sl);
		if (len < 0)
			break;
		ntmd_signal(n, buf, (size_t)len, (struct sockaddr *)&ss);
	}
}

static void	ntmd_dataplane(struct ntmd *);

static void
ntmd_sigpoll_closed(uv_handle_t *h)
{
	struct ntmd *n = h->data;

	if (--n->nsigpoll == 0 && n->dp_wanted)
		ntmd_dataplane(n);
}

static void
ntmd_sigpoll_start(struct ntmd *n)
{
	int i, fd;

	for (i = 0; i < 2; i++) {
		fd = i == 0 ? n->fd4 : n->fd6;
		if (fd < 0)
			continue;
		if (uv_poll_init(&n->uv, &n->sigpoll[i], fd) < 0)
			fatalx("uv_poll_init");
		n->sigpoll[i].data = n;
		n->nsigpoll++;
		uv_poll_start(&n->sigpoll[i], UV_READABLE, ntmd_sigpoll_cb);
	}
	log_info("no virtual IP yet: the data plane starts after enrollment");
}

/* The virtual IPs are known now: hand the sockets to the data plane. */
static void
ntmd_sigpoll_handover(struct ntmd *n)
{
	int i;

	if (n->dpio_open || n->dp_wanted)
		return;
	n->dp_wanted = true;
	for (i = 0; i < 2; i++)
		if ((i == 0 ? n->fd4 : n->fd6) >= 0)
			uv_close((uv_handle_t *)&n->sigpoll[i],
			    ntmd_sigpoll_closed);
}

/* The node's outer addresses for REGISTRATION: config, else interfaces. */
static size_t
ntmd_local_addrs(struct ntmd *n, struct msg_addr *out)
{
	const struct ntmd_config *c = &n->cfg;
	struct ifaddrs *ifa, *i;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	size_t k = 0, j;

	for (j = 0; j < c->nlocal_addr && k < PROTO_ADDRS_MAX; j++, k++) {
		memset(&out[k], 0, sizeof(out[k]));
		if (c->local_addr[j].ss_family == AF_INET) {
			sin = (const void *)&c->local_addr[j];
			out[k].family = PROTO_FAMILY_IPV4;
			memcpy(out[k].addr, &sin->sin_addr, 4);
		} else {
			sin6 = (const void *)&c->local_addr[j];
			out[k].family = PROTO_FAMILY_IPV6;
			memcpy(out[k].addr, &sin6->sin6_addr, 16);
		}
		out[k].port = c->port;
	}
	if (k > 0 || getifaddrs(&ifa) < 0)
		return k;
	for (i = ifa; i != NULL && k < PROTO_ADDRS_MAX; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK) ||
		    !(i->ifa_flags & IFF_UP) ||
		    strcmp(i->ifa_name, n->ifname) == 0)
			continue;
		memset(&out[k], 0, sizeof(out[k]));
		if (i->ifa_addr->sa_family == AF_INET && n->fd4 >= 0) {
			sin = (const void *)i->ifa_addr;
			out[k].family = PROTO_FAMILY_IPV4;
			memcpy(out[k].addr, &sin->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6 && n->fd6 >= 0) {
			sin6 = (const void *)i->ifa_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
				continue;
			out[k].family = PROTO_FAMILY_IPV6;
			memcpy(out[k].addr, &sin6->sin6_addr, 16);
		} else
			continue;
		out[k].port = c->port;
		k++;
	}
	freeifaddrs(ifa);
	return k;
}

/* ---- AS client: enrollment and authentication (PROTOCOL.md 12.2) ---- */

static void	ntmd_register(struct ntmd *);
static void	ntmd_status_schedule(struct ntmd *);
static void	ntmd_password_forget(struct ntmd *);

static void
ntmd_sockaddr(const struct msg_addr *a, struct sockaddr_storage *ss)
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
ntmd_as_retry_cb(uv_timer_t *t)
{
	ntmd_as_begin(t->data);
}

static void
ntmd_as_later(struct ntmd *n, uint32_t ms)
{
	uv_timer_stop(&n->as_timer);
	uv_timer_start(&n->as_timer, ntmd_as_retry_cb, ms, 0);
}

/*
 * A failure of kind: a warning the first time in a row, debug after that
 * (an AS down for an hour does not fill the log).
 */
static void __attribute__((format(printf, 3, 4)))
ntmd_as_warn(struct ntmd *n, enum ntmd_as_fail kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(n->as_fail == (int)kind ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, fmt,
	    ap);
	va_end(ap);
	n->as_fail = kind;
}

/*
 * Asks again after a failure: 10 s, doubling up to 2 min; at_least_ms
 * (the AS's RETRY_AFTER, or the pause after a refusal) when longer.
 */
static void
ntmd_as_failed(struct ntmd *n, uint32_t at_least_ms)
{
	uint32_t ms;

	if (n->as_backoff_ms == 0)
		n->as_backoff_ms = NTMD_AS_RETRY_MS;
	else if (n->as_backoff_ms < NTMD_AS_BACKOFF_MAX_MS / 2)
		n->as_backoff_ms *= 2;
	else
		n->as_backoff_ms = NTMD_AS_BACKOFF_MAX_MS;
	ms = at_least_ms > n->as_backoff_ms ? at_least_ms : n->as_backoff_ms;
	log_debug("AS: asking again in %u s", ms / 1000);
	ntmd_as_later(n, ms);
}

static void
ntmd_as_timeout(uv_timer_t *t)
{
	struct ntmd *n = t->data;

	ntmd_as_warn(n, NTMD_AS_FAIL_TIMEOUT, "AS: no answer within %d s, "
	    "trying again later", NTMD_AS_TIMEOUT_MS / 1000);
	enroll_client_stop(&n->as_ec);
	n->as_running = false;
	ntmd_as_failed(n, 0);
}

/* Takes the identity the AS certified where the configuration gave none. */
static void
ntmd_as_identity(struct ntmd *n, const struct enroll_reply *r)
{
	struct config_prefix p;
	struct netlink *nl = NULL;
	const char *dot;
	int rc;

	if (n->cfg.fqdn == NULL && (n->cfg.fqdn = strdup(r->fqdn)) == NULL)
		fatal("strdup");
	if (n->cfg.nzones == 0 && (dot = strchr(r->fqdn, '.')) != NULL &&
	    (n->cfg.zones[n->cfg.nzones++] = strdup(dot + 1)) == NULL)
		fatal("strdup");
	if ((r->has_vip4 && !n->cfg.has_vip4) ||
	    (r->has_vip6 && !n->cfg.has_vip6)) {
		/* This is what CAP_NET_ADMIN is kept for. */
		if ((rc = netlink_open(&nl)) < 0) {
			log_warnx("netlink: %s", strerror(-rc));
			return;
		}
		memset(&p, 0, sizeof(p));
		if (r->has_vip4 && !n->cfg.has_vip4) {
			p.family = AF_INET;
			p.len = 32;
			memcpy(p.addr, r->vip4, 4);
			if ((rc = netlink_addr_add(nl, n->ifindex, &p)) < 0)
				log_warnx("%s: vip4: %s", n->ifname,
				    strerror(-rc));
			n->cfg.vip4 = p;
			n->cfg.has_vip4 = true;
		}
		memset(&p, 0, sizeof(p));
		if (r->has_vip6 && !n->cfg.has_vip6) {
			p.family = AF_INET6;
			p.len = 128;
			memcpy(p.addr, r->vip6, 16);
			if ((rc = netlink_addr_add(nl, n->ifindex, &p)) < 0)
				log_warnx("%s: vip6: %s", n->ifname,
				    strerror(-rc));
			n->cfg.vip6 = p;
			n->cfg.has_vip6 = true;
		}
		netlink_close(nl);
		ntmd_sigpoll_handover(n);
	}
	if (!n->has_dc && r->ndc > 0) {
		ntmd_sockaddr(&r->dc[0], &n->dc_addr);
		n->has_dc = true;
	}
}

static void
ntmd_renew_cb(uv_timer_t *t)
{
	struct ntmd *n = t->data;

	n->as_renewing = true;
	ntmd_as_begin(n);
}

/* Renewal at two thirds of the certificate's lifetime (PROTOCOL.md 12.2). */
static void
ntmd_renew_at(struct ntmd *n, time_t at)
{
	time_t now = time(NULL);
	uint64_t s = at > now + NTMD_RENEW_MIN_S ? (uint64_t)(at - now) :
	    NTMD_RENEW_MIN_S;

	uv_timer_stop(&n->renew_timer);
	uv_timer_start(&n->renew_timer, ntmd_renew_cb, s * 1000, 0);
	log_info("certificate renewal in %llu s", (unsigned long long)s);
}

/*
 * The own status is due again: AUTH_REQUEST with the node certificate,
 * whose answer carries a fresh status (and ticket).  An exchange already
 * running or waiting to retry brings one too; its answer schedules again.
 */
static void
ntmd_status_cb(uv_timer_t *t)
{
	struct ntmd *n = t->data;

	if (n->stopping || n->as_running || uv_is_active((uv_handle_t *)
	    &n->as_timer))
		return;
	n->status_refreshing = true;
	n->status_refreshes++;
	ntmd_as_begin(n);
}

/*
 * Reads thisUpdate and nextUpdate of status.der and arms the refresh at
 * its half-life (enroll_status_refresh_at).  A status already past it
 * that the last answer did not replace with a fresher one means the AS
 * keeps handing out the old one: asked again after 10 s, doubling to 2 min.
 */
static void
ntmd_status_schedule(struct ntmd *n)
{
	uint8_t *buf;
	size_t len;
	time_t tu = 0, nu = 0, at, now = time(NULL);
	uint64_t s;
	int rc;

	if (!n->cfg.has_as || n->cfg.ca_file == NULL)
		return;
	uv_timer_stop(&n->status_timer);
	if ((buf = malloc(PROTO_STATUS_MAX_LEN)) == NULL)
		fatal("malloc");
	if ((rc = store_read(n->cfg.state_dir, STORE_STATUS, buf,
	    PROTO_STATUS_MAX_LEN, &len)) == 0)
		rc = enroll_status_times(buf, len, &tu, &nu);
	free(buf);
	if (rc < 0) {
		log_warnx("%s/%s: no own status to read (%s): asking the AS "
		    "in %d s", n->cfg.state_dir, STORE_STATUS, strerror(-rc),
		    NTMD_STATUS_UNREADABLE_S);
		s = NTMD_STATUS_UNREADABLE_S;
		goto arm;
	}
	at = enroll_status_refresh_at(tu, nu);
	if (at > now) {
		s = (uint64_t)(at - now);
		n->status_retry_s = 0;
	} else if (tu > n->status_this_update) {
		/* Read for the first time, already due (an old file). */
		s = 0;
	} else {
		/* Logged once until a fresher status arrives. */
		if (n->status_retry_s == 0)
			log_warnx("AS: no fresher status than thisUpdate %lld "
			    "(valid until %lld), asking again from %d s to "
			    "%d s apart", (long long)tu, (long long)nu,
			    NTMD_STATUS_RETRY_S, NTMD_STATUS_RETRY_MAX_S);
		n->status_retry_s = n->status_retry_s == 0 ?
		    NTMD_STATUS_RETRY_S : n->status_retry_s * 2;
		if (n->status_retry_s > NTMD_STATUS_RETRY_MAX_S)
			n->status_retry_s = NTMD_STATUS_RETRY_MAX_S;
		s = n->status_retry_s;
		log_debug("own status: asking again in %llu s",
		    (unsigned long long)s);
	}
	if (tu != n->status_this_update)
		log_info("own status valid %lld..%lld, a fresh one asked for "
		    "in %llu s", (long long)tu, (long long)nu,
		    (unsigned long long)s);
	n->status_this_update = tu;
	n->status_next_update = nu;
arm:
	n->status_refresh_at = now + (time_t)s;
	uv_timer_start(&n->status_timer, ntmd_status_cb, s * 1000, 0);
}

static void
ntmd_as_done(void *arg, int err, const struct enroll_reply *r)
{
	struct ntmd *n = arg;
	time_t renew;
	int rc;

	n->as_running = false;
	uv_timer_stop(&n->as_timer);
	if (err < 0) {
		ntmd_as_warn(n, NTMD_AS_FAIL_ANSWER, "AS: unusable answer: %s",
		    err <= MSG_E_SHORT_HEADER ? msg_strerror(err) :
		    strerror(-err));
		ntmd_as_failed(n, 0);
		return;
	}
	if (r->status != PROTO_STATUS_OK) {
		ntmd_as_warn(n, NTMD_AS_FAIL_REFUSED, "AS refused %s: %s%s%s",
		    n->as_enrolling ? "enrollment" : "authentication",
		    msg_status_name(r->status), r->error_text[0] != '\0' ?
		    ": " : "", r->error_text);
		if (r->retry_after_ms != 0)
			ntmd_as_later(n, r->retry_after_ms);
		else
			ntmd_as_failed(n, NTMD_AS_REFUSED_MS);
		return;
	}
	rc = enroll_reply_verify(r, tls_creds_trust(n->as_creds),
	    n->cfg.fqdn, n->as_key, time(NULL), &renew);
	if (rc < 0) {
		ntmd_as_warn(n, NTMD_AS_FAIL_VERIFY, "AS: the certificate for "
		    "%s does not verify (%s)", r->fqdn, rc <= -1000 ?
		    cert_strerror(rc) : strerror(-rc));
		ntmd_as_failed(n, NTMD_AS_REFUSED_MS);
		return;
	}
	if ((n->cfg.has_vip4 && (!r->has_vip4 ||
	    memcmp(n->cfg.vip4.addr, r->vip4, 4) != 0)) ||
	    (n->cfg.has_vip6 && (!r->has_vip6 ||
	    memcmp(n->cfg.vip6.addr, r->vip6, 16) != 0))) {
		ntmd_as_warn(n, NTMD_AS_FAIL_VERIFY, "AS: the certificate for "
		    "%s carries other virtual IPs than [node] vip4/vip6 "
		    "configure", r->fqdn);
		ntmd_as_failed(n, NTMD_AS_REFUSED_MS);
		return;
	}
	if ((rc = enroll_reply_save(r, n->cfg.state_dir)) < 0)
		log_warnx("%s: cannot save what the AS gave: %s",
		    n->cfg.state_dir, strerror(-rc));
	else
		ntmd_password_forget(n);
	ntmd_as_identity(n, r);
	log_info("%s: %s by the AS, DC ticket until %llu", r->fqdn,
	    n->as_enrolling ? "enrolled" : n->as_renewing ? "renewed" :
	    n->status_refreshing ? "status refreshed" : "authenticated",
	    (unsigned long long)r->expiry);
	if (n->as_fail != NTMD_AS_FAIL_NONE)
		log_info("AS: answering again");
	n->as_fail = NTMD_AS_FAIL_NONE;
	n->as_backoff_ms = 0;
	n->as_renewing = false;
	n->status_refreshing = false;
	ntmd_renew_at(n, renew);
	/* The next handshakes staple the status just saved. */
	if ((rc = tunnelio_status_reload(n->tio)) < 0)
		log_warnx("%s/%s: not handed to the tunnels: %s",
		    n->cfg.state_dir, STORE_STATUS, strerror(-rc));
	ntmd_status_schedule(n);
	/* A live registration goes on; the next one uses the new ticket. */
	if (dcclient_set_ticket(&n->dc, r->ticket, r->ticket_len, r->k_nd,
	    r->expiry) == 0 && !dcclient_registered(&n->dc))
		ntmd_register(n);
}

/*
 * Reads the enrollment password: the first line of a file only ntmd's
 * user may read.  Returns a malloc'd string or NULL.
 */
static char *
ntmd_password(const char *path)
{
	char why[256], line[PROTO_PASSWORD_MAX + 2], *p;
	FILE *fp;

	if (config_check_private_file(path, why, sizeof(why)) < 0) {
		log_warnx("%s", why);
		return NULL;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	p = line[0] != '\0' ? strdup(line) : NULL;
	explicit_bzero(line, sizeof(line));
	return p;
}

static void
ntmd_password_forget(struct ntmd *n)
{
	if (n->password == NULL)
		return;
	explicit_bzero(n->password, strlen(n->password));
	free(n->password);
	n->password = NULL;
}

/*
 * An ntmd that drops privileges and has no certificate yet reads its
 * password now: the file is root's (0600) and ntmd's user cannot read it
 * once it runs as that user.
 */
static void
ntmd_password_early(struct ntmd *n)
{
	char path[PATH_MAX];

	if (n->cfg.user == NULL || n->cfg.password_file == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", n->cfg.state_dir, STORE_CERT);
	if (access(path, F_OK) == 0)
		return;
	n->password = ntmd_password(n->cfg.password_file);
}

/* The type of a private key (enum cert_keytype), CERT_KEY_INVALID if none. */
static int
ntmd_key_type(gnutls_privkey_t key)
{
	gnutls_pubkey_t pub;
	enum cert_keytype t;

	if (cert_pubkey_of(key, &pub) < 0)
		return CERT_KEY_INVALID;
	t = cert_key_type(pub);
	gnutls_pubkey_deinit(pub);
	return t;
}

/*
 * Asks the AS for a ticket: AUTH_REQUEST with the stored certificate, or
 * the first ENROLL_REQUEST (new key, CSR, account and password).
 */
static void
ntmd_as_begin(struct ntmd *n)
{
	char cert[PATH_MAX], key[PATH_MAX], *pw = NULL;
	uint8_t *req = NULL;
	gnutls_datum_t csr = { NULL, 0 };
	size_t len;
	uint32_t txid;
	int rc;

	if (n->as_running || n->stopping)
		return;
	if (!n->cfg.has_as || n->cfg.ca_file == NULL) {
		log_info("no DC ticket and no [as] address with a ca_file: "
		    "not registering");
		return;
	}
	tls_creds_free(n->as_creds);	/* the last exchange's, long closed */
	n->as_creds = NULL;
	gnutls_privkey_deinit(n->as_key);
	n->as_key = NULL;
	if ((req = malloc(ENROLL_REPLY_MAX)) == NULL)
		fatal("malloc");
	if ((rc = tls_creds_new(&n->as_creds)) < 0 ||
	    (rc = tls_creds_load_trust(n->as_creds, n->cfg.ca_file)) < 0) {
		ntmd_as_warn(n, NTMD_AS_FAIL_LOCAL, "%s: %s", n->cfg.ca_file,
		    rc <= -1000 ? cert_strerror(rc) : strerror(-rc));
		goto retry;
	}
	(void)rng_bytes(n->rng, &txid, sizeof(txid));
	snprintf(cert, sizeof(cert), "%s/%s", n->cfg.state_dir, STORE_CERT);
	snprintf(key, sizeof(key), "%s/%s", n->cfg.state_dir, STORE_KEY);
	if (access(cert, R_OK) == 0 && access(key, R_OK) == 0) {
		n->as_enrolling = false;
		if ((rc = tls_creds_load_key(n->as_creds, cert, key)) < 0) {
			ntmd_as_warn(n, NTMD_AS_FAIL_LOCAL, "%s: %s", key,
			    rc <= -1000 ? cert_strerror(rc) : strerror(-rc));
			goto retry;
		}
		if (!n->as_renewing)
			rc = enroll_request_encode(PROTO_MSG_AUTH_REQUEST, txid,
			    NULL, NULL, NULL, req, ENROLL_REPLY_MAX, &len);
		else if ((rc = cert_key_read(key, &n->as_key)) < 0 ||
		    (rc = enroll_csr_make(n->as_key, n->cfg.fqdn, &csr)) < 0) {
			ntmd_as_warn(n, NTMD_AS_FAIL_LOCAL, "renewal CSR: %s",
			    rc <= -1000 ? cert_strerror(rc) :
			    gnutls_strerror(rc));
			goto retry;
		} else
			rc = enroll_request_encode(PROTO_MSG_RENEW_REQUEST,
			    txid, NULL, NULL, &csr, req, ENROLL_REPLY_MAX,
			    &len);
	} else {
		n->as_enrolling = true;
		if (n->cfg.account == NULL || n->cfg.password_file == NULL ||
		    n->cfg.fqdn == NULL) {
			log_warnx("not enrolled, and no [as] account, "
			    "password_file and [node] fqdn to enroll with");
			goto out;
		}
		if ((pw = n->password != NULL ? strdup(n->password) :
		    ntmd_password(n->cfg.password_file)) == NULL)
			goto retry;
		/*
		 * A key left by an enrollment that got no answer is reused,
		 * unless [node] key_type asks for another type since.
		 */
		if (cert_key_read(key, &n->as_key) == 0 &&
		    ntmd_key_type(n->as_key) != n->cfg.key_type) {
			log_info("%s: not of [node] key_type: making a new key",
			    key);
			gnutls_privkey_deinit(n->as_key);
			n->as_key = NULL;
		}
		if (n->as_key == NULL) {
			(void)unlink(key);
			if ((rc = cert_key_generate(
			    (enum cert_keytype)n->cfg.key_type,
			    &n->as_key)) < 0 ||
			    (rc = cert_key_write(key, n->as_key)) < 0) {
				ntmd_as_warn(n, NTMD_AS_FAIL_LOCAL, "%s: %s",
				    key, rc <= -1000 ? cert_strerror(rc) :
				    strerror(-rc));
				goto retry;
			}
			log_info("%s: new %s key for enrollment", key,
			    n->cfg.key_type == CERT_KEY_RSA2048 ? "RSA-2048" :
			    "ECDSA P-256");
		}
		if ((rc = enroll_csr_make(n->as_key, n->cfg.fqdn, &csr)) < 0) {
			ntmd_as_warn(n, NTMD_AS_FAIL_LOCAL, "CSR: %s",
			    gnutls_strerror(rc));
			goto retry;
		}
		rc = enroll_request_encode(PROTO_MSG_ENROLL_REQUEST, txid,
		    n->cfg.account, pw, &csr, req, ENROLL_REPLY_MAX, &len);
	}
	if (rc < 0 || (rc = enroll_client_start(&n->as_ec, &n->uv,
	    (struct sockaddr *)&n->cfg.as_addr, n->as_creds, NULL, NULL, req,
	    len, txid, ntmd_as_done, n)) < 0) {
		ntmd_as_warn(n, NTMD_AS_FAIL_LOCAL, "AS: cannot start: %s",
		    strerror(-rc));
		goto retry;
	}
	n->as_running = true;
	uv_timer_stop(&n->as_timer);
	uv_timer_start(&n->as_timer, ntmd_as_timeout, NTMD_AS_TIMEOUT_MS, 0);
	log_info("AS: %s as %s", n->as_enrolling ? "enrolling" :
	    n->as_renewing ? "renewing" : n->status_refreshing ?
	    "asking for a fresh status" : "authenticating",
	    n->cfg.fqdn != NULL ? n->cfg.fqdn : "(name from the certificate)");
	goto out;
retry:
	ntmd_as_failed(n, 0);
out:
	gnutls_free(csr.data);
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	if (req != NULL) {
		explicit_bzero(req, ENROLL_REPLY_MAX);
		free(req);
	}
}

/* Registers with the ticket the DC client holds, from our addresses. */
static void
ntmd_register(struct ntmd *n)
{
	struct msg_addr la[PROTO_ADDRS_MAX];
	uint64_t now = ntmd_now();
	size_t nla;
	int rc;

	if (!n->has_dc) {
		log_info("no DC address (none configured, none from the AS): "
		    "not registering");
		return;
	}
	if ((nla = ntmd_local_addrs(n, la)) == 0 ||
	    dcclient_set_addrs(&n->dc, la, nla, now) < 0) {
		log_warnx("no usable local address to register");
		return;
	}
	if ((rc = dcclient_start(&n->dc, now)) < 0)
		log_warnx("cannot register: %s", strerror(-rc));
	ntmd_dc_flush(n);
}

/*
 * Mobility: the node's own addresses are read again every few seconds;
 * when they changed, dcclient registers again at once (PROTOCOL.md 7 step
 * 6).  The sockets are bound to wildcard addresses, so nothing is rebound.
 */
static void
ntmd_addr_check(uv_timer_t *t)
{
	struct ntmd *n = t->data;
	struct msg_addr la[PROTO_ADDRS_MAX];
	size_t nla;

	if (n->dc.state != DCCLIENT_REGISTERED &&
	    n->dc.state != DCCLIENT_REGISTERING)
		return;
	if ((nla = ntmd_local_addrs(n, la)) == 0)
		return;
	if (nla != n->dc.nlocal ||
	    memcmp(la, n->dc.local, nla * sizeof(la[0])) != 0) {
		log_info("local addresses changed: registering again");
		(void)dcclient_set_addrs(&n->dc, la, nla, ntmd_now());
		ntmd_dc_flush(n);
	}
}

/* A stored certificate from an earlier run: schedule its renewal. */
static void
ntmd_renew_stored(struct ntmd *n)
{
	char path[PATH_MAX];
	gnutls_x509_crt_t crt;
	struct cert_info ci;

	if (!n->cfg.has_as || n->cfg.ca_file == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", n->cfg.state_dir, STORE_CERT);
	if (cert_crt_read(path, &crt) < 0)
		return;
	if (cert_info(crt, &ci) == 0)
		ntmd_renew_at(n, ci.not_before +
		    (ci.not_after - ci.not_before) * 2 / 3);
	gnutls_x509_crt_deinit(crt);
}

/* With a stored ticket that is still valid, register; else ask the AS. */
static void
ntmd_dc_start(struct ntmd *n)
{
	struct store_ticket t;
	int rc;

	dcclient_set_wanted(&n->dc, n->cfg.lifetime_s, n->cfg.keepalive_s);
	uv_timer_init(&n->uv, &n->dc_timer);
	n->dc_timer.data = n;
	uv_timer_init(&n->uv, &n->as_timer);
	n->as_timer.data = n;
	uv_timer_init(&n->uv, &n->addr_timer);
	n->addr_timer.data = n;
	uv_timer_init(&n->uv, &n->renew_timer);
	n->renew_timer.data = n;
	uv_timer_init(&n->uv, &n->status_timer);
	n->status_timer.data = n;
	uv_timer_start(&n->addr_timer, ntmd_addr_check, NTMD_ADDR_CHECK_MS,
	    NTMD_ADDR_CHECK_MS);
	if (n->cfg.ndc_addr > 0) {
		n->dc_addr = n->cfg.dc_addr[0];
		n->has_dc = true;
	}
	rc = store_ticket_load(n->cfg.state_dir, &t);
	if (rc == 0 && t.expiry > (uint64_t)time(NULL) + NTMD_TICKET_MARGIN_S)
		rc = dcclient_set_ticket(&n->dc, t.ticket, t.len, t.k_nd,
		    t.expiry);
	else if (rc == 0)
		rc = -EKEYEXPIRED;
	explicit_bzero(&t, sizeof(t));
	if (rc < 0) {
		log_info("no usable DC ticket in %s (%s)", n->cfg.state_dir,
		    strerror(-rc));
		ntmd_as_begin(n);
		return;
	}
	ntmd_renew_stored(n);
	ntmd_status_schedule(n);
	ntmd_register(n);
}

/* ---- control socket view -------------------------------------------- */

static void
ntmd_stat_addr(struct control_reply *r, const char *key,
    const struct config_prefix *p)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family, p->addr, a, sizeof(a));
	control_reply_stat(r, key, a);
}

static void
ntmd_stats(void *arg, struct control_reply *r)
{
	struct ntmd *n = arg;
	const struct dcclient *dc = &n->dc;
	char v[LOOP_ADDRSTRLEN];
	uint64_t now = ntmd_now();

	control_reply_stat(r, "version", PACKAGE_VERSION);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)((now -
	    n->started) / 1000));
	control_reply_stat(r, "uptime", v);
	control_reply_stat(r, "fqdn", n->cfg.fqdn != NULL ? n->cfg.fqdn : "-");
	if (n->cfg.has_vip4)
		ntmd_stat_addr(r, "vip4", &n->cfg.vip4);
	if (n->cfg.has_vip6)
		ntmd_stat_addr(r, "vip6", &n->cfg.vip6);
	control_reply_stat(r, "device", n->ifname[0] != '\0' ? n->ifname :
	    "-");
	if (n->has_dc && loop_addr_format((const struct sockaddr *)
	    &n->dc_addr, v, sizeof(v)) == 0)
		control_reply_stat(r, "dc", v);
	control_reply_stat(r, "registration", dcclient_state_name(dc->state));
	if (dcclient_registered(dc)) {
		inet_ntop(dc->reg.observed.family == PROTO_FAMILY_IPV4 ?
		    AF_INET : AF_INET6, dc->reg.observed.addr, v, sizeof(v));
		control_reply_stat(r, "observed", v);
		snprintf(v, sizeof(v), "%u", dc->reg.observed.port);
		control_reply_stat(r, "observed-port", v);
		control_reply_stat(r, "nat", dc->reg.nat == PROTO_NAT_NONE ?
		    "none" : "behind");
		snprintf(v, sizeof(v), "%u", dc->reg.keepalive_s);
		control_reply_stat(r, "keepalive-s", v);
		snprintf(v, sizeof(v), "%u", dc->reg.lifetime_s);
		control_reply_stat(r, "lifetime-s", v);
	}
	if (dc->ticket_len > 0) {
		snprintf(v, sizeof(v), "%llu",
		    (unsigned long long)dc->ticket_expiry);
		control_reply_stat(r, "ticket-expiry", v);
	}
#define STAT_U64(key, val) do {						\
	snprintf(v, sizeof(v), "%llu", (unsigned long long)(val));	\
	control_reply_stat(r, key, v);					\
} while (0)
	STAT_U64("registrations", dc->stats.registrations);
	STAT_U64("keepalives", dc->stats.keepalives);
	STAT_U64("retransmits", dc->stats.retransmits);
	STAT_U64("dc-failures", dc->stats.failures);
	STAT_U64("dc-dropped", dc->stats.dropped);
	STAT_U64("signal-unhandled", n->signal_unhandled);
	if (n->status_this_update != 0) {
		STAT_U64("status-this-update", n->status_this_update);
		STAT_U64("status-next-update", n->status_next_update);
		STAT_U64("status-refresh-at", n->status_refresh_at);
	}
	STAT_U64("status-refreshes", n->status_refreshes);
	STAT_U64("control-requests", n->ctl.requests);
#undef STAT_U64
	tunnelio_stats_reply(n->tio, r);
	control_reply_stat(r, "tunnels", n->resolver != NULL ? "built" :
	    "not-built");
}

static void
ntmd_tunnels(void *arg, struct control_reply *r)
{
	struct ntmd *n = arg;

	tunnelio_list(n->tio, r);
}

/* CLOSE <fqdn> (ntmctl close): node/tunnelio tears the tunnel down. */
static int
ntmd_close(void *arg, const char *name, struct ctlmsg *closed)
{
	struct ntmd *n = arg;

	return tunnelio_close_peer(n->tio, name, closed);
}

static void
ntmd_view(void *arg, struct control_view *v)
{
	struct ntmd *n = arg;
	size_t i;

	v->fqdn = n->cfg.fqdn != NULL ? n->cfg.fqdn : "";
	for (i = 0; i < n->cfg.nzones && i < CONTROL_ZONES_MAX; i++)
		v->zones[i] = n->cfg.zones[i];
	v->nzones = i;
	if ((v->has_vip4 = n->cfg.has_vip4)) {
		v->vip4.af = AF_INET;
		memcpy(v->vip4.a, n->cfg.vip4.addr, 4);
	}
	if ((v->has_vip6 = n->cfg.has_vip6)) {
		v->vip6.af = AF_INET6;
		memcpy(v->vip6.a, n->cfg.vip6.addr, 16);
	}
	v->range4 = n->cfg.range4;
	v->range6 = n->cfg.range6;
	v->registered = dcclient_registered(&n->dc);
	v->stopping = n->stopping;
	v->setup_ms = n->cfg.setup_ms;
	v->daemon_uid = n->uid;
	v->stats = ntmd_stats;
	v->tunnels = ntmd_tunnels;
	v->close = ntmd_close;
	v->arg = n;
}

/* ---- start-up --------------------------------------------------------- */

static void
ntmd_tun(struct ntmd *n)
{
	struct netlink *nl;
	int rc;

	if ((rc = tun_open_offload(n->cfg.tun_name, n->cfg.mtu,
	    n->cfg.offload, &n->tunfd, n->ifname, NULL)) < 0)
		fatalx("TUN %s: %s", n->cfg.tun_name, strerror(-rc));
	if ((n->ifindex = if_nametoindex(n->ifname)) == 0)
		fatal("TUN %s: if_nametoindex", n->ifname);
	if ((rc = netlink_open(&nl)) < 0)
		fatalx("netlink: %s", strerror(-rc));
	if ((rc = netlink_link_up(nl, n->ifindex)) < 0)
		fatalx("%s: link up: %s", n->ifname, strerror(-rc));
	if (n->cfg.has_vip4 &&
	    (rc = netlink_addr_add(nl, n->ifindex, &n->cfg.vip4)) < 0)
		fatalx("%s: vip4: %s", n->ifname, strerror(-rc));
	if (n->cfg.has_vip6 &&
	    (rc = netlink_addr_add(nl, n->ifindex, &n->cfg.vip6)) < 0)
		fatalx("%s: vip6: %s", n->ifname, strerror(-rc));
	if ((rc = netlink_route_add(nl, n->ifindex, &n->cfg.range4,
	    n->cfg.has_vip4 ? &n->cfg.vip4 : NULL)) < 0)
		fatalx("%s: route for range4: %s", n->ifname, strerror(-rc));
	if ((rc = netlink_route_add(nl, n->ifindex, &n->cfg.range6,
	    n->cfg.has_vip6 ? &n->cfg.vip6 : NULL)) < 0)
		fatalx("%s: route for range6: %s", n->ifname, strerror(-rc));
	netlink_close(nl);
	log_info("%s up, mtu %d", n->ifname, n->cfg.mtu);
}

/* One socket per family on the wildcard address (no rebinding on moves). */
static void
ntmd_sockets(struct ntmd *n)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	int rc4, rc6;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(n->cfg.port);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(n->cfg.port);
	rc4 = loop_udp_socket((struct sockaddr *)&sin, 0, &n->fd4);
	rc6 = loop_udp_socket((struct sockaddr *)&sin6, 0, &n->fd6);
	if (rc4 < 0)
		n->fd4 = -1;
	if (rc6 < 0)
		n->fd6 = -1;
	if (rc4 < 0 && rc6 < 0)
		fatalx("UDP port %u: %s", n->cfg.port, strerror(-rc4));
	if (rc4 < 0 || rc6 < 0)
		log_warnx("UDP port %u: IPv%d unavailable: %s", n->cfg.port,
		    rc4 < 0 ? 4 : 6, strerror(-(rc4 < 0 ? rc4 : rc6)));
}

static void
ntmd_dataplane(struct ntmd *n)
{
	struct dataplane_conf dc;
	int rc;

	memset(&dc, 0, sizeof(dc));
	if ((dc.has_vip4 = n->cfg.has_vip4))
		memcpy(dc.vip4, n->cfg.vip4.addr, 4);
	if ((dc.has_vip6 = n->cfg.has_vip6))
		memcpy(dc.vip6, n->cfg.vip6.addr, 16);
	if ((rc = dataplane_new(&n->dp, &dc, n->rng)) < 0)
		fatalx("data plane: %s", strerror(-rc));
	memset(&n->dpio, 0, sizeof(n->dpio));
	n->dpio.on_signal = ntmd_on_signal;
	n->dpio.on_control = ntmd_on_control;
	n->dpio.arg = n;
	n->dpio_open = true;
	if ((rc = dataplane_io_start(&n->dpio, &n->uv, n->dp, n->fd4, n->fd6,
	    n->tunfd)) < 0)
		fatalx("data plane I/O: %s", strerror(-rc));
	/* With TUN offloads the kernel's UDP GRO pays (dataplane.h). */
	if (n->dpio.vnet && (rc = dataplane_io_gro(&n->dpio, true)) < 0)
		log_info("data plane: no UDP GRO (%s)", strerror(-rc));
	tunnelio_set_dataplane(n->tio, n->dp, &n->dpio);
	if (n->dp_wanted)
		log_info("data plane started with the certified addresses");
}

/*
 * A restart with a certificate in state_dir and no [node] vip4/vip6: the
 * certificate's virtual IPs (and name) are the node's at once, so the
 * data plane runs before any AS exchange (which a stored DC ticket makes
 * unnecessary).  Without a readable certificate, enrollment gives them.
 */
static void
ntmd_stored_identity(struct ntmd *n)
{
	char path[PATH_MAX];
	struct cert_info in;
	gnutls_x509_crt_t crt;

	if (n->cfg.has_vip4 || n->cfg.has_vip6)
		return;
	snprintf(path, sizeof(path), "%s/%s", n->cfg.state_dir, STORE_CERT);
	if (cert_crt_read(path, &crt) < 0)
		return;
	if (cert_info(crt, &in) < 0 || (!in.has_vip4 && !in.has_vip6) ||
	    (n->cfg.fqdn != NULL && strcmp(n->cfg.fqdn, in.fqdn) != 0)) {
		log_warnx("%s: not a certificate for this node: enrolling "
		    "for the virtual IPs", path);
		gnutls_x509_crt_deinit(crt);
		return;
	}
	gnutls_x509_crt_deinit(crt);
	if ((int)in.keytype != n->cfg.key_type)
		log_info("%s: its key is not of [node] key_type, which applies "
		    "at the next enrollment (ntmd.conf(5))", path);
	if (n->cfg.fqdn == NULL && (n->cfg.fqdn = strdup(in.fqdn)) == NULL)
		fatal("strdup");
	if (in.has_vip4) {
		memset(&n->cfg.vip4, 0, sizeof(n->cfg.vip4));
		n->cfg.vip4.family = AF_INET;
		n->cfg.vip4.len = 32;
		memcpy(n->cfg.vip4.addr, &in.vip4, 4);
		n->cfg.has_vip4 = true;
	}
	if (in.has_vip6) {
		memset(&n->cfg.vip6, 0, sizeof(n->cfg.vip6));
		n->cfg.vip6.family = AF_INET6;
		n->cfg.vip6.len = 128;
		memcpy(n->cfg.vip6.addr, &in.vip6, 16);
		n->cfg.has_vip6 = true;
	}
	log_info("virtual IPs from %s", path);
}

static int
ntmd_mkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Tunnel setup (node/tunnelio): the resolver the control socket uses. */
static void
ntmd_tunnelio(struct ntmd *n)
{
	struct tunnelio_conf tc;
	int rc;

	memset(&tc, 0, sizeof(tc));
	tc.loop = &n->uv;
	tc.dc = &n->dc;
	tc.dc_addr = &n->dc_addr;
	tc.fd4 = n->fd4;
	tc.fd6 = n->fd6;
	tc.state_dir = n->cfg.state_dir;
	tc.ca_file = n->cfg.ca_file;
	tc.kex_allowed = n->cfg.kex_allowed;
	tc.rekey_ms = n->cfg.rekey_ms;
	tc.rng = n->rng;
	if ((rc = tunnelio_new(&n->tio, &tc)) < 0)
		fatalx("tunnel setup: %s%s", rc == -EINVAL ?
		    "[tunnel] kex_allowed names an unknown scheme: " : "",
		    n->cfg.kex_allowed != NULL ? n->cfg.kex_allowed :
		    strerror(-rc));
	n->resolver = tunnelio_resolver(n->tio);
}

/* The control socket's directory: made root-owned 0755 when missing. */
static void
ntmd_control(struct ntmd *n)
{
	char dir[CTLMSG_PATH_MAX], *slash;
	int rc;

	snprintf(dir, sizeof(dir), "%s", n->cfg.socket_path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if ((rc = ntmd_mkdir(dir, 0755)) < 0)
			fatalx("%s: %s", dir, strerror(-rc));
	}
	if ((rc = control_server_start(&n->ctl, &n->uv, n->cfg.socket_path,
	    ntmd_view, n->resolver, n)) < 0)
		fatalx("control socket %s: %s", n->cfg.socket_path,
		    strerror(-rc));
}

/*
 * Runs as cfg.user from here on, keeping CAP_NET_ADMIN (routes, and later
 * address changes on the TUN).  The state directory and ntmd's files in it
 * become the user's (they may have been put there by root).
 */
static void
ntmd_drop(struct ntmd *n)
{
	static const char *const files[] = { STORE_KEY, STORE_CERT,
	    STORE_STATUS, STORE_TICKET, STORE_TICKET_KEY };
	char path[PATH_MAX];
	struct passwd *pw;
	size_t i;

	n->uid = (uint32_t)geteuid();
	if (n->cfg.user == NULL)
		return;
	if ((pw = getpwnam(n->cfg.user)) == NULL)
		fatalx("user %s: no such user", n->cfg.user);
	if (chown(n->cfg.state_dir, pw->pw_uid, pw->pw_gid) < 0)
		fatal("chown %s", n->cfg.state_dir);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", n->cfg.state_dir,
		    files[i]);
		if (lchown(path, pw->pw_uid, pw->pw_gid) < 0 &&
		    errno != ENOENT)
			fatal("chown %s", path);
	}
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
	    CAP_NET_ADMIN) < 0 ||
	    capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
	    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING) != 0)
		fatalx("cannot become %s keeping CAP_NET_ADMIN", n->cfg.user);
	n->uid = (uint32_t)pw->pw_uid;
	log_info("running as %s with CAP_NET_ADMIN only", n->cfg.user);
}

static void
ntmd_on_stop(struct loop *l, void *arg)
{
	struct ntmd *n = arg;

	(void)l;
	log_info("stopping");
	n->stopping = true;
	loop_stop(&n->loop);
}

static void
ntmd_dpio_closed(struct dataplane_io *io)
{
	(void)io;
}

int
main(int argc, char *argv[])
{
	static struct ntmd n;
	const char *conf = NTMD_CONF_DEFAULT;
	char *errors = NULL;
	int ch, rc, debug = 0, check = 0, verbose = 0;

	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			conf = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			ntmd_usage();
		}
	}
	if (optind != argc)
		ntmd_usage();

	if ((rc = ntmd_config_load(&n.cfg, conf, &errors)) < 0) {
		if (errors != NULL)
			fputs(errors, stderr);
		else
			fprintf(stderr, "%s: %s\n", conf, strerror(-rc));
		free(errors);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		if (verbose)
			ntmd_config_dump(&n.cfg, stdout);
		ntmd_config_free(&n.cfg);
		return 0;
	}

	log_init("ntmd", debug, verbose ? LOG_LEVEL_DEBUG :
	    (enum log_level)n.cfg.log_level);
	if (!debug && daemon(0, 0) < 0)
		fatal("daemon");
	n.rng = rng_system();
	n.started = ntmd_now();
	n.tunfd = n.fd4 = n.fd6 = -1;
	if ((rc = ntmd_mkdir(n.cfg.state_dir, 0700)) < 0)
		fatalx("%s: %s", n.cfg.state_dir, strerror(-rc));
	if (uv_loop_init(&n.uv) < 0)
		fatalx("uv_loop_init");
	if ((rc = loop_init(&n.loop, &n.uv, NULL, ntmd_on_stop, &n)) < 0)
		fatalx("loop: %s", uv_strerror(rc));

	dcclient_init(&n.dc, n.rng);
	ntmd_stored_identity(&n);
	ntmd_tun(&n);
	ntmd_sockets(&n);
	ntmd_tunnelio(&n);
	if (n.cfg.has_vip4 || n.cfg.has_vip6)
		ntmd_dataplane(&n);
	else
		ntmd_sigpoll_start(&n);
	ntmd_control(&n);
	ntmd_password_early(&n);
	ntmd_drop(&n);
	ntmd_dc_start(&n);
	log_info("started: %s, control socket %s", n.cfg.fqdn != NULL ?
	    n.cfg.fqdn : "(not enrolled)", n.cfg.socket_path);

	loop_run(&n.loop);

	tunnelio_stop(n.tio);
	control_server_stop(&n.ctl);
	uv_timer_stop(&n.dc_timer);
	uv_timer_stop(&n.as_timer);
	uv_timer_stop(&n.addr_timer);
	uv_timer_stop(&n.renew_timer);
	uv_timer_stop(&n.status_timer);
	if (n.as_running)
		enroll_client_stop(&n.as_ec);
	if (n.dpio_open)
		dataplane_io_close(&n.dpio, ntmd_dpio_closed);
	loop_shutdown(&n.loop);
	tunnelio_free(n.tio);
	dataplane_free(n.dp);
	dcclient_clear(&n.dc);
	tls_creds_free(n.as_creds);
	gnutls_privkey_deinit(n.as_key);
	ntmd_password_forget(&n);
	if (n.fd4 >= 0)
		close(n.fd4);
	if (n.fd6 >= 0)
		close(n.fd6);
	if (n.tunfd >= 0)
		close(n.tunfd);
	ntmd_config_free(&n.cfg);
	log_info("stopped");
	return 0;
}
