/* nsscall.c -- test driver: calls the NSS module's entry points directly. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <nss.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Usage: nsscall FUNCTION KEY [BUFLEN]
 *   FUNCTION: name4 | name3-inet | name3-inet6 | name2-inet | name2-inet6 |
 *             name | addr2 | addr, or one of these after "again-": call,
 *             then read a line from standard input and call again in the
 *             same process (what the module keeps between calls).
 * Prints "status S errno E h_errno H", then "name N" and "addr A" lines on
 * success.  getent cannot show these (it retries ERANGE with a bigger buffer
 * and hides the NSS codes), so the integration test uses this; it links
 * plugins/nss_ntm.c itself, with the sanitizers in that build.
 */

extern nss_gethostbyname4_r	_nss_ntm_gethostbyname4_r;
extern nss_gethostbyname3_r	_nss_ntm_gethostbyname3_r;
extern nss_gethostbyname2_r	_nss_ntm_gethostbyname2_r;
extern nss_gethostbyname_r	_nss_ntm_gethostbyname_r;
extern nss_gethostbyaddr2_r	_nss_ntm_gethostbyaddr2_r;
extern nss_gethostbyaddr_r	_nss_ntm_gethostbyaddr_r;

static const char *
nsscall_status(enum nss_status s)
{
	switch (s) {
	case NSS_STATUS_SUCCESS:
		return "SUCCESS";
	case NSS_STATUS_NOTFOUND:
		return "NOTFOUND";
	case NSS_STATUS_UNAVAIL:
		return "UNAVAIL";
	case NSS_STATUS_TRYAGAIN:
		return "TRYAGAIN";
	case NSS_STATUS_RETURN:
		return "RETURN";
	default:
		return "?";
	}
}

static const char *
nsscall_herrno(int h)
{
	switch (h) {
	case NETDB_INTERNAL:
		return "NETDB_INTERNAL";
	case NETDB_SUCCESS:
		return "NETDB_SUCCESS";
	case HOST_NOT_FOUND:
		return "HOST_NOT_FOUND";
	case TRY_AGAIN:
		return "TRY_AGAIN";
	case NO_RECOVERY:
		return "NO_RECOVERY";
	case NO_DATA:
		return "NO_DATA";
	default:
		return "?";
	}
}

static const char *
nsscall_errno(int e)
{
	switch (e) {
	case 0:
		return "0";
	case ERANGE:
		return "ERANGE";
	case ENOENT:
		return "ENOENT";
	case EPERM:
		return "EPERM";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EPROTO:
		return "EPROTO";
	case ECONNRESET:
		return "ECONNRESET";
	case EAFNOSUPPORT:
		return "EAFNOSUPPORT";
	case EINVAL:
		return "EINVAL";
	default:
		return strerror(e);
	}
}

static void
nsscall_print_hostent(const struct hostent *h)
{
	char text[INET6_ADDRSTRLEN];
	char **p;

	printf("name %s\n", h->h_name);
	for (p = h->h_aliases; *p != NULL; p++)
		printf("alias %s\n", *p);
	for (p = h->h_addr_list; *p != NULL; p++)
		printf("addr %s\n", inet_ntop(h->h_addrtype, *p, text,
		    sizeof(text)));
}

/* One call of fn; prints its outcome.  0, or 2 on a usage error. */
static int
nsscall_run(const char *fn, const char *key, size_t buflen)
{
	struct gaih_addrtuple *pat = NULL, *t;
	struct hostent h;
	enum nss_status s;
	char *buf, *canon = NULL, text[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	int err = 0, herr = 0, af;
	int32_t ttl = -1;

	/* Exactly buflen bytes, so ASan catches a write past the end. */
	if ((buf = malloc(buflen > 0 ? buflen : 1)) == NULL)
		return 2;
	memset(&h, 0, sizeof(h));
	af = strstr(fn, "inet6") != NULL ? AF_INET6 : AF_INET;
	if (strcmp(fn, "name4") == 0)
		s = _nss_ntm_gethostbyname4_r(key, &pat, buf, buflen, &err,
		    &herr, &ttl);
	else if (strncmp(fn, "name3-", 6) == 0)
		s = _nss_ntm_gethostbyname3_r(key, af, &h, buf, buflen,
		    &err, &herr, &ttl, &canon);
	else if (strncmp(fn, "name2-", 6) == 0)
		s = _nss_ntm_gethostbyname2_r(key, af, &h, buf, buflen,
		    &err, &herr);
	else if (strcmp(fn, "name") == 0)
		s = _nss_ntm_gethostbyname_r(key, &h, buf, buflen, &err,
		    &herr);
	else if (strcmp(fn, "addr2") == 0 || strcmp(fn, "addr") == 0) {
		af = strchr(key, ':') != NULL ? AF_INET6 : AF_INET;
		if (inet_pton(af, key, addr) != 1) {
			fprintf(stderr, "nsscall: bad address %s\n", key);
			free(buf);
			return 2;
		}
		if (strcmp(fn, "addr2") == 0)
			s = _nss_ntm_gethostbyaddr2_r(addr,
			    af == AF_INET ? 4 : 16, af, &h, buf, buflen, &err,
			    &herr, &ttl);
		else
			s = _nss_ntm_gethostbyaddr_r(addr,
			    af == AF_INET ? 4 : 16, af, &h, buf, buflen, &err,
			    &herr);
	} else {
		fprintf(stderr, "nsscall: unknown function %s\n", fn);
		free(buf);
		return 2;
	}
	printf("status %s errno %s h_errno %s\n", nsscall_status(s),
	    s == NSS_STATUS_SUCCESS ? "0" : nsscall_errno(err),
	    s == NSS_STATUS_SUCCESS ? "NETDB_SUCCESS" : nsscall_herrno(herr));
	if (s == NSS_STATUS_SUCCESS) {
		if (strcmp(fn, "name4") == 0) {
			for (t = pat; t != NULL; t = t->next) {
				if (t->name != NULL)
					printf("name %s\n", t->name);
				printf("addr %s\n", inet_ntop(t->family,
				    t->addr, text, sizeof(text)));
			}
		} else
			nsscall_print_hostent(&h);
		if (canon != NULL)
			printf("canon %s\n", canon);
	}
	fflush(stdout);
	free(buf);
	return 0;
}

int
main(int argc, char *argv[])
{
	char line[64];
	size_t buflen = 1024;
	const char *fn;
	int rc;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: nsscall function key [buflen]\n");
		return 2;
	}
	fn = argv[1];
	if (argc == 4)
		buflen = (size_t)strtoul(argv[3], NULL, 10);
	if (strncmp(fn, "again-", 6) != 0)
		return nsscall_run(fn, argv[2], buflen);
	if ((rc = nsscall_run(fn + 6, argv[2], buflen)) != 0)
		return rc;
	if (fgets(line, sizeof(line), stdin) == NULL) {
		fprintf(stderr, "nsscall: no line to go on\n");
		return 2;
	}
	return nsscall_run(fn + 6, argv[2], buflen);
}
