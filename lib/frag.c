/* frag.c -- fragment splitting and bounded per-peer reassembly of signalling messages. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include "frag.h"

int
frag_split(size_t msglen, size_t max_piece,
    struct frag_piece pieces[FRAG_MAX_COUNT], unsigned *count)
{
	size_t n, i;

	if (max_piece == 0 || max_piece > FRAG_PIECE_MAX)
		return -EINVAL;
	if (msglen > FRAG_MESSAGE_MAX)
		return -EMSGSIZE;
	n = msglen == 0 ? 1 : (msglen + max_piece - 1) / max_piece;
	if (n > FRAG_MAX_COUNT)
		return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		pieces[i].off = i * max_piece;
		pieces[i].len = msglen - pieces[i].off < max_piece ?
		    msglen - pieces[i].off : max_piece;
	}
	*count = (unsigned)n;
	return 0;
}

int
frag_peer_from_sockaddr(struct frag_peer *peer, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(peer, 0, sizeof(*peer));
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		peer->addr[10] = 0xff;
		peer->addr[11] = 0xff;
		memcpy(peer->addr + 12, &sin->sin_addr, 4);
		peer->port = ntohs(sin->sin_port);
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(peer->addr, &sin6->sin6_addr, 16);
		peer->port = ntohs(sin6->sin6_port);
		return 0;
	default:
		return -EAFNOSUPPORT;
	}
}

bool
frag_peer_equal(const struct frag_peer *a, const struct frag_peer *b)
{
	return a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

void
frag_table_init(struct frag_table *t)
{
	unsigned i;

	memset(t->slot, 0, sizeof(t->slot));
	memset(&t->stats, 0, sizeof(t->stats));
	for (i = 0; i < FRAG_TABLE_CHUNKS; i++)
		t->free_chunk[i] = (uint16_t)(FRAG_TABLE_CHUNKS - 1 - i);
	t->nfree = FRAG_TABLE_CHUNKS;
	t->next_seq = 0;
}

static void
frag_release(struct frag_table *t, struct frag_partial *p)
{
	unsigned i;

	for (i = 0; i < p->count; i++)
		if (p->chunk[i] != 0)
			t->free_chunk[t->nfree++] = (uint16_t)(p->chunk[i] - 1);
	memset(p, 0, sizeof(*p));
}

static struct frag_partial *
frag_find(struct frag_table *t, const struct frag_peer *peer, uint32_t msgid)
{
	unsigned i;

	for (i = 0; i < FRAG_TABLE_SLOTS; i++)
		if (t->slot[i].count != 0 && t->slot[i].msgid == msgid &&
		    frag_peer_equal(&t->slot[i].peer, peer))
			return &t->slot[i];
	return NULL;
}

/* The oldest partial message of peer (anyone's if NULL), other than keep. */
static struct frag_partial *
frag_oldest(struct frag_table *t, const struct frag_peer *peer,
    const struct frag_partial *keep)
{
	struct frag_partial *p, *old = NULL;
	unsigned i;

	for (i = 0; i < FRAG_TABLE_SLOTS; i++) {
		p = &t->slot[i];
		if (p->count == 0 || p == keep)
			continue;
		if (peer != NULL && !frag_peer_equal(&p->peer, peer))
			continue;
		if (old == NULL || p->seq < old->seq)
			old = p;
	}
	return old;
}

static void
frag_evict(struct frag_table *t, struct frag_partial *p)
{
	t->stats.evicted++;
	frag_release(t, p);
}

size_t
frag_peer_bytes(const struct frag_table *t, const struct frag_peer *peer)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < FRAG_TABLE_SLOTS; i++)
		if (t->slot[i].count != 0 &&
		    frag_peer_equal(&t->slot[i].peer, peer))
			n += t->slot[i].bytes;
	return n;
}

unsigned
frag_peer_partials(const struct frag_table *t, const struct frag_peer *peer)
{
	unsigned i, n = 0;

	for (i = 0; i < FRAG_TABLE_SLOTS; i++)
		if (t->slot[i].count != 0 &&
		    frag_peer_equal(&t->slot[i].peer, peer))
			n++;
	return n;
}

void
frag_expire(struct frag_table *t, uint64_t now)
{
	struct frag_partial *p;
	unsigned i;

	for (i = 0; i < FRAG_TABLE_SLOTS; i++) {
		p = &t->slot[i];
		if (p->count != 0 && now >= p->started &&
		    now - p->started >= FRAG_TIMEOUT_MS) {
			t->stats.expired++;
			frag_release(t, p);
		}
	}
}

uint64_t
frag_next_expiry(const struct frag_table *t)
{
	uint64_t when = UINT64_MAX;
	unsigned i;

	for (i = 0; i < FRAG_TABLE_SLOTS; i++)
		if (t->slot[i].count != 0 &&
		    t->slot[i].started + FRAG_TIMEOUT_MS < when)
			when = t->slot[i].started + FRAG_TIMEOUT_MS;
	return when;
}

/* A free slot for a new message of peer, evicting as the limits say. */
static struct frag_partial *
frag_new_partial(struct frag_table *t, const struct frag_peer *peer,
    uint32_t msgid, uint8_t count, uint64_t now)
{
	struct frag_partial *p;
	unsigned i;

	while (frag_peer_partials(t, peer) >= FRAG_PEER_PARTIALS)
		frag_evict(t, frag_oldest(t, peer, NULL));
	for (p = NULL, i = 0; i < FRAG_TABLE_SLOTS && p == NULL; i++)
		if (t->slot[i].count == 0)
			p = &t->slot[i];
	if (p == NULL) {
		p = frag_oldest(t, NULL, NULL);
		frag_evict(t, p);
	}
	p->peer = *peer;
	p->msgid = msgid;
	p->started = now;
	p->seq = t->next_seq++;
	p->count = count;
	return p;
}

static int
frag_assemble(struct frag_table *t, struct frag_partial *p, void *out,
    size_t outcap, size_t *outlen)
{
	uint8_t *o = out;
	size_t off = 0;
	unsigned i;

	if (p->bytes > outcap) {
		frag_release(t, p);
		return -ENOSPC;
	}
	for (i = 0; i < p->count; i++) {
		if (p->len[i] > 0)
			memcpy(o + off, t->chunk[p->chunk[i] - 1], p->len[i]);
		off += p->len[i];
	}
	*outlen = off;
	t->stats.completed++;
	frag_release(t, p);
	return 1;
}

int
frag_input(struct frag_table *t, const struct frag_peer *peer, uint32_t msgid,
    uint8_t index, uint8_t count, const void *data, size_t len,
    uint64_t now, void *out, size_t outcap, size_t *outlen)
{
	struct frag_partial *p, *old;
	uint16_t c;

	frag_expire(t, now);
	if (count == 0 || count > FRAG_MAX_COUNT || index >= count ||
	    len > FRAG_PIECE_MAX) {
		t->stats.invalid++;
		return -EINVAL;
	}
	if ((p = frag_find(t, peer, msgid)) != NULL) {
		if (p->count != count) {
			t->stats.inconsistent++;
			return -EBADMSG;
		}
		if (p->chunk[index] != 0) {
			if (p->len[index] == len && (len == 0 ||
			    memcmp(t->chunk[p->chunk[index] - 1], data, len) == 0)) {
				t->stats.duplicates++;
				return 0;
			}
			t->stats.inconsistent++;
			return -EBADMSG;
		}
		if (p->bytes + len > FRAG_MESSAGE_MAX) {
			t->stats.oversized++;
			return -EMSGSIZE;
		}
	} else if (count == 1) {
		/* Whole on arrival: nothing to hold. */
		if (len > outcap)
			return -ENOSPC;
		if (len > 0)
			memcpy(out, data, len);
		*outlen = len;
		t->stats.completed++;
		return 1;
	}

	/* Valid: make room.  p (if held) is never evicted, and fits alone. */
	while (frag_peer_bytes(t, peer) + len > FRAG_PEER_BYTES &&
	    (old = frag_oldest(t, peer, p)) != NULL)
		frag_evict(t, old);
	if (p == NULL)
		p = frag_new_partial(t, peer, msgid, count, now);
	while (t->nfree == 0 && (old = frag_oldest(t, NULL, p)) != NULL)
		frag_evict(t, old);
	if (t->nfree == 0)
		return -ENOBUFS;	/* cannot happen: p holds < 16 chunks */

	c = t->free_chunk[--t->nfree];
	if (len > 0)
		memcpy(t->chunk[c], data, len);
	p->chunk[index] = (uint16_t)(c + 1);
	p->len[index] = (uint16_t)len;
	p->bytes += (uint32_t)len;
	p->have++;
	if (p->have == p->count)
		return frag_assemble(t, p, out, outcap, outlen);
	return 0;
}
