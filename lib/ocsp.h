/* ocsp.h -- certificate status: AS-signed RFC 6960 responses, checked. */
#ifndef NTM_OCSP_H
#define NTM_OCSP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

/*
 * Profile (DESIGN.md section 3, doc/PKI.md): responseStatus successful,
 * id-pkix-ocsp-basic, responderID byKey = SHA-1 of the AS CA's public key
 * bits, producedAt, exactly one SingleResponse with a SHA-1 CertID, good or
 * revoked (time and reason), thisUpdate and nextUpdate; signed by the AS CA
 * itself with ecdsa-with-SHA256 (sha256WithRSAEncryption for an RSA CA), no
 * certificates and no nonce (RFC 5019).
 */
/* responseType id-pkix-ocsp-basic (RFC 6960 4.2.1), dotted. */
#define OCSP_OID_BASIC	"1.3.6.1.5.5.7.48.1.1"

enum ocsp_limits {
	OCSP_VALIDITY_DEFAULT = 600,	/* seconds from thisUpdate */
	OCSP_VALIDITY_MAX = 3600,
	OCSP_SKEW = 300,		/* tolerated clock difference */
	OCSP_SHA1_LEN = 20,
	OCSP_SERIAL_MAX = 20,
};

enum ocsp_cert_status {
	OCSP_CERT_INVALID = 0,
	OCSP_CERT_GOOD,
	OCSP_CERT_REVOKED,
};

/*
 * CRLReason (RFC 5280 5.3.1).  0 is a wire value here, not "invalid":
 * unspecified is encoded by leaving the reason out, as RFC 5280 asks, and
 * an absent reason reads back as unspecified.
 */
enum ocsp_reason {
	OCSP_REASON_UNSPECIFIED = 0,
	OCSP_REASON_KEY_COMPROMISE = 1,
	OCSP_REASON_CA_COMPROMISE = 2,
	OCSP_REASON_AFFILIATION_CHANGED = 3,
	OCSP_REASON_SUPERSEDED = 4,
	OCSP_REASON_CESSATION_OF_OPERATION = 5,
	OCSP_REASON_CERTIFICATE_HOLD = 6,
	OCSP_REASON_REMOVE_FROM_CRL = 8,
	OCSP_REASON_PRIVILEGE_WITHDRAWN = 9,
	OCSP_REASON_AA_COMPROMISE = 10,
};

/* Errors; ocsp_strerror() describes them and negative errnos. */
enum ocsp_error {
	OCSP_E_FIRST = -1200,
	OCSP_E_REVOKED = OCSP_E_FIRST,	/* valid response: revoked */
	OCSP_E_PARSE,			/* not a DER OCSP response */
	OCSP_E_NOT_SUCCESSFUL,		/* responseStatus not 0 */
	OCSP_E_PROFILE,			/* not the profile (see above) */
	OCSP_E_SIGNATURE,		/* not signed by the AS CA */
	OCSP_E_CERT_MISMATCH,		/* CertID is another certificate */
	OCSP_E_UNKNOWN,			/* certStatus unknown */
	OCSP_E_NOT_YET_VALID,		/* thisUpdate > now + skew */
	OCSP_E_EXPIRED,			/* nextUpdate < now - skew */
	OCSP_E_STALE,			/* older than a response seen */
	OCSP_E_ENCODE,			/* libtasn1 failed to build */
	OCSP_E_SIGN,			/* the signing key failed */
	OCSP_E_LAST = OCSP_E_SIGN,
};

/* What the AS asserts about one certificate. */
struct ocsp_status {
	enum ocsp_cert_status	 status;
	time_t			 revocation_time; /* REVOKED only */
	enum ocsp_reason	 reason;	/* REVOKED only */
	time_t			 produced_at;
	time_t			 this_update;
	time_t			 next_update;
};

/* What a verified response says. */
struct ocsp_result {
	enum ocsp_cert_status	 status;
	time_t			 revocation_time;
	enum ocsp_reason	 reason;
	time_t			 this_update;
	time_t			 next_update;
};

/*
 * A signer for one issuing CA: the ASN.1 definitions and the CertID hashes
 * of that CA, computed once.  The issuer certificate is only read during
 * ocsp_signer_new.  Free with ocsp_signer_free (accepts NULL).
 */
struct ocsp_signer;

const char	*ocsp_strerror(int err);
/* RFC 5280 names: "keyCompromise", ...; "none" for other values. */
const char	*ocsp_reason_name(enum ocsp_reason);
int		 ocsp_reason_parse(const char *, enum ocsp_reason *);

int	 ocsp_signer_new(gnutls_x509_crt_t issuer, struct ocsp_signer **out);
void	 ocsp_signer_free(struct ocsp_signer *);
/* SHA-1 of the issuer's subjectPublicKey bits: responderID and CertID. */
const uint8_t *ocsp_signer_key_hash(const struct ocsp_signer *);

/*
 * Builds and signs the DER OCSPResponse for the certificate with this serial
 * (its raw INTEGER bytes as gnutls_x509_crt_get_serial gives them).  `key`
 * is the issuer's and may be external (gnutls_privkey_import_ext4).
 * out->data is the caller's (gnutls_free).
 */
int	 ocsp_sign(const struct ocsp_signer *, gnutls_privkey_t key,
	    const uint8_t *serial, size_t serial_len,
	    const struct ocsp_status *, gnutls_datum_t *out);

/*
 * Checks a DER response for `cert` issued by `issuer`: import, signature by
 * the issuer (gnutls_ocsp_resp_verify_direct), CertID
 * (gnutls_ocsp_resp_check_crt), then the dates against `now` with OCSP_SKEW
 * tolerated, refusing a thisUpdate older than `newest_seen` (0: none seen).
 * Returns 0 when good, OCSP_E_REVOKED when revoked (final, whatever the
 * dates), or another error.  *res is filled whenever the response parsed.
 */
int	 ocsp_verify(const gnutls_datum_t *der, gnutls_x509_crt_t issuer,
	    gnutls_x509_crt_t cert, time_t now, time_t newest_seen,
	    struct ocsp_result *res);

#endif
