/* test_policy.c -- unit tests for the DC's direction policy rules. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"

static void
test_parse(void **state)
{
	struct policy_rule r;
	const char *why = NULL;

	(void)state;
	assert_int_equal(policy_rule_parse("deny alice.dc1.ntm.test -> *.dc2.ntm.test",
	    &r, &why), 0);
	assert_false(r.allow);
	assert_string_equal(r.mn, "alice.dc1.ntm.test");
	assert_string_equal(r.cn, "*.dc2.ntm.test");
	assert_int_equal(policy_rule_parse("  ALLOW *->bob.dc2.ntm.test.  ", &r,
	    &why), 0);
	assert_true(r.allow);
	assert_string_equal(r.mn, "*");
	assert_string_equal(r.cn, "bob.dc2.ntm.test");

	assert_int_equal(policy_rule_parse("permit a -> b", &r, &why), -EINVAL);
	assert_string_equal(why, "a rule starts with allow or deny");
	assert_int_equal(policy_rule_parse("deny a b", &r, &why), -EINVAL);
	assert_int_equal(policy_rule_parse("deny -> b", &r, &why), -EINVAL);
	assert_string_equal(why, "MN is not a name, * or *.zone");
	assert_int_equal(policy_rule_parse("deny a -> b c", &r, &why), -EINVAL);
	assert_string_equal(why, "text after CN");
	assert_int_equal(policy_rule_parse("deny a..b -> c", &r, &why),
	    -EINVAL);
	assert_int_equal(policy_rule_parse("deny a*b -> c", &r, &why), -EINVAL);
	assert_int_equal(policy_rule_parse("deny *.*.x -> c", &r, &why),
	    -EINVAL);
}

static void
test_match(void **state)
{
	(void)state;
	assert_true(policy_match("*", "alice.dc1.ntm.test"));
	assert_true(policy_match("*.dc1.ntm.test", "Alice.DC1.ntm.test."));
	assert_false(policy_match("*.dc1.ntm.test", "dc1.ntm.test"));
	assert_false(policy_match("*.dc1.ntm.test", "alice.xdc1.ntm.test"));
	assert_true(policy_match("*.ntm.test", "alice.dc1.ntm.test"));
	assert_true(policy_match("bob.dc2.ntm.test", "BOB.dc2.ntm.test"));
	assert_false(policy_match("bob.dc2.ntm.test", "bob.dc2.ntm.tes"));
	assert_false(policy_match("bob.dc2.ntm.test", "xbob.dc2.ntm.test"));
}

static void
test_first_match_wins(void **state)
{
	struct policy_rule rules[3];
	struct policy pol = { rules, 3, false };
	const char *why;

	(void)state;
	assert_true(policy_allowed(NULL, "a.x", "b.y"));
	assert_int_equal(policy_rule_parse("allow alice.dc1.ntm.test -> "
	    "bob.dc2.ntm.test", &rules[0], &why), 0);
	assert_int_equal(policy_rule_parse("deny *.dc1.ntm.test -> "
	    "*.dc2.ntm.test", &rules[1], &why), 0);
	assert_int_equal(policy_rule_parse("deny * -> carol.dc2.ntm.test",
	    &rules[2], &why), 0);
	assert_true(policy_allowed(&pol, "alice.dc1.ntm.test",
	    "bob.dc2.ntm.test"));
	assert_false(policy_allowed(&pol, "alice.dc1.ntm.test",
	    "carol.dc2.ntm.test"));
	assert_false(policy_allowed(&pol, "dave.dc1.ntm.test",
	    "bob.dc2.ntm.test"));
	assert_false(policy_allowed(&pol, "bob.dc2.ntm.test",
	    "carol.dc2.ntm.test"));
	/* No rule matches: the default. */
	assert_true(policy_allowed(&pol, "bob.dc2.ntm.test",
	    "alice.dc1.ntm.test"));
	pol.deny_default = true;
	assert_false(policy_allowed(&pol, "bob.dc2.ntm.test",
	    "alice.dc1.ntm.test"));
	assert_true(policy_allowed(&pol, "alice.dc1.ntm.test",
	    "bob.dc2.ntm.test"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_first_match_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
