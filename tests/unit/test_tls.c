/* test_tls.c -- unit tests: TLS channels on loopback, lib/cert PKI. */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "cert.h"
#include "msg.h"
#include "rand.h"
#include "tls.h"

#include "../testca.h"

/* The injected clock: 2026-11-18. */
#define NOW		((time_t)1795000000)
#define WAIT_MS		5000
#define FRAMES_MAX	64

/* ---- a PKI written to files once for the whole group ---- */

struct pki {
	char		 dir[64];
	struct ntm_rng	*rng;
};

static char *
path_of(const struct pki *p, const char *name)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", p->dir, name);
	return buf[i];
}

static void
pem_append(FILE *f, gnutls_x509_crt_t crt)
{
	gnutls_datum_t pem;

	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM,
	    &pem), 0);
	assert_int_equal(fwrite(pem.data, 1, pem.size, f), pem.size);
	gnutls_free(pem.data);
}

/* Writes NAME.pem (leaf + its AS) and NAME.key (0600). */
static void
leaf_make(struct pki *p, const char *name, enum cert_role role,
    const char *fqdn, const struct cert_ca *ca)
{
	const struct testca_leaf l = { .role = role, .fqdn = fqdn,
	    .vip4 = role == CERT_ROLE_NODE ? "198.18.1.10" : NULL };
	gnutls_privkey_t key;
	gnutls_x509_crt_t crt;
	char file[64];
	FILE *f;

	assert_int_equal(testca_issue(ca, &l, p->rng, NOW, &key, &crt), 0);
	snprintf(file, sizeof(file), "%s.pem", name);
	assert_non_null(f = fopen(path_of(p, file), "w"));
	pem_append(f, crt);
	pem_append(f, ca->as);
	assert_int_equal(fclose(f), 0);
	snprintf(file, sizeof(file), "%s.key", name);
	assert_int_equal(cert_key_write(path_of(p, file), key), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_privkey_deinit(key);
}

/* root<suffix>.pem, and an AS CA under it that issues the leaves. */
static void
ca_make(struct pki *p, const char *suffix, struct cert_ca *ca)
{
	char file[64];

	assert_int_equal(testca_make(ca, NULL, p->rng, NOW - 86400), 0);
	snprintf(file, sizeof(file), "root%s.pem", suffix);
	assert_int_equal(cert_crt_write(path_of(p, file), ca->root), 0);
}

static int
group_setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));
	struct cert_ca ca, ca2;

	assert_non_null(p);
	strcpy(p->dir, "/tmp/test_tls.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	p->rng = rng_seeded_new("test_tls", 8);
	ca_make(p, "", &ca);
	ca_make(p, "2", &ca2);
	leaf_make(p, "dc", CERT_ROLE_DC, "dc1.ntm.test", &ca);
	leaf_make(p, "as", CERT_ROLE_AS, "as.ntm.test", &ca);
	leaf_make(p, "node", CERT_ROLE_NODE, "alice.dc1.ntm.test", &ca);
	leaf_make(p, "dc-other", CERT_ROLE_DC, "dc1.ntm.test", &ca2);
	cert_ca_clear(&ca);
	cert_ca_clear(&ca2);
	*state = p;
	return 0;
}

static int
group_teardown(void **state)
{
	struct pki *p = *state;
	static const char *const files[] = {
		"root.pem", "root2.pem", "dc.pem", "dc.key", "as.pem",
		"as.key", "node.pem", "node.key", "dc-other.pem",
		"dc-other.key", "loose.key",
	};
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(path_of(p, files[i]));
	rmdir(p->dir);
	rng_free(p->rng);
	free(p);
	return 0;
}

/* ---- one end of a channel, and the loop they share ---- */

struct side {
	struct tls_creds	*creds;
	struct tls_expect	 expect;
	struct tls_config	 cfg;
	time_t			 now;
	int			 connected;
	int			 closed;
	int			 reason;
	int			 drained;
	bool			 echo;
	enum cert_role		 peer_role;
	char			 peer_fqdn[CERT_FQDN_MAX + 1];
	struct tls_conn		*conn;
	size_t			 nframes;
	uint8_t			*frames[FRAMES_MAX];
	size_t			 lens[FRAMES_MAX];
};

struct fx {
	struct pki		*pki;
	uv_loop_t		 uv;
	uv_timer_t		 guard;
	bool			 fired;
	struct side		 srv, cli;
	struct tls_listener	*l;
	struct tls_client	*cl;
	struct sockaddr_storage	 addr;
};

static time_t
side_clock(void *arg)
{
	return ((struct side *)arg)->now;
}

static void
side_connected(struct tls_conn *c, const struct tls_peer *peer, void *arg)
{
	struct side *s = arg;

	s->connected++;
	s->conn = c;
	s->peer_role = peer->role;
	snprintf(s->peer_fqdn, sizeof(s->peer_fqdn), "%s", peer->fqdn);
	assert_ptr_equal(tls_conn_peer(c), peer);
}

static void
side_frame(struct tls_conn *c, const uint8_t *p, size_t len, void *arg)
{
	struct side *s = arg;

	assert_true(s->nframes < FRAMES_MAX);
	s->frames[s->nframes] = malloc(len > 0 ? len : 1);
	assert_non_null(s->frames[s->nframes]);
	if (len > 0)
		memcpy(s->frames[s->nframes], p, len);
	s->lens[s->nframes++] = len;
	if (s->echo)
		assert_int_equal(tls_send(c, p, len), 0);
}

static void
side_closed(struct tls_conn *c, int reason, void *arg)
{
	struct side *s = arg;

	s->closed++;
	s->reason = reason;
	if (s->conn == c)
		s->conn = NULL;
}

static void
side_drain(struct tls_conn *c, void *arg)
{
	((struct side *)arg)->drained++;
}

/*
 * An end with trust in root<trust>.pem, its own chain and key <own>.pem /
 * .key (NULL: none), expecting a peer of `role` (and `name`).
 */
static void
side_init(struct fx *fx, struct side *s, const char *trust, const char *own,
    enum cert_role role, const char *name)
{
	char file[64];

	memset(s, 0, sizeof(*s));
	assert_int_equal(tls_creds_new(&s->creds), 0);
	snprintf(file, sizeof(file), "root%s.pem", trust);
	assert_int_equal(tls_creds_load_trust(s->creds,
	    path_of(fx->pki, file)), 0);
	if (own != NULL) {
		char chain[64], key[64];

		snprintf(chain, sizeof(chain), "%s.pem", own);
		snprintf(key, sizeof(key), "%s.key", own);
		assert_int_equal(tls_creds_load_key(s->creds,
		    path_of(fx->pki, chain), path_of(fx->pki, key)), 0);
	}
	s->expect.trust = tls_creds_trust(s->creds);
	s->expect.role = role;
	s->expect.name = name;
	s->now = NOW;
	s->cfg.creds = s->creds;
	s->cfg.verify = tls_verify_cert;
	s->cfg.verify_ctx = &s->expect;
	s->cfg.clock = side_clock;
	s->cfg.clock_arg = s;
	s->cfg.on_connected = side_connected;
	s->cfg.on_frame = side_frame;
	s->cfg.on_closed = side_closed;
	s->cfg.on_drain = side_drain;
	s->cfg.arg = s;
	s->cfg.backoff_min_ms = 20;
	s->cfg.backoff_max_ms = 200;
}

static void
side_clear(struct side *s)
{
	size_t i;

	for (i = 0; i < s->nframes; i++)
		free(s->frames[i]);
	s->nframes = 0;
}

static void
guard_cb(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Runs the loop until expr holds or WAIT_MS pass; then asserts expr. */
#define RUN_UNTIL(fx, expr) do {					\
	(fx)->fired = false;						\
	uv_timer_start(&(fx)->guard, guard_cb, WAIT_MS, 0);		\
	while (!(expr) && !(fx)->fired)					\
		uv_run(&(fx)->uv, UV_RUN_ONCE);				\
	uv_timer_stop(&(fx)->guard);					\
	if (!(expr))							\
		fail_msg("timed out waiting for %s", #expr);		\
} while (0)

static int
fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->pki = *state;
	assert_int_equal(uv_loop_init(&fx->uv), 0);
	uv_timer_init(&fx->uv, &fx->guard);
	fx->guard.data = &fx->fired;
	*state = fx;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *fx = *state;
	struct pki *p = fx->pki;

	tls_client_free(fx->cl);
	tls_listener_free(fx->l);
	uv_close((uv_handle_t *)&fx->guard, NULL);
	/* Every handle closes and every conn reports its close. */
	uv_run(&fx->uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx->uv), 0);
	side_clear(&fx->srv);
	side_clear(&fx->cli);
	tls_creds_free(fx->srv.creds);
	tls_creds_free(fx->cli.creds);
	free(fx);
	*state = p;
	return 0;
}

static void
fx_listen_on(struct fx *fx, const char *where)
{
	struct sockaddr_storage ss;

	assert_int_equal(loop_addr_parse(where, 0, 0, &ss), 0);
	assert_int_equal(tls_listen(&fx->uv, &fx->srv.cfg,
	    (struct sockaddr *)&ss, &fx->l), 0);
	assert_int_equal(tls_listener_addr(fx->l, &fx->addr), 0);
}

static void
fx_listen(struct fx *fx)
{
	fx_listen_on(fx, "127.0.0.1:0");
}

static void
fx_connect(struct fx *fx, const struct sockaddr_storage *to)
{
	assert_int_equal(tls_client_new(&fx->uv, &fx->cli.cfg,
	    (const struct sockaddr *)to, &fx->cl), 0);
}

/*
 * Frees client and listener, lets every connection finish closing (they
 * use the creds until then), then drops both sides' creds and frames.
 */
static void
fx_reset(struct fx *fx)
{
	tls_client_free(fx->cl);
	tls_listener_free(fx->l);
	fx->cl = NULL;
	fx->l = NULL;
	uv_run(&fx->uv, UV_RUN_DEFAULT);
	side_clear(&fx->srv);
	side_clear(&fx->cli);
	tls_creds_free(fx->srv.creds);
	tls_creds_free(fx->cli.creds);
	fx->srv.creds = fx->cli.creds = NULL;
}

/* Frees the client only; waits until its connection has closed. */
static void
fx_client_reset(struct fx *fx)
{
	int closed = fx->cli.closed;
	bool was_open = fx->cli.conn != NULL;

	tls_client_free(fx->cl);
	fx->cl = NULL;
	if (was_open)
		RUN_UNTIL(fx, fx->cli.closed > closed);
	side_clear(&fx->cli);
	tls_creds_free(fx->cli.creds);
	fx->cli.creds = NULL;
}

/* The AS (client) to DC (server) channel, both certificates right. */
static void
fx_as_to_dc(struct fx *fx, enum tls_framing framing)
{
	side_init(fx, &fx->srv, "", "dc", CERT_ROLE_AS, NULL);
	side_init(fx, &fx->cli, "", "as", CERT_ROLE_DC, "dc1.ntm.test");
	fx->srv.cfg.framing = framing;
	fx->cli.cfg.framing = framing;
	fx->srv.cfg.name = "test-dc";
	fx->cli.cfg.name = "test-as";
}

/* A common-header message of PROTOCOL.md with `extra` body bytes. */
static size_t
msg_make(uint8_t *out, size_t cap, uint32_t txid, size_t extra)
{
	struct msg_header h;
	struct wbuf w;
	size_t i;

	memset(&h, 0, sizeof(h));
	h.version = PROTO_VERSION_1;
	h.type = PROTO_MSG_NOTICE_ACK;
	h.status = PROTO_STATUS_OK;
	h.length = (uint16_t)extra;
	h.txid = txid;
	wbuf_init(&w, out, cap);
	assert_int_equal(msg_header_encode(&h, &w), 0);
	for (i = 0; i < extra; i++)
		wbuf_put_u8(&w, (uint8_t)(txid + i));
	assert_int_equal(wbuf_error(&w), 0);
	return wbuf_len(&w);
}

/* ---- tests ---- */

static void
test_exchange_msg(void **state)
{
	struct fx *fx = *state;
	uint8_t m[3][PROTO_HEADER_LEN + 64];
	size_t len[3], i;
	struct tls_conn *c;

	fx_as_to_dc(fx, TLS_FRAMING_INVALID);	/* the default: MSG */
	fx->srv.echo = true;
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.connected == 1 && fx->srv.connected == 1);
	/* Each side sees the other's role and name from its certificate. */
	assert_int_equal(fx->srv.peer_role, CERT_ROLE_AS);
	assert_string_equal(fx->srv.peer_fqdn, "as.ntm.test");
	assert_int_equal(fx->cli.peer_role, CERT_ROLE_DC);
	assert_string_equal(fx->cli.peer_fqdn, "dc1.ntm.test");
	assert_true(cert_has_dns(tls_conn_peer(fx->cli.conn)->crt,
	    "dc1.ntm.test"));
	c = tls_client_conn(fx->cl);
	assert_ptr_equal(c, fx->cli.conn);
	for (i = 0; i < 3; i++) {
		len[i] = msg_make(m[i], sizeof(m[i]), (uint32_t)(7 + i),
		    i * 30);
		assert_int_equal(tls_client_send(fx->cl, m[i], len[i]), 0);
	}
	RUN_UNTIL(fx, fx->cli.nframes == 3);
	for (i = 0; i < 3; i++) {
		/* Whole messages, header included, in order, both ways. */
		assert_int_equal(fx->srv.lens[i], len[i]);
		assert_memory_equal(fx->srv.frames[i], m[i], len[i]);
		assert_int_equal(fx->cli.lens[i], len[i]);
		assert_memory_equal(fx->cli.frames[i], m[i], len[i]);
	}
	/* Not one message: refused before anything goes out. */
	assert_int_equal(tls_send(c, m[1], len[1] - 1), -EINVAL);
	assert_int_equal(tls_send(c, m[0], 10), -EINVAL);
	/* A clean close reaches both ends as reason 0. */
	tls_close(c);
	RUN_UNTIL(fx, fx->cli.closed == 1 && fx->srv.closed == 1);
	assert_int_equal(fx->cli.reason, 0);
	assert_int_equal(fx->srv.reason, 0);
	assert_int_equal(tls_client_send(fx->cl, m[0], len[0]), -ENOTCONN);
}

static void
test_exchange_len32(void **state)
{
	struct fx *fx = *state;
	uint8_t *big;
	size_t i;

	fx_as_to_dc(fx, TLS_FRAMING_LEN32);
	fx_listen_on(fx, "[::1]:0");		/* and over IPv6 */
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.connected == 1 && fx->srv.connected == 1);
	assert_non_null(strstr(tls_conn_peer(fx->srv.conn)->addr, "[::1]:"));
	big = malloc(TLS_LEN32_FRAME_MAX);
	assert_non_null(big);
	for (i = 0; i < TLS_LEN32_FRAME_MAX; i++)
		big[i] = (uint8_t)(i * 7 + 1);
	/* Client to server: empty, small, the largest allowed. */
	assert_int_equal(tls_send(fx->cli.conn, "", 0), 0);
	assert_int_equal(tls_send(fx->cli.conn, "hello dc", 8), 0);
	assert_int_equal(tls_send(fx->cli.conn, big, TLS_LEN32_FRAME_MAX), 0);
	assert_int_equal(tls_send(fx->cli.conn, big,
	    TLS_LEN32_FRAME_MAX + 1), -EMSGSIZE);
	/* Server to client at the same time. */
	assert_int_equal(tls_send(fx->srv.conn, "hello as", 8), 0);
	assert_int_equal(tls_send(fx->srv.conn, big + 1, 20000), 0);
	RUN_UNTIL(fx, fx->srv.nframes == 3 && fx->cli.nframes == 2);
	assert_int_equal(fx->srv.lens[0], 0);
	assert_int_equal(fx->srv.lens[1], 8);
	assert_memory_equal(fx->srv.frames[1], "hello dc", 8);
	assert_int_equal(fx->srv.lens[2], TLS_LEN32_FRAME_MAX);
	assert_memory_equal(fx->srv.frames[2], big, TLS_LEN32_FRAME_MAX);
	assert_int_equal(fx->cli.lens[0], 8);
	assert_memory_equal(fx->cli.frames[0], "hello as", 8);
	assert_int_equal(fx->cli.lens[1], 20000);
	assert_memory_equal(fx->cli.frames[1], big + 1, 20000);
	free(big);
}

/*
 * A TCP relay between client and server that controls how the client's
 * ciphertext reaches the server: at once, held and then sent in one write
 * (one segment), or trickled a few bytes per loop iteration.
 */
enum relay_mode {
	RELAY_PASS = 1,
	RELAY_HOLD,
	RELAY_TRICKLE,
};

struct relay {
	uv_tcp_t		 lis, down, up;
	uv_connect_t		 creq;
	uv_idle_t		 idle;
	struct sockaddr_storage	 target, addr;
	bool			 up_ok;
	enum relay_mode		 mode;
	uint8_t			*buf;
	size_t			 len, cap;
	size_t			 chunk;
	size_t			 writes;
	int			 open;
};

static void
relay_write_cb(uv_write_t *req, int status)
{
	free(req);
}

static void
relay_write(uv_tcp_t *to, const uint8_t *p, size_t len)
{
	uv_write_t *req = malloc(sizeof(*req) + len);
	uv_buf_t b;

	assert_non_null(req);
	memcpy(req + 1, p, len);
	b = uv_buf_init((char *)(req + 1), (unsigned int)len);
	assert_int_equal(uv_write(req, (uv_stream_t *)to, &b, 1,
	    relay_write_cb), 0);
}

/* Sends up to n buffered client bytes to the server in one write. */
static void
relay_flush(struct relay *r, size_t n)
{
	if (!r->up_ok || r->len == 0)
		return;
	if (n > r->len)
		n = r->len;
	relay_write(&r->up, r->buf, n);
	r->writes++;
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
}

static void
relay_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	static char scratch[65536];

	*b = uv_buf_init(scratch, sizeof(scratch));
}

static void
relay_closed(uv_handle_t *h)
{
	((struct relay *)h->data)->open--;
}

static void
relay_close(struct relay *r)
{
	uv_handle_t *hs[] = {
		(uv_handle_t *)&r->lis, (uv_handle_t *)&r->down,
		(uv_handle_t *)&r->up, (uv_handle_t *)&r->idle,
	};
	size_t i;

	for (i = 0; i < 4; i++)
		if (hs[i]->data != NULL && !uv_is_closing(hs[i]))
			uv_close(hs[i], relay_closed);
}

static void
relay_down_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct relay *r = s->data;

	if (n <= 0)
		return;
	if (r->len + (size_t)n > r->cap) {
		r->cap = (r->len + (size_t)n) * 2;
		assert_non_null(r->buf = realloc(r->buf, r->cap));
	}
	memcpy(r->buf + r->len, b->base, (size_t)n);
	r->len += (size_t)n;
	if (r->mode == RELAY_PASS)
		relay_flush(r, r->len);
}

static void
relay_up_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct relay *r = s->data;

	if (n > 0)
		relay_write(&r->down, (const uint8_t *)b->base, (size_t)n);
}

static void
relay_idle(uv_idle_t *h)
{
	struct relay *r = h->data;

	if (r->mode == RELAY_TRICKLE)
		relay_flush(r, r->chunk);
}

static void
relay_up_connected(uv_connect_t *req, int status)
{
	struct relay *r = req->data;

	assert_int_equal(status, 0);
	r->up_ok = true;
	uv_read_start((uv_stream_t *)&r->up, relay_alloc, relay_up_read);
	if (r->mode == RELAY_PASS)
		relay_flush(r, r->len);
}

static void
relay_accept(uv_stream_t *s, int status)
{
	struct relay *r = s->data;

	assert_int_equal(status, 0);
	uv_tcp_init(s->loop, &r->down);
	r->down.data = r;
	r->open++;
	assert_int_equal(uv_accept(s, (uv_stream_t *)&r->down), 0);
	uv_tcp_nodelay(&r->down, 1);
	uv_read_start((uv_stream_t *)&r->down, relay_alloc, relay_down_read);
	uv_tcp_init(s->loop, &r->up);
	r->up.data = r;
	r->open++;
	uv_tcp_nodelay(&r->up, 1);
	r->creq.data = r;
	assert_int_equal(uv_tcp_connect(&r->creq, &r->up,
	    (struct sockaddr *)&r->target, relay_up_connected), 0);
}

static void
relay_start(uv_loop_t *uv, struct relay *r,
    const struct sockaddr_storage *target)
{
	struct sockaddr_storage ss;
	int len = sizeof(r->addr);

	memset(r, 0, sizeof(*r));
	r->target = *target;
	r->mode = RELAY_PASS;
	assert_int_equal(loop_addr_parse("127.0.0.1:0", 0, 0, &ss), 0);
	uv_tcp_init(uv, &r->lis);
	r->lis.data = r;
	r->open++;
	assert_int_equal(uv_tcp_bind(&r->lis, (struct sockaddr *)&ss, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&r->lis, 4, relay_accept),
	    0);
	assert_int_equal(uv_tcp_getsockname(&r->lis,
	    (struct sockaddr *)&r->addr, &len), 0);
	uv_idle_init(uv, &r->idle);
	r->idle.data = r;
	r->open++;
	uv_idle_start(&r->idle, relay_idle);
}

static void
test_segments(void **state)
{
	struct fx *fx = *state;
	struct relay r;
	uint8_t *big;
	size_t i, expect = 0;

	fx_as_to_dc(fx, TLS_FRAMING_LEN32);
	fx_listen(fx);
	relay_start(&fx->uv, &r, &fx->addr);
	fx_connect(fx, &r.addr);
	RUN_UNTIL(fx, fx->cli.connected == 1 && fx->srv.connected == 1);

	/* Five frames held back and then given to the server in one write. */
	r.mode = RELAY_HOLD;
	for (i = 0; i < 5; i++) {
		char text[32];
		int n = snprintf(text, sizeof(text), "frame %zu", i);

		assert_int_equal(tls_send(fx->cli.conn, text, (size_t)n), 0);
		/* length, bytes, then TLS 1.3's 5-byte header, type, tag */
		expect += TLS_LEN32_HEADER + (size_t)n + 5 + 1 + 16;
	}
	RUN_UNTIL(fx, r.len >= expect && tls_conn_queued(fx->cli.conn) == 0);
	assert_int_equal(fx->srv.nframes, 0);
	r.writes = 0;
	relay_flush(&r, r.len);
	RUN_UNTIL(fx, fx->srv.nframes == 5);
	assert_int_equal(r.writes, 1);
	for (i = 0; i < 5; i++) {
		char text[32];
		int n = snprintf(text, sizeof(text), "frame %zu", i);

		assert_int_equal(fx->srv.lens[i], (size_t)n);
		assert_memory_equal(fx->srv.frames[i], text, (size_t)n);
	}

	/* One 40000-byte frame trickled 7 bytes per loop iteration. */
	big = malloc(40000);
	assert_non_null(big);
	for (i = 0; i < 40000; i++)
		big[i] = (uint8_t)(i ^ (i >> 8));
	r.writes = 0;
	r.chunk = 7;
	r.mode = RELAY_TRICKLE;
	assert_int_equal(tls_send(fx->cli.conn, big, 40000), 0);
	RUN_UNTIL(fx, fx->srv.nframes == 6);
	assert_true(r.writes > 40000 / 7);
	assert_int_equal(fx->srv.lens[5], 40000);
	assert_memory_equal(fx->srv.frames[5], big, 40000);
	free(big);
	tls_client_free(fx->cl);
	fx->cl = NULL;
	relay_close(&r);
	RUN_UNTIL(fx, r.open == 0);
	free(r.buf);
}

/* The server wants an AS; a node certificate is refused. */
static void
test_server_refuses_node(void **state)
{
	struct fx *fx = *state;

	side_init(fx, &fx->srv, "", "dc", CERT_ROLE_AS, NULL);
	side_init(fx, &fx->cli, "", "node", CERT_ROLE_DC, NULL);
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->srv.closed >= 1 && fx->cli.closed >= 1);
	assert_int_equal(fx->srv.connected, 0);
	assert_int_equal(fx->srv.reason, CERT_E_ROLE);
	assert_true(tls_listener_stats(fx->l)->refused >= 1);
	assert_int_equal(tls_listener_stats(fx->l)->established, 0);
	/* The client learns it through the alert. */
	assert_int_equal(fx->cli.reason, TLS_E_ALERT);
	assert_int_equal(fx->srv.nframes, 0);
}

/* The client wants a DC; a server with a node certificate is refused. */
static void
test_client_refuses_node(void **state)
{
	struct fx *fx = *state;

	side_init(fx, &fx->srv, "", "node", CERT_ROLE_AS, NULL);
	side_init(fx, &fx->cli, "", "as", CERT_ROLE_DC, NULL);
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->srv.closed >= 1 && fx->cli.closed >= 1);
	assert_int_equal(fx->cli.connected, 0);
	assert_int_equal(fx->srv.connected, 0);
	assert_int_equal(fx->cli.reason, CERT_E_ROLE);
	assert_int_equal(fx->srv.reason, TLS_E_ALERT);
	assert_true(tls_client_stats(fx->cl)->refused >= 1);
	assert_true(tls_listener_stats(fx->l)->failed >= 1);
}

/* Right role, wrong name: a DC for another zone. */
static void
test_client_refuses_name(void **state)
{
	struct fx *fx = *state;

	side_init(fx, &fx->srv, "", "dc", CERT_ROLE_AS, NULL);
	side_init(fx, &fx->cli, "", "as", CERT_ROLE_DC, "dc2.ntm.test");
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.closed >= 1);
	assert_int_equal(fx->cli.connected, 0);
	assert_int_equal(fx->cli.reason, CERT_E_FQDN);
}

/* A DC certificate from another deployment's root, both directions. */
static void
test_wrong_root(void **state)
{
	struct fx *fx = *state;

	side_init(fx, &fx->srv, "2", "dc-other", CERT_ROLE_AS, NULL);
	side_init(fx, &fx->cli, "", "as", CERT_ROLE_DC, NULL);
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.closed >= 1 && fx->srv.closed >= 1);
	assert_int_equal(fx->cli.connected, 0);
	assert_int_equal(fx->cli.reason, CERT_E_CHAIN);
	fx_reset(fx);

	/* The server trusts root 1 only; the client's chain is root 2's. */
	side_init(fx, &fx->srv, "", "dc", CERT_ROLE_DC, NULL);
	side_init(fx, &fx->cli, "", "dc-other", CERT_ROLE_DC, NULL);
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->srv.closed >= 1);
	assert_int_equal(fx->srv.connected, 0);
	assert_int_equal(fx->srv.reason, CERT_E_CHAIN);
}

/* The server certificate is a year old by the client's injected clock. */
static void
test_expired(void **state)
{
	struct fx *fx = *state;

	fx_as_to_dc(fx, TLS_FRAMING_MSG);
	fx->cli.now = NOW + CERT_SERVER_LIFETIME + 1;
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.closed >= 1 && fx->srv.closed >= 1);
	assert_int_equal(fx->cli.connected, 0);
	assert_int_equal(fx->cli.reason, CERT_E_EXPIRED);

	/* And not yet valid, by the server's clock this time. */
	fx->cli.now = NOW;
	fx->srv.now = NOW - 86400;
	fx->srv.closed = fx->cli.closed = 0;
	RUN_UNTIL(fx, fx->srv.closed >= 1);
	assert_int_equal(fx->srv.connected, 0);
	assert_int_equal(fx->srv.reason, CERT_E_NOT_YET_VALID);
}

static void
test_oversized_frame(void **state)
{
	struct fx *fx = *state;
	uint8_t buf[2000];

	fx_as_to_dc(fx, TLS_FRAMING_LEN32);
	fx->srv.cfg.frame_max = 1024;
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.connected == 1 && fx->srv.connected == 1);
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(tls_send(fx->cli.conn, buf, 1024), 0);
	assert_int_equal(tls_send(fx->cli.conn, buf, 1025), 0);
	RUN_UNTIL(fx, fx->srv.closed == 1 && fx->cli.closed >= 1);
	/* The frame at the limit arrived; the one above it closed. */
	assert_int_equal(fx->srv.nframes, 1);
	assert_int_equal(fx->srv.lens[0], 1024);
	assert_int_equal(fx->srv.reason, TLS_E_FRAME_TOO_BIG);
	assert_int_equal(tls_listener_stats(fx->l)->frame_errors, 1);
	assert_int_equal(tls_listener_stats(fx->l)->frames_in, 1);
	assert_int_equal(tls_client_stats(fx->cl)->frames_out, 2);
	/* The server said bye: for the client a clean close. */
	assert_int_equal(fx->cli.reason, 0);
}

/* MSG framing: a stream that is not common-header messages closes. */
static void
test_bad_header(void **state)
{
	struct fx *fx = *state;
	uint8_t junk[64];

	fx_as_to_dc(fx, TLS_FRAMING_MSG);
	fx->cli.cfg.framing = TLS_FRAMING_LEN32;
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.connected == 1 && fx->srv.connected == 1);
	/* 4-byte length 0x3c, then version 0x3c...: not version 1. */
	memset(junk, 0x3c, sizeof(junk));
	assert_int_equal(tls_send(fx->cli.conn, junk, 60), 0);
	RUN_UNTIL(fx, fx->srv.closed == 1);
	assert_int_equal(fx->srv.reason, TLS_E_FRAMING);
	assert_int_equal(fx->srv.nframes, 0);
}

static void
test_reconnect(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_storage at;
	uint8_t m[PROTO_HEADER_LEN];
	size_t len;

	fx_as_to_dc(fx, TLS_FRAMING_MSG);
	fx_listen(fx);
	at = fx->addr;
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.connected == 1 && fx->srv.connected == 1);
	/* The server goes away ... */
	tls_listener_free(fx->l);
	fx->l = NULL;
	RUN_UNTIL(fx, fx->cli.closed == 1 && fx->srv.closed == 1);
	assert_null(tls_client_conn(fx->cl));
	/* ... is refused a few times (nothing listens) ... */
	RUN_UNTIL(fx, fx->cli.closed >= 3);
	assert_int_equal(fx->cli.reason, -ECONNREFUSED);
	/* ... and comes back on the same port. */
	assert_int_equal(tls_listen(&fx->uv, &fx->srv.cfg,
	    (struct sockaddr *)&at, &fx->l), 0);
	RUN_UNTIL(fx, fx->cli.connected == 2 && fx->srv.connected == 2);
	assert_int_equal(tls_client_stats(fx->cl)->established, 2);
	assert_true(tls_client_stats(fx->cl)->failed >= 2);
	len = msg_make(m, sizeof(m), 99, 0);
	assert_int_equal(tls_client_send(fx->cl, m, len), 0);
	RUN_UNTIL(fx, fx->srv.nframes == 1);
	assert_memory_equal(fx->srv.frames[0], m, len);
}

static void
silent_accept(uv_stream_t *s, int status)
{
	uv_tcp_t *c = malloc(sizeof(*c));

	assert_non_null(c);
	uv_tcp_init(s->loop, c);
	assert_int_equal(uv_accept(s, (uv_stream_t *)c), 0);
	*(uv_tcp_t **)s->data = c;	/* accepts, never says a word */
}

static void
free_on_close(uv_handle_t *h)
{
	free(h);
}

static void
flag_on_close(uv_handle_t *h)
{
	*(bool *)h->data = true;
}

static void
test_handshake_timeout(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_storage ss;
	uv_tcp_t lis, *peer = NULL;
	bool lis_closed = false;
	uint64_t t0;
	int len = sizeof(ss);

	fx_as_to_dc(fx, TLS_FRAMING_MSG);
	fx->cli.cfg.handshake_timeout_ms = 200;
	assert_int_equal(loop_addr_parse("127.0.0.1:0", 0, 0, &ss), 0);
	uv_tcp_init(&fx->uv, &lis);
	lis.data = &peer;
	assert_int_equal(uv_tcp_bind(&lis, (struct sockaddr *)&ss, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&lis, 4, silent_accept), 0);
	assert_int_equal(uv_tcp_getsockname(&lis, (struct sockaddr *)&ss,
	    &len), 0);
	uv_update_time(&fx->uv);
	t0 = uv_now(&fx->uv);
	fx_connect(fx, &ss);
	RUN_UNTIL(fx, fx->cli.closed == 1);
	assert_int_equal(fx->cli.reason, -ETIMEDOUT);
	assert_int_equal(fx->cli.connected, 0);
	assert_true(uv_now(&fx->uv) - t0 >= 200);
	assert_true(uv_now(&fx->uv) - t0 < 2000);
	assert_non_null(peer);
	tls_client_free(fx->cl);
	fx->cl = NULL;
	uv_close((uv_handle_t *)peer, free_on_close);
	lis.data = &lis_closed;
	uv_close((uv_handle_t *)&lis, flag_on_close);
	RUN_UNTIL(fx, lis_closed);
}

/* The node -> AS listener: a client certificate is optional there. */
static void
test_optional_client_cert(void **state)
{
	struct fx *fx = *state;

	side_init(fx, &fx->srv, "", "as", CERT_ROLE_NODE, NULL);
	fx->srv.cfg.client_auth = TLS_CLIENT_AUTH_OPTIONAL;
	/* First enrollment: the node has no certificate yet. */
	side_init(fx, &fx->cli, "", NULL, CERT_ROLE_AS, "as.ntm.test");
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.connected == 1 && fx->srv.connected == 1);
	assert_int_equal(fx->srv.peer_role, CERT_ROLE_INVALID);
	assert_null(tls_conn_peer(fx->srv.conn)->crt);
	assert_int_equal(fx->cli.peer_role, CERT_ROLE_AS);
	fx_client_reset(fx);
	RUN_UNTIL(fx, fx->srv.closed == 1);

	/* Later start-ups: with its certificate it is known as the node. */
	side_init(fx, &fx->cli, "", "node", CERT_ROLE_AS, "as.ntm.test");
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.connected == 1 && fx->srv.connected == 2);
	assert_int_equal(fx->srv.peer_role, CERT_ROLE_NODE);
	assert_string_equal(fx->srv.peer_fqdn, "alice.dc1.ntm.test");
	fx_client_reset(fx);
	RUN_UNTIL(fx, fx->srv.closed == 2);

	/* A wrong certificate is still refused where one is optional. */
	side_init(fx, &fx->cli, "", "dc", CERT_ROLE_AS, NULL);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->srv.closed == 3);
	assert_int_equal(fx->srv.reason, CERT_E_ROLE);
	assert_int_equal(fx->srv.connected, 2);
}

/* Where a certificate is required, going without one is refused. */
static void
test_required_client_cert(void **state)
{
	struct fx *fx = *state;

	side_init(fx, &fx->srv, "", "dc", CERT_ROLE_AS, NULL);
	side_init(fx, &fx->cli, "", NULL, CERT_ROLE_DC, NULL);
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->srv.closed >= 1 && fx->cli.closed >= 1);
	assert_int_equal(fx->srv.connected, 0);
	assert_int_equal(fx->srv.reason, TLS_E_NO_CERT);
}

static void
test_queue_bound(void **state)
{
	struct fx *fx = *state;
	uint8_t buf[1000];
	int i, sent = 0, rv = 0;

	fx_as_to_dc(fx, TLS_FRAMING_LEN32);
	fx->cli.cfg.queue_max = 8192;
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.connected == 1 && fx->srv.connected == 1);
	/* Without running the loop no write completes: the queue fills. */
	for (i = 0; i < 20; i++) {
		memset(buf, i, sizeof(buf));
		if ((rv = tls_send(fx->cli.conn, buf, sizeof(buf))) < 0)
			break;
		sent++;
	}
	assert_int_equal(rv, -ENOBUFS);
	assert_int_equal(tls_client_stats(fx->cl)->nobufs, 1);
	assert_true(sent >= 4 && sent < 9);
	assert_true(tls_conn_queued(fx->cli.conn) <= 8192);
	/* The connection stays up; on_drain says when to go on. */
	RUN_UNTIL(fx, fx->cli.drained == 1);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(tls_send(fx->cli.conn, buf, sizeof(buf)), 0);
	RUN_UNTIL(fx, fx->srv.nframes == (size_t)sent + 1);
	for (i = 0; i < sent; i++)
		assert_int_equal(fx->srv.frames[i][0], i);
	assert_int_equal(fx->srv.frames[sent][0], 0xee);
	assert_int_equal(fx->cli.closed, 0);
}

static void
test_idle_timeout(void **state)
{
	struct fx *fx = *state;

	fx_as_to_dc(fx, TLS_FRAMING_MSG);
	fx->srv.cfg.idle_timeout_ms = 150;
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->srv.closed == 1);
	assert_int_equal(fx->srv.connected, 1);
	assert_int_equal(fx->srv.reason, -ETIMEDOUT);
}

static void
test_creds_files(void **state)
{
	struct fx *fx = *state;
	struct tls_creds *cr;
	gnutls_privkey_t key;
	gnutls_x509_crt_t crt;
	struct tls_config cfg;
	struct sockaddr_storage ss;
	struct tls_listener *l;
	int fd;

	assert_int_equal(tls_creds_new(&cr), 0);
	/* A key file others may read is refused. */
	fd = open(path_of(fx->pki, "loose.key"), O_WRONLY | O_CREAT | O_TRUNC,
	    0644);
	assert_true(fd >= 0);
	close(fd);
	chmod(path_of(fx->pki, "loose.key"), 0644);
	assert_int_equal(tls_creds_load_key(cr, path_of(fx->pki, "dc.pem"),
	    path_of(fx->pki, "loose.key")), CERT_E_KEY_PERMS);
	assert_int_equal(tls_creds_load(cr, path_of(fx->pki, "nosuch.pem"),
	    path_of(fx->pki, "dc.pem"), path_of(fx->pki, "dc.key")), -ENOENT);
	/* Without an own certificate there is nothing to listen with. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.creds = cr;
	cfg.verify = tls_verify_cert;
	assert_int_equal(loop_addr_parse("127.0.0.1:0", 0, 0, &ss), 0);
	assert_int_equal(tls_listen(&fx->uv, &cfg, (struct sockaddr *)&ss,
	    &l), -EINVAL);
	/* A key that is not the certificate's. */
	assert_int_equal(tls_creds_load_key(cr, path_of(fx->pki, "dc.pem"),
	    path_of(fx->pki, "as.key")), TLS_E_CREDS);
	assert_int_equal(tls_creds_load(cr, path_of(fx->pki, "root.pem"),
	    path_of(fx->pki, "dc.pem"), path_of(fx->pki, "dc.key")), 0);
	assert_non_null(tls_creds_trust(cr));
	assert_non_null(tls_creds_issuer(cr));
	/* One own certificate per creds. */
	assert_int_equal(cert_key_read(path_of(fx->pki, "dc.key"), &key), 0);
	assert_int_equal(cert_crt_read(path_of(fx->pki, "dc.pem"), &crt), 0);
	assert_int_equal(tls_creds_set_key(cr, &crt, 1, key), -EEXIST);
	tls_creds_free(cr);
	gnutls_privkey_deinit(key);
	gnutls_x509_crt_deinit(crt);
	assert_string_equal(tls_strerror(TLS_E_FRAME_TOO_BIG),
	    "frame above the size limit");
	assert_string_equal(tls_strerror(CERT_E_ROLE), cert_strerror(
	    CERT_E_ROLE));
}

/* A key handed over by the caller (as the AS passes its signer's). */
static void
test_caller_key(void **state)
{
	struct fx *fx = *state;
	gnutls_privkey_t key;
	gnutls_x509_crt_t crt;

	side_init(fx, &fx->srv, "", NULL, CERT_ROLE_AS, NULL);
	assert_int_equal(cert_key_read(path_of(fx->pki, "dc.key"), &key), 0);
	assert_int_equal(cert_crt_read(path_of(fx->pki, "dc.pem"), &crt), 0);
	/* Only the leaf: the client finds the AS CA in its expectation. */
	assert_int_equal(tls_creds_set_key(fx->srv.creds, &crt, 1, key), 0);
	gnutls_x509_crt_deinit(crt);
	side_init(fx, &fx->cli, "", "as", CERT_ROLE_DC, NULL);
	fx->cli.expect.intermediate = tls_creds_issuer(fx->cli.creds);
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.connected == 1 && fx->srv.connected == 1);
	assert_int_equal(fx->cli.peer_role, CERT_ROLE_DC);
}

/* Both ends must speak ntmobile/1 inside TLS. */
static void
test_alpn_mismatch(void **state)
{
	struct fx *fx = *state;

	fx_as_to_dc(fx, TLS_FRAMING_MSG);
	fx->cli.cfg.alpn = "http/1.1";
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->srv.closed >= 1 && fx->cli.closed >= 1);
	assert_int_equal(fx->srv.connected, 0);
	assert_int_equal(fx->cli.connected, 0);
	assert_int_equal(fx->srv.reason, TLS_E_ALPN);
}

/*
 * An external key as the AS signer process offers one: GnuTLS only sees
 * callbacks.  Here they sign with a key the test holds and count calls.
 */
struct extkey {
	gnutls_privkey_t	 real;
	int			 signs;
};

static int
ext_sign_data(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, void *arg,
    unsigned int flags, const gnutls_datum_t *data, gnutls_datum_t *sig)
{
	struct extkey *e = arg;

	e->signs++;
	return gnutls_privkey_sign_data2(e->real, algo, 0, data, sig);
}

static int
ext_sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, void *arg,
    unsigned int flags, const gnutls_datum_t *hash, gnutls_datum_t *sig)
{
	struct extkey *e = arg;

	e->signs++;
	return gnutls_privkey_sign_hash2(e->real, algo, 0, hash, sig);
}

static int
ext_info(gnutls_privkey_t key, unsigned int flags, void *arg)
{
	gnutls_sign_algorithm_t algo;

	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO) {
		algo = (gnutls_sign_algorithm_t)
		    GNUTLS_FLAGS_TO_SIGN_ALGO(flags);
		return algo == GNUTLS_SIGN_ECDSA_SECP256R1_SHA256;
	}
	switch (flags) {
	case GNUTLS_PRIVKEY_INFO_PK_ALGO:
		return GNUTLS_PK_ECDSA;
	case GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS:
		return 256;
	case GNUTLS_PRIVKEY_INFO_SIGN_ALGO:
		return GNUTLS_SIGN_ECDSA_SECP256R1_SHA256;
	default:
		return -1;
	}
}

static void
test_external_key(void **state)
{
	struct fx *fx = *state;
	struct extkey e = { NULL, 0 };
	gnutls_privkey_t key;
	gnutls_x509_crt_t *chain;
	gnutls_datum_t pem;
	unsigned int n, i;
	int before;

	/* The AS listens with a key it cannot read, only ask to sign. */
	side_init(fx, &fx->srv, "", NULL, CERT_ROLE_NODE, NULL);
	fx->srv.cfg.client_auth = TLS_CLIENT_AUTH_OPTIONAL;
	assert_int_equal(cert_key_read(path_of(fx->pki, "as.key"), &e.real),
	    0);
	assert_int_equal(gnutls_privkey_init(&key), 0);
	assert_int_equal(gnutls_privkey_import_ext4(key, &e, ext_sign_data,
	    ext_sign_hash, NULL, NULL, ext_info, 0), 0);
	assert_int_equal(gnutls_load_file(path_of(fx->pki, "as.pem"), &pem),
	    0);
	assert_int_equal(gnutls_x509_crt_list_import2(&chain, &n, &pem,
	    GNUTLS_X509_FMT_PEM, 0), 0);
	gnutls_free(pem.data);
	assert_int_equal(n, 2);
	assert_int_equal(tls_creds_set_key(fx->srv.creds, chain, n, key), 0);
	/* GnuTLS checks that key and certificate match by signing. */
	before = e.signs;
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(chain[i]);
	gnutls_free(chain);
	side_init(fx, &fx->cli, "", "node", CERT_ROLE_AS, "as.ntm.test");
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.connected == 1 && fx->srv.connected == 1);
	assert_int_equal(fx->cli.peer_role, CERT_ROLE_AS);
	assert_int_equal(fx->srv.peer_role, CERT_ROLE_NODE);
	/* The handshake's CertificateVerify went through the callbacks. */
	assert_int_equal(e.signs, before + 1);
	fx_reset(fx);
	gnutls_privkey_deinit(e.real);
}

/* A listener holds at most conns_max connections. */
static void
test_conns_max(void **state)
{
	struct fx *fx = *state;
	struct side other;
	struct tls_client *second;

	fx_as_to_dc(fx, TLS_FRAMING_MSG);
	fx->srv.cfg.conns_max = 1;
	fx_listen(fx);
	fx_connect(fx, &fx->addr);
	RUN_UNTIL(fx, fx->cli.connected == 1 && fx->srv.connected == 1);
	side_init(fx, &other, "", "as", CERT_ROLE_DC, NULL);
	assert_int_equal(tls_client_new(&fx->uv, &other.cfg,
	    (struct sockaddr *)&fx->addr, &second), 0);
	RUN_UNTIL(fx, fx->srv.closed >= 1 && other.closed >= 1);
	assert_int_equal(fx->srv.reason, -EBUSY);
	assert_int_equal(other.connected, 0);
	/* The first connection is still there and still works. */
	assert_non_null(tls_client_conn(fx->cl));
	assert_int_equal(fx->cli.closed, 0);
	/* Once it is gone, the other one gets in. */
	tls_client_free(fx->cl);
	fx->cl = NULL;
	RUN_UNTIL(fx, other.connected == 1);
	tls_client_free(second);
	RUN_UNTIL(fx, other.conn == NULL);
	uv_run(&fx->uv, UV_RUN_NOWAIT);
	side_clear(&other);
	fx_reset(fx);
	tls_creds_free(other.creds);
}

/* Reconnect delays double from backoff_min_ms up to backoff_max_ms. */
static void
test_backoff_timing(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_storage ss;
	uv_tcp_t probe;
	uint64_t at[8];
	int len = sizeof(ss), n = 0, i;

	/* A port where nothing listens: bind one, learn it, close it. */
	assert_int_equal(loop_addr_parse("127.0.0.1:0", 0, 0, &ss), 0);
	uv_tcp_init(&fx->uv, &probe);
	assert_int_equal(uv_tcp_bind(&probe, (struct sockaddr *)&ss, 0), 0);
	assert_int_equal(uv_tcp_getsockname(&probe, (struct sockaddr *)&ss,
	    &len), 0);
	uv_close((uv_handle_t *)&probe, NULL);
	uv_run(&fx->uv, UV_RUN_NOWAIT);

	fx_as_to_dc(fx, TLS_FRAMING_MSG);
	fx->cli.cfg.backoff_min_ms = 40;
	fx->cli.cfg.backoff_max_ms = 160;
	fx_connect(fx, &ss);
	while (n < 7) {
		RUN_UNTIL(fx, fx->cli.closed > n);
		at[n++] = uv_now(&fx->uv);
	}
	assert_int_equal(fx->cli.reason, -ECONNREFUSED);
	/* Delay i is drawn from [d/2, d] with d = 40, 80, 160, 160 ... */
	for (i = 1; i < n; i++) {
		uint64_t d = i == 1 ? 40 : i == 2 ? 80 : 160;

		assert_true(at[i] - at[i - 1] >= d / 2);
		assert_true(at[i] - at[i - 1] <= d + 500);
	}
}

/* OpenSSL's s_client as a peer nobody here wrote. */
struct child {
	uv_process_t	 proc;
	bool		 exited;
	int64_t		 status;
};

static void
child_exit(uv_process_t *p, int64_t status, int sig)
{
	struct child *ch = p->data;

	ch->exited = true;
	ch->status = sig != 0 ? -sig : status;
	uv_close((uv_handle_t *)p, NULL);
}

/* Runs openssl s_client against the test listener with stdin from `in`. */
static int
s_client(struct fx *fx, struct child *ch, const char *version, int in)
{
	char port[16];
	char *args[] = {
		"openssl", "s_client", "-connect", NULL, (char *)version,
		"-alpn", "ntmobile/1", "-cert", NULL, "-key", NULL,
		"-quiet", "-no_ign_eof", NULL,
	};
	char cert[128], key[128];
	uv_process_options_t o;
	uv_stdio_container_t io[3];

	snprintf(port, sizeof(port), "127.0.0.1:%u", ntohs(((struct
	    sockaddr_in *)&fx->addr)->sin_port));
	snprintf(cert, sizeof(cert), "%s", path_of(fx->pki, "as.pem"));
	snprintf(key, sizeof(key), "%s", path_of(fx->pki, "as.key"));
	args[3] = port;
	args[8] = cert;
	args[10] = key;
	memset(&o, 0, sizeof(o));
	memset(ch, 0, sizeof(*ch));
	io[0].flags = UV_INHERIT_FD;
	io[0].data.fd = in;
	io[1].flags = UV_IGNORE;
	io[2].flags = UV_IGNORE;
	o.file = "openssl";
	o.args = args;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = child_exit;
	ch->proc.data = ch;
	return uv_spawn(&fx->uv, &ch->proc, &o);
}

static void
test_openssl_client(void **state)
{
	struct fx *fx = *state;
	static struct child ch;	/* outlives a failed assertion */
	uint8_t m[PROTO_HEADER_LEN + 16];
	size_t len;
	FILE *f;
	int rv;

	fx_as_to_dc(fx, TLS_FRAMING_MSG);
	/* s_client sends its leaf alone: the DC knows the AS CA itself. */
	fx->srv.expect.intermediate = tls_creds_issuer(fx->srv.creds);
	fx_listen(fx);
	len = msg_make(m, sizeof(m), 4242, 16);
	assert_non_null(f = tmpfile());
	assert_int_equal(fwrite(m, 1, len, f), len);
	fflush(f);
	rewind(f);
	if ((rv = s_client(fx, &ch, "-tls1_3", fileno(f))) == UV_ENOENT) {
		fclose(f);
		skip();
	}
	assert_int_equal(rv, 0);
	RUN_UNTIL(fx, ch.exited && fx->srv.closed == 1);
	/* OpenSSL's TLS 1.3 with a client certificate: known as the AS. */
	assert_int_equal(fx->srv.connected, 1);
	assert_int_equal(fx->srv.peer_role, CERT_ROLE_AS);
	assert_int_equal(fx->srv.nframes, 1);
	assert_int_equal(fx->srv.lens[0], len);
	assert_memory_equal(fx->srv.frames[0], m, len);
	assert_int_equal(fx->srv.reason, 0);	/* it said close_notify */
	fclose(f);

	/* TLS 1.2 is not spoken here. */
	assert_non_null(f = tmpfile());
	assert_int_equal(s_client(fx, &ch, "-tls1_2", fileno(f)), 0);
	RUN_UNTIL(fx, ch.exited && fx->srv.closed == 2);
	assert_true(ch.status != 0);
	assert_int_equal(fx->srv.connected, 1);
	assert_int_equal(fx->srv.reason, TLS_E_HANDSHAKE);
	fclose(f);
}

static void
test_backoff_jitter(void **state)
{
	struct ntm_rng *rng = rng_seeded_new("jitter", 6);
	uint32_t d, v, lo = UINT32_MAX, hi = 0;
	int i;

	for (d = 100; d <= 10000; d *= 2)
		for (i = 0; i < 200; i++) {
			v = tls_backoff_jitter(d, rng);
			assert_true(v >= d / 2 && v <= d);
			if (d == 100) {
				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
			}
		}
	/* It does spread over the range. */
	assert_true(lo < 60 && hi > 90);
	rng_free(rng);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exchange_msg, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_exchange_len32, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_segments, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_server_refuses_node,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_refuses_node,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_refuses_name,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_root, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_expired, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_oversized_frame,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_header, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_handshake_timeout,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_optional_client_cert,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_required_client_cert,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_creds_files, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_caller_key, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_alpn_mismatch, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_external_key, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_conns_max, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_backoff_timing, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_openssl_client, fx_setup,
		    fx_teardown),
		cmocka_unit_test(test_backoff_jitter),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
