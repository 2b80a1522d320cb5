/* test_route.c -- the route decision table (DESIGN.md 4), every case and family combination. */
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

#include "route.h"

/* "198.51.100.1:4620" or "[2001:db8::1]:4620" into a wire address. */
static struct msg_addr
addr(const char *text)
{
	struct msg_addr a;
	char buf[64];
	const char *colon;

	memset(&a, 0, sizeof(a));
	if (text[0] == '[') {
		colon = strchr(text, ']');
		assert_non_null(colon);
		snprintf(buf, sizeof(buf), "%.*s", (int)(colon - text - 1),
		    text + 1);
		a.family = PROTO_FAMILY_IPV6;
		assert_int_equal(inet_pton(AF_INET6, buf, a.addr), 1);
		a.port = (uint16_t)atoi(colon + 2);
	} else {
		colon = strchr(text, ':');
		assert_non_null(colon);
		snprintf(buf, sizeof(buf), "%.*s", (int)(colon - text), text);
		a.family = PROTO_FAMILY_IPV4;
		assert_int_equal(inet_pton(AF_INET, buf, a.addr), 1);
		a.port = (uint16_t)atoi(colon + 1);
	}
	return a;
}

/* locals: space-separated list; observed: one address. */
static struct route_node
node(const char *locals, const char *observed)
{
	struct route_node n;
	char buf[512], *tok, *save = NULL;

	memset(&n, 0, sizeof(n));
	snprintf(buf, sizeof(buf), "%s", locals);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save))
		n.local[n.nlocal++] = addr(tok);
	n.observed = addr(observed);
	return n;
}

struct route_case {
	const char	*name;
	const char	*mn_local, *mn_obs, *cn_local, *cn_obs;
	enum proto_route route;
	uint8_t		 family;
	enum proto_role	 mn_role;
	int		 relay;
	const char	*to_mn;		/* first PEER_ADDR for MN, or NULL */
	const char	*to_cn;		/* first PEER_ADDR for CN, or NULL */
};

#define V4	PROTO_FAMILY_IPV4
#define V6	PROTO_FAMILY_IPV6
#define I	PROTO_ROLE_INITIATOR
#define R	PROTO_ROLE_RESPONDER

static const struct route_case cases[] = {
	{ "both global v4",
	    "198.51.100.1:4620", "198.51.100.1:4620",
	    "203.0.113.9:4620", "203.0.113.9:4620",
	    PROTO_ROUTE_DIRECT, V4, I, 0,
	    "203.0.113.9:4620", "198.51.100.1:4620" },
	{ "both global v6",
	    "[2001:db8:1::1]:4620", "[2001:db8:1::1]:4620",
	    "[2001:db8:2::2]:4620", "[2001:db8:2::2]:4620",
	    PROTO_ROUTE_DIRECT, V6, I, 0,
	    "[2001:db8:2::2]:4620", "[2001:db8:1::1]:4620" },
	{ "MN behind NAT, CN global: direct, CN expects the NAT address",
	    "192.168.1.10:4620", "198.51.100.77:40001",
	    "203.0.113.9:4620", "203.0.113.9:4620",
	    PROTO_ROUTE_DIRECT, V4, I, 0,
	    "203.0.113.9:4620", "198.51.100.77:40001" },
	{ "CN behind NAT, MN global: reverse, CN initiates",
	    "198.51.100.1:4620", "198.51.100.1:4620",
	    "10.0.0.5:4620", "203.0.113.50:61000",
	    PROTO_ROUTE_REVERSE, V4, R, 0,
	    "203.0.113.50:61000", "198.51.100.1:4620" },
	{ "CN behind NAT v6 (NPTv6), MN global v6: reverse",
	    "[2001:db8:1::1]:4620", "[2001:db8:1::1]:4620",
	    "[fd00::5]:4620", "[2001:db8:9::5]:50000",
	    PROTO_ROUTE_REVERSE, V6, R, 0,
	    "[2001:db8:9::5]:50000", "[2001:db8:1::1]:4620" },
	{ "same NAT: private addresses first",
	    "192.168.1.10:4620", "198.51.100.77:40001",
	    "192.168.1.11:4620", "198.51.100.77:40002",
	    PROTO_ROUTE_PRIVATE, V4, I, 0,
	    "192.168.1.11:4620", "192.168.1.10:4620" },
	{ "different NATs: hole punching with an RS",
	    "192.168.1.10:4620", "198.51.100.77:40001",
	    "10.1.1.1:4620", "203.0.113.50:61000",
	    PROTO_ROUTE_PUNCH, V4, I, 1,
	    "203.0.113.50:61000", "198.51.100.77:40001" },
	{ "different NATs behind CGNAT 100.64/10: punch",
	    "100.64.3.3:4620", "198.51.100.77:40001",
	    "100.127.1.1:4620", "203.0.113.50:61000",
	    PROTO_ROUTE_PUNCH, V4, I, 1,
	    "203.0.113.50:61000", "198.51.100.77:40001" },
	{ "IPv4-only global <-> IPv6-only global: relay",
	    "198.51.100.1:4620", "198.51.100.1:4620",
	    "[2001:db8:2::2]:4620", "[2001:db8:2::2]:4620",
	    PROTO_ROUTE_RELAY, 0, I, 1, NULL, NULL },
	{ "IPv4-only behind NAT <-> IPv6-only: relay",
	    "192.168.1.10:4620", "198.51.100.77:40001",
	    "[2001:db8:2::2]:4620", "[2001:db8:2::2]:4620",
	    PROTO_ROUTE_RELAY, 0, I, 1, NULL, NULL },
	{ "IPv6-only MN <-> IPv4-only CN behind NAT: relay",
	    "[2001:db8:1::1]:4620", "[2001:db8:1::1]:4620",
	    "10.0.0.5:4620", "203.0.113.50:61000",
	    PROTO_ROUTE_RELAY, 0, I, 1, NULL, NULL },
	{ "a ULA in the unobserved family is no path: relay",
	    "192.168.1.10:4620 [fd00::10]:4620", "198.51.100.77:40001",
	    "[2001:db8:2::2]:4620", "[2001:db8:2::2]:4620",
	    PROTO_ROUTE_RELAY, 0, I, 1, NULL, NULL },
	{ "dual-stack MN seen over v4 NAT, v6-only CN: direct over v6",
	    "192.168.1.10:4620 [2001:db8:1::10]:4620", "198.51.100.77:40001",
	    "[2001:db8:2::2]:4620", "[2001:db8:2::2]:4620",
	    PROTO_ROUTE_DIRECT, V6, I, 0,
	    "[2001:db8:2::2]:4620", "[2001:db8:1::10]:4620" },
	{ "both dual-stack behind different v4 NATs: direct v6 beats punch",
	    "192.168.1.10:4620 [2001:db8:1::10]:4620", "198.51.100.77:40001",
	    "10.1.1.1:4620 [2001:db8:2::20]:4620", "203.0.113.50:61000",
	    PROTO_ROUTE_DIRECT, V6, I, 0,
	    "[2001:db8:2::20]:4620", "[2001:db8:1::10]:4620" },
	{ "both dual-stack global, MN registered over v4: v4 wins the tie",
	    "198.51.100.1:4620 [2001:db8:1::1]:4620", "198.51.100.1:4620",
	    "203.0.113.9:4620 [2001:db8:2::2]:4620", "203.0.113.9:4620",
	    PROTO_ROUTE_DIRECT, V4, I, 0,
	    "203.0.113.9:4620", "198.51.100.1:4620" },
	{ "both dual-stack global, MN registered over v6: v6 wins the tie",
	    "198.51.100.1:4620 [2001:db8:1::1]:4620", "[2001:db8:1::1]:4620",
	    "203.0.113.9:4620 [2001:db8:2::2]:4620", "203.0.113.9:4620",
	    PROTO_ROUTE_DIRECT, V6, I, 0,
	    "[2001:db8:2::2]:4620", "[2001:db8:1::1]:4620" },
	{ "CN dual-stack behind v4 NAT with global v6, MN v6: direct v6",
	    "[2001:db8:1::1]:4620", "[2001:db8:1::1]:4620",
	    "10.0.0.5:4620 [2001:db8:2::5]:4620", "203.0.113.50:61000",
	    PROTO_ROUTE_DIRECT, V6, I, 0,
	    "[2001:db8:2::5]:4620", "[2001:db8:1::1]:4620" },
	{ "MN global v4, CN behind v4 NAT with global v6, MN v4 only: reverse",
	    "198.51.100.1:4620", "198.51.100.1:4620",
	    "10.0.0.5:4620 [2001:db8:2::5]:4620", "203.0.113.50:61000",
	    PROTO_ROUTE_REVERSE, V4, R, 0,
	    "203.0.113.50:61000", "198.51.100.1:4620" },
	{ "both behind NAT v6, different: punch over v6",
	    "[fd00::1]:4620", "[2001:db8:9::1]:40000",
	    "[fd01::2]:4620", "[2001:db8:8::2]:50000",
	    PROTO_ROUTE_PUNCH, V6, I, 1,
	    "[2001:db8:8::2]:50000", "[2001:db8:9::1]:40000" },
};

static void
test_route_table(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct route_case *c = &cases[i];
		struct route_node mn = node(c->mn_local, c->mn_obs);
		struct route_node cn = node(c->cn_local, c->cn_obs);
		struct route_decision d;
		struct msg_addr want;

		print_message("case: %s\n", c->name);
		assert_int_equal(route_decide(&mn, &cn, 0, &d), 0);
		assert_string_equal(route_name(d.route), route_name(c->route));
		assert_int_equal(d.family, c->family);
		assert_int_equal(d.mn_role, c->mn_role);
		assert_int_equal(d.relay, c->relay);
		if (d.route == PROTO_ROUTE_PUNCH ||
		    d.route == PROTO_ROUTE_PRIVATE)
			assert_int_equal(d.punch_deadline,
			    PROTO_TIMER_PUNCH_DEADLINE);
		else
			assert_int_equal(d.punch_deadline, 0);
		if (c->to_mn == NULL) {
			assert_int_equal(d.nto_mn, 0);
			assert_int_equal(d.nto_cn, 0);
			continue;
		}
		assert_true(d.nto_mn >= 1 && d.nto_cn >= 1);
		want = addr(c->to_mn);
		assert_true(route_addr_equal(&d.to_mn[0], &want));
		want = addr(c->to_cn);
		assert_true(route_addr_equal(&d.to_cn[0], &want));
	}
}

/* On the private route the NAT's public address comes after the locals. */
static void
test_private_then_public(void **state)
{
	struct route_node mn = node("192.168.1.10:4620 [fd00::1]:4620",
	    "198.51.100.77:40001");
	struct route_node cn = node("192.168.1.11:4620", "198.51.100.77:40002");
	struct route_decision d;
	struct msg_addr pub = addr("198.51.100.77:40002");

	assert_int_equal(route_decide(&mn, &cn, 700, &d), 0);
	assert_int_equal(d.route, PROTO_ROUTE_PRIVATE);
	assert_int_equal(d.punch_deadline, 700);
	assert_int_equal(d.nto_mn, 2);
	assert_true(route_addr_equal(&d.to_mn[1], &pub));
	/* CN is told only MN's addresses of the chosen family. */
	assert_int_equal(d.nto_cn, 2);
	assert_int_equal(d.to_cn[0].family, PROTO_FAMILY_IPV4);
	assert_int_equal(d.to_cn[1].family, PROTO_FAMILY_IPV4);
}

static void
test_nat_and_scope(void **state)
{
	struct route_node n = node("192.168.1.10:4620", "198.51.100.77:40001");
	struct route_node g = node("198.51.100.1:4620", "198.51.100.1:4620");
	struct route_node p = node("198.51.100.1:4620", "198.51.100.1:4621");
	struct msg_addr a;

	assert_true(route_node_behind_nat(&n));
	assert_false(route_node_behind_nat(&g));
	/* Same IP, other port: a port-translating box is a NAT too. */
	assert_true(route_node_behind_nat(&p));
	a = addr("172.16.0.1:1");
	assert_false(route_addr_global(&a));
	a = addr("172.32.0.1:1");
	assert_true(route_addr_global(&a));
	a = addr("169.254.1.1:1");
	assert_false(route_addr_global(&a));
	a = addr("[fe80::1]:1");
	assert_false(route_addr_global(&a));
	a = addr("[::1]:1");
	assert_false(route_addr_global(&a));
	a = addr("[::ffff:1.2.3.4]:1");
	assert_false(route_addr_global(&a));
	a = addr("[2001:db8::1]:1");
	assert_true(route_addr_global(&a));
}

static void
test_bad_input(void **state)
{
	struct route_node mn = node("198.51.100.1:4620", "198.51.100.1:4620");
	struct route_node cn;
	struct route_decision d;

	memset(&cn, 0, sizeof(cn));
	assert_int_equal(route_decide(&mn, &cn, 0, &d), -EINVAL);
	assert_int_equal(route_decide(&cn, &mn, 0, &d), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_table),
		cmocka_unit_test(test_private_then_public),
		cmocka_unit_test(test_nat_and_scope),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
