/* outbox.c -- AS notices to DCs: a durable outbox with per-DC cursors and a sans-I/O delivery window. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "outbox.h"

static const char *const outbox_kinds[] = {
	[OUTBOX_KIND_ISSUED] = "issued",
	[OUTBOX_KIND_REVOKED] = "revoked",
	[OUTBOX_KIND_STATUS] = "status",
	[OUTBOX_KIND_TICKET_KEY] = "ticket_key",
};

const char *
outbox_kind_name(enum outbox_kind kind)
{
	if (kind <= OUTBOX_KIND_INVALID || kind > OUTBOX_KIND_TICKET_KEY)
		return NULL;
	return outbox_kinds[kind];
}

static enum outbox_kind
outbox_kind_parse(const char *name)
{
	int k;

	for (k = OUTBOX_KIND_ISSUED; k <= OUTBOX_KIND_TICKET_KEY; k++)
		if (strcmp(outbox_kinds[k], name) == 0)
			return (enum outbox_kind)k;
	return OUTBOX_KIND_INVALID;
}

bool
outbox_dc_valid(const char *dc)
{
	size_t i;

	if (dc == NULL || dc[0] == '\0')
		return false;
	if (!((dc[0] >= 'a' && dc[0] <= 'z') || (dc[0] >= '0' && dc[0] <= '9')))
		return false;
	for (i = 0; dc[i] != '\0'; i++) {
		char c = dc[i];

		if (i >= OUTBOX_DC_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.'))
			return false;
	}
	return true;
}

static bool
outbox_serial_valid(const char *serial)
{
	size_t i;

	if (serial == NULL)
		return false;
	for (i = 0; i < OUTBOX_SERIAL_LEN; i++)
		if (!((serial[i] >= '0' && serial[i] <= '9') ||
		    (serial[i] >= 'a' && serial[i] <= 'f')))
			return false;
	return serial[i] == '\0';
}

/* 0 when `dc` has a cursor row, -ENOENT when not. */
static int
outbox_dc_known(struct db *db, const char *dc)
{
	int64_t v;
	int r;

	r = db_query_int64(db, &v, "SELECT 1 FROM dc_cursors WHERE dc = ?",
	    "t", dc);
	if (r < 0)
		return r;
	return r == DB_ROW ? 0 : -ENOENT;
}

int
outbox_dc_add(struct db *db, const char *dc)
{
	int r;

	if (!outbox_dc_valid(dc))
		return -EINVAL;
	r = db_run(db, NULL, "INSERT INTO dc_cursors (dc, acked_seq) "
	    "VALUES (?, 0)", "t", dc);
	if (r == 0)
		log_info("outbox: DC %s registered", dc);
	return r;
}

int
outbox_dc_remove(struct db *db, const char *dc)
{
	int changes = 0, r;

	if (!outbox_dc_valid(dc))
		return -EINVAL;
	if ((r = db_begin(db)) < 0)
		return r;
	if ((r = db_run(db, &changes, "DELETE FROM dc_cursors WHERE dc = ?",
	    "t", dc)) < 0)
		goto fail;
	if (changes == 0) {
		r = -ENOENT;
		goto fail;
	}
	if ((r = db_run(db, NULL, "DELETE FROM notice_outbox WHERE dc = ?",
	    "t", dc)) < 0)
		goto fail;
	if ((r = db_commit(db)) < 0)
		goto fail;
	log_info("outbox: DC %s forgotten", dc);
	return 0;
fail:
	db_rollback(db);
	return r;
}

int
outbox_add(struct db *db, const char *dc, enum outbox_kind kind,
    const char *serial, const void *payload, size_t len, time_t now,
    uint64_t *seq)
{
	const char *name = outbox_kind_name(kind);
	int r;

	if (dc == NULL || name == NULL || !outbox_serial_valid(serial) ||
	    payload == NULL || len == 0)
		return -EINVAL;
	if (len > OUTBOX_PAYLOAD_MAX)
		return -EMSGSIZE;
	if (strcmp(dc, OUTBOX_ALL) != 0) {
		if (!outbox_dc_valid(dc))
			return -EINVAL;
		if ((r = outbox_dc_known(db, dc)) < 0) {
			if (r == -ENOENT)
				log_warnx("outbox: %s notice for %s to "
				    "unknown DC %s", name, serial, dc);
			return r;
		}
	}
	r = db_run(db, NULL, "INSERT INTO notice_outbox "
	    "(dc, kind, serial, payload, created) VALUES (?, ?, ?, ?, ?)",
	    "tttbI", dc, name, serial, payload, len, (int64_t)now);
	if (r < 0)
		return r;
	if (seq != NULL)
		*seq = (uint64_t)sqlite3_last_insert_rowid(db_handle(db));
	return 0;
}

/*
 * Both halves walk notice_outbox_by_dc in seq order and SQLite merges them,
 * so a long backlog is never sorted as a whole.
 */
static const char outbox_pending_sql[] =
    "SELECT seq, dc, kind, serial, payload, created FROM notice_outbox "
    "WHERE dc = ?1 AND seq > ?2 "
    "UNION ALL "
    "SELECT seq, dc, kind, serial, payload, created FROM notice_outbox "
    "WHERE dc = '" OUTBOX_ALL "' AND seq > ?2 "
    "ORDER BY seq LIMIT ?3";

int
outbox_pending(struct db *db, const char *dc, uint64_t after_seq,
    size_t max, outbox_cb cb, void *arg)
{
	struct outbox_notice n;
	sqlite3_stmt *st;
	bool stopped = false;
	int count = 0, r;

	if (!outbox_dc_valid(dc) || cb == NULL || after_seq > INT64_MAX)
		return -EINVAL;
	if (max == 0)
		return 0;
	if (max > INT32_MAX)
		max = INT32_MAX;
	if ((r = outbox_dc_known(db, dc)) < 0)
		return r;
	r = db_prepare(db, &st, outbox_pending_sql, "tIi", dc,
	    (int64_t)after_seq, (int)max);
	if (r < 0)
		return r;
	while ((r = db_step(st)) == DB_ROW) {
		n.seq = (uint64_t)db_col_int64(st, 0);
		n.dc = db_col_text(st, 1);
		n.kind = outbox_kind_parse(db_col_text(st, 2));
		n.serial = db_col_text(st, 3);
		n.payload = db_col_blob(st, 4, &n.len);
		n.created = db_col_int64(st, 5);
		if (n.kind == OUTBOX_KIND_INVALID) {
			r = -EBADMSG;	/* the schema's CHECK forbids it */
			stopped = true;
			break;
		}
		if ((r = cb(&n, arg)) != 0) {
			stopped = true;
			break;
		}
		count++;
	}
	db_finalize(st);
	if (stopped || r < 0)
		return r;
	return count;
}

int
outbox_cursor(struct db *db, const char *dc, uint64_t *seq)
{
	int64_t v = 0;
	int r;

	if (!outbox_dc_valid(dc))
		return -EINVAL;
	r = db_query_int64(db, &v, "SELECT acked_seq FROM dc_cursors "
	    "WHERE dc = ?", "t", dc);
	if (r < 0)
		return r;
	if (r == DB_DONE)
		return -ENOENT;
	*seq = (uint64_t)v;
	return 0;
}

int
outbox_dcs(struct db *db, outbox_dc_cb cb, void *arg)
{
	sqlite3_stmt *st;
	bool stopped = false;
	int count = 0, r;

	if (cb == NULL)
		return -EINVAL;
	r = db_prepare(db, &st, "SELECT dc, acked_seq FROM dc_cursors "
	    "ORDER BY dc", NULL);
	if (r < 0)
		return r;
	while ((r = db_step(st)) == DB_ROW) {
		if ((r = cb(db_col_text(st, 0),
		    (uint64_t)db_col_int64(st, 1), arg)) != 0) {
			stopped = true;
			break;
		}
		count++;
	}
	db_finalize(st);
	if (stopped || r < 0)
		return r;
	return count;
}

int
outbox_ack(struct db *db, const char *dc, uint64_t seq)
{
	int64_t newest = 0;
	int changes = 0, r;

	if (!outbox_dc_valid(dc) || seq > INT64_MAX)
		return -EINVAL;
	/* sqlite_sequence keeps the newest seq issued, pruned or not. */
	r = db_query_int64(db, &newest, "SELECT coalesce(max(seq), 0) "
	    "FROM sqlite_sequence WHERE name = 'notice_outbox'", NULL);
	if (r < 0)
		return r;
	if ((int64_t)seq > newest) {
		log_warnx("outbox: DC %s acknowledged seq %llu, never issued "
		    "(newest %lld)", dc, (unsigned long long)seq,
		    (long long)newest);
		return -ERANGE;
	}
	r = db_run(db, &changes, "UPDATE dc_cursors SET acked_seq = ?1 "
	    "WHERE dc = ?2 AND acked_seq < ?1", "It", (int64_t)seq, dc);
	if (r < 0)
		return r;
	if (changes == 1)
		return 0;
	if ((r = outbox_dc_known(db, dc)) < 0)
		return r;
	log_debug("outbox: DC %s: ack %llu is not ahead of its cursor", dc,
	    (unsigned long long)seq);
	return -EALREADY;
}

int
outbox_prune(struct db *db, size_t *removed)
{
	int changes = 0, r;

	r = db_run(db, &changes, "DELETE FROM notice_outbox WHERE "
	    "(dc = '" OUTBOX_ALL "' AND EXISTS (SELECT 1 FROM dc_cursors) AND "
	    " seq <= (SELECT min(acked_seq) FROM dc_cursors)) OR "
	    "(dc <> '" OUTBOX_ALL "' AND seq <= coalesce((SELECT c.acked_seq "
	    " FROM dc_cursors AS c WHERE c.dc = notice_outbox.dc), -1))",
	    NULL);
	if (r < 0)
		return r;
	if (removed != NULL)
		*removed = (size_t)changes;
	if (changes > 0)
		log_debug("outbox: pruned %d acknowledged notices", changes);
	return 0;
}

/* ---- delivery window -------------------------------------------------- */

void
outbox_conn_init(struct outbox_conn *c, uint64_t cursor, unsigned int window,
    uint64_t ack_timeout_ms)
{
	memset(c, 0, sizeof(*c));
	if (window == 0)
		window = OUTBOX_WINDOW_DEFAULT;
	c->window = window > OUTBOX_WINDOW_MAX ? OUTBOX_WINDOW_MAX : window;
	c->ack_timeout_ms = ack_timeout_ms == 0 ? OUTBOX_ACK_TIMEOUT_MS :
	    ack_timeout_ms;
	c->acked = c->persisted = c->sent = cursor;
}

void
outbox_conn_connected(struct outbox_conn *c, uint64_t cursor)
{
	if (cursor > c->acked)
		c->acked = cursor;
	if (cursor > c->persisted)
		c->persisted = cursor;
	c->sent = c->acked;
	c->head = 0;
	c->inflight = 0;
	c->drained = false;
	c->connected = true;
}

void
outbox_conn_disconnected(struct outbox_conn *c)
{
	c->connected = false;
	c->inflight = 0;
	c->head = 0;
	c->sent = c->acked;
}

void
outbox_conn_kick(struct outbox_conn *c)
{
	c->gen++;
	c->drained = false;
}

void
outbox_conn_drained(struct outbox_conn *c, uint64_t gen)
{
	/* A kick after that fetch began may be for a notice it missed. */
	if (gen == c->gen)
		c->drained = true;
}

void
outbox_conn_next(const struct outbox_conn *c, uint64_t now,
    struct outbox_step *step)
{
	uint64_t due;

	memset(step, 0, sizeof(*step));
	if (!c->connected) {
		step->action = OUTBOX_ACT_IDLE;
		return;
	}
	if (c->inflight > 0) {
		due = c->flight[c->head].sent_at + c->ack_timeout_ms;
		if (now >= due) {
			step->action = OUTBOX_ACT_RESET;
			return;
		}
		step->deadline = due;
	}
	if (!c->drained && c->inflight < c->window) {
		step->action = OUTBOX_ACT_SEND;
		step->after_seq = c->sent;
		step->max = c->window - c->inflight;
		step->gen = c->gen;
		return;
	}
	step->action = c->inflight > 0 ? OUTBOX_ACT_WAIT : OUTBOX_ACT_IDLE;
}

int
outbox_conn_sent(struct outbox_conn *c, uint64_t seq, uint64_t now)
{
	if (!c->connected)
		return -ENOTCONN;
	if (c->inflight >= c->window)
		return -ENOBUFS;
	if (seq <= c->sent)
		return -EINVAL;
	c->flight[(c->head + c->inflight) % OUTBOX_WINDOW_MAX] =
	    (struct outbox_flight){ .seq = seq, .sent_at = now };
	c->inflight++;
	c->sent = seq;
	return 0;
}

int
outbox_conn_acked(struct outbox_conn *c, uint64_t seq)
{
	if (!c->connected)
		return -ENOTCONN;
	if (seq <= c->acked)
		return -EALREADY;
	if (seq > c->sent)
		return -ERANGE;
	c->acked = seq;
	while (c->inflight > 0 && c->flight[c->head].seq <= seq) {
		c->head = (c->head + 1) % OUTBOX_WINDOW_MAX;
		c->inflight--;
	}
	return 0;
}

bool
outbox_conn_persist(const struct outbox_conn *c, uint64_t *seq)
{
	if (c->acked <= c->persisted)
		return false;
	*seq = c->acked;
	return true;
}

void
outbox_conn_persisted(struct outbox_conn *c, uint64_t seq)
{
	if (seq > c->persisted)
		c->persisted = seq;
}
