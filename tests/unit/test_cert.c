/* test_cert.c -- unit tests: certificate issuance, CSR checks, verification. */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cert.h"
#include "rand.h"

#include "../testca.h"

/* The injected clock: 2026-11-18. */
#define NOW	((time_t)1795000000)

struct pki {
	struct ntm_rng		*rng;
	struct cert_ca		 ca;
	gnutls_privkey_t	 node_key;
	gnutls_pubkey_t		 as_pub, node_pub;
	gnutls_x509_crt_t	 node;
	struct cert_trust	*trust;
	struct in_addr		 vip4;
	struct in6_addr		 vip6;
};

static struct pki *
pki_make(const char *seed)
{
	struct pki *p;

	p = calloc(1, sizeof(*p));
	assert_non_null(p);
	p->rng = rng_seeded_new(seed, strlen(seed));
	assert_non_null(p->rng);
	assert_int_equal(testca_make(&p->ca, NULL, p->rng, NOW - 86400), 0);
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &p->node_key), 0);
	assert_int_equal(cert_pubkey_of(p->ca.as_key, &p->as_pub), 0);
	assert_int_equal(cert_pubkey_of(p->node_key, &p->node_pub), 0);
	assert_int_equal(cert_trust_new(&p->ca.root, 1, &p->trust), 0);
	inet_pton(AF_INET, "198.18.1.10", &p->vip4);
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::10", &p->vip6);
	return p;
}

static void
pki_free(struct pki *p)
{
	cert_trust_free(p->trust);
	gnutls_x509_crt_deinit(p->node);
	gnutls_pubkey_deinit(p->node_pub);
	gnutls_pubkey_deinit(p->as_pub);
	gnutls_privkey_deinit(p->node_key);
	cert_ca_clear(&p->ca);
	rng_free(p->rng);
	free(p);
}

static void
node_request(const struct pki *p, struct cert_request *req)
{
	memset(req, 0, sizeof(*req));
	req->role = CERT_ROLE_NODE;
	req->fqdn = "alice.dc1.ntm.test";
	req->has_vip4 = true;
	req->vip4 = p->vip4;
	req->has_vip6 = true;
	req->vip6 = p->vip6;
	req->lifetime = 3600;
	req->pubkey = p->node_pub;
}

static int
group_setup(void **state)
{
	struct pki *p = pki_make("test_cert");
	struct cert_request req;
	struct cert_issuer iss = { p->ca.as, p->ca.as_key };

	node_request(p, &req);
	assert_int_equal(cert_issue(&req, &iss, p->rng, NOW, &p->node), 0);
	*state = p;
	return 0;
}

static int
group_teardown(void **state)
{
	pki_free(*state);
	return 0;
}

static void
expect_node(const struct pki *p, struct cert_expect *ex)
{
	memset(ex, 0, sizeof(*ex));
	ex->role = CERT_ROLE_NODE;
	ex->fqdn = "alice.dc1.ntm.test";
	ex->vip4 = &p->vip4;
	ex->vip6 = &p->vip6;
}

static void
test_node_cert_fields(void **state)
{
	struct pki *p = *state;
	struct cert_info info;
	uint8_t id[64];
	size_t idlen = sizeof(id);
	unsigned int ku = 0;

	assert_int_equal(cert_info(p->node, &info), 0);
	assert_int_equal(info.role, CERT_ROLE_NODE);
	assert_int_equal(info.keytype, CERT_KEY_P256);
	assert_false(info.is_ca);
	assert_string_equal(info.fqdn, "alice.dc1.ntm.test");
	assert_int_equal(info.ndns, 1);
	assert_int_equal(info.nip, 2);
	assert_memory_equal(&info.vip4, &p->vip4, 4);
	assert_memory_equal(&info.vip6, &p->vip6, 16);
	/* 16-byte positive serial. */
	assert_int_equal(info.serial_len, CERT_SERIAL_LEN);
	assert_true(info.serial[0] != 0 && (info.serial[0] & 0x80) == 0);
	assert_int_equal(info.not_before, NOW - CERT_BACKDATE);
	assert_int_equal(info.not_after, NOW + 3600);
	assert_int_equal(gnutls_x509_crt_get_version(p->node), 3);
	assert_true(gnutls_x509_crt_get_subject_key_id(p->node, id, &idlen,
	    NULL) >= 0);
	idlen = sizeof(id);
	assert_true(gnutls_x509_crt_get_authority_key_id(p->node, id, &idlen,
	    NULL) >= 0);
	assert_true(gnutls_x509_crt_get_key_usage(p->node, &ku, NULL) >= 0);
	assert_int_equal(ku, GNUTLS_KEY_DIGITAL_SIGNATURE);
}

static void
test_verify_good(void **state)
{
	struct pki *p = *state;
	struct cert_expect ex;

	expect_node(p, &ex);
	assert_int_equal(cert_verify(p->trust, p->node, p->ca.as, &ex, NOW), 0);
	/* Names compare lower-case, one trailing dot ignored. */
	ex.fqdn = "Alice.DC1.ntm.test.";
	assert_int_equal(cert_verify(p->trust, p->node, p->ca.as, &ex, NOW), 0);
}

static void
test_verify_role_mismatch(void **state)
{
	struct pki *p = *state;
	struct cert_expect ex;

	expect_node(p, &ex);
	ex.role = CERT_ROLE_DC;
	assert_int_equal(cert_verify(p->trust, p->node, p->ca.as, &ex, NOW),
	    CERT_E_ROLE);
	ex.role = CERT_ROLE_AS;
	assert_int_equal(cert_verify(p->trust, p->node, p->ca.as, &ex, NOW),
	    CERT_E_ROLE);
}

static void
test_verify_fqdn_mismatch(void **state)
{
	struct pki *p = *state;
	struct cert_expect ex;

	expect_node(p, &ex);
	ex.fqdn = "bob.dc2.ntm.test";
	assert_int_equal(cert_verify(p->trust, p->node, p->ca.as, &ex, NOW),
	    CERT_E_FQDN);
	ex.fqdn = "alice.dc1.ntm.tes";
	assert_int_equal(cert_verify(p->trust, p->node, p->ca.as, &ex, NOW),
	    CERT_E_FQDN);
}

static void
test_verify_vip_mismatch(void **state)
{
	struct pki *p = *state;
	struct cert_expect ex;
	struct in_addr other4;
	struct in6_addr other6;

	inet_pton(AF_INET, "198.18.1.11", &other4);
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::11", &other6);
	expect_node(p, &ex);
	ex.vip4 = &other4;
	assert_int_equal(cert_verify(p->trust, p->node, p->ca.as, &ex, NOW),
	    CERT_E_VIP);
	expect_node(p, &ex);
	ex.vip6 = &other6;
	assert_int_equal(cert_verify(p->trust, p->node, p->ca.as, &ex, NOW),
	    CERT_E_VIP);
}

static void
test_verify_dates(void **state)
{
	struct pki *p = *state;
	struct cert_expect ex;

	expect_node(p, &ex);
	assert_int_equal(cert_verify(p->trust, p->node, p->ca.as, &ex,
	    NOW + 3600), 0);
	assert_int_equal(cert_verify(p->trust, p->node, p->ca.as, &ex,
	    NOW + 3601), CERT_E_EXPIRED);
	assert_int_equal(cert_verify(p->trust, p->node, p->ca.as, &ex,
	    NOW - CERT_BACKDATE - 1), CERT_E_NOT_YET_VALID);
	/* The AS CA was issued a day earlier; before that it is not valid. */
	assert_int_equal(cert_verify(p->trust, p->node, p->ca.as, &ex,
	    NOW - 86400 - CERT_BACKDATE - 1), CERT_E_NOT_YET_VALID);
	assert_string_equal(cert_strerror(CERT_E_EXPIRED),
	    "certificate has expired");
}

static void
test_verify_wrong_root(void **state)
{
	struct pki *p = *state, *q = pki_make("other root");
	struct cert_expect ex;

	expect_node(p, &ex);
	/* Same names, different root: the chain does not reach it. */
	assert_int_equal(cert_verify(q->trust, p->node, p->ca.as, &ex, NOW),
	    CERT_E_CHAIN);
	/* Our node with the other deployment's AS certificate. */
	assert_int_equal(cert_verify(p->trust, p->node, q->ca.as, &ex, NOW),
	    CERT_E_CHAIN);
	/* Without the intermediate the leaf does not chain either. */
	assert_int_equal(cert_verify(p->trust, p->node, NULL, &ex, NOW),
	    CERT_E_CHAIN);
	pki_free(q);
	/* A leaf the root signed itself does not come through the AS CA. */
	{
		struct cert_issuer root_iss = { p->ca.root, p->ca.root_key };
		struct cert_request req;
		gnutls_x509_crt_t direct;

		node_request(p, &req);
		assert_int_equal(cert_issue(&req, &root_iss, p->rng, NOW,
		    &direct), 0);
		assert_int_equal(cert_verify(p->trust, direct, p->ca.as, &ex,
		    NOW), CERT_E_CHAIN);
		gnutls_x509_crt_deinit(direct);
	}
}

static void
test_name_constraints(void **state)
{
	struct pki *p = *state;
	struct cert_issuer iss = { p->ca.as, p->ca.as_key };
	struct cert_request req;
	gnutls_x509_crt_t crt = NULL;
	struct in_addr out4;

	node_request(p, &req);
	req.fqdn = "alice.example.org";
	assert_int_equal(cert_issue(&req, &iss, p->rng, NOW, &crt),
	    CERT_E_CONSTRAINTS);
	assert_null(crt);
	node_request(p, &req);
	inet_pton(AF_INET, "10.0.0.1", &out4);
	req.vip4 = out4;
	assert_int_equal(cert_issue(&req, &iss, p->rng, NOW, &crt),
	    CERT_E_CONSTRAINTS);
	/* Typed fields only: a node cannot get zones or lose its vIPs. */
	node_request(p, &req);
	req.has_vip4 = req.has_vip6 = false;
	assert_int_equal(cert_issue(&req, &iss, p->rng, NOW, &crt),
	    CERT_E_REQUEST);
	node_request(p, &req);
	req.fqdn = "bad_name.dc1.ntm.test";
	assert_int_equal(cert_issue(&req, &iss, p->rng, NOW, &crt),
	    CERT_E_REQUEST);
}

/* A certificate claiming two roles, built by hand (cert_issue cannot). */
static void
test_two_roles_refused(void **state)
{
	struct pki *p = *state;
	struct cert_expect ex;
	gnutls_x509_crt_t crt, copy;
	gnutls_datum_t der;
	uint8_t serial[1] = { 0x42 }, id[20];
	const char *fqdn = "alice.dc1.ntm.test";

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, 1), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt, NOW - 60), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, NOW + 60), 0);
	assert_int_equal(gnutls_x509_crt_set_pubkey(crt, p->node_pub), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, fqdn, (unsigned int)strlen(fqdn)),
	    0);
	assert_int_equal(gnutls_x509_crt_set_subject_alt_name(crt,
	    GNUTLS_SAN_DNSNAME, fqdn, (unsigned int)strlen(fqdn),
	    GNUTLS_FSAN_APPEND), 0);
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), 0);
	assert_int_equal(gnutls_x509_crt_set_key_purpose_oid(crt,
	    NTM_OID_ROLE_NODE, 0), 0);
	assert_int_equal(gnutls_x509_crt_set_key_purpose_oid(crt,
	    NTM_OID_ROLE_DC, 0), 0);
	assert_int_equal(cert_pubkey_hash(p->as_pub, id), 0);
	assert_int_equal(gnutls_x509_crt_set_authority_key_id(crt, id, 20), 0);
	assert_int_equal(gnutls_x509_crt_privkey_sign(crt, p->ca.as,
	    p->ca.as_key, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER,
	    &der), 0);
	assert_int_equal(gnutls_x509_crt_init(&copy), 0);
	assert_int_equal(gnutls_x509_crt_import(copy, &der,
	    GNUTLS_X509_FMT_DER), 0);
	gnutls_free(der.data);
	assert_int_equal(cert_role_of(copy), CERT_ROLE_INVALID);
	expect_node(p, &ex);
	ex.vip4 = NULL;
	ex.vip6 = NULL;
	/* GnuTLS alone accepts it for the node role ... */
	{
		gnutls_x509_trust_list_t tl;
		gnutls_x509_crt_t chain[2] = { copy, p->ca.as }, root;
		gnutls_typed_vdata_st vd = { GNUTLS_DT_KEY_PURPOSE_OID,
		    (unsigned char *)NTM_OID_ROLE_NODE, 0 };
		unsigned int status = 1;

		assert_int_equal(gnutls_x509_trust_list_init(&tl, 0), 0);
		assert_int_equal(gnutls_x509_crt_init(&root), 0);
		assert_int_equal(gnutls_x509_crt_export2(p->ca.root,
		    GNUTLS_X509_FMT_DER, &der), 0);
		assert_int_equal(gnutls_x509_crt_import(root, &der,
		    GNUTLS_X509_FMT_DER), 0);
		gnutls_free(der.data);
		assert_int_equal(gnutls_x509_trust_list_add_cas(tl, &root, 1,
		    0), 1);
		assert_int_equal(gnutls_x509_trust_list_verify_crt2(tl, chain,
		    2, &vd, 1, GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status,
		    NULL), 0);
		assert_int_equal(status, 0);
		gnutls_x509_trust_list_deinit(tl, 1);
	}
	/* ... but it does not carry exactly one role. */
	assert_int_equal(cert_verify(p->trust, copy, p->ca.as, &ex, NOW),
	    CERT_E_ROLE);
	ex.role = CERT_ROLE_DC;
	assert_int_equal(cert_verify(p->trust, copy, p->ca.as, &ex, NOW),
	    CERT_E_ROLE);
	gnutls_x509_crt_deinit(copy);
	gnutls_x509_crt_deinit(crt);
}

static void
test_dc_cert_zones(void **state)
{
	struct pki *p = *state;
	struct cert_issuer iss = { p->ca.as, p->ca.as_key };
	static const char *const zones[] = { "dc1.ntm.test",
	    "1.18.198.in-addr.arpa",
	    "1.0.0.0.2.6.f.6.d.6.4.7.e.6.d.f.ip6.arpa" };
	struct cert_request req;
	struct cert_expect ex;
	struct cert_info info;
	gnutls_x509_crt_t dc;

	memset(&req, 0, sizeof(req));
	req.role = CERT_ROLE_DC;
	req.fqdn = "ns1.dc1.ntm.test";
	req.zones = zones;
	req.nzones = 3;
	req.pubkey = p->node_pub;
	assert_int_equal(cert_issue(&req, &iss, p->rng, NOW, &dc), 0);
	assert_int_equal(cert_info(dc, &info), 0);
	assert_int_equal(info.role, CERT_ROLE_DC);
	assert_int_equal(info.ndns, 4);
	assert_true(cert_has_dns(dc, "dc1.ntm.test"));
	assert_true(cert_has_dns(dc, "1.18.198.in-addr.arpa."));
	assert_true(cert_has_dns(dc, zones[2]));
	assert_false(cert_has_dns(dc, "dc2.ntm.test"));
	memset(&ex, 0, sizeof(ex));
	ex.role = CERT_ROLE_DC;
	ex.fqdn = "dc1.ntm.test";
	assert_int_equal(cert_verify(p->trust, dc, p->ca.as, &ex, NOW), 0);
	ex.role = CERT_ROLE_NODE;
	assert_int_equal(cert_verify(p->trust, dc, p->ca.as, &ex, NOW),
	    CERT_E_ROLE);
	gnutls_x509_crt_deinit(dc);
	/* A reverse zone outside the virtual ranges is not permitted. */
	{
		static const char *const bad[] = { "1.0.10.in-addr.arpa" };

		req.zones = bad;
		req.nzones = 1;
		assert_int_equal(cert_issue(&req, &iss, p->rng, NOW, &dc),
		    CERT_E_CONSTRAINTS);
	}
}

static void
test_rsa_node(void **state)
{
	struct pki *p = *state;
	struct cert_issuer iss = { p->ca.as, p->ca.as_key };
	gnutls_privkey_t key;
	gnutls_pubkey_t pub;
	struct cert_request req;
	struct cert_expect ex;
	struct cert_info info;
	gnutls_x509_crt_t crt;
	unsigned int ku = 0;

	assert_int_equal(cert_key_generate(CERT_KEY_RSA2048, &key), 0);
	assert_int_equal(cert_pubkey_of(key, &pub), 0);
	assert_int_equal(cert_key_type(pub), CERT_KEY_RSA2048);
	node_request(p, &req);
	req.pubkey = pub;
	assert_int_equal(cert_issue(&req, &iss, p->rng, NOW, &crt), 0);
	assert_int_equal(cert_info(crt, &info), 0);
	assert_int_equal(info.keytype, CERT_KEY_RSA2048);
	assert_true(gnutls_x509_crt_get_key_usage(crt, &ku, NULL) >= 0);
	assert_int_equal(ku, GNUTLS_KEY_DIGITAL_SIGNATURE |
	    GNUTLS_KEY_KEY_ENCIPHERMENT);
	expect_node(p, &ex);
	assert_int_equal(cert_verify(p->trust, crt, p->ca.as, &ex, NOW), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(key);
}

static void
test_issue_with_external_key(void **state)
{
	struct pki *p = *state;
	struct testca_signer s = { p->ca.as_key, 0 };
	gnutls_privkey_t ext;
	struct cert_issuer iss;
	struct cert_request req;
	struct cert_expect ex;
	gnutls_x509_crt_t crt;

	assert_int_equal(testca_signer_key(&s, &ext), 0);
	iss.crt = p->ca.as;
	iss.key = ext;
	node_request(p, &req);
	assert_int_equal(cert_issue(&req, &iss, p->rng, NOW, &crt), 0);
	assert_int_equal(s.calls, 1);
	expect_node(p, &ex);
	assert_int_equal(cert_verify(p->trust, crt, p->ca.as, &ex, NOW), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_privkey_deinit(ext);
}

static void
test_serial_from_injected_rng(void **state)
{
	struct pki *p = *state;
	struct cert_issuer iss = { p->ca.as, p->ca.as_key };
	struct cert_request req;
	struct ntm_rng *a = rng_seeded_new("s", 1), *b = rng_seeded_new("s", 1);
	gnutls_x509_crt_t c1, c2, c3;
	uint8_t s1[20], s2[20], s3[20];
	size_t l1 = sizeof(s1), l2 = sizeof(s2), l3 = sizeof(s3);

	node_request(p, &req);
	assert_int_equal(cert_issue(&req, &iss, a, NOW, &c1), 0);
	assert_int_equal(cert_issue(&req, &iss, b, NOW, &c2), 0);
	assert_int_equal(cert_issue(&req, &iss, a, NOW, &c3), 0);
	assert_int_equal(gnutls_x509_crt_get_serial(c1, s1, &l1), 0);
	assert_int_equal(gnutls_x509_crt_get_serial(c2, s2, &l2), 0);
	assert_int_equal(gnutls_x509_crt_get_serial(c3, s3, &l3), 0);
	assert_int_equal(l1, 16);
	assert_int_equal(l2, 16);
	assert_memory_equal(s1, s2, 16);
	assert_memory_not_equal(s1, s3, 16);
	gnutls_x509_crt_deinit(c1);
	gnutls_x509_crt_deinit(c2);
	gnutls_x509_crt_deinit(c3);
	rng_free(a);
	rng_free(b);
}

static void
test_key_file_permissions(void **state)
{
	struct pki *p = *state;
	char dir[] = "/tmp/test_cert.XXXXXX", path[64];
	gnutls_privkey_t key;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k.pem", dir);
	assert_int_equal(cert_key_write(path, p->node_key), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(cert_key_read(path, &key), 0);
	gnutls_privkey_deinit(key);
	/* Never replaced silently. */
	assert_int_equal(cert_key_write(path, p->node_key), -EEXIST);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(cert_key_read(path, &key), CERT_E_KEY_PERMS);
	assert_null(key);
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(cert_key_read(path, &key), CERT_E_KEY_PERMS);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(cert_key_read(path, &key), 0);
	gnutls_privkey_deinit(key);
	snprintf(path, sizeof(path), "%s/missing.pem", dir);
	assert_int_equal(cert_key_read(path, &key), -ENOENT);
	unlink(path);
	snprintf(path, sizeof(path), "%s/k.pem", dir);
	unlink(path);
	rmdir(dir);
}

/* A CSR from the node key, optionally with a SAN IP or a CA request. */
static gnutls_x509_crq_t
csr_make(struct pki *p, const char *cn, bool ask_ca, bool ask_ip)
{
	gnutls_x509_crq_t crq;
	uint8_t ip[4] = { 198, 18, 1, 99 };

	assert_int_equal(gnutls_x509_crq_init(&crq), 0);
	assert_int_equal(gnutls_x509_crq_set_dn_by_oid(crq,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned int)strlen(cn)), 0);
	assert_int_equal(gnutls_x509_crq_set_subject_alt_name(crq,
	    GNUTLS_SAN_DNSNAME, cn, (unsigned int)strlen(cn),
	    GNUTLS_FSAN_APPEND), 0);
	if (ask_ip)
		assert_int_equal(gnutls_x509_crq_set_subject_alt_name(crq,
		    GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND), 0);
	if (ask_ca)
		assert_int_equal(gnutls_x509_crq_set_basic_constraints(crq, 1,
		    -1), 0);
	assert_int_equal(gnutls_x509_crq_set_pubkey(crq, p->node_pub), 0);
	assert_int_equal(gnutls_x509_crq_privkey_sign(crq, p->node_key,
	    GNUTLS_DIG_SHA256, 0), 0);
	return crq;
}

static void
test_csr_checks(void **state)
{
	struct pki *p = *state;
	gnutls_x509_crq_t crq;
	gnutls_pubkey_t pub;
	gnutls_datum_t der;

	crq = csr_make(p, "alice.dc1.ntm.test", false, false);
	assert_int_equal(cert_csr_check(crq, "alice.dc1.ntm.test", &pub), 0);
	assert_non_null(pub);
	gnutls_pubkey_deinit(pub);
	assert_int_equal(cert_csr_check(crq, NULL, &pub), 0);
	gnutls_pubkey_deinit(pub);
	/* Asking for another node's name. */
	assert_int_equal(cert_csr_check(crq, "bob.dc2.ntm.test", &pub),
	    CERT_E_CSR_NAME);
	assert_null(pub);
	/* A flipped byte in the signature. */
	assert_int_equal(gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER,
	    &der), 0);
	gnutls_x509_crq_deinit(crq);
	der.data[der.size - 1] ^= 0x01;
	assert_int_equal(gnutls_x509_crq_init(&crq), 0);
	assert_int_equal(gnutls_x509_crq_import(crq, &der,
	    GNUTLS_X509_FMT_DER), 0);
	assert_int_equal(cert_csr_check(crq, "alice.dc1.ntm.test", &pub),
	    CERT_E_CSR_SIGNATURE);
	gnutls_free(der.data);
	gnutls_x509_crq_deinit(crq);
	/* basicConstraints CA=true. */
	crq = csr_make(p, "alice.dc1.ntm.test", true, false);
	assert_int_equal(cert_csr_check(crq, "alice.dc1.ntm.test", &pub),
	    CERT_E_CSR_EXTENSION);
	gnutls_x509_crq_deinit(crq);
	/* An IP address it may not choose. */
	crq = csr_make(p, "alice.dc1.ntm.test", false, true);
	assert_int_equal(cert_csr_check(crq, "alice.dc1.ntm.test", &pub),
	    CERT_E_CSR_NAME);
	gnutls_x509_crq_deinit(crq);
	assert_string_equal(cert_strerror(CERT_E_CSR_EXTENSION),
	    "certificate request asks for a forbidden extension");
}

static void
test_reverse_zones(void **state)
{
	char z[16][CERT_REVZONE_MAX];
	struct cert_prefix p;

	assert_int_equal(cert_prefix_parse("198.18.0.0/15", &p), 0);
	assert_int_equal(cert_reverse_zones(&p, z, 16), 2);
	assert_string_equal(z[0], "18.198.in-addr.arpa");
	assert_string_equal(z[1], "19.198.in-addr.arpa");
	assert_int_equal(cert_prefix_parse("198.18.1.0/24", &p), 0);
	assert_int_equal(cert_reverse_zones(&p, z, 16), 1);
	assert_string_equal(z[0], "1.18.198.in-addr.arpa");
	assert_int_equal(cert_prefix_parse("fd6e:746d:6f62::/48", &p), 0);
	assert_int_equal(cert_reverse_zones(&p, z, 16), 1);
	assert_string_equal(z[0], "2.6.f.6.d.6.4.7.e.6.d.f.ip6.arpa");
	assert_int_equal(cert_prefix_parse("fd6e:746d:6f62:1::/64", &p), 0);
	assert_int_equal(cert_reverse_zones(&p, z, 16), 1);
	assert_string_equal(z[0], "1.0.0.0.2.6.f.6.d.6.4.7.e.6.d.f.ip6.arpa");
	assert_int_equal(cert_prefix_parse("fd00::/6", &p), -EINVAL);
	assert_int_equal(cert_prefix_parse("198.18.1.0/16", &p), -EINVAL);
	assert_int_equal(cert_prefix_parse("198.18.0.0/33", &p), -EINVAL);
	assert_int_equal(cert_prefix_parse("198.18.0.0", &p), -EINVAL);
	assert_int_equal(cert_prefix_parse("10.0.0.0/9", &p), 0);
	assert_int_equal(cert_reverse_zones(&p, z, 16), -E2BIG);
	assert_true(cert_name_valid("alice.dc1.ntm.test"));
	assert_false(cert_name_valid("alice..ntm.test"));
	assert_false(cert_name_valid("-alice.ntm.test"));
	assert_false(cert_name_valid("alice.ntm.test."));
	assert_false(cert_name_valid("a_b.ntm.test"));
	assert_int_equal(cert_role_parse("dc"), CERT_ROLE_DC);
	assert_int_equal(cert_role_parse("ntm-node"), CERT_ROLE_NODE);
	assert_int_equal(cert_role_parse("ca"), CERT_ROLE_INVALID);
}

/* ---- cert_anchor: the verified AS gives cert_verify's answer ---- */

/* A hand-built leaf: what cert_issue would write, with one thing changed. */
struct hand {
	const char	*name;
	const char	*dns;		/* SAN dNSName, or NULL */
	const char	*ip4;		/* SAN iPAddress, or NULL */
	const char	*oid1, *oid2;	/* key purposes, or NULL */
	bool		 ca;		/* basicConstraints CA */
	bool		 extra;		/* an extension outside the profile */
	bool		 by_root;	/* signed by the root, not the AS */
	bool		 sha384;	/* ecdsa-with-SHA384 */
	bool		 tamper;	/* a signature byte flipped */
	time_t		 not_before, not_after;
	bool		 fast;		/* within the anchor's profile */
};

static void
hand_build(const struct pki *p, const struct hand *h, gnutls_x509_crt_t *out,
    gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;
	struct in_addr a4;
	uint8_t serial[2] = { 0x42, 0x17 }, id[20];
	const char *cn = "alice.dc1.ntm.test";

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, 2), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt,
	    h->not_before), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(crt,
	    h->not_after), 0);
	assert_int_equal(gnutls_x509_crt_set_pubkey(crt, p->node_pub), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned int)strlen(cn)), 0);
	if (h->dns != NULL)
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(crt,
		    GNUTLS_SAN_DNSNAME, h->dns, (unsigned int)strlen(h->dns),
		    GNUTLS_FSAN_APPEND), 0);
	if (h->ip4 != NULL) {
		assert_int_equal(inet_pton(AF_INET, h->ip4, &a4), 1);
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(crt,
		    GNUTLS_SAN_IPADDRESS, &a4, 4, GNUTLS_FSAN_APPEND), 0);
	}
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(crt,
	    h->ca ? 1 : 0, -1), 0);
	assert_int_equal(gnutls_x509_crt_set_key_usage(crt,
	    GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
	if (h->oid1 != NULL)
		assert_int_equal(gnutls_x509_crt_set_key_purpose_oid(crt,
		    h->oid1, 0), 0);
	if (h->oid2 != NULL)
		assert_int_equal(gnutls_x509_crt_set_key_purpose_oid(crt,
		    h->oid2, 0), 0);
	if (h->extra) {
		/* A non-critical CRL distribution point. */
		assert_int_equal(gnutls_x509_crt_set_crl_dist_points(crt,
		    GNUTLS_SAN_URI, "http://crl.ntm.test/as.crl", 0), 0);
	}
	assert_int_equal(cert_pubkey_hash(p->as_pub, id), 0);
	if (!h->by_root)
		assert_int_equal(gnutls_x509_crt_set_authority_key_id(crt, id,
		    20), 0);
	assert_int_equal(gnutls_x509_crt_privkey_sign(crt,
	    h->by_root ? p->ca.root : p->ca.as,
	    h->by_root ? p->ca.root_key : p->ca.as_key,
	    h->sha384 ? GNUTLS_DIG_SHA384 : GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER,
	    der), 0);
	gnutls_x509_crt_deinit(crt);
	if (h->tamper)
		der->data[der->size - 2] ^= 0x01;	/* inside s */
	assert_int_equal(gnutls_x509_crt_init(out), 0);
	assert_int_equal(gnutls_x509_crt_import(*out, der,
	    GNUTLS_X509_FMT_DER), 0);
}

/*
 * Table: every leaf at every time, cert_anchor_verify() against
 * cert_verify() with the same role.  Within the profile the anchor must
 * decide itself (one ECDSA check) and say exactly what GnuTLS says;
 * outside it, it must hand the leaf back (-ENOTSUP), never decide.
 */
static void
test_anchor_matches_verify(void **state)
{
	struct pki *p = *state, *q = pki_make("anchor other");
	const time_t nb = NOW - 300, na = NOW + 3600;
	const char *node = NTM_OID_ROLE_NODE, *dc = NTM_OID_ROLE_DC;
	const struct hand hands[] = {
		{ "good", "alice.dc1.ntm.test", "198.18.1.10", node, NULL,
		    false, false, false, false, false, nb, na, true },
		{ "no address", "alice.dc1.ntm.test", NULL, node, NULL,
		    false, false, false, false, false, nb, na, true },
		{ "two roles", "alice.dc1.ntm.test", "198.18.1.10", node, dc,
		    false, false, false, false, false, nb, na, true },
		{ "role dc", "alice.dc1.ntm.test", "198.18.1.10", dc, NULL,
		    false, false, false, false, false, nb, na, true },
		{ "name outside", "alice.example.org", "198.18.1.10", node,
		    NULL, false, false, false, false, false, nb, na, true },
		{ "address outside", "alice.dc1.ntm.test", "10.0.0.1", node,
		    NULL, false, false, false, false, false, nb, na, true },
		{ "bad signature", "alice.dc1.ntm.test", "198.18.1.10", node,
		    NULL, false, false, false, false, true, nb, na, true },
		{ "short life", "alice.dc1.ntm.test", "198.18.1.10", node,
		    NULL, false, false, false, false, false, NOW + 60,
		    NOW + 120, true },
		{ "no role", "alice.dc1.ntm.test", "198.18.1.10", NULL, NULL,
		    false, false, false, false, false, nb, na, false },
		{ "any purpose", "alice.dc1.ntm.test", "198.18.1.10",
		    "2.5.29.37.0", NULL, false, false, false, false, false, nb,
		    na, false },
		{ "CA leaf", "alice.dc1.ntm.test", "198.18.1.10", node, NULL,
		    true, false, false, false, false, nb, na, false },
		{ "extra extension", "alice.dc1.ntm.test", "198.18.1.10", node,
		    NULL, false, true, false, false, false, nb, na, false },
		{ "by the root", "alice.dc1.ntm.test", "198.18.1.10", node,
		    NULL, false, false, true, false, false, nb, na, false },
		{ "sha384", "alice.dc1.ntm.test", "198.18.1.10", node, NULL,
		    false, false, false, true, false, nb, na, false },
		{ "no name", NULL, "198.18.1.10", node, NULL, false, false,
		    false, false, false, nb, na, false },
	};
	const time_t times[] = {
		NOW, NOW - 301, NOW + 59, NOW + 90, NOW + 121, NOW + 3601,
		NOW - 86400 - 301, NOW + 20 * 86400 * 365,
	};
	struct cert_anchor *a, *other, *bad;
	struct cert_expect ex;
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;
	size_t i, k;
	int want, got;

	assert_int_equal(cert_anchor_new(p->trust, p->ca.as, CERT_ROLE_NODE,
	    &a), 0);
	assert_true(cert_anchor_usable(a));
	/* Another deployment's AS against our roots: never usable. */
	assert_int_equal(cert_anchor_new(p->trust, q->ca.as, CERT_ROLE_NODE,
	    &bad), 0);
	assert_false(cert_anchor_usable(bad));
	/* Same AS name, other key: leaves of ours are handed back. */
	assert_int_equal(cert_anchor_new(q->trust, q->ca.as, CERT_ROLE_NODE,
	    &other), 0);
	assert_true(cert_anchor_usable(other));
	memset(&ex, 0, sizeof(ex));
	ex.role = CERT_ROLE_NODE;
	for (i = 0; i < sizeof(hands) / sizeof(hands[0]); i++) {
		hand_build(p, &hands[i], &crt, &der);
		for (k = 0; k < sizeof(times) / sizeof(times[0]); k++) {
			want = cert_verify(p->trust, crt, p->ca.as, &ex,
			    times[k]);
			got = cert_anchor_verify(a, crt, der.data, der.size,
			    times[k]);
			if (hands[i].fast && got != want)
				fail_msg("%s at %+lld: anchor %d, cert_verify "
				    "%d", hands[i].name,
				    (long long)(times[k] - NOW), got, want);
			if (!hands[i].fast && got != -ENOTSUP)
				fail_msg("%s: decided by the anchor (%d)",
				    hands[i].name, got);
			assert_int_equal(cert_anchor_verify(bad, crt, der.data,
			    der.size, times[k]), -ENOTSUP);
			assert_int_equal(cert_anchor_verify(other, crt,
			    der.data, der.size, times[k]), -ENOTSUP);
		}
		gnutls_free(der.data);
		gnutls_x509_crt_deinit(crt);
	}
	/* The issued certificate, and what the table's verdicts were. */
	assert_int_equal(gnutls_x509_crt_export2(p->node, GNUTLS_X509_FMT_DER,
	    &der), 0);
	assert_int_equal(cert_anchor_verify(a, p->node, der.data, der.size,
	    NOW), 0);
	assert_int_equal(cert_anchor_verify(a, p->node, der.data, der.size,
	    NOW + 3601), CERT_E_EXPIRED);
	gnutls_free(der.data);
	hand_build(p, &hands[6], &crt, &der);
	assert_int_equal(cert_anchor_verify(a, crt, der.data, der.size, NOW),
	    CERT_E_SIGNATURE);
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	hand_build(p, &hands[4], &crt, &der);
	assert_int_equal(cert_anchor_verify(a, crt, der.data, der.size, NOW),
	    CERT_E_CONSTRAINTS);
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	hand_build(p, &hands[3], &crt, &der);
	assert_int_equal(cert_anchor_verify(a, crt, der.data, der.size, NOW),
	    CERT_E_ROLE);
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	cert_anchor_free(other);
	cert_anchor_free(bad);
	cert_anchor_free(a);
	cert_anchor_free(NULL);
	pki_free(q);
}

/*
 * The root's dates count too: the same root key and name re-issued for
 * two days, the AS and a leaf outliving it.  The anchor keeps the root's
 * dates and refuses, with cert_verify, once the root has expired.
 */
static void
test_anchor_root_dates(void **state)
{
	struct pki *p = *state;
	struct hand h = { "long", "alice.dc1.ntm.test", "198.18.1.10",
	    NTM_OID_ROLE_NODE, NULL, false, false, false, false, false,
	    NOW - 300, NOW + 3 * 86400, true };
	const time_t times[] = { NOW, NOW + 86400 - 1, NOW + 86400 + 1,
	    NOW + 2 * 86400 };
	struct cert_trust *trust;
	struct cert_anchor *a;
	struct cert_expect ex;
	gnutls_x509_crt_t root, crt;
	gnutls_datum_t der;
	size_t k;

	assert_int_equal(cert_make_root(p->ca.root_key, "ntm.test", 2 * 86400,
	    p->rng, NOW - 86400, &root), 0);
	assert_int_equal(cert_trust_new(&root, 1, &trust), 0);
	assert_int_equal(cert_anchor_new(trust, p->ca.as, CERT_ROLE_NODE, &a),
	    0);
	assert_true(cert_anchor_usable(a));
	hand_build(p, &h, &crt, &der);
	memset(&ex, 0, sizeof(ex));
	ex.role = CERT_ROLE_NODE;
	for (k = 0; k < sizeof(times) / sizeof(times[0]); k++)
		assert_int_equal(cert_anchor_verify(a, crt, der.data, der.size,
		    times[k]), cert_verify(trust, crt, p->ca.as, &ex,
		    times[k]));
	assert_int_equal(cert_anchor_verify(a, crt, der.data, der.size,
	    NOW + 86400 - 1), 0);
	assert_int_equal(cert_anchor_verify(a, crt, der.data, der.size,
	    NOW + 86400 + 1), CERT_E_EXPIRED);
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	cert_anchor_free(a);
	cert_trust_free(trust);
	gnutls_x509_crt_deinit(root);
}

/*
 * The CA `ntmctl ca init` makes, through cert_ca_make(): the AS it returns
 * is a CA under the root, for the given key, constrained to the domain and
 * ranges; a failure leaves nothing behind, the handed-in key included.
 */
static void
test_ca_make(void **state)
{
	const struct testca_leaf in = { .fqdn = "alice.dc1.ntm.test",
	    .vip4 = "198.18.1.10" };
	const struct testca_leaf out = { .fqdn = "alice.example.org",
	    .vip4 = "198.18.1.10" };
	struct ntm_rng *rng = rng_seeded_new("ca_make", 7);
	uint8_t want[CERT_KEYHASH_LEN], got[CERT_KEYHASH_LEN];
	struct cert_ca_request car;
	struct cert_trust *trust;
	struct cert_expect ex;
	struct cert_info info;
	struct cert_ca ca;
	gnutls_privkey_t as_key, leaf_key;
	gnutls_pubkey_t pub;
	gnutls_x509_crt_t leaf;
	unsigned int status;

	(void)state;
	memset(&car, 0, sizeof(car));
	car.domain = "ntm.test";
	assert_int_equal(cert_prefix_parse("198.18.0.0/15", &car.vrange4), 0);
	assert_int_equal(cert_prefix_parse("fd6e:746d:6f62::/48",
	    &car.vrange6), 0);
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &as_key), 0);
	assert_int_equal(cert_ca_make(&car, as_key, rng, NOW, &ca), 0);
	assert_ptr_equal(ca.as_key, as_key);
	assert_int_equal(gnutls_x509_crt_verify(ca.as, &ca.root, 1, 0,
	    &status), 0);
	assert_int_equal(status, 0);
	assert_int_equal(cert_info(ca.as, &info), 0);
	assert_true(info.is_ca);
	assert_int_equal(info.not_before, NOW - CERT_BACKDATE);
	assert_int_equal(info.not_after, NOW + CERT_AS_LIFETIME);
	assert_int_equal(cert_pubkey_of(as_key, &pub), 0);
	assert_int_equal(cert_pubkey_hash(pub, want), 0);
	gnutls_pubkey_deinit(pub);
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	assert_int_equal(gnutls_pubkey_import_x509(pub, ca.as, 0), 0);
	assert_int_equal(cert_pubkey_hash(pub, got), 0);
	gnutls_pubkey_deinit(pub);
	assert_memory_equal(want, got, sizeof(want));
	/* It issues inside ntm.test and the ranges, and nothing outside. */
	assert_int_equal(testca_issue(&ca, &out, rng, NOW, &leaf_key, &leaf),
	    CERT_E_CONSTRAINTS);
	assert_null(leaf_key);
	assert_int_equal(testca_issue(&ca, &in, rng, NOW, &leaf_key, &leaf),
	    0);
	assert_int_equal(cert_trust_new(&ca.root, 1, &trust), 0);
	memset(&ex, 0, sizeof(ex));
	ex.role = CERT_ROLE_NODE;
	ex.fqdn = in.fqdn;
	assert_int_equal(cert_verify(trust, leaf, ca.as, &ex, NOW), 0);
	cert_trust_free(trust);
	gnutls_x509_crt_deinit(leaf);
	gnutls_privkey_deinit(leaf_key);
	cert_ca_clear(&ca);
	assert_null(ca.root);
	assert_null(ca.as_key);
	cert_ca_clear(NULL);

	/* Refused: the key handed in is freed with the rest (ASan sees). */
	car.domain = "not a domain";
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &as_key), 0);
	assert_int_equal(cert_ca_make(&car, as_key, rng, NOW, &ca),
	    CERT_E_REQUEST);
	assert_null(ca.root_key);
	assert_null(ca.root);
	assert_null(ca.as_key);
	assert_null(ca.as);
	rng_free(rng);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_cert_fields),
		cmocka_unit_test(test_verify_good),
		cmocka_unit_test(test_verify_role_mismatch),
		cmocka_unit_test(test_verify_fqdn_mismatch),
		cmocka_unit_test(test_verify_vip_mismatch),
		cmocka_unit_test(test_verify_dates),
		cmocka_unit_test(test_verify_wrong_root),
		cmocka_unit_test(test_name_constraints),
		cmocka_unit_test(test_two_roles_refused),
		cmocka_unit_test(test_dc_cert_zones),
		cmocka_unit_test(test_rsa_node),
		cmocka_unit_test(test_issue_with_external_key),
		cmocka_unit_test(test_serial_from_injected_rng),
		cmocka_unit_test(test_key_file_permissions),
		cmocka_unit_test(test_csr_checks),
		cmocka_unit_test(test_anchor_matches_verify),
		cmocka_unit_test(test_anchor_root_dates),
		cmocka_unit_test(test_reverse_zones),
		cmocka_unit_test(test_ca_make),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
