/* signer.c -- the AS CA key in its own process, reached over a socketpair by typed sign requests. */
#include "config.h"

#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cert.h"
#include "log.h"
#include "signer.h"

struct signer {
	pthread_mutex_t		 lock;		/* one request at a time */
	int			 fd;
	pid_t			 pid;
	int			 pidfd;		/* -1: signal by pid */
	unsigned int		 timeout_ms;
	bool			 broken;	/* no request may follow */
	gnutls_pubkey_t		 pub;
	gnutls_pk_algorithm_t	 pk;
	unsigned int		 bits;
	gnutls_sign_algorithm_t	 preferred;
};

/* The largest request and answer packets, plus one byte to see overflow. */
#define SIGNER_REQ_BUF	(SIGNER_REQ_HDR + SIGNER_DATA_MAX + 1)
#define SIGNER_ANS_BUF	(SIGNER_ANS_HDR + SIGNER_ANSWER_MAX + 1)

/* Errno values travel as positive numbers; anything larger is garbage. */
#define SIGNER_ERRNO_MAX	4095

/* ---- child ------------------------------------------------------------ */

/*
 * fatalx() for the child: a forked copy of the AS must not run the AS's
 * atexit handlers or flush its stdio buffers, so it leaves with _exit().
 * The key is wiped first.
 */
static void __attribute__((noreturn, format(printf, 2, 3)))
signer_child_fatalx(gnutls_privkey_t key, const char *fmt, ...)
{
	va_list ap;

	gnutls_privkey_deinit(key);
	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	_exit(1);
}

/* Maps a cert_key_read() error to the errno READY carries. */
static int
signer_load_errno(int rv)
{
	if (rv == CERT_E_KEY_PERMS)
		return EPERM;
	if (rv == CERT_E_PARSE || rv == CERT_E_KEY_TYPE)
		return EBADMSG;
	if (rv < 0 && rv > -SIGNER_ERRNO_MAX)
		return -rv;
	return EIO;
}

static int
signer_gnutls_errno(int rv)
{
	switch (rv) {
	case GNUTLS_E_MEMORY_ERROR:
		return ENOMEM;
	case GNUTLS_E_INVALID_REQUEST:
	case GNUTLS_E_CONSTRAINT_ERROR:
	case GNUTLS_E_UNKNOWN_ALGORITHM:
	case GNUTLS_E_UNKNOWN_PK_ALGORITHM:
	case GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM:
	case GNUTLS_E_INCOMPATIBLE_SIG_WITH_KEY:
		return EINVAL;
	default:
		return EIO;
	}
}

/* Sends one answer; a parent that is gone ends the child. */
static void
signer_child_answer(int fd, uint8_t type, int status, const void *p,
    size_t len)
{
	uint8_t buf[SIGNER_ANS_HDR + SIGNER_ANSWER_MAX];
	struct wbuf w;
	ssize_t n;

	if (len > SIGNER_ANSWER_MAX) {
		status = EMSGSIZE;
		len = 0;
	}
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_u8(&w, type);
	wbuf_put_u32(&w, (uint32_t)status);
	wbuf_put_u32(&w, status == 0 ? (uint32_t)len : 0);
	if (status == 0 && len > 0)
		wbuf_put_bytes(&w, p, len);
	do
		n = send(fd, buf, wbuf_len(&w), MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		_exit(0);	/* EPIPE: the parent left, nothing to sign */
}

static int
signer_child_pubkey(gnutls_privkey_t key, gnutls_datum_t *out)
{
	gnutls_pubkey_t pub = NULL;
	int rv;

	if ((rv = gnutls_pubkey_init(&pub)) < 0)
		return signer_gnutls_errno(rv);
	rv = gnutls_pubkey_import_privkey(pub, key, 0, 0);
	if (rv >= 0)
		rv = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, out);
	gnutls_pubkey_deinit(pub);
	return rv < 0 ? signer_gnutls_errno(rv) : 0;
}

/*
 * Parses and serves one request.  The parent checks every limit before
 * sending, so a request that breaks them means the parent is confused or
 * compromised: stop signing at once.
 */
static void
signer_child_serve(int fd, gnutls_privkey_t key, const uint8_t *p, size_t len)
{
	gnutls_datum_t in, out = { NULL, 0 };
	struct rbuf r;
	const uint8_t *bytes = NULL;
	uint32_t blen;
	uint16_t algo;
	uint8_t type;
	int status = 0, rv;

	rbuf_init(&r, p, len);
	if (rbuf_get_u8(&r, &type) < 0 || rbuf_get_u16(&r, &algo) < 0 ||
	    rbuf_get_u32(&r, &blen) < 0 || blen != rbuf_left(&r) ||
	    rbuf_get_ptr(&r, &bytes, blen) < 0)
		goto bad;
	switch (type) {
	case SIGNER_MSG_SIGN_DATA:
		if (algo == 0 || blen > SIGNER_DATA_MAX)
			goto bad;
		break;
	case SIGNER_MSG_SIGN_HASH:
		if (algo == 0 || blen == 0 || blen > SIGNER_HASH_MAX)
			goto bad;
		break;
	case SIGNER_MSG_GET_PUBKEY:
		if (algo != 0 || blen != 0)
			goto bad;
		break;
	default:
		goto bad;
	}

	in.data = (unsigned char *)(uintptr_t)bytes;
	in.size = blen;
	switch (type) {
	case SIGNER_MSG_SIGN_DATA:
		rv = gnutls_privkey_sign_data2(key, algo, 0, &in, &out);
		break;
	case SIGNER_MSG_SIGN_HASH:
		/* A DigestInfo to pad and exponentiate (RSA in TLS 1.0). */
		rv = gnutls_privkey_sign_hash2(key, algo,
		    algo == GNUTLS_SIGN_RSA_RAW ?
		    GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA : 0, &in, &out);
		break;
	default:
		rv = 0;
		status = signer_child_pubkey(key, &out);
		break;
	}
	if (rv < 0) {
		log_debug("signer: %s request, algorithm %s: %s",
		    type == SIGNER_MSG_SIGN_DATA ? "data" : "hash",
		    gnutls_sign_get_name(algo) ? gnutls_sign_get_name(algo) :
		    "unknown", gnutls_strerror(rv));
		status = signer_gnutls_errno(rv);
	}
	signer_child_answer(fd, type, status, out.data, out.size);
	gnutls_free(out.data);
	return;
bad:
	signer_child_fatalx(key, "signer: malformed request (%zu bytes, "
	    "type %u) from the AS process; stopping", len, len > 0 ? p[0] : 0u);
}

/* Leaves open stderr, stdin/stdout (for the logger's sake) and `keep`. */
static void
signer_child_close_fds(int keep)
{
	if (keep > 3)
		(void)close_range(3, (unsigned int)keep - 1, 0);
	(void)close_range(keep < 3 ? 3u : (unsigned int)keep + 1, ~0u, 0);
}

static void __attribute__((noreturn))
signer_child(int fd, const char *keyfile, pid_t parent)
{
	gnutls_privkey_t key = NULL;
	sigset_t none;
	uint8_t *buf;
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;
	int rv;

	/* No core file or ptrace by the AS user; gone with the AS. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	if (getppid() != parent)
		_exit(0);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	/* Ctrl-C on the AS's terminal: the AS shuts down and sends EOF. */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* The AS's own handlers mean nothing here. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	closelog();	/* its socket is closed below; syslog() reopens */
	signer_child_close_fds(fd);

	if ((rv = cert_key_read(keyfile, &key)) < 0) {
		log_warnx("signer: key %s: %s", keyfile,
		    rv == CERT_E_KEY_PERMS ? "gives access to group or "
		    "others; refusing (chmod 600 it)" : cert_strerror(rv));
		signer_child_answer(fd, SIGNER_MSG_READY,
		    signer_load_errno(rv), NULL, 0);
		_exit(1);
	}
	if ((buf = malloc(SIGNER_REQ_BUF)) == NULL) {
		signer_child_answer(fd, SIGNER_MSG_READY, ENOMEM, NULL, 0);
		_exit(1);
	}
	signer_child_answer(fd, SIGNER_MSG_READY, 0, NULL, 0);
	for (;;) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = buf;
		iov.iov_len = SIGNER_REQ_BUF;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		n = recvmsg(fd, &msg, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* EOF: the AS closed its end */
		if ((msg.msg_flags & MSG_TRUNC) != 0 || n == SIGNER_REQ_BUF)
			signer_child_fatalx(key, "signer: oversized request "
			    "from the AS process; stopping");
		signer_child_serve(fd, key, buf, (size_t)n);
	}
	gnutls_privkey_deinit(key);
	free(buf);
	_exit(0);
}

/* ---- parent ----------------------------------------------------------- */

static uint64_t
signer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits for `events` on the socket until `deadline`. */
static int
signer_wait(struct signer *s, short events, uint64_t deadline)
{
	struct pollfd pfd;
	uint64_t now;
	int n;

	for (;;) {
		now = signer_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		pfd.fd = s->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)(deadline - now));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		return 0;	/* ready, or HUP/ERR the next call reports */
	}
}

/*
 * Signals the child through its pidfd where the kernel gives one: a pid
 * reaped by someone else could name another process by now, a pidfd never
 * does (it then fails with ESRCH).
 */
static void
signer_kill(const struct signer *s)
{
	if (s->pidfd != -1)
		(void)pidfd_send_signal(s->pidfd, SIGKILL, NULL, 0);
	else if (s->pid > 0)
		(void)kill(s->pid, SIGKILL);
}

/*
 * A failed exchange leaves an answer in doubt; no later request may be
 * paired with it, so the child goes (signer_stop() reaps it).
 */
static void
signer_break(struct signer *s, int err)
{
	if (s->broken)
		return;
	s->broken = true;
	log_warnx("signer (pid %ld): %s; the CA key is unavailable",
	    (long)s->pid, strerror(-err));
	signer_kill(s);
}

static int
signer_send(struct signer *s, const uint8_t *p, size_t len, uint64_t deadline)
{
	ssize_t n;
	int r;

	for (;;) {
		n = send(s->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -EIO;	/* a seqpacket is sent whole */
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return -EPIPE;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if ((r = signer_wait(s, POLLOUT, deadline)) < 0)
			return r;
	}
}

/*
 * Receives the answer to `type`.  On success the payload is copied into
 * *out (gnutls_malloc; NULL/0 when empty) and 0 returned; a status the
 * child sent is returned as a negative errno.  -EPIPE, -ETIMEDOUT and
 * -EBADMSG mean the channel is unusable.
 */
static int
signer_recv(struct signer *s, uint8_t type, uint64_t deadline,
    gnutls_datum_t *out)
{
	uint8_t buf[SIGNER_ANS_BUF];
	const uint8_t *bytes;
	struct msghdr msg;
	struct iovec iov;
	struct rbuf r;
	uint32_t status, blen;
	uint8_t atype;
	ssize_t n;
	int rv;

	out->data = NULL;
	out->size = 0;
	for (;;) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
		if (n > 0)
			break;
		if (n == 0)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			return -EPIPE;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if ((rv = signer_wait(s, POLLIN, deadline)) < 0)
			return rv;
	}
	if ((msg.msg_flags & MSG_TRUNC) != 0 || n == (ssize_t)sizeof(buf)) {
		log_warnx("signer (pid %ld): oversized answer", (long)s->pid);
		return -EBADMSG;
	}
	rbuf_init(&r, buf, (size_t)n);
	if (rbuf_get_u8(&r, &atype) < 0 || rbuf_get_u32(&r, &status) < 0 ||
	    rbuf_get_u32(&r, &blen) < 0 || blen != rbuf_left(&r) ||
	    rbuf_get_ptr(&r, &bytes, blen) < 0 || atype != type ||
	    status > SIGNER_ERRNO_MAX || (status != 0 && blen != 0)) {
		log_warnx("signer (pid %ld): malformed answer", (long)s->pid);
		return -EBADMSG;
	}
	if (status != 0)
		return -(int)status;
	if (blen == 0)
		return 0;
	if ((out->data = gnutls_malloc(blen)) == NULL)
		return -ENOMEM;
	memcpy(out->data, bytes, blen);
	out->size = blen;
	return 0;
}

static bool
signer_fatal_error(int r)
{
	return r == -EPIPE || r == -ETIMEDOUT || r == -EBADMSG;
}

static int
signer_call(struct signer *s, uint8_t type, uint16_t algo, const void *in,
    size_t len, gnutls_datum_t *out)
{
	uint8_t *req;
	struct wbuf w;
	uint64_t deadline;
	int r;

	out->data = NULL;
	out->size = 0;
	if ((req = malloc(SIGNER_REQ_HDR + len)) == NULL)
		return -ENOMEM;
	wbuf_init(&w, req, SIGNER_REQ_HDR + len);
	wbuf_put_u8(&w, type);
	wbuf_put_u16(&w, algo);
	wbuf_put_u32(&w, (uint32_t)len);
	if (len > 0)
		wbuf_put_bytes(&w, in, len);
	if ((r = wbuf_error(&w)) < 0)
		goto out;

	pthread_mutex_lock(&s->lock);
	if (s->broken) {
		r = -EPIPE;
		goto unlock;
	}
	deadline = signer_now_ms() + s->timeout_ms;
	if ((r = signer_send(s, req, wbuf_len(&w), deadline)) == 0)
		r = signer_recv(s, type, deadline, out);
	if (signer_fatal_error(r))
		signer_break(s, r);
unlock:
	pthread_mutex_unlock(&s->lock);
out:
	free(req);
	return r;
}

static bool
signer_algo_valid(gnutls_sign_algorithm_t algo)
{
	return algo > GNUTLS_SIGN_UNKNOWN && (unsigned int)algo <= UINT16_MAX;
}

int
signer_sign_data(struct signer *s, gnutls_sign_algorithm_t algo,
    const void *data, size_t len, gnutls_datum_t *sig)
{
	sig->data = NULL;
	sig->size = 0;
	if (len > SIGNER_DATA_MAX)
		return -EMSGSIZE;
	if (!signer_algo_valid(algo) || (data == NULL && len > 0))
		return -EINVAL;
	return signer_call(s, SIGNER_MSG_SIGN_DATA, (uint16_t)algo, data, len,
	    sig);
}

int
signer_sign_hash(struct signer *s, gnutls_sign_algorithm_t algo,
    const void *hash, size_t len, gnutls_datum_t *sig)
{
	sig->data = NULL;
	sig->size = 0;
	if (len > SIGNER_HASH_MAX)
		return -EMSGSIZE;
	if (!signer_algo_valid(algo) || hash == NULL || len == 0)
		return -EINVAL;
	return signer_call(s, SIGNER_MSG_SIGN_HASH, (uint16_t)algo, hash, len,
	    sig);
}

/* Waits until the child has exited or `ms` have passed; true if it has. */
static bool
signer_exited(const struct signer *s, unsigned int ms)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct pollfd pfd;
	uint64_t deadline = signer_now_ms() + ms, now;
	siginfo_t si;

	if (s->pidfd != -1) {
		pfd.fd = s->pidfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		while ((now = signer_now_ms()) < deadline) {
			if (poll(&pfd, 1, (int)(deadline - now)) != -1 ||
			    errno != EINTR)
				break;
		}
		return (pfd.revents & POLLIN) != 0;
	}
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) == -1 && errno != EINTR)
			return true;	/* ECHILD: reaped elsewhere */
		if (si.si_pid == s->pid)
			return true;
		if (signer_now_ms() >= deadline)
			return false;
		nanosleep(&tick, NULL);
	}
}

/* Reaps the child, killing it if it has not left after EOF in time. */
static void
signer_reap(struct signer *s)
{
	if (!signer_exited(s, SIGNER_STOP_WAIT_MS)) {
		log_warnx("signer (pid %ld): no exit after EOF, killing",
		    (long)s->pid);
		signer_kill(s);
	}
	/* ECHILD: the AS reaped it itself, against signer.h's advice. */
	while (waitpid(s->pid, NULL, 0) == -1 && errno == EINTR)
		;
}

void
signer_stop(struct signer *s)
{
	if (s == NULL)
		return;
	if (s->fd != -1)
		close(s->fd);
	if (s->pid > 0)
		signer_reap(s);
	if (s->pidfd != -1)
		close(s->pidfd);
	gnutls_pubkey_deinit(s->pub);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

pid_t
signer_pid(const struct signer *s)
{
	return s->pid;
}

int
signer_fd(const struct signer *s)
{
	return s->fd;
}

void
signer_set_timeout(struct signer *s, unsigned int ms)
{
	pthread_mutex_lock(&s->lock);
	s->timeout_ms = ms == 0 ? SIGNER_TIMEOUT_MS : ms;
	pthread_mutex_unlock(&s->lock);
}

/* Fetches the public key and what GnuTLS asks of an external key. */
static int
signer_load_pubkey(struct signer *s)
{
	gnutls_datum_t der = { NULL, 0 };
	gnutls_digest_algorithm_t dig;
	int r;

	if ((r = signer_call(s, SIGNER_MSG_GET_PUBKEY, 0, NULL, 0, &der)) < 0)
		return r;
	if (gnutls_pubkey_init(&s->pub) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (der.size == 0 ||
	    gnutls_pubkey_import(s->pub, &der, GNUTLS_X509_FMT_DER) < 0) {
		r = -EBADMSG;
		goto out;
	}
	r = gnutls_pubkey_get_pk_algorithm(s->pub, &s->bits);
	if (r <= 0) {
		r = -EBADMSG;
		goto out;
	}
	s->pk = (gnutls_pk_algorithm_t)r;
	r = 0;
	if (gnutls_pubkey_get_preferred_hash_algorithm(s->pub, &dig,
	    NULL) >= 0)
		s->preferred = gnutls_pk_to_sign(s->pk, dig);
out:
	gnutls_free(der.data);
	return r;
}

int
signer_start(const char *keyfile, struct signer **out)
{
	gnutls_datum_t none = { NULL, 0 };
	struct signer *s;
	pid_t parent = getpid();
	int sv[2], r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->fd = -1;
	s->pidfd = -1;
	s->timeout_ms = SIGNER_TIMEOUT_MS;
	if ((r = pthread_mutex_init(&s->lock, NULL)) != 0) {
		free(s);
		return -r;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		r = -errno;
		log_warn("signer: socketpair");
		goto fail;
	}
	/* The child must not write out stdio buffers it inherits. */
	fflush(NULL);
	switch (s->pid = fork()) {
	case -1:
		r = -errno;
		log_warn("signer: fork");
		close(sv[0]);
		close(sv[1]);
		goto fail;
	case 0:
		close(sv[0]);
		signer_child(sv[1], keyfile, parent);
		/* NOTREACHED */
	default:
		break;
	}
	close(sv[1]);
	s->fd = sv[0];
	/* Kernels before 5.3 or a seccomp filter: fall back to the pid. */
	if ((s->pidfd = pidfd_open(s->pid, 0)) == -1)
		log_debug("signer: pidfd_open: %s", strerror(errno));

	r = signer_recv(s, SIGNER_MSG_READY,
	    signer_now_ms() + s->timeout_ms, &none);
	gnutls_free(none.data);
	if (r < 0) {
		log_warnx("signer: key %s: %s", keyfile, strerror(-r));
		goto fail;
	}
	if ((r = signer_load_pubkey(s)) < 0) {
		log_warnx("signer: public key of %s: %s", keyfile,
		    strerror(-r));
		goto fail;
	}
	log_info("signer: pid %ld holds %s (%s, %u bits)", (long)s->pid,
	    keyfile, gnutls_pk_get_name(s->pk), s->bits);
	*out = s;
	return 0;
fail:
	if (r == -ETIMEDOUT)
		signer_kill(s);
	signer_stop(s);
	return r;
}

int
signer_pubkey(const struct signer *s, gnutls_pubkey_t *out)
{
	gnutls_datum_t der = { NULL, 0 };
	gnutls_pubkey_t pub = NULL;
	int r = 0;

	*out = NULL;
	if (gnutls_pubkey_export2(s->pub, GNUTLS_X509_FMT_DER, &der) < 0)
		return -ENOMEM;
	if (gnutls_pubkey_init(&pub) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (gnutls_pubkey_import(pub, &der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_pubkey_deinit(pub);
		r = -EBADMSG;
		goto out;
	}
	*out = pub;
out:
	gnutls_free(der.data);
	return r;
}

bool
signer_matches_crt(const struct signer *s, gnutls_x509_crt_t crt)
{
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	gnutls_pubkey_t pub = NULL;
	bool same = false;

	if (gnutls_pubkey_init(&pub) < 0)
		return false;
	if (gnutls_pubkey_import_x509(pub, crt, 0) >= 0 &&
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a) >= 0 &&
	    gnutls_pubkey_export2(s->pub, GNUTLS_X509_FMT_DER, &b) >= 0)
		same = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
	gnutls_free(a.data);
	gnutls_free(b.data);
	gnutls_pubkey_deinit(pub);
	return same;
}

/* ---- GnuTLS external key ---------------------------------------------- */

static int
signer_ext_sign_data(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
    void *arg, unsigned int flags, const gnutls_datum_t *data,
    gnutls_datum_t *sig)
{
	(void)key;
	(void)flags;
	if (signer_sign_data(arg, algo, data->data, data->size, sig) < 0)
		return GNUTLS_E_PK_SIGN_FAILED;
	return 0;
}

static int
signer_ext_sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
    void *arg, unsigned int flags, const gnutls_datum_t *hash,
    gnutls_datum_t *sig)
{
	(void)key;
	(void)flags;
	if (signer_sign_hash(arg, algo, hash->data, hash->size, sig) < 0)
		return GNUTLS_E_PK_SIGN_FAILED;
	return 0;
}

static int
signer_ext_info(gnutls_privkey_t key, unsigned int flags, void *arg)
{
	const struct signer *s = arg;
	gnutls_sign_algorithm_t algo;

	(void)key;
	if ((flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO) != 0) {
		algo = (gnutls_sign_algorithm_t)
		    GNUTLS_FLAGS_TO_SIGN_ALGO(flags);
		return gnutls_sign_supports_pk_algorithm(algo, s->pk) ? 1 : 0;
	}
	switch (flags) {
	case GNUTLS_PRIVKEY_INFO_PK_ALGO:
		return (int)s->pk;
	case GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS:
		return (int)s->bits;
	case GNUTLS_PRIVKEY_INFO_SIGN_ALGO:
		return (int)s->preferred;
	default:
		return -1;
	}
}

int
signer_privkey(struct signer *s, gnutls_privkey_t *out)
{
	gnutls_privkey_t key = NULL;
	int rv;

	*out = NULL;
	if (gnutls_privkey_init(&key) < 0)
		return -ENOMEM;
	rv = gnutls_privkey_import_ext4(key, s, signer_ext_sign_data,
	    signer_ext_sign_hash, NULL, NULL, signer_ext_info, 0);
	if (rv < 0) {
		log_warnx("signer: external key: %s", gnutls_strerror(rv));
		gnutls_privkey_deinit(key);
		return -EINVAL;
	}
	*out = key;
	return 0;
}
