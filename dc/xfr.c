/* xfr.c -- AXFR/IXFR answers, NOTIFY messages, TSIG signing and checking (ldns). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "buf.h"
#include "log.h"
#include "xfr.h"
#include "zone.h"

#define XFR_TSIG_ALG	"hmac-sha256."

struct xfr_mac {
	ldns_rdf	*rdf;
};

void
xfr_config_clear(struct xfr_config *x)
{
	explicit_bzero(x->key_secret, sizeof(x->key_secret));
	memset(x, 0, sizeof(*x));
}

int
xfr_acl_add(struct xfr_config *x, const char *text)
{
	struct xfr_acl_entry *e;
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned max;
	long len;

	if (x->nacl >= XFR_ACL_MAX)
		return -ENOSPC;
	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	e = &x->acl[x->nacl];
	memset(e, 0, sizeof(*e));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, e->addr) == 1) {
		e->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, e->addr) == 1) {
		e->family = AF_INET6;
		max = 128;
	} else
		return -EINVAL;
	e->len = max;
	if (slash != NULL) {
		errno = 0;
		len = strtol(slash, &end, 10);
		if (errno != 0 || *end != '\0' || end == slash || len < 0 ||
		    len > (long)max)
			return -EINVAL;
		e->len = (unsigned)len;
	}
	x->nacl++;
	return 0;
}

static bool
xfr_prefix_match(const uint8_t *a, const uint8_t *p, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, p, full) != 0)
		return false;
	return rest == 0 ||
	    ((a[full] ^ p[full]) & (0xff00 >> rest) & 0xff) == 0;
}

bool
xfr_acl_allows(const struct xfr_config *x, const struct sockaddr *sa)
{
	const uint8_t *addr;
	size_t i;

	if (x == NULL || sa == NULL)
		return false;
	if (sa->sa_family == AF_INET)
		addr = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr.s6_addr;
	else
		return false;
	for (i = 0; i < x->nacl; i++)
		if (x->acl[i].family == sa->sa_family &&
		    xfr_prefix_match(addr, x->acl[i].addr, x->acl[i].len))
			return true;
	return false;
}

void
xfr_mac_free(struct xfr_mac *m)
{
	if (m == NULL)
		return;
	ldns_rdf_deep_free(m->rdf);
	free(m);
}

static struct xfr_mac *
xfr_mac_new(const ldns_rr *tsig)
{
	struct xfr_mac *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((m->rdf = ldns_rdf_clone(ldns_rr_rdf(tsig, 3))) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

int
xfr_tsig_verify(const struct xfr_config *x, const uint8_t *wire, size_t len,
    struct xfr_mac **mac)
{
	ldns_pkt *pkt = NULL;
	ldns_rdf *kname = NULL, *alg = NULL;
	const ldns_rr *tsig;
	int rc = -ENOKEY;

	*mac = NULL;
	if (!x->have_key)
		return -ENOKEY;
	if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
		return -EACCES;
	if ((tsig = ldns_pkt_tsig(pkt)) == NULL ||
	    ldns_rr_rd_count(tsig) < 4 ||
	    (kname = ldns_dname_new_frm_str(x->key_name)) == NULL ||
	    (alg = ldns_dname_new_frm_str(XFR_TSIG_ALG)) == NULL ||
	    ldns_dname_compare(ldns_rr_owner(tsig), kname) != 0 ||
	    ldns_dname_compare(ldns_rr_rdf(tsig, 0), alg) != 0)
		goto out;
	rc = -EACCES;
	if (!ldns_pkt_tsig_verify(pkt, wire, len, x->key_name, x->key_secret,
	    NULL))
		goto out;
	rc = -ENOMEM;
	if ((*mac = xfr_mac_new(tsig)) == NULL)
		goto out;
	rc = 0;
out:
	ldns_rdf_deep_free(alg);
	ldns_rdf_deep_free(kname);
	ldns_pkt_free(pkt);
	return rc;
}

int
xfr_tsig_sign(const struct xfr_config *x, uint8_t *msg, size_t *len,
    size_t cap, const struct xfr_mac *prior, bool timers_only,
    struct xfr_mac **next)
{
	ldns_pkt *pkt = NULL;
	uint8_t *w = NULL;
	size_t wlen = 0;
	int rc = -EINVAL;

	if (next != NULL)
		*next = NULL;
	if (!x->have_key)
		return -ENOKEY;
	if (ldns_wire2pkt(&pkt, msg, *len) != LDNS_STATUS_OK)
		return -EINVAL;
	if (ldns_pkt_tsig_sign_next(pkt, x->key_name, x->key_secret,
	    XFR_TSIG_FUDGE, XFR_TSIG_ALG, prior != NULL ? prior->rdf : NULL,
	    timers_only ? 1 : 0) != LDNS_STATUS_OK ||
	    ldns_pkt2wire(&w, pkt, &wlen) != LDNS_STATUS_OK)
		goto out;
	rc = -ENOSPC;
	if (wlen > cap)
		goto out;
	memcpy(msg, w, wlen);
	*len = wlen;
	rc = 0;
	if (next != NULL && (*next = xfr_mac_new(ldns_pkt_tsig(pkt))) == NULL)
		rc = -ENOMEM;
out:
	free(w);
	ldns_pkt_free(pkt);
	return rc;
}

/* An uncompressed name at the cursor; its bytes go to *name. */
static int
xfr_get_name(struct rbuf *r, const uint8_t **name, size_t *len)
{
	size_t start = r->off;
	uint8_t l;

	do {
		if (rbuf_get_u8(r, &l) < 0 || (l & DNS_PTR_MASK) ||
		    rbuf_skip(r, l) < 0 || r->off - start > DNS_NAME_MAX)
			return -EINVAL;
	} while (l != 0);
	*name = r->p + start;
	*len = r->off - start;
	return 0;
}

int
xfr_tsig_error(const uint8_t *query, size_t qlen, const struct dns_query *q,
    uint16_t error, uint8_t *msg, size_t *len, size_t cap)
{
	const uint8_t *owner, *alg, *times;
	size_t ownlen, alglen;
	uint16_t rdlen, macsize, arcount;
	struct rbuf r;
	struct wbuf w;

	if (!q->tsig || *len < DNS_HEADER_LEN)
		return -EINVAL;
	rbuf_init(&r, query, qlen);
	if (rbuf_skip(&r, q->tsig_off) < 0 ||
	    xfr_get_name(&r, &owner, &ownlen) < 0 ||
	    rbuf_skip(&r, 8) < 0 || rbuf_get_u16(&r, &rdlen) < 0 ||
	    xfr_get_name(&r, &alg, &alglen) < 0 ||
	    rbuf_get_ptr(&r, &times, 8) < 0 ||	/* time signed, fudge */
	    rbuf_get_u16(&r, &macsize) < 0 || rbuf_skip(&r, macsize) < 0)
		return -EINVAL;
	wbuf_init(&w, msg + *len, cap - *len);
	wbuf_put_bytes(&w, owner, ownlen);
	wbuf_put_u16(&w, DNS_TYPE_TSIG);
	wbuf_put_u16(&w, DNS_CLASS_ANY);
	wbuf_put_u32(&w, 0);
	wbuf_put_u16(&w, (uint16_t)(alglen + 8 + 2 + 2 + 2 + 2));
	wbuf_put_bytes(&w, alg, alglen);
	wbuf_put_bytes(&w, times, 8);
	wbuf_put_u16(&w, 0);			/* no MAC */
	wbuf_put_u16(&w, q->id);		/* original id */
	wbuf_put_u16(&w, error);
	wbuf_put_u16(&w, 0);			/* other len */
	if (wbuf_error(&w) < 0)
		return -ENOSPC;
	*len += wbuf_len(&w);
	arcount = load_be16(msg + DNS_OFF_ARCOUNT);
	store_be16(msg + DNS_OFF_ARCOUNT, (uint16_t)(arcount + 1));
	return 0;
}

/* ---- transfers ---------------------------------------------------------- */

/* Builds the framed messages of a transfer in a growing buffer. */
struct xfr_writer {
	const struct xfr_config	*x;		/* NULL: unsigned */
	const struct dns_query	*q;
	const uint8_t		*qwire;
	uint8_t			*buf;
	size_t			 len, cap;
	/* The message being written: offset of its length prefix, records. */
	size_t			 msg;
	uint16_t		 count;
	struct xfr_mac		*mac;		/* request MAC, then the last */
	int			 nmsg;
	int			 err;
};

static int
xfr_reserve(struct xfr_writer *w, size_t n)
{
	uint8_t *nb;
	size_t ncap;

	if (w->len + n <= w->cap)
		return 0;
	ncap = w->cap ? w->cap : 4096;
	while (ncap < w->len + n)
		ncap *= 2;
	if ((nb = realloc(w->buf, ncap)) == NULL)
		return -ENOMEM;
	w->buf = nb;
	w->cap = ncap;
	return 0;
}

static void
xfr_msg_begin(struct xfr_writer *w, uint16_t rcode)
{
	struct wbuf b;
	uint16_t flags;

	if (w->err != 0)
		return;
	if ((w->err = xfr_reserve(w, 2 + DNS_HEADER_LEN +
	    w->q->question_len)) < 0)
		return;
	w->msg = w->len;
	flags = DNS_FLAG_QR | DNS_FLAG_AA | (rcode & DNS_RCODE_MASK) |
	    (w->q->flags & DNS_FLAG_RD);
	if (rcode == DNS_RCODE_REFUSED || rcode == DNS_RCODE_NOTAUTH)
		flags &= (uint16_t)~DNS_FLAG_AA;
	wbuf_init(&b, w->buf + w->len, w->cap - w->len);
	wbuf_put_u16(&b, 0);			/* length, set at the end */
	wbuf_put_u16(&b, w->q->id);
	wbuf_put_u16(&b, flags);
	wbuf_put_u16(&b, 1);
	wbuf_put_u16(&b, 0);
	wbuf_put_u16(&b, 0);
	wbuf_put_u16(&b, 0);
	wbuf_put_bytes(&b, w->qwire + DNS_HEADER_LEN, w->q->question_len);
	w->len += wbuf_len(&b);
	w->count = 0;
}

static void
xfr_msg_end(struct xfr_writer *w)
{
	uint8_t *m;
	size_t mlen;
	struct xfr_mac *next = NULL;

	if (w->err != 0)
		return;
	m = w->buf + w->msg + 2;
	store_be16(m + DNS_OFF_ANCOUNT, w->count);
	mlen = w->len - w->msg - 2;
	if (w->x != NULL) {
		/* Room for the TSIG record ldns appends. */
		if ((w->err = xfr_reserve(w, DNS_TSIG_RESERVE)) < 0)
			return;
		m = w->buf + w->msg + 2;
		w->err = xfr_tsig_sign(w->x, m, &mlen, mlen + DNS_TSIG_RESERVE,
		    w->mac, w->nmsg > 0, &next);
		if (w->err < 0)
			return;
		xfr_mac_free(w->mac);
		w->mac = next;
	}
	store_be16(w->buf + w->msg, (uint16_t)mlen);
	w->len = w->msg + 2 + mlen;
	w->nmsg++;
}

/* Appends one record: full owner, then the template minus its pointer. */
static void
xfr_put_record(struct xfr_writer *w, const uint8_t *owner, size_t ownlen,
    const uint8_t *rec, size_t reclen)
{
	if (w->err != 0)
		return;
	if (w->len - w->msg + ownlen + reclen > XFR_MSG_MAX && w->count > 0) {
		xfr_msg_end(w);
		xfr_msg_begin(w, DNS_RCODE_NOERROR);
		if (w->err != 0)
			return;
	}
	if ((w->err = xfr_reserve(w, ownlen + reclen)) < 0)
		return;
	memcpy(w->buf + w->len, owner, ownlen);
	memcpy(w->buf + w->len + ownlen, rec, reclen);
	w->len += ownlen + reclen;
	w->count++;
}

static void
xfr_put_rrset(struct xfr_writer *w, const uint8_t *owner, size_t ownlen,
    const struct zone_rrset *rs)
{
	size_t off = 0, n;

	while (off < rs->len && w->err == 0) {
		n = ZONE_RR_FIXED_LEN + load_be16(rs->wire + off +
		    ZONE_OWNER_PTR_LEN + 8);
		xfr_put_record(w, owner, ownlen,
		    rs->wire + off + ZONE_OWNER_PTR_LEN, n);
		off += ZONE_OWNER_PTR_LEN + n;
	}
}

static void
xfr_put_entry(const struct zone_entry *e, void *arg)
{
	struct xfr_writer *w = arg;
	size_t i;

	for (i = 0; i < e->nrrsets; i++)
		if (!((e->flags & ZONE_ENTRY_APEX) &&
		    e->rrsets[i].type == DNS_TYPE_SOA))
			xfr_put_rrset(w, e->name, e->namelen, &e->rrsets[i]);
}

/* The serial of the SOA in an IXFR query's authority section. */
static int
xfr_ixfr_serial(const uint8_t *wire, size_t len, const struct dns_query *q,
    uint32_t *serial)
{
	struct rbuf r;
	uint16_t type, rdlen;
	uint8_t l;
	int name;

	rbuf_init(&r, wire, len);
	if (load_be16(wire + DNS_OFF_NSCOUNT) != 1 ||
	    rbuf_skip(&r, DNS_HEADER_LEN + q->question_len) < 0)
		return -EINVAL;
	/* owner, type, class, ttl, rdlen; then mname, rname, serial */
	for (name = 0; name < 3; name++) {
		if (name == 1) {
			if (rbuf_get_u16(&r, &type) < 0 ||
			    type != DNS_TYPE_SOA || rbuf_skip(&r, 6) < 0 ||
			    rbuf_get_u16(&r, &rdlen) < 0 ||
			    rbuf_left(&r) < rdlen)
				return -EINVAL;
		}
		for (;;) {
			if (rbuf_get_u8(&r, &l) < 0)
				return -EINVAL;
			if (l == 0)
				break;
			if ((l & DNS_PTR_MASK) == DNS_PTR_MASK) {
				if (rbuf_skip(&r, 1) < 0)
					return -EINVAL;
				break;
			}
			if ((l & DNS_PTR_MASK) || rbuf_skip(&r, l) < 0)
				return -EINVAL;
		}
	}
	return rbuf_get_u32(&r, serial) < 0 ? -EINVAL : 0;
}

static void
xfr_refuse(struct xfr_writer *w, uint16_t rcode)
{
	const struct xfr_config *x = w->x;

	w->x = NULL;		/* refusals go unsigned */
	xfr_msg_begin(w, rcode);
	xfr_msg_end(w);
	w->x = x;
}

/* Adds the TSIG error record to the one-message refusal just written. */
static void
xfr_refuse_tsig(struct xfr_writer *w, const struct dns_request *req,
    const struct dns_query *q, uint16_t error)
{
	size_t mlen = w->len - w->msg - 2;

	if ((w->err = xfr_reserve(w, DNS_TSIG_RESERVE)) < 0)
		return;
	if (xfr_tsig_error(req->wire, req->len, q, error, w->buf + w->msg + 2,
	    &mlen, mlen + DNS_TSIG_RESERVE) < 0)
		return;
	store_be16(w->buf + w->msg, (uint16_t)mlen);
	w->len = w->msg + 2 + mlen;
}

int
xfr_answer(struct dns_server *srv, const struct dns_request *req,
    uint8_t **out, size_t *outlen)
{
	struct xfr_writer w = { 0 };
	struct dns_query q;
	const struct zone_apex *apex;
	const struct zone_rrset *soa;
	size_t off;
	int a, rc;
	char name[1024], src[INET6_ADDRSTRLEN] = "?";

	*out = NULL;
	*outlen = 0;
	if ((rc = dns_parse(req->wire, req->len, &q)) < 0)
		return rc == -ENOMEM ? rc : 0;
	w.q = &q;
	w.qwire = req->wire;
	(void)dns_name_str(q.lname, q.qname_len, name, sizeof(name));
	if (req->src != NULL && req->src->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    req->src)->sin_addr, src, sizeof(src));
	else if (req->src != NULL && req->src->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)req->src)->sin6_addr, src, sizeof(src));
	a = zone_find_apex(srv->zone, q.lname, q.qname_len, &off);
	if (q.qclass != DNS_CLASS_IN || a < 0 || off != 0) {
		log_debug("xfr %s from %s: not a zone of ours", name, src);
		srv->stats.xfr_refused++;
		srv->stats.rcode[a < 0 ? DNS_RCODE_REFUSED :
		    DNS_RCODE_NOTAUTH]++;
		xfr_refuse(&w, a < 0 ? DNS_RCODE_REFUSED : DNS_RCODE_NOTAUTH);
		goto done;
	}
	if (srv->xfr == NULL || !xfr_acl_allows(srv->xfr, req->src)) {
		log_info("xfr %s from %s: refused by the ACL", name, src);
		srv->stats.xfr_refused++;
		srv->stats.rcode[DNS_RCODE_REFUSED]++;
		xfr_refuse(&w, DNS_RCODE_REFUSED);
		goto done;
	}
	if (srv->xfr->have_key || q.tsig) {
		if (!q.tsig || (rc = xfr_tsig_verify(srv->xfr, req->wire,
		    req->len, &w.mac)) < 0) {
			log_info("xfr %s from %s: %s", name, src, q.tsig ?
			    "bad TSIG" : "no TSIG");
			srv->stats.xfr_refused++;
			srv->stats.tsig_bad += q.tsig;
			srv->stats.rcode[DNS_RCODE_NOTAUTH]++;
			xfr_refuse(&w, DNS_RCODE_NOTAUTH);
			if (q.tsig && w.err == 0)
				xfr_refuse_tsig(&w, req, &q, rc == -EACCES ?
				    DNS_TSIG_BADSIG : DNS_TSIG_BADKEY);
			goto done;
		}
		w.x = srv->xfr;
	}
	apex = zone_apex_get(srv->zone, a);
	soa = zone_entry_rrset(apex->entry, DNS_TYPE_SOA);
	xfr_msg_begin(&w, DNS_RCODE_NOERROR);
	xfr_put_rrset(&w, apex->name, apex->namelen, soa);
	if (q.qtype == DNS_TYPE_IXFR) {
		uint32_t theirs;

		if (xfr_ixfr_serial(req->wire, req->len, &q, &theirs) == 0 &&
		    (int32_t)(zone_serial(srv->zone) - theirs) <= 0) {
			xfr_msg_end(&w);
			goto served;
		}
	}
	zone_foreach(srv->zone, a, xfr_put_entry, &w);
	xfr_put_rrset(&w, apex->name, apex->namelen, soa);
	xfr_msg_end(&w);
served:
	if (w.err == 0) {
		srv->stats.xfr++;
		srv->stats.rcode[DNS_RCODE_NOERROR]++;
		log_info("xfr %s serial %u to %s: %d messages, %zu bytes",
		    name, zone_serial(srv->zone), src, w.nmsg, w.len);
	}
done:
	xfr_mac_free(w.mac);
	if (w.err != 0) {
		free(w.buf);
		return w.err == -ENOMEM ? -ENOMEM : 0;
	}
	*out = w.buf;
	*outlen = w.len;
	return 0;
}

/* ---- NOTIFY -------------------------------------------------------------- */

int
xfr_notify_build(const struct zone *z, int idx, const struct xfr_config *x,
    uint16_t id, uint8_t *out, size_t cap, size_t *len)
{
	const struct zone_apex *apex = zone_apex_get(z, idx);
	const struct zone_rrset *soa;
	struct wbuf w;
	size_t n;

	if (apex == NULL ||
	    (soa = zone_entry_rrset(apex->entry, DNS_TYPE_SOA)) == NULL)
		return -ENOENT;
	wbuf_init(&w, out, cap);
	wbuf_put_u16(&w, id);
	wbuf_put_u16(&w, DNS_OPCODE_NOTIFY << DNS_OPCODE_SHIFT | DNS_FLAG_AA);
	wbuf_put_u16(&w, 1);
	wbuf_put_u16(&w, 1);
	wbuf_put_u16(&w, 0);
	wbuf_put_u16(&w, 0);
	wbuf_put_bytes(&w, apex->name, apex->namelen);
	wbuf_put_u16(&w, DNS_TYPE_SOA);
	wbuf_put_u16(&w, DNS_CLASS_IN);
	/* The template's owner pointer C0 0C names the question: the apex. */
	wbuf_put_bytes(&w, soa->wire, soa->len);
	if (wbuf_error(&w) < 0)
		return -ENOSPC;
	n = wbuf_len(&w);
	if (x != NULL && x->have_key) {
		int rc = xfr_tsig_sign(x, out, &n, cap, NULL, false, NULL);

		if (rc < 0)
			return rc;
	}
	*len = n;
	return 0;
}

bool
xfr_notify_is_reply(const uint8_t *wire, size_t len, uint16_t id)
{
	uint16_t flags;

	if (len < DNS_HEADER_LEN || load_be16(wire + DNS_OFF_ID) != id)
		return false;
	flags = load_be16(wire + DNS_OFF_FLAGS);
	return (flags & DNS_FLAG_QR) &&
	    ((flags >> DNS_OPCODE_SHIFT) & DNS_OPCODE_MASK) ==
	    DNS_OPCODE_NOTIFY;
}
