/* status.h -- AS certificate status: signed OCSP responses refreshed at half-life, revocations, the CRL. */
#ifndef NTM_AS_STATUS_H
#define NTM_AS_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "ocsp.h"

struct db;
struct ocsp_signer;

/*
 * The AS signs one RFC 6960 response per certificate (lib/ocsp), keeps the
 * newest in status_responses and announces each new one in the notice outbox
 * in the same transaction: a refreshed "good" to the node's home DC
 * (OUTBOX_KIND_STATUS), a "revoked" to every DC (OUTBOX_KIND_REVOKED).
 *
 * Every function here signs through the issuer key (the signer process's
 * forwarded key, as/signer.h) and writes SQLite with synchronous=FULL: they
 * block, so the daemon runs them off the loop thread, one at a time.
 *
 * Times are unix seconds passed in (`now`); nothing reads the clock.
 */
enum status_limits {
	STATUS_LIMITS_INVALID = 0,
	STATUS_SERIAL_HEX = 32,			/* as schema/as.sql stores it */
	STATUS_VALIDITY_DEFAULT = OCSP_VALIDITY_DEFAULT,
	STATUS_VALIDITY_MIN = 60,
	STATUS_VALIDITY_MAX = OCSP_VALIDITY_MAX,
	STATUS_REFRESH_BATCH = 64,		/* responses per transaction */
	STATUS_CRL_VALIDITY = 86400,		/* nextUpdate of the CRL */
};

/*
 * What signs and where it goes; every pointer is borrowed and must outlive
 * the struct.  validity 0 means STATUS_VALIDITY_DEFAULT.  crl_path may be
 * NULL (no CRL file is written).
 */
struct status_ctx {
	struct db		*db;
	gnutls_x509_crt_t	 issuer;	/* the AS CA certificate */
	gnutls_privkey_t	 key;		/* its key (external) */
	struct ocsp_signer	*ocsp;		/* made from issuer */
	uint32_t		 validity;	/* seconds */
	const char		*crl_path;
};

/* Lower-case hex of serial bytes; out has room for 2 * len + 1. */
int	 status_serial_hex(const uint8_t *serial, size_t len, char *out,
	    size_t outlen);
int	 status_serial_parse(const char *hex, uint8_t *serial, size_t cap,
	    size_t *len);
/* The refresh moment of a response: thisUpdate + half the validity. */
time_t	 status_half_life(time_t this_update, time_t next_update);

/*
 * status_make: signs a response for `serial_hex` saying good (revoked
 * when a revocation row exists) with thisUpdate = now.  *der is the
 * caller's (gnutls_free).  Does not store it.
 */
int	 status_make(const struct status_ctx *, const char *serial_hex,
	    time_t now, gnutls_datum_t *der, struct ocsp_status *st);
/*
 * status_store: replaces the stored response of `serial_hex`.  Opens no
 * transaction: the caller puts it in the one that writes its notice.
 */
int	 status_store(struct db *, const char *serial_hex,
	    const struct ocsp_status *, const gnutls_datum_t *der);
/*
 * status_get: the stored response (caller's, gnutls_free) and its dates;
 * -ENOENT when none is stored.
 */
int	 status_get(struct db *, const char *serial_hex, gnutls_datum_t *der,
	    time_t *this_update, time_t *next_update);

/*
 * status_refresh: re-signs every response of a live certificate (not
 * expired, not revoked) whose half-life has passed, or that has none, at
 * most `max` of them (0: STATUS_REFRESH_BATCH), each stored with its
 * OUTBOX_KIND_STATUS notice for the certificate's home DC in one
 * transaction per response.  Returns how many were refreshed, or a
 * negative errno (those done before the failure stay committed).
 */
int	 status_refresh(const struct status_ctx *, time_t now, size_t max);
/*
 * status_next_due: when status_refresh() has work next: *when = the
 * earliest half-life of a live certificate's response (now or earlier when
 * one is overdue or missing).  Returns 1 with *when, 0 when there is no
 * live certificate.
 */
int	 status_next_due(struct db *, time_t now, time_t *when);

/*
 * status_revoke: revokes the certificate `serial_hex`: the revocation row,
 * the signed "revoked" response and its OUTBOX_ALL notice commit together,
 * then the CRL is rewritten (when crl_path is set).  -ENOENT for an unknown
 * serial, -EALREADY when it is already revoked (revocation is final: the
 * first time and reason stay).  *seq (may be NULL) receives the notice seq.
 */
int	 status_revoke(const struct status_ctx *, const char *serial_hex,
	    enum ocsp_reason, time_t now, uint64_t *seq);
/*
 * status_revoke_fqdn: revokes every live (unexpired, unrevoked)
 * certificate of `fqdn`.  Returns how many were revoked (0: none live), or
 * a negative errno.
 */
int	 status_revoke_fqdn(const struct status_ctx *, const char *fqdn,
	    enum ocsp_reason, time_t now);
/* 1 when `serial_hex` is revoked, 0 when not, negative errno on failure. */
int	 status_is_revoked(struct db *, const char *serial_hex);

/*
 * status_crl_write: builds the v2 CRL of every revocation of a certificate
 * that has not expired, thisUpdate = now, CRL number = now (so numbers
 * grow across rewrites and restarts as long as the clock does), signed,
 * written as PEM to crl_path (replacing it).  0 when crl_path is NULL.
 */
int	 status_crl_write(const struct status_ctx *, time_t now);

#endif
