/* dirclient.c -- scripted node for ntm-dc: registers (node/dcclient), then asks for a peer (DIRECTION_REQUEST) or waits to be directed (ROUTE_DIRECTION, NTM_ACK), and prints the Route Direction. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aead.h"
#include "crypto.h"
#include "dc.h"
#include "dcclient.h"
#include "loop.h"
#include "msg.h"
#include "rand.h"
#include "sigio.h"
#include "ticket.h"

/*
 * usage: dirclient -k ticket_key_file -n fqdn [-4 vip4] [-6 vip6]
 *            -s serial_hex [-t timeout_s] (-d peer_fqdn | -w) dc_addr[:port]
 *
 * Plays the AS (a 1-hour ticket for fqdn under the DC's ticket key) and
 * the node: registers from a UDP socket on an ephemeral port, prints
 * "registered <fqdn> observed <addr>", then
 *   -d  sends a DIRECTION_REQUEST for peer_fqdn (KEX ecdhe, a made-up
 *       certificate hash and status), retransmitted byte for byte at
 *       250 ms doubling, and prints MN's answer;
 *   -w  waits for a ROUTE_DIRECTION, acknowledges it (NTM_ACK OK) and
 *       prints it.
 * A Route Direction is printed as one line:
 *   route <kind> role <1|2> recv <id> peer_recv <id> relay <a>[,<b>]
 *   binding <hex|-> peer <addr>[,...]
 * an error answer as "refused <STATUS>".  Exit 0 after a Route Direction,
 * 3 after a refusal, 1 on timeout or a usage error.
 */

static uint64_t
dirclient_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
dirclient_usage(void)
{
	fprintf(stderr, "usage: dirclient -k keyfile -n fqdn [-4 vip4] "
	    "[-6 vip6] -s serial_hex [-t timeout_s] (-d peer | -w) "
	    "dc_addr[:port]\n");
	exit(1);
}

static int
dirclient_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s), i;
	unsigned v;

	if (n % 2 != 0 || n / 2 > cap)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

static const char *
dirclient_addr(const struct msg_addr *a, char *buf, size_t len)
{
	struct sockaddr_storage ss;

	if (sigio_addr_to_sockaddr(&ss, a) < 0 ||
	    loop_addr_format((struct sockaddr *)&ss, buf, len) < 0)
		snprintf(buf, len, "?");
	return buf;
}

static void
dirclient_print(const struct msg_route *r)
{
	static const char *kinds[] = { "?", "direct", "reverse", "private",
	    "punch", "relay" };
	char a[LOOP_ADDRSTRLEN];
	size_t i;

	printf("route %s role %u recv %u peer_recv %u relay ",
	    r->route <= 5 ? kinds[r->route] : "?", r->role, r->recv_id,
	    r->peer_recv_id);
	for (i = 0; i < r->nrelay_addr; i++)
		printf("%s%s", i > 0 ? "," : "", dirclient_addr(&r->relay_addr[i],
		    a, sizeof(a)));
	if (r->nrelay_addr == 0)
		printf("-");
	printf(" binding ");
	if (r->binding_key == NULL)
		printf("-");
	else
		for (i = 0; i < PROTO_KEY_LEN; i++)
			printf("%02x", r->binding_key[i]);
	printf(" peer ");
	for (i = 0; i < r->npeer_addr; i++)
		printf("%s%s", i > 0 ? "," : "", dirclient_addr(&r->peer_addr[i],
		    a, sizeof(a)));
	if (r->npeer_addr == 0)
		printf("-");
	printf("\n");
	fflush(stdout);
}

/*
 * A ROUTE_DIRECTION's header id is its path id, not the session id that
 * dcclient_open() insists on: opened here under the session's k_DC->N and
 * replay window, as ntmd does (node/tunnelio.c).
 */
static int
dirclient_open(struct dcclient *dc, uint8_t *pkt, size_t len, struct msg *m)
{
	uint8_t nonce[PROTO_NONCE_LEN];
	struct msg_header h;
	struct rbuf r;
	int rc;

	if (dc->k_rx == NULL)
		return -ENOTCONN;
	rbuf_init(&r, pkt, len);
	if ((rc = msg_header_decode(&r, &h)) < 0)
		return rc;
	if (!(h.flags & PROTO_F_SEALED) || (h.flags & PROTO_F_FRAGMENT) ||
	    (size_t)PROTO_HEADER_LEN + h.length != len)
		return -EOPNOTSUPP;
	if (!replay_check(&dc->rx_window, h.seq))
		return -EALREADY;
	msg_nonce(&h, nonce);
	if ((rc = aead_open(dc->k_rx, nonce, pkt, PROTO_HEADER_LEN,
	    pkt + PROTO_HEADER_LEN, h.length, pkt + PROTO_HEADER_LEN,
	    h.length)) < 0)
		return rc;
	if ((rc = msg_decode(pkt, len, m)) < 0)
		return rc;
	(void)replay_update(&dc->rx_window, h.seq);
	return 0;
}

/* The DIRECTION_REQUEST for peer, sealed into out. */
static int
dirclient_request(struct dcclient *dcc, const char *peer, uint8_t *out,
    size_t cap, size_t *len, uint32_t *txid)
{
	static const uint8_t hash[PROTO_HASH_LEN] = { 0x5a };
	static const char status[] = "a status the DC passes on";
	struct msg m;

	msg_init(&m, PROTO_MSG_DIRECTION_REQUEST);
	if (msg_add_bytes(&m, PROTO_ATTR_PEER_FQDN, peer, strlen(peer)) < 0 ||
	    msg_add_u8(&m, PROTO_ATTR_KEX, PROTO_KEX_ECDHE) < 0 ||
	    msg_add_bytes(&m, PROTO_ATTR_CERT_HASH, hash, sizeof(hash)) < 0 ||
	    msg_add_bytes(&m, PROTO_ATTR_STATUS, status, strlen(status)) < 0)
		return -E2BIG;
	if (dcclient_seal(dcc, &m, out, cap, len) < 0)
		return -EINVAL;
	*txid = m.hdr.txid;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct ticket_keyring kr;
	struct ticket_body b;
	struct dcclient dcc;
	struct dcclient_action a;
	struct sockaddr_storage dc, local;
	struct msg_addr la, obs;
	struct msg m, ack;
	struct msg_route r;
	const struct msg_attr *pa;
	uint8_t key[DC_TICKET_KEY_LEN], ticket[PROTO_TICKET_MAX], rbuf[2048];
	uint8_t req[PROTO_DATAGRAM_MAX], abuf[PROTO_DATAGRAM_MAX];
	char why[512], text[LOOP_ADDRSTRLEN];
	const char *keyfile = NULL, *fqdn = NULL, *v4 = NULL, *v6 = NULL;
	const char *serial = NULL, *peer = NULL;
	size_t tlen, rlen = 0, alen;
	socklen_t sl;
	uint32_t kid, txid = 0;
	uint64_t deadline, next, now, resend = 0, interval = 250;
	bool wait_cn = false, registered = false;
	int ch, fd, timeout_s = 10, rc;

	while ((ch = getopt(argc, argv, "4:6:d:k:n:s:t:w")) != -1) {
		switch (ch) {
		case '4': v4 = optarg; break;
		case '6': v6 = optarg; break;
		case 'd': peer = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'n': fqdn = optarg; break;
		case 's': serial = optarg; break;
		case 't': timeout_s = atoi(optarg); break;
		case 'w': wait_cn = true; break;
		default: dirclient_usage();
		}
	}
	if (optind + 1 != argc || keyfile == NULL || fqdn == NULL ||
	    serial == NULL || (v4 == NULL && v6 == NULL) ||
	    (peer == NULL) == !wait_cn || strlen(fqdn) > PROTO_FQDN_MAX)
		dirclient_usage();
	if (loop_addr_parse(argv[optind], PROTO_PORT_DC, 0, &dc) < 0)
		dirclient_usage();
	if (ticket_key_read(keyfile, key, &kid, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	memset(&b, 0, sizeof(b));
	if (rng_bytes(rng_system(), b.id, sizeof(b.id)) < 0 ||
	    rng_bytes(rng_system(), b.key, sizeof(b.key)) < 0)
		return 1;
	b.fqdn_len = strlen(fqdn);
	memcpy(b.fqdn, fqdn, b.fqdn_len + 1);
	if (v4 != NULL && inet_pton(AF_INET, v4, b.vip4) == 1)
		b.has_vip4 = true;
	if (v6 != NULL && inet_pton(AF_INET6, v6, b.vip6) == 1)
		b.has_vip6 = true;
	if (dirclient_hex(serial, b.serial, sizeof(b.serial),
	    &b.serial_len) < 0)
		dirclient_usage();
	b.expiry = (uint64_t)time(NULL) + 3600;
	ticket_keyring_init(&kr);
	if (ticket_keyring_add(&kr, kid, key) < 0 ||
	    ticket_seal(&kr, kid, &b, rng_system(), ticket, sizeof(ticket),
	    &tlen) < 0) {
		fprintf(stderr, "cannot seal the ticket\n");
		return 1;
	}
	ticket_keyring_clear(&kr);

	if ((fd = socket(dc.ss_family, SOCK_DGRAM, 0)) < 0)
		return 1;
	if (connect(fd, (struct sockaddr *)&dc,
	    loop_addr_len((struct sockaddr *)&dc)) < 0) {
		perror("connect");
		return 1;
	}
	sl = sizeof(local);
	if (getsockname(fd, (struct sockaddr *)&local, &sl) < 0 ||
	    sigio_addr_from_sockaddr(&la, (struct sockaddr *)&local) < 0)
		return 1;
	dcclient_init(&dcc, rng_system());
	now = dirclient_now_ms();
	if (dcclient_set_ticket(&dcc, ticket, tlen, b.key, b.expiry) < 0 ||
	    dcclient_set_addrs(&dcc, &la, 1, now) < 0 ||
	    dcclient_start(&dcc, now) < 0) {
		fprintf(stderr, "dcclient refused the ticket or address\n");
		return 1;
	}
	deadline = now + (uint64_t)timeout_s * 1000;
	while ((now = dirclient_now_ms()) < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		while (dcclient_poll(&dcc, &a)) {
			switch (a.type) {
			case DCCLIENT_ACT_SEND:
				(void)send(fd, a.data, a.len, 0);
				break;
			case DCCLIENT_ACT_REGISTERED:
				if (registered)
					break;
				registered = true;
				obs = dcc.reg.observed;
				printf("registered %s observed %s\n", fqdn,
				    dirclient_addr(&obs, text, sizeof(text)));
				fflush(stdout);
				if (peer != NULL && dirclient_request(&dcc,
				    peer, req, sizeof(req), &rlen, &txid) < 0) {
					dcclient_clear(&dcc);
					return 1;
				}
				if (peer != NULL) {
					(void)send(fd, req, rlen, 0);
					resend = now + interval;
				}
				break;
			case DCCLIENT_ACT_LOST:
			case DCCLIENT_ACT_NEED_TICKET:
				printf("refused %s\n",
				    msg_status_name(a.status));
				dcclient_clear(&dcc);
				return 3;
			default:
				break;
			}
		}
		next = dcclient_next_timer(&dcc);
		if (resend != 0 && resend < next)
			next = resend;
		if (next > deadline)
			next = deadline;
		if (poll(&pfd, 1, next > now ? (int)(next - now) : 0) > 0 &&
		    (n = recv(fd, rbuf, sizeof(rbuf), 0)) > 0) {
			if (n < PROTO_HEADER_LEN ||
			    rbuf[1] != PROTO_MSG_ROUTE_DIRECTION) {
				(void)dcclient_input(&dcc, rbuf, (size_t)n,
				    dirclient_now_ms());
				continue;
			}
			if ((rc = dirclient_open(&dcc, rbuf, (size_t)n,
			    &m)) < 0) {
				fprintf(stderr, "route direction dropped: %d\n",
				    rc);
				continue;
			}
			if (peer != NULL && m.hdr.txid != txid)
				continue;
			if (m.hdr.status != PROTO_STATUS_OK) {
				printf("refused %s\n",
				    msg_status_name(m.hdr.status));
				dcclient_clear(&dcc);
				return 3;
			}
			if (msg_route_read(&m, &r) < 0)
				continue;
			if (wait_cn) {
				msg_init(&ack, PROTO_MSG_NTM_ACK);
				pa = msg_attr_find(&m, PROTO_ATTR_PATH_ID);
				if (pa == NULL || msg_add_bytes(&ack,
				    PROTO_ATTR_PATH_ID, pa->val, pa->len) < 0 ||
				    dcclient_seal(&dcc, &ack, abuf,
				    sizeof(abuf), &alen) < 0) {
					dcclient_clear(&dcc);
					return 1;
				}
				(void)send(fd, abuf, alen, 0);
			}
			dirclient_print(&r);
			dcclient_clear(&dcc);
			return 0;
		}
		now = dirclient_now_ms();
		if (resend != 0 && now >= resend && interval <= 2000) {
			(void)send(fd, req, rlen, 0);
			interval *= 2;
			resend = now + interval;
		}
		dcclient_timer(&dcc, now);
	}
	printf("timeout\n");
	dcclient_clear(&dcc);
	return 1;
}
