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
