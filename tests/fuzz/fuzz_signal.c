/* fuzz_signal.c -- libFuzzer target: the DC's signalling input path (dc/signal) on arbitrary datagrams. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"
#include "signal.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The ticket key the corpus's REG_HELLOs are sealed with (id 1). */
static const uint8_t fuzz_key[PROTO_KEY_LEN] = { 0x66, 0x75, 0x7a, 0x7a };

enum {
	FUZZ_WALL = 1800000000,		/* the corpus tickets expire later */
};

/* Every CN's certificate, as the status store would give it. */
static int
fuzz_cert(void *arg, const char *fqdn, struct signal_cert *c)
{
	static const uint8_t hash[PROTO_HASH_LEN] = { 1 };
	static const uint8_t serial[] = { 0x11 };
	static const uint8_t status[] = { 0x30, 0x03, 0x0a, 0x01, 0x00 };

	c->hash = hash;
	c->serial = serial;
	c->serial_len = sizeof(serial);
	c->status = status;
	c->status_len = sizeof(status);
	return 0;
}

static void
fuzz_check(const struct signal_out *out, size_t inlen)
{
	size_t i;

	for (i = 0; i < out->nsend; i++)
		if (out->send[i].len == 0 ||
		    out->send[i].len > PROTO_DATAGRAM_MAX) {
			fprintf(stderr, "fuzz_signal: bad output size\n");
			abort();
		}
	(void)inlen;
}

/*
 * The input is a sequence of datagrams, each preceded by a 2-byte length,
 * so one input can carry a hello and what follows it; a shorter tail is
 * one last datagram.  Each datagram arrives 100 ms after the previous one
 * from one of two sources (the top bit of the length field; its low 11
 * bits are the length): 198.51.100.77:40001 or [2001:db8::1]:4620.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct signal_config cfg = {
		.zone = "dc1.ntm.test",
		.relay = { { PROTO_FAMILY_IPV4, 4613, { 192, 0, 2, 13 } } },
		.nrelay = 1,
	};
	struct signal_hooks hooks = { .cert = fuzz_cert };
	struct msg_addr from[2] = {
		{ PROTO_FAMILY_IPV4, 40001, { 198, 51, 100, 77 } },
		{ PROTO_FAMILY_IPV6, 4620,
		    { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	};
	struct signal_out *out;
	struct ntm_rng *rng;
	struct signal *sig;
	uint64_t now = 1000;
	size_t off = 0;

	if ((out = malloc(sizeof(*out))) == NULL)
		abort();
	rng = rng_seeded_new("fuzz", 4);
	if (rng == NULL || signal_new(&sig, &cfg, &hooks, rng) < 0 ||
	    signal_ticket_key_add(sig, 1, fuzz_key) < 0)
		abort();
	while (off < size) {
		size_t len = size - off, which = 0;

		if (size - off >= 2) {
			size_t l = (size_t)data[off] << 8 | data[off + 1];

			which = data[off] >> 7;
			l &= 0x7ff;
			if (l <= size - off - 2) {
				off += 2;
				len = l;
			}
		}
		signal_input(sig, data + off, len, &from[which], now,
		    FUZZ_WALL, out);
		fuzz_check(out, len);
		off += len;
		now += 100;
	}
	signal_timer(sig, now + 200000, out);
	signal_free(sig);
	rng_free(rng);
	free(out);
	return 0;
}
