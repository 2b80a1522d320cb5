/* federation.c -- DC <-> DC: NS lookups of a peer's zone through the resolver on libuv, cached by TTL; peer authorization by certificate. */
#include "config.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "buf.h"
#include "cert.h"
#include "federation.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "rand.h"
#include "registry.h"
#include "signal.h"
#include "tls.h"

enum {
	FEDERATION_QUERIES_MAX = 64,	/* zones looked up at once */
};

enum federation_phase {
	FEDERATION_PHASE_INVALID = 0,
	FEDERATION_PHASE_NS,
	FEDERATION_PHASE_A,
	FEDERATION_PHASE_AAAA,
};

int
federation_zone_of(const char *fqdn, char *zone, size_t cap)
{
	const char *dot = strchr(fqdn, '.');
	size_t n, i;

	if (dot == NULL || dot == fqdn || dot[1] == '\0')
		return -EINVAL;
	n = strlen(dot + 1);
	if (dot[n] == '.')
		n--;
	if (n == 0 || n >= cap)
		return -EINVAL;
	for (i = 0; i < n; i++)
		zone[i] = (char)tolower((unsigned char)dot[1 + i]);
	zone[n] = '\0';
	return 0;
}

bool
federation_peer_authorized(gnutls_x509_crt_t peer, const char *zone)
{
	return peer != NULL && cert_role_of(peer) == CERT_ROLE_DC &&
	    cert_has_dns(peer, zone);
}

int
federation_query_build(const char *name, uint16_t type, uint16_t id,
    uint8_t *out, size_t cap, size_t *len)
{
	ldns_pkt *q = NULL;
	uint8_t *wire = NULL;
	size_t n = 0;
	int rc = -EINVAL;

	if (ldns_pkt_query_new_frm_str(&q, name, (ldns_rr_type)type,
	    LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
		return -EINVAL;
	ldns_pkt_set_id(q, id);
	if (ldns_pkt2wire(&wire, q, &n) != LDNS_STATUS_OK)
		goto out;
	if (n > cap) {
		rc = -ENOSPC;
		goto out;
	}
	memcpy(out, wire, n);
	*len = n;
	rc = 0;
out:
	free(wire);
	ldns_pkt_free(q);
	return rc;
}

/* An owner or target name as text: lower case, no trailing dot. */
static void
federation_name(const ldns_rdf *rdf, char *out, size_t cap)
{
	char *s = ldns_rdf2str(rdf);
	size_t n, i;

	out[0] = '\0';
	if (s == NULL)
		return;
	n = strlen(s);
	if (n > 1 && s[n - 1] == '.')
		n--;
	if (n >= cap)
		n = cap - 1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
	free(s);
}

static void
federation_ttl(uint32_t *ttl, const ldns_rr *rr)
{
	if (ldns_rr_ttl(rr) < *ttl)
		*ttl = ldns_rr_ttl(rr);
}

/* Addresses of `owner` (NULL: any owner) among the rrs into dc. */
static void
federation_addrs(struct federation_dc *dc, const ldns_rr_list *l,
    const char *owner, uint32_t *ttl)
{
	char name[FEDERATION_NAME_MAX];
	struct sockaddr_storage *ss;
	size_t i, sz;

	for (i = 0; l != NULL && i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);

		if (dc->naddr >= FEDERATION_ADDRS_MAX)
			return;
		federation_name(ldns_rr_owner(rr), name, sizeof(name));
		if (owner != NULL && strcmp(name, owner) != 0)
			continue;
		if (ldns_rr_rd_count(rr) != 1 || (ss =
		    ldns_rdf2native_sockaddr_storage(ldns_rr_rdf(rr, 0),
		    PROTO_PORT_DC_TLS, &sz)) == NULL)
			continue;
		dc->addr[dc->naddr++] = *ss;
		LDNS_FREE(ss);
		federation_ttl(ttl, rr);
	}
}

int
federation_answer_parse(const uint8_t *p, size_t len, uint16_t id,
    uint16_t type, struct federation_dc *dc, uint32_t *ttl)
{
	ldns_pkt *a = NULL;
	ldns_rr_list *ans = NULL, *add4 = NULL, *add6 = NULL;
	const ldns_rr_list *q;
	char name[FEDERATION_NAME_MAX], ns[FEDERATION_NAME_MAX];
	size_t i;
	int rc = -EBADMSG;

	if (ldns_wire2pkt(&a, p, len) != LDNS_STATUS_OK)
		return -EBADMSG;
	q = ldns_pkt_question(a);
	if (ldns_pkt_id(a) != id || !ldns_pkt_qr(a) || q == NULL ||
	    ldns_rr_list_rr_count(q) != 1 ||
	    ldns_rr_get_type(ldns_rr_list_rr(q, 0)) != (ldns_rr_type)type)
		goto out;
	if (ldns_pkt_get_rcode(a) == LDNS_RCODE_NXDOMAIN) {
		rc = -ENOENT;
		goto out;
	}
	if (ldns_pkt_get_rcode(a) != LDNS_RCODE_NOERROR)
		goto out;
	federation_name(ldns_rr_owner(ldns_rr_list_rr(q, 0)), name,
	    sizeof(name));
	ans = ldns_pkt_rr_list_by_type(a, (ldns_rr_type)type,
	    LDNS_SECTION_ANSWER);
	rc = -ENOENT;
	if (ans == NULL || ldns_rr_list_rr_count(ans) == 0)
		goto out;
	if (type != LDNS_RR_TYPE_NS) {
		federation_addrs(dc, ans, name, ttl);
		rc = 0;
		goto out;
	}
	/* NS of the zone asked for; glue for any of the names. */
	add4 = ldns_pkt_rr_list_by_type(a, LDNS_RR_TYPE_A,
	    LDNS_SECTION_ADDITIONAL);
	add6 = ldns_pkt_rr_list_by_type(a, LDNS_RR_TYPE_AAAA,
	    LDNS_SECTION_ADDITIONAL);
	for (i = 0; i < ldns_rr_list_rr_count(ans); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ans, i);
		char owner[FEDERATION_NAME_MAX];

		federation_name(ldns_rr_owner(rr), owner, sizeof(owner));
		if (strcmp(owner, name) != 0 || ldns_rr_rd_count(rr) != 1)
			continue;
		federation_name(ldns_rr_rdf(rr, 0), ns, sizeof(ns));
		if (dc->ns[0] == '\0')
			snprintf(dc->ns, sizeof(dc->ns), "%s", ns);
		federation_ttl(ttl, rr);
		federation_addrs(dc, add4, ns, ttl);
		federation_addrs(dc, add6, ns, ttl);
	}
	if (dc->ns[0] != '\0')
		rc = 0;
out:
	ldns_rr_list_deep_free(ans);
	ldns_rr_list_deep_free(add4);
	ldns_rr_list_deep_free(add6);
	ldns_pkt_free(a);
	return rc;
}

/* ---- DC_CN: node information ------------------------------------------ */

static int
federation_attr_name(const struct msg *m, uint16_t type, char *out,
    size_t cap)
{
	const struct msg_attr *a = msg_attr_find(m, type);
	size_t i;

	if (a == NULL || a->len == 0 || a->len >= cap)
		return -EBADMSG;
	for (i = 0; i < a->len; i++)
		out[i] = (char)tolower(a->val[i]);
	out[a->len] = '\0';
	return 0;
}

int
federation_node_info(const uint8_t *p, size_t len, gnutls_x509_crt_t peer,
    const char *zone, struct registry *reg,
    int (*cert)(void *, const char *, struct signal_cert *),
    bool (*allowed)(void *, const char *, const char *), void *arg,
    uint8_t *out, size_t cap, size_t *outlen)
{
	char mn[PROTO_FQDN_MAX + 1], cn[PROTO_FQDN_MAX + 1];
	char mnz[FEDERATION_NAME_MAX], cnz[FEDERATION_NAME_MAX];
	struct registry_entry *e;
	struct signal_cert sc;
	struct msg *m;
	uint8_t st = PROTO_STATUS_OK;
	uint32_t txid;
	size_t i;
	int rc;

	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	if ((rc = msg_decode(p, len, m)) < 0)
		goto out;
	if (m->hdr.type != PROTO_MSG_NODE_INFO_REQUEST) {
		rc = -EPROTO;
		goto out;
	}
	if (federation_attr_name(m, PROTO_ATTR_FQDN, mn, sizeof(mn)) < 0 ||
	    federation_attr_name(m, PROTO_ATTR_PEER_FQDN, cn, sizeof(cn)) <
	    0) {
		rc = MSG_E_ATTR_MISSING;
		goto out;
	}
	txid = m->hdr.txid;
	msg_init(m, PROTO_MSG_NODE_INFO_RESPONSE);
	m->hdr.txid = txid;
	e = NULL;
	if (federation_zone_of(mn, mnz, sizeof(mnz)) < 0 ||
	    !federation_peer_authorized(peer, mnz))
		st = PROTO_STATUS_REFUSED_POLICY;
	else if (federation_zone_of(cn, cnz, sizeof(cnz)) < 0 ||
	    strcmp(cnz, zone) != 0)
		st = PROTO_STATUS_UNKNOWN_NODE;
	else if (allowed != NULL && !allowed(arg, mn, cn))
		st = PROTO_STATUS_REFUSED_POLICY;
	else if ((e = registry_find_fqdn(reg, cn, strlen(cn))) == NULL)
		st = PROTO_STATUS_NOT_REGISTERED;
	else if (cert == NULL || cert(arg, cn, &sc) < 0)
		st = PROTO_STATUS_UNAVAILABLE;
	m->hdr.status = st;
	rc = 0;
	if (st == PROTO_STATUS_OK) {
		rc |= msg_add_bytes(m, PROTO_ATTR_FQDN, cn, strlen(cn));
		for (i = 0; i < e->nlocal; i++)
			rc |= msg_add_addr(m, PROTO_ATTR_LOCAL_ADDR,
			    &e->local[i]);
		rc |= msg_add_addr(m, PROTO_ATTR_OBSERVED_ADDR, &e->observed);
		rc |= msg_add_u8(m, PROTO_ATTR_NAT, (e->flags &
		    REGISTRY_F_NAT) ? PROTO_NAT_BEHIND : PROTO_NAT_NONE);
		if (e->flags & REGISTRY_F_VIP4)
			rc |= msg_add_bytes(m, PROTO_ATTR_VIP4, e->vip4, 4);
		if (e->flags & REGISTRY_F_VIP6)
			rc |= msg_add_bytes(m, PROTO_ATTR_VIP6, e->vip6, 16);
		rc |= msg_add_bytes(m, PROTO_ATTR_CERT_HASH, sc.hash,
		    PROTO_HASH_LEN);
		rc |= msg_add_bytes(m, PROTO_ATTR_SERIAL, sc.serial,
		    sc.serial_len);
		rc |= msg_add_bytes(m, PROTO_ATTR_STATUS, sc.status,
		    sc.status_len);
		if (rc != 0) {
			rc = -E2BIG;
			goto out;
		}
	}
	rc = msg_encode(m, out, cap, outlen);
out:
	free(m);
	return rc;
}

/* ---- the resolver -------------------------------------------------------- */

struct federation_waiter {
	federation_resolved_fn	 cb;
	void			*arg;
};

struct federation_query {
	bool			 used;
	enum federation_phase	 phase;
	uint16_t		 id;
	unsigned		 sends;
	uint64_t		 next;		/* next retransmission, ms */
	uint8_t			 pkt[512];
	size_t			 len;
	struct federation_dc	 dc;
	uint32_t		 ttl;
	struct federation_waiter waiter[FEDERATION_WAITERS_MAX];
	size_t			 nwaiter;
};

struct federation_cache {
	int			 status;
	uint64_t		 expires;	/* ms, uv_now */
	struct federation_dc	 dc;
};

struct federation_resolver {
	uv_loop_t		*loop;
	struct ntm_rng		*rng;
	struct sockaddr_storage	 server;
	uv_udp_t		 udp;
	uv_timer_t		 timer;
	unsigned		 open_handles;
	bool			 closing;
	uint64_t		 sent;
	struct federation_query	 q[FEDERATION_QUERIES_MAX];
	struct federation_cache	*cache;
	size_t			 ncache;
	uint8_t			 rbuf[FEDERATION_PKT_MAX];
};

uint64_t
federation_resolver_sent(const struct federation_resolver *r)
{
	return r->sent;
}

static void
federation_send(struct federation_resolver *r, struct federation_query *q)
{
	uv_buf_t b = uv_buf_init((char *)q->pkt, (unsigned int)q->len);

	q->sends++;
	q->next = uv_now(r->loop) + FEDERATION_RETRY_MS;
	r->sent++;
	if (uv_udp_try_send(&r->udp, &b, 1,
	    (const struct sockaddr *)&r->server) < 0)
		log_debug("federation: query for %s not sent", q->dc.zone);
}

/* Starts phase p of q: a new id and the query for its name. */
static int
federation_phase_start(struct federation_resolver *r,
    struct federation_query *q, enum federation_phase p)
{
	uint16_t type = p == FEDERATION_PHASE_NS ? LDNS_RR_TYPE_NS :
	    p == FEDERATION_PHASE_A ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
	const char *name = p == FEDERATION_PHASE_NS ? q->dc.zone : q->dc.ns;
	int rc;

	q->phase = p;
	q->sends = 0;
	q->id = (uint16_t)rng_uniform(r->rng, 65536);
	if ((rc = federation_query_build(name, type, q->id, q->pkt,
	    sizeof(q->pkt), &q->len)) < 0)
		return rc;
	federation_send(r, q);
	return 0;
}

static void
federation_cache_put(struct federation_resolver *r, int status,
    const struct federation_dc *dc, uint32_t ttl)
{
	uint64_t now = uv_now(r->loop);
	struct federation_cache *c = NULL;
	size_t i;

	for (i = 0; i < r->ncache; i++)
		if (strcmp(r->cache[i].dc.zone, dc->zone) == 0 ||
		    r->cache[i].expires <= now) {
			c = &r->cache[i];
			break;
		}
	if (c == NULL && r->ncache < FEDERATION_CACHE_MAX)
		c = &r->cache[r->ncache++];
	if (c == NULL)
		c = &r->cache[rng_uniform(r->rng, FEDERATION_CACHE_MAX)];
	if (ttl > FEDERATION_TTL_MAX_S)
		ttl = FEDERATION_TTL_MAX_S;
	c->status = status;
	c->dc = *dc;
	c->expires = now + (uint64_t)(status == 0 ? ttl :
	    FEDERATION_NEG_TTL_S) * 1000;
}

static void
federation_finish(struct federation_resolver *r, struct federation_query *q,
    int status)
{
	struct federation_query done = *q;
	size_t i;

	if (status != -ECANCELED) {
		federation_cache_put(r, status, &q->dc, q->ttl);
		if (status < 0)
			log_info("federation: no DC for %s: %s", q->dc.zone,
			    strerror(-status));
		else
			log_debug("federation: %s is served by %s (%zu "
			    "addresses, TTL %u)", q->dc.zone, q->dc.ns,
			    q->dc.naddr, q->ttl);
	}
	/* Freed before the callbacks, which may start new lookups. */
	memset(q, 0, sizeof(*q));
	for (i = 0; i < done.nwaiter; i++)
		done.waiter[i].cb(done.waiter[i].arg, status,
		    status == 0 ? &done.dc : NULL);
}

static void
federation_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct federation_resolver *r = h->data;

	(void)hint;
	*b = uv_buf_init((char *)r->rbuf, sizeof(r->rbuf));
}

static void
federation_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *b,
    const struct sockaddr *from, unsigned flags)
{
	struct federation_resolver *r = u->data;
	struct federation_query *q = NULL;
	uint16_t id, type;
	size_t i;
	int rc;

	(void)b;
	(void)flags;
	if (n < 12 || from == NULL || r->closing ||
	    !loop_addr_equal(from, (const struct sockaddr *)&r->server))
		return;
	id = (uint16_t)(r->rbuf[0] << 8 | r->rbuf[1]);
	for (i = 0; i < FEDERATION_QUERIES_MAX; i++)
		if (r->q[i].used && r->q[i].id == id) {
			q = &r->q[i];
			break;
		}
	if (q == NULL)
		return;
	type = q->phase == FEDERATION_PHASE_NS ? LDNS_RR_TYPE_NS :
	    q->phase == FEDERATION_PHASE_A ? LDNS_RR_TYPE_A :
	    LDNS_RR_TYPE_AAAA;
	rc = federation_answer_parse(r->rbuf, (size_t)n, id, type, &q->dc,
	    &q->ttl);
	if (rc == -EBADMSG)
		return;			/* not our answer: wait for it */
	switch (q->phase) {
	case FEDERATION_PHASE_NS:
		if (rc < 0 || q->dc.naddr > 0)
			federation_finish(r, q, rc);
		else if (federation_phase_start(r, q, FEDERATION_PHASE_A) < 0)
			federation_finish(r, q, -EINVAL);
		break;
	case FEDERATION_PHASE_A:
		if (federation_phase_start(r, q, FEDERATION_PHASE_AAAA) < 0)
			federation_finish(r, q, q->dc.naddr > 0 ? 0 : -ENOENT);
		break;
	default:
		federation_finish(r, q, q->dc.naddr > 0 ? 0 : -ENOENT);
	}
}

/* Retransmissions and timeouts; re-armed for the earliest due query. */
static void
federation_tick(uv_timer_t *t)
{
	struct federation_resolver *r = t->data;
	uint64_t now = uv_now(r->loop), next = UINT64_MAX;
	size_t i;

	for (i = 0; i < FEDERATION_QUERIES_MAX; i++) {
		struct federation_query *q = &r->q[i];

		if (!q->used || q->next > now)
			continue;
		if (q->sends >= FEDERATION_TRIES)
			federation_finish(r, q, -ETIMEDOUT);
		else
			federation_send(r, q);
	}
	for (i = 0; i < FEDERATION_QUERIES_MAX; i++)
		if (r->q[i].used && r->q[i].next < next)
			next = r->q[i].next;
	if (next != UINT64_MAX && !r->closing)
		uv_timer_start(&r->timer, federation_tick,
		    next > now ? next - now : 0, 0);
}

int
federation_resolve(struct federation_resolver *r, const char *zone,
    federation_resolved_fn cb, void *arg)
{
	struct federation_query *q = NULL;
	uint64_t now = uv_now(r->loop);
	size_t i;
	int rc;

	if (r->closing || strlen(zone) >= FEDERATION_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < r->ncache; i++)
		if (r->cache[i].expires > now &&
		    strcmp(r->cache[i].dc.zone, zone) == 0) {
			cb(arg, r->cache[i].status, r->cache[i].status == 0 ?
			    &r->cache[i].dc : NULL);
			return 1;
		}
	for (i = 0; i < FEDERATION_QUERIES_MAX; i++)
		if (r->q[i].used && strcmp(r->q[i].dc.zone, zone) == 0) {
			q = &r->q[i];
			break;
		}
	if (q == NULL) {
		for (i = 0; i < FEDERATION_QUERIES_MAX && q == NULL; i++)
			if (!r->q[i].used)
				q = &r->q[i];
		if (q == NULL)
			return -EBUSY;
		memset(q, 0, sizeof(*q));
		q->used = true;
		q->ttl = UINT32_MAX;
		snprintf(q->dc.zone, sizeof(q->dc.zone), "%s", zone);
		if ((rc = federation_phase_start(r, q,
		    FEDERATION_PHASE_NS)) < 0) {
			memset(q, 0, sizeof(*q));
			return rc;
		}
		uv_timer_start(&r->timer, federation_tick, FEDERATION_RETRY_MS,
		    0);
	}
	if (q->nwaiter >= FEDERATION_WAITERS_MAX)
		return -EBUSY;
	q->waiter[q->nwaiter].cb = cb;
	q->waiter[q->nwaiter++].arg = arg;
	return 0;
}

static void
federation_closed(uv_handle_t *h)
{
	struct federation_resolver *r = h->data;

	if (--r->open_handles > 0)
		return;
	free(r->cache);
	free(r);
}

int
federation_resolver_new(struct federation_resolver **out, uv_loop_t *loop,
    const struct sockaddr_storage *resolver, struct ntm_rng *rng)
{
	struct federation_resolver *r;
	struct sockaddr_storage any;
	int rc;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->cache = calloc(FEDERATION_CACHE_MAX, sizeof(*r->cache))) ==
	    NULL) {
		free(r);
		return -ENOMEM;
	}
	r->loop = loop;
	r->rng = rng;
	r->server = *resolver;
	memset(&any, 0, sizeof(any));
	any.ss_family = resolver->ss_family;
	uv_udp_init(loop, &r->udp);
	uv_timer_init(loop, &r->timer);
	r->udp.data = r->timer.data = r;
	r->open_handles = 2;
	if ((rc = uv_udp_bind(&r->udp, (struct sockaddr *)&any, 0)) < 0 ||
	    (rc = uv_udp_recv_start(&r->udp, federation_alloc,
	    federation_recv)) < 0) {
		federation_resolver_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void
federation_resolver_free(struct federation_resolver *r)
{
	size_t i;

	if (r == NULL || r->closing)
		return;
	r->closing = true;
	for (i = 0; i < FEDERATION_QUERIES_MAX; i++)
		if (r->q[i].used)
			federation_finish(r, &r->q[i], -ECANCELED);
	uv_close((uv_handle_t *)&r->udp, federation_closed);
	uv_close((uv_handle_t *)&r->timer, federation_closed);
}

/* ---- DC_MN: asking a peer DC ---------------------------------------- */

struct federation_peer {
	bool			 used;
	bool			 connected;
	bool			 refused;	/* not authorized for zone */
	char			 zone[FEDERATION_NAME_MAX];
	struct federation	*f;
	struct tls_client	*cl;
	struct tls_expect	 expect;
};

struct federation_asking {
	bool			 used;
	bool			 sent;
	uint32_t		 txid;
	uint64_t		 deadline;	/* ms, uv_now */
	uint8_t			 answer;	/* the type that answers */
	char			 zone[FEDERATION_NAME_MAX];
	uint8_t			 req[FEDERATION_REQ_MAX];
	size_t			 len;
	federation_answer_fn	 cb;
	void			*arg;
};

struct federation {
	uv_loop_t		*loop;
	struct federation_resolver *res;	/* borrowed */
	struct tls_creds	*creds;		/* borrowed */
	uint16_t		 port;
	uv_timer_t		 timer;
	bool			 closing;
	uint32_t		 next_txid;
	struct federation_peer	 peer[FEDERATION_PEERS_MAX];
	struct federation_asking ask[FEDERATION_ASKS_MAX];
};

/* Ends every ask for zone (NULL: all) with status. */
static void
federation_fail(struct federation *f, const char *zone, int status)
{
	size_t i;

	for (i = 0; i < FEDERATION_ASKS_MAX; i++) {
		struct federation_asking *a = &f->ask[i];
		federation_answer_fn cb = a->cb;
		void *arg = a->arg;

		if (!a->used || (zone != NULL && strcmp(a->zone, zone) != 0))
			continue;
		a->used = false;
		cb(arg, status, NULL);
	}
}

static void
federation_flush(struct federation_peer *p)
{
	struct federation *f = p->f;
	struct tls_conn *c;
	size_t i;

	if (!p->connected || (c = tls_client_conn(p->cl)) == NULL)
		return;
	for (i = 0; i < FEDERATION_ASKS_MAX; i++) {
		struct federation_asking *a = &f->ask[i];

		if (a->used && !a->sent && strcmp(a->zone, p->zone) == 0 &&
		    tls_send(c, a->req, a->len) == 0)
			a->sent = true;
	}
}

static int
federation_peer_verify(void *ctx, const gnutls_x509_crt_t *chain, size_t n,
    time_t now)
{
	struct federation_peer *p = ctx;
	int rc;

	if ((rc = tls_verify_cert(&p->expect, chain, n, now)) < 0)
		return rc;
	if (!federation_peer_authorized(chain[0], p->zone)) {
		log_warnx("federation: the DC found for %s does not list it "
		    "in its certificate; refused", p->zone);
		p->refused = true;
		return CERT_E_FQDN;
	}
	return 0;
}

static void
federation_peer_connected(struct tls_conn *c, const struct tls_peer *tp,
    void *arg)
{
	struct federation_peer *p = arg;

	(void)c;
	log_info("federation: connected to %s (%s) for %s", tp->fqdn,
	    tp->addr, p->zone);
	p->connected = true;
	federation_flush(p);
}

static void
federation_peer_frame(struct tls_conn *c, const uint8_t *b, size_t len,
    void *arg)
{
	struct federation_peer *p = arg;
	struct federation *f = p->f;
	struct msg *m;
	size_t i;

	(void)c;
	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	if (msg_decode(b, len, m) == 0)
		for (i = 0; i < FEDERATION_ASKS_MAX; i++) {
			struct federation_asking *a = &f->ask[i];

			if (a->used && a->txid == m->hdr.txid &&
			    a->answer == m->hdr.type &&
			    strcmp(a->zone, p->zone) == 0) {
				a->used = false;
				a->cb(a->arg, 0, m);
				break;
			}
		}
	free(m);
}

static void
federation_peer_closed(struct tls_conn *c, int reason, void *arg)
{
	struct federation_peer *p = arg;
	struct federation *f = p->f;
	size_t i;

	(void)c;
	(void)reason;
	p->connected = false;
	if (f->closing)
		return;
	if (p->refused) {
		tls_client_free(p->cl);
		p->cl = NULL;
		p->used = false;
		federation_fail(f, p->zone, -EPERM);
		return;
	}
	/* Sent again once the link is back (a DC_CN answers twice). */
	for (i = 0; i < FEDERATION_ASKS_MAX; i++)
		if (f->ask[i].used && strcmp(f->ask[i].zone, p->zone) == 0)
			f->ask[i].sent = false;
}

static void
federation_resolved(void *arg, int status, const struct federation_dc *dc)
{
	struct federation_peer *p = arg;
	struct federation *f = p->f;
	struct sockaddr_storage ss;
	struct tls_config cfg;
	int rc;

	if (f->closing)
		return;
	if (status < 0 || dc->naddr == 0) {
		p->used = false;
		federation_fail(f, p->zone, status < 0 ? status : -ENOENT);
		return;
	}
	ss = dc->addr[0];
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)(void *)&ss)->sin_port = htons(f->port);
	else
		((struct sockaddr_in6 *)(void *)&ss)->sin6_port =
		    htons(f->port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.creds = f->creds;
	cfg.verify = federation_peer_verify;
	cfg.verify_ctx = p;
	cfg.framing = TLS_FRAMING_MSG;
	cfg.name = "federation";
	cfg.on_connected = federation_peer_connected;
	cfg.on_frame = federation_peer_frame;
	cfg.on_closed = federation_peer_closed;
	cfg.arg = p;
	if ((rc = tls_client_new(f->loop, &cfg, (struct sockaddr *)&ss,
	    &p->cl)) < 0) {
		p->used = false;
		federation_fail(f, p->zone, rc);
	}
}

static void
federation_ask_tick(uv_timer_t *t)
{
	struct federation *f = t->data;
	uint64_t now = uv_now(f->loop);
	size_t i;

	for (i = 0; i < FEDERATION_ASKS_MAX; i++) {
		struct federation_asking *a = &f->ask[i];

		if (a->used && a->deadline <= now) {
			a->used = false;
			a->cb(a->arg, -ETIMEDOUT, NULL);
		}
	}
}

/* Queues req (txid set here) for zone's DC, linking to it if needed. */
static int
federation_request(struct federation *f, const char *zone, const uint8_t *req,
    size_t len, uint8_t answer, uint64_t timeout, federation_answer_fn cb,
    void *arg)
{
	struct federation_asking *a = NULL;
	struct federation_peer *p = NULL;
	size_t i;
	int rc;

	if (f->closing || len < PROTO_HEADER_LEN || len > FEDERATION_REQ_MAX)
		return -EINVAL;
	for (i = 0; i < FEDERATION_ASKS_MAX && a == NULL; i++)
		if (!f->ask[i].used)
			a = &f->ask[i];
	if (a == NULL)
		return -EBUSY;
	for (i = 0; i < FEDERATION_PEERS_MAX && p == NULL; i++)
		if (f->peer[i].used && strcmp(f->peer[i].zone, zone) == 0)
			p = &f->peer[i];
	if (p == NULL)
		for (i = 0; i < FEDERATION_PEERS_MAX && p == NULL; i++)
			if (!f->peer[i].used && f->peer[i].cl == NULL)
				p = &f->peer[i];
	if (p == NULL)
		return -EBUSY;
	memcpy(a->req, req, len);
	a->len = len;
	a->txid = ++f->next_txid;
	store_be32(a->req + FEDERATION_TXID_OFF, a->txid);
	a->used = true;
	a->sent = false;
	a->answer = answer;
	a->deadline = uv_now(f->loop) + timeout;
	snprintf(a->zone, sizeof(a->zone), "%s", zone);
	a->cb = cb;
	a->arg = arg;
	if (!uv_is_active((uv_handle_t *)&f->timer))
		uv_timer_start(&f->timer, federation_ask_tick, 100, 100);
	if (p->used) {
		federation_flush(p);
		return 0;
	}
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->f = f;
	snprintf(p->zone, sizeof(p->zone), "%s", zone);
	p->expect.trust = tls_creds_trust(f->creds);
	p->expect.intermediate = tls_creds_issuer(f->creds);
	p->expect.role = CERT_ROLE_DC;
	if ((rc = federation_resolve(f->res, zone, federation_resolved, p)) <
	    0) {
		p->used = false;
		federation_fail(f, zone, rc);
	}
	return 0;
}

int
federation_ask(struct federation *f, const char *mn, const char *cn,
    uint8_t kex, federation_answer_fn cb, void *arg)
{
	char zone[FEDERATION_NAME_MAX];
	uint8_t req[FEDERATION_REQ_MAX];
	struct msg m;
	size_t len;

	if (f->closing || federation_zone_of(cn, zone, sizeof(zone)) < 0)
		return -EINVAL;
	msg_init(&m, PROTO_MSG_NODE_INFO_REQUEST);
	if (msg_add_bytes(&m, PROTO_ATTR_FQDN, mn, strlen(mn)) < 0 ||
	    msg_add_bytes(&m, PROTO_ATTR_PEER_FQDN, cn, strlen(cn)) < 0 ||
	    msg_add_u8(&m, PROTO_ATTR_KEX, kex) < 0 ||
	    msg_encode(&m, req, sizeof(req), &len) < 0)
		return -EINVAL;
	return federation_request(f, zone, req, len,
	    PROTO_MSG_NODE_INFO_RESPONSE, FEDERATION_ASK_TIMEOUT_MS, cb, arg);
}

int
federation_handoff(struct federation *f, const char *cn, const uint8_t *p,
    size_t len, federation_answer_fn cb, void *arg)
{
	char zone[FEDERATION_NAME_MAX];

	if (federation_zone_of(cn, zone, sizeof(zone)) < 0 ||
	    len < PROTO_HEADER_LEN || p[1] != PROTO_MSG_ROUTE_HANDOFF)
		return -EINVAL;
	return federation_request(f, zone, p, len, PROTO_MSG_PEER_NTM_ACK,
	    FEDERATION_HANDOFF_TIMEOUT_MS, cb, arg);
}

int
federation_new(struct federation **out, uv_loop_t *loop,
    struct federation_resolver *res, struct tls_creds *creds, uint16_t port)
{
	struct federation *f;

	*out = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	f->loop = loop;
	f->res = res;
	f->creds = creds;
	f->port = port != 0 ? port : PROTO_PORT_DC_TLS;
	uv_timer_init(loop, &f->timer);
	f->timer.data = f;
	*out = f;
	return 0;
}

void
federation_close(struct federation *f)
{
	size_t i;

	if (f == NULL || f->closing)
		return;
	f->closing = true;
	federation_fail(f, NULL, -ECANCELED);
	for (i = 0; i < FEDERATION_PEERS_MAX; i++)
		if (f->peer[i].cl != NULL)
			tls_client_free(f->peer[i].cl);
	uv_close((uv_handle_t *)&f->timer, NULL);
}

void
federation_free(struct federation *f)
{
	if (f == NULL)
		return;
	federation_close(f);
	free(f);
}
