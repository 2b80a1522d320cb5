/* rsbind.c -- sans-I/O RS binding of a node: RS_HELLO, RS_COOKIE, retransmission and punch probes per path. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"
#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "rsbind.h"

struct rsbind_path {
	bool			 used;
	enum rsbind_state	 state;
	uint8_t			 path[PROTO_ID_LEN];
	uint32_t		 rid;
	struct aead		*key;
	struct msg_addr		 rs;		/* the RS address we bind with */
	struct msg_addr		 probe[RSBIND_PROBES_MAX];
	size_t			 nprobe;
	uint64_t		 counter;	/* last hello sent */
	bool			 has_cookie;
	uint8_t			 cookie[PROTO_RANDOM_LEN];
	unsigned		 sends;		/* in this schedule */
	uint64_t		 deadline;	/* UINT64_MAX: none */
};

static const uint8_t rsbind_zero[PROTO_RANDOM_LEN];

struct rsbind {
	rsbind_send_cb		 send;
	void			*arg;
	struct rsbind_path	 p[RSBIND_PATHS_MAX];
	size_t			 n;
	struct rsbind_stats	 stats;
};

static bool
rsbind_addr_equal(const struct msg_addr *a, const struct msg_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->addr, b->addr, a->family == PROTO_FAMILY_IPV4 ? 4 :
	    16) == 0;
}

int
rsbind_addr_of(const struct sockaddr *sa, struct msg_addr *a)
{
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;

	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		a->family = PROTO_FAMILY_IPV4;
		a->port = ntohs(s4->sin_port);
		memcpy(a->addr, &s4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		/* A v4-mapped source is the IPv4 peer it stands for. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			a->family = PROTO_FAMILY_IPV4;
			memcpy(a->addr, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			a->family = PROTO_FAMILY_IPV6;
			memcpy(a->addr, &s6->sin6_addr, 16);
		}
		a->port = ntohs(s6->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

static struct rsbind_path *
rsbind_find(const struct rsbind *rb, const uint8_t *path)
{
	size_t i;

	for (i = 0; i < RSBIND_PATHS_MAX; i++)
		if (rb->p[i].used && memcmp(rb->p[i].path, path,
		    PROTO_ID_LEN) == 0)
			return (struct rsbind_path *)&rb->p[i];
	return NULL;
}

static uint64_t
rsbind_backoff(unsigned sends)
{
	if (sends >= PROTO_TIMER_RETRANSMIT_TRIES)
		return RSBIND_FAIL_WAIT_MS;
	return (uint64_t)PROTO_TIMER_RETRANSMIT << (sends - 1);
}

/* A new hello (counter + 1, the cookie if we hold one), to the RS and probes. */
static int
rsbind_hello(struct rsbind *rb, struct rsbind_path *p)
{
	struct msg_data dh;
	uint8_t pkt[RSBIND_HELLO_LEN], nonce[PROTO_NONCE_LEN];
	struct wbuf w;
	size_t i;
	int rc;

	if (p->counter == UINT64_MAX - 1)
		return -EOVERFLOW;
	memset(&dh, 0, sizeof(dh));
	dh.version = PROTO_VERSION_1;
	dh.type = PROTO_MSG_RS_HELLO;
	dh.rid = p->rid;
	dh.counter = p->counter + 1;
	wbuf_init(&w, pkt, sizeof(pkt));
	if ((rc = msg_data_encode(&dh, &w)) < 0)
		return rc;
	/* A hello without a cookie carries 32 zero bytes (10.2). */
	wbuf_put_bytes(&w, p->has_cookie ? p->cookie : rsbind_zero,
	    PROTO_RANDOM_LEN);
	if (wbuf_error(&w) || wbuf_len(&w) != PROTO_DATA_HEADER_LEN +
	    PROTO_RANDOM_LEN)
		return -ENOSPC;
	msg_data_nonce(&dh, nonce);
	if ((rc = aead_seal(p->key, nonce, pkt, wbuf_len(&w), NULL, 0,
	    pkt + wbuf_len(&w), PROTO_TAG_LEN)) < 0)
		return rc;
	p->counter = dh.counter;
	rb->send(rb->arg, pkt, sizeof(pkt), &p->rs);
	rb->stats.hellos++;
	for (i = 0; i < p->nprobe; i++) {
		rb->send(rb->arg, pkt, sizeof(pkt), &p->probe[i]);
		rb->stats.probes++;
	}
	return 0;
}

/* Sends the schedule's next hello and sets the deadline after it. */
static int
rsbind_send_next(struct rsbind *rb, struct rsbind_path *p, uint64_t now)
{
	int rc;

	if ((rc = rsbind_hello(rb, p)) < 0)
		return rc;
	p->sends++;
	p->deadline = now + rsbind_backoff(p->sends);
	return 0;
}

int
rsbind_new(struct rsbind **out, rsbind_send_cb send, void *arg)
{
	struct rsbind *rb;

	*out = NULL;
	if (send == NULL)
		return -EINVAL;
	if ((rb = calloc(1, sizeof(*rb))) == NULL)
		return -ENOMEM;
	rb->send = send;
	rb->arg = arg;
	*out = rb;
	return 0;
}

static void
rsbind_remove(struct rsbind *rb, struct rsbind_path *p)
{
	aead_free(p->key);
	crypto_wipe(p, sizeof(*p));
	rb->n--;
}

void
rsbind_free(struct rsbind *rb)
{
	size_t i;

	if (rb == NULL)
		return;
	for (i = 0; i < RSBIND_PATHS_MAX; i++)
		if (rb->p[i].used)
			rsbind_remove(rb, &rb->p[i]);
	free(rb);
}

int
rsbind_start(struct rsbind *rb, const struct rsbind_conf *c, uint64_t now)
{
	struct rsbind_path *p = NULL;
	size_t i;
	int rc;

	if (c == NULL || c->path_id == NULL || c->key == NULL ||
	    c->relay == NULL || c->nrelay == 0)
		return -EINVAL;
	if (rsbind_find(rb, c->path_id) != NULL)
		return -EEXIST;
	for (i = 0; i < RSBIND_PATHS_MAX && p == NULL; i++)
		if (!rb->p[i].used)
			p = &rb->p[i];
	/* A binding that failed stays for its state until its slot is needed. */
	for (i = 0; i < RSBIND_PATHS_MAX && p == NULL; i++)
		if (rb->p[i].state == RSBIND_STATE_FAILED) {
			rsbind_remove(rb, &rb->p[i]);
			p = &rb->p[i];
		}
	if (p == NULL)
		return -ENOSPC;
	memset(p, 0, sizeof(*p));
	if ((rc = aead_new(&p->key, AEAD_ALG_AES256GCM, c->key,
	    PROTO_KEY_LEN)) < 0)
		return rc;
	p->used = true;
	rb->n++;
	p->state = RSBIND_STATE_BINDING;
	memcpy(p->path, c->path_id, PROTO_ID_LEN);
	p->rid = c->rid;
	p->rs = c->relay[0];
	for (i = 0; i < c->nrelay; i++)
		if (c->relay[i].family == c->family) {
			p->rs = c->relay[i];
			break;
		}
	for (i = 0; i < c->nprobe && p->nprobe < RSBIND_PROBES_MAX; i++)
		p->probe[p->nprobe++] = c->probe[i];
	rb->stats.starts++;
	if ((rc = rsbind_send_next(rb, p, now)) < 0) {
		rsbind_remove(rb, p);
		return rc;
	}
	return 0;
}

int
rsbind_input(struct rsbind *rb, const uint8_t *pkt, size_t len,
    const struct msg_addr *from, uint64_t now)
{
	struct rsbind_path *p = NULL;
	struct msg_data dh;
	const uint8_t *body;
	size_t blen, i;
	int rc;

	if ((rc = msg_data_decode(pkt, len, &dh, &body, &blen)) < 0)
		return rc;
	if (dh.type == PROTO_MSG_RS_HELLO)
		return -ENOMSG;		/* a peer's punch probe */
	if (dh.type != PROTO_MSG_RS_COOKIE || blen != PROTO_RANDOM_LEN)
		return -EPROTO;
	for (i = 0; i < RSBIND_PATHS_MAX && p == NULL; i++)
		if (rb->p[i].used && rb->p[i].rid == dh.rid &&
		    rsbind_addr_equal(&rb->p[i].rs, from))
			p = &rb->p[i];
	if (p == NULL) {
		rb->stats.cookies_dropped++;
		return -ENOENT;
	}
	/*
	 * The cookie is not authenticated: answer only the one for our
	 * latest hello, once (the answer moves the counter on), so a forged
	 * or replayed cookie costs at most one hello of the RS's own size.
	 */
	if (dh.counter != p->counter || p->state != RSBIND_STATE_BINDING) {
		rb->stats.cookies_dropped++;
		return -EALREADY;
	}
	memcpy(p->cookie, body, PROTO_RANDOM_LEN);
	p->has_cookie = true;
	if ((rc = rsbind_hello(rb, p)) < 0)
		return rc;
	rb->stats.cookies++;
	(void)now;
	return 0;
}

bool
rsbind_from_rs(struct rsbind *rb, const uint8_t path_id[PROTO_ID_LEN],
    const struct msg_addr *from)
{
	struct rsbind_path *p;

	if ((p = rsbind_find(rb, path_id)) == NULL ||
	    !rsbind_addr_equal(&p->rs, from))
		return false;
	if (p->state != RSBIND_STATE_BOUND) {
		p->state = RSBIND_STATE_BOUND;
		p->deadline = UINT64_MAX;
		rb->stats.bound++;
	}
	return true;
}

bool
rsbind_is_rs(const struct rsbind *rb, const uint8_t path_id[PROTO_ID_LEN],
    const struct msg_addr *a)
{
	const struct rsbind_path *p;

	return (p = rsbind_find(rb, path_id)) != NULL &&
	    rsbind_addr_equal(&p->rs, a);
}

int
rsbind_rebind(struct rsbind *rb, const uint8_t path_id[PROTO_ID_LEN],
    uint64_t now)
{
	struct rsbind_path *p;

	if ((p = rsbind_find(rb, path_id)) == NULL)
		return -ENOENT;
	/* A cookie is bound to the old source address. */
	p->has_cookie = false;
	crypto_wipe(p->cookie, sizeof(p->cookie));
	p->state = RSBIND_STATE_BINDING;
	p->sends = 0;
	rb->stats.rebinds++;
	return rsbind_send_next(rb, p, now);
}

void
rsbind_stop(struct rsbind *rb, const uint8_t path_id[PROTO_ID_LEN])
{
	struct rsbind_path *p;

	if ((p = rsbind_find(rb, path_id)) != NULL)
		rsbind_remove(rb, p);
}

size_t
rsbind_sweep(struct rsbind *rb, bool (*keep)(void *,
    const uint8_t [PROTO_ID_LEN]), void *arg)
{
	size_t i, n = 0;

	for (i = 0; i < RSBIND_PATHS_MAX; i++)
		if (rb->p[i].used && !keep(arg, rb->p[i].path)) {
			rsbind_remove(rb, &rb->p[i]);
			n++;
		}
	return n;
}

void
rsbind_timeout(struct rsbind *rb, uint64_t now)
{
	struct rsbind_path *p;
	size_t i;

	for (i = 0; i < RSBIND_PATHS_MAX; i++) {
		p = &rb->p[i];
		if (!p->used || p->state != RSBIND_STATE_BINDING ||
		    now < p->deadline)
			continue;
		if (p->sends >= PROTO_TIMER_RETRANSMIT_TRIES) {
			p->state = RSBIND_STATE_FAILED;
			p->deadline = UINT64_MAX;
			rb->stats.failed++;
			continue;
		}
		if (rsbind_send_next(rb, p, now) < 0) {
			p->state = RSBIND_STATE_FAILED;
			p->deadline = UINT64_MAX;
			rb->stats.failed++;
		}
	}
}

uint64_t
rsbind_next_timer(const struct rsbind *rb)
{
	uint64_t next = UINT64_MAX;
	size_t i;

	for (i = 0; i < RSBIND_PATHS_MAX; i++)
		if (rb->p[i].used && rb->p[i].state ==
		    RSBIND_STATE_BINDING && rb->p[i].deadline < next)
			next = rb->p[i].deadline;
	return next;
}

enum rsbind_state
rsbind_state(const struct rsbind *rb, const uint8_t path_id[PROTO_ID_LEN])
{
	const struct rsbind_path *p = rsbind_find(rb, path_id);

	return p != NULL ? p->state : RSBIND_STATE_INVALID;
}

uint64_t
rsbind_counter(const struct rsbind *rb, const uint8_t path_id[PROTO_ID_LEN])
{
	const struct rsbind_path *p = rsbind_find(rb, path_id);

	return p != NULL ? p->counter : 0;
}

size_t
rsbind_count(const struct rsbind *rb)
{
	return rb->n;
}

const struct rsbind_stats *
rsbind_stats(const struct rsbind *rb)
{
	return &rb->stats;
}
