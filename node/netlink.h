/* netlink.h -- rtnetlink (libmnl): ntm0 up, its virtual IPs and routes. */
#ifndef NTM_NODE_NETLINK_H
#define NTM_NODE_NETLINK_H

#include "config_table.h"

/*
 * Start-up configuration of the TUN device, so each call sends one request
 * and waits for the kernel's acknowledgement (blocking, before the loop
 * runs).  Address changes of the outer interfaces (mobility) come later on
 * the same socket type.  Each call returns 0 or the kernel's negative errno.
 */
struct netlink;

int	netlink_open(struct netlink **);
void	netlink_close(struct netlink *);		/* accepts NULL */
/*
 * Brings the link up without IPv6 link-local address generation and without
 * multicast, so the kernel sends nothing into the tunnel on its own.
 */
int	netlink_link_up(struct netlink *, unsigned ifindex);
/*
 * Adds (or replaces) an address on the link: a virtual IP as a /32 or
 * /128.  IPv6 addresses skip duplicate address detection: the virtual IP
 * is ours by certificate, and DAD would hold it tentative for a second.
 */
int	netlink_addr_add(struct netlink *, unsigned ifindex,
	    const struct config_prefix *);
/*
 * Adds (or replaces) a route for dst (a virtual range) through the link,
 * with the preferred source src (our virtual IP of that family) or none
 * when src is NULL.
 */
int	netlink_route_add(struct netlink *, unsigned ifindex,
	    const struct config_prefix *dst, const struct config_prefix *src);

#endif
