/* tls_local.h -- what tls.c and tls_creds.c share, nobody else. */
#ifndef NTM_TLS_LOCAL_H
#define NTM_TLS_LOCAL_H

#include <stdbool.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

struct cert_trust;

struct tls_creds {
	gnutls_certificate_credentials_t xcred;
	struct cert_trust	*trust;		/* owned */
	gnutls_x509_crt_t	 issuer;	/* own chain[1] (owned) */
	bool			 has_key;
};

#endif
