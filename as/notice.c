/* notice.c -- AS -> DC notices: encoding outbox rows as NOTICE_* messages and delivering them over mutual TLS; VIP_REQUEST on the same channel. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "as.h"
#include "buf.h"
#include "cert.h"
#include "db.h"
#include "log.h"
#include "msg.h"
#include "notice.h"
#include "outbox.h"
#include "status.h"
#include "tkey.h"
#include "tls.h"

/* Encoding */

static int
notice_fqdn_of(struct db *db, const char *serial, char *fqdn, size_t cap)
{
	sqlite3_stmt *s = NULL;
	int rv;

	if ((rv = db_prepare(db, &s, "SELECT fqdn FROM certificates WHERE "
	    "serial = ?", "t", serial)) < 0)
		return rv;
	if ((rv = db_step(s)) == DB_ROW) {
		snprintf(fqdn, cap, "%s", db_col_text(s, 0));
		rv = 0;
	} else if (rv == DB_DONE)
		rv = -ENOENT;
	db_finalize(s);
	return rv;
}

/* Copies bytes into the builder's scratch and adds them as an attribute. */
static int
notice_add_copy(struct msg *m, uint16_t type, const void *p, size_t len)
{
	if (m->scratch_len + len > sizeof(m->scratch))
		return -E2BIG;
	memcpy(m->scratch + m->scratch_len, p, len);
	m->scratch_len += len;
	return msg_add_bytes(m, type, m->scratch + m->scratch_len - len, len);
}

/*
 * NOTICE_ISSUED from the certificate itself and its newest stored status.
 * *status and hash must outlive the encoding (they are borrowed by m).
 */
static int
notice_encode_issued(struct db *db, const struct outbox_notice *n,
    struct msg *m, gnutls_datum_t *status, uint8_t hash[32])
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t der = { (unsigned char *)n->payload,
	    (unsigned int)n->len };
	struct cert_info *info;
	int rv = -EBADMSG;

	if ((info = malloc(sizeof(*info))) == NULL)
		return -ENOMEM;
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) < 0 ||
	    cert_info(crt, info) < 0)
		goto out;
	if ((rv = status_get(db, n->serial, status, NULL, NULL)) < 0)
		goto out;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, n->payload, n->len,
	    hash) < 0) {
		rv = -EIO;
		goto out;
	}
	rv = 0;
	rv |= notice_add_copy(m, PROTO_ATTR_FQDN, info->fqdn,
	    strlen(info->fqdn));
	rv |= notice_add_copy(m, PROTO_ATTR_SERIAL, info->serial,
	    info->serial_len);
	rv |= msg_add_bytes(m, PROTO_ATTR_CERT, n->payload, n->len);
	rv |= msg_add_bytes(m, PROTO_ATTR_STATUS, status->data, status->size);
	rv |= msg_add_bytes(m, PROTO_ATTR_CERT_HASH, hash, 32);
	if (info->has_vip4)
		rv |= notice_add_copy(m, PROTO_ATTR_VIP4, &info->vip4, 4);
	if (info->has_vip6)
		rv |= notice_add_copy(m, PROTO_ATTR_VIP6, &info->vip6, 16);
	if (rv != 0)
		rv = -E2BIG;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	free(info);
	return rv;
}

int
notice_encode(struct db *db, const struct outbox_notice *n, uint8_t *out,
    size_t cap, size_t *outlen)
{
	gnutls_datum_t status = { NULL, 0 };
	uint8_t serial[PROTO_SERIAL_MAX], hash[32], key[PROTO_KEY_LEN];
	uint64_t expires;
	char fqdn[PROTO_FQDN_MAX + 1];
	sqlite3_stmt *s = NULL;
	size_t slen;
	struct msg *m;
	int rv;

	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	if ((rv = status_serial_parse(n->serial, serial, sizeof(serial),
	    &slen)) < 0)
		goto out;
	switch (n->kind) {
	case OUTBOX_KIND_TICKET_KEY:
		/* The key is read here, so the outbox row never holds it. */
		msg_init(m, PROTO_MSG_NOTICE_TICKET_KEY);
		if (n->len != 4) {
			rv = -EINVAL;
			goto out;
		}
		if ((rv = tkey_notice_key(db, n->dc, load_be32(n->payload),
		    key, &expires)) < 0)
			goto out;
		rv = msg_add_u32(m, PROTO_ATTR_TICKET_KEY_ID,
		    load_be32(n->payload));
		rv |= notice_add_copy(m, PROTO_ATTR_TICKET_KEY, key,
		    sizeof(key));
		rv |= msg_add_u64(m, PROTO_ATTR_EXPIRY, expires);
		if (rv != 0) {
			rv = -E2BIG;
			goto out;
		}
		break;
	case OUTBOX_KIND_ISSUED:
		msg_init(m, PROTO_MSG_NOTICE_ISSUED);
		if ((rv = notice_encode_issued(db, n, m, &status, hash)) < 0)
			goto out;
		break;
	case OUTBOX_KIND_REVOKED:
		msg_init(m, PROTO_MSG_NOTICE_REVOKED);
		if ((rv = notice_fqdn_of(db, n->serial, fqdn,
		    sizeof(fqdn))) < 0)
			goto out;
		if ((rv = db_prepare(db, &s, "SELECT revoked_at, reason FROM "
		    "revocations WHERE serial = ?", "t", n->serial)) < 0)
			goto out;
		if ((rv = db_step(s)) != DB_ROW) {
			rv = rv < 0 ? rv : -ENOENT;
			goto out;
		}
		rv = 0;
		rv |= notice_add_copy(m, PROTO_ATTR_SERIAL, serial, slen);
		rv |= notice_add_copy(m, PROTO_ATTR_FQDN, fqdn, strlen(fqdn));
		rv |= msg_add_u64(m, PROTO_ATTR_REVOCATION_TIME,
		    (uint64_t)db_col_int64(s, 0));
		rv |= msg_add_u8(m, PROTO_ATTR_REASON,
		    (uint8_t)db_col_int64(s, 1));
		rv |= msg_add_bytes(m, PROTO_ATTR_STATUS, n->payload, n->len);
		if (rv != 0) {
			rv = -E2BIG;
			goto out;
		}
		break;
	case OUTBOX_KIND_STATUS:
		msg_init(m, PROTO_MSG_NOTICE_STATUS);
		rv = notice_add_copy(m, PROTO_ATTR_SERIAL, serial, slen);
		rv |= msg_add_bytes(m, PROTO_ATTR_STATUS, n->payload, n->len);
		if (notice_fqdn_of(db, n->serial, fqdn, sizeof(fqdn)) == 0)
			rv |= notice_add_copy(m, PROTO_ATTR_FQDN, fqdn,
			    strlen(fqdn));
		if (rv != 0) {
			rv = -E2BIG;
			goto out;
		}
		break;
	default:
		rv = -EINVAL;
		goto out;
	}
	m->hdr.txid = (uint32_t)n->seq;
	if ((rv = msg_add_u64(m, PROTO_ATTR_NOTICE_SEQ, n->seq)) < 0)
		goto out;
	rv = msg_encode(m, out, cap, outlen);
out:
	db_finalize(s);
	gnutls_free(status.data);
	gnutls_memset(key, 0, sizeof(key));
	if (n->kind == OUTBOX_KIND_TICKET_KEY)
		gnutls_memset(m, 0, sizeof(*m));
	free(m);
	return rv;
}

int
notice_ack_decode(const uint8_t *frame, size_t len, uint64_t *seq)
{
	struct msg *m;
	int rv;

	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	if ((rv = msg_decode(frame, len, m)) < 0)
		goto out;
	if (m->hdr.type != PROTO_MSG_NOTICE_ACK ||
	    m->hdr.status != PROTO_STATUS_OK) {
		rv = -EPROTO;
		goto out;
	}
	rv = msg_attr_u64(m, PROTO_ATTR_NOTICE_SEQ, seq);
out:
	free(m);
	return rv;
}

int
notice_vip_request_encode(const char *fqdn, uint32_t txid, uint8_t *out,
    size_t cap, size_t *outlen)
{
	struct msg *m;
	int rv;

	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	msg_init(m, PROTO_MSG_VIP_REQUEST);
	m->hdr.txid = txid;
	if ((rv = msg_add_bytes(m, PROTO_ATTR_FQDN, fqdn,
	    strlen(fqdn))) == 0)
		rv = msg_encode(m, out, cap, outlen);
	free(m);
	return rv;
}

int
notice_vip_response_decode(const uint8_t *frame, size_t len,
    struct notice_vip_answer *a)
{
	const struct msg_attr *v;
	struct msg *m;
	int rv;

	memset(a, 0, sizeof(*a));
	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	if ((rv = msg_decode(frame, len, m)) < 0)
		goto out;
	if (m->hdr.type != PROTO_MSG_VIP_RESPONSE) {
		rv = -EPROTO;
		goto out;
	}
	a->txid = m->hdr.txid;
	a->status = m->hdr.status;
	if ((v = msg_attr_find(m, PROTO_ATTR_FQDN)) != NULL &&
	    v->len <= PROTO_FQDN_MAX) {
		memcpy(a->fqdn, v->val, v->len);
		a->fqdn[v->len] = '\0';
	}
	if ((v = msg_attr_find(m, PROTO_ATTR_VIP4)) != NULL && v->len == 4) {
		memcpy(&a->vip4, v->val, 4);
		a->has_vip4 = true;
	}
	if ((v = msg_attr_find(m, PROTO_ATTR_VIP6)) != NULL && v->len == 16) {
		memcpy(&a->vip6, v->val, 16);
		a->has_vip6 = true;
	}
	rv = 0;
out:
	free(m);
	return rv;
}

/* Links */

/* A VIP_REQUEST waiting for the connection or for its answer. */
struct notice_vip {
	struct notice_vip	*next;
	uint32_t		 txid;
	bool			 sent;
	uint64_t		 deadline;	/* uv_now() ms */
	char			 fqdn[PROTO_FQDN_MAX + 1];
	notice_vip_cb		 cb;
	void			*arg;
};

struct notice_frame {
	uint64_t	 seq;
	size_t		 len;
	uint8_t		*bytes;
};

/* One outbox read and its encoded frames, made on the job thread. */
struct notice_fetch {
	struct notice_link	*link;
	uint64_t		 session;
	uint64_t		 after_seq;
	size_t			 max;
	uint64_t		 gen;
	size_t			 n;
	struct notice_frame	*frames;
	int			 rv;
};

struct notice_persist {
	struct notice_link	*link;
	uint64_t		 seq;
	int			 rv;
};

struct notice_link {
	struct as_env		*env;
	const struct as_dc_conf	*dc;
	struct tls_client	*client;
	struct tls_conn		*conn;		/* open and verified, or NULL */
	struct tls_expect	 expect;
	struct outbox_conn	 oc;
	uv_timer_t		 timer;
	uint64_t		 session;	/* bumped on every (dis)connect */
	bool			 ready;		/* cursor read */
	bool			 fetching;
	bool			 persisting;
	bool			 stopped;
	uint8_t			*buf;		/* encoding buffer (job) */
	struct notice_vip	*vips;		/* oldest first */
	uint32_t		 vip_txid;
	uv_timer_t		 vip_timer;
};

static void	notice_pump(struct notice_link *);
static void	notice_vip_send(struct notice_link *);
static void	notice_vip_frame(struct notice_link *, const uint8_t *,
		    size_t);

static void
notice_fetch_free(struct notice_fetch *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->frames[i].bytes);
	free(f->frames);
	free(f);
}

static int
notice_fetch_one(const struct outbox_notice *n, void *arg)
{
	struct notice_fetch *f = arg;
	struct notice_frame *fr = &f->frames[f->n];
	size_t len;
	int rv;

	if ((rv = notice_encode(f->link->env->db, n, f->link->buf,
	    PROTO_TLS_MESSAGE_MAX, &len)) < 0) {
		/* A row we cannot encode must not stall the DC forever. */
		log_warnx("notice: dc %s: seq %llu (%s %s) not encodable: %d",
		    f->link->dc->name, (unsigned long long)n->seq,
		    outbox_kind_name(n->kind), n->serial, rv);
		return 1;
	}
	if ((fr->bytes = malloc(len)) == NULL)
		return -ENOMEM;
	memcpy(fr->bytes, f->link->buf, len);
	fr->len = len;
	fr->seq = n->seq;
	f->n++;
	return 0;
}

static void
notice_fetch_work(struct as_env *env, void *arg)
{
	struct notice_fetch *f = arg;

	(void)env;
	if ((f->frames = calloc(f->max, sizeof(*f->frames))) == NULL) {
		f->rv = -ENOMEM;
		return;
	}
	f->rv = outbox_pending(env->db, f->link->dc->name, f->after_seq,
	    f->max, notice_fetch_one, f);
}

static void
notice_fetch_done(struct as_env *env, void *arg)
{
	struct notice_fetch *f = arg;
	struct notice_link *l = f->link;
	size_t i;
	int rv;

	l->fetching = false;
	if (l->stopped || f->session != l->session || l->conn == NULL) {
		notice_fetch_free(f);
		return;
	}
	if (f->rv < 0)
		log_warnx("notice: dc %s: reading the outbox: %s",
		    l->dc->name, strerror(-f->rv));
	for (i = 0; i < f->n; i++) {
		if ((rv = tls_send(l->conn, f->frames[i].bytes,
		    f->frames[i].len)) < 0) {
			if (rv != -ENOBUFS)
				log_warnx("notice: dc %s: sending seq %llu: "
				    "%s", l->dc->name, (unsigned long long)
				    f->frames[i].seq, tls_strerror(rv));
			break;
		}
		(void)outbox_conn_sent(&l->oc, f->frames[i].seq,
		    uv_now(env->uv));
		log_debug("notice: dc %s: sent seq %llu", l->dc->name,
		    (unsigned long long)f->frames[i].seq);
	}
	if (f->rv >= 0 && i == f->n && f->n < f->max)
		outbox_conn_drained(&l->oc, f->gen);
	notice_fetch_free(f);
	notice_pump(l);
}

static void
notice_persist_work(struct as_env *env, void *arg)
{
	struct notice_persist *p = arg;

	p->rv = outbox_ack(env->db, p->link->dc->name, p->seq);
}

static void
notice_persist_done(struct as_env *env, void *arg)
{
	struct notice_persist *p = arg;
	struct notice_link *l = p->link;

	(void)env;
	l->persisting = false;
	if (p->rv == 0 || p->rv == -EALREADY)
		outbox_conn_persisted(&l->oc, p->seq);
	else
		log_warnx("notice: dc %s: storing ack %llu: %s", l->dc->name,
		    (unsigned long long)p->seq, strerror(-p->rv));
	free(p);
	if (!l->stopped)
		notice_pump(l);
}

static void
notice_timer_cb(uv_timer_t *t)
{
	notice_pump(t->data);
}

static void
notice_pump(struct notice_link *l)
{
	struct outbox_step step;
	struct notice_persist *p;
	struct notice_fetch *f;
	uint64_t now = uv_now(l->env->uv), seq;

	if (l->stopped || !l->ready)
		return;
	if (!l->persisting && outbox_conn_persist(&l->oc, &seq)) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			fatalx("out of memory");
		p->link = l;
		p->seq = seq;
		l->persisting = true;
		as_job_submit(l->env, notice_persist_work, notice_persist_done,
		    p);
	}
	outbox_conn_next(&l->oc, now, &step);
	switch (step.action) {
	case OUTBOX_ACT_SEND:
		if (!l->fetching) {
			if ((f = calloc(1, sizeof(*f))) == NULL)
				fatalx("out of memory");
			f->link = l;
			f->session = l->session;
			f->after_seq = step.after_seq;
			f->max = step.max;
			f->gen = step.gen;
			l->fetching = true;
			as_job_submit(l->env, notice_fetch_work,
			    notice_fetch_done, f);
		}
		break;
	case OUTBOX_ACT_RESET:
		log_warnx("notice: dc %s: no acknowledgement in time, "
		    "reconnecting", l->dc->name);
		if (l->conn != NULL)
			tls_close(l->conn);
		break;
	default:
		break;
	}
	if (step.deadline > now)
		uv_timer_start(&l->timer, notice_timer_cb, step.deadline - now,
		    0);
	else if (step.deadline != 0)
		uv_timer_start(&l->timer, notice_timer_cb, 1, 0);
	else
		uv_timer_stop(&l->timer);
}

static void
notice_on_connected(struct tls_conn *c, const struct tls_peer *peer,
    void *arg)
{
	struct notice_link *l = arg;

	l->conn = c;
	l->session++;
	log_info("notice: dc %s: connected to %s (%s)", l->dc->name,
	    peer->addr, peer->fqdn);
	outbox_conn_connected(&l->oc, 0);
	notice_vip_send(l);
	notice_pump(l);
}

static void
notice_on_frame(struct tls_conn *c, const uint8_t *p, size_t len, void *arg)
{
	struct notice_link *l = arg;
	uint64_t seq;
	int rv;

	if (len >= 2 && p[1] == PROTO_MSG_VIP_RESPONSE) {
		notice_vip_frame(l, p, len);
		return;
	}
	if ((rv = notice_ack_decode(p, len, &seq)) < 0) {
		log_warnx("notice: dc %s: not a NOTICE_ACK (%s), closing",
		    l->dc->name, rv == -EPROTO ? "another type" :
		    msg_strerror(rv));
		tls_close(c);
		return;
	}
	rv = outbox_conn_acked(&l->oc, seq);
	if (rv == -ERANGE)
		log_warnx("notice: dc %s: ack %llu for a notice never sent",
		    l->dc->name, (unsigned long long)seq);
	else if (rv == 0)
		log_debug("notice: dc %s: acked up to %llu", l->dc->name,
		    (unsigned long long)seq);
	notice_pump(l);
}

static void
notice_on_closed(struct tls_conn *c, int reason, void *arg)
{
	struct notice_link *l = arg;
	struct notice_vip *v;

	if (l->conn != c && l->conn != NULL)
		return;
	if (l->conn != NULL)
		log_info("notice: dc %s: disconnected (%s)", l->dc->name,
		    reason == 0 ? "closed" : tls_strerror(reason));
	else if (!l->stopped)
		log_debug("notice: dc %s: connection failed (%s)", l->dc->name,
		    tls_strerror(reason));
	l->conn = NULL;
	l->session++;
	outbox_conn_disconnected(&l->oc);
	/* Asked again on the next connection, if there is time. */
	for (v = l->vips; v != NULL; v = v->next)
		v->sent = false;
	if (!l->stopped)
		uv_timer_stop(&l->timer);
}

struct notice_start {
	struct notice_link	*link;
	uint64_t		 cursor;
	int			 rv;
};

static void
notice_start_work(struct as_env *env, void *arg)
{
	struct notice_start *s = arg;

	s->rv = outbox_cursor(env->db, s->link->dc->name, &s->cursor);
	if (s->rv == -ENOENT) {
		s->cursor = 0;
		s->rv = outbox_dc_add(env->db, s->link->dc->name);
	}
}

static void
notice_start_done(struct as_env *env, void *arg)
{
	struct notice_start *s = arg;
	struct notice_link *l = s->link;
	struct tls_config cfg;
	int rv;

	if (s->rv < 0)
		fatalx("notice: dc %s: cursor: %s", l->dc->name,
		    strerror(-s->rv));
	outbox_conn_init(&l->oc, s->cursor,
	    (unsigned int)env->cfg.notice_window, 0);
	l->ready = true;
	free(s);
	if (l->stopped)
		return;
	memset(&cfg, 0, sizeof(cfg));
	cfg.creds = env->creds;
	cfg.verify = tls_verify_cert;
	cfg.verify_ctx = &l->expect;
	cfg.framing = TLS_FRAMING_MSG;
	cfg.name = l->dc->name;
	cfg.on_connected = notice_on_connected;
	cfg.on_frame = notice_on_frame;
	cfg.on_closed = notice_on_closed;
	cfg.arg = l;
	if ((rv = tls_client_new(env->uv, &cfg,
	    (const struct sockaddr *)&l->dc->address, &l->client)) < 0)
		fatalx("notice: dc %s: %s", l->dc->name, tls_strerror(rv));
	log_info("notice: dc %s: cursor at %llu", l->dc->name,
	    (unsigned long long)l->oc.persisted);
}

int
notice_link_new(struct as_env *env, const struct as_dc_conf *dc,
    struct notice_link **out)
{
	struct notice_link *l;
	struct notice_start *s;

	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->buf = malloc(PROTO_TLS_MESSAGE_MAX)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		if (l != NULL)
			free(l->buf);
		free(l);
		return -ENOMEM;
	}
	l->env = env;
	l->dc = dc;
	l->expect.trust = tls_creds_trust(env->creds);
	l->expect.intermediate = env->ca;
	l->expect.role = CERT_ROLE_DC;
	l->expect.name = dc->zone;
	uv_timer_init(env->uv, &l->timer);
	l->timer.data = l;
	uv_timer_init(env->uv, &l->vip_timer);
	l->vip_timer.data = l;
	s->link = l;
	as_job_submit(env, notice_start_work, notice_start_done, s);
	*out = l;
	return 0;
}

void
notice_link_kick(struct notice_link *l)
{
	if (l == NULL || l->stopped)
		return;
	outbox_conn_kick(&l->oc);
	notice_pump(l);
}

void
notice_link_stop(struct notice_link *l)
{
	struct notice_vip *v;

	if (l == NULL || l->stopped)
		return;
	l->stopped = true;
	if (l->client != NULL)
		tls_client_free(l->client);
	l->client = NULL;
	uv_close((uv_handle_t *)&l->timer, NULL);
	uv_close((uv_handle_t *)&l->vip_timer, NULL);
	while ((v = l->vips) != NULL) {
		l->vips = v->next;
		v->cb(v->arg, -ECANCELED, NULL);
		free(v);
	}
}

/* ---- VIP_REQUEST ---------------------------------------------------------- */

static void	notice_vip_arm(struct notice_link *);

/* Sends every request not yet sent on this connection. */
static void
notice_vip_send(struct notice_link *l)
{
	uint8_t buf[PROTO_HEADER_LEN + 4 + PROTO_FQDN_MAX + 16];
	struct notice_vip *v;
	size_t len;
	int rv;

	for (v = l->vips; v != NULL && l->conn != NULL; v = v->next) {
		if (v->sent)
			continue;
		if ((rv = notice_vip_request_encode(v->fqdn, v->txid, buf,
		    sizeof(buf), &len)) < 0 ||
		    (rv = tls_send(l->conn, buf, len)) < 0) {
			log_warnx("vip: dc %s: request for %s not sent: %d",
			    l->dc->name, v->fqdn, rv);
			continue;
		}
		v->sent = true;
		log_debug("vip: dc %s: asked for %s (txid %u)", l->dc->name,
		    v->fqdn, v->txid);
	}
}

static void
notice_vip_frame(struct notice_link *l, const uint8_t *p, size_t len)
{
	struct notice_vip_answer a;
	struct notice_vip **vp, *v;
	int rv;

	if ((rv = notice_vip_response_decode(p, len, &a)) < 0) {
		log_warnx("vip: dc %s: bad VIP_RESPONSE (%s), closing",
		    l->dc->name, msg_strerror(rv));
		tls_close(l->conn);
		return;
	}
	for (vp = &l->vips; (v = *vp) != NULL; vp = &v->next)
		if (v->txid == a.txid && strcmp(v->fqdn, a.fqdn) == 0)
			break;
	if (v == NULL) {
		log_info("vip: dc %s: answer for %s (txid %u) after its "
		    "deadline, ignored", l->dc->name, a.fqdn, a.txid);
		return;
	}
	*vp = v->next;
	notice_vip_arm(l);
	v->cb(v->arg, 0, &a);
	free(v);
}

static void
notice_vip_timer_cb(uv_timer_t *t)
{
	struct notice_link *l = t->data;
	struct notice_vip **vp, *v, *late = NULL, **tail = &late;
	uint64_t now = uv_now(l->env->uv);

	for (vp = &l->vips; (v = *vp) != NULL;) {
		if (v->deadline <= now) {
			*vp = v->next;
			v->next = NULL;
			*tail = v;
			tail = &v->next;
		} else
			vp = &v->next;
	}
	notice_vip_arm(l);
	while ((v = late) != NULL) {
		late = v->next;
		log_warnx("vip: dc %s: no answer for %s in time (%s)",
		    l->dc->name, v->fqdn, l->conn != NULL ? "connected" :
		    "not connected");
		v->cb(v->arg, -ETIMEDOUT, NULL);
		free(v);
	}
}

static void
notice_vip_arm(struct notice_link *l)
{
	struct notice_vip *v;
	uint64_t now = uv_now(l->env->uv), first = UINT64_MAX;

	if (l->stopped)
		return;
	for (v = l->vips; v != NULL; v = v->next)
		if (v->deadline < first)
			first = v->deadline;
	if (first == UINT64_MAX)
		uv_timer_stop(&l->vip_timer);
	else
		uv_timer_start(&l->vip_timer, notice_vip_timer_cb,
		    first > now ? first - now : 0, 0);
}

int
notice_link_vip_request(struct notice_link *l, const char *fqdn,
    uint64_t timeout_ms, notice_vip_cb cb, void *arg)
{
	struct notice_vip *v, **vp;

	if (l->stopped)
		return -ECANCELED;
	if (strlen(fqdn) > PROTO_FQDN_MAX)
		return -EINVAL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return -ENOMEM;
	v->txid = ++l->vip_txid;
	v->deadline = uv_now(l->env->uv) + timeout_ms;
	snprintf(v->fqdn, sizeof(v->fqdn), "%s", fqdn);
	v->cb = cb;
	v->arg = arg;
	for (vp = &l->vips; *vp != NULL; vp = &(*vp)->next)
		;
	*vp = v;
	notice_vip_send(l);
	notice_vip_arm(l);
	return 0;
}

void
notice_link_free(struct notice_link *l)
{
	if (l == NULL)
		return;
	free(l->buf);
	free(l);
}

uint64_t
notice_link_acked(const struct notice_link *l)
{
	return l->oc.acked;
}

int
notice_link_connected(const struct notice_link *l)
{
	return l->conn != NULL;
}
