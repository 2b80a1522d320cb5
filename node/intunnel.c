/* intunnel.c -- in-tunnel messages of one live tunnel: rekey, certificate and status updates, staple expiry. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "buf.h"
#include "crypto.h"
#include "dataplane.h"
#include "enroll.h"
#include "frag.h"
#include "handshake.h"
#include "intunnel.h"
#include "kex.h"
#include "log.h"
#include "msg.h"
#include "peercheck.h"
#include "proto.h"
#include "rand.h"

enum intunnel_limit {
	INTUNNEL_LIMIT_INVALID = 0,
	/* The request, fragments or not, never exceeds one datagram each. */
	INTUNNEL_FRAG_PAYLOAD = PROTO_DATAGRAM_MAX - PROTO_HEADER_LEN -
	    PROTO_FRAG_HEADER_LEN,
	/* After the last send, how long an answer may still come. */
	INTUNNEL_FAIL_WAIT = 4000,
};

/* A request of ours awaiting its answer, and its retransmission clock. */
struct intunnel_req {
	bool		 active;
	uint32_t	 txid;
	unsigned	 n;			/* datagrams (fragments) */
	size_t		 len[PROTO_FRAGMENTS_MAX];
	uint8_t		 (*buf)[PROTO_DATAGRAM_MAX];
	unsigned	 sends;
	uint64_t	 next;			/* next send, or the give-up */
};

struct intunnel {
	uint8_t			 path[PROTO_ID_LEN];
	char			 peer[PROTO_FQDN_MAX + 1];
	enum dataplane_role	 role;
	uint8_t			 kex;
	struct kex_allowed	 allowed;
	uint8_t			 k_rekey[PROTO_KEY_LEN];
	uint8_t			*peer_cert;
	size_t			 peer_cert_len;
	uint8_t			 peer_cert_hash[PROTO_HASH_LEN];
	uint8_t			 peer_status_hash[PROTO_HASH_LEN];
	time_t			 status_this;	/* peer staple's thisUpdate */
	time_t			 status_next;	/* and its nextUpdate */
	bool			 has_vip4, has_vip6;
	uint8_t			 vip4[4], vip6[16];
	gnutls_privkey_t	 own_key;
	struct peercheck	*pc;
	struct frag_table	*frag;
	struct ntm_rng		*rng;
	intunnel_send_fn	 send;
	intunnel_close_fn	 close;
	void			*arg;
	struct dataplane_tunnel	*dt;

	uint32_t		 epoch;		/* sending with */
	bool			 closed;
	/* Rekey as requester. */
	struct kex		*kx;
	struct intunnel_req	 rk;
	uint64_t		 rekey_retry;	/* UINT64_MAX: none */
	/* Rekey as answerer: the answer, for a repeated request. */
	bool			 ans_valid;
	uint32_t		 ans_txid, ans_epoch;
	uint8_t			 ans[PROTO_DATAGRAM_MAX];
	size_t			 ans_len;
	/* Our certificate update. */
	struct intunnel_req	 up;
	uint8_t			 up_hash[PROTO_HASH_LEN];
	struct intunnel_stats	 stats;
};

static const struct intunnel_req intunnel_req_none;

/* ---- helpers --------------------------------------------------------- */

static void
intunnel_req_clear(struct intunnel_req *r)
{
	free(r->buf);
	*r = intunnel_req_none;
}

static void
intunnel_close(struct intunnel *it, enum proto_status st, const char *why)
{
	if (it->closed)
		return;
	it->closed = true;
	log_warnx("tunnel to %s: closing (%s): %s", it->peer,
	    msg_status_name(st), why);
	if (it->close != NULL)
		it->close(it->arg, st, why);
}

static int
intunnel_send(struct intunnel *it, const uint8_t *p, size_t len, bool old)
{
	int rc;

	if ((rc = it->send(it->arg, p, len, old)) < 0)
		log_debug("tunnel to %s: %s not sent: %d", it->peer,
		    len >= 2 ? msg_type_name(p[1]) : "message", rc);
	return rc;
}

/* Every datagram of r, once more; the schedule of PROTOCOL.md 5.5. */
static void
intunnel_req_send(struct intunnel *it, struct intunnel_req *r, uint64_t now)
{
	unsigned i;

	for (i = 0; i < r->n; i++)
		(void)intunnel_send(it, r->buf[i], r->len[i], false);
	r->sends++;
	if (r->sends < PROTO_TIMER_RETRANSMIT_TRIES)
		r->next = now + ((uint64_t)PROTO_TIMER_RETRANSMIT <<
		    (r->sends - 1));
	else
		r->next = now + INTUNNEL_FAIL_WAIT;
}

/*
 * m (header filled, attributes added) into r's datagrams: one message, or
 * fragments of its attribute list (PROTOCOL.md 11) when it is larger.
 */
static int
intunnel_req_build(struct intunnel *it, struct intunnel_req *r,
    const struct msg *m)
{
	struct frag_piece piece[PROTO_FRAGMENTS_MAX];
	struct msg_header h;
	struct msg_frag f;
	struct wbuf w;
	uint8_t *body;
	size_t blen;
	unsigned i, count;
	uint32_t msgid;
	int rc;

	intunnel_req_clear(r);
	if ((r->buf = calloc(PROTO_FRAGMENTS_MAX, sizeof(*r->buf))) == NULL)
		return -ENOMEM;
	if (msg_encode(m, r->buf[0], sizeof(r->buf[0]), &r->len[0]) == 0) {
		r->n = 1;
		goto done;
	}
	if ((body = malloc(PROTO_REASSEMBLY_MAX)) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	wbuf_init(&w, body, PROTO_REASSEMBLY_MAX);
	if ((rc = msg_attrs_encode(m, &w)) < 0 ||
	    (rc = wbuf_error(&w)) < 0)
		goto fail_body;
	blen = wbuf_len(&w);
	if ((rc = frag_split(blen, INTUNNEL_FRAG_PAYLOAD, piece, &count)) < 0 ||
	    (rc = rng_bytes(it->rng, &msgid, sizeof(msgid))) < 0)
		goto fail_body;
	for (i = 0; i < count; i++) {
		h = m->hdr;
		h.flags = PROTO_F_FRAGMENT;
		h.length = (uint16_t)(PROTO_FRAG_HEADER_LEN + piece[i].len);
		wbuf_init(&w, r->buf[i], sizeof(r->buf[i]));
		f.msgid = msgid;
		f.index = (uint8_t)i;
		f.count = (uint8_t)count;
		if ((rc = msg_header_encode(&h, &w)) < 0)
			goto fail_body;
		msg_frag_encode(&f, &w);
		wbuf_put_bytes(&w, body + piece[i].off, piece[i].len);
		if ((rc = wbuf_error(&w)) < 0)
			goto fail_body;
		r->len[i] = wbuf_len(&w);
	}
	r->n = count;
	free(body);
done:
	r->active = true;
	r->txid = m->hdr.txid;
	r->sends = 0;
	return 0;
fail_body:
	free(body);
fail:
	intunnel_req_clear(r);
	return rc;
}

static int
intunnel_pubkey(const uint8_t *der, size_t len, gnutls_pubkey_t *out)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der,
	    (unsigned int)len };
	gnutls_x509_crt_t crt;
	int rc = -EINVAL;

	*out = NULL;
	if (gnutls_x509_crt_init(&crt) < 0)
		return -ENOMEM;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_pubkey_init(out) < 0)
		goto done;
	if (gnutls_pubkey_import_x509(*out, crt, 0) < 0) {
		gnutls_pubkey_deinit(*out);
		*out = NULL;
		goto done;
	}
	rc = 0;
done:
	gnutls_x509_crt_deinit(crt);
	return rc;
}

static int
intunnel_set_peer_cert(struct intunnel *it, const uint8_t *der, size_t len)
{
	uint8_t *p;

	if (len == 0 || (p = malloc(len)) == NULL)
		return len == 0 ? -EINVAL : -ENOMEM;
	memcpy(p, der, len);
	free(it->peer_cert);
	it->peer_cert = p;
	it->peer_cert_len = len;
	crypto_sha256(it->peer_cert_hash, der, len);
	return 0;
}

/*
 * New keys of epoch it->epoch + 1 from a rekey in which we sent the
 * request (`requester`) or the answer; keys->i2r runs from the requester.
 * The data plane keeps the directions of the original handshake.
 */
static int
intunnel_install(struct intunnel *it, const struct handshake_keys *keys,
    bool requester)
{
	bool straight = requester == (it->role == DATAPLANE_ROLE_INITIATOR);

	return dataplane_tunnel_install(it->dt, it->epoch + 1,
	    straight ? keys->i2r : keys->r2i, straight ? keys->r2i : keys->i2r);
}

static void
intunnel_switched(struct intunnel *it, struct handshake_keys *keys,
    uint64_t now)
{
	(void)dataplane_tunnel_switch(it->dt);
	dataplane_timers_key_switched(it->dt, now);
	it->epoch++;
	memcpy(it->k_rekey, keys->rekey, PROTO_KEY_LEN);
	handshake_keys_wipe(keys);
	it->stats.rekeys++;
	log_info("tunnel to %s: rekeyed, key epoch %u", it->peer,
	    (unsigned)it->epoch);
}

static void
intunnel_rekey_abandon(struct intunnel *it)
{
	kex_free(it->kx);
	it->kx = NULL;
	intunnel_req_clear(&it->rk);
}

/* ---- life cycle ------------------------------------------------------ */

int
intunnel_new(struct intunnel **out, const struct intunnel_conf *c,
    struct dataplane_tunnel *dt)
{
	struct intunnel *it;
	time_t tu, nu;

	*out = NULL;
	if (c == NULL || dt == NULL || c->path_id == NULL || c->peer == NULL ||
	    c->allowed == NULL || c->k_rekey == NULL || c->peer_cert == NULL ||
	    c->peer_status == NULL || c->pc == NULL || c->frag == NULL ||
	    c->rng == NULL || c->send == NULL ||
	    strlen(c->peer) > PROTO_FQDN_MAX ||
	    (c->role != DATAPLANE_ROLE_INITIATOR &&
	    c->role != DATAPLANE_ROLE_RESPONDER) ||
	    (c->has_vip4 && c->peer_vip4 == NULL) ||
	    (c->has_vip6 && c->peer_vip6 == NULL))
		return -EINVAL;
	/* The handshake just verified the staple: its dates are known. */
	if (peercheck_status_times(c->pc, c->peer_status, c->peer_status_len,
	    &tu, &nu) < 0 && enroll_status_times(c->peer_status,
	    c->peer_status_len, &tu, &nu) < 0)
		return -EINVAL;
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return -ENOMEM;
	if (intunnel_set_peer_cert(it, c->peer_cert, c->peer_cert_len) < 0) {
		free(it);
		return -ENOMEM;
	}
	crypto_sha256(it->peer_status_hash, c->peer_status,
	    c->peer_status_len);
	it->status_this = tu;
	it->status_next = nu;
	memcpy(it->path, c->path_id, PROTO_ID_LEN);
	snprintf(it->peer, sizeof(it->peer), "%s", c->peer);
	it->role = c->role;
	it->kex = c->kex;
	it->allowed = *c->allowed;
	memcpy(it->k_rekey, c->k_rekey, PROTO_KEY_LEN);
	if ((it->has_vip4 = c->has_vip4))
		memcpy(it->vip4, c->peer_vip4, 4);
	if ((it->has_vip6 = c->has_vip6))
		memcpy(it->vip6, c->peer_vip6, 16);
	it->own_key = c->own_key;
	it->pc = c->pc;
	it->frag = c->frag;
	it->rng = c->rng;
	it->send = c->send;
	it->close = c->close;
	it->arg = c->arg;
	it->dt = dt;
	it->epoch = dataplane_tunnel_epoch(dt);
	it->rekey_retry = UINT64_MAX;
	*out = it;
	return 0;
}

void
intunnel_free(struct intunnel *it)
{
	if (it == NULL)
		return;
	kex_free(it->kx);
	intunnel_req_clear(&it->rk);
	intunnel_req_clear(&it->up);
	free(it->peer_cert);
	crypto_wipe(it, sizeof(*it));
	free(it);
}

/* ---- rekey ----------------------------------------------------------- */

int
intunnel_rekey(struct intunnel *it, uint64_t now)
{
	uint8_t field[KEX_FIELD_MAX], nonce[PROTO_RANDOM_LEN];
	struct kex_input in;
	gnutls_pubkey_t pub = NULL;
	struct msg *m = NULL;
	size_t flen = 0;
	uint32_t txid;
	int rc;

	if (it->closed)
		return -ESHUTDOWN;
	if (it->kx != NULL)
		return -EBUSY;
	it->rekey_retry = UINT64_MAX;
	memset(&in, 0, sizeof(in));
	if (it->kex == PROTO_KEX_RSA) {
		if ((rc = intunnel_pubkey(it->peer_cert, it->peer_cert_len,
		    &pub)) < 0)
			goto fail;
		in.peer_pub = pub;
	}
	if ((rc = kex_new_rekey(&it->kx, &it->allowed, it->kex,
	    PROTO_ROLE_INITIATOR, it->rng)) < 0 ||
	    (rc = rng_bytes(it->rng, nonce, sizeof(nonce))) < 0 ||
	    (rc = rng_bytes(it->rng, &txid, sizeof(txid))) < 0 ||
	    (rc = kex_offer(it->kx, &in, field, sizeof(field), &flen)) < 0)
		goto fail;
	if ((m = malloc(sizeof(*m))) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	msg_init(m, PROTO_MSG_REKEY_REQUEST);
	m->hdr.txid = txid;
	memcpy(m->hdr.id, it->path, PROTO_ID_LEN);
	if ((rc = msg_add_u32(m, PROTO_ATTR_KEY_EPOCH, it->epoch + 1)) < 0 ||
	    (rc = msg_add_bytes(m, PROTO_ATTR_NONCE, nonce,
	    sizeof(nonce))) < 0 ||
	    (flen > 0 && (rc = msg_add_bytes(m, kex_field_attr(it->kx), field,
	    flen)) < 0) ||
	    (rc = intunnel_req_build(it, &it->rk, m)) < 0)
		goto fail;
	if (it->rk.n != 1) {
		rc = -EMSGSIZE;
		goto fail;
	}
	it->stats.rekeys_started++;
	intunnel_req_send(it, &it->rk, now);
	rc = 0;
	goto done;
fail:
	log_warnx("tunnel to %s: rekey not started: %d", it->peer, rc);
	intunnel_rekey_abandon(it);
	it->rekey_retry = now + PROTO_TIMER_OLD_KEY;
done:
	free(m);
	gnutls_pubkey_deinit(pub);
	crypto_wipe(field, sizeof(field));
	return rc;
}

static const char *
intunnel_strerror(int rc)
{
	if (rc >= KEX_E_FIRST && rc <= KEX_E_LAST)
		return kex_strerror(rc);
	if (rc >= HANDSHAKE_E_FIRST && rc <= HANDSHAKE_E_LAST)
		return handshake_strerror(rc);
	if (rc <= MSG_E_SHORT_HEADER)
		return msg_strerror(rc);
	return strerror(-rc);
}

static int
intunnel_rekey_drop(struct intunnel *it, const char *why, int rc)
{
	it->stats.rekey_dropped++;
	log_info("tunnel to %s: rekey message dropped: %s", it->peer, why);
	return rc;
}

static int
intunnel_rekey_request(struct intunnel *it, const struct msg *req,
    uint64_t now)
{
	uint8_t answer[KEX_FIELD_MAX], nonce[PROTO_RANDOM_LEN];
	struct handshake_verified *v = NULL;
	const struct msg_attr *field;
	struct handshake_keys keys;
	struct kex *kr = NULL;
	struct kex_input in;
	struct msg *resp = NULL;
	uint8_t th[PROTO_HASH_LEN];
	size_t alen = 0;
	uint32_t epoch;
	int rc;

	if (msg_attr_u32(req, PROTO_ATTR_KEY_EPOCH, &epoch) < 0)
		return intunnel_rekey_drop(it, "no key epoch", -EPROTO);
	/* Our answer was lost: the same bytes, under the key it expects. */
	if (it->ans_valid && epoch == it->ans_epoch && epoch == it->epoch &&
	    req->hdr.txid == it->ans_txid) {
		(void)intunnel_send(it, it->ans, it->ans_len,
		    dataplane_tunnel_has_old_key(it->dt));
		return 0;
	}
	if (epoch != it->epoch + 1)
		return intunnel_rekey_drop(it, "wrong key epoch", -ESTALE);
	if (it->kx != NULL) {
		/* Both asked at once: the original initiator's request wins. */
		if (it->role == DATAPLANE_ROLE_INITIATOR)
			return intunnel_rekey_drop(it,
			    "crossed our own request", -EALREADY);
		intunnel_rekey_abandon(it);
	}
	memset(&keys, 0, sizeof(keys));
	memset(&in, 0, sizeof(in));
	in.own_priv = it->own_key;
	if ((rc = handshake_verified_tunnel(req, it->kex, &v)) < 0 ||
	    (rc = kex_new_rekey(&kr, &it->allowed, it->kex,
	    PROTO_ROLE_RESPONDER, it->rng)) < 0)
		goto fail;
	field = kex_field_attr(kr) != PROTO_ATTR_INVALID ?
	    msg_attr_find(req, kex_field_attr(kr)) : NULL;
	if ((rc = kex_respond(kr, &in, v, field != NULL ? field->val : NULL,
	    field != NULL ? field->len : 0, answer, sizeof(answer),
	    &alen)) < 0 ||
	    (rc = rng_bytes(it->rng, nonce, sizeof(nonce))) < 0)
		goto fail;
	if ((resp = malloc(sizeof(*resp))) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	msg_init(resp, PROTO_MSG_REKEY_RESPONSE);
	resp->hdr.txid = req->hdr.txid;
	memcpy(resp->hdr.id, it->path, PROTO_ID_LEN);
	if ((rc = msg_add_u32(resp, PROTO_ATTR_KEY_EPOCH, epoch)) < 0 ||
	    (rc = msg_add_bytes(resp, PROTO_ATTR_NONCE, nonce,
	    sizeof(nonce))) < 0 ||
	    (alen > 0 && (rc = msg_add_bytes(resp, kex_ops(kr)->answer_attr,
	    answer, alen)) < 0) ||
	    (rc = msg_encode(resp, it->ans, sizeof(it->ans),
	    &it->ans_len)) < 0 ||
	    (rc = handshake_rekey_hash(req, resp, th)) < 0 ||
	    (rc = kex_derive(kr, it->k_rekey, th, &keys)) < 0 ||
	    (rc = intunnel_install(it, &keys, false)) < 0)
		goto fail;
	/* The answer goes under the current key, then we switch. */
	it->ans_valid = true;
	it->ans_txid = req->hdr.txid;
	it->ans_epoch = epoch;
	(void)intunnel_send(it, it->ans, it->ans_len, false);
	intunnel_switched(it, &keys, now);
	rc = 0;
	goto done;
fail:
	handshake_keys_wipe(&keys);
	rc = intunnel_rekey_drop(it, intunnel_strerror(rc), rc);
done:
	free(resp);
	kex_free(kr);
	handshake_verified_free(v);
	crypto_wipe(answer, sizeof(answer));
	crypto_wipe(nonce, sizeof(nonce));
	return rc;
}

static int
intunnel_rekey_response(struct intunnel *it, const struct msg *resp,
    uint64_t now)
{
	struct handshake_verified *v = NULL;
	const struct msg_attr *ans = NULL;
	struct handshake_keys keys;
	struct msg *req = NULL;
	uint8_t th[PROTO_HASH_LEN];
	uint16_t attr;
	uint32_t epoch;
	int rc;

	if (msg_attr_u32(resp, PROTO_ATTR_KEY_EPOCH, &epoch) < 0)
		return intunnel_rekey_drop(it, "no key epoch", -EPROTO);
	if (it->kx == NULL || resp->hdr.txid != it->rk.txid) {
		/* A repeated answer to a rekey already done is harmless. */
		if (epoch == it->epoch)
			return 0;
		return intunnel_rekey_drop(it, "answers no request", -ENOENT);
	}
	if (epoch != it->epoch + 1)
		return intunnel_rekey_drop(it, "wrong key epoch", -ESTALE);
	memset(&keys, 0, sizeof(keys));
	if ((req = malloc(sizeof(*req))) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	attr = kex_ops(it->kx)->answer_attr;
	if (attr != PROTO_ATTR_INVALID)
		ans = msg_attr_find(resp, attr);
	if ((rc = msg_decode(it->rk.buf[0], it->rk.len[0], req)) < 0 ||
	    (rc = handshake_verified_tunnel(resp, it->kex, &v)) < 0 ||
	    (rc = kex_finish(it->kx, v, ans != NULL ? ans->val : NULL,
	    ans != NULL ? ans->len : 0)) < 0 ||
	    (rc = handshake_rekey_hash(req, resp, th)) < 0 ||
	    (rc = kex_derive(it->kx, it->k_rekey, th, &keys)) < 0 ||
	    (rc = intunnel_install(it, &keys, true)) < 0)
		goto fail;
	intunnel_rekey_abandon(it);
	it->ans_valid = false;
	intunnel_switched(it, &keys, now);
	rc = 0;
	goto done;
fail:
	handshake_keys_wipe(&keys);
	/* The state is spent: ask again later with a new request. */
	intunnel_rekey_abandon(it);
	it->rekey_retry = now + PROTO_TIMER_OLD_KEY;
	rc = intunnel_rekey_drop(it, intunnel_strerror(rc), rc);
done:
	free(req);
	handshake_verified_free(v);
	return rc;
}

/* ---- certificate and status updates ---------------------------------- */

int
intunnel_cert_update(struct intunnel *it, const uint8_t *cert,
    size_t cert_len, const uint8_t *status, size_t status_len, uint64_t now)
{
	struct msg *m;
	uint32_t txid;
	int rc;

	if (it->closed)
		return -ESHUTDOWN;
	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	msg_init(m, PROTO_MSG_CERT_UPDATE);
	memcpy(m->hdr.id, it->path, PROTO_ID_LEN);
	if ((rc = rng_bytes(it->rng, &txid, sizeof(txid))) < 0 ||
	    (rc = msg_add_bytes(m, PROTO_ATTR_CERT, cert, cert_len)) < 0 ||
	    (rc = msg_add_bytes(m, PROTO_ATTR_STATUS, status,
	    status_len)) < 0)
		goto done;
	m->hdr.txid = txid;
	if ((rc = intunnel_req_build(it, &it->up, m)) < 0)
		goto done;
	crypto_sha256(it->up_hash, cert, cert_len);
	it->stats.cert_updates_sent++;
	intunnel_req_send(it, &it->up, now);
done:
	free(m);
	return rc;
}

static int
intunnel_update_ack(struct intunnel *it, const struct msg *m)
{
	const struct msg_attr *h = msg_attr_find(m, PROTO_ATTR_CERT_HASH);

	if (!it->up.active || m->hdr.txid != it->up.txid || h == NULL ||
	    h->len != PROTO_HASH_LEN ||
	    memcmp(h->val, it->up_hash, PROTO_HASH_LEN) != 0) {
		it->stats.dropped++;
		return -ENOENT;
	}
	intunnel_req_clear(&it->up);
	it->stats.cert_updates_acked++;
	return 0;
}

static void
intunnel_update_answer(struct intunnel *it, const struct msg *m)
{
	uint8_t buf[PROTO_HEADER_LEN + 64];
	struct msg ack;
	size_t len;

	msg_init(&ack, PROTO_MSG_CERT_UPDATE_ACK);
	ack.hdr.txid = m->hdr.txid;
	memcpy(ack.hdr.id, it->path, PROTO_ID_LEN);
	if (msg_add_bytes(&ack, PROTO_ATTR_CERT_HASH, it->peer_cert_hash,
	    PROTO_HASH_LEN) == 0 &&
	    msg_encode(&ack, buf, sizeof(buf), &len) == 0)
		(void)intunnel_send(it, buf, len, false);
}

static int
intunnel_update(struct intunnel *it, const struct msg *m, time_t wall)
{
	const struct msg_attr *cert, *status;
	struct peercheck_expect exp;
	uint8_t ch[PROTO_HASH_LEN], sh[PROTO_HASH_LEN];
	enum proto_status st;
	time_t tu, nu;
	char why[128];
	int rc;

	cert = msg_attr_find(m, PROTO_ATTR_CERT);
	status = msg_attr_find(m, PROTO_ATTR_STATUS);
	if (cert == NULL || status == NULL) {
		it->stats.dropped++;
		return -EPROTO;
	}
	crypto_sha256(ch, cert->val, cert->len);
	crypto_sha256(sh, status->val, status->len);
	/* A retransmission of the update we took: our ACK was lost. */
	if (memcmp(ch, it->peer_cert_hash, sizeof(ch)) == 0 &&
	    memcmp(sh, it->peer_status_hash, sizeof(sh)) == 0) {
		intunnel_update_answer(it, m);
		return 0;
	}
	memset(&exp, 0, sizeof(exp));
	exp.fqdn = it->peer;
	exp.vip4 = it->has_vip4 ? it->vip4 : NULL;
	exp.vip6 = it->has_vip6 ? it->vip6 : NULL;
	rc = peercheck_verify(it->pc, cert->val, cert->len, status->val,
	    status->len, &exp, wall, NULL);
	if (rc == 0 && enroll_status_times(status->val, status->len, &tu,
	    &nu) < 0)
		rc = PEERCHECK_E_STATUS;
	/* peercheck lets an older good staple set a tunnel up; not here. */
	if (rc == 0 && tu < it->status_this)
		rc = PEERCHECK_E_STALE;
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		it->stats.cert_updates_refused++;
		if (rc == PEERCHECK_E_STALE) {
			log_info("tunnel to %s: certificate update dropped: "
			    "%s", it->peer, peercheck_strerror(rc));
			return rc;
		}
		switch (rc) {
		case PEERCHECK_E_REVOKED:
			st = PROTO_STATUS_REVOKED;
			break;
		case PEERCHECK_E_EXPIRED:
		case PEERCHECK_E_NOT_YET_VALID:
		case PEERCHECK_E_STATUS_EXPIRED:
			st = PROTO_STATUS_EXPIRED;
			break;
		default:
			st = PROTO_STATUS_CERT_INVALID;
			break;
		}
		snprintf(why, sizeof(why), "certificate update refused: %s",
		    peercheck_strerror(rc));
		intunnel_close(it, st, why);
		return rc;
	}
	if (memcmp(ch, it->peer_cert_hash, sizeof(ch)) != 0) {
		if ((rc = intunnel_set_peer_cert(it, cert->val,
		    cert->len)) < 0)
			return rc;
		log_info("tunnel to %s: the peer's certificate was renewed",
		    it->peer);
	}
	memcpy(it->peer_status_hash, sh, sizeof(sh));
	it->status_this = tu;
	it->status_next = nu;
	it->stats.cert_updates_accepted++;
	intunnel_update_answer(it, m);
	return 0;
}

/* ---- input and timers ------------------------------------------------ */

int
intunnel_input(struct intunnel *it, const uint8_t *p, size_t len,
    uint64_t now, time_t wall)
{
	struct frag_peer fp;
	struct msg_header h;
	struct msg *m;
	struct rbuf r;
	uint8_t *whole = NULL;
	uint32_t rid;
	size_t wlen;
	int rc;

	if (it->closed)
		return -ESHUTDOWN;
	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	rbuf_init(&r, p, len);
	if ((rc = msg_header_decode(&r, &h)) < 0 ||
	    (rc = msg_decode(p, len, m)) < 0)
		goto drop;
	if (memcmp(h.id, it->path, PROTO_ID_LEN) != 0) {
		rc = -EPROTO;
		goto drop;
	}
	if (h.flags & PROTO_F_FRAGMENT) {
		/* One reassembly key per tunnel: its receiver id. */
		memset(&fp, 0, sizeof(fp));
		rid = dataplane_tunnel_rid(it->dt);
		memcpy(fp.addr, &rid, sizeof(rid));
		if ((whole = malloc(PROTO_REASSEMBLY_MAX)) == NULL) {
			rc = -ENOMEM;
			goto done;
		}
		rc = frag_input(it->frag, &fp, m->frag.msgid, m->frag.index,
		    m->frag.count, m->frag.payload, m->frag.len, now, whole,
		    PROTO_REASSEMBLY_MAX, &wlen);
		if (rc == 0)
			goto done;
		if (rc < 0)
			goto drop;
		h.flags &= (uint8_t)~PROTO_F_FRAGMENT;
		if ((rc = msg_body_decode(&h, whole, wlen, m)) < 0)
			goto drop;
	}
	switch (m->hdr.type) {
	case PROTO_MSG_REKEY_REQUEST:
		rc = intunnel_rekey_request(it, m, now);
		break;
	case PROTO_MSG_REKEY_RESPONSE:
		rc = intunnel_rekey_response(it, m, now);
		break;
	case PROTO_MSG_CERT_UPDATE:
		rc = intunnel_update(it, m, wall);
		break;
	case PROTO_MSG_CERT_UPDATE_ACK:
		rc = intunnel_update_ack(it, m);
		break;
	default:
		rc = -ENOTSUP;
		break;
	}
	goto done;
drop:
	it->stats.dropped++;
	log_debug("tunnel to %s: in-tunnel message dropped: %d", it->peer, rc);
done:
	free(whole);
	free(m);
	return rc;
}

/* Retransmits r when due; true when it has run out of sends. */
static bool
intunnel_req_due(struct intunnel *it, struct intunnel_req *r, uint64_t now)
{
	if (!r->active || now < r->next)
		return false;
	if (r->sends >= PROTO_TIMER_RETRANSMIT_TRIES)
		return true;
	intunnel_req_send(it, r, now);
	return false;
}

void
intunnel_tick(struct intunnel *it, unsigned due, uint64_t now, time_t wall)
{
	if (it->closed)
		return;
	if (due & DATAPLANE_TIMER_RETIRE) {
		dataplane_tunnel_retire(it->dt);
		it->ans_valid = false;
	}
	if (it->kx != NULL) {
		unsigned before = it->rk.sends;

		if (intunnel_req_due(it, &it->rk, now)) {
			log_warnx("tunnel to %s: no answer to the rekey "
			    "request, asking again in %d s", it->peer,
			    PROTO_TIMER_OLD_KEY / 1000);
			it->stats.rekey_failed++;
			intunnel_rekey_abandon(it);
			it->rekey_retry = now + PROTO_TIMER_OLD_KEY;
		} else if (it->rk.sends > before)
			it->stats.rekey_retransmits++;
	}
	/*
	 * An rsa rekey encapsulates to the peer's certificate key: the
	 * original responder's request would go to the initiator's key,
	 * usually ECDSA (doc/KEX.md), so only the initiator asks.
	 */
	if (((due & DATAPLANE_TIMER_REKEY) || now >= it->rekey_retry) &&
	    !(it->kex == PROTO_KEX_RSA && it->role != DATAPLANE_ROLE_INITIATOR))
		(void)intunnel_rekey(it, now);
	if (intunnel_req_due(it, &it->up, now)) {
		log_warnx("tunnel to %s: certificate update not acknowledged",
		    it->peer);
		intunnel_req_clear(&it->up);
	}
	if (wall >= it->status_next)
		intunnel_close(it, PROTO_STATUS_EXPIRED,
		    "the peer's stapled status expired without an update");
}

uint64_t
intunnel_next(const struct intunnel *it)
{
	uint64_t next = it->rekey_retry;

	if (it->closed)
		return UINT64_MAX;
	if (it->rk.active && it->rk.next < next)
		next = it->rk.next;
	if (it->up.active && it->up.next < next)
		next = it->up.next;
	return next;
}

/* ---- accessors ------------------------------------------------------- */

void
intunnel_set_own_key(struct intunnel *it, gnutls_privkey_t key)
{
	it->own_key = key;
}

uint32_t
intunnel_epoch(const struct intunnel *it)
{
	return it->epoch;
}

bool
intunnel_rekey_pending(const struct intunnel *it)
{
	return it->kx != NULL;
}

bool
intunnel_update_pending(const struct intunnel *it)
{
	return it->up.active;
}

void
intunnel_peer_cert(const struct intunnel *it, const uint8_t **der,
    size_t *len)
{
	*der = it->peer_cert;
	*len = it->peer_cert_len;
}

time_t
intunnel_peer_status_expiry(const struct intunnel *it)
{
	return it->status_next;
}

const struct intunnel_stats *
intunnel_stats(const struct intunnel *it)
{
	return &it->stats;
}
