/* signal.c -- the DC's sans-I/O signalling core: datagram in, actions out (PROTOCOL.md 5, 7, 15). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aead.h"
#include "buf.h"
#include "crypto.h"
#include "frag.h"
#include "log.h"
#include "rand.h"
#include "route.h"
#include "signal.h"
#include "ticket.h"

/*
 * A direction between MN's DIRECTION_REQUEST and CN's NTM_ACK.  CN's Route
 * Direction is kept sealed (one datagram or its fragments, back to back),
 * so a retransmission is a byte-identical copy; MN's is kept encoded but
 * unsealed until it is sent (its sequence numbers are taken then).  With
 * federation, DC_MN's path first waits for CN's node information
 * (REMOTE_INFO: no path id yet, the request's fields kept), then for the
 * PEER_NTM_ACK (REMOTE_ACK: no CN here); DC_CN's path (HANDOFF) has no MN
 * here and reports to the asking DC by ref.  On punch and relay routes
 * DC_MN's path waits for the RS first (RELAY): the decision, the secrets
 * and both sides' fields are kept until the RELAY_DIRECTION_ACK gives the
 * RS addresses the Route Directions carry.
 */
enum signal_path_kind {
	SIGNAL_PATH_INVALID = 0,
	SIGNAL_PATH_LOCAL,
	SIGNAL_PATH_REMOTE_INFO,
	SIGNAL_PATH_REMOTE_ACK,
	SIGNAL_PATH_HANDOFF,
	SIGNAL_PATH_RELAY,
};

/* Secrets of one direction, wiped when the request is done. */
struct signal_keys {
	uint8_t		 path_id[PROTO_ID_LEN];
	uint8_t		 tunnel[PROTO_KEY_LEN];
	uint8_t		 temp[PROTO_KEY_LEN];
	uint8_t		 bind_mn[PROTO_KEY_LEN];
	uint8_t		 bind_cn[PROTO_KEY_LEN];
	uint32_t	 rid_mn, rid_cn, txid_cn;
};

struct signal_path {
	struct signal_path	*next, **pprev;	/* all paths; pprev NULL: unlinked */
	struct signal_path	*id_next;	/* bucket id_b of its path id */
	struct signal_path	*ref_next;	/* bucket ref_b of its ref */
	size_t			 id_b, ref_b;	/* as filed (id_b: SIZE_MAX, none) */
	size_t			 heap_i;	/* in signal's deadline heap */
	enum signal_path_kind	 kind;
	uint64_t		 ref;
	uint8_t			 id[PROTO_ID_LEN];
	uint8_t			 mn_sid[PROTO_ID_LEN];
	uint8_t			 cn_sid[PROTO_ID_LEN];
	uint32_t		 mn_txid;
	uint64_t		 mn_req_seq;
	uint64_t		 next_send;	/* ms: retransmit, or give up */
	uint64_t		 interval;
	unsigned		 sends;
	enum proto_route	 route;
	struct msg_addr		 cn_to;
	uint8_t			*cn_buf;	/* sealed datagrams */
	size_t			 cn_len;
	uint8_t			*mn_buf;	/* encoded, unsealed */
	size_t			 mn_len;
	/* REMOTE_INFO, RELAY: what the Direction Request said. */
	char			 cn[SIGNAL_FQDN_BUF];
	uint8_t			 kex;
	uint8_t			 mn_hash[PROTO_HASH_LEN];
	uint8_t			*mn_status;
	uint16_t		 mn_status_len;
	uint8_t			*offers;
	uint16_t		 offers_len;
	/* RELAY: the decision and CN as its Route Direction names it. */
	bool			 remote;	/* CN at another DC */
	unsigned		 relay_tries;
	time_t			 wall;		/* of the decision */
	struct route_decision	 d;
	struct signal_keys	 k;
	struct msg_addr		 mn_obs, cn_obs;
	uint8_t			 cn_hash[PROTO_HASH_LEN];
	uint8_t			 cn_serial[PROTO_SERIAL_MAX];
	uint16_t		 cn_serial_len;
	uint8_t			*cn_status;
	uint16_t		 cn_status_len;
	uint8_t			 cn_vip4[4], cn_vip6[16];
	bool			 cn_has4, cn_has6;
};

enum {
	SIGNAL_GIVE_UP_MS = 4000,	/* after the last send (PROTOCOL 5.5) */
	SIGNAL_PATH_BUCKETS = 2 * SIGNAL_PATHS_MAX,	/* a power of two */
};

struct signal {
	struct registry		*reg;
	struct ticket_keyring	 keys;
	struct ntm_rng		*rng;
	struct signal_hooks	 hooks;
	char			 zone[SIGNAL_FQDN_BUF];
	size_t			 zone_len;
	uint32_t		 lifetime_s;
	uint32_t		 keepalive_s;
	uint32_t		 punch_deadline;
	size_t			 nrelay;	/* RS the caller can ask */
	struct signal_path	*paths;
	size_t			 npaths;
	/*
	 * The paths by path id and by ref (chained, SIGNAL_PATH_BUCKETS
	 * each), and a binary min-heap of them by next_send, so an answer
	 * finds its path and the earliest deadline without walking them all.
	 */
	struct signal_path	**by_id;
	struct signal_path	**by_ref;
	struct signal_path	**heap;		/* SIGNAL_PATHS_MAX */
	struct frag_table	*frag;		/* node -> DC fragments */
	uint64_t		 next_ref;
	bool			 federation;
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
	s->punch_deadline = cfg->punch_deadline_ms;
	s->federation = cfg->federation;
	s->nrelay = cfg->nrelay;
	s->rng = rng;
	if (hooks != NULL)
		s->hooks = *hooks;
	ticket_keyring_init(&s->keys);
	s->by_id = calloc(SIGNAL_PATH_BUCKETS, sizeof(*s->by_id));
	s->by_ref = calloc(SIGNAL_PATH_BUCKETS, sizeof(*s->by_ref));
	s->heap = calloc(SIGNAL_PATHS_MAX, sizeof(*s->heap));
	if (s->by_id == NULL || s->by_ref == NULL || s->heap == NULL ||
	    (s->frag = malloc(sizeof(*s->frag))) == NULL) {
		free(s->by_id);
		free(s->by_ref);
		free(s->heap);
		free(s);
		return -ENOMEM;
	}
	frag_table_init(s->frag);
	if ((rc = registry_new(&s->reg, (uint64_t)s->lifetime_s * 1000,
	    hooks != NULL ? &hooks->zone : NULL, rng)) < 0) {
		free(s->frag);
		free(s->by_id);
		free(s->by_ref);
		free(s->heap);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static void
signal_path_free(struct signal_path *p)
{
	free(p->mn_status);
	free(p->offers);
	free(p->cn_status);
	if (p->cn_buf != NULL)
		crypto_wipe(p->cn_buf, p->cn_len);
	if (p->mn_buf != NULL)
		crypto_wipe(p->mn_buf, p->mn_len);
	free(p->cn_buf);
	free(p->mn_buf);
	crypto_wipe(p, sizeof(*p));
	free(p);
}

void
signal_free(struct signal *s)
{
	struct signal_path *p, *next;

	if (s == NULL)
		return;
	for (p = s->paths; p != NULL; p = next) {
		next = p->next;
		signal_path_free(p);
	}
	free(s->by_id);
	free(s->by_ref);
	free(s->heap);
	registry_free(s->reg);
	ticket_keyring_clear(&s->keys);
	if (s->frag != NULL)
		crypto_wipe(s->frag, sizeof(*s->frag));
	free(s->frag);
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

/*
 * Queues datagrams written back to back (each a common header and its
 * length, as signal_seal() makes them) for `to`; false, nothing queued,
 * when they do not all fit in out.
 */
static bool
signal_emit_all(struct signal *s, struct signal_out *out,
    const struct msg_addr *to, const uint8_t *p, size_t len)
{
	size_t off, n = 0, dlen;

	for (off = 0; off + PROTO_HEADER_LEN <= len; off += dlen, n++)
		dlen = PROTO_HEADER_LEN + load_be16(p + off + 4);
	if (off != len || out->nsend + n > SIGNAL_SENDS_MAX) {
		s->stats.drop_internal++;
		return false;
	}
	for (off = 0; off < len; off += dlen) {
		dlen = PROTO_HEADER_LEN + load_be16(p + off + 4);
		signal_emit(s, out, to, p + off, dlen);
	}
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
	    ctlen, buf + PROTO_HEADER_LEN,
	    PROTO_DATAGRAM_MAX - PROTO_HEADER_LEN);
	aead_free(a);
	if (rc < 0) {
		s->stats.drop_aead++;
		return -EBADMSG;
	}
	return msg_body_decode(&rx->h, buf + PROTO_HEADER_LEN,
	    ctlen - PROTO_TAG_LEN, m);
}

/*
 * Seals an encoded message in[len] (header || body || room for the tag)
 * under e's k_DC->N with e's next sequence numbers: one datagram, or, over
 * PROTO_DATAGRAM_MAX, 2..16 fragments (PROTOCOL.md 11), each sealed on its
 * own with the sub-header inside the ciphertext.  The datagrams are
 * written back to back into *sealed (the caller frees it).
 */
static int
signal_seal(struct signal *s, struct registry_entry *e, const uint8_t *in,
    size_t len, uint8_t **sealed, size_t *sealed_len)
{
	struct frag_piece piece[PROTO_FRAGMENTS_MAX];
	struct msg_header h;
	struct msg_frag f;
	struct aead *a = NULL;
	struct wbuf w;
	uint8_t nonce[PROTO_NONCE_LEN], *buf = NULL, *d;
	size_t blen, cap, off = 0, pt;
	unsigned count = 1, i;
	uint32_t msgid = 0;
	bool frag;
	int rc;

	*sealed = NULL;
	*sealed_len = 0;
	if (len < PROTO_HEADER_LEN + PROTO_TAG_LEN || len > SIGNAL_MSG_MAX)
		return -EINVAL;
	blen = len - PROTO_HEADER_LEN - PROTO_TAG_LEN;
	frag = len > PROTO_DATAGRAM_MAX;
	if (frag) {
		if ((rc = frag_split(blen, PROTO_DATAGRAM_MAX -
		    PROTO_HEADER_LEN - PROTO_FRAG_HEADER_LEN - PROTO_TAG_LEN,
		    piece, &count)) < 0)
			return rc;
		if (rng_bytes(s->rng, &msgid, sizeof(msgid)) < 0)
			return -EIO;
	} else {
		piece[0].off = 0;
		piece[0].len = blen;
	}
	cap = len + count * (PROTO_HEADER_LEN + PROTO_FRAG_HEADER_LEN +
	    PROTO_TAG_LEN);
	if ((buf = malloc(cap)) == NULL)
		return -ENOMEM;
	if (aead_new(&a, AEAD_ALG_AES256GCM, e->key_tx, PROTO_KEY_LEN) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	memset(&h, 0, sizeof(h));
	for (i = 0; i < count; i++) {
		d = buf + off;
		pt = (frag ? PROTO_FRAG_HEADER_LEN : 0) + piece[i].len;
		memcpy(d, in, PROTO_HEADER_LEN);
		if (frag)
			d[3] |= PROTO_F_FRAGMENT;
		store_be16(d + 4, (uint16_t)(pt + PROTO_TAG_LEN));
		h.type = in[1];
		h.seq = e->tx_seq + 1;
		store_be64(d + 12, h.seq);
		wbuf_init(&w, d + PROTO_HEADER_LEN, cap - off - PROTO_HEADER_LEN);
		if (frag) {
			f.msgid = msgid;
			f.index = (uint8_t)i;
			f.count = (uint8_t)count;
			f.payload = NULL;
			f.len = 0;
			msg_frag_encode(&f, &w);
		}
		wbuf_put_bytes(&w, in + PROTO_HEADER_LEN + piece[i].off,
		    piece[i].len);
		if ((rc = wbuf_error(&w)) < 0)
			goto fail;
		msg_nonce(&h, nonce);
		if ((rc = aead_seal(a, nonce, d, PROTO_HEADER_LEN,
		    d + PROTO_HEADER_LEN, pt, d + PROTO_HEADER_LEN,
		    cap - off - PROTO_HEADER_LEN)) < 0)
			goto fail;
		e->tx_seq++;
		off += PROTO_HEADER_LEN + pt + PROTO_TAG_LEN;
	}
	aead_free(a);
	if (frag) {
		s->stats.frag_out++;
		s->stats.frag_out_datagrams += count;
	}
	*sealed = buf;
	*sealed_len = off;
	return 0;
fail:
	aead_free(a);
	crypto_wipe(buf, cap);
	free(buf);
	return rc;
}

/*
 * Seals buf[len] (signal_seal), queues it for `to`, and caches it as the
 * answer to (req_type, req_seq) when cache is set.  With keep, the sealed
 * bytes go to *keep, *keep_len (the caller frees them) for retransmission.
 */
static int
signal_seal_emit(struct signal *s, struct registry_entry *e, const uint8_t *buf,
    size_t len, const struct msg_addr *to, bool cache, uint8_t req_type,
    uint64_t req_seq, uint64_t now, struct signal_out *out, uint8_t **keep,
    size_t *keep_len)
{
	uint8_t *sealed;
	size_t slen;
	int rc;

	if ((rc = signal_seal(s, e, buf, len, &sealed, &slen)) < 0)
		return rc;
	if (cache) {
		if (e->cache.cap < slen) {
			uint8_t *nb = realloc(e->cache.bytes, slen);

			if (nb == NULL) {
				free(sealed);
				return -ENOMEM;
			}
			e->cache.bytes = nb;
			e->cache.cap = slen;
		}
		memcpy(e->cache.bytes, sealed, slen);
		e->cache.len = slen;
		e->cache.req_seq = req_seq;
		e->cache.req_type = req_type;
		e->cache.sent = now;
	}
	(void)signal_emit_all(s, out, to, sealed, slen);
	if (keep != NULL) {
		*keep = sealed;
		*keep_len = slen;
	} else
		free(sealed);
	return 0;
}

/*
 * Encodes and seals answer m to the request in rx (same transaction id,
 * header id = the session id unless m has one set) and caches it.
 * limit: most bytes allowed (0: none).  Returns 0, -EMSGSIZE when over the
 * limit (nothing sent, no sequence number used), or another negative errno.
 */
static int
signal_answer(struct signal *s, struct registry_entry *e,
    const struct signal_rx *rx, struct msg *m, size_t limit,
    struct signal_out *out)
{
	static const uint8_t zero[PROTO_ID_LEN];
	uint8_t buf[PROTO_DATAGRAM_MAX];
	size_t len;
	int rc;

	m->hdr.txid = rx->h.txid;
	if (memcmp(m->hdr.id, zero, PROTO_ID_LEN) == 0)
		memcpy(m->hdr.id, e->sid, PROTO_ID_LEN);
	if ((rc = msg_encode(m, buf, sizeof(buf), &len)) < 0)
		return rc;
	if (limit != 0 && len > limit)
		return -EMSGSIZE;
	return signal_seal_emit(s, e, buf, len, rx->from, true, rx->h.type,
	    rx->h.seq, rx->now, out, NULL, NULL);
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
	uint8_t buf[PROTO_DATAGRAM_MAX];
	uint8_t k_rx[PROTO_KEY_LEN], k_tx[PROTO_KEY_LEN];
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

/* An error answer to MN's DIRECTION_REQUEST, now or after CN answered. */
static void
signal_direction_error(struct signal *s, struct registry_entry *mn,
    uint32_t txid, uint64_t req_seq, uint8_t status, uint64_t now,
    struct signal_out *out)
{
	struct msg m;
	uint8_t buf[PROTO_DATAGRAM_MAX];
	size_t len;

	s->stats.directions_refused++;
	msg_init(&m, PROTO_MSG_ROUTE_DIRECTION);
	m.hdr.status = status;
	m.hdr.txid = txid;
	memcpy(m.hdr.id, mn->sid, PROTO_ID_LEN);
	if (msg_encode(&m, buf, sizeof(buf), &len) < 0 ||
	    signal_seal_emit(s, mn, buf, len, &mn->observed, true,
	    PROTO_MSG_DIRECTION_REQUEST, req_seq, now, out, NULL, NULL) < 0)
		s->stats.drop_internal++;
}

/* An error answer to the request in rx, within the amplification limit. */
static void
signal_direction_refuse(struct signal *s, struct registry_entry *mn,
    const struct signal_rx *rx, uint8_t status, struct signal_out *out)
{
	struct msg m;
	int rc;

	s->stats.directions_refused++;
	msg_init(&m, PROTO_MSG_ROUTE_DIRECTION);
	m.hdr.status = status;
	rc = signal_answer(s, mn, rx, &m, signal_limit(mn, rx), out);
	if (rc == -EMSGSIZE)
		s->stats.drop_amplification++;
	else if (rc < 0)
		s->stats.drop_internal++;
}

static void
signal_route_node(const struct registry_entry *e, struct route_node *n)
{
	memset(n, 0, sizeof(*n));
	n->nlocal = e->nlocal;
	memcpy(n->local, e->local, e->nlocal * sizeof(e->local[0]));
	n->observed = e->observed;
}

/* A random receiver id: non-zero and not `other`. */
static int
signal_recv_id(struct signal *s, uint32_t other, uint32_t *id)
{
	do {
		if (rng_bytes(s->rng, id, sizeof(*id)) < 0)
			return -EIO;
	} while (*id == 0 || *id == other);
	return 0;
}

/* The other node of a Route Direction as its recipient learns it. */
struct signal_peer {
	const char	*fqdn;
	size_t		 len;
	const uint8_t	*vip4;		/* or NULL */
	const uint8_t	*vip6;
	const uint8_t	*hash;		/* PROTO_HASH_LEN */
	struct msg_attr	 serial;	/* PEER_SERIAL */
	struct msg_attr	 status;	/* PEER_STATUS */
};

static void
signal_peer_of(const struct registry_entry *e, struct signal_peer *pe)
{
	memset(pe, 0, sizeof(*pe));
	pe->fqdn = registry_entry_fqdn(e);
	pe->len = e->fqdn_len;
	pe->vip4 = (e->flags & REGISTRY_F_VIP4) ? e->vip4 : NULL;
	pe->vip6 = (e->flags & REGISTRY_F_VIP6) ? e->vip6 : NULL;
	pe->serial.type = PROTO_ATTR_PEER_SERIAL;
	pe->serial.val = e->serial;
	pe->serial.len = (uint16_t)e->serial_len;
	pe->status.type = PROTO_ATTR_PEER_STATUS;
}

/*
 * Encodes a sealed UDP type's message (header with sequence number 0, the
 * attributes, room for the tag) into buf[cap] whatever its size up to
 * SIGNAL_MSG_MAX: msg_encode() stops at one datagram, and signal_seal()
 * fragments what is larger.
 */
static int
signal_encode(const struct msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	struct msg_header h;
	struct wbuf w;
	size_t i, body = PROTO_TAG_LEN, off;
	int rc;

	if ((rc = msg_validate(m)) < 0)
		return rc;
	for (i = 0; i < m->nattr; i++)
		body += PROTO_ATTR_HEADER_LEN + m->attr[i].len;
	if (PROTO_HEADER_LEN + body > SIGNAL_MSG_MAX)
		return MSG_E_TOO_BIG;
	h = m->hdr;
	h.length = (uint16_t)body;
	wbuf_init(&w, buf, cap);
	if ((rc = msg_header_encode(&h, &w)) < 0)
		return rc;
	(void)msg_attrs_encode(m, &w);
	if ((off = wbuf_reserve(&w, PROTO_TAG_LEN)) != (size_t)-1)
		memset(w.p + off, 0, PROTO_TAG_LEN);
	if ((rc = wbuf_error(&w)) < 0)
		return rc;
	*len = wbuf_len(&w);
	return 0;
}

/*
 * Encodes one side's ROUTE_DIRECTION (header with sequence number 0 and
 * room for the tag) into buf[cap].  `to_mn` picks the side.  With
 * handoff_fqdn, CN's side is a ROUTE_HANDOFF for that CN instead.  On
 * punch and relay routes relay[nrelay] are the RS's addresses and each
 * side gets its own binding key.
 */
static int
signal_route_encode(const struct signal_keys *k,
    const struct route_decision *d, bool to_mn, const struct signal_peer *pe,
    const struct msg_attr *offers, uint8_t kex, time_t wall, uint32_t txid,
    const char *handoff_fqdn, const struct msg_addr *relay, size_t nrelay,
    uint8_t *buf, size_t cap, size_t *len)
{
	struct msg m;
	struct msg_route r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.path_id = k->path_id;
	r.route = (uint8_t)d->route;
	if (to_mn)
		r.role = (uint8_t)d->mn_role;
	else
		r.role = d->mn_role == PROTO_ROLE_INITIATOR ?
		    PROTO_ROLE_RESPONDER : PROTO_ROLE_INITIATOR;
	r.kex = kex;
	r.expiry = (uint64_t)wall + PROTO_TIMER_ROUTE_EXPIRY / 1000;
	r.peer_fqdn = (const uint8_t *)pe->fqdn;
	r.peer_fqdn_len = pe->len;
	r.peer_vip4 = pe->vip4;
	r.peer_vip6 = pe->vip6;
	if (to_mn) {
		r.npeer_addr = d->nto_mn;
		memcpy(r.peer_addr, d->to_mn, sizeof(r.peer_addr));
		r.recv_id = k->rid_mn;
		r.peer_recv_id = k->rid_cn;
		r.binding_key = d->relay ? k->bind_mn : NULL;
	} else {
		r.npeer_addr = d->nto_cn;
		memcpy(r.peer_addr, d->to_cn, sizeof(r.peer_addr));
		r.recv_id = k->rid_cn;
		r.peer_recv_id = k->rid_mn;
		r.binding_key = d->relay ? k->bind_cn : NULL;
		r.aead_offers = offers;
	}
	if (d->relay) {
		r.nrelay_addr = nrelay < SIGNAL_RELAYS_MAX ? nrelay :
		    SIGNAL_RELAYS_MAX;
		memcpy(r.relay_addr, relay, r.nrelay_addr *
		    sizeof(r.relay_addr[0]));
	}
	r.tunnel_key = k->tunnel;
	r.temp_key = k->temp;
	r.peer_cert_hash = pe->hash;
	r.peer_serial = &pe->serial;
	r.peer_status = &pe->status;
	r.punch_deadline = d->punch_deadline;
	if (handoff_fqdn != NULL) {
		r.fqdn = (const uint8_t *)handoff_fqdn;
		r.fqdn_len = strlen(handoff_fqdn);
	}
	msg_init(&m, handoff_fqdn != NULL ? PROTO_MSG_ROUTE_HANDOFF :
	    PROTO_MSG_ROUTE_DIRECTION);
	m.hdr.txid = txid;
	memcpy(m.hdr.id, k->path_id, PROTO_ID_LEN);
	if ((rc = msg_route_write(&m, &r)) == 0)
		rc = handoff_fqdn != NULL ? msg_encode(&m, buf, cap, len) :
		    signal_encode(&m, buf, cap, len);
	crypto_wipe(&m, sizeof(m));
	return rc;
}

/* MN's Direction Request, as kept while its CN is looked for. */
struct signal_req {
	uint32_t		 txid;
	uint64_t		 seq;
	uint8_t			 kex;
	const uint8_t		*hash;		/* MN's, PROTO_HASH_LEN */
	struct msg_attr		 status;	/* MN's, as PEER_STATUS */
	const struct msg_attr	*offers;	/* or NULL */
};

/* Path ids are random: their first bytes serve as the hash. */
static size_t
signal_id_bucket(const uint8_t id[PROTO_ID_LEN])
{
	uint64_t h;

	memcpy(&h, id, sizeof(h));
	return (size_t)(h & (SIGNAL_PATH_BUCKETS - 1));
}

static size_t
signal_ref_bucket(uint64_t ref)
{
	return (size_t)((ref * 0x9e3779b97f4a7c15ULL) >> 32) &
	    (SIGNAL_PATH_BUCKETS - 1);
}

static void
signal_heap_set(struct signal *s, size_t i, struct signal_path *p)
{
	s->heap[i] = p;
	p->heap_i = i;
}

/* Moves heap entry i up or down until the heap order holds again. */
static void
signal_heap_fix(struct signal *s, size_t i)
{
	struct signal_path *p = s->heap[i];
	size_t n = s->npaths, c;

	while (i > 0 && p->next_send < s->heap[(i - 1) / 2]->next_send) {
		signal_heap_set(s, i, s->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && s->heap[c + 1]->next_send <
		    s->heap[c]->next_send)
			c++;
		if (s->heap[c]->next_send >= p->next_send)
			break;
		signal_heap_set(s, i, s->heap[c]);
		i = c;
	}
	signal_heap_set(s, i, p);
}

/* Files p under its current path id (when set) and ref. */
static void
signal_path_index(struct signal *s, struct signal_path *p)
{
	static const uint8_t unset[PROTO_ID_LEN];
	size_t b;

	p->id_next = p->ref_next = NULL;
	p->id_b = SIZE_MAX;
	if (memcmp(p->id, unset, PROTO_ID_LEN) != 0) {
		b = p->id_b = signal_id_bucket(p->id);
		p->id_next = s->by_id[b];
		s->by_id[b] = p;
	}
	b = p->ref_b = signal_ref_bucket(p->ref);
	p->ref_next = s->by_ref[b];
	s->by_ref[b] = p;
}

static void
signal_path_unindex(struct signal *s, struct signal_path *p)
{
	struct signal_path **q;

	if (p->id_b != SIZE_MAX)
		for (q = &s->by_id[p->id_b]; *q != NULL; q = &(*q)->id_next)
			if (*q == p) {
				*q = p->id_next;
				break;
			}
	for (q = &s->by_ref[p->ref_b]; *q != NULL; q = &(*q)->ref_next)
		if (*q == p) {
			*q = p->ref_next;
			break;
		}
}

/*
 * Links p (not yet linked) into the list, the indexes and the heap.
 * -ENOSPC when SIGNAL_PATHS_MAX are waiting (the callers check first).
 */
static int
signal_path_link(struct signal *s, struct signal_path *p)
{
	if (s->npaths >= SIGNAL_PATHS_MAX)
		return -ENOSPC;
	if ((p->next = s->paths) != NULL)
		p->next->pprev = &p->next;
	s->paths = p;
	p->pprev = &s->paths;
	signal_path_index(s, p);
	s->heap[s->npaths] = p;
	p->heap_i = s->npaths;
	s->npaths++;
	signal_heap_fix(s, p->heap_i);
	return 0;
}

/*
 * After a linked path's id, ref or next_send changed: filed again under
 * them.  Does nothing for a path not linked yet.
 */
static void
signal_path_touch(struct signal *s, struct signal_path *p)
{
	if (p->pprev == NULL)
		return;
	signal_path_unindex(s, p);
	signal_path_index(s, p);
	signal_heap_fix(s, p->heap_i);
}

/* Keeps what MN's request said in p (REMOTE_INFO, RELAY); 0 or -ENOMEM. */
static int
signal_path_keep_req(struct signal_path *p, const struct signal_req *q)
{
	if (p->mn_status != NULL)
		return 0;		/* kept already */
	p->mn_txid = q->txid;
	p->mn_req_seq = q->seq;
	p->kex = q->kex;
	memcpy(p->mn_hash, q->hash, PROTO_HASH_LEN);
	if ((p->mn_status = malloc(q->status.len)) == NULL ||
	    (q->offers != NULL && (p->offers = malloc(q->offers->len)) ==
	    NULL))
		return -ENOMEM;
	memcpy(p->mn_status, q->status.val, q->status.len);
	p->mn_status_len = q->status.len;
	if (q->offers != NULL) {
		memcpy(p->offers, q->offers->val, q->offers->len);
		p->offers_len = q->offers->len;
	}
	return 0;
}

/* The request kept in p, as signal_req (borrowing p and *offers). */
static void
signal_path_req(const struct signal_path *p, struct signal_req *q,
    struct msg_attr *offers)
{
	memset(q, 0, sizeof(*q));
	q->txid = p->mn_txid;
	q->seq = p->mn_req_seq;
	q->kex = p->kex;
	q->hash = p->mn_hash;
	q->status.type = PROTO_ATTR_PEER_STATUS;
	q->status.val = p->mn_status;
	q->status.len = p->mn_status_len;
	if (p->offers != NULL) {
		memset(offers, 0, sizeof(*offers));
		offers->type = PROTO_ATTR_AEAD_OFFERS;
		offers->val = p->offers;
		offers->len = p->offers_len;
		q->offers = offers;
	}
}

/* Keeps CN as MN's Route Direction will name it (RELAY). */
static int
signal_path_keep_cn(struct signal_path *p, const struct signal_peer *pe)
{
	if (pe->len >= sizeof(p->cn) || pe->serial.len > PROTO_SERIAL_MAX ||
	    pe->hash == NULL)
		return -EINVAL;
	memmove(p->cn, pe->fqdn, pe->len);	/* may be p->cn itself */
	p->cn[pe->len] = '\0';
	if ((p->cn_has4 = pe->vip4 != NULL))
		memcpy(p->cn_vip4, pe->vip4, 4);
	if ((p->cn_has6 = pe->vip6 != NULL))
		memcpy(p->cn_vip6, pe->vip6, 16);
	memcpy(p->cn_hash, pe->hash, PROTO_HASH_LEN);
	memcpy(p->cn_serial, pe->serial.val, pe->serial.len);
	p->cn_serial_len = pe->serial.len;
	if ((p->cn_status = malloc(pe->status.len > 0 ? pe->status.len :
	    1)) == NULL)
		return -ENOMEM;
	memcpy(p->cn_status, pe->status.val, pe->status.len);
	p->cn_status_len = pe->status.len;
	return 0;
}

static void
signal_path_cn(const struct signal_path *p, struct signal_peer *pe)
{
	memset(pe, 0, sizeof(*pe));
	pe->fqdn = p->cn;
	pe->len = strlen(p->cn);
	pe->vip4 = p->cn_has4 ? p->cn_vip4 : NULL;
	pe->vip6 = p->cn_has6 ? p->cn_vip6 : NULL;
	pe->hash = p->cn_hash;
	pe->serial.type = PROTO_ATTR_PEER_SERIAL;
	pe->serial.val = p->cn_serial;
	pe->serial.len = p->cn_serial_len;
	pe->status.type = PROTO_ATTR_PEER_STATUS;
	pe->status.val = p->cn_status;
	pe->status.len = p->cn_status_len;
}

/*
 * Route decision, path id, keys, receiver ids (and binding keys on punch
 * and relay).  Returns PROTO_STATUS_OK or the status to answer MN with.
 */
static uint8_t
signal_route_prepare(struct signal *s, struct registry_entry *mn,
    const struct route_node *rn_cn, struct route_decision *d,
    struct signal_keys *k)
{
	struct route_node rn_mn;

	memset(k, 0, sizeof(*k));
	signal_route_node(mn, &rn_mn);
	if (route_decide(&rn_mn, rn_cn, s->punch_deadline, d) < 0)
		return PROTO_STATUS_INTERNAL;
	if (d->relay && s->nrelay == 0) {
		s->stats.relay_no_rs++;
		return PROTO_STATUS_UNAVAILABLE;	/* no RS configured */
	}
	if (rng_bytes(s->rng, k->path_id, sizeof(k->path_id)) < 0 ||
	    rng_bytes(s->rng, k->tunnel, sizeof(k->tunnel)) < 0 ||
	    rng_bytes(s->rng, k->temp, sizeof(k->temp)) < 0 ||
	    rng_bytes(s->rng, &k->txid_cn, sizeof(k->txid_cn)) < 0 ||
	    signal_recv_id(s, 0, &k->rid_mn) < 0 ||
	    signal_recv_id(s, k->rid_mn, &k->rid_cn) < 0 ||
	    (d->relay && (rng_bytes(s->rng, k->bind_mn,
	    sizeof(k->bind_mn)) < 0 || rng_bytes(s->rng, k->bind_cn,
	    sizeof(k->bind_cn)) < 0))) {
		s->stats.drop_internal++;
		return PROTO_STATUS_INTERNAL;
	}
	return PROTO_STATUS_OK;
}

/*
 * Encodes both Route Directions: MN's into p->mn_buf, CN's into *cn_enc
 * (unsealed; the caller frees it) or, with fed, the ROUTE_HANDOFF for CN's
 * DC into fed->buf.  Returns PROTO_STATUS_OK or MN's status.
 */
static uint8_t
signal_route_build(struct signal *s, struct registry_entry *mn,
    const struct signal_req *q, const struct signal_peer *cnp,
    const struct route_decision *d, const struct signal_keys *k,
    const struct msg_addr *relay, size_t nrelay, time_t wall,
    struct signal_path *p, struct signal_fed *fed, uint8_t **cn_enc,
    size_t *cn_len)
{
	struct signal_peer mnp;
	uint8_t *buf;
	size_t len = 0;
	int rc;

	signal_peer_of(mn, &mnp);
	mnp.hash = q->hash;
	mnp.status = q->status;
	if ((buf = malloc(SIGNAL_MSG_MAX)) == NULL)
		return PROTO_STATUS_INTERNAL;
	if (fed == NULL) {
		rc = signal_route_encode(k, d, false, &mnp, q->offers, q->kex,
		    wall, k->txid_cn, NULL, relay, nrelay, buf, SIGNAL_MSG_MAX,
		    &len);
		if (rc == 0 && (*cn_enc = malloc(len)) == NULL)
			rc = -ENOMEM;
		if (rc == 0) {
			memcpy(*cn_enc, buf, len);
			*cn_len = len;
		}
	} else
		rc = signal_route_encode(k, d, false, &mnp, q->offers, q->kex,
		    wall, 0, cnp->fqdn, relay, nrelay, fed->buf,
		    sizeof(fed->buf), &fed->len);
	if (rc == 0)
		rc = signal_route_encode(k, d, true, cnp, NULL, q->kex, wall,
		    q->txid, NULL, relay, nrelay, buf, SIGNAL_MSG_MAX, &len);
	if (rc == 0) {
		free(p->mn_buf);
		if ((p->mn_buf = malloc(len)) == NULL)
			rc = -ENOMEM;
		else {
			memcpy(p->mn_buf, buf, len);
			p->mn_len = len;
		}
	}
	crypto_wipe(buf, SIGNAL_MSG_MAX);
	free(buf);
	if (rc < 0) {
		if (fed == NULL && *cn_enc != NULL) {
			crypto_wipe(*cn_enc, *cn_len);
			free(*cn_enc);
			*cn_enc = NULL;
		}
		return rc == MSG_E_TOO_BIG || rc == -ENOSPC ?
		    PROTO_STATUS_TOO_LARGE : PROTO_STATUS_INTERNAL;
	}
	memcpy(p->id, k->path_id, PROTO_ID_LEN);
	p->route = d->route;
	p->mn_txid = q->txid;
	p->mn_req_seq = q->seq;
	return PROTO_STATUS_OK;
}

/* The next federation action of out; NULL (counted) when out is full. */
static struct signal_fed *
signal_fed_next(struct signal *s, struct signal_out *out,
    enum signal_fed_kind kind, uint64_t ref)
{
	struct signal_fed *f;

	if (out->nfed >= SIGNAL_FED_MAX) {
		s->stats.drop_internal++;
		return NULL;
	}
	f = &out->fed[out->nfed];
	memset(f, 0, offsetof(struct signal_fed, buf));
	f->kind = kind;
	f->ref = ref;
	return f;
}

/* DC_CN: PEER_NTM_ACK with CN's answer (or ours) for the asking DC. */
static void
signal_peer_ack(struct signal *s, uint64_t ref, const uint8_t *path_id,
    uint8_t status, struct signal_out *out)
{
	struct signal_fed *f;
	struct msg m;

	if ((f = signal_fed_next(s, out, SIGNAL_FED_PEER_ACK, ref)) == NULL)
		return;
	msg_init(&m, PROTO_MSG_PEER_NTM_ACK);
	m.hdr.status = status;
	memcpy(m.hdr.id, path_id, PROTO_ID_LEN);
	if (msg_add_bytes(&m, PROTO_ATTR_PATH_ID, path_id, PROTO_ID_LEN) < 0 ||
	    msg_encode(&m, f->buf, sizeof(f->buf), &f->len) < 0) {
		s->stats.drop_internal++;
		return;
	}
	out->nfed++;
}

/* The RELAY_DIRECTION of a RELAY path into out. */
static void
signal_relay_emit(struct signal *s, const struct signal_path *p,
    struct signal_out *out)
{
	struct signal_relay *rl = &out->relay[0];

	memset(rl, 0, sizeof(*rl));
	rl->ref = p->ref;
	memcpy(rl->path_id, p->k.path_id, PROTO_ID_LEN);
	rl->recv_id = p->k.rid_mn;
	rl->peer_recv_id = p->k.rid_cn;
	memcpy(rl->binding_key, p->k.bind_mn, PROTO_KEY_LEN);
	memcpy(rl->peer_binding_key, p->k.bind_cn, PROTO_KEY_LEN);
	rl->observed = p->mn_obs;
	rl->peer_addr = p->cn_obs;
	rl->expiry = (uint64_t)p->wall + PROTO_TIMER_ROUTE_EXPIRY / 1000;
	out->nrelay = 1;
	s->stats.relay_asks++;
}

/*
 * The Route Directions of p are built (relay[nrelay]: the RS's addresses
 * on punch and relay routes): one DC, CN's goes out now and is
 * retransmitted until its NTM_ACK (LOCAL); two DCs, the ROUTE_HANDOFF
 * goes to CN's DC (REMOTE_ACK).  p is linked or not; the caller links it
 * on success.  Returns PROTO_STATUS_OK or MN's status.
 */
static uint8_t
signal_path_send(struct signal *s, struct signal_path *p,
    struct registry_entry *mn, const struct signal_req *q,
    const struct signal_peer *cnp, const struct route_decision *d,
    const struct signal_keys *k, const struct msg_addr *relay,
    size_t nrelay, time_t wall, uint64_t now, struct signal_out *out)
{
	struct registry_entry *cn = NULL;
	struct signal_fed *f = NULL;
	uint8_t *cn_enc = NULL;
	size_t cn_len = 0;
	char text[80];
	uint8_t st;
	int rc;

	if (p->remote) {
		if (out->nfed >= SIGNAL_FED_MAX)
			return PROTO_STATUS_INTERNAL;
		f = &out->fed[out->nfed];
		memset(f, 0, offsetof(struct signal_fed, buf));
	} else if ((cn = registry_find_sid(s->reg, p->cn_sid)) == NULL ||
	    now >= cn->expires)
		return PROTO_STATUS_NOT_REGISTERED;
	st = signal_route_build(s, mn, q, cnp, d, k, relay, nrelay, wall, p,
	    f, &cn_enc, &cn_len);
	if (st != PROTO_STATUS_OK)
		return st;
	if (p->remote) {
		f->kind = SIGNAL_FED_HANDOFF;
		f->ref = p->ref;
		snprintf(f->mn, sizeof(f->mn), "%s", registry_entry_fqdn(mn));
		snprintf(f->cn, sizeof(f->cn), "%s", p->cn);
		f->kex = p->kex;
		out->nfed++;
		s->stats.remote_handoffs++;
		p->kind = SIGNAL_PATH_REMOTE_ACK;
		p->next_send = now + SIGNAL_REMOTE_MS;
		log_debug("signal: direction %s -> %s: %s route, handed to "
		    "its DC", registry_entry_fqdn(mn), p->cn,
		    route_name(p->route));
		return PROTO_STATUS_OK;
	}
	/* CN first (DESIGN.md 4); MN hears only after CN's NTM_ACK. */
	p->kind = SIGNAL_PATH_LOCAL;
	memcpy(p->cn_sid, cn->sid, PROTO_ID_LEN);
	p->cn_to = cn->observed;
	free(p->cn_buf);
	p->cn_buf = NULL;
	rc = signal_seal_emit(s, cn, cn_enc, cn_len, &p->cn_to, false, 0, 0,
	    now, out, &p->cn_buf, &p->cn_len);
	crypto_wipe(cn_enc, cn_len);
	free(cn_enc);
	if (rc < 0) {
		s->stats.drop_internal++;
		return PROTO_STATUS_INTERNAL;
	}
	p->sends = 1;
	p->interval = PROTO_TIMER_RETRANSMIT;
	p->next_send = now + p->interval;
	log_debug("signal: direction %s -> %s: %s route, CN at %s",
	    registry_entry_fqdn(mn), registry_entry_fqdn(cn),
	    route_name(p->route), signal_addr_text(&p->cn_to, text,
	    sizeof(text)));
	return PROTO_STATUS_OK;
}

/*
 * Decides the route for p (its MN, CN's fields, p->remote set) and either
 * sends the Route Directions (signal_path_send) or, on punch and relay
 * routes, keeps everything in p and asks the RS first (RELAY).  Returns
 * PROTO_STATUS_OK or MN's status.
 */
static uint8_t
signal_path_start(struct signal *s, struct signal_path *p,
    struct registry_entry *mn, const struct signal_req *q,
    const struct route_node *rn_cn, const struct signal_peer *cnp,
    time_t wall, uint64_t now, struct signal_out *out)
{
	struct route_decision d;
	struct signal_keys k;
	uint8_t st;

	if ((st = signal_route_prepare(s, mn, rn_cn, &d, &k)) !=
	    PROTO_STATUS_OK)
		goto done;
	if (p->ref == 0)
		p->ref = ++s->next_ref;
	if (!d.relay) {
		st = signal_path_send(s, p, mn, q, cnp, &d, &k, NULL, 0, wall,
		    now, out);
		goto done;
	}
	if (signal_path_keep_req(p, q) < 0 || signal_path_keep_cn(p, cnp) <
	    0) {
		st = PROTO_STATUS_INTERNAL;
		goto done;
	}
	p->kind = SIGNAL_PATH_RELAY;
	p->d = d;
	p->k = k;
	p->wall = wall;
	p->mn_obs = mn->observed;
	p->cn_obs = rn_cn->observed;
	p->route = d.route;
	memcpy(p->id, k.path_id, PROTO_ID_LEN);
	p->relay_tries = 1;
	p->next_send = now + SIGNAL_RELAY_MS;
	signal_relay_emit(s, p, out);
	log_debug("signal: direction %s -> %s: %s route, asking the RS, "
	    "ref %llu", registry_entry_fqdn(mn), p->cn, route_name(d.route),
	    (unsigned long long)p->ref);
done:
	crypto_wipe(&k, sizeof(k));
	return st;
}

/*
 * DC_MN, CN in another zone: keeps what the request said and asks CN's DC
 * for CN (SIGNAL_FED_ASK).  MN's own checks were done.
 */
static uint8_t
signal_remote_start(struct signal *s, struct registry_entry *mn,
    const struct signal_req *q, const char *cn_name, uint64_t now,
    struct signal_out *out)
{
	struct signal_path *p;
	struct signal_fed *f;

	if (out->nfed >= SIGNAL_FED_MAX || (p = calloc(1, sizeof(*p))) == NULL)
		return PROTO_STATUS_INTERNAL;
	p->kind = SIGNAL_PATH_REMOTE_INFO;
	p->remote = true;
	p->ref = ++s->next_ref;
	memcpy(p->mn_sid, mn->sid, PROTO_ID_LEN);
	snprintf(p->cn, sizeof(p->cn), "%s", cn_name);
	if (signal_path_keep_req(p, q) < 0) {
		signal_path_free(p);
		return PROTO_STATUS_INTERNAL;
	}
	p->next_send = now + SIGNAL_REMOTE_MS;
	if (signal_path_link(s, p) < 0) {
		signal_path_free(p);
		return PROTO_STATUS_RATE_LIMITED;
	}
	f = signal_fed_next(s, out, SIGNAL_FED_ASK, p->ref);
	snprintf(f->mn, sizeof(f->mn), "%s", registry_entry_fqdn(mn));
	snprintf(f->cn, sizeof(f->cn), "%s", cn_name);
	f->kex = q->kex;
	out->nfed++;
	s->stats.remote_asks++;
	log_debug("signal: direction %s -> %s: asking its DC, ref %llu",
	    registry_entry_fqdn(mn), cn_name, (unsigned long long)p->ref);
	return PROTO_STATUS_OK;
}

static void
signal_direction(struct signal *s, struct registry_entry *mn,
    const struct signal_rx *rx, const struct msg *req, struct signal_out *out)
{
	const struct msg_attr *peer, *hash, *status;
	struct signal_cert cert;
	struct signal_req q;
	struct signal_peer cnp;
	struct signal_path *p = NULL;
	struct route_node rn_cn;
	struct registry_entry *cn = NULL;
	char cn_name[SIGNAL_FQDN_BUF];
	uint8_t st = PROTO_STATUS_OK;
	bool remote = false;

	s->stats.directions++;
	memset(&q, 0, sizeof(q));
	peer = msg_attr_find(req, PROTO_ATTR_PEER_FQDN);
	hash = msg_attr_find(req, PROTO_ATTR_CERT_HASH);
	status = msg_attr_find(req, PROTO_ATTR_STATUS);
	q.offers = msg_attr_find(req, PROTO_ATTR_AEAD_OFFERS);
	if (peer == NULL || hash == NULL || status == NULL ||
	    msg_attr_u8(req, PROTO_ATTR_KEX, &q.kex) < 0) {
		s->stats.drop_internal++;	/* the codec checked these */
		return;
	}
	q.txid = rx->h.txid;
	q.seq = rx->h.seq;
	q.hash = hash->val;
	q.status = *status;
	q.status.type = PROTO_ATTR_PEER_STATUS;
	memcpy(cn_name, peer->val, peer->len);
	cn_name[peer->len] = '\0';

	if (!signal_in_zone(s, cn_name, peer->len)) {
		if (!s->federation)
			st = PROTO_STATUS_UNAVAILABLE;	/* no federation */
		remote = true;
	} else if ((cn = registry_find_fqdn(s->reg, cn_name, peer->len)) ==
	    NULL || rx->now >= cn->expires)
		st = PROTO_STATUS_NOT_REGISTERED;
	else if (cn == mn)
		st = PROTO_STATUS_REFUSED_POLICY;
	if (st == PROTO_STATUS_OK) {
		if (s->hooks.revoked != NULL && ((mn->serial_len > 0 &&
		    s->hooks.revoked(s->hooks.arg, mn->serial,
		    mn->serial_len)) || (cn != NULL && cn->serial_len > 0 &&
		    s->hooks.revoked(s->hooks.arg, cn->serial,
		    cn->serial_len))))
			st = PROTO_STATUS_REVOKED;
		else if (s->hooks.allowed != NULL &&
		    !s->hooks.allowed(s->hooks.arg, registry_entry_fqdn(mn),
		    cn_name))
			st = PROTO_STATUS_REFUSED_POLICY;
		else if (mn->serial_len == 0)
			st = PROTO_STATUS_UNAVAILABLE;
		else if (s->npaths >= SIGNAL_PATHS_MAX)
			st = PROTO_STATUS_RATE_LIMITED;
		else if (remote)
			st = signal_remote_start(s, mn, &q, cn_name, rx->now,
			    out);
		else if (s->hooks.cert == NULL ||
		    s->hooks.cert(s->hooks.arg, cn_name, &cert) < 0 ||
		    cert.hash == NULL || cert.serial_len == 0 ||
		    cert.serial_len > PROTO_SERIAL_MAX || cert.status_len == 0)
			st = PROTO_STATUS_UNAVAILABLE;
	}
	if (st == PROTO_STATUS_OK && remote)
		return;
	if (st == PROTO_STATUS_OK) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			st = PROTO_STATUS_INTERNAL;
		else {
			memcpy(p->mn_sid, mn->sid, PROTO_ID_LEN);
			memcpy(p->cn_sid, cn->sid, PROTO_ID_LEN);
			signal_peer_of(cn, &cnp);
			cnp.hash = cert.hash;
			cnp.serial.val = cert.serial;
			cnp.serial.len = (uint16_t)cert.serial_len;
			cnp.status.val = cert.status;
			cnp.status.len = cert.status_len > UINT16_MAX ?
			    UINT16_MAX : (uint16_t)cert.status_len;
			signal_route_node(cn, &rn_cn);
			st = signal_path_start(s, p, mn, &q, &rn_cn, &cnp,
			    rx->wall, rx->now, out);
		}
	}
	if (st != PROTO_STATUS_OK) {
		log_debug("signal: direction %s -> %s refused: %s",
		    registry_entry_fqdn(mn), cn_name, msg_status_name(st));
		out->nrelay = 0;
		signal_direction_refuse(s, mn, rx, st, out);
		goto done;
	}
	if (signal_path_link(s, p) < 0)
		s->stats.drop_internal++;	/* checked above: never */
	else
		p = NULL;
done:
	if (p != NULL)
		signal_path_free(p);
}

/* The list slot of the path with this id (not REMOTE_INFO), or NULL. */
static struct signal_path **
signal_path_find(struct signal *s, const uint8_t *id)
{
	struct signal_path *p;

	for (p = s->by_id[signal_id_bucket(id)]; p != NULL; p = p->id_next)
		if (p->kind != SIGNAL_PATH_REMOTE_INFO &&
		    memcmp(p->id, id, PROTO_ID_LEN) == 0)
			return p->pprev;
	return NULL;
}

static struct signal_path **
signal_path_find_ref(struct signal *s, enum signal_path_kind kind,
    uint64_t ref)
{
	struct signal_path *p;

	for (p = s->by_ref[signal_ref_bucket(ref)]; p != NULL;
	    p = p->ref_next)
		if (p->kind == kind && p->ref == ref)
			return p->pprev;
	return NULL;
}

/* Unlinks (pp is its list slot) and frees. */
static void
signal_path_remove(struct signal *s, struct signal_path **pp)
{
	struct signal_path *p = *pp, *last;
	size_t i = p->heap_i;

	if ((*pp = p->next) != NULL)
		p->next->pprev = pp;
	signal_path_unindex(s, p);
	last = s->heap[--s->npaths];
	if (i < s->npaths) {
		signal_heap_set(s, i, last);
		signal_heap_fix(s, i);
	}
	signal_path_free(p);
}


/* CN accepted (OK) or refused (status): MN hears it.  Frees the path. */
static void
signal_mn_answer(struct signal *s, struct signal_path **pp, uint8_t status,
    const char *cn_name, uint64_t now, struct signal_out *out)
{
	struct signal_path *p = *pp;
	struct registry_entry *mn;

	if ((mn = registry_find_sid(s->reg, p->mn_sid)) == NULL)
		goto done;
	if (status != PROTO_STATUS_OK) {
		log_debug("signal: %s refused the direction from %s: %s",
		    cn_name, registry_entry_fqdn(mn), msg_status_name(status));
		signal_direction_error(s, mn, p->mn_txid, p->mn_req_seq,
		    status, now, out);
		goto done;
	}
	if (p->mn_buf == NULL || signal_seal_emit(s, mn, p->mn_buf,
	    p->mn_len, &mn->observed, true, PROTO_MSG_DIRECTION_REQUEST,
	    p->mn_req_seq, now, out, NULL, NULL) < 0)
		s->stats.drop_internal++;
	else {
		s->stats.directions_routed++;
		s->stats.route[p->route <= PROTO_ROUTE_MAX ? p->route : 0]++;
	}
done:
	signal_path_remove(s, pp);
}

/* CN's answer to its Route Direction: now MN may have its own. */
static void
signal_ntm_ack(struct signal *s, struct registry_entry *cn,
    const struct signal_rx *rx, const struct msg *m, struct signal_out *out)
{
	const struct msg_attr *a = msg_attr_find(m, PROTO_ATTR_PATH_ID);
	struct signal_path **pp, *p;

	if (a == NULL || a->len != PROTO_ID_LEN ||
	    (pp = signal_path_find(s, a->val)) == NULL ||
	    ((*pp)->kind != SIGNAL_PATH_LOCAL &&
	    (*pp)->kind != SIGNAL_PATH_HANDOFF) ||
	    memcmp((*pp)->cn_sid, cn->sid, PROTO_ID_LEN) != 0) {
		s->stats.drop_unknown_path++;
		return;
	}
	p = *pp;
	s->stats.ntm_acks++;
	if (p->kind == SIGNAL_PATH_HANDOFF) {
		log_debug("signal: %s answered the handoff of ref %llu: %s",
		    registry_entry_fqdn(cn), (unsigned long long)p->ref,
		    msg_status_name(m->hdr.status));
		signal_peer_ack(s, p->ref, p->id, m->hdr.status, out);
		signal_path_remove(s, pp);
		return;
	}
	signal_mn_answer(s, pp, m->hdr.status, registry_entry_fqdn(cn),
	    rx->now, out);
}

/*
 * Retransmits CN's Route Directions that got no NTM_ACK; gives up after 5.
 * A peer DC that did not answer in time: UNAVAILABLE to MN.
 */
static void
signal_paths_timer(struct signal *s, uint64_t now, struct signal_out *out)
{
	struct signal_path **pp = &s->paths, *p;
	struct registry_entry *cn, *mn;

	while ((p = *pp) != NULL) {
		if (now < p->next_send) {
			pp = &p->next;
			continue;
		}
		if (out->nsend + PROTO_FRAGMENTS_MAX > SIGNAL_SENDS_MAX ||
		    out->nfed >= SIGNAL_FED_MAX)
			break;		/* the rest at the next call */
		if (p->kind == SIGNAL_PATH_RELAY) {
			s->stats.relay_timeouts++;
			log_info("signal: ref %llu: the RS did not answer; %s "
			    "is told UNAVAILABLE", (unsigned long long)p->ref,
			    p->cn);
			if ((mn = registry_find_sid(s->reg, p->mn_sid)) != NULL)
				signal_direction_error(s, mn, p->mn_txid,
				    p->mn_req_seq, PROTO_STATUS_UNAVAILABLE,
				    now, out);
			signal_path_remove(s, pp);
			continue;
		}
		if (p->kind == SIGNAL_PATH_REMOTE_INFO ||
		    p->kind == SIGNAL_PATH_REMOTE_ACK) {
			s->stats.remote_timeouts++;
			log_debug("signal: ref %llu: %s's DC did not answer",
			    (unsigned long long)p->ref, p->cn);
			if ((mn = registry_find_sid(s->reg, p->mn_sid)) != NULL)
				signal_direction_error(s, mn, p->mn_txid,
				    p->mn_req_seq, PROTO_STATUS_UNAVAILABLE,
				    now, out);
			signal_path_remove(s, pp);
			continue;
		}
		if (p->sends < PROTO_TIMER_RETRANSMIT_TRIES &&
		    (cn = registry_find_sid(s->reg, p->cn_sid)) != NULL) {
			(void)signal_emit_all(s, out, &p->cn_to, p->cn_buf,
			    p->cn_len);
			s->stats.cn_retransmits++;
			p->sends++;
			if (p->sends < PROTO_TIMER_RETRANSMIT_TRIES) {
				p->interval *= 2;
				p->next_send = now + p->interval;
			} else
				p->next_send = now + SIGNAL_GIVE_UP_MS;
			signal_path_touch(s, p);
			pp = &p->next;
			continue;
		}
		s->stats.cn_timeouts++;
		if (p->kind == SIGNAL_PATH_HANDOFF)
			signal_peer_ack(s, p->ref, p->id,
			    PROTO_STATUS_UNAVAILABLE, out);
		else if ((mn = registry_find_sid(s->reg, p->mn_sid)) != NULL)
			signal_direction_error(s, mn, p->mn_txid,
			    p->mn_req_seq, PROTO_STATUS_UNAVAILABLE, now, out);
		signal_path_remove(s, pp);
	}
}

/* lib/frag's key for a source address: IPv4 as v4-mapped IPv6. */
static void
signal_frag_peer(const struct msg_addr *a, struct frag_peer *fp)
{
	memset(fp, 0, sizeof(*fp));
	if (a->family == PROTO_FAMILY_IPV4) {
		fp->addr[10] = fp->addr[11] = 0xff;
		memcpy(fp->addr + 12, a->addr, 4);
	} else
		memcpy(fp->addr, a->addr, 16);
	fp->port = a->port;
}

/*
 * One authentic fragment m of the message rx belongs to: 1 and the whole
 * message decoded into *m (borrowing *whole, which the caller frees) when
 * it is complete; 0 when held or dropped (counted).
 */
static int
signal_reassemble(struct signal *s, const struct signal_rx *rx,
    struct msg *m, uint8_t **whole)
{
	struct frag_peer fp;
	struct msg_header h;
	size_t wlen;
	int rc;

	s->stats.frag_in++;
	if (rx->h.type == PROTO_MSG_REGISTRATION) {
		s->stats.drop_fragment++;
		return 0;
	}
	if ((*whole = malloc(SIGNAL_MSG_MAX)) == NULL) {
		s->stats.drop_internal++;
		return 0;
	}
	signal_frag_peer(rx->from, &fp);
	rc = frag_input(s->frag, &fp, m->frag.msgid, m->frag.index,
	    m->frag.count, m->frag.payload, m->frag.len, rx->now, *whole,
	    SIGNAL_MSG_MAX, &wlen);
	if (rc <= 0) {
		if (rc < 0)
			s->stats.drop_fragment++;
		return 0;
	}
	s->stats.frag_messages++;
	h = rx->h;
	h.flags &= (uint8_t)~PROTO_F_FRAGMENT;
	if ((rc = msg_body_decode(&h, *whole, wlen, m)) < 0) {
		signal_drop_decode(s, rc, rx->from);
		return 0;
	}
	return 1;
}

/* A sealed message on a live registration. */
static void
signal_sealed(struct signal *s, const struct signal_rx *rx,
    struct registry_entry *e, struct signal_out *out)
{
	struct signal_rx wrx;
	struct msg m;
	uint8_t buf[PROTO_DATAGRAM_MAX], *whole = NULL;
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
			(void)signal_emit_all(s, out, rx->from,
			    e->cache.bytes, e->cache.len);
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
		if (signal_reassemble(s, rx, &m, &whole) <= 0)
			goto done;
		/* Answers may be as large as what the message carried. */
		wrx = *rx;
		wrx.len = PROTO_HEADER_LEN + PROTO_TAG_LEN;
		for (rc = 0; (size_t)rc < m.nattr; rc++)
			wrx.len += PROTO_ATTR_HEADER_LEN + m.attr[rc].len;
		rx = &wrx;
	}
	if (m.hdr.status != PROTO_STATUS_OK &&
	    rx->h.type != PROTO_MSG_NTM_ACK) {
		s->stats.drop_type++;
		goto done;
	}
	switch (rx->h.type) {
	case PROTO_MSG_KEEPALIVE:
		registry_refresh(s->reg, e, rx->now);
		signal_keepalive(s, e, rx, out);
		break;
	case PROTO_MSG_DIRECTION_REQUEST:
		registry_refresh(s->reg, e, rx->now);
		signal_direction(s, e, rx, &m, out);
		break;
	case PROTO_MSG_NTM_ACK:
		registry_refresh(s->reg, e, rx->now);
		signal_ntm_ack(s, e, rx, &m, out);
		break;
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
	if (whole != NULL) {
		crypto_wipe(whole, SIGNAL_MSG_MAX);
		free(whole);
	}
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

	out->nfed = 0;
	out->nsend = 0;
	out->npersist = 0;
	out->nrelay = 0;
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

/* ---- federation: DC_MN's and DC_CN's halves (PROTOCOL.md 6.4, 8.1) ---- */

/* Status for MN when CN's DC could not be asked (err from the caller). */
static uint8_t
signal_remote_status(int err)
{
	return err == -ENOENT ? PROTO_STATUS_UNKNOWN_NODE :
	    PROTO_STATUS_UNAVAILABLE;
}

/* Reads CN's node information; false when it is incomplete. */
static bool
signal_remote_cn(const struct msg *resp, const char *cn,
    struct route_node *rn, struct signal_peer *pe)
{
	const struct msg_attr *a, *fqdn, *obs, *hash, *serial, *status;

	memset(rn, 0, sizeof(*rn));
	memset(pe, 0, sizeof(*pe));
	fqdn = msg_attr_find(resp, PROTO_ATTR_FQDN);
	obs = msg_attr_find(resp, PROTO_ATTR_OBSERVED_ADDR);
	hash = msg_attr_find(resp, PROTO_ATTR_CERT_HASH);
	serial = msg_attr_find(resp, PROTO_ATTR_SERIAL);
	status = msg_attr_find(resp, PROTO_ATTR_STATUS);
	if (fqdn == NULL || fqdn->len != strlen(cn) ||
	    strncasecmp((const char *)fqdn->val, cn, fqdn->len) != 0 ||
	    obs == NULL || msg_addr_parse(obs, &rn->observed) < 0 ||
	    hash == NULL || hash->len != PROTO_HASH_LEN || serial == NULL ||
	    serial->len == 0 || serial->len > PROTO_SERIAL_MAX ||
	    status == NULL || status->len == 0)
		return false;
	for (a = msg_attr_find(resp, PROTO_ATTR_LOCAL_ADDR);
	    a != NULL && rn->nlocal < ROUTE_ADDRS_MAX;
	    a = msg_attr_next(resp, PROTO_ATTR_LOCAL_ADDR, a))
		if (msg_addr_parse(a, &rn->local[rn->nlocal]) == 0)
			rn->nlocal++;
	pe->fqdn = cn;
	pe->len = strlen(cn);
	if ((a = msg_attr_find(resp, PROTO_ATTR_VIP4)) != NULL &&
	    a->len == 4)
		pe->vip4 = a->val;
	if ((a = msg_attr_find(resp, PROTO_ATTR_VIP6)) != NULL &&
	    a->len == 16)
		pe->vip6 = a->val;
	if (pe->vip4 == NULL && pe->vip6 == NULL)
		return false;
	pe->hash = hash->val;
	pe->serial = *serial;
	pe->serial.type = PROTO_ATTR_PEER_SERIAL;
	pe->status = *status;
	pe->status.type = PROTO_ATTR_PEER_STATUS;
	return true;
}

void
signal_remote_info(struct signal *s, uint64_t ref, int err,
    const struct msg *resp, uint64_t now, time_t wall, struct signal_out *out)
{
	struct signal_path **pp, *p;
	struct registry_entry *mn;
	struct signal_req q;
	struct signal_peer cnp;
	struct route_node rn_cn;
	struct msg_attr offers;
	const struct msg_attr *serial;
	uint8_t st;

	out->nfed = out->nsend = out->npersist = out->nrelay = 0;
	if ((pp = signal_path_find_ref(s, SIGNAL_PATH_REMOTE_INFO, ref)) ==
	    NULL) {
		s->stats.drop_unknown_ref++;
		return;
	}
	p = *pp;
	if ((mn = registry_find_sid(s->reg, p->mn_sid)) == NULL) {
		signal_path_remove(s, pp);
		return;
	}
	if (err < 0 || resp == NULL)
		st = signal_remote_status(err);
	else if (resp->hdr.type != PROTO_MSG_NODE_INFO_RESPONSE)
		st = PROTO_STATUS_UNAVAILABLE;
	else if ((st = resp->hdr.status) != PROTO_STATUS_OK)
		;
	else if (!signal_remote_cn(resp, p->cn, &rn_cn, &cnp))
		st = PROTO_STATUS_UNAVAILABLE;
	else if (s->hooks.revoked != NULL &&
	    (serial = msg_attr_find(resp, PROTO_ATTR_SERIAL)) != NULL &&
	    s->hooks.revoked(s->hooks.arg, serial->val, serial->len))
		st = PROTO_STATUS_REVOKED;
	else {
		signal_path_req(p, &q, &offers);
		st = signal_path_start(s, p, mn, &q, &rn_cn, &cnp, wall, now,
		    out);
		if (st == PROTO_STATUS_OK) {
			signal_path_touch(s, p);
			return;
		}
		out->nrelay = 0;
	}
	log_debug("signal: direction %s -> %s refused: %s (%s)",
	    registry_entry_fqdn(mn), p->cn, msg_status_name(st),
	    err < 0 ? strerror(-err) : "answer of its DC");
	signal_direction_error(s, mn, p->mn_txid, p->mn_req_seq, st, now, out);
	signal_path_remove(s, pp);
}

void
signal_remote_ack(struct signal *s, uint64_t ref, int err,
    const struct msg *ack, uint64_t now, struct signal_out *out)
{
	const struct msg_attr *a;
	struct signal_path **pp;
	uint8_t st;

	out->nfed = out->nsend = out->npersist = out->nrelay = 0;
	if ((pp = signal_path_find_ref(s, SIGNAL_PATH_REMOTE_ACK, ref)) ==
	    NULL) {
		s->stats.drop_unknown_ref++;
		return;
	}
	if (err < 0 || ack == NULL)
		st = signal_remote_status(err);
	else if (ack->hdr.type != PROTO_MSG_PEER_NTM_ACK ||
	    (a = msg_attr_find(ack, PROTO_ATTR_PATH_ID)) == NULL ||
	    a->len != PROTO_ID_LEN ||
	    memcmp(a->val, (*pp)->id, PROTO_ID_LEN) != 0)
		st = PROTO_STATUS_UNAVAILABLE;
	else {
		st = ack->hdr.status;
		s->stats.ntm_acks++;
	}
	signal_mn_answer(s, pp, st, (*pp)->cn, now, out);
}

void
signal_handoff_input(struct signal *s, uint64_t ref,
    const struct msg *handoff, uint64_t now, struct signal_out *out)
{
	struct signal_path **pp, *p = NULL;
	struct registry_entry *cn;
	struct msg_route r;
	struct msg m;
	char mn_name[SIGNAL_FQDN_BUF], text[80];
	uint8_t st = PROTO_STATUS_OK, *enc = NULL;
	size_t enc_len = 0;
	uint32_t txid;

	out->nfed = out->nsend = out->npersist = out->nrelay = 0;
	s->stats.handoffs++;
	if (handoff->hdr.type != PROTO_MSG_ROUTE_HANDOFF ||
	    msg_route_read(handoff, &r) < 0 || r.fqdn == NULL ||
	    r.peer_fqdn_len >= sizeof(mn_name)) {
		/*
		 * Decoded, but not a usable handoff (an error status, say):
		 * answered MALFORMED (PROTOCOL.md 15), or the caller would
		 * wait for an answer under ref for as long as the link lasts.
		 */
		s->stats.handoffs_refused++;
		signal_peer_ack(s, ref, handoff->hdr.id, PROTO_STATUS_MALFORMED,
		    out);
		return;
	}
	memcpy(mn_name, r.peer_fqdn, r.peer_fqdn_len);
	mn_name[r.peer_fqdn_len] = '\0';
	if ((pp = signal_path_find(s, r.path_id)) != NULL) {
		/* Sent again after a reconnect: answer on the new link. */
		if ((*pp)->kind == SIGNAL_PATH_HANDOFF) {
			(*pp)->ref = ref;
			signal_path_touch(s, *pp);
		}
		return;
	}
	if (!signal_in_zone(s, (const char *)r.fqdn, r.fqdn_len))
		st = PROTO_STATUS_UNKNOWN_NODE;
	else if ((cn = registry_find_fqdn(s->reg, (const char *)r.fqdn,
	    r.fqdn_len)) == NULL || now >= cn->expires)
		st = PROTO_STATUS_NOT_REGISTERED;
	else if (s->hooks.revoked != NULL && cn->serial_len > 0 &&
	    s->hooks.revoked(s->hooks.arg, cn->serial, cn->serial_len))
		st = PROTO_STATUS_REVOKED;
	else if (s->hooks.allowed != NULL && !s->hooks.allowed(s->hooks.arg,
	    mn_name, registry_entry_fqdn(cn)))
		st = PROTO_STATUS_REFUSED_POLICY;
	else if (s->npaths >= SIGNAL_PATHS_MAX)
		st = PROTO_STATUS_RATE_LIMITED;
	else if ((p = calloc(1, sizeof(*p))) == NULL ||
	    rng_bytes(s->rng, &txid, sizeof(txid)) < 0)
		st = PROTO_STATUS_INTERNAL;
	else {
		r.fqdn = NULL;
		r.fqdn_len = 0;
		msg_init(&m, PROTO_MSG_ROUTE_DIRECTION);
		m.hdr.txid = txid;
		memcpy(m.hdr.id, r.path_id, PROTO_ID_LEN);
		if ((enc = malloc(SIGNAL_MSG_MAX)) == NULL)
			st = PROTO_STATUS_INTERNAL;
		else if (msg_route_write(&m, &r) < 0 ||
		    signal_encode(&m, enc, SIGNAL_MSG_MAX, &enc_len) < 0)
			st = PROTO_STATUS_TOO_LARGE;
		crypto_wipe(&m, sizeof(m));
	}
	if (st == PROTO_STATUS_OK) {
		p->kind = SIGNAL_PATH_HANDOFF;
		p->ref = ref;
		memcpy(p->id, r.path_id, PROTO_ID_LEN);
		memcpy(p->cn_sid, cn->sid, PROTO_ID_LEN);
		p->route = (enum proto_route)r.route;
		p->cn_to = cn->observed;
		snprintf(p->cn, sizeof(p->cn), "%s", registry_entry_fqdn(cn));
		if (signal_seal_emit(s, cn, enc, enc_len, &p->cn_to, false, 0,
		    0, now, out, &p->cn_buf, &p->cn_len) < 0)
			st = PROTO_STATUS_INTERNAL;
	}
	if (enc != NULL) {
		crypto_wipe(enc, SIGNAL_MSG_MAX);
		free(enc);
	}
	if (st != PROTO_STATUS_OK) {
		s->stats.handoffs_refused++;
		log_debug("signal: handoff %s -> %.*s refused: %s", mn_name,
		    (int)r.fqdn_len, r.fqdn != NULL ? (const char *)r.fqdn :
		    "?", msg_status_name(st));
		signal_peer_ack(s, ref, r.path_id, st, out);
		if (p != NULL)
			signal_path_free(p);
		return;
	}
	p->sends = 1;
	p->interval = PROTO_TIMER_RETRANSMIT;
	p->next_send = now + p->interval;
	if (signal_path_link(s, p) < 0) {	/* checked above: never */
		signal_peer_ack(s, ref, r.path_id, PROTO_STATUS_RATE_LIMITED,
		    out);
		signal_path_free(p);
		return;
	}
	log_debug("signal: handoff %s -> %s: %s route, CN at %s", mn_name,
	    p->cn, route_name(p->route),
	    signal_addr_text(&p->cn_to, text, sizeof(text)));
}

/* Parses the RS's addresses from a RELAY_DIRECTION_ACK; how many. */
static size_t
signal_relay_addrs(const struct msg *ack, struct msg_addr *relay)
{
	const struct msg_attr *a;
	size_t n = 0;

	for (a = msg_attr_find(ack, PROTO_ATTR_RELAY_ADDR);
	    a != NULL && n < SIGNAL_RELAYS_MAX;
	    a = msg_attr_next(ack, PROTO_ATTR_RELAY_ADDR, a))
		if (msg_addr_parse(a, &relay[n]) == 0)
			n++;
	return n;
}

void
signal_relay_ack(struct signal *s, uint64_t ref, int err,
    const struct msg *ack, uint64_t now, struct signal_out *out)
{
	struct msg_addr relay[SIGNAL_RELAYS_MAX];
	struct signal_path **pp, *p;
	struct registry_entry *mn;
	struct signal_req q;
	struct signal_peer cnp;
	struct msg_attr offers;
	const struct msg_attr *a;
	uint8_t st;
	size_t nrelay = 0;

	out->nfed = out->nsend = out->npersist = out->nrelay = 0;
	if ((pp = signal_path_find_ref(s, SIGNAL_PATH_RELAY, ref)) == NULL) {
		s->stats.drop_unknown_ref++;
		return;
	}
	p = *pp;
	if ((mn = registry_find_sid(s->reg, p->mn_sid)) == NULL) {
		signal_path_remove(s, pp);
		return;
	}
	if (err < 0 || ack == NULL ||
	    ack->hdr.type != PROTO_MSG_RELAY_DIRECTION_ACK)
		st = PROTO_STATUS_UNAVAILABLE;
	else if (ack->hdr.status == PROTO_STATUS_REFUSED_POLICY &&
	    p->relay_tries < SIGNAL_RELAY_TRIES) {
		/* A receiver id is taken at the RS: new ones, once more. */
		s->stats.relay_collisions++;
		if (signal_recv_id(s, 0, &p->k.rid_mn) < 0 ||
		    signal_recv_id(s, p->k.rid_mn, &p->k.rid_cn) < 0)
			st = PROTO_STATUS_INTERNAL;
		else {
			p->relay_tries++;
			p->next_send = now + SIGNAL_RELAY_MS;
			signal_relay_emit(s, p, out);
			signal_path_touch(s, p);
			log_debug("signal: ref %llu: receiver id taken at the "
			    "RS, asking again", (unsigned long long)ref);
			return;
		}
	} else if (ack->hdr.status != PROTO_STATUS_OK ||
	    (a = msg_attr_find(ack, PROTO_ATTR_PATH_ID)) == NULL ||
	    a->len != PROTO_ID_LEN ||
	    memcmp(a->val, p->k.path_id, PROTO_ID_LEN) != 0 ||
	    (nrelay = signal_relay_addrs(ack, relay)) == 0)
		st = PROTO_STATUS_UNAVAILABLE;
	else {
		s->stats.relay_acks++;
		signal_path_req(p, &q, &offers);
		signal_path_cn(p, &cnp);
		st = signal_path_send(s, p, mn, &q, &cnp, &p->d, &p->k,
		    relay, nrelay, p->wall, now, out);
		if (st == PROTO_STATUS_OK) {
			crypto_wipe(&p->k, sizeof(p->k));
			signal_path_touch(s, p);
			return;
		}
	}
	if (st == PROTO_STATUS_UNAVAILABLE)
		s->stats.relay_refused++;
	log_info("signal: ref %llu: direction %s -> %s refused: %s (RS: %s)",
	    (unsigned long long)ref, registry_entry_fqdn(mn), p->cn,
	    msg_status_name(st), err < 0 ? strerror(-err) : ack != NULL ?
	    msg_status_name(ack->hdr.status) : "no answer");
	signal_direction_error(s, mn, p->mn_txid, p->mn_req_seq, st, now, out);
	signal_path_remove(s, pp);
}

int
signal_node_revoked(struct signal *s, const char *fqdn)
{
	struct registry_entry *e;
	struct signal_path **pp;

	if ((e = registry_find_fqdn(s->reg, fqdn, strlen(fqdn))) == NULL)
		return -ENOENT;
	for (pp = &s->paths; *pp != NULL;)
		if (memcmp((*pp)->mn_sid, e->sid, PROTO_ID_LEN) == 0 ||
		    memcmp((*pp)->cn_sid, e->sid, PROTO_ID_LEN) == 0)
			signal_path_remove(s, pp);
		else
			pp = &(*pp)->next;
	log_info("signal: registration of %s ended: certificate revoked",
	    fqdn);
	registry_remove(s->reg, e);
	return 0;
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
	out->nfed = 0;
	out->nsend = 0;
	out->npersist = 0;
	out->nrelay = 0;
	registry_expire(s->reg, now, signal_expired_cb, s);
	frag_expire(s->frag, now);
	signal_paths_timer(s, now, out);
}

uint64_t
signal_next_timer(const struct signal *s)
{
	uint64_t t = registry_next_expiry(s->reg), f;

	if ((f = frag_next_expiry(s->frag)) < t)
		t = f;
	/* The earliest path deadline is the heap's top. */
	if (s->npaths > 0 && s->heap[0]->next_send < t)
		t = s->heap[0]->next_send;
	return t;
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
	fn("directions", st->directions, arg);
	fn("directions_refused", st->directions_refused, arg);
	fn("directions_routed", st->directions_routed, arg);
	fn("paths_pending", s->npaths, arg);
	fn("ntm_acks", st->ntm_acks, arg);
	fn("cn_retransmits", st->cn_retransmits, arg);
	fn("cn_timeouts", st->cn_timeouts, arg);
	fn("drop_unknown_path", st->drop_unknown_path, arg);
	fn("remote_asks", st->remote_asks, arg);
	fn("remote_handoffs", st->remote_handoffs, arg);
	fn("remote_timeouts", st->remote_timeouts, arg);
	fn("handoffs", st->handoffs, arg);
	fn("handoffs_refused", st->handoffs_refused, arg);
	fn("drop_unknown_ref", st->drop_unknown_ref, arg);
	fn("relay_asks", st->relay_asks, arg);
	fn("relay_acks", st->relay_acks, arg);
	fn("relay_collisions", st->relay_collisions, arg);
	fn("relay_refused", st->relay_refused, arg);
	fn("relay_timeouts", st->relay_timeouts, arg);
	fn("relay_no_rs", st->relay_no_rs, arg);
	fn("frag_in", st->frag_in, arg);
	fn("frag_messages", st->frag_messages, arg);
	fn("frag_out", st->frag_out, arg);
	fn("frag_out_datagrams", st->frag_out_datagrams, arg);
	for (i = PROTO_ROUTE_DIRECT; i <= PROTO_ROUTE_MAX; i++) {
		snprintf(name, sizeof(name), "route_%s",
		    route_name((enum proto_route)i));
		fn(name, st->route[i], arg);
	}
	for (i = 0; i < SIGNAL_DECODE_ERRORS; i++) {
		snprintf(name, sizeof(name), "drop_decode: %s",
		    msg_strerror(MSG_E_SHORT_HEADER - i));
		fn(name, st->drop_decode[i], arg);
	}
}
