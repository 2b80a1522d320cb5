/* test_signal.c -- the DC signalling core against a simulated node built from the same codec. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aead.h"
#include "crypto.h"
#include "db.h"
#include "loop.h"
#include "msg.h"
#include "rand.h"
#include "signal.h"
#include "sigio.h"
#include "ticket.h"

#define WALL	((time_t)1800000000)

static const uint8_t tkey[PROTO_KEY_LEN] = { 0x42, 0x43, 0x44 };

/* A node as ntmd would be, written from PROTOCOL.md 7 independently. */
struct node {
	uint8_t		 ticket[PROTO_TICKET_MAX];
	size_t		 ticket_len;
	uint8_t		 k_nd[PROTO_KEY_LEN];
	uint8_t		 nonce[PROTO_RANDOM_LEN];
	uint8_t		 sid[PROTO_ID_LEN];
	uint8_t		 k_n2dc[PROTO_KEY_LEN];
	uint8_t		 k_dc2n[PROTO_KEY_LEN];
	uint64_t	 seq;
	uint32_t	 txid;
	struct msg_addr	 local;
	struct msg_addr	 from;		/* where its datagrams come from */
};

struct env {
	struct ntm_rng	*rng;
	struct signal	*sig;
	struct signal_out out;
	int		 zone_sets;
	char		 zone_fqdn[256];
	bool		 revoke_all;
	bool		 refuse_policy;
};

static const uint8_t cn_hash[PROTO_HASH_LEN] = { 0xdd, 0xdd, 0xdd };
static const uint8_t cn_serial[] = { 0x0d, 0x01 };
static const char cn_status[] = "STATUS-OF-THE-CN";

static int
cert_hook(void *arg, const char *fqdn, struct signal_cert *c)
{
	c->hash = cn_hash;
	c->serial = cn_serial;
	c->serial_len = sizeof(cn_serial);
	c->status = (const uint8_t *)cn_status;
	c->status_len = strlen(cn_status);
	return 0;
}

static bool
allowed_hook(void *arg, const char *mn, const char *cn)
{
	struct env *env = arg;

	return !env->refuse_policy;
}

static int
zone_set(void *arg, const char *fqdn, const char *v4, const char *v6)
{
	struct env *env = arg;

	env->zone_sets++;
	snprintf(env->zone_fqdn, sizeof(env->zone_fqdn), "%s", fqdn);
	return 0;
}

static bool
revoked(void *arg, const uint8_t *serial, size_t len)
{
	struct env *env = arg;

	return env->revoke_all;
}

static struct msg_addr
v4(const char *a, uint16_t port)
{
	struct msg_addr m;
	unsigned b[4];

	memset(&m, 0, sizeof(m));
	assert_int_equal(sscanf(a, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]),
	    4);
	m.family = PROTO_FAMILY_IPV4;
	m.port = port;
	m.addr[0] = (uint8_t)b[0];
	m.addr[1] = (uint8_t)b[1];
	m.addr[2] = (uint8_t)b[2];
	m.addr[3] = (uint8_t)b[3];
	return m;
}

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	struct signal_config cfg = { "dc1.ntm.test", 0, 0, 0,
	    { { PROTO_FAMILY_IPV4, 4613, { 192, 0, 2, 13 } } }, 1, false };
	struct signal_hooks hooks;

	assert_non_null(env);
	env->rng = rng_seeded_new("dc", 2);
	memset(&hooks, 0, sizeof(hooks));
	hooks.zone.node_set = zone_set;
	hooks.zone.arg = env;
	hooks.revoked = revoked;
	hooks.cert = cert_hook;
	hooks.allowed = allowed_hook;
	hooks.arg = env;
	assert_int_equal(signal_new(&env->sig, &cfg, &hooks, env->rng), 0);
	assert_int_equal(signal_ticket_key_add(env->sig, 7, tkey), 0);
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;

	signal_free(env->sig);
	rng_free(env->rng);
	free(env);
	return 0;
}

/* The AS's part: a ticket for fqdn under key id, sealed with key. */
static void
node_init(struct node *n, const char *fqdn, uint32_t key_id,
    const uint8_t key[PROTO_KEY_LEN], uint64_t expiry, unsigned seed)
{
	struct ticket_keyring as;
	struct ticket_body b;
	struct ntm_rng *rng = rng_seeded_new(&seed, sizeof(seed));

	memset(n, 0, sizeof(*n));
	memset(&b, 0, sizeof(b));
	assert_int_equal(rng_bytes(rng, b.id, sizeof(b.id)), 0);
	assert_int_equal(rng_bytes(rng, b.key, sizeof(b.key)), 0);
	memcpy(n->k_nd, b.key, sizeof(n->k_nd));
	snprintf(b.fqdn, sizeof(b.fqdn), "%s", fqdn);
	b.fqdn_len = strlen(fqdn);
	b.has_vip4 = b.has_vip6 = true;
	memcpy(b.vip4, "\xc6\x12\x01\x05", 4);
	memcpy(b.vip6, "\xfd\x6e\x74\x6d\x6f\x62\x00\x01\0\0\0\0\0\0\0\x05",
	    16);
	b.expiry = expiry;
	b.serial_len = 1;
	b.serial[0] = 0x2a;
	ticket_keyring_init(&as);
	assert_int_equal(ticket_keyring_add(&as, key_id, key), 0);
	assert_int_equal(ticket_seal(&as, key_id, &b, rng, n->ticket,
	    sizeof(n->ticket), &n->ticket_len), 0);
	ticket_keyring_clear(&as);
	assert_int_equal(rng_bytes(rng, n->nonce, sizeof(n->nonce)), 0);
	rng_free(rng);
	n->txid = 100 + seed;
	n->local = v4("192.168.1.10", 4620);
	n->from = v4("198.51.100.77", 40001);
}

static size_t
node_hello(struct node *n, uint8_t *buf)
{
	struct msg m;
	size_t len;

	msg_init(&m, PROTO_MSG_REG_HELLO);
	m.hdr.txid = n->txid;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_TICKET, n->ticket,
	    n->ticket_len), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_NONCE, n->nonce,
	    PROTO_RANDOM_LEN), 0);
	assert_int_equal(msg_encode(&m, buf, PROTO_DATAGRAM_MAX, &len), 0);
	return len;
}

/* Takes the challenge; derives the keys as PROTOCOL.md 7 step 3 says. */
static void
node_challenge(struct node *n, const uint8_t *p, size_t len)
{
	struct msg m;
	const struct msg_attr *cookie, *nonce;
	uint8_t salt[64], prk[32];

	assert_int_equal(msg_decode(p, len, &m), 0);
	assert_int_equal(m.hdr.type, PROTO_MSG_REG_CHALLENGE);
	assert_int_equal(m.hdr.status, PROTO_STATUS_OK);
	assert_int_equal(m.hdr.txid, n->txid);
	cookie = msg_attr_find(&m, PROTO_ATTR_COOKIE);
	nonce = msg_attr_find(&m, PROTO_ATTR_NONCE);
	assert_non_null(cookie);
	assert_memory_equal(nonce->val, n->nonce, PROTO_RANDOM_LEN);
	memcpy(n->sid, m.hdr.id, PROTO_ID_LEN);
	memcpy(salt, n->nonce, 32);
	memcpy(salt + 32, cookie->val, 32);
	crypto_hkdf_extract(prk, salt, sizeof(salt), n->k_nd, 32);
	assert_int_equal(crypto_hkdf_expand(n->k_n2dc, 32, prk, 32,
	    "ntmobile v1 node to dc", 22), 0);
	assert_int_equal(crypto_hkdf_expand(n->k_dc2n, 32, prk, 32,
	    "ntmobile v1 dc to node", 22), 0);
}

/* Encodes and seals m (type set by the caller) under k_N->DC. */
static size_t
node_seal(struct node *n, struct msg *m, uint8_t *buf)
{
	struct aead *a;
	uint8_t nonce[PROTO_NONCE_LEN];
	size_t len;

	m->hdr.txid = ++n->txid;
	m->hdr.seq = ++n->seq;
	memcpy(m->hdr.id, n->sid, PROTO_ID_LEN);
	assert_int_equal(msg_encode(m, buf, PROTO_DATAGRAM_MAX, &len), 0);
	assert_int_equal(aead_new(&a, AEAD_ALG_AES256GCM, n->k_n2dc, 32), 0);
	msg_nonce(&m->hdr, nonce);
	assert_int_equal(aead_seal(a, nonce, buf, PROTO_HEADER_LEN,
	    buf + PROTO_HEADER_LEN, len - PROTO_HEADER_LEN - PROTO_TAG_LEN,
	    buf + PROTO_HEADER_LEN, PROTO_DATAGRAM_MAX - PROTO_HEADER_LEN), 0);
	aead_free(a);
	return len;
}

static size_t
node_registration(struct node *n, uint8_t *buf)
{
	struct msg m;

	msg_init(&m, PROTO_MSG_REGISTRATION);
	assert_int_equal(msg_add_addr(&m, PROTO_ATTR_LOCAL_ADDR, &n->local),
	    0);
	return node_seal(n, &m, buf);
}

static size_t
node_keepalive(struct node *n, uint8_t *buf)
{
	struct msg m;

	msg_init(&m, PROTO_MSG_KEEPALIVE);
	return node_seal(n, &m, buf);
}

/* Opens an answer from the DC under k_DC->N into m (borrowing copy). */
static void
node_open(struct node *n, const struct signal_send *snd, uint8_t *copy,
    struct msg *m)
{
	struct aead *a;
	struct msg_header h;
	struct rbuf b;
	uint8_t nonce[PROTO_NONCE_LEN];

	memcpy(copy, snd->buf, snd->len);
	rbuf_init(&b, copy, snd->len);
	assert_int_equal(msg_header_decode(&b, &h), 0);
	assert_memory_equal(h.id, n->sid, PROTO_ID_LEN);
	assert_int_equal(aead_new(&a, AEAD_ALG_AES256GCM, n->k_dc2n, 32), 0);
	msg_nonce(&h, nonce);
	assert_int_equal(aead_open(a, nonce, copy, PROTO_HEADER_LEN,
	    copy + PROTO_HEADER_LEN, h.length, copy + PROTO_HEADER_LEN,
	    PROTO_DATAGRAM_MAX), 0);
	aead_free(a);
	assert_int_equal(msg_body_decode(&h, copy + PROTO_HEADER_LEN,
	    h.length - PROTO_TAG_LEN, m), 0);
}

static void
input(struct env *env, const uint8_t *p, size_t len,
    const struct msg_addr *from, uint64_t now)
{
	signal_input(env->sig, p, len, from, now, WALL, &env->out);
}

/* Hello and challenge at `now`, from n->from. */
static void
do_hello(struct env *env, struct node *n, uint64_t now)
{
	uint8_t buf[PROTO_DATAGRAM_MAX];
	size_t len = node_hello(n, buf);

	input(env, buf, len, &n->from, now);
	assert_int_equal(env->out.nsend, 1);
	assert_true(env->out.send[0].len <= len);
	assert_memory_equal(&env->out.send[0].to, &n->from, sizeof(n->from));
	node_challenge(n, env->out.send[0].buf, env->out.send[0].len);
}

static void
do_register(struct env *env, struct node *n, uint64_t now, struct msg *ack,
    uint8_t *copy)
{
	uint8_t buf[PROTO_DATAGRAM_MAX];
	size_t len;

	do_hello(env, n, now);
	len = node_registration(n, buf);
	input(env, buf, len, &n->from, now);
	assert_int_equal(env->out.nsend, 1);
	node_open(n, &env->out.send[0], copy, ack);
	assert_int_equal(ack->hdr.type, PROTO_MSG_REGISTRATION_ACK);
	assert_int_equal(ack->hdr.status, PROTO_STATUS_OK);
}

static void
test_registration_round_trip(void **state)
{
	struct env *env = *state;
	struct node n, g;
	struct msg ack;
	struct msg_addr obs;
	uint8_t copy[PROTO_DATAGRAM_MAX], nat;
	uint32_t lifetime, ka;
	struct registry_entry *e;

	node_init(&n, "alice.dc1.ntm.test", 7, tkey, WALL + 3600, 1);
	do_register(env, &n, 1000, &ack, copy);
	/* The DC opened it with the keys the node derived on its own. */
	assert_int_equal(msg_addr_parse(msg_attr_find(&ack,
	    PROTO_ATTR_OBSERVED_ADDR), &obs), 0);
	assert_memory_equal(&obs, &n.from, sizeof(obs));
	assert_int_equal(msg_attr_u8(&ack, PROTO_ATTR_NAT, &nat), 0);
	assert_int_equal(nat, PROTO_NAT_BEHIND);
	assert_int_equal(msg_attr_u32(&ack, PROTO_ATTR_LIFETIME, &lifetime), 0);
	assert_int_equal(lifetime, 120);
	assert_int_equal(msg_attr_u32(&ack, PROTO_ATTR_KEEPALIVE, &ka), 0);
	assert_int_equal(ka, 25);
	assert_non_null(msg_attr_find(&ack, PROTO_ATTR_FQDN));
	assert_int_equal(ack.hdr.seq, 1);
	/* The registry, the zone and the nodes table hear of it. */
	e = registry_find_fqdn(signal_registry(env->sig), "alice.dc1.ntm.test",
	    18);
	assert_non_null(e);
	assert_true(e->flags & REGISTRY_F_NAT);
	assert_int_equal(env->zone_sets, 1);
	assert_string_equal(env->zone_fqdn, "alice.dc1.ntm.test");
	assert_int_equal(env->out.npersist, 1);
	assert_string_equal(env->out.persist[0].vip4, "198.18.1.5");
	assert_string_equal(env->out.persist[0].vip6, "fd6e:746d:6f62:1::5");
	assert_int_equal(registry_pending_count(signal_registry(env->sig)), 0);

	/* A node on a global address: no NAT, keep-alive at lifetime / 3. */
	node_init(&g, "dave.dc1.ntm.test", 7, tkey, WALL + 3600, 2);
	g.local = g.from = v4("203.0.113.9", 4620);
	do_register(env, &g, 2000, &ack, copy);
	assert_int_equal(msg_attr_u8(&ack, PROTO_ATTR_NAT, &nat), 0);
	assert_int_equal(nat, PROTO_NAT_NONE);
	assert_int_equal(msg_attr_u32(&ack, PROTO_ATTR_KEEPALIVE, &ka), 0);
	assert_int_equal(ka, 40);
	assert_int_equal(signal_stats(env->sig)->registrations, 2);
}

static void
test_retransmissions_from_cache(void **state)
{
	struct env *env = *state;
	struct node n;
	uint8_t hello[PROTO_DATAGRAM_MAX], reg[PROTO_DATAGRAM_MAX];
	uint8_t first[PROTO_DATAGRAM_MAX];
	size_t hlen, rlen, flen;

	node_init(&n, "alice.dc1.ntm.test", 7, tkey, WALL + 3600, 3);
	hlen = node_hello(&n, hello);
	input(env, hello, hlen, &n.from, 0);
	assert_int_equal(env->out.nsend, 1);
	flen = env->out.send[0].len;
	memcpy(first, env->out.send[0].buf, flen);
	/* The same hello 250 ms later: the same challenge, byte for byte. */
	input(env, hello, hlen, &n.from, 250);
	assert_int_equal(env->out.nsend, 1);
	assert_int_equal(env->out.send[0].len, flen);
	assert_memory_equal(env->out.send[0].buf, first, flen);
	node_challenge(&n, first, flen);

	rlen = node_registration(&n, reg);
	input(env, reg, rlen, &n.from, 500);
	assert_int_equal(env->out.nsend, 1);
	flen = env->out.send[0].len;
	memcpy(first, env->out.send[0].buf, flen);
	/* The ack was lost: the retransmitted REGISTRATION gets it again. */
	input(env, reg, rlen, &n.from, 750);
	assert_int_equal(env->out.nsend, 1);
	assert_int_equal(env->out.send[0].len, flen);
	assert_memory_equal(env->out.send[0].buf, first, flen);
	assert_int_equal(signal_stats(env->sig)->cache_resends, 1);
	assert_int_equal(signal_stats(env->sig)->registrations, 1);
	/* Past the 8 s the answer is kept, a copy is only a replay. */
	input(env, reg, rlen, &n.from, 500 + SIGNAL_CACHE_MS);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(signal_stats(env->sig)->drop_replay, 1);
}

static void
test_keepalive_refresh_and_expiry(void **state)
{
	struct env *env = *state;
	struct registry *reg = signal_registry(env->sig);
	struct node n;
	struct msg ack, m;
	struct msg_addr obs;
	uint8_t copy[PROTO_DATAGRAM_MAX], buf[PROTO_DATAGRAM_MAX];
	size_t len;

	node_init(&n, "alice.dc1.ntm.test", 7, tkey, WALL + 3600, 4);
	do_register(env, &n, 0, &ack, copy);
	assert_true(signal_next_timer(env->sig) == 120000);
	/* Keep-alive at 100 s: answered, and the lifetime restarts. */
	len = node_keepalive(&n, buf);
	input(env, buf, len, &n.from, 100000);
	assert_int_equal(env->out.nsend, 1);
	node_open(&n, &env->out.send[0], copy, &m);
	assert_int_equal(m.hdr.type, PROTO_MSG_KEEPALIVE_ACK);
	assert_int_equal(m.hdr.seq, 2);
	assert_int_equal(msg_addr_parse(msg_attr_find(&m,
	    PROTO_ATTR_OBSERVED_ADDR), &obs), 0);
	assert_memory_equal(&obs, &n.from, sizeof(obs));
	assert_true(signal_next_timer(env->sig) == 220000);
	signal_timer(env->sig, 120000, &env->out);
	signal_timer(env->sig, 219999, &env->out);
	assert_int_equal(registry_count(reg), 1);
	signal_timer(env->sig, 220000, &env->out);
	assert_int_equal(registry_count(reg), 0);
	assert_int_equal(signal_stats(env->sig)->expired, 1);
	assert_true(signal_next_timer(env->sig) == UINT64_MAX);
	/* After expiry the session is unknown: dropped, not answered. */
	len = node_keepalive(&n, buf);
	input(env, buf, len, &n.from, 221000);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(signal_stats(env->sig)->drop_unknown_session, 1);
}

static void
test_nat_rebinding(void **state)
{
	struct env *env = *state;
	struct node n;
	struct msg ack, m;
	struct msg_addr obs, moved = v4("198.51.100.77", 50123);
	uint8_t copy[PROTO_DATAGRAM_MAX], buf[PROTO_DATAGRAM_MAX];
	size_t len;
	struct registry_entry *e;

	node_init(&n, "alice.dc1.ntm.test", 7, tkey, WALL + 3600, 5);
	do_register(env, &n, 0, &ack, copy);
	len = node_keepalive(&n, buf);
	input(env, buf, len, &moved, 25000);
	assert_int_equal(env->out.nsend, 1);
	/* Answered to where it came from, telling the node its new address. */
	assert_memory_equal(&env->out.send[0].to, &moved, sizeof(moved));
	node_open(&n, &env->out.send[0], copy, &m);
	assert_int_equal(msg_addr_parse(msg_attr_find(&m,
	    PROTO_ATTR_OBSERVED_ADDR), &obs), 0);
	assert_memory_equal(&obs, &moved, sizeof(obs));
	e = registry_find_sid(signal_registry(env->sig), n.sid);
	assert_memory_equal(&e->observed, &moved, sizeof(moved));
	assert_false(e->flags & REGISTRY_F_PROVEN);
	assert_int_equal(signal_stats(env->sig)->rebinds, 1);
	/* Never more than 3x what the unproven address sent. */
	assert_true(env->out.send[0].len <= SIGNAL_AMPLIFICATION * len);
}

static void
test_replayed_and_forged_dropped(void **state)
{
	struct env *env = *state;
	const struct signal_stats *st = signal_stats(env->sig);
	struct node n;
	struct msg ack;
	uint8_t copy[PROTO_DATAGRAM_MAX], ka1[PROTO_DATAGRAM_MAX],
	    ka2[PROTO_DATAGRAM_MAX], junk[64];
	size_t l1, l2;
	uint64_t aead_before;

	node_init(&n, "alice.dc1.ntm.test", 7, tkey, WALL + 3600, 6);
	do_register(env, &n, 0, &ack, copy);
	l1 = node_keepalive(&n, ka1);
	input(env, ka1, l1, &n.from, 1000);
	assert_int_equal(env->out.nsend, 1);
	l2 = node_keepalive(&n, ka2);
	input(env, ka2, l2, &n.from, 2000);
	assert_int_equal(env->out.nsend, 1);
	/* An old keep-alive whose answer is no longer the cached one. */
	input(env, ka1, l1, &n.from, 3000);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(st->drop_replay, 1);

	/* A forged one: fresh sequence number, wrong tag. */
	l1 = node_keepalive(&n, ka1);
	ka1[l1 - 1] ^= 0x80;
	aead_before = st->drop_aead;
	input(env, ka1, l1, &n.from, 4000);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(st->drop_aead, aead_before + 1);
	/* It did not move the window: the genuine message still passes. */
	ka1[l1 - 1] ^= 0x80;
	input(env, ka1, l1, &n.from, 4100);
	assert_int_equal(env->out.nsend, 1);

	/* Another session id: unknown, dropped. */
	l2 = node_keepalive(&n, ka2);
	ka2[PROTO_HEADER_LEN - 1] ^= 1;
	input(env, ka2, l2, &n.from, 5000);
	assert_int_equal(env->out.nsend, 0);
	assert_true(st->drop_unknown_session >= 1);

	/* Garbage: decode errors, counted by kind. */
	memset(junk, 0, sizeof(junk));
	input(env, junk, 10, &n.from, 6000);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(st->drop_decode[-(MSG_E_SHORT_HEADER -
	    MSG_E_SHORT_HEADER)], 1);
	input(env, junk, sizeof(junk), &n.from, 6000);
	assert_int_equal(st->drop_decode[-(MSG_E_VERSION -
	    MSG_E_SHORT_HEADER)], 1);
	/* A DC-to-node type sent to the DC. */
	memcpy(junk, ack.hdr.id, 0);
	l1 = env->out.send[0].len;
	input(env, env->out.send[0].buf, l1, &n.from, 6000);
	assert_int_equal(env->out.nsend, 0);
	assert_true(st->drop_type >= 1);
}

static void
test_amplification_limit(void **state)
{
	struct env *env = *state;
	struct node n;
	struct msg m;
	uint8_t buf[PROTO_DATAGRAM_MAX], copy[PROTO_DATAGRAM_MAX];
	size_t len;
	char long_name[128];
	struct msg_addr spoofed = v4("192.0.2.66", 9999);

	/* A 63-byte label makes the full REGISTRATION_ACK > 3x. */
	snprintf(long_name, sizeof(long_name), "%.*s.dc1.ntm.test", 63,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	node_init(&n, long_name, 7, tkey, WALL + 3600, 7);
	/* The cookie went to one address, REGISTRATION came from another. */
	do_hello(env, &n, 0);
	len = node_registration(&n, buf);
	input(env, buf, len, &spoofed, 10);
	assert_int_equal(env->out.nsend, 1);
	assert_true(env->out.send[0].len <= SIGNAL_AMPLIFICATION * len);
	node_open(&n, &env->out.send[0], copy, &m);
	assert_null(msg_attr_find(&m, PROTO_ATTR_FQDN));
	assert_non_null(msg_attr_find(&m, PROTO_ATTR_OBSERVED_ADDR));

	/* From the address that received the cookie: the full answer. */
	n.nonce[0] ^= 1;
	n.seq = 0;
	do_hello(env, &n, 1000);
	len = node_registration(&n, buf);
	input(env, buf, len, &n.from, 1010);
	assert_int_equal(env->out.nsend, 1);
	assert_true(env->out.send[0].len > SIGNAL_AMPLIFICATION * len);
	node_open(&n, &env->out.send[0], copy, &m);
	assert_non_null(msg_attr_find(&m, PROTO_ATTR_FQDN));
}

static void
test_bad_tickets(void **state)
{
	struct env *env = *state;
	const struct signal_stats *st = signal_stats(env->sig);
	static const uint8_t other[PROTO_KEY_LEN] = { 1 };
	struct node n;
	struct msg m;
	uint8_t buf[PROTO_DATAGRAM_MAX];
	size_t len;

	/* Expired. */
	node_init(&n, "alice.dc1.ntm.test", 7, tkey, WALL, 8);
	len = node_hello(&n, buf);
	input(env, buf, len, &n.from, 0);
	assert_int_equal(env->out.nsend, 1);
	assert_true(env->out.send[0].len <= len);
	assert_int_equal(msg_decode(env->out.send[0].buf, env->out.send[0].len,
	    &m), 0);
	assert_int_equal(m.hdr.status, PROTO_STATUS_EXPIRED);
	assert_null(msg_attr_find(&m, PROTO_ATTR_COOKIE));
	assert_int_equal(st->expired_ticket, 1);
	/* Sealed with a key the DC does not hold under that id. */
	node_init(&n, "alice.dc1.ntm.test", 7, other, WALL + 60, 9);
	len = node_hello(&n, buf);
	input(env, buf, len, &n.from, 0);
	assert_int_equal(msg_decode(env->out.send[0].buf, env->out.send[0].len,
	    &m), 0);
	assert_int_equal(m.hdr.status, PROTO_STATUS_BAD_TICKET);
	/* Another key id. */
	node_init(&n, "alice.dc1.ntm.test", 8, tkey, WALL + 60, 10);
	len = node_hello(&n, buf);
	input(env, buf, len, &n.from, 0);
	assert_int_equal(msg_decode(env->out.send[0].buf, env->out.send[0].len,
	    &m), 0);
	assert_int_equal(m.hdr.status, PROTO_STATUS_BAD_TICKET);
	assert_int_equal(st->bad_ticket, 2);
	/* A name in another DC's zone, and one two labels down. */
	node_init(&n, "bob.dc2.ntm.test", 7, tkey, WALL + 60, 11);
	len = node_hello(&n, buf);
	input(env, buf, len, &n.from, 0);
	assert_int_equal(msg_decode(env->out.send[0].buf, env->out.send[0].len,
	    &m), 0);
	assert_int_equal(m.hdr.status, PROTO_STATUS_BAD_TICKET);
	node_init(&n, "x.bob.dc1.ntm.test", 7, tkey, WALL + 60, 12);
	len = node_hello(&n, buf);
	input(env, buf, len, &n.from, 0);
	assert_int_equal(msg_decode(env->out.send[0].buf, env->out.send[0].len,
	    &m), 0);
	assert_int_equal(m.hdr.status, PROTO_STATUS_BAD_TICKET);
	assert_int_equal(st->foreign_ticket, 2);
	/* Revoked serial. */
	env->revoke_all = true;
	node_init(&n, "alice.dc1.ntm.test", 7, tkey, WALL + 60, 13);
	len = node_hello(&n, buf);
	input(env, buf, len, &n.from, 0);
	assert_int_equal(msg_decode(env->out.send[0].buf, env->out.send[0].len,
	    &m), 0);
	assert_int_equal(m.hdr.status, PROTO_STATUS_REVOKED);
	assert_int_equal(registry_pending_count(signal_registry(env->sig)), 0);
}

static void
test_stale_cookie(void **state)
{
	struct env *env = *state;
	struct node n;
	uint8_t buf[PROTO_DATAGRAM_MAX];
	size_t len;

	node_init(&n, "alice.dc1.ntm.test", 7, tkey, WALL + 3600, 14);
	do_hello(env, &n, 0);
	len = node_registration(&n, buf);
	/* The cookie lives 10 s. */
	signal_timer(env->sig, PROTO_TIMER_COOKIE, &env->out);
	input(env, buf, len, &n.from, PROTO_TIMER_COOKIE);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(registry_count(signal_registry(env->sig)), 0);
	assert_int_equal(signal_stats(env->sig)->drop_unknown_session, 1);
}


static const uint8_t mn_hash[PROTO_HASH_LEN] = { 0xaa, 0xaa };
static const char mn_status[] = "STATUS-OF-THE-MN";

static size_t
node_direction(struct node *n, const char *peer, uint8_t *buf)
{
	static const uint8_t offers[] = { PROTO_AEAD_AES256_GCM,
	    PROTO_AEAD_CHACHA20_POLY1305 };
	struct msg m;

	msg_init(&m, PROTO_MSG_DIRECTION_REQUEST);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PEER_FQDN, peer,
	    strlen(peer)), 0);
	assert_int_equal(msg_add_u8(&m, PROTO_ATTR_KEX, PROTO_KEX_ECDHE), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT_HASH, mn_hash,
	    sizeof(mn_hash)), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_STATUS, mn_status,
	    strlen(mn_status)), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_AEAD_OFFERS, offers,
	    sizeof(offers)), 0);
	return node_seal(n, &m, buf);
}

static size_t
node_ntm_ack(struct node *n, const uint8_t *path_id, uint8_t status,
    uint8_t *buf)
{
	struct msg m;

	msg_init(&m, PROTO_MSG_NTM_ACK);
	m.hdr.status = status;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PATH_ID, path_id,
	    PROTO_ID_LEN), 0);
	return node_seal(n, &m, buf);
}

/* Opens a Route Direction; its header id is the path id, not the session. */
static void
node_open_route(struct node *n, const struct signal_send *snd, uint8_t *copy,
    struct msg *m)
{
	struct aead *a;
	struct msg_header h;
	struct rbuf b;
	uint8_t nonce[PROTO_NONCE_LEN];

	memcpy(copy, snd->buf, snd->len);
	rbuf_init(&b, copy, snd->len);
	assert_int_equal(msg_header_decode(&b, &h), 0);
	assert_int_equal(h.type, PROTO_MSG_ROUTE_DIRECTION);
	assert_int_equal(aead_new(&a, AEAD_ALG_AES256GCM, n->k_dc2n, 32), 0);
	msg_nonce(&h, nonce);
	assert_int_equal(aead_open(a, nonce, copy, PROTO_HEADER_LEN,
	    copy + PROTO_HEADER_LEN, h.length, copy + PROTO_HEADER_LEN,
	    PROTO_DATAGRAM_MAX), 0);
	aead_free(a);
	assert_int_equal(msg_body_decode(&h, copy + PROTO_HEADER_LEN,
	    h.length - PROTO_TAG_LEN, m), 0);
}

/* alice behind a NAT, dave on a global address, both registered. */
static void
two_nodes(struct env *env, struct node *alice, struct node *dave)
{
	struct msg ack;
	uint8_t copy[PROTO_DATAGRAM_MAX];

	node_init(alice, "alice.dc1.ntm.test", 7, tkey, WALL + 3600, 20);
	do_register(env, alice, 0, &ack, copy);
	node_init(dave, "dave.dc1.ntm.test", 7, tkey, WALL + 3600, 21);
	dave->local = dave->from = v4("203.0.113.9", 4620);
	do_register(env, dave, 0, &ack, copy);
}

static void
test_direction_one_dc(void **state)
{
	struct env *env = *state;
	const struct signal_stats *st = signal_stats(env->sig);
	struct node alice, dave;
	struct msg mc, mm;
	struct msg_route rc, rm;
	uint8_t req[PROTO_DATAGRAM_MAX], buf[PROTO_DATAGRAM_MAX];
	uint8_t ccopy[PROTO_DATAGRAM_MAX], mcopy[PROTO_DATAGRAM_MAX];
	uint8_t first[PROTO_DATAGRAM_MAX];
	size_t rlen, len, flen;
	uint32_t req_txid;

	two_nodes(env, &alice, &dave);
	rlen = node_direction(&alice, "dave.dc1.ntm.test", req);
	req_txid = alice.txid;
	input(env, req, rlen, &alice.from, 10000);
	/* CN hears first; MN nothing yet. */
	assert_int_equal(env->out.nsend, 1);
	assert_memory_equal(&env->out.send[0].to, &dave.from,
	    sizeof(dave.from));
	node_open_route(&dave, &env->out.send[0], ccopy, &mc);
	assert_int_equal(msg_route_read(&mc, &rc), 0);
	assert_memory_equal(mc.hdr.id, rc.path_id, PROTO_ID_LEN);
	assert_int_equal(rc.route, PROTO_ROUTE_DIRECT);
	assert_int_equal(rc.role, PROTO_ROLE_RESPONDER);
	assert_int_equal(rc.kex, PROTO_KEX_ECDHE);
	assert_true(rc.expiry == (uint64_t)WALL + 30);
	assert_int_equal(rc.peer_fqdn_len, 18);
	assert_memory_equal(rc.peer_fqdn, "alice.dc1.ntm.test", 18);
	assert_int_equal(rc.npeer_addr, 1);
	assert_memory_equal(&rc.peer_addr[0], &alice.from, sizeof(alice.from));
	assert_memory_equal(rc.peer_cert_hash, mn_hash, PROTO_HASH_LEN);
	assert_int_equal(rc.peer_status->len, strlen(mn_status));
	assert_memory_equal(rc.peer_status->val, mn_status, strlen(mn_status));
	assert_int_equal(rc.peer_serial->len, 1);
	assert_int_equal(rc.peer_serial->val[0], 0x2a);
	assert_non_null(rc.aead_offers);
	assert_null(rc.binding_key);
	assert_non_null(rc.peer_vip4);
	assert_int_equal(st->directions_routed, 0);
	/* MN retransmits while CN has not answered: dropped. */
	input(env, req, rlen, &alice.from, 10250);
	assert_int_equal(env->out.nsend, 0);

	len = node_ntm_ack(&dave, rc.path_id, PROTO_STATUS_OK, buf);
	input(env, buf, len, &dave.from, 10300);
	assert_int_equal(env->out.nsend, 1);
	assert_memory_equal(&env->out.send[0].to, &alice.from,
	    sizeof(alice.from));
	flen = env->out.send[0].len;
	memcpy(first, env->out.send[0].buf, flen);
	node_open_route(&alice, &env->out.send[0], mcopy, &mm);
	assert_int_equal(mm.hdr.txid, req_txid);
	assert_int_equal(msg_route_read(&mm, &rm), 0);
	assert_memory_equal(rm.path_id, rc.path_id, PROTO_ID_LEN);
	assert_int_equal(rm.role, PROTO_ROLE_INITIATOR);
	assert_memory_equal(rm.tunnel_key, rc.tunnel_key, PROTO_KEY_LEN);
	assert_memory_equal(rm.temp_key, rc.temp_key, PROTO_KEY_LEN);
	assert_memory_not_equal(rm.tunnel_key, rm.temp_key, PROTO_KEY_LEN);
	assert_int_equal(rm.recv_id, rc.peer_recv_id);
	assert_int_equal(rm.peer_recv_id, rc.recv_id);
	assert_int_not_equal(rm.recv_id, rm.peer_recv_id);
	assert_memory_equal(rm.peer_fqdn, "dave.dc1.ntm.test", 17);
	assert_memory_equal(&rm.peer_addr[0], &dave.from, sizeof(dave.from));
	assert_memory_equal(rm.peer_cert_hash, cn_hash, PROTO_HASH_LEN);
	assert_memory_equal(rm.peer_status->val, cn_status, strlen(cn_status));
	assert_memory_equal(rm.peer_serial->val, cn_serial, sizeof(cn_serial));
	assert_int_equal(st->directions_routed, 1);
	assert_int_equal(st->route[PROTO_ROUTE_DIRECT], 1);
	/* The answer was lost: MN's retransmission gets the same bytes. */
	input(env, req, rlen, &alice.from, 10600);
	assert_int_equal(env->out.nsend, 1);
	assert_int_equal(env->out.send[0].len, flen);
	assert_memory_equal(env->out.send[0].buf, first, flen);
	/* A second NTM_ACK for the finished path answers nothing. */
	len = node_ntm_ack(&dave, rc.path_id, PROTO_STATUS_OK, buf);
	input(env, buf, len, &dave.from, 10700);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(st->drop_unknown_path, 1);
}

/* The RS's side: what an address it hands out looks like. */
static const struct msg_addr rs4 = { PROTO_FAMILY_IPV4, 4613,
    { 198, 51, 100, 7 } };
static const struct msg_addr rs6 = { PROTO_FAMILY_IPV6, 4613,
    { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0x01, 0, [15] = 7 } };

/*
 * The RS's RELAY_DIRECTION_ACK to rl (written here from PROTOCOL.md 6.5):
 * status, and naddr (1: IPv4, 2: both) addresses when OK, decoded into m.
 */
static void
rs_ack(const struct signal_relay *rl, uint8_t status, int naddr,
    uint8_t *buf, struct msg *m)
{
	struct msg a;
	size_t len;

	msg_init(&a, PROTO_MSG_RELAY_DIRECTION_ACK);
	a.hdr.status = status;
	a.hdr.txid = 5;
	memcpy(a.hdr.id, rl->path_id, PROTO_ID_LEN);
	assert_int_equal(msg_add_bytes(&a, PROTO_ATTR_PATH_ID, rl->path_id,
	    PROTO_ID_LEN), 0);
	if (status == PROTO_STATUS_OK) {
		assert_int_equal(msg_add_addr(&a, PROTO_ATTR_RELAY_ADDR, &rs4),
		    0);
		if (naddr > 1)
			assert_int_equal(msg_add_addr(&a,
			    PROTO_ATTR_RELAY_ADDR, &rs6), 0);
	}
	assert_int_equal(msg_encode(&a, buf, 512, &len), 0);
	assert_int_equal(msg_decode(buf, len, m), 0);
}

static void
test_direction_reverse_and_punch(void **state)
{
	struct env *env = *state;
	struct node alice, dave, carol;
	struct signal_relay rl;
	struct msg ack, mc, mm, am;
	struct msg_route rc, rm;
	uint8_t buf[PROTO_DATAGRAM_MAX], copy[PROTO_DATAGRAM_MAX],
	    copy2[PROTO_DATAGRAM_MAX], abuf[512];
	size_t len;

	two_nodes(env, &alice, &dave);
	/* MN global, CN behind NAT: CN initiates toward MN. */
	len = node_direction(&dave, "alice.dc1.ntm.test", buf);
	input(env, buf, len, &dave.from, 1000);
	assert_int_equal(env->out.nsend, 1);
	node_open_route(&alice, &env->out.send[0], copy, &mc);
	assert_int_equal(msg_route_read(&mc, &rc), 0);
	assert_int_equal(rc.route, PROTO_ROUTE_REVERSE);
	assert_int_equal(rc.role, PROTO_ROLE_INITIATOR);
	assert_memory_equal(&rc.peer_addr[0], &dave.from, sizeof(dave.from));
	len = node_ntm_ack(&alice, rc.path_id, PROTO_STATUS_OK, buf);
	input(env, buf, len, &alice.from, 1100);
	node_open_route(&dave, &env->out.send[0], copy2, &mm);
	assert_int_equal(msg_route_read(&mm, &rm), 0);
	assert_int_equal(rm.role, PROTO_ROLE_RESPONDER);

	/* Two different NATs: punch, with RS binding keys and a relay. */
	node_init(&carol, "carol.dc1.ntm.test", 7, tkey, WALL + 3600, 22);
	carol.local = v4("10.7.7.7", 4620);
	carol.from = v4("203.0.113.200", 61000);
	do_register(env, &carol, 2000, &ack, copy);
	len = node_direction(&alice, "carol.dc1.ntm.test", buf);
	input(env, buf, len, &alice.from, 3000);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(env->out.nrelay, 1);
	rl = env->out.relay[0];
	rs_ack(&rl, PROTO_STATUS_OK, 1, abuf, &am);
	signal_relay_ack(env->sig, rl.ref, 0, &am, 3050, &env->out);
	assert_int_equal(env->out.nsend, 1);
	node_open_route(&carol, &env->out.send[0], copy, &mc);
	assert_int_equal(msg_route_read(&mc, &rc), 0);
	assert_int_equal(rc.route, PROTO_ROUTE_PUNCH);
	assert_non_null(rc.binding_key);
	assert_int_equal(rc.nrelay_addr, 1);
	assert_int_equal(rc.punch_deadline, PROTO_TIMER_PUNCH_DEADLINE);
	assert_memory_equal(rl.path_id, rc.path_id, PROTO_ID_LEN);
	assert_memory_equal(rl.peer_binding_key, rc.binding_key,
	    PROTO_KEY_LEN);
	assert_int_equal(rl.peer_recv_id, rc.recv_id);
	len = node_ntm_ack(&carol, rc.path_id, PROTO_STATUS_OK, buf);
	input(env, buf, len, &carol.from, 3100);
	node_open_route(&alice, &env->out.send[0], copy2, &mm);
	assert_int_equal(msg_route_read(&mm, &rm), 0);
	assert_memory_equal(rl.binding_key, rm.binding_key, PROTO_KEY_LEN);
	assert_memory_not_equal(rm.binding_key, rc.binding_key,
	    PROTO_KEY_LEN);
}

/* The status of MN's answer to a request for `peer`. */
static uint8_t
direction_status(struct env *env, struct node *mn, const char *peer,
    uint64_t now)
{
	struct msg m;
	uint8_t buf[PROTO_DATAGRAM_MAX], copy[PROTO_DATAGRAM_MAX];
	size_t len = node_direction(mn, peer, buf);

	input(env, buf, len, &mn->from, now);
	assert_int_equal(env->out.nsend, 1);
	assert_memory_equal(&env->out.send[0].to, &mn->from, sizeof(mn->from));
	node_open(mn, &env->out.send[0], copy, &m);
	assert_int_equal(m.hdr.type, PROTO_MSG_ROUTE_DIRECTION);
	assert_int_equal(m.hdr.txid, mn->txid);
	return m.hdr.status;
}

static void
test_direction_refused(void **state)
{
	struct env *env = *state;
	struct node alice, dave;
	struct msg mc, m;
	struct msg_route rc;
	uint8_t buf[PROTO_DATAGRAM_MAX], copy[PROTO_DATAGRAM_MAX];
	size_t len;

	two_nodes(env, &alice, &dave);
	assert_int_equal(direction_status(env, &alice, "carol.dc1.ntm.test",
	    100), PROTO_STATUS_NOT_REGISTERED);
	assert_int_equal(direction_status(env, &alice, "bob.dc2.ntm.test",
	    200), PROTO_STATUS_UNAVAILABLE);
	assert_int_equal(direction_status(env, &alice, "alice.dc1.ntm.test",
	    300), PROTO_STATUS_REFUSED_POLICY);
	env->refuse_policy = true;
	assert_int_equal(direction_status(env, &alice, "dave.dc1.ntm.test",
	    400), PROTO_STATUS_REFUSED_POLICY);
	env->refuse_policy = false;
	env->revoke_all = true;
	assert_int_equal(direction_status(env, &alice, "dave.dc1.ntm.test",
	    500), PROTO_STATUS_REVOKED);
	env->revoke_all = false;
	assert_int_equal(signal_stats(env->sig)->directions_refused, 5);

	/* CN refuses in its NTM_ACK: MN gets CN's reason. */
	len = node_direction(&alice, "dave.dc1.ntm.test", buf);
	input(env, buf, len, &alice.from, 1000);
	node_open_route(&dave, &env->out.send[0], copy, &mc);
	assert_int_equal(msg_route_read(&mc, &rc), 0);
	len = node_ntm_ack(&dave, rc.path_id, PROTO_STATUS_KEX_NOT_ALLOWED,
	    buf);
	input(env, buf, len, &dave.from, 1100);
	assert_int_equal(env->out.nsend, 1);
	node_open(&alice, &env->out.send[0], copy, &m);
	assert_int_equal(m.hdr.status, PROTO_STATUS_KEX_NOT_ALLOWED);
	assert_int_equal(m.hdr.txid, alice.txid);
	/* Only CN's session may acknowledge CN's direction. */
	len = node_direction(&alice, "dave.dc1.ntm.test", buf);
	input(env, buf, len, &alice.from, 2000);
	node_open_route(&dave, &env->out.send[0], copy, &mc);
	assert_int_equal(msg_route_read(&mc, &rc), 0);
	len = node_ntm_ack(&alice, rc.path_id, PROTO_STATUS_OK, buf);
	input(env, buf, len, &alice.from, 2100);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(signal_stats(env->sig)->drop_unknown_path, 1);
}

static void
test_direction_cn_silent(void **state)
{
	struct env *env = *state;
	struct node alice, dave;
	struct msg m;
	uint8_t buf[PROTO_DATAGRAM_MAX], first[PROTO_DATAGRAM_MAX],
	    copy[PROTO_DATAGRAM_MAX];
	size_t len, flen;
	uint64_t t = 5000, due[] = { 250, 500, 1000, 2000 };
	unsigned i;

	two_nodes(env, &alice, &dave);
	len = node_direction(&alice, "dave.dc1.ntm.test", buf);
	input(env, buf, len, &alice.from, t);
	flen = env->out.send[0].len;
	memcpy(first, env->out.send[0].buf, flen);
	/* 250 ms doubling, byte-identical copies, 5 sends in all. */
	for (i = 0; i < 4; i++) {
		t += due[i];
		assert_true(signal_next_timer(env->sig) == t);
		signal_timer(env->sig, t - 1, &env->out);
		assert_int_equal(env->out.nsend, 0);
		signal_timer(env->sig, t, &env->out);
		assert_int_equal(env->out.nsend, 1);
		assert_memory_equal(&env->out.send[0].to, &dave.from,
		    sizeof(dave.from));
		assert_int_equal(env->out.send[0].len, flen);
		assert_memory_equal(env->out.send[0].buf, first, flen);
	}
	/* 4 s after the last send MN is told. */
	t += 4000;
	assert_true(signal_next_timer(env->sig) == t);
	signal_timer(env->sig, t, &env->out);
	assert_int_equal(env->out.nsend, 1);
	assert_memory_equal(&env->out.send[0].to, &alice.from,
	    sizeof(alice.from));
	node_open(&alice, &env->out.send[0], copy, &m);
	assert_int_equal(m.hdr.status, PROTO_STATUS_UNAVAILABLE);
	assert_int_equal(signal_stats(env->sig)->cn_retransmits, 4);
	assert_int_equal(signal_stats(env->sig)->cn_timeouts, 1);
}

/* ---- two DCs in one process: the federation handoff (PROTOCOL.md 8.1) -- */

/*
 * Many directions in flight at once, answered out of order: each NTM_ACK
 * finds its own path (MN i hears, nobody else), and the next timer is
 * always the earliest deadline of the paths still waiting.
 */
enum { MANY = 40 };

static void
test_direction_many_in_flight(void **state)
{
	struct env *env = *state;
	struct node *mn = calloc(MANY, sizeof(*mn)), dave;
	struct msg m, ack;
	struct msg_route r;
	uint8_t buf[PROTO_DATAGRAM_MAX], copy[PROTO_DATAGRAM_MAX];
	uint8_t path[MANY][PROTO_ID_LEN];
	uint64_t due[MANY], min;
	bool done[MANY];
	char name[32];
	size_t len;
	unsigned i, j, k;

	assert_non_null(mn);
	node_init(&dave, "dave.dc1.ntm.test", 7, tkey, WALL + 3600, 21);
	dave.local = dave.from = v4("203.0.113.9", 4620);
	do_register(env, &dave, 0, &ack, copy);
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "m%02u.dc1.ntm.test", i);
		node_init(&mn[i], name, 7, tkey, WALL + 3600, 100 + i);
		mn[i].from = v4("198.51.100.77", (uint16_t)(41000 + i));
		do_register(env, &mn[i], 0, &ack, copy);
	}
	/* Requests at distinct times: deadlines 10250, 10257, ... */
	for (i = 0; i < MANY; i++) {
		len = node_direction(&mn[i], "dave.dc1.ntm.test", buf);
		input(env, buf, len, &mn[i].from, 10000 + 7 * i);
		assert_int_equal(env->out.nsend, 1);
		node_open_route(&dave, &env->out.send[0], copy, &m);
		assert_int_equal(msg_route_read(&m, &r), 0);
		memcpy(path[i], r.path_id, PROTO_ID_LEN);
		due[i] = 10000 + 7 * i + PROTO_TIMER_RETRANSMIT;
		done[i] = false;
	}
	assert_true(signal_next_timer(env->sig) == due[0]);
	/* Answered in the order 0, 17, 34, 11, 28, 5, ... (17 i mod 40). */
	for (k = 0; k < MANY; k++) {
		i = (17 * k) % MANY;
		len = node_ntm_ack(&dave, path[i], PROTO_STATUS_OK, buf);
		input(env, buf, len, &dave.from, 10000 + 7 * MANY);
		assert_int_equal(env->out.nsend, 1);
		assert_memory_equal(&env->out.send[0].to, &mn[i].from,
		    sizeof(mn[i].from));
		node_open_route(&mn[i], &env->out.send[0], copy, &m);
		assert_int_equal(msg_route_read(&m, &r), 0);
		assert_memory_equal(r.path_id, path[i], PROTO_ID_LEN);
		done[i] = true;
		min = UINT64_MAX;
		for (j = 0; j < MANY; j++)
			if (!done[j] && due[j] < min)
				min = due[j];
		if (min == UINT64_MAX)	/* then the registrations' expiry */
			assert_true(signal_next_timer(env->sig) > due[MANY - 1]);
		else
			assert_true(signal_next_timer(env->sig) == min);
	}
	assert_int_equal(signal_stats(env->sig)->directions_routed, MANY);
	/* Every path is gone: an NTM_ACK again finds none. */
	len = node_ntm_ack(&dave, path[MANY / 2], PROTO_STATUS_OK, buf);
	input(env, buf, len, &dave.from, 10000 + 7 * MANY + 1);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(signal_stats(env->sig)->drop_unknown_path, 1);
	free(mn);
}

static const uint8_t dc2key[PROTO_KEY_LEN] = { 0x52, 0x53, 0x54 };

/* A DC core for zone with federation, its ticket key, in env (calloc'd). */
static struct env *
fed_env(const char *zone, uint32_t key_id, const uint8_t *key)
{
	struct env *env = calloc(1, sizeof(*env));
	struct signal_config cfg;
	struct signal_hooks hooks;

	assert_non_null(env);
	memset(&cfg, 0, sizeof(cfg));
	cfg.zone = zone;
	cfg.federation = true;
	cfg.nrelay = 1;		/* an RS link (answered by the test) */
	env->rng = rng_seeded_new(zone, strlen(zone));
	memset(&hooks, 0, sizeof(hooks));
	hooks.zone.node_set = zone_set;
	hooks.zone.arg = env;
	hooks.revoked = revoked;
	hooks.cert = cert_hook;
	hooks.allowed = allowed_hook;
	hooks.arg = env;
	assert_int_equal(signal_new(&env->sig, &cfg, &hooks, env->rng), 0);
	assert_int_equal(signal_ticket_key_add(env->sig, key_id, key), 0);
	return env;
}

static void
fed_env_free(struct env *env)
{
	signal_free(env->sig);
	rng_free(env->rng);
	free(env);
}

/* alice (behind NAT) in dc1, bob (global) in dc2, both registered. */
static void
fed_nodes(struct env *dc1, struct env *dc2, struct node *alice,
    struct node *bob)
{
	struct msg ack;
	uint8_t copy[PROTO_DATAGRAM_MAX];

	node_init(alice, "alice.dc1.ntm.test", 7, tkey, WALL + 3600, 30);
	do_register(dc1, alice, 0, &ack, copy);
	node_init(bob, "bob.dc2.ntm.test", 8, dc2key, WALL + 3600, 31);
	bob->local = bob->from = v4("203.0.113.20", 4620);
	do_register(dc2, bob, 0, &ack, copy);
}

/*
 * What DC_CN (dc2) answers about bob, written here from PROTOCOL.md 6.4
 * (federation_node_info is tested against a registry in test_federation).
 */
static void
fed_node_info(const struct node *bob, uint8_t status, uint8_t *buf,
    struct msg *out)
{
	static const uint8_t vip4[4] = { 198, 18, 2, 5 };
	struct msg m;
	size_t len;

	msg_init(&m, PROTO_MSG_NODE_INFO_RESPONSE);
	m.hdr.status = status;
	m.hdr.txid = 9;
	if (status == PROTO_STATUS_OK) {
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_FQDN,
		    "bob.dc2.ntm.test", 16), 0);
		assert_int_equal(msg_add_addr(&m, PROTO_ATTR_LOCAL_ADDR,
		    &bob->local), 0);
		assert_int_equal(msg_add_addr(&m, PROTO_ATTR_OBSERVED_ADDR,
		    &bob->from), 0);
		assert_int_equal(msg_add_u8(&m, PROTO_ATTR_NAT,
		    PROTO_NAT_NONE), 0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_VIP4, vip4, 4),
		    0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT_HASH,
		    cn_hash, sizeof(cn_hash)), 0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_SERIAL,
		    cn_serial, sizeof(cn_serial)), 0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_STATUS,
		    cn_status, strlen(cn_status)), 0);
	}
	assert_int_equal(msg_encode(&m, buf, 2048, &len), 0);
	assert_int_equal(msg_decode(buf, len, out), 0);
}

/* The federation action out has (exactly one), decoded into m. */
static const struct signal_fed *
fed_one(struct env *env, enum signal_fed_kind kind, struct msg *m)
{
	const struct signal_fed *f;

	assert_int_equal(env->out.nfed, 1);
	f = &env->out.fed[0];
	assert_int_equal(f->kind, kind);
	if (kind != SIGNAL_FED_ASK)
		assert_int_equal(msg_decode(f->buf, f->len, m), 0);
	return f;
}

static void
test_direction_two_dcs(void **state)
{
	struct env *dc1 = fed_env("dc1.ntm.test", 7, tkey);
	struct env *dc2 = fed_env("dc2.ntm.test", 8, dc2key);
	const struct signal_stats *st1 = signal_stats(dc1->sig);
	const struct signal_fed *f;
	struct node alice, bob;
	struct msg info, ho, mc, pa, mm;
	struct msg_route rh, rc, rm;
	uint8_t req[PROTO_DATAGRAM_MAX], buf[PROTO_DATAGRAM_MAX];
	uint8_t ibuf[2048], hbuf[SIGNAL_FED_MSG_MAX], pbuf[SIGNAL_FED_MSG_MAX];
	uint8_t ccopy[PROTO_DATAGRAM_MAX], mcopy[PROTO_DATAGRAM_MAX];
	uint64_t ref;
	uint32_t req_txid;
	size_t len;

	(void)state;
	fed_nodes(dc1, dc2, &alice, &bob);
	/* DC_MN asks bob's DC; alice hears nothing yet. */
	len = node_direction(&alice, "bob.dc2.ntm.test", req);
	req_txid = alice.txid;
	input(dc1, req, len, &alice.from, 10000);
	assert_int_equal(dc1->out.nsend, 0);
	f = fed_one(dc1, SIGNAL_FED_ASK, NULL);
	assert_string_equal(f->mn, "alice.dc1.ntm.test");
	assert_string_equal(f->cn, "bob.dc2.ntm.test");
	assert_int_equal(f->kex, PROTO_KEX_ECDHE);
	ref = f->ref;

	/* bob's node information: route decided, ROUTE_HANDOFF to dc2. */
	fed_node_info(&bob, PROTO_STATUS_OK, ibuf, &info);
	signal_remote_info(dc1->sig, ref, 0, &info, 10100, WALL, &dc1->out);
	assert_int_equal(dc1->out.nsend, 0);
	f = fed_one(dc1, SIGNAL_FED_HANDOFF, &ho);
	assert_int_equal(f->ref, ref);
	assert_string_equal(f->cn, "bob.dc2.ntm.test");
	memcpy(hbuf, f->buf, f->len);
	assert_int_equal(msg_decode(hbuf, f->len, &ho), 0);
	assert_int_equal(ho.hdr.type, PROTO_MSG_ROUTE_HANDOFF);
	assert_int_equal(msg_route_read(&ho, &rh), 0);
	assert_int_equal(rh.fqdn_len, 16);
	assert_memory_equal(rh.fqdn, "bob.dc2.ntm.test", 16);
	assert_memory_equal(rh.peer_fqdn, "alice.dc1.ntm.test", 18);
	assert_int_equal(rh.route, PROTO_ROUTE_DIRECT);
	assert_int_equal(rh.role, PROTO_ROLE_RESPONDER);
	assert_memory_equal(&rh.peer_addr[0], &alice.from, sizeof(alice.from));

	/* dc2 sends bob his Route Direction, through his binding. */
	signal_handoff_input(dc2->sig, 77, &ho, 10150, &dc2->out);
	assert_int_equal(dc2->out.nfed, 0);
	assert_int_equal(dc2->out.nsend, 1);
	assert_memory_equal(&dc2->out.send[0].to, &bob.from, sizeof(bob.from));
	node_open_route(&bob, &dc2->out.send[0], ccopy, &mc);
	assert_null(msg_attr_find(&mc, PROTO_ATTR_FQDN));
	assert_int_equal(msg_route_read(&mc, &rc), 0);
	assert_memory_equal(mc.hdr.id, rh.path_id, PROTO_ID_LEN);
	assert_memory_equal(rc.path_id, rh.path_id, PROTO_ID_LEN);
	assert_memory_equal(rc.tunnel_key, rh.tunnel_key, PROTO_KEY_LEN);
	assert_memory_equal(rc.peer_fqdn, "alice.dc1.ntm.test", 18);
	assert_memory_equal(rc.peer_cert_hash, mn_hash, PROTO_HASH_LEN);
	assert_memory_equal(rc.peer_status->val, mn_status,
	    strlen(mn_status));
	assert_int_equal(rc.role, PROTO_ROLE_RESPONDER);

	/* bob's NTM_ACK becomes dc2's PEER_NTM_ACK for ref 77. */
	len = node_ntm_ack(&bob, rc.path_id, PROTO_STATUS_OK, buf);
	input(dc2, buf, len, &bob.from, 10200);
	assert_int_equal(dc2->out.nsend, 0);
	f = fed_one(dc2, SIGNAL_FED_PEER_ACK, &pa);
	assert_int_equal(f->ref, 77);
	memcpy(pbuf, f->buf, f->len);
	assert_int_equal(msg_decode(pbuf, f->len, &pa), 0);
	assert_int_equal(pa.hdr.type, PROTO_MSG_PEER_NTM_ACK);
	assert_int_equal(pa.hdr.status, PROTO_STATUS_OK);
	assert_memory_equal(msg_attr_find(&pa, PROTO_ATTR_PATH_ID)->val,
	    rc.path_id, PROTO_ID_LEN);

	/* dc1 then gives alice hers, answering her request. */
	signal_remote_ack(dc1->sig, ref, 0, &pa, 10300, &dc1->out);
	assert_int_equal(dc1->out.nsend, 1);
	assert_memory_equal(&dc1->out.send[0].to, &alice.from,
	    sizeof(alice.from));
	node_open_route(&alice, &dc1->out.send[0], mcopy, &mm);
	assert_int_equal(mm.hdr.status, PROTO_STATUS_OK);
	assert_int_equal(mm.hdr.txid, req_txid);
	assert_int_equal(msg_route_read(&mm, &rm), 0);
	assert_memory_equal(rm.path_id, rc.path_id, PROTO_ID_LEN);
	assert_int_equal(rm.role, PROTO_ROLE_INITIATOR);
	assert_memory_equal(rm.tunnel_key, rc.tunnel_key, PROTO_KEY_LEN);
	assert_memory_equal(rm.temp_key, rc.temp_key, PROTO_KEY_LEN);
	assert_int_equal(rm.recv_id, rc.peer_recv_id);
	assert_int_equal(rm.peer_recv_id, rc.recv_id);
	assert_int_equal(rm.peer_fqdn_len, 16);
	assert_memory_equal(rm.peer_fqdn, "bob.dc2.ntm.test", 16);
	assert_int_equal(rm.npeer_addr, 1);
	assert_memory_equal(&rm.peer_addr[0], &bob.from, sizeof(bob.from));
	assert_non_null(rm.peer_vip4);
	assert_int_equal(rm.peer_vip4[3], 5);
	assert_memory_equal(rm.peer_cert_hash, cn_hash, PROTO_HASH_LEN);
	assert_memory_equal(rm.peer_status->val, cn_status,
	    strlen(cn_status));
	assert_int_equal(st1->remote_asks, 1);
	assert_int_equal(st1->remote_handoffs, 1);
	assert_int_equal(st1->directions_routed, 1);
	assert_int_equal(signal_stats(dc2->sig)->handoffs, 1);
	/* A late second answer for the finished direction: nothing. */
	signal_remote_ack(dc1->sig, ref, 0, &pa, 10400, &dc1->out);
	assert_int_equal(dc1->out.nsend, 0);
	assert_int_equal(st1->drop_unknown_ref, 1);
	/* No direction left waiting (only the registrations' expiry). */
	assert_true(signal_next_timer(dc1->sig) > 10300 + SIGNAL_REMOTE_MS);
	assert_true(signal_next_timer(dc2->sig) > 10300 + SIGNAL_REMOTE_MS);
	fed_env_free(dc1);
	fed_env_free(dc2);
}

/* alice's request for bob; the ASK's ref. */
static uint64_t
fed_ask(struct env *dc1, struct node *alice, uint64_t now)
{
	uint8_t req[PROTO_DATAGRAM_MAX];
	size_t len = node_direction(alice, "bob.dc2.ntm.test", req);

	input(dc1, req, len, &alice->from, now);
	assert_int_equal(dc1->out.nsend, 0);
	return fed_one(dc1, SIGNAL_FED_ASK, NULL)->ref;
}

/* The one answer alice got, its status. */
static uint8_t
fed_mn_status(struct env *dc1, struct node *alice)
{
	struct msg m;
	uint8_t copy[PROTO_DATAGRAM_MAX];

	assert_int_equal(dc1->out.nsend, 1);
	node_open(alice, &dc1->out.send[0], copy, &m);
	assert_int_equal(m.hdr.type, PROTO_MSG_ROUTE_DIRECTION);
	assert_int_equal(m.hdr.txid, alice->txid);
	return m.hdr.status;
}

static void
test_direction_two_dcs_refused(void **state)
{
	struct env *dc1 = fed_env("dc1.ntm.test", 7, tkey);
	struct env *dc2 = fed_env("dc2.ntm.test", 8, dc2key);
	struct node alice, bob;
	struct msg info, ho, mc, pa;
	struct msg_route rc;
	uint8_t ibuf[2048], hbuf[SIGNAL_FED_MSG_MAX], pbuf[SIGNAL_FED_MSG_MAX];
	uint8_t buf[PROTO_DATAGRAM_MAX], copy[PROTO_DATAGRAM_MAX];
	uint64_t ref, t;
	size_t len;
	unsigned i;

	(void)state;
	fed_nodes(dc1, dc2, &alice, &bob);
	/* DC_CN's refusal is MN's answer. */
	ref = fed_ask(dc1, &alice, 1000);
	fed_node_info(&bob, PROTO_STATUS_NOT_REGISTERED, ibuf, &info);
	signal_remote_info(dc1->sig, ref, 0, &info, 1100, WALL, &dc1->out);
	assert_int_equal(dc1->out.nfed, 0);
	assert_int_equal(fed_mn_status(dc1, &alice),
	    PROTO_STATUS_NOT_REGISTERED);
	/* No DC for the zone: UNKNOWN_NODE; a DC that failed: UNAVAILABLE. */
	ref = fed_ask(dc1, &alice, 2000);
	signal_remote_info(dc1->sig, ref, -ENOENT, NULL, 2100, WALL,
	    &dc1->out);
	assert_int_equal(fed_mn_status(dc1, &alice),
	    PROTO_STATUS_UNKNOWN_NODE);
	ref = fed_ask(dc1, &alice, 3000);
	signal_remote_info(dc1->sig, ref, -EPERM, NULL, 3100, WALL,
	    &dc1->out);
	assert_int_equal(fed_mn_status(dc1, &alice),
	    PROTO_STATUS_UNAVAILABLE);
	/* The peer DC never answers: UNAVAILABLE at the deadline. */
	ref = fed_ask(dc1, &alice, 4000);
	assert_true(signal_next_timer(dc1->sig) == 4000 + SIGNAL_REMOTE_MS);
	signal_timer(dc1->sig, 4000 + SIGNAL_REMOTE_MS - 1, &dc1->out);
	assert_int_equal(dc1->out.nsend, 0);
	signal_timer(dc1->sig, 4000 + SIGNAL_REMOTE_MS, &dc1->out);
	assert_int_equal(fed_mn_status(dc1, &alice),
	    PROTO_STATUS_UNAVAILABLE);
	assert_int_equal(signal_stats(dc1->sig)->remote_timeouts, 1);
	fed_node_info(&bob, PROTO_STATUS_OK, ibuf, &info);
	signal_remote_info(dc1->sig, ref, 0, &info, 17000, WALL, &dc1->out);
	assert_int_equal(dc1->out.nsend + dc1->out.nfed, 0);
	assert_int_equal(signal_stats(dc1->sig)->drop_unknown_ref, 1);

	/* bob refuses the scheme: alice is told why, through both DCs. */
	t = 20000;
	ref = fed_ask(dc1, &alice, t);
	signal_remote_info(dc1->sig, ref, 0, &info, t, WALL, &dc1->out);
	memcpy(hbuf, fed_one(dc1, SIGNAL_FED_HANDOFF, &ho)->buf,
	    dc1->out.fed[0].len);
	assert_int_equal(msg_decode(hbuf, dc1->out.fed[0].len, &ho), 0);
	signal_handoff_input(dc2->sig, 5, &ho, t, &dc2->out);
	node_open_route(&bob, &dc2->out.send[0], copy, &mc);
	assert_int_equal(msg_route_read(&mc, &rc), 0);
	len = node_ntm_ack(&bob, rc.path_id, PROTO_STATUS_KEX_NOT_ALLOWED,
	    buf);
	input(dc2, buf, len, &bob.from, t + 100);
	memcpy(pbuf, fed_one(dc2, SIGNAL_FED_PEER_ACK, &pa)->buf,
	    dc2->out.fed[0].len);
	assert_int_equal(msg_decode(pbuf, dc2->out.fed[0].len, &pa), 0);
	assert_int_equal(pa.hdr.status, PROTO_STATUS_KEX_NOT_ALLOWED);
	signal_remote_ack(dc1->sig, ref, 0, &pa, t + 200, &dc1->out);
	assert_int_equal(fed_mn_status(dc1, &alice),
	    PROTO_STATUS_KEX_NOT_ALLOWED);

	/* bob silent: dc2 retransmits 5 times, then answers UNAVAILABLE. */
	t = 40000;
	ref = fed_ask(dc1, &alice, t);
	signal_remote_info(dc1->sig, ref, 0, &info, t, WALL, &dc1->out);
	memcpy(hbuf, fed_one(dc1, SIGNAL_FED_HANDOFF, &ho)->buf,
	    dc1->out.fed[0].len);
	assert_int_equal(msg_decode(hbuf, dc1->out.fed[0].len, &ho), 0);
	signal_handoff_input(dc2->sig, 6, &ho, t, &dc2->out);
	assert_int_equal(dc2->out.nsend, 1);
	/* The same handoff again (DC_MN reconnected): answered by ref 7. */
	signal_handoff_input(dc2->sig, 7, &ho, t + 10, &dc2->out);
	assert_int_equal(dc2->out.nsend + dc2->out.nfed, 0);
	for (i = 0; i < 5; i++) {
		t = signal_next_timer(dc2->sig);
		signal_timer(dc2->sig, t, &dc2->out);
		if (i < 4)
			assert_int_equal(dc2->out.nsend, 1);
	}
	assert_int_equal(dc2->out.nsend, 0);
	memcpy(pbuf, fed_one(dc2, SIGNAL_FED_PEER_ACK, &pa)->buf,
	    dc2->out.fed[0].len);
	assert_int_equal(dc2->out.fed[0].ref, 7);
	assert_int_equal(msg_decode(pbuf, dc2->out.fed[0].len, &pa), 0);
	assert_int_equal(pa.hdr.status, PROTO_STATUS_UNAVAILABLE);
	assert_int_equal(signal_stats(dc2->sig)->cn_timeouts, 1);

	/* A handoff for a node dc2 does not have. */
	assert_int_equal(signal_node_revoked(dc2->sig, "bob.dc2.ntm.test"), 0);
	signal_handoff_input(dc2->sig, 8, &ho, t + 10, &dc2->out);
	memcpy(pbuf, fed_one(dc2, SIGNAL_FED_PEER_ACK, &pa)->buf,
	    dc2->out.fed[0].len);
	assert_int_equal(msg_decode(pbuf, dc2->out.fed[0].len, &pa), 0);
	assert_int_equal(pa.hdr.status, PROTO_STATUS_NOT_REGISTERED);
	assert_int_equal(signal_stats(dc2->sig)->handoffs_refused, 1);
	/*
	 * A handoff that decodes but is not one (an error status): answered
	 * MALFORMED under its ref.  Before, no answer ever came, and dc.c kept
	 * the handoff's entry (DC_HANDOFFS_MAX of them) while the link lasted.
	 */
	ho.hdr.status = PROTO_STATUS_INTERNAL;
	signal_handoff_input(dc2->sig, 9, &ho, t + 20, &dc2->out);
	memcpy(pbuf, fed_one(dc2, SIGNAL_FED_PEER_ACK, &pa)->buf,
	    dc2->out.fed[0].len);
	assert_int_equal(dc2->out.fed[0].ref, 9);
	assert_int_equal(msg_decode(pbuf, dc2->out.fed[0].len, &pa), 0);
	assert_int_equal(pa.hdr.status, PROTO_STATUS_MALFORMED);
	assert_memory_equal(pa.hdr.id, ho.hdr.id, PROTO_ID_LEN);
	assert_int_equal(signal_stats(dc2->sig)->handoffs_refused, 2);
	fed_env_free(dc1);
	fed_env_free(dc2);
}

/* Runs the loop until the client socket has a datagram (2 s at most). */
static ssize_t
loop_recv(uv_loop_t *loop, int fd, uint8_t *buf, size_t cap)
{
	ssize_t n;
	int i;

	for (i = 0; i < 2000; i++) {
		uv_run(loop, UV_RUN_NOWAIT);
		if ((n = recv(fd, buf, cap, MSG_DONTWAIT)) > 0)
			return n;
		usleep(1000);
	}
	return -1;
}

/* Through real UDP sockets: sigio feeds the core and writes the nodes table. */
static void
test_sigio_loopback(void **state)
{
	struct env *env = *state;
	struct sigio *io;
	struct sockaddr_storage listen, bound;
	struct sockaddr_in me;
	socklen_t mlen = sizeof(me);
	struct signal_send snd;
	struct node n;
	struct msg ack;
	struct db *db;
	sqlite3_stmt *st;
	uv_loop_t loop;
	char dir[] = "/tmp/test_signal_XXXXXX", path[64];
	uint8_t buf[PROTO_DATAGRAM_MAX], copy[PROTO_DATAGRAM_MAX];
	size_t len;
	ssize_t got;
	int fd, i;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dc.db", dir);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(loop_addr_parse("127.0.0.1:0", 0, 0, &listen), 0);
	assert_int_equal(sigio_start(&io, &loop, env->sig, &listen, 1, path),
	    0);
	assert_int_equal(sigio_sockname(io, 0, &bound), 0);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &mlen), 0);
	node_init(&n, "alice.dc1.ntm.test", 7, tkey, (uint64_t)time(NULL) +
	    3600, 30);
	n.from = n.local = v4("127.0.0.1", ntohs(me.sin_port));

	len = node_hello(&n, buf);
	assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&bound,
	    sizeof(struct sockaddr_in)), (ssize_t)len);
	got = loop_recv(&loop, fd, buf, sizeof(buf));
	assert_true(got > 0);
	node_challenge(&n, buf, (size_t)got);
	len = node_registration(&n, buf);
	assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&bound,
	    sizeof(struct sockaddr_in)), (ssize_t)len);
	got = loop_recv(&loop, fd, snd.buf, sizeof(snd.buf));
	assert_true(got > 0);
	snd.len = (size_t)got;
	node_open(&n, &snd, copy, &ack);
	assert_int_equal(ack.hdr.type, PROTO_MSG_REGISTRATION_ACK);
	/* The row reaches the database from the worker thread. */
	for (i = 0; i < 5000 && sigio_stats(io)->persist_written == 0; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	assert_int_equal(sigio_stats(io)->persist_written, 1);
	sigio_close(io);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	close(fd);

	assert_int_equal(db_open(path, &schema_dc, &db), 0);
	assert_int_equal(db_prepare(db, &st, "SELECT vip4, vip6 FROM nodes "
	    "WHERE fqdn = ?", "t", "alice.dc1.ntm.test"), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "198.18.1.5");
	assert_string_equal(db_col_text(st, 1), "fd6e:746d:6f62:1::5");
	db_finalize(st);
	db_close(db);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dc.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dc.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

/* A client socket on loopback of the family of `fam`; *a gets its address. */
static int
client_socket(int fam, struct msg_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (fam == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)&ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
	}
	if ((fd = socket(fam, SOCK_DGRAM, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, fam == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    sigio_addr_from_sockaddr(a, (struct sockaddr *)&ss) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Registers n (socket fd) through sigio at dc. */
static void
register_via(uv_loop_t *loop, int fd, struct node *n,
    const struct sockaddr_storage *dc)
{
	struct signal_send snd;
	struct msg ack;
	uint8_t buf[PROTO_DATAGRAM_MAX], copy[PROTO_DATAGRAM_MAX];
	socklen_t dlen = dc->ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	size_t len;
	ssize_t got;

	len = node_hello(n, buf);
	assert_int_equal(sendto(fd, buf, len, 0, (const struct sockaddr *)dc,
	    dlen), (ssize_t)len);
	got = loop_recv(loop, fd, buf, sizeof(buf));
	assert_true(got > 0);
	node_challenge(n, buf, (size_t)got);
	len = node_registration(n, buf);
	assert_int_equal(sendto(fd, buf, len, 0, (const struct sockaddr *)dc,
	    dlen), (ssize_t)len);
	got = loop_recv(loop, fd, snd.buf, sizeof(snd.buf));
	assert_true(got > 0);
	snd.len = (size_t)got;
	node_open(n, &snd, copy, &ack);
	assert_int_equal(ack.hdr.type, PROTO_MSG_REGISTRATION_ACK);
}

/*
 * MN on IPv4, CN on IPv6: the Route Direction to CN leaves from the DC's
 * IPv6 socket, not the one MN's request came in on.
 */
/* A stand-in for dc.c's RS link: answers every RELAY_DIRECTION at once. */
struct sigio_rs {
	struct sigio		*io;
	struct signal		*sig;
	struct signal_relay	 rl;
	int			 calls;
};

static void
sigio_rs_answer(void *arg, const struct signal_relay *rl)
{
	struct sigio_rs *sr = arg;
	struct signal_out *out = malloc(sizeof(*out));
	uint8_t abuf[512];
	struct msg am;

	assert_non_null(out);
	sr->rl = *rl;
	sr->calls++;
	rs_ack(rl, PROTO_STATUS_OK, 2, abuf, &am);
	signal_relay_ack(sr->sig, rl->ref, 0, &am, 0, out);
	sigio_apply(sr->io, out);
	free(out);
}

static void
test_sigio_two_families(void **state)
{
	struct env *env = *state;
	struct sockaddr_storage listen[2], dc4, dc6;
	struct sigio_rs sr;
	struct signal_send snd;
	struct node alice, dave;
	struct msg m;
	struct msg_route r;
	struct sigio *io;
	uv_loop_t loop;
	uint8_t buf[PROTO_DATAGRAM_MAX], copy[PROTO_DATAGRAM_MAX];
	size_t len;
	ssize_t got;
	int fd4, fd6;

	if ((fd6 = client_socket(AF_INET6, &dave.from)) < 0)
		skip();		/* no IPv6 loopback here */
	close(fd6);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(loop_addr_parse("127.0.0.1:0", 0, 0, &listen[0]), 0);
	assert_int_equal(loop_addr_parse("[::1]:0", 0, 0, &listen[1]), 0);
	assert_int_equal(sigio_start(&io, &loop, env->sig, listen, 2, NULL),
	    0);
	assert_int_equal(sigio_sockname(io, 0, &dc4), 0);
	assert_int_equal(sigio_sockname(io, 1, &dc6), 0);
	memset(&sr, 0, sizeof(sr));
	sr.io = io;
	sr.sig = env->sig;
	sigio_set_relay(io, sigio_rs_answer, &sr);

	node_init(&alice, "alice.dc1.ntm.test", 7, tkey, (uint64_t)time(NULL) +
	    3600, 50);
	fd4 = client_socket(AF_INET, &alice.from);
	assert_true(fd4 >= 0);
	alice.local = alice.from;
	node_init(&dave, "dave.dc1.ntm.test", 7, tkey, (uint64_t)time(NULL) +
	    3600, 51);
	fd6 = client_socket(AF_INET6, &dave.from);
	assert_true(fd6 >= 0);
	dave.local = dave.from;
	register_via(&loop, fd4, &alice, &dc4);
	register_via(&loop, fd6, &dave, &dc6);

	len = node_direction(&alice, "dave.dc1.ntm.test", buf);
	assert_int_equal(sendto(fd4, buf, len, 0, (struct sockaddr *)&dc4,
	    sizeof(struct sockaddr_in)), (ssize_t)len);
	got = loop_recv(&loop, fd6, snd.buf, sizeof(snd.buf));
	assert_true(got > 0);
	snd.len = (size_t)got;
	node_open_route(&dave, &snd, copy, &m);
	assert_int_equal(msg_route_read(&m, &r), 0);
	/* No family in common: through the RS, which answered at once. */
	assert_int_equal(r.route, PROTO_ROUTE_RELAY);
	assert_int_equal(r.nrelay_addr, 2);
	assert_memory_equal(&r.relay_addr[0], &rs4, sizeof(rs4));
	assert_memory_equal(&r.relay_addr[1], &rs6, sizeof(rs6));
	assert_memory_equal(r.binding_key, sr.rl.peer_binding_key,
	    PROTO_KEY_LEN);
	assert_int_equal(sr.calls, 1);
	assert_int_equal(sigio_stats(io)->send_errors, 0);
	assert_int_equal(sigio_stats(io)->relay_unsent, 0);

	/* Without an RS handler alice is told UNAVAILABLE at once. */
	sigio_set_relay(io, NULL, NULL);
	len = node_direction(&alice, "dave.dc1.ntm.test", buf);
	assert_int_equal(sendto(fd4, buf, len, 0, (struct sockaddr *)&dc4,
	    sizeof(struct sockaddr_in)), (ssize_t)len);
	got = loop_recv(&loop, fd4, snd.buf, sizeof(snd.buf));
	assert_true(got > 0);
	snd.len = (size_t)got;
	node_open(&alice, &snd, copy, &m);
	assert_int_equal(m.hdr.status, PROTO_STATUS_UNAVAILABLE);
	assert_int_equal(m.hdr.txid, alice.txid);
	assert_int_equal(sigio_stats(io)->relay_unsent, 1);

	sigio_close(io);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	close(fd4);
	close(fd6);
}

/* Ticket keys from the ticket_keys table open tickets; expired ones do not. */
static void
test_ticket_keys_from_db(void **state)
{
	static const uint8_t k9[PROTO_KEY_LEN] = { 9, 9, 9 };
	static const uint8_t k10[PROTO_KEY_LEN] = { 10, 10, 10 };
	struct env *env = *state;
	struct node n;
	struct msg m, ack;
	struct db *db;
	char dir[] = "/tmp/test_signal_XXXXXX", path[64];
	uint8_t buf[PROTO_DATAGRAM_MAX], copy[PROTO_DATAGRAM_MAX];
	size_t len;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dc.db", dir);
	assert_int_equal(db_open(path, &schema_dc, &db), 0);
	assert_int_equal(db_run(db, NULL, "INSERT INTO ticket_keys (id, key, "
	    "created, expires) VALUES (9, ?, 100, 200)", "b", k9, sizeof(k9)),
	    0);
	assert_int_equal(db_run(db, NULL, "INSERT INTO ticket_keys (id, key, "
	    "created, expires) VALUES (10, ?, 150, ?)", "bI", k10, sizeof(k10),
	    (int64_t)WALL + 86400), 0);
	db_close(db);
	assert_int_equal(sigio_ticket_keys_load(env->sig, path, WALL), 1);

	node_init(&n, "alice.dc1.ntm.test", 10, k10, WALL + 3600, 40);
	do_register(env, &n, 0, &ack, copy);
	node_init(&n, "dave.dc1.ntm.test", 9, k9, WALL + 3600, 41);
	len = node_hello(&n, buf);
	input(env, buf, len, &n.from, 0);
	assert_int_equal(msg_decode(env->out.send[0].buf, env->out.send[0].len,
	    &m), 0);
	assert_int_equal(m.hdr.status, PROTO_STATUS_BAD_TICKET);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dc.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dc.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

static void
test_node_revoked(void **state)
{
	struct env *env = *state;
	struct node alice, dave;
	uint8_t buf[PROTO_DATAGRAM_MAX];
	size_t len;
	uint64_t before;

	two_nodes(env, &alice, &dave);
	/* A direction to dave is waiting for his NTM_ACK when he is revoked. */
	len = node_direction(&alice, "dave.dc1.ntm.test", buf);
	input(env, buf, len, &alice.from, 1000);
	assert_int_equal(env->out.nsend, 1);
	assert_int_equal(signal_node_revoked(env->sig, "dave.dc1.ntm.test"), 0);
	assert_int_equal(signal_node_revoked(env->sig, "dave.dc1.ntm.test"),
	    -ENOENT);
	/* His session is gone ... */
	before = signal_stats(env->sig)->drop_unknown_session;
	len = node_keepalive(&dave, buf);
	input(env, buf, len, &dave.from, 1100);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(signal_stats(env->sig)->drop_unknown_session,
	    before + 1);
	/* ... the waiting direction is not retransmitted ... */
	assert_true(signal_next_timer(env->sig) > 1250);
	signal_timer(env->sig, 1250, &env->out);
	assert_int_equal(env->out.nsend, 0);
	/* ... and nobody is directed to him. */
	assert_int_equal(direction_status(env, &alice, "dave.dc1.ntm.test",
	    2000), PROTO_STATUS_NOT_REGISTERED);
}

/* ---- the RS: RELAY_DIRECTION and its ACK (PROTOCOL.md 6.5, 8.1) ------- */

/* alice and carol behind two different NATs: a punch route. */
static void
two_natted(struct env *env, struct node *alice, struct node *carol)
{
	struct msg ack;
	uint8_t copy[PROTO_DATAGRAM_MAX];

	node_init(alice, "alice.dc1.ntm.test", 7, tkey, WALL + 3600, 40);
	do_register(env, alice, 0, &ack, copy);
	node_init(carol, "carol.dc1.ntm.test", 7, tkey, WALL + 3600, 41);
	carol->local = v4("10.7.7.7", 4620);
	carol->from = v4("203.0.113.200", 61000);
	do_register(env, carol, 0, &ack, copy);
}

/* alice asks for carol at now: the RELAY_DIRECTION, nothing sent yet. */
static struct signal_relay
relay_asked(struct env *env, struct node *alice, uint64_t now)
{
	uint8_t buf[PROTO_DATAGRAM_MAX];
	size_t len = node_direction(alice, "carol.dc1.ntm.test", buf);

	input(env, buf, len, &alice->from, now);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(env->out.nrelay, 1);
	return env->out.relay[0];
}

static void
test_relay_punch(void **state)
{
	struct env *env = *state;
	const struct signal_stats *st = signal_stats(env->sig);
	struct node alice, carol;
	struct signal_relay rl;
	struct msg am, mc, mm;
	struct msg_route rc, rm;
	uint8_t buf[PROTO_DATAGRAM_MAX], abuf[512];
	uint8_t ccopy[PROTO_DATAGRAM_MAX], mcopy[PROTO_DATAGRAM_MAX];
	size_t len;

	two_natted(env, &alice, &carol);
	rl = relay_asked(env, &alice, 1000);
	/* What the RS is told: both sides, where the DC saw them. */
	assert_true(rl.ref != 0);
	assert_int_not_equal(rl.recv_id, 0);
	assert_int_not_equal(rl.peer_recv_id, 0);
	assert_int_not_equal(rl.recv_id, rl.peer_recv_id);
	assert_memory_not_equal(rl.binding_key, rl.peer_binding_key,
	    PROTO_KEY_LEN);
	assert_memory_equal(&rl.observed, &alice.from, sizeof(alice.from));
	assert_memory_equal(&rl.peer_addr, &carol.from, sizeof(carol.from));
	assert_true(rl.expiry == (uint64_t)WALL + 30);
	assert_int_equal(st->relay_asks, 1);
	/* Waiting for the RS: its deadline is the next timer. */
	assert_true(signal_next_timer(env->sig) == 1000 + SIGNAL_RELAY_MS);
	/* MN's retransmission meanwhile is dropped, nothing asked twice. */
	alice.txid--;
	alice.seq--;
	len = node_direction(&alice, "carol.dc1.ntm.test", buf);
	input(env, buf, len, &alice.from, 1250);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(env->out.nrelay, 0);

	/* The ACK: CN's Route Direction goes out, with the RS's addresses. */
	rs_ack(&rl, PROTO_STATUS_OK, 2, abuf, &am);
	signal_relay_ack(env->sig, rl.ref, 0, &am, 1300, &env->out);
	assert_int_equal(env->out.nsend, 1);
	assert_memory_equal(&env->out.send[0].to, &carol.from,
	    sizeof(carol.from));
	node_open_route(&carol, &env->out.send[0], ccopy, &mc);
	assert_int_equal(msg_route_read(&mc, &rc), 0);
	assert_int_equal(rc.route, PROTO_ROUTE_PUNCH);
	assert_memory_equal(rc.path_id, rl.path_id, PROTO_ID_LEN);
	assert_int_equal(rc.nrelay_addr, 2);
	assert_memory_equal(&rc.relay_addr[0], &rs4, sizeof(rs4));
	assert_memory_equal(&rc.relay_addr[1], &rs6, sizeof(rs6));
	assert_non_null(rc.binding_key);
	assert_memory_equal(rc.binding_key, rl.peer_binding_key,
	    PROTO_KEY_LEN);
	assert_int_equal(rc.recv_id, rl.peer_recv_id);
	assert_int_equal(rc.peer_recv_id, rl.recv_id);
	assert_int_equal(rc.npeer_addr, 1);
	assert_memory_equal(&rc.peer_addr[0], &alice.from, sizeof(alice.from));
	assert_int_equal(st->relay_acks, 1);
	/* ... then MN's after CN's NTM_ACK, with MN's own binding key. */
	len = node_ntm_ack(&carol, rc.path_id, PROTO_STATUS_OK, buf);
	input(env, buf, len, &carol.from, 1400);
	assert_int_equal(env->out.nsend, 1);
	assert_memory_equal(&env->out.send[0].to, &alice.from,
	    sizeof(alice.from));
	node_open_route(&alice, &env->out.send[0], mcopy, &mm);
	assert_int_equal(mm.hdr.txid, alice.txid);
	assert_int_equal(msg_route_read(&mm, &rm), 0);
	assert_int_equal(rm.route, PROTO_ROUTE_PUNCH);
	assert_int_equal(rm.nrelay_addr, 2);
	assert_memory_equal(&rm.relay_addr[0], &rs4, sizeof(rs4));
	assert_memory_equal(&rm.relay_addr[1], &rs6, sizeof(rs6));
	assert_memory_equal(rm.binding_key, rl.binding_key, PROTO_KEY_LEN);
	assert_int_equal(rm.recv_id, rl.recv_id);
	assert_int_equal(rm.peer_recv_id, rl.peer_recv_id);
	assert_memory_equal(rm.tunnel_key, rc.tunnel_key, PROTO_KEY_LEN);
	assert_memory_equal(&rm.peer_addr[0], &carol.from, sizeof(carol.from));
	assert_int_equal(st->route[PROTO_ROUTE_PUNCH], 1);
	/* A second ACK for the same path answers nothing. */
	signal_relay_ack(env->sig, rl.ref, 0, &am, 1500, &env->out);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(st->drop_unknown_ref, 1);
}

/* The status alice got for her request, in out. */
static uint8_t
mn_answer(struct env *env, struct node *alice)
{
	struct msg m;
	uint8_t copy[PROTO_DATAGRAM_MAX];

	assert_int_equal(env->out.nsend, 1);
	assert_memory_equal(&env->out.send[0].to, &alice->from,
	    sizeof(alice->from));
	node_open(alice, &env->out.send[0], copy, &m);
	assert_int_equal(m.hdr.type, PROTO_MSG_ROUTE_DIRECTION);
	assert_int_equal(m.hdr.txid, alice->txid);
	return m.hdr.status;
}

static void
test_relay_failures(void **state)
{
	struct env *env = *state;
	const struct signal_stats *st = signal_stats(env->sig);
	struct node alice, carol;
	struct signal_relay rl;
	struct msg am;
	uint8_t abuf[512];

	two_natted(env, &alice, &carol);
	/* No ACK within 2 s: UNAVAILABLE, and CN never heard anything. */
	rl = relay_asked(env, &alice, 1000);
	signal_timer(env->sig, 1000 + SIGNAL_RELAY_MS - 1, &env->out);
	assert_int_equal(env->out.nsend, 0);
	signal_timer(env->sig, 1000 + SIGNAL_RELAY_MS, &env->out);
	assert_int_equal(mn_answer(env, &alice), PROTO_STATUS_UNAVAILABLE);
	assert_int_equal(st->relay_timeouts, 1);
	/* The late ACK is dropped. */
	rs_ack(&rl, PROTO_STATUS_OK, 1, abuf, &am);
	signal_relay_ack(env->sig, rl.ref, 0, &am, 3100, &env->out);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(st->drop_unknown_ref, 1);

	/* The link to the RS is down. */
	rl = relay_asked(env, &alice, 4000);
	signal_relay_ack(env->sig, rl.ref, -ENOTCONN, NULL, 4010, &env->out);
	assert_int_equal(mn_answer(env, &alice), PROTO_STATUS_UNAVAILABLE);

	/* The RS refuses for another reason (full). */
	rl = relay_asked(env, &alice, 5000);
	rs_ack(&rl, PROTO_STATUS_RATE_LIMITED, 0, abuf, &am);
	signal_relay_ack(env->sig, rl.ref, 0, &am, 5010, &env->out);
	assert_int_equal(mn_answer(env, &alice), PROTO_STATUS_UNAVAILABLE);

	/* An ACK for another path id is not taken. */
	rl = relay_asked(env, &alice, 6000);
	rl.path_id[0] ^= 1;
	rs_ack(&rl, PROTO_STATUS_OK, 1, abuf, &am);
	signal_relay_ack(env->sig, rl.ref, 0, &am, 6010, &env->out);
	assert_int_equal(mn_answer(env, &alice), PROTO_STATUS_UNAVAILABLE);
	assert_int_equal(st->relay_refused, 3);
	assert_int_equal(st->relay_acks, 0);
	assert_int_equal(st->directions_routed, 0);
	/* Nothing left waiting. */
	assert_true(signal_next_timer(env->sig) > 7000 + SIGNAL_RELAY_MS);
}

static void
test_relay_collision(void **state)
{
	struct env *env = *state;
	const struct signal_stats *st = signal_stats(env->sig);
	struct node alice, carol;
	struct signal_relay rl, rl2;
	struct msg am, mc;
	struct msg_route rc;
	uint8_t abuf[512], copy[PROTO_DATAGRAM_MAX];

	two_natted(env, &alice, &carol);
	/* A receiver id taken at the RS: the same path, new ids, once. */
	rl = relay_asked(env, &alice, 1000);
	rs_ack(&rl, PROTO_STATUS_REFUSED_POLICY, 0, abuf, &am);
	signal_relay_ack(env->sig, rl.ref, 0, &am, 1100, &env->out);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(env->out.nrelay, 1);
	rl2 = env->out.relay[0];
	assert_true(rl2.ref == rl.ref);
	assert_memory_equal(rl2.path_id, rl.path_id, PROTO_ID_LEN);
	assert_memory_equal(rl2.binding_key, rl.binding_key, PROTO_KEY_LEN);
	assert_true(rl2.recv_id != rl.recv_id ||
	    rl2.peer_recv_id != rl.peer_recv_id);
	assert_int_not_equal(rl2.recv_id, rl2.peer_recv_id);
	assert_int_equal(st->relay_collisions, 1);
	/* The deadline starts again. */
	assert_true(signal_next_timer(env->sig) == 1100 + SIGNAL_RELAY_MS);
	rs_ack(&rl2, PROTO_STATUS_OK, 1, abuf, &am);
	signal_relay_ack(env->sig, rl.ref, 0, &am, 1200, &env->out);
	assert_int_equal(env->out.nsend, 1);
	node_open_route(&carol, &env->out.send[0], copy, &mc);
	assert_int_equal(msg_route_read(&mc, &rc), 0);
	/* The ids the RS accepted are the ones the nodes get. */
	assert_int_equal(rc.recv_id, rl2.peer_recv_id);
	assert_int_equal(rc.peer_recv_id, rl2.recv_id);
	assert_int_equal(rc.nrelay_addr, 1);

	/* Refused twice: MN is told. */
	rl = relay_asked(env, &alice, 3000);
	rs_ack(&rl, PROTO_STATUS_REFUSED_POLICY, 0, abuf, &am);
	signal_relay_ack(env->sig, rl.ref, 0, &am, 3100, &env->out);
	rl2 = env->out.relay[0];
	rs_ack(&rl2, PROTO_STATUS_REFUSED_POLICY, 0, abuf, &am);
	signal_relay_ack(env->sig, rl.ref, 0, &am, 3200, &env->out);
	assert_int_equal(env->out.nrelay, 0);
	assert_int_equal(mn_answer(env, &alice), PROTO_STATUS_UNAVAILABLE);
	assert_int_equal(st->relay_collisions, 2);
}

static void
test_relay_no_rs(void **state)
{
	struct signal_config cfg;
	struct signal_hooks hooks;
	struct env *env = *state;
	struct node alice, carol;
	uint8_t buf[PROTO_DATAGRAM_MAX];
	size_t len;

	/* The same DC without any RS configured. */
	signal_free(env->sig);
	memset(&cfg, 0, sizeof(cfg));
	cfg.zone = "dc1.ntm.test";
	memset(&hooks, 0, sizeof(hooks));
	hooks.cert = cert_hook;
	hooks.arg = env;
	assert_int_equal(signal_new(&env->sig, &cfg, &hooks, env->rng), 0);
	assert_int_equal(signal_ticket_key_add(env->sig, 7, tkey), 0);
	two_natted(env, &alice, &carol);
	len = node_direction(&alice, "carol.dc1.ntm.test", buf);
	input(env, buf, len, &alice.from, 1000);
	assert_int_equal(env->out.nrelay, 0);
	assert_int_equal(mn_answer(env, &alice), PROTO_STATUS_UNAVAILABLE);
	assert_int_equal(signal_stats(env->sig)->relay_no_rs, 1);
	assert_int_equal(signal_stats(env->sig)->relay_asks, 0);
}

static void
test_relay_v4_v6(void **state)
{
	struct env *env = *state;
	struct node alice, erin;
	struct signal_relay rl;
	struct msg ack, am, mc;
	struct msg_route rc;
	uint8_t buf[PROTO_DATAGRAM_MAX], abuf[512], copy[PROTO_DATAGRAM_MAX];
	size_t len;

	/* alice IPv4 behind NAT, erin IPv6-only: nothing but the RS. */
	node_init(&alice, "alice.dc1.ntm.test", 7, tkey, WALL + 3600, 42);
	do_register(env, &alice, 0, &ack, copy);
	node_init(&erin, "erin.dc1.ntm.test", 7, tkey, WALL + 3600, 43);
	erin.local = erin.from = rs6;
	erin.local.addr[15] = erin.from.addr[15] = 0x44;
	do_register(env, &erin, 0, &ack, copy);
	len = node_direction(&alice, "erin.dc1.ntm.test", buf);
	input(env, buf, len, &alice.from, 1000);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(env->out.nrelay, 1);
	rl = env->out.relay[0];
	assert_memory_equal(&rl.peer_addr, &erin.from, sizeof(erin.from));
	rs_ack(&rl, PROTO_STATUS_OK, 2, abuf, &am);
	signal_relay_ack(env->sig, rl.ref, 0, &am, 1100, &env->out);
	assert_int_equal(env->out.nsend, 1);
	assert_memory_equal(&env->out.send[0].to, &erin.from,
	    sizeof(erin.from));
	node_open_route(&erin, &env->out.send[0], copy, &mc);
	assert_int_equal(msg_route_read(&mc, &rc), 0);
	assert_int_equal(rc.route, PROTO_ROUTE_RELAY);
	assert_int_equal(rc.nrelay_addr, 2);
	assert_memory_equal(&rc.relay_addr[1], &rs6, sizeof(rs6));
	assert_memory_equal(rc.binding_key, rl.peer_binding_key,
	    PROTO_KEY_LEN);
}

static void
test_relay_two_dcs(void **state)
{
	struct env *dc1 = fed_env("dc1.ntm.test", 7, tkey);
	struct env *dc2 = fed_env("dc2.ntm.test", 8, dc2key);
	const struct signal_fed *f;
	struct signal_relay rl;
	struct node alice, bob;
	struct msg info, am, ho, mc, pa, mm;
	struct msg_route rh, rc, rm;
	uint8_t buf[PROTO_DATAGRAM_MAX], ibuf[2048], abuf[512];
	uint8_t hbuf[SIGNAL_FED_MSG_MAX], pbuf[SIGNAL_FED_MSG_MAX];
	uint8_t ccopy[PROTO_DATAGRAM_MAX], mcopy[PROTO_DATAGRAM_MAX];
	uint64_t ref;
	size_t len;

	(void)state;
	fed_nodes(dc1, dc2, &alice, &bob);
	/* bob behind a NAT of his own: punch, so DC_MN asks the RS. */
	bob.local = v4("10.9.9.9", 4620);
	fed_node_info(&bob, PROTO_STATUS_OK, ibuf, &info);
	ref = fed_ask(dc1, &alice, 10000);
	signal_remote_info(dc1->sig, ref, 0, &info, 10100, WALL, &dc1->out);
	assert_int_equal(dc1->out.nsend, 0);
	assert_int_equal(dc1->out.nfed, 0);
	assert_int_equal(dc1->out.nrelay, 1);
	rl = dc1->out.relay[0];
	assert_true(rl.ref == ref);
	assert_memory_equal(&rl.observed, &alice.from, sizeof(alice.from));
	assert_memory_equal(&rl.peer_addr, &bob.from, sizeof(bob.from));
	/* The ACK: the ROUTE_HANDOFF carries the RS and bob's key. */
	rs_ack(&rl, PROTO_STATUS_OK, 1, abuf, &am);
	signal_relay_ack(dc1->sig, rl.ref, 0, &am, 10200, &dc1->out);
	f = fed_one(dc1, SIGNAL_FED_HANDOFF, &ho);
	assert_true(f->ref == ref);
	memcpy(hbuf, f->buf, f->len);
	assert_int_equal(msg_decode(hbuf, f->len, &ho), 0);
	assert_int_equal(msg_route_read(&ho, &rh), 0);
	assert_int_equal(rh.route, PROTO_ROUTE_PUNCH);
	assert_int_equal(rh.nrelay_addr, 1);
	assert_memory_equal(&rh.relay_addr[0], &rs4, sizeof(rs4));
	assert_memory_equal(rh.binding_key, rl.peer_binding_key,
	    PROTO_KEY_LEN);
	/* DC_CN passes them to bob unchanged. */
	signal_handoff_input(dc2->sig, 78, &ho, 10250, &dc2->out);
	assert_int_equal(dc2->out.nsend, 1);
	assert_int_equal(dc2->out.nrelay, 0);
	node_open_route(&bob, &dc2->out.send[0], ccopy, &mc);
	assert_int_equal(msg_route_read(&mc, &rc), 0);
	assert_int_equal(rc.nrelay_addr, 1);
	assert_memory_equal(&rc.relay_addr[0], &rs4, sizeof(rs4));
	assert_memory_equal(rc.binding_key, rl.peer_binding_key,
	    PROTO_KEY_LEN);
	assert_int_equal(rc.recv_id, rl.peer_recv_id);
	len = node_ntm_ack(&bob, rc.path_id, PROTO_STATUS_OK, buf);
	input(dc2, buf, len, &bob.from, 10300);
	f = fed_one(dc2, SIGNAL_FED_PEER_ACK, &pa);
	memcpy(pbuf, f->buf, f->len);
	assert_int_equal(msg_decode(pbuf, f->len, &pa), 0);
	signal_remote_ack(dc1->sig, ref, 0, &pa, 10400, &dc1->out);
	assert_int_equal(dc1->out.nsend, 1);
	node_open_route(&alice, &dc1->out.send[0], mcopy, &mm);
	assert_int_equal(msg_route_read(&mm, &rm), 0);
	assert_int_equal(rm.route, PROTO_ROUTE_PUNCH);
	assert_memory_equal(&rm.relay_addr[0], &rs4, sizeof(rs4));
	assert_memory_equal(rm.binding_key, rl.binding_key, PROTO_KEY_LEN);
	assert_int_equal(rm.recv_id, rl.recv_id);
	/* DC_CN never talked to an RS. */
	assert_int_equal(signal_stats(dc2->sig)->relay_asks, 0);
	fed_env_free(dc1);
	fed_env_free(dc2);
}

/* ---- fragments (PROTOCOL.md 11) --------------------------------------- */

enum { TEST_FRAG_PIECE = 1000 };

/*
 * m (type and attributes set) sealed as fragments of TEST_FRAG_PIECE
 * attribute bytes into bufs[i], lens[i]; returns how many.
 */
static unsigned
node_seal_frags(struct node *n, struct msg *m, uint8_t bufs[][PROTO_DATAGRAM_MAX],
    size_t *lens)
{
	uint8_t attrs[SIGNAL_MSG_MAX], nonce[PROTO_NONCE_LEN];
	struct aead *a;
	struct wbuf w;
	struct msg f;
	size_t alen, off;
	unsigned i, count;

	wbuf_init(&w, attrs, sizeof(attrs));
	assert_int_equal(msg_attrs_encode(m, &w), 0);
	alen = wbuf_len(&w);
	count = (unsigned)((alen + TEST_FRAG_PIECE - 1) / TEST_FRAG_PIECE);
	assert_true(count >= 2);
	n->txid++;
	assert_int_equal(aead_new(&a, AEAD_ALG_AES256GCM, n->k_n2dc, 32), 0);
	for (i = 0, off = 0; i < count; i++, off += TEST_FRAG_PIECE) {
		msg_init(&f, m->hdr.type);
		f.hdr.flags |= PROTO_F_FRAGMENT;
		f.hdr.txid = n->txid;
		f.hdr.seq = ++n->seq;
		memcpy(f.hdr.id, n->sid, PROTO_ID_LEN);
		f.frag.msgid = 0x51;
		f.frag.index = (uint8_t)i;
		f.frag.count = (uint8_t)count;
		f.frag.payload = attrs + off;
		f.frag.len = alen - off < TEST_FRAG_PIECE ? alen - off :
		    TEST_FRAG_PIECE;
		assert_int_equal(msg_encode(&f, bufs[i], PROTO_DATAGRAM_MAX,
		    &lens[i]), 0);
		msg_nonce(&f.hdr, nonce);
		assert_int_equal(aead_seal(a, nonce, bufs[i], PROTO_HEADER_LEN,
		    bufs[i] + PROTO_HEADER_LEN, lens[i] - PROTO_HEADER_LEN -
		    PROTO_TAG_LEN, bufs[i] + PROTO_HEADER_LEN,
		    PROTO_DATAGRAM_MAX - PROTO_HEADER_LEN), 0);
	}
	aead_free(a);
	return count;
}

/*
 * Opens the datagrams send[0 .. n-1] from the DC, each at most one
 * datagram and sealed on its own, and decodes the whole message they
 * make into m (borrowing whole): what ntmd would reassemble.
 */
static void
node_open_frags(struct node *n, const struct signal_send *send, size_t count,
    uint8_t *whole, struct msg *m)
{
	struct msg_header h, first;
	struct aead *a;
	struct msg f;
	struct rbuf b;
	uint8_t copy[PROTO_DATAGRAM_MAX], nonce[PROTO_NONCE_LEN];
	size_t i, wlen = 0;
	uint32_t msgid = 0;

	assert_int_equal(aead_new(&a, AEAD_ALG_AES256GCM, n->k_dc2n, 32), 0);
	for (i = 0; i < count; i++) {
		assert_true(send[i].len <= PROTO_DATAGRAM_MAX);
		memcpy(copy, send[i].buf, send[i].len);
		rbuf_init(&b, copy, send[i].len);
		assert_int_equal(msg_header_decode(&b, &h), 0);
		assert_true(h.flags & PROTO_F_FRAGMENT);
		msg_nonce(&h, nonce);
		assert_int_equal(aead_open(a, nonce, copy, PROTO_HEADER_LEN,
		    copy + PROTO_HEADER_LEN, h.length, copy + PROTO_HEADER_LEN,
		    PROTO_DATAGRAM_MAX), 0);
		assert_int_equal(msg_body_decode(&h, copy + PROTO_HEADER_LEN,
		    h.length - PROTO_TAG_LEN, &f), 0);
		assert_int_equal(f.frag.index, i);
		assert_int_equal(f.frag.count, count);
		if (i == 0) {
			first = h;
			msgid = f.frag.msgid;
		} else {
			assert_int_equal(f.frag.msgid, msgid);
			assert_int_equal(h.txid, first.txid);
			assert_true(h.seq == first.seq + i);
		}
		memcpy(whole + wlen, f.frag.payload, f.frag.len);
		wlen += f.frag.len;
	}
	aead_free(a);
	first.flags &= (uint8_t)~PROTO_F_FRAGMENT;
	assert_int_equal(msg_body_decode(&first, whole, wlen, m), 0);
}

static void
test_fragments(void **state)
{
	struct env *env = *state;
	const struct signal_stats *st = signal_stats(env->sig);
	static uint8_t big_status[2600];
	static const uint8_t offers[] = { PROTO_AEAD_AES256_GCM };
	uint8_t frags[4][PROTO_DATAGRAM_MAX], buf[PROTO_DATAGRAM_MAX];
	uint8_t whole[SIGNAL_MSG_MAX], first[PROTO_FRAGMENTS_MAX][
	    PROTO_DATAGRAM_MAX];
	size_t lens[4], flen[PROTO_FRAGMENTS_MAX], ncn, i, len;
	struct node alice, dave;
	struct msg m, mc;
	struct msg_route rc;
	unsigned n;

	two_nodes(env, &alice, &dave);
	for (i = 0; i < sizeof(big_status); i++)
		big_status[i] = (uint8_t)(i * 7);
	/* alice's request with a 2600-byte status comes in 3 fragments. */
	msg_init(&m, PROTO_MSG_DIRECTION_REQUEST);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PEER_FQDN,
	    "dave.dc1.ntm.test", 17), 0);
	assert_int_equal(msg_add_u8(&m, PROTO_ATTR_KEX, PROTO_KEX_ECDHE), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT_HASH, mn_hash,
	    sizeof(mn_hash)), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_STATUS, big_status,
	    sizeof(big_status)), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_AEAD_OFFERS, offers,
	    sizeof(offers)), 0);
	n = node_seal_frags(&alice, &m, frags, lens);
	assert_int_equal(n, 3);
	/* Out of order, one repeated: held until the last piece. */
	input(env, frags[2], lens[2], &alice.from, 1000);
	assert_int_equal(env->out.nsend, 0);
	input(env, frags[0], lens[0], &alice.from, 1010);
	assert_int_equal(env->out.nsend, 0);
	input(env, frags[0], lens[0], &alice.from, 1015);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(st->drop_replay, 1);
	input(env, frags[1], lens[1], &alice.from, 1020);
	assert_int_equal(st->frag_in, 3);
	assert_int_equal(st->frag_messages, 1);
	assert_int_equal(st->directions, 1);
	/* dave's Route Direction carries that status: fragments too. */
	ncn = env->out.nsend;
	assert_true(ncn >= 3);
	for (i = 0; i < ncn; i++) {
		assert_memory_equal(&env->out.send[i].to, &dave.from,
		    sizeof(dave.from));
		flen[i] = env->out.send[i].len;
		memcpy(first[i], env->out.send[i].buf, flen[i]);
	}
	node_open_frags(&dave, env->out.send, ncn, whole, &mc);
	assert_int_equal(mc.hdr.type, PROTO_MSG_ROUTE_DIRECTION);
	assert_int_equal(msg_route_read(&mc, &rc), 0);
	assert_int_equal(rc.peer_status->len, sizeof(big_status));
	assert_memory_equal(rc.peer_status->val, big_status,
	    sizeof(big_status));
	assert_int_equal(st->frag_out, 1);
	assert_int_equal(st->frag_out_datagrams, ncn);
	/* dave is silent: the retransmission repeats every fragment. */
	signal_timer(env->sig, 1020 + PROTO_TIMER_RETRANSMIT, &env->out);
	assert_int_equal(env->out.nsend, ncn);
	for (i = 0; i < ncn; i++) {
		assert_int_equal(env->out.send[i].len, flen[i]);
		assert_memory_equal(env->out.send[i].buf, first[i], flen[i]);
	}
	len = node_ntm_ack(&dave, rc.path_id, PROTO_STATUS_OK, buf);
	input(env, buf, len, &dave.from, 1400);
	assert_int_equal(env->out.nsend, 1);
	node_open_route(&alice, &env->out.send[0], whole, &mc);
	assert_int_equal(mc.hdr.txid, alice.txid);

	/* A fragment never completed is forgotten after 2 s. */
	n = node_seal_frags(&alice, &m, frags, lens);
	input(env, frags[0], lens[0], &alice.from, 5000);
	assert_true(signal_next_timer(env->sig) <= 5000 +
	    PROTO_TIMER_REASSEMBLY);
	signal_timer(env->sig, 5000 + PROTO_TIMER_REASSEMBLY, &env->out);
	input(env, frags[1], lens[1], &alice.from, 7100);
	input(env, frags[2], lens[2], &alice.from, 7110);
	assert_int_equal(env->out.nsend, 0);
	assert_int_equal(st->frag_messages, 1);
}

static void
count_cb(const char *name, uint64_t v, void *arg)
{
	int *n = arg;

	(*n)++;
	assert_non_null(name);
}

static void
test_stats_names(void **state)
{
	struct env *env = *state;
	int n = 0;

	signal_stats_foreach(env->sig, count_cb, &n);
	assert_int_equal(n, 50 + PROTO_ROUTE_MAX + SIGNAL_DECODE_ERRORS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direction_two_dcs),
		cmocka_unit_test(test_direction_two_dcs_refused),
		cmocka_unit_test_setup_teardown(test_registration_round_trip,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmissions_from_cache,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_keepalive_refresh_and_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nat_rebinding, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_replayed_and_forged_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amplification_limit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_tickets, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stale_cookie, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_direction_one_dc, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_direction_reverse_and_punch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direction_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_direction_many_in_flight,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_direction_cn_silent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigio_loopback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sigio_two_families, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ticket_keys_from_db, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_node_revoked, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stats_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_relay_punch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_relay_failures, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_relay_collision, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_relay_no_rs, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_relay_v4_v6, setup,
		    teardown),
		cmocka_unit_test(test_relay_two_dcs),
		cmocka_unit_test_setup_teardown(test_fragments, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
