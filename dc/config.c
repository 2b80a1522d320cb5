/* config.c -- ntm-dc.conf through lib/config's table loader, then the DC's own checks. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "buf.h"
#include "config_table.h"
#include "ticket.h"
#include "crypto.h"
#include "ctlmsg.h"
#include "dc.h"
#include "loop.h"
#include "proto.h"

/* The file as the table loader reads it; turned into struct dc_config. */
struct dc_conf_file {
	char			*zone;
	char			*zone_file;
	struct config_list	 listen;
	struct config_prefix	 prefix4, prefix6;
	int64_t			 node_ttl;
	uint64_t		 tcp_idle_ms;
	int64_t			 tcp_clients;
	char			*db_path;
	struct config_list	 allow;
	char			*key_name;
	int			 key_algorithm;
	char			*key_secret_file;
	struct config_list	 notify;
	bool			 rrl_enabled;
	int64_t			 rrl_rate, rrl_burst, rrl_slip;
	int64_t			 rrl_v4, rrl_v6, rrl_slots;
	struct config_list	 sig_listen;
	char			*sig_ticket_key_file;
	uint64_t		 sig_lifetime_ms;
	uint64_t		 sig_keepalive_ms;
	uint64_t		 sig_punch_ms;
	struct config_list	 relay_server;
	struct config_list	 tls_listen;
	char			*tls_trust, *tls_cert, *tls_key;
	struct config_list	 ocsp_listen;
	char			*fed_resolver;
	char			*socket;
	struct config_list	 policy_rules;
	int			 policy_default;
};

enum { CONF_TSIG_HMAC_SHA256 = 1 };

enum { CONF_POLICY_ALLOW = 1, CONF_POLICY_DENY };

static const struct config_enum conf_policy[] = {
	{ "allow", CONF_POLICY_ALLOW },
	{ "deny", CONF_POLICY_DENY },
	{ NULL, 0 },
};

static const struct config_enum conf_algorithms[] = {
	{ "hmac-sha256", CONF_TSIG_HMAC_SHA256 },
	{ NULL, 0 },
};

#define F(field)	offsetof(struct dc_conf_file, field)
static const struct config_key conf_table[] = {
	{ "dns", "zone", CONFIG_STRING, F(zone), NULL, 0, 0, CONFIG_REQUIRED,
	    0, NULL },
	{ "dns", "zone_file", CONFIG_PATH, F(zone_file), NULL, 0, 0,
	    CONFIG_REQUIRED, 0, NULL },
	{ "dns", "listen", CONFIG_LIST, F(listen), "0.0.0.0:53, [::]:53", 1,
	    CONFIG_LIST_MAX, 0, 0, NULL },
	{ "dns", "prefix4", CONFIG_PREFIX, F(prefix4), NULL, 0, 0, 0, 0, NULL },
	{ "dns", "prefix6", CONFIG_PREFIX, F(prefix6), NULL, 0, 0, 0, 0, NULL },
	{ "dns", "node_ttl", CONFIG_INT, F(node_ttl), "60", 1, 86400, 0, 0,
	    NULL },
	{ "dns", "tcp_idle_timeout", CONFIG_DURATION, F(tcp_idle_ms), "10s",
	    100, 3600000, 0, 0, NULL },
	{ "dns", "tcp_clients", CONFIG_INT, F(tcp_clients), "128", 1, 65536, 0,
	    0, NULL },
	{ "database", "path", CONFIG_PATH, F(db_path), NULL, 0, 0, 0, 0, NULL },
	{ "xfr", "allow", CONFIG_LIST, F(allow), NULL, 0, CONFIG_LIST_MAX, 0,
	    0, NULL },
	{ "xfr", "key_name", CONFIG_STRING, F(key_name), NULL, 0, 0, 0, 0,
	    NULL },
	{ "xfr", "key_algorithm", CONFIG_ENUM, F(key_algorithm), "hmac-sha256",
	    0, 0, 0, 0, conf_algorithms },
	{ "xfr", "key_secret_file", CONFIG_PATH, F(key_secret_file), NULL, 0,
	    0, 0, 0, NULL },
	{ "xfr", "notify", CONFIG_LIST, F(notify), NULL, 0, CONFIG_LIST_MAX,
	    0, 0, NULL },
	{ "rrl", "enabled", CONFIG_BOOL, F(rrl_enabled), "yes", 0, 0, 0, 0,
	    NULL },
	{ "rrl", "rate", CONFIG_INT, F(rrl_rate), "100", 1, 1000000, 0, 0,
	    NULL },
	{ "rrl", "burst", CONFIG_INT, F(rrl_burst), "200", 1, 1000000, 0, 0,
	    NULL },
	{ "rrl", "slip", CONFIG_INT, F(rrl_slip), "2", 0, 100, 0, 0, NULL },
	{ "rrl", "ipv4_prefix", CONFIG_INT, F(rrl_v4), "24", 8, 32, 0, 0,
	    NULL },
	{ "rrl", "ipv6_prefix", CONFIG_INT, F(rrl_v6), "56", 16, 128, 0, 0,
	    NULL },
	{ "rrl", "slots", CONFIG_INT, F(rrl_slots), "4096", 16, 1 << 24, 0, 0,
	    NULL },
	{ "signal", "listen", CONFIG_LIST, F(sig_listen), NULL, 0,
	    CONFIG_LIST_MAX, 0, 0, NULL },
	{ "signal", "ticket_key_file", CONFIG_PATH, F(sig_ticket_key_file),
	    NULL, 0, 0, 0, 0, NULL },
	{ "signal", "lifetime", CONFIG_DURATION, F(sig_lifetime_ms), "120s",
	    10000, 86400000, 0, 0, NULL },
	{ "signal", "keepalive", CONFIG_DURATION, F(sig_keepalive_ms), "25s",
	    1000, 3600000, 0, 0, NULL },
	{ "signal", "punch_deadline", CONFIG_DURATION, F(sig_punch_ms), "1s",
	    100, 60000, 0, 0, NULL },
	{ "relay", "server", CONFIG_LIST, F(relay_server), NULL, 0,
	    CONFIG_LIST_MAX, 0, 0, NULL },
	{ "tls", "listen", CONFIG_LIST, F(tls_listen), NULL, 0,
	    CONFIG_LIST_MAX, 0, 0, NULL },
	{ "tls", "trust", CONFIG_PATH, F(tls_trust), NULL, 0, 0, 0, 0, NULL },
	{ "tls", "cert", CONFIG_PATH, F(tls_cert), NULL, 0, 0, 0, 0, NULL },
	{ "tls", "key", CONFIG_PATH, F(tls_key), NULL, 0, 0, 0, 0, NULL },
	{ "ocsp", "listen", CONFIG_LIST, F(ocsp_listen), NULL, 0,
	    CONFIG_LIST_MAX, 0, 0, NULL },
	{ "control", "socket", CONFIG_PATH, F(socket), NULL, 0, 0, 0, 0,
	    NULL },
	{ "policy", "rule", CONFIG_LIST, F(policy_rules), NULL, 0,
	    CONFIG_LIST_MAX, 0, 0, NULL },
	{ "policy", "default", CONFIG_ENUM, F(policy_default), "allow", 0, 0,
	    0, 0, conf_policy },
	{ "federation", "resolver", CONFIG_STRING, F(fed_resolver), NULL, 0,
	    0, 0, 0, NULL },
	{ NULL, NULL, CONFIG_TYPE_INVALID, 0, NULL, 0, 0, 0, 0, NULL },
};
#undef F

/* A reverse zone per prefix: the length must end on a label boundary. */
static int
config_prefix(const char *path, const char *key, const struct config_prefix *p,
    int family, struct dc_config *cfg)
{
	struct zone_config *z = &cfg->zcfg;
	unsigned step = family == AF_INET ? 8 : 4;
	unsigned max = family == AF_INET ? 24 : 124;

	if (p->family == 0)
		return 0;
	if (p->family != family)
		return config_complain(path, "[dns] %s: not an IPv%d prefix",
		    key, family == AF_INET ? 4 : 6);
	if (p->len == 0 || p->len % step != 0 || p->len > max)
		return config_complain(path, "[dns] %s: the length must be a "
		    "multiple of %u up to %u (one reverse zone per prefix)",
		    key, step, max);
	if (family == AF_INET) {
		memcpy(&z->prefix4, p->addr, 4);
		z->prefix4_len = p->len;
		z->have4 = true;
	} else {
		memcpy(&z->prefix6, p->addr, 16);
		z->prefix6_len = p->len;
		z->have6 = true;
	}
	return 0;
}

/* The TSIG secret: base64 on the first line of a private file. */
static int
config_secret(const char *path, const char *file, struct xfr_config *x)
{
	char why[256], line[XFR_SECRET_MAX + 2];
	ldns_rdf *raw = NULL;
	size_t n;
	FILE *fp;
	int errors = 0;

	if (config_check_private_file(file, why, sizeof(why)) < 0)
		return config_complain(path, "[xfr] key_secret_file: %s", why);
	if ((fp = fopen(file, "r")) == NULL)
		return config_complain(path, "[xfr] key_secret_file: %s: %s",
		    file, strerror(errno));
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n == 0 || n >= sizeof(x->key_secret) ||
	    ldns_str2rdf_b64(&raw, line) != LDNS_STATUS_OK ||
	    ldns_rdf_size(raw) < 16)
		errors = config_complain(path, "[xfr] key_secret_file: %s: "
		    "expected base64 of at least 16 bytes", file);
	else
		memcpy(x->key_secret, line, n + 1);
	if (raw != NULL) {
		explicit_bzero(ldns_rdf_data(raw), ldns_rdf_size(raw));
		ldns_rdf_deep_free(raw);
	}
	explicit_bzero(line, sizeof(line));
	return errors;
}

/*
 * The loader splits lists at commas; addresses may also be separated by
 * blanks ("listen = 192.0.2.1 2001:db8::1"), so each entry is split again.
 */
static int
config_words(const char *path, const struct config_list *l,
    int (*fn)(const char *, const char *, struct dc_config *),
    struct dc_config *c)
{
	char word[256];
	const char *p;
	size_t i, n;
	int errors = 0;

	for (i = 0; i < l->n; i++)
		for (p = l->v[i]; *p != '\0'; p += n) {
			p += strspn(p, " \t");
			if ((n = strcspn(p, " \t")) == 0)
				break;
			if (n >= sizeof(word)) {
				errors += config_complain(path,
				    "list item too long");
				continue;
			}
			memcpy(word, p, n);
			word[n] = '\0';
			errors += fn(path, word, c);
		}
	return errors;
}

static int
config_listen(const char *path, const char *w, struct dc_config *c)
{
	if (c->nlisten >= DC_LISTEN_MAX)
		return config_complain(path,
		    "[dns] listen: at most %d addresses", DC_LISTEN_MAX);
	if (loop_addr_parse(w, DC_DNS_PORT, 0, &c->listen[c->nlisten]) < 0)
		return config_complain(path, "[dns] listen: \"%s\" is not "
		    "address[:port]", w);
	c->nlisten++;
	return 0;
}

static int
config_allow(const char *path, const char *w, struct dc_config *c)
{
	if (xfr_acl_add(&c->xfr, w) < 0)
		return config_complain(path, "[xfr] allow: \"%s\" is not "
		    "address[/length], or more than %d entries", w,
		    XFR_ACL_MAX);
	return 0;
}

static int
config_notify(const char *path, const char *w, struct dc_config *c)
{
	struct xfr_config *x = &c->xfr;

	if (x->nnotify >= XFR_NOTIFY_MAX)
		return config_complain(path, "[xfr] notify: at most %d targets",
		    XFR_NOTIFY_MAX);
	if (loop_addr_parse(w, DC_DNS_PORT, 0, &x->notify[x->nnotify]) < 0)
		return config_complain(path, "[xfr] notify: \"%s\" is not "
		    "address[:port]", w);
	x->nnotify++;
	return 0;
}

static int
config_sig_listen(const char *path, const char *w, struct dc_config *c)
{
	struct dc_signal_config *g = &c->sig;

	if (g->nlisten >= DC_LISTEN_MAX)
		return config_complain(path, "[signal] listen: at most %d "
		    "addresses", DC_LISTEN_MAX);
	if (loop_addr_parse(w, PROTO_PORT_DC, 0, &g->listen[g->nlisten]) < 0)
		return config_complain(path, "[signal] listen: \"%s\" is not "
		    "address[:port]", w);
	g->nlisten++;
	return 0;
}

static int
config_relay_server(const char *path, const char *w, struct dc_config *c)
{
	struct dc_relay_config *r = &c->relay;

	if (r->nserver >= DC_RS_MAX)
		return config_complain(path, "[relay] server: at most %d RS",
		    DC_RS_MAX);
	if (loop_addr_parse(w, PROTO_PORT_RS_TLS, 0,
	    &r->server[r->nserver]) < 0)
		return config_complain(path, "[relay] server: \"%s\" is not "
		    "address[:port]", w);
	r->nserver++;
	return 0;
}

/* Without a listen key: the DNS addresses on the service's port. */
static void
config_default_listen(const struct dc_config *c, uint16_t port,
    struct sockaddr_storage *out, size_t *n)
{
	size_t i;

	for (i = 0; i < c->nlisten; i++) {
		struct sockaddr_storage *ss = &out[(*n)++];

		*ss = c->listen[i];
		if (ss->ss_family == AF_INET)
			((struct sockaddr_in *)(void *)ss)->sin_port =
			    htons(port);
		else
			((struct sockaddr_in6 *)(void *)ss)->sin6_port =
			    htons(port);
	}
}

static int
config_tls_listen(const char *path, const char *w, struct dc_config *c)
{
	struct dc_tls_config *t = &c->tls;

	if (t->nlisten >= DC_LISTEN_MAX)
		return config_complain(path, "[tls] listen: at most %d "
		    "addresses", DC_LISTEN_MAX);
	if (loop_addr_parse(w, PROTO_PORT_DC_TLS, 0, &t->listen[t->nlisten]) <
	    0)
		return config_complain(path, "[tls] listen: \"%s\" is not "
		    "address[:port]", w);
	t->nlisten++;
	return 0;
}

static int
config_ocsp_listen(const char *path, const char *w, struct dc_config *c)
{
	struct dc_ocsp_config *o = &c->ocsp;

	if (o->nlisten >= DC_LISTEN_MAX)
		return config_complain(path, "[ocsp] listen: at most %d "
		    "addresses", DC_LISTEN_MAX);
	if (loop_addr_parse(w, PROTO_PORT_OCSP, 0, &o->listen[o->nlisten]) <
	    0)
		return config_complain(path, "[ocsp] listen: \"%s\" is not "
		    "address[:port]", w);
	o->nlisten++;
	return 0;
}

static int
config_convert_tls(const char *path, struct dc_conf_file *f,
    struct dc_config *c)
{
	struct dc_tls_config *t = &c->tls;
	char why[512];
	int errors = 0;

	errors += config_words(path, &f->tls_listen, config_tls_listen, c);
	if (f->tls_listen.n == 0) {
		config_default_listen(c, PROTO_PORT_DC_TLS, t->listen,
		    &t->nlisten);
		t->listen_default = true;
	}
	t->trust = f->tls_trust;
	t->cert = f->tls_cert;
	t->key = f->tls_key;
	f->tls_trust = f->tls_cert = f->tls_key = NULL;
	c->socket = f->socket;
	f->socket = NULL;
	if (c->socket != NULL && strlen(c->socket) >= CTLMSG_PATH_MAX)
		errors += config_complain(path, "[control] socket: longer than "
		    "%d bytes", CTLMSG_PATH_MAX - 1);
	if ((t->trust != NULL) != (t->cert != NULL) ||
	    (t->cert != NULL) != (t->key != NULL))
		errors += config_complain(path, "[tls] trust, cert and key go "
		    "together");
	else if (t->key != NULL && config_check_private_file(t->key, why,
	    sizeof(why)) < 0)
		errors += config_complain(path, "[tls] key: %s", why);
	if (t->cert != NULL && c->db_path == NULL)
		errors += config_complain(path, "[tls] needs [database] path "
		    "(notices are stored there)");
	errors += config_words(path, &f->ocsp_listen, config_ocsp_listen, c);
	if (c->ocsp.nlisten > 0 && c->db_path == NULL)
		errors += config_complain(path, "[ocsp] needs [database] path "
		    "(the statuses are stored there)");
	if (f->fed_resolver != NULL) {
		if (loop_addr_parse(f->fed_resolver, DC_DNS_PORT, 0,
		    &c->fed.resolver) < 0)
			errors += config_complain(path, "[federation] "
			    "resolver: \"%s\" is not address[:port]",
			    f->fed_resolver);
		else if (t->cert == NULL)
			errors += config_complain(path, "[federation] needs "
			    "[tls] (peer DCs are mutual-TLS clients)");
		else
			c->fed.have_resolver = true;
	}
	errors += config_words(path, &f->relay_server, config_relay_server,
	    c);
	if (c->relay.nserver > 0 && t->cert == NULL)
		errors += config_complain(path, "[relay] needs [tls] (the DC "
		    "is a mutual-TLS client of the RS)");
	return errors;
}

/* [policy]: each rule parsed now, so a typo stops the DC at start. */
static int
config_convert_policy(const char *path, struct dc_conf_file *f,
    struct dc_config *c)
{
	struct policy *pol = &c->policy;
	const char *why;
	size_t i;
	int errors = 0;

	pol->deny_default = f->policy_default == CONF_POLICY_DENY;
	if (f->policy_rules.n == 0)
		return 0;
	if ((pol->rules = calloc(f->policy_rules.n, sizeof(*pol->rules))) ==
	    NULL)
		return config_complain(path, "[policy] rule: out of memory");
	for (i = 0; i < f->policy_rules.n; i++) {
		if (policy_rule_parse(f->policy_rules.v[i],
		    &pol->rules[pol->nrules], &why) < 0)
			errors += config_complain(path, "[policy] rule \"%s\": "
			    "%s", f->policy_rules.v[i], why);
		else
			pol->nrules++;
	}
	return errors;
}

static int
config_convert_signal(const char *path, struct dc_conf_file *f,
    struct dc_config *c)
{
	struct dc_signal_config *g = &c->sig;
	char why[512];
	int errors = 0;

	errors += config_words(path, &f->sig_listen, config_sig_listen, c);
	if (f->sig_listen.n == 0) {
		config_default_listen(c, PROTO_PORT_DC, g->listen,
		    &g->nlisten);
		g->listen_default = true;
	}
	g->lifetime_s = (uint32_t)(f->sig_lifetime_ms / 1000);
	g->keepalive_s = (uint32_t)(f->sig_keepalive_ms / 1000);
	g->punch_deadline_ms = (uint32_t)f->sig_punch_ms;
	if (g->keepalive_s >= g->lifetime_s)
		errors += config_complain(path, "[signal] keepalive must be "
		    "shorter than lifetime");
	if (f->sig_ticket_key_file != NULL) {
		if (ticket_key_read(f->sig_ticket_key_file,
		    g->ticket_key, &g->ticket_key_id, why, sizeof(why)) < 0)
			errors += config_complain(path,
			    "[signal] ticket_key_file: %s", why);
		else
			g->have_ticket_key = true;
	}
	return errors;
}

static int
config_convert(const char *path, struct dc_conf_file *f, struct dc_config *c)
{
	struct xfr_config *x = &c->xfr;
	int errors = 0;

	c->zone = f->zone;
	c->zone_file = f->zone_file;
	c->db_path = f->db_path;
	f->zone = f->zone_file = f->db_path = NULL;
	errors += config_words(path, &f->listen, config_listen, c);
	errors += config_prefix(path, "prefix4", &f->prefix4, AF_INET, c);
	errors += config_prefix(path, "prefix6", &f->prefix6, AF_INET6, c);
	c->zcfg.node_ttl = (uint32_t)f->node_ttl;
	c->zcfg.origin = c->zone;
	c->zcfg.file = c->zone_file;
	c->tcp_idle_ms = f->tcp_idle_ms;
	c->tcp_clients = (uint32_t)f->tcp_clients;
	errors += config_words(path, &f->allow, config_allow, c);
	errors += config_words(path, &f->notify, config_notify, c);
	if ((f->key_name != NULL) != (f->key_secret_file != NULL))
		errors += config_complain(path, "[xfr] key_name and "
		    "key_secret_file go together");
	else if (f->key_name != NULL) {
		if (strlen(f->key_name) + 2 > sizeof(x->key_name))
			errors += config_complain(path,
			    "[xfr] key_name: too long");
		else {
			size_t n = strlen(f->key_name);

			snprintf(x->key_name, sizeof(x->key_name), "%s%s",
			    f->key_name, f->key_name[n - 1] == '.' ? "" : ".");
			errors += config_secret(path, f->key_secret_file, x);
			x->have_key = errors == 0;
		}
	}
	c->rrl.enabled = f->rrl_enabled;
	c->rrl.rate = (uint32_t)f->rrl_rate;
	c->rrl.burst = (uint32_t)f->rrl_burst;
	c->rrl.slip = (uint32_t)f->rrl_slip;
	c->rrl.v4_prefix = (unsigned)f->rrl_v4;
	c->rrl.v6_prefix = (unsigned)f->rrl_v6;
	c->rrl.slots = (uint32_t)f->rrl_slots;
	errors += config_convert_signal(path, f, c);
	errors += config_convert_tls(path, f, c);
	errors += config_convert_policy(path, f, c);
	return errors;
}

int
config_dc_load(const char *path, struct dc_config *cfg)
{
	struct dc_conf_file f;
	int rc, errors;

	memset(cfg, 0, sizeof(*cfg));
	if ((cfg->path = strdup(path)) == NULL)
		return -ENOMEM;
	if ((rc = config_load_stderr(conf_table, &f, path)) < 0)
		return 1;
	/* Bad lines leave their fields zero; check the rest all the same. */
	errors = config_convert(path, &f, cfg) + rc;
	config_free(conf_table, &f);
	return errors;
}

void
config_dc_free(struct dc_config *cfg)
{
	free(cfg->path);
	free(cfg->zone);
	free(cfg->zone_file);
	free(cfg->db_path);
	xfr_config_clear(&cfg->xfr);
	free(cfg->tls.trust);
	free(cfg->tls.cert);
	free(cfg->tls.key);
	free(cfg->socket);
	free(cfg->policy.rules);
	explicit_bzero(cfg->sig.ticket_key, sizeof(cfg->sig.ticket_key));
	memset(cfg, 0, sizeof(*cfg));
}
