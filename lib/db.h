/* db.h -- SQLite helper: WAL databases with versioned schemas and short statement wrappers. */
#ifndef NTM_DB_H
#define NTM_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/*
 * A schema is an ordered list of forward migrations.  Versions start at 1 and
 * strictly increase; migration N's SQL (any number of statements) turns a
 * version N-1 database into version N.  A shipped migration is never edited:
 * a change is a new migration appended to the list.  A migration must not
 * contain BEGIN, COMMIT or PRAGMA foreign_keys: db_open() wraps each one in
 * its own transaction.
 *
 * The daemons' schemas live in schema/<name>.sql and are compiled into the
 * binaries at build time (schema/local.mk), so an installed daemon never reads
 * the source tree.  In those files a line "-- migration: N" starts migration N.
 */
struct db_migration {
	int		 version;
	const char	*sql;
};

struct db_schema {
	const char			*name;	/* "as", "dc": stored, checked */
	const struct db_migration	*migrations;
	size_t				 count;
};

/* Embedded from schema/as.sql and schema/dc.sql. */
extern const struct db_schema schema_as;
extern const struct db_schema schema_dc;

struct db;

/*
 * db_open: opens (creating it mode 0600 if needed) the database at `path` and
 * brings it to the newest version of `schema`.
 *
 * Settings on every connection: journal_mode=WAL, synchronous=FULL (a commit
 * that returned survives power loss: the AS must never lose an issued
 * certificate or a queued notice, and the stores write in batched
 * transactions, so the fsync per commit is paid once per batch),
 * foreign_keys=ON, busy_timeout=DB_BUSY_TIMEOUT_MS.
 *
 * Each migration above the stored version runs in its own IMMEDIATE
 * transaction together with the row that records it; a failing migration is
 * rolled back, leaving the database at the previous version.  Re-running on
 * an up-to-date database changes nothing.
 *
 * Errors: -EINVAL for a malformed schema (versions not increasing from 1) or
 * a database made for another schema (the stored name differs); -ENOTSUP for
 * a database whose version is newer than the code (an older program must not
 * write a newer layout); -EPERM for an existing file that is group- or
 * world-accessible (it holds password hashes and key material); other
 * negative errnos from open(2) and SQLite (see db_errno()).  Every error is
 * logged once with the path.  On success the caller owns *dbp (db_close()).
 */
int	 db_open(const char *path, const struct db_schema *schema,
	    struct db **dbp);
void	 db_close(struct db *);			/* accepts NULL */
/* The underlying connection, borrowed, for what the wrappers do not cover. */
sqlite3	*db_handle(struct db *);
const char *db_path(const struct db *);
/* The schema version stored in the database; negative errno on failure. */
int	 db_version(struct db *);

enum {
	DB_BUSY_TIMEOUT_MS = 5000,
};

/*
 * Every helper below returns 0 or a negative errno and logs the SQLite
 * message once, at debug level for constraint violations (an expected outcome
 * that callers turn into their own answer) and as a warning otherwise.
 * Mapping of SQLite result codes (db_errno()):
 *   CONSTRAINT: UNIQUE/PRIMARYKEY -> -EEXIST, FOREIGNKEY -> -ENOENT (a
 *     reference to a missing row, or removing a referenced one),
 *     CHECK/NOTNULL -> -EINVAL, TRIGGER (a schema rule's RAISE) -> -EPERM,
 *     other constraints -> -EEXIST;
 *   BUSY/LOCKED -> -EBUSY, NOMEM -> -ENOMEM,
 *   FULL -> -ENOSPC, READONLY/PERM/AUTH -> -EACCES, CANTOPEN -> -ENOENT,
 *   CORRUPT/NOTADB -> -EBADMSG, TOOBIG/RANGE/MISMATCH -> -ERANGE,
 *   anything else -> -EIO.
 */
int	 db_errno(int sqlite_rc);

/* Runs one or more statements that return no rows we need. */
int	 db_exec(struct db *, const char *sql);

/*
 * Transactions.  db_begin() takes the write lock at once (BEGIN IMMEDIATE),
 * so a transaction that reads then writes never fails half-way with BUSY.
 * db_rollback() is safe to call when no transaction is open and returns
 * nothing: it is meant for cleanup paths.
 */
int	 db_begin(struct db *);
int	 db_commit(struct db *);
void	 db_rollback(struct db *);

/*
 * Statements.  db_prepare() compiles `sql` and binds its parameters from a
 * format string, one character per parameter, in order:
 *   't' const char *        text (NULL binds SQL NULL)
 *   'i' int                 integer
 *   'I' int64_t             integer
 *   'b' const void *, size_t   blob (NULL binds SQL NULL)
 * The bound text and blobs are copied (SQLITE_TRANSIENT).  `fmt` may be NULL
 * or "" for a statement without parameters.  The caller finalizes *stp with
 * db_finalize() (which accepts NULL).
 *
 * db_step() returns DB_ROW when a row is ready, DB_DONE when the statement
 * finished, or a negative errno.  Column getters follow SQLite: the returned
 * text and blob pointers are borrowed until the next step, reset or finalize.
 */
enum {
	DB_DONE = 0,
	DB_ROW = 1,
};

int	 db_prepare(struct db *, sqlite3_stmt **stp, const char *sql,
	    const char *fmt, ...);
int	 db_bind(sqlite3_stmt *, const char *fmt, ...);
int	 db_step(sqlite3_stmt *);
int	 db_reset(sqlite3_stmt *);
void	 db_finalize(sqlite3_stmt *);

/*
 * One-shot helpers: prepare, bind, step once, finalize.
 * db_run() is for INSERT/UPDATE/DELETE; *changes (may be NULL) receives the
 * number of rows changed.  db_query_int64() reads the first column of the
 * first row into *out and returns DB_ROW, or DB_DONE (and leaves *out
 * alone) when there is no row.
 */
int	 db_run(struct db *, int *changes, const char *sql,
	    const char *fmt, ...);
int	 db_query_int64(struct db *, int64_t *out, const char *sql,
	    const char *fmt, ...);

const char	*db_col_text(sqlite3_stmt *, int col); /* "" for NULL */
int64_t		 db_col_int64(sqlite3_stmt *, int col);
const void	*db_col_blob(sqlite3_stmt *, int col, size_t *len);
bool		 db_col_null(sqlite3_stmt *, int col);

#endif
