/* ntmctl_stats.c -- ntmctl dc stats and rs stats: a daemon's counters from its control socket, as a table or JSON. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctlmsg.h"
#include "ntmctl.h"

#define NTMCTL_RS_SOCKET	RUNSTATEDIR "/ntmobile/ntm-rs.sock"
#define NTMCTL_DC_SOCKET	RUNSTATEDIR "/ntmobile/ntm-dc.sock"

enum {
	STATS_ANSWERS_MAX = 512,
	STATS_TIMEOUT_MS = 5000,
};

static int64_t
stats_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects, sends STATUS, collects lines up to END or ERROR. */
static int
stats_ask(const char *daemon, const char *path, struct ctlmsg *a, size_t max)
{
	struct sockaddr_un sun;
	struct pollfd pfd;
	struct ctlmsg req;
	char buf[CTLMSG_LINE_MAX * 2], line[CTLMSG_LINE_MAX + 1];
	size_t have = 0, ll, n = 0;
	int64_t deadline;
	ssize_t r;
	int fd, rc;

	memset(&req, 0, sizeof(req));
	req.type = CTLMSG_STATUS;
	if (ctlmsg_format(&req, line, sizeof(line), &ll) < 0)
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
	deadline = stats_ms() + STATS_TIMEOUT_MS;
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
			if (a[n++].type != CTLMSG_STAT) {
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
		if (poll(&pfd, 1, (int)(deadline - stats_ms())) <= 0) {
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
