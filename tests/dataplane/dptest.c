/* dptest.c -- data-plane test harness with fixed keys (no key exchange). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "config_table.h"
#include "crypto.h"
#include "dataplane.h"
#include "log.h"
#include "loop.h"
#include "netlink.h"
#include "proto.h"
#include "rand.h"
#include "tun.h"

/*
 * The tunnel's keys, receiver ids and the peer's addresses are given here
 * instead of coming from a Route Direction and the handshake, so that
 * tests/integration/tun.sh exercises the TUN device, the routes and the
 * data plane alone.  SIGUSR1 writes the statistics to the -s file
 * (atomically, by rename); SIGUSR2 sends one DATA packet sealed with a
 * wrong key to the peer, which must count it as an authentication failure.
 */

struct dptest {
	struct loop		 loop;
	struct dataplane	*dp;
	struct dataplane_tunnel	*tunnel;
	struct dataplane_io	 io;
	uv_signal_t		 usr1, usr2;
	int			 fd, tunfd;
	const char		*statsfile;
	struct dataplane_tunnel_conf tc;
	struct dataplane_conf	 conf;
};

static void
usage(void)
{
	fprintf(stderr, "usage: dptest [-gGIO] [-n ifname] [-c aes|chacha] "
	    "-a vip4 -A vip6 -b peer-vip4 -B peer-vip6\n"
	    "\t-l listen-addr -p peer-addr -r rid -R peer-rid "
	    "-k key-i2r-hex -K key-r2i-hex [-s statsfile] [-x route]...\n");
	exit(2);
}

static void
parse_ip(int af, const char *s, uint8_t *out)
{
	if (inet_pton(af, s, out) != 1)
		fatalx("not an address: %s", s);
}

static void
parse_key(const char *s, uint8_t key[PROTO_KEY_LEN])
{
	unsigned v;
	size_t i;

	if (strlen(s) != 2 * PROTO_KEY_LEN)
		fatalx("a key is %d hex digits", 2 * PROTO_KEY_LEN);
	for (i = 0; i < PROTO_KEY_LEN; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			fatalx("bad hex in key");
		key[i] = (uint8_t)v;
	}
}

static uint32_t
parse_rid(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || *end != '\0' || v == 0 || v > UINT32_MAX)
		fatalx("bad receiver id: %s", s);
	return (uint32_t)v;
}

static void
dptest_write_stats(struct dptest *t)
{
	struct dataplane_stats s;
	char tmp[4096];
	FILE *f;
	int i;

	if (t->statsfile == NULL)
		return;
	dataplane_stats_sum(t->dp, &s);
	snprintf(tmp, sizeof(tmp), "%s.tmp", t->statsfile);
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warn("%s", tmp);
		return;
	}
	fprintf(f, "packets_in=%" PRIu64 " bytes_in=%" PRIu64
	    " packets_out=%" PRIu64 " bytes_out=%" PRIu64, s.packets_in,
	    s.bytes_in, s.packets_out, s.bytes_out);
	for (i = DATAPLANE_OK + 1; i < DATAPLANE_VERDICT_COUNT; i++)
		fprintf(f, " drop_%s=%" PRIu64, dataplane_verdict_name(i),
		    s.drops[i]);
	fprintf(f, " tun_write_errors=%" PRIu64 " tso_reads=%" PRIu64
	    " tso_drops=%" PRIu64 "\n", t->io.tun_write_errors,
	    t->io.tso_reads, t->io.tso_drops);
	if (fclose(f) != 0 || rename(tmp, t->statsfile) != 0)
		log_warn("%s", t->statsfile);
}

/* One ICMP-less IPv4 packet to the peer, sealed under a key it lacks. */
static void
dptest_forge(struct dptest *t)
{
	struct dataplane_tunnel_conf tc = t->tc;
	struct dataplane_tunnel *ft;
	struct dataplane *fdp;
	uint8_t inner[64], out[128];
	const struct sockaddr *sa;
	size_t outlen;

	if (dataplane_new(&fdp, &t->conf, rng_system()) < 0)
		fatalx("forge: dataplane_new");
	tc.key_i2r[0] ^= 0xff;
	tc.key_r2i[0] ^= 0xff;
	if (dataplane_tunnel_add(fdp, &tc, &ft) < 0)
		fatalx("forge: tunnel");
	memset(inner, 0, sizeof(inner));
	inner[0] = 0x45;
	inner[3] = sizeof(inner);
	inner[8] = 64;
	inner[9] = 253;
	memcpy(inner + 12, t->conf.vip4, 4);
	memcpy(inner + 16, tc.peer_vip4, 4);
	if (dataplane_seal(ft, PROTO_MSG_DATA, inner, sizeof(inner), out,
	    sizeof(out), &outlen) < 0)
		fatalx("forge: seal");
	/* A counter far ahead, so the replay window lets it reach the tag. */
	memset(out + 8, 0x7f, 8);
	sa = dataplane_tunnel_peer(t->tunnel);
	if (sendto(t->fd, out, outlen, 0, sa, loop_addr_len(sa)) < 0)
		log_warn("forge: sendto");
	else
		log_info("dptest: sent a forged packet");
	dataplane_free(fdp);
}

static void
dptest_signal(uv_signal_t *h, int signum)
{
	struct dptest *t = h->data;

	if (signum == SIGUSR1)
		dptest_write_stats(t);
	else
		dptest_forge(t);
}

static void
dptest_prefix(const char *s, struct config_prefix *p)
{
	char why[128];

	if (config_parse_prefix(s, p, why, sizeof(why)) < 0)
		fatalx("%s: %s", s, why);
}

static void
dptest_netlink(const char *ifname, const struct dataplane_conf *c,
    char **routes, int nroutes)
{
	struct config_prefix a4, a6, r;
	struct netlink *nl;
	unsigned ifindex;
	int i, rc;

	if ((ifindex = if_nametoindex(ifname)) == 0)
		fatal("%s", ifname);
	memset(&a4, 0, sizeof(a4));
	a4.family = AF_INET;
	memcpy(a4.addr, c->vip4, 4);
	a4.len = 32;
	memset(&a6, 0, sizeof(a6));
	a6.family = AF_INET6;
	memcpy(a6.addr, c->vip6, 16);
	a6.len = 128;
	if ((rc = netlink_open(&nl)) < 0 ||
	    (rc = netlink_link_up(nl, ifindex)) < 0 ||
	    (rc = netlink_addr_add(nl, ifindex, &a4)) < 0 ||
	    (rc = netlink_addr_add(nl, ifindex, &a6)) < 0)
		fatalx("netlink: %s: %s", ifname, strerror(-rc));
	for (i = 0; i < nroutes; i++) {
		dptest_prefix(routes[i], &r);
		if ((rc = netlink_route_add(nl, ifindex, &r,
		    r.family == AF_INET ? &a4 : &a6)) < 0)
			fatalx("netlink: route %s: %s", routes[i],
			    strerror(-rc));
	}
	netlink_close(nl);
}

int
main(int argc, char *argv[])
{
	static char *default_routes[] = { "198.18.0.0/15",
	    "fd6e:746d:6f62::/48" };
	static struct dptest t;
	struct sockaddr_storage listen_addr;
	char ifname[IFNAMSIZ], *routes[8];
	const char *name = TUN_NAME_DEFAULT;
	uv_loop_t uvloop;
	int ch, rc, nroutes = 0, have = 0;
	bool gso = false, gro = false, offload = true;

	log_init("dptest", 1, LOG_LEVEL_INFO);
	t.tc.role = DATAPLANE_ROLE_RESPONDER;
	t.tc.alg = AEAD_ALG_AES256GCM;
	t.tc.has_vip4 = t.tc.has_vip6 = true;
	t.conf.has_vip4 = t.conf.has_vip6 = true;
	t.conf.max_tunnels = 4;
	while ((ch = getopt(argc, argv, "gGIOa:A:b:B:c:k:K:l:n:p:r:R:s:x:")) !=
	    -1) {
		switch (ch) {
		case 'g':
			gso = true;
			break;
		case 'O':	/* no TUN offloads (IFF_VNET_HDR) */
			offload = false;
			break;
		case 'G':
			gro = true;
			break;
		case 'I':
			t.tc.role = DATAPLANE_ROLE_INITIATOR;
			break;
		case 'a':
			parse_ip(AF_INET, optarg, t.conf.vip4);
			have |= 1;
			break;
		case 'A':
			parse_ip(AF_INET6, optarg, t.conf.vip6);
			have |= 2;
			break;
		case 'b':
			parse_ip(AF_INET, optarg, t.tc.peer_vip4);
			have |= 4;
			break;
		case 'B':
			parse_ip(AF_INET6, optarg, t.tc.peer_vip6);
			have |= 8;
			break;
		case 'c':
			if (strcmp(optarg, "chacha") == 0)
				t.tc.alg = AEAD_ALG_CHACHA20POLY1305;
			else if (strcmp(optarg, "aes") != 0)
				usage();
			break;
		case 'k':
			parse_key(optarg, t.tc.key_i2r);
			have |= 16;
			break;
		case 'K':
			parse_key(optarg, t.tc.key_r2i);
			have |= 32;
			break;
		case 'l':
			if (loop_addr_parse(optarg, PROTO_PORT_TUNNEL, 0,
			    &listen_addr) < 0)
				fatalx("bad address %s", optarg);
			have |= 64;
			break;
		case 'n':
			name = optarg;
			break;
		case 'p':
			if (loop_addr_parse(optarg, PROTO_PORT_TUNNEL, 0,
			    &t.tc.peer_addr) < 0)
				fatalx("bad address %s", optarg);
			have |= 128;
			break;
		case 'r':
			t.tc.rid = parse_rid(optarg);
			have |= 256;
			break;
		case 'R':
			t.tc.peer_rid = parse_rid(optarg);
			have |= 512;
			break;
		case 's':
			t.statsfile = optarg;
			break;
		case 'x':
			if (nroutes == 8)
				usage();
			routes[nroutes++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (have != 1023 || optind != argc)
		usage();
	if (nroutes == 0) {
		routes[nroutes++] = default_routes[0];
		routes[nroutes++] = default_routes[1];
	}

	if ((rc = tun_open_offload(name, TUN_MTU, offload, &t.tunfd, ifname,
	    NULL)) < 0)
		fatalx("tun %s: %s", name, strerror(-rc));
	dptest_netlink(ifname, &t.conf, routes, nroutes);
	if ((rc = loop_udp_socket((struct sockaddr *)&listen_addr, 0,
	    &t.fd)) < 0)
		fatalx("udp socket: %s", strerror(-rc));
	if ((rc = dataplane_new(&t.dp, &t.conf, rng_system())) < 0 ||
	    (rc = dataplane_tunnel_add(t.dp, &t.tc, &t.tunnel)) < 0)
		fatalx("dataplane: %s", strerror(-rc));

	if (uv_loop_init(&uvloop) < 0 ||
	    loop_init(&t.loop, &uvloop, NULL, NULL, &t) < 0)
		fatalx("loop");
	if ((rc = dataplane_io_start(&t.io, &uvloop, t.dp,
	    listen_addr.ss_family == AF_INET ? t.fd : -1,
	    listen_addr.ss_family == AF_INET6 ? t.fd : -1, t.tunfd)) < 0)
		fatalx("dataplane io: %s", strerror(-rc));
	/* -g decides, even where offloads would have turned GSO on. */
	if ((rc = dataplane_io_gso(&t.io, gso)) < 0)
		fatalx("UDP GSO: %s", strerror(-rc));
	if (gro && (rc = dataplane_io_gro(&t.io, true)) < 0)
		fatalx("UDP GRO: %s", strerror(-rc));
	uv_signal_init(&uvloop, &t.usr1);
	uv_signal_init(&uvloop, &t.usr2);
	t.usr1.data = t.usr2.data = &t;
	uv_signal_start(&t.usr1, dptest_signal, SIGUSR1);
	uv_signal_start(&t.usr2, dptest_signal, SIGUSR2);
	crypto_wipe(t.tc.key_i2r, sizeof(t.tc.key_i2r));
	crypto_wipe(t.tc.key_r2i, sizeof(t.tc.key_r2i));
	log_info("dptest: TUN %s", t.io.vnet ? "offloads on (virtio_net_hdr)" :
	    "without offloads");
	log_info("dptest: ready on %s (mtu %d, %s, %s, %s)", ifname, TUN_MTU,
	    aead_alg_name(t.tc.alg), t.io.gso ? "gso" : "no gso",
	    t.io.grobuf != NULL ? "gro" : "no gro");

	loop_run(&t.loop);
	dptest_write_stats(&t);
	dataplane_io_close(&t.io, NULL);
	loop_shutdown(&t.loop);
	dataplane_free(t.dp);
	close(t.fd);
	close(t.tunfd);
	return 0;
}
