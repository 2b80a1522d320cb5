/* fuzz_rs.c -- libFuzzer target: the RS core (rs/relay) on arbitrary UDP datagrams and DC channel messages; with FUZZ_CORPUS_GEN, the seed corpus writer. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "msg.h"
#include "rand.h"
#include "relay.h"

/*
 * The input is a sequence of records: a control byte, a 2-byte length,
 * then that many bytes (a shorter tail is one last record).  Control bit
 * 7 set: the bytes are a message on a DC's TLS channel (relay_direction);
 * clear: a UDP datagram (relay_input) from the source that bits 0-1 pick.
 * Each record comes 100 ms after the previous one.  Before the first, a
 * DC has allocated one path (fuzz_path below), so hellos built with the
 * fixed keys bind and the corpus reaches the forwarding code.
 *
 * Checked on every record: the RS never answers with more bytes than it
 * received, forwards only what it was given, and every channel answer
 * is a message the codec accepts.
 */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

enum {
	FUZZ_WALL = 1800000000,
	FUZZ_NOW = 1000000,
	FUZZ_STEP_MS = 100,
	FUZZ_RID_MN = 0x1001,
	FUZZ_RID_CN = 0x2002,
	FUZZ_CTL_TLS = 0x80,
};

static const uint8_t fuzz_key[2][PROTO_KEY_LEN] = { { 0x4b, 1 },
    { 0x4b, 2 } };
static const uint8_t fuzz_path_id[PROTO_ID_LEN] = { 0x50, 0x41, 0x54, 0x48 };
static const struct msg_addr fuzz_from[4] = {
	{ PROTO_FAMILY_IPV4, 40000, { 198, 51, 100, 10 } },	/* MN seen */
	{ PROTO_FAMILY_IPV6, 40000, { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x20 } },
	{ PROTO_FAMILY_IPV4, 40001, { 198, 51, 100, 11 } },	/* MN moved */
	{ PROTO_FAMILY_IPV4, 6666, { 192, 0, 2, 66 } },		/* stranger */
};

static size_t
fuzz_direction(uint8_t *out, size_t cap, const uint8_t *path, uint32_t rid,
    uint32_t prid, uint64_t expiry)
{
	struct msg m;
	size_t len = 0;

	msg_init(&m, PROTO_MSG_RELAY_DIRECTION);
	m.hdr.txid = 1;
	memcpy(m.hdr.id, path, PROTO_ID_LEN);
	if (msg_add_bytes(&m, PROTO_ATTR_PATH_ID, path, PROTO_ID_LEN) < 0 ||
	    msg_add_u32(&m, PROTO_ATTR_RECV_ID, rid) < 0 ||
	    msg_add_u32(&m, PROTO_ATTR_PEER_RECV_ID, prid) < 0 ||
	    msg_add_bytes(&m, PROTO_ATTR_BINDING_KEY, fuzz_key[0],
	    PROTO_KEY_LEN) < 0 ||
	    msg_add_bytes(&m, PROTO_ATTR_PEER_BINDING_KEY, fuzz_key[1],
	    PROTO_KEY_LEN) < 0 ||
	    msg_add_addr(&m, PROTO_ATTR_OBSERVED_ADDR, &fuzz_from[0]) < 0 ||
	    msg_add_addr(&m, PROTO_ATTR_PEER_ADDR, &fuzz_from[1]) < 0 ||
	    msg_add_u64(&m, PROTO_ATTR_EXPIRY, expiry) < 0 ||
	    msg_encode(&m, out, cap, &len) < 0)
		abort();
	return len;
}

/* A relay in the state every input starts from. */
static struct relay *
fuzz_relay(struct ntm_rng **rng)
{
	struct relay_config cfg;
	struct relay *r;
	uint8_t req[512], ans[RELAY_ANSWER_MAX];
	size_t len, alen;

	memset(&cfg, 0, sizeof(cfg));
	cfg.paths_max = 8;
	cfg.naddr = 1;
	cfg.addr[0] = (struct msg_addr){ PROTO_FAMILY_IPV4, 4613,
	    { 198, 51, 100, 7 } };
	if ((*rng = rng_seeded_new("fuzz-rs", 7)) == NULL ||
	    relay_new(&r, &cfg, *rng) < 0)
		abort();
	len = fuzz_direction(req, sizeof(req), fuzz_path_id, FUZZ_RID_MN,
	    FUZZ_RID_CN, FUZZ_WALL + 30);
	if (relay_direction(r, req, len, "fuzz", FUZZ_NOW, FUZZ_WALL, ans,
	    sizeof(ans), &alen) < 0)
		abort();
	return r;
}

static void
fuzz_tls(struct relay *r, const uint8_t *p, size_t len, uint64_t now)
{
	uint8_t ans[RELAY_ANSWER_MAX];
	struct msg m;
	size_t alen;

	if (relay_direction(r, p, len, "fuzz", now, FUZZ_WALL, ans,
	    sizeof(ans), &alen) < 0)
		return;
	if (msg_decode(ans, alen, &m) < 0 ||
	    m.hdr.type != PROTO_MSG_RELAY_DIRECTION_ACK) {
		fprintf(stderr, "fuzz_rs: an answer the codec refuses\n");
		abort();
	}
}

static void
fuzz_udp(struct relay *r, const uint8_t *p, size_t len,
    const struct msg_addr *from, uint64_t now)
{
	struct relay_action act;

	relay_input(r, p, len, from, now, &act);
	if (act.verdict == RELAY_VERDICT_REPLY && (act.reply_len > len ||
	    act.reply_len != RELAY_COOKIE_LEN)) {
		fprintf(stderr, "fuzz_rs: answered more than received\n");
		abort();
	}
	if (act.verdict == RELAY_VERDICT_INVALID) {
		fprintf(stderr, "fuzz_rs: no verdict\n");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntm_rng *rng;
	struct relay *r;
	uint64_t now = FUZZ_NOW;
	size_t off = 0, len;
	uint8_t ctl;

	log_setlevel(LOG_LEVEL_ERR);
	r = fuzz_relay(&rng);
	while (off < size) {
		ctl = data[off++];
		len = size - off;
		if (size - off >= 2) {
			size_t l = (size_t)data[off] << 8 | data[off + 1];

			if (l <= size - off - 2) {
				off += 2;
				len = l;
			}
		}
		now += FUZZ_STEP_MS;
		if (ctl & FUZZ_CTL_TLS)
			fuzz_tls(r, data + off, len, now);
		else
			fuzz_udp(r, data + off, len, &fuzz_from[ctl & 3], now);
		off += len;
	}
	(void)relay_expire(r, now + 400 * 1000);
	if (relay_paths(r) != 0) {
		fprintf(stderr, "fuzz_rs: a path outlived every deadline\n");
		abort();
	}
	relay_free(r);
	rng_free(rng);
	return 0;
}

#ifdef FUZZ_CORPUS_GEN
/* ---- the seed corpus ----------------------------------------------------- */

struct gen {
	uint8_t		 buf[8192];
	size_t		 len;
	uint64_t	 now;		/* when the next record arrives */
};

static void
gen_record(struct gen *g, uint8_t ctl, const void *p, size_t len)
{
	g->buf[g->len++] = ctl;
	g->buf[g->len++] = (uint8_t)(len >> 8);
	g->buf[g->len++] = (uint8_t)len;
	memcpy(g->buf + g->len, p, len);
	g->len += len;
	g->now += FUZZ_STEP_MS;
}

static void
gen_hello(struct gen *g, int side, uint8_t src, uint64_t counter,
    const uint8_t *cookie)
{
	uint8_t pkt[RELAY_HELLO_LEN];

	if (relay_hello_build(fuzz_key[side], side == 0 ? FUZZ_RID_MN :
	    FUZZ_RID_CN, counter, cookie, pkt) < 0)
		abort();
	gen_record(g, src, pkt, sizeof(pkt));
}

static void
gen_data(struct gen *g, uint8_t src, uint8_t type, uint32_t rid, size_t n)
{
	struct msg_data dh = { PROTO_VERSION_1, type, 0, rid, 7 };
	uint8_t pkt[256];
	struct wbuf w;
	size_t i;

	wbuf_init(&w, pkt, sizeof(pkt));
	(void)msg_data_encode(&dh, &w);
	for (i = 0; i < n; i++)
		wbuf_put_u8(&w, (uint8_t)i);
	gen_record(g, src, pkt, wbuf_len(&w));
}

static void
gen_tunnel(struct gen *g, uint8_t src, uint8_t type)
{
	struct msg_header h;
	uint8_t pkt[PROTO_HEADER_LEN + 64];
	struct wbuf w;

	memset(&h, 0, sizeof(h));
	h.version = PROTO_VERSION_1;
	h.type = type;
	h.status = PROTO_STATUS_OK;
	h.flags = PROTO_F_SEALED;
	h.length = 64;
	memcpy(h.id, fuzz_path_id, PROTO_ID_LEN);
	wbuf_init(&w, pkt, sizeof(pkt));
	(void)msg_header_encode(&h, &w);
	memset(pkt + PROTO_HEADER_LEN, 0x33, 64);
	gen_record(g, src, pkt, sizeof(pkt));
}

static void
gen_write(const char *dir, const char *name, const struct gen *g)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(g->buf, 1, g->len, f) != g->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int
main(int argc, char *argv[])
{
	static const uint8_t other[PROTO_ID_LEN] = { 0x0e };
	struct ntm_rng *rng;
	struct relay *r;
	struct gen g;
	uint8_t cookie[PROTO_RANDOM_LEN], req[512];
	size_t len;

	log_setlevel(LOG_LEVEL_ERR);
	if (argc != 2) {
		fprintf(stderr, "usage: gen_rs_corpus DIR\n");
		return 2;
	}
	/* Both bind, then data, control and the handshake both ways. */
	memset(&g, 0, sizeof(g));
	gen_hello(&g, 0, 0, 1, NULL);
	gen_hello(&g, 1, 1, 1, NULL);
	gen_data(&g, 0, PROTO_MSG_DATA, FUZZ_RID_CN, 100);
	gen_data(&g, 1, PROTO_MSG_DATA, FUZZ_RID_MN, 60);
	gen_data(&g, 1, PROTO_MSG_TUNNEL_CONTROL, FUZZ_RID_MN, 40);
	gen_tunnel(&g, 0, PROTO_MSG_TUNNEL_REQUEST);
	gen_tunnel(&g, 1, PROTO_MSG_TUNNEL_RESPONSE);
	gen_data(&g, 3, PROTO_MSG_DATA, FUZZ_RID_CN, 30);
	gen_hello(&g, 0, 0, 1, NULL);		/* a replay */
	gen_write(argv[1], "bind-forward", &g);

	/* MN moves: a cookie, then the hello carrying it. */
	r = fuzz_relay(&rng);
	memset(&g, 0, sizeof(g));
	g.now = FUZZ_NOW + FUZZ_STEP_MS;
	gen_hello(&g, 0, 0, 1, NULL);
	gen_hello(&g, 1, 1, 1, NULL);
	gen_hello(&g, 0, 2, 2, NULL);
	relay_cookie(r, FUZZ_RID_MN, &fuzz_from[2], g.now, cookie);
	gen_hello(&g, 0, 2, 3, cookie);
	gen_data(&g, 2, PROTO_MSG_DATA, FUZZ_RID_CN, 50);
	gen_data(&g, 0, PROTO_MSG_DATA, FUZZ_RID_CN, 50);
	gen_write(argv[1], "cookie-rebind", &g);
	relay_free(r);
	rng_free(rng);

	/* The DC's channel: a second path, a collision, a cut message. */
	memset(&g, 0, sizeof(g));
	len = fuzz_direction(req, sizeof(req), other, 0x3003, 0x4004,
	    FUZZ_WALL + 60);
	gen_record(&g, FUZZ_CTL_TLS, req, len);
	len = fuzz_direction(req, sizeof(req), other, 0x3003, FUZZ_RID_CN,
	    FUZZ_WALL + 60);
	gen_record(&g, FUZZ_CTL_TLS, req, len);
	gen_record(&g, FUZZ_CTL_TLS, req, len - 5);
	len = fuzz_direction(req, sizeof(req), fuzz_path_id, FUZZ_RID_MN,
	    FUZZ_RID_CN, FUZZ_WALL + 30);
	gen_record(&g, FUZZ_CTL_TLS, req, len);	/* the same again */
	gen_write(argv[1], "directions", &g);

	/* Bad tags, unknown ids, short and foreign datagrams. */
	memset(&g, 0, sizeof(g));
	gen_hello(&g, 1, 0, 1, NULL);		/* CN's key, MN's address */
	gen_data(&g, 0, PROTO_MSG_DATA, 0x9999, 20);
	gen_data(&g, 0, PROTO_MSG_RS_COOKIE, FUZZ_RID_MN, 32);
	gen_record(&g, 0, "\x01", 1);
	gen_record(&g, 3, "\x01\x05\x01\x00", 4);
	gen_write(argv[1], "drops", &g);
	return 0;
}
#endif
