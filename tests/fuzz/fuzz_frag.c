/* fuzz_frag.c -- libFuzzer target: reassembly driven by operation streams. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frag.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * The input is a sequence of operations; each starts with a byte
 *
 *   bit  7 6 5   4 3 2   1 0
 *        kind    msgid   peer
 *
 * kind 0-3  fragment: index, count, length (2 bytes, big-endian, taken
 *           modulo FRAG_PIECE_MAX + 101 so a few are too long), salt; the
 *           payload is made from (peer, msgid, index, salt, position), so
 *           copies and conflicting copies are easy to reach;
 * kind 4    fragment whose payload is the next bytes of the input: index,
 *           count, length byte, then that many bytes;
 * kind 5    the clock advances by a 16-bit number of ms (next 2 bytes);
 * kind 6    frag_expire() at the current time;
 * kind 7    as kind 0 with an output buffer of only 1500 bytes.
 *
 * Peers 0 and 1 are one IPv4 host on two ports, peer 2 another IPv4
 * host, peer 3 an IPv6 one; msgid 7 stands for a
 * large id (0xfffffff0).  Oracle: a shadow record of the latest fragment
 * accepted per (peer, msgid, index).  A completed message must be exactly
 * those fragments in index order, all with its count, all accepted within
 * FRAG_TIMEOUT_MS of each other; per-peer and table limits always hold.
 */
enum {
	FZ_PEERS = 4,
	FZ_MSGIDS = 8,
	FZ_SMALL_OUT = 1500,
};

struct fz_shadow {
	bool		valid;
	uint8_t		count;
	uint16_t	len;
	uint64_t	when;
	uint8_t		data[FRAG_PIECE_MAX];
};

static struct frag_table	fz_table;
static struct fz_shadow	fz_sh[FZ_PEERS][FZ_MSGIDS][FRAG_MAX_COUNT];
static struct frag_peer		fz_peer[FZ_PEERS];
static uint8_t			fz_out[FRAG_MESSAGE_MAX];
static uint8_t			fz_expect[FRAG_MESSAGE_MAX];
static uint64_t			fz_stat_sum;

static void fz_fail(const char *) __attribute__((noreturn));

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_frag: %s\n", what);
	abort();
}

static void
fz_reset(void)
{
	int i;

	frag_table_init(&fz_table);
	memset(fz_peer, 0, sizeof(fz_peer));
	for (i = 0; i < 3; i++) {
		/* ::ffff:198.51.100.x, v4-mapped as frag.h stores IPv4 */
		fz_peer[i].addr[10] = fz_peer[i].addr[11] = 0xff;
		fz_peer[i].addr[12] = 198;
		fz_peer[i].addr[13] = 51;
		fz_peer[i].addr[14] = 100;
		fz_peer[i].addr[15] = (uint8_t)(i == 2 ? 2 : 1);
		fz_peer[i].port = 4610;
	}
	fz_peer[1].port = 40000;	/* peer 0's host, another port */
	fz_peer[3].addr[0] = 0x20;
	fz_peer[3].addr[1] = 0x01;
	fz_peer[3].addr[2] = 0x0d;
	fz_peer[3].addr[3] = 0xb8;
	fz_peer[3].addr[15] = 1;
	fz_peer[3].port = 4610;
	fz_stat_sum = 0;
	for (i = 0; i < FZ_PEERS * FZ_MSGIDS * FRAG_MAX_COUNT; i++)
		(&fz_sh[0][0][0])[i].valid = false;
}

struct fz_in {
	const uint8_t	*p;
	size_t		 len;
};

static bool
fz_u8(struct fz_in *in, uint8_t *v)
{
	if (in->len == 0)
		return false;
	*v = *in->p++;
	in->len--;
	return true;
}

/* Limits that hold after every operation. */
static void
fz_invariants(void)
{
	const struct frag_stats *s = &fz_table.stats;
	int i;

	for (i = 0; i < FZ_PEERS; i++) {
		if (frag_peer_bytes(&fz_table, &fz_peer[i]) > FRAG_PEER_BYTES)
			fz_fail("a peer holds more than FRAG_PEER_BYTES");
		if (frag_peer_partials(&fz_table, &fz_peer[i]) >
		    FRAG_PEER_PARTIALS)
			fz_fail("a peer holds more than FRAG_PEER_PARTIALS");
	}
	if (fz_table.nfree > FRAG_TABLE_CHUNKS)
		fz_fail("more free chunks than chunks");
	if (s->completed + s->duplicates + s->invalid + s->inconsistent +
	    s->oversized + s->expired + s->evicted < fz_stat_sum)
		fz_fail("a statistic went down");
	fz_stat_sum = s->completed + s->duplicates + s->invalid +
	    s->inconsistent + s->oversized + s->expired + s->evicted;
}

/* Checks a completed message against the shadow record, then forgets it. */
static void
fz_completed(int peer, int mid, uint8_t count, size_t outlen)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	size_t n = 0;
	int i;

	for (i = 0; i < count; i++) {
		struct fz_shadow *s = &fz_sh[peer][mid][i];

		if (!s->valid || s->count != count)
			fz_fail("completed with a fragment never accepted");
		if (n + s->len > sizeof(fz_expect))
			fz_fail("completed message over FRAG_MESSAGE_MAX");
		memcpy(fz_expect + n, s->data, s->len);
		n += s->len;
		if (s->when < lo)
			lo = s->when;
		if (s->when > hi)
			hi = s->when;
	}
	if (n != outlen || (n > 0 && memcmp(fz_expect, fz_out, n) != 0))
		fz_fail("completed message differs from its fragments");
	if (hi - lo >= FRAG_TIMEOUT_MS)
		fz_fail("completed from fragments a timeout apart");
	for (i = 0; i < FRAG_MAX_COUNT; i++)
		fz_sh[peer][mid][i].valid = false;
}

static void
fz_fragment(int peer, int mid, uint8_t index, uint8_t count,
    const uint8_t *data, size_t len, size_t outcap, uint64_t now)
{
	uint32_t msgid = mid == 7 ? 0xfffffff0U : (uint32_t)mid;
	uint64_t dups = fz_table.stats.duplicates;
	size_t outlen = 0;
	int rv;

	rv = frag_input(&fz_table, &fz_peer[peer], msgid, index, count, data,
	    len, now, fz_out, outcap, &outlen);
	if ((count == 0 || count > FRAG_MAX_COUNT || index >= count ||
	    len > FRAG_PIECE_MAX) != (rv == -EINVAL))
		fz_fail("-EINVAL is not exactly the out-of-range fragment");
	/* frag_input expires first, so nothing it holds is due at now. */
	if (frag_next_expiry(&fz_table) <= now)
		fz_fail("a message outlived its timeout");
	switch (rv) {
	case 0:
		if (fz_table.stats.duplicates != dups) {
			struct fz_shadow *s = &fz_sh[peer][mid][index];

			if (!s->valid || s->len != len || s->count != count ||
			    (len > 0 && memcmp(s->data, data, len) != 0))
				fz_fail("a duplicate of nothing held");
			break;
		}
		/* FALLTHROUGH */
	case 1:
	case -ENOSPC: {
		struct fz_shadow *s = &fz_sh[peer][mid][index];

		s->valid = true;
		s->count = count;
		s->len = (uint16_t)len;
		s->when = now;
		if (len > 0)
			memcpy(s->data, data, len);
		if (rv == 1)
			fz_completed(peer, mid, count, outlen);
		else if (rv == -ENOSPC) {
			int i;

			if (outcap >= FRAG_MESSAGE_MAX)
				fz_fail("-ENOSPC with a full-size buffer");
			for (i = 0; i < FRAG_MAX_COUNT; i++)
				fz_sh[peer][mid][i].valid = false;
		}
		break;
	}
	case -EINVAL:
	case -EBADMSG:
	case -EMSGSIZE:
		break;
	default:
		fz_fail("unexpected return value");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t op, index, count, a, b, salt, piece[FRAG_PIECE_MAX + 100];
	uint64_t now = 1000;
	size_t len, i;
	int peer, mid, kind;

	fz_reset();
	while (fz_u8(&in, &op)) {
		peer = op & 3;
		mid = (op >> 2) & 7;
		kind = op >> 5;
		switch (kind) {
		case 4:
			if (!fz_u8(&in, &index) || !fz_u8(&in, &count) ||
			    !fz_u8(&in, &a))
				return 0;
			len = a < in.len ? a : in.len;
			memcpy(piece, in.p, len);
			in.p += len;
			in.len -= len;
			fz_fragment(peer, mid, index, count, piece, len,
			    sizeof(fz_out), now);
			break;
		case 5:
			if (!fz_u8(&in, &a) || !fz_u8(&in, &b))
				return 0;
			now += (uint64_t)a << 8 | b;
			break;
		case 6:
			frag_expire(&fz_table, now);
			if (frag_next_expiry(&fz_table) <= now)
				fz_fail("frag_expire left expired work");
			break;
		default:
			if (!fz_u8(&in, &index) || !fz_u8(&in, &count) ||
			    !fz_u8(&in, &a) || !fz_u8(&in, &b) ||
			    !fz_u8(&in, &salt))
				return 0;
			len = ((size_t)a << 8 | b) % (FRAG_PIECE_MAX + 101);
			for (i = 0; i < len; i++)
				piece[i] = (uint8_t)(salt * 31 + index * 7 +
				    mid * 13 + peer + i);
			fz_fragment(peer, mid, index, count, piece, len,
			    kind == 7 ? FZ_SMALL_OUT : sizeof(fz_out), now);
			break;
		}
		fz_invariants();
	}
	return 0;
}
