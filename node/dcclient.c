/* dcclient.c -- node side of registration and keep-alive with the home DC (PROTOCOL.md 6.1, 7), sans-I/O. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"
#include "buf.h"
#include "crypto.h"
#include "dcclient.h"
#include "frag.h"
#include "msg.h"
#include "proto.h"
#include "rand.h"
#include "replay.h"

static void	dcclient_session_drop(struct dcclient *);
static int	dcclient_hello(struct dcclient *, uint64_t now);

const char *
dcclient_state_name(enum dcclient_state s)
{
	switch (s) {
	case DCCLIENT_IDLE:
		return "idle";
	case DCCLIENT_HELLO:
		return "hello";
	case DCCLIENT_REGISTERING:
		return "registering";
	case DCCLIENT_REGISTERED:
		return "registered";
	case DCCLIENT_BACKOFF:
		return "backoff";
	case DCCLIENT_NO_TICKET:
		return "no-ticket";
	default:
		return "invalid";
	}
}

void
dcclient_init(struct dcclient *dc, struct ntm_rng *rng)
{
	memset(dc, 0, sizeof(*dc));
	dc->rng = rng;
	dc->state = DCCLIENT_NO_TICKET;
	dc->backoff_ms = DCCLIENT_BACKOFF_MIN_MS;
}

void
dcclient_clear(struct dcclient *dc)
{
	if (dc == NULL)
		return;
	dcclient_session_drop(dc);
	free(dc->frag);
	if (dc->whole != NULL)
		crypto_wipe(dc->whole, PROTO_REASSEMBLY_MAX);
	free(dc->whole);
	crypto_wipe(dc->k_nd, sizeof(dc->k_nd));
	crypto_wipe(dc, sizeof(*dc));
}

bool
dcclient_registered(const struct dcclient *dc)
{
	return dc->state == DCCLIENT_REGISTERED;
}

static void
dcclient_push(struct dcclient *dc, enum dcclient_action_type type,
    uint8_t status, const void *data, size_t len)
{
	struct dcclient_action *a;

	if (dc->out_n == DCCLIENT_OUTBOX) {
		/* Drop the oldest: a newer send supersedes it anyway. */
		dc->out_head = (dc->out_head + 1) % DCCLIENT_OUTBOX;
		dc->out_n--;
	}
	a = &dc->outbox[(dc->out_head + dc->out_n) % DCCLIENT_OUTBOX];
	dc->out_n++;
	a->type = type;
	a->status = status;
	a->len = len;
	if (len > 0)
		memcpy(a->data, data, len);
}

bool
dcclient_poll(struct dcclient *dc, struct dcclient_action *a)
{
	if (dc->out_n == 0)
		return false;
	*a = dc->outbox[dc->out_head];
	dc->out_head = (dc->out_head + 1) % DCCLIENT_OUTBOX;
	dc->out_n--;
	return true;
}

int
dcclient_derive(const uint8_t k_nd[PROTO_KEY_LEN],
    const uint8_t nonce_n[PROTO_RANDOM_LEN],
    const uint8_t cookie[PROTO_RANDOM_LEN], uint8_t k_n2dc[PROTO_KEY_LEN],
    uint8_t k_dc2n[PROTO_KEY_LEN])
{
	uint8_t salt[2 * PROTO_RANDOM_LEN], prk[CRYPTO_SHA256_SIZE];
	int rc;

	memcpy(salt, nonce_n, PROTO_RANDOM_LEN);
	memcpy(salt + PROTO_RANDOM_LEN, cookie, PROTO_RANDOM_LEN);
	crypto_hkdf_extract(prk, salt, sizeof(salt), k_nd, PROTO_KEY_LEN);
	rc = crypto_hkdf_expand(k_n2dc, PROTO_KEY_LEN, prk, sizeof(prk),
	    DCCLIENT_LABEL_N2DC, strlen(DCCLIENT_LABEL_N2DC));
	if (rc == 0)
		rc = crypto_hkdf_expand(k_dc2n, PROTO_KEY_LEN, prk,
		    sizeof(prk), DCCLIENT_LABEL_DC2N,
		    strlen(DCCLIENT_LABEL_DC2N));
	crypto_wipe(prk, sizeof(prk));
	return rc < 0 ? -EINVAL : 0;
}

static void
dcclient_session_drop(struct dcclient *dc)
{
	aead_free(dc->k_tx);
	aead_free(dc->k_rx);
	dc->k_tx = dc->k_rx = NULL;
	dc->seq_tx = 0;
	replay_init(&dc->rx_window);
	memset(dc->sid, 0, sizeof(dc->sid));
	dc->req_type = 0;
	dc->req_len = 0;
	memset(dc->sent, 0, sizeof(dc->sent));
	dc->sent_next = 0;
}

int
dcclient_set_ticket(struct dcclient *dc, const void *ticket, size_t len,
    const uint8_t k_nd[PROTO_KEY_LEN], uint64_t expiry)
{
	if (len < PROTO_TICKET_MIN || len > PROTO_TICKET_MAX)
		return -EINVAL;
	memcpy(dc->ticket, ticket, len);
	dc->ticket_len = len;
	memcpy(dc->k_nd, k_nd, PROTO_KEY_LEN);
	dc->ticket_expiry = expiry;
	if (dc->state == DCCLIENT_NO_TICKET)
		dc->state = DCCLIENT_IDLE;
	return 0;
}

static bool
dcclient_addrs_equal(const struct dcclient *dc, const struct msg_addr *a,
    size_t n)
{
	size_t i;

	if (n != dc->nlocal)
		return false;
	for (i = 0; i < n; i++)
		if (a[i].family != dc->local[i].family ||
		    a[i].port != dc->local[i].port ||
		    memcmp(a[i].addr, dc->local[i].addr,
		    a[i].family == PROTO_FAMILY_IPV4 ? 4 : 16) != 0)
			return false;
	return true;
}

int
dcclient_set_addrs(struct dcclient *dc, const struct msg_addr *a, size_t n,
    uint64_t now)
{
	size_t i;
	bool same;

	if (n == 0 || n > PROTO_ADDRS_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (a[i].family != PROTO_FAMILY_IPV4 &&
		    a[i].family != PROTO_FAMILY_IPV6)
			return -EINVAL;
	same = dcclient_addrs_equal(dc, a, n);
	memcpy(dc->local, a, n * sizeof(*a));
	dc->nlocal = n;
	if (!same && (dc->state == DCCLIENT_REGISTERED ||
	    dc->state == DCCLIENT_REGISTERING))
		return dcclient_start(dc, now);
	return 0;
}

void
dcclient_set_wanted(struct dcclient *dc, uint32_t lifetime_s,
    uint32_t keepalive_s)
{
	dc->want_lifetime_s = lifetime_s;
	dc->want_keepalive_s = keepalive_s;
}

/* Records msg bytes as the outstanding request and queues the first send. */
static void
dcclient_request(struct dcclient *dc, uint8_t type, uint32_t txid,
    const uint8_t *pkt, size_t len, uint64_t now)
{
	memcpy(dc->req, pkt, len);
	dc->req_len = len;
	dc->req_type = type;
	dc->req_txid = txid;
	dc->req_sends = 1;
	dc->req_next = now + PROTO_TIMER_RETRANSMIT;
	dc->req_fail = UINT64_MAX;
	dcclient_push(dc, DCCLIENT_ACT_SEND, 0, pkt, len);
}

static uint32_t
dcclient_txid(struct dcclient *dc)
{
	uint32_t t;

	if (dc->txid_next == 0 &&
	    rng_bytes(dc->rng, &dc->txid_next, sizeof(dc->txid_next)) < 0)
		dc->txid_next = 1;
	t = dc->txid_next++;
	if (dc->txid_next == 0)
		dc->txid_next = 1;
	return t == 0 ? dc->txid_next++ : t;
}

static void
dcclient_backoff(struct dcclient *dc, uint8_t status, uint32_t delay_ms,
    uint64_t now)
{
	dcclient_session_drop(dc);
	if (delay_ms == 0) {
		delay_ms = dc->backoff_ms;
		dc->backoff_ms = dc->backoff_ms * 2 > DCCLIENT_BACKOFF_MAX_MS ?
		    DCCLIENT_BACKOFF_MAX_MS : dc->backoff_ms * 2;
	}
	dc->state = DCCLIENT_BACKOFF;
	dc->backoff_until = now + delay_ms;
	dcclient_push(dc, DCCLIENT_ACT_LOST, status, NULL, 0);
}

static void
dcclient_no_ticket(struct dcclient *dc, uint8_t status)
{
	dcclient_session_drop(dc);
	dc->state = DCCLIENT_NO_TICKET;
	dcclient_push(dc, DCCLIENT_ACT_NEED_TICKET, status, NULL, 0);
}

static int
dcclient_hello(struct dcclient *dc, uint64_t now)
{
	uint8_t pkt[PROTO_DATAGRAM_MAX];
	struct msg m;
	size_t len;
	uint32_t txid;
	int rc;

	dcclient_session_drop(dc);
	if ((rc = rng_bytes(dc->rng, dc->nonce_n, sizeof(dc->nonce_n))) < 0)
		return rc;
	txid = dcclient_txid(dc);
	msg_init(&m, PROTO_MSG_REG_HELLO);
	m.hdr.txid = txid;
	m.hdr.seq = 0;
	if ((rc = msg_add_bytes(&m, PROTO_ATTR_TICKET, dc->ticket,
	    dc->ticket_len)) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_NONCE, dc->nonce_n,
	    sizeof(dc->nonce_n))) < 0)
		return rc;
	if ((rc = msg_encode(&m, pkt, sizeof(pkt), &len)) < 0)
		return rc;
	dc->state = DCCLIENT_HELLO;
	dcclient_request(dc, PROTO_MSG_REG_HELLO, txid, pkt, len, now);
	return 0;
}

int
dcclient_start(struct dcclient *dc, uint64_t now)
{
	if (dc->ticket_len == 0) {
		dc->state = DCCLIENT_NO_TICKET;
		return -ENOKEY;
	}
	if (now / 1000 >= dc->ticket_expiry) {
		dcclient_no_ticket(dc, PROTO_STATUS_EXPIRED);
		return -EKEYEXPIRED;
	}
	if (dc->nlocal == 0)
		return -EDESTADDRREQ;
	return dcclient_hello(dc, now);
}

int
dcclient_seal(struct dcclient *dc, struct msg *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	uint8_t nonce[PROTO_NONCE_LEN];
	size_t len;
	int rc;

	if (dc->k_tx == NULL)
		return -ENOTCONN;
	if (m->hdr.txid == 0)
		m->hdr.txid = dcclient_txid(dc);
	memcpy(m->hdr.id, dc->sid, PROTO_ID_LEN);
	m->hdr.seq = dc->seq_tx + 1;
	if ((rc = msg_encode(m, out, cap, &len)) < 0)
		return rc;
	if (!(m->hdr.flags & PROTO_F_SEALED) || len < PROTO_HEADER_LEN +
	    PROTO_TAG_LEN)
		return -EINVAL;
	dc->seq_tx++;
	msg_nonce(&m->hdr, nonce);
	rc = aead_seal(dc->k_tx, nonce, out, PROTO_HEADER_LEN,
	    out + PROTO_HEADER_LEN, len - PROTO_HEADER_LEN - PROTO_TAG_LEN,
	    out + PROTO_HEADER_LEN, len - PROTO_HEADER_LEN);
	if (rc < 0)
		return rc;
	*outlen = len;
	return 0;
}

int
dcclient_fragment(struct dcclient *dc, const struct msg_header *h,
    const uint8_t *body, size_t len, uint64_t now, struct msg *m)
{
	struct msg_header wh;
	struct frag_peer fp;
	size_t wlen;
	int rc;

	if (dc->frag == NULL) {
		if ((dc->frag = malloc(sizeof(*dc->frag))) == NULL)
			return -ENOMEM;
		frag_table_init(dc->frag);
	}
	if (dc->whole == NULL &&
	    (dc->whole = malloc(PROTO_REASSEMBLY_MAX)) == NULL)
		return -ENOMEM;
	if ((rc = msg_body_decode(h, body, len, m)) < 0)
		return rc;
	/* The client has one peer, its DC: one key for all its fragments. */
	memset(&fp, 0, sizeof(fp));
	rc = frag_input(dc->frag, &fp, m->frag.msgid, m->frag.index,
	    m->frag.count, m->frag.payload, m->frag.len, now, dc->whole,
	    PROTO_REASSEMBLY_MAX, &wlen);
	if (rc == 0)
		return -EINPROGRESS;
	if (rc < 0)
		return rc;
	wh = *h;
	wh.flags &= (uint8_t)~PROTO_F_FRAGMENT;
	return msg_body_decode(&wh, dc->whole, wlen, m);
}

static int
dcclient_open_common(struct dcclient *dc, uint8_t *pkt, size_t len,
    bool fragments, uint64_t now, struct msg *m)
{
	uint8_t nonce[PROTO_NONCE_LEN];
	struct msg_header h;
	struct rbuf r;
	int rc;

	if (dc->k_rx == NULL)
		return -ENOTCONN;
	rbuf_init(&r, pkt, len);
	if ((rc = msg_header_decode(&r, &h)) < 0)
		return rc;
	if (!(h.flags & PROTO_F_SEALED))
		return MSG_E_FLAGS;
	if ((h.flags & PROTO_F_FRAGMENT) && !fragments)
		return -EOPNOTSUPP;
	if ((size_t)PROTO_HEADER_LEN + h.length != len)
		return MSG_E_TRAILING;
	if (!crypto_ct_equal(h.id, dc->sid, PROTO_ID_LEN))
		return -ENOMSG;
	if (!replay_check(&dc->rx_window, h.seq))
		return -EALREADY;
	msg_nonce(&h, nonce);
	rc = aead_open(dc->k_rx, nonce, pkt, PROTO_HEADER_LEN,
	    pkt + PROTO_HEADER_LEN, h.length, pkt + PROTO_HEADER_LEN,
	    h.length);
	if (rc < 0)
		return rc;
	if (h.flags & PROTO_F_FRAGMENT) {
		/* Authenticated: its sequence number is spent either way. */
		if (replay_update(&dc->rx_window, h.seq) < 0)
			return -EALREADY;
		return dcclient_fragment(dc, &h, pkt + PROTO_HEADER_LEN,
		    h.length - PROTO_TAG_LEN, now, m);
	}
	if ((rc = msg_decode(pkt, len, m)) < 0)
		return rc;
	if (replay_update(&dc->rx_window, h.seq) < 0)
		return -EALREADY;
	return 0;
}

int
dcclient_open(struct dcclient *dc, uint8_t *pkt, size_t len, struct msg *m)
{
	return dcclient_open_common(dc, pkt, len, false, 0, m);
}

int
dcclient_open_at(struct dcclient *dc, uint8_t *pkt, size_t len,
    uint64_t now, struct msg *m)
{
	return dcclient_open_common(dc, pkt, len, true, now, m);
}

int
dcclient_send_msg(struct dcclient *dc, const uint8_t *msg, size_t len,
    bool retransmit, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t nonce[PROTO_NONCE_LEN], hash[PROTO_HASH_LEN];
	struct msg_header h;
	struct rbuf r;
	size_t i, slot;
	int rc;

	if (dc->k_tx == NULL)
		return -ENOTCONN;
	if (len > PROTO_DATAGRAM_MAX)
		return -EMSGSIZE;
	if (len > cap)
		return -ENOSPC;
	rbuf_init(&r, msg, len);
	if ((rc = msg_header_decode(&r, &h)) < 0)
		return rc;
	if (!(h.flags & PROTO_F_SEALED) ||
	    (size_t)PROTO_HEADER_LEN + h.length != len ||
	    h.length < PROTO_TAG_LEN)
		return MSG_E_FLAGS;
	crypto_sha256(hash, msg, len);
	for (i = 0; i < DCCLIENT_SENT_CACHE; i++)
		if (dc->sent[i].seq != 0 && dc->sent[i].type == h.type &&
		    dc->sent[i].txid == h.txid)
			break;
	if (retransmit) {
		/* Its nonce again: only over the very same bytes. */
		if (i == DCCLIENT_SENT_CACHE ||
		    memcmp(dc->sent[i].hash, hash, sizeof(hash)) != 0)
			return -ENOENT;
		slot = i;
		h.seq = dc->sent[i].seq;
	} else {
		/* A new message under a transaction id takes its place. */
		if (i < DCCLIENT_SENT_CACHE)
			slot = i;
		else {
			slot = dc->sent_next;
			dc->sent_next = (dc->sent_next + 1) %
			    DCCLIENT_SENT_CACHE;
		}
		h.seq = dc->seq_tx + 1;
	}
	memcpy(out, msg, len);
	store_be64(out + 12, h.seq);
	memcpy(out + 20, dc->sid, PROTO_ID_LEN);
	memcpy(h.id, dc->sid, PROTO_ID_LEN);
	msg_nonce(&h, nonce);
	if ((rc = aead_seal(dc->k_tx, nonce, out, PROTO_HEADER_LEN,
	    out + PROTO_HEADER_LEN, len - PROTO_HEADER_LEN - PROTO_TAG_LEN,
	    out + PROTO_HEADER_LEN, len - PROTO_HEADER_LEN)) < 0)
		return rc;
	*outlen = len;
	if (retransmit)
		return 0;
	dc->seq_tx = h.seq;
	dc->sent[slot].type = h.type;
	dc->sent[slot].txid = h.txid;
	dc->sent[slot].seq = h.seq;
	memcpy(dc->sent[slot].hash, hash, sizeof(hash));
	return 0;
}

static int
dcclient_send_sealed(struct dcclient *dc, uint8_t type, uint64_t now)
{
	uint8_t pkt[PROTO_DATAGRAM_MAX];
	struct msg m;
	size_t len, i;
	int rc;

	msg_init(&m, type);
	if (type == PROTO_MSG_REGISTRATION) {
		for (i = 0; i < dc->nlocal; i++)
			if ((rc = msg_add_addr(&m, PROTO_ATTR_LOCAL_ADDR,
			    &dc->local[i])) < 0)
				return rc;
		if (dc->want_lifetime_s != 0 && (rc = msg_add_u32(&m,
		    PROTO_ATTR_LIFETIME, dc->want_lifetime_s)) < 0)
			return rc;
		if (dc->want_keepalive_s != 0 && (rc = msg_add_u32(&m,
		    PROTO_ATTR_KEEPALIVE, dc->want_keepalive_s)) < 0)
			return rc;
	}
	if ((rc = dcclient_seal(dc, &m, pkt, sizeof(pkt), &len)) < 0)
		return rc;
	dcclient_request(dc, type, m.hdr.txid, pkt, len, now);
	return 0;
}

static int
dcclient_challenge(struct dcclient *dc, const struct msg *m, uint64_t now)
{
	const struct msg_attr *nonce, *cookie;
	uint8_t k_n2dc[PROTO_KEY_LEN], k_dc2n[PROTO_KEY_LEN];
	uint32_t retry = 0;
	int rc;

	if (dc->state != DCCLIENT_HELLO ||
	    dc->req_type != PROTO_MSG_REG_HELLO || m->hdr.txid != dc->req_txid)
		return -ENOMSG;
	nonce = msg_attr_find(m, PROTO_ATTR_NONCE);
	if (m->hdr.status != PROTO_STATUS_OK) {
		/*
		 * Unsealed, so anyone on the path could forge it: accept it
		 * only when it echoes our nonce, like a success.
		 */
		if (nonce == NULL || !crypto_ct_equal(nonce->val, dc->nonce_n,
		    PROTO_RANDOM_LEN))
			return -ENOMSG;
		if (m->hdr.status == PROTO_STATUS_BAD_TICKET ||
		    m->hdr.status == PROTO_STATUS_EXPIRED) {
			dcclient_no_ticket(dc, m->hdr.status);
			return 0;
		}
		(void)msg_attr_u32(m, PROTO_ATTR_RETRY_AFTER, &retry);
		dcclient_backoff(dc, m->hdr.status, retry, now);
		return 0;
	}
	cookie = msg_attr_find(m, PROTO_ATTR_COOKIE);
	if (nonce == NULL || cookie == NULL)
		return MSG_E_ATTR_MISSING;
	if (!crypto_ct_equal(nonce->val, dc->nonce_n, PROTO_RANDOM_LEN))
		return -ENOMSG;
	if ((rc = dcclient_derive(dc->k_nd, dc->nonce_n, cookie->val, k_n2dc,
	    k_dc2n)) < 0)
		return rc;
	rc = aead_new(&dc->k_tx, AEAD_ALG_AES256GCM, k_n2dc, sizeof(k_n2dc));
	if (rc == 0)
		rc = aead_new(&dc->k_rx, AEAD_ALG_AES256GCM, k_dc2n,
		    sizeof(k_dc2n));
	crypto_wipe(k_n2dc, sizeof(k_n2dc));
	crypto_wipe(k_dc2n, sizeof(k_dc2n));
	if (rc < 0) {
		dcclient_session_drop(dc);
		return rc;
	}
	memcpy(dc->sid, m->hdr.id, PROTO_ID_LEN);
	dc->seq_tx = 0;
	replay_init(&dc->rx_window);
	dc->state = DCCLIENT_REGISTERING;
	dc->req_type = 0;
	if ((rc = dcclient_send_sealed(dc, PROTO_MSG_REGISTRATION, now)) < 0) {
		dcclient_backoff(dc, PROTO_STATUS_INTERNAL, 0, now);
		return rc;
	}
	return 0;
}

static void
dcclient_schedule(struct dcclient *dc, uint64_t now)
{
	dc->keepalive_due = now + (uint64_t)dc->reg.keepalive_s * 1000;
}

static int
dcclient_ack(struct dcclient *dc, const struct msg *m, uint64_t now)
{
	const struct msg_attr *a;
	struct dcclient_reg reg;
	uint32_t retry = 0;
	int rc;

	if (dc->req_type != PROTO_MSG_REGISTRATION ||
	    m->hdr.txid != dc->req_txid)
		return -ENOMSG;
	if (m->hdr.status != PROTO_STATUS_OK) {
		(void)msg_attr_u32(m, PROTO_ATTR_RETRY_AFTER, &retry);
		dcclient_backoff(dc, m->hdr.status, retry, now);
		return 0;
	}
	memset(&reg, 0, sizeof(reg));
	if ((a = msg_attr_find(m, PROTO_ATTR_OBSERVED_ADDR)) == NULL ||
	    (rc = msg_addr_parse(a, &reg.observed)) < 0 ||
	    msg_attr_u8(m, PROTO_ATTR_NAT, &reg.nat) < 0 ||
	    msg_attr_u32(m, PROTO_ATTR_LIFETIME, &reg.lifetime_s) < 0 ||
	    msg_attr_u32(m, PROTO_ATTR_KEEPALIVE, &reg.keepalive_s) < 0)
		return MSG_E_ATTR_MISSING;
	if (reg.lifetime_s == 0 || reg.keepalive_s == 0 ||
	    reg.keepalive_s > reg.lifetime_s)
		return MSG_E_ATTR_VALUE;
	if ((a = msg_attr_find(m, PROTO_ATTR_FQDN)) != NULL) {
		memcpy(reg.fqdn, a->val, a->len);
		reg.fqdn[a->len] = '\0';
	}
	if ((a = msg_attr_find(m, PROTO_ATTR_VIP4)) != NULL) {
		memcpy(reg.vip4, a->val, 4);
		reg.has_vip4 = true;
	}
	if ((a = msg_attr_find(m, PROTO_ATTR_VIP6)) != NULL) {
		memcpy(reg.vip6, a->val, 16);
		reg.has_vip6 = true;
	}
	reg.registered_at = reg.refreshed_at = now;
	dc->reg = reg;
	dc->req_type = 0;
	dc->state = DCCLIENT_REGISTERED;
	dc->backoff_ms = DCCLIENT_BACKOFF_MIN_MS;
	dc->stats.registrations++;
	dcclient_schedule(dc, now);
	dcclient_push(dc, DCCLIENT_ACT_REGISTERED, PROTO_STATUS_OK, NULL, 0);
	return 0;
}

static bool
dcclient_addr_same(const struct msg_addr *a, const struct msg_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->addr, b->addr, a->family == PROTO_FAMILY_IPV4 ? 4 :
	    16) == 0;
}

static int
dcclient_keepalive_ack(struct dcclient *dc, const struct msg *m,
    uint64_t now)
{
	const struct msg_attr *a;
	struct msg_addr obs;
	uint32_t life;

	if (dc->state != DCCLIENT_REGISTERED ||
	    dc->req_type != PROTO_MSG_KEEPALIVE || m->hdr.txid != dc->req_txid)
		return -ENOMSG;
	dc->req_type = 0;
	if (m->hdr.status != PROTO_STATUS_OK) {
		/* NOT_REGISTERED and the like: the DC lost us. */
		dcclient_push(dc, DCCLIENT_ACT_LOST, m->hdr.status, NULL, 0);
		return dcclient_start(dc, now);
	}
	if ((a = msg_attr_find(m, PROTO_ATTR_OBSERVED_ADDR)) == NULL ||
	    msg_addr_parse(a, &obs) < 0)
		return MSG_E_ATTR_MISSING;
	dc->stats.keepalives++;
	if (!dcclient_addr_same(&obs, &dc->reg.observed)) {
		/* The NAT rebound: re-register (PROTOCOL.md 7 step 6). */
		dcclient_push(dc, DCCLIENT_ACT_LOST, PROTO_STATUS_OK, NULL, 0);
		return dcclient_start(dc, now);
	}
	if (msg_attr_u32(m, PROTO_ATTR_LIFETIME, &life) == 0 && life > 0)
		dc->reg.lifetime_s = life;
	dc->reg.refreshed_at = now;
	dcclient_schedule(dc, now);
	return 0;
}

int
dcclient_input(struct dcclient *dc, const void *pkt, size_t len,
    uint64_t now)
{
	uint8_t buf[PROTO_DATAGRAM_MAX];
	struct msg m;
	int rc;

	if (len < PROTO_HEADER_LEN || len > sizeof(buf)) {
		rc = len < PROTO_HEADER_LEN ? MSG_E_SHORT_HEADER :
		    MSG_E_TOO_BIG;
		goto drop;
	}
	memcpy(buf, pkt, len);
	switch (buf[1]) {
	case PROTO_MSG_REG_CHALLENGE:
		if ((rc = msg_decode(buf, len, &m)) < 0)
			goto drop;
		if ((rc = dcclient_challenge(dc, &m, now)) < 0)
			goto drop;
		return 0;
	case PROTO_MSG_REGISTRATION_ACK:
	case PROTO_MSG_KEEPALIVE_ACK:
		if ((rc = dcclient_open(dc, buf, len, &m)) < 0)
			goto drop;
		if (m.hdr.type == PROTO_MSG_REGISTRATION_ACK)
			rc = dcclient_ack(dc, &m, now);
		else
			rc = dcclient_keepalive_ack(dc, &m, now);
		if (rc < 0)
			goto drop;
		return 0;
	default:
		rc = -EPROTO;
		goto drop;
	}
drop:
	dc->stats.dropped++;
	return rc;
}

static void
dcclient_request_timer(struct dcclient *dc, uint64_t now)
{
	uint8_t type;
	uint64_t gap;

	if (dc->req_type == 0)
		return;
	if (now >= dc->req_fail) {
		type = dc->req_type;
		dc->req_type = 0;
		dc->stats.failures++;
		if (type == PROTO_MSG_KEEPALIVE) {
			dcclient_push(dc, DCCLIENT_ACT_LOST,
			    PROTO_STATUS_UNAVAILABLE, NULL, 0);
			(void)dcclient_start(dc, now);
		} else
			dcclient_backoff(dc, PROTO_STATUS_UNAVAILABLE, 0, now);
		return;
	}
	if (dc->req_sends >= PROTO_TIMER_RETRANSMIT_TRIES || now < dc->req_next)
		return;
	dc->req_sends++;
	dc->stats.retransmits++;
	dcclient_push(dc, DCCLIENT_ACT_SEND, 0, dc->req, dc->req_len);
	if (dc->req_sends == PROTO_TIMER_RETRANSMIT_TRIES) {
		dc->req_next = UINT64_MAX;
		dc->req_fail = now + DCCLIENT_FAIL_AFTER_MS;
	} else {
		gap = (uint64_t)PROTO_TIMER_RETRANSMIT << (dc->req_sends - 1);
		dc->req_next = now + gap;
	}
}

void
dcclient_timer(struct dcclient *dc, uint64_t now)
{
	uint64_t life_ms;

	switch (dc->state) {
	case DCCLIENT_HELLO:
	case DCCLIENT_REGISTERING:
		dcclient_request_timer(dc, now);
		break;
	case DCCLIENT_REGISTERED:
		if (now / 1000 >= dc->ticket_expiry) {
			dcclient_no_ticket(dc, PROTO_STATUS_EXPIRED);
			break;
		}
		life_ms = (uint64_t)dc->reg.lifetime_s * 1000;
		if (now >= dc->reg.refreshed_at + life_ms * 2 / 3) {
			/* Two thirds of the lifetime without an answer. */
			dcclient_push(dc, DCCLIENT_ACT_LOST,
			    PROTO_STATUS_EXPIRED, NULL, 0);
			(void)dcclient_start(dc, now);
			break;
		}
		if (dc->req_type != 0) {
			dcclient_request_timer(dc, now);
			break;
		}
		if (now >= dc->keepalive_due &&
		    dcclient_send_sealed(dc, PROTO_MSG_KEEPALIVE, now) < 0)
			dcclient_backoff(dc, PROTO_STATUS_INTERNAL, 0, now);
		break;
	case DCCLIENT_BACKOFF:
		if (now >= dc->backoff_until)
			(void)dcclient_start(dc, now);
		break;
	default:
		break;
	}
}

uint64_t
dcclient_next_timer(const struct dcclient *dc)
{
	uint64_t t = UINT64_MAX, refresh;

	switch (dc->state) {
	case DCCLIENT_HELLO:
	case DCCLIENT_REGISTERING:
		break;
	case DCCLIENT_REGISTERED:
		refresh = dc->reg.refreshed_at +
		    (uint64_t)dc->reg.lifetime_s * 1000 * 2 / 3;
		t = dc->req_type != 0 ? refresh : dc->keepalive_due;
		if (refresh < t)
			t = refresh;
		/* An expiry beyond 64-bit milliseconds never comes. */
		if (dc->ticket_expiry < UINT64_MAX / 1000 &&
		    dc->ticket_expiry * 1000 < t)
			t = dc->ticket_expiry * 1000;
		break;
	case DCCLIENT_BACKOFF:
		return dc->backoff_until;
	default:
		return UINT64_MAX;
	}
	if (dc->req_type != 0) {
		if (dc->req_next < t)
			t = dc->req_next;
		if (dc->req_fail < t)
			t = dc->req_fail;
	}
	return t;
}
