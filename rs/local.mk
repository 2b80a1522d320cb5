# rs/local.mk -- ntm-rs, the relay server.  Its non-main files form
# rs/librs.la, which the daemon, the tests and the fuzz replay link.
noinst_LTLIBRARIES += rs/librs.la
rs_librs_la_SOURCES = rs/relay.c rs/relay.h
rs_librs_la_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)
rs_librs_la_LIBADD = lib/libntm.la $(UV_LIBS)

RS_LIBS = rs/librs.la $(NTM_LIBS)

check_PROGRAMS += tests/unit/test_relay
TESTS += tests/unit/test_relay
tests_unit_test_relay_SOURCES = tests/unit/test_relay.c
tests_unit_test_relay_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/rs
tests_unit_test_relay_LDADD = rs/librs.la $(TEST_LIBS)

rs_librs_la_SOURCES += rs/rs.h rs/config.c rs/rsio.c rs/rsio.h rs/control.c

sbin_PROGRAMS += rs/ntm-rs
rs_ntm_rs_SOURCES = rs/rs.c
rs_ntm_rs_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)
rs_ntm_rs_LDADD = $(RS_LIBS)

# ntmctl rs stats: the control socket's client.  tools/local.mk comes
# after this file and sets tools_ntmctl_SOURCES with '=', so the file joins
# ntmctl through the nodist_ variable (and EXTRA_DIST for the tarball);
# the line belongs in tools/local.mk as "tools_ntmctl_SOURCES +=".
nodist_tools_ntmctl_SOURCES = tools/ntmctl_rs.c
EXTRA_DIST += tools/ntmctl_rs.c

# In network namespaces (root): a test DC and test nodes against ntm-rs.
check_PROGRAMS += tests/rs/rsdc tests/rs/rsnode
tests_rs_rsdc_SOURCES = tests/rs/rsdc.c
tests_rs_rsdc_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS)
tests_rs_rsdc_LDADD = $(NTM_LIBS)
tests_rs_rsnode_SOURCES = tests/rs/rsnode.c
tests_rs_rsnode_CFLAGS = $(AM_CFLAGS) $(NTM_DEP_CFLAGS) -I$(top_srcdir)
tests_rs_rsnode_LDADD = $(RS_LIBS)
TESTS += tests/integration/rs.sh
dist_check_SCRIPTS += tests/integration/rs.sh

