/* policy.h -- the direction policy: which nodes may ask for a tunnel to which (DESIGN.md 4). */
#ifndef NTM_DC_POLICY_H
#define NTM_DC_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

/*
 * [policy] rule = allow|deny MN -> CN, tried in order, the first that
 * matches decides; none matches: [policy] default (allow: every pair within
 * the deployment, the DESIGN.md default).  A pattern is a node's FQDN,
 * "*" (any node) or "*.ZONE" (any node under ZONE); names compare without
 * regard to case and to a final dot.
 */
struct policy_rule {
	bool	 allow;
	char	 mn[PROTO_FQDN_MAX + 3];	/* "*." + name */
	char	 cn[PROTO_FQDN_MAX + 3];
};

struct policy {
	struct policy_rule	*rules;		/* owned */
	size_t			 nrules;
	bool			 deny_default;
};

/* Parses "allow|deny MN -> CN"; 0, or -EINVAL with why set. */
int	policy_rule_parse(const char *text, struct policy_rule *,
	    const char **why);
/* Whether pattern matches the FQDN. */
bool	policy_match(const char *pattern, const char *fqdn);
/* The decision for MN -> CN.  A NULL policy allows everything. */
bool	policy_allowed(const struct policy *, const char *mn, const char *cn);

#endif
