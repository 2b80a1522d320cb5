/* policy.c -- the direction policy: first matching allow/deny rule for MN -> CN, else the default. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

/* One pattern: "*", "*.zone" or a name of letters, digits, '-' and '.'. */
static int
policy_pattern(const char *p, size_t n, char *out, size_t cap)
{
	size_t i, start = 0;

	if (n > 0 && p[n - 1] == '.')
		n--;			/* a final dot changes nothing */
	if (n == 0 || n >= cap)
		return -EINVAL;
	if (n == 1 && p[0] == '*') {
		memcpy(out, "*", 2);
		return 0;
	}
	if (n > 2 && p[0] == '*' && p[1] == '.')
		start = 2;
	for (i = start; i < n; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return -EINVAL;
		if (c == '.' && (i == start || p[i - 1] == '.'))
			return -EINVAL;
	}
	if (n - start > PROTO_FQDN_MAX)
		return -EINVAL;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int
policy_rule_parse(const char *text, struct policy_rule *r,
    const char **why)
{
	const char *p = text, *arrow;
	size_t n;

	memset(r, 0, sizeof(*r));
	p += strspn(p, " \t");
	n = strcspn(p, " \t");
	if (n == 5 && strncasecmp(p, "allow", 5) == 0)
		r->allow = true;
	else if (!(n == 4 && strncasecmp(p, "deny", 4) == 0)) {
		*why = "a rule starts with allow or deny";
		return -EINVAL;
	}
	p += n;
	p += strspn(p, " \t");
	if ((arrow = strstr(p, "->")) == NULL) {
		*why = "a rule is 'allow|deny MN -> CN'";
		return -EINVAL;
	}
	n = (size_t)(arrow - p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (policy_pattern(p, n, r->mn, sizeof(r->mn)) < 0) {
		*why = "MN is not a name, * or *.zone";
		return -EINVAL;
	}
	p = arrow + 2;
	p += strspn(p, " \t");
	n = strcspn(p, " \t");
	if (p[n + strspn(p + n, " \t")] != '\0') {
		*why = "text after CN";
		return -EINVAL;
	}
	if (policy_pattern(p, n, r->cn, sizeof(r->cn)) < 0) {
		*why = "CN is not a name, * or *.zone";
		return -EINVAL;
	}
	return 0;
}

bool
policy_match(const char *pattern, const char *fqdn)
{
	size_t pl, fl = strlen(fqdn);

	if (fl > 0 && fqdn[fl - 1] == '.')
		fl--;
	if (strcmp(pattern, "*") == 0)
		return fl > 0;
	if (pattern[0] == '*' && pattern[1] == '.') {
		/* One label or more in front of the zone. */
		pl = strlen(pattern + 1);	/* ".zone" */
		return fl > pl && strncasecmp(fqdn + fl - pl, pattern + 1,
		    pl) == 0;
	}
	pl = strlen(pattern);
	return fl == pl && strncasecmp(fqdn, pattern, pl) == 0;
}

bool
policy_allowed(const struct policy *pol, const char *mn, const char *cn)
{
	size_t i;

	if (pol == NULL)
		return true;
	for (i = 0; i < pol->nrules; i++)
		if (policy_match(pol->rules[i].mn, mn) &&
		    policy_match(pol->rules[i].cn, cn))
			return pol->rules[i].allow;
	return !pol->deny_default;
}
