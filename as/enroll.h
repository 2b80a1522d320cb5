/* enroll.h -- sans-I/O handling of ENROLL, AUTH and RENEW requests: checks, issuance, answers, rate limits. */
#ifndef NTM_AS_ENROLL_H
#define NTM_AS_ENROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <netinet/in.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "config_table.h"
#include "msg.h"
#include "proto.h"

struct account_params;
struct ntm_rng;
struct status_ctx;

/*
 * PROTOCOL.md 6.6 and 12.2.  The daemon's TLS channel (port 4612, client
 * certificate optional) hands each frame to enroll_parse() on the loop
 * thread, asks the rate limiter (enroll_limit_take()), runs the blocking
 * part off the loop (enroll_check_password() then enroll_issue(): argon2,
 * signing through the signer process, SQLite), and sends what
 * enroll_answer_encode() or enroll_refusal_encode() writes.  Nothing here
 * does I/O on a socket or reads the clock.
 *
 * Virtual IPs come from one of two places, per DC (enroll_dc.vip_from_dc,
 * [dc.NAME] vip_source in ntm-as.conf):
 *
 *  - the home DC (vip_source = dc): the daemon calls enroll_prepare() for
 *    an ENROLL, asks the DC with VIP_REQUEST over the notice channel
 *    (as/notice.h) and, with the DC's answer in req->vip4/vip6
 *    (req->vip_given), calls enroll_issue(), which accepts the pair only
 *    inside the DC's configured prefixes (ENROLL_E_VIP_OUTSIDE) and held
 *    by no live certificate of another node (ENROLL_E_VIP_IN_USE).  When
 *    the DC does not answer in time the daemon falls back to the pool if
 *    pool4/pool6 were configured explicitly (enroll_dc.pool_fallback), and
 *    otherwise refuses with ENROLL_E_DC_UNAVAILABLE;
 *  - the AS's own pool (vip_source = pool, the default: enroll_dc.pool4/
 *    pool6, which lie inside the DC's prefixes).  A node keeps the
 *    addresses of its newest earlier certificate when they are still
 *    inside the prefixes and held by no live certificate of another node;
 *    otherwise the lowest free pair of the pool is taken (the same host
 *    index in both pools).
 *
 * Renewal keeps the certificate's addresses and asks nobody.  The database
 * trigger certificates_live_vip is the last word: two issuances racing for
 * one address cannot both commit.
 *
 * Renewal revokes the certificate it replaces (reason superseded) once
 * the new one is stored, with its "revoked" status and notice to every DC.
 *
 * Refusals, each with its own code, its wire status and its log line naming
 * the account or certificate and the peer:
 *
 *   ENROLL_E_MALFORMED     MALFORMED       attributes missing or wrong type
 *   ENROLL_E_AUTH          AUTH_FAILED     unknown account or bad password
 *   ENROLL_E_DISABLED      AUTH_FAILED     account disabled
 *   ENROLL_E_RATE_ACCOUNT  RATE_LIMITED    too many attempts on the account
 *   ENROLL_E_RATE_SOURCE   RATE_LIMITED    too many attempts from the address
 *   ENROLL_E_BUSY          RATE_LIMITED    too many password checks running
 *   ENROLL_E_CSR           CERT_INVALID    CSR bad signature, key type,
 *                                          extensions asked, names
 *   ENROLL_E_NOT_OWNED     REFUSED_POLICY  the account does not own the FQDN
 *   ENROLL_E_ZONE          UNKNOWN_NODE    no configured DC serves its zone
 *   ENROLL_E_VIP_IN_USE    ADDRESS_IN_USE  held by another node's live cert
 *   ENROLL_E_VIP_OUTSIDE   ADDRESS_IN_USE  outside the home DC's prefixes
 *   ENROLL_E_POOL_EMPTY    UNAVAILABLE     no free address in the pool
 *   ENROLL_E_DC_UNAVAILABLE UNAVAILABLE    the home DC gave no addresses
 *   ENROLL_E_NO_CERT       AUTH_FAILED     AUTH/RENEW without a client cert
 *   ENROLL_E_ROLE          CERT_INVALID    client cert is not ntm-node
 *   ENROLL_E_UNKNOWN_CERT  CERT_INVALID    client cert not issued by this AS
 *   ENROLL_E_REVOKED       REVOKED         client cert revoked
 *   ENROLL_E_EXPIRED       EXPIRED         client cert expired
 *   ENROLL_E_TICKET        UNAVAILABLE     no ticket key for the home DC
 *   ENROLL_E_INTERNAL      INTERNAL        signing or database failure
 */
enum enroll_error {
	ENROLL_E_FIRST = -1400,
	ENROLL_E_MALFORMED = ENROLL_E_FIRST,
	ENROLL_E_AUTH,
	ENROLL_E_DISABLED,
	ENROLL_E_RATE_ACCOUNT,
	ENROLL_E_RATE_SOURCE,
	ENROLL_E_BUSY,
	ENROLL_E_CSR,
	ENROLL_E_NOT_OWNED,
	ENROLL_E_ZONE,
	ENROLL_E_VIP_IN_USE,
	ENROLL_E_VIP_OUTSIDE,
	ENROLL_E_POOL_EMPTY,
	ENROLL_E_NO_CERT,
	ENROLL_E_ROLE,
	ENROLL_E_UNKNOWN_CERT,
	ENROLL_E_REVOKED,
	ENROLL_E_EXPIRED,
	ENROLL_E_TICKET,
	ENROLL_E_DC_UNAVAILABLE,
	ENROLL_E_INTERNAL,
	ENROLL_E_LAST = ENROLL_E_INTERNAL,
};

enum enroll_limits {
	ENROLL_LIMITS_INVALID = 0,
	ENROLL_LIFETIME_DEFAULT = 30 * 86400,	/* node certificate, s */
	ENROLL_LIFETIME_MIN = 3600,
	ENROLL_LIFETIME_MAX = 397 * 86400,
	ENROLL_DC_ADDRS_MAX = 4,		/* DC_ADDR in an answer */
	ENROLL_POOL_SCAN_MAX = 65536,		/* host indexes tried */
	ENROLL_LIMIT_SLOTS_DEFAULT = 4096,	/* buckets per limiter */
	ENROLL_LIMIT_PROBE = 8,			/* slots tried per key */
	ENROLL_LIMIT_KEY_MAX = 64,		/* account or address text */
	ENROLL_CHECKS_DEFAULT = 4,		/* argon2 checks at once */
	ENROLL_ANSWER_MAX = PROTO_HEADER_LEN + 65535,
};

/* A DC as the AS knows it (from its configuration); borrowed by the ctx. */
struct enroll_dc {
	const char		*name;		/* outbox DC name */
	const char		*zone;		/* "dc1.ntm.test" */
	struct config_prefix	 prefix4;
	struct config_prefix	 prefix6;
	struct config_prefix	 pool4;		/* inside prefix4 */
	struct config_prefix	 pool6;		/* inside prefix6 */
	struct msg_addr		 addrs[ENROLL_DC_ADDRS_MAX]; /* DC_ADDR */
	size_t			 naddrs;
	bool			 vip_from_dc;	/* VIP_REQUEST to the DC */
	bool			 pool_fallback;	/* the pool when it fails */
	void			*ticket_arg;	/* given to the seal callback */
};

/* The fields of a DC ticket (PROTOCOL.md 13) the AS made for a node. */
struct enroll_ticket {
	uint8_t		 id[16];
	uint8_t		 key[PROTO_KEY_LEN];	/* K_ND; wiped on clear */
	uint64_t	 expiry;		/* unix seconds */
	const char	*fqdn;			/* borrowed for the call */
	bool		 has_vip4, has_vip6;
	struct in_addr	 vip4;
	struct in6_addr	 vip6;
	uint8_t		 serial[PROTO_SERIAL_MAX];
	size_t		 serial_len;
};

/*
 * Seals `t` for `dc` (lib/ticket's ticket_seal under the DC's current key):
 * writes at most cap bytes to out and the length to *outlen.  Returns 0, or
 * a negative value: the node is refused with ENROLL_E_TICKET.
 */
typedef int	(*enroll_seal_fn)(const struct enroll_dc *,
		    const struct enroll_ticket *, struct ntm_rng *,
		    uint8_t *out, size_t cap, size_t *outlen);

/* Everything the blocking part needs; pointers borrowed. */
struct enroll_ctx {
	const struct status_ctx		*status;	/* db, CA, key, OCSP */
	const struct account_params	*params;	/* argon2 cost */
	struct ntm_rng			*rng;
	const struct enroll_dc		*dcs;
	size_t				 ndcs;
	uint32_t			 lifetime;	/* 0: default */
	uint32_t			 ticket_lifetime; /* 0: 24 h */
	enroll_seal_fn			 seal;
};

enum enroll_kind {
	ENROLL_KIND_INVALID = 0,
	ENROLL_KIND_ENROLL,	/* account + password + CSR */
	ENROLL_KIND_AUTH,	/* client certificate */
	ENROLL_KIND_RENEW,	/* client certificate + CSR */
};

/* A parsed request: owns its copies (enroll_request_clear() wipes). */
struct enroll_request {
	enum enroll_kind	 kind;
	uint32_t		 txid;
	char			 account[ENROLL_LIMIT_KEY_MAX + 1];
	char			*password;	/* ENROLL; wiped */
	size_t			 password_len;
	uint8_t			*csr;		/* DER; ENROLL, RENEW */
	size_t			 csr_len;
	uint8_t			*client;	/* client cert DER or NULL */
	size_t			 client_len;
	char			 peer[72];	/* address:port for logs */
	/* ENROLL: the home DC's answer to VIP_REQUEST (see above). */
	bool			 vip_given;
	struct in_addr		 vip4;
	struct in6_addr		 vip6;
};

/* The answer's content; owned (enroll_result_clear() wipes and frees). */
struct enroll_result {
	gnutls_datum_t		 cert;		/* node certificate DER */
	gnutls_datum_t		 ca;		/* AS CA DER */
	gnutls_datum_t		 status;	/* OCSP response DER */
	struct enroll_ticket	 ticket;
	uint8_t			 sealed[PROTO_TICKET_MAX];
	size_t			 sealed_len;
	char			 fqdn[PROTO_FQDN_MAX + 1];
	char			 serial[33];
	const struct enroll_dc	*dc;		/* borrowed from the ctx */
	bool			 has_vip4, has_vip6;
	struct in_addr		 vip4;
	struct in6_addr		 vip6;
	bool			 issued;	/* a new certificate */
	uint64_t		 notice_seq;	/* its ISSUED notice, or 0 */
};

const char	*enroll_strerror(int err);
/* The wire status of an enroll error (INTERNAL for anything else). */
enum proto_status enroll_status(int err);

/*
 * enroll_parse: decodes one frame from the node channel.  Fills *req
 * (cleared first) with copies; `client` is the TLS client certificate or
 * NULL, `peer` the address text.  Returns 0; ENROLL_E_MALFORMED for a frame
 * that decodes but is no request or lacks its attributes (req->txid is set
 * when the header decoded, for the error answer); ENROLL_E_NO_CERT for AUTH
 * or RENEW without a client certificate; a MSG_E_* header error (the
 * caller closes the connection); -ENOMEM.
 */
int	 enroll_parse(const uint8_t *frame, size_t len,
	    gnutls_x509_crt_t client, const char *peer,
	    struct enroll_request *req);
void	 enroll_request_clear(struct enroll_request *);

/*
 * enroll_check_password: ENROLL only; argon2 (blocking, off the loop).
 * 0, ENROLL_E_AUTH, ENROLL_E_DISABLED or ENROLL_E_INTERNAL.  Logs the
 * account and peer on refusal.
 */
int	 enroll_check_password(const struct enroll_ctx *,
	    const struct enroll_request *);

/*
 * enroll_prepare: ENROLL only, after a good password, before asking the
 * DC: the CSR's name, that the account owns it, and its home DC.  Writes
 * the name to fqdn[cap] and the DC (borrowed from ctx) to *dc.  0 or an
 * ENROLL_E_* refusal (logged).  enroll_issue() checks all of it again.
 */
int	 enroll_prepare(const struct enroll_ctx *,
	    const struct enroll_request *, char *fqdn, size_t cap,
	    const struct enroll_dc **dc);

/*
 * enroll_issue: the rest of the request (after a good password for
 * ENROLL): checks, issuance, status, ticket, database rows and notices in
 * one transaction.  Blocking (signer, SQLite): off the loop, one at a time
 * per database.  Returns 0 with *res filled, or an ENROLL_E_* refusal
 * (logged with the account or certificate and the peer).
 */
int	 enroll_issue(const struct enroll_ctx *, const struct enroll_request *,
	    time_t now, struct enroll_result *res);
void	 enroll_result_clear(struct enroll_result *);

/* AUTH_RESPONSE (OK) for a result; out needs ENROLL_ANSWER_MAX at most. */
int	 enroll_answer_encode(const struct enroll_result *, uint32_t txid,
	    uint8_t *out, size_t cap, size_t *outlen);
/*
 * AUTH_RESPONSE carrying the refusal's status, ERROR_TEXT naming the
 * refusal, and RETRY_AFTER when retry_ms is not 0.
 */
int	 enroll_refusal_encode(int err, uint32_t txid, uint32_t retry_ms,
	    uint8_t *out, size_t cap, size_t *outlen);

/*
 * Password-guessing limits: token buckets in a fixed table (no allocation
 * after init, so a flood of names or addresses costs no memory).  Each
 * bucket holds up to `burst` tokens and regains `per_min` a minute.  A key
 * hashes (keyed with a random secret) to ENROLL_LIMIT_PROBE candidate slots;
 * a new key takes a free slot or one whose bucket has refilled (nothing to
 * remember), and otherwise shares the first candidate's bucket, so a full
 * table limits more, never less.
 */
struct enroll_bucket {
	char		 key[ENROLL_LIMIT_KEY_MAX + 1];	/* "" = free */
	uint64_t	 milli;		/* tokens x 1000 */
	uint64_t	 last_ms;
};

struct enroll_limiter {
	struct enroll_bucket	*slot;
	size_t			 nslots;
	uint32_t		 burst;
	uint32_t		 per_min;
	uint8_t			 secret[16];
};

int	 enroll_limiter_init(struct enroll_limiter *, size_t nslots,
	    uint32_t burst, uint32_t per_min, struct ntm_rng *);
void	 enroll_limiter_free(struct enroll_limiter *);
/*
 * Takes one token for `key` at now_ms.  true when allowed; false when the
 * bucket is empty, with *retry_ms the wait until one token is back.
 */
bool	 enroll_limit_take(struct enroll_limiter *, const char *key,
	    uint64_t now_ms, uint32_t *retry_ms);

#endif
