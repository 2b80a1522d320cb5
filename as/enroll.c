/* enroll.c -- sans-I/O handling of ENROLL, AUTH and RENEW requests: checks, issuance, answers, rate limits. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "account.h"
#include "buf.h"
#include "cert.h"
#include "db.h"
#include "enroll.h"
#include "log.h"
#include "outbox.h"
#include "rand.h"
#include "status.h"

static const struct {
	const char		*text;
	enum proto_status	 status;
} enroll_errors[] = {
	{ "malformed request", PROTO_STATUS_MALFORMED },
	{ "unknown account or wrong password", PROTO_STATUS_AUTH_FAILED },
	{ "account disabled", PROTO_STATUS_AUTH_FAILED },
	{ "too many attempts on this account", PROTO_STATUS_RATE_LIMITED },
	{ "too many attempts from this address", PROTO_STATUS_RATE_LIMITED },
	{ "too many password checks running", PROTO_STATUS_RATE_LIMITED },
	{ "certification request refused", PROTO_STATUS_CERT_INVALID },
	{ "the account does not own this FQDN",
	    PROTO_STATUS_REFUSED_POLICY },
	{ "no DC serves the zone of this FQDN", PROTO_STATUS_UNKNOWN_NODE },
	{ "virtual IP held by another node", PROTO_STATUS_ADDRESS_IN_USE },
	{ "virtual IP outside the home DC's prefixes",
	    PROTO_STATUS_ADDRESS_IN_USE },
	{ "no free virtual IP in the home DC's pool",
	    PROTO_STATUS_UNAVAILABLE },
	{ "a client certificate is required", PROTO_STATUS_AUTH_FAILED },
	{ "client certificate is not of role ntm-node",
	    PROTO_STATUS_CERT_INVALID },
	{ "client certificate unknown to this AS", PROTO_STATUS_CERT_INVALID },
	{ "client certificate revoked", PROTO_STATUS_REVOKED },
	{ "client certificate expired", PROTO_STATUS_EXPIRED },
	{ "no ticket key for the home DC", PROTO_STATUS_UNAVAILABLE },
	{ "the home DC gave no virtual IP", PROTO_STATUS_UNAVAILABLE },
	{ "internal error", PROTO_STATUS_INTERNAL },
};

const char *
enroll_strerror(int err)
{
	if (err >= ENROLL_E_FIRST && err <= ENROLL_E_LAST)
		return enroll_errors[err - ENROLL_E_FIRST].text;
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}

enum proto_status
enroll_status(int err)
{
	if (err >= ENROLL_E_FIRST && err <= ENROLL_E_LAST)
		return enroll_errors[err - ENROLL_E_FIRST].status;
	return PROTO_STATUS_INTERNAL;
}

/* Requests */

static int
enroll_copy_text(const struct msg_attr *a, char **out, size_t *outlen)
{
	char *s;

	if (a == NULL || a->len == 0 || memchr(a->val, '\0', a->len) != NULL)
		return ENROLL_E_MALFORMED;
	if ((s = malloc((size_t)a->len + 1)) == NULL)
		return -ENOMEM;
	memcpy(s, a->val, a->len);
	s[a->len] = '\0';
	*out = s;
	if (outlen != NULL)
		*outlen = a->len;
	return 0;
}

int
enroll_parse(const uint8_t *frame, size_t len, gnutls_x509_crt_t client,
    const char *peer, struct enroll_request *req)
{
	const struct msg_attr *a;
	struct msg_header h;
	struct rbuf c;
	struct msg *m = NULL;
	gnutls_datum_t der = { NULL, 0 };
	char *acct = NULL;
	int rv;

	memset(req, 0, sizeof(*req));
	snprintf(req->peer, sizeof(req->peer), "%s", peer ? peer : "?");
	rbuf_init(&c, frame, len);
	if ((rv = msg_header_decode(&c, &h)) < 0)
		return rv;
	req->txid = h.txid;
	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	if (h.status != PROTO_STATUS_OK ||
	    msg_body_decode(&h, frame + PROTO_HEADER_LEN, h.length, m) < 0) {
		rv = ENROLL_E_MALFORMED;
		goto out;
	}
	switch (h.type) {
	case PROTO_MSG_ENROLL_REQUEST:
		req->kind = ENROLL_KIND_ENROLL;
		break;
	case PROTO_MSG_AUTH_REQUEST:
		req->kind = ENROLL_KIND_AUTH;
		break;
	case PROTO_MSG_RENEW_REQUEST:
		req->kind = ENROLL_KIND_RENEW;
		break;
	default:
		rv = ENROLL_E_MALFORMED;
		goto out;
	}
	if (req->kind == ENROLL_KIND_ENROLL) {
		if ((rv = enroll_copy_text(msg_attr_find(m, PROTO_ATTR_ACCOUNT),
		    &acct, NULL)) < 0)
			goto out;
		if (strlen(acct) > ENROLL_LIMIT_KEY_MAX) {
			rv = ENROLL_E_MALFORMED;
			goto out;
		}
		snprintf(req->account, sizeof(req->account), "%s", acct);
		if ((rv = enroll_copy_text(msg_attr_find(m,
		    PROTO_ATTR_PASSWORD), &req->password,
		    &req->password_len)) < 0)
			goto out;
	}
	if (req->kind != ENROLL_KIND_AUTH) {
		if ((a = msg_attr_find(m, PROTO_ATTR_CSR)) == NULL ||
		    a->len == 0) {
			rv = ENROLL_E_MALFORMED;
			goto out;
		}
		if ((req->csr = malloc(a->len)) == NULL) {
			rv = -ENOMEM;
			goto out;
		}
		memcpy(req->csr, a->val, a->len);
		req->csr_len = a->len;
	}
	if (client != NULL) {
		if (gnutls_x509_crt_export2(client, GNUTLS_X509_FMT_DER,
		    &der) < 0) {
			rv = -ENOMEM;
			goto out;
		}
		req->client = (uint8_t *)der.data;	/* gnutls_free */
		req->client_len = der.size;
	} else if (req->kind != ENROLL_KIND_ENROLL) {
		rv = ENROLL_E_NO_CERT;
		goto out;
	}
	rv = 0;
out:
	free(acct);
	free(m);
	if (rv < 0 && rv != ENROLL_E_NO_CERT) {
		uint32_t txid = req->txid;
		enum enroll_kind kind = req->kind;

		enroll_request_clear(req);
		req->txid = txid;
		req->kind = kind;
		snprintf(req->peer, sizeof(req->peer), "%s", peer ? peer : "?");
	}
	return rv;
}

void
enroll_request_clear(struct enroll_request *req)
{
	if (req == NULL)
		return;
	if (req->password != NULL) {
		gnutls_memset(req->password, 0, req->password_len);
		free(req->password);
	}
	free(req->csr);
	gnutls_free(req->client);
	memset(req, 0, sizeof(*req));
}

void
enroll_result_clear(struct enroll_result *res)
{
	if (res == NULL)
		return;
	gnutls_free(res->cert.data);
	gnutls_free(res->ca.data);
	gnutls_free(res->status.data);
	gnutls_memset(res, 0, sizeof(*res));
}

int
enroll_check_password(const struct enroll_ctx *ctx,
    const struct enroll_request *req)
{
	int rv;

	if (req->kind != ENROLL_KIND_ENROLL || req->password == NULL)
		return ENROLL_E_MALFORMED;
	rv = account_verify(ctx->status->db, ctx->params, req->account,
	    req->password);
	switch (rv) {
	case 0:
		return 0;
	case -EACCES:
		log_info("enroll: account %s from %s: wrong password or no "
		    "such account", req->account, req->peer);
		return ENROLL_E_AUTH;
	case -EPERM:
		log_info("enroll: account %s from %s: account disabled",
		    req->account, req->peer);
		return ENROLL_E_DISABLED;
	default:
		log_warnx("enroll: account %s from %s: checking the password: "
		    "%s", req->account, req->peer, strerror(-rv));
		return ENROLL_E_INTERNAL;
	}
}

/* Homes and virtual IPs */

static const struct enroll_dc *
enroll_dc_by_zone(const struct enroll_ctx *ctx, const char *fqdn)
{
	const char *dot;
	size_t i;

	if ((dot = strchr(fqdn, '.')) == NULL)
		return NULL;
	for (i = 0; i < ctx->ndcs; i++)
		if (strcmp(dot + 1, ctx->dcs[i].zone) == 0)
			return &ctx->dcs[i];
	return NULL;
}

static const struct enroll_dc *
enroll_dc_by_name(const struct enroll_ctx *ctx, const char *name)
{
	size_t i;

	for (i = 0; i < ctx->ndcs; i++)
		if (strcmp(name, ctx->dcs[i].name) == 0)
			return &ctx->dcs[i];
	return NULL;
}

static bool
enroll_in_prefix(const struct config_prefix *p, int family, const void *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, 4);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr, 16);
	}
	return p->family == family &&
	    config_prefix_contains(p, (struct sockaddr *)&ss);
}

/* 1 when neither address is held by a live certificate of another node. */
static int
enroll_vip_free(struct db *db, const char *fqdn, const struct in_addr *v4,
    const struct in6_addr *v6, time_t now)
{
	char t4[INET_ADDRSTRLEN], t6[INET6_ADDRSTRLEN];
	int64_t n = 0;
	int rv;

	inet_ntop(AF_INET, v4, t4, sizeof(t4));
	inet_ntop(AF_INET6, v6, t6, sizeof(t6));
	if ((rv = db_query_int64(db, &n, "SELECT count(*) FROM certificates "
	    "AS c WHERE (c.vip4 = ? OR c.vip6 = ?) AND c.fqdn <> ? "
	    "AND c.not_after > ? AND NOT EXISTS (SELECT 1 FROM revocations "
	    "AS r WHERE r.serial = c.serial)", "tttI", t4, t6, fqdn,
	    (int64_t)now)) < 0)
		return rv;
	return n == 0;
}

/* base + i, over the whole address (big-endian add with carry). */
static void
enroll_addr_add(uint8_t *addr, size_t len, uint32_t i)
{
	uint32_t carry = i;
	size_t k;

	for (k = len; k-- > 0 && carry != 0;) {
		carry += addr[k];
		addr[k] = (uint8_t)carry;
		carry >>= 8;
	}
}

static uint64_t
enroll_pool_hosts(const struct config_prefix *p, unsigned bits)
{
	unsigned hostbits = bits - p->len;

	return hostbits >= 32 ? (uint64_t)1 << 32 : (uint64_t)1 << hostbits;
}

/*
 * The node's earlier addresses when still usable, else the lowest free
 * pair of the pool.  Host 0 is never given, nor the last IPv4 host of the
 * pool (its broadcast address when the pool is the whole subnet).
 */
static int
enroll_vip_pick(const struct enroll_ctx *ctx, const struct enroll_dc *dc,
    const char *fqdn, time_t now, struct in_addr *v4, struct in6_addr *v6)
{
	struct db *db = ctx->status->db;
	sqlite3_stmt *s = NULL;
	uint64_t n4, n6, n, i;
	bool prev = false;
	int rv;

	if ((rv = db_prepare(db, &s, "SELECT vip4, vip6 FROM certificates "
	    "WHERE fqdn = ? ORDER BY issued_at DESC, serial LIMIT 1", "t",
	    fqdn)) < 0)
		return ENROLL_E_INTERNAL;
	if ((rv = db_step(s)) == DB_ROW &&
	    inet_pton(AF_INET, db_col_text(s, 0), v4) == 1 &&
	    inet_pton(AF_INET6, db_col_text(s, 1), v6) == 1 &&
	    enroll_in_prefix(&dc->prefix4, AF_INET, v4) &&
	    enroll_in_prefix(&dc->prefix6, AF_INET6, v6))
		prev = true;
	db_finalize(s);
	if (rv < 0)
		return ENROLL_E_INTERNAL;
	if (prev) {
		if ((rv = enroll_vip_free(db, fqdn, v4, v6, now)) < 0)
			return ENROLL_E_INTERNAL;
		if (rv == 1)
			return 0;
	}
	n4 = enroll_pool_hosts(&dc->pool4, 32);
	n6 = enroll_pool_hosts(&dc->pool6, 128);
	n = n4 < n6 ? n4 : n6;
	if (n > ENROLL_POOL_SCAN_MAX)
		n = ENROLL_POOL_SCAN_MAX;
	for (i = 1; i + 1 < n; i++) {
		memcpy(v4, dc->pool4.addr, 4);
		memcpy(v6, dc->pool6.addr, 16);
		enroll_addr_add((uint8_t *)v4, 4, (uint32_t)i);
		enroll_addr_add(v6->s6_addr, 16, (uint32_t)i);
		if (!enroll_in_prefix(&dc->prefix4, AF_INET, v4) ||
		    !enroll_in_prefix(&dc->prefix6, AF_INET6, v6))
			return ENROLL_E_VIP_OUTSIDE;
		if ((rv = enroll_vip_free(db, fqdn, v4, v6, now)) < 0)
			return ENROLL_E_INTERNAL;
		if (rv == 1)
			return 0;
	}
	return ENROLL_E_POOL_EMPTY;
}

/*
 * The DC's answer: inside its configured prefixes, and held by no live
 * certificate of another node (as for pool addresses).
 */
static int
enroll_vip_given(const struct enroll_ctx *ctx, const struct enroll_dc *dc,
    const struct enroll_request *req, const char *fqdn, time_t now)
{
	char t4[INET_ADDRSTRLEN], t6[INET6_ADDRSTRLEN];
	int rv;

	inet_ntop(AF_INET, &req->vip4, t4, sizeof(t4));
	inet_ntop(AF_INET6, &req->vip6, t6, sizeof(t6));
	if (!enroll_in_prefix(&dc->prefix4, AF_INET, &req->vip4) ||
	    !enroll_in_prefix(&dc->prefix6, AF_INET6, &req->vip6)) {
		log_warnx("enroll: %s from %s: DC %s gave %s %s, outside its "
		    "prefixes", fqdn, req->peer, dc->name, t4, t6);
		return ENROLL_E_VIP_OUTSIDE;
	}
	if ((rv = enroll_vip_free(ctx->status->db, fqdn, &req->vip4,
	    &req->vip6, now)) < 0)
		return ENROLL_E_INTERNAL;
	if (rv == 0) {
		log_warnx("enroll: %s from %s: DC %s gave %s %s, held by "
		    "another node's live certificate", fqdn, req->peer,
		    dc->name, t4, t6);
		return ENROLL_E_VIP_IN_USE;
	}
	return 0;
}

/* Certificates */

/* The one name a CSR asks for: its CN, else its first SAN dNSName. */
static int
enroll_csr_name(gnutls_x509_crq_t crq, char *out, size_t cap)
{
	size_t len = cap;
	unsigned int type;
	size_t i;

	if (gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, out, &len) < 0) {
		len = cap;
		if (gnutls_x509_crq_get_subject_alt_name(crq, 0, out, &len,
		    &type, NULL) < 0 || type != GNUTLS_SAN_DNSNAME)
			return -ENOENT;
	}
	if (len == 0 || len >= cap)
		return -EINVAL;
	out[len] = '\0';
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return 0;
}

/*
 * Checks the CSR: signature, key type, no extension asked, and every name
 * in it equal to `fqdn` (when set) or to the one name it asks for (written
 * to name).  *pub is the caller's on success.
 */
static int
enroll_csr(const struct enroll_request *req, const char *fqdn, char *name,
    size_t cap, gnutls_pubkey_t *pub)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_datum_t d;
	int rv;

	*pub = NULL;
	if (gnutls_x509_crq_init(&crq) < 0)
		return -ENOMEM;
	d.data = req->csr;
	d.size = (unsigned int)req->csr_len;
	if (gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER) < 0) {
		rv = CERT_E_PARSE;
		goto out;
	}
	if (fqdn == NULL) {
		if ((rv = cert_csr_check(crq, NULL, pub)) < 0)
			goto out;
		gnutls_pubkey_deinit(*pub);
		*pub = NULL;
		if (enroll_csr_name(crq, name, cap) < 0) {
			rv = CERT_E_CSR_NAME;
			goto out;
		}
		fqdn = name;
	} else if (name != fqdn)
		snprintf(name, cap, "%s", fqdn);
	rv = cert_csr_check(crq, fqdn, pub);
out:
	gnutls_x509_crq_deinit(crq);
	return rv;
}

static const char *
enroll_keytype_name(gnutls_pubkey_t pub)
{
	return cert_key_type(pub) == CERT_KEY_RSA2048 ? "rsa-2048" :
	    "ecdsa-p256";
}

/* Status to hand out: the stored one in its first half-life, else fresh. */
static int
enroll_fresh_status(const struct enroll_ctx *ctx, const char *serial,
    const char *dc, time_t now, gnutls_datum_t *der)
{
	const struct status_ctx *sc = ctx->status;
	struct ocsp_status st;
	time_t tu, nu;
	int rv;

	if (status_get(sc->db, serial, der, &tu, &nu) == 0) {
		if (now >= tu && now < status_half_life(tu, nu))
			return 0;
		gnutls_free(der->data);
		der->data = NULL;
	}
	if ((rv = status_make(sc, serial, now, der, &st)) < 0)
		return rv;
	if ((rv = db_begin(sc->db)) < 0)
		return rv;
	if ((rv = status_store(sc->db, serial, &st, der)) < 0 ||
	    (rv = outbox_add(sc->db, dc, OUTBOX_KIND_STATUS, serial,
	    der->data, der->size, now, NULL)) < 0) {
		db_rollback(sc->db);
		return rv;
	}
	return db_commit(sc->db);
}

/*
 * Issues the node certificate and stores it with its status and ISSUED
 * notice in one transaction.
 */
static int
enroll_make_cert(const struct enroll_ctx *ctx, const struct enroll_request *req,
    const char *account, gnutls_pubkey_t pub, time_t now,
    struct enroll_result *res)
{
	const struct status_ctx *sc = ctx->status;
	struct cert_issuer issuer = { sc->issuer, sc->key };
	struct cert_request cr;
	struct cert_info info;
	struct ocsp_status st;
	gnutls_x509_crt_t crt = NULL;
	char t4[INET_ADDRSTRLEN], t6[INET6_ADDRSTRLEN];
	int rv;

	memset(&cr, 0, sizeof(cr));
	cr.role = CERT_ROLE_NODE;
	cr.fqdn = res->fqdn;
	cr.has_vip4 = true;
	cr.vip4 = res->vip4;
	cr.has_vip6 = true;
	cr.vip6 = res->vip6;
	cr.lifetime = ctx->lifetime ? ctx->lifetime : ENROLL_LIFETIME_DEFAULT;
	cr.pubkey = pub;
	if ((rv = cert_issue(&cr, &issuer, ctx->rng, now, &crt)) < 0) {
		log_warnx("enroll: issuing %s for %s: %s", res->fqdn,
		    req->peer, cert_strerror(rv));
		return ENROLL_E_INTERNAL;
	}
	if (cert_info(crt, &info) < 0 ||
	    status_serial_hex(info.serial, info.serial_len, res->serial,
	    sizeof(res->serial)) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &res->cert) < 0) {
		rv = ENROLL_E_INTERNAL;
		goto out;
	}
	memcpy(res->ticket.serial, info.serial, info.serial_len);
	res->ticket.serial_len = info.serial_len;
	if ((rv = status_make(sc, res->serial, now, &res->status, &st)) < 0) {
		rv = ENROLL_E_INTERNAL;
		goto out;
	}
	inet_ntop(AF_INET, &res->vip4, t4, sizeof(t4));
	inet_ntop(AF_INET6, &res->vip6, t6, sizeof(t6));
	if ((rv = db_begin(sc->db)) < 0) {
		rv = ENROLL_E_INTERNAL;
		goto out;
	}
	rv = db_run(sc->db, NULL, "INSERT INTO certificates (serial, fqdn, "
	    "account, dc, vip4, vip6, key_type, not_before, not_after, der, "
	    "issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "tttttttIIbI", res->serial, res->fqdn, account, res->dc->name, t4,
	    t6, enroll_keytype_name(pub), (int64_t)info.not_before,
	    (int64_t)info.not_after, res->cert.data, (size_t)res->cert.size,
	    (int64_t)now);
	if (rv == -EPERM) {
		db_rollback(sc->db);
		log_info("enroll: %s for %s: virtual IP %s or %s held by "
		    "another node", res->fqdn, req->peer, t4, t6);
		rv = ENROLL_E_VIP_IN_USE;
		goto out;
	}
	if (rv < 0 || (rv = status_store(sc->db, res->serial, &st,
	    &res->status)) < 0 || (rv = outbox_add(sc->db, res->dc->name,
	    OUTBOX_KIND_ISSUED, res->serial, res->cert.data, res->cert.size,
	    now, &res->notice_seq)) < 0 || (rv = db_commit(sc->db)) < 0) {
		db_rollback(sc->db);
		log_warnx("enroll: storing %s for %s: %s", res->fqdn,
		    req->peer, strerror(-rv));
		rv = ENROLL_E_INTERNAL;
		goto out;
	}
	res->issued = true;
	res->ticket.expiry = (uint64_t)info.not_after;
	log_info("enroll: issued %s serial %s (%s %s) to account %s from %s",
	    res->fqdn, res->serial, t4, t6, account, req->peer);
	rv = 0;
out:
	gnutls_x509_crt_deinit(crt);
	return rv;
}

/* The client certificate: ours, live, not revoked; fills fqdn/vips/dc. */
static int
enroll_client(const struct enroll_ctx *ctx, const struct enroll_request *req,
    time_t now, struct enroll_result *res, char *account, size_t acap)
{
	struct db *db = ctx->status->db;
	gnutls_x509_crt_t crt = NULL;
	struct cert_info info;
	gnutls_datum_t d;
	sqlite3_stmt *s = NULL;
	const void *der;
	size_t derlen;
	int rv;

	if (gnutls_x509_crt_init(&crt) < 0)
		return ENROLL_E_INTERNAL;
	d.data = req->client;
	d.size = (unsigned int)req->client_len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0 ||
	    cert_info(crt, &info) < 0) {
		rv = ENROLL_E_UNKNOWN_CERT;
		goto out;
	}
	if (info.role != CERT_ROLE_NODE) {
		log_info("enroll: %s from %s: certificate of role %s, not "
		    "ntm-node", info.fqdn, req->peer,
		    cert_role_name(info.role));
		rv = ENROLL_E_ROLE;
		goto out;
	}
	if (status_serial_hex(info.serial, info.serial_len, res->serial,
	    sizeof(res->serial)) < 0) {
		rv = ENROLL_E_UNKNOWN_CERT;
		goto out;
	}
	if ((rv = db_prepare(db, &s, "SELECT fqdn, account, dc, not_after, "
	    "der FROM certificates WHERE serial = ?", "t", res->serial)) < 0) {
		rv = ENROLL_E_INTERNAL;
		goto out;
	}
	if ((rv = db_step(s)) != DB_ROW || (der = db_col_blob(s, 4,
	    &derlen)) == NULL || derlen != req->client_len ||
	    memcmp(der, req->client, derlen) != 0) {
		log_info("enroll: %s from %s: certificate %s not issued by "
		    "this AS", info.fqdn, req->peer, res->serial);
		rv = rv < 0 ? ENROLL_E_INTERNAL : ENROLL_E_UNKNOWN_CERT;
		goto out;
	}
	snprintf(res->fqdn, sizeof(res->fqdn), "%s", db_col_text(s, 0));
	snprintf(account, acap, "%s", db_col_text(s, 1));
	if ((res->dc = enroll_dc_by_name(ctx, db_col_text(s, 2))) == NULL) {
		log_warnx("enroll: %s from %s: home DC %s is not configured",
		    res->fqdn, req->peer, db_col_text(s, 2));
		rv = ENROLL_E_ZONE;
		goto out;
	}
	if (db_col_int64(s, 3) <= (int64_t)now) {
		log_info("enroll: %s from %s: certificate %s expired",
		    res->fqdn, req->peer, res->serial);
		rv = ENROLL_E_EXPIRED;
		goto out;
	}
	res->ticket.expiry = (uint64_t)db_col_int64(s, 3);
	if ((rv = status_is_revoked(db, res->serial)) != 0) {
		if (rv > 0)
			log_info("enroll: %s from %s: certificate %s revoked",
			    res->fqdn, req->peer, res->serial);
		rv = rv > 0 ? ENROLL_E_REVOKED : ENROLL_E_INTERNAL;
		goto out;
	}
	if (!info.has_vip4 || !info.has_vip6) {
		rv = ENROLL_E_UNKNOWN_CERT;
		goto out;
	}
	res->vip4 = info.vip4;
	res->vip6 = info.vip6;
	memcpy(res->ticket.serial, info.serial, info.serial_len);
	res->ticket.serial_len = info.serial_len;
	rv = 0;
out:
	db_finalize(s);
	gnutls_x509_crt_deinit(crt);
	return rv;
}

static int
enroll_ticket(const struct enroll_ctx *ctx, time_t now,
    struct enroll_result *res)
{
	uint64_t lifetime = ctx->ticket_lifetime ? ctx->ticket_lifetime :
	    PROTO_TIMER_TICKET_S;
	struct enroll_ticket *t = &res->ticket;
	int rv;

	if (ctx->seal == NULL)
		return ENROLL_E_TICKET;
	if (rng_bytes(ctx->rng, t->id, sizeof(t->id)) < 0 ||
	    rng_bytes(ctx->rng, t->key, sizeof(t->key)) < 0)
		return ENROLL_E_INTERNAL;
	if ((uint64_t)now + lifetime < t->expiry)
		t->expiry = (uint64_t)now + lifetime;
	t->fqdn = res->fqdn;
	t->has_vip4 = res->has_vip4 = true;
	t->has_vip6 = res->has_vip6 = true;
	t->vip4 = res->vip4;
	t->vip6 = res->vip6;
	rv = ctx->seal(res->dc, t, ctx->rng, res->sealed, sizeof(res->sealed),
	    &res->sealed_len);
	t->fqdn = NULL;
	if (rv < 0) {
		log_warnx("enroll: %s: no ticket for DC %s: %s", res->fqdn,
		    res->dc->name, strerror(rv > -4096 ? -rv : EINVAL));
		return ENROLL_E_TICKET;
	}
	return 0;
}

/* ENROLL: the CSR, the account's ownership of its name, the home DC. */
static int
enroll_home(const struct enroll_ctx *ctx, const struct enroll_request *req,
    char *fqdn, size_t cap, const struct enroll_dc **dc,
    gnutls_pubkey_t *pub)
{
	int rv;

	if ((rv = enroll_csr(req, NULL, fqdn, cap, pub)) < 0) {
		log_info("enroll: account %s from %s: CSR refused: %s",
		    req->account, req->peer, cert_strerror(rv));
		return ENROLL_E_CSR;
	}
	if ((rv = account_owns_fqdn(ctx->status->db, req->account,
	    fqdn)) != 1) {
		log_info("enroll: account %s from %s: does not own %s",
		    req->account, req->peer, fqdn);
		return rv < 0 && rv != -EINVAL ? ENROLL_E_INTERNAL :
		    ENROLL_E_NOT_OWNED;
	}
	if ((*dc = enroll_dc_by_zone(ctx, fqdn)) == NULL) {
		log_info("enroll: account %s from %s: no DC serves %s",
		    req->account, req->peer, fqdn);
		return ENROLL_E_ZONE;
	}
	return 0;
}

int
enroll_prepare(const struct enroll_ctx *ctx, const struct enroll_request *req,
    char *fqdn, size_t cap, const struct enroll_dc **dc)
{
	gnutls_pubkey_t pub = NULL;
	int rv;

	if (req->kind != ENROLL_KIND_ENROLL)
		return ENROLL_E_MALFORMED;
	rv = enroll_home(ctx, req, fqdn, cap, dc, &pub);
	gnutls_pubkey_deinit(pub);
	return rv;
}

/*
 * After a renewal: the certificate it replaces is revoked (superseded),
 * its status and notice go out as for any revocation.  The new one is
 * issued already, so a failure here is logged, not refused.
 */
static void
enroll_supersede(const struct enroll_ctx *ctx, const char *old,
    const struct enroll_result *res, time_t now)
{
	int rv;

	if ((rv = status_revoke(ctx->status, old, OCSP_REASON_SUPERSEDED, now,
	    NULL)) < 0 && rv != -EALREADY)
		log_warnx("enroll: renewal of %s: certificate %s not revoked: "
		    "%s", res->fqdn, old, strerror(-rv));
	else if (rv == 0)
		log_info("enroll: renewal of %s: certificate %s superseded by "
		    "%s", res->fqdn, old, res->serial);
}

int
enroll_issue(const struct enroll_ctx *ctx, const struct enroll_request *req,
    time_t now, struct enroll_result *res)
{
	char old[sizeof(res->serial)];
	const struct status_ctx *sc = ctx->status;
	char account[ENROLL_LIMIT_KEY_MAX + 1];
	gnutls_pubkey_t pub = NULL;
	int rv;

	memset(res, 0, sizeof(*res));
	snprintf(account, sizeof(account), "%s", req->account);
	switch (req->kind) {
	case ENROLL_KIND_ENROLL:
		if ((rv = enroll_home(ctx, req, res->fqdn, sizeof(res->fqdn),
		    &res->dc, &pub)) < 0)
			goto out;
		if (req->vip_given) {
			if ((rv = enroll_vip_given(ctx, res->dc, req,
			    res->fqdn, now)) < 0)
				goto out;
			res->vip4 = req->vip4;
			res->vip6 = req->vip6;
		} else if ((rv = enroll_vip_pick(ctx, res->dc, res->fqdn, now,
		    &res->vip4, &res->vip6)) < 0) {
			log_info("enroll: account %s from %s: no address for "
			    "%s: %s", req->account, req->peer, res->fqdn,
			    enroll_strerror(rv));
			goto out;
		}
		if ((rv = enroll_make_cert(ctx, req, account, pub, now,
		    res)) < 0)
			goto out;
		break;
	case ENROLL_KIND_AUTH:
		if ((rv = enroll_client(ctx, req, now, res, account,
		    sizeof(account))) < 0)
			goto out;
		if ((res->cert.data = gnutls_malloc(req->client_len)) == NULL) {
			rv = ENROLL_E_INTERNAL;
			goto out;
		}
		memcpy(res->cert.data, req->client, req->client_len);
		res->cert.size = (unsigned int)req->client_len;
		if ((rv = enroll_fresh_status(ctx, res->serial, res->dc->name,
		    now, &res->status)) < 0) {
			rv = ENROLL_E_INTERNAL;
			goto out;
		}
		log_info("enroll: authenticated %s serial %s from %s",
		    res->fqdn, res->serial, req->peer);
		break;
	case ENROLL_KIND_RENEW:
		if ((rv = enroll_client(ctx, req, now, res, account,
		    sizeof(account))) < 0)
			goto out;
		if ((rv = enroll_csr(req, res->fqdn, res->fqdn,
		    sizeof(res->fqdn), &pub)) < 0) {
			log_info("enroll: renewal of %s from %s: CSR refused: "
			    "%s", res->fqdn, req->peer, cert_strerror(rv));
			rv = ENROLL_E_CSR;
			goto out;
		}
		if (!enroll_in_prefix(&res->dc->prefix4, AF_INET, &res->vip4) ||
		    !enroll_in_prefix(&res->dc->prefix6, AF_INET6,
		    &res->vip6)) {
			log_info("enroll: renewal of %s from %s: its virtual "
			    "IPs are outside DC %s's prefixes", res->fqdn,
			    req->peer, res->dc->name);
			rv = ENROLL_E_VIP_OUTSIDE;
			goto out;
		}
		snprintf(old, sizeof(old), "%s", res->serial);
		if ((rv = enroll_make_cert(ctx, req, account, pub, now,
		    res)) < 0)
			goto out;
		enroll_supersede(ctx, old, res, now);
		break;
	default:
		rv = ENROLL_E_MALFORMED;
		goto out;
	}
	if (gnutls_x509_crt_export2(sc->issuer, GNUTLS_X509_FMT_DER,
	    &res->ca) < 0) {
		rv = ENROLL_E_INTERNAL;
		goto out;
	}
	rv = enroll_ticket(ctx, now, res);
out:
	gnutls_pubkey_deinit(pub);
	if (rv < 0) {
		/* A certificate issued before a later failure stays issued. */
		enroll_result_clear(res);
	}
	return rv;
}

/* Answers */

int
enroll_answer_encode(const struct enroll_result *res, uint32_t txid,
    uint8_t *out, size_t cap, size_t *outlen)
{
	struct msg *m;
	size_t i;
	int rv = 0;

	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	msg_init(m, PROTO_MSG_AUTH_RESPONSE);
	m->hdr.txid = txid;
	rv |= msg_add_bytes(m, PROTO_ATTR_CERT, res->cert.data,
	    res->cert.size);
	rv |= msg_add_bytes(m, PROTO_ATTR_CERT, res->ca.data, res->ca.size);
	rv |= msg_add_bytes(m, PROTO_ATTR_STATUS, res->status.data,
	    res->status.size);
	rv |= msg_add_bytes(m, PROTO_ATTR_TICKET, res->sealed,
	    res->sealed_len);
	rv |= msg_add_bytes(m, PROTO_ATTR_TICKET_ID, res->ticket.id,
	    sizeof(res->ticket.id));
	rv |= msg_add_bytes(m, PROTO_ATTR_TICKET_KEY, res->ticket.key,
	    sizeof(res->ticket.key));
	rv |= msg_add_u64(m, PROTO_ATTR_EXPIRY, res->ticket.expiry);
	for (i = 0; i < res->dc->naddrs; i++)
		rv |= msg_add_addr(m, PROTO_ATTR_DC_ADDR, &res->dc->addrs[i]);
	rv |= msg_add_bytes(m, PROTO_ATTR_FQDN, res->fqdn, strlen(res->fqdn));
	rv |= msg_add_bytes(m, PROTO_ATTR_ZONE, res->dc->zone,
	    strlen(res->dc->zone));
	if (res->has_vip4)
		rv |= msg_add_bytes(m, PROTO_ATTR_VIP4, &res->vip4, 4);
	if (res->has_vip6)
		rv |= msg_add_bytes(m, PROTO_ATTR_VIP6, &res->vip6, 16);
	if (rv == 0)
		rv = msg_encode(m, out, cap, outlen);
	else
		rv = -E2BIG;
	gnutls_memset(m, 0, sizeof(*m));
	free(m);
	return rv;
}

int
enroll_refusal_encode(int err, uint32_t txid, uint32_t retry_ms,
    uint8_t *out, size_t cap, size_t *outlen)
{
	const char *text = enroll_strerror(err);
	struct msg *m;
	int rv = 0;

	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	msg_init(m, PROTO_MSG_AUTH_RESPONSE);
	m->hdr.txid = txid;
	m->hdr.status = (uint8_t)enroll_status(err);
	rv |= msg_add_bytes(m, PROTO_ATTR_ERROR_TEXT, text, strlen(text));
	if (retry_ms != 0)
		rv |= msg_add_u32(m, PROTO_ATTR_RETRY_AFTER, retry_ms);
	rv = rv == 0 ? msg_encode(m, out, cap, outlen) : -E2BIG;
	free(m);
	return rv;
}

/* Rate limits */

int
enroll_limiter_init(struct enroll_limiter *l, size_t nslots, uint32_t burst,
    uint32_t per_min, struct ntm_rng *rng)
{
	memset(l, 0, sizeof(*l));
	if (nslots == 0)
		nslots = ENROLL_LIMIT_SLOTS_DEFAULT;
	if (burst == 0 || per_min == 0)
		return -EINVAL;
	if ((l->slot = calloc(nslots, sizeof(*l->slot))) == NULL)
		return -ENOMEM;
	l->nslots = nslots;
	l->burst = burst;
	l->per_min = per_min;
	return rng_bytes(rng, l->secret, sizeof(l->secret));
}

void
enroll_limiter_free(struct enroll_limiter *l)
{
	if (l == NULL)
		return;
	free(l->slot);
	memset(l, 0, sizeof(*l));
}

/*
 * Refills b at now_ms.  Only the time turned into whole milli-tokens is
 * consumed, so frequent calls never round the refill away.
 */
static void
enroll_limit_refill(const struct enroll_limiter *l, struct enroll_bucket *b,
    uint64_t now_ms)
{
	uint64_t full = (uint64_t)l->burst * 1000, gained;

	if (now_ms <= b->last_ms)
		return;
	gained = (now_ms - b->last_ms) * l->per_min / 60;
	b->milli += gained;
	b->last_ms += gained * 60 / l->per_min;
	if (b->milli >= full) {
		b->milli = full;
		b->last_ms = now_ms;
	}
}

/* Would the bucket be full at now_ms (nothing left to remember)? */
static bool
enroll_limit_full(const struct enroll_limiter *l,
    const struct enroll_bucket *b, uint64_t now_ms)
{
	struct enroll_bucket tmp = *b;

	enroll_limit_refill(l, &tmp, now_ms);
	return tmp.milli >= (uint64_t)l->burst * 1000;
}

bool
enroll_limit_take(struct enroll_limiter *l, const char *key, uint64_t now_ms,
    uint32_t *retry_ms)
{
	uint8_t digest[32];
	struct enroll_bucket *b = NULL, *cand;
	uint64_t h, full = (uint64_t)l->burst * 1000, need;
	size_t i;

	*retry_ms = 0;
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, l->secret, sizeof(l->secret),
	    key, strlen(key), digest) < 0)
		memset(digest, 0, sizeof(digest));
	h = load_be64(digest);
	for (i = 0; i < ENROLL_LIMIT_PROBE && b == NULL; i++) {
		cand = &l->slot[(h + i) % l->nslots];
		if (strncmp(cand->key, key, ENROLL_LIMIT_KEY_MAX) == 0)
			b = cand;
	}
	for (i = 0; i < ENROLL_LIMIT_PROBE && b == NULL; i++) {
		cand = &l->slot[(h + i) % l->nslots];
		if (cand->key[0] == '\0' ||
		    enroll_limit_full(l, cand, now_ms)) {
			b = cand;
			snprintf(b->key, sizeof(b->key), "%s", key);
			b->milli = full;
			b->last_ms = now_ms;
		}
	}
	if (b == NULL)		/* table crowded: share a bucket */
		b = &l->slot[h % l->nslots];
	enroll_limit_refill(l, b, now_ms);
	if (b->milli >= 1000) {
		b->milli -= 1000;
		return true;
	}
	need = 1000 - b->milli;
	*retry_ms = (uint32_t)((need * 60 + l->per_min - 1) / l->per_min);
	if (*retry_ms == 0)
		*retry_ms = 1;
	return false;
}
