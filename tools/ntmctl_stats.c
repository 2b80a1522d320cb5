/* ntmctl_stats.c -- ntmctl dc stats and rs stats: a daemon's counters from its control socket, as a table or JSON. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlmsg.h"
#include "ntmctl.h"

#define NTMCTL_RS_SOCKET	RUNSTATEDIR "/ntmobile/ntm-rs.sock"
#define NTMCTL_DC_SOCKET	RUNSTATEDIR "/ntmobile/ntm-dc.sock"

enum {
	STATS_ANSWERS_MAX = 512,
	STATS_TIMEOUT_MS = 5000,
};

/* Sends STATUS and collects the STAT lines up to END or ERROR. */
static int
stats_ask(const char *daemon, const char *path, struct ctlmsg *a, size_t max)
{
	struct ctlmsg req;

	memset(&req, 0, sizeof(req));
	req.type = CTLMSG_STATUS;
	return ntmctl_ctl_ask(daemon, path, &req, STATS_TIMEOUT_MS, a, max);
}

static int
stats_show(const char *daemon, const char *path, bool json)
{
	struct ctlmsg *a;
	int n, i, k = 0;

	if ((a = calloc(STATS_ANSWERS_MAX, sizeof(*a))) == NULL)
		return ntmctl_err("out of memory");
	if ((n = stats_ask(daemon, path, a, STATS_ANSWERS_MAX)) < 0) {
		free(a);
		return NTMCTL_FAIL;
	}
	if (a[n - 1].type != CTLMSG_END) {
		i = ntmctl_err("%s %s", ctlmsg_type_name(a[n - 1].type),
		    a[n - 1].word);
		free(a);
		return i;
	}
	if (json)
		putchar('{');
	for (i = 0; i < n - 1; i++) {
		/* Every value a stats socket sends is a decimal counter. */
		if (json)
			printf("%s\"%s\":%s", k++ > 0 ? "," : "", a[i].word,
			    a[i].value);
		else
			printf("%-22s %s\n", a[i].word, a[i].value);
	}
	if (json)
		puts("}");
	free(a);
	return NTMCTL_OK;
}

/* ntmctl NOUN stats [--json] [-s socket]: argv[0] is the noun. */
static int
stats_cmd(int argc, char *argv[], const char *daemon, const char *path)
{
	const char *verb = NULL;
	bool json = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (argv[i][0] == '-')
			return ntmctl_usage("%s: unknown option '%s'",
			    argv[0], argv[i]);
		else if (verb == NULL)
			verb = argv[i];
		else
			return ntmctl_usage("%s: unexpected argument '%s'",
			    argv[0], argv[i]);
	}
	if (verb == NULL || strcmp(verb, "stats") != 0)
		return ntmctl_usage("usage: ntmctl %s stats [--json] "
		    "[-s socket]", argv[0]);
	return stats_show(daemon, path, json);
}

int
ntmctl_rs(int argc, char *argv[])
{
	return stats_cmd(argc, argv, "ntm-rs", NTMCTL_RS_SOCKET);
}

int
ntmctl_dc(int argc, char *argv[])
{
	return stats_cmd(argc, argv, "ntm-dc", NTMCTL_DC_SOCKET);
}
