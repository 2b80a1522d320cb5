/* netlink.c -- rtnetlink (libmnl): ntm0 up, its virtual IPs and routes. */
#include "config.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>

#include "netlink.h"

struct netlink {
	struct mnl_socket	*nl;
	unsigned		 portid;
	uint32_t		 seq;
};

enum {
	NETLINK_BUFSIZE = 8192,
};

int
netlink_open(struct netlink **out)
{
	struct netlink *n;
	int rc;

	*out = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return -ENOMEM;
	if ((n->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		netlink_close(n);
		return rc;
	}
	n->portid = mnl_socket_get_portid(n->nl);
	n->seq = (uint32_t)time(NULL);
	*out = n;
	return 0;
}

void
netlink_close(struct netlink *n)
{
	if (n == NULL)
		return;
	if (n->nl != NULL)
		mnl_socket_close(n->nl);
	free(n);
}

/* Sends the request built in buf and waits for its acknowledgement. */
static int
netlink_request(struct netlink *n, struct nlmsghdr *nlh, void *buf)
{
	ssize_t r;
	int rc;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++n->seq;
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		if ((r = mnl_socket_recvfrom(n->nl, buf, NETLINK_BUFSIZE)) < 0)
			return -errno;
		rc = mnl_cb_run(buf, (size_t)r, n->seq, n->portid, NULL, NULL);
		if (rc == MNL_CB_ERROR)
			return errno != 0 ? -errno : -EIO;
		if (rc == MNL_CB_STOP)
			return 0;
	}
}

static size_t
netlink_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/*
 * Before the link goes up: no IPv6 link-local address (the kernel would
 * otherwise make one and send router solicitations and MLD reports from
 * it into the tunnel, packets no peer accepts) and no multicast.
 */
static int
netlink_link_quiet(struct netlink *n, unsigned ifindex, void *buf)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *spec, *af;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	ifi->ifi_flags = 0;
	ifi->ifi_change = IFF_MULTICAST;
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	af = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE,
	    IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, af);
	mnl_attr_nest_end(nlh, spec);
	return netlink_request(n, nlh, buf);
}

int
netlink_link_up(struct netlink *n, unsigned ifindex)
{
	uint8_t buf[NETLINK_BUFSIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int rc;

	if ((rc = netlink_link_quiet(n, ifindex, buf)) < 0)
		return rc;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return netlink_request(n, nlh, buf);
}

int
netlink_addr_add(struct netlink *n, unsigned ifindex,
    const struct config_prefix *a)
{
	uint8_t buf[NETLINK_BUFSIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	size_t alen;

	if (a->family != AF_INET && a->family != AF_INET6)
		return -EAFNOSUPPORT;
	alen = netlink_addr_len(a->family);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = a->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	if (a->family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, alen, a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, a->addr);
	return netlink_request(n, nlh, buf);
}

int
netlink_route_add(struct netlink *n, unsigned ifindex,
    const struct config_prefix *dst, const struct config_prefix *src)
{
	uint8_t buf[NETLINK_BUFSIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	size_t alen;

	if ((dst->family != AF_INET && dst->family != AF_INET6) ||
	    (src != NULL && src->family != dst->family))
		return -EAFNOSUPPORT;
	alen = netlink_addr_len(dst->family);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)dst->family;
	rtm->rtm_dst_len = dst->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, alen, dst->addr);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	if (src != NULL)
		mnl_attr_put(nlh, RTA_PREFSRC, alen, src->addr);
	return netlink_request(n, nlh, buf);
}
