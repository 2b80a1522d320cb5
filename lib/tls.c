/* tls.c -- GnuTLS over libuv TCP: framing, send queue, listeners, clients. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "msg.h"
#include "rand.h"
#include "tls.h"
#include "tls_local.h"

enum {
	TLS_RECORD_MAX = 16384,		/* plaintext bytes per TLS record */
	TLS_WARNINGS_MAX = 16,		/* non-fatal errors in one read */
};

enum tls_conn_state {
	TLS_CONN_INVALID = 0,
	TLS_CONN_CONNECTING,		/* TCP connect pending (clients) */
	TLS_CONN_HANDSHAKE,
	TLS_CONN_OPEN,
	TLS_CONN_CLOSING,		/* flushing, then handles closing */
};

struct tls_conn {
	uv_tcp_t		 tcp;
	uv_timer_t		 timer;	/* handshake, idle or linger */
	uv_connect_t		 connect;
	uv_shutdown_t		 shutdown;
	int			 handles;	/* initialised, not closed */
	const struct tls_config	*cfg;		/* the owner's */
	struct tls_stats	*stats;		/* the owner's */
	struct tls_listener	*listener;	/* one of these two owns it */
	struct tls_client	*client;
	struct tls_conn		*next, *prev;	/* listener's list */
	gnutls_session_t	 session;
	enum tls_conn_state	 state;
	bool			 server;
	bool			 want_drain;
	int			 reason;
	int			 verify_err;
	size_t			 queued;	/* ciphertext bytes in writes */
	/* Ciphertext of the current uv_read, borrowed while GnuTLS eats it. */
	const uint8_t		*in;
	size_t			 in_len;
	uint8_t			 rbuf[TLS_READ_CHUNK];
	/* Plaintext of the frame being assembled. */
	uint8_t			*frame;
	size_t			 frame_cap;
	size_t			 frame_have;
	size_t			 frame_need;	/* 0 until the header is in */
	struct tls_peer		 peer;
	void			*user;
};

struct tls_listener {
	uv_tcp_t		 tcp;
	struct tls_config	 cfg;
	struct tls_stats	 stats;
	struct tls_conn		*conns;
	size_t			 nconns;
	bool			 freeing;
	bool			 closed;	/* tcp close callback ran */
};

struct tls_client {
	uv_loop_t		*uv;
	uv_timer_t		 retry;
	struct tls_config	 cfg;
	struct tls_stats	 stats;
	struct sockaddr_storage	 sa;
	char			 addr[LOOP_ADDRSTRLEN];
	struct tls_conn		*conn;
	uint32_t		 backoff_ms;
	bool			 freeing;
	bool			 closed;	/* retry close callback ran */
};

/* One uv_write of ciphertext, freed by its callback. */
struct tls_write {
	uv_write_t		 req;
	struct tls_conn		*conn;
	size_t			 len;
	uint8_t			 data[];
};

static void	tls_conn_fail(struct tls_conn *, int reason);
static void	tls_conn_begin_close(struct tls_conn *, int reason);
static void	tls_client_lost(struct tls_client *);
static void	tls_listener_maybe_free(struct tls_listener *);
static void	tls_client_maybe_free(struct tls_client *);
static void	tls_timer_cb(uv_timer_t *);

static const char *
tls_name(const struct tls_config *cfg)
{
	return cfg->name != NULL ? cfg->name : "tls";
}

static size_t
tls_frame_max(const struct tls_config *cfg)
{
	if (cfg->frame_max != 0)
		return cfg->frame_max;
	return cfg->framing == TLS_FRAMING_LEN32 ? TLS_LEN32_FRAME_MAX :
	    TLS_MSG_FRAME_MAX;
}

static size_t
tls_header_len(const struct tls_config *cfg)
{
	return cfg->framing == TLS_FRAMING_LEN32 ? TLS_LEN32_HEADER :
	    PROTO_HEADER_LEN;
}

static void
tls_config_defaults(struct tls_config *cfg)
{
	if (cfg->framing == TLS_FRAMING_INVALID)
		cfg->framing = TLS_FRAMING_MSG;
	if (cfg->client_auth == TLS_CLIENT_AUTH_INVALID)
		cfg->client_auth = TLS_CLIENT_AUTH_REQUIRE;
	if (cfg->alpn == NULL)
		cfg->alpn = TLS_ALPN;
	if (cfg->queue_max == 0)
		cfg->queue_max = TLS_QUEUE_MAX;
	if (cfg->conns_max == 0)
		cfg->conns_max = TLS_CONNS_MAX;
	if (cfg->handshake_timeout_ms == 0)
		cfg->handshake_timeout_ms = TLS_HANDSHAKE_TIMEOUT_MS;
	if (cfg->backoff_min_ms == 0)
		cfg->backoff_min_ms = TLS_BACKOFF_MIN_MS;
	if (cfg->backoff_max_ms == 0)
		cfg->backoff_max_ms = TLS_BACKOFF_MAX_MS;
	if (cfg->backoff_max_ms < cfg->backoff_min_ms)
		cfg->backoff_max_ms = cfg->backoff_min_ms;
	if (cfg->rng == NULL)
		cfg->rng = rng_system();
}

static int
tls_config_check(const struct tls_config *cfg, bool server)
{
	if (cfg->creds == NULL || cfg->verify == NULL)
		return -EINVAL;
	/* A client without a certificate: a node's first enrollment. */
	if (server && !cfg->creds->has_key)
		return -EINVAL;
	if (cfg->framing != TLS_FRAMING_INVALID &&
	    cfg->framing != TLS_FRAMING_MSG &&
	    cfg->framing != TLS_FRAMING_LEN32)
		return -EINVAL;
	if (cfg->framing == TLS_FRAMING_MSG && cfg->frame_max != 0 &&
	    cfg->frame_max < PROTO_HEADER_LEN)
		return -EINVAL;
	return 0;
}

static time_t
tls_now(const struct tls_config *cfg)
{
	return cfg->clock != NULL ? cfg->clock(cfg->clock_arg) : time(NULL);
}

/* ---- transport functions: GnuTLS <-> uv_tcp_t ---- */

static void
tls_write_cb(uv_write_t *req, int status)
{
	struct tls_write *w = (struct tls_write *)(void *)req;
	struct tls_conn *c = w->conn;

	c->queued -= w->len;
	free(w);
	if (status < 0) {
		if (c->state != TLS_CONN_CLOSING)
			tls_conn_fail(c, status);
		return;
	}
	if (c->want_drain && c->state == TLS_CONN_OPEN &&
	    c->queued <= c->cfg->queue_max / 2) {
		c->want_drain = false;
		if (c->cfg->on_drain != NULL)
			c->cfg->on_drain(c, c->cfg->arg);
	}
}

/* GnuTLS hands over ciphertext; it always goes to libuv's write queue. */
static ssize_t
tls_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct tls_conn *c = ptr;
	struct tls_write *w;
	size_t len = 0, off = 0;
	uv_buf_t b;
	int i, rc;

	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (uv_is_closing((uv_handle_t *)&c->tcp) ||
	    (w = malloc(sizeof(*w) + len)) == NULL) {
		gnutls_transport_set_errno(c->session, EPIPE);
		return -1;
	}
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0)
			memcpy(w->data + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	w->conn = c;
	w->len = len;
	b = uv_buf_init((char *)w->data, (unsigned int)len);
	if ((rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1,
	    tls_write_cb)) < 0) {
		log_debug("%s %s: write: %s", tls_name(c->cfg), c->peer.addr,
		    uv_strerror(rc));
		free(w);
		gnutls_transport_set_errno(c->session, EPIPE);
		return -1;
	}
	c->queued += len;
	return (ssize_t)len;
}

/* GnuTLS asks for ciphertext: what the current read brought, or EAGAIN. */
static ssize_t
tls_pull(gnutls_transport_ptr_t ptr, void *data, size_t size)
{
	struct tls_conn *c = ptr;
	size_t n;

	if (c->in_len == 0) {
		gnutls_transport_set_errno(c->session, EAGAIN);
		return -1;
	}
	n = size < c->in_len ? size : c->in_len;
	memcpy(data, c->in, n);
	c->in += n;
	c->in_len -= n;
	return (ssize_t)n;
}

/* Only asked with a timeout set, which we never do; never waits. */
static int
tls_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct tls_conn *c = ptr;

	return c->in_len > 0 ? 1 : 0;
}

/* ---- peer verification, inside the handshake ---- */

static int
tls_verify_session(gnutls_session_t session)
{
	struct tls_conn *c = gnutls_session_get_ptr(session);
	gnutls_x509_crt_t chain[TLS_CHAIN_MAX];
	const gnutls_datum_t *der;
	struct cert_info info;
	unsigned int n = 0, i, got = 0;
	int rv;

	der = gnutls_certificate_get_peers(session, &n);
	if (der == NULL || n == 0) {
		if (c->server &&
		    c->cfg->client_auth == TLS_CLIENT_AUTH_OPTIONAL)
			return 0;
		c->verify_err = TLS_E_NO_CERT;
		return -1;
	}
	if (n > TLS_CHAIN_MAX) {
		c->verify_err = CERT_E_CHAIN;
		return -1;
	}
	for (got = 0; got < n; got++) {
		if (gnutls_x509_crt_init(&chain[got]) < 0) {
			rv = -ENOMEM;
			goto out;
		}
		if (gnutls_x509_crt_import(chain[got], &der[got],
		    GNUTLS_X509_FMT_DER) < 0) {
			got++;
			rv = CERT_E_PARSE;
			goto out;
		}
	}
	if ((rv = c->cfg->verify(c->cfg->verify_ctx, chain, n,
	    tls_now(c->cfg))) < 0) {
		/* Name what was refused; the peer struct stays empty. */
		if (cert_info(chain[0], &info) == 0)
			(c->server ? log_debug : log_info)("%s %s: refused %s "
			    "certificate of '%s': %s", tls_name(c->cfg),
			    c->peer.addr, cert_role_name(info.role), info.fqdn,
			    tls_strerror(rv));
		goto out;
	}
	if ((rv = cert_info(chain[0], &info)) < 0)
		goto out;
	c->peer.role = info.role;
	memcpy(c->peer.fqdn, info.fqdn, sizeof(c->peer.fqdn));
	c->peer.crt = chain[0];
	chain[0] = NULL;
out:
	for (i = 0; i < got; i++)
		gnutls_x509_crt_deinit(chain[i]);
	if (rv < 0) {
		c->verify_err = rv;
		return -1;
	}
	return 0;
}

/* ---- framing ---- */

/* A complete header is in c->frame: learn the frame size. */
static int
tls_frame_size(struct tls_conn *c, size_t *need)
{
	size_t max = tls_frame_max(c->cfg);
	uint32_t len;
	int rv;

	if (c->cfg->framing == TLS_FRAMING_LEN32) {
		len = load_be32(c->frame);
		if (len > max) {
			log_warnx("%s %s (%s): frame of %u bytes above %zu, "
			    "closing", tls_name(c->cfg), c->peer.addr,
			    c->peer.fqdn, len, max);
			return TLS_E_FRAME_TOO_BIG;
		}
		*need = TLS_LEN32_HEADER + (size_t)len;
		return 0;
	}
	if ((rv = msg_frame_len(c->frame, PROTO_HEADER_LEN)) < 0) {
		log_warnx("%s %s (%s): %s, closing", tls_name(c->cfg),
		    c->peer.addr, c->peer.fqdn, msg_strerror(rv));
		return TLS_E_FRAMING;
	}
	if ((size_t)rv > max) {
		log_warnx("%s %s (%s): message of %d bytes above %zu, closing",
		    tls_name(c->cfg), c->peer.addr, c->peer.fqdn, rv, max);
		return TLS_E_FRAME_TOO_BIG;
	}
	*need = (size_t)rv;
	return 0;
}

static int
tls_frame_reserve(struct tls_conn *c, size_t n)
{
	uint8_t *p;

	if (n <= c->frame_cap)
		return 0;
	if ((p = realloc(c->frame, n)) == NULL)
		return -ENOMEM;
	c->frame = p;
	c->frame_cap = n;
	return 0;
}

/* Plaintext from the record layer, cut into frames. */
static int
tls_frame_input(struct tls_conn *c, const uint8_t *p, size_t len)
{
	size_t hlen = tls_header_len(c->cfg), want, n, skip;
	int rv;

	while (len > 0 && c->state == TLS_CONN_OPEN) {
		want = c->frame_need != 0 ? c->frame_need : hlen;
		if ((rv = tls_frame_reserve(c, want)) < 0)
			return rv;
		n = want - c->frame_have;
		if (n > len)
			n = len;
		memcpy(c->frame + c->frame_have, p, n);
		c->frame_have += n;
		p += n;
		len -= n;
		if (c->frame_have < want)
			break;
		if (c->frame_need == 0) {
			if ((rv = tls_frame_size(c, &c->frame_need)) < 0)
				return rv;
			if (c->frame_need > c->frame_have)
				continue;
		}
		skip = c->cfg->framing == TLS_FRAMING_LEN32 ?
		    TLS_LEN32_HEADER : 0;
		c->frame_have = 0;
		c->frame_need = 0;
		c->stats->frames_in++;
		if (c->cfg->on_frame != NULL)
			c->cfg->on_frame(c, c->frame + skip, want - skip,
			    c->cfg->arg);
	}
	return 0;
}

/* ---- the connection's life ---- */

static void
tls_timer_arm(struct tls_conn *c, uint64_t ms)
{
	uv_timer_stop(&c->timer);
	if (ms > 0)
		uv_timer_start(&c->timer, tls_timer_cb, ms, 0);
}

static void
tls_conn_free(struct tls_conn *c)
{
	struct tls_listener *l = c->listener;
	struct tls_client *cl = c->client;

	if (c->cfg->on_closed != NULL)
		c->cfg->on_closed(c, c->reason, c->cfg->arg);
	if (l != NULL) {
		l->nconns--;
		if (c->prev != NULL)
			c->prev->next = c->next;
		else
			l->conns = c->next;
		if (c->next != NULL)
			c->next->prev = c->prev;
	}
	if (c->session != NULL)
		gnutls_deinit(c->session);
	gnutls_x509_crt_deinit(c->peer.crt);
	if (c->frame != NULL) {
		gnutls_memset(c->frame, 0, c->frame_cap);
		free(c->frame);
	}
	gnutls_memset(c->rbuf, 0, sizeof(c->rbuf));
	free(c);
	if (l != NULL)
		tls_listener_maybe_free(l);
	if (cl != NULL) {
		cl->conn = NULL;
		tls_client_lost(cl);
	}
}

static void
tls_conn_handle_closed(uv_handle_t *h)
{
	struct tls_conn *c = h->data;

	if (--c->handles == 0)
		tls_conn_free(c);
}

static void
tls_conn_close_handles(struct tls_conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, tls_conn_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, tls_conn_handle_closed);
}

static void
tls_shutdown_cb(uv_shutdown_t *req, int status)
{
	tls_conn_close_handles(req->data);
}

/*
 * From here the connection only winds down: no more reads or callbacks
 * other than on_closed.  What GnuTLS queued (close_notify, an alert) is
 * flushed by a TCP shutdown, for at most TLS_LINGER_MS.
 */
static void
tls_conn_begin_close(struct tls_conn *c, int reason)
{
	enum tls_conn_state was = c->state;

	if (was == TLS_CONN_CLOSING)
		return;
	c->state = TLS_CONN_CLOSING;
	c->reason = reason;
	if (was == TLS_CONN_CONNECTING) {
		tls_conn_close_handles(c);
		return;
	}
	uv_read_stop((uv_stream_t *)&c->tcp);
	tls_timer_arm(c, TLS_LINGER_MS);
	c->shutdown.data = c;
	if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp,
	    tls_shutdown_cb) < 0)
		tls_conn_close_handles(c);
}

/*
 * Why a connection ends is logged at info level where an operator has
 * something to fix (a server we dial refused, a timeout, no common ALPN),
 * at debug level where anyone could cause it by connecting to us; frame
 * errors were already logged with their sizes.
 */
static bool
tls_fail_notable(const struct tls_conn *c, int reason)
{
	if (reason == TLS_E_ALPN || reason == TLS_E_CREDS)
		return true;
	/* A verified peer gone quiet; or a server we dial that is. */
	if (reason == -ETIMEDOUT)
		return !c->server || c->state == TLS_CONN_OPEN;
	return !c->server && c->verify_err != 0;
}

static void
tls_conn_fail(struct tls_conn *c, int reason)
{
	void (*say)(const char *, ...) __attribute__((format(printf, 1, 2)));

	if (c->state == TLS_CONN_CLOSING)
		return;
	if (reason == TLS_E_FRAME_TOO_BIG || reason == TLS_E_FRAMING)
		c->stats->frame_errors++;
	else if (c->state != TLS_CONN_OPEN && c->verify_err != 0)
		c->stats->refused++;
	else if (c->state != TLS_CONN_OPEN && reason != -ECANCELED)
		c->stats->failed++;
	say = tls_fail_notable(c, reason) ? log_info : log_debug;
	say("%s %s%s%s: closing: %s", tls_name(c->cfg), c->peer.addr,
	    c->peer.fqdn[0] != '\0' ? " " : "", c->peer.fqdn,
	    tls_strerror(reason));
	if (c->state == TLS_CONN_OPEN && c->session != NULL)
		gnutls_bye(c->session, GNUTLS_SHUT_WR);
	tls_conn_begin_close(c, reason);
}

void
tls_close(struct tls_conn *c)
{
	if (c == NULL || c->state == TLS_CONN_CLOSING)
		return;
	if (c->state == TLS_CONN_OPEN)
		gnutls_bye(c->session, GNUTLS_SHUT_WR);
	tls_conn_begin_close(c, 0);
}

static void
tls_timer_cb(uv_timer_t *t)
{
	struct tls_conn *c = t->data;

	switch (c->state) {
	case TLS_CONN_CONNECTING:
	case TLS_CONN_HANDSHAKE:
		tls_conn_fail(c, -ETIMEDOUT);
		break;
	case TLS_CONN_OPEN:
		log_debug("%s %s %s: idle for %u ms", tls_name(c->cfg),
		    c->peer.addr, c->peer.fqdn, c->cfg->idle_timeout_ms);
		tls_conn_fail(c, -ETIMEDOUT);
		break;
	case TLS_CONN_CLOSING:
		/* The peer did not take our last bytes in time. */
		tls_conn_close_handles(c);
		break;
	default:
		break;
	}
}

static void
tls_handshake_done(struct tls_conn *c)
{
	gnutls_datum_t proto = { NULL, 0 };
	size_t alen = strlen(c->cfg->alpn);

	if (gnutls_alpn_get_selected_protocol(c->session, &proto) < 0 ||
	    proto.size != alen || memcmp(proto.data, c->cfg->alpn, alen) != 0) {
		tls_conn_fail(c, TLS_E_ALPN);
		return;
	}
	/* A server whose verify callback never ran: no certificate sent. */
	if (c->peer.crt == NULL && !(c->server &&
	    c->cfg->client_auth == TLS_CLIENT_AUTH_OPTIONAL)) {
		tls_conn_fail(c, TLS_E_NO_CERT);
		return;
	}
	c->state = TLS_CONN_OPEN;
	c->stats->established++;
	tls_timer_arm(c, c->cfg->idle_timeout_ms);
	if (c->client != NULL)
		c->client->backoff_ms = c->cfg->backoff_min_ms;
	log_debug("%s %s: connected to %s %s", tls_name(c->cfg), c->peer.addr,
	    cert_role_name(c->peer.role), c->peer.fqdn);
	if (c->cfg->on_connected != NULL)
		c->cfg->on_connected(c, &c->peer, c->cfg->arg);
}

static int
tls_gnutls_reason(struct tls_conn *c, int rv)
{
	if (c->verify_err != 0)
		return c->verify_err;
	if (rv == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		log_debug("%s %s: alert %s", tls_name(c->cfg), c->peer.addr,
		    gnutls_alert_get_name(gnutls_alert_get(c->session)));
		return TLS_E_ALERT;
	}
	if (rv == GNUTLS_E_NO_CERTIFICATE_FOUND ||
	    rv == GNUTLS_E_CERTIFICATE_REQUIRED)
		return TLS_E_NO_CERT;
	if (rv == GNUTLS_E_NO_APPLICATION_PROTOCOL)
		return TLS_E_ALPN;
	if (rv == GNUTLS_E_PREMATURE_TERMINATION ||
	    rv == GNUTLS_E_UNEXPECTED_PACKET_LENGTH)
		return -ECONNRESET;
	log_debug("%s %s: %s", tls_name(c->cfg), c->peer.addr,
	    gnutls_strerror(rv));
	return c->state == TLS_CONN_HANDSHAKE ? TLS_E_HANDSHAKE : TLS_E_RECORD;
}

/* Runs GnuTLS over what the last read brought, until it wants more. */
static void
tls_conn_input(struct tls_conn *c)
{
	uint8_t pt[TLS_READ_CHUNK];
	size_t left;
	ssize_t n;
	int rv, warnings = 0;

	if (c->state == TLS_CONN_HANDSHAKE) {
		rv = gnutls_handshake(c->session);
		if (rv == GNUTLS_E_AGAIN || rv == GNUTLS_E_INTERRUPTED)
			return;
		if (rv < 0) {
			if (rv != GNUTLS_E_FATAL_ALERT_RECEIVED)
				gnutls_alert_send_appropriate(c->session, rv);
			tls_conn_fail(c, tls_gnutls_reason(c, rv));
			return;
		}
		tls_handshake_done(c);
	}
	left = c->in_len;
	while (c->state == TLS_CONN_OPEN) {
		n = gnutls_record_recv(c->session, pt, sizeof(pt));
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			/*
			 * GnuTLS also says "again" after it handled a
			 * post-handshake message (a TLS 1.3 NewSessionTicket,
			 * a KeyUpdate) while more of this read is waiting:
			 * go on while it takes bytes, or the records behind
			 * that message are lost with this read.
			 */
			if (c->in_len > 0 && c->in_len < left) {
				left = c->in_len;
				continue;
			}
			break;
		}
		if (n == 0) {
			/* close_notify: answer it and go. */
			tls_close(c);
			break;
		}
		if (n < 0) {
			/* Warning alerts and the like, but not forever. */
			if (gnutls_error_is_fatal((int)n) == 0 &&
			    ++warnings < TLS_WARNINGS_MAX)
				continue;
			tls_conn_fail(c, tls_gnutls_reason(c, (int)n));
			break;
		}
		if ((rv = tls_frame_input(c, pt, (size_t)n)) < 0) {
			tls_conn_fail(c, rv);
			break;
		}
	}
	gnutls_memset(pt, 0, sizeof(pt));
}

static void
tls_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct tls_conn *c = h->data;

	*buf = uv_buf_init((char *)c->rbuf, sizeof(c->rbuf));
}

static void
tls_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct tls_conn *c = s->data;

	if (nread == 0 || c->state == TLS_CONN_CLOSING)
		return;
	if (nread < 0) {
		/* EOF without close_notify: a truncation, not a clean close. */
		tls_conn_fail(c, nread == UV_EOF ? -ECONNRESET : (int)nread);
		return;
	}
	if (c->state == TLS_CONN_OPEN && c->cfg->idle_timeout_ms != 0)
		tls_timer_arm(c, c->cfg->idle_timeout_ms);
	c->in = (const uint8_t *)buf->base;
	c->in_len = (size_t)nread;
	tls_conn_input(c);
	c->in = NULL;
	c->in_len = 0;
}

static int
tls_session_new(struct tls_conn *c)
{
	const struct tls_config *cfg = c->cfg;
	gnutls_datum_t alpn;
	unsigned int flags = GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS;
	const char *err = NULL;
	int rv;

	flags |= c->server ? GNUTLS_SERVER : GNUTLS_CLIENT |
	    GNUTLS_FORCE_CLIENT_CERT;
	if (gnutls_init(&c->session, flags) < 0) {
		c->session = NULL;
		return -ENOMEM;
	}
	alpn.data = (unsigned char *)(uintptr_t)cfg->alpn;
	alpn.size = (unsigned int)strlen(cfg->alpn);
	if ((rv = gnutls_priority_set_direct(c->session, TLS_PRIORITY,
	    &err)) < 0 || (rv = gnutls_credentials_set(c->session,
	    GNUTLS_CRD_CERTIFICATE, cfg->creds->xcred)) < 0 ||
	    (rv = gnutls_alpn_set_protocols(c->session, &alpn, 1,
	    GNUTLS_ALPN_MANDATORY)) < 0) {
		log_warnx("%s: TLS session: %s", tls_name(cfg),
		    gnutls_strerror(rv));
		return TLS_E_CREDS;
	}
	if (c->server)
		gnutls_certificate_server_set_request(c->session,
		    cfg->client_auth == TLS_CLIENT_AUTH_OPTIONAL ?
		    GNUTLS_CERT_REQUEST : GNUTLS_CERT_REQUIRE);
	gnutls_session_set_verify_function(c->session, tls_verify_session);
	gnutls_session_set_ptr(c->session, c);
	gnutls_transport_set_ptr(c->session, c);
	gnutls_transport_set_vec_push_function(c->session, tls_push);
	gnutls_transport_set_pull_function(c->session, tls_pull);
	gnutls_transport_set_pull_timeout_function(c->session,
	    tls_pull_timeout);
	/* Our timer limits the handshake; GnuTLS must never wait. */
	gnutls_handshake_set_timeout(c->session, 0);
	return 0;
}

/*
 * A new connection with its tcp and timer handles initialised (so from
 * here on it is freed only through tls_conn_begin_close()).
 */
static int
tls_conn_new(uv_loop_t *uv, const struct tls_config *cfg,
    struct tls_stats *stats, bool server, struct tls_conn **out)
{
	struct tls_conn *c;
	int rv;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->cfg = cfg;
	c->stats = stats;
	c->server = server;
	if ((rv = uv_tcp_init(uv, &c->tcp)) < 0) {
		free(c);
		return rv;
	}
	uv_timer_init(uv, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->handles = 2;
	c->state = server ? TLS_CONN_HANDSHAKE : TLS_CONN_CONNECTING;
	uv_timer_start(&c->timer, tls_timer_cb, cfg->handshake_timeout_ms, 0);
	*out = c;
	return 0;
}

static void
tls_conn_peer_addr(struct tls_conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) < 0 ||
	    loop_addr_format((struct sockaddr *)&ss, c->peer.addr,
	    sizeof(c->peer.addr)) < 0)
		strcpy(c->peer.addr, "?");
}

/* The TCP connection is up: start reading and let GnuTLS speak first. */
static void
tls_conn_start(struct tls_conn *c)
{
	int rv;

	c->state = TLS_CONN_HANDSHAKE;
	if ((rv = tls_session_new(c)) < 0) {
		tls_conn_fail(c, rv);
		return;
	}
	if ((rv = uv_read_start((uv_stream_t *)&c->tcp, tls_alloc_cb,
	    tls_read_cb)) < 0) {
		tls_conn_fail(c, rv);
		return;
	}
	if (!c->server)
		tls_conn_input(c);	/* ClientHello */
}

int
tls_send(struct tls_conn *c, const void *bytes, size_t len)
{
	uint8_t hdr[TLS_LEN32_HEADER];
	const uint8_t *p = bytes;
	size_t wire = len;
	ssize_t n;
	int rv = 0;

	if (c->state != TLS_CONN_OPEN)
		return -ENOTCONN;
	if (len > tls_frame_max(c->cfg))
		return -EMSGSIZE;
	if (c->cfg->framing == TLS_FRAMING_LEN32)
		wire += TLS_LEN32_HEADER;
	else if (len < PROTO_HEADER_LEN || msg_frame_len(bytes, len) !=
	    (int)len)
		return -EINVAL;
	/* What it will take as ciphertext, record overheads included. */
	wire += (wire / TLS_RECORD_MAX + 1) *
	    gnutls_record_overhead_size(c->session);
	if (c->queued + wire > c->cfg->queue_max) {
		c->stats->nobufs++;
		c->want_drain = true;
		return -ENOBUFS;
	}
	gnutls_record_cork(c->session);
	if (c->cfg->framing == TLS_FRAMING_LEN32) {
		store_be32(hdr, (uint32_t)len);
		if ((n = gnutls_record_send(c->session, hdr, sizeof(hdr))) < 0)
			rv = (int)n;
	}
	while (rv == 0 && len > 0) {
		if ((n = gnutls_record_send(c->session, p, len)) < 0) {
			rv = (int)n;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	/* Our push never says EAGAIN, so uncorking writes all at once. */
	if (rv == 0 && (n = gnutls_record_uncork(c->session,
	    GNUTLS_RECORD_WAIT)) < 0)
		rv = (int)n;
	if (rv < 0) {
		tls_conn_fail(c, tls_gnutls_reason(c, rv));
		return -EPIPE;
	}
	c->stats->frames_out++;
	return 0;
}

const struct tls_peer *
tls_conn_peer(const struct tls_conn *c)
{
	return &c->peer;
}

size_t
tls_conn_queued(const struct tls_conn *c)
{
	return c->queued;
}

void
tls_conn_set_user(struct tls_conn *c, void *user)
{
	c->user = user;
}

void *
tls_conn_user(const struct tls_conn *c)
{
	return c->user;
}

/* ---- listeners ---- */

static void
tls_listener_maybe_free(struct tls_listener *l)
{
	if (l->freeing && l->closed && l->conns == NULL)
		free(l);
}

static void
tls_listener_closed(uv_handle_t *h)
{
	struct tls_listener *l = h->data;

	l->closed = true;
	tls_listener_maybe_free(l);
}

static void
tls_accept_cb(uv_stream_t *s, int status)
{
	struct tls_listener *l = s->data;
	struct tls_conn *c;
	int rv;

	if (status < 0) {
		log_warnx("%s: accept: %s", tls_name(&l->cfg),
		    uv_strerror(status));
		return;
	}
	if ((rv = tls_conn_new(s->loop, &l->cfg, &l->stats, true, &c)) < 0) {
		log_warnx("%s: accept: %s", tls_name(&l->cfg),
		    uv_strerror(rv));
		return;
	}
	c->listener = l;
	l->stats.connects++;
	l->nconns++;
	c->next = l->conns;
	if (l->conns != NULL)
		l->conns->prev = c;
	l->conns = c;
	if ((rv = uv_accept(s, (uv_stream_t *)&c->tcp)) < 0) {
		strcpy(c->peer.addr, "?");
		tls_conn_fail(c, rv);
		return;
	}
	tls_conn_peer_addr(c);
	/*
	 * Every message is one write the peer waits for: Nagle would hold a
	 * short one back until the previous one's ACK, and delayed ACKs make
	 * that up to 40 ms on a link's first exchanges.
	 */
	(void)uv_tcp_nodelay(&c->tcp, 1);
	if (l->nconns > l->cfg.conns_max) {
		log_debug("%s %s: %zu connections already", tls_name(&l->cfg),
		    c->peer.addr, l->cfg.conns_max);
		tls_conn_fail(c, -EBUSY);
		return;
	}
	tls_conn_start(c);
}

int
tls_listen(uv_loop_t *uv, const struct tls_config *cfg,
    const struct sockaddr *sa, struct tls_listener **out)
{
	struct tls_listener *l;
	char text[LOOP_ADDRSTRLEN];
	int rv;

	*out = NULL;
	if ((rv = tls_config_check(cfg, true)) < 0)
		return rv;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->cfg = *cfg;
	tls_config_defaults(&l->cfg);
	if ((rv = uv_tcp_init(uv, &l->tcp)) < 0) {
		free(l);
		return rv;
	}
	l->tcp.data = l;
	if ((rv = uv_tcp_bind(&l->tcp, sa, 0)) < 0 ||
	    (rv = uv_listen((uv_stream_t *)&l->tcp, SOMAXCONN,
	    tls_accept_cb)) < 0) {
		if (loop_addr_format(sa, text, sizeof(text)) < 0)
			strcpy(text, "?");
		log_warnx("%s: listen on %s: %s", tls_name(&l->cfg), text,
		    uv_strerror(rv));
		l->freeing = true;
		uv_close((uv_handle_t *)&l->tcp, tls_listener_closed);
		return rv;
	}
	*out = l;
	return 0;
}

int
tls_listener_addr(const struct tls_listener *l, struct sockaddr_storage *ss)
{
	int len = sizeof(*ss);

	return uv_tcp_getsockname(&l->tcp, (struct sockaddr *)ss, &len);
}

const struct tls_stats *
tls_listener_stats(const struct tls_listener *l)
{
	return &l->stats;
}

void
tls_listener_free(struct tls_listener *l)
{
	struct tls_conn *c, *next;

	if (l == NULL || l->freeing)
		return;
	l->freeing = true;
	uv_close((uv_handle_t *)&l->tcp, tls_listener_closed);
	for (c = l->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == TLS_CONN_OPEN)
			tls_close(c);
		else
			tls_conn_fail(c, -ECANCELED);
	}
}

/* ---- clients ---- */

uint32_t
tls_backoff_jitter(uint32_t delay_ms, struct ntm_rng *rng)
{
	uint32_t half = delay_ms / 2;

	return half + rng_uniform(rng, delay_ms - half + 1);
}

static void
tls_connect_cb(uv_connect_t *req, int status)
{
	struct tls_conn *c = req->data;

	if (c->state != TLS_CONN_CONNECTING)
		return;		/* closed meanwhile */
	if (status < 0) {
		tls_conn_fail(c, status);
		return;
	}
	c->stats->connects++;
	tls_conn_peer_addr(c);
	tls_conn_start(c);
}

static void
tls_client_connect(struct tls_client *cl)
{
	struct tls_conn *c;
	int rv;

	if ((rv = tls_conn_new(cl->uv, &cl->cfg, &cl->stats, false, &c)) < 0) {
		log_warnx("%s %s: %s", tls_name(&cl->cfg), cl->addr,
		    uv_strerror(rv));
		tls_client_lost(cl);
		return;
	}
	c->client = cl;
	cl->conn = c;
	strcpy(c->peer.addr, cl->addr);
	c->connect.data = c;
	(void)uv_tcp_nodelay(&c->tcp, 1);	/* as on accepted links */
	if ((rv = uv_tcp_connect(&c->connect, &c->tcp,
	    (const struct sockaddr *)&cl->sa, tls_connect_cb)) < 0)
		tls_conn_fail(c, rv);
}

static void
tls_retry_cb(uv_timer_t *t)
{
	struct tls_client *cl = t->data;

	if (!cl->freeing && cl->conn == NULL)
		tls_client_connect(cl);
}

/* The connection is gone (freed): try again later, or finish freeing. */
static void
tls_client_lost(struct tls_client *cl)
{
	uint32_t delay;

	if (cl->freeing) {
		tls_client_maybe_free(cl);
		return;
	}
	delay = tls_backoff_jitter(cl->backoff_ms, cl->cfg.rng);
	cl->backoff_ms = cl->backoff_ms >= cl->cfg.backoff_max_ms / 2 ?
	    cl->cfg.backoff_max_ms : cl->backoff_ms * 2;
	log_debug("%s %s: reconnecting in %u ms", tls_name(&cl->cfg),
	    cl->addr, delay);
	uv_timer_start(&cl->retry, tls_retry_cb, delay, 0);
}

static void
tls_client_maybe_free(struct tls_client *cl)
{
	if (cl->freeing && cl->closed && cl->conn == NULL)
		free(cl);
}

static void
tls_client_closed(uv_handle_t *h)
{
	struct tls_client *cl = h->data;

	cl->closed = true;
	tls_client_maybe_free(cl);
}

int
tls_client_new(uv_loop_t *uv, const struct tls_config *cfg,
    const struct sockaddr *sa, struct tls_client **out)
{
	struct tls_client *cl;
	socklen_t salen;
	int rv;

	*out = NULL;
	if ((rv = tls_config_check(cfg, false)) < 0)
		return rv;
	if ((salen = loop_addr_len(sa)) == 0)
		return -EAFNOSUPPORT;
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return -ENOMEM;
	cl->uv = uv;
	cl->cfg = *cfg;
	tls_config_defaults(&cl->cfg);
	memcpy(&cl->sa, sa, salen);
	if (loop_addr_format(sa, cl->addr, sizeof(cl->addr)) < 0)
		strcpy(cl->addr, "?");
	cl->backoff_ms = cl->cfg.backoff_min_ms;
	uv_timer_init(uv, &cl->retry);
	cl->retry.data = cl;
	tls_client_connect(cl);
	*out = cl;
	return 0;
}

struct tls_conn *
tls_client_conn(const struct tls_client *cl)
{
	if (cl->conn == NULL || cl->conn->state != TLS_CONN_OPEN)
		return NULL;
	return cl->conn;
}

int
tls_client_send(struct tls_client *cl, const void *bytes, size_t len)
{
	struct tls_conn *c = tls_client_conn(cl);

	if (c == NULL)
		return -ENOTCONN;
	return tls_send(c, bytes, len);
}

const struct tls_stats *
tls_client_stats(const struct tls_client *cl)
{
	return &cl->stats;
}

void
tls_client_free(struct tls_client *cl)
{
	if (cl == NULL || cl->freeing)
		return;
	cl->freeing = true;
	uv_close((uv_handle_t *)&cl->retry, tls_client_closed);
	if (cl->conn != NULL) {
		if (cl->conn->state == TLS_CONN_OPEN)
			tls_close(cl->conn);
		else
			tls_conn_fail(cl->conn, -ECANCELED);
	}
}
