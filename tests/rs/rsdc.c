/* rsdc.c -- test DC: sends one RELAY_DIRECTION to ntm-rs over mutual TLS (4614) and prints the RELAY_DIRECTION_ACK. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "tls.h"

/*
 * usage: rsdc -a ADDR:PORT -t ROOT -c CHAIN -k KEY -p PATH_HEX -r RID
 *             -R PEER_RID -b KEY_HEX -B PEER_KEY_HEX [-o MN_ADDR:PORT]
 *             [-O CN_ADDR:PORT] [-e SECONDS]
 *
 * Connects with the given certificate (an ntm-dc one, or anything else to
 * see it refused), accepts only an ntm-rs server, sends RELAY_DIRECTION
 * {PATH_ID, RECV_ID, PEER_RECV_ID, BINDING_KEY, PEER_BINDING_KEY,
 * OBSERVED_ADDR, PEER_ADDR, EXPIRY = now + SECONDS (default 30)} and
 * prints the answer:
 *   status N NAME
 *   path HEX
 *   relay ADDR:PORT         (one line per RELAY_ADDR)
 * Exit 0 on an answer, 1 when the connection closed without one
 * ("closed REASON").
 */

static struct {
	struct tls_expect	 expect;
	struct tls_client	*cl;
	struct msg		 req;
	uint8_t			 path[PROTO_ID_LEN];
	uint8_t			 key[2][PROTO_KEY_LEN];
	int			 rc;
} R = { .rc = 1 };

static int
hex_parse(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	unsigned v;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int
addr_parse(const char *s, struct msg_addr *a)
{
	struct sockaddr_storage ss;

	if (loop_addr_parse(s, 0, LOOP_ADDR_NEED_PORT, &ss) < 0)
		return -1;
	memset(a, 0, sizeof(*a));
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;

		a->family = PROTO_FAMILY_IPV4;
		a->port = ntohs(in->sin_port);
		memcpy(a->addr, &in->sin_addr, 4);
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;

		a->family = PROTO_FAMILY_IPV6;
		a->port = ntohs(in6->sin6_port);
		memcpy(a->addr, &in6->sin6_addr, 16);
	}
	return 0;
}

static void
addr_print(const struct msg_addr *a)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(a->family == PROTO_FAMILY_IPV4 ? AF_INET : AF_INET6,
	    a->addr, text, sizeof(text));
	if (a->family == PROTO_FAMILY_IPV4)
		printf("relay %s:%u\n", text, a->port);
	else
		printf("relay [%s]:%u\n", text, a->port);
}

static void
rsdc_connected(struct tls_conn *c, const struct tls_peer *peer, void *arg)
{
	uint8_t buf[1024];
	size_t len;

	(void)peer;
	(void)arg;
	if (msg_encode(&R.req, buf, sizeof(buf), &len) < 0 ||
	    tls_send(c, buf, len) < 0) {
		printf("cannot send\n");
		tls_client_free(R.cl);
	}
}

static void
rsdc_frame(struct tls_conn *c, const uint8_t *p, size_t len, void *arg)
{
	const struct msg_attr *at;
	struct msg_addr a;
	struct msg m;
	size_t i;

	(void)c;
	(void)arg;
	if (msg_decode(p, len, &m) < 0 ||
	    m.hdr.type != PROTO_MSG_RELAY_DIRECTION_ACK ||
	    m.hdr.txid != R.req.hdr.txid) {
		printf("bad answer\n");
		tls_client_free(R.cl);
		return;
	}
	printf("status %u %s\n", m.hdr.status, msg_status_name(m.hdr.status));
	if ((at = msg_attr_find(&m, PROTO_ATTR_PATH_ID)) != NULL) {
		printf("path ");
		for (i = 0; i < at->len; i++)
			printf("%02x", at->val[i]);
		printf("\n");
	}
	for (at = NULL; (at = msg_attr_next(&m, PROTO_ATTR_RELAY_ADDR,
	    at)) != NULL; )
		if (msg_addr_parse(at, &a) == 0)
			addr_print(&a);
	if ((at = msg_attr_find(&m, PROTO_ATTR_ERROR_TEXT)) != NULL)
		printf("error %.*s\n", (int)at->len, (const char *)at->val);
	R.rc = 0;
	tls_client_free(R.cl);
}

static void
rsdc_closed(struct tls_conn *c, int reason, void *arg)
{
	(void)c;
	(void)arg;
	if (R.rc == 0)
		return;
	printf("closed %s\n", reason == 0 ? "ok" : tls_strerror(reason));
	tls_client_free(R.cl);
}

int
main(int argc, char *argv[])
{
	const char *addr = NULL, *trust = NULL, *chain = NULL, *key = NULL;
	struct sockaddr_storage ss;
	struct tls_creds *creds;
	struct tls_config cfg;
	struct msg_addr obs;
	uv_loop_t *loop;
	long rid = -1, prid = -1, expiry = 30;
	int ch, have = 0;

	msg_init(&R.req, PROTO_MSG_RELAY_DIRECTION);
	R.req.hdr.txid = 0x5253;
	while ((ch = getopt(argc, argv, "a:b:B:c:e:k:o:O:p:r:R:t:")) != -1) {
		switch (ch) {
		case 'a': addr = optarg; break;
		case 'c': chain = optarg; break;
		case 'k': key = optarg; break;
		case 't': trust = optarg; break;
		case 'p':
			if (hex_parse(optarg, R.path, PROTO_ID_LEN) < 0)
				return 2;
			have |= 1;
			break;
		case 'b':
		case 'B':
			if (hex_parse(optarg, R.key[ch == 'B'],
			    PROTO_KEY_LEN) < 0)
				return 2;
			have |= ch == 'b' ? 2 : 4;
			break;
		case 'r': rid = strtol(optarg, NULL, 0); break;
		case 'R': prid = strtol(optarg, NULL, 0); break;
		case 'e': expiry = strtol(optarg, NULL, 0); break;
		case 'o':
		case 'O':
			if (addr_parse(optarg, &obs) < 0 ||
			    msg_add_addr(&R.req, ch == 'o' ?
			    PROTO_ATTR_OBSERVED_ADDR : PROTO_ATTR_PEER_ADDR,
			    &obs) < 0)
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (!addr || !trust || !chain || !key || have != 7 || rid < 0 ||
	    prid < 0 || optind != argc) {
		fprintf(stderr, "usage: rsdc -a ADDR:PORT -t ROOT -c CHAIN "
		    "-k KEY -p PATH_HEX -r RID -R PEER_RID -b KEY_HEX "
		    "-B PEER_KEY_HEX [-o ADDR:PORT] [-O ADDR:PORT] "
		    "[-e SECONDS]\n");
		return 2;
	}
	memcpy(R.req.hdr.id, R.path, PROTO_ID_LEN);
	if (msg_add_bytes(&R.req, PROTO_ATTR_PATH_ID, R.path,
	    PROTO_ID_LEN) < 0 ||
	    msg_add_u32(&R.req, PROTO_ATTR_RECV_ID, (uint32_t)rid) < 0 ||
	    msg_add_u32(&R.req, PROTO_ATTR_PEER_RECV_ID, (uint32_t)prid) < 0 ||
	    msg_add_bytes(&R.req, PROTO_ATTR_BINDING_KEY, R.key[0],
	    PROTO_KEY_LEN) < 0 ||
	    msg_add_bytes(&R.req, PROTO_ATTR_PEER_BINDING_KEY, R.key[1],
	    PROTO_KEY_LEN) < 0 ||
	    msg_add_u64(&R.req, PROTO_ATTR_EXPIRY, (uint64_t)(time(NULL) +
	    expiry)) < 0)
		return 2;
	log_init("rsdc", 1, LOG_LEVEL_WARN);
	if (loop_addr_parse(addr, PROTO_PORT_RS_TLS, 0, &ss) < 0 ||
	    tls_creds_new(&creds) < 0 ||
	    tls_creds_load(creds, trust, chain, key) < 0) {
		fprintf(stderr, "rsdc: bad arguments or credentials\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	loop = uv_default_loop();
	R.expect.trust = tls_creds_trust(creds);
	R.expect.intermediate = tls_creds_issuer(creds);
	R.expect.role = CERT_ROLE_RS;
	memset(&cfg, 0, sizeof(cfg));
	cfg.creds = creds;
	cfg.verify = tls_verify_cert;
	cfg.verify_ctx = &R.expect;
	cfg.framing = TLS_FRAMING_MSG;
	cfg.name = "rsdc";
	cfg.handshake_timeout_ms = 5000;
	cfg.backoff_min_ms = cfg.backoff_max_ms = 60000;
	cfg.on_connected = rsdc_connected;
	cfg.on_frame = rsdc_frame;
	cfg.on_closed = rsdc_closed;
	if (tls_client_new(loop, &cfg, (struct sockaddr *)&ss, &R.cl) < 0)
		return 1;
	uv_run(loop, UV_RUN_DEFAULT);
	tls_creds_free(creds);
	return R.rc;
}
