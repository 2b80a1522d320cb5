/* nss_ntm.c -- glibc NSS hosts module: asks ntmd for a peer's virtual IP. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <nss.h>
#include <poll.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctlmsg.h"

/*
 * Loaded into every process that resolves a name, so: no threads, no
 * environment, nothing but libc and lib/ctlmsg.c, and one global that
 * changes (nss.conf as last read, below).  One connection per call, one
 * request per connection (doc/CONTROL.md).
 *
 * Outcome of one call, before it is mapped to NSS codes.
 */
enum nss_ntm_outcome {
	NSS_NTM_INVALID = 0,
	NSS_NTM_FOUND,		/* ans holds the OK line */
	NSS_NTM_REFUSED,	/* ntmd answered NOTFOUND */
	NSS_NTM_NOT_OURS,	/* not an NTMobile name or address */
	NSS_NTM_DOWN,		/* ntmd absent, untrusted, hung up or confused */
	NSS_NTM_TIMEOUT,	/* ntmd took the request, no answer in time */
};

/* The exported entry points; the types come from <nss.h>. */
nss_gethostbyname4_r	_nss_ntm_gethostbyname4_r;
nss_gethostbyname3_r	_nss_ntm_gethostbyname3_r;
nss_gethostbyname2_r	_nss_ntm_gethostbyname2_r;
nss_gethostbyname_r	_nss_ntm_gethostbyname_r;
nss_gethostbyaddr2_r	_nss_ntm_gethostbyaddr2_r;
nss_gethostbyaddr_r	_nss_ntm_gethostbyaddr_r;

static uint64_t
nss_ntm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline, for poll(); 0 once it has passed. */
static int
nss_ntm_left_ms(uint64_t deadline)
{
	uint64_t now = nss_ntm_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* How often a process looks whether nss.conf changed (nss_ntm(8)). */
#define NSS_NTM_CONF_RECHECK_MS	1000

/* What tells one nss.conf from another: where it is and when it changed. */
struct nss_ntm_conf_id {
	bool		present;
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec	mtim;
	struct timespec	ctim;	/* also moves on chmod and chown */
};

/*
 * nss.conf as last read, for every thread of the process: most lookups are
 * for other names, and reading the file each time cost them about 5 us
 * (bench/bench_nss.sh).  Taken with trylock only: a thread that finds it
 * held, and a child forked while another thread held it, read the file
 * themselves instead of waiting.
 */
static pthread_mutex_t nss_ntm_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	bool			valid;
	int			rc;
	uint64_t		checked_ms;
	struct nss_ntm_conf_id	id;
	struct ctlmsg_conf	conf;
} nss_ntm_cache;

static void
nss_ntm_conf_id_set(struct nss_ntm_conf_id *id, const struct stat *st)
{
	memset(id, 0, sizeof(*id));
	if (st == NULL)
		return;
	id->present = true;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtim = st->st_mtim;
	id->ctim = st->st_ctim;
}

static bool
nss_ntm_conf_id_same(const struct nss_ntm_conf_id *a,
    const struct nss_ntm_conf_id *b)
{
	if (a->present != b->present)
		return false;
	return !a->present || (a->dev == b->dev && a->ino == b->ino &&
	    a->size == b->size && a->mtim.tv_sec == b->mtim.tv_sec &&
	    a->mtim.tv_nsec == b->mtim.tv_nsec &&
	    a->ctim.tv_sec == b->ctim.tv_sec &&
	    a->ctim.tv_nsec == b->ctim.tv_nsec);
}

/*
 * Reads nss.conf over the defaults, and what it read into *id.  A missing
 * file means the defaults; a file that root does not own, that others may
 * write, or that does not parse makes the module stand aside (-EPERM /
 * -EINVAL), so a broken install falls through to DNS instead of breaking
 * every lookup.
 */
static int
nss_ntm_conf_read(struct ctlmsg_conf *c, struct nss_ntm_conf_id *id)
{
	char text[CTLMSG_CONF_MAX + 1];
	struct stat st;
	size_t len = 0, errline;
	ssize_t n;
	int fd, rc = 0;

	ctlmsg_conf_default(c);
	nss_ntm_conf_id_set(id, NULL);
	if ((fd = open(CTLMSG_CONF_PATH, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	nss_ntm_conf_id_set(id, &st);
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		rc = -EPERM;
		goto out;
	}
	while (len < sizeof(text)) {
		if ((n = read(fd, text + len, sizeof(text) - len)) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = ctlmsg_conf_parse(c, text, len, &errline);
out:
	close(fd);
	return rc;
}

/*
 * nss.conf for this call: the process's copy, read again when the file
 * changed (looked at once per NSS_NTM_CONF_RECHECK_MS at most).  Returns
 * what reading it returned.
 */
static int
nss_ntm_conf_load(struct ctlmsg_conf *c)
{
	struct nss_ntm_conf_id id;
	struct stat st;
	uint64_t now = nss_ntm_now_ms();
	int rc;

	if (pthread_mutex_trylock(&nss_ntm_cache_lock) != 0)
		return nss_ntm_conf_read(c, &id);
	if (!nss_ntm_cache.valid ||
	    now - nss_ntm_cache.checked_ms >= NSS_NTM_CONF_RECHECK_MS) {
		nss_ntm_conf_id_set(&id,
		    stat(CTLMSG_CONF_PATH, &st) == 0 ? &st : NULL);
		/* A stat that fails for another reason than ENOENT: read. */
		if (!nss_ntm_cache.valid ||
		    !nss_ntm_conf_id_same(&id, &nss_ntm_cache.id) ||
		    (!id.present && errno != ENOENT)) {
			nss_ntm_cache.rc = nss_ntm_conf_read(&nss_ntm_cache.conf,
			    &nss_ntm_cache.id);
			nss_ntm_cache.valid = true;
		}
		nss_ntm_cache.checked_ms = now;
	}
	rc = nss_ntm_cache.rc;
	*c = nss_ntm_cache.conf;
	pthread_mutex_unlock(&nss_ntm_cache_lock);
	return rc;
}

/*
 * Connects to ntmd within CTLMSG_CONNECT_MS and checks who runs it.  A
 * full listen backlog makes a non-blocking AF_UNIX connect fail with
 * EAGAIN rather than wait, so that case is retried until the deadline.
 */
static int
nss_ntm_connect(const struct ctlmsg_conf *c, int *fdp)
{
	struct sockaddr_un sun;
	struct ucred cred;
	socklen_t len;
	uint64_t deadline = nss_ntm_now_ms() + CTLMSG_CONNECT_MS;
	struct pollfd pfd;
	int fd, err, rc;

	*fdp = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(c->socket) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, c->socket, strlen(c->socket));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			break;
		err = errno;
		if (err == EINTR)
			continue;
		if (err == EAGAIN) {
			if (nss_ntm_left_ms(deadline) == 0) {
				rc = -ETIMEDOUT;
				goto bad;
			}
			poll(NULL, 0, 10);
			continue;
		}
		if (err != EINPROGRESS) {
			rc = -err;
			goto bad;
		}
		do
			rc = poll(&pfd, 1, nss_ntm_left_ms(deadline));
		while (rc < 0 && errno == EINTR);
		if (rc == 0) {
			rc = -ETIMEDOUT;
			goto bad;
		}
		len = sizeof(err);
		if (rc < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
			rc = -errno;
			goto bad;
		}
		if (err != 0) {
			rc = -err;
			goto bad;
		}
		break;
	}
	len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		rc = -errno;
		goto bad;
	}
	if (len != sizeof(cred) || !ctlmsg_conf_uid_ok(c, (uint32_t)cred.uid)) {
		rc = -EPERM;
		goto bad;
	}
	*fdp = fd;
	return 0;
bad:
	close(fd);
	return rc;
}

static int
nss_ntm_send(int fd, const char *p, size_t len, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ssize_t n;
	int rc;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if ((rc = poll(&pfd, 1, nss_ntm_left_ms(deadline))) == 0)
			return -ETIMEDOUT;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/*
 * Reads answer lines until a final one.  The wait starts at c->setup_ms;
 * a WAIT line replaces it with ntmd's own setup_timeout, counted from its
 * arrival, but never beyond CTLMSG_WAIT_MAX_MS after the request.
 */
static int
nss_ntm_receive(int fd, const struct ctlmsg_conf *c, struct ctlmsg *ans)
{
	char buf[CTLMSG_LINE_MAX];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t start = nss_ntm_now_ms();
	uint64_t deadline = start + c->setup_ms;
	size_t have = 0, linelen;
	ssize_t n;
	int rc;

	for (;;) {
		rc = ctlmsg_line(buf, have, &linelen);
		if (rc == 0) {
			if (ctlmsg_parse(ans, buf, linelen) < 0)
				return -EPROTO;
			have -= linelen + 1;
			memmove(buf, buf + linelen + 1, have);
			if (ans->type != CTLMSG_WAIT)
				return 0;
			deadline = nss_ntm_now_ms() + ans->wait_ms;
			if (deadline > start + CTLMSG_WAIT_MAX_MS)
				deadline = start + CTLMSG_WAIT_MAX_MS;
			continue;
		}
		if (rc != -EAGAIN)
			return -EPROTO;
		if ((n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
			have += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if ((rc = poll(&pfd, 1, nss_ntm_left_ms(deadline))) == 0)
			return -ETIMEDOUT;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * One request, one final answer.  Returns the outcome; *err says why
 * ntmd counts as down (for errno).
 */
static enum nss_ntm_outcome
nss_ntm_ask(const struct ctlmsg_conf *c, const struct ctlmsg *req,
    struct ctlmsg *ans, int *err)
{
	char line[CTLMSG_LINE_MAX + 1];
	size_t len;
	int fd = -1, rc;

	if ((rc = ctlmsg_format(req, line, sizeof(line), &len)) < 0 ||
	    (rc = nss_ntm_connect(c, &fd)) < 0 ||
	    (rc = nss_ntm_send(fd, line, len,
	    nss_ntm_now_ms() + CTLMSG_CONNECT_MS)) < 0)
		goto down;
	if ((rc = nss_ntm_receive(fd, c, ans)) < 0) {
		/*
		 * ntmd took the request but no tunnel answer came in time:
		 * the name is an NTMobile name without a tunnel, so it must
		 * not fall through to DNS (which would hand out the virtual
		 * IP with no tunnel behind it).
		 */
		if (rc == -ETIMEDOUT) {
			close(fd);
			*err = ETIMEDOUT;
			return NSS_NTM_TIMEOUT;
		}
		goto down;
	}
	close(fd);
	switch (ans->type) {
	case CTLMSG_OK:
		return NSS_NTM_FOUND;
	case CTLMSG_NOTFOUND:
		return NSS_NTM_REFUSED;
	case CTLMSG_UNAVAIL:
		*err = ENOENT;
		if (strcmp(ans->word, "not-in-zone") == 0)
			return NSS_NTM_NOT_OURS;
		return NSS_NTM_DOWN;
	default:
		rc = -EPROTO;
		break;
	}
down:
	if (fd >= 0)
		close(fd);
	*err = -rc;
	return NSS_NTM_DOWN;
}

/* Asks ntmd about a caller's name, or stands aside without a connection. */
static enum nss_ntm_outcome
nss_ntm_resolve(const char *name, enum ctlmsg_family fam, struct ctlmsg *ans,
    int *err)
{
	struct ctlmsg_conf conf;
	struct ctlmsg req;
	int rc;

	*err = ENOENT;
	if ((rc = nss_ntm_conf_load(&conf)) < 0) {
		*err = -rc;
		return NSS_NTM_NOT_OURS;
	}
	memset(&req, 0, sizeof(req));
	req.type = CTLMSG_RESOLVE;
	req.family = fam;
	if (ctlmsg_name_normalize(name, req.name, sizeof(req.name)) < 0 ||
	    !ctlmsg_conf_name_ours(&conf, req.name))
		return NSS_NTM_NOT_OURS;
	return nss_ntm_ask(&conf, &req, ans, err);
}

/*
 * Maps everything but success.  UNAVAIL lets "hosts: ... ntm dns" go on
 * to DNS; NOTFOUND stops it under [NOTFOUND=return].
 */
static enum nss_status
nss_ntm_fail(enum nss_ntm_outcome o, int err, int *errnop, int *h_errnop)
{
	switch (o) {
	case NSS_NTM_REFUSED:
		*errnop = ENOENT;
		*h_errnop = HOST_NOT_FOUND;
		return NSS_STATUS_NOTFOUND;
	case NSS_NTM_TIMEOUT:
		*errnop = err;
		*h_errnop = TRY_AGAIN;
		return NSS_STATUS_NOTFOUND;
	case NSS_NTM_DOWN:
		*errnop = err;
		*h_errnop = TRY_AGAIN;
		return NSS_STATUS_UNAVAIL;
	default:
		*errnop = err;
		*h_errnop = HOST_NOT_FOUND;
		return NSS_STATUS_UNAVAIL;
	}
}

static enum nss_status
nss_ntm_erange(int *errnop, int *h_errnop)
{
	*errnop = ERANGE;
	*h_errnop = NETDB_INTERNAL;
	return NSS_STATUS_TRYAGAIN;
}

/* Carves aligned pieces out of the caller's buffer. */
struct nss_ntm_arena {
	char	*p;
	size_t	 left;
};

static void *
nss_ntm_alloc(struct nss_ntm_arena *a, size_t size, size_t align)
{
	size_t pad = (align - ((uintptr_t)a->p & (align - 1))) & (align - 1);
	void *r;

	if (a->left < pad || a->left - pad < size)
		return NULL;
	r = a->p + pad;
	a->p += pad + size;
	a->left -= pad + size;
	return r;
}

static char *
nss_ntm_strdup(struct nss_ntm_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = nss_ntm_alloc(a, n, 1);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

static size_t
nss_ntm_addrlen(int af)
{
	return af == AF_INET ? 4 : 16;
}

/*
 * Fills a hostent with name and the addresses of family af from addr[].
 * Returns 0, -ENOENT when none has that family, -ERANGE when buffer is
 * too small.
 */
static int
nss_ntm_hostent(struct hostent *h, int af, const char *name,
    const struct ctlmsg_addr *addr, size_t naddr, char *buffer, size_t buflen)
{
	struct nss_ntm_arena a = { buffer, buflen };
	size_t i, n = 0, alen = nss_ntm_addrlen(af);
	char **aliases, **list;

	for (i = 0; i < naddr; i++)
		if (addr[i].af == af)
			n++;
	if (n == 0)
		return -ENOENT;
	aliases = nss_ntm_alloc(&a, sizeof(char *), alignof(char *));
	list = nss_ntm_alloc(&a, (n + 1) * sizeof(char *), alignof(char *));
	if (aliases == NULL || list == NULL)
		return -ERANGE;
	aliases[0] = NULL;
	n = 0;
	for (i = 0; i < naddr; i++) {
		if (addr[i].af != af)
			continue;
		if ((list[n] = nss_ntm_alloc(&a, alen, 4)) == NULL)
			return -ERANGE;
		memcpy(list[n++], addr[i].a, alen);
	}
	list[n] = NULL;
	if ((h->h_name = nss_ntm_strdup(&a, name)) == NULL)
		return -ERANGE;
	h->h_aliases = aliases;
	h->h_addrtype = af;
	h->h_length = (int)alen;
	h->h_addr_list = list;
	return 0;
}

static enum ctlmsg_family
nss_ntm_family(int af)
{
	switch (af) {
	case AF_INET:
		return CTLMSG_FAMILY_INET;
	case AF_INET6:
		return CTLMSG_FAMILY_INET6;
	default:
		return CTLMSG_FAMILY_INVALID;
	}
}

enum nss_status
_nss_ntm_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat,
    char *buffer, size_t buflen, int *errnop, int *h_errnop, int32_t *ttlp)
{
	struct nss_ntm_arena a = { buffer, buflen };
	struct gaih_addrtuple *first = *pat, *t, **tail = pat;
	struct ctlmsg ans;
	enum nss_ntm_outcome o;
	char *canon;
	size_t i;
	int err;

	o = nss_ntm_resolve(name, CTLMSG_FAMILY_ANY, &ans, &err);
	if (o != NSS_NTM_FOUND)
		return nss_ntm_fail(o, err, errnop, h_errnop);
	if ((canon = nss_ntm_strdup(&a, ans.name)) == NULL)
		return nss_ntm_erange(errnop, h_errnop);
	for (i = 0; i < ans.naddr; i++) {
		/* glibc may hand in the first tuple; use it if so. */
		if (i == 0 && first != NULL)
			t = first;
		else if ((t = nss_ntm_alloc(&a, sizeof(*t),
		    alignof(struct gaih_addrtuple))) == NULL)
			return nss_ntm_erange(errnop, h_errnop);
		memset(t, 0, sizeof(*t));
		t->name = i == 0 ? canon : NULL;
		t->family = ans.addr[i].af;
		memcpy(t->addr, ans.addr[i].a, nss_ntm_addrlen(t->family));
		*tail = t;
		tail = &t->next;
	}
	*tail = NULL;
	if (ttlp != NULL)
		*ttlp = 0;
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_ntm_gethostbyname3_r(const char *name, int af, struct hostent *host,
    char *buffer, size_t buflen, int *errnop, int *h_errnop, int32_t *ttlp,
    char **canonp)
{
	struct ctlmsg ans;
	enum nss_ntm_outcome o;
	enum ctlmsg_family fam = nss_ntm_family(af);
	int err, rc;

	if (fam == CTLMSG_FAMILY_INVALID) {
		*errnop = EAFNOSUPPORT;
		*h_errnop = NO_RECOVERY;
		return NSS_STATUS_UNAVAIL;
	}
	o = nss_ntm_resolve(name, fam, &ans, &err);
	if (o != NSS_NTM_FOUND)
		return nss_ntm_fail(o, err, errnop, h_errnop);
	rc = nss_ntm_hostent(host, af, ans.name, ans.addr, ans.naddr, buffer,
	    buflen);
	if (rc == -ERANGE)
		return nss_ntm_erange(errnop, h_errnop);
	if (rc < 0) {
		/* Our name, but no address of this family: stop here too. */
		*errnop = ENOENT;
		*h_errnop = NO_DATA;
		return NSS_STATUS_NOTFOUND;
	}
	if (ttlp != NULL)
		*ttlp = 0;
	if (canonp != NULL)
		*canonp = host->h_name;
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_ntm_gethostbyname2_r(const char *name, int af, struct hostent *host,
    char *buffer, size_t buflen, int *errnop, int *h_errnop)
{
	return _nss_ntm_gethostbyname3_r(name, af, host, buffer, buflen,
	    errnop, h_errnop, NULL, NULL);
}

enum nss_status
_nss_ntm_gethostbyname_r(const char *name, struct hostent *host,
    char *buffer, size_t buflen, int *errnop, int *h_errnop)
{
	return _nss_ntm_gethostbyname3_r(name, AF_INET, host, buffer, buflen,
	    errnop, h_errnop, NULL, NULL);
}

static bool
nss_ntm_answer_has(const struct ctlmsg *ans, const struct ctlmsg_addr *a)
{
	size_t i;

	for (i = 0; i < ans->naddr; i++)
		if (ans->addr[i].af == a->af &&
		    memcmp(ans->addr[i].a, a->a, nss_ntm_addrlen(a->af)) == 0)
			return true;
	return false;
}

enum nss_status
_nss_ntm_gethostbyaddr2_r(const void *addr, socklen_t len, int af,
    struct hostent *host, char *buffer, size_t buflen, int *errnop,
    int *h_errnop, int32_t *ttlp)
{
	struct ctlmsg_conf conf;
	struct ctlmsg req, ans;
	enum nss_ntm_outcome o;
	int err, rc;

	if ((af != AF_INET && af != AF_INET6) ||
	    len != nss_ntm_addrlen(af)) {
		*errnop = EAFNOSUPPORT;
		*h_errnop = NO_RECOVERY;
		return NSS_STATUS_UNAVAIL;
	}
	memset(&req, 0, sizeof(req));
	req.type = CTLMSG_REVERSE;
	req.naddr = 1;
	req.addr[0].af = af;
	memcpy(req.addr[0].a, addr, len);
	if ((rc = nss_ntm_conf_load(&conf)) < 0)
		return nss_ntm_fail(NSS_NTM_NOT_OURS, -rc, errnop, h_errnop);
	if (!ctlmsg_conf_addr_ours(&conf, &req.addr[0]))
		return nss_ntm_fail(NSS_NTM_NOT_OURS, ENOENT, errnop,
		    h_errnop);
	o = nss_ntm_ask(&conf, &req, &ans, &err);
	if (o != NSS_NTM_FOUND)
		return nss_ntm_fail(o, err, errnop, h_errnop);
	if (!nss_ntm_answer_has(&ans, &req.addr[0]))
		return nss_ntm_fail(NSS_NTM_DOWN, EPROTO, errnop, h_errnop);
	/* The answer names the caller's address; report exactly that one. */
	rc = nss_ntm_hostent(host, af, ans.name, req.addr, 1, buffer, buflen);
	if (rc < 0)
		return nss_ntm_erange(errnop, h_errnop);
	if (ttlp != NULL)
		*ttlp = 0;
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_ntm_gethostbyaddr_r(const void *addr, socklen_t len, int af,
    struct hostent *host, char *buffer, size_t buflen, int *errnop,
    int *h_errnop)
{
	return _nss_ntm_gethostbyaddr2_r(addr, len, af, host, buffer, buflen,
	    errnop, h_errnop, NULL);
}
