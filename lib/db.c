/* db.c -- SQLite helper: open in WAL mode, forward migrations, statement wrappers. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"

struct db {
	sqlite3	*h;
	char	*path;
};

static const char db_version_table[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY,"	/* one row per applied migration */
    " name TEXT NOT NULL,"		/* the schema's name, e.g. "as" */
    " applied INTEGER NOT NULL)";	/* unix seconds */

int
db_errno(int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_ROWID:
		return -EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return -ENOENT;
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
	case SQLITE_CONSTRAINT_DATATYPE:
		return -EINVAL;
	case SQLITE_CONSTRAINT_TRIGGER:
		return -EPERM;
	}
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
	case SQLITE_MISMATCH:
		return -ERANGE;
	default:
		return -EIO;
	}
}

static const char *
db_name_of(sqlite3 *h)
{
	const char *name;

	name = h == NULL ? NULL : sqlite3_db_filename(h, "main");
	return name == NULL || *name == '\0' ? "(memory)" : name;
}

/* Logs the connection's last error once and returns it as a negative errno. */
static int
db_fail(sqlite3 *h, int rc, const char *what)
{
	const char *msg = h == NULL ? sqlite3_errstr(rc) : sqlite3_errmsg(h);

	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		log_debug("db %s: %s: %s", db_name_of(h), what, msg);
	else
		log_warnx("db %s: %s: %s", db_name_of(h), what, msg);
	return db_errno(rc);
}

sqlite3 *
db_handle(struct db *db)
{
	return db->h;
}

const char *
db_path(const struct db *db)
{
	return db->path;
}

int
db_exec(struct db *db, const char *sql)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	if (msg == NULL)
		return db_fail(db->h, rc, "exec");
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		log_debug("db %s: %s", db->path, msg);
	else
		log_warnx("db %s: %s", db->path, msg);
	sqlite3_free(msg);
	return db_errno(rc);
}

int
db_begin(struct db *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int
db_commit(struct db *db)
{
	return db_exec(db, "COMMIT");
}

void
db_rollback(struct db *db)
{
	if (sqlite3_get_autocommit(db->h))
		return;	/* nothing open, or SQLite already rolled back */
	(void)db_exec(db, "ROLLBACK");
}

static int
db_vbind(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	const char *s;
	const void *p;
	size_t i, n, len;
	int64_t v;
	int rc = SQLITE_OK;

	n = fmt == NULL ? 0 : strlen(fmt);
	if ((int)n != sqlite3_bind_parameter_count(st)) {
		log_warnx("db: %zu values for %d parameters in \"%.60s\"",
		    n, sqlite3_bind_parameter_count(st), sqlite3_sql(st));
		return -EINVAL;
	}
	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		int idx = (int)i + 1;

		switch (fmt[i]) {
		case 't':
			s = va_arg(ap, const char *);
			rc = s == NULL ? sqlite3_bind_null(st, idx) :
			    sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
			break;
		case 'i':
			rc = sqlite3_bind_int(st, idx, va_arg(ap, int));
			break;
		case 'I':
			v = va_arg(ap, int64_t);
			rc = sqlite3_bind_int64(st, idx, v);
			break;
		case 'b':
			p = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			if (p == NULL)
				rc = sqlite3_bind_null(st, idx);
			else if (len > INT32_MAX)
				rc = SQLITE_TOOBIG;
			else
				rc = sqlite3_bind_blob(st, idx, p, (int)len,
				    SQLITE_TRANSIENT);
			break;
		default:
			log_warnx("db: bad bind format '%c' for \"%.60s\"",
			    fmt[i], sqlite3_sql(st));
			return -EINVAL;
		}
	}
	if (rc != SQLITE_OK)
		return db_fail(sqlite3_db_handle(st), rc, "bind");
	return 0;
}

int
db_bind(sqlite3_stmt *st, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = db_vbind(st, fmt, ap);
	va_end(ap);
	return r;
}

static int
db_vprepare(struct db *db, sqlite3_stmt **stp, const char *sql,
    const char *fmt, va_list ap)
{
	int rc, r;

	*stp = NULL;
	rc = sqlite3_prepare_v2(db->h, sql, -1, stp, NULL);
	if (rc != SQLITE_OK) {
		*stp = NULL;
		return db_fail(db->h, rc, "prepare");
	}
	if ((r = db_vbind(*stp, fmt, ap)) < 0) {
		sqlite3_finalize(*stp);
		*stp = NULL;
		return r;
	}
	return 0;
}

int
db_prepare(struct db *db, sqlite3_stmt **stp, const char *sql,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = db_vprepare(db, stp, sql, fmt, ap);
	va_end(ap);
	return r;
}

int
db_step(sqlite3_stmt *st)
{
	int rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	return db_fail(sqlite3_db_handle(st), rc, "step");
}

int
db_reset(sqlite3_stmt *st)
{
	int rc;

	/* sqlite3_reset repeats the last step's error; that one was logged. */
	rc = sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return db_errno(rc);
}

void
db_finalize(sqlite3_stmt *st)
{
	sqlite3_finalize(st);
}

int
db_run(struct db *db, int *changes, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = db_vprepare(db, &st, sql, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	r = db_step(st);
	db_finalize(st);
	if (r < 0)
		return r;
	if (changes != NULL)
		*changes = sqlite3_changes(db->h);
	return 0;
}

int
db_query_int64(struct db *db, int64_t *out, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = db_vprepare(db, &st, sql, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	r = db_step(st);
	if (r == DB_ROW)
		*out = sqlite3_column_int64(st, 0);
	db_finalize(st);
	return r;
}

const char *
db_col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return s == NULL ? "" : (const char *)s;
}

int64_t
db_col_int64(sqlite3_stmt *st, int col)
{
	return sqlite3_column_int64(st, col);
}

const void *
db_col_blob(sqlite3_stmt *st, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);

	*len = (size_t)sqlite3_column_bytes(st, col);
	return p;
}

bool
db_col_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL;
}

/* Versions must start at 1 or above and strictly increase. */
static int
db_schema_check(const struct db_schema *schema)
{
	size_t i;
	int prev = 0;

	if (schema == NULL || schema->name == NULL || schema->name[0] == '\0')
		return -EINVAL;
	for (i = 0; i < schema->count; i++) {
		if (schema->migrations[i].version <= prev ||
		    schema->migrations[i].sql == NULL)
			return -EINVAL;
		prev = schema->migrations[i].version;
	}
	return 0;
}

static int
db_schema_latest(const struct db_schema *schema)
{
	return schema->count == 0 ? 0 :
	    schema->migrations[schema->count - 1].version;
}

/*
 * Creates the file 0600 if it does not exist, so the database is never
 * readable by others even for a moment, and refuses an existing one that is.
 */
static int
db_file_prepare(const char *path)
{
	struct stat sb;
	int fd, r = 0;

	/*
	 * An existing file is only looked at, never opened: closing any
	 * descriptor of a file drops every POSIX lock this process holds on
	 * it, including SQLite's on connections already open (and then
	 * another process's last close may remove the WAL under them).
	 * Only an absent file is created, exclusively, with mode 0600.
	 */
	if (lstat(path, &sb) == -1) {
		if (errno != ENOENT) {
			r = -errno;
			log_warn("db %s: lstat", path);
			return r;
		}
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd == -1 && errno != EEXIST) {
			r = -errno;
			log_warn("db %s: create", path);
			return r;
		}
		if (fd != -1)
			close(fd);
		if (lstat(path, &sb) == -1) {
			r = -errno;
			log_warn("db %s: lstat", path);
			return r;
		}
	}
	if (!S_ISREG(sb.st_mode)) {
		log_warnx("db %s: not a regular file", path);
		r = -EINVAL;
	} else if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		log_warnx("db %s: mode %04o gives access to group or others; "
		    "refusing (chmod 600 it)", path,
		    (unsigned)(sb.st_mode & 07777));
		r = -EPERM;
	}
	return r;
}

static int
db_pragmas(struct db *db)
{
	sqlite3_stmt *st;
	int64_t fk = 0;
	int r;

	/* journal_mode answers with the mode in effect; check that it took. */
	if ((r = db_prepare(db, &st, "PRAGMA journal_mode=WAL", NULL)) < 0)
		return r;
	r = db_step(st);
	if (r == DB_ROW && strcmp(db_col_text(st, 0), "wal") != 0) {
		log_warnx("db %s: journal_mode is %s, WAL refused",
		    db->path, db_col_text(st, 0));
		r = -ENOTSUP;
	}
	db_finalize(st);
	if (r < 0)
		return r;
	if ((r = db_exec(db, "PRAGMA synchronous=FULL;"
	    "PRAGMA foreign_keys=ON")) < 0)
		return r;
	r = db_query_int64(db, &fk, "PRAGMA foreign_keys", NULL);
	if (r < 0)
		return r;
	if (fk != 1) {
		log_warnx("db %s: SQLite built without foreign keys", db->path);
		return -ENOTSUP;
	}
	return 0;
}

/* The stored version (0 for a new database) and the schema it belongs to. */
static int
db_stored(struct db *db, int *version, const struct db_schema *schema)
{
	sqlite3_stmt *st;
	int r;

	*version = 0;
	r = db_prepare(db, &st, "SELECT version, name FROM schema_version "
	    "ORDER BY version DESC LIMIT 1", NULL);
	if (r < 0)
		return r;
	r = db_step(st);
	if (r == DB_ROW) {
		if (strcmp(db_col_text(st, 1), schema->name) != 0) {
			log_warnx("db %s: holds the \"%s\" schema, not \"%s\"",
			    db->path, db_col_text(st, 1), schema->name);
			r = -EINVAL;
		} else if (db_col_int64(st, 0) > INT32_MAX) {
			r = -ERANGE;
		} else
			*version = (int)db_col_int64(st, 0);
	}
	db_finalize(st);
	return r < 0 ? r : 0;
}

static int
db_migrate(struct db *db, const struct db_schema *schema)
{
	const struct db_migration *m;
	size_t i;
	int r, version;

	if ((r = db_exec(db, db_version_table)) < 0)
		return r;
	if ((r = db_stored(db, &version, schema)) < 0)
		return r;
	if (version > db_schema_latest(schema)) {
		log_warnx("db %s: schema \"%s\" version %d is newer than this "
		    "program's %d; refusing to use it (upgrade ntmobile)",
		    db->path, schema->name, version,
		    db_schema_latest(schema));
		return -ENOTSUP;
	}
	for (i = 0; i < schema->count; i++) {
		m = &schema->migrations[i];
		if (m->version <= version)
			continue;
		if ((r = db_begin(db)) < 0)
			return r;
		/* Another process may have migrated since we looked. */
		if ((r = db_stored(db, &version, schema)) < 0)
			goto fail;
		if (m->version <= version) {
			db_rollback(db);
			continue;
		}
		if ((r = db_exec(db, m->sql)) < 0) {
			log_warnx("db %s: schema \"%s\" migration %d failed",
			    db->path, schema->name, m->version);
			goto fail;
		}
		r = db_run(db, NULL, "INSERT INTO schema_version "
		    "(version, name, applied) "
		    "VALUES (?, ?, CAST(strftime('%s', 'now') AS INTEGER))",
		    "it", m->version, schema->name);
		if (r < 0)
			goto fail;
		if ((r = db_commit(db)) < 0)
			goto fail;
		log_info("db %s: schema \"%s\" at version %d", db->path,
		    schema->name, m->version);
		version = m->version;
	}
	return 0;
fail:
	db_rollback(db);
	return r;
}

int
db_open(const char *path, const struct db_schema *schema, struct db **dbp)
{
	struct db *db = NULL;
	int rc, r;

	*dbp = NULL;
	if (db_schema_check(schema) < 0) {
		log_warnx("db %s: malformed schema definition", path);
		return -EINVAL;
	}
	if ((r = db_file_prepare(path)) < 0)
		return r;
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		free(db);
		return -ENOMEM;
	}
	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		log_warnx("db %s: %s", path, db->h ? sqlite3_errmsg(db->h) :
		    sqlite3_errstr(rc));
		r = db_errno(rc);
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
	if ((r = db_pragmas(db)) < 0)
		goto fail;
	if ((r = db_migrate(db, schema)) < 0)
		goto fail;
	*dbp = db;
	return 0;
fail:
	db_close(db);
	return r;
}

int
db_version(struct db *db)
{
	int64_t v = 0;
	int r;

	r = db_query_int64(db, &v,
	    "SELECT coalesce(max(version), 0) FROM schema_version", NULL);
	if (r < 0)
		return r;
	return v > INT32_MAX ? -ERANGE : (int)v;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->h != NULL && sqlite3_close(db->h) != SQLITE_OK)
		log_warnx("db %s: close: %s (statements left open)",
		    db->path, sqlite3_errmsg(db->h));
	free(db->path);
	free(db);
}
