/* ntmctl.c -- ntmctl: main, the subcommand table and shared helpers. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "ntmctl.h"

/* One line per noun; keep sorted. */
static const struct ntmctl_cmd ntmctl_cmds[] = {
	{ "account", "ntm-as accounts: add, list, remove", ntmctl_account },
	{ "ca", "offline certificate authority: init, issue, show, verify, "
	    "revoke, crl, ocsp", ntmctl_ca },
	{ "dc", "ntm-dc counters: signalling, DNS, relay, notices: stats",
	    ntmctl_dc },
	{ "resolve", "a node's virtual IPs through ntmd", ntmctl_node },
	{ "revoke", "revoke a node's certificates at ntm-as", ntmctl_as },
	{ "rs", "ntm-rs relay counters: stats", ntmctl_rs },
	{ "status", "ntmd's registration, addresses, counters", ntmctl_node },
	{ "tunnels", "ntmd's tunnels: peer, route, state", ntmctl_node },
};

static void
ntmctl_vmsg(const char *fmt, va_list ap)
{
	fputs("ntmctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int
ntmctl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ntmctl_vmsg(fmt, ap);
	va_end(ap);
	return NTMCTL_FAIL;
}

int
ntmctl_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ntmctl_vmsg(fmt, ap);
	va_end(ap);
	return NTMCTL_USAGE;
}

void
ntmctl_json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
ntmctl_help(FILE *f)
{
	size_t i;

	fputs("usage: ntmctl COMMAND [ARGS...]\n\ncommands:\n", f);
	for (i = 0; i < sizeof(ntmctl_cmds) / sizeof(ntmctl_cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", ntmctl_cmds[i].name,
		    ntmctl_cmds[i].summary);
	fputs("\nSee ntmctl(8).\n", f);
}

int
main(int argc, char *argv[])
{
	size_t i;

	log_init("ntmctl", 1, LOG_LEVEL_WARN);
	if (argc < 2)
		return ntmctl_usage("missing command (try ntmctl help)");
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		ntmctl_help(stdout);
		return NTMCTL_OK;
	}
	for (i = 0; i < sizeof(ntmctl_cmds) / sizeof(ntmctl_cmds[0]); i++)
		if (strcmp(argv[1], ntmctl_cmds[i].name) == 0)
			return ntmctl_cmds[i].run(argc - 1, argv + 1);
	return ntmctl_usage("unknown command '%s' (try ntmctl help)", argv[1]);
}
