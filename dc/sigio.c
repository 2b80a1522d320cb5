/* sigio.c -- libuv UDP sockets, timer and batched persistence around the signalling core. */
#include "config.h"

#include <netinet/in.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "loop.h"
#include "signal.h"
#include "sigio.h"

struct sigio {
	uv_loop_t		*loop;
	struct signal		*sig;		/* borrowed */
	uv_udp_t		 udp[SIGIO_SOCKETS_MAX];
	uint8_t			 family[SIGIO_SOCKETS_MAX];	/* proto */
	size_t			 nudp;
	uv_timer_t		 timer;
	bool			 timer_open;
	unsigned		 open_handles;
	bool			 closing;
	/* Persistence: rows queued on the loop, a batch on the worker. */
	struct db		*db;
	uv_work_t		 work;
	bool			 working;
	struct signal_persist	*queue;
	size_t			 nqueue;
	struct signal_persist	*batch;
	size_t			 nbatch;
	size_t			 batch_written;
	int			 batch_rc;
	struct sigio_stats	 stats;
	uint8_t			 rbuf[SIGIO_RECV_BUF];
	struct signal_out	 out;
	sigio_fed_fn		 fed_fn;
	void			*fed_arg;
	sigio_relay_fn		 relay_fn;
	void			*relay_arg;
};

static void	sigio_maybe_free(struct sigio *);
static void	sigio_persist_start(struct sigio *);

int
sigio_addr_from_sockaddr(struct msg_addr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)
		    (const void *)sa;

		a->family = PROTO_FAMILY_IPV4;
		a->port = ntohs(in->sin_port);
		memcpy(a->addr, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)
		    (const void *)sa;

		a->family = PROTO_FAMILY_IPV6;
		a->port = ntohs(in6->sin6_port);
		memcpy(a->addr, &in6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

int
sigio_addr_to_sockaddr(struct sockaddr_storage *ss, const struct msg_addr *a)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == PROTO_FAMILY_IPV4) {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		memcpy(&in->sin_addr, a->addr, 4);
		return 0;
	}
	if (a->family == PROTO_FAMILY_IPV6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(a->port);
		memcpy(&in6->sin6_addr, a->addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/*
 * The socket to send to `to` from: the one the request came in on when its
 * family fits (the node expects answers from the address it asked), else
 * the first of the destination's family (a Route Direction to a CN on the
 * other family, a retransmission from the timer).
 */
static uv_udp_t *
sigio_pick(struct sigio *io, uv_udp_t *via, uint8_t family)
{
	size_t i;

	for (i = 0; i < io->nudp; i++)
		if (&io->udp[i] == via && io->family[i] == family)
			return via;
	for (i = 0; i < io->nudp; i++)
		if (io->family[i] == family)
			return &io->udp[i];
	return NULL;
}

static void	sigio_execute(struct sigio *, uv_udp_t *, struct signal_out *);

/* No RS to ask: the core answers MN at once. */
static void
sigio_relay_unsent(struct sigio *io, const struct signal_relay *rl)
{
	struct signal_out *out;

	io->stats.relay_unsent++;
	log_warnx("sigio: a punch or relay route needs an RS, and none is "
	    "configured ([relay] server)");
	if ((out = malloc(sizeof(*out))) == NULL)
		return;		/* the core's deadline answers MN */
	signal_relay_ack(io->sig, rl->ref, -ENOTCONN, NULL, uv_now(io->loop),
	    out);
	sigio_execute(io, NULL, out);
	free(out);
}

/*
 * Carries out what the core asked for in out.  Relay and federation
 * actions go last: their handlers may answer at once (a cached failure)
 * with another out.
 */
static void
sigio_execute(struct sigio *io, uv_udp_t *via, struct signal_out *out)
{
	struct sockaddr_storage ss;
	struct signal_relay rl[1];
	size_t i, nrelay;
	uv_udp_t *u;
	int rc;

	for (i = 0; i < out->nsend; i++) {
		struct signal_send *snd = &out->send[i];
		uv_buf_t b = uv_buf_init((char *)snd->buf,
		    (unsigned int)snd->len);

		if (io->closing ||
		    (u = sigio_pick(io, via, snd->to.family)) == NULL ||
		    sigio_addr_to_sockaddr(&ss, &snd->to) < 0) {
			io->stats.send_errors++;
			continue;
		}
		if ((rc = uv_udp_try_send(u, &b, 1,
		    (const struct sockaddr *)&ss)) < 0) {
			io->stats.send_errors++;
			log_debug("sigio: send: %s", uv_strerror(rc));
		}
	}
	for (i = 0; i < out->npersist; i++) {
		const struct signal_persist *row = &out->persist[i];

		if (io->db == NULL)
			continue;
		/* The nodes table holds one address of each family. */
		if (row->vip4[0] == '\0' || row->vip6[0] == '\0' ||
		    io->nqueue >= SIGIO_PERSIST_QUEUE_MAX) {
			io->stats.persist_dropped++;
			continue;
		}
		io->queue[io->nqueue++] = *row;
		io->stats.persist_queued++;
	}
	nrelay = out->nrelay;
	if (nrelay > 0)
		memcpy(rl, out->relay, sizeof(rl));
	out->nsend = out->npersist = out->nrelay = 0;
	sigio_persist_start(io);
	for (i = 0; i < nrelay; i++) {
		if (io->closing)
			continue;
		if (io->relay_fn == NULL)
			sigio_relay_unsent(io, &rl[i]);
		else
			io->relay_fn(io->relay_arg, &rl[i]);
	}
	explicit_bzero(rl, sizeof(rl));
	for (i = 0; i < out->nfed; i++) {
		if (io->closing || io->fed_fn == NULL) {
			io->stats.fed_unsent++;
			continue;
		}
		io->fed_fn(io->fed_arg, &out->fed[i]);
	}
	out->nfed = 0;
}

static void
sigio_timer_cb(uv_timer_t *t);

/* Arms the timer at the core's next deadline. */
static void
sigio_timer_arm(struct sigio *io)
{
	uint64_t due, now;

	if (io->closing)
		return;
	due = signal_next_timer(io->sig);
	if (due == UINT64_MAX) {
		uv_timer_stop(&io->timer);
		return;
	}
	now = uv_now(io->loop);
	uv_timer_start(&io->timer, sigio_timer_cb, due > now ? due - now : 0,
	    0);
}

static void
sigio_timer_cb(uv_timer_t *t)
{
	struct sigio *io = t->data;

	signal_timer(io->sig, uv_now(io->loop), &io->out);
	sigio_execute(io, NULL, &io->out);
	sigio_timer_arm(io);
}

static void
sigio_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sigio *io = h->data;

	/* One loop thread; each datagram is consumed before the next alloc. */
	*buf = uv_buf_init((char *)io->rbuf, sizeof(io->rbuf));
}

static void
sigio_recv_cb(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
    const struct sockaddr *sa, unsigned flags)
{
	struct sigio *io = u->data;
	struct msg_addr from;

	if (nread == 0 && sa == NULL)
		return;		/* nothing more for now */
	if (nread < 0) {
		io->stats.recv_errors++;
		log_debug("sigio: recv: %s", uv_strerror((int)nread));
		return;
	}
	if (flags & UV_UDP_PARTIAL) {
		io->stats.truncated++;
		return;
	}
	if (sa == NULL || sigio_addr_from_sockaddr(&from, sa) < 0)
		return;
	signal_input(io->sig, buf->base, (size_t)nread, &from,
	    uv_now(io->loop), time(NULL), &io->out);
	sigio_execute(io, u, &io->out);
	sigio_timer_arm(io);
}

void
sigio_set_fed(struct sigio *io, sigio_fed_fn fn, void *arg)
{
	io->fed_fn = fn;
	io->fed_arg = arg;
}

void
sigio_set_relay(struct sigio *io, sigio_relay_fn fn, void *arg)
{
	io->relay_fn = fn;
	io->relay_arg = arg;
}

void
sigio_apply(struct sigio *io, struct signal_out *out)
{
	sigio_execute(io, NULL, out);
	sigio_timer_arm(io);
}

static const char nodes_upsert[] =
    "INSERT INTO nodes (fqdn, vip4, vip6, created) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (fqdn) DO UPDATE SET vip4 = excluded.vip4, "
    "vip6 = excluded.vip6 "
    "WHERE vip4 IS NOT excluded.vip4 OR vip6 IS NOT excluded.vip6";

/* Worker thread: one transaction for the whole batch. */
static void
sigio_persist_work(uv_work_t *w)
{
	struct sigio *io = w->data;
	int64_t now = (int64_t)time(NULL);
	size_t i;
	int rc;

	io->batch_written = 0;
	if ((rc = db_begin(io->db)) < 0) {
		io->batch_rc = rc;
		return;
	}
	for (i = 0; i < io->nbatch; i++) {
		const struct signal_persist *row = &io->batch[i];
		int changes = 0;

		/* A row that breaks a constraint is skipped, not the batch. */
		if (db_run(io->db, &changes, nodes_upsert, "tttI", row->fqdn,
		    row->vip4, row->vip6, now) == 0)
			io->batch_written++;
	}
	io->batch_rc = db_commit(io->db);
	if (io->batch_rc < 0)
		db_rollback(io->db);
}

static void
sigio_persist_done(uv_work_t *w, int status)
{
	struct sigio *io = w->data;

	io->working = false;
	if (status < 0 || io->batch_rc < 0) {
		io->stats.persist_errors += io->nbatch;
		log_warnx("sigio: writing %zu node rows failed", io->nbatch);
	} else {
		io->stats.persist_written += io->batch_written;
		io->stats.persist_errors += io->nbatch - io->batch_written;
	}
	io->nbatch = 0;
	if (io->closing) {
		sigio_maybe_free(io);
		return;
	}
	sigio_persist_start(io);
}

static void
sigio_persist_start(struct sigio *io)
{
	struct signal_persist *tmp;

	if (io->working || io->nqueue == 0 || io->db == NULL || io->closing)
		return;
	tmp = io->batch;
	io->batch = io->queue;
	io->nbatch = io->nqueue;
	io->queue = tmp;
	io->nqueue = 0;
	io->work.data = io;
	if (uv_queue_work(io->loop, &io->work, sigio_persist_work,
	    sigio_persist_done) < 0) {
		io->stats.persist_errors += io->nbatch;
		io->nbatch = 0;
		return;
	}
	io->working = true;
}

static void
sigio_maybe_free(struct sigio *io)
{
	if (io->open_handles > 0 || io->working)
		return;
	db_close(io->db);
	free(io->queue);
	free(io->batch);
	free(io);
}

static void
sigio_close_cb(uv_handle_t *h)
{
	struct sigio *io = h->data;

	io->open_handles--;
	sigio_maybe_free(io);
}

void
sigio_close(struct sigio *io)
{
	size_t i;

	if (io == NULL || io->closing)
		return;
	io->closing = true;
	for (i = 0; i < io->nudp; i++) {
		uv_udp_recv_stop(&io->udp[i]);
		uv_close((uv_handle_t *)&io->udp[i], sigio_close_cb);
	}
	if (io->timer_open)
		uv_close((uv_handle_t *)&io->timer, sigio_close_cb);
	sigio_maybe_free(io);
}

const struct sigio_stats *
sigio_stats(const struct sigio *io)
{
	return &io->stats;
}

int
sigio_sockname(const struct sigio *io, size_t i, struct sockaddr_storage *ss)
{
	int len = sizeof(*ss);

	if (i >= io->nudp)
		return -EINVAL;
	return uv_udp_getsockname(&io->udp[i], (struct sockaddr *)ss, &len);
}

int
sigio_start(struct sigio **out, uv_loop_t *loop, struct signal *sig,
    const struct sockaddr_storage *listen, size_t n, const char *db_path)
{
	struct sigio *io;
	char text[LOOP_ADDRSTRLEN];
	size_t i;
	int rc;

	*out = NULL;
	if (n > SIGIO_SOCKETS_MAX)
		return -EINVAL;
	if ((io = calloc(1, sizeof(*io))) == NULL)
		return -ENOMEM;
	io->loop = loop;
	io->sig = sig;
	if (db_path != NULL) {
		io->queue = calloc(SIGIO_PERSIST_QUEUE_MAX, sizeof(*io->queue));
		io->batch = calloc(SIGIO_PERSIST_QUEUE_MAX, sizeof(*io->batch));
		if (io->queue == NULL || io->batch == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		if ((rc = db_open(db_path, &schema_dc, &io->db)) < 0)
			goto fail;
	}
	if ((rc = uv_timer_init(loop, &io->timer)) < 0)
		goto fail;
	io->timer.data = io;
	io->timer_open = true;
	io->open_handles++;
	for (i = 0; i < n; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&listen[i];
		uv_udp_t *u = &io->udp[io->nudp];

		if ((rc = uv_udp_init(loop, u)) < 0)
			goto fail;
		u->data = io;
		io->family[io->nudp] = sa->sa_family == AF_INET6 ?
		    PROTO_FAMILY_IPV6 : PROTO_FAMILY_IPV4;
		io->nudp++;
		io->open_handles++;
		(void)loop_addr_format(sa, text, sizeof(text));
		if ((rc = uv_udp_bind(u, sa, sa->sa_family == AF_INET6 ?
		    UV_UDP_IPV6ONLY : 0)) < 0 ||
		    (rc = uv_udp_recv_start(u, sigio_alloc_cb,
		    sigio_recv_cb)) < 0) {
			log_warnx("sigio: %s: %s", text, uv_strerror(rc));
			goto fail;
		}
		log_debug("sigio: signalling on %s", text);
	}
	*out = io;
	return 0;
fail:
	if (io->open_handles > 0) {
		/* Freed in the last close callback, once the loop runs. */
		sigio_close(io);
		return rc;
	}
	db_close(io->db);
	free(io->queue);
	free(io->batch);
	free(io);
	return rc;
}

int
sigio_ticket_keys_load(struct signal *sig, const char *db_path, time_t now)
{
	struct db *db;
	sqlite3_stmt *st = NULL;
	const void *key;
	size_t len;
	int n = 0, rc;

	if ((rc = db_open(db_path, &schema_dc, &db)) < 0)
		return rc;
	if ((rc = db_prepare(db, &st, "SELECT id, key FROM ticket_keys "
	    "WHERE expires > ? ORDER BY created, id", "I", (int64_t)now)) < 0)
		goto done;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t id = db_col_int64(st, 0);

		key = db_col_blob(st, 1, &len);
		if (id < 0 || id > UINT32_MAX || len != PROTO_KEY_LEN) {
			log_warnx("%s: ticket key %lld unusable, skipped",
			    db_path, (long long)id);
			continue;
		}
		if ((rc = signal_ticket_key_add(sig, (uint32_t)id, key)) < 0)
			goto done;
		n++;
	}
	if (rc == DB_DONE)
		rc = n;
done:
	db_finalize(st);
	db_close(db);
	return rc;
}
