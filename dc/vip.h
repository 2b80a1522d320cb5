/* vip.h -- virtual-IP assignment from the DC's own prefixes, stable per FQDN, for the AS's VIP_REQUEST (PROTOCOL.md 6.7). */
#ifndef NTM_DC_VIP_H
#define NTM_DC_VIP_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

/*
 * A node's pair is host index i of both prefixes (the same i in the IPv4
 * and the IPv6 prefix, as the AS's pools do), so the pair is one number.
 * Never given: index 0 (the network address; in IPv6 the subnet-router
 * anycast address), the last IPv4 index (broadcast), and any address the
 * DC itself listens on inside its prefixes (vip_config_own()).
 *
 * vip_assign() answers the same pair for the same FQDN for as long as it
 * is not held by another node: its vip_assignments row, else its nodes row
 * (the certificate the AS issued), else the lowest free index.  "Held"
 * means present in nodes or vip_assignments under another name; the AS
 * checks the pair again against its live certificates.
 */
enum vip_limit {
	VIP_LIMIT_INVALID = 0,
	VIP_OWN_MAX = 16,		/* the DC's own addresses excluded */
	VIP_SCAN_MAX = 65536,		/* indexes tried per assignment */
	VIP_TEXT_MAX = 46,		/* INET6_ADDRSTRLEN */
};

/* The DC's prefixes (from [dns] prefix4/prefix6) and its own addresses. */
struct vip_config {
	const char	*zone;		/* forward zone; borrowed */
	bool		 have4, have6;
	struct in_addr	 prefix4;
	unsigned	 prefix4_len;
	struct in6_addr	 prefix6;
	unsigned	 prefix6_len;
	struct in_addr	 own4[VIP_OWN_MAX];
	size_t		 nown4;
	struct in6_addr	 own6[VIP_OWN_MAX];
	size_t		 nown6;
};

/*
 * vip_config_own: excludes `sa` from assignment when it lies inside one of
 * the prefixes (other addresses are ignored).  0, or -ENOSPC when
 * VIP_OWN_MAX are already recorded.
 */
int	vip_config_own(struct vip_config *, const struct sockaddr *sa);

/*
 * vip_name_in_zone: fqdn (lower-case, no trailing dot) is exactly one LDH
 * label below zone.
 */
bool	vip_name_in_zone(const char *zone, const char *fqdn);

/*
 * vip_index_usable: host index i exists in both prefixes (those the DC
 * has) and is neither network, broadcast nor one of the DC's own; fills
 * the addresses.  Pure.
 */
bool	vip_index_usable(const struct vip_config *, uint64_t i,
	    struct in_addr *v4, struct in6_addr *v6);

/*
 * vip_assign: the pair for `fqdn` in the DC database db (schema_dc, opened
 * by the caller; the assignment commits in its own transaction, so call it
 * outside one).  Both prefixes are required.  0 with *v4 and *v6; -EINVAL
 * when the DC has no IPv4 or no IPv6 prefix; -ENOENT for a name outside
 * the zone; -EADDRINUSE when every usable pair is held; -EIO for a
 * database failure.
 */
int	vip_assign(sqlite3 *db, const struct vip_config *, const char *fqdn,
	    time_t now, struct in_addr *v4, struct in6_addr *v6);

#endif
