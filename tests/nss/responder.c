/* responder.c -- test stand-in for ntmd's control socket: a scripted table. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlmsg.h"

/*
 * Usage: ntm-nss-responder -s SOCKET -t TABLE -l LOG
 *
 * TABLE holds one rule per line, '#' starts a comment:
 *
 *   REQUEST LINE => ANSWER; ANSWER; ...
 *   *            => ANSWER; ...          (any other valid request)
 *
 * An ANSWER is a protocol line (checked with ctlmsg_parse when the table
 * is loaded), "@sleep MS" (pause), "@raw TEXT" (send TEXT and LF
 * unchecked, to feed the client a broken line) or "@close" (hang up).
 * Requests are parsed strictly too; a bad one is answered ERROR
 * bad-request.  LOG gets one line per event: "listening", "connect",
 * "request <line>", "bad-request <len>".  Each connection is served by
 * its own child, so a slow answer does not hold up the next client.
 */

enum responder_limit {
	RESPONDER_LIMIT_INVALID = 0,
	RESPONDER_RULES_MAX = 64,
	RESPONDER_ANSWERS_MAX = 8,
	RESPONDER_READ_MS = 2000,
};

struct responder_rule {
	char	 request[CTLMSG_LINE_MAX];	/* "*" matches any */
	char	 answer[RESPONDER_ANSWERS_MAX][CTLMSG_LINE_MAX];
	int	 nanswer;
};

static struct responder_rule	rules[RESPONDER_RULES_MAX];
static int			nrules;
static int			logfd = -1;

static void __attribute__((format(printf, 1, 2)))
responder_log(const char *fmt, ...)
{
	char line[CTLMSG_LINE_MAX + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write() per event: the children share the O_APPEND file. */
	if (write(logfd, line, (size_t)n) < 0)
		_exit(3);
}

static void __attribute__((format(printf, 1, 2), noreturn))
responder_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ntm-nss-responder: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static char *
responder_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static void
responder_check_answer(const char *path, int lineno, const char *a)
{
	struct ctlmsg m;

	if (a[0] == '@') {
		if (strncmp(a, "@sleep ", 7) == 0 && atoi(a + 7) > 0)
			return;
		if (strncmp(a, "@raw ", 5) == 0 || strcmp(a, "@close") == 0)
			return;
		responder_die("%s:%d: unknown directive %s", path, lineno, a);
	}
	if (ctlmsg_parse(&m, a, strlen(a)) < 0 || !ctlmsg_is_answer(m.type))
		responder_die("%s:%d: not a protocol answer: %s", path, lineno,
		    a);
}

static void
responder_load(const char *path)
{
	char buf[4 * CTLMSG_LINE_MAX], *sep, *ans, *next;
	FILE *f;
	int lineno = 0;

	if ((f = fopen(path, "r")) == NULL)
		responder_die("%s: %s", path, strerror(errno));
	while (fgets(buf, sizeof(buf), f) != NULL) {
		struct responder_rule *r;
		char *line = buf;

		lineno++;
		line = responder_trim(line);
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((sep = strstr(line, "=>")) == NULL)
			responder_die("%s:%d: no =>", path, lineno);
		if (nrules == RESPONDER_RULES_MAX)
			responder_die("%s:%d: too many rules", path, lineno);
		r = &rules[nrules++];
		*sep = '\0';
		snprintf(r->request, sizeof(r->request), "%s",
		    responder_trim(line));
		for (ans = sep + 2; ans != NULL; ans = next) {
			if ((next = strchr(ans, ';')) != NULL)
				*next++ = '\0';
			ans = responder_trim(ans);
			if (*ans == '\0')
				continue;
			if (r->nanswer == RESPONDER_ANSWERS_MAX)
				responder_die("%s:%d: too many answers", path,
				    lineno);
			responder_check_answer(path, lineno, ans);
			snprintf(r->answer[r->nanswer++], CTLMSG_LINE_MAX, "%s",
			    ans);
		}
	}
	fclose(f);
}

static const struct responder_rule *
responder_match(const char *request)
{
	int i;

	for (i = 0; i < nrules; i++)
		if (strcmp(rules[i].request, request) == 0)
			return &rules[i];
	for (i = 0; i < nrules; i++)
		if (strcmp(rules[i].request, "*") == 0)
			return &rules[i];
	return NULL;
}

static void
responder_send(int fd, const char *text)
{
	size_t len = strlen(text);

	if (send(fd, text, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1)
		_exit(0);	/* the client gave up: fine for a test */
}

/* Reads one request line within RESPONDER_READ_MS; returns its length or -1. */
static int
responder_read(int fd, char *buf)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t have = 0, linelen;
	ssize_t n;
	int rc;

	for (;;) {
		if ((rc = ctlmsg_line(buf, have, &linelen)) == 0)
			return (int)linelen;
		if (rc != -EAGAIN)
			return -1;
		if (poll(&pfd, 1, RESPONDER_READ_MS) <= 0)
			return -1;
		if ((n = read(fd, buf + have, CTLMSG_LINE_MAX - have)) <= 0)
			return -1;
		have += (size_t)n;
	}
}

static void
responder_serve(int fd)
{
	char buf[CTLMSG_LINE_MAX + 1];
	const struct responder_rule *r;
	struct ctlmsg m;
	int len, i;

	responder_log("connect");
	if ((len = responder_read(fd, buf)) < 0) {
		responder_log("no-request");
		return;
	}
	if (ctlmsg_parse(&m, buf, (size_t)len) < 0 ||
	    ctlmsg_is_answer(m.type)) {
		responder_log("bad-request %d", len);
		responder_send(fd, "ERROR bad-request");
		return;
	}
	buf[len] = '\0';
	responder_log("request %s", buf);
	if ((r = responder_match(buf)) == NULL) {
		responder_send(fd, "UNAVAIL not-in-zone");
		return;
	}
	for (i = 0; i < r->nanswer; i++) {
		const char *a = r->answer[i];

		if (strncmp(a, "@sleep ", 7) == 0)
			poll(NULL, 0, atoi(a + 7));
		else if (strncmp(a, "@raw ", 5) == 0)
			responder_send(fd, a + 5);
		else if (strcmp(a, "@close") == 0)
			return;
		else
			responder_send(fd, a);
	}
}

int
main(int argc, char *argv[])
{
	const char *sockpath = NULL, *table = NULL, *logpath = NULL;
	struct sockaddr_un sun;
	int ch, lfd, fd;

	while ((ch = getopt(argc, argv, "s:t:l:")) != -1) {
		switch (ch) {
		case 's':
			sockpath = optarg;
			break;
		case 't':
			table = optarg;
			break;
		case 'l':
			logpath = optarg;
			break;
		default:
			responder_die("usage: -s socket -t table -l log");
		}
	}
	if (sockpath == NULL || table == NULL || logpath == NULL)
		responder_die("usage: -s socket -t table -l log");
	responder_load(table);
	logfd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (logfd < 0)
		responder_die("%s: %s", logpath, strerror(errno));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sockpath) >= sizeof(sun.sun_path))
		responder_die("%s: path too long", sockpath);
	memcpy(sun.sun_path, sockpath, strlen(sockpath));
	unlink(sockpath);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(sockpath, 0666) < 0 || listen(lfd, 16) < 0)
		responder_die("%s: %s", sockpath, strerror(errno));
	signal(SIGCHLD, SIG_IGN);	/* children are reaped by the kernel */
	responder_log("listening");
	for (;;) {
		pid_t pid;

		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			responder_die("accept: %s", strerror(errno));
		}
		if ((pid = fork()) == 0) {
			close(lfd);
			responder_serve(fd);
			close(fd);
			_exit(0);
		}
		if (pid < 0)
			responder_die("fork: %s", strerror(errno));
		close(fd);
	}
}
