/* relay.c -- the RS's pure core: path table, RELAY_DIRECTION, RS_HELLO/RS_COOKIE binding and forwarding decisions. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"
#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "msg.h"
#include "rand.h"
#include "relay.h"

/*
 * Sides are named by reference: path index * 2 + side (0 MN, 1 CN).  Both
 * hash tables chain through indexes stored in the entries, so the only
 * memory is the three arrays relay_new allocates.
 */
enum {
	RELAY_NIL = -1,
	RELAY_SIDE_MN = 0,
	RELAY_SIDE_CN = 1,
};

struct relay_side {
	uint32_t	 rid;
	int32_t		 next;		/* rid chain: next side ref */
	bool		 bound;
	bool		 have_expect;	/* the DC's observed address */
	bool		 hello_seen;	/* counter holds an accepted one */
	uint64_t	 counter;	/* last accepted hello counter */
	struct msg_addr	 expect;
	struct msg_addr	 addr;		/* bound address */
	struct aead	*key;
	uint8_t		 raw[PROTO_KEY_LEN];	/* to recognise a repeat */
};

struct relay_path {
	bool		 used;
	int32_t		 next;		/* path id chain, or the free list */
	uint8_t		 id[PROTO_ID_LEN];
	uint64_t	 deadline;	/* unbound allocation dropped then */
	uint64_t	 last_active;
	struct relay_side side[2];
};

struct relay {
	struct relay_config	 cfg;
	struct relay_path	*paths;
	size_t			 cap;
	size_t			 used;
	int32_t			 free_head;
	int32_t			*rid_bucket;
	uint32_t		 rid_mask;
	int32_t			*id_bucket;
	uint32_t		 id_mask;
	uint32_t		 seed;		/* hash seed */
	uint8_t			 secret[PROTO_KEY_LEN];	/* cookies */
	struct relay_stats	 stats;
};

static const char *const relay_drop_names[RELAY_DROP_COUNT] = {
	[RELAY_DROP_NONE] = "none",
	[RELAY_DROP_MALFORMED] = "malformed",
	[RELAY_DROP_TYPE] = "type",
	[RELAY_DROP_UNKNOWN] = "unknown-id",
	[RELAY_DROP_UNBOUND] = "unbound",
	[RELAY_DROP_SOURCE] = "source",
	[RELAY_DROP_AUTH] = "auth",
	[RELAY_DROP_REPLAY] = "replay",
	[RELAY_DROP_COOKIE] = "cookie",
};

const char *
relay_drop_name(enum relay_drop d)
{
	return (unsigned)d < RELAY_DROP_COUNT ? relay_drop_names[d] : "?";
}

static uint32_t
relay_pow2(size_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static uint32_t
relay_hash32(const struct relay *r, uint32_t v)
{
	v ^= r->seed;
	v *= 0x9e3779b1u;
	return v ^ (v >> 15);
}

static struct relay_side *
relay_side_ref(struct relay *r, int32_t ref)
{
	return &r->paths[ref / 2].side[ref % 2];
}

static int32_t
relay_rid_find(struct relay *r, uint32_t rid)
{
	int32_t ref;

	for (ref = r->rid_bucket[relay_hash32(r, rid) & r->rid_mask];
	    ref != RELAY_NIL; ref = relay_side_ref(r, ref)->next)
		if (relay_side_ref(r, ref)->rid == rid)
			return ref;
	return RELAY_NIL;
}

static uint32_t
relay_id_hash(const struct relay *r, const uint8_t id[PROTO_ID_LEN])
{
	return relay_hash32(r, load_be32(id) ^ load_be32(id + 12));
}

static int32_t
relay_id_find(struct relay *r, const uint8_t id[PROTO_ID_LEN])
{
	int32_t i;

	for (i = r->id_bucket[relay_id_hash(r, id) & r->id_mask];
	    i != RELAY_NIL; i = r->paths[i].next)
		if (memcmp(r->paths[i].id, id, PROTO_ID_LEN) == 0)
			return i;
	return RELAY_NIL;
}

static bool
relay_addr_equal(const struct msg_addr *a, const struct msg_addr *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	return memcmp(a->addr, b->addr, a->family == PROTO_FAMILY_IPV4 ? 4 :
	    16) == 0;
}

int
relay_new(struct relay **out, const struct relay_config *cfg,
    struct ntm_rng *rng)
{
	struct relay *r;
	size_t i;
	int rc;

	*out = NULL;
	if (cfg->naddr == 0 || cfg->naddr > RELAY_ADDRS_MAX ||
	    cfg->paths_max > RELAY_PATHS_MAX)
		return -EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	r->cfg = *cfg;
	if (r->cfg.paths_max == 0)
		r->cfg.paths_max = RELAY_PATHS_DEFAULT;
	if (r->cfg.idle_ms == 0)
		r->cfg.idle_ms = PROTO_TIMER_RS_IDLE;
	r->cap = r->cfg.paths_max;
	r->rid_mask = relay_pow2(r->cap * 2) - 1;
	r->id_mask = relay_pow2(r->cap) - 1;
	r->paths = calloc(r->cap, sizeof(*r->paths));
	r->rid_bucket = malloc(((size_t)r->rid_mask + 1) * sizeof(int32_t));
	r->id_bucket = malloc(((size_t)r->id_mask + 1) * sizeof(int32_t));
	if (r->paths == NULL || r->rid_bucket == NULL ||
	    r->id_bucket == NULL) {
		relay_free(r);
		return -ENOMEM;
	}
	if ((rc = rng_bytes(rng, r->secret, sizeof(r->secret))) < 0 ||
	    (rc = rng_bytes(rng, &r->seed, sizeof(r->seed))) < 0) {
		relay_free(r);
		return rc;
	}
	for (i = 0; i <= r->rid_mask; i++)
		r->rid_bucket[i] = RELAY_NIL;
	for (i = 0; i <= r->id_mask; i++)
		r->id_bucket[i] = RELAY_NIL;
	for (i = 0; i < r->cap; i++)
		r->paths[i].next = i + 1 < r->cap ? (int32_t)(i + 1) :
		    RELAY_NIL;
	r->free_head = 0;
	*out = r;
	return 0;
}

static void
relay_side_clear(struct relay_side *s)
{
	aead_free(s->key);
	crypto_wipe(s, sizeof(*s));
}

void
relay_free(struct relay *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->paths != NULL)
		for (i = 0; i < r->cap; i++)
			if (r->paths[i].used) {
				relay_side_clear(&r->paths[i].side[0]);
				relay_side_clear(&r->paths[i].side[1]);
			}
	free(r->paths);
	free(r->rid_bucket);
	free(r->id_bucket);
	crypto_wipe(r->secret, sizeof(r->secret));
	free(r);
}

static void
relay_rid_unlink(struct relay *r, int32_t ref)
{
	int32_t *pp = &r->rid_bucket[relay_hash32(r,
	    relay_side_ref(r, ref)->rid) & r->rid_mask];

	while (*pp != RELAY_NIL && *pp != ref)
		pp = &relay_side_ref(r, *pp)->next;
	if (*pp == ref)
		*pp = relay_side_ref(r, ref)->next;
}

static void
relay_path_remove(struct relay *r, int32_t i)
{
	struct relay_path *p = &r->paths[i];
	int32_t *pp = &r->id_bucket[relay_id_hash(r, p->id) & r->id_mask];

	while (*pp != RELAY_NIL && *pp != i)
		pp = &r->paths[*pp].next;
	if (*pp == i)
		*pp = p->next;
	relay_rid_unlink(r, i * 2 + RELAY_SIDE_MN);
	relay_rid_unlink(r, i * 2 + RELAY_SIDE_CN);
	relay_side_clear(&p->side[0]);
	relay_side_clear(&p->side[1]);
	memset(p, 0, sizeof(*p));
	p->next = r->free_head;
	r->free_head = i;
	r->used--;
}

/* ---- RELAY_DIRECTION (TLS) ----------------------------------------------- */

/* The fields of a RELAY_DIRECTION, borrowed from the decoded message. */
struct relay_req {
	const uint8_t	*path_id;
	uint32_t	 rid[2];
	const uint8_t	*key[2];
	bool		 have_addr[2];
	struct msg_addr	 addr[2];
	uint64_t	 expiry;
};

static int
relay_req_read(const struct msg *m, struct relay_req *q)
{
	static const uint16_t keys[2] = { PROTO_ATTR_BINDING_KEY,
	    PROTO_ATTR_PEER_BINDING_KEY };
	static const uint16_t addrs[2] = { PROTO_ATTR_OBSERVED_ADDR,
	    PROTO_ATTR_PEER_ADDR };
	const struct msg_attr *a;
	int i;

	memset(q, 0, sizeof(*q));
	if ((a = msg_attr_find(m, PROTO_ATTR_PATH_ID)) == NULL ||
	    a->len != PROTO_ID_LEN)
		return MSG_E_ATTR_MISSING;
	q->path_id = a->val;
	if (msg_attr_u32(m, PROTO_ATTR_RECV_ID, &q->rid[0]) < 0 ||
	    msg_attr_u32(m, PROTO_ATTR_PEER_RECV_ID, &q->rid[1]) < 0 ||
	    msg_attr_u64(m, PROTO_ATTR_EXPIRY, &q->expiry) < 0)
		return MSG_E_ATTR_MISSING;
	for (i = 0; i < 2; i++) {
		if ((a = msg_attr_find(m, keys[i])) == NULL ||
		    a->len != PROTO_KEY_LEN)
			return MSG_E_ATTR_MISSING;
		q->key[i] = a->val;
		if ((a = msg_attr_find(m, addrs[i])) != NULL) {
			if (msg_addr_parse(a, &q->addr[i]) < 0)
				return MSG_E_ATTR_VALUE;
			q->have_addr[i] = true;
		}
	}
	return 0;
}

/* Is path i exactly what q asks for (a DC sending it again)? */
static bool
relay_req_same(const struct relay_path *p, const struct relay_req *q)
{
	int i;

	for (i = 0; i < 2; i++)
		if (p->side[i].rid != q->rid[i] ||
		    !crypto_ct_equal(p->side[i].raw, q->key[i], PROTO_KEY_LEN))
			return false;
	return true;
}

static int
relay_path_add(struct relay *r, const struct relay_req *q, uint64_t now,
    uint64_t hold_s)
{
	struct relay_path *p;
	struct relay_side *s;
	uint32_t h;
	int32_t i;
	int k, rc;

	i = r->free_head;
	p = &r->paths[i];
	for (k = 0; k < 2; k++) {
		s = &p->side[k];
		if ((rc = aead_new(&s->key, AEAD_ALG_AES256GCM, q->key[k],
		    PROTO_KEY_LEN)) < 0) {
			relay_side_clear(&p->side[0]);
			relay_side_clear(&p->side[1]);
			return rc;
		}
	}
	r->free_head = p->next;
	p->used = true;
	memcpy(p->id, q->path_id, PROTO_ID_LEN);
	p->deadline = now + hold_s * 1000;
	p->last_active = now;
	h = relay_id_hash(r, p->id) & r->id_mask;
	p->next = r->id_bucket[h];
	r->id_bucket[h] = i;
	for (k = 0; k < 2; k++) {
		s = &p->side[k];
		s->rid = q->rid[k];
		memcpy(s->raw, q->key[k], PROTO_KEY_LEN);
		s->have_expect = q->have_addr[k];
		s->expect = q->addr[k];
		h = relay_hash32(r, s->rid) & r->rid_mask;
		s->next = r->rid_bucket[h];
		r->rid_bucket[h] = i * 2 + k;
	}
	r->used++;
	return 0;
}

static int
relay_answer(const struct relay *r, const struct msg_header *req,
    const uint8_t *path_id, uint8_t status, const char *text, uint8_t *out,
    size_t cap, size_t *outlen)
{
	struct msg a;
	size_t i;

	msg_init(&a, PROTO_MSG_RELAY_DIRECTION_ACK);
	a.hdr.status = status;
	a.hdr.txid = req->txid;
	memcpy(a.hdr.id, path_id != NULL ? path_id : req->id, PROTO_ID_LEN);
	if (path_id != NULL)
		(void)msg_add_bytes(&a, PROTO_ATTR_PATH_ID, path_id,
		    PROTO_ID_LEN);
	if (status == PROTO_STATUS_OK)
		for (i = 0; i < r->cfg.naddr; i++)
			(void)msg_add_addr(&a, PROTO_ATTR_RELAY_ADDR,
			    &r->cfg.addr[i]);
	else if (text != NULL)
		(void)msg_add_bytes(&a, PROTO_ATTR_ERROR_TEXT, text,
		    strlen(text));
	return msg_encode(&a, out, cap, outlen);
}

static void
relay_hex(const uint8_t *id, char out[2 * PROTO_ID_LEN + 1])
{
	size_t i;

	for (i = 0; i < PROTO_ID_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

int
relay_direction(struct relay *r, const uint8_t *p, size_t len, const char *dc,
    uint64_t now, time_t wall, uint8_t *out, size_t cap, size_t *outlen)
{
	struct msg_header h;
	struct relay_req q;
	struct rbuf b;
	struct msg *m;
	char idtext[2 * PROTO_ID_LEN + 1], why[64];
	int32_t i;
	uint8_t status = PROTO_STATUS_OK;
	const char *text = NULL;
	uint64_t hold;
	int rc;

	*outlen = 0;
	rbuf_init(&b, p, len);
	if ((rc = msg_header_decode(&b, &h)) < 0)
		return rc;
	if (rbuf_left(&b) != h.length)
		return MSG_E_TRAILING;
	if (h.type != PROTO_MSG_RELAY_DIRECTION ||
	    h.status != PROTO_STATUS_OK) {
		r->stats.refused_malformed++;
		return relay_answer(r, &h, NULL, PROTO_STATUS_MALFORMED,
		    "not a relay direction", out, cap, outlen);
	}
	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	if ((rc = msg_decode(p, len, m)) < 0 ||
	    (rc = relay_req_read(m, &q)) < 0) {
		free(m);
		r->stats.refused_malformed++;
		snprintf(why, sizeof(why), "%s", msg_strerror(rc));
		return relay_answer(r, &h, NULL, PROTO_STATUS_MALFORMED, why,
		    out, cap, outlen);
	}
	relay_hex(q.path_id, idtext);
	if ((i = relay_id_find(r, q.path_id)) != RELAY_NIL) {
		if (relay_req_same(&r->paths[i], &q)) {
			r->stats.directions_repeated++;
			log_debug("relay %s from %s: again, same answer",
			    idtext, dc);
		} else {
			status = PROTO_STATUS_REFUSED_POLICY;
			text = "path id in use";
		}
	} else if (q.rid[0] == q.rid[1] ||
	    relay_rid_find(r, q.rid[0]) != RELAY_NIL ||
	    relay_rid_find(r, q.rid[1]) != RELAY_NIL) {
		status = PROTO_STATUS_REFUSED_POLICY;
		text = "receiver id in use";
	} else if (q.expiry <= (uint64_t)wall) {
		status = PROTO_STATUS_EXPIRED;
		text = "expiry passed";
	} else if (r->free_head == RELAY_NIL) {
		status = PROTO_STATUS_UNAVAILABLE;
		text = "relay table full";
	} else {
		hold = q.expiry - (uint64_t)wall;
		if (hold > RELAY_EXPIRY_MAX_S)
			hold = RELAY_EXPIRY_MAX_S;
		if ((rc = relay_path_add(r, &q, now, hold)) < 0) {
			status = PROTO_STATUS_INTERNAL;
			text = "cannot make the keys";
		} else {
			r->stats.directions++;
			log_info("relay %s from %s: receivers %08x, %08x, "
			    "held %llus", idtext, dc, q.rid[0], q.rid[1],
			    (unsigned long long)hold);
		}
	}
	switch (status) {
	case PROTO_STATUS_OK:
		break;
	case PROTO_STATUS_REFUSED_POLICY:
		r->stats.refused_collision++;
		break;
	case PROTO_STATUS_EXPIRED:
		r->stats.refused_expired++;
		break;
	default:
		r->stats.refused_full++;
		break;
	}
	if (status != PROTO_STATUS_OK)
		log_info("relay %s from %s: refused: %s", idtext, dc, text);
	rc = relay_answer(r, &h, q.path_id, status, text, out, cap, outlen);
	free(m);
	return rc;
}

/* ---- UDP: hellos and forwarding ------------------------------------------ */

static void
relay_cookie_at(const struct relay *r, uint32_t rid,
    const struct msg_addr *from, uint64_t slot,
    uint8_t cookie[PROTO_RANDOM_LEN])
{
	uint8_t in[4 + 1 + 16 + 2 + 8];
	struct wbuf w;

	wbuf_init(&w, in, sizeof(in));
	wbuf_put_u32(&w, rid);
	wbuf_put_u8(&w, from->family);
	wbuf_put_bytes(&w, from->addr, from->family == PROTO_FAMILY_IPV4 ?
	    4 : 16);
	wbuf_put_u16(&w, from->port);
	wbuf_put_u64(&w, slot);
	crypto_hmac_sha256(cookie, r->secret, sizeof(r->secret), in,
	    wbuf_len(&w));
}

void
relay_cookie(const struct relay *r, uint32_t rid, const struct msg_addr *from,
    uint64_t now, uint8_t cookie[PROTO_RANDOM_LEN])
{
	relay_cookie_at(r, rid, from, now / RELAY_COOKIE_SLOT_MS, cookie);
}

/* This slot's cookie or the previous one's. */
static bool
relay_cookie_ok(const struct relay *r, uint32_t rid,
    const struct msg_addr *from, uint64_t now, const uint8_t *got)
{
	uint8_t want[PROTO_RANDOM_LEN];
	uint64_t slot = now / RELAY_COOKIE_SLOT_MS;
	bool ok;

	relay_cookie_at(r, rid, from, slot, want);
	ok = crypto_ct_equal(want, got, sizeof(want));
	if (!ok && slot > 0) {
		relay_cookie_at(r, rid, from, slot - 1, want);
		ok = crypto_ct_equal(want, got, sizeof(want));
	}
	crypto_wipe(want, sizeof(want));
	return ok;
}

static bool
relay_is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n-- > 0)
		acc |= *p++;
	return acc == 0;
}

static void
relay_drop(struct relay *r, struct relay_action *act, enum relay_drop why)
{
	act->verdict = RELAY_VERDICT_DROP;
	act->drop = why;
	r->stats.drops[why]++;
}

static void
relay_reply_cookie(struct relay *r, const struct msg_data *dh,
    const struct msg_addr *from, uint64_t now, struct relay_action *act)
{
	struct msg_data c = *dh;
	struct wbuf w;

	c.type = PROTO_MSG_RS_COOKIE;
	c.phase = 0;
	wbuf_init(&w, act->reply, sizeof(act->reply));
	if (msg_data_encode(&c, &w) < 0)
		return;
	relay_cookie(r, dh->rid, from, now, act->reply + wbuf_len(&w));
	act->reply_len = RELAY_COOKIE_LEN;
	act->verdict = RELAY_VERDICT_REPLY;
	act->to = *from;
	r->stats.cookies_sent++;
}

static void
relay_hello(struct relay *r, const uint8_t *p, const struct msg_data *dh,
    const uint8_t *body, const struct msg_addr *from, uint64_t now,
    struct relay_action *act)
{
	uint8_t nonce[PROTO_NONCE_LEN], none[1];
	struct relay_side *s;
	struct relay_path *path;
	int32_t ref;
	bool cookie_ok;

	r->stats.hellos++;
	if ((ref = relay_rid_find(r, dh->rid)) == RELAY_NIL) {
		relay_drop(r, act, RELAY_DROP_UNKNOWN);
		return;
	}
	s = relay_side_ref(r, ref);
	path = &r->paths[ref / 2];
	msg_data_nonce(dh, nonce);
	if (aead_open(s->key, nonce, p, PROTO_DATA_HEADER_LEN +
	    PROTO_RANDOM_LEN, body + PROTO_RANDOM_LEN, PROTO_TAG_LEN, none,
	    0) < 0) {
		relay_drop(r, act, RELAY_DROP_AUTH);
		return;
	}
	if (s->hello_seen && dh->counter <= s->counter) {
		relay_drop(r, act, RELAY_DROP_REPLAY);
		return;
	}
	if (s->bound && relay_addr_equal(from, &s->addr)) {
		r->stats.refreshes++;
	} else if (!s->bound && s->have_expect &&
	    relay_addr_equal(from, &s->expect)) {
		r->stats.binds++;
	} else if (relay_is_zero(body, PROTO_RANDOM_LEN)) {
		relay_reply_cookie(r, dh, from, now, act);
		return;
	} else if (!(cookie_ok = relay_cookie_ok(r, dh->rid, from, now,
	    body))) {
		relay_drop(r, act, RELAY_DROP_COOKIE);
		relay_reply_cookie(r, dh, from, now, act);
		return;
	} else if (s->bound) {
		r->stats.rebinds++;
	} else {
		r->stats.binds++;
		r->stats.binds_cookie++;
	}
	s->bound = true;
	s->addr = *from;
	s->hello_seen = true;
	s->counter = dh->counter;
	path->last_active = now;
	act->verdict = RELAY_VERDICT_ACCEPT;
	act->to = *from;
}

static void
relay_forward(struct relay *r, size_t len, const struct msg_addr *to,
    struct relay_path *path, uint64_t now, struct relay_action *act)
{
	act->verdict = RELAY_VERDICT_FORWARD;
	act->to = *to;
	path->last_active = now;
	r->stats.forwarded++;
	r->stats.forwarded_bytes += len;
}

/* DATA, TUNNEL_CONTROL: to the side the receiver id names. */
static void
relay_data(struct relay *r, size_t len, const struct msg_data *dh,
    const struct msg_addr *from, uint64_t now, struct relay_action *act)
{
	struct relay_side *dst, *src;
	int32_t ref;

	if ((ref = relay_rid_find(r, dh->rid)) == RELAY_NIL) {
		relay_drop(r, act, RELAY_DROP_UNKNOWN);
		return;
	}
	dst = relay_side_ref(r, ref);
	src = relay_side_ref(r, ref ^ 1);
	if (!dst->bound || !src->bound) {
		relay_drop(r, act, RELAY_DROP_UNBOUND);
		return;
	}
	if (!relay_addr_equal(from, &src->addr)) {
		relay_drop(r, act, RELAY_DROP_SOURCE);
		return;
	}
	relay_forward(r, len, &dst->addr, &r->paths[ref / 2], now, act);
}

/* TUNNEL_REQUEST, TUNNEL_RESPONSE: by path id, to the other side. */
static void
relay_tunnel(struct relay *r, const uint8_t *p, size_t len,
    const struct msg_addr *from, uint64_t now, struct relay_action *act)
{
	struct msg_header h;
	struct relay_path *path;
	struct rbuf b;
	int32_t i;

	rbuf_init(&b, p, len);
	if (msg_header_decode(&b, &h) < 0 || rbuf_left(&b) != h.length ||
	    len > PROTO_DATAGRAM_MAX) {
		relay_drop(r, act, RELAY_DROP_MALFORMED);
		return;
	}
	if ((i = relay_id_find(r, h.id)) == RELAY_NIL) {
		relay_drop(r, act, RELAY_DROP_UNKNOWN);
		return;
	}
	path = &r->paths[i];
	if (!path->side[0].bound || !path->side[1].bound) {
		relay_drop(r, act, RELAY_DROP_UNBOUND);
		return;
	}
	if (relay_addr_equal(from, &path->side[0].addr))
		relay_forward(r, len, &path->side[1].addr, path, now, act);
	else if (relay_addr_equal(from, &path->side[1].addr))
		relay_forward(r, len, &path->side[0].addr, path, now, act);
	else
		relay_drop(r, act, RELAY_DROP_SOURCE);
}

void
relay_input(struct relay *r, const uint8_t *p, size_t len,
    const struct msg_addr *from, uint64_t now, struct relay_action *act)
{
	struct msg_data dh;
	const uint8_t *body;
	size_t blen;

	act->verdict = RELAY_VERDICT_INVALID;
	act->drop = RELAY_DROP_NONE;
	act->reply_len = 0;
	if (len < 2) {
		relay_drop(r, act, RELAY_DROP_MALFORMED);
		return;
	}
	if (msg_type_is_data(p[1])) {
		if (msg_data_decode(p, len, &dh, &body, &blen) < 0) {
			relay_drop(r, act, RELAY_DROP_MALFORMED);
			return;
		}
		switch (dh.type) {
		case PROTO_MSG_RS_HELLO:
			relay_hello(r, p, &dh, body, from, now, act);
			return;
		case PROTO_MSG_DATA:
		case PROTO_MSG_TUNNEL_CONTROL:
			relay_data(r, len, &dh, from, now, act);
			return;
		default:
			relay_drop(r, act, RELAY_DROP_TYPE);
			return;
		}
	}
	if (p[1] == PROTO_MSG_TUNNEL_REQUEST ||
	    p[1] == PROTO_MSG_TUNNEL_RESPONSE) {
		relay_tunnel(r, p, len, from, now, act);
		return;
	}
	relay_drop(r, act, RELAY_DROP_TYPE);
}

size_t
relay_expire(struct relay *r, uint64_t now)
{
	struct relay_path *p;
	size_t i, n = 0;

	for (i = 0; i < r->cap; i++) {
		p = &r->paths[i];
		if (!p->used)
			continue;
		if (!p->side[0].bound && !p->side[1].bound) {
			if (now < p->deadline)
				continue;
			r->stats.expired_unbound++;
		} else {
			if (now - p->last_active < r->cfg.idle_ms ||
			    now < p->last_active)
				continue;
			r->stats.expired_idle++;
		}
		if (log_getlevel() >= LOG_LEVEL_DEBUG) {
			char idtext[2 * PROTO_ID_LEN + 1];

			relay_hex(p->id, idtext);
			log_debug("relay %s: %s, dropped", idtext,
			    p->side[0].bound || p->side[1].bound ? "idle" :
			    "never bound");
		}
		relay_path_remove(r, (int32_t)i);
		n++;
	}
	return n;
}

const struct relay_stats *
relay_stats(const struct relay *r)
{
	return &r->stats;
}

size_t
relay_paths(const struct relay *r)
{
	return r->used;
}

size_t
relay_paths_bound(const struct relay *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->cap; i++)
		if (r->paths[i].used && r->paths[i].side[0].bound &&
		    r->paths[i].side[1].bound)
			n++;
	return n;
}

size_t
relay_capacity(const struct relay *r)
{
	return r->cap;
}

int
relay_hello_build(const uint8_t key[PROTO_KEY_LEN], uint32_t rid,
    uint64_t counter, const uint8_t cookie[PROTO_RANDOM_LEN],
    uint8_t out[RELAY_HELLO_LEN])
{
	struct msg_data dh = { PROTO_VERSION_1, PROTO_MSG_RS_HELLO, 0, rid,
	    counter };
	uint8_t nonce[PROTO_NONCE_LEN];
	struct aead *a;
	struct wbuf w;
	int rc;

	wbuf_init(&w, out, RELAY_HELLO_LEN);
	if ((rc = msg_data_encode(&dh, &w)) < 0)
		return rc;
	if (cookie != NULL)
		memcpy(out + PROTO_DATA_HEADER_LEN, cookie, PROTO_RANDOM_LEN);
	else
		memset(out + PROTO_DATA_HEADER_LEN, 0, PROTO_RANDOM_LEN);
	if ((rc = aead_new(&a, AEAD_ALG_AES256GCM, key, PROTO_KEY_LEN)) < 0)
		return rc;
	msg_data_nonce(&dh, nonce);
	rc = aead_seal(a, nonce, out, PROTO_DATA_HEADER_LEN +
	    PROTO_RANDOM_LEN, NULL, 0, out + PROTO_DATA_HEADER_LEN +
	    PROTO_RANDOM_LEN, PROTO_TAG_LEN);
	aead_free(a);
	return rc;
}
