/* signal.c -- the DC's sans-I/O signalling core: datagram in, actions out (PROTOCOL.md 5, 7, 15). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"
#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "rand.h"
#include "signal.h"
#include "ticket.h"

struct signal {
	struct registry		*reg;
	struct ticket_keyring	 keys;
	struct ntm_rng		*rng;
	struct signal_hooks	 hooks;
	char			 zone[SIGNAL_FQDN_BUF];
	size_t			 zone_len;
	uint32_t		 lifetime_s;
	uint32_t		 keepalive_s;
	struct signal_stats	 stats;
};

/* One received datagram and where it came from. */
struct signal_rx {
	const uint8_t		*p;
	size_t			 len;
	const struct msg_addr	*from;
	struct msg_header	 h;
	uint64_t		 now;
	time_t			 wall;
};

static const char *
signal_addr_text(const struct msg_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->family == PROTO_FAMILY_IPV4 &&
	    inet_ntop(AF_INET, a->addr, ip, sizeof(ip)) != NULL)
		snprintf(buf, len, "%s:%u", ip, a->port);
	else if (a->family == PROTO_FAMILY_IPV6 &&
	    inet_ntop(AF_INET6, a->addr, ip, sizeof(ip)) != NULL)
		snprintf(buf, len, "[%s]:%u", ip, a->port);
	else
		snprintf(buf, len, "(unknown)");
	return buf;
}

static bool
signal_addr_equal(const struct msg_addr *a, const struct msg_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->addr, b->addr, a->family == PROTO_FAMILY_IPV4 ? 4 :
	    16) == 0;
}

int
signal_new(struct signal **out, const struct signal_config *cfg,
    const struct signal_hooks *hooks, struct ntm_rng *rng)
{
	struct signal *s;
	int rc;

	*out = NULL;
	if (cfg->zone == NULL || strlen(cfg->zone) == 0 ||
	    strlen(cfg->zone) >= SIGNAL_FQDN_BUF)
		return -EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	snprintf(s->zone, sizeof(s->zone), "%s", cfg->zone);
	s->zone_len = strlen(s->zone);
	s->lifetime_s = cfg->lifetime_s != 0 ? cfg->lifetime_s :
	    PROTO_TIMER_REGISTRATION / 1000;
	s->keepalive_s = cfg->keepalive_s != 0 ? cfg->keepalive_s :
	    PROTO_TIMER_KEEPALIVE / 1000;
	s->rng = rng;
	if (hooks != NULL)
		s->hooks = *hooks;
	ticket_keyring_init(&s->keys);
	if ((rc = registry_new(&s->reg, (uint64_t)s->lifetime_s * 1000,
	    hooks != NULL ? &hooks->zone : NULL, rng)) < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
signal_free(struct signal *s)
{
	if (s == NULL)
		return;
	registry_free(s->reg);
	ticket_keyring_clear(&s->keys);
	free(s);
}

int
signal_ticket_key_add(struct signal *s, uint32_t id,
    const uint8_t key[PROTO_KEY_LEN])
{
	return ticket_keyring_add(&s->keys, id, key);
}

struct registry *
signal_registry(struct signal *s)
{
	return s->reg;
}

const struct signal_stats *
signal_stats(const struct signal *s)
{
	return &s->stats;
}

static void
signal_drop_decode(struct signal *s, int rc, const struct msg_addr *from)
{
	char a[80];
	int i = -(rc - MSG_E_SHORT_HEADER);

	if (i >= 0 && i < SIGNAL_DECODE_ERRORS)
		s->stats.drop_decode[i]++;
	else
		s->stats.drop_internal++;
	log_debug("signal: dropped datagram from %s: %s",
	    signal_addr_text(from, a, sizeof(a)), msg_strerror(rc));
}

/* Queues bytes for `to`; false when the output is full. */
static bool
signal_emit(struct signal *s, struct signal_out *out, const struct msg_addr *to,
    const uint8_t *p, size_t len)
{
	struct signal_send *snd;

	if (out->nsend >= SIGNAL_SENDS_MAX || len > PROTO_DATAGRAM_MAX) {
		s->stats.drop_internal++;
		return false;
	}
	snd = &out->send[out->nsend++];
	snd->to = *to;
	memcpy(snd->buf, p, len);
	snd->len = len;
	s->stats.tx++;
	s->stats.tx_bytes += len;
	return true;
}

/* The FQDN is one LDH label under our zone (the codec checked the syntax). */
static bool
signal_in_zone(const struct signal *s, const char *fqdn, size_t len)
{
	const char *label_end;

	if (len < s->zone_len + 2 || fqdn[len - s->zone_len - 1] != '.' ||
	    memcmp(fqdn + len - s->zone_len, s->zone, s->zone_len) != 0)
		return false;
	label_end = memchr(fqdn, '.', len);
	return label_end == fqdn + len - s->zone_len - 1;
}

/*
 * Unsealed REG_CHALLENGE, never longer than the hello.  An error answer
 * (status != OK) carries the echoed nonce only.
 */
static void
signal_challenge(struct signal *s, const struct signal_rx *rx,
    uint8_t status, const uint8_t *sid, const uint8_t *cookie,
    const uint8_t *nonce, struct signal_out *out)
{
	struct msg m;
	uint8_t buf[PROTO_DATAGRAM_MAX];
	size_t len;
	int rc = 0;

	msg_init(&m, PROTO_MSG_REG_CHALLENGE);
	m.hdr.status = status;
	m.hdr.txid = rx->h.txid;
	if (sid != NULL)
		memcpy(m.hdr.id, sid, PROTO_ID_LEN);
	if (cookie != NULL)
		rc |= msg_add_bytes(&m, PROTO_ATTR_COOKIE, cookie,
		    PROTO_RANDOM_LEN);
	rc |= msg_add_bytes(&m, PROTO_ATTR_NONCE, nonce, PROTO_RANDOM_LEN);
	if (rc != 0 || msg_encode(&m, buf, sizeof(buf), &len) < 0) {
		s->stats.drop_internal++;
		return;
	}
	if (len > rx->len) {
		s->stats.drop_amplification++;
		return;
	}
	if (status == PROTO_STATUS_OK)
		s->stats.challenges++;
	signal_emit(s, out, rx->from, buf, len);
}

static void
signal_hello(struct signal *s, const struct signal_rx *rx,
    struct signal_out *out)
{
	struct msg m;
	struct ticket_body tb;
	struct registry_pending p, *pp;
	const struct msg_attr *ticket, *nonce;
	char a[80];
	uint8_t status = PROTO_STATUS_OK;
	int rc;

	if ((rc = msg_decode(rx->p, rx->len, &m)) < 0) {
		signal_drop_decode(s, rc, rx->from);
		return;
	}
	if (m.hdr.status != PROTO_STATUS_OK) {
		s->stats.drop_type++;
		return;
	}
	s->stats.hellos++;
	ticket = msg_attr_find(&m, PROTO_ATTR_TICKET);
	nonce = msg_attr_find(&m, PROTO_ATTR_NONCE);
	rc = ticket_open(&s->keys, ticket->val, ticket->len, rx->wall, &tb);
	if (rc == -EKEYEXPIRED) {
		s->stats.expired_ticket++;
		status = PROTO_STATUS_EXPIRED;
	} else if (rc < 0) {
		s->stats.bad_ticket++;
		status = PROTO_STATUS_BAD_TICKET;
	} else if (!signal_in_zone(s, tb.fqdn, tb.fqdn_len)) {
		s->stats.foreign_ticket++;
		status = PROTO_STATUS_BAD_TICKET;
	} else if (tb.serial_len > 0 && s->hooks.revoked != NULL &&
	    s->hooks.revoked(s->hooks.arg, tb.serial, tb.serial_len)) {
		s->stats.revoked_ticket++;
		status = PROTO_STATUS_REVOKED;
	}
	if (status != PROTO_STATUS_OK) {
		log_debug("signal: REG_HELLO from %s (%s): %s",
		    signal_addr_text(rx->from, a, sizeof(a)),
		    tb.fqdn_len > 0 ? tb.fqdn : "ticket unreadable",
		    msg_status_name(status));
		signal_challenge(s, rx, status, NULL, NULL, nonce->val, out);
		goto done;
	}

	/* A retransmitted hello: the same challenge again. */
	pp = registry_pending_find_ticket(s->reg, tb.id);
	if (pp != NULL && pp->txid == rx->h.txid &&
	    crypto_ct_equal(pp->nonce, nonce->val, PROTO_RANDOM_LEN) &&
	    rx->now < pp->created + PROTO_TIMER_COOKIE) {
		signal_challenge(s, rx, PROTO_STATUS_OK, pp->sid, pp->cookie,
		    pp->nonce, out);
		goto done;
	}

	memset(&p, 0, sizeof(p));
	memcpy(p.ticket_id, tb.id, sizeof(p.ticket_id));
	memcpy(p.k_nd, tb.key, sizeof(p.k_nd));
	memcpy(p.nonce, nonce->val, PROTO_RANDOM_LEN);
	p.txid = rx->h.txid;
	p.created = rx->now;
	p.ticket_expiry = tb.expiry;
	p.from = *rx->from;
	memcpy(p.vip4, tb.vip4, 4);
	memcpy(p.vip6, tb.vip6, 16);
	p.flags = (tb.has_vip4 ? REGISTRY_F_VIP4 : 0) |
	    (tb.has_vip6 ? REGISTRY_F_VIP6 : 0);
	memcpy(p.serial, tb.serial, tb.serial_len);
	p.serial_len = (uint8_t)tb.serial_len;
	memcpy(p.fqdn, tb.fqdn, tb.fqdn_len + 1);
	p.fqdn_len = (uint8_t)tb.fqdn_len;
	if (rng_bytes(s->rng, p.sid, sizeof(p.sid)) < 0 ||
	    rng_bytes(s->rng, p.cookie, sizeof(p.cookie)) < 0) {
		s->stats.drop_internal++;
		goto done;
	}
	rc = registry_pending_add(s->reg, &p, &pp);
	if (rc == -ENOSPC) {
		s->stats.rate_limited++;
		signal_challenge(s, rx, PROTO_STATUS_RATE_LIMITED, NULL, NULL,
		    nonce->val, out);
		goto done;
	} else if (rc < 0) {
		s->stats.drop_internal++;
		goto done;
	}
	signal_challenge(s, rx, PROTO_STATUS_OK, pp->sid, pp->cookie,
	    pp->nonce, out);
done:
	crypto_wipe(&p, sizeof(p));
	crypto_wipe(&tb, sizeof(tb));
}

/*
 * Opens a sealed datagram with `key` into buf (a copy: header, then the
 * plaintext body) and decodes it into *m, which borrows buf.
 */
static int
signal_open(struct signal *s, const struct signal_rx *rx,
    const uint8_t key[PROTO_KEY_LEN], uint8_t *buf, struct msg *m)
{
	struct aead *a;
	uint8_t nonce[PROTO_NONCE_LEN];
	size_t ctlen = rx->h.length;
	int rc;

	if (aead_new(&a, AEAD_ALG_AES256GCM, key, PROTO_KEY_LEN) < 0) {
		s->stats.drop_internal++;
		return -ENOMEM;
	}
	memcpy(buf, rx->p, PROTO_HEADER_LEN + ctlen);
	msg_nonce(&rx->h, nonce);
	rc = aead_open(a, nonce, buf, PROTO_HEADER_LEN, buf + PROTO_HEADER_LEN,
	    ctlen, buf + PROTO_HEADER_LEN, PROTO_DATAGRAM_MAX - PROTO_HEADER_LEN);
	aead_free(a);
	if (rc < 0) {
		s->stats.drop_aead++;
		return -EBADMSG;
	}
	return msg_body_decode(&rx->h, buf + PROTO_HEADER_LEN,
	    ctlen - PROTO_TAG_LEN, m);
}

/*
 * Encodes and seals answer m to the node of e at `to`, as the answer to
 * the request in rx, and caches it.  limit: most bytes allowed (0: none).
 * Returns 0, -EMSGSIZE when over the limit (nothing sent, no sequence
 * number used), or another negative errno.
 */
static int
signal_answer(struct signal *s, struct registry_entry *e,
    const struct signal_rx *rx, struct msg *m, size_t limit,
    struct signal_out *out)
{
	struct aead *a;
	uint8_t buf[PROTO_DATAGRAM_MAX], nonce[PROTO_NONCE_LEN];
	size_t len;
	int rc;

	m->hdr.txid = rx->h.txid;
	m->hdr.seq = e->tx_seq + 1;
	memcpy(m->hdr.id, e->sid, PROTO_ID_LEN);
	if ((rc = msg_encode(m, buf, sizeof(buf), &len)) < 0)
		return rc;
	if (limit != 0 && len > limit)
		return -EMSGSIZE;
	if (aead_new(&a, AEAD_ALG_AES256GCM, e->key_tx, PROTO_KEY_LEN) < 0)
		return -ENOMEM;
	msg_nonce(&m->hdr, nonce);
	rc = aead_seal(a, nonce, buf, PROTO_HEADER_LEN, buf + PROTO_HEADER_LEN,
	    len - PROTO_HEADER_LEN - PROTO_TAG_LEN, buf + PROTO_HEADER_LEN,
	    sizeof(buf) - PROTO_HEADER_LEN);
	aead_free(a);
	if (rc < 0)
		return rc;
	e->tx_seq++;
	if (e->cache.cap < len) {
		uint8_t *nb = realloc(e->cache.bytes, len);

		if (nb == NULL)
			return -ENOMEM;
		e->cache.bytes = nb;
		e->cache.cap = len;
	}
	memcpy(e->cache.bytes, buf, len);
	e->cache.len = len;
	e->cache.req_seq = rx->h.seq;
	e->cache.req_type = rx->h.type;
	e->cache.sent = rx->now;
	signal_emit(s, out, rx->from, buf, len);
	return 0;
}

/* Most bytes an answer to rx may have: 0 when the source is proven. */
static size_t
signal_limit(const struct registry_entry *e, const struct signal_rx *rx)
{
	if ((e->flags & REGISTRY_F_PROVEN) &&
	    signal_addr_equal(&e->observed, rx->from))
		return 0;
	return SIGNAL_AMPLIFICATION * rx->len;
}

static int
signal_registration_ack(struct signal *s, struct registry_entry *e,
    const struct signal_rx *rx, bool optional, struct signal_out *out)
{
	struct msg m;
	uint32_t ka;
	int rc = 0;

	ka = (e->flags & REGISTRY_F_NAT) ? s->keepalive_s : s->lifetime_s / 3;
	msg_init(&m, PROTO_MSG_REGISTRATION_ACK);
	rc |= msg_add_addr(&m, PROTO_ATTR_OBSERVED_ADDR, &e->observed);
	rc |= msg_add_u8(&m, PROTO_ATTR_NAT, (e->flags & REGISTRY_F_NAT) ?
	    PROTO_NAT_BEHIND : PROTO_NAT_NONE);
	rc |= msg_add_u32(&m, PROTO_ATTR_LIFETIME, s->lifetime_s);
	rc |= msg_add_u32(&m, PROTO_ATTR_KEEPALIVE, ka);
	if (optional) {
		rc |= msg_add_bytes(&m, PROTO_ATTR_FQDN,
		    registry_entry_fqdn(e), e->fqdn_len);
		if (e->flags & REGISTRY_F_VIP4)
			rc |= msg_add_bytes(&m, PROTO_ATTR_VIP4, e->vip4, 4);
		if (e->flags & REGISTRY_F_VIP6)
			rc |= msg_add_bytes(&m, PROTO_ATTR_VIP6, e->vip6, 16);
	}
	if (rc != 0)
		return -E2BIG;
	return signal_answer(s, e, rx, &m, signal_limit(e, rx), out);
}

static void
signal_registration(struct signal *s, const struct signal_rx *rx,
    struct registry_pending *p, struct signal_out *out)
{
	struct registry_node n;
	struct registry_entry *e;
	struct msg_addr local[PROTO_ADDRS_MAX];
	const struct msg_attr *a;
	struct msg m;
	struct signal_persist *row;
	uint8_t buf[PROTO_DATAGRAM_MAX], k_rx[PROTO_KEY_LEN], k_tx[PROTO_KEY_LEN];
	char text[80];
	int rc;

	ticket_session_keys(p->k_nd, p->nonce, p->cookie, k_rx, k_tx);
	rc = signal_open(s, rx, k_rx, buf, &m);
	if (rc == -EBADMSG || rc == -ENOMEM)
		goto done;
	if (rc < 0) {
		signal_drop_decode(s, rc, rx->from);
		goto done;
	}
	if (m.hdr.flags & PROTO_F_FRAGMENT) {
		s->stats.drop_fragment++;
		goto done;
	}
	if (m.hdr.status != PROTO_STATUS_OK) {
		s->stats.drop_type++;
		goto done;
	}
	memset(&n, 0, sizeof(n));
	for (a = NULL; (a = msg_attr_next(&m, PROTO_ATTR_LOCAL_ADDR, a)) !=
	    NULL && n.nlocal < PROTO_ADDRS_MAX;)
		if (msg_addr_parse(a, &local[n.nlocal]) == 0)
			n.nlocal++;
	n.p = p;
	n.key_rx = k_rx;
	n.key_tx = k_tx;
	n.local = local;
	n.observed = *rx->from;
	n.proven = signal_addr_equal(&p->from, rx->from);
	if (registry_add(s->reg, &n, rx->now, &e) < 0) {
		s->stats.drop_internal++;
		goto done;
	}
	registry_pending_remove(s->reg, p);
	/* The window starts here; REGISTRATION is normally number 1. */
	(void)replay_update(&e->replay, rx->h.seq);
	s->stats.registrations++;
	log_debug("signal: %s registered from %s%s",
	    registry_entry_fqdn(e), signal_addr_text(rx->from, text,
	    sizeof(text)), (e->flags & REGISTRY_F_NAT) ? " (behind NAT)" : "");

	rc = signal_registration_ack(s, e, rx, true, out);
	if (rc == -EMSGSIZE)
		rc = signal_registration_ack(s, e, rx, false, out);
	if (rc == -EMSGSIZE)
		s->stats.drop_amplification++;
	else if (rc < 0)
		s->stats.drop_internal++;

	row = &out->persist[0];
	snprintf(row->fqdn, sizeof(row->fqdn), "%s", registry_entry_fqdn(e));
	if (registry_vip_text(e, row->vip4, sizeof(row->vip4), row->vip6,
	    sizeof(row->vip6)) == 0)
		out->npersist = 1;
done:
	crypto_wipe(k_rx, sizeof(k_rx));
	crypto_wipe(k_tx, sizeof(k_tx));
	crypto_wipe(buf, sizeof(buf));
}

static void
signal_keepalive(struct signal *s, struct registry_entry *e,
    const struct signal_rx *rx, struct signal_out *out)
{
	struct msg m;
	size_t i;
	char text[80];
	int rc = 0;

	s->stats.keepalives++;
	if (!signal_addr_equal(&e->observed, rx->from)) {
		/* NAT rebinding: the node re-registers when it sees this. */
		s->stats.rebinds++;
		log_debug("signal: %s moved to %s", registry_entry_fqdn(e),
		    signal_addr_text(rx->from, text, sizeof(text)));
		e->observed = *rx->from;
		e->flags &= ~REGISTRY_F_PROVEN;
		e->flags |= REGISTRY_F_NAT;
		for (i = 0; i < e->nlocal; i++)
			if (signal_addr_equal(&e->local[i], rx->from))
				e->flags &= ~REGISTRY_F_NAT;
	}
	msg_init(&m, PROTO_MSG_KEEPALIVE_ACK);
	rc |= msg_add_addr(&m, PROTO_ATTR_OBSERVED_ADDR, rx->from);
	rc |= msg_add_u32(&m, PROTO_ATTR_LIFETIME, s->lifetime_s);
	if (rc != 0) {
		s->stats.drop_internal++;
		return;
	}
	rc = signal_answer(s, e, rx, &m, signal_limit(e, rx), out);
	if (rc == -EMSGSIZE)
		s->stats.drop_amplification++;
	else if (rc < 0)
		s->stats.drop_internal++;
}

/* A sealed message on a live registration. */
static void
signal_sealed(struct signal *s, const struct signal_rx *rx,
    struct registry_entry *e, struct signal_out *out)
{
	struct msg m;
	uint8_t buf[PROTO_DATAGRAM_MAX];
	int rc;

	if (!replay_check(&e->replay, rx->h.seq)) {
		/* A retransmission of the request we last answered? */
		if (e->cache.len > 0 && e->cache.req_seq == rx->h.seq &&
		    e->cache.req_type == rx->h.type &&
		    rx->now < e->cache.sent + SIGNAL_CACHE_MS &&
		    signal_open(s, rx, e->key_rx, buf, &m) == 0) {
			size_t limit = signal_limit(e, rx);

			if (limit != 0 && e->cache.len > limit) {
				s->stats.drop_amplification++;
				goto done;
			}
			s->stats.cache_resends++;
			signal_emit(s, out, rx->from, e->cache.bytes,
			    e->cache.len);
		} else
			s->stats.drop_replay++;
		goto done;
	}
	rc = signal_open(s, rx, e->key_rx, buf, &m);
	if (rc == -EBADMSG || rc == -ENOMEM)
		goto done;
	/* Authentic: the window moves even if the body is unusable. */
	(void)replay_update(&e->replay, rx->h.seq);
	if (rc < 0) {
		signal_drop_decode(s, rc, rx->from);
		goto done;
	}
	if (m.hdr.flags & PROTO_F_FRAGMENT) {
		s->stats.drop_fragment++;
		goto done;
	}
	if (m.hdr.status != PROTO_STATUS_OK) {
		s->stats.drop_type++;
		goto done;
	}
	switch (rx->h.type) {
	case PROTO_MSG_KEEPALIVE:
		registry_refresh(s->reg, e, rx->now);
		signal_keepalive(s, e, rx, out);
		break;
	case PROTO_MSG_DIRECTION_REQUEST:
	case PROTO_MSG_NTM_ACK:
	case PROTO_MSG_STATUS_NOTICE_ACK:
		registry_refresh(s->reg, e, rx->now);
		s->stats.drop_unsupported++;
		break;
	default:
		/* A second REGISTRATION on one session: re-register instead. */
		s->stats.drop_type++;
		break;
	}
done:
	crypto_wipe(buf, sizeof(buf));
}

void
signal_input(struct signal *s, const void *p, size_t len,
    const struct msg_addr *from, uint64_t now, time_t wall,
    struct signal_out *out)
{
	struct signal_rx rx;
	struct registry_pending *pend;
	struct registry_entry *e;
	struct rbuf b;
	int rc;

	out->nsend = 0;
	out->npersist = 0;
	s->stats.rx++;
	s->stats.rx_bytes += len;
	memset(&rx, 0, sizeof(rx));
	rx.p = p;
	rx.len = len;
	rx.from = from;
	rx.now = now;
	rx.wall = wall;
	rbuf_init(&b, p, len);
	if ((rc = msg_header_decode(&b, &rx.h)) < 0) {
		signal_drop_decode(s, rc, from);
		return;
	}
	if (rbuf_left(&b) > rx.h.length) {
		signal_drop_decode(s, MSG_E_TRAILING, from);
		return;
	}
	/* Only what nodes send to a DC; answers and notices are ours. */
	switch (rx.h.type) {
	case PROTO_MSG_REG_HELLO:
		signal_hello(s, &rx, out);
		return;
	case PROTO_MSG_REGISTRATION:
		if ((pend = registry_pending_find_sid(s->reg, rx.h.id)) !=
		    NULL && now < pend->created + PROTO_TIMER_COOKIE) {
			signal_registration(s, &rx, pend, out);
			return;
		}
		break;
	case PROTO_MSG_KEEPALIVE:
	case PROTO_MSG_DIRECTION_REQUEST:
	case PROTO_MSG_NTM_ACK:
	case PROTO_MSG_STATUS_NOTICE_ACK:
		break;
	default:
		s->stats.drop_type++;
		return;
	}
	if ((e = registry_find_sid(s->reg, rx.h.id)) == NULL ||
	    now >= e->expires) {
		s->stats.drop_unknown_session++;
		return;
	}
	signal_sealed(s, &rx, e, out);
}

static void
signal_expired_cb(const struct registry_entry *e, void *arg)
{
	struct signal *s = arg;

	s->stats.expired++;
	log_debug("signal: registration of %s expired",
	    registry_entry_fqdn(e));
}

void
signal_timer(struct signal *s, uint64_t now, struct signal_out *out)
{
	out->nsend = 0;
	out->npersist = 0;
	registry_expire(s->reg, now, signal_expired_cb, s);
}

uint64_t
signal_next_timer(const struct signal *s)
{
	return registry_next_expiry(s->reg);
}

void
signal_stats_foreach(const struct signal *s,
    void (*fn)(const char *, uint64_t, void *), void *arg)
{
	const struct signal_stats *st = &s->stats;
	char name[64];
	int i;

	fn("rx", st->rx, arg);
	fn("rx_bytes", st->rx_bytes, arg);
	fn("tx", st->tx, arg);
	fn("tx_bytes", st->tx_bytes, arg);
	fn("registered", registry_count(s->reg), arg);
	fn("pending", registry_pending_count(s->reg), arg);
	fn("hellos", st->hellos, arg);
	fn("challenges", st->challenges, arg);
	fn("registrations", st->registrations, arg);
	fn("keepalives", st->keepalives, arg);
	fn("rebinds", st->rebinds, arg);
	fn("expired", st->expired, arg);
	fn("cache_resends", st->cache_resends, arg);
	fn("bad_ticket", st->bad_ticket, arg);
	fn("expired_ticket", st->expired_ticket, arg);
	fn("foreign_ticket", st->foreign_ticket, arg);
	fn("revoked_ticket", st->revoked_ticket, arg);
	fn("rate_limited", st->rate_limited, arg);
	fn("drop_type", st->drop_type, arg);
	fn("drop_unknown_session", st->drop_unknown_session, arg);
	fn("drop_aead", st->drop_aead, arg);
	fn("drop_replay", st->drop_replay, arg);
	fn("drop_amplification", st->drop_amplification, arg);
	fn("drop_fragment", st->drop_fragment, arg);
	fn("drop_unsupported", st->drop_unsupported, arg);
	fn("drop_internal", st->drop_internal, arg);
	for (i = 0; i < SIGNAL_DECODE_ERRORS; i++) {
		snprintf(name, sizeof(name), "drop_decode: %s",
		    msg_strerror(MSG_E_SHORT_HEADER - i));
		fn(name, st->drop_decode[i], arg);
	}
}
