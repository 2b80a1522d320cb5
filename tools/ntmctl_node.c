/* ntmctl_node.c -- ntmctl status, tunnels, resolve, close: ntmd's control socket (doc/CONTROL.md) for people and scripts. */
#include "config.h"

#include <netinet/in.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlmsg.h"
#include "ntmctl.h"

enum {
	NODE_ANSWERS_MAX = 320,		/* lines of one answer: ntmd sends at most
					   CONTROL_LINES_MAX (node/control.h),
					   e.g. 256 TUNNEL lines and END */
	NODE_TIMEOUT_MS = CTLMSG_WAIT_MAX_MS + 1000,
};

struct node_opts {
	bool			 json;
	bool			 verbose;	/* tunnels: the counters too */
	const char		*socket;	/* NULL: from nss.conf */
	enum ctlmsg_family	 family;
};

/* The socket path: -s, else nss.conf's "socket", else the default. */
static void
node_socket_path(const struct node_opts *o, char *out, size_t cap)
{
	struct ctlmsg_conf c;
	char text[CTLMSG_CONF_MAX];
	size_t len, errline;
	FILE *fp;

	if (o->socket != NULL) {
		snprintf(out, cap, "%s", o->socket);
		return;
	}
	ctlmsg_conf_default(&c);
	if ((fp = fopen(CTLMSG_CONF_PATH, "r")) != NULL) {
		len = fread(text, 1, sizeof(text), fp);
		fclose(fp);
		(void)ctlmsg_conf_parse(&c, text, len, &errline);
	}
	snprintf(out, cap, "%s", c.socket);
}

/*
 * Sends one request and collects the answer lines up to the final one.
 * Returns the number of answers in a[], or -1 after printing why.
 */
static int
node_ask(const struct node_opts *o, const struct ctlmsg *req,
    struct ctlmsg *a, size_t max)
{
	char path[CTLMSG_PATH_MAX];

	node_socket_path(o, path, sizeof(path));
	return ntmctl_ctl_ask("ntmd", path, req, NODE_TIMEOUT_MS, a, max);
}

/* Non-final answers that end a request badly: one line, exit 1. */
static int
node_fail(const struct node_opts *o, const struct ctlmsg *m)
{
	if (o->json) {
		printf("{\"error\":");
		ntmctl_json_str(stdout, ctlmsg_type_name(m->type));
		printf(",\"reason\":");
		ntmctl_json_str(stdout, m->word);
		printf("}\n");
	}
	return ntmctl_err("%s %s", ctlmsg_type_name(m->type), m->word);
}

static bool
node_is_number(const char *s)
{
	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int
node_status(const struct node_opts *o)
{
	struct ctlmsg req, *a;
	int n, i, rc = NTMCTL_OK;

	if ((a = calloc(NODE_ANSWERS_MAX, sizeof(*a))) == NULL)
		return ntmctl_err("out of memory");
	memset(&req, 0, sizeof(req));
	req.type = CTLMSG_STATUS;
	if ((n = node_ask(o, &req, a, NODE_ANSWERS_MAX)) < 0) {
		free(a);
		return NTMCTL_FAIL;
	}
	if (a[n - 1].type != CTLMSG_END) {
		rc = node_fail(o, &a[n - 1]);
		free(a);
		return rc;
	}
	if (o->json)
		putchar('{');
	for (i = 0; i < n - 1; i++) {
		if (a[i].type != CTLMSG_STAT)
			continue;
		if (o->json) {
			if (i > 0)
				putchar(',');
			ntmctl_json_str(stdout, a[i].word);
			putchar(':');
			if (node_is_number(a[i].value))
				fputs(a[i].value, stdout);
			else
				ntmctl_json_str(stdout, a[i].value);
		} else
			printf("%-18s %s\n", a[i].word, a[i].value);
	}
	if (o->json)
		puts("}");
	free(a);
	return rc;
}

static void
node_addrs_json(const struct ctlmsg *m)
{
	char a[INET6_ADDRSTRLEN];
	size_t i;

	putchar('[');
	for (i = 0; i < m->naddr; i++) {
		if (ctlmsg_addr_format(&m->addr[i], a, sizeof(a)) < 0)
			continue;
		if (i > 0)
			putchar(',');
		ntmctl_json_str(stdout, a);
	}
	putchar(']');
}

static void
node_addrs_text(const struct ctlmsg *m)
{
	char a[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < m->naddr; i++)
		if (ctlmsg_addr_format(&m->addr[i], a, sizeof(a)) == 0)
			printf("%s%s", i > 0 ? " " : "", a);
}

/* A TUNNEL option for the table; "-" when ntmd did not send it. */
static const char *
node_opt(const struct ctlmsg *m, const char *key)
{
	const char *v = ctlmsg_opt_get(m, key);

	return v != NULL ? v : "-";
}

/* Every option of a TUNNEL line as JSON members, numbers unquoted. */
static void
node_opts_json(const struct ctlmsg *m)
{
	size_t i;

	for (i = 0; i < m->nopt; i++) {
		putchar(',');
		ntmctl_json_str(stdout, m->opt[i].key);
		putchar(':');
		if (node_is_number(m->opt[i].value))
			fputs(m->opt[i].value, stdout);
		else
			ntmctl_json_str(stdout, m->opt[i].value);
	}
}

static int
node_tunnels(const struct node_opts *o)
{
	struct ctlmsg req, *a;
	int n, i, rc, k = 0;

	if ((a = calloc(NODE_ANSWERS_MAX, sizeof(*a))) == NULL)
		return ntmctl_err("out of memory");
	memset(&req, 0, sizeof(req));
	req.type = CTLMSG_TUNNELS;
	if ((n = node_ask(o, &req, a, NODE_ANSWERS_MAX)) < 0) {
		free(a);
		return NTMCTL_FAIL;
	}
	if (a[n - 1].type != CTLMSG_END) {
		rc = node_fail(o, &a[n - 1]);
		free(a);
		return rc;
	}
	if (o->json)
		putchar('[');
	else if (o->verbose)
		printf("%-32s %-8s %-8s %-6s %-6s %10s %10s %12s %12s %6s "
		    "%5s %7s %7s %8s %s\n", "PEER", "ROUTE", "STATE", "KEX",
		    "VIA", "PKTS-IN", "PKTS-OUT", "BYTES-IN", "BYTES-OUT",
		    "DROPS", "EPOCH", "AGE-S", "IDLE-S", "SETUP-US",
		    "ADDRESSES");
	else
		printf("%-32s %-8s %-8s %s\n", "PEER", "ROUTE", "STATE",
		    "ADDRESSES");
	for (i = 0; i < n - 1; i++) {
		if (a[i].type != CTLMSG_TUNNEL)
			continue;
		if (o->json) {
			printf("%s{\"peer\":", k++ > 0 ? "," : "");
			ntmctl_json_str(stdout, a[i].name);
			printf(",\"route\":");
			ntmctl_json_str(stdout, a[i].word);
			printf(",\"state\":");
			ntmctl_json_str(stdout, a[i].value);
			printf(",\"addresses\":");
			node_addrs_json(&a[i]);
			node_opts_json(&a[i]);
			putchar('}');
		} else if (o->verbose) {
			printf("%-32s %-8s %-8s %-6s %-6s %10s %10s %12s %12s "
			    "%6s %5s %7s %7s %8s ", a[i].name, a[i].word,
			    a[i].value, node_opt(&a[i], "kex"),
			    node_opt(&a[i], "via"),
			    node_opt(&a[i], "packets-in"),
			    node_opt(&a[i], "packets-out"),
			    node_opt(&a[i], "bytes-in"),
			    node_opt(&a[i], "bytes-out"),
			    node_opt(&a[i], "drops"), node_opt(&a[i], "epoch"),
			    node_opt(&a[i], "age-s"),
			    node_opt(&a[i], "idle-s"),
			    node_opt(&a[i], "setup-us"));
			node_addrs_text(&a[i]);
			putchar('\n');
		} else {
			printf("%-32s %-8s %-8s ", a[i].name, a[i].word,
			    a[i].value);
			node_addrs_text(&a[i]);
			putchar('\n');
		}
	}
	if (o->json)
		puts("]");
	free(a);
	return NTMCTL_OK;
}

static int
node_resolve(const struct node_opts *o, const char *name)
{
	struct ctlmsg req, a[16];
	const struct ctlmsg *fin;
	int n;

	memset(&req, 0, sizeof(req));
	req.type = CTLMSG_RESOLVE;
	req.family = o->family;
	if (ctlmsg_name_normalize(name, req.name, sizeof(req.name)) < 0)
		return ntmctl_usage("'%s' is not a host name", name);
	if ((n = node_ask(o, &req, a, sizeof(a) / sizeof(a[0]))) < 0)
		return NTMCTL_FAIL;
	fin = &a[n - 1];
	if (fin->type != CTLMSG_OK)
		return node_fail(o, fin);
	if (o->json) {
		printf("{\"name\":");
		ntmctl_json_str(stdout, fin->name);
		printf(",\"addresses\":");
		node_addrs_json(fin);
		puts("}");
	} else {
		printf("%s ", fin->name);
		node_addrs_text(fin);
		putchar('\n');
	}
	return NTMCTL_OK;
}

/*
 * CLOSE: one line on stdout when closed; otherwise one line on stderr
 * saying why, exit 1 (no such tunnel, a setup still running, not allowed,
 * ntmd down or stopping).
 */
static int
node_close(const struct node_opts *o, const char *name)
{
	struct ctlmsg req, a[4];
	const struct ctlmsg *fin;
	int n;

	memset(&req, 0, sizeof(req));
	req.type = CTLMSG_CLOSE;
	if (ctlmsg_name_normalize(name, req.name, sizeof(req.name)) < 0)
		return ntmctl_usage("'%s' is not a host name", name);
	if ((n = node_ask(o, &req, a, sizeof(a) / sizeof(a[0]))) < 0)
		return NTMCTL_FAIL;
	fin = &a[n - 1];
	if (fin->type == CTLMSG_OK) {
		if (o->json) {
			printf("{\"closed\":");
			ntmctl_json_str(stdout, fin->name);
			printf(",\"addresses\":");
			node_addrs_json(fin);
			puts("}");
		} else {
			printf("closed the tunnel to %s (", fin->name);
			node_addrs_text(fin);
			puts(")");
		}
		return NTMCTL_OK;
	}
	if (o->json) {
		printf("{\"error\":");
		ntmctl_json_str(stdout, ctlmsg_type_name(fin->type));
		printf(",\"reason\":");
		ntmctl_json_str(stdout, fin->word);
		printf("}\n");
	}
	if (fin->type == CTLMSG_NOTFOUND && strcmp(fin->word,
	    "no-tunnel") == 0)
		return ntmctl_err("no tunnel to %s", req.name);
	if (fin->type == CTLMSG_NOTFOUND && strcmp(fin->word,
	    "setting-up") == 0)
		return ntmctl_err("no tunnel to %s yet: its setup is still "
		    "running (try again once it is up)", req.name);
	if (fin->type == CTLMSG_ERROR && strcmp(fin->word,
	    "permission-denied") == 0)
		return ntmctl_err("close %s: permission denied (only root "
		    "and ntmd's own user may close tunnels)", req.name);
	if (fin->type == CTLMSG_UNAVAIL && strcmp(fin->word,
	    "shutting-down") == 0)
		return ntmctl_err("close %s: ntmd is shutting down (its "
		    "tunnels are closing)", req.name);
	return ntmctl_err("close %s: %s %s", req.name,
	    ctlmsg_type_name(fin->type), fin->word);
}

/*
 * ntmctl status|tunnels|resolve|close [--json] [-s socket] ...: argv[0] is
 * the noun, as the dispatch table in ntmctl.c passes it.
 */
int
ntmctl_node(int argc, char *argv[])
{
	struct node_opts o = { .family = CTLMSG_FAMILY_ANY };
	const char *noun = argv[0], *arg = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			o.json = true;
		else if (strcmp(argv[i], "-v") == 0 ||
		    strcmp(argv[i], "--verbose") == 0)
			o.verbose = true;
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			o.socket = argv[++i];
		else if (strcmp(argv[i], "-4") == 0)
			o.family = CTLMSG_FAMILY_INET;
		else if (strcmp(argv[i], "-6") == 0)
			o.family = CTLMSG_FAMILY_INET6;
		else if (argv[i][0] == '-')
			return ntmctl_usage("%s: unknown option '%s'", noun,
			    argv[i]);
		else if (arg == NULL)
			arg = argv[i];
		else
			return ntmctl_usage("%s: too many arguments", noun);
	}
	if (strcmp(noun, "resolve") == 0) {
		if (arg == NULL)
			return ntmctl_usage("usage: ntmctl resolve [-4|-6] "
			    "[--json] [-s socket] NAME");
		return node_resolve(&o, arg);
	}
	if (strcmp(noun, "close") == 0) {
		if (arg == NULL)
			return ntmctl_usage("usage: ntmctl close [--json] "
			    "[-s socket] NAME");
		return node_close(&o, arg);
	}
	if (arg != NULL)
		return ntmctl_usage("%s: unexpected argument '%s'", noun, arg);
	if (strcmp(noun, "status") == 0)
		return node_status(&o);
	if (strcmp(noun, "tunnels") == 0)
		return node_tunnels(&o);
	return ntmctl_usage("unknown command '%s'", noun);
}
