/* ntmctl_account.c -- ntmctl account add/list/remove through ntm-as's control socket. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ntmctl.h"

#define NTMCTL_AS_SOCKET	RUNSTATEDIR "/ntmobile/ntm-as.sock"

enum {
	ACCOUNT_FQDNS_MAX = 64,
	ACCOUNT_PASSWORD_MAX_CLI = 1024,
	/* One request line of ntm-as's control socket (as/control.c). */
	ACCOUNT_LINE_MAX = 4096,
};

/* tools/ntmctl_as.c */
int	ntmctl_as_call(const char *socket_path, const char *line,
	    int (*each)(const char *line, void *arg), void *arg);
int	ntmctl_account(int argc, char *argv[]);

static const char account_usage[] =
    "usage: ntmctl account add NAME --fqdn FQDN... [--password-file FILE]\n"
    "       ntmctl account list [--json]\n"
    "       ntmctl account remove NAME\n"
    "       (each takes --socket PATH; add reads the password from the\n"
    "       file or the first line of standard input)";

/* Reads the first line of path ("-": stdin) without its newline. */
static int
account_password(const char *path, char *buf, size_t cap)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t len;

	if (f == NULL)
		return ntmctl_err("%s: %s", path, strerror(errno));
	if (fgets(buf, (int)cap, f) == NULL)
		buf[0] = '\0';
	if (f != stdin)
		fclose(f);
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0)
		return ntmctl_err("no password given");
	return NTMCTL_OK;
}

struct account_out {
	int	json;
	int	n;
};

/* "account NAME CREATED enabled|disabled FQDN,FQDN|-" */
static int
account_print(const char *line, void *arg)
{
	struct account_out *o = arg;
	char name[128], state[16], fqdns[4096];
	long long created;
	char *p, *save = NULL;
	int first = 1;

	if (sscanf(line, "account %127s %lld %15s %4095s", name, &created,
	    state, fqdns) != 4)
		return 0;
	if (!o->json) {
		if (o->n++ == 0)
			printf("%-20s %-9s %s\n", "ACCOUNT", "STATE", "FQDNS");
		printf("%-20s %-9s %s\n", name, state, fqdns);
		return 0;
	}
	printf("%s{\"name\": ", o->n++ ? ", " : "[");
	ntmctl_json_str(stdout, name);
	printf(", \"created\": %lld, \"disabled\": %s, \"fqdns\": [", created,
	    strcmp(state, "disabled") == 0 ? "true" : "false");
	if (strcmp(fqdns, "-") != 0)
		for (p = strtok_r(fqdns, ",", &save); p != NULL;
		    p = strtok_r(NULL, ",", &save)) {
			printf("%s", first ? "" : ", ");
			ntmctl_json_str(stdout, p);
			first = 0;
		}
	printf("]}");
	return 0;
}

static int
account_word_ok(const char *s)
{
	return s[0] != '\0' && strchr(s, ' ') == NULL &&
	    strchr(s, '\n') == NULL && strlen(s) <= 253;
}

int
ntmctl_account(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "fqdn", required_argument, NULL, 'f' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NTMCTL_AS_SOCKET, *pwfile = "-", *verb;
	const char *fqdns[ACCOUNT_FQDNS_MAX];
	struct account_out o = { 0, 0 };
	char pw[ACCOUNT_PASSWORD_MAX_CLI + 2], *line;
	size_t nf = 0, i, cap, off;
	int ch, rv;

	if (argc < 2)
		return ntmctl_usage("%s", account_usage);
	verb = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (nf == ACCOUNT_FQDNS_MAX)
				return ntmctl_usage("at most %d --fqdn",
				    ACCOUNT_FQDNS_MAX);
			if (!account_word_ok(optarg))
				return ntmctl_usage("--fqdn: '%s' is not a "
				    "name", optarg);
			fqdns[nf++] = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'j':
			o.json = 1;
			break;
		default:
			return ntmctl_usage("%s", account_usage);
		}
	}
	if (strcmp(verb, "list") == 0) {
		if (optind != argc)
			return ntmctl_usage("%s", account_usage);
		rv = ntmctl_as_call(sock, "account-list\n", account_print, &o);
		if (rv == NTMCTL_OK && o.json)
			printf("%s\n", o.n ? "]" : "[]");
		else if (rv == NTMCTL_OK && o.n == 0)
			printf("no accounts\n");
		return rv;
	}
	if (optind != argc - 1 || !account_word_ok(argv[optind]))
		return ntmctl_usage("%s", account_usage);
	if (strcmp(verb, "remove") == 0) {
		if (asprintf(&line, "account-remove %s\n", argv[optind]) < 0)
			return ntmctl_err("out of memory");
		rv = ntmctl_as_call(sock, line, NULL, NULL);
		free(line);
		if (rv == NTMCTL_OK)
			printf("account %s removed\n", argv[optind]);
		return rv;
	}
	if (strcmp(verb, "add") != 0)
		return ntmctl_usage("%s", account_usage);
	if (nf == 0)
		return ntmctl_usage("account add: at least one --fqdn");
	if ((rv = account_password(pwfile, pw, sizeof(pw))) != NTMCTL_OK)
		return rv;
	cap = 64 + strlen(argv[optind]) + 2 * strlen(pw) + nf * 256;
	if ((line = malloc(cap)) == NULL)
		return ntmctl_err("out of memory");
	off = (size_t)snprintf(line, cap, "account-add %s ", argv[optind]);
	for (i = 0; pw[i] != '\0'; i++)
		off += (size_t)snprintf(line + off, cap - off, "%02x",
		    (unsigned char)pw[i]);
	for (i = 0; i < nf; i++)
		off += (size_t)snprintf(line + off, cap - off, " %s",
		    fqdns[i]);
	off += (size_t)snprintf(line + off, cap - off, "\n");
	memset(pw, 0, sizeof(pw));
	if (off > ACCOUNT_LINE_MAX) {
		memset(line, 0, cap);
		free(line);
		return ntmctl_usage("account add: %zu FQDNs and the password "
		    "make a %zu-byte request, over the AS's %d: add fewer "
		    "names at once", nf, off, ACCOUNT_LINE_MAX);
	}
	rv = ntmctl_as_call(sock, line, NULL, NULL);
	memset(line, 0, cap);
	free(line);
	if (rv == NTMCTL_OK)
		printf("account %s added with %zu FQDN%s\n", argv[optind], nf,
		    nf == 1 ? "" : "s");
	return rv;
}
