/* dc.h -- ntm-dc: its configuration and environment, prototypes grouped by file. */
#ifndef NTM_DC_DC_H
#define NTM_DC_DC_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rrl.h"
#include "xfr.h"
#include "zone.h"

enum dc_default {
	DC_LISTEN_MAX = 16,
	DC_DNS_PORT = 53,
	DC_TCP_IDLE_DEFAULT_S = 10,
	DC_TCP_CLIENTS_DEFAULT = 128,
};

/* Everything ntm-dc.conf says.  Strings are owned (config_free). */
struct dc_config {
	char			*path;
	char			*zone;		/* [dns] zone */
	char			*zone_file;	/* [dns] zone_file */
	char			*db_path;	/* [database] path; NULL: no nodes */
	struct zone_config	 zcfg;		/* prefixes, node TTL; strings borrowed */
	struct sockaddr_storage	 listen[DC_LISTEN_MAX];
	size_t			 nlisten;
	uint32_t		 tcp_idle_s;
	uint32_t		 tcp_clients;
	struct rrl_config	 rrl;
	struct xfr_config	 xfr;
};

/* config.c */
/*
 * config_load: reads an INI file into cfg (defaults first).  Every problem
 * is printed to stderr as "file:line: message"; returns the number of
 * problems (0: usable) or a negative errno when the file cannot be read.
 * config_free releases the strings and wipes the TSIG secret.
 */
int	config_load(const char *path, struct dc_config *cfg);
void	config_free(struct dc_config *cfg);
/* Parses "addr", "addr:port", "[v6]:port" into ss; 0 or -EINVAL. */
int	config_parse_sockaddr(const char *text, uint16_t defport,
	    struct sockaddr_storage *ss);

#endif
