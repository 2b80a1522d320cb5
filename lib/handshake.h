/* handshake.h -- tunnel handshake: transcript, Sig_I/Sig_R, key schedule. */
#ifndef NTM_HANDSHAKE_H
#define NTM_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "aead.h"
#include "msg.h"
#include "proto.h"

/*
 * The transcript (doc/KEX.md): T_I is msg_transcript_request() of the
 * Tunnel Request and H(cert_R), T_R is msg_transcript_response() of the
 * Tunnel Response and the same hash.  Both are TLV lists, so every field
 * is typed and length-prefixed and no two field lists give the same bytes.
 *
 *   Sig_I = Sign(key_I, "ntmobile v1 initiator\0" || SHA-256(T_I))
 *   Sig_R = Sign(key_R, "ntmobile v1 responder\0" || SHA-256(T_I || T_R))
 *   th    = SHA-256(T_I || T_R)
 *   PRK   = HKDF-Extract(salt = temporary key, IKM)
 *   k_I->R = HKDF-Expand(PRK, "ntmobile v1 key i2r" || th, 32)
 *   k_R->I = HKDF-Expand(PRK, "ntmobile v1 key r2i" || th, 32)
 *   k_rekey = HKDF-Expand(PRK, "ntmobile v1 key rekey" || th, 32)
 *
 * Signatures: ECDSA P-256 with SHA-256 (DER, as GnuTLS writes it), or
 * RSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt for RSA-2048 keys
 * (GnuTLS's rsa_pss_rsae_sha256).  The algorithm follows from the
 * certificate key alone, never from the peer's message.
 */
/* The context strings are signed with their NUL. */
#define HANDSHAKE_CONTEXT_INITIATOR	"ntmobile v1 initiator"
#define HANDSHAKE_CONTEXT_RESPONDER	"ntmobile v1 responder"
#define HANDSHAKE_LABEL_I2R		"ntmobile v1 key i2r"
#define HANDSHAKE_LABEL_R2I		"ntmobile v1 key r2i"
#define HANDSHAKE_LABEL_REKEY		"ntmobile v1 key rekey"

enum handshake_err {
	HANDSHAKE_E_FIRST = -1520,
	HANDSHAKE_E_KEY_TYPE = HANDSHAKE_E_FIRST, /* not P-256 nor RSA-2048 */
	HANDSHAKE_E_TRANSCRIPT,		/* a signed field is missing */
	HANDSHAKE_E_NO_SIGNATURE,	/* no SIGNATURE attribute */
	HANDSHAKE_E_SIGNATURE,		/* signature does not verify */
	HANDSHAKE_E_SIGN,		/* the key could not sign */
	HANDSHAKE_E_AEAD,		/* no AEAD in common / not offered */
	HANDSHAKE_E_LAST = HANDSHAKE_E_AEAD,
};

enum handshake_limits {
	HANDSHAKE_HASH_LEN = PROTO_HASH_LEN,
	HANDSHAKE_KEY_LEN = PROTO_KEY_LEN,
	/* T_I plus T_R at their largest, with room to spare. */
	HANDSHAKE_TRANSCRIPT_MAX = 2048,
};

/* The tunnel keys; wipe with handshake_keys_wipe(). */
struct handshake_keys {
	uint8_t		 i2r[HANDSHAKE_KEY_LEN];	/* MN -> CN */
	uint8_t		 r2i[HANDSHAKE_KEY_LEN];	/* CN -> MN */
	uint8_t		 rekey[HANDSHAKE_KEY_LEN];
};

/*
 * Proof that a signature check succeeded: made only by
 * handshake_verify_request() and handshake_verify_response(), it records
 * which message was verified, its scheme, and the key-share field the
 * signature covered.  plugins/kex refuses to use a peer's field without
 * one that covers it.  Caller frees with handshake_verified_free().
 */
struct handshake_verified;

enum handshake_side {
	HANDSHAKE_SIDE_INVALID = 0,
	HANDSHAKE_SIDE_REQUEST,		/* Sig_I checked (at CN) */
	HANDSHAKE_SIDE_RESPONSE,	/* Sig_R checked (at MN) */
	HANDSHAKE_SIDE_REKEY_REQUEST,	/* opened in the tunnel */
	HANDSHAKE_SIDE_REKEY_RESPONSE,
};

const char	*handshake_strerror(int err);
/* The Tunnel Response status for an error of this module. */
enum proto_status handshake_status(int err);

/* SHA-256 of the certificate's DER: CERT_HASH, PEER_CERT_HASH. */
int	 handshake_cert_hash(gnutls_x509_crt_t,
	    uint8_t out[HANDSHAKE_HASH_LEN]);

/*
 * MN: signs the Tunnel Request `req` (every transcript field present, no
 * SIGNATURE yet; cert_hash_r is H(cert_R) from the Route Direction) with
 * its certificate key.  Writes at most cap bytes (PROTO_SIGNATURE_MAX is
 * enough) to sig and sets *siglen.  Returns 0, HANDSHAKE_E_KEY_TYPE,
 * HANDSHAKE_E_TRANSCRIPT, HANDSHAKE_E_SIGN or -ENOSPC.
 */
int	 handshake_sign_request(const struct msg *req,
	    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN], gnutls_privkey_t,
	    uint8_t *sig, size_t cap, size_t *siglen);
/*
 * CN: checks Sig_I (req's SIGNATURE) with MN's certificate key pub_i, its
 * own certificate's hash standing for H(cert_R).  Call it after cert_I and
 * status_I have been checked.  Returns 0 and *out, or
 * HANDSHAKE_E_NO_SIGNATURE, HANDSHAKE_E_SIGNATURE, HANDSHAKE_E_KEY_TYPE,
 * HANDSHAKE_E_TRANSCRIPT, -ENOMEM (*out NULL).
 */
int	 handshake_verify_request(const struct msg *req,
	    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN],
	    gnutls_pubkey_t pub_i, struct handshake_verified **out);
/* CN: signs the Tunnel Response `resp` (no SIGNATURE yet) after req. */
int	 handshake_sign_response(const struct msg *req,
	    const struct msg *resp,
	    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN], gnutls_privkey_t,
	    uint8_t *sig, size_t cap, size_t *siglen);
/*
 * MN: checks Sig_R with CN's certificate key, as verify_request does, and
 * then that the AEAD chosen is one that req offered (HANDSHAKE_E_AEAD).
 */
int	 handshake_verify_response(const struct msg *req,
	    const struct msg *resp,
	    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN],
	    gnutls_pubkey_t pub_r, struct handshake_verified **out);

/*
 * CN: the AEAD of the Tunnel Response, the first of its own preferences
 * (enum proto_aead ids, best first) that req's AEAD_OFFERS lists.
 * Returns 0 and *choice, or HANDSHAKE_E_AEAD (status AEAD_NOT_ALLOWED).
 */
int	 handshake_aead_choose(const struct msg *req, const uint8_t *prefs,
	    size_t nprefs, uint8_t *choice);
/* lib/aead's algorithm for a wire AEAD id; AEAD_ALG_INVALID if none. */
enum aead_alg handshake_aead_alg(uint8_t id);

void	 handshake_verified_free(struct handshake_verified *);
enum handshake_side handshake_verified_side(const struct handshake_verified *);
/*
 * True when v (non-NULL) came from a check of `side` whose message named
 * scheme `kex` and whose key-share attribute is `attr` with exactly these
 * len bytes (attr PROTO_ATTR_INVALID, len 0: the message had none).
 */
bool	 handshake_verified_covers(const struct handshake_verified *v,
	    enum handshake_side side, uint8_t kex, uint16_t attr,
	    const void *val, size_t len);

/* th = SHA-256(T_I || T_R).  0, HANDSHAKE_E_TRANSCRIPT. */
int	 handshake_transcript_hash(const struct msg *req,
	    const struct msg *resp,
	    const uint8_t cert_hash_r[HANDSHAKE_HASH_LEN],
	    uint8_t th[HANDSHAKE_HASH_LEN]);
/*
 * The key schedule above from the temporary key (salt), the scheme's IKM
 * and th.  Returns 0 or -EINVAL (NULL temp_key, empty IKM).
 */
int	 handshake_derive(const uint8_t temp_key[HANDSHAKE_KEY_LEN],
	    const uint8_t *ikm, size_t ikmlen,
	    const uint8_t th[HANDSHAKE_HASH_LEN], struct handshake_keys *);
void	 handshake_keys_wipe(struct handshake_keys *);

/*
 * Rekey (PROTOCOL.md 10.3): REKEY_REQUEST and REKEY_RESPONSE travel inside
 * the tunnel, authenticated by its AEAD rather than by signatures.
 *
 *   th  = SHA-256(attribute list of the request || of the response)
 *   PRK = HKDF-Extract(salt = k_rekey, IKM), IKM empty for shared
 *
 * then the three keys as above.  handshake_verified_tunnel() makes the
 * token for a REKEY_REQUEST (side REKEY_REQUEST) or REKEY_RESPONSE (side
 * REKEY_RESPONSE): call it only for a message that was opened with the
 * tunnel's current key.  `kex` is the tunnel's scheme.  Returns 0 and
 * *out, -EINVAL for another message type, -ENOMEM.
 */
int	 handshake_verified_tunnel(const struct msg *m, uint8_t kex,
	    struct handshake_verified **out);
/* 0, or HANDSHAKE_E_TRANSCRIPT when the lists exceed the transcript max. */
int	 handshake_rekey_hash(const struct msg *req, const struct msg *resp,
	    uint8_t th[HANDSHAKE_HASH_LEN]);
/* As handshake_derive(), salt k_rekey; ikmlen may be 0 (ikm NULL). */
int	 handshake_rekey_derive(const uint8_t k_rekey[HANDSHAKE_KEY_LEN],
	    const uint8_t *ikm, size_t ikmlen,
	    const uint8_t th[HANDSHAKE_HASH_LEN], struct handshake_keys *);

#endif
