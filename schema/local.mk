# schema/local.mk -- the SQLite schemas, compiled into libntm at build time.
#
# schema/NAME.sql becomes schema/NAME-sql.c (const struct db_schema
# schema_NAME, declared in lib/db.h) through schema/embed.awk, so installed
# daemons never read the source tree.  The generated files live in the build
# tree only and are not distributed.
noinst_LTLIBRARIES += schema/libschema.la
nodist_schema_libschema_la_SOURCES = schema/as-sql.c schema/dc-sql.c
schema_libschema_la_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
lib_libntm_la_LIBADD += schema/libschema.la

EXTRA_DIST += schema/embed.awk schema/as.sql schema/dc.sql
CLEANFILES += schema/as-sql.c schema/dc-sql.c

SCHEMA_EMBED = $(AM_V_GEN)$(MKDIR_P) schema && \
	$(AWK) -v name=$(@F:-sql.c=) -f $(srcdir)/schema/embed.awk \
	$(srcdir)/schema/$(@F:-sql.c=).sql >$@.tmp && mv -f $@.tmp $@

schema/as-sql.c: $(srcdir)/schema/as.sql $(srcdir)/schema/embed.awk
	$(SCHEMA_EMBED)
schema/dc-sql.c: $(srcdir)/schema/dc.sql $(srcdir)/schema/embed.awk
	$(SCHEMA_EMBED)
