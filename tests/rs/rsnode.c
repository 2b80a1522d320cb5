/* rsnode.c -- test node for ntm-rs: binds with RS_HELLO (and the cookie round trip), sends and echoes DATA through the relay, prints what arrives. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "rs/relay.h"

/*
 * usage: rsnode -r RS_ADDR:PORT [-l LOCAL_ADDR[:PORT]] [-i RID -k KEY_HEX
 *               [-c COUNTER] [-F]] [-d DEST_RID [-n COUNT] [-m TEXT]
 *               [-z SIZE]] [-e] [-x PACKETS] [-w MS]
 *
 *   -i/-k   bind: send RS_HELLO for receiver id RID under KEY (counter
 *           COUNTER, default 1); on an RS_COOKIE within 500 ms send the
 *           next hello carrying it ("cookie" is printed).  -F forges the
 *           tag (a wrong key).
 *   -d      then send COUNT (default 1) DATA packets with receiver id
 *           DEST_RID whose payload is TEXT repeated to SIZE bytes.
 *   -e      answer every DATA received with a DATA to DEST_RID whose
 *           payload is "echo:" and the received payload.
 *   -x, -w  stop after PACKETS DATA received, or after MS (default 2000).
 *
 * Prints "sent N sha HEX8" for what it sent and, per DATA received,
 * "data from ADDR len N sha HEX8 text TEXT" (sha: the first 4 bytes of
 * SHA-256 of the payload, text: the payload up to its first byte that is
 * not printable).  Exit 0 unless the arguments or the socket fail.
 */

struct opts {
	struct sockaddr_storage	 rs, local;
	bool			 bind;
	uint32_t		 rid;
	uint8_t			 key[PROTO_KEY_LEN];
	uint64_t		 counter;
	bool			 forge;
	bool			 send;
	uint32_t		 dest;
	long			 count;
	const char		*text;
	size_t			 size;
	bool			 echo;
	long			 packets;
	long			 wait_ms;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
hex_parse(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	unsigned v;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static void
sha8(const uint8_t *p, size_t n, char out[9])
{
	uint8_t h[CRYPTO_SHA256_SIZE];

	crypto_sha256(h, p, n);
	snprintf(out, 9, "%02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
}

static int
send_to(int fd, const struct sockaddr_storage *to, const void *p, size_t n)
{
	if (sendto(fd, p, n, 0, (const struct sockaddr *)to,
	    loop_addr_len((const struct sockaddr *)to)) != (ssize_t)n) {
		fprintf(stderr, "rsnode: sendto: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int
send_hello(int fd, const struct opts *o, uint64_t counter,
    const uint8_t *cookie)
{
	uint8_t pkt[RELAY_HELLO_LEN], key[PROTO_KEY_LEN];

	memcpy(key, o->key, sizeof(key));
	if (o->forge)
		key[0] ^= 0x80;
	if (relay_hello_build(key, o->rid, counter, cookie, pkt) < 0)
		return -1;
	printf("hello %llu%s\n", (unsigned long long)counter,
	    cookie != NULL ? " with cookie" : "");
	return send_to(fd, &o->rs, pkt, sizeof(pkt));
}

static size_t
data_build(uint8_t *pkt, size_t cap, uint32_t rid, uint64_t counter,
    const uint8_t *payload, size_t n)
{
	struct msg_data dh = { PROTO_VERSION_1, PROTO_MSG_DATA, 0, rid,
	    counter };
	struct wbuf w;

	wbuf_init(&w, pkt, cap);
	(void)msg_data_encode(&dh, &w);
	wbuf_put_bytes(&w, payload, n);
	return wbuf_error(&w) < 0 ? 0 : wbuf_len(&w);
}

/* Waits up to ms for one datagram; returns its length, 0 on timeout. */
static ssize_t
recv_wait(int fd, uint8_t *buf, size_t cap, struct sockaddr_storage *from,
    long ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	socklen_t fl = sizeof(*from);

	if (ms <= 0 || poll(&pfd, 1, (int)ms) <= 0)
		return 0;
	return recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, &fl);
}

static void
print_data(const struct sockaddr_storage *from, const uint8_t *p, size_t n)
{
	char a[LOOP_ADDRSTRLEN], h[9];
	size_t t;

	(void)loop_addr_format((const struct sockaddr *)from, a, sizeof(a));
	sha8(p, n, h);
	for (t = 0; t < n && t < 64 && p[t] >= 0x21 && p[t] < 0x7f; t++)
		;
	printf("data from %s len %zu sha %s text %.*s\n", a, n, h, (int)t,
	    (const char *)p);
	fflush(stdout);
}

static int
run(const struct opts *o, int fd)
{
	uint8_t buf[2048], pkt[2048], payload[1500];
	struct sockaddr_storage from;
	struct msg_data dh;
	const uint8_t *body;
	size_t blen, plen, len, i;
	uint64_t out_counter = 0;
	int64_t deadline;
	long got = 0, k;
	ssize_t n;
	char h[9];

	if (o->bind) {
		if (send_hello(fd, o, o->counter, NULL) < 0)
			return 1;
		n = recv_wait(fd, buf, sizeof(buf), &from, 500);
		if (n > 0 && msg_data_decode(buf, (size_t)n, &dh, &body,
		    &blen) == 0 && dh.type == PROTO_MSG_RS_COOKIE &&
		    dh.rid == o->rid) {
			printf("cookie\n");
			if (send_hello(fd, o, o->counter + 1, body) < 0)
				return 1;
			/* A second cookie means the binding failed. */
			n = recv_wait(fd, buf, sizeof(buf), &from, 300);
			if (n > 0 && msg_data_decode(buf, (size_t)n, &dh,
			    &body, &blen) == 0 &&
			    dh.type == PROTO_MSG_RS_COOKIE)
				printf("cookie again\n");
		}
		fflush(stdout);
	}
	if (o->send) {
		plen = o->size;
		for (i = 0; i < plen; i++)
			payload[i] = (uint8_t)o->text[i % strlen(o->text)];
		for (k = 0; k < o->count; k++) {
			len = data_build(pkt, sizeof(pkt), o->dest,
			    out_counter++, payload, plen);
			if (len == 0 || send_to(fd, &o->rs, pkt, len) < 0)
				return 1;
		}
		sha8(payload, plen, h);
		printf("sent %ld sha %s\n", o->count, h);
		fflush(stdout);
	}
	deadline = now_ms() + o->wait_ms;
	while (o->packets == 0 || got < o->packets) {
		n = recv_wait(fd, buf, sizeof(buf), &from,
		    (long)(deadline - now_ms()));
		if (n <= 0)
			break;
		if (msg_data_decode(buf, (size_t)n, &dh, &body, &blen) < 0 ||
		    dh.type != PROTO_MSG_DATA)
			continue;
		got++;
		print_data(&from, body, blen);
		if (o->echo && o->send && blen + 5 <= sizeof(payload)) {
			memcpy(payload, "echo:", 5);
			memcpy(payload + 5, body, blen);
			len = data_build(pkt, sizeof(pkt), o->dest,
			    out_counter++, payload, blen + 5);
			if (len > 0)
				(void)send_to(fd, &o->rs, pkt, len);
		}
	}
	printf("received %ld\n", got);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	const char *local = NULL, *rs = NULL;
	int ch, fd, rc;

	memset(&o, 0, sizeof(o));
	o.counter = 1;
	o.count = 1;
	o.text = "relayed";
	o.wait_ms = 2000;
	while ((ch = getopt(argc, argv, "c:d:ei:k:Fl:m:n:r:w:x:z:")) != -1) {
		switch (ch) {
		case 'c': o.counter = strtoull(optarg, NULL, 0); break;
		case 'd':
			o.dest = (uint32_t)strtoul(optarg, NULL, 0);
			o.send = true;
			break;
		case 'e': o.echo = true; break;
		case 'F': o.forge = true; break;
		case 'i':
			o.rid = (uint32_t)strtoul(optarg, NULL, 0);
			o.bind = true;
			break;
		case 'k':
			if (hex_parse(optarg, o.key, PROTO_KEY_LEN) < 0)
				return 2;
			break;
		case 'l': local = optarg; break;
		case 'm': o.text = optarg; break;
		case 'n': o.count = strtol(optarg, NULL, 0); break;
		case 'r': rs = optarg; break;
		case 'w': o.wait_ms = strtol(optarg, NULL, 0); break;
		case 'x': o.packets = strtol(optarg, NULL, 0); break;
		case 'z': o.size = (size_t)strtoul(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (o.size == 0)
		o.size = strlen(o.text) > 32 ? strlen(o.text) : 32;
	if (rs == NULL || optind != argc || *o.text == '\0' ||
	    o.size > 1400 ||
	    loop_addr_parse(rs, PROTO_PORT_RS, 0, &o.rs) < 0 ||
	    (local != NULL && loop_addr_parse(local, 0, 0, &o.local) < 0)) {
		fprintf(stderr, "usage: rsnode -r RS_ADDR:PORT "
		    "[-l LOCAL_ADDR[:PORT]] [-i RID -k KEY_HEX [-c COUNTER] "
		    "[-F]] [-d DEST_RID [-n COUNT] [-m TEXT] [-z SIZE]] [-e] "
		    "[-x PACKETS] [-w MS]\n");
		return 2;
	}
	log_init("rsnode", 1, LOG_LEVEL_WARN);
	if (local == NULL) {
		memset(&o.local, 0, sizeof(o.local));
		o.local.ss_family = o.rs.ss_family;
	}
	if ((fd = socket(o.local.ss_family, SOCK_DGRAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&o.local,
	    loop_addr_len((struct sockaddr *)&o.local)) < 0) {
		fprintf(stderr, "rsnode: socket: %s\n", strerror(errno));
		return 1;
	}
	rc = run(&o, fd);
	close(fd);
	return rc;
}
