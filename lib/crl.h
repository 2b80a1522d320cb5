/* crl.h -- X.509 v2 CRL of revoked serials, signed by the AS CA, as PEM. */
#ifndef NTM_CRL_H
#define NTM_CRL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

enum crl_limits {
	CRL_SERIAL_MAX = 20,
	CRL_VALIDITY_DEFAULT = 86400,	/* nextUpdate - thisUpdate */
};

struct crl_entry {
	uint8_t		serial[CRL_SERIAL_MAX]; /* INTEGER bytes */
	size_t		serial_len;
	time_t		revoked_at;
};

/*
 * Builds a v2 CRL listing `n` entries, with thisUpdate/nextUpdate, a CRL
 * number and the issuer's key identifier, signed with SHA-256 by `key` (the
 * issuer's; may be external).  *out is the caller's (gnutls_x509_crl_deinit).
 * Returns 0, -EINVAL for bad arguments, or CERT_E_GNUTLS (cert.h).
 * Per-entry reason codes are not written: GnuTLS has no API for CRL entry
 * extensions; OCSP responses carry the reason.
 */
int	crl_build(const struct crl_entry *, size_t n,
	    gnutls_x509_crt_t issuer, gnutls_privkey_t key, uint64_t number,
	    time_t this_update, time_t next_update, gnutls_x509_crl_t *out);
/*
 * Writes the CRL as PEM (0644) to path.tmp, then renames it over path: a
 * reader sees the old file or the new one, whole; on failure the old stays.
 */
int	crl_write(const char *path, gnutls_x509_crl_t);

#endif
