/* kex.h -- key-exchange schemes behind one interface; kex_allowed lists. */
#ifndef NTM_KEX_H
#define NTM_KEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include "handshake.h"
#include "proto.h"
#include "x25519.h"

struct ntm_rng;

/*
 * A tunnel handshake (DESIGN.md §5.1, PROTOCOL.md 8-9) runs one scheme on
 * each side.  "MN" and "CN" below mean the handshake roles of PROTOCOL.md
 * 8.1 (initiator and responder; on the reverse route CN initiates):
 *
 *   MN (initiator)                         CN (responder)
 *   kex_new(INITIATOR)
 *   kex_offer()  -> field of the Tunnel Request (EPHEMERAL, KEM_CT or
 *                   END_KEY_CT), signed by handshake_sign_request()
 *                                          handshake_verify_request() -> token
 *                                          kex_new(RESPONDER): refuses a
 *                                            scheme outside kex_allowed
 *                                          kex_respond(token) -> EPHEMERAL of
 *                                            the Tunnel Response (ecdhe only)
 *   handshake_verify_response() -> token
 *   kex_finish(token)
 *   kex_derive(temp key, th)               kex_derive(temp key, th)
 *
 * The token (lib/handshake.h) is made only by a signature check that
 * covered the very field the scheme consumes, so CN's private-key
 * operation (rsa) and every scheme's use of a peer field happen only after
 * the peer's signature verified; without it the call fails with
 * KEX_E_UNVERIFIED.  kex_derive() runs the key schedule
 * (handshake_derive()) and wipes the IKM.
 *
 * There is no fallback: a failed setup returns an error and the caller
 * reports it; nothing here picks another scheme.
 */

/* Errors of this module; kex_strerror() names them, kex_status() maps. */
enum kex_err {
	KEX_E_FIRST = -1500,
	KEX_E_UNKNOWN = KEX_E_FIRST,	/* no such scheme number or name */
	KEX_E_NOT_ALLOWED,	/* scheme outside this node's kex_allowed */
	KEX_E_KEY_TYPE,		/* rsa with a key that is not RSA-2048 */
	KEX_E_UNVERIFIED,	/* no signature covers the peer's field */
	KEX_E_FIELD,		/* peer's field of the wrong length */
	KEX_E_PEER_KEY,		/* X25519 with the peer gives all zero */
	KEX_E_DECRYPT,		/* does not open; rsa: c >= n, bad r */
	KEX_E_STATE,		/* call out of order, or wrong role */
	KEX_E_LAST = KEX_E_STATE,
};

enum kex_limits {
	KEX_FIELD_MAX = PROTO_RSA_KEM_LEN,	/* largest wire field */
	KEX_IKM_MAX = PROTO_RSA_KEM_LEN,	/* rsa: r, as long as n */
	KEX_ALLOWED_MAX = PROTO_KEX_MAX,
};

/*
 * kex_allowed: the schemes a node accepts, in the order it prefers them
 * (the first is what it names as MN).  Default: ecdhe only.  `rsa` and
 * `shared` exist only when a config list names them.
 */
struct kex_allowed {
	uint8_t		 id[KEX_ALLOWED_MAX];	/* enum proto_kex */
	size_t		 n;
};

/* Borrowed inputs of kex_offer/kex_respond/kex_finish; unused ones NULL. */
struct kex_input {
	const uint8_t	*temp_key;	/* PROTO_KEY_LEN; shared */
	const uint8_t	*nonce_i;	/* PROTO_RANDOM_LEN; shared */
	gnutls_pubkey_t	 peer_pub;	/* MN, rsa: CN's cert key */
	gnutls_privkey_t own_priv;	/* CN, rsa: own certificate key */
};

enum kex_stage {
	KEX_STAGE_INVALID = 0,
	KEX_STAGE_NEW,
	KEX_STAGE_OFFERED,		/* MN after kex_offer */
	KEX_STAGE_DONE,			/* IKM ready */
	KEX_STAGE_SPENT,		/* keys derived, IKM wiped */
	KEX_STAGE_FAILED,		/* any error: secrets wiped */
};

struct kex;

/*
 * One scheme.  offer_attr/answer_attr are the Tunnel Request and Response
 * attributes carrying its fields (answer_attr PROTO_ATTR_INVALID: none),
 * with their exact lengths; a rekey uses the same ones, except that with
 * rekey_no_field it sends no field at all and has an empty IKM.  The
 * functions are called through kex_offer(), kex_respond() and
 * kex_finish(), which check the stage, role, lengths and token first; each
 * writes the IKM into the state when it has it.
 */
struct kex_ops {
	enum proto_kex	 id;
	const char	*name;
	uint16_t	 offer_attr;
	size_t		 offer_len;
	uint16_t	 answer_attr;
	size_t		 answer_len;
	bool		 rekey_no_field;
	int	(*offer)(struct kex *, const struct kex_input *,
		    uint8_t *field);
	int	(*respond)(struct kex *, const struct kex_input *,
		    const struct handshake_verified *, const uint8_t *field,
		    uint8_t *answer);
	int	(*finish)(struct kex *, const uint8_t *answer);
};

/*
 * Per-handshake state.  Its fields belong to plugins/kex*.c; callers use
 * the functions below.  kex_free() wipes it all.
 */
struct kex {
	const struct kex_ops	*ops;
	enum proto_role		 role;
	enum kex_stage		 stage;
	bool			 rekey;		/* in-tunnel, 10.3 */
	struct ntm_rng		*rng;		/* borrowed */
	struct x25519_keypair	 eph;		/* ecdhe: own key */
	uint8_t			 ikm[KEX_IKM_MAX];
	size_t			 ikm_len;
};

extern const struct kex_ops kex_shared_ops;
extern const struct kex_ops kex_rsa_ops;
extern const struct kex_ops kex_ecdhe_ops;

const char	*kex_strerror(int err);
/* The Tunnel Response status for an error of this module. */
enum proto_status kex_status(int err);

/* The registry: NULL for an unknown number or name. */
const struct kex_ops *kex_find(uint8_t id);
const struct kex_ops *kex_find_name(const char *name);
/* "shared", "rsa", "ecdhe", or NULL. */
const char	*kex_name(uint8_t id);

void	 kex_allowed_default(struct kex_allowed *);
/*
 * Parses a comma-separated list ("ecdhe", "rsa, ecdhe"): blanks around
 * names ignored, each name known and listed once, at least one.  Returns 0,
 * or -EINVAL with *out untouched.
 */
int	 kex_allowed_parse(const char *text, struct kex_allowed *out);
/* The same from a list already split (a config_list's v and n). */
int	 kex_allowed_from_names(char *const *names, size_t n,
	    struct kex_allowed *out);
bool	 kex_allowed_has(const struct kex_allowed *, uint8_t id);
/* The scheme MN names: the first of the list. */
enum proto_kex kex_allowed_first(const struct kex_allowed *);
/* "rsa, ecdhe"; returns the length or -ENOSPC. */
int	 kex_allowed_format(const struct kex_allowed *, char *buf,
	    size_t cap);

/*
 * Starts a handshake's state for scheme `id` on one side.  Returns 0 and
 * *out (caller frees with kex_free()); KEX_E_UNKNOWN; KEX_E_NOT_ALLOWED
 * when `allowed` does not list the scheme (CN answers
 * PROTO_STATUS_KEX_NOT_ALLOWED); -EINVAL; -ENOMEM.  rng is borrowed for
 * the state's life.
 */
int	 kex_new(struct kex **out, const struct kex_allowed *allowed,
	    uint8_t id, enum proto_role role, struct ntm_rng *rng);
/*
 * The same for an in-tunnel rekey (PROTOCOL.md 10.3) of a tunnel set up
 * with scheme `id`; still refused if `allowed` no longer lists it.  The
 * REKEY_REQUEST sender is the INITIATOR here.  Fields travel in
 * REKEY_REQUEST/_RESPONSE; tokens come from handshake_verified_tunnel(),
 * and only such tokens are accepted by a rekey state (and only signature
 * tokens by a handshake state).
 */
int	 kex_new_rekey(struct kex **out, const struct kex_allowed *allowed,
	    uint8_t id, enum proto_role role, struct ntm_rng *rng);
void	 kex_free(struct kex *);
const struct kex_ops *kex_ops(const struct kex *);
/*
 * The attribute and length of the initiator's field in this exchange
 * (ops->offer_attr, or PROTO_ATTR_INVALID and 0 in a shared rekey).
 */
uint16_t kex_field_attr(const struct kex *);
size_t	 kex_field_len(const struct kex *);
/* The token side kex_respond() (request) or kex_finish() requires. */
enum handshake_side kex_token_side(const struct kex *, bool request);

/*
 * MN: writes its field (kex_field_len() bytes, for the attribute
 * kex_field_attr()) into field[cap] and sets *len.
 *   shared: a fresh 32-byte end key sealed under a key derived from
 *           in->temp_key and in->nonce_i;
 *   rsa:    c = r^e mod n to in->peer_pub (KEX_E_KEY_TYPE unless
 *           RSA-2048);
 *   ecdhe:  a fresh X25519 public key.
 */
int	 kex_offer(struct kex *, const struct kex_input *in, uint8_t *field,
	    size_t cap, size_t *len);
/*
 * CN: consumes MN's field, which `verified` must cover (else
 * KEX_E_UNVERIFIED, before anything else is done), and writes the answer
 * (ecdhe: eph_R; others: nothing, *answer_len = 0) into answer[cap].
 *   shared: opens the end key with in->temp_key and in->nonce_i;
 *   rsa:    decapsulates with in->own_priv;
 *   ecdhe:  X25519 with a fresh key; KEX_E_PEER_KEY for an all-zero
 *           result.
 * On success the IKM is ready.
 */
int	 kex_respond(struct kex *, const struct kex_input *in,
	    const struct handshake_verified *verified, const uint8_t *field,
	    size_t len, uint8_t *answer, size_t cap, size_t *answer_len);
/*
 * MN: after the Tunnel Response's signature verified, consumes CN's answer
 * (len 0 for schemes without one); `verified` must be the response's token
 * and cover it.  ecdhe: KEX_E_PEER_KEY for an all-zero X25519 result.
 */
int	 kex_finish(struct kex *, const struct handshake_verified *verified,
	    const uint8_t *answer, size_t len);
/*
 * The input keying material, borrowed until kex_derive() or kex_free()
 * (empty in a shared rekey); KEX_E_STATE before the exchange is done and
 * after kex_derive().
 */
int	 kex_ikm(const struct kex *, const uint8_t **ikm, size_t *len);
/*
 * Both sides, once done: the key schedule, then the IKM is wiped.  salt
 * is the temporary key and th handshake_transcript_hash()'s
 * (handshake_derive()), or in a rekey k_rekey and handshake_rekey_hash()'s
 * (handshake_rekey_derive()).  Returns 0, KEX_E_STATE, or the error of
 * the derivation.
 */
int	 kex_derive(struct kex *, const uint8_t salt[PROTO_KEY_LEN],
	    const uint8_t th[PROTO_HASH_LEN], struct handshake_keys *keys);

#endif
