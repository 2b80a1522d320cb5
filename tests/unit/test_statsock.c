/* test_statsock.c -- unit tests for the stats socket's answer and the DC's counter names. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dc.h"
#include "dns.h"
#include "statsock.h"

static void
fill_two(struct statsock_out *o, void *arg)
{
	(void)arg;
	statsock_stat(o, "rx", 12);
	statsock_stat(o, "drop-aead", UINT64_MAX);
}

static void
test_lines(void **state)
{
	char buf[256];
	int n;

	(void)state;
	n = statsock_lines(fill_two, NULL, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "STAT rx 12\n"
	    "STAT drop-aead 18446744073709551615\nEND\n");
}

static void
test_too_small(void **state)
{
	char buf[16], big[64];

	(void)state;
	/* The first line fits, the second does not: no partial answer. */
	assert_int_equal(statsock_lines(fill_two, NULL, buf, sizeof(buf)),
	    -ENOSPC);
	/* Room for both lines but not END. */
	assert_int_equal(statsock_lines(fill_two, NULL, big, 11 + 37),
	    -ENOSPC);
	assert_int_equal(statsock_lines(fill_two, NULL, big, 11 + 36 + 5),
	    11 + 36 + 4);
}

static void
test_dc_names(void **state)
{
	struct dns_server srv;
	struct dc_counters c;
	char buf[8192];
	int n;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	memset(&c, 0, sizeof(c));
	srv.stats.queries = 7;
	srv.stats.rcode[DNS_RCODE_NXDOMAIN] = 2;
	srv.stats.rcode[11] = 1;	/* unnamed: shown only when sent */
	c.srv = &srv;
	n = statsock_lines(control_dc_fill, &c, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "STAT dns_queries 7\n"));
	assert_non_null(strstr(buf, "STAT dns_nxdomain 2\n"));
	assert_non_null(strstr(buf, "STAT dns_rcode_11 1\n"));
	assert_null(strstr(buf, "dns_rcode_12"));
	assert_non_null(strstr(buf, "STAT dns_refused 0\n"));
	assert_non_null(strstr(buf, "\nEND\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_dc_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
