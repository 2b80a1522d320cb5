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
};

/* Everything ntm-dc.conf says.  Strings are owned (config_free). */
struct dc_config {
	char			*path;
	char			*zone;		/* [dns] zone */
	char			*zone_file;	/* [dns] zone_file */
	char			*db_path;	/* NULL: no nodes */
	struct zone_config	 zcfg;		/* its strings borrowed */
	struct sockaddr_storage	 listen[DC_LISTEN_MAX];
	size_t			 nlisten;
	uint64_t		 tcp_idle_ms;
	uint32_t		 tcp_clients;
	struct rrl_config	 rrl;
	struct xfr_config	 xfr;
};

/* config.c */
/*
 * config_dc_load: reads ntm-dc.conf (lib/config_table.h's loader, then the
 * DC's own checks: prefixes on label boundaries, addresses, the TSIG key
 * in a private file).  Every problem is printed to stderr, as
 * "file:line: [section] key: reason" where the line is known and
 * "file: [section] key: reason" otherwise.  Returns the number of problems
 * (0: usable) or a negative errno when the file cannot be read.
 * config_dc_free releases the strings and wipes the TSIG secret.
 */
int	config_dc_load(const char *path, struct dc_config *cfg);
void	config_dc_free(struct dc_config *cfg);

#endif
