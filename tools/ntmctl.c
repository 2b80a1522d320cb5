/* ntmctl.c -- ntmctl: main, the subcommand table and shared helpers. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctlmsg.h"
#include "log.h"
#include "ntmctl.h"

/* One line per noun; keep sorted. */
static const struct ntmctl_cmd ntmctl_cmds[] = {
	{ "account", "ntm-as accounts: add, list, remove", ntmctl_account },
	{ "ca", "offline certificate authority: init, issue, show, verify, "
	    "revoke, crl, ocsp", ntmctl_ca },
	{ "close", "close ntmd's tunnel to a peer", ntmctl_node },
	{ "dc", "ntm-dc counters: signalling, DNS, relay, notices: stats",
	    ntmctl_dc },
	{ "resolve", "a node's virtual IPs through ntmd", ntmctl_node },
	{ "revoke", "revoke a node's certificates at ntm-as", ntmctl_as },
	{ "rs", "ntm-rs relay counters: stats", ntmctl_rs },
	{ "status", "ntmd's registration, addresses, counters", ntmctl_node },
	{ "tunnels", "ntmd's tunnels: peer, route, state (-v: kex, counters)",
	    ntmctl_node },
};

static void	ntmctl_vmsg(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));

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

static int64_t
ntmctl_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ntmctl_ctl_ask(const char *daemon, const char *path, const struct ctlmsg *req,
    int timeout_ms, struct ctlmsg *a, size_t max)
{
	struct sockaddr_un sun;
	struct pollfd pfd;
	char buf[CTLMSG_LINE_MAX * 2], line[CTLMSG_LINE_MAX + 1];
	size_t have = 0, ll, n = 0;
	int64_t deadline;
	ssize_t r;
	int fd, rc;

	if (ctlmsg_format(req, line, sizeof(line), &ll) < 0)
		return ntmctl_err("cannot format the request"), -1;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ntmctl_err("%s: path too long", path), -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return ntmctl_err("socket: %s", strerror(errno)), -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ntmctl_err("%s is not running (%s: %s)", daemon, path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (write(fd, line, ll) != (ssize_t)ll) {
		ntmctl_err("%s: write: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	deadline = ntmctl_ms() + timeout_ms;
	for (;;) {
		while ((rc = ctlmsg_line(buf, have, &ll)) == 0) {
			if (n == max || ctlmsg_parse(&a[n], buf, ll) < 0 ||
			    !ctlmsg_is_answer(a[n].type)) {
				ntmctl_err("%s sent a line that does not "
				    "parse", daemon);
				close(fd);
				return -1;
			}
			memmove(buf, buf + ll + 1, have - ll - 1);
			have -= ll + 1;
			switch (a[n++].type) {
			case CTLMSG_WAIT:
			case CTLMSG_STAT:
			case CTLMSG_TUNNEL:
				continue;
			default:
				close(fd);
				return (int)n;
			}
		}
		if (rc == -EMSGSIZE) {
			ntmctl_err("%s sent an overlong line", daemon);
			break;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(deadline - ntmctl_ms())) <= 0) {
			ntmctl_err("no answer from %s", daemon);
			break;
		}
		if ((r = read(fd, buf + have, sizeof(buf) - have)) <= 0) {
			ntmctl_err("%s closed the connection early", daemon);
			break;
		}
		have += (size_t)r;
	}
	close(fd);
	return -1;
}
