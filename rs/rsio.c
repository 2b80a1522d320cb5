/* rsio.c -- the RS's UDP I/O: non-blocking sockets under uv_poll_t, recvmmsg/sendmmsg batches into rs/relay. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "msg.h"
#include "relay.h"
#include "rsio.h"

struct rsio_sock {
	struct rsio		*io;
	uv_poll_t		 poll;
	int			 fd;
	bool			 polling;	/* uv_poll_init done */
	struct sockaddr_storage	 addr;
};

/* One received datagram and, when it goes out again, where to. */
struct rsio_slot {
	struct sockaddr_storage	 from;
	struct sockaddr_storage	 to;
	size_t			 len;
	bool			 send;
	uint8_t			 buf[RSIO_SLOT_SIZE];
};

struct rsio {
	uv_loop_t		*loop;		/* borrowed */
	struct relay		*relay;		/* borrowed */
	struct rsio_sock	 sock[RSIO_SOCKETS_MAX];
	size_t			 nsock;
	int			 sendfd[2];	/* IPv4, IPv6; -1: none */
	uv_timer_t		 timer;
	bool			 timer_init;
	size_t			 closes;	/* close callbacks to come */
	bool			 closing;
	struct rsio_stats	 stats;
	struct rsio_slot	*slots;		/* RSIO_BATCH */
	struct mmsghdr		 in[RSIO_BATCH];
	struct iovec		 iniov[RSIO_BATCH];
	struct mmsghdr		 out[RSIO_BATCH];
	struct iovec		 outiov[RSIO_BATCH];
};

static void
rsio_to_msg_addr(struct msg_addr *a, const struct sockaddr_storage *ss)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		a->family = PROTO_FAMILY_IPV4;
		a->port = ntohs(in->sin_port);
		memcpy(a->addr, &in->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		a->family = PROTO_FAMILY_IPV6;
		a->port = ntohs(in6->sin6_port);
		memcpy(a->addr, &in6->sin6_addr, 16);
	}
}

static void
rsio_to_sockaddr(struct sockaddr_storage *ss, const struct msg_addr *a)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == PROTO_FAMILY_IPV4) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		memcpy(&in->sin_addr, a->addr, 4);
	} else if (a->family == PROTO_FAMILY_IPV6) {
		struct sockaddr_in6 *in6 = (void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(a->port);
		memcpy(&in6->sin6_addr, a->addr, 16);
	}
}

static void
rsio_log_drop(const struct sockaddr_storage *from,
    const struct relay_action *act)
{
	char a[LOOP_ADDRSTRLEN];

	if (log_getlevel() < LOG_LEVEL_DEBUG)
		return;
	if (loop_addr_format((const struct sockaddr *)from, a, sizeof(a)) < 0)
		strcpy(a, "?");
	log_debug("relay: drop from %s: %s", a, relay_drop_name(act->drop));
}

/* Sends the slots marked for sending, one family's run at a time. */
static void
rsio_flush(struct rsio *io, int n)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	struct rsio_slot *s;
	int f, i, k, done, sent;

	for (f = 0; f < 2; f++) {
		for (i = 0, k = 0; i < n; i++) {
			s = &io->slots[i];
			if (!s->send || s->to.ss_family != fams[f])
				continue;
			io->outiov[k].iov_base = s->buf;
			io->outiov[k].iov_len = s->len;
			memset(&io->out[k], 0, sizeof(io->out[k]));
			io->out[k].msg_hdr.msg_name = &s->to;
			io->out[k].msg_hdr.msg_namelen =
			    loop_addr_len((struct sockaddr *)&s->to);
			io->out[k].msg_hdr.msg_iov = &io->outiov[k];
			io->out[k].msg_hdr.msg_iovlen = 1;
			k++;
		}
		if (k > 0 && io->sendfd[f] < 0) {
			io->stats.send_errors += (uint64_t)k;
			continue;
		}
		/* What the socket refuses is dropped, never queued. */
		for (done = 0; done < k; ) {
			sent = sendmmsg(io->sendfd[f], &io->out[done],
			    (unsigned)(k - done), MSG_DONTWAIT);
			if (sent < 0 && errno == EINTR)
				continue;
			if (sent <= 0) {
				io->stats.send_errors++;
				done++;
				continue;
			}
			for (i = done; i < done + sent; i++) {
				io->stats.sent++;
				io->stats.sent_bytes += io->out[i].msg_len;
			}
			done += sent;
		}
	}
}

static void
rsio_read(struct rsio *io, int fd)
{
	struct relay_action act;
	struct msg_addr from;
	struct rsio_slot *s;
	uint64_t now;
	int i, n, round;

	for (round = 0; round < RSIO_ROUNDS; round++) {
		for (i = 0; i < RSIO_BATCH; i++) {
			s = &io->slots[i];
			io->iniov[i].iov_base = s->buf;
			io->iniov[i].iov_len = sizeof(s->buf);
			memset(&io->in[i], 0, sizeof(io->in[i]));
			io->in[i].msg_hdr.msg_name = &s->from;
			io->in[i].msg_hdr.msg_namelen = sizeof(s->from);
			io->in[i].msg_hdr.msg_iov = &io->iniov[i];
			io->in[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, io->in, RSIO_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("relay: recvmmsg");
			return;
		}
		now = uv_now(io->loop);
		for (i = 0; i < n; i++) {
			s = &io->slots[i];
			s->send = false;
			s->len = io->in[i].msg_len;
			io->stats.received++;
			io->stats.received_bytes += s->len;
			if (io->in[i].msg_hdr.msg_flags & MSG_TRUNC) {
				io->stats.truncated++;
				continue;
			}
			rsio_to_msg_addr(&from, &s->from);
			relay_input(io->relay, s->buf, s->len, &from, now,
			    &act);
			switch (act.verdict) {
			case RELAY_VERDICT_FORWARD:
				rsio_to_sockaddr(&s->to, &act.to);
				s->send = true;
				break;
			case RELAY_VERDICT_REPLY:
				/* The input is done with: the cookie goes
				 * out of its slot. */
				memcpy(s->buf, act.reply, act.reply_len);
				s->len = act.reply_len;
				rsio_to_sockaddr(&s->to, &act.to);
				s->send = true;
				break;
			case RELAY_VERDICT_DROP:
				rsio_log_drop(&s->from, &act);
				break;
			default:
				break;
			}
		}
		rsio_flush(io, n);
		if (n < RSIO_BATCH)
			return;
	}
}

static void
rsio_poll_cb(uv_poll_t *h, int status, int events)
{
	struct rsio_sock *s = h->data;

	if (status < 0) {
		log_warnx("relay: poll: %s", uv_strerror(status));
		return;
	}
	if (events & UV_READABLE)
		rsio_read(s->io, s->fd);
}

static void
rsio_timer_cb(uv_timer_t *t)
{
	struct rsio *io = t->data;

	(void)relay_expire(io->relay, uv_now(io->loop));
}

static bool
rsio_addr_matches(const struct sockaddr_storage *ss, const struct msg_addr *a)
{
	struct msg_addr b;

	rsio_to_msg_addr(&b, ss);
	return b.family == a->family && b.port == a->port &&
	    memcmp(b.addr, a->addr, a->family == PROTO_FAMILY_IPV4 ? 4 : 16) ==
	    0;
}

/* Per family: the socket on the advertised address, else the first. */
static void
rsio_pick_senders(struct rsio *io, const struct msg_addr *adv, size_t nadv)
{
	size_t i, j;
	int f;

	io->sendfd[0] = io->sendfd[1] = -1;
	for (i = 0; i < io->nsock; i++) {
		f = io->sock[i].addr.ss_family == AF_INET ? 0 : 1;
		for (j = 0; j < nadv; j++)
			if (rsio_addr_matches(&io->sock[i].addr, &adv[j]))
				io->sendfd[f] = io->sock[i].fd;
	}
	for (i = 0; i < io->nsock; i++) {
		f = io->sock[i].addr.ss_family == AF_INET ? 0 : 1;
		if (io->sendfd[f] < 0)
			io->sendfd[f] = io->sock[i].fd;
	}
}

int
rsio_start(struct rsio **out, uv_loop_t *loop, struct relay *relay,
    const struct sockaddr_storage *listen, size_t nlisten,
    const struct msg_addr *adv, size_t nadv)
{
	struct rsio *io;
	struct rsio_sock *s;
	char text[LOOP_ADDRSTRLEN];
	size_t i;
	int rc;

	*out = NULL;
	if (nlisten == 0 || nlisten > RSIO_SOCKETS_MAX)
		return -EINVAL;
	if ((io = calloc(1, sizeof(*io))) == NULL ||
	    (io->slots = calloc(RSIO_BATCH, sizeof(*io->slots))) == NULL) {
		free(io);
		return -ENOMEM;
	}
	io->loop = loop;
	io->relay = relay;
	*out = io;
	for (i = 0; i < nlisten; i++) {
		s = &io->sock[io->nsock];
		s->io = io;
		s->fd = -1;
		s->addr = listen[i];
		(void)loop_addr_format((const struct sockaddr *)&listen[i],
		    text, sizeof(text));
		if ((rc = loop_udp_socket((const struct sockaddr *)&listen[i],
		    0, &s->fd)) < 0) {
			log_warnx("relay: %s: %s", text, strerror(-rc));
			return rc;
		}
		io->nsock++;
		if ((rc = uv_poll_init(loop, &s->poll, s->fd)) < 0) {
			log_warnx("relay: %s: %s", text, uv_strerror(rc));
			return rc;
		}
		s->polling = true;
		s->poll.data = s;
		if ((rc = uv_poll_start(&s->poll, UV_READABLE,
		    rsio_poll_cb)) < 0) {
			log_warnx("relay: %s: %s", text, uv_strerror(rc));
			return rc;
		}
		log_info("relay: UDP on %s", text);
	}
	rsio_pick_senders(io, adv, nadv);
	if ((rc = uv_timer_init(loop, &io->timer)) < 0)
		return rc;
	io->timer_init = true;
	io->timer.data = io;
	return uv_timer_start(&io->timer, rsio_timer_cb, RELAY_SWEEP_MS,
	    RELAY_SWEEP_MS);
}

static void
rsio_closed(uv_handle_t *h)
{
	struct rsio *io = h->data;

	if (h->type == UV_POLL)
		io = ((struct rsio_sock *)h->data)->io;
	if (--io->closes == 0) {
		free(io->slots);
		free(io);
	}
}

void
rsio_close(struct rsio *io)
{
	size_t i;

	if (io == NULL || io->closing)
		return;
	io->closing = true;
	io->closes = 1;		/* held until the end of this function */
	for (i = 0; i < io->nsock; i++) {
		if (io->sock[i].polling) {
			uv_poll_stop(&io->sock[i].poll);
			io->closes++;
			uv_close((uv_handle_t *)&io->sock[i].poll,
			    rsio_closed);
		}
		if (io->sock[i].fd >= 0)
			close(io->sock[i].fd);
	}
	if (io->timer_init) {
		io->closes++;
		uv_close((uv_handle_t *)&io->timer, rsio_closed);
	}
	if (--io->closes == 0) {
		free(io->slots);
		free(io);
	}
}

const struct rsio_stats *
rsio_stats(const struct rsio *io)
{
	return &io->stats;
}
