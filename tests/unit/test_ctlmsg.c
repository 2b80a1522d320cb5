/* test_ctlmsg.c -- unit tests for the control line protocol and nss.conf. */
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
#include <sys/socket.h>
#include <cmocka.h>

#include "ctlmsg.h"

static int
parse_str(struct ctlmsg *m, const char *s)
{
	return ctlmsg_parse(m, s, strlen(s));
}

/* Parses text (without LF), formats it back, expects the same bytes + LF. */
static void
assert_round_trip(const char *text)
{
	struct ctlmsg m, again;
	char out[CTLMSG_LINE_MAX + 1], expect[CTLMSG_LINE_MAX + 2];
	size_t len;

	assert_int_equal(parse_str(&m, text), 0);
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), 0);
	snprintf(expect, sizeof(expect), "%s\n", text);
	assert_string_equal(out, expect);
	assert_int_equal(len, strlen(expect));
	assert_int_equal(ctlmsg_parse(&again, out, len - 1), 0);
	assert_memory_equal(&m, &again, sizeof(m));
}

static void
set_addr(struct ctlmsg_addr *a, int af, const char *text)
{
	memset(a, 0, sizeof(*a));
	a->af = af;
	assert_int_equal(inet_pton(af, text, a->a), 1);
}

static void
test_format_resolve(void **state)
{
	struct ctlmsg m;
	char out[CTLMSG_LINE_MAX];
	size_t len;

	memset(&m, 0, sizeof(m));
	m.type = CTLMSG_RESOLVE;
	m.family = CTLMSG_FAMILY_ANY;
	strcpy(m.name, "alice.dc1.ntm.test");
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), 0);
	assert_string_equal(out, "RESOLVE alice.dc1.ntm.test any\n");
	assert_int_equal(len, 31);
	m.family = CTLMSG_FAMILY_INET6;
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), 0);
	assert_string_equal(out, "RESOLVE alice.dc1.ntm.test inet6\n");
	/* Exactly the line and its LF fit, without room for a NUL. */
	assert_int_equal(ctlmsg_format(&m, out, 33, &len), 0);
	assert_int_equal(len, 33);
	assert_int_equal(ctlmsg_format(&m, out, 32, &len), -ENOSPC);
	assert_int_equal(len, 0);
}

static void
test_format_ok_and_parse_back(void **state)
{
	struct ctlmsg m, p;
	char out[CTLMSG_LINE_MAX];
	size_t len;

	memset(&m, 0, sizeof(m));
	m.type = CTLMSG_OK;
	strcpy(m.name, "bob.dc2.ntm.test");
	set_addr(&m.addr[0], AF_INET, "198.18.2.10");
	set_addr(&m.addr[1], AF_INET6, "fd6e:746d:6f62:2::a");
	m.naddr = 2;
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), 0);
	assert_string_equal(out,
	    "OK bob.dc2.ntm.test 198.18.2.10 fd6e:746d:6f62:2::a\n");
	assert_int_equal(ctlmsg_parse(&p, out, len - 1), 0);
	assert_int_equal(p.type, CTLMSG_OK);
	assert_string_equal(p.name, "bob.dc2.ntm.test");
	assert_int_equal(p.naddr, 2);
	assert_int_equal(p.addr[0].af, AF_INET);
	assert_memory_equal(p.addr[0].a, m.addr[0].a, 4);
	assert_int_equal(p.addr[1].af, AF_INET6);
	assert_memory_equal(p.addr[1].a, m.addr[1].a, 16);
}

static void
test_round_trips(void **state)
{
	assert_round_trip("RESOLVE alice.dc1.ntm.test inet");
	assert_round_trip("RESOLVE x inet6");
	assert_round_trip("REVERSE 198.18.1.10");
	assert_round_trip("REVERSE fd6e:746d:6f62:1::a");
	assert_round_trip("STATUS");
	assert_round_trip("TUNNELS");
	assert_round_trip("WAIT 3000");
	assert_round_trip("WAIT 30000");
	assert_round_trip("OK alice.dc1.ntm.test 198.18.1.10");
	assert_round_trip("OK a.b 1.2.3.4 ::1 ::ffff:1.2.3.4 5.6.7.8 ::2 ::3 "
	    "::4 ::5");
	assert_round_trip("NOTFOUND refused");
	assert_round_trip("UNAVAIL not-in-zone");
	assert_round_trip("ERROR bad-request");
	assert_round_trip("STAT registered_dc dc1.ntm.test:4610");
	assert_round_trip("STAT tunnels 3");
	assert_round_trip("TUNNEL bob.dc2.ntm.test relay up 198.18.2.10 "
	    "fd6e:746d:6f62:2::a");
	assert_round_trip("END");
}

static void
test_parse_fields(void **state)
{
	struct ctlmsg m;

	assert_int_equal(parse_str(&m, "WAIT 2500"), 0);
	assert_int_equal(m.type, CTLMSG_WAIT);
	assert_int_equal(m.wait_ms, 2500);
	assert_int_equal(parse_str(&m, "NOTFOUND revoked"), 0);
	assert_int_equal(m.type, CTLMSG_NOTFOUND);
	assert_string_equal(m.word, "revoked");
	assert_int_equal(parse_str(&m, "RESOLVE carol.dc2.ntm.test inet"), 0);
	assert_int_equal(m.type, CTLMSG_RESOLVE);
	assert_int_equal(m.family, CTLMSG_FAMILY_INET);
	assert_string_equal(m.name, "carol.dc2.ntm.test");
	assert_int_equal(parse_str(&m, "TUNNEL dave.dc1.ntm.test direct setup "
	    "198.18.1.11"), 0);
	assert_string_equal(m.word, "direct");
	assert_string_equal(m.value, "setup");
	assert_int_equal(m.naddr, 1);
	assert_string_equal(ctlmsg_type_name(CTLMSG_NOTFOUND), "NOTFOUND");
	assert_null(ctlmsg_type_name(CTLMSG_INVALID));
	assert_string_equal(ctlmsg_family_name(CTLMSG_FAMILY_INET6), "inet6");
	assert_null(ctlmsg_family_name(CTLMSG_FAMILY_INVALID));
	assert_null(ctlmsg_family_name((enum ctlmsg_family)99));
	assert_true(ctlmsg_is_answer(CTLMSG_TUNNEL));
	assert_false(ctlmsg_is_answer(CTLMSG_RESOLVE));
}

static void
test_refuse_structure(void **state)
{
	struct ctlmsg m;

	assert_int_equal(parse_str(&m, ""), -EINVAL);
	assert_int_equal(parse_str(&m, "HELLO"), -EINVAL);
	assert_int_equal(parse_str(&m, "resolve a.b any"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE a.b"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE a.b any extra"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE a.b ANY"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE a.b inet4"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE  a.b any"), -EINVAL);
	assert_int_equal(parse_str(&m, " RESOLVE a.b any"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE a.b any "), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE a.b\tany"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE a.b any\r"), -EINVAL);
	assert_int_equal(ctlmsg_parse(&m, "RESOLVE a.b any\0", 16), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE a.b \xc3\xa9"), -EINVAL);
	assert_int_equal(parse_str(&m, "STATUS now"), -EINVAL);
	assert_int_equal(parse_str(&m, "END 1"), -EINVAL);
	assert_int_equal(parse_str(&m, "OK alice.dc1.ntm.test"), -EINVAL);
	assert_int_equal(parse_str(&m, "NOTFOUND"), -EINVAL);
	assert_int_equal(parse_str(&m, "NOTFOUND tunnel refused"), -EINVAL);
	assert_int_equal(parse_str(&m, "NOTFOUND Refused"), -EINVAL);
	assert_int_equal(parse_str(&m, "STAT key"), -EINVAL);
	assert_int_equal(parse_str(&m, "TUNNEL a.b relay up"), -EINVAL);
	assert_int_equal(parse_str(&m, "TUNNEL a.b relay Up 1.2.3.4"), -EINVAL);
	/* The struct is cleared on failure, never half filled. */
	assert_int_equal(m.type, CTLMSG_INVALID);
	assert_int_equal(m.naddr, 0);
}

static void
test_refuse_numbers(void **state)
{
	struct ctlmsg m;

	assert_int_equal(parse_str(&m, "WAIT 0"), -EINVAL);
	assert_int_equal(parse_str(&m, "WAIT 0100"), -EINVAL);
	assert_int_equal(parse_str(&m, "WAIT 30001"), -EINVAL);
	assert_int_equal(parse_str(&m, "WAIT 99999999999"), -EINVAL);
	assert_int_equal(parse_str(&m, "WAIT -5"), -EINVAL);
	assert_int_equal(parse_str(&m, "WAIT +5"), -EINVAL);
	assert_int_equal(parse_str(&m, "WAIT 1s"), -EINVAL);
}

static void
test_refuse_names(void **state)
{
	struct ctlmsg m;
	char line[CTLMSG_LINE_MAX], label[80];

	assert_int_equal(parse_str(&m, "RESOLVE Alice.dc1.ntm.test any"),
	    -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE alice.dc1.ntm.test. any"),
	    -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE a..b any"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE .a any"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE -a.b any"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE a-.b any"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE a_b.c any"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE a*.c any"), -EINVAL);
	assert_int_equal(parse_str(&m, "RESOLVE xn--bcher-kva.example any"), 0);
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(line, sizeof(line), "RESOLVE %s.ntm.test any", label);
	assert_int_equal(parse_str(&m, line), 0);
	snprintf(line, sizeof(line), "RESOLVE %sa.ntm.test any", label);
	assert_int_equal(parse_str(&m, line), -EINVAL);
}

static void
test_name_length_limit(void **state)
{
	char name[300], out[300];
	size_t i;

	/* 4 labels of 63 + 3 dots = 255 > 253; trim to exactly 253. */
	for (i = 0; i < 255; i++)
		name[i] = i % 64 == 63 ? '.' : 'b';
	name[253] = '\0';
	assert_true(ctlmsg_name_valid(name, 253));
	name[253] = 'b';
	name[254] = '\0';
	assert_false(ctlmsg_name_valid(name, 254));
	assert_int_equal(ctlmsg_name_normalize(name, out, sizeof(out)),
	    -EINVAL);
}

static void
test_refuse_addresses(void **state)
{
	static const char *bad[] = {
		"REVERSE 198.18.1",
		"REVERSE 198.18.1.256",
		"REVERSE 198.018.1.1",
		"REVERSE 198.18.1.1/24",
		"REVERSE FD6E::1",		/* canonical is lower case */
		"REVERSE fd6e:0:0:0:0:0:0:1",	/* canonical is fd6e::1 */
		"REVERSE fd6e:0000::1",
		"REVERSE ::1%eth0",
		"REVERSE 1.2.3.4 5.6.7.8",
		"REVERSE alice.dc1.ntm.test",
		"REVERSE",
		"OK a.b 1.2.3.4 1.2.3.4 1.2.3.4 1.2.3.4 1.2.3.4 1.2.3.4 "
		    "1.2.3.4 1.2.3.4 1.2.3.4",		/* nine addresses */
	};
	struct ctlmsg m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_str(&m, bad[i]) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void
test_refuse_overlong(void **state)
{
	char line[CTLMSG_LINE_MAX + 10];
	struct ctlmsg m;
	size_t linelen;

	memset(line, 'x', sizeof(line));
	memcpy(line, "STAT k ", 7);
	/* 1023 bytes + LF = CTLMSG_LINE_MAX is the longest line... */
	assert_int_equal(ctlmsg_parse(&m, line, CTLMSG_LINE_MAX - 1), -EINVAL);
	/* ...and one more byte is refused as too long, before any field. */
	assert_int_equal(ctlmsg_parse(&m, line, CTLMSG_LINE_MAX), -EMSGSIZE);
	/* The STAT value limit itself. */
	line[7 + CTLMSG_VALUE_MAX] = '\0';
	assert_int_equal(parse_str(&m, line), 0);
	line[7 + CTLMSG_VALUE_MAX] = 'x';
	line[8 + CTLMSG_VALUE_MAX] = '\0';
	assert_int_equal(parse_str(&m, line), -EINVAL);
	/* The splitter gives up after CTLMSG_LINE_MAX bytes without LF. */
	memset(line, 'x', sizeof(line));
	assert_int_equal(ctlmsg_line(line, CTLMSG_LINE_MAX - 1, &linelen),
	    -EAGAIN);
	assert_int_equal(ctlmsg_line(line, CTLMSG_LINE_MAX, &linelen),
	    -EMSGSIZE);
	line[CTLMSG_LINE_MAX - 1] = '\n';
	assert_int_equal(ctlmsg_line(line, sizeof(line), &linelen), 0);
	assert_int_equal(linelen, CTLMSG_LINE_MAX - 1);
	line[CTLMSG_LINE_MAX - 1] = 'x';
	line[CTLMSG_LINE_MAX] = '\n';
	assert_int_equal(ctlmsg_line(line, sizeof(line), &linelen), -EMSGSIZE);
}

static void
test_line_splitting(void **state)
{
	const char in[] = "WAIT 3000\nOK a.b 1.2.3.4\nEN";
	size_t linelen;

	assert_int_equal(ctlmsg_line(in, sizeof(in) - 1, &linelen), 0);
	assert_int_equal(linelen, 9);
	assert_int_equal(ctlmsg_line(in + 10, sizeof(in) - 11, &linelen), 0);
	assert_int_equal(linelen, 14);
	assert_int_equal(ctlmsg_line(in + 25, 2, &linelen), -EAGAIN);
	assert_int_equal(ctlmsg_line(in, 0, &linelen), -EAGAIN);
}

static void
test_format_refuses_invalid(void **state)
{
	struct ctlmsg m;
	char out[CTLMSG_LINE_MAX];
	size_t len;

	memset(&m, 0, sizeof(m));
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), -EINVAL);
	m.type = CTLMSG_RESOLVE;
	strcpy(m.name, "Alice.dc1.ntm.test");
	m.family = CTLMSG_FAMILY_ANY;
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), -EINVAL);
	strcpy(m.name, "alice.dc1.ntm.test");
	m.family = CTLMSG_FAMILY_INVALID;
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), -EINVAL);
	m.type = CTLMSG_OK;
	m.naddr = 0;
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), -EINVAL);
	m.naddr = 1;
	m.addr[0].af = AF_UNIX;
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), -EINVAL);
	m.naddr = CTLMSG_ADDR_MAX + 1;
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), -EINVAL);
	m.type = CTLMSG_NOTFOUND;
	strcpy(m.word, "has space");
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), -EINVAL);
	m.type = CTLMSG_WAIT;
	m.wait_ms = CTLMSG_WAIT_MAX_MS + 1;
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), -EINVAL);
	m.type = CTLMSG_REVERSE;
	m.naddr = 2;
	set_addr(&m.addr[0], AF_INET, "198.18.1.10");
	set_addr(&m.addr[1], AF_INET, "198.18.1.11");
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), -EINVAL);
}

static void
test_name_normalize(void **state)
{
	char out[CTLMSG_NAME_MAX + 1];

	assert_int_equal(ctlmsg_name_normalize("Alice.DC1.ntm.TEST.", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "alice.dc1.ntm.test");
	assert_int_equal(ctlmsg_name_normalize("bob.dc2.ntm.test", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "bob.dc2.ntm.test");
	/* Only one trailing dot is stripped. */
	assert_int_equal(ctlmsg_name_normalize("a.b..", out, sizeof(out)),
	    -EINVAL);
	assert_int_equal(ctlmsg_name_normalize(".", out, sizeof(out)), -EINVAL);
	assert_int_equal(ctlmsg_name_normalize("", out, sizeof(out)), -EINVAL);
	assert_int_equal(ctlmsg_name_normalize("a b", out, sizeof(out)),
	    -EINVAL);
	assert_int_equal(ctlmsg_name_normalize("_ldap._tcp.a.b", out,
	    sizeof(out)), -EINVAL);
	assert_int_equal(ctlmsg_name_normalize("alice.dc1", out, 5), -ENOSPC);
}

static void
test_name_in_zone(void **state)
{
	assert_true(ctlmsg_name_in_zone("alice.dc1.ntm.test", "dc1.ntm.test"));
	assert_true(ctlmsg_name_in_zone("alice.dc1.ntm.test", "ntm.test"));
	assert_false(ctlmsg_name_in_zone("dc1.ntm.test", "dc1.ntm.test"));
	assert_false(ctlmsg_name_in_zone("alice.xdc1.ntm.test",
	    "dc1.ntm.test"));
	assert_false(ctlmsg_name_in_zone("alicedc1.ntm.test", "dc1.ntm.test"));
	assert_false(ctlmsg_name_in_zone("alice.dc2.ntm.test", "dc1.ntm.test"));
	assert_false(ctlmsg_name_in_zone("www.example.com", "dc1.ntm.test"));
}

/* CLOSE <fqdn>: one canonical name, nothing else. */
static void
test_close_request(void **state)
{
	struct ctlmsg m;
	char out[CTLMSG_LINE_MAX + 1];
	size_t len;

	assert_round_trip("CLOSE bob.dc2.ntm.test");
	assert_int_equal(parse_str(&m, "CLOSE dave.dc1.ntm.test"), 0);
	assert_int_equal(m.type, CTLMSG_CLOSE);
	assert_string_equal(m.name, "dave.dc1.ntm.test");
	assert_false(ctlmsg_is_answer(CTLMSG_CLOSE));
	assert_string_equal(ctlmsg_type_name(CTLMSG_CLOSE), "CLOSE");
	assert_int_equal(parse_str(&m, "CLOSE"), -EINVAL);
	assert_int_equal(parse_str(&m, "CLOSE Bob.dc2.ntm.test"), -EINVAL);
	assert_int_equal(parse_str(&m, "CLOSE bob.dc2.ntm.test."), -EINVAL);
	assert_int_equal(parse_str(&m, "CLOSE bob.dc2.ntm.test any"), -EINVAL);
	assert_int_equal(parse_str(&m, "CLOSE fd6e::a"), -EINVAL);
	assert_int_equal(parse_str(&m, "close bob.dc2.ntm.test"), -EINVAL);
	memset(&m, 0, sizeof(m));
	m.type = CTLMSG_CLOSE;
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), -EINVAL);
	strcpy(m.name, "carol.dc2.ntm.test");
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), 0);
	assert_string_equal(out, "CLOSE carol.dc2.ntm.test\n");
}

/* TUNNEL lines: addresses, then key=value options. */
static void
test_tunnel_options(void **state)
{
	struct ctlmsg m;

	assert_round_trip("TUNNEL bob.dc2.ntm.test relay up 198.18.2.10 "
	    "fd6e:746d:6f62:2::a kex=ecdhe via=rs packets-in=0 "
	    "packets-out=18446744073709551615 drops=3 epoch=1 age-s=12 "
	    "idle-s=0");
	assert_round_trip("TUNNEL a.b direct up ::1 x=y");
	assert_int_equal(parse_str(&m, "TUNNEL dave.dc1.ntm.test direct up "
	    "198.18.1.11 fd6e:746d:6f62:1::b kex=shared packets-in=42"), 0);
	assert_int_equal(m.naddr, 2);
	assert_int_equal(m.nopt, 2);
	assert_string_equal(m.opt[0].key, "kex");
	assert_string_equal(ctlmsg_opt_get(&m, "kex"), "shared");
	assert_string_equal(ctlmsg_opt_get(&m, "packets-in"), "42");
	assert_null(ctlmsg_opt_get(&m, "drops"));
	/* A line without options still parses as before. */
	assert_int_equal(parse_str(&m, "TUNNEL dave.dc1.ntm.test direct up "
	    "198.18.1.11"), 0);
	assert_int_equal(m.nopt, 0);
}

static void
test_tunnel_options_refused(void **state)
{
	static const char *bad[] = {
		/* no address before the options */
		"TUNNEL a.b direct up kex=ecdhe",
		/* an address after an option */
		"TUNNEL a.b direct up 1.2.3.4 kex=ecdhe 5.6.7.8",
		"TUNNEL a.b direct up 1.2.3.4 kex",
		"TUNNEL a.b direct up 1.2.3.4 =ecdhe",
		"TUNNEL a.b direct up 1.2.3.4 kex=",
		"TUNNEL a.b direct up 1.2.3.4 kex==ecdhe",
		"TUNNEL a.b direct up 1.2.3.4 kex=ec=dhe",
		"TUNNEL a.b direct up 1.2.3.4 Kex=ecdhe",
		"TUNNEL a.b direct up 1.2.3.4 kex=ECDHE",
		"TUNNEL a.b direct up 1.2.3.4 kex=ec.dhe",
		"TUNNEL a.b direct up 1.2.3.4 kex=a kex=b",
		/* 16-byte key, 24-byte value */
		"TUNNEL a.b direct up 1.2.3.4 abcdefghijklmnop=1",
		"TUNNEL a.b direct up 1.2.3.4 k=123456789012345678901234",
		/* 17 options */
		"TUNNEL a.b direct up 1.2.3.4 a=1 b=1 c=1 d=1 e=1 f=1 g=1 "
		    "h=1 i=1 j=1 k=1 l=1 m=1 n=1 o=1 p=1 q=1",
		/* options belong to TUNNEL lines only */
		"OK a.b 1.2.3.4 kex=ecdhe",
		"STAT kex ecdhe x=y",
	};
	struct ctlmsg m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_str(&m, bad[i]) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	/* Exactly the longest key, value and option count are taken. */
	assert_int_equal(parse_str(&m, "TUNNEL a.b direct up 1.2.3.4 "
	    "abcdefghijklmno=12345678901234567890123 a=1 b=1 c=1 d=1 e=1 "
	    "f=1 g=1 h=1 i=1 j=1 k=1 l=1 m=1 n=1 o=1"), 0);
	assert_int_equal(m.nopt, CTLMSG_OPTS_MAX);
}

static void
test_tunnel_options_build(void **state)
{
	struct ctlmsg m;
	char out[CTLMSG_LINE_MAX + 1], key[8];
	size_t len, i;

	memset(&m, 0, sizeof(m));
	m.type = CTLMSG_TUNNEL;
	strcpy(m.name, "dave.dc1.ntm.test");
	strcpy(m.word, "direct");
	strcpy(m.value, "up");
	set_addr(&m.addr[0], AF_INET, "198.18.1.11");
	m.naddr = 1;
	assert_int_equal(ctlmsg_opt_add(&m, "kex", "ecdhe"), 0);
	assert_int_equal(ctlmsg_opt_add_u64(&m, "bytes-in", UINT64_MAX), 0);
	assert_int_equal(ctlmsg_opt_add(&m, "kex", "rsa"), -EINVAL);
	assert_int_equal(ctlmsg_opt_add(&m, "two words", "x"), -EINVAL);
	assert_int_equal(ctlmsg_opt_add(&m, "k", ""), -EINVAL);
	assert_int_equal(ctlmsg_opt_add(&m, "k", "a=b"), -EINVAL);
	assert_int_equal(m.nopt, 2);
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), 0);
	assert_string_equal(out, "TUNNEL dave.dc1.ntm.test direct up "
	    "198.18.1.11 kex=ecdhe bytes-in=18446744073709551615\n");
	for (i = 2; i < CTLMSG_OPTS_MAX; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_int_equal(ctlmsg_opt_add_u64(&m, key, i), 0);
	}
	assert_int_equal(ctlmsg_opt_add(&m, "one-more", "1"), -ENOSPC);
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), 0);
	/* A struct edited by hand is checked like a parsed line. */
	strcpy(m.opt[1].key, "kex");
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), -EINVAL);
	strcpy(m.opt[1].key, "Bytes");
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len), -EINVAL);
	strcpy(m.opt[1].key, "bytes-in");
	/* Eight long IPv6 addresses and sixteen long options: over 1024. */
	for (i = 0; i < CTLMSG_ADDR_MAX; i++)
		set_addr(&m.addr[i], AF_INET6,
		    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	m.naddr = CTLMSG_ADDR_MAX;
	/* Three labels of 63, a route and a state of 63 bytes each. */
	memset(m.name, 'a', 191);
	m.name[63] = m.name[127] = '.';
	m.name[191] = '\0';
	memset(m.word, 'r', CTLMSG_WORD_MAX);
	memset(m.value, 's', CTLMSG_WORD_MAX);
	for (i = 0; i < CTLMSG_OPTS_MAX; i++) {
		snprintf(m.opt[i].key, sizeof(m.opt[i].key), "key-%010zu", i);
		snprintf(m.opt[i].value, sizeof(m.opt[i].value), "%s",
		    "12345678901234567890123");
	}
	assert_int_equal(ctlmsg_format(&m, out, sizeof(out), &len),
	    -EMSGSIZE);
}

static void
test_conf_defaults(void **state)
{
	struct ctlmsg_conf c;
	struct ctlmsg_addr a;

	ctlmsg_conf_default(&c);
	assert_string_equal(c.socket, "/run/ntmobile/ntmd.sock");
	assert_int_equal(c.setup_ms, 3000);
	assert_int_equal(c.nzones, 0);
	/* Without zones every name goes to ntmd, which knows its zones. */
	assert_true(ctlmsg_conf_name_ours(&c, "www.example.com"));
	set_addr(&a, AF_INET, "198.19.255.255");
	assert_true(ctlmsg_conf_addr_ours(&c, &a));
	set_addr(&a, AF_INET, "198.20.0.1");
	assert_false(ctlmsg_conf_addr_ours(&c, &a));
	set_addr(&a, AF_INET6, "fd6e:746d:6f62:2::a");
	assert_true(ctlmsg_conf_addr_ours(&c, &a));
	set_addr(&a, AF_INET6, "fd6e:746d:6f63::1");
	assert_false(ctlmsg_conf_addr_ours(&c, &a));
	assert_true(ctlmsg_conf_uid_ok(&c, 0));
	assert_false(ctlmsg_conf_uid_ok(&c, 65534));
	assert_false(ctlmsg_conf_uid_ok(&c, UINT32_MAX));
}

static void
test_conf_full(void **state)
{
	static const char text[] =
	    "# /etc/ntmobile/nss.conf\n"
	    "socket = /run/ntm-lab/alice/ntmd.sock\n"
	    "\n"
	    "  server_uid=998   # the ntmd user\n"
	    "zones = DC1.ntm.test. dc2.ntm.test\n"
	    "ranges = 198.18.1.0/24\tfd6e:746d:6f62:1::/64\r\n"
	    "setup_timeout = 2500ms";
	struct ctlmsg_conf c;
	struct ctlmsg_addr a;
	size_t line;

	ctlmsg_conf_default(&c);
	assert_int_equal(ctlmsg_conf_parse(&c, text, sizeof(text) - 1, &line),
	    0);
	assert_int_equal(line, 0);
	assert_string_equal(c.socket, "/run/ntm-lab/alice/ntmd.sock");
	assert_int_equal(c.server_uid, 998);
	assert_true(ctlmsg_conf_uid_ok(&c, 998));
	assert_false(ctlmsg_conf_uid_ok(&c, 999));
	assert_int_equal(c.nzones, 2);
	assert_string_equal(c.zones[0], "dc1.ntm.test");
	assert_true(ctlmsg_conf_name_ours(&c, "bob.dc2.ntm.test"));
	assert_true(ctlmsg_conf_name_ours(&c, "alice.dc1.ntm.test"));
	assert_false(ctlmsg_conf_name_ours(&c, "www.example.com"));
	assert_false(ctlmsg_conf_name_ours(&c, "dc1.ntm.test"));
	assert_int_equal(c.nranges, 2);
	set_addr(&a, AF_INET, "198.18.1.200");
	assert_true(ctlmsg_conf_addr_ours(&c, &a));
	set_addr(&a, AF_INET, "198.18.2.10");
	assert_false(ctlmsg_conf_addr_ours(&c, &a));
	assert_int_equal(c.setup_ms, 2500);
}

static void
expect_conf_error(const char *text, size_t errline)
{
	struct ctlmsg_conf c;
	size_t line;

	ctlmsg_conf_default(&c);
	if (ctlmsg_conf_parse(&c, text, strlen(text), &line) != -EINVAL)
		fail_msg("accepted: %s", text);
	assert_int_equal(line, errline);
}

static void
test_conf_errors(void **state)
{
	struct ctlmsg_conf c;
	const char *text;
	char *big;
	size_t line;

	expect_conf_error("sockett = /x\n", 1);
	expect_conf_error("\n# ok\nsocket = relative/path\n", 3);
	expect_conf_error("socket = /a\nsocket = /b\n", 2);
	expect_conf_error("zones =\n", 1);
	expect_conf_error("zones = dc1.ntm.test bad_zone\n", 1);
	expect_conf_error("ranges = 198.18.1.7/24\n", 1);
	expect_conf_error("ranges = 198.18.1.0/33\n", 1);
	expect_conf_error("ranges = 198.18.1.0\n", 1);
	expect_conf_error("server_uid = -1\n", 1);
	expect_conf_error("server_uid = 4294967295\n", 1);
	expect_conf_error("setup_timeout = 0\n", 1);
	expect_conf_error("setup_timeout = 31s\n", 1);
	expect_conf_error("setup_timeout = 3 s\n", 1);
	expect_conf_error("just words\n", 1);
	/* A file longer than CTLMSG_CONF_MAX is refused, not truncated. */
	big = calloc(1, CTLMSG_CONF_MAX + 2);
	assert_non_null(big);
	memset(big, '#', CTLMSG_CONF_MAX + 1);
	ctlmsg_conf_default(&c);
	assert_int_equal(ctlmsg_conf_parse(&c, big, CTLMSG_CONF_MAX, &line), 0);
	assert_int_equal(ctlmsg_conf_parse(&c, big, CTLMSG_CONF_MAX + 1,
	    &line), -EINVAL);
	free(big);
	ctlmsg_conf_default(&c);
	assert_int_equal(ctlmsg_conf_parse(&c, "setup_timeout = 5s\n", 19,
	    &line), 0);
	assert_int_equal(c.setup_ms, 5000);
	ctlmsg_conf_default(&c);
	text = "setup_timeout = 7\nserver_uid = 0\nranges = 0.0.0.0/0\n";
	assert_int_equal(ctlmsg_conf_parse(&c, text, strlen(text), &line), 0);
	assert_int_equal(c.setup_ms, 7000);
	assert_int_equal(c.nranges, 1);
	assert_int_equal(c.server_uid, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_resolve),
		cmocka_unit_test(test_format_ok_and_parse_back),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_refuse_structure),
		cmocka_unit_test(test_refuse_numbers),
		cmocka_unit_test(test_refuse_names),
		cmocka_unit_test(test_name_length_limit),
		cmocka_unit_test(test_refuse_addresses),
		cmocka_unit_test(test_refuse_overlong),
		cmocka_unit_test(test_line_splitting),
		cmocka_unit_test(test_format_refuses_invalid),
		cmocka_unit_test(test_name_normalize),
		cmocka_unit_test(test_name_in_zone),
		cmocka_unit_test(test_close_request),
		cmocka_unit_test(test_tunnel_options),
		cmocka_unit_test(test_tunnel_options_refused),
		cmocka_unit_test(test_tunnel_options_build),
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_full),
		cmocka_unit_test(test_conf_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
