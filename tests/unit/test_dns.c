/* test_dns.c -- unit tests for the DC's pure DNS query handler, RRL, transfers and batched UDP sockets. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <ldns/ldns.h>

#include "buf.h"
#include "dns.h"
#include "dnsnet.h"
#include "loop.h"
#include "rand.h"
#include "rrl.h"
#include "xfr.h"
#include "zone.h"

#define KEY_SECRET "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="

struct fixture {
	struct zone		*zone;
	struct rrl		*rrl;
	struct xfr_config	 xfr;
	struct dns_server	 srv;
	struct sockaddr_in	 src;
	uint8_t			 out[DNS_TCP_MAX];
	size_t			 outlen;
};

static int
setup(void **state)
{
	static const char text[] =
	    "$ORIGIN dc1.ntm.test.\n"
	    "$TTL 3600\n"
	    "@ IN SOA ns1 hostmaster 7 7200 900 1209600 300\n"
	    "  IN NS ns1\n"
	    "ns1 IN A 198.18.1.1\n"
	    "www IN CNAME ns1\n"
	    "sub IN NS ns.sub\n"
	    "ns.sub IN A 198.18.1.53\n";
	char path[] = "/tmp/test_dns.XXXXXX", err[1024];
	struct fixture *f = calloc(1, sizeof(*f));
	struct zone_config c = { 0 };
	FILE *fp;
	int fd, i;

	assert_non_null(f);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	for (i = 0; i < 40; i++)
		fprintf(fp, "big IN TXT \"record %d with some padding text "
		    "to make the RRset large\"\n", i);
	fclose(fp);
	c.origin = "dc1.ntm.test";
	c.file = path;
	c.have4 = c.have6 = true;
	inet_pton(AF_INET, "198.18.1.0", &c.prefix4);
	c.prefix4_len = 24;
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::", &c.prefix6);
	c.prefix6_len = 64;
	c.node_ttl = 60;
	assert_int_equal(zone_new(&c, &f->zone, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(zone_node_set(f->zone, "alice.dc1.ntm.test",
	    "198.18.1.10", "fd6e:746d:6f62:1::10"), 0);
	assert_int_equal(xfr_acl_add(&f->xfr, "127.0.0.0/8"), 0);
	f->xfr.have_key = true;
	strcpy(f->xfr.key_name, "xfr-key.");
	strcpy(f->xfr.key_secret, KEY_SECRET);
	f->srv.zone = f->zone;
	f->srv.xfr = &f->xfr;
	f->src.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &f->src.sin_addr);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	zone_free(f->zone);
	rrl_free(f->rrl);
	free(f);
	return 0;
}

/* A query: name in text (case kept), optional OPT (edns_size 0: none). */
static size_t
mkquery(uint8_t *buf, size_t cap, uint16_t flags, const char *name,
    uint16_t type, uint16_t edns_size, uint8_t edns_version, uint16_t eflags)
{
	struct wbuf w;
	const char *p = name;

	wbuf_init(&w, buf, cap);
	wbuf_put_u16(&w, 0x1234);
	wbuf_put_u16(&w, flags);
	wbuf_put_u16(&w, 1);
	wbuf_put_u16(&w, 0);
	wbuf_put_u16(&w, 0);
	wbuf_put_u16(&w, edns_size ? 1 : 0);
	while (*p != '\0') {
		size_t n = strcspn(p, ".");

		wbuf_put_u8(&w, (uint8_t)n);
		wbuf_put_bytes(&w, p, n);
		p += n;
		if (*p == '.')
			p++;
	}
	wbuf_put_u8(&w, 0);
	wbuf_put_u16(&w, type);
	wbuf_put_u16(&w, DNS_CLASS_IN);
	if (edns_size) {
		wbuf_put_u8(&w, 0);
		wbuf_put_u16(&w, DNS_TYPE_OPT);
		wbuf_put_u16(&w, edns_size);
		wbuf_put_u8(&w, 0);
		wbuf_put_u8(&w, edns_version);
		wbuf_put_u16(&w, eflags);
		wbuf_put_u16(&w, 0);
	}
	assert_int_equal(wbuf_error(&w), 0);
	return wbuf_len(&w);
}

static enum dns_action
ask(struct fixture *f, const uint8_t *q, size_t len, enum dns_transport t)
{
	struct dns_request req = {
		.wire = q, .len = len, .src = (struct sockaddr *)&f->src,
		.transport = t, .now = 1000,
	};

	return dns_answer(&f->srv, &req, f->out, sizeof(f->out), &f->outlen);
}

/* Asks over UDP and parses the answer with ldns (an independent parser). */
static ldns_pkt *
ask_pkt(struct fixture *f, const char *name, uint16_t type, uint16_t edns)
{
	uint8_t q[512];
	size_t n = mkquery(q, sizeof(q), DNS_FLAG_RD, name, type, edns, 0, 0);
	ldns_pkt *p = NULL;

	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_UDP), DNS_ACTION_ANSWER);
	assert_int_equal(ldns_wire2pkt(&p, f->out, f->outlen), LDNS_STATUS_OK);
	return p;
}

static char *
rr_str(ldns_pkt *p, ldns_pkt_section s, size_t i)
{
	ldns_rr_list *l = ldns_pkt_get_section_clone(p, s);
	char *str = ldns_rr2str(ldns_rr_list_rr(l, i));

	ldns_rr_list_deep_free(l);
	return str;
}

static void
assert_rr(ldns_pkt *p, ldns_pkt_section s, size_t i, const char *want)
{
	char *got = rr_str(p, s, i);

	assert_non_null(got);
	got[strcspn(got, "\n")] = '\0';
	assert_string_equal(got, want);
	free(got);
}

static void
test_a_aaaa_ptr(void **state)
{
	struct fixture *f = *state;
	ldns_pkt *p;

	p = ask_pkt(f, "alice.dc1.ntm.test", DNS_TYPE_A, 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_qr(p) && ldns_pkt_aa(p) && ldns_pkt_rd(p));
	assert_false(ldns_pkt_ra(p) || ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(p, LDNS_SECTION_ANSWER, 0,
	    "alice.dc1.ntm.test.\t60\tIN\tA\t198.18.1.10");
	ldns_pkt_free(p);

	p = ask_pkt(f, "alice.dc1.ntm.test", DNS_TYPE_AAAA, 0);
	assert_rr(p, LDNS_SECTION_ANSWER, 0,
	    "alice.dc1.ntm.test.\t60\tIN\tAAAA\tfd6e:746d:6f62:1::10");
	ldns_pkt_free(p);

	p = ask_pkt(f, "10.1.18.198.in-addr.arpa", DNS_TYPE_PTR, 0);
	assert_true(ldns_pkt_aa(p));
	assert_rr(p, LDNS_SECTION_ANSWER, 0,
	    "10.1.18.198.in-addr.arpa.\t60\tIN\tPTR\talice.dc1.ntm.test.");
	ldns_pkt_free(p);

	p = ask_pkt(f, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.2.6.f.6.d.6.4.7"
	    ".e.6.d.f.ip6.arpa", DNS_TYPE_PTR, 0);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	assert_int_equal(f->srv.stats.rcode[DNS_RCODE_NOERROR], 4);
}

static void
test_case_insensitive_echo(void **state)
{
	struct fixture *f = *state;
	ldns_pkt *p = ask_pkt(f, "AlIcE.Dc1.NTM.test", DNS_TYPE_A, 0);

	assert_int_equal(ldns_pkt_ancount(p), 1);
	/* the question comes back byte for byte, the answer points at it */
	assert_memory_equal(f->out + 12, "\5AlIcE\3Dc1\3NTM\4test", 20);
	assert_rr(p, LDNS_SECTION_ANSWER, 0,
	    "AlIcE.Dc1.NTM.test.\t60\tIN\tA\t198.18.1.10");
	ldns_pkt_free(p);
}

static void
test_nxdomain_nodata(void **state)
{
	struct fixture *f = *state;
	ldns_pkt *p;

	p = ask_pkt(f, "nobody.dc1.ntm.test", DNS_TYPE_A, 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	/* SOA of the zone, TTL = SOA minimum (RFC 2308) */
	assert_rr(p, LDNS_SECTION_AUTHORITY, 0, "dc1.ntm.test.\t300\tIN\tSOA\t"
	    "ns1.dc1.ntm.test. hostmaster.dc1.ntm.test. 8 7200 900 1209600 "
	    "300");
	ldns_pkt_free(p);

	p = ask_pkt(f, "alice.dc1.ntm.test", DNS_TYPE_MX, 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	ldns_pkt_free(p);

	/* a reverse name without a node is NXDOMAIN in the reverse zone */
	p = ask_pkt(f, "99.1.18.198.in-addr.arpa", DNS_TYPE_PTR, 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_rr(p, LDNS_SECTION_AUTHORITY, 0, "1.18.198.in-addr.arpa.\t300\t"
	    "IN\tSOA\tns1.dc1.ntm.test. hostmaster.dc1.ntm.test. 8 7200 900 "
	    "1209600 300");
	ldns_pkt_free(p);
}

static void
test_refused_referral_cname(void **state)
{
	struct fixture *f = *state;
	ldns_pkt *p;

	p = ask_pkt(f, "www.example.com", DNS_TYPE_A, 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_false(ldns_pkt_aa(p));
	ldns_pkt_free(p);
	p = ask_pkt(f, "2.18.198.in-addr.arpa", DNS_TYPE_PTR, 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);

	p = ask_pkt(f, "host.sub.dc1.ntm.test", DNS_TYPE_A, 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_false(ldns_pkt_aa(p));
	assert_rr(p, LDNS_SECTION_AUTHORITY, 0,
	    "sub.dc1.ntm.test.\t3600\tIN\tNS\tns.sub.dc1.ntm.test.");
	assert_rr(p, LDNS_SECTION_ADDITIONAL, 0,
	    "ns.sub.dc1.ntm.test.\t3600\tIN\tA\t198.18.1.53");
	ldns_pkt_free(p);

	/* DS at the cut is answered by the parent: NODATA, authoritative */
	p = ask_pkt(f, "sub.dc1.ntm.test", DNS_TYPE_DS, 0);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_rr(p, LDNS_SECTION_AUTHORITY, 0, "dc1.ntm.test.\t300\tIN\tSOA\t"
	    "ns1.dc1.ntm.test. hostmaster.dc1.ntm.test. 8 7200 900 1209600 "
	    "300");
	ldns_pkt_free(p);

	p = ask_pkt(f, "www.dc1.ntm.test", DNS_TYPE_A, 0);
	assert_rr(p, LDNS_SECTION_ANSWER, 0,
	    "www.dc1.ntm.test.\t3600\tIN\tCNAME\tns1.dc1.ntm.test.");
	ldns_pkt_free(p);

	/* RFC 8482: ANY gets one RRset */
	p = ask_pkt(f, "alice.dc1.ntm.test", DNS_TYPE_ANY, 0);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}

static void
test_formerr_and_drops(void **state)
{
	struct fixture *f = *state;
	uint8_t q[512];
	size_t n;

	/* shorter than a header: nothing to answer */
	assert_int_equal(ask(f, (const uint8_t *)"\x12\x34\x01", 3,
	    DNS_TRANSPORT_UDP), DNS_ACTION_DROP);
	/* a response (QR=1) is never answered */
	n = mkquery(q, sizeof(q), DNS_FLAG_QR, "alice.dc1.ntm.test", 1, 0, 0,
	    0);
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_UDP), DNS_ACTION_DROP);
	assert_int_equal(f->srv.stats.malformed_dropped, 2);

	/* truncated question */
	n = mkquery(q, sizeof(q), 0, "alice.dc1.ntm.test", 1, 0, 0, 0);
	assert_int_equal(ask(f, q, n - 3, DNS_TRANSPORT_UDP),
	    DNS_ACTION_ANSWER);
	assert_int_equal(f->out[3] & 0xf, DNS_RCODE_FORMERR);
	assert_int_equal(load_be16(f->out + 2) & DNS_FLAG_QR, DNS_FLAG_QR);
	assert_int_equal(load_be16(f->out), 0x1234);

	/* QDCOUNT 2 */
	store_be16(q + DNS_OFF_QDCOUNT, 2);
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_UDP), DNS_ACTION_ANSWER);
	assert_int_equal(f->out[3] & 0xf, DNS_RCODE_FORMERR);
	/* QDCOUNT 0 */
	store_be16(q + DNS_OFF_QDCOUNT, 0);
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_UDP), DNS_ACTION_ANSWER);
	assert_int_equal(f->out[3] & 0xf, DNS_RCODE_FORMERR);

	/* a label longer than the packet, and garbage */
	memcpy(q, "\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3f"
	    "abc", 16);
	assert_int_equal(ask(f, q, 16, DNS_TRANSPORT_UDP), DNS_ACTION_ANSWER);
	assert_int_equal(f->out[3] & 0xf, DNS_RCODE_FORMERR);
	/* a name longer than 255 bytes */
	memcpy(q, "\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	for (n = 12; n < 12 + 5 * 60; n += 60) {
		q[n] = 59;
		memset(q + n + 1, 'a', 59);
	}
	q[n++] = 0;
	memcpy(q + n, "\0\1\0\1", 4);
	assert_int_equal(ask(f, q, n + 4, DNS_TRANSPORT_UDP),
	    DNS_ACTION_ANSWER);
	assert_int_equal(f->out[3] & 0xf, DNS_RCODE_FORMERR);
}

static void
test_compression_loop(void **state)
{
	struct fixture *f = *state;
	/* the question name is a pointer to itself, and one to the header */
	static const uint8_t self[] = { 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0,
	    0, 0xc0, 12, 0, 1, 0, 1 };
	static const uint8_t chain[] = { 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0,
	    0, 1, 'a', 0xc0, 12, 0, 1, 0, 1 };

	assert_int_equal(ask(f, self, sizeof(self), DNS_TRANSPORT_UDP),
	    DNS_ACTION_ANSWER);
	assert_int_equal(f->out[3] & 0xf, DNS_RCODE_FORMERR);
	assert_int_equal(ask(f, chain, sizeof(chain), DNS_TRANSPORT_UDP),
	    DNS_ACTION_ANSWER);
	assert_int_equal(f->out[3] & 0xf, DNS_RCODE_FORMERR);
	assert_int_equal(f->srv.stats.rcode[DNS_RCODE_FORMERR], 2);
}

static void
test_notimp(void **state)
{
	struct fixture *f = *state;
	uint8_t q[512];
	size_t n;

	n = mkquery(q, sizeof(q), DNS_OPCODE_STATUS << DNS_OPCODE_SHIFT,
	    "alice.dc1.ntm.test", 1, 0, 0, 0);
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_UDP), DNS_ACTION_ANSWER);
	assert_int_equal(f->out[3] & 0xf, DNS_RCODE_NOTIMP);
	assert_int_equal((load_be16(f->out + 2) >> DNS_OPCODE_SHIFT) & 0xf,
	    DNS_OPCODE_STATUS);
	n = mkquery(q, sizeof(q), DNS_OPCODE_UPDATE << DNS_OPCODE_SHIFT,
	    "dc1.ntm.test", DNS_TYPE_SOA, 0, 0, 0);
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_UDP), DNS_ACTION_ANSWER);
	assert_int_equal(f->out[3] & 0xf, DNS_RCODE_NOTIMP);
	n = mkquery(q, sizeof(q), 0, "alice.dc1.ntm.test", DNS_TYPE_MAILB, 0,
	    0, 0);
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_UDP), DNS_ACTION_ANSWER);
	assert_int_equal(f->out[3] & 0xf, DNS_RCODE_NOTIMP);
}

static void
test_edns(void **state)
{
	struct fixture *f = *state;
	uint8_t q[512];
	ldns_pkt *p;
	size_t n;

	p = ask_pkt(f, "alice.dc1.ntm.test", DNS_TYPE_A, 4096);
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), DNS_UDP_MAX);
	assert_int_equal(ldns_pkt_edns_version(p), 0);
	assert_false(ldns_pkt_edns_do(p));
	ldns_pkt_free(p);

	/* DO is echoed */
	n = mkquery(q, sizeof(q), 0, "alice.dc1.ntm.test", 1, 1232, 0,
	    DNS_EDNS_DO);
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_UDP), DNS_ACTION_ANSWER);
	assert_int_equal(load_be16(f->out + f->outlen - 4), DNS_EDNS_DO);

	/* version 1: BADVERS = extended rcode 1, header rcode 0, no answer */
	n = mkquery(q, sizeof(q), 0, "alice.dc1.ntm.test", 1, 1232, 1, 0);
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_UDP), DNS_ACTION_ANSWER);
	assert_int_equal(ldns_wire2pkt(&p, f->out, f->outlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(p), 0);
	assert_int_equal(ldns_pkt_edns_extended_rcode(p), 1);
	assert_int_equal(ldns_pkt_edns_version(p), 0);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	assert_int_equal(f->srv.stats.rcode[DNS_RCODE_BADVERS], 1);

	/* two OPT records */
	n = mkquery(q, sizeof(q), 0, "alice.dc1.ntm.test", 1, 1232, 0, 0);
	memcpy(q + n, q + n - 11, 11);
	store_be16(q + DNS_OFF_ARCOUNT, 2);
	assert_int_equal(ask(f, q, n + 11, DNS_TRANSPORT_UDP),
	    DNS_ACTION_ANSWER);
	assert_int_equal(f->out[3] & 0xf, DNS_RCODE_FORMERR);
}

static void
test_truncation(void **state)
{
	struct fixture *f = *state;
	uint8_t q[512];
	ldns_pkt *p;
	size_t n;

	/* 40 TXT records do not fit 1232 bytes: TC, empty answer */
	p = ask_pkt(f, "big.dc1.ntm.test", DNS_TYPE_TXT, 4096);
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_true(f->outlen <= DNS_UDP_MAX);
	ldns_pkt_free(p);
	/* without EDNS the limit is 512 */
	p = ask_pkt(f, "big.dc1.ntm.test", DNS_TYPE_TXT, 0);
	assert_true(ldns_pkt_tc(p));
	ldns_pkt_free(p);
	assert_int_equal(f->srv.stats.truncated, 2);
	/* over TCP the whole RRset comes */
	n = mkquery(q, sizeof(q), 0, "big.dc1.ntm.test", DNS_TYPE_TXT, 0, 0, 0);
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_TCP), DNS_ACTION_ANSWER);
	assert_int_equal(ldns_wire2pkt(&p, f->out, f->outlen), LDNS_STATUS_OK);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 40);
	assert_true(f->outlen > DNS_UDP_MAX);
	ldns_pkt_free(p);
	/* a small answer with EDNS 512 still fits */
	p = ask_pkt(f, "alice.dc1.ntm.test", DNS_TYPE_A, 512);
	assert_false(ldns_pkt_tc(p));
	ldns_pkt_free(p);
}

static void
test_rrl(void **state)
{
	struct fixture *f = *state;
	struct rrl_config rc;
	struct sockaddr_in other = { .sin_family = AF_INET };
	uint8_t q[512];
	size_t n;
	int i, answered = 0, slipped = 0, dropped = 0;

	rrl_config_default(&rc);
	rc.rate = 5;
	rc.burst = 5;
	rc.slip = 2;
	f->rrl = rrl_new(&rc, rng_system());
	f->srv.rrl = f->rrl;
	n = mkquery(q, sizeof(q), 0, "alice.dc1.ntm.test", 1, 0, 0, 0);
	/* a flood of 20 from 127.0.0.1 within one millisecond */
	for (i = 0; i < 20; i++) {
		if (ask(f, q, n, DNS_TRANSPORT_UDP) == DNS_ACTION_DROP)
			dropped++;
		else if (load_be16(f->out + 2) & DNS_FLAG_TC) {
			slipped++;
			assert_int_equal(load_be16(f->out + DNS_OFF_ANCOUNT),
			    0);
		} else
			answered++;
	}
	assert_int_equal(answered, 5);
	assert_int_equal(slipped, 7);
	assert_int_equal(dropped, 8);
	assert_int_equal(f->srv.stats.rrl_dropped, 8);
	assert_int_equal(f->srv.stats.rrl_slipped, 7);
	/* the same /24 shares the bucket */
	inet_pton(AF_INET, "127.0.0.200", &f->src.sin_addr);
	assert_int_not_equal(ask(f, q, n, DNS_TRANSPORT_UDP) ==
	    DNS_ACTION_ANSWER && !(load_be16(f->out + 2) & DNS_FLAG_TC), 1);
	/* another source is answered meanwhile */
	inet_pton(AF_INET, "192.0.2.1", &other.sin_addr);
	f->src = other;
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_UDP), DNS_ACTION_ANSWER);
	assert_int_equal(load_be16(f->out + 2) & DNS_FLAG_TC, 0);
	assert_int_equal(load_be16(f->out + DNS_OFF_ANCOUNT), 1);
	/* TCP is never limited */
	inet_pton(AF_INET, "127.0.0.1", &f->src.sin_addr);
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_TCP), DNS_ACTION_ANSWER);
	assert_int_equal(load_be16(f->out + DNS_OFF_ANCOUNT), 1);
}

static void
test_rrl_refill(void **state)
{
	struct rrl_config rc;
	struct rrl *r;
	struct sockaddr_in6 s = { .sin6_family = AF_INET6 };
	struct sockaddr_in6 t = { .sin6_family = AF_INET6 };
	int i;

	rrl_config_default(&rc);
	rc.rate = 10;
	rc.burst = 2;
	rc.slip = 0;
	r = rrl_new(&rc, rng_system());
	inet_pton(AF_INET6, "2001:db8:0:1::1", &s.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:0:ff::2", &t.sin6_addr);	/* same /56 */
	assert_int_equal(rrl_check(r, (struct sockaddr *)&s, 0), RRL_PASS);
	assert_int_equal(rrl_check(r, (struct sockaddr *)&t, 0), RRL_PASS);
	/* slip 0: every answer above the rate is dropped */
	for (i = 0; i < 5; i++)
		assert_int_equal(rrl_check(r, (struct sockaddr *)&s, 50),
		    RRL_DROP);
	/* 10/s: one token per 100 ms */
	assert_int_equal(rrl_check(r, (struct sockaddr *)&s, 100), RRL_PASS);
	assert_int_equal(rrl_check(r, (struct sockaddr *)&s, 100), RRL_DROP);
	rrl_free(r);
}

/* However prefixes collide in a small table, none gets more than its burst. */
static void
test_rrl_collisions(void **state)
{
	struct rrl_config rc;
	struct ntm_rng *rng = rng_seeded_new("rrl", 3);
	struct rrl *r;
	struct sockaddr_in s = { .sin_family = AF_INET };
	int p, i, pass, total = 0;

	rrl_config_default(&rc);
	rc.rate = 1;
	rc.burst = 3;
	rc.slip = 0;
	rc.slots = 16;
	r = rrl_new(&rc, rng);
	assert_non_null(r);
	for (p = 0; p < 64; p++) {
		s.sin_addr.s_addr = htonl(0xc6336400U + ((uint32_t)p << 8));
		for (pass = 0, i = 0; i < 10; i++)
			pass += rrl_check(r, (struct sockaddr *)&s, 5) ==
			    RRL_PASS;
		assert_true(pass <= 3);
		total += pass;
	}
	/* 64 prefixes in 16 slots: at most 16 full buckets were handed out */
	assert_true(total <= 16 * 3);
	assert_true(total >= 3);
	rrl_free(r);
	rng_free(rng);
}

static void
test_xfr(void **state)
{
	struct fixture *f = *state;
	uint8_t q[512], *out = NULL, *wire = NULL;
	struct dns_request req = { .src = (struct sockaddr *)&f->src,
	    .transport = DNS_TRANSPORT_TCP };
	ldns_pkt *p = NULL;
	size_t n, outlen, wlen;

	/* AXFR over UDP: FORMERR; over TCP: the transfer path */
	n = mkquery(q, sizeof(q), 0, "dc1.ntm.test", DNS_TYPE_AXFR, 0, 0, 0);
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_UDP), DNS_ACTION_ANSWER);
	assert_int_equal(f->out[3] & 0xf, DNS_RCODE_FORMERR);
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_TCP), DNS_ACTION_XFR);

	/* no TSIG although a key is configured: NOTAUTH */
	req.wire = q;
	req.len = n;
	assert_int_equal(xfr_answer(&f->srv, &req, &out, &outlen), 0);
	assert_int_equal(load_be16(out), outlen - 2);
	assert_int_equal(out[2 + 3] & 0xf, DNS_RCODE_NOTAUTH);
	free(out);

	/* signed with the key: SOA first and last, signed answer */
	p = ldns_pkt_query_new(ldns_dname_new_frm_str("dc1.ntm.test."),
	    LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0);
	ldns_pkt_set_id(p, 77);
	assert_int_equal(ldns_pkt_tsig_sign(p, "xfr-key.", KEY_SECRET, 300,
	    "hmac-sha256.", NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt2wire(&wire, p, &wlen), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	req.wire = wire;
	req.len = wlen;
	assert_int_equal(xfr_answer(&f->srv, &req, &out, &outlen), 0);
	assert_int_equal(load_be16(out), outlen - 2);	/* one message */
	assert_int_equal(ldns_wire2pkt(&p, out + 2, outlen - 2),
	    LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_non_null(ldns_pkt_tsig(p));
	/* SOA, NS, ns1 A, www CNAME, sub NS, ns.sub A, 40 TXT, alice A AAAA,
	   SOA */
	assert_int_equal(ldns_pkt_ancount(p), 49);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p),
	    0)), LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p),
	    48)), LDNS_RR_TYPE_SOA);
	ldns_pkt_free(p);
	free(out);
	assert_int_equal(f->srv.stats.xfr, 1);

	/* signed with a wrong secret: NOTAUTH with TSIG error BADSIG */
	p = ldns_pkt_query_new(ldns_dname_new_frm_str("dc1.ntm.test."),
	    LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0);
	assert_int_equal(ldns_pkt_tsig_sign(p, "xfr-key.",
	    "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTM=", 300,
	    "hmac-sha256.", NULL), LDNS_STATUS_OK);
	free(wire);
	assert_int_equal(ldns_pkt2wire(&wire, p, &wlen), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	req.wire = wire;
	req.len = wlen;
	assert_int_equal(xfr_answer(&f->srv, &req, &out, &outlen), 0);
	assert_int_equal(ldns_wire2pkt(&p, out + 2, outlen - 2),
	    LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTAUTH);
	assert_non_null(ldns_pkt_tsig(p));
	assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(ldns_pkt_tsig(p),
	    5)), DNS_TSIG_BADSIG);
	ldns_pkt_free(p);
	free(out);
	/* the same over the query path (a SOA check), and an unknown key */
	store_be16(wire + DNS_HEADER_LEN + 14, DNS_TYPE_SOA);
	assert_int_equal(ask(f, wire, wlen, DNS_TRANSPORT_UDP),
	    DNS_ACTION_ANSWER);
	assert_int_equal(ldns_wire2pkt(&p, f->out, f->outlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTAUTH);
	assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(ldns_pkt_tsig(p),
	    5)), DNS_TSIG_BADSIG);
	ldns_pkt_free(p);
	strcpy(f->xfr.key_name, "another-key.");
	assert_int_equal(ask(f, wire, wlen, DNS_TRANSPORT_UDP),
	    DNS_ACTION_ANSWER);
	assert_int_equal(ldns_wire2pkt(&p, f->out, f->outlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(ldns_pkt_tsig(p),
	    5)), DNS_TSIG_BADKEY);
	ldns_pkt_free(p);
	strcpy(f->xfr.key_name, "xfr-key.");
	assert_int_equal(f->srv.stats.tsig_bad, 3);

	/* a correctly signed query from outside the ACL: REFUSED */
	free(wire);
	p = ldns_pkt_query_new(ldns_dname_new_frm_str("dc1.ntm.test."),
	    LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0);
	assert_int_equal(ldns_pkt_tsig_sign(p, "xfr-key.", KEY_SECRET, 300,
	    "hmac-sha256.", NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt2wire(&wire, p, &wlen), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	req.wire = wire;
	req.len = wlen;
	inet_pton(AF_INET, "192.0.2.7", &f->src.sin_addr);
	assert_int_equal(xfr_answer(&f->srv, &req, &out, &outlen), 0);
	assert_int_equal(out[2 + 3] & 0xf, DNS_RCODE_REFUSED);
	free(out);
	free(wire);
	assert_int_equal(f->srv.stats.xfr_refused, 3);
}

static void
test_notify(void **state)
{
	struct fixture *f = *state;
	uint8_t msg[1024];
	size_t len;
	ldns_pkt *p;

	assert_int_equal(xfr_notify_build(f->zone, 0, &f->xfr, 4242, msg,
	    sizeof(msg), &len), 0);
	assert_int_equal(ldns_wire2pkt(&p, msg, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_NOTIFY);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_id(p), 4242);
	assert_non_null(ldns_pkt_tsig(p));
	assert_true(ldns_pkt_tsig_verify(p, msg, len, "xfr-key.", KEY_SECRET,
	    NULL));
	assert_rr(p, LDNS_SECTION_ANSWER, 0, "dc1.ntm.test.\t3600\tIN\tSOA\t"
	    "ns1.dc1.ntm.test. hostmaster.dc1.ntm.test. 8 7200 900 1209600 "
	    "300");
	ldns_pkt_free(p);
	msg[2] |= 0x80;		/* as the secondary's reply */
	assert_true(xfr_notify_is_reply(msg, len, 4242));
	assert_false(xfr_notify_is_reply(msg, len, 4243));
}

/*
 * The prefetch hint names the slot the lookup will probe: the lower-cased
 * question name's table hash, whatever the query's case; nothing for a
 * question that cannot be read (dns_answer refuses those anyway).
 */
static void
test_prefetch_hint(void **state)
{
	struct fixture *f = *state;
	static const uint8_t lname[] = "\5alice\3dc1\3ntm\4test";
	struct dns_hint h;
	uint8_t q[512];
	size_t n;

	n = mkquery(q, sizeof(q), 0, "AlIcE.dc1.NTM.test", DNS_TYPE_A, 0, 0, 0);
	dns_prefetch_start(&f->srv, q, n, &h);
	assert_int_equal(h.len, sizeof(lname));
	assert_true(h.hash == zone_name_hash(lname, sizeof(lname)));
	dns_prefetch_entry(&f->srv, &h);
	dns_prefetch_data(&f->srv, &h);
	/* and the answer is the same as without the hint */
	assert_int_equal(ask(f, q, n, DNS_TRANSPORT_UDP), DNS_ACTION_ANSWER);
	assert_int_equal(load_be16(f->out + DNS_OFF_ANCOUNT), 1);

	dns_prefetch_start(&f->srv, q, DNS_HEADER_LEN + 3, &h);
	assert_int_equal(h.len, 0);			/* cut in the name */
	q[DNS_HEADER_LEN] = 0xc0;			/* a pointer */
	dns_prefetch_start(&f->srv, q, n, &h);
	assert_int_equal(h.len, 0);
	dns_prefetch_start(&f->srv, q, 5, &h);
	assert_int_equal(h.len, 0);			/* no header */
	dns_prefetch_entry(&f->srv, &h);
	dns_prefetch_data(&f->srv, &h);
}

/* ---- dnsnet: batched UDP on real sockets ---------------------------------- */

enum {
	BATCH_QUERIES = 100,	/* more than one recvmmsg batch */
	BATCH_WAIT_MS = 5000,
};

/* A port free for UDP and TCP on addr (text without port). */
static uint16_t
free_port(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	uint16_t port = 0;
	int u, t, tries;

	for (tries = 0; tries < 50 && port == 0; tries++) {
		if (loop_addr_parse(addr, 0, 0, &ss) < 0 ||
		    loop_udp_socket((struct sockaddr *)&ss, 0, &u) < 0)
			return 0;
		len = sizeof(ss);
		assert_int_equal(getsockname(u, (struct sockaddr *)&ss, &len),
		    0);
		t = socket(ss.ss_family, SOCK_STREAM, 0);
		if (t >= 0 && bind(t, (struct sockaddr *)&ss, len) == 0)
			port = ntohs(ss.ss_family == AF_INET ?
			    ((struct sockaddr_in *)&ss)->sin_port :
			    ((struct sockaddr_in6 *)&ss)->sin6_port);
		if (t >= 0)
			close(t);
		close(u);
	}
	return port;
}

/*
 * The DNS sockets never fragment an answer (RFC 9715): LOOP_UDP_DONTFRAG
 * sets IPv4's DF with the path MTU ignored, and the same for IPv6; without
 * the flag the kernel's default stays.
 */
static void
test_udp_dontfrag(void **state)
{
	static const char *const addrs[] = { "127.0.0.1", "::1" };
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;
	int fd, v, flags, lvl, opt, want;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(loop_addr_parse(addrs[i], 0, 0, &ss), 0);
		lvl = i == 0 ? IPPROTO_IP : IPPROTO_IPV6;
		opt = i == 0 ? IP_MTU_DISCOVER : IPV6_MTU_DISCOVER;
		want = i == 0 ? IP_PMTUDISC_PROBE : IPV6_PMTUDISC_PROBE;
		for (flags = 0; flags <= LOOP_UDP_DONTFRAG;
		    flags += LOOP_UDP_DONTFRAG) {
			if (loop_udp_socket((struct sockaddr *)&ss,
			    (unsigned)flags, &fd) < 0) {
				assert_int_equal(i, 1);	/* no IPv6 here */
				continue;
			}
			len = sizeof(v);
			assert_int_equal(getsockopt(fd, lvl, opt, &v, &len),
			    0);
			if (flags != 0)
				assert_int_equal(v, want);
			else
				assert_int_not_equal(v, want);
			close(fd);
		}
	}
}

/*
 * BATCH_QUERIES datagrams sent at once to `dst` (the DC listening on
 * `listen`, same port), before the loop reads any: A, AAAA and NXDOMAIN
 * in turn, every seventh one a response (QR set) that must get no answer.
 * Every other one gets exactly one answer, with its id and the right
 * data, from the address it was sent to.
 */
static void
batch_roundtrip(struct fixture *f, const char *listen, const char *dst)
{
	static const char *const names[] = { "alice.dc1.ntm.test",
	    "alice.dc1.ntm.test", "nobody.dc1.ntm.test" };
	static const uint16_t types[] = { DNS_TYPE_A, DNS_TYPE_AAAA,
	    DNS_TYPE_A };
	struct sockaddr_storage la, da, from;
	struct dnsnet_config cfg = { 0 };
	struct dnsnet *net = NULL;
	struct ntm_rng *rng;
	uint8_t q[512], seen[BATCH_QUERIES + 1] = { 0 };
	uint8_t rbuf[DNS_UDP_MAX];
	uv_loop_t loop;
	socklen_t flen;
	unsigned answered = 0, want = 0, want_nx = 0, waited = 0;
	uint16_t port;
	ssize_t r;
	size_t n;
	int cfd, i, rc;

	port = free_port(dst[0] == '[' || strchr(dst, ':') != NULL ?
	    "::1" : "127.0.0.1");
	if (port == 0)
		skip();			/* no such loopback here */
	assert_int_equal(loop_addr_parse(listen, port, 0, &la), 0);
	assert_int_equal(loop_addr_parse(dst, port, 0, &da), 0);
	assert_non_null(rng = rng_seeded_new("batch", 5));
	cfg.listen = &la;
	cfg.nlisten = 1;
	cfg.tcp_idle_ms = 1000;
	cfg.tcp_clients = 4;
	cfg.rng = rng;
	assert_int_equal(uv_loop_init(&loop), 0);
	rc = dnsnet_new(&loop, &f->srv, &cfg, &net);
	if (rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT || rc == -EADDRINUSE) {
		uv_run(&loop, UV_RUN_DEFAULT);
		assert_int_equal(uv_loop_close(&loop), 0);
		rng_free(rng);
		skip();
	}
	assert_int_equal(rc, 0);

	cfd = socket(da.ss_family, SOCK_DGRAM, 0);
	assert_true(cfd >= 0);
	for (i = 1; i <= BATCH_QUERIES; i++) {
		n = mkquery(q, sizeof(q), 0, names[i % 3], types[i % 3], 0, 0,
		    0);
		store_be16(q, (uint16_t)i);
		if (i % 7 == 0)
			q[2] |= DNS_FLAG_QR >> 8;
		else {
			want++;
			want_nx += i % 3 == 2;
		}
		assert_int_equal(sendto(cfd, q, n, 0, (struct sockaddr *)&da,
		    loop_addr_len((struct sockaddr *)&da)), (ssize_t)n);
	}
	while (answered < want && waited < BATCH_WAIT_MS) {
		struct pollfd pfd = { .fd = cfd, .events = POLLIN };

		uv_run(&loop, UV_RUN_NOWAIT);
		if (poll(&pfd, 1, 10) == 0) {
			waited += 10;
			continue;
		}
		flen = sizeof(from);
		r = recvfrom(cfd, rbuf, sizeof(rbuf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &flen);
		if (r < 0)
			continue;
		{
			ldns_pkt *p = NULL;
			uint16_t id;
			char *got;

			assert_int_equal(ldns_wire2pkt(&p, rbuf, (size_t)r),
			    LDNS_STATUS_OK);
			id = ldns_pkt_id(p);
			assert_true(id >= 1 && id <= BATCH_QUERIES);
			assert_true(id % 7 != 0);	/* responses: none */
			assert_int_equal(seen[id], 0);
			seen[id] = 1;
			/* from the address asked, on the DC's port */
			assert_true(loop_addr_equal((struct sockaddr *)&from,
			    (struct sockaddr *)&da));
			if (id % 3 == 2) {
				assert_int_equal(ldns_pkt_get_rcode(p),
				    LDNS_RCODE_NXDOMAIN);
			} else {
				got = rr_str(p, LDNS_SECTION_ANSWER, 0);
				assert_non_null(got);
				assert_non_null(strstr(got, id % 3 == 0 ?
				    "\tA\t198.18.1.10" :
				    "\tAAAA\tfd6e:746d:6f62:1::10"));
				free(got);
			}
			ldns_pkt_free(p);
			answered++;
		}
	}
	assert_int_equal(answered, want);
	assert_int_equal(f->srv.stats.udp, BATCH_QUERIES);
	assert_int_equal(f->srv.stats.malformed_dropped, BATCH_QUERIES - want);
	assert_int_equal(f->srv.stats.rcode[DNS_RCODE_NXDOMAIN], want_nx);
	close(cfd);
	dnsnet_close(net);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	rng_free(rng);
}

static void
test_udp_batch_v4(void **state)
{
	batch_roundtrip(*state, "127.0.0.1", "127.0.0.1");
}

static void
test_udp_batch_v6(void **state)
{
	batch_roundtrip(*state, "::1", "::1");
}

/* On 0.0.0.0 the answer leaves from the address asked (not 127.0.0.1). */
static void
test_udp_wildcard_v4(void **state)
{
	batch_roundtrip(*state, "0.0.0.0", "127.0.0.2");
}

static void
test_udp_wildcard_v6(void **state)
{
	batch_roundtrip(*state, "::", "::1");
}

/*
 * A TCP client that pipelines queries and never reads the answers is
 * closed after two idle timeouts without progress; the answers still
 * waiting are dropped.  Before, a pending write kept re-arming the timer,
 * so such clients held their slots (tcp_clients) and the answers for good.
 */
enum {
	STALL_QUERIES = 120000,	/* 6.5 MB of answers: more than the
				 * kernel buffers take */
	STALL_IDLE_MS = 200,
};

static void
test_tcp_stalled_reader(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_storage la;
	struct dnsnet_config cfg = { 0 };
	struct dnsnet *net = NULL;
	struct ntm_rng *rng;
	uint8_t q[128], *qs, rbuf[65536];
	size_t n, qlen, sent = 0, have = 0, off, answers = 0, i;
	uint64_t start;
	uv_loop_t loop;
	uint16_t port;
	ssize_t r;
	int cfd, rcv = 4096, rc;

	port = free_port("127.0.0.1");
	if (port == 0)
		skip();
	assert_int_equal(loop_addr_parse("127.0.0.1", port, 0, &la), 0);
	assert_non_null(rng = rng_seeded_new("stall", 5));
	cfg.listen = &la;
	cfg.nlisten = 1;
	cfg.tcp_idle_ms = STALL_IDLE_MS;
	cfg.tcp_clients = 4;
	cfg.rng = rng;
	assert_int_equal(uv_loop_init(&loop), 0);
	rc = dnsnet_new(&loop, &f->srv, &cfg, &net);
	if (rc == -EADDRINUSE) {
		uv_run(&loop, UV_RUN_DEFAULT);
		assert_int_equal(uv_loop_close(&loop), 0);
		rng_free(rng);
		skip();
	}
	assert_int_equal(rc, 0);

	n = mkquery(q + 2, sizeof(q) - 2, 0, "alice.dc1.ntm.test",
	    DNS_TYPE_A, 0, 0, 0);
	store_be16(q, (uint16_t)n);
	qlen = n + 2;
	assert_non_null(qs = malloc(qlen * STALL_QUERIES));
	for (i = 0; i < STALL_QUERIES; i++)
		memcpy(qs + i * qlen, q, qlen);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(cfd >= 0);
	assert_int_equal(setsockopt(cfd, SOL_SOCKET, SO_RCVBUF, &rcv,
	    sizeof(rcv)), 0);
	(void)connect(cfd, (struct sockaddr *)&la, sizeof(struct sockaddr_in));
	/* Send everything, reading nothing. */
	start = uv_now(&loop);
	while (sent < qlen * STALL_QUERIES) {
		uv_run(&loop, UV_RUN_NOWAIT);
		r = send(cfd, qs + sent, qlen * STALL_QUERIES - sent,
		    MSG_NOSIGNAL);
		if (r > 0)
			sent += (size_t)r;
		else
			usleep(1000);
		uv_update_time(&loop);
		assert_true(uv_now(&loop) - start < 5000);
	}
	/* Still not reading: ten idle timeouts. */
	start = uv_now(&loop);
	while (uv_now(&loop) - start < 10 * STALL_IDLE_MS) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
		uv_update_time(&loop);
	}
	/* Now read: the connection ends before every answer came. */
	start = uv_now(&loop);
	for (;;) {
		uv_run(&loop, UV_RUN_NOWAIT);
		r = recv(cfd, rbuf + have, sizeof(rbuf) - have, 0);
		if (r == 0 || (r < 0 && errno != EAGAIN))
			break;
		if (r < 0)
			usleep(1000);
		else {
			have += (size_t)r;
			for (off = 0; have - off >= 2 &&
			    have - off >= 2 + (size_t)load_be16(rbuf + off);
			    off += 2 + load_be16(rbuf + off))
				answers++;
			memmove(rbuf, rbuf + off, have - off);
			have -= off;
		}
		uv_update_time(&loop);
		assert_true(uv_now(&loop) - start < 10000);
	}
	assert_int_equal(f->srv.stats.tcp, STALL_QUERIES);
	assert_true(answers > 0);
	assert_true(answers < STALL_QUERIES);
	close(cfd);
	free(qs);
	dnsnet_close(net);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	rng_free(rng);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_aaaa_ptr, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_case_insensitive_echo,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_nxdomain_nodata, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused_referral_cname,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_formerr_and_drops, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_compression_loop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_notimp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rrl, setup, teardown),
		cmocka_unit_test(test_rrl_refill),
		cmocka_unit_test(test_rrl_collisions),
		cmocka_unit_test_setup_teardown(test_xfr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_stalled_reader, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_prefetch_hint, setup,
		    teardown),
		cmocka_unit_test(test_udp_dontfrag),
		cmocka_unit_test_setup_teardown(test_udp_batch_v4, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_udp_batch_v6, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_udp_wildcard_v4, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_udp_wildcard_v6, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
