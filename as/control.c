/* control.c -- ntm-as admin socket for ntmctl: accounts, revocation, link status. */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "account.h"
#include "as.h"
#include "log.h"
#include "notice.h"
#include "ocsp.h"
#include "rand.h"

/*
 * One request line per connection, at most CONTROL_LINE_MAX bytes with its
 * LF, words separated by single spaces; then answer lines, the last being
 * "ok" or "error <text>", and the AS closes.  The socket is 0600 in a
 * directory the operator controls: whoever can open it administers the AS.
 *
 *   revoke <fqdn|serial> <reason>     -> "revoked <count>", ok
 *   account-add <name> <hex password> <fqdn>...   -> ok
 *   account-remove <name>             -> ok
 *   account-list                      -> "account <name> <created>
 *                                        <enabled|disabled> <fqdn,...|->"...
 *   status                            -> "dc <name> <up|down> <acked seq>"...
 *
 * The password travels hex-encoded so that it may hold spaces.
 */
enum control_limits {
	CONTROL_LIMITS_INVALID = 0,
	CONTROL_LINE_MAX = 4096,
	CONTROL_WORDS_MAX = 40,
	CONTROL_CLIENTS_MAX = 16,
};

struct control {
	struct as_env	*env;
	uv_pipe_t	 pipe;
	unsigned int	 nclients;
	char		*path;
};

struct control_client {
	struct control	*ctl;
	uv_pipe_t	 pipe;
	char		 line[CONTROL_LINE_MAX];
	size_t		 len;
	bool		 done;		/* a request was read */
	bool		 closing;
	unsigned int	 refs;
};

struct control_write {
	uv_write_t	 req;
	char		*buf;
};

static void
control_client_closed(uv_handle_t *h)
{
	struct control_client *c = h->data;

	if (--c->refs == 0) {
		c->ctl->nclients--;
		free(c);
	}
}

static void
control_client_close(struct control_client *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_close((uv_handle_t *)&c->pipe, control_client_closed);
}

static void
control_written(uv_write_t *req, int status)
{
	struct control_write *w = (struct control_write *)req;

	(void)status;
	free(w->buf);
	free(w);
}

static void
control_send(struct control_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
control_send(struct control_client *c, const char *fmt, ...)
{
	struct control_write *w;
	uv_buf_t b;
	va_list ap;
	int n;

	if (c->closing)
		return;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatalx("out of memory");
	va_start(ap, fmt);
	n = vasprintf(&w->buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("out of memory");
	b = uv_buf_init(w->buf, (unsigned int)n);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1,
	    control_written) < 0) {
		free(w->buf);
		free(w);
	}
}

/* The last line of an answer, then close once it is written. */
static void
control_finish(struct control_client *c, int rv, const char *what)
{
	if (rv >= 0)
		control_send(c, "ok\n");
	else
		control_send(c, "error %s\n", what);
	control_client_close(c);
}

/* Revoke */

static void
control_revoked(void *arg, int rv)
{
	struct control_client *c = arg;
	char why[128];

	if (rv >= 0)
		control_send(c, "revoked %d\n", rv);
	snprintf(why, sizeof(why), "%s", rv == -ENOENT ? "no such serial" :
	    rv == -EALREADY ? "already revoked" : strerror(-rv));
	control_finish(c, rv, why);
	if (--c->refs == 0) {
		c->ctl->nclients--;
		free(c);
	}
}

/* Accounts, on the job queue. */

struct control_account {
	struct control_client	*c;
	int			 op;		/* 'a', 'r', 'l' */
	char			*name;
	char			*password;
	size_t			 password_len;
	char			**fqdns;	/* NULL-terminated */
	struct account_info	*list;
	size_t			 n;
	int			 rv;
};

static void
control_account_work(struct as_env *env, void *arg)
{
	struct control_account *a = arg;

	switch (a->op) {
	case 'a':
		a->rv = account_add(env->db, &env->params, rng_system(),
		    a->name, a->password, (const char *const *)a->fqdns,
		    time(NULL));
		break;
	case 'r':
		a->rv = account_remove(env->db, a->name);
		break;
	default:
		a->rv = account_list(env->db, &a->list, &a->n);
		break;
	}
}

static void
control_account_done(struct as_env *env, void *arg)
{
	struct control_account *a = arg;
	struct control_client *c = a->c;
	char why[128];
	size_t i, k;

	(void)env;
	for (i = 0; a->rv == 0 && i < a->n; i++) {
		control_send(c, "account %s %lld %s ", a->list[i].name,
		    (long long)a->list[i].created, a->list[i].disabled ?
		    "disabled" : "enabled");
		for (k = 0; k < a->list[i].nfqdns; k++)
			control_send(c, "%s%s", k ? "," : "",
			    a->list[i].fqdns[k]);
		control_send(c, "%s\n", a->list[i].nfqdns ? "" : "-");
	}
	switch (a->rv) {
	case -EEXIST:
		snprintf(why, sizeof(why), "account %s exists", a->name);
		break;
	case -ENOTUNIQ:
		snprintf(why, sizeof(why), "an FQDN already belongs to an "
		    "account");
		break;
	case -ENOENT:
		snprintf(why, sizeof(why), "no account %s", a->name);
		break;
	case -EINVAL:
		snprintf(why, sizeof(why), "invalid name, FQDN or password "
		    "length (%d-%d bytes)", ACCOUNT_PASSWORD_MIN,
		    ACCOUNT_PASSWORD_MAX);
		break;
	default:
		snprintf(why, sizeof(why), "%s", strerror(-a->rv));
	}
	if (a->rv == 0 && a->op != 'l')
		log_info("control: account %s %s", a->name, a->op == 'a' ?
		    "added" : "removed");
	control_finish(c, a->rv, why);
	if (--c->refs == 0) {
		c->ctl->nclients--;
		free(c);
	}
	account_list_free(a->list, a->n);
	if (a->password != NULL) {
		gnutls_memset(a->password, 0, a->password_len);
		free(a->password);
	}
	for (i = 0; a->fqdns != NULL && a->fqdns[i] != NULL; i++)
		free(a->fqdns[i]);
	free(a->fqdns);
	free(a->name);
	free(a);
}

static int
control_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Lower-case, as names compare (PROTOCOL.md 3.3). */
static char *
control_lower_dup(const char *s)
{
	char *d = strdup(s), *p;

	if (d == NULL)
		fatalx("out of memory");
	for (p = d; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

static void
control_request(struct control_client *c, char **w, size_t n)
{
	struct as_env *env = c->ctl->env;
	struct control_account *a;
	enum ocsp_reason reason = OCSP_REASON_UNSPECIFIED;
	size_t i, len;
	bool bad = false;
	int hi, lo;

	if (n == 1 && strcmp(w[0], "status") == 0) {
		for (i = 0; i < env->cfg.ndcs; i++)
			control_send(c, "dc %s %s %llu\n", env->cfg.dc[i].name,
			    env->links[i] != NULL &&
			    notice_link_connected(env->links[i]) ? "up" :
			    "down", env->links[i] == NULL ? 0ULL :
			    (unsigned long long)notice_link_acked(
			    env->links[i]));
		control_finish(c, 0, NULL);
		return;
	}
	if (n >= 2 && n <= 3 && strcmp(w[0], "revoke") == 0) {
		if (n == 3 && ocsp_reason_parse(w[2], &reason) < 0) {
			control_finish(c, -1, "unknown reason");
			return;
		}
		log_info("control: revoke %s (%s)", w[1],
		    ocsp_reason_name(reason));
		c->refs++;
		as_revoke(env, w[1], reason, control_revoked, c);
		return;
	}
	if ((n >= 3 && strcmp(w[0], "account-add") == 0) ||
	    (n == 2 && strcmp(w[0], "account-remove") == 0) ||
	    (n == 1 && strcmp(w[0], "account-list") == 0)) {
		if ((a = calloc(1, sizeof(*a))) == NULL)
			fatalx("out of memory");
		a->c = c;
		a->op = w[0][8] == 'a' ? 'a' : w[0][8] == 'r' ? 'r' : 'l';
		if (n >= 2)
			a->name = control_lower_dup(w[1]);
		if (a->op == 'a') {
			len = strlen(w[2]);
			if (len % 2 != 0 || (a->password = calloc(1,
			    len / 2 + 1)) == NULL) {
				free(a->name);
				free(a);
				control_finish(c, -1, "password must be hex");
				return;
			}
			a->password_len = len / 2;
			for (i = 0; i < len / 2; i++) {
				hi = control_hexval(w[2][2 * i]);
				lo = control_hexval(w[2][2 * i + 1]);
				if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
					bad = true;
				else
					a->password[i] = (char)(hi << 4 | lo);
			}
			gnutls_memset(w[2], 0, len);
			if ((a->fqdns = calloc(n - 2, sizeof(char *))) == NULL)
				fatalx("out of memory");
			for (i = 3; i < n; i++)
				a->fqdns[i - 3] = control_lower_dup(w[i]);
			if (bad || a->password_len == 0) {
				a->rv = -EINVAL;
				c->refs++;
				control_account_done(env, a);
				return;
			}
		}
		c->refs++;
		as_job_submit(env, control_account_work, control_account_done,
		    a);
		return;
	}
	control_finish(c, -1, "unknown request");
}

static void
control_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct control_client *c = h->data;

	(void)hint;
	buf->base = c->line + c->len;
	buf->len = sizeof(c->line) - c->len;
}

static void
control_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct control_client *c = s->data;
	char *w[CONTROL_WORDS_MAX], *lf, *p, *save = NULL;
	size_t n = 0;

	(void)buf;
	if (nread < 0) {
		if (!c->done)
			control_client_close(c);
		return;
	}
	if (c->done)
		return;
	c->len += (size_t)nread;
	if ((lf = memchr(c->line, '\n', c->len)) == NULL) {
		if (c->len == sizeof(c->line)) {
			c->done = true;
			control_finish(c, -1, "line too long");
		}
		return;
	}
	*lf = '\0';
	c->done = true;
	uv_read_stop(s);
	for (p = strtok_r(c->line, " ", &save); p != NULL && n < CONTROL_WORDS_MAX;
	    p = strtok_r(NULL, " ", &save))
		w[n++] = p;
	if (n == 0 || p != NULL) {
		control_finish(c, -1, "bad request line");
		return;
	}
	control_request(c, w, n);
	gnutls_memset(c->line, 0, sizeof(c->line));
}

static void
control_connection(uv_stream_t *server, int status)
{
	struct control *ctl = server->data;
	struct control_client *c;

	if (status < 0)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatalx("out of memory");
	c->ctl = ctl;
	c->refs = 1;
	ctl->nclients++;
	uv_pipe_init(ctl->env->uv, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 ||
	    ctl->nclients > CONTROL_CLIENTS_MAX) {
		control_client_close(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, control_alloc, control_read);
}

static void
control_closed(uv_handle_t *h)
{
	struct control *ctl = h->data;

	free(ctl->path);
	free(ctl);
}

int
control_open(struct as_env *env, const char *path, struct control **out)
{
	struct control *ctl;
	mode_t old;
	int rv;

	if ((ctl = calloc(1, sizeof(*ctl))) == NULL ||
	    (ctl->path = strdup(path)) == NULL) {
		free(ctl);
		return -ENOMEM;
	}
	ctl->env = env;
	uv_pipe_init(env->uv, &ctl->pipe, 0);
	ctl->pipe.data = ctl;
	(void)unlink(path);
	old = umask(077);
	rv = uv_pipe_bind(&ctl->pipe, path);
	umask(old);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&ctl->pipe, 8,
		    control_connection);
	if (rv < 0) {
		uv_close((uv_handle_t *)&ctl->pipe, control_closed);
		return rv;
	}
	log_info("control socket %s", path);
	*out = ctl;
	return 0;
}

void
control_close(struct control *ctl)
{
	if (ctl == NULL)
		return;
	(void)unlink(ctl->path);
	uv_close((uv_handle_t *)&ctl->pipe, control_closed);
}
