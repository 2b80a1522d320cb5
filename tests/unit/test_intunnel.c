/* test_intunnel.c -- in-tunnel rekey and certificate/status updates between two tunnel ends over real data-plane keys. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cert.h"
#include "crypto.h"
#include "dataplane.h"
#include "frag.h"
#include "intunnel.h"
#include "kex.h"
#include "log.h"
#include "msg.h"
#include "ocsp.h"
#include "peercheck.h"
#include "proto.h"
#include "rand.h"

#include "../testca.h"

/* Certificate dates are around this wall clock; the data plane's ms clock
 * starts at T0. */
#define NOW_S	((time_t)1795000000)
#define T0	((uint64_t)1000000)

/* ---- PKI ---- */

struct ca {
	struct cert_ca		 cert;
	struct ocsp_signer	*signer;
};

struct leaf {
	gnutls_privkey_t	 key;
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 der;
	uint8_t			 serial[32];
	size_t			 serial_len;
};

struct pki {
	struct ntm_rng		*rng;
	struct ca		 ca;
	struct cert_trust	*trust;
	struct leaf		 alice, bob, bob_rsa, bob_renewed, bob_named,
				 bob_vip;
};

static void
ca_make(struct pki *p, struct ca *c)
{
	assert_int_equal(testca_make(&c->cert, NULL, p->rng,
	    NOW_S - 30 * 86400), 0);
	assert_int_equal(ocsp_signer_new(c->cert.as, &c->signer), 0);
}

static void
leaf_make(struct pki *p, struct leaf *l, enum cert_keytype kt,
    const char *fqdn, const char *v4, const char *v6, time_t issued)
{
	const struct testca_leaf tl = { .keytype = kt, .fqdn = fqdn,
	    .vip4 = v4, .vip6 = v6, .lifetime = 86400 };

	assert_int_equal(testca_issue(&p->ca.cert, &tl, p->rng, issued,
	    &l->key, &l->crt), 0);
	assert_int_equal(gnutls_x509_crt_export2(l->crt, GNUTLS_X509_FMT_DER,
	    &l->der), 0);
	l->serial_len = sizeof(l->serial);
	assert_int_equal(gnutls_x509_crt_get_serial(l->crt, l->serial,
	    &l->serial_len), 0);
}

static void
leaf_free(struct leaf *l)
{
	gnutls_free(l->der.data);
	gnutls_x509_crt_deinit(l->crt);
	gnutls_privkey_deinit(l->key);
}

/* A status of l signed by the AS, valid from t for 600 s. */
static gnutls_datum_t
status_make(const struct pki *p, const struct leaf *l,
    enum ocsp_cert_status s, time_t t)
{
	struct ocsp_status st;
	gnutls_datum_t der;

	memset(&st, 0, sizeof(st));
	st.status = s;
	st.produced_at = t;
	st.this_update = t;
	st.next_update = t + OCSP_VALIDITY_DEFAULT;
	if (s == OCSP_CERT_REVOKED)
		st.revocation_time = t - 5;
	assert_int_equal(ocsp_sign(p->ca.signer, p->ca.cert.as_key, l->serial,
	    l->serial_len, &st, &der), 0);
	return der;
}

#define A_V4	"198.18.1.10"
#define A_V6	"fd6e:746d:6f62:1::10"
#define B_V4	"198.18.2.10"
#define B_V6	"fd6e:746d:6f62:2::10"

static int
group_setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	log_init("test_intunnel", 1, LOG_LEVEL_ERR);
	p->rng = rng_seeded_new("test_intunnel", 13);
	ca_make(p, &p->ca);
	assert_int_equal(cert_trust_new(&p->ca.cert.root, 1, &p->trust), 0);
	leaf_make(p, &p->alice, CERT_KEY_P256, "alice.dc1.ntm.test", A_V4,
	    A_V6, NOW_S - 3600);
	leaf_make(p, &p->bob, CERT_KEY_P256, "bob.dc2.ntm.test", B_V4, B_V6,
	    NOW_S - 3600);
	leaf_make(p, &p->bob_rsa, CERT_KEY_RSA2048, "bob.dc2.ntm.test", B_V4,
	    B_V6, NOW_S - 3600);
	leaf_make(p, &p->bob_renewed, CERT_KEY_P256, "bob.dc2.ntm.test", B_V4,
	    B_V6, NOW_S - 60);
	leaf_make(p, &p->bob_named, CERT_KEY_P256, "carol.dc2.ntm.test",
	    B_V4, B_V6, NOW_S - 3600);
	leaf_make(p, &p->bob_vip, CERT_KEY_P256, "bob.dc2.ntm.test",
	    "198.18.2.11", B_V6, NOW_S - 3600);
	*state = p;
	return 0;
}

static int
group_teardown(void **state)
{
	struct pki *p = *state;

	leaf_free(&p->bob_vip);
	leaf_free(&p->bob_named);
	leaf_free(&p->bob_renewed);
	leaf_free(&p->bob_rsa);
	leaf_free(&p->bob);
	leaf_free(&p->alice);
	cert_trust_free(p->trust);
	ocsp_signer_free(p->ca.signer);
	cert_ca_clear(&p->ca.cert);
	rng_free(p->rng);
	free(p);
	return 0;
}

/* ---- two tunnel ends and the wire between them ---- */

enum { WIRE_MAX = 64, PKT = 2048 };

struct pkt {
	uint8_t		 b[PKT];
	size_t		 len;
};

struct end;

struct wire {
	struct pkt	 q[WIRE_MAX];
	size_t		 n;
	unsigned	 lose;		/* drop the next `lose` packets */
	unsigned	 lost;
};

struct end {
	const char		*name;
	struct dataplane	*dp;
	struct dataplane_tunnel	*t;
	struct peercheck	*pc;
	struct frag_table	*frag;
	struct intunnel		*it;
	struct wire		 out;		/* sealed, toward the other */
	unsigned		 sent;		/* in-tunnel messages */
	bool			 closed;
	enum proto_status	 close_status;
	char			 close_why[256];
};

struct pair {
	struct pki		*p;
	struct end		 a, b;		/* a: initiator (alice) */
	struct kex_allowed	 allowed;
	const struct leaf	*bob;
	uint64_t		 now;
	time_t			 wall;
};

static int
end_send(void *arg, const uint8_t *msg, size_t len, bool old)
{
	struct end *e = arg;
	struct pkt *k;
	int rc;

	assert_true(len <= PROTO_DATAGRAM_MAX);
	e->sent++;
	if (e->out.lose > 0) {
		e->out.lose--;
		e->out.lost++;
		return 0;
	}
	assert_true(e->out.n < WIRE_MAX);
	k = &e->out.q[e->out.n];
	rc = old ? dataplane_seal_old(e->t, PROTO_MSG_TUNNEL_CONTROL, msg,
	    len, k->b, sizeof(k->b), &k->len) : dataplane_seal(e->t,
	    PROTO_MSG_TUNNEL_CONTROL, msg, len, k->b, sizeof(k->b), &k->len);
	if (rc == 0)
		e->out.n++;
	return rc;
}

static void
end_close(void *arg, enum proto_status st, const char *why)
{
	struct end *e = arg;

	e->closed = true;
	e->close_status = st;
	snprintf(e->close_why, sizeof(e->close_why), "%s", why);
}

static void
pton(int af, const char *s, uint8_t *out)
{
	assert_int_equal(inet_pton(af, s, out), 1);
}

static void
end_make(struct pair *pp, struct end *e, const char *name, bool initiator,
    const struct leaf *own, const struct leaf *peer, const char *peer_fqdn,
    const char *own4, const char *own6, const char *peer4,
    const char *peer6, const uint8_t *k1, const uint8_t *k2,
    const uint8_t *krekey, uint8_t kex)
{
	struct peercheck_conf pcc = { pp->p->trust, pp->p->ca.cert.as, 0, 0,
	    0 };
	struct peercheck_expect exp;
	struct dataplane_conf dc;
	struct dataplane_tunnel_conf tc;
	struct intunnel_conf ic;
	gnutls_datum_t st;

	memset(e, 0, sizeof(*e));
	e->name = name;
	memset(&dc, 0, sizeof(dc));
	dc.has_vip4 = dc.has_vip6 = true;
	pton(AF_INET, own4, dc.vip4);
	pton(AF_INET6, own6, dc.vip6);
	assert_int_equal(dataplane_new(&e->dp, &dc, pp->p->rng), 0);
	memset(&tc, 0, sizeof(tc));
	tc.rid = initiator ? 0x1111 : 0x2222;
	tc.peer_rid = initiator ? 0x2222 : 0x1111;
	tc.alg = AEAD_ALG_AES256GCM;
	tc.role = initiator ? DATAPLANE_ROLE_INITIATOR :
	    DATAPLANE_ROLE_RESPONDER;
	memcpy(tc.key_i2r, k1, PROTO_KEY_LEN);
	memcpy(tc.key_r2i, k2, PROTO_KEY_LEN);
	tc.has_vip4 = tc.has_vip6 = true;
	pton(AF_INET, peer4, tc.peer_vip4);
	pton(AF_INET6, peer6, tc.peer_vip6);
	tc.peer_addr.ss_family = AF_INET;
	assert_int_equal(dataplane_tunnel_add(e->dp, &tc, &e->t), 0);
	dataplane_timers_start(e->t, pp->now, false);
	assert_int_equal(peercheck_new(&e->pc, &pcc), 0);
	assert_non_null(e->frag = malloc(sizeof(*e->frag)));
	frag_table_init(e->frag);

	/* What the handshake checked and stapled. */
	st = status_make(pp->p, peer, OCSP_CERT_GOOD, pp->wall - 60);
	memset(&exp, 0, sizeof(exp));
	exp.fqdn = peer_fqdn;
	exp.vip4 = tc.peer_vip4;
	exp.vip6 = tc.peer_vip6;
	assert_int_equal(peercheck_verify(e->pc, peer->der.data,
	    peer->der.size, st.data, st.size, &exp, pp->wall, NULL), 0);
	memset(&ic, 0, sizeof(ic));
	ic.path_id = (const uint8_t *)"0123456789abcdef";
	ic.peer = peer_fqdn;
	ic.role = tc.role;
	ic.kex = kex;
	ic.allowed = &pp->allowed;
	ic.k_rekey = krekey;
	ic.peer_cert = peer->der.data;
	ic.peer_cert_len = peer->der.size;
	ic.peer_status = st.data;
	ic.peer_status_len = st.size;
	ic.has_vip4 = ic.has_vip6 = true;
	ic.peer_vip4 = tc.peer_vip4;
	ic.peer_vip6 = tc.peer_vip6;
	ic.own_key = own->key;
	ic.pc = e->pc;
	ic.frag = e->frag;
	ic.rng = pp->p->rng;
	ic.send = end_send;
	ic.close = end_close;
	ic.arg = e;
	assert_int_equal(intunnel_new(&e->it, &ic, e->t), 0);
	gnutls_free(st.data);
}

static void
end_free(struct end *e)
{
	intunnel_free(e->it);
	peercheck_free(e->pc);
	free(e->frag);
	dataplane_free(e->dp);
}

static struct pair *
pair_new(struct pki *p, uint8_t kex)
{
	struct pair *pp = calloc(1, sizeof(*pp));
	uint8_t k1[PROTO_KEY_LEN], k2[PROTO_KEY_LEN], kr[PROTO_KEY_LEN];

	assert_non_null(pp);
	pp->p = p;
	pp->now = T0;
	pp->wall = NOW_S;
	pp->bob = kex == PROTO_KEX_RSA ? &p->bob_rsa : &p->bob;
	assert_int_equal(kex_allowed_parse("shared, rsa, ecdhe",
	    &pp->allowed), 0);
	memset(k1, 0x11, sizeof(k1));
	memset(k2, 0x22, sizeof(k2));
	memset(kr, 0x33, sizeof(kr));
	end_make(pp, &pp->a, "alice", true, &p->alice, pp->bob,
	    "bob.dc2.ntm.test", A_V4, A_V6, B_V4, B_V6, k1, k2, kr, kex);
	end_make(pp, &pp->b, "bob", false, pp->bob, &p->alice,
	    "alice.dc1.ntm.test", B_V4, B_V6, A_V4, A_V6, k1, k2, kr, kex);
	return pp;
}

static void
pair_free(struct pair *pp)
{
	end_free(&pp->a);
	end_free(&pp->b);
	free(pp);
}

/* Delivers what `from` has queued to `to`; returns packets delivered. */
static size_t
deliver(struct pair *pp, struct end *from, struct end *to)
{
	struct dataplane_rx rx;
	struct pkt q[WIRE_MAX];
	size_t n = from->out.n, i;

	memcpy(q, from->out.q, n * sizeof(q[0]));
	from->out.n = 0;
	for (i = 0; i < n; i++) {
		if (dataplane_open(to->dp, q[i].b, q[i].len, NULL, &rx) !=
		    DATAPLANE_OK)
			continue;
		assert_int_equal(rx.type, PROTO_MSG_TUNNEL_CONTROL);
		(void)intunnel_input(to->it, rx.inner, rx.inner_len, pp->now,
		    pp->wall);
	}
	return n;
}

static void
pump(struct pair *pp)
{
	while (deliver(pp, &pp->a, &pp->b) + deliver(pp, &pp->b, &pp->a) > 0)
		;
}

/* One DATA packet from `from` to `to`, sealed now; the receiver's verdict. */
static enum dataplane_verdict
data(struct end *from, struct end *to, const char *src, const char *dst)
{
	uint8_t ip[40], out[PKT];
	struct dataplane_rx rx;
	size_t len;

	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[3] = 28;
	ip[8] = 64;
	ip[9] = 17;
	pton(AF_INET, src, ip + 12);
	pton(AF_INET, dst, ip + 16);
	assert_int_equal(dataplane_seal(from->t, PROTO_MSG_DATA, ip, 28, out,
	    sizeof(out), &len), 0);
	return dataplane_open(to->dp, out, len, NULL, &rx);
}

static void
both_ways_ok(struct pair *pp)
{
	assert_int_equal(data(&pp->a, &pp->b, A_V4, B_V4), DATAPLANE_OK);
	assert_int_equal(data(&pp->b, &pp->a, B_V4, A_V4), DATAPLANE_OK);
}

static void
tick(struct pair *pp, struct end *e)
{
	intunnel_tick(e->it, dataplane_timers_due(e->t, pp->now), pp->now,
	    pp->wall);
}

/* ---- rekey ---- */

static void
rekey_scheme(struct pki *p, uint8_t kex)
{
	struct pair *pp = pair_new(p, kex);

	both_ways_ok(pp);
	assert_int_equal(intunnel_rekey(pp->a.it, pp->now), 0);
	assert_true(intunnel_rekey_pending(pp->a.it));
	assert_int_equal(intunnel_rekey(pp->a.it, pp->now), -EBUSY);
	pump(pp);
	assert_false(intunnel_rekey_pending(pp->a.it));
	assert_int_equal(intunnel_epoch(pp->a.it), 1);
	assert_int_equal(intunnel_epoch(pp->b.it), 1);
	assert_int_equal(dataplane_tunnel_tx_phase(pp->a.t), 1);
	assert_int_equal(dataplane_tunnel_tx_phase(pp->b.t), 1);
	both_ways_ok(pp);
	/* A second rekey goes back to phase 0 with new keys (k_rekey
	 * chained: a stale k_rekey on either side would fail here). */
	assert_int_equal(intunnel_rekey(pp->a.it, pp->now), 0);
	pump(pp);
	assert_int_equal(intunnel_epoch(pp->a.it), 2);
	assert_int_equal(intunnel_epoch(pp->b.it), 2);
	assert_int_equal(dataplane_tunnel_tx_phase(pp->a.t), 0);
	both_ways_ok(pp);
	assert_true(intunnel_stats(pp->a.it)->rekeys == 2);
	assert_true(intunnel_stats(pp->b.it)->rekeys == 2);
	assert_true(intunnel_stats(pp->a.it)->rekeys_started == 2);
	assert_true(intunnel_stats(pp->b.it)->rekey_dropped == 0);
	pair_free(pp);
}

static void
test_rekey_ecdhe(void **state)
{
	rekey_scheme(*state, PROTO_KEX_ECDHE);
}

static void
test_rekey_shared(void **state)
{
	rekey_scheme(*state, PROTO_KEX_SHARED);
}

static void
test_rekey_rsa(void **state)
{
	rekey_scheme(*state, PROTO_KEX_RSA);
}

/* The data plane's timer starts it: the initiator at the interval. */
static void
test_rekey_by_timer(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_ECDHE);

	assert_int_equal(dataplane_tunnel_set_rekey(pp->a.t, 5000, 0), 0);
	assert_int_equal(dataplane_tunnel_set_rekey(pp->b.t, 5000, 0), 0);
	pp->now += 4999;
	tick(pp, &pp->a);
	tick(pp, &pp->b);
	assert_int_equal(pp->a.sent + pp->b.sent, 0);
	pp->now += 1;
	tick(pp, &pp->a);
	tick(pp, &pp->b);
	assert_int_equal(pp->a.sent, 1);
	assert_int_equal(pp->b.sent, 0);
	pump(pp);
	assert_int_equal(intunnel_epoch(pp->b.it), 1);
	assert_int_equal(intunnel_epoch(pp->a.it), 1);
	both_ways_ok(pp);
	/* The next one 5 s after the switch, again by the initiator. */
	pp->now += 5000;
	tick(pp, &pp->b);
	tick(pp, &pp->a);
	pump(pp);
	assert_int_equal(intunnel_epoch(pp->a.it), 2);
	assert_true(intunnel_stats(pp->b.it)->rekeys_started == 0);
	pair_free(pp);
}

/* CN steps in when MN does not rekey within 10 s. */
static void
test_rekey_responder_steps_in(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_ECDHE);

	assert_int_equal(dataplane_tunnel_set_rekey(pp->b.t, 5000, 0), 0);
	pp->now += 5000 + PROTO_TIMER_OLD_KEY - 1;
	tick(pp, &pp->b);
	assert_int_equal(pp->b.sent, 0);
	pp->now += 1;
	tick(pp, &pp->b);
	assert_int_equal(pp->b.sent, 1);
	pump(pp);
	assert_int_equal(intunnel_epoch(pp->a.it), 1);
	assert_int_equal(intunnel_epoch(pp->b.it), 1);
	both_ways_ok(pp);
	pair_free(pp);
}

/* In an rsa tunnel only the initiator asks (the responder's request
 * would encapsulate to an ECDSA key). */
static void
test_rekey_rsa_responder_waits(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_RSA);

	assert_int_equal(dataplane_tunnel_set_rekey(pp->b.t, 5000, 0), 0);
	pp->now += 5000 + PROTO_TIMER_OLD_KEY;
	tick(pp, &pp->b);
	pp->now += 30000;
	tick(pp, &pp->b);
	assert_int_equal(pp->b.sent, 0);
	assert_int_equal(intunnel_epoch(pp->b.it), 0);
	pair_free(pp);
}

/* The answer is lost: the request is sent again and answered again. */
static void
test_rekey_lost_response(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_ECDHE);

	assert_int_equal(intunnel_rekey(pp->a.it, pp->now), 0);
	pp->b.out.lose = 1;
	pump(pp);
	assert_int_equal(pp->b.out.lost, 1);
	/* B switched after answering; A did not get the answer. */
	assert_int_equal(intunnel_epoch(pp->b.it), 1);
	assert_int_equal(intunnel_epoch(pp->a.it), 0);
	assert_true(intunnel_rekey_pending(pp->a.it));
	/* A's old-key packets still open at B; B's new ones not yet at A. */
	assert_int_equal(data(&pp->a, &pp->b, A_V4, B_V4), DATAPLANE_OK);
	assert_int_not_equal(data(&pp->b, &pp->a, B_V4, A_V4), DATAPLANE_OK);
	/* Nothing before 250 ms, then the same request again. */
	pp->now += PROTO_TIMER_RETRANSMIT - 1;
	tick(pp, &pp->a);
	assert_int_equal(pp->a.sent, 1);
	pp->now += 1;
	tick(pp, &pp->a);
	assert_int_equal(pp->a.sent, 2);
	pump(pp);
	assert_int_equal(intunnel_epoch(pp->a.it), 1);
	assert_int_equal(intunnel_epoch(pp->b.it), 1);
	both_ways_ok(pp);
	assert_true(intunnel_stats(pp->a.it)->rekey_retransmits == 1);
	assert_true(intunnel_stats(pp->b.it)->rekeys == 1);
	assert_true(intunnel_stats(pp->a.it)->rekeys == 1);
	pair_free(pp);
}

/* No answer at all: five sends, then counted and tried again later. */
static void
test_rekey_no_answer(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_ECDHE);
	int i;

	pp->a.out.lose = 100;
	assert_int_equal(intunnel_rekey(pp->a.it, pp->now), 0);
	for (i = 0; i < 80; i++) {
		pp->now += 100;
		tick(pp, &pp->a);
	}
	assert_int_equal(pp->a.out.lost, PROTO_TIMER_RETRANSMIT_TRIES);
	assert_false(intunnel_rekey_pending(pp->a.it));
	assert_true(intunnel_stats(pp->a.it)->rekey_failed == 1);
	assert_int_equal(intunnel_epoch(pp->a.it), 0);
	pp->a.out.lose = 0;
	pp->now += PROTO_TIMER_OLD_KEY;
	tick(pp, &pp->a);
	assert_true(intunnel_rekey_pending(pp->a.it));
	pump(pp);
	assert_int_equal(intunnel_epoch(pp->a.it), 1);
	assert_int_equal(intunnel_epoch(pp->b.it), 1);
	both_ways_ok(pp);
	pair_free(pp);
}

/* A request for an epoch other than current + 1 is dropped, counted. */
static void
test_rekey_epoch_mismatch(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_SHARED);
	uint8_t nonce[PROTO_RANDOM_LEN], buf[256];
	struct msg m;
	size_t len;

	memset(nonce, 7, sizeof(nonce));
	msg_init(&m, PROTO_MSG_REKEY_REQUEST);
	m.hdr.txid = 99;
	memcpy(m.hdr.id, "0123456789abcdef", PROTO_ID_LEN);
	assert_int_equal(msg_add_u32(&m, PROTO_ATTR_KEY_EPOCH, 3), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_NONCE, nonce,
	    sizeof(nonce)), 0);
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(intunnel_input(pp->b.it, buf, len, pp->now,
	    pp->wall), -ESTALE);
	assert_true(intunnel_stats(pp->b.it)->rekey_dropped == 1);
	assert_int_equal(pp->b.sent, 0);
	assert_int_equal(intunnel_epoch(pp->b.it), 0);
	/* Another tunnel's path id: not ours at all. */
	buf[PROTO_HEADER_LEN - 1] ^= 1;
	m.hdr.id[PROTO_ID_LEN - 1] ^= 1;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(intunnel_input(pp->b.it, buf, len, pp->now,
	    pp->wall), -EPROTO);
	/* A real rekey still works afterwards. */
	assert_int_equal(intunnel_rekey(pp->a.it, pp->now), 0);
	pump(pp);
	assert_int_equal(intunnel_epoch(pp->b.it), 1);
	both_ways_ok(pp);
	pair_free(pp);
}

/* Both ask at once: the original initiator's request wins. */
static void
test_rekey_crossed(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_ECDHE);

	assert_int_equal(intunnel_rekey(pp->a.it, pp->now), 0);
	assert_int_equal(intunnel_rekey(pp->b.it, pp->now), 0);
	pump(pp);
	assert_int_equal(intunnel_epoch(pp->a.it), 1);
	assert_int_equal(intunnel_epoch(pp->b.it), 1);
	assert_false(intunnel_rekey_pending(pp->a.it));
	assert_false(intunnel_rekey_pending(pp->b.it));
	assert_true(intunnel_stats(pp->a.it)->rekey_dropped == 1);
	both_ways_ok(pp);
	pair_free(pp);
}

/* Old receive keys live PROTO_TIMER_OLD_KEY after the switch. */
static void
test_rekey_old_key_window(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_ECDHE);
	uint8_t ip[28], late1[PKT], late2[PKT];
	struct dataplane_rx rx;
	size_t l1, l2;

	memset(ip, 0, sizeof(ip));
	ip[0] = 0x45;
	ip[3] = 28;
	pton(AF_INET, A_V4, ip + 12);
	pton(AF_INET, B_V4, ip + 16);
	/* Two packets under epoch 0, delivered after the rekey. */
	assert_int_equal(dataplane_seal(pp->a.t, PROTO_MSG_DATA, ip, 28,
	    late1, sizeof(late1), &l1), 0);
	assert_int_equal(dataplane_seal(pp->a.t, PROTO_MSG_DATA, ip, 28,
	    late2, sizeof(late2), &l2), 0);
	assert_int_equal(intunnel_rekey(pp->a.it, pp->now), 0);
	pump(pp);
	assert_int_equal(intunnel_epoch(pp->b.it), 1);
	pp->now += PROTO_TIMER_OLD_KEY - 1;
	tick(pp, &pp->b);
	assert_int_equal(dataplane_open(pp->b.dp, late1, l1, NULL, &rx),
	    DATAPLANE_OK);
	pp->now += 1;
	tick(pp, &pp->b);
	assert_int_equal(dataplane_open(pp->b.dp, late2, l2, NULL, &rx),
	    DATAPLANE_DROP_NO_KEY);
	both_ways_ok(pp);
	pair_free(pp);
}

/* ---- certificate and status updates ---- */

static void
update(struct pair *pp, const struct leaf *l, gnutls_datum_t st)
{
	assert_int_equal(intunnel_cert_update(pp->b.it, l->der.data,
	    l->der.size, st.data, st.size, pp->now), 0);
	gnutls_free(st.data);
	pump(pp);
}

static void
test_update_restaple(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_ECDHE);
	time_t before = intunnel_peer_status_expiry(pp->a.it);

	pp->wall += 300;
	update(pp, pp->bob, status_make(pp->p, pp->bob, OCSP_CERT_GOOD,
	    pp->wall));
	assert_false(intunnel_update_pending(pp->b.it));
	assert_true(intunnel_stats(pp->b.it)->cert_updates_acked == 1);
	assert_true(intunnel_stats(pp->a.it)->cert_updates_accepted == 1);
	assert_true(intunnel_peer_status_expiry(pp->a.it) == before + 360);
	assert_false(pp->a.closed);
	/* Past the first staple's nextUpdate the tunnel lives on. */
	pp->wall = before + 1;
	tick(pp, &pp->a);
	assert_false(pp->a.closed);
	/* Past the second one's without an update it is closed. */
	pp->wall = intunnel_peer_status_expiry(pp->a.it);
	tick(pp, &pp->a);
	assert_true(pp->a.closed);
	assert_int_equal(pp->a.close_status, PROTO_STATUS_EXPIRED);
	pair_free(pp);
}

static void
test_update_renewed_cert(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_ECDHE);
	const struct leaf *nb = &pp->p->bob_renewed;
	const uint8_t *der;
	size_t len;

	update(pp, nb, status_make(pp->p, nb, OCSP_CERT_GOOD, pp->wall));
	assert_true(intunnel_stats(pp->a.it)->cert_updates_accepted == 1);
	assert_true(intunnel_stats(pp->b.it)->cert_updates_acked == 1);
	intunnel_peer_cert(pp->a.it, &der, &len);
	assert_int_equal(len, nb->der.size);
	assert_memory_equal(der, nb->der.data, len);
	assert_false(pp->a.closed);
	pair_free(pp);
}

/*
 * A message over a datagram goes as fragments (PROTOCOL.md 11).  Real
 * node certificates and statuses fit one (an RSA-2048 certificate here is
 * about 720 bytes), so the test sends 3000 bytes that are no certificate:
 * only the whole message, reassembled, can be refused as one.  A lost
 * fragment holds everything back until the retransmission completes it.
 */
static void
test_update_fragmented(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_ECDHE);
	gnutls_datum_t st;
	uint8_t *junk;

	assert_non_null(junk = malloc(3000));
	memset(junk, 0x30, 3000);
	st = status_make(pp->p, pp->bob, OCSP_CERT_GOOD, pp->wall);
	pp->b.out.lose = 1;
	assert_int_equal(intunnel_cert_update(pp->b.it, junk, 3000, st.data,
	    st.size, pp->now), 0);
	assert_true(pp->b.sent >= 3);
	pump(pp);
	assert_false(pp->a.closed);
	assert_true(intunnel_stats(pp->a.it)->cert_updates_refused == 0);
	pp->now += PROTO_TIMER_RETRANSMIT;
	tick(pp, &pp->b);
	pump(pp);
	assert_true(pp->a.closed);
	assert_int_equal(pp->a.close_status, PROTO_STATUS_CERT_INVALID);
	assert_true(intunnel_stats(pp->a.it)->cert_updates_refused == 1);
	gnutls_free(st.data);
	free(junk);
	pair_free(pp);
}

/* The ACK is lost: the update is sent again and acknowledged again. */
static void
test_update_lost_ack(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_ECDHE);

	pp->a.out.lose = 1;
	pp->wall += 10;
	update(pp, pp->bob, status_make(pp->p, pp->bob, OCSP_CERT_GOOD,
	    pp->wall));
	assert_true(intunnel_update_pending(pp->b.it));
	pp->now += PROTO_TIMER_RETRANSMIT;
	tick(pp, &pp->b);
	pump(pp);
	assert_false(intunnel_update_pending(pp->b.it));
	assert_true(intunnel_stats(pp->a.it)->cert_updates_accepted == 1);
	assert_false(pp->a.closed);
	pair_free(pp);
}

static void
assert_update_closes(const struct leaf *l, enum ocsp_cert_status s,
    struct pki *p, enum proto_status want)
{
	struct pair *pp = pair_new(p, PROTO_KEX_ECDHE);

	pp->wall += 10;
	update(pp, l, status_make(p, l, s, pp->wall));
	assert_true(pp->a.closed);
	assert_int_equal(pp->a.close_status, want);
	assert_true(intunnel_stats(pp->a.it)->cert_updates_refused == 1);
	assert_true(intunnel_stats(pp->a.it)->cert_updates_accepted == 0);
	/* No ACK: the sender is still waiting. */
	assert_true(intunnel_update_pending(pp->b.it));
	/* Closed: nothing more is taken. */
	assert_int_equal(intunnel_rekey(pp->a.it, pp->now), -ESHUTDOWN);
	pair_free(pp);
}

static void
test_update_revoked(void **state)
{
	struct pki *p = *state;

	assert_update_closes(&p->bob, OCSP_CERT_REVOKED, p,
	    PROTO_STATUS_REVOKED);
}

static void
test_update_other_name(void **state)
{
	struct pki *p = *state;

	assert_update_closes(&p->bob_named, OCSP_CERT_GOOD, p,
	    PROTO_STATUS_CERT_INVALID);
}

static void
test_update_other_vip(void **state)
{
	struct pki *p = *state;

	assert_update_closes(&p->bob_vip, OCSP_CERT_GOOD, p,
	    PROTO_STATUS_CERT_INVALID);
}

/* A status older than the one already held is dropped, not fatal. */
static void
test_update_stale(void **state)
{
	struct pair *pp = pair_new(*state, PROTO_KEX_ECDHE);

	update(pp, pp->bob, status_make(pp->p, pp->bob, OCSP_CERT_GOOD,
	    pp->wall - 120));
	assert_false(pp->a.closed);
	assert_true(intunnel_stats(pp->a.it)->cert_updates_refused == 1);
	assert_true(intunnel_update_pending(pp->b.it));
	pair_free(pp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rekey_ecdhe),
		cmocka_unit_test(test_rekey_shared),
		cmocka_unit_test(test_rekey_rsa),
		cmocka_unit_test(test_rekey_by_timer),
		cmocka_unit_test(test_rekey_responder_steps_in),
		cmocka_unit_test(test_rekey_rsa_responder_waits),
		cmocka_unit_test(test_rekey_lost_response),
		cmocka_unit_test(test_rekey_no_answer),
		cmocka_unit_test(test_rekey_epoch_mismatch),
		cmocka_unit_test(test_rekey_crossed),
		cmocka_unit_test(test_rekey_old_key_window),
		cmocka_unit_test(test_update_restaple),
		cmocka_unit_test(test_update_renewed_cert),
		cmocka_unit_test(test_update_fragmented),
		cmocka_unit_test(test_update_lost_ack),
		cmocka_unit_test(test_update_revoked),
		cmocka_unit_test(test_update_other_name),
		cmocka_unit_test(test_update_other_vip),
		cmocka_unit_test(test_update_stale),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
