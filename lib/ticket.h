/* ticket.h -- DC tickets: sealing (AS) and opening (DC) under the AS-DC ticket key, and the registration keys they feed (PROTOCOL.md 7, 13). */
#ifndef NTM_TICKET_H
#define NTM_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proto.h"

struct aead;
struct ntm_rng;

/*
 * A sealed ticket on the wire (PROTOCOL.md 13), 34..512 bytes:
 *
 * +---------------+---------------+---------------+---------------+
 * |    version    |               ticket key id (u32) ...
 * +---------------+---------------+---------------+---------------+
 *  ...            |        nonce (12 bytes) ...
 * +---------------+---------------+---------------+---------------+
 * |  AES-256-GCM ciphertext of the ticket body ... || tag (16)
 *
 * AAD = the first 17 bytes.  The body is a TICKET_BODY attribute list
 * (lib/msg.h msg_ticket_body_encode/decode).
 */
enum ticket_limit {
	TICKET_LIMIT_INVALID = 0,
	TICKET_KEYS_MAX = 2,		/* a DC holds current and previous */
	TICKET_ID_LEN = 16,
};

/* What a ticket says, copied out of the opened body (plain data). */
struct ticket_body {
	uint8_t		 id[TICKET_ID_LEN];
	uint8_t		 key[PROTO_KEY_LEN];	/* K_ND; wipe after use */
	char		 fqdn[PROTO_FQDN_MAX + 1];	/* NUL-terminated */
	size_t		 fqdn_len;
	bool		 has_vip4;
	bool		 has_vip6;
	uint8_t		 vip4[4];
	uint8_t		 vip6[16];
	uint64_t	 expiry;		/* Unix seconds */
	uint8_t		 serial[PROTO_SERIAL_MAX];
	size_t		 serial_len;		/* 0: no serial in the ticket */
};

/*
 * The ticket keys one party holds, each with its AEAD handle made once
 * (opening a ticket allocates nothing).  Embedded by its owner; initialise
 * with ticket_keyring_init(), release with ticket_keyring_clear() (wipes).
 * Adding a third key drops the oldest one.
 */
struct ticket_keyring {
	size_t		 n;
	struct {
		uint32_t	 id;
		uint64_t	 added;		/* insertion order */
		struct aead	*aead;
	} key[TICKET_KEYS_MAX];
	uint64_t	 next;
};

void	ticket_keyring_init(struct ticket_keyring *);
void	ticket_keyring_clear(struct ticket_keyring *);
/*
 * Adds key `id` (32 bytes, copied into the AEAD handle) or replaces the key
 * of an id already held.  Returns 0, -EINVAL or -ENOMEM.
 */
int	ticket_keyring_add(struct ticket_keyring *, uint32_t id,
	    const uint8_t key[PROTO_KEY_LEN]);
bool	ticket_keyring_has(const struct ticket_keyring *, uint32_t id);

/*
 * ticket_seal: builds and seals body `b` under key `key_id` of the keyring
 * with a fresh random nonce, writing the ticket to out[cap] and its length
 * to *outlen.  Returns 0; -ENOKEY when the keyring lacks key_id; a MSG_E_*
 * code when the body does not validate (e.g. no virtual IP); -EMSGSIZE when
 * the ticket would pass PROTO_TICKET_MAX; -ENOSPC when cap is too small.
 */
int	ticket_seal(const struct ticket_keyring *, uint32_t key_id,
	    const struct ticket_body *b, struct ntm_rng *, uint8_t *out,
	    size_t cap, size_t *outlen);

/*
 * ticket_open: opens a ticket and checks its expiry against `now`: a ticket
 * is valid while now < expiry.  On success *b holds the body (the caller
 * wipes b->key when done).  Errors, in the order they are checked:
 *   MSG_E_TICKET / MSG_E_VERSION  framing (length, version)
 *   -ENOKEY        key id not in the keyring (PROTOCOL: BAD_TICKET)
 *   -EBADMSG       the tag does not verify (BAD_TICKET)
 *   MSG_E_*        the opened body is not a valid TICKET_BODY (BAD_TICKET)
 *   -EKEYEXPIRED   expired (EXPIRED); *b is filled all the same, so the
 *                  caller can log which node it was
 * On every error but -EKEYEXPIRED *b is zeroed.
 */
int	ticket_open(const struct ticket_keyring *, const void *ticket,
	    size_t len, time_t now, struct ticket_body *b);

/* The key id a ticket names, without opening it; MSG_E_* on bad framing. */
int	ticket_key_id(const void *ticket, size_t len, uint32_t *key_id);

/*
 * ticket_session_keys: the registration's per-direction keys (PROTOCOL.md 7,
 * step 3), the same computation on the node and the DC:
 *
 *   PRK     = HKDF-Extract(salt = nonce_N || cookie, IKM = K_ND)
 *   k_N->DC = HKDF-Expand(PRK, "ntmobile v1 node to dc", 32)
 *   k_DC->N = HKDF-Expand(PRK, "ntmobile v1 dc to node", 32)
 *
 * The PRK is wiped; the caller wipes the keys when done.
 */
/*
 * ticket_key_read: reads an AS-DC ticket key file, the one format ntm-as and
 * ntm-dc share: 32 raw bytes or 64 hex digits (one final newline allowed),
 * refused when not a private file.  The key id both sides derive is the
 * first four bytes of SHA-256(key), big-endian.  0, or -EINVAL / -EPERM /
 * -errno with a one-line reason in why (key wiped on failure).
 */
int	ticket_key_read(const char *path, uint8_t key[PROTO_KEY_LEN],
	    uint32_t *id, char *why, size_t whylen);

void	ticket_session_keys(const uint8_t k_nd[PROTO_KEY_LEN],
	    const uint8_t nonce[PROTO_RANDOM_LEN],
	    const uint8_t cookie[PROTO_RANDOM_LEN],
	    uint8_t k_n2dc[PROTO_KEY_LEN], uint8_t k_dc2n[PROTO_KEY_LEN]);

#endif
