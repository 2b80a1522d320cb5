/* enroll.c -- node side of enrollment, authentication and renewal with the AS (PROTOCOL.md 6.6, 12.2): CSR, requests, answers. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>

#include "cert.h"
#include "crypto.h"
#include "enroll.h"
#include "msg.h"
#include "proto.h"
#include "store.h"
#include "tls.h"

int
enroll_csr_make(gnutls_privkey_t key, const char *fqdn, gnutls_datum_t *der)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_pubkey_t pub = NULL;
	int rc;

	der->data = NULL;
	der->size = 0;
	if (!cert_name_valid(fqdn))
		return -EINVAL;
	if ((rc = gnutls_x509_crq_init(&crq)) < 0 ||
	    (rc = gnutls_pubkey_init(&pub)) < 0 ||
	    (rc = gnutls_pubkey_import_privkey(pub, key, 0, 0)) < 0 ||
	    (rc = gnutls_x509_crq_set_version(crq, 1)) < 0 ||
	    (rc = gnutls_x509_crq_set_dn_by_oid(crq,
	    GNUTLS_OID_X520_COMMON_NAME, 0, fqdn,
	    (unsigned)strlen(fqdn))) < 0 ||
	    (rc = gnutls_x509_crq_set_pubkey(crq, pub)) < 0 ||
	    (rc = gnutls_x509_crq_privkey_sign(crq, key, GNUTLS_DIG_SHA256,
	    0)) < 0 ||
	    (rc = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, der)) < 0)
		goto out;
	rc = 0;
out:
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crq_deinit(crq);
	return rc;
}

int
enroll_request_encode(uint8_t type, uint32_t txid, const char *account,
    const char *password, const gnutls_datum_t *csr, uint8_t *out,
    size_t cap, size_t *outlen)
{
	struct msg *m;
	int rc = -EINVAL;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	msg_init(m, type);
	m->hdr.txid = txid;
	switch (type) {
	case PROTO_MSG_ENROLL_REQUEST:
		if (account == NULL || password == NULL || csr == NULL)
			goto out;
		if ((rc = msg_add_bytes(m, PROTO_ATTR_ACCOUNT, account,
		    strlen(account))) < 0 ||
		    (rc = msg_add_bytes(m, PROTO_ATTR_PASSWORD, password,
		    strlen(password))) < 0)
			goto out;
		/* FALLTHROUGH */
	case PROTO_MSG_RENEW_REQUEST:
		if (csr == NULL || (rc = msg_add_bytes(m, PROTO_ATTR_CSR,
		    csr->data, csr->size)) < 0)
			goto out;
		break;
	case PROTO_MSG_AUTH_REQUEST:
		break;
	default:
		goto out;
	}
	rc = msg_encode(m, out, cap, outlen);
out:
	crypto_wipe(m, sizeof(*m));
	free(m);
	return rc;
}

static int
enroll_dup(gnutls_datum_t *d, const struct msg_attr *a)
{
	if ((d->data = gnutls_malloc(a->len)) == NULL)
		return -ENOMEM;
	memcpy(d->data, a->val, a->len);
	d->size = a->len;
	return 0;
}

static void
enroll_str(char *dst, size_t cap, const struct msg_attr *a)
{
	size_t n = a->len < cap - 1 ? a->len : cap - 1;

	memcpy(dst, a->val, n);
	dst[n] = '\0';
}

int
enroll_reply_parse(const uint8_t *frame, size_t len, uint32_t txid,
    struct enroll_reply *r)
{
	const struct msg_attr *a, *cert;
	struct msg *m;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	if ((rc = msg_decode(frame, len, m)) < 0)
		goto out;
	if (m->hdr.type != PROTO_MSG_AUTH_RESPONSE || m->hdr.txid != txid) {
		rc = -ENOMSG;
		goto out;
	}
	r->status = m->hdr.status;
	(void)msg_attr_u32(m, PROTO_ATTR_RETRY_AFTER, &r->retry_after_ms);
	if ((a = msg_attr_find(m, PROTO_ATTR_ERROR_TEXT)) != NULL)
		enroll_str(r->error_text, sizeof(r->error_text), a);
	if (r->status != PROTO_STATUS_OK) {
		rc = 0;
		goto out;
	}
	/* The table made these required; check anyway, never trust order. */
	rc = MSG_E_ATTR_MISSING;
	if ((cert = msg_attr_find(m, PROTO_ATTR_CERT)) == NULL ||
	    enroll_dup(&r->cert, cert) < 0)
		goto out;
	if ((a = msg_attr_next(m, PROTO_ATTR_CERT, cert)) != NULL &&
	    enroll_dup(&r->ca, a) < 0)
		goto out;
	if ((a = msg_attr_find(m, PROTO_ATTR_STATUS)) == NULL ||
	    enroll_dup(&r->ocsp, a) < 0)
		goto out;
	if ((a = msg_attr_find(m, PROTO_ATTR_TICKET)) == NULL)
		goto out;
	memcpy(r->ticket, a->val, a->len);
	r->ticket_len = a->len;
	if ((a = msg_attr_find(m, PROTO_ATTR_TICKET_ID)) == NULL)
		goto out;
	memcpy(r->ticket_id, a->val, sizeof(r->ticket_id));
	if ((a = msg_attr_find(m, PROTO_ATTR_TICKET_KEY)) == NULL)
		goto out;
	memcpy(r->k_nd, a->val, sizeof(r->k_nd));
	if (msg_attr_u64(m, PROTO_ATTR_EXPIRY, &r->expiry) < 0)
		goto out;
	for (a = NULL; (a = msg_attr_next(m, PROTO_ATTR_DC_ADDR, a)) != NULL &&
	    r->ndc < ENROLL_REPLY_DC_MAX;)
		if (msg_addr_parse(a, &r->dc[r->ndc]) == 0)
			r->ndc++;
	if (r->ndc == 0)
		goto out;
	if ((a = msg_attr_find(m, PROTO_ATTR_FQDN)) == NULL)
		goto out;
	enroll_str(r->fqdn, sizeof(r->fqdn), a);
	if ((a = msg_attr_find(m, PROTO_ATTR_ZONE)) == NULL)
		goto out;
	enroll_str(r->zone, sizeof(r->zone), a);
	if ((a = msg_attr_find(m, PROTO_ATTR_VIP4)) != NULL) {
		memcpy(r->vip4, a->val, 4);
		r->has_vip4 = true;
	}
	if ((a = msg_attr_find(m, PROTO_ATTR_VIP6)) != NULL) {
		memcpy(r->vip6, a->val, 16);
		r->has_vip6 = true;
	}
	if (!r->has_vip4 && !r->has_vip6)
		goto out;
	rc = 0;
out:
	free(m);
	if (rc < 0)
		enroll_reply_free(r);
	return rc;
}

void
enroll_reply_free(struct enroll_reply *r)
{
	if (r == NULL)
		return;
	gnutls_free(r->cert.data);
	gnutls_free(r->ca.data);
	gnutls_free(r->ocsp.data);
	crypto_wipe(r, sizeof(*r));
}

/* The SHA-1 key identifiers of the certificate's key and ours agree. */
static int
enroll_same_key(gnutls_x509_crt_t crt, gnutls_privkey_t key)
{
	uint8_t a[CERT_KEYHASH_LEN], b[CERT_KEYHASH_LEN];
	gnutls_pubkey_t pc = NULL, pk = NULL;
	int rc;

	if ((rc = gnutls_pubkey_init(&pc)) < 0 ||
	    (rc = gnutls_pubkey_import_x509(pc, crt, 0)) < 0 ||
	    (rc = cert_pubkey_of(key, &pk)) < 0 ||
	    (rc = cert_pubkey_hash(pc, a)) < 0 ||
	    (rc = cert_pubkey_hash(pk, b)) < 0)
		goto out;
	rc = memcmp(a, b, sizeof(a)) == 0 ? 0 : -EKEYREJECTED;
out:
	gnutls_pubkey_deinit(pc);
	gnutls_pubkey_deinit(pk);
	return rc;
}

int
enroll_reply_verify(const struct enroll_reply *r,
    const struct cert_trust *trust, const char *fqdn, gnutls_privkey_t key,
    time_t now, time_t *renew_at)
{
	gnutls_x509_crt_t leaf = NULL, ca = NULL;
	struct cert_expect want;
	struct cert_info info;
	struct in_addr v4;
	struct in6_addr v6;
	int rc;

	if (r->status != PROTO_STATUS_OK || r->cert.size == 0 ||
	    r->ca.size == 0)
		return -EINVAL;
	if (fqdn != NULL && strcmp(fqdn, r->fqdn) != 0)
		return -EINVAL;
	memset(&want, 0, sizeof(want));
	want.role = CERT_ROLE_NODE;
	want.fqdn = r->fqdn;
	if (r->has_vip4) {
		memcpy(&v4, r->vip4, 4);
		want.vip4 = &v4;
	}
	if (r->has_vip6) {
		memcpy(&v6, r->vip6, 16);
		want.vip6 = &v6;
	}
	if ((rc = gnutls_x509_crt_init(&leaf)) < 0 ||
	    (rc = gnutls_x509_crt_import(leaf, &r->cert,
	    GNUTLS_X509_FMT_DER)) < 0 ||
	    (rc = gnutls_x509_crt_init(&ca)) < 0 ||
	    (rc = gnutls_x509_crt_import(ca, &r->ca, GNUTLS_X509_FMT_DER)) < 0)
		goto out;
	if ((rc = cert_verify(trust, leaf, ca, &want, now)) < 0 ||
	    (rc = cert_info(leaf, &info)) < 0)
		goto out;
	/* Exactly the addresses directed: none more in the certificate. */
	if (info.has_vip4 != r->has_vip4 || info.has_vip6 != r->has_vip6 ||
	    info.nip != (size_t)r->has_vip4 + r->has_vip6) {
		rc = -EINVAL;
		goto out;
	}
	if (key != NULL && (rc = enroll_same_key(leaf, key)) < 0)
		goto out;
	if (renew_at != NULL)
		*renew_at = info.not_before +
		    (info.not_after - info.not_before) * 2 / 3;
	rc = 0;
out:
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(ca);
	return rc;
}

static int
enroll_pem_append(gnutls_datum_t *pem, const gnutls_datum_t *der)
{
	gnutls_datum_t one = { NULL, 0 };
	unsigned char *p;
	int rc;

	if ((rc = gnutls_pem_base64_encode2("CERTIFICATE", der, &one)) < 0)
		return rc;
	if ((p = gnutls_realloc(pem->data, pem->size + one.size)) == NULL) {
		gnutls_free(one.data);
		return -ENOMEM;
	}
	memcpy(p + pem->size, one.data, one.size);
	pem->data = p;
	pem->size += one.size;
	gnutls_free(one.data);
	return 0;
}

int
enroll_reply_save(const struct enroll_reply *r, const char *dir)
{
	struct store_ticket t;
	gnutls_datum_t pem = { NULL, 0 };
	int rc;

	if (r->status != PROTO_STATUS_OK)
		return -EINVAL;
	if ((rc = enroll_pem_append(&pem, &r->cert)) < 0 ||
	    (r->ca.size > 0 && (rc = enroll_pem_append(&pem, &r->ca)) < 0))
		goto out;
	if ((rc = store_write(dir, STORE_CERT, pem.data, pem.size)) < 0 ||
	    (rc = store_write(dir, STORE_STATUS, r->ocsp.data,
	    r->ocsp.size)) < 0)
		goto out;
	memset(&t, 0, sizeof(t));
	memcpy(t.ticket, r->ticket, r->ticket_len);
	t.len = r->ticket_len;
	memcpy(t.k_nd, r->k_nd, sizeof(t.k_nd));
	t.expiry = r->expiry;
	rc = store_ticket_save(dir, &t);
	crypto_wipe(&t, sizeof(t));
out:
	gnutls_free(pem.data);
	return rc;
}

int
enroll_status_times(const uint8_t *der, size_t len, time_t *this_update,
    time_t *next_update)
{
	gnutls_ocsp_resp_t resp = NULL;
	gnutls_datum_t d;
	unsigned int cstatus, reason;
	time_t tu, nu, rtime;
	int rc;

	if (der == NULL || len == 0 || len > UINT_MAX)
		return -EINVAL;
	if (gnutls_ocsp_resp_init(&resp) < 0)
		return -ENOMEM;
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned int)len;
	rc = -EINVAL;
	if (gnutls_ocsp_resp_import(resp, &d) < 0 ||
	    gnutls_ocsp_resp_get_status(resp) != GNUTLS_OCSP_RESP_SUCCESSFUL ||
	    gnutls_ocsp_resp_get_single(resp, 0, NULL, NULL, NULL, NULL,
	    &cstatus, &tu, &nu, &rtime, &reason) < 0)
		goto out;
	/* GnuTLS gives (time_t)-1 for an absent nextUpdate. */
	if (tu == (time_t)-1 || nu == (time_t)-1 || nu <= tu)
		goto out;
	*this_update = tu;
	*next_update = nu;
	rc = 0;
out:
	gnutls_ocsp_resp_deinit(resp);
	return rc;
}

time_t
enroll_status_refresh_at(time_t this_update, time_t next_update)
{
	if (next_update <= this_update)
		return this_update;
	return this_update + (next_update - this_update) / 2 + 1;
}

static void
enroll_client_connected(struct tls_conn *conn, const struct tls_peer *peer,
    void *arg)
{
	struct enroll_client *ec = arg;

	(void)peer;
	if (ec->finished)
		return;
	if (tls_send(conn, ec->req, ec->req_len) == 0)
		ec->sends++;
}

static void
enroll_client_frame(struct tls_conn *conn, const uint8_t *p, size_t len,
    void *arg)
{
	struct enroll_client *ec = arg;
	struct enroll_reply *r;
	int rc;

	(void)conn;
	if (ec->finished)
		return;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = -ENOMEM;
		goto done;
	}
	rc = enroll_reply_parse(p, len, ec->txid, r);
	if (rc == -ENOMSG) {
		/* Not the answer to our request: keep waiting. */
		free(r);
		return;
	}
done:
	ec->finished = true;
	ec->done(ec->arg, rc, rc == 0 ? r : NULL);
	if (r != NULL) {
		enroll_reply_free(r);
		free(r);
	}
	enroll_client_stop(ec);
}

static void
enroll_client_closed(struct tls_conn *conn, int reason, void *arg)
{
	(void)conn;
	(void)reason;
	(void)arg;
	/* lib/tls reconnects by itself; the request goes again then. */
}

int
enroll_client_start(struct enroll_client *ec, uv_loop_t *loop,
    const struct sockaddr *as, struct tls_creds *creds, tls_clock_fn clock,
    void *clock_arg, const uint8_t *req, size_t len, uint32_t txid,
    enroll_done_fn done, void *arg)
{
	struct tls_config cfg;
	int rc;

	memset(ec, 0, sizeof(*ec));
	if ((ec->req = malloc(len)) == NULL)
		return -ENOMEM;
	memcpy(ec->req, req, len);
	ec->req_len = len;
	ec->txid = txid;
	ec->done = done;
	ec->arg = arg;
	ec->expect.trust = tls_creds_trust(creds);
	ec->expect.role = CERT_ROLE_AS;
	memset(&cfg, 0, sizeof(cfg));
	cfg.creds = creds;
	cfg.verify = tls_verify_cert;
	cfg.verify_ctx = &ec->expect;
	cfg.clock = clock;
	cfg.clock_arg = clock_arg;
	cfg.framing = TLS_FRAMING_MSG;
	cfg.name = "as";
	cfg.on_connected = enroll_client_connected;
	cfg.on_frame = enroll_client_frame;
	cfg.on_closed = enroll_client_closed;
	cfg.arg = ec;
	if ((rc = tls_client_new(loop, &cfg, as, &ec->cl)) < 0) {
		crypto_wipe(ec->req, ec->req_len);
		free(ec->req);
		ec->req = NULL;
		return rc;
	}
	return 0;
}

void
enroll_client_stop(struct enroll_client *ec)
{
	ec->finished = true;
	tls_client_free(ec->cl);
	ec->cl = NULL;
	if (ec->req != NULL) {
		/* An ENROLL_REQUEST holds the password. */
		crypto_wipe(ec->req, ec->req_len);
		free(ec->req);
		ec->req = NULL;
	}
}
