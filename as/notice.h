/* notice.h -- AS -> DC notices: encoding outbox rows as NOTICE_* messages and delivering them over mutual TLS. */
#ifndef NTM_AS_NOTICE_H
#define NTM_AS_NOTICE_H

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct as_env;
struct as_dc_conf;
struct db;
struct notice_link;
struct outbox_notice;

/*
 * PROTOCOL.md 6.7 and 12.3.  One link per configured DC: a persistent TLS
 * 1.3 client (lib/tls) to the DC's address, presenting the AS's ntm-as
 * certificate and accepting only a certificate of role ntm-dc that lists
 * the DC's zone.  Notices are read from the outbox (as/outbox.h) in seq
 * order, at most notice_window unacknowledged, and sent as NOTICE_ISSUED,
 * NOTICE_REVOKED or NOTICE_STATUS with NOTICE_SEQ = the outbox seq (the
 * header's transaction id carries its low 32 bits).  NOTICE_ACK moves the
 * DC's cursor, written to dc_cursors through the job queue.  After any
 * reconnect or restart everything above the last acknowledged seq is sent
 * again; the DC ignores and re-acknowledges what it already applied, so
 * it sees each notice once, in order.
 *
 * Seqs for one DC are increasing but not contiguous (outbox.h: one counter
 * for all DCs), so a DC must accept any seq above its cursor in order;
 * PROTOCOL.md 12.3's "a gap is not applied" holds per AS counter only.
 *
 * The same connection carries VIP_REQUEST {FQDN} to the DC and its
 * VIP_RESPONSE back (PROTOCOL.md 6.7), matched by transaction id and
 * name.  A request waits for the connection (it is sent, or sent again,
 * whenever the link comes up) until its deadline; the DC's answer is not
 * sequenced and not part of the outbox.
 */

/*
 * notice_encode: the message for one outbox row (runs on the job thread:
 * it reads the certificate, revocation and status rows it needs).  0 and
 * out[*outlen], or a negative errno / MSG_E_* code.
 */
int	 notice_encode(struct db *, const struct outbox_notice *,
	    uint8_t *out, size_t cap, size_t *outlen);
/* NOTICE_ACK: 0 and *seq, or a MSG_E_* code / -EPROTO for another type. */
int	 notice_ack_decode(const uint8_t *frame, size_t len, uint64_t *seq);

/* VIP_REQUEST for fqdn (lower-case) with transaction id txid. */
int	 notice_vip_request_encode(const char *fqdn, uint32_t txid,
	    uint8_t *out, size_t cap, size_t *outlen);

/* A decoded VIP_RESPONSE. */
struct notice_vip_answer {
	uint32_t	 txid;
	uint8_t		 status;	/* enum proto_status */
	char		 fqdn[PROTO_FQDN_MAX + 1];
	bool		 has_vip4, has_vip6;
	struct in_addr	 vip4;
	struct in6_addr	 vip6;
};
/* VIP_RESPONSE: 0 and *a, a MSG_E_* code, or -EPROTO for another type. */
int	 notice_vip_response_decode(const uint8_t *frame, size_t len,
	    struct notice_vip_answer *a);

/*
 * Links, on the loop thread.  notice_link_new reads the DC's stored cursor
 * on the job queue and connects; notice_link_kick says a notice for it may
 * have committed; notice_link_stop closes the TLS client and the timer.
 * notice_link_free releases the memory: call it after the loop has run
 * every close callback and job (loop_shutdown()).  Both accept NULL.
 */
int	 notice_link_new(struct as_env *, const struct as_dc_conf *,
	    struct notice_link **out);
void	 notice_link_kick(struct notice_link *);
void	 notice_link_stop(struct notice_link *);
void	 notice_link_free(struct notice_link *);
/*
 * notice_link_vip_request: asks the link's DC for fqdn's virtual IPs.  cb
 * runs once, on the loop: rv 0 with the DC's answer (any status: check
 * a->status), -ETIMEDOUT when no answer came within timeout_ms (the DC
 * down, unreachable or slow), -ECANCELED when the link stops first.
 * Returns 0, or -ECANCELED (the link is stopped; cb is not called),
 * -ENOMEM, -EINVAL (name too long).
 */
typedef void	(*notice_vip_cb)(void *arg, int rv,
		    const struct notice_vip_answer *a);
int	 notice_link_vip_request(struct notice_link *, const char *fqdn,
	    uint64_t timeout_ms, notice_vip_cb cb, void *arg);

/* For logs and ntmctl: the last seq the DC acknowledged, whether it is up. */
uint64_t notice_link_acked(const struct notice_link *);
int	 notice_link_connected(const struct notice_link *);

#endif
