/* test_db.c -- unit tests for the SQLite helper and the embedded AS and DC schemas. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "db.h"
#include "log.h"

struct fixture {
	char	dir[PATH_MAX - 16];
	char	path[PATH_MAX];
};

static const struct db_migration v1[] = {
	{ 1, "CREATE TABLE pets (name TEXT PRIMARY KEY, legs INTEGER NOT NULL);"
	    "CREATE TABLE owners (name TEXT PRIMARY KEY);" },
};
static const struct db_schema schema_v1 = { "pets", v1, 1 };

static const struct db_migration v2[] = {
	{ 1, "CREATE TABLE pets (name TEXT PRIMARY KEY, legs INTEGER NOT NULL);"
	    "CREATE TABLE owners (name TEXT PRIMARY KEY);" },
	{ 2, "ALTER TABLE pets ADD COLUMN owner TEXT REFERENCES owners (name);"
	    "UPDATE pets SET legs = legs * 10;" },
};
static const struct db_schema schema_v2 = { "pets", v2, 2 };

/* Migration 2 creates a table, then fails: the table must not survive. */
static const struct db_migration v2_broken[] = {
	{ 1, "CREATE TABLE pets (name TEXT PRIMARY KEY, legs INTEGER NOT NULL);"
	    "CREATE TABLE owners (name TEXT PRIMARY KEY);" },
	{ 2, "CREATE TABLE vets (name TEXT);"
	    "INSERT INTO nonexistent VALUES (1);" },
};
static const struct db_schema schema_v2_broken = { "pets", v2_broken, 2 };

static int
setup(void **state)
{
	struct fixture *f;
	const char *tmp = getenv("TMPDIR");

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_db.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	*state = f;
	return 0;
}

static void
unlink_suffix(const char *path, const char *suffix)
{
	char p[PATH_MAX + 16];

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	unlink(p);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unlink_suffix(f->path, "");
	unlink_suffix(f->path, "-wal");
	unlink_suffix(f->path, "-shm");
	rmdir(f->dir);
	free(f);
	return 0;
}

static int64_t
count_rows(struct db *db, const char *sql)
{
	int64_t n = -1;

	assert_int_equal(db_query_int64(db, &n, sql, NULL), DB_ROW);
	return n;
}

static void
test_migrate_from_empty(void **state)
{
	struct fixture *f = *state;
	struct db *db;

	assert_int_equal(db_open(f->path, &schema_v1, &db), 0);
	assert_int_equal(db_version(db), 1);
	assert_int_equal(db_run(db, NULL,
	    "INSERT INTO pets (name, legs) VALUES (?, ?)", "ti", "rex", 4), 0);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM pets"), 1);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM schema_version "
	    "WHERE name = 'pets' AND version = 1 AND applied > 0"), 1);
	db_close(db);
}

static void
test_rerun_is_idempotent(void **state)
{
	struct fixture *f = *state;
	struct db *db;
	int i;

	assert_int_equal(db_open(f->path, &schema_v2, &db), 0);
	assert_int_equal(db_run(db, NULL,
	    "INSERT INTO pets (name, legs) VALUES ('rex', 4)", NULL), 0);
	db_close(db);
	for (i = 0; i < 3; i++) {
		assert_int_equal(db_open(f->path, &schema_v2, &db), 0);
		assert_int_equal(db_version(db), 2);
		/* Migration 2 multiplies legs by 10: it must not run again. */
		assert_int_equal(count_rows(db,
		    "SELECT legs FROM pets WHERE name = 'rex'"), 4);
		assert_int_equal(count_rows(db,
		    "SELECT count(*) FROM schema_version"), 2);
		db_close(db);
	}
}

static void
test_upgrade_v1_to_v2(void **state)
{
	struct fixture *f = *state;
	struct db *db;

	assert_int_equal(db_open(f->path, &schema_v1, &db), 0);
	assert_int_equal(db_run(db, NULL,
	    "INSERT INTO pets (name, legs) VALUES ('rex', 4)", NULL), 0);
	db_close(db);

	assert_int_equal(db_open(f->path, &schema_v2, &db), 0);
	assert_int_equal(db_version(db), 2);
	/* The old row survived and migration 2 ran exactly once on it. */
	assert_int_equal(count_rows(db,
	    "SELECT legs FROM pets WHERE name = 'rex'"), 40);
	/* The new column exists and its foreign key is enforced. */
	assert_int_equal(db_run(db, NULL,
	    "UPDATE pets SET owner = 'nobody' WHERE name = 'rex'", NULL),
	    -ENOENT);
	assert_int_equal(db_run(db, NULL,
	    "INSERT INTO owners (name) VALUES ('ann')", NULL), 0);
	assert_int_equal(db_run(db, NULL,
	    "UPDATE pets SET owner = 'ann' WHERE name = 'rex'", NULL), 0);
	db_close(db);
}

/* Two handles on one file, as two processes would have. */
static void
test_two_connections(void **state)
{
	struct fixture *f = *state;
	struct db *a, *b;

	assert_int_equal(db_open(f->path, &schema_v2, &a), 0);
	assert_int_equal(db_open(f->path, &schema_v2, &b), 0);
	assert_int_equal(count_rows(b, "SELECT count(*) FROM schema_version"),
	    2);
	/* A reader does not block the writer, and sees commits at once. */
	assert_int_equal(db_begin(a), 0);
	assert_int_equal(db_run(a, NULL,
	    "INSERT INTO pets (name, legs) VALUES ('rex', 4)", NULL), 0);
	assert_int_equal(count_rows(b, "SELECT count(*) FROM pets"), 0);
	assert_int_equal(db_commit(a), 0);
	assert_int_equal(count_rows(b, "SELECT count(*) FROM pets"), 1);
	db_close(a);
	db_close(b);
}

static void
test_newer_database_refused(void **state)
{
	struct fixture *f = *state;
	struct db *db;

	assert_int_equal(db_open(f->path, &schema_v2, &db), 0);
	db_close(db);
	assert_int_equal(db_open(f->path, &schema_v1, &db), -ENOTSUP);
	assert_null(db);
	/* Refusing did not touch it: the newer program still opens it. */
	assert_int_equal(db_open(f->path, &schema_v2, &db), 0);
	assert_int_equal(db_version(db), 2);
	db_close(db);
}

static void
test_failed_migration_rolls_back(void **state)
{
	struct fixture *f = *state;
	struct db *db;

	assert_int_equal(db_open(f->path, &schema_v1, &db), 0);
	db_close(db);
	assert_true(db_open(f->path, &schema_v2_broken, &db) < 0);
	assert_null(db);
	assert_int_equal(db_open(f->path, &schema_v1, &db), 0);
	assert_int_equal(db_version(db), 1);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM sqlite_master "
	    "WHERE name = 'vets'"), 0);
	db_close(db);
}

static void
test_other_schema_refused(void **state)
{
	struct fixture *f = *state;
	struct db *db;

	assert_int_equal(db_open(f->path, &schema_v1, &db), 0);
	db_close(db);
	assert_int_equal(db_open(f->path, &schema_dc, &db), -EINVAL);
	assert_null(db);
}

static void
test_malformed_schema_refused(void **state)
{
	static const struct db_migration bad[] = {
		{ 2, "CREATE TABLE a (x);" },
		{ 2, "CREATE TABLE b (x);" },
	};
	static const struct db_schema schema_bad = { "bad", bad, 2 };
	struct fixture *f = *state;
	struct db *db;

	assert_int_equal(db_open(f->path, &schema_bad, &db), -EINVAL);
	assert_null(db);
}

static void
test_wal_and_pragmas(void **state)
{
	struct fixture *f = *state;
	struct db *db;
	sqlite3 *other;
	sqlite3_stmt *st;
	struct stat sb;
	char wal[PATH_MAX + 8];

	assert_int_equal(db_open(f->path, &schema_v1, &db), 0);
	/* synchronous=FULL is 2. */
	assert_int_equal(count_rows(db, "PRAGMA synchronous"), 2);
	assert_int_equal(count_rows(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(count_rows(db, "PRAGMA busy_timeout"),
	    DB_BUSY_TIMEOUT_MS);
	assert_int_equal(db_run(db, NULL,
	    "INSERT INTO pets (name, legs) VALUES ('rex', 4)", NULL), 0);

	/* WAL is a property of the file: a plain connection sees it too. */
	assert_int_equal(sqlite3_open_v2(f->path, &other,
	    SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(other, "PRAGMA journal_mode", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(other);

	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size > 0);
	db_close(db);
}

static void
test_file_mode_0600(void **state)
{
	struct fixture *f = *state;
	struct db *db;
	struct stat sb;
	char wal[PATH_MAX + 8];
	mode_t old;

	old = umask(0);		/* even a permissive umask gives 0600 */
	assert_int_equal(db_open(f->path, &schema_v1, &db), 0);
	umask(old);
	assert_int_equal(db_run(db, NULL,
	    "INSERT INTO pets (name, legs) VALUES ('rex', 4)", NULL), 0);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	db_close(db);
}

static void
test_readable_file_refused(void **state)
{
	struct fixture *f = *state;
	struct db *db;

	assert_int_equal(db_open(f->path, &schema_v1, &db), 0);
	db_close(db);
	assert_int_equal(chmod(f->path, 0640), 0);
	assert_int_equal(db_open(f->path, &schema_v1, &db), -EPERM);
	assert_null(db);
	assert_int_equal(chmod(f->path, 0600), 0);
	assert_int_equal(db_open(f->path, &schema_v1, &db), 0);
	db_close(db);
}

static void
test_statement_helpers(void **state)
{
	static const uint8_t blob[] = { 0x00, 0xff, 0x10 };
	struct fixture *f = *state;
	struct db *db;
	sqlite3_stmt *st;
	const uint8_t *p;
	size_t len;
	int64_t v = 77;
	int changes = -1;

	assert_int_equal(db_open(f->path, &schema_v1, &db), 0);
	assert_int_equal(db_exec(db, "CREATE TABLE kv (k TEXT PRIMARY KEY, "
	    "n INTEGER, b BLOB)"), 0);
	assert_int_equal(db_run(db, &changes, "INSERT INTO kv VALUES (?, ?, ?)",
	    "tIb", "a", (int64_t)1 << 40, blob, sizeof(blob)), 0);
	assert_int_equal(changes, 1);
	assert_int_equal(db_run(db, NULL, "INSERT INTO kv VALUES (?, ?, ?)",
	    "tIb", "a", (int64_t)2, blob, sizeof(blob)), -EEXIST);
	assert_int_equal(db_run(db, NULL, "INSERT INTO kv VALUES (?, ?, ?)",
	    "tib", "b", 2, NULL, (size_t)0), 0);

	/* A format that does not match the parameters is refused. */
	assert_int_equal(db_prepare(db, &st, "SELECT ? + ?", "i", 1), -EINVAL);
	assert_null(st);
	assert_int_equal(db_prepare(db, &st, "SELECT nosuchcolumn", NULL),
	    -EIO);

	assert_int_equal(db_prepare(db, &st,
	    "SELECT k, n, b FROM kv ORDER BY k", NULL), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "a");
	assert_true(db_col_int64(st, 1) == (int64_t)1 << 40);
	p = db_col_blob(st, 2, &len);
	assert_int_equal(len, sizeof(blob));
	assert_memory_equal(p, blob, sizeof(blob));
	assert_int_equal(db_step(st), DB_ROW);
	assert_true(db_col_null(st, 2));
	assert_int_equal(db_step(st), DB_DONE);
	assert_int_equal(db_reset(st), 0);
	assert_int_equal(db_step(st), DB_ROW);
	db_finalize(st);

	assert_int_equal(db_query_int64(db, &v,
	    "SELECT n FROM kv WHERE k = ?", "t", "zzz"), DB_DONE);
	assert_int_equal(v, 77);

	/* Rolled back work is gone; committed work stays. */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_run(db, &changes, "DELETE FROM kv", NULL), 0);
	assert_int_equal(changes, 2);
	db_rollback(db);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM kv"), 2);
	db_rollback(db);	/* nothing open: harmless */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_run(db, NULL, "DELETE FROM kv WHERE k = 'b'",
	    NULL), 0);
	assert_int_equal(db_commit(db), 0);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM kv"), 1);
	db_close(db);
}

/*
 * The embedded SQL of migration N is the file's text after its marker line
 * "-- migration: N" up to the next marker (or the end), byte for byte, and
 * every marker in the file has its migration, in order.
 */
static void
check_embedded(const char *file, const struct db_schema *schema)
{
	const char *top = getenv("top_srcdir");
	char path[PATH_MAX], marker[64], *text, *start, *next;
	size_t i, want;
	FILE *fp;
	long len;

	if (top == NULL)
		skip();		/* set by make check */
	snprintf(path, sizeof(path), "%s/schema/%s", top, file);
	assert_non_null(fp = fopen(path, "r"));
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	assert_true((len = ftell(fp)) > 0);
	rewind(fp);
	assert_non_null(text = calloc(1, (size_t)len + 1));
	assert_int_equal(fread(text, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	assert_true(schema->count >= 1);
	for (i = 0; i < schema->count; i++) {
		assert_int_equal(schema->migrations[i].version, (int)i + 1);
		snprintf(marker, sizeof(marker), "\n-- migration: %zu\n", i + 1);
		assert_non_null(start = strstr(text, marker));
		start += strlen(marker);
		snprintf(marker, sizeof(marker), "\n-- migration: %zu\n", i + 2);
		next = strstr(text, marker);
		if (i + 1 < schema->count) {
			assert_non_null(next);
			want = (size_t)(next - start) + 1;	/* its last LF */
		} else {
			assert_null(next);	/* no migration left out */
			want = strlen(start);
		}
		assert_int_equal(strlen(schema->migrations[i].sql), want);
		assert_memory_equal(schema->migrations[i].sql, start, want);
	}
	free(text);
}

static void
test_embedded_text(void **state)
{
	assert_string_equal(schema_as.name, "as");
	assert_string_equal(schema_dc.name, "dc");
	check_embedded("as.sql", &schema_as);
	check_embedded("dc.sql", &schema_dc);
}

/* A certificate row for the AS schema; serial from a small number. */
static int
insert_cert(struct db *db, int n, const char *fqdn, const char *vip4,
    const char *vip6, int64_t not_after, int64_t issued_at)
{
	static const uint8_t der[] = { 0x30, 0x00 };
	char serial[33];

	snprintf(serial, sizeof(serial), "%032x", n);
	return db_run(db, NULL, "INSERT INTO certificates (serial, fqdn, "
	    "account, dc, vip4, vip6, key_type, not_before, not_after, der, "
	    "issued_at) VALUES (?, ?, 'acct', 'dc1', ?, ?, 'ecdsa-p256', ?, ?, "
	    "?, ?)", "ttttIIbI", serial, fqdn, vip4, vip6, issued_at, not_after,
	    der, sizeof(der), issued_at);
}

static void
test_as_schema(void **state)
{
	struct fixture *f = *state;
	struct db *db;
	const int64_t t0 = 1800000000;

	assert_int_equal(db_open(f->path, &schema_as, &db), 0);
	/* Every migration ran: the version is the newest one's. */
	assert_int_equal(db_version(db), (int)schema_as.count);

	/* Accounts hold argon2id hashes only; FQDNs cascade with them. */
	assert_int_equal(db_run(db, NULL, "INSERT INTO accounts (name, hash, "
	    "created) VALUES ('ann', 'secret', 1)", NULL), -EINVAL);
	assert_int_equal(db_run(db, NULL, "INSERT INTO accounts (name, hash, "
	    "created) VALUES ('ann', '$argon2id$v=19$x', 1)", NULL), 0);
	assert_int_equal(db_run(db, NULL, "INSERT INTO account_fqdns VALUES "
	    "('alice.dc1.ntm.test', 'nobody')", NULL), -ENOENT);
	assert_int_equal(db_run(db, NULL, "INSERT INTO account_fqdns VALUES "
	    "('alice.dc1.ntm.test', 'ann')", NULL), 0);
	assert_int_equal(db_run(db, NULL, "DELETE FROM accounts", NULL), 0);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM account_fqdns"),
	    0);

	/* Serials are 128-bit lower-case hex. */
	assert_int_equal(db_run(db, NULL, "INSERT INTO certificates VALUES "
	    "('ABCD', 'a.dc1.ntm.test', 'x', 'dc1', '198.18.1.9', "
	    "'fd6e:746d:6f62:1::9', 'ecdsa-p256', 1, 2, x'00', 1)", NULL),
	    -EINVAL);

	/* One live certificate per virtual IP across nodes ... */
	assert_int_equal(insert_cert(db, 1, "alice.dc1.ntm.test", "198.18.1.2",
	    "fd6e:746d:6f62:1::2", t0 + 3600, t0), 0);
	assert_int_equal(insert_cert(db, 2, "dave.dc1.ntm.test", "198.18.1.2",
	    "fd6e:746d:6f62:1::3", t0 + 3600, t0 + 10), -EPERM);
	assert_int_equal(insert_cert(db, 3, "dave.dc1.ntm.test", "198.18.1.3",
	    "fd6e:746d:6f62:1::2", t0 + 3600, t0 + 10), -EPERM);
	/* ... but the same node renews with its own addresses ... */
	assert_int_equal(insert_cert(db, 4, "alice.dc1.ntm.test", "198.18.1.2",
	    "fd6e:746d:6f62:1::2", t0 + 7200, t0 + 1800), 0);
	/* ... and another node gets them once they are expired ... */
	assert_int_equal(insert_cert(db, 5, "dave.dc1.ntm.test", "198.18.1.2",
	    "fd6e:746d:6f62:1::2", t0 + 9000, t0 + 7200), 0);
	/* ... or revoked. */
	assert_int_equal(insert_cert(db, 6, "bob.dc1.ntm.test", "198.18.1.2",
	    "fd6e:746d:6f62:1::4", t0 + 9600, t0 + 7300), -EPERM);
	assert_int_equal(db_run(db, NULL, "INSERT INTO revocations VALUES "
	    "(?, 1, ?)", "tI", "00000000000000000000000000000005",
	    t0 + 7250), 0);
	assert_int_equal(insert_cert(db, 6, "bob.dc1.ntm.test", "198.18.1.2",
	    "fd6e:746d:6f62:1::4", t0 + 9600, t0 + 7300), 0);

	/* Certificates are never updated and revocations never undone. */
	assert_int_equal(db_run(db, NULL, "UPDATE certificates SET "
	    "not_after = not_after + 1", NULL), -EPERM);
	assert_int_equal(db_run(db, NULL, "DELETE FROM revocations", NULL),
	    -EPERM);
	assert_int_equal(db_run(db, NULL, "INSERT INTO revocations VALUES "
	    "('ffffffffffffffffffffffffffffffff', 1, 1)", NULL), -ENOENT);

	/* The outbox never reuses a seq, even after pruning the newest. */
	assert_int_equal(db_run(db, NULL, "INSERT INTO notice_outbox (dc, "
	    "kind, serial, payload, created) VALUES ('*', 'revoked', "
	    "'00000000000000000000000000000005', x'01', 1)", NULL), 0);
	assert_int_equal(db_run(db, NULL, "DELETE FROM notice_outbox", NULL),
	    0);
	assert_int_equal(db_run(db, NULL, "INSERT INTO notice_outbox (dc, "
	    "kind, serial, payload, created) VALUES ('dc1', 'status', "
	    "'00000000000000000000000000000004', x'01', 2)", NULL), 0);
	assert_int_equal(count_rows(db, "SELECT max(seq) FROM notice_outbox"),
	    2);
	assert_int_equal(db_run(db, NULL, "INSERT INTO notice_outbox (dc, "
	    "kind, serial, payload, created) VALUES ('dc1', 'bogus', "
	    "'00000000000000000000000000000004', x'01', 2)", NULL), -EINVAL);
	assert_int_equal(db_run(db, NULL, "INSERT INTO dc_cursors (dc) "
	    "VALUES ('dc1')", NULL), 0);
	assert_int_equal(count_rows(db, "SELECT acked_seq FROM dc_cursors"),
	    0);
	db_close(db);
}

static void
test_dc_schema(void **state)
{
	struct fixture *f = *state;
	struct db *db;

	assert_int_equal(db_open(f->path, &schema_dc, &db), 0);
	assert_int_equal(db_version(db), (int)schema_dc.count);
	assert_int_equal(db_run(db, NULL, "INSERT INTO nodes VALUES "
	    "('alice.dc1.ntm.test', '198.18.1.2', 'fd6e:746d:6f62:1::2', 1)",
	    NULL), 0);
	assert_int_equal(db_run(db, NULL, "INSERT INTO nodes VALUES "
	    "('dave.dc1.ntm.test', '198.18.1.2', 'fd6e:746d:6f62:1::3', 1)",
	    NULL), -EEXIST);
	assert_int_equal(db_run(db, NULL, "INSERT INTO nodes VALUES "
	    "('dave.dc1.ntm.test', '198.18.1.3', 'fd6e:746d:6f62:1::2', 1)",
	    NULL), -EEXIST);
	assert_int_equal(db_run(db, NULL, "INSERT INTO zone_serial VALUES "
	    "('dc1.ntm.test', 1)", NULL), 0);

	/* A revoked status stays revoked through an upsert. */
	assert_int_equal(db_run(db, NULL, "INSERT INTO cert_status (serial, "
	    "fqdn, this_update, next_update, revoked, der) VALUES "
	    "('0123456789abcdef0123456789abcdef', 'alice.dc1.ntm.test', 10, "
	    "20, 1, x'30')", NULL), 0);
	assert_int_equal(db_run(db, NULL, "INSERT INTO cert_status (serial, "
	    "fqdn, this_update, next_update, revoked, der) VALUES "
	    "('0123456789abcdef0123456789abcdef', 'alice.dc1.ntm.test', 30, "
	    "40, 0, x'30') ON CONFLICT (serial) DO UPDATE SET "
	    "this_update = excluded.this_update, revoked = excluded.revoked",
	    NULL), -EPERM);
	assert_int_equal(count_rows(db, "SELECT revoked FROM cert_status"), 1);
	/* Migration 2: the certificate hash, 32 bytes or none. */
	assert_int_equal(db_run(db, NULL, "UPDATE cert_status SET cert_hash = "
	    "x'00'", NULL), -EINVAL);
	assert_int_equal(db_run(db, NULL, "UPDATE cert_status SET cert_hash = "
	    "zeroblob(32)", NULL), 0);

	assert_int_equal(db_run(db, NULL, "INSERT INTO ticket_keys VALUES "
	    "(7, x'00112233', 100, 200)", NULL), 0);
	assert_int_equal(db_run(db, NULL, "INSERT INTO notice_cursor (as_name) "
	    "VALUES ('as')", NULL), 0);
	db_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_from_empty,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rerun_is_idempotent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v1_to_v2,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_connections,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_database_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_migration_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_schema_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_schema_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_and_pragmas,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_mode_0600,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_readable_file_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_statement_helpers,
		    setup, teardown),
		cmocka_unit_test(test_embedded_text),
		cmocka_unit_test_setup_teardown(test_as_schema,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dc_schema,
		    setup, teardown),
	};

	log_init("test_db", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
