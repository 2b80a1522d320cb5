/* route.c -- route decision (DESIGN.md 4): direct, reverse, private, punch or relay, per address family. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "route.h"

/* What a node offers in one family. */
enum route_reach {
	ROUTE_REACH_NONE = 0,
	ROUTE_REACH_GLOBAL,
	ROUTE_REACH_NATTED,
};

/* Better routes rank lower; used to pick between the two families. */
enum route_rank {
	ROUTE_RANK_DIRECT = 0,
	ROUTE_RANK_DIRECT_MN_NAT,
	ROUTE_RANK_REVERSE,
	ROUTE_RANK_PRIVATE,
	ROUTE_RANK_PUNCH,
	ROUTE_RANK_NONE,
};

static size_t
route_addr_len(uint8_t family)
{
	return family == PROTO_FAMILY_IPV4 ? 4 : 16;
}

bool
route_addr_equal(const struct msg_addr *a, const struct msg_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	    (a->family == PROTO_FAMILY_IPV4 ||
	    a->family == PROTO_FAMILY_IPV6) &&
	    memcmp(a->addr, b->addr, route_addr_len(a->family)) == 0;
}

static bool
route_ip_equal(const struct msg_addr *a, const struct msg_addr *b)
{
	return a->family == b->family &&
	    (a->family == PROTO_FAMILY_IPV4 ||
	    a->family == PROTO_FAMILY_IPV6) &&
	    memcmp(a->addr, b->addr, route_addr_len(a->family)) == 0;
}

bool
route_addr_global(const struct msg_addr *a)
{
	const uint8_t *p = a->addr;
	static const uint8_t zero[16];

	if (a->family == PROTO_FAMILY_IPV4) {
		if (p[0] == 0 || p[0] == 10 || p[0] == 127 || p[0] >= 224)
			return false;
		if (p[0] == 172 && (p[1] & 0xf0) == 16)
			return false;
		if (p[0] == 192 && p[1] == 168)
			return false;
		if (p[0] == 169 && p[1] == 254)
			return false;
		if (p[0] == 100 && (p[1] & 0xc0) == 64)	/* CGNAT 100.64/10 */
			return false;
		return true;
	}
	if (a->family == PROTO_FAMILY_IPV6) {
		if (memcmp(p, zero, 15) == 0)		/* :: and ::1 */
			return false;
		if ((p[0] & 0xfe) == 0xfc)		/* ULA fc00::/7 */
			return false;
		if (p[0] == 0xfe && (p[1] & 0xc0) == 0x80)	/* fe80::/10 */
			return false;
		if (p[0] == 0xff)			/* multicast */
			return false;
		if (memcmp(p, zero, 10) == 0 && p[10] == 0xff &&
		    p[11] == 0xff)			/* v4-mapped */
			return false;
		return true;
	}
	return false;
}

bool
route_node_behind_nat(const struct route_node *n)
{
	size_t i;

	for (i = 0; i < n->nlocal && i < ROUTE_ADDRS_MAX; i++)
		if (route_addr_equal(&n->local[i], &n->observed))
			return false;
	return true;
}

static enum route_reach
route_reach(const struct route_node *n, uint8_t family,
    struct msg_addr *endpoint)
{
	size_t i;

	if (n->observed.family == family) {
		*endpoint = n->observed;
		return route_node_behind_nat(n) ? ROUTE_REACH_NATTED :
		    ROUTE_REACH_GLOBAL;
	}
	for (i = 0; i < n->nlocal && i < ROUTE_ADDRS_MAX; i++)
		if (n->local[i].family == family &&
		    route_addr_global(&n->local[i])) {
			*endpoint = n->local[i];
			return ROUTE_REACH_GLOBAL;
		}
	return ROUTE_REACH_NONE;
}

static void
route_push(struct msg_addr *list, size_t *n, const struct msg_addr *a)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (route_addr_equal(&list[i], a))
			return;
	if (*n < ROUTE_ADDRS_MAX)
		list[(*n)++] = *a;
}

/* The node's registered addresses of a family (private ones included). */
static void
route_push_locals(struct msg_addr *list, size_t *n,
    const struct route_node *node, uint8_t family)
{
	size_t i;

	for (i = 0; i < node->nlocal && i < ROUTE_ADDRS_MAX; i++)
		if (node->local[i].family == family)
			route_push(list, n, &node->local[i]);
}

/* The decision within one family; returns its rank. */
static enum route_rank
route_family(const struct route_node *mn, const struct route_node *cn,
    uint8_t family, uint32_t deadline, struct route_decision *d)
{
	struct msg_addr me, ce;
	enum route_reach rm, rc;

	memset(d, 0, sizeof(*d));
	rm = route_reach(mn, family, &me);
	rc = route_reach(cn, family, &ce);
	if (rm == ROUTE_REACH_NONE || rc == ROUTE_REACH_NONE)
		return ROUTE_RANK_NONE;
	d->family = family;
	d->mn_role = PROTO_ROLE_INITIATOR;
	if (rc == ROUTE_REACH_GLOBAL) {
		d->route = PROTO_ROUTE_DIRECT;
		route_push(d->to_mn, &d->nto_mn, &ce);
		route_push(d->to_cn, &d->nto_cn, &me);
		return rm == ROUTE_REACH_GLOBAL ? ROUTE_RANK_DIRECT :
		    ROUTE_RANK_DIRECT_MN_NAT;
	}
	if (rm == ROUTE_REACH_GLOBAL) {
		d->route = PROTO_ROUTE_REVERSE;
		d->mn_role = PROTO_ROLE_RESPONDER;
		route_push(d->to_mn, &d->nto_mn, &ce);
		route_push(d->to_cn, &d->nto_cn, &me);
		return ROUTE_RANK_REVERSE;
	}
	d->punch_deadline = deadline;
	if (route_ip_equal(&me, &ce)) {
		/* Same public address: try the private ones first. */
		d->route = PROTO_ROUTE_PRIVATE;
		route_push_locals(d->to_mn, &d->nto_mn, cn, family);
		route_push(d->to_mn, &d->nto_mn, &ce);
		route_push_locals(d->to_cn, &d->nto_cn, mn, family);
		route_push(d->to_cn, &d->nto_cn, &me);
		return ROUTE_RANK_PRIVATE;
	}
	d->route = PROTO_ROUTE_PUNCH;
	d->relay = true;
	route_push(d->to_mn, &d->nto_mn, &ce);
	route_push(d->to_cn, &d->nto_cn, &me);
	return ROUTE_RANK_PUNCH;
}

int
route_decide(const struct route_node *mn, const struct route_node *cn,
    uint32_t punch_deadline, struct route_decision *d)
{
	struct route_decision d4, d6;
	enum route_rank r4, r6;
	uint8_t first;

	if ((mn->observed.family != PROTO_FAMILY_IPV4 &&
	    mn->observed.family != PROTO_FAMILY_IPV6) ||
	    (cn->observed.family != PROTO_FAMILY_IPV4 &&
	    cn->observed.family != PROTO_FAMILY_IPV6))
		return -EINVAL;
	if (punch_deadline == 0)
		punch_deadline = PROTO_TIMER_PUNCH_DEADLINE;
	r4 = route_family(mn, cn, PROTO_FAMILY_IPV4, punch_deadline, &d4);
	r6 = route_family(mn, cn, PROTO_FAMILY_IPV6, punch_deadline, &d6);
	if (r4 == ROUTE_RANK_NONE && r6 == ROUTE_RANK_NONE) {
		memset(d, 0, sizeof(*d));
		d->route = PROTO_ROUTE_RELAY;
		d->mn_role = PROTO_ROLE_INITIATOR;
		d->relay = true;
		d->punch_deadline = 0;
		return 0;
	}
	first = mn->observed.family;
	if (r4 < r6 || (r4 == r6 && first == PROTO_FAMILY_IPV4))
		*d = d4;
	else
		*d = d6;
	return 0;
}

const char *
route_name(enum proto_route r)
{
	switch (r) {
	case PROTO_ROUTE_DIRECT:
		return "direct";
	case PROTO_ROUTE_REVERSE:
		return "reverse";
	case PROTO_ROUTE_PRIVATE:
		return "private";
	case PROTO_ROUTE_PUNCH:
		return "punch";
	case PROTO_ROUTE_RELAY:
		return "relay";
	default:
		return "invalid";
	}
}
