/* test_federation.c -- unit tests: finding a peer DC through NS records (a DNS server played on loopback), the TTL cache, peer authorization by certificate. */
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

#include <ldns/ldns.h>
#include <uv.h>

#include "cert.h"
#include "federation.h"
#include "loop.h"
#include "msg.h"
#include "rand.h"
#include "registry.h"
#include "relay.h"
#include "signal.h"
#include "sigio.h"
#include "tls.h"

#include "../testca.h"

#define NOW	((time_t)1795000000)

/* ---- a DNS server for the test ---------------------------------------- */

struct fake_dns {
	uv_udp_t	 udp;
	unsigned	 queries;
	unsigned	 slow_dropped;	/* "slow." queries not answered */
	uint8_t		 buf[4096];
};

static ldns_rr *
rr(const char *text)
{
	ldns_rr *r = NULL;

	assert_int_equal(ldns_rr_new_frm_str(&r, text, 0, NULL, NULL),
	    LDNS_STATUS_OK);
	return r;
}

/*
 * dc2.ntm.test: NS with glue (A and AAAA).  noglue.ntm.test: NS without
 * glue; its name server answers A.  nope.ntm.test: NXDOMAIN.
 * slow.ntm.test: the first query is dropped, then answered with glue.
 */
static ldns_pkt *
fake_answer(struct fake_dns *f, const ldns_pkt *q)
{
	const ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	char *name = ldns_rdf2str(ldns_rr_owner(qr));
	ldns_rr_type t = ldns_rr_get_type(qr);
	ldns_pkt *a = ldns_pkt_new();

	ldns_pkt_set_id(a, ldns_pkt_id(q));
	ldns_pkt_set_qr(a, true);
	ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, ldns_rr_clone(qr));
	if (strcmp(name, "dc2.ntm.test.") == 0 && t == LDNS_RR_TYPE_NS) {
		ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER,
		    rr("dc2.ntm.test. 300 IN NS ns1.dc2.ntm.test."));
		ldns_pkt_push_rr(a, LDNS_SECTION_ADDITIONAL,
		    rr("ns1.dc2.ntm.test. 120 IN A 198.18.2.1"));
		ldns_pkt_push_rr(a, LDNS_SECTION_ADDITIONAL,
		    rr("ns1.dc2.ntm.test. 600 IN AAAA fd6e:746d:6f62:2::1"));
		ldns_pkt_push_rr(a, LDNS_SECTION_ADDITIONAL,
		    rr("other.example. 600 IN A 192.0.2.66"));
	} else if (strcmp(name, "noglue.ntm.test.") == 0 &&
	    t == LDNS_RR_TYPE_NS) {
		ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER,
		    rr("noglue.ntm.test. 300 IN NS ns.elsewhere.test."));
	} else if (strcmp(name, "ns.elsewhere.test.") == 0 &&
	    t == LDNS_RR_TYPE_A) {
		ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER,
		    rr("ns.elsewhere.test. 60 IN A 192.0.2.53"));
	} else if (strcmp(name, "slow.ntm.test.") == 0 &&
	    t == LDNS_RR_TYPE_NS) {
		if (f->slow_dropped++ == 0) {
			ldns_pkt_free(a);
			a = NULL;
		} else {
			ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER,
			    rr("slow.ntm.test. 300 IN NS ns.slow.ntm.test."));
			ldns_pkt_push_rr(a, LDNS_SECTION_ADDITIONAL,
			    rr("ns.slow.ntm.test. 300 IN A 198.18.3.1"));
		}
	} else if ((strcmp(name, "fed.ntm.test.") == 0 ||
	    strcmp(name, "rogue.ntm.test.") == 0) && t == LDNS_RR_TYPE_NS) {
		/* Both point at the test's DC on loopback. */
		char line[128];

		snprintf(line, sizeof(line), "%s 300 IN NS ns.%s", name, name);
		ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr(line));
		snprintf(line, sizeof(line), "ns.%s 300 IN A 127.0.0.1", name);
		ldns_pkt_push_rr(a, LDNS_SECTION_ADDITIONAL, rr(line));
	} else if (strcmp(name, "nope.ntm.test.") == 0)
		ldns_pkt_set_rcode(a, LDNS_RCODE_NXDOMAIN);
	/* Anything else: NOERROR, no records. */
	free(name);
	return a;
}

static void
fake_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct fake_dns *f = h->data;

	(void)hint;
	*b = uv_buf_init((char *)f->buf, sizeof(f->buf));
}

static void
fake_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *b,
    const struct sockaddr *from, unsigned flags)
{
	struct fake_dns *f = u->data;
	ldns_pkt *q = NULL, *a;
	uint8_t *wire = NULL;
	size_t len;
	uv_buf_t out;

	(void)b;
	(void)flags;
	if (n <= 0 || from == NULL)
		return;
	f->queries++;
	assert_int_equal(ldns_wire2pkt(&q, f->buf, (size_t)n),
	    LDNS_STATUS_OK);
	if ((a = fake_answer(f, q)) != NULL) {
		assert_int_equal(ldns_pkt2wire(&wire, a, &len), LDNS_STATUS_OK);
		out = uv_buf_init((char *)wire, (unsigned int)len);
		assert_true(uv_udp_try_send(u, &out, 1, from) > 0);
		free(wire);
		ldns_pkt_free(a);
	}
	ldns_pkt_free(q);
}

/* ---- lookups ----------------------------------------------------------- */

struct result {
	int			 calls;
	int			 status;
	struct federation_dc	 dc;
};

static void
resolved(void *arg, int status, const struct federation_dc *dc)
{
	struct result *r = arg;

	r->calls++;
	r->status = status;
	if (dc != NULL)
		r->dc = *dc;
}

static void
run_until(uv_loop_t *loop, const struct result *r, int calls)
{
	int i;

	for (i = 0; i < 1000 && r->calls < calls; i++)
		uv_run(loop, UV_RUN_ONCE);
	assert_int_equal(r->calls, calls);
}

static void
addr_is(const struct sockaddr_storage *ss, const char *want)
{
	char text[LOOP_ADDRSTRLEN];

	assert_int_equal(loop_addr_format((const struct sockaddr *)ss, text,
	    sizeof(text)), 0);
	assert_string_equal(text, want);
}

static void
test_zone_of(void **state)
{
	char z[64];

	(void)state;
	assert_int_equal(federation_zone_of("Bob.DC2.ntm.test", z, sizeof(z)),
	    0);
	assert_string_equal(z, "dc2.ntm.test");
	assert_int_equal(federation_zone_of("bob.dc2.ntm.test.", z, sizeof(z)),
	    0);
	assert_string_equal(z, "dc2.ntm.test");
	assert_int_equal(federation_zone_of("bob", z, sizeof(z)), -EINVAL);
	assert_int_equal(federation_zone_of(".dc2", z, sizeof(z)), -EINVAL);
	assert_int_equal(federation_zone_of("bob.dc2.ntm.test", z, 5),
	    -EINVAL);
}

/* The pure halves: a query, its answer, answers that are not ours. */
static void
test_query_and_answer(void **state)
{
	struct fake_dns f;
	struct federation_dc dc;
	ldns_pkt *q = NULL, *a;
	uint8_t pkt[512], *wire;
	size_t len, wlen;
	uint32_t ttl = UINT32_MAX;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(federation_query_build("dc2.ntm.test",
	    LDNS_RR_TYPE_NS, 0x1234, pkt, sizeof(pkt), &len), 0);
	assert_int_equal(ldns_wire2pkt(&q, pkt, len), LDNS_STATUS_OK);
	assert_true(ldns_pkt_rd(q));
	a = fake_answer(&f, q);
	assert_int_equal(ldns_pkt2wire(&wire, a, &wlen), LDNS_STATUS_OK);
	memset(&dc, 0, sizeof(dc));
	assert_int_equal(federation_answer_parse(wire, wlen, 0x1234,
	    LDNS_RR_TYPE_NS, &dc, &ttl), 0);
	assert_string_equal(dc.ns, "ns1.dc2.ntm.test");
	/* Glue of the NS name only, on the DC TLS port; smallest TTL. */
	assert_int_equal(dc.naddr, 2);
	addr_is(&dc.addr[0], "198.18.2.1:4611");
	addr_is(&dc.addr[1], "[fd6e:746d:6f62:2::1]:4611");
	assert_int_equal(ttl, 120);
	/* Another id, or another type: not this query's answer. */
	memset(&dc, 0, sizeof(dc));
	assert_int_equal(federation_answer_parse(wire, wlen, 0x1235,
	    LDNS_RR_TYPE_NS, &dc, &ttl), -EBADMSG);
	assert_int_equal(federation_answer_parse(wire, wlen, 0x1234,
	    LDNS_RR_TYPE_A, &dc, &ttl), -EBADMSG);
	assert_int_equal(federation_answer_parse(wire, 11, 0x1234,
	    LDNS_RR_TYPE_NS, &dc, &ttl), -EBADMSG);
	free(wire);
	ldns_pkt_free(a);
	ldns_pkt_free(q);
}

/* Through a resolver on loopback: glue, no glue, NXDOMAIN, loss, cache. */
static void
test_resolver(void **state)
{
	uv_loop_t loop;
	struct fake_dns f;
	struct federation_resolver *r;
	struct sockaddr_storage ss;
	struct result a, b, c, d, e, g;
	struct ntm_rng *rng = rng_seeded_new("fed", 3);
	int len = sizeof(ss);
	uint64_t sent;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&a, 0, sizeof(a));
	b = c = d = e = g = a;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(uv_udp_init(&loop, &f.udp), 0);
	f.udp.data = &f;
	assert_int_equal(loop_addr_parse("127.0.0.1:0", 0, 0, &ss), 0);
	assert_int_equal(uv_udp_bind(&f.udp, (struct sockaddr *)&ss, 0), 0);
	assert_int_equal(uv_udp_getsockname(&f.udp, (struct sockaddr *)&ss,
	    &len), 0);
	assert_int_equal(uv_udp_recv_start(&f.udp, fake_alloc, fake_recv), 0);
	assert_int_equal(federation_resolver_new(&r, &loop, &ss, rng), 0);

	/* Two lookups of one zone share one query. */
	assert_int_equal(federation_resolve(r, "dc2.ntm.test", resolved, &a),
	    0);
	assert_int_equal(federation_resolve(r, "dc2.ntm.test", resolved, &b),
	    0);
	run_until(&loop, &b, 1);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, 0);
	assert_string_equal(a.dc.ns, "ns1.dc2.ntm.test");
	assert_int_equal(a.dc.naddr, 2);
	addr_is(&a.dc.addr[0], "198.18.2.1:4611");
	assert_int_equal(f.queries, 1);
	/* Within the TTL the cache answers at once, nothing is sent. */
	sent = federation_resolver_sent(r);
	assert_int_equal(federation_resolve(r, "dc2.ntm.test", resolved, &c),
	    1);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.status, 0);
	assert_int_equal(federation_resolver_sent(r), sent);

	/* No glue: the NS name's A record is looked up. */
	assert_int_equal(federation_resolve(r, "noglue.ntm.test", resolved,
	    &d), 0);
	run_until(&loop, &d, 1);
	assert_int_equal(d.status, 0);
	assert_string_equal(d.dc.ns, "ns.elsewhere.test");
	assert_int_equal(d.dc.naddr, 1);
	addr_is(&d.dc.addr[0], "192.0.2.53:4611");

	/* NXDOMAIN: no DC, and the failure is cached too. */
	assert_int_equal(federation_resolve(r, "nope.ntm.test", resolved, &e),
	    0);
	run_until(&loop, &e, 1);
	assert_int_equal(e.status, -ENOENT);
	assert_int_equal(federation_resolve(r, "nope.ntm.test", resolved, &e),
	    1);
	assert_int_equal(e.calls, 2);
	assert_int_equal(e.status, -ENOENT);

	/* A lost query is sent again. */
	assert_int_equal(federation_resolve(r, "slow.ntm.test", resolved, &g),
	    0);
	run_until(&loop, &g, 1);
	assert_int_equal(g.status, 0);
	assert_int_equal(f.slow_dropped, 2);
	addr_is(&g.dc.addr[0], "198.18.3.1:4611");

	federation_resolver_free(r);
	uv_close((uv_handle_t *)&f.udp, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	rng_free(rng);
}

/* No answer at all: -ETIMEDOUT after the retransmissions. */
static void
test_resolver_timeout(void **state)
{
	uv_loop_t loop;
	uv_udp_t sink;
	struct federation_resolver *r;
	struct sockaddr_storage ss;
	struct result a;
	struct ntm_rng *rng = rng_seeded_new("fed2", 4);
	int len = sizeof(ss);

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(uv_loop_init(&loop), 0);
	/* A bound socket that never reads: the queries go nowhere. */
	assert_int_equal(uv_udp_init(&loop, &sink), 0);
	assert_int_equal(loop_addr_parse("127.0.0.1:0", 0, 0, &ss), 0);
	assert_int_equal(uv_udp_bind(&sink, (struct sockaddr *)&ss, 0), 0);
	assert_int_equal(uv_udp_getsockname(&sink, (struct sockaddr *)&ss,
	    &len), 0);
	assert_int_equal(federation_resolver_new(&r, &loop, &ss, rng), 0);
	assert_int_equal(federation_resolve(r, "dc2.ntm.test", resolved, &a),
	    0);
	run_until(&loop, &a, 1);
	assert_int_equal(a.status, -ETIMEDOUT);
	assert_int_equal(federation_resolver_sent(r), FEDERATION_TRIES);
	federation_resolver_free(r);
	uv_close((uv_handle_t *)&sink, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	rng_free(rng);
}

/* The status store as the test plays it: bob has one, carol none. */
static int
store_cert(void *arg, const char *fqdn, struct signal_cert *c)
{
	static const uint8_t hash[PROTO_HASH_LEN] = { 0xaa, 0xbb };
	static const uint8_t serial[3] = { 1, 2, 3 };
	static const uint8_t status[5] = { 0x30, 3, 1, 2, 3 };

	(void)arg;
	if (strcmp(fqdn, "bob.dc2.ntm.test") != 0 &&
	    strcmp(fqdn, "bob.fed.ntm.test") != 0)
		return -ENOENT;
	c->hash = hash;
	c->serial = serial;
	c->serial_len = sizeof(serial);
	c->status = status;
	c->status_len = sizeof(status);
	return 0;
}

static void
registry_put(struct registry *reg, const char *fqdn, const char *v4,
    const char *local, const char *observed)
{
	struct registry_pending p;
	struct registry_node n;
	struct registry_entry *e;
	struct sockaddr_storage ss;
	struct msg_addr la;
	uint8_t k[PROTO_KEY_LEN] = { 0 };

	memset(&p, 0, sizeof(p));
	p.fqdn_len = (uint8_t)strlen(fqdn);
	memcpy(p.fqdn, fqdn, p.fqdn_len + 1);
	memset(p.sid, p.fqdn_len, sizeof(p.sid));
	inet_pton(AF_INET, v4, p.vip4);
	p.flags = REGISTRY_F_VIP4;
	memset(&n, 0, sizeof(n));
	n.p = &p;
	n.key_rx = n.key_tx = k;
	assert_int_equal(loop_addr_parse(local, 0, 0, &ss), 0);
	assert_int_equal(sigio_addr_from_sockaddr(&la,
	    (struct sockaddr *)&ss), 0);
	n.local = &la;
	n.nlocal = 1;
	assert_int_equal(loop_addr_parse(observed, 0, 0, &ss), 0);
	assert_int_equal(sigio_addr_from_sockaddr(&n.observed,
	    (struct sockaddr *)&ss), 0);
	n.proven = true;
	assert_int_equal(registry_add(reg, &n, 1000, &e), 0);
}

/* DC_CN's direction policy in these tests: dave may not reach bob. */
static bool
deny_dave_to_bob(void *arg, const char *mn, const char *cn)
{
	(void)arg;
	return !(strcmp(mn, "dave.dc2.ntm.test") == 0 &&
	    strcmp(cn, "bob.dc2.ntm.test") == 0);
}

/* What DC_CN tells DC_MN about CN, and when it says no. */
static uint8_t
node_info(gnutls_x509_crt_t peer, struct registry *reg, const char *mn,
    const char *cn, struct msg *m, uint8_t *buf, size_t cap)
{
	uint8_t req[512];
	size_t len, outlen;
	struct msg q;

	msg_init(&q, PROTO_MSG_NODE_INFO_REQUEST);
	q.hdr.txid = 77;
	assert_int_equal(msg_add_bytes(&q, PROTO_ATTR_FQDN, mn, strlen(mn)), 0);
	assert_int_equal(msg_add_bytes(&q, PROTO_ATTR_PEER_FQDN, cn,
	    strlen(cn)), 0);
	assert_int_equal(msg_add_u8(&q, PROTO_ATTR_KEX, 1), 0);
	assert_int_equal(msg_encode(&q, req, sizeof(req), &len), 0);
	assert_int_equal(federation_node_info(req, len, peer, "dc2.ntm.test",
	    reg, store_cert, deny_dave_to_bob, NULL, buf, cap, &outlen), 0);
	assert_int_equal(msg_decode(buf, outlen, m), 0);
	assert_int_equal(m->hdr.type, PROTO_MSG_NODE_INFO_RESPONSE);
	assert_int_equal(m->hdr.txid, 77);
	return m->hdr.status;
}

/* DNS locates, the certificate authorizes: only zones the DC cert lists. */
static void
test_peer_authorized(void **state)
{
	static const char *const zones[] = { "dc2.ntm.test",
	    "2.18.198.in-addr.arpa" };
	const struct testca_leaf dcl = { .role = CERT_ROLE_DC,
	    .fqdn = "ns1.dc2.ntm.test", .zones = zones, .nzones = 2 };
	struct testca_leaf nodel = { .fqdn = "dc2.ntm.test",
	    .vip4 = "198.18.2.9" };
	struct ntm_rng *rng = rng_seeded_new("fed3", 4);
	gnutls_privkey_t k;
	gnutls_x509_crt_t dc, node;
	struct cert_ca ca;

	(void)state;
	assert_int_equal(testca_make(&ca, NULL, rng, NOW), 0);
	assert_int_equal(testca_issue(&ca, &dcl, rng, NOW, &k, &dc), 0);
	assert_int_equal(cert_pubkey_of(k, &nodel.pubkey), 0);
	assert_int_equal(testca_issue(&ca, &nodel, rng, NOW, NULL, &node), 0);

	assert_true(federation_peer_authorized(dc, "dc2.ntm.test"));
	assert_true(federation_peer_authorized(dc, "2.18.198.in-addr.arpa"));
	/* DNS may point at this DC for dc1: its certificate does not say so. */
	assert_false(federation_peer_authorized(dc, "dc1.ntm.test"));
	assert_false(federation_peer_authorized(dc, "ntm.test"));
	/* A node certificate naming the zone is not a DC. */
	assert_false(federation_peer_authorized(node, "dc2.ntm.test"));
	assert_false(federation_peer_authorized(NULL, "dc2.ntm.test"));

	/*
	 * DC_CN (dc2) answering: the asking DC here is the dc2 certificate
	 * itself, so MN must be in dc2.ntm.test (or the reverse zone).
	 */
	{
		struct registry *reg;
		struct msg m;
		uint8_t buf[2048], nat;
		const struct msg_attr *a;
		struct msg_addr ma;

		assert_int_equal(registry_new(&reg, 120000, NULL, rng), 0);
		registry_put(reg, "bob.dc2.ntm.test", "198.18.2.10",
		    "10.0.0.2:4620", "203.0.113.9:40000");
		registry_put(reg, "carol.dc2.ntm.test", "198.18.2.11",
		    "10.0.0.3:4620", "10.0.0.3:4620");
		assert_int_equal(node_info(dc, reg, "alice.dc2.ntm.test",
		    "bob.dc2.ntm.test", &m, buf, sizeof(buf)),
		    PROTO_STATUS_OK);
		assert_non_null(a = msg_attr_find(&m,
		    PROTO_ATTR_OBSERVED_ADDR));
		assert_int_equal(msg_addr_parse(a, &ma), 0);
		assert_int_equal(ma.port, 40000);
		assert_int_equal(msg_attr_u8(&m, PROTO_ATTR_NAT, &nat), 0);
		assert_int_equal(nat, PROTO_NAT_BEHIND);
		assert_non_null(a = msg_attr_find(&m, PROTO_ATTR_VIP4));
		assert_memory_equal(a->val, "\xc6\x12\x02\x0a", 4);
		assert_non_null(a = msg_attr_find(&m, PROTO_ATTR_CERT_HASH));
		assert_int_equal(a->val[0], 0xaa);
		assert_non_null(msg_attr_find(&m, PROTO_ATTR_STATUS));
		/* MN's zone is not in the asking DC's certificate. */
		assert_int_equal(node_info(dc, reg, "alice.dc1.ntm.test",
		    "bob.dc2.ntm.test", &m, buf, sizeof(buf)),
		    PROTO_STATUS_REFUSED_POLICY);
		assert_null(msg_attr_find(&m, PROTO_ATTR_OBSERVED_ADDR));
		/*
		 * DC_CN's policy refuses dave -> bob: nothing about bob (his
		 * addresses, NAT state, status) goes to the asking DC.
		 */
		assert_int_equal(node_info(dc, reg, "dave.dc2.ntm.test",
		    "bob.dc2.ntm.test", &m, buf, sizeof(buf)),
		    PROTO_STATUS_REFUSED_POLICY);
		assert_null(msg_attr_find(&m, PROTO_ATTR_OBSERVED_ADDR));
		assert_null(msg_attr_find(&m, PROTO_ATTR_LOCAL_ADDR));
		assert_null(msg_attr_find(&m, PROTO_ATTR_STATUS));
		assert_int_equal(node_info(dc, reg, "dave.dc2.ntm.test",
		    "carol.dc2.ntm.test", &m, buf, sizeof(buf)),
		    PROTO_STATUS_UNAVAILABLE);
		/* A node certificate cannot ask at all. */
		assert_int_equal(node_info(node, reg, "alice.dc2.ntm.test",
		    "bob.dc2.ntm.test", &m, buf, sizeof(buf)),
		    PROTO_STATUS_REFUSED_POLICY);
		assert_int_equal(node_info(dc, reg, "alice.dc2.ntm.test",
		    "bob.dc3.ntm.test", &m, buf, sizeof(buf)),
		    PROTO_STATUS_UNKNOWN_NODE);
		assert_int_equal(node_info(dc, reg, "alice.dc2.ntm.test",
		    "dave.dc2.ntm.test", &m, buf, sizeof(buf)),
		    PROTO_STATUS_NOT_REGISTERED);
		assert_int_equal(node_info(dc, reg, "alice.dc2.ntm.test",
		    "carol.dc2.ntm.test", &m, buf, sizeof(buf)),
		    PROTO_STATUS_UNAVAILABLE);
		registry_free(reg);
	}

	gnutls_x509_crt_deinit(node);
	gnutls_x509_crt_deinit(dc);
	gnutls_pubkey_deinit(nodel.pubkey);
	gnutls_privkey_deinit(k);
	cert_ca_clear(&ca);
	rng_free(rng);
}

/* ---- DC_MN asking DC_CN over TLS ----------------------------------------- */

struct pki {
	struct ntm_rng		*rng;
	struct cert_ca		 ca;
};

static void
pki_init(struct pki *k)
{
	k->rng = rng_seeded_new("fedpki", 6);
	assert_int_equal(testca_make(&k->ca, NULL, k->rng, time(NULL) - 3600),
	    0);
}

/*
 * TLS credentials of a DC of `zone` (certificate ns1.<zone>), or with
 * zone NULL of an RS (rs.ntm.test).
 */
static struct tls_creds *
pki_dc(struct pki *k, const char *zone)
{
	const char *zones[1] = { zone };
	struct testca_leaf l;
	struct tls_creds *c;
	gnutls_privkey_t key;
	gnutls_x509_crt_t chain[2];
	char name[128];

	snprintf(name, sizeof(name), zone != NULL ? "ns1.%s" : "rs.ntm.test",
	    zone);
	memset(&l, 0, sizeof(l));
	l.role = zone != NULL ? CERT_ROLE_DC : CERT_ROLE_RS;
	l.fqdn = name;
	l.zones = zone != NULL ? zones : NULL;
	l.nzones = zone != NULL ? 1 : 0;
	assert_int_equal(testca_issue(&k->ca, &l, k->rng, time(NULL) - 60,
	    &key, &chain[0]), 0);
	chain[1] = k->ca.as;
	assert_int_equal(tls_creds_new(&c), 0);
	assert_int_equal(tls_creds_set_trust(c, &k->ca.root, 1), 0);
	assert_int_equal(tls_creds_set_key(c, chain, 2, key), 0);
	gnutls_x509_crt_deinit(chain[0]);
	return c;
}

struct dccn {
	struct registry		*reg;
	struct tls_expect	 expect;
	unsigned		 connects;
	unsigned		 handoffs;
	uint8_t			 handoff_fqdn[64];	/* the CN it named */
	size_t			 handoff_fqdn_len;
};

static void
dccn_connected(struct tls_conn *c, const struct tls_peer *p, void *arg)
{
	struct dccn *d = arg;

	(void)c;
	(void)p;
	d->connects++;
}

static void
dccn_frame(struct tls_conn *c, const uint8_t *p, size_t len, void *arg)
{
	struct dccn *d = arg;
	uint8_t out[2048];
	size_t outlen;

	if (len >= PROTO_HEADER_LEN && p[1] == PROTO_MSG_ROUTE_HANDOFF) {
		/* DC_CN's answer once CN accepted: PEER_NTM_ACK, same txid. */
		struct msg m, ack;
		struct msg_route r;

		assert_int_equal(msg_decode(p, len, &m), 0);
		assert_int_equal(msg_route_read(&m, &r), 0);
		assert_true(r.fqdn_len < sizeof(d->handoff_fqdn));
		memcpy(d->handoff_fqdn, r.fqdn, r.fqdn_len);
		d->handoff_fqdn_len = r.fqdn_len;
		d->handoffs++;
		msg_init(&ack, PROTO_MSG_PEER_NTM_ACK);
		ack.hdr.txid = m.hdr.txid;
		ack.hdr.status = PROTO_STATUS_KEX_NOT_ALLOWED;
		assert_int_equal(msg_add_bytes(&ack, PROTO_ATTR_PATH_ID,
		    r.path_id, PROTO_ID_LEN), 0);
		assert_int_equal(msg_encode(&ack, out, sizeof(out), &outlen),
		    0);
		assert_int_equal(tls_send(c, out, outlen), 0);
		return;
	}
	assert_int_equal(federation_node_info(p, len, tls_conn_peer(c)->crt,
	    "fed.ntm.test", d->reg, store_cert, NULL, NULL, out, sizeof(out),
	    &outlen), 0);
	assert_int_equal(tls_send(c, out, outlen), 0);
}

static void
dccn_closed(struct tls_conn *c, int reason, void *arg)
{
	(void)c;
	(void)reason;
	(void)arg;
}

struct asked {
	int		 calls;
	int		 status;
	uint8_t		 resp_type;
	uint8_t		 resp_status;
	uint16_t	 observed_port;
};

static void
answered(void *arg, int status, const struct msg *m)
{
	struct asked *a = arg;
	const struct msg_attr *at;
	struct msg_addr ma;

	a->calls++;
	a->status = status;
	if (m != NULL) {
		a->resp_type = m->hdr.type;
		a->resp_status = m->hdr.status;
		if ((at = msg_attr_find(m, PROTO_ATTR_OBSERVED_ADDR)) != NULL &&
		    msg_addr_parse(at, &ma) == 0)
			a->observed_port = ma.port;
	}
}

static void
run_asked(uv_loop_t *loop, const struct asked *a, int calls)
{
	int i;

	for (i = 0; i < 2000 && a->calls < calls; i++)
		uv_run(loop, UV_RUN_ONCE);
	assert_int_equal(a->calls, calls);
}

/* A ROUTE_HANDOFF for bob.fed.ntm.test (the fields do not matter here). */
static size_t
handoff_encode(uint8_t *buf, size_t cap)
{
	static const uint8_t id[PROTO_ID_LEN] = { 1, 2, 3 };
	static const uint8_t key[PROTO_KEY_LEN] = { 4 }, vip4[4] = { 1 };
	static const uint8_t hash[PROTO_HASH_LEN] = { 5 };
	struct msg_attr serial = { PROTO_ATTR_PEER_SERIAL, 1,
	    (const uint8_t *)"\x2a" };
	struct msg_attr status = { PROTO_ATTR_PEER_STATUS, 6,
	    (const uint8_t *)"STATUS" };
	struct msg_route r;
	struct msg m;
	size_t len;

	memset(&r, 0, sizeof(r));
	r.path_id = id;
	r.route = PROTO_ROUTE_DIRECT;
	r.role = PROTO_ROLE_RESPONDER;
	r.kex = PROTO_KEX_ECDHE;
	r.expiry = 1800000030;
	r.peer_fqdn = (const uint8_t *)"alice.dc1.ntm.test";
	r.peer_fqdn_len = 18;
	r.peer_vip4 = vip4;
	r.npeer_addr = 1;
	r.peer_addr[0].family = PROTO_FAMILY_IPV4;
	r.peer_addr[0].port = 4620;
	r.peer_addr[0].addr[0] = 192;
	r.recv_id = 1;
	r.peer_recv_id = 2;
	r.tunnel_key = r.temp_key = key;
	r.peer_cert_hash = hash;
	r.peer_serial = &serial;
	r.peer_status = &status;
	r.fqdn = (const uint8_t *)"bob.fed.ntm.test";
	r.fqdn_len = 16;
	msg_init(&m, PROTO_MSG_ROUTE_HANDOFF);
	memcpy(m.hdr.id, id, PROTO_ID_LEN);
	assert_int_equal(msg_route_write(&m, &r), 0);
	assert_int_equal(msg_encode(&m, buf, cap, &len), 0);
	return len;
}

/* DC_MN finds DC_CN through DNS and asks; a DC not listing it: refused. */
static void
test_ask(void **state)
{
	uv_loop_t loop;
	struct fake_dns fd;
	struct pki k;
	struct dccn d;
	struct tls_creds *mn_creds, *cn_creds;
	struct tls_config cfg;
	struct tls_listener *lis;
	struct federation_resolver *res;
	struct federation *f;
	struct sockaddr_storage ss;
	struct asked a, b, c, e, h;
	uint8_t hbuf[1536];
	size_t hlen;
	int len = sizeof(ss);

	(void)state;
	memset(&fd, 0, sizeof(fd));
	memset(&d, 0, sizeof(d));
	memset(&a, 0, sizeof(a));
	b = c = e = h = a;
	pki_init(&k);
	mn_creds = pki_dc(&k, "dc1.ntm.test");
	cn_creds = pki_dc(&k, "fed.ntm.test");
	assert_int_equal(uv_loop_init(&loop), 0);

	/* DNS. */
	assert_int_equal(uv_udp_init(&loop, &fd.udp), 0);
	fd.udp.data = &fd;
	assert_int_equal(loop_addr_parse("127.0.0.1:0", 0, 0, &ss), 0);
	assert_int_equal(uv_udp_bind(&fd.udp, (struct sockaddr *)&ss, 0), 0);
	assert_int_equal(uv_udp_getsockname(&fd.udp, (struct sockaddr *)&ss,
	    &len), 0);
	assert_int_equal(uv_udp_recv_start(&fd.udp, fake_alloc, fake_recv), 0);
	assert_int_equal(federation_resolver_new(&res, &loop, &ss, k.rng), 0);

	/* DC_CN of fed.ntm.test with bob registered. */
	assert_int_equal(registry_new(&d.reg, 120000, NULL, k.rng), 0);
	registry_put(d.reg, "bob.fed.ntm.test", "198.18.4.10",
	    "10.0.0.2:4620", "203.0.113.9:40000");
	d.expect.trust = tls_creds_trust(cn_creds);
	d.expect.intermediate = tls_creds_issuer(cn_creds);
	d.expect.role = CERT_ROLE_DC;
	memset(&cfg, 0, sizeof(cfg));
	cfg.creds = cn_creds;
	cfg.verify = tls_verify_cert;
	cfg.verify_ctx = &d.expect;
	cfg.client_auth = TLS_CLIENT_AUTH_REQUIRE;
	cfg.framing = TLS_FRAMING_MSG;
	cfg.on_connected = dccn_connected;
	cfg.on_frame = dccn_frame;
	cfg.on_closed = dccn_closed;
	cfg.arg = &d;
	assert_int_equal(loop_addr_parse("127.0.0.1:0", 0, 0, &ss), 0);
	assert_int_equal(tls_listen(&loop, &cfg, (struct sockaddr *)&ss,
	    &lis), 0);
	assert_int_equal(tls_listener_addr(lis, &ss), 0);

	/* DC_MN of dc1.ntm.test. */
	assert_int_equal(federation_new(&f, &loop, res, mn_creds,
	    ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port)), 0);
	assert_int_equal(federation_ask(f, "alice.dc1.ntm.test",
	    "bob.fed.ntm.test", PROTO_KEX_ECDHE, answered, &a), 0);
	run_asked(&loop, &a, 1);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.resp_status, PROTO_STATUS_OK);
	assert_int_equal(a.observed_port, 40000);
	/* The link stays: a second question, no second connection. */
	assert_int_equal(federation_ask(f, "alice.dc1.ntm.test",
	    "carol.fed.ntm.test", PROTO_KEX_ECDHE, answered, &b), 0);
	run_asked(&loop, &b, 1);
	assert_int_equal(b.status, 0);
	assert_int_equal(b.resp_status, PROTO_STATUS_NOT_REGISTERED);
	assert_int_equal(d.connects, 1);
	/* ROUTE_HANDOFF on the same link; DC_CN's PEER_NTM_ACK comes back. */
	hlen = handoff_encode(hbuf, sizeof(hbuf));
	assert_int_equal(federation_handoff(f, "bob.fed.ntm.test", hbuf, hlen,
	    answered, &h), 0);
	run_asked(&loop, &h, 1);
	assert_int_equal(h.status, 0);
	assert_int_equal(h.resp_type, PROTO_MSG_PEER_NTM_ACK);
	assert_int_equal(h.resp_status, PROTO_STATUS_KEX_NOT_ALLOWED);
	assert_int_equal(d.handoffs, 1);
	assert_int_equal(d.handoff_fqdn_len, 16);
	assert_memory_equal(d.handoff_fqdn, "bob.fed.ntm.test", 16);
	assert_int_equal(d.connects, 1);
	/* Only a ROUTE_HANDOFF goes that way. */
	assert_int_equal(federation_handoff(f, "bob.fed.ntm.test", hbuf,
	    PROTO_HEADER_LEN - 1, answered, &h), -EINVAL);
	hbuf[1] = PROTO_MSG_NODE_INFO_REQUEST;
	assert_int_equal(federation_handoff(f, "bob.fed.ntm.test", hbuf, hlen,
	    answered, &h), -EINVAL);
	/* DNS sends rogue.ntm.test to the same DC: it does not list it. */
	assert_int_equal(federation_ask(f, "alice.dc1.ntm.test",
	    "bob.rogue.ntm.test", PROTO_KEX_ECDHE, answered, &c), 0);
	run_asked(&loop, &c, 1);
	assert_int_equal(c.status, -EPERM);
	assert_int_equal(d.connects, 1);
	/* No DC at all. */
	assert_int_equal(federation_ask(f, "alice.dc1.ntm.test",
	    "bob.nope.ntm.test", PROTO_KEX_ECDHE, answered, &e), 0);
	run_asked(&loop, &e, 1);
	assert_int_equal(e.status, -ENOENT);

	federation_close(f);
	tls_listener_free(lis);
	federation_resolver_free(res);
	uv_close((uv_handle_t *)&fd.udp, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	federation_free(f);
	assert_int_equal(uv_loop_close(&loop), 0);
	registry_free(d.reg);
	tls_creds_free(mn_creds);
	tls_creds_free(cn_creds);
	cert_ca_clear(&k.ca);
	rng_free(k.rng);
}

/* ---- the DC's RS link (dc/relay) --------------------------------------- */

/* An RS played here: checks each RELAY_DIRECTION and answers it. */
struct fake_rs {
	struct tls_expect	 expect;
	unsigned		 connects;
	unsigned		 frames;
	bool			 drop_first;	/* close on the first request */
	struct msg_addr		 observed;	/* what the last one said */
	uint32_t		 recv_id, peer_recv_id;
	uint8_t			 peer_key[PROTO_KEY_LEN];
	uint64_t		 expiry;
};

static void
fake_rs_connected(struct tls_conn *c, const struct tls_peer *p, void *arg)
{
	struct fake_rs *rs = arg;

	(void)c;
	assert_int_equal(p->role, CERT_ROLE_DC);
	rs->connects++;
}

static void
fake_rs_frame(struct tls_conn *c, const uint8_t *p, size_t len, void *arg)
{
	static const struct msg_addr me = { PROTO_FAMILY_IPV4, 4613,
	    { 198, 51, 100, 7 } };
	struct fake_rs *rs = arg;
	const struct msg_attr *a;
	struct msg m, ack;
	uint8_t out[512];
	size_t outlen;

	rs->frames++;
	assert_int_equal(msg_decode(p, len, &m), 0);
	assert_int_equal(m.hdr.type, PROTO_MSG_RELAY_DIRECTION);
	a = msg_attr_find(&m, PROTO_ATTR_PATH_ID);
	assert_non_null(a);
	assert_memory_equal(a->val, m.hdr.id, PROTO_ID_LEN);
	assert_int_equal(msg_attr_u32(&m, PROTO_ATTR_RECV_ID, &rs->recv_id),
	    0);
	assert_int_equal(msg_attr_u32(&m, PROTO_ATTR_PEER_RECV_ID,
	    &rs->peer_recv_id), 0);
	assert_int_equal(msg_attr_u64(&m, PROTO_ATTR_EXPIRY, &rs->expiry), 0);
	memcpy(rs->peer_key, msg_attr_find(&m,
	    PROTO_ATTR_PEER_BINDING_KEY)->val, PROTO_KEY_LEN);
	assert_int_equal(msg_addr_parse(msg_attr_find(&m,
	    PROTO_ATTR_OBSERVED_ADDR), &rs->observed), 0);
	if (rs->drop_first && rs->frames == 1) {
		tls_close(c);
		return;
	}
	msg_init(&ack, PROTO_MSG_RELAY_DIRECTION_ACK);
	ack.hdr.txid = m.hdr.txid;
	memcpy(ack.hdr.id, m.hdr.id, PROTO_ID_LEN);
	assert_int_equal(msg_add_bytes(&ack, PROTO_ATTR_PATH_ID, a->val,
	    PROTO_ID_LEN), 0);
	assert_int_equal(msg_add_addr(&ack, PROTO_ATTR_RELAY_ADDR, &me), 0);
	assert_int_equal(msg_encode(&ack, out, sizeof(out), &outlen), 0);
	assert_int_equal(tls_send(c, out, outlen), 0);
}

static struct tls_listener *
fake_rs_listen(uv_loop_t *loop, struct tls_creds *creds, struct fake_rs *rs,
    struct sockaddr_storage *ss)
{
	struct tls_listener *lis;
	struct tls_config cfg;

	rs->expect.trust = tls_creds_trust(creds);
	rs->expect.intermediate = tls_creds_issuer(creds);
	rs->expect.role = CERT_ROLE_DC;
	memset(&cfg, 0, sizeof(cfg));
	cfg.creds = creds;
	cfg.verify = tls_verify_cert;
	cfg.verify_ctx = &rs->expect;
	cfg.client_auth = TLS_CLIENT_AUTH_REQUIRE;
	cfg.framing = TLS_FRAMING_MSG;
	cfg.on_connected = fake_rs_connected;
	cfg.on_frame = fake_rs_frame;
	cfg.on_closed = dccn_closed;
	cfg.arg = rs;
	assert_int_equal(loop_addr_parse("127.0.0.1:0", 0, 0, ss), 0);
	assert_int_equal(tls_listen(loop, &cfg, (struct sockaddr *)ss, &lis),
	    0);
	assert_int_equal(tls_listener_addr(lis, ss), 0);
	return lis;
}

static void
relay_sample(struct signal_relay *rl, uint8_t tag)
{
	memset(rl, 0, sizeof(*rl));
	rl->ref = tag;
	memset(rl->path_id, tag, PROTO_ID_LEN);
	rl->recv_id = 0x1000u + tag;
	rl->peer_recv_id = 0x2000u + tag;
	memset(rl->binding_key, 0xa1, PROTO_KEY_LEN);
	memset(rl->peer_binding_key, 0xb2, PROTO_KEY_LEN);
	rl->observed.family = PROTO_FAMILY_IPV4;
	rl->observed.port = 40000 + tag;
	rl->observed.addr[0] = 192;
	rl->peer_addr = rl->observed;
	rl->expiry = 1800000030;
}

/* RELAY_DIRECTION out, the ACK back; a link lost before the answer. */
static void
test_relay_link(void **state)
{
	uv_loop_t loop;
	struct pki k;
	struct fake_rs rs, dcs;
	struct tls_creds *dc_creds, *rs_creds, *other_dc;
	struct tls_listener *lis, *lis2;
	struct sockaddr_storage ss, ss2;
	struct signal_relay rl;
	struct relay *r, *r2;
	struct asked a, b, c;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	memset(&a, 0, sizeof(a));
	dcs = rs;
	b = c = a;
	pki_init(&k);
	dc_creds = pki_dc(&k, "dc1.ntm.test");
	rs_creds = pki_dc(&k, NULL);
	other_dc = pki_dc(&k, "dc2.ntm.test");
	assert_int_equal(uv_loop_init(&loop), 0);
	lis = fake_rs_listen(&loop, rs_creds, &rs, &ss);
	assert_int_equal(relay_new(&r, &loop, dc_creds, &ss, 1, k.rng), 0);

	/* Sent before the link is up: it goes once the handshake is done. */
	relay_sample(&rl, 1);
	assert_int_equal(relay_direction(r, &rl, answered, &a), 0);
	run_asked(&loop, &a, 1);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.resp_type, PROTO_MSG_RELAY_DIRECTION_ACK);
	assert_int_equal(a.resp_status, PROTO_STATUS_OK);
	assert_int_equal(rs.recv_id, 0x1001);
	assert_int_equal(rs.peer_recv_id, 0x2001);
	assert_memory_equal(rs.peer_key, rl.peer_binding_key, PROTO_KEY_LEN);
	assert_int_equal(rs.observed.port, 40001);
	assert_true(rs.expiry == 1800000030);
	assert_int_equal(relay_links_up(r), 1);
	assert_int_equal(relay_stats(r)->acks, 1);

	/* The RS drops the link on the next request: sent again after. */
	rs.drop_first = true;
	rs.frames = 0;
	relay_sample(&rl, 2);
	assert_int_equal(relay_direction(r, &rl, answered, &b), 0);
	run_asked(&loop, &b, 1);
	assert_int_equal(b.status, 0);
	assert_int_equal(b.resp_status, PROTO_STATUS_OK);
	assert_int_equal(rs.frames, 2);
	assert_int_equal(rs.connects, 2);
	assert_int_equal(relay_stats(r)->resends, 1);
	assert_int_equal(relay_stats(r)->links_down, 1);

	/* A server with a DC's certificate is no RS: never up, timeout. */
	lis2 = fake_rs_listen(&loop, other_dc, &dcs, &ss2);
	assert_int_equal(relay_new(&r2, &loop, dc_creds, &ss2, 1, k.rng), 0);
	relay_sample(&rl, 3);
	assert_int_equal(relay_direction(r2, &rl, answered, &c), 0);
	run_asked(&loop, &c, 1);
	assert_int_equal(c.status, -ETIMEDOUT);
	assert_int_equal(dcs.frames, 0);
	assert_int_equal(relay_links_up(r2), 0);
	assert_int_equal(relay_stats(r2)->timeouts, 1);

	relay_close(r);
	relay_close(r2);
	tls_listener_free(lis);
	tls_listener_free(lis2);
	uv_run(&loop, UV_RUN_DEFAULT);
	relay_free(r);
	relay_free(r2);
	assert_int_equal(uv_loop_close(&loop), 0);
	tls_creds_free(dc_creds);
	tls_creds_free(rs_creds);
	tls_creds_free(other_dc);
	cert_ca_clear(&k.ca);
	rng_free(k.rng);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone_of),
		cmocka_unit_test(test_query_and_answer),
		cmocka_unit_test(test_resolver),
		cmocka_unit_test(test_resolver_timeout),
		cmocka_unit_test(test_peer_authorized),
		cmocka_unit_test(test_ask),
		cmocka_unit_test(test_relay_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
