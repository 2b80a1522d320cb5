/* zone.c -- the DC's zones: zone file via ldns, node records, precomputed wire-format RRsets. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>
#include <sqlite3.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "zone.h"

enum {
	ZONE_SLOTS_MIN = 64,
	ZONE_LOAD_NUM = 5,		/* nentries <= nslots * 5 / 8 */
	ZONE_LOAD_DEN = 8,
	ZONE_ERR_MAX = 20,		/* zone file errors reported at once */
	ZONE_FILE_TTL_DEFAULT = 3600,
};

/*
 * The name table: open addressing with linear probing over a power-of-two
 * array kept at most 5/8 full (ZONE_LOAD_NUM / ZONE_LOAD_DEN: at a million
 * nodes, two names each and their empty non-terminals, half full would
 * take 8 M slots of 16 bytes, 5/8 takes 4 M; a miss still probes about
 * four slots, mostly in the line it started in).  A slot holds the upper half of the name's
 * hash and its length beside the entry pointer, so a probe reads the entry
 * (another cache line) only when both match, and a miss mostly ends at an
 * empty slot in the line the probe started in.
 */
struct zone_slot {
	uint32_t		 tag;		/* hash >> 32 */
	uint32_t		 len;		/* namelen */
	struct zone_entry	*e;		/* NULL: empty */
};

struct zone {
	struct zone_apex	 apex[ZONE_APEX_MAX];
	int			 napex;
	struct zone_slot	*slots;
	size_t			 nslots;	/* power of two, 0 or >= 64 */
	size_t			 nentries;	/* <= nslots * 5 / 8 */
	size_t			 ncuts;
	size_t			 nodes;
	uint32_t		 serial;
	uint32_t		 node_ttl;
	struct zone_config	 cfg;		/* strings not kept */
};

/*
 * 64-bit hash of a byte string, eight bytes per multiply (a name of 25
 * bytes costs 4 rounds, not 25).  Host byte order: the values never leave
 * the process.  Not keyed: names enter the table from the zone file and
 * from enrolled nodes, never from queries.
 */
static uint64_t
zone_hash(const uint8_t *p, size_t len)
{
	const uint64_t m = 0xff51afd7ed558ccdULL;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * m), w;
	size_t i;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, sizeof(w));
		h = (h ^ w) * m;
		h ^= h >> 32;
	}
	if (len > 0) {
		for (w = 0, i = 0; i < len; i++)
			w |= (uint64_t)p[i] << (8 * i);
		h = (h ^ w) * m;
	}
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 32;
	return h;
}

static void
zone_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends one line to the error buffer (errors are reported all at once). */
static void
zone_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (err == NULL || errlen == 0)
		return;
	used = strnlen(err, errlen);
	if (used + 2 >= errlen)
		return;
	if (used > 0)
		err[used++] = '\n';
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

/* Offset of the parent of the name at lname (wire), or 0 for the root. */
static size_t
zone_parent_off(const uint8_t *lname)
{
	return lname[0] == 0 ? 0 : (size_t)lname[0] + 1;
}

struct zone_entry *
zone_lookup(const struct zone *z, const uint8_t *lname, size_t len)
{
	const struct zone_slot *s;
	size_t mask = z->nslots - 1, i;
	uint64_t h;
	uint32_t tag;

	if (z->nslots == 0)
		return NULL;
	h = zone_hash(lname, len);
	tag = (uint32_t)(h >> 32);
	/* Ends: the table always has empty slots. */
	for (i = (size_t)h & mask;; i = (i + 1) & mask) {
		s = &z->slots[i];
		if (s->e == NULL)
			return NULL;
		if (s->tag == tag && s->len == len &&
		    memcmp(s->e->name, lname, len) == 0)
			return s->e;
	}
}

uint64_t
zone_name_hash(const uint8_t *lname, size_t len)
{
	return zone_hash(lname, len);
}

void
zone_prefetch_slot(const struct zone *z, uint64_t hash)
{
	if (z->nslots > 0)
		__builtin_prefetch(&z->slots[(size_t)hash & (z->nslots - 1)]);
}

/* The entry of the first slot with the name's tag and length: likely it. */
static const struct zone_entry *
zone_candidate(const struct zone *z, uint64_t hash, size_t len)
{
	const struct zone_slot *s;
	size_t mask = z->nslots - 1, i;
	uint32_t tag = (uint32_t)(hash >> 32);

	if (z->nslots == 0)
		return NULL;
	for (i = (size_t)hash & mask;; i = (i + 1) & mask) {
		s = &z->slots[i];
		if (s->e == NULL)
			return NULL;
		if (s->tag == tag && s->len == len)
			return s->e;
	}
}

void
zone_prefetch_entry(const struct zone *z, uint64_t hash, size_t len)
{
	const struct zone_entry *e = zone_candidate(z, hash, len);

	if (e != NULL) {
		/* Header and name may straddle two lines. */
		__builtin_prefetch(e);
		__builtin_prefetch((const char *)e + 64);
	}
}

void
zone_prefetch_rrsets(const struct zone *z, uint64_t hash, size_t len)
{
	const struct zone_entry *e = zone_candidate(z, hash, len);

	if (e != NULL && e->nrrsets > 0)
		__builtin_prefetch(e->rrsets);
}

int
zone_find_apex(const struct zone *z, const uint8_t *lname, size_t len,
    size_t *suffix_off)
{
	size_t off = 0;
	int i;

	while (off < len) {
		for (i = 0; i < z->napex; i++) {
			const struct zone_apex *a = &z->apex[i];

			if (a->namelen == len - off &&
			    memcmp(a->name, lname + off, a->namelen) == 0) {
				*suffix_off = off;
				return i;
			}
		}
		if (lname[off] == 0)
			break;
		off += (size_t)lname[off] + 1;
	}
	return -1;
}

const struct zone_apex *
zone_apex_get(const struct zone *z, int idx)
{
	if (idx < 0 || idx >= z->napex)
		return NULL;
	return &z->apex[idx];
}

int
zone_apex_count(const struct zone *z)
{
	return z->napex;
}

struct zone_entry *
zone_find_cut(const struct zone *z, const uint8_t *lname, size_t len)
{
	size_t off, apexoff;
	struct zone_entry *e;
	int a;

	if (z->ncuts == 0 || (a = zone_find_apex(z, lname, len, &apexoff)) < 0)
		return NULL;
	for (off = zone_parent_off(lname); off < apexoff;
	    off += zone_parent_off(lname + off)) {
		e = zone_lookup(z, lname + off, len - off);
		if (e != NULL && (e->flags & ZONE_ENTRY_CUT))
			return e;
	}
	return NULL;
}

const struct zone_rrset *
zone_entry_rrset(const struct zone_entry *e, uint16_t type)
{
	size_t i;

	for (i = 0; i < e->nrrsets; i++)
		if (e->rrsets[i].type == type)
			return &e->rrsets[i];
	return NULL;
}

static struct zone_rrset *
zone_entry_rrset_mut(struct zone_entry *e, uint16_t type)
{
	return (struct zone_rrset *)zone_entry_rrset(e, type);
}

void
zone_foreach(const struct zone *z, int idx,
    void (*fn)(const struct zone_entry *, void *), void *arg)
{
	size_t i;

	for (i = 0; i < z->nslots; i++)
		if (z->slots[i].e != NULL && z->slots[i].e->apex == idx)
			fn(z->slots[i].e, arg);
}

/* Puts e into the first empty slot of its probe sequence; there is room. */
static void
zone_slot_put(struct zone_slot *slots, size_t nslots, struct zone_entry *e)
{
	uint64_t h = zone_hash(e->name, e->namelen);
	size_t mask = nslots - 1, i;

	for (i = (size_t)h & mask; slots[i].e != NULL; i = (i + 1) & mask)
		;
	slots[i].tag = (uint32_t)(h >> 32);
	slots[i].len = (uint32_t)e->namelen;
	slots[i].e = e;
}

/* Doubles the table (rehashing every entry) so that one more fits. */
static int
zone_grow(struct zone *z)
{
	struct zone_slot *ns;
	size_t n, i;

	if ((z->nentries + 1) * ZONE_LOAD_DEN <= z->nslots * ZONE_LOAD_NUM)
		return 0;
	n = z->nslots == 0 ? ZONE_SLOTS_MIN : z->nslots * 2;
	if ((ns = calloc(n, sizeof(*ns))) == NULL)
		return -ENOMEM;
	for (i = 0; i < z->nslots; i++)
		if (z->slots[i].e != NULL)
			zone_slot_put(ns, n, z->slots[i].e);
	free(z->slots);
	z->slots = ns;
	z->nslots = n;
	return 0;
}

/*
 * Takes e out of the table.  Linear probing without tombstones: the
 * entries after the hole move back into it when their home slot allows,
 * so that every probe sequence stays unbroken.
 */
static void
zone_slot_del(struct zone *z, const struct zone_entry *e)
{
	size_t mask = z->nslots - 1, i, j, home;

	for (i = zone_hash(e->name, e->namelen) & mask; z->slots[i].e != e;
	    i = (i + 1) & mask)
		;
	for (j = i;;) {
		z->slots[i].e = NULL;
		for (;;) {
			j = (j + 1) & mask;
			if (z->slots[j].e == NULL)
				return;
			home = zone_hash(z->slots[j].e->name,
			    z->slots[j].e->namelen) & mask;
			/* Movable unless home lies cyclically in (i, j]. */
			if (i <= j ? home <= i || home > j :
			    home <= i && home > j)
				break;
		}
		z->slots[i] = z->slots[j];
		i = j;
	}
}

/*
 * The entry for lname (which must be at or below apex `a`), created with
 * its missing ancestors (empty non-terminals) when absent.
 */
static struct zone_entry *
zone_entry_get(struct zone *z, int a, const uint8_t *lname, size_t len)
{
	struct zone_entry *e, *parent = NULL;

	if ((e = zone_lookup(z, lname, len)) != NULL)
		return e;
	if (len > z->apex[a].namelen) {
		size_t poff = zone_parent_off(lname);

		if ((parent = zone_entry_get(z, a, lname + poff,
		    len - poff)) == NULL)
			return NULL;
	}
	if (zone_grow(z) < 0)
		return NULL;
	if ((e = calloc(1, offsetof(struct zone_entry, name) + len)) == NULL)
		return NULL;
	memcpy(e->name, lname, len);
	e->namelen = (uint16_t)len;
	e->apex = a;
	if (parent != NULL)
		parent->children++;
	zone_slot_put(z->slots, z->nslots, e);
	z->nentries++;
	return e;
}

static void
zone_rrset_clear(struct zone_rrset *rs)
{
	free(rs->wire);
	free(rs->glue);
	memset(rs, 0, sizeof(*rs));
}

/* Drops an entry without data or children, then its empty ancestors. */
static void
zone_entry_release(struct zone *z, struct zone_entry *e)
{
	size_t poff;

	while (e != NULL && e->nrrsets == 0 && e->children == 0 &&
	    !(e->flags & ZONE_ENTRY_APEX)) {
		struct zone_entry *parent;

		zone_slot_del(z, e);
		z->nentries--;
		poff = zone_parent_off(e->name);
		parent = zone_lookup(z, e->name + poff, e->namelen - poff);
		free(e->rrsets);
		free(e);
		if (parent != NULL)
			parent->children--;
		e = parent;
	}
}

static void
zone_entry_del_rrset(struct zone *z, struct zone_entry *e, uint16_t type)
{
	size_t i;

	for (i = 0; i < e->nrrsets; i++)
		if (e->rrsets[i].type == type) {
			zone_rrset_clear(&e->rrsets[i]);
			e->rrsets[i] = e->rrsets[--e->nrrsets];
			return;
		}
}

/* Takes ownership of rs's buffers; replaces an RRset of the same type. */
static int
zone_entry_put_rrset(struct zone_entry *e, struct zone_rrset *rs)
{
	struct zone_rrset *old, *n;

	if ((old = zone_entry_rrset_mut(e, rs->type)) != NULL) {
		zone_rrset_clear(old);
		*old = *rs;
		return 0;
	}
	if (e->nrrsets == UINT16_MAX)
		return -E2BIG;
	n = reallocarray(e->rrsets, (size_t)e->nrrsets + 1, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	e->rrsets = n;
	e->rrsets[e->nrrsets++] = *rs;
	return 0;
}

/* Appends one record (owner pointer C0 0C) to rs; rdata is wire form. */
static int
zone_rrset_add(struct zone_rrset *rs, uint16_t type, uint32_t ttl,
    const uint8_t *rdata, size_t rdlen)
{
	size_t add = ZONE_OWNER_PTR_LEN + ZONE_RR_FIXED_LEN + rdlen;
	struct wbuf w;
	uint8_t *n;

	if (rs->len + add > ZONE_FILE_MAX_RRSET || rs->count == UINT16_MAX)
		return -E2BIG;
	if ((n = realloc(rs->wire, rs->len + add)) == NULL)
		return -ENOMEM;
	rs->wire = n;
	wbuf_init(&w, rs->wire + rs->len, add);
	wbuf_put_u8(&w, DNS_PTR_MASK);
	wbuf_put_u8(&w, DNS_HEADER_LEN);
	wbuf_put_u16(&w, type);
	wbuf_put_u16(&w, DNS_CLASS_IN);
	wbuf_put_u32(&w, ttl);
	wbuf_put_u16(&w, (uint16_t)rdlen);
	wbuf_put_bytes(&w, rdata, rdlen);
	if (wbuf_error(&w) < 0)
		return -EINVAL;
	rs->len += add;
	rs->count++;
	rs->type = type;
	return 0;
}

/* Converts a text name to lower-case wire form; LDH labels only when ldh. */
static int
zone_name_from_text(const char *text, bool ldh, uint8_t *out, size_t *outlen)
{
	size_t tl = strlen(text), i, o = 0, lab = 0;

	if (tl > 0 && text[tl - 1] == '.')
		tl--;
	if (tl == 0 || tl + 2 > DNS_NAME_MAX)
		return -EINVAL;
	out[o++] = 0;
	for (i = 0; i <= tl; i++) {
		if (i == tl || text[i] == '.') {
			if (o - lab - 1 == 0 || o - lab - 1 > DNS_LABEL_MAX)
				return -EINVAL;
			if (ldh && (out[lab + 1] == '-' || out[o - 1] == '-'))
				return -EINVAL;
			out[lab] = (uint8_t)(o - lab - 1);
			lab = o;
			out[o++] = 0;
			continue;
		}
		if (ldh && !isalnum((unsigned char)text[i]) && text[i] != '-')
			return -EINVAL;
		out[o++] = (uint8_t)tolower((unsigned char)text[i]);
	}
	*outlen = o;
	return 0;
}

static void
zone_reverse4(const struct in_addr *a, unsigned octets, uint8_t *out,
    size_t *len)
{
	const uint8_t *b = (const uint8_t *)&a->s_addr;
	char text[64], *p = text;
	int i;

	for (i = (int)octets - 1; i >= 0; i--)
		p += sprintf(p, "%u.", b[i]);
	strcpy(p, "in-addr.arpa");
	(void)zone_name_from_text(text, false, out, len);
}

static void
zone_reverse6(const struct in6_addr *a, unsigned nibbles, uint8_t *out,
    size_t *len)
{
	char text[128], *p = text;
	int i;

	for (i = (int)nibbles - 1; i >= 0; i--) {
		unsigned v = a->s6_addr[i / 2];

		v = (i % 2) ? v & 0xf : v >> 4;
		p += sprintf(p, "%x.", v);
	}
	strcpy(p, "ip6.arpa");
	(void)zone_name_from_text(text, false, out, len);
}

/* ---- zone file ---------------------------------------------------------- */

static int
zone_rr_body(const ldns_rr *rr, ldns_buffer *b, const uint8_t **rdata,
    size_t *rdlen)
{
	size_t ownlen = ldns_rdf_size(ldns_rr_owner(rr));

	ldns_buffer_clear(b);
	if (ldns_rr2buffer_wire(b, rr, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
		return -EINVAL;
	if (ldns_buffer_position(b) < ownlen + ZONE_RR_FIXED_LEN)
		return -EINVAL;
	*rdata = ldns_buffer_begin(b) + ownlen + ZONE_RR_FIXED_LEN;
	*rdlen = ldns_buffer_position(b) - ownlen - ZONE_RR_FIXED_LEN;
	return 0;
}

static bool
zone_rr_in_zone(const ldns_rr *rr, const uint8_t *apex, size_t apexlen,
    uint8_t *lname, size_t *len)
{
	const ldns_rdf *own = ldns_rr_owner(rr);
	size_t n = ldns_rdf_size(own), off;

	if (n > DNS_NAME_MAX || n < apexlen)
		return false;
	memcpy(lname, ldns_rdf_data(own), n);
	dns_name_lower(lname, n);
	*len = n;
	for (off = 0; off < n; off += zone_parent_off(lname + off)) {
		if (n - off == apexlen &&
		    memcmp(lname + off, apex, apexlen) == 0)
			return true;
		if (lname[off] == 0)
			break;
	}
	return false;
}

/* Reads the zone file record by record, so that each error has its line. */
static int
zone_read_file(const struct zone_config *cfg, const ldns_rdf *origin,
    ldns_rr_list **out, char *err, size_t errlen)
{
	ldns_rr_list *list = NULL;
	ldns_rdf *orig = NULL, *prev = NULL;
	uint32_t ttl = ZONE_FILE_TTL_DEFAULT;
	int line = 1, nerr = 0, rc = -EINVAL;
	FILE *fp;

	if ((fp = fopen(cfg->file, "r")) == NULL) {
		rc = -errno;
		zone_err(err, errlen, "%s: %s", cfg->file, strerror(errno));
		return rc;
	}
	if ((list = ldns_rr_list_new()) == NULL ||
	    (orig = ldns_rdf_clone(origin)) == NULL)
		goto out;
	while (!feof(fp) && nerr < ZONE_ERR_MAX) {
		ldns_rr *rr = NULL;
		int at = line;
		ldns_status s;

		s = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &orig, &prev, &line);
		switch (s) {
		case LDNS_STATUS_OK:
			if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
				zone_err(err, errlen, "%s:%d: class is not IN",
				    cfg->file, line > at ? line - 1 : at);
				nerr++;
				ldns_rr_free(rr);
			} else if (!ldns_rr_list_push_rr(list, rr)) {
				ldns_rr_free(rr);
				goto out;
			}
			break;
		case LDNS_STATUS_SYNTAX_EMPTY:
		case LDNS_STATUS_SYNTAX_TTL:
		case LDNS_STATUS_SYNTAX_ORIGIN:
			break;
		case LDNS_STATUS_SYNTAX_INCLUDE:
			zone_err(err, errlen, "%s:%d: $INCLUDE is not "
			    "supported", cfg->file, line > at ? line - 1 : at);
			nerr++;
			break;
		default:
			/* ldns has read the whole line by now. */
			zone_err(err, errlen, "%s:%d: %s", cfg->file,
			    line > at ? line - 1 : at,
			    ldns_get_errorstr_by_id(s));
			nerr++;
			break;
		}
	}
	if (nerr == 0) {
		*out = list;
		list = NULL;
		rc = 0;
	}
out:
	if (list != NULL)
		ldns_rr_list_deep_free(list);
	ldns_rdf_deep_free(orig);
	ldns_rdf_deep_free(prev);
	fclose(fp);
	return rc;
}

/* Target name offset inside the rdata of types that get glue. */
static int
zone_glue_target_off(uint16_t type)
{
	switch (type) {
	case DNS_TYPE_NS:
		return 0;
	case DNS_TYPE_MX:
		return 2;
	case DNS_TYPE_SRV:
		return 6;
	default:
		return -1;
	}
}

static int
zone_glue_append(struct zone_rrset *rs, const uint8_t *owner, size_t ownlen,
    const struct zone_rrset *addr)
{
	struct rbuf r;
	uint16_t rdlen;
	size_t add = 0;
	uint8_t *n;

	/* Each record loses its 2-byte pointer and gains the full owner. */
	rbuf_init(&r, addr->wire, addr->len);
	while (rbuf_left(&r) > 0) {
		if (rbuf_skip(&r, ZONE_OWNER_PTR_LEN + 8) < 0 ||
		    rbuf_get_u16(&r, &rdlen) < 0 || rbuf_skip(&r, rdlen) < 0)
			return -EINVAL;
		add += ownlen + ZONE_RR_FIXED_LEN + rdlen;
	}
	if ((n = realloc(rs->glue, rs->gluelen + add)) == NULL)
		return -ENOMEM;
	rs->glue = n;
	rbuf_init(&r, addr->wire, addr->len);
	while (rbuf_left(&r) > 0) {
		const uint8_t *rec;

		(void)rbuf_skip(&r, ZONE_OWNER_PTR_LEN);
		rec = r.p + r.off;
		(void)rbuf_skip(&r, 8);
		(void)rbuf_get_u16(&r, &rdlen);
		(void)rbuf_skip(&r, rdlen);
		memcpy(rs->glue + rs->gluelen, owner, ownlen);
		memcpy(rs->glue + rs->gluelen + ownlen, rec,
		    ZONE_RR_FIXED_LEN + rdlen);
		rs->gluelen += ownlen + ZONE_RR_FIXED_LEN + rdlen;
		rs->gluecount++;
	}
	return 0;
}

/* Glue for NS/MX/SRV targets inside the zone, from the static records. */
static int
zone_glue(struct zone *z, struct zone_rrset *rs)
{
	int toff = zone_glue_target_off(rs->type);
	struct rbuf r;
	uint16_t rdlen;
	size_t off;

	if (toff < 0)
		return 0;
	rbuf_init(&r, rs->wire, rs->len);
	while (rbuf_left(&r) > 0) {
		const uint8_t *rdata;
		uint8_t tname[DNS_NAME_MAX];
		size_t tlen = 0, i;
		const struct zone_entry *t;
		uint16_t types[] = { DNS_TYPE_A, DNS_TYPE_AAAA };

		if (rbuf_skip(&r, ZONE_OWNER_PTR_LEN + 8) < 0 ||
		    rbuf_get_u16(&r, &rdlen) < 0 ||
		    rbuf_get_ptr(&r, &rdata, rdlen) < 0)
			return -EINVAL;
		if (rdlen <= (size_t)toff)
			continue;
		/* Names inside our rdata are uncompressed wire form. */
		for (off = (size_t)toff; off < rdlen && rdata[off] != 0;
		    off += (size_t)rdata[off] + 1)
			;
		if (off >= rdlen)
			continue;
		tlen = off + 1 - (size_t)toff;
		memcpy(tname, rdata + toff, tlen);
		dns_name_lower(tname, tlen);
		if (zone_find_apex(z, tname, tlen, &off) < 0 ||
		    (t = zone_lookup(z, tname, tlen)) == NULL)
			continue;
		for (i = 0; i < 2; i++) {
			const struct zone_rrset *a;
			int rc;

			a = zone_entry_rrset(t, types[i]);
			if (a != NULL && (rc = zone_glue_append(rs, tname,
			    tlen, a)) < 0)
				return rc;
		}
	}
	return 0;
}

/* Groups the sorted records into RRsets of entries. */
static int
zone_add_records(struct zone *z, ldns_rr_list *list, const char *file,
    char *err, size_t errlen)
{
	struct zone_rrset rs = { 0 };
	ldns_buffer *b;
	size_t i, n = ldns_rr_list_rr_count(list);
	uint8_t lname[DNS_NAME_MAX], cur[DNS_NAME_MAX];
	size_t len = 0, curlen = 0;
	int nerr = 0, rc = 0;

	if ((b = ldns_buffer_new(LDNS_MAX_PACKETLEN)) == NULL)
		return -ENOMEM;
	ldns_rr_list_sort(list);
	for (i = 0; i <= n && nerr < ZONE_ERR_MAX; i++) {
		const ldns_rr *rr = i < n ? ldns_rr_list_rr(list, i) : NULL;
		const uint8_t *rdata;
		size_t rdlen;
		uint16_t type = 0;

		if (rr != NULL) {
			type = (uint16_t)ldns_rr_get_type(rr);
			if (!zone_rr_in_zone(rr, z->apex[0].name,
			    z->apex[0].namelen, lname, &len)) {
				char *o = ldns_rdf2str(ldns_rr_owner(rr));

				zone_err(err, errlen, "%s: %s is outside the "
				    "zone", file, o != NULL ? o : "?");
				free(o);
				nerr++;
				continue;
			}
		}
		/* Flush the RRset in progress at a new owner or type. */
		if (rs.count > 0 && (rr == NULL || type != rs.type ||
		    len != curlen || memcmp(lname, cur, len) != 0)) {
			struct zone_entry *e;

			if ((e = zone_entry_get(z, 0, cur, curlen)) == NULL ||
			    zone_entry_put_rrset(e, &rs) < 0) {
				zone_rrset_clear(&rs);
				rc = -ENOMEM;
				goto out;
			}
			memset(&rs, 0, sizeof(rs));
		}
		if (rr == NULL)
			break;
		if (zone_rr_body(rr, b, &rdata, &rdlen) < 0 ||
		    (rc = zone_rrset_add(&rs, type, ldns_rr_ttl(rr), rdata,
		    rdlen)) < 0) {
			char *o = ldns_rdf2str(ldns_rr_owner(rr));

			zone_err(err, errlen, "%s: %s: RRset too large", file,
			    o != NULL ? o : "?");
			free(o);
			nerr++;
			rc = 0;
			continue;
		}
		memcpy(cur, lname, len);
		curlen = len;
	}
	if (nerr > 0)
		rc = -EINVAL;
out:
	zone_rrset_clear(&rs);
	ldns_buffer_free(b);
	return rc;
}

/* Checks SOA/CNAME placement and marks delegation points and glue. */
static int
zone_check(struct zone *z, const char *file, char *err, size_t errlen)
{
	struct zone_entry *e, *c;
	size_t i, j;
	int nerr = 0, rc;
	char text[1024];
	bool apex;

	for (i = 0; i < z->nslots; i++) {
		if ((e = z->slots[i].e) == NULL)
			continue;
		apex = e == z->apex[0].entry;
		(void)dns_name_str(e->name, e->namelen, text, sizeof(text));
		if (!apex && zone_entry_rrset(e, DNS_TYPE_SOA)) {
			zone_err(err, errlen, "%s: %s: SOA below the zone apex",
			    file, text);
			nerr++;
		}
		if (zone_entry_rrset(e, DNS_TYPE_CNAME) &&
		    (e->nrrsets > 1 || apex)) {
			zone_err(err, errlen, "%s: %s: CNAME and other data",
			    file, text);
			nerr++;
		}
		if (zone_entry_rrset(e, DNS_TYPE_SOA) &&
		    zone_entry_rrset(e, DNS_TYPE_SOA)->count != 1) {
			zone_err(err, errlen, "%s: %s: more than one SOA",
			    file, text);
			nerr++;
		}
		if (!apex && zone_entry_rrset(e, DNS_TYPE_NS)) {
			e->flags |= ZONE_ENTRY_CUT;
			z->ncuts++;
		}
	}
	if (nerr > 0)
		return -EINVAL;
	for (i = 0; i < z->nslots; i++) {
		if ((e = z->slots[i].e) == NULL)
			continue;
		if (e->flags & ZONE_ENTRY_CUT)
			e->cut = e;
		else if ((c = zone_find_cut(z, e->name, e->namelen)) != NULL) {
			e->flags |= ZONE_ENTRY_OCCLUDED;
			e->cut = c;
		}
		for (j = 0; j < e->nrrsets; j++)
			if ((rc = zone_glue(z, &e->rrsets[j])) < 0)
				return rc;
	}
	return 0;
}

static int
zone_rrset_copy(struct zone_rrset *dst, const struct zone_rrset *src)
{
	*dst = *src;
	dst->wire = NULL;
	dst->glue = NULL;
	if ((dst->wire = malloc(src->len ? src->len : 1)) == NULL)
		return -ENOMEM;
	memcpy(dst->wire, src->wire, src->len);
	if (src->gluelen > 0) {
		if ((dst->glue = malloc(src->gluelen)) == NULL) {
			free(dst->wire);
			return -ENOMEM;
		}
		memcpy(dst->glue, src->glue, src->gluelen);
	}
	return 0;
}

/* The negative-answer SOA: TTL lowered to the SOA minimum (RFC 2308). */
static int
zone_make_soa_neg(struct zone_apex *a, const struct zone_rrset *soa)
{
	uint32_t ttl, min;
	int rc;

	if ((rc = zone_rrset_copy(&a->soa_neg, soa)) < 0)
		return rc;
	free(a->soa_neg.glue);
	a->soa_neg.glue = NULL;
	a->soa_neg.gluelen = 0;
	a->soa_neg.gluecount = 0;
	ttl = load_be32(a->soa_neg.wire + ZONE_OWNER_PTR_LEN + 4);
	min = load_be32(a->soa_neg.wire + a->soa_neg.len - 4);
	if (min < ttl)
		store_be32(a->soa_neg.wire + ZONE_OWNER_PTR_LEN + 4, min);
	return 0;
}

static int
zone_add_reverse(struct zone *z, enum zone_apex_kind kind)
{
	struct zone_apex *a = &z->apex[z->napex];
	const struct zone_entry *fwd = z->apex[0].entry;
	struct zone_entry *e;
	size_t i;
	int rc;

	a->kind = kind;
	if (kind == ZONE_APEX_REVERSE4)
		zone_reverse4(&z->cfg.prefix4, z->cfg.prefix4_len / 8, a->name,
		    &a->namelen);
	else
		zone_reverse6(&z->cfg.prefix6, z->cfg.prefix6_len / 4, a->name,
		    &a->namelen);
	z->napex++;
	if ((e = zone_entry_get(z, z->napex - 1, a->name, a->namelen)) == NULL)
		return -ENOMEM;
	e->flags |= ZONE_ENTRY_APEX;
	a->entry = e;
	for (i = 0; i < fwd->nrrsets; i++) {
		struct zone_rrset rs;

		if (fwd->rrsets[i].type != DNS_TYPE_SOA &&
		    fwd->rrsets[i].type != DNS_TYPE_NS)
			continue;
		if ((rc = zone_rrset_copy(&rs, &fwd->rrsets[i])) < 0)
			return rc;
		if ((rc = zone_entry_put_rrset(e, &rs)) < 0) {
			zone_rrset_clear(&rs);
			return rc;
		}
	}
	return zone_make_soa_neg(a, zone_entry_rrset(e, DNS_TYPE_SOA));
}

int
zone_new(const struct zone_config *cfg, struct zone **zp, char *err,
    size_t errlen)
{
	struct zone *z;
	ldns_rdf *origin = NULL;
	ldns_rr_list *list = NULL;
	const struct zone_rrset *soa;
	struct zone_entry *e;
	int rc = -ENOMEM;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	*zp = NULL;
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return -ENOMEM;
	z->cfg = *cfg;
	z->cfg.origin = NULL;
	z->cfg.file = NULL;
	z->node_ttl = cfg->node_ttl ? cfg->node_ttl : DNS_NODE_TTL_DEFAULT;
	z->apex[0].kind = ZONE_APEX_FORWARD;
	if (zone_name_from_text(cfg->origin, false, z->apex[0].name,
	    &z->apex[0].namelen) < 0) {
		zone_err(err, errlen, "zone name %s is not valid", cfg->origin);
		rc = -EINVAL;
		goto fail;
	}
	z->napex = 1;
	if ((e = zone_entry_get(z, 0, z->apex[0].name,
	    z->apex[0].namelen)) == NULL)
		goto fail;
	e->flags |= ZONE_ENTRY_APEX;
	z->apex[0].entry = e;
	if ((origin = ldns_dname_new_frm_str(cfg->origin)) == NULL)
		goto fail;
	if (cfg->file == NULL) {
		zone_err(err, errlen, "no zone file given");
		rc = -EINVAL;
		goto fail;
	}
	if ((rc = zone_read_file(cfg, origin, &list, err, errlen)) < 0 ||
	    (rc = zone_add_records(z, list, cfg->file, err, errlen)) < 0 ||
	    (rc = zone_check(z, cfg->file, err, errlen)) < 0)
		goto fail;
	if ((soa = zone_entry_rrset(e, DNS_TYPE_SOA)) == NULL) {
		zone_err(err, errlen, "%s: no SOA record at %s", cfg->file,
		    cfg->origin);
		rc = -EINVAL;
		goto fail;
	}
	z->serial = load_be32(soa->wire + soa->len - ZONE_SOA_SERIAL_FROM_END);
	if ((rc = zone_make_soa_neg(&z->apex[0], soa)) < 0 ||
	    (cfg->have4 &&
	    (rc = zone_add_reverse(z, ZONE_APEX_REVERSE4)) < 0) ||
	    (cfg->have6 &&
	    (rc = zone_add_reverse(z, ZONE_APEX_REVERSE6)) < 0))
		goto fail;
	ldns_rr_list_deep_free(list);
	ldns_rdf_deep_free(origin);
	*zp = z;
	return 0;
fail:
	if (list != NULL)
		ldns_rr_list_deep_free(list);
	ldns_rdf_deep_free(origin);
	zone_free(z);
	return rc;
}

void
zone_free(struct zone *z)
{
	struct zone_entry *e;
	size_t i, j;
	int a;

	if (z == NULL)
		return;
	for (i = 0; i < z->nslots; i++) {
		if ((e = z->slots[i].e) == NULL)
			continue;
		for (j = 0; j < e->nrrsets; j++)
			zone_rrset_clear(&e->rrsets[j]);
		free(e->rrsets);
		free(e);
	}
	for (a = 0; a < z->napex; a++)
		zone_rrset_clear(&z->apex[a].soa_neg);
	free(z->slots);
	free(z);
}

uint32_t
zone_serial(const struct zone *z)
{
	return z->serial;
}

void
zone_set_serial(struct zone *z, uint32_t serial)
{
	const struct zone_rrset *soa;
	int a;

	z->serial = serial;
	for (a = 0; a < z->napex; a++) {
		soa = zone_entry_rrset(z->apex[a].entry, DNS_TYPE_SOA);
		if (soa != NULL)
			store_be32(soa->wire + soa->len -
			    ZONE_SOA_SERIAL_FROM_END, serial);
		store_be32(z->apex[a].soa_neg.wire + z->apex[a].soa_neg.len -
		    ZONE_SOA_SERIAL_FROM_END, serial);
	}
}

static void
zone_bump(struct zone *z)
{
	uint32_t s = z->serial + 1;

	/* RFC 1982: 0 is a valid serial, but some tools read it as unset. */
	zone_set_serial(z, s == 0 ? 1 : s);
}

uint64_t
zone_digest(const struct zone *z)
{
	const struct zone_entry *e;
	const struct zone_rrset *rs;
	uint64_t sum = 0, h;
	size_t i, j, n;

	/* A sum of per-RRset hashes does not depend on the table's order. */
	for (i = 0; i < z->nslots; i++) {
		if ((e = z->slots[i].e) == NULL)
			continue;
		for (j = 0; j < e->nrrsets; j++) {
			rs = &e->rrsets[j];
			n = rs->len;
			if (rs->type == DNS_TYPE_SOA)
				n -= ZONE_SOA_SERIAL_FROM_END;
			h = zone_hash(e->name, e->namelen);
			h ^= zone_hash(rs->wire, n) * 31;
			sum += h;
		}
	}
	return sum;
}

/* ---- nodes -------------------------------------------------------------- */

size_t
zone_node_count(const struct zone *z)
{
	return z->nodes;
}

static int
zone_apex_of_kind(const struct zone *z, enum zone_apex_kind kind)
{
	int a;

	for (a = 0; a < z->napex; a++)
		if (z->apex[a].kind == kind)
			return a;
	return -1;
}

static bool
zone_prefix_match(const uint8_t *addr, const uint8_t *prefix, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(addr, prefix, full) != 0)
		return false;
	return rest == 0 ||
	    ((addr[full] ^ prefix[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* The PTR owner of an address (lower-case wire form). */
static void
zone_ptr_name(int family, const uint8_t *addr, uint8_t *out, size_t *len)
{
	if (family == AF_INET)
		zone_reverse4((const struct in_addr *)(const void *)addr, 4,
		    out, len);
	else
		zone_reverse6((const struct in6_addr *)(const void *)addr, 32,
		    out, len);
}

/* The node's current address of `type` from its dynamic RRset, if any. */
static bool
zone_node_addr(const struct zone_entry *e, uint16_t type, uint8_t *addr)
{
	const struct zone_rrset *rs = zone_entry_rrset(e, type);
	size_t alen = type == DNS_TYPE_A ? 4 : 16;

	if (rs == NULL || !rs->dynamic || rs->len != ZONE_OWNER_PTR_LEN +
	    ZONE_RR_FIXED_LEN + alen)
		return false;
	memcpy(addr, rs->wire + ZONE_OWNER_PTR_LEN + ZONE_RR_FIXED_LEN, alen);
	return true;
}

static void
zone_ptr_remove(struct zone *z, int family, const uint8_t *addr)
{
	uint8_t pname[DNS_NAME_MAX];
	size_t plen;
	struct zone_entry *p;

	zone_ptr_name(family, addr, pname, &plen);
	if ((p = zone_lookup(z, pname, plen)) == NULL)
		return;
	zone_entry_del_rrset(z, p, DNS_TYPE_PTR);
	zone_entry_release(z, p);
}

/* -EEXIST when the address's PTR already names another node. */
static int
zone_ptr_check(const struct zone *z, int family, const uint8_t *addr,
    const uint8_t *name, size_t namelen)
{
	uint8_t pname[DNS_NAME_MAX];
	size_t plen;
	const struct zone_entry *p;
	const struct zone_rrset *rs;

	zone_ptr_name(family, addr, pname, &plen);
	if ((p = zone_lookup(z, pname, plen)) == NULL ||
	    (rs = zone_entry_rrset(p, DNS_TYPE_PTR)) == NULL)
		return 0;
	if (rs->len == ZONE_OWNER_PTR_LEN + ZONE_RR_FIXED_LEN + namelen &&
	    memcmp(rs->wire + ZONE_OWNER_PTR_LEN + ZONE_RR_FIXED_LEN, name,
	    namelen) == 0)
		return 0;
	return -EEXIST;
}

static int
zone_ptr_add(struct zone *z, int family, const uint8_t *addr,
    const uint8_t *name, size_t namelen)
{
	struct zone_rrset rs = { .dynamic = true };
	uint8_t pname[DNS_NAME_MAX];
	size_t plen;
	struct zone_entry *p;
	int a, rc;

	a = zone_apex_of_kind(z, family == AF_INET ? ZONE_APEX_REVERSE4 :
	    ZONE_APEX_REVERSE6);
	if (a < 0)
		return 0;
	zone_ptr_name(family, addr, pname, &plen);
	if ((rc = zone_rrset_add(&rs, DNS_TYPE_PTR, z->node_ttl, name,
	    namelen)) < 0)
		return rc;
	rs.dynamic = true;
	if ((p = zone_entry_get(z, a, pname, plen)) == NULL ||
	    zone_entry_put_rrset(p, &rs) < 0) {
		zone_rrset_clear(&rs);
		return -ENOMEM;
	}
	return 0;
}

static int
zone_addr_put(struct zone *z, struct zone_entry *e, uint16_t type,
    const uint8_t *addr)
{
	struct zone_rrset rs = { 0 };
	int rc;

	if ((rc = zone_rrset_add(&rs, type, z->node_ttl, addr,
	    type == DNS_TYPE_A ? 4 : 16)) < 0)
		return rc;
	rs.dynamic = true;
	if ((rc = zone_entry_put_rrset(e, &rs)) < 0)
		zone_rrset_clear(&rs);
	return rc;
}

/* Parses and checks a node name: one LDH label below the forward apex. */
static int
zone_node_name(const struct zone *z, const char *fqdn, uint8_t *name,
    size_t *len)
{
	size_t off;

	if (zone_name_from_text(fqdn, true, name, len) < 0)
		return -EINVAL;
	off = zone_parent_off(name);
	if (*len - off != z->apex[0].namelen ||
	    memcmp(name + off, z->apex[0].name, z->apex[0].namelen) != 0)
		return -EINVAL;
	return 0;
}

int
zone_node_set(struct zone *z, const char *fqdn, const char *vip4,
    const char *vip6)
{
	uint8_t name[DNS_NAME_MAX], a4[4], a6[16], old4[4], old6[16];
	bool have4 = false, have6 = false, had4, had6;
	struct zone_entry *e;
	size_t len;
	int a, rc;

	if ((rc = zone_node_name(z, fqdn, name, &len)) < 0)
		return rc;
	if (vip4 != NULL && vip4[0] != '\0') {
		if ((a = zone_apex_of_kind(z, ZONE_APEX_REVERSE4)) < 0 ||
		    inet_pton(AF_INET, vip4, a4) != 1 ||
		    !zone_prefix_match(a4, (const uint8_t *)&z->cfg.prefix4,
		    z->cfg.prefix4_len))
			return -EINVAL;
		have4 = true;
	}
	if (vip6 != NULL && vip6[0] != '\0') {
		if ((a = zone_apex_of_kind(z, ZONE_APEX_REVERSE6)) < 0 ||
		    inet_pton(AF_INET6, vip6, a6) != 1 ||
		    !zone_prefix_match(a6, z->cfg.prefix6.s6_addr,
		    z->cfg.prefix6_len))
			return -EINVAL;
		have6 = true;
	}
	if (!have4 && !have6)
		return -EINVAL;
	e = zone_lookup(z, name, len);
	if (e != NULL && (e->flags & (ZONE_ENTRY_CUT | ZONE_ENTRY_OCCLUDED)))
		return -EEXIST;
	if (e != NULL) {
		size_t i;

		/* A static name (from the file) is not a node's to take. */
		for (i = 0; i < e->nrrsets; i++)
			if (!e->rrsets[i].dynamic)
				return -EEXIST;
	}
	if ((have4 && zone_ptr_check(z, AF_INET, a4, name, len) < 0) ||
	    (have6 && zone_ptr_check(z, AF_INET6, a6, name, len) < 0))
		return -EEXIST;
	had4 = e != NULL && zone_node_addr(e, DNS_TYPE_A, old4);
	had6 = e != NULL && zone_node_addr(e, DNS_TYPE_AAAA, old6);
	if (had4 == have4 && had6 == have6 &&
	    (!have4 || memcmp(old4, a4, 4) == 0) &&
	    (!have6 || memcmp(old6, a6, 16) == 0))
		return 0;
	if (e == NULL) {
		if ((e = zone_entry_get(z, 0, name, len)) == NULL)
			return -ENOMEM;
		z->nodes++;
	}
	if (had4) {
		zone_ptr_remove(z, AF_INET, old4);
		zone_entry_del_rrset(z, e, DNS_TYPE_A);
	}
	if (had6) {
		zone_ptr_remove(z, AF_INET6, old6);
		zone_entry_del_rrset(z, e, DNS_TYPE_AAAA);
	}
	if ((have4 && ((rc = zone_addr_put(z, e, DNS_TYPE_A, a4)) < 0 ||
	    (rc = zone_ptr_add(z, AF_INET, a4, name, len)) < 0)) ||
	    (have6 && ((rc = zone_addr_put(z, e, DNS_TYPE_AAAA, a6)) < 0 ||
	    (rc = zone_ptr_add(z, AF_INET6, a6, name, len)) < 0)))
		return rc;
	zone_bump(z);
	return 0;
}

int
zone_node_remove(struct zone *z, const char *fqdn)
{
	uint8_t name[DNS_NAME_MAX], a4[4], a6[16];
	struct zone_entry *e;
	bool had4, had6;
	size_t len;
	int rc;

	if ((rc = zone_node_name(z, fqdn, name, &len)) < 0)
		return rc;
	if ((e = zone_lookup(z, name, len)) == NULL)
		return -ENOENT;
	had4 = zone_node_addr(e, DNS_TYPE_A, a4);
	had6 = zone_node_addr(e, DNS_TYPE_AAAA, a6);
	if (!had4 && !had6)
		return -ENOENT;
	if (had4) {
		zone_ptr_remove(z, AF_INET, a4);
		zone_entry_del_rrset(z, e, DNS_TYPE_A);
	}
	if (had6) {
		zone_ptr_remove(z, AF_INET6, a6);
		zone_entry_del_rrset(z, e, DNS_TYPE_AAAA);
	}
	z->nodes--;
	zone_entry_release(z, e);
	zone_bump(z);
	return 0;
}

/* ---- database ------------------------------------------------------------ */

/* The one place that opens the DC database (db_open creates it if absent). */
static int
zone_db_open(const char *path, struct db **dbp, sqlite3 **sqp)
{
	int rc;

	if ((rc = db_open(path, &schema_dc, dbp)) < 0)
		return rc;
	*sqp = db_handle(*dbp);
	return 0;
}

static int
zone_origin_text(const struct zone *z, char *buf, size_t len)
{
	size_t n;

	if (dns_name_str(z->apex[0].name, z->apex[0].namelen, buf, len) < 0)
		return -ENOSPC;
	n = strlen(buf);
	if (n > 1)
		buf[n - 1] = '\0';	/* the table has no trailing dots */
	return 0;
}

int
zone_db_load(struct zone *z, const char *dbpath)
{
	struct db *dbh = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char origin[1024];
	int rc, src;

	if ((rc = zone_db_open(dbpath, &dbh, &db)) < 0)
		return rc;
	rc = -EIO;
	if (sqlite3_prepare_v2(db, "SELECT fqdn, vip4, vip6 FROM nodes "
	    "ORDER BY fqdn", -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *fqdn = (const char *)sqlite3_column_text(st, 0);
		const char *v4 = (const char *)sqlite3_column_text(st, 1);
		const char *v6 = (const char *)sqlite3_column_text(st, 2);
		int nrc;

		if (fqdn == NULL)
			continue;
		if ((nrc = zone_node_set(z, fqdn, v4, v6)) < 0)
			log_warnx("%s: node %s (%s, %s) skipped: %s", dbpath,
			    fqdn, v4 ? v4 : "-", v6 ? v6 : "-",
			    strerror(-nrc));
	}
	if (src != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (zone_origin_text(z, origin, sizeof(origin)) < 0 ||
	    sqlite3_prepare_v2(db, "SELECT serial FROM zone_serial WHERE "
	    "zone = ?1", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, origin, -1, SQLITE_TRANSIENT);
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t stored = (uint32_t)sqlite3_column_int64(st, 0);

		/* Serial arithmetic (RFC 1982): move forward past stored. */
		if ((int32_t)(stored + 1 - z->serial) > 0)
			zone_set_serial(z, stored + 1);
	} else if (src != SQLITE_DONE)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		log_warnx("%s: %s", dbpath, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	db_close(dbh);
	return rc;
}

int
zone_db_save_serial(const struct zone *z, const char *dbpath)
{
	struct db *dbh = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char name[1024];
	int rc, a;
	size_t n;

	if ((rc = zone_db_open(dbpath, &dbh, &db)) < 0)
		return rc;
	rc = -EIO;
	if (sqlite3_prepare_v2(db, "INSERT INTO zone_serial (zone, serial) "
	    "VALUES (?1, ?2) ON CONFLICT (zone) DO UPDATE SET serial = ?2",
	    -1, &st, NULL) != SQLITE_OK)
		goto out;
	for (a = 0; a < z->napex; a++) {
		if (dns_name_str(z->apex[a].name, z->apex[a].namelen, name,
		    sizeof(name)) < 0)
			goto out;
		if ((n = strlen(name)) > 1)
			name[n - 1] = '\0';
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, z->serial);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		log_warnx("%s: %s", dbpath, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	db_close(dbh);
	return rc;
}
