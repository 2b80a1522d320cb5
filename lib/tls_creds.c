/* tls_creds.c -- TLS credentials, error texts and the role verifier. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "log.h"
#include "tls.h"
#include "tls_local.h"

static const char *const tls_errors[] = {
	[TLS_E_HANDSHAKE - TLS_E_FIRST] = "TLS handshake failed",
	[TLS_E_ALERT - TLS_E_FIRST] = "peer sent a fatal TLS alert",
	[TLS_E_NO_CERT - TLS_E_FIRST] = "peer sent no certificate",
	[TLS_E_ALPN - TLS_E_FIRST] = "peer does not speak our ALPN protocol",
	[TLS_E_FRAME_TOO_BIG - TLS_E_FIRST] = "frame above the size limit",
	[TLS_E_FRAMING - TLS_E_FIRST] = "malformed message header",
	[TLS_E_RECORD - TLS_E_FIRST] = "TLS record layer error",
	[TLS_E_CREDS - TLS_E_FIRST] = "TLS credentials unusable",
};

const char *
tls_strerror(int err)
{
	if (err >= TLS_E_FIRST && err <= TLS_E_LAST)
		return tls_errors[err - TLS_E_FIRST];
	if (err == 0)
		return "closed";
	return cert_strerror(err);
}

int
tls_creds_new(struct tls_creds **out)
{
	struct tls_creds *cr;

	*out = NULL;
	if ((cr = calloc(1, sizeof(*cr))) == NULL)
		return -ENOMEM;
	if (gnutls_certificate_allocate_credentials(&cr->xcred) < 0) {
		free(cr);
		return -ENOMEM;
	}
	*out = cr;
	return 0;
}

void
tls_creds_free(struct tls_creds *cr)
{
	if (cr == NULL)
		return;
	gnutls_certificate_free_credentials(cr->xcred);
	cert_trust_free(cr->trust);
	gnutls_x509_crt_deinit(cr->issuer);
	free(cr);
}

const struct cert_trust *
tls_creds_trust(const struct tls_creds *cr)
{
	return cr->trust;
}

gnutls_x509_crt_t
tls_creds_issuer(const struct tls_creds *cr)
{
	return cr->issuer;
}

/* A copy through DER (GnuTLS has no crt_dup in 3.7). */
static int
tls_crt_dup(gnutls_x509_crt_t in, gnutls_x509_crt_t *out)
{
	gnutls_datum_t der = { NULL, 0 };
	int rv = 0;

	if (gnutls_x509_crt_init(out) < 0)
		return -ENOMEM;
	if (gnutls_x509_crt_export2(in, GNUTLS_X509_FMT_DER, &der) < 0 ||
	    gnutls_x509_crt_import(*out, &der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(*out);
		*out = NULL;
		rv = CERT_E_GNUTLS;
	}
	gnutls_free(der.data);
	return rv;
}

int
tls_creds_set_trust(struct tls_creds *cr, const gnutls_x509_crt_t *roots,
    size_t n)
{
	int rv;

	if (cr->trust != NULL)
		return -EEXIST;
	if (n == 0)
		return -EINVAL;
	if ((rv = cert_trust_new(roots, n, &cr->trust)) < 0)
		return rv;
	/*
	 * The roots also go to GnuTLS, only so that a server's
	 * CertificateRequest names them; verification is tls_verify_fn's.
	 */
	if (gnutls_certificate_set_x509_trust(cr->xcred,
	    (gnutls_x509_crt_t *)(uintptr_t)roots, (int)n) < 0)
		log_debug("tls: roots not listed in certificate requests");
	return 0;
}

/* Every certificate of a PEM file; *crts and each member are the caller's. */
static int
tls_pem_read(const char *path, unsigned int flags, gnutls_x509_crt_t **crts,
    unsigned int *n)
{
	gnutls_datum_t d = { NULL, 0 };
	int rv;

	*crts = NULL;
	*n = 0;
	if ((rv = gnutls_load_file(path, &d)) < 0)
		return rv == GNUTLS_E_FILE_ERROR ? -ENOENT : CERT_E_GNUTLS;
	rv = gnutls_x509_crt_list_import2(crts, n, &d, GNUTLS_X509_FMT_PEM,
	    flags);
	gnutls_free(d.data);
	if (rv < 0 || *n == 0) {
		*crts = NULL;
		*n = 0;
		return CERT_E_PARSE;
	}
	return 0;
}

static void
tls_crts_free(gnutls_x509_crt_t *crts, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
}

int
tls_creds_load_trust(struct tls_creds *cr, const char *ca_path)
{
	gnutls_x509_crt_t *roots;
	unsigned int n;
	int rv;

	if ((rv = tls_pem_read(ca_path, 0, &roots, &n)) < 0) {
		log_warnx("%s: %s", ca_path, cert_strerror(rv));
		return rv;
	}
	rv = tls_creds_set_trust(cr, roots, n);
	tls_crts_free(roots, n);
	return rv;
}

int
tls_creds_set_key(struct tls_creds *cr, const gnutls_x509_crt_t *chain,
    size_t n, gnutls_privkey_t key)
{
	gnutls_pcert_st pcerts[TLS_CHAIN_MAX];
	gnutls_x509_crt_t issuer = NULL;
	size_t i, done = 0;
	int rv;

	if (cr->has_key)
		return -EEXIST;
	if (n == 0 || n > TLS_CHAIN_MAX || key == NULL)
		return -EINVAL;
	if (n > 1 && (rv = tls_crt_dup(chain[1], &issuer)) < 0)
		return rv;
	for (i = 0; i < n; i++, done++)
		if (gnutls_pcert_import_x509(&pcerts[i], chain[i], 0) < 0) {
			rv = CERT_E_GNUTLS;
			goto fail;
		}
	/* The creds take the key and the pcert contents (not the array). */
	if ((rv = gnutls_certificate_set_key(cr->xcred, NULL, 0, pcerts,
	    (int)n, key)) < 0) {
		log_warnx("tls: own certificate and key: %s",
		    gnutls_strerror(rv));
		rv = TLS_E_CREDS;
		goto fail;
	}
	cr->has_key = true;
	cr->issuer = issuer;
	return 0;
fail:
	for (i = 0; i < done; i++)
		gnutls_pcert_deinit(&pcerts[i]);
	gnutls_x509_crt_deinit(issuer);
	return rv;
}

int
tls_creds_load_key(struct tls_creds *cr, const char *chain_path,
    const char *key_path)
{
	gnutls_x509_crt_t *chain = NULL;
	gnutls_privkey_t key = NULL;
	unsigned int n = 0;
	int rv;

	if ((rv = tls_pem_read(chain_path,
	    GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED, &chain, &n)) < 0) {
		log_warnx("%s: %s", chain_path, cert_strerror(rv));
		return rv;
	}
	if ((rv = cert_key_read(key_path, &key)) < 0) {
		log_warnx("%s: %s", key_path, cert_strerror(rv));
		goto out;
	}
	if ((rv = tls_creds_set_key(cr, chain, n, key)) < 0)
		goto out;
	key = NULL;	/* the creds' now */
out:
	gnutls_privkey_deinit(key);
	tls_crts_free(chain, n);
	return rv;
}

int
tls_creds_load(struct tls_creds *cr, const char *ca_path,
    const char *chain_path, const char *key_path)
{
	int rv;

	if ((rv = tls_creds_load_trust(cr, ca_path)) < 0)
		return rv;
	return tls_creds_load_key(cr, chain_path, key_path);
}

int
tls_verify_cert(void *ctx, const gnutls_x509_crt_t *chain, size_t n,
    time_t now)
{
	const struct tls_expect *ex = ctx;
	struct cert_expect ce;
	gnutls_x509_crt_t inter;

	if (ex == NULL || ex->trust == NULL || n == 0)
		return CERT_E_CHAIN;
	/* No role expected would accept any role: refuse instead. */
	if (ex->role == CERT_ROLE_INVALID)
		return CERT_E_ROLE;
	inter = n > 1 ? chain[1] : ex->intermediate;
	memset(&ce, 0, sizeof(ce));
	ce.role = ex->role;
	ce.fqdn = ex->name;
	return cert_verify(ex->trust, chain[0], inter, &ce, now);
}
