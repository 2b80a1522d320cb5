/* enroll.h -- node side of enrollment, authentication and renewal with the AS (PROTOCOL.md 6.6, 12.2): CSR, requests, answers. */
#ifndef NTM_NODE_ENROLL_H
#define NTM_NODE_ENROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include <uv.h>

#include "msg.h"
#include "proto.h"
#include "tls.h"

struct cert_trust;

/*
 * The pure half of ntmd's AS client: it makes the CSR, encodes
 * ENROLL_REQUEST / AUTH_REQUEST / RENEW_REQUEST as TLS-channel messages
 * (flags 0, sequence 0, PROTOCOL.md 12.1), reads AUTH_RESPONSE, checks the
 * certificate it carries and saves what the node keeps; enroll_client_*
 * carries one request over a lib/tls client link to port 4612.
 *
 * Names: as/enroll.h owns enroll_parse/_issue/_answer_*; the node side
 * uses enroll_csr_make, enroll_request_encode and enroll_reply_*.
 */
enum enroll_node_limit {
	ENROLL_NODE_LIMIT_INVALID = 0,
	ENROLL_REPLY_DC_MAX = 4,		/* DC_ADDR 1..4 */
	ENROLL_REPLY_MAX = PROTO_TLS_MESSAGE_MAX,
};

/* An AUTH_RESPONSE as the node reads it; owns its buffers. */
struct enroll_reply {
	uint8_t		 status;		/* enum proto_status */
	uint32_t	 retry_after_ms;	/* 0: none given */
	char		 error_text[PROTO_TEXT_MAX + 1];
	gnutls_datum_t	 cert;			/* node certificate, DER */
	gnutls_datum_t	 ca;			/* AS intermediate, or empty */
	gnutls_datum_t	 ocsp;			/* its status, DER */
	uint8_t		 ticket[PROTO_TICKET_MAX];
	size_t		 ticket_len;
	uint8_t		 ticket_id[16];
	uint8_t		 k_nd[PROTO_KEY_LEN];	/* wiped by _free */
	uint64_t	 expiry;		/* ticket, Unix seconds */
	struct msg_addr	 dc[ENROLL_REPLY_DC_MAX];
	size_t		 ndc;
	char		 fqdn[PROTO_FQDN_MAX + 1];
	char		 zone[PROTO_FQDN_MAX + 1];
	bool		 has_vip4, has_vip6;
	uint8_t		 vip4[4], vip6[16];
};

/*
 * enroll_csr_make: a PKCS#10 request for key with subject CN=fqdn and
 * nothing else (the AS builds certificates from typed fields and refuses
 * requested extensions), self-signed with SHA-256.  *der is the caller's
 * (gnutls_free(der->data)).  0 or a negative errno / GnuTLS code.
 */
int	enroll_csr_make(gnutls_privkey_t key, const char *fqdn,
	    gnutls_datum_t *der);

/*
 * enroll_request_encode: type ENROLL_REQUEST (account, password, csr
 * required), AUTH_REQUEST (none) or RENEW_REQUEST (csr).  Returns 0, or
 * -EINVAL for a type or missing field, or the codec's error.
 */
int	enroll_request_encode(uint8_t type, uint32_t txid, const char *account,
	    const char *password, const gnutls_datum_t *csr, uint8_t *out,
	    size_t cap, size_t *outlen);

/*
 * enroll_reply_parse: one AUTH_RESPONSE frame answering txid.  Returns 0
 * with *r filled (r->status says whether the AS accepted; a refusal has
 * only status, retry_after_ms and error_text), -ENOMSG for another
 * transaction or message type, a MSG_E_* code, or -ENOMEM.
 * enroll_reply_free() wipes K_ND and frees; it accepts a zeroed reply.
 */
int	enroll_reply_parse(const uint8_t *frame, size_t len, uint32_t txid,
	    struct enroll_reply *r);
void	enroll_reply_free(struct enroll_reply *);

/*
 * enroll_reply_verify: the certificate the AS sent is for us: it chains
 * to trust through the AS CA of the reply, has role ntm-node, names fqdn
 * (when not NULL) and exactly the virtual IPs the reply lists, and is
 * valid at now (lib/cert's cert_verify).  When key is not NULL its public
 * key must be the certificate's.  0 or a CERT_E_* / negative errno.
 * *renew_at (may be NULL) is when to renew: two thirds of the lifetime.
 */
int	enroll_reply_verify(const struct enroll_reply *,
	    const struct cert_trust *trust, const char *fqdn,
	    gnutls_privkey_t key, time_t now, time_t *renew_at);

/*
 * enroll_reply_save: writes cert.pem (node certificate then AS CA, PEM),
 * status.der, and the ticket pair through node/store (0600 each).
 */
int	enroll_reply_save(const struct enroll_reply *, const char *dir);

/*
 * enroll_status_times: thisUpdate and nextUpdate of the node's own status
 * (a DER OCSP response as the AS sent it, status.der), read without
 * checking the signature: the tunnel peer checks it, ntmd only needs to
 * know when to ask for a fresher one.  0, or -EINVAL when it is not an
 * OCSP response with one SingleResponse carrying both dates, or -ENOMEM.
 */
int	enroll_status_times(const uint8_t *der, size_t len,
	    time_t *this_update, time_t *next_update);

/*
 * enroll_status_refresh_at: when to ask the AS again for the status valid
 * from this_update to next_update: at half of that span plus one second
 * (the AS hands out its stored response until its half-life, a fresh one
 * from then on), and never before this_update.
 */
time_t	enroll_status_refresh_at(time_t this_update, time_t next_update);

/*
 * One request to the AS over TLS (PROTOCOL.md 12.1): the server must
 * present role ntm-as chaining to the creds' trust store; creds carry the
 * node certificate and key for AUTH/RENEW, or none for ENROLL.  The
 * request is sent on every (re)connection until an AUTH_RESPONSE with its
 * transaction id arrives; then done(arg, 0, reply) runs once (reply
 * borrowed for the call; its status may be a refusal) and the link
 * closes.  A broken answer gives done(arg, error, NULL).  The lib/tls
 * client reconnects with backoff on its own, so the caller bounds the
 * whole exchange with its own timer and enroll_client_stop().  The struct
 * is embedded by its owner and must outlive the link's close (the tls
 * client frees itself in its close callback).
 */
typedef void	(*enroll_done_fn)(void *arg, int err,
		    const struct enroll_reply *reply);

struct enroll_client {
	struct tls_client	*cl;
	struct tls_expect	 expect;
	uint8_t			*req;
	size_t			 req_len;
	uint32_t		 txid;
	enroll_done_fn		 done;
	void			*arg;
	bool			 finished;
	uint64_t		 sends;
};

int	enroll_client_start(struct enroll_client *, uv_loop_t *,
	    const struct sockaddr *as, struct tls_creds *creds,
	    tls_clock_fn clock, void *clock_arg, const uint8_t *req,
	    size_t len, uint32_t txid, enroll_done_fn done, void *arg);
void	enroll_client_stop(struct enroll_client *);

#endif
