/* test_relay.c -- unit tests for the RS core: relay directions, binding by hello and cookie, forwarding, expiry. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "msg.h"
#include "rand.h"
#include "relay.h"

enum {
	T_WALL = 1800000000,
	T_NOW = 5000000,		/* monotonic ms at the start */
	RID_MN = 0x11111111,
	RID_CN = 0x22222222,
	PKT_MAX = 1500,
};

static const uint8_t key_mn[PROTO_KEY_LEN] = { 0xaa, 1 };
static const uint8_t key_cn[PROTO_KEY_LEN] = { 0xbb, 2 };
static const uint8_t path_a[PROTO_ID_LEN] = { 0xa0, 1, 2, 3 };
static const uint8_t path_b[PROTO_ID_LEN] = { 0xb0, 1, 2, 3 };

/* MN's and CN's addresses as their DCs saw them, and elsewhere. */
static const struct msg_addr mn_obs = { PROTO_FAMILY_IPV4, 40001,
    { 198, 51, 100, 10 } };
static const struct msg_addr cn_obs = { PROTO_FAMILY_IPV6, 4620,
    { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x20 } };
static const struct msg_addr mn_new = { PROTO_FAMILY_IPV4, 50002,
    { 203, 0, 113, 77 } };
static const struct msg_addr evil = { PROTO_FAMILY_IPV4, 6666,
    { 192, 0, 2, 66 } };

struct fixture {
	struct relay	*r;
	struct ntm_rng	*rng;
	uint64_t	 now;
};

static struct relay *
new_relay(struct fixture *f, size_t paths)
{
	struct relay_config cfg;
	struct relay *r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.paths_max = paths;
	cfg.naddr = 2;
	cfg.addr[0] = (struct msg_addr){ PROTO_FAMILY_IPV4, 4613,
	    { 198, 51, 100, 7 } };
	cfg.addr[1] = (struct msg_addr){ PROTO_FAMILY_IPV6, 4613,
	    { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 1, 0, [15] = 7 } };
	assert_int_equal(relay_new(&r, &cfg, f->rng), 0);
	return r;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->rng = rng_seeded_new("relay", 5);
	f->r = new_relay(f, 4);
	f->now = T_NOW;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	relay_free(f->r);
	rng_free(f->rng);
	free(f);
	return 0;
}

/* A RELAY_DIRECTION as a DC would send it. */
static size_t
direction(uint8_t *out, const uint8_t *path, uint32_t rid, uint32_t prid,
    const uint8_t *k1, const uint8_t *k2, const struct msg_addr *obs,
    const struct msg_addr *peer, uint64_t expiry, uint32_t txid)
{
	struct msg m;
	size_t len;

	msg_init(&m, PROTO_MSG_RELAY_DIRECTION);
	m.hdr.txid = txid;
	memcpy(m.hdr.id, path, PROTO_ID_LEN);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PATH_ID, path,
	    PROTO_ID_LEN), 0);
	assert_int_equal(msg_add_u32(&m, PROTO_ATTR_RECV_ID, rid), 0);
	assert_int_equal(msg_add_u32(&m, PROTO_ATTR_PEER_RECV_ID, prid), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_BINDING_KEY, k1,
	    PROTO_KEY_LEN), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PEER_BINDING_KEY, k2,
	    PROTO_KEY_LEN), 0);
	if (obs != NULL)
		assert_int_equal(msg_add_addr(&m, PROTO_ATTR_OBSERVED_ADDR,
		    obs), 0);
	if (peer != NULL)
		assert_int_equal(msg_add_addr(&m, PROTO_ATTR_PEER_ADDR,
		    peer), 0);
	assert_int_equal(msg_add_u64(&m, PROTO_ATTR_EXPIRY, expiry), 0);
	assert_int_equal(msg_encode(&m, out, PKT_MAX, &len), 0);
	return len;
}

/* Sends a direction; returns the ACK's status, the ACK decoded in *ack. */
static int
send_direction(struct fixture *f, const uint8_t *req, size_t len,
    uint8_t *ans, struct msg *ack)
{
	size_t alen;

	assert_int_equal(relay_direction(f->r, req, len, "dc-test", f->now,
	    T_WALL, ans, RELAY_ANSWER_MAX, &alen), 0);
	assert_int_equal(msg_decode(ans, alen, ack), 0);
	assert_int_equal(ack->hdr.type, PROTO_MSG_RELAY_DIRECTION_ACK);
	return ack->hdr.status;
}

static void
allocate(struct fixture *f, const uint8_t *path, uint32_t rid, uint32_t prid,
    bool with_addrs)
{
	uint8_t req[PKT_MAX], ans[RELAY_ANSWER_MAX];
	struct msg ack;
	size_t len;

	len = direction(req, path, rid, prid, key_mn, key_cn,
	    with_addrs ? &mn_obs : NULL, with_addrs ? &cn_obs : NULL,
	    T_WALL + 30, 7);
	assert_int_equal(send_direction(f, req, len, ans, &ack),
	    PROTO_STATUS_OK);
}

static enum relay_verdict
hello(struct fixture *f, const uint8_t *key, uint32_t rid, uint64_t counter,
    const uint8_t *cookie, const struct msg_addr *from,
    struct relay_action *act)
{
	uint8_t pkt[RELAY_HELLO_LEN];

	assert_int_equal(relay_hello_build(key, rid, counter, cookie, pkt),
	    0);
	relay_input(f->r, pkt, sizeof(pkt), from, f->now, act);
	return act->verdict;
}

static size_t
data_packet(uint8_t *pkt, uint8_t type, uint32_t rid, uint64_t counter,
    size_t payload)
{
	struct msg_data dh = { PROTO_VERSION_1, type, 0, rid, counter };
	struct wbuf w;
	size_t i;

	wbuf_init(&w, pkt, PKT_MAX);
	assert_int_equal(msg_data_encode(&dh, &w), 0);
	for (i = 0; i < payload; i++)
		wbuf_put_u8(&w, (uint8_t)(i * 7));
	return wbuf_len(&w);
}

/* Both sides bound from the addresses their DCs observed. */
static void
bind_both(struct fixture *f)
{
	struct relay_action act;

	allocate(f, path_a, RID_MN, RID_CN, true);
	assert_int_equal(hello(f, key_mn, RID_MN, 1, NULL, &mn_obs, &act),
	    RELAY_VERDICT_ACCEPT);
	assert_int_equal(hello(f, key_cn, RID_CN, 1, NULL, &cn_obs, &act),
	    RELAY_VERDICT_ACCEPT);
}

static bool
addr_is(const struct msg_addr *a, const struct msg_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->addr, b->addr, a->family == PROTO_FAMILY_IPV4 ? 4 :
	    16) == 0;
}

static void
test_direction_ack(void **state)
{
	struct fixture *f = *state;
	uint8_t req[PKT_MAX], ans[RELAY_ANSWER_MAX];
	const struct msg_attr *a;
	struct msg_addr addr;
	struct msg ack;
	size_t len;

	len = direction(req, path_a, RID_MN, RID_CN, key_mn, key_cn, &mn_obs,
	    &cn_obs, T_WALL + 30, 0x1234);
	assert_int_equal(send_direction(f, req, len, ans, &ack),
	    PROTO_STATUS_OK);
	assert_int_equal(ack.hdr.txid, 0x1234);
	assert_memory_equal(ack.hdr.id, path_a, PROTO_ID_LEN);
	a = msg_attr_find(&ack, PROTO_ATTR_PATH_ID);
	assert_non_null(a);
	assert_memory_equal(a->val, path_a, PROTO_ID_LEN);
	a = msg_attr_next(&ack, PROTO_ATTR_RELAY_ADDR, NULL);
	assert_non_null(a);
	assert_int_equal(msg_addr_parse(a, &addr), 0);
	assert_int_equal(addr.family, PROTO_FAMILY_IPV4);
	assert_int_equal(addr.port, 4613);
	assert_int_equal(addr.addr[3], 7);
	a = msg_attr_next(&ack, PROTO_ATTR_RELAY_ADDR, a);
	assert_non_null(a);
	assert_int_equal(msg_addr_parse(a, &addr), 0);
	assert_int_equal(addr.family, PROTO_FAMILY_IPV6);
	assert_int_equal(relay_paths(f->r), 1);
	/* The same direction again (a DC that reconnected): same answer. */
	assert_int_equal(send_direction(f, req, len, ans, &ack),
	    PROTO_STATUS_OK);
	assert_int_equal(relay_paths(f->r), 1);
	assert_int_equal(relay_stats(f->r)->directions, 1);
	assert_int_equal(relay_stats(f->r)->directions_repeated, 1);
}

static void
test_direction_collision(void **state)
{
	struct fixture *f = *state;
	uint8_t req[PKT_MAX], ans[RELAY_ANSWER_MAX];
	struct msg ack;
	size_t len;

	allocate(f, path_a, RID_MN, RID_CN, true);
	/* Another path reusing CN's receiver id. */
	len = direction(req, path_b, 0x33333333, RID_CN, key_mn, key_cn,
	    NULL, NULL, T_WALL + 30, 9);
	assert_int_equal(send_direction(f, req, len, ans, &ack),
	    PROTO_STATUS_REFUSED_POLICY);
	assert_int_equal(ack.hdr.txid, 9);
	assert_non_null(msg_attr_find(&ack, PROTO_ATTR_ERROR_TEXT));
	assert_null(msg_attr_find(&ack, PROTO_ATTR_RELAY_ADDR));
	/* Both sides with one id. */
	len = direction(req, path_b, 0x44444444, 0x44444444, key_mn, key_cn,
	    NULL, NULL, T_WALL + 30, 10);
	assert_int_equal(send_direction(f, req, len, ans, &ack),
	    PROTO_STATUS_REFUSED_POLICY);
	/* The path id again with other receiver ids. */
	len = direction(req, path_a, 0x55555555, 0x66666666, key_mn, key_cn,
	    NULL, NULL, T_WALL + 30, 11);
	assert_int_equal(send_direction(f, req, len, ans, &ack),
	    PROTO_STATUS_REFUSED_POLICY);
	/* New ids: accepted. */
	len = direction(req, path_b, 0x55555555, 0x66666666, key_mn, key_cn,
	    NULL, NULL, T_WALL + 30, 12);
	assert_int_equal(send_direction(f, req, len, ans, &ack),
	    PROTO_STATUS_OK);
	assert_int_equal(relay_paths(f->r), 2);
	assert_int_equal(relay_stats(f->r)->refused_collision, 3);
}

static void
test_direction_table_full(void **state)
{
	struct fixture *f = *state;
	uint8_t req[PKT_MAX], ans[RELAY_ANSWER_MAX], id[PROTO_ID_LEN];
	struct msg ack;
	size_t len;
	uint32_t i;

	/* The fixture's table holds 4 paths. */
	for (i = 0; i < 5; i++) {
		memset(id, 0, sizeof(id));
		id[0] = (uint8_t)(i + 1);
		len = direction(req, id, 100 + 2 * i, 101 + 2 * i, key_mn,
		    key_cn, NULL, NULL, T_WALL + 30, i);
		assert_int_equal(send_direction(f, req, len, ans, &ack),
		    i < 4 ? PROTO_STATUS_OK : PROTO_STATUS_UNAVAILABLE);
	}
	assert_int_equal(relay_paths(f->r), 4);
	assert_int_equal(relay_stats(f->r)->refused_full, 1);
	/* An expiry in the past is refused as EXPIRED. */
	memset(id, 0xee, sizeof(id));
	len = direction(req, id, 900, 901, key_mn, key_cn, NULL, NULL,
	    T_WALL, 99);
	assert_int_equal(send_direction(f, req, len, ans, &ack),
	    PROTO_STATUS_EXPIRED);
	/* Once the unbound allocations expire, there is room again. */
	f->now += 31 * 1000;
	assert_int_equal(relay_expire(f->r, f->now), 4);
	assert_int_equal(relay_stats(f->r)->expired_unbound, 4);
	len = direction(req, id, 900, 901, key_mn, key_cn, NULL, NULL,
	    T_WALL + 60, 100);
	assert_int_equal(send_direction(f, req, len, ans, &ack),
	    PROTO_STATUS_OK);
}

static void
test_direction_malformed(void **state)
{
	struct fixture *f = *state;
	uint8_t req[PKT_MAX], ans[RELAY_ANSWER_MAX];
	struct msg m, ack;
	size_t len, alen;

	/* A RELAY_DIRECTION without PEER_BINDING_KEY: MALFORMED, not closed. */
	msg_init(&m, PROTO_MSG_RELAY_DIRECTION);
	m.hdr.txid = 77;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PATH_ID, path_a,
	    PROTO_ID_LEN), 0);
	assert_int_equal(msg_encode(&m, req, sizeof(req), &len), -1011);
	len = direction(req, path_a, 1, 2, key_mn, key_cn, NULL, NULL,
	    T_WALL + 30, 77);
	/* Cut off the last attribute and fix the header's length. */
	len -= 4 + 8;
	store_be16(req + 4, (uint16_t)(len - PROTO_HEADER_LEN));
	assert_int_equal(send_direction(f, req, len, ans, &ack),
	    PROTO_STATUS_MALFORMED);
	assert_int_equal(ack.hdr.txid, 77);
	/* Another type is answered MALFORMED too. */
	msg_init(&m, PROTO_MSG_RELAY_DIRECTION_ACK);
	m.hdr.txid = 78;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PATH_ID, path_a,
	    PROTO_ID_LEN), 0);
	assert_int_equal(msg_add_addr(&m, PROTO_ATTR_RELAY_ADDR, &mn_obs), 0);
	assert_int_equal(msg_encode(&m, req, sizeof(req), &len), 0);
	assert_int_equal(send_direction(f, req, len, ans, &ack),
	    PROTO_STATUS_MALFORMED);
	/* A bad header loses the framing: the caller closes. */
	req[0] = 9;
	assert_true(relay_direction(f->r, req, len, "dc-test", f->now, T_WALL,
	    ans, sizeof(ans), &alen) < 0);
	assert_int_equal(relay_paths(f->r), 0);
}

static void
test_bind_observed(void **state)
{
	struct fixture *f = *state;
	struct relay_action act;

	allocate(f, path_a, RID_MN, RID_CN, true);
	/* From the observed address, no cookie needed, nothing answered. */
	assert_int_equal(hello(f, key_mn, RID_MN, 1, NULL, &mn_obs, &act),
	    RELAY_VERDICT_ACCEPT);
	assert_int_equal(act.reply_len, 0);
	assert_int_equal(relay_stats(f->r)->binds, 1);
	assert_int_equal(relay_paths_bound(f->r), 0);
	assert_int_equal(hello(f, key_cn, RID_CN, 1, NULL, &cn_obs, &act),
	    RELAY_VERDICT_ACCEPT);
	assert_int_equal(relay_stats(f->r)->binds, 2);
	assert_int_equal(relay_paths_bound(f->r), 1);
	/* A later hello from the bound address refreshes. */
	assert_int_equal(hello(f, key_mn, RID_MN, 2, NULL, &mn_obs, &act),
	    RELAY_VERDICT_ACCEPT);
	assert_int_equal(relay_stats(f->r)->refreshes, 1);
}

static void
test_hello_bad_tag(void **state)
{
	struct fixture *f = *state;
	struct relay_action act;
	uint8_t pkt[RELAY_HELLO_LEN];

	allocate(f, path_a, RID_MN, RID_CN, true);
	/* CN's key on MN's receiver id. */
	assert_int_equal(hello(f, key_cn, RID_MN, 1, NULL, &mn_obs, &act),
	    RELAY_VERDICT_DROP);
	assert_int_equal(act.drop, RELAY_DROP_AUTH);
	/* One flipped bit of the cookie field. */
	assert_int_equal(relay_hello_build(key_mn, RID_MN, 1, NULL, pkt), 0);
	pkt[PROTO_DATA_HEADER_LEN + 3] ^= 1;
	relay_input(f->r, pkt, sizeof(pkt), &mn_obs, f->now, &act);
	assert_int_equal(act.verdict, RELAY_VERDICT_DROP);
	assert_int_equal(act.drop, RELAY_DROP_AUTH);
	/* An unknown receiver id. */
	assert_int_equal(hello(f, key_mn, 0x77777777, 1, NULL, &mn_obs, &act),
	    RELAY_VERDICT_DROP);
	assert_int_equal(act.drop, RELAY_DROP_UNKNOWN);
	assert_int_equal(relay_stats(f->r)->drops[RELAY_DROP_AUTH], 2);
	assert_int_equal(relay_stats(f->r)->binds, 0);
}

static void
test_hello_replay(void **state)
{
	struct fixture *f = *state;
	struct relay_action act;
	uint8_t pkt[RELAY_HELLO_LEN];

	allocate(f, path_a, RID_MN, RID_CN, true);
	assert_int_equal(relay_hello_build(key_mn, RID_MN, 5, NULL, pkt), 0);
	relay_input(f->r, pkt, sizeof(pkt), &mn_obs, f->now, &act);
	assert_int_equal(act.verdict, RELAY_VERDICT_ACCEPT);
	/* The same hello again, and an older one: replays. */
	relay_input(f->r, pkt, sizeof(pkt), &mn_obs, f->now, &act);
	assert_int_equal(act.verdict, RELAY_VERDICT_DROP);
	assert_int_equal(act.drop, RELAY_DROP_REPLAY);
	assert_int_equal(hello(f, key_mn, RID_MN, 4, NULL, &mn_obs, &act),
	    RELAY_VERDICT_DROP);
	assert_int_equal(act.drop, RELAY_DROP_REPLAY);
	/* Replayed from elsewhere it moves nothing and earns no cookie. */
	relay_input(f->r, pkt, sizeof(pkt), &evil, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_REPLAY);
	assert_int_equal(relay_stats(f->r)->cookies_sent, 0);
	assert_int_equal(relay_stats(f->r)->drops[RELAY_DROP_REPLAY], 3);
}

static void
test_cookie_flow(void **state)
{
	struct fixture *f = *state;
	struct relay_action act;
	uint8_t cookie[PROTO_RANDOM_LEN], wrong[PROTO_RANDOM_LEN];
	struct msg_data dh;
	const uint8_t *body;
	size_t blen;

	/* No observed addresses: every first binding needs a cookie. */
	allocate(f, path_a, RID_MN, RID_CN, false);
	assert_int_equal(hello(f, key_mn, RID_MN, 1, NULL, &mn_new, &act),
	    RELAY_VERDICT_REPLY);
	assert_true(addr_is(&act.to, &mn_new));
	assert_int_equal(act.reply_len, RELAY_COOKIE_LEN);
	assert_true(act.reply_len < RELAY_HELLO_LEN);
	assert_int_equal(msg_data_decode(act.reply, act.reply_len, &dh, &body,
	    &blen), 0);
	assert_int_equal(dh.type, PROTO_MSG_RS_COOKIE);
	assert_int_equal(dh.rid, RID_MN);
	assert_int_equal(dh.counter, 1);
	assert_int_equal(blen, PROTO_RANDOM_LEN);
	memcpy(cookie, body, sizeof(cookie));
	assert_int_equal(relay_stats(f->r)->binds, 0);
	/* The cookie from another address does not bind, and is re-issued. */
	assert_int_equal(hello(f, key_mn, RID_MN, 2, cookie, &evil, &act),
	    RELAY_VERDICT_REPLY);
	assert_int_equal(relay_stats(f->r)->drops[RELAY_DROP_COOKIE], 1);
	/* A wrong cookie from the right address neither. */
	memset(wrong, 0x5a, sizeof(wrong));
	assert_int_equal(hello(f, key_mn, RID_MN, 3, wrong, &mn_new, &act),
	    RELAY_VERDICT_REPLY);
	assert_int_equal(relay_stats(f->r)->drops[RELAY_DROP_COOKIE], 2);
	/* Still good in the next slot; the hello carrying it binds. */
	f->now += RELAY_COOKIE_SLOT_MS;
	assert_int_equal(hello(f, key_mn, RID_MN, 4, cookie, &mn_new, &act),
	    RELAY_VERDICT_ACCEPT);
	assert_int_equal(relay_stats(f->r)->binds, 1);
	assert_int_equal(relay_stats(f->r)->binds_cookie, 1);
	/* Two slots later a cookie is stale. */
	assert_int_equal(hello(f, key_cn, RID_CN, 1, NULL, &cn_obs, &act),
	    RELAY_VERDICT_REPLY);
	memcpy(cookie, act.reply + PROTO_DATA_HEADER_LEN, sizeof(cookie));
	f->now += 2 * RELAY_COOKIE_SLOT_MS;
	assert_int_equal(hello(f, key_cn, RID_CN, 2, cookie, &cn_obs, &act),
	    RELAY_VERDICT_REPLY);
	assert_int_equal(relay_stats(f->r)->drops[RELAY_DROP_COOKIE], 3);
}

static void
test_forward_between_bound(void **state)
{
	struct fixture *f = *state;
	struct relay_action act;
	uint8_t pkt[PKT_MAX];
	size_t len;

	allocate(f, path_a, RID_MN, RID_CN, true);
	len = data_packet(pkt, PROTO_MSG_DATA, RID_CN, 0, 100);
	/* MN bound, CN not yet: nothing goes through. */
	assert_int_equal(hello(f, key_mn, RID_MN, 1, NULL, &mn_obs, &act),
	    RELAY_VERDICT_ACCEPT);
	relay_input(f->r, pkt, len, &mn_obs, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_UNBOUND);
	assert_int_equal(hello(f, key_cn, RID_CN, 1, NULL, &cn_obs, &act),
	    RELAY_VERDICT_ACCEPT);
	/* MN -> CN: by CN's receiver id, to CN's bound address. */
	relay_input(f->r, pkt, len, &mn_obs, f->now, &act);
	assert_int_equal(act.verdict, RELAY_VERDICT_FORWARD);
	assert_true(addr_is(&act.to, &cn_obs));
	/* CN -> MN, a TUNNEL_CONTROL. */
	len = data_packet(pkt, PROTO_MSG_TUNNEL_CONTROL, RID_MN, 0, 40);
	relay_input(f->r, pkt, len, &cn_obs, f->now, &act);
	assert_int_equal(act.verdict, RELAY_VERDICT_FORWARD);
	assert_true(addr_is(&act.to, &mn_obs));
	/* A third party, and a side sending to itself, are dropped. */
	relay_input(f->r, pkt, len, &evil, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_SOURCE);
	relay_input(f->r, pkt, len, &mn_obs, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_SOURCE);
	/* An unknown receiver id, a cookie sent to the RS, garbage. */
	len = data_packet(pkt, PROTO_MSG_DATA, 0x99, 0, 40);
	relay_input(f->r, pkt, len, &mn_obs, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_UNKNOWN);
	len = data_packet(pkt, PROTO_MSG_RS_COOKIE, RID_CN, 0,
	    PROTO_RANDOM_LEN);
	relay_input(f->r, pkt, len, &mn_obs, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_TYPE);
	relay_input(f->r, pkt, 1, &mn_obs, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_MALFORMED);
	assert_int_equal(relay_stats(f->r)->forwarded, 2);
	assert_int_equal(relay_stats(f->r)->forwarded_bytes,
	    (PROTO_DATA_HEADER_LEN + 100) + (PROTO_DATA_HEADER_LEN + 40));
}

/* TUNNEL_REQUEST / RESPONSE: common header, header id = path id. */
static void
test_forward_tunnel_request(void **state)
{
	struct fixture *f = *state;
	struct relay_action act;
	uint8_t pkt[PKT_MAX];
	struct msg_header h;
	struct wbuf w;
	size_t len;

	bind_both(f);
	memset(&h, 0, sizeof(h));
	h.version = PROTO_VERSION_1;
	h.type = PROTO_MSG_TUNNEL_REQUEST;
	h.status = PROTO_STATUS_OK;
	h.flags = PROTO_F_SEALED;
	h.length = 200;
	memcpy(h.id, path_a, PROTO_ID_LEN);
	wbuf_init(&w, pkt, sizeof(pkt));
	assert_int_equal(msg_header_encode(&h, &w), 0);
	memset(pkt + PROTO_HEADER_LEN, 0x42, 200);
	len = PROTO_HEADER_LEN + 200;
	relay_input(f->r, pkt, len, &mn_obs, f->now, &act);
	assert_int_equal(act.verdict, RELAY_VERDICT_FORWARD);
	assert_true(addr_is(&act.to, &cn_obs));
	pkt[1] = PROTO_MSG_TUNNEL_RESPONSE;
	relay_input(f->r, pkt, len, &cn_obs, f->now, &act);
	assert_int_equal(act.verdict, RELAY_VERDICT_FORWARD);
	assert_true(addr_is(&act.to, &mn_obs));
	relay_input(f->r, pkt, len, &evil, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_SOURCE);
	/* A length that does not match the datagram. */
	relay_input(f->r, pkt, len - 1, &cn_obs, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_MALFORMED);
	/* Another path id. */
	pkt[20] ^= 0xff;
	relay_input(f->r, pkt, len, &cn_obs, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_UNKNOWN);
}

static void
test_rebind(void **state)
{
	struct fixture *f = *state;
	struct relay_action act;
	uint8_t pkt[PKT_MAX], cookie[PROTO_RANDOM_LEN];
	size_t len;

	bind_both(f);
	/* MN moved: a new hello from the new address earns a cookie ... */
	assert_int_equal(hello(f, key_mn, RID_MN, 2, NULL, &mn_new, &act),
	    RELAY_VERDICT_REPLY);
	memcpy(cookie, act.reply + PROTO_DATA_HEADER_LEN, sizeof(cookie));
	/* ... and does not move the binding yet. */
	len = data_packet(pkt, PROTO_MSG_DATA, RID_CN, 0, 64);
	relay_input(f->r, pkt, len, &mn_new, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_SOURCE);
	/* The hello with the cookie moves it. */
	assert_int_equal(hello(f, key_mn, RID_MN, 3, cookie, &mn_new, &act),
	    RELAY_VERDICT_ACCEPT);
	assert_int_equal(relay_stats(f->r)->rebinds, 1);
	relay_input(f->r, pkt, len, &mn_new, f->now, &act);
	assert_int_equal(act.verdict, RELAY_VERDICT_FORWARD);
	assert_true(addr_is(&act.to, &cn_obs));
	len = data_packet(pkt, PROTO_MSG_DATA, RID_MN, 0, 64);
	relay_input(f->r, pkt, len, &cn_obs, f->now, &act);
	assert_true(addr_is(&act.to, &mn_new));
	/* The old address is no longer MN. */
	len = data_packet(pkt, PROTO_MSG_DATA, RID_CN, 1, 64);
	relay_input(f->r, pkt, len, &mn_obs, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_SOURCE);
	/* Nor does the DC's observed address bind again without a cookie. */
	assert_int_equal(hello(f, key_mn, RID_MN, 9, NULL, &mn_obs, &act),
	    RELAY_VERDICT_REPLY);
}

static void
test_idle_expiry(void **state)
{
	struct fixture *f = *state;
	struct relay_action act;
	uint8_t pkt[PKT_MAX];
	size_t len;

	bind_both(f);
	len = data_packet(pkt, PROTO_MSG_DATA, RID_CN, 0, 64);
	f->now += 59 * 1000;
	relay_input(f->r, pkt, len, &mn_obs, f->now, &act);
	assert_int_equal(act.verdict, RELAY_VERDICT_FORWARD);
	/* Traffic keeps it: 59 s after the last packet it is still there. */
	f->now += 59 * 1000;
	assert_int_equal(relay_expire(f->r, f->now), 0);
	f->now += 1000;
	assert_int_equal(relay_expire(f->r, f->now), 1);
	assert_int_equal(relay_stats(f->r)->expired_idle, 1);
	assert_int_equal(relay_paths(f->r), 0);
	relay_input(f->r, pkt, len, &mn_obs, f->now, &act);
	assert_int_equal(act.drop, RELAY_DROP_UNKNOWN);
	/* The receiver ids are free again. */
	allocate(f, path_b, RID_MN, RID_CN, true);
}

static void
test_unbound_expiry_clamped(void **state)
{
	struct fixture *f = *state;
	uint8_t req[PKT_MAX], ans[RELAY_ANSWER_MAX];
	struct msg ack;
	size_t len;

	/* An EXPIRY a day away is held RELAY_EXPIRY_MAX_S only. */
	len = direction(req, path_a, RID_MN, RID_CN, key_mn, key_cn, NULL,
	    NULL, T_WALL + 86400, 1);
	assert_int_equal(send_direction(f, req, len, ans, &ack),
	    PROTO_STATUS_OK);
	f->now += (RELAY_EXPIRY_MAX_S - 1) * 1000;
	assert_int_equal(relay_expire(f->r, f->now), 0);
	f->now += 1000;
	assert_int_equal(relay_expire(f->r, f->now), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_direction_ack, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_direction_collision,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_direction_table_full,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_direction_malformed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_observed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hello_bad_tag, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hello_replay, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cookie_flow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forward_between_bound,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward_tunnel_request,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_expiry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unbound_expiry_clamped,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
