/* ctlmsg.c -- strict parser/formatter of ntmd's control lines and nss.conf. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ctlmsg.h"

/*
 * Most fields in a line: TUNNEL fqdn route state, CTLMSG_ADDR_MAX addrs,
 * CTLMSG_OPTS_MAX options.
 */
#define CTLMSG_FIELDS_MAX	(4 + CTLMSG_ADDR_MAX + CTLMSG_OPTS_MAX)
/* Longest canonical address text, NUL excluded (INET6_ADDRSTRLEN - 1). */
#define CTLMSG_ADDRTEXT_MAX	45

struct ctlmsg_field {
	const char	*p;
	size_t		 len;
};

static const struct {
	enum ctlmsg_type	 type;
	const char		*verb;
} ctlmsg_verbs[] = {
	{ CTLMSG_RESOLVE,	"RESOLVE" },
	{ CTLMSG_REVERSE,	"REVERSE" },
	{ CTLMSG_STATUS,	"STATUS" },
	{ CTLMSG_TUNNELS,	"TUNNELS" },
	{ CTLMSG_CLOSE,		"CLOSE" },
	{ CTLMSG_WAIT,		"WAIT" },
	{ CTLMSG_OK,		"OK" },
	{ CTLMSG_NOTFOUND,	"NOTFOUND" },
	{ CTLMSG_UNAVAIL,	"UNAVAIL" },
	{ CTLMSG_ERROR,		"ERROR" },
	{ CTLMSG_STAT,		"STAT" },
	{ CTLMSG_TUNNEL,	"TUNNEL" },
	{ CTLMSG_END,		"END" },
};

static const char *const ctlmsg_families[] = {
	[CTLMSG_FAMILY_INET] = "inet",
	[CTLMSG_FAMILY_INET6] = "inet6",
	[CTLMSG_FAMILY_ANY] = "any",
};

const char *
ctlmsg_type_name(enum ctlmsg_type t)
{
	size_t i;

	for (i = 0; i < sizeof(ctlmsg_verbs) / sizeof(ctlmsg_verbs[0]); i++)
		if (ctlmsg_verbs[i].type == t)
			return ctlmsg_verbs[i].verb;
	return NULL;
}

const char *
ctlmsg_family_name(enum ctlmsg_family f)
{
	if (f <= CTLMSG_FAMILY_INVALID || f > CTLMSG_FAMILY_ANY)
		return NULL;
	return ctlmsg_families[f];
}

bool
ctlmsg_is_answer(enum ctlmsg_type t)
{
	return t >= CTLMSG_WAIT && t <= CTLMSG_END;
}

static bool
ctlmsg_field_is(const struct ctlmsg_field *f, const char *s)
{
	size_t n = strlen(s);

	return f->len == n && memcmp(f->p, s, n) == 0;
}

static bool
ctlmsg_is_lower_ldh(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '-';
}

bool
ctlmsg_name_valid(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > CTLMSG_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!ctlmsg_is_lower_ldh(s[i]))
			return false;
		if (s[i] == '-' && label == 0)
			return false;
		if (++label > CTLMSG_LABEL_MAX)
			return false;
	}
	return label > 0 && s[len - 1] != '-';
}

int
ctlmsg_name_normalize(const char *in, char *out, size_t cap)
{
	size_t i, len = strlen(in);

	if (len > 1 && in[len - 1] == '.')
		len--;
	if (len > CTLMSG_NAME_MAX)
		return -EINVAL;
	if (cap < len + 1)
		return -ENOSPC;
	for (i = 0; i < len; i++) {
		char ch = in[i];

		out[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	out[len] = '\0';
	return ctlmsg_name_valid(out, len) ? 0 : -EINVAL;
}

bool
ctlmsg_name_in_zone(const char *name, const char *zone)
{
	size_t nlen = strlen(name), zlen = strlen(zone);

	if (zlen == 0 || nlen <= zlen + 1)
		return false;
	return name[nlen - zlen - 1] == '.' &&
	    memcmp(name + nlen - zlen, zone, zlen) == 0;
}

int
ctlmsg_addr_format(const struct ctlmsg_addr *a, char *buf, size_t cap)
{
	if (a->af != AF_INET && a->af != AF_INET6)
		return -EINVAL;
	if (inet_ntop(a->af, a->a, buf, (socklen_t)cap) == NULL)
		return -ENOSPC;
	return 0;
}

int
ctlmsg_addr_parse(struct ctlmsg_addr *a, const char *s, size_t len)
{
	char in[CTLMSG_ADDRTEXT_MAX + 1], back[CTLMSG_ADDRTEXT_MAX + 1];

	memset(a, 0, sizeof(*a));
	if (len == 0 || len > CTLMSG_ADDRTEXT_MAX)
		return -EINVAL;
	memcpy(in, s, len);
	in[len] = '\0';
	if (strlen(in) != len)
		return -EINVAL;
	a->af = memchr(in, ':', len) != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(a->af, in, a->a) != 1)
		goto bad;
	/* Only the canonical spelling, so a line formats back to itself. */
	if (ctlmsg_addr_format(a, back, sizeof(back)) < 0 ||
	    strcmp(back, in) != 0)
		goto bad;
	return 0;
bad:
	memset(a, 0, sizeof(*a));
	return -EINVAL;
}

static bool
ctlmsg_word_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CTLMSG_WORD_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!ctlmsg_is_lower_ldh(s[i]) && s[i] != '_')
			return false;
	return true;
}

static bool
ctlmsg_value_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CTLMSG_VALUE_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

/* A TUNNEL option's key or value: 1..max bytes of a-z 0-9 - _. */
static bool
ctlmsg_opt_part_valid(const char *s, size_t len, size_t max)
{
	return len <= max && ctlmsg_word_valid(s, len);
}

int
ctlmsg_opt_add(struct ctlmsg *m, const char *key, const char *value)
{
	struct ctlmsg_opt *o;

	if (!ctlmsg_opt_part_valid(key, strlen(key), CTLMSG_OPT_KEY_MAX) ||
	    !ctlmsg_opt_part_valid(value, strlen(value),
	    CTLMSG_OPT_VALUE_MAX) || ctlmsg_opt_get(m, key) != NULL)
		return -EINVAL;
	if (m->nopt >= CTLMSG_OPTS_MAX)
		return -ENOSPC;
	o = &m->opt[m->nopt++];
	memcpy(o->key, key, strlen(key) + 1);
	memcpy(o->value, value, strlen(value) + 1);
	return 0;
}

int
ctlmsg_opt_add_u64(struct ctlmsg *m, const char *key, uint64_t v)
{
	char num[CTLMSG_OPT_VALUE_MAX + 1];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	return ctlmsg_opt_add(m, key, num);
}

const char *
ctlmsg_opt_get(const struct ctlmsg *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->nopt && i < CTLMSG_OPTS_MAX; i++)
		if (strcmp(m->opt[i].key, key) == 0)
			return m->opt[i].value;
	return NULL;
}

/* Decimal without sign or leading zero, 1 .. max. */
static int
ctlmsg_number_parse(const char *s, size_t len, uint32_t max, uint32_t *v)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0 || len > 10 || s[0] == '0')
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (n > max)
		return -EINVAL;
	*v = (uint32_t)n;
	return 0;
}

int
ctlmsg_line(const char *buf, size_t len, size_t *linelen)
{
	size_t scan = len < CTLMSG_LINE_MAX ? len : CTLMSG_LINE_MAX;
	const char *lf = memchr(buf, '\n', scan);

	if (lf != NULL) {
		*linelen = (size_t)(lf - buf);
		return 0;
	}
	return len >= CTLMSG_LINE_MAX ? -EMSGSIZE : -EAGAIN;
}

/*
 * Splits a line into fields at single spaces.  Returns the number of fields
 * or -EINVAL for a byte outside 0x20..0x7e, an empty field (leading,
 * trailing or double space) or more than CTLMSG_FIELDS_MAX fields.
 */
static int
ctlmsg_split(const char *line, size_t len, struct ctlmsg_field *f)
{
	size_t i, start = 0;
	int n = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != ' ') {
			if (line[i] < 0x21 || line[i] > 0x7e)
				return -EINVAL;
			continue;
		}
		if (i == start || n == CTLMSG_FIELDS_MAX)
			return -EINVAL;
		f[n].p = line + start;
		f[n].len = i - start;
		n++;
		start = i + 1;
	}
	return n;
}

static int
ctlmsg_copy_name(char *dst, const struct ctlmsg_field *f)
{
	if (!ctlmsg_name_valid(f->p, f->len))
		return -EINVAL;
	memcpy(dst, f->p, f->len);
	dst[f->len] = '\0';
	return 0;
}

static int
ctlmsg_copy_word(char *dst, const struct ctlmsg_field *f)
{
	if (!ctlmsg_word_valid(f->p, f->len))
		return -EINVAL;
	memcpy(dst, f->p, f->len);
	dst[f->len] = '\0';
	return 0;
}

static int
ctlmsg_parse_addrs(struct ctlmsg *m, const struct ctlmsg_field *f, int n)
{
	int i;

	if (n < 1 || n > CTLMSG_ADDR_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (ctlmsg_addr_parse(&m->addr[i], f[i].p, f[i].len) < 0)
			return -EINVAL;
	m->naddr = (size_t)n;
	return 0;
}

/*
 * The options after a TUNNEL line's addresses: each "key=value" with one
 * '=', parts as ctlmsg_opt_add checks them, no key twice.
 */
static int
ctlmsg_parse_opts(struct ctlmsg *m, const struct ctlmsg_field *f, int n)
{
	char key[CTLMSG_OPT_KEY_MAX + 1], value[CTLMSG_OPT_VALUE_MAX + 1];
	const char *eq;
	size_t klen, vlen;
	int i;

	if (n > CTLMSG_OPTS_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if ((eq = memchr(f[i].p, '=', f[i].len)) == NULL)
			return -EINVAL;
		klen = (size_t)(eq - f[i].p);
		vlen = f[i].len - klen - 1;
		if (!ctlmsg_opt_part_valid(f[i].p, klen, CTLMSG_OPT_KEY_MAX) ||
		    !ctlmsg_opt_part_valid(eq + 1, vlen, CTLMSG_OPT_VALUE_MAX))
			return -EINVAL;
		memcpy(key, f[i].p, klen);
		key[klen] = '\0';
		memcpy(value, eq + 1, vlen);
		value[vlen] = '\0';
		if (ctlmsg_opt_add(m, key, value) < 0)
			return -EINVAL;
	}
	return 0;
}

/* TUNNEL fields after the state: addresses, then options (with '='). */
static int
ctlmsg_parse_tunnel_tail(struct ctlmsg *m, const struct ctlmsg_field *f,
    int n)
{
	int naddr = 0;

	while (naddr < n && memchr(f[naddr].p, '=', f[naddr].len) == NULL)
		naddr++;
	if (ctlmsg_parse_addrs(m, f, naddr) < 0)
		return -EINVAL;
	return ctlmsg_parse_opts(m, f + naddr, n - naddr);
}

static int
ctlmsg_parse_fields(struct ctlmsg *m, const struct ctlmsg_field *f, int n)
{
	size_t i;
	int fam;

	for (i = 0; i < sizeof(ctlmsg_verbs) / sizeof(ctlmsg_verbs[0]); i++)
		if (ctlmsg_field_is(&f[0], ctlmsg_verbs[i].verb))
			m->type = ctlmsg_verbs[i].type;
	switch (m->type) {
	case CTLMSG_RESOLVE:
		if (n != 3 || ctlmsg_copy_name(m->name, &f[1]) < 0)
			return -EINVAL;
		for (fam = CTLMSG_FAMILY_INET; fam <= CTLMSG_FAMILY_ANY; fam++)
			if (ctlmsg_field_is(&f[2], ctlmsg_families[fam]))
				m->family = (enum ctlmsg_family)fam;
		return m->family == CTLMSG_FAMILY_INVALID ? -EINVAL : 0;
	case CTLMSG_REVERSE:
		if (n != 2)
			return -EINVAL;
		return ctlmsg_parse_addrs(m, &f[1], 1);
	case CTLMSG_CLOSE:
		if (n != 2)
			return -EINVAL;
		return ctlmsg_copy_name(m->name, &f[1]);
	case CTLMSG_STATUS:
	case CTLMSG_TUNNELS:
	case CTLMSG_END:
		return n == 1 ? 0 : -EINVAL;
	case CTLMSG_WAIT:
		if (n != 2)
			return -EINVAL;
		return ctlmsg_number_parse(f[1].p, f[1].len,
		    CTLMSG_WAIT_MAX_MS, &m->wait_ms);
	case CTLMSG_OK:
		if (n < 3 || ctlmsg_copy_name(m->name, &f[1]) < 0)
			return -EINVAL;
		return ctlmsg_parse_addrs(m, &f[2], n - 2);
	case CTLMSG_NOTFOUND:
	case CTLMSG_UNAVAIL:
	case CTLMSG_ERROR:
		if (n != 2)
			return -EINVAL;
		return ctlmsg_copy_word(m->word, &f[1]);
	case CTLMSG_STAT:
		if (n != 3 || ctlmsg_copy_word(m->word, &f[1]) < 0 ||
		    !ctlmsg_value_valid(f[2].p, f[2].len))
			return -EINVAL;
		memcpy(m->value, f[2].p, f[2].len);
		m->value[f[2].len] = '\0';
		return 0;
	case CTLMSG_TUNNEL:
		if (n < 5 || ctlmsg_copy_name(m->name, &f[1]) < 0 ||
		    ctlmsg_copy_word(m->word, &f[2]) < 0 ||
		    ctlmsg_copy_word(m->value, &f[3]) < 0)
			return -EINVAL;
		return ctlmsg_parse_tunnel_tail(m, &f[4], n - 4);
	case CTLMSG_INVALID:
		break;
	}
	return -EINVAL;
}

int
ctlmsg_parse(struct ctlmsg *m, const char *line, size_t len)
{
	struct ctlmsg_field f[CTLMSG_FIELDS_MAX];
	int n, rc;

	memset(m, 0, sizeof(*m));
	if (len >= CTLMSG_LINE_MAX)
		return -EMSGSIZE;
	if ((n = ctlmsg_split(line, len, f)) < 0)
		return n;
	if ((rc = ctlmsg_parse_fields(m, f, n)) < 0) {
		memset(m, 0, sizeof(*m));
		return rc;
	}
	return 0;
}

/* A bounded text writer: the first error sticks, nothing goes past cap. */
struct ctlmsg_out {
	char	*p;
	size_t	 cap;
	size_t	 len;
	int	 err;
};

static void
ctlmsg_put(struct ctlmsg_out *o, const char *s, size_t n)
{
	if (o->err != 0)
		return;
	if (o->cap - o->len < n) {
		o->err = -ENOSPC;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* Appends " field". */
static void
ctlmsg_put_field(struct ctlmsg_out *o, const char *s)
{
	ctlmsg_put(o, " ", 1);
	ctlmsg_put(o, s, strlen(s));
}

static int
ctlmsg_put_addrs(struct ctlmsg_out *o, const struct ctlmsg *m)
{
	char text[CTLMSG_ADDRTEXT_MAX + 1];
	size_t i;

	if (m->naddr < 1 || m->naddr > CTLMSG_ADDR_MAX)
		return -EINVAL;
	for (i = 0; i < m->naddr; i++) {
		if (ctlmsg_addr_format(&m->addr[i], text, sizeof(text)) < 0)
			return -EINVAL;
		ctlmsg_put_field(o, text);
	}
	return 0;
}

static int
ctlmsg_put_opts(struct ctlmsg_out *o, const struct ctlmsg *m)
{
	const struct ctlmsg_opt *op;
	size_t i, j, klen, vlen;

	if (m->nopt > CTLMSG_OPTS_MAX)
		return -EINVAL;
	for (i = 0; i < m->nopt; i++) {
		op = &m->opt[i];
		klen = strnlen(op->key, sizeof(op->key));
		vlen = strnlen(op->value, sizeof(op->value));
		if (klen == sizeof(op->key) || vlen == sizeof(op->value) ||
		    !ctlmsg_opt_part_valid(op->key, klen, CTLMSG_OPT_KEY_MAX) ||
		    !ctlmsg_opt_part_valid(op->value, vlen,
		    CTLMSG_OPT_VALUE_MAX))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (strcmp(m->opt[j].key, op->key) == 0)
				return -EINVAL;
		ctlmsg_put(o, " ", 1);
		ctlmsg_put(o, op->key, klen);
		ctlmsg_put(o, "=", 1);
		ctlmsg_put(o, op->value, vlen);
	}
	return 0;
}

static bool
ctlmsg_str_name(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	return n < cap && ctlmsg_name_valid(s, n);
}

static bool
ctlmsg_str_word(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	return n < cap && ctlmsg_word_valid(s, n);
}

static int
ctlmsg_format_fields(struct ctlmsg_out *o, const struct ctlmsg *m)
{
	char num[16];

	switch (m->type) {
	case CTLMSG_RESOLVE:
		if (!ctlmsg_str_name(m->name, sizeof(m->name)) ||
		    ctlmsg_family_name(m->family) == NULL)
			return -EINVAL;
		ctlmsg_put_field(o, m->name);
		ctlmsg_put_field(o, ctlmsg_family_name(m->family));
		return 0;
	case CTLMSG_REVERSE:
		if (m->naddr != 1)
			return -EINVAL;
		return ctlmsg_put_addrs(o, m);
	case CTLMSG_CLOSE:
		if (!ctlmsg_str_name(m->name, sizeof(m->name)))
			return -EINVAL;
		ctlmsg_put_field(o, m->name);
		return 0;
	case CTLMSG_STATUS:
	case CTLMSG_TUNNELS:
	case CTLMSG_END:
		return 0;
	case CTLMSG_WAIT:
		if (m->wait_ms < 1 || m->wait_ms > CTLMSG_WAIT_MAX_MS)
			return -EINVAL;
		snprintf(num, sizeof(num), "%u", (unsigned int)m->wait_ms);
		ctlmsg_put_field(o, num);
		return 0;
	case CTLMSG_OK:
		if (!ctlmsg_str_name(m->name, sizeof(m->name)))
			return -EINVAL;
		ctlmsg_put_field(o, m->name);
		return ctlmsg_put_addrs(o, m);
	case CTLMSG_NOTFOUND:
	case CTLMSG_UNAVAIL:
	case CTLMSG_ERROR:
		if (!ctlmsg_str_word(m->word, sizeof(m->word)))
			return -EINVAL;
		ctlmsg_put_field(o, m->word);
		return 0;
	case CTLMSG_STAT:
		if (!ctlmsg_str_word(m->word, sizeof(m->word)) ||
		    strnlen(m->value, sizeof(m->value)) == sizeof(m->value) ||
		    !ctlmsg_value_valid(m->value, strlen(m->value)))
			return -EINVAL;
		ctlmsg_put_field(o, m->word);
		ctlmsg_put_field(o, m->value);
		return 0;
	case CTLMSG_TUNNEL:
		if (!ctlmsg_str_name(m->name, sizeof(m->name)) ||
		    !ctlmsg_str_word(m->word, sizeof(m->word)) ||
		    !ctlmsg_str_word(m->value, sizeof(m->value)))
			return -EINVAL;
		ctlmsg_put_field(o, m->name);
		ctlmsg_put_field(o, m->word);
		ctlmsg_put_field(o, m->value);
		if (ctlmsg_put_addrs(o, m) < 0)
			return -EINVAL;
		return ctlmsg_put_opts(o, m);
	case CTLMSG_INVALID:
		break;
	}
	return -EINVAL;
}

int
ctlmsg_format(const struct ctlmsg *m, char *buf, size_t cap, size_t *lenp)
{
	struct ctlmsg_out o = { buf, cap, 0, 0 };
	const char *verb = ctlmsg_type_name(m->type);
	int rc;

	*lenp = 0;
	if (verb == NULL)
		return -EINVAL;
	ctlmsg_put(&o, verb, strlen(verb));
	if ((rc = ctlmsg_format_fields(&o, m)) < 0)
		return rc;
	ctlmsg_put(&o, "\n", 1);
	/*
	 * Only a TUNNEL line with most of its addresses and options can pass
	 * the protocol's limit; the receiver would refuse it.
	 */
	if (o.len > CTLMSG_LINE_MAX ||
	    (o.err == -ENOSPC && cap > CTLMSG_LINE_MAX))
		return -EMSGSIZE;
	if (o.err != 0)
		return o.err;
	if (o.len < cap)
		buf[o.len] = '\0';
	*lenp = o.len;
	return 0;
}

/* ---- nss.conf ---- */

void
ctlmsg_conf_default(struct ctlmsg_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket, sizeof(c->socket), "%s", CTLMSG_SOCKET_DEFAULT);
	c->server_uid = UINT32_MAX;
	c->setup_ms = CTLMSG_SETUP_MS;
	/* The system-wide virtual ranges of ports.md. */
	c->ranges[0].prefix.af = AF_INET;
	inet_pton(AF_INET, "198.18.0.0", c->ranges[0].prefix.a);
	c->ranges[0].plen = 15;
	c->ranges[1].prefix.af = AF_INET6;
	inet_pton(AF_INET6, "fd6e:746d:6f62::", c->ranges[1].prefix.a);
	c->ranges[1].plen = 48;
	c->nranges = 2;
}

static bool
ctlmsg_is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Trims blanks around s[*start..*end). */
static void
ctlmsg_trim(const char *s, size_t *start, size_t *end)
{
	while (*start < *end && ctlmsg_is_space(s[*start]))
		(*start)++;
	while (*end > *start && ctlmsg_is_space(s[*end - 1]))
		(*end)--;
}

/* Next blank-separated token of s[*pos..end); false when none is left. */
static bool
ctlmsg_token(const char *s, size_t *pos, size_t end, struct ctlmsg_field *t)
{
	while (*pos < end && ctlmsg_is_space(s[*pos]))
		(*pos)++;
	if (*pos == end)
		return false;
	t->p = s + *pos;
	while (*pos < end && !ctlmsg_is_space(s[*pos]))
		(*pos)++;
	t->len = (size_t)(s + *pos - t->p);
	return true;
}

static int
ctlmsg_conf_zones(struct ctlmsg_conf *c, const char *s, size_t pos, size_t end)
{
	struct ctlmsg_field t;
	char tmp[CTLMSG_NAME_MAX + 2];

	c->nzones = 0;
	while (ctlmsg_token(s, &pos, end, &t)) {
		if (c->nzones == CTLMSG_CONF_ZONES || t.len >= sizeof(tmp))
			return -EINVAL;
		memcpy(tmp, t.p, t.len);
		tmp[t.len] = '\0';
		if (ctlmsg_name_normalize(tmp, c->zones[c->nzones],
		    sizeof(c->zones[0])) < 0)
			return -EINVAL;
		c->nzones++;
	}
	return c->nzones > 0 ? 0 : -EINVAL;
}

static bool
ctlmsg_prefix_match(const uint8_t *a, const uint8_t *prefix, unsigned int plen)
{
	unsigned int full = plen / 8, rest = plen % 8;
	uint8_t mask;

	if (memcmp(a, prefix, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (prefix[full] & mask);
}

static int
ctlmsg_range_parse(struct ctlmsg_range *r, const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	unsigned int i, bits;
	uint32_t plen;
	size_t alen;

	if (slash == NULL)
		return -EINVAL;
	alen = (size_t)(slash - s);
	if (ctlmsg_addr_parse(&r->prefix, s, alen) < 0)
		return -EINVAL;
	bits = r->prefix.af == AF_INET ? 32 : 128;
	if (len - alen - 1 == 1 && slash[1] == '0')
		plen = 0;
	else if (ctlmsg_number_parse(slash + 1, len - alen - 1, bits,
	    &plen) < 0)
		return -EINVAL;
	r->plen = plen;
	/* Host bits must be zero: "198.18.1.7/15" is a typo, not a range. */
	for (i = plen; i < bits; i++)
		if (r->prefix.a[i / 8] & (0x80 >> (i % 8)))
			return -EINVAL;
	return 0;
}

static int
ctlmsg_conf_ranges(struct ctlmsg_conf *c, const char *s, size_t pos, size_t end)
{
	struct ctlmsg_field t;

	c->nranges = 0;
	while (ctlmsg_token(s, &pos, end, &t)) {
		if (c->nranges == CTLMSG_CONF_RANGES ||
		    ctlmsg_range_parse(&c->ranges[c->nranges], t.p, t.len) < 0)
			return -EINVAL;
		c->nranges++;
	}
	return c->nranges > 0 ? 0 : -EINVAL;
}

static int
ctlmsg_conf_timeout(struct ctlmsg_conf *c, const char *s, size_t len)
{
	uint32_t v, scale = 1000;

	if (len > 2 && memcmp(s + len - 2, "ms", 2) == 0) {
		len -= 2;
		scale = 1;
	} else if (len > 1 && s[len - 1] == 's')
		len--;
	if (ctlmsg_number_parse(s, len, CTLMSG_WAIT_MAX_MS, &v) < 0 ||
	    v > CTLMSG_WAIT_MAX_MS / scale)
		return -EINVAL;
	c->setup_ms = v * scale;
	return 0;
}

enum ctlmsg_conf_key {
	CTLMSG_CONF_KEY_INVALID = 0,
	CTLMSG_CONF_KEY_SOCKET,
	CTLMSG_CONF_KEY_SERVER_UID,
	CTLMSG_CONF_KEY_ZONES,
	CTLMSG_CONF_KEY_RANGES,
	CTLMSG_CONF_KEY_SETUP_TIMEOUT,
	CTLMSG_CONF_KEY_COUNT,
};

static const char *const ctlmsg_conf_keys[CTLMSG_CONF_KEY_COUNT] = {
	[CTLMSG_CONF_KEY_SOCKET] = "socket",
	[CTLMSG_CONF_KEY_SERVER_UID] = "server_uid",
	[CTLMSG_CONF_KEY_ZONES] = "zones",
	[CTLMSG_CONF_KEY_RANGES] = "ranges",
	[CTLMSG_CONF_KEY_SETUP_TIMEOUT] = "setup_timeout",
};

/* One "key = value" line, comment already removed, not blank. */
static int
ctlmsg_conf_line(struct ctlmsg_conf *c, const char *s, size_t start,
    size_t end, bool *seen)
{
	const char *eq = memchr(s + start, '=', end - start);
	struct ctlmsg_field key, val;
	size_t kend, vstart, vend = end, pos;
	int k;

	if (eq == NULL)
		return -EINVAL;
	kend = (size_t)(eq - s);
	vstart = kend + 1;
	ctlmsg_trim(s, &start, &kend);
	ctlmsg_trim(s, &vstart, &vend);
	key.p = s + start;
	key.len = kend - start;
	for (k = CTLMSG_CONF_KEY_SOCKET; k < CTLMSG_CONF_KEY_COUNT; k++)
		if (ctlmsg_field_is(&key, ctlmsg_conf_keys[k]))
			break;
	if (k == CTLMSG_CONF_KEY_COUNT || seen[k] || vstart == vend)
		return -EINVAL;
	seen[k] = true;
	val.p = s + vstart;
	val.len = vend - vstart;
	pos = vstart;
	switch ((enum ctlmsg_conf_key)k) {
	case CTLMSG_CONF_KEY_SOCKET:
		if (val.p[0] != '/' || val.len >= sizeof(c->socket))
			return -EINVAL;
		for (pos = 0; pos < val.len; pos++)
			if (val.p[pos] < 0x21 || val.p[pos] > 0x7e)
				return -EINVAL;
		memcpy(c->socket, val.p, val.len);
		c->socket[val.len] = '\0';
		return 0;
	case CTLMSG_CONF_KEY_SERVER_UID:
		if (val.len == 1 && val.p[0] == '0') {
			c->server_uid = 0;
			return 0;
		}
		return ctlmsg_number_parse(val.p, val.len, UINT32_MAX - 1,
		    &c->server_uid);
	case CTLMSG_CONF_KEY_ZONES:
		return ctlmsg_conf_zones(c, s, pos, vend);
	case CTLMSG_CONF_KEY_RANGES:
		return ctlmsg_conf_ranges(c, s, pos, vend);
	case CTLMSG_CONF_KEY_SETUP_TIMEOUT:
		return ctlmsg_conf_timeout(c, val.p, val.len);
	case CTLMSG_CONF_KEY_INVALID:
	case CTLMSG_CONF_KEY_COUNT:
		break;
	}
	return -EINVAL;
}

int
ctlmsg_conf_parse(struct ctlmsg_conf *c, const char *text, size_t len,
    size_t *errline)
{
	bool seen[CTLMSG_CONF_KEY_COUNT] = { false };
	size_t start = 0, lineno = 0;

	*errline = 0;
	if (len > CTLMSG_CONF_MAX || memchr(text, '\0', len) != NULL) {
		*errline = 1;
		return -EINVAL;
	}
	while (start < len) {
		const char *lf = memchr(text + start, '\n', len - start);
		size_t end = lf != NULL ? (size_t)(lf - text) : len;
		size_t next = end + 1;
		const char *hash = memchr(text + start, '#', end - start);

		lineno++;
		if (hash != NULL)
			end = (size_t)(hash - text);
		ctlmsg_trim(text, &start, &end);
		if (start < end &&
		    ctlmsg_conf_line(c, text, start, end, seen) < 0) {
			*errline = lineno;
			return -EINVAL;
		}
		start = next;
	}
	return 0;
}

bool
ctlmsg_conf_name_ours(const struct ctlmsg_conf *c, const char *name)
{
	size_t i;

	if (c->nzones == 0)
		return true;
	for (i = 0; i < c->nzones; i++)
		if (ctlmsg_name_in_zone(name, c->zones[i]))
			return true;
	return false;
}

bool
ctlmsg_conf_addr_ours(const struct ctlmsg_conf *c, const struct ctlmsg_addr *a)
{
	size_t i;

	for (i = 0; i < c->nranges; i++)
		if (c->ranges[i].prefix.af == a->af &&
		    ctlmsg_prefix_match(a->a, c->ranges[i].prefix.a,
		    c->ranges[i].plen))
			return true;
	return false;
}

bool
ctlmsg_conf_uid_ok(const struct ctlmsg_conf *c, uint32_t uid)
{
	return uid == 0 ||
	    (c->server_uid != UINT32_MAX && uid == c->server_uid);
}
