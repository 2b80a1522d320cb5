/* config.c -- ntmd.conf through lib/config's table loader, then ntmd's own checks (doc/ntmd.conf.5). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "config_table.h"
#include "ctlmsg.h"
#include "kex.h"
#include "log.h"
#include "loop.h"
#include "ntmd.h"
#include "proto.h"
#include "tun.h"

/* The file as the table loader reads it; turned into struct ntmd_config. */
struct conf_file {
	char			*state_dir, *ca_file, *user, *fqdn;
	struct sockaddr_storage	 vip4, vip6;
	char			*as_addr_text;
	char			*account, *password_file;
	struct config_list	 dc;
	uint64_t		 lifetime_ms, keepalive_ms;
	int64_t			 port, mtu;
	char			*device;
	struct config_prefix	 range4, range6;
	struct config_list	 local;
	char			*kex_allowed;
	uint64_t		 rekey_ms;
	bool			 offload;
	char			*socket;
	uint64_t		 setup_ms;
	struct config_list	 zones;
	int			 level;
	int			 key_type;
};

static const struct config_enum conf_levels[] = {
	{ "error", LOG_LEVEL_ERR },
	{ "warn", LOG_LEVEL_WARN },
	{ "info", LOG_LEVEL_INFO },
	{ "debug", LOG_LEVEL_DEBUG },
	{ NULL, 0 },
};

/* The key ntmd makes at its first enrollment (rsa2048 for the rsa scheme). */
static const struct config_enum conf_key_types[] = {
	{ "p256", CERT_KEY_P256 },
	{ "rsa2048", CERT_KEY_RSA2048 },
	{ NULL, 0 },
};

#define F(field)	offsetof(struct conf_file, field)
static const struct config_key conf_table[] = {
	{ "node", "state_dir", CONFIG_PATH, F(state_dir),
	    LOCALSTATEDIR "/lib/ntmobile", 0, 0, 0, 0, NULL },
	{ "node", "ca_file", CONFIG_PATH, F(ca_file), NULL, 0, 0, 0, 0, NULL },
	{ "node", "user", CONFIG_STRING, F(user), NULL, 0, 0, 0, 0, NULL },
	{ "node", "fqdn", CONFIG_STRING, F(fqdn), NULL, 0, 0, 0, 0, NULL },
	{ "node", "key_type", CONFIG_ENUM, F(key_type), "p256", 0, 0, 0, 0,
	    conf_key_types },
	{ "node", "vip4", CONFIG_ADDR, F(vip4), NULL, 0, 0, 0, 0, NULL },
	{ "node", "vip6", CONFIG_ADDR, F(vip6), NULL, 0, 0, 0, 0, NULL },
	{ "as", "address", CONFIG_STRING, F(as_addr_text), NULL, 0, 0, 0, 0,
	    NULL },
	{ "as", "account", CONFIG_STRING, F(account), NULL, 0, 0, 0, 0, NULL },
	{ "as", "password_file", CONFIG_PATH, F(password_file), NULL, 0, 0, 0,
	    0, NULL },
	{ "dc", "address", CONFIG_LIST, F(dc), NULL, 0, NTMD_DC_ADDRS_MAX, 0,
	    0, NULL },
	{ "dc", "lifetime", CONFIG_DURATION, F(lifetime_ms), NULL, 0,
	    86400000, 0, 0, NULL },
	{ "dc", "keepalive", CONFIG_DURATION, F(keepalive_ms), NULL, 0,
	    3600000, 0, 0, NULL },
	{ "tunnel", "port", CONFIG_INT, F(port), "4620", 1, 65535, 0, 0,
	    NULL },
	{ "tunnel", "device", CONFIG_STRING, F(device), TUN_NAME_DEFAULT, 0, 0,
	    0, 0, NULL },
	{ "tunnel", "mtu", CONFIG_INT, F(mtu), "1420", TUN_MTU_MIN,
	    TUN_PATH_MTU, 0, 0, NULL },
	{ "tunnel", "range4", CONFIG_PREFIX, F(range4), "198.18.0.0/15", 0, 0,
	    0, 0, NULL },
	{ "tunnel", "range6", CONFIG_PREFIX, F(range6), "fd6e:746d:6f62::/48",
	    0, 0, 0, 0, NULL },
	{ "tunnel", "local_address", CONFIG_LIST, F(local), NULL, 0,
	    NTMD_LOCAL_ADDRS_MAX, 0, 0, NULL },
	{ "tunnel", "kex_allowed", CONFIG_STRING, F(kex_allowed), NULL, 0, 0,
	    0, 0, NULL },
	{ "tunnel", "offload", CONFIG_BOOL, F(offload), "yes", 0, 0, 0, 0,
	    NULL },
	{ "tunnel", "rekey_interval", CONFIG_DURATION, F(rekey_ms), "1h",
	    NTMD_REKEY_MIN_MS, PROTO_TIMER_REKEY, 0, 0, NULL },
	{ "control", "socket", CONFIG_PATH, F(socket), CTLMSG_SOCKET_DEFAULT,
	    0, 0, 0, 0, NULL },
	{ "control", "setup_timeout", CONFIG_DURATION, F(setup_ms), "3s", 1,
	    CTLMSG_WAIT_MAX_MS, 0, 0, NULL },
	{ "control", "zones", CONFIG_LIST, F(zones), NULL, 0, NTMD_ZONES_MAX,
	    0, 0, NULL },
	{ "log", "level", CONFIG_ENUM, F(level), "info", 0, 0, 0, 0,
	    conf_levels },
	{ NULL, NULL, CONFIG_TYPE_INVALID, 0, NULL, 0, 0, 0, 0, NULL },
};
#undef F

/* Errors found after loading, with the line of their key when we find it. */
struct conf_errors {
	const char	*path;
	char		*text;
	size_t		 len;
	int		 n;
};

/* The line of "key =" inside [section], 0 when absent (a default). */
static unsigned
conf_key_line(const char *path, const char *section, const char *key)
{
	char line[CONFIG_LINE_MAX + 8], cur[64] = "";
	const char *p;
	unsigned n = 0;
	size_t kl = strlen(key);
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		n++;
		p = line + strspn(line, " \t");
		if (*p == '[') {
			snprintf(cur, sizeof(cur), "%.*s",
			    (int)strcspn(p + 1, "]"), p + 1);
			continue;
		}
		if (strcmp(cur, section) == 0 && strncmp(p, key, kl) == 0 &&
		    strchr(" \t=", p[kl]) != NULL) {
			fclose(fp);
			return n;
		}
	}
	fclose(fp);
	return 0;
}

static void conf_err(struct conf_errors *, const char *section,
    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
conf_err(struct conf_errors *e, const char *section, const char *key,
    const char *fmt, ...)
{
	char msg[512];
	unsigned line;
	va_list ap;
	char *t;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line = conf_key_line(e->path, section, key);
	n = line > 0 ? snprintf(NULL, 0, "%s:%u: [%s] %s: %s\n", e->path, line,
	    section, key, msg) : snprintf(NULL, 0, "%s: [%s] %s: %s\n",
	    e->path, section, key, msg);
	if ((t = realloc(e->text, e->len + (size_t)n + 1)) == NULL)
		fatal("config: realloc");
	e->text = t;
	if (line > 0)
		snprintf(t + e->len, (size_t)n + 1, "%s:%u: [%s] %s: %s\n",
		    e->path, line, section, key, msg);
	else
		snprintf(t + e->len, (size_t)n + 1, "%s: [%s] %s: %s\n",
		    e->path, section, key, msg);
	e->len += (size_t)n;
	e->n++;
}

static char *
conf_strdup(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		fatal("config: strdup");
	return d;
}

static void
conf_vip(struct conf_errors *e, const char *key,
    const struct sockaddr_storage *ss, int family, bool *has,
    struct config_prefix *out)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	if (ss->ss_family == 0)
		return;
	if (ss->ss_family != family) {
		conf_err(e, "node", key, "not an IPv%d address",
		    family == AF_INET ? 4 : 6);
		return;
	}
	memset(out, 0, sizeof(*out));
	out->family = family;
	if (family == AF_INET) {
		memcpy(out->addr, &sin->sin_addr, 4);
		out->len = 32;
	} else {
		memcpy(out->addr, &sin6->sin6_addr, 16);
		out->len = 128;
	}
	*has = true;
}

static void
conf_addrs(struct conf_errors *e, const char *section, const char *key,
    const struct config_list *l, uint16_t port, struct sockaddr_storage *out,
    size_t *n)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (loop_addr_parse(l->v[i], port, 0, &out[*n]) < 0) {
			conf_err(e, section, key, "'%s' is not an address",
			    l->v[i]);
			continue;
		}
		(*n)++;
	}
}

static bool
conf_in_range(const struct config_prefix *range,
    const struct config_prefix *vip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)vip->family;
	if (vip->family == AF_INET)
		memcpy(&sin->sin_addr, vip->addr, 4);
	else
		memcpy(&sin6->sin6_addr, vip->addr, 16);
	return config_prefix_contains(range, (struct sockaddr *)&ss);
}

int
ntmd_config_load(struct ntmd_config *c, const char *path, char **errors)
{
	struct conf_errors e = { .path = path };
	struct conf_file f;
	const char *dot;
	size_t i;
	int rc;

	memset(c, 0, sizeof(*c));
	*errors = NULL;
	/* On errors in the file, go on: all errors are reported at once. */
	rc = config_load(conf_table, &f, path, errors);
	if (rc < 0 && rc != -EINVAL) {
		config_free(conf_table, &f);
		return rc;
	}
	if (*errors != NULL) {
		e.text = *errors;
		e.len = strlen(e.text);
		e.n = 1;
		*errors = NULL;
	}
	c->state_dir = conf_strdup(f.state_dir);
	c->ca_file = conf_strdup(f.ca_file);
	c->user = conf_strdup(f.user);
	c->account = conf_strdup(f.account);
	c->password_file = conf_strdup(f.password_file);
	c->tun_name = conf_strdup(f.device);
	c->socket_path = conf_strdup(f.socket);
	c->kex_allowed = conf_strdup(f.kex_allowed);
	c->rekey_ms = f.rekey_ms;
	c->offload = f.offload;
	c->port = (uint16_t)f.port;
	c->mtu = (int)f.mtu;
	c->setup_ms = (uint32_t)f.setup_ms;
	c->lifetime_s = (uint32_t)(f.lifetime_ms / 1000);
	c->keepalive_s = (uint32_t)(f.keepalive_ms / 1000);
	c->log_level = f.level;
	c->key_type = f.key_type;
	c->range4 = f.range4;
	c->range6 = f.range6;

	if (f.as_addr_text != NULL) {
		if (loop_addr_parse(f.as_addr_text, PROTO_PORT_AS, 0,
		    &c->as_addr) < 0)
			conf_err(&e, "as", "address", "'%s' is not an address",
			    f.as_addr_text);
		else
			c->has_as = true;
	}
	conf_addrs(&e, "dc", "address", &f.dc, PROTO_PORT_DC, c->dc_addr,
	    &c->ndc_addr);
	conf_addrs(&e, "tunnel", "local_address", &f.local, c->port,
	    c->local_addr, &c->nlocal_addr);
	if (c->socket_path != NULL &&
	    strlen(c->socket_path) >= CTLMSG_PATH_MAX)
		conf_err(&e, "control", "socket", "longer than %d bytes",
		    CTLMSG_PATH_MAX - 1);
	if (c->tun_name != NULL && strlen(c->tun_name) >= IFNAMSIZ)
		conf_err(&e, "tunnel", "device", "longer than %d bytes",
		    IFNAMSIZ - 1);
	if (c->range4.family != 0 && c->range4.family != AF_INET)
		conf_err(&e, "tunnel", "range4", "not an IPv4 prefix");
	if (c->range6.family != 0 && c->range6.family != AF_INET6)
		conf_err(&e, "tunnel", "range6", "not an IPv6 prefix");
	if (f.keepalive_ms != 0 && f.lifetime_ms != 0 &&
	    f.keepalive_ms > f.lifetime_ms)
		conf_err(&e, "dc", "keepalive", "longer than the lifetime");

	if (f.fqdn != NULL) {
		if (!ctlmsg_name_valid(f.fqdn, strlen(f.fqdn)) ||
		    strchr(f.fqdn, '.') == NULL)
			conf_err(&e, "node", "fqdn", "'%s' is not a lower-case "
			    "LDH name with a zone", f.fqdn);
		else
			c->fqdn = conf_strdup(f.fqdn);
	}
	conf_vip(&e, "vip4", &f.vip4, AF_INET, &c->has_vip4, &c->vip4);
	conf_vip(&e, "vip6", &f.vip6, AF_INET6, &c->has_vip6, &c->vip6);
	if (c->has_vip4 && c->range4.family == AF_INET &&
	    !conf_in_range(&c->range4, &c->vip4))
		conf_err(&e, "node", "vip4", "outside [tunnel] range4");
	if (c->has_vip6 && c->range6.family == AF_INET6 &&
	    !conf_in_range(&c->range6, &c->vip6))
		conf_err(&e, "node", "vip6", "outside [tunnel] range6");
	if ((c->has_vip4 || c->has_vip6) && c->fqdn == NULL)
		conf_err(&e, "node", "fqdn", "required with vip4/vip6");
	if (f.kex_allowed != NULL) {
		struct kex_allowed ka;

		/* What tunnelio_new() would refuse at start-up. */
		if (kex_allowed_parse(f.kex_allowed, &ka) < 0)
			conf_err(&e, "tunnel", "kex_allowed", "'%s' is not a "
			    "list of ecdhe, rsa and shared, each named once",
			    f.kex_allowed);
	}

	for (i = 0; i < f.zones.n; i++) {
		if (!ctlmsg_name_valid(f.zones.v[i], strlen(f.zones.v[i]))) {
			conf_err(&e, "control", "zones", "'%s' is not a "
			    "lower-case LDH name", f.zones.v[i]);
			continue;
		}
		c->zones[c->nzones++] = conf_strdup(f.zones.v[i]);
	}
	/* Without zones, the node's own zone is the one it knows. */
	if (c->nzones == 0 && c->fqdn != NULL &&
	    (dot = strchr(c->fqdn, '.')) != NULL)
		c->zones[c->nzones++] = conf_strdup(dot + 1);

	config_free(conf_table, &f);
	if (e.n > 0) {
		*errors = e.text;
		return -EINVAL;
	}
	return 0;
}

void
ntmd_config_free(struct ntmd_config *c)
{
	size_t i;

	free(c->state_dir);
	free(c->ca_file);
	free(c->user);
	free(c->account);
	free(c->password_file);
	free(c->tun_name);
	free(c->socket_path);
	free(c->kex_allowed);
	free(c->fqdn);
	for (i = 0; i < c->nzones; i++)
		free(c->zones[i]);
	memset(c, 0, sizeof(*c));
}

static void
conf_dump_prefix(FILE *f, const char *key, const struct config_prefix *p,
    bool plen)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family, p->addr, a, sizeof(a));
	if (plen)
		fprintf(f, "%s = %s/%u\n", key, a, p->len);
	else
		fprintf(f, "%s = %s\n", key, a);
}

int
ntmd_config_dump(const struct ntmd_config *c, FILE *f)
{
	char a[LOOP_ADDRSTRLEN], d[32];
	size_t i;

	fprintf(f, "[node]\nstate_dir = %s\n", c->state_dir);
	if (c->ca_file != NULL)
		fprintf(f, "ca_file = %s\n", c->ca_file);
	if (c->user != NULL)
		fprintf(f, "user = %s\n", c->user);
	for (i = 0; conf_key_types[i].name != NULL; i++)
		if (conf_key_types[i].value == c->key_type)
			fprintf(f, "key_type = %s\n", conf_key_types[i].name);
	if (c->fqdn != NULL)
		fprintf(f, "fqdn = %s\n", c->fqdn);
	if (c->has_vip4)
		conf_dump_prefix(f, "vip4", &c->vip4, false);
	if (c->has_vip6)
		conf_dump_prefix(f, "vip6", &c->vip6, false);
	if (c->has_as || c->account != NULL) {
		fputs("\n[as]\n", f);
		if (c->has_as && loop_addr_format((const struct sockaddr *)
		    &c->as_addr, a, sizeof(a)) == 0)
			fprintf(f, "address = %s\n", a);
		if (c->account != NULL)
			fprintf(f, "account = %s\n", c->account);
		if (c->password_file != NULL)
			fprintf(f, "password_file = %s\n", c->password_file);
	}
	fputs("\n[dc]\n", f);
	for (i = 0; i < c->ndc_addr; i++)
		if (loop_addr_format((const struct sockaddr *)&c->dc_addr[i],
		    a, sizeof(a)) == 0)
			fprintf(f, "address = %s\n", a);
	if (c->lifetime_s != 0) {
		config_format_duration((uint64_t)c->lifetime_s * 1000, d,
		    sizeof(d));
		fprintf(f, "lifetime = %s\n", d);
	}
	if (c->keepalive_s != 0) {
		config_format_duration((uint64_t)c->keepalive_s * 1000, d,
		    sizeof(d));
		fprintf(f, "keepalive = %s\n", d);
	}
	fprintf(f, "\n[tunnel]\nport = %u\ndevice = %s\nmtu = %d\n",
	    c->port, c->tun_name, c->mtu);
	conf_dump_prefix(f, "range4", &c->range4, true);
	conf_dump_prefix(f, "range6", &c->range6, true);
	for (i = 0; i < c->nlocal_addr; i++)
		if (loop_addr_format((const struct sockaddr *)
		    &c->local_addr[i], a, sizeof(a)) == 0)
			fprintf(f, "local_address = %s\n", a);
	if (c->kex_allowed != NULL)
		fprintf(f, "kex_allowed = %s\n", c->kex_allowed);
	if (!c->offload)
		fprintf(f, "offload = no\n");
	if (c->rekey_ms != PROTO_TIMER_REKEY) {
		config_format_duration(c->rekey_ms, d, sizeof(d));
		fprintf(f, "rekey_interval = %s\n", d);
	}
	config_format_duration(c->setup_ms, d, sizeof(d));
	fprintf(f, "\n[control]\nsocket = %s\nsetup_timeout = %s\n",
	    c->socket_path, d);
	for (i = 0; i < c->nzones; i++)
		fprintf(f, "zones = %s\n", c->zones[i]);
	fprintf(f, "\n[log]\nlevel = %s\n",
	    conf_levels[c->log_level - 1].name);
	return ferror(f) ? -EIO : 0;
}
