/* ntmctl_as.c -- ntmctl revoke, and the request/answer exchange with ntm-as's control socket. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ntmctl.h"
#include "ocsp.h"

#define NTMCTL_AS_SOCKET	RUNSTATEDIR "/ntmobile/ntm-as.sock"

int	ntmctl_as_call(const char *socket_path, const char *line,
	    int (*each)(const char *line, void *arg), void *arg);
int	ntmctl_as(int argc, char *argv[]);

/*
 * Sends one request line to ntm-as (as/control.c) and reads the answer:
 * each data line goes to `each` (may be NULL: printed), the final "ok" is
 * NTMCTL_OK and "error <text>" prints the text and is NTMCTL_FAIL.
 */
int
ntmctl_as_call(const char *socket_path, const char *line,
    int (*each)(const char *line, void *arg), void *arg)
{
	struct sockaddr_un sun;
	char buf[8192], *p, *nl;
	size_t len = 0, wlen = strlen(line);
	ssize_t n;
	int fd, rv = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(socket_path) >= sizeof(sun.sun_path))
		return ntmctl_err("%s: path too long", socket_path);
	memcpy(sun.sun_path, socket_path, strlen(socket_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return ntmctl_err("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rv = ntmctl_err("%s: %s (is ntm-as running?)", socket_path,
		    strerror(errno));
		close(fd);
		return rv;
	}
	if (write(fd, line, wlen) != (ssize_t)wlen) {
		close(fd);
		return ntmctl_err("%s: write: %s", socket_path,
		    strerror(errno));
	}
	for (;;) {
		if (len == sizeof(buf) - 1) {
			rv = ntmctl_err("answer line too long");
			break;
		}
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0) {
			rv = ntmctl_err("ntm-as closed without an answer");
			break;
		}
		len += (size_t)n;
		buf[len] = '\0';
		p = buf;
		while ((nl = strchr(p, '\n')) != NULL) {
			*nl = '\0';
			if (strcmp(p, "ok") == 0) {
				rv = NTMCTL_OK;
				goto out;
			}
			if (strncmp(p, "error ", 6) == 0) {
				rv = ntmctl_err("%s", p + 6);
				goto out;
			}
			if (each != NULL)
				each(p, arg);
			else
				printf("%s\n", p);
			p = nl + 1;
		}
		len -= (size_t)(p - buf);
		memmove(buf, p, len);
	}
out:
	close(fd);
	return rv;
}

static int
ntmctl_as_revoked(const char *line, void *arg)
{
	int *json = arg;
	const char *n = strncmp(line, "revoked ", 8) == 0 ? line + 8 : "0";

	if (*json)
		printf("{\"revoked\": %d}\n", atoi(n));
	else
		printf("%s certificate%s revoked\n", n,
		    strcmp(n, "1") == 0 ? "" : "s");
	return 0;
}

/* ntmctl revoke FQDN|SERIAL [--reason R] [--socket PATH] [--json] */
int
ntmctl_as(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NTMCTL_AS_SOCKET, *reason = "unspecified";
	enum ocsp_reason r;
	char line[512];
	int ch, json = 0;

	if (argc < 1 || strcmp(argv[0], "revoke") != 0)
		return ntmctl_usage("unknown command");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			reason = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return ntmctl_usage("usage: ntmctl revoke FQDN|SERIAL "
			    "[--reason R] [--socket PATH] [--json]");
		}
	}
	if (optind != argc - 1)
		return ntmctl_usage("usage: ntmctl revoke FQDN|SERIAL "
		    "[--reason R] [--socket PATH] [--json]");
	if (ocsp_reason_parse(reason, &r) < 0)
		return ntmctl_usage("--reason: '%s' is not an RFC 5280 reason "
		    "(keyCompromise, superseded, cessationOfOperation, ...)",
		    reason);
	if (strchr(argv[optind], ' ') != NULL ||
	    strlen(argv[optind]) > 253 || argv[optind][0] == '\0')
		return ntmctl_usage("'%s' is not an FQDN or serial",
		    argv[optind]);
	snprintf(line, sizeof(line), "revoke %s %s\n", argv[optind],
	    ocsp_reason_name(r));
	return ntmctl_as_call(sock, line, ntmctl_as_revoked, &json);
}
