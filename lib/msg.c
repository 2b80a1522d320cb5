/* msg.c -- pure encode/decode of ntmobile messages against per-type attribute tables (doc/PROTOCOL.md). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "proto.h"

/* How a value is checked beyond its length. */
enum attr_kind {
	KIND_INVALID = 0,
	KIND_RAW,		/* opaque bytes */
	KIND_ADDR,		/* family, port, address */
	KIND_FQDN,
	KIND_KEX,
	KIND_AEAD,
	KIND_AEAD_LIST,
	KIND_ROUTE,
	KIND_ROLE,
	KIND_NAT,
	KIND_REASON,
};

struct attr_def {
	uint16_t	 type;
	const char	*name;
	uint16_t	 min;
	uint16_t	 max;
	enum attr_kind	 kind;
};

#define ADDR_LEN4	(1 + 2 + 4)
#define ADDR_LEN6	(1 + 2 + 16)

static const struct attr_def attr_defs[] = {
	{ PROTO_ATTR_NONCE, "nonce", PROTO_RANDOM_LEN, PROTO_RANDOM_LEN, KIND_RAW },
	{ PROTO_ATTR_COOKIE, "cookie", PROTO_RANDOM_LEN, PROTO_RANDOM_LEN, KIND_RAW },
	{ PROTO_ATTR_TICKET, "ticket", PROTO_TICKET_MIN, PROTO_TICKET_MAX, KIND_RAW },
	{ PROTO_ATTR_TICKET_ID, "ticket-id", PROTO_ID_LEN, PROTO_ID_LEN, KIND_RAW },
	{ PROTO_ATTR_TICKET_KEY, "ticket-key", PROTO_KEY_LEN, PROTO_KEY_LEN, KIND_RAW },
	{ PROTO_ATTR_TICKET_KEY_ID, "ticket-key-id", 4, 4, KIND_RAW },
	{ PROTO_ATTR_EXPIRY, "expiry", 8, 8, KIND_RAW },
	{ PROTO_ATTR_LIFETIME, "lifetime", 4, 4, KIND_RAW },
	{ PROTO_ATTR_LOCAL_ADDR, "local-addr", ADDR_LEN4, ADDR_LEN6, KIND_ADDR },
	{ PROTO_ATTR_OBSERVED_ADDR, "observed-addr", ADDR_LEN4, ADDR_LEN6, KIND_ADDR },
	{ PROTO_ATTR_PEER_ADDR, "peer-addr", ADDR_LEN4, ADDR_LEN6, KIND_ADDR },
	{ PROTO_ATTR_RELAY_ADDR, "relay-addr", ADDR_LEN4, ADDR_LEN6, KIND_ADDR },
	{ PROTO_ATTR_DC_ADDR, "dc-addr", ADDR_LEN4, ADDR_LEN6, KIND_ADDR },
	{ PROTO_ATTR_VIP4, "vip4", 4, 4, KIND_RAW },
	{ PROTO_ATTR_VIP6, "vip6", 16, 16, KIND_RAW },
	{ PROTO_ATTR_FQDN, "fqdn", 1, PROTO_FQDN_MAX, KIND_FQDN },
	{ PROTO_ATTR_PEER_FQDN, "peer-fqdn", 1, PROTO_FQDN_MAX, KIND_FQDN },
	{ PROTO_ATTR_KEX, "kex", 1, 1, KIND_KEX },
	{ PROTO_ATTR_AEAD_OFFERS, "aead-offers", 1, PROTO_AEAD_MAX, KIND_AEAD_LIST },
	{ PROTO_ATTR_AEAD, "aead", 1, 1, KIND_AEAD },
	{ PROTO_ATTR_CERT, "cert", 1, PROTO_CERT_MAX, KIND_RAW },
	{ PROTO_ATTR_CERT_HASH, "cert-hash", PROTO_HASH_LEN, PROTO_HASH_LEN, KIND_RAW },
	{ PROTO_ATTR_STATUS, "status", 1, PROTO_STATUS_MAX_LEN, KIND_RAW },
	{ PROTO_ATTR_SERIAL, "serial", 1, PROTO_SERIAL_MAX, KIND_RAW },
	{ PROTO_ATTR_SIGNATURE, "signature", 1, PROTO_SIGNATURE_MAX, KIND_RAW },
	{ PROTO_ATTR_PATH_ID, "path-id", PROTO_ID_LEN, PROTO_ID_LEN, KIND_RAW },
	{ PROTO_ATTR_RECV_ID, "recv-id", 4, 4, KIND_RAW },
	{ PROTO_ATTR_PEER_RECV_ID, "peer-recv-id", 4, 4, KIND_RAW },
	{ PROTO_ATTR_ROUTE, "route", 1, 1, KIND_ROUTE },
	{ PROTO_ATTR_ROLE, "role", 1, 1, KIND_ROLE },
	{ PROTO_ATTR_NAT, "nat", 1, 1, KIND_NAT },
	{ PROTO_ATTR_TUNNEL_KEY, "tunnel-key", PROTO_KEY_LEN, PROTO_KEY_LEN, KIND_RAW },
	{ PROTO_ATTR_TEMP_KEY, "temp-key", PROTO_KEY_LEN, PROTO_KEY_LEN, KIND_RAW },
	{ PROTO_ATTR_BINDING_KEY, "binding-key", PROTO_KEY_LEN, PROTO_KEY_LEN, KIND_RAW },
	{ PROTO_ATTR_PEER_BINDING_KEY, "peer-binding-key", PROTO_KEY_LEN, PROTO_KEY_LEN, KIND_RAW },
	{ PROTO_ATTR_EPHEMERAL, "ephemeral", PROTO_X25519_LEN, PROTO_X25519_LEN, KIND_RAW },
	{ PROTO_ATTR_KEM_CT, "kem-ct", PROTO_RSA_KEM_LEN, PROTO_RSA_KEM_LEN, KIND_RAW },
	{ PROTO_ATTR_END_KEY_CT, "end-key-ct", PROTO_END_KEY_CT_LEN, PROTO_END_KEY_CT_LEN, KIND_RAW },
	{ PROTO_ATTR_PUNCH_DEADLINE, "punch-deadline", 4, 4, KIND_RAW },
	{ PROTO_ATTR_ACCOUNT, "account", 1, PROTO_ACCOUNT_MAX, KIND_RAW },
	{ PROTO_ATTR_PASSWORD, "password", 1, PROTO_PASSWORD_MAX, KIND_RAW },
	{ PROTO_ATTR_CSR, "csr", 1, PROTO_CSR_MAX, KIND_RAW },
	{ PROTO_ATTR_NOTICE_SEQ, "notice-seq", 8, 8, KIND_RAW },
	{ PROTO_ATTR_REVOCATION_TIME, "revocation-time", 8, 8, KIND_RAW },
	{ PROTO_ATTR_REASON, "reason", 1, 1, KIND_REASON },
	{ PROTO_ATTR_KEEPALIVE, "keepalive", 4, 4, KIND_RAW },
	{ PROTO_ATTR_ZONE, "zone", 1, PROTO_FQDN_MAX, KIND_FQDN },
	{ PROTO_ATTR_PEER_CERT_HASH, "peer-cert-hash", PROTO_HASH_LEN, PROTO_HASH_LEN, KIND_RAW },
	{ PROTO_ATTR_PEER_SERIAL, "peer-serial", 1, PROTO_SERIAL_MAX, KIND_RAW },
	{ PROTO_ATTR_PEER_STATUS, "peer-status", 1, PROTO_STATUS_MAX_LEN, KIND_RAW },
	{ PROTO_ATTR_PEER_VIP4, "peer-vip4", 4, 4, KIND_RAW },
	{ PROTO_ATTR_PEER_VIP6, "peer-vip6", 16, 16, KIND_RAW },
	{ PROTO_ATTR_RETRY_AFTER, "retry-after", 4, 4, KIND_RAW },
	{ PROTO_ATTR_KEY_EPOCH, "key-epoch", 4, 4, KIND_RAW },
	{ PROTO_ATTR_CERT_FETCH, "cert-fetch", 0, 0, KIND_RAW },
	/* Skippable attributes this codec knows; allowed in every message. */
	{ PROTO_ATTR_PADDING, "padding", 0, PROTO_DATAGRAM_MAX, KIND_RAW },
	{ PROTO_ATTR_ERROR_TEXT, "error-text", 1, PROTO_TEXT_MAX, KIND_RAW },
	{ PROTO_ATTR_SOFTWARE, "software", 1, PROTO_ACCOUNT_MAX, KIND_RAW },
};

/* Where a message type travels, which decides SEALED and the size limit. */
enum chan {
	CHAN_INVALID = 0,
	CHAN_UDP_PLAIN,		/* UDP, unsealed, never fragmented */
	CHAN_UDP_SEALED,	/* UDP, sealed, may be fragmented */
	CHAN_INNER,		/* inside a TUNNEL_CONTROL packet, may be fragmented */
	CHAN_TLS,		/* TLS channel, unsealed, never fragmented */
	CHAN_DATA,		/* 16-byte data-plane format */
	CHAN_NONE,		/* never in a header (ticket body) */
};

/* One attribute a message type allows: at least `min`, at most `max`. */
struct rule {
	uint16_t	 attr;
	uint8_t		 min;
	uint8_t		 max;
};

#define REQ(a)		{ (a), 1, 1 }
#define OPT(a)		{ (a), 0, 1 }
#define MANY(a, lo, hi)	{ (a), (lo), (hi) }
#define RULES(r)	(r), sizeof(r) / sizeof((r)[0])

struct type_def {
	uint8_t		 type;
	const char	*name;
	enum chan	 chan;
	const struct rule *rules;
	size_t		 nrules;
	int		(*check)(const struct msg *);
};

/* No attributes of its own (C has no empty arrays; padding is always allowed). */
static const struct rule r_none[] = { OPT(PROTO_ATTR_PADDING) };
static const struct rule r_reg_hello[] = {
	REQ(PROTO_ATTR_TICKET), REQ(PROTO_ATTR_NONCE),
};
static const struct rule r_reg_challenge[] = {
	REQ(PROTO_ATTR_COOKIE), REQ(PROTO_ATTR_NONCE),
	OPT(PROTO_ATTR_RETRY_AFTER),
};
static const struct rule r_registration[] = {
	MANY(PROTO_ATTR_LOCAL_ADDR, 1, PROTO_ADDRS_MAX),
	OPT(PROTO_ATTR_LIFETIME), OPT(PROTO_ATTR_KEEPALIVE),
};
static const struct rule r_registration_ack[] = {
	REQ(PROTO_ATTR_OBSERVED_ADDR), REQ(PROTO_ATTR_NAT),
	REQ(PROTO_ATTR_LIFETIME), REQ(PROTO_ATTR_KEEPALIVE),
	OPT(PROTO_ATTR_FQDN), OPT(PROTO_ATTR_VIP4), OPT(PROTO_ATTR_VIP6),
	OPT(PROTO_ATTR_RETRY_AFTER),
};
static const struct rule r_keepalive_ack[] = {
	REQ(PROTO_ATTR_OBSERVED_ADDR), OPT(PROTO_ATTR_LIFETIME),
};
static const struct rule r_direction_request[] = {
	REQ(PROTO_ATTR_PEER_FQDN), REQ(PROTO_ATTR_KEX),
	REQ(PROTO_ATTR_CERT_HASH), REQ(PROTO_ATTR_STATUS),
	OPT(PROTO_ATTR_AEAD_OFFERS),
};
/* Route Direction; ROUTE_HANDOFF adds the FQDN it is for (last rule). */
static const struct rule r_route_handoff[] = {
	REQ(PROTO_ATTR_PATH_ID), REQ(PROTO_ATTR_ROUTE), REQ(PROTO_ATTR_ROLE),
	REQ(PROTO_ATTR_KEX), REQ(PROTO_ATTR_EXPIRY), REQ(PROTO_ATTR_PEER_FQDN),
	OPT(PROTO_ATTR_PEER_VIP4), OPT(PROTO_ATTR_PEER_VIP6),
	MANY(PROTO_ATTR_PEER_ADDR, 0, PROTO_ADDRS_MAX),
	MANY(PROTO_ATTR_RELAY_ADDR, 0, 2),
	REQ(PROTO_ATTR_RECV_ID), REQ(PROTO_ATTR_PEER_RECV_ID),
	REQ(PROTO_ATTR_TUNNEL_KEY), REQ(PROTO_ATTR_TEMP_KEY),
	OPT(PROTO_ATTR_BINDING_KEY),
	REQ(PROTO_ATTR_PEER_CERT_HASH), REQ(PROTO_ATTR_PEER_SERIAL),
	REQ(PROTO_ATTR_PEER_STATUS), OPT(PROTO_ATTR_PUNCH_DEADLINE),
	OPT(PROTO_ATTR_AEAD_OFFERS), OPT(PROTO_ATTR_RETRY_AFTER),
	REQ(PROTO_ATTR_FQDN),
};
#define NRULES_ROUTE_DIRECTION	\
	(sizeof(r_route_handoff) / sizeof(r_route_handoff[0]) - 1)
static const struct rule r_path[] = { REQ(PROTO_ATTR_PATH_ID) };
static const struct rule r_status_notice[] = {
	REQ(PROTO_ATTR_SERIAL), REQ(PROTO_ATTR_STATUS), OPT(PROTO_ATTR_FQDN),
	OPT(PROTO_ATTR_CERT_HASH), OPT(PROTO_ATTR_REVOCATION_TIME),
	OPT(PROTO_ATTR_REASON),
};
static const struct rule r_serial[] = { REQ(PROTO_ATTR_SERIAL) };
static const struct rule r_tunnel_request[] = {
	REQ(PROTO_ATTR_PATH_ID), REQ(PROTO_ATTR_KEX),
	REQ(PROTO_ATTR_AEAD_OFFERS), REQ(PROTO_ATTR_NONCE),
	OPT(PROTO_ATTR_EPHEMERAL), OPT(PROTO_ATTR_KEM_CT),
	OPT(PROTO_ATTR_END_KEY_CT), REQ(PROTO_ATTR_FQDN),
	REQ(PROTO_ATTR_PEER_FQDN), OPT(PROTO_ATTR_CERT),
	OPT(PROTO_ATTR_CERT_HASH), REQ(PROTO_ATTR_STATUS),
	REQ(PROTO_ATTR_SIGNATURE), OPT(PROTO_ATTR_CERT_FETCH),
};
static const struct rule r_tunnel_response[] = {
	REQ(PROTO_ATTR_NONCE), OPT(PROTO_ATTR_EPHEMERAL), REQ(PROTO_ATTR_AEAD),
	OPT(PROTO_ATTR_CERT), OPT(PROTO_ATTR_CERT_HASH),
	REQ(PROTO_ATTR_STATUS), REQ(PROTO_ATTR_SIGNATURE),
	OPT(PROTO_ATTR_CERT_FETCH),
};
static const struct rule r_tunnel_update[] = {
	MANY(PROTO_ATTR_LOCAL_ADDR, 1, PROTO_ADDRS_MAX),
};
static const struct rule r_tunnel_update_ack[] = {
	REQ(PROTO_ATTR_OBSERVED_ADDR),
};
static const struct rule r_rekey_request[] = {
	REQ(PROTO_ATTR_KEY_EPOCH), REQ(PROTO_ATTR_NONCE),
	OPT(PROTO_ATTR_EPHEMERAL), OPT(PROTO_ATTR_KEM_CT),
};
static const struct rule r_rekey_response[] = {
	REQ(PROTO_ATTR_KEY_EPOCH), REQ(PROTO_ATTR_NONCE),
	OPT(PROTO_ATTR_EPHEMERAL),
};
static const struct rule r_cert_update[] = {
	REQ(PROTO_ATTR_CERT), REQ(PROTO_ATTR_STATUS),
};
static const struct rule r_cert_hash[] = { REQ(PROTO_ATTR_CERT_HASH) };
static const struct rule r_node_info_request[] = {
	REQ(PROTO_ATTR_FQDN), REQ(PROTO_ATTR_PEER_FQDN), REQ(PROTO_ATTR_KEX),
};
static const struct rule r_node_info_response[] = {
	REQ(PROTO_ATTR_FQDN), MANY(PROTO_ATTR_LOCAL_ADDR, 0, PROTO_ADDRS_MAX),
	REQ(PROTO_ATTR_OBSERVED_ADDR), REQ(PROTO_ATTR_NAT),
	OPT(PROTO_ATTR_VIP4), OPT(PROTO_ATTR_VIP6),
	REQ(PROTO_ATTR_CERT_HASH), REQ(PROTO_ATTR_SERIAL),
	REQ(PROTO_ATTR_STATUS),
};
static const struct rule r_relay_direction[] = {
	REQ(PROTO_ATTR_PATH_ID), REQ(PROTO_ATTR_RECV_ID),
	REQ(PROTO_ATTR_PEER_RECV_ID), REQ(PROTO_ATTR_BINDING_KEY),
	REQ(PROTO_ATTR_PEER_BINDING_KEY), OPT(PROTO_ATTR_OBSERVED_ADDR),
	OPT(PROTO_ATTR_PEER_ADDR), REQ(PROTO_ATTR_EXPIRY),
};
static const struct rule r_relay_direction_ack[] = {
	REQ(PROTO_ATTR_PATH_ID), MANY(PROTO_ATTR_RELAY_ADDR, 1, 2),
};
static const struct rule r_enroll_request[] = {
	REQ(PROTO_ATTR_ACCOUNT), REQ(PROTO_ATTR_PASSWORD), REQ(PROTO_ATTR_CSR),
};
static const struct rule r_renew_request[] = { REQ(PROTO_ATTR_CSR) };
static const struct rule r_auth_response[] = {
	MANY(PROTO_ATTR_CERT, 1, 2), REQ(PROTO_ATTR_STATUS),
	REQ(PROTO_ATTR_TICKET), REQ(PROTO_ATTR_TICKET_ID),
	REQ(PROTO_ATTR_TICKET_KEY), REQ(PROTO_ATTR_EXPIRY),
	MANY(PROTO_ATTR_DC_ADDR, 1, 4), REQ(PROTO_ATTR_FQDN),
	REQ(PROTO_ATTR_ZONE), OPT(PROTO_ATTR_VIP4), OPT(PROTO_ATTR_VIP6),
	OPT(PROTO_ATTR_RETRY_AFTER),
};
static const struct rule r_notice_issued[] = {
	REQ(PROTO_ATTR_NOTICE_SEQ), REQ(PROTO_ATTR_FQDN), REQ(PROTO_ATTR_SERIAL),
	REQ(PROTO_ATTR_CERT), REQ(PROTO_ATTR_STATUS), OPT(PROTO_ATTR_CERT_HASH),
	OPT(PROTO_ATTR_VIP4), OPT(PROTO_ATTR_VIP6),
};
static const struct rule r_notice_revoked[] = {
	REQ(PROTO_ATTR_NOTICE_SEQ), REQ(PROTO_ATTR_SERIAL), REQ(PROTO_ATTR_FQDN),
	REQ(PROTO_ATTR_REVOCATION_TIME), REQ(PROTO_ATTR_REASON),
	REQ(PROTO_ATTR_STATUS), OPT(PROTO_ATTR_CERT_HASH),
};
static const struct rule r_notice_status[] = {
	REQ(PROTO_ATTR_NOTICE_SEQ), REQ(PROTO_ATTR_SERIAL),
	REQ(PROTO_ATTR_STATUS), OPT(PROTO_ATTR_FQDN),
};
static const struct rule r_notice_ticket_key[] = {
	REQ(PROTO_ATTR_NOTICE_SEQ), REQ(PROTO_ATTR_TICKET_KEY_ID),
	REQ(PROTO_ATTR_TICKET_KEY), REQ(PROTO_ATTR_EXPIRY),
};
static const struct rule r_notice_ack[] = { REQ(PROTO_ATTR_NOTICE_SEQ) };
static const struct rule r_vip_request[] = { REQ(PROTO_ATTR_FQDN) };
static const struct rule r_vip_response[] = {
	REQ(PROTO_ATTR_FQDN), OPT(PROTO_ATTR_VIP4), OPT(PROTO_ATTR_VIP6),
};
static const struct rule r_ticket_body[] = {
	REQ(PROTO_ATTR_TICKET_ID), REQ(PROTO_ATTR_TICKET_KEY),
	REQ(PROTO_ATTR_FQDN), OPT(PROTO_ATTR_VIP4), OPT(PROTO_ATTR_VIP6),
	REQ(PROTO_ATTR_EXPIRY), OPT(PROTO_ATTR_SERIAL),
};

static int	check_route(const struct msg *);
static int	check_tunnel_request(const struct msg *);
static int	check_cert_fetch(const struct msg *);
static int	check_tunnel_response(const struct msg *);
static int	check_vips(const struct msg *);

static const struct type_def type_defs[] = {
	{ PROTO_MSG_REG_HELLO, "reg-hello", CHAN_UDP_PLAIN, RULES(r_reg_hello), NULL },
	{ PROTO_MSG_REG_CHALLENGE, "reg-challenge", CHAN_UDP_PLAIN, RULES(r_reg_challenge), NULL },
	{ PROTO_MSG_REGISTRATION, "registration", CHAN_UDP_SEALED, RULES(r_registration), NULL },
	{ PROTO_MSG_REGISTRATION_ACK, "registration-ack", CHAN_UDP_SEALED, RULES(r_registration_ack), NULL },
	{ PROTO_MSG_KEEPALIVE, "keepalive", CHAN_UDP_SEALED, RULES(r_none), NULL },
	{ PROTO_MSG_KEEPALIVE_ACK, "keepalive-ack", CHAN_UDP_SEALED, RULES(r_keepalive_ack), NULL },
	{ PROTO_MSG_DIRECTION_REQUEST, "direction-request", CHAN_UDP_SEALED, RULES(r_direction_request), NULL },
	{ PROTO_MSG_ROUTE_DIRECTION, "route-direction", CHAN_UDP_SEALED, r_route_handoff, NRULES_ROUTE_DIRECTION, check_route },
	{ PROTO_MSG_NTM_ACK, "ntm-ack", CHAN_UDP_SEALED, RULES(r_path), NULL },
	{ PROTO_MSG_STATUS_NOTICE, "status-notice", CHAN_UDP_SEALED, RULES(r_status_notice), NULL },
	{ PROTO_MSG_STATUS_NOTICE_ACK, "status-notice-ack", CHAN_UDP_SEALED, RULES(r_serial), NULL },
	{ PROTO_MSG_TUNNEL_REQUEST, "tunnel-request", CHAN_UDP_SEALED, RULES(r_tunnel_request), check_tunnel_request },
	{ PROTO_MSG_TUNNEL_RESPONSE, "tunnel-response", CHAN_UDP_SEALED, RULES(r_tunnel_response), check_tunnel_response },
	{ PROTO_MSG_DATA, "data", CHAN_DATA, NULL, 0, NULL },
	{ PROTO_MSG_TUNNEL_CONTROL, "tunnel-control", CHAN_DATA, NULL, 0, NULL },
	{ PROTO_MSG_RS_HELLO, "rs-hello", CHAN_DATA, NULL, 0, NULL },
	{ PROTO_MSG_RS_COOKIE, "rs-cookie", CHAN_DATA, NULL, 0, NULL },
	{ PROTO_MSG_TUNNEL_KEEPALIVE, "tunnel-keepalive", CHAN_INNER, RULES(r_none), NULL },
	{ PROTO_MSG_TUNNEL_UPDATE, "tunnel-update", CHAN_INNER, RULES(r_tunnel_update), NULL },
	{ PROTO_MSG_TUNNEL_UPDATE_ACK, "tunnel-update-ack", CHAN_INNER, RULES(r_tunnel_update_ack), NULL },
	{ PROTO_MSG_REKEY_REQUEST, "rekey-request", CHAN_INNER, RULES(r_rekey_request), NULL },
	{ PROTO_MSG_REKEY_RESPONSE, "rekey-response", CHAN_INNER, RULES(r_rekey_response), NULL },
	{ PROTO_MSG_CERT_UPDATE, "cert-update", CHAN_INNER, RULES(r_cert_update), NULL },
	{ PROTO_MSG_CERT_UPDATE_ACK, "cert-update-ack", CHAN_INNER, RULES(r_cert_hash), NULL },
	{ PROTO_MSG_TUNNEL_CLOSE, "tunnel-close", CHAN_INNER, RULES(r_none), NULL },
	{ PROTO_MSG_NODE_INFO_REQUEST, "node-info-request", CHAN_TLS, RULES(r_node_info_request), NULL },
	{ PROTO_MSG_NODE_INFO_RESPONSE, "node-info-response", CHAN_TLS, RULES(r_node_info_response), NULL },
	{ PROTO_MSG_ROUTE_HANDOFF, "route-handoff", CHAN_TLS, RULES(r_route_handoff), check_route },
	{ PROTO_MSG_PEER_NTM_ACK, "peer-ntm-ack", CHAN_TLS, RULES(r_path), NULL },
	{ PROTO_MSG_RELAY_DIRECTION, "relay-direction", CHAN_TLS, RULES(r_relay_direction), NULL },
	{ PROTO_MSG_RELAY_DIRECTION_ACK, "relay-direction-ack", CHAN_TLS, RULES(r_relay_direction_ack), NULL },
	{ PROTO_MSG_ENROLL_REQUEST, "enroll-request", CHAN_TLS, RULES(r_enroll_request), NULL },
	{ PROTO_MSG_AUTH_REQUEST, "auth-request", CHAN_TLS, RULES(r_none), NULL },
	{ PROTO_MSG_RENEW_REQUEST, "renew-request", CHAN_TLS, RULES(r_renew_request), NULL },
	{ PROTO_MSG_AUTH_RESPONSE, "auth-response", CHAN_TLS, RULES(r_auth_response), check_vips },
	{ PROTO_MSG_NOTICE_ISSUED, "notice-issued", CHAN_TLS, RULES(r_notice_issued), check_vips },
	{ PROTO_MSG_NOTICE_REVOKED, "notice-revoked", CHAN_TLS, RULES(r_notice_revoked), NULL },
	{ PROTO_MSG_NOTICE_STATUS, "notice-status", CHAN_TLS, RULES(r_notice_status), NULL },
	{ PROTO_MSG_NOTICE_TICKET_KEY, "notice-ticket-key", CHAN_TLS, RULES(r_notice_ticket_key), NULL },
	{ PROTO_MSG_NOTICE_ACK, "notice-ack", CHAN_TLS, RULES(r_notice_ack), NULL },
	{ PROTO_MSG_VIP_REQUEST, "vip-request", CHAN_TLS, RULES(r_vip_request), NULL },
	{ PROTO_MSG_VIP_RESPONSE, "vip-response", CHAN_TLS, RULES(r_vip_response), check_vips },
	{ PROTO_MSG_TICKET_BODY, "ticket-body", CHAN_NONE, RULES(r_ticket_body), check_vips },
};

static const char *const status_names[] = {
	[PROTO_STATUS_INVALID] = "invalid",
	[PROTO_STATUS_OK] = "ok",
	[PROTO_STATUS_MALFORMED] = "malformed",
	[PROTO_STATUS_VERSION] = "version not supported",
	[PROTO_STATUS_UNKNOWN_NODE] = "unknown node",
	[PROTO_STATUS_NOT_REGISTERED] = "not registered",
	[PROTO_STATUS_REVOKED] = "revoked",
	[PROTO_STATUS_REFUSED_POLICY] = "refused by policy",
	[PROTO_STATUS_KEX_NOT_ALLOWED] = "key exchange not allowed",
	[PROTO_STATUS_AEAD_NOT_ALLOWED] = "AEAD not allowed",
	[PROTO_STATUS_EXPIRED] = "expired",
	[PROTO_STATUS_AUTH_FAILED] = "authentication failed",
	[PROTO_STATUS_BAD_TICKET] = "bad ticket",
	[PROTO_STATUS_BAD_COOKIE] = "bad cookie",
	[PROTO_STATUS_RATE_LIMITED] = "rate limited",
	[PROTO_STATUS_UNKNOWN_PATH] = "unknown path",
	[PROTO_STATUS_STALE_STATUS] = "stale status",
	[PROTO_STATUS_CERT_INVALID] = "certificate invalid",
	[PROTO_STATUS_ADDRESS_IN_USE] = "address in use",
	[PROTO_STATUS_TOO_LARGE] = "too large",
	[PROTO_STATUS_UNAVAILABLE] = "unavailable",
	[PROTO_STATUS_INTERNAL] = "internal error",
};

static const struct type_def *
type_lookup(uint8_t type)
{
	size_t i;

	for (i = 0; i < sizeof(type_defs) / sizeof(type_defs[0]); i++)
		if (type_defs[i].type == type)
			return &type_defs[i];
	return NULL;
}

static const struct attr_def *
attr_lookup(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(attr_defs) / sizeof(attr_defs[0]); i++)
		if (attr_defs[i].type == type)
			return &attr_defs[i];
	return NULL;
}

const char *
msg_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case MSG_E_SHORT_HEADER:
		return "message shorter than its header";
	case MSG_E_VERSION:
		return "unknown protocol version";
	case MSG_E_TYPE:
		return "unknown message type";
	case MSG_E_STATUS:
		return "unknown status code";
	case MSG_E_FLAGS:
		return "bad header flags";
	case MSG_E_RESERVED:
		return "reserved bytes not zero";
	case MSG_E_LENGTH:
		return "length beyond the message";
	case MSG_E_TRAILING:
		return "bytes after the message";
	case MSG_E_TOO_BIG:
		return "message over its size limit";
	case MSG_E_FRAG:
		return "bad fragment header";
	case MSG_E_ATTR_TRUNCATED:
		return "attribute truncated";
	case MSG_E_ATTR_MISSING:
		return "required attribute missing";
	case MSG_E_ATTR_SIZE:
		return "attribute size out of range";
	case MSG_E_ATTR_DUP:
		return "attribute repeated";
	case MSG_E_ATTR_UNKNOWN:
		return "unknown must-understand attribute";
	case MSG_E_ATTR_UNEXPECTED:
		return "attribute not allowed in this message";
	case MSG_E_ATTR_VALUE:
		return "bad attribute value";
	case MSG_E_ATTR_COUNT:
		return "too many attributes";
	case MSG_E_ATTR_CONFLICT:
		return "conflicting attributes";
	case MSG_E_DATA_TYPE:
		return "not a data packet type";
	case MSG_E_TICKET:
		return "bad ticket framing";
	case -ENOSPC:
		return "output buffer too small";
	case -E2BIG:
		return "message builder full";
	default:
		return "unknown error";
	}
}

const char *
msg_type_name(uint8_t type)
{
	const struct type_def *d = type_lookup(type);

	return d != NULL ? d->name : "unknown";
}

const char *
msg_attr_name(uint16_t type)
{
	const struct attr_def *d = attr_lookup(type);

	return d != NULL ? d->name : "unknown";
}

int
msg_attr_limits(uint16_t type, size_t *min, size_t *max)
{
	const struct attr_def *d = attr_lookup(type);

	if (d == NULL)
		return -ENOENT;
	*min = d->min;
	*max = d->max;
	return 0;
}

const char *
msg_status_name(uint8_t status)
{
	if (status > PROTO_STATUS_MAX)
		return "unknown";
	return status_names[status];
}

bool
msg_type_known(uint8_t type)
{
	const struct type_def *d = type_lookup(type);

	return d != NULL && d->chan != CHAN_DATA && d->chan != CHAN_NONE;
}

bool
msg_type_is_data(uint8_t type)
{
	const struct type_def *d = type_lookup(type);

	return d != NULL && d->chan == CHAN_DATA;
}

bool
msg_type_sealed(uint8_t type)
{
	const struct type_def *d = type_lookup(type);

	return d != NULL && d->chan == CHAN_UDP_SEALED;
}

bool
msg_type_tls(uint8_t type)
{
	const struct type_def *d = type_lookup(type);

	return d != NULL && d->chan == CHAN_TLS;
}

/* Largest header + body a type may have on its channel. */
static size_t
type_size_max(const struct type_def *d)
{
	return d->chan == CHAN_TLS ? PROTO_TLS_MESSAGE_MAX : PROTO_DATAGRAM_MAX;
}

/* Header fields other than length; shared by decode and encode. */
static int
header_check(const struct msg_header *h, const struct type_def **dp)
{
	const struct type_def *d;

	if (h->version != PROTO_VERSION_1)
		return MSG_E_VERSION;
	if ((d = type_lookup(h->type)) == NULL || d->chan == CHAN_DATA ||
	    d->chan == CHAN_NONE)
		return MSG_E_TYPE;
	if (h->status == PROTO_STATUS_INVALID || h->status > PROTO_STATUS_MAX)
		return MSG_E_STATUS;
	if ((h->flags & ~PROTO_F_ALL) != 0)
		return MSG_E_FLAGS;
	if (((h->flags & PROTO_F_SEALED) != 0) != (d->chan == CHAN_UDP_SEALED))
		return MSG_E_FLAGS;
	if ((h->flags & PROTO_F_FRAGMENT) != 0 && d->chan != CHAN_UDP_SEALED &&
	    d->chan != CHAN_INNER)
		return MSG_E_FLAGS;
	*dp = d;
	return 0;
}

static int
header_read(struct rbuf *b, struct msg_header *h, uint16_t *reserved)
{
	if (rbuf_left(b) < PROTO_HEADER_LEN)
		return MSG_E_SHORT_HEADER;
	if (rbuf_get_u8(b, &h->version) < 0 || rbuf_get_u8(b, &h->type) < 0 ||
	    rbuf_get_u8(b, &h->status) < 0 || rbuf_get_u8(b, &h->flags) < 0 ||
	    rbuf_get_u16(b, &h->length) < 0 || rbuf_get_u16(b, reserved) < 0 ||
	    rbuf_get_u32(b, &h->txid) < 0 || rbuf_get_u64(b, &h->seq) < 0 ||
	    rbuf_get_bytes(b, h->id, PROTO_ID_LEN) < 0)
		return MSG_E_SHORT_HEADER;
	return 0;
}

/* Checks a read header; `avail` is how many body bytes the input has. */
static int
header_validate(const struct msg_header *h, uint16_t reserved, size_t avail)
{
	const struct type_def *d;
	int rc;

	if ((rc = header_check(h, &d)) < 0)
		return rc;
	if (reserved != 0)
		return MSG_E_RESERVED;
	if ((size_t)PROTO_HEADER_LEN + h->length > type_size_max(d))
		return MSG_E_TOO_BIG;
	if (h->length > avail)
		return MSG_E_LENGTH;
	if ((h->flags & PROTO_F_SEALED) != 0 && h->length < PROTO_TAG_LEN)
		return MSG_E_LENGTH;
	return 0;
}

int
msg_header_decode(struct rbuf *b, struct msg_header *h)
{
	uint16_t reserved;
	int rc;

	if ((rc = header_read(b, h, &reserved)) < 0)
		return rc;
	return header_validate(h, reserved, rbuf_left(b));
}

int
msg_header_encode(const struct msg_header *h, struct wbuf *w)
{
	const struct type_def *d;
	int rc;

	if ((rc = header_check(h, &d)) < 0)
		return rc;
	wbuf_put_u8(w, h->version);
	wbuf_put_u8(w, h->type);
	wbuf_put_u8(w, h->status);
	wbuf_put_u8(w, h->flags);
	wbuf_put_u16(w, h->length);
	wbuf_put_u16(w, 0);
	wbuf_put_u32(w, h->txid);
	wbuf_put_u64(w, h->seq);
	wbuf_put_bytes(w, h->id, PROTO_ID_LEN);
	return wbuf_error(w);
}

int
msg_frame_len(const void *p, size_t len)
{
	struct msg_header h;
	struct rbuf b;
	uint16_t reserved;
	int rc;

	rbuf_init(&b, p, len);
	if ((rc = header_read(&b, &h, &reserved)) < 0)
		return rc;
	/* The body need not have arrived yet. */
	if ((rc = header_validate(&h, reserved, UINT16_MAX)) < 0)
		return rc;
	return PROTO_HEADER_LEN + h.length;
}

int
msg_frag_decode(struct rbuf *b, struct msg_frag *f)
{
	if (rbuf_get_u32(b, &f->msgid) < 0 || rbuf_get_u8(b, &f->index) < 0 ||
	    rbuf_get_u8(b, &f->count) < 0)
		return MSG_E_FRAG;
	f->len = rbuf_left(b);
	if (rbuf_get_ptr(b, &f->payload, f->len) < 0)
		return MSG_E_FRAG;
	if (f->count < 2 || f->count > PROTO_FRAGMENTS_MAX ||
	    f->index >= f->count || f->len == 0)
		return MSG_E_FRAG;
	return 0;
}

void
msg_frag_encode(const struct msg_frag *f, struct wbuf *w)
{
	wbuf_put_u32(w, f->msgid);
	wbuf_put_u8(w, f->index);
	wbuf_put_u8(w, f->count);
}

static bool
fqdn_valid(const uint8_t *p, size_t len)
{
	size_t i, label = 0;

	for (i = 0; i < len; i++) {
		uint8_t c = p[i];

		if (c == '.') {
			if (label == 0 || p[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c == '-' && label > 0)))
			return false;
		if (++label > PROTO_LABEL_MAX)
			return false;
	}
	return label > 0 && p[len - 1] != '-';
}

static int
value_check(const struct attr_def *d, const struct msg_attr *a)
{
	size_t i, j;

	switch (d->kind) {
	case KIND_ADDR:
		if ((a->val[0] == PROTO_FAMILY_IPV4 && a->len == ADDR_LEN4) ||
		    (a->val[0] == PROTO_FAMILY_IPV6 && a->len == ADDR_LEN6))
			return 0;
		return MSG_E_ATTR_VALUE;
	case KIND_FQDN:
		return fqdn_valid(a->val, a->len) ? 0 : MSG_E_ATTR_VALUE;
	case KIND_KEX:
		return a->val[0] >= 1 && a->val[0] <= PROTO_KEX_MAX ? 0 :
		    MSG_E_ATTR_VALUE;
	case KIND_AEAD:
		return a->val[0] >= 1 && a->val[0] <= PROTO_AEAD_MAX ? 0 :
		    MSG_E_ATTR_VALUE;
	case KIND_AEAD_LIST:
		for (i = 0; i < a->len; i++) {
			if (a->val[i] < 1 || a->val[i] > PROTO_AEAD_MAX)
				return MSG_E_ATTR_VALUE;
			for (j = 0; j < i; j++)
				if (a->val[j] == a->val[i])
					return MSG_E_ATTR_VALUE;
		}
		return 0;
	case KIND_ROUTE:
		return a->val[0] >= 1 && a->val[0] <= PROTO_ROUTE_MAX ? 0 :
		    MSG_E_ATTR_VALUE;
	case KIND_ROLE:
		return a->val[0] >= 1 && a->val[0] <= PROTO_ROLE_MAX ? 0 :
		    MSG_E_ATTR_VALUE;
	case KIND_NAT:
		return a->val[0] >= 1 && a->val[0] <= PROTO_NAT_MAX ? 0 :
		    MSG_E_ATTR_VALUE;
	case KIND_REASON:
		/* RFC 5280 leaves 7 unused. */
		return a->val[0] <= PROTO_REASON_MAX && a->val[0] != 7 ? 0 :
		    MSG_E_ATTR_VALUE;
	default:
		return 0;
	}
}

/* Index of the rule for `attr` in d, or -1. */
static int
rule_index(const struct type_def *d, uint16_t attr)
{
	size_t i;

	for (i = 0; i < d->nrules; i++)
		if (d->rules[i].attr == attr)
			return (int)i;
	return -1;
}

/* Counts of the skippable attributes every message may carry (max 1 each). */
enum {
	EXTRA_PADDING,
	EXTRA_ERROR_TEXT,
	EXTRA_SOFTWARE,
	EXTRA_N,
};

static int
attrs_validate(const struct type_def *d, const struct msg *m)
{
	uint8_t count[MSG_ATTRS_MAX] = { 0 }, extra[EXTRA_N] = { 0 };
	const struct attr_def *ad;
	size_t i;
	int r, rc;

	if (m->nattr > MSG_ATTRS_MAX)
		return MSG_E_ATTR_COUNT;
	for (i = 0; i < m->nattr; i++) {
		const struct msg_attr *a = &m->attr[i];

		if ((ad = attr_lookup(a->type)) == NULL)
			return MSG_E_ATTR_UNKNOWN;
		if (a->len < ad->min || a->len > ad->max)
			return MSG_E_ATTR_SIZE;
		if (a->len > 0 && a->val == NULL)
			return -EINVAL;
		if ((rc = value_check(ad, a)) < 0)
			return rc;
		if (a->type > PROTO_ATTR_MUST_MAX) {
			/* padding and friends: anywhere, once */
			if (++extra[a->type - PROTO_ATTR_PADDING] > 1)
				return MSG_E_ATTR_DUP;
			continue;
		}
		if ((r = rule_index(d, a->type)) < 0)
			return MSG_E_ATTR_UNEXPECTED;
		if (++count[r] > d->rules[r].max)
			return MSG_E_ATTR_DUP;
	}
	/* An error answer need not carry what a success must. */
	if (m->hdr.status != PROTO_STATUS_OK)
		return 0;
	/* A certificate fetch has its own set (PROTOCOL.md 6.2). */
	if (msg_attr_find(m, PROTO_ATTR_CERT_FETCH) != NULL)
		return check_cert_fetch(m);
	for (i = 0; i < d->nrules; i++)
		if (count[i] < d->rules[i].min)
			return MSG_E_ATTR_MISSING;
	return d->check != NULL ? d->check(m) : 0;
}

static int
attrs_read(const uint8_t *body, size_t len, struct msg *m)
{
	struct rbuf b;
	struct msg_attr a;

	rbuf_init(&b, body, len);
	m->nattr = 0;
	while (rbuf_left(&b) > 0) {
		if (rbuf_get_u16(&b, &a.type) < 0 || rbuf_get_u16(&b, &a.len) < 0)
			return MSG_E_ATTR_TRUNCATED;
		if (rbuf_get_ptr(&b, &a.val, a.len) < 0)
			return MSG_E_ATTR_TRUNCATED;
		if (a.type > PROTO_ATTR_MUST_MAX && attr_lookup(a.type) == NULL)
			continue;	/* skippable and unknown */
		if (m->nattr == MSG_ATTRS_MAX)
			return MSG_E_ATTR_COUNT;
		m->attr[m->nattr++] = a;
	}
	return 0;
}

int
msg_body_decode(const struct msg_header *h, const void *body, size_t len,
    struct msg *m)
{
	const struct type_def *d;
	struct rbuf b;
	int rc;

	m->nattr = 0;
	m->scratch_len = 0;
	memset(&m->frag, 0, sizeof(m->frag));
	m->hdr = *h;
	if ((rc = header_check(h, &d)) < 0)
		return rc;
	if (h->flags & PROTO_F_FRAGMENT) {
		rbuf_init(&b, body, len);
		return msg_frag_decode(&b, &m->frag);
	}
	if (len > (d->chan == CHAN_TLS ? (size_t)UINT16_MAX :
	    (size_t)PROTO_REASSEMBLY_MAX))
		return MSG_E_TOO_BIG;
	if ((rc = attrs_read(body, len, m)) < 0)
		return rc;
	return attrs_validate(d, m);
}

int
msg_decode(const void *p, size_t len, struct msg *m)
{
	struct msg_header h;
	struct rbuf b;
	const uint8_t *body;
	size_t blen;
	int rc;

	rbuf_init(&b, p, len);
	if ((rc = msg_header_decode(&b, &h)) < 0)
		return rc;
	if (rbuf_left(&b) > h.length)
		return MSG_E_TRAILING;
	blen = h.length;
	if (h.flags & PROTO_F_SEALED)
		blen -= PROTO_TAG_LEN;
	if (rbuf_get_ptr(&b, &body, blen) < 0)
		return MSG_E_LENGTH;
	return msg_body_decode(&h, body, blen, m);
}

int
msg_validate(const struct msg *m)
{
	const struct type_def *d;
	int rc;

	if ((rc = header_check(&m->hdr, &d)) < 0)
		return rc;
	if (m->hdr.flags & PROTO_F_FRAGMENT) {
		const struct msg_frag *f = &m->frag;

		if (m->nattr != 0 || f->count < 2 ||
		    f->count > PROTO_FRAGMENTS_MAX || f->index >= f->count ||
		    f->len == 0 || f->payload == NULL)
			return MSG_E_FRAG;
		return 0;
	}
	return attrs_validate(d, m);
}

int
msg_attrs_encode(const struct msg *m, struct wbuf *w)
{
	size_t i;

	for (i = 0; i < m->nattr && i < MSG_ATTRS_MAX; i++) {
		wbuf_put_u16(w, m->attr[i].type);
		wbuf_put_u16(w, m->attr[i].len);
		wbuf_put_bytes(w, m->attr[i].val, m->attr[i].len);
	}
	return wbuf_error(w);
}

int
msg_encode(const struct msg *m, void *out, size_t cap, size_t *outlen)
{
	const struct type_def *d;
	struct msg_header h;
	struct wbuf w;
	size_t i, body = 0;
	int rc;

	if ((rc = msg_validate(m)) < 0)
		return rc;
	(void)header_check(&m->hdr, &d);
	if (m->hdr.flags & PROTO_F_FRAGMENT)
		body = PROTO_FRAG_HEADER_LEN + m->frag.len;
	else
		for (i = 0; i < m->nattr; i++)
			body += PROTO_ATTR_HEADER_LEN + m->attr[i].len;
	if (m->hdr.flags & PROTO_F_SEALED)
		body += PROTO_TAG_LEN;
	if (body > UINT16_MAX || PROTO_HEADER_LEN + body > type_size_max(d))
		return MSG_E_TOO_BIG;
	h = m->hdr;
	h.length = (uint16_t)body;
	wbuf_init(&w, out, cap);
	if ((rc = msg_header_encode(&h, &w)) < 0)
		return rc;
	if (h.flags & PROTO_F_FRAGMENT) {
		msg_frag_encode(&m->frag, &w);
		wbuf_put_bytes(&w, m->frag.payload, m->frag.len);
	} else
		(void)msg_attrs_encode(m, &w);
	if (h.flags & PROTO_F_SEALED) {
		size_t off = wbuf_reserve(&w, PROTO_TAG_LEN);

		if (off != (size_t)-1)
			memset(w.p + off, 0, PROTO_TAG_LEN);
	}
	if ((rc = wbuf_error(&w)) < 0)
		return rc;
	*outlen = wbuf_len(&w);
	return 0;
}

void
msg_nonce(const struct msg_header *h, uint8_t nonce[PROTO_NONCE_LEN])
{
	nonce[0] = PROTO_NONCE_SIGNALLING;
	nonce[1] = h->type;
	nonce[2] = 0;
	nonce[3] = 0;
	store_be64(nonce + 4, h->seq);
}

void
msg_data_nonce(const struct msg_data *dh, uint8_t nonce[PROTO_NONCE_LEN])
{
	nonce[0] = PROTO_NONCE_DATA;
	nonce[1] = dh->type;
	nonce[2] = 0;
	nonce[3] = 0;
	store_be64(nonce + 4, dh->counter);
}

/* Body sizes (after the 16-byte header) each data-format type allows. */
static int
data_body_check(uint8_t type, size_t len)
{
	switch (type) {
	case PROTO_MSG_DATA:
	case PROTO_MSG_TUNNEL_CONTROL:
		return len > PROTO_TAG_LEN ? 0 : MSG_E_LENGTH;
	case PROTO_MSG_RS_HELLO:
		/* Fixed size, so the cookie answer is never the larger. */
		return len == PROTO_RANDOM_LEN + PROTO_TAG_LEN ? 0 :
		    MSG_E_LENGTH;
	case PROTO_MSG_RS_COOKIE:
		return len == PROTO_RANDOM_LEN ? 0 : MSG_E_LENGTH;
	default:
		return MSG_E_DATA_TYPE;
	}
}

int
msg_data_decode(const void *p, size_t len, struct msg_data *dh,
    const uint8_t **body, size_t *body_len)
{
	struct rbuf b;
	uint8_t reserved;
	int rc;

	rbuf_init(&b, p, len);
	if (rbuf_get_u8(&b, &dh->version) < 0 || rbuf_get_u8(&b, &dh->type) < 0 ||
	    rbuf_get_u8(&b, &dh->phase) < 0 || rbuf_get_u8(&b, &reserved) < 0 ||
	    rbuf_get_u32(&b, &dh->rid) < 0 || rbuf_get_u64(&b, &dh->counter) < 0)
		return MSG_E_SHORT_HEADER;
	if (dh->version != PROTO_VERSION_1)
		return MSG_E_VERSION;
	if (!msg_type_is_data(dh->type))
		return MSG_E_DATA_TYPE;
	if (dh->phase > 1 || reserved != 0)
		return MSG_E_RESERVED;
	*body_len = rbuf_left(&b);
	if ((rc = data_body_check(dh->type, *body_len)) < 0)
		return rc;
	return rbuf_get_ptr(&b, body, *body_len) < 0 ? MSG_E_LENGTH : 0;
}

int
msg_data_encode(const struct msg_data *dh, struct wbuf *w)
{
	if (dh->version != PROTO_VERSION_1)
		return MSG_E_VERSION;
	if (!msg_type_is_data(dh->type))
		return MSG_E_DATA_TYPE;
	if (dh->phase > 1)
		return MSG_E_RESERVED;
	wbuf_put_u8(w, dh->version);
	wbuf_put_u8(w, dh->type);
	wbuf_put_u8(w, dh->phase);
	wbuf_put_u8(w, 0);
	wbuf_put_u32(w, dh->rid);
	wbuf_put_u64(w, dh->counter);
	return wbuf_error(w);
}

int
msg_ticket_split(const void *p, size_t len, struct msg_ticket *t)
{
	struct rbuf b;

	if (len < PROTO_TICKET_MIN || len > PROTO_TICKET_MAX)
		return MSG_E_TICKET;
	rbuf_init(&b, p, len);
	t->aad = p;
	t->aad_len = PROTO_TICKET_HEADER_LEN;
	if (rbuf_get_u8(&b, &t->version) < 0 ||
	    rbuf_get_u32(&b, &t->key_id) < 0 ||
	    rbuf_get_ptr(&b, &t->nonce, PROTO_NONCE_LEN) < 0)
		return MSG_E_TICKET;
	if (t->version != PROTO_VERSION_1)
		return MSG_E_VERSION;
	t->ct_len = rbuf_left(&b) - PROTO_TAG_LEN;
	if (rbuf_get_ptr(&b, &t->ct, t->ct_len) < 0 ||
	    rbuf_get_ptr(&b, &t->tag, PROTO_TAG_LEN) < 0)
		return MSG_E_TICKET;
	return 0;
}

int
msg_ticket_body_decode(const void *p, size_t len, struct msg *m)
{
	int rc;

	memset(&m->hdr, 0, sizeof(m->hdr));
	memset(&m->frag, 0, sizeof(m->frag));
	m->hdr.version = PROTO_VERSION_1;
	m->hdr.type = PROTO_MSG_TICKET_BODY;
	m->hdr.status = PROTO_STATUS_OK;
	m->scratch_len = 0;
	if (len > PROTO_TICKET_MAX)
		return MSG_E_TOO_BIG;
	if ((rc = attrs_read(p, len, m)) < 0)
		return rc;
	return attrs_validate(type_lookup(PROTO_MSG_TICKET_BODY), m);
}

int
msg_ticket_body_encode(const struct msg *m, struct wbuf *w)
{
	int rc;

	if (m->hdr.type != PROTO_MSG_TICKET_BODY ||
	    m->hdr.status != PROTO_STATUS_OK)
		return MSG_E_TYPE;
	if ((rc = attrs_validate(type_lookup(PROTO_MSG_TICKET_BODY), m)) < 0)
		return rc;
	return msg_attrs_encode(m, w);
}

const struct msg_attr *
msg_attr_next(const struct msg *m, uint16_t type, const struct msg_attr *prev)
{
	size_t i = prev == NULL ? 0 : (size_t)(prev - m->attr) + 1;

	for (; i < m->nattr && i < MSG_ATTRS_MAX; i++)
		if (m->attr[i].type == type)
			return &m->attr[i];
	return NULL;
}

const struct msg_attr *
msg_attr_find(const struct msg *m, uint16_t type)
{
	return msg_attr_next(m, type, NULL);
}

static int
attr_fixed(const struct msg *m, uint16_t type, size_t len,
    const uint8_t **val)
{
	const struct msg_attr *a;

	if ((a = msg_attr_find(m, type)) == NULL)
		return -ENOENT;
	if (a->len != len)
		return -EINVAL;
	*val = a->val;
	return 0;
}

int
msg_attr_u8(const struct msg *m, uint16_t type, uint8_t *v)
{
	const uint8_t *p;
	int rc;

	if ((rc = attr_fixed(m, type, 1, &p)) < 0)
		return rc;
	*v = p[0];
	return 0;
}

int
msg_attr_u32(const struct msg *m, uint16_t type, uint32_t *v)
{
	const uint8_t *p;
	int rc;

	if ((rc = attr_fixed(m, type, 4, &p)) < 0)
		return rc;
	*v = load_be32(p);
	return 0;
}

int
msg_attr_u64(const struct msg *m, uint16_t type, uint64_t *v)
{
	const uint8_t *p;
	int rc;

	if ((rc = attr_fixed(m, type, 8, &p)) < 0)
		return rc;
	*v = load_be64(p);
	return 0;
}

int
msg_addr_parse(const struct msg_attr *a, struct msg_addr *ad)
{
	struct rbuf b;

	rbuf_init(&b, a->val, a->len);
	memset(ad, 0, sizeof(*ad));
	if (rbuf_get_u8(&b, &ad->family) < 0 || rbuf_get_u16(&b, &ad->port) < 0)
		return -EINVAL;
	if (ad->family == PROTO_FAMILY_IPV4 && rbuf_left(&b) == 4)
		return rbuf_get_bytes(&b, ad->addr, 4) < 0 ? -EINVAL : 0;
	if (ad->family == PROTO_FAMILY_IPV6 && rbuf_left(&b) == 16)
		return rbuf_get_bytes(&b, ad->addr, 16) < 0 ? -EINVAL : 0;
	return -EINVAL;
}

void
msg_init(struct msg *m, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->hdr.version = PROTO_VERSION_1;
	m->hdr.type = type;
	m->hdr.status = PROTO_STATUS_OK;
	if (msg_type_sealed(type))
		m->hdr.flags = PROTO_F_SEALED;
}

int
msg_add_bytes(struct msg *m, uint16_t type, const void *val, size_t len)
{
	if (m->nattr >= MSG_ATTRS_MAX || len > UINT16_MAX)
		return -E2BIG;
	m->attr[m->nattr].type = type;
	m->attr[m->nattr].len = (uint16_t)len;
	m->attr[m->nattr].val = val;
	m->nattr++;
	return 0;
}

/* Copies len bytes into the builder's scratch and adds them. */
static int
add_copy(struct msg *m, uint16_t type, const void *val, size_t len)
{
	uint8_t *p;

	if (MSG_SCRATCH_MAX - m->scratch_len < len)
		return -E2BIG;
	p = m->scratch + m->scratch_len;
	memcpy(p, val, len);
	if (msg_add_bytes(m, type, p, len) < 0)
		return -E2BIG;
	m->scratch_len += len;
	return 0;
}

int
msg_add_u8(struct msg *m, uint16_t type, uint8_t v)
{
	return add_copy(m, type, &v, 1);
}

int
msg_add_u32(struct msg *m, uint16_t type, uint32_t v)
{
	uint8_t tmp[4];

	store_be32(tmp, v);
	return add_copy(m, type, tmp, sizeof(tmp));
}

int
msg_add_u64(struct msg *m, uint16_t type, uint64_t v)
{
	uint8_t tmp[8];

	store_be64(tmp, v);
	return add_copy(m, type, tmp, sizeof(tmp));
}

int
msg_add_addr(struct msg *m, uint16_t type, const struct msg_addr *a)
{
	uint8_t tmp[ADDR_LEN6];
	size_t alen;

	if (a->family == PROTO_FAMILY_IPV4)
		alen = 4;
	else if (a->family == PROTO_FAMILY_IPV6)
		alen = 16;
	else
		return -EINVAL;
	tmp[0] = a->family;
	store_be16(tmp + 1, a->port);
	memcpy(tmp + 3, a->addr, alen);
	return add_copy(m, type, tmp, 3 + alen);
}

/*
 * Per-type checks the tables cannot express.  They run only on messages
 * with status OK, after every attribute passed its own checks.
 */
static int
check_route(const struct msg *m)
{
	uint8_t route;

	if (msg_attr_u8(m, PROTO_ATTR_ROUTE, &route) < 0)
		return MSG_E_ATTR_MISSING;
	if (msg_attr_find(m, PROTO_ATTR_PEER_VIP4) == NULL &&
	    msg_attr_find(m, PROTO_ATTR_PEER_VIP6) == NULL)
		return MSG_E_ATTR_MISSING;
	if (route == PROTO_ROUTE_PUNCH || route == PROTO_ROUTE_RELAY) {
		if (msg_attr_find(m, PROTO_ATTR_RELAY_ADDR) == NULL ||
		    msg_attr_find(m, PROTO_ATTR_BINDING_KEY) == NULL)
			return MSG_E_ATTR_MISSING;
	} else if (msg_attr_find(m, PROTO_ATTR_BINDING_KEY) != NULL)
		return MSG_E_ATTR_CONFLICT;
	if (route != PROTO_ROUTE_RELAY &&
	    msg_attr_find(m, PROTO_ATTR_PEER_ADDR) == NULL)
		return MSG_E_ATTR_MISSING;
	return 0;
}

/* Exactly one of CERT and CERT_HASH. */
static int
check_cert_or_hash(const struct msg *m)
{
	bool cert = msg_attr_find(m, PROTO_ATTR_CERT) != NULL;
	bool hash = msg_attr_find(m, PROTO_ATTR_CERT_HASH) != NULL;

	if (cert && hash)
		return MSG_E_ATTR_CONFLICT;
	return cert || hash ? 0 : MSG_E_ATTR_MISSING;
}

static int
check_tunnel_request(const struct msg *m)
{
	static const uint16_t share[] = { PROTO_ATTR_INVALID,
	    PROTO_ATTR_END_KEY_CT, PROTO_ATTR_KEM_CT, PROTO_ATTR_EPHEMERAL };
	const struct msg_attr *path;
	uint8_t kex;
	size_t i;

	if (msg_attr_u8(m, PROTO_ATTR_KEX, &kex) < 0)
		return MSG_E_ATTR_MISSING;
	/* The scheme's key share, and no other scheme's. */
	for (i = 1; i <= PROTO_KEX_MAX; i++) {
		bool have = msg_attr_find(m, share[i]) != NULL;

		if (i == kex && !have)
			return MSG_E_ATTR_MISSING;
		if (i != kex && have)
			return MSG_E_ATTR_CONFLICT;
	}
	path = msg_attr_find(m, PROTO_ATTR_PATH_ID);
	if (path == NULL)
		return MSG_E_ATTR_MISSING;
	if (memcmp(path->val, m->hdr.id, PROTO_ID_LEN) != 0)
		return MSG_E_ATTR_CONFLICT;
	return check_cert_or_hash(m);
}

static int
check_tunnel_response(const struct msg *m)
{
	return check_cert_or_hash(m);
}

/*
 * A TUNNEL_REQUEST or TUNNEL_RESPONSE with CERT_FETCH (PROTOCOL.md 6.2):
 * the request names the path, rsa and both FQDNs and carries no handshake
 * field; the answer carries the certificate and its status and nothing
 * of the handshake.  Neither has a transcript.
 */
static int
check_cert_fetch(const struct msg *m)
{
	static const uint16_t req_need[] = { PROTO_ATTR_PATH_ID,
	    PROTO_ATTR_KEX, PROTO_ATTR_FQDN, PROTO_ATTR_PEER_FQDN };
	static const uint16_t req_none[] = { PROTO_ATTR_AEAD_OFFERS,
	    PROTO_ATTR_NONCE, PROTO_ATTR_EPHEMERAL, PROTO_ATTR_KEM_CT,
	    PROTO_ATTR_END_KEY_CT, PROTO_ATTR_CERT, PROTO_ATTR_CERT_HASH,
	    PROTO_ATTR_STATUS, PROTO_ATTR_SIGNATURE };
	static const uint16_t resp_need[] = { PROTO_ATTR_CERT,
	    PROTO_ATTR_STATUS };
	static const uint16_t resp_none[] = { PROTO_ATTR_NONCE,
	    PROTO_ATTR_EPHEMERAL, PROTO_ATTR_AEAD, PROTO_ATTR_CERT_HASH,
	    PROTO_ATTR_SIGNATURE };
	const uint16_t *need, *none;
	const struct msg_attr *path;
	size_t nneed, nnone, i;
	uint8_t kex;

	if (m->hdr.type == PROTO_MSG_TUNNEL_REQUEST) {
		need = req_need;
		nneed = sizeof(req_need) / sizeof(req_need[0]);
		none = req_none;
		nnone = sizeof(req_none) / sizeof(req_none[0]);
	} else {
		need = resp_need;
		nneed = sizeof(resp_need) / sizeof(resp_need[0]);
		none = resp_none;
		nnone = sizeof(resp_none) / sizeof(resp_none[0]);
	}
	for (i = 0; i < nneed; i++)
		if (msg_attr_find(m, need[i]) == NULL)
			return MSG_E_ATTR_MISSING;
	for (i = 0; i < nnone; i++)
		if (msg_attr_find(m, none[i]) != NULL)
			return MSG_E_ATTR_CONFLICT;
	if (m->hdr.type != PROTO_MSG_TUNNEL_REQUEST)
		return 0;
	/* Only rsa needs the responder's certificate before its request. */
	if (msg_attr_u8(m, PROTO_ATTR_KEX, &kex) < 0 || kex != PROTO_KEX_RSA)
		return MSG_E_ATTR_VALUE;
	path = msg_attr_find(m, PROTO_ATTR_PATH_ID);
	if (memcmp(path->val, m->hdr.id, PROTO_ID_LEN) != 0)
		return MSG_E_ATTR_CONFLICT;
	return 0;
}

/* A success that assigns or names virtual IPs names at least one. */
static int
check_vips(const struct msg *m)
{
	if (msg_attr_find(m, PROTO_ATTR_VIP4) == NULL &&
	    msg_attr_find(m, PROTO_ATTR_VIP6) == NULL)
		return MSG_E_ATTR_MISSING;
	return 0;
}

/* Points *p at a fixed-size attribute's value, or NULL when absent. */
static const uint8_t *
attr_ptr(const struct msg *m, uint16_t type, size_t len)
{
	const struct msg_attr *a = msg_attr_find(m, type);

	return a != NULL && a->len == len ? a->val : NULL;
}

int
msg_route_read(const struct msg *m, struct msg_route *r)
{
	const struct msg_attr *a;

	memset(r, 0, sizeof(*r));
	if ((m->hdr.type != PROTO_MSG_ROUTE_DIRECTION &&
	    m->hdr.type != PROTO_MSG_ROUTE_HANDOFF) ||
	    m->hdr.status != PROTO_STATUS_OK)
		return MSG_E_TYPE;
	r->path_id = attr_ptr(m, PROTO_ATTR_PATH_ID, PROTO_ID_LEN);
	r->tunnel_key = attr_ptr(m, PROTO_ATTR_TUNNEL_KEY, PROTO_KEY_LEN);
	r->temp_key = attr_ptr(m, PROTO_ATTR_TEMP_KEY, PROTO_KEY_LEN);
	r->peer_cert_hash = attr_ptr(m, PROTO_ATTR_PEER_CERT_HASH,
	    PROTO_HASH_LEN);
	r->peer_serial = msg_attr_find(m, PROTO_ATTR_PEER_SERIAL);
	r->peer_status = msg_attr_find(m, PROTO_ATTR_PEER_STATUS);
	if (r->path_id == NULL || r->tunnel_key == NULL ||
	    r->temp_key == NULL || r->peer_cert_hash == NULL ||
	    r->peer_serial == NULL || r->peer_status == NULL ||
	    msg_attr_u8(m, PROTO_ATTR_ROUTE, &r->route) < 0 ||
	    msg_attr_u8(m, PROTO_ATTR_ROLE, &r->role) < 0 ||
	    msg_attr_u8(m, PROTO_ATTR_KEX, &r->kex) < 0 ||
	    msg_attr_u64(m, PROTO_ATTR_EXPIRY, &r->expiry) < 0 ||
	    msg_attr_u32(m, PROTO_ATTR_RECV_ID, &r->recv_id) < 0 ||
	    msg_attr_u32(m, PROTO_ATTR_PEER_RECV_ID, &r->peer_recv_id) < 0 ||
	    (a = msg_attr_find(m, PROTO_ATTR_PEER_FQDN)) == NULL)
		return MSG_E_ATTR_MISSING;
	r->peer_fqdn = a->val;
	r->peer_fqdn_len = a->len;
	if ((a = msg_attr_find(m, PROTO_ATTR_FQDN)) != NULL) {
		r->fqdn = a->val;
		r->fqdn_len = a->len;
	}
	r->peer_vip4 = attr_ptr(m, PROTO_ATTR_PEER_VIP4, 4);
	r->peer_vip6 = attr_ptr(m, PROTO_ATTR_PEER_VIP6, 16);
	r->binding_key = attr_ptr(m, PROTO_ATTR_BINDING_KEY, PROTO_KEY_LEN);
	r->aead_offers = msg_attr_find(m, PROTO_ATTR_AEAD_OFFERS);
	if (msg_attr_u32(m, PROTO_ATTR_PUNCH_DEADLINE, &r->punch_deadline) < 0)
		r->punch_deadline = PROTO_TIMER_PUNCH_DEADLINE;
	for (a = NULL; (a = msg_attr_next(m, PROTO_ATTR_PEER_ADDR, a)) != NULL &&
	    r->npeer_addr < PROTO_ADDRS_MAX;)
		if (msg_addr_parse(a, &r->peer_addr[r->npeer_addr]) == 0)
			r->npeer_addr++;
	for (a = NULL; (a = msg_attr_next(m, PROTO_ATTR_RELAY_ADDR, a)) != NULL &&
	    r->nrelay_addr < 2;)
		if (msg_addr_parse(a, &r->relay_addr[r->nrelay_addr]) == 0)
			r->nrelay_addr++;
	return 0;
}

int
msg_route_write(struct msg *m, const struct msg_route *r)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < r->npeer_addr && i < PROTO_ADDRS_MAX; i++)
		if (r->peer_addr[i].family != PROTO_FAMILY_IPV4 &&
		    r->peer_addr[i].family != PROTO_FAMILY_IPV6)
			return -EINVAL;
	for (i = 0; i < r->nrelay_addr && i < 2; i++)
		if (r->relay_addr[i].family != PROTO_FAMILY_IPV4 &&
		    r->relay_addr[i].family != PROTO_FAMILY_IPV6)
			return -EINVAL;
	/* Each adder fails only with -E2BIG; check once at the end. */
	rc |= msg_add_bytes(m, PROTO_ATTR_PATH_ID, r->path_id, PROTO_ID_LEN);
	rc |= msg_add_u8(m, PROTO_ATTR_ROUTE, r->route);
	rc |= msg_add_u8(m, PROTO_ATTR_ROLE, r->role);
	rc |= msg_add_u8(m, PROTO_ATTR_KEX, r->kex);
	rc |= msg_add_u64(m, PROTO_ATTR_EXPIRY, r->expiry);
	rc |= msg_add_bytes(m, PROTO_ATTR_PEER_FQDN, r->peer_fqdn,
	    r->peer_fqdn_len);
	if (r->peer_vip4 != NULL)
		rc |= msg_add_bytes(m, PROTO_ATTR_PEER_VIP4, r->peer_vip4, 4);
	if (r->peer_vip6 != NULL)
		rc |= msg_add_bytes(m, PROTO_ATTR_PEER_VIP6, r->peer_vip6, 16);
	for (i = 0; i < r->npeer_addr && i < PROTO_ADDRS_MAX; i++)
		rc |= msg_add_addr(m, PROTO_ATTR_PEER_ADDR, &r->peer_addr[i]);
	for (i = 0; i < r->nrelay_addr && i < 2; i++)
		rc |= msg_add_addr(m, PROTO_ATTR_RELAY_ADDR, &r->relay_addr[i]);
	rc |= msg_add_u32(m, PROTO_ATTR_RECV_ID, r->recv_id);
	rc |= msg_add_u32(m, PROTO_ATTR_PEER_RECV_ID, r->peer_recv_id);
	rc |= msg_add_bytes(m, PROTO_ATTR_TUNNEL_KEY, r->tunnel_key,
	    PROTO_KEY_LEN);
	rc |= msg_add_bytes(m, PROTO_ATTR_TEMP_KEY, r->temp_key, PROTO_KEY_LEN);
	if (r->binding_key != NULL)
		rc |= msg_add_bytes(m, PROTO_ATTR_BINDING_KEY, r->binding_key,
		    PROTO_KEY_LEN);
	rc |= msg_add_bytes(m, PROTO_ATTR_PEER_CERT_HASH, r->peer_cert_hash,
	    PROTO_HASH_LEN);
	if (r->peer_serial != NULL)
		rc |= msg_add_bytes(m, PROTO_ATTR_PEER_SERIAL,
		    r->peer_serial->val, r->peer_serial->len);
	if (r->peer_status != NULL)
		rc |= msg_add_bytes(m, PROTO_ATTR_PEER_STATUS,
		    r->peer_status->val, r->peer_status->len);
	if (r->punch_deadline != 0)
		rc |= msg_add_u32(m, PROTO_ATTR_PUNCH_DEADLINE,
		    r->punch_deadline);
	if (r->aead_offers != NULL)
		rc |= msg_add_bytes(m, PROTO_ATTR_AEAD_OFFERS,
		    r->aead_offers->val, r->aead_offers->len);
	if (r->fqdn != NULL)
		rc |= msg_add_bytes(m, PROTO_ATTR_FQDN, r->fqdn, r->fqdn_len);
	return rc != 0 ? -E2BIG : 0;
}

static void
put_attr(struct wbuf *w, uint16_t type, const uint8_t *val, size_t len)
{
	wbuf_put_u16(w, type);
	wbuf_put_u16(w, (uint16_t)len);
	wbuf_put_bytes(w, val, len);
}

/* Copies the first `type` attribute of m, TLV-encoded, into w. */
static int
put_from(struct wbuf *w, const struct msg *m, uint16_t type)
{
	const struct msg_attr *a;

	if ((a = msg_attr_find(m, type)) == NULL)
		return MSG_E_ATTR_MISSING;
	put_attr(w, a->type, a->val, a->len);
	return 0;
}

int
msg_transcript_request(const struct msg *req,
    const uint8_t cert_hash_r[PROTO_HASH_LEN], struct wbuf *w)
{
	static const uint16_t fields[] = { PROTO_ATTR_PATH_ID, PROTO_ATTR_KEX,
	    PROTO_ATTR_AEAD_OFFERS, PROTO_ATTR_NONCE };
	const struct msg_attr *share;
	size_t i;
	int rc;

	if (req->hdr.type != PROTO_MSG_TUNNEL_REQUEST)
		return MSG_E_TYPE;
	if (req->hdr.flags & PROTO_F_FRAGMENT)
		return MSG_E_FRAG;	/* reassemble first */
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((rc = put_from(w, req, fields[i])) < 0)
			return rc;
	if ((share = msg_attr_find(req, PROTO_ATTR_EPHEMERAL)) == NULL &&
	    (share = msg_attr_find(req, PROTO_ATTR_KEM_CT)) == NULL &&
	    (share = msg_attr_find(req, PROTO_ATTR_END_KEY_CT)) == NULL)
		return MSG_E_ATTR_MISSING;
	put_attr(w, share->type, share->val, share->len);
	if ((rc = put_from(w, req, PROTO_ATTR_FQDN)) < 0 ||
	    (rc = put_from(w, req, PROTO_ATTR_PEER_FQDN)) < 0)
		return rc;
	put_attr(w, PROTO_ATTR_PEER_CERT_HASH, cert_hash_r, PROTO_HASH_LEN);
	return wbuf_error(w);
}

int
msg_transcript_response(const struct msg *resp,
    const uint8_t cert_hash_r[PROTO_HASH_LEN], struct wbuf *w)
{
	const struct msg_attr *eph;
	int rc;

	if (resp->hdr.type != PROTO_MSG_TUNNEL_RESPONSE)
		return MSG_E_TYPE;
	if (resp->hdr.flags & PROTO_F_FRAGMENT)
		return MSG_E_FRAG;
	if ((rc = put_from(w, resp, PROTO_ATTR_NONCE)) < 0)
		return rc;
	if ((eph = msg_attr_find(resp, PROTO_ATTR_EPHEMERAL)) != NULL)
		put_attr(w, eph->type, eph->val, eph->len);
	if ((rc = put_from(w, resp, PROTO_ATTR_AEAD)) < 0)
		return rc;
	put_attr(w, PROTO_ATTR_CERT_HASH, cert_hash_r, PROTO_HASH_LEN);
	return wbuf_error(w);
}
