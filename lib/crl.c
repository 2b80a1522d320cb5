/* crl.c -- X.509 v2 CRL of revoked serials, signed by the AS CA, as PEM. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cert.h"
#include "crl.h"
#include "log.h"

int
crl_build(const struct crl_entry *ents, size_t n, gnutls_x509_crt_t issuer,
    gnutls_privkey_t key, uint64_t number, time_t this_update,
    time_t next_update, gnutls_x509_crl_t *out)
{
	gnutls_x509_crl_t crl = NULL;
	gnutls_datum_t der = { NULL, 0 };
	uint8_t id[64], num[8];
	size_t idlen = sizeof(id), i;
	int rv;

	*out = NULL;
	if (next_update <= this_update)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (ents[i].serial_len == 0 ||
		    ents[i].serial_len > CRL_SERIAL_MAX)
			return -EINVAL;
	if (gnutls_x509_crl_init(&crl) < 0)
		return -ENOMEM;
	for (i = 0; i < sizeof(num); i++)
		num[i] = (uint8_t)(number >> (8 * (sizeof(num) - 1 - i)));
	if (gnutls_x509_crl_set_version(crl, 2) < 0 ||
	    gnutls_x509_crl_set_this_update(crl, this_update) < 0 ||
	    gnutls_x509_crl_set_next_update(crl, next_update) < 0 ||
	    gnutls_x509_crl_set_number(crl, num, sizeof(num)) < 0 ||
	    gnutls_x509_crt_get_subject_key_id(issuer, id, &idlen, NULL) < 0 ||
	    gnutls_x509_crl_set_authority_key_id(crl, id, idlen) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (gnutls_x509_crl_set_crt_serial(crl, ents[i].serial,
		    ents[i].serial_len, ents[i].revoked_at) < 0) {
			rv = CERT_E_GNUTLS;
			goto out;
		}
	if ((rv = gnutls_x509_crl_privkey_sign(crl, issuer, key,
	    GNUTLS_DIG_SHA256, 0)) < 0) {
		log_debug("crl signing: %s", gnutls_strerror(rv));
		rv = CERT_E_GNUTLS;
		goto out;
	}
	/* Hand out a re-imported copy: the signed object keeps stale caches. */
	if (gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_DER, &der) < 0 ||
	    gnutls_x509_crl_init(out) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	if (gnutls_x509_crl_import(*out, &der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crl_deinit(*out);
		*out = NULL;
		rv = CERT_E_GNUTLS;
		goto out;
	}
	rv = 0;
out:
	gnutls_free(der.data);
	gnutls_x509_crl_deinit(crl);
	return rv;
}

int
crl_write(const char *path, gnutls_x509_crl_t crl)
{
	gnutls_datum_t pem = { NULL, 0 };
	char tmp[PATH_MAX];
	size_t off = 0;
	ssize_t w;
	int fd, rv = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM, &pem) < 0)
		return CERT_E_GNUTLS;
	/*
	 * Written beside the file, then renamed over it: a reader (a web
	 * server publishing it) sees the old CRL or the new one, never a
	 * truncated one, and a failed write (a full disk) leaves the old.
	 */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) < 0) {
		rv = -errno;
		goto out;
	}
	if (fchmod(fd, 0644) < 0)
		rv = -errno;
	while (rv == 0 && off < pem.size) {
		w = write(fd, pem.data + off, pem.size - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rv = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (rv == 0 && fsync(fd) < 0)
		rv = -errno;
	if (close(fd) < 0 && rv == 0)
		rv = -errno;
	if (rv == 0 && rename(tmp, path) < 0)
		rv = -errno;
	if (rv < 0)
		(void)unlink(tmp);
out:
	gnutls_free(pem.data);
	return rv;
}
