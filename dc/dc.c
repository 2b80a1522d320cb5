/* dc.c -- ntm-dc main: options, configuration, signals, zone reloads, signalling start-up and the event loop. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <uv.h>

#include "buf.h"
#include "ctlmsg.h"
#include "dc.h"
#include "dnsnet.h"
#include "federation.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "notice.h"
#include "vip.h"
#include "ocsp.h"
#include "ocsphttp.h"
#include "rand.h"
#include "relay.h"
#include "signal.h"
#include "statsock.h"
#include "sigio.h"
#include "tls.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DC_CONFIG_DEFAULT SYSCONFDIR "/ntmobile/ntm-dc.conf"

/*
 * DC_CN: a peer DC's ROUTE_HANDOFF waiting for CN's NTM_ACK; the
 * PEER_NTM_ACK goes back on conn with the handoff's transaction id.
 * Dropped when the connection closes (DC_MN sends it again on its new
 * link, and dc/signal then answers there).
 */
struct dc_handoff {
	struct dc_handoff	*next;
	uint64_t		 ref;
	struct tls_conn		*conn;
	uint32_t		 txid;
};

enum {
	DC_HANDOFFS_MAX = 4096,		/* SIGNAL_PATHS_MAX */
};

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
	struct federation_resolver *fres;	/* [federation] resolver */
	struct federation	*fed;		/* links to peer DCs (DC_MN) */
	struct relay		*relay;		/* links to the RS (DC_MN) */
	struct dc_handoff	*handoffs;	/* DC_CN: waiting for CN */
	size_t			 nhandoffs;
	uint64_t		 handoff_ref;
	uv_signal_t		 sighup, sigterm, sigint, sigusr1;
	struct statsock		*stats;		/* ntmctl dc stats */
	struct dc_counters	 counters;	/* what it reads */
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

/* The [policy] decision for a direction MN -> CN. */
static bool
dc_signal_allowed(void *arg, const char *mn, const char *cn)
{
	struct dc *dc = arg;

	if (policy_allowed(&dc->cfg.policy, mn, cn))
		return true;
	log_info("policy: %s -> %s denied", mn, cn);
	return false;
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

/* DC_MN: which direction an answer of a peer DC is for. */
struct dc_fed_ask {
	struct dc	*dc;
	uint64_t	 ref;
};

static void
dc_fed_info(void *arg, int status, const struct msg *resp)
{
	struct dc_fed_ask *q = arg;
	struct dc *dc = q->dc;
	struct signal_out *out;

	if (status != -ECANCELED && dc->sigio != NULL &&
	    (out = malloc(sizeof(*out))) != NULL) {
		signal_remote_info(dc->sig, q->ref, status, resp,
		    uv_now(dc->loop), time(NULL), out);
		sigio_apply(dc->sigio, out);
		free(out);
	}
	free(q);
}

static void
dc_fed_ack(void *arg, int status, const struct msg *ack)
{
	struct dc_fed_ask *q = arg;
	struct dc *dc = q->dc;
	struct signal_out *out;

	if (status != -ECANCELED && dc->sigio != NULL &&
	    (out = malloc(sizeof(*out))) != NULL) {
		signal_remote_ack(dc->sig, q->ref, status, ack,
		    uv_now(dc->loop), out);
		sigio_apply(dc->sigio, out);
		free(out);
	}
	free(q);
}

/* DC_CN: CN's answer (or the core's) to the DC_MN that handed it over. */
static void
dc_fed_peer_ack(struct dc *dc, const struct signal_fed *f)
{
	struct dc_handoff **hp, *h;
	uint8_t buf[SIGNAL_FED_MSG_MAX];

	for (hp = &dc->handoffs; *hp != NULL; hp = &(*hp)->next)
		if ((*hp)->ref == f->ref)
			break;
	if ((h = *hp) == NULL) {
		log_debug("federation: answer for handoff %llu: its DC is "
		    "gone", (unsigned long long)f->ref);
		return;
	}
	*hp = h->next;
	dc->nhandoffs--;
	memcpy(buf, f->buf, f->len);
	store_be32(buf + FEDERATION_TXID_OFF, h->txid);
	(void)tls_send(h->conn, buf, f->len);
	free(h);
}

/* dc/signal's federation actions (through dc/sigio). */
static void
dc_fed_action(void *arg, const struct signal_fed *f)
{
	struct dc *dc = arg;
	struct dc_fed_ask *q;
	struct signal_out *out;
	int rc = -ENOMEM;

	if (f->kind == SIGNAL_FED_PEER_ACK) {
		dc_fed_peer_ack(dc, f);
		return;
	}
	if ((q = malloc(sizeof(*q))) != NULL) {
		q->dc = dc;
		q->ref = f->ref;
		rc = dc->fed == NULL ? -ENOTCONN : f->kind == SIGNAL_FED_ASK ?
		    federation_ask(dc->fed, f->mn, f->cn, f->kex, dc_fed_info,
		    q) : federation_handoff(dc->fed, f->cn, f->buf, f->len,
		    dc_fed_ack, q);
		if (rc == 0)
			return;
		free(q);
	}
	log_warnx("federation: %s -> %s: %s not sent: %s", f->mn, f->cn,
	    f->kind == SIGNAL_FED_ASK ? "NODE_INFO_REQUEST" : "ROUTE_HANDOFF",
	    strerror(-rc));
	if ((out = malloc(sizeof(*out))) == NULL)
		return;		/* MN's direction times out */
	if (f->kind == SIGNAL_FED_ASK)
		signal_remote_info(dc->sig, f->ref, rc, NULL, uv_now(dc->loop),
		    time(NULL), out);
	else
		signal_remote_ack(dc->sig, f->ref, rc, NULL, uv_now(dc->loop),
		    out);
	sigio_apply(dc->sigio, out);
	free(out);
}

/*
 * DC_CN: a ROUTE_HANDOFF from a DC allowed for MN's zone goes to dc/signal
 * (answered later, by dc_fed_peer_ack); from another DC it is refused at
 * once with REFUSED_POLICY.
 */
static int
dc_fed_handoff(struct dc *dc, struct tls_conn *c, const struct tls_peer *peer,
    const uint8_t *p, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	const struct msg_attr *mn;
	struct dc_handoff *h;
	struct signal_out *sout;
	struct msg *m, ack;
	char name[FEDERATION_NAME_MAX], zone[FEDERATION_NAME_MAX];
	int rc = 0;

	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	if ((rc = msg_decode(p, len, m)) < 0)
		goto done;
	mn = msg_attr_find(m, PROTO_ATTR_PEER_FQDN);
	if (mn == NULL || mn->len >= sizeof(name)) {
		rc = MSG_E_ATTR_MISSING;
		goto done;
	}
	memcpy(name, mn->val, mn->len);
	name[mn->len] = '\0';
	if (dc->sigio == NULL || dc->nhandoffs >= DC_HANDOFFS_MAX ||
	    federation_zone_of(name, zone, sizeof(zone)) < 0 ||
	    !federation_peer_authorized(peer->crt, zone)) {
		log_info("federation: handoff for %s from %s refused",
		    name, peer->fqdn);
		msg_init(&ack, PROTO_MSG_PEER_NTM_ACK);
		ack.hdr.status = dc->sigio == NULL ||
		    dc->nhandoffs >= DC_HANDOFFS_MAX ?
		    PROTO_STATUS_UNAVAILABLE : PROTO_STATUS_REFUSED_POLICY;
		ack.hdr.txid = m->hdr.txid;
		memcpy(ack.hdr.id, m->hdr.id, PROTO_ID_LEN);
		if ((mn = msg_attr_find(m, PROTO_ATTR_PATH_ID)) == NULL ||
		    msg_add_bytes(&ack, PROTO_ATTR_PATH_ID, mn->val,
		    mn->len) < 0 || (rc = msg_encode(&ack, out, cap,
		    outlen)) < 0)
			rc = MSG_E_ATTR_MISSING;
		goto done;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (sout = malloc(sizeof(*sout))) == NULL) {
		free(h);
		rc = -ENOMEM;
		goto done;
	}
	h->ref = ++dc->handoff_ref;
	h->conn = c;
	h->txid = m->hdr.txid;
	h->next = dc->handoffs;
	dc->handoffs = h;
	dc->nhandoffs++;
	signal_handoff_input(dc->sig, h->ref, m, uv_now(dc->loop), sout);
	sigio_apply(dc->sigio, sout);
	free(sout);
done:
	free(m);
	return rc;
}

/* A peer DC's request on 4611: DC_CN's answers (dc/federation). */
static int
dc_federation_frame(void *arg, struct tls_conn *c, const struct tls_peer *peer,
    const uint8_t *p, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	struct dc *dc = arg;

	if (len >= PROTO_HEADER_LEN && p[1] == PROTO_MSG_ROUTE_HANDOFF)
		return dc_fed_handoff(dc, c, peer, p, len, out, cap, outlen);
	return federation_node_info(p, len, peer->crt, dc->cfg.zone,
	    signal_registry(dc->sig), dc_signal_cert, dc_signal_allowed, dc,
	    out, cap, outlen);
}

/* DC_CN: handoffs of a closed link are answered on the next one. */
static void
dc_federation_closed(void *arg, struct tls_conn *c)
{
	struct dc *dc = arg;
	struct dc_handoff **hp = &dc->handoffs, *h;

	while ((h = *hp) != NULL) {
		if (h->conn != c) {
			hp = &h->next;
			continue;
		}
		*hp = h->next;
		dc->nhandoffs--;
		free(h);
	}
}

/*
 * [federation]: the resolver that finds peer DCs and the links to them;
 * without it (or without [tls]) CNs of other zones are UNAVAILABLE.
 */
static void
dc_federation_start(struct dc *dc)
{
	char text[LOOP_ADDRSTRLEN];
	int rc;

	if (!dc->cfg.fed.have_resolver || dc->creds == NULL || dc->sig == NULL)
		return;
	if ((rc = federation_resolver_new(&dc->fres, dc->loop,
	    &dc->cfg.fed.resolver, rng_system())) < 0)
		fatalx("[federation] resolver: %s", uv_strerror(rc));
	if ((rc = federation_new(&dc->fed, dc->loop, dc->fres, dc->creds,
	    0)) < 0)
		fatalx("federation: %s", strerror(-rc));
	if (dc->sigio != NULL)
		sigio_set_fed(dc->sigio, dc_fed_action, dc);
	(void)loop_addr_format((const struct sockaddr *)&dc->cfg.fed.resolver,
	    text, sizeof(text));
	log_info("federation: peer DCs found through %s", text);
}

/*
 * VIP_REQUEST answers from [dns] prefix4/prefix6, never one of the DC's
 * own addresses (DNS, signalling, TLS) that lies inside them.
 */
static void
dc_vip_start(struct dc *dc)
{
	const struct zone_config *z = &dc->cfg.zcfg;
	struct vip_config vc;
	size_t i;

	memset(&vc, 0, sizeof(vc));
	vc.zone = dc->cfg.zone;
	vc.have4 = z->have4;
	vc.prefix4 = z->prefix4;
	vc.prefix4_len = z->prefix4_len;
	vc.have6 = z->have6;
	vc.prefix6 = z->prefix6;
	vc.prefix6_len = z->prefix6_len;
	for (i = 0; i < dc->cfg.nlisten; i++)
		(void)vip_config_own(&vc, (const struct sockaddr *)
		    &dc->cfg.listen[i]);
	for (i = 0; i < dc->cfg.sig.nlisten; i++)
		(void)vip_config_own(&vc, (const struct sockaddr *)
		    &dc->cfg.sig.listen[i]);
	for (i = 0; i < dc->cfg.tls.nlisten; i++)
		(void)vip_config_own(&vc, (const struct sockaddr *)
		    &dc->cfg.tls.listen[i]);
	notice_set_vip(dc->notice, &vc);
	if (!vc.have4 || !vc.have6)
		log_info("no [dns] prefix4 and prefix6: VIP_REQUEST is "
		    "answered UNAVAILABLE");
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
	dc_vip_start(dc);
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
		notice_server_set_dc(dc->nsrv, dc_federation_frame,
		    dc_federation_closed, dc);
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
	scfg.federation = dc->cfg.fed.have_resolver;
	scfg.nrelay = dc->cfg.relay.nserver;
	memset(&hooks, 0, sizeof(hooks));
	hooks.zone.node_set = dc_zone_node_set;
	hooks.zone.node_remove = dc_zone_node_remove;
	hooks.zone.arg = dc;
	hooks.revoked = dc_signal_revoked;
	hooks.cert = dc_signal_cert;
	hooks.allowed = dc_signal_allowed;
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
}

/* DC_MN: which direction an answer of the RS is for. */
struct dc_relay_ask {
	struct dc	*dc;
	uint64_t	 ref;
};

static void
dc_relay_ack(void *arg, int status, const struct msg *ack)
{
	struct dc_relay_ask *q = arg;
	struct dc *dc = q->dc;
	struct signal_out *out;

	if (status != -ECANCELED && dc->sigio != NULL &&
	    (out = malloc(sizeof(*out))) != NULL) {
		signal_relay_ack(dc->sig, q->ref, status, ack,
		    uv_now(dc->loop), out);
		sigio_apply(dc->sigio, out);
		free(out);
	}
	free(q);
}

/* dc/signal's RELAY_DIRECTIONs (through dc/sigio) to the RS. */
static void
dc_relay_action(void *arg, const struct signal_relay *rl)
{
	struct dc *dc = arg;
	struct dc_relay_ask *q;
	struct signal_out *out;
	int rc = -ENOMEM;

	if ((q = malloc(sizeof(*q))) != NULL) {
		q->dc = dc;
		q->ref = rl->ref;
		if ((rc = relay_direction(dc->relay, rl, dc_relay_ack, q)) ==
		    0)
			return;
		free(q);
	}
	log_warnx("relay: RELAY_DIRECTION for ref %llu not sent: %s",
	    (unsigned long long)rl->ref, strerror(-rc));
	if ((out = malloc(sizeof(*out))) == NULL)
		return;		/* MN's direction times out */
	signal_relay_ack(dc->sig, rl->ref, rc, NULL, uv_now(dc->loop), out);
	sigio_apply(dc->sigio, out);
	free(out);
}

/*
 * [relay]: the links to the RS that punch and relay routes are allocated
 * at.  Without them those routes are answered UNAVAILABLE.
 */
static void
dc_relay_start(struct dc *dc)
{
	char text[LOOP_ADDRSTRLEN];
	size_t i;
	int rc;

	if (dc->cfg.relay.nserver == 0 || dc->sigio == NULL) {
		log_info("no [relay] server: punch and relay routes are "
		    "answered UNAVAILABLE");
		return;
	}
	if (dc->creds == NULL)
		fatalx("[relay] needs [tls] and [database]");
	if ((rc = relay_new(&dc->relay, dc->loop, dc->creds,
	    dc->cfg.relay.server, dc->cfg.relay.nserver, rng_system())) < 0)
		fatalx("[relay]: %s", tls_strerror(rc));
	sigio_set_relay(dc->sigio, dc_relay_action, dc);
	for (i = 0; i < dc->cfg.relay.nserver; i++) {
		(void)loop_addr_format((const struct sockaddr *)
		    &dc->cfg.relay.server[i], text, sizeof(text));
		log_info("relay: RS at %s", text);
	}
}

static void
dc_stats_line(const char *name, uint64_t v, void *arg)
{
	(void)arg;
	if (v != 0)
		log_info("stats: %s %llu", name, (unsigned long long)v);
}

/* SIGUSR1 and shutdown: the signalling and relay counters, non-zero ones. */
static void
dc_stats_log(const struct dc *dc)
{
	control_dc_counters(&dc->counters, dc_stats_line, NULL);
}

/*
 * The stats socket.  Configured: it must open.  The default path is tried
 * and left out with a warning when it cannot be made (e.g. a DC run by a
 * user without /run/ntmobile): the counters are not worth failing for.
 */
static void
dc_control_start(struct dc *dc)
{
	const char *path = dc->cfg.socket != NULL ? dc->cfg.socket :
	    DC_SOCKET_DEFAULT;
	char dir[CTLMSG_PATH_MAX], *slash;
	int rc;

	dc->counters.sig = dc->sig;
	dc->counters.sigio = dc->sigio;
	dc->counters.relay = dc->relay;
	dc->counters.srv = &dc->srv;
	dc->counters.notice = dc->notice;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755);
	}
	rc = statsock_open(&dc->stats, dc->loop, path, control_dc_fill,
	    &dc->counters);
	if (rc < 0 && dc->cfg.socket != NULL)
		fatalx("[control] socket %s: %s", path, uv_strerror(rc));
	if (rc < 0)
		log_warnx("no stats socket (%s: %s): set [control] socket "
		    "for ntmctl dc stats", path, uv_strerror(rc));
}

static void
dc_signal(uv_signal_t *h, int signum)
{
	struct dc *dc = h->data;

	if (signum == SIGUSR1) {
		dc_stats_log(dc);
		return;
	}
	if (signum == SIGHUP) {
		log_info("SIGHUP: reloading the zone file and nodes");
		dc_reload_start(dc);
		return;
	}
	log_info("signal %d: shutting down", signum);
	dc_stats_log(dc);
	statsock_close(dc->stats);
	dc->stats = NULL;
	relay_close(dc->relay);
	dnsnet_close(dc->net);
	dc->net = NULL;
	sigio_close(dc->sigio);
	dc->sigio = NULL;
	federation_close(dc->fed);
	federation_resolver_free(dc->fres);
	dc->fres = NULL;
	notice_close(dc->nsrv);
	ocsphttp_close(dc->ocsp);
	dc->ocsp = NULL;
	uv_close((uv_handle_t *)&dc->sighup, NULL);
	uv_close((uv_handle_t *)&dc->sigterm, NULL);
	uv_close((uv_handle_t *)&dc->sigint, NULL);
	uv_close((uv_handle_t *)&dc->sigusr1, NULL);
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
	dc_federation_start(&dc);
	dc_relay_start(&dc);
	dc_ocsp_start(&dc);
	dc_control_start(&dc);
	uv_signal_init(dc.loop, &dc.sighup);
	uv_signal_init(dc.loop, &dc.sigterm);
	uv_signal_init(dc.loop, &dc.sigint);
	uv_signal_init(dc.loop, &dc.sigusr1);
	dc.sighup.data = dc.sigterm.data = dc.sigint.data = &dc;
	dc.sigusr1.data = &dc;
	uv_signal_start(&dc.sigusr1, dc_signal, SIGUSR1);
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
	federation_free(dc.fed);
	relay_free(dc.relay);
	while (dc.handoffs != NULL) {
		struct dc_handoff *h = dc.handoffs;

		dc.handoffs = h->next;
		free(h);
	}
	signal_free(dc.sig);
	notice_server_free(dc.nsrv);
	notice_free(dc.notice);
	tls_creds_free(dc.creds);
	uv_loop_close(dc.loop);
	config_dc_free(&dc.cfg);
	return 0;
}
