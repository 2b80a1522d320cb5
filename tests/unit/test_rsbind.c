/* test_rsbind.c -- unit tests for the node's RS binding, its hellos checked by the RS's own core (rs/relay.c). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "buf.h"
#include "msg.h"
#include "rand.h"
#include "relay.h"
#include "rsbind.h"

enum {
	T_WALL = 1800000000,
	T_NOW = 7000000,
	RID_MN = 0x0a0b0c0d,
	RID_CN = 0x01020304,
	SENT_MAX = 64,
	PKT_MAX = 1500,
};

static const uint8_t key_mn[PROTO_KEY_LEN] = { 0x5a, 0x11, [31] = 9 };
static const uint8_t key_cn[PROTO_KEY_LEN] = { 0x6b, 0x22, [31] = 8 };
static const uint8_t path_a[PROTO_ID_LEN] = { 0xa1, 2, 3, 4, [15] = 5 };
static const uint8_t path_b[PROTO_ID_LEN] = { 0xb2, 2, 3, 4, [15] = 6 };

static const struct msg_addr rs_v4 = { PROTO_FAMILY_IPV4, 4613,
    { 198, 51, 100, 7 } };
static const struct msg_addr rs_v6 = { PROTO_FAMILY_IPV6, 4613,
    { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 1, 0, [15] = 7 } };
/* MN as its DC saw it, and behind a NAT that maps the RS elsewhere. */
static const struct msg_addr mn_obs = { PROTO_FAMILY_IPV4, 4620,
    { 203, 0, 113, 2 } };
static const struct msg_addr mn_rand = { PROTO_FAMILY_IPV4, 61234,
    { 203, 0, 113, 2 } };
static const struct msg_addr mn_moved = { PROTO_FAMILY_IPV4, 4620,
    { 203, 0, 113, 99 } };
static const struct msg_addr cn_obs = { PROTO_FAMILY_IPV4, 4620,
    { 203, 0, 113, 18 } };

struct sent {
	uint8_t		 pkt[RSBIND_HELLO_LEN];
	size_t		 len;
	struct msg_addr	 to;
};

struct fixture {
	struct relay	*r;
	struct ntm_rng	*rng;
	struct rsbind	*rb;
	uint64_t	 now;
	struct sent	 sent[SENT_MAX];
	size_t		 nsent;
};

static void
on_send(void *arg, const uint8_t *p, size_t len, const struct msg_addr *to)
{
	struct fixture *f = arg;

	assert_int_equal(len, RSBIND_HELLO_LEN);
	/* Counted always, kept while there is room. */
	if (f->nsent < SENT_MAX) {
		memcpy(f->sent[f->nsent].pkt, p, len);
		f->sent[f->nsent].len = len;
		f->sent[f->nsent].to = *to;
	}
	f->nsent++;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct relay_config cfg;

	assert_non_null(f);
	f->rng = rng_seeded_new("rsbind", 6);
	memset(&cfg, 0, sizeof(cfg));
	cfg.paths_max = 4;
	cfg.naddr = 2;
	cfg.addr[0] = rs_v4;
	cfg.addr[1] = rs_v6;
	assert_int_equal(relay_new(&f->r, &cfg, f->rng), 0);
	assert_int_equal(rsbind_new(&f->rb, on_send, f), 0);
	f->now = T_NOW;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rsbind_free(f->rb);
	relay_free(f->r);
	rng_free(f->rng);
	free(f);
	return 0;
}

/* The DC's RELAY_DIRECTION for path_a: MN observed at mn_obs. */
static void
allocate(struct fixture *f, const uint8_t *path)
{
	uint8_t req[PKT_MAX], ans[RELAY_ANSWER_MAX];
	struct msg m, ack;
	size_t len, alen;

	msg_init(&m, PROTO_MSG_RELAY_DIRECTION);
	m.hdr.txid = 42;
	memcpy(m.hdr.id, path, PROTO_ID_LEN);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PATH_ID, path,
	    PROTO_ID_LEN), 0);
	assert_int_equal(msg_add_u32(&m, PROTO_ATTR_RECV_ID, RID_MN), 0);
	assert_int_equal(msg_add_u32(&m, PROTO_ATTR_PEER_RECV_ID, RID_CN), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_BINDING_KEY, key_mn,
	    PROTO_KEY_LEN), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PEER_BINDING_KEY, key_cn,
	    PROTO_KEY_LEN), 0);
	assert_int_equal(msg_add_addr(&m, PROTO_ATTR_OBSERVED_ADDR, &mn_obs),
	    0);
	assert_int_equal(msg_add_addr(&m, PROTO_ATTR_PEER_ADDR, &cn_obs), 0);
	assert_int_equal(msg_add_u64(&m, PROTO_ATTR_EXPIRY, T_WALL + 30), 0);
	assert_int_equal(msg_encode(&m, req, sizeof(req), &len), 0);
	assert_int_equal(relay_direction(f->r, req, len, "dc-test", f->now,
	    T_WALL, ans, sizeof(ans), &alen), 0);
	assert_int_equal(msg_decode(ans, alen, &ack), 0);
	assert_int_equal(ack.hdr.status, PROTO_STATUS_OK);
}

static void
start(struct fixture *f, const uint8_t *path, uint8_t family,
    const struct msg_addr *probe, size_t nprobe)
{
	struct msg_addr relay[2] = { rs_v4, rs_v6 };
	struct rsbind_conf c;

	memset(&c, 0, sizeof(c));
	c.path_id = path;
	c.rid = RID_MN;
	c.key = key_mn;
	c.relay = relay;
	c.nrelay = 2;
	c.family = family;
	c.probe = probe;
	c.nprobe = nprobe;
	assert_int_equal(rsbind_start(f->rb, &c, f->now), 0);
}

/* The hello sent i-th, as the RS sees it arriving from `from`. */
static enum relay_verdict
deliver(struct fixture *f, size_t i, const struct msg_addr *from,
    struct relay_action *act)
{
	assert_true(i < f->nsent && i < SENT_MAX);
	relay_input(f->r, f->sent[i].pkt, f->sent[i].len, from, f->now, act);
	return act->verdict;
}

static uint64_t
sent_counter(const struct fixture *f, size_t i)
{
	struct msg_data dh;
	const uint8_t *body;
	size_t blen;

	assert_int_equal(msg_data_decode(f->sent[i].pkt, f->sent[i].len, &dh,
	    &body, &blen), 0);
	assert_int_equal(dh.type, PROTO_MSG_RS_HELLO);
	assert_int_equal(dh.rid, RID_MN);
	return dh.counter;
}

static bool
addr_is(const struct msg_addr *a, const struct msg_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->addr, b->addr, a->family == PROTO_FAMILY_IPV4 ? 4 :
	    16) == 0;
}

/* The first hello: 64 bytes to the RS, which binds MN from its DC's view. */
static void
test_hello_binds(void **state)
{
	struct fixture *f = *state;
	struct relay_action act;
	size_t i;

	allocate(f, path_a);
	start(f, path_a, PROTO_FAMILY_IPV4, NULL, 0);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->sent[0].len, 64);
	assert_true(addr_is(&f->sent[0].to, &rs_v4));
	assert_int_equal(sent_counter(f, 0), 1);
	/* Header, then a zero cookie field before the tag. */
	assert_int_equal(f->sent[0].pkt[0], PROTO_VERSION_1);
	assert_int_equal(f->sent[0].pkt[1], PROTO_MSG_RS_HELLO);
	for (i = 16; i < 48; i++)
		assert_int_equal(f->sent[0].pkt[i], 0);
	assert_int_equal(deliver(f, 0, &mn_obs, &act), RELAY_VERDICT_ACCEPT);
	assert_int_equal(relay_stats(f->r)->binds, 1);
	assert_int_equal(rsbind_state(f->rb, path_a), RSBIND_STATE_BINDING);
	/* The same bytes again are a replay to the RS. */
	assert_int_equal(deliver(f, 0, &mn_obs, &act), RELAY_VERDICT_DROP);
	assert_int_equal(act.drop, RELAY_DROP_REPLAY);
}

/* A hello whose bytes were altered does not verify at the RS. */
static void
test_hello_tag(void **state)
{
	struct fixture *f = *state;
	struct relay_action act;

	allocate(f, path_a);
	start(f, path_a, PROTO_FAMILY_IPV4, NULL, 0);
	f->sent[0].pkt[20] ^= 1;	/* in the cookie field */
	assert_int_equal(deliver(f, 0, &mn_obs, &act), RELAY_VERDICT_DROP);
	assert_int_equal(act.drop, RELAY_DROP_AUTH);
}

/*
 * Behind a NAT that maps the RS to another port: the RS answers a cookie,
 * the node sends a new hello (higher counter) carrying it, the RS binds.
 */
static void
test_cookie_round_trip(void **state)
{
	struct fixture *f = *state;
	struct relay_action act;
	uint8_t cookie[RSBIND_COOKIE_LEN];

	allocate(f, path_a);
	start(f, path_a, PROTO_FAMILY_IPV4, NULL, 0);
	assert_int_equal(deliver(f, 0, &mn_rand, &act), RELAY_VERDICT_REPLY);
	assert_int_equal(act.reply_len, RSBIND_COOKIE_LEN);
	assert_true(addr_is(&act.to, &mn_rand));
	memcpy(cookie, act.reply, sizeof(cookie));
	/* A cookie not from the RS's address is ignored. */
	assert_int_equal(rsbind_input(f->rb, cookie, sizeof(cookie), &cn_obs,
	    f->now), -ENOENT);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(rsbind_input(f->rb, cookie, sizeof(cookie), &rs_v4,
	    f->now), 0);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(sent_counter(f, 1), 2);
	assert_memory_equal(f->sent[1].pkt + PROTO_DATA_HEADER_LEN,
	    cookie + PROTO_DATA_HEADER_LEN, PROTO_RANDOM_LEN);
	assert_int_equal(deliver(f, 1, &mn_rand, &act), RELAY_VERDICT_ACCEPT);
	assert_int_equal(relay_stats(f->r)->binds_cookie, 1);
	/* The same cookie again (counter 1 no longer ours): no new hello. */
	assert_int_equal(rsbind_input(f->rb, cookie, sizeof(cookie), &rs_v4,
	    f->now), -EALREADY);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(rsbind_stats(f->rb)->cookies, 1);
	/* Schedule hellos keep the cookie: the RS takes them as refreshes. */
	f->now += PROTO_TIMER_RETRANSMIT;
	rsbind_timeout(f->rb, f->now);
	assert_int_equal(f->nsent, 3);
	assert_int_equal(sent_counter(f, 2), 3);
	assert_int_equal(deliver(f, 2, &mn_rand, &act), RELAY_VERDICT_ACCEPT);
	assert_int_equal(relay_stats(f->r)->refreshes, 1);
}

/* No traffic from the RS: new hellos at 250, 500, 1000, 2000 ms, then fail. */
static void
test_retransmit(void **state)
{
	struct fixture *f = *state;
	/* Each due time, from the first send: 250, 750, 1750, 3750 ms. */
	static const uint64_t at[] = { 250, 750, 1750, 3750 };
	struct relay_action act;
	uint64_t t0 = f->now;
	size_t i;

	allocate(f, path_a);
	start(f, path_a, PROTO_FAMILY_IPV4, NULL, 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(rsbind_next_timer(f->rb), t0 + at[i]);
		/* Nothing before it is due. */
		rsbind_timeout(f->rb, t0 + at[i] - 1);
		assert_int_equal(f->nsent, i + 1);
		f->now = t0 + at[i];
		rsbind_timeout(f->rb, f->now);
		assert_int_equal(f->nsent, i + 2);
		assert_int_equal(sent_counter(f, i + 1), i + 2);
	}
	/* Every one of them is a new hello to the RS (none a replay). */
	for (i = 0; i < f->nsent; i++)
		assert_int_equal(deliver(f, i, &mn_obs, &act),
		    RELAY_VERDICT_ACCEPT);
	assert_int_equal(rsbind_next_timer(f->rb), f->now + 4000);
	f->now += 4000;
	rsbind_timeout(f->rb, f->now);
	assert_int_equal(f->nsent, 5);
	assert_int_equal(rsbind_state(f->rb, path_a), RSBIND_STATE_FAILED);
	assert_int_equal(rsbind_next_timer(f->rb), UINT64_MAX);
	assert_int_equal(rsbind_stats(f->rb)->failed, 1);
}

/* Traffic of the path from the RS confirms the binding and stops hellos. */
static void
test_bound_by_traffic(void **state)
{
	struct fixture *f = *state;

	start(f, path_a, PROTO_FAMILY_IPV4, NULL, 0);
	assert_false(rsbind_from_rs(f->rb, path_a, &cn_obs));
	assert_false(rsbind_from_rs(f->rb, path_b, &rs_v4));
	assert_int_equal(rsbind_state(f->rb, path_a), RSBIND_STATE_BINDING);
	assert_true(rsbind_from_rs(f->rb, path_a, &rs_v4));
	assert_int_equal(rsbind_state(f->rb, path_a), RSBIND_STATE_BOUND);
	assert_int_equal(rsbind_next_timer(f->rb), UINT64_MAX);
	f->now += 10000;
	rsbind_timeout(f->rb, f->now);
	assert_int_equal(f->nsent, 1);
	assert_true(rsbind_is_rs(f->rb, path_a, &rs_v4));
	assert_false(rsbind_is_rs(f->rb, path_a, &rs_v6));
	rsbind_stop(f->rb, path_a);
	assert_int_equal(rsbind_state(f->rb, path_a), RSBIND_STATE_INVALID);
	assert_int_equal(rsbind_count(f->rb), 0);
}

/* After a move the node rebinds: higher counter, a cookie from the new address. */
static void
test_rebind(void **state)
{
	struct fixture *f = *state;
	struct relay_action act;
	uint8_t cookie[RSBIND_COOKIE_LEN];

	allocate(f, path_a);
	start(f, path_a, PROTO_FAMILY_IPV4, NULL, 0);
	assert_int_equal(deliver(f, 0, &mn_obs, &act), RELAY_VERDICT_ACCEPT);
	assert_true(rsbind_from_rs(f->rb, path_a, &rs_v4));
	f->now += 30000;
	assert_int_equal(rsbind_rebind(f->rb, path_a, f->now), 0);
	assert_int_equal(f->nsent, 2);
	assert_true(sent_counter(f, 1) > sent_counter(f, 0));
	assert_int_equal(rsbind_state(f->rb, path_a), RSBIND_STATE_BINDING);
	assert_int_equal(deliver(f, 1, &mn_moved, &act), RELAY_VERDICT_REPLY);
	memcpy(cookie, act.reply, sizeof(cookie));
	assert_int_equal(rsbind_input(f->rb, cookie, sizeof(cookie), &rs_v4,
	    f->now), 0);
	assert_true(sent_counter(f, 2) > sent_counter(f, 1));
	assert_int_equal(deliver(f, 2, &mn_moved, &act), RELAY_VERDICT_ACCEPT);
	assert_int_equal(relay_stats(f->r)->rebinds, 1);
	assert_int_equal(rsbind_counter(f->rb, path_a), 3);
	assert_int_equal(rsbind_rebind(f->rb, path_b, f->now), -ENOENT);
}

/* The RS address of our family; punch probes go to the peer too. */
static void
test_family_and_probes(void **state)
{
	struct fixture *f = *state;
	const struct msg_addr probes[2] = { cn_obs, mn_moved };

	start(f, path_b, PROTO_FAMILY_IPV6, probes, 2);
	assert_int_equal(f->nsent, 3);
	assert_true(addr_is(&f->sent[0].to, &rs_v6));
	assert_true(addr_is(&f->sent[1].to, &cn_obs));
	assert_true(addr_is(&f->sent[2].to, &mn_moved));
	assert_memory_equal(f->sent[0].pkt, f->sent[1].pkt, RSBIND_HELLO_LEN);
	assert_int_equal(rsbind_stats(f->rb)->probes, 2);
	/* A probe arriving at a node is not a cookie. */
	assert_int_equal(rsbind_input(f->rb, f->sent[1].pkt, f->sent[1].len,
	    &cn_obs, f->now), -ENOMSG);
	/* The second start of a path is refused. */
	{
		struct msg_addr relay[1] = { rs_v4 };
		struct rsbind_conf c;

		memset(&c, 0, sizeof(c));
		c.path_id = path_b;
		c.key = key_mn;
		c.relay = relay;
		c.nrelay = 1;
		assert_int_equal(rsbind_start(f->rb, &c, f->now), -EEXIST);
		c.path_id = path_a;
		c.nrelay = 0;
		assert_int_equal(rsbind_start(f->rb, &c, f->now), -EINVAL);
	}
}

/* A cookie for an unknown receiver id, or a truncated one, is dropped. */
static void
test_cookie_bad(void **state)
{
	struct fixture *f = *state;
	struct msg_data dh = { PROTO_VERSION_1, PROTO_MSG_RS_COOKIE, 0,
	    RID_CN, 1 };
	uint8_t pkt[RSBIND_COOKIE_LEN];
	struct wbuf w;

	start(f, path_a, PROTO_FAMILY_IPV4, NULL, 0);
	memset(pkt, 0x77, sizeof(pkt));
	wbuf_init(&w, pkt, sizeof(pkt));
	assert_int_equal(msg_data_encode(&dh, &w), 0);
	assert_int_equal(rsbind_input(f->rb, pkt, sizeof(pkt), &rs_v4,
	    f->now), -ENOENT);
	assert_true(rsbind_input(f->rb, pkt, sizeof(pkt) - 1, &rs_v4,
	    f->now) < 0);
	assert_int_equal(f->nsent, 1);
}

/* A full table refuses a new path until a binding has failed. */
/*
 * Fills the table: RSBIND_PATHS_MAX bindings through one relay, path ids
 * numbered in their first two bytes (c and path stay set up for more);
 * with confirm, each bound by the RS's first answer.
 */
static void
table_fill(struct fixture *f, struct rsbind_conf *c, uint8_t *path,
    const struct msg_addr *relay, bool confirm)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	memset(path, 0, PROTO_ID_LEN);
	c->path_id = path;
	c->key = key_mn;
	c->relay = relay;
	c->nrelay = 1;
	for (i = 0; i < RSBIND_PATHS_MAX; i++) {
		path[0] = (uint8_t)i;
		path[1] = (uint8_t)(i >> 8);
		c->rid = (uint32_t)i;
		assert_int_equal(rsbind_start(f->rb, c, f->now), 0);
		if (confirm)
			assert_true(rsbind_from_rs(f->rb, path, &rs_v4));
	}
}

static void
test_table_full(void **state)
{
	struct fixture *f = *state;
	struct msg_addr relay[1] = { rs_v4 };
	uint8_t path[PROTO_ID_LEN];
	struct rsbind_conf c;
	size_t i;

	table_fill(f, &c, path, relay, false);
	path[2] = 1;
	assert_int_equal(rsbind_start(f->rb, &c, f->now), -ENOSPC);
	/* All confirmed but the first, which then runs out of time. */
	for (i = 1; i < RSBIND_PATHS_MAX; i++) {
		path[0] = (uint8_t)i;
		path[1] = (uint8_t)(i >> 8);
		path[2] = 0;
		assert_true(rsbind_from_rs(f->rb, path, &rs_v4));
	}
	f->now += 250 + 500 + 1000 + 2000;
	rsbind_timeout(f->rb, f->now - 2000 - 1000 - 500);
	rsbind_timeout(f->rb, f->now - 2000 - 1000);
	rsbind_timeout(f->rb, f->now - 2000);
	rsbind_timeout(f->rb, f->now);
	f->now += RSBIND_FAIL_WAIT_MS;
	rsbind_timeout(f->rb, f->now);
	memset(path, 0, sizeof(path));
	assert_int_equal(rsbind_state(f->rb, path), RSBIND_STATE_FAILED);
	path[2] = 1;
	assert_int_equal(rsbind_start(f->rb, &c, f->now), 0);
	memset(path, 0, sizeof(path));
	assert_int_equal(rsbind_state(f->rb, path), RSBIND_STATE_INVALID);
	assert_int_equal(rsbind_count(f->rb), RSBIND_PATHS_MAX);
}

/* Keeps the paths whose first byte is even. */
static bool
keep_even(void *arg, const uint8_t path_id[PROTO_ID_LEN])
{
	(*(size_t *)arg)++;
	return (path_id[0] & 1) == 0;
}

/*
 * Bindings whose setup ended without a tunnel (refused after the first
 * message through the RS confirmed them) are swept: a bound binding never
 * fails on its own, so without the sweep the table filled up for good and
 * every later relay or punch path got -ENOSPC.
 */
static void
test_sweep(void **state)
{
	struct fixture *f = *state;
	struct msg_addr relay[1] = { rs_v4 };
	uint8_t path[PROTO_ID_LEN];
	struct rsbind_conf c;
	size_t asked = 0;

	table_fill(f, &c, path, relay, true);
	path[2] = 1;
	assert_int_equal(rsbind_start(f->rb, &c, f->now), -ENOSPC);
	assert_int_equal(rsbind_sweep(f->rb, keep_even, &asked),
	    RSBIND_PATHS_MAX / 2);
	assert_int_equal(asked, RSBIND_PATHS_MAX);
	assert_int_equal(rsbind_count(f->rb), RSBIND_PATHS_MAX / 2);
	path[2] = 0;
	path[0] = 2;
	assert_int_equal(rsbind_state(f->rb, path), RSBIND_STATE_BOUND);
	path[0] = 3;
	assert_int_equal(rsbind_state(f->rb, path), RSBIND_STATE_INVALID);
	path[2] = 1;
	assert_int_equal(rsbind_start(f->rb, &c, f->now), 0);
}

static void
test_addr_of(void **state)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	struct msg_addr a;

	(void)state;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(4613);
	memcpy(&s4.sin_addr, rs_v4.addr, 4);
	assert_int_equal(rsbind_addr_of((struct sockaddr *)&s4, &a), 0);
	assert_true(addr_is(&a, &rs_v4));
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(4613);
	memcpy(&s6.sin6_addr, rs_v6.addr, 16);
	assert_int_equal(rsbind_addr_of((struct sockaddr *)&s6, &a), 0);
	assert_true(addr_is(&a, &rs_v6));
	/* ::ffff:198.51.100.7 is the IPv4 RS. */
	memset(&s6.sin6_addr, 0, 16);
	s6.sin6_addr.s6_addr[10] = s6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(s6.sin6_addr.s6_addr + 12, rs_v4.addr, 4);
	assert_int_equal(rsbind_addr_of((struct sockaddr *)&s6, &a), 0);
	assert_true(addr_is(&a, &rs_v4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello_binds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hello_tag, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cookie_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retransmit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bound_by_traffic, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rebind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_family_and_probes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cookie_bad, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test(test_addr_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
