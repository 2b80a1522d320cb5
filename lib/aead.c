/* aead.c -- AEAD keys on GnuTLS cipher handles; seal/open in caller memory. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "aead.h"
#include "crypto.h"

struct aead {
	gnutls_aead_cipher_hd_t	 h;
	enum aead_alg		 alg;
};

static gnutls_cipher_algorithm_t
aead_gnutls_alg(enum aead_alg alg)
{
	switch (alg) {
	case AEAD_ALG_AES256GCM:
		return GNUTLS_CIPHER_AES_256_GCM;
	case AEAD_ALG_CHACHA20POLY1305:
		return GNUTLS_CIPHER_CHACHA20_POLY1305;
	default:
		return GNUTLS_CIPHER_UNKNOWN;
	}
}

const char *
aead_alg_name(enum aead_alg alg)
{
	switch (alg) {
	case AEAD_ALG_AES256GCM:
		return "aes-256-gcm";
	case AEAD_ALG_CHACHA20POLY1305:
		return "chacha20-poly1305";
	default:
		return NULL;
	}
}

int
aead_new(struct aead **out, enum aead_alg alg, const void *key, size_t keylen)
{
	gnutls_cipher_algorithm_t galg;
	gnutls_datum_t k;
	struct aead *a;
	int ret;

	*out = NULL;
	if ((galg = aead_gnutls_alg(alg)) == GNUTLS_CIPHER_UNKNOWN ||
	    key == NULL || keylen != AEAD_KEY_SIZE)
		return -EINVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	k.data = (unsigned char *)key;
	k.size = (unsigned int)keylen;
	if ((ret = gnutls_aead_cipher_init(&a->h, galg, &k)) < 0) {
		free(a);
		return ret == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EIO;
	}
	a->alg = alg;
	*out = a;
	return 0;
}

void
aead_free(struct aead *a)
{
	if (a == NULL)
		return;
	/* GnuTLS zeroes its key schedule on deinit. */
	gnutls_aead_cipher_deinit(a->h);
	crypto_wipe(a, sizeof(*a));
	free(a);
}

enum aead_alg
aead_alg(const struct aead *a)
{
	return a->alg;
}

/*
 * Both directions run GnuTLS's v2 calls on one in-place buffer: the text is
 * first moved to out (memmove, so any overlap works), then transformed there.
 */
int
aead_seal(struct aead *a, const uint8_t nonce[AEAD_NONCE_SIZE],
    const void *aad, size_t aadlen, const void *pt, size_t ptlen, void *out,
    size_t outcap)
{
	giovec_t ad, io;
	size_t taglen = AEAD_TAG_SIZE;
	uint8_t *o = out;

	if (a == NULL || nonce == NULL || out == NULL ||
	    (aad == NULL && aadlen > 0) || (pt == NULL && ptlen > 0))
		return -EINVAL;
	if (ptlen > SIZE_MAX - AEAD_TAG_SIZE || outcap < ptlen + AEAD_TAG_SIZE)
		return -ENOSPC;
	if (ptlen > 0 && o != pt)
		memmove(o, pt, ptlen);
	ad.iov_base = (void *)aad;
	ad.iov_len = aadlen;
	io.iov_base = o;
	io.iov_len = ptlen;
	if (gnutls_aead_cipher_encryptv2(a->h, nonce, AEAD_NONCE_SIZE,
	    &ad, aadlen > 0, &io, ptlen > 0, o + ptlen, &taglen) < 0 ||
	    taglen != AEAD_TAG_SIZE) {
		crypto_wipe(o, ptlen + AEAD_TAG_SIZE);
		return -EIO;
	}
	return 0;
}

int
aead_open(struct aead *a, const uint8_t nonce[AEAD_NONCE_SIZE],
    const void *aad, size_t aadlen, const void *ct, size_t ctlen, void *out,
    size_t outcap)
{
	uint8_t tag[AEAD_TAG_SIZE];
	giovec_t ad, io;
	uint8_t *o = out;
	size_t n;
	int ret;

	if (a == NULL || nonce == NULL || out == NULL || ct == NULL ||
	    (aad == NULL && aadlen > 0))
		return -EINVAL;
	if (ctlen < AEAD_TAG_SIZE)
		return -EINVAL;
	n = ctlen - AEAD_TAG_SIZE;
	if (outcap < n)
		return -ENOSPC;
	/* Save the tag first: moving the text may overwrite it. */
	memcpy(tag, (const uint8_t *)ct + n, AEAD_TAG_SIZE);
	if (n > 0 && o != ct)
		memmove(o, ct, n);
	ad.iov_base = (void *)aad;
	ad.iov_len = aadlen;
	io.iov_base = o;
	io.iov_len = n;
	ret = gnutls_aead_cipher_decryptv2(a->h, nonce, AEAD_NONCE_SIZE,
	    &ad, aadlen > 0, &io, n > 0, tag, AEAD_TAG_SIZE);
	if (ret < 0) {
		/* GnuTLS decrypts before it compares the tag. */
		crypto_wipe(o, n);
		return ret == GNUTLS_E_DECRYPTION_FAILED ? -EBADMSG : -EIO;
	}
	return 0;
}
