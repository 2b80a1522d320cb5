/* tkey.c -- the ticket keys the AS shares with each DC: from a key file, or made, rotated and sent by the AS itself (NOTICE_TICKET_KEY). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "rand.h"
#include "tkey.h"

/* Newest first: shifts the others down (the oldest falls off). */
static int
tkey_push(struct tkey_dc *t, uint32_t id, const uint8_t key[PROTO_KEY_LEN],
    uint64_t seq, int64_t created)
{
	size_t i;
	int rv;

	if ((rv = ticket_keyring_add(&t->ring, id, key)) < 0)
		return rv;
	for (i = TICKET_KEYS_MAX - 1; i > 0; i--)
		t->k[i] = t->k[i - 1];
	t->k[0].id = id;
	t->k[0].seq = seq;
	t->k[0].created = created;
	if (t->n < TICKET_KEYS_MAX)
		t->n++;
	return 0;
}

int
tkey_init_file(struct tkey_dc *t, const char *dc, uint32_t id,
    const uint8_t key[PROTO_KEY_LEN])
{
	memset(t, 0, sizeof(*t));
	t->dc = dc;
	t->from_file = true;
	ticket_keyring_init(&t->ring);
	return tkey_push(t, id, key, 0, 0);
}

int
tkey_load(struct tkey_dc *t, struct db *db, const char *dc, time_t now)
{
	sqlite3_stmt *s = NULL;
	struct {
		uint32_t	 id;
		uint8_t		 key[PROTO_KEY_LEN];
		uint64_t	 seq;
		int64_t		 created;
	} row[TICKET_KEYS_MAX];
	const void *key;
	size_t n = 0, len;
	int rv;

	memset(t, 0, sizeof(*t));
	t->dc = dc;
	ticket_keyring_init(&t->ring);
	if ((rv = db_prepare(db, &s, "SELECT id, key, seq, created FROM "
	    "ticket_keys WHERE dc = ? AND expires > ? ORDER BY created DESC, "
	    "seq DESC LIMIT 2", "tI", dc, (int64_t)now)) < 0)
		return rv;
	while (n < TICKET_KEYS_MAX && (rv = db_step(s)) == DB_ROW) {
		if ((key = db_col_blob(s, 1, &len)) == NULL ||
		    len != PROTO_KEY_LEN)
			continue;
		row[n].id = (uint32_t)db_col_int64(s, 0);
		memcpy(row[n].key, key, PROTO_KEY_LEN);
		row[n].seq = (uint64_t)db_col_int64(s, 2);
		row[n].created = db_col_int64(s, 3);
		n++;
	}
	db_finalize(s);
	/* Oldest first, so the newest ends at k[0]. */
	while (rv >= 0 && n > 0) {
		n--;
		rv = tkey_push(t, row[n].id, row[n].key, row[n].seq,
		    row[n].created);
	}
	gnutls_memset(row, 0, sizeof(row));
	return rv < 0 ? rv : 0;
}

int
tkey_rotate(struct tkey_dc *t, struct db *db, struct ntm_rng *rng,
    time_t now, uint64_t rotate_s, uint64_t ticket_life_s)
{
	uint8_t key[PROTO_KEY_LEN], idb[4];
	char serial[TKEY_SERIAL_HEX + 1];
	uint64_t seq = 0;
	uint32_t id;
	size_t i;
	int rv;

	if (t->from_file || (t->n > 0 &&
	    (uint64_t)(now - t->k[0].created) < rotate_s &&
	    t->k[0].created <= (int64_t)now))
		return 0;
	do {
		if ((rv = rng_bytes(rng, idb, sizeof(idb))) < 0)
			return rv;
		id = load_be32(idb);
		for (i = 0; i < t->n && id != 0; i++)
			if (t->k[i].id == id)
				id = 0;
	} while (id == 0);
	if ((rv = rng_bytes(rng, key, sizeof(key))) < 0)
		return rv;
	snprintf(serial, sizeof(serial), "%024x%08x", 0u, id);
	if ((rv = db_begin(db)) < 0)
		goto out;
	if ((rv = outbox_add(db, t->dc, OUTBOX_KIND_TICKET_KEY, serial, idb,
	    sizeof(idb), now, &seq)) < 0 ||
	    (rv = db_run(db, NULL, "INSERT INTO ticket_keys (dc, id, key, "
	    "created, expires, seq) VALUES (?, ?, ?, ?, ?, ?)", "tIbIII",
	    t->dc, (int64_t)id, key, sizeof(key), (int64_t)now,
	    (int64_t)(now + rotate_s + ticket_life_s), (int64_t)seq)) < 0 ||
	    (rv = db_commit(db)) < 0) {
		db_rollback(db);
		goto out;
	}
	if ((rv = tkey_push(t, id, key, seq, now)) < 0)
		goto out;
	log_info("ticket key: dc %s: new key %08x (notice %llu), valid "
	    "until %lld", t->dc, id, (unsigned long long)seq,
	    (long long)(now + rotate_s + ticket_life_s));
	rv = 1;
out:
	gnutls_memset(key, 0, sizeof(key));
	return rv;
}

uint32_t
tkey_seal_id(const struct tkey_dc *t, struct db *db)
{
	uint64_t cursor = 0;
	size_t i;

	if (t->n == 0)
		return 0;
	if (t->from_file || outbox_cursor(db, t->dc, &cursor) < 0)
		return t->k[0].id;
	for (i = 0; i < t->n; i++)
		if (t->k[i].seq <= cursor)
			return t->k[i].id;
	return t->k[0].id;
}

void
tkey_clear(struct tkey_dc *t)
{
	if (t == NULL)
		return;
	ticket_keyring_clear(&t->ring);
	memset(t, 0, sizeof(*t));
}

int
tkey_notice_key(struct db *db, const char *dc, uint32_t id,
    uint8_t key[PROTO_KEY_LEN], uint64_t *expires)
{
	sqlite3_stmt *s = NULL;
	const void *k;
	size_t len;
	int rv;

	if ((rv = db_prepare(db, &s, "SELECT key, expires FROM ticket_keys "
	    "WHERE dc = ? AND id = ?", "tI", dc, (int64_t)id)) < 0)
		return rv;
	if ((rv = db_step(s)) == DB_ROW) {
		if ((k = db_col_blob(s, 0, &len)) != NULL &&
		    len == PROTO_KEY_LEN) {
			memcpy(key, k, PROTO_KEY_LEN);
			*expires = (uint64_t)db_col_int64(s, 1);
			rv = 0;
		} else
			rv = -EINVAL;
	} else if (rv == DB_DONE)
		rv = -ENOENT;
	db_finalize(s);
	return rv;
}
