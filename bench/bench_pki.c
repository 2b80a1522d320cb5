/* bench_pki.c -- AS issuance and status signing rates against raw ECDSA. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "cert.h"
#include "log.h"
#include "ocsp.h"
#include "rand.h"

#include "../tests/testca.h"

/*
 * What the AS's signer spends per node: cert_issue() of a node certificate
 * (typed fields, SAN, role, serial, ECDSA-SHA256 by the P-256 AS key) for a
 * P-256 and an RSA-2048 node key, and ocsp_sign() of its status.  What a
 * node or DC spends per status received: ocsp_verify().  The baselines are
 * the bare GnuTLS operations these are built around, timed in the same
 * run on the same key: gnutls_privkey_sign_data2() of 400 bytes (about a
 * node certificate's TBS) and gnutls_pubkey_verify_data2() of its
 * signature.  "vs raw" is the rate divided by its baseline's rate: the share
 * of the bare signature's speed that survives the encoding around it.
 * Rates count this thread's CPU time, so other load on the machine does
 * not lower them; the elapsed-time rate is printed beside them.
 *
 * Usage: bench_pki [seconds per case]   (default 2)
 */

enum {
	BENCH_TBS = 400,
	BENCH_GOAL_ECDSA = 500,		/* certificates/s (the issue) */
};

#define BENCH_NOW	((time_t)1795000000)

struct bench_ctx {
	struct ntm_rng		*rng;
	struct cert_ca		 ca;
	gnutls_privkey_t	 p256, rsa;
	gnutls_pubkey_t		 as_pub, p256_pub, rsa_pub;
	gnutls_x509_crt_t	 leaf;
	struct ocsp_signer	*signer;
	uint8_t			 serial[32];
	size_t			 serial_len;
	gnutls_datum_t		 status;	/* a signed response */
	uint8_t			 tbs[BENCH_TBS];
	gnutls_datum_t		 sig;		/* tbs signed raw */
};

typedef int	(*bench_fn)(struct bench_ctx *);

static double
bench_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct bench_rate {
	double	cpu;		/* per CPU second of this thread */
	double	wall;		/* per second of elapsed time */
};

/*
 * Runs fn for `secs` seconds of this thread's CPU time.  The CPU rate is
 * what one core gives when the AS has it to itself; on a loaded machine
 * the wall-clock rate is lower by the share other processes take.
 */
static struct bench_rate
bench_run(struct bench_ctx *c, bench_fn fn, double secs)
{
	struct bench_rate r;
	double cpu0, wall0, t;
	unsigned long n = 0;
	int i;

	/* One untimed call, so lazy setup inside GnuTLS is not counted. */
	if (fn(c) < 0)
		fatalx("bench: the operation fails");
	cpu0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
	wall0 = bench_clock(CLOCK_MONOTONIC);
	do {
		for (i = 0; i < 16; i++)
			if (fn(c) < 0)
				fatalx("bench: the operation fails");
		n += 16;
		t = bench_clock(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	} while (t < secs);
	r.cpu = (double)n / t;
	r.wall = (double)n / (bench_clock(CLOCK_MONOTONIC) - wall0);
	return r;
}

static int
bench_raw_sign(struct bench_ctx *c)
{
	gnutls_datum_t tbs = { c->tbs, sizeof(c->tbs) }, sig;

	if (gnutls_privkey_sign_data2(c->ca.as_key, GNUTLS_SIGN_ECDSA_SHA256, 0,
	    &tbs, &sig) < 0)
		return -EIO;
	gnutls_free(sig.data);
	return 0;
}

static int
bench_raw_verify(struct bench_ctx *c)
{
	gnutls_datum_t tbs = { c->tbs, sizeof(c->tbs) };

	return gnutls_pubkey_verify_data2(c->as_pub, GNUTLS_SIGN_ECDSA_SHA256,
	    0, &tbs, &c->sig) < 0 ? -EIO : 0;
}

static int
bench_issue(struct bench_ctx *c, gnutls_pubkey_t pub)
{
	struct cert_issuer iss = { c->ca.as, c->ca.as_key };
	struct cert_request req;
	gnutls_x509_crt_t crt;
	int rv;

	memset(&req, 0, sizeof(req));
	req.role = CERT_ROLE_NODE;
	req.fqdn = "alice.dc1.ntm.test";
	req.has_vip4 = true;
	inet_pton(AF_INET, "198.18.1.10", &req.vip4);
	req.has_vip6 = true;
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::a", &req.vip6);
	req.pubkey = pub;
	if ((rv = cert_issue(&req, &iss, c->rng, BENCH_NOW, &crt)) < 0)
		return rv;
	gnutls_x509_crt_deinit(crt);
	return 0;
}

static int
bench_issue_p256(struct bench_ctx *c)
{
	return bench_issue(c, c->p256_pub);
}

static int
bench_issue_rsa(struct bench_ctx *c)
{
	return bench_issue(c, c->rsa_pub);
}

static int
bench_ocsp_sign(struct bench_ctx *c)
{
	struct ocsp_status st;
	gnutls_datum_t der;
	int rv;

	memset(&st, 0, sizeof(st));
	st.status = OCSP_CERT_GOOD;
	st.produced_at = st.this_update = BENCH_NOW;
	st.next_update = BENCH_NOW + OCSP_VALIDITY_DEFAULT;
	if ((rv = ocsp_sign(c->signer, c->ca.as_key, c->serial, c->serial_len,
	    &st, &der)) < 0)
		return rv;
	gnutls_free(der.data);
	return 0;
}

static int
bench_ocsp_verify(struct bench_ctx *c)
{
	struct ocsp_result res;

	return ocsp_verify(&c->status, c->ca.as, c->leaf, BENCH_NOW, 0, &res);
}

static void
bench_setup(struct bench_ctx *c)
{
	struct testca_leaf alice = { .fqdn = "alice.dc1.ntm.test",
	    .vip4 = "198.18.1.10" };
	struct ocsp_status st;
	gnutls_datum_t tbs;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->rng = rng_system();
	if (testca_make(&c->ca, NULL, c->rng, BENCH_NOW - 86400) < 0)
		fatalx("bench: root and AS CA");
	if (cert_key_generate(CERT_KEY_P256, &c->p256) < 0 ||
	    cert_key_generate(CERT_KEY_RSA2048, &c->rsa) < 0 ||
	    cert_pubkey_of(c->ca.as_key, &c->as_pub) < 0 ||
	    cert_pubkey_of(c->p256, &c->p256_pub) < 0 ||
	    cert_pubkey_of(c->rsa, &c->rsa_pub) < 0)
		fatalx("bench: keys");
	alice.pubkey = c->p256_pub;
	if (testca_issue(&c->ca, &alice, c->rng, BENCH_NOW, NULL,
	    &c->leaf) < 0)
		fatalx("bench: leaf");
	c->serial_len = sizeof(c->serial);
	if (gnutls_x509_crt_get_serial(c->leaf, c->serial,
	    &c->serial_len) < 0 || ocsp_signer_new(c->ca.as, &c->signer) < 0)
		fatalx("bench: OCSP signer");
	memset(&st, 0, sizeof(st));
	st.status = OCSP_CERT_GOOD;
	st.produced_at = st.this_update = BENCH_NOW;
	st.next_update = BENCH_NOW + OCSP_VALIDITY_DEFAULT;
	if (ocsp_sign(c->signer, c->ca.as_key, c->serial, c->serial_len, &st,
	    &c->status) < 0)
		fatalx("bench: OCSP response");
	for (i = 0; i < sizeof(c->tbs); i++)
		c->tbs[i] = (uint8_t)(i * 7);
	tbs.data = c->tbs;
	tbs.size = sizeof(c->tbs);
	if (gnutls_privkey_sign_data2(c->ca.as_key, GNUTLS_SIGN_ECDSA_SHA256, 0,
	    &tbs, &c->sig) < 0)
		fatalx("bench: raw signature");
}

static void
bench_free(struct bench_ctx *c)
{
	gnutls_free(c->sig.data);
	gnutls_free(c->status.data);
	ocsp_signer_free(c->signer);
	gnutls_x509_crt_deinit(c->leaf);
	gnutls_pubkey_deinit(c->rsa_pub);
	gnutls_pubkey_deinit(c->p256_pub);
	gnutls_pubkey_deinit(c->as_pub);
	gnutls_privkey_deinit(c->rsa);
	gnutls_privkey_deinit(c->p256);
	cert_ca_clear(&c->ca);
}

static void
bench_line(const char *what, struct bench_rate r, struct bench_rate base)
{
	printf("%-42s %9.0f %8.1f %7.2f %9.0f\n", what, r.cpu, 1e6 / r.cpu,
	    r.cpu / base.cpu, r.wall);
}

int
main(int argc, char *argv[])
{
	struct bench_ctx c;
	struct bench_rate sign, verify, p256, rsa, osign, overify;
	double secs = 2.0;

	if (argc > 2 || (argc == 2 && (secs = atof(argv[1])) <= 0)) {
		fprintf(stderr, "usage: %s [seconds per case]\n", argv[0]);
		return 2;
	}
	log_init("bench_pki", 1, LOG_LEVEL_WARN);
	bench_setup(&c);
	printf("bench_pki: %.1f CPU s per case; AS CA key ECDSA P-256, "
	    "GnuTLS %s\n", secs, gnutls_check_version(NULL));
	printf("%-42s %9s %8s %7s %9s\n", "operation (one thread)",
	    "ops/cpu-s", "us/op", "vs raw", "ops/wall-s");
	sign = bench_run(&c, bench_raw_sign, secs);
	bench_line("baseline: raw ECDSA P-256 sign (400 B)", sign, sign);
	p256 = bench_run(&c, bench_issue_p256, secs);
	bench_line("cert_issue, ECDSA P-256 node key", p256, sign);
	rsa = bench_run(&c, bench_issue_rsa, secs);
	bench_line("cert_issue, RSA-2048 node key", rsa, sign);
	osign = bench_run(&c, bench_ocsp_sign, secs);
	bench_line("ocsp_sign, good", osign, sign);
	verify = bench_run(&c, bench_raw_verify, secs);
	bench_line("baseline: raw ECDSA P-256 verify (400 B)", verify, verify);
	overify = bench_run(&c, bench_ocsp_verify, secs);
	bench_line("ocsp_verify, good", overify, verify);
	printf("goal: >= %d ECDSA P-256 certificates/s on one core: %s "
	    "(%.0f/s of CPU, %.0f/s elapsed in this run)\n",
	    BENCH_GOAL_ECDSA, p256.cpu >= BENCH_GOAL_ECDSA ? "met" : "NOT met",
	    p256.cpu, p256.wall);
	bench_free(&c);
	return 0;
}
