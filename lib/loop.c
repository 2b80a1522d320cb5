/* loop.c -- libuv glue: stop and reload signals, full shutdown, UDP sockets, address text. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

static const int loop_signum[LOOP_SIGNAL_COUNT] = {
	[LOOP_SIGNAL_INT] = SIGINT,
	[LOOP_SIGNAL_TERM] = SIGTERM,
	[LOOP_SIGNAL_HUP] = SIGHUP,
};

static void
loop_signal_cb(uv_signal_t *h, int signum)
{
	struct loop *l = h->data;

	if (signum == SIGHUP) {
		log_info("SIGHUP: %s", l->on_reload != NULL ? "reloading" :
		    "no reload, ignored");
		if (l->on_reload != NULL)
			l->on_reload(l, l->arg);
		return;
	}
	if (l->on_stop != NULL && !l->stopping) {
		log_info("%s: shutting down", strsignal(signum));
		l->stopping = true;
		l->stop_signal = signum;
		l->on_stop(l, l->arg);
		return;
	}
	log_info("%s: stopping", strsignal(signum));
	l->stop_signal = signum;
	uv_stop(l->uv);
}

int
loop_init(struct loop *l, uv_loop_t *uv, loop_cb on_reload, loop_cb on_stop,
    void *arg)
{
	int i, rc;

	memset(l, 0, sizeof(*l));
	l->uv = uv;
	l->on_reload = on_reload;
	l->on_stop = on_stop;
	l->arg = arg;
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -errno;
	for (i = 0; i < LOOP_SIGNAL_COUNT; i++) {
		if ((rc = uv_signal_init(uv, &l->sig[i])) < 0)
			goto fail;
		l->sig[i].data = l;
		if ((rc = uv_signal_start(&l->sig[i], loop_signal_cb,
		    loop_signum[i])) < 0) {
			i++;
			goto fail;
		}
		uv_unref((uv_handle_t *)&l->sig[i]);
	}
	return 0;
 fail:
	/* Handles initialised so far are closed by loop_shutdown(). */
	while (i-- > 0)
		uv_signal_stop(&l->sig[i]);
	return rc;
}

int
loop_run(struct loop *l)
{
	l->stop_signal = 0;
	l->stopping = false;
	uv_run(l->uv, UV_RUN_DEFAULT);
	return l->stop_signal;
}

void
loop_stop(struct loop *l)
{
	uv_stop(l->uv);
}

static void
loop_close_walk(uv_handle_t *h, void *arg)
{
	if (uv_is_closing(h))
		return;
	log_debug("shutdown: closing a %s handle", uv_handle_type_name(
	    uv_handle_get_type(h)));
	uv_close(h, NULL);
}

int
loop_shutdown(struct loop *l)
{
	int rc;

	uv_walk(l->uv, loop_close_walk, NULL);
	uv_run(l->uv, UV_RUN_DEFAULT);
	if ((rc = uv_loop_close(l->uv)) < 0)
		log_warnx("shutdown: %s", uv_strerror(rc));
	return rc;
}

/*
 * DF on IPv4, no local fragmentation, no path MTU from ICMP.  IPv4 also
 * gets its IP ID without the kernel's shared hash table: a DF datagram
 * needs none.
 */
static int
loop_udp_dontfrag(int fd, int family)
{
	int v4 = IP_PMTUDISC_PROBE, v6 = IPV6_PMTUDISC_PROBE;

	if (family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4,
		    sizeof(v4));
	return setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6,
	    sizeof(v6));
}

int
loop_udp_socket(const struct sockaddr *sa, unsigned flags, int *fdp)
{
	int fd, one = 1, size = LOOP_UDP_BUFSIZE, rc;
	socklen_t salen;

	if ((salen = loop_addr_len(sa)) == 0)
		return -EAFNOSUPPORT;
	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	if (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if ((flags & LOOP_UDP_REUSEADDR) && setsockopt(fd, SOL_SOCKET,
	    SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if ((flags & LOOP_UDP_PKTINFO) && (sa->sa_family == AF_INET ?
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) :
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
	    sizeof(one))) < 0)
		goto fail;
	if ((flags & LOOP_UDP_DONTFRAG) && loop_udp_dontfrag(fd,
	    sa->sa_family) < 0)
		goto fail;
	/*
	 * The *FORCE options pass net.core.rmem_max/wmem_max when the
	 * process has CAP_NET_ADMIN (daemons start as root); without it the
	 * plain options give what the kernel's limits allow.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) < 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
	    sizeof(size)) < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof(size)) < 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size,
	    sizeof(size)) < 0)
		goto fail;
	if (bind(fd, sa, salen) < 0)
		goto fail;
	*fdp = fd;
	return 0;
 fail:
	rc = -errno;
	close(fd);
	return rc;
}

socklen_t
loop_addr_len(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

bool
loop_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->sa_family != b->sa_family)
		return false;
	switch (a->sa_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)(const void *)a;
		b4 = (const struct sockaddr_in *)(const void *)b;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)(const void *)a;
		b6 = (const struct sockaddr_in6 *)(const void *)b;
		return a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
	default:
		return false;
	}
}

/* Decimal 0..65535, digits only. */
static int
loop_port_parse(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	const char *p;

	if (*s == '\0' || strlen(s) > 5)
		return -ERANGE;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -ERANGE;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return -ERANGE;
	*port = (uint16_t)v;
	return 0;
}

/* An IPv6 address with an optional %scope, NUL-terminated in buf. */
static int
loop_v6_parse(char *buf, struct sockaddr_in6 *sin6)
{
	char *pct;
	uint16_t n;

	if ((pct = strchr(buf, '%')) != NULL) {
		*pct++ = '\0';
		if (*pct == '\0')
			return -EINVAL;
		if (loop_port_parse(pct, &n) == 0)
			sin6->sin6_scope_id = n;
		else if ((sin6->sin6_scope_id = if_nametoindex(pct)) == 0)
			return -EINVAL;
	}
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
		return -EINVAL;
	return 0;
}

int
loop_addr_parse(const char *text, uint16_t default_port, unsigned flags,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char buf[LOOP_ADDRSTRLEN];
	const char *port = NULL, *rb, *colon;
	uint16_t pnum = default_port;
	size_t n;
	int rc;

	memset(ss, 0, sizeof(*ss));
	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	if (text[0] == '[') {
		if ((rb = strchr(text, ']')) == NULL)
			return -EINVAL;
		n = (size_t)(rb - text - 1);
		memcpy(buf, text + 1, n);
		buf[n] = '\0';
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1] != '\0')
			return -EINVAL;
		if ((rc = loop_v6_parse(buf, sin6)) < 0)
			return rc;
		sin6->sin6_family = AF_INET6;
	} else if ((colon = strchr(text, ':')) != NULL &&
	    strchr(colon + 1, ':') != NULL) {
		/* Two colons or more: a bare IPv6 address, no port. */
		strcpy(buf, text);
		if ((rc = loop_v6_parse(buf, sin6)) < 0)
			return rc;
		sin6->sin6_family = AF_INET6;
	} else {
		n = colon != NULL ? (size_t)(colon - text) : strlen(text);
		memcpy(buf, text, n);
		buf[n] = '\0';
		if (colon != NULL)
			port = colon + 1;
		if (inet_pton(AF_INET, buf, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
	}
	if (port != NULL) {
		if ((rc = loop_port_parse(port, &pnum)) < 0)
			return rc;
	} else if (flags & LOOP_ADDR_NEED_PORT)
		return -EDESTADDRREQ;
	if (ss->ss_family == AF_INET)
		sin->sin_port = htons(pnum);
	else
		sin6->sin6_port = htons(pnum);
	return 0;
}

int
loop_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	char addr[INET6_ADDRSTRLEN], scope[IF_NAMESIZE + 12] = "";
	char ifname[IF_NAMESIZE];
	uint16_t port;
	int n;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		port = ntohs(sin->sin_port);
		n = port != 0 ? snprintf(buf, len, "%s:%u", addr, port) :
		    snprintf(buf, len, "%s", addr);
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		if (sin6->sin6_scope_id != 0) {
			if (if_indextoname(sin6->sin6_scope_id, ifname) != NULL)
				snprintf(scope, sizeof(scope), "%%%s", ifname);
			else
				snprintf(scope, sizeof(scope), "%%%u",
				    (unsigned)sin6->sin6_scope_id);
		}
		port = ntohs(sin6->sin6_port);
		n = port != 0 ? snprintf(buf, len, "[%s%s]:%u", addr, scope,
		    port) : snprintf(buf, len, "%s%s", addr, scope);
		break;
	default:
		return -EAFNOSUPPORT;
	}
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}
