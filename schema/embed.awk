# embed.awk -- turns schema/NAME.sql into C: const struct db_schema schema_NAME.
#
#   awk -v name=as -f embed.awk as.sql > as-sql.c
#
# A line "-- migration: N" starts migration N (N a positive integer, strictly
# increasing through the file); the lines up to the next marker are its SQL.
# Text before the first marker (the file's header comment) is not embedded.
# Fails, writing a message to stderr, on a malformed or out-of-order marker
# or a file without migrations.

function fail(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	failed = 1
	exit 1
}

# Character by character: awks disagree on backslashes in gsub replacements.
function cstring(s,    out, c, i) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\" || c == "\"")
			out = out "\\" c
		else if (c == "\t")
			out = out "\\t"
		else
			out = out c
	}
	return "\"" out "\\n\""
}

BEGIN {
	if (name !~ /^[a-z][a-z0-9_]*$/) {
		print "embed.awk: -v name=IDENT required" > "/dev/stderr"
		failed = 1
		exit 1
	}
	n = 0
	last = 0
	printf "/* %s-sql.c -- generated from schema/%s.sql by schema/embed.awk; do not edit. */\n", name, name
	print "#include \"config.h\""
	print ""
	print "#include \"db.h\""
	print ""
	print "static const struct db_migration migrations[] = {"
}

/^--[ \t]*migration([^a-z_]|$)/ {
	v = $0
	sub(/^--[ \t]*migration:[ \t]*/, "", v)
	sub(/[ \t\r]*$/, "", v)
	if (v !~ /^[1-9][0-9]*$/ || length(v) > 9)
		fail("bad migration marker (want \"-- migration: N\")")
	if (v + 0 <= last)
		fail("migration " v " does not follow " last)
	if (n > 0)
		print "\t},"
	printf "\t{ %d, \"\"\n", v
	last = v + 0
	n++
	next
}

n > 0 {
	line = $0
	sub(/\r$/, "", line)
	print "\t    " cstring(line)
}

END {
	if (failed)
		exit 1
	if (n == 0) {
		printf "%s: no \"-- migration: N\" line\n", FILENAME > "/dev/stderr"
		exit 1
	}
	print "\t},"
	print "};"
	print ""
	printf "const struct db_schema schema_%s = {\n", name
	printf "\t\"%s\", migrations, sizeof(migrations) / sizeof(migrations[0])\n", name
	print "};"
}
