/* msg.h -- pure encode/decode of ntmobile messages: common header, TLV attributes, fragments, data packets, tickets. */
#ifndef NTM_MSG_H
#define NTM_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "proto.h"

/*
 * Decode and validation errors.  Each is negative and distinct so tests and
 * drop statistics can tell them apart; msg_strerror() names them.  Encoders
 * return the same codes for a message they refuse to build, and -ENOSPC
 * when the output buffer is too small.
 */
enum msg_err {
	MSG_E_INVALID = 0,
	MSG_E_SHORT_HEADER = -1000,	/* fewer bytes than the header */
	MSG_E_VERSION = -1001,		/* unknown version */
	MSG_E_TYPE = -1002,		/* unknown or non-wire message type */
	MSG_E_STATUS = -1003,		/* status zero or unknown */
	MSG_E_FLAGS = -1004,		/* unknown flag, or SEALED wrong for the type */
	MSG_E_RESERVED = -1005,		/* reserved header bytes not zero */
	MSG_E_LENGTH = -1006,		/* header length beyond the input */
	MSG_E_TRAILING = -1007,		/* bytes after the header's length */
	MSG_E_TOO_BIG = -1008,		/* over the datagram or channel limit */
	MSG_E_FRAG = -1009,		/* bad fragment sub-header */
	MSG_E_ATTR_TRUNCATED = -1010,	/* attribute header or value cut off */
	MSG_E_ATTR_MISSING = -1011,	/* required attribute absent */
	MSG_E_ATTR_SIZE = -1012,	/* value length outside the limits */
	MSG_E_ATTR_DUP = -1013,		/* more instances than allowed */
	MSG_E_ATTR_UNKNOWN = -1014,	/* unknown must-understand attribute */
	MSG_E_ATTR_UNEXPECTED = -1015,	/* known, but not in this message type */
	MSG_E_ATTR_VALUE = -1016,	/* value fails its kind's check */
	MSG_E_ATTR_COUNT = -1017,	/* more than MSG_ATTRS_MAX attributes */
	MSG_E_ATTR_CONFLICT = -1018,	/* alternatives both present or wrong */
	MSG_E_DATA_TYPE = -1019,	/* not a data-format packet type */
	MSG_E_TICKET = -1020,		/* bad ticket framing */
};

enum msg_limit {
	MSG_LIMIT_INVALID = 0,
	MSG_ATTRS_MAX = 48,		/* attributes kept per decoded message */
	MSG_SCRATCH_MAX = 512,		/* builder storage for scalar values */
};

struct msg_header {
	uint8_t		 version;
	uint8_t		 type;		/* enum proto_msg */
	uint8_t		 status;	/* enum proto_status */
	uint8_t		 flags;		/* enum proto_flag */
	uint16_t	 length;	/* bytes after the header */
	uint32_t	 txid;
	uint64_t	 seq;
	uint8_t		 id[PROTO_ID_LEN];
};

/* An attribute; `val` is borrowed from the decoded input (or the builder). */
struct msg_attr {
	uint16_t	 type;		/* enum proto_attr */
	uint16_t	 len;
	const uint8_t	*val;
};

/* Fragment sub-header and its payload (borrowed). */
struct msg_frag {
	uint32_t	 msgid;
	uint8_t		 index;		/* 0 .. count-1 */
	uint8_t		 count;		/* 2 .. PROTO_FRAGMENTS_MAX */
	const uint8_t	*payload;
	size_t		 len;
};

/*
 * A decoded (or to-be-encoded) message.  After decoding, attr[] holds the
 * attributes in wire order, skippable unknown ones left out; every `val`
 * points into the input, which must outlive the struct.  When
 * hdr.flags has PROTO_F_FRAGMENT, `frag` is set and attr[] is empty.
 */
struct msg {
	struct msg_header hdr;
	struct msg_frag	 frag;
	size_t		 nattr;
	struct msg_attr	 attr[MSG_ATTRS_MAX];
	/* Builder only: storage for values added by msg_add_u*() / _addr(). */
	size_t		 scratch_len;
	uint8_t		 scratch[MSG_SCRATCH_MAX];
};

/* An address attribute's value. */
struct msg_addr {
	uint8_t		 family;	/* enum proto_family */
	uint16_t	 port;
	uint8_t		 addr[16];	/* 4 used for IPv4 */
};

/* Data-plane packet header (DATA, TUNNEL_CONTROL, RS_HELLO, RS_COOKIE). */
struct msg_data {
	uint8_t		 version;
	uint8_t		 type;
	uint8_t		 phase;		/* key epoch & 1 */
	uint32_t	 rid;		/* receiver id */
	uint64_t	 counter;
};

/* Outer framing of a sealed DC ticket (all pointers borrowed). */
struct msg_ticket {
	uint8_t		 version;
	uint32_t	 key_id;
	const uint8_t	*aad;		/* version, key id, nonce: 17 bytes */
	size_t		 aad_len;
	const uint8_t	*nonce;		/* PROTO_NONCE_LEN */
	const uint8_t	*ct;		/* ciphertext of a TICKET_BODY TLV list */
	size_t		 ct_len;
	const uint8_t	*tag;		/* PROTO_TAG_LEN */
};

const char	*msg_strerror(int err);
const char	*msg_type_name(uint8_t type);
const char	*msg_attr_name(uint16_t type);
const char	*msg_status_name(uint8_t status);
/* Value size limits of an attribute type this codec knows, or -ENOENT. */
int		 msg_attr_limits(uint16_t type, size_t *min, size_t *max);
/* A type this codec knows that travels in the common header. */
bool		 msg_type_known(uint8_t type);
/* Types that use the 16-byte data-plane format instead. */
bool		 msg_type_is_data(uint8_t type);
/* Types that are AEAD-sealed on UDP (and so carry PROTO_F_SEALED). */
bool		 msg_type_sealed(uint8_t type);
/* Types carried over a TLS channel (their limit is PROTO_TLS_MESSAGE_MAX). */
bool		 msg_type_tls(uint8_t type);

/*
 * msg_header_decode: reads and checks the 36-byte header at the cursor:
 * version, type, status, flags, reserved, and that `length` bytes follow
 * (MSG_E_LENGTH otherwise) within the type's size limit.  Bytes after them
 * are not an error here (a TLS stream may hold the next message).
 */
int	 msg_header_decode(struct rbuf *, struct msg_header *);
int	 msg_header_encode(const struct msg_header *, struct wbuf *);
/*
 * msg_frame_len: for stream framing.  Given at least PROTO_HEADER_LEN bytes,
 * checks the header fields and returns the whole message's size
 * (header + length) as a positive value, or a negative MSG_E_*.
 */
int	 msg_frame_len(const void *p, size_t len);

/*
 * msg_body_decode: decodes a plaintext body (no tag) for header `h`: the
 * fragment sub-header and payload when h->flags has PROTO_F_FRAGMENT,
 * otherwise the attribute list, checked against the type's table.  A
 * reassembled message is decoded by calling it with the first fragment's
 * header with PROTO_F_FRAGMENT cleared.  m->hdr becomes a copy of *h.
 */
int	 msg_body_decode(const struct msg_header *h, const void *body,
	    size_t len, struct msg *m);
/*
 * msg_decode: a whole message, header and plaintext body.  On a SEALED
 * message the last PROTO_TAG_LEN bytes are the tag and are not read: call
 * it after the crypto layer has opened the body in place.  The input is
 * borrowed by *m.
 */
int	 msg_decode(const void *p, size_t len, struct msg *m);

/*
 * msg_validate: the checks msg_body_decode applies, run on a built message
 * (attribute table, counts, sizes, values, fragment fields).
 */
int	 msg_validate(const struct msg *);
/*
 * msg_encode: writes header and plaintext body into out[cap] and sets
 * *outlen.  hdr.length is computed (the caller's value is ignored); on a
 * SEALED message PROTO_TAG_LEN zero bytes are reserved at the end for the
 * tag.  Refuses a message msg_validate() refuses.
 */
int	 msg_encode(const struct msg *, void *out, size_t cap, size_t *outlen);
/* Writes only the attribute list (a fragmentable payload, a ticket body). */
int	 msg_attrs_encode(const struct msg *, struct wbuf *);

/* msg_frag_*: the 6-byte fragment sub-header, for lib/frag. */
int	 msg_frag_decode(struct rbuf *, struct msg_frag *);
void	 msg_frag_encode(const struct msg_frag *, struct wbuf *);

/*
 * msg_nonce: the 12-byte AEAD nonce of a sealed signalling message:
 * PROTO_NONCE_SIGNALLING, type, 0, 0, then the 64-bit sequence number.
 */
void	 msg_nonce(const struct msg_header *, uint8_t nonce[PROTO_NONCE_LEN]);
/* The data-plane nonce: PROTO_NONCE_DATA, type, 0, 0, 64-bit counter. */
void	 msg_data_nonce(const struct msg_data *, uint8_t nonce[PROTO_NONCE_LEN]);

/*
 * msg_data_decode: checks and reads a data-format packet's 16-byte header;
 * *body (borrowed) and *body_len get the rest: DATA and TUNNEL_CONTROL
 * more than a tag, RS_HELLO exactly cookie field + tag, RS_COOKIE exactly
 * the cookie.
 */
int	 msg_data_decode(const void *p, size_t len, struct msg_data *,
	    const uint8_t **body, size_t *body_len);
int	 msg_data_encode(const struct msg_data *, struct wbuf *);

/* msg_ticket_split: framing of a sealed DC ticket (see PROTOCOL.md). */
int	 msg_ticket_split(const void *p, size_t len, struct msg_ticket *);
/*
 * The ticket's plaintext: a TLV list checked against the TICKET_BODY table.
 * Decode sets m->hdr.type to PROTO_MSG_TICKET_BODY and status OK; encode
 * takes a message built with msg_init(m, PROTO_MSG_TICKET_BODY).
 */
int	 msg_ticket_body_decode(const void *p, size_t len, struct msg *m);
int	 msg_ticket_body_encode(const struct msg *m, struct wbuf *);

/* Attribute access on decoded messages. */
const struct msg_attr *msg_attr_find(const struct msg *, uint16_t type);
/* The next instance of `type` after `prev` (NULL: the first). */
const struct msg_attr *msg_attr_next(const struct msg *, uint16_t type,
	    const struct msg_attr *prev);
/* 0, or -ENOENT when absent, -EINVAL when of the wrong size. */
int	 msg_attr_u8(const struct msg *, uint16_t type, uint8_t *);
int	 msg_attr_u32(const struct msg *, uint16_t type, uint32_t *);
int	 msg_attr_u64(const struct msg *, uint16_t type, uint64_t *);
int	 msg_addr_parse(const struct msg_attr *, struct msg_addr *);

/*
 * Builders.  msg_init clears *m and fills the header's fixed fields
 * (version 1, status OK, SEALED when the type is sealed).  msg_add_bytes
 * borrows `val` until encoding; the scalar and address adders copy into
 * m->scratch.  All return 0, -E2BIG when attr[] or scratch is full.
 */
void	 msg_init(struct msg *, uint8_t type);
int	 msg_add_bytes(struct msg *, uint16_t type, const void *val,
	    size_t len);
int	 msg_add_u8(struct msg *, uint16_t type, uint8_t);
int	 msg_add_u32(struct msg *, uint16_t type, uint32_t);
int	 msg_add_u64(struct msg *, uint16_t type, uint64_t);
int	 msg_add_addr(struct msg *, uint16_t type, const struct msg_addr *);

/*
 * Typed view of a ROUTE_DIRECTION or ROUTE_HANDOFF (PROTOCOL.md 6.1).
 * Byte fields point into the message's input (borrowed, like the attributes);
 * absent optional fields are NULL or zero-count.
 */
struct msg_route {
	const uint8_t	*path_id;		/* PROTO_ID_LEN */
	uint8_t		 route;			/* enum proto_route */
	uint8_t		 role;			/* enum proto_role */
	uint8_t		 kex;			/* enum proto_kex */
	uint64_t	 expiry;		/* Unix seconds */
	const uint8_t	*peer_fqdn;
	size_t		 peer_fqdn_len;
	const uint8_t	*peer_vip4;		/* 4 or NULL */
	const uint8_t	*peer_vip6;		/* 16 or NULL */
	size_t		 npeer_addr;
	struct msg_addr	 peer_addr[PROTO_ADDRS_MAX];
	size_t		 nrelay_addr;
	struct msg_addr	 relay_addr[2];
	uint32_t	 recv_id;
	uint32_t	 peer_recv_id;
	const uint8_t	*tunnel_key;		/* PROTO_KEY_LEN */
	const uint8_t	*temp_key;		/* PROTO_KEY_LEN */
	const uint8_t	*binding_key;		/* PROTO_KEY_LEN or NULL */
	const uint8_t	*peer_cert_hash;	/* PROTO_HASH_LEN */
	const struct msg_attr *peer_serial;
	const struct msg_attr *peer_status;
	uint32_t	 punch_deadline;	/* ms; default when absent */
	const struct msg_attr *aead_offers;	/* or NULL */
	const uint8_t	*fqdn;			/* ROUTE_HANDOFF only */
	size_t		 fqdn_len;
};

/*
 * msg_route_read: fills *r from a decoded, status-OK ROUTE_DIRECTION or
 * ROUTE_HANDOFF (MSG_E_TYPE otherwise, MSG_E_ATTR_MISSING if the message was
 * not validated).  msg_route_write adds r's fields to a message made with
 * msg_init() (byte fields borrowed until encoding); it returns 0, -E2BIG
 * when the builder is full, or -EINVAL for an address of unknown family.
 */
int	 msg_route_read(const struct msg *, struct msg_route *r);
int	 msg_route_write(struct msg *, const struct msg_route *r);

/*
 * Handshake transcripts (PROTOCOL.md "Handshake"): the exact bytes whose
 * SHA-256 the signatures and key schedule cover.  msg_transcript_request
 * writes T_I from a Tunnel Request and the responder's certificate hash;
 * msg_transcript_response writes T_R from a Tunnel Response and the same
 * hash.  Both fail with MSG_E_ATTR_MISSING if a field is absent and with
 * MSG_E_FRAG on a single fragment (transcripts cover whole messages).
 */
int	 msg_transcript_request(const struct msg *req,
	    const uint8_t cert_hash_r[PROTO_HASH_LEN], struct wbuf *);
int	 msg_transcript_response(const struct msg *resp,
	    const uint8_t cert_hash_r[PROTO_HASH_LEN], struct wbuf *);

#endif
