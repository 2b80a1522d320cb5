/* dnsnet.c -- DNS sockets on libuv: batched UDP answers, pipelined TCP with idle timeout, NOTIFY with retries. */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dnsnet.h"
#include "log.h"
#include "loop.h"
#include "rand.h"
#include "xfr.h"
#include "zone.h"

enum {
	DNSNET_TCP_BACKLOG = 128,
	DNSNET_UDP_RECV = 65536,
	DNSNET_TCP_FRAME = 2,
	DNSNET_WRITE_HIGH = 4 * 1024 * 1024,	/* stop reading above this */
	DNSNET_NOTIFY_MSG = 1024,
	DNSNET_JOBS = XFR_NOTIFY_MAX * ZONE_APEX_MAX,
	DNSNET_LISTEN_MAX = 16,
	/*
	 * The UDP server sockets: datagrams per recvmmsg (and answers per
	 * sendmmsg).  A wakeup reads until the socket is empty, for at most
	 * DNSNET_SLICE_US before the loop serves its other handles.
	 */
	DNSNET_BATCH = 64,
	DNSNET_SLICE_US = 1000,
	/*
	 * A receive slot holds any datagram whole, as uv_udp did, so an
	 * oversized query still reaches dns_answer (FORMERR, not silence).
	 * The extra cache line puts the slots' first bytes in different
	 * cache sets.  Pages are touched only as far as datagrams reach.
	 */
	DNSNET_RX_SLOT = DNSNET_UDP_RECV + 64,
};

/* The NOTIFY client sockets: libuv's UDP handle is enough there. */
struct dnsnet_udp {
	uv_udp_t	 h;
	struct dnsnet	*net;
	uint8_t		 buf[DNSNET_UDP_RECV];
};

/*
 * Room for one IP_PKTINFO or IPV6_PKTINFO message, aligned for cmsghdr
 * (its cmsg_len is a size_t).  Not a struct cmsghdr member: glibc ends it
 * with a flexible array, which clang will not have inside another struct.
 */
union dnsnet_cmsg {
	size_t		 align;
	uint8_t		 b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

static struct cmsghdr *
dnsnet_cmsg_hdr(union dnsnet_cmsg *c)
{
	return (struct cmsghdr *)(void *)c->b;
}

/* Per datagram of a batch: who asked, where to, and the answer. */
struct dnsnet_slot {
	struct dns_hint		 hint;
	struct sockaddr_storage	 peer;
	union dnsnet_cmsg	 rxctl;		/* query's destination */
	union dnsnet_cmsg	 txctl;		/* answer's source */
	uint8_t			 out[DNS_UDP_MAX];
};

/*
 * A UDP server socket under uv_poll_t: its own non-blocking socket read
 * with recvmmsg and answered with one sendmmsg per batch, from buffers
 * allocated once here (no allocation per datagram).  On a wildcard address
 * the query's destination comes with it (IP_PKTINFO / IPV6_PKTINFO) and
 * the answer leaves from that address, so a multi-homed host answers from
 * the address it was asked on.
 */
struct dnsnet_server {
	uv_poll_t		 h;
	struct dnsnet		*net;
	int			 fd;
	bool			 pktinfo;
	char			 name[LOOP_ADDRSTRLEN];
	struct mmsghdr		 rx[DNSNET_BATCH];
	struct iovec		 rxiov[DNSNET_BATCH];
	struct mmsghdr		 tx[DNSNET_BATCH];
	struct iovec		 txiov[DNSNET_BATCH];
	struct dnsnet_slot	 slot[DNSNET_BATCH];
	uint8_t			*rxbuf;		/* DNSNET_BATCH slots */
};

struct dnsnet_listener {
	uv_tcp_t	 h;
	struct dnsnet	*net;
};

struct dnsnet_conn {
	uv_tcp_t		 h;
	uv_timer_t		 idle;
	struct dnsnet		*net;
	struct dnsnet_conn	*prev, *next;
	struct sockaddr_storage	 peer;
	char			 name[INET6_ADDRSTRLEN + 8];
	int			 open_handles;
	bool			 closing;
	bool			 eof;
	bool			 reading;
	unsigned		 writes;
	size_t			 wbytes;
	size_t			 idle_queued;	/* write queue at the last
						 * idle timeout */
	size_t			 rlen;
	uint8_t			 rbuf[DNSNET_TCP_FRAME + DNS_TCP_MAX];
	uint8_t			 out[DNSNET_TCP_FRAME + DNS_TCP_MAX];
};

struct dnsnet_write {
	uv_write_t		 req;
	struct dnsnet_conn	*conn;
	uint8_t			*data;
	size_t			 len;
};

struct dnsnet_job {
	size_t		target;
	int		apex;
	uint16_t	id;
	unsigned	tries;
	bool		done;
};

struct dnsnet {
	uv_loop_t		*loop;
	struct dns_server	*srv;
	struct dnsnet_config	 cfg;
	struct dnsnet_server	*udp[DNSNET_LISTEN_MAX];
	size_t			 nudp;
	struct dnsnet_listener	*tcp[DNSNET_LISTEN_MAX];
	size_t			 ntcp;
	struct dnsnet_conn	*conns;
	unsigned		 nconns;
	/* NOTIFY client side */
	struct dnsnet_udp	*nsock4, *nsock6;
	uv_timer_t		 ntimer;
	bool			 ntimer_init;
	struct dnsnet_job	 jobs[DNSNET_JOBS];
	size_t			 njobs;
	int			 open_handles;
	bool			 closing;
};

static void
dnsnet_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		port = ntohs(s->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		port = ntohs(s->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else
		snprintf(buf, len, "?");
}

static void
dnsnet_maybe_free(struct dnsnet *net)
{
	if (net->closing && net->open_handles == 0) {
		size_t i;

		for (i = 0; i < net->nudp; i++) {
			close(net->udp[i]->fd);
			free(net->udp[i]->rxbuf);
			free(net->udp[i]);
		}
		for (i = 0; i < net->ntcp; i++)
			free(net->tcp[i]);
		free(net->nsock4);
		free(net->nsock6);
		free(net);
	}
}

static void
dnsnet_handle_closed(uv_handle_t *h)
{
	struct dnsnet *net = h->data;

	net->open_handles--;
	dnsnet_maybe_free(net);
}

/* ---- UDP ---------------------------------------------------------------- */

static void
dnsnet_udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct dnsnet_udp *u = (struct dnsnet_udp *)h;

	buf->base = (char *)u->buf;
	buf->len = sizeof(u->buf);
}

/* Where the query in slot i was sent to, as the answer's source. */
static bool
dnsnet_server_dst(struct dnsnet_server *u, int i)
{
	struct msghdr *mh = &u->rx[i].msg_hdr;
	struct dnsnet_slot *s = &u->slot[i];
	struct in_pktinfo p4;
	struct in6_pktinfo p6;
	struct cmsghdr *cm, *out;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		out = dnsnet_cmsg_hdr(&s->txctl);
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(p4))) {
			memcpy(&p4, CMSG_DATA(cm), sizeof(p4));
			/* Source address given; the route picks the device. */
			p4.ipi_spec_dst = p4.ipi_addr;
			p4.ipi_addr.s_addr = INADDR_ANY;
			p4.ipi_ifindex = 0;
			out->cmsg_level = IPPROTO_IP;
			out->cmsg_type = IP_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof(p4));
			memcpy(CMSG_DATA(out), &p4, sizeof(p4));
			return true;
		}
		if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(p6))) {
			/* Address and interface (a link-local needs both). */
			memcpy(&p6, CMSG_DATA(cm), sizeof(p6));
			out->cmsg_level = IPPROTO_IPV6;
			out->cmsg_type = IPV6_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof(p6));
			memcpy(CMSG_DATA(out), &p6, sizeof(p6));
			return true;
		}
	}
	return false;
}
/* Ready slot i's receive header for the next recvmmsg. */
static void
dnsnet_server_rearm(struct dnsnet_server *u, int i)
{
	struct msghdr *mh = &u->rx[i].msg_hdr;

	mh->msg_namelen = sizeof(u->slot[i].peer);
	mh->msg_controllen = u->pktinfo ? sizeof(u->slot[i].rxctl) : 0;
	mh->msg_flags = 0;
}

/*
 * Answers the datagram in slot i into the slot and fills tx[k] to send
 * it.  Returns false when nothing is to be sent.
 */
static bool
dnsnet_server_answer(struct dnsnet_server *u, int i, int k, uint64_t now)
{
	struct dnsnet *net = u->net;
	struct dnsnet_slot *s = &u->slot[i];
	struct msghdr *rh = &u->rx[i].msg_hdr, *th = &u->tx[k].msg_hdr;
	struct dns_request req;
	size_t outlen;

	/* An empty datagram is ignored, as libuv's UDP handle did. */
	if (u->rx[i].msg_len == 0)
		return false;
	if (rh->msg_flags & MSG_TRUNC) {
		net->srv->stats.malformed_dropped++;
		return false;
	}
	req.wire = u->rxbuf + (size_t)i * DNSNET_RX_SLOT;
	req.len = u->rx[i].msg_len;
	req.src = (const struct sockaddr *)&s->peer;
	req.transport = DNS_TRANSPORT_UDP;
	req.now = now;
	if (dns_answer(net->srv, &req, s->out, sizeof(s->out), &outlen) !=
	    DNS_ACTION_ANSWER)
		return false;
	u->txiov[k].iov_base = s->out;
	u->txiov[k].iov_len = outlen;
	th->msg_name = &s->peer;
	th->msg_namelen = rh->msg_namelen;
	th->msg_iov = &u->txiov[k];
	th->msg_iovlen = 1;
	th->msg_flags = 0;
	if (u->pktinfo && dnsnet_server_dst(u, i)) {
		th->msg_control = &s->txctl;
		th->msg_controllen = dnsnet_cmsg_hdr(&s->txctl)->cmsg_len ==
		    CMSG_LEN(sizeof(struct in_pktinfo)) ?
		    CMSG_SPACE(sizeof(struct in_pktinfo)) :
		    CMSG_SPACE(sizeof(struct in6_pktinfo));
	} else {
		th->msg_control = NULL;
		th->msg_controllen = 0;
	}
	return true;
}

/*
 * Sends tx[0..n).  What the socket refuses is dropped, as a lost datagram
 * would be: a full send buffer drops the rest of the batch, any other
 * error only the answer it names.
 */
static void
dnsnet_server_flush(struct dnsnet_server *u, int n)
{
	int start = 0, sent;

	while (start < n) {
		sent = sendmmsg(u->fd, &u->tx[start], (unsigned)(n - start), 0);
		if (sent > 0) {
			start += sent;
			continue;
		}
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent == 0 || errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS)
			return;
		if (log_getlevel() >= LOG_LEVEL_DEBUG) {
			char a[LOOP_ADDRSTRLEN] = "?";

			(void)loop_addr_format(u->tx[start].msg_hdr.msg_name,
			    a, sizeof(a));
			log_debug("udp %s: answer to %s: %s", u->name, a,
			    strerror(errno));
		}
		start++;
	}
}

/*
 * Reads, answers and sends one recvmmsg batch.  Returns the datagrams
 * read, 0 when the socket is empty, or -1 after another receive error.
 */
static int
dnsnet_server_batch(struct dnsnet_server *u)
{
	int n, i, k;
	uint64_t now;

	n = recvmmsg(u->fd, u->rx, DNSNET_BATCH, 0, NULL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		log_warn("udp %s: recvmmsg", u->name);
		return -1;
	}
	/*
	 * The zone's memory latency is paid once per batch, not once per
	 * query: slots of all, entries of all, their RRsets, and then the
	 * answers.
	 */
	for (i = 0; i < n; i++)
		dns_prefetch_start(u->net->srv, u->rxbuf +
		    (size_t)i * DNSNET_RX_SLOT, u->rx[i].msg_len,
		    &u->slot[i].hint);
	for (i = 0; i < n; i++)
		dns_prefetch_entry(u->net->srv, &u->slot[i].hint);
	for (i = 0; i < n; i++)
		dns_prefetch_data(u->net->srv, &u->slot[i].hint);
	uv_update_time(u->net->loop);
	now = uv_now(u->net->loop);
	for (i = 0, k = 0; i < n; i++) {
		if (dnsnet_server_answer(u, i, k, now))
			k++;
		dnsnet_server_rearm(u, i);
	}
	dnsnet_server_flush(u, k);
	return n;
}

static void
dnsnet_server_readable(uv_poll_t *h, int status, int events)
{
	struct dnsnet_server *u = (struct dnsnet_server *)h;
	uint64_t start;

	if (status < 0) {
		log_warnx("udp %s: poll: %s", u->name, uv_strerror(status));
		return;
	}
	start = uv_hrtime();
	while (dnsnet_server_batch(u) > 0 &&
	    uv_hrtime() - start < DNSNET_SLICE_US * 1000ull)
		;
}

static bool
dnsnet_addr_is_any(const struct sockaddr *sa)
{
	const struct sockaddr_in *s4 = (const void *)sa;
	const struct sockaddr_in6 *s6 = (const void *)sa;

	if (sa->sa_family == AF_INET)
		return s4->sin_addr.s_addr == htonl(INADDR_ANY);
	return sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
}

/*
 * Opens the UDP server socket on sa.  *up is set once its handle is on the
 * loop (then dnsnet_close() frees it, also after a later failure).
 */
static int
dnsnet_server_open(struct dnsnet *net, const struct sockaddr *sa,
    struct dnsnet_server **up)
{
	struct dnsnet_server *u;
	struct msghdr *mh;
	char name[LOOP_ADDRSTRLEN];
	bool any = dnsnet_addr_is_any(sa);
	int fd, rc, i;

	if (loop_addr_format(sa, name, sizeof(name)) < 0)
		strcpy(name, "?");
	/* Answers are at most DNS_UDP_MAX: they never need fragments. */
	if ((rc = loop_udp_socket(sa, LOOP_UDP_DONTFRAG |
	    (any ? LOOP_UDP_PKTINFO : 0), &fd)) < 0) {
		log_warnx("udp %s: %s", name, strerror(-rc));
		return rc;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->rxbuf = malloc((size_t)DNSNET_BATCH * DNSNET_RX_SLOT)) ==
	    NULL) {
		free(u);
		close(fd);
		return -ENOMEM;
	}
	u->net = net;
	u->fd = fd;
	u->pktinfo = any;
	memcpy(u->name, name, sizeof(name));
	for (i = 0; i < DNSNET_BATCH; i++) {
		mh = &u->rx[i].msg_hdr;
		u->rxiov[i].iov_base = u->rxbuf + (size_t)i * DNSNET_RX_SLOT;
		u->rxiov[i].iov_len = DNSNET_UDP_RECV;
		mh->msg_name = &u->slot[i].peer;
		mh->msg_iov = &u->rxiov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = u->pktinfo ? &u->slot[i].rxctl : NULL;
		dnsnet_server_rearm(u, i);
	}
	if ((rc = uv_poll_init(net->loop, &u->h, fd)) < 0) {
		log_warnx("udp %s: %s", name, uv_strerror(rc));
		free(u->rxbuf);
		free(u);
		close(fd);
		return rc;
	}
	u->h.data = net;
	net->open_handles++;
	*up = u;
	if ((rc = uv_poll_start(&u->h, UV_READABLE,
	    dnsnet_server_readable)) < 0) {
		log_warnx("udp %s: %s", name, uv_strerror(rc));
		return rc;
	}
	return 0;
}

static int
dnsnet_udp_open(struct dnsnet *net, const struct sockaddr *sa,
    uv_udp_recv_cb cb, struct dnsnet_udp **up)
{
	struct dnsnet_udp *u;
	char name[INET6_ADDRSTRLEN + 8];
	int rc;

	dnsnet_addr_str(sa, name, sizeof(name));
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return -ENOMEM;
	u->net = net;
	if ((rc = uv_udp_init(net->loop, &u->h)) < 0) {
		free(u);
		return rc;
	}
	u->h.data = net;
	net->open_handles++;
	*up = u;
	if ((rc = uv_udp_bind(&u->h, sa, sa->sa_family == AF_INET6 ?
	    UV_UDP_IPV6ONLY : 0)) < 0 ||
	    (rc = uv_udp_recv_start(&u->h, dnsnet_udp_alloc, cb)) < 0) {
		log_warnx("udp %s: %s", name, uv_strerror(rc));
		return rc;
	}
	return 0;
}

/* ---- TCP ---------------------------------------------------------------- */

static void
dnsnet_conn_closed(uv_handle_t *h)
{
	struct dnsnet_conn *c = h->data;
	struct dnsnet *net = c->net;

	if (--c->open_handles > 0)
		return;
	free(c);
	net->open_handles--;
	dnsnet_maybe_free(net);
}

static void
dnsnet_conn_close(struct dnsnet_conn *c, const char *why)
{
	struct dnsnet *net = c->net;

	if (c->closing)
		return;
	c->closing = true;
	log_debug("tcp %s: closed (%s)", c->name, why);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		net->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	net->nconns--;
	uv_close((uv_handle_t *)&c->h, dnsnet_conn_closed);
	uv_close((uv_handle_t *)&c->idle, dnsnet_conn_closed);
}

static void dnsnet_conn_touch(struct dnsnet_conn *);

/*
 * Quiet for tcp_idle_ms.  A client still reading a transfer is not idle:
 * its write queue shrank since the last timeout.  One that reads nothing
 * while answers wait is, or it would hold its slot and the answers for good.
 */
static void
dnsnet_conn_idle(uv_timer_t *t)
{
	struct dnsnet_conn *c = t->data;
	size_t queued;

	if (c->writes == 0) {
		dnsnet_conn_close(c, "idle");
		return;
	}
	queued = uv_stream_get_write_queue_size((uv_stream_t *)&c->h);
	if (queued >= c->idle_queued) {
		dnsnet_conn_close(c, "not reading its answers");
		return;
	}
	c->idle_queued = queued;
	(void)uv_timer_start(&c->idle, dnsnet_conn_idle,
	    c->net->cfg.tcp_idle_ms, 0);
}

static void
dnsnet_conn_touch(struct dnsnet_conn *c)
{
	if (c->closing)
		return;
	c->idle_queued = SIZE_MAX;
	(void)uv_timer_start(&c->idle, dnsnet_conn_idle,
	    c->net->cfg.tcp_idle_ms, 0);
}

static void dnsnet_conn_read(uv_stream_t *, ssize_t, const uv_buf_t *);
static void dnsnet_conn_alloc(uv_handle_t *, size_t, uv_buf_t *);

static void
dnsnet_conn_written(uv_write_t *req, int status)
{
	struct dnsnet_write *w = (struct dnsnet_write *)req;
	struct dnsnet_conn *c = w->conn;

	c->writes--;
	c->wbytes -= w->len;
	free(w->data);
	free(w);
	if (c->closing)
		return;
	if (status < 0) {
		dnsnet_conn_close(c, uv_strerror(status));
		return;
	}
	if (c->eof && c->writes == 0) {
		dnsnet_conn_close(c, "end of queries");
		return;
	}
	if (!c->reading && !c->eof && c->wbytes < DNSNET_WRITE_HIGH / 2 &&
	    uv_read_start((uv_stream_t *)&c->h, dnsnet_conn_alloc,
	    dnsnet_conn_read) == 0)
		c->reading = true;
	dnsnet_conn_touch(c);
}

/* Takes ownership of data (malloc'd) in every case. */
static void
dnsnet_conn_send(struct dnsnet_conn *c, uint8_t *data, size_t len)
{
	struct dnsnet_write *w;
	uv_buf_t b;
	int rc;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		free(data);
		dnsnet_conn_close(c, "out of memory");
		return;
	}
	w->conn = c;
	w->data = data;
	w->len = len;
	b = uv_buf_init((char *)data, (unsigned)len);
	if ((rc = uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1,
	    dnsnet_conn_written)) < 0) {
		free(data);
		free(w);
		dnsnet_conn_close(c, uv_strerror(rc));
		return;
	}
	c->writes++;
	c->wbytes += len;
	if (c->wbytes > DNSNET_WRITE_HIGH && c->reading) {
		uv_read_stop((uv_stream_t *)&c->h);
		c->reading = false;
	}
}

static void
dnsnet_conn_query(struct dnsnet_conn *c, const uint8_t *msg, size_t len)
{
	struct dnsnet *net = c->net;
	struct dns_request req;
	uint8_t *data;
	size_t outlen;

	req.wire = msg;
	req.len = len;
	req.src = (const struct sockaddr *)&c->peer;
	req.transport = DNS_TRANSPORT_TCP;
	req.now = uv_now(net->loop);
	switch (dns_answer(net->srv, &req, c->out + DNSNET_TCP_FRAME,
	    DNS_TCP_MAX, &outlen)) {
	case DNS_ACTION_ANSWER:
		if ((data = malloc(DNSNET_TCP_FRAME + outlen)) == NULL) {
			dnsnet_conn_close(c, "out of memory");
			return;
		}
		store_be16(data, (uint16_t)outlen);
		memcpy(data + DNSNET_TCP_FRAME, c->out + DNSNET_TCP_FRAME,
		    outlen);
		dnsnet_conn_send(c, data, DNSNET_TCP_FRAME + outlen);
		break;
	case DNS_ACTION_XFR:
		if (xfr_answer(net->srv, &req, &data, &outlen) < 0) {
			dnsnet_conn_close(c, "out of memory");
			return;
		}
		if (data != NULL)
			dnsnet_conn_send(c, data, outlen);
		break;
	default:
		/* Past a message we cannot answer, the framing is suspect. */
		dnsnet_conn_close(c, "malformed message");
		break;
	}
}

static void
dnsnet_conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct dnsnet_conn *c = h->data;

	buf->base = (char *)c->rbuf + c->rlen;
	buf->len = sizeof(c->rbuf) - c->rlen;
}

static void
dnsnet_conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct dnsnet_conn *c = s->data;
	size_t off = 0, mlen;

	if (nread == UV_EOF) {
		c->eof = true;
		uv_read_stop(s);
		c->reading = false;
		if (c->writes == 0)
			dnsnet_conn_close(c, "end of queries");
		return;
	}
	if (nread < 0) {
		dnsnet_conn_close(c, uv_strerror((int)nread));
		return;
	}
	c->rlen += (size_t)nread;
	/* Pipelined queries: answer every complete message in order. */
	while (!c->closing && c->rlen - off >= DNSNET_TCP_FRAME) {
		mlen = load_be16(c->rbuf + off);
		if (mlen < DNS_HEADER_LEN) {
			dnsnet_conn_close(c, "short message");
			return;
		}
		if (c->rlen - off < DNSNET_TCP_FRAME + mlen)
			break;
		dnsnet_conn_query(c, c->rbuf + off + DNSNET_TCP_FRAME, mlen);
		off += DNSNET_TCP_FRAME + mlen;
	}
	if (c->closing)
		return;
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	dnsnet_conn_touch(c);
}

static void
dnsnet_accept(uv_stream_t *server, int status)
{
	struct dnsnet *net = server->data;
	struct dnsnet_conn *c;
	int len = sizeof(c->peer);

	if (status < 0 || net->closing)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("tcp: out of memory for a connection");
		return;
	}
	c->net = net;
	uv_tcp_init(net->loop, &c->h);
	uv_timer_init(net->loop, &c->idle);
	c->h.data = c;
	c->idle.data = c;
	c->open_handles = 2;
	net->open_handles++;
	c->next = net->conns;
	if (net->conns != NULL)
		net->conns->prev = c;
	net->conns = c;
	net->nconns++;
	if (uv_accept(server, (uv_stream_t *)&c->h) < 0) {
		dnsnet_conn_close(c, "accept failed");
		return;
	}
	uv_tcp_getpeername(&c->h, (struct sockaddr *)&c->peer, &len);
	dnsnet_addr_str((struct sockaddr *)&c->peer, c->name, sizeof(c->name));
	if (net->nconns > net->cfg.tcp_clients) {
		log_debug("tcp %s: refused, %u connections", c->name,
		    net->nconns - 1);
		dnsnet_conn_close(c, "too many connections");
		return;
	}
	if (uv_read_start((uv_stream_t *)&c->h, dnsnet_conn_alloc,
	    dnsnet_conn_read) < 0) {
		dnsnet_conn_close(c, "read failed");
		return;
	}
	c->reading = true;
	dnsnet_conn_touch(c);
}

static int
dnsnet_tcp_open(struct dnsnet *net, const struct sockaddr *sa)
{
	struct dnsnet_listener *l;
	char name[INET6_ADDRSTRLEN + 8];
	int rc;

	dnsnet_addr_str(sa, name, sizeof(name));
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->net = net;
	if ((rc = uv_tcp_init(net->loop, &l->h)) < 0) {
		free(l);
		return rc;
	}
	l->h.data = net;
	net->open_handles++;
	net->tcp[net->ntcp++] = l;
	if ((rc = uv_tcp_bind(&l->h, sa, sa->sa_family == AF_INET6 ?
	    UV_TCP_IPV6ONLY : 0)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&l->h, DNSNET_TCP_BACKLOG,
	    dnsnet_accept)) < 0) {
		log_warnx("tcp %s: %s", name, uv_strerror(rc));
		return rc;
	}
	return 0;
}

/* ---- NOTIFY ------------------------------------------------------------- */

static void
dnsnet_notify_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
    const struct sockaddr *addr, unsigned flags)
{
	struct dnsnet_udp *u = (struct dnsnet_udp *)h;
	struct dnsnet *net = u->net;
	const struct xfr_config *x = net->srv->xfr;
	const struct zone_apex *apex;
	char name[INET6_ADDRSTRLEN + 8], zname[DNS_NAME_MAX * 4 + 2];
	uint8_t rcode;
	size_t i;

	if (nread < DNS_HEADER_LEN || addr == NULL || x == NULL)
		return;
	for (i = 0; i < net->njobs; i++) {
		struct dnsnet_job *j = &net->jobs[i];
		const struct sockaddr *t =
		    (const struct sockaddr *)&x->notify[j->target];

		if (j->done || t->sa_family != addr->sa_family ||
		    !xfr_notify_is_reply((const uint8_t *)buf->base,
		    (size_t)nread, j->id))
			continue;
		j->done = true;
		dnsnet_addr_str(addr, name, sizeof(name));
		apex = zone_apex_get(net->srv->zone, j->apex);
		if (apex == NULL || dns_name_str(apex->name, apex->namelen,
		    zname, sizeof(zname)) < 0)
			strcpy(zname, "?");
		rcode = (uint8_t)(buf->base[3] & DNS_RCODE_MASK);
		if (rcode != DNS_RCODE_NOERROR) {
			log_info("notify: %s answered rcode %u for zone %s "
			    "(not a secondary of it?)", name, rcode, zname);
			continue;
		}
		net->srv->stats.notify_acked++;
		log_info("notify: %s acknowledged zone %s serial %u", name,
		    zname, zone_serial(net->srv->zone));
	}
}

static void
dnsnet_notify_send(struct dnsnet *net, struct dnsnet_job *j)
{
	const struct xfr_config *x = net->srv->xfr;
	const struct sockaddr *t =
	    (const struct sockaddr *)&x->notify[j->target];
	struct dnsnet_udp *u = t->sa_family == AF_INET ? net->nsock4 :
	    net->nsock6;
	uint8_t msg[DNSNET_NOTIFY_MSG];
	size_t len;
	uv_buf_t b;
	int rc;

	j->tries++;
	if (u == NULL || (rc = xfr_notify_build(net->srv->zone, j->apex, x,
	    j->id, msg, sizeof(msg), &len)) < 0)
		return;
	b = uv_buf_init((char *)msg, (unsigned)len);
	if ((rc = uv_udp_try_send(&u->h, &b, 1, t)) < 0) {
		char name[INET6_ADDRSTRLEN + 8];

		dnsnet_addr_str(t, name, sizeof(name));
		log_warnx("notify %s: %s", name, uv_strerror(rc));
		return;
	}
	net->srv->stats.notify_sent++;
}

static void
dnsnet_notify_timer(uv_timer_t *t)
{
	struct dnsnet *net = t->data;
	bool pending = false;
	size_t i;

	for (i = 0; i < net->njobs; i++) {
		struct dnsnet_job *j = &net->jobs[i];

		if (j->done)
			continue;
		if (j->tries >= XFR_NOTIFY_TRIES) {
			char name[INET6_ADDRSTRLEN + 8];

			dnsnet_addr_str((const struct sockaddr *)
			    &net->srv->xfr->notify[j->target], name,
			    sizeof(name));
			log_warnx("notify %s: no answer after %u tries", name,
			    j->tries);
			j->done = true;
			continue;
		}
		dnsnet_notify_send(net, j);
		pending = true;
	}
	if (!pending)
		uv_timer_stop(t);
}

static int
dnsnet_notify_sockets(struct dnsnet *net)
{
	struct sockaddr_storage any;
	int rc;

	if (!net->ntimer_init) {
		uv_timer_init(net->loop, &net->ntimer);
		net->ntimer.data = net;
		net->open_handles++;
		net->ntimer_init = true;
	}
	if (net->nsock4 == NULL) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&any;

		memset(&any, 0, sizeof(any));
		s4->sin_family = AF_INET;
		if ((rc = dnsnet_udp_open(net, (struct sockaddr *)&any,
		    dnsnet_notify_recv, &net->nsock4)) < 0)
			return rc;
	}
	if (net->nsock6 == NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&any;

		memset(&any, 0, sizeof(any));
		s6->sin6_family = AF_INET6;
		/* IPv6 may be absent: then only IPv4 targets get notified. */
		(void)dnsnet_udp_open(net, (struct sockaddr *)&any,
		    dnsnet_notify_recv, &net->nsock6);
	}
	return 0;
}

void
dnsnet_notify(struct dnsnet *net)
{
	const struct xfr_config *x = net->srv->xfr;
	size_t t, i;
	int a;

	if (net->closing || x == NULL || x->nnotify == 0)
		return;
	if (dnsnet_notify_sockets(net) < 0)
		return;
	net->njobs = 0;
	for (t = 0; t < x->nnotify; t++)
		for (a = 0; a < zone_apex_count(net->srv->zone); a++) {
			struct dnsnet_job *j = &net->jobs[net->njobs++];

			memset(j, 0, sizeof(*j));
			j->target = t;
			j->apex = a;
			j->id = (uint16_t)rng_uniform(net->cfg.rng, 65536);
		}
	for (i = 0; i < net->njobs; i++)
		dnsnet_notify_send(net, &net->jobs[i]);
	log_info("notify: serial %u to %zu targets",
	    zone_serial(net->srv->zone), x->nnotify);
	uv_timer_start(&net->ntimer, dnsnet_notify_timer, XFR_NOTIFY_RETRY_MS,
	    XFR_NOTIFY_RETRY_MS);
}

/* ---- life cycle --------------------------------------------------------- */

int
dnsnet_new(uv_loop_t *loop, struct dns_server *srv,
    const struct dnsnet_config *cfg, struct dnsnet **np)
{
	struct dnsnet *net;
	size_t i;
	int rc = 0;

	*np = NULL;
	if (cfg->nlisten > DNSNET_LISTEN_MAX)
		return -EINVAL;
	if ((net = calloc(1, sizeof(*net))) == NULL)
		return -ENOMEM;
	net->loop = loop;
	net->srv = srv;
	net->cfg = *cfg;
	net->cfg.listen = NULL;
	for (i = 0; i < cfg->nlisten && rc == 0; i++) {
		const struct sockaddr *sa =
		    (const struct sockaddr *)&cfg->listen[i];

		if ((rc = dnsnet_server_open(net, sa,
		    &net->udp[net->nudp])) == 0 || net->udp[net->nudp] != NULL)
			net->nudp++;
		if (rc == 0)
			rc = dnsnet_tcp_open(net, sa);
	}
	*np = net;
	if (rc < 0) {
		dnsnet_close(net);
		*np = NULL;
	}
	return rc;
}

void
dnsnet_close(struct dnsnet *net)
{
	size_t i;

	if (net == NULL || net->closing)
		return;
	net->closing = true;
	while (net->conns != NULL)
		dnsnet_conn_close(net->conns, "shutdown");
	for (i = 0; i < net->nudp; i++)
		uv_close((uv_handle_t *)&net->udp[i]->h, dnsnet_handle_closed);
	for (i = 0; i < net->ntcp; i++)
		uv_close((uv_handle_t *)&net->tcp[i]->h, dnsnet_handle_closed);
	if (net->nsock4 != NULL)
		uv_close((uv_handle_t *)&net->nsock4->h, dnsnet_handle_closed);
	if (net->nsock6 != NULL)
		uv_close((uv_handle_t *)&net->nsock6->h, dnsnet_handle_closed);
	if (net->ntimer_init)
		uv_close((uv_handle_t *)&net->ntimer, dnsnet_handle_closed);
	dnsnet_maybe_free(net);
}
