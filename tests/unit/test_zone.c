/* test_zone.c -- unit tests for the DC zone: zone file loading, node records, PTRs, serials, the name table. */
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
#include <cmocka.h>

#include "buf.h"
#include "zone.h"

static const char zone_text[] =
    "$ORIGIN dc1.ntm.test.\n"
    "$TTL 3600\n"
    "@ IN SOA ns1 hostmaster 100 7200 900 1209600 300\n"
    "  IN NS ns1\n"
    "ns1 IN A 198.18.1.1\n"
    "deep.a.b IN TXT \"x\"\n"
    "sub IN NS ns.sub\n"
    "ns.sub IN A 198.18.1.53\n";

static char *
write_tmp(const char *text)
{
	char *path = strdup("/tmp/test_zone.XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void
config_for(struct zone_config *c, const char *file)
{
	memset(c, 0, sizeof(*c));
	c->origin = "dc1.ntm.test";
	c->file = file;
	c->have4 = c->have6 = true;
	inet_pton(AF_INET, "198.18.1.0", &c->prefix4);
	c->prefix4_len = 24;
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::", &c->prefix6);
	c->prefix6_len = 64;
	c->node_ttl = 60;
}

static struct zone *
load(const char *text)
{
	struct zone_config c;
	struct zone *z = NULL;
	char err[1024], *path = write_tmp(text);

	config_for(&c, path);
	assert_int_equal(zone_new(&c, &z, err, sizeof(err)), 0);
	unlink(path);
	free(path);
	return z;
}

/* Lower-case wire form of a text name. */
static size_t
wire(const char *text, uint8_t *out)
{
	size_t o = 0;
	const char *p = text;

	while (*p != '\0') {
		size_t n = strcspn(p, ".");

		out[o++] = (uint8_t)n;
		memcpy(out + o, p, n);
		o += n;
		p += n;
		if (*p == '.')
			p++;
	}
	out[o++] = 0;
	return o;
}

static const struct zone_rrset *
rrset(struct zone *z, const char *name, uint16_t type)
{
	uint8_t w[256];
	size_t n = wire(name, w);
	struct zone_entry *e = zone_lookup(z, w, n);

	return e == NULL ? NULL : zone_entry_rrset(e, type);
}

static void
test_load_file(void **state)
{
	struct zone *z = load(zone_text);
	const struct zone_rrset *rs;
	uint8_t w[256];
	size_t n, off;

	assert_int_equal(zone_serial(z), 100);
	assert_int_equal(zone_apex_count(z), 3);
	rs = rrset(z, "ns1.dc1.ntm.test", 1);
	assert_non_null(rs);
	assert_int_equal(rs->count, 1);
	/* C0 0C, type A, class IN, ttl 3600, rdlen 4, 198.18.1.1 */
	assert_int_equal(rs->len, 16);
	assert_int_equal(rs->wire[0], 0xc0);
	assert_int_equal(rs->wire[1], 12);
	assert_int_equal(load_be32(rs->wire + 6), 3600);
	assert_int_equal(rs->wire[12], 198);
	assert_int_equal(rs->wire[15], 1);
	/* apex NS has the in-zone glue */
	rs = rrset(z, "dc1.ntm.test", 2);
	assert_non_null(rs);
	assert_int_equal(rs->gluecount, 1);
	/* empty non-terminal exists, delegation and glue are marked */
	n = wire("a.b.dc1.ntm.test", w);
	assert_non_null(zone_lookup(z, w, n));
	assert_int_equal(zone_lookup(z, w, n)->nrrsets, 0);
	n = wire("ns.sub.dc1.ntm.test", w);
	assert_true(zone_lookup(z, w, n)->flags & ZONE_ENTRY_OCCLUDED);
	n = wire("x.y.sub.dc1.ntm.test", w);
	assert_non_null(zone_find_cut(z, w, n));
	/* reverse apexes share the SOA */
	n = wire("1.18.198.in-addr.arpa", w);
	assert_int_equal(zone_find_apex(z, w, n, &off), 1);
	assert_int_equal(off, 0);
	assert_non_null(rrset(z, "1.18.198.in-addr.arpa", 6));
	n = wire("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.2.6.f.6.d.6.4.7.e.6"
	    ".d.f.ip6.arpa", w);
	assert_int_equal(zone_find_apex(z, w, n, &off), 2);
	assert_int_equal(off, 32);
	n = wire("example.com", w);
	assert_int_equal(zone_find_apex(z, w, n, &off), -1);
	zone_free(z);
}

static void
test_load_errors(void **state)
{
	struct zone_config c;
	struct zone *z = NULL;
	char err[2048], *path;

	path = write_tmp("$ORIGIN dc1.ntm.test.\n"
	    "@ 3600 IN SOA ns1 hm 1 2 3 4 5\n"
	    "www 3600 IN A not-an-address\n"
	    "other.example. 3600 IN A 192.0.2.1\n");
	config_for(&c, path);
	assert_int_equal(zone_new(&c, &z, err, sizeof(err)), -EINVAL);
	assert_null(z);
	/* file:line: message, for the bad record on line 3 */
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ":3: "));
	unlink(path);
	free(path);

	path = write_tmp("$ORIGIN dc1.ntm.test.\n"
	    "@ 3600 IN SOA ns1 hm 1 2 3 4 5\n"
	    "other.example. 3600 IN A 192.0.2.1\n");
	config_for(&c, path);
	assert_int_equal(zone_new(&c, &z, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "other.example. is outside the zone"));
	unlink(path);
	free(path);

	path = write_tmp("$ORIGIN dc1.ntm.test.\nwww 3600 IN A 192.0.2.1\n");
	config_for(&c, path);
	assert_int_equal(zone_new(&c, &z, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no SOA"));
	unlink(path);
	free(path);

	config_for(&c, "/nonexistent/zone");
	assert_int_equal(zone_new(&c, &z, err, sizeof(err)), -ENOENT);
}

static void
test_node_set_and_remove(void **state)
{
	struct zone *z = load(zone_text);
	const struct zone_rrset *rs;
	uint64_t d0 = zone_digest(z);

	assert_int_equal(zone_node_set(z, "Alice.DC1.ntm.test.", "198.18.1.10",
	    "fd6e:746d:6f62:1::10"), 0);
	assert_int_equal(zone_serial(z), 101);
	assert_int_equal(zone_node_count(z), 1);
	rs = rrset(z, "alice.dc1.ntm.test", 1);
	assert_non_null(rs);
	assert_int_equal(load_be32(rs->wire + 6), 60);	/* node TTL */
	assert_int_equal(rs->wire[15], 10);
	assert_non_null(rrset(z, "alice.dc1.ntm.test", 28));
	rs = rrset(z, "10.1.18.198.in-addr.arpa", 12);
	assert_non_null(rs);
	assert_memory_equal(rs->wire + 12, "\5alice\3dc1\3ntm\4test", 20);
	assert_non_null(rrset(z, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.2.6.f"
	    ".6.d.6.4.7.e.6.d.f.ip6.arpa", 12));
	assert_true(zone_digest(z) != d0);

	/* the same again changes nothing, not even the serial */
	assert_int_equal(zone_node_set(z, "alice.dc1.ntm.test", "198.18.1.10",
	    "fd6e:746d:6f62:1::10"), 0);
	assert_int_equal(zone_serial(z), 101);

	/* a new address moves the PTR */
	assert_int_equal(zone_node_set(z, "alice.dc1.ntm.test", "198.18.1.11",
	    "fd6e:746d:6f62:1::10"), 0);
	assert_int_equal(zone_serial(z), 102);
	assert_null(rrset(z, "10.1.18.198.in-addr.arpa", 12));
	assert_non_null(rrset(z, "11.1.18.198.in-addr.arpa", 12));

	/* refusals */
	assert_int_equal(zone_node_set(z, "bob.dc1.ntm.test", "198.18.1.11",
	    "fd6e:746d:6f62:1::20"), -EEXIST);		/* alice's vip4 */
	assert_int_equal(zone_node_set(z, "bob.dc1.ntm.test", "198.18.2.11",
	    "fd6e:746d:6f62:1::20"), -EINVAL);		/* not our prefix */
	assert_int_equal(zone_node_set(z, "bob.x.dc1.ntm.test", "198.18.1.12",
	    "fd6e:746d:6f62:1::20"), -EINVAL);		/* two labels down */
	assert_int_equal(zone_node_set(z, "bob.dc2.ntm.test", "198.18.1.12",
	    "fd6e:746d:6f62:1::20"), -EINVAL);		/* other zone */
	assert_int_equal(zone_node_set(z, "b_b.dc1.ntm.test", "198.18.1.12",
	    "fd6e:746d:6f62:1::20"), -EINVAL);		/* not LDH */
	assert_int_equal(zone_node_set(z, "ns1.dc1.ntm.test", "198.18.1.12",
	    "fd6e:746d:6f62:1::20"), -EEXIST);		/* static name */
	assert_int_equal(zone_node_set(z, "sub.dc1.ntm.test", "198.18.1.12",
	    "fd6e:746d:6f62:1::20"), -EEXIST);		/* delegation */
	assert_int_equal(zone_serial(z), 102);

	assert_int_equal(zone_node_remove(z, "alice.dc1.ntm.test"), 0);
	assert_int_equal(zone_serial(z), 103);
	assert_int_equal(zone_node_count(z), 0);
	assert_null(rrset(z, "alice.dc1.ntm.test", 1));
	assert_null(rrset(z, "11.1.18.198.in-addr.arpa", 12));
	assert_int_equal(zone_digest(z), d0);
	assert_int_equal(zone_node_remove(z, "alice.dc1.ntm.test"), -ENOENT);
	assert_int_equal(zone_node_remove(z, "ns1.dc1.ntm.test"), -ENOENT);
	zone_free(z);
}

static void
test_serial_patches_soa(void **state)
{
	struct zone *z = load(zone_text);
	const struct zone_rrset *soa = rrset(z, "dc1.ntm.test", 6);
	const struct zone_rrset *rsoa = rrset(z, "1.18.198.in-addr.arpa", 6);
	const struct zone_apex *a = zone_apex_get(z, 0);

	zone_set_serial(z, 0xfffffffe);
	assert_int_equal(load_be32(soa->wire + soa->len - 20), 0xfffffffe);
	assert_int_equal(load_be32(rsoa->wire + rsoa->len - 20), 0xfffffffe);
	assert_int_equal(load_be32(a->soa_neg.wire + a->soa_neg.len - 20),
	    0xfffffffe);
	/* negative-answer SOA carries the SOA minimum as TTL */
	assert_int_equal(load_be32(a->soa_neg.wire + 6), 300);
	/* serial arithmetic wraps past zero (and skips it) */
	assert_int_equal(zone_node_set(z, "a.dc1.ntm.test", "198.18.1.2",
	    NULL), 0);
	assert_int_equal(zone_serial(z), 0xffffffff);
	assert_int_equal(zone_node_set(z, "b.dc1.ntm.test", "198.18.1.3",
	    NULL), 0);
	assert_int_equal(zone_serial(z), 1);
	zone_free(z);
}

enum { MANY_NODES = 20000 };

static void
many_name(unsigned i, char *name, char *v4, char *v6)
{
	unsigned a = i + 2;

	sprintf(name, "n%05u.dc1.ntm.test", i);
	sprintf(v4, "198.%u.%u.%u", 18 + a / 65536, (a / 256) % 256, a % 256);
	sprintf(v6, "fd6e:746d:6f62:1::%x:%x", a / 65536, a % 65536);
}

static struct zone *
load_wide(void)
{
	struct zone_config c;
	struct zone *z = NULL;
	char err[1024], *path = write_tmp(zone_text);

	config_for(&c, path);
	inet_pton(AF_INET, "198.0.0.0", &c.prefix4);
	c.prefix4_len = 8;
	assert_int_equal(zone_new(&c, &z, err, sizeof(err)), 0);
	unlink(path);
	free(path);
	return z;
}

/*
 * The name table through growth and removals in a scrambled order: every
 * name left is still found with its data, every name removed (and its
 * reverse-tree ancestors left empty) is gone, and the table holds exactly
 * what a zone built from the survivors alone holds.
 */
static void
test_many_nodes(void **state)
{
	struct zone *z = load_wide(), *ref = load_wide();
	char name[64], v4[32], v6[64], ptr[64];
	const struct zone_rrset *rs;
	uint64_t d0 = zone_digest(z);
	unsigned i, k, *order;

	assert_non_null(order = calloc(MANY_NODES, sizeof(*order)));
	for (i = 0; i < MANY_NODES; i++) {
		many_name(i, name, v4, v6);
		assert_int_equal(zone_node_set(z, name, v4, v6), 0);
		if (i % 3 == 0)
			assert_int_equal(zone_node_set(ref, name, v4, v6), 0);
		order[i] = i;
	}
	assert_int_equal(zone_node_count(z), MANY_NODES);
	/* Fisher-Yates with a fixed LCG: the same scramble every run. */
	for (i = MANY_NODES - 1, k = 12345; i > 0; i--) {
		unsigned j, t;

		k = k * 1103515245u + 12345u;
		j = (k >> 8) % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < MANY_NODES; i++) {
		if (order[i] % 3 == 0)
			continue;
		many_name(order[i], name, v4, v6);
		assert_int_equal(zone_node_remove(z, name), 0);
	}
	assert_int_equal(zone_node_count(z), (MANY_NODES + 2) / 3);
	for (i = 0; i < MANY_NODES; i++) {
		unsigned a = i + 2;

		many_name(i, name, v4, v6);
		sprintf(ptr, "%u.%u.%u.198.in-addr.arpa", a % 256,
		    (a / 256) % 256, 18 + a / 65536);
		rs = rrset(z, name, 1);
		if (i % 3 != 0) {
			assert_null(rs);
			assert_null(rrset(z, name, 28));
			assert_null(rrset(z, ptr, 12));
			continue;
		}
		assert_non_null(rs);
		assert_int_equal(rs->wire[14], (a / 256) % 256);
		assert_int_equal(rs->wire[15], a % 256);
		assert_non_null(rrset(z, name, 28));
		assert_non_null(rrset(z, ptr, 12));
	}
	assert_int_equal(zone_digest(z), zone_digest(ref));
	for (i = 0; i < MANY_NODES; i += 3) {
		many_name(i, name, v4, v6);
		assert_int_equal(zone_node_remove(z, name), 0);
	}
	assert_int_equal(zone_digest(z), d0);
	{
		uint8_t w[256];
		size_t n = wire("18.198.in-addr.arpa", w);

		assert_null(zone_lookup(z, w, n));	/* empty, so gone */
		n = wire("198.in-addr.arpa", w);
		assert_non_null(zone_lookup(z, w, n));	/* the apex stays */
	}
	free(order);
	zone_free(ref);
	zone_free(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_node_set_and_remove),
		cmocka_unit_test(test_serial_patches_soa),
		cmocka_unit_test(test_many_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
