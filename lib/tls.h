/* tls.h -- TLS 1.3 server channels on libuv, role-checked, framed. */
#ifndef NTM_TLS_H
#define NTM_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#include <uv.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "cert.h"
#include "loop.h"
#include "proto.h"

/*
 * DESIGN.md section 3 "Server channels" and PROTOCOL.md section 12: AS->DC,
 * DC<->DC, DC->RS and node->AS run TLS 1.3 only, ALPN "ntmobile/1", on
 * persistent connections.  GnuTLS runs over a uv_tcp_t through its own
 * transport functions: ciphertext from uv_read is fed to GnuTLS, which gets
 * EAGAIN once it is used up; ciphertext from GnuTLS goes out through
 * uv_write.  Nothing blocks the loop.
 *
 * Peers are checked by a verify callback of the caller (it knows which role
 * and names it expects); tls_verify_cert() is the usual one, built on
 * cert_verify(): chain to the trust store through the AS CA, dates against
 * the injected clock, exactly the expected role, the expected name.
 *
 * The byte stream inside TLS is cut into frames, one per message:
 *
 *   TLS_FRAMING_MSG    PROTOCOL.md 12.1: common-header messages, the size
 *                      read from the 36-byte header (msg_frame_len()).
 *                      tls_send() takes a whole encoded message and sends
 *                      it as is; on_frame gets whole messages.  A header
 *                      error loses the framing and closes the connection.
 *   TLS_FRAMING_LEN32  a 4-byte big-endian length, then that many bytes.
 *                      tls_send() adds the length; on_frame gets the bytes
 *                      after it.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                      length (LEN32 only)                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          message bytes (length of them) ...                   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * A frame above the receiver's frame_max closes the connection with a log
 * line naming the peer (TLS_E_FRAME_TOO_BIG).
 */
#define TLS_PRIORITY	"NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define TLS_ALPN	"ntmobile/1"

enum tls_limit {
	TLS_LIMIT_INVALID = 0,
	TLS_LEN32_HEADER = 4,
	TLS_LEN32_FRAME_MAX = 65536,	/* default payload limit, LEN32 */
	TLS_MSG_FRAME_MAX = PROTO_TLS_MESSAGE_MAX, /* default, MSG */
	TLS_QUEUE_MAX = 1 << 20,	/* default: ciphertext bytes queued */
	TLS_HANDSHAKE_TIMEOUT_MS = 10000,
	TLS_BACKOFF_MIN_MS = 100,	/* reconnect delay, doubling ... */
	TLS_BACKOFF_MAX_MS = 10000,	/* ... up to this */
	TLS_LINGER_MS = 1000,		/* flushing the last bytes on close */
	TLS_READ_CHUNK = 16384,
	TLS_CHAIN_MAX = 8,		/* certificates accepted from a peer */
	TLS_CONNS_MAX = 1024,		/* default: connections per listener */
};

/*
 * Errors of this module.  A close reason is 0 (closed cleanly by either
 * side), one of these, a CERT_E_* from the verifier, or a negative errno
 * (libuv's: -ECONNREFUSED, -ECONNRESET, -ETIMEDOUT, -ECANCELED ...).
 */
enum tls_error {
	TLS_E_FIRST = -1300,
	TLS_E_HANDSHAKE = TLS_E_FIRST,	/* GnuTLS handshake failure */
	TLS_E_ALERT,			/* the peer sent a fatal alert */
	TLS_E_NO_CERT,			/* no certificate where required */
	TLS_E_ALPN,			/* ALPN other than ours */
	TLS_E_FRAME_TOO_BIG,		/* frame above frame_max */
	TLS_E_FRAMING,			/* message header error (MSG) */
	TLS_E_RECORD,			/* GnuTLS record layer failure */
	TLS_E_CREDS,			/* credentials unusable */
	TLS_E_LAST = TLS_E_CREDS,
};

enum tls_framing {
	TLS_FRAMING_INVALID = 0,	/* in a config: TLS_FRAMING_MSG */
	TLS_FRAMING_MSG,
	TLS_FRAMING_LEN32,
};

enum tls_client_auth {
	TLS_CLIENT_AUTH_INVALID = 0,	/* in a config: REQUIRE */
	TLS_CLIENT_AUTH_REQUIRE,	/* mutual TLS */
	TLS_CLIENT_AUTH_OPTIONAL,	/* node -> AS: first enrollment */
};

struct tls_creds;
struct tls_conn;
struct tls_listener;
struct tls_client;

/* Who is at the other end, as its verified certificate says. */
struct tls_peer {
	enum cert_role		 role;	/* INVALID: it sent no certificate */
	char			 fqdn[CERT_FQDN_MAX + 1]; /* 1st SAN dNSName */
	/* The verified leaf, borrowed for the connection's life (NULL
	 * without); cert_has_dns(crt, zone) checks a DC's other zones. */
	gnutls_x509_crt_t	 crt;
	char			 addr[LOOP_ADDRSTRLEN];	/* address:port */
};

/*
 * Peer verification: chain[0] is the peer's leaf, the rest what it sent
 * after it (n >= 1).  Returns 0 to accept, or a negative code (CERT_E_*)
 * that becomes the close reason.  Called on the loop thread during the
 * handshake, with `now` from the config's clock.
 */
typedef int	(*tls_verify_fn)(void *ctx, const gnutls_x509_crt_t *chain,
		    size_t n, time_t now);
typedef time_t	(*tls_clock_fn)(void *arg);

/*
 * Connection events, all on the loop thread.  on_connected: the handshake
 * is done and the peer verified (peer borrowed for the connection's life).
 * on_frame: one frame, bytes borrowed for the call.  on_closed: exactly
 * once for every connection, connected or not, when its memory is about to
 * be freed (do not use the conn afterwards).  on_drain (optional): the
 * queue went below half of queue_max after tls_send() said -ENOBUFS.
 * Any of them may call tls_send() and tls_close() on that conn.
 *
 * TLS 1.3 ends the client's handshake before the server has checked the
 * client certificate: a client refused by the server gets on_connected and
 * then on_closed with TLS_E_ALERT.  So a client learns it was accepted from
 * the first answer, not from on_connected.  Servers never report a peer
 * they refused.
 */
typedef void	(*tls_connected_fn)(struct tls_conn *, const struct tls_peer *,
		    void *arg);
typedef void	(*tls_frame_fn)(struct tls_conn *, const uint8_t *, size_t,
		    void *arg);
typedef void	(*tls_closed_fn)(struct tls_conn *, int reason, void *arg);
typedef void	(*tls_drain_fn)(struct tls_conn *, void *arg);

/*
 * Settings of one listener or one client link; copied by tls_listen() and
 * tls_client_new().  Pointers inside are borrowed and must outlive it.
 * Zero means the default everywhere.
 */
struct tls_config {
	struct tls_creds	*creds;		/* own chain + key; required */
	tls_verify_fn		 verify;	/* required */
	void			*verify_ctx;	/* e.g. a struct tls_expect */
	tls_clock_fn		 clock;		/* NULL: time(NULL) */
	void			*clock_arg;
	enum tls_client_auth	 client_auth;	/* listeners only */
	enum tls_framing	 framing;
	const char		*alpn;		/* NULL: TLS_ALPN */
	size_t			 frame_max;	/* bytes; see the framing */
	size_t			 queue_max;	/* TLS_QUEUE_MAX */
	size_t			 conns_max;	/* listeners: TLS_CONNS_MAX */
	uint32_t		 handshake_timeout_ms;
	/* Close after this long without a byte from the peer; 0: never. */
	uint32_t		 idle_timeout_ms;
	uint32_t		 backoff_min_ms; /* clients only */
	uint32_t		 backoff_max_ms;
	struct ntm_rng		*rng;		/* jitter; NULL: rng_system() */
	const char		*name;		/* channel name in log lines */
	tls_connected_fn	 on_connected;
	tls_frame_fn		 on_frame;
	tls_closed_fn		 on_closed;
	tls_drain_fn		 on_drain;
	void			*arg;		/* given to the callbacks */
};

const char	*tls_strerror(int err);

/* Counters of one listener or client link, for ntmctl. */
struct tls_stats {
	uint64_t	 connects;	/* TCP connections accepted or made */
	uint64_t	 established;	/* handshake done, peer verified */
	uint64_t	 refused;	/* peer certificate refused */
	uint64_t	 failed;	/* other failures before established */
	uint64_t	 frame_errors;	/* oversized or malformed frames */
	uint64_t	 frames_in;
	uint64_t	 frames_out;
	uint64_t	 nobufs;	/* tls_send() said -ENOBUFS */
};

/*
 * Credentials: the trust store (roots) and this server's own chain and key.
 * One creds may serve any number of listeners and clients and must outlive
 * them.  tls_creds_free() accepts NULL.
 */
int	tls_creds_new(struct tls_creds **out);
void	tls_creds_free(struct tls_creds *);
/* Roots from a PEM file (one or more), or copied from the caller's. */
int	tls_creds_load_trust(struct tls_creds *, const char *ca_path);
int	tls_creds_set_trust(struct tls_creds *, const gnutls_x509_crt_t *roots,
	    size_t n);
/*
 * Own chain (leaf first, then the AS CA) from a PEM file and the key
 * through cert_key_read(), which refuses a key file readable by group or
 * others (CERT_E_KEY_PERMS).  tls_creds_set_key() takes the chain (copied)
 * and a key of the caller's, e.g. an external one from the AS signer
 * process; the key belongs to the creds on success, to the caller on
 * failure.  One own certificate per creds (-EEXIST for a second).
 */
int	tls_creds_load_key(struct tls_creds *, const char *chain_path,
	    const char *key_path);
int	tls_creds_set_key(struct tls_creds *, const gnutls_x509_crt_t *chain,
	    size_t n, gnutls_privkey_t key);
/* Both at once, as a daemon's configuration names the three files. */
int	tls_creds_load(struct tls_creds *, const char *ca_path,
	    const char *chain_path, const char *key_path);
/* Borrowed from the creds; NULL before they are set. */
const struct cert_trust *tls_creds_trust(const struct tls_creds *);
/* The second certificate of the own chain (the AS CA), or NULL. */
gnutls_x509_crt_t tls_creds_issuer(const struct tls_creds *);

/*
 * The usual verifier (ctx: struct tls_expect, borrowed): cert_verify() of
 * chain[0] with the AS CA the peer sent after it (or `intermediate` when it
 * sent none), against `trust`, at `now`, expecting exactly `role` and, when
 * `name` is set, that SAN dNSName.  So a node certificate is refused where
 * a DC is expected, whatever else is right about it.
 */
struct tls_expect {
	const struct cert_trust	*trust;
	gnutls_x509_crt_t	 intermediate;	/* may be NULL */
	enum cert_role		 role;
	const char		*name;		/* may be NULL */
};

int	tls_verify_cert(void *expect, const gnutls_x509_crt_t *chain,
	    size_t n, time_t now);

/*
 * Server side.  Listens on sa (port 0: any; tls_listener_addr() tells
 * which).  A connection beyond conns_max is closed at once (-EBUSY).
 * tls_listener_free() stops accepting and closes every one of its
 * connections (their on_closed runs with -ECANCELED, or 0 when they were
 * open and said bye); the memory goes in the last close callback.
 */
int	tls_listen(uv_loop_t *, const struct tls_config *,
	    const struct sockaddr *sa, struct tls_listener **out);
int	tls_listener_addr(const struct tls_listener *,
	    struct sockaddr_storage *);
void	tls_listener_free(struct tls_listener *);
const struct tls_stats *tls_listener_stats(const struct tls_listener *);

/*
 * Client side: a persistent link to one server.  It connects at once and,
 * whenever the connection is lost or fails, again after a delay that starts
 * at backoff_min_ms, doubles up to backoff_max_ms and is drawn uniformly
 * from [delay/2, delay] (jitter); a completed handshake resets it.  The
 * handshake must finish within handshake_timeout_ms.
 * tls_client_conn() is the open connection or NULL; tls_client_send() sends
 * on it (-ENOTCONN without).  tls_client_free() closes and stops retrying;
 * the memory goes in the last close callback.
 */
int	tls_client_new(uv_loop_t *, const struct tls_config *,
	    const struct sockaddr *sa, struct tls_client **out);
struct tls_conn *tls_client_conn(const struct tls_client *);
int	tls_client_send(struct tls_client *, const void *, size_t);
void	tls_client_free(struct tls_client *);
const struct tls_stats *tls_client_stats(const struct tls_client *);
/* The next reconnect delay for a backoff of delay_ms: [delay/2, delay]. */
uint32_t tls_backoff_jitter(uint32_t delay_ms, struct ntm_rng *);

/*
 * Queues one frame.  Returns 0; -ENOTCONN before the handshake is done or
 * once closing; -EMSGSIZE above frame_max; -EINVAL (MSG framing) when the
 * bytes are not exactly one well-formed message; -ENOBUFS when the queue
 * would pass queue_max: nothing is queued, the connection stays up, and
 * on_drain says when to try again.  Completed writes free themselves.
 */
int	tls_send(struct tls_conn *, const void *, size_t);
/*
 * Closes cleanly: close_notify, flush what is queued (at most
 * TLS_LINGER_MS), close.  on_closed follows with reason 0.  Idempotent.
 */
void	tls_close(struct tls_conn *);
const struct tls_peer *tls_conn_peer(const struct tls_conn *);
/* Ciphertext bytes queued and not yet written. */
size_t	tls_conn_queued(const struct tls_conn *);
void	tls_conn_set_user(struct tls_conn *, void *);
void	*tls_conn_user(const struct tls_conn *);

#endif
