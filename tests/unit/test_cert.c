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

/* The injected clock: 2026-11-18. */
#define NOW	((time_t)1795000000)

struct pki {
	struct ntm_rng		*rng;
	gnutls_privkey_t	 root_key, as_key, node_key;
	gnutls_pubkey_t		 as_pub, node_pub;
	gnutls_x509_crt_t	 root, as, node;
	struct cert_trust	*trust;
	struct in_addr		 vip4;
	struct in6_addr		 vip6;
};

static struct pki *
pki_make(const char *domain, const char *seed)
{
	struct pki *p;
	struct cert_issuer root_iss;
	struct cert_ca_request car;

	p = calloc(1, sizeof(*p));
	assert_non_null(p);
	p->rng = rng_seeded_new(seed, strlen(seed));
	assert_non_null(p->rng);
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &p->root_key), 0);
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &p->as_key), 0);
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &p->node_key), 0);
	assert_int_equal(cert_pubkey_of(p->as_key, &p->as_pub), 0);
	assert_int_equal(cert_pubkey_of(p->node_key, &p->node_pub), 0);
	assert_int_equal(cert_make_root(p->root_key, domain, 0, p->rng,
	    NOW - 86400, &p->root), 0);
	memset(&car, 0, sizeof(car));
	car.domain = domain;
	assert_int_equal(cert_prefix_parse("198.18.0.0/15", &car.vrange4), 0);
	assert_int_equal(cert_prefix_parse("fd6e:746d:6f62::/48",
	    &car.vrange6), 0);
	car.pubkey = p->as_pub;
	root_iss.crt = p->root;
	root_iss.key = p->root_key;
	assert_int_equal(cert_make_as_ca(&car, &root_iss, p->rng, NOW - 86400,
	    &p->as), 0);
	assert_int_equal(cert_trust_new(&p->root, 1, &p->trust), 0);
	inet_pton(AF_INET, "198.18.1.10", &p->vip4);
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::10", &p->vip6);
	return p;
}

static void
pki_free(struct pki *p)
{
	cert_trust_free(p->trust);
	gnutls_x509_crt_deinit(p->node);
	gnutls_x509_crt_deinit(p->as);
	gnutls_x509_crt_deinit(p->root);
	gnutls_pubkey_deinit(p->node_pub);
	gnutls_pubkey_deinit(p->as_pub);
	gnutls_privkey_deinit(p->node_key);
	gnutls_privkey_deinit(p->as_key);
	gnutls_privkey_deinit(p->root_key);
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
	struct pki *p = pki_make("ntm.test", "test_cert");
	struct cert_request req;
	struct cert_issuer iss = { p->as, p->as_key };

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
	assert_int_equal(cert_verify(p->trust, p->node, p->as, &ex, NOW), 0);
	/* Names compare lower-case, one trailing dot ignored. */
	ex.fqdn = "Alice.DC1.ntm.test.";
	assert_int_equal(cert_verify(p->trust, p->node, p->as, &ex, NOW), 0);
}

static void
test_verify_role_mismatch(void **state)
{
	struct pki *p = *state;
	struct cert_expect ex;

	expect_node(p, &ex);
	ex.role = CERT_ROLE_DC;
	assert_int_equal(cert_verify(p->trust, p->node, p->as, &ex, NOW),
	    CERT_E_ROLE);
	ex.role = CERT_ROLE_AS;
	assert_int_equal(cert_verify(p->trust, p->node, p->as, &ex, NOW),
	    CERT_E_ROLE);
}

static void
test_verify_fqdn_mismatch(void **state)
{
	struct pki *p = *state;
	struct cert_expect ex;

	expect_node(p, &ex);
	ex.fqdn = "bob.dc2.ntm.test";
	assert_int_equal(cert_verify(p->trust, p->node, p->as, &ex, NOW),
	    CERT_E_FQDN);
	ex.fqdn = "alice.dc1.ntm.tes";
	assert_int_equal(cert_verify(p->trust, p->node, p->as, &ex, NOW),
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
	assert_int_equal(cert_verify(p->trust, p->node, p->as, &ex, NOW),
	    CERT_E_VIP);
	expect_node(p, &ex);
	ex.vip6 = &other6;
	assert_int_equal(cert_verify(p->trust, p->node, p->as, &ex, NOW),
	    CERT_E_VIP);
}

static void
test_verify_dates(void **state)
{
	struct pki *p = *state;
	struct cert_expect ex;

	expect_node(p, &ex);
	assert_int_equal(cert_verify(p->trust, p->node, p->as, &ex,
	    NOW + 3600), 0);
	assert_int_equal(cert_verify(p->trust, p->node, p->as, &ex,
	    NOW + 3601), CERT_E_EXPIRED);
	assert_int_equal(cert_verify(p->trust, p->node, p->as, &ex,
	    NOW - CERT_BACKDATE - 1), CERT_E_NOT_YET_VALID);
	/* The AS CA was issued a day earlier; before that it is not valid. */
	assert_int_equal(cert_verify(p->trust, p->node, p->as, &ex,
	    NOW - 86400 - CERT_BACKDATE - 1), CERT_E_NOT_YET_VALID);
	assert_string_equal(cert_strerror(CERT_E_EXPIRED),
	    "certificate has expired");
}

static void
test_verify_wrong_root(void **state)
{
	struct pki *p = *state, *q = pki_make("ntm.test", "other root");
	struct cert_expect ex;

	expect_node(p, &ex);
	/* Same names, different root: the chain does not reach it. */
	assert_int_equal(cert_verify(q->trust, p->node, p->as, &ex, NOW),
	    CERT_E_CHAIN);
	/* Our node with the other deployment's AS certificate. */
	assert_int_equal(cert_verify(p->trust, p->node, q->as, &ex, NOW),
	    CERT_E_CHAIN);
	/* Without the intermediate the leaf does not chain either. */
	assert_int_equal(cert_verify(p->trust, p->node, NULL, &ex, NOW),
	    CERT_E_CHAIN);
	pki_free(q);
	/* A leaf the root signed itself does not come through the AS CA. */
	{
		struct cert_issuer root_iss = { p->root, p->root_key };
		struct cert_request req;
		gnutls_x509_crt_t direct;

		node_request(p, &req);
		assert_int_equal(cert_issue(&req, &root_iss, p->rng, NOW,
		    &direct), 0);
		assert_int_equal(cert_verify(p->trust, direct, p->as, &ex,
		    NOW), CERT_E_CHAIN);
		gnutls_x509_crt_deinit(direct);
	}
}

static void
test_name_constraints(void **state)
{
	struct pki *p = *state;
	struct cert_issuer iss = { p->as, p->as_key };
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
	assert_int_equal(gnutls_x509_crt_privkey_sign(crt, p->as, p->as_key,
	    GNUTLS_DIG_SHA256, 0), 0);
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
		gnutls_x509_crt_t chain[2] = { copy, p->as }, root;
		gnutls_typed_vdata_st vd = { GNUTLS_DT_KEY_PURPOSE_OID,
		    (unsigned char *)NTM_OID_ROLE_NODE, 0 };
		unsigned int status = 1;

		assert_int_equal(gnutls_x509_trust_list_init(&tl, 0), 0);
		assert_int_equal(gnutls_x509_crt_init(&root), 0);
		assert_int_equal(gnutls_x509_crt_export2(p->root,
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
	assert_int_equal(cert_verify(p->trust, copy, p->as, &ex, NOW),
	    CERT_E_ROLE);
	ex.role = CERT_ROLE_DC;
	assert_int_equal(cert_verify(p->trust, copy, p->as, &ex, NOW),
	    CERT_E_ROLE);
	gnutls_x509_crt_deinit(copy);
	gnutls_x509_crt_deinit(crt);
}

static void
test_dc_cert_zones(void **state)
{
	struct pki *p = *state;
	struct cert_issuer iss = { p->as, p->as_key };
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
	assert_int_equal(cert_verify(p->trust, dc, p->as, &ex, NOW), 0);
	ex.role = CERT_ROLE_NODE;
	assert_int_equal(cert_verify(p->trust, dc, p->as, &ex, NOW),
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
	struct cert_issuer iss = { p->as, p->as_key };
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
	assert_int_equal(cert_verify(p->trust, crt, p->as, &ex, NOW), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(key);
}

/*
 * An external key as the AS signer process will provide: GnuTLS hands the
 * callback the data or (for ECDSA certificates) the digest to sign.
 */
struct ext_signer {
	gnutls_privkey_t	real;
	int			calls;
};

static int
ext_sign_data(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
    void *userdata, unsigned int flags, const gnutls_datum_t *data,
    gnutls_datum_t *sig)
{
	struct ext_signer *s = userdata;

	s->calls++;
	return gnutls_privkey_sign_data2(s->real, algo, 0, data, sig);
}

static int
ext_sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
    void *userdata, unsigned int flags, const gnutls_datum_t *hash,
    gnutls_datum_t *sig)
{
	struct ext_signer *s = userdata;

	s->calls++;
	return gnutls_privkey_sign_hash2(s->real, algo, 0, hash, sig);
}

static int
ext_info(gnutls_privkey_t key, unsigned int flags, void *userdata)
{
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return GNUTLS_PK_ECDSA;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return 256;
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO)
		return GNUTLS_FLAGS_TO_SIGN_ALGO(flags) ==
		    GNUTLS_SIGN_ECDSA_SHA256;
	return -1;
}

static void
test_issue_with_external_key(void **state)
{
	struct pki *p = *state;
	struct ext_signer s = { p->as_key, 0 };
	gnutls_privkey_t ext;
	struct cert_issuer iss;
	struct cert_request req;
	struct cert_expect ex;
	gnutls_x509_crt_t crt;

	assert_int_equal(gnutls_privkey_init(&ext), 0);
	assert_int_equal(gnutls_privkey_import_ext4(ext, &s, ext_sign_data,
	    ext_sign_hash, NULL, NULL, ext_info, 0), 0);
	iss.crt = p->as;
	iss.key = ext;
	node_request(p, &req);
	assert_int_equal(cert_issue(&req, &iss, p->rng, NOW, &crt), 0);
	assert_int_equal(s.calls, 1);
	expect_node(p, &ex);
	assert_int_equal(cert_verify(p->trust, crt, p->as, &ex, NOW), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_privkey_deinit(ext);
}

static void
test_serial_from_injected_rng(void **state)
{
	struct pki *p = *state;
	struct cert_issuer iss = { p->as, p->as_key };
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
		cmocka_unit_test(test_reverse_zones),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
