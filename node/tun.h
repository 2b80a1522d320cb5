/* tun.h -- the node's TUN device: open /dev/net/tun, name, MTU. */
#ifndef NTM_NODE_TUN_H
#define NTM_NODE_TUN_H

#include <net/if.h>
#include <stdbool.h>

#include "dataplane.h"
#include "proto.h"

/*
 * The inner MTU leaves room for the largest outer headers on a 1500-byte
 * path: IPv6 (40) + UDP (8) + data header (16) + tag (16) = 80, so 1420.
 */
enum tun_limit {
	TUN_LIMIT_INVALID = 0,
	TUN_PATH_MTU = 1500,
	TUN_MTU = TUN_PATH_MTU - IPV6_HEADER_LEN - UDP_HEADER_LEN -
	    PROTO_DATA_HEADER_LEN - PROTO_TAG_LEN,
	TUN_MTU_MIN = 1280,		/* IPv6 needs at least this */
};

#define TUN_NAME_DEFAULT	"ntm0"

/*
 * tun_open: creates (or attaches to) the layer-3 TUN device `name`
 * (IFF_TUN | IFF_NO_PI, with offloads when the kernel takes them: see
 * tun_open_offload, which it calls with offload true), sets
 * its MTU, and returns its non-blocking, close-on-exec fd in *fdp (the
 * caller closes it; the device goes away with it unless persistent) and
 * the kernel's name for it in ifname.  The device is left down; netlink
 * brings it up.  Returns 0 or a negative errno (-EINVAL for a name that
 * does not fit or an MTU below TUN_MTU_MIN).
 */
int	tun_open(const char *name, int mtu, int *fdp, char ifname[IFNAMSIZ]);

/*
 * tun_open_offload: the same, and when `offload` is true it asks for
 * IFF_VNET_HDR and TUNSETOFFLOAD (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6):
 * then every read starts with a struct virtio_net_hdr and may carry a TCP
 * super-segment of up to 64 KiB or a partial checksum (node/tso.h), and
 * every write must start with one.  When the kernel refuses either ioctl
 * the device is opened as tun_open() does, with one log line.  *offloaded
 * (may be NULL) says which it is; node/dataplane.c finds out by itself
 * (tun_has_vnet_hdr).  UDP segmentation (TUN_F_USO4/6) is not asked for.
 */
int	tun_open_offload(const char *name, int mtu, bool offload, int *fdp,
	    char ifname[IFNAMSIZ], bool *offloaded);

/* True when fd is a TUN device opened with IFF_VNET_HDR. */
bool	tun_has_vnet_hdr(int fd);

#endif
