/* registry.c -- DC table of registered nodes: FQDN -> virtual IPs, location, NAT state. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "rand.h"
#include "registry.h"

#define container_of(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

enum {
	RTABLE_INITIAL = 1024,		/* buckets; doubles at load 1 */
};

/* A chained hash table of intrusive links; keys are the caller's. */
struct rtable {
	struct registry_link	**b;
	size_t			 mask;
	size_t			 n;
};

struct registry {
	struct rtable		 sid;		/* registry_entry.by_sid */
	struct rtable		 fqdn;		/* registry_entry.by_fqdn */
	struct rtable		 psid;		/* registry_pending.by_sid */
	struct rtable		 pticket;	/* registry_pending.by_ticket */
	struct registry_entry	*exp_head, *exp_tail;
	struct registry_pending	*fifo_head;
	struct registry_pending	**fifo_tail;
	uint64_t		 lifetime;
	uint64_t		 seed;
	struct registry_hooks	 hooks;
	struct registry_stats	 stats;
};

/*
 * Keyed FNV-1a with a final avalanche.  The keys are DC-random session ids,
 * AS-issued ticket ids and FQDNs from AS-sealed tickets, so no outsider
 * picks them; the random seed keeps bucket placement unpredictable anyway.
 */
static uint64_t
registry_hash(const struct registry *r, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ r->seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static int
rtable_init(struct rtable *t, size_t nb)
{
	if ((t->b = calloc(nb, sizeof(*t->b))) == NULL)
		return -ENOMEM;
	t->mask = nb - 1;
	t->n = 0;
	return 0;
}

static void
rtable_free(struct rtable *t)
{
	free(t->b);
	t->b = NULL;
}

static void
rtable_insert(struct rtable *t, uint64_t h, struct registry_link *l)
{
	struct registry_link **head = &t->b[h & t->mask];

	l->next = *head;
	*head = l;
	t->n++;
}

static void
rtable_remove(struct rtable *t, uint64_t h, struct registry_link *l)
{
	struct registry_link **pp;

	for (pp = &t->b[h & t->mask]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			l->next = NULL;
			t->n--;
			return;
		}
}

/* Doubles the table when full; a failed allocation keeps the old one. */
static void
rtable_grow(struct registry *r, struct rtable *t,
    uint64_t (*hash)(const struct registry *, struct registry_link *))
{
	struct registry_link **nb, *l, *next;
	size_t i, size = t->mask + 1;

	if (t->n < size || size > SIZE_MAX / 2 / sizeof(*nb))
		return;
	if ((nb = calloc(size * 2, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < size; i++)
		for (l = t->b[i]; l != NULL; l = next) {
			size_t j = hash(r, l) & (size * 2 - 1);

			next = l->next;
			l->next = nb[j];
			nb[j] = l;
		}
	free(t->b);
	t->b = nb;
	t->mask = size * 2 - 1;
}

static char *
entry_fqdn(const struct registry_entry *e)
{
	return (char *)(void *)&((struct registry_entry *)e)->local[e->nlocal];
}

const char *
registry_entry_fqdn(const struct registry_entry *e)
{
	return entry_fqdn(e);
}

static uint64_t
hash_entry_sid(const struct registry *r, struct registry_link *l)
{
	return registry_hash(r, container_of(l, struct registry_entry,
	    by_sid)->sid, PROTO_ID_LEN);
}

static uint64_t
hash_entry_fqdn(const struct registry *r, struct registry_link *l)
{
	struct registry_entry *e = container_of(l, struct registry_entry,
	    by_fqdn);

	return registry_hash(r, entry_fqdn(e), e->fqdn_len);
}

static uint64_t
hash_pending_sid(const struct registry *r, struct registry_link *l)
{
	return registry_hash(r, container_of(l, struct registry_pending,
	    by_sid)->sid, PROTO_ID_LEN);
}

static uint64_t
hash_pending_ticket(const struct registry *r, struct registry_link *l)
{
	return registry_hash(r, container_of(l, struct registry_pending,
	    by_ticket)->ticket_id, 16);
}

int
registry_new(struct registry **out, uint64_t lifetime_ms,
    const struct registry_hooks *hooks, struct ntm_rng *rng)
{
	struct registry *r;
	int rc;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	if ((rc = rng_bytes(rng, &r->seed, sizeof(r->seed))) < 0)
		goto fail;
	rc = -ENOMEM;
	if (rtable_init(&r->sid, RTABLE_INITIAL) < 0 ||
	    rtable_init(&r->fqdn, RTABLE_INITIAL) < 0 ||
	    rtable_init(&r->psid, RTABLE_INITIAL) < 0 ||
	    rtable_init(&r->pticket, RTABLE_INITIAL) < 0)
		goto fail;
	r->lifetime = lifetime_ms;
	if (hooks != NULL)
		r->hooks = *hooks;
	r->fifo_tail = &r->fifo_head;
	*out = r;
	return 0;
fail:
	registry_free(r);
	return rc;
}

static void
entry_free(struct registry_entry *e)
{
	free(e->cache.bytes);
	crypto_wipe(e->key_rx, sizeof(e->key_rx));
	crypto_wipe(e->key_tx, sizeof(e->key_tx));
	free(e);
}

static void
pending_free(struct registry_pending *p)
{
	crypto_wipe(p, sizeof(*p));
	free(p);
}

void
registry_free(struct registry *r)
{
	struct registry_entry *e, *enext;
	struct registry_pending *p, *pnext;

	if (r == NULL)
		return;
	for (e = r->exp_head; e != NULL; e = enext) {
		enext = e->exp_next;
		entry_free(e);
	}
	for (p = r->fifo_head; p != NULL; p = pnext) {
		pnext = p->fifo_next;
		pending_free(p);
	}
	rtable_free(&r->sid);
	rtable_free(&r->fqdn);
	rtable_free(&r->psid);
	rtable_free(&r->pticket);
	free(r);
}

uint64_t
registry_lifetime(const struct registry *r)
{
	return r->lifetime;
}

const struct registry_stats *
registry_stats(const struct registry *r)
{
	return &r->stats;
}

size_t
registry_count(const struct registry *r)
{
	return r->sid.n;
}

size_t
registry_pending_count(const struct registry *r)
{
	return r->psid.n;
}

static void
exp_unlink(struct registry *r, struct registry_entry *e)
{
	if (e->exp_prev != NULL)
		e->exp_prev->exp_next = e->exp_next;
	else
		r->exp_head = e->exp_next;
	if (e->exp_next != NULL)
		e->exp_next->exp_prev = e->exp_prev;
	else
		r->exp_tail = e->exp_prev;
	e->exp_prev = e->exp_next = NULL;
}

static void
exp_append(struct registry *r, struct registry_entry *e)
{
	e->exp_next = NULL;
	e->exp_prev = r->exp_tail;
	if (r->exp_tail != NULL)
		r->exp_tail->exp_next = e;
	else
		r->exp_head = e;
	r->exp_tail = e;
}

int
registry_vip_text(const struct registry_entry *e, char *v4, size_t v4len,
    char *v6, size_t v6len)
{
	v4[0] = v6[0] = '\0';
	if ((e->flags & REGISTRY_F_VIP4) &&
	    inet_ntop(AF_INET, e->vip4, v4, (socklen_t)v4len) == NULL)
		return -ENOSPC;
	if ((e->flags & REGISTRY_F_VIP6) &&
	    inet_ntop(AF_INET6, e->vip6, v6, (socklen_t)v6len) == NULL)
		return -ENOSPC;
	return 0;
}

int
registry_add(struct registry *r, const struct registry_node *n, uint64_t now,
    struct registry_entry **out)
{
	const struct registry_pending *p = n->p;
	struct registry_entry *e, *old;
	char v4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];
	size_t i;

	if (n->nlocal > PROTO_ADDRS_MAX || p->fqdn_len == 0)
		return -EINVAL;
	e = calloc(1, sizeof(*e) + n->nlocal * sizeof(e->local[0]) +
	    p->fqdn_len + 1);
	if (e == NULL)
		return -ENOMEM;
	memcpy(e->sid, p->sid, PROTO_ID_LEN);
	memcpy(e->key_rx, n->key_rx, PROTO_KEY_LEN);
	memcpy(e->key_tx, n->key_tx, PROTO_KEY_LEN);
	e->expires = now + r->lifetime;
	e->observed = n->observed;
	memcpy(e->vip4, p->vip4, 4);
	memcpy(e->vip6, p->vip6, 16);
	memcpy(e->serial, p->serial, p->serial_len);
	e->serial_len = p->serial_len;
	e->flags = p->flags & (REGISTRY_F_VIP4 | REGISTRY_F_VIP6);
	if (n->proven)
		e->flags |= REGISTRY_F_PROVEN;
	e->nlocal = (uint8_t)n->nlocal;
	e->flags |= REGISTRY_F_NAT;
	for (i = 0; i < n->nlocal; i++) {
		e->local[i] = n->local[i];
		if (n->local[i].family == n->observed.family &&
		    n->local[i].port == n->observed.port &&
		    memcmp(n->local[i].addr, n->observed.addr,
		    n->observed.family == PROTO_FAMILY_IPV4 ? 4 : 16) == 0)
			e->flags &= ~REGISTRY_F_NAT;
	}
	e->fqdn_len = p->fqdn_len;
	memcpy(entry_fqdn(e), p->fqdn, p->fqdn_len);
	entry_fqdn(e)[p->fqdn_len] = '\0';

	if ((old = registry_find_fqdn(r, p->fqdn, p->fqdn_len)) != NULL) {
		registry_remove(r, old);
		r->stats.replaced++;
	}
	rtable_insert(&r->sid, registry_hash(r, e->sid, PROTO_ID_LEN),
	    &e->by_sid);
	rtable_insert(&r->fqdn, registry_hash(r, p->fqdn, p->fqdn_len),
	    &e->by_fqdn);
	rtable_grow(r, &r->sid, hash_entry_sid);
	rtable_grow(r, &r->fqdn, hash_entry_fqdn);
	exp_append(r, e);
	r->stats.registered++;
	if (r->hooks.node_set != NULL &&
	    registry_vip_text(e, v4, sizeof(v4), v6, sizeof(v6)) == 0 &&
	    r->hooks.node_set(r->hooks.arg, entry_fqdn(e),
	    v4[0] != '\0' ? v4 : NULL, v6[0] != '\0' ? v6 : NULL) < 0)
		r->stats.zone_errors++;
	*out = e;
	return 0;
}

struct registry_entry *
registry_find_sid(const struct registry *r, const uint8_t sid[PROTO_ID_LEN])
{
	struct registry_link *l;
	uint64_t h = registry_hash(r, sid, PROTO_ID_LEN);

	for (l = r->sid.b[h & r->sid.mask]; l != NULL; l = l->next) {
		struct registry_entry *e = container_of(l,
		    struct registry_entry, by_sid);

		if (memcmp(e->sid, sid, PROTO_ID_LEN) == 0)
			return e;
	}
	return NULL;
}

struct registry_entry *
registry_find_fqdn(const struct registry *r, const char *fqdn, size_t len)
{
	struct registry_link *l;
	uint64_t h = registry_hash(r, fqdn, len);

	for (l = r->fqdn.b[h & r->fqdn.mask]; l != NULL; l = l->next) {
		struct registry_entry *e = container_of(l,
		    struct registry_entry, by_fqdn);

		if (e->fqdn_len == len && memcmp(entry_fqdn(e), fqdn, len) == 0)
			return e;
	}
	return NULL;
}

void
registry_refresh(struct registry *r, struct registry_entry *e, uint64_t now)
{
	e->expires = now + r->lifetime;
	exp_unlink(r, e);
	exp_append(r, e);
	if (e->cache.bytes != NULL &&
	    now >= e->cache.sent + REGISTRY_CACHE_MS) {
		free(e->cache.bytes);
		e->cache.bytes = NULL;
		e->cache.cap = e->cache.len = 0;
	}
}

void
registry_remove(struct registry *r, struct registry_entry *e)
{
	rtable_remove(&r->sid, registry_hash(r, e->sid, PROTO_ID_LEN),
	    &e->by_sid);
	rtable_remove(&r->fqdn, registry_hash(r, entry_fqdn(e), e->fqdn_len),
	    &e->by_fqdn);
	exp_unlink(r, e);
	entry_free(e);
}

int
registry_forget(struct registry *r, const char *fqdn)
{
	struct registry_entry *e;
	int rc = 0;

	if ((e = registry_find_fqdn(r, fqdn, strlen(fqdn))) != NULL)
		registry_remove(r, e);
	if (r->hooks.node_remove != NULL &&
	    (rc = r->hooks.node_remove(r->hooks.arg, fqdn)) < 0 &&
	    rc != -ENOENT)
		r->stats.zone_errors++;
	return e != NULL ? 0 : -ENOENT;
}

static void
pending_unlink(struct registry *r, struct registry_pending *p)
{
	rtable_remove(&r->psid, registry_hash(r, p->sid, PROTO_ID_LEN),
	    &p->by_sid);
	rtable_remove(&r->pticket, registry_hash(r, p->ticket_id, 16),
	    &p->by_ticket);
	*p->fifo_pprev = p->fifo_next;
	if (p->fifo_next != NULL)
		p->fifo_next->fifo_pprev = p->fifo_pprev;
	else
		r->fifo_tail = p->fifo_pprev;
}

void
registry_pending_remove(struct registry *r, struct registry_pending *p)
{
	pending_unlink(r, p);
	pending_free(p);
}

static size_t
pending_expire(struct registry *r, uint64_t now)
{
	size_t n = 0;

	/* Same lifetime for all, so the FIFO is in expiry order. */
	while (r->fifo_head != NULL &&
	    r->fifo_head->created + PROTO_TIMER_COOKIE <= now) {
		registry_pending_remove(r, r->fifo_head);
		r->stats.pending_expired++;
		n++;
	}
	return n;
}

int
registry_pending_add(struct registry *r, const struct registry_pending *in,
    struct registry_pending **out)
{
	struct registry_pending *p, *old;

	pending_expire(r, in->created);
	if ((old = registry_pending_find_ticket(r, in->ticket_id)) != NULL) {
		registry_pending_remove(r, old);
		r->stats.pending_replaced++;
	}
	if (r->psid.n >= REGISTRY_PENDING_MAX)
		return -ENOSPC;
	if ((p = malloc(sizeof(*p))) == NULL)
		return -ENOMEM;
	*p = *in;
	rtable_insert(&r->psid, registry_hash(r, p->sid, PROTO_ID_LEN),
	    &p->by_sid);
	rtable_insert(&r->pticket, registry_hash(r, p->ticket_id, 16),
	    &p->by_ticket);
	rtable_grow(r, &r->psid, hash_pending_sid);
	rtable_grow(r, &r->pticket, hash_pending_ticket);
	p->fifo_next = NULL;
	p->fifo_pprev = r->fifo_tail;
	*r->fifo_tail = p;
	r->fifo_tail = &p->fifo_next;
	*out = p;
	return 0;
}

struct registry_pending *
registry_pending_find_sid(const struct registry *r,
    const uint8_t sid[PROTO_ID_LEN])
{
	struct registry_link *l;
	uint64_t h = registry_hash(r, sid, PROTO_ID_LEN);

	for (l = r->psid.b[h & r->psid.mask]; l != NULL; l = l->next) {
		struct registry_pending *p = container_of(l,
		    struct registry_pending, by_sid);

		if (memcmp(p->sid, sid, PROTO_ID_LEN) == 0)
			return p;
	}
	return NULL;
}

struct registry_pending *
registry_pending_find_ticket(const struct registry *r,
    const uint8_t ticket_id[16])
{
	struct registry_link *l;
	uint64_t h = registry_hash(r, ticket_id, 16);

	for (l = r->pticket.b[h & r->pticket.mask]; l != NULL; l = l->next) {
		struct registry_pending *p = container_of(l,
		    struct registry_pending, by_ticket);

		if (memcmp(p->ticket_id, ticket_id, 16) == 0)
			return p;
	}
	return NULL;
}

size_t
registry_expire(struct registry *r, uint64_t now,
    void (*cb)(const struct registry_entry *, void *), void *arg)
{
	size_t n = 0;

	pending_expire(r, now);
	while (r->exp_head != NULL && r->exp_head->expires <= now) {
		struct registry_entry *e = r->exp_head;

		if (cb != NULL)
			cb(e, arg);
		registry_remove(r, e);
		r->stats.expired++;
		n++;
	}
	return n;
}

uint64_t
registry_next_expiry(const struct registry *r)
{
	uint64_t t = UINT64_MAX;

	if (r->exp_head != NULL)
		t = r->exp_head->expires;
	if (r->fifo_head != NULL &&
	    r->fifo_head->created + PROTO_TIMER_COOKIE < t)
		t = r->fifo_head->created + PROTO_TIMER_COOKIE;
	return t;
}
