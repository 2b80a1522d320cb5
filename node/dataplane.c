/* dataplane.c -- node data plane: tunnel table, DATA seal/open, UDP<->TUN. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "aead.h"
#include "buf.h"
#include "crypto.h"
#include "dataplane.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "proto.h"
#include "replay.h"
#include "tso.h"
#include "tun.h"

/* One receive key: the AEAD of a key phase and its replay window. */
struct dataplane_rxkey {
	struct aead		*aead;
	struct replay_window	 win;
};

struct dataplane_tunnel {
	/* Hash chains: by our receiver id, by the peer's VIPs. */
	struct dataplane_tunnel	*next_rid, *next_v4, *next_v6;
	uint32_t		 rid, peer_rid;
	struct aead		*tx;
	uint64_t		 tx_counter;	/* last counter sent */
	uint8_t			 tx_phase;
	uint32_t		 epoch;		/* of the newest rx key */
	struct aead		*tx_next;	/* installed, not yet used */
	/* The key sent with before the last switch, until retired. */
	struct aead		*tx_prev;
	uint64_t		 tx_prev_counter;
	uint8_t			 tx_prev_phase;
	/* When this tunnel asks for a rekey (dataplane_tunnel_set_rekey). */
	uint64_t		 rekey_ms, rekey_packets;
	enum aead_alg		 alg;
	enum dataplane_role	 role;
	/* Timers: times of the last events, in the caller's clock (ms). */
	uint64_t		 t_sent, t_recv, t_keyed, t_switched;
	bool			 keepalive, rekey_reported, retire_pending;
	struct dataplane_rxkey	 rx[2];		/* by key phase */
	bool			 has_vip4, has_vip6;
	uint8_t			 peer_vip4[4];
	uint8_t			 peer_vip6[16];
	struct sockaddr_storage	 peer_addr;
	struct dataplane_stats	 stats;
};

struct dataplane {
	struct dataplane_conf	  conf;
	uint64_t		  hkey[2];	/* hash key, from the rng */
	size_t			  mask;		/* buckets - 1 */
	size_t			  ntunnels;
	struct dataplane_tunnel	**by_rid, **by_v4, **by_v6;
	struct dataplane_stats	  stats;	/* drops without a tunnel */
};

enum {
	DATAPLANE_DEFAULT_TUNNELS = 1024,
};

static const char *const dataplane_verdict_names[DATAPLANE_VERDICT_COUNT] = {
	[DATAPLANE_OK] = "ok",
	[DATAPLANE_DROP_MALFORMED] = "malformed",
	[DATAPLANE_DROP_UNKNOWN_RID] = "unknown_rid",
	[DATAPLANE_DROP_NO_KEY] = "no_key",
	[DATAPLANE_DROP_REPLAY] = "replay",
	[DATAPLANE_DROP_AUTH] = "auth",
	[DATAPLANE_DROP_INNER_SRC] = "inner_src",
	[DATAPLANE_DROP_INNER_DST] = "inner_dst",
	[DATAPLANE_DROP_NO_TUNNEL] = "no_tunnel",
	[DATAPLANE_DROP_TX] = "tx",
};

const char *
dataplane_verdict_name(enum dataplane_verdict v)
{
	if ((unsigned)v >= DATAPLANE_VERDICT_COUNT)
		return "?";
	return dataplane_verdict_names[v];
}

/* ---- hash tables ---------------------------------------------------- */

static size_t
dataplane_mix(const struct dataplane *dp, uint64_t a, uint64_t b)
{
	uint64_t h;

	h = (a ^ dp->hkey[0]) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	h = (h ^ b ^ dp->hkey[1]) * 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)h & dp->mask;
}

static size_t
dataplane_hash_rid(const struct dataplane *dp, uint32_t rid)
{
	return dataplane_mix(dp, rid, 0);
}

static size_t
dataplane_hash_v4(const struct dataplane *dp, const uint8_t *a)
{
	return dataplane_mix(dp, load_be32(a), 4);
}

static size_t
dataplane_hash_v6(const struct dataplane *dp, const uint8_t *a)
{
	return dataplane_mix(dp, load_be64(a), load_be64(a + 8));
}

struct dataplane_tunnel *
dataplane_lookup_rid(const struct dataplane *dp, uint32_t rid)
{
	struct dataplane_tunnel *t;

	for (t = dp->by_rid[dataplane_hash_rid(dp, rid)]; t != NULL;
	    t = t->next_rid)
		if (t->rid == rid)
			return t;
	return NULL;
}

struct dataplane_tunnel *
dataplane_lookup_vip(const struct dataplane *dp, int family,
    const uint8_t *addr)
{
	struct dataplane_tunnel *t;

	if (family == AF_INET) {
		for (t = dp->by_v4[dataplane_hash_v4(dp, addr)]; t != NULL;
		    t = t->next_v4)
			if (memcmp(t->peer_vip4, addr,
			    DATAPLANE_IPV4_ADDR_LEN) == 0)
				return t;
	} else if (family == AF_INET6) {
		for (t = dp->by_v6[dataplane_hash_v6(dp, addr)]; t != NULL;
		    t = t->next_v6)
			if (memcmp(t->peer_vip6, addr,
			    DATAPLANE_IPV6_ADDR_LEN) == 0)
				return t;
	}
	return NULL;
}

int
dataplane_new(struct dataplane **out, const struct dataplane_conf *conf,
    struct ntm_rng *rng)
{
	struct dataplane *dp;
	size_t want, n;
	int rc;

	*out = NULL;
	if (conf == NULL || rng == NULL ||
	    (!conf->has_vip4 && !conf->has_vip6) ||
	    conf->max_tunnels > DATAPLANE_TUNNELS_MAX)
		return -EINVAL;
	if ((dp = calloc(1, sizeof(*dp))) == NULL)
		return -ENOMEM;
	dp->conf = *conf;
	if (dp->conf.max_tunnels == 0)
		dp->conf.max_tunnels = DATAPLANE_DEFAULT_TUNNELS;
	/* Twice as many buckets as tunnels: chains stay about one long. */
	want = dp->conf.max_tunnels * 2;
	for (n = 16; n < want; n <<= 1)
		;
	dp->mask = n - 1;
	if ((rc = rng_bytes(rng, dp->hkey, sizeof(dp->hkey))) < 0)
		goto fail;
	rc = -ENOMEM;
	if ((dp->by_rid = calloc(n, sizeof(*dp->by_rid))) == NULL ||
	    (dp->by_v4 = calloc(n, sizeof(*dp->by_v4))) == NULL ||
	    (dp->by_v6 = calloc(n, sizeof(*dp->by_v6))) == NULL)
		goto fail;
	*out = dp;
	return 0;
fail:
	dataplane_free(dp);
	return rc;
}

static void
dataplane_tunnel_free(struct dataplane_tunnel *t)
{
	if (t == NULL)
		return;
	aead_free(t->tx);
	aead_free(t->tx_next);
	aead_free(t->tx_prev);
	aead_free(t->rx[0].aead);
	aead_free(t->rx[1].aead);
	crypto_wipe(t, sizeof(*t));
	free(t);
}

void
dataplane_free(struct dataplane *dp)
{
	struct dataplane_tunnel *t, *next;
	size_t i;

	if (dp == NULL)
		return;
	if (dp->by_rid != NULL)
		for (i = 0; i <= dp->mask; i++)
			for (t = dp->by_rid[i]; t != NULL; t = next) {
				next = t->next_rid;
				dataplane_tunnel_free(t);
			}
	free(dp->by_rid);
	free(dp->by_v4);
	free(dp->by_v6);
	free(dp);
}

int
dataplane_rid_new(struct dataplane *dp, struct ntm_rng *rng, uint32_t *rid)
{
	uint8_t b[4];
	int rc, tries;

	/* The table is at most 2^16 full of 2^32 ids: a hit is rare. */
	for (tries = 0; tries < 64; tries++) {
		if ((rc = rng_bytes(rng, b, sizeof(b))) < 0)
			return rc;
		*rid = load_be32(b);
		if (*rid != 0 && dataplane_lookup_rid(dp, *rid) == NULL)
			return 0;
	}
	return -EAGAIN;
}

static bool
dataplane_is_own(const struct dataplane *dp, int family, const uint8_t *a)
{
	if (family == AF_INET)
		return dp->conf.has_vip4 &&
		    memcmp(dp->conf.vip4, a, DATAPLANE_IPV4_ADDR_LEN) == 0;
	return dp->conf.has_vip6 &&
	    memcmp(dp->conf.vip6, a, DATAPLANE_IPV6_ADDR_LEN) == 0;
}

int
dataplane_tunnel_add(struct dataplane *dp,
    const struct dataplane_tunnel_conf *c, struct dataplane_tunnel **out)
{
	struct dataplane_tunnel *t;
	const uint8_t *ktx, *krx;
	size_t h;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (c->rid == 0 || (!c->has_vip4 && !c->has_vip6) ||
	    (c->has_vip4 && dataplane_is_own(dp, AF_INET, c->peer_vip4)) ||
	    (c->has_vip6 && dataplane_is_own(dp, AF_INET6, c->peer_vip6)))
		return -EINVAL;
	switch (c->role) {
	case DATAPLANE_ROLE_INITIATOR:
		ktx = c->key_i2r;
		krx = c->key_r2i;
		break;
	case DATAPLANE_ROLE_RESPONDER:
		ktx = c->key_r2i;
		krx = c->key_i2r;
		break;
	default:
		return -EINVAL;
	}
	if (dataplane_lookup_rid(dp, c->rid) != NULL ||
	    (c->has_vip4 && dataplane_lookup_vip(dp, AF_INET,
	    c->peer_vip4) != NULL) ||
	    (c->has_vip6 && dataplane_lookup_vip(dp, AF_INET6,
	    c->peer_vip6) != NULL))
		return -EEXIST;
	if (dp->ntunnels >= dp->conf.max_tunnels)
		return -ENOSPC;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	if ((rc = aead_new(&t->tx, c->alg, ktx, PROTO_KEY_LEN)) < 0 ||
	    (rc = aead_new(&t->rx[0].aead, c->alg, krx, PROTO_KEY_LEN)) < 0) {
		dataplane_tunnel_free(t);
		return rc;
	}
	replay_init(&t->rx[0].win);
	t->rekey_ms = PROTO_TIMER_REKEY;
	t->rekey_packets = (uint64_t)1 << PROTO_REKEY_PACKETS_LOG2;
	t->alg = c->alg;
	t->role = c->role;
	t->rid = c->rid;
	t->peer_rid = c->peer_rid;
	t->has_vip4 = c->has_vip4;
	t->has_vip6 = c->has_vip6;
	memcpy(t->peer_vip4, c->peer_vip4, sizeof(t->peer_vip4));
	memcpy(t->peer_vip6, c->peer_vip6, sizeof(t->peer_vip6));
	t->peer_addr = c->peer_addr;

	h = dataplane_hash_rid(dp, t->rid);
	t->next_rid = dp->by_rid[h];
	dp->by_rid[h] = t;
	if (t->has_vip4) {
		h = dataplane_hash_v4(dp, t->peer_vip4);
		t->next_v4 = dp->by_v4[h];
		dp->by_v4[h] = t;
	}
	if (t->has_vip6) {
		h = dataplane_hash_v6(dp, t->peer_vip6);
		t->next_v6 = dp->by_v6[h];
		dp->by_v6[h] = t;
	}
	dp->ntunnels++;
	if (out != NULL)
		*out = t;
	return 0;
}

void
dataplane_tunnel_remove(struct dataplane *dp, struct dataplane_tunnel *t)
{
	struct dataplane_tunnel **pp;

	if (t == NULL)
		return;
	for (pp = &dp->by_rid[dataplane_hash_rid(dp, t->rid)]; *pp != NULL;
	    pp = &(*pp)->next_rid)
		if (*pp == t) {
			*pp = t->next_rid;
			break;
		}
	if (t->has_vip4)
		for (pp = &dp->by_v4[dataplane_hash_v4(dp, t->peer_vip4)];
		    *pp != NULL; pp = &(*pp)->next_v4)
			if (*pp == t) {
				*pp = t->next_v4;
				break;
			}
	if (t->has_vip6)
		for (pp = &dp->by_v6[dataplane_hash_v6(dp, t->peer_vip6)];
		    *pp != NULL; pp = &(*pp)->next_v6)
			if (*pp == t) {
				*pp = t->next_v6;
				break;
			}
	dp->ntunnels--;
	dataplane_tunnel_free(t);
}

void
dataplane_tunnel_set_peer(struct dataplane_tunnel *t, const struct sockaddr *sa)
{
	socklen_t len = loop_addr_len(sa);

	if (len == 0)
		return;
	memset(&t->peer_addr, 0, sizeof(t->peer_addr));
	memcpy(&t->peer_addr, sa, len);
}

bool
dataplane_tunnel_needs_rekey(const struct dataplane_tunnel *t)
{
	return t->tx_counter >= t->rekey_packets;
}

int
dataplane_tunnel_set_rekey(struct dataplane_tunnel *t, uint64_t ms,
    uint64_t packets)
{
	if (ms > PROTO_TIMER_REKEY ||
	    packets > (uint64_t)1 << PROTO_REKEY_PACKETS_LOG2)
		return -EINVAL;
	t->rekey_ms = ms != 0 ? ms : PROTO_TIMER_REKEY;
	t->rekey_packets = packets != 0 ? packets :
	    (uint64_t)1 << PROTO_REKEY_PACKETS_LOG2;
	return 0;
}

uint32_t
dataplane_tunnel_epoch(const struct dataplane_tunnel *t)
{
	return t->epoch;
}

uint8_t
dataplane_tunnel_tx_phase(const struct dataplane_tunnel *t)
{
	return t->tx_phase;
}

bool
dataplane_tunnel_has_old_key(const struct dataplane_tunnel *t)
{
	return t->tx_prev != NULL;
}

int
dataplane_tunnel_install(struct dataplane_tunnel *t, uint32_t epoch,
    const uint8_t key_i2r[PROTO_KEY_LEN], const uint8_t key_r2i[PROTO_KEY_LEN])
{
	struct aead *tx = NULL, *rx = NULL;
	const uint8_t *ktx, *krx;
	struct dataplane_rxkey *k;
	int rc;

	if (epoch != t->epoch + 1)
		return -EINVAL;
	/* One rekey at a time: the next would evict the current rx key. */
	if (t->tx_next != NULL)
		return -EBUSY;
	ktx = t->role == DATAPLANE_ROLE_INITIATOR ? key_i2r : key_r2i;
	krx = t->role == DATAPLANE_ROLE_INITIATOR ? key_r2i : key_i2r;
	if ((rc = aead_new(&tx, t->alg, ktx, PROTO_KEY_LEN)) < 0 ||
	    (rc = aead_new(&rx, t->alg, krx, PROTO_KEY_LEN)) < 0) {
		aead_free(tx);
		return rc;
	}
	/* The slot of this phase holds the key before the current one. */
	k = &t->rx[epoch & 1];
	aead_free(k->aead);
	k->aead = rx;
	replay_init(&k->win);
	aead_free(t->tx_next);
	t->tx_next = tx;
	t->epoch = epoch;
	/*
	 * A rekey before the last one's old key retired: that key's slot now
	 * holds the new one, so nothing is left to retire.
	 */
	aead_free(t->tx_prev);
	t->tx_prev = NULL;
	t->retire_pending = false;
	return 0;
}

int
dataplane_tunnel_switch(struct dataplane_tunnel *t)
{
	if (t->tx_next == NULL)
		return -ENOENT;
	aead_free(t->tx_prev);
	t->tx_prev = t->tx;
	t->tx_prev_counter = t->tx_counter;
	t->tx_prev_phase = t->tx_phase;
	t->tx = t->tx_next;
	t->tx_next = NULL;
	t->tx_phase = t->epoch & 1;
	t->tx_counter = 0;
	return 0;
}

void
dataplane_tunnel_retire(struct dataplane_tunnel *t)
{
	struct dataplane_rxkey *k = &t->rx[(t->epoch & 1) ^ 1];

	aead_free(k->aead);
	k->aead = NULL;
	replay_init(&k->win);
	aead_free(t->tx_prev);
	t->tx_prev = NULL;
}

/* ---- timers --------------------------------------------------------- */

void
dataplane_timers_start(struct dataplane_tunnel *t, uint64_t now,
    bool keepalive)
{
	t->t_sent = t->t_recv = t->t_keyed = now;
	t->keepalive = keepalive;
	t->rekey_reported = false;
	t->retire_pending = false;
}

void
dataplane_timers_data_sent(struct dataplane_tunnel *t, uint64_t now)
{
	t->t_sent = now;
}

void
dataplane_timers_data_received(struct dataplane_tunnel *t, uint64_t now)
{
	t->t_recv = now;
}

void
dataplane_timers_key_switched(struct dataplane_tunnel *t, uint64_t now)
{
	t->t_keyed = t->t_switched = now;
	t->rekey_reported = false;
	t->retire_pending = true;
}

/* When the current key asks for a rekey, by age. */
static uint64_t
dataplane_timers_rekey_at(const struct dataplane_tunnel *t)
{
	uint64_t at = t->t_keyed + t->rekey_ms;

	if (t->role == DATAPLANE_ROLE_RESPONDER)
		at += PROTO_TIMER_OLD_KEY;
	return at;
}

unsigned
dataplane_timers_due(struct dataplane_tunnel *t, uint64_t now)
{
	unsigned ev = DATAPLANE_TIMER_NONE;

	if (t->keepalive && now >= t->t_sent + PROTO_TIMER_TUNNEL_KEEPALIVE)
		ev |= DATAPLANE_TIMER_KEEPALIVE;
	if (!t->rekey_reported && (now >= dataplane_timers_rekey_at(t) ||
	    dataplane_tunnel_needs_rekey(t))) {
		ev |= DATAPLANE_TIMER_REKEY;
		t->rekey_reported = true;
	}
	if (t->retire_pending && now >= t->t_switched + PROTO_TIMER_OLD_KEY) {
		ev |= DATAPLANE_TIMER_RETIRE;
		t->retire_pending = false;
	}
	if (now >= t->t_recv + PROTO_TIMER_TUNNEL_IDLE)
		ev |= DATAPLANE_TIMER_IDLE;
	return ev;
}

uint64_t
dataplane_timers_next(const struct dataplane_tunnel *t, uint64_t now)
{
	uint64_t next = t->t_recv + PROTO_TIMER_TUNNEL_IDLE;

	if (t->keepalive && t->t_sent + PROTO_TIMER_TUNNEL_KEEPALIVE < next)
		next = t->t_sent + PROTO_TIMER_TUNNEL_KEEPALIVE;
	if (!t->rekey_reported && dataplane_timers_rekey_at(t) < next)
		next = dataplane_timers_rekey_at(t);
	if (t->retire_pending && t->t_switched + PROTO_TIMER_OLD_KEY < next)
		next = t->t_switched + PROTO_TIMER_OLD_KEY;
	return next > now ? next : now;
}

const struct dataplane_stats *
dataplane_tunnel_stats(const struct dataplane_tunnel *t)
{
	return &t->stats;
}

const struct dataplane_stats *
dataplane_table_stats(const struct dataplane *dp)
{
	return &dp->stats;
}

const struct sockaddr *
dataplane_tunnel_peer(const struct dataplane_tunnel *t)
{
	return (const struct sockaddr *)&t->peer_addr;
}

uint32_t
dataplane_tunnel_rid(const struct dataplane_tunnel *t)
{
	return t->rid;
}

static void
dataplane_stats_add(struct dataplane_stats *sum,
    const struct dataplane_stats *s)
{
	size_t i;

	sum->packets_in += s->packets_in;
	sum->bytes_in += s->bytes_in;
	sum->packets_out += s->packets_out;
	sum->bytes_out += s->bytes_out;
	for (i = 0; i < DATAPLANE_VERDICT_COUNT; i++)
		sum->drops[i] += s->drops[i];
}

void
dataplane_stats_sum(const struct dataplane *dp, struct dataplane_stats *out)
{
	const struct dataplane_tunnel *t;
	size_t i;

	memset(out, 0, sizeof(*out));
	dataplane_stats_add(out, &dp->stats);
	for (i = 0; i <= dp->mask; i++)
		for (t = dp->by_rid[i]; t != NULL; t = t->next_rid)
			dataplane_stats_add(out, &t->stats);
}

/* ---- pure packet functions ------------------------------------------ */

static bool
dataplane_is_peer(const struct dataplane_tunnel *t,
    const struct dataplane_ip *ip)
{
	if (ip->family == AF_INET)
		return t->has_vip4 &&
		    memcmp(t->peer_vip4, ip->src, DATAPLANE_IPV4_ADDR_LEN) == 0;
	return t->has_vip6 &&
	    memcmp(t->peer_vip6, ip->src, DATAPLANE_IPV6_ADDR_LEN) == 0;
}

/* Seals under key `key`, whose last counter is *counter, in `phase`. */
static int
dataplane_seal_with(struct dataplane_tunnel *t, struct aead *key,
    uint64_t *counter, uint8_t phase, uint8_t type, const uint8_t *inner,
    size_t inlen, uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t nonce[PROTO_NONCE_LEN];
	struct msg_data dh;
	struct wbuf w;
	int rc;

	if ((type != PROTO_MSG_DATA && type != PROTO_MSG_TUNNEL_CONTROL) ||
	    inner == NULL || inlen == 0 || inlen > DATAPLANE_INNER_MAX)
		return -EINVAL;
	if (outcap < inlen + DATAPLANE_OVERHEAD)
		return -ENOSPC;
	if (*counter >= REPLAY_COUNTER_MAX)
		return -EKEYEXPIRED;
	/* Spent before use: a failed seal never gives its counter back. */
	(*counter)++;
	dh.version = PROTO_VERSION_1;
	dh.type = type;
	dh.phase = phase;
	dh.rid = t->peer_rid;
	dh.counter = *counter;
	wbuf_init(&w, out, PROTO_DATA_HEADER_LEN);
	if ((rc = msg_data_encode(&dh, &w)) < 0)
		return -EIO;
	msg_data_nonce(&dh, nonce);
	if ((rc = aead_seal(key, nonce, out, PROTO_DATA_HEADER_LEN, inner,
	    inlen, out + PROTO_DATA_HEADER_LEN,
	    outcap - PROTO_DATA_HEADER_LEN)) < 0)
		return rc;
	*outlen = inlen + DATAPLANE_OVERHEAD;
	t->stats.packets_out++;
	t->stats.bytes_out += inlen;
	return 0;
}

int
dataplane_seal(struct dataplane_tunnel *t, uint8_t type, const uint8_t *inner,
    size_t inlen, uint8_t *out, size_t outcap, size_t *outlen)
{
	return dataplane_seal_with(t, t->tx, &t->tx_counter, t->tx_phase, type,
	    inner, inlen, out, outcap, outlen);
}

int
dataplane_seal_old(struct dataplane_tunnel *t, uint8_t type,
    const uint8_t *inner, size_t inlen, uint8_t *out, size_t outcap,
    size_t *outlen)
{
	if (t->tx_prev == NULL)
		return -ENOENT;
	return dataplane_seal_with(t, t->tx_prev, &t->tx_prev_counter,
	    t->tx_prev_phase, type, inner, inlen, out, outcap, outlen);
}

/* Counts v on the tunnel if there is one, else on the table. */
static enum dataplane_verdict
dataplane_drop(struct dataplane *dp, struct dataplane_tunnel *t,
    enum dataplane_verdict v)
{
	if (t != NULL)
		t->stats.drops[v]++;
	else
		dp->stats.drops[v]++;
	return v;
}

enum dataplane_verdict
dataplane_open(struct dataplane *dp, uint8_t *pkt, size_t len,
    const struct sockaddr *from, struct dataplane_rx *rx)
{
	uint8_t nonce[PROTO_NONCE_LEN];
	struct dataplane_tunnel *t;
	struct dataplane_rxkey *k;
	struct dataplane_ip ip;
	struct msg_data dh;
	const uint8_t *body;
	uint8_t *ct;
	size_t blen;

	(void)from;
	memset(rx, 0, sizeof(*rx));
	if (pkt == NULL || msg_data_decode(pkt, len, &dh, &body, &blen) < 0 ||
	    (dh.type != PROTO_MSG_DATA && dh.type != PROTO_MSG_TUNNEL_CONTROL))
		return dataplane_drop(dp, NULL, DATAPLANE_DROP_MALFORMED);
	if ((t = dataplane_lookup_rid(dp, dh.rid)) == NULL)
		return dataplane_drop(dp, NULL, DATAPLANE_DROP_UNKNOWN_RID);
	k = &t->rx[dh.phase];
	if (k->aead == NULL)
		return dataplane_drop(dp, t, DATAPLANE_DROP_NO_KEY);
	if (!replay_check(&k->win, dh.counter))
		return dataplane_drop(dp, t, DATAPLANE_DROP_REPLAY);
	msg_data_nonce(&dh, nonce);
	ct = pkt + PROTO_DATA_HEADER_LEN;
	if (aead_open(k->aead, nonce, pkt, PROTO_DATA_HEADER_LEN, ct, blen,
	    ct, blen) < 0)
		return dataplane_drop(dp, t, DATAPLANE_DROP_AUTH);
	if (replay_update(&k->win, dh.counter) < 0)
		return dataplane_drop(dp, t, DATAPLANE_DROP_REPLAY);
	rx->tunnel = t;
	rx->type = dh.type;
	rx->inner = ct;
	rx->inner_len = blen - PROTO_TAG_LEN;
	if (dh.type == PROTO_MSG_DATA) {
		if (dataplane_ip_parse(rx->inner, rx->inner_len, &ip) < 0)
			return dataplane_drop(dp, t, DATAPLANE_DROP_MALFORMED);
		if (!dataplane_is_peer(t, &ip))
			return dataplane_drop(dp, t, DATAPLANE_DROP_INNER_SRC);
		if (!dataplane_is_own(dp, ip.family, ip.dst))
			return dataplane_drop(dp, t, DATAPLANE_DROP_INNER_DST);
		/* Link-layer padding after the IP packet is not delivered. */
		rx->inner_len = ip.len;
	}
	t->stats.packets_in++;
	t->stats.bytes_in += rx->inner_len;
	return DATAPLANE_OK;
}

struct dataplane_tunnel *
dataplane_route(const struct dataplane *dp, const uint8_t *inner, size_t len,
    enum dataplane_verdict *why)
{
	struct dataplane_tunnel *t;
	struct dataplane_ip ip;

	if (dataplane_ip_parse(inner, len, &ip) < 0) {
		*why = DATAPLANE_DROP_MALFORMED;
		return NULL;
	}
	if (!dataplane_is_own(dp, ip.family, ip.src)) {
		*why = DATAPLANE_DROP_INNER_SRC;
		return NULL;
	}
	if ((t = dataplane_lookup_vip(dp, ip.family, ip.dst)) == NULL) {
		*why = DATAPLANE_DROP_NO_TUNNEL;
		return NULL;
	}
	*why = DATAPLANE_OK;
	return t;
}

/* ---- I/O: UDP sockets and the TUN fd under uv_poll_t ----------------- */

enum {
	/* Batches per wakeup before yielding to the other direction. */
	DATAPLANE_ROUNDS = 8,
};

static void
dataplane_io_log_drop(const struct sockaddr *from, enum dataplane_verdict v)
{
	char a[LOOP_ADDRSTRLEN];

	if (log_getlevel() < LOG_LEVEL_DEBUG)
		return;
	if (from == NULL || loop_addr_format(from, a, sizeof(a)) < 0)
		strcpy(a, "tun");
	log_debug("dataplane: drop from %s: %s", a, dataplane_verdict_name(v));
}

/*
 * Writes the packets a receive round gathered in io->tun_gro (offloads
 * on): each group is one writev(), a coalesced one as a TCP super-segment.
 * What the kernel refuses is counted and dropped (inner TCP retransmits);
 * a super-segment refused as invalid turns coalescing off for good.
 */
static void
dataplane_io_tun_flush(struct dataplane_io *io)
{
	struct iovec iov[TSO_GRO_IOV];
	struct tso_gro_hdr hb;
	size_t i, n;
	int niov;

	for (i = 0; i < tso_gro_groups(io->tun_gro); i++) {
		n = tso_gro_group_size(io->tun_gro, i);
		niov = tso_gro_iov(io->tun_gro, i, &hb, iov, TSO_GRO_IOV);
		if (niov < 0 || writev(io->tunfd, iov, niov) < 0) {
			io->tun_write_errors += n;
			if (niov >= 0 && n > 1 && errno == EINVAL) {
				log_warnx("dataplane: the TUN device refused a "
				    "coalesced write, writing packets one by "
				    "one");
				tso_gro_split(io->tun_gro, true);
			}
			continue;
		}
		if (n > 1) {
			io->tun_gro_writes++;
			io->tun_gro_packets += n;
		}
	}
	tso_gro_reset(io->tun_gro);
}

static void
dataplane_io_deliver(struct dataplane_io *io, uint8_t *p, size_t len,
    const struct sockaddr *from)
{
	struct dataplane_rx rx;
	enum dataplane_verdict v;

	if (len >= 2 && p[1] != PROTO_MSG_DATA &&
	    p[1] != PROTO_MSG_TUNNEL_CONTROL && io->on_signal != NULL) {
		io->on_signal(io, p, len, from);
		return;
	}
	if ((v = dataplane_open(io->dp, p, len, from, &rx)) != DATAPLANE_OK) {
		dataplane_io_log_drop(from, v);
		return;
	}
	dataplane_timers_data_received(rx.tunnel, uv_now(io->loop));
	if (rx.type == PROTO_MSG_TUNNEL_CONTROL) {
		if (io->on_control != NULL)
			io->on_control(io, rx.tunnel, rx.inner, rx.inner_len,
			    from);
		return;
	}
	/*
	 * With offloads the packet waits in the slot it came in, until the
	 * round's end (dataplane_io_tun_flush); the kernel takes a whole
	 * packet per write or nothing.
	 */
	if (io->vnet) {
		if (tso_gro_add(io->tun_gro, rx.inner,
		    rx.inner_len) == -ENOSPC) {
			dataplane_io_tun_flush(io);
			(void)tso_gro_add(io->tun_gro, rx.inner,
			    rx.inner_len);
		}
	} else if (write(io->tunfd, rx.inner, rx.inner_len) < 0)
		io->tun_write_errors++;
}

static void
dataplane_io_udp(struct dataplane_io *io, int fd)
{
	struct dataplane_slot *s;
	int i, n, round;

	for (round = 0; round < DATAPLANE_ROUNDS; round++) {
		for (i = 0; i < DATAPLANE_BATCH; i++) {
			s = &io->slots[i];
			io->iovs[i].iov_base = s->buf;
			io->iovs[i].iov_len = sizeof(s->buf);
			memset(&io->msgs[i], 0, sizeof(io->msgs[i]));
			io->msgs[i].msg_hdr.msg_name = &s->addr;
			io->msgs[i].msg_hdr.msg_namelen = sizeof(s->addr);
			io->msgs[i].msg_hdr.msg_iov = &io->iovs[i];
			io->msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, io->msgs, DATAPLANE_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("dataplane: recvmmsg");
			return;
		}
		for (i = 0; i < n; i++) {
			s = &io->slots[i];
			s->len = io->msgs[i].msg_len;
			if (io->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				io->dp->stats.drops[DATAPLANE_DROP_MALFORMED]++;
				continue;
			}
			dataplane_io_deliver(io, s->buf, s->len,
			    (struct sockaddr *)&s->addr);
		}
		/* Before the next recvmmsg reuses the slots. */
		if (io->vnet)
			dataplane_io_tun_flush(io);
		if (n < DATAPLANE_BATCH)
			return;
	}
}

/* The segment size of a GRO-coalesced datagram, or len when there is none. */
static size_t
dataplane_io_gro_size(struct msghdr *mh, size_t len)
{
	struct cmsghdr *cm;
	int seg;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == IPPROTO_UDP &&
		    cm->cmsg_type == UDP_GRO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(seg))) {
			memcpy(&seg, CMSG_DATA(cm), sizeof(seg));
			if (seg > 0 && (size_t)seg < len)
				return (size_t)seg;
		}
	return len;
}

/*
 * The same with UDP_GRO on: the kernel hands over runs of datagrams from
 * one sender as one buffer of equal segments (the last may be shorter),
 * each segment one data packet, opened in place there.
 */
static void
dataplane_io_udp_gro(struct dataplane_io *io, int fd)
{
	struct msghdr *mh;
	uint8_t *p;
	size_t len, seg, off;
	int i, n, round;

	for (round = 0; round < DATAPLANE_ROUNDS; round++) {
		for (i = 0; i < DATAPLANE_GRO_BATCH; i++) {
			io->iovs[i].iov_base = io->grobuf +
			    (size_t)i * DATAPLANE_GRO_BUF;
			io->iovs[i].iov_len = DATAPLANE_GRO_BUF;
			mh = &io->msgs[i].msg_hdr;
			memset(&io->msgs[i], 0, sizeof(io->msgs[i]));
			mh->msg_name = &io->slots[i].addr;
			mh->msg_namelen = sizeof(io->slots[i].addr);
			mh->msg_iov = &io->iovs[i];
			mh->msg_iovlen = 1;
			mh->msg_control = io->ctrl[i];
			mh->msg_controllen = DATAPLANE_CTRL_SIZE;
		}
		n = recvmmsg(fd, io->msgs, DATAPLANE_GRO_BATCH, MSG_DONTWAIT,
		    NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("dataplane: recvmmsg");
			return;
		}
		for (i = 0; i < n; i++) {
			mh = &io->msgs[i].msg_hdr;
			if (mh->msg_flags & MSG_TRUNC) {
				io->dp->stats.drops[DATAPLANE_DROP_MALFORMED]++;
				continue;
			}
			p = io->iovs[i].iov_base;
			len = io->msgs[i].msg_len;
			seg = dataplane_io_gro_size(mh, len);
			if (seg < len)
				io->gro_receives++;
			for (off = 0; off < len; off += seg)
				dataplane_io_deliver(io, p + off,
				    len - off < seg ? len - off : seg,
				    (struct sockaddr *)&io->slots[i].addr);
		}
		if (io->vnet)
			dataplane_io_tun_flush(io);
		if (n < DATAPLANE_GRO_BATCH)
			return;
	}
}

static int
dataplane_io_fd_for(const struct dataplane_io *io, const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET ? io->fd4 :
	    sa->sa_family == AF_INET6 ? io->fd6 : -1;
}

/*
 * Coalesces slots[0..n) (sealed, iovs[i] pointing at each) into messages:
 * consecutive packets to one peer of one size, plus a last shorter one,
 * go out as one UDP GSO send (UDP_SEGMENT) that the kernel splits into
 * datagrams of that size; without GSO each packet is its own message.
 * Returns the number of messages built in io->msgs.
 */
static int
dataplane_io_coalesce(struct dataplane_io *io, int n)
{
	struct cmsghdr *cm;
	struct msghdr *mh;
	size_t seg, total;
	int i, j, k;

	for (i = 0, k = 0; i < n; i = j, k++) {
		seg = total = io->iovs[i].iov_len;
		j = i + 1;
		if (io->gso) {
			while (j < n && j - i < DATAPLANE_GSO_SEGMENTS &&
			    io->iovs[j].iov_len <= seg &&
			    (total += io->iovs[j].iov_len) <=
			    DATAPLANE_GSO_BYTES && loop_addr_equal(
			    (struct sockaddr *)&io->slots[j].addr,
			    (struct sockaddr *)&io->slots[i].addr)) {
				j++;
				if (io->iovs[j - 1].iov_len < seg)
					break;
			}
		}
		mh = &io->msgs[k].msg_hdr;
		memset(&io->msgs[k], 0, sizeof(io->msgs[k]));
		mh->msg_name = &io->slots[i].addr;
		mh->msg_namelen =
		    loop_addr_len((struct sockaddr *)&io->slots[i].addr);
		mh->msg_iov = &io->iovs[i];
		mh->msg_iovlen = (size_t)(j - i);
		if (j - i > 1) {
			mh->msg_control = io->ctrl[k];
			mh->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
			cm = CMSG_FIRSTHDR(mh);
			cm->cmsg_level = IPPROTO_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			*(uint16_t *)(void *)CMSG_DATA(cm) = (uint16_t)seg;
		}
	}
	return k;
}

/*
 * Sends msgs[0..n) in runs of one outer family.  What the socket refuses
 * (a full send buffer, an unreachable peer) is counted and dropped: inner
 * TCP retransmits, and queueing here would only add latency.  A GSO send
 * the kernel refuses (EIO: no checksum offload on the route's device)
 * turns GSO off for good.
 */
static void
dataplane_io_flush(struct dataplane_io *io, int n)
{
	const struct sockaddr *sa;
	int start, end, last, fd, sent, i;

	n = dataplane_io_coalesce(io, n);
	for (start = 0; start < n; start = end) {
		sa = io->msgs[start].msg_hdr.msg_name;
		for (end = start + 1; end < n &&
		    ((const struct sockaddr *)io->msgs[end].msg_hdr.msg_name)->
		    sa_family == sa->sa_family; end++)
			;
		fd = dataplane_io_fd_for(io, sa);
		while (start < end) {
			if (fd < 0) {
				sent = -1;
				errno = EAFNOSUPPORT;
			} else
				sent = sendmmsg(fd, &io->msgs[start],
				    (unsigned)(end - start), MSG_DONTWAIT);
			if (sent <= 0) {
				if (sent < 0 && errno == EINTR)
					continue;
				if (sent < 0 && errno == EIO && io->gso) {
					log_info("dataplane: UDP GSO refused, "
					    "sending datagrams one by one");
					io->gso = false;
				}
				/*
				 * A full buffer drops the rest of the run;
				 * anything else only the message it names.
				 */
				last = sent == 0 || errno == EAGAIN ||
				    errno == EWOULDBLOCK || errno == ENOBUFS ?
				    end : start + 1;
				for (i = start; i < last; i++)
					io->dp->stats.drops[
					    DATAPLANE_DROP_TX] +=
					    io->msgs[i].msg_hdr.msg_iovlen;
				start = last;
				continue;
			}
			for (i = start; i < start + sent; i++)
				if (io->msgs[i].msg_hdr.msg_iovlen > 1)
					io->gso_sends++;
			start += sent;
		}
	}
}

/*
 * Routes, checks and seals the inner packet of len bytes at slot n's
 * inner offset; true when slot n is ready to send.
 */
static bool
dataplane_io_tx_one(struct dataplane_io *io, int n, size_t len)
{
	struct dataplane_slot *s = &io->slots[n];
	uint8_t *inner = s->buf + PROTO_DATA_HEADER_LEN;
	struct dataplane_tunnel *t;
	enum dataplane_verdict why;
	size_t outlen;

	if ((t = dataplane_route(io->dp, inner, len, &why)) == NULL) {
		io->dp->stats.drops[why]++;
		if (why == DATAPLANE_DROP_NO_TUNNEL && io->on_miss != NULL)
			io->on_miss(io, inner, len);
		return false;
	}
	if (dataplane_seal(t, PROTO_MSG_DATA, inner, len, s->buf,
	    sizeof(s->buf), &outlen) < 0) {
		t->stats.drops[DATAPLANE_DROP_TX]++;
		return false;
	}
	dataplane_timers_data_sent(t, uv_now(io->loop));
	s->len = outlen;
	memcpy(&s->addr, dataplane_tunnel_peer(t),
	    loop_addr_len(dataplane_tunnel_peer(t)));
	io->iovs[n].iov_base = s->buf;
	io->iovs[n].iov_len = outlen;
	return true;
}

/* Is a failed read of the TUN fd only "nothing more now"? */
static bool
dataplane_io_tun_empty(ssize_t r)
{
	if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		log_warn("dataplane: read tun");
	return true;
}

static void
dataplane_io_tun(struct dataplane_io *io)
{
	struct dataplane_slot *s;
	ssize_t r;
	int i, n, round;
	bool empty = false;

	for (round = 0; round < DATAPLANE_ROUNDS && !empty; round++) {
		for (n = 0, i = 0; i < DATAPLANE_BATCH; i++) {
			s = &io->slots[n];
			r = read(io->tunfd, s->buf + PROTO_DATA_HEADER_LEN,
			    sizeof(s->buf) - DATAPLANE_OVERHEAD);
			if (r <= 0) {
				empty = dataplane_io_tun_empty(r);
				break;
			}
			if (dataplane_io_tx_one(io, n, (size_t)r))
				n++;
		}
		dataplane_io_flush(io, n);
	}
}

/*
 * The same with offloads: each read is a virtio_net_hdr and a packet
 * that may be a TCP super-segment; its pieces fill the slots, and a full
 * batch goes out (one sendmmsg, or UDP GSO sends) before the next piece.
 * At most DATAPLANE_ROUNDS batches' worth of pieces per wakeup.
 */
static void
dataplane_io_tun_vnet(struct dataplane_io *io)
{
	struct tso_vnet v;
	struct tso tso;
	struct dataplane_slot *s;
	ssize_t r;
	size_t len;
	int n = 0, rc, pieces = 0;

	while (pieces < DATAPLANE_ROUNDS * DATAPLANE_BATCH) {
		r = read(io->tunfd, io->tunbuf,
		    TSO_VNET_HDR_LEN + TSO_PACKET_MAX);
		if (r <= 0) {
			(void)dataplane_io_tun_empty(r);
			break;
		}
		tso_vnet_parse(io->tunbuf, &v);
		if (r <= TSO_VNET_HDR_LEN || tso_begin(&tso, &v,
		    io->tunbuf + TSO_VNET_HDR_LEN,
		    (size_t)r - TSO_VNET_HDR_LEN) < 0) {
			io->tso_drops++;
			io->dp->stats.drops[DATAPLANE_DROP_MALFORMED]++;
			continue;
		}
		if (v.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			io->tso_reads++;
		for (;;) {
			s = &io->slots[n];
			rc = tso_next(&tso, s->buf + PROTO_DATA_HEADER_LEN,
			    sizeof(s->buf) - DATAPLANE_OVERHEAD, &len);
			if (rc <= 0) {
				if (rc < 0)
					io->dp->stats.drops[
					    DATAPLANE_DROP_MALFORMED]++;
				break;
			}
			pieces++;
			if (dataplane_io_tx_one(io, n, len) &&
			    ++n == DATAPLANE_BATCH) {
				dataplane_io_flush(io, n);
				n = 0;
			}
		}
	}
	dataplane_io_flush(io, n);
}

static void
dataplane_io_poll_cb(uv_poll_t *h, int status, int events)
{
	struct dataplane_io *io = h->data;

	if (status < 0) {
		log_warnx("dataplane: poll: %s", uv_strerror(status));
		return;
	}
	if (!(events & UV_READABLE))
		return;
	if (h == &io->polltun && io->vnet)
		dataplane_io_tun_vnet(io);
	else if (h == &io->polltun)
		dataplane_io_tun(io);
	else if (io->grobuf != NULL)
		dataplane_io_udp_gro(io, h == &io->poll4 ? io->fd4 : io->fd6);
	else
		dataplane_io_udp(io, h == &io->poll4 ? io->fd4 : io->fd6);
}

/* Handle i: 0 IPv4 socket, 1 IPv6 socket, 2 TUN (bit i of io->polls). */
static uv_poll_t *
dataplane_io_handle(struct dataplane_io *io, int i)
{
	return i == 0 ? &io->poll4 : i == 1 ? &io->poll6 : &io->polltun;
}

static int
dataplane_io_poll(struct dataplane_io *io, uv_loop_t *loop, int i, int fd)
{
	uv_poll_t *h = dataplane_io_handle(io, i);
	int rc;

	if (fd < 0)
		return 0;
	if ((rc = uv_poll_init(loop, h, fd)) < 0)
		return rc;
	h->data = io;
	io->polls |= 1u << i;
	return uv_poll_start(h, UV_READABLE, dataplane_io_poll_cb);
}

/* Does the kernel know UDP_SEGMENT (4.18)?  An unused family (-1) does. */
static bool
dataplane_io_gso_probe(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return fd < 0 ||
	    getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &v, &len) == 0;
}

int
dataplane_io_gso(struct dataplane_io *io, bool on)
{
	if (on && (!dataplane_io_gso_probe(io->fd4) ||
	    !dataplane_io_gso_probe(io->fd6)))
		return -EOPNOTSUPP;
	io->gso = on;
	return 0;
}

static int
dataplane_io_gro_set(int fd, bool on)
{
	int v = on;

	if (fd >= 0 && setsockopt(fd, IPPROTO_UDP, UDP_GRO, &v,
	    sizeof(v)) < 0)
		return errno == ENOPROTOOPT ? -EOPNOTSUPP : -errno;
	return 0;
}

int
dataplane_io_gro(struct dataplane_io *io, bool on)
{
	int rc;

	if (on && io->grobuf == NULL) {
		if ((io->grobuf = malloc((size_t)DATAPLANE_GRO_BATCH *
		    DATAPLANE_GRO_BUF)) == NULL)
			return -ENOMEM;
		if ((rc = dataplane_io_gro_set(io->fd4, true)) < 0 ||
		    (rc = dataplane_io_gro_set(io->fd6, true)) < 0) {
			(void)dataplane_io_gro(io, false);
			return rc;
		}
	} else if (!on) {
		/* Coalesced datagrams already queued would be truncated. */
		(void)dataplane_io_gro_set(io->fd4, false);
		(void)dataplane_io_gro_set(io->fd6, false);
		free(io->grobuf);
		io->grobuf = NULL;
	}
	return 0;
}

int
dataplane_io_start(struct dataplane_io *io, uv_loop_t *loop,
    struct dataplane *dp, int fd4, int fd6, int tunfd)
{
	int rc;

	io->dp = dp;
	io->loop = loop;
	io->fd4 = fd4;
	io->fd6 = fd6;
	io->tunfd = tunfd;
	io->polls = 0;
	io->nclosing = 0;
	io->slots = NULL;
	io->msgs = NULL;
	io->iovs = NULL;
	io->ctrl = NULL;
	io->grobuf = NULL;
	io->gso = false;
	io->gso_sends = 0;
	io->gro_receives = 0;
	io->tun_write_errors = 0;
	io->vnet = false;
	io->tunbuf = NULL;
	io->tso_reads = 0;
	io->tso_drops = 0;
	io->tun_gro = NULL;
	io->tun_gro_writes = 0;
	io->tun_gro_packets = 0;
	if (dp == NULL || tunfd < 0 || (fd4 < 0 && fd6 < 0))
		return -EINVAL;
	if (tun_has_vnet_hdr(tunfd)) {
		if ((io->tunbuf = malloc(TSO_VNET_HDR_LEN +
		    TSO_PACKET_MAX)) == NULL)
			return -ENOMEM;
		if ((rc = tso_gro_new(&io->tun_gro,
		    DATAPLANE_TUN_GRO_PACKETS)) < 0)
			return rc;
		io->vnet = true;
	}
	/*
	 * With offloads a read gives dozens of equal pieces for one peer:
	 * one UDP GSO send carries them (dataplane_io_gso can turn it off).
	 */
	io->gso = io->vnet && dataplane_io_gso_probe(fd4) &&
	    dataplane_io_gso_probe(fd6);
	if ((io->slots = calloc(DATAPLANE_BATCH, sizeof(*io->slots))) == NULL ||
	    (io->msgs = calloc(DATAPLANE_BATCH, sizeof(*io->msgs))) == NULL ||
	    (io->iovs = calloc(DATAPLANE_BATCH, sizeof(*io->iovs))) == NULL ||
	    (io->ctrl = calloc(DATAPLANE_BATCH, sizeof(*io->ctrl))) == NULL)
		return -ENOMEM;
	if ((rc = dataplane_io_poll(io, loop, 0, fd4)) < 0 ||
	    (rc = dataplane_io_poll(io, loop, 1, fd6)) < 0 ||
	    (rc = dataplane_io_poll(io, loop, 2, tunfd)) < 0)
		return rc;
	return 0;
}

static void
dataplane_io_done(struct dataplane_io *io)
{
	free(io->slots);
	free(io->msgs);
	free(io->iovs);
	free(io->ctrl);
	free(io->grobuf);
	io->grobuf = NULL;
	free(io->tunbuf);
	io->tunbuf = NULL;
	tso_gro_free(io->tun_gro);
	io->tun_gro = NULL;
	io->slots = NULL;
	io->msgs = NULL;
	io->iovs = NULL;
	io->ctrl = NULL;
	if (io->on_close != NULL)
		io->on_close(io);
}

static void
dataplane_io_closed(uv_handle_t *h)
{
	struct dataplane_io *io = h->data;

	if (--io->nclosing == 0)
		dataplane_io_done(io);
}

void
dataplane_io_close(struct dataplane_io *io, dataplane_close_cb cb)
{
	int i;

	io->on_close = cb;
	io->nclosing = 0;
	for (i = 0; i < 3; i++)
		if (io->polls & (1u << i))
			io->nclosing++;
	if (io->nclosing == 0) {
		dataplane_io_done(io);
		return;
	}
	for (i = 0; i < 3; i++)
		if (io->polls & (1u << i))
			uv_close((uv_handle_t *)dataplane_io_handle(io, i),
			    dataplane_io_closed);
	io->polls = 0;
}

int
dataplane_io_send_control(struct dataplane_io *io, struct dataplane_tunnel *t,
    const uint8_t *msg, size_t len)
{
	return dataplane_io_send_control_key(io, t, msg, len, false);
}

int
dataplane_io_send_control_key(struct dataplane_io *io,
    struct dataplane_tunnel *t, const uint8_t *msg, size_t len, bool old)
{
	uint8_t out[PROTO_DATAGRAM_MAX + DATAPLANE_OVERHEAD];
	const struct sockaddr *sa = dataplane_tunnel_peer(t);
	size_t outlen;
	int fd, rc;

	if (len > PROTO_DATAGRAM_MAX)
		return -EMSGSIZE;
	if ((fd = dataplane_io_fd_for(io, sa)) < 0)
		return -EAFNOSUPPORT;
	rc = old ? dataplane_seal_old(t, PROTO_MSG_TUNNEL_CONTROL, msg, len,
	    out, sizeof(out), &outlen) : dataplane_seal(t,
	    PROTO_MSG_TUNNEL_CONTROL, msg, len, out, sizeof(out), &outlen);
	if (rc < 0)
		return rc;
	if (sendto(fd, out, outlen, MSG_DONTWAIT, sa, loop_addr_len(sa)) < 0)
		return -errno;
	dataplane_timers_data_sent(t, uv_now(io->loop));
	return 0;
}
