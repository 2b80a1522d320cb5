/* account.h -- AS enrolment accounts: argon2id password hashes and the FQDNs each account may enrol. */
#ifndef NTM_AS_ACCOUNT_H
#define NTM_AS_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct db;
struct ntm_rng;

enum account_limits {
	ACCOUNT_LIMITS_INVALID = 0,
	ACCOUNT_NAME_MAX = 64,		/* bytes */
	ACCOUNT_FQDN_MAX = 253,		/* bytes, no trailing dot */
	ACCOUNT_LABEL_MAX = 63,
	ACCOUNT_PASSWORD_MIN = 8,	/* bytes */
	ACCOUNT_PASSWORD_MAX = 1024,	/* bytes: bounds work per check */
	ACCOUNT_SALT_LEN = 16,
	ACCOUNT_HASH_LEN = 32,
	ACCOUNT_ENCODED_MAX = 256,	/* longest encoded hash kept */
};

/*
 * argon2id cost.  account_params_default is t=2 passes over m=64 MiB with one
 * lane: 117 ms per hash or check on the 2-core build machine (t=3: 190 ms;
 * t=1: 70 ms; m=19 MiB, t=2: 25 ms).  Memory is what makes guessing costly,
 * and it is also what the server pays per concurrent check, so the AS must
 * bound concurrent checks (4 in flight = 256 MiB) and run them off the loop
 * thread.  One lane keeps libargon2 from starting threads.  Tests pass
 * cheaper parameters.  A stored hash keeps the parameters it was made with,
 * so changing these affects new passwords only.
 */
struct account_params {
	uint32_t	t_cost;		/* passes */
	uint32_t	m_cost_kib;	/* memory in KiB */
	uint32_t	lanes;
};

extern const struct account_params account_params_default;

/*
 * An account name: 1..ACCOUNT_NAME_MAX bytes of [a-z0-9._-] starting with a
 * letter or digit.  An FQDN: lower-case LDH labels of 1..63 bytes separated
 * by dots, not starting or ending with '-', at least two labels, at most 253
 * bytes, no trailing dot, last label not all digits.  NULL is invalid.
 */
bool	account_name_valid(const char *name);
bool	account_fqdn_valid(const char *fqdn);

/*
 * All functions below take a database opened with schema_as.  Hashing and
 * checking passwords costs what `params` says: call them off the loop thread.
 *
 * account_add: creates account `name` with `password` (hashed with a fresh
 * salt from `rng`; the password itself is never stored) owning the FQDNs in
 * the NULL-terminated array `fqdns` (NULL for none), all in one transaction.
 * `now` is the creation time.  Returns 0; -EINVAL for an invalid name, FQDN
 * or password length (ACCOUNT_PASSWORD_MIN..MAX bytes) or bad params;
 * -EEXIST if the account exists; -ENOTUNIQ if an FQDN already belongs to an
 * account (or is listed twice); other negative errnos from the database or
 * the generator.  Nothing is written on error.
 */
int	account_add(struct db *, const struct account_params *,
	    struct ntm_rng *, const char *name, const char *password,
	    const char *const *fqdns, time_t now);

/*
 * account_remove: deletes the account and its FQDN list.  The certificates
 * it was issued stay on record (and stay valid until revoked: revoking them
 * is the caller's decision).  -ENOENT if there is no such account.
 */
int	account_remove(struct db *, const char *name);

/* Disables or re-enables an account: a disabled one never verifies. */
int	account_set_disabled(struct db *, const char *name, bool disabled);

/* Gives an FQDN to / takes it from an existing account. */
int	account_add_fqdn(struct db *, const char *name, const char *fqdn);
int	account_remove_fqdn(struct db *, const char *name, const char *fqdn);

struct account_info {
	char		*name;
	int64_t		 created;	/* unix seconds */
	bool		 disabled;
	char		**fqdns;	/* sorted */
	size_t		 nfqdns;
};

/*
 * account_list: every account sorted by name with its FQDNs.  On success the
 * caller owns *list (n entries; NULL when n is 0) and frees it with
 * account_list_free(), which accepts NULL.
 */
int	account_list(struct db *, struct account_info **list, size_t *n);
void	account_list_free(struct account_info *list, size_t n);

/*
 * account_verify: checks `password` for account `name`.  Returns 0 when it
 * matches an enabled account; -EACCES when the account is unknown, the name
 * invalid or the password wrong (one answer for all three, and the same
 * work: an unknown account is checked against a dummy hash with `params`);
 * -EPERM when the password is right but the account is disabled; other
 * negative errnos for database failures.
 */
int	account_verify(struct db *, const struct account_params *,
	    const char *name, const char *password);

/*
 * account_owns_fqdn: 1 if account `name` owns `fqdn`, 0 if it does not (or
 * there is no such account), -EINVAL if `fqdn` or `name` is not valid (see
 * above: callers lower-case and strip the trailing dot first), other negative
 * errnos for database failures.
 */
int	account_owns_fqdn(struct db *, const char *name, const char *fqdn);

#endif
