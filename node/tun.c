/* tun.c -- the node's TUN device: open /dev/net/tun, name, MTU. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tun.h"
#include "tso.h"

#define TUN_CLONE_DEVICE	"/dev/net/tun"

static int
tun_set_mtu(const char *ifname, int mtu)
{
	struct ifreq ifr;
	int s, rc = 0;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 &&
	    (s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ifr.ifr_mtu = mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		rc = -errno;
	close(s);
	return rc;
}

static int
tun_attach(const char *name, int mtu, bool vnet, int *fdp,
    char ifname[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd, rc, hdrsz = TSO_VNET_HDR_LEN;
	unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

	if ((fd = open(TUN_CLONE_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		goto fail;
	}
	if (vnet && (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, off) < 0)) {
		rc = -errno;
		goto fail;
	}
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	if ((rc = tun_set_mtu(ifname, mtu)) < 0)
		goto fail;
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

int
tun_open(const char *name, int mtu, int *fdp, char ifname[IFNAMSIZ])
{
	return tun_open_offload(name, mtu, true, fdp, ifname, NULL);
}

int
tun_open_offload(const char *name, int mtu, bool offload, int *fdp,
    char ifname[IFNAMSIZ], bool *offloaded)
{
	int rc;

	if (offloaded != NULL)
		*offloaded = false;
	if (name == NULL)
		name = TUN_NAME_DEFAULT;
	if (strlen(name) >= IFNAMSIZ || name[0] == '\0' || mtu < TUN_MTU_MIN)
		return -EINVAL;
	if (offload) {
		if ((rc = tun_attach(name, mtu, true, fdp, ifname)) == 0) {
			if (offloaded != NULL)
				*offloaded = true;
			return 0;
		}
		log_warnx("tun %s: offloads refused (%s), one packet per "
		    "read and write", name, strerror(-rc));
	}
	return tun_attach(name, mtu, false, fdp, ifname);
}

bool
tun_has_vnet_hdr(int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	return ioctl(fd, TUNGETIFF, &ifr) == 0 &&
	    (ifr.ifr_flags & IFF_VNET_HDR) != 0;
}
