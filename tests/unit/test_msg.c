/* test_msg.c -- unit tests for the message codec: round trips, truncation, lying lengths, table rules. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "msg.h"
#include "msg_samples.h"
#include "proto.h"

static uint8_t	 wire[PROTO_TLS_MESSAGE_MAX];

static size_t
encode_msg(const struct msg *m)
{
	size_t len = 0;

	assert_int_equal(msg_encode(m, wire, sizeof(wire), &len), 0);
	return len;
}

static size_t
encode_sample(uint8_t type)
{
	struct msg m;

	msg_sample(&m, type);
	return encode_msg(&m);
}

static void
assert_same_attrs(const struct msg *a, const struct msg *b)
{
	size_t i;

	assert_int_equal(a->nattr, b->nattr);
	for (i = 0; i < a->nattr; i++) {
		assert_int_equal(a->attr[i].type, b->attr[i].type);
		assert_int_equal(a->attr[i].len, b->attr[i].len);
		if (a->attr[i].len > 0)
			assert_memory_equal(a->attr[i].val, b->attr[i].val,
			    a->attr[i].len);
	}
}

static void
assert_same_msg(const struct msg *a, const struct msg *b)
{
	assert_int_equal(a->hdr.version, b->hdr.version);
	assert_int_equal(a->hdr.type, b->hdr.type);
	assert_int_equal(a->hdr.status, b->hdr.status);
	assert_int_equal(a->hdr.flags, b->hdr.flags);
	assert_int_equal(a->hdr.txid, b->hdr.txid);
	assert_true(a->hdr.seq == b->hdr.seq);
	assert_memory_equal(a->hdr.id, b->hdr.id, PROTO_ID_LEN);
	assert_same_attrs(a, b);
}

/*
 * Per message type: round trip, every truncated prefix rejected, and the
 * header length lying either way rejected.  `state` is the type.
 */
static void
test_type(void **state)
{
	uint8_t type = (uint8_t)(uintptr_t)*state;
	struct msg in, out;
	size_t len, cut;
	int rc;

	msg_sample(&in, type);
	len = encode_msg(&in);
	assert_int_equal(load_be16(wire + 4), len - PROTO_HEADER_LEN);
	assert_int_equal(msg_decode(wire, len, &out), 0);
	assert_same_msg(&in, &out);
	/* decoded values point into the input, not copies */
	if (out.nattr > 0)
		assert_true(out.attr[0].val >= wire &&
		    out.attr[0].val < wire + len);
	assert_int_equal(msg_frame_len(wire, len), (int)len);
	if (!msg_type_tls(type))
		assert_true(len <= PROTO_DATAGRAM_MAX);

	for (cut = 0; cut < len; cut++) {
		rc = msg_decode(wire, cut, &out);
		assert_int_equal(rc, cut < PROTO_HEADER_LEN ?
		    MSG_E_SHORT_HEADER : MSG_E_LENGTH);
	}
	store_be16(wire + 4, (uint16_t)(len - PROTO_HEADER_LEN + 1));
	assert_int_equal(msg_decode(wire, len, &out), MSG_E_LENGTH);
	if (len > PROTO_HEADER_LEN) {
		store_be16(wire + 4, (uint16_t)(len - PROTO_HEADER_LEN - 1));
		/* a sealed body shorter than its tag is a length error */
		assert_int_equal(msg_decode(wire, len, &out),
		    msg_type_sealed(type) &&
		    len - PROTO_HEADER_LEN - 1 < PROTO_TAG_LEN ?
		    MSG_E_LENGTH : MSG_E_TRAILING);
	}
}

static void
test_header_layout(void **state)
{
	struct msg m;
	size_t len;

	msg_init(&m, PROTO_MSG_KEEPALIVE);
	m.hdr.txid = 0x11223344;
	m.hdr.seq = 0x0102030405060708ULL;
	memset(m.hdr.id, 0xee, PROTO_ID_LEN);
	len = encode_msg(&m);
	/* Empty sealed body: just the zeroed tag. */
	assert_int_equal(len, PROTO_HEADER_LEN + PROTO_TAG_LEN);
	assert_int_equal(wire[0], PROTO_VERSION_1);
	assert_int_equal(wire[1], PROTO_MSG_KEEPALIVE);
	assert_int_equal(wire[2], PROTO_STATUS_OK);
	assert_int_equal(wire[3], PROTO_F_SEALED);
	assert_int_equal(load_be16(wire + 4), PROTO_TAG_LEN);
	assert_int_equal(load_be16(wire + 6), 0);
	assert_int_equal(load_be32(wire + 8), 0x11223344);
	assert_true(load_be64(wire + 12) == 0x0102030405060708ULL);
	assert_int_equal(wire[20], 0xee);
	assert_int_equal(wire[35], 0xee);
}

static void
test_version_and_type(void **state)
{
	struct msg m;
	size_t len = encode_sample(PROTO_MSG_NOTICE_ACK);

	wire[0] = 2;
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_VERSION);
	wire[0] = 0;
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_VERSION);
	wire[0] = PROTO_VERSION_1;
	wire[1] = 0x7e;
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_TYPE);
	wire[1] = PROTO_MSG_INVALID;
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_TYPE);
	wire[1] = PROTO_MSG_DATA;	/* data format, not a header type */
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_TYPE);
	wire[1] = PROTO_MSG_TICKET_BODY;
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_TYPE);
	wire[1] = PROTO_MSG_NOTICE_ACK;
	wire[2] = PROTO_STATUS_INVALID;
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_STATUS);
	wire[2] = PROTO_STATUS_MAX + 1;
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_STATUS);
	wire[2] = PROTO_STATUS_OK;
	wire[6] = 1;
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_RESERVED);
	wire[6] = 0;
	assert_int_equal(msg_decode(wire, len, &m), 0);
}

static void
test_flags(void **state)
{
	struct msg m;
	size_t len;

	len = encode_sample(PROTO_MSG_NOTICE_ACK);
	wire[3] = PROTO_F_SEALED;	/* TLS messages are never sealed */
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_FLAGS);
	wire[3] = PROTO_F_FRAGMENT;	/* nor fragmented */
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_FLAGS);
	wire[3] = 0x80;
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_FLAGS);
	len = encode_sample(PROTO_MSG_REGISTRATION);
	wire[3] = 0;			/* sealed type without SEALED */
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_FLAGS);
	len = encode_sample(PROTO_MSG_REG_HELLO);
	wire[3] = PROTO_F_SEALED;	/* plain type with SEALED */
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_FLAGS);
	/* The encoder refuses the same. */
	msg_sample(&m, PROTO_MSG_NOTICE_ACK);
	m.hdr.flags = PROTO_F_SEALED;
	assert_int_equal(msg_encode(&m, wire, sizeof(wire), &len), MSG_E_FLAGS);
}

/* A sealed message's tag is not part of the attribute list. */
static void
test_sealed_tag(void **state)
{
	struct msg m;
	size_t len;

	msg_sample(&m, PROTO_MSG_NTM_ACK);
	len = encode_msg(&m);
	assert_int_equal(len, PROTO_HEADER_LEN + 4 + PROTO_ID_LEN +
	    PROTO_TAG_LEN);
	memset(wire + len - PROTO_TAG_LEN, 0xa5, PROTO_TAG_LEN);
	assert_int_equal(msg_decode(wire, len, &m), 0);
	assert_int_equal(m.nattr, 1);
	/* Shorter than a tag. */
	store_be16(wire + 4, PROTO_TAG_LEN - 1);
	assert_int_equal(msg_decode(wire, PROTO_HEADER_LEN + PROTO_TAG_LEN - 1,
	    &m), MSG_E_LENGTH);
}

/* Single-attribute message: NOTICE_ACK = header + NOTICE_SEQ (12 bytes). */
static void
test_attr_length_lies(void **state)
{
	struct msg m;
	size_t len = encode_sample(PROTO_MSG_NOTICE_ACK);

	assert_int_equal(len, PROTO_HEADER_LEN + 12);
	store_be16(wire + PROTO_HEADER_LEN + 2, 9);	/* too long */
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_ATTR_TRUNCATED);
	store_be16(wire + PROTO_HEADER_LEN + 2, 7);	/* too short */
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_ATTR_TRUNCATED);
	store_be16(wire + PROTO_HEADER_LEN + 2, 0xffff);
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_ATTR_TRUNCATED);
	/* A lie that leaves a whole, well-formed, wrong-sized attribute. */
	store_be16(wire + PROTO_HEADER_LEN + 2, 4);
	store_be16(wire + PROTO_HEADER_LEN + 8, PROTO_ATTR_PADDING);
	store_be16(wire + PROTO_HEADER_LEN + 10, 0);
	assert_int_equal(msg_decode(wire, len, &m), MSG_E_ATTR_SIZE);

	/* The last attribute of a longer message. */
	len = encode_sample(PROTO_MSG_ENROLL_REQUEST);
	{
		size_t off = PROTO_HEADER_LEN, last = 0;

		while (off < len) {
			last = off;
			off += 4 + load_be16(wire + off + 2);
		}
		assert_int_equal(off, len);
		store_be16(wire + last + 2,
		    (uint16_t)(load_be16(wire + last + 2) + 1));
		assert_int_equal(msg_decode(wire, len, &m),
		    MSG_E_ATTR_TRUNCATED);
		store_be16(wire + last + 2,
		    (uint16_t)(load_be16(wire + last + 2) - 2));
		assert_int_equal(msg_decode(wire, len, &m),
		    MSG_E_ATTR_TRUNCATED);
	}
}

static void
test_attr_rules(void **state)
{
	static const uint8_t big[PROTO_HASH_LEN + 1], nonce[32];
	struct msg m, d;
	size_t len;

	/* missing */
	msg_init(&m, PROTO_MSG_ENROLL_REQUEST);
	(void)msg_add_bytes(&m, PROTO_ATTR_ACCOUNT, "alice", 5);
	(void)msg_add_bytes(&m, PROTO_ATTR_CSR, "x", 1);
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_MISSING);
	assert_int_equal(msg_encode(&m, wire, sizeof(wire), &len),
	    MSG_E_ATTR_MISSING);
	/* ... but not in an error answer */
	m.hdr.status = PROTO_STATUS_AUTH_FAILED;
	assert_int_equal(msg_validate(&m), 0);
	len = encode_msg(&m);
	assert_int_equal(msg_decode(wire, len, &d), 0);
	assert_int_equal(d.hdr.status, PROTO_STATUS_AUTH_FAILED);

	/* missing, on the wire: drop the password from a valid encoding */
	msg_init(&m, PROTO_MSG_ENROLL_REQUEST);
	(void)msg_add_bytes(&m, PROTO_ATTR_ACCOUNT, "alice", 5);
	(void)msg_add_bytes(&m, PROTO_ATTR_CSR, "x", 1);
	(void)msg_add_bytes(&m, PROTO_ATTR_PASSWORD, "pw", 2);
	len = encode_msg(&m);
	store_be16(wire + len - 6, 0x9abc);	/* now unknown, skippable */
	assert_int_equal(msg_decode(wire, len, &d), MSG_E_ATTR_MISSING);
	store_be16(wire + len - 6, PROTO_ATTR_PASSWORD);
	assert_int_equal(msg_decode(wire, len, &d), 0);

	/* duplicate */
	msg_sample(&m, PROTO_MSG_NOTICE_ACK);
	(void)msg_add_u64(&m, PROTO_ATTR_NOTICE_SEQ, 45);
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_DUP);
	len = encode_sample(PROTO_MSG_NOTICE_ACK);
	memcpy(wire + len, wire + PROTO_HEADER_LEN, 12);
	store_be16(wire + 4, 24);
	assert_int_equal(msg_decode(wire, len + 12, &d), MSG_E_ATTR_DUP);
	/* repeatable up to its limit */
	msg_sample(&m, PROTO_MSG_RELAY_DIRECTION_ACK);
	assert_int_equal(msg_validate(&m), 0);
	(void)msg_add_bytes(&m, PROTO_ATTR_RELAY_ADDR, m.attr[1].val,
	    m.attr[1].len);
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_DUP);

	/* oversized and undersized */
	msg_init(&m, PROTO_MSG_CERT_UPDATE_ACK);
	(void)msg_add_bytes(&m, PROTO_ATTR_CERT_HASH, big, sizeof(big));
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_SIZE);
	m.attr[0].len = PROTO_HASH_LEN - 1;
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_SIZE);
	m.attr[0].len = PROTO_HASH_LEN;
	len = encode_msg(&m);
	/* grow it on the wire: value 33 bytes */
	store_be16(wire + 4, (uint16_t)(load_be16(wire + 4) + 1));
	store_be16(wire + PROTO_HEADER_LEN + 2, PROTO_HASH_LEN + 1);
	memmove(wire + len - PROTO_TAG_LEN + 1, wire + len - PROTO_TAG_LEN,
	    PROTO_TAG_LEN);
	assert_int_equal(msg_decode(wire, len + 1, &d), MSG_E_ATTR_SIZE);

	/* unknown: must-understand range rejected, skippable range skipped */
	msg_sample(&m, PROTO_MSG_NOTICE_ACK);
	(void)msg_add_bytes(&m, 0x7000, nonce, 4);
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_UNKNOWN);
	m.attr[1].type = 0x9000;
	m.nattr = 2;
	len = encode_sample(PROTO_MSG_NOTICE_ACK);
	store_be16(wire + len, 0x7000);
	store_be16(wire + len + 2, 4);
	memset(wire + len + 4, 0, 4);
	store_be16(wire + 4, 20);
	assert_int_equal(msg_decode(wire, len + 8, &d), MSG_E_ATTR_UNKNOWN);
	store_be16(wire + len, 0x9000);
	assert_int_equal(msg_decode(wire, len + 8, &d), 0);
	assert_int_equal(d.nattr, 1);
	assert_int_equal(d.attr[0].type, PROTO_ATTR_NOTICE_SEQ);

	/* known but not part of this message type */
	msg_sample(&m, PROTO_MSG_NOTICE_ACK);
	(void)msg_add_bytes(&m, PROTO_ATTR_COOKIE, nonce, 32);
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_UNEXPECTED);
	/* attribute type zero */
	m.attr[1].type = PROTO_ATTR_INVALID;
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_UNKNOWN);
}

static void
test_attr_values(void **state)
{
	struct msg m;
	struct msg_attr *a;
	uint8_t bad_addr[7] = { PROTO_FAMILY_IPV6, 0x12, 0x34, 1, 2, 3, 4 };

	msg_sample(&m, PROTO_MSG_NODE_INFO_REQUEST);
	a = &m.attr[2];			/* KEX */
	assert_int_equal(a->type, PROTO_ATTR_KEX);
	a->val = (const uint8_t *)"\x09";
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_VALUE);
	a->val = (const uint8_t *)"\x00";
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_VALUE);
	a->val = (const uint8_t *)"\x02";
	assert_int_equal(msg_validate(&m), 0);

	a = &m.attr[0];			/* FQDN */
	a->val = (const uint8_t *)"Alice.dc1.ntm.test";
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_VALUE);
	a->val = (const uint8_t *)"alice.dc1.ntm.test.";
	a->len = 19;
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_VALUE);
	a->val = (const uint8_t *)"alice..ntm.test";
	a->len = 15;
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_VALUE);
	a->val = (const uint8_t *)"-alice.ntm.test";
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_VALUE);
	a->val = (const uint8_t *)"alice-.ntm.test";
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_VALUE);
	a->val = (const uint8_t *)"al_ce.ntm.test.";
	a->len = 14;
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_VALUE);
	a->val = (const uint8_t *)"a-1.ntm.test";
	a->len = 12;
	assert_int_equal(msg_validate(&m), 0);

	/* address family must match the length */
	msg_init(&m, PROTO_MSG_TUNNEL_UPDATE_ACK);
	(void)msg_add_bytes(&m, PROTO_ATTR_OBSERVED_ADDR, bad_addr, 7);
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_VALUE);
	bad_addr[0] = PROTO_FAMILY_IPV4;
	assert_int_equal(msg_validate(&m), 0);

	/* AEAD offers: known ids, no repeats */
	msg_sample(&m, PROTO_MSG_DIRECTION_REQUEST);
	a = &m.attr[4];
	assert_int_equal(a->type, PROTO_ATTR_AEAD_OFFERS);
	a->val = (const uint8_t *)"\x01\x01";
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_VALUE);
	a->val = (const uint8_t *)"\x01\x03";
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_VALUE);
}

static void
test_tunnel_request_rules(void **state)
{
	static const uint8_t kem[PROTO_RSA_KEM_LEN];
	struct msg m;
	size_t i;

	msg_sample(&m, PROTO_MSG_TUNNEL_REQUEST);
	assert_int_equal(msg_validate(&m), 0);
	/* two key shares */
	(void)msg_add_bytes(&m, PROTO_ATTR_KEM_CT, kem, sizeof(kem));
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_CONFLICT);
	/* the scheme says rsa: now the X25519 share is the stray one */
	for (i = 0; i < m.nattr; i++)
		if (m.attr[i].type == PROTO_ATTR_KEX)
			m.attr[i].val = (const uint8_t *)"\x02";
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_CONFLICT);
	m.nattr--;			/* drop KEM_CT: rsa without its share */
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_MISSING);

	/* path id attribute must equal the header's */
	msg_sample(&m, PROTO_MSG_TUNNEL_REQUEST);
	m.hdr.id[0] ^= 1;
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_CONFLICT);

	/* certificate or its hash, not both, not neither */
	msg_sample(&m, PROTO_MSG_TUNNEL_RESPONSE);
	(void)msg_add_bytes(&m, PROTO_ATTR_CERT_HASH, kem, PROTO_HASH_LEN);
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_CONFLICT);
	m.nattr--;
	for (i = 0; i < m.nattr; i++)
		if (m.attr[i].type == PROTO_ATTR_CERT)
			m.attr[i].type = PROTO_ATTR_PADDING;
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_MISSING);
}

static void
test_route_rules(void **state)
{
	struct msg m;
	size_t i;

	msg_sample(&m, PROTO_MSG_ROUTE_DIRECTION);
	assert_int_equal(msg_validate(&m), 0);
	/* punch route without a binding key */
	for (i = 0; i < m.nattr; i++)
		if (m.attr[i].type == PROTO_ATTR_BINDING_KEY)
			m.attr[i].type = PROTO_ATTR_PADDING;
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_MISSING);
	/* a direct route must not hand out an RS binding key */
	msg_sample(&m, PROTO_MSG_ROUTE_DIRECTION);
	for (i = 0; i < m.nattr; i++)
		if (m.attr[i].type == PROTO_ATTR_ROUTE)
			m.attr[i].val = (const uint8_t *)"\x01";
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_CONFLICT);
	/* the handoff also names whom it is for */
	msg_sample(&m, PROTO_MSG_ROUTE_HANDOFF);
	m.nattr--;
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_MISSING);
	/* ... which a Route Direction to a node does not carry */
	msg_sample(&m, PROTO_MSG_ROUTE_HANDOFF);
	m.hdr.type = PROTO_MSG_ROUTE_DIRECTION;
	m.hdr.flags = PROTO_F_SEALED;
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_UNEXPECTED);
}

static void
test_size_limits(void **state)
{
	static uint8_t cert[PROTO_CERT_MAX];
	struct msg m;
	size_t len;

	/* A certificate update over one datagram must be fragmented. */
	msg_init(&m, PROTO_MSG_CERT_UPDATE);
	(void)msg_add_bytes(&m, PROTO_ATTR_CERT, cert, 1000);
	(void)msg_add_bytes(&m, PROTO_ATTR_STATUS, cert, 400);
	assert_int_equal(msg_encode(&m, wire, sizeof(wire), &len),
	    MSG_E_TOO_BIG);
	/* TLS messages may be larger */
	msg_init(&m, PROTO_MSG_NOTICE_ISSUED);
	msg_sample(&m, PROTO_MSG_NOTICE_ISSUED);
	m.attr[3].len = PROTO_CERT_MAX;
	m.attr[3].val = cert;
	len = encode_msg(&m);
	assert_true(len > PROTO_DATAGRAM_MAX);
	assert_int_equal(msg_decode(wire, len, &m), 0);
	/* a datagram claiming more than 1200 bytes is rejected as such */
	len = encode_sample(PROTO_MSG_REGISTRATION);
	store_be16(wire + 4, PROTO_DATAGRAM_MAX);
	assert_int_equal(msg_decode(wire, sizeof(wire), &m), MSG_E_TOO_BIG);
	/* output buffer too small */
	msg_sample(&m, PROTO_MSG_REGISTRATION);
	assert_int_equal(msg_encode(&m, wire, 40, &len), -ENOSPC);
}

/* Split a large Route Direction into fragments and put it back together. */
static void
test_fragments(void **state)
{
	static uint8_t body[PROTO_REASSEMBLY_MAX], big[PROTO_STATUS_MAX_LEN];
	static uint8_t joined[PROTO_REASSEMBLY_MAX];
	struct msg m, f, d;
	struct msg_header h;
	struct wbuf w;
	size_t blen, off = 0, jlen = 0, len, chunk = 1000;
	uint8_t i, count;

	msg_sample(&m, PROTO_MSG_ROUTE_DIRECTION);
	for (i = 0; i < m.nattr; i++)
		if (m.attr[i].type == PROTO_ATTR_PEER_STATUS) {
			memset(big, 0x5a, sizeof(big));
			m.attr[i].val = big;
			m.attr[i].len = 3000;
		}
	assert_int_equal(msg_encode(&m, wire, sizeof(wire), &len),
	    MSG_E_TOO_BIG);
	wbuf_init(&w, body, sizeof(body));
	assert_int_equal(msg_attrs_encode(&m, &w), 0);
	blen = wbuf_len(&w);
	count = (uint8_t)((blen + chunk - 1) / chunk);
	assert_true(count >= 2 && count <= PROTO_FRAGMENTS_MAX);

	for (i = 0; i < count; i++) {
		f = m;
		f.nattr = 0;
		f.hdr.flags |= PROTO_F_FRAGMENT;
		f.hdr.seq = m.hdr.seq + i;
		f.frag.msgid = 0xfeedf00d;
		f.frag.index = i;
		f.frag.count = count;
		f.frag.payload = body + off;
		f.frag.len = blen - off < chunk ? blen - off : chunk;
		off += f.frag.len;
		len = encode_msg(&f);
		assert_true(len <= PROTO_DATAGRAM_MAX);
		assert_int_equal(msg_decode(wire, len, &d), 0);
		assert_int_equal(d.nattr, 0);
		assert_int_equal(d.frag.msgid, 0xfeedf00d);
		assert_int_equal(d.frag.index, i);
		assert_int_equal(d.frag.count, count);
		memcpy(joined + jlen, d.frag.payload, d.frag.len);
		jlen += d.frag.len;
		if (i == 0)
			h = d.hdr;
	}
	assert_int_equal(jlen, blen);
	h.flags &= (uint8_t)~PROTO_F_FRAGMENT;
	assert_int_equal(msg_body_decode(&h, joined, jlen, &d), 0);
	assert_int_equal(d.nattr, m.nattr);
	for (i = 0; i < m.nattr; i++) {
		assert_int_equal(d.attr[i].type, m.attr[i].type);
		assert_memory_equal(d.attr[i].val, m.attr[i].val, m.attr[i].len);
	}
}

static void
test_fragment_header(void **state)
{
	static const uint8_t payload[10] = { 1 };
	struct msg f, d;
	struct rbuf b;
	struct msg_frag fr;
	size_t len;
	uint8_t sub[PROTO_FRAG_HEADER_LEN + 1];
	struct wbuf w;

	msg_init(&f, PROTO_MSG_CERT_UPDATE);
	f.hdr.flags |= PROTO_F_FRAGMENT;
	f.frag.msgid = 1;
	f.frag.index = 0;
	f.frag.count = 2;
	f.frag.payload = payload;
	f.frag.len = sizeof(payload);
	len = encode_msg(&f);
	/* in-tunnel messages are not sealed by the codec's header */
	assert_int_equal(len, PROTO_HEADER_LEN + PROTO_FRAG_HEADER_LEN + 10);
	assert_int_equal(load_be32(wire + PROTO_HEADER_LEN), 1);
	wire[PROTO_HEADER_LEN + 4] = 2;		/* index == count */
	assert_int_equal(msg_decode(wire, len, &d), MSG_E_FRAG);
	wire[PROTO_HEADER_LEN + 4] = 0;
	wire[PROTO_HEADER_LEN + 5] = 1;		/* one fragment is no fragment */
	assert_int_equal(msg_decode(wire, len, &d), MSG_E_FRAG);
	wire[PROTO_HEADER_LEN + 5] = PROTO_FRAGMENTS_MAX + 1;
	assert_int_equal(msg_decode(wire, len, &d), MSG_E_FRAG);
	wire[PROTO_HEADER_LEN + 5] = PROTO_FRAGMENTS_MAX;
	assert_int_equal(msg_decode(wire, len, &d), 0);
	/* sub-header cut short, or no payload */
	store_be16(wire + 4, 5);
	assert_int_equal(msg_decode(wire, PROTO_HEADER_LEN + 5, &d), MSG_E_FRAG);
	store_be16(wire + 4, 6);
	assert_int_equal(msg_decode(wire, PROTO_HEADER_LEN + 6, &d), MSG_E_FRAG);

	/* the sub-header alone, as lib/frag uses it */
	fr.msgid = 0x01020304;
	fr.index = 3;
	fr.count = 4;
	wbuf_init(&w, sub, sizeof(sub));
	msg_frag_encode(&fr, &w);
	wbuf_put_u8(&w, 0x99);
	assert_int_equal(wbuf_len(&w), sizeof(sub));
	rbuf_init(&b, sub, sizeof(sub));
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(msg_frag_decode(&b, &fr), 0);
	assert_int_equal(fr.msgid, 0x01020304);
	assert_int_equal(fr.index, 3);
	assert_int_equal(fr.count, 4);
	assert_int_equal(fr.len, 1);
	assert_int_equal(fr.payload[0], 0x99);
}

static void
test_nonce(void **state)
{
	static const uint8_t want[PROTO_NONCE_LEN] = { PROTO_NONCE_SIGNALLING,
	    PROTO_MSG_REGISTRATION, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t want_data[PROTO_NONCE_LEN] = { PROTO_NONCE_DATA,
	    PROTO_MSG_DATA, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x01 };
	struct msg_header h = { 0 };
	struct msg_data dh = { PROTO_VERSION_1, PROTO_MSG_DATA, 0, 7, 0x1001 };
	uint8_t n[PROTO_NONCE_LEN];

	h.type = PROTO_MSG_REGISTRATION;
	h.seq = 0x0102030405060708ULL;
	h.txid = 0xffffffff;		/* not part of the nonce */
	msg_nonce(&h, n);
	assert_memory_equal(n, want, sizeof(want));
	msg_data_nonce(&dh, n);
	assert_memory_equal(n, want_data, sizeof(want_data));
}

static void
test_data_packets(void **state)
{
	struct msg_data dh = { PROTO_VERSION_1, PROTO_MSG_DATA, 1, 0xa1b2c3d4,
	    0x1122334455667788ULL }, got;
	const uint8_t *body;
	size_t blen;
	struct wbuf w;
	uint8_t pkt[PROTO_DATA_HEADER_LEN + 64];

	memset(pkt, 0xcc, sizeof(pkt));
	wbuf_init(&w, pkt, sizeof(pkt));
	assert_int_equal(msg_data_encode(&dh, &w), 0);
	assert_int_equal(wbuf_len(&w), PROTO_DATA_HEADER_LEN);
	assert_int_equal(pkt[1], PROTO_MSG_DATA);
	assert_int_equal(pkt[2], 1);
	assert_int_equal(pkt[3], 0);
	assert_int_equal(load_be32(pkt + 4), 0xa1b2c3d4);
	assert_int_equal(msg_data_decode(pkt, sizeof(pkt), &got, &body, &blen),
	    0);
	assert_int_equal(got.rid, 0xa1b2c3d4);
	assert_int_equal(got.phase, 1);
	assert_true(got.counter == 0x1122334455667788ULL);
	assert_ptr_equal(body, pkt + PROTO_DATA_HEADER_LEN);
	assert_int_equal(blen, 64);
	/* a data packet needs a tag plus at least one byte */
	assert_int_equal(msg_data_decode(pkt, PROTO_DATA_HEADER_LEN +
	    PROTO_TAG_LEN, &got, &body, &blen), MSG_E_LENGTH);
	assert_int_equal(msg_data_decode(pkt, PROTO_DATA_HEADER_LEN - 1, &got,
	    &body, &blen), MSG_E_SHORT_HEADER);
	pkt[1] = PROTO_MSG_RS_COOKIE;	/* exactly the cookie */
	assert_int_equal(msg_data_decode(pkt, sizeof(pkt), &got, &body, &blen),
	    MSG_E_LENGTH);
	assert_int_equal(msg_data_decode(pkt, PROTO_DATA_HEADER_LEN + 32, &got,
	    &body, &blen), 0);
	/* a hello is always cookie field + tag, never smaller than a cookie */
	pkt[1] = PROTO_MSG_RS_HELLO;
	assert_int_equal(msg_data_decode(pkt, PROTO_DATA_HEADER_LEN + 48, &got,
	    &body, &blen), 0);
	assert_int_equal(msg_data_decode(pkt, PROTO_DATA_HEADER_LEN + 16, &got,
	    &body, &blen), MSG_E_LENGTH);
	pkt[1] = PROTO_MSG_TUNNEL_REQUEST;	/* header format, not data */
	assert_int_equal(msg_data_decode(pkt, sizeof(pkt), &got, &body, &blen),
	    MSG_E_DATA_TYPE);
	pkt[1] = PROTO_MSG_DATA;
	pkt[2] = 2;			/* key phase is one bit */
	assert_int_equal(msg_data_decode(pkt, sizeof(pkt), &got, &body, &blen),
	    MSG_E_RESERVED);
	pkt[2] = 0;
	pkt[3] = 1;
	assert_int_equal(msg_data_decode(pkt, sizeof(pkt), &got, &body, &blen),
	    MSG_E_RESERVED);
	pkt[3] = 0;
	pkt[0] = 9;
	assert_int_equal(msg_data_decode(pkt, sizeof(pkt), &got, &body, &blen),
	    MSG_E_VERSION);
	assert_true(msg_type_is_data(PROTO_MSG_TUNNEL_CONTROL));
	assert_false(msg_type_is_data(PROTO_MSG_TUNNEL_RESPONSE));
}

static void
test_ticket(void **state)
{
	uint8_t t[PROTO_TICKET_HEADER_LEN + 100 + PROTO_TAG_LEN];
	uint8_t out[PROTO_TICKET_MAX];
	struct msg_ticket tk;
	struct msg m, d;
	struct wbuf w;

	memset(t, 0x33, sizeof(t));
	t[0] = PROTO_VERSION_1;
	store_be32(t + 1, 7);
	assert_int_equal(msg_ticket_split(t, sizeof(t), &tk), 0);
	assert_int_equal(tk.key_id, 7);
	assert_int_equal(tk.aad_len, PROTO_TICKET_HEADER_LEN);
	assert_ptr_equal(tk.nonce, t + 5);
	assert_ptr_equal(tk.ct, t + PROTO_TICKET_HEADER_LEN);
	assert_int_equal(tk.ct_len, 100);
	assert_ptr_equal(tk.tag, t + sizeof(t) - PROTO_TAG_LEN);
	assert_int_equal(msg_ticket_split(t, PROTO_TICKET_MIN, &tk), 0);
	assert_int_equal(tk.ct_len, 1);
	assert_int_equal(msg_ticket_split(t, PROTO_TICKET_MIN - 1, &tk),
	    MSG_E_TICKET);
	assert_int_equal(msg_ticket_split(t, PROTO_TICKET_MAX + 1, &tk),
	    MSG_E_TICKET);
	t[0] = 2;
	assert_int_equal(msg_ticket_split(t, sizeof(t), &tk), MSG_E_VERSION);

	msg_sample(&m, PROTO_MSG_TICKET_BODY);
	wbuf_init(&w, out, sizeof(out));
	assert_int_equal(msg_ticket_body_encode(&m, &w), 0);
	assert_int_equal(msg_ticket_body_decode(out, wbuf_len(&w), &d), 0);
	assert_same_attrs(&m, &d);
	/* a ticket body without its key is refused */
	assert_int_equal(msg_ticket_body_decode(out + 20, wbuf_len(&w) - 20,
	    &d), MSG_E_ATTR_MISSING);
	/* and a ticket body is never a wire message */
	m.hdr.flags = 0;
	assert_int_equal(msg_encode(&m, wire, sizeof(wire), &w.len),
	    MSG_E_TYPE);
}

/* A TLS stream: frame two messages by their headers. */
static void
test_stream_framing(void **state)
{
	struct msg m;
	size_t a, b;
	int n;

	a = encode_sample(PROTO_MSG_NOTICE_REVOKED);
	msg_sample(&m, PROTO_MSG_NOTICE_ACK);
	assert_int_equal(msg_encode(&m, wire + a, sizeof(wire) - a, &b), 0);
	n = msg_frame_len(wire, a + b);
	assert_int_equal(n, (int)a);
	assert_int_equal(msg_frame_len(wire, PROTO_HEADER_LEN), (int)a);
	assert_int_equal(msg_frame_len(wire, PROTO_HEADER_LEN - 1),
	    MSG_E_SHORT_HEADER);
	assert_int_equal(msg_frame_len(wire + a, b), (int)b);
	/* msg_header_decode leaves the cursor at the body */
	{
		struct rbuf r;
		struct msg_header h;

		rbuf_init(&r, wire, a + b);
		assert_int_equal(msg_header_decode(&r, &h), 0);
		assert_int_equal(r.off, PROTO_HEADER_LEN);
		assert_int_equal(h.length, a - PROTO_HEADER_LEN);
		assert_int_equal(msg_decode(wire, a + b, &m), MSG_E_TRAILING);
		assert_int_equal(msg_decode(wire, a, &m), 0);
	}
}

static void
test_transcripts(void **state)
{
	static const uint8_t h_r[PROTO_HASH_LEN] = { 0xab, 0xcd };
	struct msg req, resp;
	struct wbuf w;
	uint8_t t[2048];
	size_t off;

	msg_sample(&req, PROTO_MSG_TUNNEL_REQUEST);
	wbuf_init(&w, t, sizeof(t));
	assert_int_equal(msg_transcript_request(&req, h_r, &w), 0);
	/* path id, kex, offers, nonce, share, fqdn, peer fqdn, H(cert_R) */
	off = 0;
	assert_int_equal(load_be16(t + off), PROTO_ATTR_PATH_ID);
	off += 4 + 16;
	assert_int_equal(load_be16(t + off), PROTO_ATTR_KEX);
	off += 4 + 1;
	assert_int_equal(load_be16(t + off), PROTO_ATTR_AEAD_OFFERS);
	off += 4 + 2;
	assert_int_equal(load_be16(t + off), PROTO_ATTR_NONCE);
	off += 4 + 32;
	assert_int_equal(load_be16(t + off), PROTO_ATTR_EPHEMERAL);
	off += 4 + 32;
	assert_int_equal(load_be16(t + off), PROTO_ATTR_FQDN);
	off += 4 + load_be16(t + off + 2);
	assert_int_equal(load_be16(t + off), PROTO_ATTR_PEER_FQDN);
	off += 4 + load_be16(t + off + 2);
	assert_int_equal(load_be16(t + off), PROTO_ATTR_PEER_CERT_HASH);
	assert_memory_equal(t + off + 4, h_r, PROTO_HASH_LEN);
	assert_int_equal(wbuf_len(&w), off + 4 + PROTO_HASH_LEN);

	msg_sample(&resp, PROTO_MSG_TUNNEL_RESPONSE);
	wbuf_init(&w, t, sizeof(t));
	assert_int_equal(msg_transcript_response(&resp, h_r, &w), 0);
	assert_int_equal(wbuf_len(&w), (4 + 32) * 2 + 4 + 1 + 4 + 32);
	assert_int_equal(load_be16(t + 72), PROTO_ATTR_AEAD);
	assert_int_equal(msg_transcript_response(&req, h_r, &w), MSG_E_TYPE);
	/* a lone fragment has no transcript (found by fuzz_msg) */
	resp.nattr = 0;
	resp.hdr.flags |= PROTO_F_FRAGMENT;
	resp.frag.count = 2;
	resp.frag.payload = t;
	resp.frag.len = 1;
	assert_int_equal(msg_transcript_response(&resp, h_r, &w), MSG_E_FRAG);
	req.nattr = 0;
	req.hdr.flags |= PROTO_F_FRAGMENT;
	assert_int_equal(msg_transcript_request(&req, h_r, &w), MSG_E_FRAG);
}

static void
test_accessors_and_names(void **state)
{
	static const int errs[] = { MSG_E_SHORT_HEADER, MSG_E_VERSION,
	    MSG_E_TYPE, MSG_E_STATUS, MSG_E_FLAGS, MSG_E_RESERVED, MSG_E_LENGTH,
	    MSG_E_TRAILING, MSG_E_TOO_BIG, MSG_E_FRAG, MSG_E_ATTR_TRUNCATED,
	    MSG_E_ATTR_MISSING, MSG_E_ATTR_SIZE, MSG_E_ATTR_DUP,
	    MSG_E_ATTR_UNKNOWN, MSG_E_ATTR_UNEXPECTED, MSG_E_ATTR_VALUE,
	    MSG_E_ATTR_COUNT, MSG_E_ATTR_CONFLICT, MSG_E_DATA_TYPE,
	    MSG_E_TICKET };
	struct msg m, d;
	struct msg_addr a;
	const struct msg_attr *at;
	size_t i, j, len;
	uint32_t v32;
	uint64_t v64;
	uint8_t v8;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		assert_string_not_equal(msg_strerror(errs[i]), "unknown error");
		for (j = 0; j < i; j++)
			assert_string_not_equal(msg_strerror(errs[i]),
			    msg_strerror(errs[j]));
	}
	for (i = 0; i < msg_sample_ntypes; i++)
		assert_string_not_equal(msg_type_name(msg_sample_types[i]),
		    "unknown");
	assert_string_equal(msg_status_name(PROTO_STATUS_REVOKED), "revoked");
	assert_string_equal(msg_attr_name(PROTO_ATTR_CERT_HASH), "cert-hash");

	msg_sample(&m, PROTO_MSG_ROUTE_DIRECTION);
	len = encode_msg(&m);
	assert_int_equal(msg_decode(wire, len, &d), 0);
	assert_int_equal(msg_attr_u8(&d, PROTO_ATTR_ROUTE, &v8), 0);
	assert_int_equal(v8, PROTO_ROUTE_PUNCH);
	assert_int_equal(msg_attr_u32(&d, PROTO_ATTR_RECV_ID, &v32), 0);
	assert_int_equal(v32, 0x0a0b0c0d);
	assert_int_equal(msg_attr_u64(&d, PROTO_ATTR_EXPIRY, &v64), 0);
	assert_true(v64 == 1795000000);
	assert_int_equal(msg_attr_u32(&d, PROTO_ATTR_NONCE, &v32), -ENOENT);
	assert_int_equal(msg_attr_u32(&d, PROTO_ATTR_EXPIRY, &v32), -EINVAL);
	at = msg_attr_find(&d, PROTO_ATTR_PEER_ADDR);
	assert_non_null(at);
	assert_int_equal(msg_addr_parse(at, &a), 0);
	assert_int_equal(a.family, PROTO_FAMILY_IPV4);
	assert_int_equal(a.port, 40001);
	at = msg_attr_next(&d, PROTO_ATTR_PEER_ADDR, at);
	assert_non_null(at);
	assert_int_equal(msg_addr_parse(at, &a), 0);
	assert_int_equal(a.family, PROTO_FAMILY_IPV6);
	assert_int_equal(a.port, PROTO_PORT_TUNNEL);
	assert_int_equal(a.addr[15], 0x42);
	assert_null(msg_attr_next(&d, PROTO_ATTR_PEER_ADDR, at));

	/* builder limits */
	msg_init(&m, PROTO_MSG_TUNNEL_UPDATE);
	for (i = 0; i < MSG_ATTRS_MAX; i++)
		assert_int_equal(msg_add_u8(&m, PROTO_ATTR_PADDING, 0), 0);
	assert_int_equal(msg_add_u8(&m, PROTO_ATTR_PADDING, 0), -E2BIG);
}

/* More attributes than a decoded message holds. */
static void
test_attr_count(void **state)
{
	struct msg m;
	size_t off = PROTO_HEADER_LEN, i;

	msg_init(&m, PROTO_MSG_AUTH_REQUEST);
	(void)encode_msg(&m);
	for (i = 0; i < MSG_ATTRS_MAX + 1; i++) {
		store_be16(wire + off, PROTO_ATTR_PADDING);
		store_be16(wire + off + 2, 0);
		off += 4;
	}
	store_be16(wire + 4, (uint16_t)(off - PROTO_HEADER_LEN));
	assert_int_equal(msg_decode(wire, off, &m), MSG_E_ATTR_COUNT);
	/* unknown skippable attributes do not count */
	for (i = 0; i < MSG_ATTRS_MAX + 1; i++)
		store_be16(wire + PROTO_HEADER_LEN + 4 * i, 0xa000);
	assert_int_equal(msg_decode(wire, off, &m), 0);
	assert_int_equal(m.nattr, 0);
}

/* The typed Route Direction view reads what the builder wrote, and back. */
static void
test_route_typed(void **state)
{
	struct msg m, d, b, d2;
	struct msg_route r, r2;
	size_t len;
	uint8_t copy[PROTO_DATAGRAM_MAX];

	msg_sample(&m, PROTO_MSG_ROUTE_DIRECTION);
	len = encode_msg(&m);
	memcpy(copy, wire, len);
	assert_int_equal(msg_decode(copy, len, &d), 0);
	assert_int_equal(msg_route_read(&d, &r), 0);
	assert_int_equal(r.route, PROTO_ROUTE_PUNCH);
	assert_int_equal(r.role, PROTO_ROLE_RESPONDER);
	assert_int_equal(r.kex, PROTO_KEX_ECDHE);
	assert_true(r.expiry == 1795000000);
	assert_memory_equal(r.peer_fqdn, "alice.dc1.ntm.test", 18);
	assert_int_equal(r.peer_fqdn_len, 18);
	assert_non_null(r.peer_vip4);
	assert_int_equal(r.peer_vip4[3], 2);
	assert_int_equal(r.npeer_addr, 2);
	assert_int_equal(r.peer_addr[1].family, PROTO_FAMILY_IPV6);
	assert_int_equal(r.nrelay_addr, 1);
	assert_int_equal(r.recv_id, 0x0a0b0c0d);
	assert_int_equal(r.peer_recv_id, 0x01020304);
	assert_non_null(r.binding_key);
	assert_int_equal(r.peer_status->len, 300);
	assert_int_equal(r.punch_deadline, PROTO_TIMER_PUNCH_DEADLINE);
	assert_null(r.fqdn);
	assert_true(r.path_id >= copy && r.path_id < copy + len);

	/* write it back into a fresh message: same attributes */
	msg_init(&b, PROTO_MSG_ROUTE_DIRECTION);
	memcpy(b.hdr.id, r.path_id, PROTO_ID_LEN);
	assert_int_equal(msg_route_write(&b, &r), 0);
	len = encode_msg(&b);
	assert_int_equal(msg_decode(wire, len, &d2), 0);
	assert_int_equal(msg_route_read(&d2, &r2), 0);
	assert_int_equal(r2.npeer_addr, r.npeer_addr);
	assert_memory_equal(r2.tunnel_key, r.tunnel_key, PROTO_KEY_LEN);
	assert_int_equal(d2.nattr, d.nattr);

	/* not a route message, or an error answer */
	msg_sample(&m, PROTO_MSG_NTM_ACK);
	assert_int_equal(msg_route_read(&m, &r), MSG_E_TYPE);
	msg_init(&m, PROTO_MSG_ROUTE_DIRECTION);
	m.hdr.status = PROTO_STATUS_REFUSED_POLICY;
	assert_int_equal(msg_route_read(&m, &r), MSG_E_TYPE);
	/* a handoff carries the FQDN it is for */
	msg_sample(&m, PROTO_MSG_ROUTE_HANDOFF);
	assert_int_equal(msg_route_read(&m, &r), 0);
	assert_int_equal(r.fqdn_len, strlen("bob.dc2.ntm.test"));
	/* unknown address family refused by the writer */
	r.peer_addr[0].family = 5;
	msg_init(&b, PROTO_MSG_ROUTE_HANDOFF);
	assert_int_equal(msg_route_write(&b, &r), -EINVAL);
}

/* "TICKET_KEY_ID" -> "ticket-key-id", the codec's name for it. */
static void
doc_name(const char *in, size_t n, char *out, size_t cap)
{
	size_t i;

	for (i = 0; i < n && i + 1 < cap; i++)
		out[i] = in[i] == '_' ? '-' :
		    (in[i] >= 'A' && in[i] <= 'Z' ? (char)(in[i] + 32) : in[i]);
	out[i] = '\0';
}

/* Size column: "32", "34–512" (en dash), "7 or 19". */
static int
doc_sizes(const char *col, size_t *lo, size_t *hi)
{
	unsigned a, b;

	if (sscanf(col, "%u\xe2\x80\x93%u", &a, &b) == 2 ||
	    sscanf(col, "%u or %u", &a, &b) == 2) {
		*lo = a;
		*hi = b;
		return 0;
	}
	if (sscanf(col, "%u", &a) == 1) {
		*lo = *hi = a;
		return 0;
	}
	return -1;
}

/*
 * doc/PROTOCOL.md and the codec agree: every attribute row of section 3.1
 * has the codec's number, name and size limits, every attribute the codec
 * knows has a row, and every "NAME 0xNN" message mention matches the
 * codec's type number, with each type mentioned.
 */
static void
test_protocol_doc(void **state)
{
	static bool attr_seen[0x10000], type_seen[256];
	const char *srcdir = getenv("top_srcdir");
	char path[4096], line[1024], name[64], want[64];
	FILE *f;
	size_t i, rows = 0, mentions = 0, lo, hi, dlo, dhi;
	unsigned v;

	if (srcdir == NULL)
		skip();
	snprintf(path, sizeof(path), "%s/doc/PROTOCOL.md", srcdir);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p, *q;

		/* | 0x0001 | NONCE | 32 | ... */
		if (strncmp(line, "| 0x", 4) == 0 && line[8] == ' ' &&
		    line[9] == '|' &&
		    sscanf(line + 2, "%x", &v) == 1) {
			p = line + 11;
			q = strchr(p, ' ');
			assert_non_null(q);
			doc_name(p, (size_t)(q - p), name, sizeof(name));
			assert_string_equal(msg_attr_name((uint16_t)v), name);
			assert_int_equal(msg_attr_limits((uint16_t)v, &lo, &hi),
			    0);
			p = strchr(q, '|');
			assert_non_null(p);
			assert_int_equal(doc_sizes(p + 2, &dlo, &dhi), 0);
			if (lo != dlo || hi != dhi)
				fail_msg("%s: doc %zu-%zu, codec %zu-%zu", name,
				    dlo, dhi, lo, hi);
			attr_seen[v] = true;
			rows++;
			continue;
		}
		/* REG_HELLO 0x01, or a table row | 0x30 | TUNNEL_KEEPALIVE | */
		for (p = line; (p = strstr(p, " 0x")) != NULL; p++) {
			q = p;
			while (q > line && ((q[-1] >= 'A' && q[-1] <= 'Z') ||
			    q[-1] == '_' || (q[-1] >= '0' && q[-1] <= '9')))
				q--;
			if (q == p || p - q < 4 ||
			    sscanf(p + 1, "0x%2x", &v) != 1 ||
			    (p[5] >= '0' && p[5] <= '9') ||
			    (p[5] >= 'a' && p[5] <= 'f'))
				continue;
			doc_name(q, (size_t)(p - q), name, sizeof(name));
			if (!msg_type_known((uint8_t)v) &&
			    !msg_type_is_data((uint8_t)v))
				fail_msg("doc names type 0x%02x (%s)", v, name);
			assert_string_equal(msg_type_name((uint8_t)v), name);
			type_seen[v] = true;
			mentions++;
		}
		if (sscanf(line, "| 0x%2x | %63[A-Z_] |", &v, want) == 2) {
			doc_name(want, strlen(want), name, sizeof(name));
			assert_string_equal(msg_type_name((uint8_t)v), name);
			type_seen[v] = true;
			mentions++;
		}
	}
	fclose(f);
	for (v = 1; v < 0x10000; v++)
		if (msg_attr_limits((uint16_t)v, &lo, &hi) == 0 && !attr_seen[v])
			fail_msg("attribute %s (0x%04x) not in PROTOCOL.md",
			    msg_attr_name((uint16_t)v), v);
	for (i = 0; i < msg_sample_ntypes; i++)
		if (!type_seen[msg_sample_types[i]])
			fail_msg("type %s not in PROTOCOL.md",
			    msg_type_name(msg_sample_types[i]));
	assert_true(rows > 50);
	assert_true(mentions >= msg_sample_ntypes);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_version_and_type),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_sealed_tag),
		cmocka_unit_test(test_attr_length_lies),
		cmocka_unit_test(test_attr_rules),
		cmocka_unit_test(test_attr_values),
		cmocka_unit_test(test_attr_count),
		cmocka_unit_test(test_tunnel_request_rules),
		cmocka_unit_test(test_route_rules),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_fragment_header),
		cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_data_packets),
		cmocka_unit_test(test_ticket),
		cmocka_unit_test(test_stream_framing),
		cmocka_unit_test(test_transcripts),
		cmocka_unit_test(test_accessors_and_names),
		cmocka_unit_test(test_protocol_doc),
		cmocka_unit_test(test_route_typed),
	};
	struct CMUnitTest tests[sizeof(fixed) / sizeof(fixed[0]) + 64];
	static char names[64][48];
	size_t i, n = 0;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	for (i = 0; i < msg_sample_ntypes && i < 64; i++) {
		snprintf(names[i], sizeof(names[i]), "roundtrip_%s",
		    msg_type_name(msg_sample_types[i]));
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = names[i];
		tests[n].test_func = test_type;
		tests[n].initial_state =
		    (void *)(uintptr_t)msg_sample_types[i];
		n++;
	}
	return _cmocka_run_group_tests("msg", tests, n, NULL, NULL);
}
