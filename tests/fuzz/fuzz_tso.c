/* fuzz_tso.c -- libFuzzer target: receive coalescing and the TUN splitter on opened inner packets. */
#include "config.h"

#include <sys/uio.h>

#include <linux/virtio_net.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane.h"
#include "tso.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * The input is a batch of inner packets as the data plane hands them to
 * tso_gro_add() after opening them: each is a 2-byte big-endian length
 * and that many bytes, cut to the length the data plane's own parse
 * (dataplane_ip_parse) gives it: the IPv4 total length, or the IPv6 header
 * and payload length.  Packets it refuses are dropped here too, as
 * dataplane_open() drops them.  Every group is then built as the writev()
 * would write it, and:
 *   - a group of one packet is that packet, unchanged, DATA_VALID;
 *   - a coalesced group has a TCPV4/TCPV6 header and, split again at its
 *     gso_size by tso.c (what the kernel does with it), gives back packets
 *     equal to inputs apart from the fields coalescing rewrites (IPv4
 *     identification and header checksum, TCP window, checksum and
 *     urgent pointer);
 *   - every input packet comes out exactly once, and the packets of a
 *     group come out in the order they went in.
 */
enum {
	FZ_BATCH = 64,
	FZ_PKT_MAX = 2048,
};

static struct tso_gro	*fz_gro;
static const uint8_t	*fz_pkt[FZ_BATCH];
static size_t		 fz_len[FZ_BATCH];
static bool		 fz_used[FZ_BATCH];
static uint8_t		 fz_write[TSO_VNET_HDR_LEN + TSO_PACKET_MAX];
static uint8_t		 fz_piece[TSO_PACKET_MAX];

static void fz_fail(const char *) __attribute__((noreturn));

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_tso: %s\n", what);
	abort();
}

static uint16_t
fz_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Equal but for what coalescing and the split rewrite in a piece: IPv4
 * identification and header checksum; the TCP window (the last
 * segment's), checksum and urgent pointer (meaningless without URG, which
 * is never coalesced): l4 + 14 to l4 + 19.
 */
static bool
fz_same_piece(const uint8_t *a, const uint8_t *b, size_t len, size_t l4)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (a[0] >> 4 == 4 && (i == 4 || i == 5 || i == 10 || i == 11))
			continue;
		if (i >= l4 + 14 && i < l4 + 20)
			continue;
		if (a[i] != b[i])
			return false;
	}
	return true;
}

/* Marks the first unused input equal to the piece; its index, or -1. */
static int
fz_match(const uint8_t *piece, size_t len, size_t l4, int after)
{
	int i;

	for (i = after + 1; i < FZ_BATCH && fz_pkt[i] != NULL; i++)
		if (!fz_used[i] && fz_len[i] == len && (l4 == 0 ?
		    memcmp(fz_pkt[i], piece, len) == 0 :
		    fz_same_piece(fz_pkt[i], piece, len, l4))) {
			fz_used[i] = true;
			return i;
		}
	return -1;
}

static size_t
fz_group(size_t gi)
{
	struct iovec iov[TSO_GRO_IOV];
	struct tso_gro_hdr hb;
	struct tso_vnet v;
	struct tso s;
	size_t len = 0, plen, count, k;
	int n, i, last = -1, rc;

	count = tso_gro_group_size(fz_gro, gi);
	if ((n = tso_gro_iov(fz_gro, gi, &hb, iov, TSO_GRO_IOV)) < 2)
		fz_fail("a group without a header and a packet");
	for (i = 0; i < n; i++) {
		if (len + iov[i].iov_len > sizeof(fz_write))
			fz_fail("a write longer than a TUN packet");
		memcpy(fz_write + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	tso_vnet_parse(fz_write, &v);
	len -= TSO_VNET_HDR_LEN;
	if (count == 1) {
		if (v.gso_type != VIRTIO_NET_HDR_GSO_NONE ||
		    v.flags != VIRTIO_NET_HDR_F_DATA_VALID)
			fz_fail("a single packet with a GSO header");
		if (fz_match(fz_write + TSO_VNET_HDR_LEN, len, 0, -1) < 0)
			fz_fail("a single packet that is no input");
		return 1;
	}
	if (v.flags != VIRTIO_NET_HDR_F_NEEDS_CSUM ||
	    (v.gso_type != VIRTIO_NET_HDR_GSO_TCPV4 &&
	    v.gso_type != VIRTIO_NET_HDR_GSO_TCPV6) || v.csum_offset != 16)
		fz_fail("a coalesced group without its TCP GSO header");
	if ((rc = tso_begin(&s, &v, fz_write + TSO_VNET_HDR_LEN, len)) < 0)
		fz_fail("the splitter refuses a coalesced group");
	for (k = 0; k < count; k++) {
		if (tso_next(&s, fz_piece, sizeof(fz_piece), &plen) != 1)
			fz_fail("a coalesced group splits into fewer packets");
		if ((i = fz_match(fz_piece, plen, v.csum_start, last)) < 0)
			fz_fail("a piece that is no input, or out of order");
		last = i;
	}
	if (tso_next(&s, fz_piece, sizeof(fz_piece), &plen) != 0)
		fz_fail("a coalesced group splits into more packets");
	return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dataplane_ip ip;
	size_t n = 0, off = 0, len, gi, out = 0;

	if (fz_gro == NULL && tso_gro_new(&fz_gro, FZ_BATCH) < 0)
		abort();
	tso_gro_reset(fz_gro);
	memset(fz_pkt, 0, sizeof(fz_pkt));
	memset(fz_used, 0, sizeof(fz_used));
	while (n < FZ_BATCH && off + 2 <= size) {
		len = fz_be16(data + off);
		off += 2;
		if (len > size - off)
			len = size - off;
		if (len > FZ_PKT_MAX)
			len = FZ_PKT_MAX;
		if (dataplane_ip_parse(data + off, len, &ip) == 0) {
			if (tso_gro_add(fz_gro, data + off, ip.len) < 0)
				fz_fail("a batch within its capacity is full");
			fz_pkt[n] = data + off;
			fz_len[n] = ip.len;
			n++;
		}
		off += len;
	}
	if (tso_gro_packets(fz_gro) != n)
		fz_fail("packet count");
	for (gi = 0; gi < tso_gro_groups(fz_gro); gi++)
		out += fz_group(gi);
	if (out != n)
		fz_fail("packets lost or written twice");
	return 0;
}
