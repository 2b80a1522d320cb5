/* test_loop.c -- unit tests for the libuv glue: address text, UDP sockets, signals. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "loop.h"

static void
test_addr_parse_format(void **state)
{
	static const struct {
		const char	*in;
		uint16_t	 defport;
		const char	*out;
	} ok[] = {
		{ "198.51.100.1", 4610, "198.51.100.1:4610" },
		{ "198.51.100.1:53", 4610, "198.51.100.1:53" },
		{ "198.51.100.1:0", 4610, "198.51.100.1" },
		{ "198.51.100.1", 0, "198.51.100.1" },
		{ "2001:db8::1", 4610, "[2001:db8::1]:4610" },
		{ "[2001:db8::1]", 4610, "[2001:db8::1]:4610" },
		{ "[2001:db8::1]:65535", 4610, "[2001:db8::1]:65535" },
		{ "2001:db8::1:4610", 0, "2001:db8::1:4610" },	/* 8 groups, no port */
		{ "[fd6e:746d:6f62:1::]:4620", 0, "[fd6e:746d:6f62:1::]:4620" },
		{ "::ffff:192.0.2.1", 7, "[::ffff:192.0.2.1]:7" },
		{ "[fe80::1%1]:4610", 0, "[fe80::1%lo]:4610" },
		{ "[fe80::1%lo]:4610", 0, "[fe80::1%lo]:4610" },
	};
	static const struct {
		const char	*in;
		int		 err;
	} bad[] = {
		{ "", -EINVAL },
		{ "example.net:4610", -EINVAL },
		{ "10.1", -EINVAL },
		{ "198.51.100.256", -EINVAL },
		{ "198.51.100.1:", -ERANGE },
		{ "198.51.100.1:65536", -ERANGE },
		{ "198.51.100.1:12a", -ERANGE },
		{ "198.51.100.1:-1", -ERANGE },
		{ "[2001:db8::1]4610", -EINVAL },
		{ "[2001:db8::1", -EINVAL },
		{ "[198.51.100.1]:4610", -EINVAL },
		{ "[fe80::1%]:1", -EINVAL },
		{ "[fe80::1%nosuchif0]:1", -EINVAL },
		{ "2001:db8::g", -EINVAL },
	};
	struct sockaddr_storage ss, again;
	char text[LOOP_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(loop_addr_parse(ok[i].in, ok[i].defport, 0,
		    &ss), 0);
		assert_int_equal(loop_addr_format((struct sockaddr *)&ss, text,
		    sizeof(text)), 0);
		assert_string_equal(text, ok[i].out);
		/* What format writes, parse reads back to the same address. */
		assert_int_equal(loop_addr_parse(text, 0, 0, &again), 0);
		assert_true(loop_addr_equal((struct sockaddr *)&ss,
		    (struct sockaddr *)&again));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (loop_addr_parse(bad[i].in, 1, 0, &ss) != bad[i].err)
			fail_msg("'%s' should give %d", bad[i].in, bad[i].err);
	}
	assert_int_equal(loop_addr_parse("198.51.100.1", 0, LOOP_ADDR_NEED_PORT,
	    &ss), -EDESTADDRREQ);
	assert_int_equal(loop_addr_parse("[::1]", 0, LOOP_ADDR_NEED_PORT, &ss),
	    -EDESTADDRREQ);
	assert_int_equal(loop_addr_parse("[::1]:1", 0, LOOP_ADDR_NEED_PORT,
	    &ss), 0);
	assert_int_equal(loop_addr_parse("[2001:db8::1]:4610", 0, 0, &ss), 0);
	assert_int_equal(loop_addr_format((struct sockaddr *)&ss, text, 10),
	    -ENOSPC);
	assert_int_equal(loop_addr_len((struct sockaddr *)&ss),
	    sizeof(struct sockaddr_in6));
	assert_int_equal(loop_addr_parse("[2001:db8::1]:4611", 0, 0, &again), 0);
	assert_false(loop_addr_equal((struct sockaddr *)&ss,
	    (struct sockaddr *)&again));
}

struct roundtrip {
	uv_poll_t		 pa, pb;
	uv_timer_t		 guard;
	int			 fda, fdb;
	struct sockaddr_storage	 a, b;
	int			 got_b, got_a;
};

static void
guard_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static void
b_readable(uv_poll_t *h, int status, int events)
{
	struct roundtrip *rt = h->data;
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	char buf[64];
	ssize_t n;

	n = recvfrom(rt->fdb, buf, sizeof(buf), 0, (struct sockaddr *)&from,
	    &fromlen);
	if (n == 4 && memcmp(buf, "ping", 4) == 0 &&
	    loop_addr_equal((struct sockaddr *)&from, (struct sockaddr *)&rt->a))
		rt->got_b = 1;
	sendto(rt->fdb, "pong", 4, 0, (struct sockaddr *)&from, fromlen);
	uv_poll_stop(h);
}

static void
a_readable(uv_poll_t *h, int status, int events)
{
	struct roundtrip *rt = h->data;
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	char buf[64];
	ssize_t n;

	n = recvfrom(rt->fda, buf, sizeof(buf), 0, (struct sockaddr *)&from,
	    &fromlen);
	if (n == 4 && memcmp(buf, "pong", 4) == 0 &&
	    loop_addr_equal((struct sockaddr *)&from, (struct sockaddr *)&rt->b))
		rt->got_a = 1;
	uv_poll_stop(h);
	uv_timer_stop(&rt->guard);
}

static void
roundtrip(const char *bindaddr)
{
	struct roundtrip rt;
	struct sockaddr_storage sa;
	struct loop l;
	uv_loop_t uv;
	socklen_t len;
	char text[LOOP_ADDRSTRLEN];
	int rc, v;

	memset(&rt, 0, sizeof(rt));
	assert_int_equal(loop_addr_parse(bindaddr, 0, 0, &sa), 0);
	rc = loop_udp_socket((struct sockaddr *)&sa, LOOP_UDP_REUSEADDR |
	    LOOP_UDP_PKTINFO, &rt.fda);
	if (rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT)
		skip();		/* no such loopback in this namespace */
	assert_int_equal(rc, 0);
	assert_int_equal(loop_udp_socket((struct sockaddr *)&sa, 0, &rt.fdb), 0);
	len = sizeof(rt.a);
	assert_int_equal(getsockname(rt.fda, (struct sockaddr *)&rt.a, &len), 0);
	len = sizeof(rt.b);
	assert_int_equal(getsockname(rt.fdb, (struct sockaddr *)&rt.b, &len), 0);
	assert_int_equal(loop_addr_format((struct sockaddr *)&rt.b, text,
	    sizeof(text)), 0);
	assert_true(strncmp(text, bindaddr, strlen(bindaddr) - 2) == 0);

	/* The promised socket options. */
	assert_true(fcntl(rt.fda, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(rt.fda, F_GETFD) & FD_CLOEXEC);
	len = sizeof(v);
	assert_int_equal(getsockopt(rt.fda, SOL_SOCKET, SO_REUSEADDR, &v, &len), 0);
	assert_int_equal(v, 1);
	assert_int_equal(getsockopt(rt.fdb, SOL_SOCKET, SO_REUSEADDR, &v, &len), 0);
	assert_int_equal(v, 0);
	if (sa.ss_family == AF_INET6) {
		assert_int_equal(getsockopt(rt.fda, IPPROTO_IPV6, IPV6_V6ONLY,
		    &v, &len), 0);
		assert_int_equal(v, 1);
		assert_int_equal(getsockopt(rt.fda, IPPROTO_IPV6,
		    IPV6_RECVPKTINFO, &v, &len), 0);
	} else
		assert_int_equal(getsockopt(rt.fda, IPPROTO_IP, IP_PKTINFO,
		    &v, &len), 0);
	assert_int_equal(v, 1);

	assert_int_equal(uv_loop_init(&uv), 0);
	assert_int_equal(loop_init(&l, &uv, NULL, NULL, NULL), 0);
	assert_int_equal(uv_poll_init(&uv, &rt.pa, rt.fda), 0);
	assert_int_equal(uv_poll_init(&uv, &rt.pb, rt.fdb), 0);
	assert_int_equal(uv_timer_init(&uv, &rt.guard), 0);
	rt.pa.data = rt.pb.data = &rt;
	assert_int_equal(uv_poll_start(&rt.pa, UV_READABLE, a_readable), 0);
	assert_int_equal(uv_poll_start(&rt.pb, UV_READABLE, b_readable), 0);
	assert_int_equal(uv_timer_start(&rt.guard, guard_cb, 5000, 0), 0);
	assert_int_equal(sendto(rt.fda, "ping", 4, 0, (struct sockaddr *)&rt.b,
	    loop_addr_len((struct sockaddr *)&rt.b)), 4);
	/* Runs until both polls and the guard stopped: no active handles. */
	assert_int_equal(loop_run(&l), 0);
	assert_int_equal(rt.got_b, 1);
	assert_int_equal(rt.got_a, 1);
	/* Polls, timer and signals are still open: shutdown closes them all. */
	assert_int_equal(loop_shutdown(&l), 0);
	close(rt.fda);
	close(rt.fdb);
}

static void
test_udp_roundtrip_v4(void **state)
{
	roundtrip("127.0.0.1:0");
}

static void
test_udp_roundtrip_v6(void **state)
{
	roundtrip("[::1]:0");
}

static void
test_udp_bind_conflict(void **state)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	int fd, fd2;

	assert_int_equal(loop_addr_parse("127.0.0.1:0", 0, 0, &sa), 0);
	assert_int_equal(loop_udp_socket((struct sockaddr *)&sa, 0, &fd), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(loop_udp_socket((struct sockaddr *)&sa, 0, &fd2),
	    -EADDRINUSE);
	close(fd);
}

struct sigtest {
	struct loop	l;
	uv_timer_t	tick;
	int		ticks, reloads, stops;
	int		script[4];	/* signal to raise at tick i, 0: none */
};

static void
tick_cb(uv_timer_t *t)
{
	struct sigtest *st = t->data;

	if (st->ticks < 4 && st->script[st->ticks] != 0)
		kill(getpid(), st->script[st->ticks]);
	st->ticks++;
	if (st->ticks > 50)
		uv_stop(t->loop);	/* guard: signals never came */
}

static void
on_reload(struct loop *l, void *arg)
{
	struct sigtest *st = arg;

	st->reloads++;
}

static void
on_stop_graceful(struct loop *l, void *arg)
{
	struct sigtest *st = arg;

	st->stops++;
}

static void
on_stop_now(struct loop *l, void *arg)
{
	struct sigtest *st = arg;

	st->stops++;
	loop_stop(l);		/* graceful shutdown done at once */
}

static void
sigtest_run(struct sigtest *st, loop_cb on_stop, int expect_signal)
{
	uv_loop_t uv;

	assert_int_equal(uv_loop_init(&uv), 0);
	assert_int_equal(loop_init(&st->l, &uv, on_reload, on_stop, st), 0);
	assert_int_equal(uv_timer_init(&uv, &st->tick), 0);
	st->tick.data = st;
	assert_int_equal(uv_timer_start(&st->tick, tick_cb, 5, 5), 0);
	assert_int_equal(loop_run(&st->l), expect_signal);
	/* The timer is still active: shutdown must close it too. */
	assert_int_equal(loop_shutdown(&st->l), 0);
}

static void
test_signals(void **state)
{
	struct sigtest st;

	/* SIGHUP reloads and the loop goes on; SIGTERM stops it. */
	memset(&st, 0, sizeof(st));
	st.script[0] = SIGHUP;
	st.script[1] = SIGHUP;
	st.script[2] = SIGTERM;
	sigtest_run(&st, NULL, SIGTERM);
	assert_int_equal(st.reloads, 2);
	assert_true(st.ticks >= 3 && st.ticks < 50);

	/* With on_stop, SIGINT asks for a graceful stop; a second one forces. */
	memset(&st, 0, sizeof(st));
	st.script[0] = SIGINT;
	st.script[2] = SIGINT;
	sigtest_run(&st, on_stop_graceful, SIGINT);
	assert_int_equal(st.stops, 1);
	assert_true(st.ticks >= 3 && st.ticks < 50);
	assert_int_equal(st.reloads, 0);

	/* The daemon's on_stop finishes and calls loop_stop(). */
	memset(&st, 0, sizeof(st));
	st.script[1] = SIGTERM;
	sigtest_run(&st, on_stop_now, SIGTERM);
	assert_int_equal(st.stops, 1);
	assert_true(st.ticks >= 2 && st.ticks < 50);
}

static void
test_signals_do_not_keep_loop_alive(void **state)
{
	struct loop l;
	uv_loop_t uv;

	assert_int_equal(uv_loop_init(&uv), 0);
	assert_int_equal(loop_init(&l, &uv, on_reload, NULL, NULL), 0);
	/* Nothing but the signal watchers: run returns at once. */
	assert_int_equal(loop_run(&l), 0);
	assert_int_equal(loop_shutdown(&l), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse_format),
		cmocka_unit_test(test_udp_roundtrip_v4),
		cmocka_unit_test(test_udp_roundtrip_v6),
		cmocka_unit_test(test_udp_bind_conflict),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_signals_do_not_keep_loop_alive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
