/* bench_peercheck.c -- CPU cost of a tunnel peer's check, cold and cached, against one ECDSA verification. */
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
#include "crypto.h"
#include "log.h"
#include "ocsp.h"
#include "peercheck.h"
#include "rand.h"

#include "../tests/testca.h"

/*
 * What an initiator's ntmd spends on the peer in one cold tunnel setup
 * (DESIGN.md 5.1): the status from the Route Direction
 * (peercheck_status_check), then the certificate and staple of the Tunnel
 * Response (peercheck_verify_borrow, as node/tunnel.c calls it: the key
 * kept with the certificate).  Each case draws its peer from a pool of
 * BENCH_PEERS certificates, more than the caches hold, so every call meets
 * a certificate and a status it has never verified; only the AS
 * intermediate and the trust list are the same, as in a running ntmd.
 *
 *   uncached   peercheck_new_uncached: cert_verify (chain to the root
 *              through GnuTLS) and ocsp_verify on every call, as every
 *              cold check ran before the AS intermediate was remembered
 *              (it shares lib/cert.c's cheaper SAN and EKU reading);
 *   cold       a new peer, its status not seen before;
 *   cold+RD    a new peer whose status the Route Direction brought: the
 *              Route Direction's check and the Tunnel Response's together,
 *              and each on its own;
 *   warm       the same peer, certificate and status again (a cache hit:
 *              dates, names, addresses and freshness only).
 *
 * The baseline is one gnutls_pubkey_verify_data2() ECDSA P-256 signature
 * over 400 bytes, timed in the same run: "x verify" is a case's cost in
 * those units.  Costs are this thread's CPU time, so load from other
 * processes does not inflate them.
 *
 * Usage: bench_peercheck [seconds per case]   (default 1)
 */

enum {
	BENCH_PEERS = 512,		/* > every peercheck table */
	BENCH_TBS = 400,
	BENCH_ROUNDS = 5,
};

#define BENCH_NOW	((time_t)1795000000)

struct bench_peer {
	gnutls_datum_t		 der;
	gnutls_datum_t		 status;
	uint8_t			 hash[PROTO_HASH_LEN];
	uint8_t			 serial[32];
	size_t			 serial_len;
	uint8_t			 vip4[4];
	uint8_t			 vip6[16];
	char			 fqdn[64];
};

struct bench_ctx {
	struct ntm_rng		*rng;
	struct cert_ca		 ca;
	gnutls_privkey_t	 leaf_key;
	gnutls_pubkey_t		 as_pub;
	struct cert_trust	*trust;
	struct ocsp_signer	*signer;
	struct bench_peer	 peers[BENCH_PEERS];
	size_t			 next;
	struct peercheck	*pc;
	uint8_t			 tbs[BENCH_TBS];
	gnutls_datum_t		 sig;
};

typedef int	(*bench_fn)(struct bench_ctx *);

static double
bench_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Microseconds of this thread's CPU per call of fn, over `secs`. */
static double
bench_run(struct bench_ctx *c, bench_fn fn, double secs)
{
	double cpu0, t;
	unsigned long n = 0;
	int i, rv;

	if ((rv = fn(c)) < 0)
		fatalx("bench: the operation fails: %s",
		    peercheck_strerror(rv));
	cpu0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
	do {
		for (i = 0; i < 8; i++)
			if ((rv = fn(c)) < 0)
				fatalx("bench: the operation fails: %s",
				    peercheck_strerror(rv));
		n += 8;
		t = bench_clock(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	} while (t < secs);
	return t / (double)n * 1e6;
}

static void
bench_pc_new(struct bench_ctx *c, bool cache)
{
	struct peercheck_conf conf;

	peercheck_free(c->pc);
	memset(&conf, 0, sizeof(conf));
	conf.trust = c->trust;
	conf.as_ca = c->ca.as;
	if ((cache ? peercheck_new(&c->pc, &conf) :
	    peercheck_new_uncached(&c->pc, &conf)) < 0)
		fatalx("bench: peercheck_new");
	c->next = 0;
}

static struct peercheck_expect
bench_expect(const struct bench_peer *p)
{
	struct peercheck_expect ex;

	memset(&ex, 0, sizeof(ex));
	ex.fqdn = p->fqdn;
	ex.vip4 = p->vip4;
	ex.vip6 = p->vip6;
	ex.cert_hash = p->hash;
	ex.serial = p->serial;
	ex.serial_len = p->serial_len;
	return ex;
}

static int
bench_verify_peer(struct bench_ctx *c, const struct bench_peer *p)
{
	struct peercheck_expect ex = bench_expect(p);
	gnutls_pubkey_t pub;

	/* The key is lent, as the handshake check needs it. */
	return peercheck_verify_borrow(c->pc, p->der.data, p->der.size,
	    p->status.data, p->status.size, &ex, BENCH_NOW, &pub);
}

static int
bench_rd_peer(struct bench_ctx *c, const struct bench_peer *p)
{
	return peercheck_status_check(c->pc, p->fqdn, p->serial,
	    p->serial_len, p->status.data, p->status.size, BENCH_NOW);
}

static struct bench_peer *
bench_next(struct bench_ctx *c)
{
	struct bench_peer *p = &c->peers[c->next];

	c->next = (c->next + 1) % BENCH_PEERS;
	return p;
}

static int
bench_raw_verify(struct bench_ctx *c)
{
	gnutls_datum_t tbs = { c->tbs, sizeof(c->tbs) };

	return gnutls_pubkey_verify_data2(c->as_pub, GNUTLS_SIGN_ECDSA_SHA256,
	    0, &tbs, &c->sig) < 0 ? -EIO : 0;
}

static int
bench_cold(struct bench_ctx *c)
{
	return bench_verify_peer(c, bench_next(c));
}

static int
bench_cold_rd_both(struct bench_ctx *c)
{
	struct bench_peer *p = bench_next(c);
	int rv;

	if ((rv = bench_rd_peer(c, p)) < 0)
		return rv;
	return bench_verify_peer(c, p);
}

static int
bench_cold_rd_only(struct bench_ctx *c)
{
	return bench_rd_peer(c, bench_next(c));
}

static int
bench_warm(struct bench_ctx *c)
{
	return bench_verify_peer(c, &c->peers[0]);
}

static void
bench_peer_make(struct bench_ctx *c, struct bench_peer *p, size_t i)
{
	struct cert_issuer iss = { c->ca.as, c->ca.as_key };
	struct cert_request req;
	struct ocsp_status st;
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t pub;

	memset(&req, 0, sizeof(req));
	snprintf(p->fqdn, sizeof(p->fqdn), "n%zu.dc2.ntm.test", i);
	req.role = CERT_ROLE_NODE;
	req.fqdn = p->fqdn;
	req.has_vip4 = true;
	req.vip4.s_addr = htonl(0xc6120000u | (uint32_t)(i + 10));
	req.has_vip6 = true;
	inet_pton(AF_INET6, "fd6e:746d:6f62:2::", &req.vip6);
	req.vip6.s6_addr[14] = (uint8_t)(i >> 8);
	req.vip6.s6_addr[15] = (uint8_t)i;
	memcpy(p->vip4, &req.vip4, 4);
	memcpy(p->vip6, &req.vip6, 16);
	/*
	 * One key for every peer: the check verifies the AS's signature on
	 * the certificate, whose cost does not depend on the subject key.
	 */
	if (cert_pubkey_of(c->leaf_key, &pub) < 0)
		fatalx("bench: key");
	req.pubkey = pub;
	if (cert_issue(&req, &iss, c->rng, BENCH_NOW - 3600, &crt) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &p->der) < 0)
		fatalx("bench: issuance");
	gnutls_pubkey_deinit(pub);
	crypto_sha256(p->hash, p->der.data, p->der.size);
	p->serial_len = sizeof(p->serial);
	if (gnutls_x509_crt_get_serial(crt, p->serial, &p->serial_len) < 0)
		fatalx("bench: serial");
	gnutls_x509_crt_deinit(crt);
	memset(&st, 0, sizeof(st));
	st.status = OCSP_CERT_GOOD;
	st.produced_at = st.this_update = BENCH_NOW - 60;
	st.next_update = st.this_update + OCSP_VALIDITY_DEFAULT;
	if (ocsp_sign(c->signer, c->ca.as_key, p->serial, p->serial_len, &st,
	    &p->status) < 0)
		fatalx("bench: status");
}

static void
bench_setup(struct bench_ctx *c)
{
	gnutls_datum_t tbs;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->rng = rng_system();
	if (testca_make(&c->ca, NULL, c->rng, BENCH_NOW - 86400) < 0 ||
	    ocsp_signer_new(c->ca.as, &c->signer) < 0 ||
	    cert_trust_new(&c->ca.root, 1, &c->trust) < 0)
		fatalx("bench: root and AS CA");
	if (cert_key_generate(CERT_KEY_P256, &c->leaf_key) < 0 ||
	    cert_pubkey_of(c->ca.as_key, &c->as_pub) < 0)
		fatalx("bench: keys");
	for (i = 0; i < BENCH_PEERS; i++)
		bench_peer_make(c, &c->peers[i], i);
	for (i = 0; i < sizeof(c->tbs); i++)
		c->tbs[i] = (uint8_t)i;
	tbs.data = c->tbs;
	tbs.size = sizeof(c->tbs);
	if (gnutls_privkey_sign_data2(c->ca.as_key, GNUTLS_SIGN_ECDSA_SHA256, 0,
	    &tbs, &c->sig) < 0)
		fatalx("bench: signature");
}

static void
bench_teardown(struct bench_ctx *c)
{
	size_t i;

	peercheck_free(c->pc);
	for (i = 0; i < BENCH_PEERS; i++) {
		gnutls_free(c->peers[i].der.data);
		gnutls_free(c->peers[i].status.data);
	}
	gnutls_free(c->sig.data);
	cert_trust_free(c->trust);
	ocsp_signer_free(c->signer);
	gnutls_pubkey_deinit(c->as_pub);
	gnutls_privkey_deinit(c->leaf_key);
	cert_ca_clear(&c->ca);
}

static void
bench_row(const char *name, double us, double floor)
{
	printf("%-44s %9.1f %9.2f\n", name, us, us / floor);
}

enum bench_case {
	BC_FLOOR, BC_UNCACHED, BC_COLD, BC_BOTH, BC_RD, BC_WARM, BC_N,
};

static const struct {
	bench_fn	 fn;
	bool		 cache;
} bench_cases[BC_N] = {
	[BC_FLOOR] = { bench_raw_verify, true },
	[BC_UNCACHED] = { bench_cold, false },
	[BC_COLD] = { bench_cold, true },
	[BC_BOTH] = { bench_cold_rd_both, true },
	[BC_RD] = { bench_cold_rd_only, true },
	[BC_WARM] = { bench_warm, true },
};

int
main(int argc, char **argv)
{
	struct bench_ctx c;
	double secs = 1, us[BC_N], t, floor;
	int round, k;

	if (argc > 1 && (secs = atof(argv[1])) <= 0) {
		fprintf(stderr, "usage: bench_peercheck [seconds per case]\n");
		return 2;
	}
	log_init("bench_peercheck", 1, LOG_LEVEL_ERR);
	if (gnutls_global_init() < 0)
		fatalx("gnutls_global_init");
	bench_setup(&c);
	/*
	 * The cases take turns, BENCH_ROUNDS times, and each keeps its
	 * cheapest round: another process sharing the core (caches, the
	 * sibling hyperthread) only ever makes a round dearer.
	 */
	for (k = 0; k < BC_N; k++)
		us[k] = 0;
	for (round = 0; round < BENCH_ROUNDS; round++)
		for (k = 0; k < BC_N; k++) {
			bench_pc_new(&c, bench_cases[k].cache);
			t = bench_run(&c, bench_cases[k].fn,
			    secs / BENCH_ROUNDS);
			if (round == 0 || t < us[k])
				us[k] = t;
		}
	floor = us[BC_FLOOR];
	printf("bench_peercheck: %d peers, %.1f s per case in %d rounds "
	    "(cheapest kept), GnuTLS %s, CPU us per call\n", BENCH_PEERS,
	    secs, BENCH_ROUNDS, gnutls_check_version(NULL));
	printf("%-44s %9s %9s\n", "case", "us", "x verify");
	bench_row("ECDSA P-256 verify (baseline)", floor, floor);
	bench_row("uncached: full check of a new peer", us[BC_UNCACHED],
	    floor);
	bench_row("cold: new peer, new status", us[BC_COLD], floor);
	bench_row("cold+RD: Route Direction + Tunnel Response", us[BC_BOTH],
	    floor);
	bench_row("  Route Direction status check alone", us[BC_RD], floor);
	bench_row("  Tunnel Response check (difference)",
	    us[BC_BOTH] - us[BC_RD], floor);
	bench_row("warm: same certificate and status again", us[BC_WARM],
	    floor);
	printf("ratio uncached / cold: %.2f; uncached / Tunnel Response "
	    "after RD: %.2f; uncached / warm: %.1f\n",
	    us[BC_UNCACHED] / us[BC_COLD],
	    us[BC_UNCACHED] / (us[BC_BOTH] - us[BC_RD]),
	    us[BC_UNCACHED] / us[BC_WARM]);
	bench_teardown(&c);
	gnutls_global_deinit();
	return 0;
}
