/* bench_lookup.c -- times the C library's lookups as a program makes them (getaddrinfo, getnameinfo), for bench_nss.sh. */

/*
 * usage: bench_lookup [-n count] NAME|ADDRESS ...
 *
 * Each argument is looked up once untimed (the first lookup of a process
 * loads the NSS modules and reads nsswitch.conf and resolv.conf; its time
 * is printed apart), then count times more, the arguments taken in turn so
 * that a slow moment of the machine falls on all of them alike.  A name
 * goes to getaddrinfo(AF_UNSPEC, SOCK_STREAM), an address to getnameinfo
 * with NI_NAMEREQD: what `getent ahosts` and a logging server do.
 *
 * Output, one line per argument, then one line per timed lookup (times
 * in nanoseconds of CLOCK_MONOTONIC):
 *   lookup ARG first-ns FIRST result RESULT mismatches M
 *   sample ARG NS
 * RESULT is "ok" with the number of addresses (or the name found), or the
 * EAI_ code's text; a later lookup that ends differently from the first is
 * a mismatch (the figures then mix two kinds of answer).  Exit 0, or 2 on a
 * usage error.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOOKUP_ARGS_MAX	16
#define LOOKUP_COUNT_MAX	1000000

struct lookup {
	const char		*arg;
	struct sockaddr_storage	 ss;	/* when arg is an address */
	socklen_t		 sslen;
	char			 result[NI_MAXHOST + 32];
	uint64_t		 first_ns;
	unsigned long		 mismatches;
	uint64_t		*ns;
};

static uint64_t
lookup_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static int
lookup_parse(struct lookup *l, const char *arg)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&l->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->ss;

	memset(l, 0, sizeof(*l));
	l->arg = arg;
	if (inet_pton(AF_INET, arg, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		l->sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, arg, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		l->sslen = sizeof(*sin6);
	}
	return 0;
}

/* One lookup; its outcome as text in out. */
static void
lookup_once(const struct lookup *l, char *out, size_t outlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[NI_MAXHOST];
	int rc, n;

	if (l->sslen > 0) {
		rc = getnameinfo((const struct sockaddr *)&l->ss, l->sslen,
		    host, sizeof(host), NULL, 0, NI_NAMEREQD);
		if (rc == 0)
			snprintf(out, outlen, "ok %s", host);
		else
			snprintf(out, outlen, "%s", gai_strerror(rc));
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(l->arg, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(out, outlen, "%s", gai_strerror(rc));
		return;
	}
	for (n = 0, ai = res; ai != NULL; ai = ai->ai_next)
		n++;
	freeaddrinfo(res);
	snprintf(out, outlen, "ok %d addresses", n);
}

int
main(int argc, char **argv)
{
	struct lookup l[LOOKUP_ARGS_MAX];
	char out[sizeof(l[0].result)];
	unsigned long count = 200, i;
	uint64_t t0;
	char *end;
	int c, nargs, j;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			count = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || count == 0 ||
			    count > LOOKUP_COUNT_MAX) {
				fprintf(stderr, "bench_lookup: -n: a count from "
				    "1 to %d\n", LOOKUP_COUNT_MAX);
				return 2;
			}
			break;
		default:
			goto usage;
		}
	}
	nargs = argc - optind;
	if (nargs < 1 || nargs > LOOKUP_ARGS_MAX)
		goto usage;
	for (j = 0; j < nargs; j++) {
		lookup_parse(&l[j], argv[optind + j]);
		if ((l[j].ns = calloc(count, sizeof(*l[j].ns))) == NULL) {
			fprintf(stderr, "bench_lookup: out of memory\n");
			return 1;
		}
		t0 = lookup_now_ns();
		lookup_once(&l[j], l[j].result, sizeof(l[j].result));
		l[j].first_ns = lookup_now_ns() - t0;
	}
	for (i = 0; i < count; i++) {
		for (j = 0; j < nargs; j++) {
			t0 = lookup_now_ns();
			lookup_once(&l[j], out, sizeof(out));
			l[j].ns[i] = lookup_now_ns() - t0;
			if (strcmp(out, l[j].result) != 0)
				l[j].mismatches++;
		}
	}
	for (j = 0; j < nargs; j++)
		printf("lookup %s first-ns %llu result %s mismatches %lu\n",
		    l[j].arg, (unsigned long long)l[j].first_ns, l[j].result,
		    l[j].mismatches);
	for (j = 0; j < nargs; j++) {
		for (i = 0; i < count; i++)
			printf("sample %s %llu\n", l[j].arg,
			    (unsigned long long)l[j].ns[i]);
		free(l[j].ns);
	}
	return 0;
usage:
	fprintf(stderr, "usage: bench_lookup [-n count] NAME|ADDRESS ... "
	    "(at most %d)\n", LOOKUP_ARGS_MAX);
	return 2;
}
