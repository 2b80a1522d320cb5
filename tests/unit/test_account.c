/* test_account.c -- unit tests for the AS account store: passwords, FQDN ownership, listing. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "account.h"
#include "db.h"
#include "log.h"
#include "rand.h"

/* Cheap enough for a unit test; the real cost is tested once below. */
static const struct account_params cheap = {
	.t_cost = 1, .m_cost_kib = 1024, .lanes = 1,
};

static const time_t t0 = 1800000000;

struct fixture {
	char		 dir[PATH_MAX - 16];
	char		 path[PATH_MAX];
	struct db	*db;
	struct ntm_rng	*rng;
};

static int
setup(void **state)
{
	struct fixture *f;
	const char *tmp = getenv("TMPDIR");

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_account.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		goto fail;
	snprintf(f->path, sizeof(f->path), "%s/as.db", f->dir);
	if (db_open(f->path, &schema_as, &f->db) < 0)
		goto fail;
	if ((f->rng = rng_seeded_new("test_account", 12)) == NULL)
		goto fail;
	*state = f;
	return 0;
fail:
	db_close(f->db);
	free(f);
	return -1;
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

	db_close(f->db);
	rng_free(f->rng);
	unlink_suffix(f->path, "");
	unlink_suffix(f->path, "-wal");
	unlink_suffix(f->path, "-shm");
	rmdir(f->dir);
	free(f);
	return 0;
}

static int
add(struct fixture *f, const char *name, const char *password,
    const char *const *fqdns)
{
	return account_add(f->db, &cheap, f->rng, name, password, fqdns, t0);
}

static void
test_add_list_remove(void **state)
{
	static const char *const ann[] = { "dave.dc1.ntm.test",
	    "alice.dc1.ntm.test", NULL };
	static const char *const bob[] = { "bob.dc2.ntm.test", NULL };
	struct fixture *f = *state;
	struct account_info *list;
	size_t n;

	assert_int_equal(account_list(f->db, &list, &n), 0);
	assert_int_equal(n, 0);
	assert_null(list);

	assert_int_equal(add(f, "bob", "bob's password", bob), 0);
	assert_int_equal(add(f, "ann", "ann's password", ann), 0);
	assert_int_equal(add(f, "carl", "carl's password", NULL), 0);

	assert_int_equal(account_list(f->db, &list, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].name, "ann");
	assert_int_equal(list[0].created, t0);
	assert_false(list[0].disabled);
	assert_int_equal(list[0].nfqdns, 2);
	assert_string_equal(list[0].fqdns[0], "alice.dc1.ntm.test");
	assert_string_equal(list[0].fqdns[1], "dave.dc1.ntm.test");
	assert_string_equal(list[1].name, "bob");
	assert_int_equal(list[1].nfqdns, 1);
	assert_string_equal(list[1].fqdns[0], "bob.dc2.ntm.test");
	assert_string_equal(list[2].name, "carl");
	assert_int_equal(list[2].nfqdns, 0);
	account_list_free(list, n);

	assert_int_equal(account_remove(f->db, "ann"), 0);
	assert_int_equal(account_remove(f->db, "ann"), -ENOENT);
	assert_int_equal(account_remove(f->db, "Bad Name"), -EINVAL);
	assert_int_equal(account_list(f->db, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "bob");
	account_list_free(list, n);
	/* Its names went with it: they can be given to someone else. */
	assert_int_equal(account_owns_fqdn(f->db, "ann", "alice.dc1.ntm.test"),
	    0);
	assert_int_equal(account_add_fqdn(f->db, "carl", "alice.dc1.ntm.test"),
	    0);
	assert_int_equal(account_verify(f->db, &cheap, "ann", "ann's password"),
	    -EACCES);
	account_list_free(NULL, 0);
}

static void
test_duplicates_refused(void **state)
{
	static const char *const one[] = { "alice.dc1.ntm.test", NULL };
	static const char *const taken[] = { "carol.dc2.ntm.test",
	    "alice.dc1.ntm.test", NULL };
	static const char *const twice[] = { "carol.dc2.ntm.test",
	    "carol.dc2.ntm.test", NULL };
	struct fixture *f = *state;
	struct account_info *list;
	size_t n;

	assert_int_equal(add(f, "ann", "first password", one), 0);
	assert_int_equal(add(f, "ann", "second password", NULL), -EEXIST);
	/* The first account is untouched. */
	assert_int_equal(account_verify(f->db, &cheap, "ann", "first password"),
	    0);
	assert_int_equal(account_verify(f->db, &cheap, "ann",
	    "second password"), -EACCES);
	assert_int_equal(account_owns_fqdn(f->db, "ann", "alice.dc1.ntm.test"),
	    1);

	/* An FQDN has one owner; a refused add leaves nothing behind. */
	assert_int_equal(add(f, "bob", "bob's password", taken), -ENOTUNIQ);
	assert_int_equal(add(f, "bob", "bob's password", twice), -ENOTUNIQ);
	assert_int_equal(account_list(f->db, &list, &n), 0);
	assert_int_equal(n, 1);
	account_list_free(list, n);
	assert_int_equal(account_owns_fqdn(f->db, "bob", "carol.dc2.ntm.test"),
	    0);
	assert_int_equal(account_add_fqdn(f->db, "ann", "alice.dc1.ntm.test"),
	    -ENOTUNIQ);
	assert_int_equal(account_add_fqdn(f->db, "nobody",
	    "nobody.dc1.ntm.test"), -ENOENT);
}

static void
test_wrong_password(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(add(f, "ann", "correct horse", NULL), 0);
	assert_int_equal(account_verify(f->db, &cheap, "ann", "correct horse"),
	    0);
	assert_int_equal(account_verify(f->db, &cheap, "ann", "correct horsE"),
	    -EACCES);
	assert_int_equal(account_verify(f->db, &cheap, "ann", "correct hors"),
	    -EACCES);
	assert_int_equal(account_verify(f->db, &cheap, "ann", ""), -EACCES);
	assert_int_equal(account_verify(f->db, &cheap, "ann", NULL), -EACCES);

	/* Disabled: the right password says so, a wrong one does not. */
	assert_int_equal(account_set_disabled(f->db, "ann", true), 0);
	assert_int_equal(account_verify(f->db, &cheap, "ann", "correct horse"),
	    -EPERM);
	assert_int_equal(account_verify(f->db, &cheap, "ann", "wrong horse"),
	    -EACCES);
	assert_int_equal(account_set_disabled(f->db, "ann", false), 0);
	assert_int_equal(account_verify(f->db, &cheap, "ann", "correct horse"),
	    0);
	assert_int_equal(account_set_disabled(f->db, "nobody", true), -ENOENT);

	/* Passwords outside the length limits are refused at creation. */
	assert_int_equal(add(f, "bob", "short", NULL), -EINVAL);
	assert_int_equal(add(f, "bob", NULL, NULL), -EINVAL);
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The fastest of a few runs: the least disturbed by other processes. */
static double
verify_time(struct fixture *f, const struct account_params *p,
    const char *name, const char *password)
{
	double best = 1e9, t;
	int i;

	for (i = 0; i < 5; i++) {
		t = seconds();
		assert_int_equal(account_verify(f->db, p, name, password),
		    -EACCES);
		t = seconds() - t;
		if (t < best)
			best = t;
	}
	return best;
}

static void
test_unknown_account(void **state)
{
	/* Costly enough (a few ms) that skipping the hash would show. */
	static const struct account_params p = {
		.t_cost = 1, .m_cost_kib = 8192, .lanes = 1,
	};
	struct fixture *f = *state;
	double known, unknown, invalid;

	assert_int_equal(account_verify(f->db, &cheap, "nobody",
	    "some password"), -EACCES);
	assert_int_equal(account_verify(f->db, &cheap, "Not A Name",
	    "some password"), -EACCES);
	assert_int_equal(account_verify(f->db, &cheap, NULL, "some password"),
	    -EACCES);

	assert_int_equal(account_add(f->db, &p, f->rng, "ann", "correct horse",
	    NULL, t0), 0);
	known = verify_time(f, &p, "ann", "wrong password");
	unknown = verify_time(f, &p, "nobody", "wrong password");
	invalid = verify_time(f, &p, "Not A Name", "wrong password");
	print_message("# wrong password %.2f ms, unknown account %.2f ms, "
	    "invalid name %.2f ms\n", known * 1e3, unknown * 1e3,
	    invalid * 1e3);
	/*
	 * Same work either way: without the dummy check the unknown account
	 * answers ~100x faster.  The bound is loose (10x) because the
	 * machine may be loaded; it only catches a skipped hash.
	 */
	assert_true(unknown > known / 10);
	assert_true(invalid > known / 10);
}

static void
test_fqdn_ownership(void **state)
{
	static const char *const ann[] = { "alice.dc1.ntm.test", NULL };
	static const char *const bob[] = { "bob.dc2.ntm.test", NULL };
	struct fixture *f = *state;

	assert_int_equal(add(f, "ann", "ann's password", ann), 0);
	assert_int_equal(add(f, "bob", "bob's password", bob), 0);
	assert_int_equal(account_owns_fqdn(f->db, "ann", "alice.dc1.ntm.test"),
	    1);
	assert_int_equal(account_owns_fqdn(f->db, "ann", "bob.dc2.ntm.test"),
	    0);
	assert_int_equal(account_owns_fqdn(f->db, "bob", "alice.dc1.ntm.test"),
	    0);
	assert_int_equal(account_owns_fqdn(f->db, "nobody",
	    "alice.dc1.ntm.test"), 0);
	/* Names compare exactly: callers normalize, bad forms are errors. */
	assert_int_equal(account_owns_fqdn(f->db, "ann", "Alice.dc1.ntm.test"),
	    -EINVAL);
	assert_int_equal(account_owns_fqdn(f->db, "ann",
	    "alice.dc1.ntm.test."), -EINVAL);
	assert_int_equal(account_owns_fqdn(f->db, "ann", "alice.dc1"), 0);

	assert_int_equal(account_add_fqdn(f->db, "ann", "dave.dc1.ntm.test"),
	    0);
	assert_int_equal(account_owns_fqdn(f->db, "ann", "dave.dc1.ntm.test"),
	    1);
	assert_int_equal(account_remove_fqdn(f->db, "ann",
	    "alice.dc1.ntm.test"), 0);
	assert_int_equal(account_owns_fqdn(f->db, "ann", "alice.dc1.ntm.test"),
	    0);
	assert_int_equal(account_remove_fqdn(f->db, "ann",
	    "alice.dc1.ntm.test"), -ENOENT);
	assert_int_equal(account_remove_fqdn(f->db, "ann", "bob.dc2.ntm.test"),
	    -ENOENT);
	assert_int_equal(account_owns_fqdn(f->db, "bob", "bob.dc2.ntm.test"),
	    1);
}

static void
test_invalid_names_refused(void **state)
{
	static const char *const bad[] = {
		"", ".", "alice", "alice.", "alice.dc1.ntm.test.",
		".alice.dc1.ntm.test", "alice..dc1.ntm.test",
		"Alice.dc1.ntm.test", "alice.DC1.ntm.test",
		"al_ice.dc1.ntm.test",
		"al ice.dc1.ntm.test", "-alice.dc1.ntm.test",
		"alice-.dc1.ntm.test", "alice.dc1.ntm.test-", "alice.dc1.-test",
		"al*ce.dc1.ntm.test", "al\xc3\xa9.dc1.ntm.test", "1.2.3.4",
		"alice.dc1.ntm.123", "alice@dc1.ntm.test",
	};
	static const char *const good[] = {
		"alice.dc1.ntm.test", "a.b", "x-1.dc1.ntm.test",
		"123.dc1.ntm.test", "xn--bcher-kva.dc1.ntm.test",
	};
	struct fixture *f = *state;
	char label[64], name[300];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *const one[] = { bad[i], NULL };

		if (account_fqdn_valid(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(add(f, "ann", "ann's password", one), -EINVAL);
		assert_int_equal(account_owns_fqdn(f->db, "carl", bad[i]),
		    -EINVAL);
	}
	assert_false(account_fqdn_valid(NULL));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!account_fqdn_valid(good[i]))
			fail_msg("\"%s\" refused", good[i]);

	/* Label and name length limits. */
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(name, sizeof(name), "%s.ntm.test", label);
	assert_true(account_fqdn_valid(name));
	snprintf(name, sizeof(name), "%sa.ntm.test", label);
	assert_false(account_fqdn_valid(name));
	/* 4 x 63 + 3 dots = 255 > 253; 3 x 63 + 61 + 3 = 253. */
	snprintf(name, sizeof(name), "%s.%s.%s.%s", label, label, label, label);
	assert_false(account_fqdn_valid(name));
	name[253] = '\0';
	assert_true(account_fqdn_valid(name));

	/* Account names too; nothing was written by the refusals. */
	assert_false(account_name_valid(""));
	assert_false(account_name_valid("Ann"));
	assert_false(account_name_valid("-ann"));
	assert_false(account_name_valid("ann smith"));
	assert_true(account_name_valid("ann.smith_2-x"));
	memset(name, 'a', 65);
	name[65] = '\0';
	assert_false(account_name_valid(name));
	name[64] = '\0';
	assert_true(account_name_valid(name));
	assert_int_equal(add(f, "Ann", "ann's password", NULL), -EINVAL);
	assert_int_equal(account_verify(f->db, &cheap, "ann", "ann's password"),
	    -EACCES);
}

/* Is `needle` anywhere in the file? */
static bool
file_contains(const char *path, const char *needle)
{
	struct stat sb;
	char *buf;
	bool found = false;
	size_t len = strlen(needle), i;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return false;
	assert_int_equal(fstat(fd, &sb), 0);
	buf = malloc((size_t)sb.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)sb.st_size), sb.st_size);
	close(fd);
	for (i = 0; i + len <= (size_t)sb.st_size && !found; i++)
		found = memcmp(buf + i, needle, len) == 0;
	free(buf);
	return found;
}

static void
test_password_not_stored(void **state)
{
	static const char password[] = "hunter2-but-longer";
	struct fixture *f = *state;
	sqlite3_stmt *st;
	char hash_ann[ACCOUNT_ENCODED_MAX], wal[PATH_MAX + 16];

	assert_int_equal(add(f, "ann", password, NULL), 0);
	assert_int_equal(add(f, "bob", password, NULL), 0);

	assert_int_equal(db_prepare(f->db, &st, "SELECT name, hash "
	    "FROM accounts ORDER BY name", NULL), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_null(strstr(db_col_text(st, 1), password));
	assert_true(strncmp(db_col_text(st, 1),
	    "$argon2id$v=19$m=1024,t=1,p=1$", 30) == 0);
	snprintf(hash_ann, sizeof(hash_ann), "%s", db_col_text(st, 1));
	assert_int_equal(db_step(st), DB_ROW);
	/* A fresh salt each time: the same password hashes differently. */
	assert_string_not_equal(hash_ann, db_col_text(st, 1));
	db_finalize(st);

	/* Not in any page the database wrote, committed or not. */
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_true(file_contains(wal, "ann"));	/* the scan works */
	assert_false(file_contains(wal, password));
	assert_int_equal(db_exec(f->db, "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
	assert_true(file_contains(f->path, "ann"));
	assert_false(file_contains(f->path, password));
}

static void
test_default_params(void **state)
{
	struct fixture *f = *state;
	sqlite3_stmt *st;

	assert_int_equal(account_add(f->db, &account_params_default, f->rng,
	    "ann", "correct horse", NULL, t0), 0);
	assert_int_equal(db_prepare(f->db, &st, "SELECT hash FROM accounts",
	    NULL), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_true(strncmp(db_col_text(st, 0),
	    "$argon2id$v=19$m=65536,t=2,p=1$", 31) == 0);
	db_finalize(st);
	/* The stored parameters, not the caller's, decide the check. */
	assert_int_equal(account_verify(f->db, &cheap, "ann", "correct horse"),
	    0);
	assert_int_equal(account_verify(f->db, &account_params_default, "ann",
	    "wrong horse"), -EACCES);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_list_remove,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_account,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fqdn_ownership,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_names_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_not_stored,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_params,
		    setup, teardown),
	};

	log_init("test_account", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
