/* tunnel.c -- sans-I/O tunnel establishment of a node, as MN and as CN: Direction Request, Route Direction, NTM ACK, Tunnel Request/Response. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"
#include "buf.h"
#include "cert.h"
#include "crypto.h"
#include "frag.h"
#include "handshake.h"
#include "log.h"
#include "rand.h"
#include "replay.h"
#include "tunnel.h"

#define TREQ_LABEL	"ntmobile v1 tunnel request"
#define TRESP_LABEL	"ntmobile v1 tunnel response"

enum setup_state {
	SETUP_INVALID = 0,
	SETUP_WAIT_ROUTE,	/* MN: Direction Request sent */
	SETUP_WAIT_CERT,	/* rsa initiator: certificate fetch sent */
	SETUP_WAIT_RESPONSE,	/* initiator: Tunnel Request sent */
	SETUP_WAIT_REQUEST,	/* responder: path id remembered */
	SETUP_DONE,		/* answered; cached answer kept a while */
};

/* The datagrams of one sealed message (fragments when it is large). */
struct tx {
	size_t		 n;
	size_t		 len[PROTO_FRAGMENTS_MAX];
	uint8_t		 buf[PROTO_FRAGMENTS_MAX][PROTO_DATAGRAM_MAX];
};

struct setup {
	enum setup_state state;
	bool		 mn;		/* we looked the name up */
	char		 peer[PROTO_FQDN_MAX + 1];
	uint64_t	 waiter[TUNNEL_WAITERS_MAX];
	size_t		 nwaiters;
	/* Our message to the DC: Direction Request (MN) or NTM ACK (CN). */
	uint32_t	 txid;
	uint8_t		 dcmsg[PROTO_DATAGRAM_MAX];
	size_t		 dcmsg_len;
	uint8_t		 dctype;
	unsigned	 sends;
	uint64_t	 deadline;
	/* From the Route Direction. */
	bool		 routed;
	uint8_t		 path[PROTO_ID_LEN];
	uint8_t		 route, role, kex;
	uint64_t	 expiry_ms;
	bool		 has_vip4, has_vip6;
	uint8_t		 vip4[4];
	uint8_t		 vip6[16];
	struct msg_addr	 to[PROTO_ADDRS_MAX + 2];
	size_t		 nto;
	uint32_t	 rid, peer_rid;
	uint8_t		 temp_key[PROTO_KEY_LEN];
	uint8_t		 peer_cert_hash[PROTO_HASH_LEN];
	uint8_t		 peer_serial[PROTO_SERIAL_MAX];
	size_t		 peer_serial_len;
	struct aead	*treq, *tresp;
	struct replay_window rx;	/* the peer's sequence numbers */
	uint64_t	 tx_seq;
	/* Handshake. */
	struct kex	*kx;
	uint32_t	 req_txid;
	uint8_t		*reqbody;	/* initiator: T_I's message */
	struct msg	 req;		/* decoded from reqbody */
	struct tx	*tx;		/* request, or cached response */
	struct sockaddr_storage req_from; /* responder: whom tx answered */
	/* Certificate fetch (rsa first contact, PROTOCOL.md 8.5). */
	uint32_t	 fetch_txid;	/* initiator: the fetch's */
	struct tx	*fetch_tx;	/* responder: the cached answer */
	uint64_t	 fetch_seq;	/* responder: the fetch it answers */
	unsigned	 fetch_sends;	/* responder: answers sent */
	struct sockaddr_storage fetch_from; /* responder: whom it went to */
	/* clock_us at each step (struct tunnel_timing). */
	uint64_t	 at_start;	/* MN: lookup; CN: Route Direction */
	uint64_t	 at_route;	/* Route Direction */
	uint64_t	 at_sent;	/* initiator: Tunnel Request sent */
	uint64_t	 at_in;		/* the peer's handshake message */
	uint32_t	 answer_us;	/* responder: request in to response out */
};

/* A live tunnel: what a second lookup reuses. */
struct link {
	char		 peer[PROTO_FQDN_MAX + 1];
	uint8_t		 path[PROTO_ID_LEN];
	uint32_t	 rid;
	uint8_t		 serial[PROTO_SERIAL_MAX];	/* the peer's */
	size_t		 serial_len;
	bool		 has_vip4, has_vip6;
	uint8_t		 vip4[4];
	uint8_t		 vip6[16];
};

/* A path id already used, refused until its Route Direction expired. */
struct spent {
	uint8_t		 path[PROTO_ID_LEN];
	uint64_t	 until;
};

struct tunnel {
	char			 fqdn[PROTO_FQDN_MAX + 1];
	gnutls_privkey_t	 key;
	gnutls_datum_t		 cert_der;
	uint8_t			 cert_hash[PROTO_HASH_LEN];
	uint8_t			*status;
	size_t			 status_len;
	struct kex_allowed	 allowed;
	uint8_t			 aead[PROTO_AEAD_MAX];
	size_t			 naead;
	struct peercheck	*pc;
	struct ntm_rng		*rng;
	tunnel_emit_cb		 emit;
	void			*arg;
	uint64_t		(*clock_us)(void);
	struct setup		*setup[TUNNEL_SETUPS_MAX];
	struct link		*links;
	size_t			 nlinks, caplinks;
	struct spent		*spent;
	size_t			 nspent, capspent;
	struct frag_table	*frag;
	uint8_t			*whole;		/* reassembly output */
	uint64_t		 armed;		/* last TIMER emitted */
	struct tunnel_stats	 stats;
};

/* ---- helpers ---- */

/* The timing clock now, 0 without one. */
static uint64_t
clock_at(const struct tunnel *t)
{
	return t->clock_us != NULL ? t->clock_us() : 0;
}

/* b - a in microseconds, 0 when either is unknown, at most UINT32_MAX. */
static uint32_t
clock_span(uint64_t a, uint64_t b)
{
	if (a == 0 || b < a)
		return 0;
	return b - a > UINT32_MAX ? UINT32_MAX : (uint32_t)(b - a);
}

static void
path_hex(const uint8_t *p, char out[2 * PROTO_ID_LEN + 1])
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < PROTO_ID_LEN; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * PROTO_ID_LEN] = '\0';
}

static void
emit(struct tunnel *t, const struct tunnel_action *a)
{
	if (t->emit != NULL)
		t->emit(t->arg, a);
}

static uint64_t
backoff(unsigned sends)
{
	if (sends >= PROTO_TIMER_RETRANSMIT_TRIES)
		return TUNNEL_FAIL_WAIT_MS;
	return (uint64_t)PROTO_TIMER_RETRANSMIT << (sends - 1);
}

uint64_t
tunnel_next_timer(const struct tunnel *t)
{
	uint64_t next = UINT64_MAX;
	size_t i;

	for (i = 0; i < TUNNEL_SETUPS_MAX; i++)
		if (t->setup[i] != NULL && t->setup[i]->deadline < next)
			next = t->setup[i]->deadline;
	for (i = 0; i < t->nspent; i++)
		if (t->spent[i].until < next)
			next = t->spent[i].until;
	return next;
}

static void
timer_update(struct tunnel *t)
{
	struct tunnel_action a;
	uint64_t next = tunnel_next_timer(t);

	if (next == t->armed)
		return;
	t->armed = next;
	memset(&a, 0, sizeof(a));
	a.type = TUNNEL_ACT_TIMER;
	a.when = next;
	emit(t, &a);
}

static void
answer(struct tunnel *t, const char *peer, uint64_t token,
    enum proto_status st, const char *reason, const struct link *l)
{
	struct tunnel_action a;

	memset(&a, 0, sizeof(a));
	a.type = TUNNEL_ACT_ANSWER;
	a.peer = peer;
	a.token = token;
	a.status = st;
	a.reason = reason;
	if (l != NULL) {
		a.path_id = l->path;
		a.has_vip4 = l->has_vip4;
		a.has_vip6 = l->has_vip6;
		memcpy(a.vip4, l->vip4, 4);
		memcpy(a.vip6, l->vip6, 16);
	}
	emit(t, &a);
}

static void
waiters_answer(struct tunnel *t, struct setup *s, enum proto_status st,
    const char *reason, const struct link *l)
{
	size_t i;

	for (i = 0; i < s->nwaiters; i++)
		answer(t, s->peer, s->waiter[i], st, reason, l);
	s->nwaiters = 0;
}

static void
setup_free(struct setup *s)
{
	if (s == NULL)
		return;
	kex_free(s->kx);
	aead_free(s->treq);
	aead_free(s->tresp);
	free(s->reqbody);
	free(s->tx);
	free(s->fetch_tx);
	crypto_wipe(s, sizeof(*s));
	free(s);
}

static void
setup_remove(struct tunnel *t, struct setup *s)
{
	size_t i;

	for (i = 0; i < TUNNEL_SETUPS_MAX; i++)
		if (t->setup[i] == s) {
			t->setup[i] = NULL;
			break;
		}
	setup_free(s);
}

static struct setup *
setup_add(struct tunnel *t)
{
	struct setup *s;
	size_t i;

	for (i = 0; i < TUNNEL_SETUPS_MAX; i++)
		if (t->setup[i] == NULL)
			break;
	if (i == TUNNEL_SETUPS_MAX)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	t->setup[i] = s;
	return s;
}

static struct setup *
setup_by_path(struct tunnel *t, const uint8_t *path)
{
	size_t i;

	for (i = 0; i < TUNNEL_SETUPS_MAX; i++)
		if (t->setup[i] != NULL && t->setup[i]->routed &&
		    memcmp(t->setup[i]->path, path, PROTO_ID_LEN) == 0)
			return t->setup[i];
	return NULL;
}

/* A setup for peer still in progress, for lookups to share. */
static struct setup *
setup_pending(struct tunnel *t, const char *peer)
{
	size_t i;

	for (i = 0; i < TUNNEL_SETUPS_MAX; i++)
		if (t->setup[i] != NULL && t->setup[i]->state != SETUP_DONE &&
		    strcmp(t->setup[i]->peer, peer) == 0)
			return t->setup[i];
	return NULL;
}

static struct link *
link_find(struct tunnel *t, const char *peer)
{
	size_t i;

	for (i = 0; i < t->nlinks; i++)
		if (strcmp(t->links[i].peer, peer) == 0)
			return &t->links[i];
	return NULL;
}

static void
link_del(struct tunnel *t, struct link *l)
{
	size_t i = (size_t)(l - t->links);

	t->links[i] = t->links[--t->nlinks];
}

static bool
spent_has(struct tunnel *t, const uint8_t *path)
{
	size_t i;

	for (i = 0; i < t->nspent; i++)
		if (memcmp(t->spent[i].path, path, PROTO_ID_LEN) == 0)
			return true;
	return false;
}

static int
spent_add(struct tunnel *t, const uint8_t *path, uint64_t until)
{
	struct spent *n;

	if (t->nspent == t->capspent) {
		size_t cap = t->capspent ? 2 * t->capspent : 16;

		if ((n = reallocarray(t->spent, cap, sizeof(*n))) == NULL)
			return -ENOMEM;
		t->spent = n;
		t->capspent = cap;
	}
	memcpy(t->spent[t->nspent].path, path, PROTO_ID_LEN);
	t->spent[t->nspent].until = until;
	t->nspent++;
	return 0;
}

/* ---- construction ---- */

int
tunnel_new(struct tunnel **out, const struct tunnel_conf *conf)
{
	struct tunnel *t;
	size_t i;
	int rc;

	*out = NULL;
	if (conf == NULL || conf->fqdn == NULL || conf->cert == NULL ||
	    conf->key == NULL || conf->pc == NULL || conf->rng == NULL ||
	    strlen(conf->fqdn) > PROTO_FQDN_MAX ||
	    conf->naead > PROTO_AEAD_MAX)
		return -EINVAL;
	for (i = 0; i < conf->naead; i++)
		if (handshake_aead_alg(conf->aead[i]) == AEAD_ALG_INVALID)
			return -EINVAL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	snprintf(t->fqdn, sizeof(t->fqdn), "%s", conf->fqdn);
	t->key = conf->key;
	t->pc = conf->pc;
	t->rng = conf->rng;
	t->emit = conf->emit;
	t->arg = conf->arg;
	t->clock_us = conf->clock_us;
	t->armed = UINT64_MAX;
	if (conf->kex_allowed.n == 0)
		kex_allowed_default(&t->allowed);
	else
		t->allowed = conf->kex_allowed;
	if (conf->naead == 0) {
		t->aead[0] = PROTO_AEAD_AES256_GCM;
		t->aead[1] = PROTO_AEAD_CHACHA20_POLY1305;
		t->naead = 2;
	} else {
		memcpy(t->aead, conf->aead, conf->naead);
		t->naead = conf->naead;
	}
	rc = -ENOMEM;
	if ((t->frag = malloc(sizeof(*t->frag))) == NULL ||
	    (t->whole = malloc(PROTO_REASSEMBLY_MAX)) == NULL)
		goto fail;
	frag_table_init(t->frag);
	rc = -EINVAL;
	if (gnutls_x509_crt_export2(conf->cert, GNUTLS_X509_FMT_DER,
	    &t->cert_der) < 0 || t->cert_der.size > PROTO_CERT_MAX ||
	    handshake_cert_hash(conf->cert, t->cert_hash) < 0)
		goto fail;
	if ((rc = tunnel_set_status(t, conf->status, conf->status_len)) < 0)
		goto fail;
	*out = t;
	return 0;
fail:
	tunnel_free(t);
	return rc;
}

void
tunnel_free(struct tunnel *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < TUNNEL_SETUPS_MAX; i++)
		setup_free(t->setup[i]);
	gnutls_free(t->cert_der.data);
	free(t->status);
	free(t->links);
	free(t->spent);
	free(t->frag);
	free(t->whole);
	free(t);
}

int
tunnel_set_status(struct tunnel *t, const uint8_t *der, size_t len)
{
	uint8_t *n;

	if (der == NULL || len == 0 || len > PROTO_STATUS_MAX_LEN)
		return -EINVAL;
	if ((n = malloc(len)) == NULL)
		return -ENOMEM;
	memcpy(n, der, len);
	free(t->status);
	t->status = n;
	t->status_len = len;
	return 0;
}

bool
tunnel_path_pending(const struct tunnel *t,
    const uint8_t path_id[PROTO_ID_LEN])
{
	size_t i;

	for (i = 0; i < TUNNEL_SETUPS_MAX; i++)
		if (t->setup[i] != NULL && t->setup[i]->routed &&
		    memcmp(t->setup[i]->path, path_id, PROTO_ID_LEN) == 0)
			return true;
	return false;
}

size_t
tunnel_count(const struct tunnel *t)
{
	return t->nlinks;
}

size_t
tunnel_setups(const struct tunnel *t)
{
	size_t i, n = 0;

	for (i = 0; i < TUNNEL_SETUPS_MAX; i++)
		if (t->setup[i] != NULL && t->setup[i]->state != SETUP_DONE)
			n++;
	return n;
}

const struct tunnel_stats *
tunnel_stats(const struct tunnel *t)
{
	return &t->stats;
}

/* ---- ending a setup ---- */

/* The setup failed: answers its lookups and drops it. */
static void
setup_fail(struct tunnel *t, struct setup *s, enum proto_status st,
    const char *reason)
{
	char hex[2 * PROTO_ID_LEN + 1] = "-";

	if (s->routed)
		path_hex(s->path, hex);
	log_info("tunnel to %s (path %s) refused: %s (%s)", s->peer, hex,
	    reason, msg_status_name(st));
	t->stats.refused++;
	waiters_answer(t, s, st, reason, NULL);
	setup_remove(t, s);
}

/*
 * Keys are ready: hand them to the data plane, remember the tunnel,
 * answer every lookup of this peer, and settle a race with a second
 * tunnel to the same peer (lower path id survives, PROTOCOL.md 8.1).
 */
static int
setup_established(struct tunnel *t, struct setup *s,
    struct handshake_keys *keys, uint8_t aead_id, const struct sockaddr *from,
    const uint8_t *cert, size_t cert_len, const struct msg_attr *status)
{
	struct dataplane_tunnel_conf c;
	struct tunnel_action a;
	struct tunnel_timing tm;
	struct link *l, *old, nl;
	char hex[2 * PROTO_ID_LEN + 1];
	uint64_t up = clock_at(t);
	bool refused = false;
	size_t i;

	memset(&tm, 0, sizeof(tm));
	tm.setup_us = clock_span(s->at_start, up);
	if (s->mn) {
		tm.route_us = clock_span(s->at_start, s->at_route);
		tm.request_us = clock_span(s->at_route, s->at_sent);
		tm.peer_us = clock_span(s->at_sent, s->at_in);
		tm.finish_us = clock_span(s->at_in, up);
	} else
		tm.answer_us = s->answer_us;
	memset(&c, 0, sizeof(c));
	c.rid = s->rid;
	c.peer_rid = s->peer_rid;
	c.alg = handshake_aead_alg(aead_id);
	c.role = s->role == PROTO_ROLE_INITIATOR ? DATAPLANE_ROLE_INITIATOR :
	    DATAPLANE_ROLE_RESPONDER;
	memcpy(c.key_i2r, keys->i2r, PROTO_KEY_LEN);
	memcpy(c.key_r2i, keys->r2i, PROTO_KEY_LEN);
	c.has_vip4 = s->has_vip4;
	c.has_vip6 = s->has_vip6;
	memcpy(c.peer_vip4, s->vip4, 4);
	memcpy(c.peer_vip6, s->vip6, 16);
	if (from->sa_family == AF_INET)
		memcpy(&c.peer_addr, from, sizeof(struct sockaddr_in));
	else if (from->sa_family == AF_INET6)
		memcpy(&c.peer_addr, from, sizeof(struct sockaddr_in6));
	memset(&a, 0, sizeof(a));
	a.type = TUNNEL_ACT_INSTALL;
	a.peer = s->peer;
	a.path_id = s->path;
	a.tun = &c;
	a.kex = s->kex;
	a.k_rekey = keys->rekey;
	a.peer_cert = cert;
	a.peer_cert_len = cert_len;
	a.peer_status = status->val;
	a.peer_status_len = status->len;
	a.timing = &tm;
	a.refused = &refused;
	emit(t, &a);
	crypto_wipe(&c, sizeof(c));
	handshake_keys_wipe(keys);
	if (refused) {
		/* The data plane did not take it: nothing live to reuse. */
		path_hex(s->path, hex);
		log_info("tunnel to %s (path %s) not installed", s->peer, hex);
		t->stats.refused++;
		waiters_answer(t, s, PROTO_STATUS_INTERNAL, "not installed",
		    NULL);
		return -EIO;
	}
	t->stats.established++;

	memset(&nl, 0, sizeof(nl));
	snprintf(nl.peer, sizeof(nl.peer), "%s", s->peer);
	memcpy(nl.path, s->path, PROTO_ID_LEN);
	nl.rid = s->rid;
	memcpy(nl.serial, s->peer_serial, s->peer_serial_len);
	nl.serial_len = s->peer_serial_len;
	nl.has_vip4 = s->has_vip4;
	nl.has_vip6 = s->has_vip6;
	memcpy(nl.vip4, s->vip4, 4);
	memcpy(nl.vip6, s->vip6, 16);
	if ((old = link_find(t, s->peer)) != NULL) {
		const struct link *loser = memcmp(old->path, nl.path,
		    PROTO_ID_LEN) < 0 ? &nl : old;

		memset(&a, 0, sizeof(a));
		a.type = TUNNEL_ACT_CLOSE;
		a.peer = loser->peer;
		a.path_id = loser->path;
		a.rid = loser->rid;
		emit(t, &a);
		t->stats.closed_races++;
		if (loser == old)
			*old = nl;
		l = old;
	} else {
		if (t->nlinks == t->caplinks) {
			size_t cap = t->caplinks ? 2 * t->caplinks : 8;
			struct link *n = reallocarray(t->links, cap,
			    sizeof(*n));

			if (n == NULL)
				return -ENOMEM;
			t->links = n;
			t->caplinks = cap;
		}
		l = &t->links[t->nlinks++];
		*l = nl;
	}
	for (i = 0; i < TUNNEL_SETUPS_MAX; i++)
		if (t->setup[i] != NULL &&
		    strcmp(t->setup[i]->peer, l->peer) == 0)
			waiters_answer(t, t->setup[i], PROTO_STATUS_OK, "up",
			    l);
	/* After the answers: the lookup does not wait for the log. */
	path_hex(s->path, hex);
	log_info("tunnel to %s up (path %s, %s, %s)", s->peer, hex,
	    kex_name(s->kex), s->role == PROTO_ROLE_INITIATOR ? "initiator" :
	    "responder");
	return 0;
}

/* ---- sealing, fragmenting ---- */

/*
 * The message with header h and attribute list body[blen], sealed under
 * key into tx: one datagram, or fragments of at most a datagram each.
 */
static int
seal_out(struct tunnel *t, struct setup *s, struct aead *key,
    const struct msg_header *h0, const uint8_t *body, size_t blen,
    struct tx *tx)
{
	struct frag_piece piece[PROTO_FRAGMENTS_MAX];
	uint8_t nonce[PROTO_NONCE_LEN];
	struct msg_header h;
	struct msg_frag f;
	struct wbuf w;
	unsigned count = 1, i;
	uint32_t msgid = 0;
	bool frag;
	size_t pt;
	int rc;

	frag = PROTO_HEADER_LEN + blen + PROTO_TAG_LEN > PROTO_DATAGRAM_MAX;
	if (frag) {
		if ((rc = frag_split(blen, PROTO_DATAGRAM_MAX -
		    PROTO_HEADER_LEN - PROTO_FRAG_HEADER_LEN - PROTO_TAG_LEN,
		    piece, &count)) < 0)
			return rc;
		if ((rc = rng_bytes(t->rng, &msgid, sizeof(msgid))) < 0)
			return rc;
	} else {
		piece[0].off = 0;
		piece[0].len = blen;
	}
	tx->n = 0;
	for (i = 0; i < count; i++) {
		h = *h0;
		h.flags = PROTO_F_SEALED | (frag ? PROTO_F_FRAGMENT : 0);
		h.seq = ++s->tx_seq;
		pt = (frag ? PROTO_FRAG_HEADER_LEN : 0) + piece[i].len;
		h.length = (uint16_t)(pt + PROTO_TAG_LEN);
		wbuf_init(&w, tx->buf[i], sizeof(tx->buf[i]));
		if ((rc = msg_header_encode(&h, &w)) < 0)
			return rc;
		if (frag) {
			f.msgid = msgid;
			f.index = (uint8_t)i;
			f.count = (uint8_t)count;
			msg_frag_encode(&f, &w);
		}
		wbuf_put_bytes(&w, body + piece[i].off, piece[i].len);
		if ((rc = wbuf_error(&w)) < 0)
			return rc;
		msg_nonce(&h, nonce);
		if ((rc = aead_seal(key, nonce, tx->buf[i], PROTO_HEADER_LEN,
		    tx->buf[i] + PROTO_HEADER_LEN, pt,
		    tx->buf[i] + PROTO_HEADER_LEN,
		    sizeof(tx->buf[i]) - PROTO_HEADER_LEN)) < 0)
			return rc;
		tx->len[i] = PROTO_HEADER_LEN + pt + PROTO_TAG_LEN;
		tx->n++;
	}
	return 0;
}

static void
tx_send(struct tunnel *t, struct setup *s, const struct tx *tx,
    const struct msg_addr *to, size_t nto, bool retransmit)
{
	struct tunnel_action a;
	size_t i, j;

	for (j = 0; j < nto; j++)
		for (i = 0; i < tx->n; i++) {
			memset(&a, 0, sizeof(a));
			a.type = TUNNEL_ACT_SEND_PEER;
			a.peer = s->peer;
			a.path_id = s->path;
			a.msg = tx->buf[i];
			a.len = tx->len[i];
			a.to = &to[j];
			a.retransmit = retransmit;
			emit(t, &a);
		}
}

static void
addr_of(const struct sockaddr *sa, struct msg_addr *a)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		memcpy(&in, sa, sizeof(in));
		a->family = PROTO_FAMILY_IPV4;
		a->port = ntohs(in.sin_port);
		memcpy(a->addr, &in.sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(&in6, sa, sizeof(in6));
		a->family = PROTO_FAMILY_IPV6;
		a->port = ntohs(in6.sin6_port);
		memcpy(a->addr, &in6.sin6_addr, 16);
	}
}

/*
 * A cached answer goes again only where the first went: a replayed
 * request from a forged source must not reflect it elsewhere.
 */
static bool
sockaddr_same(const struct sockaddr *a, const struct sockaddr *b)
{
	struct msg_addr x, y;

	if (a->sa_family != b->sa_family)
		return false;
	addr_of(a, &x);
	addr_of(b, &y);
	return x.family != PROTO_FAMILY_INVALID && x.port == y.port &&
	    memcmp(x.addr, y.addr, sizeof(x.addr)) == 0;
}

static void
dc_send(struct tunnel *t, struct setup *s, bool retransmit)
{
	struct tunnel_action a;

	memset(&a, 0, sizeof(a));
	a.type = TUNNEL_ACT_SEND_DC;
	a.peer = s->peer;
	a.path_id = s->routed ? s->path : NULL;
	a.msg = s->dcmsg;
	a.len = s->dcmsg_len;
	a.txid = s->txid;
	a.retransmit = retransmit;
	emit(t, &a);
}

/* ---- MN: lookups and the Direction Request ---- */

static int
direction_request(struct tunnel *t, struct setup *s)
{
	struct msg m;
	int rc;

	msg_init(&m, PROTO_MSG_DIRECTION_REQUEST);
	m.hdr.txid = s->txid;
	if ((rc = msg_add_bytes(&m, PROTO_ATTR_PEER_FQDN, s->peer,
	    strlen(s->peer))) < 0 ||
	    (rc = msg_add_u8(&m, PROTO_ATTR_KEX, s->kex)) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_CERT_HASH, t->cert_hash,
	    PROTO_HASH_LEN)) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_STATUS, t->status,
	    t->status_len)) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_AEAD_OFFERS, t->aead,
	    t->naead)) < 0)
		return rc;
	s->dctype = PROTO_MSG_DIRECTION_REQUEST;
	return msg_encode(&m, s->dcmsg, sizeof(s->dcmsg), &s->dcmsg_len);
}

int
tunnel_resolve(struct tunnel *t, const char *name, uint64_t token,
    uint64_t now)
{
	char peer[PROTO_FQDN_MAX + 1];
	struct setup *s;
	struct link *l;
	size_t i, n;
	int rc;

	if (name == NULL || (n = strlen(name)) == 0 || n > PROTO_FQDN_MAX)
		return -EINVAL;
	for (i = 0; i <= n; i++)
		peer[i] = (char)tolower((unsigned char)name[i]);
	if (n > 0 && peer[n - 1] == '.')
		peer[n - 1] = '\0';
	if (!cert_name_valid(peer) || strcmp(peer, t->fqdn) == 0)
		return -EINVAL;
	if ((l = link_find(t, peer)) != NULL) {
		answer(t, peer, token, PROTO_STATUS_OK, "live", l);
		return 0;
	}
	if ((s = setup_pending(t, peer)) != NULL) {
		if (s->nwaiters == TUNNEL_WAITERS_MAX)
			return -EBUSY;
		s->waiter[s->nwaiters++] = token;
		return 0;
	}
	if ((s = setup_add(t)) == NULL)
		return -EBUSY;
	s->mn = true;
	s->at_start = clock_at(t);
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	s->kex = (uint8_t)kex_allowed_first(&t->allowed);
	s->waiter[s->nwaiters++] = token;
	if ((rc = rng_bytes(t->rng, &s->txid, sizeof(s->txid))) < 0 ||
	    (rc = direction_request(t, s)) < 0) {
		log_warnx("tunnel to %s: no Direction Request: %s", peer,
		    msg_strerror(rc));
		setup_fail(t, s, PROTO_STATUS_INTERNAL, "direction request");
		timer_update(t);
		return 0;
	}
	s->state = SETUP_WAIT_ROUTE;
	s->sends = 1;
	s->deadline = now + backoff(s->sends);
	t->stats.setups++;
	dc_send(t, s, false);
	timer_update(t);
	return 0;
}

/* ---- Route Direction ---- */

static int
route_copy(struct setup *s, const struct msg_route *r)
{
	size_t i;

	if (r->peer_fqdn_len > PROTO_FQDN_MAX ||
	    (r->peer_vip4 == NULL && r->peer_vip6 == NULL) ||
	    r->peer_serial == NULL || r->peer_serial->len > PROTO_SERIAL_MAX ||
	    r->role == PROTO_ROLE_INVALID || r->role > PROTO_ROLE_MAX)
		return -EPROTO;
	s->routed = true;
	memcpy(s->path, r->path_id, PROTO_ID_LEN);
	s->route = r->route;
	s->role = r->role;
	s->kex = r->kex;
	s->expiry_ms = r->expiry * 1000;
	if ((s->has_vip4 = r->peer_vip4 != NULL))
		memcpy(s->vip4, r->peer_vip4, 4);
	if ((s->has_vip6 = r->peer_vip6 != NULL))
		memcpy(s->vip6, r->peer_vip6, 16);
	s->nto = 0;
	if (r->route != PROTO_ROUTE_RELAY)
		for (i = 0; i < r->npeer_addr && s->nto < PROTO_ADDRS_MAX; i++)
			s->to[s->nto++] = r->peer_addr[i];
	if (r->route == PROTO_ROUTE_RELAY || r->route == PROTO_ROUTE_PUNCH)
		for (i = 0; i < r->nrelay_addr && i < 2; i++)
			s->to[s->nto++] = r->relay_addr[i];
	s->rid = r->recv_id;
	s->peer_rid = r->peer_recv_id;
	memcpy(s->temp_key, r->temp_key, PROTO_KEY_LEN);
	memcpy(s->peer_cert_hash, r->peer_cert_hash, PROTO_HASH_LEN);
	memcpy(s->peer_serial, r->peer_serial->val, r->peer_serial->len);
	s->peer_serial_len = r->peer_serial->len;
	return 0;
}

/* k_treq and k_tresp from the tunnel key (PROTOCOL.md 8.1). */
static int
route_keys(struct setup *s, const uint8_t *tunnel_key)
{
	uint8_t prk[CRYPTO_SHA256_SIZE], k[PROTO_KEY_LEN];
	int rc;

	crypto_hkdf_extract(prk, s->path, PROTO_ID_LEN, tunnel_key,
	    PROTO_KEY_LEN);
	if ((rc = crypto_hkdf_expand(k, sizeof(k), prk, sizeof(prk),
	    TREQ_LABEL, strlen(TREQ_LABEL))) < 0 ||
	    (rc = aead_new(&s->treq, AEAD_ALG_AES256GCM, k, sizeof(k))) < 0)
		goto out;
	if ((rc = crypto_hkdf_expand(k, sizeof(k), prk, sizeof(prk),
	    TRESP_LABEL, strlen(TRESP_LABEL))) < 0 ||
	    (rc = aead_new(&s->tresp, AEAD_ALG_AES256GCM, k, sizeof(k))) < 0)
		goto out;
out:
	crypto_wipe(prk, sizeof(prk));
	crypto_wipe(k, sizeof(k));
	return rc;
}

static int
ntm_ack(struct tunnel *t, struct setup *s, enum proto_status st,
    const char *reason)
{
	struct msg m;
	int rc;

	msg_init(&m, PROTO_MSG_NTM_ACK);
	m.hdr.txid = s->txid;
	m.hdr.status = st;
	if ((rc = msg_add_bytes(&m, PROTO_ATTR_PATH_ID, s->path,
	    PROTO_ID_LEN)) < 0)
		return rc;
	if (st != PROTO_STATUS_OK && (rc = msg_add_bytes(&m,
	    PROTO_ATTR_ERROR_TEXT, reason, strlen(reason))) < 0)
		return rc;
	s->dctype = PROTO_MSG_NTM_ACK;
	if ((rc = msg_encode(&m, s->dcmsg, sizeof(s->dcmsg),
	    &s->dcmsg_len)) < 0)
		return rc;
	dc_send(t, s, false);
	return 0;
}

static int	request_send(struct tunnel *, struct setup *, uint64_t);
static int	initiator_start(struct tunnel *, struct setup *, uint64_t);

int
tunnel_dc_input(struct tunnel *t, const struct msg *m, uint64_t now)
{
	enum proto_status st = PROTO_STATUS_OK;
	const char *reason = "ok";
	char peer[PROTO_FQDN_MAX + 1], hex[2 * PROTO_ID_LEN + 1];
	struct msg_route r;
	struct setup *s = NULL;
	size_t i;
	int rc;

	if (m == NULL || m->hdr.type != PROTO_MSG_ROUTE_DIRECTION)
		return -EPROTO;
	if (m->hdr.status != PROTO_STATUS_OK) {
		/* An error answer to one of our Direction Requests. */
		for (i = 0; i < TUNNEL_SETUPS_MAX; i++)
			if (t->setup[i] != NULL && t->setup[i]->mn &&
			    t->setup[i]->state == SETUP_WAIT_ROUTE &&
			    t->setup[i]->txid == m->hdr.txid)
				s = t->setup[i];
		if (s == NULL)
			return -ENOENT;
		setup_fail(t, s, (enum proto_status)m->hdr.status,
		    "the DC refused the direction");
		timer_update(t);
		return 0;
	}
	if (msg_route_read(m, &r) < 0 || r.peer_fqdn_len > PROTO_FQDN_MAX)
		return -EPROTO;
	memcpy(peer, r.peer_fqdn, r.peer_fqdn_len);
	peer[r.peer_fqdn_len] = '\0';
	path_hex(r.path_id, hex);
	if ((s = setup_by_path(t, r.path_id)) != NULL) {
		/* The DC repeats a Route Direction until our NTM ACK. */
		if (!s->mn && s->txid == m->hdr.txid &&
		    s->dctype == PROTO_MSG_NTM_ACK) {
			dc_send(t, s, true);
			return 0;
		}
		t->stats.replays++;
		log_debug("route direction for %s: path %s already held", peer,
		    hex);
		return -EALREADY;
	}
	if (spent_has(t, r.path_id)) {
		t->stats.replays++;
		log_info("route direction for %s: path %s used before, "
		    "refused", peer, hex);
		return -EALREADY;
	}
	if (r.expiry > UINT64_MAX / 1000 - PROTO_TIMER_ROUTE_EXPIRY)
		return -EPROTO;
	if (r.expiry * 1000 <= now) {
		log_info("route direction for %s: path %s expired", peer, hex);
		return -ETIMEDOUT;
	}
	s = NULL;
	for (i = 0; i < TUNNEL_SETUPS_MAX; i++)
		if (t->setup[i] != NULL && t->setup[i]->mn &&
		    t->setup[i]->state == SETUP_WAIT_ROUTE &&
		    t->setup[i]->txid == m->hdr.txid)
			s = t->setup[i];
	if (s != NULL && strcmp(s->peer, peer) != 0) {
		/* The answer to our request directs another node. */
		setup_fail(t, s, PROTO_STATUS_CERT_INVALID,
		    "route direction names another peer");
		timer_update(t);
		return -EPROTO;
	}
	if (s == NULL) {
		/* CN: a new request from our DC. */
		if ((s = setup_add(t)) == NULL)
			return -EBUSY;
		snprintf(s->peer, sizeof(s->peer), "%s", peer);
		s->txid = m->hdr.txid;
	} else if (r.kex != s->kex) {
		/* DCs pass the scheme unchanged (DESIGN.md 5). */
		st = PROTO_STATUS_KEX_NOT_ALLOWED;
		reason = "the DC changed the scheme";
	}
	s->at_route = clock_at(t);
	if (!s->mn)
		s->at_start = s->at_route;
	if ((rc = route_copy(s, &r)) < 0) {
		if (s->mn)
			setup_fail(t, s, PROTO_STATUS_MALFORMED,
			    "unusable route direction");
		else
			setup_remove(t, s);
		timer_update(t);
		return rc;
	}
	/* A path id lives at most its protocol validity (and skew). */
	if (s->expiry_ms > now + PROTO_TIMER_ROUTE_EXPIRY +
	    PROTO_TIMER_CLOCK_SKEW_S * 1000ULL)
		s->expiry_ms = now + PROTO_TIMER_ROUTE_EXPIRY +
		    PROTO_TIMER_CLOCK_SKEW_S * 1000ULL;
	if ((rc = spent_add(t, s->path, s->expiry_ms +
	    PROTO_TIMER_CLOCK_SKEW_S * 1000ULL)) < 0 ||
	    (rc = route_keys(s, r.tunnel_key)) < 0) {
		setup_fail(t, s, PROTO_STATUS_INTERNAL, strerror(-rc));
		timer_update(t);
		return 0;
	}
	if (st == PROTO_STATUS_OK && !kex_allowed_has(&t->allowed, s->kex)) {
		st = PROTO_STATUS_KEX_NOT_ALLOWED;
		reason = "scheme outside kex_allowed";
	}
	/* The peer's status now, overlapping the network wait (5.1). */
	if (st == PROTO_STATUS_OK && (rc = peercheck_status_check(t->pc,
	    s->peer, s->peer_serial, s->peer_serial_len, r.peer_status->val,
	    r.peer_status->len, (time_t)(now / 1000))) < 0) {
		st = peercheck_status(rc);
		reason = peercheck_strerror(rc);
	}
	if (!s->mn) {
		if ((rc = ntm_ack(t, s, st, reason)) < 0) {
			setup_remove(t, s);
			timer_update(t);
			return rc;
		}
		if (st != PROTO_STATUS_OK) {
			log_info("route direction from %s (path %s) refused: "
			    "%s", s->peer, hex, reason);
			t->stats.refused++;
			s->state = SETUP_DONE;
			s->deadline = now + TUNNEL_CACHE_MS;
			timer_update(t);
			return 0;
		}
	} else if (st != PROTO_STATUS_OK) {
		setup_fail(t, s, st, reason);
		timer_update(t);
		return 0;
	}
	if (s->role == PROTO_ROLE_INITIATOR)
		(void)initiator_start(t, s, now);
	else {
		s->state = SETUP_WAIT_REQUEST;
		s->deadline = s->expiry_ms;
	}
	timer_update(t);
	return 0;
}

/* ---- initiator: Tunnel Request, then the Response ---- */

static int
request_send(struct tunnel *t, struct setup *s, uint64_t now)
{
	uint8_t nonce[PROTO_RANDOM_LEN], field[KEX_FIELD_MAX];
	uint8_t sig[PROTO_SIGNATURE_MAX];
	struct kex_input in;
	gnutls_pubkey_t pub = NULL;
	struct wbuf w;
	struct msg m;
	size_t flen, siglen;
	const char *why = "internal error";
	enum proto_status st = PROTO_STATUS_INTERNAL;
	int rc;

	if ((rc = kex_new(&s->kx, &t->allowed, s->kex, PROTO_ROLE_INITIATOR,
	    t->rng)) < 0) {
		st = kex_status(rc);
		why = kex_strerror(rc);
		goto fail;
	}
	if (s->kex == PROTO_KEX_RSA && (rc = peercheck_cert_pubkey(t->pc,
	    s->peer_cert_hash, &pub)) < 0) {
		st = PROTO_STATUS_CERT_INVALID;
		why = "rsa needs the responder's certificate, not held";
		goto fail;
	}
	if ((rc = rng_bytes(t->rng, nonce, sizeof(nonce))) < 0 ||
	    (rc = rng_bytes(t->rng, &s->req_txid, sizeof(s->req_txid))) < 0)
		goto fail;
	memset(&in, 0, sizeof(in));
	in.temp_key = s->temp_key;
	in.nonce_i = nonce;
	in.peer_pub = pub;
	rc = kex_offer(s->kx, &in, field, sizeof(field), &flen);
	gnutls_pubkey_deinit(pub);
	if (rc < 0) {
		st = kex_status(rc);
		why = kex_strerror(rc);
		goto fail;
	}
	msg_init(&m, PROTO_MSG_TUNNEL_REQUEST);
	memcpy(m.hdr.id, s->path, PROTO_ID_LEN);
	m.hdr.txid = s->req_txid;
	if ((rc = msg_add_bytes(&m, PROTO_ATTR_PATH_ID, s->path,
	    PROTO_ID_LEN)) < 0 ||
	    (rc = msg_add_u8(&m, PROTO_ATTR_KEX, s->kex)) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_AEAD_OFFERS, t->aead,
	    t->naead)) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_NONCE, nonce,
	    sizeof(nonce))) < 0 ||
	    (rc = msg_add_bytes(&m, kex_field_attr(s->kx), field, flen)) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_FQDN, t->fqdn,
	    strlen(t->fqdn))) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_PEER_FQDN, s->peer,
	    strlen(s->peer))) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_CERT, t->cert_der.data,
	    t->cert_der.size)) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_STATUS, t->status,
	    t->status_len)) < 0)
		goto fail;
	if ((rc = handshake_sign_request(&m, s->peer_cert_hash, t->key, sig,
	    sizeof(sig), &siglen)) < 0) {
		why = handshake_strerror(rc);
		goto fail;
	}
	if ((rc = msg_add_bytes(&m, PROTO_ATTR_SIGNATURE, sig, siglen)) < 0 ||
	    (rc = msg_validate(&m)) < 0)
		goto fail;
	/* After a certificate fetch the buffers exist already. */
	if ((s->reqbody == NULL &&
	    (s->reqbody = malloc(PROTO_REASSEMBLY_MAX)) == NULL) ||
	    (s->tx == NULL && (s->tx = malloc(sizeof(*s->tx))) == NULL)) {
		rc = -ENOMEM;
		goto fail;
	}
	wbuf_init(&w, s->reqbody, PROTO_REASSEMBLY_MAX);
	if ((rc = msg_attrs_encode(&m, &w)) < 0)
		goto fail;
	/* Keep the request as sent: T_I for the response's checks. */
	if ((rc = msg_body_decode(&m.hdr, s->reqbody, wbuf_len(&w),
	    &s->req)) < 0 ||
	    (rc = seal_out(t, s, s->treq, &m.hdr, s->reqbody, wbuf_len(&w),
	    s->tx)) < 0)
		goto fail;
	crypto_wipe(field, sizeof(field));
	s->state = SETUP_WAIT_RESPONSE;
	s->at_sent = clock_at(t);
	s->sends = 1;
	s->deadline = now + backoff(s->sends);
	tx_send(t, s, s->tx, s->to, s->nto, false);
	return 0;
fail:
	crypto_wipe(field, sizeof(field));
	setup_fail(t, s, st, why);
	return rc < 0 ? rc : -EPROTO;
}

/* The certificate a message carries, or the cached one it names. */
static int
msg_cert(struct tunnel *t, const struct msg *m, const uint8_t **der,
    size_t *len)
{
	const struct msg_attr *a;

	if ((a = msg_attr_find(m, PROTO_ATTR_CERT)) != NULL) {
		*der = a->val;
		*len = a->len;
		return 0;
	}
	if ((a = msg_attr_find(m, PROTO_ATTR_CERT_HASH)) != NULL &&
	    a->len == PROTO_HASH_LEN)
		return peercheck_cert_find(t->pc, a->val, der, len);
	return -ENOENT;
}

static struct peercheck_expect
setup_expect(const struct setup *s)
{
	struct peercheck_expect ex;

	memset(&ex, 0, sizeof(ex));
	ex.fqdn = s->peer;
	ex.vip4 = s->has_vip4 ? s->vip4 : NULL;
	ex.vip6 = s->has_vip6 ? s->vip6 : NULL;
	ex.cert_hash = s->peer_cert_hash;
	ex.serial = s->peer_serial;
	ex.serial_len = s->peer_serial_len;
	return ex;
}

/* ---- initiator: the certificate fetch (rsa, first contact) ---- */

/*
 * rsa encapsulates to the responder's certificate key, so an initiator
 * that does not hold the certificate the Route Direction names asks the
 * responder for it first (PROTOCOL.md 8.5): a Tunnel Request with
 * CERT_FETCH and no handshake field, padded to a whole datagram so that
 * the answer (at most TUNNEL_FETCH_DGRAMS_MAX datagrams) never amplifies
 * more than that.  Sealed under k_treq like the request it precedes, so
 * only the holders of this Route Direction can ask.
 */
static int
fetch_send(struct tunnel *t, struct setup *s, uint64_t now)
{
	static const uint8_t zero[PROTO_DATAGRAM_MAX];
	uint8_t body[PROTO_DATAGRAM_MAX];
	struct wbuf w;
	struct msg m;
	size_t used, i;
	int rc;

	if ((rc = rng_bytes(t->rng, &s->fetch_txid,
	    sizeof(s->fetch_txid))) < 0)
		goto fail;
	msg_init(&m, PROTO_MSG_TUNNEL_REQUEST);
	memcpy(m.hdr.id, s->path, PROTO_ID_LEN);
	m.hdr.txid = s->fetch_txid;
	if ((rc = msg_add_bytes(&m, PROTO_ATTR_PATH_ID, s->path,
	    PROTO_ID_LEN)) < 0 ||
	    (rc = msg_add_u8(&m, PROTO_ATTR_KEX, s->kex)) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_FQDN, t->fqdn,
	    strlen(t->fqdn))) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_PEER_FQDN, s->peer,
	    strlen(s->peer))) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_CERT_FETCH, zero, 0)) < 0)
		goto fail;
	used = PROTO_HEADER_LEN + PROTO_TAG_LEN + PROTO_ATTR_HEADER_LEN;
	for (i = 0; i < m.nattr; i++)
		used += PROTO_ATTR_HEADER_LEN + m.attr[i].len;
	if (used > PROTO_DATAGRAM_MAX) {
		rc = -E2BIG;
		goto fail;
	}
	if ((rc = msg_add_bytes(&m, PROTO_ATTR_PADDING, zero,
	    PROTO_DATAGRAM_MAX - used)) < 0 ||
	    (rc = msg_validate(&m)) < 0)
		goto fail;
	wbuf_init(&w, body, sizeof(body));
	if ((rc = msg_attrs_encode(&m, &w)) < 0)
		goto fail;
	if (s->tx == NULL && (s->tx = malloc(sizeof(*s->tx))) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = seal_out(t, s, s->treq, &m.hdr, body, wbuf_len(&w),
	    s->tx)) < 0)
		goto fail;
	s->state = SETUP_WAIT_CERT;
	s->sends = 1;
	s->deadline = now + backoff(s->sends);
	tx_send(t, s, s->tx, s->to, s->nto, false);
	return 0;
fail:
	setup_fail(t, s, PROTO_STATUS_INTERNAL, "certificate fetch");
	return rc;
}

/* The Route Direction made us the initiator: fetch first, or request. */
static int
initiator_start(struct tunnel *t, struct setup *s, uint64_t now)
{
	const uint8_t *der;
	size_t len;

	if (s->kex == PROTO_KEX_RSA &&
	    peercheck_cert_find(t->pc, s->peer_cert_hash, &der, &len) < 0)
		return fetch_send(t, s, now);
	return request_send(t, s, now);
}

/*
 * The answer to our fetch: the certificate must be the one our own DC
 * named (PEER_CERT_HASH), and pass every peer check with the status it
 * comes with, before its key is used; then the real Tunnel Request.
 */
static void
cert_input(struct tunnel *t, struct setup *s, const struct msg *resp,
    uint64_t now)
{
	struct peercheck_expect ex = setup_expect(s);
	const struct msg_attr *cert, *st_attr, *text;
	char why[PROTO_TEXT_MAX + 48], hex[2 * PROTO_ID_LEN + 1];
	uint8_t hash[PROTO_HASH_LEN];
	int rc;

	if (resp->hdr.status != PROTO_STATUS_OK) {
		text = msg_attr_find(resp, PROTO_ATTR_ERROR_TEXT);
		snprintf(why, sizeof(why), "peer refused the certificate "
		    "fetch: %.*s", text != NULL ? (int)text->len : 7,
		    text != NULL ? (const char *)text->val : "no text");
		setup_fail(t, s, (enum proto_status)resp->hdr.status, why);
		return;
	}
	cert = msg_attr_find(resp, PROTO_ATTR_CERT);
	st_attr = msg_attr_find(resp, PROTO_ATTR_STATUS);
	crypto_sha256(hash, cert->val, cert->len);
	if (memcmp(hash, s->peer_cert_hash, PROTO_HASH_LEN) != 0) {
		setup_fail(t, s, PROTO_STATUS_CERT_INVALID,
		    "fetched certificate is not the one the DC directed");
		return;
	}
	if ((rc = peercheck_verify(t->pc, cert->val, cert->len, st_attr->val,
	    st_attr->len, &ex, (time_t)(now / 1000), NULL)) < 0) {
		setup_fail(t, s, peercheck_status(rc), peercheck_strerror(rc));
		return;
	}
	path_hex(s->path, hex);
	log_info("certificate of %s fetched (path %s)", s->peer, hex);
	t->stats.cert_fetches++;
	(void)request_send(t, s, now);
}

static void
response_input(struct tunnel *t, struct setup *s, const struct msg *resp,
    const struct sockaddr *from, uint64_t now)
{
	struct peercheck_expect ex = setup_expect(s);
	struct handshake_verified *tok = NULL;
	struct handshake_keys keys;
	gnutls_pubkey_t pub = NULL;
	const struct msg_attr *st_attr, *ans, *text;
	const uint8_t *der;
	uint8_t th[PROTO_HASH_LEN], aead;
	char why[PROTO_TEXT_MAX + 32];
	size_t len;
	int rc;

	s->at_in = clock_at(t);
	memset(&keys, 0, sizeof(keys));
	if (resp->hdr.status != PROTO_STATUS_OK) {
		text = msg_attr_find(resp, PROTO_ATTR_ERROR_TEXT);
		snprintf(why, sizeof(why), "peer refused: %.*s",
		    text != NULL ? (int)text->len : 7,
		    text != NULL ? (const char *)text->val : "no text");
		setup_fail(t, s, (enum proto_status)resp->hdr.status, why);
		return;
	}
	if (msg_cert(t, resp, &der, &len) < 0) {
		setup_fail(t, s, PROTO_STATUS_CERT_INVALID,
		    peercheck_strerror(PEERCHECK_E_CERT_UNKNOWN));
		return;
	}
	st_attr = msg_attr_find(resp, PROTO_ATTR_STATUS);
	if ((rc = peercheck_verify_borrow(t->pc, der, len, st_attr->val,
	    st_attr->len, &ex, (time_t)(now / 1000), &pub)) < 0) {
		setup_fail(t, s, peercheck_status(rc), peercheck_strerror(rc));
		return;
	}
	rc = handshake_verify_response(&s->req, resp, s->peer_cert_hash, pub,
	    &tok);
	if (rc < 0) {
		setup_fail(t, s, handshake_status(rc), handshake_strerror(rc));
		return;
	}
	ans = kex_ops(s->kx)->answer_attr != PROTO_ATTR_INVALID ?
	    msg_attr_find(resp, kex_ops(s->kx)->answer_attr) : NULL;
	rc = kex_finish(s->kx, tok, ans != NULL ? ans->val : NULL,
	    ans != NULL ? ans->len : 0);
	handshake_verified_free(tok);
	if (rc < 0) {
		setup_fail(t, s, kex_status(rc), kex_strerror(rc));
		return;
	}
	if ((rc = handshake_transcript_hash(&s->req, resp, s->peer_cert_hash,
	    th)) < 0 || (rc = kex_derive(s->kx, s->temp_key, th, &keys)) < 0 ||
	    msg_attr_u8(resp, PROTO_ATTR_AEAD, &aead) < 0) {
		setup_fail(t, s, PROTO_STATUS_INTERNAL, "key schedule");
		return;
	}
	(void)setup_established(t, s, &keys, aead, from, der, len, st_attr);
	setup_remove(t, s);
}

/* ---- responder: the Tunnel Request ---- */

static int
response_send(struct tunnel *t, struct setup *s, struct msg *m,
    const struct sockaddr *from)
{
	struct msg_addr to;
	struct wbuf w;
	int rc;

	if (s->reqbody == NULL &&
	    (s->reqbody = malloc(PROTO_REASSEMBLY_MAX)) == NULL)
		return -ENOMEM;
	if (s->tx == NULL && (s->tx = malloc(sizeof(*s->tx))) == NULL)
		return -ENOMEM;
	if ((rc = msg_validate(m)) < 0)
		return rc;
	wbuf_init(&w, s->reqbody, PROTO_REASSEMBLY_MAX);
	if ((rc = msg_attrs_encode(m, &w)) < 0 ||
	    (rc = seal_out(t, s, s->tresp, &m->hdr, s->reqbody, wbuf_len(&w),
	    s->tx)) < 0)
		return rc;
	addr_of(from, &to);
	memset(&s->req_from, 0, sizeof(s->req_from));
	if (from->sa_family == AF_INET)
		memcpy(&s->req_from, from, sizeof(struct sockaddr_in));
	else if (from->sa_family == AF_INET6)
		memcpy(&s->req_from, from, sizeof(struct sockaddr_in6));
	tx_send(t, s, s->tx, &to, 1, false);
	return 0;
}

/* An error answer, sealed under k_tresp and cached like a success. */
static void
request_refuse(struct tunnel *t, struct setup *s, const struct msg *req,
    enum proto_status st, const char *reason, const struct sockaddr *from,
    uint64_t now, bool final)
{
	char hex[2 * PROTO_ID_LEN + 1];
	struct msg m;

	path_hex(s->path, hex);
	log_info("tunnel request from %s (path %s) refused: %s (%s)", s->peer,
	    hex, reason, msg_status_name(st));
	msg_init(&m, PROTO_MSG_TUNNEL_RESPONSE);
	memcpy(m.hdr.id, s->path, PROTO_ID_LEN);
	m.hdr.txid = req->hdr.txid;
	m.hdr.status = st;
	if (msg_add_bytes(&m, PROTO_ATTR_ERROR_TEXT, reason,
	    strnlen(reason, PROTO_TEXT_MAX)) < 0 ||
	    response_send(t, s, &m, from) < 0)
		log_warnx("tunnel request from %s: cannot answer", s->peer);
	if (!final)
		return;
	t->stats.refused++;
	waiters_answer(t, s, st, reason, NULL);
	s->state = SETUP_DONE;
	s->deadline = now + TUNNEL_CACHE_MS;
}

static void
request_input(struct tunnel *t, struct setup *s, const struct msg *req,
    const struct sockaddr *from, uint64_t now)
{
	struct peercheck_expect ex = setup_expect(s);
	struct handshake_verified *tok = NULL;
	struct handshake_keys keys;
	struct kex_input in;
	gnutls_pubkey_t pub = NULL;
	const struct msg_attr *a, *st_attr, *share, *nonce_i;
	const uint8_t *der;
	uint8_t kex, aead, th[PROTO_HASH_LEN], nonce_r[PROTO_RANDOM_LEN];
	uint8_t answer_buf[KEX_FIELD_MAX], sig[PROTO_SIGNATURE_MAX];
	size_t len, alen, siglen;
	struct msg m;
	int rc;

	s->at_in = clock_at(t);
	memset(&keys, 0, sizeof(keys));
	/* The scheme: the one the DC directed, and one we accept. */
	if (msg_attr_u8(req, PROTO_ATTR_KEX, &kex) < 0 ||
	    !kex_allowed_has(&t->allowed, kex)) {
		request_refuse(t, s, req, PROTO_STATUS_KEX_NOT_ALLOWED,
		    "scheme outside kex_allowed", from, now, true);
		return;
	}
	if (kex != s->kex) {
		request_refuse(t, s, req, PROTO_STATUS_AUTH_FAILED,
		    "scheme is not the directed one", from, now, true);
		return;
	}
	a = msg_attr_find(req, PROTO_ATTR_FQDN);
	if (a->len != strlen(s->peer) || memcmp(a->val, s->peer, a->len) != 0 ||
	    (a = msg_attr_find(req, PROTO_ATTR_PEER_FQDN))->len !=
	    strlen(t->fqdn) || memcmp(a->val, t->fqdn, a->len) != 0) {
		request_refuse(t, s, req, PROTO_STATUS_CERT_INVALID,
		    "names are not the directed ones", from, now, true);
		return;
	}
	if (msg_cert(t, req, &der, &len) < 0) {
		/* PROTOCOL.md 6.2: MN retries once with CERT. */
		request_refuse(t, s, req, PROTO_STATUS_CERT_INVALID,
		    "cert unknown", from, now, false);
		return;
	}
	/* cert_I, status_I, then Sig_I: before any private-key use. */
	st_attr = msg_attr_find(req, PROTO_ATTR_STATUS);
	if ((rc = peercheck_verify_borrow(t->pc, der, len, st_attr->val,
	    st_attr->len, &ex, (time_t)(now / 1000), &pub)) < 0) {
		request_refuse(t, s, req, peercheck_status(rc),
		    peercheck_strerror(rc), from, now, true);
		return;
	}
	rc = handshake_verify_request(req, t->cert_hash, pub, &tok);
	if (rc < 0) {
		request_refuse(t, s, req, handshake_status(rc),
		    handshake_strerror(rc), from, now, true);
		return;
	}
	if ((rc = kex_new(&s->kx, &t->allowed, kex, PROTO_ROLE_RESPONDER,
	    t->rng)) < 0) {
		handshake_verified_free(tok);
		request_refuse(t, s, req, kex_status(rc), kex_strerror(rc),
		    from, now, true);
		return;
	}
	if ((rc = handshake_aead_choose(req, t->aead, t->naead, &aead)) < 0) {
		handshake_verified_free(tok);
		request_refuse(t, s, req, handshake_status(rc),
		    handshake_strerror(rc), from, now, true);
		return;
	}
	nonce_i = msg_attr_find(req, PROTO_ATTR_NONCE);
	share = msg_attr_find(req, kex_field_attr(s->kx));
	memset(&in, 0, sizeof(in));
	in.temp_key = s->temp_key;
	in.nonce_i = nonce_i->val;
	in.own_priv = t->key;
	rc = share == NULL ? KEX_E_FIELD : kex_respond(s->kx, &in, tok,
	    share->val, share->len, answer_buf, sizeof(answer_buf), &alen);
	handshake_verified_free(tok);
	if (rc < 0) {
		request_refuse(t, s, req, kex_status(rc), kex_strerror(rc),
		    from, now, true);
		return;
	}
	if ((rc = rng_bytes(t->rng, nonce_r, sizeof(nonce_r))) < 0)
		goto internal;
	msg_init(&m, PROTO_MSG_TUNNEL_RESPONSE);
	memcpy(m.hdr.id, s->path, PROTO_ID_LEN);
	m.hdr.txid = req->hdr.txid;
	if ((rc = msg_add_bytes(&m, PROTO_ATTR_NONCE, nonce_r,
	    sizeof(nonce_r))) < 0 ||
	    (alen > 0 && (rc = msg_add_bytes(&m, kex_ops(s->kx)->answer_attr,
	    answer_buf, alen)) < 0) ||
	    (rc = msg_add_u8(&m, PROTO_ATTR_AEAD, aead)) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_CERT, t->cert_der.data,
	    t->cert_der.size)) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_STATUS, t->status,
	    t->status_len)) < 0 ||
	    (rc = handshake_sign_response(req, &m, t->cert_hash, t->key, sig,
	    sizeof(sig), &siglen)) < 0 ||
	    (rc = msg_add_bytes(&m, PROTO_ATTR_SIGNATURE, sig, siglen)) < 0 ||
	    (rc = handshake_transcript_hash(req, &m, t->cert_hash, th)) < 0 ||
	    (rc = kex_derive(s->kx, s->temp_key, th, &keys)) < 0 ||
	    (rc = response_send(t, s, &m, from)) < 0)
		goto internal;
	crypto_wipe(answer_buf, sizeof(answer_buf));
	s->answer_us = clock_span(s->at_in, clock_at(t));
	s->state = SETUP_DONE;
	s->deadline = now + TUNNEL_CACHE_MS;
	(void)setup_established(t, s, &keys, aead, from, der, len, st_attr);
	return;
internal:
	handshake_keys_wipe(&keys);
	crypto_wipe(answer_buf, sizeof(answer_buf));
	request_refuse(t, s, req, PROTO_STATUS_INTERNAL, "internal error",
	    from, now, true);
}

/* ---- responder: the certificate fetch ---- */

/*
 * An rsa initiator asks for our certificate (PROTOCOL.md 8.5).  No
 * private-key operation and no check of the initiator's certificate: the
 * answer is our certificate and our status, which whoever holds this
 * path's Route Direction may see.  It is answered once per path id (then
 * again only byte for byte, to the same address, TUNNEL_FETCH_ANSWERS_MAX
 * times in all), only to a fetch padded to a whole datagram, and only
 * when the answer takes at most TUNNEL_FETCH_DGRAMS_MAX datagrams: no
 * amplification beyond that factor.  The path stays open for the
 * request that follows.
 */
static int
fetch_input(struct tunnel *t, struct setup *s, const struct msg *req,
    uint64_t seq, size_t dgram_len, bool whole, const struct sockaddr *from)
{
	enum proto_status st = PROTO_STATUS_OK;
	const char *why = NULL;
	char hex[2 * PROTO_ID_LEN + 1];
	const struct msg_attr *a;
	struct msg_addr to;
	struct msg m;
	struct wbuf w;
	uint8_t kex;
	int rc;

	path_hex(s->path, hex);
	if (!whole || dgram_len < PROTO_DATAGRAM_MAX) {
		log_debug("certificate fetch from %s (path %s) not padded to a "
		    "datagram, dropped", s->peer, hex);
		return -EPROTO;
	}
	if (s->fetch_tx != NULL) {
		t->stats.replays++;
		log_debug("certificate fetch from %s (path %s) already "
		    "answered, dropped", s->peer, hex);
		return -EALREADY;
	}
	if (msg_attr_u8(req, PROTO_ATTR_KEX, &kex) < 0 || kex != s->kex) {
		st = PROTO_STATUS_AUTH_FAILED;
		why = "scheme is not the directed one";
	} else if ((a = msg_attr_find(req, PROTO_ATTR_FQDN))->len !=
	    strlen(s->peer) || memcmp(a->val, s->peer, a->len) != 0 ||
	    (a = msg_attr_find(req, PROTO_ATTR_PEER_FQDN))->len !=
	    strlen(t->fqdn) || memcmp(a->val, t->fqdn, a->len) != 0) {
		st = PROTO_STATUS_CERT_INVALID;
		why = "names are not the directed ones";
	}
	rc = -ENOMEM;
	if ((s->fetch_tx = malloc(sizeof(*s->fetch_tx))) == NULL ||
	    (s->reqbody == NULL &&
	    (s->reqbody = malloc(PROTO_REASSEMBLY_MAX)) == NULL))
		goto fail;
	for (;;) {
		msg_init(&m, PROTO_MSG_TUNNEL_RESPONSE);
		memcpy(m.hdr.id, s->path, PROTO_ID_LEN);
		m.hdr.txid = req->hdr.txid;
		m.hdr.status = st;
		if (st == PROTO_STATUS_OK) {
			if ((rc = msg_add_bytes(&m, PROTO_ATTR_CERT,
			    t->cert_der.data, t->cert_der.size)) < 0 ||
			    (rc = msg_add_bytes(&m, PROTO_ATTR_STATUS, t->status,
			    t->status_len)) < 0)
				goto fail;
		} else if ((rc = msg_add_bytes(&m, PROTO_ATTR_ERROR_TEXT, why,
		    strlen(why))) < 0)
			goto fail;
		if ((rc = msg_add_bytes(&m, PROTO_ATTR_CERT_FETCH, s->path,
		    0)) < 0 || (rc = msg_validate(&m)) < 0)
			goto fail;
		wbuf_init(&w, s->reqbody, PROTO_REASSEMBLY_MAX);
		if ((rc = msg_attrs_encode(&m, &w)) < 0 ||
		    (rc = seal_out(t, s, s->tresp, &m.hdr, s->reqbody,
		    wbuf_len(&w), s->fetch_tx)) < 0)
			goto fail;
		if (st != PROTO_STATUS_OK ||
		    s->fetch_tx->n <= TUNNEL_FETCH_DGRAMS_MAX)
			break;
		st = PROTO_STATUS_TOO_LARGE;
		why = "certificate and status exceed the fetch answer";
	}
	if (st == PROTO_STATUS_OK) {
		log_info("certificate fetch from %s (path %s) answered",
		    s->peer, hex);
		t->stats.cert_fetch_answers++;
	} else
		log_info("certificate fetch from %s (path %s) refused: %s (%s)",
		    s->peer, hex, why, msg_status_name(st));
	s->fetch_seq = seq;
	s->fetch_sends = 1;
	memset(&s->fetch_from, 0, sizeof(s->fetch_from));
	if (from->sa_family == AF_INET)
		memcpy(&s->fetch_from, from, sizeof(struct sockaddr_in));
	else if (from->sa_family == AF_INET6)
		memcpy(&s->fetch_from, from, sizeof(struct sockaddr_in6));
	addr_of(from, &to);
	tx_send(t, s, s->fetch_tx, &to, 1, false);
	return 0;
fail:
	log_warnx("certificate fetch from %s (path %s): cannot answer: %s",
	    s->peer, hex, rc < -999 ? msg_strerror(rc) : strerror(-rc));
	free(s->fetch_tx);
	s->fetch_tx = NULL;
	return rc;
}

/* ---- peer datagrams ---- */

int
tunnel_peer_input(struct tunnel *t, const uint8_t *pkt, size_t len,
    const struct sockaddr *from, uint64_t now)
{
	uint8_t buf[PROTO_DATAGRAM_MAX], nonce[PROTO_NONCE_LEN];
	struct msg_header h;
	struct frag_peer fp;
	struct msg *m = NULL;
	struct setup *s;
	struct rbuf b;
	struct aead *key;
	const uint8_t *body;
	size_t blen, wlen;
	bool request, fetch, whole = true;
	char hex[2 * PROTO_ID_LEN + 1];
	int rc;

	rbuf_init(&b, pkt, len);
	if ((rc = msg_header_decode(&b, &h)) < 0)
		goto drop;
	if (rbuf_left(&b) != h.length) {
		rc = MSG_E_TRAILING;
		goto drop;
	}
	if (h.type != PROTO_MSG_TUNNEL_REQUEST &&
	    h.type != PROTO_MSG_TUNNEL_RESPONSE) {
		rc = -EPROTO;
		goto drop;
	}
	request = h.type == PROTO_MSG_TUNNEL_REQUEST;
	path_hex(h.id, hex);
	/* Only a path id a current Route Direction of our DC gave us. */
	if ((s = setup_by_path(t, h.id)) == NULL ||
	    s->role != (request ? PROTO_ROLE_RESPONDER :
	    PROTO_ROLE_INITIATOR)) {
		log_debug("tunnel %s for unknown path %s dropped",
		    request ? "request" : "response", hex);
		rc = -ENOENT;
		goto drop;
	}
	if (s->state == SETUP_WAIT_REQUEST && now >= s->expiry_ms) {
		log_info("tunnel request from %s: path %s expired", s->peer,
		    hex);
		waiters_answer(t, s, PROTO_STATUS_EXPIRED, "path id expired",
		    NULL);
		setup_remove(t, s);
		timer_update(t);
		rc = -ETIMEDOUT;
		goto drop;
	}
	if (!replay_check(&s->rx, h.seq)) {
		t->stats.replays++;
		/* A repeated fetch: its answer again, as long as it waits. */
		if (request && s->fetch_tx != NULL && h.seq == s->fetch_seq) {
			struct msg_addr to;

			if (s->state != SETUP_WAIT_REQUEST ||
			    s->fetch_sends >= TUNNEL_FETCH_ANSWERS_MAX ||
			    !sockaddr_same(from,
			    (const struct sockaddr *)&s->fetch_from))
				return -EALREADY;
			s->fetch_sends++;
			addr_of(from, &to);
			tx_send(t, s, s->fetch_tx, &to, 1, true);
			return 0;
		}
		/* A repeated request gets the cached answer, byte for byte. */
		if (request && s->state == SETUP_DONE && s->tx != NULL &&
		    sockaddr_same(from,
		    (const struct sockaddr *)&s->req_from)) {
			struct msg_addr to;

			addr_of(from, &to);
			tx_send(t, s, s->tx, &to, 1, true);
			return 0;
		}
		return -EALREADY;
	}
	if ((request && s->state != SETUP_WAIT_REQUEST) ||
	    (!request && s->state != SETUP_WAIT_RESPONSE &&
	    s->state != SETUP_WAIT_CERT)) {
		/* The path id is accepted once. */
		t->stats.replays++;
		log_info("tunnel %s for path %s: path already used, dropped",
		    request ? "request" : "response", hex);
		return -EALREADY;
	}
	key = request ? s->treq : s->tresp;
	msg_nonce(&h, nonce);
	if (aead_open(key, nonce, pkt, PROTO_HEADER_LEN,
	    pkt + PROTO_HEADER_LEN, h.length, buf, sizeof(buf)) < 0) {
		rc = -EBADMSG;
		goto drop;
	}
	(void)replay_update(&s->rx, h.seq);
	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	blen = h.length - PROTO_TAG_LEN;
	body = buf;
	if (h.flags & PROTO_F_FRAGMENT) {
		if ((rc = msg_body_decode(&h, buf, blen, m)) < 0 ||
		    (rc = frag_peer_from_sockaddr(&fp, from)) < 0)
			goto drop;
		rc = frag_input(t->frag, &fp, m->frag.msgid, m->frag.index,
		    m->frag.count, m->frag.payload, m->frag.len, now, t->whole,
		    PROTO_REASSEMBLY_MAX, &wlen);
		if (rc == 0) {
			free(m);
			return 0;
		}
		if (rc < 0)
			goto drop;
		h.flags &= (uint8_t)~PROTO_F_FRAGMENT;
		body = t->whole;
		blen = wlen;
		whole = false;
	}
	if ((rc = msg_body_decode(&h, body, blen, m)) < 0)
		goto drop;
	fetch = msg_attr_find(m, PROTO_ATTR_CERT_FETCH) != NULL;
	if (request) {
		if (m->hdr.status != PROTO_STATUS_OK) {
			rc = -EPROTO;
			goto drop;
		}
		if (fetch) {
			if ((rc = fetch_input(t, s, m, h.seq, len, whole,
			    from)) < 0)
				goto drop;
		} else
			request_input(t, s, m, from, now);
	} else if (fetch != (s->state == SETUP_WAIT_CERT) ||
	    m->hdr.txid != (fetch ? s->fetch_txid : s->req_txid)) {
		/* A late fetch answer, or one to nothing we asked. */
		t->stats.replays++;
		log_debug("tunnel response for path %s answers no pending "
		    "%s, dropped", hex, fetch ? "certificate fetch" :
		    "request");
		free(m);
		return -EALREADY;
	} else if (fetch)
		cert_input(t, s, m, now);
	else
		response_input(t, s, m, from, now);
	free(m);
	timer_update(t);
	return 0;
drop:
	free(m);
	t->stats.dropped++;
	log_debug("tunnel datagram dropped: %s", rc < -999 ?
	    msg_strerror(rc) : strerror(-rc));
	return rc;
}

/* ---- timers ---- */

void
tunnel_timeout(struct tunnel *t, uint64_t now)
{
	struct setup *s;
	size_t i;

	/*
	 * The timer that brought us here is spent: forget it (0 is no
	 * deadline), so the TIMER emitted below arms it again even for the
	 * same deadline (a timer that fired early finds nothing due and
	 * must not be left unarmed, or answered setups never leave the
	 * table), or cancels it when nothing is pending.
	 */
	t->armed = 0;
	for (i = 0; i < TUNNEL_SETUPS_MAX; i++) {
		if ((s = t->setup[i]) == NULL || s->deadline > now)
			continue;
		switch (s->state) {
		case SETUP_WAIT_ROUTE:
		case SETUP_WAIT_CERT:
		case SETUP_WAIT_RESPONSE:
			if (s->sends >= PROTO_TIMER_RETRANSMIT_TRIES) {
				t->stats.timeouts++;
				setup_fail(t, s, PROTO_STATUS_UNAVAILABLE,
				    s->state == SETUP_WAIT_ROUTE ?
				    "no route direction from the DC" :
				    s->state == SETUP_WAIT_CERT ?
				    "rsa needs the responder's certificate, "
				    "not held; the peer did not answer the "
				    "certificate fetch" :
				    "no tunnel response from the peer");
				break;
			}
			s->sends++;
			s->deadline = now + backoff(s->sends);
			if (s->state == SETUP_WAIT_ROUTE)
				dc_send(t, s, true);
			else
				tx_send(t, s, s->tx, s->to, s->nto, true);
			break;
		case SETUP_WAIT_REQUEST:
			t->stats.timeouts++;
			setup_fail(t, s, PROTO_STATUS_UNAVAILABLE,
			    "no tunnel request before the path id expired");
			break;
		default:
			setup_remove(t, s);
			break;
		}
	}
	for (i = 0; i < t->nspent; )
		if (t->spent[i].until <= now)
			t->spent[i] = t->spent[--t->nspent];
		else
			i++;
	frag_expire(t->frag, now);
	timer_update(t);
}

int
tunnel_peer_status(struct tunnel *t, const uint8_t *serial, size_t len,
    const uint8_t *der, size_t der_len, uint64_t now)
{
	struct tunnel_action a;
	struct setup *s;
	size_t i;
	int rc;

	rc = peercheck_status_check(t->pc, NULL, serial, len, der, der_len,
	    (time_t)(now / 1000));
	if (rc != PEERCHECK_E_REVOKED)
		return rc;
	for (i = 0; i < t->nlinks; ) {
		struct link *l = &t->links[i];

		if (l->serial_len != len ||
		    memcmp(l->serial, serial, len) != 0) {
			i++;
			continue;
		}
		log_info("tunnel to %s closed: its certificate is revoked",
		    l->peer);
		memset(&a, 0, sizeof(a));
		a.type = TUNNEL_ACT_CLOSE;
		a.peer = l->peer;
		a.path_id = l->path;
		a.rid = l->rid;
		a.status = PROTO_STATUS_REVOKED;
		emit(t, &a);
		link_del(t, l);
	}
	for (i = 0; i < TUNNEL_SETUPS_MAX; i++)
		if ((s = t->setup[i]) != NULL && s->routed &&
		    s->state != SETUP_DONE && s->peer_serial_len == len &&
		    memcmp(s->peer_serial, serial, len) == 0)
			setup_fail(t, s, PROTO_STATUS_REVOKED,
			    "peer certificate revoked");
	timer_update(t);
	return rc;
}

int
tunnel_peer_renewed(struct tunnel *t, const uint8_t path_id[PROTO_ID_LEN],
    const uint8_t *serial, size_t len)
{
	size_t i;

	if (len == 0 || len > PROTO_SERIAL_MAX)
		return -EINVAL;
	for (i = 0; i < t->nlinks; i++)
		if (memcmp(t->links[i].path, path_id, PROTO_ID_LEN) == 0) {
			memcpy(t->links[i].serial, serial, len);
			t->links[i].serial_len = len;
			return 0;
		}
	return -ENOENT;
}

int
tunnel_set_identity(struct tunnel *t, gnutls_x509_crt_t cert,
    gnutls_privkey_t key, const uint8_t *status, size_t status_len)
{
	gnutls_datum_t der = { NULL, 0 };
	uint8_t hash[PROTO_HASH_LEN];
	int rc;

	if (cert == NULL || key == NULL)
		return -EINVAL;
	if (gnutls_x509_crt_export2(cert, GNUTLS_X509_FMT_DER, &der) < 0)
		return -EINVAL;
	crypto_sha256(hash, der.data, der.size);
	if ((rc = tunnel_set_status(t, status, status_len)) < 0) {
		gnutls_free(der.data);
		return rc;
	}
	gnutls_free(t->cert_der.data);
	t->cert_der = der;
	memcpy(t->cert_hash, hash, sizeof(hash));
	t->key = key;
	return 0;
}

int
tunnel_close(struct tunnel *t, const uint8_t path_id[PROTO_ID_LEN])
{
	size_t i;

	for (i = 0; i < t->nlinks; i++)
		if (memcmp(t->links[i].path, path_id, PROTO_ID_LEN) == 0) {
			link_del(t, &t->links[i]);
			return 0;
		}
	return -ENOENT;
}
