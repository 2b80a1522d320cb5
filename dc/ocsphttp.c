/* ocsphttp.c -- OCSP over HTTP on 4615: request parsing, the answer from the status store, libuv TCP connections. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>

#include "log.h"
#include "loop.h"
#include "notice.h"
#include "ocsphttp.h"

enum {
	OCSPHTTP_KEYHASH_LEN = 20,	/* SHA-1, the RFC 5019 CertID */
	OCSPHTTP_ERR_MALFORMED = 1,	/* OCSPResponseStatus */
	OCSPHTTP_ERR_INTERNAL = 2,
	OCSPHTTP_ERR_UNAUTHORIZED = 6,
	OCSPHTTP_HEAD_MAX = 256,
};

/* ---- parsing ------------------------------------------------------------- */

/* The end of the header block ("\r\n\r\n"), or NULL. */
static const uint8_t *
ocsphttp_head_end(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 4 <= len; i++)
		if (memcmp(p + i, "\r\n\r\n", 4) == 0)
			return p + i;
	return NULL;
}

/* A header's value in the block [p, end), case-insensitive name. */
static bool
ocsphttp_header(const uint8_t *p, const uint8_t *end, const char *name,
    char *val, size_t cap)
{
	size_t nlen = strlen(name), n;
	const uint8_t *line = p, *eol;

	for (; line < end; line = eol + 2) {
		for (eol = line; eol + 1 < end && !(eol[0] == '\r' &&
		    eol[1] == '\n'); eol++)
			;
		if (eol + 1 >= end)
			eol = end;
		if ((size_t)(eol - line) > nlen && line[nlen] == ':' &&
		    strncasecmp((const char *)line, name, nlen) == 0) {
			line += nlen + 1;
			while (line < eol && (*line == ' ' || *line == '\t'))
				line++;
			n = (size_t)(eol - line);
			if (n >= cap)
				return false;
			memcpy(val, line, n);
			val[n] = '\0';
			return true;
		}
		if (eol == end)
			break;
	}
	return false;
}

/* The base64 of a GET path, percent-decoded, then base64-decoded. */
static int
ocsphttp_get_der(const uint8_t *path, size_t plen, uint8_t *out, size_t cap,
    size_t *outlen)
{
	char b64[OCSPHTTP_REQUEST_MAX];
	gnutls_datum_t in, dec = { NULL, 0 };
	size_t i, n = 0;
	unsigned v;

	for (i = 0; i < plen; i++) {
		if (n + 1 >= sizeof(b64))
			return -EINVAL;
		if (path[i] == '%') {
			char hex[3];

			if (i + 2 >= plen)
				return -EINVAL;
			hex[0] = (char)path[i + 1];
			hex[1] = (char)path[i + 2];
			hex[2] = '\0';
			if (sscanf(hex, "%2x", &v) != 1)
				return -EINVAL;
			b64[n++] = (char)v;
			i += 2;
		} else
			b64[n++] = (char)path[i];
	}
	b64[n] = '\0';
	in.data = (unsigned char *)b64;
	in.size = (unsigned int)n;
	if (n == 0 || gnutls_base64_decode2(&in, &dec) < 0)
		return -EINVAL;
	if (dec.size > cap) {
		gnutls_free(dec.data);
		return -EINVAL;
	}
	memcpy(out, dec.data, dec.size);
	*outlen = dec.size;
	gnutls_free(dec.data);
	return 0;
}

int
ocsphttp_parse(const uint8_t *p, size_t len, uint8_t *out, size_t cap,
    struct ocsphttp_request *req)
{
	const uint8_t *end, *sp1, *sp2, *eol;
	char val[32], *ep;
	size_t head, body;
	unsigned long cl;

	memset(req, 0, sizeof(*req));
	if ((end = ocsphttp_head_end(p, len)) == NULL)
		return len >= OCSPHTTP_REQUEST_MAX ? -EMSGSIZE : 0;
	head = (size_t)(end - p) + 4;
	/* Request line: METHOD SP target SP HTTP/1.x CRLF */
	for (eol = p; eol < end && *eol != '\r'; eol++)
		;
	if ((sp1 = memchr(p, ' ', (size_t)(eol - p))) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1))) == NULL ||
	    (size_t)(eol - sp2 - 1) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    sp2 == sp1 + 1 || sp1[1] != '/')
		return -EINVAL;
	if ((size_t)(sp1 - p) == 3 && memcmp(p, "GET", 3) == 0) {
		req->method = OCSPHTTP_GET;
		if (ocsphttp_get_der(sp1 + 2, (size_t)(sp2 - sp1 - 2), out,
		    cap, &req->der_len) < 0)
			return -EINVAL;
		req->der = out;
		return (int)head;
	}
	if ((size_t)(sp1 - p) != 4 || memcmp(p, "POST", 4) != 0)
		return -ENOTSUP;
	req->method = OCSPHTTP_POST;
	if (!ocsphttp_header(eol + 2, end, "Content-Length", val,
	    sizeof(val)) || val[0] < '0' || val[0] > '9')
		return -EINVAL;
	errno = 0;
	cl = strtoul(val, &ep, 10);
	if (*ep != '\0' || errno != 0 || cl == 0)
		return -EINVAL;
	if (cl > OCSPHTTP_REQUEST_MAX - head)
		return -EMSGSIZE;
	body = (size_t)cl;
	if (len - head < body)
		return 0;
	req->der = p + head;
	req->der_len = body;
	return (int)(head + body);
}

/* ---- the answer ---------------------------------------------------------- */

static int
ocsphttp_error(int status, uint8_t **out, size_t *outlen)
{
	/* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } */
	if ((*out = malloc(5)) == NULL)
		return -ENOMEM;
	(*out)[0] = 0x30;
	(*out)[1] = 0x03;
	(*out)[2] = 0x0a;
	(*out)[3] = 0x01;
	(*out)[4] = (uint8_t)status;
	*outlen = 5;
	return 1;
}

int
ocsphttp_answer(struct notice *n, const uint8_t *as_key_hash,
    const uint8_t *der, size_t len, uint8_t **out, size_t *outlen)
{
	gnutls_ocsp_req_t req = NULL;
	gnutls_datum_t in = { (unsigned char *)der, (unsigned int)len };
	gnutls_datum_t nh = { NULL, 0 }, kh = { NULL, 0 }, sn = { NULL, 0 };
	gnutls_digest_algorithm_t dig;
	const uint8_t *st;
	size_t stlen;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (gnutls_ocsp_req_init(&req) < 0)
		return ocsphttp_error(OCSPHTTP_ERR_INTERNAL, out, outlen);
	if (gnutls_ocsp_req_import(req, &in) < 0 ||
	    gnutls_ocsp_req_get_cert_id(req, 0, &dig, &nh, &kh, &sn) < 0) {
		rc = ocsphttp_error(OCSPHTTP_ERR_MALFORMED, out, outlen);
		goto done;
	}
	if ((as_key_hash != NULL && (dig != GNUTLS_DIG_SHA1 ||
	    kh.size != OCSPHTTP_KEYHASH_LEN ||
	    memcmp(kh.data, as_key_hash, OCSPHTTP_KEYHASH_LEN) != 0)) ||
	    notice_status_der(n, sn.data, sn.size, &st, &stlen) < 0) {
		rc = ocsphttp_error(OCSPHTTP_ERR_UNAUTHORIZED, out, outlen);
		goto done;
	}
	if ((*out = malloc(stlen)) == NULL) {
		rc = -ENOMEM;
		goto done;
	}
	memcpy(*out, st, stlen);
	*outlen = stlen;
	rc = 0;
done:
	gnutls_free(nh.data);
	gnutls_free(kh.data);
	gnutls_free(sn.data);
	gnutls_ocsp_req_deinit(req);
	return rc;
}

/* ---- connections --------------------------------------------------------- */

struct ocsphttp {
	uv_loop_t		*loop;
	struct notice		*n;		/* borrowed */
	bool			 check_key;
	uint8_t			 key_hash[OCSPHTTP_KEYHASH_LEN];
	uv_tcp_t		 lis[OCSPHTTP_LISTEN_MAX];
	size_t			 nlis;
	unsigned		 open_handles;
	unsigned		 clients;
	bool			 closing;
	struct ocsphttp_conn	*conns;
};

struct ocsphttp_conn {
	struct ocsphttp_conn	*next, **prevp;
	struct ocsphttp		*srv;
	uv_tcp_t		 tcp;
	uv_timer_t		 timer;
	unsigned		 open_handles;
	bool			 closing;
	bool			 answered;
	size_t			 len;
	uint8_t			 buf[OCSPHTTP_REQUEST_MAX];
	uint8_t			 der[OCSPHTTP_REQUEST_MAX];
	char			 peer[LOOP_ADDRSTRLEN];
};

struct ocsphttp_write {
	uv_write_t		 req;
	struct ocsphttp_conn	*c;
	char			 head[OCSPHTTP_HEAD_MAX];
	uint8_t			*body;
};

static void
ocsphttp_srv_maybe_free(struct ocsphttp *s)
{
	if (s->closing && s->open_handles == 0 && s->conns == NULL)
		free(s);
}

static void
ocsphttp_conn_closed(uv_handle_t *h)
{
	struct ocsphttp_conn *c = h->data;
	struct ocsphttp *s = c->srv;

	if (--c->open_handles > 0)
		return;
	*c->prevp = c->next;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	s->clients--;
	free(c);
	ocsphttp_srv_maybe_free(s);
}

static void
ocsphttp_conn_close(struct ocsphttp_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_close((uv_handle_t *)&c->tcp, ocsphttp_conn_closed);
	uv_close((uv_handle_t *)&c->timer, ocsphttp_conn_closed);
}

static void
ocsphttp_written(uv_write_t *w, int status)
{
	struct ocsphttp_write *wr = w->data;

	(void)status;
	ocsphttp_conn_close(wr->c);
	free(wr->body);
	free(wr);
}

/* One HTTP answer, then the connection closes. */
static void
ocsphttp_reply(struct ocsphttp_conn *c, const char *status, uint8_t *body,
    size_t blen)
{
	struct ocsphttp_write *wr;
	uv_buf_t b[2];
	int n;

	c->answered = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
	if ((wr = calloc(1, sizeof(*wr))) == NULL) {
		free(body);
		ocsphttp_conn_close(c);
		return;
	}
	n = snprintf(wr->head, sizeof(wr->head), "HTTP/1.1 %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-cache\r\nConnection: close\r\n\r\n", status,
	    body != NULL ? "application/ocsp-response" : "text/plain", blen);
	wr->c = c;
	wr->body = body;
	wr->req.data = wr;
	b[0] = uv_buf_init(wr->head, (unsigned int)n);
	b[1] = uv_buf_init((char *)body, (unsigned int)blen);
	if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, b, body != NULL ? 2 : 1,
	    ocsphttp_written) < 0) {
		free(body);
		free(wr);
		ocsphttp_conn_close(c);
	}
}

static void
ocsphttp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct ocsphttp_conn *c = h->data;

	(void)hint;
	*b = uv_buf_init((char *)c->buf + c->len,
	    (unsigned int)(sizeof(c->buf) - c->len));
}

static void
ocsphttp_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
	struct ocsphttp_conn *c = st->data;
	struct ocsphttp_request req;
	uint8_t *body;
	size_t blen;
	int rc;

	(void)b;
	if (nread < 0) {
		ocsphttp_conn_close(c);
		return;
	}
	if (nread == 0 || c->answered)
		return;
	c->len += (size_t)nread;
	rc = ocsphttp_parse(c->buf, c->len, c->der, sizeof(c->der), &req);
	if (rc == 0 && c->len < sizeof(c->buf))
		return;
	if (rc == 0 || rc == -EMSGSIZE) {
		ocsphttp_reply(c, "413 Payload Too Large", NULL, 0);
		return;
	}
	if (rc == -ENOTSUP) {
		ocsphttp_reply(c, "405 Method Not Allowed", NULL, 0);
		return;
	}
	if (rc < 0) {
		log_debug("ocsp: %s: bad HTTP request", c->peer);
		ocsphttp_reply(c, "400 Bad Request", NULL, 0);
		return;
	}
	if (ocsphttp_answer(c->srv->n, c->srv->check_key ? c->srv->key_hash :
	    NULL, req.der, req.der_len, &body, &blen) < 0) {
		ocsphttp_reply(c, "500 Internal Server Error", NULL, 0);
		return;
	}
	ocsphttp_reply(c, "200 OK", body, blen);
}

static void
ocsphttp_timeout(uv_timer_t *t)
{
	struct ocsphttp_conn *c = t->data;

	log_debug("ocsp: %s: no whole request in time", c->peer);
	ocsphttp_conn_close(c);
}

static void
ocsphttp_accept(uv_stream_t *lis, int status)
{
	struct ocsphttp *s = lis->data;
	struct ocsphttp_conn *c;
	struct sockaddr_storage ss;
	int sl = sizeof(ss);

	if (status < 0 || s->closing)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->srv = s;
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	c->next = s->conns;
	if (c->next != NULL)
		c->next->prevp = &c->next;
	c->prevp = &s->conns;
	s->conns = c;
	s->clients++;
	if (uv_accept(lis, (uv_stream_t *)&c->tcp) < 0 ||
	    s->clients > OCSPHTTP_CLIENTS_MAX) {
		ocsphttp_conn_close(c);
		return;
	}
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0)
		(void)loop_addr_format((struct sockaddr *)&ss, c->peer,
		    sizeof(c->peer));
	uv_timer_start(&c->timer, ocsphttp_timeout, OCSPHTTP_IDLE_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, ocsphttp_alloc,
	    ocsphttp_read) < 0)
		ocsphttp_conn_close(c);
}

static void
ocsphttp_lis_closed(uv_handle_t *h)
{
	struct ocsphttp *s = h->data;

	s->open_handles--;
	ocsphttp_srv_maybe_free(s);
}

int
ocsphttp_listen(struct ocsphttp **out, uv_loop_t *loop, struct notice *n,
    const uint8_t *as_key_hash, const struct sockaddr_storage *listen,
    size_t nlisten)
{
	struct ocsphttp *s;
	char text[LOOP_ADDRSTRLEN];
	size_t i;
	int rc;

	*out = NULL;
	if (nlisten > OCSPHTTP_LISTEN_MAX)
		return -EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->loop = loop;
	s->n = n;
	if (as_key_hash != NULL) {
		memcpy(s->key_hash, as_key_hash, sizeof(s->key_hash));
		s->check_key = true;
	}
	for (i = 0; i < nlisten; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&listen[i];
		uv_tcp_t *t = &s->lis[s->nlis];

		(void)loop_addr_format(sa, text, sizeof(text));
		if ((rc = uv_tcp_init(loop, t)) < 0)
			goto fail;
		t->data = s;
		s->nlis++;
		s->open_handles++;
		if ((rc = uv_tcp_bind(t, sa, sa->sa_family == AF_INET6 ?
		    UV_TCP_IPV6ONLY : 0)) < 0 ||
		    (rc = uv_listen((uv_stream_t *)t, 64,
		    ocsphttp_accept)) < 0) {
			log_warnx("ocsp: %s: %s", text, uv_strerror(rc));
			goto fail;
		}
		log_info("ocsp: responder on http://%s/", text);
	}
	*out = s;
	return 0;
fail:
	ocsphttp_close(s);
	return rc;
}

void
ocsphttp_close(struct ocsphttp *s)
{
	struct ocsphttp_conn *c;
	size_t i;

	if (s == NULL || s->closing)
		return;
	s->closing = true;
	for (i = 0; i < s->nlis; i++)
		uv_close((uv_handle_t *)&s->lis[i], ocsphttp_lis_closed);
	for (c = s->conns; c != NULL; c = c->next)
		ocsphttp_conn_close(c);
	ocsphttp_srv_maybe_free(s);
}
