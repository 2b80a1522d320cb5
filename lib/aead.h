/* aead.h -- AES-256-GCM and ChaCha20-Poly1305 keys (GnuTLS), one API. */
#ifndef NTM_AEAD_H
#define NTM_AEAD_H

#include <stddef.h>
#include <stdint.h>

/* The algorithms a key can use; the wire numbers are PROTOCOL.md's. */
enum aead_alg {
	AEAD_ALG_INVALID = 0,
	AEAD_ALG_AES256GCM,
	AEAD_ALG_CHACHA20POLY1305,
};

enum aead_sizes {
	AEAD_KEY_SIZE = 32,
	AEAD_NONCE_SIZE = 12,
	AEAD_TAG_SIZE = 16,
};

/*
 * A key with its cipher handle initialised once, so sealing a packet does no
 * setup and no allocation.  One key is used by one thread at a time.  The
 * caller owns it and frees it with aead_free(), which wipes the key.
 */
struct aead;

/* Returns 0 and *out; -EINVAL (algorithm, key length), -ENOMEM or -EIO. */
int	aead_new(struct aead **out, enum aead_alg, const void *key,
	    size_t keylen);
void	aead_free(struct aead *);
enum aead_alg aead_alg(const struct aead *);
/* "aes-256-gcm", "chacha20-poly1305", or NULL. */
const char *aead_alg_name(enum aead_alg);

/*
 * Seals ptlen bytes of pt under a 12-byte nonce and the aad into out, which
 * receives the ciphertext followed by the 16-byte tag: ptlen + AEAD_TAG_SIZE
 * bytes, so outcap must be at least that (else -ENOSPC, nothing written).
 * out may be pt itself (in place) or overlap it.  The caller never reuses a
 * nonce under one key.  Returns 0, -EINVAL, -ENOSPC or -EIO.
 */
int	aead_seal(struct aead *, const uint8_t nonce[AEAD_NONCE_SIZE],
	    const void *aad, size_t aadlen, const void *pt, size_t ptlen,
	    void *out, size_t outcap);
/*
 * Opens ctlen bytes (ciphertext and tag) into out, which receives
 * ctlen - AEAD_TAG_SIZE bytes of plaintext; out may be ct itself or overlap
 * it.  Returns 0; -EBADMSG when the tag does not verify (wrong key, nonce,
 * aad, or any altered byte), in which case the ctlen - AEAD_TAG_SIZE bytes
 * at out are zeroed so no unauthenticated plaintext is left behind; -EINVAL
 * when ctlen is shorter than a tag; -ENOSPC when outcap is too small.
 */
int	aead_open(struct aead *, const uint8_t nonce[AEAD_NONCE_SIZE],
	    const void *aad, size_t aadlen, const void *ct, size_t ctlen,
	    void *out, size_t outcap);

#endif
