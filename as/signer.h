/* signer.h -- the AS CA key in its own process, reached over a socketpair by typed sign requests. */
#ifndef NTM_AS_SIGNER_H
#define NTM_AS_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

/*
 * The AS intermediate CA key is loaded only by a signer process forked at
 * start-up (as iked's ca process).  The network-facing process never opens
 * the key file and holds no copy of the key: it sends "sign this" requests
 * over a SOCK_SEQPACKET socketpair and gets signatures back.
 *
 * Wire format on the socketpair (host-independent, big-endian, one request
 * or answer per packet):
 *
 *   request                             answer
 *   0      1      3         7           0      1         5         9
 *   +------+------+---------+----       +------+---------+---------+----
 *   | type | algo | length  | bytes     | type | status  | length  | bytes
 *   +------+------+---------+----       +------+---------+---------+----
 *     u8     u16     u32                  u8      u32       u32
 *
 * type: enum signer_msg.  algo: the gnutls_sign_algorithm_t to sign with
 * (0 for GET_PUBKEY).  length: exactly the bytes that follow.  An answer
 * repeats the request's type; status is 0 or a positive errno; its bytes are
 * the signature (DER for ECDSA) or the public key (SubjectPublicKeyInfo DER).
 * The child sends one unsolicited READY answer when it starts: status 0 once
 * the key is loaded, or the errno of the failure (then it exits).
 *
 * A malformed request (short, length not matching the packet, unknown type,
 * over the limits below) is a broken IPC contract from a trusted sibling:
 * the child logs it and exits with status 1 (through _exit(): a forked copy
 * of the AS must not run the AS's atexit handlers, so not fatalx()).  A
 * request the key cannot serve (an algorithm of another key type) is
 * answered with an error status.
 */
enum signer_msg {
	SIGNER_MSG_INVALID = 0,
	SIGNER_MSG_SIGN_DATA,	/* bytes: data; the signer hashes it */
	SIGNER_MSG_SIGN_HASH,	/* bytes: digest (RSA: DigestInfo, RSA_RAW) */
	SIGNER_MSG_GET_PUBKEY,	/* no bytes; answer: SPKI DER */
	SIGNER_MSG_READY,	/* answer only, first on the socket */
};

enum signer_limits {
	SIGNER_LIMITS_INVALID = 0,
	SIGNER_REQ_HDR = 7,
	SIGNER_ANS_HDR = 9,
	/*
	 * Data to sign in one request.  ECDSA and RSA certificates, CRLs and
	 * OCSP responses are hashed in the AS process and only the digest
	 * (SIGNER_HASH_MAX) crosses; whole data crosses only for algorithms
	 * that cannot sign a digest (EdDSA).
	 */
	SIGNER_DATA_MAX = 64 * 1024,
	SIGNER_HASH_MAX = 64 + 19,	/* SHA-512 in a PKCS#1 DigestInfo */
	SIGNER_ANSWER_MAX = 4096,	/* a signature or an SPKI */
	SIGNER_TIMEOUT_MS = 5000,	/* default wait for one answer */
	SIGNER_STOP_WAIT_MS = 1000,	/* EOF to exit, then SIGKILL */
};

struct signer;

/*
 * signer_start: forks the signer process for the PEM (or DER) private key
 * at `keyfile` and waits for it to be ready.  The child opens and parses
 * the key; the calling process never reads the file.  Call it at start-up,
 * before any thread exists (fork) and before privileges are dropped if the
 * key needs them.
 *
 * The child: becomes non-dumpable (no core file, no ptrace by the same
 * user), dies with its parent (PR_SET_PDEATHSIG), ignores SIGINT/SIGHUP
 * (the AS's shutdown closes the socket), closes every descriptor but 0-2
 * and its end of the socketpair, refuses a key file that gives any access
 * to group or others, announces READY, then answers requests until EOF and
 * exits.
 *
 * Returns 0 and *out (the caller's: signer_stop()), or a negative errno:
 * -EPERM for a group/world-accessible key file, -ENOENT for a missing one,
 * -EBADMSG for a file that holds no key, -ETIMEDOUT if the child did not
 * answer, -EPIPE if it died, others from socketpair(2) and fork(2).
 */
int	 signer_start(const char *keyfile, struct signer **out);

/*
 * signer_stop: closes the socket (the child sees EOF and exits), reaps the
 * child, killing it after SIGNER_STOP_WAIT_MS, and frees.  Every privkey
 * made by signer_privkey() must be deinitialised before.  Accepts NULL.
 *
 * The child is signalled through a pidfd (Linux 5.3+; the pid otherwise),
 * so it is never confused with a process that took its pid.  Even so, the
 * AS should leave reaping it to signer_stop() (no waitpid(-1) loop in a
 * SIGCHLD handler), or the pid fallback could signal a stranger.
 */
void	 signer_stop(struct signer *);

/*
 * The child's pid and the parent's end of the socket (borrowed: an event
 * loop may watch it for hang-up; nothing else may read or write it).
 */
pid_t	 signer_pid(const struct signer *);
int	 signer_fd(const struct signer *);

/* Per-answer wait; 0 restores SIGNER_TIMEOUT_MS. */
void	 signer_set_timeout(struct signer *, unsigned int ms);

/*
 * One request and its answer.  Thread-safe (one request at a time per
 * signer), blocking for at most the timeout: run it off the loop thread.
 * *sig (caller's, gnutls_free) receives the signature.
 *
 * Refused before anything is sent: -EMSGSIZE for data over SIGNER_DATA_MAX
 * or a digest over SIGNER_HASH_MAX, -EINVAL for a zero or out-of-range
 * algorithm.  Errors answered by the child come back as their errno
 * (-EINVAL: algorithm not usable with this key).  A dead child gives -EPIPE;
 * a child that does not answer in time gives -ETIMEDOUT; an answer that
 * breaks the format (wrong type, oversized, length mismatch) gives -EBADMSG.
 * After -EPIPE, -ETIMEDOUT or -EBADMSG the signer is unusable (a late answer
 * must never be taken for the next request's): the child is killed and every
 * later call returns -EPIPE.  The AS treats that as fatal and restarts.
 */
int	 signer_sign_data(struct signer *, gnutls_sign_algorithm_t,
	    const void *data, size_t len, gnutls_datum_t *sig);
int	 signer_sign_hash(struct signer *, gnutls_sign_algorithm_t,
	    const void *hash, size_t len, gnutls_datum_t *sig);

/*
 * The CA public key, as fetched (GET_PUBKEY) by signer_start().
 * signer_pubkey gives a new copy (*out is the caller's, deinit it).
 * signer_matches_crt is true when `crt` certifies this key: the AS checks
 * its configured CA certificate with it at start-up.
 */
int	 signer_pubkey(const struct signer *, gnutls_pubkey_t *out);
bool	 signer_matches_crt(const struct signer *, gnutls_x509_crt_t crt);

/*
 * signer_privkey: a gnutls_privkey_t (gnutls_privkey_import_ext4) whose
 * sign operations are forwarded to the signer, so the GnuTLS functions that
 * take an issuer key (gnutls_x509_crt_privkey_sign, gnutls_x509_crl_privkey_
 * sign, gnutls_privkey_sign_data2/hash2) work unchanged.  Signing the digest
 * is preferred: only EdDSA sends the whole data.  Decryption is not offered.
 * The key cannot be exported: it is not in this process.  *out is the
 * caller's (gnutls_privkey_deinit); it borrows the signer, so deinit it
 * before signer_stop().
 */
int	 signer_privkey(struct signer *, gnutls_privkey_t *out);

#endif
