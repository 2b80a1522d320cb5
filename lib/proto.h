/* proto.h -- every ntmobile protocol number, timer and limit (see doc/PROTOCOL.md). */
#ifndef NTM_PROTO_H
#define NTM_PROTO_H

#include <stdint.h>

/*
 * Common header of every signalling message (UDP and TLS channels alike),
 * 36 bytes, all integers big-endian.  On UDP the header is the AEAD's
 * additional data, byte for byte; the body after it is ciphertext || tag
 * when PROTO_F_SEALED is set.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------+---------------+---------------+---------------+
 * |    version    |     type      |    status     |     flags     |  0
 * +---------------+---------------+---------------+---------------+
 * |         length (body)         |        reserved (zero)        |  4
 * +---------------+---------------+---------------+---------------+
 * |                        transaction id                         |  8
 * +---------------+---------------+---------------+---------------+
 * |                                                               | 12
 * +                   sequence number (64 bits)                   +
 * |                                                               |
 * +---------------+---------------+---------------+---------------+
 * |                                                               | 20
 * +                                                               +
 * |                                                               |
 * +                  node or path id (128 bits)                   +
 * |                                                               |
 * +                                                               +
 * |                                                               |
 * +---------------+---------------+---------------+---------------+ 36
 * |   body: TLV attributes, or fragment sub-header + payload,     |
 * |   followed by a 16-byte AEAD tag when SEALED                  |
 *
 * length counts every byte after the header (including the tag).
 *
 * Fragment sub-header (first 6 bytes of the body when PROTO_F_FRAGMENT is
 * set; inside the ciphertext on sealed messages):
 *
 * +---------------+---------------+---------------+---------------+
 * |                          message id                           |
 * +---------------+---------------+---------------+---------------+
 * |     index     |     count     |  payload (a slice of the TLV list) ...
 * +---------------+---------------+
 *
 * Attribute (TLV), repeated to the end of the body:
 *
 * +---------------+---------------+---------------+---------------+
 * |         attribute type        |       value length (bytes)    |
 * +---------------+---------------+---------------+---------------+
 * |  value ...
 *
 * Data-plane packet (UDP 4620 and the RS at 4613), 16 bytes, AAD of its
 * AEAD; bytes 0 and 1 sit where the common header has version and type,
 * so one read of byte 1 tells the two formats apart:
 *
 * +---------------+---------------+---------------+---------------+
 * |    version    |     type      |   key phase   |reserved (zero)|  0
 * +---------------+---------------+---------------+---------------+
 * |                          receiver id                          |  4
 * +---------------+---------------+---------------+---------------+
 * |                                                               |  8
 * +                      counter (64 bits)                        +
 * |                                                               |
 * +---------------+---------------+---------------+---------------+ 16
 * |  ciphertext || 16-byte tag ...
 *
 * key phase is 0 or 1: the low bit of the tunnel's key epoch (rekeying).
 * RS_HELLO's body is a 32-byte cookie field (zero without a cookie) and a
 * tag; RS_COOKIE's body is the 32-byte cookie alone.
 */

enum proto_version {
	PROTO_VERSION_INVALID = 0,
	PROTO_VERSION_1 = 1,
};

/* Message types (header byte 1).  Ranges group them by channel. */
enum proto_msg {
	PROTO_MSG_INVALID = 0,
	/* 0x01-0x1f: node <-> DC, UDP 4610. */
	PROTO_MSG_REG_HELLO = 0x01,		/* N->DC plain: ticket, nonce */
	PROTO_MSG_REG_CHALLENGE = 0x02,		/* DC->N plain: cookie */
	PROTO_MSG_REGISTRATION = 0x03,		/* N->DC sealed */
	PROTO_MSG_REGISTRATION_ACK = 0x04,	/* DC->N sealed */
	PROTO_MSG_KEEPALIVE = 0x05,
	PROTO_MSG_KEEPALIVE_ACK = 0x06,
	PROTO_MSG_DIRECTION_REQUEST = 0x07,	/* MN->DC_MN */
	PROTO_MSG_ROUTE_DIRECTION = 0x08,	/* DC->MN (answer), DC->CN */
	PROTO_MSG_NTM_ACK = 0x09,		/* CN->DC_CN */
	PROTO_MSG_STATUS_NOTICE = 0x0a,		/* DC->N: status, revocation */
	PROTO_MSG_STATUS_NOTICE_ACK = 0x0b,	/* N->DC */
	/* 0x20-0x2f: node <-> node UDP 4620, through the RS at 4613. */
	PROTO_MSG_TUNNEL_REQUEST = 0x20,	/* MN->CN, tunnel key */
	PROTO_MSG_TUNNEL_RESPONSE = 0x21,	/* CN->MN, tunnel key */
	PROTO_MSG_DATA = 0x28,			/* data format: inner IP packet */
	PROTO_MSG_TUNNEL_CONTROL = 0x29,	/* data format: in-tunnel message */
	PROTO_MSG_RS_HELLO = 0x2a,		/* data format: node->RS binding */
	PROTO_MSG_RS_COOKIE = 0x2b,		/* data format: RS->node cookie */
	/* 0x30-0x3f: in-tunnel messages (plaintext of TUNNEL_CONTROL). */
	PROTO_MSG_TUNNEL_KEEPALIVE = 0x30,
	PROTO_MSG_TUNNEL_UPDATE = 0x31,
	PROTO_MSG_TUNNEL_UPDATE_ACK = 0x32,
	PROTO_MSG_REKEY_REQUEST = 0x33,
	PROTO_MSG_REKEY_RESPONSE = 0x34,
	PROTO_MSG_CERT_UPDATE = 0x35,
	PROTO_MSG_CERT_UPDATE_ACK = 0x36,
	PROTO_MSG_TUNNEL_CLOSE = 0x37,
	/* 0x40-0x47: DC <-> DC, TLS 4611. */
	PROTO_MSG_NODE_INFO_REQUEST = 0x40,
	PROTO_MSG_NODE_INFO_RESPONSE = 0x41,
	PROTO_MSG_ROUTE_HANDOFF = 0x42,		/* DC_MN->DC_CN: CN's direction */
	PROTO_MSG_PEER_NTM_ACK = 0x43,		/* DC_CN->DC_MN */
	/* 0x48-0x4f: DC -> RS, TLS 4614. */
	PROTO_MSG_RELAY_DIRECTION = 0x48,
	PROTO_MSG_RELAY_DIRECTION_ACK = 0x49,
	/* 0x60-0x67: node -> AS, TLS 4612. */
	PROTO_MSG_ENROLL_REQUEST = 0x60,	/* account, password, CSR */
	PROTO_MSG_AUTH_REQUEST = 0x61,		/* TLS client certificate */
	PROTO_MSG_RENEW_REQUEST = 0x62,		/* TLS client certificate, CSR */
	PROTO_MSG_AUTH_RESPONSE = 0x63,		/* answers all three */
	/* 0x68-0x6f: AS <-> DC, TLS 4611. */
	PROTO_MSG_NOTICE_ISSUED = 0x68,
	PROTO_MSG_NOTICE_REVOKED = 0x69,
	PROTO_MSG_NOTICE_STATUS = 0x6a,
	PROTO_MSG_NOTICE_TICKET_KEY = 0x6b,
	PROTO_MSG_NOTICE_ACK = 0x6c,		/* DC->AS */
	PROTO_MSG_VIP_REQUEST = 0x6d,		/* AS->DC */
	PROTO_MSG_VIP_RESPONSE = 0x6e,		/* DC->AS */
	/* Not a wire type: the sealed content of a DC ticket (TLV list). */
	PROTO_MSG_TICKET_BODY = 0xf0,
};

/* Header flags (byte 3).  Every other bit must be zero. */
enum proto_flag {
	PROTO_F_INVALID = 0,
	PROTO_F_SEALED = 0x01,		/* body = ciphertext || tag */
	PROTO_F_FRAGMENT = 0x02,	/* body starts with the fragment sub-header */
	PROTO_F_ALL = 0x03,
};

/*
 * Status codes (header byte 2).  Requests and notices carry OK; an answer
 * with any other status is an error answer whose required attributes are
 * not required.
 */
enum proto_status {
	PROTO_STATUS_INVALID = 0,
	PROTO_STATUS_OK = 1,
	PROTO_STATUS_MALFORMED = 2,
	PROTO_STATUS_VERSION = 3,		/* version not supported */
	PROTO_STATUS_UNKNOWN_NODE = 4,
	PROTO_STATUS_NOT_REGISTERED = 5,	/* known, no live registration */
	PROTO_STATUS_REVOKED = 6,
	PROTO_STATUS_REFUSED_POLICY = 7,
	PROTO_STATUS_KEX_NOT_ALLOWED = 8,
	PROTO_STATUS_AEAD_NOT_ALLOWED = 9,
	PROTO_STATUS_EXPIRED = 10,
	PROTO_STATUS_AUTH_FAILED = 11,
	PROTO_STATUS_BAD_TICKET = 12,
	PROTO_STATUS_BAD_COOKIE = 13,
	PROTO_STATUS_RATE_LIMITED = 14,
	PROTO_STATUS_UNKNOWN_PATH = 15,
	PROTO_STATUS_STALE_STATUS = 16,		/* older than one already seen */
	PROTO_STATUS_CERT_INVALID = 17,
	PROTO_STATUS_ADDRESS_IN_USE = 18,	/* virtual IP already certified */
	PROTO_STATUS_TOO_LARGE = 19,
	PROTO_STATUS_UNAVAILABLE = 20,		/* try again later */
	PROTO_STATUS_INTERNAL = 21,
	PROTO_STATUS_MAX = 21,
};

/*
 * Attribute types.  0x0001-0x7fff must be understood: an unknown one, or a
 * known one a message type does not list, rejects the message.
 * 0x8000-0xffff may be skipped by receivers that do not know them.
 */
enum proto_attr {
	PROTO_ATTR_INVALID = 0,
	PROTO_ATTR_NONCE = 0x0001,		/* 32 random bytes */
	PROTO_ATTR_COOKIE = 0x0002,		/* 32 bytes, DC's nonce */
	PROTO_ATTR_TICKET = 0x0003,		/* sealed DC ticket */
	PROTO_ATTR_TICKET_ID = 0x0004,		/* 16 */
	PROTO_ATTR_TICKET_KEY = 0x0005,		/* 32, node<->DC key */
	PROTO_ATTR_TICKET_KEY_ID = 0x0006,	/* u32 */
	PROTO_ATTR_EXPIRY = 0x0007,		/* u64 Unix seconds */
	PROTO_ATTR_LIFETIME = 0x0008,		/* u32 seconds */
	PROTO_ATTR_LOCAL_ADDR = 0x0009,		/* address, repeatable */
	PROTO_ATTR_OBSERVED_ADDR = 0x000a,	/* address */
	PROTO_ATTR_PEER_ADDR = 0x000b,		/* address, repeatable */
	PROTO_ATTR_RELAY_ADDR = 0x000c,		/* address, repeatable */
	PROTO_ATTR_DC_ADDR = 0x000d,		/* address, repeatable */
	PROTO_ATTR_VIP4 = 0x000e,		/* 4 */
	PROTO_ATTR_VIP6 = 0x000f,		/* 16 */
	PROTO_ATTR_FQDN = 0x0010,		/* LDH, lower case, no final dot */
	PROTO_ATTR_PEER_FQDN = 0x0011,
	PROTO_ATTR_KEX = 0x0012,		/* u8 enum proto_kex */
	PROTO_ATTR_AEAD_OFFERS = 0x0013,	/* u8 enum proto_aead list */
	PROTO_ATTR_AEAD = 0x0014,		/* u8 enum proto_aead */
	PROTO_ATTR_CERT = 0x0015,		/* DER X.509 */
	PROTO_ATTR_CERT_HASH = 0x0016,		/* SHA-256 of the DER */
	PROTO_ATTR_STATUS = 0x0017,		/* DER OCSPResponse */
	PROTO_ATTR_SERIAL = 0x0018,		/* certificate serial, 1-20 */
	PROTO_ATTR_SIGNATURE = 0x0019,
	PROTO_ATTR_PATH_ID = 0x001a,		/* 16 */
	PROTO_ATTR_RECV_ID = 0x001b,		/* u32, own side */
	PROTO_ATTR_PEER_RECV_ID = 0x001c,	/* u32, other side */
	PROTO_ATTR_ROUTE = 0x001d,		/* u8 enum proto_route */
	PROTO_ATTR_ROLE = 0x001e,		/* u8 enum proto_role */
	PROTO_ATTR_NAT = 0x001f,		/* u8 enum proto_nat */
	PROTO_ATTR_TUNNEL_KEY = 0x0020,		/* 32 */
	PROTO_ATTR_TEMP_KEY = 0x0021,		/* 32 */
	PROTO_ATTR_BINDING_KEY = 0x0022,	/* 32, RS binding, own side */
	PROTO_ATTR_PEER_BINDING_KEY = 0x0023,	/* 32, RS binding, other side */
	PROTO_ATTR_EPHEMERAL = 0x0024,		/* 32, X25519 public */
	PROTO_ATTR_KEM_CT = 0x0025,		/* 256, RSA-KEM c */
	PROTO_ATTR_END_KEY_CT = 0x0026,		/* 48, end key sealed (shared) */
	PROTO_ATTR_PUNCH_DEADLINE = 0x0027,	/* u32 ms */
	PROTO_ATTR_ACCOUNT = 0x0028,
	PROTO_ATTR_PASSWORD = 0x0029,
	PROTO_ATTR_CSR = 0x002a,		/* DER PKCS#10 */
	PROTO_ATTR_NOTICE_SEQ = 0x002b,		/* u64 */
	PROTO_ATTR_REVOCATION_TIME = 0x002c,	/* u64 Unix seconds */
	PROTO_ATTR_REASON = 0x002d,		/* u8 enum proto_reason */
	PROTO_ATTR_KEEPALIVE = 0x002e,		/* u32 seconds */
	PROTO_ATTR_ZONE = 0x002f,		/* FQDN of a DC zone */
	PROTO_ATTR_PEER_CERT_HASH = 0x0030,	/* 32 */
	PROTO_ATTR_PEER_SERIAL = 0x0031,
	PROTO_ATTR_PEER_STATUS = 0x0032,
	PROTO_ATTR_PEER_VIP4 = 0x0033,
	PROTO_ATTR_PEER_VIP6 = 0x0034,
	PROTO_ATTR_RETRY_AFTER = 0x0035,	/* u32 ms */
	PROTO_ATTR_KEY_EPOCH = 0x0036,		/* u32, rekey generation */
	PROTO_ATTR_CERT_FETCH = 0x0037,		/* empty: certificate fetch (rsa) */
	PROTO_ATTR_MUST_MAX = 0x7fff,
	/* Skippable range. */
	PROTO_ATTR_PADDING = 0x8000,		/* any bytes, ignored */
	PROTO_ATTR_ERROR_TEXT = 0x8001,		/* UTF-8 for logs */
	PROTO_ATTR_SOFTWARE = 0x8002,		/* sender's name and version */
};

/* Address attribute value: family u8, port u16, address (4 or 16 bytes). */
enum proto_family {
	PROTO_FAMILY_INVALID = 0,
	PROTO_FAMILY_IPV4 = 4,
	PROTO_FAMILY_IPV6 = 6,
};

enum proto_kex {
	PROTO_KEX_INVALID = 0,
	PROTO_KEX_SHARED = 1,
	PROTO_KEX_RSA = 2,
	PROTO_KEX_ECDHE = 3,
	PROTO_KEX_MAX = 3,
};

enum proto_aead {
	PROTO_AEAD_INVALID = 0,
	PROTO_AEAD_AES256_GCM = 1,
	PROTO_AEAD_CHACHA20_POLY1305 = 2,
	PROTO_AEAD_MAX = 2,
};

enum proto_route {
	PROTO_ROUTE_INVALID = 0,
	PROTO_ROUTE_DIRECT = 1,		/* MN -> CN */
	PROTO_ROUTE_REVERSE = 2,	/* CN opens toward MN */
	PROTO_ROUTE_PRIVATE = 3,	/* same NAT, private addresses first */
	PROTO_ROUTE_PUNCH = 4,		/* hole punching, RS allocated */
	PROTO_ROUTE_RELAY = 5,		/* through the RS */
	PROTO_ROUTE_MAX = 5,
};

enum proto_role {
	PROTO_ROLE_INVALID = 0,
	PROTO_ROLE_INITIATOR = 1,	/* MN */
	PROTO_ROLE_RESPONDER = 2,	/* CN */
	PROTO_ROLE_MAX = 2,
};

enum proto_nat {
	PROTO_NAT_INVALID = 0,
	PROTO_NAT_NONE = 1,		/* observed == a registered address */
	PROTO_NAT_BEHIND = 2,
	PROTO_NAT_MAX = 2,
};

/*
 * RFC 5280 CRLReason values, carried as they are (the one enum here whose
 * zero is meaningful on the wire: it is RFC 5280's "unspecified").
 */
enum proto_reason {
	PROTO_REASON_UNSPECIFIED = 0,
	PROTO_REASON_KEY_COMPROMISE = 1,
	PROTO_REASON_AFFILIATION_CHANGED = 3,
	PROTO_REASON_SUPERSEDED = 4,
	PROTO_REASON_CESSATION = 5,
	PROTO_REASON_MAX = 10,
};

enum proto_port {
	PROTO_PORT_INVALID = 0,
	PROTO_PORT_DNS = 53,
	PROTO_PORT_DC = 4610,		/* UDP signalling */
	PROTO_PORT_DC_TLS = 4611,	/* DC<->DC, AS->DC */
	PROTO_PORT_AS = 4612,		/* TLS */
	PROTO_PORT_RS = 4613,		/* UDP relay data and hellos */
	PROTO_PORT_RS_TLS = 4614,	/* DC->RS control */
	PROTO_PORT_OCSP = 4615,		/* HTTP */
	PROTO_PORT_TUNNEL = 4620,	/* UDP node tunnel */
};

/* Timers, in milliseconds unless the name says _S (seconds). */
enum proto_timer {
	PROTO_TIMER_INVALID = 0,
	PROTO_TIMER_RETRANSMIT = 250,		/* first, then doubling */
	PROTO_TIMER_RETRANSMIT_TRIES = 5,	/* sends in total */
	PROTO_TIMER_PUNCH_DEADLINE = 1000,
	PROTO_TIMER_REASSEMBLY = 2000,
	PROTO_TIMER_SETUP = 3000,		/* NSS wait for a tunnel */
	PROTO_TIMER_COOKIE = 10000,		/* REG_CHALLENGE cookie life */
	PROTO_TIMER_OLD_KEY = 10000,		/* old key after a rekey */
	PROTO_TIMER_ROUTE_EXPIRY = 30000,	/* Route Direction validity */
	PROTO_TIMER_KEEPALIVE = 25000,		/* behind NAT */
	PROTO_TIMER_TUNNEL_KEEPALIVE = 15000,
	PROTO_TIMER_RS_IDLE = 60000,
	PROTO_TIMER_REGISTRATION = 120000,	/* registration lifetime */
	PROTO_TIMER_TUNNEL_IDLE = 180000,
	PROTO_TIMER_REKEY = 3600000,		/* 1 h */
	PROTO_TIMER_STATUS_REFRESH_S = 300,
	PROTO_TIMER_CLOCK_SKEW_S = 300,
	PROTO_TIMER_STATUS_VALIDITY_S = 600,
	PROTO_TIMER_STATUS_VALIDITY_MAX_S = 3600,
	PROTO_TIMER_TICKET_S = 86400,		/* DC ticket lifetime */
};

/* Rekey after 2^PROTO_REKEY_PACKETS_LOG2 packets in one direction. */
enum proto_rekey {
	PROTO_REKEY_INVALID = 0,
	PROTO_REKEY_PACKETS_LOG2 = 32,
};

/* Sizes and limits, in bytes unless named otherwise. */
enum proto_limit {
	PROTO_LIMIT_INVALID = 0,
	PROTO_HEADER_LEN = 36,
	PROTO_DATA_HEADER_LEN = 16,
	PROTO_FRAG_HEADER_LEN = 6,
	PROTO_ATTR_HEADER_LEN = 4,
	PROTO_TAG_LEN = 16,
	PROTO_NONCE_LEN = 12,		/* AEAD nonce */
	PROTO_ID_LEN = 16,		/* header node or path id */
	PROTO_KEY_LEN = 32,
	PROTO_RANDOM_LEN = 32,		/* NONCE, COOKIE */
	PROTO_HASH_LEN = 32,		/* SHA-256 */
	PROTO_X25519_LEN = 32,
	PROTO_RSA_KEM_LEN = 256,	/* RSA-2048 */
	PROTO_END_KEY_CT_LEN = 48,	/* 32-byte key + tag */
	PROTO_FQDN_MAX = 253,
	PROTO_LABEL_MAX = 63,
	PROTO_SERIAL_MAX = 20,
	PROTO_CERT_MAX = 4096,
	PROTO_STATUS_MAX_LEN = 4096,
	PROTO_CSR_MAX = 4096,
	PROTO_SIGNATURE_MAX = 512,
	PROTO_ACCOUNT_MAX = 64,
	PROTO_PASSWORD_MAX = 256,
	PROTO_TEXT_MAX = 256,
	PROTO_TICKET_MIN = 1 + 4 + 12 + 1 + PROTO_TAG_LEN, /* 1+ byte of body */
	PROTO_TICKET_MAX = 512,
	PROTO_TICKET_HEADER_LEN = 1 + 4 + 12,	/* version, key id, nonce */
	PROTO_DATAGRAM_MAX = 1200,	/* signalling UDP payload */
	PROTO_FRAGMENTS_MAX = 16,
	PROTO_REASSEMBLY_MAX = 16384,	/* per peer, and per message */
	PROTO_TLS_MESSAGE_MAX = PROTO_HEADER_LEN + 65535,
	PROTO_REPLAY_WINDOW = 2048,	/* packets of a data key (5.4) */
	PROTO_ADDRS_MAX = 8,		/* LOCAL_ADDR / PEER_ADDR per message */
};

/* AEAD nonce domains (nonce byte 0). */
enum proto_nonce {
	PROTO_NONCE_INVALID = 0,
	PROTO_NONCE_SIGNALLING = 0x01,
	PROTO_NONCE_DATA = 0x02,
};

#endif
