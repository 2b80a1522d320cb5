/* config.c -- ntm-dc.conf: INI (inih) into struct dc_config, every error as file:line: message. */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <ldns/ldns.h>

#include "dc.h"

struct config_parse {
	struct dc_config	*cfg;
	FILE			*fp;
	int			 line;
	int			 errors;
	int			 secret_line;
};

static void
config_error(struct config_parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
config_error(struct config_parse *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", p->cfg->path, p->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	p->errors++;
}

/* inih reads line by line through this, which lets errors carry a line. */
static char *
config_reader(char *str, int num, void *stream)
{
	struct config_parse *p = stream;
	char *r = fgets(str, num, p->fp);

	if (r != NULL)
		p->line++;
	return r;
}

static int
config_u32(struct config_parse *p, const char *name, const char *v,
    uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || v[0] == '-' ||
	    n < min || n > max) {
		config_error(p, "%s: expected a number from %u to %u, got "
		    "\"%s\"", name, min, max, v);
		return -EINVAL;
	}
	*out = (uint32_t)n;
	return 0;
}

static int
config_bool(struct config_parse *p, const char *name, const char *v,
    bool *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "on") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else {
		config_error(p, "%s: expected yes or no, got \"%s\"", name, v);
		return -EINVAL;
	}
	return 0;
}

static int
config_str(struct config_parse *p, char **dst, const char *v)
{
	char *n;

	if ((n = strdup(v)) == NULL) {
		config_error(p, "out of memory");
		return -ENOMEM;
	}
	free(*dst);
	*dst = n;
	return 0;
}

int
config_parse_sockaddr(const char *text, uint16_t defport,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = NULL, *close;
	unsigned long pn = defport;
	char *end;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		if ((close = strchr(text, ']')) == NULL)
			return -EINVAL;
		hl = (size_t)(close - text - 1);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return -EINVAL;
		text++;
	} else if (strchr(text, ':') != NULL &&
	    strchr(text, ':') == strrchr(text, ':')) {
		close = strchr(text, ':');
		hl = (size_t)(close - text);
		port = close + 1;
	} else
		hl = strlen(text);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (port != NULL) {
		errno = 0;
		pn = strtoul(port, &end, 10);
		if (errno != 0 || end == port || *end != '\0' || pn > 65535)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)pn);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)pn);
	} else
		return -EINVAL;
	return 0;
}

static void
config_prefix(struct config_parse *p, const char *name, const char *v,
    int family)
{
	struct zone_config *z = &p->cfg->zcfg;
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	uint32_t len;
	uint8_t addr[16];
	unsigned i, step = family == AF_INET ? 8 : 4;
	unsigned max = family == AF_INET ? 24 : 124;

	if (strlen(v) >= sizeof(buf) || (strcpy(buf, v),
	    (slash = strchr(buf, '/')) == NULL)) {
		config_error(p, "%s: expected address/length, got \"%s\"",
		    name, v);
		return;
	}
	*slash++ = '\0';
	if (inet_pton(family, buf, addr) != 1) {
		config_error(p, "%s: \"%s\" is not an IPv%d address", name, buf,
		    family == AF_INET ? 4 : 6);
		return;
	}
	if (config_u32(p, name, slash, step, max, &len) < 0)
		return;
	if (len % step != 0) {
		config_error(p, "%s: the length must be a multiple of %u (one "
		    "reverse zone per prefix)", name, step);
		return;
	}
	for (i = len; i < (family == AF_INET ? 32U : 128U); i++)
		if (addr[i / 8] & (0x80 >> (i % 8))) {
			config_error(p, "%s: host bits set in %s", name, v);
			return;
		}
	if (family == AF_INET) {
		memcpy(&z->prefix4, addr, 4);
		z->prefix4_len = len;
		z->have4 = true;
	} else {
		memcpy(&z->prefix6, addr, 16);
		z->prefix6_len = len;
		z->have6 = true;
	}
}

/* Calls fn for each item of a comma- or space-separated list. */
static void
config_list(struct config_parse *p, const char *name, const char *v,
    void (*fn)(struct config_parse *, const char *, const char *))
{
	char item[256];
	size_t n;

	while (*v != '\0') {
		while (*v == ',' || isspace((unsigned char)*v))
			v++;
		n = strcspn(v, ", \t");
		if (n == 0)
			break;
		if (n >= sizeof(item)) {
			config_error(p, "%s: item too long", name);
			return;
		}
		memcpy(item, v, n);
		item[n] = '\0';
		fn(p, name, item);
		v += n;
	}
}

static void
config_listen(struct config_parse *p, const char *name, const char *v)
{
	struct dc_config *c = p->cfg;

	if (c->nlisten >= DC_LISTEN_MAX) {
		config_error(p, "%s: at most %d addresses", name,
		    DC_LISTEN_MAX);
		return;
	}
	if (config_parse_sockaddr(v, DC_DNS_PORT, &c->listen[c->nlisten]) < 0)
		config_error(p, "%s: \"%s\" is not address[:port]", name, v);
	else
		c->nlisten++;
}

static void
config_allow(struct config_parse *p, const char *name, const char *v)
{
	int rc = xfr_acl_add(&p->cfg->xfr, v);

	if (rc == -ENOSPC)
		config_error(p, "%s: at most %d entries", name, XFR_ACL_MAX);
	else if (rc < 0)
		config_error(p, "%s: \"%s\" is not address[/length]", name, v);
}

static void
config_notify(struct config_parse *p, const char *name, const char *v)
{
	struct xfr_config *x = &p->cfg->xfr;

	if (x->nnotify >= XFR_NOTIFY_MAX) {
		config_error(p, "%s: at most %d targets", name, XFR_NOTIFY_MAX);
		return;
	}
	if (config_parse_sockaddr(v, DC_DNS_PORT, &x->notify[x->nnotify]) < 0)
		config_error(p, "%s: \"%s\" is not address[:port]", name, v);
	else
		x->nnotify++;
}

static void
config_dns(struct config_parse *p, const char *name, const char *v)
{
	struct dc_config *c = p->cfg;

	if (strcmp(name, "zone") == 0)
		config_str(p, &c->zone, v);
	else if (strcmp(name, "zone_file") == 0)
		config_str(p, &c->zone_file, v);
	else if (strcmp(name, "listen") == 0)
		config_list(p, name, v, config_listen);
	else if (strcmp(name, "prefix4") == 0)
		config_prefix(p, name, v, AF_INET);
	else if (strcmp(name, "prefix6") == 0)
		config_prefix(p, name, v, AF_INET6);
	else if (strcmp(name, "node_ttl") == 0)
		config_u32(p, name, v, 1, 86400, &c->zcfg.node_ttl);
	else if (strcmp(name, "tcp_idle_timeout") == 0)
		config_u32(p, name, v, 1, 3600, &c->tcp_idle_s);
	else if (strcmp(name, "tcp_clients") == 0)
		config_u32(p, name, v, 1, 65536, &c->tcp_clients);
	else
		config_error(p, "unknown key \"%s\" in [dns]", name);
}

static void
config_xfr(struct config_parse *p, const char *name, const char *v)
{
	struct xfr_config *x = &p->cfg->xfr;
	size_t n;

	if (strcmp(name, "allow") == 0)
		config_list(p, name, v, config_allow);
	else if (strcmp(name, "notify") == 0)
		config_list(p, name, v, config_notify);
	else if (strcmp(name, "key_name") == 0) {
		n = strlen(v);
		if (n == 0 || n + 2 > sizeof(x->key_name))
			config_error(p, "%s: bad key name", name);
		else
			snprintf(x->key_name, sizeof(x->key_name), "%s%s", v,
			    v[n - 1] == '.' ? "" : ".");
	} else if (strcmp(name, "key_algorithm") == 0) {
		if (strcasecmp(v, "hmac-sha256") != 0 &&
		    strcasecmp(v, "hmac-sha256.") != 0)
			config_error(p, "%s: only hmac-sha256 is supported",
			    name);
	} else if (strcmp(name, "key_secret") == 0) {
		ldns_rdf *raw = NULL;

		n = strlen(v);
		if (n == 0 || n >= sizeof(x->key_secret) ||
		    ldns_str2rdf_b64(&raw, v) != LDNS_STATUS_OK ||
		    ldns_rdf_size(raw) < 16)
			config_error(p, "%s: expected base64 of at least 16 "
			    "bytes", name);
		else {
			memcpy(x->key_secret, v, n + 1);
			p->secret_line = p->line;
		}
		if (raw != NULL) {
			explicit_bzero(ldns_rdf_data(raw), ldns_rdf_size(raw));
			ldns_rdf_deep_free(raw);
		}
	} else
		config_error(p, "unknown key \"%s\" in [xfr]", name);
}

static void
config_rrl(struct config_parse *p, const char *name, const char *v)
{
	struct rrl_config *r = &p->cfg->rrl;

	if (strcmp(name, "enabled") == 0)
		config_bool(p, name, v, &r->enabled);
	else if (strcmp(name, "rate") == 0)
		config_u32(p, name, v, 1, 1000000, &r->rate);
	else if (strcmp(name, "burst") == 0)
		config_u32(p, name, v, 1, 1000000, &r->burst);
	else if (strcmp(name, "slip") == 0)
		config_u32(p, name, v, 0, 100, &r->slip);
	else if (strcmp(name, "ipv4_prefix") == 0)
		config_u32(p, name, v, 8, 32, &r->v4_prefix);
	else if (strcmp(name, "ipv6_prefix") == 0)
		config_u32(p, name, v, 16, 128, &r->v6_prefix);
	else if (strcmp(name, "slots") == 0)
		config_u32(p, name, v, 16, 1U << 24, &r->slots);
	else
		config_error(p, "unknown key \"%s\" in [rrl]", name);
}

static int
config_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_parse *p = user;

	if (name == NULL)		/* a section line by itself */
		return 1;
	if (strcmp(section, "dns") == 0)
		config_dns(p, name, value);
	else if (strcmp(section, "database") == 0) {
		if (strcmp(name, "path") == 0)
			config_str(p, &p->cfg->db_path, value);
		else
			config_error(p, "unknown key \"%s\" in [database]",
			    name);
	} else if (strcmp(section, "xfr") == 0)
		config_xfr(p, name, value);
	else if (strcmp(section, "rrl") == 0)
		config_rrl(p, name, value);
	else
		config_error(p, "unknown section [%s]", section);
	return 1;		/* keep going: report every error at once */
}

int
config_load(const char *path, struct dc_config *cfg)
{
	struct config_parse p = { .cfg = cfg };
	struct stat st;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rrl_config_default(&cfg->rrl);
	cfg->tcp_idle_s = DC_TCP_IDLE_DEFAULT_S;
	cfg->tcp_clients = DC_TCP_CLIENTS_DEFAULT;
	cfg->zcfg.node_ttl = DNS_NODE_TTL_DEFAULT;
	if ((cfg->path = strdup(path)) == NULL)
		return -ENOMEM;
	if ((p.fp = fopen(path, "r")) == NULL) {
		rc = -errno;
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return rc;
	}
	rc = ini_parse_stream(config_reader, &p, config_handler, &p);
	if (rc > 0) {
		p.line = rc;
		config_error(&p, "syntax error");
	}
	if (fstat(fileno(p.fp), &st) == 0 && (st.st_mode & S_IROTH) &&
	    p.secret_line > 0) {
		p.line = p.secret_line;
		config_error(&p, "key_secret in a world-readable file "
		    "(chmod o-r)");
	}
	fclose(p.fp);
	p.line = 0;
	if (cfg->zone == NULL)
		config_error(&p, "[dns] zone is missing");
	if (cfg->zone_file == NULL)
		config_error(&p, "[dns] zone_file is missing");
	if ((cfg->xfr.key_name[0] != '\0') != (cfg->xfr.key_secret[0] != '\0'))
		config_error(&p, "[xfr] key_name and key_secret go together");
	cfg->xfr.have_key = cfg->xfr.key_secret[0] != '\0';
	if (cfg->nlisten == 0) {
		(void)config_parse_sockaddr("0.0.0.0", DC_DNS_PORT,
		    &cfg->listen[0]);
		(void)config_parse_sockaddr("::", DC_DNS_PORT, &cfg->listen[1]);
		cfg->nlisten = 2;
	}
	cfg->zcfg.origin = cfg->zone;
	cfg->zcfg.file = cfg->zone_file;
	return p.errors;
}

void
config_free(struct dc_config *cfg)
{
	free(cfg->path);
	free(cfg->zone);
	free(cfg->zone_file);
	free(cfg->db_path);
	xfr_config_clear(&cfg->xfr);
	memset(cfg, 0, sizeof(*cfg));
}
