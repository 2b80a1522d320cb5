/* control.c -- ntmd's control socket (doc/CONTROL.md): pure request handling and its libuv UNIX-socket server. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "config_table.h"
#include "control.h"
#include "ctlmsg.h"
#include "log.h"
#include "ntmd.h"

/* ---- pure part ---------------------------------------------------- */

void
control_reply_add(struct control_reply *r, const struct ctlmsg *m)
{
	size_t len;
	int rc;

	if (r->err != 0)
		return;
	if (r->nlines == CONTROL_LINES_MAX) {
		r->err = -ENOSPC;
		return;
	}
	rc = ctlmsg_format(m, r->buf + r->len, sizeof(r->buf) - r->len, &len);
	if (rc < 0) {
		r->err = rc;
		return;
	}
	r->len += len;
	r->nlines++;
}

static void
control_reply_word(struct control_reply *r, enum ctlmsg_type type,
    const char *word)
{
	struct ctlmsg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	if (word != NULL)
		snprintf(m.word, sizeof(m.word), "%s", word);
	control_reply_add(r, &m);
}

void
control_reply_stat(struct control_reply *r, const char *key,
    const char *value)
{
	struct ctlmsg m;
	size_t n;

	memset(&m, 0, sizeof(m));
	m.type = CTLMSG_STAT;
	snprintf(m.word, sizeof(m.word), "%s", key);
	n = strcspn(value, " ");
	if (n == 0) {
		value = "-";
		n = 1;
	}
	if (n >= sizeof(m.value))
		n = sizeof(m.value) - 1;
	memcpy(m.value, value, n);
	m.value[n] = '\0';
	control_reply_add(r, &m);
}

static bool
control_addr_in(const struct config_prefix *p, const struct ctlmsg_addr *a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	if (p->family == 0)
		return false;
	memset(&ss, 0, sizeof(ss));
	if (a->af == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->a, 4);
	} else if (a->af == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a->a, 16);
	} else
		return false;
	return config_prefix_contains(p, (struct sockaddr *)&ss);
}

static bool
control_addr_eq(const struct ctlmsg_addr *a, const struct ctlmsg_addr *b)
{
	return a->af == b->af &&
	    memcmp(a->a, b->a, a->af == AF_INET ? 4 : 16) == 0;
}

static bool
control_name_ours(const struct control_view *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->nzones; i++)
		if (ctlmsg_name_in_zone(name, v->zones[i]))
			return true;
	return false;
}

/* OK <own fqdn> <own vips of the family>: a node needs no tunnel to itself. */
static void
control_reply_self(const struct control_view *v, enum ctlmsg_family fam,
    struct control_reply *r)
{
	struct ctlmsg m;

	memset(&m, 0, sizeof(m));
	m.type = CTLMSG_OK;
	snprintf(m.name, sizeof(m.name), "%s", v->fqdn);
	if (v->has_vip4 && fam != CTLMSG_FAMILY_INET6)
		m.addr[m.naddr++] = v->vip4;
	if (v->has_vip6 && fam != CTLMSG_FAMILY_INET)
		m.addr[m.naddr++] = v->vip6;
	if (m.naddr == 0) {
		/* Ours, but no address of that family: an empty answer. */
		control_reply_word(r, CTLMSG_NOTFOUND, "no-address");
		return;
	}
	control_reply_add(r, &m);
}

static void
control_lookup(const struct control_view *v, struct control_reply *r)
{
	struct ctlmsg w;

	if (!v->registered) {
		control_reply_word(r, CTLMSG_UNAVAIL, "not-registered");
		return;
	}
	if (!v->can_resolve) {
		control_reply_word(r, CTLMSG_UNAVAIL, "not-built");
		return;
	}
	memset(&w, 0, sizeof(w));
	w.type = CTLMSG_WAIT;
	w.wait_ms = v->setup_ms;
	control_reply_add(r, &w);
	r->next = CONTROL_NEXT_RESOLVE;
}

/* CLOSE <fqdn>: the view's hook closes at once; the answer is final. */
static void
control_close(const struct control_view *v, const char *name,
    struct control_reply *r)
{
	struct ctlmsg closed;
	int rc;

	if (v->close == NULL) {
		control_reply_word(r, CTLMSG_UNAVAIL, "not-built");
		return;
	}
	memset(&closed, 0, sizeof(closed));
	rc = v->close(v->arg, name, &closed);
	if (rc == 0) {
		closed.type = CTLMSG_OK;
		control_reply_add(r, &closed);
	} else if (rc == -ENOENT)
		control_reply_word(r, CTLMSG_NOTFOUND, "no-tunnel");
	else if (rc == -EINPROGRESS)
		control_reply_word(r, CTLMSG_NOTFOUND, "setting-up");
	else
		control_reply_word(r, CTLMSG_UNAVAIL, "internal");
}

void
control_handle(const struct control_view *v, const char *line, size_t len,
    uint32_t uid, struct control_reply *r)
{
	struct ctlmsg *q = &r->req;
	bool own;

	memset(r, 0, offsetof(struct control_reply, buf));
	r->next = CONTROL_NEXT_CLOSE;
	if (ctlmsg_parse(q, line, len) < 0 || ctlmsg_is_answer(q->type)) {
		control_reply_word(r, CTLMSG_ERROR, "bad-request");
		return;
	}
	/* Who may read the daemon's state may also change it. */
	if ((q->type == CTLMSG_STATUS || q->type == CTLMSG_TUNNELS ||
	    q->type == CTLMSG_CLOSE) && uid != 0 && uid != v->daemon_uid) {
		control_reply_word(r, CTLMSG_ERROR, "permission-denied");
		return;
	}
	if (q->type == CTLMSG_STATUS || q->type == CTLMSG_TUNNELS) {
		if (q->type == CTLMSG_STATUS && v->stats != NULL)
			v->stats(v->arg, r);
		if (q->type == CTLMSG_TUNNELS && v->tunnels != NULL)
			v->tunnels(v->arg, r);
		control_reply_word(r, CTLMSG_END, NULL);
		return;
	}
	if (v->stopping) {
		control_reply_word(r, CTLMSG_UNAVAIL, "shutting-down");
		return;
	}
	if (q->type == CTLMSG_CLOSE) {
		control_close(v, q->name, r);
		return;
	}
	if (q->type == CTLMSG_RESOLVE) {
		own = v->fqdn != NULL && v->fqdn[0] != '\0' &&
		    strcmp(q->name, v->fqdn) == 0;
		if (own) {
			control_reply_self(v, q->family, r);
			return;
		}
		if (!control_name_ours(v, q->name)) {
			control_reply_word(r, CTLMSG_UNAVAIL, "not-in-zone");
			return;
		}
		control_lookup(v, r);
		return;
	}
	/* REVERSE */
	if ((v->has_vip4 && control_addr_eq(&q->addr[0], &v->vip4)) ||
	    (v->has_vip6 && control_addr_eq(&q->addr[0], &v->vip6))) {
		control_reply_self(v, CTLMSG_FAMILY_ANY, r);
		return;
	}
	if (!control_addr_in(&v->range4, &q->addr[0]) &&
	    !control_addr_in(&v->range6, &q->addr[0])) {
		control_reply_word(r, CTLMSG_UNAVAIL, "not-in-zone");
		return;
	}
	control_lookup(v, r);
}

/* ---- server ------------------------------------------------------- */

/*
 * One client connection.  Freed in the last close callback, and only once
 * no resolver holds it (resolving): the resolver's reply may come after
 * the client went away, and must find the struct.
 */
struct control_conn {
	struct control_server	*srv;
	struct control_conn	*next, **prevp;
	uv_pipe_t		 pipe;
	uv_timer_t		 timer;
	unsigned		 handles;	/* open uv handles */
	bool			 closing;
	bool			 resolving;
	bool			 answered;
	uint32_t		 uid;
	size_t			 inlen;
	char			 in[CTLMSG_LINE_MAX];
};

struct control_write {
	uv_write_t		 req;
	struct control_conn	*conn;
	bool			 close_after;
	size_t			 len;
	char			 buf[];
};

static void	control_conn_close(struct control_conn *);

static void
control_conn_maybe_free(struct control_conn *c)
{
	if (c->handles == 0 && !c->resolving)
		free(c);
}

static void
control_conn_closed(uv_handle_t *h)
{
	struct control_conn *c = h->data;

	c->handles--;
	control_conn_maybe_free(c);
}

static void
control_conn_close(struct control_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->prevp != NULL) {
		if (c->next != NULL)
			c->next->prevp = c->prevp;
		*c->prevp = c->next;
		c->prevp = NULL;
		c->srv->nconns--;
	}
	uv_close((uv_handle_t *)&c->timer, control_conn_closed);
	uv_close((uv_handle_t *)&c->pipe, control_conn_closed);
}

static void
control_write_done(uv_write_t *req, int status)
{
	struct control_write *w = req->data;
	struct control_conn *c = w->conn;

	if (status < 0 || w->close_after)
		control_conn_close(c);
	free(w);
}

static void
control_send(struct control_conn *c, const char *buf, size_t len,
    bool close_after)
{
	struct control_write *w;
	uv_buf_t b;

	if (c->closing)
		return;
	if ((w = malloc(sizeof(*w) + len)) == NULL) {
		control_conn_close(c);
		return;
	}
	memcpy(w->buf, buf, len);
	w->len = len;
	w->conn = c;
	w->close_after = close_after;
	w->req.data = w;
	b = uv_buf_init(w->buf, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1,
	    control_write_done) < 0) {
		free(w);
		control_conn_close(c);
	}
}

static void
control_final(struct control_conn *c, const struct ctlmsg *answer)
{
	char line[CTLMSG_LINE_MAX + 1];
	size_t len;

	if (c->answered)
		return;
	c->answered = true;
	if (ctlmsg_format(answer, line, sizeof(line), &len) < 0 ||
	    (answer->type != CTLMSG_OK && answer->type != CTLMSG_NOTFOUND &&
	    answer->type != CTLMSG_UNAVAIL)) {
		log_warnx("control: resolver gave an unusable answer");
		snprintf(line, sizeof(line), "UNAVAIL internal\n");
		len = strlen(line);
	}
	control_send(c, line, len, true);
}

/* The resolver's reply (ntmd_reply_fn). */
static void
control_resolved(void *req, const struct ctlmsg *answer)
{
	struct control_conn *c = req;

	if (!c->resolving)
		return;
	c->resolving = false;
	if (!c->closing) {
		uv_timer_stop(&c->timer);
		control_final(c, answer);
	}
	control_conn_maybe_free(c);
}

static void
control_timeout(uv_timer_t *t)
{
	struct control_conn *c = t->data;
	struct ctlmsg m;

	if (c->resolving) {
		/* The resolver overran its setup_timeout: answer for it. */
		memset(&m, 0, sizeof(m));
		m.type = CTLMSG_NOTFOUND;
		snprintf(m.word, sizeof(m.word), "timeout");
		control_final(c, &m);
		return;
	}
	control_conn_close(c);
}

static void
control_request(struct control_conn *c, const char *line, size_t len)
{
	struct control_server *srv = c->srv;
	struct control_reply *r;
	struct control_view v;
	const struct ntmd_resolver *res = srv->resolver;
	int rc = -ENOSYS;

	if ((r = malloc(sizeof(*r))) == NULL) {
		control_conn_close(c);
		return;
	}
	memset(&v, 0, sizeof(v));
	srv->view_fn(srv->arg, &v);
	v.can_resolve = res != NULL && res->resolve != NULL;
	srv->requests++;
	control_handle(&v, line, len, c->uid, r);
	if (r->err != 0) {
		log_warnx("control: answer did not fit (%d)", r->err);
		control_send(c, "UNAVAIL internal\n", 17, true);
		goto done;
	}
	if (r->next != CONTROL_NEXT_RESOLVE) {
		control_send(c, r->buf, r->len, true);
		goto done;
	}
	control_send(c, r->buf, r->len, false);
	c->resolving = true;
	uv_timer_start(&c->timer, control_timeout,
	    (uint64_t)v.setup_ms + CONTROL_RESOLVE_SLACK_MS, 0);
	if (r->req.type == CTLMSG_RESOLVE)
		rc = res->resolve(res->arg, r->req.name, r->req.family,
		    control_resolved, c);
	else if (res->reverse != NULL)
		rc = res->reverse(res->arg, &r->req.addr[0], control_resolved,
		    c);
	if (rc < 0 && c->resolving) {
		c->resolving = false;
		uv_timer_stop(&c->timer);
		control_send(c, "UNAVAIL not-built\n", 18, true);
	}
done:
	free(r);
}

static void
control_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct control_conn *c = h->data;

	(void)hint;
	buf->base = c->in + c->inlen;
	buf->len = sizeof(c->in) - c->inlen;
}

static void
control_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct control_conn *c = s->data;
	size_t linelen;
	int rc;

	(void)buf;
	if (n < 0) {
		if (!c->resolving)
			control_conn_close(c);
		else
			uv_read_stop(s);
		return;
	}
	c->inlen += (size_t)n;
	rc = ctlmsg_line(c->in, c->inlen, &linelen);
	if (rc == -EAGAIN && c->inlen < sizeof(c->in))
		return;
	uv_read_stop(s);
	uv_timer_stop(&c->timer);
	if (rc < 0) {
		/* 1024 bytes without a LF: the client broke the protocol. */
		c->srv->refused++;
		control_conn_close(c);
		return;
	}
	control_request(c, c->in, linelen);
}

static void
control_accept(uv_stream_t *server, int status)
{
	struct control_server *srv = server->data;
	struct control_conn *c;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	uv_os_fd_t fd;

	if (status < 0)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("control: calloc");
	c->srv = srv;
	uv_pipe_init(srv->loop, &c->pipe, 0);
	uv_timer_init(srv->loop, &c->timer);
	c->pipe.data = c->timer.data = c;
	c->handles = 2;
	c->next = srv->conns;
	if (c->next != NULL)
		c->next->prevp = &c->next;
	srv->conns = c;
	c->prevp = &srv->conns;
	srv->nconns++;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 ||
	    uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    srv->nconns > CONTROL_CONNS_MAX) {
		srv->refused++;
		control_conn_close(c);
		return;
	}
	c->uid = cred.uid;
	uv_timer_start(&c->timer, control_timeout, CONTROL_IDLE_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->pipe, control_alloc,
	    control_read) < 0)
		control_conn_close(c);
}

int
control_server_start(struct control_server *srv, uv_loop_t *loop,
    const char *path, control_view_fn view_fn,
    const struct ntmd_resolver *resolver, void *arg)
{
	struct stat st;
	int rc;

	memset(srv, 0, sizeof(*srv));
	if (strlen(path) >= sizeof(srv->path) || path[0] != '/')
		return -ENAMETOOLONG;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	srv->loop = loop;
	srv->view_fn = view_fn;
	srv->resolver = resolver;
	srv->arg = arg;
	/* A socket left by a daemon that died; never remove anything else. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (unlink(path) < 0)
			return -errno;
	}
	if ((rc = uv_pipe_init(loop, &srv->pipe, 0)) < 0)
		return rc;
	srv->pipe.data = srv;
	srv->listening = true;
	if ((rc = uv_pipe_bind(&srv->pipe, path)) < 0 ||
	    (rc = chmod(path, 0666) < 0 ? -errno : 0) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&srv->pipe, CONTROL_BACKLOG,
	    control_accept)) < 0) {
		control_server_stop(srv);
		return rc;
	}
	return 0;
}

void
control_server_stop(struct control_server *srv)
{
	if (!srv->listening)
		return;
	srv->listening = false;
	while (srv->conns != NULL)
		control_conn_close(srv->conns);
	uv_close((uv_handle_t *)&srv->pipe, NULL);
	(void)unlink(srv->path);
}
