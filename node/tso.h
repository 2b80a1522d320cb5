/* tso.h -- TUN offloads: split TCP super-segments, coalesce received ones. */
#ifndef NTM_NODE_TSO_H
#define NTM_NODE_TSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * With IFF_VNET_HDR and TUNSETOFFLOAD, every read from the TUN fd starts
 * with a struct virtio_net_hdr (10 bytes, host byte order for a TUN
 * device) and may hold a TCP packet of up to 64 KiB that the kernel did
 * not segment (gso_type TCPV4/TCPV6), or any packet whose transport
 * checksum is partial (VIRTIO_NET_HDR_F_NEEDS_CSUM: the field at
 * csum_start + csum_offset holds the pseudo-header sum only).  These
 * functions turn such a read into ordinary IP packets, each no longer
 * than the TUN MTU, with every checksum complete; they touch no fd and
 * allocate nothing.
 *
 *	struct tso s;
 *	if (tso_begin(&s, vnet, pkt, len) == 0)
 *		while ((rc = tso_next(&s, out, cap, &outlen)) > 0)
 *			... out[0..outlen) is one IP packet ...
 *
 * Segmenting a TCP super-segment of payload P into gso_size pieces:
 * every piece gets a copy of the IP and TCP headers; the sequence number
 * advances by the payload before it; IPv4 total length, identification
 * (+1 per piece) and header checksum, IPv6 payload length, and the TCP
 * checksum are recomputed; FIN and PSH stay on the last piece only, CWR
 * on the first only.  A packet that is not GSO is passed through as the
 * one piece, its checksum completed when NEEDS_CSUM is set.
 */

enum tso_limit {
	TSO_LIMIT_INVALID = 0,
	TSO_VNET_HDR_LEN = 10,		/* sizeof(struct virtio_net_hdr) */
	TSO_PACKET_MAX = 65535,		/* largest super-segment read */
	TSO_MSS_MIN = 8,		/* smaller gso_size: refused */
};

/* The fields of a virtio_net_hdr, decoded (tso_vnet_parse). */
struct tso_vnet {
	uint8_t		flags;		/* VIRTIO_NET_HDR_F_* */
	uint8_t		gso_type;	/* VIRTIO_NET_HDR_GSO_* */
	uint16_t	hdr_len;
	uint16_t	gso_size;
	uint16_t	csum_start;
	uint16_t	csum_offset;
};

struct tso {
	const uint8_t	*pkt;		/* the super-segment, borrowed */
	size_t		 len;
	size_t		 l4off;		/* where the transport header starts */
	size_t		 hlen;		/* IP + TCP headers */
	size_t		 mss;		/* payload bytes per piece; 0: one */
	size_t		 off;		/* payload bytes already emitted */
	uint32_t	 seq;		/* the first piece's sequence number */
	uint16_t	 id;		/* the first piece's IPv4 identification */
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned	 npieces;	/* emitted so far */
	int		 csum;		/* non-GSO: complete the checksum */
	struct tso_vnet	 vnet;
};

/* Decodes the 10 bytes before a packet read from the TUN fd. */
void	tso_vnet_parse(const uint8_t hdr[TSO_VNET_HDR_LEN], struct tso_vnet *);
/* Encodes one (the write side: gso_type NONE, or flags DATA_VALID). */
void	tso_vnet_build(const struct tso_vnet *, uint8_t hdr[TSO_VNET_HDR_LEN]);

/*
 * tso_begin: checks a read (vnet header decoded, packet pkt[0..len)) and
 * prepares its pieces.  Returns 0; -EBADMSG when the packet does not match
 * its header (lengths, offsets, a GSO packet that is not TCP over the IP
 * version it claims, IPv4 options beyond its IHL, IPv6 extension headers);
 * -EPROTONOSUPPORT for a GSO type other than TCPV4/TCPV6 (UDP_L4, the
 * ECN bit); pkt stays borrowed until the last tso_next().
 */
int	tso_begin(struct tso *, const struct tso_vnet *, const uint8_t *pkt,
	    size_t len);
/*
 * tso_next: writes the next piece into out.  Returns 1 with *outlen set,
 * 0 when all pieces were written, -ENOSPC when cap is too small.
 */
int	tso_next(struct tso *, uint8_t *out, size_t cap, size_t *outlen);

/*
 * The Internet checksum (RFC 1071): tso_csum_add sums bytes into a 32-bit
 * accumulator (an odd length is padded with a zero byte; call it with
 * even lengths except for the last part), tso_csum_fold folds and
 * complements it.
 */
uint32_t tso_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t tso_csum_fold(uint32_t sum);

/*
 * tso_csum_verify: true when the IPv4 header checksum (IPv4) and the
 * TCP or UDP checksum (with its pseudo-header) of the IP packet p[0..len)
 * are correct.  For the tests and for debugging.
 */
int	tso_csum_verify(const uint8_t *p, size_t len);

/*
 * Receive coalescing (GRO).  The packets of one receive batch, opened and
 * checked one by one, are added in their order of arrival; consecutive
 * in-order TCP segments of one flow become one group, written to the TUN
 * fd as one super-segment that the kernel takes like a GRO packet: its
 * virtio_net_hdr says gso_type TCPV4/TCPV6, gso_size the first segment's
 * payload, NEEDS_CSUM at csum_start (the TCP header) + 16, and the TCP
 * checksum field holds the pseudo-header sum for the whole length.  Any
 * other packet is a group of its own, written as it came (DATA_VALID).
 *
 * A segment joins the newest group of its flow when all of these hold:
 * same addresses, ports and IP version; IPv4 without options or
 * fragmentation (the DF and reserved flags as in the group), IPv6 without extension headers;
 * same TOS / traffic class and flow label, TTL / hop limit; TCP flags ACK
 * or ACK|PSH only (a PSH ends the group), the same ACK number, TCP options
 * absent or only a timestamp, byte for byte as in the group's first
 * segment; its sequence number right after the group's end; a payload of
 * the group's first size (one shorter payload may end the group); at
 * most TSO_GRO_SEGMENTS segments and TSO_PACKET_MAX bytes in all.  A
 * segment that may not join starts a new group of its flow, so the
 * segments of a flow are written in the order they came.  The
 * super-segment's window is its last segment's.
 *
 *	tso_gro_reset(g);
 *	for each opened packet: tso_gro_add(g, pkt, len)  (-ENOSPC: full)
 *	for (i = 0; i < tso_gro_groups(g); i++)
 *		niov = tso_gro_iov(g, i, &hb, iov, TSO_GRO_IOV);
 *		writev(tunfd, iov, niov);
 *
 * Packets are borrowed, never modified, and must stay until
 * tso_gro_reset(); the headers written are built in the caller's struct
 * tso_gro_hdr.  Nothing is allocated after tso_gro_new().
 */
enum tso_gro_limit {
	TSO_GRO_LIMIT_INVALID = 0,
	TSO_GRO_SEGMENTS = 64,		/* segments per super-segment */
	/* Entries tso_gro_iov() may fill: vnet, headers, payloads. */
	TSO_GRO_IOV = TSO_GRO_SEGMENTS + 2,
	/* IPv4 (IHL 15) + TCP (data offset 15) */
	TSO_GRO_HEADERS_MAX = 60 + 60,
};

struct tso_gro;

/* The headers of one write, built by tso_gro_iov(). */
struct tso_gro_hdr {
	uint8_t		vnet[TSO_VNET_HDR_LEN];
	uint8_t		ip_tcp[TSO_GRO_HEADERS_MAX];
};

/* Room for `cap` packets per batch.  0, -EINVAL or -ENOMEM. */
int	tso_gro_new(struct tso_gro **, size_t cap);
void	tso_gro_free(struct tso_gro *);	/* accepts NULL */
/* Forgets every packet and group: their bytes may be reused now. */
void	tso_gro_reset(struct tso_gro *);
/*
 * tso_gro_split: with on, nothing is coalesced any more (every packet is
 * its own group): for a kernel that refuses the GSO writes.
 */
void	tso_gro_split(struct tso_gro *, bool on);
/*
 * tso_gro_add: one IP packet of exactly len bytes (the caller has checked
 * its length, addresses and tunnel), borrowed until tso_gro_reset().
 * Returns 0, or -ENOSPC when the batch is full (write it and reset).
 */
int	tso_gro_add(struct tso_gro *, const uint8_t *pkt, size_t len);
/* Packets added, and writes they make, since the last reset. */
size_t	tso_gro_packets(const struct tso_gro *);
size_t	tso_gro_groups(const struct tso_gro *);
/* How many packets group i holds (1: written as it came). */
size_t	tso_gro_group_size(const struct tso_gro *, size_t i);
/*
 * tso_gro_iov: the writev() vector of group i (i < tso_gro_groups()),
 * pointing into hb (for the virtio_net_hdr and, when coalesced, the
 * rewritten IP and TCP headers) and into the packets.  Returns the number
 * of entries used, at most TSO_GRO_IOV, or -ENOSPC if iovcap is smaller
 * than needed, -EINVAL for no such group.
 */
int	tso_gro_iov(const struct tso_gro *, size_t i, struct tso_gro_hdr *hb,
	    struct iovec *iov, size_t iovcap);

#endif
