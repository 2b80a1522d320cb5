/* as.c -- ntm-as main: options, the signer process, the node channel (TLS 4612), the job queue, timers and shutdown. */
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

#include "as.h"
#include "cert.h"
#include "db.h"
#include "enroll.h"
#include "log.h"
#include "msg.h"
#include "notice.h"
#include "ocsp.h"
#include "outbox.h"
#include "rand.h"
#include "signer.h"
#include "status.h"
#include "ticket.h"
#include "tls.h"

/* The job queue: one blocking job at a time, in order. */

struct as_job {
	struct as_job	*next;
	as_work_fn	 work;
	as_done_fn	 done;
	void		*arg;
};

static void	as_job_next(struct as_env *);

static void
as_job_work_cb(uv_work_t *w)
{
	struct as_env *env = w->data;
	struct as_job *j = env->job_head;

	j->work(env, j->arg);
}

static void
as_job_after_cb(uv_work_t *w, int status)
{
	struct as_env *env = w->data;
	struct as_job *j = env->job_head;

	(void)status;
	env->job_head = j->next;
	if (env->job_head == NULL)
		env->job_tail = NULL;
	env->job_running = false;
	if (j->done != NULL)
		j->done(env, j->arg);
	free(j);
	as_job_next(env);
	if (env->stopping && env->job_head == NULL && !env->job_running &&
	    env->checks == 0)
		loop_stop(&env->loop);
}

static void
as_job_next(struct as_env *env)
{
	if (env->job_running || env->job_head == NULL)
		return;
	env->job_running = true;
	env->job_work.data = env;
	if (uv_queue_work(env->uv, &env->job_work, as_job_work_cb,
	    as_job_after_cb) < 0)
		fatalx("uv_queue_work failed");
}

void
as_job_submit(struct as_env *env, as_work_fn work, as_done_fn done,
    void *arg)
{
	struct as_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatalx("out of memory");
	j->work = work;
	j->done = done;
	j->arg = arg;
	if (env->job_tail != NULL)
		env->job_tail->next = j;
	else
		env->job_head = j;
	env->job_tail = j;
	as_job_next(env);
}

void
as_notices_committed(struct as_env *env)
{
	size_t i;

	for (i = 0; i < env->cfg.ndcs; i++)
		notice_link_kick(env->links[i]);
}

/* Revocation (from the control socket). */

struct as_revoke {
	char			 what[PROTO_FQDN_MAX + 1];
	enum ocsp_reason	 reason;
	as_revoke_cb		 cb;
	void			*arg;
	int			 rv;
};

static void
as_revoke_work(struct as_env *env, void *arg)
{
	struct as_revoke *r = arg;
	uint8_t serial[PROTO_SERIAL_MAX];
	size_t slen;
	time_t now = time(NULL);

	if (strlen(r->what) == STATUS_SERIAL_HEX &&
	    status_serial_parse(r->what, serial, sizeof(serial), &slen) == 0) {
		r->rv = status_revoke(&env->sc, r->what, r->reason, now, NULL);
		if (r->rv == 0)
			r->rv = 1;
	} else
		r->rv = status_revoke_fqdn(&env->sc, r->what, r->reason, now);
}

static void
as_revoke_done(struct as_env *env, void *arg)
{
	struct as_revoke *r = arg;

	if (r->rv > 0)
		as_notices_committed(env);
	r->cb(r->arg, r->rv);
	free(r);
}

void
as_revoke(struct as_env *env, const char *what, enum ocsp_reason reason,
    as_revoke_cb cb, void *arg)
{
	struct as_revoke *r;
	size_t i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatalx("out of memory");
	snprintf(r->what, sizeof(r->what), "%s", what);
	for (i = 0; r->what[i] != '\0'; i++)
		if (r->what[i] >= 'A' && r->what[i] <= 'Z')
			r->what[i] = (char)(r->what[i] - 'A' + 'a');
	r->reason = reason;
	r->cb = cb;
	r->arg = arg;
	as_job_submit(env, as_revoke_work, as_revoke_done, r);
}

/* Tickets: lib/ticket under the key shared with the DC (as/tkey.h). */

struct as_seal_arg {
	struct tkey_dc	*tk;
	struct db	*db;
};

static int
as_seal(const struct enroll_dc *dc, const struct enroll_ticket *t,
    struct ntm_rng *rng, uint8_t *out, size_t cap, size_t *outlen)
{
	const struct as_seal_arg *sa = dc->ticket_arg;
	struct ticket_body b;
	uint32_t id;
	int rv;

	if ((id = tkey_seal_id(sa->tk, sa->db)) == 0)
		return -ENOKEY;
	memset(&b, 0, sizeof(b));
	memcpy(b.id, t->id, sizeof(b.id));
	memcpy(b.key, t->key, sizeof(b.key));
	snprintf(b.fqdn, sizeof(b.fqdn), "%s", t->fqdn);
	b.fqdn_len = strlen(b.fqdn);
	b.has_vip4 = t->has_vip4;
	b.has_vip6 = t->has_vip6;
	memcpy(b.vip4, &t->vip4, 4);
	memcpy(b.vip6, &t->vip6, 16);
	b.expiry = t->expiry;
	memcpy(b.serial, t->serial, t->serial_len);
	b.serial_len = t->serial_len;
	rv = ticket_seal(&sa->tk->ring, id, &b, rng, out, cap, outlen);
	gnutls_memset(&b, 0, sizeof(b));
	return rv;
}

/* The node channel. */

struct as_client {
	struct as_env		*env;
	struct tls_conn		*conn;
	unsigned int		 refs;
	bool			 closed;
	bool			 busy;		/* one request at a time */
	char			 addr[LOOP_ADDRSTRLEN];
	char			 host[LOOP_ADDRSTRLEN];
};

struct as_req {
	struct as_client	*cl;
	struct enroll_request	 req;
	struct enroll_result	 res;
	int			 rv;
	uv_work_t		 work;		/* password checks */
};

static void
as_client_unref(struct as_client *cl)
{
	if (--cl->refs == 0)
		free(cl);
}

static void
as_send_refusal(struct as_client *cl, int err, uint32_t txid,
    uint32_t retry_ms)
{
	uint8_t buf[512];
	size_t len;

	if (cl->closed)
		return;
	if (enroll_refusal_encode(err, txid, retry_ms, buf, sizeof(buf),
	    &len) == 0)
		(void)tls_send(cl->conn, buf, len);
}

static void
as_req_free(struct as_req *r)
{
	struct as_client *cl = r->cl;

	cl->busy = false;
	enroll_request_clear(&r->req);
	enroll_result_clear(&r->res);
	free(r);
	as_client_unref(cl);
}

static void
as_issue_work(struct as_env *env, void *arg)
{
	struct as_req *r = arg;

	r->rv = enroll_issue(&env->ectx, &r->req, time(NULL), &r->res);
}

static void
as_issue_done(struct as_env *env, void *arg)
{
	struct as_req *r = arg;
	struct as_client *cl = r->cl;
	uint8_t *buf;
	size_t len;
	int rv;

	/* Issuance and AUTH may both have queued notices. */
	as_notices_committed(env);
	if (r->rv < 0)
		as_send_refusal(cl, r->rv, r->req.txid, 0);
	else if (!cl->closed) {
		if ((buf = malloc(ENROLL_ANSWER_MAX)) == NULL)
			fatalx("out of memory");
		if ((rv = enroll_answer_encode(&r->res, r->req.txid, buf,
		    ENROLL_ANSWER_MAX, &len)) == 0)
			rv = tls_send(cl->conn, buf, len);
		if (rv < 0)
			log_warnx("node %s: answer for %s not sent: %d",
			    cl->addr, r->res.fqdn, rv);
		gnutls_memset(buf, 0, ENROLL_ANSWER_MAX);
		free(buf);
	}
	as_req_free(r);
}

/*
 * vip_source = dc: the home DC's answer, then issuance.  No answer in
 * time: the pool when one is configured, else UNAVAILABLE.
 */
static void
as_vip_answer(void *arg, int rv, const struct notice_vip_answer *a)
{
	struct as_req *r = arg;
	struct as_env *env = r->cl->env;
	const struct enroll_dc *dc = r->res.dc;
	char why[64];
	int err;

	r->res.dc = NULL;
	if (rv == -ECANCELED) {
		as_send_refusal(r->cl, ENROLL_E_DC_UNAVAILABLE, r->req.txid,
		    0);
		as_req_free(r);
		return;
	}
	if (rv == 0 && a->status == PROTO_STATUS_OK && a->has_vip4 &&
	    a->has_vip6) {
		r->req.vip_given = true;
		r->req.vip4 = a->vip4;
		r->req.vip6 = a->vip6;
		as_job_submit(env, as_issue_work, as_issue_done, r);
		return;
	}
	if (rv == 0 && (a->status == PROTO_STATUS_ADDRESS_IN_USE ||
	    a->status == PROTO_STATUS_UNKNOWN_NODE)) {
		err = a->status == PROTO_STATUS_ADDRESS_IN_USE ?
		    ENROLL_E_POOL_EMPTY : ENROLL_E_ZONE;
		log_info("enroll: account %s from %s: DC %s refuses addresses "
		    "for %s: %s", r->req.account, r->req.peer, dc->name,
		    r->res.fqdn, msg_status_name(a->status));
		as_send_refusal(r->cl, err, r->req.txid, 0);
		as_req_free(r);
		return;
	}
	if (rv == 0)
		snprintf(why, sizeof(why), "it answered %s%s",
		    msg_status_name(a->status), a->status == PROTO_STATUS_OK ?
		    " without both addresses" : "");
	else
		snprintf(why, sizeof(why), "no answer within %llu ms",
		    (unsigned long long)env->cfg.vip_timeout_ms);
	if (dc->pool_fallback) {
		log_warnx("enroll: %s from %s: DC %s gave no virtual IPs (%s); "
		    "taking them from the configured pool", r->res.fqdn,
		    r->req.peer, dc->name, why);
		as_job_submit(env, as_issue_work, as_issue_done, r);
		return;
	}
	log_warnx("enroll: %s from %s: DC %s gave no virtual IPs (%s); "
	    "refused UNAVAILABLE (no pool4/pool6 to fall back on)",
	    r->res.fqdn, r->req.peer, dc->name, why);
	as_send_refusal(r->cl, ENROLL_E_DC_UNAVAILABLE, r->req.txid, 0);
	as_req_free(r);
}

static void
as_prepare_work(struct as_env *env, void *arg)
{
	struct as_req *r = arg;

	r->rv = enroll_prepare(&env->ectx, &r->req, r->res.fqdn,
	    sizeof(r->res.fqdn), &r->res.dc);
}

/* The home DC is known: ask it, or issue from the pool at once. */
static void
as_prepare_done(struct as_env *env, void *arg)
{
	struct as_req *r = arg;
	const struct enroll_dc *dc = r->res.dc;
	int rv;

	if (r->rv < 0) {
		as_send_refusal(r->cl, r->rv, r->req.txid, 0);
		as_req_free(r);
		return;
	}
	if (!dc->vip_from_dc) {
		r->res.dc = NULL;
		as_job_submit(env, as_issue_work, as_issue_done, r);
		return;
	}
	if ((rv = notice_link_vip_request(env->links[dc - env->dcs],
	    r->res.fqdn, env->cfg.vip_timeout_ms, as_vip_answer, r)) < 0) {
		r->res.dc = NULL;
		as_send_refusal(r->cl, ENROLL_E_DC_UNAVAILABLE, r->req.txid,
		    0);
		as_req_free(r);
	}
}

static void
as_check_work_cb(uv_work_t *w)
{
	struct as_req *r = w->data;

	r->rv = enroll_check_password(&r->cl->env->vctx, &r->req);
}

static void
as_check_after_cb(uv_work_t *w, int status)
{
	struct as_req *r = w->data;
	struct as_env *env = r->cl->env;
	size_t i;

	(void)status;
	env->checks--;
	if (r->rv < 0 || env->stopping) {
		as_send_refusal(r->cl, r->rv < 0 ? r->rv : ENROLL_E_INTERNAL,
		    r->req.txid, 0);
		as_req_free(r);
		if (env->stopping && env->job_head == NULL &&
		    !env->job_running && env->checks == 0)
			loop_stop(&env->loop);
		return;
	}
	/* Only a DC that assigns addresses needs the name first. */
	for (i = 0; i < env->cfg.ndcs && !env->dcs[i].vip_from_dc; i++)
		;
	if (i == env->cfg.ndcs)
		as_job_submit(env, as_issue_work, as_issue_done, r);
	else
		as_job_submit(env, as_prepare_work, as_prepare_done, r);
}

static void
as_on_frame(struct tls_conn *c, const uint8_t *p, size_t len, void *arg)
{
	struct as_env *env = arg;
	struct as_client *cl = tls_conn_user(c);
	const struct tls_peer *peer = tls_conn_peer(c);
	struct as_req *r;
	uint32_t retry = 0;
	char key[ENROLL_LIMIT_KEY_MAX + 8];
	int rv;

	if (cl->busy) {
		log_info("node %s: request while one is running", cl->addr);
		as_send_refusal(cl, ENROLL_E_BUSY, 0, 1000);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatalx("out of memory");
	r->cl = cl;
	cl->refs++;
	cl->busy = true;
	rv = enroll_parse(p, len, peer->crt, cl->addr, &r->req);
	if (rv <= MSG_E_SHORT_HEADER && rv >= MSG_E_TICKET) {
		/* A header error: the framing is lost. */
		log_info("node %s: bad message (%s), closing", cl->addr,
		    msg_strerror(rv));
		as_req_free(r);
		tls_close(c);
		return;
	}
	if (rv < 0) {
		log_info("node %s: %s", cl->addr, enroll_strerror(rv));
		as_send_refusal(cl, rv == -ENOMEM ? ENROLL_E_INTERNAL : rv,
		    r->req.txid, 0);
		as_req_free(r);
		return;
	}
	if (!enroll_limit_take(&env->lim_source, cl->host, uv_now(env->uv),
	    &retry)) {
		log_info("node %s: %s (account %s)", cl->addr,
		    enroll_strerror(ENROLL_E_RATE_SOURCE),
		    r->req.account[0] ? r->req.account : "-");
		as_send_refusal(cl, ENROLL_E_RATE_SOURCE, r->req.txid, retry);
		as_req_free(r);
		return;
	}
	if (r->req.kind != ENROLL_KIND_ENROLL) {
		as_job_submit(env, as_issue_work, as_issue_done, r);
		return;
	}
	snprintf(key, sizeof(key), "%s", r->req.account);
	if (!enroll_limit_take(&env->lim_account, key, uv_now(env->uv),
	    &retry)) {
		log_info("node %s: account %s: %s", cl->addr, r->req.account,
		    enroll_strerror(ENROLL_E_RATE_ACCOUNT));
		as_send_refusal(cl, ENROLL_E_RATE_ACCOUNT, r->req.txid, retry);
		as_req_free(r);
		return;
	}
	if (env->checks >= (unsigned int)env->cfg.argon2_checks) {
		log_info("node %s: account %s: %s", cl->addr, r->req.account,
		    enroll_strerror(ENROLL_E_BUSY));
		as_send_refusal(cl, ENROLL_E_BUSY, r->req.txid, 1000);
		as_req_free(r);
		return;
	}
	env->checks++;
	r->work.data = r;
	if (uv_queue_work(env->uv, &r->work, as_check_work_cb,
	    as_check_after_cb) < 0)
		fatalx("uv_queue_work failed");
}

/* The host part of "addr:port" / "[v6]:port", for per-source limits. */
static void
as_host_of(const char *addr, char *host, size_t cap)
{
	const char *colon = strrchr(addr, ':');
	size_t len = colon ? (size_t)(colon - addr) : strlen(addr);

	if (len > 0 && addr[0] == '[' && addr[len - 1] == ']') {
		addr++;
		len -= 2;
	}
	if (len >= cap)
		len = cap - 1;
	memcpy(host, addr, len);
	host[len] = '\0';
}

static void
as_on_connected(struct tls_conn *c, const struct tls_peer *peer, void *arg)
{
	struct as_client *cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		fatalx("out of memory");
	cl->env = arg;
	cl->conn = c;
	cl->refs = 1;
	snprintf(cl->addr, sizeof(cl->addr), "%s", peer->addr);
	as_host_of(peer->addr, cl->host, sizeof(cl->host));
	tls_conn_set_user(c, cl);
	log_debug("node %s: connected%s%s", cl->addr,
	    peer->role == CERT_ROLE_INVALID ? " without certificate" : " as ",
	    peer->role == CERT_ROLE_INVALID ? "" : peer->fqdn);
}

static void
as_on_closed(struct tls_conn *c, int reason, void *arg)
{
	struct as_client *cl = tls_conn_user(c);

	(void)arg;
	if (cl == NULL)
		return;
	log_debug("node %s: closed (%s)", cl->addr,
	    reason == 0 ? "ok" : tls_strerror(reason));
	cl->closed = true;
	cl->conn = NULL;
	tls_conn_set_user(c, NULL);
	as_client_unref(cl);
}

/*
 * Node certificates: the usual checks with role ntm-node.  An expired one
 * is let through when everything else holds at its last valid second, so
 * the node gets AUTH_RESPONSE with EXPIRED rather than a bare TLS alert;
 * enroll_issue() refuses it (and a revoked one) by the database.
 */
static int
as_verify_node(void *ctx, const gnutls_x509_crt_t *chain, size_t n,
    time_t now)
{
	time_t end;
	int rv;

	rv = tls_verify_cert(ctx, chain, n, now);
	if (rv != CERT_E_EXPIRED ||
	    (end = gnutls_x509_crt_get_expiration_time(chain[0])) == (time_t)-1
	    || end >= now)
		return rv;
	return tls_verify_cert(ctx, chain, n, end - 1);
}

/* Timers */

struct as_status_job {
	int	refreshed;
	int	pruned;
};

static void
as_status_work(struct as_env *env, void *arg)
{
	struct as_status_job *j = arg;
	time_t now = time(NULL), when;

	if (status_next_due(env->db, now, &when) == 1 && when <= now)
		j->refreshed = status_refresh(&env->sc, now, 0);
}

static void
as_status_done(struct as_env *env, void *arg)
{
	struct as_status_job *j = arg;

	env->status_busy = false;
	if (j->refreshed > 0) {
		log_debug("status: %d responses refreshed", j->refreshed);
		as_notices_committed(env);
	}
	free(j);
}

static void
as_status_tick(uv_timer_t *t)
{
	struct as_env *env = t->data;
	struct as_status_job *j;

	if (env->status_busy || env->stopping)
		return;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatalx("out of memory");
	env->status_busy = true;
	as_job_submit(env, as_status_work, as_status_done, j);
}

/* Ticket keys made by the AS: a new one for each DC when due. */
static void
as_tkey_work(struct as_env *env, void *arg)
{
	int *made = arg;
	size_t i;
	int rv;

	for (i = 0; i < env->cfg.ndcs; i++) {
		if ((rv = tkey_rotate(&env->tkeys[i], env->db, rng_system(),
		    time(NULL), env->cfg.ticket_rotate_ms / 1000,
		    env->cfg.ticket_lifetime_ms / 1000)) < 0)
			log_warnx("ticket key: dc %s: no new key: %s",
			    env->cfg.dc[i].name, strerror(-rv));
		else if (rv > 0)
			(*made)++;
	}
}

static void
as_prune_work(struct as_env *env, void *arg)
{
	size_t removed = 0;

	if (outbox_prune(env->db, &removed) == 0 && removed > 0)
		log_debug("outbox: %zu acknowledged notices pruned", removed);
	as_tkey_work(env, arg);
}

static void
as_tkey_done(struct as_env *env, void *arg)
{
	int *made = arg;

	if (*made > 0)
		as_notices_committed(env);
	free(made);
}

static void
as_prune_tick(uv_timer_t *t)
{
	struct as_env *env = t->data;
	int *made;

	if (env->stopping)
		return;
	if ((made = calloc(1, sizeof(*made))) == NULL)
		fatalx("out of memory");
	as_job_submit(env, as_prune_work, as_tkey_done, made);
}

/* At start: each DC's keys from its file or the database, then rotation. */
static void
as_tkey_start_work(struct as_env *env, void *arg)
{
	size_t i;
	int rv;

	for (i = 0; i < env->cfg.ndcs; i++) {
		if (env->tkeys[i].from_file)
			continue;
		if ((rv = tkey_load(&env->tkeys[i], env->db,
		    env->cfg.dc[i].name, time(NULL))) < 0)
			fatalx("ticket key: dc %s: %s", env->cfg.dc[i].name,
			    strerror(-rv));
		if (env->tkeys[i].n > 0)
			log_info("dc %s: zone %s, ticket key id %08x (sent "
			    "with NOTICE_TICKET_KEY)", env->cfg.dc[i].name,
			    env->cfg.dc[i].zone, env->tkeys[i].k[0].id);
	}
	as_tkey_work(env, arg);
}

/* Start-up */

static void
as_usage(void)
{
	fprintf(stderr, "usage: ntm-as [-dnv] [-f file]\n");
	exit(2);
}

static void
as_setup_dcs(struct as_env *env, struct as_seal_arg *seal)
{
	struct sockaddr_storage ss;
	struct enroll_dc *d;
	struct as_dc_conf *c;
	uint8_t key[AS_TICKET_KEY_LEN];
	uint32_t id;
	size_t i, k;

	for (i = 0; i < env->cfg.ndcs; i++) {
		c = &env->cfg.dc[i];
		d = &env->dcs[i];
		d->name = c->name;
		d->zone = c->zone;
		d->prefix4 = c->prefix4;
		d->prefix6 = c->prefix6;
		d->pool4 = c->pool4;
		d->pool6 = c->pool6;
		d->vip_from_dc = c->vip_source == AS_VIP_DC;
		d->pool_fallback = c->pool_set;
		for (k = 0; k < c->signalling.n && k < ENROLL_DC_ADDRS_MAX;
		    k++) {
			if (loop_addr_parse(c->signalling.v[k], PROTO_PORT_DC,
			    0, &ss) < 0)
				continue;
			if (ss.ss_family == AF_INET) {
				const struct sockaddr_in *s4 = (void *)&ss;

				d->addrs[d->naddrs].family = PROTO_FAMILY_IPV4;
				d->addrs[d->naddrs].port = ntohs(s4->sin_port);
				memcpy(d->addrs[d->naddrs].addr,
				    &s4->sin_addr, 4);
			} else {
				const struct sockaddr_in6 *s6 = (void *)&ss;

				d->addrs[d->naddrs].family = PROTO_FAMILY_IPV6;
				d->addrs[d->naddrs].port = ntohs(s6->sin6_port);
				memcpy(d->addrs[d->naddrs].addr,
				    &s6->sin6_addr, 16);
			}
			d->naddrs++;
		}
		if (d->naddrs == 0) {
			/* Default: the DC's own address, signalling port. */
			ss = c->address;
			if (ss.ss_family == AF_INET) {
				const struct sockaddr_in *s4 = (void *)&ss;

				d->addrs[0].family = PROTO_FAMILY_IPV4;
				memcpy(d->addrs[0].addr, &s4->sin_addr, 4);
			} else {
				const struct sockaddr_in6 *s6 = (void *)&ss;

				d->addrs[0].family = PROTO_FAMILY_IPV6;
				memcpy(d->addrs[0].addr, &s6->sin6_addr, 16);
			}
			d->addrs[0].port = PROTO_PORT_DC;
			d->naddrs = 1;
		}
		seal[i].tk = &env->tkeys[i];
		seal[i].db = env->db;
		d->ticket_arg = &seal[i];
		if (c->vip_source == AS_VIP_DC)
			log_info("dc %s: virtual IPs from the DC (VIP_REQUEST)%s",
			    c->name, c->pool_set ? ", the pool when it does "
			    "not answer" : "");
		if (c->ticket_key == NULL)
			continue;	/* made by the AS: as_tkey_start_work */
		if (config_as_ticket_key(c->ticket_key, key, &id) < 0 ||
		    tkey_init_file(&env->tkeys[i], c->name, id, key) < 0)
			fatalx("dc %s: ticket key %s unusable", c->name,
			    c->ticket_key);
		gnutls_memset(key, 0, sizeof(key));
		log_info("dc %s: zone %s, ticket key id %08x from %s", c->name,
		    c->zone, id, c->ticket_key);
	}
}

static void
as_on_stop(struct loop *lp, void *arg)
{
	struct as_env *env = arg;
	size_t i;

	(void)lp;
	log_info("shutting down");
	env->stopping = true;
	tls_listener_free(env->listener);
	env->listener = NULL;
	control_close(env->control);
	env->control = NULL;
	for (i = 0; i < env->cfg.ndcs; i++)
		notice_link_stop(env->links[i]);
	uv_close((uv_handle_t *)&env->status_timer, NULL);
	uv_close((uv_handle_t *)&env->prune_timer, NULL);
	if (env->job_head == NULL && !env->job_running && env->checks == 0)
		loop_stop(&env->loop);
}

int
main(int argc, char *argv[])
{
	static struct as_env env;
	static struct as_seal_arg seal[AS_DCS_MAX];
	const char *path = AS_CONFIG_DEFAULT;
	bool check = false, foreground = false, verbose = false;
	struct tls_config lc;
	struct tls_expect node_expect;
	size_t i;
	int ch, rv;

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
			as_usage();
		}
	}
	if (optind != argc)
		as_usage();
	log_init("ntm-as", 1, verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (config_as_load(path, &env.cfg) < 0) {
		config_as_free(&env.cfg);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		config_as_free(&env.cfg);
		return 0;
	}
	if (sqlite3_threadsafe() != 1)
		fatalx("SQLite is not built serialized (threadsafe=1)");
	/* daemon() forks: before the signer, which dies with its parent. */
	if (!foreground) {
		if (daemon(0, 0) < 0)
			fatal("daemon");
		log_init("ntm-as", 0, verbose ? LOG_LEVEL_DEBUG :
		    LOG_LEVEL_INFO);
	}
	if ((rv = signer_start(env.cfg.ca_key, &env.signer)) < 0)
		fatalx("signer for %s: %s", env.cfg.ca_key, strerror(-rv));
	if ((rv = cert_crt_read(env.cfg.ca_cert, &env.ca)) < 0)
		fatalx("%s: %s", env.cfg.ca_cert, cert_strerror(rv));
	if (!signer_matches_crt(env.signer, env.ca))
		fatalx("%s does not certify the key in %s", env.cfg.ca_cert,
		    env.cfg.ca_key);
	if ((rv = signer_privkey(env.signer, &env.cakey)) < 0 ||
	    (rv = ocsp_signer_new(env.ca, &env.ocsp)) < 0)
		fatalx("CA key: %d", rv);
	/*
	 * One connection.  A second db_open() of the file used to open and
	 * close it (lib/db before 66e0ddc), dropping the first connection's
	 * POSIX locks: an sqlite3 shell then unlinked the WAL under the
	 * daemon and later commits were lost at kill -9.  Password checks
	 * share this connection (SQLite is serialized).
	 */
	if (db_open(env.cfg.db_path, &schema_as, &env.db) < 0)
		fatalx("cannot open %s", env.cfg.db_path);
	env.vdb = env.db;

	env.params.t_cost = (uint32_t)env.cfg.argon2_t;
	env.params.m_cost_kib = (uint32_t)env.cfg.argon2_m_kib;
	env.params.lanes = 1;
	env.sc.db = env.db;
	env.sc.issuer = env.ca;
	env.sc.key = env.cakey;
	env.sc.ocsp = env.ocsp;
	env.sc.validity = (uint32_t)(env.cfg.status_validity_ms / 1000);
	env.sc.crl_path = env.cfg.crl;
	env.vsc = env.sc;
	env.vsc.db = env.vdb;
	as_setup_dcs(&env, seal);
	env.ectx.status = &env.sc;
	env.ectx.params = &env.params;
	env.ectx.rng = rng_system();
	env.ectx.dcs = env.dcs;
	env.ectx.ndcs = env.cfg.ndcs;
	env.ectx.lifetime = (uint32_t)(env.cfg.cert_lifetime_ms / 1000);
	env.ectx.ticket_lifetime = (uint32_t)(env.cfg.ticket_lifetime_ms /
	    1000);
	env.ectx.seal = as_seal;
	env.vctx = env.ectx;
	env.vctx.status = &env.vsc;
	if (enroll_limiter_init(&env.lim_account, 0,
	    (uint32_t)env.cfg.account_burst,
	    (uint32_t)env.cfg.account_per_min, rng_system()) < 0 ||
	    enroll_limiter_init(&env.lim_source, 0,
	    (uint32_t)env.cfg.source_burst, (uint32_t)env.cfg.source_per_min,
	    rng_system()) < 0)
		fatalx("out of memory");
	if (env.cfg.crl != NULL && (rv = status_crl_write(&env.sc,
	    time(NULL))) < 0)
		fatalx("CRL %s: %s", env.cfg.crl, strerror(-rv));

	if ((rv = tls_creds_new(&env.creds)) < 0 ||
	    (rv = tls_creds_load(env.creds, env.cfg.trust, env.cfg.tls_cert,
	    env.cfg.tls_key)) < 0)
		fatalx("TLS credentials %s, %s: %s", env.cfg.tls_cert,
		    env.cfg.tls_key, rv < -1099 && rv > -1200 ?
		    cert_strerror(rv) : tls_strerror(rv));

	env.uv = uv_default_loop();
	if (loop_init(&env.loop, env.uv, NULL, as_on_stop, &env) < 0)
		fatalx("loop_init");
	memset(&node_expect, 0, sizeof(node_expect));
	node_expect.trust = tls_creds_trust(env.creds);
	node_expect.intermediate = env.ca;
	node_expect.role = CERT_ROLE_NODE;
	memset(&lc, 0, sizeof(lc));
	lc.creds = env.creds;
	lc.verify = as_verify_node;
	lc.verify_ctx = &node_expect;
	lc.client_auth = TLS_CLIENT_AUTH_OPTIONAL;
	lc.framing = TLS_FRAMING_MSG;
	lc.frame_max = AS_NODE_FRAME_MAX;
	lc.conns_max = AS_NODE_CONNS_MAX;
	lc.idle_timeout_ms = AS_NODE_IDLE_MS;
	lc.name = "node";
	lc.on_connected = as_on_connected;
	lc.on_frame = as_on_frame;
	lc.on_closed = as_on_closed;
	lc.arg = &env;
	if ((rv = tls_listen(env.uv, &lc, (struct sockaddr *)&env.cfg.listen,
	    &env.listener)) < 0)
		fatalx("listen for nodes: %s", tls_strerror(rv));
	for (i = 0; i < env.cfg.ndcs; i++)
		if ((rv = notice_link_new(&env, &env.cfg.dc[i],
		    &env.links[i])) < 0)
			fatalx("dc %s: %s", env.cfg.dc[i].name, strerror(-rv));
	/* After the links' jobs, which register each DC in the outbox. */
	{
		int *made;

		if ((made = calloc(1, sizeof(*made))) == NULL)
			fatalx("out of memory");
		as_job_submit(&env, as_tkey_start_work, as_tkey_done, made);
	}
	if (env.cfg.control != NULL && (rv = control_open(&env,
	    env.cfg.control, &env.control)) < 0)
		fatalx("control socket %s: %s", env.cfg.control,
		    strerror(-rv));
	uv_timer_init(env.uv, &env.status_timer);
	env.status_timer.data = &env;
	uv_timer_start(&env.status_timer, as_status_tick, 0,
	    AS_STATUS_TICK_MS);
	uv_timer_init(env.uv, &env.prune_timer);
	env.prune_timer.data = &env;
	uv_timer_start(&env.prune_timer, as_prune_tick, AS_PRUNE_TICK_MS,
	    AS_PRUNE_TICK_MS);
	{
		char a[LOOP_ADDRSTRLEN];
		struct sockaddr_storage ss;

		if (tls_listener_addr(env.listener, &ss) == 0 &&
		    loop_addr_format((struct sockaddr *)&ss, a, sizeof(a)) == 0)
			log_info("listening for nodes on %s", a);
	}

	loop_run(&env.loop);
	loop_shutdown(&env.loop);

	for (i = 0; i < env.cfg.ndcs; i++) {
		notice_link_free(env.links[i]);
		tkey_clear(&env.tkeys[i]);
	}
	enroll_limiter_free(&env.lim_account);
	enroll_limiter_free(&env.lim_source);
	tls_creds_free(env.creds);
	db_close(env.db);
	ocsp_signer_free(env.ocsp);
	gnutls_privkey_deinit(env.cakey);
	gnutls_x509_crt_deinit(env.ca);
	signer_stop(env.signer);
	config_as_free(&env.cfg);
	log_info("stopped");
	return 0;
}
