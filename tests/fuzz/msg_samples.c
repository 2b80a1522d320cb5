/* msg_samples.c -- one valid sample of every message type, for the codec tests and the seed corpus. */
#include "config.h"

#include <string.h>

#include "msg.h"
#include "msg_samples.h"
#include "proto.h"

const uint8_t msg_sample_types[] = {
	PROTO_MSG_REG_HELLO, PROTO_MSG_REG_CHALLENGE, PROTO_MSG_REGISTRATION,
	PROTO_MSG_REGISTRATION_ACK, PROTO_MSG_KEEPALIVE,
	PROTO_MSG_KEEPALIVE_ACK, PROTO_MSG_DIRECTION_REQUEST,
	PROTO_MSG_ROUTE_DIRECTION, PROTO_MSG_NTM_ACK, PROTO_MSG_STATUS_NOTICE,
	PROTO_MSG_STATUS_NOTICE_ACK, PROTO_MSG_TUNNEL_REQUEST,
	PROTO_MSG_TUNNEL_RESPONSE, PROTO_MSG_TUNNEL_KEEPALIVE,
	PROTO_MSG_TUNNEL_UPDATE, PROTO_MSG_TUNNEL_UPDATE_ACK,
	PROTO_MSG_REKEY_REQUEST, PROTO_MSG_REKEY_RESPONSE,
	PROTO_MSG_CERT_UPDATE, PROTO_MSG_CERT_UPDATE_ACK,
	PROTO_MSG_TUNNEL_CLOSE, PROTO_MSG_NODE_INFO_REQUEST,
	PROTO_MSG_NODE_INFO_RESPONSE, PROTO_MSG_ROUTE_HANDOFF,
	PROTO_MSG_PEER_NTM_ACK, PROTO_MSG_RELAY_DIRECTION,
	PROTO_MSG_RELAY_DIRECTION_ACK, PROTO_MSG_ENROLL_REQUEST,
	PROTO_MSG_AUTH_REQUEST, PROTO_MSG_RENEW_REQUEST,
	PROTO_MSG_AUTH_RESPONSE, PROTO_MSG_NOTICE_ISSUED,
	PROTO_MSG_NOTICE_REVOKED, PROTO_MSG_NOTICE_STATUS,
	PROTO_MSG_NOTICE_TICKET_KEY, PROTO_MSG_NOTICE_ACK,
	PROTO_MSG_VIP_REQUEST, PROTO_MSG_VIP_RESPONSE,
};
const size_t msg_sample_ntypes = sizeof(msg_sample_types);

/* Fixed values; a message borrows them. */
static const uint8_t s_nonce[32] = { 0x4e, 0x4f, 0x4e, 0x43, 0x45, 1, 2, 3 };
static const uint8_t s_cookie[32] = { 0xc0, 0x0c, 0x1e, 9, 8, 7 };
static const uint8_t s_key[32] = { 0x6b, 0x65, 0x79, 1 };
static const uint8_t s_key2[32] = { 0x6b, 0x65, 0x79, 2 };
static const uint8_t s_key3[32] = { 0x6b, 0x65, 0x79, 3 };
static const uint8_t s_key4[32] = { 0x6b, 0x65, 0x79, 4 };
static const uint8_t s_hash[32] = { 0x48, 0x41, 0x53, 0x48, 0xaa };
static const uint8_t s_id[16] = { 0x70, 0x61, 0x74, 0x68, 0xde, 0xad, 0xbe,
    0xef, 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t s_ticket_id[16] = { 0x74, 0x69, 0x64, 1 };
static const uint8_t s_serial[16] = { 0x3a, 0x01, 0x02, 0x03, 0x04, 0x05,
    0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
static const uint8_t s_serial2[16] = { 0x5b, 0xff };
static const uint8_t s_vip4[4] = { 198, 18, 1, 2 };
static const uint8_t s_vip6[16] = { 0xfd, 0x6e, 0x74, 0x6d, 0x6f, 0x62, 0,
    1, 0, 0, 0, 0, 0, 0, 0, 2 };
static const uint8_t s_pvip4[4] = { 198, 18, 2, 3 };
static const uint8_t s_pvip6[16] = { 0xfd, 0x6e, 0x74, 0x6d, 0x6f, 0x62, 0,
    2, 0, 0, 0, 0, 0, 0, 0, 3 };
static const uint8_t s_offers[2] = { PROTO_AEAD_AES256_GCM,
    PROTO_AEAD_CHACHA20_POLY1305 };
static const uint8_t s_ephemeral[32] = { 0xe9, 0x11 };
static const uint8_t s_ephemeral2[32] = { 0xe9, 0x22 };
static const uint8_t s_signature[72] = { 0x30, 0x46, 0x02, 0x21 };
static const char s_fqdn[] = "alice.dc1.ntm.test";
static const char s_peer[] = "bob.dc2.ntm.test";
static const char s_zone[] = "dc1.ntm.test";
static const char s_account[] = "alice";
static const char s_password[] = "correct horse battery staple";

/* DER-looking stand-ins: the codec does not parse them. */
static uint8_t s_cert[600];
static uint8_t s_status[300];
static uint8_t s_csr[250];
static uint8_t s_ticket[120];

static void
sample_fill(uint8_t *p, size_t len, uint8_t tag)
{
	size_t i;

	p[0] = 0x30;
	p[1] = 0x82;
	p[2] = (uint8_t)((len - 4) >> 8);
	p[3] = (uint8_t)(len - 4);
	for (i = 4; i < len; i++)
		p[i] = (uint8_t)(tag + i * 7);
}

void
msg_sample_addr(struct msg_addr *a, int which)
{
	static const uint8_t v4[][4] = { { 192, 0, 2, 10 }, { 203, 0, 113, 5 },
	    { 198, 51, 100, 7 } };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0x42 };

	memset(a, 0, sizeof(*a));
	if (which == 3) {
		a->family = PROTO_FAMILY_IPV6;
		a->port = PROTO_PORT_TUNNEL;
		memcpy(a->addr, v6, 16);
		return;
	}
	a->family = PROTO_FAMILY_IPV4;
	a->port = (uint16_t)(40000 + which);
	memcpy(a->addr, v4[which % 3], 4);
}

static void
add_str(struct msg *m, uint16_t type, const char *s)
{
	(void)msg_add_bytes(m, type, s, strlen(s));
}

static void
add_addr(struct msg *m, uint16_t type, int which)
{
	struct msg_addr a;

	msg_sample_addr(&a, which);
	(void)msg_add_addr(m, type, &a);
}

/* Route Direction content for the responder (CN) on a relay route. */
static void
sample_route(struct msg *m)
{
	(void)msg_add_bytes(m, PROTO_ATTR_PATH_ID, s_id, sizeof(s_id));
	(void)msg_add_u8(m, PROTO_ATTR_ROUTE, PROTO_ROUTE_PUNCH);
	(void)msg_add_u8(m, PROTO_ATTR_ROLE, PROTO_ROLE_RESPONDER);
	(void)msg_add_u8(m, PROTO_ATTR_KEX, PROTO_KEX_ECDHE);
	(void)msg_add_u64(m, PROTO_ATTR_EXPIRY, 1795000000);
	add_str(m, PROTO_ATTR_PEER_FQDN, s_fqdn);
	(void)msg_add_bytes(m, PROTO_ATTR_PEER_VIP4, s_vip4, 4);
	(void)msg_add_bytes(m, PROTO_ATTR_PEER_VIP6, s_vip6, 16);
	add_addr(m, PROTO_ATTR_PEER_ADDR, 1);
	add_addr(m, PROTO_ATTR_PEER_ADDR, 3);
	add_addr(m, PROTO_ATTR_RELAY_ADDR, 2);
	(void)msg_add_u32(m, PROTO_ATTR_RECV_ID, 0x0a0b0c0d);
	(void)msg_add_u32(m, PROTO_ATTR_PEER_RECV_ID, 0x01020304);
	(void)msg_add_bytes(m, PROTO_ATTR_TUNNEL_KEY, s_key, 32);
	(void)msg_add_bytes(m, PROTO_ATTR_TEMP_KEY, s_key2, 32);
	(void)msg_add_bytes(m, PROTO_ATTR_BINDING_KEY, s_key3, 32);
	(void)msg_add_bytes(m, PROTO_ATTR_PEER_CERT_HASH, s_hash, 32);
	(void)msg_add_bytes(m, PROTO_ATTR_PEER_SERIAL, s_serial, 16);
	(void)msg_add_bytes(m, PROTO_ATTR_PEER_STATUS, s_status,
	    sizeof(s_status));
	(void)msg_add_u32(m, PROTO_ATTR_PUNCH_DEADLINE,
	    PROTO_TIMER_PUNCH_DEADLINE);
	(void)msg_add_bytes(m, PROTO_ATTR_AEAD_OFFERS, s_offers, 2);
}

void
msg_sample(struct msg *m, uint8_t type)
{
	sample_fill(s_cert, sizeof(s_cert), 0x11);
	sample_fill(s_status, sizeof(s_status), 0x22);
	sample_fill(s_csr, sizeof(s_csr), 0x33);
	memset(s_ticket, 0x5e, sizeof(s_ticket));
	s_ticket[0] = PROTO_VERSION_1;

	msg_init(m, type);
	m->hdr.txid = 0x01020304u + type;
	m->hdr.seq = 1000u + type;
	memcpy(m->hdr.id, s_id, sizeof(s_id));
	switch (type) {
	case PROTO_MSG_REG_HELLO:
		(void)msg_add_bytes(m, PROTO_ATTR_TICKET, s_ticket,
		    sizeof(s_ticket));
		(void)msg_add_bytes(m, PROTO_ATTR_NONCE, s_nonce, 32);
		add_str(m, PROTO_ATTR_SOFTWARE, "ntmd 0.1.0");
		break;
	case PROTO_MSG_REG_CHALLENGE:
		(void)msg_add_bytes(m, PROTO_ATTR_COOKIE, s_cookie, 32);
		(void)msg_add_bytes(m, PROTO_ATTR_NONCE, s_nonce, 32);
		break;
	case PROTO_MSG_REGISTRATION:
		add_addr(m, PROTO_ATTR_LOCAL_ADDR, 0);
		add_addr(m, PROTO_ATTR_LOCAL_ADDR, 3);
		(void)msg_add_u32(m, PROTO_ATTR_LIFETIME, 120);
		break;
	case PROTO_MSG_REGISTRATION_ACK:
		add_addr(m, PROTO_ATTR_OBSERVED_ADDR, 1);
		(void)msg_add_u8(m, PROTO_ATTR_NAT, PROTO_NAT_BEHIND);
		(void)msg_add_u32(m, PROTO_ATTR_LIFETIME, 120);
		(void)msg_add_u32(m, PROTO_ATTR_KEEPALIVE, 25);
		add_str(m, PROTO_ATTR_FQDN, s_fqdn);
		(void)msg_add_bytes(m, PROTO_ATTR_VIP4, s_vip4, 4);
		(void)msg_add_bytes(m, PROTO_ATTR_VIP6, s_vip6, 16);
		break;
	case PROTO_MSG_KEEPALIVE:
	case PROTO_MSG_TUNNEL_KEEPALIVE:
	case PROTO_MSG_AUTH_REQUEST:
		break;
	case PROTO_MSG_TUNNEL_CLOSE:
		m->hdr.status = PROTO_STATUS_REVOKED;
		add_str(m, PROTO_ATTR_ERROR_TEXT, "peer certificate revoked");
		break;
	case PROTO_MSG_KEEPALIVE_ACK:
		add_addr(m, PROTO_ATTR_OBSERVED_ADDR, 1);
		break;
	case PROTO_MSG_DIRECTION_REQUEST:
		add_str(m, PROTO_ATTR_PEER_FQDN, s_peer);
		(void)msg_add_u8(m, PROTO_ATTR_KEX, PROTO_KEX_ECDHE);
		(void)msg_add_bytes(m, PROTO_ATTR_CERT_HASH, s_hash, 32);
		(void)msg_add_bytes(m, PROTO_ATTR_STATUS, s_status,
		    sizeof(s_status));
		(void)msg_add_bytes(m, PROTO_ATTR_AEAD_OFFERS, s_offers, 2);
		break;
	case PROTO_MSG_ROUTE_DIRECTION:
		sample_route(m);
		break;
	case PROTO_MSG_ROUTE_HANDOFF:
		sample_route(m);
		add_str(m, PROTO_ATTR_FQDN, s_peer);
		break;
	case PROTO_MSG_NTM_ACK:
	case PROTO_MSG_PEER_NTM_ACK:
		(void)msg_add_bytes(m, PROTO_ATTR_PATH_ID, s_id, 16);
		break;
	case PROTO_MSG_STATUS_NOTICE:
		(void)msg_add_bytes(m, PROTO_ATTR_SERIAL, s_serial2, 2);
		(void)msg_add_bytes(m, PROTO_ATTR_STATUS, s_status,
		    sizeof(s_status));
		add_str(m, PROTO_ATTR_FQDN, s_peer);
		(void)msg_add_u64(m, PROTO_ATTR_REVOCATION_TIME, 1794999000);
		(void)msg_add_u8(m, PROTO_ATTR_REASON,
		    PROTO_REASON_KEY_COMPROMISE);
		break;
	case PROTO_MSG_STATUS_NOTICE_ACK:
		(void)msg_add_bytes(m, PROTO_ATTR_SERIAL, s_serial2, 2);
		break;
	case PROTO_MSG_TUNNEL_REQUEST:
		(void)msg_add_bytes(m, PROTO_ATTR_PATH_ID, s_id, 16);
		(void)msg_add_u8(m, PROTO_ATTR_KEX, PROTO_KEX_ECDHE);
		(void)msg_add_bytes(m, PROTO_ATTR_AEAD_OFFERS, s_offers, 2);
		(void)msg_add_bytes(m, PROTO_ATTR_NONCE, s_nonce, 32);
		(void)msg_add_bytes(m, PROTO_ATTR_EPHEMERAL, s_ephemeral, 32);
		add_str(m, PROTO_ATTR_FQDN, s_fqdn);
		add_str(m, PROTO_ATTR_PEER_FQDN, s_peer);
		(void)msg_add_bytes(m, PROTO_ATTR_CERT_HASH, s_hash, 32);
		(void)msg_add_bytes(m, PROTO_ATTR_STATUS, s_status,
		    sizeof(s_status));
		(void)msg_add_bytes(m, PROTO_ATTR_SIGNATURE, s_signature,
		    sizeof(s_signature));
		break;
	case PROTO_MSG_TUNNEL_RESPONSE:
		(void)msg_add_bytes(m, PROTO_ATTR_NONCE, s_cookie, 32);
		(void)msg_add_bytes(m, PROTO_ATTR_EPHEMERAL, s_ephemeral2, 32);
		(void)msg_add_u8(m, PROTO_ATTR_AEAD, PROTO_AEAD_AES256_GCM);
		(void)msg_add_bytes(m, PROTO_ATTR_CERT, s_cert, sizeof(s_cert));
		(void)msg_add_bytes(m, PROTO_ATTR_STATUS, s_status,
		    sizeof(s_status));
		(void)msg_add_bytes(m, PROTO_ATTR_SIGNATURE, s_signature,
		    sizeof(s_signature));
		break;
	case PROTO_MSG_TUNNEL_UPDATE:
		add_addr(m, PROTO_ATTR_LOCAL_ADDR, 3);
		break;
	case PROTO_MSG_TUNNEL_UPDATE_ACK:
		add_addr(m, PROTO_ATTR_OBSERVED_ADDR, 3);
		break;
	case PROTO_MSG_REKEY_REQUEST:
		(void)msg_add_u32(m, PROTO_ATTR_KEY_EPOCH, 2);
		(void)msg_add_bytes(m, PROTO_ATTR_NONCE, s_nonce, 32);
		(void)msg_add_bytes(m, PROTO_ATTR_EPHEMERAL, s_ephemeral, 32);
		break;
	case PROTO_MSG_REKEY_RESPONSE:
		(void)msg_add_u32(m, PROTO_ATTR_KEY_EPOCH, 2);
		(void)msg_add_bytes(m, PROTO_ATTR_NONCE, s_cookie, 32);
		(void)msg_add_bytes(m, PROTO_ATTR_EPHEMERAL, s_ephemeral2, 32);
		break;
	case PROTO_MSG_CERT_UPDATE:
		(void)msg_add_bytes(m, PROTO_ATTR_CERT, s_cert, sizeof(s_cert));
		(void)msg_add_bytes(m, PROTO_ATTR_STATUS, s_status,
		    sizeof(s_status));
		break;
	case PROTO_MSG_CERT_UPDATE_ACK:
		(void)msg_add_bytes(m, PROTO_ATTR_CERT_HASH, s_hash, 32);
		break;
	case PROTO_MSG_NODE_INFO_REQUEST:
		add_str(m, PROTO_ATTR_FQDN, s_fqdn);
		add_str(m, PROTO_ATTR_PEER_FQDN, s_peer);
		(void)msg_add_u8(m, PROTO_ATTR_KEX, PROTO_KEX_ECDHE);
		break;
	case PROTO_MSG_NODE_INFO_RESPONSE:
		add_str(m, PROTO_ATTR_FQDN, s_peer);
		add_addr(m, PROTO_ATTR_LOCAL_ADDR, 0);
		add_addr(m, PROTO_ATTR_OBSERVED_ADDR, 1);
		(void)msg_add_u8(m, PROTO_ATTR_NAT, PROTO_NAT_BEHIND);
		(void)msg_add_bytes(m, PROTO_ATTR_VIP4, s_pvip4, 4);
		(void)msg_add_bytes(m, PROTO_ATTR_VIP6, s_pvip6, 16);
		(void)msg_add_bytes(m, PROTO_ATTR_CERT_HASH, s_hash, 32);
		(void)msg_add_bytes(m, PROTO_ATTR_SERIAL, s_serial2, 2);
		(void)msg_add_bytes(m, PROTO_ATTR_STATUS, s_status,
		    sizeof(s_status));
		break;
	case PROTO_MSG_RELAY_DIRECTION:
		(void)msg_add_bytes(m, PROTO_ATTR_PATH_ID, s_id, 16);
		(void)msg_add_u32(m, PROTO_ATTR_RECV_ID, 0x01020304);
		(void)msg_add_u32(m, PROTO_ATTR_PEER_RECV_ID, 0x0a0b0c0d);
		(void)msg_add_bytes(m, PROTO_ATTR_BINDING_KEY, s_key3, 32);
		(void)msg_add_bytes(m, PROTO_ATTR_PEER_BINDING_KEY, s_key4, 32);
		add_addr(m, PROTO_ATTR_OBSERVED_ADDR, 0);
		add_addr(m, PROTO_ATTR_PEER_ADDR, 1);
		(void)msg_add_u64(m, PROTO_ATTR_EXPIRY, 1795000000);
		break;
	case PROTO_MSG_RELAY_DIRECTION_ACK:
		(void)msg_add_bytes(m, PROTO_ATTR_PATH_ID, s_id, 16);
		add_addr(m, PROTO_ATTR_RELAY_ADDR, 2);
		add_addr(m, PROTO_ATTR_RELAY_ADDR, 3);
		break;
	case PROTO_MSG_ENROLL_REQUEST:
		add_str(m, PROTO_ATTR_ACCOUNT, s_account);
		add_str(m, PROTO_ATTR_PASSWORD, s_password);
		(void)msg_add_bytes(m, PROTO_ATTR_CSR, s_csr, sizeof(s_csr));
		break;
	case PROTO_MSG_RENEW_REQUEST:
		(void)msg_add_bytes(m, PROTO_ATTR_CSR, s_csr, sizeof(s_csr));
		break;
	case PROTO_MSG_AUTH_RESPONSE:
		(void)msg_add_bytes(m, PROTO_ATTR_CERT, s_cert, sizeof(s_cert));
		(void)msg_add_bytes(m, PROTO_ATTR_STATUS, s_status,
		    sizeof(s_status));
		(void)msg_add_bytes(m, PROTO_ATTR_TICKET, s_ticket,
		    sizeof(s_ticket));
		(void)msg_add_bytes(m, PROTO_ATTR_TICKET_ID, s_ticket_id, 16);
		(void)msg_add_bytes(m, PROTO_ATTR_TICKET_KEY, s_key, 32);
		(void)msg_add_u64(m, PROTO_ATTR_EXPIRY, 1795086400);
		add_addr(m, PROTO_ATTR_DC_ADDR, 2);
		add_str(m, PROTO_ATTR_FQDN, s_fqdn);
		add_str(m, PROTO_ATTR_ZONE, s_zone);
		(void)msg_add_bytes(m, PROTO_ATTR_VIP4, s_vip4, 4);
		(void)msg_add_bytes(m, PROTO_ATTR_VIP6, s_vip6, 16);
		break;
	case PROTO_MSG_NOTICE_ISSUED:
		(void)msg_add_u64(m, PROTO_ATTR_NOTICE_SEQ, 41);
		add_str(m, PROTO_ATTR_FQDN, s_fqdn);
		(void)msg_add_bytes(m, PROTO_ATTR_SERIAL, s_serial, 16);
		(void)msg_add_bytes(m, PROTO_ATTR_CERT, s_cert, sizeof(s_cert));
		(void)msg_add_bytes(m, PROTO_ATTR_STATUS, s_status,
		    sizeof(s_status));
		(void)msg_add_bytes(m, PROTO_ATTR_VIP4, s_vip4, 4);
		break;
	case PROTO_MSG_NOTICE_REVOKED:
		(void)msg_add_u64(m, PROTO_ATTR_NOTICE_SEQ, 42);
		(void)msg_add_bytes(m, PROTO_ATTR_SERIAL, s_serial, 16);
		add_str(m, PROTO_ATTR_FQDN, s_fqdn);
		(void)msg_add_u64(m, PROTO_ATTR_REVOCATION_TIME, 1794999000);
		(void)msg_add_u8(m, PROTO_ATTR_REASON,
		    PROTO_REASON_KEY_COMPROMISE);
		(void)msg_add_bytes(m, PROTO_ATTR_STATUS, s_status,
		    sizeof(s_status));
		break;
	case PROTO_MSG_NOTICE_STATUS:
		(void)msg_add_u64(m, PROTO_ATTR_NOTICE_SEQ, 43);
		(void)msg_add_bytes(m, PROTO_ATTR_SERIAL, s_serial, 16);
		(void)msg_add_bytes(m, PROTO_ATTR_STATUS, s_status,
		    sizeof(s_status));
		break;
	case PROTO_MSG_NOTICE_TICKET_KEY:
		(void)msg_add_u64(m, PROTO_ATTR_NOTICE_SEQ, 44);
		(void)msg_add_u32(m, PROTO_ATTR_TICKET_KEY_ID, 7);
		(void)msg_add_bytes(m, PROTO_ATTR_TICKET_KEY, s_key4, 32);
		(void)msg_add_u64(m, PROTO_ATTR_EXPIRY, 1795086400);
		break;
	case PROTO_MSG_NOTICE_ACK:
		(void)msg_add_u64(m, PROTO_ATTR_NOTICE_SEQ, 44);
		break;
	case PROTO_MSG_VIP_REQUEST:
		add_str(m, PROTO_ATTR_FQDN, s_fqdn);
		break;
	case PROTO_MSG_VIP_RESPONSE:
		add_str(m, PROTO_ATTR_FQDN, s_fqdn);
		(void)msg_add_bytes(m, PROTO_ATTR_VIP4, s_vip4, 4);
		(void)msg_add_bytes(m, PROTO_ATTR_VIP6, s_vip6, 16);
		break;
	case PROTO_MSG_TICKET_BODY:
		(void)msg_add_bytes(m, PROTO_ATTR_TICKET_ID, s_ticket_id, 16);
		(void)msg_add_bytes(m, PROTO_ATTR_TICKET_KEY, s_key, 32);
		add_str(m, PROTO_ATTR_FQDN, s_fqdn);
		(void)msg_add_bytes(m, PROTO_ATTR_VIP4, s_vip4, 4);
		(void)msg_add_bytes(m, PROTO_ATTR_VIP6, s_vip6, 16);
		(void)msg_add_u64(m, PROTO_ATTR_EXPIRY, 1795086400);
		(void)msg_add_bytes(m, PROTO_ATTR_SERIAL, s_serial, 16);
		break;
	default:
		break;
	}
}
