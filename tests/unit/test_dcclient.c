/* test_dcclient.c -- the node's clients: DC registration (against PROTOCOL.md 7 and dc/signal) and the AS enrollment messages. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "aead.h"
#include "buf.h"
#include "crypto.h"
#include "cert.h"
#include "dcclient.h"
#include "enroll.h"
#include "msg.h"
#include "proto.h"
#include "rand.h"
#include "signal.h"
#include "store.h"
#include "tls.h"
#include "ticket.h"

#include "../testca.h"

/*
 * The DC side is spelled out from the protocol text, not from dcclient.c:
 * it derives the session keys with HKDF and the labels of PROTOCOL.md 7
 * step 3, so a client deriving them any other way fails these tests.
 */
struct fakedc {
	uint8_t		 k_nd[PROTO_KEY_LEN];
	uint8_t		 nonce_n[PROTO_RANDOM_LEN];
	uint8_t		 cookie[PROTO_RANDOM_LEN];
	uint8_t		 sid[PROTO_ID_LEN];
	struct aead	*rx;		/* k_N->DC */
	struct aead	*tx;		/* k_DC->N */
	uint64_t	 seq;
	struct msg_addr	 observed;
};

struct fixture {
	struct ntm_rng	*rng;
	struct dcclient	 dc;
	struct fakedc	 fdc;
	uint8_t		 ticket[64];
};

static const uint64_t T0 = 1700000000000ULL;	/* ms; ticket valid 1 day */

static int
setup(void **state)
{
	struct fixture *f;
	struct msg_addr la;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->rng = rng_seeded_new("dcclient", 8);
	assert_non_null(f->rng);
	memset(f->ticket, 0x5a, sizeof(f->ticket));
	memset(f->fdc.k_nd, 0x11, sizeof(f->fdc.k_nd));
	dcclient_init(&f->dc, f->rng);
	assert_int_equal(dcclient_set_ticket(&f->dc, f->ticket,
	    sizeof(f->ticket), f->fdc.k_nd, T0 / 1000 + 86400), 0);
	memset(&la, 0, sizeof(la));
	la.family = PROTO_FAMILY_IPV4;
	la.port = PROTO_PORT_TUNNEL;
	memcpy(la.addr, "\xc0\xa8\x01\x0a", 4);
	assert_int_equal(dcclient_set_addrs(&f->dc, &la, 1, T0), 0);
	f->fdc.observed = la;
	memcpy(f->fdc.observed.addr, "\xcb\x00\x71\x05", 4);
	f->fdc.observed.port = 40000;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	dcclient_clear(&f->dc);
	aead_free(f->fdc.rx);
	aead_free(f->fdc.tx);
	rng_free(f->rng);
	free(f);
	return 0;
}

/* Pops the next action, which must be of the given type. */
static void
expect_action(struct dcclient *dc, enum dcclient_action_type type,
    struct dcclient_action *a)
{
	assert_true(dcclient_poll(dc, a));
	assert_int_equal(a->type, type);
}

static void
expect_none(struct dcclient *dc)
{
	struct dcclient_action a;

	assert_false(dcclient_poll(dc, &a));
}

/* DC: reads a REG_HELLO and answers a REG_CHALLENGE (status OK). */
static void
dc_challenge(struct fixture *f, const struct dcclient_action *hello,
    uint8_t *out, size_t *outlen)
{
	const struct msg_attr *t, *n;
	struct msg m;
	uint8_t salt[64], prk[32], k1[32], k2[32];

	assert_int_equal(msg_decode(hello->data, hello->len, &m), 0);
	assert_int_equal(m.hdr.type, PROTO_MSG_REG_HELLO);
	assert_false(m.hdr.flags & PROTO_F_SEALED);
	assert_true(m.hdr.seq == 0);
	assert_memory_equal(m.hdr.id, (uint8_t[PROTO_ID_LEN]){ 0 },
	    PROTO_ID_LEN);
	assert_non_null(t = msg_attr_find(&m, PROTO_ATTR_TICKET));
	assert_int_equal(t->len, sizeof(f->ticket));
	assert_memory_equal(t->val, f->ticket, sizeof(f->ticket));
	assert_non_null(n = msg_attr_find(&m, PROTO_ATTR_NONCE));
	memcpy(f->fdc.nonce_n, n->val, PROTO_RANDOM_LEN);

	memset(f->fdc.cookie, 0xc0, sizeof(f->fdc.cookie));
	f->fdc.cookie[0]++;
	memset(f->fdc.sid, 0x51, sizeof(f->fdc.sid));
	f->fdc.sid[15]++;
	memcpy(salt, f->fdc.nonce_n, 32);
	memcpy(salt + 32, f->fdc.cookie, 32);
	crypto_hkdf_extract(prk, salt, 64, f->fdc.k_nd, 32);
	assert_int_equal(crypto_hkdf_expand(k1, 32, prk, 32,
	    "ntmobile v1 node to dc", 22), 0);
	assert_int_equal(crypto_hkdf_expand(k2, 32, prk, 32,
	    "ntmobile v1 dc to node", 22), 0);
	aead_free(f->fdc.rx);
	aead_free(f->fdc.tx);
	assert_int_equal(aead_new(&f->fdc.rx, AEAD_ALG_AES256GCM, k1, 32), 0);
	assert_int_equal(aead_new(&f->fdc.tx, AEAD_ALG_AES256GCM, k2, 32), 0);
	f->fdc.seq = 0;

	msg_init(&m, PROTO_MSG_REG_CHALLENGE);
	m.hdr.txid = load_be32(hello->data + 8);
	memcpy(m.hdr.id, f->fdc.sid, PROTO_ID_LEN);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_COOKIE, f->fdc.cookie,
	    32), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_NONCE, f->fdc.nonce_n,
	    32), 0);
	assert_int_equal(msg_encode(&m, out, PROTO_DATAGRAM_MAX, outlen), 0);
	/* No amplification: the answer is not longer than the hello. */
	assert_true(*outlen <= hello->len);
}

/* DC: opens a sealed message from the node in place and decodes it. */
static void
dc_open(struct fixture *f, struct dcclient_action *a, struct msg *m)
{
	struct msg_header h;
	struct rbuf r;
	uint8_t nonce[12];

	rbuf_init(&r, a->data, a->len);
	assert_int_equal(msg_header_decode(&r, &h), 0);
	assert_true(h.flags & PROTO_F_SEALED);
	assert_memory_equal(h.id, f->fdc.sid, PROTO_ID_LEN);
	msg_nonce(&h, nonce);
	assert_int_equal(aead_open(f->fdc.rx, nonce, a->data, PROTO_HEADER_LEN,
	    a->data + PROTO_HEADER_LEN, h.length, a->data + PROTO_HEADER_LEN,
	    h.length), 0);
	assert_int_equal(msg_decode(a->data, a->len, m), 0);
}

/* DC: seals an answer (m built by the caller, txid set) under k_DC->N. */
static void
dc_seal(struct fixture *f, struct msg *m, uint8_t *out, size_t *outlen)
{
	uint8_t nonce[12];

	memcpy(m->hdr.id, f->fdc.sid, PROTO_ID_LEN);
	m->hdr.seq = ++f->fdc.seq;
	assert_int_equal(msg_encode(m, out, PROTO_DATAGRAM_MAX, outlen), 0);
	msg_nonce(&m->hdr, nonce);
	assert_int_equal(aead_seal(f->fdc.tx, nonce, out, PROTO_HEADER_LEN,
	    out + PROTO_HEADER_LEN, *outlen - PROTO_HEADER_LEN - PROTO_TAG_LEN,
	    out + PROTO_HEADER_LEN, *outlen - PROTO_HEADER_LEN), 0);
}

static void
dc_ack(struct fixture *f, uint32_t txid, uint32_t keepalive, uint8_t *out,
    size_t *outlen)
{
	struct msg m;

	msg_init(&m, PROTO_MSG_REGISTRATION_ACK);
	m.hdr.txid = txid;
	assert_int_equal(msg_add_addr(&m, PROTO_ATTR_OBSERVED_ADDR,
	    &f->fdc.observed), 0);
	assert_int_equal(msg_add_u8(&m, PROTO_ATTR_NAT, PROTO_NAT_BEHIND), 0);
	assert_int_equal(msg_add_u32(&m, PROTO_ATTR_LIFETIME, 120), 0);
	assert_int_equal(msg_add_u32(&m, PROTO_ATTR_KEEPALIVE, keepalive), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_FQDN,
	    "alice.dc1.ntm.test", 18), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_VIP4,
	    "\xc6\x12\x01\x0a", 4), 0);
	dc_seal(f, &m, out, outlen);
}

/* Runs a whole registration at `now`; leaves the client REGISTERED. */
static void
register_at(struct fixture *f, uint64_t now)
{
	struct dcclient_action a;
	uint8_t pkt[PROTO_DATAGRAM_MAX];
	struct msg m;
	size_t len;

	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	dc_challenge(f, &a, pkt, &len);
	assert_int_equal(dcclient_input(&f->dc, pkt, len, now), 0);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	dc_open(f, &a, &m);
	assert_int_equal(m.hdr.type, PROTO_MSG_REGISTRATION);
	dc_ack(f, m.hdr.txid, 25, pkt, &len);
	assert_int_equal(dcclient_input(&f->dc, pkt, len, now), 0);
	expect_action(&f->dc, DCCLIENT_ACT_REGISTERED, &a);
	assert_true(dcclient_registered(&f->dc));
}

static void
test_cookie_round_trip(void **state)
{
	struct fixture *f = *state;
	struct dcclient_action a;
	uint8_t pkt[PROTO_DATAGRAM_MAX], ack[PROTO_DATAGRAM_MAX];
	const struct msg_attr *la;
	struct msg_addr addr;
	struct msg m;
	size_t len, acklen;

	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	assert_int_equal(f->dc.state, DCCLIENT_HELLO);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	dc_challenge(f, &a, pkt, &len);
	expect_none(&f->dc);

	assert_int_equal(dcclient_input(&f->dc, pkt, len, T0 + 10), 0);
	assert_int_equal(f->dc.state, DCCLIENT_REGISTERING);
	/* The same challenge again is not for a waiting REG_HELLO. */
	assert_int_equal(dcclient_input(&f->dc, pkt, len, T0 + 11), -ENOMSG);

	/* REGISTRATION: under k_N->DC, id = sid, sequence 1, addresses. */
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	dc_open(f, &a, &m);
	assert_int_equal(m.hdr.type, PROTO_MSG_REGISTRATION);
	assert_true(m.hdr.seq == 1);
	assert_non_null(la = msg_attr_find(&m, PROTO_ATTR_LOCAL_ADDR));
	assert_int_equal(msg_addr_parse(la, &addr), 0);
	assert_int_equal(addr.port, PROTO_PORT_TUNNEL);
	assert_memory_equal(addr.addr, "\xc0\xa8\x01\x0a", 4);

	dc_ack(f, m.hdr.txid, 25, ack, &acklen);
	/* One flipped byte of the tag: dropped, still registering. */
	ack[acklen - 1] ^= 1;
	assert_int_equal(dcclient_input(&f->dc, ack, acklen, T0 + 20),
	    -EBADMSG);
	ack[acklen - 1] ^= 1;
	assert_int_equal(f->dc.state, DCCLIENT_REGISTERING);
	assert_int_equal(dcclient_input(&f->dc, ack, acklen, T0 + 20), 0);
	expect_action(&f->dc, DCCLIENT_ACT_REGISTERED, &a);
	assert_true(dcclient_registered(&f->dc));
	assert_int_equal(f->dc.reg.nat, PROTO_NAT_BEHIND);
	assert_int_equal(f->dc.reg.lifetime_s, 120);
	assert_int_equal(f->dc.reg.keepalive_s, 25);
	assert_string_equal(f->dc.reg.fqdn, "alice.dc1.ntm.test");
	assert_true(f->dc.reg.has_vip4);
	assert_int_equal(f->dc.reg.observed.port, 40000);
	assert_int_equal(f->dc.stats.registrations, 1);
	/* The same ACK again is a replay. */
	assert_int_equal(dcclient_input(&f->dc, ack, acklen, T0 + 21),
	    -EALREADY);
	assert_int_equal(f->dc.stats.dropped, 3);
	expect_none(&f->dc);
}

static void
test_keys_follow_protocol(void **state)
{
	uint8_t knd[32], nn[32], ck[32], a[32], b[32], salt[64], prk[32];
	uint8_t ea[32], eb[32];

	(void)state;
	memset(knd, 1, 32);
	memset(nn, 2, 32);
	memset(ck, 3, 32);
	assert_int_equal(dcclient_derive(knd, nn, ck, a, b), 0);
	memcpy(salt, nn, 32);
	memcpy(salt + 32, ck, 32);
	crypto_hkdf_extract(prk, salt, 64, knd, 32);
	crypto_hkdf_expand(ea, 32, prk, 32, "ntmobile v1 node to dc", 22);
	crypto_hkdf_expand(eb, 32, prk, 32, "ntmobile v1 dc to node", 22);
	assert_memory_equal(a, ea, 32);
	assert_memory_equal(b, eb, 32);
	/* One key per direction, and a new cookie makes new keys. */
	assert_memory_not_equal(a, b, 32);
	ck[0] ^= 1;
	assert_int_equal(dcclient_derive(knd, nn, ck, ea, eb), 0);
	assert_memory_not_equal(a, ea, 32);
}

static void
test_challenge_with_wrong_nonce(void **state)
{
	struct fixture *f = *state;
	struct dcclient_action a;
	uint8_t pkt[PROTO_DATAGRAM_MAX];
	size_t len;

	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	dc_challenge(f, &a, pkt, &len);
	/* The nonce echo is the last attribute's value, at the end. */
	pkt[len - 1] ^= 0x80;
	assert_int_equal(dcclient_input(&f->dc, pkt, len, T0), -ENOMSG);
	assert_int_equal(f->dc.state, DCCLIENT_HELLO);
	expect_none(&f->dc);
}

static void
test_retransmission_schedule(void **state)
{
	struct fixture *f = *state;
	struct dcclient_action a, first;
	static const uint64_t at[] = { 250, 750, 1750, 3750 };
	uint8_t nonce[32];
	size_t i;

	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &first);
	memcpy(nonce, f->dc.nonce_n, 32);
	for (i = 0; i < 4; i++) {
		assert_true(dcclient_next_timer(&f->dc) == T0 + at[i]);
		dcclient_timer(&f->dc, T0 + at[i] - 1);
		expect_none(&f->dc);
		dcclient_timer(&f->dc, T0 + at[i]);
		expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
		/* Byte for byte the first send. */
		assert_int_equal(a.len, first.len);
		assert_memory_equal(a.data, first.data, a.len);
	}
	/* Five sends in all; the request fails 4 s after the last. */
	assert_true(dcclient_next_timer(&f->dc) == T0 + 7750);
	dcclient_timer(&f->dc, T0 + 7749);
	expect_none(&f->dc);
	dcclient_timer(&f->dc, T0 + 7750);
	expect_action(&f->dc, DCCLIENT_ACT_LOST, &a);
	assert_int_equal(a.status, PROTO_STATUS_UNAVAILABLE);
	assert_int_equal(f->dc.state, DCCLIENT_BACKOFF);
	assert_int_equal(f->dc.stats.retransmits, 4);
	assert_int_equal(f->dc.stats.failures, 1);
	/* Back off 1 s, then a new REG_HELLO with a new nonce. */
	assert_true(dcclient_next_timer(&f->dc) == T0 + 8750);
	dcclient_timer(&f->dc, T0 + 8750);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	assert_int_equal(a.data[1], PROTO_MSG_REG_HELLO);
	assert_memory_not_equal(f->dc.nonce_n, nonce, 32);
	/* A second failure doubles the back-off. */
	for (i = 0; i < 4; i++) {
		dcclient_timer(&f->dc, T0 + 8750 + at[i]);
		expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	}
	dcclient_timer(&f->dc, T0 + 8750 + 7750);
	expect_action(&f->dc, DCCLIENT_ACT_LOST, &a);
	assert_true(dcclient_next_timer(&f->dc) == T0 + 8750 + 7750 + 2000);
}

static void
test_keepalive_schedule(void **state)
{
	struct fixture *f = *state;
	struct dcclient_action a;
	uint8_t pkt[PROTO_DATAGRAM_MAX];
	struct msg m, ka;
	size_t len;

	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	register_at(f, T0);
	assert_true(dcclient_next_timer(&f->dc) == T0 + 25000);
	dcclient_timer(&f->dc, T0 + 24999);
	expect_none(&f->dc);
	dcclient_timer(&f->dc, T0 + 25000);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	dc_open(f, &a, &m);
	assert_int_equal(m.hdr.type, PROTO_MSG_KEEPALIVE);
	assert_true(m.hdr.seq == 2);
	assert_int_equal(m.nattr, 0);
	/* It is retransmitted like any request while unanswered. */
	dcclient_timer(&f->dc, T0 + 25250);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	assert_int_equal(a.data[1], PROTO_MSG_KEEPALIVE);

	msg_init(&ka, PROTO_MSG_KEEPALIVE_ACK);
	ka.hdr.txid = m.hdr.txid;
	assert_int_equal(msg_add_addr(&ka, PROTO_ATTR_OBSERVED_ADDR,
	    &f->fdc.observed), 0);
	dc_seal(f, &ka, pkt, &len);
	assert_int_equal(dcclient_input(&f->dc, pkt, len, T0 + 25300), 0);
	expect_none(&f->dc);
	assert_int_equal(f->dc.stats.keepalives, 1);
	/* The next one 25 s after the answer, not after the first send. */
	assert_true(dcclient_next_timer(&f->dc) == T0 + 50300);
	dcclient_timer(&f->dc, T0 + 25550);
	expect_none(&f->dc);

	/* The NAT rebinds: the DC sees another port, the node re-registers. */
	dcclient_timer(&f->dc, T0 + 50300);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	dc_open(f, &a, &m);
	msg_init(&ka, PROTO_MSG_KEEPALIVE_ACK);
	ka.hdr.txid = m.hdr.txid;
	f->fdc.observed.port++;
	assert_int_equal(msg_add_addr(&ka, PROTO_ATTR_OBSERVED_ADDR,
	    &f->fdc.observed), 0);
	dc_seal(f, &ka, pkt, &len);
	assert_int_equal(dcclient_input(&f->dc, pkt, len, T0 + 50400), 0);
	expect_action(&f->dc, DCCLIENT_ACT_LOST, &a);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	assert_int_equal(a.data[1], PROTO_MSG_REG_HELLO);
	assert_int_equal(f->dc.state, DCCLIENT_HELLO);
}

static void
test_reregistration_after_failed_keepalive(void **state)
{
	struct fixture *f = *state;
	struct dcclient_action a;
	uint64_t t;
	int sends = 0;

	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	register_at(f, T0);
	/* The DC restarted and drops everything: 5 keep-alives, then fail. */
	for (t = T0 + 25000; t < T0 + 25000 + 7750; t += 250) {
		dcclient_timer(&f->dc, t);
		while (dcclient_poll(&f->dc, &a)) {
			assert_int_equal(a.type, DCCLIENT_ACT_SEND);
			assert_int_equal(a.data[1], PROTO_MSG_KEEPALIVE);
			sends++;
		}
	}
	assert_int_equal(sends, 5);
	dcclient_timer(&f->dc, T0 + 25000 + 7750);
	expect_action(&f->dc, DCCLIENT_ACT_LOST, &a);
	/* A new registration at once, with a new nonce, then a full one. */
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	assert_int_equal(a.data[1], PROTO_MSG_REG_HELLO);
	assert_int_equal(f->dc.state, DCCLIENT_HELLO);
	/* Put the HELLO back for register_at(). */
	f->dc.out_head = (f->dc.out_head + DCCLIENT_OUTBOX - 1) %
	    DCCLIENT_OUTBOX;
	f->dc.out_n++;
	register_at(f, T0 + 33000);
	assert_int_equal(f->dc.stats.registrations, 2);
}

static void
test_reregistration_at_two_thirds(void **state)
{
	struct fixture *f = *state;
	struct dcclient_action a;

	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	register_at(f, T0);
	/* Keep-alives go out but nothing answers for 80 s (2/3 of 120). */
	f->dc.req_type = 0;
	f->dc.keepalive_due = UINT64_MAX;
	assert_true(dcclient_next_timer(&f->dc) == T0 + 80000);
	dcclient_timer(&f->dc, T0 + 80000);
	expect_action(&f->dc, DCCLIENT_ACT_LOST, &a);
	assert_int_equal(a.status, PROTO_STATUS_EXPIRED);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	assert_int_equal(a.data[1], PROTO_MSG_REG_HELLO);
}

static void
test_ticket_expiry_and_refusal(void **state)
{
	struct fixture *f = *state;
	struct dcclient_action a;
	uint8_t pkt[PROTO_DATAGRAM_MAX];
	struct msg m;
	size_t len;

	/* A ticket past its expiry is not even sent. */
	assert_int_equal(dcclient_start(&f->dc, T0 + 86400000ULL),
	    -EKEYEXPIRED);
	expect_action(&f->dc, DCCLIENT_ACT_NEED_TICKET, &a);
	assert_int_equal(f->dc.state, DCCLIENT_NO_TICKET);
	assert_int_equal(dcclient_set_ticket(&f->dc, f->ticket,
	    sizeof(f->ticket), f->fdc.k_nd, T0 / 1000 + 86400), 0);
	assert_int_equal(f->dc.state, DCCLIENT_IDLE);

	/* A DC that refuses the ticket. */
	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	assert_int_equal(msg_decode(a.data, a.len, &m), 0);
	msg_init(&m, PROTO_MSG_REG_CHALLENGE);
	m.hdr.status = PROTO_STATUS_BAD_TICKET;
	m.hdr.txid = f->dc.req_txid;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_NONCE, f->dc.nonce_n,
	    32), 0);
	assert_int_equal(msg_encode(&m, pkt, sizeof(pkt), &len), 0);
	assert_int_equal(dcclient_input(&f->dc, pkt, len, T0 + 5), 0);
	expect_action(&f->dc, DCCLIENT_ACT_NEED_TICKET, &a);
	assert_int_equal(a.status, PROTO_STATUS_BAD_TICKET);
	assert_true(dcclient_next_timer(&f->dc) == UINT64_MAX);

	/* Registered, the ticket runs out: the node must see the AS. */
	assert_int_equal(dcclient_set_ticket(&f->dc, f->ticket,
	    sizeof(f->ticket), f->fdc.k_nd, T0 / 1000 + 30), 0);
	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	register_at(f, T0);
	assert_true(dcclient_next_timer(&f->dc) == T0 + 25000);
	dcclient_timer(&f->dc, T0 + 25000);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	assert_true(dcclient_next_timer(&f->dc) <= T0 + 30000);
	dcclient_timer(&f->dc, T0 + 30000);
	expect_action(&f->dc, DCCLIENT_ACT_NEED_TICKET, &a);
	assert_int_equal(a.status, PROTO_STATUS_EXPIRED);
}

static void
test_rate_limited_waits(void **state)
{
	struct fixture *f = *state;
	struct dcclient_action a;
	uint8_t pkt[PROTO_DATAGRAM_MAX];
	struct msg m;
	size_t len;

	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	msg_init(&m, PROTO_MSG_REG_CHALLENGE);
	m.hdr.status = PROTO_STATUS_RATE_LIMITED;
	m.hdr.txid = f->dc.req_txid;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_NONCE, f->dc.nonce_n,
	    32), 0);
	assert_int_equal(msg_add_u32(&m, PROTO_ATTR_RETRY_AFTER, 5000), 0);
	assert_int_equal(msg_encode(&m, pkt, sizeof(pkt), &len), 0);
	assert_int_equal(dcclient_input(&f->dc, pkt, len, T0 + 5), 0);
	expect_action(&f->dc, DCCLIENT_ACT_LOST, &a);
	assert_int_equal(a.status, PROTO_STATUS_RATE_LIMITED);
	assert_true(dcclient_next_timer(&f->dc) == T0 + 5005);
}

static void
test_new_addresses_reregister(void **state)
{
	struct fixture *f = *state;
	struct dcclient_action a;
	struct msg_addr na[2];

	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	register_at(f, T0);
	na[0] = f->dc.local[0];
	assert_int_equal(dcclient_set_addrs(&f->dc, na, 1, T0 + 10), 0);
	expect_none(&f->dc);
	memset(&na[1], 0, sizeof(na[1]));
	na[1].family = PROTO_FAMILY_IPV6;
	na[1].port = PROTO_PORT_TUNNEL;
	na[1].addr[0] = 0x20;
	na[1].addr[15] = 1;
	assert_int_equal(dcclient_set_addrs(&f->dc, na, 2, T0 + 20), 0);
	expect_action(&f->dc, DCCLIENT_ACT_SEND, &a);
	assert_int_equal(a.data[1], PROTO_MSG_REG_HELLO);
	na[0].family = 5;
	assert_int_equal(dcclient_set_addrs(&f->dc, na, 1, T0), -EINVAL);
}

static void
test_garbage_dropped(void **state)
{
	struct fixture *f = *state;
	uint8_t junk[64];

	memset(junk, 0xff, sizeof(junk));
	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	assert_true(dcclient_input(&f->dc, junk, 10, T0) < 0);
	assert_true(dcclient_input(&f->dc, junk, sizeof(junk), T0) < 0);
	junk[0] = PROTO_VERSION_1;
	junk[1] = PROTO_MSG_ROUTE_DIRECTION;
	assert_int_equal(dcclient_input(&f->dc, junk, sizeof(junk), T0),
	    -EPROTO);
	junk[1] = PROTO_MSG_REGISTRATION_ACK;
	assert_int_equal(dcclient_input(&f->dc, junk, sizeof(junk), T0),
	    -ENOTCONN);
	assert_int_equal(f->dc.stats.dropped, 4);
}

/*
 * The client against the DC's own core (dc/signal), in one process: what
 * runs in ntmd against what runs in ntm-dc, through the real ticket.
 */
struct world {
	struct ntm_rng	*rng;
	struct signal	*sig;
	struct dcclient	 dc;
	struct msg_addr	 from;		/* the node as the DC sees it */
	int		 zone_sets;
};

/*
 * DC: the attribute list of m cut into `count` fragments (PROTOCOL.md 11),
 * each sealed on its own under k_DC->N with its own sequence number.
 */
static size_t
dc_fragments(struct fixture *f, struct msg *m, uint32_t msgid,
    uint8_t count, uint8_t pkt[][PROTO_DATAGRAM_MAX], size_t *len)
{
	uint8_t attrs[PROTO_REASSEMBLY_MAX], nonce[12];
	struct msg_header h;
	struct msg_frag fr;
	struct wbuf w;
	size_t total, piece, off, i;

	wbuf_init(&w, attrs, sizeof(attrs));
	assert_int_equal(msg_attrs_encode(m, &w), 0);
	total = wbuf_len(&w);
	piece = (total + count - 1) / count;
	for (i = 0, off = 0; i < count; i++, off += piece) {
		if (piece > total - off)
			piece = total - off;
		h = m->hdr;
		h.flags = PROTO_F_SEALED | PROTO_F_FRAGMENT;
		memcpy(h.id, f->fdc.sid, PROTO_ID_LEN);
		h.seq = ++f->fdc.seq;
		h.length = (uint16_t)(6 + piece + PROTO_TAG_LEN);
		wbuf_init(&w, pkt[i], PROTO_DATAGRAM_MAX);
		assert_int_equal(msg_header_encode(&h, &w), 0);
		fr.msgid = msgid;
		fr.index = (uint8_t)i;
		fr.count = count;
		msg_frag_encode(&fr, &w);
		wbuf_put_bytes(&w, attrs + off, piece);
		assert_int_equal(wbuf_error(&w), 0);
		msg_nonce(&h, nonce);
		assert_int_equal(aead_seal(f->fdc.tx, nonce, pkt[i],
		    PROTO_HEADER_LEN, pkt[i] + PROTO_HEADER_LEN, 6 + piece,
		    pkt[i] + PROTO_HEADER_LEN, 6 + piece + PROTO_TAG_LEN), 0);
		len[i] = PROTO_HEADER_LEN + h.length;
	}
	return total;
}

/*
 * A STATUS_NOTICE too large for one datagram (a long status) comes in
 * fragments: dcclient_open_at holds them, in any order, and hands out the
 * whole message once; dcclient_open refuses them; a fragment altered in
 * transit or replayed is refused and does not complete anything.
 */
static void
test_fragmented_from_dc(void **state)
{
	struct fixture *f = *state;
	uint8_t pkt[3][PROTO_DATAGRAM_MAX], copy[PROTO_DATAGRAM_MAX];
	uint8_t status[2600], serial[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const struct msg_attr *a;
	size_t len[3], i;
	struct msg m, got;

	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	register_at(f, T0);
	for (i = 0; i < sizeof(status); i++)
		status[i] = (uint8_t)(i * 13);
	msg_init(&m, PROTO_MSG_STATUS_NOTICE);
	m.hdr.txid = 77;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_SERIAL, serial,
	    sizeof(serial)), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_STATUS, status,
	    sizeof(status)), 0);
	dc_fragments(f, &m, 9, 3, pkt, len);
	for (i = 0; i < 3; i++)
		assert_true(len[i] <= PROTO_DATAGRAM_MAX);
	/* Without a clock dcclient_open cannot reassemble. */
	memcpy(copy, pkt[0], len[0]);
	assert_int_equal(dcclient_open(&f->dc, copy, len[0], &got),
	    -EOPNOTSUPP);
	/* A flipped byte: the tag fails, nothing is held. */
	memcpy(copy, pkt[2], len[2]);
	copy[len[2] - 20] ^= 1;
	assert_true(dcclient_open_at(&f->dc, copy, len[2], T0, &got) < 0);
	/* Out of order: 2, 0, then 1 completes it. */
	memcpy(copy, pkt[2], len[2]);
	assert_int_equal(dcclient_open_at(&f->dc, copy, len[2], T0, &got),
	    -EINPROGRESS);
	/* The same fragment again is a replay. */
	memcpy(copy, pkt[2], len[2]);
	assert_int_equal(dcclient_open_at(&f->dc, copy, len[2], T0, &got),
	    -EALREADY);
	assert_int_equal(dcclient_open_at(&f->dc, pkt[0], len[0], T0 + 10,
	    &got), -EINPROGRESS);
	assert_int_equal(dcclient_open_at(&f->dc, pkt[1], len[1], T0 + 20,
	    &got), 0);
	assert_int_equal(got.hdr.type, PROTO_MSG_STATUS_NOTICE);
	assert_int_equal(got.hdr.txid, 77);
	assert_false(got.hdr.flags & PROTO_F_FRAGMENT);
	assert_non_null(a = msg_attr_find(&got, PROTO_ATTR_STATUS));
	assert_int_equal(a->len, sizeof(status));
	assert_memory_equal(a->val, status, sizeof(status));
	assert_non_null(a = msg_attr_find(&got, PROTO_ATTR_SERIAL));
	assert_memory_equal(a->val, serial, sizeof(serial));
}

/* Fragments of one message more than 2 s apart never make it whole. */
static void
test_fragments_expire(void **state)
{
	struct fixture *f = *state;
	uint8_t pkt[2][PROTO_DATAGRAM_MAX], status[1500], serial[1] = { 9 };
	size_t len[2];
	struct msg m, got;

	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	register_at(f, T0);
	memset(status, 0x42, sizeof(status));
	msg_init(&m, PROTO_MSG_STATUS_NOTICE);
	m.hdr.txid = 78;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_SERIAL, serial, 1), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_STATUS, status,
	    sizeof(status)), 0);
	dc_fragments(f, &m, 10, 2, pkt, len);
	assert_int_equal(dcclient_open_at(&f->dc, pkt[0], len[0], T0, &got),
	    -EINPROGRESS);
	assert_int_equal(dcclient_open_at(&f->dc, pkt[1], len[1],
	    T0 + PROTO_TIMER_REASSEMBLY + 1, &got), -EINPROGRESS);
}

static int
world_zone_set(void *arg, const char *fqdn, const char *v4, const char *v6)
{
	struct world *w = arg;

	(void)fqdn;
	(void)v4;
	(void)v6;
	w->zone_sets++;
	return 0;
}

static void
world_dc(struct world *w)
{
	static const uint8_t tkey[PROTO_KEY_LEN] = { 0x42, 0x43 };
	struct signal_config cfg;
	struct signal_hooks hooks;

	memset(&cfg, 0, sizeof(cfg));
	cfg.zone = "dc1.ntm.test";
	memset(&hooks, 0, sizeof(hooks));
	hooks.zone.node_set = world_zone_set;
	hooks.zone.arg = w;
	hooks.arg = w;
	signal_free(w->sig);
	assert_int_equal(signal_new(&w->sig, &cfg, &hooks, w->rng), 0);
	assert_int_equal(signal_ticket_key_add(w->sig, 7, tkey), 0);
}

/* Delivers the client's datagrams to the DC and back until both are quiet. */
static void
world_pump(struct world *w, uint64_t now)
{
	struct dcclient_action a;
	struct signal_out *out;
	size_t i;
	int rounds = 0;

	out = malloc(sizeof(*out));
	assert_non_null(out);
	while (dcclient_poll(&w->dc, &a)) {
		assert_true(++rounds < 50);
		if (a.type != DCCLIENT_ACT_SEND)
			continue;
		signal_input(w->sig, a.data, a.len, &w->from, now,
		    (time_t)(now / 1000), out);
		for (i = 0; i < out->nsend; i++)
			(void)dcclient_input(&w->dc, out->send[i].buf,
			    out->send[i].len, now);
	}
	free(out);
}

static void
test_against_dc_signal(void **state)
{
	static const uint8_t tkey[PROTO_KEY_LEN] = { 0x42, 0x43 };
	struct ticket_keyring kr;
	struct ticket_body b;
	struct world *w;
	struct msg_addr la;
	uint8_t ticket[PROTO_TICKET_MAX];
	size_t tlen;
	uint64_t t;

	(void)state;
	w = calloc(1, sizeof(*w));
	assert_non_null(w);
	w->rng = rng_seeded_new("interop", 7);
	world_dc(w);

	/* The AS's side: a ticket for alice sealed under key 7. */
	ticket_keyring_init(&kr);
	assert_int_equal(ticket_keyring_add(&kr, 7, tkey), 0);
	memset(&b, 0, sizeof(b));
	memset(b.id, 0x1d, sizeof(b.id));
	memset(b.key, 0x77, sizeof(b.key));
	b.fqdn_len = strlen("alice.dc1.ntm.test");
	memcpy(b.fqdn, "alice.dc1.ntm.test", b.fqdn_len + 1);
	b.has_vip4 = true;
	memcpy(b.vip4, "\xc6\x12\x01\x0a", 4);
	b.expiry = T0 / 1000 + 86400;
	assert_int_equal(ticket_seal(&kr, 7, &b, w->rng, ticket,
	    sizeof(ticket), &tlen), 0);
	ticket_keyring_clear(&kr);

	dcclient_init(&w->dc, w->rng);
	assert_int_equal(dcclient_set_ticket(&w->dc, ticket, tlen, b.key,
	    b.expiry), 0);
	memset(&la, 0, sizeof(la));
	la.family = PROTO_FAMILY_IPV4;
	la.port = PROTO_PORT_TUNNEL;
	memcpy(la.addr, "\x0a\x00\x00\x02", 4);
	assert_int_equal(dcclient_set_addrs(&w->dc, &la, 1, T0), 0);
	/* Behind a NAT: the DC sees 203.0.113.5:40000. */
	w->from = la;
	memcpy(w->from.addr, "\xcb\x00\x71\x05", 4);
	w->from.port = 40000;

	assert_int_equal(dcclient_start(&w->dc, T0), 0);
	world_pump(w, T0);
	assert_true(dcclient_registered(&w->dc));
	assert_int_equal(w->dc.reg.nat, PROTO_NAT_BEHIND);
	assert_int_equal(w->dc.reg.observed.port, 40000);
	assert_memory_equal(w->dc.reg.observed.addr, w->from.addr, 4);
	assert_int_equal(w->dc.reg.lifetime_s, 120);
	assert_int_equal(w->dc.reg.keepalive_s, 25);
	assert_int_equal(signal_stats(w->sig)->registrations, 1);
	assert_int_equal(w->zone_sets, 1);

	/* Keep-alive on schedule, answered by the DC. */
	t = dcclient_next_timer(&w->dc);
	assert_true(t == T0 + 25000);
	dcclient_timer(&w->dc, t);
	world_pump(w, t);
	assert_int_equal(w->dc.stats.keepalives, 1);
	assert_int_equal(signal_stats(w->sig)->keepalives, 1);

	/* The NAT rebinds: the next keep-alive tells, the node registers. */
	w->from.port = 40001;
	t = dcclient_next_timer(&w->dc);
	dcclient_timer(&w->dc, t);
	world_pump(w, t);
	assert_true(dcclient_registered(&w->dc));
	assert_int_equal(w->dc.reg.observed.port, 40001);
	assert_int_equal(w->dc.stats.registrations, 2);

	/* The DC restarts and forgets the session: the node notices alone. */
	world_dc(w);
	t = dcclient_next_timer(&w->dc);
	while (!dcclient_registered(&w->dc) ||
	    w->dc.stats.registrations < 3) {
		assert_true(t < T0 + 120000);
		dcclient_timer(&w->dc, t);
		world_pump(w, t);
		t = dcclient_next_timer(&w->dc);
	}
	assert_int_equal(w->dc.stats.failures, 1);
	assert_int_equal(signal_stats(w->sig)->registrations, 1);

	dcclient_clear(&w->dc);
	signal_free(w->sig);
	rng_free(w->rng);
	free(w);
}

/*
 * Enrollment messages (PROTOCOL.md 6.6): the CSR passes the AS's own check
 * (lib/cert), the request carries what the AS needs, and an AUTH_RESPONSE
 * built as the AS builds it is read, verified against the root and saved.
 */
struct pki {
	struct ntm_rng		*rng;
	struct cert_ca		 ca;
	gnutls_privkey_t	 node_key, other_key;
	gnutls_x509_crt_t	 node;
	struct cert_trust	*trust;
	gnutls_datum_t		 node_der, as_der;
};

static const time_t NOW = 1800000000;

static void
pki_make(struct pki *p)
{
	struct testca_leaf alice = { .fqdn = "alice.dc1.ntm.test",
	    .vip4 = "198.18.1.10", .lifetime = 3 * 86400 };

	memset(p, 0, sizeof(*p));
	p->rng = rng_seeded_new("enroll", 6);
	assert_int_equal(testca_make(&p->ca, NULL, p->rng, NOW - 86400), 0);
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &p->node_key), 0);
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &p->other_key), 0);
	assert_int_equal(cert_trust_new(&p->ca.root, 1, &p->trust), 0);
	assert_int_equal(cert_pubkey_of(p->node_key, &alice.pubkey), 0);
	assert_int_equal(testca_issue(&p->ca, &alice, p->rng, NOW - 3600, NULL,
	    &p->node), 0);
	gnutls_pubkey_deinit(alice.pubkey);
	assert_int_equal(gnutls_x509_crt_export2(p->node, GNUTLS_X509_FMT_DER,
	    &p->node_der), 0);
	assert_int_equal(gnutls_x509_crt_export2(p->ca.as, GNUTLS_X509_FMT_DER,
	    &p->as_der), 0);
}

static void
pki_free(struct pki *p)
{
	gnutls_free(p->node_der.data);
	gnutls_free(p->as_der.data);
	gnutls_x509_crt_deinit(p->node);
	cert_trust_free(p->trust);
	cert_ca_clear(&p->ca);
	gnutls_privkey_deinit(p->node_key);
	gnutls_privkey_deinit(p->other_key);
	rng_free(p->rng);
}

/* An AUTH_RESPONSE for alice, as PROTOCOL.md 6.6 lists it. */
static void
auth_response(const struct pki *p, uint32_t txid, const char *vip4,
    uint8_t *out, size_t *len)
{
	static const uint8_t ticket[40] = { 1, 0, 0, 0, 7 };
	static const uint8_t tid[16] = { 0x1d }, knd[32] = { 0x77 };
	struct msg *m = calloc(1, sizeof(*m));
	struct msg_addr dca;
	uint8_t v4[4];

	assert_non_null(m);
	msg_init(m, PROTO_MSG_AUTH_RESPONSE);
	m->hdr.txid = txid;
	memset(&dca, 0, sizeof(dca));
	dca.family = PROTO_FAMILY_IPV4;
	dca.port = PROTO_PORT_DC;
	memcpy(dca.addr, "\xc0\x00\x02\x35", 4);
	inet_pton(AF_INET, vip4, v4);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_CERT, p->node_der.data,
	    p->node_der.size), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_CERT, p->as_der.data,
	    p->as_der.size), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_STATUS, "OCSP", 4), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_TICKET, ticket,
	    sizeof(ticket)), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_TICKET_ID, tid, 16), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_TICKET_KEY, knd, 32), 0);
	assert_int_equal(msg_add_u64(m, PROTO_ATTR_EXPIRY, NOW + 86400), 0);
	assert_int_equal(msg_add_addr(m, PROTO_ATTR_DC_ADDR, &dca), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_FQDN,
	    "alice.dc1.ntm.test", 18), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_ZONE, "dc1.ntm.test",
	    12), 0);
	assert_int_equal(msg_add_bytes(m, PROTO_ATTR_VIP4, v4, 4), 0);
	assert_int_equal(msg_encode(m, out, ENROLL_REPLY_MAX, len), 0);
	free(m);
}

static void
test_enroll_messages(void **state)
{
	struct pki p;
	struct enroll_reply r;
	struct store_ticket st;
	gnutls_datum_t csr;
	gnutls_x509_crq_t crq;
	gnutls_pubkey_t pub;
	gnutls_x509_crt_t back;
	struct msg m;
	const struct msg_attr *a;
	uint8_t *buf;
	char dir[] = "/tmp/test_enroll_node.XXXXXX", path[64];
	struct cert_info ci;
	size_t len;
	time_t renew;

	(void)state;
	pki_make(&p);
	buf = malloc(ENROLL_REPLY_MAX);
	assert_non_null(buf);

	/* The CSR is one the AS accepts for this name, and no other. */
	assert_int_equal(enroll_csr_make(p.node_key, "alice.dc1.ntm.test",
	    &csr), 0);
	assert_int_equal(gnutls_x509_crq_init(&crq), 0);
	assert_int_equal(gnutls_x509_crq_import(crq, &csr,
	    GNUTLS_X509_FMT_DER), 0);
	assert_int_equal(cert_csr_check(crq, "alice.dc1.ntm.test", &pub), 0);
	gnutls_pubkey_deinit(pub);
	assert_true(cert_csr_check(crq, "bob.dc2.ntm.test", &pub) < 0);
	gnutls_x509_crq_deinit(crq);

	/* ENROLL_REQUEST: account, password, CSR; a TLS message. */
	assert_int_equal(enroll_request_encode(PROTO_MSG_ENROLL_REQUEST, 99,
	    "alice", "secret", &csr, buf, ENROLL_REPLY_MAX, &len), 0);
	assert_int_equal(msg_decode(buf, len, &m), 0);
	assert_int_equal(m.hdr.type, PROTO_MSG_ENROLL_REQUEST);
	assert_int_equal(m.hdr.flags, 0);
	assert_int_equal(m.hdr.txid, 99);
	assert_non_null(a = msg_attr_find(&m, PROTO_ATTR_ACCOUNT));
	assert_int_equal(a->len, 5);
	assert_non_null(a = msg_attr_find(&m, PROTO_ATTR_CSR));
	assert_int_equal(a->len, csr.size);
	assert_int_equal(enroll_request_encode(PROTO_MSG_ENROLL_REQUEST, 99,
	    "alice", NULL, &csr, buf, ENROLL_REPLY_MAX, &len), -EINVAL);
	assert_int_equal(enroll_request_encode(PROTO_MSG_AUTH_REQUEST, 100,
	    NULL, NULL, NULL, buf, ENROLL_REPLY_MAX, &len), 0);
	assert_int_equal(len, PROTO_HEADER_LEN);
	gnutls_free(csr.data);

	/* The answer: read, verified against the root, for our key. */
	auth_response(&p, 7, "198.18.1.10", buf, &len);
	assert_int_equal(enroll_reply_parse(buf, len, 8, &r), -ENOMSG);
	assert_int_equal(enroll_reply_parse(buf, len, 7, &r), 0);
	assert_int_equal(r.status, PROTO_STATUS_OK);
	assert_string_equal(r.fqdn, "alice.dc1.ntm.test");
	assert_string_equal(r.zone, "dc1.ntm.test");
	assert_int_equal(r.ndc, 1);
	assert_int_equal(r.dc[0].port, PROTO_PORT_DC);
	assert_true(r.expiry == (uint64_t)NOW + 86400);
	assert_int_equal(enroll_reply_verify(&r, p.trust, "alice.dc1.ntm.test",
	    p.node_key, NOW, &renew), 0);
	/* Renewal at two thirds of the certificate's lifetime. */
	assert_int_equal(cert_info(p.node, &ci), 0);
	assert_true(renew == ci.not_before +
	    (ci.not_after - ci.not_before) * 2 / 3);
	assert_true(renew > NOW + 86400 && renew < ci.not_after);
	assert_true(enroll_reply_verify(&r, p.trust, "bob.dc2.ntm.test",
	    p.node_key, NOW, NULL) < 0);
	assert_int_equal(enroll_reply_verify(&r, p.trust, NULL, p.other_key,
	    NOW, NULL), -EKEYREJECTED);
	assert_true(enroll_reply_verify(&r, p.trust, NULL, NULL,
	    NOW + 4 * 86400, NULL) < 0);

	/* Saved 0600 where ntmd reads it at the next start. */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(enroll_reply_save(&r, dir), 0);
	assert_int_equal(store_ticket_load(dir, &st), 0);
	assert_int_equal(st.len, r.ticket_len);
	assert_memory_equal(st.k_nd, r.k_nd, PROTO_KEY_LEN);
	assert_true(st.expiry == r.expiry);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_CERT);
	assert_int_equal(cert_crt_read(path, &back), 0);
	assert_int_equal(gnutls_x509_crt_equals(back, p.node), 1);
	gnutls_x509_crt_deinit(back);
	enroll_reply_free(&r);

	/* A reply naming an address the certificate does not hold. */
	auth_response(&p, 7, "198.18.1.11", buf, &len);
	assert_int_equal(enroll_reply_parse(buf, len, 7, &r), 0);
	assert_true(enroll_reply_verify(&r, p.trust, NULL, NULL, NOW, NULL) <
	    0);
	enroll_reply_free(&r);

	/* A refusal: status and RETRY_AFTER, nothing else needed. */
	msg_init(&m, PROTO_MSG_AUTH_RESPONSE);
	m.hdr.txid = 7;
	m.hdr.status = PROTO_STATUS_RATE_LIMITED;
	assert_int_equal(msg_add_u32(&m, PROTO_ATTR_RETRY_AFTER, 30000), 0);
	assert_int_equal(msg_encode(&m, buf, ENROLL_REPLY_MAX, &len), 0);
	assert_int_equal(enroll_reply_parse(buf, len, 7, &r), 0);
	assert_int_equal(r.status, PROTO_STATUS_RATE_LIMITED);
	assert_int_equal(r.retry_after_ms, 30000);
	assert_int_equal(enroll_reply_save(&r, dir), -EINVAL);
	enroll_reply_free(&r);

	store_ticket_remove(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_CERT);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_STATUS);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	free(buf);
	pki_free(&p);
}

/*
 * The enrollment exchange over real TLS on loopback: ntmd's client (no
 * client certificate, as for a first enrollment) against a listener with
 * an ntm-as certificate that answers the way PROTOCOL.md 6.6 says.
 */
struct tls_world {
	struct pki		*p;
	uv_loop_t		 loop;
	uv_timer_t		 guard;
	struct tls_listener	*lst;
	struct enroll_client	 ec;
	int			 done_calls, done_err;
	uint8_t			 done_status;
	char			 done_fqdn[PROTO_FQDN_MAX + 1];
	int			 requests;
	uint8_t			 req_type;
	bool			 saw_csr;
};

static time_t
tls_world_clock(void *arg)
{
	(void)arg;
	return NOW;
}

static int
tls_world_accept(void *ctx, const gnutls_x509_crt_t *chain, size_t n,
    time_t now)
{
	(void)ctx;
	(void)chain;
	(void)n;
	(void)now;
	return 0;
}

static void
tls_world_frame(struct tls_conn *conn, const uint8_t *p, size_t len,
    void *arg)
{
	struct tls_world *w = arg;
	uint8_t *out;
	struct msg m;
	size_t olen;

	assert_int_equal(msg_decode(p, len, &m), 0);
	w->requests++;
	w->req_type = m.hdr.type;
	w->saw_csr = msg_attr_find(&m, PROTO_ATTR_CSR) != NULL;
	out = malloc(ENROLL_REPLY_MAX);
	assert_non_null(out);
	auth_response(w->p, m.hdr.txid, "198.18.1.10", out, &olen);
	assert_int_equal(tls_send(conn, out, olen), 0);
	free(out);
}

static void
tls_world_done(void *arg, int err, const struct enroll_reply *r)
{
	struct tls_world *w = arg;

	w->done_calls++;
	w->done_err = err;
	if (r != NULL) {
		w->done_status = r->status;
		snprintf(w->done_fqdn, sizeof(w->done_fqdn), "%s", r->fqdn);
	}
	tls_listener_free(w->lst);
	w->lst = NULL;
	uv_timer_stop(&w->guard);
	uv_close((uv_handle_t *)&w->guard, NULL);
}

static void
tls_world_timeout(uv_timer_t *t)
{
	(void)t;
	fail_msg("no answer over TLS within 10 s");
}

static void
test_enroll_over_tls(void **state)
{
	struct pki p;
	struct tls_world *w;
	struct tls_creds *screds, *ccreds;
	struct tls_config cfg;
	struct cert_request cr;
	struct cert_issuer ai;
	gnutls_privkey_t skey;
	gnutls_pubkey_t pub;
	gnutls_x509_crt_t chain[2];
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	gnutls_datum_t csr;
	uint8_t *req;
	size_t len;

	(void)state;
	pki_make(&p);
	w = calloc(1, sizeof(*w));
	assert_non_null(w);
	w->p = &p;
	assert_int_equal(uv_loop_init(&w->loop), 0);

	/* The AS's certificate: role ntm-as under the same AS CA. */
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &skey), 0);
	memset(&cr, 0, sizeof(cr));
	cr.role = CERT_ROLE_AS;
	cr.fqdn = "as.ntm.test";
	assert_int_equal(cert_pubkey_of(skey, &pub), 0);
	cr.pubkey = pub;
	ai.crt = p.ca.as;
	ai.key = p.ca.as_key;
	assert_int_equal(cert_issue(&cr, &ai, p.rng, NOW - 3600, &chain[0]),
	    0);
	gnutls_pubkey_deinit(pub);
	chain[1] = p.ca.as;
	assert_int_equal(tls_creds_new(&screds), 0);
	assert_int_equal(tls_creds_set_trust(screds, &p.ca.root, 1), 0);
	assert_int_equal(tls_creds_set_key(screds, chain, 2, skey), 0);
	gnutls_x509_crt_deinit(chain[0]);
	assert_int_equal(tls_creds_new(&ccreds), 0);
	assert_int_equal(tls_creds_set_trust(ccreds, &p.ca.root, 1), 0);

	memset(&cfg, 0, sizeof(cfg));
	cfg.creds = screds;
	cfg.verify = tls_world_accept;
	cfg.clock = tls_world_clock;
	cfg.client_auth = TLS_CLIENT_AUTH_OPTIONAL;
	cfg.framing = TLS_FRAMING_MSG;
	cfg.name = "test-as";
	cfg.on_frame = tls_world_frame;
	cfg.arg = w;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(tls_listen(&w->loop, &cfg, (struct sockaddr *)&sin,
	    &w->lst), 0);
	assert_int_equal(tls_listener_addr(w->lst, &ss), 0);

	assert_int_equal(enroll_csr_make(p.node_key, "alice.dc1.ntm.test",
	    &csr), 0);
	req = malloc(ENROLL_REPLY_MAX);
	assert_non_null(req);
	assert_int_equal(enroll_request_encode(PROTO_MSG_ENROLL_REQUEST, 42,
	    "alice", "secret", &csr, req, ENROLL_REPLY_MAX, &len), 0);
	gnutls_free(csr.data);
	assert_int_equal(enroll_client_start(&w->ec, &w->loop,
	    (struct sockaddr *)&ss, ccreds, tls_world_clock, NULL, req, len, 42,
	    tls_world_done, w), 0);
	free(req);
	uv_timer_init(&w->loop, &w->guard);
	uv_timer_start(&w->guard, tls_world_timeout, 10000, 0);
	uv_run(&w->loop, UV_RUN_DEFAULT);

	assert_int_equal(w->done_calls, 1);
	assert_int_equal(w->done_err, 0);
	assert_int_equal(w->done_status, PROTO_STATUS_OK);
	assert_string_equal(w->done_fqdn, "alice.dc1.ntm.test");
	assert_int_equal(w->requests, 1);
	assert_int_equal(w->req_type, PROTO_MSG_ENROLL_REQUEST);
	assert_true(w->saw_csr);
	assert_int_equal(uv_loop_close(&w->loop), 0);
	tls_creds_free(screds);
	tls_creds_free(ccreds);
	free(w);
	pki_free(&p);
}

/* node/tunnel's messages to the DC: sealed in the session, resent exactly. */
static void
test_send_msg_for_tunnel_code(void **state)
{
	struct fixture *f = *state;
	uint8_t plain[PROTO_DATAGRAM_MAX], out[PROTO_DATAGRAM_MAX];
	uint8_t again[PROTO_DATAGRAM_MAX];
	struct dcclient_action a;
	const struct msg_attr *pf;
	struct msg m;
	size_t plen, olen, alen;

	msg_init(&m, PROTO_MSG_DIRECTION_REQUEST);
	m.hdr.txid = 0x5151;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PEER_FQDN,
	    "bob.dc2.ntm.test", 16), 0);
	assert_int_equal(msg_add_u8(&m, PROTO_ATTR_KEX, PROTO_KEX_ECDHE), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT_HASH, f->ticket,
	    32), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_STATUS, "OCSP", 4), 0);
	assert_int_equal(msg_encode(&m, plain, sizeof(plain), &plen), 0);

	assert_int_equal(dcclient_send_msg(&f->dc, plain, plen, false, out,
	    sizeof(out), &olen), -ENOTCONN);
	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	register_at(f, T0);
	assert_int_equal(dcclient_send_msg(&f->dc, plain, plen, true, out,
	    sizeof(out), &olen), -ENOENT);
	assert_int_equal(dcclient_send_msg(&f->dc, plain, plen, false, out,
	    sizeof(out), &olen), 0);
	assert_int_equal(olen, plen);
	assert_int_equal(dcclient_send_msg(&f->dc, plain, plen, true, again,
	    sizeof(again), &alen), 0);
	assert_int_equal(alen, olen);
	assert_memory_equal(again, out, olen);

	/* The DC opens it with k_N->DC: next sequence number, session id. */
	a.type = DCCLIENT_ACT_SEND;
	a.len = olen;
	memcpy(a.data, out, olen);
	dc_open(f, &a, &m);
	assert_int_equal(m.hdr.type, PROTO_MSG_DIRECTION_REQUEST);
	assert_true(m.hdr.seq == 2);
	assert_int_equal(m.hdr.txid, 0x5151);
	assert_non_null(pf = msg_attr_find(&m, PROTO_ATTR_PEER_FQDN));
	assert_memory_equal(pf->val, "bob.dc2.ntm.test", 16);

	/* A new message takes the next number; unsealed types are refused. */
	assert_int_equal(dcclient_send_msg(&f->dc, plain, plen, false, out,
	    sizeof(out), &olen), 0);
	assert_true(load_be64(out + 12) == 3);
	assert_true(f->dc.seq_tx == 3);
	msg_init(&m, PROTO_MSG_REG_HELLO);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_TICKET, f->ticket,
	    sizeof(f->ticket)), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_NONCE, f->ticket, 32), 0);
	assert_int_equal(msg_encode(&m, plain, sizeof(plain), &plen), 0);
	assert_int_equal(dcclient_send_msg(&f->dc, plain, plen, false, out,
	    sizeof(out), &olen), MSG_E_FLAGS);
	/* A new registration forgets what it sealed under the old keys. */
	assert_int_equal(dcclient_start(&f->dc, T0 + 100), 0);
	assert_int_equal(dcclient_send_msg(&f->dc, plain, plen, true, out,
	    sizeof(out), &olen), -ENOTCONN);
}

/* The plaintext Direction Request number i of test_send_msg_resends_many. */
static void
dr_plain(const struct fixture *f, int i, uint8_t *plain, size_t cap,
    size_t *plen)
{
	struct msg m;
	char peer[32];

	msg_init(&m, PROTO_MSG_DIRECTION_REQUEST);
	m.hdr.txid = 0x7000 + (uint32_t)i;
	snprintf(peer, sizeof(peer), "n%d.dc2.ntm.test", i);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PEER_FQDN, peer,
	    strlen(peer)), 0);
	assert_int_equal(msg_add_u8(&m, PROTO_ATTR_KEX, PROTO_KEX_ECDHE), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT_HASH, f->ticket,
	    32), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_STATUS, "OCSP", 4), 0);
	assert_int_equal(msg_encode(&m, plain, cap, plen), 0);
}

/*
 * Every setup node/tunnel runs at once (TUNNEL_SETUPS_MAX) has one DC
 * message in flight, a Direction Request or an NTM ACK; each must be
 * resent byte for byte until it is answered, however many others were
 * sealed since.  A resend whose bytes differ from what was sealed under
 * that transaction id is refused: its nonce must not seal other bytes.
 */
static void
test_send_msg_resends_many(void **state)
{
	enum { N = 64 };
	struct fixture *f = *state;
	uint8_t plain[PROTO_DATAGRAM_MAX], out[PROTO_DATAGRAM_MAX];
	uint8_t (*first)[PROTO_DATAGRAM_MAX];
	size_t flen[N], plen, olen;
	int i;

	assert_non_null(first = calloc(N, sizeof(*first)));
	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	register_at(f, T0);
	for (i = 0; i < N; i++) {
		dr_plain(f, i, plain, sizeof(plain), &plen);
		assert_int_equal(dcclient_send_msg(&f->dc, plain, plen, false,
		    first[i], sizeof(first[i]), &flen[i]), 0);
	}
	for (i = 0; i < N; i++) {
		dr_plain(f, i, plain, sizeof(plain), &plen);
		assert_int_equal(dcclient_send_msg(&f->dc, plain, plen, true,
		    out, sizeof(out), &olen), 0);
		assert_int_equal(olen, flen[i]);
		assert_memory_equal(out, first[i], olen);
	}
	/* Other bytes under a transaction id already used: not sealed. */
	plain[plen - PROTO_TAG_LEN - 1] ^= 1;
	assert_int_equal(dcclient_send_msg(&f->dc, plain, plen, true, out,
	    sizeof(out), &olen), -ENOENT);
	free(first);
}

/*
 * A ticket whose expiry in milliseconds does not fit 64 bits (a corrupt
 * ticket file, an AS meaning "never"): the timer is not pulled to a
 * wrapped time in the past, which ntmd would arm as 0 ms again and again.
 */
static void
test_far_ticket_expiry(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(dcclient_set_ticket(&f->dc, f->ticket,
	    sizeof(f->ticket), f->fdc.k_nd, UINT64_MAX / 1000 + 1), 0);
	assert_int_equal(dcclient_start(&f->dc, T0), 0);
	register_at(f, T0);
	assert_true(dcclient_next_timer(&f->dc) == T0 + 25000);
	dcclient_timer(&f->dc, T0 + 1);
	expect_none(&f->dc);
	assert_true(dcclient_registered(&f->dc));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cookie_round_trip, setup,
		    teardown),
		cmocka_unit_test(test_keys_follow_protocol),
		cmocka_unit_test_setup_teardown(test_challenge_with_wrong_nonce,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmission_schedule,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_schedule, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_reregistration_after_failed_keepalive, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_reregistration_at_two_thirds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ticket_expiry_and_refusal,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limited_waits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_new_addresses_reregister,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_dropped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_msg_for_tunnel_code,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_msg_resends_many,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_far_ticket_expiry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragmented_from_dc, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fragments_expire, setup,
		    teardown),
		cmocka_unit_test(test_against_dc_signal),
		cmocka_unit_test(test_enroll_messages),
		cmocka_unit_test(test_enroll_over_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
