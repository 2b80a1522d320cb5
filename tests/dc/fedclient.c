/* fedclient.c -- test DC_MN: asks a DC for a node's information over the DC <-> DC TLS channel, checking the server's certificate for the node's zone. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cert.h"
#include "dc/federation.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "dc/sigio.h"
#include "tls.h"

/*
 * usage: fedclient -a addr:port -t root.pem -c chain.pem -k key MN CN
 *
 * Connects with its ntm-dc certificate, accepts the server only if it is
 * an ntm-dc whose certificate lists CN's zone (federation_peer_authorized:
 * DNS may point anywhere), sends NODE_INFO_REQUEST {MN, CN, KEX ecdhe} and
 * prints the answer: "status ok observed ADDR nat N" or "status NAME".
 * Exit 0 on an answer, 1 on anything else ("refused ..." when the server's
 * certificate does not list the zone, "closed ..." otherwise).
 */

static struct {
	struct tls_expect	 expect;
	char			 zone[FEDERATION_NAME_MAX];
	const char		*mn, *cn;
	int			 rc;
	bool			 refused;
	struct tls_client	*cl;
} F = { .rc = 1 };

static int
fed_verify(void *ctx, const gnutls_x509_crt_t *chain, size_t n, time_t now)
{
	int rc;

	(void)ctx;
	if ((rc = tls_verify_cert(&F.expect, chain, n, now)) < 0)
		return rc;
	if (!federation_peer_authorized(chain[0], F.zone)) {
		F.refused = true;
		return CERT_E_FQDN;
	}
	return 0;
}

static void
fed_connected(struct tls_conn *c, const struct tls_peer *peer, void *arg)
{
	struct msg m;
	uint8_t buf[1024];
	size_t len;

	(void)peer;
	(void)arg;
	msg_init(&m, PROTO_MSG_NODE_INFO_REQUEST);
	m.hdr.txid = 4242;
	if (msg_add_bytes(&m, PROTO_ATTR_FQDN, F.mn, strlen(F.mn)) < 0 ||
	    msg_add_bytes(&m, PROTO_ATTR_PEER_FQDN, F.cn, strlen(F.cn)) < 0 ||
	    msg_add_u8(&m, PROTO_ATTR_KEX, PROTO_KEX_ECDHE) < 0 ||
	    msg_encode(&m, buf, sizeof(buf), &len) < 0 ||
	    tls_send(c, buf, len) < 0) {
		printf("cannot send\n");
		tls_client_free(F.cl);
	}
}

static void
fed_frame(struct tls_conn *c, const uint8_t *p, size_t len, void *arg)
{
	struct msg m;
	struct msg_addr a;
	struct sockaddr_storage ss;
	char text[LOOP_ADDRSTRLEN];
	const struct msg_attr *at;
	uint8_t nat = 0;

	(void)c;
	(void)arg;
	if (msg_decode(p, len, &m) < 0 ||
	    m.hdr.type != PROTO_MSG_NODE_INFO_RESPONSE || m.hdr.txid != 4242) {
		printf("bad answer\n");
	} else if (m.hdr.status != PROTO_STATUS_OK) {
		printf("status %s\n", msg_status_name(m.hdr.status));
		F.rc = 0;
	} else if ((at = msg_attr_find(&m, PROTO_ATTR_OBSERVED_ADDR)) !=
	    NULL && msg_addr_parse(at, &a) == 0 &&
	    sigio_addr_to_sockaddr(&ss, &a) == 0 &&
	    msg_attr_u8(&m, PROTO_ATTR_NAT, &nat) == 0) {
		(void)loop_addr_format((struct sockaddr *)&ss, text,
		    sizeof(text));
		printf("status ok observed %s nat %u\n", text, nat);
		F.rc = 0;
	} else
		printf("bad answer\n");
	tls_client_free(F.cl);
}

static void
fed_closed(struct tls_conn *c, int reason, void *arg)
{
	(void)c;
	(void)arg;
	if (F.rc == 0)
		return;
	if (F.refused)
		printf("refused: the server's certificate does not list %s\n",
		    F.zone);
	else
		printf("closed %s\n", reason == 0 ? "ok" :
		    tls_strerror(reason));
	tls_client_free(F.cl);
}

int
main(int argc, char *argv[])
{
	const char *addr = NULL, *trust = NULL, *chain = NULL, *key = NULL;
	struct sockaddr_storage ss;
	struct tls_creds *creds;
	struct tls_config cfg;
	uv_loop_t *loop;
	int ch;

	while ((ch = getopt(argc, argv, "a:c:k:t:")) != -1) {
		switch (ch) {
		case 'a': addr = optarg; break;
		case 'c': chain = optarg; break;
		case 'k': key = optarg; break;
		case 't': trust = optarg; break;
		default: return 2;
		}
	}
	if (!addr || !trust || !chain || !key || optind + 2 != argc) {
		fprintf(stderr, "usage: fedclient -a ADDR:PORT -t ROOT -c CHAIN "
		    "-k KEY MN_FQDN CN_FQDN\n");
		return 2;
	}
	F.mn = argv[optind];
	F.cn = argv[optind + 1];
	log_init("fedclient", 1, LOG_LEVEL_WARN);
	if (federation_zone_of(F.cn, F.zone, sizeof(F.zone)) < 0 ||
	    loop_addr_parse(addr, PROTO_PORT_DC_TLS, 0, &ss) < 0 ||
	    tls_creds_new(&creds) < 0 ||
	    tls_creds_load(creds, trust, chain, key) < 0) {
		fprintf(stderr, "fedclient: bad arguments or credentials\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	loop = uv_default_loop();
	F.expect.trust = tls_creds_trust(creds);
	F.expect.intermediate = tls_creds_issuer(creds);
	F.expect.role = CERT_ROLE_DC;
	memset(&cfg, 0, sizeof(cfg));
	cfg.creds = creds;
	cfg.verify = fed_verify;
	cfg.framing = TLS_FRAMING_MSG;
	cfg.name = "fedclient";
	cfg.handshake_timeout_ms = 5000;
	cfg.backoff_min_ms = cfg.backoff_max_ms = 60000;
	cfg.on_connected = fed_connected;
	cfg.on_frame = fed_frame;
	cfg.on_closed = fed_closed;
	if (tls_client_new(loop, &cfg, (struct sockaddr *)&ss, &F.cl) < 0)
		return 1;
	uv_run(loop, UV_RUN_DEFAULT);
	tls_creds_free(creds);
	return F.rc;
}
