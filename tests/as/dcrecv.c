/* dcrecv.c -- TEST TOOL: a stand-in DC that receives ntm-as notices over mutual TLS, applies them once in order and acknowledges. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cert.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "tls.h"

/*
 * Not a DC: the receiving side of PROTOCOL.md 12.3 and nothing else, for
 * tests/integration/as-notice.sh until ntm-dc speaks it.
 *
 *   dcrecv -l ADDR:PORT -t ROOT.pem -c CHAIN.pem -k KEY -o APPLIED [-d MS]
 *
 * Accepts one client role, ntm-as.  Each NOTICE_* whose NOTICE_SEQ is above
 * the last applied one is "applied": one line "SEQ TYPE SERIAL-HEX" is
 * appended to APPLIED with a single write(2) and fsync(2), and that line is
 * also the receiver's cursor (read back from the file's last line at
 * start).  Then NOTICE_ACK with that seq.  A notice at or below the cursor
 * is acknowledged again and counted as a duplicate (printed on stderr), not
 * applied.  -d delays each ack (a slow DC, so a kill lands mid-stream).
 * SIGTERM/SIGINT stop it.
 */

struct recv {
	int		 fd;
	uint64_t	 cursor;
	uint64_t	 dups;
	uint32_t	 delay_ms;
	uv_loop_t	*uv;
};

static struct recv R;

static uint64_t
recv_last_seq(int fd)
{
	char buf[65536];
	ssize_t n;
	uint64_t last = 0;
	char *p, *line;

	if (lseek(fd, 0, SEEK_SET) < 0 || (n = read(fd, buf,
	    sizeof(buf) - 1)) <= 0)
		return 0;
	buf[n] = '\0';
	for (line = buf; (p = strchr(line, '\n')) != NULL; line = p + 1) {
		*p = '\0';
		last = strtoull(line, NULL, 10);
	}
	return last;
}

static void
recv_ack(struct tls_conn *c, uint64_t seq, uint32_t txid)
{
	struct msg m;
	uint8_t out[128];
	size_t len;

	msg_init(&m, PROTO_MSG_NOTICE_ACK);
	m.hdr.txid = txid;
	if (msg_add_u64(&m, PROTO_ATTR_NOTICE_SEQ, seq) == 0 &&
	    msg_encode(&m, out, sizeof(out), &len) == 0)
		(void)tls_send(c, out, len);
}

static void
recv_frame(struct tls_conn *c, const uint8_t *p, size_t len, void *arg)
{
	static struct msg m;
	const struct msg_attr *a;
	char line[128], hex[2 * PROTO_SERIAL_MAX + 1] = "-";
	uint64_t seq;
	size_t i;
	int n;

	(void)arg;
	if (msg_decode(p, len, &m) < 0 ||
	    msg_attr_u64(&m, PROTO_ATTR_NOTICE_SEQ, &seq) < 0) {
		fprintf(stderr, "dcrecv: undecodable frame, closing\n");
		tls_close(c);
		return;
	}
	if (R.delay_ms > 0)
		usleep(R.delay_ms * 1000);
	if (seq <= R.cursor) {
		R.dups++;
		fprintf(stderr, "dcrecv: duplicate seq %llu (cursor %llu)\n",
		    (unsigned long long)seq, (unsigned long long)R.cursor);
		recv_ack(c, R.cursor, m.hdr.txid);
		return;
	}
	if ((a = msg_attr_find(&m, PROTO_ATTR_SERIAL)) != NULL)
		for (i = 0; i < a->len && i < PROTO_SERIAL_MAX; i++)
			snprintf(hex + 2 * i, 3, "%02x", a->val[i]);
	n = snprintf(line, sizeof(line), "%llu %s %s\n",
	    (unsigned long long)seq, msg_type_name(m.hdr.type), hex);
	if (write(R.fd, line, (size_t)n) != n || fsync(R.fd) < 0) {
		fprintf(stderr, "dcrecv: write: %s\n", strerror(errno));
		exit(1);
	}
	R.cursor = seq;
	recv_ack(c, seq, m.hdr.txid);
}

static void
recv_connected(struct tls_conn *c, const struct tls_peer *peer, void *arg)
{
	(void)c;
	(void)arg;
	fprintf(stderr, "dcrecv: AS %s connected from %s\n", peer->fqdn,
	    peer->addr);
}

static void
recv_closed(struct tls_conn *c, int reason, void *arg)
{
	(void)c;
	(void)arg;
	fprintf(stderr, "dcrecv: closed: %s\n", reason == 0 ? "ok" :
	    tls_strerror(reason));
}

static void
recv_signal(uv_signal_t *s, int sig)
{
	(void)sig;
	uv_stop(s->loop);
}

int
main(int argc, char *argv[])
{
	const char *listen = NULL, *trust = NULL, *chain = NULL, *key = NULL,
	    *out = NULL;
	struct sockaddr_storage ss;
	struct tls_creds *creds;
	struct tls_listener *lis;
	struct tls_expect exp;
	struct tls_config cfg;
	uv_signal_t sterm, sint;
	int ch, rv;

	while ((ch = getopt(argc, argv, "c:d:k:l:o:t:")) != -1) {
		switch (ch) {
		case 'c': chain = optarg; break;
		case 'd': R.delay_ms = (uint32_t)atoi(optarg); break;
		case 'k': key = optarg; break;
		case 'l': listen = optarg; break;
		case 'o': out = optarg; break;
		case 't': trust = optarg; break;
		default:
			return 2;
		}
	}
	if (!listen || !trust || !chain || !key || !out) {
		fprintf(stderr, "usage: dcrecv -l ADDR:PORT -t ROOT -c CHAIN "
		    "-k KEY -o APPLIED [-d MS]\n");
		return 2;
	}
	log_init("dcrecv", 1, LOG_LEVEL_INFO);
	if ((R.fd = open(out, O_RDWR | O_CREAT | O_APPEND, 0644)) < 0) {
		fprintf(stderr, "dcrecv: %s: %s\n", out, strerror(errno));
		return 1;
	}
	R.cursor = recv_last_seq(R.fd);
	if (loop_addr_parse(listen, PROTO_PORT_DC_TLS, 0, &ss) < 0 ||
	    tls_creds_new(&creds) < 0 ||
	    (rv = tls_creds_load(creds, trust, chain, key)) < 0) {
		fprintf(stderr, "dcrecv: bad address or credentials\n");
		return 1;
	}
	R.uv = uv_default_loop();
	memset(&exp, 0, sizeof(exp));
	exp.trust = tls_creds_trust(creds);
	exp.intermediate = tls_creds_issuer(creds);
	exp.role = CERT_ROLE_AS;
	memset(&cfg, 0, sizeof(cfg));
	cfg.creds = creds;
	cfg.verify = tls_verify_cert;
	cfg.verify_ctx = &exp;
	cfg.client_auth = TLS_CLIENT_AUTH_REQUIRE;
	cfg.framing = TLS_FRAMING_MSG;
	cfg.name = "dcrecv";
	cfg.on_connected = recv_connected;
	cfg.on_frame = recv_frame;
	cfg.on_closed = recv_closed;
	if ((rv = tls_listen(R.uv, &cfg, (struct sockaddr *)&ss, &lis)) < 0) {
		fprintf(stderr, "dcrecv: listen: %s\n", tls_strerror(rv));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	uv_signal_init(R.uv, &sterm);
	uv_signal_init(R.uv, &sint);
	uv_signal_start(&sterm, recv_signal, SIGTERM);
	uv_signal_start(&sint, recv_signal, SIGINT);
	fprintf(stderr, "dcrecv: listening on %s, cursor %llu\n", listen,
	    (unsigned long long)R.cursor);
	uv_run(R.uv, UV_RUN_DEFAULT);
	fprintf(stderr, "dcrecv: %llu duplicates\n",
	    (unsigned long long)R.dups);
	return 0;
}
