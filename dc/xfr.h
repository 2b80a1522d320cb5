/* xfr.h -- zone transfers (AXFR, IXFR as full transfer), NOTIFY and TSIG, built with ldns. */
#ifndef NTM_DC_XFR_H
#define NTM_DC_XFR_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

struct zone;

enum xfr_limit {
	XFR_ACL_MAX = 32,
	XFR_NOTIFY_MAX = 16,
	XFR_KEY_NAME_MAX = 256,
	XFR_SECRET_MAX = 256,		/* base64 text */
	XFR_MSG_MAX = 16384,		/* AXFR message size before TSIG */
	XFR_TSIG_FUDGE = 300,		/* seconds */
	XFR_NOTIFY_RETRY_MS = 2000,
	XFR_NOTIFY_TRIES = 5,
};

struct xfr_acl_entry {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];
	unsigned	len;		/* prefix length */
};

/*
 * Transfer policy: a transfer (and any TSIG-signed query) needs a source
 * address in the ACL *and*, when a key is configured, a valid TSIG with it.
 * Only hmac-sha256 is accepted.  The secret is wiped by xfr_config_clear().
 */
struct xfr_config {
	struct xfr_acl_entry	 acl[XFR_ACL_MAX];
	size_t			 nacl;
	bool			 have_key;
	char			 key_name[XFR_KEY_NAME_MAX];	/* "xfr-key." */
	char			 key_secret[XFR_SECRET_MAX];	/* base64 */
	struct sockaddr_storage	 notify[XFR_NOTIFY_MAX];
	size_t			 nnotify;
};

/* The TSIG MAC of a message, kept to sign the answer (opaque, ldns). */
struct xfr_mac;

void	xfr_config_clear(struct xfr_config *);
/* Parses "addr" or "addr/len" into the ACL; -EINVAL or -ENOSPC. */
int	xfr_acl_add(struct xfr_config *, const char *text);
bool	xfr_acl_allows(const struct xfr_config *, const struct sockaddr *);

/*
 * xfr_tsig_verify: checks the TSIG that ends `wire` against the configured
 * key (ldns; the time check uses the system clock, ldns takes no `now`).
 * Returns 0 and the request MAC in *mac (caller frees with xfr_mac_free),
 * -ENOKEY when no key is configured or the message names another key, or
 * -EACCES for a bad signature or time.
 */
int	xfr_tsig_verify(const struct xfr_config *, const uint8_t *wire,
	    size_t len, struct xfr_mac **mac);
/*
 * xfr_tsig_sign: re-encodes the message in msg[0..*len) with a TSIG record
 * (cap bytes available), chained to `prior` (the request MAC, or the
 * previous message's MAC when timers_only for AXFR continuation).  The new
 * MAC goes to *next when next is not NULL (caller frees).
 */
int	xfr_tsig_sign(const struct xfr_config *, uint8_t *msg, size_t *len,
	    size_t cap, const struct xfr_mac *prior, bool timers_only,
	    struct xfr_mac **next);
void	xfr_mac_free(struct xfr_mac *);		/* accepts NULL */
/*
 * xfr_tsig_error: appends to the answer in msg[0..*len) the unsigned TSIG
 * record of a TSIG error (RFC 8945 5.3.2: the request's key, algorithm and
 * times, no MAC, `error`) and counts it in ARCOUNT.  Returns 0, -EINVAL
 * when the request's TSIG cannot be copied (compressed names), -ENOSPC.
 */
int	xfr_tsig_error(const uint8_t *query, size_t qlen,
	    const struct dns_query *q, uint16_t error, uint8_t *msg,
	    size_t *len, size_t cap);

/*
 * xfr_answer: the answer to an AXFR or IXFR query that came over TCP.
 * Checks the ACL and TSIG, then writes the whole transfer (first and last
 * record the SOA) as a sequence of TCP-framed messages (2-byte length
 * prefix each) into a buffer the caller frees (*out).  IXFR is answered
 * with a full AXFR-style transfer (no journal), or with the SOA alone when
 * the client's serial is not older than ours.  Refusals are one framed
 * message (REFUSED, NOTAUTH).  Updates srv->stats.  Returns 0 or -ENOMEM.
 */
int	xfr_answer(struct dns_server *srv, const struct dns_request *req,
	    uint8_t **out, size_t *outlen);

/*
 * xfr_notify_build: a NOTIFY (RFC 1996) for apex `idx` with the current
 * SOA, id `id`, TSIG-signed when a key is configured.
 */
int	xfr_notify_build(const struct zone *, int idx,
	    const struct xfr_config *, uint16_t id, uint8_t *out, size_t cap,
	    size_t *len);
/* True if `wire` is a NOTIFY response with id `id`. */
bool	xfr_notify_is_reply(const uint8_t *wire, size_t len, uint16_t id);

#endif
