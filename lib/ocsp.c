/* ocsp.c -- certificate status: AS-signed RFC 6960 responses, checked. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <gnutls/ocsp.h>
#include <libtasn1.h>

#include "cert.h"
#include "log.h"
#include "ocsp.h"

/* Generated from ocsp.asn by asn1Parser (lib/pki.mk). */
extern const asn1_static_node ocsp_asn1_tab[];

/* SHA-1 (id-pkix-ocsp-basic is in ocsp.h) */
#define OCSP_OID_SHA1	"1.3.14.3.2.26"

static const uint8_t ocsp_der_null[] = { 0x05, 0x00 };

struct ocsp_signer {
	asn1_node	defs;
	uint8_t		name_hash[OCSP_SHA1_LEN];
	uint8_t		key_hash[OCSP_SHA1_LEN];
};

static const char *const ocsp_errors[] = {
	[OCSP_E_REVOKED - OCSP_E_FIRST] = "certificate is revoked",
	[OCSP_E_PARSE - OCSP_E_FIRST] = "status response does not parse",
	[OCSP_E_NOT_SUCCESSFUL - OCSP_E_FIRST] =
	    "status response is not successful",
	[OCSP_E_PROFILE - OCSP_E_FIRST] =
	    "status response is not of the ntmobile profile",
	[OCSP_E_SIGNATURE - OCSP_E_FIRST] =
	    "status response is not signed by the issuing CA",
	[OCSP_E_CERT_MISMATCH - OCSP_E_FIRST] =
	    "status response is for another certificate",
	[OCSP_E_UNKNOWN - OCSP_E_FIRST] = "certificate status is unknown",
	[OCSP_E_NOT_YET_VALID - OCSP_E_FIRST] =
	    "status response is not yet valid (thisUpdate in the future)",
	[OCSP_E_EXPIRED - OCSP_E_FIRST] =
	    "status response has expired (nextUpdate passed)",
	[OCSP_E_STALE - OCSP_E_FIRST] =
	    "status response is older than one already seen",
	[OCSP_E_ENCODE - OCSP_E_FIRST] = "status response encoding failed",
	[OCSP_E_SIGN - OCSP_E_FIRST] = "status response signing failed",
};

static const struct {
	enum ocsp_reason	 reason;
	const char		*name;
} ocsp_reasons[] = {
	{ OCSP_REASON_UNSPECIFIED, "unspecified" },
	{ OCSP_REASON_KEY_COMPROMISE, "keyCompromise" },
	{ OCSP_REASON_CA_COMPROMISE, "cACompromise" },
	{ OCSP_REASON_AFFILIATION_CHANGED, "affiliationChanged" },
	{ OCSP_REASON_SUPERSEDED, "superseded" },
	{ OCSP_REASON_CESSATION_OF_OPERATION, "cessationOfOperation" },
	{ OCSP_REASON_CERTIFICATE_HOLD, "certificateHold" },
	{ OCSP_REASON_REMOVE_FROM_CRL, "removeFromCRL" },
	{ OCSP_REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn" },
	{ OCSP_REASON_AA_COMPROMISE, "aACompromise" },
};

const char *
ocsp_strerror(int err)
{
	if (err >= OCSP_E_FIRST && err <= OCSP_E_LAST)
		return ocsp_errors[err - OCSP_E_FIRST];
	if (err < 0)
		return strerror(-err);
	return "success";
}

const char *
ocsp_reason_name(enum ocsp_reason r)
{
	size_t i;

	for (i = 0; i < sizeof(ocsp_reasons) / sizeof(ocsp_reasons[0]); i++)
		if (ocsp_reasons[i].reason == r)
			return ocsp_reasons[i].name;
	return "none";
}

int
ocsp_reason_parse(const char *s, enum ocsp_reason *r)
{
	size_t i;

	for (i = 0; i < sizeof(ocsp_reasons) / sizeof(ocsp_reasons[0]); i++)
		if (strcasecmp(s, ocsp_reasons[i].name) == 0) {
			*r = ocsp_reasons[i].reason;
			return 0;
		}
	return -EINVAL;
}

/* DER of one element (or a subtree) into a gnutls-allocated datum. */
static int
ocsp_der(asn1_node node, const char *name, gnutls_datum_t *out)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	int len = 0, rv;

	out->data = NULL;
	out->size = 0;
	rv = asn1_der_coding(node, name, NULL, &len, err);
	if (rv != ASN1_MEM_ERROR || len <= 0) {
		log_debug("ocsp: encoding %s: %s", name, err);
		return OCSP_E_ENCODE;
	}
	if ((out->data = gnutls_malloc((size_t)len)) == NULL)
		return -ENOMEM;
	if (asn1_der_coding(node, name, out->data, &len, err) !=
	    ASN1_SUCCESS) {
		log_debug("ocsp: encoding %s: %s", name, err);
		gnutls_free(out->data);
		out->data = NULL;
		return OCSP_E_ENCODE;
	}
	out->size = (unsigned int)len;
	return 0;
}

/* SHA-1 of the issuer's subject DN and of its subjectPublicKey bits. */
static int
ocsp_issuer_hashes(struct ocsp_signer *s, gnutls_x509_crt_t issuer)
{
	gnutls_datum_t dn = { NULL, 0 };
	gnutls_pubkey_t pub = NULL;
	int rv = OCSP_E_ENCODE;

	if (gnutls_x509_crt_get_raw_dn(issuer, &dn) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA1, dn.data, dn.size,
	    s->name_hash) < 0)
		goto out;
	if (gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_x509(pub, issuer, 0) < 0 ||
	    cert_pubkey_hash(pub, s->key_hash) < 0)
		goto out;
	rv = 0;
out:
	gnutls_pubkey_deinit(pub);
	gnutls_free(dn.data);
	return rv;
}

int
ocsp_signer_new(gnutls_x509_crt_t issuer, struct ocsp_signer **out)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	struct ocsp_signer *s;
	int rv;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	if (asn1_array2tree(ocsp_asn1_tab, &s->defs, err) != ASN1_SUCCESS) {
		log_warnx("ocsp: ASN.1 definitions: %s", err);
		free(s);
		return OCSP_E_ENCODE;
	}
	if ((rv = ocsp_issuer_hashes(s, issuer)) < 0) {
		ocsp_signer_free(s);
		return rv;
	}
	*out = s;
	return 0;
}

void
ocsp_signer_free(struct ocsp_signer *s)
{
	if (s == NULL)
		return;
	asn1_delete_structure(&s->defs);
	free(s);
}

const uint8_t *
ocsp_signer_key_hash(const struct ocsp_signer *s)
{
	return s->key_hash;
}

/* GeneralizedTime in UTC, seconds precision, as DER requires. */
static int
ocsp_time(time_t t, char buf[16])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 16, "%Y%m%d%H%M%SZ", &tm) != 15)
		return OCSP_E_ENCODE;
	return 0;
}

static int
ocsp_write(asn1_node node, const char *name, const void *val, int len)
{
	if (asn1_write_value(node, name, val, len) != ASN1_SUCCESS) {
		log_debug("ocsp: cannot write %s", name);
		return OCSP_E_ENCODE;
	}
	return 0;
}

static int
ocsp_write_time(asn1_node node, const char *name, time_t t)
{
	char buf[16];
	int rv;

	if ((rv = ocsp_time(t, buf)) < 0)
		return rv;
	return ocsp_write(node, name, buf, 15);
}

/* The name of a field of the one SingleResponse. */
static const char *
ocsp_sr_name(char *buf, size_t len, const char *field)
{
	snprintf(buf, len, "tbsResponseData.responses.?1.%s", field);
	return buf;
}

/* tbsResponseData of a BasicOCSPResponse for one certificate. */
static int
ocsp_fill_tbs(const struct ocsp_signer *s, asn1_node basic,
    const uint8_t *serial, size_t serial_len, const struct ocsp_status *st)
{
	char name[96];
	int rv;

	/* Each write can fail only on a bug here; stop at the first. */
#define OCSP_W(n, v, l) do {						\
	if ((rv = ocsp_write(basic, (n), (v), (l))) < 0)		\
		return rv;						\
} while (0)
#define OCSP_SR(field)	ocsp_sr_name(name, sizeof(name), (field))

	/* version: DEFAULT v1, left unwritten so DER omits it. */
	OCSP_W("tbsResponseData.responderID", "byKey", 1);
	OCSP_W("tbsResponseData.responderID.byKey", s->key_hash,
	    OCSP_SHA1_LEN);
	if ((rv = ocsp_write_time(basic, "tbsResponseData.producedAt",
	    st->produced_at)) < 0)
		return rv;
	OCSP_W("tbsResponseData.responses", "NEW", 1);
	OCSP_W(OCSP_SR("certID.hashAlgorithm.algorithm"), OCSP_OID_SHA1, 1);
	OCSP_W(OCSP_SR("certID.hashAlgorithm.parameters"), ocsp_der_null,
	    (int)sizeof(ocsp_der_null));
	OCSP_W(OCSP_SR("certID.issuerNameHash"), s->name_hash, OCSP_SHA1_LEN);
	OCSP_W(OCSP_SR("certID.issuerKeyHash"), s->key_hash, OCSP_SHA1_LEN);
	OCSP_W(OCSP_SR("certID.serialNumber"), serial, (int)serial_len);
	if (st->status == OCSP_CERT_GOOD) {
		OCSP_W(OCSP_SR("certStatus"), "good", 1);
	} else {
		OCSP_W(OCSP_SR("certStatus"), "revoked", 1);
		if ((rv = ocsp_write_time(basic,
		    OCSP_SR("certStatus.revoked.revocationTime"),
		    st->revocation_time)) < 0)
			return rv;
		if (st->reason == OCSP_REASON_UNSPECIFIED) {
			OCSP_W(OCSP_SR("certStatus.revoked.revocationReason"),
			    NULL, 0);
		} else {
			char r[8];

			snprintf(r, sizeof(r), "%d", (int)st->reason);
			OCSP_W(OCSP_SR("certStatus.revoked.revocationReason"),
			    r, 0);
		}
	}
	if ((rv = ocsp_write_time(basic, OCSP_SR("thisUpdate"),
	    st->this_update)) < 0 || (rv = ocsp_write_time(basic,
	    OCSP_SR("nextUpdate"), st->next_update)) < 0)
		return rv;
	OCSP_W(OCSP_SR("singleExtensions"), NULL, 0);
	OCSP_W("tbsResponseData.responseExtensions", NULL, 0);
#undef OCSP_SR
#undef OCSP_W
	return 0;
}

static int
ocsp_status_check(const struct ocsp_status *st, size_t serial_len)
{
	if (serial_len == 0 || serial_len > OCSP_SERIAL_MAX)
		return -EINVAL;
	if (st->status != OCSP_CERT_GOOD && st->status != OCSP_CERT_REVOKED)
		return -EINVAL;
	if (st->next_update <= st->this_update ||
	    st->next_update - st->this_update > OCSP_VALIDITY_MAX)
		return -EINVAL;
	/* A reason must be one of RFC 5280's. */
	if (st->status == OCSP_CERT_REVOKED &&
	    strcmp(ocsp_reason_name(st->reason), "none") == 0)
		return -EINVAL;
	return 0;
}

int
ocsp_sign(const struct ocsp_signer *s, gnutls_privkey_t key,
    const uint8_t *serial, size_t serial_len, const struct ocsp_status *st,
    gnutls_datum_t *out)
{
	asn1_node basic = NULL, resp = NULL;
	gnutls_datum_t tbs = { NULL, 0 }, sig = { NULL, 0 };
	gnutls_datum_t bder = { NULL, 0 };
	gnutls_sign_algorithm_t salg;
	const char *soid;
	int rv;

	out->data = NULL;
	out->size = 0;
	if ((rv = ocsp_status_check(st, serial_len)) < 0)
		return rv;
	switch (gnutls_privkey_get_pk_algorithm(key, NULL)) {
	case GNUTLS_PK_ECDSA:
		salg = GNUTLS_SIGN_ECDSA_SHA256;
		break;
	case GNUTLS_PK_RSA:
		salg = GNUTLS_SIGN_RSA_SHA256;
		break;
	default:
		return OCSP_E_SIGN;
	}
	if ((soid = gnutls_sign_get_oid(salg)) == NULL)
		return OCSP_E_SIGN;
	if (asn1_create_element(s->defs, "NTM-OCSP.BasicOCSPResponse",
	    &basic) != ASN1_SUCCESS ||
	    asn1_create_element(s->defs, "NTM-OCSP.OCSPResponse", &resp) !=
	    ASN1_SUCCESS) {
		rv = OCSP_E_ENCODE;
		goto out;
	}
	if ((rv = ocsp_fill_tbs(s, basic, serial, serial_len, st)) < 0 ||
	    (rv = ocsp_der(basic, "tbsResponseData", &tbs)) < 0)
		goto out;
	if ((rv = gnutls_privkey_sign_data2(key, salg, 0, &tbs, &sig)) < 0) {
		log_debug("ocsp: signing: %s", gnutls_strerror(rv));
		rv = OCSP_E_SIGN;
		goto out;
	}
	/* ECDSA: parameters absent (RFC 5758); RSA: NULL. */
	if ((rv = ocsp_write(basic, "signatureAlgorithm.algorithm", soid,
	    1)) < 0 || (rv = ocsp_write(basic, "signatureAlgorithm.parameters",
	    salg == GNUTLS_SIGN_RSA_SHA256 ? ocsp_der_null : NULL,
	    salg == GNUTLS_SIGN_RSA_SHA256 ? (int)sizeof(ocsp_der_null) :
	    0)) < 0 || (rv = ocsp_write(basic, "signature", sig.data,
	    (int)sig.size * 8)) < 0 || (rv = ocsp_der(basic, "", &bder)) < 0)
		goto out;
	if ((rv = ocsp_write(resp, "responseStatus", "successful", 0)) < 0 ||
	    (rv = ocsp_write(resp, "responseBytes.responseType",
	    OCSP_OID_BASIC, 1)) < 0 || (rv = ocsp_write(resp,
	    "responseBytes.response", bder.data, (int)bder.size)) < 0 ||
	    (rv = ocsp_der(resp, "", out)) < 0)
		goto out;
out:
	gnutls_free(bder.data);
	gnutls_free(sig.data);
	gnutls_free(tbs.data);
	asn1_delete_structure(&resp);
	asn1_delete_structure(&basic);
	return rv;
}

/* ---- verification ---- */

int
ocsp_verify(const gnutls_datum_t *der, gnutls_x509_crt_t issuer,
    gnutls_x509_crt_t cert, time_t now, time_t newest_seen,
    struct ocsp_result *res)
{
	gnutls_ocsp_resp_t resp = NULL;
	gnutls_datum_t oid = { NULL, 0 };
	unsigned int verify = 0;
	unsigned int cstatus = 0;
	time_t this_update, next_update, rtime;
	unsigned int reason = 0;
	int rv;

	memset(res, 0, sizeof(*res));
	res->reason = OCSP_REASON_UNSPECIFIED;
	if (gnutls_ocsp_resp_init(&resp) < 0)
		return -ENOMEM;
	if (gnutls_ocsp_resp_import(resp, der) < 0) {
		rv = OCSP_E_PARSE;
		goto out;
	}
	if (gnutls_ocsp_resp_get_status(resp) != GNUTLS_OCSP_RESP_SUCCESSFUL) {
		rv = OCSP_E_NOT_SUCCESSFUL;
		goto out;
	}
	/* The OID as a dotted string, with or without its NUL counted. */
	if (gnutls_ocsp_resp_get_response(resp, &oid, NULL) < 0 ||
	    oid.data == NULL || oid.size < strlen(OCSP_OID_BASIC) ||
	    oid.size > strlen(OCSP_OID_BASIC) + 1 ||
	    strncmp((char *)oid.data, OCSP_OID_BASIC, oid.size) != 0) {
		rv = OCSP_E_PROFILE;
		goto out;
	}
	if (gnutls_ocsp_resp_verify_direct(resp, issuer, &verify, 0) < 0 ||
	    verify != 0) {
		rv = OCSP_E_SIGNATURE;
		goto out;
	}
	/*
	 * Exactly one SingleResponse, and it is about this certificate.  The
	 * probe asks for a field: with every output NULL GnuTLS reads nothing
	 * and reports success for any index.
	 */
	if (gnutls_ocsp_resp_get_single(resp, 1, NULL, NULL, NULL, NULL,
	    &cstatus, NULL, NULL, NULL, NULL) !=
	    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		rv = OCSP_E_PROFILE;
		goto out;
	}
	if (gnutls_ocsp_resp_check_crt(resp, 0, cert) != 0) {
		rv = OCSP_E_CERT_MISMATCH;
		goto out;
	}
	if (gnutls_ocsp_resp_get_single(resp, 0, NULL, NULL, NULL, NULL,
	    &cstatus, &this_update, &next_update, &rtime, &reason) < 0) {
		rv = OCSP_E_PARSE;
		goto out;
	}
	res->this_update = this_update;
	res->next_update = next_update;
	switch (cstatus) {
	case GNUTLS_OCSP_CERT_GOOD:
		res->status = OCSP_CERT_GOOD;
		break;
	case GNUTLS_OCSP_CERT_REVOKED:
		/* Signed, about this certificate: final, whatever its age. */
		res->status = OCSP_CERT_REVOKED;
		res->revocation_time = rtime;
		res->reason = (enum ocsp_reason)reason;
		rv = OCSP_E_REVOKED;
		goto out;
	default:
		rv = OCSP_E_UNKNOWN;
		goto out;
	}
	if (next_update == (time_t)-1) {
		rv = OCSP_E_PROFILE;
		goto out;
	}
	if (this_update > now + OCSP_SKEW) {
		rv = OCSP_E_NOT_YET_VALID;
		goto out;
	}
	if (next_update < now - OCSP_SKEW) {
		rv = OCSP_E_EXPIRED;
		goto out;
	}
	if (this_update < newest_seen) {
		rv = OCSP_E_STALE;
		goto out;
	}
	rv = 0;
out:
	gnutls_free(oid.data);
	gnutls_ocsp_resp_deinit(resp);
	return rv;
}
