/* bench_dataplane.c -- seal+open of 1400-byte packets against memcpy. */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "dataplane.h"
#include "log.h"
#include "proto.h"
#include "rand.h"

/*
 * What one packet costs on the node's hot path without the syscalls: the
 * sender's dataplane_seal() and the receiver's dataplane_open() (header
 * check, receiver-id lookup, replay window, AEAD open, inner IPv4 checks)
 * on a 1400-byte inner packet, in place as the I/O path does it.  The
 * baseline copies the same bytes twice (the least a forwarder moving the
 * packet out and in again would do), so the ratio says how much the
 * protection costs over plain copying on this machine.
 *
 * Usage: bench_dataplane [packets]   (default 200000)
 */

enum {
	BENCH_INNER = 1400,
	BENCH_PACKETS = 200000,
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
bench_ip4(uint8_t *p, const char *src, const char *dst)
{
	size_t i;

	memset(p, 0, IPV4_HEADER_MIN);
	p[0] = 0x45;
	store_be16(p + 2, BENCH_INNER);
	p[8] = 64;
	p[9] = 17;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	for (i = IPV4_HEADER_MIN; i < BENCH_INNER; i++)
		p[i] = (uint8_t)i;
}

static void
bench_setup(enum aead_alg alg, struct ntm_rng *rng, struct dataplane **a,
    struct dataplane **b, struct dataplane_tunnel **ta)
{
	struct dataplane_tunnel_conf tc;
	struct dataplane_conf c;

	memset(&c, 0, sizeof(c));
	c.has_vip4 = true;
	inet_pton(AF_INET, "198.18.1.2", c.vip4);
	memset(&tc, 0, sizeof(tc));
	tc.alg = alg;
	tc.rid = 1;
	tc.peer_rid = 2;
	tc.role = DATAPLANE_ROLE_INITIATOR;
	rng_bytes(rng, tc.key_i2r, sizeof(tc.key_i2r));
	rng_bytes(rng, tc.key_r2i, sizeof(tc.key_r2i));
	tc.has_vip4 = true;
	inet_pton(AF_INET, "198.18.2.2", tc.peer_vip4);
	if (dataplane_new(a, &c, rng) < 0 ||
	    dataplane_tunnel_add(*a, &tc, ta) < 0)
		fatalx("setup a");
	inet_pton(AF_INET, "198.18.2.2", c.vip4);
	inet_pton(AF_INET, "198.18.1.2", tc.peer_vip4);
	tc.rid = 2;
	tc.peer_rid = 1;
	tc.role = DATAPLANE_ROLE_RESPONDER;
	if (dataplane_new(b, &c, rng) < 0 ||
	    dataplane_tunnel_add(*b, &tc, NULL) < 0)
		fatalx("setup b");
}

/* Seconds for n seal+open round trips. */
static double
bench_aead(enum aead_alg alg, struct ntm_rng *rng, long n)
{
	static uint8_t buf[DATAPLANE_SLOT_SIZE];
	struct dataplane *a, *b;
	struct dataplane_tunnel *ta;
	struct dataplane_rx rx;
	size_t outlen;
	double t0, t;
	long i;

	bench_setup(alg, rng, &a, &b, &ta);
	/*
	 * The TUN read lands after the header's room; the open in place
	 * leaves the inner packet at the same spot, ready for the next seal.
	 */
	bench_ip4(buf + PROTO_DATA_HEADER_LEN, "198.18.1.2", "198.18.2.2");
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (dataplane_seal(ta, PROTO_MSG_DATA,
		    buf + PROTO_DATA_HEADER_LEN, BENCH_INNER, buf, sizeof(buf),
		    &outlen) < 0 ||
		    dataplane_open(b, buf, outlen, NULL, &rx) != DATAPLANE_OK)
			fatalx("round trip failed at packet %ld", i);
	}
	t = now_s() - t0;
	dataplane_free(a);
	dataplane_free(b);
	return t;
}

static double
bench_memcpy(long n)
{
	static uint8_t src[DATAPLANE_SLOT_SIZE], mid[DATAPLANE_SLOT_SIZE],
	    dst[DATAPLANE_SLOT_SIZE];
	volatile uint8_t sink = 0;
	double t0, t;
	long i;

	bench_ip4(src, "198.18.1.2", "198.18.2.2");
	t0 = now_s();
	for (i = 0; i < n; i++) {
		src[i % BENCH_INNER]++;
		memcpy(mid, src, BENCH_INNER);
		memcpy(dst, mid, BENCH_INNER);
		sink ^= dst[i % BENCH_INNER];
	}
	t = now_s() - t0;
	(void)sink;
	return t;
}

static void
bench_print(const char *name, long n, double t, double base)
{
	printf("%-20s %9.0f packets/s %8.2f Gbit/s %7.1f ns/packet"
	    "  %6.1fx memcpy\n", name, (double)n / t,
	    (double)n * BENCH_INNER * 8 / t / 1e9, t / (double)n * 1e9,
	    t / base);
}

int
main(int argc, char *argv[])
{
	struct ntm_rng *rng;
	double base, gcm, chacha;
	long n = BENCH_PACKETS;

	log_init("bench_dataplane", 1, LOG_LEVEL_WARN);
	if (argc > 1 && (n = strtol(argv[1], NULL, 10)) <= 0)
		fatalx("usage: bench_dataplane [packets]");
	if ((rng = rng_seeded_new("bench", 5)) == NULL)
		fatalx("rng");
	/* Warm up caches and CPU clocks on each path first. */
	bench_memcpy(n / 10 + 1);
	bench_aead(AEAD_ALG_AES256GCM, rng, n / 10 + 1);
	base = bench_memcpy(n);
	gcm = bench_aead(AEAD_ALG_AES256GCM, rng, n);
	chacha = bench_aead(AEAD_ALG_CHACHA20POLY1305, rng, n);
	printf("%ld packets of %d bytes, seal+open in one thread\n", n,
	    BENCH_INNER);
	bench_print("memcpy x2 (baseline)", n, base, base);
	bench_print("aes-256-gcm", n, gcm, base);
	bench_print("chacha20-poly1305", n, chacha, base);
	printf("ratio chacha20-poly1305 / aes-256-gcm: %.2f\n", chacha / gcm);
	rng_free(rng);
	return 0;
}
