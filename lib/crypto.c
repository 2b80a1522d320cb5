/* crypto.c -- SHA-256, HMAC, HKDF (nettle), constant-time compare, wiping. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <nettle/hkdf.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>

#include "crypto.h"

void
crypto_sha256(uint8_t out[CRYPTO_SHA256_SIZE], const void *data, size_t len)
{
	struct sha256_ctx h;

	sha256_init(&h);
	if (len > 0)
		sha256_update(&h, len, data);
	sha256_digest(&h, CRYPTO_SHA256_SIZE, out);
}

void
crypto_hmac_sha256(uint8_t out[CRYPTO_SHA256_SIZE], const void *key,
    size_t keylen, const void *data, size_t len)
{
	static const uint8_t empty[1];
	struct hmac_sha256_ctx h;

	hmac_sha256_set_key(&h, keylen, keylen > 0 ? key : empty);
	if (len > 0)
		hmac_sha256_update(&h, len, data);
	hmac_sha256_digest(&h, CRYPTO_SHA256_SIZE, out);
	crypto_wipe(&h, sizeof(h));
}

/* nettle's hkdf takes the MAC through generic callbacks. */
static void
crypto_hkdf_update(void *ctx, size_t len, const uint8_t *data)
{
	hmac_sha256_update(ctx, len, data);
}

static void
crypto_hkdf_digest(void *ctx, size_t len, uint8_t *out)
{
	hmac_sha256_digest(ctx, len, out);
}

void
crypto_hkdf_extract(uint8_t prk[CRYPTO_SHA256_SIZE], const void *salt,
    size_t saltlen, const void *ikm, size_t ikmlen)
{
	static const uint8_t zeros[CRYPTO_SHA256_SIZE];
	struct hmac_sha256_ctx h;

	/* HMAC zero-pads a short key, so the empty salt equals the zeros. */
	if (saltlen == 0) {
		salt = zeros;
		saltlen = sizeof(zeros);
	}
	hmac_sha256_set_key(&h, saltlen, salt);
	hkdf_extract(&h, crypto_hkdf_update, crypto_hkdf_digest,
	    CRYPTO_SHA256_SIZE,
	    ikmlen, ikmlen > 0 ? ikm : zeros, prk);
	crypto_wipe(&h, sizeof(h));
}

int
crypto_hkdf_expand(void *out, size_t outlen, const void *prk, size_t prklen,
    const void *info, size_t infolen)
{
	static const uint8_t empty[1];
	struct hmac_sha256_ctx h;

	if (outlen > CRYPTO_HKDF_MAX_OUTPUT || prklen < CRYPTO_SHA256_SIZE)
		return -EINVAL;
	if (outlen == 0)
		return 0;
	hmac_sha256_set_key(&h, prklen, prk);
	hkdf_expand(&h, crypto_hkdf_update, crypto_hkdf_digest,
	    CRYPTO_SHA256_SIZE,
	    infolen, infolen > 0 ? info : empty, outlen, out);
	crypto_wipe(&h, sizeof(h));
	return 0;
}

bool
crypto_ct_equal(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return true;
	return memeql_sec(a, b, len) != 0;
}

void
crypto_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}
