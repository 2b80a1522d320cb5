/* fuzz_msg.c -- libFuzzer target: every ntmobile decoder on arbitrary bytes, and decode(encode(x)) == x. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_msg: %s\n", what);
	abort();
}

/* Same header (except length, which skipped attributes change), frag, attributes. */
static void
fuzz_same(const struct msg *a, const struct msg *b)
{
	size_t i;

	if (a->hdr.version != b->hdr.version || a->hdr.type != b->hdr.type ||
	    a->hdr.status != b->hdr.status || a->hdr.flags != b->hdr.flags ||
	    a->hdr.txid != b->hdr.txid || a->hdr.seq != b->hdr.seq ||
	    memcmp(a->hdr.id, b->hdr.id, PROTO_ID_LEN) != 0)
		fuzz_fail("header differs after re-encoding");
	if (a->frag.msgid != b->frag.msgid || a->frag.index != b->frag.index ||
	    a->frag.count != b->frag.count || a->frag.len != b->frag.len ||
	    (a->frag.len > 0 &&
	    memcmp(a->frag.payload, b->frag.payload, a->frag.len) != 0))
		fuzz_fail("fragment differs after re-encoding");
	if (a->nattr != b->nattr)
		fuzz_fail("attribute count differs after re-encoding");
	for (i = 0; i < a->nattr; i++)
		if (a->attr[i].type != b->attr[i].type ||
		    a->attr[i].len != b->attr[i].len ||
		    (a->attr[i].len > 0 && memcmp(a->attr[i].val,
		    b->attr[i].val, a->attr[i].len) != 0))
			fuzz_fail("attribute differs after re-encoding");
}

static void
fuzz_signalling(const uint8_t *data, size_t size)
{
	static const uint8_t hash[PROTO_HASH_LEN];
	struct msg m, m2;
	struct wbuf w;
	uint8_t *out, tr[2048];
	size_t outlen;
	bool frag, fetch;
	int rc;

	if (msg_decode(data, size, &m) < 0)
		return;
	if ((out = malloc(PROTO_TLS_MESSAGE_MAX)) == NULL)
		abort();
	if ((rc = msg_encode(&m, out, PROTO_TLS_MESSAGE_MAX, &outlen)) < 0) {
		fprintf(stderr, "encode: %s\n", msg_strerror(rc));
		fuzz_fail("a decoded message does not encode");
	}
	if (outlen > size)
		fuzz_fail("re-encoding grew the message");
	if ((rc = msg_decode(out, outlen, &m2)) < 0) {
		fprintf(stderr, "decode: %s\n", msg_strerror(rc));
		fuzz_fail("a re-encoded message does not decode");
	}
	fuzz_same(&m, &m2);
	if (msg_frame_len(out, outlen) != (int)outlen)
		fuzz_fail("frame length disagrees with the encoding");
	/*
	 * A whole, successful handshake message always has its transcript;
	 * a certificate fetch (PROTOCOL.md 8.5) has none.
	 */
	wbuf_init(&w, tr, sizeof(tr));
	frag = (m.hdr.flags & PROTO_F_FRAGMENT) != 0;
	fetch = msg_attr_find(&m, PROTO_ATTR_CERT_FETCH) != NULL;
	if (m.hdr.type == PROTO_MSG_TUNNEL_REQUEST &&
	    m.hdr.status == PROTO_STATUS_OK && !fetch &&
	    (rc = msg_transcript_request(&m, hash, &w)) != (frag ? MSG_E_FRAG : 0))
		fuzz_fail("tunnel request transcript");
	if (m.hdr.type == PROTO_MSG_TUNNEL_RESPONSE &&
	    m.hdr.status == PROTO_STATUS_OK && !fetch &&
	    (rc = msg_transcript_response(&m, hash, &w)) != (frag ? MSG_E_FRAG : 0))
		fuzz_fail("tunnel response transcript");
	free(out);
}

static void
fuzz_data(const uint8_t *data, size_t size)
{
	struct msg_data dh;
	struct wbuf w;
	const uint8_t *body;
	uint8_t hdr[PROTO_DATA_HEADER_LEN];
	size_t blen;

	if (msg_data_decode(data, size, &dh, &body, &blen) < 0)
		return;
	wbuf_init(&w, hdr, sizeof(hdr));
	if (msg_data_encode(&dh, &w) < 0 || wbuf_len(&w) != sizeof(hdr) ||
	    memcmp(hdr, data, sizeof(hdr)) != 0 ||
	    body != data + sizeof(hdr) || blen != size - sizeof(hdr))
		fuzz_fail("data header does not re-encode to its input");
}

static void
fuzz_ticket(const uint8_t *data, size_t size)
{
	struct msg m, m2;
	struct msg_ticket t;
	struct wbuf w;
	uint8_t out[PROTO_TICKET_MAX];

	if (msg_ticket_split(data, size, &t) == 0 &&
	    t.aad_len + t.ct_len + PROTO_TAG_LEN != size)
		fuzz_fail("ticket split loses bytes");
	if (msg_ticket_body_decode(data, size, &m) < 0)
		return;
	wbuf_init(&w, out, sizeof(out));
	if (msg_ticket_body_encode(&m, &w) < 0)
		fuzz_fail("a decoded ticket body does not encode");
	if (msg_ticket_body_decode(out, wbuf_len(&w), &m2) < 0)
		fuzz_fail("a re-encoded ticket body does not decode");
	fuzz_same(&m, &m2);
}

/*
 * Structure-aware half: byte 0 picks the message type, byte 1 the status,
 * the rest is a body decoded against that type's table directly, so the
 * per-type rules are reached without guessing a valid header first.
 */
static void
fuzz_body(const uint8_t *data, size_t size)
{
	struct msg_header h;
	struct msg m, m2;
	struct wbuf w;
	uint8_t *out;

	if (size < 2)
		return;
	memset(&h, 0, sizeof(h));
	h.version = PROTO_VERSION_1;
	h.type = data[0];
	h.status = data[1];
	if (msg_type_sealed(h.type))
		h.flags = PROTO_F_SEALED;
	if (msg_body_decode(&h, data + 2, size - 2, &m) < 0)
		return;
	if ((out = malloc(size)) == NULL)
		abort();
	wbuf_init(&w, out, size);
	if (msg_attrs_encode(&m, &w) < 0 || wbuf_len(&w) > size - 2)
		fuzz_fail("a decoded body does not re-encode within its size");
	if (msg_body_decode(&h, out, wbuf_len(&w), &m2) < 0)
		fuzz_fail("a re-encoded body does not decode");
	fuzz_same(&m, &m2);
	if (msg_validate(&m) < 0)
		fuzz_fail("a decoded body does not validate");
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rbuf b;
	struct msg_frag f;

	fuzz_signalling(data, size);
	fuzz_body(data, size);
	fuzz_data(data, size);
	fuzz_ticket(data, size);
	(void)msg_frame_len(data, size);
	rbuf_init(&b, data, size);
	(void)msg_frag_decode(&b, &f);
	return 0;
}
