/* account.c -- AS enrolment accounts: argon2id password hashes and the FQDNs each account may enrol. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "account.h"
#include "db.h"
#include "log.h"
#include "rand.h"

const struct account_params account_params_default = {
	.t_cost = 2,
	.m_cost_kib = 64 * 1024,
	.lanes = 1,
};

bool
account_name_valid(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') ||
	    (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= ACCOUNT_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

bool
account_fqdn_valid(const char *fqdn)
{
	size_t i, label = 0, labels = 0;
	bool digits = true;
	char c, prev = '.';

	if (fqdn == NULL)
		return false;
	for (i = 0; (c = fqdn[i]) != '\0'; i++) {
		if (i >= ACCOUNT_FQDN_MAX)
			return false;
		if (c == '.') {
			if (label == 0 || prev == '-')
				return false;	/* empty label or ends in - */
			label = 0;
			digits = true;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-') {
			if (label == 0) {
				if (c == '-')
					return false;
				labels++;
			}
			if (++label > ACCOUNT_LABEL_MAX)
				return false;
			if (c < '0' || c > '9')
				digits = false;
		} else
			return false;	/* upper case, '_', non-ASCII */
		prev = c;
	}
	/* No trailing dot or '-', two labels at least, a non-numeric TLD. */
	return label > 0 && prev != '-' && labels >= 2 && !digits;
}

static bool
account_params_valid(const struct account_params *p)
{
	return p != NULL && p->t_cost >= ARGON2_MIN_TIME &&
	    p->lanes >= ARGON2_MIN_LANES && p->lanes <= ARGON2_MAX_LANES &&
	    p->m_cost_kib >= 8 * p->lanes &&
	    p->m_cost_kib <= 4u * 1024 * 1024;	/* 4 GiB: a mistake */
}

static bool
account_password_valid(const char *password)
{
	size_t len;

	if (password == NULL)
		return false;
	len = strnlen(password, ACCOUNT_PASSWORD_MAX + 1);
	return len >= ACCOUNT_PASSWORD_MIN && len <= ACCOUNT_PASSWORD_MAX;
}

/* Hashes `password` with a fresh salt into an encoded string. */
static int
account_hash(const struct account_params *p, struct ntm_rng *rng,
    const char *password, char *encoded, size_t cap)
{
	uint8_t salt[ACCOUNT_SALT_LEN];
	int r;

	if (argon2_encodedlen(p->t_cost, p->m_cost_kib, p->lanes,
	    sizeof(salt), ACCOUNT_HASH_LEN, Argon2_id) > cap)
		return -EINVAL;
	if ((r = rng_bytes(rng, salt, sizeof(salt))) < 0)
		return r;
	r = argon2id_hash_encoded(p->t_cost, p->m_cost_kib, p->lanes,
	    password, strlen(password), salt, sizeof(salt), ACCOUNT_HASH_LEN,
	    encoded, cap);
	if (r != ARGON2_OK) {
		log_warnx("account: argon2id: %s", argon2_error_message(r));
		return r == ARGON2_MEMORY_ALLOCATION_ERROR ? -ENOMEM : -EINVAL;
	}
	return 0;
}

/*
 * The hash an unknown account is checked against: same algorithm and cost
 * as a real one, all-zero salt and digest (which no password produces in
 * practice), so argon2id_verify() does the same work and fails.
 */
static void
account_dummy_hash(const struct account_params *p, char *out, size_t cap)
{
	snprintf(out, cap, "$argon2id$v=%d$m=%u,t=%u,p=%u$%s$%s",
	    ARGON2_VERSION_NUMBER, p->m_cost_kib, p->t_cost, p->lanes,
	    "AAAAAAAAAAAAAAAAAAAAAA",		/* 16 zero bytes */
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");	/* 32 */
}

/* Inserts one FQDN for `name` inside the caller's transaction. */
static int
account_insert_fqdn(struct db *db, const char *name, const char *fqdn)
{
	int r;

	r = db_run(db, NULL, "INSERT INTO account_fqdns (fqdn, account) "
	    "VALUES (?, ?)", "tt", fqdn, name);
	if (r == -EEXIST) {
		log_debug("account %s: FQDN %s already belongs to an account",
		    name, fqdn);
		return -ENOTUNIQ;
	}
	if (r == -ENOENT)
		log_debug("account %s: no such account", name);
	return r;
}

int
account_add(struct db *db, const struct account_params *p,
    struct ntm_rng *rng, const char *name, const char *password,
    const char *const *fqdns, time_t now)
{
	char encoded[ACCOUNT_ENCODED_MAX];
	size_t i;
	int r;

	if (!account_name_valid(name)) {
		log_debug("account: invalid name");
		return -EINVAL;
	}
	if (!account_password_valid(password)) {
		log_debug("account %s: password length outside %d..%d bytes",
		    name, ACCOUNT_PASSWORD_MIN, ACCOUNT_PASSWORD_MAX);
		return -EINVAL;
	}
	for (i = 0; fqdns != NULL && fqdns[i] != NULL; i++) {
		if (!account_fqdn_valid(fqdns[i])) {
			log_debug("account %s: invalid FQDN", name);
			return -EINVAL;
		}
	}
	if (!account_params_valid(p))
		return -EINVAL;

	/* Hash before taking the write lock: it is the slow part. */
	if ((r = account_hash(p, rng, password, encoded, sizeof(encoded))) < 0)
		goto out;
	if ((r = db_begin(db)) < 0)
		goto out;
	r = db_run(db, NULL, "INSERT INTO accounts (name, hash, created, "
	    "disabled) VALUES (?, ?, ?, 0)", "ttI", name, encoded,
	    (int64_t)now);
	if (r < 0)
		goto fail;
	for (i = 0; fqdns != NULL && fqdns[i] != NULL; i++)
		if ((r = account_insert_fqdn(db, name, fqdns[i])) < 0)
			goto fail;
	if ((r = db_commit(db)) < 0)
		goto fail;
	log_info("account %s: added with %zu FQDNs", name, i);
	goto out;
fail:
	db_rollback(db);
out:
	explicit_bzero(encoded, sizeof(encoded));
	return r;
}

int
account_remove(struct db *db, const char *name)
{
	int changes = 0, r;

	if (!account_name_valid(name))
		return -EINVAL;
	r = db_run(db, &changes, "DELETE FROM accounts WHERE name = ?", "t",
	    name);
	if (r < 0)
		return r;
	if (changes == 0)
		return -ENOENT;
	log_info("account %s: removed", name);
	return 0;
}

int
account_set_disabled(struct db *db, const char *name, bool disabled)
{
	int changes = 0, r;

	if (!account_name_valid(name))
		return -EINVAL;
	r = db_run(db, &changes, "UPDATE accounts SET disabled = ? "
	    "WHERE name = ?", "it", disabled ? 1 : 0, name);
	if (r < 0)
		return r;
	if (changes == 0)
		return -ENOENT;
	log_info("account %s: %s", name, disabled ? "disabled" : "enabled");
	return 0;
}

int
account_add_fqdn(struct db *db, const char *name, const char *fqdn)
{
	int r;

	if (!account_name_valid(name) || !account_fqdn_valid(fqdn))
		return -EINVAL;
	if ((r = account_insert_fqdn(db, name, fqdn)) < 0)
		return r;
	log_info("account %s: owns %s", name, fqdn);
	return 0;
}

int
account_remove_fqdn(struct db *db, const char *name, const char *fqdn)
{
	int changes = 0, r;

	if (!account_name_valid(name) || !account_fqdn_valid(fqdn))
		return -EINVAL;
	r = db_run(db, &changes, "DELETE FROM account_fqdns "
	    "WHERE account = ? AND fqdn = ?", "tt", name, fqdn);
	if (r < 0)
		return r;
	if (changes == 0)
		return -ENOENT;
	log_info("account %s: no longer owns %s", name, fqdn);
	return 0;
}

void
account_list_free(struct account_info *list, size_t n)
{
	size_t i, j;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(list[i].name);
		for (j = 0; j < list[i].nfqdns; j++)
			free(list[i].fqdns[j]);
		free(list[i].fqdns);
	}
	free(list);
}

static int
account_info_add_fqdn(struct account_info *a, const char *fqdn)
{
	char **v, *s;

	if ((s = strdup(fqdn)) == NULL)
		return -ENOMEM;
	v = reallocarray(a->fqdns, a->nfqdns + 1, sizeof(*v));
	if (v == NULL) {
		free(s);
		return -ENOMEM;
	}
	v[a->nfqdns++] = s;
	a->fqdns = v;
	return 0;
}

int
account_list(struct db *db, struct account_info **listp, size_t *np)
{
	struct account_info *list = NULL, *v, *a = NULL;
	sqlite3_stmt *st;
	size_t n = 0, cap = 0;
	int r;

	*listp = NULL;
	*np = 0;
	r = db_prepare(db, &st, "SELECT a.name, a.created, a.disabled, f.fqdn "
	    "FROM accounts AS a LEFT JOIN account_fqdns AS f "
	    "ON f.account = a.name ORDER BY a.name, f.fqdn", NULL);
	if (r < 0)
		return r;
	while ((r = db_step(st)) == DB_ROW) {
		const char *name = db_col_text(st, 0);

		if (a == NULL || strcmp(a->name, name) != 0) {
			if (n == cap) {
				cap = cap == 0 ? 16 : cap * 2;
				v = reallocarray(list, cap, sizeof(*v));
				if (v == NULL) {
					r = -ENOMEM;
					break;
				}
				list = v;
			}
			a = &list[n];
			memset(a, 0, sizeof(*a));
			if ((a->name = strdup(name)) == NULL) {
				r = -ENOMEM;
				break;
			}
			n++;
			a->created = db_col_int64(st, 1);
			a->disabled = db_col_int64(st, 2) != 0;
		}
		if (!db_col_null(st, 3) &&
		    (r = account_info_add_fqdn(a, db_col_text(st, 3))) < 0)
			break;
	}
	db_finalize(st);
	if (r < 0) {
		account_list_free(list, n);
		return r;
	}
	*listp = n == 0 ? NULL : list;
	if (n == 0)
		free(list);
	*np = n;
	return 0;
}

int
account_verify(struct db *db, const struct account_params *p,
    const char *name, const char *password)
{
	char encoded[ACCOUNT_ENCODED_MAX];
	sqlite3_stmt *st = NULL;
	bool known = false, disabled = false;
	size_t pwlen;
	int r, rc;

	if (!account_params_valid(p))
		return -EINVAL;
	account_dummy_hash(p, encoded, sizeof(encoded));
	if (account_name_valid(name)) {
		r = db_prepare(db, &st, "SELECT hash, disabled FROM accounts "
		    "WHERE name = ?", "t", name);
		if (r < 0)
			return r;
		r = db_step(st);
		if (r == DB_ROW) {
			const char *h = db_col_text(st, 0);

			if (strlen(h) >= sizeof(encoded)) {
				log_warnx("account %s: stored hash too long",
				    name);
				r = -EBADMSG;
			} else {
				memcpy(encoded, h, strlen(h) + 1);
				known = true;
				disabled = db_col_int64(st, 1) != 0;
			}
		}
		db_finalize(st);
		if (r < 0)
			return r;
	}

	/* Known or not, the same check runs: only its verdict differs. */
	pwlen = password == NULL ? 0 :
	    strnlen(password, ACCOUNT_PASSWORD_MAX + 1);
	if (pwlen > ACCOUNT_PASSWORD_MAX)
		pwlen = ACCOUNT_PASSWORD_MAX;	/* checked, then refused */
	rc = argon2id_verify(encoded, password == NULL ? "" : password, pwlen);
	explicit_bzero(encoded, sizeof(encoded));
	if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
		return -ENOMEM;
	if (rc != ARGON2_OK && rc != ARGON2_VERIFY_MISMATCH && known)
		log_warnx("account %s: stored hash unusable: %s", name,
		    argon2_error_message(rc));
	if (rc != ARGON2_OK || !known ||
	    !account_password_valid(password)) {
		log_debug("account %s: password check failed",
		    account_name_valid(name) ? name : "(invalid name)");
		return -EACCES;
	}
	if (disabled) {
		log_debug("account %s: disabled", name);
		return -EPERM;
	}
	return 0;
}

int
account_owns_fqdn(struct db *db, const char *name, const char *fqdn)
{
	int64_t one = 0;
	int r;

	if (!account_name_valid(name) || !account_fqdn_valid(fqdn))
		return -EINVAL;
	r = db_query_int64(db, &one, "SELECT 1 FROM account_fqdns "
	    "WHERE fqdn = ? AND account = ?", "tt", fqdn, name);
	if (r < 0)
		return r;
	return r == DB_ROW ? 1 : 0;
}
