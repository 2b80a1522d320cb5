/* notice.c -- AS -> DC notices: decode, apply to the DC database once and in order, acknowledge; VIP_REQUEST answers; the status store; the TLS listener on 4611. */
#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <sqlite3.h>

#include "cert.h"
#include "crypto.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "notice.h"
#include "signal.h"
#include "tls.h"
#include "vip.h"

enum {
	NOTICE_CURSORS_MAX = 8,		/* AS names remembered */
	NOTICE_SERIAL_HEX = 2 * PROTO_SERIAL_MAX + 1,
	NOTICE_VIP_TEXT = 46,
	NOTICE_REASON_SUPERSEDED = 4,	/* RFC 5280 CRLReason */
};

/* One certificate the DC knows the status of. */
struct notice_entry {
	struct notice_entry	*next_serial;
	struct notice_entry	*next_fqdn;
	uint8_t			 serial[PROTO_SERIAL_MAX];
	size_t			 serial_len;
	char			 fqdn[PROTO_FQDN_MAX + 1];
	bool			 has_hash;
	uint8_t			 hash[PROTO_HASH_LEN];
	uint8_t			*der;		/* newest status */
	size_t			 der_len;
	time_t			 this_update;
	bool			 revoked;
};

/* One notice, decoded on the loop and carried to the worker and back. */
struct notice_item {
	struct notice_item	*next;
	struct tls_conn		*conn;		/* NULL once it closed */
	uint8_t			 type;
	uint32_t		 txid;
	uint64_t		 seq;
	bool			 duplicate;
	int			 rc;		/* the worker's result */
	char			 as_name[NOTICE_AS_NAME_MAX + 1];
	char			 fqdn[PROTO_FQDN_MAX + 1];
	uint8_t			 serial[PROTO_SERIAL_MAX];
	size_t			 serial_len;
	char			 serial_hex[NOTICE_SERIAL_HEX];
	bool			 has_hash;
	uint8_t			 hash[PROTO_HASH_LEN];
	uint8_t			*der;		/* owned */
	size_t			 der_len;
	time_t			 this_update, next_update;
	bool			 revoked;
	uint8_t			 reason;	/* REVOKED: CRLReason */
	char			 vip4[NOTICE_VIP_TEXT], vip6[NOTICE_VIP_TEXT];
	uint32_t		 key_id;
	uint8_t			 key[PROTO_KEY_LEN];
	uint64_t		 key_expiry;
	bool			 key_stale;	/* expired on arrival */
	time_t			 now;		/* when it arrived */
	char			 displaced[NOTICE_DISPLACED_MAX]
				    [PROTO_FQDN_MAX + 1];
	size_t			 ndisplaced;
	/* VIP_REQUEST: vip_assign()'s result and pair. */
	int			 vip_rc;
	struct in_addr		 v4;
	struct in6_addr		 v6;
};

struct notice {
	sqlite3			*db;
	gnutls_x509_crt_t	 as_ca;		/* borrowed, may be NULL */
	struct notice_hooks	 hooks;
	struct {
		char		 name[NOTICE_AS_NAME_MAX + 1];
		uint64_t	 seq;
		uint64_t	 failed;	/* seq whose transaction failed,
						 * 0: none */
	}			 cursor[NOTICE_CURSORS_MAX];
	size_t			 ncursor;
	struct notice_entry	**by_serial, **by_fqdn;
	size_t			 nbuckets, nentries;
	struct notice_stats	 stats;
	struct vip_config	 vip;		/* zone borrowed */
};

static uint32_t
notice_hash(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static void
notice_hex(const uint8_t *p, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
	out[2 * len] = '\0';
}

static int
notice_unhex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s), i;
	unsigned v;

	if (n % 2 != 0 || n / 2 > cap || n == 0)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

/* ---- the status store ---------------------------------------------------- */

static struct notice_entry *
notice_find_serial(const struct notice *n, const uint8_t *serial, size_t len)
{
	struct notice_entry *e;

	if (n->nbuckets == 0)
		return NULL;
	for (e = n->by_serial[notice_hash(serial, len) % n->nbuckets];
	    e != NULL; e = e->next_serial)
		if (e->serial_len == len && memcmp(e->serial, serial, len) == 0)
			return e;
	return NULL;
}

static int
notice_grow(struct notice *n)
{
	struct notice_entry **bs, **bf, *e, *next;
	size_t nb = n->nbuckets == 0 ? NOTICE_BUCKETS_MIN : 2 * n->nbuckets;
	size_t i, h;

	if ((bs = calloc(nb, sizeof(*bs))) == NULL ||
	    (bf = calloc(nb, sizeof(*bf))) == NULL) {
		free(bs);
		return -ENOMEM;
	}
	for (i = 0; i < n->nbuckets; i++)
		for (e = n->by_serial[i]; e != NULL; e = next) {
			next = e->next_serial;
			h = notice_hash(e->serial, e->serial_len) % nb;
			e->next_serial = bs[h];
			bs[h] = e;
			h = notice_hash(e->fqdn, strlen(e->fqdn)) % nb;
			e->next_fqdn = bf[h];
			bf[h] = e;
		}
	free(n->by_serial);
	free(n->by_fqdn);
	n->by_serial = bs;
	n->by_fqdn = bf;
	n->nbuckets = nb;
	return 0;
}

/*
 * Records what a committed row says.  A revoked entry stays revoked; an
 * older status does not replace a newer one.
 */
static int
notice_store_put(struct notice *n, const uint8_t *serial, size_t slen,
    const char *fqdn, const uint8_t *hash, const uint8_t *der, size_t dlen,
    time_t this_update, bool revoked)
{
	struct notice_entry *e;
	uint8_t *copy;
	size_t h;

	if ((e = notice_find_serial(n, serial, slen)) == NULL) {
		if (n->nentries >= 2 * n->nbuckets && notice_grow(n) < 0)
			return -ENOMEM;
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return -ENOMEM;
		memcpy(e->serial, serial, slen);
		e->serial_len = slen;
		snprintf(e->fqdn, sizeof(e->fqdn), "%s", fqdn);
		h = notice_hash(serial, slen) % n->nbuckets;
		e->next_serial = n->by_serial[h];
		n->by_serial[h] = e;
		h = notice_hash(e->fqdn, strlen(e->fqdn)) % n->nbuckets;
		e->next_fqdn = n->by_fqdn[h];
		n->by_fqdn[h] = e;
		n->nentries++;
	}
	if (hash != NULL) {
		memcpy(e->hash, hash, PROTO_HASH_LEN);
		e->has_hash = true;
	}
	if (e->revoked || (!revoked && e->der != NULL &&
	    this_update < e->this_update))
		return 0;
	if ((copy = malloc(dlen)) == NULL)
		return -ENOMEM;
	memcpy(copy, der, dlen);
	free(e->der);
	e->der = copy;
	e->der_len = dlen;
	e->this_update = this_update;
	e->revoked = revoked;
	return 0;
}

bool
notice_revoked(void *arg, const uint8_t *serial, size_t len)
{
	const struct notice_entry *e = notice_find_serial(arg, serial, len);

	return e != NULL && e->revoked;
}

int
notice_cert(void *arg, const char *fqdn, struct signal_cert *c)
{
	struct notice *n = arg;
	const struct notice_entry *e, *best = NULL;

	if (n->nbuckets == 0)
		return -ENOENT;
	/* The newest good certificate of that name whose hash we know. */
	for (e = n->by_fqdn[notice_hash(fqdn, strlen(fqdn)) % n->nbuckets];
	    e != NULL; e = e->next_fqdn)
		if (strcmp(e->fqdn, fqdn) == 0 && !e->revoked && e->has_hash &&
		    e->der != NULL && (best == NULL ||
		    e->this_update > best->this_update))
			best = e;
	if (best == NULL)
		return -ENOENT;
	c->hash = best->hash;
	c->serial = best->serial;
	c->serial_len = best->serial_len;
	c->status = best->der;
	c->status_len = best->der_len;
	return 0;
}

int
notice_status_der(const struct notice *n, const uint8_t *serial, size_t len,
    const uint8_t **der, size_t *der_len)
{
	const struct notice_entry *e = notice_find_serial(n, serial, len);

	if (e == NULL || e->der == NULL)
		return -ENOENT;
	*der = e->der;
	*der_len = e->der_len;
	return 0;
}

/* ---- database ------------------------------------------------------------ */

static int
notice_db_load(struct notice *n)
{
	sqlite3_stmt *st = NULL;
	int src, rc = -EIO;

	if (sqlite3_prepare_v2(n->db, "SELECT as_name, last_seq FROM "
	    "notice_cursor", -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW &&
	    n->ncursor < NOTICE_CURSORS_MAX) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		snprintf(n->cursor[n->ncursor].name,
		    sizeof(n->cursor[0].name), "%s", name ? name : "");
		n->cursor[n->ncursor++].seq =
		    (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(n->db, "SELECT serial, fqdn, this_update, "
	    "revoked, der, cert_hash FROM cert_status", -1, &st, NULL) !=
	    SQLITE_OK)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(st, 0);
		const char *fqdn = (const char *)sqlite3_column_text(st, 1);
		const uint8_t *hash = sqlite3_column_blob(st, 5);
		uint8_t serial[PROTO_SERIAL_MAX];
		size_t slen;

		if (hex == NULL || fqdn == NULL ||
		    notice_unhex(hex, serial, sizeof(serial), &slen) < 0)
			continue;
		if (sqlite3_column_bytes(st, 5) != PROTO_HASH_LEN)
			hash = NULL;
		if (notice_store_put(n, serial, slen, fqdn, hash,
		    sqlite3_column_blob(st, 4),
		    (size_t)sqlite3_column_bytes(st, 4),
		    (time_t)sqlite3_column_int64(st, 2),
		    sqlite3_column_int(st, 3) != 0) < 0)
			goto out;
	}
	if (src == SQLITE_DONE)
		rc = 0;
out:
	if (rc < 0)
		log_warnx("notice: reading the database: %s",
		    sqlite3_errmsg(n->db));
	sqlite3_finalize(st);
	return rc;
}

static int
notice_db_run(sqlite3 *db, const char *sql, const struct notice_item *it)
{
	sqlite3_stmt *st = NULL;
	int rc = -EIO, i;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	/* Named parameters; a statement uses the ones it names. */
	for (i = 1; i <= sqlite3_bind_parameter_count(st); i++) {
		const char *p = sqlite3_bind_parameter_name(st, i);

		if (p == NULL)
			continue;
		if (strcmp(p, ":serial") == 0)
			sqlite3_bind_text(st, i, it->serial_hex, -1,
			    SQLITE_STATIC);
		else if (strcmp(p, ":fqdn") == 0)
			sqlite3_bind_text(st, i, it->fqdn, -1, SQLITE_STATIC);
		else if (strcmp(p, ":this") == 0)
			sqlite3_bind_int64(st, i, it->this_update);
		else if (strcmp(p, ":next") == 0)
			sqlite3_bind_int64(st, i, it->next_update);
		else if (strcmp(p, ":revoked") == 0)
			sqlite3_bind_int(st, i, it->revoked);
		else if (strcmp(p, ":der") == 0)
			sqlite3_bind_blob(st, i, it->der, (int)it->der_len,
			    SQLITE_STATIC);
		else if (strcmp(p, ":vip4") == 0)
			sqlite3_bind_text(st, i, it->vip4, -1, SQLITE_STATIC);
		else if (strcmp(p, ":vip6") == 0)
			sqlite3_bind_text(st, i, it->vip6, -1, SQLITE_STATIC);
		else if (strcmp(p, ":now") == 0)
			sqlite3_bind_int64(st, i, (int64_t)it->now);
		else if (strcmp(p, ":keyid") == 0)
			sqlite3_bind_int64(st, i, it->key_id);
		else if (strcmp(p, ":key") == 0)
			sqlite3_bind_blob(st, i, it->key, PROTO_KEY_LEN,
			    SQLITE_STATIC);
		else if (strcmp(p, ":expires") == 0)
			sqlite3_bind_int64(st, i, (int64_t)it->key_expiry);
		else if (strcmp(p, ":as") == 0)
			sqlite3_bind_text(st, i, it->as_name, -1,
			    SQLITE_STATIC);
		else if (strcmp(p, ":seq") == 0)
			sqlite3_bind_int64(st, i, (int64_t)it->seq);
		else if (strcmp(p, ":hash") == 0 && it->has_hash)
			sqlite3_bind_blob(st, i, it->hash, PROTO_HASH_LEN,
			    SQLITE_STATIC);
	}
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
out:
	if (rc < 0)
		log_warnx("notice: seq %llu: %s", (unsigned long long)it->seq,
		    sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/*
 * The status row: an upsert that never clears revoked (the trigger would
 * refuse it anyway) and never puts an older status over a newer one.
 */
static const char notice_sql_status[] =
    "INSERT INTO cert_status (serial, fqdn, this_update, next_update, "
    "revoked, der, cert_hash) VALUES (:serial, :fqdn, :this, :next, "
    ":revoked, :der, :hash) "
    "ON CONFLICT (serial) DO UPDATE SET fqdn = excluded.fqdn, "
    "cert_hash = coalesce(excluded.cert_hash, cert_status.cert_hash), "
    "this_update = excluded.this_update, "
    "next_update = excluded.next_update, revoked = excluded.revoked, "
    "der = excluded.der WHERE cert_status.revoked = 0 AND "
    "(excluded.revoked = 1 OR "
    "excluded.this_update >= cert_status.this_update)";
static const char notice_sql_node[] =
    "INSERT INTO nodes (fqdn, vip4, vip6, created) VALUES (:fqdn, :vip4, "
    ":vip6, :now) ON CONFLICT (fqdn) DO UPDATE SET vip4 = excluded.vip4, "
    "vip6 = excluded.vip6";
/* The issued pair is the name's assignment from now on (see vip.h). */
static const char notice_sql_assign[] =
    "INSERT INTO vip_assignments (fqdn, vip4, vip6, created) VALUES (:fqdn, "
    ":vip4, :vip6, :now) ON CONFLICT (fqdn) DO UPDATE SET "
    "vip4 = excluded.vip4, vip6 = excluded.vip6";
static const char notice_sql_key[] =
    "INSERT INTO ticket_keys (id, key, created, expires) VALUES (:keyid, "
    ":key, :now, :expires) ON CONFLICT (id) DO UPDATE SET "
    "key = excluded.key, expires = excluded.expires";
static const char notice_sql_cursor[] =
    "INSERT INTO notice_cursor (as_name, last_seq) VALUES (:as, :seq) "
    "ON CONFLICT (as_name) DO UPDATE SET last_seq = excluded.last_seq";

/* Other nodes holding the issued addresses: noted, then deleted. */
static int
notice_db_displace(sqlite3 *db, struct notice_item *it)
{
	static const char sql[] = "SELECT fqdn FROM nodes WHERE fqdn != :fqdn "
	    "AND (vip4 = :vip4 OR vip6 = :vip6)";
	sqlite3_stmt *st = NULL;
	int src, i;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	for (i = 1; i <= 3; i++) {
		const char *p = sqlite3_bind_parameter_name(st, i);
		const char *v = strcmp(p, ":fqdn") == 0 ? it->fqdn :
		    strcmp(p, ":vip4") == 0 ? it->vip4 : it->vip6;

		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW &&
	    it->ndisplaced < NOTICE_DISPLACED_MAX)
		snprintf(it->displaced[it->ndisplaced++], PROTO_FQDN_MAX + 1,
		    "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		return -EIO;
	if (notice_db_run(db, "DELETE FROM vip_assignments WHERE fqdn != :fqdn "
	    "AND (vip4 = :vip4 OR vip6 = :vip6)", it) < 0)
		return -EIO;
	return notice_db_run(db, "DELETE FROM nodes WHERE fqdn != :fqdn AND "
	    "(vip4 = :vip4 OR vip6 = :vip6)", it);
}

/* The notice and the cursor in one transaction (worker thread). */
static int
notice_db_apply(sqlite3 *db, struct notice_item *it)
{
	int rc = 0;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		log_warnx("notice: begin: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	switch (it->type) {
	case PROTO_MSG_NOTICE_ISSUED:
		rc = notice_db_run(db, notice_sql_status, it);
		/* The nodes table holds both addresses or none (schema). */
		it->ndisplaced = 0;
		if (rc == 0)
			rc = notice_db_displace(db, it);
		if (rc == 0 && it->vip4[0] != '\0' && it->vip6[0] != '\0')
			rc = notice_db_run(db, notice_sql_node, it);
		if (rc == 0 && it->vip4[0] != '\0' && it->vip6[0] != '\0')
			rc = notice_db_run(db, notice_sql_assign, it);
		break;
	case PROTO_MSG_NOTICE_REVOKED:
	case PROTO_MSG_NOTICE_STATUS:
		rc = notice_db_run(db, notice_sql_status, it);
		break;
	case PROTO_MSG_NOTICE_TICKET_KEY:
		if (!it->key_stale)
			rc = notice_db_run(db, notice_sql_key, it);
		break;
	default:
		rc = -EPROTO;
	}
	if (rc == 0)
		rc = notice_db_run(db, notice_sql_cursor, it);
	if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		log_warnx("notice: commit: %s", sqlite3_errmsg(db));
		rc = -EIO;
	}
	if (rc < 0)
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* ---- decoding ------------------------------------------------------------ */

static uint64_t *
notice_cursor_slot(struct notice *n, const char *as_name, bool create)
{
	size_t i;

	for (i = 0; i < n->ncursor; i++)
		if (strcmp(n->cursor[i].name, as_name) == 0)
			return &n->cursor[i].seq;
	if (!create || n->ncursor >= NOTICE_CURSORS_MAX)
		return NULL;
	snprintf(n->cursor[n->ncursor].name, sizeof(n->cursor[0].name), "%s",
	    as_name);
	n->cursor[n->ncursor].seq = 0;
	n->cursor[n->ncursor].failed = 0;
	return &n->cursor[n->ncursor++].seq;
}

/*
 * The seq of this AS's notice whose transaction failed and that has not
 * been applied since, or 0.  Until it is, later notices are held back (not
 * applied, not acknowledged): applying one would move the cursor past the
 * failed seq, and its resend would then be taken for a duplicate and lost.
 */
static uint64_t *
notice_failed_slot(struct notice *n, const char *as_name)
{
	size_t i;

	for (i = 0; i < n->ncursor; i++)
		if (strcmp(n->cursor[i].name, as_name) == 0)
			return &n->cursor[i].failed;
	return NULL;
}

static bool
notice_held_back(struct notice *n, const struct notice_item *it)
{
	uint64_t *failed;

	if (it->type == PROTO_MSG_VIP_REQUEST || it->duplicate ||
	    (failed = notice_failed_slot(n, it->as_name)) == NULL)
		return false;
	if (*failed == 0 || it->seq <= *failed)
		return false;
	n->stats.held_back++;
	log_info("notice %llu from %s: held back until notice %llu is "
	    "applied", (unsigned long long)it->seq, it->as_name,
	    (unsigned long long)*failed);
	return true;
}

uint64_t
notice_cursor(const struct notice *n, const char *as_name)
{
	uint64_t *s = notice_cursor_slot((struct notice *)n, as_name, false);

	return s != NULL ? *s : 0;
}

static int
notice_bytes(const struct msg *m, uint16_t type, void *out, size_t min,
    size_t cap, size_t *len)
{
	const struct msg_attr *a = msg_attr_find(m, type);

	if (a == NULL || a->len < min || a->len > cap)
		return -EBADMSG;
	memcpy(out, a->val, a->len);
	if (len != NULL)
		*len = a->len;
	return 0;
}

/*
 * The status: a DER OCSP response about it->serial, signed by the AS CA
 * (when known), not dated in the future beyond the skew.
 */
static int
notice_status(const struct notice *n, struct notice_item *it, time_t now)
{
	gnutls_ocsp_resp_t resp = NULL;
	gnutls_datum_t der = { it->der, (unsigned int)it->der_len };
	gnutls_datum_t serial = { NULL, 0 };
	unsigned int verify = 0, status = 0;
	time_t this_update, next_update, rtime;
	int rc = -EBADMSG;

	if (gnutls_ocsp_resp_init(&resp) < 0)
		return -ENOMEM;
	if (gnutls_ocsp_resp_import(resp, &der) < 0)
		goto out;
	if (n->as_ca != NULL && (gnutls_ocsp_resp_verify_direct(resp,
	    n->as_ca, &verify, 0) < 0 || verify != 0))
		goto out;
	if (gnutls_ocsp_resp_get_single(resp, 0, NULL, NULL, NULL, &serial,
	    &status, &this_update, &next_update, &rtime, NULL) < 0)
		goto out;
	if (serial.size != it->serial_len ||
	    memcmp(serial.data, it->serial, serial.size) != 0 ||
	    this_update > now + PROTO_TIMER_CLOCK_SKEW_S ||
	    next_update <= this_update)
		goto out;
	if (status != GNUTLS_OCSP_CERT_GOOD &&
	    status != GNUTLS_OCSP_CERT_REVOKED)
		goto out;
	it->this_update = this_update;
	it->next_update = next_update;
	it->revoked = status == GNUTLS_OCSP_CERT_REVOKED;
	rc = 0;
out:
	gnutls_free(serial.data);
	gnutls_ocsp_resp_deinit(resp);
	return rc;
}

static void
notice_item_free(struct notice_item *it)
{
	if (it == NULL)
		return;
	free(it->der);
	crypto_wipe(it->key, sizeof(it->key));
	free(it);
}

/* VIP_REQUEST {FQDN}: the name, lower-cased; no seq, no cursor. */
static int
notice_decode_vip(const struct msg *m, struct notice_item *it)
{
	const struct msg_attr *a;
	size_t i;

	if (m->hdr.status != PROTO_STATUS_OK ||
	    (a = msg_attr_find(m, PROTO_ATTR_FQDN)) == NULL || a->len == 0 ||
	    a->len > PROTO_FQDN_MAX || memchr(a->val, '\0', a->len) != NULL)
		return -EBADMSG;
	for (i = 0; i < a->len; i++)
		it->fqdn[i] = (char)(a->val[i] >= 'A' && a->val[i] <= 'Z' ?
		    a->val[i] - 'A' + 'a' : a->val[i]);
	it->fqdn[a->len] = '\0';
	return 0;
}

/* Loop thread: checks the frame and fills *it (decided: duplicate or not). */
static int
notice_decode(struct notice *n, const char *as_name, const uint8_t *p,
    size_t len, time_t now, struct notice_item *it)
{
	struct msg *m;
	const struct msg_attr *a;
	uint64_t *cur;
	uint8_t v[16];
	int rc;

	if ((m = malloc(sizeof(*m))) == NULL)
		return -ENOMEM;
	snprintf(it->as_name, sizeof(it->as_name), "%s", as_name);
	it->now = now;
	if ((rc = msg_decode(p, len, m)) < 0)
		goto out;
	it->type = m->hdr.type;
	it->txid = m->hdr.txid;
	if (it->type == PROTO_MSG_VIP_REQUEST) {
		rc = notice_decode_vip(m, it);
		goto out;
	}
	if (it->type != PROTO_MSG_NOTICE_ISSUED &&
	    it->type != PROTO_MSG_NOTICE_REVOKED &&
	    it->type != PROTO_MSG_NOTICE_STATUS &&
	    it->type != PROTO_MSG_NOTICE_TICKET_KEY) {
		rc = -EPROTO;
		goto out;
	}
	if ((rc = msg_attr_u64(m, PROTO_ATTR_NOTICE_SEQ, &it->seq)) < 0)
		goto out;
	rc = -EBADMSG;
	if (it->seq == 0 || (cur = notice_cursor_slot(n, as_name, true)) ==
	    NULL)
		goto out;
	if (it->seq <= *cur) {
		it->duplicate = true;
		rc = 0;
		goto out;
	}
	if (it->type == PROTO_MSG_NOTICE_TICKET_KEY) {
		if (msg_attr_u32(m, PROTO_ATTR_TICKET_KEY_ID,
		    &it->key_id) < 0 ||
		    msg_attr_u64(m, PROTO_ATTR_EXPIRY, &it->key_expiry) < 0 ||
		    notice_bytes(m, PROTO_ATTR_TICKET_KEY, it->key,
		    PROTO_KEY_LEN, PROTO_KEY_LEN, NULL) < 0)
			goto out;
		/*
		 * A key already expired (replayed after a long outage) is
		 * acknowledged and not kept: refusing it, or failing the
		 * schema's expires > created, would stall the AS's outbox.
		 */
		if (it->key_expiry > INT64_MAX)
			it->key_expiry = INT64_MAX;
		it->key_stale = it->key_expiry <= (uint64_t)now;
		rc = 0;
		goto out;
	}
	if (notice_bytes(m, PROTO_ATTR_SERIAL, it->serial, 1,
	    sizeof(it->serial), &it->serial_len) < 0)
		goto out;
	notice_hex(it->serial, it->serial_len, it->serial_hex);
	if ((a = msg_attr_find(m, PROTO_ATTR_FQDN)) != NULL) {
		if (a->len > PROTO_FQDN_MAX)
			goto out;
		memcpy(it->fqdn, a->val, a->len);
		it->fqdn[a->len] = '\0';
	} else if (it->type != PROTO_MSG_NOTICE_STATUS)
		goto out;
	if ((a = msg_attr_find(m, PROTO_ATTR_STATUS)) == NULL ||
	    (it->der = malloc(a->len)) == NULL)
		goto out;
	memcpy(it->der, a->val, a->len);
	it->der_len = a->len;
	if (notice_status(n, it, now) < 0)
		goto out;
	if (it->type == PROTO_MSG_NOTICE_REVOKED &&
	    msg_attr_u8(m, PROTO_ATTR_REASON, &it->reason) < 0)
		goto out;
	/* Each notice says what it is: no good status in a REVOKED. */
	if ((it->type == PROTO_MSG_NOTICE_REVOKED) != it->revoked &&
	    it->type != PROTO_MSG_NOTICE_STATUS)
		goto out;
	if (it->type == PROTO_MSG_NOTICE_STATUS && it->fqdn[0] == '\0') {
		/* A status for a certificate we never heard of is kept
		 * only with a name to find it by. */
		const struct notice_entry *e = notice_find_serial(n,
		    it->serial, it->serial_len);

		if (e == NULL)
			goto out;
		snprintf(it->fqdn, sizeof(it->fqdn), "%s", e->fqdn);
	}
	if (it->type == PROTO_MSG_NOTICE_ISSUED) {
		if ((a = msg_attr_find(m, PROTO_ATTR_CERT_HASH)) != NULL &&
		    a->len == PROTO_HASH_LEN)
			memcpy(it->hash, a->val, PROTO_HASH_LEN);
		else if ((a = msg_attr_find(m, PROTO_ATTR_CERT)) != NULL)
			crypto_sha256(it->hash, a->val, a->len);
		else
			goto out;
		it->has_hash = true;
		if (notice_bytes(m, PROTO_ATTR_VIP4, v, 4, 4, NULL) == 0)
			inet_ntop(AF_INET, v, it->vip4, sizeof(it->vip4));
		if (notice_bytes(m, PROTO_ATTR_VIP6, v, 16, 16, NULL) == 0)
			inet_ntop(AF_INET6, v, it->vip6, sizeof(it->vip6));
		if (it->vip4[0] == '\0' && it->vip6[0] == '\0')
			goto out;
	}
	rc = 0;
out:
	free(m);
	return rc;
}

/* The worker's part of one frame: a VIP assignment or a notice. */
static void
notice_work_item(struct notice *n, struct notice_item *it)
{
	if (it->type == PROTO_MSG_VIP_REQUEST) {
		it->vip_rc = vip_assign(n->db, &n->vip, it->fqdn, it->now,
		    &it->v4, &it->v6);
		it->rc = 0;
		return;
	}
	it->rc = notice_db_apply(n->db, it);
}

/* Loop thread: VIP_RESPONSE for an assignment (or its refusal). */
static void
notice_vip_answer(struct notice *n, struct notice_item *it, uint8_t *ack,
    size_t cap, size_t *acklen)
{
	char t4[VIP_TEXT_MAX], t6[VIP_TEXT_MAX];
	struct msg *m;
	int rc = it->rc < 0 ? -EIO : it->vip_rc, erc = 0;

	*acklen = 0;
	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	msg_init(m, PROTO_MSG_VIP_RESPONSE);
	m->hdr.txid = it->txid;
	erc |= msg_add_bytes(m, PROTO_ATTR_FQDN, it->fqdn, strlen(it->fqdn));
	switch (rc) {
	case 0:
		n->stats.vips++;
		erc |= msg_add_bytes(m, PROTO_ATTR_VIP4, &it->v4, 4);
		erc |= msg_add_bytes(m, PROTO_ATTR_VIP6, &it->v6, 16);
		inet_ntop(AF_INET, &it->v4, t4, sizeof(t4));
		inet_ntop(AF_INET6, &it->v6, t6, sizeof(t6));
		log_info("vip: %s for AS %s: %s %s", it->fqdn, it->as_name, t4,
		    t6);
		break;
	case -ENOENT:
		m->hdr.status = PROTO_STATUS_UNKNOWN_NODE;
		break;
	case -EADDRINUSE:
		m->hdr.status = PROTO_STATUS_ADDRESS_IN_USE;
		break;
	case -EINVAL:
		m->hdr.status = PROTO_STATUS_UNAVAILABLE;
		break;
	default:
		m->hdr.status = PROTO_STATUS_INTERNAL;
	}
	if (rc != 0) {
		n->stats.vips_refused++;
		log_info("vip: %s for AS %s: refused (%s)", it->fqdn,
		    it->as_name, msg_status_name(m->hdr.status));
	}
	if (erc != 0 || msg_encode(m, ack, cap, acklen) < 0)
		*acklen = 0;
	free(m);
}

/*
 * A renewal's revocation (reason superseded) while the node has another
 * good certificate: its registration (made with the newer certificate's
 * ticket) is not ended.
 */
static bool
notice_superseded(const struct notice *n, const struct notice_item *it)
{
	const struct notice_entry *e;

	if (it->type != PROTO_MSG_NOTICE_REVOKED ||
	    it->reason != NOTICE_REASON_SUPERSEDED || n->nbuckets == 0)
		return false;
	for (e = n->by_fqdn[notice_hash(it->fqdn, strlen(it->fqdn)) %
	    n->nbuckets]; e != NULL; e = e->next_fqdn)
		if (strcmp(e->fqdn, it->fqdn) == 0 && !e->revoked &&
		    (e->serial_len != it->serial_len ||
		    memcmp(e->serial, it->serial, e->serial_len) != 0))
			return true;
	return false;
}

/* Loop thread, after the transaction: memory, hooks, the ack to send. */
static void
notice_commit(struct notice *n, struct notice_item *it, uint8_t *ack,
    size_t cap, size_t *acklen)
{
	struct msg m;
	uint64_t *cur = notice_cursor_slot(n, it->as_name, true), *failed;
	size_t i;

	*acklen = 0;
	if (it->type == PROTO_MSG_VIP_REQUEST) {
		notice_vip_answer(n, it, ack, cap, acklen);
		return;
	}
	failed = notice_failed_slot(n, it->as_name);
	if (it->duplicate)
		n->stats.duplicates++;
	else if (it->rc < 0) {
		n->stats.db_errors++;
		if (failed != NULL && (*failed == 0 || it->seq < *failed))
			*failed = it->seq;
		return;			/* not acknowledged: resent */
	} else {
		n->stats.applied++;
		if (cur != NULL)
			*cur = it->seq;
		if (failed != NULL && *failed != 0 && it->seq >= *failed)
			*failed = 0;
		if (it->type == PROTO_MSG_NOTICE_TICKET_KEY && it->key_stale)
			log_info("notice %llu: ticket key %08x expired before "
			    "it arrived, not used", (unsigned long long)it->seq,
			    it->key_id);
		else if (it->type == PROTO_MSG_NOTICE_TICKET_KEY) {
			log_info("notice %llu: ticket key %08x",
			    (unsigned long long)it->seq, it->key_id);
			if (n->hooks.ticket_key != NULL)
				n->hooks.ticket_key(n->hooks.arg, it->key_id,
				    it->key);
		} else {
			if (notice_store_put(n, it->serial, it->serial_len,
			    it->fqdn, it->has_hash ? it->hash : NULL, it->der,
			    it->der_len, it->this_update, it->revoked) < 0)
				log_warnx("notice %llu: out of memory",
				    (unsigned long long)it->seq);
			log_info("notice %llu: %s %s serial %s",
			    (unsigned long long)it->seq,
			    msg_type_name(it->type), it->fqdn, it->serial_hex);
			for (i = 0; i < it->ndisplaced &&
			    n->hooks.node_remove != NULL; i++) {
				log_info("notice %llu: %s's addresses now "
				    "belong to %s", (unsigned long long)it->seq,
				    it->displaced[i], it->fqdn);
				n->hooks.node_remove(n->hooks.arg,
				    it->displaced[i]);
			}
			if (it->type == PROTO_MSG_NOTICE_ISSUED &&
			    n->hooks.node_set != NULL)
				(void)n->hooks.node_set(n->hooks.arg, it->fqdn,
				    it->vip4[0] != '\0' ? it->vip4 : NULL,
				    it->vip6[0] != '\0' ? it->vip6 : NULL);
			if (it->revoked && notice_superseded(n, it))
				log_info("notice %llu: %s serial %s superseded; "
				    "the node holds a newer certificate and "
				    "stays registered",
				    (unsigned long long)it->seq, it->fqdn,
				    it->serial_hex);
			else if (it->revoked && n->hooks.revoked != NULL)
				n->hooks.revoked(n->hooks.arg, it->fqdn);
		}
	}
	msg_init(&m, PROTO_MSG_NOTICE_ACK);
	m.hdr.txid = it->txid;
	if (cur == NULL || msg_add_u64(&m, PROTO_ATTR_NOTICE_SEQ, *cur) < 0 ||
	    msg_encode(&m, ack, cap, acklen) < 0)
		*acklen = 0;
}

int
notice_input(struct notice *n, const char *as_name, const uint8_t *p,
    size_t len, time_t now, uint8_t *ack, size_t cap, size_t *acklen)
{
	struct notice_item *it;
	int rc;

	*acklen = 0;
	n->stats.received++;
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return -ENOMEM;
	if ((rc = notice_decode(n, as_name, p, len, now, it)) < 0) {
		n->stats.refused++;
		notice_item_free(it);
		return rc;
	}
	if (notice_held_back(n, it)) {
		notice_item_free(it);
		return -EAGAIN;
	}
	if (!it->duplicate)
		notice_work_item(n, it);
	notice_commit(n, it, ack, cap, acklen);
	rc = it->duplicate ? 1 : it->rc;
	notice_item_free(it);
	return rc;
}

int
notice_new(struct notice **out, const char *db_path, gnutls_x509_crt_t as_ca,
    const struct notice_hooks *hooks)
{
	struct notice *n;

	*out = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return -ENOMEM;
	n->as_ca = as_ca;
	if (hooks != NULL)
		n->hooks = *hooks;
	if (notice_grow(n) < 0) {
		notice_free(n);
		return -ENOMEM;
	}
	if (sqlite3_open_v2(db_path, &n->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		log_warnx("notice: %s: %s", db_path, n->db != NULL ?
		    sqlite3_errmsg(n->db) : "cannot open");
		notice_free(n);
		return -EIO;
	}
	sqlite3_busy_timeout(n->db, 5000);
	(void)sqlite3_exec(n->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	if (notice_db_load(n) < 0) {
		notice_free(n);
		return -EIO;
	}
	*out = n;
	return 0;
}

void
notice_free(struct notice *n)
{
	struct notice_entry *e, *next;
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nbuckets; i++)
		for (e = n->by_serial[i]; e != NULL; e = next) {
			next = e->next_serial;
			free(e->der);
			free(e);
		}
	free(n->by_serial);
	free(n->by_fqdn);
	sqlite3_close(n->db);
	free(n);
}

void
notice_set_vip(struct notice *n, const struct vip_config *vc)
{
	n->vip = *vc;
}

const struct notice_stats *
notice_stats(const struct notice *n)
{
	return &n->stats;
}

/* ---- the TLS listener ---------------------------------------------------- */

struct notice_server {
	uv_loop_t		*loop;
	struct notice		*n;		/* borrowed */
	struct tls_listener	*lis[NOTICE_LISTEN_MAX];
	size_t			 nlis;
	struct tls_expect	 expect;
	struct tls_expect	 expect_dc;
	notice_dc_fn		 dc_fn;
	notice_dc_closed_fn	 dc_closed;
	void			*dc_arg;
	/* Frames in arrival order; the head is on the worker. */
	struct notice_item	*head, *tail;
	size_t			 queued;
	uv_work_t		 work;
	bool			 working;
	bool			 closing;
};

static void	notice_server_next(struct notice_server *);

static void
notice_work(uv_work_t *w)
{
	struct notice_server *s = w->data;

	notice_work_item(s->n, s->head);
}

static void
notice_work_done(uv_work_t *w, int status)
{
	struct notice_server *s = w->data;
	struct notice_item *it = s->head;
	uint8_t ack[NOTICE_ACK_MAX];
	size_t acklen;

	s->working = false;
	s->head = it->next;
	if (s->head == NULL)
		s->tail = NULL;
	s->queued--;
	if (status < 0)
		it->rc = -EIO;
	notice_commit(s->n, it, ack, sizeof(ack), &acklen);
	if (acklen > 0 && it->conn != NULL)
		(void)tls_send(it->conn, ack, acklen);
	notice_item_free(it);
	notice_server_next(s);
}

/* Starts the worker on the oldest frame; duplicates are answered here. */
static void
notice_server_next(struct notice_server *s)
{
	struct notice_item *it;
	uint8_t ack[NOTICE_ACK_MAX];
	size_t acklen;
	bool held;

	while (!s->working && (it = s->head) != NULL) {
		held = !s->closing && notice_held_back(s->n, it);
		if (!it->duplicate && !s->closing && !held) {
			s->work.data = s;
			if (uv_queue_work(s->loop, &s->work, notice_work,
			    notice_work_done) == 0) {
				s->working = true;
				return;
			}
			it->rc = -EIO;
		}
		s->head = it->next;
		if (s->head == NULL)
			s->tail = NULL;
		s->queued--;
		if (!s->closing && !held) {
			notice_commit(s->n, it, ack, sizeof(ack), &acklen);
			if (acklen > 0 && it->conn != NULL)
				(void)tls_send(it->conn, ack, acklen);
		}
		notice_item_free(it);
	}
}

/* The AS; or, once federation is set, a DC. */
static int
notice_verify(void *ctx, const gnutls_x509_crt_t *chain, size_t n,
    time_t now)
{
	struct notice_server *s = ctx;
	int rc;

	if ((rc = tls_verify_cert(&s->expect, chain, n, now)) == 0 ||
	    s->dc_fn == NULL)
		return rc;
	return tls_verify_cert(&s->expect_dc, chain, n, now);
}

void
notice_server_set_dc(struct notice_server *s, notice_dc_fn fn,
    notice_dc_closed_fn closed, void *arg)
{
	s->dc_fn = fn;
	s->dc_closed = closed;
	s->dc_arg = arg;
}

static void
notice_dc_frame(struct notice_server *s, struct tls_conn *c,
    const struct tls_peer *peer, const uint8_t *p, size_t len)
{
	uint8_t *out;
	size_t outlen = 0;
	int rc;

	if ((out = malloc(PROTO_TLS_MESSAGE_MAX)) == NULL) {
		tls_close(c);
		return;
	}
	if ((rc = s->dc_fn(s->dc_arg, c, peer, p, len, out,
	    PROTO_TLS_MESSAGE_MAX, &outlen)) < 0) {
		log_warnx("dc peer %s (%s): bad request: %s, closing",
		    peer->fqdn, peer->addr, msg_strerror(rc));
		tls_close(c);
	} else if (outlen > 0)
		(void)tls_send(c, out, outlen);
	free(out);
}

static void
notice_on_frame(struct tls_conn *c, const uint8_t *p, size_t len, void *arg)
{
	struct notice_server *s = arg;
	const struct tls_peer *peer = tls_conn_peer(c);
	struct notice_item *it, *q;
	int rc;

	if (peer->role == CERT_ROLE_DC && s->dc_fn != NULL) {
		notice_dc_frame(s, c, peer, p, len);
		return;
	}
	s->n->stats.received++;
	if (s->queued >= NOTICE_QUEUE_MAX ||
	    (it = calloc(1, sizeof(*it))) == NULL) {
		log_warnx("notice: %s: queue full, closing", peer->addr);
		tls_close(c);
		return;
	}
	/*
	 * A frame decided a duplicate against the cursor while an earlier
	 * one is still on the worker would be judged too early; the seq
	 * check is repeated in order when the queue drains (commit uses the
	 * cursor then), and the AS never sends a seq twice in one stream.
	 */
	if ((rc = notice_decode(s->n, peer->fqdn, p, len, time(NULL),
	    it)) < 0) {
		s->n->stats.refused++;
		log_warnx("notice: %s (%s): refused: %s, closing", peer->fqdn,
		    peer->addr, rc == -EPROTO ? "not a notice" :
		    rc == -EBADMSG ? "bad or missing attribute or status" :
		    msg_strerror(rc));
		notice_item_free(it);
		tls_close(c);
		return;
	}
	for (q = s->head; q != NULL &&
	    it->type != PROTO_MSG_VIP_REQUEST; q = q->next)
		if (!it->duplicate && q->seq >= it->seq &&
		    strcmp(q->as_name, it->as_name) == 0)
			it->duplicate = true;
	it->conn = c;
	if (s->tail != NULL)
		s->tail->next = it;
	else
		s->head = it;
	s->tail = it;
	s->queued++;
	notice_server_next(s);
}

static void
notice_on_connected(struct tls_conn *c, const struct tls_peer *peer,
    void *arg)
{
	struct notice_server *s = arg;

	(void)c;
	if (peer->role == CERT_ROLE_DC) {
		log_info("federation: DC %s connected from %s", peer->fqdn,
		    peer->addr);
		return;
	}
	log_info("notice: AS %s connected from %s (cursor %llu)", peer->fqdn,
	    peer->addr, (unsigned long long)notice_cursor(s->n, peer->fqdn));
}

static void
notice_on_closed(struct tls_conn *c, int reason, void *arg)
{
	struct notice_server *s = arg;
	struct notice_item *it;

	for (it = s->head; it != NULL; it = it->next)
		if (it->conn == c)
			it->conn = NULL;
	if (s->dc_closed != NULL)
		s->dc_closed(s->dc_arg, c);
	if (reason != 0)
		log_info("notice: connection closed: %s", tls_strerror(reason));
}

int
notice_listen(struct notice_server **out, uv_loop_t *loop, struct notice *n,
    struct tls_creds *creds, const struct sockaddr_storage *listen,
    size_t nlisten)
{
	struct notice_server *s;
	struct tls_config cfg;
	char text[LOOP_ADDRSTRLEN];
	size_t i;
	int rc;

	*out = NULL;
	if (nlisten > sizeof(s->lis) / sizeof(s->lis[0]))
		return -EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->loop = loop;
	s->n = n;
	s->expect.trust = tls_creds_trust(creds);
	s->expect.intermediate = tls_creds_issuer(creds);
	s->expect.role = CERT_ROLE_AS;
	s->expect_dc = s->expect;
	s->expect_dc.role = CERT_ROLE_DC;
	memset(&cfg, 0, sizeof(cfg));
	cfg.creds = creds;
	cfg.verify = notice_verify;
	cfg.verify_ctx = s;
	cfg.client_auth = TLS_CLIENT_AUTH_REQUIRE;
	cfg.framing = TLS_FRAMING_MSG;
	cfg.name = "notice";
	cfg.on_connected = notice_on_connected;
	cfg.on_frame = notice_on_frame;
	cfg.on_closed = notice_on_closed;
	cfg.arg = s;
	for (i = 0; i < nlisten; i++) {
		(void)loop_addr_format((const struct sockaddr *)&listen[i],
		    text, sizeof(text));
		if ((rc = tls_listen(loop, &cfg, (const struct sockaddr *)
		    &listen[i], &s->lis[s->nlis])) < 0) {
			log_warnx("notice: %s: %s", text, tls_strerror(rc));
			notice_close(s);
			*out = s;	/* closed; freed after the loop */
			return rc;
		}
		s->nlis++;
		log_info("notice: AS notices on %s", text);
	}
	*out = s;
	return 0;
}

void
notice_close(struct notice_server *s)
{
	size_t i;

	if (s == NULL || s->closing)
		return;
	s->closing = true;
	for (i = 0; i < s->nlis; i++)
		tls_listener_free(s->lis[i]);
	s->nlis = 0;
	/* Not yet applied: the AS sends them again. */
	notice_server_next(s);
}

void
notice_server_free(struct notice_server *s)
{
	if (s == NULL)
		return;
	notice_close(s);
	free(s);
}
