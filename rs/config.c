/* config.c -- ntm-rs.conf through lib/config's table loader, then the RS's own checks. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_table.h"
#include "loop.h"
#include "proto.h"
#include "relay.h"
#include "rs.h"

/* The file as the table loader reads it; turned into struct rs_config. */
struct rs_conf_file {
	struct config_list	 listen;
	struct config_list	 address;
	uint64_t		 idle_ms;
	int64_t			 paths;
	char			*user;
	struct config_list	 tls_listen;
	char			*trust, *cert, *key;
	char			*socket;
	int			 level;
};

static const struct config_enum conf_levels[] = {
	{ "error", LOG_LEVEL_ERR },
	{ "warn", LOG_LEVEL_WARN },
	{ "info", LOG_LEVEL_INFO },
	{ "debug", LOG_LEVEL_DEBUG },
	{ NULL, 0 },
};

#define F(field)	offsetof(struct rs_conf_file, field)
static const struct config_key conf_table[] = {
	{ "relay", "listen", CONFIG_LIST, F(listen),
	    "0.0.0.0:4613, [::]:4613", 1, CONFIG_LIST_MAX, 0, 0, NULL },
	{ "relay", "address", CONFIG_LIST, F(address), NULL, 1,
	    CONFIG_LIST_MAX, CONFIG_REQUIRED, 0, NULL },
	{ "relay", "idle", CONFIG_DURATION, F(idle_ms), "60s", 1000, 3600000,
	    0, 0, NULL },
	{ "relay", "paths", CONFIG_INT, F(paths), "4096", 1, RELAY_PATHS_MAX,
	    0, 0, NULL },
	{ "relay", "user", CONFIG_STRING, F(user), NULL, 0, 0, 0, 0, NULL },
	{ "tls", "listen", CONFIG_LIST, F(tls_listen),
	    "0.0.0.0:4614, [::]:4614", 1, CONFIG_LIST_MAX, 0, 0, NULL },
	{ "tls", "trust", CONFIG_PATH, F(trust), NULL, 0, 0, CONFIG_REQUIRED,
	    0, NULL },
	{ "tls", "cert", CONFIG_PATH, F(cert), NULL, 0, 0, CONFIG_REQUIRED, 0,
	    NULL },
	{ "tls", "key", CONFIG_PATH, F(key), NULL, 0, 0, CONFIG_REQUIRED, 0,
	    NULL },
	{ "control", "socket", CONFIG_PATH, F(socket), RS_SOCKET_DEFAULT, 0,
	    0, 0, 0, NULL },
	{ "log", "level", CONFIG_ENUM, F(level), "info", 0, 0, 0, 0,
	    conf_levels },
	{ NULL, NULL, CONFIG_TYPE_INVALID, 0, NULL, 0, 0, 0, 0, NULL },
};
#undef F

/* Each list entry may itself hold blank-separated addresses. */
static int
config_words(const char *path, const char *what, const struct config_list *l,
    uint16_t port, struct sockaddr_storage *out, size_t max, size_t *n)
{
	char word[256];
	const char *p;
	size_t i, len;
	int errors = 0;

	for (i = 0; i < l->n; i++)
		for (p = l->v[i]; *p != '\0'; p += len) {
			p += strspn(p, " \t");
			if ((len = strcspn(p, " \t")) == 0)
				break;
			if (len >= sizeof(word)) {
				errors += config_complain(path, "%s: list item "
				    "too long", what);
				continue;
			}
			memcpy(word, p, len);
			word[len] = '\0';
			if (*n >= max) {
				errors += config_complain(path, "%s: at most "
				    "%zu addresses", what, max);
				continue;
			}
			if (loop_addr_parse(word, port, 0, &out[*n]) < 0) {
				errors += config_complain(path, "%s: \"%s\" is "
				    "not address[:port]", what, word);
				continue;
			}
			(*n)++;
		}
	return errors;
}

/* The advertised addresses: one IPv4 and/or one IPv6, given a port. */
static int
config_addresses(const char *path, const struct config_list *l,
    struct rs_config *c)
{
	struct sockaddr_storage ss[RS_LISTEN_MAX];
	size_t i, n = 0;
	int errors, fam[2] = { 0, 0 };

	errors = config_words(path, "[relay] address", l, PROTO_PORT_RS, ss,
	    RS_ADDRS_MAX, &n);
	for (i = 0; i < n; i++) {
		struct msg_addr *a = &c->addr[c->naddr];
		int k = ss[i].ss_family == AF_INET ? 0 : 1;

		if (fam[k]++ > 0) {
			errors += config_complain(path, "[relay] address: one "
			    "IPv4 and one IPv6 address at most");
			continue;
		}
		memset(a, 0, sizeof(*a));
		if (ss[i].ss_family == AF_INET) {
			const struct sockaddr_in *in = (const void *)&ss[i];

			a->family = PROTO_FAMILY_IPV4;
			a->port = ntohs(in->sin_port);
			memcpy(a->addr, &in->sin_addr, 4);
		} else {
			const struct sockaddr_in6 *in6 = (const void *)&ss[i];

			a->family = PROTO_FAMILY_IPV6;
			a->port = ntohs(in6->sin6_port);
			memcpy(a->addr, &in6->sin6_addr, 16);
		}
		if (a->port == 0) {
			errors += config_complain(path, "[relay] address: port "
			    "0 cannot be advertised");
			continue;
		}
		c->naddr++;
	}
	return errors;
}

static int
config_convert(const char *path, struct rs_conf_file *f, struct rs_config *c)
{
	char why[512];
	int errors = 0;

	errors += config_words(path, "[relay] listen", &f->listen,
	    PROTO_PORT_RS, c->listen, RS_LISTEN_MAX, &c->nlisten);
	errors += config_addresses(path, &f->address, c);
	c->idle_ms = f->idle_ms;
	c->paths = (uint32_t)f->paths;
	c->user = f->user;
	f->user = NULL;
	errors += config_words(path, "[tls] listen", &f->tls_listen,
	    PROTO_PORT_RS_TLS, c->tls_listen, RS_LISTEN_MAX, &c->ntls_listen);
	c->trust = f->trust;
	c->cert = f->cert;
	c->key = f->key;
	c->socket = f->socket;
	f->trust = f->cert = f->key = f->socket = NULL;
	if (c->key != NULL && config_check_private_file(c->key, why,
	    sizeof(why)) < 0)
		errors += config_complain(path, "[tls] key: %s", why);
	if (c->socket != NULL && strlen(c->socket) >= CTLMSG_PATH_MAX)
		errors += config_complain(path, "[control] socket: longer than "
		    "%d bytes", CTLMSG_PATH_MAX - 1);
	c->level = f->level != 0 ? (enum log_level)f->level : LOG_LEVEL_INFO;
	return errors;
}

int
config_rs_load(const char *path, struct rs_config *cfg)
{
	struct rs_conf_file f;
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
config_rs_free(struct rs_config *cfg)
{
	free(cfg->path);
	free(cfg->user);
	free(cfg->trust);
	free(cfg->cert);
	free(cfg->key);
	free(cfg->socket);
	memset(cfg, 0, sizeof(*cfg));
}
