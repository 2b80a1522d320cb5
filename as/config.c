/* config.c -- ntm-as.conf through lib/config's table loader: [as] and one [dc.NAME] section per DC. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "as.h"
#include "buf.h"
#include "cert.h"
#include "enroll.h"
#include "loop.h"
#include "outbox.h"
#include "status.h"
#include "ticket.h"

#define F(field)	offsetof(struct as_config, field)
static const struct config_key as_keys[] = {
	{ "as", "listen", CONFIG_ADDR, F(listen), "0.0.0.0:4612", 0, 0, 0,
	    PROTO_PORT_AS, NULL },
	{ "as", "database", CONFIG_PATH, F(db_path),
	    "/var/lib/ntmobile/as.db", 0, 0, 0, 0, NULL },
	{ "as", "trust", CONFIG_PATH, F(trust), NULL, 0, 0, CONFIG_REQUIRED,
	    0, NULL },
	{ "as", "ca_cert", CONFIG_PATH, F(ca_cert), NULL, 0, 0,
	    CONFIG_REQUIRED, 0, NULL },
	{ "as", "ca_key", CONFIG_PATH, F(ca_key), NULL, 0, 0, CONFIG_REQUIRED,
	    0, NULL },
	{ "as", "tls_cert", CONFIG_PATH, F(tls_cert), NULL, 0, 0,
	    CONFIG_REQUIRED, 0, NULL },
	{ "as", "tls_key", CONFIG_PATH, F(tls_key), NULL, 0, 0,
	    CONFIG_REQUIRED, 0, NULL },
	{ "as", "crl", CONFIG_PATH, F(crl), NULL, 0, 0, 0, 0, NULL },
	{ "as", "control", CONFIG_PATH, F(control), AS_CONTROL_DEFAULT, 0, 0,
	    0, 0, NULL },
	{ "as", "cert_lifetime", CONFIG_DURATION, F(cert_lifetime_ms), "720h",
	    (int64_t)ENROLL_LIFETIME_MIN * 1000,
	    (int64_t)ENROLL_LIFETIME_MAX * 1000, 0, 0, NULL },
	{ "as", "status_validity", CONFIG_DURATION, F(status_validity_ms),
	    "10m", STATUS_VALIDITY_MIN * 1000, STATUS_VALIDITY_MAX * 1000, 0,
	    0, NULL },
	{ "as", "ticket_lifetime", CONFIG_DURATION, F(ticket_lifetime_ms),
	    "24h", 60000, (int64_t)PROTO_TIMER_TICKET_S * 1000, 0, 0, NULL },
	{ "as", "argon2_checks", CONFIG_INT, F(argon2_checks), "4", 1, 64, 0,
	    0, NULL },
	{ "as", "argon2_passes", CONFIG_INT, F(argon2_t), "2", 1, 16, 0, 0,
	    NULL },
	{ "as", "argon2_memory_kib", CONFIG_INT, F(argon2_m_kib), "65536", 64,
	    4194304, 0, 0, NULL },
	{ "as", "account_burst", CONFIG_INT, F(account_burst), "5", 1, 1000,
	    0, 0, NULL },
	{ "as", "account_per_minute", CONFIG_INT, F(account_per_min), "5", 1,
	    6000, 0, 0, NULL },
	{ "as", "source_burst", CONFIG_INT, F(source_burst), "20", 1, 10000,
	    0, 0, NULL },
	{ "as", "source_per_minute", CONFIG_INT, F(source_per_min), "30", 1,
	    60000, 0, 0, NULL },
	{ "as", "notice_window", CONFIG_INT, F(notice_window), "32", 1,
	    OUTBOX_WINDOW_MAX, 0, 0, NULL },
	{ "as", "vip_timeout", CONFIG_DURATION, F(vip_timeout_ms), "3s", 100,
	    60000, 0, 0, NULL },
	{ "as", "ticket_key_rotation", CONFIG_DURATION, F(ticket_rotate_ms),
	    "24h", 60000, (int64_t)PROTO_TIMER_TICKET_S * 1000 * 7, 0, 0,
	    NULL },
};
#undef F

static const struct config_enum as_vip_sources[] = {
	{ "pool", AS_VIP_POOL },
	{ "dc", AS_VIP_DC },
	{ NULL, 0 },
};

/* Per-DC keys; offsets are relative to struct as_dc_conf. */
#define D(field)	offsetof(struct as_dc_conf, field)
static const struct config_key as_dc_keys[] = {
	{ NULL, "zone", CONFIG_STRING, D(zone), NULL, 0, 0, CONFIG_REQUIRED,
	    0, NULL },
	{ NULL, "address", CONFIG_ADDR, D(address), NULL, 0, 0,
	    CONFIG_REQUIRED, PROTO_PORT_DC_TLS, NULL },
	{ NULL, "signalling", CONFIG_LIST, D(signalling), NULL, 0,
	    ENROLL_DC_ADDRS_MAX, 0, 0, NULL },
	{ NULL, "prefix4", CONFIG_PREFIX, D(prefix4), NULL, 0, 0,
	    CONFIG_REQUIRED, 0, NULL },
	{ NULL, "prefix6", CONFIG_PREFIX, D(prefix6), NULL, 0, 0,
	    CONFIG_REQUIRED, 0, NULL },
	{ NULL, "pool4", CONFIG_PREFIX, D(pool4), NULL, 0, 0, 0, 0, NULL },
	{ NULL, "pool6", CONFIG_PREFIX, D(pool6), NULL, 0, 0, 0, 0, NULL },
	{ NULL, "vip_source", CONFIG_ENUM, D(vip_source), "pool", 0, 0, 0, 0,
	    as_vip_sources },
	{ NULL, "ticket_key", CONFIG_PATH, D(ticket_key), NULL, 0, 0, 0, 0,
	    NULL },
};
#undef D

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The table for this file: the [as] rows, then the per-DC rows once for
 * each [dc.NAME] header found in the file.  Section names live in names[].
 */
struct as_table {
	struct config_key	 rows[NELEM(as_keys) + AS_DCS_MAX *
				     NELEM(as_dc_keys) + 1];
	char			 names[AS_DCS_MAX][AS_DC_NAME_MAX + 4];
	size_t			 ndcs;
};

static int
config_as_sections(const char *path, struct as_table *t, FILE *err)
{
	char line[512], *p, *end;
	size_t lineno = 0, i, len;
	FILE *f;
	int rv = 0;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(err, "%s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (strncmp(p, "[dc.", 4) != 0)
			continue;
		if ((end = strchr(p, ']')) == NULL)
			continue;	/* the loader reports it */
		*end = '\0';
		len = strlen(p + 1);
		if (!outbox_dc_valid(p + 4) || len > AS_DC_NAME_MAX + 3) {
			fprintf(err, "%s:%zu: [%s]: DC name must be 1-%d "
			    "characters of [a-z0-9.-]\n", path, lineno, p + 1,
			    AS_DC_NAME_MAX);
			rv = -EINVAL;
			continue;
		}
		for (i = 0; i < t->ndcs; i++)
			if (strcmp(t->names[i], p + 1) == 0)
				break;
		if (i < t->ndcs)
			continue;	/* the loader reports duplicates */
		if (t->ndcs == AS_DCS_MAX) {
			fprintf(err, "%s:%zu: more than %d DCs\n", path, lineno,
			    AS_DCS_MAX);
			rv = -EINVAL;
			continue;
		}
		snprintf(t->names[t->ndcs++], sizeof(t->names[0]), "%s",
		    p + 1);
	}
	fclose(f);
	return rv;
}

static void
config_as_table(struct as_table *t)
{
	size_t i, k, n = 0;

	for (k = 0; k < NELEM(as_keys); k++)
		t->rows[n++] = as_keys[k];
	for (i = 0; i < t->ndcs; i++)
		for (k = 0; k < NELEM(as_dc_keys); k++) {
			t->rows[n] = as_dc_keys[k];
			t->rows[n].section = t->names[i];
			t->rows[n].offset += offsetof(struct as_config, dc) +
			    i * sizeof(struct as_dc_conf);
			n++;
		}
	memset(&t->rows[n], 0, sizeof(t->rows[n]));
}

static bool
config_as_within(const struct config_prefix *in, const struct config_prefix *p)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	if (in->family != p->family || in->len < p->len)
		return false;
	memset(&ss, 0, sizeof(ss));
	if (in->family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, in->addr, 4);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, in->addr, 16);
	}
	return config_prefix_contains(p, (struct sockaddr *)&ss);
}

static bool
config_as_overlap(const struct config_prefix *a, const struct config_prefix *b)
{
	return config_as_within(a, b) || config_as_within(b, a);
}

static bool
config_as_lower(const char *s)
{
	for (; *s != '\0'; s++)
		if (isupper((unsigned char)*s))
			return false;
	return true;
}

/* The DC's own checks, after the loader: prefixes, pools, keys. */
static int
config_as_check_dc(const char *path, struct as_config *c, size_t i)
{
	struct as_dc_conf *d = &c->dc[i];
	struct sockaddr_storage ss;
	uint8_t key[AS_TICKET_KEY_LEN];
	uint32_t id;
	size_t k;
	int rv = 0;

	if (d->prefix4.family != AF_INET || d->prefix6.family != AF_INET6) {
		fprintf(stderr, "%s: [dc.%s] prefix4 must be IPv4 and prefix6 "
		    "IPv6\n", path, d->name);
		return -EINVAL;
	}
	d->pool_set = d->pool4.family != 0 || d->pool6.family != 0;
	if (d->pool4.family == 0)
		d->pool4 = d->prefix4;
	if (d->pool6.family == 0)
		d->pool6 = d->prefix6;
	if (!config_as_within(&d->pool4, &d->prefix4) ||
	    !config_as_within(&d->pool6, &d->prefix6)) {
		fprintf(stderr, "%s: [dc.%s] pool4/pool6 must lie inside "
		    "prefix4/prefix6\n", path, d->name);
		rv = -EINVAL;
	}
	if (d->pool4.len > 30 || d->pool6.len > 126) {
		fprintf(stderr, "%s: [dc.%s] pools need at least 2 usable "
		    "addresses\n", path, d->name);
		rv = -EINVAL;
	}
	if (!config_as_lower(d->zone) || !cert_name_valid(d->zone)) {
		fprintf(stderr, "%s: [dc.%s] zone '%s' is not a valid lower-"
		    "case name\n", path, d->name, d->zone);
		rv = -EINVAL;
	}
	for (k = 0; k < i; k++) {
		if (strcmp(c->dc[k].zone, d->zone) == 0) {
			fprintf(stderr, "%s: [dc.%s] zone %s is also dc.%s's\n",
			    path, d->name, d->zone, c->dc[k].name);
			rv = -EINVAL;
		}
		if (config_as_overlap(&c->dc[k].prefix4, &d->prefix4) ||
		    config_as_overlap(&c->dc[k].prefix6, &d->prefix6)) {
			fprintf(stderr, "%s: [dc.%s] prefixes overlap dc.%s's\n",
			    path, d->name, c->dc[k].name);
			rv = -EINVAL;
		}
	}
	for (k = 0; k < d->signalling.n; k++)
		if (loop_addr_parse(d->signalling.v[k], PROTO_PORT_DC, 0,
		    &ss) < 0) {
			fprintf(stderr, "%s: [dc.%s] signalling: '%s' is not an "
			    "address\n", path, d->name, d->signalling.v[k]);
			rv = -EINVAL;
		}
	if (d->ticket_key != NULL &&
	    config_as_ticket_key(d->ticket_key, key, &id) < 0)
		rv = -EINVAL;
	gnutls_memset(key, 0, sizeof(key));
	return rv;
}

int
config_as_load(const char *path, struct as_config *c)
{
	struct as_table *t;
	char *errors = NULL, why[256];
	size_t i;
	int rv;

	memset(c, 0, sizeof(*c));
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	if ((rv = config_as_sections(path, t, stderr)) < 0 && rv != -EINVAL)
		goto out;
	config_as_table(t);
	if (config_load(t->rows, c, path, &errors) < 0 || rv < 0) {
		if (errors != NULL)
			fputs(errors, stderr);
		rv = -EINVAL;
		c->ndcs = t->ndcs;
		for (i = 0; i < t->ndcs; i++)
			c->dc[i].name = strdup(t->names[i] + 3);
		goto out;
	}
	c->ndcs = t->ndcs;
	for (i = 0; i < t->ndcs; i++)
		if ((c->dc[i].name = strdup(t->names[i] + 3)) == NULL) {
			rv = -ENOMEM;
			goto out;
		}
	if (c->ndcs == 0) {
		fprintf(stderr, "%s: no [dc.NAME] section: the AS needs at "
		    "least one DC\n", path);
		rv = -EINVAL;
	}
	for (i = 0; i < c->ndcs; i++)
		if (config_as_check_dc(path, c, i) < 0)
			rv = -EINVAL;
	/* A DC holds two keys: the previous must outlive its tickets. */
	if (c->ticket_rotate_ms < c->ticket_lifetime_ms) {
		fprintf(stderr, "%s: [as] ticket_key_rotation must be at least "
		    "ticket_lifetime\n", path);
		rv = -EINVAL;
	}
	if (rv == 0 && config_check_private_file(c->tls_key, why,
	    sizeof(why)) < 0) {
		fprintf(stderr, "%s: [as] tls_key: %s\n", path, why);
		rv = -EINVAL;
	}
out:
	free(errors);
	free(t);
	return rv;
}

void
config_as_free(struct as_config *c)
{
	struct as_table *t;
	size_t i;

	if (c == NULL)
		return;
	if ((t = calloc(1, sizeof(*t))) != NULL) {
		t->ndcs = c->ndcs;
		for (i = 0; i < c->ndcs; i++)
			snprintf(t->names[i], sizeof(t->names[i]), "dc.%s",
			    c->dc[i].name ? c->dc[i].name : "");
		config_as_table(t);
		config_free(t->rows, c);
		free(t);
	}
	for (i = 0; i < c->ndcs; i++)
		free(c->dc[i].name);
	memset(c, 0, sizeof(*c));
}

int
config_as_ticket_key(const char *path, uint8_t key[AS_TICKET_KEY_LEN],
    uint32_t *id)
{
	char why[256];
	int rv;

	if ((rv = ticket_key_read(path, key, id, why, sizeof(why))) < 0)
		fprintf(stderr, "%s\n", why);
	return rv;
}
