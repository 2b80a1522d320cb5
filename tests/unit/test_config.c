/* test_config.c -- unit tests for the config loader, value parsers, private-file check. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config_table.h"
#include "loop.h"
#include "testtable.h"

static void
test_duration(void **state)
{
	static const struct {
		const char	*in;
		uint64_t	 ms;
		const char	*canon;
	} ok[] = {
		{ "250ms", 250, "250ms" },
		{ "25s", 25000, "25s" },
		{ "10m", 600000, "10m" },
		{ "1h", 3600000, "1h" },
		{ "1m30s", 90000, "90s" },
		{ "1h30m", 5400000, "90m" },
		{ "1500ms", 1500, "1500ms" },
		{ "0s", 0, "0s" },
		{ "120s", 120000, "2m" },
	};
	static const char *const bad[] = { "", "25", "s", "10 s", "1d", "5sec",
	    "-1s", "1.5s", "1ms5", "10mss" };
	char why[256], buf[32];
	uint64_t ms;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(config_parse_duration(ok[i].in, &ms, why,
		    sizeof(why)), 0);
		assert_true(ms == ok[i].ms);
		config_format_duration(ms, buf, sizeof(buf));
		assert_string_equal(buf, ok[i].canon);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (config_parse_duration(bad[i], &ms, why, sizeof(why)) !=
		    -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(config_parse_duration("25", &ms, why, sizeof(why)),
	    -EINVAL);
	assert_string_equal(why, "invalid duration '25': missing unit after 25 "
	    "(use ms, s, m or h)");
	assert_int_equal(config_parse_duration("99999999999999999999ms", &ms,
	    why, sizeof(why)), -ERANGE);
	assert_int_equal(config_parse_duration("9999999999999999h", &ms, why,
	    sizeof(why)), -ERANGE);
}

static void
test_bool_int(void **state)
{
	int64_t v;
	bool b;

	assert_int_equal(config_parse_bool("YES", &b), 0);
	assert_true(b);
	assert_int_equal(config_parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(config_parse_bool("2", &b), -EINVAL);
	assert_int_equal(config_parse_int("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(config_parse_int("11", -10, 10, &v), -ERANGE);
	assert_int_equal(config_parse_int(" 1", -10, 10, &v), -EINVAL);
	assert_int_equal(config_parse_int("+1", -10, 10, &v), -EINVAL);
	assert_int_equal(config_parse_int("1k", -10, 10, &v), -EINVAL);
	assert_int_equal(config_parse_int("99999999999999999999", INT64_MIN,
	    INT64_MAX, &v), -ERANGE);
}

static void
test_prefix(void **state)
{
	struct config_prefix p;
	struct sockaddr_storage ss;
	char why[256];

	assert_int_equal(config_parse_prefix("198.18.0.0/15", &p, why,
	    sizeof(why)), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 15);
	assert_int_equal(loop_addr_parse("198.19.255.255", 0, 0, &ss), 0);
	assert_true(config_prefix_contains(&p, (struct sockaddr *)&ss));
	assert_int_equal(loop_addr_parse("198.20.0.1", 0, 0, &ss), 0);
	assert_false(config_prefix_contains(&p, (struct sockaddr *)&ss));
	assert_int_equal(loop_addr_parse("::ffff:198.18.0.1", 0, 0, &ss), 0);
	assert_false(config_prefix_contains(&p, (struct sockaddr *)&ss));

	assert_int_equal(config_parse_prefix("fd6e:746d:6f62:1::/64", &p, why,
	    sizeof(why)), 0);
	assert_int_equal(loop_addr_parse("fd6e:746d:6f62:1::99", 0, 0, &ss), 0);
	assert_true(config_prefix_contains(&p, (struct sockaddr *)&ss));
	assert_int_equal(loop_addr_parse("fd6e:746d:6f62:2::1", 0, 0, &ss), 0);
	assert_false(config_prefix_contains(&p, (struct sockaddr *)&ss));

	assert_int_equal(config_parse_prefix("198.18.1.5/24", &p, why,
	    sizeof(why)), -EINVAL);
	assert_string_equal(why, "prefix '198.18.1.5/24' has host bits set "
	    "(did you mean 198.18.1.0/24?)");
	assert_int_equal(config_parse_prefix("198.18.1.0", &p, why,
	    sizeof(why)), -EINVAL);
	assert_int_equal(config_parse_prefix("198.18.1.0/33", &p, why,
	    sizeof(why)), -EINVAL);
	assert_int_equal(config_parse_prefix("::/129", &p, why, sizeof(why)),
	    -EINVAL);
	assert_int_equal(config_parse_prefix("::/", &p, why, sizeof(why)),
	    -EINVAL);
	assert_int_equal(config_parse_prefix("x/8", &p, why, sizeof(why)),
	    -EINVAL);
	assert_int_equal(config_parse_prefix("::/0", &p, why, sizeof(why)), 0);
	assert_true(config_prefix_contains(&p, (struct sockaddr *)&ss));
}

static const char valid[] =
    "[server]\n"
    "name = dc1.ntm.test\n"
    "foreground = on\n"
    "log = warn\n"
    "keepalive = 2m\n"
    "listen = [::1]\n"
    "upstream = 192.0.2.9:4611\n"
    "prefix4 = 198.18.1.0/24\n"
    "[peer]\n"
    "allow = a, b\n"
    "allow = c\n";

static void
test_load_values(void **state)
{
	struct testconf c;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c.listen;
	struct sockaddr_in *sin = (struct sockaddr_in *)&c.upstream;
	char *errors = NULL;

	memset(&c, 0xa5, sizeof(c));	/* the loader must not trust it */
	assert_int_equal(config_load_string(testconf_table, &c, "t.conf", valid,
	    &errors), 0);
	assert_null(errors);
	assert_string_equal(c.name, "dc1.ntm.test");
	assert_true(c.foreground);
	assert_int_equal(c.log, TESTCONF_LEVEL_WARN);
	assert_int_equal(c.workers, 4);			/* default */
	assert_true(c.keepalive == 120000);
	assert_true(c.retransmit == 250);		/* default */
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 4610);	/* row's port */
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 4611);
	assert_int_equal(c.prefix4.len, 24);
	assert_int_equal(c.prefix6.len, 48);		/* default */
	assert_string_equal(c.key, "/etc/ntmobile/key.pem");
	assert_int_equal(c.kex.n, 1);
	assert_string_equal(c.kex.v[0], "ecdhe");
	assert_int_equal(c.allow.n, 3);
	assert_string_equal(c.allow.v[0], "a");
	assert_string_equal(c.allow.v[1], "b");
	assert_string_equal(c.allow.v[2], "c");
	config_free(testconf_table, &c);
	assert_null(c.name);
	assert_int_equal(c.allow.n, 0);
	config_free(testconf_table, &c);	/* twice is harmless */
	config_free(testconf_table, NULL);
}

static char *
dump(struct testconf *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(f = open_memstream(&text, &len));
	assert_int_equal(config_dump(testconf_table, c, f), 0);
	fclose(f);
	return text;
}

static void
test_dump_reloads(void **state)
{
	struct testconf a, b;
	char *errors = NULL, *one, *two;

	assert_int_equal(config_load_string(testconf_table, &a, "a.conf", valid,
	    &errors), 0);
	one = dump(&a);
	assert_int_equal(config_load_string(testconf_table, &b, "dump", one,
	    &errors), 0);
	two = dump(&b);
	assert_string_equal(one, two);
	assert_non_null(strstr(one, "keepalive = 2m\n"));
	assert_non_null(strstr(one, "listen = [::1]:4610\n"));
	assert_non_null(strstr(one, "allow = a, b, c\n"));
	assert_non_null(strstr(one, "\n[peer]\n"));
	free(one);
	free(two);
	config_free(testconf_table, &a);
	config_free(testconf_table, &b);
}

static unsigned
count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
test_all_errors_at_once(void **state)
{
	static const char text[] =
	    "[server]\n"
	    "name = x\n"
	    "workers = many\n"		/* 3 */
	    "bogus = 1\n"		/* 4 */
	    "name = y\n"		/* 5 */
	    "[nope]\n"			/* 6 */
	    "ignored = 1\n"		/* in an unknown section: not reported */
	    "[peer]\n"
	    "kex = a, b, c, d\n";	/* 9 */
	struct testconf c;
	char *errors = NULL;

	assert_int_equal(config_load_string(testconf_table, &c, "e.conf", text,
	    &errors), -EINVAL);
	assert_non_null(errors);
	assert_string_equal(errors,
	    "e.conf:3: [server] workers: 'many' is not an integer\n"
	    "e.conf:4: [server] bogus: unknown key\n"
	    "e.conf:5: [server] name: already set on line 2\n"
	    "e.conf:6: unknown section [nope]\n"
	    "e.conf:9: [peer] kex: more than 3 entries\n"
	    "e.conf: [server] prefix4: required key missing\n");
	free(errors);
	config_free(testconf_table, &c);
}

static void
test_error_cap(void **state)
{
	struct testconf c;
	char *text, *errors = NULL, *p;
	size_t i, len = 0;
	FILE *f;

	assert_non_null(f = open_memstream(&text, &len));
	fprintf(f, "[server]\nname = x\nprefix4 = 10.0.0.0/8\n");
	for (i = 0; i < 150; i++)
		fprintf(f, "k%zu = 1\n", i);
	fclose(f);
	assert_int_equal(config_load_string(testconf_table, &c, "m.conf", text,
	    &errors), -EINVAL);
	assert_int_equal(count_lines(errors), CONFIG_ERRORS_MAX + 1);
	p = strrchr(errors, ':');
	assert_non_null(p);
	assert_string_equal(p, ": 50 more errors not shown\n");
	free(errors);
	free(text);
	config_free(testconf_table, &c);
}

static void
test_missing_file(void **state)
{
	struct testconf c;
	char *errors = NULL;

	assert_int_equal(config_load(testconf_table, &c, "/nonexistent/x.conf",
	    &errors), -ENOENT);
	assert_string_equal(errors,
	    "/nonexistent/x.conf: No such file or directory\n");
	free(errors);
	config_free(testconf_table, &c);
	assert_int_equal(config_load(testconf_table, &c, "/tmp", &errors),
	    -EISDIR);
	assert_string_equal(errors, "/tmp: Is a directory\n");
	free(errors);
	config_free(testconf_table, &c);
}

static void
test_bom_crlf_indent(void **state)
{
	static const char text[] =
	    "\xef\xbb\xbf[server]\r\n"
	    "name = dos\r\n"
	    "    prefix4 = 10.0.0.0/8\r\n"	/* indented: not a continuation */
	    "\tworkers = 7 ; seven\r\n";
	struct testconf c;
	char *errors = NULL;

	assert_int_equal(config_load_string(testconf_table, &c, "dos.conf",
	    text, &errors), 0);
	assert_string_equal(c.name, "dos");
	assert_int_equal(c.prefix4.len, 8);
	assert_int_equal(c.workers, 7);
	config_free(testconf_table, &c);
}

static void
test_private_file(void **state)
{
	char path[] = "/tmp/ntm-test-key.XXXXXX", why[256];
	int fd;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(fchmod(fd, 0600), 0);
	assert_int_equal(config_check_private_file(path, why, sizeof(why)), 0);
	assert_int_equal(config_check_private_fd(fd, "key", why, sizeof(why)),
	    0);
	assert_int_equal(fchmod(fd, 0400), 0);
	assert_int_equal(config_check_private_file(path, why, sizeof(why)), 0);
	assert_int_equal(fchmod(fd, 0640), 0);
	assert_int_equal(config_check_private_file(path, why, sizeof(why)),
	    -EPERM);
	assert_non_null(strstr(why, "group or others may access it (mode 0640)"));
	assert_int_equal(strncmp(why, path, strlen(path)), 0);
	assert_int_equal(fchmod(fd, 0604), 0);
	assert_int_equal(config_check_private_fd(fd, "key.pem", why,
	    sizeof(why)), -EPERM);
	assert_string_equal(why, "key.pem: group or others may access it "
	    "(mode 0604); chmod 600 it");
	assert_int_equal(fchmod(fd, 0620), 0);	/* group-writable too */
	assert_int_equal(config_check_private_file(path, why, sizeof(why)),
	    -EPERM);
	close(fd);
	unlink(path);
	assert_int_equal(config_check_private_file(path, why, sizeof(why)),
	    -ENOENT);
	assert_non_null(strstr(why, "No such file or directory"));
	assert_int_equal(config_check_private_file("/tmp", why, sizeof(why)),
	    -EINVAL);
	assert_string_equal(why, "/tmp: not a regular file");
	assert_int_equal(config_check_private_file("/dev/null", why,
	    sizeof(why)), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_bool_int),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_load_values),
		cmocka_unit_test(test_dump_reloads),
		cmocka_unit_test(test_all_errors_at_once),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_bom_crlf_indent),
		cmocka_unit_test(test_private_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
