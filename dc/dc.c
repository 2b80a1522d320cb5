/* dc.c -- ntm-dc main: options, configuration, signals, zone reloads, signalling start-up and the event loop. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <uv.h>

#include "dc.h"
#include "dnsnet.h"
#include "federation.h"
#include "log.h"
#include "loop.h"
#include "notice.h"
#include "ocsp.h"
#include "ocsphttp.h"
#include "rand.h"
#include "signal.h"
#include "sigio.h"
#include "tls.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DC_CONFIG_DEFAULT SYSCONFDIR "/ntmobile/ntm-dc.conf"

/* The daemon's environment: owned here, handed to parts by pointer. */
struct dc {
	uv_loop_t		*loop;
	struct dc_config	 cfg;
	struct dns_server	 srv;
	struct dnsnet		*net;
	struct rrl		*rrl;
	struct signal		*sig;		/* node signalling core */
	struct sigio		*sigio;		/* its UDP sockets */
	struct notice		*notice;	/* status store, AS notices */
	struct notice_server	*nsrv;		/* their TLS listener */
	struct tls_creds	*creds;		/* [tls] */
	struct ocsphttp		*ocsp;		/* [ocsp] responder */
	uv_signal_t		 sighup, sigterm, sigint;
	/* One reload at a time, built off the loop thread. */
	uv_work_t		 reload;
	bool			 reloading;
	bool			 reload_again;
	struct zone		*reload_zone;
	uint32_t		 reload_old_serial;
	uint64_t		 reload_old_digest;
	int			 reload_rc;
	bool			 reload_changed;
};

static void
dc_usage(void)
{
	fprintf(stderr, "usage: ntm-dc [-dnv] [-f file]\n");
	exit(2);
}

/*
 * Builds a zone from the file and (unless only checking the configuration,
 * which must not create the database) the database's nodes.
 */
static int
dc_zone_build(const struct dc_config *cfg, bool with_db, bool to_stderr,
    struct zone **zp)
{
	char err[4096];
	int rc;

	if ((rc = zone_new(&cfg->zcfg, zp, err, sizeof(err))) < 0) {
		if (to_stderr)
			fprintf(stderr, "%s\n", err);
		else
			log_warnx("zone %s: %s", cfg->zone, err);
		return rc;
	}
	if (with_db && cfg->db_path != NULL &&
	    (rc = zone_db_load(*zp, cfg->db_path)) < 0) {
		zone_free(*zp);
		*zp = NULL;
		return rc;
	}
	return 0;
}

/*
 * While the DC runs, other parts hold connections to its database, and
 * lib/db's db_open() opens and closes the file before SQLite does: that
 * close drops every POSIX lock this process holds on it, and another
 * process's last close then deletes the WAL under them.  So the reload
 * reaches the database through SQLite alone, which shares one descriptor
 * per file between a process's connections.
 */
static int
dc_db_open_raw(const char *path, sqlite3 **db)
{
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		log_warnx("%s: %s", path, *db != NULL ? sqlite3_errmsg(*db) :
		    "cannot open");
		sqlite3_close(*db);
		*db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(*db, 5000);
	return 0;
}

/* The nodes table into the zone (a reload's half of zone_db_load). */
static int
dc_db_nodes_load(struct zone *z, const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int rc = -EIO, src;

	if (dc_db_open_raw(path, &db) < 0)
		return -EIO;
	if (sqlite3_prepare_v2(db, "SELECT fqdn, vip4, vip6 FROM nodes "
	    "ORDER BY fqdn", -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *fqdn = (const char *)sqlite3_column_text(st, 0);
		const char *v4 = (const char *)sqlite3_column_text(st, 1);
		const char *v6 = (const char *)sqlite3_column_text(st, 2);
		int nrc;

		if (fqdn != NULL && (nrc = zone_node_set(z, fqdn, v4, v6)) < 0)
			log_warnx("%s: node %s (%s, %s) skipped: %s", path,
			    fqdn, v4 ? v4 : "-", v6 ? v6 : "-",
			    strerror(-nrc));
	}
	if (src == SQLITE_DONE)
		rc = 0;
out:
	if (rc < 0)
		log_warnx("%s: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* The serial of every apex (a reload's zone_db_save_serial). */
static int
dc_db_serial_save(const struct zone *z, const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	char name[1024];
	int a, rc = -EIO;
	size_t n;

	if (dc_db_open_raw(path, &db) < 0)
		return -EIO;
	if (sqlite3_prepare_v2(db, "INSERT INTO zone_serial (zone, serial) "
	    "VALUES (?1, ?2) ON CONFLICT (zone) DO UPDATE SET serial = ?2",
	    -1, &st, NULL) != SQLITE_OK)
		goto out;
	for (a = 0; a < zone_apex_count(z); a++) {
		const struct zone_apex *ap = zone_apex_get(z, a);

		if (dns_name_str(ap->name, ap->namelen, name,
		    sizeof(name)) < 0)
			goto out;
		if ((n = strlen(name)) > 1)
			name[n - 1] = '\0';
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, zone_serial(z));
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		log_warnx("%s: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

static void
dc_reload_work(uv_work_t *w)
{
	struct dc *dc = w->data;
	struct zone *z;
	uint32_t s;

	dc->reload_changed = false;
	if ((dc->reload_rc = dc_zone_build(&dc->cfg, false, false, &z)) < 0)
		return;
	if (dc->cfg.db_path != NULL &&
	    (dc->reload_rc = dc_db_nodes_load(z, dc->cfg.db_path)) < 0) {
		zone_free(z);
		return;
	}
	/*
	 * Same records: keep the serial.  Changed: at least one past the old
	 * one (the file's serial wins when it is ahead).
	 */
	s = zone_serial(z);
	if (zone_digest(z) == dc->reload_old_digest)
		zone_set_serial(z, dc->reload_old_serial);
	else {
		if ((int32_t)(s - dc->reload_old_serial) <= 0)
			zone_set_serial(z, dc->reload_old_serial + 1);
		dc->reload_changed = true;
	}
	if (dc->cfg.db_path != NULL)
		(void)dc_db_serial_save(z, dc->cfg.db_path);
	dc->reload_zone = z;
}

static void dc_reload_start(struct dc *);

static void
dc_reload_done(uv_work_t *w, int status)
{
	struct dc *dc = w->data;
	struct zone *old = dc->srv.zone;

	dc->reloading = false;
	if (status < 0 || dc->reload_rc < 0 || dc->reload_zone == NULL)
		log_warnx("reload failed; still serving serial %u",
		    zone_serial(old));
	else {
		dc->srv.zone = dc->reload_zone;
		dc->reload_zone = NULL;
		zone_free(old);
		log_info("reloaded %s: serial %u, %zu nodes%s", dc->cfg.zone,
		    zone_serial(dc->srv.zone), zone_node_count(dc->srv.zone),
		    dc->reload_changed ? "" : " (unchanged)");
		if (dc->reload_changed)
			dnsnet_notify(dc->net);
	}
	if (dc->reload_again) {
		dc->reload_again = false;
		dc_reload_start(dc);
	}
}

static void
dc_reload_start(struct dc *dc)
{
	if (dc->reloading) {
		dc->reload_again = true;
		return;
	}
	dc->reloading = true;
	dc->reload_zone = NULL;
	dc->reload_old_serial = zone_serial(dc->srv.zone);
	dc->reload_old_digest = zone_digest(dc->srv.zone);
	dc->reload.data = dc;
	if (uv_queue_work(dc->loop, &dc->reload, dc_reload_work,
	    dc_reload_done) < 0) {
		dc->reloading = false;
		log_warnx("reload: cannot queue work");
	}
}

/*
 * Registry -> DNS: a node that registers with new virtual IPs answers them
 * at once; secondaries hear of it by NOTIFY.  The zone pointer is read at
 * each call, since a reload swaps it.
 */
static int
dc_zone_node_set(void *arg, const char *fqdn, const char *vip4,
    const char *vip6)
{
	struct dc *dc = arg;
	uint32_t before = zone_serial(dc->srv.zone);
	int rc;

	if ((rc = zone_node_set(dc->srv.zone, fqdn, vip4, vip6)) < 0) {
		log_warnx("zone: node %s (%s, %s) not added: %s", fqdn,
		    vip4 != NULL ? vip4 : "-", vip6 != NULL ? vip6 : "-",
		    strerror(-rc));
		return rc;
	}
	if (zone_serial(dc->srv.zone) != before)
		dnsnet_notify(dc->net);
	return 0;
}

static int
dc_zone_node_remove(void *arg, const char *fqdn)
{
	struct dc *dc = arg;
	int rc;

	if ((rc = zone_node_remove(dc->srv.zone, fqdn)) == 0)
		dnsnet_notify(dc->net);
	return rc;
}

static void
dc_msg_addr(struct msg_addr *a, const struct sockaddr_storage *ss)
{
	if (sigio_addr_from_sockaddr(a, (const struct sockaddr *)ss) < 0)
		memset(a, 0, sizeof(*a));
}

/* Notice hooks: a revoked node is cut off at once; new ticket keys. */
static void
dc_notice_revoked(void *arg, const char *fqdn)
{
	struct dc *dc = arg;

	if (dc->sig != NULL && signal_node_revoked(dc->sig, fqdn) == 0)
		log_info("%s: revoked; its registration ended", fqdn);
}

static void
dc_notice_ticket_key(void *arg, uint32_t id, const uint8_t key[PROTO_KEY_LEN])
{
	struct dc *dc = arg;

	if (dc->sig != NULL && signal_ticket_key_add(dc->sig, id, key) < 0)
		log_warnx("ticket key %08x not taken", id);
}

/*
 * The OCSP responder serves the store's statuses; with [tls] it answers
 * only for the AS CA's certificates (its key hash in the CertID).
 */
static void
dc_ocsp_start(struct dc *dc)
{
	struct ocsp_signer *sg = NULL;
	gnutls_x509_crt_t ca;
	int rc;

	if (dc->cfg.ocsp.nlisten == 0 || dc->notice == NULL)
		return;
	if (dc->creds != NULL && (ca = tls_creds_issuer(dc->creds)) != NULL &&
	    ocsp_signer_new(ca, &sg) < 0)
		fatalx("[tls] cert: the AS CA is not usable for OCSP");
	rc = ocsphttp_listen(&dc->ocsp, dc->loop, dc->notice, sg != NULL ?
	    ocsp_signer_key_hash(sg) : NULL, dc->cfg.ocsp.listen,
	    dc->cfg.ocsp.nlisten);
	ocsp_signer_free(sg);
	if (rc < 0) {
		uv_run(dc->loop, UV_RUN_NOWAIT);
		fatalx("cannot listen for OCSP: %s", uv_strerror(rc));
	}
}

/* dc/signal's view of the status store (none without a database). */
static bool
dc_signal_revoked(void *arg, const uint8_t *serial, size_t len)
{
	struct dc *dc = arg;

	return dc->notice != NULL && notice_revoked(dc->notice, serial, len);
}

static int
dc_signal_cert(void *arg, const char *fqdn, struct signal_cert *c)
{
	struct dc *dc = arg;

	return dc->notice != NULL ? notice_cert(dc->notice, fqdn, c) : -ENOENT;
}

/* The AS gave this node's addresses to another: out of DNS and registry. */
static void
dc_notice_node_remove(void *arg, const char *fqdn)
{
	struct dc *dc = arg;

	if (dc->sig != NULL)
		(void)registry_forget(signal_registry(dc->sig), fqdn);
	else
		(void)dc_zone_node_remove(dc, fqdn);
}

/* A peer DC's request on 4611: DC_CN's answers (dc/federation). */
static int
dc_federation_frame(void *arg, const struct tls_peer *peer, const uint8_t *p,
    size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	struct dc *dc = arg;

	return federation_node_info(p, len, peer->crt, dc->cfg.zone,
	    signal_registry(dc->sig), notice_cert, dc->notice, out, cap,
	    outlen);
}

/*
 * The status store (from the database) and, with [tls], the listener that
 * takes the AS's notices into it.  After dc_signal_start(): the store's
 * connection must open after every lib/db open (see dc_db_open_raw).
 */
static void
dc_notice_start(struct dc *dc)
{
	const struct dc_tls_config *t = &dc->cfg.tls;
	struct notice_hooks h;
	int rc;

	if (dc->cfg.db_path == NULL)
		return;
	if (t->cert != NULL) {
		if ((rc = tls_creds_new(&dc->creds)) < 0 ||
		    (rc = tls_creds_load(dc->creds, t->trust, t->cert,
		    t->key)) < 0)
			fatalx("[tls] %s, %s, %s: %s", t->trust, t->cert,
			    t->key, tls_strerror(rc));
		if (tls_creds_issuer(dc->creds) == NULL)
			fatalx("[tls] cert %s: the AS CA must follow the DC "
			    "certificate", t->cert);
	}
	memset(&h, 0, sizeof(h));
	h.node_set = dc_zone_node_set;
	h.node_remove = dc_notice_node_remove;
	h.revoked = dc_notice_revoked;
	h.ticket_key = dc_notice_ticket_key;
	h.arg = dc;
	if ((rc = notice_new(&dc->notice, dc->cfg.db_path, dc->creds != NULL ?
	    tls_creds_issuer(dc->creds) : NULL, &h)) < 0)
		fatalx("%s: status store: %s", dc->cfg.db_path, strerror(-rc));
	if (dc->creds == NULL) {
		log_info("no [tls]: AS notices are not received");
		return;
	}
	if ((rc = notice_listen(&dc->nsrv, dc->loop, dc->notice, dc->creds,
	    t->listen, t->nlisten)) < 0) {
		uv_run(dc->loop, UV_RUN_NOWAIT);
		if (!t->listen_default)
			fatalx("cannot listen for AS notices: %s",
			    tls_strerror(rc));
		log_warnx("AS notices not received (%s on the default "
		    "addresses, port %d); set [tls] listen", tls_strerror(rc),
		    PROTO_PORT_DC_TLS);
		return;
	}
	if (dc->sig != NULL)
		notice_server_set_dc(dc->nsrv, dc_federation_frame, dc);
}

/*
 * The signalling core with its ticket keys (the configured file, then the
 * unexpired keys the AS sent earlier, from the database) and its sockets.
 */
static void
dc_signal_start(struct dc *dc)
{
	const struct dc_signal_config *g = &dc->cfg.sig;
	struct signal_config scfg;
	struct signal_hooks hooks;
	char text[LOOP_ADDRSTRLEN];
	int nkeys = 0, rc;
	size_t i;

	memset(&scfg, 0, sizeof(scfg));
	scfg.zone = dc->cfg.zone;
	scfg.lifetime_s = g->lifetime_s;
	scfg.keepalive_s = g->keepalive_s;
	scfg.punch_deadline_ms = g->punch_deadline_ms;
	for (i = 0; i < g->nrelay && i < SIGNAL_RELAYS_MAX; i++)
		dc_msg_addr(&scfg.relay[scfg.nrelay++], &g->relay[i]);
	memset(&hooks, 0, sizeof(hooks));
	hooks.zone.node_set = dc_zone_node_set;
	hooks.zone.node_remove = dc_zone_node_remove;
	hooks.zone.arg = dc;
	hooks.revoked = dc_signal_revoked;
	hooks.cert = dc_signal_cert;
	hooks.arg = dc;
	if ((rc = signal_new(&dc->sig, &scfg, &hooks, rng_system())) < 0)
		fatalx("signalling core: %s", strerror(-rc));
	if (g->have_ticket_key) {
		if ((rc = signal_ticket_key_add(dc->sig, g->ticket_key_id,
		    g->ticket_key)) < 0)
			fatalx("ticket key: %s", strerror(-rc));
		nkeys++;
		log_info("ticket key %08x from the configuration",
		    g->ticket_key_id);
	}
	if (dc->cfg.db_path != NULL) {
		if ((rc = sigio_ticket_keys_load(dc->sig, dc->cfg.db_path,
		    time(NULL))) < 0)
			log_warnx("%s: ticket keys not read: %s",
			    dc->cfg.db_path, strerror(-rc));
		else
			nkeys += rc;
	}
	if (nkeys == 0)
		log_warnx("no ticket key: every registration is refused "
		    "(BAD_TICKET) until the AS sends one");
	/*
	 * A configured address that cannot be bound stops the DC; the default
	 * (the DNS addresses on 4610) may be taken by another DC on the same
	 * host, and then DNS is served without signalling.
	 */
	if ((rc = sigio_start(&dc->sigio, dc->loop, dc->sig, g->listen,
	    g->nlisten, dc->cfg.db_path)) < 0) {
		uv_run(dc->loop, UV_RUN_NOWAIT);
		if (!g->listen_default)
			fatalx("cannot listen for signalling: %s",
			    uv_strerror(rc));
		log_warnx("signalling not started (%s on the default "
		    "addresses, port %d); set [signal] listen",
		    uv_strerror(rc), PROTO_PORT_DC);
		dc->sigio = NULL;
		return;
	}
	for (i = 0; i < g->nlisten; i++) {
		(void)loop_addr_format((const struct sockaddr *)&g->listen[i],
		    text, sizeof(text));
		log_info("signalling on %s", text);
	}
	if (g->nrelay == 0)
		log_info("no [signal] relay: punch and relay routes are "
		    "refused (UNAVAILABLE)");
}

static void
dc_signal(uv_signal_t *h, int signum)
{
	struct dc *dc = h->data;

	if (signum == SIGHUP) {
		log_info("SIGHUP: reloading the zone file and nodes");
		dc_reload_start(dc);
		return;
	}
	log_info("signal %d: shutting down", signum);
	dnsnet_close(dc->net);
	dc->net = NULL;
	sigio_close(dc->sigio);
	dc->sigio = NULL;
	notice_close(dc->nsrv);
	ocsphttp_close(dc->ocsp);
	dc->ocsp = NULL;
	uv_close((uv_handle_t *)&dc->sighup, NULL);
	uv_close((uv_handle_t *)&dc->sigterm, NULL);
	uv_close((uv_handle_t *)&dc->sigint, NULL);
}

int
main(int argc, char *argv[])
{
	struct dc dc;
	struct dnsnet_config ncfg;
	const char *path = DC_CONFIG_DEFAULT;
	bool check = false, foreground = false, verbose = false;
	int ch, rc;

	memset(&dc, 0, sizeof(dc));
	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd':
			foreground = true;
			break;
		case 'f':
			path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			dc_usage();
		}
	}
	if (optind != argc)
		dc_usage();
	log_init("ntm-dc", 1, verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if ((rc = config_dc_load(path, &dc.cfg)) != 0) {
		config_dc_free(&dc.cfg);
		return 1;
	}
	if (dc_zone_build(&dc.cfg, !check, true, &dc.srv.zone) < 0) {
		config_dc_free(&dc.cfg);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		zone_free(dc.srv.zone);
		config_dc_free(&dc.cfg);
		return 0;
	}
	if (dc.cfg.db_path != NULL)
		(void)zone_db_save_serial(dc.srv.zone, dc.cfg.db_path);
	if (dc.cfg.xfr.nacl > 0 && !dc.cfg.xfr.have_key)
		log_warnx("%s: [xfr] allow without a TSIG key: transfers are "
		    "protected by source address only", path);
	if (!foreground) {
		if (daemon(0, 0) < 0)
			fatal("daemon");
		log_init("ntm-dc", 0, verbose ? LOG_LEVEL_DEBUG :
		    LOG_LEVEL_INFO);
	}
	signal(SIGPIPE, SIG_IGN);
	dc.loop = uv_default_loop();
	if (dc.cfg.rrl.enabled && (dc.rrl = rrl_new(&dc.cfg.rrl,
	    rng_system())) == NULL)
		fatalx("out of memory");
	dc.srv.rrl = dc.rrl;
	dc.srv.xfr = &dc.cfg.xfr;
	ncfg.listen = dc.cfg.listen;
	ncfg.nlisten = dc.cfg.nlisten;
	ncfg.tcp_idle_ms = dc.cfg.tcp_idle_ms;
	ncfg.tcp_clients = dc.cfg.tcp_clients;
	ncfg.rng = rng_system();
	if ((rc = dnsnet_new(dc.loop, &dc.srv, &ncfg, &dc.net)) < 0) {
		uv_run(dc.loop, UV_RUN_NOWAIT);
		fatalx("cannot listen for DNS");
	}
	dc_signal_start(&dc);
	dc_notice_start(&dc);
	dc_ocsp_start(&dc);
	uv_signal_init(dc.loop, &dc.sighup);
	uv_signal_init(dc.loop, &dc.sigterm);
	uv_signal_init(dc.loop, &dc.sigint);
	dc.sighup.data = dc.sigterm.data = dc.sigint.data = &dc;
	uv_signal_start(&dc.sighup, dc_signal, SIGHUP);
	uv_signal_start(&dc.sigterm, dc_signal, SIGTERM);
	uv_signal_start(&dc.sigint, dc_signal, SIGINT);
	log_info("serving %s serial %u (%zu nodes)", dc.cfg.zone,
	    zone_serial(dc.srv.zone), zone_node_count(dc.srv.zone));
	dnsnet_notify(dc.net);
	uv_run(dc.loop, UV_RUN_DEFAULT);

	dns_stats_log(&dc.srv.stats);
	if (dc.cfg.db_path != NULL)
		(void)zone_db_save_serial(dc.srv.zone, dc.cfg.db_path);
	zone_free(dc.reload_zone);
	zone_free(dc.srv.zone);
	rrl_free(dc.rrl);
	signal_free(dc.sig);
	notice_server_free(dc.nsrv);
	notice_free(dc.notice);
	tls_creds_free(dc.creds);
	uv_loop_close(dc.loop);
	config_dc_free(&dc.cfg);
	return 0;
}
