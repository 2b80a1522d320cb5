/* ntmctl.h -- ntmctl: subcommand entry points and shared CLI helpers. */
#ifndef NTM_NTMCTL_H
#define NTM_NTMCTL_H

#include <stdio.h>

/*
 * Exit statuses of every subcommand: success, a failure the message names,
 * a usage error (unknown option, missing argument).
 */
enum ntmctl_exit {
	NTMCTL_OK = 0,
	NTMCTL_FAIL = 1,
	NTMCTL_USAGE = 2,
};

/*
 * One entry of the dispatch table in ntmctl.c.  `run` gets argv[0] = the
 * noun ("ca") and returns an enum ntmctl_exit.  A new noun is one file
 * tools/ntmctl_<noun>.c exporting ntmctl_<noun>(), declared below, and one
 * line in the table.
 */
struct ntmctl_cmd {
	const char	*name;
	const char	*summary;
	int		(*run)(int argc, char *argv[]);
};

/* tools/ntmctl_ca.c: offline CA (init issue show verify revoke crl ocsp) */
int	ntmctl_ca(int argc, char *argv[]);
/* tools/ntmctl_node.c: ntmd control socket (status tunnels resolve) */
int	ntmctl_node(int argc, char *argv[]);
int	ntmctl_account(int argc, char *argv[]);	/* ntmctl_account.c */
int	ntmctl_as(int argc, char *argv[]);	/* ntmctl_as.c: revoke */
int	ntmctl_rs(int argc, char *argv[]);	/* ntmctl_stats.c */
int	ntmctl_dc(int argc, char *argv[]);	/* ntmctl_stats.c */

/* Prints "ntmctl: <message>" as one line on stderr; returns NTMCTL_FAIL. */
int	ntmctl_err(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Prints a usage error the same way; returns NTMCTL_USAGE. */
int	ntmctl_usage(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
struct ctlmsg;
/*
 * Sends req on a daemon's control socket (doc/CONTROL.md) and collects the
 * answer lines (WAIT, STAT and TUNNEL lines, then the final one) into
 * a[0..max).  Returns their number, or -1 after printing why, naming the
 * daemon ("ntmd is not running (PATH: ...)", "no answer from ntm-dc").
 */
int	ntmctl_ctl_ask(const char *daemon, const char *path,
	    const struct ctlmsg *req, int timeout_ms, struct ctlmsg *a,
	    size_t max);
/* Writes s as a JSON string literal, quotes included. */
void	ntmctl_json_str(FILE *, const char *s);

#endif
