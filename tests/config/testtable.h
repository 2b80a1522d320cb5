/* testtable.h -- the config table the golden tests and test_config share. */
#ifndef NTM_TESTTABLE_H
#define NTM_TESTTABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config_table.h"

enum testconf_level {
	TESTCONF_LEVEL_INVALID = 0,
	TESTCONF_LEVEL_ERROR,
	TESTCONF_LEVEL_WARN,
	TESTCONF_LEVEL_INFO,
	TESTCONF_LEVEL_DEBUG,
};

/* One field of each type, as a daemon's config struct would hold them. */
struct testconf {
	char			*name;
	bool			 foreground;
	int			 log;
	int64_t			 workers;
	uint64_t		 keepalive;
	uint64_t		 retransmit;
	struct sockaddr_storage	 listen;
	struct sockaddr_storage	 upstream;
	struct config_prefix	 prefix4;
	struct config_prefix	 prefix6;
	char			*key;
	struct config_list	 kex;
	struct config_list	 allow;
};

extern const struct config_key testconf_table[];

#endif
