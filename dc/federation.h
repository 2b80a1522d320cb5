/* federation.h -- DC <-> DC: finding the DC of another zone through its NS records (asynchronous, cached by TTL) and deciding whether a peer DC may speak for a zone. */
#ifndef NTM_DC_FEDERATION_H
#define NTM_DC_FEDERATION_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>
#include <gnutls/x509.h>

#include "proto.h"

struct msg;
struct ntm_rng;
struct registry;
struct signal_cert;
struct tls_creds;

/*
 * DESIGN.md 3 and 8, PROTOCOL.md 12.1: DNS locates a peer DC, its
 * certificate authorizes it.  DC_MN finds DC_CN by an ordinary lookup of
 * the NS records of CN's zone through the configured resolver, then the
 * addresses of the name servers (from the answer's additional section
 * when the resolver gives glue, else by A and AAAA queries for the first
 * NS name), on port 4611.  Whatever DNS says, a peer is accepted for a
 * zone only if its certificate has role ntm-dc and lists the zone as a
 * SAN dNSName (federation_peer_authorized()).
 *
 * Queries are built and answers parsed with ldns (federation_query_build,
 * federation_answer_parse: pure), sent on one uv_udp_t to the resolver,
 * retried every FEDERATION_RETRY_MS, FEDERATION_TRIES sends per query.
 * Results are cached per zone for the smallest TTL of the records used
 * (at most FEDERATION_TTL_MAX_S); failures for FEDERATION_NEG_TTL_S.
 * Several lookups of one zone share one query.
 *
 * DC_CN's answer to a NODE_INFO_REQUEST is federation_node_info(), a pure
 * function of the request, the asking DC's certificate, the registry and
 * the status store.
 *
 * DC_MN's side is federation_ask(): the zone of CN, its DC through the
 * resolver, one persistent mutual-TLS link per zone (role ntm-dc and the
 * zone in the server's certificate, or the link is refused whatever DNS
 * said), NODE_INFO_REQUEST with a transaction id, the response to the
 * caller.  The 4611 listener answers peers (dc/notice.h
 * notice_server_set_dc).
 *
 * federation_handoff() sends a ROUTE_HANDOFF the same way, on the same
 * link, and gives the PEER_NTM_ACK (DC_CN's answers to ROUTE_HANDOFF come
 * through dc.c on the 4611 listener).  dc.c connects both to dc/signal.
 */
enum federation_limit {
	FEDERATION_LIMIT_INVALID = 0,
	FEDERATION_ADDRS_MAX = 4,
	FEDERATION_RETRY_MS = 500,
	FEDERATION_TRIES = 3,
	FEDERATION_NEG_TTL_S = 30,
	FEDERATION_TTL_MAX_S = 3600,
	FEDERATION_CACHE_MAX = 1024,
	FEDERATION_WAITERS_MAX = 64,	/* lookups waiting on one query */
	FEDERATION_NAME_MAX = 256,
	FEDERATION_PKT_MAX = 4096,
};

/* Where a zone's DC is (plain data). */
struct federation_dc {
	char			 zone[FEDERATION_NAME_MAX];
	char			 ns[FEDERATION_NAME_MAX];	/* first NS */
	struct sockaddr_storage	 addr[FEDERATION_ADDRS_MAX];	/* :4611 */
	size_t			 naddr;
};

/*
 * federation_zone_of: the zone of a node FQDN (the name without its first
 * label), lower case, no trailing dot.  0 or -EINVAL.
 */
int	federation_zone_of(const char *fqdn, char *zone, size_t cap);
/* The peer may speak for zone: role ntm-dc and the zone in its SAN. */
bool	federation_peer_authorized(gnutls_x509_crt_t peer, const char *zone);

/*
 * federation_query_build: a recursive (RD) query for name/type with id.
 * federation_answer_parse: reads an answer to that query: NOERROR and the
 * same id, else -ENOENT (NXDOMAIN, no records) or -EBADMSG.  For NS it
 * fills dc->ns and the glue addresses of the NS names found in the
 * additional section; for A/AAAA it appends the addresses to dc->addr.
 * *ttl is the smallest TTL of the records used.
 */
int	federation_query_build(const char *name, uint16_t type, uint16_t id,
	    uint8_t *out, size_t cap, size_t *len);
int	federation_answer_parse(const uint8_t *p, size_t len, uint16_t id,
	    uint16_t type, struct federation_dc *dc, uint32_t *ttl);

/*
 * federation_node_info: DC_CN's NODE_INFO_RESPONSE (PROTOCOL.md 6.4) to
 * the request in p[len] from the DC whose verified certificate is peer,
 * for CN in our zone `zone`.  cert(arg, fqdn, &sc) is the status store
 * (notice_cert); allowed(arg, mn, cn) the direction policy (NULL: every
 * pair allowed).  The answer, written to out[cap], echoes the request's
 * transaction id and has a status:
 *   REFUSED_POLICY  the asking DC's certificate does not list MN's zone
 *   UNKNOWN_NODE    CN is not a name of our zone
 *   REFUSED_POLICY  the policy refuses MN -> CN (checked before anything
 *                   about CN is looked up, so nothing of it is told)
 *   NOT_REGISTERED  CN has no live registration here
 *   UNAVAILABLE     no current status for CN's certificate
 *   OK              CN's addresses, NAT state, vIPs, hash, serial, status
 * Returns 0 with *outlen set, or a negative code when the request itself
 * is unusable (MSG_E_*, -EPROTO: another type; nothing to answer).
 */
int	federation_node_info(const uint8_t *p, size_t len,
	    gnutls_x509_crt_t peer, const char *zone, struct registry *reg,
	    int (*cert)(void *, const char *, struct signal_cert *),
	    bool (*allowed)(void *, const char *mn, const char *cn),
	    void *arg, uint8_t *out, size_t cap, size_t *outlen);

/*
 * The resolver.  cb gets 0 and the DC, or a negative errno (-ENOENT no
 * such zone or no address, -ETIMEDOUT no answer); the dc pointer is
 * borrowed for the call.  federation_resolve() calls cb before it returns
 * when the cache answers (returns 1), or later (returns 0); a negative
 * return means cb will not be called.  `now` for the cache is uv_now().
 */
typedef void	(*federation_resolved_fn)(void *arg, int status,
		    const struct federation_dc *dc);

struct federation_resolver;

int	federation_resolver_new(struct federation_resolver **, uv_loop_t *,
	    const struct sockaddr_storage *resolver, struct ntm_rng *rng);
int	federation_resolve(struct federation_resolver *, const char *zone,
	    federation_resolved_fn cb, void *arg);
/* Queries sent (retransmissions included), for tests and statistics. */
uint64_t federation_resolver_sent(const struct federation_resolver *);
/*
 * Closes the socket and the timers; lookups still waiting get
 * -ECANCELED; the memory goes in the last close callback.  Accepts NULL.
 */
void	federation_resolver_free(struct federation_resolver *);

/*
 * The asking side.  federation_new: resolver and creds borrowed (they
 * outlive it); port 0: PROTO_PORT_DC_TLS (tests use another).
 * federation_ask: cb gets 0 and the decoded NODE_INFO_RESPONSE (borrowed
 * for the call; its status says DC_CN's answer), or a negative errno:
 * -ENOENT no DC found for CN's zone, -EPERM the DC found is not
 * authorized for the zone, -ETIMEDOUT no answer within
 * FEDERATION_ASK_TIMEOUT_MS, -ECANCELED on federation_free().  Returns 0
 * (cb follows, maybe before the return), or a negative errno (no cb).
 */
enum {
	FEDERATION_ASK_TIMEOUT_MS = 3000,
	FEDERATION_PEERS_MAX = 64,
	FEDERATION_ASKS_MAX = 256,
	FEDERATION_REQ_MAX = 1536,	/* SIGNAL_FED_MSG_MAX */
	FEDERATION_TXID_OFF = 8,	/* in the common header */
	/* CN's 5 sends and DC_CN's wait for the last (PROTOCOL.md 5.5). */
	FEDERATION_HANDOFF_TIMEOUT_MS = 10000,
};

typedef void	(*federation_answer_fn)(void *arg, int status,
		    const struct msg *resp);

struct federation;

int	federation_new(struct federation **, uv_loop_t *,
	    struct federation_resolver *, struct tls_creds *, uint16_t port);
int	federation_ask(struct federation *, const char *mn, const char *cn,
	    uint8_t kex, federation_answer_fn cb, void *arg);
/*
 * federation_handoff: p[len] is an encoded ROUTE_HANDOFF for cn (its
 * transaction id is set here); cb gets 0 and the PEER_NTM_ACK, or a
 * negative errno as for federation_ask (timeout
 * FEDERATION_HANDOFF_TIMEOUT_MS).
 */
int	federation_handoff(struct federation *, const char *cn,
	    const uint8_t *p, size_t len, federation_answer_fn cb, void *arg);
/*
 * federation_close: closes the links (their callbacks run as the loop
 * goes on); pending asks get -ECANCELED.  federation_free: after uv_run()
 * has returned.  Both accept NULL.
 */
void	federation_close(struct federation *);
void	federation_free(struct federation *);

#endif
