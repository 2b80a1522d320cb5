/* config_table.h -- the table-driven config loader of lib/config.c: typed keys, all errors at once. */
#ifndef NTM_CONFIG_TABLE_H
#define NTM_CONFIG_TABLE_H

/*
 * Not named lib/config.h: every file starts with #include "config.h" for
 * autoconf's header, and a lib/config.h would shadow it (quote includes
 * search the including file's folder and -I$(top_srcdir)/lib first).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/*
 * Each daemon describes its config file as a table of struct config_key,
 * one row per key, ended by a row with key == NULL, and points each row at
 * a field of its own config struct with offsetof().  The field's C type
 * follows from the row's type:
 *
 *   CONFIG_STRING    char *                    any non-empty text
 *   CONFIG_BOOL      bool                      yes/no, true/false, on/off, 1/0
 *   CONFIG_INT       int64_t                   decimal, in [min, max]
 *   CONFIG_DURATION  uint64_t (milliseconds)   "250ms", "25s", "10m", "1h",
 *                                              "1m30s"; in [min, max] ms
 *   CONFIG_ADDR      struct sockaddr_storage   loop_addr_parse() forms; the
 *                                              row's port when none is given
 *   CONFIG_PREFIX    struct config_prefix      "198.18.0.0/15", "fd6e::/48"
 *   CONFIG_PATH      char *                    absolute path
 *   CONFIG_LIST      struct config_list        "a, b, c" or the key repeated;
 *                                              at most max entries (0: 64)
 *   CONFIG_ENUM      int                       one of the row's names
 *
 * min == max == 0 means no range for CONFIG_INT and CONFIG_DURATION.
 * A row's default is text in config-file syntax (NULL: the field's zero);
 * it is parsed like the file, so the table reads like a sample file.
 *
 * The file format is inih's: [section] headers, "key = value" lines, comment
 * lines starting with ';' or '#', inline comments after " ;".  Leading
 * whitespace is ignored (no continuation lines), a line has at most
 * CONFIG_LINE_MAX characters, names are case-sensitive, and a key other
 * than a list may appear once.  Unknown sections and keys, bad values,
 * duplicates and missing required keys are all errors, reported together
 * as "file:line: [section] key: reason" lines.
 */
enum config_type {
	CONFIG_TYPE_INVALID = 0,
	CONFIG_STRING,
	CONFIG_BOOL,
	CONFIG_INT,
	CONFIG_DURATION,
	CONFIG_ADDR,
	CONFIG_PREFIX,
	CONFIG_PATH,
	CONFIG_LIST,
	CONFIG_ENUM,
};

enum config_flag {
	CONFIG_REQUIRED = 1 << 0,	/* must be in the file */
	CONFIG_NEED_PORT = 1 << 1,	/* CONFIG_ADDR: the port must be given */
};

enum {
	CONFIG_LINE_MAX = 196,		/* inih's 200-byte line less "\r\n\0" */
	CONFIG_LIST_MAX = 64,
	CONFIG_ERRORS_MAX = 100,	/* more are summarised in one line */
};

struct config_enum {
	const char	*name;
	int		 value;
};

struct config_key {
	const char		*section;	/* "" for keys before any header */
	const char		*key;
	enum config_type	 type;
	size_t			 offset;	/* of the field in the config struct */
	const char		*def;		/* default in file syntax, or NULL */
	int64_t			 min, max;	/* INT, DURATION (ms), LIST (count) */
	unsigned		 flags;		/* enum config_flag */
	uint16_t		 port;		/* ADDR: port when none is given */
	const struct config_enum *names;	/* ENUM: ends with name == NULL */
};

struct config_prefix {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* network order, host bits zero */
	uint8_t		len;
};

struct config_list {
	char		**v;		/* n strings, owned by the list */
	size_t		  n;
};

/*
 * Loads path into conf according to table.  Every field the table names is
 * overwritten (first with its zero value, so conf may hold garbage);
 * others are untouched.  Returns 0, or a negative errno with *errors set
 * to the full report ("file:line: ...\n" lines; the caller frees it):
 * -EINVAL for errors in the file, the open error when it cannot be read.
 * Either way call config_free() on conf afterwards.
 */
int	config_load(const struct config_key *table, void *conf,
	    const char *path, char **errors);
/* Same for text in memory; name stands for the file name in messages. */
int	config_load_string(const struct config_key *table, void *conf,
	    const char *name, const char *text, char **errors);
/* Frees the strings and lists the table's fields own.  Accepts NULL. */
void	config_free(const struct config_key *table, void *conf);
/*
 * config_load() for a daemon's start-up: the report (or the open error as
 * "file: reason") goes to stderr.  Returns 0 when the file loaded cleanly,
 * 1 when some lines were bad (their fields are zero: the caller goes on
 * checking the rest so every error shows at once), or -1 when the file
 * could not be read (conf is already freed).
 */
int	config_load_stderr(const struct config_key *table, void *conf,
	    const char *path);
/* Prints "path: message" to stderr and returns 1 (one error to count). */
int	config_complain(const char *path, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Writes conf as a config file ([section] then "key = value" in table
 * order, values in canonical form), which config_load() reads back to the
 * same values.  What `-n` prints after "configuration OK" in verbose mode.
 */
int	config_dump(const struct config_key *table, const void *conf, FILE *);

/*
 * The value parsers the loader uses, for command lines and control
 * messages.  Each returns 0 or -EINVAL (-ERANGE when out of range) and,
 * where given, writes a one-line reason to why.
 */
int	config_parse_bool(const char *, bool *);
int	config_parse_int(const char *, int64_t min, int64_t max, int64_t *);
int	config_parse_duration(const char *, uint64_t *ms, char *why,
	    size_t whylen);
int	config_parse_prefix(const char *, struct config_prefix *, char *why,
	    size_t whylen);
/* Canonical text: "250ms", "25s", "10m", "1h" (largest exact unit). */
void	config_format_duration(uint64_t ms, char *buf, size_t len);
/* Is the address inside the prefix?  Families must match. */
bool	config_prefix_contains(const struct config_prefix *,
	    const struct sockaddr *);

/*
 * Secret files (private keys, ticket keys): refuses anything but a regular
 * file, readable or writable by group or others, or owned by a user other
 * than the caller's effective user or root.  Returns 0, or a negative errno
 * with a one-line reason naming the file in why.  The _fd form checks an
 * open descriptor (no race between the check and the read); name is only
 * for the message.
 */
int	config_check_private_file(const char *path, char *why, size_t whylen);
int	config_check_private_fd(int fd, const char *name, char *why,
	    size_t whylen);

#endif
