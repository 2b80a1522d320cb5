/* test_control.c -- ntmd's control requests: one line in, the answer lines out (doc/CONTROL.md). */
#include "config.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config_table.h"
#include "control.h"
#include "ctlmsg.h"

static void
stats_cb(void *arg, struct control_reply *r)
{
	(void)arg;
	control_reply_stat(r, "state", "registered");
	control_reply_stat(r, "fqdn", "alice.dc1.ntm.test");
	control_reply_stat(r, "note", "two words");
}

/*
 * A stand-in for node/tunnelio behind the view: bob's tunnel is installed
 * until closed, carol's is still being set up.  Records the calls.
 */
struct fake_tunnels {
	bool	bob_up;
	int	calls;
	char	last[CTLMSG_NAME_MAX + 1];
};

static int
close_cb(void *arg, const char *name, struct ctlmsg *closed)
{
	struct fake_tunnels *ft = arg;

	ft->calls++;
	snprintf(ft->last, sizeof(ft->last), "%s", name);
	if (strcmp(name, "carol.dc2.ntm.test") == 0)
		return -EINPROGRESS;
	if (strcmp(name, "bob.dc2.ntm.test") != 0 || !ft->bob_up)
		return -ENOENT;
	ft->bob_up = false;
	snprintf(closed->name, sizeof(closed->name), "%s", name);
	closed->addr[0].af = AF_INET;
	inet_pton(AF_INET, "198.18.2.10", closed->addr[0].a);
	closed->addr[1].af = AF_INET6;
	inet_pton(AF_INET6, "fd6e:746d:6f62:2::a", closed->addr[1].a);
	closed->naddr = 2;
	return 0;
}

static void
tunnels_cb(void *arg, struct control_reply *r)
{
	struct fake_tunnels *ft = arg;
	struct ctlmsg m;

	if (!ft->bob_up)
		return;
	memset(&m, 0, sizeof(m));
	m.type = CTLMSG_TUNNEL;
	strcpy(m.name, "bob.dc2.ntm.test");
	strcpy(m.word, "relay");
	strcpy(m.value, "up");
	m.addr[0].af = AF_INET;
	inet_pton(AF_INET, "198.18.2.10", m.addr[0].a);
	m.naddr = 1;
	assert_int_equal(ctlmsg_opt_add(&m, "kex", "ecdhe"), 0);
	assert_int_equal(ctlmsg_opt_add_u64(&m, "packets-in", 7), 0);
	control_reply_add(r, &m);
}

/* alice in dc1, registered, with a resolver wired unless a test says not. */
static void
view_init(struct control_view *v)
{
	memset(v, 0, sizeof(*v));
	v->fqdn = "alice.dc1.ntm.test";
	v->zones[0] = "dc1.ntm.test";
	v->zones[1] = "dc2.ntm.test";
	v->nzones = 2;
	v->has_vip4 = v->has_vip6 = true;
	v->vip4.af = AF_INET;
	inet_pton(AF_INET, "198.18.1.10", v->vip4.a);
	v->vip6.af = AF_INET6;
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::a", v->vip6.a);
	assert_int_equal(config_parse_prefix("198.18.0.0/15", &v->range4, NULL,
	    0), 0);
	assert_int_equal(config_parse_prefix("fd6e:746d:6f62::/48", &v->range6,
	    NULL, 0), 0);
	v->registered = true;
	v->can_resolve = true;
	v->setup_ms = 3000;
	v->daemon_uid = 998;
	v->stats = stats_cb;
}

/* Runs one request and compares the whole answer text. */
static enum control_next
ask(const struct control_view *v, const char *line, uint32_t uid,
    const char *want)
{
	struct control_reply *r;
	enum control_next next;

	r = malloc(sizeof(*r));
	assert_non_null(r);
	/* The handler must not rely on zeroed memory. */
	memset(r, 0xa5, sizeof(*r));
	control_handle(v, line, strlen(line), uid, r);
	assert_int_equal(r->err, 0);
	r->buf[r->len] = '\0';
	assert_string_equal(r->buf, want);
	next = r->next;
	free(r);
	return next;
}

static void
test_resolve_peer_waits_for_resolver(void **state)
{
	struct control_view v;

	(void)state;
	view_init(&v);
	assert_int_equal(ask(&v, "RESOLVE bob.dc2.ntm.test any", 1000,
	    "WAIT 3000\n"), CONTROL_NEXT_RESOLVE);
	assert_int_equal(ask(&v, "REVERSE 198.18.2.10", 1000, "WAIT 3000\n"),
	    CONTROL_NEXT_RESOLVE);
}

static void
test_resolve_not_built(void **state)
{
	struct control_view v;

	(void)state;
	view_init(&v);
	v.can_resolve = false;
	assert_int_equal(ask(&v, "RESOLVE bob.dc2.ntm.test inet", 1000,
	    "UNAVAIL not-built\n"), CONTROL_NEXT_CLOSE);
	assert_int_equal(ask(&v, "REVERSE fd6e:746d:6f62:2::a", 1000,
	    "UNAVAIL not-built\n"), CONTROL_NEXT_CLOSE);
}

static void
test_foreign_names_not_in_zone(void **state)
{
	struct control_view v;

	(void)state;
	view_init(&v);
	ask(&v, "RESOLVE www.example.com any", 1000, "UNAVAIL not-in-zone\n");
	/* The parent zone itself is not a node zone. */
	ask(&v, "RESOLVE ntm.test any", 1000, "UNAVAIL not-in-zone\n");
	ask(&v, "RESOLVE dc1.ntm.test any", 1000, "UNAVAIL not-in-zone\n");
	ask(&v, "REVERSE 192.0.2.1", 1000, "UNAVAIL not-in-zone\n");
	ask(&v, "REVERSE 2001:db8::1", 1000, "UNAVAIL not-in-zone\n");
	ask(&v, "REVERSE 198.20.0.1", 1000, "UNAVAIL not-in-zone\n");
}

static void
test_own_name_and_addresses(void **state)
{
	struct control_view v;

	(void)state;
	view_init(&v);
	ask(&v, "RESOLVE alice.dc1.ntm.test any", 1000,
	    "OK alice.dc1.ntm.test 198.18.1.10 fd6e:746d:6f62:1::a\n");
	ask(&v, "RESOLVE alice.dc1.ntm.test inet6", 1000,
	    "OK alice.dc1.ntm.test fd6e:746d:6f62:1::a\n");
	ask(&v, "REVERSE 198.18.1.10", 1000,
	    "OK alice.dc1.ntm.test 198.18.1.10 fd6e:746d:6f62:1::a\n");
	v.has_vip6 = false;
	ask(&v, "RESOLVE alice.dc1.ntm.test inet6", 1000,
	    "NOTFOUND no-address\n");
}

static void
test_not_registered_and_stopping(void **state)
{
	struct control_view v;

	(void)state;
	view_init(&v);
	v.registered = false;
	ask(&v, "RESOLVE bob.dc2.ntm.test any", 1000,
	    "UNAVAIL not-registered\n");
	/* Foreign names are told apart even then. */
	ask(&v, "RESOLVE example.org any", 1000, "UNAVAIL not-in-zone\n");
	v.stopping = true;
	ask(&v, "RESOLVE bob.dc2.ntm.test any", 1000,
	    "UNAVAIL shutting-down\n");
}

static void
test_garbage_is_bad_request(void **state)
{
	static const char *bad[] = {
		"",
		"HELLO",
		"resolve bob.dc2.ntm.test any",
		"RESOLVE Bob.dc2.ntm.test any",		/* not canonical */
		"RESOLVE bob.dc2.ntm.test. any",
		"RESOLVE bob.dc2.ntm.test",
		"RESOLVE bob.dc2.ntm.test any extra",
		"RESOLVE  bob.dc2.ntm.test any",
		"RESOLVE bob.dc2.ntm.test ipx",
		"REVERSE 198.018.1.1",
		"STATUS now",
		"OK bob.dc2.ntm.test 198.18.2.10",	/* an answer verb */
		"END",
		"RESOLVE bob.dc2.ntm.test any\r",
	};
	struct control_view v;
	size_t i;

	(void)state;
	view_init(&v);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ask(&v, bad[i], 0, "ERROR bad-request\n"),
		    CONTROL_NEXT_CLOSE);
}

static void
test_status_lines(void **state)
{
	struct control_view v;

	(void)state;
	view_init(&v);
	ask(&v, "STATUS", 0, "STAT state registered\n"
	    "STAT fqdn alice.dc1.ntm.test\nSTAT note two\nEND\n");
	ask(&v, "STATUS", 998, "STAT state registered\n"
	    "STAT fqdn alice.dc1.ntm.test\nSTAT note two\nEND\n");
	ask(&v, "STATUS", 1000, "ERROR permission-denied\n");
	ask(&v, "TUNNELS", 1000, "ERROR permission-denied\n");
	/* No tunnel code yet: an empty list, not an error. */
	ask(&v, "TUNNELS", 0, "END\n");
}

static void
test_close_tunnel(void **state)
{
	struct fake_tunnels ft = { .bob_up = true };
	struct control_view v;

	(void)state;
	view_init(&v);
	v.close = close_cb;
	v.tunnels = tunnels_cb;
	v.arg = &ft;
	ask(&v, "TUNNELS", 0, "TUNNEL bob.dc2.ntm.test relay up 198.18.2.10 "
	    "kex=ecdhe packets-in=7\nEND\n");
	/* The answer is final at once, with the closed tunnel's addresses. */
	assert_int_equal(ask(&v, "CLOSE bob.dc2.ntm.test", 0,
	    "OK bob.dc2.ntm.test 198.18.2.10 fd6e:746d:6f62:2::a\n"),
	    CONTROL_NEXT_CLOSE);
	assert_int_equal(ft.calls, 1);
	assert_string_equal(ft.last, "bob.dc2.ntm.test");
	assert_false(ft.bob_up);
	ask(&v, "TUNNELS", 0, "END\n");
	ask(&v, "CLOSE bob.dc2.ntm.test", 0, "NOTFOUND no-tunnel\n");
	ask(&v, "CLOSE carol.dc2.ntm.test", 998, "NOTFOUND setting-up\n");
	/* Names ntmd never tunnels to are simply not found. */
	ask(&v, "CLOSE www.example.com", 0, "NOTFOUND no-tunnel\n");
	assert_int_equal(ft.calls, 4);
}

static void
test_close_refused(void **state)
{
	struct fake_tunnels ft = { .bob_up = true };
	struct control_view v;

	(void)state;
	view_init(&v);
	v.close = close_cb;
	v.arg = &ft;
	/* Another user may resolve, but not close. */
	ask(&v, "CLOSE bob.dc2.ntm.test", 1000, "ERROR permission-denied\n");
	ask(&v, "CLOSE Bob.dc2.ntm.test", 0, "ERROR bad-request\n");
	ask(&v, "CLOSE", 0, "ERROR bad-request\n");
	ask(&v, "CLOSE bob.dc2.ntm.test now", 0, "ERROR bad-request\n");
	v.stopping = true;
	ask(&v, "CLOSE bob.dc2.ntm.test", 0, "UNAVAIL shutting-down\n");
	assert_int_equal(ft.calls, 0);
	assert_true(ft.bob_up);
	v.stopping = false;
	v.close = NULL;
	ask(&v, "CLOSE bob.dc2.ntm.test", 0, "UNAVAIL not-built\n");
}

static void
test_every_answer_parses(void **state)
{
	static const char *reqs[] = {
		"RESOLVE bob.dc2.ntm.test any", "RESOLVE x.example any",
		"REVERSE 198.18.1.10", "STATUS", "TUNNELS", "bogus",
		"CLOSE bob.dc2.ntm.test", "CLOSE bob.dc2.ntm.test",
		"CLOSE carol.dc2.ntm.test",
	};
	struct fake_tunnels ft = { .bob_up = true };
	struct control_reply *r;
	struct control_view v;
	struct ctlmsg m;
	size_t i, off, ll;

	(void)state;
	view_init(&v);
	v.close = close_cb;
	v.tunnels = tunnels_cb;
	v.arg = &ft;
	r = malloc(sizeof(*r));
	assert_non_null(r);
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		control_handle(&v, reqs[i], strlen(reqs[i]), 0, r);
		for (off = 0; off < r->len; off += ll + 1) {
			assert_int_equal(ctlmsg_line(r->buf + off,
			    r->len - off, &ll), 0);
			assert_int_equal(ctlmsg_parse(&m, r->buf + off, ll), 0);
			assert_true(ctlmsg_is_answer(m.type));
		}
	}
	free(r);
}

/* As node/tunnelio lists them: two addresses and fifteen options each. */
static void
many_tunnels_cb(void *arg, struct control_reply *r)
{
	static const char *keys[] = { "packets-in", "packets-out",
	    "bytes-in", "bytes-out", "drops", "epoch", "age-s", "idle-s",
	    "setup-us", "route-us", "request-us", "peer-us", "finish-us" };
	struct ctlmsg m;
	size_t i, k;

	for (i = 0; i < *(size_t *)arg; i++) {
		memset(&m, 0, sizeof(m));
		m.type = CTLMSG_TUNNEL;
		snprintf(m.name, sizeof(m.name),
		    "peer-%03zu.branch-office.dc2.ntm.test", i);
		strcpy(m.word, "direct");
		strcpy(m.value, "up");
		m.addr[0].af = AF_INET;
		inet_pton(AF_INET, "198.18.2.10", m.addr[0].a);
		m.addr[1].af = AF_INET6;
		inet_pton(AF_INET6, "fd6e:746d:6f62:2::a", m.addr[1].a);
		m.naddr = 2;
		assert_int_equal(ctlmsg_opt_add(&m, "kex", "ecdhe"), 0);
		assert_int_equal(ctlmsg_opt_add(&m, "via", "direct"), 0);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			assert_int_equal(ctlmsg_opt_add_u64(&m, keys[k],
			    123456789012ULL), 0);
		control_reply_add(r, &m);
	}
}

/*
 * TUNNELS on a node with as many tunnels as node/tunnelio keeps (256):
 * every TUNNEL line and END, not UNAVAIL internal because the lines'
 * bytes outgrew the answer.
 */
static void
test_tunnels_many(void **state)
{
	size_t n = 256, off, ll, lines = 0;
	struct control_reply *r;
	struct control_view v;
	struct ctlmsg m;

	(void)state;
	view_init(&v);
	v.tunnels = many_tunnels_cb;
	v.arg = &n;
	assert_non_null(r = malloc(sizeof(*r)));
	control_handle(&v, "TUNNELS", 7, 0, r);
	assert_int_equal(r->err, 0);
	/* A realistic listing: well beyond 64 KiB. */
	assert_true(r->len > 65536);
	for (off = 0; off < r->len; off += ll + 1) {
		assert_int_equal(ctlmsg_line(r->buf + off, r->len - off, &ll),
		    0);
		assert_int_equal(ctlmsg_parse(&m, r->buf + off, ll), 0);
		lines++;
	}
	assert_int_equal(lines, n + 1);
	assert_int_equal(m.type, CTLMSG_END);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_peer_waits_for_resolver),
		cmocka_unit_test(test_resolve_not_built),
		cmocka_unit_test(test_foreign_names_not_in_zone),
		cmocka_unit_test(test_own_name_and_addresses),
		cmocka_unit_test(test_not_registered_and_stopping),
		cmocka_unit_test(test_garbage_is_bad_request),
		cmocka_unit_test(test_status_lines),
		cmocka_unit_test(test_close_tunnel),
		cmocka_unit_test(test_close_refused),
		cmocka_unit_test(test_every_answer_parses),
		cmocka_unit_test(test_tunnels_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
