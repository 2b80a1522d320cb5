/* statsock.c -- a daemon's statistics socket: STATUS answered with STAT lines from the daemon's counters. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctlmsg.h"
#include "log.h"
#include "statsock.h"

struct statsock_conn;

struct statsock {
	uv_loop_t		*loop;
	uv_pipe_t		 pipe;
	char			 path[CTLMSG_PATH_MAX];
	statsock_fill_fn	 fill;
	void			*arg;
	struct statsock_conn	*conns;		/* open connections */
	size_t			 nconns;
	bool			 closing;
	size_t			 closes;	/* handles still closing */
};

struct statsock_conn {
	struct statsock		*ss;
	struct statsock_conn	*next, **prevp;	/* in ss->conns */
	uv_pipe_t		 pipe;
	uv_timer_t		 timer;
	uv_write_t		 wr;
	size_t			 closes;
	bool			 done;		/* answered or closing */
	size_t			 have;
	char			 buf[CTLMSG_LINE_MAX];
	size_t			 outlen;
	char			 out[STATSOCK_ANSWER_MAX];
};

void
statsock_stat(struct statsock_out *o, const char *name, uint64_t v)
{
	struct ctlmsg m;
	size_t n;

	if (o->err != 0)
		return;
	memset(&m, 0, sizeof(m));
	m.type = CTLMSG_STAT;
	snprintf(m.word, sizeof(m.word), "%s", name);
	snprintf(m.value, sizeof(m.value), "%" PRIu64, v);
	if (ctlmsg_format(&m, o->buf + o->len, o->cap - o->len, &n) < 0) {
		o->err = -ENOSPC;
		return;
	}
	o->len += n;
}

int
statsock_lines(statsock_fill_fn fill, void *arg, char *buf, size_t cap)
{
	struct statsock_out o = { buf, cap, 0, 0 };
	struct ctlmsg end;
	size_t n;

	fill(&o, arg);
	if (o.err != 0)
		return o.err;
	memset(&end, 0, sizeof(end));
	end.type = CTLMSG_END;
	if (ctlmsg_format(&end, buf + o.len, cap - o.len, &n) < 0)
		return -ENOSPC;
	return (int)(o.len + n);
}

static void
statsock_free_if_done(struct statsock *ss)
{
	if (ss->closing && ss->closes == 0 && ss->nconns == 0)
		free(ss);
}

static void
statsock_conn_closed(uv_handle_t *h)
{
	struct statsock_conn *c = h->data;
	struct statsock *ss = c->ss;

	if (--c->closes > 0)
		return;
	if ((*c->prevp = c->next) != NULL)
		c->next->prevp = c->prevp;
	free(c);
	ss->nconns--;
	statsock_free_if_done(ss);
}

static void
statsock_conn_close(struct statsock_conn *c)
{
	if (c->closes > 0)
		return;
	c->done = true;
	c->closes = 2;
	uv_close((uv_handle_t *)&c->pipe, statsock_conn_closed);
	uv_close((uv_handle_t *)&c->timer, statsock_conn_closed);
}

static void
statsock_written(uv_write_t *w, int status)
{
	(void)status;
	statsock_conn_close(w->data);
}

static void
statsock_answer(struct statsock_conn *c, const char *line, size_t len)
{
	struct statsock *ss = c->ss;
	struct ctlmsg m;
	uv_buf_t b;
	int n;

	c->done = true;
	if (ctlmsg_parse(&m, line, len) == 0 && m.type == CTLMSG_STATUS &&
	    !ss->closing) {
		n = statsock_lines(ss->fill, ss->arg, c->out, sizeof(c->out));
	} else {
		memset(&m, 0, sizeof(m));
		m.type = CTLMSG_ERROR;
		snprintf(m.word, sizeof(m.word), "%s", ss->closing ?
		    "shutting-down" : "bad-request");
		n = ctlmsg_format(&m, c->out, sizeof(c->out), &c->outlen) < 0 ?
		    -EINVAL : (int)c->outlen;
	}
	if (n < 0) {
		log_warnx("statsock %s: answer does not fit: %s", ss->path,
		    strerror(-n));
		statsock_conn_close(c);
		return;
	}
	c->outlen = (size_t)n;
	b = uv_buf_init(c->out, (unsigned)c->outlen);
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->pipe, &b, 1,
	    statsock_written) < 0)
		statsock_conn_close(c);
}

static void
statsock_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct statsock_conn *c = h->data;

	(void)hint;
	*b = uv_buf_init(c->buf + c->have, (unsigned)(sizeof(c->buf) -
	    c->have));
}

static void
statsock_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct statsock_conn *c = s->data;
	size_t ll;
	int rc;

	(void)b;
	if (c->done)
		return;
	if (n < 0) {
		statsock_conn_close(c);
		return;
	}
	c->have += (size_t)n;
	if ((rc = ctlmsg_line(c->buf, c->have, &ll)) == -EAGAIN &&
	    c->have < sizeof(c->buf))
		return;
	uv_read_stop(s);
	if (rc == 0)
		statsock_answer(c, c->buf, ll);
	else
		statsock_answer(c, "", 0);
}

static void
statsock_idle(uv_timer_t *t)
{
	statsock_conn_close(t->data);
}

/* Root and the daemon's own user only: the counters are the operator's. */
static bool
statsock_allowed(uv_pipe_t *p)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)p, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void
statsock_connection(uv_stream_t *server, int status)
{
	struct statsock *ss = server->data;
	struct statsock_conn *c;

	if (status < 0 || ss->closing)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatalx("out of memory");
	c->ss = ss;
	if ((c->next = ss->conns) != NULL)
		c->next->prevp = &c->next;
	c->prevp = &ss->conns;
	ss->conns = c;
	ss->nconns++;
	uv_pipe_init(ss->loop, &c->pipe, 0);
	uv_timer_init(ss->loop, &c->timer);
	c->pipe.data = c->timer.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 ||
	    ss->nconns > STATSOCK_CONNS_MAX || !statsock_allowed(&c->pipe)) {
		statsock_conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, statsock_idle, STATSOCK_IDLE_MS, 0);
	uv_read_start((uv_stream_t *)&c->pipe, statsock_alloc,
	    statsock_read);
}

static void
statsock_closed(uv_handle_t *h)
{
	struct statsock *ss = h->data;

	ss->closes--;
	statsock_free_if_done(ss);
}

int
statsock_open(struct statsock **out, uv_loop_t *loop, const char *path,
    statsock_fill_fn fill, void *arg)
{
	struct statsock *ss;
	mode_t old;
	int rc;

	*out = NULL;
	if (strlen(path) >= CTLMSG_PATH_MAX)
		return -ENAMETOOLONG;
	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return -ENOMEM;
	ss->loop = loop;
	ss->fill = fill;
	ss->arg = arg;
	snprintf(ss->path, sizeof(ss->path), "%s", path);
	uv_pipe_init(loop, &ss->pipe, 0);
	ss->pipe.data = ss;
	(void)unlink(path);
	old = umask(077);
	rc = uv_pipe_bind(&ss->pipe, path);
	umask(old);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&ss->pipe, 16,
		    statsock_connection);
	if (rc < 0) {
		ss->closing = true;
		ss->closes = 1;
		uv_close((uv_handle_t *)&ss->pipe, statsock_closed);
		return rc;
	}
	log_info("control socket %s", path);
	*out = ss;
	return 0;
}

void
statsock_close(struct statsock *ss)
{
	struct statsock_conn *c;

	if (ss == NULL || ss->closing)
		return;
	ss->closing = true;
	ss->closes = 1;
	for (c = ss->conns; c != NULL; c = c->next)
		statsock_conn_close(c);
	(void)unlink(ss->path);
	uv_close((uv_handle_t *)&ss->pipe, statsock_closed);
}
