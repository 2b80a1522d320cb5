/* config.c -- table-driven config loader on inih: typed values, defaults, every error at once. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "config_table.h"
#include "loop.h"

/* The report being collected: "name:line: message\n" lines. */
struct config_errs {
	char		*s;
	size_t		 len, cap;
	unsigned	 n;
	bool		 oom;
};

/* One load: inih calls the reader for each line, then the handler. */
struct config_ctx {
	const struct config_key	*table;
	size_t			 rows;
	void			*conf;
	const char		*name;		/* file name for messages */
	FILE			*f;
	char			*line;		/* getline() buffer */
	size_t			 linecap;
	unsigned		 lineno;
	bool			 skip;		/* in a bad section */
	unsigned		*seen;		/* per row: line set, or 0 */
	struct config_errs	 errs;
};

static void	config_err(struct config_ctx *, unsigned, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Appends one line to the report, uncapped. */
static void
config_errs_add(struct config_ctx *c, unsigned line, const char *msg)
{
	struct config_errs *e = &c->errs;
	char full[1024];
	size_t n;
	char *p;

	if (line > 0)
		snprintf(full, sizeof(full), "%s:%u: %s\n", c->name, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s\n", c->name, msg);
	n = strlen(full);
	if (e->len + n + 1 > e->cap) {
		if ((p = realloc(e->s, e->cap + n + 1024)) == NULL) {
			e->oom = true;
			return;
		}
		e->s = p;
		e->cap += n + 1024;
	}
	memcpy(e->s + e->len, full, n + 1);
	e->len += n;
}

static void
config_err(struct config_ctx *c, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->errs.n++ >= CONFIG_ERRORS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_errs_add(c, line, msg);
}

static void *
config_field(void *conf, const struct config_key *k)
{
	return (char *)conf + k->offset;
}

/* "[section] key", or "key" for keys before any section. */
static const char *
config_label(const struct config_key *k, char *buf, size_t len)
{
	if (k->section[0] == '\0')
		snprintf(buf, len, "%s", k->key);
	else
		snprintf(buf, len, "[%s] %s", k->section, k->key);
	return buf;
}

int
config_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = false;
			return 0;
		}
	}
	return -EINVAL;
}

int
config_parse_int(const char *s, int64_t min, int64_t max, int64_t *v)
{
	long long n;
	char *end;

	if (!(isdigit((unsigned char)s[0]) ||
	    (s[0] == '-' && isdigit((unsigned char)s[1]))))
		return -EINVAL;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || n < min || n > max)
		return -ERANGE;
	*v = n;
	return 0;
}

static const struct {
	const char	*unit;
	uint64_t	 ms;
} config_units[] = {
	{ "ms", 1 },		/* before "m" */
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
};

int
config_parse_duration(const char *s, uint64_t *ms, char *why, size_t whylen)
{
	uint64_t total = 0, v, mult;
	const char *p = s;
	size_t i, ulen;

	if (*p == '\0') {
		snprintf(why, whylen, "empty duration");
		return -EINVAL;
	}
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p)) {
			snprintf(why, whylen, "invalid duration '%s': expected "
			    "a number at '%s'", s, p);
			return -EINVAL;
		}
		for (v = 0; isdigit((unsigned char)*p); p++) {
			if (v > (UINT64_MAX - 9) / 10)
				goto range;
			v = v * 10 + (uint64_t)(*p - '0');
		}
		for (i = 0, mult = 0, ulen = 0; i < sizeof(config_units) /
		    sizeof(config_units[0]) && mult == 0; i++) {
			ulen = strlen(config_units[i].unit);
			if (strncmp(p, config_units[i].unit, ulen) == 0 &&
			    !isalpha((unsigned char)p[ulen]))
				mult = config_units[i].ms;
		}
		if (mult == 0) {
			snprintf(why, whylen, "invalid duration '%s': %s unit "
			    "after %" PRIu64 " (use ms, s, m or h)", s,
			    *p == '\0' ? "missing" : "unknown", v);
			return -EINVAL;
		}
		p += ulen;
		if (v > UINT64_MAX / mult || total > UINT64_MAX - v * mult)
			goto range;
		total += v * mult;
	}
	*ms = total;
	return 0;
 range:
	snprintf(why, whylen, "duration '%s' is too large", s);
	return -ERANGE;
}

void
config_format_duration(uint64_t ms, char *buf, size_t len)
{
	size_t i = sizeof(config_units) / sizeof(config_units[0]);

	if (ms == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	while (i-- > 1)
		if (ms % config_units[i].ms == 0)
			break;
	snprintf(buf, len, "%" PRIu64 "%s", ms / config_units[i].ms,
	    config_units[i].unit);
}

int
config_parse_prefix(const char *s, struct config_prefix *pfx, char *why,
    size_t whylen)
{
	char addr[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN];
	const char *slash;
	unsigned maxlen, len = 0, i;
	bool hostbits = false;
	size_t n;

	memset(pfx, 0, sizeof(*pfx));
	if ((slash = strchr(s, '/')) == NULL) {
		snprintf(why, whylen, "'%s' is not a prefix: missing /length",
		    s);
		return -EINVAL;
	}
	n = (size_t)(slash - s);
	if (n >= sizeof(addr))
		goto badaddr;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, pfx->addr) == 1) {
		pfx->family = AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, addr, pfx->addr) == 1) {
		pfx->family = AF_INET6;
		maxlen = 128;
	} else
		goto badaddr;
	if (slash[1] == '\0' || strlen(slash + 1) > 3)
		goto badlen;
	for (i = 1; slash[i] != '\0'; i++) {
		if (!isdigit((unsigned char)slash[i]))
			goto badlen;
		len = len * 10 + (unsigned)(slash[i] - '0');
	}
	if (len > maxlen)
		goto badlen;
	pfx->len = (uint8_t)len;
	for (i = len; i < maxlen; i++) {
		if (pfx->addr[i / 8] & (0x80 >> (i % 8))) {
			hostbits = true;
			pfx->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		}
	}
	if (hostbits) {
		inet_ntop(pfx->family, pfx->addr, net, sizeof(net));
		snprintf(why, whylen, "prefix '%s' has host bits set "
		    "(did you mean %s/%u?)", s, net, len);
		memset(pfx, 0, sizeof(*pfx));
		return -EINVAL;
	}
	return 0;
 badaddr:
	snprintf(why, whylen, "'%s' is not a prefix: bad IPv4 or IPv6 address",
	    s);
	memset(pfx, 0, sizeof(*pfx));
	return -EINVAL;
 badlen:
	snprintf(why, whylen, "'%s' is not a prefix: length must be 0..%u", s,
	    pfx->family == AF_INET ? 32 : 128);
	memset(pfx, 0, sizeof(*pfx));
	return -EINVAL;
}

bool
config_prefix_contains(const struct config_prefix *pfx,
    const struct sockaddr *sa)
{
	const uint8_t *a;
	unsigned full, rest;

	if (pfx->family != sa->sa_family)
		return false;
	if (sa->sa_family == AF_INET)
		a = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = (const uint8_t *)&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
	else
		return false;
	full = pfx->len / 8;
	rest = pfx->len % 8;
	if (memcmp(a, pfx->addr, full) != 0)
		return false;
	return rest == 0 ||
	    ((a[full] ^ pfx->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static int
config_list_add(struct config_list *l, const char *item, size_t len)
{
	char **v, *s;

	if ((s = strndup(item, len)) == NULL)
		return -ENOMEM;
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
		free(s);
		return -ENOMEM;
	}
	l->v = v;
	l->v[l->n++] = s;
	return 0;
}

/* Comma-separated items, each trimmed, appended to the list. */
static int
config_set_list(const struct config_key *k, struct config_list *l,
    const char *value, char *why, size_t whylen)
{
	size_t max = k->max > 0 ? (size_t)k->max : CONFIG_LIST_MAX;
	const char *p = value, *end, *b, *e;
	int rc;

	for (;;) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		for (b = p; b < end && isspace((unsigned char)*b); b++)
			;
		for (e = end; e > b && isspace((unsigned char)e[-1]); e--)
			;
		if (b == e) {
			snprintf(why, whylen, "empty entry in list '%s'",
			    value);
			return -EINVAL;
		}
		if (l->n >= max) {
			snprintf(why, whylen, "more than %zu entries", max);
			return -ERANGE;
		}
		if ((rc = config_list_add(l, b, (size_t)(e - b))) < 0) {
			snprintf(why, whylen, "out of memory");
			return rc;
		}
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

static int
config_set_enum(const struct config_key *k, int *field, const char *value,
    char *why, size_t whylen)
{
	const struct config_enum *e;
	size_t off;

	for (e = k->names; e != NULL && e->name != NULL; e++) {
		if (strcmp(e->name, value) == 0) {
			*field = e->value;
			return 0;
		}
	}
	off = (size_t)snprintf(why, whylen, "unknown value '%s' (expected ",
	    value);
	for (e = k->names; e != NULL && e->name != NULL && off < whylen; e++)
		off += (size_t)snprintf(why + off, whylen - off, "%s%s",
		    e == k->names ? "" : e[1].name == NULL ? " or " : ", ",
		    e->name);
	if (off < whylen)
		snprintf(why + off, whylen - off, ")");
	return -EINVAL;
}

static int
config_set_addr(const struct config_key *k, struct sockaddr_storage *ss,
    const char *value, char *why, size_t whylen)
{
	int rc;

	rc = loop_addr_parse(value, k->port, (k->flags & CONFIG_NEED_PORT) ?
	    LOOP_ADDR_NEED_PORT : 0, ss);
	switch (rc) {
	case 0:
		return 0;
	case -ERANGE:
		snprintf(why, whylen, "bad port in '%s' (0..65535)", value);
		break;
	case -EDESTADDRREQ:
		snprintf(why, whylen, "'%s' needs a port (198.51.100.1:4610, "
		    "[2001:db8::1]:4610)", value);
		break;
	default:
		/* Many colons and no brackets: maybe an IPv6 address:port. */
		snprintf(why, whylen, "'%s' is not an IPv4 or IPv6 address%s",
		    value, strchr(value, ':') != strrchr(value, ':') &&
		    value[0] != '[' ? " (an IPv6 address with a port goes in "
		    "brackets: [2001:db8::1]:4610)" : "");
		break;
	}
	memset(ss, 0, sizeof(*ss));
	return rc;
}

/* Parses value into k's field.  Returns 0 or a negative errno with why. */
static int
config_set(const struct config_key *k, void *conf, const char *value,
    char *why, size_t whylen)
{
	void *field = config_field(conf, k);
	int64_t lo = k->min, hi = k->max, iv;
	uint64_t ms;
	char a[32], b[32];
	char **str;
	int rc;

	switch (k->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		if (k->type == CONFIG_PATH && value[0] != '/') {
			snprintf(why, whylen, "'%s' is not an absolute path",
			    value);
			return -EINVAL;
		}
		str = field;
		free(*str);
		if ((*str = strdup(value)) == NULL) {
			snprintf(why, whylen, "out of memory");
			return -ENOMEM;
		}
		return 0;
	case CONFIG_BOOL:
		if (config_parse_bool(value, field) < 0) {
			snprintf(why, whylen,
			    "'%s' is not a boolean (yes or no)", value);
			return -EINVAL;
		}
		return 0;
	case CONFIG_INT:
		if (lo == 0 && hi == 0) {
			lo = INT64_MIN;
			hi = INT64_MAX;
		}
		rc = config_parse_int(value, lo, hi, &iv);
		if (rc == -EINVAL)
			snprintf(why, whylen, "'%s' is not an integer", value);
		else if (rc == -ERANGE)
			snprintf(why, whylen, "%s is out of range (%" PRId64
			    "..%" PRId64 ")", value, lo, hi);
		else
			*(int64_t *)field = iv;
		return rc;
	case CONFIG_DURATION:
		if ((rc = config_parse_duration(value, &ms, why, whylen)) < 0)
			return rc;
		if ((lo != 0 || hi != 0) && (ms < (uint64_t)lo ||
		    ms > (uint64_t)hi)) {
			config_format_duration((uint64_t)lo, a, sizeof(a));
			config_format_duration((uint64_t)hi, b, sizeof(b));
			snprintf(why, whylen, "%s is out of range (%s..%s)",
			    value, a, b);
			return -ERANGE;
		}
		*(uint64_t *)field = ms;
		return 0;
	case CONFIG_ADDR:
		return config_set_addr(k, field, value, why, whylen);
	case CONFIG_PREFIX:
		return config_parse_prefix(value, field, why, whylen);
	case CONFIG_LIST:
		return config_set_list(k, field, value, why, whylen);
	case CONFIG_ENUM:
		return config_set_enum(k, field, value, why, whylen);
	default:
		snprintf(why, whylen, "bad table row (type %d)", k->type);
		return -EINVAL;
	}
}

static size_t
config_field_size(enum config_type t)
{
	switch (t) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		return sizeof(char *);
	case CONFIG_BOOL:
		return sizeof(bool);
	case CONFIG_INT:
		return sizeof(int64_t);
	case CONFIG_DURATION:
		return sizeof(uint64_t);
	case CONFIG_ADDR:
		return sizeof(struct sockaddr_storage);
	case CONFIG_PREFIX:
		return sizeof(struct config_prefix);
	case CONFIG_LIST:
		return sizeof(struct config_list);
	case CONFIG_ENUM:
		return sizeof(int);
	default:
		return 0;
	}
}

void
config_free(const struct config_key *table, void *conf)
{
	const struct config_key *k;
	struct config_list *l;
	char **s;
	size_t i;

	if (table == NULL || conf == NULL)
		return;
	for (k = table; k->key != NULL; k++) {
		switch (k->type) {
		case CONFIG_STRING:
		case CONFIG_PATH:
			s = config_field(conf, k);
			free(*s);
			*s = NULL;
			break;
		case CONFIG_LIST:
			l = config_field(conf, k);
			for (i = 0; i < l->n; i++)
				free(l->v[i]);
			free(l->v);
			l->v = NULL;
			l->n = 0;
			break;
		default:
			break;
		}
	}
}

static bool
config_has_section(const struct config_key *table, const char *section)
{
	const struct config_key *k;

	for (k = table; k->key != NULL; k++)
		if (strcmp(k->section, section) == 0)
			return true;
	return false;
}

/* Where an inline comment starts (" ;"), or the end of s. */
static char *
config_comment(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++)
		if (*p == ';' && p > s && isspace((unsigned char)p[-1]))
			return p;
	return p;
}

/*
 * inih's line reader.  It checks each line's syntax itself, so that every
 * syntax error is reported with its line (inih reports only the first),
 * drops leading whitespace (inih would take an indented line for a
 * continuation of the previous value) and hands inih a blank line for
 * anything broken.
 */
static char *
config_reader(char *str, int num, void *stream)
{
	struct config_ctx *c = stream;
	char *s, *e, *rest, *name;
	ssize_t n;
	size_t len;

	if ((n = getline(&c->line, &c->linecap, c->f)) < 0)
		return NULL;
	c->lineno++;
	s = c->line;
	if (c->lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;		/* UTF-8 byte order mark */
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	if (*s == '\0' || *s == ';' || *s == '#')
		goto blank;
	if (len > CONFIG_LINE_MAX || len + 2 > (size_t)num) {
		config_err(c, c->lineno, "line too long (more than %d "
		    "characters)", CONFIG_LINE_MAX);
		if (*s == '[')
			c->skip = true;
		goto blank;
	}
	if (*s == '[') {
		c->skip = true;
		if ((e = strchr(s, ']')) == NULL) {
			config_err(c, c->lineno, "section header without ']'");
			goto blank;
		}
		for (rest = e + 1; isspace((unsigned char)*rest); rest++)
			;
		if (*rest != '\0' && *rest != ';' && *rest != '#') {
			config_err(c, c->lineno, "text after section header");
			goto blank;
		}
		*e = '\0';
		for (name = s + 1; isspace((unsigned char)*name); name++)
			;
		while (e > name && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*name == '\0') {
			config_err(c, c->lineno, "empty section name");
			goto blank;
		}
		if (!config_has_section(c->table, name)) {
			config_err(c, c->lineno, "unknown section [%s]", name);
			goto blank;
		}
		c->skip = false;
		snprintf(str, (size_t)num, "[%s]\n", name);
		return str;
	}
	e = config_comment(s);
	name = strpbrk(s, "=:");
	if (name == NULL || name >= e) {
		config_err(c, c->lineno, "expected 'key = value'");
		goto blank;
	}
	if (name == s) {
		config_err(c, c->lineno, "missing key name before '%c'", *name);
		goto blank;
	}
	snprintf(str, (size_t)num, "%s\n", s);
	return str;
 blank:
	snprintf(str, (size_t)num, "\n");
	return str;
}

static int
config_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_ctx *c = user;
	const struct config_key *k;
	char why[384], label[160];
	size_t i;

	if (c->skip)
		return 1;
	for (i = 0, k = NULL; i < c->rows && k == NULL; i++)
		if (strcmp(c->table[i].section, section) == 0 &&
		    strcmp(c->table[i].key, name) == 0)
			k = &c->table[i];
	if (k == NULL) {
		if (section[0] == '\0' && !config_has_section(c->table, ""))
			config_err(c, c->lineno, "%s: key outside any section",
			    name);
		else if (section[0] == '\0')
			config_err(c, c->lineno, "%s: unknown key", name);
		else
			config_err(c, c->lineno, "[%s] %s: unknown key",
			    section, name);
		return 1;
	}
	i--;
	config_label(k, label, sizeof(label));
	if (k->type != CONFIG_LIST && c->seen[i] != 0) {
		config_err(c, c->lineno, "%s: already set on line %u", label,
		    c->seen[i]);
		return 1;
	}
	c->seen[i] = c->lineno;
	if (value[0] == '\0') {
		config_err(c, c->lineno, "%s: missing value", label);
		return 1;
	}
	if (config_set(k, c->conf, value, why, sizeof(why)) < 0)
		config_err(c, c->lineno, "%s: %s", label, why);
	return 1;
}

/* Gives every field of the table its zero value, trusting nothing in it. */
static void
config_zero(const struct config_key *table, void *conf)
{
	const struct config_key *k;

	for (k = table; k->key != NULL; k++)
		memset(config_field(conf, k), 0, config_field_size(k->type));
}

static int
config_load_file(const struct config_key *table, void *conf, const char *name,
    FILE *f, char **errors)
{
	struct config_ctx c;
	const struct config_key *k;
	char why[384], label[160];
	size_t i;
	int rc;

	memset(&c, 0, sizeof(c));
	c.table = table;
	c.conf = conf;
	c.name = name;
	c.f = f;
	config_zero(table, conf);
	for (k = table; k->key != NULL; k++)
		c.rows++;
	if ((c.seen = calloc(c.rows + 1, sizeof(*c.seen))) == NULL) {
		*errors = NULL;
		return -ENOMEM;
	}

	rc = ini_parse_stream(config_reader, &c, config_handler, &c);
	if (rc == -2)
		c.errs.oom = true;
	else if (rc > 0 && c.errs.n == 0)
		config_err(&c, (unsigned)rc, "syntax error");
	if (ferror(f))
		config_err(&c, 0, "read error");

	for (i = 0; i < c.rows; i++) {
		k = &table[i];
		if (c.seen[i] != 0)
			continue;
		config_label(k, label, sizeof(label));
		if (k->flags & CONFIG_REQUIRED)
			config_err(&c, 0, "%s: required key missing", label);
		else if (k->def != NULL &&
		    config_set(k, conf, k->def, why, sizeof(why)) < 0)
			config_err(&c, 0, "%s: bad default: %s", label, why);
	}
	if (c.errs.n > CONFIG_ERRORS_MAX) {
		snprintf(why, sizeof(why), "%u more errors not shown",
		    c.errs.n - CONFIG_ERRORS_MAX);
		config_errs_add(&c, 0, why);
	}

	free(c.line);
	free(c.seen);
	if (c.errs.oom) {
		free(c.errs.s);
		*errors = NULL;
		return -ENOMEM;
	}
	if (c.errs.n > 0) {
		*errors = c.errs.s;
		return -EINVAL;
	}
	free(c.errs.s);
	*errors = NULL;
	return 0;
}

int
config_load(const struct config_key *table, void *conf, const char *path,
    char **errors)
{
	struct stat st;
	FILE *f;
	int rc;

	if ((f = fopen(path, "re")) == NULL) {
		rc = -errno;
		if (asprintf(errors, "%s: %s\n", path, strerror(-rc)) < 0)
			*errors = NULL;
		config_zero(table, conf);
		return rc;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		if (asprintf(errors, "%s: %s\n", path, strerror(EISDIR)) < 0)
			*errors = NULL;
		config_zero(table, conf);
		return -EISDIR;
	}
	rc = config_load_file(table, conf, path, f, errors);
	fclose(f);
	return rc;
}

int
config_load_string(const struct config_key *table, void *conf,
    const char *name, const char *text, char **errors)
{
	static const char empty[] = "\n";
	FILE *f;
	int rc;

	if (text[0] == '\0')
		text = empty;
	f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	if (f == NULL) {
		rc = -errno;
		*errors = NULL;
		config_zero(table, conf);
		return rc;
	}
	rc = config_load_file(table, conf, name, f, errors);
	fclose(f);
	return rc;
}

int
config_load_stderr(const struct config_key *table, void *conf,
    const char *path)
{
	char *report = NULL;
	int rc;

	rc = config_load(table, conf, path, &report);
	if (report != NULL)
		fputs(report, stderr);
	else if (rc < 0)
		fprintf(stderr, "%s: %s\n", path, strerror(-rc));
	free(report);
	if (rc < 0 && rc != -EINVAL) {
		config_free(table, conf);
		return -1;
	}
	return rc < 0 ? 1 : 0;
}

/* Errors found after loading have no line: "file: [section] key: reason". */
int
config_complain(const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static void
config_dump_value(const struct config_key *k, const void *conf, FILE *out)
{
	const void *field = (const char *)conf + k->offset;
	const struct config_prefix *pfx;
	const struct config_list *l;
	const struct config_enum *e;
	char buf[LOOP_ADDRSTRLEN];
	const char *s;
	size_t i;

	switch (k->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		if ((s = *(char *const *)field) == NULL)
			goto unset;
		fprintf(out, "%s = %s\n", k->key, s);
		return;
	case CONFIG_BOOL:
		fprintf(out, "%s = %s\n", k->key, *(const bool *)field ? "yes" :
		    "no");
		return;
	case CONFIG_INT:
		fprintf(out, "%s = %" PRId64 "\n", k->key,
		    *(const int64_t *)field);
		return;
	case CONFIG_DURATION:
		config_format_duration(*(const uint64_t *)field, buf,
		    sizeof(buf));
		fprintf(out, "%s = %s\n", k->key, buf);
		return;
	case CONFIG_ADDR:
		if (loop_addr_format(field, buf, sizeof(buf)) < 0)
			goto unset;
		fprintf(out, "%s = %s\n", k->key, buf);
		return;
	case CONFIG_PREFIX:
		pfx = field;
		if (pfx->family == 0)
			goto unset;
		inet_ntop(pfx->family, pfx->addr, buf, sizeof(buf));
		fprintf(out, "%s = %s/%u\n", k->key, buf, pfx->len);
		return;
	case CONFIG_LIST:
		l = field;
		if (l->n == 0)
			goto unset;
		fprintf(out, "%s = ", k->key);
		for (i = 0; i < l->n; i++)
			fprintf(out, "%s%s", i > 0 ? ", " : "", l->v[i]);
		fputc('\n', out);
		return;
	case CONFIG_ENUM:
		for (e = k->names; e != NULL && e->name != NULL; e++) {
			if (e->value == *(const int *)field) {
				fprintf(out, "%s = %s\n", k->key, e->name);
				return;
			}
		}
		goto unset;
	default:
		goto unset;
	}
 unset:
	fprintf(out, "# %s is not set\n", k->key);
}

int
config_dump(const struct config_key *table, const void *conf, FILE *out)
{
	const struct config_key *k;
	const char *section = "";

	for (k = table; k->key != NULL; k++) {
		if (strcmp(k->section, section) != 0) {
			fprintf(out, "%s[%s]\n", k == table ? "" : "\n",
			    k->section);
			section = k->section;
		}
		config_dump_value(k, conf, out);
	}
	return ferror(out) ? -EIO : 0;
}

static int
config_check_private_stat(const struct stat *st, const char *name, char *why,
    size_t whylen)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", name);
		return -EINVAL;
	}
	if (st->st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(why, whylen, "%s: group or others may access it "
		    "(mode %04o); chmod 600 it", name,
		    (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	if (st->st_uid != geteuid() && st->st_uid != 0) {
		snprintf(why, whylen, "%s: owned by uid %u, not by uid %u or "
		    "root", name, (unsigned)st->st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	return 0;
}

int
config_check_private_file(const char *path, char *why, size_t whylen)
{
	struct stat st;
	int rc;

	if (stat(path, &st) < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	return config_check_private_stat(&st, path, why, whylen);
}

int
config_check_private_fd(int fd, const char *name, char *why, size_t whylen)
{
	struct stat st;
	int rc;

	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s: %s", name, strerror(-rc));
		return rc;
	}
	return config_check_private_stat(&st, name, why, whylen);
}
