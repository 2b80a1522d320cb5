/* asnode.c -- TEST TOOL: the node side of the AS channel (ENROLL, AUTH, RENEW, junk) for tests/integration/as.sh. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "cert.h"
#include "log.h"
#include "loop.h"
#include "buf.h"
#include "msg.h"
#include "ticket.h"
#include "tls.h"

/*
 * Not ntmd: one request per run, its answer on stdout, for the tests.
 *
 *   asnode -a ADDR:PORT -t ROOT.pem [-c CHAIN -k KEY] VERB ARGS...
 *     enroll ACCOUNT PASSWORD FQDN OUTPREFIX   new P-256 key and CSR
 *     auth                                     with -c/-k as client cert
 *     renew OUTPREFIX                          new key, CSR for the same FQDN
 *     junk                                     64 bytes that are no header
 *     huge                                     a header announcing 60000 B
 *
 * The answer prints as "status NAME" then, on OK, "fqdn F", "vip4 A",
 * "vip6 A", "serial HEX", "ticket N bytes"; OUTPREFIX.key (0600) and
 * OUTPREFIX.pem (node certificate then the AS CA) are written.  Exit 0 on
 * an OK answer, 3 on an error answer, 4 when the AS closed without one.
 */

struct node {
	const char	*verb;
	const char	*account, *password, *fqdn, *prefix;
	gnutls_privkey_t key;
	int		 exit;
	uv_loop_t	*uv;
	struct tls_client *client;
	bool		 sent;
};

static struct node N = { .exit = 4 };

static void
node_write_out(const struct msg *m)
{
	const struct msg_attr *a;
	char path[4096], text[64];
	FILE *f;
	gnutls_datum_t der, pem;
	const char *label = "CERTIFICATE";

	snprintf(path, sizeof(path), "%s.key", N.prefix);
	(void)unlink(path);
	if (cert_key_write(path, N.key) < 0)
		fprintf(stderr, "asnode: cannot write %s\n", path);
	snprintf(path, sizeof(path), "%s.pem", N.prefix);
	if ((f = fopen(path, "w")) == NULL)
		return;
	for (a = msg_attr_find(m, PROTO_ATTR_CERT); a != NULL;
	    a = msg_attr_next(m, PROTO_ATTR_CERT, a)) {
		der.data = (unsigned char *)a->val;
		der.size = a->len;
		if (gnutls_pem_base64_encode2(label, &der, &pem) == 0) {
			fwrite(pem.data, 1, pem.size, f);
			gnutls_free(pem.data);
		}
	}
	fclose(f);
	(void)text;
}

/* PROTOCOL.md section 4 names, as the tests grep them. */
static const char *const node_status_names[] = {
	"INVALID", "OK", "MALFORMED", "VERSION", "UNKNOWN_NODE",
	"NOT_REGISTERED", "REVOKED", "REFUSED_POLICY", "KEX_NOT_ALLOWED",
	"AEAD_NOT_ALLOWED", "EXPIRED", "AUTH_FAILED", "BAD_TICKET",
	"BAD_COOKIE", "RATE_LIMITED", "UNKNOWN_PATH", "STALE_STATUS",
	"CERT_INVALID", "ADDRESS_IN_USE", "TOO_LARGE", "UNAVAILABLE",
	"INTERNAL",
};

static void
node_print(const struct msg *m)
{
	const struct msg_attr *a;
	char buf[INET6_ADDRSTRLEN];
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;
	struct cert_info info;
	size_t i;

	printf("status %s\n", m->hdr.status <= PROTO_STATUS_MAX ?
	    node_status_names[m->hdr.status] : "?");
	if ((a = msg_attr_find(m, PROTO_ATTR_ERROR_TEXT)) != NULL)
		printf("text %.*s\n", (int)a->len, (const char *)a->val);
	if ((a = msg_attr_find(m, PROTO_ATTR_RETRY_AFTER)) != NULL) {
		uint32_t r;

		(void)msg_attr_u32(m, PROTO_ATTR_RETRY_AFTER, &r);
		printf("retry_after %u\n", r);
	}
	if (m->hdr.status != PROTO_STATUS_OK)
		return;
	if ((a = msg_attr_find(m, PROTO_ATTR_FQDN)) != NULL)
		printf("fqdn %.*s\n", (int)a->len, (const char *)a->val);
	if ((a = msg_attr_find(m, PROTO_ATTR_VIP4)) != NULL)
		printf("vip4 %s\n", inet_ntop(AF_INET, a->val, buf,
		    sizeof(buf)));
	if ((a = msg_attr_find(m, PROTO_ATTR_VIP6)) != NULL)
		printf("vip6 %s\n", inet_ntop(AF_INET6, a->val, buf,
		    sizeof(buf)));
	if ((a = msg_attr_find(m, PROTO_ATTR_CERT)) != NULL &&
	    gnutls_x509_crt_init(&crt) == 0) {
		der.data = (unsigned char *)a->val;
		der.size = a->len;
		if (gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) ==
		    0 && cert_info(crt, &info) == 0) {
			printf("serial ");
			for (i = 0; i < info.serial_len; i++)
				printf("%02x", info.serial[i]);
			printf("\nrole %s\nlifetime %lld\n",
			    cert_role_name(info.role),
			    (long long)(info.not_after - info.not_before));
		}
		gnutls_x509_crt_deinit(crt);
	}
	if ((a = msg_attr_find(m, PROTO_ATTR_TICKET)) != NULL) {
		uint32_t kid;

		printf("ticket %u bytes\n", a->len);
		if (ticket_key_id(a->val, a->len, &kid) == 0)
			printf("ticket_key_id %08x\n", kid);
	}
	if ((a = msg_attr_find(m, PROTO_ATTR_ZONE)) != NULL)
		printf("zone %.*s\n", (int)a->len, (const char *)a->val);
}

static void
node_frame(struct tls_conn *c, const uint8_t *p, size_t len, void *arg)
{
	static struct msg m;

	(void)arg;
	if (msg_decode(p, len, &m) < 0) {
		printf("status undecodable\n");
		N.exit = 5;
	} else {
		node_print(&m);
		N.exit = m.hdr.status == PROTO_STATUS_OK ? 0 : 3;
		if (N.exit == 0 && N.prefix != NULL)
			node_write_out(&m);
	}
	fflush(stdout);
	(void)c;
	tls_client_free(N.client);
	N.client = NULL;
}

static int
node_csr(const char *fqdn, gnutls_datum_t *der)
{
	gnutls_x509_crq_t crq;
	gnutls_pubkey_t pub;
	int rv;

	if (cert_key_generate(CERT_KEY_P256, &N.key) < 0 ||
	    cert_pubkey_of(N.key, &pub) < 0 || gnutls_x509_crq_init(&crq) < 0)
		return -1;
	rv = gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, fqdn, (unsigned int)strlen(fqdn));
	if (rv == 0)
		rv = gnutls_x509_crq_set_pubkey(crq, pub);
	if (rv == 0)
		rv = gnutls_x509_crq_privkey_sign(crq, N.key,
		    GNUTLS_DIG_SHA256, 0);
	if (rv == 0)
		rv = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, der);
	gnutls_x509_crq_deinit(crq);
	gnutls_pubkey_deinit(pub);
	return rv;
}

static void
node_connected(struct tls_conn *c, const struct tls_peer *peer, void *arg)
{
	static uint8_t out[PROTO_TLS_MESSAGE_MAX];
	gnutls_datum_t csr = { NULL, 0 };
	struct msg m;
	size_t len = 0;
	int rv = 0;

	(void)peer;
	(void)arg;
	if (N.sent) {
		tls_client_free(N.client);
		N.client = NULL;
		return;
	}
	N.sent = true;
	if (strcmp(N.verb, "junk") == 0) {
		/* LEN32 framing here: the AS reads 00 00 00 40 ff ... */
		memset(out, 0xff, 64);
		if ((rv = tls_send(c, out, 64)) < 0)
			printf("status not-sent %d\n", rv);
		return;
	}
	if (strcmp(N.verb, "huge") == 0) {
		/* A good header announcing 60000 bytes of body. */
		struct wbuf w;
		struct msg_header h;

		memset(&h, 0, sizeof(h));
		h.version = PROTO_VERSION_1;
		h.type = PROTO_MSG_AUTH_REQUEST;
		h.status = PROTO_STATUS_OK;
		h.length = 60000;
		memset(out, 0, sizeof(out));
		wbuf_init(&w, out, sizeof(out));
		if ((rv = msg_header_encode(&h, &w)) == 0)
			rv = tls_send(c, out, PROTO_HEADER_LEN + 60000);
		if (rv < 0)
			printf("status not-sent %d\n", rv);
		return;
	}
	if (strcmp(N.verb, "enroll") == 0) {
		msg_init(&m, PROTO_MSG_ENROLL_REQUEST);
		if (node_csr(N.fqdn, &csr) < 0)
			goto fail;
		rv |= msg_add_bytes(&m, PROTO_ATTR_ACCOUNT, N.account,
		    strlen(N.account));
		rv |= msg_add_bytes(&m, PROTO_ATTR_PASSWORD, N.password,
		    strlen(N.password));
		rv |= msg_add_bytes(&m, PROTO_ATTR_CSR, csr.data, csr.size);
	} else if (strcmp(N.verb, "renew") == 0) {
		msg_init(&m, PROTO_MSG_RENEW_REQUEST);
		if (node_csr(N.fqdn, &csr) < 0)
			goto fail;
		rv |= msg_add_bytes(&m, PROTO_ATTR_CSR, csr.data, csr.size);
	} else
		msg_init(&m, PROTO_MSG_AUTH_REQUEST);
	m.hdr.txid = 42;
	if (rv != 0 || msg_encode(&m, out, sizeof(out), &len) < 0 ||
	    tls_send(c, out, len) < 0)
		goto fail;
	gnutls_free(csr.data);
	return;
fail:
	gnutls_free(csr.data);
	printf("status local-failure\n");
	N.exit = 6;
	tls_client_free(N.client);
	N.client = NULL;
}

static void
node_closed(struct tls_conn *c, int reason, void *arg)
{
	(void)c;
	(void)arg;
	if (N.client != NULL && N.exit == 4) {
		printf("closed %s\n", reason == 0 ? "ok" : tls_strerror(reason));
		fflush(stdout);
		tls_client_free(N.client);
		N.client = NULL;
	}
}

/* The FQDN of the client certificate, for renew. */
static void
node_fqdn_of(const char *chain)
{
	static char fqdn[CERT_FQDN_MAX + 1];
	gnutls_x509_crt_t crt;
	struct cert_info info;

	if (cert_crt_read(chain, &crt) == 0) {
		if (cert_info(crt, &info) == 0) {
			snprintf(fqdn, sizeof(fqdn), "%s", info.fqdn);
			N.fqdn = fqdn;
		}
		gnutls_x509_crt_deinit(crt);
	}
}

int
main(int argc, char *argv[])
{
	const char *addr = NULL, *trust = NULL, *chain = NULL, *key = NULL;
	struct sockaddr_storage ss;
	struct tls_creds *creds;
	struct tls_expect exp;
	struct tls_config cfg;
	int ch, rv;

	while ((ch = getopt(argc, argv, "a:c:k:t:")) != -1) {
		switch (ch) {
		case 'a': addr = optarg; break;
		case 'c': chain = optarg; break;
		case 'k': key = optarg; break;
		case 't': trust = optarg; break;
		default: return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (addr == NULL || trust == NULL || argc < 1)
		return 2;
	N.verb = argv[0];
	if (strcmp(N.verb, "enroll") == 0 && argc == 5) {
		N.account = argv[1];
		N.password = argv[2];
		N.fqdn = argv[3];
		N.prefix = argv[4];
	} else if (strcmp(N.verb, "renew") == 0 && argc == 2 && chain) {
		N.prefix = argv[1];
		node_fqdn_of(chain);
		if (N.fqdn == NULL)
			return 2;
	} else if ((strcmp(N.verb, "auth") != 0 &&
	    strcmp(N.verb, "junk") != 0 && strcmp(N.verb, "huge") != 0) ||
	    argc != 1)
		return 2;
	log_init("asnode", 1, LOG_LEVEL_WARN);
	signal(SIGPIPE, SIG_IGN);
	if (loop_addr_parse(addr, PROTO_PORT_AS, 0, &ss) < 0 ||
	    tls_creds_new(&creds) < 0 ||
	    tls_creds_load_trust(creds, trust) < 0 ||
	    (chain != NULL && key != NULL &&
	    (rv = tls_creds_load_key(creds, chain, key)) < 0)) {
		fprintf(stderr, "asnode: bad address or credentials\n");
		return 2;
	}
	N.uv = uv_default_loop();
	memset(&exp, 0, sizeof(exp));
	exp.trust = tls_creds_trust(creds);
	exp.role = CERT_ROLE_AS;
	memset(&cfg, 0, sizeof(cfg));
	cfg.creds = creds;
	cfg.verify = tls_verify_cert;
	cfg.verify_ctx = &exp;
	cfg.framing = strcmp(N.verb, "junk") == 0 ? TLS_FRAMING_LEN32 :
	    TLS_FRAMING_MSG;
	cfg.name = "asnode";
	cfg.handshake_timeout_ms = 5000;
	cfg.on_connected = node_connected;
	cfg.on_frame = node_frame;
	cfg.on_closed = node_closed;
	if (tls_client_new(N.uv, &cfg, (struct sockaddr *)&ss,
	    &N.client) < 0)
		return 2;
	uv_run(N.uv, UV_RUN_DEFAULT);
	if (N.key != NULL)
		gnutls_privkey_deinit(N.key);
	tls_creds_free(creds);
	return N.exit;
}
