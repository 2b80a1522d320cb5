/* tso.c -- TUN offloads: split TCP super-segments, coalesce received ones. */
#include "config.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "tso.h"

enum {
	TSO_IP_VERSION_4 = 4,
	TSO_IP_VERSION_6 = 6,
	TSO_IPV4_HEADER_MIN = 20,
	TSO_IPV4_TOTAL = 2,		/* offsets in the IPv4 header */
	TSO_IPV4_ID = 4,
	TSO_IPV4_PROTO = 9,
	TSO_IPV4_CSUM = 10,
	TSO_IPV4_SRC = 12,
	TSO_IPV6_HEADER_LEN = 40,	/* and in the IPv6 header */
	TSO_IPV6_PLEN = 4,
	TSO_IPV6_NEXT = 6,
	TSO_IPV6_SRC = 8,
	TSO_TCP_HEADER_MIN = 20,	/* and in the TCP header */
	TSO_TCP_SEQ = 4,
	TSO_TCP_DOFF = 12,
	TSO_TCP_FLAGS = 13,
	TSO_TCP_CSUM = 16,
	TSO_UDP_HEADER_LEN = 8,
	TSO_UDP_CSUM = 6,
	TSO_TCP_FIN = 0x01,
	TSO_TCP_PSH = 0x08,
	TSO_TCP_CWR = 0x80,
	TSO_VNET_GSO_MASK = 0x7f,	/* gso_type without the ECN bit */
};

void
tso_vnet_parse(const uint8_t h[TSO_VNET_HDR_LEN], struct tso_vnet *v)
{
	uint16_t x[4];

	/* A TUN device's virtio header is in host byte order (legacy). */
	memcpy(x, h + 2, sizeof(x));
	v->flags = h[0];
	v->gso_type = h[1];
	v->hdr_len = x[0];
	v->gso_size = x[1];
	v->csum_start = x[2];
	v->csum_offset = x[3];
}

void
tso_vnet_build(const struct tso_vnet *v, uint8_t h[TSO_VNET_HDR_LEN])
{
	uint16_t x[4] = { v->hdr_len, v->gso_size, v->csum_start,
	    v->csum_offset };

	h[0] = v->flags;
	h[1] = v->gso_type;
	memcpy(h + 2, x, sizeof(x));
}

/* ---- checksums ------------------------------------------------------ */

/*
 * One's complement addition commutes with byte swapping, so native
 * 16-bit words are summed and the folded sum swapped once at the end into
 * the big-endian value RFC 1071 defines.  The bulk goes 32 bytes a turn
 * through four vectors of 32-bit lanes, each lane adding the low or the
 * high 16-bit half of a word: no lane can overflow within a block of
 * TSO_CSUM_BLOCK bytes (2^15 turns of at most 0xffff).  Three times as
 * fast as a word at a time, for the checksum of every piece tso_next()
 * makes.
 */
typedef uint32_t tso_v4u32 __attribute__((vector_size(16)));

enum {
	TSO_CSUM_TURN = 32,
	TSO_CSUM_BLOCK = TSO_CSUM_TURN << 15,
};

uint32_t
tso_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	tso_v4u32 a, b, c, d, v, x;
	uint64_t acc = 0;
	size_t n, i;
	uint32_t w;
	uint16_t h;
	uint8_t last[2];

	while (len >= TSO_CSUM_TURN) {
		n = len < TSO_CSUM_BLOCK ? len : TSO_CSUM_BLOCK;
		n -= n % TSO_CSUM_TURN;
		a = b = c = d = (tso_v4u32){ 0, 0, 0, 0 };
		for (i = 0; i < n; i += TSO_CSUM_TURN) {
			memcpy(&v, p + i, sizeof(v));
			memcpy(&x, p + i + sizeof(v), sizeof(x));
			a += v & 0xffff;
			b += v >> 16;
			c += x & 0xffff;
			d += x >> 16;
		}
		for (i = 0; i < 4; i++)
			acc += (uint64_t)a[i] + b[i] + c[i] + d[i];
		p += n;
		len -= n;
	}
	while (len >= 4) {
		memcpy(&w, p, sizeof(w));
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, sizeof(h));
		acc += h;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		last[0] = p[0];
		last[1] = 0;
		memcpy(&h, last, sizeof(h));
		acc += h;
	}
	acc = (acc & 0xffffffffULL) + (acc >> 32);
	acc = (acc & 0xffffffffULL) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return sum + ntohs((uint16_t)acc);
}

uint16_t
tso_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The pseudo-header sum of an IPv4/IPv6 packet p for l4len bytes. */
static uint32_t
tso_pseudo(const uint8_t *p, int family, uint8_t proto, size_t l4len)
{
	uint32_t sum;

	if (family == AF_INET)
		sum = tso_csum_add(0, p + TSO_IPV4_SRC, 8);
	else
		sum = tso_csum_add(0, p + TSO_IPV6_SRC, 32);
	sum += proto;
	sum += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
	return sum;
}

int
tso_csum_verify(const uint8_t *p, size_t len)
{
	size_t l4off, l4len;
	uint8_t proto;
	int family;

	if (len < 1)
		return 0;
	if (p[0] >> 4 == TSO_IP_VERSION_4) {
		l4off = (size_t)(p[0] & 0x0f) * 4;
		if (l4off < TSO_IPV4_HEADER_MIN || len < l4off ||
		    load_be16(p + TSO_IPV4_TOTAL) != len ||
		    tso_csum_fold(tso_csum_add(0, p, l4off)) != 0)
			return 0;
		proto = p[TSO_IPV4_PROTO];
		family = AF_INET;
	} else if (p[0] >> 4 == TSO_IP_VERSION_6) {
		l4off = TSO_IPV6_HEADER_LEN;
		if (len < l4off || load_be16(p + TSO_IPV6_PLEN) + l4off != len)
			return 0;
		proto = p[TSO_IPV6_NEXT];
		family = AF_INET6;
	} else
		return 0;
	l4len = len - l4off;
	if ((proto == IPPROTO_TCP && l4len < TSO_TCP_HEADER_MIN) ||
	    (proto == IPPROTO_UDP && l4len < TSO_UDP_HEADER_LEN) ||
	    (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return 0;
	/* A UDP checksum of zero is "none" over IPv4 only. */
	if (proto == IPPROTO_UDP && family == AF_INET &&
	    load_be16(p + l4off + TSO_UDP_CSUM) == 0)
		return 1;
	return tso_csum_fold(tso_pseudo(p, family, proto, l4len) +
	    tso_csum_add(0, p + l4off, l4len)) == 0;
}

/* ---- segmentation --------------------------------------------------- */

static int
tso_begin_tcp(struct tso *s, const struct tso_vnet *v, const uint8_t *p,
    size_t len)
{
	uint8_t gso = v->gso_type & TSO_VNET_GSO_MASK;
	size_t doff;

	if (gso == VIRTIO_NET_HDR_GSO_TCPV4) {
		if (p[0] >> 4 != TSO_IP_VERSION_4 || len < TSO_IPV4_HEADER_MIN)
			return -EBADMSG;
		s->family = AF_INET;
		s->l4off = (size_t)(p[0] & 0x0f) * 4;
		if (s->l4off < TSO_IPV4_HEADER_MIN || s->l4off > len ||
		    load_be16(p + TSO_IPV4_TOTAL) != len ||
		    p[TSO_IPV4_PROTO] != IPPROTO_TCP)
			return -EBADMSG;
		s->id = load_be16(p + TSO_IPV4_ID);
	} else if (gso == VIRTIO_NET_HDR_GSO_TCPV6) {
		if (p[0] >> 4 != TSO_IP_VERSION_6 || len < TSO_IPV6_HEADER_LEN)
			return -EBADMSG;
		s->family = AF_INET6;
		s->l4off = TSO_IPV6_HEADER_LEN;
		if (load_be16(p + TSO_IPV6_PLEN) + s->l4off != len ||
		    p[TSO_IPV6_NEXT] != IPPROTO_TCP)
			return -EBADMSG;
	} else
		return -EPROTONOSUPPORT;
	if ((v->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (v->csum_start != s->l4off || v->csum_offset != TSO_TCP_CSUM))
		return -EBADMSG;
	if (len < s->l4off + TSO_TCP_HEADER_MIN)
		return -EBADMSG;
	doff = (size_t)(p[s->l4off + TSO_TCP_DOFF] >> 4) * 4;
	if (doff < TSO_TCP_HEADER_MIN || s->l4off + doff > len)
		return -EBADMSG;
	if (v->gso_size < TSO_MSS_MIN)
		return -EBADMSG;
	s->hlen = s->l4off + doff;
	s->mss = v->gso_size;
	s->seq = load_be32(p + s->l4off + TSO_TCP_SEQ);
	return 0;
}

int
tso_begin(struct tso *s, const struct tso_vnet *v, const uint8_t *pkt,
    size_t len)
{
	memset(s, 0, sizeof(*s));
	if (pkt == NULL || len == 0 || len > TSO_PACKET_MAX)
		return -EBADMSG;
	s->pkt = pkt;
	s->len = len;
	s->vnet = *v;
	if ((v->gso_type & TSO_VNET_GSO_MASK) == VIRTIO_NET_HDR_GSO_NONE) {
		if (v->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			if ((size_t)v->csum_start + v->csum_offset + 2 > len)
				return -EBADMSG;
			s->csum = 1;
		}
		return 0;
	}
	return tso_begin_tcp(s, v, pkt, len);
}

/* The one piece of a packet that is not GSO, checksum completed. */
static int
tso_next_one(struct tso *s, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t at;
	uint16_t c;

	if (s->npieces > 0)
		return 0;
	if (cap < s->len)
		return -ENOSPC;
	memcpy(out, s->pkt, s->len);
	if (s->csum) {
		/* The field holds the pseudo-header sum: sum over it. */
		at = (size_t)s->vnet.csum_start + s->vnet.csum_offset;
		c = tso_csum_fold(tso_csum_add(0, out + s->vnet.csum_start,
		    s->len - s->vnet.csum_start));
		/* As the kernel does: 0 goes out as 0xffff (UDP: none). */
		store_be16(out + at, c != 0 ? c : 0xffff);
	}
	s->npieces = 1;
	*outlen = s->len;
	return 1;
}

int
tso_next(struct tso *s, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t payload, chunk, n;
	uint8_t *tcp;
	bool last;

	if (s->mss == 0)
		return tso_next_one(s, out, cap, outlen);
	payload = s->len - s->hlen;
	if (s->off >= payload && (s->npieces > 0 || payload > 0))
		return 0;
	chunk = payload - s->off < s->mss ? payload - s->off : s->mss;
	n = s->hlen + chunk;
	if (cap < n)
		return -ENOSPC;
	last = s->off + chunk >= payload;
	memcpy(out, s->pkt, s->hlen);
	memcpy(out + s->hlen, s->pkt + s->hlen + s->off, chunk);
	if (s->family == AF_INET) {
		store_be16(out + TSO_IPV4_TOTAL, (uint16_t)n);
		store_be16(out + TSO_IPV4_ID, (uint16_t)(s->id + s->npieces));
		store_be16(out + TSO_IPV4_CSUM, 0);
		store_be16(out + TSO_IPV4_CSUM,
		    tso_csum_fold(tso_csum_add(0, out, s->l4off)));
	} else
		store_be16(out + TSO_IPV6_PLEN,
		    (uint16_t)(n - TSO_IPV6_HEADER_LEN));
	tcp = out + s->l4off;
	store_be32(tcp + TSO_TCP_SEQ, s->seq + (uint32_t)s->off);
	if (!last)
		tcp[TSO_TCP_FLAGS] &= (uint8_t)~(TSO_TCP_FIN | TSO_TCP_PSH);
	if (s->npieces > 0)
		tcp[TSO_TCP_FLAGS] &= (uint8_t)~TSO_TCP_CWR;
	store_be16(tcp + TSO_TCP_CSUM, 0);
	store_be16(tcp + TSO_TCP_CSUM, tso_csum_fold(tso_pseudo(out,
	    s->family, IPPROTO_TCP, n - s->l4off) +
	    tso_csum_add(0, tcp, n - s->l4off)));
	s->off += chunk;
	s->npieces++;
	*outlen = n;
	return 1;
}

/* ---- receive coalescing --------------------------------------------- */

enum {
	TSO_GRO_END = UINT32_MAX,	/* no next packet in the group */
	TSO_IPV4_TOS = 1,
	TSO_IPV4_FRAG = 6,
	TSO_IPV4_TTL = 8,
	TSO_IPV4_FRAG_MASK = 0x3fff,	/* MF and the fragment offset */
	TSO_IPV6_HOPS = 7,
	TSO_IPV6_FIRST_WORD = 4,	/* version, traffic class, flow label */
	TSO_TCP_ACK_NUM = 8,
	TSO_TCP_WINDOW = 14,
	TSO_TCP_ACK = 0x10,
	TSO_TCP_OPT_EOL = 0,
	TSO_TCP_OPT_NOP = 1,
	TSO_TCP_OPT_TS = 8,
	TSO_TCP_OPT_TS_LEN = 10,
};

struct tso_gro_pkt {
	const uint8_t	*p;		/* borrowed until the reset */
	size_t		 len;
	uint32_t	 next;		/* in its group, or TSO_GRO_END */
};

/* One write: a packet as it came, or a run of segments of one flow. */
struct tso_gro_group {
	uint32_t	 first, last;	/* packet indices */
	uint32_t	 count;
	uint32_t	 ports;		/* source and destination port */
	uint32_t	 next_seq;	/* right after the last segment */
	size_t		 total;		/* headers + payloads */
	size_t		 mss;		/* first segment's payload */
	size_t		 l4off, hlen;
	int		 family;	/* 0: not a TCP flow */
	bool		 open;		/* may take another segment */
	bool		 psh;
};

struct tso_gro {
	size_t			 cap, npkts, ngroups;
	bool			 split;
	struct tso_gro_pkt	*pkts;
	struct tso_gro_group	*groups;
};

/* What tso_gro_add needs of a packet: its flow, and whether it may join. */
struct tso_gro_seg {
	int		 family;	/* 0: not a TCP segment we know */
	size_t		 l4off, hlen, payload;
	uint32_t	 ports, seq;
	uint8_t		 flags;
	bool		 joinable;
};

int
tso_gro_new(struct tso_gro **out, size_t cap)
{
	struct tso_gro *g;

	*out = NULL;
	if (cap == 0 || cap >= TSO_GRO_END)
		return -EINVAL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -ENOMEM;
	if ((g->pkts = calloc(cap, sizeof(*g->pkts))) == NULL ||
	    (g->groups = calloc(cap, sizeof(*g->groups))) == NULL) {
		tso_gro_free(g);
		return -ENOMEM;
	}
	g->cap = cap;
	*out = g;
	return 0;
}

void
tso_gro_free(struct tso_gro *g)
{
	if (g == NULL)
		return;
	free(g->pkts);
	free(g->groups);
	free(g);
}

void
tso_gro_reset(struct tso_gro *g)
{
	g->npkts = 0;
	g->ngroups = 0;
}

void
tso_gro_split(struct tso_gro *g, bool on)
{
	g->split = on;
}

size_t
tso_gro_packets(const struct tso_gro *g)
{
	return g->npkts;
}

size_t
tso_gro_groups(const struct tso_gro *g)
{
	return g->ngroups;
}

size_t
tso_gro_group_size(const struct tso_gro *g, size_t i)
{
	return i < g->ngroups ? g->groups[i].count : 0;
}

/* TCP options that may be coalesced: none, or NOPs, EOLs and a timestamp. */
static bool
tso_gro_options_ok(const uint8_t *o, size_t len)
{
	size_t i = 0;
	bool ts = false;

	while (i < len) {
		if (o[i] == TSO_TCP_OPT_EOL || o[i] == TSO_TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (o[i] != TSO_TCP_OPT_TS || ts || len - i <
		    TSO_TCP_OPT_TS_LEN || o[i + 1] != TSO_TCP_OPT_TS_LEN)
			return false;
		ts = true;
		i += TSO_TCP_OPT_TS_LEN;
	}
	return true;
}

/*
 * Reads the IP and TCP headers of p[0..len) (whose IP length is len) as
 * far as tso_gro_add needs.  A packet that is not TCP, or IPv4 with
 * options or fragmented, or IPv6 with extension headers, gets family 0:
 * it is written alone and leaves every flow as it is.
 */
static void
tso_gro_parse(const uint8_t *p, size_t len, struct tso_gro_seg *s)
{
	const uint8_t *tcp;
	size_t doff;

	memset(s, 0, sizeof(*s));
	if (len < TSO_IPV4_HEADER_MIN)
		return;
	if (p[0] == ((TSO_IP_VERSION_4 << 4) | TSO_IPV4_HEADER_MIN / 4)) {
		if (p[TSO_IPV4_PROTO] != IPPROTO_TCP ||
		    (load_be16(p + TSO_IPV4_FRAG) & TSO_IPV4_FRAG_MASK) != 0 ||
		    load_be16(p + TSO_IPV4_TOTAL) != len)
			return;
		s->l4off = TSO_IPV4_HEADER_MIN;
	} else if (p[0] >> 4 == TSO_IP_VERSION_6) {
		if (len < TSO_IPV6_HEADER_LEN ||
		    p[TSO_IPV6_NEXT] != IPPROTO_TCP ||
		    (size_t)load_be16(p + TSO_IPV6_PLEN) +
		    TSO_IPV6_HEADER_LEN != len)
			return;
		s->l4off = TSO_IPV6_HEADER_LEN;
	} else
		return;
	if (len < s->l4off + TSO_TCP_HEADER_MIN)
		return;
	tcp = p + s->l4off;
	doff = (size_t)(tcp[TSO_TCP_DOFF] >> 4) * 4;
	if (doff < TSO_TCP_HEADER_MIN || s->l4off + doff > len)
		return;
	s->family = s->l4off == TSO_IPV4_HEADER_MIN ? AF_INET : AF_INET6;
	s->hlen = s->l4off + doff;
	s->payload = len - s->hlen;
	s->ports = load_be32(tcp);
	s->seq = load_be32(tcp + TSO_TCP_SEQ);
	s->flags = tcp[TSO_TCP_FLAGS];
	/* The data offset's low nibble holds reserved bits and AE (ECN). */
	s->joinable = s->payload > 0 && (tcp[TSO_TCP_DOFF] & 0x0f) == 0 &&
	    (s->flags & ~TSO_TCP_PSH) == TSO_TCP_ACK &&
	    tso_gro_options_ok(tcp + TSO_TCP_HEADER_MIN,
	    doff - TSO_TCP_HEADER_MIN);
}

/* Does the packet q (parsed as s) belong to the flow of group gr? */
static bool
tso_gro_same_flow(const struct tso_gro *g, const struct tso_gro_group *gr,
    const uint8_t *q, const struct tso_gro_seg *s)
{
	const uint8_t *h = g->pkts[gr->first].p;

	if (gr->family != s->family || gr->ports != s->ports)
		return false;
	if (s->family == AF_INET)
		return memcmp(h + TSO_IPV4_SRC, q + TSO_IPV4_SRC, 8) == 0;
	return memcmp(h + TSO_IPV6_SRC, q + TSO_IPV6_SRC, 32) == 0;
}

/* May segment q (parsed as s) follow the last one of group gr? */
static bool
tso_gro_can_join(const struct tso_gro *g, const struct tso_gro_group *gr,
    const uint8_t *q, const struct tso_gro_seg *s)
{
	const uint8_t *h = g->pkts[gr->first].p;

	if (!gr->open || !s->joinable || s->hlen != gr->hlen ||
	    s->seq != gr->next_seq || s->payload > gr->mss ||
	    gr->count >= TSO_GRO_SEGMENTS ||
	    gr->total + s->payload > TSO_PACKET_MAX)
		return false;
	if (s->family == AF_INET) {
		if (h[TSO_IPV4_TOS] != q[TSO_IPV4_TOS] ||
		    h[TSO_IPV4_TTL] != q[TSO_IPV4_TTL] ||
		    h[TSO_IPV4_FRAG] != q[TSO_IPV4_FRAG])	/* DF, reserved */
			return false;
	} else if (memcmp(h, q, TSO_IPV6_FIRST_WORD) != 0 ||
	    h[TSO_IPV6_HOPS] != q[TSO_IPV6_HOPS])
		return false;
	/* Same ACK number, and options (a timestamp) byte for byte. */
	return memcmp(h + gr->l4off + TSO_TCP_ACK_NUM,
	    q + s->l4off + TSO_TCP_ACK_NUM, 4) == 0 &&
	    memcmp(h + gr->l4off + TSO_TCP_HEADER_MIN,
	    q + s->l4off + TSO_TCP_HEADER_MIN,
	    gr->hlen - gr->l4off - TSO_TCP_HEADER_MIN) == 0;
}

int
tso_gro_add(struct tso_gro *g, const uint8_t *pkt, size_t len)
{
	struct tso_gro_group *gr;
	struct tso_gro_seg s;
	struct tso_gro_pkt *k;
	uint32_t idx;
	size_t i;

	if (g->npkts >= g->cap)
		return -ENOSPC;
	idx = (uint32_t)g->npkts++;
	k = &g->pkts[idx];
	k->p = pkt;
	k->len = len;
	k->next = TSO_GRO_END;
	tso_gro_parse(pkt, len, &s);
	if (s.family != 0 && !g->split) {
		/* Only the newest group of a flow may grow: order is kept. */
		for (i = g->ngroups; i-- > 0;) {
			gr = &g->groups[i];
			if (!tso_gro_same_flow(g, gr, pkt, &s))
				continue;
			if (!tso_gro_can_join(g, gr, pkt, &s))
				break;
			g->pkts[gr->last].next = idx;
			gr->last = idx;
			gr->count++;
			gr->total += s.payload;
			gr->next_seq += (uint32_t)s.payload;
			if (s.flags & TSO_TCP_PSH) {
				gr->psh = true;
				gr->open = false;
			}
			if (s.payload < gr->mss)
				gr->open = false;
			return 0;
		}
	}
	gr = &g->groups[g->ngroups++];
	memset(gr, 0, sizeof(*gr));
	gr->first = gr->last = idx;
	gr->count = 1;
	gr->total = len;
	if (s.family == 0)
		return 0;
	gr->family = s.family;
	gr->ports = s.ports;
	gr->l4off = s.l4off;
	gr->hlen = s.hlen;
	gr->mss = s.payload;
	gr->next_seq = s.seq + (uint32_t)s.payload;
	gr->psh = (s.flags & TSO_TCP_PSH) != 0;
	gr->open = s.joinable && !gr->psh && !g->split;
	return 0;
}

/*
 * The headers of a coalesced group: the first segment's, with the IP
 * length of the whole, the last segment's window and PSH, and the TCP
 * checksum field holding the pseudo-header sum (NEEDS_CSUM).
 */
static void
tso_gro_headers(const struct tso_gro *g, const struct tso_gro_group *gr,
    struct tso_gro_hdr *hb)
{
	const uint8_t *last = g->pkts[gr->last].p;
	uint8_t *ip = hb->ip_tcp, *tcp = hb->ip_tcp + gr->l4off;
	struct tso_vnet v;

	memcpy(ip, g->pkts[gr->first].p, gr->hlen);
	if (gr->family == AF_INET) {
		store_be16(ip + TSO_IPV4_TOTAL, (uint16_t)gr->total);
		store_be16(ip + TSO_IPV4_CSUM, 0);
		store_be16(ip + TSO_IPV4_CSUM,
		    tso_csum_fold(tso_csum_add(0, ip, gr->l4off)));
	} else
		store_be16(ip + TSO_IPV6_PLEN,
		    (uint16_t)(gr->total - TSO_IPV6_HEADER_LEN));
	tcp[TSO_TCP_FLAGS] = (uint8_t)(TSO_TCP_ACK |
	    (gr->psh ? TSO_TCP_PSH : 0));
	memcpy(tcp + TSO_TCP_WINDOW, last + gr->l4off + TSO_TCP_WINDOW, 2);
	store_be16(tcp + TSO_TCP_CSUM, (uint16_t)~tso_csum_fold(tso_pseudo(ip,
	    gr->family, IPPROTO_TCP, gr->total - gr->l4off)));

	memset(&v, 0, sizeof(v));
	v.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	v.gso_type = gr->family == AF_INET ? VIRTIO_NET_HDR_GSO_TCPV4 :
	    VIRTIO_NET_HDR_GSO_TCPV6;
	v.hdr_len = (uint16_t)gr->hlen;
	v.gso_size = (uint16_t)gr->mss;
	v.csum_start = (uint16_t)gr->l4off;
	v.csum_offset = TSO_TCP_CSUM;
	tso_vnet_build(&v, hb->vnet);
}

int
tso_gro_iov(const struct tso_gro *g, size_t i, struct tso_gro_hdr *hb,
    struct iovec *iov, size_t iovcap)
{
	static const struct tso_vnet plain = {
		/* The sender's checksums came through the AEAD intact. */
		.flags = VIRTIO_NET_HDR_F_DATA_VALID,
		.gso_type = VIRTIO_NET_HDR_GSO_NONE,
	};
	const struct tso_gro_group *gr;
	const struct tso_gro_pkt *k;
	uint32_t idx;
	size_t n;

	if (i >= g->ngroups)
		return -EINVAL;
	gr = &g->groups[i];
	if (iovcap < (size_t)gr->count + (gr->count > 1 ? 2 : 1))
		return -ENOSPC;
	iov[0].iov_base = hb->vnet;
	iov[0].iov_len = TSO_VNET_HDR_LEN;
	k = &g->pkts[gr->first];
	if (gr->count == 1) {
		tso_vnet_build(&plain, hb->vnet);
		iov[1].iov_base = (void *)(uintptr_t)k->p;
		iov[1].iov_len = k->len;
		return 2;
	}
	tso_gro_headers(g, gr, hb);
	iov[1].iov_base = hb->ip_tcp;
	iov[1].iov_len = gr->hlen;
	n = 2;
	for (idx = gr->first; idx != TSO_GRO_END; idx = k->next) {
		k = &g->pkts[idx];
		iov[n].iov_base = (void *)(uintptr_t)(k->p + gr->hlen);
		iov[n].iov_len = k->len - gr->hlen;
		n++;
	}
	return (int)n;
}
