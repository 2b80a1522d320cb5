/* tso.c -- TUN offloads: split a TCP super-segment, complete checksums. */
#include "config.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
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
 * Sums native 32-bit words into 64 bits: one's complement addition
 * commutes with byte swapping, so the folded sum is swapped once at the
 * end into the big-endian value RFC 1071 defines.
 */
uint32_t
tso_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t acc = 0;
	uint32_t w;
	uint16_t h;
	uint8_t last[2];

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
