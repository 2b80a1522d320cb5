/* x25519.h -- X25519 Diffie-Hellman (RFC 7748) for the ecdhe key exchange. */
#ifndef NTM_X25519_H
#define NTM_X25519_H

#include <stdbool.h>
#include <stdint.h>

struct ntm_rng;

enum x25519_sizes {
	X25519_KEY_SIZE = 32,
};

/* An ephemeral key pair; wipe it with x25519_keypair_wipe() when done. */
struct x25519_keypair {
	uint8_t	priv[X25519_KEY_SIZE];	/* clamped, RFC 7748 §5 */
	uint8_t	pub[X25519_KEY_SIZE];
};

/* Draws a private key from rng and computes its public key; 0 or -errno. */
int	x25519_keypair_generate(struct x25519_keypair *, struct ntm_rng *);
void	x25519_keypair_wipe(struct x25519_keypair *);
/* pub = X25519(priv, 9); priv is clamped on use. */
void	x25519_public(uint8_t pub[X25519_KEY_SIZE],
	    const uint8_t priv[X25519_KEY_SIZE]);
/*
 * A key pair made ahead of time, so a handshake does not wait for it
 * (doc/SECURITY.md "What peer verification caches"): x25519_spare_fill()
 * while idle -- at start-up, and after each handshake took the spare --
 * makes one if none is ready; x25519_keypair_take() moves it out and wipes
 * the spare, so a pair serves exactly one handshake, and generates a fresh
 * one from rng when none is ready.  One spare per process: ntmd runs one
 * loop thread; not for concurrent use.
 */
int	x25519_spare_fill(struct ntm_rng *);
bool	x25519_spare_ready(void);
/* Forgets the spare (wiped); the next take generates. */
void	x25519_spare_wipe(void);
int	x25519_keypair_take(struct x25519_keypair *, struct ntm_rng *);
/*
 * shared = X25519(priv, peer).  Returns 0, or -EINVAL when the result is
 * all zero (the peer sent a low-order point, RFC 7748 §6.1): then shared is
 * zeroed and must not be used.  The high bit of peer's last byte is ignored.
 */
int	x25519_shared(uint8_t shared[X25519_KEY_SIZE],
	    const uint8_t priv[X25519_KEY_SIZE],
	    const uint8_t peer[X25519_KEY_SIZE]);

#endif
