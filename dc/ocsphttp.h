/* ocsphttp.h -- the DC's OCSP responder over HTTP on 4615 (RFC 6960 appendix A, RFC 5019): serves the AS-signed statuses it stores. */
#ifndef NTM_DC_OCSPHTTP_H
#define NTM_DC_OCSPHTTP_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct notice;

/*
 * A request is one HTTP/1.0 or 1.1 message:
 *
 *   POST <any path> HTTP/1.x        Content-Length: n, then n bytes of DER
 *                                   OCSPRequest (Content-Type is not checked)
 *   GET /<base64 of the DER> HTTP/1.x  the base64 URL-encoded (%2B %2F %3D)
 *
 * The answer is the status the AS signed for the certificate's serial, as
 * stored (notice_status_der), byte for byte: the DC signs nothing, so the
 * response has no nonce (RFC 5019 profile; `openssl ocsp -no_nonce`).  A
 * request for a certificate of another issuer (issuer key hash not the AS
 * CA's) or one the DC has no status for gets the OCSP error "unauthorized"
 * (RFC 5019 2.2.3); a request that does not parse gets "malformedRequest".
 * Only the first certificate of a request is answered.  Every answer
 * carries "Connection: close" and the connection is closed after it.
 */
enum ocsphttp_limit {
	OCSPHTTP_LIMIT_INVALID = 0,
	OCSPHTTP_REQUEST_MAX = 8192,	/* headers + body */
	OCSPHTTP_CLIENTS_MAX = 256,
	OCSPHTTP_IDLE_MS = 5000,	/* whole request within this */
	OCSPHTTP_LISTEN_MAX = 16,
};

enum ocsphttp_method {
	OCSPHTTP_METHOD_INVALID = 0,
	OCSPHTTP_GET,
	OCSPHTTP_POST,
};

/* A parsed request: der points into the caller's buffer (POST) or into out. */
struct ocsphttp_request {
	enum ocsphttp_method	 method;
	const uint8_t		*der;
	size_t			 der_len;
};

/*
 * ocsphttp_parse: the HTTP request in p[len].  Returns the number of bytes
 * it took (> 0) with *req filled, 0 when more bytes are needed, or -EINVAL
 * (bad request: answer 400), -ENOTSUP (another method: 405), -EMSGSIZE
 * (above OCSPHTTP_REQUEST_MAX: 413).  For GET the decoded DER is written
 * to out[cap] (req->der points there).
 */
int	ocsphttp_parse(const uint8_t *p, size_t len, uint8_t *out, size_t cap,
	    struct ocsphttp_request *req);

/*
 * ocsphttp_answer: the DER OCSPResponse for a DER OCSPRequest, from the
 * store n, checked against the AS CA's key hash (SHA-1 of its public key
 * bits, 20 bytes; NULL: not checked).  *out is malloc'd (caller frees).
 * Returns 0 (a signed status), 1 (an OCSP error response in *out), or
 * -ENOMEM.
 */
int	ocsphttp_answer(struct notice *n, const uint8_t *as_key_hash,
	    const uint8_t *der, size_t len, uint8_t **out, size_t *outlen);

struct ocsphttp;

/*
 * ocsphttp_listen: a TCP listener per address; n (borrowed) answers.
 * as_key_hash is copied (NULL: not checked).  0 or libuv's error;
 * ocsphttp_close() closes everything and frees in the last close callback.
 */
int	ocsphttp_listen(struct ocsphttp **, uv_loop_t *, struct notice *n,
	    const uint8_t *as_key_hash, const struct sockaddr_storage *listen,
	    size_t nlisten);
void	ocsphttp_close(struct ocsphttp *);		/* accepts NULL */

#endif
