/* testtable.c -- the config table the golden tests and test_config share. */
#include "config.h"

#include <stddef.h>

#include "testtable.h"

static const struct config_enum testconf_levels[] = {
	{ "error", TESTCONF_LEVEL_ERROR },
	{ "warn", TESTCONF_LEVEL_WARN },
	{ "info", TESTCONF_LEVEL_INFO },
	{ "debug", TESTCONF_LEVEL_DEBUG },
	{ NULL, 0 },
};

#define F(field)	offsetof(struct testconf, field)

const struct config_key testconf_table[] = {
	{ "server", "name", CONFIG_STRING, F(name), NULL, 0, 0,
	    CONFIG_REQUIRED, 0, NULL },
	{ "server", "foreground", CONFIG_BOOL, F(foreground), "no", 0, 0, 0, 0,
	    NULL },
	{ "server", "log", CONFIG_ENUM, F(log), "info", 0, 0, 0, 0,
	    testconf_levels },
	{ "server", "workers", CONFIG_INT, F(workers), "4", 1, 64, 0, 0, NULL },
	{ "server", "keepalive", CONFIG_DURATION, F(keepalive), "25s", 1000,
	    3600 * 1000, 0, 0, NULL },
	{ "server", "retransmit", CONFIG_DURATION, F(retransmit), "250ms", 0, 0,
	    0, 0, NULL },
	{ "server", "listen", CONFIG_ADDR, F(listen), "0.0.0.0", 0, 0, 0, 4610,
	    NULL },
	{ "server", "upstream", CONFIG_ADDR, F(upstream), NULL, 0, 0,
	    CONFIG_NEED_PORT, 0, NULL },
	{ "server", "prefix4", CONFIG_PREFIX, F(prefix4), NULL, 0, 0,
	    CONFIG_REQUIRED, 0, NULL },
	{ "server", "prefix6", CONFIG_PREFIX, F(prefix6), "fd6e:746d:6f62::/48",
	    0, 0, 0, 0, NULL },
	{ "server", "key", CONFIG_PATH, F(key), "/etc/ntmobile/key.pem", 0, 0,
	    0, 0, NULL },
	{ "peer", "kex", CONFIG_LIST, F(kex), "ecdhe", 0, 3, 0, 0, NULL },
	{ "peer", "allow", CONFIG_LIST, F(allow), NULL, 0, 0, 0, 0, NULL },
	{ NULL, NULL, CONFIG_TYPE_INVALID, 0, NULL, 0, 0, 0, 0, NULL },
};
