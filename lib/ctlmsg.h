/* ctlmsg.h -- ntmd control-socket line protocol and nss.conf (CONTROL.md). */
#ifndef NTM_CTLMSG_H
#define NTM_CTLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * libc only: this file is compiled into libnss_ntm.so.2 as well as into
 * libntm, so it may depend on nothing else of the project.  Every function is
 * pure (no I/O, no globals, no clock) and reentrant.
 *
 * One line of the protocol (doc/CONTROL.md is normative):
 *
 *   +---------+---+--------+---+--------+-- ... --+----+
 *   | VERB    | SP| field  | SP| field  |         | LF |
 *   +---------+---+--------+---+--------+-- ... --+----+
 *   <----------- at most CTLMSG_LINE_MAX bytes, LF included ----------->
 *
 * Bytes are printable ASCII (0x21..0x7e) separated by exactly one space;
 * no leading or trailing space, no CR, no NUL.  Every field has one
 * canonical spelling, so format(parse(line)) == line for every line the
 * parser accepts.
 */

enum ctlmsg_limit {
	CTLMSG_LIMIT_INVALID = 0,
	CTLMSG_LINE_MAX = 1024,		/* bytes of one line, LF included */
	CTLMSG_NAME_MAX = 253,		/* FQDN without the trailing dot */
	CTLMSG_LABEL_MAX = 63,
	CTLMSG_WORD_MAX = 63,		/* reason, STAT key, route, state */
	CTLMSG_VALUE_MAX = 255,		/* STAT value */
	CTLMSG_ADDR_MAX = 8,		/* addresses in one OK or TUNNEL line */
	CTLMSG_OPTS_MAX = 16,		/* key=value options of a TUNNEL line */
	CTLMSG_OPT_KEY_MAX = 15,	/* bytes of an option's key */
	CTLMSG_OPT_VALUE_MAX = 23,	/* of its value (a uint64 is 20) */
	CTLMSG_WAIT_MAX_MS = 30000,	/* longest WAIT a server may announce */
	CTLMSG_CONNECT_MS = 100,	/* client: time allowed to connect */
	CTLMSG_SETUP_MS = 3000,		/* client: default wait for an answer */
	CTLMSG_CONF_MAX = 4096,		/* bytes of nss.conf read at most */
	CTLMSG_CONF_ZONES = 16,
	CTLMSG_CONF_RANGES = 16,
	CTLMSG_PATH_MAX = 108,		/* sizeof(sun_path), NUL included */
};

/* Fixed paths (ports.md): the module reads no environment variables. */
#define CTLMSG_CONF_PATH	"/etc/ntmobile/nss.conf"
#define CTLMSG_SOCKET_DEFAULT	"/run/ntmobile/ntmd.sock"

enum ctlmsg_type {
	CTLMSG_INVALID = 0,
	/* requests (client -> ntmd) */
	CTLMSG_RESOLVE,		/* RESOLVE <fqdn> <family> */
	CTLMSG_REVERSE,		/* REVERSE <ip> */
	CTLMSG_STATUS,		/* STATUS */
	CTLMSG_TUNNELS,		/* TUNNELS */
	CTLMSG_CLOSE,		/* CLOSE <fqdn> */
	/* answers (ntmd -> client) */
	CTLMSG_WAIT,		/* WAIT <ms>             interim: setting up */
	CTLMSG_OK,		/* OK <fqdn> <ip>...     final */
	CTLMSG_NOTFOUND,	/* NOTFOUND <reason>     final */
	CTLMSG_UNAVAIL,		/* UNAVAIL <reason>      final */
	CTLMSG_ERROR,		/* ERROR <reason>        final: bad request */
	CTLMSG_STAT,		/* STAT <key> <value>    one line of STATUS */
	CTLMSG_TUNNEL,		/* TUNNEL <fqdn> <route> <state> <ip>...
				 *   [<key>=<value>...] */
	CTLMSG_END,		/* END       final after STAT/TUNNEL lines */
};

enum ctlmsg_family {
	CTLMSG_FAMILY_INVALID = 0,
	CTLMSG_FAMILY_INET,	/* "inet": IPv4 addresses only */
	CTLMSG_FAMILY_INET6,	/* "inet6": IPv6 addresses only */
	CTLMSG_FAMILY_ANY,	/* "any": both */
};

/* An address in network byte order; af is AF_INET (4 bytes) or AF_INET6. */
struct ctlmsg_addr {
	int		af;
	uint8_t		a[16];
};

/*
 * One key=value option of a TUNNEL line: key a word of 1..15 bytes
 * (a-z 0-9 - _), value 1..23 bytes of the same set.  Keys are unique
 * within a line and keep the order they were added in.
 */
struct ctlmsg_opt {
	char		key[CTLMSG_OPT_KEY_MAX + 1];
	char		value[CTLMSG_OPT_VALUE_MAX + 1];
};

/*
 * One parsed line.  Which fields carry meaning depends on type:
 *   RESOLVE  name, family          REVERSE  addr[0] (naddr 1)
 *   CLOSE    name
 *   WAIT     wait_ms               OK       name, addr[0..naddr-1] (naddr >= 1)
 *   NOTFOUND, UNAVAIL, ERROR  word (the reason)
 *   STAT     word (key), value     TUNNEL   name, word (route), value (state),
 *                                           addr[0..naddr-1] (naddr >= 1),
 *                                           opt[0..nopt-1] (nopt >= 0)
 * Strings are NUL-terminated.  The struct owns no memory.
 */
struct ctlmsg {
	enum ctlmsg_type	type;
	enum ctlmsg_family	family;
	uint32_t		wait_ms;
	char			name[CTLMSG_NAME_MAX + 1];
	char			word[CTLMSG_WORD_MAX + 1];
	char			value[CTLMSG_VALUE_MAX + 1];
	size_t			naddr;
	struct ctlmsg_addr	addr[CTLMSG_ADDR_MAX];
	size_t			nopt;
	struct ctlmsg_opt	opt[CTLMSG_OPTS_MAX];
};

/*
 * ctlmsg_line: finds the first complete line in buf[0..len).  Returns 0 and
 * sets *linelen to its length without the LF; -EAGAIN when no LF has arrived
 * yet and more bytes may still complete a line; -EMSGSIZE when the first
 * CTLMSG_LINE_MAX bytes hold no LF (the peer broke the protocol).
 */
int	ctlmsg_line(const char *buf, size_t len, size_t *linelen);

/*
 * ctlmsg_parse: parses one line of len bytes, without its LF (need not be
 * NUL-terminated).  Returns 0, or -EINVAL for any departure from
 * doc/CONTROL.md (unknown verb, missing or extra field, bad character, bad
 * name or address, non-canonical spelling), or -EMSGSIZE for a line that
 * does not fit CTLMSG_LINE_MAX.  *m is fully overwritten either way.
 */
int	ctlmsg_parse(struct ctlmsg *m, const char *line, size_t len);

/*
 * ctlmsg_format: writes m as one line, LF included, into buf (cap bytes; a
 * NUL follows when room remains) and sets *lenp to its length without NUL.
 * Returns 0, -EINVAL when a field is not valid for m->type (the same rules
 * as the parser), -EMSGSIZE when the line would exceed CTLMSG_LINE_MAX (a
 * TUNNEL line with many addresses and options), or -ENOSPC when cap is too
 * small.
 */
int	ctlmsg_format(const struct ctlmsg *m, char *buf, size_t cap,
	    size_t *lenp);

/*
 * TUNNEL options.  ctlmsg_opt_add appends key=value (both checked as the
 * parser checks them): 0, -EINVAL (bad key or value, or a key already
 * there), -ENOSPC (CTLMSG_OPTS_MAX reached).  ctlmsg_opt_add_u64 writes v
 * in decimal.  ctlmsg_opt_get returns the value of key (borrowed from m)
 * or NULL.
 */
int	ctlmsg_opt_add(struct ctlmsg *m, const char *key, const char *value);
int	ctlmsg_opt_add_u64(struct ctlmsg *m, const char *key, uint64_t v);
const char *ctlmsg_opt_get(const struct ctlmsg *m, const char *key);

/* Verbs and family names as they appear on the wire; NULL for INVALID. */
const char *ctlmsg_type_name(enum ctlmsg_type);
const char *ctlmsg_family_name(enum ctlmsg_family);
/* True for WAIT, OK, NOTFOUND, UNAVAIL, ERROR, STAT, TUNNEL, END. */
bool	ctlmsg_is_answer(enum ctlmsg_type);

/*
 * ctlmsg_name_valid: true when s[0..len) is a protocol name: LDH labels of
 * 1..63 bytes, lower case, no label starting or ending with '-', separated
 * by single dots, no trailing dot, at most CTLMSG_NAME_MAX bytes.
 */
bool	ctlmsg_name_valid(const char *s, size_t len);

/*
 * ctlmsg_name_normalize: turns a caller's name (NUL-terminated, any case,
 * at most one trailing dot) into the protocol form in out (cap bytes).
 * Returns 0, -EINVAL when the result would not be ctlmsg_name_valid(), or
 * -ENOSPC when cap is too small.
 */
int	ctlmsg_name_normalize(const char *in, char *out, size_t cap);

/* True when name (protocol form) lies strictly below zone (protocol form). */
bool	ctlmsg_name_in_zone(const char *name, const char *zone);

/* Writes the canonical text of an address (inet_ntop), NUL included. */
int	ctlmsg_addr_format(const struct ctlmsg_addr *, char *buf, size_t cap);
/* Parses the canonical text of an address; -EINVAL for any other spelling. */
int	ctlmsg_addr_parse(struct ctlmsg_addr *, const char *s, size_t len);

/*
 * nss.conf (doc/nss_ntm.8): "key = value" lines, '#' comments.
 *   socket = /run/ntmobile/ntmd.sock     absolute path of ntmd's socket
 *   server_uid = 0                        uid accepted besides 0
 *   zones = dc1.ntm.test dc2.ntm.test     names the module asks ntmd about
 *   ranges = 198.18.0.0/15 fd6e:746d:6f62::/48   addresses it reverses
 *   setup_timeout = 3000ms                (or "3s", "3")
 * A key may appear once.  Unknown keys are errors (a typo must not silently
 * change what the module does).
 */
struct ctlmsg_range {
	struct ctlmsg_addr	prefix;
	unsigned int		plen;
};

struct ctlmsg_conf {
	char			socket[CTLMSG_PATH_MAX];
	uint32_t		server_uid;	/* UINT32_MAX: only 0 */
	uint32_t		setup_ms;
	size_t			nzones;		/* 0: ask ntmd about all */
	char			zones[CTLMSG_CONF_ZONES][CTLMSG_NAME_MAX + 1];
	size_t			nranges;
	struct ctlmsg_range	ranges[CTLMSG_CONF_RANGES];
};

/* The defaults: the socket of ports.md, no zones, the virtual ranges. */
void	ctlmsg_conf_default(struct ctlmsg_conf *c);
/*
 * ctlmsg_conf_parse: applies text[0..len) over the values already in c
 * (normally the defaults; "zones" and "ranges" replace the lists).  Returns
 * 0 or -EINVAL with *errline set to the first bad line (1-based).
 */
int	ctlmsg_conf_parse(struct ctlmsg_conf *c, const char *text, size_t len,
	    size_t *errline);
/* Whether the module should ask ntmd about name (protocol form). */
bool	ctlmsg_conf_name_ours(const struct ctlmsg_conf *c, const char *name);
/* Whether addr lies in one of the configured virtual ranges. */
bool	ctlmsg_conf_addr_ours(const struct ctlmsg_conf *c,
	    const struct ctlmsg_addr *addr);
/* Whether uid may run the server: 0 or the configured server_uid. */
bool	ctlmsg_conf_uid_ok(const struct ctlmsg_conf *c, uint32_t uid);

#endif
