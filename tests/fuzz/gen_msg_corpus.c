/* gen_msg_corpus.c -- writes the fuzz_msg seed corpus: every message type once, plus malformed inputs. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "msg_samples.h"
#include "proto.h"

static const char *gen_dir;

static void
gen_write(const char *name, const void *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", gen_dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static size_t
gen_encode(uint8_t type, uint8_t *out, size_t cap)
{
	struct msg m;
	size_t len;
	int rc;

	msg_sample(&m, type);
	if ((rc = msg_encode(&m, out, cap, &len)) < 0) {
		fprintf(stderr, "%s: %s\n", msg_type_name(type),
		    msg_strerror(rc));
		exit(1);
	}
	return len;
}

static void
gen_data(const char *name, uint8_t type, size_t body)
{
	struct msg_data dh = { PROTO_VERSION_1, type, 1, 0x0a0b0c0d, 77 };
	uint8_t out[256];
	struct wbuf w;

	wbuf_init(&w, out, sizeof(out));
	(void)msg_data_encode(&dh, &w);
	memset(out + PROTO_DATA_HEADER_LEN, 0xab, body);
	gen_write(name, out, PROTO_DATA_HEADER_LEN + body);
}

int
main(int argc, char *argv[])
{
	static uint8_t out[PROTO_TLS_MESSAGE_MAX];
	struct msg m, f;
	struct wbuf w;
	char name[128];
	size_t i, len, flen;
	uint8_t payload[64];

	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	gen_dir = argv[1];
	for (i = 0; i < msg_sample_ntypes; i++) {
		len = gen_encode(msg_sample_types[i], out, sizeof(out));
		snprintf(name, sizeof(name), "ok-%s",
		    msg_type_name(msg_sample_types[i]));
		gen_write(name, out, len);
	}

	/* The same as bare bodies for fuzz_body(): type, status, attributes. */
	for (i = 0; i < msg_sample_ntypes; i++) {
		msg_sample(&m, msg_sample_types[i]);
		out[0] = m.hdr.type;
		out[1] = m.hdr.status;
		wbuf_init(&w, out + 2, sizeof(out) - 2);
		if (msg_attrs_encode(&m, &w) < 0)
			return 1;
		snprintf(name, sizeof(name), "body-%s",
		    msg_type_name(msg_sample_types[i]));
		gen_write(name, out, 2 + wbuf_len(&w));
	}

	/* A fragment, an error answer, data packets, a ticket body. */
	msg_init(&f, PROTO_MSG_ROUTE_DIRECTION);
	f.hdr.flags |= PROTO_F_FRAGMENT;
	memset(payload, 0x77, sizeof(payload));
	f.frag.msgid = 9;
	f.frag.index = 1;
	f.frag.count = 3;
	f.frag.payload = payload;
	f.frag.len = sizeof(payload);
	if (msg_encode(&f, out, sizeof(out), &flen) < 0)
		return 1;
	gen_write("ok-fragment", out, flen);
	msg_init(&m, PROTO_MSG_ROUTE_DIRECTION);
	m.hdr.status = PROTO_STATUS_REFUSED_POLICY;
	(void)msg_add_u32(&m, PROTO_ATTR_RETRY_AFTER, 5000);
	if (msg_encode(&m, out, sizeof(out), &len) < 0)
		return 1;
	gen_write("ok-error-answer", out, len);
	gen_data("ok-data", PROTO_MSG_DATA, 60);
	gen_data("ok-tunnel-control", PROTO_MSG_TUNNEL_CONTROL, 52);
	gen_data("ok-rs-hello", PROTO_MSG_RS_HELLO,
	    PROTO_RANDOM_LEN + PROTO_TAG_LEN);
	gen_data("ok-rs-cookie", PROTO_MSG_RS_COOKIE, PROTO_RANDOM_LEN);
	msg_sample(&m, PROTO_MSG_TICKET_BODY);
	wbuf_init(&w, out, sizeof(out));
	if (msg_ticket_body_encode(&m, &w) < 0)
		return 1;
	gen_write("ok-ticket-body", out, wbuf_len(&w));

	/* Malformed: each hits one decoder error. */
	len = gen_encode(PROTO_MSG_NOTICE_ACK, out, sizeof(out));
	gen_write("bad-short-header", out, PROTO_HEADER_LEN - 1);
	gen_write("bad-truncated-attr", out, len - 1);
	out[0] = 2;
	gen_write("bad-version", out, len);
	out[0] = PROTO_VERSION_1;
	out[5] = 0xff;		/* length low byte */
	gen_write("bad-length", out, len);
	len = gen_encode(PROTO_MSG_NOTICE_ACK, out, sizeof(out));
	memcpy(out + len, out + PROTO_HEADER_LEN, 12);	/* second NOTICE_SEQ */
	store_be16(out + 4, (uint16_t)(len + 12 - PROTO_HEADER_LEN));
	gen_write("bad-dup-attr", out, len + 12);
	len = gen_encode(PROTO_MSG_NOTICE_ACK, out, sizeof(out));
	store_be16(out + PROTO_HEADER_LEN, 0x7777);	/* unknown, must */
	gen_write("bad-unknown-attr", out, len);
	store_be16(out + PROTO_HEADER_LEN, 0x9999);	/* unknown, skippable */
	gen_write("bad-missing-attr", out, len);
	len = gen_encode(PROTO_MSG_KEEPALIVE, out, sizeof(out));
	out[3] = 0;		/* SEALED cleared on a sealed type */
	gen_write("bad-flags", out, len);
	return 0;
}
