/* test_tso.c -- unit tests for TUN offload segmentation and checksums. */
#include "config.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "tso.h"

enum {
	T_TCP_OPTS = 12,		/* timestamps, as Linux sends them */
	T_TCP_HLEN = 20 + T_TCP_OPTS,
	T_SEQ = 0xfffff000u,		/* wraps inside the super-segment */
	T_ID = 0xfff0,			/* wraps as well */
	T_FLAGS = 0x80 | 0x10 | 0x08 | 0x01,	/* CWR ACK PSH FIN */
	T_OUT_CAP = 2048,
};

static const uint8_t t_src4[4] = { 198, 18, 1, 2 };
static const uint8_t t_dst4[4] = { 198, 18, 2, 3 };
static const uint8_t t_src6[16] = { 0xfd, 0x6e, 0x74, 0x6d, 0x6f, 0x62, 0, 1,
	0, 0, 0, 0, 0, 0, 0, 2 };
static const uint8_t t_dst6[16] = { 0xfd, 0x6e, 0x74, 0x6d, 0x6f, 0x62, 0, 2,
	0, 0, 0, 0, 0, 0, 0, 3 };

/* Folds without complement: what the kernel leaves in a partial field. */
static uint16_t
t_partial(uint32_t sum)
{
	return (uint16_t)~tso_csum_fold(sum);
}

/* An IP header for l4len bytes of protocol proto; returns its length. */
static size_t
t_ip(uint8_t *p, int family, uint8_t proto, size_t l4len)
{
	if (family == AF_INET) {
		memset(p, 0, 20);
		p[0] = 0x45;
		store_be16(p + 2, (uint16_t)(20 + l4len));
		store_be16(p + 4, T_ID);
		p[6] = 0x40;		/* DF */
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, t_src4, 4);
		memcpy(p + 16, t_dst4, 4);
		store_be16(p + 10, tso_csum_fold(tso_csum_add(0, p, 20)));
		return 20;
	}
	memset(p, 0, 40);
	p[0] = 0x60;
	store_be16(p + 4, (uint16_t)l4len);
	p[6] = proto;
	p[7] = 64;
	memcpy(p + 8, t_src6, 16);
	memcpy(p + 24, t_dst6, 16);
	return 40;
}

/* The pseudo-header sum, computed independently of tso.c. */
static uint32_t
t_pseudo(const uint8_t *p, int family, uint8_t proto, size_t l4len)
{
	uint8_t ph[40];

	memset(ph, 0, sizeof(ph));
	if (family == AF_INET) {
		memcpy(ph, p + 12, 8);
		ph[9] = proto;
		store_be16(ph + 10, (uint16_t)l4len);
		return tso_csum_add(0, ph, 12);
	}
	memcpy(ph, p + 8, 32);
	store_be32(ph + 32, (uint32_t)l4len);
	ph[39] = proto;
	return tso_csum_add(0, ph, 40);
}

/*
 * A TCP super-segment as a TUN read with offloads gives it: headers with
 * a partial checksum and `payload` bytes of a counting pattern.
 */
static uint8_t *
t_super(int family, size_t payload, size_t mss, struct tso_vnet *v,
    size_t *lenp)
{
	size_t hl, len, i;
	uint8_t *p, *tcp;

	len = (family == AF_INET ? 20 : 40) + T_TCP_HLEN + payload;
	assert_true(len <= TSO_PACKET_MAX);
	p = malloc(len);
	assert_non_null(p);
	hl = t_ip(p, family, IPPROTO_TCP, T_TCP_HLEN + payload);
	tcp = p + hl;
	memset(tcp, 0, T_TCP_HLEN);
	store_be16(tcp, 40000);
	store_be16(tcp + 2, 5201);
	store_be32(tcp + 4, T_SEQ);
	store_be32(tcp + 8, 0x01020304);
	tcp[12] = (T_TCP_HLEN / 4) << 4;
	tcp[13] = T_FLAGS;
	store_be16(tcp + 14, 64240);
	tcp[20] = 1;
	tcp[21] = 1;
	tcp[22] = 8;
	tcp[23] = 10;
	for (i = 0; i < payload; i++)
		tcp[T_TCP_HLEN + i] = (uint8_t)(i * 7 + i / 251);
	store_be16(tcp + 16, t_partial(t_pseudo(p, family, IPPROTO_TCP,
	    T_TCP_HLEN + payload)));
	memset(v, 0, sizeof(*v));
	v->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	v->gso_type = family == AF_INET ? VIRTIO_NET_HDR_GSO_TCPV4 :
	    VIRTIO_NET_HDR_GSO_TCPV6;
	v->hdr_len = (uint16_t)(hl + T_TCP_HLEN);
	v->gso_size = (uint16_t)mss;
	v->csum_start = (uint16_t)hl;
	v->csum_offset = 16;
	*lenp = len;
	return p;
}

/*
 * Splits a super-segment and checks every piece the way the receiving
 * kernel would: checksums, lengths, sequence numbers, IPv4 ids, flags,
 * and the payload put back together equals the original.
 */
static void
t_split_check(int family, size_t payload, size_t mss)
{
	uint8_t out[T_OUT_CAP], *p, *joined;
	struct tso_vnet v;
	struct tso s;
	size_t len, outlen, hl, got = 0, want;
	unsigned n = 0;
	int rc;

	p = t_super(family, payload, mss, &v, &len);
	hl = v.csum_start;
	joined = malloc(payload + 1);
	assert_non_null(joined);
	assert_int_equal(tso_begin(&s, &v, p, len), 0);
	while ((rc = tso_next(&s, out, sizeof(out), &outlen)) == 1) {
		want = payload - got < mss ? payload - got : mss;
		assert_int_equal(outlen, hl + T_TCP_HLEN + want);
		assert_true(tso_csum_verify(out, outlen));
		if (family == AF_INET)
			assert_int_equal(load_be16(out + 4),
			    (uint16_t)(T_ID + n));
		else
			assert_int_equal(load_be16(out + 4),
			    outlen - 40);
		assert_int_equal(load_be32(out + hl + 4),
		    (uint32_t)(T_SEQ + got));
		/* Ack, window, options: copied unchanged. */
		assert_memory_equal(out + hl + 8, p + hl + 8, 5);
		assert_memory_equal(out + hl + 14, p + hl + 14, 2);
		assert_memory_equal(out + hl + 20, p + hl + 20, T_TCP_OPTS);
		if (got + want < payload)
			assert_int_equal(out[hl + 13] & 0x09, 0);
		else
			assert_int_equal(out[hl + 13] & 0x09, 0x09);
		assert_int_equal(out[hl + 13] & 0x80, n == 0 ? 0x80 : 0);
		assert_int_equal(out[hl + 13] & 0x10, 0x10);
		memcpy(joined + got, out + hl + T_TCP_HLEN, want);
		got += want;
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(got, payload);
	assert_int_equal(n, (payload + mss - 1) / mss);
	assert_memory_equal(joined, p + hl + T_TCP_HLEN, payload);
	/* Done stays done. */
	assert_int_equal(tso_next(&s, out, sizeof(out), &outlen), 0);
	free(joined);
	free(p);
}

static void
test_split_ipv4_64k(void **state)
{
	(void)state;
	/* The largest a TUN read gives: 64 KiB less the headers. */
	t_split_check(AF_INET, TSO_PACKET_MAX - 20 - T_TCP_HLEN, 1368);
}

static void
test_split_ipv6_64k(void **state)
{
	(void)state;
	t_split_check(AF_INET6, TSO_PACKET_MAX - 40 - T_TCP_HLEN, 1348);
}

static void
test_split_odd_lengths(void **state)
{
	(void)state;
	/* An odd MSS, an odd tail, a tail of one byte, one piece only. */
	t_split_check(AF_INET, 1381 * 3 + 7, 1381);
	t_split_check(AF_INET6, 1001 * 5 + 1, 1001);
	t_split_check(AF_INET, 999, 1368);
	t_split_check(AF_INET6, 1348 * 2, 1348);
}

/* A corrupted piece does not verify: the checks above can fail. */
static void
test_verify_catches_damage(void **state)
{
	uint8_t out[T_OUT_CAP], *p;
	struct tso_vnet v;
	struct tso s;
	size_t len, outlen;

	(void)state;
	p = t_super(AF_INET, 3000, 1368, &v, &len);
	assert_int_equal(tso_begin(&s, &v, p, len), 0);
	assert_int_equal(tso_next(&s, out, sizeof(out), &outlen), 1);
	assert_true(tso_csum_verify(out, outlen));
	out[outlen - 1] ^= 0x40;
	assert_false(tso_csum_verify(out, outlen));
	out[outlen - 1] ^= 0x40;
	out[8] ^= 1;			/* TTL: the IPv4 header checksum */
	assert_false(tso_csum_verify(out, outlen));
	free(p);
}

/* A UDP datagram (not GSO) whose checksum the kernel left partial. */
static void
t_udp_needs_csum(int family, size_t payload)
{
	uint8_t p[1600], out[T_OUT_CAP];
	struct tso_vnet v;
	struct tso s;
	size_t hl, len, outlen, i;

	hl = t_ip(p, family, IPPROTO_UDP, 8 + payload);
	len = hl + 8 + payload;
	store_be16(p + hl, 5353);
	store_be16(p + hl + 2, 53);
	store_be16(p + hl + 4, (uint16_t)(8 + payload));
	for (i = 0; i < payload; i++)
		p[hl + 8 + i] = (uint8_t)(0xa5 ^ i);
	store_be16(p + hl + 6, t_partial(t_pseudo(p, family, IPPROTO_UDP,
	    8 + payload)));
	assert_false(tso_csum_verify(p, len));
	memset(&v, 0, sizeof(v));
	v.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	v.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	v.csum_start = (uint16_t)hl;
	v.csum_offset = 6;
	assert_int_equal(tso_begin(&s, &v, p, len), 0);
	assert_int_equal(tso_next(&s, out, sizeof(out), &outlen), 1);
	assert_int_equal(outlen, len);
	assert_true(tso_csum_verify(out, outlen));
	/* Only the checksum field changed. */
	assert_memory_equal(out, p, hl + 6);
	assert_memory_equal(out + hl + 8, p + hl + 8, payload);
	assert_int_equal(tso_next(&s, out, sizeof(out), &outlen), 0);
}

static void
test_udp_needs_csum(void **state)
{
	(void)state;
	t_udp_needs_csum(AF_INET, 333);
	t_udp_needs_csum(AF_INET6, 1000);
	t_udp_needs_csum(AF_INET, 1);
}

/* Without NEEDS_CSUM a packet goes through byte for byte. */
static void
test_plain_passthrough(void **state)
{
	uint8_t p[200], out[T_OUT_CAP];
	struct tso_vnet v;
	struct tso s;
	size_t len, outlen;

	(void)state;
	len = t_ip(p, AF_INET, IPPROTO_ICMP, 64) + 64;
	memset(p + 20, 0x5a, 64);
	memset(&v, 0, sizeof(v));
	assert_int_equal(tso_begin(&s, &v, p, len), 0);
	assert_int_equal(tso_next(&s, out, sizeof(out), &outlen), 1);
	assert_int_equal(outlen, len);
	assert_memory_equal(out, p, len);
	assert_int_equal(tso_next(&s, out, sizeof(out), &outlen), 0);
}

static void
test_refusals(void **state)
{
	uint8_t out[T_OUT_CAP], *p;
	struct tso_vnet v, w;
	struct tso s;
	size_t len, outlen;

	(void)state;
	p = t_super(AF_INET, 5000, 1368, &v, &len);
	/* Lengths that disagree with the IP header. */
	assert_int_equal(tso_begin(&s, &v, p, len - 1), -EBADMSG);
	/* UDP segmentation offload is not asked for, so not handled. */
	w = v;
	w.gso_type = 5;		/* VIRTIO_NET_HDR_GSO_UDP_L4 (5.18) */
	assert_int_equal(tso_begin(&s, &w, p, len), -EPROTONOSUPPORT);
	/* TCPV6 on an IPv4 packet. */
	w = v;
	w.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_int_equal(tso_begin(&s, &w, p, len), -EBADMSG);
	/* A checksum offset elsewhere than the TCP checksum. */
	w = v;
	w.csum_offset = 6;
	assert_int_equal(tso_begin(&s, &w, p, len), -EBADMSG);
	/* A tiny MSS. */
	w = v;
	w.gso_size = 1;
	assert_int_equal(tso_begin(&s, &w, p, len), -EBADMSG);
	/* NEEDS_CSUM pointing past the end. */
	w = v;
	w.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	w.csum_start = (uint16_t)(len - 1);
	assert_int_equal(tso_begin(&s, &w, p, len), -EBADMSG);
	/* An output buffer smaller than a piece. */
	assert_int_equal(tso_begin(&s, &v, p, len), 0);
	assert_int_equal(tso_next(&s, out, 1000, &outlen), -ENOSPC);
	free(p);
}

static void
test_checksum_rfc1071(void **state)
{
	/* RFC 1071 section 3's example: the sum is ddf2. */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5,
	    0xf6, 0xf7 };
	static const uint8_t odd[] = { 0x01, 0x02, 0x03 };

	(void)state;
	assert_int_equal(tso_csum_fold(tso_csum_add(0, b, sizeof(b))),
	    (uint16_t)~0xddf2);
	/* An odd byte is the high half of a word padded with zero. */
	assert_int_equal(tso_csum_fold(tso_csum_add(0, odd, sizeof(odd))),
	    (uint16_t)~(0x0102 + 0x0300));
	/* Parts of even length add up to the whole. */
	assert_int_equal(tso_csum_fold(tso_csum_add(tso_csum_add(0, b, 2),
	    b + 2, 6)), tso_csum_fold(tso_csum_add(0, b, sizeof(b))));
}

/* The RFC 1071 sum one big-endian 16-bit word at a time, folded. */
static uint16_t
t_csum_ref(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len % 2)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * The vectorised sum agrees with the plain one for every length around
 * its 32-byte turns, at every alignment, and over more than one of its
 * blocks of all-ones words (the case that would overflow a lane).
 */
static void
test_checksum_reference(void **state)
{
	enum { BIG = 3 << 20 };
	uint8_t *b;
	size_t len, off, i;

	(void)state;
	b = malloc(BIG);
	assert_non_null(b);
	for (i = 0; i < BIG; i++)
		b[i] = (uint8_t)(i * 131 + (i >> 8) * 7 + (i >> 16));
	for (len = 0; len <= 200; len++)
		for (off = 0; off < 8; off++)
			assert_int_equal(tso_csum_fold(tso_csum_add(0, b + off,
			    len)), t_csum_ref(b + off, len));
	assert_int_equal(tso_csum_fold(tso_csum_add(0, b + 1, BIG - 3)),
	    t_csum_ref(b + 1, BIG - 3));
	memset(b, 0xff, BIG);
	b[5] = 0xfe;
	assert_int_equal(tso_csum_fold(tso_csum_add(0, b + 3, BIG - 4)),
	    t_csum_ref(b + 3, BIG - 4));
	free(b);
}

static void
test_vnet_roundtrip(void **state)
{
	struct tso_vnet v = { VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    VIRTIO_NET_HDR_GSO_TCPV6, 72, 1348, 40, 16 }, w;
	uint8_t h[TSO_VNET_HDR_LEN];

	(void)state;
	tso_vnet_build(&v, h);
	assert_int_equal(h[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(h[1], VIRTIO_NET_HDR_GSO_TCPV6);
	tso_vnet_parse(h, &w);
	assert_memory_equal(&v, &w, sizeof(v));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_ipv4_64k),
		cmocka_unit_test(test_split_ipv6_64k),
		cmocka_unit_test(test_split_odd_lengths),
		cmocka_unit_test(test_verify_catches_damage),
		cmocka_unit_test(test_udp_needs_csum),
		cmocka_unit_test(test_plain_passthrough),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_checksum_rfc1071),
		cmocka_unit_test(test_checksum_reference),
		cmocka_unit_test(test_vnet_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
