/* test_gro.c -- unit tests for TUN receive coalescing (tso_gro_*). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "tso.h"
#include "tun.h"

enum {
	T_SLOT = 2048,			/* bytes per test packet */
	T_MAX = 160,			/* packets per test */
	T_MSS = 1000,
	T_SEQ = 0xffffe000u,		/* wraps inside a group */
	T_ID = 0xfffe,
	T_ACK = 0x10,
	T_PSH = 0x08,
	T_FIN = 0x01,
	T_SYN = 0x02,
	T_RST = 0x04,
	T_URG = 0x20,
	T_ECE = 0x40,
	T_CWR = 0x80,
};

static const uint8_t t_src4[4] = { 198, 18, 2, 3 };
static const uint8_t t_dst4[4] = { 198, 18, 1, 2 };
static const uint8_t t_src6[16] = { 0xfd, 0x6e, 0x74, 0x6d, 0x6f, 0x62, 0, 2,
	0, 0, 0, 0, 0, 0, 0, 3 };
static const uint8_t t_dst6[16] = { 0xfd, 0x6e, 0x74, 0x6d, 0x6f, 0x62, 0, 1,
	0, 0, 0, 0, 0, 0, 0, 2 };
/* NOP NOP timestamp, as Linux sends on every segment. */
static const uint8_t t_ts[12] = { 1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0,
	0x56, 0x78 };

/* Everything a test segment may vary; t_seg_default() fills it. */
struct t_seg {
	int		family;
	uint32_t	seq, ack;
	uint16_t	sport, dport, window, id, frag;
	uint8_t		flags, tos, ttl, proto, tcp_res;
	uint32_t	flow;		/* IPv6 flow label */
	size_t		payload;
	uint8_t		opts[40];
	size_t		optlen;
	size_t		ipopts;		/* IPv4 option bytes */
	bool		ext;		/* IPv6: hop-by-hop first */
	const uint8_t	*src4, *dst4;	/* NULL: t_src4, t_dst4 */
};

struct t_batch {
	struct tso_gro	*g;
	uint8_t		*buf;		/* T_MAX slots */
	size_t		 len[T_MAX];
	size_t		 n;
};

static void
t_seg_default(struct t_seg *s, int family)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->seq = T_SEQ;
	s->ack = 0x01020304;
	s->sport = 5201;
	s->dport = 40000;
	s->window = 502;
	s->id = T_ID;
	s->frag = 0x4000;		/* DF */
	s->flags = T_ACK;
	s->ttl = 64;
	s->proto = IPPROTO_TCP;
	s->payload = T_MSS;
	memcpy(s->opts, t_ts, sizeof(t_ts));
	s->optlen = sizeof(t_ts);
}

/* The payload byte at sequence number seq: the same for every packet. */
static uint8_t
t_byte(uint32_t seq)
{
	return (uint8_t)(seq * 31 + (seq >> 9));
}

/*
 * A complete, checksummed IP packet as the peer's kernel sent it (what
 * dataplane_open hands over); its length.
 */
static size_t
t_build(uint8_t *p, const struct t_seg *s)
{
	size_t l4, thl, len, i;
	uint8_t *tcp;
	uint32_t sum;

	thl = 20 + s->optlen;
	if (s->family == AF_INET) {
		l4 = 20 + s->ipopts;
		len = l4 + thl + s->payload;
		memset(p, 0, l4);
		p[0] = (uint8_t)(0x40 | l4 / 4);
		p[1] = s->tos;
		store_be16(p + 2, (uint16_t)len);
		store_be16(p + 4, s->id);
		store_be16(p + 6, s->frag);
		p[8] = s->ttl;
		p[9] = s->proto;
		memcpy(p + 12, s->src4 != NULL ? s->src4 : t_src4, 4);
		memcpy(p + 16, s->dst4 != NULL ? s->dst4 : t_dst4, 4);
		memset(p + 20, 1, s->ipopts);
		store_be16(p + 10, tso_csum_fold(tso_csum_add(0, p, l4)));
	} else {
		l4 = s->ext ? 48 : 40;
		len = l4 + thl + s->payload;
		memset(p, 0, l4);
		store_be32(p, 0x60000000u | (uint32_t)s->tos << 20 | s->flow);
		store_be16(p + 4, (uint16_t)(len - 40));
		p[6] = s->ext ? 0 : s->proto;
		p[7] = s->ttl;
		memcpy(p + 8, t_src6, 16);
		memcpy(p + 24, t_dst6, 16);
		if (s->ext) {
			/* Hop-by-hop: 8 bytes, PadN. */
			p[40] = s->proto;
			p[42] = 1;
			p[43] = 4;
		}
	}
	tcp = p + l4;
	memset(tcp, 0, thl);
	store_be16(tcp, s->sport);
	store_be16(tcp + 2, s->dport);
	store_be32(tcp + 4, s->seq);
	store_be32(tcp + 8, s->ack);
	tcp[12] = (uint8_t)((thl / 4) << 4 | s->tcp_res);
	tcp[13] = s->flags;
	store_be16(tcp + 14, s->window);
	memcpy(tcp + 20, s->opts, s->optlen);
	for (i = 0; i < s->payload; i++)
		tcp[thl + i] = t_byte(s->seq + (uint32_t)i);
	if (s->family == AF_INET) {
		sum = tso_csum_add(0, p + 12, 8);
	} else
		sum = tso_csum_add(0, p + 8, 32);
	sum += IPPROTO_TCP + (uint32_t)(thl + s->payload);
	store_be16(tcp + 16, tso_csum_fold(tso_csum_add(sum, tcp,
	    thl + s->payload)));
	return len;
}

static void
t_batch_init(struct t_batch *b)
{
	memset(b, 0, sizeof(*b));
	assert_int_equal(tso_gro_new(&b->g, T_MAX), 0);
	b->buf = calloc(T_MAX, T_SLOT);
	assert_non_null(b->buf);
}

static void
t_batch_free(struct t_batch *b)
{
	tso_gro_free(b->g);
	free(b->buf);
}

static uint8_t *
t_pkt(struct t_batch *b, size_t i)
{
	return b->buf + i * T_SLOT;
}

/* Builds segment s as the batch's next packet and adds it. */
static void
t_add(struct t_batch *b, const struct t_seg *s)
{
	assert_true(b->n < T_MAX);
	b->len[b->n] = t_build(t_pkt(b, b->n), s);
	assert_int_equal(tso_gro_add(b->g, t_pkt(b, b->n), b->len[b->n]), 0);
	b->n++;
}

/*
 * n segments of s->payload each from s->seq on (IPv4 ids counting up);
 * s is left describing the segment after them.
 */
static void
t_add_run(struct t_batch *b, struct t_seg *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		t_add(b, s);
		s->seq += (uint32_t)s->payload;
		s->id++;
	}
}

/* The bytes a writev() of the vector would write. */
static size_t
t_join(const struct iovec *iov, int n, uint8_t *out, size_t cap)
{
	size_t len = 0;
	int i;

	for (i = 0; i < n; i++) {
		assert_true(len + iov[i].iov_len <= cap);
		memcpy(out + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	return len;
}

/*
 * Checks group gi against the packets first..first+count of the batch the
 * way the kernel takes the write: a plain packet unchanged with
 * DATA_VALID; a super-segment with a TCPV4/TCPV6 header whose partial
 * checksum completes to a correct one, and which, split again at its
 * gso_size by tso.c, gives back exactly the packets that went in.
 */
static void
t_check_group(struct t_batch *b, size_t gi, size_t first, size_t count)
{
	struct iovec iov[TSO_GRO_IOV];
	struct tso_gro_hdr hb;
	struct tso_vnet v;
	struct tso s;
	uint8_t *w, piece[T_SLOT];
	size_t len, plen, k, at;
	int n, rc;

	w = malloc(TSO_VNET_HDR_LEN + TSO_PACKET_MAX);
	assert_non_null(w);
	assert_int_equal(tso_gro_group_size(b->g, gi), count);
	n = tso_gro_iov(b->g, gi, &hb, iov, TSO_GRO_IOV);
	assert_true(n >= 2);
	len = t_join(iov, n, w, TSO_VNET_HDR_LEN + TSO_PACKET_MAX);
	assert_true(len > TSO_VNET_HDR_LEN);
	tso_vnet_parse(w, &v);
	len -= TSO_VNET_HDR_LEN;
	if (count == 1) {
		assert_int_equal(v.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		assert_int_equal(v.flags, VIRTIO_NET_HDR_F_DATA_VALID);
		assert_int_equal(len, b->len[first]);
		assert_memory_equal(w + TSO_VNET_HDR_LEN, t_pkt(b, first), len);
		free(w);
		return;
	}
	assert_int_equal(v.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	if (t_pkt(b, first)[0] >> 4 == 4) {
		assert_int_equal(v.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
		assert_int_equal(v.csum_start, 20);
		assert_int_equal(load_be16(w + TSO_VNET_HDR_LEN + 2), len);
	} else {
		assert_int_equal(v.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
		assert_int_equal(v.csum_start, 40);
		assert_int_equal(load_be16(w + TSO_VNET_HDR_LEN + 4),
		    len - 40);
	}
	assert_int_equal(v.csum_offset, 16);
	assert_int_equal(v.gso_size, b->len[first] - v.hdr_len);
	assert_true(len <= TSO_PACKET_MAX);
	/* The kernel completes the sum from csum_start (skb_checksum_help). */
	at = TSO_VNET_HDR_LEN + v.csum_start;
	store_be16(w + at + 16, tso_csum_fold(tso_csum_add(0, w + at,
	    len - v.csum_start)));
	assert_true(tso_csum_verify(w + TSO_VNET_HDR_LEN, len));
	/* Split again, the pieces are the segments that went in. */
	assert_int_equal(tso_begin(&s, &v, w + TSO_VNET_HDR_LEN, len), 0);
	for (k = 0; k < count; k++) {
		assert_int_equal(tso_next(&s, piece, sizeof(piece), &plen), 1);
		assert_int_equal(plen, b->len[first + k]);
		assert_memory_equal(piece, t_pkt(b, first + k), plen);
	}
	assert_int_equal(tso_next(&s, piece, sizeof(piece), &plen), 0);
	free(w);
	(void)rc;
}

static void
t_coalesce_family(int family)
{
	struct t_batch b;
	struct t_seg s;

	t_batch_init(&b);
	t_seg_default(&s, family);
	t_add_run(&b, &s, 20);
	/* The last one shorter, and with PSH, as a send() ends. */
	s.payload = 123;
	s.flags = T_ACK | T_PSH;
	t_add(&b, &s);
	assert_int_equal(tso_gro_packets(b.g), 21);
	assert_int_equal(tso_gro_groups(b.g), 1);
	t_check_group(&b, 0, 0, 21);
	tso_gro_reset(b.g);
	assert_int_equal(tso_gro_packets(b.g), 0);
	assert_int_equal(tso_gro_groups(b.g), 0);
	t_batch_free(&b);
}

static void
test_coalesce_ipv4(void **state)
{
	(void)state;
	t_coalesce_family(AF_INET);
}

static void
test_coalesce_ipv6(void **state)
{
	(void)state;
	t_coalesce_family(AF_INET6);
}

/* A lone packet, and a segment alone in its flow: written as they came. */
static void
test_single_passthrough(void **state)
{
	struct t_batch b;
	struct t_seg s;

	(void)state;
	t_batch_init(&b);
	t_seg_default(&s, AF_INET6);
	t_add(&b, &s);
	assert_int_equal(tso_gro_groups(b.g), 1);
	t_check_group(&b, 0, 0, 1);
	t_batch_free(&b);
}

/* The super-segment advertises the newest window, its last segment's. */
static void
test_window_of_last(void **state)
{
	struct iovec iov[TSO_GRO_IOV];
	struct tso_gro_hdr hb;
	struct t_batch b;
	struct t_seg s;

	(void)state;
	t_batch_init(&b);
	t_seg_default(&s, AF_INET);
	t_add_run(&b, &s, 2);
	s.window = 4000;
	t_add_run(&b, &s, 1);
	assert_int_equal(tso_gro_groups(b.g), 1);
	assert_int_equal(tso_gro_iov(b.g, 0, &hb, iov, TSO_GRO_IOV), 5);
	assert_int_equal(iov[1].iov_len, 20 + 32);
	assert_int_equal(load_be16(hb.ip_tcp + 20 + 14), 4000);
	/* ACK only: no PSH came. */
	assert_int_equal(hb.ip_tcp[20 + 13], T_ACK);
	/* Too small a vector is refused, a group that is not there too. */
	assert_int_equal(tso_gro_iov(b.g, 0, &hb, iov, 4), -ENOSPC);
	assert_int_equal(tso_gro_iov(b.g, 1, &hb, iov, TSO_GRO_IOV), -EINVAL);
	t_batch_free(&b);
}

/* A change made to the second of three segments; see test_rules. */
typedef void (*t_mutate)(struct t_seg *);

static void m_syn(struct t_seg *s) { s->flags |= T_SYN; }
static void m_fin(struct t_seg *s) { s->flags |= T_FIN; }
static void m_rst(struct t_seg *s) { s->flags |= T_RST; }
static void m_urg(struct t_seg *s) { s->flags |= T_URG; }
static void m_ece(struct t_seg *s) { s->flags |= T_ECE; }
static void m_cwr(struct t_seg *s) { s->flags |= T_CWR; }
static void m_no_ack(struct t_seg *s) { s->flags = T_PSH; }
static void m_ae(struct t_seg *s) { s->tcp_res = 1; }
static void m_ack_num(struct t_seg *s) { s->ack += 1000; }
static void m_seq_gap(struct t_seg *s) { s->seq += 1; }
static void m_seq_back(struct t_seg *s) { s->seq -= T_MSS; }
static void m_bigger(struct t_seg *s) { s->payload = T_MSS + 1; }
static void m_empty(struct t_seg *s) { s->payload = 0; }
static void m_tos_ce(struct t_seg *s) { s->tos = 0x03; }
static void m_dscp(struct t_seg *s) { s->tos = 0x28; }
static void m_ttl(struct t_seg *s) { s->ttl = 63; }
static void m_ipopts(struct t_seg *s) { s->ipopts = 4; }
static void m_mf(struct t_seg *s) { s->frag = 0x2000; }
static void m_fragoff(struct t_seg *s) { s->frag = 0x0010; }
static void m_no_df(struct t_seg *s) { s->frag = 0; }
static void m_reserved(struct t_seg *s) { s->frag = 0xc000; }
static void m_flow(struct t_seg *s) { s->flow = 0x12345; }
static void m_ext(struct t_seg *s) { s->ext = true; }
static void m_sport(struct t_seg *s) { s->sport++; }
static void m_ts_value(struct t_seg *s) { s->opts[7]++; }
static void m_no_opts(struct t_seg *s) { s->optlen = 0; }

static void
m_sack(struct t_seg *s)
{
	/* NOP NOP SACK(10: one block) after the timestamp. */
	static const uint8_t sack[12] = { 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2 };

	memcpy(s->opts + s->optlen, sack, sizeof(sack));
	s->optlen += sizeof(sack);
}

static void
m_mss(struct t_seg *s)
{
	/* An MSS option in place of the NOPs: same length, not a timestamp. */
	s->opts[0] = 2;
	s->opts[1] = 4;
	s->opts[2] = 5;
	s->opts[3] = 0xb4;
	memmove(s->opts + 4, t_ts + 2, 10);
	s->optlen = 14 + 2;
	s->opts[14] = 1;
	s->opts[15] = 1;
}

struct t_rule {
	const char	*name;
	t_mutate	 mutate;
	int		 family;	/* 0: both */
};

/*
 * Every rule that forbids coalescing stops it: of three segments in a
 * row, the second changed so; it must not join the first's group, and
 * the third (in order after the second) must not join the first's
 * group past it either.
 */
static void
test_rules(void **state)
{
	static const struct t_rule rules[] = {
		{ "SYN", m_syn, 0 }, { "FIN", m_fin, 0 }, { "RST", m_rst, 0 },
		{ "URG", m_urg, 0 }, { "ECE", m_ece, 0 }, { "CWR", m_cwr, 0 },
		{ "no ACK", m_no_ack, 0 }, { "AE bit", m_ae, 0 },
		{ "ACK number", m_ack_num, 0 }, { "seq gap", m_seq_gap, 0 },
		{ "seq repeated", m_seq_back, 0 },
		{ "bigger payload", m_bigger, 0 }, { "no payload", m_empty, 0 },
		{ "ECN CE", m_tos_ce, 0 }, { "DSCP", m_dscp, 0 },
		{ "TTL / hop limit", m_ttl, 0 },
		{ "IPv4 options", m_ipopts, AF_INET },
		{ "IPv4 MF", m_mf, AF_INET }, { "IPv4 offset", m_fragoff,
		    AF_INET },
		{ "IPv4 DF differs", m_no_df, AF_INET },
		{ "IPv4 reserved flag differs", m_reserved, AF_INET },
		{ "flow label", m_flow, AF_INET6 },
		{ "IPv6 extension header", m_ext, AF_INET6 },
		{ "other port", m_sport, 0 },
		{ "other timestamp", m_ts_value, 0 },
		{ "no timestamp", m_no_opts, 0 }, { "SACK", m_sack, 0 },
		{ "MSS option", m_mss, 0 },
	};
	static const int families[] = { AF_INET, AF_INET6 };
	struct t_batch b;
	struct t_seg s, m;
	size_t r, f;

	(void)state;
	for (f = 0; f < 2; f++)
		for (r = 0; r < sizeof(rules) / sizeof(rules[0]); r++) {
			if (rules[r].family != 0 &&
			    rules[r].family != families[f])
				continue;
			t_batch_init(&b);
			t_seg_default(&s, families[f]);
			t_add_run(&b, &s, 1);
			m = s;
			rules[r].mutate(&m);
			t_add(&b, &m);
			s.seq += T_MSS;
			s.id++;
			t_add(&b, &s);
			if (tso_gro_group_size(b.g, 0) != 1)
				fail_msg("%s (%s): coalesced", rules[r].name,
				    families[f] == AF_INET ? "IPv4" : "IPv6");
			assert_true(tso_gro_groups(b.g) >= 2);
			t_check_group(&b, 0, 0, 1);
			t_batch_free(&b);
		}
}

/* The control: the same three unchanged make one group. */
static void
test_rules_control(void **state)
{
	struct t_batch b;
	struct t_seg s;

	(void)state;
	t_batch_init(&b);
	t_seg_default(&s, AF_INET);
	t_add_run(&b, &s, 3);
	assert_int_equal(tso_gro_groups(b.g), 1);
	t_check_group(&b, 0, 0, 3);
	t_batch_free(&b);
}

/* After a shorter payload or a PSH nothing more joins. */
static void
test_short_and_psh_end(void **state)
{
	struct t_batch b;
	struct t_seg s;

	(void)state;
	t_batch_init(&b);
	t_seg_default(&s, AF_INET);
	t_add_run(&b, &s, 2);
	s.payload = 500;
	t_add_run(&b, &s, 1);
	s.payload = 500;
	t_add_run(&b, &s, 1);
	s.payload = T_MSS;
	s.flags = T_ACK | T_PSH;
	t_add_run(&b, &s, 1);
	s.flags = T_ACK;
	t_add_run(&b, &s, 2);
	/* [1000 1000 500] [500] [1000 PSH] [1000 1000] */
	assert_int_equal(tso_gro_group_size(b.g, 0), 3);
	t_check_group(&b, 0, 0, 3);
	/* 500 starts a group whose size is 500: 1000 is bigger. */
	assert_int_equal(tso_gro_group_size(b.g, 1), 1);
	/* 1000 with PSH alone, then the last two together. */
	assert_int_equal(tso_gro_group_size(b.g, 2), 1);
	assert_int_equal(tso_gro_group_size(b.g, 3), 2);
	assert_int_equal(tso_gro_groups(b.g), 4);
	t_check_group(&b, 3, 5, 2);
	t_batch_free(&b);
}

/* Segment and byte limits: at most 64 segments and 64 KiB a write. */
static void
test_limits(void **state)
{
	struct t_batch b;
	struct t_seg s;
	size_t i, at, total;

	(void)state;
	t_batch_init(&b);
	t_seg_default(&s, AF_INET6);
	s.payload = 1400;
	t_add_run(&b, &s, 100);
	/* 40 + 32 + 45 * 1400 = 63072; one more would pass 65535. */
	for (i = 0, at = 0; i < tso_gro_groups(b.g); i++) {
		total = 72 + 1400 * tso_gro_group_size(b.g, i);
		assert_true(total <= TSO_PACKET_MAX);
		if (i + 1 < tso_gro_groups(b.g))
			assert_true(total + 1400 > TSO_PACKET_MAX);
		t_check_group(&b, i, at, tso_gro_group_size(b.g, i));
		at += tso_gro_group_size(b.g, i);
	}
	assert_int_equal(at, 100);
	assert_int_equal(tso_gro_groups(b.g), 3);
	t_batch_free(&b);

	t_batch_init(&b);
	t_seg_default(&s, AF_INET);
	s.payload = 100;
	t_add_run(&b, &s, 150);
	assert_int_equal(tso_gro_groups(b.g), 3);
	assert_int_equal(tso_gro_group_size(b.g, 0), TSO_GRO_SEGMENTS);
	assert_int_equal(tso_gro_group_size(b.g, 1), TSO_GRO_SEGMENTS);
	assert_int_equal(tso_gro_group_size(b.g, 2), 150 - 2 * 64);
	t_check_group(&b, 0, 0, TSO_GRO_SEGMENTS);
	t_check_group(&b, 2, 128, 150 - 128);
	t_batch_free(&b);
}

/* Out of order: runs are only ever extended at their end, order kept. */
static void
test_out_of_order(void **state)
{
	struct t_batch b;
	struct t_seg s;
	uint32_t base;

	(void)state;
	t_batch_init(&b);
	t_seg_default(&s, AF_INET);
	base = s.seq;
	t_add_run(&b, &s, 2);		/* 0, 1 */
	s.seq = base + 3 * T_MSS;
	t_add_run(&b, &s, 2);		/* 3, 4: a new group */
	s.seq = base + 2 * T_MSS;
	t_add_run(&b, &s, 1);		/* 2: late, after no group */
	s.seq = base + 3 * T_MSS;
	t_add_run(&b, &s, 1);		/* 3 again: not after 2's group */
	assert_int_equal(tso_gro_groups(b.g), 3);
	assert_int_equal(tso_gro_group_size(b.g, 0), 2);
	assert_int_equal(tso_gro_group_size(b.g, 1), 2);
	assert_int_equal(tso_gro_group_size(b.g, 2), 2);
	t_check_group(&b, 0, 0, 2);
	t_check_group(&b, 1, 2, 2);
	t_check_group(&b, 2, 4, 2);
	t_batch_free(&b);
}

/*
 * Interleaved flows (two TCP flows of each family, UDP and ICMP between
 * them) each make their own group; other packets stay alone and break
 * no flow.
 */
static void
test_mixed_flows(void **state)
{
	struct t_batch b;
	struct t_seg a4, c4, a6, u, icmp;
	size_t i;

	(void)state;
	t_batch_init(&b);
	t_seg_default(&a4, AF_INET);
	t_seg_default(&c4, AF_INET);
	c4.sport = 5202;
	c4.seq = 7;
	t_seg_default(&a6, AF_INET6);
	t_seg_default(&u, AF_INET);
	u.proto = IPPROTO_UDP;
	u.optlen = 0;
	t_seg_default(&icmp, AF_INET6);
	icmp.proto = IPPROTO_ICMPV6;
	icmp.optlen = 0;
	for (i = 0; i < 4; i++) {
		t_add_run(&b, &a4, 1);
		t_add_run(&b, &c4, 1);
		t_add_run(&b, &a6, 1);
		if (i == 1) {
			t_add(&b, &u);
			t_add(&b, &icmp);
		}
	}
	/* a4, c4, a6, then u and icmp alone. */
	assert_int_equal(tso_gro_packets(b.g), 14);
	assert_int_equal(tso_gro_groups(b.g), 5);
	assert_int_equal(tso_gro_group_size(b.g, 0), 4);
	assert_int_equal(tso_gro_group_size(b.g, 1), 4);
	assert_int_equal(tso_gro_group_size(b.g, 2), 4);
	assert_int_equal(tso_gro_group_size(b.g, 3), 1);
	assert_int_equal(tso_gro_group_size(b.g, 4), 1);
	t_check_group(&b, 3, 6, 1);
	t_check_group(&b, 4, 7, 1);
	t_batch_free(&b);
}

/* A FIN of the flow is written alone, and nothing after it jumps ahead. */
static void
test_fin_keeps_order(void **state)
{
	struct t_batch b;
	struct t_seg s, fin;

	(void)state;
	t_batch_init(&b);
	t_seg_default(&s, AF_INET6);
	t_add_run(&b, &s, 3);
	fin = s;
	fin.flags = T_ACK | T_FIN;
	fin.payload = 0;
	t_add(&b, &fin);
	s.seq -= T_MSS;		/* a retransmission after it */
	t_add_run(&b, &s, 1);
	assert_int_equal(tso_gro_groups(b.g), 3);
	assert_int_equal(tso_gro_group_size(b.g, 0), 3);
	assert_int_equal(tso_gro_group_size(b.g, 1), 1);
	assert_int_equal(tso_gro_group_size(b.g, 2), 1);
	t_check_group(&b, 0, 0, 3);
	t_check_group(&b, 1, 3, 1);
	t_batch_free(&b);
}

/* Split mode writes each packet alone; a full batch says so. */
static void
test_split_and_full(void **state)
{
	struct t_batch b;
	struct t_seg s;
	size_t i;

	(void)state;
	t_batch_init(&b);
	tso_gro_split(b.g, true);
	t_seg_default(&s, AF_INET);
	t_add_run(&b, &s, 5);
	assert_int_equal(tso_gro_groups(b.g), 5);
	for (i = 0; i < 5; i++)
		t_check_group(&b, i, i, 1);
	tso_gro_split(b.g, false);
	tso_gro_reset(b.g);
	b.n = 0;
	t_add_run(&b, &s, T_MAX);
	assert_int_equal(tso_gro_add(b.g, t_pkt(&b, 0), b.len[0]), -ENOSPC);
	assert_int_equal(tso_gro_packets(b.g), T_MAX);
	t_batch_free(&b);

	assert_int_equal(tso_gro_new(&b.g, 0), -EINVAL);
	assert_null(b.g);
	tso_gro_free(NULL);
}

/* Packets too short or not what their headers say stay alone, intact. */
static void
test_odd_packets(void **state)
{
	struct t_batch b;
	struct t_seg s;
	uint8_t *p;

	(void)state;
	t_batch_init(&b);
	t_seg_default(&s, AF_INET);
	t_add_run(&b, &s, 1);
	/* An IPv4 length that disagrees with the packet's: alone. */
	p = t_pkt(&b, 1);
	b.len[1] = t_build(p, &s);
	assert_int_equal(tso_gro_add(b.g, p, b.len[1] - 1), 0);
	b.len[1]--;
	b.n = 2;
	/* A truncated TCP header: alone. */
	p = t_pkt(&b, 2);
	(void)t_build(p, &s);
	store_be16(p + 2, 30);
	assert_int_equal(tso_gro_add(b.g, p, 30), 0);
	b.len[2] = 30;
	b.n = 3;
	assert_int_equal(tso_gro_groups(b.g), 3);
	t_check_group(&b, 1, 1, 1);
	t_check_group(&b, 2, 2, 1);
	t_batch_free(&b);
}

/* xorshift64: the same "random" batches on every run. */
static uint64_t
t_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Batches of a few flows with random flags, gaps, sizes, truncations and
 * damaged header bytes: every packet is written exactly once, in a group
 * whose packets keep their order of arrival, and a coalesced group's
 * vector is its headers and then whole payloads of equal size but the
 * last.  Under the sanitizer build this also reads no byte out of bounds.
 */
static void
test_random_batches(void **state)
{
	struct iovec iov[TSO_GRO_IOV];
	struct tso_gro_hdr hb;
	struct t_batch b;
	struct t_seg s[3];
	uint64_t x = 0x9e3779b97f4a7c15ULL, r;
	uint8_t seen[T_MAX];
	size_t round, i, k, f, slot, off, last, want, cut;
	size_t alone = 0, joined = 0;
	int n;

	(void)state;
	t_batch_init(&b);
	for (round = 0; round < 300; round++) {
		tso_gro_reset(b.g);
		b.n = 0;
		t_seg_default(&s[0], AF_INET);
		t_seg_default(&s[1], AF_INET6);
		t_seg_default(&s[2], AF_INET);
		s[2].sport = 1;
		for (i = 0; i < T_MAX; i++) {
			r = t_rand(&x);
			f = r % 3;
			s[f].payload = (r >> 8) % 8 == 0 ? (r >> 16) % 1400 :
			    T_MSS;
			s[f].flags = (r >> 24) % 16 == 0 ? T_ACK | T_PSH :
			    (r >> 24) % 16 == 1 ? T_ACK | T_FIN : T_ACK;
			if ((r >> 28) % 32 == 0)
				s[f].seq += (uint32_t)(r >> 32);
			b.len[i] = t_build(t_pkt(&b, i), &s[f]);
			if ((r >> 40) % 16 == 0)
				t_pkt(&b, i)[(r >> 44) % 80] ^=
				    (uint8_t)(r >> 52);
			if ((r >> 60) == 0) {
				cut = (r >> 20) % (b.len[i] + 1);
				b.len[i] = cut;
			}
			assert_int_equal(tso_gro_add(b.g, t_pkt(&b, i),
			    b.len[i]), 0);
			s[f].seq += (uint32_t)s[f].payload;
			s[f].id++;
		}
		b.n = T_MAX;
		memset(seen, 0, sizeof(seen));
		for (k = 0; k < tso_gro_groups(b.g); k++) {
			n = tso_gro_iov(b.g, k, &hb, iov, TSO_GRO_IOV);
			assert_true(n >= 2);
			assert_ptr_equal(iov[0].iov_base, hb.vnet);
			if (tso_gro_group_size(b.g, k) == 1) {
				assert_int_equal(n, 2);
				slot = (size_t)((uint8_t *)iov[1].iov_base -
				    b.buf) / T_SLOT;
				assert_ptr_equal(iov[1].iov_base,
				    t_pkt(&b, slot));
				assert_int_equal(iov[1].iov_len, b.len[slot]);
				assert_int_equal(seen[slot], 0);
				seen[slot] = 1;
				alone++;
				continue;
			}
			joined += (size_t)n - 2;
			assert_int_equal((size_t)n - 2,
			    tso_gro_group_size(b.g, k));
			assert_ptr_equal(iov[1].iov_base, hb.ip_tcp);
			want = iov[2].iov_len;
			for (i = 2, last = 0; i < (size_t)n; i++) {
				off = (size_t)((uint8_t *)iov[i].iov_base -
				    b.buf);
				slot = off / T_SLOT;
				assert_true(slot < T_MAX);
				assert_int_equal(off % T_SLOT, iov[1].iov_len);
				assert_int_equal(iov[i].iov_len,
				    b.len[slot] - iov[1].iov_len);
				if (i + 1 < (size_t)n)
					assert_int_equal(iov[i].iov_len, want);
				else
					assert_true(iov[i].iov_len <= want);
				assert_true(i == 2 || slot > last);
				last = slot;
				assert_int_equal(seen[slot], 0);
				seen[slot] = 1;
			}
		}
		for (i = 0; i < T_MAX; i++)
			assert_int_equal(seen[i], 1);
	}
	/* Both kinds of write came up often. */
	assert_true(alone > 300 * T_MAX / 10);
	assert_true(joined > 300 * T_MAX / 2);
	t_batch_free(&b);
}

/* ---- the kernel takes it: a TCP connection over a TUN device --------- */

enum {
	K_PORT = 5555,
	K_PEER_PORT = 40000,
	K_SEGS = 12,
	K_WAIT_MS = 3000,
	K_ISN = 1000,
};

static const uint8_t k_self[4] = { 10, 97, 0, 1 };	/* the TUN's */
static const uint8_t k_peer[4] = { 10, 97, 0, 2 };	/* played here */

/* A plain write (DATA_VALID, no GSO) of the IPv4 TCP segment s. */
static void
k_write_plain(int fd, const struct t_seg *s)
{
	static const struct tso_vnet plain = {
		.flags = VIRTIO_NET_HDR_F_DATA_VALID,
	};
	uint8_t hdr[TSO_VNET_HDR_LEN], pkt[T_SLOT];
	struct iovec iov[2];
	size_t len;

	len = t_build(pkt, s);
	tso_vnet_build(&plain, hdr);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = pkt;
	iov[1].iov_len = len;
	assert_int_equal(writev(fd, iov, 2), (ssize_t)(sizeof(hdr) + len));
}

/* Waits for the SYN-ACK the kernel sends through the TUN; its ISN. */
static uint32_t
k_read_synack(int fd)
{
	uint8_t buf[TSO_VNET_HDR_LEN + 2048], *p;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t r;

	for (;;) {
		assert_int_equal(poll(&pfd, 1, K_WAIT_MS), 1);
		r = read(fd, buf, sizeof(buf));
		assert_true(r > 0);
		p = buf + TSO_VNET_HDR_LEN;
		if (r < TSO_VNET_HDR_LEN + 40 || p[0] != 0x45 ||
		    p[9] != IPPROTO_TCP || memcmp(p + 12, k_self, 4) != 0)
			continue;	/* not ours (no IPv6 expected) */
		assert_int_equal(load_be16(p + 20), K_PORT);
		assert_int_equal(p[20 + 13] & (T_SYN | T_ACK), T_SYN | T_ACK);
		assert_int_equal(load_be32(p + 20 + 8), K_ISN + 1);
		return load_be32(p + 20 + 4);
	}
}

static void
k_set_addr(int sk, const char *ifname, unsigned long req, const uint8_t *a)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, IFNAMSIZ);
	sin = (struct sockaddr_in *)(void *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, a, 4);
	assert_int_equal(ioctl(sk, req, &ifr), 0);
}

/*
 * What the user relies on: a super-segment built by tso_gro is taken by
 * the kernel as it is written and its bytes reach a TCP socket in order.
 * In a network namespace of its own (root only, else skipped), a TUN
 * device with offloads holds 10.97.0.1; this test plays 10.97.0.2 through
 * it: SYN, the kernel's SYN-ACK, ACK, then twelve segments coalesced into
 * one writev(), and reads them back from the accepted socket.
 */
static void
test_kernel_takes_it(void **state)
{
	static const uint8_t mask[4] = { 255, 255, 255, 0 };
	struct iovec iov[TSO_GRO_IOV];
	struct pollfd pfd;
	struct tso_gro_hdr hb;
	struct sockaddr_in sa;
	struct ifreq ifr;
	struct t_batch b;
	struct t_seg s;
	char ifname[IFNAMSIZ];
	uint8_t got[K_SEGS * T_MSS];
	uint32_t isn;
	size_t have, want, i;
	ssize_t r;
	bool offloaded;
	int tfd, sk, lfd, cfd, n;

	(void)state;
	/* Not root, no TUN or no offloads here: skipped. */
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
		skip();
	if (tun_open_offload("ntmgro0", 1500, true, &tfd, ifname,
	    &offloaded) < 0 || !offloaded)
		skip();
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(sk >= 0);
	k_set_addr(sk, ifname, SIOCSIFADDR, k_self);
	k_set_addr(sk, ifname, SIOCSIFNETMASK, mask);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, IFNAMSIZ);
	assert_int_equal(ioctl(sk, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(sk, SIOCSIFFLAGS, &ifr), 0);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(K_PORT);
	memcpy(&sa.sin_addr, k_self, 4);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);

	t_seg_default(&s, AF_INET);
	s.src4 = k_peer;
	s.dst4 = k_self;
	s.sport = K_PEER_PORT;
	s.dport = K_PORT;
	s.optlen = 0;			/* no timestamps negotiated */
	s.window = 65535;
	s.seq = K_ISN;
	s.ack = 0;
	s.flags = T_SYN;
	s.payload = 0;
	k_write_plain(tfd, &s);
	isn = k_read_synack(tfd);
	s.seq = K_ISN + 1;
	s.ack = isn + 1;
	s.flags = T_ACK;
	k_write_plain(tfd, &s);
	pfd.fd = lfd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, K_WAIT_MS), 1);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);

	t_batch_init(&b);
	s.payload = T_MSS;
	for (i = 0; i < K_SEGS; i++) {
		s.flags = i + 1 < K_SEGS ? T_ACK : T_ACK | T_PSH;
		t_add(&b, &s);
		s.seq += T_MSS;
		s.id++;
	}
	assert_int_equal(tso_gro_groups(b.g), 1);
	n = tso_gro_iov(b.g, 0, &hb, iov, TSO_GRO_IOV);
	assert_int_equal(n, K_SEGS + 2);
	for (i = 0, want = 0; i < (size_t)n; i++)
		want += iov[i].iov_len;
	assert_int_equal(writev(tfd, iov, n), (ssize_t)want);

	pfd.fd = cfd;
	for (have = 0; have < sizeof(got); have += (size_t)r) {
		assert_int_equal(poll(&pfd, 1, K_WAIT_MS), 1);
		r = read(cfd, got + have, sizeof(got) - have);
		assert_true(r > 0);
	}
	for (i = 0; i < sizeof(got); i++)
		if (got[i] != t_byte(K_ISN + 1 + (uint32_t)i))
			fail_msg("byte %zu differs", i);

	t_batch_free(&b);
	close(cfd);
	close(lfd);
	close(sk);
	close(tfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coalesce_ipv4),
		cmocka_unit_test(test_coalesce_ipv6),
		cmocka_unit_test(test_single_passthrough),
		cmocka_unit_test(test_window_of_last),
		cmocka_unit_test(test_rules_control),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_short_and_psh_end),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_mixed_flows),
		cmocka_unit_test(test_fin_keeps_order),
		cmocka_unit_test(test_split_and_full),
		cmocka_unit_test(test_odd_packets),
		cmocka_unit_test(test_random_batches),
		cmocka_unit_test(test_kernel_takes_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
