/* dns.c -- the pure authoritative query handler: query bytes + source + now -> answer bytes. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "dns.h"
#include "log.h"
#include "loop.h"
#include "rrl.h"
#include "xfr.h"
#include "zone.h"

/* What the answer is made of; all borrowed from the zone. */
struct dns_reply {
	uint16_t		 rcode;		/* may exceed 15 (EDNS) */
	bool			 aa;
	bool			 tc;
	const struct zone_rrset	*answer;
	const struct zone_rrset	*authority;
	size_t			 auth_owner;	/* where its owner is */
	const struct zone_rrset	*glue_from;	/* whose glue to add */
	bool			 glue_needed;	/* referral: glue or TC */
};

void
dns_name_lower(uint8_t *name, size_t len)
{
	size_t off = 0, i;

	while (off < len && name[off] != 0) {
		size_t l = name[off];

		/* Branch-free: names are mixed case only on purpose. */
		for (i = off + 1; i <= off + l && i < len; i++)
			name[i] = (uint8_t)(name[i] |
			    ((uint8_t)(name[i] - 'A') < 26 ? 0x20 : 0));
		off += l + 1;
	}
}

int
dns_name_str(const uint8_t *name, size_t len, char *buf, size_t buflen)
{
	size_t off = 0, o = 0, i;

	if (buflen < 2)
		return -ENOSPC;
	while (off < len && name[off] != 0) {
		size_t l = name[off];

		for (i = off + 1; i <= off + l && i < len; i++) {
			uint8_t c = name[i];

			if (o + 5 >= buflen)
				return -ENOSPC;
			if (c == '.' || c == '\\')
				o += (size_t)snprintf(buf + o, buflen - o,
				    "\\%c", c);
			else if (c <= ' ' || c >= 0x7f)
				o += (size_t)snprintf(buf + o, buflen - o,
				    "\\%03u", c);
			else
				buf[o++] = (char)c;
		}
		if (o + 2 >= buflen)
			return -ENOSPC;
		buf[o++] = '.';
		off += l + 1;
	}
	if (o == 0)
		buf[o++] = '.';
	buf[o] = '\0';
	return 0;
}

/* Skips a name after the question; a pointer ends it and is never followed. */
static int
dns_skip_name(struct rbuf *r)
{
	uint8_t l;

	for (;;) {
		if (rbuf_get_u8(r, &l) < 0)
			return -1;
		if (l == 0)
			return 0;
		if ((l & DNS_PTR_MASK) == DNS_PTR_MASK)
			return rbuf_skip(r, 1);
		if (l & DNS_PTR_MASK)
			return -1;
		if (rbuf_skip(r, l) < 0)
			return -1;
	}
}

static int
dns_parse_question(struct rbuf *r, struct dns_query *q)
{
	const uint8_t *start = r->p + r->off;
	size_t n = 0;
	uint8_t l;

	for (;;) {
		if (rbuf_get_u8(r, &l) < 0)
			return -DNS_RCODE_FORMERR;
		if (l & DNS_PTR_MASK)
			return -DNS_RCODE_FORMERR;
		if (n + 1 + l > DNS_NAME_MAX)
			return -DNS_RCODE_FORMERR;
		q->lname[n++] = l;
		if (l == 0)
			break;
		if (rbuf_get_bytes(r, q->lname + n, l) < 0)
			return -DNS_RCODE_FORMERR;
		n += l;
	}
	q->qname = start;
	q->qname_len = n;
	dns_name_lower(q->lname, n);
	if (rbuf_get_u16(r, &q->qtype) < 0 || rbuf_get_u16(r, &q->qclass) < 0)
		return -DNS_RCODE_FORMERR;
	q->question_len = n + 4;
	return 0;
}

static int
dns_parse_additional(struct rbuf *r, uint16_t arcount, struct dns_query *q)
{
	uint16_t i, type, class, rdlen;
	uint32_t ttl;
	const uint8_t *owner;

	for (i = 0; i < arcount; i++) {
		owner = r->p + r->off;
		if (q->tsig)		/* TSIG must be the last record */
			return -DNS_RCODE_FORMERR;
		if (dns_skip_name(r) < 0 || rbuf_get_u16(r, &type) < 0 ||
		    rbuf_get_u16(r, &class) < 0 || rbuf_get_u32(r, &ttl) < 0 ||
		    rbuf_get_u16(r, &rdlen) < 0 || rbuf_skip(r, rdlen) < 0)
			return -DNS_RCODE_FORMERR;
		if (type == DNS_TYPE_OPT) {
			if (q->edns || owner[0] != 0)
				return -DNS_RCODE_FORMERR;
			q->edns = true;
			q->edns_size = class;
			q->edns_version = (uint8_t)(ttl >> 16);
			q->edns_flags = (uint16_t)ttl;
		} else if (type == DNS_TYPE_TSIG) {
			q->tsig = true;
			q->tsig_off = (size_t)(owner - r->p);
		}
	}
	return 0;
}

int
dns_parse(const uint8_t *wire, size_t len, struct dns_query *q)
{
	struct rbuf r;
	uint16_t qd, an, ns, ar, i;
	int rc;

	memset(q, 0, sizeof(*q));
	rbuf_init(&r, wire, len);
	if (rbuf_get_u16(&r, &q->id) < 0 || rbuf_get_u16(&r, &q->flags) < 0 ||
	    rbuf_get_u16(&r, &qd) < 0 || rbuf_get_u16(&r, &an) < 0 ||
	    rbuf_get_u16(&r, &ns) < 0 || rbuf_get_u16(&r, &ar) < 0)
		return -EBADMSG;
	if (q->flags & DNS_FLAG_QR)
		return -EBADMSG;
	if (((q->flags >> DNS_OPCODE_SHIFT) & DNS_OPCODE_MASK) !=
	    DNS_OPCODE_QUERY)
		return -DNS_RCODE_NOTIMP;
	if (qd != 1)
		return -DNS_RCODE_FORMERR;
	if ((rc = dns_parse_question(&r, q)) < 0)
		return rc;
	/* Answer and authority (IXFR carries the client's SOA there). */
	for (i = 0; i < an + ns; i++) {
		uint16_t rdlen;

		if (dns_skip_name(&r) < 0 || rbuf_skip(&r, 8) < 0 ||
		    rbuf_get_u16(&r, &rdlen) < 0 || rbuf_skip(&r, rdlen) < 0)
			return -DNS_RCODE_FORMERR;
	}
	if (an > 0 || (ns > 0 && q->qtype != DNS_TYPE_IXFR))
		return -DNS_RCODE_FORMERR;
	return dns_parse_additional(&r, ar, q);
}

void
dns_prefetch_start(const struct dns_server *srv, const uint8_t *wire,
    size_t len, struct dns_hint *h)
{
	uint8_t lname[DNS_NAME_MAX];
	struct rbuf r;
	size_t n = 0;
	uint8_t l;

	h->len = 0;
	rbuf_init(&r, wire, len);
	if (rbuf_skip(&r, DNS_HEADER_LEN) < 0)
		return;
	do {
		if (rbuf_get_u8(&r, &l) < 0 || (l & DNS_PTR_MASK) ||
		    n + 1 + l > DNS_NAME_MAX)
			return;
		lname[n++] = l;
		if (l > 0 && rbuf_get_bytes(&r, lname + n, l) < 0)
			return;
		n += l;
	} while (l > 0);
	dns_name_lower(lname, n);
	h->hash = zone_name_hash(lname, n);
	h->len = n;
	zone_prefetch_slot(srv->zone, h->hash);
}

void
dns_prefetch_entry(const struct dns_server *srv, const struct dns_hint *h)
{
	if (h->len > 0)
		zone_prefetch_entry(srv->zone, h->hash, h->len);
}

void
dns_prefetch_data(const struct dns_server *srv, const struct dns_hint *h)
{
	if (h->len > 0)
		zone_prefetch_rrsets(srv->zone, h->hash, h->len);
}

/* The UDP answer limit for this query. */
static size_t
dns_udp_limit(const struct dns_query *q)
{
	if (!q->edns || q->edns_size <= DNS_UDP_PLAIN_MAX)
		return DNS_UDP_PLAIN_MAX;
	return q->edns_size < DNS_UDP_MAX ? q->edns_size : DNS_UDP_MAX;
}

static void
dns_put_header(struct wbuf *w, const struct dns_query *q, uint16_t rcode,
    bool aa, bool tc, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	uint16_t flags;

	flags = DNS_FLAG_QR |
	    (q->flags & (DNS_OPCODE_MASK << DNS_OPCODE_SHIFT));
	flags |= q->flags & (DNS_FLAG_RD | DNS_FLAG_CD);
	if (aa)
		flags |= DNS_FLAG_AA;
	if (tc)
		flags |= DNS_FLAG_TC;
	flags |= rcode & DNS_RCODE_MASK;
	wbuf_put_u16(w, q->id);
	wbuf_put_u16(w, flags);
	wbuf_put_u16(w, qd);
	wbuf_put_u16(w, an);
	wbuf_put_u16(w, ns);
	wbuf_put_u16(w, ar);
}

static void
dns_put_opt(struct wbuf *w, const struct dns_query *q, uint16_t rcode)
{
	wbuf_put_u8(w, 0);			/* root */
	wbuf_put_u16(w, DNS_TYPE_OPT);
	wbuf_put_u16(w, DNS_UDP_MAX);		/* our payload size */
	wbuf_put_u8(w, (uint8_t)(rcode >> 4));	/* extended rcode */
	wbuf_put_u8(w, DNS_EDNS_VERSION);
	wbuf_put_u16(w, q->edns_flags & DNS_EDNS_DO);
	wbuf_put_u16(w, 0);			/* no options */
}

/*
 * Copies an RRset template; each record's owner pointer is set to `owner`
 * (an offset into the message) unless that is the question name already.
 */
static void
dns_put_rrset(struct wbuf *w, const struct zone_rrset *rs, size_t owner)
{
	size_t start = wbuf_len(w), off;

	wbuf_put_bytes(w, rs->wire, rs->len);
	if (wbuf_error(w) < 0 || owner == DNS_HEADER_LEN)
		return;
	for (off = start; off < start + rs->len;) {
		store_be16(w->p + off, (uint16_t)(DNS_PTR_MASK << 8 | owner));
		off += ZONE_OWNER_PTR_LEN + ZONE_RR_FIXED_LEN +
		    load_be16(w->p + off + ZONE_OWNER_PTR_LEN + 8);
	}
}

/* Header (+ question when parsed) (+ OPT) only: errors, TC, RRL slip. */
static size_t
dns_write_short(const struct dns_query *q, const uint8_t *wire, bool question,
    uint16_t rcode, bool aa, bool tc, uint8_t *out, size_t cap)
{
	struct wbuf w;
	bool opt = q->edns && question;

	wbuf_init(&w, out, cap);
	dns_put_header(&w, q, rcode, aa, tc, question ? 1 : 0, 0, 0,
	    opt ? 1 : 0);
	if (question)
		wbuf_put_bytes(&w, wire + DNS_HEADER_LEN, q->question_len);
	if (opt)
		dns_put_opt(&w, q, rcode);
	if (wbuf_error(&w) < 0)
		return 0;
	return wbuf_len(&w);
}

static size_t
dns_write_reply(const struct dns_query *q, const uint8_t *wire,
    const struct dns_reply *rp, size_t limit, uint8_t *out, size_t cap,
    bool *truncated)
{
	size_t an = 0, ns = 0, ar = 0, need;
	uint16_t ancount = 0, nscount = 0, arcount = 0;
	bool glue = rp->glue_from != NULL && rp->glue_from->gluecount > 0;
	struct wbuf w;

	*truncated = false;
	if (rp->answer != NULL) {
		an = rp->answer->len;
		ancount = rp->answer->count;
	}
	if (rp->authority != NULL) {
		ns = rp->authority->len;
		nscount = rp->authority->count;
	}
	if (glue) {
		ar = rp->glue_from->gluelen;
		arcount = rp->glue_from->gluecount;
	}
	need = DNS_HEADER_LEN + q->question_len + an + ns +
	    (q->edns ? DNS_OPT_RR_LEN : 0);
	if (limit > cap)
		limit = cap;
	/* Glue is optional in an answer (RFC 2181 9); a referral needs it. */
	if (need + ar > limit && glue && !rp->glue_needed) {
		glue = false;
		arcount = 0;
		ar = 0;
	}
	if (need + ar > limit) {
		*truncated = true;
		return dns_write_short(q, wire, true, rp->rcode, rp->aa, true,
		    out, limit);
	}
	wbuf_init(&w, out, limit);
	dns_put_header(&w, q, rp->rcode, rp->aa, false, 1, ancount, nscount,
	    (uint16_t)(arcount + (q->edns ? 1 : 0)));
	wbuf_put_bytes(&w, wire + DNS_HEADER_LEN, q->question_len);
	if (rp->answer != NULL)
		dns_put_rrset(&w, rp->answer, DNS_HEADER_LEN);
	if (rp->authority != NULL)
		dns_put_rrset(&w, rp->authority, rp->auth_owner);
	if (glue)
		wbuf_put_bytes(&w, rp->glue_from->glue, rp->glue_from->gluelen);
	if (q->edns)
		dns_put_opt(&w, q, rp->rcode);
	if (wbuf_error(&w) < 0)
		return 0;
	return wbuf_len(&w);
}

/* Decides the answer from the zone; no allocation. */
static void
dns_resolve(const struct zone *z, const struct dns_query *q,
    struct dns_reply *rp)
{
	const struct zone_apex *apex;
	struct zone_entry *e, *cut = NULL;
	size_t apex_off;
	int a;

	memset(rp, 0, sizeof(*rp));
	if (q->qclass != DNS_CLASS_IN ||
	    (a = zone_find_apex(z, q->lname, q->qname_len, &apex_off)) < 0) {
		rp->rcode = DNS_RCODE_REFUSED;
		return;
	}
	apex = zone_apex_get(z, a);
	e = zone_lookup(z, q->lname, q->qname_len);
	/* DS belongs to the parent side of a cut (RFC 4035 3.1.4.1). */
	if (e != NULL && (e->flags & ZONE_ENTRY_OCCLUDED))
		cut = e->cut;
	else if (e != NULL && (e->flags & ZONE_ENTRY_CUT) &&
	    q->qtype != DNS_TYPE_DS)
		cut = e->cut;
	else if (e == NULL)
		cut = zone_find_cut(z, q->lname, q->qname_len);
	if (cut != NULL) {
		rp->authority = zone_entry_rrset(cut, DNS_TYPE_NS);
		rp->auth_owner = DNS_HEADER_LEN + q->qname_len - cut->namelen;
		rp->glue_from = rp->authority;
		rp->glue_needed = true;
		return;
	}
	rp->aa = true;
	if (e == NULL) {
		rp->rcode = DNS_RCODE_NXDOMAIN;
		rp->authority = &apex->soa_neg;
		rp->auth_owner = DNS_HEADER_LEN + apex_off;
		return;
	}
	if (q->qtype == DNS_TYPE_ANY) {
		/* RFC 8482: one RRset is enough. */
		if (e->nrrsets > 0)
			rp->answer = &e->rrsets[0];
	} else if ((rp->answer = zone_entry_rrset(e, q->qtype)) == NULL)
		rp->answer = zone_entry_rrset(e, DNS_TYPE_CNAME);
	if (rp->answer != NULL) {
		rp->glue_from = rp->answer;
		return;
	}
	rp->authority = &apex->soa_neg;
	rp->auth_owner = DNS_HEADER_LEN + apex_off;
}

static bool
dns_meta_type(uint16_t t)
{
	return t == DNS_TYPE_OPT || t == DNS_TYPE_TKEY ||
	    t == DNS_TYPE_TSIG || t == DNS_TYPE_MAILA || t == DNS_TYPE_MAILB;
}

static void
dns_count(struct dns_server *srv, uint16_t rcode)
{
	if (rcode >= DNS_RCODE_COUNT)
		rcode = DNS_RCODE_SERVFAIL;
	srv->stats.rcode[rcode]++;
}

/* The answer to a parsed query, without TSIG. */
static size_t
dns_build(struct dns_server *srv, const struct dns_request *req,
    const struct dns_query *q, size_t limit, uint8_t *out, size_t cap)
{
	struct dns_reply rp;
	bool tc;
	size_t n;

	if (q->edns && q->edns_version > DNS_EDNS_VERSION) {
		dns_count(srv, DNS_RCODE_BADVERS);
		return dns_write_short(q, req->wire, true, DNS_RCODE_BADVERS,
		    false, false, out, cap);
	}
	if (dns_meta_type(q->qtype) ||
	    (q->qtype == DNS_TYPE_AXFR &&
	    req->transport == DNS_TRANSPORT_UDP)) {
		uint16_t rc = q->qtype == DNS_TYPE_AXFR ? DNS_RCODE_FORMERR :
		    DNS_RCODE_NOTIMP;

		dns_count(srv, rc);
		return dns_write_short(q, req->wire, true, rc, false, false,
		    out, cap);
	}
	dns_resolve(srv->zone, q, &rp);
	if (q->qtype == DNS_TYPE_IXFR && rp.rcode == DNS_RCODE_NOERROR) {
		/* IXFR over UDP: our SOA alone tells the client to use TCP. */
		const struct zone_entry *e = zone_lookup(srv->zone, q->lname,
		    q->qname_len);

		memset(&rp, 0, sizeof(rp));
		rp.aa = true;
		if (e == NULL || !(e->flags & ZONE_ENTRY_APEX))
			rp.rcode = DNS_RCODE_NOTAUTH;
		else
			rp.answer = zone_entry_rrset(e, DNS_TYPE_SOA);
	}
	n = dns_write_reply(q, req->wire, &rp, limit, out, cap, &tc);
	if (n > 0) {
		dns_count(srv, rp.rcode);
		if (tc)
			srv->stats.truncated++;
	}
	return n;
}

/* Slow path: a TSIG-signed query (e.g. a secondary's SOA check). */
static size_t
dns_build_tsig(struct dns_server *srv, const struct dns_request *req,
    const struct dns_query *q, size_t limit, uint8_t *out, size_t cap)
{
	struct xfr_mac *mac = NULL;
	size_t n;
	int rc = -ENOKEY;

	if (srv->xfr == NULL ||
	    (rc = xfr_tsig_verify(srv->xfr, req->wire, req->len, &mac)) < 0) {
		srv->stats.tsig_bad++;
		dns_count(srv, DNS_RCODE_NOTAUTH);
		n = dns_write_short(q, req->wire, true, DNS_RCODE_NOTAUTH,
		    false, false, out, cap < limit ? cap : limit);
		if (n > 0)
			(void)xfr_tsig_error(req->wire, req->len, q,
			    rc == -EACCES ? DNS_TSIG_BADSIG : DNS_TSIG_BADKEY,
			    out, &n, cap < limit ? cap : limit);
		return n;
	}
	if (limit > cap)
		limit = cap;
	n = dns_build(srv, req, q, limit > DNS_TSIG_RESERVE ?
	    limit - DNS_TSIG_RESERVE : limit, out, cap);
	if (n > 0 && xfr_tsig_sign(srv->xfr, out, &n, limit, mac, false,
	    NULL) < 0)
		n = 0;
	xfr_mac_free(mac);
	return n;
}

/* Bad input is counted, and logged at debug level with where it came from. */
static void
dns_log_bad(const struct dns_request *req, const char *what)
{
	char addr[LOOP_ADDRSTRLEN] = "?";

	if (log_getlevel() < LOG_LEVEL_DEBUG)
		return;
	if (req->src != NULL)
		(void)loop_addr_format(req->src, addr, sizeof(addr));
	log_debug("dns: %s (%zu bytes, %s) from %s", what, req->len,
	    req->transport == DNS_TRANSPORT_TCP ? "tcp" : "udp", addr);
}

enum dns_action
dns_answer(struct dns_server *srv, const struct dns_request *req,
    uint8_t *out, size_t outcap, size_t *outlen)
{
	struct dns_query q;
	size_t limit;
	int rc;

	*outlen = 0;
	srv->stats.queries++;
	if (req->transport == DNS_TRANSPORT_TCP)
		srv->stats.tcp++;
	else
		srv->stats.udp++;
	rc = dns_parse(req->wire, req->len, &q);
	if (rc == -EBADMSG) {
		srv->stats.malformed_dropped++;
		dns_log_bad(req, "malformed message or response dropped");
		return DNS_ACTION_DROP;
	}
	if (req->transport == DNS_TRANSPORT_UDP) {
		switch (rrl_check(srv->rrl, req->src, req->now)) {
		case RRL_DROP:
			srv->stats.rrl_dropped++;
			return DNS_ACTION_DROP;
		case RRL_SLIP:
			srv->stats.rrl_slipped++;
			*outlen = dns_write_short(&q, req->wire, rc == 0,
			    DNS_RCODE_NOERROR, false, true, out, outcap);
			return *outlen > 0 ? DNS_ACTION_ANSWER :
			    DNS_ACTION_DROP;
		default:
			break;
		}
		limit = rc == 0 ? dns_udp_limit(&q) : DNS_UDP_PLAIN_MAX;
	} else
		limit = DNS_TCP_MAX;
	if (rc < 0) {
		dns_log_bad(req, rc == -DNS_RCODE_FORMERR ? "FORMERR" :
		    "NOTIMP");
		dns_count(srv, (uint16_t)-rc);
		*outlen = dns_write_short(&q, req->wire, false, (uint16_t)-rc,
		    false, false, out, outcap < limit ? outcap : limit);
		return *outlen > 0 ? DNS_ACTION_ANSWER : DNS_ACTION_DROP;
	}
	if (req->transport == DNS_TRANSPORT_TCP &&
	    (q.qtype == DNS_TYPE_AXFR || q.qtype == DNS_TYPE_IXFR))
		return DNS_ACTION_XFR;
	if (q.tsig)
		*outlen = dns_build_tsig(srv, req, &q, limit, out, outcap);
	else
		*outlen = dns_build(srv, req, &q, limit, out, outcap);
	return *outlen > 0 ? DNS_ACTION_ANSWER : DNS_ACTION_DROP;
}

void
dns_stats_log(const struct dns_stats *s)
{
	log_info("dns stats: queries %llu (udp %llu, tcp %llu), noerror %llu, "
	    "nxdomain %llu, refused %llu, formerr %llu, notimp %llu, "
	    "notauth %llu, badvers %llu, truncated %llu, malformed dropped "
	    "%llu, rrl dropped %llu, rrl slipped %llu, xfr %llu, xfr refused "
	    "%llu, tsig bad %llu, notify sent %llu, acked %llu",
	    (unsigned long long)s->queries, (unsigned long long)s->udp,
	    (unsigned long long)s->tcp,
	    (unsigned long long)s->rcode[DNS_RCODE_NOERROR],
	    (unsigned long long)s->rcode[DNS_RCODE_NXDOMAIN],
	    (unsigned long long)s->rcode[DNS_RCODE_REFUSED],
	    (unsigned long long)s->rcode[DNS_RCODE_FORMERR],
	    (unsigned long long)s->rcode[DNS_RCODE_NOTIMP],
	    (unsigned long long)s->rcode[DNS_RCODE_NOTAUTH],
	    (unsigned long long)s->rcode[DNS_RCODE_BADVERS],
	    (unsigned long long)s->truncated,
	    (unsigned long long)s->malformed_dropped,
	    (unsigned long long)s->rrl_dropped,
	    (unsigned long long)s->rrl_slipped, (unsigned long long)s->xfr,
	    (unsigned long long)s->xfr_refused,
	    (unsigned long long)s->tsig_bad,
	    (unsigned long long)s->notify_sent,
	    (unsigned long long)s->notify_acked);
}
