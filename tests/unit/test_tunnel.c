/* test_tunnel.c -- tunnel establishment between an MN and a CN instance, the test playing the DC. */
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
#include "aead.h"
#include "crypto.h"
#include "handshake.h"
#include "kex.h"
#include "log.h"
#include "msg.h"
#include "ocsp.h"
#include "peercheck.h"
#include "rand.h"
#include "tunnel.h"

#include "../testca.h"

/* Wall clock of the simulation, ms; certificate dates are around it. */
#define NOW_S	((time_t)1795000000)
#define NOW_MS	((uint64_t)NOW_S * 1000)

/* ---- PKI made in the test through lib/cert and lib/ocsp ---- */

struct ca {
	struct cert_ca		 cert;
	struct ocsp_signer	*signer;
};

struct leaf {
	const char		*fqdn;
	gnutls_privkey_t	 key;
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 der;
	uint8_t			 hash[32];
	uint8_t			 serial[32];
	size_t			 serial_len;
	uint8_t			 vip4[4];
	uint8_t			 vip6[16];
	const struct ca		*ca;
};

struct pki {
	struct ntm_rng		*rng;
	struct ca		 ca, other;
	struct cert_trust	*trust;
	struct leaf		 alice, alice_rsa, bob, bob_rsa, bob_other,
				 bob_old, bob_rs, carol;
};

static void
ca_make(struct pki *p, struct ca *c)
{
	assert_int_equal(testca_make(&c->cert, NULL, p->rng,
	    NOW_S - 30 * 86400), 0);
	assert_int_equal(ocsp_signer_new(c->cert.as, &c->signer), 0);
}

static void
ca_free(struct ca *c)
{
	ocsp_signer_free(c->signer);
	cert_ca_clear(&c->cert);
}

static void
leaf_make(struct pki *p, struct leaf *l, const struct ca *c,
    enum cert_keytype kt, enum cert_role role, const char *fqdn,
    const char *v4, const char *v6, time_t issued)
{
	const struct testca_leaf tl = { .role = role, .keytype = kt,
	    .fqdn = fqdn, .vip4 = v4, .vip6 = v6, .lifetime = 86400 };

	l->fqdn = fqdn;
	l->ca = c;
	assert_int_equal(testca_vips(&tl, l->vip4, l->vip6), 0);
	assert_int_equal(testca_issue(&c->cert, &tl, p->rng, issued, &l->key,
	    &l->crt), 0);
	assert_int_equal(gnutls_x509_crt_export2(l->crt, GNUTLS_X509_FMT_DER,
	    &l->der), 0);
	crypto_sha256(l->hash, l->der.data, l->der.size);
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

/* A status for serial (of leaf l unless given), signed by c's AS at t. */
static gnutls_datum_t
status_make(const struct ca *c, const struct leaf *l,
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
	assert_int_equal(ocsp_sign(c->signer, c->cert.as_key, l->serial,
	    l->serial_len, &st, &der), 0);
	return der;
}

static int
group_setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	log_init("test_tunnel", 1, LOG_LEVEL_ERR);
	p->rng = rng_seeded_new("test_tunnel", 11);
	ca_make(p, &p->ca);
	ca_make(p, &p->other);
	assert_int_equal(cert_trust_new(&p->ca.cert.root, 1, &p->trust), 0);
	leaf_make(p, &p->alice, &p->ca, CERT_KEY_P256, CERT_ROLE_NODE,
	    "alice.dc1.ntm.test", "198.18.1.10", "fd6e:746d:6f62:1::10",
	    NOW_S - 3600);
	leaf_make(p, &p->alice_rsa, &p->ca, CERT_KEY_RSA2048, CERT_ROLE_NODE,
	    "alice.dc1.ntm.test", "198.18.1.10", "fd6e:746d:6f62:1::10",
	    NOW_S - 3600);
	leaf_make(p, &p->bob, &p->ca, CERT_KEY_P256, CERT_ROLE_NODE,
	    "bob.dc2.ntm.test", "198.18.2.10", "fd6e:746d:6f62:2::10",
	    NOW_S - 3600);
	leaf_make(p, &p->bob_rsa, &p->ca, CERT_KEY_RSA2048, CERT_ROLE_NODE,
	    "bob.dc2.ntm.test", "198.18.2.10", "fd6e:746d:6f62:2::10",
	    NOW_S - 3600);
	leaf_make(p, &p->bob_other, &p->other, CERT_KEY_P256, CERT_ROLE_NODE,
	    "bob.dc2.ntm.test", "198.18.2.10", "fd6e:746d:6f62:2::10",
	    NOW_S - 3600);
	leaf_make(p, &p->bob_old, &p->ca, CERT_KEY_P256, CERT_ROLE_NODE,
	    "bob.dc2.ntm.test", "198.18.2.10", "fd6e:746d:6f62:2::10",
	    NOW_S - 3 * 86400);
	leaf_make(p, &p->bob_rs, &p->ca, CERT_KEY_P256, CERT_ROLE_RS,
	    "bob.dc2.ntm.test", NULL, NULL, NOW_S - 3600);
	leaf_make(p, &p->carol, &p->ca, CERT_KEY_P256, CERT_ROLE_NODE,
	    "carol.dc2.ntm.test", "198.18.2.10", "fd6e:746d:6f62:2::10",
	    NOW_S - 3600);
	*state = p;
	return 0;
}

static int
group_teardown(void **state)
{
	struct pki *p = *state;

	leaf_free(&p->carol);
	leaf_free(&p->bob_rs);
	leaf_free(&p->bob_old);
	leaf_free(&p->bob_other);
	leaf_free(&p->bob_rsa);
	leaf_free(&p->bob);
	leaf_free(&p->alice_rsa);
	leaf_free(&p->alice);
	cert_trust_free(p->trust);
	ca_free(&p->other);
	ca_free(&p->ca);
	rng_free(p->rng);
	free(p);
	return 0;
}

/* ---- a node: its tunnel instance and the actions it emitted ---- */

enum { ACTS_MAX = 512 };

struct act {
	enum tunnel_act_type	 type;
	char			 peer[256];
	bool			 has_path;
	uint8_t			 path[PROTO_ID_LEN];
	uint8_t			 msg[PROTO_DATAGRAM_MAX];
	size_t			 len;
	uint32_t		 txid;
	bool			 retransmit;
	struct msg_addr		 to;
	struct dataplane_tunnel_conf tun;
	uint8_t			 kex;
	uint32_t		 rid;
	uint64_t		 token;
	enum proto_status	 status;
	char			 reason[256];
	bool			 has_vip4;
	uint8_t			 vip4[4];
	uint64_t		 when;
	uint64_t		 at;		/* simulated time it came */
	bool			 has_timing;
	struct tunnel_timing	 timing;
};

struct node {
	const struct leaf	*leaf;
	struct ntm_rng		*rng;
	struct peercheck	*pc;
	struct tunnel		*t;
	gnutls_datum_t		 status;	/* its own */
	struct sockaddr_in	 addr;
	uint64_t		 now;
	struct act		*act;
	size_t			 nact;
	size_t			 delivered;	/* SEND_PEER pumped */
	bool			 refuse_install; /* as tunnelio on failure */
};

static void
record(void *arg, const struct tunnel_action *a)
{
	struct node *n = arg;
	struct act *c;

	assert_true(n->nact < ACTS_MAX);
	c = &n->act[n->nact++];
	memset(c, 0, sizeof(*c));
	c->type = a->type;
	c->at = n->now;
	if (a->peer != NULL)
		snprintf(c->peer, sizeof(c->peer), "%s", a->peer);
	if ((c->has_path = a->path_id != NULL))
		memcpy(c->path, a->path_id, PROTO_ID_LEN);
	if (a->msg != NULL) {
		assert_true(a->len <= sizeof(c->msg));
		memcpy(c->msg, a->msg, a->len);
		c->len = a->len;
	}
	c->txid = a->txid;
	c->retransmit = a->retransmit;
	if (a->to != NULL)
		c->to = *a->to;
	if (a->tun != NULL)
		c->tun = *a->tun;
	c->kex = a->kex;
	c->rid = a->rid;
	c->status = a->status;
	c->token = a->token;
	if (a->reason != NULL)
		snprintf(c->reason, sizeof(c->reason), "%s", a->reason);
	c->has_vip4 = a->has_vip4;
	memcpy(c->vip4, a->vip4, 4);
	c->when = a->when;
	if ((c->has_timing = a->timing != NULL))
		c->timing = *a->timing;
	/* tunnelio_install() when the data plane does not take it. */
	if (a->type == TUNNEL_ACT_INSTALL && n->refuse_install)
		*a->refused = true;
}

/* The timing clock node_init gives its tunnel (test_setup_timing). */
static uint64_t	(*node_clock_us)(void);

static void
node_init(struct node *n, const struct pki *p, const struct leaf *l,
    const char *fqdn, const char *kex, const char *ip, const char *seed)
{
	struct peercheck_conf pcc;
	struct tunnel_conf tc;

	memset(n, 0, sizeof(*n));
	n->leaf = l;
	n->now = NOW_MS;
	assert_non_null(n->act = calloc(ACTS_MAX, sizeof(*n->act)));
	assert_non_null(n->rng = rng_seeded_new(seed, strlen(seed)));
	memset(&pcc, 0, sizeof(pcc));
	pcc.trust = p->trust;
	pcc.as_ca = p->ca.cert.as;
	assert_int_equal(peercheck_new(&n->pc, &pcc), 0);
	n->status = status_make(l->ca, l, OCSP_CERT_GOOD, NOW_S - 60);
	memset(&tc, 0, sizeof(tc));
	tc.fqdn = fqdn;
	tc.cert = l->crt;
	tc.key = l->key;
	tc.status = n->status.data;
	tc.status_len = n->status.size;
	if (kex != NULL)
		assert_int_equal(kex_allowed_parse(kex, &tc.kex_allowed), 0);
	tc.pc = n->pc;
	tc.rng = n->rng;
	tc.emit = record;
	tc.arg = n;
	tc.clock_us = node_clock_us;
	assert_int_equal(tunnel_new(&n->t, &tc), 0);
	n->addr.sin_family = AF_INET;
	n->addr.sin_port = htons(PROTO_PORT_TUNNEL);
	assert_int_equal(inet_pton(AF_INET, ip, &n->addr.sin_addr), 1);
}

static void
node_free(struct node *n)
{
	tunnel_free(n->t);
	peercheck_free(n->pc);
	gnutls_free(n->status.data);
	rng_free(n->rng);
	free(n->act);
}

static size_t
count(const struct node *n, enum tunnel_act_type type)
{
	size_t i, c = 0;

	for (i = 0; i < n->nact; i++)
		if (n->act[i].type == type)
			c++;
	return c;
}

/* The last action of a type, or NULL. */
static const struct act *
last(const struct node *n, enum tunnel_act_type type)
{
	size_t i;

	for (i = n->nact; i > 0; i--)
		if (n->act[i - 1].type == type)
			return &n->act[i - 1];
	return NULL;
}

/* Decodes a SEND_DC message (plaintext, tag space zero). */
static void
dc_decode(const struct act *a, struct msg *m)
{
	assert_int_equal(msg_decode(a->msg, a->len, m), 0);
}

/* ---- the test plays the DC ---- */

struct direction {
	uint8_t			 path[PROTO_ID_LEN];
	uint8_t			 tunnel_key[PROTO_KEY_LEN];
	uint8_t			 temp_key[PROTO_KEY_LEN];
	uint8_t			 kex;
	uint8_t			 route;
	uint64_t		 expiry;	/* s */
	uint32_t		 rid_mn, rid_cn;
	bool			 relay;		/* an RS on punch, relay */
	struct msg_addr		 rs;
	uint8_t			 binding_key[PROTO_KEY_LEN];
};

static void
direction_new(struct direction *d, const char *seed, uint8_t kex)
{
	struct ntm_rng *g = rng_seeded_new(seed, strlen(seed));

	assert_non_null(g);
	memset(d, 0, sizeof(*d));
	assert_int_equal(rng_bytes(g, d->path, sizeof(d->path)), 0);
	assert_int_equal(rng_bytes(g, d->tunnel_key, 32), 0);
	assert_int_equal(rng_bytes(g, d->temp_key, 32), 0);
	d->rid_mn = 0x1000 + rng_uniform(g, 0x1000);
	d->rid_cn = 0x2000 + rng_uniform(g, 0x1000);
	d->kex = kex;
	d->route = PROTO_ROUTE_DIRECT;
	d->expiry = NOW_S + 30;
	rng_free(g);
}

/* What the DC says about the peer of the recipient. */
struct about {
	const char		*fqdn;
	const uint8_t		*vip4, *vip6;
	const uint8_t		*cert_hash;
	const uint8_t		*serial;
	size_t			 serial_len;
	gnutls_datum_t		 status;
	const struct sockaddr_in *addr;
};

static struct about
about_leaf(const struct leaf *l, gnutls_datum_t status,
    const struct sockaddr_in *addr)
{
	struct about a;

	memset(&a, 0, sizeof(a));
	a.fqdn = l->fqdn;
	a.vip4 = l->vip4;
	a.vip6 = l->vip6;
	a.cert_hash = l->hash;
	a.serial = l->serial;
	a.serial_len = l->serial_len;
	a.status = status;
	a.addr = addr;
	return a;
}

/* Builds a ROUTE_DIRECTION with msg_route_write and feeds it to n. */
static int
route_to(struct node *n, const struct direction *d, uint32_t txid,
    uint8_t role, bool to_mn, const struct about *peer)
{
	struct msg_attr serial, status;
	struct msg_route r;
	struct msg m, dm;
	uint8_t buf[4096];
	size_t len;

	memset(&r, 0, sizeof(r));
	r.path_id = d->path;
	r.route = d->route;
	r.role = role;
	r.kex = d->kex;
	r.expiry = d->expiry;
	r.peer_fqdn = (const uint8_t *)peer->fqdn;
	r.peer_fqdn_len = strlen(peer->fqdn);
	r.peer_vip4 = peer->vip4;
	r.peer_vip6 = peer->vip6;
	r.npeer_addr = 1;
	r.peer_addr[0].family = PROTO_FAMILY_IPV4;
	r.peer_addr[0].port = ntohs(peer->addr->sin_port);
	memcpy(r.peer_addr[0].addr, &peer->addr->sin_addr, 4);
	r.recv_id = to_mn ? d->rid_mn : d->rid_cn;
	r.peer_recv_id = to_mn ? d->rid_cn : d->rid_mn;
	if (d->relay) {
		r.nrelay_addr = 1;
		r.relay_addr[0] = d->rs;
		r.binding_key = d->binding_key;
		if (d->route == PROTO_ROUTE_RELAY)
			r.npeer_addr = 0;
	}
	r.tunnel_key = d->tunnel_key;
	r.temp_key = d->temp_key;
	r.peer_cert_hash = peer->cert_hash;
	serial.type = PROTO_ATTR_PEER_SERIAL;
	serial.len = (uint16_t)peer->serial_len;
	serial.val = peer->serial;
	status.type = PROTO_ATTR_PEER_STATUS;
	status.len = (uint16_t)peer->status.size;
	status.val = peer->status.data;
	r.peer_serial = &serial;
	r.peer_status = &status;
	msg_init(&m, PROTO_MSG_ROUTE_DIRECTION);
	m.hdr.txid = txid;
	memcpy(m.hdr.id, d->path, PROTO_ID_LEN);
	assert_int_equal(msg_route_write(&m, &r), 0);
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(msg_decode(buf, len, &dm), 0);
	return tunnel_dc_input(n->t, &dm, n->now);
}

/* An error answer of the DC to a Direction Request. */
static int
route_error(struct node *n, uint32_t txid, enum proto_status st)
{
	struct msg m, dm;
	uint8_t buf[256];
	size_t len;

	msg_init(&m, PROTO_MSG_ROUTE_DIRECTION);
	m.hdr.txid = txid;
	m.hdr.status = st;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(msg_decode(buf, len, &dm), 0);
	return tunnel_dc_input(n->t, &dm, n->now);
}

/* Delivers a's undelivered datagrams to b; returns how many. */
static size_t
pump(struct node *a, struct node *b)
{
	size_t i, n = 0;

	for (i = a->delivered; i < a->nact; i++) {
		if (a->act[i].type != TUNNEL_ACT_SEND_PEER)
			continue;
		assert_int_equal(a->act[i].to.port, ntohs(b->addr.sin_port));
		assert_memory_equal(a->act[i].to.addr, &b->addr.sin_addr, 4);
		/* Extra copies may be refused; outcomes are checked. */
		(void)tunnel_peer_input(b->t, a->act[i].msg, a->act[i].len,
		    (const struct sockaddr *)&a->addr, b->now);
		n++;
	}
	a->delivered = a->nact;
	return n;
}

static void
pump_all(struct node *a, struct node *b)
{
	while (pump(a, b) + pump(b, a) > 0)
		;
}

/*
 * A whole setup on the direct route: MN looks CN up, the DC (the test)
 * directs CN first, then MN after the NTM ACK, and the handshake runs.
 * Returns MN's answer status; the statuses the DC staples are overridable.
 */
struct run {
	struct direction	 d;
	struct about		 about_cn;	/* told to MN */
	struct about		 about_mn;	/* told to CN */
	uint8_t			 mn_role;	/* reverse: RESPONDER */
	int			 cn_dc_rc, mn_dc_rc;
};

static void
run_prepare(struct run *r, struct node *mn, struct node *cn, uint8_t kex,
    const char *seed)
{
	memset(r, 0, sizeof(*r));
	direction_new(&r->d, seed, kex);
	r->about_cn = about_leaf(cn->leaf, cn->status, &cn->addr);
	r->about_cn.fqdn = "bob.dc2.ntm.test";
	r->about_mn = about_leaf(mn->leaf, mn->status, &mn->addr);
	r->mn_role = PROTO_ROLE_INITIATOR;
}

static enum proto_status
run_setup(struct run *r, struct node *mn, struct node *cn, uint64_t token)
{
	const struct act *dr, *ack, *ans;
	struct msg m;
	uint8_t kex;
	uint8_t cn_role = r->mn_role == PROTO_ROLE_INITIATOR ?
	    PROTO_ROLE_RESPONDER : PROTO_ROLE_INITIATOR;

	assert_int_equal(tunnel_resolve(mn->t, "Bob.dc2.ntm.test", token,
	    mn->now), 0);
	assert_non_null(dr = last(mn, TUNNEL_ACT_SEND_DC));
	dc_decode(dr, &m);
	assert_int_equal(m.hdr.type, PROTO_MSG_DIRECTION_REQUEST);
	assert_int_equal(msg_attr_u8(&m, PROTO_ATTR_KEX, &kex), 0);
	assert_int_equal(kex, r->d.kex);
	assert_memory_equal(msg_attr_find(&m, PROTO_ATTR_CERT_HASH)->val,
	    mn->leaf->hash, 32);
	assert_int_equal(msg_attr_find(&m, PROTO_ATTR_PEER_FQDN)->len,
	    strlen("bob.dc2.ntm.test"));
	/* CN first; MN only after CN's NTM ACK (DESIGN.md 4). */
	r->cn_dc_rc = route_to(cn, &r->d, 0xc0ffee, cn_role, false,
	    &r->about_mn);
	if (r->cn_dc_rc < 0)
		return PROTO_STATUS_INVALID;
	assert_non_null(ack = last(cn, TUNNEL_ACT_SEND_DC));
	dc_decode(ack, &m);
	assert_int_equal(m.hdr.type, PROTO_MSG_NTM_ACK);
	assert_int_equal(m.hdr.txid, 0xc0ffee);
	if (m.hdr.status != PROTO_STATUS_OK) {
		/* DC_MN passes CN's refusal on to MN. */
		assert_int_equal(route_error(mn, dr->txid, m.hdr.status), 0);
	} else {
		r->mn_dc_rc = route_to(mn, &r->d, dr->txid, r->mn_role, true,
		    &r->about_cn);
		pump_all(mn, cn);
	}
	ans = last(mn, TUNNEL_ACT_ANSWER);
	return ans != NULL ? ans->status : PROTO_STATUS_INVALID;
}

/* Both ends installed the same keys, each sending with its own. */
static void
assert_same_keys(const struct node *mn, const struct node *cn,
    const struct direction *d, uint8_t kex)
{
	const struct act *im = last(mn, TUNNEL_ACT_INSTALL);
	const struct act *ic = last(cn, TUNNEL_ACT_INSTALL);

	assert_non_null(im);
	assert_non_null(ic);
	assert_memory_equal(im->tun.key_i2r, ic->tun.key_i2r, PROTO_KEY_LEN);
	assert_memory_equal(im->tun.key_r2i, ic->tun.key_r2i, PROTO_KEY_LEN);
	assert_memory_not_equal(im->tun.key_i2r, im->tun.key_r2i,
	    PROTO_KEY_LEN);
	/* The DC's keys are not the data keys. */
	assert_memory_not_equal(im->tun.key_i2r, d->temp_key, PROTO_KEY_LEN);
	assert_memory_not_equal(im->tun.key_i2r, d->tunnel_key,
	    PROTO_KEY_LEN);
	assert_int_equal(im->tun.rid, ic->tun.peer_rid);
	assert_int_equal(ic->tun.rid, im->tun.peer_rid);
	assert_int_equal(im->tun.rid, d->rid_mn);
	assert_int_not_equal(im->tun.role, ic->tun.role);
	assert_int_equal(im->kex, kex);
	assert_int_equal(ic->kex, kex);
	assert_memory_equal(im->path, d->path, PROTO_ID_LEN);
	/* Each side's peer is the other's address and virtual IPs. */
	assert_memory_equal(im->tun.peer_vip4, cn->leaf->vip4, 4);
	assert_memory_equal(ic->tun.peer_vip4, mn->leaf->vip4, 4);
	assert_memory_equal(&((const struct sockaddr_in *)&im->tun.peer_addr)->
	    sin_addr, &cn->addr.sin_addr, 4);
	assert_memory_equal(&((const struct sockaddr_in *)&ic->tun.peer_addr)->
	    sin_addr, &mn->addr.sin_addr, 4);
}

static void
setup_pair(struct pki *p, struct node *mn, struct node *cn,
    const struct leaf *cn_leaf, const char *mn_kex, const char *cn_kex,
    const char *seed)
{
	char s[64];

	snprintf(s, sizeof(s), "%s/mn", seed);
	node_init(mn, p, &p->alice, "alice.dc1.ntm.test", mn_kex,
	    "192.0.2.1", s);
	snprintf(s, sizeof(s), "%s/cn", seed);
	node_init(cn, p, cn_leaf, "bob.dc2.ntm.test", cn_kex, "203.0.113.7",
	    s);
}

/* ---- each scheme end to end ---- */

static void
scheme_run(struct pki *p, const struct leaf *cn_leaf, const char *kexs,
    uint8_t kex, const char *seed)
{
	struct node mn, cn;
	struct run r;
	const struct act *ans;

	setup_pair(p, &mn, &cn, cn_leaf, kexs, kexs, seed);
	run_prepare(&r, &mn, &cn, kex, seed);
	assert_int_equal(run_setup(&r, &mn, &cn, 7), PROTO_STATUS_OK);
	assert_same_keys(&mn, &cn, &r.d, kex);
	ans = last(&mn, TUNNEL_ACT_ANSWER);
	assert_int_equal(ans->token, 7);
	assert_true(ans->has_vip4);
	assert_memory_equal(ans->vip4, p->bob.vip4, 4);
	assert_int_equal(tunnel_count(mn.t), 1);
	assert_int_equal(tunnel_count(cn.t), 1);
	assert_int_equal(tunnel_setups(mn.t), 0);
	assert_int_equal(tunnel_stats(mn.t)->established, 1);
	node_free(&cn);
	node_free(&mn);
}

/* ---- where a setup's time went ---- */

static uint64_t fake_us;

/* A clock that moves 10 us each time it is read. */
static uint64_t
fake_clock_us(void)
{
	return fake_us += 10;
}

/*
 * With a clock, each side's INSTALL says where the setup's time went:
 * MN's four parts add up to its total, each part non-zero; CN's total
 * covers its answer.  Without one (the other tests), nothing is claimed.
 */
static void
test_setup_timing(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	const struct act *im, *ic;
	const struct tunnel_timing *tm;

	node_clock_us = fake_clock_us;
	fake_us = 1000000;
	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "timing");
	node_clock_us = NULL;
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "timing");
	assert_int_equal(run_setup(&r, &mn, &cn, 8), PROTO_STATUS_OK);
	assert_non_null(im = last(&mn, TUNNEL_ACT_INSTALL));
	assert_non_null(ic = last(&cn, TUNNEL_ACT_INSTALL));
	assert_true(im->has_timing);
	tm = &im->timing;
	assert_true(tm->route_us > 0 && tm->request_us > 0 &&
	    tm->peer_us > 0 && tm->finish_us > 0);
	assert_int_equal(tm->setup_us, tm->route_us + tm->request_us +
	    tm->peer_us + tm->finish_us);
	assert_int_equal(tm->answer_us, 0);
	tm = &ic->timing;
	assert_true(tm->answer_us > 0);
	assert_true(tm->setup_us > tm->answer_us);
	assert_int_equal(tm->route_us, 0);
	/* CN answered inside MN's wait for the Response. */
	assert_true(tm->answer_us < im->timing.peer_us);
	node_free(&cn);
	node_free(&mn);

	/* No clock: all zero. */
	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "noclock");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "noclock");
	assert_int_equal(run_setup(&r, &mn, &cn, 9), PROTO_STATUS_OK);
	im = last(&mn, TUNNEL_ACT_INSTALL);
	assert_int_equal(im->timing.setup_us, 0);
	assert_int_equal(im->timing.finish_us, 0);
	node_free(&cn);
	node_free(&mn);
}

static void
test_ecdhe_end_to_end(void **state)
{
	struct pki *p = *state;

	scheme_run(p, &p->bob, NULL, PROTO_KEX_ECDHE, "ecdhe");
}

static void
test_shared_end_to_end(void **state)
{
	struct pki *p = *state;

	scheme_run(p, &p->bob, "shared", PROTO_KEX_SHARED, "shared");
}

/*
 * A renewed certificate (tunnel_set_identity): later handshakes send it,
 * sign with its key and staple its status, so a peer directed to the new
 * certificate accepts the tunnel.
 */
static void
test_renewed_identity(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	gnutls_datum_t st;
	struct run r;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "renewed");
	st = status_make(&p->ca, &p->bob_rsa, OCSP_CERT_GOOD, NOW_S - 30);
	assert_int_equal(tunnel_set_identity(cn.t, NULL, p->bob_rsa.key,
	    st.data, st.size), -EINVAL);
	assert_int_equal(tunnel_set_identity(cn.t, p->bob_rsa.crt,
	    p->bob_rsa.key, st.data, st.size), 0);
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "renewed");
	r.about_cn = about_leaf(&p->bob_rsa, st, &cn.addr);
	assert_int_equal(run_setup(&r, &mn, &cn, 3), PROTO_STATUS_OK);
	assert_same_keys(&mn, &cn, &r.d, PROTO_KEX_ECDHE);
	gnutls_free(st.data);
	node_free(&cn);
	node_free(&mn);
}

static void
test_rsa_end_to_end(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;

	/* rsa: MN encapsulates to CN's RSA key, so it must hold the cert. */
	setup_pair(p, &mn, &cn, &p->bob_rsa, "rsa", "rsa", "rsa");
	assert_int_equal(peercheck_cert_add(mn.pc, p->bob_rsa.der.data,
	    p->bob_rsa.der.size), 0);
	run_prepare(&r, &mn, &cn, PROTO_KEX_RSA, "rsa");
	assert_int_equal(run_setup(&r, &mn, &cn, 1), PROTO_STATUS_OK);
	assert_same_keys(&mn, &cn, &r.d, PROTO_KEX_RSA);
	/* The RSA response (certificate, 256-byte signature) is fragmented. */
	assert_true(count(&cn, TUNNEL_ACT_SEND_PEER) > 1);
	node_free(&cn);
	node_free(&mn);
}

/* ---- refusals, with the reason the lookup gets ---- */

struct refusal {
	const char		*name;
	enum proto_status	 want;
	int			 pc_err;	/* at MN's peercheck, or 0 */
};

static enum proto_status
refuse_run(struct pki *p, const struct leaf *cn_leaf,
    void (*tweak)(struct pki *, struct run *, struct node *, struct node *),
    const char *seed, struct node *mn, struct node *cn)
{
	struct run r;

	setup_pair(p, mn, cn, cn_leaf, NULL, NULL, seed);
	run_prepare(&r, mn, cn, PROTO_KEX_ECDHE, seed);
	if (tweak != NULL)
		tweak(p, &r, mn, cn);
	return run_setup(&r, mn, cn, 1);
}

static void
assert_refused(struct node *mn, struct node *cn, enum proto_status got,
    enum proto_status want, int pc_err)
{
	assert_int_equal(got, want);
	assert_int_equal(count(mn, TUNNEL_ACT_INSTALL), 0);
	/*
	 * When MN refuses the Tunnel Response, CN (which cannot know) has
	 * keys; that tunnel idles out.  Refusals before the response leave
	 * CN with nothing.
	 */
	if (pc_err == 0 || pc_err == PEERCHECK_E_REVOKED ||
	    pc_err == PEERCHECK_E_STALE)
		assert_int_equal(count(cn, TUNNEL_ACT_INSTALL), 0);
	else
		assert_int_equal(count(cn, TUNNEL_ACT_INSTALL), 1);
	assert_int_equal(tunnel_count(mn->t), 0);
	assert_int_equal(tunnel_setups(mn->t), 0);
	if (pc_err != 0)
		assert_int_equal(peercheck_stats(mn->pc)->refused[pc_err -
		    PEERCHECK_E_FIRST], 1);
	node_free(cn);
	node_free(mn);
}

/* A DC staples a status our AS signed for a certificate it directs. */
static void
tweak_other_root(struct pki *p, struct run *r, struct node *mn,
    struct node *cn)
{
	(void)mn;
	gnutls_free(cn->status.data);
	cn->status = status_make(&p->ca, &p->bob_other, OCSP_CERT_GOOD,
	    NOW_S - 60);
	assert_int_equal(tunnel_set_status(cn->t, cn->status.data,
	    cn->status.size), 0);
	r->about_cn.status = cn->status;
}

static void
test_refuse_other_root(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	enum proto_status st;

	st = refuse_run(p, &p->bob_other, tweak_other_root, "other", &mn, &cn);
	/* The Tunnel Request went out; the response's certificate failed. */
	assert_true(count(&mn, TUNNEL_ACT_SEND_PEER) > 0);
	assert_string_equal(last(&mn, TUNNEL_ACT_ANSWER)->reason,
	    peercheck_strerror(PEERCHECK_E_CHAIN));
	assert_refused(&mn, &cn, st, PROTO_STATUS_CERT_INVALID,
	    PEERCHECK_E_CHAIN);
}

static void
tweak_fresh_status(struct pki *p, struct run *r, struct node *mn,
    struct node *cn)
{
	(void)p;
	(void)mn;
	r->about_cn.status = cn->status;
}

static void
test_refuse_expired(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;

	assert_refused(&mn, &cn, refuse_run(p, &p->bob_old,
	    tweak_fresh_status, "old", &mn, &cn), PROTO_STATUS_EXPIRED,
	    PEERCHECK_E_EXPIRED);
}

static void
test_refuse_wrong_role(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;

	assert_refused(&mn, &cn, refuse_run(p, &p->bob_rs,
	    tweak_fresh_status, "role", &mn, &cn), PROTO_STATUS_CERT_INVALID,
	    PEERCHECK_E_ROLE);
}

static void
test_refuse_wrong_fqdn(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;

	/* carol's certificate behind bob's name, directed by the DC. */
	assert_refused(&mn, &cn, refuse_run(p, &p->carol, NULL, "fqdn", &mn,
	    &cn), PROTO_STATUS_CERT_INVALID, PEERCHECK_E_FQDN);
}

static void
tweak_vip(struct pki *p, struct run *r, struct node *mn, struct node *cn)
{
	static const uint8_t wrong[4] = { 198, 18, 2, 99 };

	(void)p;
	(void)mn;
	(void)cn;
	r->about_cn.vip4 = wrong;
}

static void
test_refuse_vip_mismatch(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;

	assert_refused(&mn, &cn, refuse_run(p, &p->bob, tweak_vip, "vip", &mn,
	    &cn), PROTO_STATUS_CERT_INVALID, PEERCHECK_E_VIP);
}

static void
tweak_revoked(struct pki *p, struct run *r, struct node *mn,
    struct node *cn)
{
	static gnutls_datum_t rev;

	(void)mn;
	gnutls_free(rev.data);
	rev = status_make(&p->ca, cn->leaf, OCSP_CERT_REVOKED, NOW_S - 30);
	r->about_cn.status = rev;
}

static void
test_refuse_revoked(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	enum proto_status st;

	st = refuse_run(p, &p->bob, tweak_revoked, "revoked", &mn, &cn);
	/* Found from the Route Direction: no Tunnel Request at all. */
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_PEER), 0);
	assert_refused(&mn, &cn, st, PROTO_STATUS_REVOKED,
	    PEERCHECK_E_REVOKED);
}

/* CN refuses MN at NTM ACK time when MN's stapled status is revoked. */
static void
tweak_mn_revoked(struct pki *p, struct run *r, struct node *mn,
    struct node *cn)
{
	static gnutls_datum_t rev;

	(void)cn;
	gnutls_free(rev.data);
	rev = status_make(&p->ca, mn->leaf, OCSP_CERT_REVOKED, NOW_S - 30);
	r->about_mn.status = rev;
}

static void
test_cn_refuses_revoked_mn(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct msg m;

	assert_int_equal(refuse_run(p, &p->bob, tweak_mn_revoked, "mnrev",
	    &mn, &cn), PROTO_STATUS_REVOKED);
	dc_decode(last(&cn, TUNNEL_ACT_SEND_DC), &m);
	assert_int_equal(m.hdr.type, PROTO_MSG_NTM_ACK);
	assert_int_equal(m.hdr.status, PROTO_STATUS_REVOKED);
	assert_refused(&mn, &cn, PROTO_STATUS_REVOKED, PROTO_STATUS_REVOKED,
	    0);
}

/*
 * CN's own checks of the Tunnel Request: MN presents a certificate from
 * another root that a DC directed (with a status our AS signed for its
 * serial, so the early status check passes).  CN refuses before any
 * private-key operation and MN learns why.
 */
static void
test_cn_refuses_foreign_initiator(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	enum proto_status st;

	node_init(&mn, p, &p->bob_other, "alice.dc1.ntm.test", NULL,
	    "192.0.2.1", "foreign/mn");
	node_init(&cn, p, &p->bob, "bob.dc2.ntm.test", NULL, "203.0.113.7",
	    "foreign/cn");
	gnutls_free(mn.status.data);
	mn.status = status_make(&p->ca, &p->bob_other, OCSP_CERT_GOOD,
	    NOW_S - 60);
	assert_int_equal(tunnel_set_status(mn.t, mn.status.data,
	    mn.status.size), 0);
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "foreign");
	r.about_mn.fqdn = "alice.dc1.ntm.test";
	st = run_setup(&r, &mn, &cn, 1);
	assert_int_equal(st, PROTO_STATUS_CERT_INVALID);
	assert_non_null(strstr(last(&mn, TUNNEL_ACT_ANSWER)->reason,
	    "peer refused"));
	assert_int_equal(peercheck_stats(cn.pc)->refused[PEERCHECK_E_CHAIN -
	    PEERCHECK_E_FIRST], 1);
	assert_int_equal(count(&cn, TUNNEL_ACT_INSTALL), 0);
	assert_int_equal(count(&mn, TUNNEL_ACT_INSTALL), 0);
	assert_int_equal(tunnel_stats(cn.t)->refused, 1);
	node_free(&cn);
	node_free(&mn);
}

static void
tweak_stale(struct pki *p, struct run *r, struct node *mn, struct node *cn)
{
	static gnutls_datum_t newer, older;

	gnutls_free(newer.data);
	gnutls_free(older.data);
	newer = status_make(&p->ca, cn->leaf, OCSP_CERT_GOOD, NOW_S - 20);
	older = status_make(&p->ca, cn->leaf, OCSP_CERT_GOOD, NOW_S - 200);
	/* MN saw a newer status of bob before (an earlier tunnel). */
	assert_int_equal(peercheck_status_check(mn->pc, "bob.dc2.ntm.test",
	    cn->leaf->serial, cn->leaf->serial_len, newer.data, newer.size,
	    NOW_S), 0);
	r->about_cn.status = older;
}

static void
test_refuse_stale_status(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;

	assert_refused(&mn, &cn, refuse_run(p, &p->bob, tweak_stale, "stale",
	    &mn, &cn), PROTO_STATUS_STALE_STATUS, PEERCHECK_E_STALE);
}

static void
test_refuse_kex_not_allowed(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	struct msg m;

	/* MN names shared; CN accepts ecdhe only: refused, never weakened. */
	setup_pair(p, &mn, &cn, &p->bob, "shared", NULL, "kex");
	run_prepare(&r, &mn, &cn, PROTO_KEX_SHARED, "kex");
	assert_int_equal(run_setup(&r, &mn, &cn, 1),
	    PROTO_STATUS_KEX_NOT_ALLOWED);
	dc_decode(last(&cn, TUNNEL_ACT_SEND_DC), &m);
	assert_int_equal(m.hdr.status, PROTO_STATUS_KEX_NOT_ALLOWED);
	/* No second Direction Request with another scheme. */
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_DC), 1);
	/* CN keeps nothing to accept a request on. */
	assert_int_equal(tunnel_setups(cn.t), 0);
	assert_refused(&mn, &cn, PROTO_STATUS_KEX_NOT_ALLOWED,
	    PROTO_STATUS_KEX_NOT_ALLOWED, 0);
}

static void
test_refuse_rsa_toward_ecdsa(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;

	/* Both allow rsa, but bob's certificate key is ECDSA. */
	setup_pair(p, &mn, &cn, &p->bob, "rsa", "rsa, ecdhe", "rsa-ec");
	assert_int_equal(peercheck_cert_add(mn.pc, p->bob.der.data,
	    p->bob.der.size), 0);
	run_prepare(&r, &mn, &cn, PROTO_KEX_RSA, "rsa-ec");
	assert_int_equal(run_setup(&r, &mn, &cn, 1),
	    PROTO_STATUS_CERT_INVALID);
	assert_string_equal(last(&mn, TUNNEL_ACT_ANSWER)->reason,
	    kex_strerror(KEX_E_KEY_TYPE));
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_PEER), 0);
	assert_refused(&mn, &cn, PROTO_STATUS_CERT_INVALID,
	    PROTO_STATUS_CERT_INVALID, 0);
}

/*
 * A DC that directs CN with ecdhe but MN with shared: CN refuses MN's
 * shared Tunnel Request (outside its kex_allowed) instead of falling
 * back, and MN learns KEX_NOT_ALLOWED.
 */
static void
test_cn_refuses_scheme_in_request(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct direction dmn;
	struct run r;
	const struct act *dr;

	setup_pair(p, &mn, &cn, &p->bob, "shared", NULL, "kexreq");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "kexreq");
	dmn = r.d;
	dmn.kex = PROTO_KEX_SHARED;
	assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 1, mn.now),
	    0);
	dr = last(&mn, TUNNEL_ACT_SEND_DC);
	assert_int_equal(route_to(&cn, &r.d, 1, PROTO_ROLE_RESPONDER, false,
	    &r.about_mn), 0);
	assert_int_equal(route_to(&mn, &dmn, dr->txid, PROTO_ROLE_INITIATOR,
	    true, &r.about_cn), 0);
	pump_all(&mn, &cn);
	assert_int_equal(last(&mn, TUNNEL_ACT_ANSWER)->status,
	    PROTO_STATUS_KEX_NOT_ALLOWED);
	assert_int_equal(tunnel_stats(cn.t)->refused, 1);
	assert_refused(&mn, &cn, PROTO_STATUS_KEX_NOT_ALLOWED,
	    PROTO_STATUS_KEX_NOT_ALLOWED, 0);
}

/* ---- path ids ---- */

static void
test_replayed_path_id(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	const struct act *req = NULL, *resp;
	size_t i, acts, installs;
	struct act first_resp;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "replay");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "replay");
	assert_int_equal(run_setup(&r, &mn, &cn, 1), PROTO_STATUS_OK);
	for (i = 0; i < mn.nact; i++)
		if (mn.act[i].type == TUNNEL_ACT_SEND_PEER) {
			req = &mn.act[i];
			break;
		}
	assert_non_null(req);
	assert_non_null(resp = last(&cn, TUNNEL_ACT_SEND_PEER));
	first_resp = *resp;
	installs = count(&cn, TUNNEL_ACT_INSTALL);

	/* The same Route Direction again (new transaction): refused. */
	acts = cn.nact;
	assert_int_equal(route_to(&cn, &r.d, 0xbeef, PROTO_ROLE_RESPONDER,
	    false, &r.about_mn), -EALREADY);
	assert_int_equal(cn.nact, acts);

	/* The Tunnel Request again: the cached answer, no second setup. */
	assert_int_equal(tunnel_peer_input(cn.t, req->msg, req->len,
	    (const struct sockaddr *)&mn.addr, cn.now), 0);
	assert_int_equal(count(&cn, TUNNEL_ACT_INSTALL), installs);
	resp = last(&cn, TUNNEL_ACT_SEND_PEER);
	assert_true(resp->retransmit);
	assert_int_equal(resp->len, first_resp.len);
	assert_memory_equal(resp->msg, first_resp.msg, first_resp.len);

	/* Not from a forged source: the cache is not reflected elsewhere. */
	{
		struct sockaddr_in victim = mn.addr;

		victim.sin_port = htons(53);
		acts = cn.nact;
		assert_int_equal(tunnel_peer_input(cn.t, req->msg, req->len,
		    (const struct sockaddr *)&victim, cn.now), -EALREADY);
		assert_int_equal(cn.nact, acts);
	}

	/* After the cache time: the path id stays spent. */
	cn.now += TUNNEL_CACHE_MS + 1;
	tunnel_timeout(cn.t, cn.now);
	acts = cn.nact;
	assert_true(tunnel_peer_input(cn.t, req->msg, req->len,
	    (const struct sockaddr *)&mn.addr, cn.now) < 0);
	assert_int_equal(route_to(&cn, &r.d, 0xbeef, PROTO_ROLE_RESPONDER,
	    false, &r.about_mn), -EALREADY);
	for (i = acts; i < cn.nact; i++)
		assert_int_equal(cn.act[i].type, TUNNEL_ACT_TIMER);
	assert_true(tunnel_stats(cn.t)->replays >= 2);
	node_free(&cn);
	node_free(&mn);
}

/*
 * The data plane does not take a tunnel (too many tunnels, no data plane):
 * tunnelio sets the INSTALL's refused flag (its handler's answer).  No
 * live tunnel may be left behind: the lookup is not answered OK, and the
 * next lookup sets up anew instead of being answered "live" with
 * addresses nothing routes to.
 */
static void
test_install_refused(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	const struct act *ans;
	size_t dc_sends;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "refused-install");
	mn.refuse_install = cn.refuse_install = true;
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "refused-install");
	assert_int_not_equal(run_setup(&r, &mn, &cn, 21), PROTO_STATUS_OK);
	assert_int_equal(count(&mn, TUNNEL_ACT_INSTALL), 1);
	assert_int_equal(count(&cn, TUNNEL_ACT_INSTALL), 1);
	assert_non_null(ans = last(&mn, TUNNEL_ACT_ANSWER));
	assert_int_equal(ans->token, 21);
	assert_int_equal(count(&mn, TUNNEL_ACT_ANSWER), 1);
	assert_int_equal(tunnel_count(mn.t), 0);
	assert_int_equal(tunnel_count(cn.t), 0);
	assert_int_equal(tunnel_stats(mn.t)->established, 0);
	assert_int_equal(tunnel_stats(cn.t)->established, 0);

	/* The next lookup: a new Direction Request, no answer yet. */
	mn.refuse_install = false;
	dc_sends = count(&mn, TUNNEL_ACT_SEND_DC);
	assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 22,
	    mn.now), 0);
	assert_int_equal(count(&mn, TUNNEL_ACT_ANSWER), 1);
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_DC), dc_sends + 1);
	assert_int_equal(tunnel_setups(mn.t), 1);
	node_free(&cn);
	node_free(&mn);
}

/*
 * A path id is pending from its Route Direction until its setup is over:
 * what tunnelio keeps an RS binding for when no tunnel is installed.
 */
static void
test_path_pending(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "pending");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "pending");
	assert_false(tunnel_path_pending(mn.t, r.d.path));
	assert_false(tunnel_path_pending(cn.t, r.d.path));
	assert_int_equal(run_setup(&r, &mn, &cn, 31), PROTO_STATUS_OK);
	/* MN is done; CN keeps its answer for a repeated request. */
	assert_false(tunnel_path_pending(mn.t, r.d.path));
	assert_true(tunnel_path_pending(cn.t, r.d.path));
	cn.now += TUNNEL_CACHE_MS;
	tunnel_timeout(cn.t, cn.now);
	assert_false(tunnel_path_pending(cn.t, r.d.path));
	assert_int_equal(tunnel_count(cn.t), 1);
	node_free(&cn);
	node_free(&mn);
}

static void
test_request_without_route_direction(void **state)
{
	struct pki *p = *state;
	struct node mn, cn, dave;
	struct run r;
	size_t i;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "noroute");
	node_init(&dave, p, &p->bob, "bob.dc2.ntm.test", NULL, "203.0.113.7",
	    "noroute/dave");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "noroute");
	/* CN never got its Route Direction; MN's request reaches it. */
	assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 1, mn.now),
	    0);
	assert_int_equal(route_to(&mn, &r.d, last(&mn,
	    TUNNEL_ACT_SEND_DC)->txid, PROTO_ROLE_INITIATOR, true,
	    &r.about_cn), 0);
	assert_true(count(&mn, TUNNEL_ACT_SEND_PEER) > 0);
	for (i = 0; i < mn.nact; i++) {
		if (mn.act[i].type != TUNNEL_ACT_SEND_PEER)
			continue;
		assert_int_equal(tunnel_peer_input(dave.t, mn.act[i].msg,
		    mn.act[i].len, (const struct sockaddr *)&mn.addr,
		    dave.now), -ENOENT);
	}
	/* Nothing sent, nothing installed: no oracle for strangers. */
	assert_int_equal(dave.nact, 0);
	assert_int_equal(tunnel_stats(dave.t)->dropped,
	    count(&mn, TUNNEL_ACT_SEND_PEER));
	/* A Route Direction for another path does not open this one. */
	{
		struct direction d2;

		direction_new(&d2, "noroute/other", PROTO_KEX_ECDHE);
		assert_int_equal(route_to(&dave, &d2, 5, PROTO_ROLE_RESPONDER,
		    false, &r.about_mn), 0);
		assert_int_equal(tunnel_peer_input(dave.t,
		    last(&mn, TUNNEL_ACT_SEND_PEER)->msg,
		    last(&mn, TUNNEL_ACT_SEND_PEER)->len,
		    (const struct sockaddr *)&mn.addr, dave.now), -ENOENT);
		assert_int_equal(count(&dave, TUNNEL_ACT_SEND_PEER), 0);
	}
	node_free(&dave);
	node_free(&cn);
	node_free(&mn);
}

/* The DC's answer to our Direction Request must direct the name asked. */
static void
test_route_direction_for_another_name(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "othername");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "othername");
	r.about_cn.fqdn = "carol.dc2.ntm.test";
	assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 4, mn.now),
	    0);
	assert_int_equal(route_to(&mn, &r.d, last(&mn,
	    TUNNEL_ACT_SEND_DC)->txid, PROTO_ROLE_INITIATOR, true,
	    &r.about_cn), -EPROTO);
	assert_int_equal(last(&mn, TUNNEL_ACT_ANSWER)->status,
	    PROTO_STATUS_CERT_INVALID);
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_PEER), 0);
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_DC), 1);
	node_free(&cn);
	node_free(&mn);
}

static void
test_expired_route_direction(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	size_t n0;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "expiry");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "expiry");
	r.d.expiry = NOW_S - 1;
	assert_int_equal(route_to(&cn, &r.d, 9, PROTO_ROLE_RESPONDER, false,
	    &r.about_mn), -ETIMEDOUT);
	assert_int_equal(cn.nact, 0);
	/* A current one, then no request until it expires: forgotten. */
	r.d.expiry = NOW_S + 30;
	assert_int_equal(route_to(&cn, &r.d, 9, PROTO_ROLE_RESPONDER, false,
	    &r.about_mn), 0);
	assert_int_equal(last(&cn, TUNNEL_ACT_TIMER)->when, NOW_MS + 30000);
	/*
	 * A timer that fires a little early (the event loop's clock is not
	 * the wall clock) finds nothing due and must be armed again for the
	 * same deadline, or the setup never leaves the table.
	 */
	n0 = cn.nact;
	tunnel_timeout(cn.t, NOW_MS + 29990);
	assert_int_equal(tunnel_setups(cn.t), 1);
	assert_true(cn.nact == n0 + 1);
	assert_int_equal(cn.act[n0].type, TUNNEL_ACT_TIMER);
	assert_int_equal(cn.act[n0].when, NOW_MS + 30000);
	cn.now = NOW_MS + 30000;
	tunnel_timeout(cn.t, cn.now);
	assert_int_equal(tunnel_setups(cn.t), 0);
	/* A DC's far expiry is cut to the protocol's 30 s (and skew). */
	r.d.path[0] ^= 0x55;
	r.d.expiry = NOW_S + 86400;
	assert_int_equal(route_to(&cn, &r.d, 10, PROTO_ROLE_RESPONDER, false,
	    &r.about_mn), 0);
	tunnel_timeout(cn.t, cn.now + 330000 - 1);
	assert_int_equal(tunnel_setups(cn.t), 1);
	tunnel_timeout(cn.t, cn.now + 330000);
	assert_int_equal(tunnel_setups(cn.t), 0);
	r.d.path[0] ^= 0x55;
	r.d.expiry = UINT64_MAX / 100;
	assert_int_equal(route_to(&cn, &r.d, 11, PROTO_ROLE_RESPONDER, false,
	    &r.about_mn), -EPROTO);
	node_free(&cn);
	node_free(&mn);
}

/* Relay routes send through the RS only; punch to the peer and the RS. */
static void
test_relay_and_punch_destinations(void **state)
{
	static const uint8_t routes[] = { PROTO_ROUTE_RELAY,
	    PROTO_ROUTE_PUNCH };
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	size_t i, j, to_rs, to_cn, nmsg;

	for (j = 0; j < sizeof(routes); j++) {
		setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "relay");
		run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "relay");
		r.d.route = routes[j];
		r.d.relay = true;
		r.d.rs.family = PROTO_FAMILY_IPV6;
		r.d.rs.port = PROTO_PORT_RS;
		assert_int_equal(inet_pton(AF_INET6, "2001:db8::4613",
		    r.d.rs.addr), 1);
		assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 1,
		    mn.now), 0);
		assert_int_equal(route_to(&mn, &r.d, last(&mn,
		    TUNNEL_ACT_SEND_DC)->txid, PROTO_ROLE_INITIATOR, true,
		    &r.about_cn), 0);
		to_rs = to_cn = 0;
		for (i = 0; i < mn.nact; i++) {
			if (mn.act[i].type != TUNNEL_ACT_SEND_PEER)
				continue;
			if (mn.act[i].to.family == PROTO_FAMILY_IPV6 &&
			    mn.act[i].to.port == PROTO_PORT_RS &&
			    memcmp(mn.act[i].to.addr, r.d.rs.addr, 16) == 0)
				to_rs++;
			else if (mn.act[i].to.family == PROTO_FAMILY_IPV4 &&
			    memcmp(mn.act[i].to.addr, &cn.addr.sin_addr,
			    4) == 0)
				to_cn++;
			else
				fail_msg("datagram to an address not directed");
		}
		nmsg = to_rs;
		assert_true(nmsg > 0);
		assert_int_equal(to_cn, routes[j] == PROTO_ROUTE_PUNCH ?
		    nmsg : 0);
		node_free(&cn);
		node_free(&mn);
	}
}

/* ---- timers ---- */

/* Fires n's timer until it asks for none; returns the sends seen. */
static void
run_timers(struct node *n, uint64_t until)
{
	uint64_t next;

	while ((next = tunnel_next_timer(n->t)) <= until) {
		n->now = next;
		tunnel_timeout(n->t, n->now);
	}
}

static void
test_direction_request_retransmission(void **state)
{
	static const uint64_t at[] = { 0, 250, 750, 1750, 3750 };
	struct pki *p = *state;
	struct node mn, cn;
	const struct act *first = NULL, *ans;
	size_t i, k = 0;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "rtx");
	assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 3, mn.now),
	    0);
	assert_int_equal(last(&mn, TUNNEL_ACT_TIMER)->when, NOW_MS + 250);
	run_timers(&mn, NOW_MS + 60000);
	for (i = 0; i < mn.nact; i++) {
		if (mn.act[i].type != TUNNEL_ACT_SEND_DC)
			continue;
		assert_true(k < 5);
		assert_int_equal(mn.act[i].at, NOW_MS + at[k]);
		if (k == 0) {
			first = &mn.act[i];
			assert_false(first->retransmit);
		} else {
			/* Same bytes, same transaction: the client re-sends. */
			assert_true(mn.act[i].retransmit);
			assert_int_equal(mn.act[i].txid, first->txid);
			assert_int_equal(mn.act[i].len, first->len);
			assert_memory_equal(mn.act[i].msg, first->msg,
			    first->len);
		}
		k++;
	}
	assert_int_equal(k, PROTO_TIMER_RETRANSMIT_TRIES);
	/* Failed 4 s after the last send: 7.75 s after the first. */
	ans = last(&mn, TUNNEL_ACT_ANSWER);
	assert_non_null(ans);
	assert_int_equal(ans->status, PROTO_STATUS_UNAVAILABLE);
	assert_int_equal(ans->at, NOW_MS + 7750);
	assert_int_equal(last(&mn, TUNNEL_ACT_TIMER)->when, UINT64_MAX);
	assert_int_equal(tunnel_stats(mn.t)->timeouts, 1);
	node_free(&cn);
	node_free(&mn);
}

static void
test_tunnel_request_retransmission(void **state)
{
	static const uint64_t at[] = { 0, 250, 750, 1750, 3750 };
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	size_t i, k = 0, nfrag = 0, first = 0;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "rtx2");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "rtx2");
	assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 1, mn.now),
	    0);
	assert_int_equal(route_to(&mn, &r.d, last(&mn,
	    TUNNEL_ACT_SEND_DC)->txid, PROTO_ROLE_INITIATOR, true,
	    &r.about_cn), 0);
	nfrag = count(&mn, TUNNEL_ACT_SEND_PEER);
	assert_true(nfrag >= 1);
	/* The CN is unreachable: every copy is lost. */
	run_timers(&mn, NOW_MS + 60000);
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_PEER), 5 * nfrag);
	for (i = 0; i < mn.nact; i++) {
		if (mn.act[i].type != TUNNEL_ACT_SEND_PEER)
			continue;
		if (k == 0)
			first = i;
		assert_int_equal(mn.act[i].at, NOW_MS + at[k / nfrag]);
		assert_int_equal(mn.act[i].retransmit, k >= nfrag);
		/* Byte-identical copies of the first send. */
		assert_memory_equal(mn.act[i].msg,
		    mn.act[first + k % nfrag].msg, mn.act[i].len);
		k++;
	}
	assert_int_equal(last(&mn, TUNNEL_ACT_ANSWER)->status,
	    PROTO_STATUS_UNAVAILABLE);
	/* A late copy still makes the tunnel once CN is reachable. */
	node_free(&cn);
	node_free(&mn);
}

/* A lost response: the retransmitted request gets the cached copy. */
static void
test_lost_response_recovered(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "lost");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "lost");
	assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 1, mn.now),
	    0);
	assert_int_equal(route_to(&cn, &r.d, 1, PROTO_ROLE_RESPONDER, false,
	    &r.about_mn), 0);
	assert_int_equal(route_to(&mn, &r.d, last(&mn,
	    TUNNEL_ACT_SEND_DC)->txid, PROTO_ROLE_INITIATOR, true,
	    &r.about_cn), 0);
	assert_true(pump(&mn, &cn) > 0);
	/* Drop CN's response on the floor. */
	cn.delivered = cn.nact;
	assert_null(last(&mn, TUNNEL_ACT_ANSWER));
	mn.now += 250;
	cn.now += 250;
	tunnel_timeout(mn.t, mn.now);
	pump_all(&mn, &cn);
	assert_int_equal(last(&mn, TUNNEL_ACT_ANSWER)->status,
	    PROTO_STATUS_OK);
	assert_int_equal(count(&cn, TUNNEL_ACT_INSTALL), 1);
	assert_same_keys(&mn, &cn, &r.d, PROTO_KEX_ECDHE);
	node_free(&cn);
	node_free(&mn);
}

/* A revocation notice about a live peer closes its tunnel. */
static void
test_revocation_closes_tunnel(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	gnutls_datum_t rev, good;
	const struct act *c;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "notice");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "notice");
	assert_int_equal(run_setup(&r, &mn, &cn, 1), PROTO_STATUS_OK);
	good = status_make(&p->ca, &p->bob, OCSP_CERT_GOOD, NOW_S - 10);
	rev = status_make(&p->ca, &p->bob, OCSP_CERT_REVOKED, NOW_S - 5);
	/* A refreshed good status changes nothing. */
	assert_int_equal(tunnel_peer_status(mn.t, p->bob.serial,
	    p->bob.serial_len, good.data, good.size, mn.now), 0);
	assert_int_equal(count(&mn, TUNNEL_ACT_CLOSE), 0);
	/* A status about alice does not touch the tunnel to bob. */
	assert_true(tunnel_peer_status(mn.t, p->alice.serial,
	    p->alice.serial_len, rev.data, rev.size, mn.now) < 0);
	assert_int_equal(tunnel_count(mn.t), 1);
	assert_int_equal(tunnel_peer_status(mn.t, p->bob.serial,
	    p->bob.serial_len, rev.data, rev.size, mn.now),
	    PEERCHECK_E_REVOKED);
	assert_non_null(c = last(&mn, TUNNEL_ACT_CLOSE));
	assert_int_equal(c->status, PROTO_STATUS_REVOKED);
	assert_memory_equal(c->path, r.d.path, PROTO_ID_LEN);
	assert_int_equal(c->rid, r.d.rid_mn);
	assert_int_equal(tunnel_count(mn.t), 0);
	/* And a new lookup of bob is refused from the Route Direction on. */
	mn.now += 1000;
	r.d.path[0] ^= 0xff;
	assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 2, mn.now),
	    0);
	assert_int_equal(route_to(&mn, &r.d, last(&mn,
	    TUNNEL_ACT_SEND_DC)->txid, PROTO_ROLE_INITIATOR, true,
	    &r.about_cn), 0);
	assert_int_equal(last(&mn, TUNNEL_ACT_ANSWER)->status,
	    PROTO_STATUS_REVOKED);
	gnutls_free(rev.data);
	gnutls_free(good.data);
	node_free(&cn);
	node_free(&mn);
}

/* ---- sharing, reuse, races, roles ---- */

static void
test_concurrent_lookups_share_setup(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	size_t i, answered = 0;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "share");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "share");
	assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 11,
	    mn.now), 0);
	assert_int_equal(tunnel_resolve(mn.t, "BOB.dc2.ntm.test.", 12,
	    mn.now), 0);
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_DC), 1);
	assert_int_equal(tunnel_setups(mn.t), 1);
	/* run_setup's own lookup (token 13) joins the same setup. */
	assert_int_equal(run_setup(&r, &mn, &cn, 13), PROTO_STATUS_OK);
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_DC), 1);
	for (i = 0; i < mn.nact; i++)
		if (mn.act[i].type == TUNNEL_ACT_ANSWER) {
			assert_int_equal(mn.act[i].status, PROTO_STATUS_OK);
			assert_int_equal(mn.act[i].token, 11 + answered);
			answered++;
		}
	assert_int_equal(answered, 3);
	/* A later lookup reuses the live tunnel: no signalling at all. */
	assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 14,
	    mn.now), 0);
	assert_int_equal(last(&mn, TUNNEL_ACT_ANSWER)->token, 14);
	assert_int_equal(last(&mn, TUNNEL_ACT_ANSWER)->status,
	    PROTO_STATUS_OK);
	assert_memory_equal(last(&mn, TUNNEL_ACT_ANSWER)->vip4, p->bob.vip4,
	    4);
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_DC), 1);
	assert_int_equal(count(&mn, TUNNEL_ACT_INSTALL), 1);
	/* Once closed, a lookup starts a new setup. */
	assert_int_equal(tunnel_close(mn.t, r.d.path), 0);
	assert_int_equal(tunnel_close(mn.t, r.d.path), -ENOENT);
	assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 15,
	    mn.now), 0);
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_DC), 2);
	/* Names that are not peers. */
	assert_int_equal(tunnel_resolve(mn.t, "alice.dc1.ntm.test", 16,
	    mn.now), -EINVAL);
	assert_int_equal(tunnel_resolve(mn.t, "bad_name", 16, mn.now),
	    -EINVAL);
	node_free(&cn);
	node_free(&mn);
}

static void
test_reverse_route(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	const struct act *im, *ic;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "reverse");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "reverse");
	r.d.route = PROTO_ROUTE_REVERSE;
	r.mn_role = PROTO_ROLE_RESPONDER;
	assert_int_equal(run_setup(&r, &mn, &cn, 5), PROTO_STATUS_OK);
	/* CN opened the path: it sent the Tunnel Request, MN answered. */
	im = last(&mn, TUNNEL_ACT_INSTALL);
	ic = last(&cn, TUNNEL_ACT_INSTALL);
	assert_non_null(im);
	assert_non_null(ic);
	assert_int_equal(ic->tun.role, DATAPLANE_ROLE_INITIATOR);
	assert_int_equal(im->tun.role, DATAPLANE_ROLE_RESPONDER);
	assert_memory_equal(im->tun.key_i2r, ic->tun.key_i2r, PROTO_KEY_LEN);
	assert_memory_equal(im->tun.key_r2i, ic->tun.key_r2i, PROTO_KEY_LEN);
	assert_int_equal(last(&mn, TUNNEL_ACT_ANSWER)->token, 5);
	node_free(&cn);
	node_free(&mn);
}

/* Both look each other up at once; the lower path id survives on both. */
static void
test_both_sides_at_once(void **state)
{
	struct pki *p = *state;
	struct node a, b;
	struct direction d1, d2;
	struct about about_a, about_b;
	const struct act *ca, *cb;
	const uint8_t *low;
	uint32_t txa, txb;

	setup_pair(p, &a, &b, &p->bob, NULL, NULL, "both");
	direction_new(&d1, "both/1", PROTO_KEX_ECDHE);
	direction_new(&d2, "both/2", PROTO_KEX_ECDHE);
	low = memcmp(d1.path, d2.path, PROTO_ID_LEN) < 0 ? d1.path : d2.path;
	about_a = about_leaf(a.leaf, a.status, &a.addr);
	about_b = about_leaf(b.leaf, b.status, &b.addr);
	assert_int_equal(tunnel_resolve(a.t, "bob.dc2.ntm.test", 1, a.now),
	    0);
	txa = last(&a, TUNNEL_ACT_SEND_DC)->txid;
	assert_int_equal(tunnel_resolve(b.t, "alice.dc1.ntm.test", 2, b.now),
	    0);
	txb = last(&b, TUNNEL_ACT_SEND_DC)->txid;
	/* d1: a is MN; d2: b is MN.  Both CN directions first. */
	assert_int_equal(route_to(&b, &d1, 100, PROTO_ROLE_RESPONDER, false,
	    &about_a), 0);
	assert_int_equal(route_to(&a, &d2, 200, PROTO_ROLE_RESPONDER, false,
	    &about_b), 0);
	assert_int_equal(route_to(&a, &d1, txa, PROTO_ROLE_INITIATOR, true,
	    &about_b), 0);
	assert_int_equal(route_to(&b, &d2, txb, PROTO_ROLE_INITIATOR, true,
	    &about_a), 0);
	pump_all(&a, &b);
	assert_int_equal(count(&a, TUNNEL_ACT_INSTALL), 2);
	assert_int_equal(count(&b, TUNNEL_ACT_INSTALL), 2);
	/* Each closed the higher path id; the lower is what both keep. */
	assert_non_null(ca = last(&a, TUNNEL_ACT_CLOSE));
	assert_non_null(cb = last(&b, TUNNEL_ACT_CLOSE));
	assert_memory_equal(ca->path, cb->path, PROTO_ID_LEN);
	assert_memory_not_equal(ca->path, low, PROTO_ID_LEN);
	assert_int_equal(count(&a, TUNNEL_ACT_CLOSE), 1);
	assert_int_equal(tunnel_count(a.t), 1);
	assert_int_equal(tunnel_count(b.t), 1);
	assert_int_equal(last(&a, TUNNEL_ACT_ANSWER)->status, PROTO_STATUS_OK);
	assert_int_equal(last(&b, TUNNEL_ACT_ANSWER)->status, PROTO_STATUS_OK);
	/* The survivor is the lower path: closing it leaves nothing. */
	assert_int_equal(tunnel_close(a.t, low), 0);
	assert_int_equal(tunnel_count(a.t), 0);
	node_free(&b);
	node_free(&a);
}

/* Garbage and tampering on the tunnel port are dropped silently. */
static void
test_tampered_request_dropped(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	struct act bad;
	size_t acts;

	setup_pair(p, &mn, &cn, &p->bob, NULL, NULL, "tamper");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "tamper");
	assert_int_equal(tunnel_resolve(mn.t, "bob.dc2.ntm.test", 1, mn.now),
	    0);
	assert_int_equal(route_to(&cn, &r.d, 1, PROTO_ROLE_RESPONDER, false,
	    &r.about_mn), 0);
	assert_int_equal(route_to(&mn, &r.d, last(&mn,
	    TUNNEL_ACT_SEND_DC)->txid, PROTO_ROLE_INITIATOR, true,
	    &r.about_cn), 0);
	bad = *last(&mn, TUNNEL_ACT_SEND_PEER);
	bad.msg[bad.len - 1] ^= 0x01;
	acts = cn.nact;
	assert_int_equal(tunnel_peer_input(cn.t, bad.msg, bad.len,
	    (const struct sockaddr *)&mn.addr, cn.now), -EBADMSG);
	assert_true(tunnel_peer_input(cn.t, bad.msg, 20,
	    (const struct sockaddr *)&mn.addr, cn.now) < 0);
	assert_int_equal(cn.nact, acts);
	/* The genuine datagrams still work afterwards. */
	pump_all(&mn, &cn);
	assert_int_equal(last(&mn, TUNNEL_ACT_ANSWER)->status,
	    PROTO_STATUS_OK);
	node_free(&cn);
	node_free(&mn);
}

/* ---- rsa first contact: the certificate fetch (PROTOCOL.md 8.5) ---- */

/*
 * A datagram sealed as a holder of the Route Direction d would seal it:
 * the test knows the tunnel key, so it can play a node that sends a
 * message of its choosing (k_treq for a request, k_tresp for a response).
 */
static size_t
craft(const struct direction *d, bool request, const struct msg *m,
    uint64_t seq, uint8_t out[PROTO_DATAGRAM_MAX])
{
	const char *label = request ? "ntmobile v1 tunnel request" :
	    "ntmobile v1 tunnel response";
	uint8_t prk[CRYPTO_SHA256_SIZE], k[PROTO_KEY_LEN];
	uint8_t nonce[PROTO_NONCE_LEN], body[PROTO_DATAGRAM_MAX];
	struct msg_header h;
	struct aead *key;
	struct wbuf w;
	size_t blen;

	crypto_hkdf_extract(prk, d->path, PROTO_ID_LEN, d->tunnel_key,
	    PROTO_KEY_LEN);
	assert_int_equal(crypto_hkdf_expand(k, sizeof(k), prk, sizeof(prk),
	    label, strlen(label)), 0);
	assert_int_equal(aead_new(&key, AEAD_ALG_AES256GCM, k, sizeof(k)), 0);
	assert_int_equal(msg_validate(m), 0);
	wbuf_init(&w, body, sizeof(body));
	assert_int_equal(msg_attrs_encode(m, &w), 0);
	blen = wbuf_len(&w);
	assert_true(PROTO_HEADER_LEN + blen + PROTO_TAG_LEN <=
	    PROTO_DATAGRAM_MAX);
	h = m->hdr;
	h.flags = PROTO_F_SEALED;
	h.seq = seq;
	h.length = (uint16_t)(blen + PROTO_TAG_LEN);
	wbuf_init(&w, out, PROTO_DATAGRAM_MAX);
	assert_int_equal(msg_header_encode(&h, &w), 0);
	msg_nonce(&h, nonce);
	assert_int_equal(aead_seal(key, nonce, out, PROTO_HEADER_LEN, body,
	    blen, out + PROTO_HEADER_LEN, PROTO_DATAGRAM_MAX -
	    PROTO_HEADER_LEN), 0);
	aead_free(key);
	return PROTO_HEADER_LEN + blen + PROTO_TAG_LEN;
}

/* The SEND_PEER actions of n from index `from` on. */
static size_t
sends_since(const struct node *n, size_t from)
{
	size_t i, c = 0;

	for (i = from; i < n->nact; i++)
		if (n->act[i].type == TUNNEL_ACT_SEND_PEER)
			c++;
	return c;
}

/* Delivers n's SEND_PEER actions [from, to) to b as coming from src. */
static void
deliver(const struct node *n, size_t from, size_t to, struct node *b,
    const struct sockaddr *src, int want)
{
	size_t i;

	for (i = from; i < to; i++)
		if (n->act[i].type == TUNNEL_ACT_SEND_PEER)
			assert_int_equal(tunnel_peer_input(b->t, n->act[i].msg,
			    n->act[i].len, src, b->now), want);
}

/* MN and CN directed for rsa up to MN's first datagram (the fetch). */
static void
fetch_prepare(struct run *r, struct node *mn, struct node *cn)
{
	const struct act *dr;

	assert_int_equal(tunnel_resolve(mn->t, "bob.dc2.ntm.test", 1,
	    mn->now), 0);
	dr = last(mn, TUNNEL_ACT_SEND_DC);
	assert_int_equal(route_to(cn, &r->d, 0xc0ffee, PROTO_ROLE_RESPONDER,
	    false, &r->about_mn), 0);
	assert_int_equal(route_to(mn, &r->d, dr->txid, PROTO_ROLE_INITIATOR,
	    true, &r->about_cn), 0);
}

/*
 * First contact: MN holds no certificate of bob, asks for it, checks it
 * and then sets the rsa tunnel up; a later setup toward the same peer
 * finds it cached and sends no fetch.
 */
static void
test_rsa_first_contact_fetches(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	const struct act *first;
	const uint8_t *der;
	size_t len;

	setup_pair(p, &mn, &cn, &p->bob_rsa, "rsa", "rsa", "fetch");
	assert_int_equal(peercheck_cert_find(mn.pc, p->bob_rsa.hash, &der,
	    &len), -ENOENT);
	run_prepare(&r, &mn, &cn, PROTO_KEX_RSA, "fetch");
	assert_int_equal(run_setup(&r, &mn, &cn, 1), PROTO_STATUS_OK);
	assert_same_keys(&mn, &cn, &r.d, PROTO_KEX_RSA);
	assert_int_equal(tunnel_stats(mn.t)->cert_fetches, 1);
	assert_int_equal(tunnel_stats(cn.t)->cert_fetch_answers, 1);
	assert_int_equal(tunnel_stats(mn.t)->established, 1);
	/* The fetch was one whole, padded datagram. */
	first = NULL;
	for (len = 0; len < mn.nact && first == NULL; len++)
		if (mn.act[len].type == TUNNEL_ACT_SEND_PEER)
			first = &mn.act[len];
	assert_non_null(first);
	assert_int_equal(first->len, PROTO_DATAGRAM_MAX);
	assert_int_equal(first->msg[1], PROTO_MSG_TUNNEL_REQUEST);
	assert_int_equal(peercheck_cert_find(mn.pc, p->bob_rsa.hash, &der,
	    &len), 0);
	assert_int_equal(len, p->bob_rsa.der.size);

	/* Closed (restart of the peer); the next setup needs no fetch. */
	assert_int_equal(tunnel_close(mn.t, r.d.path), 0);
	assert_int_equal(tunnel_close(cn.t, r.d.path), 0);
	run_prepare(&r, &mn, &cn, PROTO_KEX_RSA, "fetch/2");
	assert_int_equal(run_setup(&r, &mn, &cn, 2), PROTO_STATUS_OK);
	assert_same_keys(&mn, &cn, &r.d, PROTO_KEX_RSA);
	assert_int_equal(tunnel_stats(mn.t)->established, 2);
	assert_int_equal(tunnel_stats(mn.t)->cert_fetches, 1);
	assert_int_equal(tunnel_stats(cn.t)->cert_fetch_answers, 1);
	node_free(&cn);
	node_free(&mn);
}

/* The DC named another certificate: the fetched one is refused. */
static void
test_fetch_other_hash_refused(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;

	setup_pair(p, &mn, &cn, &p->bob_rsa, "rsa", "rsa", "fetch-hash");
	run_prepare(&r, &mn, &cn, PROTO_KEX_RSA, "fetch-hash");
	r.about_cn.cert_hash = p->bob.hash;
	assert_int_equal(run_setup(&r, &mn, &cn, 1),
	    PROTO_STATUS_CERT_INVALID);
	assert_string_equal(last(&mn, TUNNEL_ACT_ANSWER)->reason,
	    "fetched certificate is not the one the DC directed");
	/* Only the fetch went out: no encapsulation to that key. */
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_PEER), 1);
	assert_int_equal(tunnel_stats(mn.t)->cert_fetches, 0);
	assert_int_equal(tunnel_setups(mn.t), 0);
	assert_refused(&mn, &cn, PROTO_STATUS_CERT_INVALID,
	    PROTO_STATUS_CERT_INVALID, 0);
}

/*
 * rsa toward an ECDSA certificate, not held: the fetch brings it, the
 * scheme then refuses its key, and nothing falls back to ecdhe.
 */
static void
test_fetch_then_rsa_toward_ecdsa(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;

	setup_pair(p, &mn, &cn, &p->bob, "rsa", "rsa, ecdhe", "fetch-ec");
	run_prepare(&r, &mn, &cn, PROTO_KEX_RSA, "fetch-ec");
	assert_int_equal(run_setup(&r, &mn, &cn, 1),
	    PROTO_STATUS_CERT_INVALID);
	assert_string_equal(last(&mn, TUNNEL_ACT_ANSWER)->reason,
	    kex_strerror(KEX_E_KEY_TYPE));
	assert_int_equal(tunnel_stats(mn.t)->cert_fetches, 1);
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_PEER), 1);
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_DC), 1);
	assert_refused(&mn, &cn, PROTO_STATUS_CERT_INVALID,
	    PROTO_STATUS_CERT_INVALID, 0);
}

/* ecdhe, and rsa with the certificate cached, never fetch. */
static void
test_no_fetch_unless_needed(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;

	setup_pair(p, &mn, &cn, &p->bob_rsa, "ecdhe, rsa", "ecdhe, rsa",
	    "nofetch");
	run_prepare(&r, &mn, &cn, PROTO_KEX_ECDHE, "nofetch");
	assert_int_equal(run_setup(&r, &mn, &cn, 1), PROTO_STATUS_OK);
	assert_int_equal(tunnel_stats(mn.t)->cert_fetches, 0);
	assert_int_equal(tunnel_stats(cn.t)->cert_fetch_answers, 0);
	node_free(&cn);
	node_free(&mn);

	setup_pair(p, &mn, &cn, &p->bob_rsa, "rsa", "rsa", "nofetch/rsa");
	assert_int_equal(peercheck_cert_add(mn.pc, p->bob_rsa.der.data,
	    p->bob_rsa.der.size), 0);
	run_prepare(&r, &mn, &cn, PROTO_KEX_RSA, "nofetch/rsa");
	assert_int_equal(run_setup(&r, &mn, &cn, 1), PROTO_STATUS_OK);
	assert_int_equal(tunnel_stats(mn.t)->cert_fetches, 0);
	assert_int_equal(tunnel_stats(cn.t)->cert_fetch_answers, 0);
	node_free(&cn);
	node_free(&mn);
}

/*
 * Repeated fetches get the cached answer, byte for byte, to the same
 * address only and a bounded number of times; CN does no certificate
 * work for a fetch; duplicate and late answers at MN are dropped without
 * a second request; a fetch after the setup is ignored.
 */
static void
test_fetch_duplicates_and_late_answers(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	struct sockaddr_in victim;
	const struct sockaddr *from_mn = (const struct sockaddr *)&mn.addr;
	const struct sockaddr *from_cn = (const struct sockaddr *)&cn.addr;
	const struct act *fetch;
	uint64_t verified;
	size_t a0, a1, k, i, m0, m1;
	uint8_t late[PROTO_DATAGRAM_MAX];
	size_t late_len;
	struct msg m;

	setup_pair(p, &mn, &cn, &p->bob_rsa, "rsa", "rsa", "fetch-dup");
	run_prepare(&r, &mn, &cn, PROTO_KEX_RSA, "fetch-dup");
	fetch_prepare(&r, &mn, &cn);
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_PEER), 1);
	fetch = last(&mn, TUNNEL_ACT_SEND_PEER);
	mn.delivered = mn.nact;

	/* CN answers with no check of MN's certificate or status. */
	verified = peercheck_stats(cn.pc)->verified;
	a0 = cn.nact;
	assert_int_equal(tunnel_peer_input(cn.t, fetch->msg, fetch->len,
	    from_mn, cn.now), 0);
	a1 = cn.nact;
	k = sends_since(&cn, a0);
	assert_true(k >= 1 && k <= TUNNEL_FETCH_DGRAMS_MAX);
	assert_int_equal(peercheck_stats(cn.pc)->verified, verified);
	assert_int_equal(count(&cn, TUNNEL_ACT_INSTALL), 0);
	assert_int_equal(tunnel_setups(cn.t), 1);

	/* The fetch again: the same datagrams again, marked retransmit. */
	assert_int_equal(tunnel_peer_input(cn.t, fetch->msg, fetch->len,
	    from_mn, cn.now), 0);
	assert_int_equal(sends_since(&cn, a1), k);
	for (i = 0; i < k; i++) {
		assert_true(cn.act[a1 + i].retransmit);
		assert_int_equal(cn.act[a1 + i].len, cn.act[a0 + i].len);
		assert_memory_equal(cn.act[a1 + i].msg, cn.act[a0 + i].msg,
		    cn.act[a0 + i].len);
	}
	/* Not toward another address. */
	victim = mn.addr;
	victim.sin_port = htons(53);
	i = cn.nact;
	assert_int_equal(tunnel_peer_input(cn.t, fetch->msg, fetch->len,
	    (const struct sockaddr *)&victim, cn.now), -EALREADY);
	assert_int_equal(cn.nact, i);
	/* And only so many times in all. */
	for (i = 0; i < 10; i++)
		(void)tunnel_peer_input(cn.t, fetch->msg, fetch->len,
		    from_mn, cn.now);
	assert_int_equal(sends_since(&cn, a0), TUNNEL_FETCH_ANSWERS_MAX * k);

	/* The answer reaches MN: one real request follows. */
	m0 = mn.nact;
	deliver(&cn, a0, a1, &mn, from_cn, 0);
	m1 = mn.nact;
	assert_true(sends_since(&mn, m0) >= 1);
	assert_int_equal(tunnel_stats(mn.t)->cert_fetches, 1);
	/* Its copies are duplicates: dropped, nothing sent. */
	deliver(&cn, a1, a1 + k, &mn, from_cn, -EALREADY);
	assert_int_equal(sends_since(&mn, m1), 0);
	/* A fetch answer with a fresh number is late: dropped as well. */
	msg_init(&m, PROTO_MSG_TUNNEL_RESPONSE);
	memcpy(m.hdr.id, r.d.path, PROTO_ID_LEN);
	m.hdr.txid = fetch->msg[8] << 24 | fetch->msg[9] << 16 |
	    fetch->msg[10] << 8 | fetch->msg[11];
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT, p->bob_rsa.der.data,
	    p->bob_rsa.der.size), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_STATUS, "x", 1), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT_FETCH, "", 0), 0);
	late_len = craft(&r.d, false, &m, 1000, late);
	assert_int_equal(tunnel_peer_input(mn.t, late, late_len, from_cn,
	    mn.now), -EALREADY);
	assert_int_equal(sends_since(&mn, m1), 0);

	/* The request and its response: up. */
	mn.delivered = m0;
	cn.delivered = cn.nact;
	pump_all(&mn, &cn);
	assert_int_equal(last(&mn, TUNNEL_ACT_ANSWER)->status,
	    PROTO_STATUS_OK);
	assert_same_keys(&mn, &cn, &r.d, PROTO_KEX_RSA);
	/* A fetch copy after the setup: ignored. */
	i = cn.nact;
	assert_int_equal(tunnel_peer_input(cn.t, fetch->msg, fetch->len,
	    from_mn, cn.now), -EALREADY);
	assert_int_equal(cn.nact, i);
	node_free(&cn);
	node_free(&mn);
}

/*
 * A fetch that is not padded to a whole datagram gets no answer (it
 * could make CN send three times what it received); one for names other
 * than the directed ones is refused, and the path stays open.
 */
static void
test_fetch_unpadded_or_misnamed(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	const struct sockaddr *from_mn = (const struct sockaddr *)&mn.addr;
	uint8_t dg[PROTO_DATAGRAM_MAX];
	size_t len, a0;
	uint8_t kex = PROTO_KEX_RSA;
	struct msg m;

	setup_pair(p, &mn, &cn, &p->bob_rsa, "rsa", "rsa", "fetch-pad");
	run_prepare(&r, &mn, &cn, PROTO_KEX_RSA, "fetch-pad");
	fetch_prepare(&r, &mn, &cn);
	msg_init(&m, PROTO_MSG_TUNNEL_REQUEST);
	memcpy(m.hdr.id, r.d.path, PROTO_ID_LEN);
	m.hdr.txid = 77;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PATH_ID, r.d.path,
	    PROTO_ID_LEN), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_KEX, &kex, 1), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_FQDN,
	    "alice.dc1.ntm.test", 18), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PEER_FQDN,
	    "bob.dc2.ntm.test", 16), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT_FETCH, "", 0), 0);
	len = craft(&r.d, true, &m, 100, dg);
	assert_true(len < PROTO_DATAGRAM_MAX);
	a0 = cn.nact;
	assert_int_equal(tunnel_peer_input(cn.t, dg, len, from_mn, cn.now),
	    -EPROTO);
	assert_int_equal(sends_since(&cn, a0), 0);

	/* Padded, but for another responder: an error answer; CN waits. */
	m.attr[3].val = (const uint8_t *)"carol.dc2.ntm.test";
	m.attr[3].len = 18;
	{
		static const uint8_t zero[PROTO_DATAGRAM_MAX];
		size_t used = PROTO_HEADER_LEN + PROTO_TAG_LEN, i;

		for (i = 0; i < m.nattr; i++)
			used += PROTO_ATTR_HEADER_LEN + m.attr[i].len;
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PADDING, zero,
		    PROTO_DATAGRAM_MAX - used - PROTO_ATTR_HEADER_LEN), 0);
	}
	len = craft(&r.d, true, &m, 101, dg);
	assert_int_equal(len, PROTO_DATAGRAM_MAX);
	assert_int_equal(tunnel_peer_input(cn.t, dg, len, from_mn, cn.now), 0);
	assert_int_equal(sends_since(&cn, a0), 1);
	assert_int_equal(tunnel_stats(cn.t)->cert_fetch_answers, 0);
	assert_int_equal(tunnel_setups(cn.t), 1);
	/* MN's own fetch is then a second one on this path: not answered. */
	assert_int_equal(tunnel_peer_input(cn.t, last(&mn,
	    TUNNEL_ACT_SEND_PEER)->msg, last(&mn, TUNNEL_ACT_SEND_PEER)->len,
	    from_mn, cn.now), -EALREADY);
	node_free(&cn);
	node_free(&mn);
}

/*
 * A CN that does not know the fetch (an older ntmd drops the unknown
 * attribute): MN retransmits it on the usual schedule, then fails with
 * the rsa reason, never falling back to another scheme.
 */
static void
test_fetch_unanswered(void **state)
{
	static const uint64_t at[] = { 0, 250, 750, 1750, 3750 };
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	const struct act *first = NULL, *ans;
	size_t i, k = 0;

	setup_pair(p, &mn, &cn, &p->bob_rsa, "rsa, ecdhe", "rsa",
	    "fetch-old");
	run_prepare(&r, &mn, &cn, PROTO_KEX_RSA, "fetch-old");
	fetch_prepare(&r, &mn, &cn);
	run_timers(&mn, NOW_MS + 60000);
	for (i = 0; i < mn.nact; i++) {
		if (mn.act[i].type != TUNNEL_ACT_SEND_PEER)
			continue;
		if (first == NULL)
			first = &mn.act[i];
		assert_int_equal(mn.act[i].at, NOW_MS + at[k]);
		assert_int_equal(mn.act[i].retransmit, k > 0);
		assert_int_equal(mn.act[i].len, first->len);
		assert_memory_equal(mn.act[i].msg, first->msg, first->len);
		k++;
	}
	assert_int_equal(k, PROTO_TIMER_RETRANSMIT_TRIES);
	ans = last(&mn, TUNNEL_ACT_ANSWER);
	assert_int_equal(ans->status, PROTO_STATUS_UNAVAILABLE);
	assert_non_null(strstr(ans->reason,
	    "rsa needs the responder's certificate, not held"));
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_DC), 1);
	assert_int_equal(tunnel_setups(mn.t), 0);
	assert_int_equal(tunnel_stats(mn.t)->timeouts, 1);
	node_free(&cn);
	node_free(&mn);
}

/* Relay route: the fetch and its answer go through the RS like the request. */
static void
test_fetch_through_relay(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	struct sockaddr_in6 rs;
	size_t i, a0, m0;

	setup_pair(p, &mn, &cn, &p->bob_rsa, "rsa", "rsa", "fetch-rs");
	run_prepare(&r, &mn, &cn, PROTO_KEX_RSA, "fetch-rs");
	r.d.route = PROTO_ROUTE_RELAY;
	r.d.relay = true;
	r.d.rs.family = PROTO_FAMILY_IPV6;
	r.d.rs.port = PROTO_PORT_RS;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::4613", r.d.rs.addr),
	    1);
	memset(&rs, 0, sizeof(rs));
	rs.sin6_family = AF_INET6;
	rs.sin6_port = htons(PROTO_PORT_RS);
	memcpy(&rs.sin6_addr, r.d.rs.addr, 16);
	fetch_prepare(&r, &mn, &cn);
	/* One padded datagram, to the RS only. */
	assert_int_equal(count(&mn, TUNNEL_ACT_SEND_PEER), 1);
	assert_int_equal(last(&mn, TUNNEL_ACT_SEND_PEER)->to.family,
	    PROTO_FAMILY_IPV6);
	assert_int_equal(last(&mn, TUNNEL_ACT_SEND_PEER)->to.port,
	    PROTO_PORT_RS);
	/* The RS forwards it; CN answers the RS. */
	a0 = cn.nact;
	deliver(&mn, 0, mn.nact, &cn, (const struct sockaddr *)&rs, 0);
	assert_true(sends_since(&cn, a0) >= 1);
	for (i = a0; i < cn.nact; i++)
		if (cn.act[i].type == TUNNEL_ACT_SEND_PEER)
			assert_memory_equal(cn.act[i].to.addr, r.d.rs.addr,
			    16);
	/* The RS forwards the answer; MN sends its request to the RS. */
	m0 = mn.nact;
	deliver(&cn, a0, cn.nact, &mn, (const struct sockaddr *)&rs, 0);
	assert_int_equal(tunnel_stats(mn.t)->cert_fetches, 1);
	assert_true(sends_since(&mn, m0) >= 1);
	for (i = m0; i < mn.nact; i++)
		if (mn.act[i].type == TUNNEL_ACT_SEND_PEER)
			assert_memory_equal(mn.act[i].to.addr, r.d.rs.addr,
			    16);
	/* ... and through the RS the tunnel comes up. */
	a0 = cn.nact;
	deliver(&mn, m0, mn.nact, &cn, (const struct sockaddr *)&rs, 0);
	m0 = mn.nact;
	deliver(&cn, a0, cn.nact, &mn, (const struct sockaddr *)&rs, 0);
	assert_int_equal(last(&mn, TUNNEL_ACT_ANSWER)->status,
	    PROTO_STATUS_OK);
	assert_memory_equal(last(&mn, TUNNEL_ACT_INSTALL)->tun.key_i2r,
	    last(&cn, TUNNEL_ACT_INSTALL)->tun.key_i2r, PROTO_KEY_LEN);
	assert_int_equal(last(&mn, TUNNEL_ACT_INSTALL)->kex, PROTO_KEX_RSA);
	node_free(&cn);
	node_free(&mn);
}

/*
 * Reverse route: CN is the initiator and lacks MN's RSA certificate; it
 * fetches it from MN, which answers as the responder.
 */
static void
test_fetch_reverse_route(void **state)
{
	struct pki *p = *state;
	struct node mn, cn;
	struct run r;
	const struct act *im, *ic;

	node_init(&mn, p, &p->alice_rsa, "alice.dc1.ntm.test", "rsa",
	    "192.0.2.1", "fetch-rev/mn");
	node_init(&cn, p, &p->bob, "bob.dc2.ntm.test", "rsa", "203.0.113.7",
	    "fetch-rev/cn");
	run_prepare(&r, &mn, &cn, PROTO_KEX_RSA, "fetch-rev");
	r.d.route = PROTO_ROUTE_REVERSE;
	r.mn_role = PROTO_ROLE_RESPONDER;
	assert_int_equal(run_setup(&r, &mn, &cn, 5), PROTO_STATUS_OK);
	assert_int_equal(tunnel_stats(cn.t)->cert_fetches, 1);
	assert_int_equal(tunnel_stats(mn.t)->cert_fetch_answers, 1);
	im = last(&mn, TUNNEL_ACT_INSTALL);
	ic = last(&cn, TUNNEL_ACT_INSTALL);
	assert_non_null(im);
	assert_non_null(ic);
	assert_int_equal(ic->tun.role, DATAPLANE_ROLE_INITIATOR);
	assert_int_equal(im->kex, PROTO_KEX_RSA);
	assert_memory_equal(im->tun.key_i2r, ic->tun.key_i2r, PROTO_KEY_LEN);
	assert_memory_equal(im->tun.key_r2i, ic->tun.key_r2i, PROTO_KEY_LEN);
	node_free(&cn);
	node_free(&mn);
}

/* The codec's rules for CERT_FETCH (lib/msg.c, PROTOCOL.md 6.2). */
static void
test_fetch_codec(void **state)
{
	static const uint8_t path[PROTO_ID_LEN] = { 1, 2, 3 };
	static const uint8_t kem[PROTO_RSA_KEM_LEN], sig[64], nonce[32];
	static const uint8_t hash[PROTO_HASH_LEN];
	uint8_t tr[HANDSHAKE_TRANSCRIPT_MAX];
	struct pki *p = *state;
	struct wbuf w;
	struct msg m;

	msg_init(&m, PROTO_MSG_TUNNEL_REQUEST);
	memcpy(m.hdr.id, path, PROTO_ID_LEN);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PATH_ID, path,
	    PROTO_ID_LEN), 0);
	assert_int_equal(msg_add_u8(&m, PROTO_ATTR_KEX, PROTO_KEX_RSA), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_FQDN,
	    "alice.dc1.ntm.test", 18), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_PEER_FQDN,
	    "bob.dc2.ntm.test", 16), 0);
	/* Without CERT_FETCH this is a request missing its fields. */
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_MISSING);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT_FETCH, "", 0), 0);
	assert_int_equal(msg_validate(&m), 0);
	/* A fetch has no transcript: nothing can sign or verify one. */
	wbuf_init(&w, tr, sizeof(tr));
	assert_true(msg_transcript_request(&m, hash, &w) < 0);
	/* No handshake field rides along, and the value is empty. */
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_KEM_CT, kem,
	    sizeof(kem)), 0);
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_CONFLICT);
	m.nattr--;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_SIGNATURE, sig,
	    sizeof(sig)), 0);
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_CONFLICT);
	m.nattr--;
	m.attr[4].len = 1;
	m.attr[4].val = (const uint8_t *)"x";
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_SIZE);
	m.attr[4].len = 0;
	/* rsa only. */
	m.attr[1].val = (const uint8_t *)"\x03";
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_VALUE);
	m.attr[1].val = (const uint8_t *)"\x02";
	/* The path attribute is the header's. */
	m.hdr.id[0] ^= 1;
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_CONFLICT);

	/* The answer: certificate and status, nothing of the handshake. */
	msg_init(&m, PROTO_MSG_TUNNEL_RESPONSE);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT,
	    p->bob_rsa.der.data, p->bob_rsa.der.size), 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT_FETCH, "", 0), 0);
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_MISSING);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_STATUS, "s", 1), 0);
	assert_int_equal(msg_validate(&m), 0);
	wbuf_init(&w, tr, sizeof(tr));
	assert_true(msg_transcript_response(&m, hash, &w) < 0);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_NONCE, nonce,
	    sizeof(nonce)), 0);
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_CONFLICT);
	/* An error answer to a fetch carries the marker and a text. */
	msg_init(&m, PROTO_MSG_TUNNEL_RESPONSE);
	m.hdr.status = PROTO_STATUS_TOO_LARGE;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT_FETCH, "", 0), 0);
	assert_int_equal(msg_validate(&m), 0);
	/* Nowhere else. */
	msg_init(&m, PROTO_MSG_TUNNEL_UPDATE_ACK);
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT_FETCH, "", 0), 0);
	assert_int_equal(msg_validate(&m), MSG_E_ATTR_UNEXPECTED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecdhe_end_to_end),
		cmocka_unit_test(test_setup_timing),
		cmocka_unit_test(test_shared_end_to_end),
		cmocka_unit_test(test_rsa_end_to_end),
		cmocka_unit_test(test_renewed_identity),
		cmocka_unit_test(test_refuse_other_root),
		cmocka_unit_test(test_refuse_expired),
		cmocka_unit_test(test_refuse_wrong_role),
		cmocka_unit_test(test_refuse_wrong_fqdn),
		cmocka_unit_test(test_refuse_vip_mismatch),
		cmocka_unit_test(test_refuse_revoked),
		cmocka_unit_test(test_cn_refuses_revoked_mn),
		cmocka_unit_test(test_cn_refuses_foreign_initiator),
		cmocka_unit_test(test_refuse_stale_status),
		cmocka_unit_test(test_refuse_kex_not_allowed),
		cmocka_unit_test(test_refuse_rsa_toward_ecdsa),
		cmocka_unit_test(test_cn_refuses_scheme_in_request),
		cmocka_unit_test(test_replayed_path_id),
		cmocka_unit_test(test_request_without_route_direction),
		cmocka_unit_test(test_route_direction_for_another_name),
		cmocka_unit_test(test_expired_route_direction),
		cmocka_unit_test(test_relay_and_punch_destinations),
		cmocka_unit_test(test_direction_request_retransmission),
		cmocka_unit_test(test_tunnel_request_retransmission),
		cmocka_unit_test(test_lost_response_recovered),
		cmocka_unit_test(test_revocation_closes_tunnel),
		cmocka_unit_test(test_concurrent_lookups_share_setup),
		cmocka_unit_test(test_reverse_route),
		cmocka_unit_test(test_both_sides_at_once),
		cmocka_unit_test(test_tampered_request_dropped),
		cmocka_unit_test(test_rsa_first_contact_fetches),
		cmocka_unit_test(test_fetch_other_hash_refused),
		cmocka_unit_test(test_fetch_then_rsa_toward_ecdsa),
		cmocka_unit_test(test_no_fetch_unless_needed),
		cmocka_unit_test(test_fetch_duplicates_and_late_answers),
		cmocka_unit_test(test_fetch_unpadded_or_misnamed),
		cmocka_unit_test(test_fetch_unanswered),
		cmocka_unit_test(test_fetch_through_relay),
		cmocka_unit_test(test_fetch_reverse_route),
		cmocka_unit_test(test_fetch_codec),
		cmocka_unit_test(test_install_refused),
		cmocka_unit_test(test_path_pending),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
