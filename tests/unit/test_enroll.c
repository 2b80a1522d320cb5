/* test_enroll.c -- unit tests for AS enrollment, authentication, renewal, status refresh, revocation and rate limits. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "account.h"
#include "buf.h"
#include "cert.h"
#include "db.h"
#include "enroll.h"
#include "msg.h"
#include "ocsp.h"
#include "outbox.h"
#include "rand.h"
#include "status.h"

#include "../testca.h"

#define NOW	((time_t)1790000000)

static const struct account_params cheap = {
	.t_cost = 1, .m_cost_kib = 1024, .lanes = 1,
};

struct fx {
	char			 dir[PATH_MAX - 64];
	char			 dbpath[PATH_MAX];
	char			 crlpath[PATH_MAX];
	struct db		*db;
	struct ntm_rng		*rng;
	struct cert_ca		 ca;
	gnutls_privkey_t	 node_key, node2_key;
	struct cert_trust	*trust;
	struct ocsp_signer	*ocsp;
	struct status_ctx	 sc;
	struct enroll_dc	 dc[2];
	struct enroll_ctx	 ctx;
	int			 seals;
	struct enroll_ticket	 last_ticket;
	char			 last_fqdn[PROTO_FQDN_MAX + 1];
};

static struct fx *the_fx;

/*
 * A test stand-in for lib/ticket's ticket_seal: records what it was asked
 * to seal and writes a recognisable blob.  It proves what enroll hands to
 * the sealer, not the sealing itself (lib/ticket's own tests do).
 */
static int
fake_seal(const struct enroll_dc *dc, const struct enroll_ticket *t,
    struct ntm_rng *rng, uint8_t *out, size_t cap, size_t *outlen)
{
	int n;

	(void)rng;
	the_fx->seals++;
	the_fx->last_ticket = *t;
	snprintf(the_fx->last_fqdn, sizeof(the_fx->last_fqdn), "%s", t->fqdn);
	n = snprintf((char *)out, cap, "TEST-TICKET %s %s", dc->name,
	    t->fqdn);
	if (n < 34)
		n = 34;
	*outlen = (size_t)n;
	return 0;
}

static void
prefix(const char *text, struct config_prefix *p)
{
	char why[128];

	assert_int_equal(config_parse_prefix(text, p, why, sizeof(why)), 0);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *alice[] = { "alice.dc1.ntm.test", "dave.dc1.ntm.test",
	    NULL };
	const char *bob[] = { "bob.dc2.ntm.test", NULL };
	const char *tmp = getenv("TMPDIR");

	assert_non_null(f);
	the_fx = f;
	snprintf(f->dir, sizeof(f->dir), "%s/test_enroll.XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->dbpath, sizeof(f->dbpath), "%s/as.db", f->dir);
	snprintf(f->crlpath, sizeof(f->crlpath), "%s/as.crl", f->dir);
	assert_int_equal(db_open(f->dbpath, &schema_as, &f->db), 0);
	f->rng = rng_seeded_new("test_enroll", 11);
	assert_int_equal(testca_make(&f->ca, NULL, f->rng, NOW - 86400), 0);
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &f->node_key), 0);
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &f->node2_key), 0);
	assert_int_equal(cert_trust_new(&f->ca.root, 1, &f->trust), 0);
	assert_int_equal(ocsp_signer_new(f->ca.as, &f->ocsp), 0);

	f->sc.db = f->db;
	f->sc.issuer = f->ca.as;
	f->sc.key = f->ca.as_key;
	f->sc.ocsp = f->ocsp;
	f->sc.crl_path = f->crlpath;

	f->dc[0].name = "dc1";
	f->dc[0].zone = "dc1.ntm.test";
	prefix("198.18.1.0/24", &f->dc[0].prefix4);
	prefix("fd6e:746d:6f62:1::/64", &f->dc[0].prefix6);
	prefix("198.18.1.0/30", &f->dc[0].pool4);	/* hosts .1, .2 */
	prefix("fd6e:746d:6f62:1::/120", &f->dc[0].pool6);
	f->dc[0].naddrs = 1;
	f->dc[0].addrs[0].family = PROTO_FAMILY_IPV4;
	f->dc[0].addrs[0].port = PROTO_PORT_DC;
	inet_pton(AF_INET, "10.0.1.1", f->dc[0].addrs[0].addr);
	f->dc[1] = f->dc[0];
	f->dc[1].name = "dc2";
	f->dc[1].zone = "dc2.ntm.test";
	prefix("198.18.2.0/24", &f->dc[1].prefix4);
	prefix("fd6e:746d:6f62:2::/64", &f->dc[1].prefix6);
	prefix("198.18.2.0/24", &f->dc[1].pool4);
	prefix("fd6e:746d:6f62:2::/112", &f->dc[1].pool6);

	f->ctx.status = &f->sc;
	f->ctx.params = &cheap;
	f->ctx.rng = f->rng;
	f->ctx.dcs = f->dc;
	f->ctx.ndcs = 2;
	f->ctx.seal = fake_seal;

	assert_int_equal(outbox_dc_add(f->db, "dc1"), 0);
	assert_int_equal(outbox_dc_add(f->db, "dc2"), 0);
	assert_int_equal(account_add(f->db, &cheap, f->rng, "alice",
	    "correct horse", alice, NOW), 0);
	assert_int_equal(account_add(f->db, &cheap, f->rng, "bob",
	    "battery staple", bob, NOW), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 16];

	db_close(f->db);
	ocsp_signer_free(f->ocsp);
	cert_trust_free(f->trust);
	cert_ca_clear(&f->ca);
	gnutls_privkey_deinit(f->node_key);
	gnutls_privkey_deinit(f->node2_key);
	rng_free(f->rng);
	unlink(f->dbpath);
	snprintf(p, sizeof(p), "%s-wal", f->dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->dbpath);
	unlink(p);
	unlink(f->crlpath);
	rmdir(f->dir);
	free(f);
	return 0;
}

enum csr_kind { CSR_PLAIN, CSR_ASK_CA, CSR_ASK_IP, CSR_BAD_SIG,
	CSR_TWO_NAMES };

/* A DER CSR for `cn` from `key`; caller frees (gnutls_free). */
static gnutls_datum_t
csr_make(gnutls_privkey_t key, const char *cn, enum csr_kind kind)
{
	gnutls_x509_crq_t crq;
	gnutls_pubkey_t pub;
	gnutls_datum_t der;
	uint8_t ip[4] = { 198, 18, 1, 99 };
	const char *other = "bob.dc2.ntm.test";

	assert_int_equal(gnutls_x509_crq_init(&crq), 0);
	assert_int_equal(gnutls_x509_crq_set_dn_by_oid(crq,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned int)strlen(cn)), 0);
	assert_int_equal(gnutls_x509_crq_set_subject_alt_name(crq,
	    GNUTLS_SAN_DNSNAME, cn, (unsigned int)strlen(cn),
	    GNUTLS_FSAN_APPEND), 0);
	if (kind == CSR_TWO_NAMES)
		assert_int_equal(gnutls_x509_crq_set_subject_alt_name(crq,
		    GNUTLS_SAN_DNSNAME, other, (unsigned int)strlen(other),
		    GNUTLS_FSAN_APPEND), 0);
	if (kind == CSR_ASK_IP)
		assert_int_equal(gnutls_x509_crq_set_subject_alt_name(crq,
		    GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND), 0);
	if (kind == CSR_ASK_CA)
		assert_int_equal(gnutls_x509_crq_set_basic_constraints(crq, 1,
		    -1), 0);
	assert_int_equal(cert_pubkey_of(key, &pub), 0);
	assert_int_equal(gnutls_x509_crq_set_pubkey(crq, pub), 0);
	assert_int_equal(gnutls_x509_crq_privkey_sign(crq, key,
	    GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER,
	    &der), 0);
	if (kind == CSR_BAD_SIG)
		der.data[der.size - 3] ^= 0x5a;	/* inside the signature */
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crq_deinit(crq);
	return der;
}

/* Encodes a request frame into out; returns its length. */
static size_t
frame(uint8_t type, const char *account, const char *password,
    const gnutls_datum_t *csr, uint8_t *out, size_t cap)
{
	struct msg m;
	size_t len;

	msg_init(&m, type);
	m.hdr.txid = 0x1234;
	if (account != NULL)
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_ACCOUNT, account,
		    strlen(account)), 0);
	if (password != NULL)
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PASSWORD,
		    password, strlen(password)), 0);
	if (csr != NULL)
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CSR, csr->data,
		    csr->size), 0);
	assert_int_equal(msg_encode(&m, out, cap, &len), 0);
	return len;
}

/* Parse + password + issue for an ENROLL; returns the refusal or 0. */
static int
do_enroll(struct fx *f, const char *account, const char *password,
    gnutls_privkey_t key, const char *cn, enum csr_kind kind, time_t now,
    struct enroll_result *res)
{
	static uint8_t buf[8192];
	struct enroll_request req;
	gnutls_datum_t csr = csr_make(key, cn, kind);
	size_t len;
	int rv;

	len = frame(PROTO_MSG_ENROLL_REQUEST, account, password, &csr, buf,
	    sizeof(buf));
	gnutls_free(csr.data);
	assert_int_equal(enroll_parse(buf, len, NULL, "192.0.2.7:40000",
	    &req), 0);
	assert_int_equal(req.kind, ENROLL_KIND_ENROLL);
	assert_int_equal(req.txid, 0x1234);
	if ((rv = enroll_check_password(&f->ctx, &req)) == 0)
		rv = enroll_issue(&f->ctx, &req, now, res);
	enroll_request_clear(&req);
	return rv;
}

/*
 * ENROLL as the daemon runs it with vip_source = dc: enroll_prepare()
 * names the home DC, then enroll_issue() with the DC's answer.
 */
static int
do_enroll_given(struct fx *f, const char *cn, const char *v4,
    const char *v6, time_t now, struct enroll_result *res)
{
	static uint8_t buf[8192];
	const struct enroll_dc *dc = NULL;
	char fqdn[PROTO_FQDN_MAX + 1];
	struct enroll_request req;
	gnutls_datum_t csr = csr_make(f->node_key, cn, CSR_PLAIN);
	size_t len;
	int rv;

	len = frame(PROTO_MSG_ENROLL_REQUEST, "alice", "correct horse", &csr,
	    buf, sizeof(buf));
	gnutls_free(csr.data);
	assert_int_equal(enroll_parse(buf, len, NULL, "192.0.2.7:40000",
	    &req), 0);
	assert_int_equal(enroll_check_password(&f->ctx, &req), 0);
	if ((rv = enroll_prepare(&f->ctx, &req, fqdn, sizeof(fqdn),
	    &dc)) == 0) {
		assert_string_equal(fqdn, cn);
		assert_string_equal(dc->name, "dc1");
		req.vip_given = true;
		assert_int_equal(inet_pton(AF_INET, v4, &req.vip4), 1);
		assert_int_equal(inet_pton(AF_INET6, v6, &req.vip6), 1);
		rv = enroll_issue(&f->ctx, &req, now, res);
	}
	enroll_request_clear(&req);
	return rv;
}

/* AUTH or RENEW with `client` as the TLS client certificate. */
static int
do_client(struct fx *f, uint8_t type, gnutls_x509_crt_t client,
    gnutls_privkey_t key, const char *cn, time_t now,
    struct enroll_result *res)
{
	static uint8_t buf[8192];
	struct enroll_request req;
	gnutls_datum_t csr = { NULL, 0 };
	size_t len;
	int rv;

	if (type == PROTO_MSG_RENEW_REQUEST)
		csr = csr_make(key, cn, CSR_PLAIN);
	len = frame(type, NULL, NULL, csr.data ? &csr : NULL, buf,
	    sizeof(buf));
	gnutls_free(csr.data);
	if ((rv = enroll_parse(buf, len, client, "192.0.2.8:40001",
	    &req)) < 0)
		return rv;
	rv = enroll_issue(&f->ctx, &req, now, res);
	enroll_request_clear(&req);
	return rv;
}

static gnutls_x509_crt_t
crt_of(const gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER),
	    0);
	return crt;
}

static int64_t
count(struct fx *f, const char *sql)
{
	int64_t n = -1;

	assert_int_equal(db_query_int64(f->db, &n, sql, NULL), DB_ROW);
	return n;
}

static void
test_enroll_issues_node_certificate(void **state)
{
	struct fx *f = *state;
	struct enroll_result res;
	struct cert_expect exp;
	struct ocsp_result orr;
	struct in_addr v4;
	struct in6_addr v6;
	gnutls_x509_crt_t crt;
	struct cert_info info;
	uint8_t out[ENROLL_ANSWER_MAX];
	struct msg m;
	size_t len;

	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node_key,
	    "alice.dc1.ntm.test", CSR_PLAIN, NOW, &res), 0);
	assert_true(res.issued);
	assert_string_equal(res.fqdn, "alice.dc1.ntm.test");
	assert_string_equal(res.dc->name, "dc1");
	inet_pton(AF_INET, "198.18.1.1", &v4);
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::1", &v6);
	assert_memory_equal(&res.vip4, &v4, 4);
	assert_memory_equal(&res.vip6, &v6, 16);

	crt = crt_of(&res.cert);
	memset(&exp, 0, sizeof(exp));
	exp.role = CERT_ROLE_NODE;
	exp.fqdn = "alice.dc1.ntm.test";
	exp.vip4 = &v4;
	exp.vip6 = &v6;
	assert_int_equal(cert_verify(f->trust, crt, f->ca.as, &exp, NOW), 0);
	assert_int_equal(cert_info(crt, &info), 0);
	assert_int_equal(info.serial_len, CERT_SERIAL_LEN);
	assert_int_equal(info.not_after - NOW, ENROLL_LIFETIME_DEFAULT);
	assert_int_equal(info.nip, 2);
	assert_int_equal(info.ndns, 1);
	assert_false(info.is_ca);
	assert_int_equal(ocsp_verify(&res.status, f->ca.as, crt, NOW, 0, &orr),
	    0);
	assert_int_equal(orr.next_update - orr.this_update,
	    STATUS_VALIDITY_DEFAULT);

	/* The ticket was made for dc1 with the certified identity. */
	assert_int_equal(f->seals, 1);
	assert_string_equal(f->last_fqdn, "alice.dc1.ntm.test");
	assert_memory_equal(&f->last_ticket.vip4, &v4, 4);
	assert_memory_equal(f->last_ticket.serial, info.serial,
	    info.serial_len);
	assert_int_equal(f->last_ticket.expiry, NOW + PROTO_TIMER_TICKET_S);

	/* Stored, status kept, one ISSUED notice for dc1 alone. */
	assert_int_equal(count(f, "SELECT count(*) FROM certificates"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM status_responses"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM notice_outbox WHERE "
	    "dc = 'dc1' AND kind = 'issued'"), 1);
	assert_true(res.notice_seq > 0);

	/* The answer is a valid AUTH_RESPONSE carrying all of it. */
	assert_int_equal(enroll_answer_encode(&res, 77, out, sizeof(out),
	    &len), 0);
	assert_int_equal(msg_decode(out, len, &m), 0);
	assert_int_equal(m.hdr.type, PROTO_MSG_AUTH_RESPONSE);
	assert_int_equal(m.hdr.status, PROTO_STATUS_OK);
	assert_int_equal(m.hdr.txid, 77);
	assert_int_equal(msg_attr_find(&m, PROTO_ATTR_CERT)->len,
	    res.cert.size);
	assert_non_null(msg_attr_next(&m, PROTO_ATTR_CERT,
	    msg_attr_find(&m, PROTO_ATTR_CERT)));
	assert_memory_equal(msg_attr_find(&m, PROTO_ATTR_VIP4)->val, &v4, 4);
	assert_memory_equal(msg_attr_find(&m, PROTO_ATTR_ZONE)->val,
	    "dc1.ntm.test", 12);
	assert_non_null(msg_attr_find(&m, PROTO_ATTR_DC_ADDR));
	assert_memory_equal(msg_attr_find(&m, PROTO_ATTR_TICKET_KEY)->val,
	    f->last_ticket.key, PROTO_KEY_LEN);
	gnutls_x509_crt_deinit(crt);
	enroll_result_clear(&res);
}

/*
 * Addresses from the home DC: taken when inside its prefixes and free,
 * refused when outside or held by another node's live certificate; a
 * name the account does not own never gets as far as asking the DC.
 */
static void
test_enroll_vip_from_dc(void **state)
{
	struct fx *f = *state;
	struct enroll_result res;
	const struct enroll_dc *dc;
	struct enroll_request req;
	struct in_addr v4;
	char fqdn[PROTO_FQDN_MAX + 1];

	assert_int_equal(do_enroll_given(f, "alice.dc1.ntm.test",
	    "198.18.2.7", "fd6e:746d:6f62:1::7", NOW, &res),
	    ENROLL_E_VIP_OUTSIDE);
	assert_int_equal(do_enroll_given(f, "alice.dc1.ntm.test",
	    "198.18.1.7", "fd6e:746d:6f62:2::7", NOW, &res),
	    ENROLL_E_VIP_OUTSIDE);
	assert_int_equal(count(f, "SELECT count(*) FROM certificates"), 0);
	/* Outside the AS's pool (.1, .2) but inside the prefix: fine. */
	assert_int_equal(do_enroll_given(f, "alice.dc1.ntm.test",
	    "198.18.1.77", "fd6e:746d:6f62:1::77", NOW, &res), 0);
	inet_pton(AF_INET, "198.18.1.77", &v4);
	assert_memory_equal(&res.vip4, &v4, 4);
	assert_int_equal(count(f, "SELECT count(*) FROM certificates WHERE "
	    "vip4 = '198.18.1.77' AND vip6 = 'fd6e:746d:6f62:1::77'"), 1);
	enroll_result_clear(&res);
	/* dave may not have alice's live addresses, whatever the DC says. */
	assert_int_equal(do_enroll_given(f, "dave.dc1.ntm.test",
	    "198.18.1.78", "fd6e:746d:6f62:1::77", NOW, &res),
	    ENROLL_E_VIP_IN_USE);
	assert_int_equal(enroll_status(ENROLL_E_VIP_IN_USE),
	    PROTO_STATUS_ADDRESS_IN_USE);
	assert_int_equal(enroll_status(ENROLL_E_DC_UNAVAILABLE),
	    PROTO_STATUS_UNAVAILABLE);

	/* enroll_prepare refuses what enroll_issue would. */
	memset(&req, 0, sizeof(req));
	req.kind = ENROLL_KIND_AUTH;
	assert_int_equal(enroll_prepare(&f->ctx, &req, fqdn, sizeof(fqdn),
	    &dc), ENROLL_E_MALFORMED);
	assert_int_equal(do_enroll_given(f, "bob.dc2.ntm.test",
	    "198.18.2.7", "fd6e:746d:6f62:2::7", NOW, &res),
	    ENROLL_E_NOT_OWNED);
}

static void
test_enroll_refusals(void **state)
{
	struct fx *f = *state;
	struct enroll_result res;
	uint8_t out[512];
	struct msg m;
	size_t len;
	int rv;

	rv = do_enroll(f, "alice", "wrong horse", f->node_key,
	    "alice.dc1.ntm.test", CSR_PLAIN, NOW, &res);
	assert_int_equal(rv, ENROLL_E_AUTH);
	assert_int_equal(enroll_status(rv), PROTO_STATUS_AUTH_FAILED);
	assert_int_equal(do_enroll(f, "mallory", "correct horse",
	    f->node_key, "alice.dc1.ntm.test", CSR_PLAIN, NOW, &res),
	    ENROLL_E_AUTH);
	rv = do_enroll(f, "alice", "correct horse", f->node_key,
	    "bob.dc2.ntm.test", CSR_PLAIN, NOW, &res);
	assert_int_equal(rv, ENROLL_E_NOT_OWNED);
	assert_int_equal(enroll_status(rv), PROTO_STATUS_REFUSED_POLICY);
	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node_key,
	    "alice.dc1.ntm.test", CSR_ASK_CA, NOW, &res), ENROLL_E_CSR);
	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node_key,
	    "alice.dc1.ntm.test", CSR_ASK_IP, NOW, &res), ENROLL_E_CSR);
	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node_key,
	    "alice.dc1.ntm.test", CSR_BAD_SIG, NOW, &res), ENROLL_E_CSR);
	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node_key,
	    "alice.dc1.ntm.test", CSR_TWO_NAMES, NOW, &res), ENROLL_E_CSR);
	assert_int_equal(account_set_disabled(f->db, "alice", true), 0);
	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node_key,
	    "alice.dc1.ntm.test", CSR_PLAIN, NOW, &res), ENROLL_E_DISABLED);
	/* Nothing was issued and nothing queued. */
	assert_int_equal(count(f, "SELECT count(*) FROM certificates"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM notice_outbox"), 0);
	assert_int_equal(f->seals, 0);

	/* The refusal on the wire: its status, text and retry time. */
	assert_int_equal(enroll_refusal_encode(ENROLL_E_RATE_SOURCE, 9, 1500,
	    out, sizeof(out), &len), 0);
	assert_int_equal(msg_decode(out, len, &m), 0);
	assert_int_equal(m.hdr.status, PROTO_STATUS_RATE_LIMITED);
	assert_int_equal(m.hdr.txid, 9);
	{
		uint32_t retry;

		assert_int_equal(msg_attr_u32(&m, PROTO_ATTR_RETRY_AFTER,
		    &retry), 0);
		assert_int_equal(retry, 1500);
	}
	assert_null(msg_attr_find(&m, PROTO_ATTR_CERT));
}

static void
test_enroll_vips(void **state)
{
	struct fx *f = *state;
	struct enroll_result a, d, again, x;
	char t4[INET_ADDRSTRLEN];

	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node_key,
	    "alice.dc1.ntm.test", CSR_PLAIN, NOW, &a), 0);
	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node2_key,
	    "dave.dc1.ntm.test", CSR_PLAIN, NOW, &d), 0);
	inet_ntop(AF_INET, &d.vip4, t4, sizeof(t4));
	assert_string_equal(t4, "198.18.1.2");
	/* Re-enrolling keeps the node's addresses (stable vIPs). */
	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node_key,
	    "alice.dc1.ntm.test", CSR_PLAIN, NOW + 10, &again), 0);
	assert_memory_equal(&again.vip4, &a.vip4, 4);
	assert_memory_equal(&again.vip6, &a.vip6, 16);
	assert_string_not_equal(again.serial, a.serial);
	/* The /30 pool has two hosts: a third node finds none. */
	assert_int_equal(account_add_fqdn(f->db, "alice",
	    "erin.dc1.ntm.test"), 0);
	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node2_key,
	    "erin.dc1.ntm.test", CSR_PLAIN, NOW, &x), ENROLL_E_POOL_EMPTY);
	/* Once dave's certificate is revoked, its addresses are free. */
	assert_int_equal(status_revoke(&f->sc, d.serial,
	    OCSP_REASON_CESSATION_OF_OPERATION, NOW + 20, NULL), 0);
	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node2_key,
	    "erin.dc1.ntm.test", CSR_PLAIN, NOW + 30, &x), 0);
	assert_memory_equal(&x.vip4, &d.vip4, 4);
	/* ...and a second node can never be certified for them. */
	assert_int_equal(db_run(f->db, NULL, "INSERT INTO certificates "
	    "SELECT '0123456789abcdef0123456789abcdef', 'zed.dc1.ntm.test', "
	    "account, dc, vip4, vip6, key_type, not_before, not_after, der, "
	    "? FROM certificates WHERE serial = ?", "It", (int64_t)NOW + 40,
	    x.serial), -EPERM);
	enroll_result_clear(&a);
	enroll_result_clear(&d);
	enroll_result_clear(&again);
	enroll_result_clear(&x);
}

static void
test_auth_and_renew(void **state)
{
	struct fx *f = *state;
	struct enroll_result e, a, r;
	struct cert_issuer iss = { f->ca.as, f->ca.as_key };
	struct cert_request cr;
	gnutls_x509_crt_t crt, stranger, dc, renewed;
	gnutls_pubkey_t pub;
	struct cert_info info;
	const char *zones[] = { "dc1.ntm.test" };

	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node_key,
	    "alice.dc1.ntm.test", CSR_PLAIN, NOW, &e), 0);
	crt = crt_of(&e.cert);

	/* AUTH: the same certificate, its status, a new ticket. */
	assert_int_equal(do_client(f, PROTO_MSG_AUTH_REQUEST, crt, NULL, NULL,
	    NOW + 60, &a), 0);
	assert_false(a.issued);
	assert_int_equal(a.cert.size, e.cert.size);
	assert_memory_equal(a.cert.data, e.cert.data, e.cert.size);
	assert_int_equal(f->seals, 2);
	assert_memory_not_equal(a.ticket.key, e.ticket.key, PROTO_KEY_LEN);
	/* Past its half-life the status is signed afresh and announced. */
	enroll_result_clear(&a);
	assert_int_equal(do_client(f, PROTO_MSG_AUTH_REQUEST, crt, NULL, NULL,
	    NOW + STATUS_VALIDITY_DEFAULT, &a), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM notice_outbox WHERE "
	    "kind = 'status'"), 1);
	enroll_result_clear(&a);

	/* No client certificate: refused before anything else. */
	assert_int_equal(do_client(f, PROTO_MSG_AUTH_REQUEST, NULL, NULL,
	    NULL, NOW, &a), ENROLL_E_NO_CERT);

	/* A node certificate of this CA that the AS never recorded. */
	assert_int_equal(cert_pubkey_of(f->node2_key, &pub), 0);
	memset(&cr, 0, sizeof(cr));
	cr.role = CERT_ROLE_NODE;
	cr.fqdn = "dave.dc1.ntm.test";
	cr.has_vip4 = true;
	inet_pton(AF_INET, "198.18.1.2", &cr.vip4);
	cr.pubkey = pub;
	assert_int_equal(cert_issue(&cr, &iss, f->rng, NOW, &stranger), 0);
	assert_int_equal(do_client(f, PROTO_MSG_AUTH_REQUEST, stranger, NULL,
	    NULL, NOW, &a), ENROLL_E_UNKNOWN_CERT);
	/* A DC certificate where a node is expected. */
	memset(&cr, 0, sizeof(cr));
	cr.role = CERT_ROLE_DC;
	cr.fqdn = "dc1.ntm.test";
	cr.zones = zones;
	cr.nzones = 1;
	cr.pubkey = pub;
	assert_int_equal(cert_issue(&cr, &iss, f->rng, NOW, &dc), 0);
	assert_int_equal(do_client(f, PROTO_MSG_AUTH_REQUEST, dc, NULL, NULL,
	    NOW, &a), ENROLL_E_ROLE);
	gnutls_pubkey_deinit(pub);

	/* RENEW: a new certificate, same name and addresses, new key. */
	assert_int_equal(do_client(f, PROTO_MSG_RENEW_REQUEST, crt,
	    f->node2_key, "alice.dc1.ntm.test", NOW + 86400, &r), 0);
	assert_true(r.issued);
	assert_string_not_equal(r.serial, e.serial);
	renewed = crt_of(&r.cert);
	assert_int_equal(cert_info(renewed, &info), 0);
	assert_string_equal(info.fqdn, "alice.dc1.ntm.test");
	assert_memory_equal(&info.vip4, &e.vip4, 4);
	assert_memory_equal(&info.vip6, &e.vip6, 16);
	assert_int_equal(info.not_before, NOW + 86400 - CERT_BACKDATE);
	/*
	 * The replaced certificate is revoked (superseded) with its
	 * "revoked" status and a notice to every DC; it no longer
	 * authenticates or renews.
	 */
	assert_int_equal(count(f, "SELECT count(*) FROM revocations WHERE "
	    "reason = 4"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM notice_outbox WHERE "
	    "kind = 'revoked' AND dc = '*'"), 1);
	assert_int_equal(status_is_revoked(f->db, e.serial), 1);
	assert_int_equal(status_is_revoked(f->db, r.serial), 0);
	assert_int_equal(do_client(f, PROTO_MSG_AUTH_REQUEST, crt, NULL, NULL,
	    NOW + 86400 + 1, &a), ENROLL_E_REVOKED);
	assert_int_equal(do_client(f, PROTO_MSG_RENEW_REQUEST, crt,
	    f->node_key, "alice.dc1.ntm.test", NOW + 86400 + 1, &a),
	    ENROLL_E_REVOKED);
	assert_int_equal(do_client(f, PROTO_MSG_AUTH_REQUEST, renewed, NULL,
	    NULL, NOW + 86400 + 1, &a), 0);
	enroll_result_clear(&a);
	/* A renewal CSR for another name is refused. */
	assert_int_equal(do_client(f, PROTO_MSG_RENEW_REQUEST, renewed,
	    f->node2_key, "dave.dc1.ntm.test", NOW + 86400, &a), ENROLL_E_CSR);

	/* Expired, then revoked: refused with their own codes. */
	assert_int_equal(do_client(f, PROTO_MSG_AUTH_REQUEST, renewed, NULL,
	    NULL, NOW + 86400 + ENROLL_LIFETIME_DEFAULT + 1, &a),
	    ENROLL_E_EXPIRED);
	assert_int_equal(status_revoke(&f->sc, r.serial,
	    OCSP_REASON_KEY_COMPROMISE, NOW + 86400 + 100, NULL), 0);
	assert_int_equal(do_client(f, PROTO_MSG_AUTH_REQUEST, renewed, NULL,
	    NULL, NOW + 86400 + 200, &a), ENROLL_E_REVOKED);
	enroll_result_clear(&r);

	gnutls_x509_crt_deinit(renewed);
	gnutls_x509_crt_deinit(dc);
	gnutls_x509_crt_deinit(stranger);
	gnutls_x509_crt_deinit(crt);
	enroll_result_clear(&e);
}

static void
test_status_refresh_and_revoke(void **state)
{
	struct fx *f = *state;
	struct enroll_result e, b;
	struct ocsp_result orr;
	gnutls_x509_crt_t crt;
	gnutls_x509_crl_t crl;
	gnutls_datum_t der, pem;
	time_t when, tu, nu;
	uint64_t seq;

	assert_int_equal(status_next_due(f->db, NOW, &when), 0);
	assert_int_equal(do_enroll(f, "alice", "correct horse", f->node_key,
	    "alice.dc1.ntm.test", CSR_PLAIN, NOW, &e), 0);
	assert_int_equal(do_enroll(f, "bob", "battery staple", f->node2_key,
	    "bob.dc2.ntm.test", CSR_PLAIN, NOW + 60, &b), 0);
	crt = crt_of(&e.cert);

	/* Nothing to do before half-life; then alice's response only. */
	assert_int_equal(status_next_due(f->db, NOW, &when), 1);
	assert_int_equal(when, NOW + STATUS_VALIDITY_DEFAULT / 2);
	assert_int_equal(status_refresh(&f->sc, when - 1, 0), 0);
	assert_int_equal(status_refresh(&f->sc, when, 0), 1);
	assert_int_equal(status_get(f->db, e.serial, &der, &tu, &nu), 0);
	assert_int_equal(tu, when);
	assert_int_equal(ocsp_verify(&der, f->ca.as, crt, when, NOW, &orr), 0);
	gnutls_free(der.data);
	assert_int_equal(count(f, "SELECT count(*) FROM notice_outbox WHERE "
	    "kind = 'status' AND dc = 'dc1'"), 1);
	assert_int_equal(status_next_due(f->db, when, &when), 1);
	assert_int_equal(when, NOW + 60 + STATUS_VALIDITY_DEFAULT / 2);

	/* Revocation: a revoked response at once, to every DC, and a CRL. */
	assert_int_equal(status_revoke(&f->sc, e.serial,
	    OCSP_REASON_KEY_COMPROMISE, NOW + 400, &seq), 0);
	assert_true(seq > 0);
	assert_int_equal(status_revoke(&f->sc, e.serial,
	    OCSP_REASON_SUPERSEDED, NOW + 401, NULL), -EALREADY);
	assert_int_equal(status_revoke(&f->sc,
	    "00000000000000000000000000000000", OCSP_REASON_SUPERSEDED,
	    NOW + 401, NULL), -ENOENT);
	assert_int_equal(count(f, "SELECT count(*) FROM notice_outbox WHERE "
	    "kind = 'revoked' AND dc = '*'"), 1);
	assert_int_equal(status_get(f->db, e.serial, &der, NULL, NULL), 0);
	assert_int_equal(ocsp_verify(&der, f->ca.as, crt, NOW + 400, 0, &orr),
	    OCSP_E_REVOKED);
	assert_int_equal(orr.reason, OCSP_REASON_KEY_COMPROMISE);
	assert_int_equal(orr.revocation_time, NOW + 400);
	gnutls_free(der.data);
	/* A revoked certificate is never refreshed again. */
	assert_int_equal(status_refresh(&f->sc, NOW + 3600, 0), 1);

	assert_int_equal(gnutls_load_file(f->crlpath, &pem), 0);
	assert_int_equal(gnutls_x509_crl_init(&crl), 0);
	assert_int_equal(gnutls_x509_crl_import(crl, &pem,
	    GNUTLS_X509_FMT_PEM), 0);
	assert_int_equal(gnutls_x509_crl_get_crt_count(crl), 1);
	{
		unsigned int v;

		/* Dates are the injected clock's, not today's. */
		assert_int_equal(gnutls_x509_crl_verify(crl, &f->ca.as, 1,
		    GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &v), 0);
		assert_int_equal(v & ~(unsigned)(GNUTLS_CERT_INVALID |
		    GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED), 0);
	}
	gnutls_x509_crl_deinit(crl);
	gnutls_free(pem.data);

	/* By name: bob's one live certificate. */
	assert_int_equal(status_revoke_fqdn(&f->sc, "bob.dc2.ntm.test",
	    OCSP_REASON_UNSPECIFIED, NOW + 500), 1);
	assert_int_equal(status_revoke_fqdn(&f->sc, "bob.dc2.ntm.test",
	    OCSP_REASON_UNSPECIFIED, NOW + 501), 0);
	gnutls_x509_crt_deinit(crt);
	enroll_result_clear(&e);
	enroll_result_clear(&b);
}

static void
test_parse_bad_frames(void **state)
{
	struct fx *f = *state;
	struct enroll_request req;
	uint8_t buf[256], junk[64];
	size_t len;

	(void)f;
	memset(junk, 0xa5, sizeof(junk));
	assert_true(enroll_parse(junk, sizeof(junk), NULL, "p", &req) < 0);
	assert_true(enroll_parse(junk, 3, NULL, "p", &req) < 0);
	/* ENROLL without its attributes: the codec's table refuses it. */
	len = frame(PROTO_MSG_AUTH_REQUEST, NULL, NULL, NULL, buf,
	    sizeof(buf));
	buf[1] = PROTO_MSG_ENROLL_REQUEST;
	assert_int_equal(enroll_parse(buf, len, NULL, "p", &req),
	    ENROLL_E_MALFORMED);
	assert_int_equal(req.txid, 0x1234);
	/* A well-formed message that is not a request. */
	len = frame(PROTO_MSG_AUTH_REQUEST, NULL, NULL, NULL, buf,
	    sizeof(buf));
	buf[1] = PROTO_MSG_NOTICE_ACK;
	assert_true(enroll_parse(buf, len, NULL, "p", &req) < 0);
	/* AUTH without a client certificate. */
	len = frame(PROTO_MSG_AUTH_REQUEST, NULL, NULL, NULL, buf,
	    sizeof(buf));
	assert_int_equal(enroll_parse(buf, len, NULL, "p", &req),
	    ENROLL_E_NO_CERT);
	enroll_request_clear(&req);
}

static void
test_limiter(void **state)
{
	struct fx *f = *state;
	struct enroll_limiter l;
	uint32_t retry;
	char key[32];
	int i, refused = 0;

	assert_int_equal(enroll_limiter_init(&l, 64, 3, 6, f->rng), 0);
	for (i = 0; i < 3; i++)
		assert_true(enroll_limit_take(&l, "alice", 1000, &retry));
	assert_false(enroll_limit_take(&l, "alice", 1000, &retry));
	assert_int_equal(retry, 10000);		/* 6 a minute */
	assert_true(enroll_limit_take(&l, "bob", 1000, &retry));
	assert_false(enroll_limit_take(&l, "alice", 10999, &retry));
	assert_int_equal(retry, 10);		/* 1/1000 token at 6/min */
	assert_true(enroll_limit_take(&l, "alice", 11000, &retry));
	assert_false(enroll_limit_take(&l, "alice", 11000, &retry));
	/* Calls every 5 ms never round the refill away. */
	for (i = 1; i <= 2000 && !enroll_limit_take(&l, "alice",
	    11000 + 5 * (uint64_t)i, &retry); i++)
		;
	assert_int_equal(i, 2000);		/* 10 s later, one token */
	enroll_limiter_free(&l);

	/* A flood of new names cannot buy fresh buckets in a full table. */
	assert_int_equal(enroll_limiter_init(&l, 16, 1, 1, f->rng), 0);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "198.51.100.%d", i);
		if (!enroll_limit_take(&l, key, 5000, &retry))
			refused++;
	}
	assert_true(refused >= 1000 - 16);
	enroll_limiter_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_enroll_issues_node_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enroll_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enroll_vips, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enroll_vip_from_dc, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_auth_and_renew, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_refresh_and_revoke,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_bad_frames, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_limiter, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
