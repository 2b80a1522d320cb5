/* regclient.c -- test node for ntm-dc: seals a DC ticket with lib/ticket and registers over UDP with node/dcclient. */
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

#include "dc.h"
#include "dcclient.h"
#include "loop.h"
#include "msg.h"
#include "rand.h"
#include "sigio.h"
#include "ticket.h"

/*
 * usage: regclient -k ticket_key_file -n fqdn [-4 vip4] [-6 vip6]
 *            [-s serial_hex] [-t timeout_s] dc_addr[:port]
 *
 * Plays the AS (seals a 1-hour ticket for fqdn under the DC's ticket key)
 * and the node (REG_HELLO, REGISTRATION through node/dcclient from a UDP
 * socket on an ephemeral port).  Prints one line and exits:
 *   0  "registered <fqdn> observed <addr> nat <n> lifetime <s>"
 *   3  "refused <STATUS>"  (the DC's status, e.g. REVOKED, BAD_TICKET)
 *   1  "timeout" or a usage/setup error.
 */

static uint64_t
regclient_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
regclient_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
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

static void
regclient_usage(void)
{
	fprintf(stderr, "usage: regclient -k keyfile -n fqdn [-4 vip4] "
	    "[-6 vip6] [-s serial_hex] [-t timeout_s] dc_addr[:port]\n");
	exit(1);
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
	uint8_t key[DC_TICKET_KEY_LEN], ticket[PROTO_TICKET_MAX], rbuf[2048];
	char why[512], text[LOOP_ADDRSTRLEN];
	const char *keyfile = NULL, *fqdn = NULL, *v4 = NULL, *v6 = NULL;
	const char *serial = NULL;
	size_t tlen;
	socklen_t sl;
	uint32_t kid;
	uint64_t deadline, next, now;
	int ch, fd, timeout_s = 5;

	while ((ch = getopt(argc, argv, "4:6:k:n:s:t:")) != -1) {
		switch (ch) {
		case '4': v4 = optarg; break;
		case '6': v6 = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'n': fqdn = optarg; break;
		case 's': serial = optarg; break;
		case 't': timeout_s = atoi(optarg); break;
		default: regclient_usage();
		}
	}
	if (optind + 1 != argc || keyfile == NULL || fqdn == NULL ||
	    (v4 == NULL && v6 == NULL) || strlen(fqdn) > PROTO_FQDN_MAX)
		regclient_usage();
	if (loop_addr_parse(argv[optind], PROTO_PORT_DC, 0, &dc) < 0)
		regclient_usage();
	if (ticket_key_read(keyfile, key, &kid, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}

	/* The AS's half: the ticket. */
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
	if (serial != NULL && regclient_hex(serial, b.serial,
	    sizeof(b.serial), &b.serial_len) < 0)
		regclient_usage();
	b.expiry = (uint64_t)time(NULL) + 3600;
	ticket_keyring_init(&kr);
	if (ticket_keyring_add(&kr, kid, key) < 0 ||
	    ticket_seal(&kr, kid, &b, rng_system(), ticket, sizeof(ticket),
	    &tlen) < 0) {
		fprintf(stderr, "cannot seal the ticket\n");
		return 1;
	}
	ticket_keyring_clear(&kr);

	/* The node's half: a socket and the registration client. */
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
	now = regclient_now_ms();
	if (dcclient_set_ticket(&dcc, ticket, tlen, b.key, b.expiry) < 0 ||
	    dcclient_set_addrs(&dcc, &la, 1, now) < 0 ||
	    dcclient_start(&dcc, now) < 0) {
		fprintf(stderr, "dcclient refused the ticket or address\n");
		return 1;
	}
	deadline = now + (uint64_t)timeout_s * 1000;
	while ((now = regclient_now_ms()) < deadline) {
		ssize_t n;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		while (dcclient_poll(&dcc, &a)) {
			switch (a.type) {
			case DCCLIENT_ACT_SEND:
				(void)send(fd, a.data, a.len, 0);
				break;
			case DCCLIENT_ACT_REGISTERED:
				obs = dcc.reg.observed;
				(void)sigio_addr_to_sockaddr(&local, &obs);
				(void)loop_addr_format((struct sockaddr *)
				    &local, text, sizeof(text));
				printf("registered %s observed %s nat %u "
				    "lifetime %u\n", dcc.reg.fqdn[0] != '\0' ?
				    dcc.reg.fqdn : fqdn, text, dcc.reg.nat,
				    dcc.reg.lifetime_s);
				dcclient_clear(&dcc);
				return 0;
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
		if (next > deadline)
			next = deadline;
		if (poll(&pfd, 1, next > now ? (int)(next - now) : 0) > 0 &&
		    (n = recv(fd, rbuf, sizeof(rbuf), 0)) > 0)
			(void)dcclient_input(&dcc, rbuf, (size_t)n,
			    regclient_now_ms());
		dcclient_timer(&dcc, regclient_now_ms());
	}
	printf("timeout\n");
	dcclient_clear(&dcc);
	return 1;
}
