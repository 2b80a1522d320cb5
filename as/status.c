/* status.c -- AS certificate status: signed OCSP responses refreshed at half-life, revocations, the CRL. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crl.h"
#include "db.h"
#include "log.h"
#include "ocsp.h"
#include "outbox.h"
#include "status.h"

static const char hexdigits[] = "0123456789abcdef";

int
status_serial_hex(const uint8_t *serial, size_t len, char *out, size_t outlen)
{
	size_t i;

	if (len == 0 || outlen < 2 * len + 1)
		return -ENOSPC;
	for (i = 0; i < len; i++) {
		out[2 * i] = hexdigits[serial[i] >> 4];
		out[2 * i + 1] = hexdigits[serial[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return 0;
}

static int
status_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
status_serial_parse(const char *hex, uint8_t *serial, size_t cap, size_t *len)
{
	size_t n, i;
	int hi, lo;

	if (hex == NULL || (n = strlen(hex)) == 0 || n % 2 != 0 ||
	    n / 2 > cap)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		if ((hi = status_hexval(hex[2 * i])) < 0 ||
		    (lo = status_hexval(hex[2 * i + 1])) < 0)
			return -EINVAL;
		serial[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

time_t
status_half_life(time_t this_update, time_t next_update)
{
	return this_update + (next_update - this_update) / 2;
}

static uint32_t
status_validity(const struct status_ctx *ctx)
{
	return ctx->validity == 0 ? STATUS_VALIDITY_DEFAULT : ctx->validity;
}

int
status_make(const struct status_ctx *ctx, const char *serial_hex, time_t now,
    gnutls_datum_t *der, struct ocsp_status *st)
{
	sqlite3_stmt *s = NULL;
	uint8_t serial[OCSP_SERIAL_MAX];
	size_t slen;
	int rv;

	der->data = NULL;
	der->size = 0;
	if ((rv = status_serial_parse(serial_hex, serial, sizeof(serial),
	    &slen)) < 0)
		return rv;
	memset(st, 0, sizeof(*st));
	st->status = OCSP_CERT_GOOD;
	st->produced_at = now;
	st->this_update = now;
	st->next_update = now + status_validity(ctx);
	if ((rv = db_prepare(ctx->db, &s, "SELECT reason, revoked_at FROM "
	    "revocations WHERE serial = ?", "t", serial_hex)) < 0)
		return rv;
	if ((rv = db_step(s)) < 0)
		goto out;
	if (rv == DB_ROW) {
		st->status = OCSP_CERT_REVOKED;
		st->reason = (enum ocsp_reason)db_col_int64(s, 0);
		st->revocation_time = (time_t)db_col_int64(s, 1);
	}
	rv = ocsp_sign(ctx->ocsp, ctx->key, serial, slen, st, der);
	if (rv < 0)
		log_warnx("status: signing the response of %s: %s", serial_hex,
		    ocsp_strerror(rv));
out:
	db_finalize(s);
	return rv < 0 ? rv : 0;
}

int
status_store(struct db *db, const char *serial_hex,
    const struct ocsp_status *st, const gnutls_datum_t *der)
{
	return db_run(db, NULL, "INSERT OR REPLACE INTO status_responses "
	    "(serial, this_update, next_update, der) VALUES (?, ?, ?, ?)",
	    "tIIb", serial_hex, (int64_t)st->this_update,
	    (int64_t)st->next_update, der->data, (size_t)der->size);
}

int
status_get(struct db *db, const char *serial_hex, gnutls_datum_t *der,
    time_t *this_update, time_t *next_update)
{
	sqlite3_stmt *s = NULL;
	const void *p;
	size_t len;
	int rv;

	der->data = NULL;
	der->size = 0;
	if ((rv = db_prepare(db, &s, "SELECT this_update, next_update, der "
	    "FROM status_responses WHERE serial = ?", "t", serial_hex)) < 0)
		return rv;
	if ((rv = db_step(s)) < 0)
		goto out;
	if (rv == DB_DONE) {
		rv = -ENOENT;
		goto out;
	}
	if (this_update != NULL)
		*this_update = (time_t)db_col_int64(s, 0);
	if (next_update != NULL)
		*next_update = (time_t)db_col_int64(s, 1);
	p = db_col_blob(s, 2, &len);
	if (len == 0 || (der->data = gnutls_malloc(len)) == NULL) {
		rv = -ENOMEM;
		goto out;
	}
	memcpy(der->data, p, len);
	der->size = (unsigned int)len;
	rv = 0;
out:
	db_finalize(s);
	return rv;
}

/* Signs, stores and queues one refreshed response, in one transaction. */
static int
status_refresh_one(const struct status_ctx *ctx, const char *serial,
    const char *dc, time_t now)
{
	gnutls_datum_t der = { NULL, 0 };
	struct ocsp_status st;
	int rv;

	if ((rv = status_make(ctx, serial, now, &der, &st)) < 0)
		return rv;
	if ((rv = db_begin(ctx->db)) < 0)
		goto out;
	if ((rv = status_store(ctx->db, serial, &st, &der)) < 0 ||
	    (rv = outbox_add(ctx->db, dc, OUTBOX_KIND_STATUS, serial,
	    der.data, der.size, now, NULL)) < 0) {
		db_rollback(ctx->db);
		goto out;
	}
	rv = db_commit(ctx->db);
out:
	gnutls_free(der.data);
	return rv;
}

/*
 * Live certificates whose response is missing or past its half-life.  The
 * list is read first and the statement finalized before any write.
 */
static const char status_due_sql[] =
    "SELECT c.serial, c.dc FROM certificates AS c "
    "LEFT JOIN status_responses AS s ON s.serial = c.serial "
    "WHERE c.not_after > ?1 "
    "AND NOT EXISTS (SELECT 1 FROM revocations AS r "
    "WHERE r.serial = c.serial) "
    "AND (s.serial IS NULL OR "
    "s.this_update + (s.next_update - s.this_update) / 2 <= ?1) "
    "ORDER BY c.serial LIMIT ?2";

struct status_due {
	char	serial[STATUS_SERIAL_HEX + 1];
	char	dc[OUTBOX_DC_MAX + 1];
};

int
status_refresh(const struct status_ctx *ctx, time_t now, size_t max)
{
	struct status_due *due = NULL;
	sqlite3_stmt *s = NULL;
	size_t n = 0, i;
	int rv;

	if (max == 0)
		max = STATUS_REFRESH_BATCH;
	if ((due = calloc(max, sizeof(*due))) == NULL)
		return -ENOMEM;
	if ((rv = db_prepare(ctx->db, &s, status_due_sql, "Ii",
	    (int64_t)now, (int)max)) < 0)
		goto out;
	while (n < max && (rv = db_step(s)) == DB_ROW) {
		snprintf(due[n].serial, sizeof(due[n].serial), "%s",
		    db_col_text(s, 0));
		snprintf(due[n].dc, sizeof(due[n].dc), "%s",
		    db_col_text(s, 1));
		n++;
	}
	db_finalize(s);
	s = NULL;
	if (rv < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((rv = status_refresh_one(ctx, due[i].serial, due[i].dc,
		    now)) < 0) {
			log_warnx("status: refreshing %s for %s: %s",
			    due[i].serial, due[i].dc, strerror(-rv));
			goto out;
		}
		log_debug("status: refreshed %s for %s", due[i].serial,
		    due[i].dc);
	}
	rv = (int)n;
out:
	db_finalize(s);
	free(due);
	return rv;
}

int
status_next_due(struct db *db, time_t now, time_t *when)
{
	sqlite3_stmt *s = NULL;
	int rv;

	if ((rv = db_prepare(db, &s,
	    "SELECT min(CASE WHEN s.serial IS NULL THEN ?1 ELSE "
	    "s.this_update + (s.next_update - s.this_update) / 2 END), "
	    "count(*) FROM certificates AS c "
	    "LEFT JOIN status_responses AS s ON s.serial = c.serial "
	    "WHERE c.not_after > ?1 AND NOT EXISTS (SELECT 1 FROM "
	    "revocations AS r WHERE r.serial = c.serial)", "I",
	    (int64_t)now)) < 0)
		return rv;
	if ((rv = db_step(s)) < 0)
		goto out;
	if (rv == DB_ROW && db_col_int64(s, 1) > 0) {
		*when = (time_t)db_col_int64(s, 0);
		rv = 1;
	} else
		rv = 0;
out:
	db_finalize(s);
	return rv;
}

int
status_is_revoked(struct db *db, const char *serial_hex)
{
	int64_t n = 0;
	int rv;

	if ((rv = db_query_int64(db, &n, "SELECT count(*) FROM revocations "
	    "WHERE serial = ?", "t", serial_hex)) < 0)
		return rv;
	return n > 0;
}

int
status_revoke(const struct status_ctx *ctx, const char *serial_hex,
    enum ocsp_reason reason, time_t now, uint64_t *seq)
{
	gnutls_datum_t der = { NULL, 0 };
	struct ocsp_status st;
	int64_t n = 0;
	int rv;

	if (reason > OCSP_REASON_AA_COMPROMISE || reason == 7)
		return -EINVAL;
	if ((rv = db_begin(ctx->db)) < 0)
		return rv;
	if ((rv = db_query_int64(ctx->db, &n, "SELECT count(*) FROM "
	    "certificates WHERE serial = ?", "t", serial_hex)) < 0)
		goto fail;
	if (n == 0) {
		rv = -ENOENT;
		goto fail;
	}
	if ((rv = status_is_revoked(ctx->db, serial_hex)) != 0) {
		if (rv > 0)
			rv = -EALREADY;
		goto fail;
	}
	if ((rv = db_run(ctx->db, NULL, "INSERT INTO revocations (serial, "
	    "reason, revoked_at) VALUES (?, ?, ?)", "tiI", serial_hex,
	    (int)reason, (int64_t)now)) < 0)
		goto fail;
	/* Signed inside the transaction: it reads the revocation row. */
	if ((rv = status_make(ctx, serial_hex, now, &der, &st)) < 0)
		goto fail;
	if ((rv = status_store(ctx->db, serial_hex, &st, &der)) < 0 ||
	    (rv = outbox_add(ctx->db, OUTBOX_ALL, OUTBOX_KIND_REVOKED,
	    serial_hex, der.data, der.size, now, seq)) < 0)
		goto fail;
	if ((rv = db_commit(ctx->db)) < 0)
		goto fail;
	gnutls_free(der.data);
	log_info("status: revoked %s (%s)", serial_hex,
	    ocsp_reason_name(reason));
	if ((rv = status_crl_write(ctx, now)) < 0)
		log_warnx("status: CRL not rewritten after revoking %s: %s",
		    serial_hex, strerror(-rv));
	return 0;
fail:
	db_rollback(ctx->db);
	gnutls_free(der.data);
	return rv;
}

int
status_revoke_fqdn(const struct status_ctx *ctx, const char *fqdn,
    enum ocsp_reason reason, time_t now)
{
	char (*serials)[STATUS_SERIAL_HEX + 1] = NULL;
	sqlite3_stmt *s = NULL;
	size_t n = 0, cap = 0, i;
	void *p;
	int rv;

	if ((rv = db_prepare(ctx->db, &s, "SELECT serial FROM certificates "
	    "AS c WHERE fqdn = ? AND not_after > ? AND NOT EXISTS (SELECT 1 "
	    "FROM revocations AS r WHERE r.serial = c.serial) "
	    "ORDER BY serial", "tI", fqdn, (int64_t)now)) < 0)
		return rv;
	while ((rv = db_step(s)) == DB_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			if ((p = realloc(serials, cap * sizeof(*serials))) ==
			    NULL) {
				rv = -ENOMEM;
				goto out;
			}
			serials = p;
		}
		snprintf(serials[n++], sizeof(serials[0]), "%s",
		    db_col_text(s, 0));
	}
	db_finalize(s);
	s = NULL;
	if (rv < 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((rv = status_revoke(ctx, serials[i], reason, now,
		    NULL)) < 0 && rv != -EALREADY)
			goto out;
	rv = (int)n;
out:
	db_finalize(s);
	free(serials);
	return rv;
}

int
status_crl_write(const struct status_ctx *ctx, time_t now)
{
	struct crl_entry *ent = NULL;
	gnutls_x509_crl_t crl = NULL;
	sqlite3_stmt *s = NULL;
	size_t n = 0, cap = 0;
	void *p;
	int rv;

	if (ctx->crl_path == NULL)
		return 0;
	if ((rv = db_prepare(ctx->db, &s, "SELECT r.serial, r.revoked_at "
	    "FROM revocations AS r JOIN certificates AS c "
	    "ON c.serial = r.serial WHERE c.not_after > ? "
	    "ORDER BY r.revoked_at, r.serial", "I", (int64_t)now)) < 0)
		return rv;
	while ((rv = db_step(s)) == DB_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((p = realloc(ent, cap * sizeof(*ent))) == NULL) {
				rv = -ENOMEM;
				goto out;
			}
			ent = p;
		}
		memset(&ent[n], 0, sizeof(ent[n]));
		if ((rv = status_serial_parse(db_col_text(s, 0),
		    ent[n].serial, sizeof(ent[n].serial),
		    &ent[n].serial_len)) < 0)
			goto out;
		ent[n].revoked_at = (time_t)db_col_int64(s, 1);
		n++;
	}
	db_finalize(s);
	s = NULL;
	if (rv < 0)
		goto out;
	if ((rv = crl_build(ent, n, ctx->issuer, ctx->key, (uint64_t)now, now,
	    now + STATUS_CRL_VALIDITY, &crl)) < 0)
		goto out;
	if ((rv = crl_write(ctx->crl_path, crl)) < 0)
		goto out;
	log_info("status: CRL with %zu entries written to %s", n,
	    ctx->crl_path);
out:
	if (crl != NULL)
		gnutls_x509_crl_deinit(crl);
	db_finalize(s);
	free(ent);
	return rv;
}
