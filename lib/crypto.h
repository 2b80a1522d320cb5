/* crypto.h -- hashes, HKDF, compare, wipe; includes the AEAD, X25519, KEM. */
#ifndef NTM_CRYPTO_H
#define NTM_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aead.h"
#include "rsakem.h"
#include "x25519.h"

enum crypto_limits {
	CRYPTO_SHA256_SIZE = 32,
	CRYPTO_SHA256_BLOCK_SIZE = 64,
	/* RFC 5869: at most 255 blocks of the hash's output. */
	CRYPTO_HKDF_MAX_OUTPUT = 255 * CRYPTO_SHA256_SIZE,
};

/*
 * Streaming transcript hashes may use nettle's sha256_init/update/digest
 * directly; these are the one-shot forms.  A NULL pointer with length 0 is
 * the empty string everywhere below.
 */
void	crypto_sha256(uint8_t out[CRYPTO_SHA256_SIZE], const void *data,
	    size_t len);
void	crypto_hmac_sha256(uint8_t out[CRYPTO_SHA256_SIZE], const void *key,
	    size_t keylen, const void *data, size_t len);

/*
 * HKDF-SHA256 (RFC 5869).  Extract: an empty salt means HashLen zero bytes,
 * as the RFC says.  Expand: writes outlen bytes of OKM; returns 0, or -EINVAL
 * (nothing written) when outlen exceeds CRYPTO_HKDF_MAX_OUTPUT or prk is
 * shorter than a hash output.
 */
void	crypto_hkdf_extract(uint8_t prk[CRYPTO_SHA256_SIZE],
	    const void *salt, size_t saltlen, const void *ikm, size_t ikmlen);
int	crypto_hkdf_expand(void *out, size_t outlen, const void *prk,
	    size_t prklen, const void *info, size_t infolen);

/* True when a and b hold the same len bytes; the time depends on len only. */
bool	crypto_ct_equal(const void *a, const void *b, size_t len);
/* Zeroes len bytes at p in a way the compiler may not drop; p may be NULL. */
void	crypto_wipe(void *p, size_t len);

#endif
