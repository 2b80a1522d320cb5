/* relay.c -- the DC's client of ntm-rs: one persistent mutual-TLS link per RS, RELAY_DIRECTION out, RELAY_DIRECTION_ACK back by transaction id. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "rand.h"
#include "relay.h"
#include "signal.h"
#include "tls.h"

struct relay_link {
	struct relay		*r;
	size_t			 index;
	bool			 up;
	struct tls_client	*cl;
	struct tls_expect	 expect;
	char			 name[LOOP_ADDRSTRLEN];
};

struct relay_ask {
	bool			 used;
	bool			 sent;
	bool			 lost;		/* its link dropped once */
	size_t			 link;
	uint32_t		 txid;
	uint64_t		 deadline;	/* ms, uv_now */
	size_t			 len;
	uint8_t			 req[RELAY_MSG_MAX];
	relay_answer_fn		 cb;
	void			*arg;
};

struct relay {
	uv_loop_t		*loop;
	struct tls_creds	*creds;		/* borrowed */
	struct ntm_rng		*rng;		/* borrowed */
	uv_timer_t		 timer;
	bool			 timer_open;
	bool			 timer_closed;
	bool			 release;	/* free in the close callback */
	bool			 closing;
	uint32_t		 next_txid;
	struct relay_link	 link[RELAY_SERVERS_MAX];
	size_t			 nlink;
	struct relay_ask	*ask;		/* RELAY_ASKS_MAX */
	size_t			 nask;
	struct relay_stats	 stats;
};

int
relay_encode(const struct signal_relay *rl, uint32_t txid, uint8_t *out,
    size_t cap, size_t *len)
{
	struct msg m;
	int rc = 0;

	msg_init(&m, PROTO_MSG_RELAY_DIRECTION);
	m.hdr.txid = txid;
	memcpy(m.hdr.id, rl->path_id, PROTO_ID_LEN);
	rc |= msg_add_bytes(&m, PROTO_ATTR_PATH_ID, rl->path_id, PROTO_ID_LEN);
	rc |= msg_add_u32(&m, PROTO_ATTR_RECV_ID, rl->recv_id);
	rc |= msg_add_u32(&m, PROTO_ATTR_PEER_RECV_ID, rl->peer_recv_id);
	rc |= msg_add_bytes(&m, PROTO_ATTR_BINDING_KEY, rl->binding_key,
	    PROTO_KEY_LEN);
	rc |= msg_add_bytes(&m, PROTO_ATTR_PEER_BINDING_KEY,
	    rl->peer_binding_key, PROTO_KEY_LEN);
	if (rl->observed.family != 0)
		rc |= msg_add_addr(&m, PROTO_ATTR_OBSERVED_ADDR,
		    &rl->observed);
	if (rl->peer_addr.family != 0)
		rc |= msg_add_addr(&m, PROTO_ATTR_PEER_ADDR, &rl->peer_addr);
	rc |= msg_add_u64(&m, PROTO_ATTR_EXPIRY, rl->expiry);
	if (rc != 0)
		rc = -E2BIG;
	else
		rc = msg_encode(&m, out, cap, len);
	explicit_bzero(&m, sizeof(m));
	return rc;
}

/* Ends ask a with status (no answer message). */
static void
relay_ask_fail(struct relay *r, struct relay_ask *a, int status)
{
	relay_answer_fn cb = a->cb;
	void *arg = a->arg;

	explicit_bzero(a, sizeof(*a));
	r->nask--;
	cb(arg, status, NULL);
}

static void
relay_send(struct relay *r, struct relay_ask *a)
{
	struct relay_link *l = &r->link[a->link];
	struct tls_conn *c;

	if (!l->up || (c = tls_client_conn(l->cl)) == NULL)
		return;
	if (tls_send(c, a->req, a->len) == 0) {
		a->sent = true;
		r->stats.sends++;
	}
}

/* The link a new request goes to: the first one up, else the first. */
static size_t
relay_pick(const struct relay *r)
{
	size_t i;

	for (i = 0; i < r->nlink; i++)
		if (r->link[i].up)
			return i;
	return 0;
}

static int
relay_verify(void *ctx, const gnutls_x509_crt_t *chain, size_t n, time_t now)
{
	struct relay_link *l = ctx;
	int rc;

	if ((rc = tls_verify_cert(&l->expect, chain, n, now)) < 0)
		log_warnx("relay: %s: refused: its certificate is not an RS's "
		    "of this deployment (%s)", l->name, tls_strerror(rc));
	return rc;
}

static void
relay_connected(struct tls_conn *c, const struct tls_peer *tp, void *arg)
{
	struct relay_link *l = arg;
	struct relay *r = l->r;
	size_t i;

	(void)c;
	l->up = true;
	r->stats.links_up++;
	log_info("relay: connected to %s (%s)", tp->fqdn, tp->addr);
	for (i = 0; i < RELAY_ASKS_MAX; i++) {
		struct relay_ask *a = &r->ask[i];

		/* Ours, or waiting for a link that is still down. */
		if (a->used && !a->sent && (a->link == l->index ||
		    !r->link[a->link].up)) {
			a->link = l->index;
			if (a->lost)
				r->stats.resends++;
			relay_send(r, a);
		}
	}
}

static void
relay_frame(struct tls_conn *c, const uint8_t *p, size_t len, void *arg)
{
	struct relay_link *l = arg;
	struct relay *r = l->r;
	struct relay_ask *a;
	struct msg *m;
	relay_answer_fn cb;
	void *cbarg;
	size_t i;
	int rc;

	(void)c;
	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	if ((rc = msg_decode(p, len, m)) < 0 ||
	    m->hdr.type != PROTO_MSG_RELAY_DIRECTION_ACK) {
		r->stats.stray++;
		log_debug("relay: %s: frame dropped: %s", l->name, rc < 0 ?
		    msg_strerror(rc) : msg_type_name(m->hdr.type));
		goto done;
	}
	for (i = 0; i < RELAY_ASKS_MAX; i++) {
		a = &r->ask[i];
		if (!a->used || a->txid != m->hdr.txid || a->link != l->index)
			continue;
		if (m->hdr.status == PROTO_STATUS_OK)
			r->stats.acks++;
		else
			r->stats.errors++;
		cb = a->cb;
		cbarg = a->arg;
		explicit_bzero(a, sizeof(*a));
		r->nask--;
		cb(cbarg, 0, m);
		goto done;
	}
	r->stats.stray++;
done:
	free(m);
}

static void
relay_closed(struct tls_conn *c, int reason, void *arg)
{
	struct relay_link *l = arg;
	struct relay *r = l->r;
	size_t i, to;

	(void)c;
	if (!l->up)
		return;
	l->up = false;
	r->stats.links_down++;
	if (r->closing)
		return;
	log_warnx("relay: link to %s lost: %s", l->name,
	    reason == 0 ? "closed" : tls_strerror(reason));
	/* Unanswered requests go to another RS that is up, or wait. */
	to = relay_pick(r);
	for (i = 0; i < RELAY_ASKS_MAX; i++) {
		struct relay_ask *a = &r->ask[i];

		if (!a->used || a->link != l->index)
			continue;
		a->sent = false;
		a->lost = true;
		if (r->link[to].up) {
			a->link = to;
			r->stats.resends++;
			relay_send(r, a);
		}
	}
}

static void
relay_tick(uv_timer_t *t)
{
	struct relay *r = t->data;
	uint64_t now = uv_now(r->loop);
	size_t i;

	for (i = 0; i < RELAY_ASKS_MAX && r->nask > 0; i++)
		if (r->ask[i].used && r->ask[i].deadline <= now) {
			r->stats.timeouts++;
			relay_ask_fail(r, &r->ask[i], -ETIMEDOUT);
		}
	if (r->nask == 0)
		uv_timer_stop(&r->timer);
}

int
relay_direction(struct relay *r, const struct signal_relay *rl,
    relay_answer_fn cb, void *arg)
{
	struct relay_ask *a = NULL;
	size_t i;
	int rc;

	if (r->closing)
		return -EINVAL;
	for (i = 0; i < RELAY_ASKS_MAX && a == NULL; i++)
		if (!r->ask[i].used)
			a = &r->ask[i];
	if (a == NULL) {
		r->stats.busy++;
		return -EBUSY;
	}
	if (++r->next_txid == 0)
		r->next_txid = 1;
	if ((rc = relay_encode(rl, r->next_txid, a->req, sizeof(a->req),
	    &a->len)) < 0) {
		explicit_bzero(a, sizeof(*a));
		return rc < -999 ? -EINVAL : rc;
	}
	a->used = true;
	a->sent = false;
	a->txid = r->next_txid;
	a->link = relay_pick(r);
	a->deadline = uv_now(r->loop) + RELAY_TIMEOUT_MS;
	a->cb = cb;
	a->arg = arg;
	r->nask++;
	r->stats.asks++;
	if (!uv_is_active((uv_handle_t *)&r->timer))
		uv_timer_start(&r->timer, relay_tick, RELAY_TICK_MS,
		    RELAY_TICK_MS);
	relay_send(r, a);
	return 0;
}

int
relay_new(struct relay **out, uv_loop_t *loop, struct tls_creds *creds,
    const struct sockaddr_storage *servers, size_t n, struct ntm_rng *rng)
{
	struct tls_config cfg;
	struct relay *r;
	size_t i;
	int rc;

	*out = NULL;
	if (n == 0 || n > RELAY_SERVERS_MAX || creds == NULL)
		return -EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->ask = calloc(RELAY_ASKS_MAX, sizeof(*r->ask))) == NULL) {
		free(r);
		return -ENOMEM;
	}
	r->loop = loop;
	r->creds = creds;
	r->rng = rng;
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	r->timer_open = true;
	for (i = 0; i < n; i++) {
		struct relay_link *l = &r->link[i];

		l->r = r;
		l->index = i;
		l->expect.trust = tls_creds_trust(creds);
		l->expect.intermediate = tls_creds_issuer(creds);
		l->expect.role = CERT_ROLE_RS;
		(void)loop_addr_format((const struct sockaddr *)&servers[i],
		    l->name, sizeof(l->name));
		memset(&cfg, 0, sizeof(cfg));
		cfg.creds = creds;
		cfg.verify = relay_verify;
		cfg.verify_ctx = l;
		cfg.framing = TLS_FRAMING_MSG;
		cfg.rng = rng;
		cfg.name = "relay";
		cfg.on_connected = relay_connected;
		cfg.on_frame = relay_frame;
		cfg.on_closed = relay_closed;
		cfg.arg = l;
		if ((rc = tls_client_new(loop, &cfg,
		    (const struct sockaddr *)&servers[i], &l->cl)) < 0) {
			log_warnx("relay: %s: %s", l->name, tls_strerror(rc));
			r->nlink = i;
			relay_free(r);		/* freed as the loop runs */
			return rc;
		}
		r->nlink = i + 1;
	}
	*out = r;
	return 0;
}

size_t
relay_links_up(const struct relay *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nlink; i++)
		if (r->link[i].up)
			n++;
	return n;
}

const struct relay_stats *
relay_stats(const struct relay *r)
{
	return &r->stats;
}

void
relay_stats_foreach(const struct relay *r,
    void (*fn)(const char *, uint64_t, void *), void *arg)
{
	const struct relay_stats *st = &r->stats;

	fn("rs_links", r->nlink, arg);
	fn("rs_links_connected", relay_links_up(r), arg);
	fn("rs_pending", r->nask, arg);
	fn("rs_asks", st->asks, arg);
	fn("rs_sends", st->sends, arg);
	fn("rs_resends", st->resends, arg);
	fn("rs_acks", st->acks, arg);
	fn("rs_errors", st->errors, arg);
	fn("rs_timeouts", st->timeouts, arg);
	fn("rs_busy", st->busy, arg);
	fn("rs_stray", st->stray, arg);
	fn("rs_links_up", st->links_up, arg);
	fn("rs_links_down", st->links_down, arg);
}

static void
relay_timer_closed(uv_handle_t *h)
{
	struct relay *r = h->data;

	r->timer_closed = true;
	if (r->release) {
		free(r->ask);
		free(r);
	}
}

void
relay_close(struct relay *r)
{
	size_t i;

	if (r == NULL || r->closing)
		return;
	r->closing = true;
	for (i = 0; r->ask != NULL && i < RELAY_ASKS_MAX; i++)
		if (r->ask[i].used)
			relay_ask_fail(r, &r->ask[i], -ECANCELED);
	for (i = 0; i < r->nlink; i++)
		if (r->link[i].cl != NULL) {
			tls_client_free(r->link[i].cl);
			r->link[i].cl = NULL;
		}
	if (r->timer_open) {
		uv_close((uv_handle_t *)&r->timer, relay_timer_closed);
		r->timer_open = false;
	}
}

void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	relay_close(r);
	if (!r->timer_closed) {
		r->release = true;	/* the loop has not run the close */
		return;
	}
	free(r->ask);
	free(r);
}
