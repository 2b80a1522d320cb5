/* test_frag.c -- unit tests for fragment splitting and reassembly. */
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

#include "frag.h"

struct fixture {
	struct frag_table	*t;
	uint8_t			 msg[FRAG_MESSAGE_MAX + FRAG_PIECE_MAX];
	uint8_t			 out[FRAG_MESSAGE_MAX];
	size_t			 outlen;
};

static int
setup(void **state)
{
	struct fixture *f;
	size_t i;

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->t = malloc(sizeof(*f->t))) == NULL)
		return -1;
	frag_table_init(f->t);
	for (i = 0; i < sizeof(f->msg); i++)
		f->msg[i] = (uint8_t)(i * 7 + i / 251);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->t);
	free(f);
	return 0;
}

static struct frag_peer
peer_of(const char *ip, uint16_t port)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct frag_peer p;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		assert_int_equal(frag_peer_from_sockaddr(&p,
		    (struct sockaddr *)&sin), 0);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		assert_int_equal(frag_peer_from_sockaddr(&p,
		    (struct sockaddr *)&sin6), 0);
	}
	return p;
}

/* Feeds piece i of a message split by frag_split over f->msg. */
static int
feed(struct fixture *f, const struct frag_peer *peer, uint32_t id,
    const struct frag_piece *pc, unsigned i, unsigned n, uint64_t now)
{
	return frag_input(f->t, peer, id, (uint8_t)i, (uint8_t)n,
	    f->msg + pc[i].off, pc[i].len, now, f->out, sizeof(f->out),
	    &f->outlen);
}

static void
test_split(void **state)
{
	struct frag_piece pc[FRAG_MAX_COUNT];
	unsigned n;

	assert_int_equal(frag_split(0, 1000, pc, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pc[0].len, 0);
	assert_int_equal(frag_split(1000, 1000, pc, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(frag_split(2500, 1000, pc, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pc[1].off, 1000);
	assert_int_equal(pc[1].len, 1000);
	assert_int_equal(pc[2].off, 2000);
	assert_int_equal(pc[2].len, 500);
	/* 16 pieces is the most; 16 * 1024 is also the largest message. */
	assert_int_equal(frag_split(16 * 1024, 1024, pc, &n), 0);
	assert_int_equal(n, 16);
	assert_int_equal(pc[15].off + pc[15].len, 16384);
	assert_int_equal(frag_split(16 * 1000 + 1, 1000, pc, &n), -EMSGSIZE);
	assert_int_equal(frag_split(FRAG_MESSAGE_MAX + 1, 1200, pc, &n),
	    -EMSGSIZE);
	assert_int_equal(frag_split(100, 0, pc, &n), -EINVAL);
	assert_int_equal(frag_split(100, FRAG_PIECE_MAX + 1, pc, &n), -EINVAL);
}

static void
test_in_order(void **state)
{
	struct fixture *f = *state;
	struct frag_piece pc[FRAG_MAX_COUNT];
	struct frag_peer a = peer_of("192.0.2.1", 4610);
	unsigned n, i;

	assert_int_equal(frag_split(5000, 1100, pc, &n), 0);
	assert_int_equal(n, 5);
	for (i = 0; i + 1 < n; i++)
		assert_int_equal(feed(f, &a, 7, pc, i, n, 1000), 0);
	assert_int_equal(frag_peer_bytes(f->t, &a), 4 * 1100);
	assert_int_equal(feed(f, &a, 7, pc, n - 1, n, 1000), 1);
	assert_int_equal(f->outlen, 5000);
	assert_memory_equal(f->out, f->msg, 5000);
	assert_int_equal(frag_peer_bytes(f->t, &a), 0);
	assert_int_equal(frag_peer_partials(f->t, &a), 0);
	assert_true(frag_next_expiry(f->t) == UINT64_MAX);
	assert_int_equal(f->t->stats.completed, 1);
}

static void
test_out_of_order(void **state)
{
	struct fixture *f = *state;
	static const unsigned order[3][16] = {
		{ 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 },
		{ 3, 9, 0, 15, 6, 12, 1, 4, 14, 7, 10, 2, 13, 5, 8, 11 },
		{ 8, 0, 1, 2, 3, 4, 5, 6, 7, 15, 14, 13, 12, 11, 10, 9 },
	};
	struct frag_piece pc[FRAG_MAX_COUNT];
	struct frag_peer a = peer_of("192.0.2.1", 4610);
	struct frag_peer b = peer_of("192.0.2.1", 4611);
	unsigned n, i, k;

	assert_int_equal(frag_split(16000, 1000, pc, &n), 0);
	assert_int_equal(n, 16);
	for (k = 0; k < 3; k++) {
		/* Same message id from two peers, interleaved. */
		for (i = 0; i + 1 < n; i++) {
			assert_int_equal(feed(f, &a, 100 + k, pc, order[k][i],
			    n, 5), 0);
			assert_int_equal(feed(f, &b, 100 + k, pc,
			    order[k][n - 1 - i], n, 5), 0);
		}
		memset(f->out, 0, sizeof(f->out));
		assert_int_equal(feed(f, &a, 100 + k, pc, order[k][n - 1], n, 5), 1);
		assert_int_equal(f->outlen, 16000);
		assert_memory_equal(f->out, f->msg, 16000);
		memset(f->out, 0, sizeof(f->out));
		assert_int_equal(feed(f, &b, 100 + k, pc, order[k][0], n, 5), 1);
		assert_int_equal(f->outlen, 16000);
		assert_memory_equal(f->out, f->msg, 16000);
	}
}

static void
test_duplicate(void **state)
{
	struct fixture *f = *state;
	struct frag_piece pc[FRAG_MAX_COUNT];
	struct frag_peer a = peer_of("192.0.2.1", 4610);
	uint8_t other[1000];
	unsigned n;

	assert_int_equal(frag_split(3000, 1000, pc, &n), 0);
	assert_int_equal(feed(f, &a, 1, pc, 1, n, 0), 0);
	assert_int_equal(feed(f, &a, 1, pc, 1, n, 1), 0);	/* exact copy */
	assert_int_equal(f->t->stats.duplicates, 1);
	assert_int_equal(frag_peer_bytes(f->t, &a), 1000);
	/* Same index, other bytes: refused, the held copy stays. */
	memcpy(other, f->msg + 1000, sizeof(other));
	other[500] ^= 1;
	assert_int_equal(frag_input(f->t, &a, 1, 1, 3, other, sizeof(other), 2,
	    f->out, sizeof(f->out), &f->outlen), -EBADMSG);
	/* Same index, other length: refused. */
	assert_int_equal(frag_input(f->t, &a, 1, 1, 3, f->msg + 1000, 999, 2,
	    f->out, sizeof(f->out), &f->outlen), -EBADMSG);
	/* Count changed: refused. */
	assert_int_equal(frag_input(f->t, &a, 1, 0, 4, f->msg, 1000, 2,
	    f->out, sizeof(f->out), &f->outlen), -EBADMSG);
	assert_int_equal(f->t->stats.inconsistent, 3);
	assert_int_equal(feed(f, &a, 1, pc, 0, n, 3), 0);
	assert_int_equal(feed(f, &a, 1, pc, 2, n, 3), 1);
	assert_int_equal(f->outlen, 3000);
	assert_memory_equal(f->out, f->msg, 3000);
}

static void
test_missing_expires(void **state)
{
	struct fixture *f = *state;
	struct frag_piece pc[FRAG_MAX_COUNT];
	struct frag_peer a = peer_of("192.0.2.1", 4610);
	unsigned n;

	assert_int_equal(frag_split(4000, 1000, pc, &n), 0);
	/* First fragment at t=10000 starts the clock; later ones don't. */
	assert_int_equal(feed(f, &a, 9, pc, 0, n, 10000), 0);
	assert_int_equal(feed(f, &a, 9, pc, 1, n, 11500), 0);
	assert_int_equal(feed(f, &a, 9, pc, 2, n, 11900), 0);
	assert_true(frag_next_expiry(f->t) == 12000);
	frag_expire(f->t, 11999);
	assert_int_equal(frag_peer_partials(f->t, &a), 1);
	assert_int_equal(f->t->stats.expired, 0);
	frag_expire(f->t, 12000);
	assert_int_equal(frag_peer_partials(f->t, &a), 0);
	assert_int_equal(frag_peer_bytes(f->t, &a), 0);
	assert_int_equal(f->t->stats.expired, 1);
	assert_true(frag_next_expiry(f->t) == UINT64_MAX);
	/* The last fragment now starts a new message; it does not complete. */
	assert_int_equal(feed(f, &a, 9, pc, 3, n, 12000), 0);

	/* Just before the deadline the message still completes. */
	frag_table_init(f->t);
	assert_int_equal(feed(f, &a, 10, pc, 0, n, 0), 0);
	assert_int_equal(feed(f, &a, 10, pc, 1, n, 0), 0);
	assert_int_equal(feed(f, &a, 10, pc, 2, n, 1999), 0);
	assert_int_equal(feed(f, &a, 10, pc, 3, n, 1999), 1);
	assert_memory_equal(f->out, f->msg, 4000);
	/* At the deadline, frag_input itself expires the partial. */
	assert_int_equal(feed(f, &a, 11, pc, 0, n, 0), 0);
	assert_int_equal(feed(f, &a, 11, pc, 1, n, 0), 0);
	assert_int_equal(feed(f, &a, 11, pc, 2, n, 0), 0);
	assert_int_equal(feed(f, &a, 11, pc, 3, n, 2000), 0);
	assert_int_equal(frag_peer_bytes(f->t, &a), 1000);
}

static void
test_oversized(void **state)
{
	struct fixture *f = *state;
	struct frag_peer a = peer_of("192.0.2.1", 4610);
	struct frag_peer b = peer_of("2001:db8::1", 4610);
	unsigned i;

	/* 16 fragments of 1200 bytes would make 19200 > 16384. */
	for (i = 0; i < 13; i++)
		assert_int_equal(frag_input(f->t, &a, 3, (uint8_t)i, 16,
		    f->msg + i * 1200, 1200, 0, f->out, sizeof(f->out),
		    &f->outlen), 0);
	assert_int_equal(frag_peer_bytes(f->t, &a), 13 * 1200);
	assert_int_equal(frag_input(f->t, &a, 3, 13, 16, f->msg + 13 * 1200,
	    1200, 0, f->out, sizeof(f->out), &f->outlen), -EMSGSIZE);
	assert_int_equal(f->t->stats.oversized, 1);
	assert_int_equal(frag_peer_bytes(f->t, &a), 13 * 1200);
	/* A single fragment above the datagram limit. */
	assert_int_equal(frag_input(f->t, &a, 4, 0, 2, f->msg,
	    FRAG_PIECE_MAX + 1, 0, f->out, sizeof(f->out), &f->outlen),
	    -EINVAL);
	/* Complete, but the caller's buffer is too small: dropped. */
	assert_int_equal(frag_input(f->t, &b, 5, 0, 2, f->msg, 600, 0,
	    f->out, 1000, &f->outlen), 0);
	assert_int_equal(frag_input(f->t, &b, 5, 1, 2, f->msg + 600, 600, 0,
	    f->out, 1000, &f->outlen), -ENOSPC);
	assert_int_equal(frag_peer_bytes(f->t, &b), 0);
	assert_int_equal(frag_peer_bytes(f->t, &a), 13 * 1200);
	/* a's next message pushes out its oldest to stay within 16 KiB. */
	assert_int_equal(frag_input(f->t, &a, 6, 0, 2, f->msg, 1200, 0,
	    f->out, sizeof(f->out), &f->outlen), 0);
	assert_int_equal(frag_peer_bytes(f->t, &a), 1200);
	assert_int_equal(f->t->stats.evicted, 1);
}

static void
test_too_many_fragments(void **state)
{
	struct fixture *f = *state;
	struct frag_peer a = peer_of("192.0.2.1", 4610);

	assert_int_equal(frag_input(f->t, &a, 1, 0, 17, f->msg, 10, 0,
	    f->out, sizeof(f->out), &f->outlen), -EINVAL);
	assert_int_equal(frag_input(f->t, &a, 1, 16, 16, f->msg, 10, 0,
	    f->out, sizeof(f->out), &f->outlen), -EINVAL);
	assert_int_equal(frag_input(f->t, &a, 1, 3, 3, f->msg, 10, 0,
	    f->out, sizeof(f->out), &f->outlen), -EINVAL);
	assert_int_equal(frag_input(f->t, &a, 1, 0, 0, f->msg, 10, 0,
	    f->out, sizeof(f->out), &f->outlen), -EINVAL);
	assert_int_equal(f->t->stats.invalid, 4);
	assert_int_equal(frag_peer_partials(f->t, &a), 0);
	/* index 15 of 16 is the last valid one. */
	assert_int_equal(frag_input(f->t, &a, 1, 15, 16, f->msg, 10, 0,
	    f->out, sizeof(f->out), &f->outlen), 0);
	/* One fragment of one: complete at once, nothing held. */
	assert_int_equal(frag_input(f->t, &a, 2, 0, 1, f->msg, 10, 0,
	    f->out, sizeof(f->out), &f->outlen), 1);
	assert_int_equal(f->outlen, 10);
	assert_int_equal(frag_peer_partials(f->t, &a), 1);
}

static void
test_peer_cap(void **state)
{
	struct fixture *f = *state;
	struct frag_piece pc[FRAG_MAX_COUNT];
	struct frag_peer a = peer_of("192.0.2.1", 4610);
	struct frag_peer b = peer_of("192.0.2.2", 4610);
	unsigned n, i, id;

	assert_int_equal(frag_split(3000, 1000, pc, &n), 0);
	assert_int_equal(feed(f, &b, 1, pc, 0, n, 0), 0);
	/*
	 * Peer a floods: 40 messages of 16 fragments, 1200 bytes each, never
	 * completing.  It never holds more than its share; peer b's message,
	 * interleaved, still completes.
	 */
	for (id = 0; id < 40; id++) {
		for (i = 0; i < 13; i++) {
			assert_int_equal(frag_input(f->t, &a, 1000 + id,
			    (uint8_t)i, 16, f->msg, 1200, 1, f->out,
			    sizeof(f->out), &f->outlen), 0);
			assert_true(frag_peer_bytes(f->t, &a) <= FRAG_PEER_BYTES);
			assert_true(frag_peer_partials(f->t, &a) <=
			    FRAG_PEER_PARTIALS);
		}
		if (id == 20)
			assert_int_equal(feed(f, &b, 1, pc, 2, n, 1), 0);
	}
	assert_true(f->t->stats.evicted >= 39);
	assert_int_equal(frag_peer_bytes(f->t, &b), 2000);
	assert_int_equal(feed(f, &b, 1, pc, 1, n, 1), 1);
	assert_int_equal(f->outlen, 3000);
	assert_memory_equal(f->out, f->msg, 3000);
	/* a's newest message survived (oldest are evicted first). */
	assert_int_equal(frag_input(f->t, &a, 1039, 13, 16, f->msg, 1, 1,
	    f->out, sizeof(f->out), &f->outlen), 0);

	/* Many small partials: the per-peer message count applies too. */
	frag_table_init(f->t);
	for (id = 0; id < 10; id++)
		assert_int_equal(frag_input(f->t, &a, id, 0, 2, f->msg, 10, 1,
		    f->out, sizeof(f->out), &f->outlen), 0);
	assert_int_equal(frag_peer_partials(f->t, &a), FRAG_PEER_PARTIALS);
	assert_int_equal(frag_input(f->t, &a, 9, 1, 2, f->msg + 10, 10, 1,
	    f->out, sizeof(f->out), &f->outlen), 1);
	assert_int_equal(frag_input(f->t, &a, 0, 1, 2, f->msg + 10, 10, 1,
	    f->out, sizeof(f->out), &f->outlen), 0);	/* 0 was evicted */
}

static void
test_global_cap(void **state)
{
	struct fixture *f = *state;
	struct frag_peer p, last;
	char ip[32];
	unsigned i, k, held = 0;

	/* 100 peers each start one message: the oldest are evicted. */
	for (i = 0; i < 100; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%u", i + 1);
		p = peer_of(ip, 4610);
		for (k = 0; k < 3; k++)
			assert_int_equal(frag_input(f->t, &p, 77, (uint8_t)k, 4,
			    f->msg, 1000, i, f->out, sizeof(f->out),
			    &f->outlen), 0);
	}
	for (i = 0; i < 100; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%u", i + 1);
		p = peer_of(ip, 4610);
		held += frag_peer_partials(f->t, &p);
		if (i < 100 - FRAG_TABLE_SLOTS)
			assert_int_equal(frag_peer_partials(f->t, &p), 0);
	}
	assert_true(held * 3 <= FRAG_TABLE_CHUNKS);
	assert_true(f->t->nfree + held * 3 == FRAG_TABLE_CHUNKS);
	last = p;
	assert_int_equal(frag_input(f->t, &last, 77, 3, 4, f->msg, 1000, 100,
	    f->out, sizeof(f->out), &f->outlen), 1);

	/* Tiny fragments exhaust the chunks before the slots. */
	frag_table_init(f->t);
	for (i = 0; i < 20; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%u", i + 1);
		p = peer_of(ip, 4610);
		for (k = 0; k < 15; k++) {
			assert_int_equal(frag_input(f->t, &p, 5, (uint8_t)k, 16,
			    f->msg + k, 1, 200, f->out, sizeof(f->out),
			    &f->outlen), 0);
			assert_true(f->t->nfree <= FRAG_TABLE_CHUNKS);
		}
	}
	/* 300 fragments into 256 chunks: the first peers' messages went. */
	assert_true(f->t->stats.evicted >= 3);
	p = peer_of("203.0.113.1", 4610);
	assert_int_equal(frag_peer_partials(f->t, &p), 0);
	p = peer_of("203.0.113.20", 4610);
	assert_int_equal(frag_input(f->t, &p, 5, 15, 16, f->msg + 15, 1, 200,
	    f->out, sizeof(f->out), &f->outlen), 1);
	assert_int_equal(f->outlen, 16);
	assert_memory_equal(f->out, f->msg, 16);
}

static void
test_peer_key(void **state)
{
	struct sockaddr_in6 sin6;
	struct frag_peer a = peer_of("192.0.2.1", 4610), b;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(4610);
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &sin6.sin6_addr);
	assert_int_equal(frag_peer_from_sockaddr(&b, (struct sockaddr *)&sin6), 0);
	assert_true(frag_peer_equal(&a, &b));
	sin6.sin6_port = htons(4611);
	assert_int_equal(frag_peer_from_sockaddr(&b, (struct sockaddr *)&sin6), 0);
	assert_false(frag_peer_equal(&a, &b));
	sin6.sin6_family = AF_UNIX;
	assert_int_equal(frag_peer_from_sockaddr(&b, (struct sockaddr *)&sin6),
	    -EAFNOSUPPORT);
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The bytes a well-behaved sender would put in piece i of message (p, id). */
static size_t
model_piece(unsigned p, uint32_t id, unsigned i, uint8_t *buf)
{
	size_t len = (p * 131 + id * 17 + i * 7) % 1100 + 1, k;

	for (k = 0; k < len; k++)
		buf[k] = (uint8_t)(p ^ id ^ (i << 4) ^ k);
	return len;
}

static unsigned
model_count(unsigned p, uint32_t id)
{
	return (p + id) % FRAG_MAX_COUNT + 1;
}

/*
 * Random traffic from 8 peers: well-formed fragments in random order with
 * duplicates, plus garbage (bad counts, conflicting copies), with time
 * moving on.  After every input the limits hold, chunk accounting adds up,
 * and every completed message is exactly what its sender split.
 */
static void
test_random_invariants(void **state)
{
	struct fixture *f = *state;
	struct frag_peer peers[8];
	uint8_t piece[FRAG_PIECE_MAX], want[FRAG_MESSAGE_MAX], flipped;
	uint64_t s = 0x2545f4914f6cdd1dULL, now = 0, r;
	unsigned i, p, idx, count, held, j, completed = 0;
	uint32_t id;
	size_t len, wantlen;
	char ip[32];
	int rc;

	for (p = 0; p < 8; p++) {
		snprintf(ip, sizeof(ip), "2001:db8::%u", p + 1);
		peers[p] = peer_of(ip, 4610);
	}
	for (i = 0; i < 200000; i++) {
		r = xorshift(&s);
		p = (unsigned)(r % 8);
		id = (uint32_t)((r >> 8) % 6);
		count = model_count(p, id);
		idx = (unsigned)((r >> 16) % count);
		len = model_piece(p, id, idx, piece);
		if ((r >> 32) % 50 == 0)
			piece[0] ^= 0xff;		/* conflicting copy */
		if ((r >> 32) % 97 == 1)		/* count change, or invalid */
			count = (unsigned)((r >> 40) % 20);
		if ((r >> 32) % 10 == 2)
			now += (r >> 48) % 300;
		rc = frag_input(f->t, &peers[p], id, (uint8_t)idx,
		    (uint8_t)count, piece, len, now, f->out, sizeof(f->out),
		    &f->outlen);
		assert_true(rc == 0 || rc == 1 || rc == -EINVAL || rc == -EBADMSG ||
		    rc == -EMSGSIZE);
		if (rc == 1) {
			/*
			 * The pieces 0..count-1 of (p, id), where the first
			 * byte of each may be the corrupted copy's if that
			 * one arrived first.
			 */
			for (wantlen = 0, j = 0; j < count; j++) {
				len = model_piece(p, id, j, want + wantlen);
				flipped = (uint8_t)~want[wantlen];
				if (f->out[wantlen] == flipped)
					want[wantlen] = flipped;
				wantlen += len;
			}
			assert_int_equal(f->outlen, wantlen);
			assert_memory_equal(f->out, want, wantlen);
			completed++;
		}
		for (held = 0, j = 0; j < FRAG_TABLE_SLOTS; j++)
			held += f->t->slot[j].have;
		assert_int_equal(held + f->t->nfree, FRAG_TABLE_CHUNKS);
		assert_true(frag_peer_bytes(f->t, &peers[p]) <= FRAG_PEER_BYTES);
		assert_true(frag_peer_partials(f->t, &peers[p]) <=
		    FRAG_PEER_PARTIALS);
	}
	assert_true(completed > 1000);
	assert_true(f->t->stats.inconsistent > 100);
	assert_true(f->t->stats.duplicates > 1000);
	assert_true(f->t->stats.expired > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_global_cap, setup, teardown),
		cmocka_unit_test(test_peer_key),
		cmocka_unit_test_setup_teardown(test_random_invariants, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
