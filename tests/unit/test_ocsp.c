/* test_ocsp.c -- unit tests: OCSP response signing and checking, CRLs. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <gnutls/ocsp.h>

#include "cert.h"
#include "crl.h"
#include "ocsp.h"
#include "rand.h"

#include "../testca.h"

#define NOW	((time_t)1795000000)

struct fix {
	struct ntm_rng		*rng;
	struct cert_ca		 ca;
	gnutls_privkey_t	 node_key;
	gnutls_pubkey_t		 node_pub;
	gnutls_x509_crt_t	 alice, bob;
	struct ocsp_signer	*signer;
};

static gnutls_x509_crt_t
fix_node(struct fix *f, const char *fqdn, const char *v4)
{
	const struct testca_leaf l = { .fqdn = fqdn, .vip4 = v4,
	    .pubkey = f->node_pub };
	gnutls_x509_crt_t crt;

	assert_int_equal(testca_issue(&f->ca, &l, f->rng, NOW, NULL, &crt), 0);
	return crt;
}

static struct fix *
fix_new(const char *seed)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->rng = rng_seeded_new(seed, strlen(seed));
	assert_int_equal(testca_make(&f->ca, NULL, f->rng, NOW - 86400), 0);
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &f->node_key), 0);
	assert_int_equal(cert_pubkey_of(f->node_key, &f->node_pub), 0);
	f->alice = fix_node(f, "alice.dc1.ntm.test", "198.18.1.10");
	f->bob = fix_node(f, "bob.dc2.ntm.test", "198.18.2.10");
	assert_int_equal(ocsp_signer_new(f->ca.as, &f->signer), 0);
	return f;
}

static void
fix_free(struct fix *f)
{
	ocsp_signer_free(f->signer);
	gnutls_x509_crt_deinit(f->bob);
	gnutls_x509_crt_deinit(f->alice);
	gnutls_pubkey_deinit(f->node_pub);
	gnutls_privkey_deinit(f->node_key);
	cert_ca_clear(&f->ca);
	rng_free(f->rng);
	free(f);
}

static int
group_setup(void **state)
{
	*state = fix_new("test_ocsp");
	return 0;
}

static int
group_teardown(void **state)
{
	fix_free(*state);
	return 0;
}

static void
status_good(struct ocsp_status *st, time_t t)
{
	memset(st, 0, sizeof(*st));
	st->status = OCSP_CERT_GOOD;
	st->reason = OCSP_REASON_UNSPECIFIED;
	st->produced_at = t;
	st->this_update = t;
	st->next_update = t + OCSP_VALIDITY_DEFAULT;
}

/* Signs a response about crt with the AS key (or another key). */
static gnutls_datum_t
sign_for(struct fix *f, gnutls_privkey_t key, gnutls_x509_crt_t crt,
    const struct ocsp_status *st)
{
	uint8_t serial[32];
	size_t len = sizeof(serial);
	gnutls_datum_t der;

	assert_int_equal(gnutls_x509_crt_get_serial(crt, serial, &len), 0);
	assert_int_equal(ocsp_sign(f->signer, key, serial, len, st, &der), 0);
	return der;
}

static void
test_good_response_verifies(void **state)
{
	struct fix *f = *state;
	struct ocsp_status st;
	struct ocsp_result res;
	gnutls_datum_t der;
	gnutls_ocsp_resp_t resp;
	unsigned int verify = 1;

	status_good(&st, NOW);
	der = sign_for(f, f->ca.as_key, f->alice, &st);
	/* GnuTLS's own reader accepts it as signed by the AS certificate. */
	assert_int_equal(gnutls_ocsp_resp_init(&resp), 0);
	assert_int_equal(gnutls_ocsp_resp_import(resp, &der), 0);
	assert_int_equal(gnutls_ocsp_resp_verify_direct(resp, f->ca.as, &verify,
	    0), 0);
	assert_int_equal(verify, 0);
	assert_int_equal(gnutls_ocsp_resp_check_crt(resp, 0, f->alice), 0);
	gnutls_ocsp_resp_deinit(resp);
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice, NOW, 0, &res),
	    0);
	assert_int_equal(res.status, OCSP_CERT_GOOD);
	assert_int_equal(res.this_update, NOW);
	assert_int_equal(res.next_update, NOW + OCSP_VALIDITY_DEFAULT);
	gnutls_free(der.data);
}

static void
test_flipped_byte_refused(void **state)
{
	struct fix *f = *state;
	struct ocsp_status st;
	struct ocsp_result res;
	gnutls_datum_t der;
	gnutls_ocsp_resp_t resp;
	unsigned int verify = 0;
	uint8_t *p;

	status_good(&st, NOW);
	der = sign_for(f, f->ca.as_key, f->alice, &st);
	/* A byte of producedAt ("2026...Z"), inside the signed part. */
	p = memmem(der.data, der.size, "2026", 4);
	assert_non_null(p);
	p[3] ^= 0x01;
	assert_int_equal(gnutls_ocsp_resp_init(&resp), 0);
	assert_int_equal(gnutls_ocsp_resp_import(resp, &der), 0);
	assert_int_equal(gnutls_ocsp_resp_verify_direct(resp, f->ca.as, &verify,
	    0), 0);
	assert_int_not_equal(verify, 0);
	assert_true(verify & GNUTLS_OCSP_VERIFY_SIGNATURE_FAILURE);
	gnutls_ocsp_resp_deinit(resp);
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice, NOW, 0, &res),
	    OCSP_E_SIGNATURE);
	p[3] ^= 0x01;
	/* And the last byte, inside the signature value. */
	der.data[der.size - 1] ^= 0x01;
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice, NOW, 0, &res),
	    OCSP_E_SIGNATURE);
	gnutls_free(der.data);
}

static void
test_dates_against_now(void **state)
{
	struct fix *f = *state;
	struct ocsp_status st;
	struct ocsp_result res;
	gnutls_datum_t der;
	time_t next = NOW + OCSP_VALIDITY_DEFAULT;

	status_good(&st, NOW);
	der = sign_for(f, f->ca.as_key, f->alice, &st);
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice, next + OCSP_SKEW,
	    0, &res), 0);
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice,
	    next + OCSP_SKEW + 1, 0, &res), OCSP_E_EXPIRED);
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice, NOW - OCSP_SKEW,
	    0, &res), 0);
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice,
	    NOW - OCSP_SKEW - 1, 0, &res), OCSP_E_NOT_YET_VALID);
	assert_string_equal(ocsp_strerror(OCSP_E_EXPIRED),
	    "status response has expired (nextUpdate passed)");
	gnutls_free(der.data);
}

static void
test_older_than_seen_refused(void **state)
{
	struct fix *f = *state;
	struct ocsp_status st;
	struct ocsp_result res;
	gnutls_datum_t old, cur;

	status_good(&st, NOW - 300);
	old = sign_for(f, f->ca.as_key, f->alice, &st);
	status_good(&st, NOW);
	cur = sign_for(f, f->ca.as_key, f->alice, &st);
	assert_int_equal(ocsp_verify(&cur, f->ca.as, f->alice, NOW, NOW, &res),
	    0);
	/* Still valid by its dates, but older than what we hold. */
	assert_int_equal(ocsp_verify(&old, f->ca.as, f->alice, NOW, 0, &res),
	    0);
	assert_int_equal(ocsp_verify(&old, f->ca.as, f->alice, NOW, NOW, &res),
	    OCSP_E_STALE);
	gnutls_free(old.data);
	gnutls_free(cur.data);
}

static void
test_revoked_reported(void **state)
{
	struct fix *f = *state;
	struct ocsp_status st;
	struct ocsp_result res;
	gnutls_datum_t der;

	status_good(&st, NOW);
	st.status = OCSP_CERT_REVOKED;
	st.revocation_time = NOW - 42;
	st.reason = OCSP_REASON_KEY_COMPROMISE;
	der = sign_for(f, f->ca.as_key, f->alice, &st);
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice, NOW, 0, &res),
	    OCSP_E_REVOKED);
	assert_int_equal(res.status, OCSP_CERT_REVOKED);
	assert_int_equal(res.revocation_time, NOW - 42);
	assert_int_equal(res.reason, OCSP_REASON_KEY_COMPROMISE);
	/* Revoked is final: an old revoked response still says revoked. */
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice, NOW + 86400, 0,
	    &res), OCSP_E_REVOKED);
	gnutls_free(der.data);
	/* Unspecified is sent as no reason and reads back as unspecified. */
	st.reason = OCSP_REASON_UNSPECIFIED;
	der = sign_for(f, f->ca.as_key, f->alice, &st);
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice, NOW, 0, &res),
	    OCSP_E_REVOKED);
	assert_int_equal(res.reason, OCSP_REASON_UNSPECIFIED);
	assert_null(memmem(der.data, der.size, "\xa0\x03\x0a\x01", 4));
	gnutls_free(der.data);
}

static void
test_wrong_cert_or_issuer(void **state)
{
	struct fix *f = *state, *g = fix_new("other deployment");
	struct ocsp_status st;
	struct ocsp_result res;
	gnutls_datum_t der;

	status_good(&st, NOW);
	der = sign_for(f, f->ca.as_key, f->alice, &st);
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->bob, NOW, 0, &res),
	    OCSP_E_CERT_MISMATCH);
	assert_int_equal(ocsp_verify(&der, g->ca.as, f->alice, NOW, 0, &res),
	    OCSP_E_SIGNATURE);
	gnutls_free(der.data);
	/* Our CertID hashes, but signed by another key. */
	der = sign_for(f, g->ca.as_key, f->alice, &st);
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice, NOW, 0, &res),
	    OCSP_E_SIGNATURE);
	gnutls_free(der.data);
	der.data = (unsigned char *)"\x30\x03\x0a\x01\x00";
	der.size = 5;
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice, NOW, 0, &res),
	    OCSP_E_PARSE);
	fix_free(g);
}

static void
test_responder_key_hash_is_ski(void **state)
{
	struct fix *f = *state;
	uint8_t ski[64];
	size_t len = sizeof(ski);

	assert_true(gnutls_x509_crt_get_subject_key_id(f->ca.as, ski, &len,
	    NULL) >= 0);
	assert_int_equal(len, OCSP_SHA1_LEN);
	assert_memory_equal(ocsp_signer_key_hash(f->signer), ski, len);
}

static void
test_bad_status_refused(void **state)
{
	struct fix *f = *state;
	struct ocsp_status st;
	gnutls_datum_t der;
	uint8_t serial[1] = { 1 };

	status_good(&st, NOW);
	st.next_update = NOW + OCSP_VALIDITY_MAX + 1;
	assert_int_equal(ocsp_sign(f->signer, f->ca.as_key, serial, 1, &st,
	    &der), -EINVAL);
	status_good(&st, NOW);
	st.status = OCSP_CERT_INVALID;
	assert_int_equal(ocsp_sign(f->signer, f->ca.as_key, serial, 1, &st,
	    &der), -EINVAL);
	assert_null(der.data);
}

static void
test_sign_with_external_key(void **state)
{
	struct fix *f = *state;
	struct testca_signer s = { f->ca.as_key, 0 };
	struct ocsp_status st;
	struct ocsp_result res;
	gnutls_privkey_t ext;
	gnutls_datum_t der;

	assert_int_equal(testca_signer_key(&s, &ext), 0);
	status_good(&st, NOW);
	der = sign_for(f, ext, f->alice, &st);
	assert_int_equal(s.calls, 1);
	assert_int_equal(ocsp_verify(&der, f->ca.as, f->alice, NOW, 0, &res),
	    0);
	gnutls_free(der.data);
	gnutls_privkey_deinit(ext);
}

static void
test_crl_lists_serials(void **state)
{
	struct fix *f = *state;
	struct crl_entry e[2];
	gnutls_x509_crl_t crl;
	unsigned int verify = 1;
	uint8_t serial[32];
	size_t len = sizeof(serial);
	time_t t;

	memset(e, 0, sizeof(e));
	e[0].serial_len = sizeof(e[0].serial);
	assert_int_equal(gnutls_x509_crt_get_serial(f->alice, e[0].serial,
	    &e[0].serial_len), 0);
	e[0].revoked_at = NOW - 60;
	e[1].serial[0] = 0x42;
	e[1].serial_len = 1;
	e[1].revoked_at = NOW - 30;
	/*
	 * gnutls_x509_crl_verify compares nextUpdate with the wall clock
	 * whatever the flags, so this CRL is valid for ten years.
	 */
	assert_int_equal(crl_build(e, 2, f->ca.as, f->ca.as_key, 7, NOW,
	    NOW + 10 * 365 * 86400, &crl), 0);
	assert_int_equal(gnutls_x509_crl_verify(crl, &f->ca.as, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &verify), 0);
	assert_int_equal(verify, 0);
	assert_int_equal(gnutls_x509_crl_get_crt_count(crl), 2);
	assert_int_equal(gnutls_x509_crl_get_crt_serial(crl, 0, serial, &len,
	    &t), 0);
	assert_int_equal(len, e[0].serial_len);
	assert_memory_equal(serial, e[0].serial, len);
	assert_int_equal(t, NOW - 60);
	assert_int_equal(gnutls_x509_crt_check_revocation(f->alice, &crl, 1),
	    1);
	assert_int_equal(gnutls_x509_crt_check_revocation(f->bob, &crl, 1),
	    0);
	/* nextUpdate must follow thisUpdate. */
	gnutls_x509_crl_deinit(crl);
	assert_int_equal(crl_build(e, 2, f->ca.as, f->ca.as_key, 8, NOW, NOW,
	    &crl), -EINVAL);
}

/* The CRL in a file as a reader opened earlier sees it: its entry count. */
static unsigned
crl_entries_in(int fd)
{
	char buf[8192];
	gnutls_datum_t d;
	gnutls_x509_crl_t crl;
	ssize_t n;
	int count;

	assert_true((n = pread(fd, buf, sizeof(buf), 0)) > 0);
	d.data = (unsigned char *)buf;
	d.size = (unsigned int)n;
	assert_int_equal(gnutls_x509_crl_init(&crl), 0);
	assert_int_equal(gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_PEM),
	    0);
	count = gnutls_x509_crl_get_crt_count(crl);
	gnutls_x509_crl_deinit(crl);
	assert_true(count >= 0);
	return (unsigned)count;
}

/*
 * crl_write replaces the file whole: a reader that opened the old CRL
 * (a web server publishing it) still reads the old one entire, a new open
 * finds the new one, and no temporary file is left.  Before, the file was
 * truncated and rewritten in place, so a reader could get a partial CRL,
 * and a failed write (a full disk) left none.
 */
static void
test_crl_write_replaces(void **state)
{
	struct fix *f = *state;
	struct crl_entry e[2];
	gnutls_x509_crl_t one, two;
	char dir[] = "/tmp/test_ocsp.XXXXXX", path[64], tmp[80];
	int fd, fd2;

	memset(e, 0, sizeof(e));
	e[0].serial[0] = 0x41;
	e[0].serial_len = 1;
	e[0].revoked_at = NOW - 60;
	e[1].serial[0] = 0x42;
	e[1].serial_len = 1;
	e[1].revoked_at = NOW - 30;
	assert_int_equal(crl_build(e, 1, f->ca.as, f->ca.as_key, 1, NOW,
	    NOW + 600, &one), 0);
	assert_int_equal(crl_build(e, 2, f->ca.as, f->ca.as_key, 2, NOW,
	    NOW + 600, &two), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/as.crl", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	assert_int_equal(crl_write(path, one), 0);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(crl_entries_in(fd), 1);
	assert_int_equal(crl_write(path, two), 0);
	assert_int_equal(crl_entries_in(fd), 1);
	assert_true((fd2 = open(path, O_RDONLY)) >= 0);
	assert_int_equal(crl_entries_in(fd2), 2);
	assert_int_equal(access(tmp, F_OK), -1);
	close(fd);
	close(fd2);

	/* Cannot write beside it: an error, and the old CRL stays. */
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_true(crl_write(path, one) < 0);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(crl_entries_in(fd), 2);
	close(fd);
	assert_int_equal(rmdir(tmp), 0);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	gnutls_x509_crl_deinit(one);
	gnutls_x509_crl_deinit(two);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_response_verifies),
		cmocka_unit_test(test_flipped_byte_refused),
		cmocka_unit_test(test_dates_against_now),
		cmocka_unit_test(test_older_than_seen_refused),
		cmocka_unit_test(test_revoked_reported),
		cmocka_unit_test(test_wrong_cert_or_issuer),
		cmocka_unit_test(test_responder_key_hash_is_ski),
		cmocka_unit_test(test_bad_status_refused),
		cmocka_unit_test(test_sign_with_external_key),
		cmocka_unit_test(test_crl_lists_serials),
		cmocka_unit_test(test_crl_write_replaces),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
