/* rsakem.h -- RSA-KEM with blinded raw RSA (nettle) for the rsa scheme. */
#ifndef NTM_RSAKEM_H
#define NTM_RSAKEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <nettle/rsa.h>

struct ntm_rng;

/*
 * The KEM: the sender picks r uniformly in [1, n) and sends c = r^e mod n;
 * the shared secret is r itself, big-endian, zero-padded to the modulus
 * length (256 bytes for RSA-2048).  No padding scheme: r is a full-size
 * uniform value, so raw RSA is safe here, and there is no PKCS#1 v1.5
 * decryption to serve as an oracle.  The keys below are refused outside
 * [RSAKEM_MIN_BITS, RSAKEM_MAX_BITS] (the upper bound limits the work a
 * peer's certificate can cause) or with an even or trivial exponent.
 */
enum rsakem_limits {
	RSAKEM_MIN_BITS = 2048,
	RSAKEM_MAX_BITS = 8192,
};

/*
 * nettle key structs made from GnuTLS keys, so certificates and keys loaded
 * by GnuTLS serve the KEM.  pub is always set; priv only when has_priv.
 * Caller owns the key; rsakem_key_free() wipes every private number.
 */
struct rsakem_key {
	struct rsa_public_key	pub;
	struct rsa_private_key	priv;
	bool			has_priv;
};

/*
 * Return 0 and *out; -EINVAL when the key is not RSA or not acceptable as
 * above; -EOPNOTSUPP when GnuTLS cannot export it (a token key); -ENOMEM.
 */
int	rsakem_key_from_pubkey(struct rsakem_key **out, gnutls_pubkey_t);
int	rsakem_key_from_privkey(struct rsakem_key **out, gnutls_privkey_t);
void	rsakem_key_free(struct rsakem_key *);
/* Length in bytes of the modulus: of every ciphertext and shared secret. */
size_t	rsakem_key_size(const struct rsakem_key *);

/*
 * Draws r from rng and writes c and the secret r, each exactly pub->size
 * bytes (clen and secretlen must equal it, and pub must be within the
 * limits above, else -EINVAL).  Returns 0, the
 * rng's error, or -EINVAL; on error nothing secret is left in the outputs.
 */
int	rsakem_encapsulate(const struct rsa_public_key *pub,
	    struct ntm_rng *rng, uint8_t *c, size_t clen, uint8_t *secret,
	    size_t secretlen);
/*
 * Recovers r = c^d mod n with nettle's blinded, result-checked
 * rsa_compute_root_tr (rng supplies the blinding factor).  clen and
 * secretlen must equal pub->size (-EINVAL).  Returns 0; -EBADMSG when c is
 * 0 or not below n; -EIO when the computation fails its check or the rng
 * fails.  On error the secret is zeroed.
 */
int	rsakem_decapsulate(const struct rsa_public_key *pub,
	    const struct rsa_private_key *priv, struct ntm_rng *rng,
	    const uint8_t *c, size_t clen, uint8_t *secret, size_t secretlen);

#endif
