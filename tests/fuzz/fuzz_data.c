/* fuzz_data.c -- libFuzzer target: dataplane_open on datagrams/plaintexts. */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dataplane.h"
#include "proto.h"
#include "rand.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Input byte 0 picks the mode:
 *   even  the rest is a datagram from the network, opened as it is;
 *   odd   the rest is type (1 byte) and a plaintext that the peer seals
 *         with the right key, so the inner IPv4/IPv6 checks see
 *         authenticated arbitrary bytes.
 * One pair of tables lives for the whole run (as in the daemon), so the
 * replay window moves across inputs; the peer's counter keeps every
 * sealed input fresh.
 */
struct fuzz_pair {
	struct dataplane	*node, *peer;
	struct dataplane_tunnel	*tn, *tp;
};

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_data: %s\n", what);
	abort();
}

static struct fuzz_pair *
fuzz_pair(void)
{
	static struct fuzz_pair fp;
	static bool done;
	struct dataplane_tunnel_conf tc;
	struct dataplane_conf c;
	struct ntm_rng *rng;

	if (done)
		return &fp;
	if ((rng = rng_seeded_new("fuzz_data", 9)) == NULL)
		fuzz_fail("rng");
	memset(&c, 0, sizeof(c));
	c.has_vip4 = c.has_vip6 = true;
	inet_pton(AF_INET, "198.18.1.2", c.vip4);
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::2", c.vip6);
	memset(&tc, 0, sizeof(tc));
	tc.rid = 0x01020304;
	tc.peer_rid = 0x05060708;
	tc.alg = AEAD_ALG_AES256GCM;
	tc.role = DATAPLANE_ROLE_RESPONDER;
	memset(tc.key_i2r, 0x11, sizeof(tc.key_i2r));
	memset(tc.key_r2i, 0x22, sizeof(tc.key_r2i));
	tc.has_vip4 = tc.has_vip6 = true;
	inet_pton(AF_INET, "198.18.2.2", tc.peer_vip4);
	inet_pton(AF_INET6, "fd6e:746d:6f62:2::2", tc.peer_vip6);
	tc.peer_addr.ss_family = AF_INET;
	if (dataplane_new(&fp.node, &c, rng) < 0 ||
	    dataplane_tunnel_add(fp.node, &tc, &fp.tn) < 0)
		fuzz_fail("node table");
	/* The peer: mirrored addresses, ids and role. */
	memcpy(c.vip4, tc.peer_vip4, 4);
	memcpy(c.vip6, tc.peer_vip6, 16);
	inet_pton(AF_INET, "198.18.1.2", tc.peer_vip4);
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::2", tc.peer_vip6);
	tc.rid = 0x05060708;
	tc.peer_rid = 0x01020304;
	tc.role = DATAPLANE_ROLE_INITIATOR;
	if (dataplane_new(&fp.peer, &c, rng) < 0 ||
	    dataplane_tunnel_add(fp.peer, &tc, &fp.tp) < 0)
		fuzz_fail("peer table");
	rng_free(rng);
	done = true;
	return &fp;
}

static void
fuzz_check_rx(uint8_t *pkt, size_t len, const struct dataplane_rx *rx,
    enum dataplane_verdict v)
{
	/* Drops before the tag verified leave *rx empty. */
	if ((v == DATAPLANE_DROP_AUTH || v == DATAPLANE_DROP_REPLAY ||
	    v == DATAPLANE_DROP_UNKNOWN_RID) && rx->inner != NULL)
		fuzz_fail("an unauthenticated packet left an output");
	if (rx->inner == NULL)
		return;
	if (rx->inner != pkt + PROTO_DATA_HEADER_LEN ||
	    len < DATAPLANE_OVERHEAD ||
	    rx->inner_len > len - DATAPLANE_OVERHEAD)
		fuzz_fail("inner packet outside the datagram");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_pair *fp = fuzz_pair();
	struct dataplane_rx rx;
	enum dataplane_verdict v;
	uint8_t *pkt;
	size_t len;
	uint8_t type;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		/* Exactly the datagram's size, so ASan sees overreads. */
		len = size - 1;
		if ((pkt = malloc(len > 0 ? len : 1)) == NULL)
			abort();
		memcpy(pkt, data + 1, len);
		v = dataplane_open(fp->node, pkt, len, NULL, &rx);
		fuzz_check_rx(pkt, len, &rx, v);
		free(pkt);
		return 0;
	}
	if (size < 3)
		return 0;
	type = data[1] & 1 ? PROTO_MSG_TUNNEL_CONTROL : PROTO_MSG_DATA;
	len = size - 2 + DATAPLANE_OVERHEAD;
	if ((pkt = malloc(len)) == NULL)
		abort();
	if (dataplane_seal(fp->tp, type, data + 2, size - 2, pkt, len,
	    &len) < 0) {
		free(pkt);
		return 0;
	}
	v = dataplane_open(fp->node, pkt, len, NULL, &rx);
	fuzz_check_rx(pkt, len, &rx, v);
	/* Right key, fresh counter: only the inner checks may drop it. */
	if (v == DATAPLANE_DROP_AUTH || v == DATAPLANE_DROP_REPLAY ||
	    v == DATAPLANE_DROP_UNKNOWN_RID)
		fuzz_fail("a genuine packet failed authentication");
	if (v == DATAPLANE_OK && type == PROTO_MSG_TUNNEL_CONTROL &&
	    (rx.inner_len != size - 2 ||
	    memcmp(rx.inner, data + 2, size - 2) != 0))
		fuzz_fail("control plaintext changed");
	free(pkt);
	return 0;
}
