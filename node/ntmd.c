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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "config_table.h"
#include "control.h"
#include "ctlmsg.h"
#include "dataplane.h"
#include "dcclient.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "netlink.h"
#include "ntmd.h"
#include "proto.h"
#include "rand.h"
#include "store.h"
#include "tun.h"

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

	/* Home DC. */
	struct dcclient		 dc;
	uv_timer_t		 dc_timer;
	struct sockaddr_storage	 dc_addr;
	bool			 has_dc;
	uint64_t		 signal_unhandled;

	struct control_server	 ctl;
	const struct ntmd_resolver *resolver;	/* NULL: not built yet */
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

/* Datagrams on the tunnel port that are not data (dataplane on_signal). */
static void
ntmd_on_signal(struct dataplane_io *io, const uint8_t *p, size_t len,
    const struct sockaddr *from)
{
	struct ntmd *n = io->arg;
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
	/* Route Directions, Tunnel Requests ...: node/tunnel's, not built. */
	n->signal_unhandled++;
	(void)loop_addr_format(from, a, sizeof(a));
	log_debug("%s: signalling type 0x%02x not handled (tunnel setup is "
	    "not built)", a, len >= 2 ? p[1] : 0);
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

static void
ntmd_dc_start(struct ntmd *n)
{
	struct store_ticket t;
	struct msg_addr la[PROTO_ADDRS_MAX];
	size_t nla;
	uint64_t now = ntmd_now();
	int rc;

	dcclient_set_wanted(&n->dc, n->cfg.lifetime_s, n->cfg.keepalive_s);
	uv_timer_init(&n->uv, &n->dc_timer);
	n->dc_timer.data = n;
	if (n->cfg.ndc_addr == 0) {
		log_info("no [dc] address configured: not registering");
		return;
	}
	n->dc_addr = n->cfg.dc_addr[0];
	n->has_dc = true;
	if ((rc = store_ticket_load(n->cfg.state_dir, &t)) < 0) {
		log_info("no DC ticket in %s (%s): authentication with the AS "
		    "is not built in this ntmd; not registering",
		    n->cfg.state_dir, strerror(-rc));
		return;
	}
	rc = dcclient_set_ticket(&n->dc, t.ticket, t.len, t.k_nd, t.expiry);
	memset(&t, 0, sizeof(t));
	if (rc < 0)
		return;
	if ((nla = ntmd_local_addrs(n, la)) == 0 ||
	    dcclient_set_addrs(&n->dc, la, nla, now) < 0) {
		log_warnx("no usable local address to register");
		return;
	}
	if ((rc = dcclient_start(&n->dc, now)) < 0)
		log_warnx("cannot register: %s", strerror(-rc));
	ntmd_dc_flush(n);
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
	STAT_U64("control-requests", n->ctl.requests);
#undef STAT_U64
	control_reply_stat(r, "tunnels", n->resolver != NULL ? "built" :
	    "not-built");
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
	v->arg = n;
}

/* ---- start-up --------------------------------------------------------- */

static void
ntmd_tun(struct ntmd *n)
{
	struct netlink *nl;
	int rc;

	if ((rc = tun_open(n->cfg.tun_name, n->cfg.mtu, &n->tunfd,
	    n->ifname)) < 0)
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
	n->dpio.arg = n;
	n->dpio_open = true;
	if ((rc = dataplane_io_start(&n->dpio, &n->uv, n->dp, n->fd4, n->fd6,
	    n->tunfd)) < 0)
		fatalx("data plane I/O: %s", strerror(-rc));
}

static int
ntmd_mkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
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
	ntmd_tun(&n);
	ntmd_sockets(&n);
	ntmd_dataplane(&n);
	ntmd_control(&n);
	ntmd_drop(&n);
	ntmd_dc_start(&n);
	log_info("started: %s, control socket %s", n.cfg.fqdn != NULL ?
	    n.cfg.fqdn : "(not enrolled)", n.cfg.socket_path);

	loop_run(&n.loop);

	control_server_stop(&n.ctl);
	uv_timer_stop(&n.dc_timer);
	if (n.dpio_open)
		dataplane_io_close(&n.dpio, ntmd_dpio_closed);
	loop_shutdown(&n.loop);
	dataplane_free(n.dp);
	dcclient_clear(&n.dc);
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
