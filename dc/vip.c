/* vip.c -- virtual-IP assignment from the DC's own prefixes, stable per FQDN, for the AS's VIP_REQUEST (PROTOCOL.md 6.7). */
#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <string.h>

#include "log.h"
#include "vip.h"

/* p[0..len) masked to `bits` bits equals prefix? */
static bool
vip_in(const uint8_t *a, const uint8_t *prefix, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, prefix, full) != 0)
		return false;
	return rest == 0 ||
	    ((a[full] ^ prefix[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* The host part of a (after `bits` bits) is all zeros / all ones. */
static bool
vip_host_is(const uint8_t *a, size_t len, unsigned bits, uint8_t v)
{
	size_t k;

	for (k = bits / 8; k < len; k++) {
		uint8_t mask = k == bits / 8 && bits % 8 != 0 ?
		    (uint8_t)(0xff >> (bits % 8)) : 0xff;

		if ((a[k] & mask) != (v & mask))
			return false;
	}
	return true;
}

int
vip_config_own(struct vip_config *c, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		if (!c->have4 || !vip_in((const uint8_t *)&s4->sin_addr,
		    (const uint8_t *)&c->prefix4, c->prefix4_len))
			return 0;
		if (c->nown4 >= VIP_OWN_MAX)
			return -ENOSPC;
		c->own4[c->nown4++] = s4->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		if (!c->have6 || !vip_in(s6->sin6_addr.s6_addr,
		    c->prefix6.s6_addr, c->prefix6_len))
			return 0;
		if (c->nown6 >= VIP_OWN_MAX)
			return -ENOSPC;
		c->own6[c->nown6++] = s6->sin6_addr;
	}
	return 0;
}

bool
vip_name_in_zone(const char *zone, const char *fqdn)
{
	size_t zl = strlen(zone), fl = strlen(fqdn), ll, i;

	if (zl == 0 || fl < zl + 2 || fqdn[fl - zl - 1] != '.' ||
	    strcmp(fqdn + fl - zl, zone) != 0)
		return false;
	ll = fl - zl - 1;
	if (ll > 63 || fqdn[0] == '-' || fqdn[ll - 1] == '-')
		return false;
	for (i = 0; i < ll; i++)
		if (!((fqdn[i] >= 'a' && fqdn[i] <= 'z') ||
		    (fqdn[i] >= '0' && fqdn[i] <= '9') || fqdn[i] == '-'))
			return false;
	return true;
}

/* Inside the prefixes, not network, not broadcast, not the DC's own. */
static bool
vip_pair_ok(const struct vip_config *c, const struct in_addr *v4,
    const struct in6_addr *v6)
{
	const uint8_t *a4 = (const uint8_t *)v4;
	size_t k;

	if (!vip_in(a4, (const uint8_t *)&c->prefix4, c->prefix4_len) ||
	    !vip_in(v6->s6_addr, c->prefix6.s6_addr, c->prefix6_len))
		return false;
	if (vip_host_is(a4, 4, c->prefix4_len, 0x00) ||
	    vip_host_is(a4, 4, c->prefix4_len, 0xff) ||
	    vip_host_is(v6->s6_addr, 16, c->prefix6_len, 0x00))
		return false;
	for (k = 0; k < c->nown4; k++)
		if (memcmp(&c->own4[k], v4, 4) == 0)
			return false;
	for (k = 0; k < c->nown6; k++)
		if (memcmp(&c->own6[k], v6, 16) == 0)
			return false;
	return true;
}

/* base + i over the whole address, big-endian with carry. */
static void
vip_add(uint8_t *a, size_t len, uint64_t i)
{
	uint64_t carry = i;
	size_t k;

	for (k = len; k-- > 0 && carry != 0;) {
		carry += a[k];
		a[k] = (uint8_t)carry;
		carry >>= 8;
	}
}

bool
vip_index_usable(const struct vip_config *c, uint64_t i, struct in_addr *v4,
    struct in6_addr *v6)
{
	unsigned h4 = 32 - c->prefix4_len, h6 = 128 - c->prefix6_len;

	if (!c->have4 || !c->have6 || i == 0 ||
	    (h4 < 64 && i >= ((uint64_t)1 << h4)) ||
	    (h6 < 64 && i >= ((uint64_t)1 << h6)))
		return false;
	*v4 = c->prefix4;
	*v6 = c->prefix6;
	vip_add((uint8_t *)v4, 4, i);
	vip_add(v6->s6_addr, 16, i);
	return vip_pair_ok(c, v4, v6);
}

/* ---- database ------------------------------------------------------------ */

static int
vip_bind_text(sqlite3_stmt *st, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sqlite3_bind_text(st, (int)i + 1, v[i], -1,
		    SQLITE_STATIC) != SQLITE_OK)
			return -EIO;
	return 0;
}

/* The pair stored for fqdn in `table` (nodes or vip_assignments): 1, 0. */
static int
vip_db_pair(sqlite3 *db, const char *sql, const char *fqdn,
    struct in_addr *v4, struct in6_addr *v6)
{
	sqlite3_stmt *st = NULL;
	int src, rc = -EIO;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    vip_bind_text(st, &fqdn, 1) < 0)
		goto out;
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t4 = (const char *)sqlite3_column_text(st, 0);
		const char *t6 = (const char *)sqlite3_column_text(st, 1);

		rc = t4 != NULL && t6 != NULL &&
		    inet_pton(AF_INET, t4, v4) == 1 &&
		    inet_pton(AF_INET6, t6, v6) == 1;
	} else if (src == SQLITE_DONE)
		rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* 1 when another name holds v4 or v6 (nodes or assignments), 0 if not. */
static int
vip_db_held(sqlite3 *db, const char *fqdn, const char *t4, const char *t6)
{
	static const char sql[] = "SELECT EXISTS (SELECT 1 FROM nodes WHERE "
	    "fqdn <> ?1 AND (vip4 = ?2 OR vip6 = ?3)) OR EXISTS (SELECT 1 "
	    "FROM vip_assignments WHERE fqdn <> ?1 AND (vip4 = ?2 OR "
	    "vip6 = ?3))";
	const char *v[3] = { fqdn, t4, t6 };
	sqlite3_stmt *st = NULL;
	int rc = -EIO;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    vip_bind_text(st, v, 3) < 0)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		rc = sqlite3_column_int(st, 0) != 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int
vip_db_save(sqlite3 *db, const char *fqdn, const char *t4, const char *t6,
    time_t now)
{
	static const char sql[] = "INSERT INTO vip_assignments (fqdn, vip4, "
	    "vip6, created) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (fqdn) DO "
	    "UPDATE SET vip4 = excluded.vip4, vip6 = excluded.vip6";
	const char *v[3] = { fqdn, t4, t6 };
	sqlite3_stmt *st = NULL;
	int rc = -EIO;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    vip_bind_text(st, v, 3) < 0 ||
	    sqlite3_bind_int64(st, 4, (int64_t)now) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* A stored pair still good for fqdn: 1 (and texts), 0, or -EIO. */
static int
vip_db_reuse(sqlite3 *db, const struct vip_config *c, const char *sql,
    const char *fqdn, struct in_addr *v4, struct in6_addr *v6, char *t4,
    char *t6)
{
	int rc;

	if ((rc = vip_db_pair(db, sql, fqdn, v4, v6)) <= 0)
		return rc;
	if (!vip_pair_ok(c, v4, v6))
		return 0;
	inet_ntop(AF_INET, v4, t4, VIP_TEXT_MAX);
	inet_ntop(AF_INET6, v6, t6, VIP_TEXT_MAX);
	if ((rc = vip_db_held(db, fqdn, t4, t6)) < 0)
		return rc;
	return rc == 0;
}

static int
vip_db_choose(sqlite3 *db, const struct vip_config *c, const char *fqdn,
    struct in_addr *v4, struct in6_addr *v6, char *t4, char *t6,
    bool *stored)
{
	uint64_t i;
	int rc;

	*stored = true;
	if ((rc = vip_db_reuse(db, c, "SELECT vip4, vip6 FROM "
	    "vip_assignments WHERE fqdn = ?", fqdn, v4, v6, t4, t6)) != 0)
		return rc < 0 ? rc : 0;
	*stored = false;
	if ((rc = vip_db_reuse(db, c, "SELECT vip4, vip6 FROM nodes WHERE "
	    "fqdn = ?", fqdn, v4, v6, t4, t6)) != 0)
		return rc < 0 ? rc : 0;
	for (i = 1; i <= VIP_SCAN_MAX; i++) {
		if (32 - c->prefix4_len < 32 &&
		    i >= ((uint64_t)1 << (32 - c->prefix4_len)))
			break;
		if (!vip_index_usable(c, i, v4, v6))
			continue;
		inet_ntop(AF_INET, v4, t4, VIP_TEXT_MAX);
		inet_ntop(AF_INET6, v6, t6, VIP_TEXT_MAX);
		if ((rc = vip_db_held(db, fqdn, t4, t6)) < 0)
			return rc;
		if (rc == 0)
			return 0;
	}
	return -EADDRINUSE;
}

int
vip_assign(sqlite3 *db, const struct vip_config *c, const char *fqdn,
    time_t now, struct in_addr *v4, struct in6_addr *v6)
{
	char t4[VIP_TEXT_MAX], t6[VIP_TEXT_MAX];
	bool stored = false;
	int rc;

	if (!c->have4 || !c->have6)
		return -EINVAL;
	if (c->zone == NULL || !vip_name_in_zone(c->zone, fqdn))
		return -ENOENT;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		log_warnx("vip: %s: begin: %s", fqdn, sqlite3_errmsg(db));
		return -EIO;
	}
	rc = vip_db_choose(db, c, fqdn, v4, v6, t4, t6, &stored);
	if (rc == 0 && !stored)
		rc = vip_db_save(db, fqdn, t4, t6, now);
	if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) !=
	    SQLITE_OK)
		rc = -EIO;
	if (rc == -EIO)
		log_warnx("vip: %s: %s", fqdn, sqlite3_errmsg(db));
	if (rc < 0)
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
