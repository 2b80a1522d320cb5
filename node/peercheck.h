/* peercheck.h -- verification of a tunnel peer: certificate, stapled status, name, dates, virtual IPs; verified pairs cached by hash. */
#ifndef NTM_NODE_PEERCHECK_H
#define NTM_NODE_PEERCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "cert.h"
#include "proto.h"

/*
 * DESIGN.md 5.1 "the paper's four points plus one", PROTOCOL.md 8.3:
 *
 *   1. chain: the certificate chains to a trusted root through the AS
 *      intermediate, with exactly the role ntm-node;
 *   2. serial and status: the stapled OCSP response is signed by the AS
 *      intermediate, is about this certificate (and the serial the DC
 *      directed), says good, is within its dates, and is not older than
 *      the newest one already seen for that serial;
 *   3. FQDN: a SAN dNSName equals the name looked up or directed;
 *   4. validity dates, against the injected clock with 5 minutes of skew;
 *   +1 virtual IPs: the certificate's addresses are exactly the directed
 *      PEER_VIP4/PEER_VIP6 (each directed one present, none of a family
 *      the DC did not direct).
 *
 * Each failure has its own code (peercheck_strerror) and a log line that
 * names the peer and the check.  A revoked status is final: the serial is
 * refused from then on, whatever is stapled later.
 *
 * Verified (certificate, status) pairs are cached by (H(cert), H(status)):
 * a hit skips the signature work but still applies every date, the
 * newest-seen rule, the revocation list and the name and address checks,
 * which depend on the caller's expectation and clock.  Certificates are
 * kept by H(cert) as well, so a peer may send CERT_HASH instead of CERT and
 * an rsa initiator finds the responder's key.  Tables are small and bounded
 * (a node talks to few peers); the least recently used entry goes first.
 */

enum peercheck_err {
	PEERCHECK_E_FIRST = -1600,
	PEERCHECK_E_CERT_PARSE = PEERCHECK_E_FIRST, /* not a DER cert */
	PEERCHECK_E_CERT_UNKNOWN,	/* only a hash, not in the cache */
	PEERCHECK_E_CERT_HASH,		/* not the certificate directed */
	PEERCHECK_E_CHAIN,		/* no chain to our root via the AS */
	PEERCHECK_E_ROLE,		/* not exactly ntm-node */
	PEERCHECK_E_EXPIRED,		/* certificate past notAfter */
	PEERCHECK_E_NOT_YET_VALID,	/* certificate before notBefore */
	PEERCHECK_E_FQDN,		/* no SAN dNSName is the name */
	PEERCHECK_E_VIP,		/* addresses differ from directed */
	PEERCHECK_E_SERIAL,		/* serial is not the directed one */
	PEERCHECK_E_STATUS,		/* status unverifiable or not ours */
	PEERCHECK_E_STATUS_EXPIRED,	/* status outside its dates */
	PEERCHECK_E_REVOKED,		/* status says revoked (final) */
	PEERCHECK_E_STALE,		/* older than a status seen */
	PEERCHECK_E_LAST = PEERCHECK_E_STALE,
};

enum peercheck_limit {
	PEERCHECK_LIMIT_INVALID = 0,
	PEERCHECK_PAIRS_DEFAULT = 64,	/* verified (cert, status) pairs */
	PEERCHECK_CERTS_DEFAULT = 64,	/* certificates by hash */
	PEERCHECK_SERIALS_DEFAULT = 256, /* newest thisUpdate per serial */
	PEERCHECK_SKEW = PROTO_TIMER_CLOCK_SKEW_S,
};

struct peercheck_conf {
	const struct cert_trust	*trust;		/* borrowed */
	gnutls_x509_crt_t	 as_ca;		/* AS CA; borrowed */
	size_t			 pairs_max;	/* 0: default */
	size_t			 certs_max;
	size_t			 serials_max;
};

/* What the peer must be; pointers borrowed for the call. */
struct peercheck_expect {
	const char	*fqdn;			/* required */
	const uint8_t	*vip4;		/* 4 bytes, or NULL */
	const uint8_t	*vip6;		/* 16 bytes, or NULL */
	const uint8_t	*cert_hash;	/* PEER_CERT_HASH or NULL */
	const uint8_t	*serial;		/* PEER_SERIAL, or NULL */
	size_t		 serial_len;
};

struct peercheck_stats {
	uint64_t	verified;	/* full checks passed */
	uint64_t	cache_hits;	/* of which without signature work */
	uint64_t	refused[PEERCHECK_E_LAST - PEERCHECK_E_FIRST + 1];
};

struct peercheck;

const char	*peercheck_strerror(int err);
/* The status a Tunnel Response or NTM ACK carries for this error. */
enum proto_status peercheck_status(int err);

/* Returns 0 and *out (caller frees with peercheck_free), -EINVAL, -ENOMEM. */
int	 peercheck_new(struct peercheck **out,
	    const struct peercheck_conf *);
/*
 * The same without any cache of verification results: every call checks
 * the chain through GnuTLS (cert_verify) and the status (ocsp_verify)
 * from scratch.  The reference the cached path is tested and measured
 * against; ntmd does not use it.
 */
int	 peercheck_new_uncached(struct peercheck **out,
	    const struct peercheck_conf *);
void	 peercheck_free(struct peercheck *);

/*
 * peercheck_verify: every check above on a certificate (DER) and its
 * stapled status (DER) at time now.  On success the pair is cached and,
 * when pub is not NULL, *pub is the certificate's key (caller frees with
 * gnutls_pubkey_deinit).  Returns 0, a PEERCHECK_E_* code, or -ENOMEM.
 */
int	 peercheck_verify(struct peercheck *, const uint8_t *cert,
	    size_t cert_len, const uint8_t *status, size_t status_len,
	    const struct peercheck_expect *, time_t now, gnutls_pubkey_t *pub);
/*
 * The same, with *pub the key kept with the cached certificate: borrowed,
 * valid until the next call into this peercheck (the handshake checks
 * its signature with it at once), made once per certificate.
 */
int	 peercheck_verify_borrow(struct peercheck *, const uint8_t *cert,
	    size_t cert_len, const uint8_t *status, size_t status_len,
	    const struct peercheck_expect *, time_t now, gnutls_pubkey_t *pub);

/*
 * peercheck_status_check: the status alone, as soon as a Route Direction
 * brings it (before the certificate arrives): AS signature, one
 * SingleResponse for `serial`, good, dates, not older than the newest
 * seen, serial not revoked.  A verified response raises the newest
 * thisUpdate of its serial (a revoked one marks the serial revoked).
 * Returns 0 or a PEERCHECK_E_* code; `fqdn` only names the peer in logs.
 */
int	 peercheck_status_check(struct peercheck *, const char *fqdn,
	    const uint8_t *serial, size_t serial_len, const uint8_t *status,
	    size_t status_len, time_t now);

/*
 * thisUpdate and nextUpdate of a status (DER) this peercheck verified
 * before (in a pair or a status check), without parsing it again.
 * 0, or -ENOENT when these bytes are not known.
 */
int	 peercheck_status_times(struct peercheck *, const uint8_t *status,
	    size_t status_len, time_t *this_update, time_t *next_update);

/*
 * The certificate with this SHA-256, from the cache: *der borrowed until
 * the next peercheck call.  0 or -ENOENT.
 */
int	 peercheck_cert_find(struct peercheck *,
	    const uint8_t hash[PROTO_HASH_LEN], const uint8_t **der,
	    size_t *len);
/*
 * Keeps a certificate by hash without verifying it (it is verified when
 * used): a peer certificate learnt out of band, for rsa's first contact.
 * 0, PEERCHECK_E_CERT_PARSE, -ENOMEM.
 */
int	 peercheck_cert_add(struct peercheck *, const uint8_t *der,
	    size_t len);
/* The key of a cached certificate (caller frees).  0, -ENOENT, -ENOMEM. */
int	 peercheck_cert_pubkey(struct peercheck *,
	    const uint8_t hash[PROTO_HASH_LEN], gnutls_pubkey_t *pub);
/* Newest thisUpdate seen for a serial (0: none); true if it is revoked. */
time_t	 peercheck_newest(const struct peercheck *, const uint8_t *serial,
	    size_t serial_len, bool *revoked);
const struct peercheck_stats *peercheck_stats(const struct peercheck *);

#endif
