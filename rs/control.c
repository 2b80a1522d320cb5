/* control.c -- ntm-rs's control socket: STATUS answered with the relay's counters as STAT lines (doc/CONTROL.md). */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctlmsg.h"
#include "log.h"
#include "relay.h"
#include "rs.h"
#include "rsio.h"

enum {
	CONTROL_RS_ANSWER_MAX = 64 * 128,	/* STAT lines are short */
};

struct rs_control_conn;

struct rs_control {
	uv_loop_t		*loop;
	uv_pipe_t		 pipe;
	char			 path[CTLMSG_PATH_MAX];
	const struct relay	*relay;		/* borrowed */
	const struct rsio	*io;		/* borrowed */
	struct rs_control_conn	*conns;		/* open connections */
	size_t			 nconns;
	bool			 closing;
	size_t			 closes;
};

struct rs_control_conn {
	struct rs_control	*ctl;
	struct rs_control_conn	*next, **prevp;	/* in ctl->conns */
	uv_pipe_t		 pipe;
	uv_timer_t		 timer;
	uv_write_t		 wr;
	size_t			 closes;
	bool			 done;		/* answered or closing */
	size_t			 have;
	char			 buf[CTLMSG_LINE_MAX];
	size_t			 outlen;
	char			 out[CONTROL_RS_ANSWER_MAX];
};

/* Appends "STAT key value\n"; returns the new length or -ENOSPC. */
static int
control_rs_stat(char *buf, size_t cap, int len, const char *key,
    uint64_t v)
{
	struct ctlmsg m;
	size_t n;

	if (len < 0)
		return len;
	memset(&m, 0, sizeof(m));
	m.type = CTLMSG_STAT;
	snprintf(m.word, sizeof(m.word), "%s", key);
	snprintf(m.value, sizeof(m.value), "%" PRIu64, v);
	if (ctlmsg_format(&m, buf + len, cap - (size_t)len, &n) < 0)
		return -ENOSPC;
	return len + (int)n;
}

int
control_rs_stats_lines(const struct relay *r, const struct rsio *io,
    char *buf, size_t cap)
{
	const struct relay_stats *st = relay_stats(r);
	struct ctlmsg end;
	char key[CTLMSG_WORD_MAX + 1];
	size_t n;
	int len = 0, d;

	len = control_rs_stat(buf, cap, len, "paths", relay_paths(r));
	len = control_rs_stat(buf, cap, len, "paths-bound",
	    relay_paths_bound(r));
	len = control_rs_stat(buf, cap, len, "paths-max", relay_capacity(r));
	len = control_rs_stat(buf, cap, len, "directions", st->directions);
	len = control_rs_stat(buf, cap, len, "directions-repeated",
	    st->directions_repeated);
	len = control_rs_stat(buf, cap, len, "refused-collision",
	    st->refused_collision);
	len = control_rs_stat(buf, cap, len, "refused-full",
	    st->refused_full);
	len = control_rs_stat(buf, cap, len, "refused-expired",
	    st->refused_expired);
	len = control_rs_stat(buf, cap, len, "refused-malformed",
	    st->refused_malformed);
	len = control_rs_stat(buf, cap, len, "hellos", st->hellos);
	len = control_rs_stat(buf, cap, len, "binds", st->binds);
	len = control_rs_stat(buf, cap, len, "binds-cookie",
	    st->binds_cookie);
	len = control_rs_stat(buf, cap, len, "rebinds", st->rebinds);
	len = control_rs_stat(buf, cap, len, "refreshes", st->refreshes);
	len = control_rs_stat(buf, cap, len, "cookies-sent",
	    st->cookies_sent);
	len = control_rs_stat(buf, cap, len, "forwarded", st->forwarded);
	len = control_rs_stat(buf, cap, len, "forwarded-bytes",
	    st->forwarded_bytes);
	len = control_rs_stat(buf, cap, len, "expired-idle",
	    st->expired_idle);
	len = control_rs_stat(buf, cap, len, "expired-unbound",
	    st->expired_unbound);
	for (d = RELAY_DROP_NONE + 1; d < RELAY_DROP_COUNT; d++) {
		snprintf(key, sizeof(key), "drop-%s", relay_drop_name(d));
		len = control_rs_stat(buf, cap, len, key, st->drops[d]);
	}
	if (io != NULL) {
		const struct rsio_stats *is = rsio_stats(io);

		len = control_rs_stat(buf, cap, len, "udp-received",
		    is->received);
		len = control_rs_stat(buf, cap, len, "udp-received-bytes",
		    is->received_bytes);
		len = control_rs_stat(buf, cap, len, "udp-truncated",
		    is->truncated);
		len = control_rs_stat(buf, cap, len, "udp-sent", is->sent);
		len = control_rs_stat(buf, cap, len, "udp-sent-bytes",
		    is->sent_bytes);
		len = control_rs_stat(buf, cap, len, "udp-send-errors",
		    is->send_errors);
	}
	if (len < 0)
		return len;
	memset(&end, 0, sizeof(end));
	end.type = CTLMSG_END;
	if (ctlmsg_format(&end, buf + len, cap - (size_t)len, &n) < 0)
		return -ENOSPC;
	return len + (int)n;
}

static void
control_rs_free_if_done(struct rs_control *ctl)
{
	if (ctl->closing && ctl->closes == 0 && ctl->nconns == 0)
		free(ctl);
}

static void
control_rs_conn_closed(uv_handle_t *h)
{
	struct rs_control_conn *c = h->data;
	struct rs_control *ctl = c->ctl;

	if (--c->closes > 0)
		return;
	if ((*c->prevp = c->next) != NULL)
		c->next->prevp = c->prevp;
	free(c);
	ctl->nconns--;
	control_rs_free_if_done(ctl);
}

static void
control_rs_conn_close(struct rs_control_conn *c)
{
	if (c->closes > 0)
		return;
	c->done = true;
	c->closes = 2;
	uv_close((uv_handle_t *)&c->pipe, control_rs_conn_closed);
	uv_close((uv_handle_t *)&c->timer, control_rs_conn_closed);
}

static void
control_rs_written(uv_write_t *w, int status)
{
	(void)status;
	control_rs_conn_close(w->data);
}

static void
control_rs_answer(struct rs_control_conn *c, const char *line, size_t len)
{
	struct ctlmsg m;
	uv_buf_t b;
	int n;

	c->done = true;
	if (ctlmsg_parse(&m, line, len) == 0 && m.type == CTLMSG_STATUS &&
	    !c->ctl->closing) {
		n = control_rs_stats_lines(c->ctl->relay, c->ctl->io, c->out,
		    sizeof(c->out));
	} else {
		memset(&m, 0, sizeof(m));
		m.type = CTLMSG_ERROR;
		snprintf(m.word, sizeof(m.word), "%s", c->ctl->closing ?
		    "shutting-down" : "bad-request");
		n = ctlmsg_format(&m, c->out, sizeof(c->out), &c->outlen) < 0 ?
		    -EINVAL : (int)c->outlen;
	}
	if (n < 0) {
		control_rs_conn_close(c);
		return;
	}
	c->outlen = (size_t)n;
	b = uv_buf_init(c->out, (unsigned)c->outlen);
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->pipe, &b, 1,
	    control_rs_written) < 0)
		control_rs_conn_close(c);
}

static void
control_rs_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct rs_control_conn *c = h->data;

	(void)hint;
	*b = uv_buf_init(c->buf + c->have, (unsigned)(sizeof(c->buf) -
	    c->have));
}

static void
control_rs_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct rs_control_conn *c = s->data;
	size_t ll;
	int rc;

	(void)b;
	if (c->done)
		return;
	if (n < 0) {
		control_rs_conn_close(c);
		return;
	}
	c->have += (size_t)n;
	if ((rc = ctlmsg_line(c->buf, c->have, &ll)) == -EAGAIN &&
	    c->have < sizeof(c->buf))
		return;
	uv_read_stop(s);
	if (rc == 0)
		control_rs_answer(c, c->buf, ll);
	else
		control_rs_answer(c, "", 0);
}

static void
control_rs_idle(uv_timer_t *t)
{
	control_rs_conn_close(t->data);
}

/* Root and the daemon's own user only: the counters are the operator's. */
static bool
control_rs_allowed(uv_pipe_t *p)
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
control_rs_connection(uv_stream_t *server, int status)
{
	struct rs_control *ctl = server->data;
	struct rs_control_conn *c;

	if (status < 0 || ctl->closing)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatalx("out of memory");
	c->ctl = ctl;
	if ((c->next = ctl->conns) != NULL)
		c->next->prevp = &c->next;
	c->prevp = &ctl->conns;
	ctl->conns = c;
	ctl->nconns++;
	uv_pipe_init(ctl->loop, &c->pipe, 0);
	uv_timer_init(ctl->loop, &c->timer);
	c->pipe.data = c->timer.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 ||
	    ctl->nconns > RS_CONTROL_CONNS_MAX ||
	    !control_rs_allowed(&c->pipe)) {
		control_rs_conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, control_rs_idle, RS_CONTROL_IDLE_MS, 0);
	uv_read_start((uv_stream_t *)&c->pipe, control_rs_alloc,
	    control_rs_read);
}

static void
control_rs_closed(uv_handle_t *h)
{
	struct rs_control *ctl = h->data;

	ctl->closes--;
	control_rs_free_if_done(ctl);
}

int
control_rs_open(struct rs_control **out, uv_loop_t *loop, const char *path,
    const struct relay *relay, const struct rsio *io)
{
	struct rs_control *ctl;
	mode_t old;
	int rc;

	*out = NULL;
	if (strlen(path) >= CTLMSG_PATH_MAX)
		return -ENAMETOOLONG;
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return -ENOMEM;
	ctl->loop = loop;
	ctl->relay = relay;
	ctl->io = io;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	uv_pipe_init(loop, &ctl->pipe, 0);
	ctl->pipe.data = ctl;
	(void)unlink(path);
	old = umask(077);
	rc = uv_pipe_bind(&ctl->pipe, path);
	umask(old);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&ctl->pipe, 16,
		    control_rs_connection);
	if (rc < 0) {
		ctl->closing = true;
		ctl->closes = 1;
		uv_close((uv_handle_t *)&ctl->pipe, control_rs_closed);
		return rc;
	}
	log_info("control socket %s", path);
	*out = ctl;
	return 0;
}

void
control_rs_close(struct rs_control *ctl)
{
	struct rs_control_conn *c;

	if (ctl == NULL || ctl->closing)
		return;
	ctl->closing = true;
	ctl->closes = 1;
	for (c = ctl->conns; c != NULL; c = c->next)
		control_rs_conn_close(c);
	(void)unlink(ctl->path);
	uv_close((uv_handle_t *)&ctl->pipe, control_rs_closed);
}
