/* route.h -- the route decision at DC_MN: a pure function of both nodes' registered and observed addresses. */
#ifndef NTM_DC_ROUTE_H
#define NTM_DC_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "proto.h"

/*
 * DESIGN.md section 4, decided per address family both nodes can use:
 *
 *   both global, same family          DIRECT   MN -> CN
 *   MN behind NAT, CN global           DIRECT   MN -> CN
 *   CN behind NAT, MN global           REVERSE  CN opens toward MN
 *   both behind the same NAT           PRIVATE  private addresses, at most
 *     (same observed IP address)                punch_deadline
 *   both behind different NATs         PUNCH    RS allocated, fall back to
 *                                               it after punch_deadline
 *   no family in common                RELAY    through the dual-stack RS
 *
 * What a node offers in a family f:
 *   - the observed address is of family f: GLOBAL when it is one of the
 *     node's registered addresses (no NAT), else NATTED (reachable only
 *     through the NAT binding its keep-alives hold open);
 *   - otherwise, a registered address of family f with global scope (not
 *     RFC 1918, 100.64/10, loopback, link-local or ULA): GLOBAL at that
 *     address (a dual-stack node seen over one family);
 *   - otherwise nothing: a private address in a family the DC never saw
 *     traffic from is not something a peer can reach.
 *
 * When both families are usable the better route wins, in the order of the
 * table above; on a tie the family MN registered over, then IPv6.
 */
enum route_limit {
	ROUTE_LIMIT_INVALID = 0,
	ROUTE_ADDRS_MAX = PROTO_ADDRS_MAX,
};

/* A node as the registry knows it (addresses in wire form). */
struct route_node {
	struct msg_addr	 local[ROUTE_ADDRS_MAX];	/* best first */
	size_t		 nlocal;
	struct msg_addr	 observed;	/* source of its registration */
};

struct route_decision {
	enum proto_route route;
	uint8_t		 family;	/* enum proto_family; 0 on RELAY */
	/* PROTO_ROLE_INITIATOR for MN except on REVERSE. */
	enum proto_role	 mn_role;
	bool		 relay;		/* an RS allocation is needed */
	uint32_t	 punch_deadline; /* ms, PRIVATE and PUNCH, else 0 */
	/* PEER_ADDR for MN's Route Direction: where CN is reached. */
	struct msg_addr	 to_mn[ROUTE_ADDRS_MAX];
	size_t		 nto_mn;
	/* PEER_ADDR for CN's Route Direction: where MN is. */
	struct msg_addr	 to_cn[ROUTE_ADDRS_MAX];
	size_t		 nto_cn;
};

/* The node's observed address is one of its registered ones. */
bool	route_node_behind_nat(const struct route_node *);
/* A global-scope unicast address (see above); false for unknown families. */
bool	route_addr_global(const struct msg_addr *);
bool	route_addr_equal(const struct msg_addr *, const struct msg_addr *);

/*
 * route_decide: fills *d for a tunnel from mn to cn.  punch_deadline is the
 * DC's setting in ms (0: PROTO_TIMER_PUNCH_DEADLINE).  Returns 0, or
 * -EINVAL when a node has no usable observed address.
 */
int	route_decide(const struct route_node *mn, const struct route_node *cn,
	    uint32_t punch_deadline, struct route_decision *d);

const char *route_name(enum proto_route);

#endif
