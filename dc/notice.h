/* notice.h -- AS -> DC notices on TLS 4611 (PROTOCOL.md 6.7, 12.3): applied once and in order, acknowledged by seq; VIP_REQUEST answers; the DC's certificate status store. */
#ifndef NTM_DC_NOTICE_H
#define NTM_DC_NOTICE_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>
#include <gnutls/x509.h>

#include "proto.h"

struct signal_cert;
struct tls_creds;
struct tls_conn;
struct tls_peer;
struct vip_config;

/*
 * The AS sends NOTICE_ISSUED, NOTICE_REVOKED, NOTICE_STATUS (and, as
 * PROTOCOL.md 6.7 defines it, NOTICE_TICKET_KEY) with a NOTICE_SEQ it
 * assigns.  The DC keeps, per AS (named by its certificate's FQDN), the
 * last seq it applied in the notice_cursor table:
 *
 *   seq <= cursor   not applied; NOTICE_ACK with the cursor again
 *   seq >  cursor   applied in one transaction with the cursor update,
 *                   then NOTICE_ACK with seq
 *
 * A notice whose transaction fails is not acknowledged, and every later
 * notice from that AS is held back (not applied, not acknowledged) until
 * the failed one, resent, is applied: otherwise the cursor would pass it
 * and the resend would count as a duplicate, a revocation lost for good.
 *
 * Decision: a seq above cursor + 1 is applied too.  ntm-as draws seqs from
 * one counter for all DCs (as/outbox.h), so a DC sees gaps left by other
 * DCs' notices; PROTOCOL.md 12.3's "a gap is not applied" would stall it.
 * Order is kept by the AS (one connection, sent in seq order) and by the
 * DC (one notice applied at a time, in arrival order).
 *
 * What a notice does, in the transaction:
 *   ISSUED      cert_status upsert (good, with the certificate hash),
 *               nodes and vip_assignments upserts with its vIPs; other
 *               rows holding one of them are deleted first (the AS
 *               reassigns the addresses of revoked and expired
 *               certificates), and those nodes leave DNS (node_remove)
 *   REVOKED     cert_status upsert with revoked = 1 (final); the
 *               revoked hook, unless the reason is superseded (a
 *               renewal) and the node has another good certificate
 *   STATUS      cert_status upsert, unless the row is revoked or newer
 *   TICKET_KEY  ticket_keys upsert
 * cert_status rows are written by upsert (never INSERT OR REPLACE), so
 * the schema's trigger keeps revoked final; an older status never
 * replaces a newer one.  Every STATUS is checked: DER OCSP response,
 * signed by the AS CA (when one is given), about the notice's SERIAL.
 * After the commit, and only then, the in-memory store and the hooks:
 * node_set (DNS), revoked (dc/signal ends the node's registration),
 * ticket_key (dc/signal opens tickets under it).
 *
 * The status store in memory (per certificate: serial, FQDN, hash, newest
 * status, revoked) answers dc/signal's hooks without touching SQLite:
 * notice_revoked() and notice_cert().  It is loaded from cert_status at
 * start, certificate hashes included (schema migration 2), so a restarted
 * DC staples the same hash; a row written before that migration has no
 * hash and notice_cert() says -ENOENT for it until the AS sends its
 * NOTICE_ISSUED again.
 *
 * VIP_REQUEST {FQDN} from the AS is answered on the same connection with
 * VIP_RESPONSE (the request's transaction id): OK with VIP4 and VIP6 from
 * vip_assign() (dc/vip.h: the DC's prefixes, stable per FQDN, persisted);
 * UNKNOWN_NODE for a name that is not one label below the DC's zone;
 * ADDRESS_IN_USE when every pair is held; UNAVAILABLE when the DC has no
 * prefixes set (notice_set_vip() not called); INTERNAL on a database
 * failure.  It goes through the same queue and worker as the notices (in
 * arrival order), carries no seq and moves no cursor.
 */
enum notice_limit {
	NOTICE_LIMIT_INVALID = 0,
	NOTICE_QUEUE_MAX = 1024,	/* frames waiting for the worker */
	NOTICE_AS_NAME_MAX = PROTO_FQDN_MAX,
	NOTICE_ACK_MAX = 512,		/* a NOTICE_ACK or VIP_RESPONSE */
	NOTICE_BUCKETS_MIN = 256,
	NOTICE_LISTEN_MAX = 16,
	NOTICE_DISPLACED_MAX = 2,	/* one per address family */
};

struct notice_hooks {
	int	(*node_set)(void *arg, const char *fqdn, const char *vip4,
		    const char *vip6);
	/* A node whose virtual IPs the AS gave to another (see ISSUED). */
	void	(*node_remove)(void *arg, const char *fqdn);
	void	(*revoked)(void *arg, const char *fqdn);
	void	(*ticket_key)(void *arg, uint32_t id,
		    const uint8_t key[PROTO_KEY_LEN]);
	void	*arg;
};

/* Counters, logged at exit. */
struct notice_stats {
	uint64_t	 received;
	uint64_t	 applied;
	uint64_t	 duplicates;	/* seq at or below the cursor */
	uint64_t	 refused;	/* undecodable, wrong type, bad
					 * status */
	uint64_t	 db_errors;	/* not applied, not acknowledged */
	uint64_t	 held_back;	/* after a db error, until it is
					 * applied: not applied, not acked */
	uint64_t	 vips;		/* VIP_REQUESTs answered OK */
	uint64_t	 vips_refused;	/* answered with an error status */
};

struct notice;

/*
 * notice_new: opens the DC database at db_path (through SQLite alone; see
 * dc.c on lib/db's open), reads the cursors and the cert_status rows.
 * as_ca (borrowed, may be NULL: statuses are not signature-checked) is the
 * AS CA that signs statuses.  hooks is copied.  Free with notice_free().
 */
int	notice_new(struct notice **, const char *db_path,
	    gnutls_x509_crt_t as_ca, const struct notice_hooks *hooks);
void	notice_free(struct notice *);		/* accepts NULL */

/*
 * notice_input: one frame from the AS named as_name, applied as above, at
 * `now` (statuses must not be dated in the future beyond the skew).  On
 * return *acklen is the length of the NOTICE_ACK to send in ack[cap] (0:
 * nothing to send: the frame was refused, or the database failed and the
 * AS will resend).  Returns 0 (applied), 1 (duplicate), or a negative
 * code (MSG_E_*, -EPROTO wrong type, -EBADMSG bad status, -EIO database,
 * -EAGAIN held back behind a failed notice).
 * A VIP_REQUEST returns 0 with its VIP_RESPONSE (any status) in ack.
 * The server splits this into a decode on the loop, the transaction on a
 * worker and the commit on the loop; tests call it whole.
 */
int	notice_input(struct notice *, const char *as_name, const uint8_t *p,
	    size_t len, time_t now, uint8_t *ack, size_t cap, size_t *acklen);

/*
 * notice_set_vip: the DC's prefixes and own addresses for VIP_REQUEST
 * (copied; vc->zone is borrowed for the struct's life).  Without it every
 * VIP_REQUEST is answered UNAVAILABLE.
 */
void	notice_set_vip(struct notice *, const struct vip_config *vc);

/* The last seq applied from as_name (0: none). */
uint64_t notice_cursor(const struct notice *, const char *as_name);

/* dc/signal's hooks (struct signal_hooks revoked and cert). */
bool	notice_revoked(void *notice, const uint8_t *serial, size_t len);
int	notice_cert(void *notice, const char *fqdn, struct signal_cert *);
/*
 * notice_status_der: the newest status stored for a serial (revoked ones
 * too), borrowed until the next notice is applied.  0 or -ENOENT.
 */
int	notice_status_der(const struct notice *, const uint8_t *serial,
	    size_t len, const uint8_t **der, size_t *der_len);
const struct notice_stats *notice_stats(const struct notice *);

/*
 * notice_listen: a TLS 1.3 listener per address (mutual TLS: the client
 * must present role ntm-as under creds' trust store, PROTOCOL.md 12.1),
 * feeding notice frames to the worker one at a time and acknowledging on
 * the connection they came from.  creds and n are borrowed.  0 or a
 * negative errno (then *out is already closed, still to be freed).
 * notice_close() stops listening and drops the frames not yet applied
 * (the AS resends them); the connections close as the loop runs on.  notice_server_free() once uv_run() has returned (the
 * listener's callbacks use the struct until then), before notice_free().
 */
struct notice_server;
int	notice_listen(struct notice_server **, uv_loop_t *, struct notice *n,
	    struct tls_creds *creds, const struct sockaddr_storage *listen,
	    size_t nlisten);
void	notice_close(struct notice_server *);	/* accepts NULL */
/*
 * notice_server_set_dc: DC <-> DC requests share the port (PROTOCOL.md 1):
 * once set, clients of role ntm-dc are accepted too, and each frame of
 * theirs goes to fn with the peer (certificate verified, zones not yet
 * checked: fn does that per request); what fn writes to out (*outlen > 0)
 * is sent back on that connection; a negative return closes it.  fn may
 * keep c to answer later (tls_send) until closed(arg, c) is called for it.
 */
typedef int	(*notice_dc_fn)(void *arg, struct tls_conn *c,
		    const struct tls_peer *peer, const uint8_t *p, size_t len,
		    uint8_t *out, size_t cap, size_t *outlen);
typedef void	(*notice_dc_closed_fn)(void *arg, struct tls_conn *c);
void	notice_server_set_dc(struct notice_server *, notice_dc_fn fn,
	    notice_dc_closed_fn closed, void *arg);
void	notice_server_free(struct notice_server *);	/* accepts NULL */

#endif
