/* test_registry.c -- unit tests for the DC registry: lookups, replacement, expiry, cached answers, pending rows, zone hooks. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rand.h"
#include "registry.h"
#include "signal.h"

struct zone_log {
	int	 sets, removes;
	char	 fqdn[256], vip4[64], vip6[64];
	int	 fail;
};

static int
hook_set(void *arg, const char *fqdn, const char *vip4, const char *vip6)
{
	struct zone_log *z = arg;

	z->sets++;
	snprintf(z->fqdn, sizeof(z->fqdn), "%s", fqdn);
	snprintf(z->vip4, sizeof(z->vip4), "%s", vip4 ? vip4 : "-");
	snprintf(z->vip6, sizeof(z->vip6), "%s", vip6 ? vip6 : "-");
	return z->fail;
}

static int
hook_remove(void *arg, const char *fqdn)
{
	struct zone_log *z = arg;

	z->removes++;
	snprintf(z->fqdn, sizeof(z->fqdn), "%s", fqdn);
	return 0;
}

static void
pending_fill(struct registry_pending *p, unsigned i, const char *fqdn)
{
	memset(p, 0, sizeof(*p));
	store_be32(p->sid, i);
	p->sid[15] = 0x5a;
	store_be32(p->ticket_id, i);
	snprintf(p->fqdn, sizeof(p->fqdn), "%s", fqdn);
	p->fqdn_len = (uint8_t)strlen(p->fqdn);
	p->flags = REGISTRY_F_VIP4 | REGISTRY_F_VIP6;
	memcpy(p->vip4, "\xc6\x12\x01\x00", 4);
	p->vip4[3] = (uint8_t)i;
	memcpy(p->vip6, "\xfd\x6e\x74\x6d\x6f\x62\x00\x01\0\0\0\0\0\0\0\0",
	    16);
	p->vip6[15] = (uint8_t)i;
}

static struct registry_entry *
add(struct registry *r, unsigned i, const char *fqdn, uint64_t now,
    bool nat)
{
	static const uint8_t k[PROTO_KEY_LEN];
	struct registry_pending p;
	struct registry_node n;
	struct registry_entry *e;
	struct msg_addr local = { PROTO_FAMILY_IPV4, 4620, { 192, 168, 1, 9 } };

	pending_fill(&p, i, fqdn);
	memset(&n, 0, sizeof(n));
	n.p = &p;
	n.key_rx = n.key_tx = k;
	n.local = &local;
	n.nlocal = 1;
	n.observed = local;
	if (nat) {
		memcpy(n.observed.addr, "\xcb\x00\x71\x05", 4);
		n.observed.port = 40000;
	}
	assert_int_equal(registry_add(r, &n, now, &e), 0);
	return e;
}

static void
test_add_find_replace(void **state)
{
	struct zone_log z = { 0 };
	struct registry_hooks hooks = { hook_set, hook_remove, &z };
	struct ntm_rng *rng = rng_seeded_new("r", 1);
	struct registry *r;
	struct registry_entry *a, *b, *a2;
	uint8_t sid[PROTO_ID_LEN];

	assert_int_equal(registry_new(&r, 120000, &hooks, rng), 0);
	a = add(r, 1, "alice.dc1.ntm.test", 0, true);
	b = add(r, 2, "dave.dc1.ntm.test", 0, false);
	assert_int_equal(registry_count(r), 2);
	assert_int_equal(z.sets, 2);
	assert_string_equal(z.fqdn, "dave.dc1.ntm.test");
	assert_string_equal(z.vip4, "198.18.1.2");
	assert_string_equal(z.vip6, "fd6e:746d:6f62:1::2");
	assert_ptr_equal(registry_find_fqdn(r, "alice.dc1.ntm.test", 18), a);
	assert_ptr_equal(registry_find_sid(r, b->sid), b);
	assert_string_equal(registry_entry_fqdn(a), "alice.dc1.ntm.test");
	assert_true(a->flags & REGISTRY_F_NAT);
	assert_false(b->flags & REGISTRY_F_NAT);
	assert_null(registry_find_fqdn(r, "alice.dc1.ntm.tes", 17));
	memcpy(sid, a->sid, sizeof(sid));
	/* Alice registers again: one entry, the new session id. */
	a2 = add(r, 3, "alice.dc1.ntm.test", 1000, false);
	assert_int_equal(registry_count(r), 2);
	assert_null(registry_find_sid(r, sid));
	assert_ptr_equal(registry_find_fqdn(r, "alice.dc1.ntm.test", 18), a2);
	assert_int_equal(registry_stats(r)->replaced, 1);
	/* A failing zone hook is counted, not fatal. */
	z.fail = -EEXIST;
	add(r, 4, "bob.dc1.ntm.test", 0, false);
	assert_int_equal(registry_stats(r)->zone_errors, 1);
	/* Forget: gone from the table and from the zone. */
	assert_int_equal(registry_forget(r, "dave.dc1.ntm.test"), 0);
	assert_int_equal(z.removes, 1);
	assert_null(registry_find_fqdn(r, "dave.dc1.ntm.test", 17));
	assert_int_equal(registry_forget(r, "dave.dc1.ntm.test"), -ENOENT);
	registry_free(r);
	rng_free(rng);
}

static void
expired_cb(const struct registry_entry *e, void *arg)
{
	int *n = arg;

	(*n)++;
	assert_true(e->expires > 0);
}

static void
test_expiry_and_refresh(void **state)
{
	struct ntm_rng *rng = rng_seeded_new("x", 1);
	struct registry *r;
	struct registry_entry *a, *b;
	int n = 0;

	assert_int_equal(registry_new(&r, 120000, NULL, rng), 0);
	assert_true(registry_next_expiry(r) == UINT64_MAX);
	a = add(r, 1, "alice.dc1.ntm.test", 1000, true);
	b = add(r, 2, "dave.dc1.ntm.test", 2000, true);
	assert_true(registry_next_expiry(r) == 121000);
	/* Alice's keep-alive at 60 s moves her behind Dave. */
	registry_refresh(r, a, 60000);
	assert_true(registry_next_expiry(r) == 122000);
	assert_int_equal(registry_expire(r, 121999, expired_cb, &n), 0);
	assert_int_equal(registry_count(r), 2);
	assert_int_equal(registry_expire(r, 122000, expired_cb, &n), 1);
	assert_int_equal(n, 1);
	assert_null(registry_find_fqdn(r, "dave.dc1.ntm.test", 17));
	(void)b;
	assert_true(registry_next_expiry(r) == 180000);
	assert_int_equal(registry_expire(r, 180000, NULL, NULL), 1);
	assert_int_equal(registry_count(r), 0);
	assert_int_equal(registry_stats(r)->expired, 2);
	registry_free(r);
	rng_free(rng);
}

/* As dc/signal keeps an answer: buffer grown to the largest answer. */
static void
cache_put(struct registry_entry *e, size_t len, uint64_t sent)
{
	if (e->cache.cap < len) {
		e->cache.bytes = realloc(e->cache.bytes, len);
		assert_non_null(e->cache.bytes);
		e->cache.cap = len;
	}
	memset(e->cache.bytes, 0x5c, len);
	e->cache.len = len;
	e->cache.sent = sent;
}

static void
test_refresh_frees_old_answer(void **state)
{
	struct ntm_rng *rng = rng_seeded_new("c", 1);
	struct registry *r;
	struct registry_entry *a;

	/* The registry drops answers exactly when signal stops re-sending. */
	assert_int_equal(REGISTRY_CACHE_MS, SIGNAL_CACHE_MS);
	assert_int_equal(registry_new(&r, 120000, NULL, rng), 0);
	a = add(r, 1, "alice.dc1.ntm.test", 1000, true);
	/* A Route Direction answered at 2 s. */
	cache_put(a, 700, 2000);
	/* A new request within the 8 s: the answer stays for a retransmission. */
	registry_refresh(r, a, 2000 + REGISTRY_CACHE_MS - 1);
	assert_non_null(a->cache.bytes);
	assert_int_equal(a->cache.len, 700);
	assert_int_equal(a->cache.cap, 700);
	/* The keep-alive 25 s later: nothing re-sends it now, it goes. */
	registry_refresh(r, a, 27000);
	assert_null(a->cache.bytes);
	assert_int_equal(a->cache.len, 0);
	assert_int_equal(a->cache.cap, 0);
	assert_true(a->expires == 27000 + 120000);
	/* Its KEEPALIVE_ACK takes only its own size. */
	cache_put(a, 90, 27000);
	assert_int_equal(a->cache.cap, 90);
	registry_refresh(r, a, 27000 + REGISTRY_CACHE_MS);
	assert_null(a->cache.bytes);
	/* Nothing cached: a refresh frees nothing and still refreshes. */
	registry_refresh(r, a, 60000);
	assert_null(a->cache.bytes);
	assert_true(registry_next_expiry(r) == 180000);
	registry_free(r);
	rng_free(rng);
}

static void
test_pending(void **state)
{
	struct ntm_rng *rng = rng_seeded_new("p", 1);
	struct registry *r;
	struct registry_pending p, *out, *out2;
	uint8_t sid1[PROTO_ID_LEN];

	assert_int_equal(registry_new(&r, 120000, NULL, rng), 0);
	pending_fill(&p, 1, "alice.dc1.ntm.test");
	p.created = 0;
	assert_int_equal(registry_pending_add(r, &p, &out), 0);
	memcpy(sid1, out->sid, sizeof(sid1));
	assert_ptr_equal(registry_pending_find_sid(r, sid1), out);
	assert_ptr_equal(registry_pending_find_ticket(r, p.ticket_id), out);
	/* A newer hello with the same ticket replaces it. */
	p.sid[0] = 0xee;
	p.created = 5000;
	assert_int_equal(registry_pending_add(r, &p, &out2), 0);
	assert_null(registry_pending_find_sid(r, sid1));
	assert_ptr_equal(registry_pending_find_sid(r, p.sid), out2);
	assert_int_equal(registry_pending_count(r), 1);
	assert_int_equal(registry_stats(r)->pending_replaced, 1);
	/* It lives PROTO_TIMER_COOKIE ms. */
	assert_true(registry_next_expiry(r) == 5000 + PROTO_TIMER_COOKIE);
	registry_expire(r, 5000 + PROTO_TIMER_COOKIE - 1, NULL, NULL);
	assert_int_equal(registry_pending_count(r), 1);
	registry_expire(r, 5000 + PROTO_TIMER_COOKIE, NULL, NULL);
	assert_int_equal(registry_pending_count(r), 0);
	assert_null(registry_pending_find_sid(r, p.sid));
	registry_free(r);
	rng_free(rng);
}

/* Past the initial bucket count, every node is still found. */
static void
test_many(void **state)
{
	struct ntm_rng *rng = rng_seeded_new("m", 1);
	struct registry *r;
	char name[64];
	unsigned i;

	assert_int_equal(registry_new(&r, 120000, NULL, rng), 0);
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "n%u.dc1.ntm.test", i);
		add(r, i + 1, name, i, false);
	}
	assert_int_equal(registry_count(r), 20000);
	for (i = 0; i < 20000; i += 7) {
		struct registry_entry *e;

		snprintf(name, sizeof(name), "n%u.dc1.ntm.test", i);
		e = registry_find_fqdn(r, name, strlen(name));
		assert_non_null(e);
		assert_ptr_equal(registry_find_sid(r, e->sid), e);
	}
	/* The oldest go first. */
	assert_int_equal(registry_expire(r, 120000 + 9999, NULL, NULL), 10000);
	assert_null(registry_find_fqdn(r, "n9999.dc1.ntm.test", 18));
	assert_non_null(registry_find_fqdn(r, "n10000.dc1.ntm.test", 19));
	registry_free(r);
	rng_free(rng);
}

/*
 * The entry's size is what a million registrations cost: 264 bytes on
 * LP64 (552 before the packing), and its signalling window is the
 * 128-wide one, fresh for each registration.
 */
static void
test_entry_layout(void **state)
{
	struct ntm_rng *rng = rng_seeded_new("l", 1);
	struct registry *r;
	struct registry_entry *e;

	if (sizeof(void *) == 8)
		assert_int_equal(sizeof(struct registry_entry), 264);
	assert_int_equal(sizeof(((struct registry_entry *)0)->replay),
	    sizeof(struct replay_window_sig));
	assert_int_equal(registry_new(&r, 120000, NULL, rng), 0);
	e = add(r, 1, "alice.dc1.ntm.test", 0, true);
	/* Fields after the flexible addresses survived the packing. */
	assert_int_equal(e->nlocal, 1);
	assert_int_equal(e->local[0].port, 4620);
	assert_int_equal(e->observed.port, 40000);
	assert_int_equal(e->vip4[3], 1);
	assert_int_equal(e->expires, 120000);
	assert_string_equal(registry_entry_fqdn(e), "alice.dc1.ntm.test");
	assert_true(replay_check(&e->replay, 1));
	assert_int_equal(replay_update(&e->replay, 1000), 0);
	assert_int_equal(replay_update(&e->replay, 1000 - 127), 0);
	assert_int_equal(replay_update(&e->replay, 1000 - 128), -ERANGE);
	assert_int_equal(replay_update(&e->replay, 1000), -EALREADY);
	/* A new registration of the same name starts a fresh window. */
	e = add(r, 2, "alice.dc1.ntm.test", 10, true);
	assert_true(replay_check(&e->replay, 1));
	assert_int_equal(e->replay.top, 0);
	registry_free(r);
	rng_free(rng);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find_replace),
		cmocka_unit_test(test_expiry_and_refresh),
		cmocka_unit_test(test_refresh_frees_old_answer),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_entry_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
