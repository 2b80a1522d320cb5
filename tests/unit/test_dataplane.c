/* test_dataplane.c -- unit tests for node/dataplane: packets, timers, I/O. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "dataplane.h"
#include "loop.h"
#include "proto.h"
#include "rand.h"

/* Two nodes: A (dc1 addresses) and B (dc2 addresses), one tunnel between. */
#define A_VIP4	"198.18.1.2"
#define A_VIP6	"fd6e:746d:6f62:1::2"
#define B_VIP4	"198.18.2.2"
#define B_VIP6	"fd6e:746d:6f62:2::2"
#define OTHER4	"198.18.2.3"
#define OTHER6	"fd6e:746d:6f62:2::3"

enum {
	RID_A = 0x11111111,	/* A's receiver id: B sends to it */
	RID_B = 0x22222222,
	PKT_MAX = 2048,
	PAYLOAD = 100,
};

struct pair {
	struct ntm_rng		*rng;
	struct dataplane	*a, *b;
	struct dataplane_tunnel	*ta, *tb;	/* A's tunnel to B, B's to A */
	enum aead_alg		 alg;
};

static void
pton(int af, const char *s, uint8_t *out)
{
	assert_int_equal(inet_pton(af, s, out), 1);
}

static void
node_conf(struct dataplane_conf *c, const char *v4, const char *v6)
{
	memset(c, 0, sizeof(*c));
	c->has_vip4 = c->has_vip6 = true;
	pton(AF_INET, v4, c->vip4);
	pton(AF_INET6, v6, c->vip6);
	c->max_tunnels = 8;
}

static void
tunnel_conf(struct dataplane_tunnel_conf *c, enum aead_alg alg,
    enum dataplane_role role, uint32_t rid, uint32_t peer_rid,
    const char *peer4, const char *peer6)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&c->peer_addr;

	memset(c, 0, sizeof(*c));
	c->rid = rid;
	c->peer_rid = peer_rid;
	c->alg = alg;
	c->role = role;
	memset(c->key_i2r, 0x42, sizeof(c->key_i2r));
	memset(c->key_r2i, 0x24, sizeof(c->key_r2i));
	c->has_vip4 = c->has_vip6 = true;
	pton(AF_INET, peer4, c->peer_vip4);
	pton(AF_INET6, peer6, c->peer_vip6);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(PROTO_PORT_TUNNEL);
	pton(AF_INET, "192.0.2.2", (uint8_t *)&sin->sin_addr);
}

static int
pair_setup(void **state, enum aead_alg alg)
{
	struct dataplane_tunnel_conf tc;
	struct dataplane_conf c;
	struct pair *p;

	p = calloc(1, sizeof(*p));
	assert_non_null(p);
	p->alg = alg;
	assert_non_null(p->rng = rng_seeded_new("dataplane", 9));
	node_conf(&c, A_VIP4, A_VIP6);
	assert_int_equal(dataplane_new(&p->a, &c, p->rng), 0);
	node_conf(&c, B_VIP4, B_VIP6);
	assert_int_equal(dataplane_new(&p->b, &c, p->rng), 0);
	tunnel_conf(&tc, alg, DATAPLANE_ROLE_INITIATOR, RID_A, RID_B, B_VIP4,
	    B_VIP6);
	assert_int_equal(dataplane_tunnel_add(p->a, &tc, &p->ta), 0);
	tunnel_conf(&tc, alg, DATAPLANE_ROLE_RESPONDER, RID_B, RID_A, A_VIP4,
	    A_VIP6);
	assert_int_equal(dataplane_tunnel_add(p->b, &tc, &p->tb), 0);
	*state = p;
	return 0;
}

static int
setup_gcm(void **state)
{
	return pair_setup(state, AEAD_ALG_AES256GCM);
}

static int
setup_chacha(void **state)
{
	return pair_setup(state, AEAD_ALG_CHACHA20POLY1305);
}

static int
teardown(void **state)
{
	struct pair *p = *state;

	dataplane_free(p->a);
	dataplane_free(p->b);
	rng_free(p->rng);
	free(p);
	return 0;
}

/* An IPv4 packet (20-byte header, protocol 253) with a patterned payload. */
static size_t
ip4_packet(uint8_t *buf, const char *src, const char *dst, size_t payload)
{
	size_t i, len = IPV4_HEADER_MIN + payload;

	memset(buf, 0, IPV4_HEADER_MIN);
	buf[0] = 0x45;
	store_be16(buf + 2, (uint16_t)len);
	buf[8] = 64;
	buf[9] = 253;
	pton(AF_INET, src, buf + 12);
	pton(AF_INET, dst, buf + 16);
	for (i = 0; i < payload; i++)
		buf[IPV4_HEADER_MIN + i] = (uint8_t)(i * 7 + 1);
	return len;
}

static size_t
ip6_packet(uint8_t *buf, const char *src, const char *dst, size_t payload)
{
	size_t i;

	memset(buf, 0, IPV6_HEADER_LEN);
	buf[0] = 0x60;
	store_be16(buf + 4, (uint16_t)payload);
	buf[6] = 253;
	buf[7] = 64;
	pton(AF_INET6, src, buf + 8);
	pton(AF_INET6, dst, buf + 24);
	for (i = 0; i < payload; i++)
		buf[IPV6_HEADER_LEN + i] = (uint8_t)(i * 3 + 5);
	return IPV6_HEADER_LEN + payload;
}

/* Seals inner on t, returning the outer length. */
static size_t
seal(struct dataplane_tunnel *t, const uint8_t *inner, size_t len,
    uint8_t *out)
{
	size_t outlen = 0;

	assert_int_equal(dataplane_seal(t, PROTO_MSG_DATA, inner, len, out,
	    PKT_MAX, &outlen), 0);
	assert_int_equal(outlen, len + DATAPLANE_OVERHEAD);
	return outlen;
}

static uint64_t
drops(const struct dataplane_stats *s, enum dataplane_verdict v)
{
	return s->drops[v];
}

static void
round_trip(struct pair *p, int family)
{
	uint8_t inner[PKT_MAX], out[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen;

	len = family == AF_INET ?
	    ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD) :
	    ip6_packet(inner, A_VIP6, B_VIP6, PAYLOAD);
	outlen = seal(p->ta, inner, len, out);
	/* Header on the wire: version, DATA, phase 0, B's id, counter 1. */
	assert_int_equal(out[0], PROTO_VERSION_1);
	assert_int_equal(out[1], PROTO_MSG_DATA);
	assert_int_equal(out[2], 0);
	assert_int_equal(load_be32(out + 4), RID_B);
	assert_true(load_be64(out + 8) == 1);
	/* Encrypted: the inner bytes are not on the wire. */
	assert_memory_not_equal(out + PROTO_DATA_HEADER_LEN, inner, len);

	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_OK);
	assert_ptr_equal(rx.tunnel, p->tb);
	assert_int_equal(rx.type, PROTO_MSG_DATA);
	assert_int_equal(rx.inner_len, len);
	assert_memory_equal(rx.inner, inner, len);
	assert_int_equal(dataplane_tunnel_stats(p->tb)->packets_in, 1);
	assert_int_equal(dataplane_tunnel_stats(p->tb)->bytes_in, len);
	assert_int_equal(dataplane_tunnel_stats(p->ta)->packets_out, 1);
	assert_int_equal(dataplane_tunnel_stats(p->ta)->bytes_out, len);

	/* And back, B to A, with the other direction's key. */
	len = family == AF_INET ?
	    ip4_packet(inner, B_VIP4, A_VIP4, PAYLOAD) :
	    ip6_packet(inner, B_VIP6, A_VIP6, PAYLOAD);
	outlen = seal(p->tb, inner, len, out);
	assert_int_equal(load_be32(out + 4), RID_A);
	assert_int_equal(dataplane_open(p->a, out, outlen, NULL, &rx),
	    DATAPLANE_OK);
	assert_memory_equal(rx.inner, inner, len);
}

static void
test_round_trip_v4(void **state)
{
	round_trip(*state, AF_INET);
}

static void
test_round_trip_v6(void **state)
{
	round_trip(*state, AF_INET6);
}

/* The TUN path reads the inner packet right after the header's room. */
static void
test_seal_in_place(void **state)
{
	struct pair *p = *state;
	uint8_t buf[PKT_MAX], copy[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen;

	len = ip4_packet(buf + PROTO_DATA_HEADER_LEN, A_VIP4, B_VIP4, 1400);
	memcpy(copy, buf + PROTO_DATA_HEADER_LEN, len);
	assert_int_equal(dataplane_seal(p->ta, PROTO_MSG_DATA,
	    buf + PROTO_DATA_HEADER_LEN, len, buf, sizeof(buf), &outlen), 0);
	assert_int_equal(dataplane_open(p->b, buf, outlen, NULL, &rx),
	    DATAPLANE_OK);
	assert_memory_equal(rx.inner, copy, len);
}

/* Counters go up by one per packet, and each key's first is 1. */
static void
test_counter_increments(void **state)
{
	struct pair *p = *state;
	uint8_t inner[PKT_MAX], out[PKT_MAX];
	size_t len;
	uint64_t i;

	len = ip4_packet(inner, A_VIP4, B_VIP4, 10);
	for (i = 1; i <= 5; i++) {
		seal(p->ta, inner, len, out);
		assert_true(load_be64(out + 8) == i);
	}
	/* B's direction has its own counter. */
	len = ip4_packet(inner, B_VIP4, A_VIP4, 10);
	seal(p->tb, inner, len, out);
	assert_true(load_be64(out + 8) == 1);
}

static void
test_replay_dropped(void **state)
{
	struct pair *p = *state;
	uint8_t inner[PKT_MAX], out[PKT_MAX], copy[PKT_MAX], first[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen, firstlen;
	int i;

	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	outlen = seal(p->ta, inner, len, out);
	memcpy(copy, out, outlen);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_OK);
	/* The same datagram again, byte for byte. */
	assert_int_equal(dataplane_open(p->b, copy, outlen, NULL, &rx),
	    DATAPLANE_DROP_REPLAY);
	assert_int_equal(drops(dataplane_tunnel_stats(p->tb),
	    DATAPLANE_DROP_REPLAY), 1);
	assert_int_equal(dataplane_tunnel_stats(p->tb)->packets_in, 1);

	/* Out of order inside the window is fine; behind the window is not. */
	firstlen = seal(p->ta, inner, len, first);		/* counter 2 */
	for (i = 0; i < PROTO_REPLAY_WINDOW + 10; i++) {
		outlen = seal(p->ta, inner, len, out);
		assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
		    DATAPLANE_OK);
	}
	assert_int_equal(dataplane_open(p->b, first, firstlen, NULL, &rx),
	    DATAPLANE_DROP_REPLAY);
	assert_int_equal(drops(dataplane_tunnel_stats(p->tb),
	    DATAPLANE_DROP_REPLAY), 2);
}

static void
test_forged_dropped(void **state)
{
	struct pair *p = *state;
	uint8_t inner[PKT_MAX], out[PKT_MAX], copy[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen, i;
	/* One bit in the counter (another nonce), the ciphertext, the tag. */
	size_t flips[4];

	len = ip6_packet(inner, A_VIP6, B_VIP6, PAYLOAD);
	outlen = seal(p->ta, inner, len, out);
	flips[0] = 11;
	flips[1] = PROTO_DATA_HEADER_LEN;
	flips[2] = PROTO_DATA_HEADER_LEN + 50;
	flips[3] = outlen - 1;
	for (i = 0; i < 4; i++) {
		memcpy(copy, out, outlen);
		copy[flips[i]] ^= 0x04;
		assert_int_equal(dataplane_open(p->b, copy, outlen, NULL, &rx),
		    DATAPLANE_DROP_AUTH);
		assert_null(rx.inner);
		/* No plaintext of a forgery is left in the buffer. */
		assert_memory_not_equal(copy + PROTO_DATA_HEADER_LEN, inner,
		    len);
	}
	assert_int_equal(drops(dataplane_tunnel_stats(p->tb),
	    DATAPLANE_DROP_AUTH), 4);
	/* The reserved byte is checked before any key is looked at. */
	memcpy(copy, out, outlen);
	copy[3] ^= 0x01;
	assert_int_equal(dataplane_open(p->b, copy, outlen, NULL, &rx),
	    DATAPLANE_DROP_MALFORMED);
	assert_int_equal(drops(dataplane_table_stats(p->b),
	    DATAPLANE_DROP_MALFORMED), 1);
	/* The forgeries did not move the window: the real packet opens. */
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_OK);
	assert_memory_equal(rx.inner, inner, len);
	assert_int_equal(dataplane_tunnel_stats(p->tb)->packets_in, 1);
}

static void
test_wrong_key_dropped(void **state)
{
	struct pair *p = *state;
	struct dataplane_tunnel_conf tc;
	struct dataplane_conf c;
	struct dataplane *x;
	struct dataplane_tunnel *tx;
	uint8_t inner[PKT_MAX], out[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen;

	/* A third party that knows B's receiver id but not the key. */
	node_conf(&c, A_VIP4, A_VIP6);
	assert_int_equal(dataplane_new(&x, &c, p->rng), 0);
	tunnel_conf(&tc, p->alg, DATAPLANE_ROLE_INITIATOR, RID_A, RID_B,
	    B_VIP4, B_VIP6);
	tc.key_i2r[0] ^= 1;
	assert_int_equal(dataplane_tunnel_add(x, &tc, &tx), 0);
	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	outlen = seal(tx, inner, len, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_AUTH);
	assert_int_equal(drops(dataplane_tunnel_stats(p->tb),
	    DATAPLANE_DROP_AUTH), 1);
	/* The genuine packet with the same counter still gets through. */
	outlen = seal(p->ta, inner, len, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_OK);
	dataplane_free(x);
}

static void
test_inner_source_spoofed(void **state)
{
	struct pair *p = *state;
	uint8_t inner[PKT_MAX], out[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen;

	/* A authenticated, but claims another node's (or B's own) address. */
	len = ip4_packet(inner, "198.18.1.3", B_VIP4, PAYLOAD);
	outlen = seal(p->ta, inner, len, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_INNER_SRC);
	len = ip6_packet(inner, B_VIP6, B_VIP6, PAYLOAD);
	outlen = seal(p->ta, inner, len, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_INNER_SRC);
	assert_int_equal(drops(dataplane_tunnel_stats(p->tb),
	    DATAPLANE_DROP_INNER_SRC), 2);
	assert_int_equal(dataplane_tunnel_stats(p->tb)->packets_in, 0);
}

static void
test_inner_destination_not_ours(void **state)
{
	struct pair *p = *state;
	uint8_t inner[PKT_MAX], out[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen;

	len = ip4_packet(inner, A_VIP4, OTHER4, PAYLOAD);
	outlen = seal(p->ta, inner, len, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_INNER_DST);
	len = ip6_packet(inner, A_VIP6, OTHER6, PAYLOAD);
	outlen = seal(p->ta, inner, len, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_INNER_DST);
	/* A family mix-up: IPv4 header carrying B's IPv6 prefix bytes. */
	len = ip4_packet(inner, A_VIP4, "253.110.116.109", PAYLOAD);
	outlen = seal(p->ta, inner, len, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_INNER_DST);
	assert_int_equal(drops(dataplane_tunnel_stats(p->tb),
	    DATAPLANE_DROP_INNER_DST), 3);
}

static void
test_unknown_receiver_dropped(void **state)
{
	struct pair *p = *state;
	uint8_t inner[PKT_MAX], out[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen;

	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	outlen = seal(p->ta, inner, len, out);
	store_be32(out + 4, RID_B + 1);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_UNKNOWN_RID);
	assert_int_equal(drops(dataplane_table_stats(p->b),
	    DATAPLANE_DROP_UNKNOWN_RID), 1);
	assert_int_equal(drops(dataplane_tunnel_stats(p->tb),
	    DATAPLANE_DROP_AUTH), 0);
	/* After removal, the tunnel's own id is unknown too. */
	outlen = seal(p->ta, inner, len, out);
	dataplane_tunnel_remove(p->b, p->tb);
	p->tb = NULL;
	assert_null(dataplane_lookup_rid(p->b, RID_B));
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_UNKNOWN_RID);
	assert_int_equal(drops(dataplane_table_stats(p->b),
	    DATAPLANE_DROP_UNKNOWN_RID), 2);
}

static void
test_key_phase_without_key(void **state)
{
	struct pair *p = *state;
	uint8_t inner[PKT_MAX], out[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen;

	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	outlen = seal(p->ta, inner, len, out);
	out[2] = 1;
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_NO_KEY);
	out[2] = 2;
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_MALFORMED);
}

/*
 * Every prefix of a valid packet, each in a buffer of exactly its size (so
 * ASan sees any read past the end), is dropped and counted.
 */
static void
test_truncated_dropped(void **state)
{
	struct pair *p = *state;
	uint8_t inner[PKT_MAX], out[PKT_MAX], *cut;
	struct dataplane_rx rx;
	struct dataplane_stats sum;
	size_t len, outlen, n;
	uint64_t total = 0;

	len = ip4_packet(inner, A_VIP4, B_VIP4, 40);
	outlen = seal(p->ta, inner, len, out);
	for (n = 0; n < outlen; n++) {
		cut = malloc(n > 0 ? n : 1);
		assert_non_null(cut);
		memcpy(cut, out, n);
		assert_int_not_equal(dataplane_open(p->b, cut, n, NULL, &rx),
		    DATAPLANE_OK);
		free(cut);
		total++;
	}
	dataplane_stats_sum(p->b, &sum);
	/* Shorter than header + tag + 1: malformed; else the tag fails. */
	assert_int_equal(sum.drops[DATAPLANE_DROP_MALFORMED],
	    DATAPLANE_OVERHEAD + 1);
	assert_int_equal(sum.drops[DATAPLANE_DROP_AUTH],
	    total - DATAPLANE_OVERHEAD - 1);
	assert_int_equal(sum.packets_in, 0);
	/* The whole packet still opens: none of that moved the window. */
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_OK);
}

/* Authenticated, but the inner header lies about its length or is cut. */
static void
test_inner_truncated(void **state)
{
	struct pair *p = *state;
	uint8_t inner[PKT_MAX], out[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen;

	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	store_be16(inner + 2, (uint16_t)(len + 1));
	outlen = seal(p->ta, inner, len, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_MALFORMED);

	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	inner[0] = 0x44;	/* IHL 4 words: below the minimum */
	outlen = seal(p->ta, inner, len, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_MALFORMED);

	len = ip6_packet(inner, A_VIP6, B_VIP6, PAYLOAD);
	outlen = seal(p->ta, inner, len - 1, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_MALFORMED);

	/* An IPv6 header cut before the destination address. */
	outlen = seal(p->ta, inner, IPV6_HEADER_LEN - 4, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_MALFORMED);

	/* Not IP at all. */
	inner[0] = 0x50;
	outlen = seal(p->ta, inner, 60, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_MALFORMED);
	assert_int_equal(drops(dataplane_tunnel_stats(p->tb),
	    DATAPLANE_DROP_MALFORMED), 5);
}

/* Bytes after the IP packet's own length are not delivered. */
static void
test_padding_trimmed(void **state)
{
	struct pair *p = *state;
	uint8_t inner[PKT_MAX], out[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen;

	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	memset(inner + len, 0xee, 6);
	outlen = seal(p->ta, inner, len + 6, out);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_OK);
	assert_int_equal(rx.inner_len, len);
}

/* A TUNNEL_CONTROL packet is opened but not checked as an IP packet. */
static void
test_control_packet(void **state)
{
	struct pair *p = *state;
	const uint8_t msg[] = "in-tunnel message";
	uint8_t out[PKT_MAX];
	struct dataplane_rx rx;
	size_t outlen;

	assert_int_equal(dataplane_seal(p->ta, PROTO_MSG_TUNNEL_CONTROL, msg,
	    sizeof(msg), out, sizeof(out), &outlen), 0);
	assert_int_equal(out[1], PROTO_MSG_TUNNEL_CONTROL);
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_OK);
	assert_int_equal(rx.type, PROTO_MSG_TUNNEL_CONTROL);
	assert_int_equal(rx.inner_len, sizeof(msg));
	assert_memory_equal(rx.inner, msg, sizeof(msg));
	/* The type is in the nonce and the AAD: relabelling it fails. */
	assert_int_equal(dataplane_seal(p->ta, PROTO_MSG_TUNNEL_CONTROL, msg,
	    sizeof(msg), out, sizeof(out), &outlen), 0);
	out[1] = PROTO_MSG_DATA;
	assert_int_equal(dataplane_open(p->b, out, outlen, NULL, &rx),
	    DATAPLANE_DROP_AUTH);
	/* Other data-format types are not for a node's tunnel table. */
	out[1] = PROTO_MSG_RS_COOKIE;
	assert_int_equal(dataplane_open(p->b, out, 48, NULL, &rx),
	    DATAPLANE_DROP_MALFORMED);
}

static void
test_seal_limits(void **state)
{
	struct pair *p = *state;
	uint8_t inner[PKT_MAX], out[PKT_MAX];
	size_t len, outlen;

	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	assert_int_equal(dataplane_seal(p->ta, PROTO_MSG_DATA, inner, len, out,
	    len + DATAPLANE_OVERHEAD - 1, &outlen), -ENOSPC);
	assert_int_equal(dataplane_seal(p->ta, PROTO_MSG_RS_HELLO, inner, len,
	    out, sizeof(out), &outlen), -EINVAL);
	assert_int_equal(dataplane_seal(p->ta, PROTO_MSG_DATA, inner, 0, out,
	    sizeof(out), &outlen), -EINVAL);
	assert_int_equal(dataplane_tunnel_stats(p->ta)->packets_out, 0);
}

static void
test_route(void **state)
{
	struct pair *p = *state;
	uint8_t inner[PKT_MAX];
	enum dataplane_verdict why;
	size_t len;

	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	assert_ptr_equal(dataplane_route(p->a, inner, len, &why), p->ta);
	assert_int_equal(why, DATAPLANE_OK);
	len = ip6_packet(inner, A_VIP6, B_VIP6, PAYLOAD);
	assert_ptr_equal(dataplane_route(p->a, inner, len, &why), p->ta);
	len = ip6_packet(inner, A_VIP6, OTHER6, PAYLOAD);
	assert_null(dataplane_route(p->a, inner, len, &why));
	assert_int_equal(why, DATAPLANE_DROP_NO_TUNNEL);
	/* Not from our virtual IP: the peer would drop it anyway. */
	len = ip4_packet(inner, "192.0.2.1", B_VIP4, PAYLOAD);
	assert_null(dataplane_route(p->a, inner, len, &why));
	assert_int_equal(why, DATAPLANE_DROP_INNER_SRC);
	assert_null(dataplane_route(p->a, inner, 19, &why));
	assert_int_equal(why, DATAPLANE_DROP_MALFORMED);
}

static void
test_table(void **state)
{
	struct pair *p = *state;
	struct dataplane_tunnel_conf tc;
	struct dataplane_tunnel *t;
	uint8_t a[16];
	uint32_t rid;
	int i;

	/* Same receiver id, or a peer address already routed: refused. */
	tunnel_conf(&tc, p->alg, DATAPLANE_ROLE_INITIATOR, RID_A, 7,
	    "198.18.3.1", "fd6e:746d:6f62:3::1");
	assert_int_equal(dataplane_tunnel_add(p->a, &tc, &t), -EEXIST);
	tunnel_conf(&tc, p->alg, DATAPLANE_ROLE_INITIATOR, 5, 7, B_VIP4,
	    "fd6e:746d:6f62:3::1");
	assert_int_equal(dataplane_tunnel_add(p->a, &tc, &t), -EEXIST);
	/* Our own address as the peer's, rid 0, no role: invalid. */
	tunnel_conf(&tc, p->alg, DATAPLANE_ROLE_INITIATOR, 5, 7, A_VIP4,
	    "fd6e:746d:6f62:3::1");
	assert_int_equal(dataplane_tunnel_add(p->a, &tc, &t), -EINVAL);
	tunnel_conf(&tc, p->alg, DATAPLANE_ROLE_INITIATOR, 0, 7, "198.18.3.1",
	    "fd6e:746d:6f62:3::1");
	assert_int_equal(dataplane_tunnel_add(p->a, &tc, &t), -EINVAL);
	tc.rid = 5;
	tc.role = DATAPLANE_ROLE_INVALID;
	assert_int_equal(dataplane_tunnel_add(p->a, &tc, &t), -EINVAL);

	/* Fill to max_tunnels (8), then one more is refused. */
	for (i = 1; i < 8; i++) {
		char v4[32], v6[64];

		snprintf(v4, sizeof(v4), "198.18.3.%d", i);
		snprintf(v6, sizeof(v6), "fd6e:746d:6f62:3::%d", i);
		assert_int_equal(dataplane_rid_new(p->a, p->rng, &rid), 0);
		assert_int_not_equal(rid, 0);
		tunnel_conf(&tc, p->alg, DATAPLANE_ROLE_RESPONDER, rid, 9, v4,
		    v6);
		assert_int_equal(dataplane_tunnel_add(p->a, &tc, &t), 0);
		assert_ptr_equal(dataplane_lookup_rid(p->a, rid), t);
		pton(AF_INET6, v6, a);
		assert_ptr_equal(dataplane_lookup_vip(p->a, AF_INET6, a), t);
	}
	tunnel_conf(&tc, p->alg, DATAPLANE_ROLE_RESPONDER, 99, 9, "198.18.3.99",
	    "fd6e:746d:6f62:3::99");
	assert_int_equal(dataplane_tunnel_add(p->a, &tc, &t), -ENOSPC);
	/* Removing one unlinks it from every index. */
	pton(AF_INET, "198.18.3.4", a);
	t = dataplane_lookup_vip(p->a, AF_INET, a);
	assert_non_null(t);
	rid = dataplane_tunnel_rid(t);
	dataplane_tunnel_remove(p->a, t);
	assert_null(dataplane_lookup_vip(p->a, AF_INET, a));
	assert_null(dataplane_lookup_rid(p->a, rid));
	pton(AF_INET6, "fd6e:746d:6f62:3::4", a);
	assert_null(dataplane_lookup_vip(p->a, AF_INET6, a));
	pton(AF_INET, B_VIP4, a);
	assert_ptr_equal(dataplane_lookup_vip(p->a, AF_INET, a), p->ta);
	assert_int_equal(dataplane_tunnel_add(p->a, &tc, &t), 0);
}

/* Open a packet A seals now, at B; returns the verdict. */
static enum dataplane_verdict
a_to_b(struct pair *p, uint8_t *out, size_t *outlen)
{
	uint8_t inner[PKT_MAX];
	struct dataplane_rx rx;
	size_t len;

	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	*outlen = seal(p->ta, inner, len, out);
	return dataplane_open(p->b, out, *outlen, NULL, &rx);
}

static void
test_rekey(void **state)
{
	struct pair *p = *state;
	uint8_t k1[PROTO_KEY_LEN], k2[PROTO_KEY_LEN], inner[PKT_MAX];
	uint8_t out[PKT_MAX], late[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen, latelen;

	memset(k1, 0x5a, sizeof(k1));
	memset(k2, 0xa5, sizeof(k2));
	assert_false(dataplane_tunnel_needs_rekey(p->ta));
	assert_int_equal(a_to_b(p, out, &outlen), DATAPLANE_OK);
	assert_int_equal(dataplane_tunnel_switch(p->ta), -ENOENT);
	assert_int_equal(dataplane_tunnel_install(p->ta, 2, k1, k2), -EINVAL);
	assert_int_equal(dataplane_tunnel_install(p->ta, 1, k1, k2), 0);
	assert_int_equal(dataplane_tunnel_install(p->ta, 2, k1, k2), -EBUSY);
	assert_int_equal(dataplane_tunnel_install(p->tb, 1, k1, k2), 0);

	/* Installed but not switched: A still sends under phase 0. */
	assert_int_equal(a_to_b(p, out, &outlen), DATAPLANE_OK);
	assert_int_equal(out[2], 0);
	/* A packet of the old phase, delivered late. */
	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	latelen = seal(p->ta, inner, len, late);

	/* B (responder) switches first; A receives phase 1 already. */
	assert_int_equal(dataplane_tunnel_switch(p->tb), 0);
	len = ip4_packet(inner, B_VIP4, A_VIP4, PAYLOAD);
	outlen = seal(p->tb, inner, len, out);
	assert_int_equal(out[2], 1);
	assert_true(load_be64(out + 8) == 1);
	assert_int_equal(dataplane_open(p->a, out, outlen, NULL, &rx),
	    DATAPLANE_OK);

	/* A switches: its counter restarts, B's new window takes it. */
	assert_int_equal(dataplane_tunnel_switch(p->ta), 0);
	assert_int_equal(a_to_b(p, out, &outlen), DATAPLANE_OK);
	assert_int_equal(out[2], 1);
	assert_true(load_be64(out + 8) == 1);

	/* The old key still opens until retired, then the phase is gone. */
	memcpy(out, late, latelen);
	assert_int_equal(dataplane_open(p->b, out, latelen, NULL, &rx),
	    DATAPLANE_OK);
	dataplane_tunnel_retire(p->tb);
	memcpy(out, late, latelen);
	assert_int_equal(dataplane_open(p->b, out, latelen, NULL, &rx),
	    DATAPLANE_DROP_NO_KEY);

	/* The next rekey reuses phase 0 with yet another key. */
	assert_int_equal(dataplane_tunnel_install(p->ta, 2, k2, k1), 0);
	assert_int_equal(dataplane_tunnel_install(p->tb, 2, k2, k1), 0);
	assert_int_equal(dataplane_tunnel_switch(p->ta), 0);
	assert_int_equal(a_to_b(p, out, &outlen), DATAPLANE_OK);
	assert_int_equal(out[2], 0);
	/* Epoch 0's packet has phase 0 too; epoch 2's key refuses it. */
	assert_int_equal(dataplane_open(p->b, late, latelen, NULL, &rx),
	    DATAPLANE_DROP_AUTH);
}

/*
 * After a switch the old send key stays for dataplane_seal_old() (an
 * answer the peer must still open with the old key), with its own
 * counter, until the retire or the next install; the rekey limits are
 * per tunnel.
 */
static void
test_old_send_key(void **state)
{
	struct pair *p = *state;
	uint8_t k1[PROTO_KEY_LEN], k2[PROTO_KEY_LEN], inner[PKT_MAX];
	uint8_t out[PKT_MAX];
	struct dataplane_rx rx;
	size_t len, outlen;

	memset(k1, 0x5a, sizeof(k1));
	memset(k2, 0xa5, sizeof(k2));
	len = ip4_packet(inner, B_VIP4, A_VIP4, PAYLOAD);
	assert_int_equal(dataplane_seal_old(p->tb, PROTO_MSG_DATA, inner, len,
	    out, sizeof(out), &outlen), -ENOENT);
	assert_false(dataplane_tunnel_has_old_key(p->tb));
	(void)seal(p->tb, inner, len, out);
	(void)seal(p->tb, inner, len, out);
	assert_int_equal(dataplane_tunnel_install(p->tb, 1, k1, k2), 0);
	assert_int_equal(dataplane_tunnel_switch(p->tb), 0);
	assert_true(dataplane_tunnel_has_old_key(p->tb));
	assert_int_equal(dataplane_tunnel_epoch(p->tb), 1);
	assert_int_equal(dataplane_tunnel_tx_phase(p->tb), 1);
	/* A has not installed epoch 1: only the old key opens at A. */
	assert_int_equal(dataplane_seal_old(p->tb, PROTO_MSG_DATA, inner, len,
	    out, sizeof(out), &outlen), 0);
	assert_int_equal(out[2], 0);
	assert_true(load_be64(out + 8) == 3);
	assert_int_equal(dataplane_open(p->a, out, outlen, NULL, &rx),
	    DATAPLANE_OK);
	outlen = seal(p->tb, inner, len, out);
	assert_int_equal(out[2], 1);
	assert_int_not_equal(dataplane_open(p->a, out, outlen, NULL, &rx),
	    DATAPLANE_OK);
	dataplane_tunnel_retire(p->tb);
	assert_false(dataplane_tunnel_has_old_key(p->tb));
	assert_int_equal(dataplane_seal_old(p->tb, PROTO_MSG_DATA, inner, len,
	    out, sizeof(out), &outlen), -ENOENT);

	/* Limits: 0 means the protocol's, above them is refused. */
	assert_int_equal(dataplane_tunnel_set_rekey(p->ta,
	    PROTO_TIMER_REKEY + 1, 0), -EINVAL);
	assert_int_equal(dataplane_tunnel_set_rekey(p->ta, 0, 3), 0);
	assert_false(dataplane_tunnel_needs_rekey(p->ta));
	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	(void)seal(p->ta, inner, len, out);
	(void)seal(p->ta, inner, len, out);
	assert_false(dataplane_tunnel_needs_rekey(p->ta));
	(void)seal(p->ta, inner, len, out);
	assert_true(dataplane_tunnel_needs_rekey(p->ta));
}

static void
test_set_peer(void **state)
{
	struct pair *p = *state;
	struct sockaddr_in6 sin6;
	const struct sockaddr_in6 *got;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(40000);
	pton(AF_INET6, "2001:db8::7", (uint8_t *)&sin6.sin6_addr);
	dataplane_tunnel_set_peer(p->ta, (struct sockaddr *)&sin6);
	got = (const struct sockaddr_in6 *)dataplane_tunnel_peer(p->ta);
	assert_int_equal(got->sin6_family, AF_INET6);
	assert_int_equal(ntohs(got->sin6_port), 40000);
	assert_memory_equal(&got->sin6_addr, &sin6.sin6_addr, 16);
}

static void
test_timers(void **state)
{
	struct pair *p = *state;
	const uint64_t t0 = 1000000;
	uint64_t now;

	dataplane_timers_start(p->ta, t0, true);	/* initiator, NAT */
	dataplane_timers_start(p->tb, t0, false);	/* responder */
	assert_int_equal(dataplane_timers_due(p->ta, t0), DATAPLANE_TIMER_NONE);
	assert_true(dataplane_timers_next(p->ta, t0) ==
	    t0 + PROTO_TIMER_TUNNEL_KEEPALIVE);
	/* No keep-alive without NAT: the next event is the idle limit. */
	assert_true(dataplane_timers_next(p->tb, t0) ==
	    t0 + PROTO_TIMER_TUNNEL_IDLE);

	now = t0 + PROTO_TIMER_TUNNEL_KEEPALIVE - 1;
	assert_int_equal(dataplane_timers_due(p->ta, now),
	    DATAPLANE_TIMER_NONE);
	now++;
	assert_int_equal(dataplane_timers_due(p->ta, now),
	    DATAPLANE_TIMER_KEEPALIVE);
	dataplane_timers_data_sent(p->ta, now);
	assert_int_equal(dataplane_timers_due(p->ta, now + 1000),
	    DATAPLANE_TIMER_NONE);

	/* Received traffic holds off the idle close. */
	now = t0 + PROTO_TIMER_TUNNEL_IDLE - 1;
	dataplane_timers_data_received(p->tb, now);
	assert_int_equal(dataplane_timers_due(p->tb, now + 1),
	    DATAPLANE_TIMER_NONE);
	now += PROTO_TIMER_TUNNEL_IDLE;
	assert_int_equal(dataplane_timers_due(p->tb, now),
	    DATAPLANE_TIMER_IDLE);

	/* Rekey after an hour: initiator first, once; responder 10 s later. */
	dataplane_timers_start(p->ta, t0, false);
	dataplane_timers_start(p->tb, t0, false);
	now = t0 + PROTO_TIMER_REKEY;
	dataplane_timers_data_received(p->ta, now);
	dataplane_timers_data_received(p->tb, now);
	assert_int_equal(dataplane_timers_due(p->ta, now),
	    DATAPLANE_TIMER_REKEY);
	assert_int_equal(dataplane_timers_due(p->ta, now + 1),
	    DATAPLANE_TIMER_NONE);
	assert_int_equal(dataplane_timers_due(p->tb, now),
	    DATAPLANE_TIMER_NONE);
	assert_true(dataplane_timers_next(p->tb, now) ==
	    now + PROTO_TIMER_OLD_KEY);
	assert_int_equal(dataplane_timers_due(p->tb, now + PROTO_TIMER_OLD_KEY),
	    DATAPLANE_TIMER_REKEY);

	/* After the switch: the old key retires 10 s later, once. */
	dataplane_timers_key_switched(p->ta, now);
	assert_true(dataplane_timers_next(p->ta, now) ==
	    now + PROTO_TIMER_OLD_KEY);
	assert_int_equal(dataplane_timers_due(p->ta, now + PROTO_TIMER_OLD_KEY),
	    DATAPLANE_TIMER_RETIRE);
	assert_int_equal(dataplane_timers_due(p->ta,
	    now + PROTO_TIMER_OLD_KEY + 1), DATAPLANE_TIMER_NONE);
	/* And the new key's hour starts at the switch. */
	assert_int_equal(dataplane_timers_due(p->ta,
	    now + PROTO_TIMER_REKEY - 1) & DATAPLANE_TIMER_REKEY, 0);
}

/*
 * The I/O half without root: a SOCK_DGRAM socketpair stands in for each
 * TUN fd (one packet per read and write, as a TUN device), UDP sockets on
 * loopback carry the outer packets.  A socketpair queues at most
 * net.unix.max_dgram_qlen (10) datagrams, so bursts here are 8 packets:
 * several per recvmmsg and per GSO send, not full batches (tun.sh runs
 * those through a real TUN device).
 */
struct io_side {
	struct dataplane_io	 io;
	int			 udp, tun[2];	/* [0] the io's, [1] ours */
	struct sockaddr_storage	 addr;
	int			 signals, controls, misses, closed;
	uint8_t			 last[PKT_MAX];
	size_t			 lastlen;
};

static void
io_on_signal(struct dataplane_io *io, const uint8_t *p, size_t len,
    const struct sockaddr *from)
{
	struct io_side *s = io->arg;

	s->signals++;
	assert_non_null(from);
	memcpy(s->last, p, len);
	s->lastlen = len;
}

static void
io_on_control(struct dataplane_io *io, struct dataplane_tunnel *t,
    const uint8_t *p, size_t len, const struct sockaddr *from)
{
	struct io_side *s = io->arg;

	s->controls++;
	assert_non_null(t);
	memcpy(s->last, p, len);
	s->lastlen = len;
}

static void
io_on_miss(struct dataplane_io *io, const uint8_t *p, size_t len)
{
	struct io_side *s = io->arg;

	s->misses++;
}

static void
io_on_close(struct dataplane_io *io)
{
	struct io_side *s = io->arg;

	s->closed++;
}

static void
io_side_open(struct io_side *s)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(s->addr);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(loop_udp_socket((struct sockaddr *)&sin, 0, &s->udp),
	    0);
	assert_int_equal(getsockname(s->udp, (struct sockaddr *)&s->addr,
	    &len), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, s->tun), 0);
	s->io.arg = s;
	s->io.on_signal = io_on_signal;
	s->io.on_control = io_on_control;
	s->io.on_miss = io_on_miss;
}

/* Runs the loop until the side's test end has a packet (or gives up). */
static ssize_t
io_recv(uv_loop_t *loop, struct io_side *s, uint8_t *buf, size_t cap)
{
	ssize_t r;
	int i;

	for (i = 0; i < 2000; i++) {
		if ((r = recv(s->tun[1], buf, cap, MSG_DONTWAIT)) >= 0)
			return r;
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(500);
	}
	return -1;
}

static void
io_spin(uv_loop_t *loop, int *counter, int want)
{
	int i;

	for (i = 0; i < 2000 && *counter < want; i++) {
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(500);
	}
	assert_int_equal(*counter, want);
}

enum {
	IO_BURST = 8,
	IO_ROUNDS = 12,
};
#define IO_SIZE(i)	((i) % 4 == 3 ? 500 - (size_t)(i) : 1000)

static void
io_burst(uv_loop_t *loop, struct io_side *a, struct io_side *b, int n)
{
	uint8_t inner[PKT_MAX], got[PKT_MAX];
	ssize_t r;
	size_t len;
	int i;

	/* Runs of equal sizes ended by a shorter one: GSO coalesces them. */
	for (i = 0; i < n; i++) {
		len = ip4_packet(inner, A_VIP4, B_VIP4, IO_SIZE(i));
		inner[IPV4_HEADER_MIN] = (uint8_t)i;
		assert_int_equal(write(a->tun[1], inner, len), (ssize_t)len);
	}
	for (i = 0; i < n; i++) {
		len = ip4_packet(inner, A_VIP4, B_VIP4, IO_SIZE(i));
		inner[IPV4_HEADER_MIN] = (uint8_t)i;
		r = io_recv(loop, b, got, sizeof(got));
		assert_int_equal(r, (ssize_t)len);
		assert_memory_equal(got, inner, len);
	}
}

static void
test_io(void **state)
{
	struct pair *p = *state;
	struct io_side *a, *b;
	uv_loop_t loop;
	uint8_t inner[PKT_MAX], got[PKT_MAX];
	const uint8_t ctl[] = "keepalive";
	struct dataplane_tunnel_conf tc;
	struct dataplane_stats sum;
	size_t len;
	uint8_t sig[40];
	int i;

	a = calloc(1, sizeof(*a));
	b = calloc(1, sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(uv_loop_init(&loop), 0);
	io_side_open(a);
	io_side_open(b);
	dataplane_tunnel_set_peer(p->ta, (struct sockaddr *)&b->addr);
	dataplane_tunnel_set_peer(p->tb, (struct sockaddr *)&a->addr);
	assert_int_equal(dataplane_io_start(&a->io, &loop, p->a, a->udp, -1,
	    a->tun[0]), 0);
	assert_int_equal(dataplane_io_start(&b->io, &loop, p->b, b->udp, -1,
	    b->tun[0]), 0);

	/* One packet each way, then bursts larger than a batch. */
	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	assert_int_equal(write(a->tun[1], inner, len), (ssize_t)len);
	assert_int_equal(io_recv(&loop, b, got, sizeof(got)), (ssize_t)len);
	assert_memory_equal(got, inner, len);
	len = ip6_packet(inner, B_VIP6, A_VIP6, PAYLOAD);
	assert_int_equal(write(b->tun[1], inner, len), (ssize_t)len);
	assert_int_equal(io_recv(&loop, a, got, sizeof(got)), (ssize_t)len);
	assert_memory_equal(got, inner, len);
	for (i = 0; i < IO_ROUNDS; i++)
		io_burst(&loop, a, b, IO_BURST);
	assert_int_equal(a->io.gso_sends, 0);
	/* The same through UDP GSO sends. */
	assert_int_equal(dataplane_io_gso(&a->io, true), 0);
	for (i = 0; i < IO_ROUNDS; i++)
		io_burst(&loop, a, b, IO_BURST);
	assert_true(a->io.gso_sends > 0);
	/* And received coalesced (UDP GRO on loopback), split back here. */
	assert_int_equal(dataplane_io_gro(&b->io, true), 0);
	for (i = 0; i < IO_ROUNDS; i++)
		io_burst(&loop, a, b, IO_BURST);
	assert_true(b->io.gro_receives > 0);

	/* A destination without a tunnel: the miss callback, counted. */
	len = ip4_packet(inner, A_VIP4, OTHER4, PAYLOAD);
	assert_int_equal(write(a->tun[1], inner, len), (ssize_t)len);
	io_spin(&loop, &a->misses, 1);
	assert_int_equal(drops(dataplane_table_stats(p->a),
	    DATAPLANE_DROP_NO_TUNNEL), 1);

	/*
	 * A peer address the kernel refuses (port 0: EINVAL) in the same
	 * sendmmsg batch as a good one: only its packet is dropped, counted.
	 */
	tunnel_conf(&tc, p->alg, DATAPLANE_ROLE_INITIATOR, 0x33, 0x44,
	    "198.18.3.1", "fd6e:746d:6f62:3::1");
	((struct sockaddr_in *)&tc.peer_addr)->sin_port = 0;
	assert_int_equal(dataplane_tunnel_add(p->a, &tc, NULL), 0);
	len = ip4_packet(inner, A_VIP4, "198.18.3.1", PAYLOAD);
	assert_int_equal(write(a->tun[1], inner, len), (ssize_t)len);
	len = ip4_packet(inner, A_VIP4, B_VIP4, PAYLOAD);
	assert_int_equal(write(a->tun[1], inner, len), (ssize_t)len);
	assert_int_equal(io_recv(&loop, b, got, sizeof(got)), (ssize_t)len);
	assert_memory_equal(got, inner, len);
	assert_int_equal(drops(dataplane_table_stats(p->a),
	    DATAPLANE_DROP_TX), 1);

	/* A common-header datagram on the tunnel port goes to on_signal. */
	memset(sig, 0, sizeof(sig));
	sig[0] = PROTO_VERSION_1;
	sig[1] = PROTO_MSG_TUNNEL_REQUEST;
	assert_int_equal(sendto(a->udp, sig, sizeof(sig), 0,
	    (struct sockaddr *)&b->addr, sizeof(struct sockaddr_in)),
	    (ssize_t)sizeof(sig));
	io_spin(&loop, &b->signals, 1);
	assert_int_equal(b->lastlen, sizeof(sig));

	/* An in-tunnel message reaches on_control as plaintext. */
	assert_int_equal(dataplane_io_send_control(&a->io, p->ta, ctl,
	    sizeof(ctl)), 0);
	io_spin(&loop, &b->controls, 1);
	assert_int_equal(b->lastlen, sizeof(ctl));
	assert_memory_equal(b->last, ctl, sizeof(ctl));

	dataplane_stats_sum(p->b, &sum);
	assert_int_equal(sum.packets_in, 1 + 3 * IO_ROUNDS * IO_BURST + 2);
	assert_int_equal(sum.drops[DATAPLANE_DROP_AUTH] +
	    sum.drops[DATAPLANE_DROP_MALFORMED] +
	    sum.drops[DATAPLANE_DROP_REPLAY], 0);
	assert_int_equal(a->io.tun_write_errors + b->io.tun_write_errors, 0);

	dataplane_io_close(&a->io, io_on_close);
	dataplane_io_close(&b->io, io_on_close);
	while (uv_run(&loop, UV_RUN_NOWAIT) != 0)
		;
	assert_int_equal(a->closed, 1);
	assert_int_equal(b->closed, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
	close(a->udp);
	close(b->udp);
	close(a->tun[0]);
	close(a->tun[1]);
	close(b->tun[0]);
	close(b->tun[1]);
	free(a);
	free(b);
}

#define PAIR_TEST(f) \
	cmocka_unit_test_setup_teardown(f, setup_gcm, teardown), \
	cmocka_unit_test_setup_teardown(f, setup_chacha, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PAIR_TEST(test_round_trip_v4),
		PAIR_TEST(test_round_trip_v6),
		PAIR_TEST(test_seal_in_place),
		cmocka_unit_test_setup_teardown(test_counter_increments,
		    setup_gcm, teardown),
		PAIR_TEST(test_replay_dropped),
		PAIR_TEST(test_forged_dropped),
		PAIR_TEST(test_wrong_key_dropped),
		cmocka_unit_test_setup_teardown(test_inner_source_spoofed,
		    setup_gcm, teardown),
		cmocka_unit_test_setup_teardown(test_inner_destination_not_ours,
		    setup_gcm, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_receiver_dropped,
		    setup_gcm, teardown),
		cmocka_unit_test_setup_teardown(test_key_phase_without_key,
		    setup_gcm, teardown),
		PAIR_TEST(test_truncated_dropped),
		cmocka_unit_test_setup_teardown(test_inner_truncated,
		    setup_chacha, teardown),
		cmocka_unit_test_setup_teardown(test_padding_trimmed,
		    setup_gcm, teardown),
		cmocka_unit_test_setup_teardown(test_control_packet,
		    setup_gcm, teardown),
		cmocka_unit_test_setup_teardown(test_seal_limits,
		    setup_gcm, teardown),
		cmocka_unit_test_setup_teardown(test_route,
		    setup_gcm, teardown),
		cmocka_unit_test_setup_teardown(test_table,
		    setup_gcm, teardown),
		PAIR_TEST(test_rekey),
		PAIR_TEST(test_old_send_key),
		cmocka_unit_test_setup_teardown(test_timers,
		    setup_gcm, teardown),
		cmocka_unit_test_setup_teardown(test_set_peer,
		    setup_gcm, teardown),
		PAIR_TEST(test_io),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
