/* fuzz_dns.c -- libFuzzer target: the DC's DNS query handler and transfer path on arbitrary queries. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "buf.h"
#include "dns.h"
#include "log.h"
#include "xfr.h"
#include "zone.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct zone		*fz_zone;
static struct xfr_config	 fz_xfr;

static void fuzz_fail(const char *) __attribute__((noreturn));

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_dns: %s\n", what);
	abort();
}

/* The zone every input asks: static records, a delegation, nodes. */
static void
fuzz_init(void)
{
	static const char text[] =
	    "$ORIGIN dc1.ntm.test.\n$TTL 3600\n"
	    "@ IN SOA ns1 hostmaster 1 7200 900 1209600 300\n"
	    "  IN NS ns1\n  IN MX 10 ns1\n"
	    "ns1 IN A 198.18.1.1\nns1 IN AAAA fd6e:746d:6f62:1::1\n"
	    "www IN CNAME ns1\nsub IN NS ns.sub\nns.sub IN A 198.18.1.53\n"
	    "a.b.c IN TXT \"deep\"\n";
	char path[] = "/tmp/fuzz_dns.XXXXXX", err[1024];
	struct zone_config c = { 0 };
	FILE *fp;
	int fd, i;

	log_init("fuzz_dns", 1, LOG_LEVEL_ERR);
	if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL)
		fuzz_fail("temporary zone file");
	fputs(text, fp);
	for (i = 0; i < 30; i++)
		fprintf(fp, "big IN TXT \"%d padding padding padding\"\n", i);
	fclose(fp);
	c.origin = "dc1.ntm.test";
	c.file = path;
	c.have4 = c.have6 = true;
	inet_pton(AF_INET, "198.18.1.0", &c.prefix4);
	c.prefix4_len = 24;
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::", &c.prefix6);
	c.prefix6_len = 64;
	if (zone_new(&c, &fz_zone, err, sizeof(err)) < 0)
		fuzz_fail(err);
	unlink(path);
	if (zone_node_set(fz_zone, "alice.dc1.ntm.test", "198.18.1.10",
	    "fd6e:746d:6f62:1::10") < 0 ||
	    zone_node_set(fz_zone, "bob.dc1.ntm.test", "198.18.1.11",
	    "fd6e:746d:6f62:1::11") < 0)
		fuzz_fail("nodes");
	xfr_acl_add(&fz_xfr, "127.0.0.0/8");
	fz_xfr.have_key = true;
	strcpy(fz_xfr.key_name, "xfr-key.");
	strcpy(fz_xfr.key_secret,
	    "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=");
}

/* Every transfer message is framed and parses. */
static void
fuzz_check_xfr(const uint8_t *out, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t n;
		ldns_pkt *p = NULL;

		if (len - off < 2)
			fuzz_fail("transfer framing");
		n = load_be16(out + off);
		if (len - off - 2 < n)
			fuzz_fail("transfer framing length");
		if (ldns_wire2pkt(&p, out + off + 2, n) != LDNS_STATUS_OK)
			fuzz_fail("transfer message does not parse");
		ldns_pkt_free(p);
		off += 2 + n;
	}
}

/*
 * Input: one mode byte (bit 0: TCP, bit 1: IPv6 source, bit 2: source
 * outside the transfer ACL), then the query.  Checks that answers are
 * well-formed DNS (ldns parses them), keep the query's id, have QR set,
 * and respect the UDP size limit.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNS_TCP_MAX];
	struct dns_server srv = { 0 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct dns_request req;
	enum dns_action act;
	uint8_t mode, *xout = NULL;
	size_t outlen = 0, xlen = 0;
	ldns_pkt *p = NULL;

	if (fz_zone == NULL)
		fuzz_init();
	if (size < 1)
		return 0;
	mode = data[0];
	inet_pton(AF_INET, mode & 4 ? "192.0.2.1" : "127.0.0.1", &s4.sin_addr);
	inet_pton(AF_INET6, mode & 4 ? "2001:db8::1" : "::1", &s6.sin6_addr);
	srv.zone = fz_zone;
	srv.xfr = &fz_xfr;
	req.wire = data + 1;
	req.len = size - 1;
	req.src = mode & 2 ? (struct sockaddr *)&s6 : (struct sockaddr *)&s4;
	req.transport = mode & 1 ? DNS_TRANSPORT_TCP : DNS_TRANSPORT_UDP;
	req.now = 1;
	act = dns_answer(&srv, &req, out, sizeof(out), &outlen);
	switch (act) {
	case DNS_ACTION_ANSWER:
		if (outlen < DNS_HEADER_LEN || req.len < 2 ||
		    load_be16(out) != load_be16(req.wire))
			fuzz_fail("answer without the query's id");
		if (!(load_be16(out + DNS_OFF_FLAGS) & DNS_FLAG_QR))
			fuzz_fail("answer without QR");
		if (req.transport == DNS_TRANSPORT_UDP && outlen > DNS_UDP_MAX)
			fuzz_fail("UDP answer above 1232 bytes");
		if (ldns_wire2pkt(&p, out, outlen) != LDNS_STATUS_OK)
			fuzz_fail("answer does not parse");
		ldns_pkt_free(p);
		break;
	case DNS_ACTION_XFR:
		if (req.transport != DNS_TRANSPORT_TCP)
			fuzz_fail("transfer over UDP");
		if (xfr_answer(&srv, &req, &xout, &xlen) == 0 && xout != NULL)
			fuzz_check_xfr(xout, xlen);
		free(xout);
		break;
	case DNS_ACTION_DROP:
		break;
	default:
		fuzz_fail("unknown action");
	}
	return 0;
}
