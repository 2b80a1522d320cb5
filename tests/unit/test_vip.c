/* test_vip.c -- unit tests: the DC's virtual-IP assignment (dc/vip) against a real DC database. */
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
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "db.h"
#include "vip.h"

#define NOW	((time_t)1795000000)
#define ZONE	"dc1.ntm.test"

struct fix {
	char		 path[64];
	struct db	*db;
	sqlite3		*h;
	struct vip_config c;
};

static void
fix_prefixes(struct vip_config *c, const char *p4, unsigned l4,
    const char *p6, unsigned l6)
{
	memset(c, 0, sizeof(*c));
	c->zone = ZONE;
	c->have4 = c->have6 = true;
	assert_int_equal(inet_pton(AF_INET, p4, &c->prefix4), 1);
	assert_int_equal(inet_pton(AF_INET6, p6, &c->prefix6), 1);
	c->prefix4_len = l4;
	c->prefix6_len = l6;
}

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	int fd;

	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "/tmp/test_vip.XXXXXX");
	assert_true((fd = mkstemp(f->path)) >= 0);
	close(fd);
	assert_int_equal(db_open(f->path, &schema_dc, &f->db), 0);
	f->h = db_handle(f->db);
	fix_prefixes(&f->c, "198.18.1.0", 24, "fd6e:746d:6f62:1::", 64);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	char wal[80];

	db_close(f->db);
	unlink(f->path);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", f->path);
	unlink(wal);
	free(f);
	return 0;
}

static void
assign_text(struct fix *f, const char *fqdn, char *t4, char *t6)
{
	struct in_addr v4;
	struct in6_addr v6;

	assert_int_equal(vip_assign(f->h, &f->c, fqdn, NOW, &v4, &v6), 0);
	inet_ntop(AF_INET, &v4, t4, VIP_TEXT_MAX);
	inet_ntop(AF_INET6, &v6, t6, VIP_TEXT_MAX);
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(vip_name_in_zone(ZONE, "alice.dc1.ntm.test"));
	assert_true(vip_name_in_zone(ZONE, "a-1.dc1.ntm.test"));
	assert_false(vip_name_in_zone(ZONE, "dc1.ntm.test"));
	assert_false(vip_name_in_zone(ZONE, ".dc1.ntm.test"));
	assert_false(vip_name_in_zone(ZONE, "a.b.dc1.ntm.test"));
	assert_false(vip_name_in_zone(ZONE, "bob.dc2.ntm.test"));
	assert_false(vip_name_in_zone(ZONE, "bobdc1.ntm.test"));
	assert_false(vip_name_in_zone(ZONE, "-a.dc1.ntm.test"));
	assert_false(vip_name_in_zone(ZONE, "a_b.dc1.ntm.test"));
	assert_false(vip_name_in_zone(ZONE, "Alice.dc1.ntm.test"));
}

/* Network, broadcast and the DC's own address are never handed out. */
static void
test_index(void **state)
{
	struct fix *f = *state;
	struct sockaddr_in own;
	struct in_addr v4;
	struct in6_addr v6;
	char t[VIP_TEXT_MAX];

	assert_false(vip_index_usable(&f->c, 0, &v4, &v6));
	assert_true(vip_index_usable(&f->c, 1, &v4, &v6));
	inet_ntop(AF_INET, &v4, t, sizeof(t));
	assert_string_equal(t, "198.18.1.1");
	inet_ntop(AF_INET6, &v6, t, sizeof(t));
	assert_string_equal(t, "fd6e:746d:6f62:1::1");
	assert_true(vip_index_usable(&f->c, 254, &v4, &v6));
	assert_false(vip_index_usable(&f->c, 255, &v4, &v6));
	assert_false(vip_index_usable(&f->c, 256, &v4, &v6));

	memset(&own, 0, sizeof(own));
	own.sin_family = AF_INET;
	inet_pton(AF_INET, "198.18.1.1", &own.sin_addr);
	assert_int_equal(vip_config_own(&f->c, (struct sockaddr *)&own), 0);
	inet_pton(AF_INET, "192.0.2.1", &own.sin_addr);	/* outside: ignored */
	assert_int_equal(vip_config_own(&f->c, (struct sockaddr *)&own), 0);
	assert_int_equal(f->c.nown4, 1);
	assert_false(vip_index_usable(&f->c, 1, &v4, &v6));
	assert_true(vip_index_usable(&f->c, 2, &v4, &v6));
}

/* Lowest free pair, the same one again for the same name, after a restart. */
static void
test_stable(void **state)
{
	struct fix *f = *state;
	char a4[VIP_TEXT_MAX], a6[VIP_TEXT_MAX], b4[VIP_TEXT_MAX],
	    b6[VIP_TEXT_MAX];

	assign_text(f, "alice.dc1.ntm.test", a4, a6);
	assert_string_equal(a4, "198.18.1.1");
	assert_string_equal(a6, "fd6e:746d:6f62:1::1");
	assign_text(f, "bob.dc1.ntm.test", b4, b6);
	assert_string_equal(b4, "198.18.1.2");
	assert_string_equal(b6, "fd6e:746d:6f62:1::2");
	assign_text(f, "alice.dc1.ntm.test", a4, a6);
	assert_string_equal(a4, "198.18.1.1");

	/* Another connection (a restarted DC) sees the same assignments. */
	db_close(f->db);
	assert_int_equal(db_open(f->path, &schema_dc, &f->db), 0);
	f->h = db_handle(f->db);
	assign_text(f, "bob.dc1.ntm.test", b4, b6);
	assert_string_equal(b4, "198.18.1.2");
	assign_text(f, "carol.dc1.ntm.test", b4, b6);
	assert_string_equal(b4, "198.18.1.3");
}

/*
 * Addresses in nodes (certificates the AS issued from its pool) are not
 * given to another name; a node already there keeps its own pair; a pair
 * a NOTICE_ISSUED gave to another name is replaced.
 */
static void
test_nodes(void **state)
{
	struct fix *f = *state;
	char t4[VIP_TEXT_MAX], t6[VIP_TEXT_MAX];

	assert_int_equal(sqlite3_exec(f->h, "INSERT INTO nodes (fqdn, vip4, "
	    "vip6, created) VALUES ('dave.dc1.ntm.test', '198.18.1.1', "
	    "'fd6e:746d:6f62:1::1', 1), ('erin.dc1.ntm.test', '198.18.1.9', "
	    "'fd6e:746d:6f62:1::9', 1)", NULL, NULL, NULL), SQLITE_OK);
	assign_text(f, "alice.dc1.ntm.test", t4, t6);
	assert_string_equal(t4, "198.18.1.2");
	assign_text(f, "erin.dc1.ntm.test", t4, t6);
	assert_string_equal(t4, "198.18.1.9");
	assert_string_equal(t6, "fd6e:746d:6f62:1::9");

	/* alice's pair now certified to frank: alice gets a new one. */
	assert_int_equal(sqlite3_exec(f->h, "INSERT INTO nodes (fqdn, vip4, "
	    "vip6, created) VALUES ('frank.dc1.ntm.test', '198.18.1.3', "
	    "'fd6e:746d:6f62:1::2', 1)", NULL, NULL, NULL), SQLITE_OK);
	assign_text(f, "alice.dc1.ntm.test", t4, t6);
	assert_string_equal(t4, "198.18.1.4");
	assert_string_equal(t6, "fd6e:746d:6f62:1::4");
}

static void
test_refusals(void **state)
{
	struct fix *f = *state;
	struct in_addr v4;
	struct in6_addr v6;
	char name[64];
	int i;

	assert_int_equal(vip_assign(f->h, &f->c, "bob.dc2.ntm.test", NOW, &v4,
	    &v6), -ENOENT);
	assert_int_equal(vip_assign(f->h, &f->c, "x.y.dc1.ntm.test", NOW, &v4,
	    &v6), -ENOENT);
	f->c.have6 = false;
	assert_int_equal(vip_assign(f->h, &f->c, "alice.dc1.ntm.test", NOW,
	    &v4, &v6), -EINVAL);

	/* A /29: hosts 1..6; the seventh name finds none. */
	fix_prefixes(&f->c, "198.18.1.8", 29, "fd6e:746d:6f62:1::", 64);
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "n%d.dc1.ntm.test", i);
		assert_int_equal(vip_assign(f->h, &f->c, name, NOW, &v4, &v6),
		    0);
		assert_int_equal(((uint8_t *)&v4)[3], 9 + i);
	}
	assert_int_equal(vip_assign(f->h, &f->c, "n6.dc1.ntm.test", NOW, &v4,
	    &v6), -EADDRINUSE);
	/* The ones already there still get theirs. */
	assert_int_equal(vip_assign(f->h, &f->c, "n0.dc1.ntm.test", NOW, &v4,
	    &v6), 0);
	assert_int_equal(((uint8_t *)&v4)[3], 9);
}

/* A stored pair outside the prefixes (they were changed) is replaced. */
static void
test_moved_prefix(void **state)
{
	struct fix *f = *state;
	char t4[VIP_TEXT_MAX], t6[VIP_TEXT_MAX];

	assign_text(f, "alice.dc1.ntm.test", t4, t6);
	assert_string_equal(t4, "198.18.1.1");
	fix_prefixes(&f->c, "198.18.3.0", 24, "fd6e:746d:6f62:3::", 64);
	assign_text(f, "alice.dc1.ntm.test", t4, t6);
	assert_string_equal(t4, "198.18.3.1");
	assert_string_equal(t6, "fd6e:746d:6f62:3::1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_moved_prefix, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
